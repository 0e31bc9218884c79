/*
 * reports_routes.c - the reports' route table and what every report
 * handler shares: reading the query string, the CSV answer, JSON helpers.
 *
 *   GET /api/v1/admin/reports/{sales,products,categories,coupons,refunds,customers} (admin)
 *   GET /api/v1/admin/reports/{orders,stock} (staff: counts, no money)
 *   GET /api/v1/admin/dashboard (staff; admin sees the sales figures)
 */
#include "reports/reports_internal.h"
#include "core/ids.h"

#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "http/page.h"

#define REP_LIMIT_DEFAULT 10

bool rep_params_read(struct em_request *req, unsigned takes, struct rep_params *p,
		     struct em_error *err)
{
	const char *allowed[10];
	size_t n = 0;
	const char *format, *accept, *sort;
	const char *cursor = NULL;

	memset(p, 0, sizeof(*p));
	allowed[n++] = "format";
	if (takes & REP_RANGE) {
		allowed[n++] = "from";
		allowed[n++] = "to";
		allowed[n++] = "tz";
	}
	if (takes & REP_INTERVAL)
		allowed[n++] = "interval";
	if (takes & REP_LIMIT)
		allowed[n++] = "limit";
	if (takes & REP_SORT)
		allowed[n++] = "sort";
	if (takes & REP_CATEGORY)
		allowed[n++] = "category";
	allowed[n] = NULL;
	if (!em_request_query_check(req, allowed, 64, err))
		return false;
	format = em_request_query(req, "format");
	if (format) {
		if (strcmp(format, "csv") == 0) {
			p->csv = true;
		} else if (strcmp(format, "json") != 0) {
			em_error_set(err, EM_ERR_INVALID, "format", "must be json or csv");
			return false;
		}
	} else {
		accept = em_request_header(req, "Accept");
		p->csv = accept && strstr(accept, "text/csv") != NULL;
	}
	if (takes & REP_RANGE) {
		const struct reports_config *rc = reports_config(rep_cfg(req));

		if (!reports_range_parse(em_request_query(req, "from"), em_request_query(req, "to"),
					 em_request_query(req, "tz"),
					 (takes & REP_INTERVAL) ? em_request_query(req, "interval") : NULL,
					 rc->shop_tz, em_now_ms(), &p->range, err))
			return false;
	}
	if ((takes & REP_LIMIT) && !em_page_params(req, REP_LIMIT_DEFAULT, &p->limit, &cursor, err))
		return false;
	if (takes & REP_CATEGORY) {
		const char *cat = em_request_query(req, "category");

		if (cat && !em_oid_parse(cat, &p->category)) {
			em_error_setc(err, EM_ERR_INVALID, "category", EM_CODE_INVALID_FORMAT,
				      "category must be a category id");
			return false;
		}
		p->has_category = cat != NULL;
	}
	if (takes & REP_SORT) {
		sort = em_request_query(req, "sort");
		if (sort && strcmp(sort, "units") == 0) {
			p->sort_units = true;
		} else if (sort && strcmp(sort, "revenue") != 0) {
			em_error_set(err, EM_ERR_INVALID, "sort", "must be revenue or units");
			return false;
		}
	}
	return true;
}

void rep_json_time(json_object *o, const char *key, int64_t ms)
{
	char buf[EM_TIME_RFC3339_SIZE];

	em_time_rfc3339(ms, buf, sizeof(buf));
	json_object_object_add(o, key, json_object_new_string(buf));
}

void rep_local_date(const char *tz, int64_t ms, char out[16])
{
	struct reports_date d;

	if (!reports_tz_date(tz, ms, &d)) {
		snprintf(out, 16, "%s", "");
		return;
	}
	snprintf(out, 16, "%04d-%02d-%02d", d.year % 10000, d.month % 100, d.day % 100);
}

json_object *rep_json_pct(int64_t now, int64_t before)
{
	double pct;
	char buf[32];

	if (!reports_change_pct(now, before, &pct))
		return NULL;
	snprintf(buf, sizeof(buf), "%.1f", pct);
	return json_object_new_double_s(pct, buf);
}

json_object *rep_json_oid(const bson_t *row, const char *key)
{
	bson_iter_t it;
	char hex[25];

	if (!bson_iter_init_find(&it, row, key) || !BSON_ITER_HOLDS_OID(&it))
		return NULL;
	bson_oid_to_string(bson_iter_oid(&it), hex);
	return json_object_new_string(hex);
}

json_object *rep_json_str(const bson_t *row, const char *key)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, row, key) || !BSON_ITER_HOLDS_UTF8(&it))
		return NULL;
	return json_object_new_string(bson_iter_utf8(&it, NULL));
}

void rep_json_range(json_object *o, const struct reports_range *r)
{
	rep_json_time(o, "from", r->from_ms);
	rep_json_time(o, "to", r->to_ms);
	json_object_object_add(o, "tz", json_object_new_string(r->tz));
}

bool rep_each(const bson_t *row, const char *key, reports_row_fn fn, void *ctx,
	      struct em_error *err)
{
	bson_iter_t it, arr;

	if (!bson_iter_init_find(&it, row, key) || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &arr))
		return true;
	while (bson_iter_next(&arr)) {
		const uint8_t *data;
		uint32_t len;
		bson_t doc;

		if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
			continue;
		bson_iter_document(&arr, &len, &data);
		if (!bson_init_static(&doc, data, len) || !fn(&doc, ctx, err))
			return false;
	}
	return true;
}

const char *rep_str(const bson_t *row, const char *key, const char *def)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, row, key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return def;
}

void rep_csv_respond(struct em_request *req, const char *report, const struct reports_range *r,
		     struct reports_csv *csv)
{
	char from[16] = "", to[16] = "", disp[128];
	const char *text;
	size_t len;

	if (r && r->tz[0]) {
		rep_local_date(r->tz, r->from_ms, from);
		/* `to` is exclusive: name the last day the file covers */
		rep_local_date(r->tz, r->to_ms - 1, to);
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%s-%s.csv\"", report, from, to);
	} else {
		rep_local_date("UTC", em_now_ms(), from);
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%s.csv\"", report, from);
	}
	text = reports_csv_text(csv, &len);
	em_response_text(req, 200, "text/csv; charset=utf-8", text, len);
	em_response_header(req, "Content-Disposition", disp);
}

static const struct em_route reports_table[] = {
	{ "GET", "/api/v1/admin/reports/sales", rep_sales, EM_ROLE_ADMIN, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/reports/products", rep_products, EM_ROLE_ADMIN, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/reports/categories", rep_categories, EM_ROLE_ADMIN, EM_BODY_NONE,
	  NULL },
	{ "GET", "/api/v1/admin/reports/coupons", rep_coupons, EM_ROLE_ADMIN, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/reports/orders", rep_orders, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/reports/refunds", rep_refunds, EM_ROLE_ADMIN, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/reports/customers", rep_customers, EM_ROLE_ADMIN, EM_BODY_NONE,
	  NULL },
	{ "GET", "/api/v1/admin/reports/stock", rep_stock, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/dashboard", rep_dashboard, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
};

const struct em_route_table reports_routes = EM_ROUTE_TABLE("reports", reports_table);
