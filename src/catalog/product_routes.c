/*
 * product_routes.c - the public catalog over HTTP: the product list,
 * facet counts and product detail with ETag (the queries are in
 * products.c and facets.c). Only active, non-deleted products are
 * visible here, and no exact stock figure (catalog_product_render).
 *
 * Responses carry Cache-Control: public, max-age=5: nginx micro-caches
 * anonymous reads for that long, so a staff change shows within seconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "http/page.h"

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
	/* at most 13 digits: below CATALOG_PRICE_MAX's order, no overflow */
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

static bool in_stock_param(struct em_request *req, bool *only, struct em_error *err)
{
	const char *v = NULL;

	*only = false;
	if (!plain_param(req, "in_stock", 5, &v, err))
		return false;
	if (!v)
		return true;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*only = true;
	else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
		em_error_set(err, EM_ERR_INVALID, "in_stock", "in_stock must be true or false");
		return false;
	}
	return true;
}

/* The filters of the list and the facets, typed and bounded. */
static bool filter_params(struct em_request *req, struct catalog_filter *f, struct em_error *err)
{
	memset(f, 0, sizeof(*f));
	if (!em_request_query_check(req, list_params, CATALOG_QUERY_VALUE_MAX, err) ||
	    !plain_param(req, "category", CATALOG_SLUG_MAX, &f->category, err) ||
	    !plain_param(req, "brand", CATALOG_BRAND_MAX, &f->brand, err) ||
	    !plain_param(req, "q", 200, &f->q, err) ||
	    !plain_param(req, "size", 50, &f->size, err) ||
	    !plain_param(req, "color", 50, &f->color, err) ||
	    !in_stock_param(req, &f->in_stock_only, err) ||
	    !money_param(req, "min_price", &f->has_min_price, &f->min_price, err) ||
	    !money_param(req, "max_price", &f->has_max_price, &f->max_price, err))
		return false;
	if (f->has_min_price && f->has_max_price && f->min_price > f->max_price) {
		em_error_set(err, EM_ERR_INVALID, "min_price", "min_price is above max_price");
		return false;
	}
	return true;
}

/* A public list item: the product without the search score. */
static json_object *public_product_item(const bson_t *doc, void *ctx)
{
	const int64_t *low_stock_public = ctx;
	json_object *o = catalog_product_render(doc, false, *low_stock_public);

	if (o)
		json_object_object_del(o, "_score");
	return o;
}

/* GET /api/v1/products */
static bool catalog_product_list(struct em_request *req, struct em_error *err)
{
	struct catalog_filter f;
	struct catalog_page page;
	const char *cursor = NULL;
	int64_t low = catalog_config(&req->app->cfg)->low_stock_public;
	int limit;
	char sort;

	if (!filter_params(req, &f, err) ||
	    !em_page_params(req, CATALOG_LIMIT_DEFAULT, &limit, &cursor, err) ||
	    !catalog_sort_parse(em_request_query(req, "sort"), f.q != NULL, &sort, err) ||
	    !catalog_product_search(&req->app->store, &f, sort, limit, cursor, &page, err))
		return false;
	em_response_header(req, "Cache-Control", "public, max-age=5");
	return catalog_page_respond(req, &page, public_product_item, &low, err);
}

/*
 * GET /api/v1/products/facets: counts of the products matching the same
 * filters as the list, by size and by colour, and their price range.
 */
static bool catalog_product_facets_get(struct em_request *req, struct em_error *err)
{
	struct catalog_filter f;
	json_object *body = NULL;

	if (!filter_params(req, &f, err))
		return false;
	if (em_request_query(req, "sort") || em_request_query(req, "cursor") ||
	    em_request_query(req, "limit")) {
		em_error_set(err, EM_ERR_INVALID, "sort", "facets take only the filters");
		return false;
	}
	if (!catalog_product_facets(&req->app->store, &f, &body, err))
		return false;
	em_response_header(req, "Cache-Control", "public, max-age=5");
	em_response_json(req, 200, body);
	return true;
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

/*
 * The public ETag: "<id>-<version>-<digest of the public body>". Not the
 * staff ETag's stock_rev: that counts every stock movement, so polling it
 * would count a product's sales, which is what the public view hides.
 * The body changes only when content does or a variant's in_stock or
 * low_stock_left does, and so does this tag.
 */
static void public_etag(const bson_t *doc, json_object *body, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)json_object_to_json_string_ext(
		body, JSON_C_TO_STRING_PLAIN);
	uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a 64 */
	bson_iter_t it;
	char hex[25] = "";

	for (; p && *p; p++)
		h = (h ^ *p) * UINT64_C(1099511628211);
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_to_string(bson_iter_oid(&it), hex);
	snprintf(out, size, "\"%s-%" PRId64 "-%016" PRIx64 "\"", hex,
		 bson_iter_init_find(&it, doc, "version") ? em_bson_iter_int64(&it) : 0, h);
}

/* GET /api/v1/products/{id}: by _id (24 hex) or by slug. */
static bool catalog_product_get(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { NULL };
	bson_t *doc = NULL;
	json_object *o = NULL;
	char etag[96];
	bool ok = false;

	if (!em_request_query_check(req, allowed, CATALOG_QUERY_VALUE_MAX, err) ||
	    !catalog_product_find_visible(&req->app->store, em_request_path_param(req, "id"),
					  &doc, err))
		goto done;
	o = catalog_product_render(doc, false, catalog_config(&req->app->cfg)->low_stock_public);
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render a product");
		goto done;
	}
	public_etag(doc, o, etag, sizeof(etag));
	em_response_header(req, "ETag", etag);
	em_response_header(req, "Cache-Control", "public, max-age=5");
	if (etag_matches(em_request_header(req, "If-None-Match"), etag)) {
		em_response_empty(req, 304);
	} else {
		em_response_json(req, 200, o);
		o = NULL; /* the response took it */
	}
	ok = true;
done:
	if (o)
		json_object_put(o);
	if (doc)
		bson_destroy(doc);
	return ok;
}

static const struct em_route catalog_product_table[] = {
	{ "GET", "/api/v1/products", catalog_product_list, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	/* before {id}: the first matching pattern wins */
	{ "GET", "/api/v1/products/facets", catalog_product_facets_get, EM_ROLE_PUBLIC,
	  EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/products/{id}", catalog_product_get, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
};

const struct em_route_table catalog_product_routes =
	EM_ROUTE_TABLE("products", catalog_product_table);
