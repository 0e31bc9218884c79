/*
 * admin_product_routes.c - staff product management over HTTP under
 * /api/v1/admin/products: create, list (drafts and deleted too), read,
 * PATCH with If-Match, soft delete and restore, version history and
 * restoring a version. The rules and transactions are in products.c and
 * versions.c; staff see exact stock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/json.h"
#include "http/page.h"

static void respond_product(struct em_request *req, const bson_t *doc, int status)
{
	char etag[96];
	json_object *o = catalog_product_render(doc, true, 0);

	catalog_product_etag(doc, etag, sizeof(etag));
	em_response_header(req, "ETag", etag);
	if (o)
		em_response_json(req, status, o);
	else
		em_response_problem(req, 500, "cannot render the product", NULL);
}

static bool product_id_param(struct em_request *req, bson_oid_t *id, struct em_error *err)
{
	if (!em_oid_parse(em_request_path_param(req, "id"), id)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		return false;
	}
	return true;
}

/* Responds with the changed product (when ok) and frees it; returns ok. */
static bool respond_change(struct em_request *req, bool ok, bson_t *doc)
{
	if (ok && doc)
		respond_product(req, doc, 200);
	if (doc)
		bson_destroy(doc);
	return ok;
}

/* POST /api/v1/admin/products */
static bool catalog_admin_product_create(struct em_request *req, struct em_error *err)
{
	bson_oid_t actor_buf;
	bson_t *doc = NULL;
	bson_iter_t it;
	char loc[96], hex[25];

	if (!catalog_product_create(&req->app->store, req->app->cfg.currency, req->json,
				    catalog_actor(req, &actor_buf), &doc, err))
		return false;
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_to_string(bson_iter_oid(&it), hex);
		snprintf(loc, sizeof(loc), "/api/v1/admin/products/%s", hex);
		em_response_header(req, "Location", loc);
	}
	respond_product(req, doc, 201);
	bson_destroy(doc);
	return true;
}

/* GET /api/v1/admin/products/{id}: drafts and deleted products too. */
static bool catalog_admin_product_get(struct em_request *req, struct em_error *err)
{
	bson_oid_t id;
	bson_t *doc = NULL;

	if (!product_id_param(req, &id, err) ||
	    !catalog_product_find(&req->app->store, &id, &doc, err))
		return false;
	respond_product(req, doc, 200);
	bson_destroy(doc);
	return true;
}

/*
 * Reads If-Match into c: the ETag from a GET ("<id>-<version>-<rev>") or
 * the bare version number, quoted or not. Absent: nothing is set and,
 * when required, EM_ERR_PRECONDITION_REQUIRED (428).
 */
static bool if_match_parse(struct em_request *req, bool required, struct catalog_change *c,
			   struct em_error *err)
{
	const char *h = em_request_header(req, "If-Match");
	char buf[96], *p, *dash, *end = NULL;
	size_t n;

	if (!h || !*h) {
		if (!required)
			return true;
		em_error_set(err, EM_ERR_PRECONDITION_REQUIRED, "If-Match",
			     "send If-Match with the product's ETag or version");
		return false;
	}
	snprintf(buf, sizeof(buf), "%s", h);
	p = buf;
	n = strlen(p);
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p[n - 1] = '\0';
		p++;
	}
	dash = strchr(p, '-');
	if (dash) {
		char *dash2 = strchr(dash + 1, '-');

		if (dash2)
			*dash2 = '\0';
		p = dash + 1;
	}
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18) {
		em_error_set(err, EM_ERR_INVALID, "If-Match",
			     "If-Match must be the product's ETag or version");
		return false;
	}
	c->if_match = strtoll(p, &end, 10);
	c->has_if_match = true;
	return true;
}

/* The change's id, If-Match, actor and currency from the request. */
static bool change_params(struct em_request *req, bool if_match_required, struct catalog_change *c,
			  bson_oid_t *actor_buf, struct em_error *err)
{
	memset(c, 0, sizeof(*c));
	c->actor = catalog_actor(req, actor_buf);
	c->currency = req->app->cfg.currency;
	return product_id_param(req, &c->id, err) && if_match_parse(req, if_match_required, c, err);
}

/* PATCH /api/v1/admin/products/{id}: If-Match required. */
static bool catalog_admin_product_update(struct em_request *req, struct em_error *err)
{
	struct catalog_change c;
	bson_oid_t actor;
	bson_t *doc = NULL;
	bool ok;

	/* the body's fields are checked (all at once) against the stored
	 * product, in catalog_product_patch_build */
	if (!change_params(req, true, &c, &actor, err))
		return false;
	if (!json_object_is_type(req->json, json_type_object) ||
	    json_object_object_length(req->json) == 0) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the body must be a non-empty JSON object");
		return false;
	}
	ok = catalog_product_update(&req->app->store, &c, req->json, &doc, err);
	return respond_change(req, ok, doc);
}

/* DELETE /api/v1/admin/products/{id}: soft delete (restorable). */
static bool catalog_admin_product_delete(struct em_request *req, struct em_error *err)
{
	struct catalog_change c;
	bson_oid_t actor;
	bson_t *doc = NULL;
	bool ok;

	if (!change_params(req, false, &c, &actor, err))
		return false;
	ok = catalog_product_delete(&req->app->store, &c, &doc, err);
	return respond_change(req, ok, doc);
}

/* POST /api/v1/admin/products/{id}/restore: undo a soft delete. */
static bool catalog_admin_product_restore(struct em_request *req, struct em_error *err)
{
	struct catalog_change c;
	bson_oid_t actor;
	bson_t *doc = NULL;
	bool ok;

	if (!change_params(req, false, &c, &actor, err))
		return false;
	ok = catalog_product_restore(&req->app->store, &c, &doc, err);
	return respond_change(req, ok, doc);
}

/* POST /api/v1/admin/products/{id}/versions/{n}/restore */
static bool catalog_admin_version_restore(struct em_request *req, struct em_error *err)
{
	struct catalog_change c;
	bson_oid_t actor;
	bson_t *doc = NULL;
	bool ok;
	const char *n = em_request_path_param(req, "n");
	char *end = NULL;

	if (!change_params(req, false, &c, &actor, err))
		return false;
	if (!n || !*n || strlen(n) > 18 || strspn(n, "0123456789") != strlen(n)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such version");
		return false;
	}
	ok = catalog_product_version_restore(&req->app->store, &c, strtoll(n, &end, 10), &doc,
					     err);
	return respond_change(req, ok, doc);
}

static json_object *list_product_item(const bson_t *doc, void *ctx)
{
	(void)ctx;
	return catalog_product_render(doc, true, 0);
}

/*
 * A version as the API shows it: "id" for _id, and the snapshot rendered
 * like a staff product (not the raw stored document, whose internal
 * fields - _id, category_id, stock_rev - are not the API's).
 */
static json_object *list_version_item(const bson_t *doc, void *ctx)
{
	static const char *const keys[] = { "product_id", "version", "action", "changed_by",
					    "changed_at" };
	json_object *all = em_bson_to_json(doc), *o = json_object_new_object(), *v;
	bson_iter_t it;

	(void)ctx;
	if (!all || !o) {
		json_object_put(all);
		json_object_put(o);
		return NULL;
	}
	if (json_object_object_get_ex(all, "_id", &v))
		json_object_object_add(o, "id", json_object_get(v));
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (json_object_object_get_ex(all, keys[i], &v))
			json_object_object_add(o, keys[i], json_object_get(v));
	if (bson_iter_init_find(&it, doc, "snapshot") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t snap;

		bson_iter_document(&it, &len, &data);
		if (bson_init_static(&snap, data, len))
			json_object_object_add(o, "snapshot", catalog_product_render(&snap, true, 0));
	}
	json_object_put(all);
	return o;
}

/* q: trimmed, UTF-8, no control characters, at most CATALOG_Q_MAX
 * bytes; empty (or only quotes and blanks): no search. */
static void admin_q_param(struct em_request *req, const char **out, struct em_error *err)
{
	const char *q = em_request_query(req, "q");
	size_t lead, len;
	char *copy;

	*out = NULL;
	if (!q)
		return;
	if (!bson_utf8_validate(q, strlen(q), false)) {
		em_error_setc(err, EM_ERR_INVALID, "q", EM_CODE_INVALID_FORMAT, "q must be UTF-8");
		return;
	}
	for (const unsigned char *c = (const unsigned char *)q; *c; c++)
		if (*c < 0x20 || *c == 0x7f) {
			em_error_setc(err, EM_ERR_INVALID, "q", EM_CODE_INVALID_FORMAT,
				      "q may not hold control characters");
			return;
		}
	lead = strspn(q, " \t");
	len = strlen(q + lead);
	while (len && q[lead + len - 1] == ' ')
		len--;
	if (len > CATALOG_Q_MAX) {
		em_error_setc(err, EM_ERR_INVALID, "q", EM_CODE_TOO_LONG, "q must be at most %d bytes",
			      CATALOG_Q_MAX);
		return;
	}
	if (!len || strspn(q + lead, "\" ") >= len)
		return;
	copy = em_request_alloc(req, len + 1);
	memcpy(copy, q + lead, len);
	copy[len] = '\0';
	*out = copy;
}

/*
 * GET /api/v1/admin/products?q=&sku=&category=&status=&deleted=&limit=&cursor=
 * Every parameter is checked and every fault reported. status=deleted
 * lists the soft-deleted products (any status); deleted=true|all says
 * the same for the other statuses.
 */
static bool catalog_admin_product_list(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { "deleted", "status", "q", "sku", "category",
					       "limit", "cursor", NULL };
	const char *deleted = em_request_query(req, "deleted");
	const char *status = em_request_query(req, "status");
	const char *sku = em_request_query(req, "sku"), *category = em_request_query(req, "category");
	const char *cursor = NULL;
	struct catalog_admin_query aq = { .deleted = CATALOG_LIVE };
	struct catalog_page page;
	bson_oid_t cat_id;
	int limit = CATALOG_LIMIT_DEFAULT;

	if (!em_request_query_check(req, allowed, CATALOG_QUERY_VALUE_MAX, err))
		return false;
	em_error_collect(err);
	if (deleted && strcmp(deleted, "true") == 0) {
		aq.deleted = CATALOG_DELETED;
	} else if (deleted && strcmp(deleted, "all") == 0) {
		aq.deleted = CATALOG_ALL;
	} else if (deleted && strcmp(deleted, "false") != 0) {
		em_error_setc(err, EM_ERR_INVALID, "deleted", EM_CODE_INVALID_VALUE,
			      "deleted must be false, true or all");
	}
	if (status && strcmp(status, "deleted") == 0) {
		if (deleted && strcmp(deleted, "false") == 0)
			em_error_setc(err, EM_ERR_INVALID, "deleted", EM_CODE_INVALID_VALUE,
				      "status=deleted lists deleted products: leave deleted out");
		aq.deleted = CATALOG_DELETED;
	} else if (status && strcmp(status, "draft") != 0 && strcmp(status, "active") != 0 &&
		   strcmp(status, "archived") != 0) {
		em_error_setc(err, EM_ERR_INVALID, "status", EM_CODE_INVALID_VALUE,
			      "status must be draft, active, archived or deleted");
	} else {
		aq.status = status;
	}
	admin_q_param(req, &aq.q, err);
	if (sku && !catalog_sku_valid(sku))
		em_error_setc(err, EM_ERR_INVALID, "sku", EM_CODE_INVALID_FORMAT,
			      "sku must be 1..64 characters of A-Z a-z 0-9 . _ -");
	else
		aq.sku = sku;
	if (category && !em_oid_parse(category, &cat_id) && !catalog_slug_valid(category))
		em_error_setc(err, EM_ERR_INVALID, "category", EM_CODE_INVALID_FORMAT,
			      "category must be a category id (24 hex digits) or slug");
	else
		aq.category = category;
	em_page_params(req, CATALOG_LIMIT_DEFAULT, &limit, &cursor, err);
	if (!em_error_collect_end(err) ||
	    !catalog_product_admin_list(&req->app->store, &aq, limit, cursor, &page, err))
		return false;
	return catalog_page_respond(req, &page, list_product_item, NULL, err);
}

/* GET /api/v1/admin/products/{id}/versions: newest first. */
static bool catalog_admin_version_list(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { "limit", "cursor", NULL };
	const char *cursor = NULL;
	struct catalog_page page;
	bson_oid_t id;
	int limit;

	if (!em_request_query_check(req, allowed, CATALOG_QUERY_VALUE_MAX, err) ||
	    !product_id_param(req, &id, err) ||
	    !em_page_params(req, CATALOG_LIMIT_DEFAULT, &limit, &cursor, err) ||
	    !catalog_product_versions(&req->app->store, &id, limit, cursor, &page, err))
		return false;
	return catalog_page_respond(req, &page, list_version_item, NULL, err);
}

static const struct em_route catalog_admin_product_table[] = {
	{ "GET", "/api/v1/admin/products", catalog_admin_product_list, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/admin/products", catalog_admin_product_create, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/admin/products/{id}", catalog_admin_product_get, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
	{ "PATCH", "/api/v1/admin/products/{id}", catalog_admin_product_update, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
	{ "DELETE", "/api/v1/admin/products/{id}", catalog_admin_product_delete, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/admin/products/{id}/restore", catalog_admin_product_restore,
	  EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/products/{id}/versions", catalog_admin_version_list,
	  EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/admin/products/{id}/versions/{n}/restore",
	  catalog_admin_version_restore, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
};

const struct em_route_table catalog_admin_product_routes =
	EM_ROUTE_TABLE("admin-products", catalog_admin_product_table);
