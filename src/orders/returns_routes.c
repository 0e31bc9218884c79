/*
 * returns_routes.c - HTTP for returns (the rules are in returns.c):
 *
 *   POST /api/v1/orders/{id}/returns          the customer: {items: [{sku,
 *                                             quantity}], reason}
 *   GET  /api/v1/orders/{id}/returns          the customer's returns of it
 *   GET  /api/v1/admin/orders/{id}/returns    staff
 *   POST /api/v1/admin/orders/{id}/returns/{rid}/approve   staff: {note?}
 *   POST /api/v1/admin/orders/{id}/returns/{rid}/reject    staff: {reason}
 *   POST /api/v1/admin/orders/{id}/returns/{rid}/receive   staff: {lines:
 *                                             [{sku, restock: bool}], note?}
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "http/page.h"
#include "core/ids.h"
#include "core/json.h"
#include "orders/orders_internal.h"

static bool ret_id_param(struct em_request *req, const char *name, bson_oid_t *id,
			 struct em_error *err)
{
	if (!em_oid_parse(em_request_path_param(req, name), id)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such %s",
			     strcmp(name, "id") == 0 ? "order" : "return");
		return false;
	}
	return true;
}

/*
 * Reads body[key] as an array of 1..ORDERS_RETURN_ITEMS_MAX objects
 * {sku, quantity} (want_qty) or {sku, restock} into items, each SKU once.
 */
static bool ret_items_parse(json_object *body, const char *key, bool want_qty,
			    struct orders_return_item *items, size_t *n, struct em_error *err)
{
	static const char *const qty_fields[] = { "sku", "quantity", NULL };
	static const char *const restock_fields[] = { "sku", "restock", NULL };
	json_object *arr = NULL;
	size_t len;

	*n = 0;
	if (!json_object_object_get_ex(body, key, &arr) || !json_object_is_type(arr, json_type_array)) {
		em_error_setc(err, EM_ERR_INVALID, key,
			      arr ? EM_CODE_INVALID_TYPE : EM_CODE_REQUIRED, "an array is required");
		return false;
	}
	len = json_object_array_length(arr);
	if (len == 0 || len > ORDERS_RETURN_ITEMS_MAX) {
		em_error_setc(err, EM_ERR_INVALID, key, len ? EM_CODE_TOO_LONG : EM_CODE_TOO_SHORT,
			      "needs 1 to %d entries", ORDERS_RETURN_ITEMS_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		json_object *el = json_object_array_get_idx(arr, i), *v;
		struct orders_return_item *it = &items[i];
		const char *sku = NULL;
		char field[48];
		bool present;

		snprintf(field, sizeof field, "%s[%zu]", key, i);
		if (!el || !json_object_is_type(el, json_type_object)) {
			em_error_set(err, EM_ERR_INVALID, field, "must be an object");
			return false;
		}
		if (!em_json_check_fields(el, want_qty ? qty_fields : restock_fields, err) ||
		    !em_json_get_string(el, "sku", 1, ORDERS_SKU_MAX, true, &sku, err))
			goto field;
		memset(it, 0, sizeof *it);
		snprintf(it->sku, sizeof it->sku, "%s", sku);
		if (want_qty) {
			if (!em_json_get_int64(el, "quantity", 1, ORDERS_RETURN_QTY_MAX, true, &present,
					       &it->quantity, err))
				goto field;
		} else {
			if (!json_object_object_get_ex(el, "restock", &v) ||
			    !json_object_is_type(v, json_type_boolean)) {
				em_error_set(err, EM_ERR_INVALID, "restock", "true or false is required");
				goto field;
			}
			it->restock = json_object_get_boolean(v);
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(items[j].sku, it->sku) == 0) {
				em_error_setc(err, EM_ERR_INVALID, "sku", EM_CODE_NOT_UNIQUE,
					      "%s is listed twice", it->sku);
				goto field;
			}
		*n = i + 1;
		continue;
field:
		/* name the entry: "items[1].quantity" */
		{
			char full[sizeof field + sizeof err->field + 1];

			snprintf(full, sizeof full, "%s.%s", field, err->field);
			snprintf(err->field, sizeof err->field, "%.*s", (int)(sizeof err->field - 1),
				 full);
		}
		return false;
	}
	return true;
}

static bool ret_respond(struct em_request *req, int status, const bson_t *doc, bool staff,
			struct em_error *err)
{
	json_object *o = orders_return_render(doc, staff);

	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render the return");
		return false;
	}
	em_response_json(req, status, o);
	return true;
}

static const char *const ret_create_fields[] = { "items", "reason", NULL };

/* POST /api/v1/orders/{id}/returns */
static bool ret_create(struct em_request *req, struct em_error *err)
{
	struct orders_return_item items[ORDERS_RETURN_ITEMS_MAX];
	struct orders_return_request in;
	bson_oid_t id, user, rid;
	bson_iter_t it;
	bson_t doc;
	char where[128], hex[25], ohex[25];
	bool ok;

	memset(&in, 0, sizeof in);
	if (!em_request_query_check(req, NULL, 0, err) || !ret_id_param(req, "id", &id, err))
		return false;
	if (!em_oid_parse(req->user_id, &user)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "sign in first");
		return false;
	}
	/* every field checked (items: the first entry at fault) and reported at once */
	em_error_collect(err);
	if (em_json_check_fields(req->json, ret_create_fields, err) || err->field[0]) {
		struct em_error ierr = EM_ERROR_INIT;

		if (!ret_items_parse(req->json, "items", true, items, &in.nitems, &ierr))
			em_error_setc(err, ierr.kind, ierr.field, em_error_code(&ierr), "%s",
				      ierr.message);
		em_json_get_string(req->json, "reason", 1, ORDERS_RETURN_REASON_MAX, true,
				   &in.reason, err);
	}
	if (!em_error_collect_end(err))
		return false;
	in.user_id = &user;
	in.items = items;
	if (!orders_return_create(&req->app->store, &req->app->cfg, &id, &in, &doc, err))
		return false;
	if (bson_iter_init_find(&it, &doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_copy(bson_iter_oid(&it), &rid);
		bson_oid_to_string(&rid, hex);
		bson_oid_to_string(&id, ohex);
		snprintf(where, sizeof where, "/api/v1/orders/%s/returns/%s", ohex, hex);
		em_response_header(req, "Location", where);
	}
	ok = ret_respond(req, 201, &doc, false, err);
	bson_destroy(&doc);
	return ok;
}

static bool ret_list(struct em_request *req, bool staff, struct em_error *err)
{
	bson_oid_t id, user;
	json_object *items = NULL, *o;

	if (!em_request_query_check(req, NULL, 0, err) || !ret_id_param(req, "id", &id, err))
		return false;
	if (!staff && !em_oid_parse(req->user_id, &user)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "sign in first");
		return false;
	}
	if (!orders_returns_list(&req->app->store, &id, staff ? NULL : &user, staff, &items, err))
		return false;
	o = json_object_new_object();
	if (!o) {
		json_object_put(items);
		em_error_set(err, EM_ERR_INTERNAL, NULL, "out of memory");
		return false;
	}
	json_object_object_add(o, "items", items);
	em_response_json(req, 200, o);
	return true;
}

static bool ret_list_mine(struct em_request *req, struct em_error *err)
{
	return ret_list(req, false, err);
}

static bool ret_list_staff(struct em_request *req, struct em_error *err)
{
	return ret_list(req, true, err);
}

static json_object *ret_staff_item(const bson_t *doc, void *ctx)
{
	(void)ctx;
	return orders_return_render(doc, true);
}

/* status=open: the returns waiting for staff (the queue's default) */
static void ret_status_filter(bson_t *filter, const char *status)
{
	bson_t in, arr;

	if (strcmp(status, "open") != 0) {
		BSON_APPEND_UTF8(filter, "status", status);
		return;
	}
	BSON_APPEND_DOCUMENT_BEGIN(filter, "status", &in);
	BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
	BSON_APPEND_UTF8(&arr, "0", "requested");
	BSON_APPEND_UTF8(&arr, "1", "approved");
	bson_append_array_end(&in, &arr);
	bson_append_document_end(filter, &in);
}

/*
 * email: the customer's account (returns need one), resolved to its id
 * once (no account has it: an empty page, a filter is not a 404).
 */
static bool ret_customer_filter(struct em_request *req, const char *email, bson_t *filter,
				struct em_error *err)
{
	char normal[256];
	bson_t user = BSON_INITIALIZER;
	bson_iter_t it;
	bool found = false, ok = false;

	if (!auth_email_normalize(email, normal, sizeof normal, err))
		goto done; /* field "email", invalid_format */
	if (!auth_user_find_by_email(&req->app->store, normal, &user, &found, err))
		goto done;
	if (found && bson_iter_init_find(&it, &user, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		BSON_APPEND_OID(filter, "user_id", bson_iter_oid(&it));
	} else {
		/* an id no account has: the user_id index answers "none" at
		 * once (a filter on a missing field would scan them all) */
		bson_oid_t fresh;

		bson_oid_init(&fresh, NULL);
		BSON_APPEND_OID(filter, "user_id", &fresh);
	}
	ok = true;
done:
	bson_destroy(&user);
	return ok;
}

/* GET /api/v1/admin/returns?status=&email=&limit=&cursor=: every order's
 * returns, newest first (by when they were asked for, then id), for the
 * staff's work queue (status: one state, or open = requested or approved;
 * email: one customer's). */
static bool ret_list_all(struct em_request *req, struct em_error *err)
{
	static const char *const params[] = { "status", "email", "limit", "cursor", NULL };
	static const char *const states[] = { "requested", "approved", "rejected", "received",
					      "open", NULL };
	const char *status = em_request_query(req, "status");
	const char *email = em_request_query(req, "email");
	bson_t filter = BSON_INITIALIZER;
	bool ok = false;

	if (!em_request_query_check(req, params, 254, err))
		goto done;
	em_error_collect(err);
	if (status) {
		size_t i;

		for (i = 0; states[i] && strcmp(states[i], status) != 0; i++)
			;
		if (!states[i])
			em_error_setc(err, EM_ERR_INVALID, "status", EM_CODE_INVALID_VALUE,
				      "status must be open, requested, approved, rejected or "
				      "received");
		else
			ret_status_filter(&filter, status);
	}
	if (email && !ret_customer_filter(req, email, &filter, err) &&
	    err->kind != EM_ERR_INVALID)
		goto done;
	if (!em_error_collect_end(err))
		goto done;
	ok = em_page_list_by_time(req, &req->app->store, "order_returns", &filter, "created_at",
				  NULL, true, 20, ret_staff_item, NULL, "list returns", err);
done:
	bson_destroy(&filter);
	return ok;
}

/* The staff steps: parse what the step takes, run it, answer the return. */
static bool ret_step(struct em_request *req, enum orders_return_step step, struct em_error *err)
{
	static const char *const approve_fields[] = { "note", NULL };
	static const char *const reject_fields[] = { "reason", NULL };
	static const char *const receive_fields[] = { "lines", "note", NULL };
	struct orders_return_item lines[ORDERS_RETURN_ITEMS_MAX];
	struct orders_return_change chg;
	bson_oid_t id, rid, by;
	bson_t doc;
	bool ok;

	memset(&chg, 0, sizeof chg);
	if (!em_request_query_check(req, NULL, 0, err) || !ret_id_param(req, "id", &id, err) ||
	    !ret_id_param(req, "rid", &rid, err))
		return false;
	chg.step = step;
	switch (step) {
	case ORDERS_RETURN_APPROVE:
		if (!em_json_check_fields(req->json, approve_fields, err) ||
		    !em_json_get_string(req->json, "note", 0, ORDERS_NOTE_MAX, false, &chg.reason,
					err))
			return false;
		break;
	case ORDERS_RETURN_REJECT:
		if (!em_json_check_fields(req->json, reject_fields, err) ||
		    !em_json_get_string(req->json, "reason", 1, ORDERS_RETURN_REASON_MAX, true,
					&chg.reason, err))
			return false;
		break;
	case ORDERS_RETURN_RECEIVE:
		if (!em_json_check_fields(req->json, receive_fields, err) ||
		    !ret_items_parse(req->json, "lines", false, lines, &chg.nlines, err) ||
		    !em_json_get_string(req->json, "note", 0, ORDERS_NOTE_MAX, false, &chg.reason,
					err))
			return false;
		chg.lines = lines;
		break;
	}
	chg.by = em_oid_parse(req->user_id, &by) ? &by : NULL;
	chg.by_role = req->role == EM_ROLE_ADMIN ? "admin" : "staff";
	if (!orders_return_change(&req->app->store, &req->app->cfg, &id, &rid, &chg, &doc, err))
		return false;
	ok = ret_respond(req, 200, &doc, true, err);
	bson_destroy(&doc);
	return ok;
}

static bool ret_approve(struct em_request *req, struct em_error *err)
{
	return ret_step(req, ORDERS_RETURN_APPROVE, err);
}

static bool ret_reject(struct em_request *req, struct em_error *err)
{
	return ret_step(req, ORDERS_RETURN_REJECT, err);
}

static bool ret_receive_route(struct em_request *req, struct em_error *err)
{
	return ret_step(req, ORDERS_RETURN_RECEIVE, err);
}

static const struct em_route returns_table[] = {
	{ "POST", "/api/v1/orders/{id}/returns", ret_create, EM_ROLE_CUSTOMER, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/orders/{id}/returns", ret_list_mine, EM_ROLE_CUSTOMER, EM_BODY_NONE,
	  NULL },
	{ "GET", "/api/v1/admin/returns", ret_list_all, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/orders/{id}/returns", ret_list_staff, EM_ROLE_STAFF, EM_BODY_NONE,
	  NULL },
	{ "POST", "/api/v1/admin/orders/{id}/returns/{rid}/approve", ret_approve, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
	{ "POST", "/api/v1/admin/orders/{id}/returns/{rid}/reject", ret_reject, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
	{ "POST", "/api/v1/admin/orders/{id}/returns/{rid}/receive", ret_receive_route,
	  EM_ROLE_STAFF, EM_BODY_JSON, NULL },
};

const struct em_route_table orders_returns_routes = EM_ROUTE_TABLE("order-returns", returns_table);
