/*
 * orders_routes.c - HTTP for orders:
 *
 *   POST /api/v1/orders                 place (Idempotency-Key required)
 *   GET  /api/v1/orders                 the caller's orders, newest first
 *   GET  /api/v1/orders/track           ?order=EM-...&email=... (no account)
 *   GET  /api/v1/orders/{id}            one of the caller's orders
 *   POST /api/v1/orders/{id}/cancel     the caller's pending order
 *   GET  /api/v1/admin/orders           staff: filters, newest first
 *   GET  /api/v1/admin/orders/{id}      staff: with events and who acted
 *   POST /api/v1/admin/orders/{id}/transitions  staff: {to, note?, carrier?,
 *                                       tracking_number?, delivered_at?}
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "cart/cart.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "http/page.h"
#include "orders/orders_internal.h"

#define ORDERS_LIST_DEFAULT 20
/* Longest query value: an e-mail address to track by is up to 254 bytes. */
#define ORDERS_QUERY_VALUE_MAX 256

/*
 * A problem+json with the order module's extra members (a machine-readable
 * `code`, and `skus` / `total` where they help the client): RFC 9457
 * allows extension members, and docs/api/orders.yaml describes them.
 */
static void orders_problem(struct em_request *req, const struct em_error *err,
			   json_object *extra)
{
	const char *colon = strchr(err->message, ':');
	char code[48] = "";

	/* our conflict messages start with their code ("out_of_stock: ...") */
	if (colon && (size_t)(colon - err->message) < sizeof code) {
		size_t n = (size_t)(colon - err->message);
		bool word = n > 0;

		for (size_t i = 0; i < n; i++)
			word = word && (islower((unsigned char)err->message[i]) ||
					err->message[i] == '_');
		if (word)
			snprintf(code, sizeof code, "%.*s", (int)n, err->message);
	}
	if (code[0]) {
		if (!extra)
			extra = json_object_new_object();
		if (extra)
			json_object_object_add(extra, "code", json_object_new_string(code));
	}
	em_response_problem_ext(req, err, extra);
}

/* The caller's id as an ObjectId (the router authenticated it). */
static bool orders_caller(const struct em_request *req, bson_oid_t *oid, struct em_error *err)
{
	if (!em_oid_parse(req->user_id, oid)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "sign in first");
		return false;
	}
	return true;
}

static bool orders_id_param(struct em_request *req, bson_oid_t *id, struct em_error *err)
{
	if (!em_oid_parse(em_request_path_param(req, "id"), id)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such order");
		return false;
	}
	return true;
}

static bool orders_oid_field(json_object *body, const char *key, bool required, bool *present,
			     bson_oid_t *out, struct em_error *err)
{
	const char *v = NULL;

	*present = false;
	if (!em_json_get_string(body, key, 1, 64, required, &v, err))
		return false;
	if (!v)
		return true;
	if (strlen(v) != 24 || !em_oid_parse(v, out)) {
		em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_INVALID_FORMAT, "is not an id");
		return false;
	}
	*present = true;
	return true;
}

static const char *const orders_place_fields[] = {
	"shipping_address_id", "billing_address_id", "shipping_method", "payment_method", "note",
	"expected_total", NULL,
};

/* Reads and checks the body of POST /orders into in (no database yet). */
static bool orders_place_parse(struct em_request *req, struct orders_place_request *in,
			       struct em_error *err)
{
	json_object *b = req->json;
	const char *s = NULL;
	bool present;

	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (!em_json_check_fields(b, orders_place_fields, err) && !err->field[0])
		goto done; /* not an object */
	orders_oid_field(b, "shipping_address_id", true, &present, &in->shipping_address_id, err);
	orders_oid_field(b, "billing_address_id", false, &in->has_billing_address,
			 &in->billing_address_id, err);
	if (em_json_get_string(b, "shipping_method", 1, sizeof in->shipping_method - 1, false, &s,
			       err) && s)
		snprintf(in->shipping_method, sizeof in->shipping_method, "%s", s);
	s = NULL;
	if (em_json_get_string(b, "payment_method", 1, sizeof in->payment_method - 1, true, &s,
			       err)) {
		if (strcmp(s, "sslcommerz") != 0 && strcmp(s, "cod") != 0)
			em_error_setc(err, EM_ERR_INVALID, "payment_method", EM_CODE_INVALID_VALUE,
				      "must be sslcommerz or cod");
		else
			snprintf(in->payment_method, sizeof in->payment_method, "%s", s);
	}
	s = NULL;
	if (em_json_get_string(b, "note", 0, ORDERS_NOTE_MAX, false, &s, err) && s) {
		in->has_note = true;
		snprintf(in->note, sizeof in->note, "%s", s);
	}
	em_json_get_int64(b, "expected_total", 0, INT64_MAX - 1, false, &in->has_expected_total,
			  &in->expected_total, err);
done:
	return em_error_collect_end(err);
}

/* POST /api/v1/orders */
static bool orders_create(struct em_request *req, struct em_error *err)
{
	struct orders_place_request in;
	struct orders_place_result res;
	enum orders_idem_outcome outcome;
	bson_oid_t user;
	const char *key = NULL;
	char fingerprint[65], *replay = NULL, where[96], hex[25];
	int status = 0;

	memset(&in, 0, sizeof in);
	if (!orders_caller(req, &user, err) ||
	    !em_request_idempotency_key(req, true, "placing an order", &key, err) ||
	    !orders_place_parse(req, &in, err))
		return false;
	in.user_id = &user;
	in.idem_key = key;
	orders_idem_fingerprint(req->method, "/api/v1/orders", req->body, req->body_len,
				fingerprint);
	if (!orders_idem_begin(&req->app->store, &user, key, fingerprint,
			       req->app->cfg.request_timeout_s + 5, &outcome, &status, &replay, err))
		return false;
	switch (outcome) {
	case ORDERS_IDEM_MISMATCH:
		em_error_set(err, EM_ERR_UNPROCESSABLE, "Idempotency-Key",
			     "this key was used with another request body");
		return false;
	case ORDERS_IDEM_BUSY:
		em_error_set(err, EM_ERR_CONFLICT, "Idempotency-Key",
			     "the first request with this key is still running; retry shortly");
		err->retry_after_s = 1;
		em_response_header(req, "Retry-After", "1");
		return false;
	case ORDERS_IDEM_REPLAY: {
		json_object *o = json_tokener_parse(replay);

		free(replay);
		if (!o) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "a stored response is malformed");
			return false;
		}
		em_response_header(req, "Idempotent-Replayed", "true");
		{
			json_object *id;

			if (json_object_object_get_ex(o, "id", &id)) {
				snprintf(where, sizeof where, "/api/v1/orders/%s",
					 json_object_get_string(id));
				em_response_header(req, "Location", where);
			}
		}
		em_response_json(req, status, o);
		return true;
	}
	case ORDERS_IDEM_PROCEED:
		break;
	}
	if (!orders_place(&req->app->store, &req->app->cfg, &in, &res, err)) {
		/* nothing was written: a retry with this key runs again */
		orders_idem_abandon(&req->app->store, &user, key);
		if (err->kind != EM_ERR_INTERNAL && err->kind != EM_ERR_UNAVAILABLE) {
			orders_problem(req, err, res.problem_extra);
			res.problem_extra = NULL;
			orders_place_result_release(&res);
			return true;
		}
		orders_place_result_release(&res);
		return false;
	}
	bson_oid_to_string(&res.order_id, hex);
	snprintf(where, sizeof where, "/api/v1/orders/%s", hex);
	em_response_header(req, "Location", where);
	em_response_json(req, 201, res.order);
	res.order = NULL;
	orders_place_result_release(&res);
	return true;
}

/* An order as its view, written from the stored document (read.c). */
static void orders_respond(struct em_request *req, int status, const bson_t *doc, bool staff)
{
	struct em_jsonbuf b = EM_JSONBUF_INIT;
	size_t len;
	char *body;

	em_jsonbuf_reserve(&b, 4096);
	orders_write(&b, doc, staff);
	body = em_jsonbuf_take(&b, &len);
	em_response_json_bytes(req, status, body, len);
}

static const char *const orders_list_params[] = { "limit", "cursor", "status", NULL };

/* Shared by the customer's and the staff's list. */
static bool orders_list_respond(struct em_request *req, struct orders_list_filter *f, bool staff,
				struct em_error *err)
{
	struct em_jsonbuf b = EM_JSONBUF_INIT;
	const char *cursor = NULL;
	bson_oid_t after, last;
	size_t len;
	char *body;
	char next[EM_PAGE_OID_CURSOR_SIZE] = "";
	enum orders_status st;
	int limit;
	bool more = false;

	if (!em_page_params(req, ORDERS_LIST_DEFAULT, &limit, &cursor, err))
		return false;
	if (cursor && !em_page_cursor_oid_decode(cursor, &after, err))
		return false;
	if (f->status && !orders_status_parse(f->status, &st)) {
		em_error_set(err, EM_ERR_INVALID, "status", "not an order status");
		return false;
	}
	em_jsonbuf_reserve(&b, 2048 * (size_t)(limit + 1));
	EM_JSONBUF_LIT(&b, "{\"items\":");
	if (!orders_list(&req->app->store, f, limit, cursor ? &after : NULL, staff, &b, &more,
			 &last, err)) {
		em_jsonbuf_free(&b);
		return false;
	}
	if (more)
		em_page_cursor_oid_encode(&last, next);
	/* em_page_respond's shape: {"items": [...], "next_cursor": string|null} */
	EM_JSONBUF_LIT(&b, ",\"next_cursor\":");
	em_jsonbuf_cstr(&b, next[0] ? next : NULL);
	em_jsonbuf_char(&b, '}');
	body = em_jsonbuf_take(&b, &len);
	em_response_json_bytes(req, 200, body, len);
	return true;
}

/* GET /api/v1/orders */
static bool orders_mine(struct em_request *req, struct em_error *err)
{
	struct orders_list_filter f;
	bson_oid_t user;

	memset(&f, 0, sizeof f);
	if (!em_request_query_check(req, orders_list_params, ORDERS_QUERY_VALUE_MAX, err) ||
	    !orders_caller(req, &user, err))
		return false;
	f.user_id = &user;
	f.status = em_request_query(req, "status");
	return orders_list_respond(req, &f, false, err);
}

/* GET /api/v1/orders/{id} and GET /api/v1/admin/orders/{id} */
static bool orders_read(struct em_request *req, bool staff, struct em_error *err)
{
	bson_oid_t id, user;
	bson_t doc;

	if (!em_request_query_check(req, NULL, ORDERS_QUERY_VALUE_MAX, err) ||
	    !orders_id_param(req, &id, err) ||
	    (!staff && !orders_caller(req, &user, err)) ||
	    !orders_find(&req->app->store, &id, staff ? NULL : &user, &doc, err))
		return false;
	orders_respond(req, 200, &doc, staff);
	bson_destroy(&doc);
	return true;
}

static bool orders_get(struct em_request *req, struct em_error *err)
{
	return orders_read(req, false, err);
}

static bool orders_admin_get(struct em_request *req, struct em_error *err)
{
	return orders_read(req, true, err);
}

/* Runs a transition and answers the order after it (or the refusal). */
static bool orders_transition_respond(struct em_request *req, const bson_oid_t *id,
				      const struct orders_transition *t, bool staff,
				      struct em_error *err)
{
	bson_t doc;

	if (!orders_transition_apply(&req->app->store, &req->app->cfg, id, t, &doc, err)) {
		if (err->kind == EM_ERR_CONFLICT || err->kind == EM_ERR_INVALID) {
			orders_problem(req, err, NULL);
			return true;
		}
		return false;
	}
	orders_respond(req, 200, &doc, staff);
	bson_destroy(&doc);
	return true;
}

/* POST /api/v1/orders/{id}/cancel: the customer's own pending order. */
static bool orders_cancel(struct em_request *req, struct em_error *err)
{
	bson_oid_t id, user;
	struct orders_transition t = { .to = ORDERS_CANCELLED, .actor = ORDERS_ACTOR_CUSTOMER,
				       .by_role = "customer", .note = "cancelled by the customer" };

	if (!em_request_query_check(req, NULL, ORDERS_QUERY_VALUE_MAX, err) ||
	    !orders_id_param(req, &id, err) ||
	    !orders_caller(req, &user, err))
		return false;
	t.by = &user;
	t.only_user = &user;
	return orders_transition_respond(req, &id, &t, false, err);
}

static const char *const orders_transition_fields[] = {
	"to", "note", "carrier", "tracking_number", "delivered_at", NULL,
};

/* POST /api/v1/admin/orders/{id}/transitions */
static bool orders_admin_transition(struct em_request *req, struct em_error *err)
{
	struct orders_transition t;
	bson_oid_t id, by;
	const char *to = NULL, *delivered = NULL;
	bool have_by;

	memset(&t, 0, sizeof t);
	if (!em_request_query_check(req, NULL, ORDERS_QUERY_VALUE_MAX, err) ||
	    !orders_id_param(req, &id, err))
		return false;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (em_json_check_fields(req->json, orders_transition_fields, err) || err->field[0]) {
		if (em_json_get_string(req->json, "to", 1, 32, true, &to, err) &&
		    !orders_status_parse(to, &t.to))
			em_error_setc(err, EM_ERR_INVALID, "to", EM_CODE_INVALID_VALUE,
				      "not an order status");
		em_json_get_string(req->json, "note", 0, ORDERS_NOTE_MAX, false, &t.note, err);
		em_json_get_string(req->json, "carrier", 1, ORDERS_CARRIER_MAX, false, &t.carrier,
				   err);
		em_json_get_string(req->json, "tracking_number", 1, ORDERS_TRACKING_MAX, false,
				   &t.tracking_number, err);
		if (em_json_get_string(req->json, "delivered_at", 1, 40, false, &delivered, err) &&
		    delivered && !cart_time_parse(delivered, &t.delivered_at))
			em_error_setc(err, EM_ERR_INVALID, "delivered_at", EM_CODE_INVALID_FORMAT,
				      "must be an RFC 3339 time");
	}
	if (!em_error_collect_end(err))
		return false;
	have_by = em_oid_parse(req->user_id, &by);
	t.by = have_by ? &by : NULL;
	t.by_role = req->role == EM_ROLE_ADMIN ? "admin" : "staff";
	t.actor = ORDERS_ACTOR_STAFF;
	return orders_transition_respond(req, &id, &t, true, err);
}

static const char *const orders_admin_params[] = {
	"limit", "cursor", "status", "payment_method", "number", "email", "from", "to", NULL,
};

/* GET /api/v1/admin/orders */
static bool orders_admin_list(struct em_request *req, struct em_error *err)
{
	struct orders_list_filter f;
	const char *from = em_request_query(req, "from"), *to = em_request_query(req, "to");
	const char *email = em_request_query(req, "email");
	char normal[256];

	memset(&f, 0, sizeof f);
	if (!em_request_query_check(req, orders_admin_params, ORDERS_QUERY_VALUE_MAX, err))
		return false;
	f.status = em_request_query(req, "status");
	f.payment_method = em_request_query(req, "payment_method");
	if (f.payment_method && strcmp(f.payment_method, "cod") != 0 &&
	    strcmp(f.payment_method, "sslcommerz") != 0) {
		em_error_set(err, EM_ERR_INVALID, "payment_method", "must be sslcommerz or cod");
		return false;
	}
	f.number = em_request_query(req, "number");
	if (f.number && !orders_number_valid(f.number)) {
		em_error_set(err, EM_ERR_INVALID, "number", "not an order number (EM-YYYY-NNNNNN)");
		return false;
	}
	if (email) {
		if (!auth_email_normalize(email, normal, sizeof normal, err)) {
			snprintf(err->field, sizeof err->field, "email");
			return false;
		}
		f.email = normal;
	}
	if (from && !cart_time_parse(from, &f.from_ms)) {
		em_error_set(err, EM_ERR_INVALID, "from", "must be an RFC 3339 time");
		return false;
	}
	if (to && !cart_time_parse(to, &f.to_ms)) {
		em_error_set(err, EM_ERR_INVALID, "to", "must be an RFC 3339 time");
		return false;
	}
	if (from && to && f.from_ms >= f.to_ms) {
		em_error_set(err, EM_ERR_INVALID, "to", "must be after from");
		return false;
	}
	return orders_list_respond(req, &f, true, err);
}

static const char *const orders_track_params[] = { "order", "email", NULL };

/* GET /api/v1/orders/track?order=&email= */
static bool orders_track_get(struct em_request *req, struct em_error *err)
{
	const char *number = em_request_query(req, "order"), *email = em_request_query(req, "email");
	struct em_jsonbuf b = EM_JSONBUF_INIT;
	char normal[256], *body;
	size_t len;

	if (!em_request_query_check(req, orders_track_params, ORDERS_QUERY_VALUE_MAX, err))
		return false;
	if (!number || !orders_number_valid(number)) {
		em_error_set(err, EM_ERR_INVALID, "order", "an order number (EM-YYYY-NNNNNN) is needed");
		return false;
	}
	if (!email || !auth_email_normalize(email, normal, sizeof normal, err)) {
		em_error_set(err, EM_ERR_INVALID, "email", "the order's e-mail address is needed");
		return false;
	}
	if (!orders_track(&req->app->store, number, normal, &b, err)) {
		em_jsonbuf_free(&b);
		return false;
	}
	body = em_jsonbuf_take(&b, &len);
	em_response_json_bytes(req, 200, body, len);
	return true;
}

static const struct em_route orders_table[] = {
	{ "POST", "/api/v1/orders", orders_create, EM_ROLE_CUSTOMER, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/orders", orders_mine, EM_ROLE_CUSTOMER, EM_BODY_NONE, NULL },
	/* before {id}: the literal wins over the placeholder */
	{ "GET", "/api/v1/orders/track", orders_track_get, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/orders/{id}", orders_get, EM_ROLE_CUSTOMER, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/orders/{id}/cancel", orders_cancel, EM_ROLE_CUSTOMER, EM_BODY_NONE,
	  NULL },
};

const struct em_route_table orders_routes = EM_ROUTE_TABLE("orders", orders_table);

static const struct em_route orders_admin_table[] = {
	{ "GET", "/api/v1/admin/orders", orders_admin_list, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/orders/{id}", orders_admin_get, EM_ROLE_STAFF, EM_BODY_NONE,
	  NULL },
	{ "POST", "/api/v1/admin/orders/{id}/transitions", orders_admin_transition, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
};

const struct em_route_table orders_admin_routes =
	EM_ROUTE_TABLE("admin-orders", orders_admin_table);
