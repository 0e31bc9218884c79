/*
 * payments_routes.c - HTTP for payments:
 *
 *   POST /api/v1/payments/sslcommerz/session   {order_id} (customer): a
 *        gateway session for the caller's own pending card order
 *   GET  /api/v1/payments/sslcommerz/session/{tran_id} (customer): it again
 *   POST /api/v1/payments/sslcommerz/ipn       the gateway's IPN (form)
 *   POST /api/v1/payments/sslcommerz/success|fail|cancel
 *        the customer's browser, POSTed back by the gateway's page: never
 *        a state change by itself; 303 to EMPORIUM_SHOP_URL
 *   GET  /api/v1/admin/payments/logs?order_id= (admin)
 *   POST /api/v1/admin/orders/{id}/refunds     {amount, reason} (admin,
 *        Idempotency-Key)
 *   POST /api/v1/admin/orders/{id}/payments    {method: "cod", amount}
 *        (staff): the cash collected for a COD order
 *   GET  /api/v1/admin/orders/{id}/payments[/{payment_id}],
 *        /api/v1/admin/orders/{id}/refunds[/{refund_id}] (staff)
 *
 * The gateway's callbacks take no CSRF token and no account (the
 * browser's POST from the gateway's page carries neither): the IPN is
 * believed only after verify_sign and the validation API, the returns
 * never by themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "http/page.h"
#include "orders/orders.h"
#include "payments/payments_internal.h"
#include "store/page.h"
#include "store/txn.h"

static struct em_store *pr_st(struct em_request *req)
{
	return &req->app->store;
}

static const struct em_config *pr_cfg(struct em_request *req)
{
	return &req->app->cfg;
}

static bool pr_user(struct em_request *req, bson_oid_t *uid, struct em_error *err)
{
	if (!em_oid_parse(req->user_id, uid)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "no signed-in account");
		return false;
	}
	return true;
}

/* ---- session ---- */

struct session_ctx {
	struct em_store *st;
	const bson_oid_t *order_id, *user_id;
	const char *tran_id;
	int64_t amount;
	const char *currency;
};

/*
 * Voids the order's open attempt and opens a new one. The order itself
 * is written too ({status: pending, payment_status: unpaid} compared and
 * payment_tran_id set), so two sessions started at once conflict there
 * and one reruns, voiding the other: one open attempt per order.
 */
static bool session_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			struct em_error *err)
{
	struct session_ctx *c = vctx;
	mongoc_collection_t *orders = store_collection(c->st, "orders"),
			    *attempts = store_collection(c->st, "payment_attempts");
	bson_t opts = BSON_INITIALIZER, reply, doc = BSON_INITIALIZER;
	bson_t *of = BCON_NEW("_id", BCON_OID(c->order_id), "status", BCON_UTF8("pending"),
			      "payment_status", BCON_UTF8("unpaid"));
	bson_t *ou = BCON_NEW("$set", "{", "payment_tran_id", BCON_UTF8(c->tran_id), "}");
	bson_t *af = BCON_NEW("order_id", BCON_OID(c->order_id), "status", BCON_UTF8("open"));
	int64_t now = em_now_ms();
	bson_t *au = BCON_NEW("$set", "{", "status", BCON_UTF8("void"), "updated_at",
			      BCON_DATE_TIME(now), "}");
	bson_iter_t it;
	bool ok = false;

	bson_init(&reply);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(orders, of, ou, &opts, &reply, berr)) {
		store_error_set(err, berr, "order payment session");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, "order_id", "the order no longer waits for payment");
		goto done;
	}
	if (!mongoc_collection_update_many(attempts, af, au, &opts, NULL, berr)) {
		store_error_set(err, berr, "void payment attempts");
		goto done;
	}
	BSON_APPEND_OID(&doc, "order_id", c->order_id);
	BSON_APPEND_OID(&doc, "user_id", c->user_id);
	BSON_APPEND_UTF8(&doc, "tran_id", c->tran_id);
	BSON_APPEND_UTF8(&doc, "provider", "sslcommerz");
	BSON_APPEND_UTF8(&doc, "status", "open");
	BSON_APPEND_INT64(&doc, "amount", c->amount);
	BSON_APPEND_UTF8(&doc, "currency", c->currency);
	BSON_APPEND_NULL(&doc, "sessionkey");
	BSON_APPEND_NULL(&doc, "gateway_url");
	BSON_APPEND_DATE_TIME(&doc, "checked_at", now);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	if (!mongoc_collection_insert_one(attempts, &doc, &opts, NULL, berr)) {
		store_error_set(err, berr, "open payment attempt");
		goto done;
	}
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&opts);
	bson_destroy(&doc);
	bson_destroy(of);
	bson_destroy(ou);
	bson_destroy(af);
	bson_destroy(au);
	mongoc_collection_destroy(orders);
	mongoc_collection_destroy(attempts);
	return ok;
}

static bool pr_session(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { "order_id", NULL };
	const struct payments_config *pc = payments_config(pr_cfg(req));
	const char *oid_text;
	bson_oid_t uid, oid;
	bson_t order;
	bool have_order = false, ok = false;
	char tran_id[PAYMENTS_TRAN_ID_MAX + 1];
	struct payments_init_res res;
	struct session_ctx c;
	json_object *out;
	bson_iter_t it;

	if (!pr_user(req, &uid, err))
		goto done;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if ((em_json_check_fields(req->json, allowed, err) || err->field[0]) &&
	    em_json_get_string(req->json, "order_id", 24, 24, true, &oid_text, err) &&
	    !em_oid_parse(oid_text, &oid))
		em_error_setc(err, EM_ERR_INVALID, "order_id", EM_CODE_INVALID_FORMAT,
			      "is not an order id");
	if (!em_error_collect_end(err))
		goto done;
	/* another customer's order is the same 404 as no order */
	if (!orders_find(pr_st(req), &oid, &uid, &order, err))
		goto done;
	have_order = true;
	if (strcmp(pay_str(&order, "payment_method"), "sslcommerz") != 0) {
		em_error_set(err, EM_ERR_CONFLICT, "order_id", "the order is not paid by card");
		goto done;
	}
	if (strcmp(pay_str(&order, "payment_status"), "unpaid") != 0) {
		em_error_set(err, EM_ERR_CONFLICT, "order_id", "the order is paid already");
		goto done;
	}
	if (strcmp(pay_str(&order, "status"), "pending") != 0) {
		em_error_set(err, EM_ERR_CONFLICT, "order_id", "the order is %s; it takes no payment",
			     pay_str(&order, "status"));
		goto done;
	}
	if (!pc->store_id[0]) {
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "card payments are not configured");
		goto done;
	}
	payments_tran_id_new(tran_id);
	c.st = pr_st(req);
	c.order_id = &oid;
	c.user_id = &uid;
	c.tran_id = tran_id;
	c.amount = pay_int64(&order, "total", -1);
	c.currency = pay_str(&order, "currency");
	if (c.amount < 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the order has no total");
		goto done;
	}
	if (!store_txn_run(pr_st(req), session_txn, &c, err))
		goto done;
	{
		struct payments_call call = { pr_st(req), pr_cfg(req), &oid, tran_id };
		struct payments_init_req in = { &order, tran_id };
		bson_error_t berr;

		memset(&res, 0, sizeof res);
		if (!payments_sslcommerz.init(&call, &in, &res, err)) {
			struct em_error e2 = EM_ERROR_INIT;

			if (!pay_attempt_mark(pr_st(req), NULL, tran_id, "open", "failed", &berr, &e2))
				em_warn("attempt %s not marked failed: %s", tran_id, e2.message);
			goto done;
		}
		{
			mongoc_collection_t *coll = store_collection(pr_st(req), "payment_attempts");
			bson_t *f = BCON_NEW("tran_id", BCON_UTF8(tran_id));
			bson_t *u = BCON_NEW("$set", "{", "sessionkey", BCON_UTF8(res.sessionkey),
					     "gateway_url", BCON_UTF8(res.gateway_url), "}");
			bool w = mongoc_collection_update_one(coll, f, u, NULL, NULL, &berr);

			bson_destroy(f);
			bson_destroy(u);
			mongoc_collection_destroy(coll);
			if (!w) {
				store_error_set(err, &berr, "payment session");
				goto done;
			}
		}
	}
	out = json_object_new_object();
	json_object_object_add(out, "gateway_url", json_object_new_string(res.gateway_url));
	json_object_object_add(out, "tran_id", json_object_new_string(tran_id));
	if (bson_iter_init_find(&it, &order, "expires_at") && BSON_ITER_HOLDS_DATE_TIME(&it)) {
		char when[EM_TIME_RFC3339_SIZE];

		if (em_time_rfc3339(bson_iter_date_time(&it), when, sizeof when))
			json_object_object_add(out, "expires_at", json_object_new_string(when));
		else
			json_object_object_add(out, "expires_at", NULL);
	} else {
		json_object_object_add(out, "expires_at", NULL);
	}
	{
		/* 201 names what it made: the payment attempt, the caller's own */
		char loc[96];

		snprintf(loc, sizeof loc, "/api/v1/payments/sslcommerz/session/%s", tran_id);
		em_response_header(req, "Location", loc);
	}
	em_response_json(req, 201, out);
	ok = true;
done:
	if (have_order)
		bson_destroy(&order);
	return ok;
}

/* A tran_id as payments_tran_id_new makes them (a path parameter: else 404). */
static bool pr_tran_id_ok(const char *s)
{
	size_t n = s ? strnlen(s, PAYMENTS_TRAN_ID_MAX + 1) : 0;

	if (n == 0 || n > PAYMENTS_TRAN_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static void pr_json_date(json_object *o, const char *name, const bson_t *doc, const char *key);

/*
 * GET /api/v1/payments/sslcommerz/session/{tran_id} (customer): the
 * payment attempt a session opened, the caller's own only (another's is
 * the same 404 as none). Never the gateway's session key.
 */
static bool pr_session_get(struct em_request *req, struct em_error *err)
{
	const char *tran_id = em_request_path_param(req, "tran_id");
	bson_t filter = BSON_INITIALIZER, doc;
	bson_error_t berr;
	bson_oid_t uid;
	bool found = false, ok = false;
	json_object *out;
	char hex[25];

	if (!pr_user(req, &uid, err))
		goto done;
	if (!pr_tran_id_ok(tran_id)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such payment session");
		goto done;
	}
	BSON_APPEND_UTF8(&filter, "tran_id", tran_id);
	BSON_APPEND_OID(&filter, "user_id", &uid);
	if (!pay_find_one(NULL, pr_st(req), "payment_attempts", &filter, &doc, &found, &berr, err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such payment session");
		goto done;
	}
	out = json_object_new_object();
	if (!out) {
		bson_destroy(&doc);
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	json_object_object_add(out, "tran_id", json_object_new_string(pay_str(&doc, "tran_id")));
	bson_oid_to_string(pay_oid(&doc, "order_id"), hex);
	json_object_object_add(out, "order_id", json_object_new_string(hex));
	json_object_object_add(out, "status", json_object_new_string(pay_str(&doc, "status")));
	json_object_object_add(out, "amount", json_object_new_int64(pay_int64(&doc, "amount", 0)));
	json_object_object_add(out, "currency", json_object_new_string(pay_str(&doc, "currency")));
	json_object_object_add(out, "gateway_url", pay_str(&doc, "gateway_url")[0] ?
			       json_object_new_string(pay_str(&doc, "gateway_url")) : NULL);
	pr_json_date(out, "created_at", &doc, "created_at");
	bson_destroy(&doc);
	em_response_json(req, 200, out);
	ok = true;
done:
	bson_destroy(&filter);
	return ok;
}

/* ---- the gateway's callbacks ---- */

static bool pr_form_type(struct em_request *req, struct em_error *err)
{
	const char *ct = em_request_header(req, "Content-Type");

	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ct[33] != '\0' && ct[33] != ';')) {
		em_error_set(err, EM_ERR_MEDIA_TYPE, NULL,
			     "the gateway's callbacks are application/x-www-form-urlencoded");
		return false;
	}
	return true;
}

/* The order of a tran_id (for the log and the redirect), if any. */
static bool pr_attempt_order(struct em_request *req, const char *tran_id, bson_oid_t *order_id)
{
	bson_t filter = BSON_INITIALIZER, doc;
	bson_error_t berr;
	struct em_error e = EM_ERROR_INIT;
	bool found = false;

	if (!tran_id || !tran_id[0] || strlen(tran_id) > PAYMENTS_TRAN_ID_MAX) {
		bson_destroy(&filter);
		return false;
	}
	BSON_APPEND_UTF8(&filter, "tran_id", tran_id);
	if (pay_find_one(NULL, pr_st(req), "payment_attempts", &filter, &doc, &found, &berr, &e) &&
	    found) {
		found = pay_oid(&doc, "order_id") != NULL;
		if (found)
			bson_oid_copy(pay_oid(&doc, "order_id"), order_id);
		bson_destroy(&doc);
	}
	bson_destroy(&filter);
	return found;
}

/* Logs an incoming callback; form may be NULL (unparseable). */
static void pr_log_in(struct em_request *req, const char *kind, const struct em_kv_list *form,
		      const char *error)
{
	const char *tran_id = form ? em_kv_list_get(form, "tran_id") : NULL;
	bson_oid_t oid;
	bool have = pr_attempt_order(req, tran_id, &oid);
	struct payments_call call = { pr_st(req), pr_cfg(req), have ? &oid : NULL,
				      have ? tran_id : NULL };
	char url[128];
	struct payments_log_entry e = {
		.direction = "in", .kind = kind, .method = req->method, .url = url, .fields = form,
		.http_status = 0, .duration_ms = 0, .response = NULL, .error = error,
	};

	snprintf(url, sizeof url, "/api/v1/payments/sslcommerz/%s", kind);
	payments_log_write(&call, &e);
}

static bool pr_ipn(struct em_request *req, struct em_error *err)
{
	const struct payments_config *pc = payments_config(pr_cfg(req));
	struct em_kv_list form = { NULL, 0 };
	enum payments_outcome outcome;
	json_object *out;
	bool ok = false;

	if (!pr_form_type(req, err) || !payments_form_parse(req->body, req->body_len, &form, err)) {
		pr_log_in(req, "ipn", NULL, err->message);
		goto done;
	}
	if (!pc->store_password[0] || !payments_sslcommerz_verify(&form, pc->store_password)) {
		pr_log_in(req, "ipn", &form, "verify_sign does not match");
		em_error_set(err, EM_ERR_INVALID, "verify_sign", "the signature does not match");
		em_metrics_event(EM_EV_PAYMENT_REFUSED);
		goto done;
	}
	pr_log_in(req, "ipn", &form, NULL);
	if (!payments_notification_apply(pr_st(req), pr_cfg(req),
					 em_kv_list_get(&form, "status") ? em_kv_list_get(&form, "status") : "",
					 em_kv_list_get(&form, "tran_id"),
					 em_kv_list_get(&form, "val_id"),
					 em_kv_list_get(&form, "store_id") ? em_kv_list_get(&form, "store_id") : "",
					 true, &outcome, NULL, err))
		goto done;
	out = json_object_new_object();
	json_object_object_add(out, "status", json_object_new_string(payments_outcome_name(outcome)));
	em_response_json(req, 200, out);
	ok = true;
done:
	em_kv_list_release(&form);
	return ok;
}

/*
 * A browser return. Success runs the same path as the IPN (which may come
 * late) when the form is signed; nothing else changes anything. Always
 * 303 to the shop, with what we know.
 */
static bool pr_return(struct em_request *req, const char *kind)
{
	const struct payments_config *pc = payments_config(pr_cfg(req));
	struct em_kv_list form = { NULL, 0 };
	struct em_error e = EM_ERROR_INIT;
	const char *outcome = strcmp(kind, "success") == 0 ? "pending" :
			      strcmp(kind, "fail") == 0 ? "failed" : "cancelled";
	char where[EM_CONFIG_STR_MAX + 128], hex[25] = "";
	bson_oid_t oid;

	if (!pr_form_type(req, &e) || !payments_form_parse(req->body, req->body_len, &form, &e)) {
		pr_log_in(req, kind, NULL, e.message);
		outcome = "error";
	} else {
		const char *tran_id = em_kv_list_get(&form, "tran_id");
		bool signed_ok = pc->store_password[0] &&
				 payments_sslcommerz_verify(&form, pc->store_password);

		pr_log_in(req, kind, &form, signed_ok ? NULL : "verify_sign does not match");
		if (pr_attempt_order(req, tran_id, &oid))
			bson_oid_to_string(&oid, hex);
		if (strcmp(kind, "success") == 0 && signed_ok) {
			enum payments_outcome o;
			const char *st = em_kv_list_get(&form, "status");

			if (st && (strcmp(st, "VALID") == 0 || strcmp(st, "VALIDATED") == 0) &&
			    payments_notification_apply(pr_st(req), pr_cfg(req), st, tran_id,
							em_kv_list_get(&form, "val_id"),
							em_kv_list_get(&form, "store_id") ?
								em_kv_list_get(&form, "store_id") : "",
							true, &o, NULL, &e))
				outcome = o == PAYMENTS_APPLIED || o == PAYMENTS_REPLAY ? "paid" :
					  o == PAYMENTS_LATE ? "refunded" : "pending";
			else
				outcome = "failed";
		} else if (strcmp(kind, "success") == 0) {
			outcome = "failed";
		}
	}
	snprintf(where, sizeof where, "%s/checkout/payment?status=%s%s%s", pc->shop_url, outcome,
		 hex[0] ? "&order=" : "", hex);
	em_kv_list_release(&form);
	if (!em_response_header(req, "Location", where)) {
		em_response_problem(req, 500, "the redirect could not be written", NULL);
		return true;
	}
	em_response_empty(req, 303);
	return true;
}

static bool pr_success(struct em_request *req, struct em_error *err)
{
	(void)err;
	return pr_return(req, "success");
}

static bool pr_fail(struct em_request *req, struct em_error *err)
{
	(void)err;
	return pr_return(req, "fail");
}

static bool pr_cancel(struct em_request *req, struct em_error *err)
{
	(void)err;
	return pr_return(req, "cancel");
}

/* ---- admin: the log ---- */

static json_object *pr_log_item(const bson_t *doc, void *ctx)
{
	json_object *o = json_object_new_object(), *fields = json_object_new_object();
	bson_iter_t it, f;
	char hex[25], when[EM_TIME_RFC3339_SIZE];
	static const char *const texts[] = { "tran_id", "direction", "kind", "method", "url",
					     "response", "error" };

	(void)ctx;
	bson_oid_to_string(pay_oid(doc, "_id"), hex);
	json_object_object_add(o, "id", json_object_new_string(hex));
	if (pay_oid(doc, "order_id")) {
		bson_oid_to_string(pay_oid(doc, "order_id"), hex);
		json_object_object_add(o, "order_id", json_object_new_string(hex));
	} else {
		json_object_object_add(o, "order_id", NULL);
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		json_object_object_add(o, texts[i], bson_iter_init_find(&it, doc, texts[i]) &&
						    BSON_ITER_HOLDS_UTF8(&it) ?
						    json_object_new_string(bson_iter_utf8(&it, NULL)) : NULL);
	if (bson_iter_init_find(&it, doc, "fields") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	    bson_iter_recurse(&it, &f))
		while (bson_iter_next(&f))
			if (BSON_ITER_HOLDS_UTF8(&f))
				json_object_object_add(fields, bson_iter_key(&f),
						       json_object_new_string(bson_iter_utf8(&f, NULL)));
	json_object_object_add(o, "fields", fields);
	json_object_object_add(o, "http_status", json_object_new_int64(pay_int64(doc, "http_status", 0)));
	json_object_object_add(o, "duration_ms", json_object_new_int64(pay_int64(doc, "duration_ms", 0)));
	if (bson_iter_init_find(&it, doc, "at") && BSON_ITER_HOLDS_DATE_TIME(&it) &&
	    em_time_rfc3339(bson_iter_date_time(&it), when, sizeof when))
		json_object_object_add(o, "at", json_object_new_string(when));
	else
		json_object_object_add(o, "at", NULL);
	return o;
}

static bool pr_logs(struct em_request *req, struct em_error *err)
{
	const char *order = em_request_query(req, "order_id"), *cursor = NULL;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_t filter = BSON_INITIALIZER, last = BSON_INITIALIZER, range, *opts = NULL;
	json_object *items = NULL;
	bson_error_t berr;
	bson_oid_t oid, after;
	char next[EM_PAGE_OID_CURSOR_SIZE] = "";
	int limit;
	bool more = false, ok = false;

	if (!em_page_params(req, 50, &limit, &cursor, err) ||
	    (cursor && !em_page_cursor_oid_decode(cursor, &after, err)))
		goto done;
	if (order) {
		if (!em_oid_parse(order, &oid)) {
			em_error_set(err, EM_ERR_INVALID, "order_id", "is not an order id");
			goto done;
		}
		BSON_APPEND_OID(&filter, "order_id", &oid);
	}
	if (cursor) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &range);
		BSON_APPEND_OID(&range, "$gt", &after);
		bson_append_document_end(&filter, &range);
	}
	opts = BCON_NEW("limit", BCON_INT64(limit + 1), "sort", "{", "_id", BCON_INT32(1), "}");
	coll = store_collection(pr_st(req), "payment_logs");
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	if (!store_page_collect(cur, limit, pr_log_item, NULL, "list payment logs", &items, &last,
				&more, &berr, err))
		goto done;
	if (more)
		em_page_cursor_oid_from_doc(&last, next);
	em_page_respond(req, items, next);
	items = NULL;
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	if (opts)
		bson_destroy(opts);
	bson_destroy(&filter);
	bson_destroy(&last);
	return ok;
}

/* ---- admin: refunds ---- */

struct refund_ctx {
	struct em_store *st;
	const bson_t *payment;
	int64_t amount;
	const char *reason, *key;
	const bson_oid_t *by;
	bson_oid_t refund_id;
};

static bool refund_route_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			     struct em_error *err)
{
	struct refund_ctx *c = vctx;

	return pay_refund_request(session, c->st, c->payment, c->amount, c->reason, c->key, c->by,
				  &c->refund_id, berr, err);
}

static json_object *pr_refund_json(const bson_t *r)
{
	json_object *o = json_object_new_object();
	char hex[25];

	bson_oid_to_string(pay_oid(r, "_id"), hex);
	json_object_object_add(o, "id", json_object_new_string(hex));
	json_object_object_add(o, "amount", json_object_new_int64(pay_int64(r, "amount", 0)));
	json_object_object_add(o, "currency", json_object_new_string(pay_str(r, "currency")));
	json_object_object_add(o, "reason", json_object_new_string(pay_str(r, "reason")));
	json_object_object_add(o, "status", json_object_new_string(pay_str(r, "status")));
	return o;
}

/*
 * A refund's answer, first or replayed: 201 when it is done at once (cash,
 * given back by hand), 202 when the gateway still has to pay it; either
 * way with the refund's Location.
 */
static void pr_refund_respond(struct em_request *req, const bson_oid_t *order_id,
			      const bson_t *r, bool manual, bool replayed)
{
	char loc[128], ohex[25], rhex[25];

	bson_oid_to_string(order_id, ohex);
	bson_oid_to_string(pay_oid(r, "_id"), rhex);
	snprintf(loc, sizeof loc, "/api/v1/admin/orders/%s/refunds/%s", ohex, rhex);
	em_response_header(req, "Location", loc);
	if (replayed)
		em_response_header(req, "Idempotent-Replayed", "true");
	em_response_json(req, manual ? 201 : 202, pr_refund_json(r));
}

static bool pr_refund(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { "amount", "reason", NULL };
	const char *key = NULL, *reason = NULL;
	bson_oid_t oid, by;
	bson_t filter = BSON_INITIALIZER, payment, existing;
	bson_error_t berr;
	bool have_payment = false, found = false, ok = false, present;
	int64_t amount;
	struct refund_ctx c;

	if (!em_request_idempotency_key(req, true, "a refund", &key, err) || !pr_user(req, &by, err))
		goto done;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (em_json_check_fields(req->json, allowed, err) || err->field[0]) {
		em_json_get_int64(req->json, "amount", 1, PAYMENTS_REQUEST_AMOUNT_MAX, true, &present,
				  &amount, err);
		em_json_get_string(req->json, "reason", 1, 255, true, &reason, err);
	}
	if (!em_error_collect_end(err))
		goto done;
	if (!em_oid_parse(em_request_path_param(req, "id"), &oid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such order");
		goto done;
	}
	/* the same key again: the refund it made (another body: 422) */
	BSON_APPEND_OID(&filter, "order_id", &oid);
	BSON_APPEND_UTF8(&filter, "idem_key", key);
	if (!pay_find_one(NULL, pr_st(req), "refunds", &filter, &existing, &found, &berr, err))
		goto done;
	if (found) {
		bool same = pay_int64(&existing, "amount", -1) == amount &&
			    strcmp(pay_str(&existing, "reason"), reason) == 0;

		if (same)
			pr_refund_respond(req, &oid, &existing,
					  strcmp(pay_str(&existing, "method"), "manual") == 0, true);
		else
			em_error_set(err, EM_ERR_UNPROCESSABLE, "Idempotency-Key",
				     "was used for another refund of this order");
		bson_destroy(&existing);
		ok = same;
		goto done;
	}
	bson_reinit(&filter);
	/* the order's own payment: by card through the gateway, or cash on
	 * delivery, whose refund staff give back by hand (recorded as done) */
	BSON_APPEND_OID(&filter, "order_id", &oid);
	BSON_APPEND_UTF8(&filter, "applied", "order");
	if (!pay_find_one(NULL, pr_st(req), "payments", &filter, &payment, &have_payment, &berr, err))
		goto done;
	if (!have_payment) {
		bson_t order;
		bool order_found = false;

		bson_reinit(&filter);
		BSON_APPEND_OID(&filter, "_id", &oid);
		if (!pay_find_one(NULL, pr_st(req), "orders", &filter, &order, &order_found, &berr, err))
			goto done;
		if (order_found)
			bson_destroy(&order);
		if (order_found)
			em_error_set(err, EM_ERR_CONFLICT, "amount", "the order has no payment to refund");
		else
			em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such order");
		goto done;
	}
	memset(&c, 0, sizeof c);
	c.st = pr_st(req);
	c.payment = &payment;
	c.amount = amount;
	c.reason = reason;
	c.key = key;
	c.by = &by;
	if (!store_txn_run(pr_st(req), refund_route_txn, &c, err)) {
		/* two requests with one key at once: the index lets one through */
		if (err->kind == EM_ERR_CONFLICT && strstr(err->message, "duplicate"))
			em_error_set(err, EM_ERR_CONFLICT, "Idempotency-Key", "a refund with this key is running");
		goto done;
	}
	{
		bson_t r = BSON_INITIALIZER;

		BSON_APPEND_OID(&r, "_id", &c.refund_id);
		BSON_APPEND_INT64(&r, "amount", amount);
		BSON_APPEND_UTF8(&r, "currency", pay_str(&payment, "currency"));
		BSON_APPEND_UTF8(&r, "reason", reason);
		bool manual = strcmp(pay_str(&payment, "method"), "cod") == 0;

		BSON_APPEND_UTF8(&r, "status", manual ? "refunded" : "requested");
		pr_refund_respond(req, &oid, &r, manual, false);
		bson_destroy(&r);
	}
	ok = true;
done:
	if (have_payment)
		bson_destroy(&payment);
	bson_destroy(&filter);
	return ok;
}

/* ---- admin: an order's payments and refunds ---- */

static void pr_json_date(json_object *o, const char *name, const bson_t *doc, const char *key)
{
	bson_iter_t it;
	char when[EM_TIME_RFC3339_SIZE];

	if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_DATE_TIME(&it) &&
	    em_time_rfc3339(bson_iter_date_time(&it), when, sizeof when))
		json_object_object_add(o, name, json_object_new_string(when));
	else
		json_object_object_add(o, name, NULL);
}

static json_object *pr_payment_item(const bson_t *doc, void *ctx)
{
	json_object *o = json_object_new_object();
	char hex[25];

	(void)ctx;
	bson_oid_to_string(pay_oid(doc, "_id"), hex);
	json_object_object_add(o, "id", json_object_new_string(hex));
	json_object_object_add(o, "method", json_object_new_string(pay_str(doc, "method")));
	json_object_object_add(o, "tran_id", json_object_new_string(pay_str(doc, "tran_id")));
	json_object_object_add(o, "amount", json_object_new_int64(pay_int64(doc, "amount", 0)));
	json_object_object_add(o, "currency", json_object_new_string(pay_str(doc, "currency")));
	json_object_object_add(o, "refunded", json_object_new_int64(pay_int64(doc, "refunded", 0)));
	json_object_object_add(o, "applied", json_object_new_string(pay_str(doc, "applied")));
	json_object_object_add(o, "bank_tran_id", json_object_new_string(pay_str(doc, "bank_tran_id")));
	json_object_object_add(o, "card_brand", json_object_new_string(pay_str(doc, "card_brand")));
	json_object_object_add(o, "risk_level", json_object_new_int64(pay_int64(doc, "risk_level", 0)));
	pr_json_date(o, "created_at", doc, "created_at");
	return o;
}

static json_object *pr_refund_item(const bson_t *doc, void *ctx)
{
	json_object *o = pr_refund_json(doc);

	(void)ctx;
	json_object_object_add(o, "refund_ref_id", pay_str(doc, "refund_ref_id")[0] ?
			       json_object_new_string(pay_str(doc, "refund_ref_id")) : NULL);
	pr_json_date(o, "created_at", doc, "created_at");
	pr_json_date(o, "updated_at", doc, "updated_at");
	return o;
}

/* Every payment or refund of the order, oldest first (a handful: no pages). */
static bool pr_order_list(struct em_request *req, const char *collection, store_page_render_fn fn,
			  struct em_error *err)
{
	bson_oid_t oid;
	bson_t order, filter = BSON_INITIALIZER, last = BSON_INITIALIZER;
	bson_t *opts = BCON_NEW("limit", BCON_INT64(101), "sort", "{", "_id", BCON_INT32(1), "}");
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	json_object *items = NULL, *out;
	bson_error_t berr;
	bool more = false, ok = false;

	if (!em_oid_parse(em_request_path_param(req, "id"), &oid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such order");
		goto done;
	}
	if (!orders_find(pr_st(req), &oid, NULL, &order, err))
		goto done;
	bson_destroy(&order);
	BSON_APPEND_OID(&filter, "order_id", &oid);
	coll = store_collection(pr_st(req), collection);
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	if (!store_page_collect(cur, 100, fn, NULL, collection, &items, &last, &more, &berr, err))
		goto done;
	out = json_object_new_object();
	json_object_object_add(out, "items", items);
	items = NULL;
	em_response_json(req, 200, out);
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(opts);
	bson_destroy(&filter);
	bson_destroy(&last);
	return ok;
}

static bool pr_payments_list(struct em_request *req, struct em_error *err)
{
	return pr_order_list(req, "payments", pr_payment_item, err);
}

static bool pr_refunds_list(struct em_request *req, struct em_error *err)
{
	return pr_order_list(req, "refunds", pr_refund_item, err);
}

/* One payment or refund of the order, by the path's {param} (else 404). */
static bool pr_order_one(struct em_request *req, const char *collection, const char *param,
			 store_page_render_fn fn, struct em_error *err)
{
	bson_oid_t oid, id;
	bson_t filter = BSON_INITIALIZER, doc;
	bson_error_t berr;
	bool found = false, ok = false;
	json_object *out;

	if (!em_oid_parse(em_request_path_param(req, "id"), &oid) ||
	    !em_oid_parse(em_request_path_param(req, param), &id)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such %s", param);
		goto done;
	}
	BSON_APPEND_OID(&filter, "_id", &id);
	BSON_APPEND_OID(&filter, "order_id", &oid);
	if (!pay_find_one(NULL, pr_st(req), collection, &filter, &doc, &found, &berr, err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such %s of this order", param);
		goto done;
	}
	out = fn(&doc, NULL);
	bson_destroy(&doc);
	if (!out) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	em_response_json(req, 200, out);
	ok = true;
done:
	bson_destroy(&filter);
	return ok;
}

/* GET /api/v1/admin/orders/{id}/payments/{payment_id} (staff) */
static bool pr_payment_get(struct em_request *req, struct em_error *err)
{
	return pr_order_one(req, "payments", "payment_id", pr_payment_item, err);
}

/* GET /api/v1/admin/orders/{id}/refunds/{refund_id} (staff) */
static bool pr_refund_get(struct em_request *req, struct em_error *err)
{
	return pr_order_one(req, "refunds", "refund_id", pr_refund_item, err);
}

/* ---- admin: cash collected ---- */

struct cod_ctx {
	struct em_store *st;
	const bson_oid_t *order_id, *by;
	int64_t amount;
	const char *currency;
	bson_oid_t payment_id; /* out: the payment recorded */
};

static bool cod_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
		    struct em_error *err)
{
	struct cod_ctx *c = vctx;
	mongoc_collection_t *pays = store_collection(c->st, "payments"),
			    *orders = store_collection(c->st, "orders");
	bson_t doc = BSON_INITIALIZER, opts = BSON_INITIALIZER, reply;
	char hex[25], tran[40];
	int64_t now = em_now_ms();
	bson_t *of = BCON_NEW("_id", BCON_OID(c->order_id), "payment_status", BCON_UTF8("unpaid"));
	bson_t *ou;
	bson_oid_t pid;
	bson_iter_t it;
	bool ok = false;

	bson_init(&reply);
	bson_oid_init(&pid, NULL);
	bson_oid_copy(&pid, &c->payment_id);
	ou = BCON_NEW("$set", "{", "payment_status", BCON_UTF8("paid"), "payment_id", BCON_OID(&pid),
		      "updated_at", BCON_DATE_TIME(now), "}");
	bson_oid_to_string(c->order_id, hex);
	/* one cash payment per order: its ids are the order's */
	snprintf(tran, sizeof tran, "cod-%s", hex);
	BSON_APPEND_OID(&doc, "_id", &pid);
	BSON_APPEND_OID(&doc, "order_id", c->order_id);
	BSON_APPEND_UTF8(&doc, "tran_id", tran);
	BSON_APPEND_UTF8(&doc, "val_id", tran);
	BSON_APPEND_UTF8(&doc, "method", "cod");
	BSON_APPEND_INT64(&doc, "amount", c->amount);
	BSON_APPEND_UTF8(&doc, "currency", c->currency);
	BSON_APPEND_INT64(&doc, "refund_reserved", 0);
	BSON_APPEND_INT64(&doc, "refunded", 0);
	BSON_APPEND_UTF8(&doc, "applied", "order");
	BSON_APPEND_OID(&doc, "collected_by", c->by);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(orders, of, ou, &opts, &reply, berr)) {
		store_error_set(err, berr, "mark order paid");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, "amount", "the order is paid already");
		goto done;
	}
	if (!mongoc_collection_insert_one(pays, &doc, &opts, NULL, berr)) {
		store_error_set(err, berr, "record cash payment");
		goto done;
	}
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&doc);
	bson_destroy(&opts);
	bson_destroy(of);
	bson_destroy(ou);
	mongoc_collection_destroy(pays);
	mongoc_collection_destroy(orders);
	return ok;
}

static bool pr_cod_collect(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { "method", "amount", NULL };
	const char *method = NULL;
	bson_oid_t oid, by;
	bson_t order;
	bool have_order = false, ok = false, present;
	int64_t amount;
	struct cod_ctx c;
	const char *status;
	json_object *out;

	if (!pr_user(req, &by, err))
		goto done;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (em_json_check_fields(req->json, allowed, err) || err->field[0]) {
		if (em_json_get_string(req->json, "method", 1, 16, true, &method, err) &&
		    strcmp(method, "cod") != 0)
			em_error_setc(err, EM_ERR_INVALID, "method", EM_CODE_INVALID_VALUE,
				      "only cod is recorded by staff");
		em_json_get_int64(req->json, "amount", 0, PAYMENTS_REQUEST_AMOUNT_MAX, true,
				  &present, &amount, err);
	}
	if (!em_error_collect_end(err))
		goto done;
	if (!em_oid_parse(em_request_path_param(req, "id"), &oid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such order");
		goto done;
	}
	if (!orders_find(pr_st(req), &oid, NULL, &order, err))
		goto done;
	have_order = true;
	status = pay_str(&order, "status");
	if (strcmp(pay_str(&order, "payment_method"), "cod") != 0) {
		em_error_set(err, EM_ERR_CONFLICT, "method", "the order is not cash on delivery");
		goto done;
	}
	if (strcmp(status, "processing") != 0 && strcmp(status, "shipped") != 0 &&
	    strcmp(status, "delivered") != 0) {
		em_error_set(err, EM_ERR_CONFLICT, "method",
			     "the order is %s; cash is collected once it is confirmed", status);
		goto done;
	}
	if (amount != pay_int64(&order, "total", -1)) {
		em_error_set(err, EM_ERR_INVALID, "amount", "must equal the order's total (%lld)",
			     (long long)pay_int64(&order, "total", -1));
		goto done;
	}
	c.st = pr_st(req);
	c.order_id = &oid;
	c.by = &by;
	c.amount = amount;
	c.currency = pay_str(&order, "currency");
	if (!store_txn_run(pr_st(req), cod_txn, &c, err)) {
		if (err->kind == EM_ERR_CONFLICT && err->field[0] == '\0')
			em_error_set(err, EM_ERR_CONFLICT, "amount", "the order is paid already");
		goto done;
	}
	{
		/* 201 names what it made: the payment, listed with the order's */
		char loc[128], ohex[25], phex[25];

		bson_oid_to_string(&oid, ohex);
		bson_oid_to_string(&c.payment_id, phex);
		snprintf(loc, sizeof loc, "/api/v1/admin/orders/%s/payments/%s", ohex, phex);
		em_response_header(req, "Location", loc);
		out = json_object_new_object();
		json_object_object_add(out, "id", json_object_new_string(phex));
	}
	json_object_object_add(out, "method", json_object_new_string("cod"));
	json_object_object_add(out, "amount", json_object_new_int64(amount));
	json_object_object_add(out, "currency", json_object_new_string(c.currency));
	json_object_object_add(out, "payment_status", json_object_new_string("paid"));
	em_response_json(req, 201, out);
	ok = true;
done:
	if (have_order)
		bson_destroy(&order);
	return ok;
}

static const char *const form_types[] = { "application/x-www-form-urlencoded", NULL };

static const struct em_route payments_table[] = {
	{ "POST", "/api/v1/payments/sslcommerz/session", pr_session, EM_ROLE_CUSTOMER, EM_BODY_JSON,
	  NULL },
	{ "GET", "/api/v1/payments/sslcommerz/session/{tran_id}", pr_session_get, EM_ROLE_CUSTOMER,
	  EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/payments/sslcommerz/ipn", pr_ipn, EM_ROLE_PUBLIC, EM_BODY_NONE, form_types },
	{ "POST", "/api/v1/payments/sslcommerz/success", pr_success, EM_ROLE_PUBLIC, EM_BODY_NONE,
	  form_types },
	{ "POST", "/api/v1/payments/sslcommerz/fail", pr_fail, EM_ROLE_PUBLIC, EM_BODY_NONE, form_types },
	{ "POST", "/api/v1/payments/sslcommerz/cancel", pr_cancel, EM_ROLE_PUBLIC, EM_BODY_NONE,
	  form_types },
};

static const struct em_route payments_admin_table[] = {
	{ "GET", "/api/v1/admin/payments/logs", pr_logs, EM_ROLE_ADMIN, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/admin/orders/{id}/refunds", pr_refund, EM_ROLE_ADMIN, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/admin/orders/{id}/refunds", pr_refunds_list, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/orders/{id}/refunds/{refund_id}", pr_refund_get, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/orders/{id}/payments/{payment_id}", pr_payment_get, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/orders/{id}/payments", pr_payments_list, EM_ROLE_STAFF, EM_BODY_NONE,
	  NULL },
	{ "POST", "/api/v1/admin/orders/{id}/payments", pr_cod_collect, EM_ROLE_STAFF, EM_BODY_JSON,
	  NULL },
};

const struct em_route_table payments_routes = EM_ROUTE_TABLE("payments", payments_table);
const struct em_route_table payments_admin_routes =
	EM_ROUTE_TABLE("payments", payments_admin_table);
