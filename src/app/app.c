/*
 * app.c - a worker process's em_app: what the modules give the router,
 * their per-process init, and the worker's own MongoDB store.
 */
#include "app/app.h"

#include <string.h>

#include "app/modules.h"

bool em_app_open(struct em_app *app, const struct em_config *cfg, const char *client_name,
		 struct em_error *err)
{
	memset(app, 0, sizeof(*app));
	app->cfg = *cfg;
	if (!em_modules_route_tables(app->routes, EM_APP_ROUTE_TABLES_MAX)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL,
			     "more route tables than EM_APP_ROUTE_TABLES_MAX");
		return false;
	}
	/* every route numbered once, in table order: index 0 is "no route" */
	for (size_t t = 0; app->routes[t]; t++)
		for (size_t r = 0; r < app->routes[t]->count; r++)
			if (app->nmetric_routes + 1 < EM_METRICS_ROUTES)
				app->metric_routes[app->nmetric_routes++] = &app->routes[t]->routes[r];
	app->authenticate = em_modules_authenticator();
	app->upload_max_body = em_modules_upload_max_body(&app->cfg);
	if (!em_modules_process_init(&app->cfg, err))
		return false;
	if (!store_open(&app->store, &app->cfg, client_name, err)) {
		em_modules_process_release();
		return false;
	}
	app->open = true;
	return true;
}

void em_app_close(struct em_app *app)
{
	if (!app->open)
		return;
	store_close(&app->store);
	em_modules_process_release();
	app->open = false;
}

size_t em_app_route_index(const struct em_app *app, const struct em_route *route)
{
	for (size_t i = 0; route && i < app->nmetric_routes; i++)
		if (app->metric_routes[i] == route)
			return i + 1;
	return 0;
}
