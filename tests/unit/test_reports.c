/*
 * Unit tests for the reports module's pure parts: ranges read in a time
 * zone, bucket edges across daylight-saving changes, ISO weeks and months,
 * the change in percent, int64 overflow of figures, and CSV cells (RFC 4180
 * quoting, formula injection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/time.h"
#include "reports/reports.h"

/* 2026-12-01T08:00:00Z */
#define NOW INT64_C(1796112000000)

static const char *iso(int64_t ms)
{
	static char buf[4][EM_TIME_RFC3339_SIZE];
	static int slot;
	char *b = buf[slot++ % 4];

	em_time_rfc3339(ms, b, EM_TIME_RFC3339_SIZE);
	return b;
}

static void test_range_dates_in_zone(void **state)
{
	struct reports_range r;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_true(reports_range_parse("2019-03-01", "2019-03-04", "Asia/Dhaka", "day", "UTC", NOW, &r, &err));
	assert_string_equal(iso(r.from_ms), "2019-02-28T18:00:00.000Z");
	assert_string_equal(iso(r.to_ms), "2019-03-03T18:00:00.000Z");
	assert_true(reports_range_parse("2019-03-01T00:00:00+06:00", "2019-03-01T12:30:15.5Z", NULL, NULL,
					"Asia/Dhaka", NOW, &r, &err));
	assert_string_equal(iso(r.from_ms), "2019-02-28T18:00:00.000Z");
	assert_string_equal(iso(r.to_ms), "2019-03-01T12:30:15.500Z");
	assert_string_equal(r.tz, "Asia/Dhaka");
	/* defaults: 30 local days to the next midnight */
	assert_true(reports_range_parse(NULL, NULL, "Asia/Dhaka", NULL, "UTC", NOW, &r, &err));
	assert_string_equal(iso(r.to_ms), "2026-12-01T18:00:00.000Z");
	assert_string_equal(iso(r.from_ms), "2026-11-01T18:00:00.000Z");
}

static void expect_bad(const char *from, const char *to, const char *tz, const char *iv,
		       const char *field)
{
	struct reports_range r;
	struct em_error err = EM_ERROR_INIT;

	assert_false(reports_range_parse(from, to, tz, iv, "UTC", NOW, &r, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_string_equal(err.field, field);
}

static void test_range_refused(void **state)
{
	(void)state;
	expect_bad("2019-03-04", "2019-03-01", NULL, NULL, "from");
	expect_bad("2019-03-01", "2019-03-01", NULL, NULL, "from");
	expect_bad("2019-01-01", "2020-01-03", NULL, "day", "to");
	expect_bad("2019-02-29", NULL, NULL, NULL, "from");
	expect_bad("2019-3-01", NULL, NULL, NULL, "from");
	expect_bad("2019-03-01T10:00:00", NULL, NULL, NULL, "from");
	expect_bad("2019-03-01T10:00:00+6", NULL, NULL, NULL, "from");
	expect_bad("1969-12-31", NULL, NULL, NULL, "from");
	expect_bad(NULL, "2019-03-01T24:00:00Z", NULL, NULL, "to");
	expect_bad(NULL, NULL, "Mars/Olympus", NULL, "tz");
	expect_bad(NULL, NULL, "../zoneinfo/UTC", NULL, "tz");
	expect_bad(NULL, NULL, "Asia", NULL, "tz");
	expect_bad(NULL, NULL, "right/UTC", NULL, "tz");
	expect_bad(NULL, NULL, NULL, "quarter", "interval");
}

static void test_range_lengths(void **state)
{
	struct reports_range r;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	/* a leap year of days is 366 days: allowed (and a DST hour more) */
	assert_true(reports_range_parse("2024-01-01", "2025-01-01", "Europe/Berlin", "day", "UTC", NOW, &r, &err));
	assert_true(reports_range_parse("2021-01-01", "2025-12-31", NULL, "month", "UTC", NOW, &r, &err));
	expect_bad("2019-01-01", "2025-01-10", NULL, "week", "to");
}

static void test_buckets_dst(void **state)
{
	struct reports_range r;
	struct em_error err = EM_ERROR_INIT;
	int64_t edges[REPORTS_BUCKETS_MAX];
	size_t n;

	(void)state;
	/* Berlin, 28-30 March 2026: the 29th has 23 hours */
	assert_true(reports_range_parse("2026-03-28", "2026-03-31", "Europe/Berlin", "day", "UTC", NOW, &r, &err));
	assert_true(reports_range_buckets(&r, edges, &n, &err));
	assert_int_equal(n, 3);
	assert_string_equal(iso(edges[0]), "2026-03-27T23:00:00.000Z");
	assert_string_equal(iso(edges[1]), "2026-03-28T23:00:00.000Z");
	assert_string_equal(iso(edges[2]), "2026-03-29T22:00:00.000Z");
	/* New York in November: the 1st has 25 hours */
	assert_true(reports_range_parse("2026-11-01", "2026-11-03", "America/New_York", "day", "UTC", NOW, &r, &err));
	assert_true(reports_range_buckets(&r, edges, &n, &err));
	assert_int_equal(n, 2);
	assert_int_equal(edges[1] - edges[0], INT64_C(25) * 3600000);
}

static void test_buckets_weeks_months(void **state)
{
	struct reports_range r;
	struct em_error err = EM_ERROR_INIT;
	int64_t edges[REPORTS_BUCKETS_MAX];
	size_t n;

	(void)state;
	/* from a Wednesday: the first bucket is that week's Monday */
	assert_true(reports_range_parse("2026-12-02", "2026-12-15", "Asia/Dhaka", "week", "UTC", NOW, &r, &err));
	assert_true(reports_range_buckets(&r, edges, &n, &err));
	assert_int_equal(n, 3);
	assert_string_equal(iso(edges[0]), "2026-11-29T18:00:00.000Z");
	assert_string_equal(iso(edges[2]), "2026-12-13T18:00:00.000Z");
	/* months over a year's end and a DST change */
	assert_true(reports_range_parse("2026-10-15", "2027-04-01", "Europe/Berlin", "month", "UTC", NOW, &r, &err));
	assert_true(reports_range_buckets(&r, edges, &n, &err));
	assert_int_equal(n, 6);
	assert_string_equal(iso(edges[0]), "2026-09-30T22:00:00.000Z");
	assert_string_equal(iso(edges[1]), "2026-10-31T23:00:00.000Z");
	assert_string_equal(iso(edges[3]), "2026-12-31T23:00:00.000Z");
	assert_string_equal(iso(edges[5]), "2027-02-28T23:00:00.000Z");
	assert_int_equal(reports_bucket_find(edges, n, edges[3]), 3);
	assert_int_equal(reports_bucket_find(edges, n, edges[3] + 1), -1);
}

static void test_figures(void **state)
{
	struct reports_figures a = { 0 }, b = { 0 };
	struct em_error err = EM_ERROR_INIT;
	double pct;

	(void)state;
	a.gross = 17000; a.paid = 16850; a.refunds = 2000; a.orders = 3;
	assert_true(reports_figures_finish(&a, &err));
	assert_int_equal(a.net, 14850);
	assert_int_equal(a.aov, 5616);
	b.paid = INT64_MAX;
	assert_false(reports_figures_add(&a, &b, &err));
	assert_int_equal(err.kind, EM_ERR_INTERNAL);
	assert_true(reports_change_pct(14850, 2000, &pct));
	assert_true(pct > 642.49 && pct < 642.51);
	assert_true(reports_change_pct(-300, 200, &pct));
	assert_true(pct > -250.01 && pct < -249.99);
	assert_true(reports_change_pct(1, 3, &pct)); /* -66.666.. */
	assert_true(pct > -66.71 && pct < -66.69);
	assert_false(reports_change_pct(5, 0, &pct));
}

static void test_csv(void **state)
{
	struct reports_csv c;
	const char *text;
	size_t len;

	(void)state;
	reports_csv_init(&c);
	reports_csv_cell(&c, "plain");
	reports_csv_cell(&c, "a,b");
	reports_csv_cell(&c, "say \"hi\"");
	reports_csv_cell(&c, "two\nlines");
	reports_csv_row_end(&c);
	reports_csv_cell(&c, "=1+1");
	reports_csv_cell(&c, "+1");
	reports_csv_cell(&c, "@SUM(A1)");
	reports_csv_cell(&c, "\tx");
	reports_csv_cell(&c, "\rx");
	reports_csv_int(&c, -5);
	reports_csv_cell(&c, "=HYPERLINK(\"u\",\"t\")");
	reports_csv_cell(&c, "");
	reports_csv_pct(&c, false, 0);
	reports_csv_pct(&c, true, 12.25);
	reports_csv_row_end(&c);
	text = reports_csv_text(&c, &len);
	assert_string_equal(text,
			    "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
			    "'=1+1,'+1,'@SUM(A1),'\tx,\"'\rx\",'-5,\"'=HYPERLINK(\"\"u\"\",\"\"t\"\")\",,,12.2\r\n");
	assert_int_equal(len, strlen(text));
	reports_csv_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_dates_in_zone),
		cmocka_unit_test(test_range_refused),
		cmocka_unit_test(test_range_lengths),
		cmocka_unit_test(test_buckets_dst),
		cmocka_unit_test(test_buckets_weeks_months),
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_csv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
