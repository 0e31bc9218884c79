/*
 * reports.h - sales and user analytics, and the dashboard.
 *
 * Reads only; every figure comes from an aggregation pipeline bounded by
 * EMPORIUM_REPORT_MAX_TIME_MS and served by the indexes of module.c.
 * Definitions (docs/api/reports.yaml says them to clients too):
 *
 *   a sale    a `payments` document with applied "order" (a validated card
 *             payment, or cash on delivery recorded as collected), at its
 *             created_at; a "late" payment (its order was given up) is
 *             refunded and is no sale;
 *   a refund  a `refunds` document of such a payment whose status is not
 *             failed or cancelled, at its own created_at: a refund in a
 *             later period lowers that period's net;
 *   net       the paid orders' totals minus the refunds;
 *   buckets   calendar days, ISO weeks (Monday) or months in the report's
 *             IANA time zone (edges from the tz database: DST-safe).
 *
 * Money is int64 minor units; a sum the database could not keep in an
 * int64 (it turns into a double) is an EM_ERR_INTERNAL, never a wrapped
 * or rounded figure.
 */
#ifndef EM_REPORTS_REPORTS_H
#define EM_REPORTS_REPORTS_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

#define REPORTS_TZ_MAX 64
/* Longest ranges: 366 days of day buckets, 5 years of weeks or months. */
#define REPORTS_DAY_RANGE_DAYS   366
#define REPORTS_LONG_RANGE_DAYS  1830
/* The most buckets a range can have (5 years of weeks, with both ends). */
/* The dashboard's day buckets: 30 days and the 30 before. */
#define REPORTS_DASHBOARD_DAYS   60
#define REPORTS_BUCKETS_MAX      (REPORTS_LONG_RANGE_DAYS / 7 + 3 > REPORTS_DAY_RANGE_DAYS + 2 ? \
				  REPORTS_LONG_RANGE_DAYS / 7 + 3 : REPORTS_DAY_RANGE_DAYS + 2)

struct reports_config {
	char shop_tz[REPORTS_TZ_MAX + 1]; /* EMPORIUM_SHOP_TZ */
	int max_time_ms;                  /* EMPORIUM_REPORT_MAX_TIME_MS */
};

extern const struct em_config_section reports_config_section;

static inline const struct reports_config *reports_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &reports_config_section);
}

/* ---- time zones and ranges (range.c) ---- */

enum reports_interval { REPORTS_DAY = 0, REPORTS_WEEK, REPORTS_MONTH };

const char *reports_interval_name(enum reports_interval iv);

struct reports_range {
	int64_t from_ms, to_ms;           /* [from, to) */
	char tz[REPORTS_TZ_MAX + 1];
	enum reports_interval interval;
};

/* A civil date in a zone. */
struct reports_date {
	int year, month, day; /* 1-based month and day */
};

/* True when tz names a zone of the tz database (or is "UTC"). */
bool reports_tz_valid(const char *tz);
/* The local date of the instant ms in tz. */
bool reports_tz_date(const char *tz, int64_t ms, struct reports_date *out);
/* The first instant of the local date d in tz (its midnight, or the end of
 * a DST gap that swallows midnight). d may be out of range (day 0, month
 * 13): it is normalised like mktime does. */
bool reports_tz_midnight(const char *tz, struct reports_date d, int64_t *ms);

/*
 * Reads a report's range from the query's strings (each may be NULL: the
 * default). tz defaults to default_tz; to to the next midnight after
 * now_ms in tz; from to the midnight 29 days before today (so 30 days,
 * today included); interval to day. Refuses (EM_ERR_INVALID naming the
 * parameter) a date that does not parse, an unknown zone, from >= to, or a
 * range over REPORTS_DAY_RANGE_DAYS days with day buckets or over
 * REPORTS_LONG_RANGE_DAYS otherwise.
 */
bool reports_range_parse(const char *from, const char *to, const char *tz,
			 const char *interval, const char *default_tz, int64_t now_ms,
			 struct reports_range *out, struct em_error *err);

/* [today - (days - 1), tomorrow) in tz: the dashboard's "last N days". */
bool reports_range_last_days(const char *tz, int64_t now_ms, int days,
			     struct reports_range *out, struct em_error *err);

/*
 * The bucket starts of r: the start of the bucket holding from, then each
 * next one while it is before to. edges must hold REPORTS_BUCKETS_MAX.
 */
bool reports_range_buckets(const struct reports_range *r, int64_t *edges, size_t *n,
			   struct em_error *err);

/* ---- figures ---- */

struct reports_figures {
	int64_t gross, discounts, shipping, tax, refunds, net, orders, units, aov;
	int64_t paid; /* the orders' totals (net + refunds) */
};

/* a += b, every field; false (EM_ERR_INTERNAL) on an int64 overflow.
 * net and aov are derived again afterwards. */
bool reports_figures_add(struct reports_figures *a, const struct reports_figures *b,
			 struct em_error *err);
/* net = paid - refunds, aov = paid / orders (0 without orders). */
bool reports_figures_finish(struct reports_figures *f, struct em_error *err);
/* (now - before) / before x 100 rounded to 0.1; false when before is 0. */
bool reports_change_pct(int64_t now, int64_t before, double *pct);

/* Reads an int64 sum field of a pipeline result; a double (the database's
 * sum overflowed) or another type fails with EM_ERR_INTERNAL. */
bool reports_bson_int64(const bson_t *doc, const char *key, int64_t *out, struct em_error *err);

/* The aggregate options: maxTimeMS from the configuration. */
void reports_agg_opts(const struct em_config *cfg, bson_t *opts);

/*
 * Runs pipeline on collection and calls fn for each result; a timeout
 * (maxTimeMS) is EM_ERR_UNAVAILABLE, other failures as store_error_set.
 */
typedef bool (*reports_row_fn)(const bson_t *row, void *ctx, struct em_error *err);
bool reports_aggregate(struct em_store *st, const struct em_config *cfg, const char *collection,
		       const bson_t *pipeline, reports_row_fn fn, void *ctx, const char *what,
		       struct em_error *err);
/* Appends key: {$dateTrunc: {date: "$<field>", unit, timezone[, startOfWeek]}}
 * for r's interval and zone: the bucket of a document. */
void reports_trunc_append(bson_t *parent, const char *key, const char *field,
			  const struct reports_range *r);
/* out = {$dateTrunc: ...} as above, for BCON_DOCUMENT (bson_destroy it). */
void reports_trunc_init(bson_t *out, const char *field, const struct reports_range *r);
/* The bucket of edges[0..n) that starts at ms, or -1. */
long reports_bucket_find(const int64_t *edges, size_t n, int64_t ms);

/* countDocuments(filter) under the same bound. */
bool reports_count(struct em_store *st, const struct em_config *cfg, const char *collection,
		   const bson_t *filter, int64_t *out, const char *what, struct em_error *err);

/* ---- sales (sales.c) ---- */

/*
 * The sales report's figures: per bucket of r (edges/n from
 * reports_range_buckets; buckets[i] for edges[i]) and the totals, the sum
 * of the buckets. The dashboard uses this function for its figures, so
 * they are the report's by construction.
 */
bool reports_sales_run(struct em_store *st, const struct em_config *cfg,
		       const struct reports_range *r, const int64_t *edges, size_t n,
		       struct reports_figures *buckets, struct reports_figures *totals,
		       struct em_error *err);

/*
 * The totals of buckets[from, to): what the report's totals are (all its
 * buckets) and what the dashboard's periods are (their days of its 60).
 */
bool reports_figures_sum(const struct reports_figures *buckets, size_t from, size_t to,
			 struct reports_figures *out, struct em_error *err);

/* ---- CSV (csv.c) ---- */

/*
 * An RFC 4180 document being written: cells joined by commas, rows ended
 * by CRLF; a cell holding a comma, a quote, CR or LF is quoted with its
 * quotes doubled. A cell that starts with = + - @, a tab or a CR gets a
 * leading ' first, so a spreadsheet shows it instead of running it as a
 * formula (OWASP's CSV injection advice); negative numbers included.
 */
struct reports_csv {
	bson_string_t *s;
	bool row_open;
};

void reports_csv_init(struct reports_csv *c);
void reports_csv_cell(struct reports_csv *c, const char *text);
void reports_csv_int(struct reports_csv *c, int64_t v);
/* A percentage with one decimal, or an empty cell. */
void reports_csv_pct(struct reports_csv *c, bool have, double pct);
void reports_csv_row_end(struct reports_csv *c);
/* The text so far (owned by c) and its length. */
const char *reports_csv_text(const struct reports_csv *c, size_t *len);
void reports_csv_release(struct reports_csv *c);

#endif
