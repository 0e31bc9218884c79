/*
 * Integration tests for the serving path: HTTPS -> nginx -> emporium-fcgi
 * -> MongoDB (the stand-in or a real replica set), started by
 * ./scripts/test. Each test goes through the real stack; nothing is mocked.
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

/* A client that sends requests one after another until told to stop. */
struct load {
	volatile int stop;
	int total, failed;
	pthread_t thread;
};

static void *load_run(void *arg)
{
	struct load *l = arg;

	while (!l->stop) {
		struct h_resp r = h_get("/api/v1/health");

		l->total++;
		if (!r.ok || r.status != 200) {
			l->failed++;
			fprintf(stderr, "  load: status %ld\n", r.status);
		}
		h_resp_free(&r);
		h_sleep_ms(5);
	}
	return NULL;
}

static bool pid_in(pid_t p, const pid_t *list, int n)
{
	for (int i = 0; i < n; i++)
		if (list[i] == p)
			return true;
	return false;
}

static void test_worker_sigkill_respawn(void **state)
{
	pid_t before[64], after[64];
	int n_before = h_worker_pids(before, 64), n_after = 0;
	struct load l = { 0 };
	int waited = 0;

	(void)state;
	assert_true(n_before >= 2);
	assert_int_equal(pthread_create(&l.thread, NULL, load_run, &l), 0);
	h_sleep_ms(300);
	assert_int_equal(kill(before[0], SIGKILL), 0);
	/* the pool is whole again within a second */
	for (; waited < 1000; waited += 20) {
		h_sleep_ms(20);
		n_after = h_worker_pids(after, 64);
		if (n_after == n_before && !pid_in(before[0], after, n_after))
			break;
	}
	assert_int_equal(n_after, n_before);
	assert_false(pid_in(before[0], after, n_after));
	h_sleep_ms(500);
	l.stop = 1;
	pthread_join(l.thread, NULL);
	/* a sequential client: at most the one request the worker held */
	assert_true(l.failed <= 1);
	assert_true(l.total > 20);
}

static void test_sighup_reload_under_load(void **state)
{
	pid_t before[64], after[64];
	int n_before = h_worker_pids(before, 64), n_after;
	struct load l = { 0 };

	(void)state;
	assert_int_equal(pthread_create(&l.thread, NULL, load_run, &l), 0);
	h_sleep_ms(400);
	assert_int_equal(kill(h_master_pid(), SIGHUP), 0);
	h_sleep_ms(700);
	assert_int_equal(kill(h_master_pid(), SIGHUP), 0);
	h_sleep_ms(900);
	l.stop = 1;
	pthread_join(l.thread, NULL);
	assert_int_equal(l.failed, 0);
	assert_true(l.total > 50);
	/* every worker was replaced */
	n_after = h_worker_pids(after, 64);
	assert_int_equal(n_after, n_before);
	for (int i = 0; i < n_before; i++)
		assert_false(pid_in(before[i], after, n_after));
}

static void test_max_requests_recycles_workers(void **state)
{
	pid_t before[64], after[64];
	int n_before, n_after, failed = 0;

	(void)state;
	/* a reload picks up the new value from the env file */
	assert_true(h_stack_reconfigure("EMPORIUM_MAX_REQUESTS=20"));
	n_before = h_worker_pids(before, 64);
	for (int i = 0; i < 150; i++) {
		struct h_resp r = h_get("/api/v1/health");

		if (r.status != 200)
			failed++;
		h_resp_free(&r);
	}
	h_sleep_ms(300);
	n_after = h_worker_pids(after, 64);
	assert_true(h_stack_reconfigure(NULL));
	assert_int_equal(failed, 0);
	/* 150 requests over workers that retire after 20 each: every worker
	 * of the first set has been replaced, and the pool is whole */
	assert_int_equal(n_after, n_before);
	for (int i = 0; i < n_before; i++)
		assert_false(pid_in(before[i], after, n_after));
}

/* A bad configuration on reload is refused; the running one stays. */
static void test_reload_refuses_bad_config(void **state)
{
	pid_t before[64], after[64];
	int n_before, n_after;
	struct h_resp r;

	(void)state;
	n_before = h_worker_pids(before, 64);
	assert_true(h_env_file_write("EMPORIUM_WORKERS=lots"));
	assert_int_equal(kill(h_master_pid(), SIGHUP), 0);
	h_sleep_ms(600);
	n_after = h_worker_pids(after, 64);
	assert_true(h_env_file_write(NULL));
	r = h_get("/api/v1/health");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_int_equal(n_after, n_before);
	for (int i = 0; i < n_before; i++)
		assert_true(pid_in(before[i], after, n_after));
}

/* The stand-in's pid, to freeze it. */
static pid_t mongo_pid(void)
{
	char path[1024];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/run/mongo.pid", h_env("STACK_DIR"));
	f = fopen(path, "r");
	if (f && fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return (pid_t)pid;
}

/*
 * A database that accepts connections but never answers (a frozen
 * primary): requests get a 503 within the request timeout instead of
 * hanging, the workers survive it, and service comes back by itself.
 */
static void test_mongodb_hung_then_back(void **state)
{
	pid_t before[64], after[64], mpid;
	int n_before, n_after, tries;
	struct h_resp r;
	struct timespec t0, t1;
	double waited;

	(void)state;
	if (getenv("MONGODB_URI")) {
		skip(); /* an external database is not ours to freeze */
	}
	mpid = mongo_pid();
	assert_true(mpid > 0);
	assert_true(h_stack_reconfigure("EMPORIUM_REQUEST_TIMEOUT=4"));
	r = h_get("/api/v1/health/ready"); /* the new workers are connected */
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	n_before = h_worker_pids(before, 64);

	assert_int_equal(kill(mpid, SIGSTOP), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = h_get("/api/v1/health/ready");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	kill(mpid, SIGCONT);
	h_assert_problem(&r, 503);
	h_resp_free(&r);
	assert_true(waited < 4.0); /* answered before the request timeout */
	n_after = h_worker_pids(after, 64);
	assert_int_equal(n_after, n_before);
	for (int i = 0; i < n_before; i++) /* nobody was killed */
		assert_true(pid_in(before[i], after, n_after));

	for (tries = 0; tries < 100; tries++) {
		r = h_get("/api/v1/health/ready");
		if (r.status == 200) {
			h_resp_free(&r);
			break;
		}
		h_resp_free(&r);
		h_sleep_ms(200);
	}
	assert_true(tries < 100);
	assert_true(h_stack_reconfigure(NULL));
}

/*
 * A request stuck past EMPORIUM_REQUEST_TIMEOUT kills its worker (the
 * master replaces it). To get a stuck request without a test-only route,
 * the database is frozen and the driver told (in the URI) to wait far
 * longer than the request may take.
 */
static void test_request_timeout_kills_stuck_worker(void **state)
{
	pid_t before[64], after[64], mpid;
	int n_before, n_after = 0, replaced = 0;
	char lines[1200];
	struct h_resp r;

	(void)state;
	if (getenv("MONGODB_URI")) {
		skip();
	}
	mpid = mongo_pid();
	assert_true(mpid > 0);
	/* One worker, so the request that hangs is served by the worker the
	 * warm-up request connected (a worker still connecting would give
	 * up at the connect timeout and answer 503). */
	snprintf(lines, sizeof(lines),
		 "EMPORIUM_WORKERS=1\nEMPORIUM_REQUEST_TIMEOUT=2\n"
		 "EMPORIUM_MONGODB_URI=%s&socketTimeoutMS=60000",
		 h_env("STACK_MONGODB_URI"));
	assert_true(h_stack_reconfigure(lines));
	r = h_get("/api/v1/health/ready");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	n_before = h_worker_pids(before, 64);

	assert_int_equal(kill(mpid, SIGSTOP), 0);
	r = h_get("/api/v1/health/ready");
	kill(mpid, SIGCONT);
	if (r.status != 502 && r.status != 504)
		fprintf(stderr, "  stuck request answered %ld: %.200s\n", r.status, r.body);
	/* the worker died mid-request: nginx answers for it */
	assert_true(r.status == 502 || r.status == 504);
	h_assert_problem(&r, r.status);
	h_resp_free(&r);
	for (int waited = 0; waited < 2000; waited += 50) {
		h_sleep_ms(50);
		n_after = h_worker_pids(after, 64);
		replaced = 0;
		for (int i = 0; i < n_before; i++)
			replaced += !pid_in(before[i], after, n_after);
		if (replaced == 1 && n_after == n_before)
			break;
	}
	assert_int_equal(n_after, n_before);
	assert_int_equal(replaced, 1);
	assert_true(h_stack_reconfigure(NULL));
	for (int tries = 0; tries < 100; tries++) {
		r = h_get("/api/v1/health/ready");
		if (r.status == 200) {
			h_resp_free(&r);
			return;
		}
		h_resp_free(&r);
		h_sleep_ms(200);
	}
	fail_msg("the service did not come back after the database thawed");
}

static void test_mongodb_down_then_back(void **state)
{
	static const char report[] = "{\"csp-report\": {\"blocked-uri\": \"x\"}}";
	struct h_resp r;
	char v[64];
	int tries;

	(void)state;
	if (getenv("MONGODB_URI")) {
		skip(); /* an external database is not ours to stop */
	}
	assert_true(h_stack_ctl("mongo-stop"));
	r = h_get("/api/v1/health/ready");
	h_assert_problem(&r, 503);
	assert_true(h_header(&r, "retry-after", v, sizeof(v)));
	h_resp_free(&r);
	r = h_request("POST", "/api/v1/csp-reports", report, sizeof(report) - 1, csp_ct);
	h_assert_problem(&r, 503);
	h_resp_free(&r);
	r = h_get("/api/v1/health"); /* liveness does not depend on the database */
	assert_int_equal(r.status, 200);
	h_resp_free(&r);

	assert_true(h_stack_ctl("mongo-start"));
	for (tries = 0; tries < 100; tries++) {
		r = h_get("/api/v1/health/ready");
		if (r.status == 200) {
			h_resp_free(&r);
			break;
		}
		h_resp_free(&r);
		h_sleep_ms(200);
	}
	assert_true(tries < 100);
	/* every worker recovers, not just the first: within a bound (the
	 * driver keeps a refused server in a 5 s cooldown), ten requests in
	 * a row succeed */
	{
		int streak = 0;

		for (tries = 0; tries < 150 && streak < 10; tries++) {
			r = h_request("POST", "/api/v1/csp-reports", report, sizeof(report) - 1,
				      csp_ct);
			streak = r.status == 204 ? streak + 1 : 0;
			if (r.status != 204) {
				assert_int_equal(r.status, 503);
				h_sleep_ms(100);
			}
			h_resp_free(&r);
		}
		assert_int_equal(streak, 10);
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
		cmocka_unit_test(test_worker_sigkill_respawn),
		cmocka_unit_test(test_sighup_reload_under_load),
		cmocka_unit_test(test_max_requests_recycles_workers),
		cmocka_unit_test(test_reload_refuses_bad_config),
		cmocka_unit_test(test_mongodb_hung_then_back),
		cmocka_unit_test(test_request_timeout_kills_stuck_worker),
		cmocka_unit_test(test_mongodb_down_then_back),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("serving", tests, NULL, NULL);
	h_cleanup();
	return rc;
}
