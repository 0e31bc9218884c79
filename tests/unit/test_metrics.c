/*
 * Unit tests for the event counters of src/http/metrics.c: a process
 * without an area counts nothing; events of a transaction count only when
 * it commits (dropped with an attempt that is retried); the exposition
 * names each metric once with HELP and TYPE, sums the slots, and keeps
 * emporium-worker's metrics out of the pool's; the job latency histogram
 * is cumulative.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "http/metrics.h"

static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_no_area_counts_nothing(void **state)
{
	struct em_metrics *m = em_metrics_create();

	(void)state;
	assert_non_null(m);
	em_metrics_events_attach(NULL);
	em_metrics_event(EM_EV_STOCK_OUT);
	em_metrics_job_latency(5);
	em_metrics_events_attach(&m->slots[0]);
	assert_int_equal(m->slots[0].events[EM_EV_STOCK_OUT], 0);
	assert_int_equal(m->slots[0].job_buckets[0], 0);
	em_metrics_event(EM_EV_COUNT); /* out of range: ignored */
	em_metrics_event(EM_EV_STOCK_OUT);
	assert_int_equal(m->slots[0].events[EM_EV_STOCK_OUT], 1);
	em_metrics_events_attach(NULL);
	munmap(m, sizeof *m);
}

static void test_transaction_events_count_on_commit(void **state)
{
	struct em_metrics *m = em_metrics_create();
	int session; /* any non-NULL pointer stands for a session */

	(void)state;
	assert_non_null(m);
	em_metrics_events_attach(&m->slots[3]);
	/* an attempt that is retried: dropped */
	em_metrics_event_in(&session, EM_EV_STOCK_OUT);
	assert_int_equal(m->slots[3].events[EM_EV_STOCK_OUT], 0);
	em_metrics_pending_drop();
	/* the attempt that commits: counted once */
	em_metrics_event_in(&session, EM_EV_STOCK_OUT);
	em_metrics_event_in(&session, EM_EV_PAYMENT_REFUNDED);
	em_metrics_pending_commit();
	assert_int_equal(m->slots[3].events[EM_EV_STOCK_OUT], 1);
	assert_int_equal(m->slots[3].events[EM_EV_PAYMENT_REFUNDED], 1);
	/* a commit with nothing pending adds nothing */
	em_metrics_pending_commit();
	assert_int_equal(m->slots[3].events[EM_EV_STOCK_OUT], 1);
	/* no session: at once */
	em_metrics_event_in(NULL, EM_EV_STOCK_OUT);
	assert_int_equal(m->slots[3].events[EM_EV_STOCK_OUT], 2);
	em_metrics_events_attach(NULL);
	munmap(m, sizeof *m);
}

static void test_render(void **state)
{
	struct em_metrics *m = em_metrics_create();
	bson_string_t *pool = bson_string_new(NULL), *worker = bson_string_new(NULL);

	(void)state;
	assert_non_null(m);
	m->slots[0].events[EM_EV_DB_OTHER] = 2;
	m->slots[5].events[EM_EV_DB_OTHER] = 3;
	m->slots[5].events[EM_EV_PAYMENT_PAID] = 1;
	m->slots[0].events[EM_EV_MAIL_SENT] = 4;
	em_metrics_events_attach(&m->slots[0]);
	em_metrics_job_latency(50);      /* 0.05 s: the first bucket */
	em_metrics_job_latency(2000);    /* 2 s: le 5 */
	em_metrics_job_latency(7200000); /* 2 h: +Inf only */
	em_metrics_events_attach(NULL);
	em_metrics_events_render(m->slots, EM_METRICS_SLOTS, false, pool);
	em_metrics_events_render(m->slots, EM_METRICS_SLOTS, true, worker);
	assert_true(sample(pool->str, "emporium_db_errors_total{kind=\"other\"}") == 5);
	assert_true(sample(pool->str, "emporium_db_errors_total{kind=\"unavailable\"}") == 0);
	assert_true(sample(pool->str, "emporium_payments_total{outcome=\"paid\"}") == 1);
	assert_true(sample(pool->str, "emporium_stock_outs_total") == 0);
	assert_int_equal(count_of(pool->str, "# TYPE emporium_db_errors_total counter\n"), 1);
	assert_int_equal(count_of(pool->str, "# HELP emporium_db_errors_total "), 1);
	assert_int_equal(count_of(pool->str, "# TYPE emporium_payments_total counter\n"), 1);
	/* the pool runs no jobs and sends no mail */
	assert_null(strstr(pool->str, "emporium_mails_total"));
	assert_null(strstr(pool->str, "emporium_job"));
	assert_true(sample(worker->str, "emporium_mails_total{result=\"sent\"}") == 4);
	assert_int_equal(count_of(worker->str, "# TYPE emporium_job_latency_seconds histogram\n"), 1);
	assert_true(sample(worker->str, "emporium_job_latency_seconds_bucket{le=\"0.1\"}") == 1);
	assert_true(sample(worker->str, "emporium_job_latency_seconds_bucket{le=\"1\"}") == 1);
	assert_true(sample(worker->str, "emporium_job_latency_seconds_bucket{le=\"5\"}") == 2);
	assert_true(sample(worker->str, "emporium_job_latency_seconds_bucket{le=\"3600\"}") == 2);
	assert_true(sample(worker->str, "emporium_job_latency_seconds_bucket{le=\"+Inf\"}") == 3);
	assert_true(sample(worker->str, "emporium_job_latency_seconds_count") == 3);
	assert_true(sample(worker->str, "emporium_job_latency_seconds_sum") == 7202.05);
	bson_string_free(pool, true);
	bson_string_free(worker, true);
	munmap(m, sizeof *m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_area_counts_nothing),
		cmocka_unit_test(test_transaction_events_count_on_commit),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests_name("metrics-events", tests, NULL, NULL);
}
