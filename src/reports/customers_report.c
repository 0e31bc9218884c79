/*
 * customers_report.c - GET /api/v1/admin/reports/customers: sign-ups per
 * bucket, the range's buyers (new: no paid order before `from`;
 * returning: one), repeat buyers (2+ paid orders in the range) and the
 * top customers by what they paid. Admin only: it names customers.
 */
#include "reports/reports_internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/time.h"

struct signup_ctx {
	const int64_t *edges;
	size_t n;
	int64_t *counts;
};

static bool signup_row(const bson_t *row, void *vctx, struct em_error *err)
{
	struct signup_ctx *c = vctx;
	bson_iter_t it;
	long i;

	if (!bson_iter_init_find(&it, row, "_id") || !BSON_ITER_HOLDS_DATE_TIME(&it) ||
	    (i = reports_bucket_find(c->edges, c->n, bson_iter_date_time(&it))) < 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "a sign-up group on no bucket of the range");
		return false;
	}
	return reports_bson_int64(row, "n", &c->counts[i], err);
}

struct buyers_ctx {
	int64_t buyers, new_buyers, repeat;
	json_object *top;
	struct reports_csv *csv;
};

static bool buyers_counts(const bson_t *row, void *vctx, struct em_error *err)
{
	struct buyers_ctx *c = vctx;

	return reports_bson_int64(row, "buyers", &c->buyers, err) &&
	       reports_bson_int64(row, "new", &c->new_buyers, err) &&
	       reports_bson_int64(row, "repeat", &c->repeat, err);
}

static bool buyers_top(const bson_t *row, void *vctx, struct em_error *err)
{
	struct buyers_ctx *c = vctx;
	int64_t orders, spent;
	json_object *id = rep_json_oid(row, "_id");
	const char *email = rep_str(row, "email", ""), *name = rep_str(row, "name", "");

	if (!id || !reports_bson_int64(row, "orders", &orders, err) ||
	    !reports_bson_int64(row, "spent", &spent, err)) {
		json_object_put(id);
		if (!err->kind)
			em_error_set(err, EM_ERR_INTERNAL, NULL, "a buyer without a user id");
		return false;
	}
	if (c->csv) {
		reports_csv_cell(c->csv, json_object_get_string(id));
		reports_csv_cell(c->csv, email);
		reports_csv_cell(c->csv, name);
		reports_csv_int(c->csv, orders);
		reports_csv_int(c->csv, spent);
		reports_csv_row_end(c->csv);
		json_object_put(id);
		return true;
	}
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "user_id", id);
		json_object_object_add(o, "email", json_object_new_string(email));
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "orders", json_object_new_int64(orders));
		json_object_object_add(o, "spent", json_object_new_int64(spent));
		json_object_array_add(c->top, o);
	}
	return true;
}

static bool buyers_row(const bson_t *row, void *vctx, struct em_error *err)
{
	return rep_each(row, "counts", buyers_counts, vctx, err) &&
	       rep_each(row, "top", buyers_top, vctx, err);
}

/*
 * Every sale before `to` grouped per customer: the first sale's time
 * (new or returning), the sales in the range and what they paid.
 */
static bson_t *buyers_pipeline(const struct reports_range *r, int limit)
{
	bson_t *in_range = BCON_NEW("$gte", "[", BCON_UTF8("$created_at"), BCON_DATE_TIME(r->from_ms), "]");
	bson_t *p = BCON_NEW("pipeline", "[",
		"{", "$match", "{", "applied", BCON_UTF8("order"), "created_at", "{",
			"$lt", BCON_DATE_TIME(r->to_ms), "}", "}", "}",
		"{", "$lookup", "{", "from", BCON_UTF8("orders"), "localField", BCON_UTF8("order_id"),
			"foreignField", BCON_UTF8("_id"), "as", BCON_UTF8("o"), "}", "}",
		"{", "$unwind", BCON_UTF8("$o"), "}",
		"{", "$group", "{", "_id", BCON_UTF8("$o.user_id"),
			"first", "{", "$min", BCON_UTF8("$created_at"), "}",
			"orders", "{", "$sum", "{", "$cond", "[", BCON_DOCUMENT(in_range), BCON_INT32(1),
				BCON_INT32(0), "]", "}", "}",
			"spent", "{", "$sum", "{", "$cond", "[", BCON_DOCUMENT(in_range), BCON_UTF8("$o.total"),
				BCON_INT64(0), "]", "}", "}", "}", "}",
		"{", "$match", "{", "orders", "{", "$gte", BCON_INT32(1), "}", "}", "}",
		"{", "$facet", "{",
			"counts", "[", "{", "$group", "{", "_id", BCON_NULL,
				"buyers", "{", "$sum", BCON_INT32(1), "}",
				"new", "{", "$sum", "{", "$cond", "[", "{", "$gte", "[", BCON_UTF8("$first"),
					BCON_DATE_TIME(r->from_ms), "]", "}", BCON_INT32(1), BCON_INT32(0), "]", "}", "}",
				"repeat", "{", "$sum", "{", "$cond", "[", "{", "$gte", "[", BCON_UTF8("$orders"),
					BCON_INT32(2), "]", "}", BCON_INT32(1), BCON_INT32(0), "]", "}", "}",
				"}", "}", "]",
			"top", "[",
				"{", "$sort", "{", "spent", BCON_INT32(-1), "_id", BCON_INT32(1), "}", "}",
				"{", "$limit", BCON_INT32(limit), "}",
				"{", "$lookup", "{", "from", BCON_UTF8("users"), "localField", BCON_UTF8("_id"),
					"foreignField", BCON_UTF8("_id"), "as", BCON_UTF8("u"), "}", "}",
				"{", "$addFields", "{", "email", "{", "$first", BCON_UTF8("$u.email"), "}",
					"name", "{", "$first", BCON_UTF8("$u.name"), "}", "}", "}",
				"{", "$project", "{", "u", BCON_INT32(0), "}", "}",
				"{", "$sort", "{", "spent", BCON_INT32(-1), "_id", BCON_INT32(1), "}", "}",
			"]",
		"}", "}",
		"]");

	bson_destroy(in_range);
	return p;
}

bool rep_customers(struct em_request *req, struct em_error *err)
{
	struct rep_params p;
	int64_t *edges = xcalloc(REPORTS_BUCKETS_MAX, sizeof(*edges));
	int64_t *counts = xcalloc(REPORTS_BUCKETS_MAX, sizeof(*counts));
	struct signup_ctx sc = { edges, 0, counts };
	struct buyers_ctx bc = { 0, 0, 0, NULL, NULL };
	struct reports_csv csv = { NULL, false };
	bson_t *sp = NULL, *bp = NULL, trunc;
	int64_t total = 0;
	bool ok = false, have_trunc = false;

	if (!rep_params_read(req, REP_RANGE | REP_INTERVAL | REP_LIMIT, &p, err) ||
	    !reports_range_buckets(&p.range, edges, &sc.n, err))
		goto done;
	reports_trunc_init(&trunc, "created_at", &p.range);
	have_trunc = true;
	sp = BCON_NEW("pipeline", "[",
		"{", "$match", "{", "created_at", "{", "$gte", BCON_DATE_TIME(p.range.from_ms),
			"$lt", BCON_DATE_TIME(p.range.to_ms), "}", "}", "}",
		"{", "$group", "{", "_id", BCON_DOCUMENT(&trunc), "n", "{", "$sum", BCON_INT32(1), "}", "}", "}",
		"]");
	bp = buyers_pipeline(&p.range, p.limit);
	if (p.csv) {
		reports_csv_init(&csv);
		reports_csv_cell(&csv, "user_id");
		reports_csv_cell(&csv, "email");
		reports_csv_cell(&csv, "name");
		reports_csv_cell(&csv, "orders");
		reports_csv_cell(&csv, "spent");
		reports_csv_row_end(&csv);
		bc.csv = &csv;
	} else {
		bc.top = json_object_new_array();
	}
	if (!reports_aggregate(rep_st(req), rep_cfg(req), "users", sp, signup_row, &sc,
			       "sign-ups report", err) ||
	    !reports_aggregate(rep_st(req), rep_cfg(req), "payments", bp, buyers_row, &bc,
			       "buyers report", err))
		goto done;
	for (size_t i = 0; i < sc.n; i++)
		total += counts[i];
	if (p.csv) {
		rep_csv_respond(req, "customers", &p.range, &csv);
	} else {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		char label[16];
		double pct;
		char buf[32];

		json_object_object_add(o, "currency", json_object_new_string(rep_cfg(req)->currency));
		rep_json_time(o, "from", p.range.from_ms);
		rep_json_time(o, "to", p.range.to_ms);
		json_object_object_add(o, "interval",
				       json_object_new_string(reports_interval_name(p.range.interval)));
		json_object_object_add(o, "tz", json_object_new_string(p.range.tz));
		for (size_t i = 0; i < sc.n; i++) {
			json_object *b = json_object_new_object();

			rep_json_time(b, "start", edges[i]);
			rep_local_date(p.range.tz, edges[i], label);
			json_object_object_add(b, "label", json_object_new_string(label));
			json_object_object_add(b, "signups", json_object_new_int64(counts[i]));
			json_object_array_add(arr, b);
		}
		json_object_object_add(o, "signups", arr);
		json_object_object_add(o, "signups_total", json_object_new_int64(total));
		json_object_object_add(o, "buyers", json_object_new_int64(bc.buyers));
		json_object_object_add(o, "new_buyers", json_object_new_int64(bc.new_buyers));
		json_object_object_add(o, "returning_buyers",
				       json_object_new_int64(bc.buyers - bc.new_buyers));
		json_object_object_add(o, "repeat_buyers", json_object_new_int64(bc.repeat));
		if (bc.buyers > 0) {
			pct = (double)bc.repeat * 100.0 / (double)bc.buyers;
			pct = (double)(int64_t)(pct * 10.0 + 0.5) / 10.0;
			snprintf(buf, sizeof(buf), "%.1f", pct);
			json_object_object_add(o, "repeat_rate_pct", json_object_new_double_s(pct, buf));
		} else {
			json_object_object_add(o, "repeat_rate_pct", NULL);
		}
		json_object_object_add(o, "top_customers", bc.top);
		bc.top = NULL;
		em_response_json(req, 200, o);
	}
	ok = true;
done:
	if (have_trunc)
		bson_destroy(&trunc);
	if (sp)
		bson_destroy(sp);
	if (bp)
		bson_destroy(bp);
	if (bc.top)
		json_object_put(bc.top);
	reports_csv_release(&csv);
	free(edges);
	free(counts);
	return ok;
}
