/*
 * catalog.c - the catalog's rules without HTTP: validation of product
 * input, the typed BSON built from it, pagination cursors, rendering.
 */
#include "catalog/catalog.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bsonjson.h"
#include "core/ids.h"
#include "core/json.h"

bool catalog_slug_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > CATALOG_SLUG_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

bool catalog_sku_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > CATALOG_SKU_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

bool catalog_option_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return true;
}

/* Text fields: no control characters but newline and tab. HTML is kept
 * as text (it is only ever returned inside JSON strings). */
static bool text_valid(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

static bool get_text(json_object *in, const char *key, size_t min, size_t max, bool required,
		     const char **out, struct em_error *err)
{
	if (!em_json_get_string(in, key, min, max, required, out, err))
		return false;
	if (*out && !text_valid(*out)) {
		em_error_set(err, EM_ERR_INVALID, key, "%s may not hold control characters", key);
		return false;
	}
	return true;
}

bool catalog_variant_find(const bson_t *product, const char *sku,
			  struct catalog_variant_state *out)
{
	bson_iter_t it, vars;

	memset(out, 0, sizeof(*out));
	if (!product || !bson_iter_init_find(&it, product, "variants") ||
	    !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &vars))
		return false;
	while (bson_iter_next(&vars)) {
		bson_iter_t f;
		bool match = false;

		if (!BSON_ITER_HOLDS_DOCUMENT(&vars) || !bson_iter_recurse(&vars, &f))
			continue;
		memset(out, 0, sizeof(*out));
		while (bson_iter_next(&f)) {
			const char *k = bson_iter_key(&f);

			if (strcmp(k, "sku") == 0 && BSON_ITER_HOLDS_UTF8(&f))
				match = strcmp(bson_iter_utf8(&f, NULL), sku) == 0;
			else if (strcmp(k, "stock") == 0)
				out->stock = em_bson_iter_int64(&f);
			else if (strcmp(k, "low_stock_threshold") == 0)
				out->threshold = em_bson_iter_int64(&f);
			else if (strcmp(k, "low_stock_alerts") == 0)
				out->alerts = em_bson_iter_int64(&f);
			else if (strcmp(k, "low_stock") == 0 && BSON_ITER_HOLDS_BOOL(&f))
				out->low = bson_iter_bool(&f);
		}
		if (match)
			return true;
	}
	memset(out, 0, sizeof(*out));
	return false;
}

const char *const catalog_product_fields[] = {
	"title", "slug", "description", "brand", "category", "attributes", "status",
	"currency", "options", "option_order", "variants", NULL,
};

static const char *const variant_keys[] = {
	"sku", "options", "price", "compare_at_price", "stock", "low_stock_threshold",
	"weight_grams", NULL,
};

static bool key_known(const char *const *keys, const char *k)
{
	for (size_t i = 0; keys[i]; i++)
		if (strcmp(keys[i], k) == 0)
			return true;
	return false;
}

/* A variant's values, checked before anything is appended. */
struct variant_in {
	const char *sku;
	json_object *opts;
	int64_t price, cap, stock, threshold, weight, alerts;
	bool has_cap, has_weight;
};

static bool option_declared(json_object *options, const char *name)
{
	for (size_t j = 0; j < json_object_array_length(options); j++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(options, j)), name) == 0)
			return true;
	return false;
}

static bool variant_check(json_object *v, size_t i, json_object *options, const bson_t *old,
			  struct variant_in *out, struct em_error *err)
{
	char field[96];
	bool has_stock = false, has_thr = false;
	struct catalog_variant_state stored;

	memset(out, 0, sizeof(*out));
#define VFAIL(name, ...) do { \
		snprintf(field, sizeof(field), "variants[%zu].%s", i, name); \
		em_error_set(err, EM_ERR_INVALID, field, __VA_ARGS__); \
		return false; } while (0)
	if (!json_object_is_type(v, json_type_object)) {
		snprintf(field, sizeof(field), "variants[%zu]", i);
		em_error_set(err, EM_ERR_INVALID, field, "each variant must be an object");
		return false;
	}
	json_object_object_foreach(v, k, val) {
		(void)val;
		if (!key_known(variant_keys, k))
			VFAIL("unknown", "unknown variant field %.40s", k);
	}
	if (!em_json_get_string(v, "sku", 1, CATALOG_SKU_MAX, true, &out->sku, err) ||
	    !catalog_sku_valid(out->sku))
		VFAIL("sku", "sku must be 1..64 characters of A-Z a-z 0-9 . _ -");
	if (!em_json_get_int64(v, "price", 0, CATALOG_PRICE_MAX, true, NULL, &out->price, err))
		VFAIL("price", "price must be a non-negative integer in minor units");
	if (!em_json_get_int64(v, "compare_at_price", 0, CATALOG_PRICE_MAX, false, &out->has_cap,
			       &out->cap, err))
		VFAIL("compare_at_price",
		      "compare_at_price must be a non-negative integer in minor units");
	if (!em_json_get_int64(v, "stock", 0, CATALOG_STOCK_MAX, false, &has_stock, &out->stock,
			       err))
		VFAIL("stock", "stock must be an integer from 0 to %" PRId64, CATALOG_STOCK_MAX);
	if (!em_json_get_int64(v, "low_stock_threshold", 0, CATALOG_STOCK_MAX, false, &has_thr,
			       &out->threshold, err))
		VFAIL("low_stock_threshold", "low_stock_threshold must be a non-negative integer");
	if (!has_thr)
		out->threshold = 5;
	if (!em_json_get_int64(v, "weight_grams", 0, 10000000, false, &out->has_weight,
			       &out->weight, err))
		VFAIL("weight_grams", "weight_grams must be an integer from 0 to 10000000");
	if (catalog_variant_find(old, out->sku, &stored)) {
		/* Stock is not content: only inventory adjustments change it,
		 * so an edit never races an adjustment or skips its log. */
		out->stock = stored.stock;
		out->alerts = stored.alerts;
	}
	if (!json_object_object_get_ex(v, "options", &out->opts) ||
	    !json_object_is_type(out->opts, json_type_object))
		VFAIL("options", "options must be an object keyed by the product's option names");
	{
		json_object_object_foreach(out->opts, ok, ov) {
			if (!option_declared(options, ok)) {
				snprintf(field, sizeof(field), "variants[%zu].options.%.40s", i, ok);
				em_error_set(err, EM_ERR_INVALID, field,
					     "unknown option name; declare it in the product's options");
				return false;
			}
			if (!json_object_is_type(ov, json_type_string) ||
			    json_object_get_string_len(ov) < 1 || json_object_get_string_len(ov) > 50 ||
			    !text_valid(json_object_get_string(ov))) {
				snprintf(field, sizeof(field), "variants[%zu].options.%.40s", i, ok);
				em_error_set(err, EM_ERR_INVALID, field,
					     "an option value must be a string of 1..50 characters");
				return false;
			}
		}
	}
	return true;
#undef VFAIL
}

static void variant_append(bson_t *arr, size_t i, const struct variant_in *v)
{
	char key[24];
	bson_t doc, od;

	snprintf(key, sizeof(key), "%zu", i);
	BSON_APPEND_DOCUMENT_BEGIN(arr, key, &doc);
	BSON_APPEND_UTF8(&doc, "sku", v->sku);
	BSON_APPEND_DOCUMENT_BEGIN(&doc, "options", &od);
	{
		json_object_object_foreach(v->opts, ok, ov)
			BSON_APPEND_UTF8(&od, ok, json_object_get_string(ov));
	}
	bson_append_document_end(&doc, &od);
	BSON_APPEND_INT64(&doc, "price", v->price);
	if (v->has_cap)
		BSON_APPEND_INT64(&doc, "compare_at_price", v->cap);
	BSON_APPEND_INT64(&doc, "stock", v->stock);
	BSON_APPEND_INT64(&doc, "low_stock_threshold", v->threshold);
	if (v->has_weight)
		BSON_APPEND_INT64(&doc, "weight_grams", v->weight);
	BSON_APPEND_BOOL(&doc, "low_stock", v->stock < v->threshold);
	BSON_APPEND_INT64(&doc, "low_stock_alerts", v->alerts);
	bson_append_document_end(arr, &doc);
}

static bool attributes_check(json_object *attrs, struct em_error *err)
{
	char field[96];

	if (!json_object_is_type(attrs, json_type_object) ||
	    json_object_object_length(attrs) > 30) {
		em_error_set(err, EM_ERR_INVALID, "attributes",
			     "attributes must be an object of at most 30 names");
		return false;
	}
	json_object_object_foreach(attrs, k, v) {
		snprintf(field, sizeof(field), "attributes.%.40s", k);
		if (strlen(k) > 40 || !catalog_option_name_valid(k) ||
		    !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > 200 || !text_valid(json_object_get_string(v))) {
			em_error_set(err, EM_ERR_INVALID, field,
				     "attribute names are a-z and _; values strings up to 200 characters");
			return false;
		}
	}
	return true;
}

/* A product's checked values, before anything is appended. */
struct product_in {
	const char *title, *slug, *description, *brand, *status, *currency;
	bool has_category;
	bson_oid_t category_id;
	json_object *attrs;            /* may be NULL */
	json_object *options;          /* the given array, or default_options */
	json_object *default_options;  /* owned: ["size", "color"] when none given */
	json_object *option_order;     /* {name: [values]}, may be NULL */
	struct variant_in *vin;        /* owned */
	size_t nvar;
	int64_t min_price, max_price, total_stock;
};

static bool currency_valid(const char *c)
{
	for (size_t i = 0; i < 3; i++)
		if (c[i] < 'A' || c[i] > 'Z')
			return false;
	return true;
}

/* The scalar fields: texts, slug, status, currency, category, attributes. */
static bool product_scalars_check(json_object *in, struct product_in *p, struct em_error *err)
{
	json_object *category = NULL;

	if (!get_text(in, "title", 1, CATALOG_TITLE_MAX, true, &p->title, err) ||
	    !em_json_get_string(in, "slug", 1, CATALOG_SLUG_MAX, true, &p->slug, err))
		return false;
	if (!catalog_slug_valid(p->slug)) {
		em_error_set(err, EM_ERR_INVALID, "slug",
			     "slug must be 1..100 characters of a-z 0-9 and inner '-'");
		return false;
	}
	if (!get_text(in, "description", 0, CATALOG_DESCRIPTION_MAX, false, &p->description, err) ||
	    !get_text(in, "brand", 0, CATALOG_BRAND_MAX, false, &p->brand, err) ||
	    !em_json_get_string(in, "status", 1, 16, false, &p->status, err) ||
	    !em_json_get_string(in, "currency", 3, 3, false, &p->currency, err))
		return false;
	if (p->status && strcmp(p->status, "draft") != 0 && strcmp(p->status, "active") != 0 &&
	    strcmp(p->status, "archived") != 0) {
		em_error_set(err, EM_ERR_INVALID, "status", "status must be draft, active or archived");
		return false;
	}
	if (p->currency && !currency_valid(p->currency)) {
		em_error_set(err, EM_ERR_INVALID, "currency",
			     "currency must be an ISO 4217 code (three capitals)");
		return false;
	}
	if (json_object_object_get_ex(in, "category", &category) && category) {
		if (!json_object_is_type(category, json_type_string) ||
		    !em_oid_parse(json_object_get_string(category), &p->category_id)) {
			em_error_set(err, EM_ERR_INVALID, "category",
				     "category must be a category id (24 hex digits) or null");
			return false;
		}
		p->has_category = true;
	}
	if (json_object_object_get_ex(in, "attributes", &p->attrs) && p->attrs &&
	    !attributes_check(p->attrs, err))
		return false;
	return true;
}

/* The option names: given (unique, valid, at most 5) or size and color. */
static bool product_options_check(json_object *in, struct product_in *p, struct em_error *err)
{
	if (!json_object_object_get_ex(in, "options", &p->options) || !p->options) {
		p->default_options = json_object_new_array();
		if (!p->default_options) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "out of memory");
			return false;
		}
		json_object_array_add(p->default_options, json_object_new_string("size"));
		json_object_array_add(p->default_options, json_object_new_string("color"));
		p->options = p->default_options;
	}
	if (!json_object_is_type(p->options, json_type_array) ||
	    json_object_array_length(p->options) > CATALOG_OPTION_MAX) {
		em_error_set(err, EM_ERR_INVALID, "options",
			     "options must be an array of at most 5 option names");
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(p->options); i++) {
		json_object *o = json_object_array_get_idx(p->options, i);

		if (!json_object_is_type(o, json_type_string) ||
		    !catalog_option_name_valid(json_object_get_string(o))) {
			em_error_set(err, EM_ERR_INVALID, "options",
				     "an option name is 1..20 characters of a-z and _");
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(p->options, j)),
				   json_object_get_string(o)) == 0) {
				em_error_set(err, EM_ERR_INVALID, "options",
					     "option names must be unique");
				return false;
			}
	}
	return true;
}

/*
 * option_order: for some declared option names, the natural order of
 * their values (["XS", "S", "M", "L", "XL"]), which facets list values
 * in. At most 50 unique values of 1..50 characters per name.
 */
static bool product_option_order_check(json_object *in, struct product_in *p,
				       struct em_error *err)
{
	char field[96];

	if (!json_object_object_get_ex(in, "option_order", &p->option_order) || !p->option_order)
		return true;
	if (!json_object_is_type(p->option_order, json_type_object)) {
		em_error_set(err, EM_ERR_INVALID, "option_order",
			     "option_order must be an object of option name: [values]");
		return false;
	}
	json_object_object_foreach(p->option_order, k, v) {
		size_t n;

		snprintf(field, sizeof(field), "option_order.%.40s", k);
		if (!option_declared(p->options, k)) {
			em_error_set(err, EM_ERR_INVALID, field,
				     "unknown option name; declare it in the product's options");
			return false;
		}
		if (!json_object_is_type(v, json_type_array) ||
		    (n = json_object_array_length(v)) < 1 || n > 50) {
			em_error_set(err, EM_ERR_INVALID, field,
				     "an option's order is an array of 1..50 values");
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (!json_object_is_type(e, json_type_string) ||
			    json_object_get_string_len(e) < 1 || json_object_get_string_len(e) > 50 ||
			    !text_valid(json_object_get_string(e))) {
				em_error_set(err, EM_ERR_INVALID, field,
					     "an option value must be a string of 1..50 characters");
				return false;
			}
			for (size_t j = 0; j < i; j++)
				if (strcmp(json_object_get_string(json_object_array_get_idx(v, j)),
					   json_object_get_string(e)) == 0) {
					em_error_set(err, EM_ERR_INVALID, field,
						     "the values of an option's order must be unique");
					return false;
				}
		}
	}
	return true;
}

/* The variants, and the denormalised price range and total stock. */
static bool product_variants_check(json_object *in, const bson_t *old, struct product_in *p,
				   struct em_error *err)
{
	json_object *variants = NULL;

	if (!json_object_object_get_ex(in, "variants", &variants) ||
	    !json_object_is_type(variants, json_type_array) ||
	    json_object_array_length(variants) < 1 ||
	    json_object_array_length(variants) > CATALOG_VARIANTS_MAX) {
		em_error_set(err, EM_ERR_INVALID, "variants",
			     "variants must be an array of 1..100 variants");
		return false;
	}
	p->nvar = json_object_array_length(variants);
	p->vin = xcalloc(p->nvar, sizeof(*p->vin));
	p->min_price = INT64_MAX;
	for (size_t i = 0; i < p->nvar; i++) {
		if (!variant_check(json_object_array_get_idx(variants, i), i, p->options, old,
				   &p->vin[i], err))
			return false;
		/* The unique index cannot see repeats inside one document. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->vin[j].sku, p->vin[i].sku) == 0) {
				em_error_set(err, EM_ERR_INVALID, "sku",
					     "SKU %s appears twice in this product", p->vin[i].sku);
				return false;
			}
		if (p->vin[i].price < p->min_price)
			p->min_price = p->vin[i].price;
		if (p->vin[i].price > p->max_price)
			p->max_price = p->vin[i].price;
		/* at most 100 variants of at most 10^9 each: no overflow */
		p->total_stock += p->vin[i].stock;
	}
	return true;
}

/* Appends s (and a space) to buf unless it already holds it as a word. */
static void search_word_add(char *buf, size_t *o, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (!n || *o + n + 2 > size)
		return;
	for (const char *p = buf; (p = strstr(p, s)) != NULL; p++)
		if ((p == buf || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return;
	if (*o)
		buf[(*o)++] = ' ';
	memcpy(buf + *o, s, n);
	*o += n;
	buf[*o] = '\0';
}

/*
 * search_text: the attribute values and the variants' option values,
 * once each, for the text index (the public search looks at them, and
 * an index cannot name attribute keys it does not know).
 */
static void search_text_append(bson_t *out, const struct product_in *p)
{
	size_t size = 1 + 30 * 201 + p->nvar * CATALOG_OPTION_MAX * 51, o = 0;
	char *buf = xcalloc(1, size);

	if (p->attrs) {
		json_object_object_foreach(p->attrs, k, v) {
			(void)k;
			search_word_add(buf, &o, size, json_object_get_string(v));
		}
	}
	for (size_t i = 0; i < p->nvar; i++) {
		json_object_object_foreach(p->vin[i].opts, k, v) {
			(void)k;
			search_word_add(buf, &o, size, json_object_get_string(v));
		}
	}
	BSON_APPEND_UTF8(out, "search_text", buf);
	free(buf);
}

/* Appends the checked product with typed calls. */
static void product_append(bson_t *out, const struct product_in *p, const char *default_currency)
{
	bson_t doc, arr;
	char key[24];

	BSON_APPEND_UTF8(out, "title", p->title);
	BSON_APPEND_UTF8(out, "slug", p->slug);
	BSON_APPEND_UTF8(out, "description", p->description ? p->description : "");
	BSON_APPEND_UTF8(out, "brand", p->brand ? p->brand : "");
	if (p->has_category)
		BSON_APPEND_OID(out, "category_id", &p->category_id);
	else
		BSON_APPEND_NULL(out, "category_id");
	BSON_APPEND_DOCUMENT_BEGIN(out, "attributes", &doc);
	if (p->attrs) {
		json_object_object_foreach(p->attrs, k, v)
			BSON_APPEND_UTF8(&doc, k, json_object_get_string(v));
	}
	bson_append_document_end(out, &doc);
	BSON_APPEND_UTF8(out, "status", p->status ? p->status : "draft");
	BSON_APPEND_UTF8(out, "currency", p->currency ? p->currency : default_currency);
	BSON_APPEND_ARRAY_BEGIN(out, "options", &arr);
	for (size_t i = 0; i < json_object_array_length(p->options); i++) {
		snprintf(key, sizeof(key), "%zu", i);
		BSON_APPEND_UTF8(&arr, key,
				 json_object_get_string(json_object_array_get_idx(p->options, i)));
	}
	bson_append_array_end(out, &arr);
	/* always written (empty when none), so a PATCH can clear it */
	BSON_APPEND_DOCUMENT_BEGIN(out, "option_order", &doc);
	if (p->option_order) {
		json_object_object_foreach(p->option_order, k, v) {
			bson_t vals;

			BSON_APPEND_ARRAY_BEGIN(&doc, k, &vals);
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				snprintf(key, sizeof(key), "%zu", i);
				BSON_APPEND_UTF8(&vals, key,
						 json_object_get_string(json_object_array_get_idx(v, i)));
			}
			bson_append_array_end(&doc, &vals);
		}
	}
	bson_append_document_end(out, &doc);
	BSON_APPEND_ARRAY_BEGIN(out, "variants", &arr);
	for (size_t i = 0; i < p->nvar; i++)
		variant_append(&arr, i, &p->vin[i]);
	bson_append_array_end(out, &arr);
	BSON_APPEND_INT64(out, "min_price", p->min_price);
	BSON_APPEND_INT64(out, "max_price", p->max_price);
	BSON_APPEND_INT64(out, "total_stock", p->total_stock);
	search_text_append(out, p);
}

bool catalog_product_build(json_object *in, const char *default_currency, const bson_t *old,
			   bson_t *out, struct em_error *err)
{
	struct product_in p;
	bool ok = false;

	memset(&p, 0, sizeof(p));
	if (!em_json_check_fields(in, catalog_product_fields, err) ||
	    !product_scalars_check(in, &p, err) || !product_options_check(in, &p, err) ||
	    !product_option_order_check(in, &p, err) || !product_variants_check(in, old, &p, err))
		goto done;
	product_append(out, &p, default_currency);
	ok = true;
done:
	free(p.vin);
	if (p.default_options)
		json_object_put(p.default_options);
	return ok;
}

/* ---- cursors ---- */

void catalog_cursor_encode(const struct catalog_cursor *c, char *out, size_t size)
{
	char raw[80], hex[25];
	int n;

	bson_oid_to_string(&c->id, hex);
	if (c->sort == 'r') {
		uint64_t bits;

		memcpy(&bits, &c->dval, sizeof(bits));
		n = snprintf(raw, sizeof(raw), "r:%016" PRIx64 ":%s", bits, hex);
	} else {
		n = snprintf(raw, sizeof(raw), "%c:%" PRId64 ":%s", c->sort, c->ival, hex);
	}
	if (n < 0 || (size_t)n >= sizeof(raw) ||
	    size < sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING)) {
		if (size)
			out[0] = '\0';
		return;
	}
	sodium_bin2base64(out, size, (const unsigned char *)raw, (size_t)n,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool catalog_cursor_decode(const char *s, struct catalog_cursor *c, struct em_error *err)
{
	unsigned char raw[81];
	size_t len = 0;
	char *p, *q, *end;

	memset(c, 0, sizeof(*c));
	if (!s || strlen(s) > 120 ||
	    sodium_base642bin(raw, sizeof(raw) - 1, s, strlen(s), NULL, &len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		goto bad;
	raw[len] = '\0';
	if (memchr(raw, '\0', len) || len < 4 || raw[1] != ':')
		goto bad;
	c->sort = (char)raw[0];
	if (!strchr("nadritb", c->sort))
		goto bad;
	p = (char *)raw + 2;
	q = strchr(p, ':');
	if (!q || q == p)
		goto bad;
	*q = '\0';
	if (!em_oid_parse(q + 1, &c->id))
		goto bad;
	if (c->sort == 'r') {
		uint64_t bits;

		if (strlen(p) != 16)
			goto bad;
		for (char *h = p; *h; h++)
			if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
				goto bad;
		bits = strtoull(p, &end, 16);
		memcpy(&c->dval, &bits, sizeof(bits));
		if (c->dval != c->dval) /* NaN */
			goto bad;
	} else {
		if (!(*p == '-' || (*p >= '0' && *p <= '9')))
			goto bad;
		errno = 0;
		c->ival = strtoll(p, &end, 10);
		if (*end || errno) /* ERANGE: strtoll saturates */
			goto bad;
	}
	return true;
bad:
	em_error_set(err, EM_ERR_INVALID, "cursor", "the cursor is malformed");
	return false;
}

bool catalog_product_exists(struct em_store *st, const bson_oid_t *id, bool include_deleted,
			    struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "products");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_error_t berr;
	int64_t n;

	BSON_APPEND_OID(&filter, "_id", id);
	if (!include_deleted)
		BSON_APPEND_NULL(&filter, "deleted_at");
	BSON_APPEND_INT64(&opts, "limit", 1);
	n = mongoc_collection_count_documents(coll, &filter, &opts, NULL, NULL, &berr);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	if (n < 0) {
		store_error_set(err, &berr, "find product");
		return false;
	}
	if (n == 0) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		return false;
	}
	return true;
}

