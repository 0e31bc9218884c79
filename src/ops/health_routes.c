#include "app/app.h"
#include "ops/ops.h"

/* Liveness: the worker is up and serving; touches nothing else. */
static bool ops_health_get(struct em_request *req, struct em_error *err)
{
	json_object *o = json_object_new_object();

	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		return false;
	}
	json_object_object_add(o, "status", json_object_new_string("ok"));
	em_response_json(req, 200, o);
	return true;
}

/*
 * Readiness: MongoDB answers a ping within EMPORIUM_DB_TIMEOUT_MS. A load
 * balancer takes the host out of rotation on the 503 this gives otherwise.
 */
static bool ops_health_ready(struct em_request *req, struct em_error *err)
{
	json_object *o;

	if (!store_ping(&req->app->store, err))
		return false;
	o = json_object_new_object();
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		return false;
	}
	json_object_object_add(o, "status", json_object_new_string("ready"));
	json_object_object_add(o, "mongodb", json_object_new_string("ok"));
	em_response_json(req, 200, o);
	return true;
}

static const struct em_route ops_health_table[] = {
	{ "GET", "/api/v1/health", ops_health_get, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/health/ready", ops_health_ready, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
};

const struct em_route_table ops_health_routes = EM_ROUTE_TABLE("health", ops_health_table);
