/*
 * coupon_routes.c - /api/v1/admin/coupons: staff create, list, read,
 * change and delete coupons. Codes are unique case-insensitively (a
 * unique index on code_key). A change states the version it was based on
 * with If-Match ("<version>") when the client has one: a stale one is a
 * 412, and the write itself is conditional on the version read, so two
 * concurrent edits never silently overwrite each other.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cart/cart_internal.h"
#include "core/json.h"
#include "http/page.h"
#include "store/page.h"

#define CART_COUPON_PAGE_DEFAULT 20

static json_object *cart_coupon_item(const bson_t *doc, void *ctx)
{
	(void)ctx;
	return cart_coupon_json(doc);
}

static bool cart_coupon_id_param(struct em_request *req, bson_oid_t *id, struct em_error *err)
{
	const char *s = em_request_path_param(req, "id");

	if (!s || strlen(s) != 24 || !bson_oid_is_valid(s, 24)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such coupon");
		return false;
	}
	bson_oid_init_from_string(id, s);
	return true;
}

/* GET /api/v1/admin/coupons?limit=&cursor= (oldest first) */
static bool cart_coupons_list(struct em_request *req, struct em_error *err)
{
	static const char *const params[] = { "limit", "cursor", NULL };
	bson_t filter = BSON_INITIALIZER;
	bool ok;

	ok = em_request_query_check(req, params, CART_QUERY_VALUE_MAX, err) &&
	     em_page_list_by_id(req, &req->app->store, "coupons", &filter, NULL, false,
				CART_COUPON_PAGE_DEFAULT, cart_coupon_item, NULL, "list coupons", err);
	bson_destroy(&filter);
	return ok;
}

static bool cart_coupon_load(struct em_request *req, const bson_oid_t *id, bson_t *out,
			     struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&req->app->store, "coupons");
	bson_t filter = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool found = false, ok = false;

	BSON_APPEND_OID(&filter, "_id", id);
	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		found = true;
	}
	if (mongoc_cursor_error(cur, &berr))
		store_error_set(err, &berr, "read coupon");
	else if (!found)
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such coupon");
	else
		ok = true;
	if (!ok && found)
		bson_destroy(out);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	return ok;
}

static int64_t cart_doc_version(const bson_t *doc)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_INT64(&it) ?
		       bson_iter_int64(&it) : 0;
}

static void cart_coupon_respond(struct em_request *req, int status, const bson_t *doc,
				struct em_error *err)
{
	json_object *o = cart_coupon_json(doc);
	char etag[32];

	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		return;
	}
	snprintf(etag, sizeof etag, "\"%" PRId64 "\"", cart_doc_version(doc));
	em_response_header(req, "ETag", etag);
	em_response_json(req, status, o);
}

/* A whole coupon document must pass the cross-field rules. */
static bool cart_coupon_doc_check(const bson_t *doc, struct em_error *err)
{
	struct cart_coupon *c = calloc(1, sizeof *c);
	bool ok;

	if (!c) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "out of memory");
		return false;
	}
	ok = cart_coupon_from_bson(doc, c, err) && cart_coupon_validate(c, err);
	if (!ok && err->kind == EM_ERR_INTERNAL) {
		em_error_set(err, EM_ERR_INVALID, "type", "code and type are required");
	}
	free(c);
	return ok;
}

/* POST /api/v1/admin/coupons */
static bool cart_coupons_create(struct em_request *req, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t set = BSON_INITIALIZER, doc = BSON_INITIALIZER;
	bson_error_t berr;
	bson_iter_t it;
	bson_oid_t id;
	int64_t now = cart_now_ms();
	bool ok = false;

	if (!cart_coupon_build(req->json, true, &set, err))
		goto done;
	bson_oid_init(&id, NULL);
	BSON_APPEND_OID(&doc, "_id", &id);
	if (bson_iter_init(&it, &set))
		while (bson_iter_next(&it))
			if (strcmp(bson_iter_key(&it), "$unset") != 0) /* null on create: absent */
				bson_append_iter(&doc, NULL, 0, &it);
	if (!bson_has_field(&set, "min_subtotal"))
		BSON_APPEND_INT64(&doc, "min_subtotal", 0);
	if (!bson_has_field(&set, "first_order_only"))
		BSON_APPEND_BOOL(&doc, "first_order_only", false);
	if (!bson_has_field(&set, "active"))
		BSON_APPEND_BOOL(&doc, "active", true);
	BSON_APPEND_INT64(&doc, "used_count", 0);
	BSON_APPEND_INT64(&doc, "version", 1);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	if (!cart_coupon_doc_check(&doc, err))
		goto done;
	coll = store_collection(&req->app->store, "coupons");
	if (!mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "create coupon");
		if (err->kind == EM_ERR_CONFLICT)
			em_error_setc(err, EM_ERR_CONFLICT, "code", EM_CODE_NOT_UNIQUE,
				      "a coupon with this code exists");
		goto done;
	}
	{
		char hex[25], loc[64];

		bson_oid_to_string(&id, hex);
		snprintf(loc, sizeof loc, "/api/v1/admin/coupons/%s", hex);
		em_response_header(req, "Location", loc);
	}
	cart_coupon_respond(req, 201, &doc, err);
	ok = err->kind == EM_ERR_NONE;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&set);
	bson_destroy(&doc);
	return ok;
}

/* GET /api/v1/admin/coupons/{id} */
static bool cart_coupons_get(struct em_request *req, struct em_error *err)
{
	bson_t doc;
	bson_oid_t id;

	if (!cart_coupon_id_param(req, &id, err) || !cart_coupon_load(req, &id, &doc, err))
		return false;
	cart_coupon_respond(req, 200, &doc, err);
	bson_destroy(&doc);
	return err->kind == EM_ERR_NONE;
}

/* PATCH /api/v1/admin/coupons/{id} (If-Match: "<version>" optional) */
static bool cart_coupons_patch(struct em_request *req, struct em_error *err)
{
	const char *if_match = em_request_header(req, "If-Match");
	mongoc_collection_t *coll = NULL;
	bson_t set = BSON_INITIALIZER, old, merged = BSON_INITIALIZER, filter = BSON_INITIALIZER,
	       unset, reply;
	bool have_old = false, have_unset = false, ok = false;
	bson_error_t berr;
	bson_iter_t it;
	bson_oid_t id;
	int64_t version;
	char etag[32];

	if (!cart_coupon_id_param(req, &id, err) || !cart_coupon_build(req->json, false, &set, err) ||
	    !cart_coupon_load(req, &id, &old, err))
		goto done;
	have_old = true;
	version = cart_doc_version(&old);
	snprintf(etag, sizeof etag, "\"%" PRId64 "\"", version);
	if (if_match && strcmp(if_match, etag) != 0) {
		em_error_set(err, EM_ERR_PRECONDITION, NULL, "the coupon changed since it was read");
		goto done;
	}
	if (bson_iter_init_find(&it, &set, "$unset") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;

		bson_iter_document(&it, &len, &data);
		have_unset = bson_init_static(&unset, data, len);
	}
	/* the stored fields the body leaves alone, then the body's */
	bson_iter_init(&it, &old);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (bson_has_field(&set, k) || (have_unset && bson_has_field(&unset, k)) ||
		    strcmp(k, "version") == 0 || strcmp(k, "updated_at") == 0)
			continue;
		bson_append_iter(&merged, NULL, 0, &it);
	}
	bson_iter_init(&it, &set);
	while (bson_iter_next(&it))
		if (strcmp(bson_iter_key(&it), "$unset") != 0)
			bson_append_iter(&merged, NULL, 0, &it);
	BSON_APPEND_INT64(&merged, "version", version + 1);
	BSON_APPEND_DATE_TIME(&merged, "updated_at", cart_now_ms());
	if (!cart_coupon_doc_check(&merged, err))
		goto done;
	BSON_APPEND_OID(&filter, "_id", &id);
	BSON_APPEND_INT64(&filter, "version", version);
	coll = store_collection(&req->app->store, "coupons");
	if (!mongoc_collection_replace_one(coll, &filter, &merged, NULL, &reply, &berr)) {
		bson_destroy(&reply);
		store_error_set(err, &berr, "update coupon");
		if (err->kind == EM_ERR_CONFLICT)
			em_error_setc(err, EM_ERR_CONFLICT, "code", EM_CODE_NOT_UNIQUE,
				      "a coupon with this code exists");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		bson_destroy(&reply);
		em_error_set(err, EM_ERR_PRECONDITION, NULL, "the coupon changed meanwhile; read it again");
		goto done;
	}
	bson_destroy(&reply);
	cart_coupon_respond(req, 200, &merged, err);
	ok = err->kind == EM_ERR_NONE;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	if (have_old)
		bson_destroy(&old);
	bson_destroy(&set);
	bson_destroy(&merged);
	bson_destroy(&filter);
	return ok;
}

/* DELETE /api/v1/admin/coupons/{id} */
static bool cart_coupons_delete(struct em_request *req, struct em_error *err)
{
	mongoc_collection_t *coll;
	bson_t filter = BSON_INITIALIZER, reply;
	bson_error_t berr;
	bson_iter_t it;
	bson_oid_t id;
	bool ok;

	if (!cart_coupon_id_param(req, &id, err))
		return false;
	BSON_APPEND_OID(&filter, "_id", &id);
	coll = store_collection(&req->app->store, "coupons");
	ok = mongoc_collection_delete_one(coll, &filter, NULL, &reply, &berr);
	if (!ok)
		store_error_set(err, &berr, "delete coupon");
	else if (!bson_iter_init_find(&it, &reply, "deletedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such coupon");
		ok = false;
	}
	bson_destroy(&reply);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	if (ok)
		em_response_empty(req, 204);
	return ok;
}

static const struct em_route cart_coupon_admin_table[] = {
	{ "GET", "/api/v1/admin/coupons", cart_coupons_list, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/admin/coupons", cart_coupons_create, EM_ROLE_STAFF, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/admin/coupons/{id}", cart_coupons_get, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "PATCH", "/api/v1/admin/coupons/{id}", cart_coupons_patch, EM_ROLE_STAFF, EM_BODY_JSON,
	  NULL },
	{ "DELETE", "/api/v1/admin/coupons/{id}", cart_coupons_delete, EM_ROLE_STAFF, EM_BODY_NONE,
	  NULL },
};

const struct em_route_table cart_coupon_admin_routes =
	EM_ROUTE_TABLE("coupons", cart_coupon_admin_table);
