#include "http/router.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

/* Matches one pattern against the segments, capturing {name}s. */
static bool pattern_match(const char *pattern, char *const *segments,
			  size_t nsegments, struct em_kv *params, size_t *nparams)
{
	const char *p = pattern;
	size_t i = 0, np = 0;

	if (*p == '/')
		p++;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (i >= nsegments)
			return false;
		if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
			if (np >= EM_ROUTE_MAX_PARAMS)
				return false;
			/* The key points into the pattern: cast away const
			 * only to share struct em_kv; it is never written. */
			params[np].key = (char *)(p + 1);
			params[np].value = segments[i];
			np++;
		} else if (strlen(segments[i]) != len || memcmp(segments[i], p, len) != 0) {
			return false;
		}
		i++;
		p += len;
		if (*p == '/')
			p++;
	}
	if (i != nsegments)
		return false;
	*nparams = np;
	return true;
}

bool em_router_match(const struct em_route_table *const *tables, const char *method,
		     char *const *segments, size_t nsegments,
		     const struct em_route **route, struct em_kv *params,
		     size_t *nparams, char *allow, size_t allow_size,
		     struct em_error *err)
{
	bool path_known = false;
	size_t allow_len = 0;

	*route = NULL;
	*nparams = 0;
	if (allow_size)
		allow[0] = '\0';
	for (size_t t = 0; tables[t]; t++) {
		for (size_t r = 0; r < tables[t]->count; r++) {
			const struct em_route *rt = &tables[t]->routes[r];
			struct em_kv cap[EM_ROUTE_MAX_PARAMS];
			size_t ncap = 0;

			if (!pattern_match(rt->pattern, segments, nsegments, cap, &ncap))
				continue;
			path_known = true;
			if (strcmp(rt->method, method) == 0 ||
			    (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
				*route = rt;
				memcpy(params, cap, ncap * sizeof(*cap));
				*nparams = ncap;
				return true;
			}
			if (allow_size && !strstr(allow, rt->method)) {
				int n = snprintf(allow + allow_len, allow_size - allow_len,
						 "%s%s", allow_len ? ", " : "", rt->method);
				if (n > 0 && (size_t)n < allow_size - allow_len)
					allow_len += (size_t)n;
			}
		}
	}
	if (path_known) {
		em_error_set(err, EM_ERR_METHOD, NULL, "%s is not allowed here; use %s",
			     method, allow);
		return false;
	}
	em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such resource");
	return false;
}

/* Strips the "{...}" braces for the keys of captured params. */
static void params_fix_keys(struct em_request *req)
{
	for (size_t i = 0; i < req->nparams; i++) {
		const char *k = req->params[i].key;
		const char *close = strchr(k, '}');
		size_t len = close ? (size_t)(close - k) : strlen(k);
		char *copy = em_request_alloc(req, len + 1);

		memcpy(copy, k, len);
		req->params[i].key = copy;
	}
}

void em_router_dispatch(const struct em_route_table *const *tables,
			em_authenticate_fn authenticate, size_t max_body,
			struct em_request *req)
{
	struct em_error err = EM_ERROR_INIT;
	char allow[128];
	const struct em_route *route = NULL;

	if (req->parse_error.kind != EM_ERR_NONE) {
		err = req->parse_error;
		goto fail;
	}
	if (!em_router_match(tables, req->method, req->segments, req->nsegments,
			     &route, req->params, &req->nparams, allow, sizeof(allow),
			     &err)) {
		if (err.kind == EM_ERR_METHOD)
			em_response_header(req, "Allow", allow);
		goto fail;
	}
	req->route = route;
	params_fix_keys(req);
	em_log_set_request(req->request_id, route->pattern);
	req->role = EM_ROLE_PUBLIC;
	if (route->role != EM_ROLE_PUBLIC) {
		enum em_role role = EM_ROLE_PUBLIC;

		if (!authenticate) {
			em_error_set(&err, EM_ERR_UNAUTHENTICATED, NULL,
				     "this resource needs a signed-in account");
			goto fail;
		}
		if (!authenticate(req, &role, &err))
			goto fail;
		req->role = (int)role;
		if (role < route->role) {
			em_error_set(&err, EM_ERR_FORBIDDEN, NULL,
				     "your account may not do this");
			goto fail;
		}
	}
	if (route->body == EM_BODY_JSON &&
	    !em_request_parse_json(req, route->body_types, max_body, &err))
		goto fail;
	if (!route->handler(req, &err))
		goto fail;
	goto done;
fail:
	em_response_error(req, &err);
done:
	if (req->request_id[0])
		em_response_header(req, "X-Request-Id", req->request_id);
	if (!req->resp.has_cache_control)
		em_response_header(req, "Cache-Control", "no-store");
}
