/*
 * favorite_routes.c - /api/v1/favorites: a signed-in customer's wishlist,
 * one entry per product (a unique index on (user_id, product_id) makes
 * concurrent adds of one product one entry), listed with the current
 * price and stock state, and a move-to-cart action.
 *
 * Every query carries the caller's user_id: another account's favorites
 * are never reachable (404, like an entry that does not exist).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cart/cart_internal.h"
#include "core/json.h"
#include "http/page.h"
#include "store/page.h"

#define CART_FAV_PAGE_DEFAULT 20

static bool cart_fav_user(struct em_request *req, bson_oid_t *uid, struct em_error *err)
{
	if (!bson_oid_is_valid(req->user_id, strlen(req->user_id))) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "no signed-in account");
		return false;
	}
	bson_oid_init_from_string(uid, req->user_id);
	return true;
}

static bool cart_fav_product_param(struct em_request *req, bson_oid_t *pid, struct em_error *err)
{
	const char *s = em_request_path_param(req, "product_id");

	if (!s || strlen(s) != 24 || !bson_oid_is_valid(s, 24)) {
		em_error_set(err, EM_ERR_NOT_FOUND, "product_id", "no such favorite");
		return false;
	}
	bson_oid_init_from_string(pid, s);
	return true;
}

static json_object *cart_fav_item(const bson_t *doc, void *ctx)
{
	json_object *o = json_object_new_object();
	bson_iter_t it;
	char hex[25], when[40];

	(void)ctx;
	if (!o)
		return NULL;
	if (bson_iter_init_find(&it, doc, "product_id") && BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_to_string(bson_iter_oid(&it), hex);
		json_object_object_add(o, "product_id", json_object_new_string(hex));
	}
	if (bson_iter_init_find(&it, doc, "created_at") && BSON_ITER_HOLDS_DATE_TIME(&it)) {
		cart_time_format(bson_iter_date_time(&it), when, sizeof when);
		json_object_object_add(o, "added_at", json_object_new_string(when));
	}
	return o;
}

/* Adds the products' current title, price range and stock state to each item. */
static bool cart_fav_enrich(struct em_request *req, json_object *items, struct em_error *err)
{
	size_t n = json_object_array_length(items);
	mongoc_collection_t *coll;
	bson_t filter = BSON_INITIALIZER, in, arr;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = true;

	if (n == 0)
		return true;
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
	BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
	for (size_t i = 0; i < n; i++) {
		json_object *pid;
		bson_oid_t oid;
		char idx[24];

		if (!json_object_object_get_ex(json_object_array_get_idx(items, i), "product_id", &pid))
			continue;
		bson_oid_init_from_string(&oid, json_object_get_string(pid));
		snprintf(idx, sizeof idx, "%zu", i);
		BSON_APPEND_OID(&arr, idx, &oid);
	}
	bson_append_array_end(&in, &arr);
	bson_append_document_end(&filter, &in);
	/* a product that vanished shows as unavailable, not as a hole */
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(items, i);

		json_object_object_add(item, "available", json_object_new_string("unavailable"));
		json_object_object_add(item, "title", NULL);
		json_object_object_add(item, "price", NULL);
	}
	coll = store_collection(&req->app->store, "products");
	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		char hex[25];
		const char *status = "", *title = NULL, *slug = NULL, *currency = NULL;
		int64_t min_price = 0, stock = 0;
		bool deleted = false;

		if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
			continue;
		bson_oid_to_string(bson_iter_oid(&it), hex);
		bson_iter_init(&it, doc);
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);

			if (strcmp(k, "status") == 0 && BSON_ITER_HOLDS_UTF8(&it))
				status = bson_iter_utf8(&it, NULL);
			else if (strcmp(k, "title") == 0 && BSON_ITER_HOLDS_UTF8(&it))
				title = bson_iter_utf8(&it, NULL);
			else if (strcmp(k, "slug") == 0 && BSON_ITER_HOLDS_UTF8(&it))
				slug = bson_iter_utf8(&it, NULL);
			else if (strcmp(k, "currency") == 0 && BSON_ITER_HOLDS_UTF8(&it))
				currency = bson_iter_utf8(&it, NULL);
			else if (strcmp(k, "min_price") == 0 && BSON_ITER_HOLDS_INT64(&it))
				min_price = bson_iter_int64(&it);
			else if (strcmp(k, "total_stock") == 0 && BSON_ITER_HOLDS_INT64(&it))
				stock = bson_iter_int64(&it);
			else if (strcmp(k, "deleted_at") == 0)
				deleted = !BSON_ITER_HOLDS_NULL(&it);
		}
		for (size_t i = 0; i < n; i++) {
			json_object *item = json_object_array_get_idx(items, i), *pid;
			bool sellable = !deleted && strcmp(status, "active") == 0;

			if (!json_object_object_get_ex(item, "product_id", &pid) ||
			    strcmp(json_object_get_string(pid), hex) != 0)
				continue;
			json_object_object_add(item, "title", title ? json_object_new_string(title) : NULL);
			json_object_object_add(item, "slug", slug ? json_object_new_string(slug) : NULL);
			json_object_object_add(item, "price",
					       sellable ? json_object_new_int64(min_price) : NULL);
			json_object_object_add(item, "currency",
					       currency ? json_object_new_string(currency) : NULL);
			json_object_object_add(item, "available",
					       json_object_new_string(!sellable ? "unavailable" :
								      stock > 0 ? "in_stock" :
										  "out_of_stock"));
		}
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "read products");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	return ok;
}

/* GET /api/v1/favorites?limit=&cursor= (oldest first) */
static bool cart_fav_list(struct em_request *req, struct em_error *err)
{
	static const char *const params[] = { "limit", "cursor", NULL };
	bson_t filter = BSON_INITIALIZER;
	bson_oid_t uid, after, next_id;
	json_object *items = NULL;
	char next[EM_PAGE_OID_CURSOR_SIZE] = "";
	const char *cursor;
	int limit;
	bool ok = false, more = false;

	if (!cart_fav_user(req, &uid, err) ||
	    !em_request_query_check(req, params, CART_QUERY_VALUE_MAX, err) ||
	    !em_page_params(req, CART_FAV_PAGE_DEFAULT, &limit, &cursor, err) ||
	    (cursor && !em_page_cursor_oid_decode(cursor, &after, err)))
		goto done;
	BSON_APPEND_OID(&filter, "user_id", &uid);
	if (!store_page_by_id(&req->app->store, "favorites", &filter, NULL, false,
			      cursor ? &after : NULL, limit, cart_fav_item, NULL, "list favorites",
			      &items, &next_id, &more, err) ||
	    !cart_fav_enrich(req, items, err))
		goto done;
	if (more)
		em_page_cursor_oid_encode(&next_id, next);
	em_page_respond(req, items, next);
	items = NULL;
	ok = true;
done:
	json_object_put(items);
	bson_destroy(&filter);
	return ok;
}

/*
 * GET /api/v1/favorites/{product_id}: one of the caller's favorites, as
 * the list shows it (where a new favorite's Location points); another
 * account's, or none, is a 404.
 */
static bool cart_fav_get(struct em_request *req, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, doc;
	bson_oid_t uid, pid;
	json_object *items = NULL, *item;
	bool found = false, ok = false;

	if (!cart_fav_user(req, &uid, err) || !cart_fav_product_param(req, &pid, err))
		goto done;
	BSON_APPEND_OID(&filter, "user_id", &uid);
	BSON_APPEND_OID(&filter, "product_id", &pid);
	if (!store_find_one(&req->app->store, NULL, "favorites", &filter, &doc, &found, NULL,
			    "read favorite", err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, "product_id", "no such favorite");
		goto done;
	}
	item = cart_fav_item(&doc, NULL);
	bson_destroy(&doc);
	items = json_object_new_array();
	if (!item || !items || json_object_array_add(items, item) != 0) {
		json_object_put(item);
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	if (!cart_fav_enrich(req, items, err))
		goto done;
	em_response_json(req, 200, json_object_get(json_object_array_get_idx(items, 0)));
	ok = true;
done:
	json_object_put(items);
	bson_destroy(&filter);
	return ok;
}

/* Whether a product can be favorited: it exists, is active and not deleted. */
static bool cart_fav_product_active(struct em_request *req, const bson_oid_t *pid,
				    struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&req->app->store, "products");
	bson_t filter = BSON_INITIALIZER;
	bson_error_t berr;
	int64_t n;

	BSON_APPEND_OID(&filter, "_id", pid);
	BSON_APPEND_UTF8(&filter, "status", "active");
	BSON_APPEND_NULL(&filter, "deleted_at");
	n = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &berr);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	if (n < 0) {
		store_error_set(err, &berr, "read product");
		return false;
	}
	if (n == 0) {
		em_error_set(err, EM_ERR_INVALID, "product_id", "no product on sale has this id");
		return false;
	}
	return true;
}

/*
 * POST /api/v1/favorites {product_id}: 201 when added, 200 when it was
 * already there. An upsert on the unique (user_id, product_id): parallel
 * adds of one product leave one entry.
 */
static bool cart_fav_add(struct em_request *req, struct em_error *err)
{
	static const char *const fields[] = { "product_id", NULL };
	mongoc_collection_t *coll = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, soi, opts = BSON_INITIALIZER,
	       reply;
	bson_error_t berr;
	bson_oid_t uid, pid;
	const char *id = NULL;
	bool ok = false, upserted = false;
	json_object *o;

	if (!cart_fav_user(req, &uid, err))
		goto done;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if ((em_json_check_fields(req->json, fields, err) || err->field[0]) &&
	    em_json_get_string(req->json, "product_id", 24, 24, true, &id, err) &&
	    !bson_oid_is_valid(id, 24))
		em_error_setc(err, EM_ERR_INVALID, "product_id", EM_CODE_INVALID_FORMAT,
			      "product_id is 24 hex digits");
	if (!em_error_collect_end(err))
		goto done;
	bson_oid_init_from_string(&pid, id);
	if (!cart_fav_product_active(req, &pid, err))
		goto done;
	BSON_APPEND_OID(&filter, "user_id", &uid);
	BSON_APPEND_OID(&filter, "product_id", &pid);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
	BSON_APPEND_DATE_TIME(&soi, "created_at", cart_now_ms());
	bson_append_document_end(&update, &soi);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	coll = store_collection(&req->app->store, "favorites");
	for (int attempt = 0;; attempt++) {
		bson_iter_t it;

		if (mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, &berr)) {
			upserted = bson_iter_init_find(&it, &reply, "upsertedCount") &&
				   bson_iter_as_int64(&it) > 0;
			bson_destroy(&reply);
			break;
		}
		bson_destroy(&reply);
		/* two upserts raced: the index kept one; the retry matches it */
		if (!store_error_is_duplicate(&berr) || attempt == 3) {
			store_error_set(err, &berr, "add favorite");
			goto done;
		}
	}
	o = json_object_new_object();
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	json_object_object_add(o, "product_id", json_object_new_string(id));
	json_object_object_add(o, "created", json_object_new_boolean(upserted));
	if (upserted) {
		char loc[64];

		snprintf(loc, sizeof loc, "/api/v1/favorites/%s", id);
		em_response_header(req, "Location", loc);
	}
	em_response_json(req, upserted ? 201 : 200, o);
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

/* Removes the caller's favorite of pid; *gone false when there was none. */
static bool cart_fav_remove(struct em_request *req, const bson_oid_t *uid, const bson_oid_t *pid,
			    bool *gone, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&req->app->store, "favorites");
	bson_t filter = BSON_INITIALIZER, reply;
	bson_error_t berr;
	bson_iter_t it;
	bool ok;

	BSON_APPEND_OID(&filter, "user_id", uid);
	BSON_APPEND_OID(&filter, "product_id", pid);
	ok = mongoc_collection_delete_one(coll, &filter, NULL, &reply, &berr);
	if (!ok)
		store_error_set(err, &berr, "remove favorite");
	*gone = ok && bson_iter_init_find(&it, &reply, "deletedCount") && bson_iter_as_int64(&it) > 0;
	bson_destroy(&reply);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	return ok;
}

/* DELETE /api/v1/favorites/{product_id} */
static bool cart_fav_delete(struct em_request *req, struct em_error *err)
{
	bson_oid_t uid, pid;
	bool gone = false;

	if (!cart_fav_user(req, &uid, err) || !cart_fav_product_param(req, &pid, err) ||
	    !cart_fav_remove(req, &uid, &pid, &gone, err))
		return false;
	if (!gone) {
		em_error_set(err, EM_ERR_NOT_FOUND, "product_id", "no such favorite");
		return false;
	}
	em_response_empty(req, 204);
	return true;
}

/*
 * POST /api/v1/favorites/{product_id}/cart {sku, quantity}: adds the
 * product's variant to the cart, then removes the favorite. The SKU must
 * be a variant of that product.
 */
static bool cart_fav_to_cart(struct em_request *req, struct em_error *err)
{
	static const char *const fields[] = { "sku", "quantity", NULL };
	mongoc_collection_t *coll;
	bson_t filter = BSON_INITIALIZER;
	bson_error_t berr;
	bson_oid_t uid, pid;
	const char *sku = NULL;
	int64_t qty = 0, n;
	bool present, gone = false;

	if (!cart_fav_user(req, &uid, err) || !cart_fav_product_param(req, &pid, err))
		return false;
	BSON_APPEND_OID(&filter, "user_id", &uid);
	BSON_APPEND_OID(&filter, "product_id", &pid);
	coll = store_collection(&req->app->store, "favorites");
	n = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &berr);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	if (n < 0) {
		store_error_set(err, &berr, "read favorite");
		return false;
	}
	if (n == 0) {
		em_error_set(err, EM_ERR_NOT_FOUND, "product_id", "no such favorite");
		return false;
	}
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (em_json_check_fields(req->json, fields, err) || err->field[0]) {
		em_json_get_string(req->json, "sku", 1, CART_SKU_MAX, true, &sku, err);
		em_json_get_int64(req->json, "quantity", 1, cart_config(&req->app->cfg)->max_qty,
				  true, &present, &qty, err);
	}
	if (!em_error_collect_end(err))
		return false;
	if (!cart_add_and_render(req, sku, qty, &pid, err))
		return false;
	/* the cart has it now; a failure to unlist it is only logged by the caller's retry */
	return cart_fav_remove(req, &uid, &pid, &gone, err);
}

static const struct em_route cart_fav_table[] = {
	{ "GET", "/api/v1/favorites", cart_fav_list, EM_ROLE_CUSTOMER, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/favorites", cart_fav_add, EM_ROLE_CUSTOMER, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/favorites/{product_id}", cart_fav_get, EM_ROLE_CUSTOMER, EM_BODY_NONE,
	  NULL },
	{ "DELETE", "/api/v1/favorites/{product_id}", cart_fav_delete, EM_ROLE_CUSTOMER,
	  EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/favorites/{product_id}/cart", cart_fav_to_cart, EM_ROLE_CUSTOMER,
	  EM_BODY_JSON, NULL },
};

const struct em_route_table cart_favorite_routes = EM_ROUTE_TABLE("favorites", cart_fav_table);
