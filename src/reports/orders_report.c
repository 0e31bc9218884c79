/*
 * orders_report.c - GET /api/v1/admin/reports/orders (orders placed in the
 * range by status and payment method: counts only, staff may read it) and
 * /refunds (refunds issued and returns asked for in the range).
 */
#include "reports/reports_internal.h"

#include <string.h>

static const char *const rep_statuses[] = { "pending", "payment_review", "processing", "shipped",
					    "delivered", "returned", "cancelled" };
static const char *const rep_methods[] = { "sslcommerz", "cod" };
static const char *const rep_refund_statuses[] = { "requested", "processing", "refunded",
						   "failed", "cancelled" };
static const char *const rep_refund_methods[] = { "gateway", "manual" };
static const char *const rep_return_statuses[] = { "requested", "approved", "rejected",
						   "received" };

#define KEYS_MAX 8

/* Counts (and amounts) per key of one $facet output, zeros for known keys. */
struct keyed {
	const char *const *keys;
	size_t nkeys;
	int64_t count[KEYS_MAX], amount[KEYS_MAX];
	int64_t other_count, other_amount; /* keys the list does not know */
};

static bool keyed_row(const bson_t *row, void *vctx, struct em_error *err)
{
	struct keyed *k = vctx;
	const char *key = rep_str(row, "_id", "");
	int64_t n, amount;

	if (!reports_bson_int64(row, "n", &n, err) || !reports_bson_int64(row, "amount", &amount, err))
		return false;
	for (size_t i = 0; i < k->nkeys; i++)
		if (strcmp(k->keys[i], key) == 0) {
			k->count[i] = n;
			k->amount[i] = amount;
			return true;
		}
	k->other_count += n;
	k->other_amount += amount;
	return true;
}

static void keyed_init(struct keyed *k, const char *const *keys, size_t n)
{
	memset(k, 0, sizeof(*k));
	k->keys = keys;
	k->nkeys = n;
}

/* [{key, <count_name>, [amount]}...] */
static json_object *keyed_json(const struct keyed *k, const char *count_name, bool amounts)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < k->nkeys; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "key", json_object_new_string(k->keys[i]));
		json_object_object_add(o, count_name, json_object_new_int64(k->count[i]));
		if (amounts)
			json_object_object_add(o, "amount", json_object_new_int64(k->amount[i]));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void keyed_csv(struct reports_csv *csv, const char *dimension, const struct keyed *k,
		      bool amounts)
{
	for (size_t i = 0; i < k->nkeys; i++) {
		reports_csv_cell(csv, dimension);
		reports_csv_cell(csv, k->keys[i]);
		reports_csv_int(csv, k->count[i]);
		if (amounts)
			reports_csv_int(csv, k->amount[i]);
		reports_csv_row_end(csv);
	}
}

struct two_facets {
	struct keyed a, b;
};

static bool two_facets_row(const bson_t *row, void *vctx, struct em_error *err)
{
	struct two_facets *t = vctx;

	return rep_each(row, "a", keyed_row, &t->a, err) && rep_each(row, "b", keyed_row, &t->b, err);
}

bool rep_orders(struct em_request *req, struct em_error *err)
{
	struct rep_params p;
	struct two_facets t;
	bson_t *pl = NULL;
	int64_t total = 0;
	bool ok = false;

	if (!rep_params_read(req, REP_RANGE, &p, err))
		goto done;
	keyed_init(&t.a, rep_statuses, EM_COUNT(rep_statuses));
	keyed_init(&t.b, rep_methods, EM_COUNT(rep_methods));
	pl = BCON_NEW("pipeline", "[",
		"{", "$match", "{", "created_at", "{", "$gte", BCON_DATE_TIME(p.range.from_ms),
			"$lt", BCON_DATE_TIME(p.range.to_ms), "}", "}", "}",
		"{", "$facet", "{",
			"a", "[", "{", "$group", "{", "_id", BCON_UTF8("$status"),
				"n", "{", "$sum", BCON_INT32(1), "}", "}", "}", "]",
			"b", "[", "{", "$group", "{", "_id", BCON_UTF8("$payment_method"),
				"n", "{", "$sum", BCON_INT32(1), "}", "}", "}", "]",
		"}", "}",
		"]");
	if (!reports_aggregate(rep_st(req), rep_cfg(req), "orders", pl, two_facets_row, &t,
			       "orders report", err))
		goto done;
	for (size_t i = 0; i < t.a.nkeys; i++)
		total += t.a.count[i];
	total += t.a.other_count;
	if (p.csv) {
		struct reports_csv csv;

		reports_csv_init(&csv);
		reports_csv_cell(&csv, "dimension");
		reports_csv_cell(&csv, "key");
		reports_csv_cell(&csv, "orders");
		reports_csv_row_end(&csv);
		keyed_csv(&csv, "status", &t.a, false);
		keyed_csv(&csv, "payment_method", &t.b, false);
		rep_csv_respond(req, "orders", &p.range, &csv);
		reports_csv_release(&csv);
	} else {
		json_object *o = json_object_new_object();

		rep_json_range(o, &p.range);
		json_object_object_add(o, "orders", json_object_new_int64(total));
		json_object_object_add(o, "by_status", keyed_json(&t.a, "orders", false));
		json_object_object_add(o, "by_payment_method", keyed_json(&t.b, "orders", false));
		em_response_json(req, 200, o);
	}
	ok = true;
done:
	if (pl)
		bson_destroy(pl);
	return ok;
}

/* the refunds' facets: a = by status, b = by method (counted ones only) */
static bson_t *refunds_pipeline(const struct reports_range *r)
{
	return BCON_NEW("pipeline", "[",
		"{", "$match", "{", "created_at", "{", "$gte", BCON_DATE_TIME(r->from_ms),
			"$lt", BCON_DATE_TIME(r->to_ms), "}", "}", "}",
		"{", "$facet", "{",
			"a", "[", "{", "$group", "{", "_id", BCON_UTF8("$status"),
				"n", "{", "$sum", BCON_INT32(1), "}",
				"amount", "{", "$sum", BCON_UTF8("$amount"), "}", "}", "}", "]",
			"b", "[", "{", "$match", "{", "status", "{", "$in", "[", BCON_UTF8("requested"),
					BCON_UTF8("processing"), BCON_UTF8("refunded"), "]", "}", "}", "}",
				"{", "$group", "{", "_id", BCON_UTF8("$method"),
				"n", "{", "$sum", BCON_INT32(1), "}",
				"amount", "{", "$sum", BCON_UTF8("$amount"), "}", "}", "}", "]",
		"}", "}",
		"]");
}

static bson_t *returns_pipeline(const struct reports_range *r)
{
	return BCON_NEW("pipeline", "[",
		"{", "$match", "{", "created_at", "{", "$gte", BCON_DATE_TIME(r->from_ms),
			"$lt", BCON_DATE_TIME(r->to_ms), "}", "}", "}",
		"{", "$group", "{", "_id", BCON_UTF8("$status"), "n", "{", "$sum", BCON_INT32(1), "}",
			"amount", "{", "$sum", BCON_UTF8("$refund_amount"), "}", "}", "}",
		"]");
}

bool rep_refunds(struct em_request *req, struct em_error *err)
{
	struct rep_params p;
	struct two_facets t;
	struct keyed ret;
	bson_t *pl = NULL, *rl = NULL;
	int64_t count = 0, amount = 0, rcount = 0, ramount = 0;
	bool ok = false;

	if (!rep_params_read(req, REP_RANGE, &p, err))
		goto done;
	keyed_init(&t.a, rep_refund_statuses, EM_COUNT(rep_refund_statuses));
	keyed_init(&t.b, rep_refund_methods, EM_COUNT(rep_refund_methods));
	keyed_init(&ret, rep_return_statuses, EM_COUNT(rep_return_statuses));
	pl = refunds_pipeline(&p.range);
	rl = returns_pipeline(&p.range);
	if (!reports_aggregate(rep_st(req), rep_cfg(req), "refunds", pl, two_facets_row, &t,
			       "refunds report", err) ||
	    !reports_aggregate(rep_st(req), rep_cfg(req), "order_returns", rl, keyed_row, &ret,
			       "returns report", err))
		goto done;
	for (size_t i = 0; i < t.b.nkeys; i++) {
		count += t.b.count[i];
		amount += t.b.amount[i];
	}
	for (size_t i = 0; i < ret.nkeys; i++)
		rcount += ret.count[i];
	/* what was refunded for returns: the received ones' share */
	ramount = ret.amount[3];
	if (p.csv) {
		struct reports_csv csv;

		reports_csv_init(&csv);
		reports_csv_cell(&csv, "kind");
		reports_csv_cell(&csv, "key");
		reports_csv_cell(&csv, "count");
		reports_csv_cell(&csv, "amount");
		reports_csv_row_end(&csv);
		keyed_csv(&csv, "refund_status", &t.a, true);
		keyed_csv(&csv, "refund_method", &t.b, true);
		keyed_csv(&csv, "return_status", &ret, true);
		rep_csv_respond(req, "refunds", &p.range, &csv);
		reports_csv_release(&csv);
	} else {
		json_object *o = json_object_new_object(), *r = json_object_new_object();
		json_object *rt = json_object_new_object();

		json_object_object_add(o, "currency", json_object_new_string(rep_cfg(req)->currency));
		rep_json_range(o, &p.range);
		json_object_object_add(r, "count", json_object_new_int64(count));
		json_object_object_add(r, "amount", json_object_new_int64(amount));
		json_object_object_add(r, "by_status", keyed_json(&t.a, "count", true));
		json_object_object_add(r, "by_method", keyed_json(&t.b, "count", true));
		json_object_object_add(o, "refunds", r);
		json_object_object_add(rt, "count", json_object_new_int64(rcount));
		json_object_object_add(rt, "by_status", keyed_json(&ret, "count", true));
		json_object_object_add(rt, "refund_amount", json_object_new_int64(ramount));
		json_object_object_add(o, "returns", rt);
		em_response_json(req, 200, o);
	}
	ok = true;
done:
	if (pl)
		bson_destroy(pl);
	if (rl)
		bson_destroy(rl);
	return ok;
}
