/*
 * ops.h - operational endpoints: health checks and CSP violation reports.
 */
#ifndef EM_OPS_OPS_H
#define EM_OPS_OPS_H

#include "app/module.h"
#include "http/router.h"

/* GET /api/v1/health, GET /api/v1/health/ready */
extern const struct em_route_table ops_health_routes;
/* POST /api/v1/csp-reports */
extern const struct em_route_table ops_csp_routes;
/* GET /metrics (Prometheus; nginx lets only NGX_METRICS_ALLOW reach it) */
extern const struct em_route_table ops_metrics_routes;
/* emporium-admin status (status_cmd.c) */
extern const struct em_admin_cmd ops_admin_cmds[];

#endif
