/*
 * product_routes.c - the public catalog over HTTP: the product list
 * (filters, search, sorts, ids=), facet counts and product detail with
 * ETag (the queries are in products.c and facets.c, the public view of a
 * product in catalog_http.c). Only active, non-deleted products are
 * visible here, and no exact stock figure or internal counter.
 *
 * Responses carry Cache-Control: public, max-age=5: nginx micro-caches
 * anonymous reads for that long, so a staff change shows within seconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/digest.h"
#include "core/jsonbuf.h"
#include "http/page.h"

/* Parameters the list and the facets take once each ("option.<name>" aside). */
static const char *const single_params[] = {
	"min_price", "max_price", "in_stock", "q", "match", "sort", "limit", "cursor", NULL,
};
/* Parameters that may repeat, each value a comma-separated list (OR). */
static const char *const multi_params[] = {
	"category", "brand", "size", "color", "ids", NULL,
};

static bool name_in(const char *const *names, const char *k)
{
	for (size_t i = 0; names[i]; i++)
		if (strcmp(names[i], k) == 0)
			return true;
	return false;
}

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

static bool in_stock_param(struct em_request *req, bool *only, struct em_error *err)
{
	const char *v = em_request_query(req, "in_stock");

	*only = false;
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

/*
 * Every parameter of the query string: a known name ("option.<name>"
 * with an option name of [a-z_]), valid UTF-8 in name and value, no
 * control characters, at most CATALOG_QUERY_VALUE_MAX bytes, not
 * starting with '$', and the single ones given once.
 */
static bool query_check(const struct em_request *req, struct em_error *err)
{
	for (size_t i = 0; i < req->query.n; i++) {
		const struct em_kv *kv = &req->query.items[i];
		const char *k = kv->key;
		size_t vlen = strlen(kv->value);

		if (!bson_utf8_validate(k, strlen(k), false) ||
		    !bson_utf8_validate(kv->value, vlen, false)) {
			em_error_set(err, EM_ERR_INVALID, bson_utf8_validate(k, strlen(k), false) ? k : "query",
				     "query parameters must be UTF-8");
			return false;
		}
		if (strncmp(k, "option.", 7) == 0) {
			if (!catalog_option_name_valid(k + 7)) {
				em_error_set(err, EM_ERR_INVALID, k,
					     "an option filter is option.<name>, name 1..20 of a-z and _");
				return false;
			}
		} else if (!name_in(single_params, k) && !name_in(multi_params, k)) {
			em_error_set(err, EM_ERR_INVALID, k, "unknown query parameter %.60s", k);
			return false;
		} else if (name_in(single_params, k)) {
			for (size_t j = 0; j < i; j++)
				if (strcmp(req->query.items[j].key, k) == 0) {
					em_error_set(err, EM_ERR_INVALID, k, "%.60s may be given only once", k);
					return false;
				}
		}
		if (vlen > CATALOG_QUERY_VALUE_MAX || kv->value[0] == '$') {
			em_error_set(err, EM_ERR_INVALID, k,
				     "%.60s must be a plain value of at most %d bytes", k,
				     CATALOG_QUERY_VALUE_MAX);
			return false;
		}
		for (const unsigned char *c = (const unsigned char *)kv->value; *c; c++)
			if (*c < 0x20 || *c == 0x7f) {
				em_error_set(err, EM_ERR_INVALID, k, "%.60s may not hold control characters",
					     k);
				return false;
			}
	}
	return true;
}

/*
 * Adds every value of parameter key (repeated, and comma-separated
 * within one) to v[*n]: each 1..max bytes (spaces around a comma
 * dropped), at most cap in all.
 */
static bool values_collect(struct em_request *req, const char *key, size_t max, const char **v,
			   size_t cap, size_t *n, struct em_error *err)
{
	for (size_t i = 0; i < req->query.n; i++) {
		const char *p;

		if (strcmp(req->query.items[i].key, key) != 0)
			continue;
		p = req->query.items[i].value;
		for (;;) {
			size_t len = strcspn(p, ","), lead = strspn(p, " ");
			size_t vlen = len > lead ? len - lead : 0;
			char *copy;

			while (vlen && p[lead + vlen - 1] == ' ')
				vlen--;
			if (vlen < 1 || vlen > max) {
				em_error_set(err, EM_ERR_INVALID, key,
					     "each %s value must be 1..%zu bytes", key, max);
				return false;
			}
			if (*n == cap) {
				em_error_set(err, EM_ERR_INVALID, key, "at most %zu %s values", cap, key);
				return false;
			}
			copy = em_request_alloc(req, vlen + 1);
			memcpy(copy, p + lead, vlen);
			v[(*n)++] = copy;
			if (!p[len])
				break;
			p += len + 1;
		}
	}
	return true;
}

/* values_collect into a filter's values (at most CATALOG_FILTER_VALUES_MAX). */
static bool values_param(struct em_request *req, const char *key, size_t max,
			 struct catalog_values *vals, struct em_error *err)
{
	return values_collect(req, key, max, vals->v, CATALOG_FILTER_VALUES_MAX, &vals->n, err);
}

/* The option filters: size, color and option.<name> (size and option.size are one). */
static bool option_params(struct em_request *req, struct catalog_filter *f, struct em_error *err)
{
	for (size_t i = 0; i < req->query.n; i++) {
		const char *k = req->query.items[i].key;
		const char *name = strncmp(k, "option.", 7) == 0 ? k + 7
				   : (strcmp(k, "size") == 0 || strcmp(k, "color") == 0) ? k : NULL;
		struct catalog_option_filter *o;

		if (!name || catalog_filter_option(f, name))
			continue;
		if (f->noptions == CATALOG_FILTER_OPTIONS_MAX) {
			em_error_set(err, EM_ERR_INVALID, k, "at most %d option filters",
				     CATALOG_FILTER_OPTIONS_MAX);
			return false;
		}
		o = &f->options[f->noptions++];
		snprintf(o->name, sizeof(o->name), "%s", name);
		/* both spellings of the same option add to one list */
		{
			char other[32];

			snprintf(other, sizeof(other), "option.%s", name);
			if (!values_param(req, name, CATALOG_VALUE_MAX, &o->values, err) ||
			    !values_param(req, other, CATALOG_VALUE_MAX, &o->values, err))
				return false;
			/* "option.material" alone: values_param(req, "material") found none */
		}
	}
	return true;
}

/* ids=: up to CATALOG_IDS_MAX product ids; none of sort, limit, cursor. */
static bool ids_param(struct em_request *req, struct catalog_filter *f, struct em_error *err)
{
	const char *v[CATALOG_IDS_MAX];
	size_t n = 0;

	if (!values_collect(req, "ids", 24, v, CATALOG_IDS_MAX, &n, err))
		return false;
	if (!n)
		return true;
	if (em_request_query(req, "sort") || em_request_query(req, "limit") ||
	    em_request_query(req, "cursor")) {
		em_error_set(err, EM_ERR_INVALID, "ids",
			     "ids returns its products in the order given: no sort, limit or cursor");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!em_oid_parse(v[i], &f->ids[f->nids++])) {
			em_error_set(err, EM_ERR_INVALID, "ids", "each id is 24 hex digits");
			return false;
		}
	return true;
}

/* q (surrounding spaces dropped; empty: no search) and its match mode. */
static bool search_params(struct em_request *req, struct catalog_filter *f, struct em_error *err)
{
	const char *q = em_request_query(req, "q"), *m = em_request_query(req, "match");
	size_t lead, len;
	char *copy;

	f->match = CATALOG_MATCH_ALL;
	if (m && strcmp(m, "all") != 0) {
		if (strcmp(m, "any") == 0)
			f->match = CATALOG_MATCH_ANY;
		else if (strcmp(m, "phrase") == 0)
			f->match = CATALOG_MATCH_PHRASE;
		else {
			em_error_set(err, EM_ERR_INVALID, "match", "match must be all, any or phrase");
			return false;
		}
	}
	if (!q)
		return true;
	lead = strspn(q, " \t");
	len = strlen(q + lead);
	while (len && (q[lead + len - 1] == ' ' || q[lead + len - 1] == '\t'))
		len--;
	if (len > CATALOG_Q_MAX) {
		em_error_set(err, EM_ERR_INVALID, "q", "q must be at most %d bytes", CATALOG_Q_MAX);
		return false;
	}
	if (!len || strspn(q + lead, "\" \t") >= len)
		return true; /* nothing to look for: no search */
	copy = em_request_alloc(req, len + 1);
	memcpy(copy, q + lead, len);
	f->q = copy;
	return true;
}

/* The filters of the list and the facets, typed and bounded. */
static bool filter_params(struct em_request *req, struct catalog_filter *f, struct em_error *err)
{
	memset(f, 0, sizeof(*f));
	if (!query_check(req, err) ||
	    !values_param(req, "category", CATALOG_SLUG_MAX, &f->categories, err) ||
	    !values_param(req, "brand", CATALOG_BRAND_MAX, &f->brands, err) ||
	    !option_params(req, f, err) || !ids_param(req, f, err) || !search_params(req, f, err) ||
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

/* GET /api/v1/products */
static bool catalog_product_list(struct em_request *req, struct em_error *err)
{
	struct catalog_public_view view;
	struct catalog_filter f;
	struct catalog_page page;
	const char *cursor = NULL;
	int limit = CATALOG_LIMIT_DEFAULT;
	char sort = CATALOG_SORT_NEWEST;
	bool ok;

	if (!filter_params(req, &f, err))
		return false;
	if (f.nids) {
		if (!catalog_product_by_ids(&req->app->store, &f, &page, err))
			return false;
	} else if (!em_page_params(req, CATALOG_LIMIT_DEFAULT, &limit, &cursor, err) ||
		   !catalog_sort_parse(em_request_query(req, "sort"), f.q != NULL, &sort, err) ||
		   !catalog_product_search(&req->app->store, &f, sort, limit, cursor, &page, err)) {
		return false;
	}
	if (!catalog_public_view_init(req, false, &view, err)) {
		catalog_page_release(&page);
		return false;
	}
	em_response_header(req, "Cache-Control", "public, max-age=5");
	ok = catalog_page_respond_public(req, &page, &view);
	catalog_public_view_release(&view);
	return ok;
}

/*
 * GET /api/v1/products/facets: disjunctive counts of the products
 * matching the same filters as the list (catalog_product_facets).
 */
static bool catalog_product_facets_get(struct em_request *req, struct em_error *err)
{
	static const char *const refused[] = { "sort", "cursor", "limit", "ids", NULL };
	struct catalog_filter f;
	json_object *body = NULL;

	for (size_t i = 0; refused[i]; i++)
		if (em_request_query(req, refused[i])) {
			em_error_set(err, EM_ERR_INVALID, refused[i], "facets take only the filters");
			return false;
		}
	if (!filter_params(req, &f, err) ||
	    !catalog_product_facets(&req->app->store, &f, &body, err))
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
static void public_etag(const bson_t *doc, const char *body, size_t len, char *out, size_t size)
{
	uint64_t h = em_digest64(body, len);
	bson_iter_t it;
	char hex[25] = "";

	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_to_string(bson_iter_oid(&it), hex);
	snprintf(out, size, "\"%s-%" PRId64 "-%016" PRIx64 "\"", hex,
		 bson_iter_init_find(&it, doc, "version") ? em_bson_iter_int64(&it) : 0, h);
}

/* GET /api/v1/products/{id}: by _id (24 hex) or by slug. */
static bool catalog_product_get(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { NULL };
	struct catalog_public_view view = { 0 };
	struct em_jsonbuf body = EM_JSONBUF_INIT;
	bson_t *doc = NULL;
	char etag[96], *bytes;
	size_t len;
	bool ok = false;

	if (!em_request_query_check(req, allowed, CATALOG_QUERY_VALUE_MAX, err) ||
	    !catalog_product_find_visible(&req->app->store, em_request_path_param(req, "id"),
					  &doc, err))
		goto done;
	if (!catalog_public_view_init(req, true, &view, err))
		goto done;
	/* straight to bytes: the same as catalog_product_public_render's */
	catalog_product_public_write(&body, doc, &view);
	bytes = em_jsonbuf_take(&body, &len);
	public_etag(doc, bytes, len, etag, sizeof(etag));
	em_response_header(req, "ETag", etag);
	em_response_header(req, "Cache-Control", "public, max-age=5");
	if (etag_matches(em_request_header(req, "If-None-Match"), etag)) {
		free(bytes);
		em_response_empty(req, 304);
	} else {
		em_response_json_bytes(req, 200, bytes, len); /* the response takes it */
	}
	ok = true;
done:
	catalog_public_view_release(&view);
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
