/*
 * Integration tests of the HTTP edge through the real stack (HTTPS ->
 * nginx -> emporium-fcgi), split from test_serving.c: health and
 * readiness, security headers, the HTTP -> HTTPS redirect, 404/405, bad
 * URLs, JSON body rules, body limits, CORS and nginx's rate limit.
 * The whole suite runs twice: over HTTP/2, then over HTTP/1.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>
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

/* A fresh source address per use (127.0.0.60 and up), so each CSP test
 * has nginx's per-address report allowance to itself. */
static int csp_source_next(void)
{
	static int next = 60;

	return next++;
}

/* The count of the counter (day: today) of directive and blocked, or 0. */
static long csp_counter(const char *directive, const char *blocked)
{
	char filter[300], *doc;
	json_object *o, *v;
	long n = 0;

	snprintf(filter, sizeof(filter), "{\"directive\": \"%s\", \"blocked\": \"%s\"}",
		 directive, blocked);
	doc = h_db_find_json("csp_reports", filter);
	if (!doc)
		return 0;
	o = json_tokener_parse(doc);
	assert_non_null(o);
	/* relaxed extended JSON: an int64 is {"$numberLong": "N"} or a number */
	if (json_object_object_get_ex(o, "count", &v)) {
		json_object *nl;

		if (json_object_object_get_ex(v, "$numberLong", &nl))
			n = strtol(json_object_get_string(nl), NULL, 10);
		else
			n = (long)json_object_get_int64(v);
	}
	json_object_put(o);
	free(doc);
	return n;
}

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
	/* nginx allows 1 CSP report a second per address (burst 5): this
	 * test's seven reports come from an address of their own per run */
	h_source_set(csp_source_next());
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

	/* relative: the suite runs twice (HTTP/2, HTTP/1.1) on one database */
	before = csp_counter("script-src-elem", "https://evil.test");
	r = h_request("POST", "/api/v1/csp-reports", good, sizeof(good) - 1, csp_ct);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	/* counted under its directive and blocked origin, not stored whole */
	assert_int_equal(csp_counter("script-src-elem", "https://evil.test"), before + 1);
	assert_int_equal(h_db_count("csp_reports", "{\"blocked\": {\"$regex\": \"marker\"}}"), 0);
	h_source_set(0);
}

/*
 * A flood of CSP reports from one address: nginx lets the burst through
 * and answers 429 to the rest, and whatever passes only grows one counter
 * per (day, directive, blocked origin) - storage does not grow with the
 * number of reports, nor with distinct paths on one blocked origin.
 */
static void test_csp_report_flood_is_bounded(void **state)
{
	char body[400];
	struct h_resp r;
	long docs_before, count_before, accepted = 0, limited = 0;

	(void)state;
	h_source_set(csp_source_next());
	docs_before = h_db_count("csp_reports", "{\"blocked\": \"https://flood.test\"}");
	count_before = csp_counter("img-src", "https://flood.test");
	for (int i = 0; i < 30; i++) {
		snprintf(body, sizeof(body),
			 "{\"csp-report\": {\"document-uri\": \"https://shop.test/admin/\","
			 " \"violated-directive\": \"img-src\","
			 " \"blocked-uri\": \"https://flood.test/pixel-%d.gif\"}}", i);
		r = h_request("POST", "/api/v1/csp-reports", body, strlen(body), csp_ct);
		if (r.status == 204)
			accepted++;
		else if (r.status == 429)
			limited++;
		else
			fail_msg("csp report %d: %ld %s", i, r.status, r.body);
		h_resp_free(&r);
	}
	h_source_set(0);
	fprintf(stderr, "  csp flood: %ld accepted, %ld limited\n", accepted, limited);
	/* burst 5 plus at most a couple refilled at 1 r/s during the loop */
	assert_true(accepted >= 1 && accepted <= 8);
	assert_int_equal(accepted + limited, 30);
	assert_int_equal(csp_counter("img-src", "https://flood.test"), count_before + accepted);
	assert_true(h_db_count("csp_reports", "{\"blocked\": \"https://flood.test\"}") -
			    docs_before <= 1);
}

/* The pages that run scripts tell browsers where to report violations. */
static void test_csp_names_the_report_endpoint(void **state)
{
	char csp[2048];
	struct h_resp r = h_get("/docs/");

	(void)state;
	if (r.status == 200) {
		assert_true(h_header(&r, "content-security-policy", csp, sizeof(csp)));
		assert_non_null(strstr(csp, "report-uri /api/v1/csp-reports"));
	}
	h_resp_free(&r);
	r = h_get("/admin/");
	assert_true(h_header(&r, "content-security-policy", csp, sizeof(csp)));
	assert_non_null(strstr(csp, "report-uri /api/v1/csp-reports"));
	h_resp_free(&r);
}

static void test_body_too_large(void **state)
{
	size_t n = 2 * 1024 * 1024;
	char *big = malloc(n);
	struct h_resp r;

	(void)state;
	assert_non_null(big);
	h_source_set(csp_source_next());
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	r = h_request("POST", "/api/v1/csp-reports", big, n, json_ct);
	h_assert_problem(&r, 413);
	h_resp_free(&r);
	h_source_set(0);
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

/* nginx's auth zone as the stack configured it (stack.env). */
static void auth_zone(double *rate, int *burst)
{
	const char *r = getenv("STACK_NGX_AUTH_RATE"), *b = getenv("STACK_NGX_AUTH_BURST");
	char *end = NULL;

	*rate = strtod(r && *r ? r : "5r/s", &end);
	if (end && strcmp(end, "r/m") == 0)
		*rate /= 60.0;
	*burst = atoi(b && *b ? b : "10");
}

struct limit_run {
	int source;
	long status[40];
};

static void limit_one(int i, void *arg)
{
	struct limit_run *a = arg;
	struct h_resp r;

	h_source_set(a->source);
	r = h_request("POST", "/api/v1/auth/login", "{}", 2, json_ct);
	a->status[i] = r.ok ? r.status : -1;
	if (r.status == 429 && i == 0)
		h_assert_problem(&r, 429);
	h_resp_free(&r);
}

/*
 * 40 logins at once from an address of their own (a fresh bucket):
 * nginx's leaky bucket with nodelay lets burst + 1 through at once and
 * rate more per second, so the count that passes is burst + 1 plus
 * what the rate refilled while the requests were in flight.
 */
static void test_rate_limit(void **state)
{
	static int run;
	static struct limit_run a;
	int limited = 0, passed = 0, burst, most;
	double rate, t0, elapsed;

	(void)state;
	auth_zone(&rate, &burst);
	memset(&a, 0, sizeof(a));
	a.source = 200 + run++; /* each run of the suite (HTTP/2, HTTP/1.1) its own */
	t0 = h_now_s();
	h_parallel(40, limit_one, &a);
	elapsed = h_now_s() - t0;
	for (int i = 0; i < 40; i++) {
		assert_true(a.status[i] > 0);
		if (a.status[i] == 429)
			limited++;
		else
			passed++;
	}
	most = burst + 1 + (int)(rate * elapsed) + 1;
	fprintf(stderr, "  rate limit (%.1f r/s, burst %d): %d passed, %d limited in %.2f s\n",
		rate, burst, passed, limited, elapsed);
	assert_true(passed >= burst + 1);
	assert_true(passed <= most);
	/* the refused ones say when to come back */
	{
		struct h_resp r;
		char v[64];

		h_source_set(a.source);
		r = h_request("POST", "/api/v1/auth/login", "{}", 2, json_ct);
		if (r.status == 429) {
			h_assert_problem(&r, 429);
			assert_true(h_header(&r, "retry-after", v, sizeof(v)));
		}
		h_resp_free(&r);
		h_source_set(0);
	}
	/* the limit is per path class: the rest of the API still answers */
	{
		struct h_resp r = h_get("/api/v1/health");

		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
}

/* The suite runs over HTTP/2 and then HTTP/1.1 (h_http1_set). */
static long want_version = CURL_HTTP_VERSION_2_0;

static void test_protocol(void **state)
{
	struct h_resp r = h_get("/api/v1/health");

	(void)state;
	assert_int_equal(r.status, 200);
	assert_int_equal(r.http_version, want_version);
	h_resp_free(&r);
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
		cmocka_unit_test(test_csp_report_flood_is_bounded),
		cmocka_unit_test(test_csp_names_the_report_endpoint),
		cmocka_unit_test(test_cors),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_protocol),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("http2", tests, NULL, NULL);
	h_http1_set(true);
	want_version = CURL_HTTP_VERSION_1_1;
	rc |= cmocka_run_group_tests_name("http1.1", tests, NULL, NULL);
	h_cleanup();
	return rc;
}
