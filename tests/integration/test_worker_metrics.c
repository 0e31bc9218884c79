/*
 * emporium-worker's own GET /metrics (EMPORIUM_WORKER_METRICS_LISTEN) and
 * the request id carried from a request to the job it enqueued.
 *
 * The metrics test starts its OWN worker (harness_jobs.h) on a database
 * of its own, so its counters start at zero and every value is exact:
 * one mail that fails (SMTP down, one attempt allowed: dead), one job of
 * a missing template (dead, no SMTP), three mails delivered; the job
 * latency histogram counts each of the five outcomes. The request-id test
 * signs up through nginx and follows the id of that request into the
 * verification mail's job and the stack worker's log lines for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_jobs.h"

/* The value of the sample whose name and labels are exactly `series`; -1 if absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static char *worker_scrape(int port, const char *path, long want)
{
	char url[128], ct[128], *body;
	struct h_resp r;

	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	r = h_request("GET", url, NULL, 0, NULL);
	if (r.status != want)
		fail_msg("%s: %ld (wanted %ld)", url, r.status, want);
	if (want == 200) {
		assert_true(h_header(&r, "content-type", ct, sizeof ct));
		assert_non_null(strstr(ct, "text/plain; version=0.0.4"));
	}
	body = strdup(r.body ? r.body : "");
	h_resp_free(&r);
	return body;
}

/* Polls the worker's /metrics until series reaches want (or 10 s pass). */
static char *scrape_until(int port, const char *series, double want)
{
	for (int i = 0; i < 200; i++) {
		char *text = worker_scrape(port, "/metrics", 200);

		if (sample(text, series) >= want)
			return text;
		free(text);
		h_sleep_ms(50);
	}
	fail_msg("%s never reached %g", series, want);
	return NULL;
}

static void test_worker_metrics(void **state)
{
	char listen[64];
	const char *extra[] = { listen, "EMPORIUM_JOB_MAX_ATTEMPTS=1", NULL };
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64], *text;
	int mport = hj_free_port(), smtp = hj_free_port();
	bson_t *job;

	(void)state;
	snprintf(listen, sizeof listen, "EMPORIUM_WORKER_METRICS_LISTEN=127.0.0.1:%d", mport);
	hj_db_open(&st, db, sizeof(db));
	hj_worker_start(&w, db, smtp, extra, "metrics");
	for (int i = 0; i < 100 && !hj_port_open(mport); i++)
		h_sleep_ms(50);
	assert_true(hj_port_open(mport));
	text = worker_scrape(mport, "/metrics", 200);
	assert_true(sample(text, "emporium_mails_total{result=\"sent\"}") == 0);
	assert_true(sample(text, "emporium_job_latency_seconds_count") == 0);
	assert_true(sample(text, "emporium_worker_start_time_seconds") > 1.7e9);
	assert_non_null(strstr(text, "# TYPE emporium_jobs_finished_total counter\n"));
	assert_non_null(strstr(text, "# TYPE emporium_job_latency_seconds histogram\n"));
	free(text);
	free(worker_scrape(mport, "/other", 404));

	/* SMTP down, one attempt: the mail fails, the job is dead */
	hj_enqueue_mail(&st, "fay@example.test", "verify_email",
			"{\"name\": \"Fay\", \"code\": \"111111\"}", "metrics:down");
	job = hj_job_wait(&st, "metrics:down", "dead", 1, 10000);
	bson_destroy(job);
	/* a missing template: dead before any SMTP */
	hj_enqueue_mail(&st, "fay@example.test", "no_such_template", "{}", "metrics:bad");
	job = hj_job_wait(&st, "metrics:bad", "dead", 1, 10000);
	bson_destroy(job);
	/* the server is up: three mails */
	hj_catcher_start(&c, smtp, "metrics");
	for (int i = 0; i < 3; i++) {
		char key[32];

		snprintf(key, sizeof key, "metrics:ok:%d", i);
		hj_enqueue_mail(&st, "fay@example.test", "verify_email",
				"{\"name\": \"Fay\", \"code\": \"222222\"}", key);
	}
	text = scrape_until(mport, "emporium_jobs_finished_total{outcome=\"done\"}", 3);
	fprintf(stderr, "  sent %g, failed %g, done %g, dead %g, retry %g, latency count %g\n",
		sample(text, "emporium_mails_total{result=\"sent\"}"),
		sample(text, "emporium_mails_total{result=\"failed\"}"),
		sample(text, "emporium_jobs_finished_total{outcome=\"done\"}"),
		sample(text, "emporium_jobs_finished_total{outcome=\"dead\"}"),
		sample(text, "emporium_jobs_finished_total{outcome=\"retry\"}"),
		sample(text, "emporium_job_latency_seconds_count"));
	assert_true(sample(text, "emporium_mails_total{result=\"sent\"}") == 3);
	assert_true(sample(text, "emporium_mails_total{result=\"failed\"}") == 1);
	assert_true(sample(text, "emporium_jobs_finished_total{outcome=\"done\"}") == 3);
	assert_true(sample(text, "emporium_jobs_finished_total{outcome=\"dead\"}") == 2);
	assert_true(sample(text, "emporium_jobs_finished_total{outcome=\"retry\"}") == 0);
	assert_true(sample(text, "emporium_job_latency_seconds_count") == 5);
	assert_true(sample(text, "emporium_job_latency_seconds_bucket{le=\"+Inf\"}") == 5);
	/* cumulative, and these jobs were all run well within a minute */
	assert_true(sample(text, "emporium_job_latency_seconds_bucket{le=\"60\"}") == 5);
	assert_true(sample(text, "emporium_job_latency_seconds_bucket{le=\"0.1\"}") <=
		    sample(text, "emporium_job_latency_seconds_bucket{le=\"0.5\"}"));
	free(text);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

/* The request id: nginx's, in the app's lines, on the job, in the job's lines. */
static void test_request_id_reaches_the_job(void **state)
{
	char email[256], body[512], rid[64], filter[400], path[1024], line[8192], *doc;
	struct h_resp r;
	bool seen = false;
	json_object *j, *v;

	(void)state;
	h_unique_email("rid", email, sizeof email);
	snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"T rid\"}",
		 email, H_PW);
	h_source_set(2 + (int)(getpid() % 198));
	r = h_post("/api/v1/auth/register", body);
	h_source_set(0);
	assert_int_equal(r.status, 202);
	assert_true(h_header(&r, "x-request-id", rid, sizeof rid));
	h_resp_free(&r);
	assert_true(strlen(rid) >= 16);
	/* the verification mail's job carries it */
	snprintf(filter, sizeof filter, "{\"payload.to\": \"%s\"}", email);
	doc = h_db_find_json("jobs", filter);
	assert_non_null(doc);
	j = json_tokener_parse(doc);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "request_id", &v));
	assert_string_equal(json_object_get_string(v), rid);
	json_object_put(j);
	free(doc);
	/* the stack's worker ran it and logged it with the request's id */
	doc = h_mail_wait(email, "", 15000);
	assert_non_null(doc);
	free(doc);
	snprintf(path, sizeof path, "%s/logs/worker.log", h_env("STACK_DIR"));
	for (int tries = 0; tries < 50 && !seen; tries++) {
		FILE *f = fopen(path, "r");

		assert_non_null(f);
		while (fgets(line, sizeof line, f))
			if (strstr(line, rid) && strstr(line, "\"proc\":\"jobworker\"") &&
			    strstr(line, "\"route\":\"job "))
				seen = true;
		fclose(f);
		if (!seen)
			h_sleep_ms(100);
	}
	if (!seen)
		fail_msg("no job line of the worker with request_id %s", rid);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_metrics),
		cmocka_unit_test(test_request_id_reaches_the_job),
	};
	int rc;

	(void)argc;
	h_init();
	if (!hj_init(argv[0]))
		return 2;
	rc = cmocka_run_group_tests_name("worker-metrics", tests, NULL, NULL);
	hj_finish(rc);
	h_cleanup();
	return rc;
}
