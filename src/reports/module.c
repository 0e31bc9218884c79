/*
 * module.c - the reports module: sales and user analytics and the
 * dashboard (reads only), their configuration and the indexes their
 * pipelines are served by.
 */
#include "app/module.h"
#include "reports/reports.h"
#include "reports/reports_internal.h"

static const struct em_config_entry reports_config_entries[] = {
	{ { "EMPORIUM_SHOP_TZ", "UTC",
	    "the shop's IANA time zone (e.g. Asia/Dhaka): where a report's day starts\n"
	    "unless it asks for another tz, and the dashboard's today" },
	  EM_CFG_STR, 1, 0, EM_CFG_FIELD_STR(struct reports_config, shop_tz) },
	{ { "EMPORIUM_REPORT_MAX_TIME_MS", "10000",
	    "milliseconds one report pipeline may run in the database (maxTimeMS);\n"
	    "a longer one answers 503. Keep it below EMPORIUM_REQUEST_TIMEOUT" },
	  EM_CFG_INT, 100, 600000, EM_CFG_FIELD_NUM(struct reports_config, max_time_ms) },
};

static bool reports_config_check(const void *values, struct em_error *err)
{
	const struct reports_config *rc = values;

	if (!reports_tz_valid(rc->shop_tz)) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_SHOP_TZ",
			     "is not a time zone of the tz database (/usr/share/zoneinfo)");
		return false;
	}
	return true;
}

const struct em_config_section reports_config_section = {
	.name = "reports",
	.title = "reports and the dashboard",
	.entries = reports_config_entries,
	.count = EM_COUNT(reports_config_entries),
	.size = sizeof(struct reports_config),
	.check = reports_config_check,
};

static const struct em_route_table *const reports_route_tables[] = {
	&reports_routes,
	NULL,
};

/* What the pipelines' first stages select by (reports only read). */
static const struct store_index reports_indexes[] = {
	/* sales: payments applied to orders, by time */
	{ "payments", "reports_applied_created", "{\"applied\": 1, \"created_at\": 1}", "{}" },
	/* refunds by time (sales report, refunds report) */
	{ "refunds", "reports_created_status", "{\"created_at\": 1, \"status\": 1}", "{}" },
	/* returns asked for in a range; those waiting (dashboard) */
	{ "order_returns", "reports_created", "{\"created_at\": 1}", "{}" },
	{ "order_returns", "reports_status", "{\"status\": 1}", "{}" },
	/* the dashboard's last events (each order's newest event first) */
	{ "orders", "reports_events_at", "{\"events.at\": -1}", "{}" },
	/* sign-ups per bucket */
	{ "users", "reports_created", "{\"created_at\": 1}", "{}" },
	/* out-of-stock variants (low ones use catalog's low_stock index) */
	{ "products", "reports_variant_stock_deleted", "{\"variants.stock\": 1, \"deleted_at\": 1}", "{}" },
};

const struct em_module reports_module = {
	.name = "reports",
	.routes = reports_route_tables,
	.indexes = reports_indexes,
	.nindexes = EM_COUNT(reports_indexes),
	.config = &reports_config_section,
};
