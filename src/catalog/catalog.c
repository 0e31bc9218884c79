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

/* A PATCH may also name the variants it removes (never by omission). */
static const char *const product_patch_fields[] = {
	"title", "slug", "description", "brand", "category", "attributes", "status",
	"currency", "options", "option_order", "variants", "variants_remove", NULL,
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

/*
 * Reports a field error under path with the code a json helper gave
 * (e): the helpers name the bare key, a nested field needs its path.
 */
static void path_fail(struct em_error *err, const char *path, const struct em_error *e,
		      const char *msg)
{
	em_error_setc(err, e->kind == EM_ERR_NONE ? EM_ERR_INVALID : e->kind, path,
		      em_error_code(e), "%s: %s", path, msg);
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

/* Reads v[key] as an int64 in min..max into *out; a fault is reported
 * as variants[i].key. */
static bool variant_int(json_object *v, size_t i, const char *key, int64_t min, int64_t max,
			bool required, bool *present, int64_t *out, const char *msg,
			struct em_error *err)
{
	struct em_error e = EM_ERROR_INIT;
	char field[96];

	if (em_json_get_int64(v, key, min, max, required, present, out, &e))
		return true;
	snprintf(field, sizeof(field), "variants[%zu].%s", i, key);
	path_fail(err, field, &e, msg);
	return false;
}

/* The option values of variant i: strings of 1..50; with options_ok
 * (the product's option names are valid), each name declared. */
static bool variant_options_check(json_object *opts, size_t i, json_object *options,
				  bool options_ok, struct em_error *err)
{
	char field[96];
	bool ok = true;

	json_object_object_foreach(opts, ok_name, ov) {
		snprintf(field, sizeof(field), "variants[%zu].options.%.40s", i, ok_name);
		if (options_ok && !option_declared(options, ok_name)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_VALUE,
				      "unknown option name; declare it in the product's options");
			ok = false;
		} else if (!json_object_is_type(ov, json_type_string)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_TYPE,
				      "an option value must be a string of 1..50 characters");
			ok = false;
		} else if (json_object_get_string_len(ov) < 1 || json_object_get_string_len(ov) > 50) {
			em_error_setc(err, EM_ERR_INVALID, field,
				      json_object_get_string_len(ov) < 1 ? EM_CODE_TOO_SHORT
									 : EM_CODE_TOO_LONG,
				      "an option value must be a string of 1..50 characters");
			ok = false;
		} else if (!text_valid(json_object_get_string(ov))) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
				      "an option value may not hold control characters");
			ok = false;
		}
	}
	return ok;
}

/*
 * Variant i, every field checked (the faults collected by the caller).
 * editing: the body is a PATCH, where stock is refused: it changes only
 * through inventory adjustments. An existing SKU keeps its stored stock.
 */
static bool variant_check(json_object *v, size_t i, json_object *options, bool options_ok,
			  const bson_t *old, bool editing, struct variant_in *out,
			  struct em_error *err)
{
	struct em_error e = EM_ERROR_INIT;
	char field[96];
	bool has_stock = false, has_thr = false, ok = true;
	struct catalog_variant_state stored;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(v, json_type_object)) {
		snprintf(field, sizeof(field), "variants[%zu]", i);
		em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_TYPE,
			      "each variant must be an object");
		return false;
	}
	json_object_object_foreach(v, k, val) {
		(void)val;
		if (!key_known(variant_keys, k)) {
			snprintf(field, sizeof(field), "variants[%zu].%.40s", i, k);
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_UNKNOWN_FIELD,
				      "unknown variant field %.40s", k);
			ok = false;
		}
	}
	snprintf(field, sizeof(field), "variants[%zu].sku", i);
	if (!em_json_get_string(v, "sku", 1, CATALOG_SKU_MAX, true, &out->sku, &e)) {
		path_fail(err, field, &e, "sku must be 1..64 characters of A-Z a-z 0-9 . _ -");
		ok = false;
	} else if (!catalog_sku_valid(out->sku)) {
		em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
			      "sku must be 1..64 characters of A-Z a-z 0-9 . _ -");
		out->sku = NULL;
		ok = false;
	}
	ok &= variant_int(v, i, "price", 0, CATALOG_PRICE_MAX, true, NULL, &out->price,
			  "price must be a non-negative integer in minor units", err);
	ok &= variant_int(v, i, "compare_at_price", 0, CATALOG_PRICE_MAX, false, &out->has_cap,
			  &out->cap, "compare_at_price must be a non-negative integer in minor units",
			  err);
	if (editing && json_object_object_get_ex(v, "stock", NULL)) {
		/* refused, not ignored: a client that sends stock believes it
		 * set it. Well-formed but against the rule: 422. */
		snprintf(field, sizeof(field), "variants[%zu].stock", i);
		em_error_setc(err, EM_ERR_UNPROCESSABLE, field, EM_CODE_RULE,
			      "%s: stock changes only through inventory adjustments "
			      "(POST /api/v1/admin/inventory/adjustments); leave it out of a PATCH",
			      field);
		ok = false;
	} else {
		ok &= variant_int(v, i, "stock", 0, CATALOG_STOCK_MAX, false, &has_stock,
				  &out->stock, "stock must be an integer from 0 to 10^9", err);
	}
	ok &= variant_int(v, i, "low_stock_threshold", 0, CATALOG_STOCK_MAX, false, &has_thr,
			  &out->threshold, "low_stock_threshold must be a non-negative integer", err);
	if (!has_thr)
		out->threshold = 5;
	ok &= variant_int(v, i, "weight_grams", 0, 10000000, false, &out->has_weight, &out->weight,
			  "weight_grams must be an integer from 0 to 10000000", err);
	if (out->sku && catalog_variant_find(old, out->sku, &stored)) {
		/* Stock is not content: only inventory adjustments change it,
		 * so an edit never races an adjustment or skips its log. */
		out->stock = stored.stock;
		out->alerts = stored.alerts;
	}
	snprintf(field, sizeof(field), "variants[%zu].options", i);
	if (!json_object_object_get_ex(v, "options", &out->opts) || !out->opts) {
		em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_REQUIRED,
			      "options must be an object keyed by the product's option names");
		ok = false;
	} else if (!json_object_is_type(out->opts, json_type_object)) {
		em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_TYPE,
			      "options must be an object keyed by the product's option names");
		ok = false;
	} else {
		ok &= variant_options_check(out->opts, i, options, options_ok, err);
	}
	return ok;
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
	bool ok = true;

	if (!json_object_is_type(attrs, json_type_object)) {
		em_error_setc(err, EM_ERR_INVALID, "attributes", EM_CODE_INVALID_TYPE,
			      "attributes must be an object of at most 30 names");
		return false;
	}
	if (json_object_object_length(attrs) > 30) {
		em_error_setc(err, EM_ERR_INVALID, "attributes", EM_CODE_TOO_LONG,
			      "attributes must be an object of at most 30 names");
		return false;
	}
	json_object_object_foreach(attrs, k, v) {
		snprintf(field, sizeof(field), "attributes.%.40s", k);
		if (strlen(k) > 40 || !catalog_option_name_valid(k)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
				      "attribute names are 1..20 characters of a-z and _");
			ok = false;
		} else if (!json_object_is_type(v, json_type_string)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_TYPE,
				      "attribute values are strings up to 200 characters");
			ok = false;
		} else if (json_object_get_string_len(v) > 200) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_TOO_LONG,
				      "attribute values are strings up to 200 characters");
			ok = false;
		} else if (!text_valid(json_object_get_string(v))) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
				      "attribute values may not hold control characters");
			ok = false;
		}
	}
	return ok;
}

/* A product's checked values, before anything is appended. */
struct product_in {
	const char *title, *slug, *description, *brand, *status, *currency;
	char slug_buf[CATALOG_SLUG_MAX + 1]; /* the slug made from the title */
	bool has_category;
	bson_oid_t category_id;
	json_object *attrs;            /* may be NULL */
	json_object *options;          /* the given array, or default_options */
	json_object *default_options;  /* owned: ["size", "color"] when none given */
	bool options_ok;               /* the option names are valid */
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

/*
 * Latin letters with accents, folded to ASCII for slugs: U+00C0..U+017F
 * in ranges that fold alike. Anything else not [A-Za-z0-9] is a dash.
 */
static const struct { unsigned lo, hi; const char *to; } slug_folds[] = {
	{ 0xC0, 0xC5, "a" }, { 0xC6, 0xC6, "ae" }, { 0xC7, 0xC7, "c" }, { 0xC8, 0xCB, "e" },
	{ 0xCC, 0xCF, "i" }, { 0xD0, 0xD0, "d" }, { 0xD1, 0xD1, "n" }, { 0xD2, 0xD6, "o" },
	{ 0xD8, 0xD8, "o" }, { 0xD9, 0xDC, "u" }, { 0xDD, 0xDD, "y" }, { 0xDE, 0xDE, "th" },
	{ 0xDF, 0xDF, "ss" }, { 0xE0, 0xE5, "a" }, { 0xE6, 0xE6, "ae" }, { 0xE7, 0xE7, "c" },
	{ 0xE8, 0xEB, "e" }, { 0xEC, 0xEF, "i" }, { 0xF0, 0xF0, "d" }, { 0xF1, 0xF1, "n" },
	{ 0xF2, 0xF6, "o" }, { 0xF8, 0xF8, "o" }, { 0xF9, 0xFC, "u" }, { 0xFD, 0xFD, "y" },
	{ 0xFE, 0xFE, "th" }, { 0xFF, 0xFF, "y" }, { 0x100, 0x105, "a" }, { 0x106, 0x10D, "c" },
	{ 0x10E, 0x111, "d" }, { 0x112, 0x11B, "e" }, { 0x11C, 0x123, "g" }, { 0x124, 0x127, "h" },
	{ 0x128, 0x131, "i" }, { 0x132, 0x133, "ij" }, { 0x134, 0x135, "j" }, { 0x136, 0x138, "k" },
	{ 0x139, 0x142, "l" }, { 0x143, 0x14B, "n" }, { 0x14C, 0x151, "o" }, { 0x152, 0x153, "oe" },
	{ 0x154, 0x159, "r" }, { 0x15A, 0x161, "s" }, { 0x162, 0x167, "t" }, { 0x168, 0x173, "u" },
	{ 0x174, 0x175, "w" }, { 0x176, 0x178, "y" }, { 0x179, 0x17E, "z" }, { 0x17F, 0x17F, "s" },
};

/* Appends s to out (at *o) unless full; a dash only after a non-dash. */
static void slug_put(char *out, size_t *o, size_t cap, const char *s)
{
	for (; *s; s++) {
		if (*s == '-' && (*o == 0 || out[*o - 1] == '-'))
			continue;
		if (*o < cap)
			out[(*o)++] = *s;
	}
}

void catalog_slug_from_title(const char *title, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)title;
	size_t o = 0, cap = size ? size - 1 : 0;

	if (cap > CATALOG_SLUG_BASE_MAX)
		cap = CATALOG_SLUG_BASE_MAX;
	while (p && *p && o < cap) {
		unsigned cp = *p;
		size_t n = 1;
		const char *to = "-";
		char one[2] = { 0, 0 };

		/* the text is valid UTF-8 (the parser checked it) */
		if (cp >= 0xF0 && p[1] && p[2] && p[3]) {
			n = 4;
		} else if (cp >= 0xE0 && p[1] && p[2]) {
			n = 3;
			if ((cp == 0xE2 && p[1] == 0x80 && p[2] == 0x99))
				to = ""; /* U+2019, the typographic apostrophe */
		} else if (cp >= 0xC0 && p[1]) {
			n = 2;
			cp = ((cp & 0x1Fu) << 6) | (p[1] & 0x3Fu);
			for (size_t i = 0; i < sizeof slug_folds / sizeof slug_folds[0]; i++)
				if (cp >= slug_folds[i].lo && cp <= slug_folds[i].hi)
					to = slug_folds[i].to;
		} else if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
			one[0] = (char)cp;
			to = one;
		} else if (cp >= 'A' && cp <= 'Z') {
			one[0] = (char)(cp - 'A' + 'a');
			to = one;
		} else if (cp == '\'') {
			to = ""; /* "men's" is men-s nowhere: mens */
		}
		slug_put(out, &o, cap, to);
		p += n;
	}
	while (o && out[o - 1] == '-')
		o--;
	if (size)
		out[o] = '\0';
}

/* Reads a text field (em_json_get_string + no control characters). */
static bool text_field(json_object *in, const char *key, size_t min, size_t max, bool required,
		       const char **out, struct em_error *err)
{
	if (!em_json_get_string(in, key, min, max, required, out, err))
		return false;
	if (*out && !text_valid(*out)) {
		em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_INVALID_FORMAT,
			      "%s may not hold control characters", key);
		*out = NULL;
		return false;
	}
	return true;
}

/*
 * The scalar fields: texts, slug, status, currency, category,
 * attributes, every one checked. creating: an absent slug is made from
 * the title (catalog_slug_from_title; "" when nothing in it is usable,
 * which the caller replaces).
 */
static bool product_scalars_check(json_object *in, bool creating, struct product_in *p,
				  struct em_error *err)
{
	json_object *category = NULL, *slug = NULL;
	bool ok = true;

	ok &= text_field(in, "title", 1, CATALOG_TITLE_MAX, true, &p->title, err);
	if (creating && (!json_object_object_get_ex(in, "slug", &slug) || !slug)) {
		if (p->title)
			catalog_slug_from_title(p->title, p->slug_buf, sizeof(p->slug_buf));
		p->slug = p->slug_buf;
	} else if (!em_json_get_string(in, "slug", 1, CATALOG_SLUG_MAX, true, &p->slug, err)) {
		ok = false;
	} else if (!catalog_slug_valid(p->slug)) {
		em_error_setc(err, EM_ERR_INVALID, "slug", EM_CODE_INVALID_FORMAT,
			      "slug must be 1..100 characters of a-z 0-9 and inner '-'");
		ok = false;
	}
	ok &= text_field(in, "description", 0, CATALOG_DESCRIPTION_MAX, false, &p->description,
			 err);
	ok &= text_field(in, "brand", 0, CATALOG_BRAND_MAX, false, &p->brand, err);
	if (!em_json_get_string(in, "status", 1, 16, false, &p->status, err)) {
		ok = false;
	} else if (p->status && strcmp(p->status, "draft") != 0 &&
		   strcmp(p->status, "active") != 0 && strcmp(p->status, "archived") != 0) {
		em_error_setc(err, EM_ERR_INVALID, "status", EM_CODE_INVALID_VALUE,
			      "status must be draft, active or archived");
		ok = false;
	}
	if (!em_json_get_string(in, "currency", 3, 3, false, &p->currency, err)) {
		ok = false;
	} else if (p->currency && !currency_valid(p->currency)) {
		em_error_setc(err, EM_ERR_INVALID, "currency", EM_CODE_INVALID_FORMAT,
			      "currency must be an ISO 4217 code (three capitals)");
		ok = false;
	}
	if (json_object_object_get_ex(in, "category", &category) && category) {
		if (!json_object_is_type(category, json_type_string)) {
			em_error_setc(err, EM_ERR_INVALID, "category", EM_CODE_INVALID_TYPE,
				      "category must be a category id (24 hex digits) or null");
			ok = false;
		} else if (!em_oid_parse(json_object_get_string(category), &p->category_id)) {
			em_error_setc(err, EM_ERR_INVALID, "category", EM_CODE_INVALID_FORMAT,
				      "category must be a category id (24 hex digits) or null");
			ok = false;
		} else {
			p->has_category = true;
		}
	}
	if (json_object_object_get_ex(in, "attributes", &p->attrs) && p->attrs &&
	    !attributes_check(p->attrs, err))
		ok = false;
	return ok;
}

/* The option names: given (unique, valid, at most 5) or size and color. */
static bool product_options_check(json_object *in, struct product_in *p, struct em_error *err)
{
	char field[32];
	bool ok = true;

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
	if (!json_object_is_type(p->options, json_type_array)) {
		em_error_setc(err, EM_ERR_INVALID, "options", EM_CODE_INVALID_TYPE,
			      "options must be an array of at most 5 option names");
		return false;
	}
	if (json_object_array_length(p->options) > CATALOG_OPTION_MAX) {
		em_error_setc(err, EM_ERR_INVALID, "options", EM_CODE_TOO_LONG,
			      "options must be an array of at most 5 option names");
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(p->options); i++) {
		json_object *o = json_object_array_get_idx(p->options, i);

		snprintf(field, sizeof(field), "options[%zu]", i);
		if (!json_object_is_type(o, json_type_string) ||
		    !catalog_option_name_valid(json_object_get_string(o))) {
			em_error_setc(err, EM_ERR_INVALID, field,
				      json_object_is_type(o, json_type_string)
					      ? EM_CODE_INVALID_FORMAT : EM_CODE_INVALID_TYPE,
				      "an option name is 1..20 characters of a-z and _");
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			json_object *a = json_object_array_get_idx(p->options, j);

			if (json_object_is_type(a, json_type_string) &&
			    strcmp(json_object_get_string(a), json_object_get_string(o)) == 0) {
				em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_NOT_UNIQUE,
					      "option names must be unique");
				ok = false;
				break;
			}
		}
	}
	return ok;
}

/* The values of one option's order, at option_order.<name>. */
static bool option_order_values_check(json_object *v, const char *field, struct em_error *err)
{
	char ef[112];
	size_t n;
	bool ok = true;

	if (!json_object_is_type(v, json_type_array)) {
		em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_TYPE,
			      "an option's order is an array of 1..50 values");
		return false;
	}
	n = json_object_array_length(v);
	if (n < 1 || n > 50) {
		em_error_setc(err, EM_ERR_INVALID, field, n < 1 ? EM_CODE_TOO_SHORT : EM_CODE_TOO_LONG,
			      "an option's order is an array of 1..50 values");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);

		snprintf(ef, sizeof(ef), "%s[%zu]", field, i);
		if (!json_object_is_type(e, json_type_string) || json_object_get_string_len(e) < 1 ||
		    json_object_get_string_len(e) > 50 || !text_valid(json_object_get_string(e))) {
			em_error_setc(err, EM_ERR_INVALID, ef,
				      json_object_is_type(e, json_type_string) ? EM_CODE_INVALID
									       : EM_CODE_INVALID_TYPE,
				      "an option value must be a string of 1..50 characters");
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			json_object *a = json_object_array_get_idx(v, j);

			if (json_object_is_type(a, json_type_string) &&
			    strcmp(json_object_get_string(a), json_object_get_string(e)) == 0) {
				em_error_setc(err, EM_ERR_INVALID, ef, EM_CODE_NOT_UNIQUE,
					      "the values of an option's order must be unique");
				ok = false;
				break;
			}
		}
	}
	return ok;
}

/*
 * option_order: for some declared option names, the natural order of
 * their values (["XS", "S", "M", "L", "XL"]), which facets list values
 * in. At most 50 unique values of 1..50 characters per name. Whether a
 * name is declared is asked only of valid options.
 */
static bool product_option_order_check(json_object *in, struct product_in *p,
				       struct em_error *err)
{
	char field[96];
	bool ok = true;

	if (!json_object_object_get_ex(in, "option_order", &p->option_order) || !p->option_order)
		return true;
	if (!json_object_is_type(p->option_order, json_type_object)) {
		em_error_setc(err, EM_ERR_INVALID, "option_order", EM_CODE_INVALID_TYPE,
			      "option_order must be an object of option name: [values]");
		return false;
	}
	json_object_object_foreach(p->option_order, k, v) {
		snprintf(field, sizeof(field), "option_order.%.40s", k);
		if (p->options_ok && !option_declared(p->options, k)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_VALUE,
				      "unknown option name; declare it in the product's options");
			ok = false;
			continue;
		}
		ok &= option_order_values_check(v, field, err);
	}
	return ok;
}

/* The variants, and the denormalised price range and total stock. */
static bool product_variants_check(json_object *in, const bson_t *old, bool editing,
				   struct product_in *p, struct em_error *err)
{
	json_object *variants = NULL;
	char field[48];
	bool ok = true;

	if (!json_object_object_get_ex(in, "variants", &variants) || !variants) {
		em_error_setc(err, EM_ERR_INVALID, "variants", EM_CODE_REQUIRED,
			      "variants must be an array of 1..100 variants");
		return false;
	}
	if (!json_object_is_type(variants, json_type_array)) {
		em_error_setc(err, EM_ERR_INVALID, "variants", EM_CODE_INVALID_TYPE,
			      "variants must be an array of 1..100 variants");
		return false;
	}
	if (json_object_array_length(variants) < 1 ||
	    json_object_array_length(variants) > CATALOG_VARIANTS_MAX) {
		em_error_setc(err, EM_ERR_INVALID, "variants",
			      json_object_array_length(variants) < 1 ? EM_CODE_TOO_SHORT
								    : EM_CODE_TOO_LONG,
			      "variants must be an array of 1..100 variants");
		return false;
	}
	p->nvar = json_object_array_length(variants);
	p->vin = xcalloc(p->nvar, sizeof(*p->vin));
	p->min_price = INT64_MAX;
	for (size_t i = 0; i < p->nvar; i++) {
		if (!variant_check(json_object_array_get_idx(variants, i), i, p->options,
				   p->options_ok, old, editing, &p->vin[i], err))
			ok = false;
		/* The unique index cannot see repeats inside one document. */
		for (size_t j = 0; p->vin[i].sku && j < i; j++)
			if (p->vin[j].sku && strcmp(p->vin[j].sku, p->vin[i].sku) == 0) {
				snprintf(field, sizeof(field), "variants[%zu].sku", i);
				em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_NOT_UNIQUE,
					      "SKU %s appears twice in this product (variants[%zu])",
					      p->vin[i].sku, j);
				ok = false;
				break;
			}
		if (p->vin[i].price < p->min_price)
			p->min_price = p->vin[i].price;
		if (p->vin[i].price > p->max_price)
			p->max_price = p->vin[i].price;
		/* at most 100 variants of at most 10^9 each: no overflow */
		p->total_stock += p->vin[i].stock;
	}
	return ok;
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

/*
 * Checks every field of in (collecting: the caller has started
 * em_error_collect) and fills p. A check that depends on another field
 * (variant option names on options, option_order on options) is made
 * only when that field is valid, so one mistake is reported once.
 */
static bool product_fields_check(json_object *in, const bson_t *old, bool creating,
				 bool editing, struct product_in *p, struct em_error *err)
{
	bool ok = true;

	ok &= product_scalars_check(in, creating, p, err);
	p->options_ok = product_options_check(in, p, err);
	if (err->kind == EM_ERR_INTERNAL)
		return false;
	ok &= p->options_ok;
	ok &= product_option_order_check(in, p, err);
	ok &= product_variants_check(in, old, editing, p, err);
	return ok;
}

static void product_in_release(struct product_in *p)
{
	free(p->vin);
	if (p->default_options)
		json_object_put(p->default_options);
}

bool catalog_product_build(json_object *in, const char *default_currency, const bson_t *old,
			   bson_t *out, struct em_error *err)
{
	struct product_in p;
	bool ok = false;

	memset(&p, 0, sizeof(p));
	if (!json_object_is_type(in, json_type_object)) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the body must be a JSON object");
		return false;
	}
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	em_json_check_fields(in, catalog_product_fields, err);
	product_fields_check(in, old, old == NULL, false, &p, err);
	if (!em_error_collect_end(err))
		goto done;
	product_append(out, &p, default_currency);
	ok = true;
done:
	product_in_release(&p);
	return ok;
}

/* Is sku the sku of one of the variants in arr (a JSON array)? */
static bool variants_hold(json_object *arr, const char *sku)
{
	for (size_t i = 0; json_object_is_type(arr, json_type_array) &&
			   i < json_object_array_length(arr); i++) {
		json_object *s = NULL;

		if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "sku", &s) &&
		    json_object_is_type(s, json_type_string) &&
		    strcmp(json_object_get_string(s), sku) == 0)
			return true;
	}
	return false;
}

/* Drops the variants named in remove from arr (a JSON array). */
static void variants_drop(json_object *arr, json_object *remove)
{
	for (size_t i = json_object_array_length(arr); i-- > 0;) {
		json_object *s = NULL;

		if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "sku", &s) &&
		    json_object_is_type(s, json_type_string)) {
			for (size_t j = 0; j < json_object_array_length(remove); j++)
				if (strcmp(json_object_get_string(json_object_array_get_idx(remove, j)),
					   json_object_get_string(s)) == 0) {
					json_object_array_del_idx(arr, i, 1);
					break;
				}
		}
	}
}

/*
 * variants_remove: 1..100 unique valid SKUs of the stored product, none
 * also listed in the PATCH's variants. True when it is usable.
 */
static bool variants_remove_check(json_object *remove, json_object *pvars, const bson_t *old,
				  struct em_error *err)
{
	struct catalog_variant_state st;
	char field[48];
	size_t n;
	bool ok = true;

	if (!json_object_is_type(remove, json_type_array)) {
		em_error_setc(err, EM_ERR_INVALID, "variants_remove", EM_CODE_INVALID_TYPE,
			      "variants_remove must be an array of SKUs");
		return false;
	}
	n = json_object_array_length(remove);
	if (n < 1 || n > CATALOG_VARIANTS_MAX) {
		em_error_setc(err, EM_ERR_INVALID, "variants_remove",
			      n < 1 ? EM_CODE_TOO_SHORT : EM_CODE_TOO_LONG,
			      "variants_remove must be an array of 1..100 SKUs");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(remove, i);
		const char *sku = json_object_get_string(s);

		snprintf(field, sizeof(field), "variants_remove[%zu]", i);
		if (!json_object_is_type(s, json_type_string)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_TYPE,
				      "a SKU is a string");
			ok = false;
			continue;
		}
		if (!catalog_sku_valid(sku)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
				      "a SKU is 1..64 characters of A-Z a-z 0-9 . _ -");
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(remove, j)), sku) ==
			    0) {
				em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_NOT_UNIQUE,
					      "SKU %s is named twice", sku);
				ok = false;
				break;
			}
		if (!catalog_variant_find(old, sku, &st)) {
			em_error_setc(err, EM_ERR_UNPROCESSABLE, field, EM_CODE_INVALID_VALUE,
				      "the product has no variant %s", sku);
			ok = false;
		} else if (variants_hold(pvars, sku)) {
			em_error_setc(err, EM_ERR_UNPROCESSABLE, field, EM_CODE_RULE,
				      "variant %s is both listed in variants and removed", sku);
			ok = false;
		}
	}
	return ok;
}

/*
 * A PATCH's variants list leaving out a stored SKU that variants_remove
 * does not name: refused (removal is explicit, never by omission).
 */
static void variants_omission_check(json_object *pvars, json_object *remove, const bson_t *old,
				    struct em_error *err)
{
	bson_iter_t it, vars, f;

	if (!json_object_is_type(pvars, json_type_array) || !old ||
	    !bson_iter_init_find(&it, old, "variants") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &vars))
		return;
	while (bson_iter_next(&vars)) {
		const char *sku;

		if (!BSON_ITER_HOLDS_DOCUMENT(&vars) || !bson_iter_recurse(&vars, &f) ||
		    !bson_iter_find(&f, "sku") || !BSON_ITER_HOLDS_UTF8(&f))
			continue;
		sku = bson_iter_utf8(&f, NULL);
		if (variants_hold(pvars, sku))
			continue;
		if (remove && json_object_is_type(remove, json_type_array)) {
			bool named = false;

			for (size_t j = 0; j < json_object_array_length(remove); j++)
				named |= strcmp(json_object_get_string(
							json_object_array_get_idx(remove, j)),
						sku) == 0;
			if (named)
				continue;
		}
		em_error_setc(err, EM_ERR_UNPROCESSABLE, "variants", EM_CODE_RULE,
			      "variants leaves out %s: list every variant, and name the ones to "
			      "remove in variants_remove", sku);
		return;
	}
}

/* A removed variant holding stock: 409 (adjust it to 0 first). */
static bool variants_remove_stock_check(json_object *remove, const bson_t *old,
					struct em_error *err)
{
	struct catalog_variant_state st;
	char field[48];

	for (size_t i = 0; i < json_object_array_length(remove); i++) {
		const char *sku = json_object_get_string(json_object_array_get_idx(remove, i));

		if (catalog_variant_find(old, sku, &st) && st.stock > 0) {
			snprintf(field, sizeof(field), "variants_remove[%zu]", i);
			em_error_setc(err, EM_ERR_CONFLICT, field, EM_CODE_CONFLICT,
				      "variant %s holds %" PRId64 " in stock: adjust its stock to 0 "
				      "(an inventory adjustment) before removing it", sku, st.stock);
			return false;
		}
	}
	return true;
}

bool catalog_product_patch_build(json_object *patch, json_object *stored,
				 const char *default_currency, const bson_t *old, bson_t *out,
				 struct em_error *err)
{
	struct product_in p;
	json_object *pvars = NULL, *remove = NULL, *vars = NULL;
	bool ok = false, remove_ok = false;

	memset(&p, 0, sizeof(p));
	if (!json_object_is_type(patch, json_type_object) ||
	    json_object_object_length(patch) == 0) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the body must be a non-empty JSON object");
		return false;
	}
	em_error_collect(err);
	em_json_check_fields(patch, product_patch_fields, err);
	json_object_object_get_ex(patch, "variants", &pvars);
	/* the content: the stored fields with the PATCH's laid over them */
	json_object_object_foreach(patch, pk, pv) {
		if (strcmp(pk, "variants_remove") != 0 && key_known(catalog_product_fields, pk))
			json_object_object_add(stored, pk, json_object_get(pv));
	}
	if (json_object_object_get_ex(patch, "variants_remove", &remove) && remove) {
		remove_ok = variants_remove_check(remove, pvars, old, err);
		if (remove_ok && !pvars && json_object_object_get_ex(stored, "variants", &vars) &&
		    json_object_is_type(vars, json_type_array))
			variants_drop(vars, remove);
	} else {
		remove = NULL;
	}
	variants_omission_check(pvars, remove, old, err);
	product_fields_check(stored, old, false, true, &p, err);
	if (!em_error_collect_end(err))
		goto done;
	if (remove && remove_ok && !variants_remove_stock_check(remove, old, err))
		goto done;
	product_append(out, &p, default_currency);
	ok = true;
done:
	product_in_release(&p);
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
	if (!strchr(CATALOG_CURSOR_SORTS, c->sort))
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

