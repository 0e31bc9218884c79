/*
 * inventory_routes.c - staff stock adjustments and the low-stock list.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "catalog/catalog.h"
#include "core/bsonjson.h"
#include "core/ids.h"
#include "core/json.h"
#include "http/page.h"
#include "store/page.h"
#include "store/store.h"
#include "store/txn.h"
#include "inventory/inventory.h"
#include "inventory/inventory_routes.h"

struct adjust_ctx {
	struct em_request *req;
	const char *sku;
	const char *reason;
	const char *idem_key;  /* NULL: none */
	int64_t delta;
	bool has_by;
	bson_oid_t by;
	bool duplicate;        /* the key was used already (by this person) */
	struct inventory_result result;
};

static bool adjust_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct adjust_ctx *c = vctx;
	bool ok;

	ok = inventory_stock_adjust(&c->req->app->store, session, &c->req->app->cfg, c->sku,
				    c->delta, c->reason, c->has_by ? &c->by : NULL, c->idem_key,
				    &c->result, berr, err);
	c->duplicate = !ok && c->idem_key && store_error_is_duplicate(berr);
	return ok;
}

/* An adjustment as the API shows it: the stored document, _id as id and
 * stock_after as stock (what the 201 has always said), no idem_key. */
static json_object *adjustment_json(const bson_t *doc, void *ctx)
{
	json_object *all = em_bson_to_json(doc), *v;

	(void)ctx;
	if (!all)
		return NULL;
	if (json_object_object_get_ex(all, "_id", &v)) {
		json_object_object_add(all, "id", json_object_get(v));
		json_object_object_del(all, "_id");
	}
	if (json_object_object_get_ex(all, "stock_after", &v)) {
		json_object_object_add(all, "stock", json_object_get(v));
		json_object_object_del(all, "stock_after");
	}
	json_object_object_del(all, "idem_key");
	return all;
}

/* The adjustment of filter (one document) into *doc; *found false when none. */
static bool adjustment_find(struct em_request *req, const bson_t *filter, bson_t *doc,
			    bool *found, struct em_error *err)
{
	return store_find_one(&req->app->store, NULL, "inventory_adjustments", filter, doc, found,
			      NULL, "read adjustment", err);
}

static void adjustment_respond(struct em_request *req, int status, const bson_t *doc,
			       bool replayed)
{
	char hex[25], loc[96];
	bson_iter_t it;

	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_to_string(bson_iter_oid(&it), hex);
		snprintf(loc, sizeof loc, "/api/v1/admin/inventory/adjustments/%s", hex);
		em_response_header(req, "Location", loc);
	}
	if (replayed)
		em_response_header(req, "Idempotent-Replayed", "true");
	em_response_json(req, status, adjustment_json(doc, NULL));
}

/*
 * A retry with a used key: the same request (sku, delta, reason) gets the
 * first answer again; another one is a 422 and moves nothing.
 */
static bool adjustment_replay(struct adjust_ctx *c, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER;
	bson_iter_t it;
	bool found = false, same, ok = false;

	if (c->has_by)
		BSON_APPEND_OID(&filter, "by", &c->by);
	else
		BSON_APPEND_NULL(&filter, "by");
	BSON_APPEND_UTF8(&filter, "idem_key", c->idem_key);
	if (!adjustment_find(c->req, &filter, &doc, &found, err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_CONFLICT, "Idempotency-Key",
			     "an adjustment with this key is being made; retry shortly");
		err->retry_after_s = 1;
		goto done;
	}
	same = bson_iter_init_find(&it, &doc, "sku") && BSON_ITER_HOLDS_UTF8(&it) &&
	       strcmp(bson_iter_utf8(&it, NULL), c->sku) == 0 &&
	       bson_iter_init_find(&it, &doc, "delta") && em_bson_iter_int64(&it) == c->delta &&
	       bson_iter_init_find(&it, &doc, "reason") && BSON_ITER_HOLDS_UTF8(&it) &&
	       strcmp(bson_iter_utf8(&it, NULL), c->reason) == 0;
	if (!same) {
		em_error_setc(err, EM_ERR_UNPROCESSABLE, "Idempotency-Key", EM_CODE_RULE,
			      "this key was used for another adjustment; use a new key");
		goto done;
	}
	adjustment_respond(c->req, 201, &doc, true);
	ok = true;
done:
	bson_destroy(&filter);
	bson_destroy(&doc);
	return ok;
}

/* POST /api/v1/admin/inventory/adjustments {sku, delta, reason}, with an
 * optional Idempotency-Key (a retry must not move stock twice). */
static bool inventory_adjustment_create(struct em_request *req, struct em_error *err)
{
	static const char *const keys[] = { "sku", "delta", "reason", NULL };
	struct adjust_ctx c = { 0 };
	bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER;
	bool found = false, ok = false;

	c.req = req;
	if (!em_request_idempotency_key(req, false, "an adjustment", &c.idem_key, err))
		goto done;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (em_json_check_fields(req->json, keys, err) || err->field[0]) {
		if (em_json_get_string(req->json, "sku", 1, CATALOG_SKU_MAX, true, &c.sku, err) &&
		    !catalog_sku_valid(c.sku))
			em_error_setc(err, EM_ERR_INVALID, "sku", EM_CODE_INVALID_FORMAT,
				      "sku must be 1..64 of A-Z a-z 0-9 . _ -");
		if (em_json_get_int64(req->json, "delta", -INVENTORY_DELTA_MAX, INVENTORY_DELTA_MAX,
				      true, NULL, &c.delta, err) && c.delta == 0)
			em_error_setc(err, EM_ERR_INVALID, "delta", EM_CODE_OUT_OF_RANGE,
				      "delta must not be zero");
		em_json_get_string(req->json, "reason", 1, INVENTORY_REASON_MAX, true, &c.reason,
				   err);
	}
	if (!em_error_collect_end(err))
		goto done;
	c.has_by = em_oid_parse(req->user_id, &c.by);
	if (!store_txn_run(&req->app->store, adjust_txn, &c, err)) {
		if (!c.duplicate)
			goto done;
		em_error_clear(err);
		ok = adjustment_replay(&c, err);
		goto done;
	}
	BSON_APPEND_OID(&filter, "_id", &c.result.adjustment_id);
	if (!adjustment_find(req, &filter, &doc, &found, err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the adjustment just made is missing");
		goto done;
	}
	adjustment_respond(req, 201, &doc, false);
	ok = true;
done:
	bson_destroy(&filter);
	bson_destroy(&doc);
	return ok;
}

/* GET /api/v1/admin/inventory/adjustments/{id} */
static bool inventory_adjustment_get(struct em_request *req, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER;
	bson_oid_t id;
	bool found = false, ok = false;

	if (!em_oid_parse(em_request_path_param(req, "id"), &id)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such adjustment");
		goto done;
	}
	BSON_APPEND_OID(&filter, "_id", &id);
	if (!adjustment_find(req, &filter, &doc, &found, err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such adjustment");
		goto done;
	}
	em_response_json(req, 200, adjustment_json(&doc, NULL));
	ok = true;
done:
	bson_destroy(&filter);
	bson_destroy(&doc);
	return ok;
}

/* GET /api/v1/admin/inventory/adjustments?sku=&limit=&cursor=: the audit
 * trail, newest first by the time of the adjustment, ties by _id. */
static bool inventory_adjustment_list(struct em_request *req, struct em_error *err)
{
	static const char *const params[] = { "sku", "limit", "cursor", NULL };
	const char *sku = em_request_query(req, "sku");
	bson_t filter = BSON_INITIALIZER;
	bool ok = false;

	if (!em_request_query_check(req, params, 200, err))
		goto done;
	if (sku) {
		if (!catalog_sku_valid(sku)) {
			em_error_setc(err, EM_ERR_INVALID, "sku", EM_CODE_INVALID_FORMAT,
				      "sku must be 1..64 of A-Z a-z 0-9 . _ -");
			goto done;
		}
		BSON_APPEND_UTF8(&filter, "sku", sku);
	}
	ok = em_page_list_by_time(req, &req->app->store, "inventory_adjustments", &filter, "at",
				  NULL, true, CATALOG_LIMIT_DEFAULT, adjustment_json, NULL,
				  "list adjustments", err);
done:
	bson_destroy(&filter);
	return ok;
}

/* The low variants of one product as {product_id, title, slug, variants}. */
static json_object *low_item(const bson_t *doc)
{
	json_object *all = em_bson_to_json(doc), *o = json_object_new_object();
	json_object *vars = NULL, *low = json_object_new_array(), *v;

	if (!all || !o || !low) {
		if (all)
			json_object_put(all);
		if (o)
			json_object_put(o);
		if (low)
			json_object_put(low);
		return NULL;
	}
	if (json_object_object_get_ex(all, "_id", &v))
		json_object_object_add(o, "product_id", json_object_get(v));
	if (json_object_object_get_ex(all, "title", &v))
		json_object_object_add(o, "title", json_object_get(v));
	if (json_object_object_get_ex(all, "slug", &v))
		json_object_object_add(o, "slug", json_object_get(v));
	if (json_object_object_get_ex(all, "variants", &vars))
		for (size_t i = 0; i < json_object_array_length(vars); i++) {
			json_object *var = json_object_array_get_idx(vars, i), *flag = NULL, *x;
			json_object *out;

			if (!json_object_object_get_ex(var, "low_stock", &flag) ||
			    !json_object_get_boolean(flag))
				continue;
			out = json_object_new_object();
			if (!out)
				continue;
			if (json_object_object_get_ex(var, "sku", &x))
				json_object_object_add(out, "sku", json_object_get(x));
			if (json_object_object_get_ex(var, "stock", &x))
				json_object_object_add(out, "stock", json_object_get(x));
			if (json_object_object_get_ex(var, "low_stock_threshold", &x))
				json_object_object_add(out, "low_stock_threshold", json_object_get(x));
			json_object_array_add(low, out);
		}
	json_object_object_add(o, "variants", low);
	json_object_put(all);
	return o;
}

static json_object *low_item_render(const bson_t *doc, void *ctx)
{
	(void)ctx;
	return low_item(doc);
}

/* GET /api/v1/admin/inventory/low-stock: products with a variant below
 * its threshold, newest first, keyset-paginated by _id. */
static bool inventory_low_stock_list(struct em_request *req, struct em_error *err)
{
	static const char *const page_params[] = { "limit", "cursor", NULL };
	const char *cursor_s;
	struct catalog_cursor after;
	int limit;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, last = BSON_INITIALIZER;
	bson_t sort, cmp;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_error_t berr;
	json_object *items = NULL;
	char next[128] = "";
	bool ok = false, more = false;

	if (!em_request_query_check(req, page_params, 200, err))
		goto done;
	if (!em_page_params(req, CATALOG_LIMIT_DEFAULT, &limit, &cursor_s, err))
		goto done;
	BSON_APPEND_BOOL(&filter, "variants.low_stock", true);
	BSON_APPEND_NULL(&filter, "deleted_at");
	if (cursor_s) {
		if (!catalog_cursor_decode(cursor_s, &after, err))
			goto done;
		if (after.sort != 'i') {
			em_error_set(err, EM_ERR_INVALID, "cursor", "the cursor is for another list");
			goto done;
		}
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &cmp);
		BSON_APPEND_OID(&cmp, "$lt", &after.id);
		bson_append_document_end(&filter, &cmp);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "_id", -1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", limit + 1);
	coll = store_collection(&req->app->store, "products");
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	if (!store_page_collect(cur, limit, low_item_render, NULL, "list low stock", &items, &last,
			     &more, &berr, err))
		goto done;
	if (more) {
		bson_iter_t it;

		memset(&after, 0, sizeof(after));
		after.sort = 'i';
		if (bson_iter_init_find(&it, &last, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &after.id);
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
	bson_destroy(&filter);
	bson_destroy(&opts);
	bson_destroy(&last);
	return ok;
}

static const struct em_route inventory_table[] = {
	{ "POST", "/api/v1/admin/inventory/adjustments", inventory_adjustment_create,
	  EM_ROLE_STAFF, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/admin/inventory/adjustments", inventory_adjustment_list, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/inventory/adjustments/{id}", inventory_adjustment_get,
	  EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/inventory/low-stock", inventory_low_stock_list, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
};

const struct em_route_table inventory_routes = EM_ROUTE_TABLE("inventory", inventory_table);
