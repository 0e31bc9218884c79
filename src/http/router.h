/*
 * router.h - route tables and dispatch.
 *
 * Each module declares its routes as data, a table of {method, pattern,
 * handler, role, body}; each module's descriptor lists its tables. A pattern is a
 * path whose segments are literals or {name} placeholders:
 * "/api/v1/products/{id}/images". The router finds the route, answers 404
 * (no pattern matches the path) or 405 with Allow (the path matches, the
 * method does not), checks the caller's role, reads and validates a JSON
 * body when the route asks for one, and only then calls the handler.
 */
#ifndef EM_HTTP_ROUTER_H
#define EM_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/role.h"
#include "http/request.h"

enum em_body {
	EM_BODY_NONE = 0,    /* a body, if any, is ignored */
	EM_BODY_JSON,        /* application/json, parsed into req->json */
	/* A raw upload (multipart/form-data) the handler parses itself. The
	 * worker reads it up to max(EMPORIUM_MAX_BODY, EMPORIUM_MEDIA_MAX_BYTES
	 * + EM_UPLOAD_OVERHEAD) instead of EMPORIUM_MAX_BODY: the route is
	 * matched before the body is read, so only these routes get more. */
	EM_BODY_UPLOAD,
};

/* Room for multipart framing and small text parts around an upload. */
#define EM_UPLOAD_OVERHEAD (64 * 1024)

/*
 * A handler writes the response through em_response_*() and returns true,
 * or returns false with err filled, and the router answers with the
 * problem+json for err.
 */
typedef bool (*em_handler_fn)(struct em_request *req, struct em_error *err);

struct em_route {
	const char *method;
	const char *pattern;
	em_handler_fn handler;
	enum em_role role;
	enum em_body body;
	const char *const *body_types; /* extra accepted media types, or NULL */
};

struct em_route_table {
	const char *module;
	const struct em_route *routes;
	size_t count;
};

#define EM_ROUTE_TABLE(mod, arr) \
	{ (mod), (arr), sizeof(arr) / sizeof((arr)[0]) }

/*
 * Finds the route for method and the decoded path segments among tables
 * (NULL-terminated). On success *route is set and params[] holds the
 * {name} captures (pointing into segments). On failure err is
 * EM_ERR_NOT_FOUND, or EM_ERR_METHOD with allow set to the comma-separated
 * allowed methods.
 */
bool em_router_match(const struct em_route_table *const *tables, const char *method,
		     char *const *segments, size_t nsegments,
		     const struct em_route **route, struct em_kv *params,
		     size_t *nparams, char *allow, size_t allow_size,
		     struct em_error *err);

/*
 * Authenticates a request for a route that needs a role: fills *role or
 * fails with EM_ERR_UNAUTHENTICATED. Set by the auth module; while none
 * is set, every non-public route answers 401.
 */
typedef bool (*em_authenticate_fn)(struct em_request *req, enum em_role *role,
				   struct em_error *err);

/*
 * Serves req: match, role check, body, handler, standard headers
 * (X-Request-Id, Cache-Control: no-store unless the handler set one).
 * Always leaves a complete response in req->resp.
 */
void em_router_dispatch(const struct em_route_table *const *tables,
			em_authenticate_fn authenticate, size_t max_body,
			struct em_request *req);

#endif
