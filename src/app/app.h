/*
 * app.h - what a worker process holds while it serves requests.
 *
 * One em_app per process, made after fork(): the configuration the master
 * handed down and the worker's own MongoDB store. Handlers reach it through
 * req->app.
 */
#ifndef EM_APP_APP_H
#define EM_APP_APP_H

#include "core/config.h"
#include "http/router.h"
#include "store/store.h"

struct em_app {
	struct em_config cfg;
	struct em_store store;
};

/* Every module's route table, NULL-terminated (routes.c). */
extern const struct em_route_table *const em_app_routes[];

/* The authenticator the router uses for non-public routes (NULL for now). */
extern const em_authenticate_fn em_app_authenticate;

#endif
