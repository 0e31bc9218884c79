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
#include "inventory/inventory.h"
#include "inventory/inventory_routes.h"

struct adjust_ctx {
	struct em_request *req;
	const char *sku;
	const char *reason;
	int64_t delta;
	bool has_by;
	bson_oid_t by;
	struct inventory_result result;
};

static bool adjust_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct adjust_ctx *c = vctx;

	return inventory_stock_change(&c->req->app->store, session, &c->req->app->cfg, c->sku,
				      c->delta, c->reason, c->has_by ? &c->by : NULL, &c->result,
				      berr, err);
}

/* POST /api/v1/admin/inventory/adjustments {sku, delta, reason} */
static bool inventory_adjustment_create(struct em_request *req, struct em_error *err)
{
	static const char *const keys[] = { "sku", "delta", "reason", NULL };
	struct adjust_ctx c = { 0 };
	json_object *o;
	char hex[25];

	c.req = req;
	if (!em_json_check_fields(req->json, keys, err))
		return false;
	if (!em_json_get_string(req->json, "sku", 1, CATALOG_SKU_MAX, true, &c.sku, err))
		return false;
	if (!catalog_sku_valid(c.sku)) {
		em_error_set(err, EM_ERR_INVALID, "sku", "sku must be 1..64 of A-Z a-z 0-9 . _ -");
		return false;
	}
	if (!em_json_get_int64(req->json, "delta", -INVENTORY_DELTA_MAX, INVENTORY_DELTA_MAX, true,
			       NULL, &c.delta, err))
		return false;
	if (c.delta == 0) {
		em_error_set(err, EM_ERR_INVALID, "delta", "delta must not be zero");
		return false;
	}
	if (!em_json_get_string(req->json, "reason", 1, INVENTORY_REASON_MAX, true, &c.reason, err))
		return false;
	c.has_by = em_oid_parse(req->user_id, &c.by);
	if (!store_txn_run(&req->app->store, adjust_txn, &c, err))
		return false;
	o = json_object_new_object();
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		return false;
	}
	bson_oid_to_string(&c.result.product_id, hex);
	json_object_object_add(o, "sku", json_object_new_string(c.sku));
	json_object_object_add(o, "product_id", json_object_new_string(hex));
	json_object_object_add(o, "delta", json_object_new_int64(c.delta));
	json_object_object_add(o, "stock_before", json_object_new_int64(c.result.stock_before));
	json_object_object_add(o, "stock", json_object_new_int64(c.result.stock_after));
	json_object_object_add(o, "low_stock_threshold", json_object_new_int64(c.result.threshold));
	json_object_object_add(o, "low_stock", json_object_new_boolean(c.result.low_stock));
	json_object_object_add(o, "alert_enqueued", json_object_new_boolean(c.result.alert_enqueued));
	em_response_json(req, 201, o);
	return true;
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
	{ "GET", "/api/v1/admin/inventory/low-stock", inventory_low_stock_list, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
};

const struct em_route_table inventory_routes = EM_ROUTE_TABLE("inventory", inventory_table);
