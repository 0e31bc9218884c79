/*
 * facets.c - facet counts for the public list's filters (see catalog.h),
 * in one aggregate: a first $match of what every facet shares (the
 * search, visible products), then a $facet with one branch per facet,
 * each matching every filter but its own (disjunctive facets: choosing
 * "navy" still shows how many products come in beige).
 *
 * Every stage is built with typed bson calls from the checked filter;
 * the option names that become keys are [a-z_] only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog_db.h"
#include "core/alloc.h"
#include "core/bsonjson.h"

/* A value's position when no matching product declares an order for it. */
#define FACET_NO_POS 1000000

/* ---- the pipeline ---- */

/* Appends stage {name: body} to the array arr as element *n. */
static void stage_append(bson_t *arr, int *n, const char *name, const bson_t *body)
{
	char key[16];
	bson_t st;

	snprintf(key, sizeof(key), "%d", (*n)++);
	BSON_APPEND_DOCUMENT_BEGIN(arr, key, &st);
	BSON_APPEND_DOCUMENT(&st, name, body);
	bson_append_document_end(arr, &st);
}

/* Appends key: {op: path} ({"$first": "$brand"}, {"$toLower": ...}). */
static void op_append(bson_t *doc, const char *key, const char *op, const char *path)
{
	bson_t sub;

	BSON_APPEND_DOCUMENT_BEGIN(doc, key, &sub);
	BSON_APPEND_UTF8(&sub, op, path);
	bson_append_document_end(doc, &sub);
}

/* Appends key: {"$sum": 1}, a $group's count. */
static void count_append(bson_t *doc, const char *key)
{
	bson_t sub;

	BSON_APPEND_DOCUMENT_BEGIN(doc, key, &sub);
	BSON_APPEND_INT32(&sub, "$sum", 1);
	bson_append_document_end(doc, &sub);
}

/* Appends the $match of f's filters (not the shared base) as a stage. */
static void filters_stage_append(bson_t *arr, int *n, const struct catalog_filter *f,
				 const bson_t *cat_ids)
{
	bson_t m = BSON_INITIALIZER;

	catalog_db_product_match(f, cat_ids, CATALOG_MATCH_FILTERS, &m);
	stage_append(arr, n, "$match", &m);
	bson_destroy(&m);
}

/* f without the option filter named name. */
static struct catalog_filter filter_without_option(const struct catalog_filter *f,
						   const char *name)
{
	struct catalog_filter g = *f;

	g.noptions = 0;
	for (size_t i = 0; i < f->noptions; i++)
		if (strcmp(f->options[i].name, name) != 0)
			g.options[g.noptions++] = f->options[i];
	return g;
}

/*
 * The branch of option `name`: products passing every other filter,
 * their variants passing the other variant conditions, grouped once per
 * (product, value ignoring case), then counted per value with the
 * distinct option_order lists of those products (the value's position in
 * them is found in C: facet_values).
 */
static void option_branch_append(bson_t *facet, const char *branch,
				 const struct catalog_filter *f, const char *name,
				 const bson_t *cat_ids)
{
	struct catalog_filter g = filter_without_option(f, name);
	char vpath[64], opath[64], vkey[64];
	bson_t arr, body = BSON_INITIALIZER, sub;
	int n = 0;

	snprintf(vkey, sizeof(vkey), "variants.options.%s", name);
	snprintf(vpath, sizeof(vpath), "$variants.options.%s", name);
	snprintf(opath, sizeof(opath), "$option_order.%s", name);
	BSON_APPEND_ARRAY_BEGIN(facet, branch, &arr);
	filters_stage_append(&arr, &n, &g, cat_ids);
	BSON_APPEND_UTF8(&body, "path", "$variants");
	stage_append(&arr, &n, "$unwind", &body);
	bson_reinit(&body);
	catalog_db_variant_conditions(&g, "variants.", &body);
	op_append(&body, vkey, "$type", "string");
	stage_append(&arr, &n, "$match", &body);
	/* once per product and value */
	bson_reinit(&body);
	BSON_APPEND_DOCUMENT_BEGIN(&body, "_id", &sub);
	BSON_APPEND_UTF8(&sub, "p", "$_id");
	op_append(&sub, "v", "$toLower", vpath);
	bson_append_document_end(&body, &sub);
	op_append(&body, "value", "$first", vpath);
	/* the product's declared order of this option (absent: null) */
	op_append(&body, "order", "$first", opath);
	stage_append(&arr, &n, "$group", &body);
	/* then per value */
	bson_reinit(&body);
	BSON_APPEND_UTF8(&body, "_id", "$_id.v");
	op_append(&body, "value", "$first", "$value");
	op_append(&body, "orders", "$addToSet", "$order");
	count_append(&body, "count");
	stage_append(&arr, &n, "$group", &body);
	bson_append_array_end(facet, &arr);
	bson_destroy(&body);
}

/* The brands branch: products passing every filter but brand, per brand ignoring case. */
static void brand_branch_append(bson_t *facet, const struct catalog_filter *f,
				const bson_t *cat_ids)
{
	struct catalog_filter g = *f;
	bson_t arr, body = BSON_INITIALIZER, sub;
	int n = 0;

	g.brands.n = 0;
	BSON_APPEND_ARRAY_BEGIN(facet, "brands", &arr);
	filters_stage_append(&arr, &n, &g, cat_ids);
	BSON_APPEND_DOCUMENT_BEGIN(&body, "brand", &sub);
	BSON_APPEND_UTF8(&sub, "$gt", ""); /* strings only, not the empty brand */
	bson_append_document_end(&body, &sub);
	stage_append(&arr, &n, "$match", &body);
	bson_reinit(&body);
	op_append(&body, "_id", "$toLower", "$brand");
	op_append(&body, "value", "$first", "$brand");
	count_append(&body, "count");
	stage_append(&arr, &n, "$group", &body);
	bson_append_array_end(facet, &arr);
	bson_destroy(&body);
}

/* The categories branch: products passing every filter but category, per category_id. */
static void category_branch_append(bson_t *facet, const struct catalog_filter *f)
{
	struct catalog_filter g = *f;
	bson_t arr, body = BSON_INITIALIZER;
	int n = 0;

	g.categories.n = 0;
	BSON_APPEND_ARRAY_BEGIN(facet, "categories", &arr);
	filters_stage_append(&arr, &n, &g, NULL);
	op_append(&body, "category_id", "$type", "objectId");
	stage_append(&arr, &n, "$match", &body);
	bson_reinit(&body);
	BSON_APPEND_UTF8(&body, "_id", "$category_id");
	count_append(&body, "count");
	stage_append(&arr, &n, "$group", &body);
	bson_append_array_end(facet, &arr);
	bson_destroy(&body);
}

/* A branch counting the products passing g: [{n}]. */
static void count_branch_append(bson_t *facet, const char *branch,
				const struct catalog_filter *g, const bson_t *cat_ids)
{
	bson_t arr, body = BSON_INITIALIZER;
	int n = 0;

	BSON_APPEND_ARRAY_BEGIN(facet, branch, &arr);
	filters_stage_append(&arr, &n, g, cat_ids);
	BSON_APPEND_NULL(&body, "_id");
	count_append(&body, "n");
	stage_append(&arr, &n, "$group", &body);
	bson_append_array_end(facet, &arr);
	bson_destroy(&body);
}

/* The price branch: every filter but the price range; min, max and count. */
static void price_branch_append(bson_t *facet, const struct catalog_filter *f,
				const bson_t *cat_ids)
{
	struct catalog_filter g = *f;
	bson_t arr, body = BSON_INITIALIZER;
	int n = 0;

	g.has_min_price = g.has_max_price = false;
	BSON_APPEND_ARRAY_BEGIN(facet, "price", &arr);
	filters_stage_append(&arr, &n, &g, cat_ids);
	BSON_APPEND_NULL(&body, "_id");
	op_append(&body, "min", "$min", "$min_price");
	op_append(&body, "max", "$max", "$max_price");
	count_append(&body, "count");
	stage_append(&arr, &n, "$group", &body);
	bson_append_array_end(facet, &arr);
	bson_destroy(&body);
}

/* The whole pipeline: the shared $match, then one $facet. */
static void facets_pipeline_build(const struct catalog_filter *f, const bson_t *cat_ids,
				  bson_t *pipeline)
{
	struct catalog_filter in = *f, all = *f;
	bson_t base = BSON_INITIALIZER, facet = BSON_INITIALIZER;
	char branch[32];
	int n = 0;

	catalog_db_product_match(f, cat_ids, CATALOG_MATCH_BASE, &base);
	stage_append(pipeline, &n, "$match", &base);
	option_branch_append(&facet, "size", f, "size", cat_ids);
	option_branch_append(&facet, "color", f, "color", cat_ids);
	for (size_t i = 0; i < f->noptions; i++) {
		if (strcmp(f->options[i].name, "size") == 0 || strcmp(f->options[i].name, "color") == 0)
			continue;
		snprintf(branch, sizeof(branch), "opt_%s", f->options[i].name);
		option_branch_append(&facet, branch, f, f->options[i].name, cat_ids);
	}
	brand_branch_append(&facet, f, cat_ids);
	category_branch_append(&facet, f);
	all.in_stock_only = false;
	in.in_stock_only = true;
	count_branch_append(&facet, "stock_all", &all, cat_ids);
	count_branch_append(&facet, "stock_in", &in, cat_ids);
	price_branch_append(&facet, f, cat_ids);
	stage_append(pipeline, &n, "$facet", &facet);
	bson_destroy(&base);
	bson_destroy(&facet);
}

/* ---- the answer ---- */

struct facet_row {
	const char *value;  /* into the aggregate's result */
	int64_t count, pos;
};

/* The usual clothing scale, smallest first. */
static int size_rank(const char *v)
{
	static const char *const scale[] = {
		"XXXS", "3XS", "XXS", "2XS", "XS", "S", "M", "L", "XL", "XXL", "2XL",
		"XXXL", "3XL", "4XL", "5XL", "6XL", "OS", "ONE SIZE",
	};

	for (size_t i = 0; i < sizeof(scale) / sizeof(scale[0]); i++)
		if (strcasecmp(v, scale[i]) == 0)
			return (int)i;
	return -1;
}

/* Is v a number (42, 42.5)? Its value into *out. */
static bool value_number(const char *v, double *out)
{
	char *end = NULL;

	/* digits and a point only: no sign, exponent, inf or nan; at most
	 * 50 bytes (an option value), so always finite */
	if (!*v || strspn(v, "0123456789.") != strlen(v))
		return false;
	*out = strtod(v, &end);
	return end && *end == '\0';
}

/*
 * The natural order: a position some product declares (option_order)
 * first, then numbers numerically, then the clothing scale, then the
 * rest by name ignoring case.
 */
static int row_cmp(const void *pa, const void *pb)
{
	const struct facet_row *a = pa, *b = pb;
	double na, nb;
	bool ia, ib;
	int ra, rb;

	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	ia = value_number(a->value, &na);
	ib = value_number(b->value, &nb);
	if (ia != ib)
		return ia ? -1 : 1;
	if (ia && na != nb)
		return na < nb ? -1 : 1;
	ra = size_rank(a->value);
	rb = size_rank(b->value);
	if ((ra >= 0) != (rb >= 0))
		return ra >= 0 ? -1 : 1;
	if (ra != rb)
		return ra < rb ? -1 : 1;
	return strcasecmp(a->value, b->value) != 0 ? strcasecmp(a->value, b->value)
						   : strcmp(a->value, b->value);
}

/* The array at key of the aggregate's result, into it (false when absent). */
static bool result_array(const bson_t *doc, const char *key, bson_iter_t *rows)
{
	bson_iter_t it;

	return doc && bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_ARRAY(&it) &&
	       bson_iter_recurse(&it, rows);
}

/*
 * The lowest position of value (ignoring case) in any of the declared
 * orders (an array of arrays, or of nulls), or FACET_NO_POS.
 */
static int64_t declared_pos(const bson_iter_t *orders, const char *value)
{
	bson_iter_t lists = *orders, one, vals;
	int64_t best = FACET_NO_POS;

	if (!bson_iter_recurse(&lists, &one))
		return best;
	while (bson_iter_next(&one)) {
		int64_t i = 0;

		if (!BSON_ITER_HOLDS_ARRAY(&one) || !bson_iter_recurse(&one, &vals))
			continue;
		for (; bson_iter_next(&vals) && i < best; i++)
			if (BSON_ITER_HOLDS_UTF8(&vals) &&
			    strcasecmp(bson_iter_utf8(&vals, NULL), value) == 0) {
				best = i;
				break;
			}
	}
	return best;
}

/* [{value, count}] in natural order from the rows of a value branch. */
static json_object *facet_values(const bson_t *doc, const char *key)
{
	json_object *out = json_object_new_array();
	struct facet_row *rows = NULL;
	size_t n = 0, cap = 0;
	bson_iter_t it;

	if (!out || !result_array(doc, key, &it))
		return out;
	while (bson_iter_next(&it)) {
		bson_iter_t f, orders;
		struct facet_row r = { NULL, 0, FACET_NO_POS };
		bool has_orders = false;

		if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &f))
			continue;
		while (bson_iter_next(&f)) {
			const char *k = bson_iter_key(&f);

			if (strcmp(k, "value") == 0 && BSON_ITER_HOLDS_UTF8(&f))
				r.value = bson_iter_utf8(&f, NULL);
			else if (strcmp(k, "count") == 0)
				r.count = em_bson_iter_int64(&f);
			else if (strcmp(k, "orders") == 0 && BSON_ITER_HOLDS_ARRAY(&f)) {
				orders = f;
				has_orders = true;
			}
		}
		if (r.value && has_orders)
			r.pos = declared_pos(&orders, r.value);
		if (!r.value || r.count < 1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		rows[n++] = r;
	}
	if (n)
		qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		if (!o)
			break;
		json_object_object_add(o, "value", json_object_new_string(rows[i].value));
		json_object_object_add(o, "count", json_object_new_int64(rows[i].count));
		json_object_array_add(out, o);
	}
	free(rows);
	return out;
}

/* The one document of a single-row branch, or NULL. */
static bool result_first(const bson_t *doc, const char *key, bson_t *row)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;

	if (!result_array(doc, key, &it) || !bson_iter_next(&it) || !BSON_ITER_HOLDS_DOCUMENT(&it))
		return false;
	bson_iter_document(&it, &len, &data);
	return bson_init_static(row, data, len);
}

/* {min, max, count}: nulls and 0 when nothing matched. */
static json_object *facet_price(const bson_t *doc)
{
	json_object *price = json_object_new_object();
	bson_t row;
	bson_iter_t f;

	if (!price)
		return NULL;
	json_object_object_add(price, "min", NULL);
	json_object_object_add(price, "max", NULL);
	json_object_object_add(price, "count", json_object_new_int64(0));
	if (result_first(doc, "price", &row) && bson_iter_init(&f, &row))
		while (bson_iter_next(&f)) {
			const char *k = bson_iter_key(&f);

			if ((strcmp(k, "min") == 0 || strcmp(k, "max") == 0 || strcmp(k, "count") == 0) &&
			    !BSON_ITER_HOLDS_NULL(&f))
				json_object_object_add(price, k,
						       json_object_new_int64(em_bson_iter_int64(&f)));
		}
	return price;
}

/* The n of a count branch (0 when nothing matched). */
static int64_t facet_count(const bson_t *doc, const char *key)
{
	bson_t row;

	return result_first(doc, key, &row) ? catalog_db_int(&row, "n") : 0;
}

/* Sorts category facet entries by name. */
static int category_cmp(const void *pa, const void *pb)
{
	json_object *const *a = pa, *const *b = pb, *na = NULL, *nb = NULL;

	json_object_object_get_ex(*a, "name", &na);
	json_object_object_get_ex(*b, "name", &nb);
	return strcasecmp(json_object_get_string(na), json_object_get_string(nb));
}

/* [{id, slug, name, count}] of the categories branch, by name. */
static json_object *facet_categories(struct em_store *st, const bson_t *doc,
				     struct em_error *err)
{
	json_object *out = json_object_new_array(), *index = NULL;
	bson_iter_t it;

	if (!out) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate");
		return NULL;
	}
	if (!result_array(doc, "categories", &it))
		return out;
	if (!catalog_category_index(st, &index, err)) {
		json_object_put(out);
		return NULL;
	}
	while (bson_iter_next(&it)) {
		json_object *ref = NULL, *o;
		bson_iter_t f;
		char hex[25] = "";
		int64_t count = 0;

		if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &f))
			continue;
		while (bson_iter_next(&f)) {
			if (strcmp(bson_iter_key(&f), "_id") == 0 && BSON_ITER_HOLDS_OID(&f))
				bson_oid_to_string(bson_iter_oid(&f), hex);
			else if (strcmp(bson_iter_key(&f), "count") == 0)
				count = em_bson_iter_int64(&f);
		}
		/* a product whose category is gone is counted nowhere */
		if (!hex[0] || count < 1 || !json_object_object_get_ex(index, hex, &ref))
			continue;
		o = json_object_new_object();
		if (!o)
			break;
		{
			json_object *v = NULL;

			json_object_object_get_ex(ref, "id", &v);
			json_object_object_add(o, "id", json_object_get(v));
			json_object_object_get_ex(ref, "slug", &v);
			json_object_object_add(o, "slug", json_object_get(v));
			json_object_object_get_ex(ref, "name", &v);
			json_object_object_add(o, "name", json_object_get(v));
		}
		json_object_object_add(o, "count", json_object_new_int64(count));
		json_object_array_add(out, o);
	}
	json_object_array_sort(out, category_cmp);
	json_object_put(index);
	return out;
}

/* The API's body from the aggregate's one result (NULL: nothing matched). */
static json_object *facets_json(struct em_store *st, const struct catalog_filter *f,
				const bson_t *doc, struct em_error *err)
{
	json_object *body = json_object_new_object(), *options = json_object_new_object();
	json_object *avail = json_object_new_object(), *price = facet_price(doc), *cats = NULL;
	char branch[32];

	if (!body || !options || !avail || !price)
		goto nomem;
	cats = facet_categories(st, doc, err);
	if (!cats)
		goto fail;
	json_object_object_add(body, "sizes", facet_values(doc, "size"));
	json_object_object_add(body, "colors", facet_values(doc, "color"));
	for (size_t i = 0; i < f->noptions; i++) {
		if (strcmp(f->options[i].name, "size") == 0 || strcmp(f->options[i].name, "color") == 0)
			continue;
		snprintf(branch, sizeof(branch), "opt_%s", f->options[i].name);
		json_object_object_add(options, f->options[i].name, facet_values(doc, branch));
	}
	json_object_object_add(body, "options", options);
	json_object_object_add(body, "brands", facet_values(doc, "brands"));
	json_object_object_add(body, "categories", cats);
	json_object_object_add(avail, "in_stock", json_object_new_int64(facet_count(doc, "stock_in")));
	json_object_object_add(avail, "total", json_object_new_int64(facet_count(doc, "stock_all")));
	json_object_object_add(body, "availability", avail);
	json_object_object_add(body, "price", price);
	return body;
nomem:
	em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
fail:
	if (body)
		json_object_put(body);
	if (options)
		json_object_put(options);
	if (avail)
		json_object_put(avail);
	if (price)
		json_object_put(price);
	return NULL;
}

bool catalog_product_facets(struct em_store *st, const struct catalog_filter *f,
			    json_object **out, struct em_error *err)
{
	bson_t ids = BSON_INITIALIZER, pipeline = BSON_INITIALIZER;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc = NULL;
	bson_error_t berr;
	bool ok = false;

	*out = NULL;
	if (!catalog_db_category_ids(st, f, &ids, err))
		goto done;
	facets_pipeline_build(f, &ids, &pipeline);
	coll = store_collection(st, "products");
	cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, &pipeline, NULL, NULL);
	if (!mongoc_cursor_next(cur, &doc))
		doc = NULL;
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "facets");
		if (berr.code == 27 || berr.code == 2)
			em_error_set(err, EM_ERR_INVALID, "q", "this search is not supported");
		goto done;
	}
	*out = facets_json(st, f, doc, err);
	if (!*out)
		goto done;
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&ids);
	bson_destroy(&pipeline);
	return ok;
}
