/*
 * app.h - what a worker process holds while it serves requests.
 *
 * One em_app per process, made after fork(): the configuration the master
 * handed down, the worker's own MongoDB store, and what the modules'
 * descriptors give the router. Handlers reach it through req->app.
 */
#ifndef EM_APP_APP_H
#define EM_APP_APP_H

#include "core/config.h"
#include "http/metrics.h"
#include "http/router.h"
#include "store/store.h"

#define EM_APP_ROUTE_TABLES_MAX 64

struct em_app {
	struct em_config cfg;
	struct em_store store;
	/* Read from the module list (src/app/modules.c) when the worker starts. */
	const struct em_route_table *routes[EM_APP_ROUTE_TABLES_MAX]; /* NULL-terminated */
	em_authenticate_fn authenticate;  /* for non-public routes; NULL: all 401 */
	int64_t upload_max_body;          /* the largest EM_BODY_UPLOAD body, 0: none */
	bool open;                        /* em_app_open() succeeded */
	/* The pool's shared counters (NULL: none) and this worker's slot;
	 * routes[] flattened: a route's metrics index is its position + 1. */
	struct em_metrics *metrics;
	struct em_metrics_slot *metrics_slot;
	const struct em_route *metric_routes[EM_METRICS_ROUTES];
	size_t nmetric_routes;
};

/* The metrics index of a route (0: none, or not numbered). */
size_t em_app_route_index(const struct em_app *app, const struct em_route *route);

/*
 * Fills app for a worker process, after fork(): a copy of cfg, the route
 * tables and authenticator from the module list, every module's
 * process_init, and the process's own MongoDB client (named client_name
 * in the server's logs). em_app_close() undoes it all.
 */
bool em_app_open(struct em_app *app, const struct em_config *cfg, const char *client_name,
		 struct em_error *err);
void em_app_close(struct em_app *app);

#endif
