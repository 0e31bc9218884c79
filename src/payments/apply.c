/*
 * apply.c - the one path every payment notification takes: the IPN, the
 * browser's success return, the retry job and reconciliation all end in
 * payments_notification_apply(), so there is one set of checks and one
 * exactly-once write.
 *
 * The order of the checks is the protocol's (../shared/SSLCOMMERZ.md):
 * the caller has checked verify_sign (or asked the gateway itself), then
 * the validation API is always asked with val_id, then its answer is
 * matched against OUR records - the attempt by tran_id and the order's
 * total and currency from the database, never the amount the
 * notification carried. Only then one transaction writes the payment
 * (unique on tran_id and on val_id: a replay or a racing twin fails
 * there and becomes a no-op), moves the order and enqueues its mail.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/time.h"
#include "http/metrics.h"
#include "orders/orders.h"
#include "payments/payments_internal.h"
#include "store/txn.h"

const char *payments_outcome_name(enum payments_outcome o)
{
	switch (o) {
	case PAYMENTS_APPLIED: return "applied";
	case PAYMENTS_REPLAY: return "replay";
	case PAYMENTS_LATE: return "late";
	case PAYMENTS_MARKED: return "marked";
	case PAYMENTS_REFUSED: return "refused";
	case PAYMENTS_QUEUED: return "queued";
	}
	return "unknown";
}

void payments_tran_id_new(char out[PAYMENTS_TRAN_ID_MAX + 1])
{
	unsigned char r[12];

	randombytes_buf(r, sizeof r);
	out[0] = 'E';
	out[1] = 'M';
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", r[i]);
}

static bool tran_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > PAYMENTS_TRAN_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

struct apply_ctx {
	struct em_store *st;
	const struct em_config *cfg;
	const char *tran_id;
	const struct payments_txn *txn;
	int64_t amount;
	const char *currency;
	/* results */
	bool replay, late;
	bson_oid_t payment_id;
};

/* Inserts the payment; a duplicate key means this payment is already in. */
static bool apply_insert_payment(mongoc_client_session_t *session, struct apply_ctx *c,
				 const bson_t *attempt, bool late, bson_error_t *berr,
				 struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(c->st, "payments");
	bson_t doc = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bool ok = false;

	bson_oid_init(&c->payment_id, NULL);
	BSON_APPEND_OID(&doc, "_id", &c->payment_id);
	BSON_APPEND_OID(&doc, "order_id", pay_oid(attempt, "order_id"));
	BSON_APPEND_OID(&doc, "attempt_id", pay_oid(attempt, "_id"));
	BSON_APPEND_UTF8(&doc, "tran_id", c->tran_id);
	BSON_APPEND_UTF8(&doc, "val_id", c->txn->val_id);
	BSON_APPEND_UTF8(&doc, "method", "sslcommerz");
	BSON_APPEND_INT64(&doc, "amount", c->amount);
	BSON_APPEND_UTF8(&doc, "currency", c->currency);
	/* refund_reserved: requested and not cancelled; refunded: done */
	BSON_APPEND_INT64(&doc, "refund_reserved", 0);
	BSON_APPEND_INT64(&doc, "refunded", 0);
	BSON_APPEND_UTF8(&doc, "bank_tran_id", c->txn->bank_tran_id);
	BSON_APPEND_UTF8(&doc, "card_type", c->txn->card_type);
	BSON_APPEND_UTF8(&doc, "card_brand", c->txn->card_brand);
	BSON_APPEND_UTF8(&doc, "store_amount", c->txn->store_amount);
	BSON_APPEND_UTF8(&doc, "validation_status", c->txn->status);
	BSON_APPEND_INT32(&doc, "risk_level", c->txn->risk_level);
	BSON_APPEND_UTF8(&doc, "risk_title", c->txn->risk_title);
	BSON_APPEND_UTF8(&doc, "applied", late ? "late" : "order");
	BSON_APPEND_DATE_TIME(&doc, "created_at", em_now_ms());
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_insert_one(coll, &doc, &opts, NULL, berr)) {
		if (store_error_is_duplicate(berr)) {
			c->replay = true;
			em_error_set(err, EM_ERR_CONFLICT, NULL, "this payment is recorded already");
		} else {
			store_error_set(err, berr, "record payment");
		}
		goto done;
	}
	ok = true;
done:
	bson_destroy(&doc);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

/* Marks the order paid (in the transaction that moved it). */
static bool apply_order_paid(mongoc_client_session_t *session, struct apply_ctx *c,
			     const bson_oid_t *order_id, const char *payment_status,
			     bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bson_t *update = BCON_NEW("$set", "{", "payment_status", BCON_UTF8(payment_status),
				  "payment_id", BCON_OID(&c->payment_id), "updated_at",
				  BCON_DATE_TIME(em_now_ms()), "}");
	bool ok;

	BSON_APPEND_OID(&filter, "_id", order_id);
	ok = store_update_one(c->st, session, "orders", &filter, update, NULL, berr,
			      "mark order paid", err);
	bson_destroy(update);
	bson_destroy(&filter);
	return ok;
}

static bool apply_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
		      struct em_error *err)
{
	struct apply_ctx *c = vctx;
	bson_t filter = BSON_INITIALIZER, attempt, order, payment;
	bool ok = false, have_attempt = false, have_order = false, found;
	const bson_oid_t *order_id;

	c->replay = c->late = false;
	BSON_APPEND_UTF8(&filter, "tran_id", c->tran_id);
	if (!pay_find_one(session, c->st, "payments", &filter, &payment, &found, berr, err))
		goto done;
	if (found) {
		bson_destroy(&payment);
		c->replay = true;
		ok = true;
		goto done;
	}
	if (!pay_find_one(session, c->st, "payment_attempts", &filter, &attempt, &have_attempt, berr,
			  err))
		goto done;
	if (!have_attempt) {
		em_error_set(err, EM_ERR_NOT_FOUND, "tran_id", "no such payment attempt");
		goto done;
	}
	order_id = pay_oid(&attempt, "order_id");
	bson_reinit(&filter);
	BSON_APPEND_OID(&filter, "_id", order_id);
	if (!pay_find_one(session, c->st, "orders", &filter, &order, &have_order, berr, err))
		goto done;
	if (!have_order) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "the attempt's order is gone");
		goto done;
	}
	/* the order waits for exactly this attempt: it is paid by it; any
	 * other case (expired and cancelled, a voided attempt paid in another
	 * tab, paid twice) is money we must give back */
	c->late = !(strcmp(pay_str(&attempt, "status"), "open") == 0 &&
		    strcmp(pay_str(&order, "status"), "pending") == 0 &&
		    strcmp(pay_str(&order, "payment_status"), "unpaid") == 0);
	if (!apply_insert_payment(session, c, &attempt, c->late, berr, err))
		goto done;
	if (!c->late) {
		struct orders_transition t = {
			.to = c->txn->risk_level ? ORDERS_PAYMENT_REVIEW : ORDERS_PROCESSING,
			.actor = ORDERS_ACTOR_SYSTEM, .by_role = "system",
			.note = c->txn->risk_level ? "paid (SSLCOMMERZ); the gateway rates it risky: "
						     "verify the customer before shipping" :
						     "paid (SSLCOMMERZ)",
			.has_expect = true, .expect = ORDERS_PENDING,
		};

		if (!orders_transition_apply_in(session, c->st, c->cfg, order_id, &t, NULL, berr, err) ||
		    !apply_order_paid(session, c, order_id, "paid", berr, err))
			goto done;
	} else {
		bson_t pay = BSON_INITIALIZER;
		bson_oid_t refund_id;
		bool refunded;

		BSON_APPEND_OID(&pay, "_id", &c->payment_id);
		BSON_APPEND_OID(&pay, "order_id", order_id);
		BSON_APPEND_UTF8(&pay, "tran_id", c->tran_id);
		BSON_APPEND_UTF8(&pay, "bank_tran_id", c->txn->bank_tran_id);
		BSON_APPEND_INT64(&pay, "amount", c->amount);
		BSON_APPEND_UTF8(&pay, "currency", c->currency);
		refunded = pay_refund_request(session, c->st, &pay, c->amount,
					      "paid after the order was closed: refunded automatically",
					      NULL, NULL, &refund_id, berr, err);
		bson_destroy(&pay);
		if (!refunded)
			goto done;
		/* a closed order nobody paid otherwise now waits for this refund
		 * (a pending one, paid through a voided attempt, still takes
		 * its payment through the open one) */
		if (strcmp(pay_str(&order, "payment_status"), "unpaid") == 0 &&
		    strcmp(pay_str(&order, "status"), "pending") != 0 &&
		    !apply_order_paid(session, c, order_id, "refund_requested", berr, err))
			goto done;
		{
			const struct jobs_config *jc = jobs_config(c->cfg);
			bson_t vars = BSON_INITIALIZER;
			char dedupe[96], money[64];

			if (!orders_money_format(c->amount, c->currency, money, sizeof money))
				snprintf(money, sizeof money, "%lld", (long long)c->amount);
			BSON_APPEND_UTF8(&vars, "order_id", pay_str(&order, "number"));
			BSON_APPEND_UTF8(&vars, "amount", money);
			BSON_APPEND_UTF8(&vars, "tran_id", c->tran_id);
			BSON_APPEND_UTF8(&vars, "status", pay_str(&order, "status"));
			snprintf(dedupe, sizeof dedupe, "payment_late:%s", c->tran_id);
			refunded = !jc->staff_email[0] ||
				   jobs_email_enqueue(c->st, session, jc->staff_email, "payment_late",
						      &vars, dedupe, berr, err);
			bson_destroy(&vars);
			if (!refunded)
				goto done;
		}
	}
	if (!pay_attempt_mark(c->st, session, c->tran_id, NULL, c->late ? "late" : "paid", berr, err))
		goto done;
	ok = true;
done:
	if (have_attempt)
		bson_destroy(&attempt);
	if (have_order)
		bson_destroy(&order);
	bson_destroy(&filter);
	return ok;
}

static bool apply_status_paid(const char *s)
{
	return strcmp(s, "VALID") == 0 || strcmp(s, "VALIDATED") == 0;
}

/* Marks a failed/cancelled/expired attempt; an unknown status is refused. */
static bool apply_mark(struct em_store *st, const char *status_in, const char *tran_id,
		       enum payments_outcome *outcome, struct em_error *err)
{
	static const char *const map[][2] = { { "FAILED", "failed" }, { "CANCELLED", "cancelled" },
					      { "EXPIRED", "expired" },
					      { "UNATTEMPTED", "unattempted" } };
	bson_error_t berr;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(status_in, map[i][0]) == 0) {
			if (!pay_attempt_mark(st, NULL, tran_id, "open", map[i][1], &berr, err))
				return false;
			*outcome = PAYMENTS_MARKED;
			return true;
		}
	em_error_set(err, EM_ERR_INVALID, "status", "unknown payment status");
	return false;
}

bool payments_notification_apply(struct em_store *st, const struct em_config *cfg,
				 const char *status_in, const char *tran_id, const char *val_id,
				 const char *store_id, bool queue_on_failure,
				 enum payments_outcome *outcome, bson_oid_t *order_id,
				 struct em_error *err)
{
	const struct payments_config *pc = payments_config(cfg);
	struct payments_txn txn;
	struct apply_ctx c;
	bson_t filter = BSON_INITIALIZER, attempt, order;
	bson_error_t berr;
	bool ok = false, have_attempt = false, have_order = false;
	int64_t amount = 0, total, paid;
	const char *currency;
	int exp;

	*outcome = PAYMENTS_REFUSED;
	if (!tran_id_ok(tran_id)) {
		em_error_set(err, EM_ERR_INVALID, "tran_id", "is malformed");
		goto done;
	}
	if (store_id && strcmp(store_id, pc->store_id) != 0) {
		em_error_set(err, EM_ERR_INVALID, "store_id", "is not this shop's store");
		goto done;
	}
	BSON_APPEND_UTF8(&filter, "tran_id", tran_id);
	if (!pay_find_one(NULL, st, "payment_attempts", &filter, &attempt, &have_attempt, &berr, err))
		goto done;
	if (!have_attempt) {
		em_error_set(err, EM_ERR_NOT_FOUND, "tran_id", "no such payment attempt");
		goto done;
	}
	if (order_id && pay_oid(&attempt, "order_id"))
		bson_oid_copy(pay_oid(&attempt, "order_id"), order_id);
	if (!apply_status_paid(status_in)) {
		ok = apply_mark(st, status_in, tran_id, outcome, err);
		goto done;
	}
	if (!val_id || !val_id[0] || strlen(val_id) >= sizeof txn.val_id) {
		em_error_set(err, EM_ERR_INVALID, "val_id", "is required for a paid status");
		goto done;
	}
	{
		struct payments_call call = { st, cfg, pay_oid(&attempt, "order_id"), tran_id };

		if (!payments_sslcommerz.validate(&call, val_id, &txn, err)) {
			if (err->kind == EM_ERR_BAD_GATEWAY && queue_on_failure) {
				bson_t payload = BSON_INITIALIZER;
				char dedupe[128];
				struct em_error e2 = EM_ERROR_INIT;

				BSON_APPEND_UTF8(&payload, "tran_id", tran_id);
				BSON_APPEND_UTF8(&payload, "val_id", val_id);
				snprintf(dedupe, sizeof dedupe, "payments_validate:%s", val_id);
				ok = jobs_enqueue(st, NULL, "payments_validate", &payload, dedupe, 0, &berr,
						  &e2);
				bson_destroy(&payload);
				if (ok) {
					em_error_clear(err);
					*outcome = PAYMENTS_QUEUED;
				} else {
					*err = e2;
				}
			}
			goto done;
		}
	}
	/* the validation answer against our own records */
	if (!apply_status_paid(txn.status)) {
		em_error_set(err, EM_ERR_INVALID, "val_id", "the gateway's validation says %s",
			     txn.status[0] ? txn.status : "nothing");
		goto done;
	}
	if (strcmp(txn.tran_id, tran_id) != 0 || strcmp(txn.val_id, val_id) != 0) {
		em_error_set(err, EM_ERR_INVALID, "tran_id", "the validation is for another transaction");
		goto done;
	}
	bson_reinit(&filter);
	BSON_APPEND_OID(&filter, "_id", pay_oid(&attempt, "order_id"));
	if (!pay_find_one(NULL, st, "orders", &filter, &order, &have_order, &berr, err))
		goto done;
	if (!have_order) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "the attempt's order is gone");
		goto done;
	}
	currency = pay_str(&order, "currency");
	total = pay_int64(&order, "total", -1);
	exp = payments_currency_exponent(currency);
	/* BDT is charged as is; another currency is converted by the gateway,
	 * and currency_type/currency_amount say what the customer was charged */
	if (strcmp(currency, "BDT") == 0) {
		if (strcmp(txn.currency, currency) != 0 || !payments_amount_parse(txn.amount, exp, &paid)) {
			em_error_set(err, EM_ERR_INVALID, "currency", "the payment is not in %s", currency);
			goto done;
		}
	} else if (strcmp(txn.currency_type, currency) != 0 ||
		   !payments_amount_parse(txn.currency_amount, exp, &paid)) {
		em_error_set(err, EM_ERR_INVALID, "currency", "the payment is not in %s", currency);
		goto done;
	}
	amount = pay_int64(&attempt, "amount", -2);
	if (paid != total || paid != amount ||
	    strcmp(pay_str(&attempt, "currency"), currency) != 0) {
		em_error_set(err, EM_ERR_INVALID, "amount",
			     "the payment (%lld) is not the order's total (%lld)", (long long)paid,
			     (long long)total);
		goto done;
	}
	memset(&c, 0, sizeof c);
	c.st = st;
	c.cfg = cfg;
	c.tran_id = tran_id;
	c.txn = &txn;
	c.amount = paid;
	c.currency = currency;
	if (!store_txn_run(st, apply_txn, &c, err)) {
		if (!c.replay)
			goto done;
		em_error_clear(err); /* the twin that won recorded it */
	}
	*outcome = c.replay ? PAYMENTS_REPLAY : c.late ? PAYMENTS_LATE : PAYMENTS_APPLIED;
	em_metrics_event(c.replay ? EM_EV_PAYMENT_REPLAY : c.late ? EM_EV_PAYMENT_LATE :
			 txn.risk_level ? EM_EV_PAYMENT_REVIEW : EM_EV_PAYMENT_PAID);
	if (*outcome != PAYMENTS_REPLAY)
		em_info("payment %s: %s (%lld %s, risk %d)", tran_id, payments_outcome_name(*outcome),
			(long long)paid, currency, txn.risk_level);
	ok = true;
done:
	if (!ok && *outcome == PAYMENTS_REFUSED && err->kind != EM_ERR_NONE && err->kind != EM_ERR_INTERNAL &&
	    err->kind != EM_ERR_UNAVAILABLE && err->kind != EM_ERR_BAD_GATEWAY) /* not a failure of ours */
		em_metrics_event(EM_EV_PAYMENT_REFUSED);
	if (!ok && *outcome == PAYMENTS_REFUSED && err->kind != EM_ERR_NONE)
		em_warn("payment notification for %s refused: %s%s%s", tran_id ? tran_id : "?",
			err->field[0] ? err->field : "", err->field[0] ? ": " : "", err->message);
	if (have_attempt)
		bson_destroy(&attempt);
	if (have_order)
		bson_destroy(&order);
	bson_destroy(&filter);
	return ok;
}
