/*
 * transition.c - moving an order along the workflow, one transaction per
 * change: the status compared and set (of two concurrent changes one
 * wins; the other runs again, sees the new status and is refused), the
 * event appended, the stock and the coupon use given back on a cancel of
 * an order that still holds them, a refund marked as requested when a
 * paid order is cancelled, and the customer's mail. Also the expiry
 * sweep that cancels unpaid card orders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/log.h"
#include "core/time.h"
#include "inventory/inventory.h"
#include "jobs/jobs.h"
#include "orders/orders_internal.h"
#include "store/txn.h"

struct transition_ctx {
	struct em_store *st;
	const struct em_config *cfg;
	const bson_oid_t *id;
	const struct orders_transition *t;
	bson_t after;
	bool have_after;
};

static const char *tr_str(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it) ?
		       bson_iter_utf8(&it, NULL) : "";
}

/* Reads the order in the session (a customer's own only). */
static bool tr_read(mongoc_client_session_t *session, struct transition_ctx *c, bson_t *out,
		    bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool found = false, ok;

	BSON_APPEND_OID(&filter, "_id", c->id);
	if (c->t->only_user)
		BSON_APPEND_OID(&filter, "user_id", c->t->only_user);
	ok = store_find_one(c->st, session, "orders", &filter, out, &found, berr, "read order", err);
	bson_destroy(&filter);
	if (ok && !found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such order");
		ok = false;
	}
	return ok;
}

/* Gives back every line's stock (the order is cancelled before shipping). */
static bool tr_restock(mongoc_client_session_t *session, struct transition_ctx *c,
		       const bson_t *order, bson_error_t *berr, struct em_error *err)
{
	bson_iter_t it, arr;
	char reason[64];

	snprintf(reason, sizeof reason, "order %s cancelled", tr_str(order, "number"));
	if (!bson_iter_init_find(&it, order, "lines") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &arr))
		return true;
	while (bson_iter_next(&arr)) {
		bson_iter_t f;
		const char *sku = NULL;
		int64_t qty = 0;
		struct inventory_result res;

		if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &f))
			continue;
		while (bson_iter_next(&f)) {
			if (strcmp(bson_iter_key(&f), "sku") == 0 && BSON_ITER_HOLDS_UTF8(&f))
				sku = bson_iter_utf8(&f, NULL);
			else if (strcmp(bson_iter_key(&f), "quantity") == 0)
				qty = bson_iter_as_int64(&f);
		}
		if (!sku || qty <= 0)
			continue;
		if (!inventory_stock_change(c->st, session, c->cfg, sku, qty, reason, c->t->by, &res,
					    berr, err)) {
			/* a variant removed since: its stock has nowhere to go back to */
			if (err->kind == EM_ERR_NOT_FOUND) {
				em_warn("order %s: SKU %s no longer exists; its %lld not restocked",
					tr_str(order, "number"), sku, (long long)qty);
				em_error_clear(err);
				continue;
			}
			return false;
		}
		/* sort=best_selling counts what was sold: a cancelled line
		 * was not (placing added it in the same way) */
		if (!catalog_product_sold_add(c->st, session, sku, -qty, berr, err))
			return false;
	}
	return true;
}

/* Gives back the order's coupon use: the counter and the redemption. */
static bool tr_coupon_release(mongoc_client_session_t *session, struct transition_ctx *c,
			      const bson_t *order, bson_error_t *berr, struct em_error *err)
{
	bson_iter_t it, cp;
	const bson_oid_t *coupon_id = NULL;
	mongoc_collection_t *coll;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, gt;
	bson_t *update;
	bool ok = false;

	if (bson_iter_init_find(&it, order, "coupon") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	    bson_iter_recurse(&it, &cp) && bson_iter_find(&cp, "id") && BSON_ITER_HOLDS_OID(&cp))
		coupon_id = bson_iter_oid(&cp);
	if (!coupon_id) {
		bson_destroy(&filter);
		bson_destroy(&opts);
		return true;
	}
	update = BCON_NEW("$inc", "{", "used_count", BCON_INT64(-1), "}");
	coll = store_collection(c->st, "coupon_redemptions");
	BSON_APPEND_OID(&filter, "_id", coupon_id);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "used_count", &gt);
	BSON_APPEND_INT64(&gt, "$gt", 0);
	bson_append_document_end(&filter, &gt);
	if (!store_update_one(c->st, session, "coupons", &filter, update, NULL, berr,
			      "release coupon use", err) ||
	    !store_txn_opts(session, &opts, err))
		goto done;
	bson_reinit(&filter);
	BSON_APPEND_OID(&filter, "order_id", c->id);
	if (!mongoc_collection_delete_many(coll, &filter, &opts, NULL, berr)) {
		store_error_set(err, berr, "release coupon redemption");
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

static bool tr_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
		   struct em_error *err)
{
	struct transition_ctx *c = vctx;
	const struct orders_transition *t = c->t;
	mongoc_collection_t *coll = NULL;
	bson_t order, filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, push, ev, by, inc;
	bson_t opts = BSON_INITIALIZER, reply, unset;
	bson_iter_t it;
	enum orders_status from;
	char allowed[128];
	int64_t now = em_now_ms();
	bool ok = false, have_order = false;

	bson_init(&reply);
	if (c->have_after) {
		bson_destroy(&c->after);
		c->have_after = false;
	}
	if (!tr_read(session, c, &order, berr, err))
		goto done;
	have_order = true;
	if (!orders_status_parse(tr_str(&order, "status"), &from)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "an order with an unknown status");
		goto done;
	}
	if (t->has_expect && from != t->expect) {
		em_error_set(err, EM_ERR_CONFLICT, "status", "the order is %s now",
			     orders_status_name(from));
		goto done;
	}
	if (!orders_transition_allowed(from, t->to, t->actor)) {
		orders_transitions_list(from, t->actor, allowed, sizeof allowed);
		em_error_set(err, EM_ERR_CONFLICT, "to",
			     "the order is %s; it can go to: %s", orders_status_name(from),
			     allowed[0] ? allowed : "nothing (no transition is open to you)");
		goto done;
	}
	if (t->to == ORDERS_SHIPPED && (!t->carrier || !t->carrier[0])) {
		em_error_set(err, EM_ERR_INVALID, "carrier", "is required to ship an order");
		goto done;
	}
	if (t->to == ORDERS_SHIPPED && (!t->tracking_number || !t->tracking_number[0])) {
		em_error_set(err, EM_ERR_INVALID, "tracking_number", "is required to ship an order");
		goto done;
	}
	/* compare-and-set on the status read in this transaction */
	BSON_APPEND_OID(&filter, "_id", c->id);
	BSON_APPEND_UTF8(&filter, "status", orders_status_name(from));
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "status", orders_status_name(t->to));
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	if (t->to == ORDERS_SHIPPED) {
		BSON_APPEND_UTF8(&set, "carrier", t->carrier);
		BSON_APPEND_UTF8(&set, "tracking_number", t->tracking_number);
	}
	if (t->to == ORDERS_DELIVERED)
		BSON_APPEND_DATE_TIME(&set, "delivered_at", t->delivered_at ? t->delivered_at : now);
	if (t->to == ORDERS_CANCELLED && strcmp(tr_str(&order, "payment_status"), "paid") == 0)
		BSON_APPEND_UTF8(&set, "payment_status", "refund_requested");
	if (from == ORDERS_PENDING)
		BSON_APPEND_NULL(&set, "expires_at");
	bson_append_document_end(&update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "version", 1);
	bson_append_document_end(&update, &inc);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$push", &push);
	BSON_APPEND_DOCUMENT_BEGIN(&push, "events", &ev);
	BSON_APPEND_UTF8(&ev, "from", orders_status_name(from));
	BSON_APPEND_UTF8(&ev, "to", orders_status_name(t->to));
	BSON_APPEND_DOCUMENT_BEGIN(&ev, "by", &by);
	if (t->by)
		BSON_APPEND_OID(&by, "id", t->by);
	else
		BSON_APPEND_NULL(&by, "id");
	BSON_APPEND_UTF8(&by, "role", t->by_role ? t->by_role : "system");
	bson_append_document_end(&ev, &by);
	BSON_APPEND_DATE_TIME(&ev, "at", now);
	if (t->note && t->note[0])
		BSON_APPEND_UTF8(&ev, "note", t->note);
	else
		BSON_APPEND_NULL(&ev, "note");
	if (t->to == ORDERS_SHIPPED) {
		BSON_APPEND_UTF8(&ev, "carrier", t->carrier);
		BSON_APPEND_UTF8(&ev, "tracking_number", t->tracking_number);
	}
	bson_append_document_end(&push, &ev);
	bson_append_document_end(&update, &push);
	(void)unset;
	coll = store_collection(c->st, "orders");
	if (!store_txn_opts(session, &opts, err))
		goto done;
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, berr)) {
		store_error_set(err, berr, "change order");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, "status", "the order changed meanwhile; reload it");
		goto done;
	}
	if (t->to == ORDERS_CANCELLED && orders_status_holds_stock(from) &&
	    (!tr_restock(session, c, &order, berr, err) ||
	     !tr_coupon_release(session, c, &order, berr, err)))
		goto done;
	bson_destroy(&order);
	have_order = false;
	if (!tr_read(session, c, &c->after, berr, err))
		goto done;
	c->have_after = true;
	if (!orders_mail_status(session, c->st, c->cfg, &c->after, t->to, berr, err))
		goto done;
	ok = true;
done:
	if (have_order)
		bson_destroy(&order);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

bool orders_transition_apply(struct em_store *st, const struct em_config *cfg,
			     const bson_oid_t *order_id, const struct orders_transition *t,
			     bson_t *doc_out, struct em_error *err)
{
	struct transition_ctx c;

	memset(&c, 0, sizeof c);
	c.st = st;
	c.cfg = cfg;
	c.id = order_id;
	c.t = t;
	if (!store_txn_run(st, tr_txn, &c, err)) {
		if (c.have_after)
			bson_destroy(&c.after);
		return false;
	}
	if (doc_out)
		bson_copy_to(&c.after, doc_out);
	bson_destroy(&c.after);
	return true;
}

/*
 * The same change inside the caller's transaction (payments: the payment
 * record and the order's move commit together or not at all). berr
 * carries a driver error so that the caller's store_txn_run() retries.
 */
bool orders_transition_apply_in(mongoc_client_session_t *session, struct em_store *st,
				const struct em_config *cfg, const bson_oid_t *order_id,
				const struct orders_transition *t, bson_t *doc_out,
				bson_error_t *berr, struct em_error *err)
{
	struct transition_ctx c;
	bool ok;

	memset(&c, 0, sizeof c);
	c.st = st;
	c.cfg = cfg;
	c.id = order_id;
	c.t = t;
	ok = tr_txn(session, &c, berr, err);
	if (ok && doc_out)
		bson_copy_to(&c.after, doc_out);
	if (c.have_after)
		bson_destroy(&c.after);
	return ok;
}

/*
 * The expiry sweep (every 60 s in each job worker): unpaid card orders
 * whose expires_at has passed are cancelled through the same transition,
 * guarded on "still pending" - so a payment that lands first wins, and an
 * order is cancelled (and its stock given back) exactly once however many
 * workers sweep at the same time.
 */
bool orders_expiry_sweep(struct jobs_worker *w, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&w->store, "orders");
	bson_t filter = BSON_INITIALIZER, lt;
	bson_t *opts = BCON_NEW("limit", BCON_INT64(100), "projection", "{", "_id", BCON_INT32(1),
				"}");
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bson_oid_t ids[100];
	size_t n = 0;
	bool ok = true;

	BSON_APPEND_UTF8(&filter, "status", "pending");
	BSON_APPEND_UTF8(&filter, "payment_method", "sslcommerz");
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "expires_at", &lt);
	BSON_APPEND_DATE_TIME(&lt, "$lt", em_now_ms());
	bson_append_document_end(&filter, &lt);
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	while (n < 100 && mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;

		if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &ids[n++]);
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "find expired orders");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	for (size_t i = 0; ok && i < n; i++) {
		struct orders_transition t = {
			.to = ORDERS_CANCELLED, .actor = ORDERS_ACTOR_SYSTEM, .by_role = "system",
			.note = "not paid in time", .has_expect = true, .expect = ORDERS_PENDING,
		};
		struct em_error e = EM_ERROR_INIT;

		if (!orders_transition_apply(&w->store, &w->cfg, &ids[i], &t, NULL, &e)) {
			/* paid or cancelled meanwhile: that one is not ours to cancel */
			if (e.kind == EM_ERR_CONFLICT || e.kind == EM_ERR_NOT_FOUND)
				continue;
			*err = e;
			ok = false;
		} else {
			char hex[25];

			bson_oid_to_string(&ids[i], hex);
			em_info("order %s expired unpaid: cancelled", hex);
		}
	}
	return ok;
}
