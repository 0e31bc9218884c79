/*
 * sales.c - the sales figures per bucket: one pipeline over the payments
 * (the sales, with their orders joined) and one over the refunds, each
 * grouped by the bucket of its own time ($dateTrunc in the report's zone).
 * The groups are matched with the buckets range.c computed; a group that
 * falls on no bucket edge means the two disagree on the zone, which is a
 * bug, not something to paper over.
 */
#include "reports/reports.h"

#include <string.h>

#include "core/log.h"

struct sales_ctx {
	const int64_t *edges;
	size_t n;
	struct reports_figures *buckets;
	bool refunds; /* the refunds pipeline's rows */
};

static bool sales_row(const bson_t *row, void *vctx, struct em_error *err)
{
	struct sales_ctx *c = vctx;
	struct reports_figures *f;
	bson_iter_t it;
	long i;

	if (!bson_iter_init_find(&it, row, "_id") || !BSON_ITER_HOLDS_DATE_TIME(&it)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "a sales group without a bucket date");
		return false;
	}
	i = reports_bucket_find(c->edges, c->n, bson_iter_date_time(&it));
	if (i < 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL,
			     "the database's bucket %lld is no bucket of the range",
			     (long long)bson_iter_date_time(&it));
		return false;
	}
	f = &c->buckets[i];
	if (c->refunds)
		return reports_bson_int64(row, "refunds", &f->refunds, err);
	return reports_bson_int64(row, "gross", &f->gross, err) &&
	       reports_bson_int64(row, "discounts", &f->discounts, err) &&
	       reports_bson_int64(row, "shipping", &f->shipping, err) &&
	       reports_bson_int64(row, "tax", &f->tax, err) &&
	       reports_bson_int64(row, "paid", &f->paid, err) &&
	       reports_bson_int64(row, "orders", &f->orders, err) &&
	       reports_bson_int64(row, "units", &f->units, err);
}

static void sum_append(bson_t *group, const char *key, const char *path)
{
	bson_t s;

	BSON_APPEND_DOCUMENT_BEGIN(group, key, &s);
	BSON_APPEND_UTF8(&s, "$sum", path);
	bson_append_document_end(group, &s);
}

/* payments (applied "order", paid in r) -> their orders -> per bucket */
static void sales_pipeline(const struct reports_range *r, bson_t *p)
{
	bson_t arr, st, m, range, lk, g, s, inner;

	bson_init(p);
	BSON_APPEND_ARRAY_BEGIN(p, "pipeline", &arr);

	BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &st);
	BSON_APPEND_DOCUMENT_BEGIN(&st, "$match", &m);
	BSON_APPEND_UTF8(&m, "applied", "order");
	BSON_APPEND_DOCUMENT_BEGIN(&m, "created_at", &range);
	BSON_APPEND_DATE_TIME(&range, "$gte", r->from_ms);
	BSON_APPEND_DATE_TIME(&range, "$lt", r->to_ms);
	bson_append_document_end(&m, &range);
	bson_append_document_end(&st, &m);
	bson_append_document_end(&arr, &st);

	BSON_APPEND_DOCUMENT_BEGIN(&arr, "1", &st);
	BSON_APPEND_DOCUMENT_BEGIN(&st, "$lookup", &lk);
	BSON_APPEND_UTF8(&lk, "from", "orders");
	BSON_APPEND_UTF8(&lk, "localField", "order_id");
	BSON_APPEND_UTF8(&lk, "foreignField", "_id");
	BSON_APPEND_UTF8(&lk, "as", "o");
	bson_append_document_end(&st, &lk);
	bson_append_document_end(&arr, &st);

	BSON_APPEND_DOCUMENT_BEGIN(&arr, "2", &st);
	BSON_APPEND_UTF8(&st, "$unwind", "$o");
	bson_append_document_end(&arr, &st);

	BSON_APPEND_DOCUMENT_BEGIN(&arr, "3", &st);
	BSON_APPEND_DOCUMENT_BEGIN(&st, "$group", &g);
	reports_trunc_append(&g, "_id", "created_at", r);
	sum_append(&g, "gross", "$o.subtotal");
	sum_append(&g, "discounts", "$o.discount");
	sum_append(&g, "shipping", "$o.shipping");
	sum_append(&g, "tax", "$o.tax");
	sum_append(&g, "paid", "$o.total");
	BSON_APPEND_DOCUMENT_BEGIN(&g, "orders", &s);
	BSON_APPEND_INT32(&s, "$sum", 1);
	bson_append_document_end(&g, &s);
	BSON_APPEND_DOCUMENT_BEGIN(&g, "units", &s);
	BSON_APPEND_DOCUMENT_BEGIN(&s, "$sum", &inner);
	BSON_APPEND_UTF8(&inner, "$sum", "$o.lines.quantity");
	bson_append_document_end(&s, &inner);
	bson_append_document_end(&g, &s);
	bson_append_document_end(&st, &g);
	bson_append_document_end(&arr, &st);

	bson_append_array_end(p, &arr);
}

/* refunds issued in r (not failed or cancelled) of sales -> per bucket */
static void refunds_pipeline(const struct reports_range *r, bson_t *p)
{
	bson_t arr, st, m, range, in, lk, g;

	bson_init(p);
	BSON_APPEND_ARRAY_BEGIN(p, "pipeline", &arr);

	BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &st);
	BSON_APPEND_DOCUMENT_BEGIN(&st, "$match", &m);
	BSON_APPEND_DOCUMENT_BEGIN(&m, "created_at", &range);
	BSON_APPEND_DATE_TIME(&range, "$gte", r->from_ms);
	BSON_APPEND_DATE_TIME(&range, "$lt", r->to_ms);
	bson_append_document_end(&m, &range);
	BSON_APPEND_DOCUMENT_BEGIN(&m, "status", &range);
	BSON_APPEND_ARRAY_BEGIN(&range, "$in", &in);
	BSON_APPEND_UTF8(&in, "0", "requested");
	BSON_APPEND_UTF8(&in, "1", "processing");
	BSON_APPEND_UTF8(&in, "2", "refunded");
	bson_append_array_end(&range, &in);
	bson_append_document_end(&m, &range);
	bson_append_document_end(&st, &m);
	bson_append_document_end(&arr, &st);

	BSON_APPEND_DOCUMENT_BEGIN(&arr, "1", &st);
	BSON_APPEND_DOCUMENT_BEGIN(&st, "$lookup", &lk);
	BSON_APPEND_UTF8(&lk, "from", "payments");
	BSON_APPEND_UTF8(&lk, "localField", "payment_id");
	BSON_APPEND_UTF8(&lk, "foreignField", "_id");
	BSON_APPEND_UTF8(&lk, "as", "p");
	bson_append_document_end(&st, &lk);
	bson_append_document_end(&arr, &st);

	/* a late payment's refund gives back what was never a sale */
	BSON_APPEND_DOCUMENT_BEGIN(&arr, "2", &st);
	BSON_APPEND_DOCUMENT_BEGIN(&st, "$match", &m);
	BSON_APPEND_UTF8(&m, "p.applied", "order");
	bson_append_document_end(&st, &m);
	bson_append_document_end(&arr, &st);

	BSON_APPEND_DOCUMENT_BEGIN(&arr, "3", &st);
	BSON_APPEND_DOCUMENT_BEGIN(&st, "$group", &g);
	reports_trunc_append(&g, "_id", "created_at", r);
	sum_append(&g, "refunds", "$amount");
	bson_append_document_end(&st, &g);
	bson_append_document_end(&arr, &st);

	bson_append_array_end(p, &arr);
}

bool reports_figures_sum(const struct reports_figures *buckets, size_t from, size_t to,
			 struct reports_figures *out, struct em_error *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = from; i < to; i++)
		if (!reports_figures_add(out, &buckets[i], err))
			return false;
	return reports_figures_finish(out, err);
}

bool reports_sales_run(struct em_store *st, const struct em_config *cfg,
		       const struct reports_range *r, const int64_t *edges, size_t n,
		       struct reports_figures *buckets, struct reports_figures *totals,
		       struct em_error *err)
{
	struct sales_ctx c = { edges, n, buckets, false };
	bson_t sales, refunds;
	bool ok = false;

	memset(buckets, 0, n * sizeof(*buckets));
	memset(totals, 0, sizeof(*totals));
	sales_pipeline(r, &sales);
	refunds_pipeline(r, &refunds);
	if (!reports_aggregate(st, cfg, "payments", &sales, sales_row, &c, "sales report", err))
		goto done;
	c.refunds = true;
	if (!reports_aggregate(st, cfg, "refunds", &refunds, sales_row, &c, "refunds of the sales report",
			       err))
		goto done;
	for (size_t i = 0; i < n; i++)
		if (!reports_figures_finish(&buckets[i], err))
			goto done;
	ok = reports_figures_sum(buckets, 0, n, totals, err);
done:
	bson_destroy(&sales);
	bson_destroy(&refunds);
	return ok;
}
