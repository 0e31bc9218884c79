/*
 * sales_routes.c - GET /api/v1/admin/reports/sales and the dashboard,
 * whose sales figures are the sales report's (reports_sales_run) for the
 * same ranges.
 */
#include "reports/reports_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/time.h"

static json_object *figures_json(const struct reports_figures *f)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "gross", json_object_new_int64(f->gross));
	json_object_object_add(o, "discounts", json_object_new_int64(f->discounts));
	json_object_object_add(o, "shipping", json_object_new_int64(f->shipping));
	json_object_object_add(o, "tax", json_object_new_int64(f->tax));
	json_object_object_add(o, "refunds", json_object_new_int64(f->refunds));
	json_object_object_add(o, "net", json_object_new_int64(f->net));
	json_object_object_add(o, "orders", json_object_new_int64(f->orders));
	json_object_object_add(o, "units", json_object_new_int64(f->units));
	json_object_object_add(o, "aov", json_object_new_int64(f->aov));
	return o;
}

static json_object *change_json(const struct reports_figures *a, const struct reports_figures *b)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "gross", rep_json_pct(a->gross, b->gross));
	json_object_object_add(o, "discounts", rep_json_pct(a->discounts, b->discounts));
	json_object_object_add(o, "shipping", rep_json_pct(a->shipping, b->shipping));
	json_object_object_add(o, "tax", rep_json_pct(a->tax, b->tax));
	json_object_object_add(o, "refunds", rep_json_pct(a->refunds, b->refunds));
	json_object_object_add(o, "net", rep_json_pct(a->net, b->net));
	json_object_object_add(o, "orders", rep_json_pct(a->orders, b->orders));
	json_object_object_add(o, "units", rep_json_pct(a->units, b->units));
	json_object_object_add(o, "aov", rep_json_pct(a->aov, b->aov));
	return o;
}

static void figures_csv(struct reports_csv *csv, const struct reports_figures *f)
{
	reports_csv_int(csv, f->gross);
	reports_csv_int(csv, f->discounts);
	reports_csv_int(csv, f->shipping);
	reports_csv_int(csv, f->tax);
	reports_csv_int(csv, f->refunds);
	reports_csv_int(csv, f->net);
	reports_csv_int(csv, f->orders);
	reports_csv_int(csv, f->units);
	reports_csv_int(csv, f->aov);
}

/* The period of equal length just before r. */
static void previous_range(const struct reports_range *r, struct reports_range *prev)
{
	*prev = *r;
	prev->to_ms = r->from_ms;
	prev->from_ms = r->from_ms - (r->to_ms - r->from_ms);
}

bool rep_sales(struct em_request *req, struct em_error *err)
{
	struct rep_params p;
	struct reports_range prev;
	int64_t *edges = xcalloc(REPORTS_BUCKETS_MAX, sizeof(*edges));
	int64_t *pedges = xcalloc(REPORTS_BUCKETS_MAX, sizeof(*pedges));
	struct reports_figures *b = xcalloc(REPORTS_BUCKETS_MAX, sizeof(*b));
	struct reports_figures *pb = xcalloc(REPORTS_BUCKETS_MAX, sizeof(*pb));
	struct reports_figures totals, ptotals;
	size_t n = 0, pn = 0;
	bool ok = false;

	if (!rep_params_read(req, REP_RANGE | REP_INTERVAL, &p, err))
		goto done;
	previous_range(&p.range, &prev);
	if (!reports_range_buckets(&p.range, edges, &n, err) ||
	    !reports_range_buckets(&prev, pedges, &pn, err) ||
	    !reports_sales_run(rep_st(req), rep_cfg(req), &p.range, edges, n, b, &totals, err) ||
	    !reports_sales_run(rep_st(req), rep_cfg(req), &prev, pedges, pn, pb, &ptotals, err))
		goto done;
	if (p.csv) {
		struct reports_csv csv;
		static const char *const head[] = { "start", "label", "gross", "discounts",
						    "shipping", "tax", "refunds", "net",
						    "orders", "units", "aov" };
		char when[EM_TIME_RFC3339_SIZE], label[16];

		reports_csv_init(&csv);
		for (size_t i = 0; i < EM_COUNT(head); i++)
			reports_csv_cell(&csv, head[i]);
		reports_csv_row_end(&csv);
		for (size_t i = 0; i < n; i++) {
			em_time_rfc3339(edges[i], when, sizeof(when));
			rep_local_date(p.range.tz, edges[i], label);
			reports_csv_cell(&csv, when);
			reports_csv_cell(&csv, label);
			figures_csv(&csv, &b[i]);
			reports_csv_row_end(&csv);
		}
		reports_csv_cell(&csv, "total");
		reports_csv_cell(&csv, "");
		figures_csv(&csv, &totals);
		reports_csv_row_end(&csv);
		rep_csv_respond(req, "sales", &p.range, &csv);
		reports_csv_release(&csv);
	} else {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		json_object *po = json_object_new_object();
		char label[16];

		json_object_object_add(o, "currency",
				       json_object_new_string(rep_cfg(req)->currency));
		rep_json_time(o, "from", p.range.from_ms);
		rep_json_time(o, "to", p.range.to_ms);
		json_object_object_add(o, "interval",
				       json_object_new_string(reports_interval_name(p.range.interval)));
		json_object_object_add(o, "tz", json_object_new_string(p.range.tz));
		for (size_t i = 0; i < n; i++) {
			json_object *bo = figures_json(&b[i]);

			rep_json_time(bo, "start", edges[i]);
			rep_local_date(p.range.tz, edges[i], label);
			json_object_object_add(bo, "label", json_object_new_string(label));
			json_object_array_add(arr, bo);
		}
		json_object_object_add(o, "buckets", arr);
		json_object_object_add(o, "totals", figures_json(&totals));
		rep_json_time(po, "from", prev.from_ms);
		rep_json_time(po, "to", prev.to_ms);
		json_object_object_add(po, "totals", figures_json(&ptotals));
		json_object_object_add(o, "previous", po);
		json_object_object_add(o, "change_pct", change_json(&totals, &ptotals));
		em_response_json(req, 200, o);
	}
	ok = true;
done:
	free(edges);
	free(pedges);
	free(b);
	free(pb);
	return ok;
}

/* ---- the dashboard ---- */

/* The work waiting, shared by both roles. */
struct dash_counts {
	int64_t to_confirm, to_ship, reviews, returns_waiting, low_stock, dead_jobs;
};

static bool dash_counts(struct em_request *req, bool admin, struct dash_counts *c,
			struct em_error *err)
{
	struct em_store *st = rep_st(req);
	const struct em_config *cfg = rep_cfg(req);
	bson_t *confirm = BCON_NEW("status", BCON_UTF8("pending"), "payment_method", BCON_UTF8("cod"));
	bson_t *ship = BCON_NEW("status", BCON_UTF8("processing"));
	bson_t *review = BCON_NEW("status", BCON_UTF8("payment_review"));
	bson_t *returns = BCON_NEW("status", "{", "$in", "[", BCON_UTF8("requested"),
				   BCON_UTF8("approved"), "]", "}");
	bson_t *dead = BCON_NEW("status", BCON_UTF8("dead"));
	int64_t out = 0, low = 0;
	bool ok;

	memset(c, 0, sizeof(*c));
	ok = reports_count(st, cfg, "orders", confirm, &c->to_confirm, "orders to confirm", err) &&
	     reports_count(st, cfg, "orders", ship, &c->to_ship, "orders to ship", err) &&
	     reports_count(st, cfg, "order_returns", returns, &c->returns_waiting,
			   "returns waiting", err) &&
	     rep_stock_counts(st, cfg, &out, &low, err) &&
	     (!admin ||
	      (reports_count(st, cfg, "orders", review, &c->reviews, "payment reviews", err) &&
	       reports_count(st, cfg, "jobs", dead, &c->dead_jobs, "dead jobs", err)));
	c->low_stock = out + low;
	bson_destroy(confirm);
	bson_destroy(ship);
	bson_destroy(review);
	bson_destroy(returns);
	bson_destroy(dead);
	return ok;
}

static bool dash_event_row(const bson_t *row, void *vctx, struct em_error *err)
{
	json_object *arr = vctx, *ev = json_object_new_object(), *x;
	bson_iter_t it, sub;

	(void)err;
	json_object_object_add(ev, "order_id", rep_json_oid(row, "_id"));
	x = rep_json_str(row, "number");
	json_object_object_add(ev, "number", x ? x : json_object_new_string(""));
	if (bson_iter_init_find(&it, row, "events") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	    bson_iter_recurse(&it, &sub)) {
		const char *from = NULL, *to = "";
		int64_t at = 0;

		while (bson_iter_next(&sub)) {
			const char *k = bson_iter_key(&sub);

			if (strcmp(k, "from") == 0 && BSON_ITER_HOLDS_UTF8(&sub))
				from = bson_iter_utf8(&sub, NULL);
			else if (strcmp(k, "to") == 0 && BSON_ITER_HOLDS_UTF8(&sub))
				to = bson_iter_utf8(&sub, NULL);
			else if (strcmp(k, "at") == 0 && BSON_ITER_HOLDS_DATE_TIME(&sub))
				at = bson_iter_date_time(&sub);
		}
		json_object_object_add(ev, "from", from ? json_object_new_string(from) : NULL);
		json_object_object_add(ev, "to", json_object_new_string(to));
		rep_json_time(ev, "at", at);
	}
	json_object_array_add(arr, ev);
	return true;
}

/*
 * The last 10 order events of the last 30 days. Sorting the orders by
 * their newest event (a descending sort on the multikey events.at takes
 * each order's largest) and keeping 10 keeps every order that can hold
 * one of the 10 newest events.
 */
static bool dash_events(struct em_request *req, json_object *arr, struct em_error *err)
{
	int64_t since = em_now_ms() - INT64_C(30) * 86400000;
	bson_t *p = BCON_NEW("pipeline", "[",
			     "{", "$match", "{", "events.at", "{", "$gte", BCON_DATE_TIME(since), "}", "}", "}",
			     "{", "$sort", "{", "events.at", BCON_INT32(-1), "}", "}",
			     "{", "$limit", BCON_INT32(10), "}",
			     "{", "$project", "{", "number", BCON_INT32(1), "events", BCON_INT32(1), "}", "}",
			     "{", "$unwind", BCON_UTF8("$events"), "}",
			     "{", "$sort", "{", "events.at", BCON_INT32(-1), "_id", BCON_INT32(-1), "}", "}",
			     "{", "$limit", BCON_INT32(10), "}",
			     "]");
	bool ok = reports_aggregate(rep_st(req), rep_cfg(req), "orders", p, dash_event_row, arr,
				    "dashboard events", err);

	bson_destroy(p);
	return ok;
}

/* One period's figure and its change against the period before. */
static json_object *dash_sales(const struct reports_range *r, const struct reports_figures *now,
			       const struct reports_figures *before)
{
	json_object *o = json_object_new_object();

	rep_json_time(o, "from", r->from_ms);
	rep_json_time(o, "to", r->to_ms);
	json_object_object_add(o, "net", json_object_new_int64(now->net));
	json_object_object_add(o, "gross", json_object_new_int64(now->gross));
	json_object_object_add(o, "orders", json_object_new_int64(now->orders));
	json_object_object_add(o, "change_pct", rep_json_pct(now->net, before->net));
	return o;
}

/*
 * The sales of today, 7 and 30 days, each against the period before: one
 * run of the sales report over the last 60 local days by day, each period's
 * figures the sum of its days (reports_figures_sum, as the report's totals
 * are), so they equal the report's for the same range and come from one
 * snapshot.
 */
static bool dash_sales_all(struct em_request *req, const char *tz, int64_t now, json_object *sales,
			   struct em_error *err)
{
	static const struct { const char *key; size_t days; } periods[] = {
		{ "today", 1 }, { "7d", 7 }, { "30d", 30 },
	};
	struct reports_range r, pr;
	int64_t *edges = xcalloc(REPORTS_BUCKETS_MAX, sizeof(*edges));
	struct reports_figures *b = xcalloc(REPORTS_BUCKETS_MAX, sizeof(*b));
	struct reports_figures t, pt, all;
	size_t n = 0;
	bool ok = false;

	if (!reports_range_last_days(tz, now, REPORTS_DASHBOARD_DAYS, &r, err) ||
	    !reports_range_buckets(&r, edges, &n, err) ||
	    !reports_sales_run(rep_st(req), rep_cfg(req), &r, edges, n, b, &all, err))
		goto done;
	if (n != REPORTS_DASHBOARD_DAYS) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "%zu day buckets in the dashboard's 60 days", n);
		goto done;
	}
	for (size_t i = 0; i < EM_COUNT(periods); i++) {
		size_t d = periods[i].days;

		pr = r;
		pr.from_ms = edges[n - d];
		pr.to_ms = r.to_ms;
		if (!reports_figures_sum(b, n - d, n, &t, err) ||
		    !reports_figures_sum(b, n - 2 * d, n - d, &pt, err))
			goto done;
		json_object_object_add(sales, periods[i].key, dash_sales(&pr, &t, &pt));
	}
	ok = true;
done:
	free(edges);
	free(b);
	return ok;
}

bool rep_dashboard(struct em_request *req, struct em_error *err)
{
	bool admin = req->role == EM_ROLE_ADMIN;
	const char *tz = reports_config(rep_cfg(req))->shop_tz;
	struct dash_counts c;
	json_object *o = NULL, *sales = NULL, *events = NULL;
	int64_t now = em_now_ms();
	bool ok = false;

	if (!em_request_query_check(req, NULL, 0, err) || !dash_counts(req, admin, &c, err))
		goto done;
	o = json_object_new_object();
	json_object_object_add(o, "role", json_object_new_string(admin ? "admin" : "staff"));
	if (admin) {
		sales = json_object_new_object();
		events = json_object_new_array();
		if (!dash_sales_all(req, tz, now, sales, err) || !dash_events(req, events, err))
			goto done;
		json_object_object_add(o, "currency", json_object_new_string(rep_cfg(req)->currency));
		json_object_object_add(o, "tz", json_object_new_string(tz));
		json_object_object_add(o, "sales", sales);
		sales = NULL;
	}
	json_object_object_add(o, "orders_to_confirm", json_object_new_int64(c.to_confirm));
	json_object_object_add(o, "orders_to_ship", json_object_new_int64(c.to_ship));
	if (admin)
		json_object_object_add(o, "payment_reviews", json_object_new_int64(c.reviews));
	json_object_object_add(o, "returns_waiting", json_object_new_int64(c.returns_waiting));
	json_object_object_add(o, "low_stock", json_object_new_int64(c.low_stock));
	if (admin) {
		json_object_object_add(o, "dead_jobs", json_object_new_int64(c.dead_jobs));
		json_object_object_add(o, "events", events);
		events = NULL;
	}
	em_response_json(req, 200, o);
	o = NULL;
	ok = true;
done:
	if (o)
		json_object_put(o);
	if (sales)
		json_object_put(sales);
	if (events)
		json_object_put(events);
	return ok;
}
