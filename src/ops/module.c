/*
 * module.c - the ops module: health checks for load balancers, the CSP
 * violation report endpoint, GET /metrics and `emporium-admin status`.
 */
#include "app/module.h"
#include "ops/ops.h"

static const struct em_route_table *const ops_route_tables[] = {
	&ops_health_routes,
	&ops_csp_routes,
	&ops_metrics_routes,
	NULL,
};

static const struct store_index ops_indexes[] = {
	/* CSP violation counters are kept 30 days, then expire. */
	{ "csp_reports", "received_at_ttl", "{\"received_at\": 1}",
	  "{\"expireAfterSeconds\": 2592000}" },
	/* one counter per day, directive and blocked origin (csp_routes.c) */
	{ "csp_reports", "day_directive_blocked_unique",
	  "{\"day\": 1, \"directive\": 1, \"blocked\": 1}", "{\"unique\": true}" },
};

const struct em_module ops_module = {
	.name = "ops",
	.routes = ops_route_tables,
	.indexes = ops_indexes,
	.nindexes = EM_COUNT(ops_indexes),
	.admin_cmds = ops_admin_cmds,
};
