/* Unit tests for src/http/router.c: matching, 404/405, roles, JSON bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/page.h"
#include "http/router.h"

static int handled;

static bool h_ok(struct em_request *req, struct em_error *err)
{
	(void)err;
	handled++;
	em_response_json(req, 200, json_object_new_string(
		em_request_path_param(req, "id") ? em_request_path_param(req, "id") : "-"));
	return true;
}

static bool h_fail(struct em_request *req, struct em_error *err)
{
	(void)req;
	em_error_set(err, EM_ERR_CONFLICT, "sku", "sku exists");
	return false;
}

static const struct em_route t_routes[] = {
	{ "GET", "/api/v1/things", h_ok, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/things", h_ok, EM_ROLE_PUBLIC, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/things/{id}", h_ok, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "DELETE", "/api/v1/things/{id}", h_ok, EM_ROLE_STAFF, EM_BODY_NONE, NULL },
	{ "PUT", "/api/v1/things/{id}", h_fail, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/things/{id}/parts/{part}", h_ok, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
};
static const struct em_route_table t_table = EM_ROUTE_TABLE("things", t_routes);
static const struct em_route_table *const t_tables[] = { &t_table, NULL };

/* Builds a request from a method, URI and optional content type/body. */
static void req_make(struct em_request *req, char **env, const char *method,
		     const char *uri, const char *ctype, const char *body)
{
	static char m[64], u[512], c[128];
	size_t i = 0;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
	env[i++] = m;
	env[i++] = u;
	if (ctype) {
		snprintf(c, sizeof(c), "CONTENT_TYPE=%s", ctype);
		env[i++] = c;
	}
	env[i] = NULL;
	em_request_init(req, env, NULL);
	if (body)
		em_request_set_body(req, strdup(body), strlen(body));
}

static bool staff_auth(struct em_request *req, enum em_role *role, struct em_error *err)
{
	const char *a = em_request_header(req, "Authorization");

	(void)err;
	*role = a ? EM_ROLE_STAFF : EM_ROLE_CUSTOMER;
	return true;
}

static void dispatch(const char *method, const char *uri, const char *ctype,
		     const char *body, em_authenticate_fn auth, int want_status,
		     const char *want_in_body)
{
	struct em_request req;
	char *env[8];

	req_make(&req, env, method, uri, ctype, body);
	em_router_dispatch(t_tables, auth, 1024, &req);
	assert_int_equal(req.resp.status, want_status);
	if (want_in_body) {
		assert_non_null(req.resp.body);
		assert_non_null(strstr(req.resp.body, want_in_body));
	}
	if (want_status >= 400)
		assert_string_equal(req.resp.content_type, "application/problem+json");
	em_request_release(&req);
}

static void test_match_and_params(void **state)
{
	const struct em_route *route;
	struct em_kv params[EM_ROUTE_MAX_PARAMS];
	size_t np;
	char allow[64];
	struct em_error err = EM_ERROR_INIT;
	char *segs[] = { "api", "v1", "things", "42", "parts", "7" };

	(void)state;
	assert_true(em_router_match(t_tables, "GET", segs, 6, &route, params, &np,
				    allow, sizeof(allow), &err));
	assert_string_equal(route->pattern, "/api/v1/things/{id}/parts/{part}");
	assert_int_equal(np, 2);
	assert_string_equal(params[0].value, "42");
	assert_string_equal(params[1].value, "7");
	/* HEAD is served by the GET route */
	assert_true(em_router_match(t_tables, "HEAD", segs, 4, &route, params, &np,
				    allow, sizeof(allow), &err));
	assert_string_equal(route->method, "GET");
}

static void test_404_405(void **state)
{
	const struct em_route *route;
	struct em_kv params[EM_ROUTE_MAX_PARAMS];
	size_t np;
	char allow[64];
	struct em_error err = EM_ERROR_INIT;
	char *segs[] = { "api", "v1", "things", "42" };
	char *nope[] = { "api", "v1", "nothing" };

	(void)state;
	assert_false(em_router_match(t_tables, "PATCH", segs, 4, &route, params, &np,
				     allow, sizeof(allow), &err));
	assert_int_equal(err.kind, EM_ERR_METHOD);
	assert_string_equal(allow, "GET, DELETE, PUT");
	assert_false(em_router_match(t_tables, "GET", nope, 3, &route, params, &np,
				     allow, sizeof(allow), &err));
	assert_int_equal(err.kind, EM_ERR_NOT_FOUND);
	/* a prefix of a pattern is not a match */
	assert_false(em_router_match(t_tables, "GET", segs, 2, &route, params, &np,
				     allow, sizeof(allow), &err));
	assert_int_equal(err.kind, EM_ERR_NOT_FOUND);
}

static void test_dispatch(void **state)
{
	(void)state;
	handled = 0;
	dispatch("GET", "/api/v1/things/abc?x=1", NULL, NULL, NULL, 200, "\"abc\"");
	assert_int_equal(handled, 1);
	dispatch("GET", "/api/v1/none", NULL, NULL, NULL, 404, "\"status\":404");
	dispatch("PATCH", "/api/v1/things/1", NULL, NULL, NULL, 405, "not allowed");
	dispatch("PUT", "/api/v1/things/1", NULL, NULL, NULL, 409, "\"field\":\"sku\"");
	dispatch("GET", "/api/v1/things/%zz", NULL, NULL, NULL, 400, "percent");
	dispatch("GET", "/api/v1/things?q=%", NULL, NULL, NULL, 400, "percent");
	assert_int_equal(handled, 1);
}

static void test_roles(void **state)
{
	(void)state;
	handled = 0;
	/* no authenticator: 401 */
	dispatch("DELETE", "/api/v1/things/1", NULL, NULL, NULL, 401, NULL);
	/* a customer on a staff route: 403 */
	dispatch("DELETE", "/api/v1/things/1", NULL, NULL, staff_auth, 403, NULL);
	assert_int_equal(handled, 0);
}

static void test_json_body(void **state)
{
	(void)state;
	handled = 0;
	dispatch("POST", "/api/v1/things", "application/json; charset=utf-8",
		 "{\"a\": 1}", NULL, 200, NULL);
	assert_int_equal(handled, 1);
	dispatch("POST", "/api/v1/things", "text/plain", "{\"a\": 1}", NULL, 415, NULL);
	dispatch("POST", "/api/v1/things", "application/jsonx", "{}", NULL, 415, NULL);
	dispatch("POST", "/api/v1/things", "application/json", "{\"a\": ", NULL, 400,
		 "malformed JSON");
	dispatch("POST", "/api/v1/things", "application/json", "{\"a\":1} x", NULL, 400,
		 "malformed JSON");
	dispatch("POST", "/api/v1/things", "application/json", "{\"$where\": 1}", NULL,
		 400, "\"field\":\"$where\"");
	dispatch("POST", "/api/v1/things", "application/json",
		 "{\"email\": {\"$ne\": null}}", NULL, 400, "$ne");
	dispatch("POST", "/api/v1/things", "application/json", "", NULL, 400, "empty");
	assert_int_equal(handled, 1);
}

/* Shared pagination: ?limit= bounds, cursor round trip, the response shape. */
static void test_page(void **state)
{
	static const char *const bad[] = { "0", "101", "-1", "+5", " 5", "5x", "", "1000" };
	struct em_request req;
	struct em_error err = EM_ERROR_INIT;
	char *env[8], uri[128], cur[EM_PAGE_OID_CURSOR_SIZE];
	const char *cursor;
	bson_oid_t oid, back;
	int limit;

	(void)state;
	req_make(&req, env, "GET", "/x?cursor=", NULL, NULL);
	assert_true(em_page_params(&req, 20, &limit, &cursor, &err));
	assert_int_equal(limit, 20);
	assert_null(cursor); /* empty means none */
	em_request_release(&req);
	req_make(&req, env, "GET", "/x?limit=100&cursor=abc", NULL, NULL);
	assert_true(em_page_params(&req, 20, &limit, &cursor, &err));
	assert_int_equal(limit, 100);
	assert_string_equal(cursor, "abc");
	assert_false(em_page_cursor_oid_decode(cursor, &oid, &err));
	assert_string_equal(err.field, "cursor");
	em_request_release(&req);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(uri, sizeof(uri), "/x?limit=%s", bad[i]);
		req_make(&req, env, "GET", uri, NULL, NULL);
		em_error_clear(&err);
		assert_false(em_page_params(&req, 20, &limit, &cursor, &err));
		assert_string_equal(err.field, "limit");
		em_request_release(&req);
	}
	bson_oid_init(&oid, NULL);
	em_page_cursor_oid_encode(&oid, cur);
	assert_int_equal(strlen(cur), EM_PAGE_OID_CURSOR_SIZE - 1);
	assert_true(em_page_cursor_oid_decode(cur, &back, &err));
	assert_true(bson_oid_equal(&oid, &back));
	cur[3] = '*';
	assert_false(em_page_cursor_oid_decode(cur, &back, &err));
	/* bytes >= 0x80 are not base64 (libsodium 1.0.18 decodes them as if
	 * they were; found by tests/fuzz/fuzz_cursor) */
	for (int c = 0x80; c <= 0xff; c += 0x3f) {
		em_page_cursor_oid_encode(&oid, cur);
		cur[8] = (char)c;
		em_error_clear(&err);
		assert_false(em_page_cursor_oid_decode(cur, &back, &err));
		assert_string_equal(err.field, "cursor");
	}

	req_make(&req, env, "GET", "/x", NULL, NULL);
	em_page_respond(&req, json_object_new_array(), "next1");
	assert_int_equal(req.resp.status, 200);
	assert_string_equal(req.resp.body, "{\"items\":[],\"next_cursor\":\"next1\"}");
	em_request_release(&req);
	req_make(&req, env, "GET", "/x", NULL, NULL);
	em_page_respond(&req, json_object_new_array(), "");
	assert_string_equal(req.resp.body, "{\"items\":[],\"next_cursor\":null}");
	em_request_release(&req);
}

/*
 * Every status a handler or an error kind answers has its reason phrase:
 * the payment returns' 303 went out as "Status: 303 Unknown" (found by
 * tests/fuzz/fuzz_request).
 */
static void test_status_text(void **state)
{
	static const int used[] = { 200, 201, 202, 204, 302, 303, 304, 400, 401, 403, 404, 405,
				    409, 412, 413, 414, 415, 422, 428, 429, 500, 502, 503, 504 };

	(void)state;
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++)
		if (strcmp(em_status_text(used[i]), "Unknown") == 0)
			fail_msg("no reason phrase for %d", used[i]);
	assert_string_equal(em_status_text(303), "See Other");
	for (int k = EM_ERR_NONE; k <= EM_ERR_INTERNAL; k++)
		assert_string_not_equal(em_status_text(em_error_status((enum em_error_kind)k)),
					"Unknown");
	assert_string_equal(em_status_text(299), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_params),
		cmocka_unit_test(test_404_405),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_status_text),
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
