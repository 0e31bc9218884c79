/*
 * refund.c - refunds through the gateway and their jobs (the sweeps that
 * find what to refund - cancelled paid orders, received returns - are in
 * sweep.c).
 *
 * A refund is requested in the transaction of its cause (the admin's
 * route, or a payment that arrived for a closed order), which reserves
 * its amount on the payment - {refund_reserved <= amount - this}, so two
 * requests can never refund more than was paid - and enqueues the
 * "payments_refund" job. The job calls the refund API (refe_id = our
 * refund's id, so a retried call is recognised as the same refund), then
 * "payments_refund_poll" jobs ask the refund status API until the
 * gateway says refunded or cancelled. Each state is stored on the refund
 * and mirrored on its order (refunds[] {id, amount, currency, state,
 * reason, updated_at} and refunded_total) in the transaction that moves
 * the refund, which also enqueues the customer's mail for that state:
 * refund_requested, payment_refunded, refund_cancelled (cancelled by the
 * bank, or refused by the gateway) - once each, by the outbox's dedupe
 * key <template>:<refund id>.
 */
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/time.h"
#include "http/metrics.h"
#include "orders/orders.h"
#include "payments/payments_internal.h"
#include "store/txn.h"

/*
 * The refund's summary on its order, in session: set to state (and
 * refunded_total raised by refunded) when the order holds it, pushed
 * otherwise (a new refund, or one requested before orders carried the
 * mirror). r: the refund (_id, order_id, amount, currency, reason).
 */
static bool refund_mirror(mongoc_client_session_t *session, struct em_store *st, const bson_t *r,
			  const char *state, int64_t refunded, bson_error_t *berr,
			  struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "orders");
	const bson_oid_t *id = pay_oid(r, "_id"), *order_id = pay_oid(r, "order_id");
	int64_t now = em_now_ms();
	bson_t opts = BSON_INITIALIZER, reply;
	bson_t *f = NULL, *u = NULL;
	bson_iter_t it;
	bool ok = false;

	bson_init(&reply);
	if (!id || !order_id) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the refund has no id or order");
		goto done;
	}
	if (!store_txn_opts(session, &opts, err))
		goto done;
	f = BCON_NEW("_id", BCON_OID(order_id), "refunds.id", BCON_OID(id));
	u = BCON_NEW("$set", "{", "refunds.$.state", BCON_UTF8(state), "refunds.$.updated_at",
		     BCON_DATE_TIME(now), "updated_at", BCON_DATE_TIME(now), "}", "$inc", "{",
		     "refunded_total", BCON_INT64(refunded), "}");
	if (!mongoc_collection_update_one(coll, f, u, &opts, &reply, berr)) {
		store_error_set(err, berr, "mirror refund on order");
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "matchedCount") && bson_iter_as_int64(&it) == 1) {
		ok = true;
		goto done;
	}
	bson_destroy(f);
	bson_destroy(u);
	f = BCON_NEW("_id", BCON_OID(order_id));
	u = BCON_NEW("$push", "{", "refunds", "{", "id", BCON_OID(id), "amount",
		     BCON_INT64(pay_int64(r, "amount", 0)), "currency", BCON_UTF8(pay_str(r, "currency")),
		     "state", BCON_UTF8(state), "reason", BCON_UTF8(pay_str(r, "reason")), "updated_at",
		     BCON_DATE_TIME(now), "}", "}", "$set", "{", "updated_at", BCON_DATE_TIME(now), "}",
		     "$inc", "{", "refunded_total", BCON_INT64(refunded), "}");
	if (!mongoc_collection_update_one(coll, f, u, &opts, NULL, berr)) {
		store_error_set(err, berr, "mirror refund on order");
		goto done;
	}
	ok = true;
done:
	if (f)
		bson_destroy(f);
	if (u)
		bson_destroy(u);
	bson_destroy(&reply);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

/*
 * The customer's mail for a refund's state (template), in session: once,
 * by the dedupe key <template>:<refund id>. order: the refund's order.
 */
static bool refund_mail(mongoc_client_session_t *session, struct em_store *st, const bson_t *order,
			const bson_t *r, const char *template_name, bson_error_t *berr,
			struct em_error *err)
{
	bson_t vars = BSON_INITIALIZER;
	char dedupe[96], money[64], hex[25];
	bool ok;

	if (!orders_money_format(pay_int64(r, "amount", 0), pay_str(r, "currency"), money,
				 sizeof money))
		snprintf(money, sizeof money, "%lld %s", (long long)pay_int64(r, "amount", 0),
			 pay_str(r, "currency"));
	BSON_APPEND_UTF8(&vars, "name", pay_str(order, "name")[0] ? pay_str(order, "name") : "customer");
	BSON_APPEND_UTF8(&vars, "order_id", pay_str(order, "number"));
	BSON_APPEND_UTF8(&vars, "amount", money);
	BSON_APPEND_UTF8(&vars, "reason", pay_str(r, "reason")[0] ? pay_str(r, "reason") : "refund");
	bson_oid_to_string(pay_oid(r, "_id"), hex);
	snprintf(dedupe, sizeof dedupe, "%s:%s", template_name, hex);
	ok = jobs_email_enqueue(st, session, pay_str(order, "email"), template_name, &vars, dedupe,
				berr, err);
	bson_destroy(&vars);
	return ok;
}

/* The refund's order, in session (for its mail). */
static bool refund_order(mongoc_client_session_t *session, struct em_store *st, const bson_t *r,
			 bson_t *order, bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool found = false, ok;

	BSON_APPEND_OID(&filter, "_id", pay_oid(r, "order_id"));
	ok = pay_find_one(session, st, "orders", &filter, order, &found, berr, err);
	bson_destroy(&filter);
	if (ok && !found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "the refund's order is gone");
		ok = false;
	}
	return ok;
}

bool pay_refund_request(mongoc_client_session_t *session, struct em_store *st,
			const bson_t *payment, int64_t amount, const char *reason,
			const char *idem_key, const bson_oid_t *by, bson_oid_t *refund_id,
			bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *pays = store_collection(st, "payments"),
			    *refunds = store_collection(st, "refunds");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, reply, doc = BSON_INITIALIZER,
	       payload = BSON_INITIALIZER, lte;
	/* cash is given back by hand: the refund is done when staff record it */
	bool manual = strcmp(pay_str(payment, "method"), "cod") == 0;
	bson_t *update = manual ? BCON_NEW("$inc", "{", "refund_reserved", BCON_INT64(amount),
					   "refunded", BCON_INT64(amount), "}") :
				  BCON_NEW("$inc", "{", "refund_reserved", BCON_INT64(amount), "}");
	int64_t paid = pay_int64(payment, "amount", 0), now = em_now_ms();
	char hex[25], dedupe[64];
	bson_iter_t it;
	bool ok = false;

	bson_init(&reply);
	if (amount <= 0) {
		em_error_set(err, EM_ERR_INVALID, "amount", "must be at least 1");
		goto done;
	}
	if (amount > paid) {
		em_error_set(err, EM_ERR_CONFLICT, "amount", "more than the paid amount");
		goto done;
	}
	BSON_APPEND_OID(&filter, "_id", pay_oid(payment, "_id"));
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "refund_reserved", &lte);
	BSON_APPEND_INT64(&lte, "$lte", paid - amount);
	bson_append_document_end(&filter, &lte);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(pays, &filter, update, &opts, &reply, berr)) {
		store_error_set(err, berr, "reserve refund");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, "amount",
			     "more than the paid amount less what was refunded already");
		goto done;
	}
	bson_oid_init(refund_id, NULL);
	BSON_APPEND_OID(&doc, "_id", refund_id);
	BSON_APPEND_OID(&doc, "order_id", pay_oid(payment, "order_id"));
	BSON_APPEND_OID(&doc, "payment_id", pay_oid(payment, "_id"));
	BSON_APPEND_UTF8(&doc, "tran_id", pay_str(payment, "tran_id"));
	BSON_APPEND_UTF8(&doc, "bank_tran_id", pay_str(payment, "bank_tran_id"));
	BSON_APPEND_INT64(&doc, "amount", amount);
	BSON_APPEND_UTF8(&doc, "currency", pay_str(payment, "currency"));
	BSON_APPEND_UTF8(&doc, "reason", reason);
	BSON_APPEND_UTF8(&doc, "status", manual ? "refunded" : "requested");
	BSON_APPEND_UTF8(&doc, "method", manual ? "manual" : "gateway");
	BSON_APPEND_NULL(&doc, "refund_ref_id");
	if (idem_key)
		BSON_APPEND_UTF8(&doc, "idem_key", idem_key);
	if (by)
		BSON_APPEND_OID(&doc, "by", by);
	else
		BSON_APPEND_NULL(&doc, "by");
	BSON_APPEND_INT32(&doc, "polls", 0);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	if (!mongoc_collection_insert_one(refunds, &doc, &opts, NULL, berr)) {
		store_error_set(err, berr, "record refund");
		goto done;
	}
	if (!refund_mirror(session, st, &doc, manual ? "refunded" : "requested", 0, berr, err))
		goto done;
	if (manual) {
		ok = pay_refund_done(session, st, &doc, berr, err);
		goto done;
	}
	{
		bson_t order;

		if (!refund_order(session, st, &doc, &order, berr, err))
			goto done;
		ok = refund_mail(session, st, &order, &doc, "refund_requested", berr, err);
		bson_destroy(&order);
		if (!ok)
			goto done;
		ok = false;
	}
	bson_oid_to_string(refund_id, hex);
	BSON_APPEND_UTF8(&payload, "refund_id", hex);
	snprintf(dedupe, sizeof dedupe, "payments_refund:%s", hex);
	if (!jobs_enqueue(st, session, "payments_refund", &payload, dedupe, 0, berr, err))
		goto done;
	ok = true;
done:
	bson_destroy(update);
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&opts);
	bson_destroy(&doc);
	bson_destroy(&payload);
	mongoc_collection_destroy(pays);
	mongoc_collection_destroy(refunds);
	return ok;
}

/* The job's refund, by the id in its payload. */
static bool refund_load(struct jobs_worker *w, const struct jobs_job *job, bson_t *out,
			bool *found, struct em_error *err)
{
	bson_oid_t id;
	bson_t filter = BSON_INITIALIZER;
	bson_error_t berr;
	bool ok;

	*found = false;
	if (!em_oid_parse(pay_str(&job->payload, "refund_id"), &id)) {
		em_error_set(err, EM_ERR_INVALID, "refund_id", "is malformed");
		bson_destroy(&filter);
		return false;
	}
	BSON_APPEND_OID(&filter, "_id", &id);
	ok = pay_find_one(NULL, &w->store, "refunds", &filter, out, found, &berr, err);
	bson_destroy(&filter);
	return ok;
}

/*
 * Moves a refund from `from` to `to` (with extra $set fields in set_more,
 * may be NULL), in session when not NULL. *moved = false when it was no
 * longer `from` (another worker got there first).
 */
static bool refund_move(mongoc_client_session_t *session, struct em_store *st,
			const bson_oid_t *id, const char *from, const char *to,
			const char *ref, const char *error, bool *moved, bson_error_t *berr,
			struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "refunds");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, opts = BSON_INITIALIZER,
	       reply;
	bson_iter_t it;
	bool ok = false;

	bson_init(&reply);
	*moved = false;
	BSON_APPEND_OID(&filter, "_id", id);
	BSON_APPEND_UTF8(&filter, "status", from);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "status", to);
	BSON_APPEND_DATE_TIME(&set, "updated_at", em_now_ms());
	if (ref)
		BSON_APPEND_UTF8(&set, "refund_ref_id", ref);
	if (error)
		BSON_APPEND_UTF8(&set, "error", error);
	bson_append_document_end(&update, &set);
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, berr)) {
		store_error_set(err, berr, "change refund");
		goto done;
	}
	*moved = bson_iter_init_find(&it, &reply, "modifiedCount") && bson_iter_as_int64(&it) == 1;
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

static bool refund_poll_enqueue(struct em_store *st, const bson_oid_t *id, int n,
				struct em_error *err)
{
	bson_t payload = BSON_INITIALIZER;
	bson_error_t berr;
	char hex[25], dedupe[80];
	/* 1 s, 2 s, 4 s ... capped at 10 min: a bank takes days, a test seconds */
	int64_t delay = n >= 10 ? 600000 : (int64_t)1000 << (n > 0 ? n - 1 : 0);
	bool ok;

	if (delay > 600000)
		delay = 600000;
	bson_oid_to_string(id, hex);
	BSON_APPEND_UTF8(&payload, "refund_id", hex);
	BSON_APPEND_INT32(&payload, "n", n);
	snprintf(dedupe, sizeof dedupe, "payments_refund_poll:%s:%d", hex, n);
	ok = jobs_enqueue(st, NULL, "payments_refund_poll", &payload, dedupe, em_now_ms() + delay,
			  &berr, err);
	bson_destroy(&payload);
	return ok;
}

/* Gives a cancelled or failed refund's reservation back to its payment. */
static bool refund_unreserve(mongoc_client_session_t *session, struct em_store *st,
			     const bson_t *refund, bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "payments");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_t *update = BCON_NEW("$inc", "{", "refund_reserved",
				  BCON_INT64(-pay_int64(refund, "amount", 0)), "}");
	bool ok = false;

	BSON_APPEND_OID(&filter, "_id", pay_oid(refund, "payment_id"));
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(coll, &filter, update, &opts, NULL, berr)) {
		store_error_set(err, berr, "release refund reservation");
		goto done;
	}
	ok = true;
done:
	bson_destroy(update);
	bson_destroy(&filter);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

struct refund_step_ctx {
	struct em_store *st;
	const bson_t *refund;
	const char *from, *to;
	const char *ref;              /* refund_ref_id (to processing), or NULL */
	const char *error;            /* why (to failed or cancelled), or NULL */
	bool moved;
};

/*
 * One move of a refund, with its state on the order; a refund that ends
 * without money back (cancelled by the bank, failed: refused by the
 * gateway) also gives its reservation back - staff may refund again - and
 * mails the customer. All in one transaction: of two workers one moves it
 * and the mail is enqueued once.
 */
static bool refund_step_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			    struct em_error *err)
{
	struct refund_step_ctx *c = vctx;
	bson_t order;
	bool ok;

	c->moved = false;
	if (!refund_move(session, c->st, pay_oid(c->refund, "_id"), c->from, c->to, c->ref,
			 c->error, &c->moved, berr, err))
		return false;
	if (!c->moved)
		return true;
	if (!refund_mirror(session, c->st, c->refund, c->to, 0, berr, err))
		return false;
	if (strcmp(c->to, "processing") == 0)
		return true;
	if (!refund_unreserve(session, c->st, c->refund, berr, err) ||
	    !refund_order(session, c->st, c->refund, &order, berr, err))
		return false;
	ok = refund_mail(session, c->st, &order, c->refund, "refund_cancelled", berr, err);
	bson_destroy(&order);
	return ok;
}

bool pay_job_refund(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err)
{
	bson_t refund;
	struct payments_refund_res res;
	char hex[25], remarks[160];
	bool found, ok = false;

	if (!refund_load(w, job, &refund, &found, err))
		return false;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, "refund_id", "no such refund");
		return false;
	}
	if (strcmp(pay_str(&refund, "status"), "requested") != 0) {
		ok = true; /* a rerun after the gateway was asked: nothing to do */
		goto done;
	}
	bson_oid_to_string(pay_oid(&refund, "_id"), hex);
	snprintf(remarks, sizeof remarks, "%s", pay_str(&refund, "reason"));
	{
		struct payments_call call = { &w->store, &w->cfg, pay_oid(&refund, "order_id"),
					      pay_str(&refund, "tran_id") };
		struct payments_refund_req in = {
			.bank_tran_id = pay_str(&refund, "bank_tran_id"),
			.amount = pay_int64(&refund, "amount", 0),
			.currency = pay_str(&refund, "currency"),
			.remarks = remarks[0] ? remarks : "refund",
			.refe_id = hex,
		};

		if (!payments_sslcommerz.refund(&call, &in, &res, err))
			goto done; /* the gateway did not answer: retried with backoff */
	}
	if (strcmp(res.status, "success") == 0 || strcmp(res.status, "processing") == 0) {
		if (!res.refund_ref_id[0]) {
			em_error_set(err, EM_ERR_BAD_GATEWAY, NULL, "the refund answer has no refund_ref_id");
			goto done;
		}
		struct refund_step_ctx c = { &w->store, &refund, "requested", "processing",
					     res.refund_ref_id, NULL, false };

		if (!store_txn_run(&w->store, refund_step_txn, &c, err))
			goto done;
		ok = !c.moved || refund_poll_enqueue(&w->store, pay_oid(&refund, "_id"), 1, err);
		goto done;
	}
	/* the gateway refused it: the reservation goes back, staff decide */
	{
		struct refund_step_ctx c = { &w->store, &refund, "requested", "failed", NULL,
					     res.error[0] ? res.error : "refused by the gateway", false };

		if (!store_txn_run(&w->store, refund_step_txn, &c, err))
			goto done;
	}
	ok = true;
	em_warn("refund %s refused by the gateway: %s", hex, res.error);
done:
	bson_destroy(&refund);
	return ok;
}

struct refunded_ctx {
	struct em_store *st;
	const struct em_config *cfg;
	const bson_t *refund;
	bool moved;
};

/* refunded: the refund, the payment's total refunded, the order, the mail */
static bool refunded_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			 struct em_error *err)
{
	struct refunded_ctx *c = vctx;
	const bson_t *r = c->refund;
	mongoc_collection_t *pays = store_collection(c->st, "payments");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_t *update = BCON_NEW("$inc", "{", "refunded", BCON_INT64(pay_int64(r, "amount", 0)), "}");
	bool ok = false;

	if (!refund_move(session, c->st, pay_oid(r, "_id"), "processing", "refunded", NULL, NULL,
			 &c->moved, berr, err))
		goto done;
	if (!c->moved) {
		ok = true;
		goto done;
	}
	BSON_APPEND_OID(&filter, "_id", pay_oid(r, "payment_id"));
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(pays, &filter, update, &opts, NULL, berr)) {
		store_error_set(err, berr, "count refund");
		goto done;
	}
	ok = pay_refund_done(session, c->st, r, berr, err);
done:
	bson_destroy(update);
	bson_destroy(&filter);
	bson_destroy(&opts);
	mongoc_collection_destroy(pays);
	return ok;
}

bool pay_refund_done(mongoc_client_session_t *session, struct em_store *st, const bson_t *r,
		     bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, payment, order;
	bool ok = false, have_payment = false, have_order = false;

	BSON_APPEND_OID(&filter, "_id", pay_oid(r, "payment_id"));
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!pay_find_one(session, st, "payments", &filter, &payment, &have_payment, berr, err))
		goto done;
	bson_reinit(&filter);
	BSON_APPEND_OID(&filter, "_id", pay_oid(r, "order_id"));
	if (!pay_find_one(session, st, "orders", &filter, &order, &have_order, berr, err))
		goto done;
	if (!have_payment || !have_order) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "the refund's payment or order is gone");
		goto done;
	}
	/* the order's own payment refunded in full, or a late one for an order
	 * that waited only for that refund: the order is refunded (a late
	 * payment for an order still pending leaves it unpaid) */
	if (pay_int64(&payment, "refunded", 0) >= pay_int64(&payment, "amount", 0) &&
	    (strcmp(pay_str(&payment, "applied"), "order") == 0 ||
	     strcmp(pay_str(&order, "payment_status"), "refund_requested") == 0)) {
		mongoc_collection_t *orders = store_collection(st, "orders");
		bson_t *set = BCON_NEW("$set", "{", "payment_status", BCON_UTF8("refunded"),
				       "updated_at", BCON_DATE_TIME(em_now_ms()), "}");
		bool done_ok = mongoc_collection_update_one(orders, &filter, set, &opts, NULL, berr);

		bson_destroy(set);
		mongoc_collection_destroy(orders);
		if (!done_ok) {
			store_error_set(err, berr, "mark order refunded");
			goto done;
		}
	}
	if (!refund_mirror(session, st, r, "refunded", pay_int64(r, "amount", 0), berr, err))
		goto done;
	ok = refund_mail(session, st, &order, r, "payment_refunded", berr, err);
	if (ok) /* counted when the refund's transaction commits */
		em_metrics_event_in(session, EM_EV_PAYMENT_REFUNDED);
done:
	if (have_payment)
		bson_destroy(&payment);
	if (have_order)
		bson_destroy(&order);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}

bool pay_job_refund_poll(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err)
{
	bson_t refund;
	struct payments_refund_res res;
	int n = (int)pay_int64(&job->payload, "n", 1);
	bool found, ok = false;

	if (!refund_load(w, job, &refund, &found, err))
		return false;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, "refund_id", "no such refund");
		return false;
	}
	if (strcmp(pay_str(&refund, "status"), "processing") != 0) {
		ok = true;
		goto done;
	}
	{
		struct payments_call call = { &w->store, &w->cfg, pay_oid(&refund, "order_id"),
					      pay_str(&refund, "tran_id") };

		if (!payments_sslcommerz.refund_status(&call, pay_str(&refund, "refund_ref_id"), &res,
						       err))
			goto done;
	}
	if (strcmp(res.status, "refunded") == 0) {
		struct refunded_ctx c = { &w->store, &w->cfg, &refund, false };

		ok = store_txn_run(&w->store, refunded_txn, &c, err);
	} else if (strcmp(res.status, "cancelled") == 0) {
		struct refund_step_ctx c = { &w->store, &refund, "processing", "cancelled", NULL,
					     "cancelled by the gateway", false };

		ok = store_txn_run(&w->store, refund_step_txn, &c, err);
	} else {
		/* still processing: ask again later (a new job, so the outbox's
		 * own attempt limit never parks a refund that is merely slow) */
		ok = refund_poll_enqueue(&w->store, pay_oid(&refund, "_id"), n + 1, err);
	}
done:
	bson_destroy(&refund);
	return ok;
}

bool pay_job_validate(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err)
{
	enum payments_outcome outcome;

	/* queue_on_failure false: a gateway still down fails this job, which
	 * the outbox retries with backoff */
	return payments_notification_apply(&w->store, &w->cfg, "VALID",
					   pay_str(&job->payload, "tran_id"),
					   pay_str(&job->payload, "val_id"), NULL, false, &outcome,
					   NULL, err);
}
