/*
 * Integration tests of the process model under faults (HTTPS -> nginx ->
 * emporium-fcgi -> database): a killed worker is respawned, SIGHUP
 * reloads under load, max_requests recycles workers, a bad config is
 * refused on reload, the database hung, stuck or down and back.
 * ./scripts/test runs this suite last: it kills workers and stops the
 * database.
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

static const char *const csp_ct[] = { "Content-Type: application/csp-report", NULL };

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
			/* nginx takes 1 CSP report a second per address: each
			 * probe from a loopback address of its own */
			h_source_set(2 + tries);
			r = h_request("POST", "/api/v1/csp-reports", report, sizeof(report) - 1,
				      csp_ct);
			h_source_set(0);
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
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
