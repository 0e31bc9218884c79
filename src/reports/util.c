/*
 * util.c - what every report shares: int64 figures with overflow checks,
 * reading the pipelines' sums, and running a pipeline under maxTimeMS.
 */
#include "reports/reports.h"

#include <stdio.h>
#include <string.h>

#include "core/bsonjson.h"
#include "core/log.h"

/* MongoDB's MaxTimeMSExpired */
#define REPORTS_MAX_TIME_EXPIRED 50

bool reports_figures_add(struct reports_figures *a, const struct reports_figures *b,
			 struct em_error *err)
{
	int64_t *const dst[] = { &a->gross, &a->discounts, &a->shipping, &a->tax, &a->refunds,
				 &a->orders, &a->units, &a->paid };
	const int64_t src[] = { b->gross, b->discounts, b->shipping, b->tax, b->refunds,
				b->orders, b->units, b->paid };

	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		if (__builtin_add_overflow(*dst[i], src[i], dst[i])) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "a report figure overflows int64");
			return false;
		}
	return reports_figures_finish(a, err);
}

bool reports_figures_finish(struct reports_figures *f, struct em_error *err)
{
	if (__builtin_sub_overflow(f->paid, f->refunds, &f->net)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "a report figure overflows int64");
		return false;
	}
	f->aov = f->orders > 0 ? f->paid / f->orders : 0;
	return true;
}

bool reports_change_pct(int64_t now, int64_t before, double *pct)
{
	double v, tenths;

	if (before == 0)
		return false;
	/* in double: the figures are far below 2^53 in any shop, and a
	 * percentage is shown, never added up */
	v = ((double)now - (double)before) / (before < 0 ? -(double)before : (double)before) * 100.0;
	tenths = v * 10.0;
	/* half away from zero, without libm */
	tenths = tenths >= 0 ? (double)(int64_t)(tenths + 0.5) : (double)(int64_t)(tenths - 0.5);
	*pct = tenths / 10.0;
	return true;
}

bool reports_bson_int64(const bson_t *doc, const char *key, int64_t *out, struct em_error *err)
{
	bson_iter_t it;

	*out = 0;
	if (!bson_iter_init_find(&it, doc, key) || BSON_ITER_HOLDS_NULL(&it))
		return true; /* no such documents: 0 */
	if (BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_INT32(&it)) {
		*out = bson_iter_as_int64(&it);
		return true;
	}
	/* $sum turns an int64 overflow into a double: a figure we cannot give */
	em_error_set(err, EM_ERR_INTERNAL, NULL, "report sum %s is not an int64 (overflow?)", key);
	return false;
}

void reports_agg_opts(const struct em_config *cfg, bson_t *opts)
{
	bson_init(opts);
	BSON_APPEND_INT64(opts, "maxTimeMS", reports_config(cfg)->max_time_ms);
}

static void reports_store_error(struct em_error *err, const bson_error_t *berr, const char *what)
{
	if (berr->code == REPORTS_MAX_TIME_EXPIRED) {
		em_warn("report %s ran out of EMPORIUM_REPORT_MAX_TIME_MS: %s", what, berr->message);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
			     "the report took too long; try a shorter range");
		return;
	}
	store_error_set(err, berr, what);
}

bool reports_aggregate(struct em_store *st, const struct em_config *cfg, const char *collection,
		       const bson_t *pipeline, reports_row_fn fn, void *ctx, const char *what,
		       struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	mongoc_cursor_t *cur = NULL;
	const bson_t *row;
	bson_error_t berr;
	bson_t opts;
	bool ok = false;

	reports_agg_opts(cfg, &opts);
	cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipeline, &opts, NULL);
	while (mongoc_cursor_next(cur, &row))
		if (!fn(row, ctx, err))
			goto done;
	if (mongoc_cursor_error(cur, &berr)) {
		reports_store_error(err, &berr, what);
		goto done;
	}
	ok = true;
done:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&opts);
	return ok;
}

bool reports_count(struct em_store *st, const struct em_config *cfg, const char *collection,
		   const bson_t *filter, int64_t *out, const char *what, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_error_t berr;
	bson_t opts;
	int64_t n;

	reports_agg_opts(cfg, &opts);
	n = mongoc_collection_count_documents(coll, filter, &opts, NULL, NULL, &berr);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	if (n < 0) {
		reports_store_error(err, &berr, what);
		return false;
	}
	*out = n;
	return true;
}

void reports_trunc_append(bson_t *parent, const char *key, const char *field,
			  const struct reports_range *r)
{
	bson_t wrap, trunc;
	char path[64];

	snprintf(path, sizeof(path), "$%s", field);
	BSON_APPEND_DOCUMENT_BEGIN(parent, key, &wrap);
	BSON_APPEND_DOCUMENT_BEGIN(&wrap, "$dateTrunc", &trunc);
	BSON_APPEND_UTF8(&trunc, "date", path);
	BSON_APPEND_UTF8(&trunc, "unit", reports_interval_name(r->interval));
	BSON_APPEND_UTF8(&trunc, "timezone", r->tz);
	if (r->interval == REPORTS_WEEK)
		BSON_APPEND_UTF8(&trunc, "startOfWeek", "monday");
	bson_append_document_end(&wrap, &trunc);
	bson_append_document_end(parent, &wrap);
}

long reports_bucket_find(const int64_t *edges, size_t n, int64_t ms)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (edges[mid] == ms)
			return (long)mid;
		if (edges[mid] < ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void reports_trunc_init(bson_t *out, const char *field, const struct reports_range *r)
{
	bson_t trunc;
	char path[64];

	snprintf(path, sizeof(path), "$%s", field);
	bson_init(out);
	BSON_APPEND_DOCUMENT_BEGIN(out, "$dateTrunc", &trunc);
	BSON_APPEND_UTF8(&trunc, "date", path);
	BSON_APPEND_UTF8(&trunc, "unit", reports_interval_name(r->interval));
	BSON_APPEND_UTF8(&trunc, "timezone", r->tz);
	if (r->interval == REPORTS_WEEK)
		BSON_APPEND_UTF8(&trunc, "startOfWeek", "monday");
	bson_append_document_end(out, &trunc);
}
