/*
 * jobs_routes.h - the jobs module's HTTP routes, for its descriptor
 * (src/jobs/module.c). Role admin:
 *   GET  /api/v1/admin/jobs?status=&limit=&cursor=
 *   POST /api/v1/admin/jobs/{id}/retry
 */
#ifndef EM_JOBS_JOBS_ROUTES_H
#define EM_JOBS_JOBS_ROUTES_H

#include "http/router.h"

extern const struct em_route_table jobs_admin_routes;

#endif
