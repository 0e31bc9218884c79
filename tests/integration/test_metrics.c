/*
 * Integration test for GET /metrics through nginx: the pool's counters
 * summed over every worker (7 requests made -> the counter grows by
 * exactly 7, whichever workers served them), a histogram that is
 * cumulative and counts every request, the workers' lifecycle, the job
 * queue's depth, and nginx refusing every scraper not in
 * NGX_METRICS_ALLOW (127.0.0.9 is loopback, but not 127.0.0.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static char *scrape(void)
{
	struct h_resp r = h_get("/metrics");
	char ct[128], *body;

	if (r.status != 200)
		fail_msg("/metrics: %ld %s", r.status, r.body ? r.body : "");
	assert_true(h_header(&r, "content-type", ct, sizeof ct));
	assert_non_null(strstr(ct, "text/plain; version=0.0.4"));
	body = strdup(r.body ? r.body : "");
	h_resp_free(&r);
	return body;
}

/* The value of the sample whose name and labels are exactly `series`; -1 if absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static void test_counts_every_request_once(void **state)
{
	const char *series = "emporium_http_requests_total{method=\"GET\",route=\"/api/v1/health\","
			     "code=\"2xx\"}";
	char *before, *after;
	double v0, v1;

	(void)state;
	before = scrape();
	v0 = sample(before, series);
	for (int i = 0; i < 7; i++) {
		struct h_resp r = h_get("/api/v1/health");

		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
	after = scrape();
	v1 = sample(after, series);
	fprintf(stderr, "  health 2xx: %g -> %g\n", v0, v1);
	assert_true(v1 >= 7);
	assert_true(v0 < 0 ? v1 == 7 : v1 == v0 + 7);
	free(before);
	free(after);
}

static void test_histogram_is_cumulative(void **state)
{
	char *text;
	const char *les[] = { "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
			      "0.5", "1", "2.5", "10", "+Inf" };
	char series[256];
	double last = 0, count, total = 0;

	(void)state;
	text = scrape();
	for (size_t i = 0; i < sizeof les / sizeof les[0]; i++) {
		double v;

		snprintf(series, sizeof series,
			 "emporium_http_request_duration_seconds_bucket{method=\"GET\","
			 "route=\"/api/v1/health\",le=\"%s\"}", les[i]);
		v = sample(text, series);
		assert_true(v >= last);
		last = v;
	}
	count = sample(text, "emporium_http_request_duration_seconds_count{method=\"GET\","
			     "route=\"/api/v1/health\"}");
	assert_true(count == last);
	for (int c = 1; c <= 5; c++) {
		double v;

		snprintf(series, sizeof series,
			 "emporium_http_requests_total{method=\"GET\",route=\"/api/v1/health\","
			 "code=\"%dxx\"}", c);
		v = sample(text, series);
		if (v > 0)
			total += v;
	}
	/* the histogram counts every request of the route, whatever its status */
	assert_true(count == total);
	assert_true(sample(text, "emporium_fcgi_workers_started_total") >= 1);
	assert_true(sample(text, "emporium_fcgi_worker_exits_total{reason=\"crash\"}") >= 0);
	assert_true(sample(text, "emporium_http_requests_in_flight") >= 1); /* this scrape */
	assert_true(sample(text, "emporium_jobs{status=\"pending\"}") >= 0);
	free(text);
}

static void test_only_allowed_scrapers(void **state)
{
	struct h_resp r;

	(void)state;
	h_source_set(9);
	r = h_get("/metrics");
	h_source_set(0);
	assert_int_equal(r.status, 403);
	assert_null(r.body ? strstr(r.body, "emporium_http_requests_total") : NULL);
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_every_request_once),
		cmocka_unit_test(test_histogram_is_cumulative),
		cmocka_unit_test(test_only_allowed_scrapers),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
	h_cleanup();
	return rc;
}
