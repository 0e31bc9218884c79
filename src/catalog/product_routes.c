/*
 * product_routes.c - the public catalog: product lists with filters,
 * full-text search, sorting and keyset pagination; facet counts; product
 * detail with ETag. Only active, non-deleted products are visible here.
 *
 * Responses carry Cache-Control: public, max-age=5: nginx micro-caches
 * anonymous reads for that long, so a staff change shows within seconds.
 *
 * Every query is an aggregate whose first stage is the $match built by
 * product_filter() from typed, validated query parameters; the sort keys
 * (created_at + _id; min_price + _id; text score + _id) are served by the indexes in
 * catalog_indexes.c. Keyset pagination continues strictly after the last
 * (sort key, _id) pair of the previous page, so inserts made while a
 * client pages neither repeat nor hide items that existed before.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "http/page.h"
#include "core/alloc.h"

static const char *const list_params[] = {
	"category", "min_price", "max_price", "size", "color", "in_stock", "brand", "q",
	"sort", "limit", "cursor", NULL,
};

static bool money_param(struct em_request *req, const char *name, bool *has, int64_t *out,
			struct em_error *err)
{
	const char *v = em_request_query(req, name);
	char *end = NULL;

	*has = false;
	if (!v)
		return true;
	if (!*v || strlen(v) > 13 || strspn(v, "0123456789") != strlen(v)) {
		em_error_set(err, EM_ERR_INVALID, name,
			     "%s must be a non-negative integer in minor units", name);
		return false;
	}
	*out = strtoll(v, &end, 10);
	*has = true;
	return true;
}

static bool plain_param(struct em_request *req, const char *name, size_t max, const char **out,
			struct em_error *err)
{
	*out = em_request_query(req, name);
	if (*out && (!**out || strlen(*out) > max)) {
		em_error_set(err, EM_ERR_INVALID, name, "%s must be 1..%zu bytes", name, max);
		return false;
	}
	return true;
}

/*
 * The $match for the visible products that pass the request's filters.
 * Variant-level conditions (size, colour, price range, in stock) go in
 * one $elemMatch, so they must all hold for the same variant.
 */
static bool product_filter(struct em_request *req, bson_t *filter, bool *has_q,
			   struct em_error *err)
{
	const char *category, *brand, *q, *size, *color, *in_stock;
	int64_t minp = 0, maxp = 0;
	bool has_min, has_max, stock_only = false;

	if (!catalog_query_check(req, list_params, err) ||
	    !plain_param(req, "category", CATALOG_SLUG_MAX, &category, err) ||
	    !plain_param(req, "brand", CATALOG_BRAND_MAX, &brand, err) ||
	    !plain_param(req, "q", 200, &q, err) ||
	    !plain_param(req, "size", 50, &size, err) ||
	    !plain_param(req, "color", 50, &color, err) ||
	    !plain_param(req, "in_stock", 5, &in_stock, err) ||
	    !money_param(req, "min_price", &has_min, &minp, err) ||
	    !money_param(req, "max_price", &has_max, &maxp, err))
		return false;
	if (in_stock) {
		if (strcmp(in_stock, "true") == 0 || strcmp(in_stock, "1") == 0) {
			stock_only = true;
		} else if (strcmp(in_stock, "false") != 0 && strcmp(in_stock, "0") != 0) {
			em_error_set(err, EM_ERR_INVALID, "in_stock", "in_stock must be true or false");
			return false;
		}
	}
	if (has_min && has_max && minp > maxp) {
		em_error_set(err, EM_ERR_INVALID, "min_price", "min_price is above max_price");
		return false;
	}
	*has_q = q != NULL;
	if (q) {
		bson_t text;

		BSON_APPEND_DOCUMENT_BEGIN(filter, "$text", &text);
		BSON_APPEND_UTF8(&text, "$search", q);
		bson_append_document_end(filter, &text);
	}
	BSON_APPEND_UTF8(filter, "status", "active");
	BSON_APPEND_NULL(filter, "deleted_at");
	if (category) {
		bson_t ids = BSON_INITIALIZER, in;
		bson_oid_t root;

		if (!catalog_category_subtree(&req->app->store, category, &root, &ids, err)) {
			bson_destroy(&ids);
			if (err->kind == EM_ERR_NOT_FOUND)
				em_error_set(err, EM_ERR_INVALID, "category", "no such category");
			return false;
		}
		BSON_APPEND_DOCUMENT_BEGIN(filter, "category_id", &in);
		BSON_APPEND_ARRAY(&in, "$in", &ids);
		bson_append_document_end(filter, &in);
		bson_destroy(&ids);
	}
	if (brand)
		BSON_APPEND_UTF8(filter, "brand", brand);
	if (size || color || has_min || has_max || stock_only) {
		bson_t em, vm, range;

		BSON_APPEND_DOCUMENT_BEGIN(filter, "variants", &em);
		BSON_APPEND_DOCUMENT_BEGIN(&em, "$elemMatch", &vm);
		if (size)
			BSON_APPEND_UTF8(&vm, "options.size", size);
		if (color)
			BSON_APPEND_UTF8(&vm, "options.color", color);
		if (has_min || has_max) {
			BSON_APPEND_DOCUMENT_BEGIN(&vm, "price", &range);
			if (has_min)
				BSON_APPEND_INT64(&range, "$gte", minp);
			if (has_max)
				BSON_APPEND_INT64(&range, "$lte", maxp);
			bson_append_document_end(&vm, &range);
		}
		if (stock_only) {
			BSON_APPEND_DOCUMENT_BEGIN(&vm, "stock", &range);
			BSON_APPEND_INT64(&range, "$gt", 0);
			bson_append_document_end(&vm, &range);
		}
		bson_append_document_end(&em, &vm);
		bson_append_document_end(filter, &em);
	}
	return true;
}

static char sort_code(const char *sort)
{
	if (!sort)
		return 0;
	if (strcmp(sort, "newest") == 0)
		return 'n';
	if (strcmp(sort, "price_asc") == 0)
		return 'a';
	if (strcmp(sort, "price_desc") == 0)
		return 'd';
	if (strcmp(sort, "relevance") == 0)
		return 'r';
	return '?';
}

/* Appends the key of the cursor's sort to doc (typed as stored). */
static void cursor_key_append(bson_t *doc, const char *op, const struct catalog_cursor *c)
{
	if (c->sort == 'r')
		BSON_APPEND_DOUBLE(doc, op, c->dval);
	else if (c->sort == 'n')
		BSON_APPEND_DATE_TIME(doc, op, c->ival);
	else
		BSON_APPEND_INT64(doc, op, c->ival);
}

/*
 * Appends the "strictly after the cursor" condition: key beyond the
 * cursor's, or the same key and _id beyond (the tie-break of the sort).
 */
static void cursor_match(bson_t *m, const struct catalog_cursor *c)
{
	bson_t or, a, b, cmp;
	const char *key = c->sort == 'r' ? "_score" : (c->sort == 'n' ? "created_at" : "min_price");
	bool up_id = c->sort == 'a' || c->sort == 'r';
	const char *key_op = (c->sort == 'a') ? "$gt" : "$lt";

	BSON_APPEND_ARRAY_BEGIN(m, "$or", &or);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
	BSON_APPEND_DOCUMENT_BEGIN(&a, key, &cmp);
	cursor_key_append(&cmp, key_op, c);
	bson_append_document_end(&a, &cmp);
	bson_append_document_end(&or, &a);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &b);
	cursor_key_append(&b, key, c);
	BSON_APPEND_DOCUMENT_BEGIN(&b, "_id", &cmp);
	BSON_APPEND_OID(&cmp, up_id ? "$gt" : "$lt", &c->id);
	bson_append_document_end(&b, &cmp);
	bson_append_document_end(&or, &b);
	bson_append_array_end(m, &or);
}

/* A public list item: the product without the search score. */
static json_object *public_product_item(const bson_t *doc, void *ctx)
{
	json_object *o = catalog_product_render(doc, false);

	(void)ctx;
	if (o)
		json_object_object_del(o, "_score");
	return o;
}

/* GET /api/v1/products */
static bool catalog_product_list(struct em_request *req, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, pipeline = BSON_INITIALIZER, stage, inner, sort;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_t last = BSON_INITIALIZER;
	bson_error_t berr;
	struct catalog_cursor after;
	const char *cursor_s = NULL;
	int limit;
	bool has_q = false, ok = false, more = false;
	char s;
	json_object *items = NULL;
	char next[128] = "";
	int st = 0;
	char key[24];

	if (!product_filter(req, &filter, &has_q, err) ||
	    !em_page_params(req, CATALOG_LIMIT_DEFAULT, &limit, &cursor_s, err))
		goto done;
	s = sort_code(em_request_query(req, "sort"));
	if (s == '?' || (s == 'r' && !has_q)) {
		em_error_set(err, EM_ERR_INVALID, "sort",
			     "sort must be newest, price_asc, price_desc or (with q) relevance");
		goto done;
	}
	if (!s)
		s = has_q ? 'r' : 'n';
	if (cursor_s) {
		if (!catalog_cursor_decode(cursor_s, &after, err))
			goto done;
		if (after.sort != s) {
			em_error_set(err, EM_ERR_INVALID, "cursor",
				     "the cursor belongs to another sort order");
			goto done;
		}
	}
#define STAGE() key
#define NEXT_STAGE() snprintf(key, sizeof(key), "%d", st++)
	NEXT_STAGE();
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, STAGE(), &stage);
	BSON_APPEND_DOCUMENT(&stage, "$match", &filter);
	bson_append_document_end(&pipeline, &stage);
	if (s == 'r') {
		bson_t meta;

		NEXT_STAGE();
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, STAGE(), &stage);
		BSON_APPEND_DOCUMENT_BEGIN(&stage, "$addFields", &inner);
		BSON_APPEND_DOCUMENT_BEGIN(&inner, "_score", &meta);
		BSON_APPEND_UTF8(&meta, "$meta", "textScore");
		bson_append_document_end(&inner, &meta);
		bson_append_document_end(&stage, &inner);
		bson_append_document_end(&pipeline, &stage);
	}
	if (cursor_s) {
		NEXT_STAGE();
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, STAGE(), &stage);
		BSON_APPEND_DOCUMENT_BEGIN(&stage, "$match", &inner);
		cursor_match(&inner, &after);
		bson_append_document_end(&stage, &inner);
		bson_append_document_end(&pipeline, &stage);
	}
	NEXT_STAGE();
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, STAGE(), &stage);
	BSON_APPEND_DOCUMENT_BEGIN(&stage, "$sort", &sort);
	switch (s) {
	case 'a':
		BSON_APPEND_INT32(&sort, "min_price", 1);
		BSON_APPEND_INT32(&sort, "_id", 1);
		break;
	case 'd':
		BSON_APPEND_INT32(&sort, "min_price", -1);
		BSON_APPEND_INT32(&sort, "_id", -1);
		break;
	case 'r':
		BSON_APPEND_INT32(&sort, "_score", -1);
		BSON_APPEND_INT32(&sort, "_id", 1);
		break;
	default:
		/* created_at, not _id alone: ObjectIds from different worker
		 * processes are ordered only to the second */
		BSON_APPEND_INT32(&sort, "created_at", -1);
		BSON_APPEND_INT32(&sort, "_id", -1);
	}
	bson_append_document_end(&stage, &sort);
	bson_append_document_end(&pipeline, &stage);
	NEXT_STAGE();
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, STAGE(), &stage);
	BSON_APPEND_INT64(&stage, "$limit", limit + 1);
	bson_append_document_end(&pipeline, &stage);
#undef STAGE
#undef NEXT_STAGE

	coll = store_collection(&req->app->store, "products");
	cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, &pipeline, NULL, NULL);
	if (!em_page_collect(cur, limit, public_product_item, NULL, "list products", &items, &last,
			     &more, &berr, err)) {
		if (berr.code == 27 || berr.code == 2)
			em_error_set(err, EM_ERR_INVALID, "q", "this search is not supported");
		goto done;
	}
	if (more) {
		bson_iter_t it;

		/* the cursor holds the last item's sort key and _id */
		memset(&after, 0, sizeof(after));
		after.sort = s;
		if (bson_iter_init_find(&it, &last, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &after.id);
		if (s == 'r' && bson_iter_init_find(&it, &last, "_score"))
			after.dval = BSON_ITER_HOLDS_DOUBLE(&it) ? bson_iter_double(&it)
								 : (double)em_bson_iter_int64(&it);
		else if (s == 'n' && bson_iter_init_find(&it, &last, "created_at") &&
			 BSON_ITER_HOLDS_DATE_TIME(&it))
			after.ival = bson_iter_date_time(&it);
		else if (s != 'n' && bson_iter_init_find(&it, &last, "min_price"))
			after.ival = em_bson_iter_int64(&it);
		catalog_cursor_encode(&after, next, sizeof(next));
	}
	em_response_header(req, "Cache-Control", "public, max-age=5");
	em_page_respond(req, items, more ? next : NULL);
	items = NULL;
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	if (items)
		json_object_put(items);
	bson_destroy(&filter);
	bson_destroy(&last);
	bson_destroy(&pipeline);
	return ok;
}

/* The $facet stage: fixed text, never request data. A product counts
 * once per size/colour it offers. */
static const char facet_stage_json[] =
	"{\"$facet\": {"
	" \"sizes\": [{\"$unwind\": \"$variants\"},"
	"   {\"$group\": {\"_id\": {\"p\": \"$_id\", \"v\": \"$variants.options.size\"}}},"
	"   {\"$match\": {\"_id.v\": {\"$type\": \"string\"}}},"
	"   {\"$group\": {\"_id\": \"$_id.v\", \"count\": {\"$sum\": 1}}},"
	"   {\"$sort\": {\"_id\": 1}}],"
	" \"colors\": [{\"$unwind\": \"$variants\"},"
	"   {\"$group\": {\"_id\": {\"p\": \"$_id\", \"v\": \"$variants.options.color\"}}},"
	"   {\"$match\": {\"_id.v\": {\"$type\": \"string\"}}},"
	"   {\"$group\": {\"_id\": \"$_id.v\", \"count\": {\"$sum\": 1}}},"
	"   {\"$sort\": {\"_id\": 1}}],"
	" \"price\": [{\"$group\": {\"_id\": null, \"min\": {\"$min\": \"$min_price\"},"
	"   \"max\": {\"$max\": \"$max_price\"}, \"count\": {\"$sum\": 1}}}]"
	"}}";

static json_object *facet_values(bson_iter_t *arr)
{
	json_object *out = json_object_new_array();
	bson_iter_t rows;

	if (!out || !bson_iter_recurse(arr, &rows))
		return out;
	while (bson_iter_next(&rows)) {
		bson_iter_t f;
		json_object *o;

		if (!BSON_ITER_HOLDS_DOCUMENT(&rows) || !bson_iter_recurse(&rows, &f))
			continue;
		o = json_object_new_object();
		if (!o)
			break;
		while (bson_iter_next(&f)) {
			if (strcmp(bson_iter_key(&f), "_id") == 0 && BSON_ITER_HOLDS_UTF8(&f))
				json_object_object_add(o, "value",
						       json_object_new_string(bson_iter_utf8(&f, NULL)));
			else if (strcmp(bson_iter_key(&f), "count") == 0)
				json_object_object_add(o, "count",
						       json_object_new_int64(em_bson_iter_int64(&f)));
		}
		json_object_array_add(out, o);
	}
	return out;
}

/*
 * GET /api/v1/products/facets: counts of the products matching the same
 * filters as the list, by size and by colour, and their price range, in
 * one aggregate.
 */
static bool catalog_product_facets(struct em_request *req, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, pipeline = BSON_INITIALIZER, stage, *facet = NULL;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bson_error_t berr;
	bool has_q = false, ok = false;
	json_object *body = NULL, *price = NULL;

	if (!product_filter(req, &filter, &has_q, err))
		goto done;
	if (em_request_query(req, "sort") || em_request_query(req, "cursor") ||
	    em_request_query(req, "limit")) {
		em_error_set(err, EM_ERR_INVALID, "sort", "facets take only the filters");
		goto done;
	}
	facet = bson_new_from_json((const uint8_t *)facet_stage_json, -1, &berr);
	if (!facet) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "facet stage: %s", berr.message);
		goto done;
	}
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, "0", &stage);
	BSON_APPEND_DOCUMENT(&stage, "$match", &filter);
	bson_append_document_end(&pipeline, &stage);
	BSON_APPEND_DOCUMENT(&pipeline, "1", facet);
	coll = store_collection(&req->app->store, "products");
	cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, &pipeline, NULL, NULL);
	body = catalog_json_object(err);
	price = catalog_json_object(err);
	if (!body || !price)
		goto done;
	json_object_object_add(price, "min", NULL);
	json_object_object_add(price, "max", NULL);
	json_object_object_add(price, "count", json_object_new_int64(0));
	if (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it, p, f;

		if (bson_iter_init_find(&it, doc, "sizes") && BSON_ITER_HOLDS_ARRAY(&it))
			json_object_object_add(body, "sizes", facet_values(&it));
		if (bson_iter_init_find(&it, doc, "colors") && BSON_ITER_HOLDS_ARRAY(&it))
			json_object_object_add(body, "colors", facet_values(&it));
		if (bson_iter_init_find(&it, doc, "price") && BSON_ITER_HOLDS_ARRAY(&it) &&
		    bson_iter_recurse(&it, &p) && bson_iter_next(&p) &&
		    BSON_ITER_HOLDS_DOCUMENT(&p) && bson_iter_recurse(&p, &f))
			while (bson_iter_next(&f)) {
				const char *k = bson_iter_key(&f);

				if (strcmp(k, "min") == 0 || strcmp(k, "max") == 0 ||
				    strcmp(k, "count") == 0)
					json_object_object_add(price, k,
							       json_object_new_int64(em_bson_iter_int64(&f)));
			}
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "facets");
		goto done;
	}
	json_object_object_add(body, "price", price);
	price = NULL;
	em_response_header(req, "Cache-Control", "public, max-age=5");
	em_response_json(req, 200, body);
	body = NULL;
	ok = true;
done:
	if (facet)
		bson_destroy(facet);
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	if (price)
		json_object_put(price);
	if (body) /* an error after it was made: the response never took it */
		json_object_put(body);
	bson_destroy(&filter);
	bson_destroy(&pipeline);
	return ok;
}

/* Does an If-None-Match header list etag (or "*")? */
static bool etag_matches(const char *header, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = header;

	if (!header)
		return false;
	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2; /* weak comparison is what If-None-Match uses */
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

/* GET /api/v1/products/{id}: by _id (24 hex) or by slug. */
static bool catalog_product_get(struct em_request *req, struct em_error *err)
{
	const char *key = em_request_path_param(req, "id");
	static const char *const allowed[] = { NULL };
	bson_t filter = BSON_INITIALIZER, or, a, b;
	bson_oid_t oid;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = false;
	char etag[96];

	if (!catalog_query_check(req, allowed, err))
		goto done;
	if (!key || strlen(key) > CATALOG_SLUG_MAX) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		goto done;
	}
	BSON_APPEND_UTF8(&filter, "status", "active");
	BSON_APPEND_NULL(&filter, "deleted_at");
	if (em_oid_parse(key, &oid)) {
		BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &or);
		BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
		BSON_APPEND_OID(&a, "_id", &oid);
		bson_append_document_end(&or, &a);
		BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &b);
		BSON_APPEND_UTF8(&b, "slug", key);
		bson_append_document_end(&or, &b);
		bson_append_array_end(&filter, &or);
	} else {
		BSON_APPEND_UTF8(&filter, "slug", key);
	}
	coll = store_collection(&req->app->store, "products");
	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	if (!mongoc_cursor_next(cur, &doc)) {
		if (mongoc_cursor_error(cur, &berr))
			store_error_set(err, &berr, "read product");
		else
			em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		goto done;
	}
	catalog_product_etag(doc, etag, sizeof(etag));
	em_response_header(req, "ETag", etag);
	em_response_header(req, "Cache-Control", "public, max-age=5");
	if (etag_matches(em_request_header(req, "If-None-Match"), etag)) {
		em_response_empty(req, 304);
	} else {
		json_object *o = catalog_product_render(doc, false);

		if (!o) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render a product");
			goto done;
		}
		em_response_json(req, 200, o);
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	return ok;
}

static const struct em_route catalog_product_table[] = {
	{ "GET", "/api/v1/products", catalog_product_list, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	/* before {id}: the first matching pattern wins */
	{ "GET", "/api/v1/products/facets", catalog_product_facets, EM_ROLE_PUBLIC, EM_BODY_NONE,
	  NULL },
	{ "GET", "/api/v1/products/{id}", catalog_product_get, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
};

const struct em_route_table catalog_product_routes =
	EM_ROUTE_TABLE("products", catalog_product_table);
