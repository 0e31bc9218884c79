/*
 * reports_internal.h - what the report handlers share (not for other
 * modules): the request's parameters read once, and the rendering helpers.
 */
#ifndef EM_REPORTS_INTERNAL_H
#define EM_REPORTS_INTERNAL_H

#include <json-c/json.h>

#include "app/app.h"
#include "app/module.h"
#include "http/request.h"
#include "http/router.h"
#include "reports/reports.h"

/* What a report handler read from its query string. */
struct rep_params {
	struct reports_range range;
	int limit;
	bool csv;          /* ?format=csv or Accept: text/csv */
	bool sort_units;   /* ?sort=units (else revenue) */
	bool has_category; /* ?category=<id> */
	bson_oid_t category;
};

/* Which parameters a report takes (a bit each). */
enum {
	REP_RANGE = 1,     /* from, to, tz */
	REP_INTERVAL = 2,
	REP_LIMIT = 4,
	REP_SORT = 8,
	REP_CATEGORY = 16, /* category: one category's products */
};

/*
 * Checks the query string against what the report takes (unknown or
 * repeated parameters are a 400) and reads it into p. format is always
 * accepted.
 */
bool rep_params_read(struct em_request *req, unsigned takes, struct rep_params *p,
		     struct em_error *err);

static inline struct em_store *rep_st(struct em_request *req)
{
	return &req->app->store;
}

static inline const struct em_config *rep_cfg(struct em_request *req)
{
	return &req->app->cfg;
}

/* key: the instant as RFC 3339 (UTC). */
void rep_json_time(json_object *o, const char *key, int64_t ms);
/* "YYYY-MM-DD" of ms in tz. */
void rep_local_date(const char *tz, int64_t ms, char out[16]);
/* A percentage (one decimal) or null. */
json_object *rep_json_pct(int64_t now, int64_t before);
/* An ObjectId / string member of a result row as JSON (null if absent). */
json_object *rep_json_oid(const bson_t *row, const char *key);
json_object *rep_json_str(const bson_t *row, const char *key);
/* from, to, tz of the range into o. */
void rep_json_range(json_object *o, const struct reports_range *r);

/* Calls fn for each document of the array row[key] (a $facet's output). */
bool rep_each(const bson_t *row, const char *key, reports_row_fn fn, void *ctx,
	      struct em_error *err);
/* The string value of row[key], or def. */
const char *rep_str(const bson_t *row, const char *key, const char *def);

/* Answers the CSV: text/csv and the attachment's name <report>-<from>-<to>.csv. */
void rep_csv_respond(struct em_request *req, const char *report, const struct reports_range *r,
		     struct reports_csv *csv);

/* Reports (their files) */
bool rep_sales(struct em_request *req, struct em_error *err);
bool rep_dashboard(struct em_request *req, struct em_error *err);
bool rep_products(struct em_request *req, struct em_error *err);
bool rep_categories(struct em_request *req, struct em_error *err);
bool rep_coupons(struct em_request *req, struct em_error *err);
bool rep_orders(struct em_request *req, struct em_error *err);
bool rep_refunds(struct em_request *req, struct em_error *err);
bool rep_customers(struct em_request *req, struct em_error *err);
bool rep_stock(struct em_request *req, struct em_error *err);

/* Stock counts (stock.c), shared with the dashboard. */
bool rep_stock_counts(struct em_store *st, const struct em_config *cfg, int64_t *out,
		      int64_t *low, struct em_error *err);

extern const struct em_route_table reports_routes;

#endif
