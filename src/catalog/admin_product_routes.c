/*
 * admin_product_routes.c - staff product management under
 * /api/v1/admin/products: create, list (drafts and deleted too), read,
 * PATCH with If-Match, soft delete and restore, version history and
 * restoring a version.
 *
 * Every change of an existing product runs in one transaction that
 * (1) reads the product, (2) checks If-Match against its version,
 * (3) stores the whole previous document in product_versions with who
 * and when, and (4) writes the new content with version + 1. The
 * callback keeps no state between attempts but ctx->result, which it
 * resets first, so store_txn_run may rerun it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "http/page.h"
#include "core/alloc.h"
#include "core/json.h"

enum change_action { CH_PATCH, CH_DELETE, CH_RESTORE, CH_VERSION };

static const char *const action_names[] = { "update", "delete", "restore", "restore_version" };

struct change_ctx {
	struct em_request *req;
	bson_oid_t id;
	enum change_action action;
	bool has_if_match;
	int64_t if_match;
	json_object *patch;
	int64_t version_n;
	bson_t *result; /* the product after the change, for the response */
};

/* The caller as an ObjectId, for created_by/changed_by. */
static void append_actor(struct em_request *req, bson_t *doc, const char *key)
{
	bson_oid_t uid;

	if (em_oid_parse(req->user_id, &uid))
		BSON_APPEND_OID(doc, key, &uid);
	else
		BSON_APPEND_NULL(doc, key);
}

static bool product_write_error(const bson_error_t *berr, struct em_error *err)
{
	store_error_set(err, berr, "write product");
	if (err->kind == EM_ERR_CONFLICT) {
		bool sku = strstr(berr->message, "sku") != NULL;

		em_error_set(err, EM_ERR_CONFLICT, sku ? "sku" : "slug",
			     sku ? "a variant with this SKU exists in the shop"
				 : "a product with this slug exists");
	}
	return false;
}

/* Finds one document; *out is a copy (bson_destroy it) or NULL. */
static bool find_one(struct em_store *st, mongoc_client_session_t *session, const char *collection,
		     const bson_t *filter, bson_t **out, bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_t opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bool ok = false;

	*out = NULL;
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	BSON_APPEND_INT64(&opts, "limit", 1);
	cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc))
		*out = bson_copy(doc);
	if (mongoc_cursor_error(cur, berr)) {
		store_error_set(err, berr, "read");
		goto done;
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&opts);
	return ok;
}

static bool category_exists(struct em_store *st, mongoc_client_session_t *session,
			    const bson_t *content, bson_error_t *berr, struct em_error *err)
{
	bson_iter_t it;
	bson_t filter = BSON_INITIALIZER, *found = NULL;
	bool ok;

	if (!bson_iter_init_find(&it, content, "category_id") || !BSON_ITER_HOLDS_OID(&it)) {
		bson_destroy(&filter);
		return true;
	}
	BSON_APPEND_OID(&filter, "_id", bson_iter_oid(&it));
	ok = find_one(st, session, "categories", &filter, &found, berr, err);
	bson_destroy(&filter);
	if (ok && !found) {
		em_error_set(err, EM_ERR_INVALID, "category", "no such category");
		ok = false;
	}
	if (found)
		bson_destroy(found);
	return ok;
}

/*
 * The editable fields of a stored product as request JSON (the form
 * catalog_product_build takes). keep_stock = false drops variant stock,
 * for restoring an old version: stock is never restored.
 */
static json_object *editable_json(const bson_t *doc, bool keep_stock)
{
	static const char *const keys[] = { "title", "slug", "description", "brand", "attributes",
					    "status", "currency", "options", "variants", NULL };
	json_object *all = em_bson_to_json(doc), *out = json_object_new_object(), *v = NULL;

	if (!all || !out) {
		if (all)
			json_object_put(all);
		if (out)
			json_object_put(out);
		return NULL;
	}
	for (size_t i = 0; keys[i]; i++)
		if (json_object_object_get_ex(all, keys[i], &v))
			json_object_object_add(out, keys[i], json_object_get(v));
	if (json_object_object_get_ex(all, "category_id", &v))
		json_object_object_add(out, "category", json_object_get(v));
	if (json_object_object_get_ex(out, "variants", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *var = json_object_array_get_idx(v, i);

			json_object_object_del(var, "low_stock");
			json_object_object_del(var, "low_stock_alerts");
			if (!keep_stock)
				json_object_object_del(var, "stock");
		}
	json_object_put(all);
	return out;
}

static int64_t doc_int(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) ? em_bson_iter_int64(&it) : 0;
}

static bool doc_deleted(const bson_t *doc)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, "deleted_at") && BSON_ITER_HOLDS_DATE_TIME(&it);
}

static bool change_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct change_ctx *c = vctx;
	struct em_store *st = &c->req->app->store;
	bson_t filter = BSON_INITIALIZER, *old = NULL, *snap = NULL, content = BSON_INITIALIZER;
	bson_t version = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_t set, inc, reply;
	json_object *in = NULL;
	mongoc_collection_t *coll = NULL;
	int64_t now = em_now_ms(), cur_version;
	bool ok = false;
	bson_iter_t it;

	bson_init(&reply);
	if (c->result) {
		bson_destroy(c->result);
		c->result = NULL;
	}
	BSON_APPEND_OID(&filter, "_id", &c->id);
	if (!find_one(st, session, "products", &filter, &old, berr, err))
		goto done;
	if (!old) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		goto done;
	}
	cur_version = doc_int(old, "version");
	if (c->has_if_match && c->if_match != cur_version) {
		em_error_set(err, EM_ERR_PRECONDITION, "If-Match",
			     "the product changed since you read it (now version %" PRId64 ")",
			     cur_version);
		goto done;
	}
	switch (c->action) {
	case CH_PATCH: {
		in = editable_json(old, true);
		if (!in) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot copy the product");
			goto done;
		}
		{
			json_object_object_foreach(c->patch, pk, pv)
				json_object_object_add(in, pk, json_object_get(pv));
		}
		break;
	}
	case CH_VERSION: {
		bson_t vf = BSON_INITIALIZER;
		bson_t *vdoc = NULL;
		bson_t sdoc;
		const uint8_t *data;
		uint32_t len;

		BSON_APPEND_OID(&vf, "product_id", &c->id);
		BSON_APPEND_INT64(&vf, "version", c->version_n);
		ok = find_one(st, session, "product_versions", &vf, &vdoc, berr, err);
		bson_destroy(&vf);
		if (!ok)
			goto done;
		ok = false;
		if (!vdoc || !bson_iter_init_find(&it, vdoc, "snapshot") ||
		    !BSON_ITER_HOLDS_DOCUMENT(&it)) {
			if (vdoc)
				bson_destroy(vdoc);
			em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such version");
			goto done;
		}
		bson_iter_document(&it, &len, &data);
		if (bson_init_static(&sdoc, data, len))
			in = editable_json(&sdoc, false);
		bson_destroy(vdoc);
		if (!in) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot read the version");
			goto done;
		}
		break;
	}
	case CH_DELETE:
		if (doc_deleted(old)) {
			em_error_set(err, EM_ERR_CONFLICT, NULL, "the product is already deleted");
			goto done;
		}
		break;
	case CH_RESTORE:
		if (!doc_deleted(old)) {
			em_error_set(err, EM_ERR_CONFLICT, NULL, "the product is not deleted");
			goto done;
		}
		break;
	}
	if (in) {
		if (!catalog_product_build(in, c->req->app->cfg.currency, old, &content, err) ||
		    !category_exists(st, session, &content, berr, err))
			goto done;
	}

	/* the previous version, whole */
	BSON_APPEND_OID(&version, "product_id", &c->id);
	BSON_APPEND_INT64(&version, "version", cur_version);
	BSON_APPEND_UTF8(&version, "action", action_names[c->action]);
	BSON_APPEND_DOCUMENT(&version, "snapshot", old);
	append_actor(c->req, &version, "changed_by");
	BSON_APPEND_DATE_TIME(&version, "changed_at", now);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	coll = store_collection(st, "product_versions");
	if (!mongoc_collection_insert_one(coll, &version, &opts, NULL, berr)) {
		store_error_set(err, berr, "save version");
		goto done;
	}
	mongoc_collection_destroy(coll);

	BSON_APPEND_INT64(&filter, "version", cur_version);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	if (in && !bson_concat(&set, &content)) {
		bson_append_document_end(&update, &set);
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the update");
		coll = NULL;
		goto done;
	}
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	append_actor(c->req, &set, "updated_by");
	if (c->action == CH_DELETE) {
		BSON_APPEND_DATE_TIME(&set, "deleted_at", now);
		append_actor(c->req, &set, "deleted_by");
	} else if (c->action == CH_RESTORE) {
		BSON_APPEND_NULL(&set, "deleted_at");
		BSON_APPEND_NULL(&set, "deleted_by");
	}
	bson_append_document_end(&update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "version", 1);
	bson_append_document_end(&update, &inc);
	coll = store_collection(st, "products");
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, berr)) {
		product_write_error(berr, err);
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "matchedCount") && em_bson_iter_int64(&it) == 0) {
		em_error_set(err, EM_ERR_PRECONDITION, "If-Match", "the product changed meanwhile");
		goto done;
	}
	bson_destroy(&filter);
	bson_init(&filter);
	BSON_APPEND_OID(&filter, "_id", &c->id);
	if (!find_one(st, session, "products", &filter, &snap, berr, err))
		goto done;
	c->result = snap;
	snap = NULL;
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	if (in)
		json_object_put(in);
	if (old)
		bson_destroy(old);
	if (snap)
		bson_destroy(snap);
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&content);
	bson_destroy(&version);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

static void respond_product(struct em_request *req, const bson_t *doc, int status)
{
	char etag[96];
	json_object *o = catalog_product_render(doc, true);

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

static bool run_change(struct em_request *req, struct change_ctx *c, int status,
		       struct em_error *err)
{
	bool ok = store_txn_run(&req->app->store, change_txn, c, err);

	if (ok && c->result)
		respond_product(req, c->result, status);
	if (c->result)
		bson_destroy(c->result);
	return ok;
}

/* POST /api/v1/admin/products */
static bool catalog_admin_product_create(struct em_request *req, struct em_error *err)
{
	bson_t doc = BSON_INITIALIZER, content = BSON_INITIALIZER, empty;
	bson_oid_t id;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	int64_t now = em_now_ms();
	bool ok = false;

	if (!catalog_product_build(req->json, req->app->cfg.currency, NULL, &content, err) ||
	    !category_exists(&req->app->store, NULL, &content, &berr, err))
		goto done;
	bson_oid_init(&id, NULL);
	BSON_APPEND_OID(&doc, "_id", &id);
	if (!bson_concat(&doc, &content)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the product");
		goto done;
	}
	BSON_APPEND_ARRAY_BEGIN(&doc, "images", &empty);
	bson_append_array_end(&doc, &empty);
	BSON_APPEND_INT64(&doc, "version", 1);
	BSON_APPEND_INT64(&doc, "stock_rev", 0);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	append_actor(req, &doc, "created_by");
	append_actor(req, &doc, "updated_by");
	BSON_APPEND_NULL(&doc, "deleted_at");
	coll = store_collection(&req->app->store, "products");
	if (!mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
		product_write_error(&berr, err);
		goto done;
	}
	{
		char loc[96], hex[25];

		bson_oid_to_string(&id, hex);
		snprintf(loc, sizeof(loc), "/api/v1/admin/products/%s", hex);
		em_response_header(req, "Location", loc);
	}
	respond_product(req, &doc, 201);
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	bson_destroy(&content);
	return ok;
}

/* GET /api/v1/admin/products/{id}: drafts and deleted products too. */
static bool catalog_admin_product_get(struct em_request *req, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, *doc = NULL;
	bson_oid_t id;
	bson_error_t berr;
	bool ok = false;

	if (!product_id_param(req, &id, err))
		goto done;
	BSON_APPEND_OID(&filter, "_id", &id);
	if (!find_one(&req->app->store, NULL, "products", &filter, &doc, &berr, err))
		goto done;
	if (!doc) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		goto done;
	}
	respond_product(req, doc, 200);
	ok = true;
done:
	if (doc)
		bson_destroy(doc);
	bson_destroy(&filter);
	return ok;
}

/*
 * Reads If-Match: the ETag from a GET ("<id>-<version>-<rev>") or the
 * bare version number, quoted or not. Missing: 428 (written here).
 */
static bool if_match_parse(struct em_request *req, int64_t *version, struct em_error *err)
{
	const char *h = em_request_header(req, "If-Match");
	char buf[96], *p, *dash, *end = NULL;
	size_t n;

	if (!h || !*h)
		return false;
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
	*version = strtoll(p, &end, 10);
	return true;
}

/* PATCH /api/v1/admin/products/{id}: If-Match required. */
static bool catalog_admin_product_update(struct em_request *req, struct em_error *err)
{
	struct change_ctx c = { 0 };
	static const char *const product_fields[] = {
		"title", "slug", "description", "brand", "category", "attributes", "status",
		"currency", "options", "variants", NULL,
	};

	c.req = req;
	c.action = CH_PATCH;
	if (!product_id_param(req, &c.id, err))
		return false;
	if (!em_request_header(req, "If-Match")) {
		em_response_problem(req, 428,
				    "send If-Match with the product's ETag or version", "If-Match");
		return true;
	}
	if (!if_match_parse(req, &c.if_match, err))
		return false;
	c.has_if_match = true;
	if (!em_json_check_fields(req->json, product_fields, err))
		return false;
	if (json_object_object_length(req->json) == 0) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the body must be a non-empty JSON object");
		return false;
	}
	c.patch = req->json;
	return run_change(req, &c, 200, err);
}

static bool optional_if_match(struct em_request *req, struct change_ctx *c, struct em_error *err)
{
	if (!em_request_header(req, "If-Match"))
		return true;
	if (!if_match_parse(req, &c->if_match, err))
		return false;
	c->has_if_match = true;
	return true;
}

/* DELETE /api/v1/admin/products/{id}: soft delete (restorable). */
static bool catalog_admin_product_delete(struct em_request *req, struct em_error *err)
{
	struct change_ctx c = { 0 };

	c.req = req;
	c.action = CH_DELETE;
	if (!product_id_param(req, &c.id, err) || !optional_if_match(req, &c, err))
		return false;
	return run_change(req, &c, 200, err);
}

/* POST /api/v1/admin/products/{id}/restore: undo a soft delete. */
static bool catalog_admin_product_restore(struct em_request *req, struct em_error *err)
{
	struct change_ctx c = { 0 };

	c.req = req;
	c.action = CH_RESTORE;
	if (!product_id_param(req, &c.id, err) || !optional_if_match(req, &c, err))
		return false;
	return run_change(req, &c, 200, err);
}

/* POST /api/v1/admin/products/{id}/versions/{n}/restore */
static bool catalog_admin_version_restore(struct em_request *req, struct em_error *err)
{
	struct change_ctx c = { 0 };
	const char *n = em_request_path_param(req, "n");
	char *end = NULL;

	c.req = req;
	c.action = CH_VERSION;
	if (!product_id_param(req, &c.id, err) || !optional_if_match(req, &c, err))
		return false;
	if (!n || !*n || strlen(n) > 18 || strspn(n, "0123456789") != strlen(n)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such version");
		return false;
	}
	c.version_n = strtoll(n, &end, 10);
	return run_change(req, &c, 200, err);
}

static json_object *list_product_item(const bson_t *doc, void *ctx)
{
	(void)ctx;
	return catalog_product_render(doc, true);
}

static json_object *list_plain_item(const bson_t *doc, void *ctx)
{
	(void)ctx;
	return em_bson_to_json(doc);
}

/*
 * Runs a find sorted by sort_key descending with keyset pagination on
 * it and writes {items, next_cursor}. The cursor holds the last item's
 * _id ('i') or, for versions, its version number ('n' with ival).
 */
static bool list_page(struct em_request *req, const char *collection, bson_t *filter,
		      bool by_version, bool products, struct em_error *err)
{
	int limit;
	const char *cursor_s;
	struct catalog_cursor after;
	bson_t opts = BSON_INITIALIZER, last = BSON_INITIALIZER, sort, cmp;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_error_t berr;
	json_object *items = NULL;
	char next[128] = "";
	bool ok = false, more = false;

	if (!em_page_params(req, CATALOG_LIMIT_DEFAULT, &limit, &cursor_s, err))
		goto done;
	if (cursor_s) {
		if (!catalog_cursor_decode(cursor_s, &after, err))
			goto done;
		if (after.sort != (by_version ? 'n' : 'i')) {
			em_error_set(err, EM_ERR_INVALID, "cursor", "the cursor is for another list");
			goto done;
		}
		if (by_version) {
			BSON_APPEND_DOCUMENT_BEGIN(filter, "version", &cmp);
			BSON_APPEND_INT64(&cmp, "$lt", after.ival);
		} else {
			BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &cmp);
			BSON_APPEND_OID(&cmp, "$lt", &after.id);
		}
		bson_append_document_end(filter, &cmp);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, by_version ? "version" : "_id", -1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", limit + 1);
	coll = store_collection(&req->app->store, collection);
	cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
	if (!em_page_collect(cur, limit, products ? list_product_item : list_plain_item, NULL,
			     "list", &items, &last, &more, &berr, err))
		goto done;
	if (more) {
		bson_iter_t it;

		memset(&after, 0, sizeof(after));
		after.sort = by_version ? 'n' : 'i';
		if (bson_iter_init_find(&it, &last, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &after.id);
		if (by_version && bson_iter_init_find(&it, &last, "version"))
			after.ival = em_bson_iter_int64(&it);
		catalog_cursor_encode(&after, next, sizeof(next));
	}
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
	bson_destroy(&opts);
	bson_destroy(&last);
	return ok;
}

/* GET /api/v1/admin/products?deleted=false|true|all&status=&limit=&cursor= */
static bool catalog_admin_product_list(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { "deleted", "status", "limit", "cursor", NULL };
	const char *deleted = em_request_query(req, "deleted");
	const char *status = em_request_query(req, "status");
	bson_t filter = BSON_INITIALIZER, ne;
	bool ok = false;

	if (!catalog_query_check(req, allowed, err))
		goto done;
	if (!deleted || strcmp(deleted, "false") == 0) {
		BSON_APPEND_NULL(&filter, "deleted_at");
	} else if (strcmp(deleted, "true") == 0) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "deleted_at", &ne);
		BSON_APPEND_NULL(&ne, "$ne");
		bson_append_document_end(&filter, &ne);
	} else if (strcmp(deleted, "all") != 0) {
		em_error_set(err, EM_ERR_INVALID, "deleted", "deleted must be false, true or all");
		goto done;
	}
	if (status) {
		if (strcmp(status, "draft") != 0 && strcmp(status, "active") != 0 &&
		    strcmp(status, "archived") != 0) {
			em_error_set(err, EM_ERR_INVALID, "status",
				     "status must be draft, active or archived");
			goto done;
		}
		BSON_APPEND_UTF8(&filter, "status", status);
	}
	ok = list_page(req, "products", &filter, false, true, err);
done:
	bson_destroy(&filter);
	return ok;
}

/* GET /api/v1/admin/products/{id}/versions: newest first. */
static bool catalog_admin_version_list(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { "limit", "cursor", NULL };
	bson_t filter = BSON_INITIALIZER;
	bson_oid_t id;
	bool ok = false;

	if (!catalog_query_check(req, allowed, err) || !product_id_param(req, &id, err))
		goto done;
	if (!catalog_product_exists(&req->app->store, &id, true, err))
		goto done;
	BSON_APPEND_OID(&filter, "product_id", &id);
	ok = list_page(req, "product_versions", &filter, true, false, err);
done:
	bson_destroy(&filter);
	return ok;
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
