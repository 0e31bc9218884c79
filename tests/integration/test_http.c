/*
 * Integration tests of the HTTP edge through the real stack (HTTPS ->
 * nginx -> emporium-fcgi), split from test_serving.c: health and
 * readiness, security headers, the HTTP -> HTTPS redirect, 404/405, bad
 * URLs, JSON body rules, body limits, CORS and nginx's rate limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static const char *const json_ct[] = { "Content-Type: application/json", NULL };

static void test_health(void **state)
{
	struct h_resp r = h_get("/api/v1/health");
	char v[512];

	(void)state;
	assert_true(r.ok);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"status\":\"ok\""));
	assert_true(h_header(&r, "content-type", v, sizeof(v)));
	assert_string_equal(v, "application/json");
	/* nginx's $request_id comes back from the app */
	assert_true(h_header(&r, "x-request-id", v, sizeof(v)));
	assert_int_equal(strlen(v), 32);
	assert_true(h_header(&r, "cache-control", v, sizeof(v)));
	assert_string_equal(v, "no-store");
	h_resp_free(&r);
}

static void test_ready(void **state)
{
	struct h_resp r = h_get("/api/v1/health/ready");

	(void)state;
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"mongodb\":\"ok\""));
	h_resp_free(&r);
}

static void test_security_headers(void **state)
{
	const char *paths[] = { "/api/v1/health", "/api/v1/nope", "/nothing-here" };

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct h_resp r = h_get(paths[i]);
		char v[1024];

		assert_true(h_header(&r, "strict-transport-security", v, sizeof(v)));
		assert_non_null(strstr(v, "max-age="));
		assert_true(h_header(&r, "content-security-policy", v, sizeof(v)));
		assert_non_null(strstr(v, "frame-ancestors 'none'"));
		assert_true(h_header(&r, "x-content-type-options", v, sizeof(v)));
		assert_string_equal(v, "nosniff");
		assert_true(h_header(&r, "x-frame-options", v, sizeof(v)));
		assert_true(h_header(&r, "referrer-policy", v, sizeof(v)));
		assert_true(h_header(&r, "permissions-policy", v, sizeof(v)));
		h_resp_free(&r);
	}
}

static void test_http_redirects_to_https(void **state)
{
	char url[256], v[512];
	struct h_resp r;

	(void)state;
	snprintf(url, sizeof(url), "%s/api/v1/health", h_env("STACK_HTTP_BASE"));
	r = h_get(url);
	assert_int_equal(r.status, 301);
	assert_true(h_header(&r, "location", v, sizeof(v)));
	assert_true(strncmp(v, "https://", 8) == 0);
	assert_non_null(strstr(v, "/api/v1/health"));
	h_resp_free(&r);
}

static void test_not_found_and_method(void **state)
{
	struct h_resp r = h_get("/api/v1/no/such/thing");
	char v[256];

	(void)state;
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = h_request("POST", "/api/v1/health", "{}", 2, json_ct);
	h_assert_problem(&r, 405);
	assert_true(h_header(&r, "allow", v, sizeof(v)));
	assert_string_equal(v, "GET");
	h_resp_free(&r);
	r = h_request("DELETE", "/api/v1/csp-reports", NULL, 0, NULL);
	h_assert_problem(&r, 405);
	assert_true(h_header(&r, "allow", v, sizeof(v)));
	assert_string_equal(v, "POST");
	h_resp_free(&r);
}

static void test_bad_urls(void **state)
{
	struct h_resp r;
	char *big = malloc(20001);

	(void)state;
	r = h_get("/api/v1/health?q=%zz");
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "percent-encoding"));
	h_resp_free(&r);
	r = h_get("/api/v1/health?q=a%00b");
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "NUL"));
	h_resp_free(&r);
	r = h_get("/api/v1/%2e%2e/health");
	assert_true(r.status == 400 || r.status == 404);
	h_resp_free(&r);

	assert_non_null(big);
	memcpy(big, "/api/v1/health?q=", 17);
	memset(big + 17, 'a', 20000 - 17);
	big[20000] = '\0';
	r = h_get(big);
	assert_true(r.status == 414 || r.status == 400);
	h_assert_problem(&r, r.status);
	h_resp_free(&r);
	free(big);
}

static const char *const csp_ct[] = { "Content-Type: application/csp-report", NULL };

static void test_json_body_rules(void **state)
{
	static const char good[] =
		"{\"csp-report\": {\"document-uri\": \"https://shop.test/admin/\","
		" \"violated-directive\": \"script-src-elem\","
		" \"blocked-uri\": \"https://evil.test/x.js?integration-marker\"}}";
	const char *const text_ct[] = { "Content-Type: text/plain", NULL };
	struct h_resp r;
	long before = h_db_count("csp_reports", "{}");

	(void)state;
	assert_true(before >= 0);
	r = h_request("POST", "/api/v1/csp-reports", "{\"csp-report\": {", 15, csp_ct);
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "malformed JSON"));
	h_resp_free(&r);
	r = h_request("POST", "/api/v1/csp-reports", good, sizeof(good) - 1, text_ct);
	h_assert_problem(&r, 415);
	h_resp_free(&r);
	r = h_request("POST", "/api/v1/csp-reports", "{\"csp-report\": {\"$where\": \"1\"}}",
		      31, json_ct);
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "\"field\":\"$where\""));
	h_resp_free(&r);
	r = h_request("POST", "/api/v1/csp-reports",
		      "{\"csp-report\": {\"blocked-uri\": 5}}", 34, json_ct);
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "blocked-uri"));
	h_resp_free(&r);
	r = h_request("POST", "/api/v1/csp-reports", "{\"csp-report\": \"a\0b\"}", 22, json_ct);
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	/* none of the bad ones stored anything */
	assert_int_equal(h_db_count("csp_reports", "{}"), before);

	r = h_request("POST", "/api/v1/csp-reports", good, sizeof(good) - 1, csp_ct);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_equal(h_db_count("csp_reports",
				    "{\"blocked_uri\": \"https://evil.test/x.js?integration-marker\"}"),
			 1);
}

static void test_body_too_large(void **state)
{
	size_t n = 2 * 1024 * 1024;
	char *big = malloc(n);
	struct h_resp r;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	r = h_request("POST", "/api/v1/csp-reports", big, n, json_ct);
	h_assert_problem(&r, 413);
	h_resp_free(&r);
	free(big);
}

static void test_cors(void **state)
{
	char allowed[300], hdr[400], v[512];
	const char *pre_h[4];
	struct h_resp r;

	(void)state;
	snprintf(allowed, sizeof(allowed), "%s", h_env("STACK_CORS_ORIGIN"));
	snprintf(hdr, sizeof(hdr), "Origin: %s", allowed);
	pre_h[0] = hdr;
	pre_h[1] = "Access-Control-Request-Method: POST";
	pre_h[2] = "Access-Control-Request-Headers: content-type, authorization";
	pre_h[3] = NULL;
	r = h_request("OPTIONS", "/api/v1/csp-reports", NULL, 0, pre_h);
	assert_int_equal(r.status, 204);
	assert_true(h_header(&r, "access-control-allow-origin", v, sizeof(v)));
	assert_string_equal(v, allowed);
	assert_true(h_header(&r, "access-control-allow-credentials", v, sizeof(v)));
	assert_string_equal(v, "true");
	assert_true(h_header(&r, "access-control-allow-methods", v, sizeof(v)));
	assert_non_null(strstr(v, "POST"));
	h_resp_free(&r);

	/* a simple request from the allowed origin gets the header too */
	pre_h[1] = NULL;
	r = h_request("GET", "/api/v1/health", NULL, 0, pre_h);
	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "access-control-allow-origin", v, sizeof(v)));
	assert_string_equal(v, allowed);
	assert_true(h_header(&r, "vary", v, sizeof(v)));
	h_resp_free(&r);

	/* a refused origin is never reflected */
	pre_h[0] = "Origin: https://evil.example";
	pre_h[1] = "Access-Control-Request-Method: POST";
	r = h_request("OPTIONS", "/api/v1/csp-reports", NULL, 0, pre_h);
	assert_false(h_header(&r, "access-control-allow-origin", v, sizeof(v)));
	assert_true(r.status == 403);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	pre_h[1] = NULL;
	r = h_request("GET", "/api/v1/health", NULL, 0, pre_h);
	assert_int_equal(r.status, 200);
	assert_false(h_header(&r, "access-control-allow-origin", v, sizeof(v)));
	h_resp_free(&r);
}

static void test_rate_limit(void **state)
{
	int limited = 0, passed = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		struct h_resp r = h_request("POST", "/api/v1/auth/login", "{}", 2, json_ct);
		char v[64];

		if (r.status == 429) {
			if (!limited) {
				h_assert_problem(&r, 429);
				assert_true(h_header(&r, "retry-after", v, sizeof(v)));
			}
			limited++;
		} else {
			passed++;
		}
		h_resp_free(&r);
	}
	assert_true(limited > 0);
	assert_true(passed > 0);
	/* the limit is per path class: the rest of the API still answers */
	{
		struct h_resp r = h_get("/api/v1/health");

		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_security_headers),
		cmocka_unit_test(test_http_redirects_to_https),
		cmocka_unit_test(test_not_found_and_method),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_json_body_rules),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_cors),
		cmocka_unit_test(test_rate_limit),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
