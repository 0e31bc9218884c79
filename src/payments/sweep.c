/*
 * sweep.c - the payments module's periodic sweeps (the job worker runs
 * each every 5 s): reconciliation of open attempts whose IPN may be lost,
 * and the refunds that cancelled paid orders and received returns are
 * waiting for.
 *
 * Each sweep pages through everything due by _id, SWEEP_PAGE documents at
 * a time, at most SWEEP_PASS_MAX per pass (a pass is bounded in time
 * however much is due), and whatever it handled leaves the sweep's filter
 * in the same write (an attempt's checked_at, an order's cancel_refund_id,
 * a return's refund_id), so the next pass resumes with what is left
 * rather than the same first page: a document that keeps failing can
 * never hide the ones behind it.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/time.h"
#include "payments/payments_internal.h"
#include "store/txn.h"

#define SWEEP_PAGE     20
#define SWEEP_PASS_MAX 200

/* filter's page after `after` (NULL: the first page), in _id order. */
static mongoc_cursor_t *sweep_page(mongoc_collection_t *coll, const bson_t *filter,
				   const bson_oid_t *after)
{
	bson_t f = BSON_INITIALIZER, gt;
	bson_t *opts = BCON_NEW("limit", BCON_INT64(SWEEP_PAGE), "sort", "{", "_id", BCON_INT32(1),
				"}");
	mongoc_cursor_t *cur;

	bson_concat(&f, filter);
	if (after) {
		BSON_APPEND_DOCUMENT_BEGIN(&f, "_id", &gt);
		BSON_APPEND_OID(&gt, "$gt", after);
		bson_append_document_end(&f, &gt);
	}
	cur = mongoc_collection_find_with_opts(coll, &f, opts, NULL);
	bson_destroy(opts);
	bson_destroy(&f);
	return cur;
}

/* ---- reconciliation ---- */

struct reconcile_item {
	bson_oid_t id;
	char tran_id[PAYMENTS_TRAN_ID_MAX + 1];
	int64_t checked_at;
};

/* Claims the attempt (checked_at compared and set) and asks the gateway. */
static void reconcile_one(struct jobs_worker *w, mongoc_collection_t *coll,
			  const struct reconcile_item *a, int64_t now)
{
	bson_t *f = BCON_NEW("_id", BCON_OID(&a->id), "status", BCON_UTF8("open"), "checked_at",
			     BCON_DATE_TIME(a->checked_at));
	bson_t *u = BCON_NEW("$set", "{", "checked_at", BCON_DATE_TIME(now), "}");
	bson_t reply;
	bson_error_t berr;
	bson_iter_t it;
	struct payments_txn t;
	struct em_error e = EM_ERROR_INIT;
	enum payments_outcome outcome;
	bool claimed, found;

	claimed = mongoc_collection_update_one(coll, f, u, NULL, &reply, &berr) &&
		  bson_iter_init_find(&it, &reply, "modifiedCount") && bson_iter_as_int64(&it) == 1;
	bson_destroy(&reply);
	bson_destroy(f);
	bson_destroy(u);
	if (!claimed)
		return; /* another worker asks, or the attempt moved meanwhile */
	{
		struct payments_call call = { &w->store, &w->cfg, NULL, a->tran_id };

		if (!payments_sslcommerz.query(&call, a->tran_id, &t, &found, &e) || !found)
			return; /* asked again after the next interval */
	}
	if (strcmp(t.status, "PENDING") == 0 || !t.status[0])
		return;
	if (!payments_notification_apply(&w->store, &w->cfg,
					 strcmp(t.status, "VALIDATED") == 0 ? "VALID" : t.status,
					 a->tran_id, t.val_id, NULL, true, &outcome, NULL, &e))
		return; /* refused or failed: logged by the apply path */
	em_info("reconciliation: attempt %s %s", a->tran_id, payments_outcome_name(outcome));
}

/*
 * Attempts still open EMPORIUM_PAYMENT_RECONCILE_AFTER after they were
 * last looked at are claimed (so of several workers one asks) and the
 * gateway is queried by tran_id; a paid one goes through the same
 * exactly-once path as an IPN. A claimed attempt's checked_at is now, so
 * it leaves the filter until the next interval.
 */
bool pay_reconcile_sweep(struct jobs_worker *w, struct em_error *err)
{
	const struct payments_config *pc = payments_config(&w->cfg);
	mongoc_collection_t *coll;
	int64_t now = em_now_ms(), before = now - (int64_t)pc->reconcile_after_s * 1000;
	bson_t *filter;
	struct reconcile_item items[SWEEP_PAGE];
	bson_oid_t after;
	size_t seen = 0;
	bool ok = true, more = true, have_after = false;

	if (!pc->store_id[0])
		return true;
	coll = store_collection(&w->store, "payment_attempts");
	filter = BCON_NEW("status", BCON_UTF8("open"), "checked_at", "{", "$lt", BCON_DATE_TIME(before),
			  "}", "created_at", "{", "$gt", BCON_DATE_TIME(now - 7LL * 86400 * 1000), "}");
	while (ok && more && seen < SWEEP_PASS_MAX) {
		mongoc_cursor_t *cur = sweep_page(coll, filter, have_after ? &after : NULL);
		const bson_t *doc;
		bson_error_t berr;
		size_t n = 0, got = 0;

		while (n < SWEEP_PAGE && mongoc_cursor_next(cur, &doc)) {
			bson_iter_t it;

			got++;
			if (!pay_oid(doc, "_id"))
				continue;
			bson_oid_copy(pay_oid(doc, "_id"), &after);
			have_after = true;
			bson_oid_copy(pay_oid(doc, "_id"), &items[n].id);
			snprintf(items[n].tran_id, sizeof items[n].tran_id, "%s", pay_str(doc, "tran_id"));
			items[n].checked_at = bson_iter_init_find(&it, doc, "checked_at") &&
						      BSON_ITER_HOLDS_DATE_TIME(&it) ?
						      bson_iter_date_time(&it) : 0;
			if (items[n].tran_id[0])
				n++;
		}
		if (mongoc_cursor_error(cur, &berr)) {
			store_error_set(err, &berr, "find open payment attempts");
			ok = false;
		}
		mongoc_cursor_destroy(cur);
		for (size_t i = 0; ok && i < n; i++)
			reconcile_one(w, coll, &items[i], now);
		seen += got;
		more = got == SWEEP_PAGE;
	}
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

/* ---- refunds of cancelled paid orders ---- */

struct cancel_refund_ctx {
	struct em_store *st;
	const bson_t *payment;
	const bson_oid_t *order_id;
	int64_t amount;
};

/* Marks the order's cancellation refund done (refund_id, or null: none). */
static bool cancel_refund_mark(mongoc_client_session_t *session, struct em_store *st,
			       const bson_oid_t *order_id, const bson_oid_t *refund_id,
			       bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "orders");
	bson_t opts = BSON_INITIALIZER;
	bson_t *f = BCON_NEW("_id", BCON_OID(order_id));
	bson_t *u = refund_id ? BCON_NEW("$set", "{", "cancel_refund_id", BCON_OID(refund_id), "}") :
				BCON_NEW("$set", "{", "cancel_refund_id", BCON_NULL, "}");
	bool ok = false;

	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(coll, f, u, &opts, NULL, berr)) {
		store_error_set(err, berr, "mark the cancelled order's refund");
		goto done;
	}
	ok = true;
done:
	bson_destroy(f);
	bson_destroy(u);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

/* The refund and the order's cancel_refund_id, together. */
static bool cancel_refund_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			      struct em_error *err)
{
	struct cancel_refund_ctx *c = vctx;
	bson_oid_t id;

	return pay_refund_request(session, c->st, c->payment, c->amount, "order cancelled",
				  "order-cancelled", NULL, &id, berr, err) &&
	       cancel_refund_mark(session, c->st, c->order_id, &id, berr, err);
}

static void cancel_refund_one(struct jobs_worker *w, const bson_oid_t *order_id)
{
	bson_t f = BSON_INITIALIZER, payment, earlier;
	bson_error_t berr;
	struct em_error e = EM_ERROR_INIT;
	bool found = false, had = false;
	int64_t left;

	/* asked before (by a sweep from before cancel_refund_id): that one */
	BSON_APPEND_OID(&f, "order_id", order_id);
	BSON_APPEND_UTF8(&f, "idem_key", "order-cancelled");
	if (!pay_find_one(NULL, &w->store, "refunds", &f, &earlier, &had, &berr, &e)) {
		bson_destroy(&f);
		return;
	}
	if (had) {
		if (!cancel_refund_mark(NULL, &w->store, order_id, pay_oid(&earlier, "_id"), &berr, &e))
			em_warn("cancelled order's refund not marked: %s", e.message);
		bson_destroy(&earlier);
		bson_destroy(&f);
		return;
	}
	bson_reinit(&f);
	BSON_APPEND_OID(&f, "order_id", order_id);
	BSON_APPEND_UTF8(&f, "method", "sslcommerz");
	BSON_APPEND_UTF8(&f, "applied", "order");
	if (!pay_find_one(NULL, &w->store, "payments", &f, &payment, &found, &berr, &e)) {
		bson_destroy(&f);
		return;
	}
	bson_destroy(&f);
	left = found ? pay_int64(&payment, "amount", 0) - pay_int64(&payment, "refund_reserved", 0) : 0;
	if (left > 0) {
		struct cancel_refund_ctx c = { &w->store, &payment, order_id, left };

		if (store_txn_run(&w->store, cancel_refund_txn, &c, &e))
			em_info("order cancelled after payment: refund of %lld requested", (long long)left);
		else if (e.kind != EM_ERR_CONFLICT)
			em_warn("refund for a cancelled order not requested: %s", e.message);
	} else if (!cancel_refund_mark(NULL, &w->store, order_id, NULL, &berr, &e)) {
		/* refunded in full already (or no card payment): nothing to ask */
		em_warn("cancelled order without a refund not marked: %s", e.message);
	}
	if (found)
		bson_destroy(&payment);
}

/*
 * Orders the orders module marked refund_requested (a paid card order
 * cancelled by staff) get their refund here: what is left of the payment
 * after other refunds, once - the refund's Idempotency-Key
 * "order-cancelled" is unique per order, so of several workers (and of
 * every later sweep) one request is written, and the order's
 * cancel_refund_id, set with it, takes it out of the sweep.
 */
bool pay_refund_requested_sweep(struct jobs_worker *w, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&w->store, "orders");
	bson_t *filter = BCON_NEW("payment_status", BCON_UTF8("refund_requested"), "payment_method",
				  BCON_UTF8("sslcommerz"), "cancel_refund_id", "{", "$exists",
				  BCON_BOOL(false), "}");
	bson_oid_t ids[SWEEP_PAGE], after;
	size_t seen = 0;
	bool ok = true, more = true, have_after = false;

	while (ok && more && seen < SWEEP_PASS_MAX) {
		mongoc_cursor_t *cur = sweep_page(coll, filter, have_after ? &after : NULL);
		const bson_t *doc;
		bson_error_t berr;
		size_t n = 0;

		while (n < SWEEP_PAGE && mongoc_cursor_next(cur, &doc))
			if (pay_oid(doc, "_id"))
				bson_oid_copy(pay_oid(doc, "_id"), &ids[n++]);
		if (mongoc_cursor_error(cur, &berr)) {
			store_error_set(err, &berr, "find orders to refund");
			ok = false;
		}
		mongoc_cursor_destroy(cur);
		for (size_t i = 0; ok && i < n; i++)
			cancel_refund_one(w, &ids[i]);
		if (n) {
			bson_oid_copy(&ids[n - 1], &after);
			have_after = true;
		}
		seen += n;
		more = n == SWEEP_PAGE;
	}
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

/* ---- refunds of received returns ---- */

struct return_refund_ctx {
	struct em_store *st;
	const bson_t *payment;
	const bson_oid_t *return_id;
	int64_t amount;
};

/* The refund and the return's refund_id, together: of two workers one wins. */
static bool return_refund_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			      struct em_error *err)
{
	struct return_refund_ctx *c = vctx;
	mongoc_collection_t *coll;
	bson_t opts = BSON_INITIALIZER, reply;
	bson_t *f, *u;
	bson_oid_t id;
	bson_iter_t it;
	char key[40], hex[25];
	bool ok = false;

	bson_oid_to_string(c->return_id, hex);
	snprintf(key, sizeof key, "return:%s", hex);
	if (!pay_refund_request(session, c->st, c->payment, c->amount, "return received", key, NULL,
				&id, berr, err)) {
		bson_destroy(&opts);
		return false;
	}
	bson_init(&reply);
	coll = store_collection(c->st, "order_returns");
	f = BCON_NEW("_id", BCON_OID(c->return_id), "refund_id", "{", "$exists", BCON_BOOL(false), "}");
	u = BCON_NEW("$set", "{", "refund_id", BCON_OID(&id), "}");
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(coll, f, u, &opts, &reply, berr)) {
		store_error_set(err, berr, "link return refund");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, NULL, "the return's refund was requested meanwhile");
		goto done;
	}
	ok = true;
done:
	bson_destroy(f);
	bson_destroy(u);
	bson_destroy(&reply);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

struct return_item {
	bson_oid_t id, order_id;
	int64_t amount;
};

static void return_refund_one(struct jobs_worker *w, mongoc_collection_t *coll,
			      const struct return_item *r)
{
	bson_t f = BSON_INITIALIZER, payment;
	bson_error_t berr;
	bool found = false;
	struct em_error e = EM_ERROR_INIT;
	int64_t left = 0;

	BSON_APPEND_OID(&f, "order_id", &r->order_id);
	BSON_APPEND_UTF8(&f, "applied", "order");
	if (!pay_find_one(NULL, &w->store, "payments", &f, &payment, &found, &berr, &e)) {
		bson_destroy(&f);
		return;
	}
	bson_destroy(&f);
	if (found)
		left = pay_int64(&payment, "amount", 0) - pay_int64(&payment, "refund_reserved", 0);
	if (left > r->amount)
		left = r->amount;
	if (left > 0) {
		struct return_refund_ctx c = { &w->store, &payment, &r->id, left };

		if (store_txn_run(&w->store, return_refund_txn, &c, &e))
			em_info("return received: refund of %lld requested", (long long)left);
		else if (e.kind != EM_ERR_CONFLICT)
			em_warn("refund for a return not requested: %s", e.message);
	} else {
		bson_t *rf = BCON_NEW("_id", BCON_OID(&r->id), "refund_id", "{", "$exists",
				      BCON_BOOL(false), "}");
		bson_t *ru = BCON_NEW("$set", "{", "refund_id", BCON_NULL, "}");

		if (!mongoc_collection_update_one(coll, rf, ru, NULL, NULL, &berr))
			em_warn("return without a refund not marked: %s", berr.message);
		else
			em_warn("a received return has no payment left to refund (order paid %s)",
				found ? "and refunded already" : "by nobody");
		bson_destroy(rf);
		bson_destroy(ru);
	}
	if (found)
		bson_destroy(&payment);
}

/*
 * Received returns the orders module marked refund_requested (the lines'
 * share in refund_amount) get their refund here, through the gateway for a
 * card payment or recorded by hand for cash; the return's refund_id links
 * the two, written in the same transaction, so each return is refunded
 * once. A return with nothing left to refund (or no payment) gets
 * refund_id null, so the sweep does not look at it again.
 */
bool pay_returns_refund_sweep(struct jobs_worker *w, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&w->store, "order_returns");
	bson_t *filter = BCON_NEW("status", BCON_UTF8("received"), "refund_requested", BCON_BOOL(true),
				  "refund_id", "{", "$exists", BCON_BOOL(false), "}");
	struct return_item items[SWEEP_PAGE];
	bson_oid_t after;
	size_t seen = 0;
	bool ok = true, more = true, have_after = false;

	while (ok && more && seen < SWEEP_PASS_MAX) {
		mongoc_cursor_t *cur = sweep_page(coll, filter, have_after ? &after : NULL);
		const bson_t *doc;
		bson_error_t berr;
		size_t n = 0, got = 0;

		while (n < SWEEP_PAGE && mongoc_cursor_next(cur, &doc)) {
			got++;
			if (!pay_oid(doc, "_id"))
				continue;
			bson_oid_copy(pay_oid(doc, "_id"), &after);
			have_after = true;
			if (!pay_oid(doc, "order_id"))
				continue;
			bson_oid_copy(pay_oid(doc, "_id"), &items[n].id);
			bson_oid_copy(pay_oid(doc, "order_id"), &items[n].order_id);
			items[n++].amount = pay_int64(doc, "refund_amount", 0);
		}
		if (mongoc_cursor_error(cur, &berr)) {
			store_error_set(err, &berr, "find returns to refund");
			ok = false;
		}
		mongoc_cursor_destroy(cur);
		for (size_t i = 0; ok && i < n; i++)
			return_refund_one(w, coll, &items[i]);
		seen += got;
		more = got == SWEEP_PAGE;
	}
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}
