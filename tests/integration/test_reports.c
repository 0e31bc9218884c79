/*
 * Integration tests for the reports and the dashboard (src/reports)
 * through the real stack, against a fixed data set inserted into the
 * database (orders, payments and refunds need past timestamps no route
 * sets), with every expected figure worked out by hand below:
 *
 * Shop zone Asia/Dhaka (UTC+6, no DST). Range from=2019-03-01 to=2019-03-04
 * (local days 1, 2, 3 March; to exclusive), buckets starting
 * 2019-02-28T18:00Z, 2019-03-01T18:00Z, 2019-03-02T18:00Z. Previous period:
 * 26-28 February.
 *
 *   O1 U1 paid 2019-03-01T04:00Z (1 Mar): line P1 2 x 5000 = 10000, discount
 *      1000 (coupon SAVE10), shipping 500, tax 0, total 9500
 *   O2 U2 paid (cash) 2019-03-01T18:30Z = 2 Mar 00:30 in Dhaka (the zone
 *      edge: 1 March in UTC): line P2 3 x 1000 = 3000, tax 150 (exclusive),
 *      total 3150
 *   O3 U1 paid 2019-02-28T17:59:59Z = 28 Feb 23:59:59 local (previous
 *      period): line P1b 1 x 2000, total 2000
 *   O4 U1 paid 2019-03-03T06:00Z (3 Mar): line P2 4 x 1000 = 4000,
 *      shipping 200, total 4200
 *   O5 U3 paid "late" on 2 Mar (its order was cancelled): no sale; its
 *      refund R4 is no sales refund either
 *   O6 U2 pending cash order placed 2 Mar: no sale
 *   R1 1500 of O1, refunded 2019-03-02T20:00Z (3 Mar local: a later bucket
 *      than its sale); R2 500 of O3 (a previous-period sale) refunded on
 *      1 Mar; R3 100 of O2 failed (never counts); R5 300 of O4 on 10 Mar.
 *
 *   bucket  gross disc ship tax refunds  net  orders units  aov
 *   1 Mar   10000 1000  500   0    500  9000     1     2  9500
 *   2 Mar    3000    0    0 150      0  3150     1     3  3150
 *   3 Mar    4000    0  200   0   1500  2700     1     4  4200
 *   total   17000 1000  700 150   2000 14850     3     9  5616 (16850/3)
 *   prev     2000    0    0   0      0  2000     1     1  2000
 *   change%  750.0 null null null null 642.5 200.0 800.0 180.8
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
#include <time.h>
#include <unistd.h>

#include "harness.h"

static char admin_tok[2048], admin_auth[2200];
static char staff_tok[2048], staff_auth[2200];
static char cust_tok[2048], cust_auth[2200];
static char tag[16];       /* 8 hex digits: this run's ids */
static unsigned run_no;    /* 6 digits: this run's order numbers */
static char now_order[25]; /* the order paid a minute ago (dashboard) */
static char now_number[32];

/* The n-th ObjectId of this run: the tag, then n in hex. */
static const char *oid(int n)
{
	static char buf[16][25];
	static int slot;
	char *b = buf[slot++ % 16];

	snprintf(b, 25, "%.8s%016x", tag, (unsigned)n);
	return b;
}

static struct h_resp as(const char *auth, const char *path, const char *accept)
{
	const char *h[] = { auth, accept ? accept : "Accept: application/json", NULL };

	return h_request("GET", path, NULL, 0, h);
}

static struct h_resp admin_get(const char *path)
{
	return as(admin_auth, path, NULL);
}

/* o's member at a dotted path ("totals.gross", "buckets.1.net"). */
static json_object *jpath(json_object *o, const char *path)
{
	char buf[256], *save = NULL, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && o; part = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(part));
		else if (!json_object_object_get_ex(o, part, &o))
			o = NULL;
	}
	return o;
}

static int64_t jint(json_object *o, const char *path)
{
	json_object *v = jpath(o, path);

	if (!v || !json_object_is_type(v, json_type_int)) {
		fail_msg("%s is not an integer in %s", path, json_object_to_json_string(o));
	}
	return json_object_get_int64(v);
}

static const char *jstr(json_object *o, const char *path)
{
	json_object *v = jpath(o, path);

	if (!v || !json_object_is_type(v, json_type_string))
		fail_msg("%s is not a string in %s", path, json_object_to_json_string(o));
	return json_object_get_string(v);
}

/* The percentage at path as text ("642.5"), or "null". */
static const char *jpct(json_object *o, const char *path)
{
	static char buf[32];
	json_object *v = jpath(o, path);

	if (!v)
		return "null";
	snprintf(buf, sizeof(buf), "%.1f", json_object_get_double(v));
	return buf;
}

static void insert(const char *coll, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	h_db_insert_json(coll, buf);
}

#define L(x) "{\"$numberLong\": \"" #x "\"}"
#define D(s) "{\"$date\": \"" s "\"}"

/* An order: id n, user u, number, status, method, created, lines (JSON),
 * subtotal, discount, shipping, tax, total, coupon (JSON or null). */
static void order(int n, int u, const char *status, const char *method, const char *pay_status,
		  const char *created, const char *lines, long sub, long disc, long ship, long tax,
		  long total, const char *coupon)
{
	insert("orders",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"number\": \"EM-2019-%06d%06u\","
	       " \"user_id\": {\"$oid\": \"%s\"}, \"email\": \"rt-%s-%d@example.test\","
	       " \"status\": \"%s\", \"payment_method\": \"%s\", \"payment_status\": \"%s\","
	       " \"currency\": \"BDT\", \"lines\": %s,"
	       " \"subtotal\": {\"$numberLong\": \"%ld\"}, \"discount\": {\"$numberLong\": \"%ld\"},"
	       " \"shipping\": {\"$numberLong\": \"%ld\"}, \"tax\": {\"$numberLong\": \"%ld\"},"
	       " \"total\": {\"$numberLong\": \"%ld\"}, \"coupon\": %s,"
	       " \"events\": [{\"from\": null, \"to\": \"pending\", \"at\": {\"$date\": \"%s\"}}],"
	       " \"version\": " L(1) ", \"created_at\": {\"$date\": \"%s\"},"
	       " \"updated_at\": {\"$date\": \"%s\"}}",
	       oid(n), tag, n, run_no, oid(u), tag, u, status, method, pay_status, lines, sub, disc,
	       ship, tax, total, coupon, created, created, created);
}

static void payment(int n, int order_n, const char *method, long amount, const char *applied,
		    const char *at)
{
	insert("payments",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"order_id\": {\"$oid\": \"%s\"},"
	       " \"tran_id\": \"rt-%s-%d\", \"val_id\": \"rt-%s-%d\", \"method\": \"%s\","
	       " \"amount\": {\"$numberLong\": \"%ld\"}, \"currency\": \"BDT\","
	       " \"refund_reserved\": " L(0) ", \"refunded\": " L(0) ", \"applied\": \"%s\","
	       " \"created_at\": {\"$date\": \"%s\"}}",
	       oid(n), tag, oid(order_n), tag, n, tag, n, method, amount, applied, at);
}

static void refund(int n, int order_n, int pay_n, long amount, const char *status,
		   const char *method, const char *at)
{
	insert("refunds",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"order_id\": {\"$oid\": \"%s\"},"
	       " \"payment_id\": {\"$oid\": \"%s\"}, \"amount\": {\"$numberLong\": \"%ld\"},"
	       " \"currency\": \"BDT\", \"reason\": \"test\", \"status\": \"%s\", \"method\": \"%s\","
	       " \"created_at\": {\"$date\": \"%s\"}, \"updated_at\": {\"$date\": \"%s\"}}",
	       oid(n), tag, oid(order_n), oid(pay_n), amount, status, method, at, at);
}

/* P1 "Shirt, "blue"" in category K1 "-Shirts"; P2 "=SUM(A1:A2)" in K2 "Mugs". */
#define P1 1001
#define P2 1002
#define P3 1003
#define K1 1101
#define K2 1102
#define U1 2001
#define U2 2002
#define U3 2003

static char line_p1[512], line_p1b[512], line_p2_3[512], line_p2_4[512];

static void lines_init(void)
{
	snprintf(line_p1, sizeof(line_p1),
		 "[{\"sku\": \"RT-A-%s\", \"product_id\": {\"$oid\": \"%s\"},"
		 " \"title\": \"Shirt, \\\"blue\\\"\", \"quantity\": " L(2) ", \"unit_price\": " L(5000)
		 ", \"line_total\": " L(10000) ", \"discount\": " L(1000) ", \"tax\": " L(0) "}]",
		 tag, oid(P1));
	snprintf(line_p1b, sizeof(line_p1b),
		 "[{\"sku\": \"RT-A2-%s\", \"product_id\": {\"$oid\": \"%s\"},"
		 " \"title\": \"Shirt, \\\"blue\\\"\", \"quantity\": " L(1) ", \"unit_price\": " L(2000)
		 ", \"line_total\": " L(2000) ", \"discount\": " L(0) ", \"tax\": " L(0) "}]",
		 tag, oid(P1));
	snprintf(line_p2_3, sizeof(line_p2_3),
		 "[{\"sku\": \"RT-B-%s\", \"product_id\": {\"$oid\": \"%s\"},"
		 " \"title\": \"=SUM(A1:A2)\", \"quantity\": " L(3) ", \"unit_price\": " L(1000)
		 ", \"line_total\": " L(3000) ", \"discount\": " L(0) ", \"tax\": " L(150) "}]",
		 tag, oid(P2));
	snprintf(line_p2_4, sizeof(line_p2_4),
		 "[{\"sku\": \"RT-B-%s\", \"product_id\": {\"$oid\": \"%s\"},"
		 " \"title\": \"=SUM(A1:A2)\", \"quantity\": " L(4) ", \"unit_price\": " L(1000)
		 ", \"line_total\": " L(4000) ", \"discount\": " L(0) ", \"tax\": " L(0) "}]",
		 tag, oid(P2));
}

static void seed(void)
{
	char coupon[128], now_s[32], before_s[32], hex[25];
	time_t now = time(NULL);
	struct tm tm;

	lines_init();
	insert("categories",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"slug\": \"rt-shirts-%s\","
	       " \"name\": \"-Shirts\", \"parent_id\": null, \"position\": 1}", oid(K1), tag, tag);
	insert("categories",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"slug\": \"rt-mugs-%s\","
	       " \"name\": \"Mugs\", \"parent_id\": null, \"position\": 2}", oid(K2), tag, tag);
	insert("products",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"title\": \"RT shirt %s\","
	       " \"slug\": \"rt-shirt-%s\", \"status\": \"active\", \"category_id\": {\"$oid\": \"%s\"},"
	       " \"deleted_at\": null, \"version\": " L(1) ", \"variants\": ["
	       "{\"sku\": \"RT-A-%s\", \"options\": {\"size\": \"M\"}, \"price\": " L(5000) ","
	       " \"stock\": " L(0) ", \"low_stock_threshold\": " L(5) ", \"low_stock\": true},"
	       "{\"sku\": \"RT-A2-%s\", \"options\": {\"size\": \"L\"}, \"price\": " L(2000) ","
	       " \"stock\": " L(3) ", \"low_stock_threshold\": " L(5) ", \"low_stock\": true}]}",
	       oid(P1), tag, tag, tag, oid(K1), tag, tag);
	insert("products",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"title\": \"RT mug %s\","
	       " \"slug\": \"rt-mug-%s\", \"status\": \"active\", \"category_id\": {\"$oid\": \"%s\"},"
	       " \"deleted_at\": null, \"version\": " L(1) ", \"variants\": ["
	       "{\"sku\": \"RT-B-%s\", \"options\": {}, \"price\": " L(1000) ","
	       " \"stock\": " L(50) ", \"low_stock_threshold\": " L(5) ", \"low_stock\": false}]}",
	       oid(P2), tag, tag, tag, oid(K2), tag);
	/* deleted: never listed, though out of stock */
	insert("products",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"title\": \"RT gone %s\","
	       " \"slug\": \"rt-gone-%s\", \"status\": \"archived\", \"category_id\": null,"
	       " \"deleted_at\": " D("2019-01-01T00:00:00Z") ", \"version\": " L(1) ", \"variants\": ["
	       "{\"sku\": \"RT-GONE-%s\", \"options\": {}, \"price\": " L(1000) ","
	       " \"stock\": " L(0) ", \"low_stock_threshold\": " L(5) ", \"low_stock\": true}]}",
	       oid(P3), tag, tag, tag, tag);

	insert("users", "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"email\": \"rt-u1-%s@example.test\","
	       " \"name\": \"Una, \\\"first\\\"\", \"role\": \"customer\", \"created_at\": " D("2019-02-10T00:00:00Z") "}",
	       oid(U1), tag, tag);
	insert("users", "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"email\": \"rt-u2-%s@example.test\","
	       " \"name\": \"@Two\", \"role\": \"customer\", \"created_at\": " D("2019-03-01T19:00:00Z") "}",
	       oid(U2), tag, tag);
	insert("users", "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"email\": \"rt-u3-%s@example.test\","
	       " \"name\": \"Three\", \"role\": \"customer\", \"created_at\": " D("2019-03-03T01:00:00Z") "}",
	       oid(U3), tag, tag);

	snprintf(coupon, sizeof(coupon), "{\"id\": {\"$oid\": \"%s\"}, \"code\": \"SAVE10\"}", oid(3001));
	order(1, U1, "processing", "sslcommerz", "paid", "2019-03-01T03:50:00Z", line_p1, 10000, 1000,
	      500, 0, 9500, coupon);
	order(2, U2, "delivered", "cod", "paid", "2019-03-01T18:20:00Z", line_p2_3, 3000, 0, 0, 150,
	      3150, "null");
	order(3, U1, "delivered", "sslcommerz", "paid", "2019-02-28T17:00:00Z", line_p1b, 2000, 0, 0, 0,
	      2000, "null");
	order(4, U1, "shipped", "sslcommerz", "paid", "2019-03-03T05:50:00Z", line_p2_4, 4000, 0, 200,
	      0, 4200, "null");
	order(5, U3, "cancelled", "sslcommerz", "refunded", "2019-03-01T20:00:00Z", line_p2_3, 99999,
	      0, 0, 0, 99999, "null");
	order(6, U2, "pending", "cod", "unpaid", "2019-03-01T21:00:00Z", line_p2_3, 3000, 0, 0, 0,
	      3000, "null");
	payment(101, 1, "sslcommerz", 9500, "order", "2019-03-01T04:00:00Z");
	payment(102, 2, "cod", 3150, "order", "2019-03-01T18:30:00Z");
	payment(103, 3, "sslcommerz", 2000, "order", "2019-02-28T17:59:59Z");
	payment(104, 4, "sslcommerz", 4200, "order", "2019-03-03T06:00:00Z");
	payment(105, 5, "sslcommerz", 99999, "late", "2019-03-01T22:00:00Z");
	refund(201, 1, 101, 1500, "refunded", "gateway", "2019-03-02T20:00:00Z");
	refund(202, 3, 103, 500, "refunded", "manual", "2019-03-01T10:00:00Z");
	refund(203, 2, 102, 100, "failed", "gateway", "2019-03-02T01:00:00Z");
	refund(204, 5, 105, 99999, "refunded", "gateway", "2019-03-01T23:00:00Z");
	refund(205, 4, 104, 300, "refunded", "gateway", "2019-03-10T06:00:00Z");
	insert("order_returns",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"order_id\": {\"$oid\": \"%s\"},"
	       " \"user_id\": {\"$oid\": \"%s\"}, \"status\": \"received\", \"items\": [{\"sku\": \"RT-B-%s\","
	       " \"quantity\": " L(1) "}], \"reason\": \"broken\", \"refund_amount\": " L(700) ","
	       " \"version\": " L(3) ", \"created_at\": " D("2019-03-02T05:00:00Z") "}",
	       oid(301), tag, oid(2), oid(U2), tag);
	insert("order_returns",
	       "{\"_id\": {\"$oid\": \"%s\"}, \"rt\": \"%s\", \"order_id\": {\"$oid\": \"%s\"},"
	       " \"user_id\": {\"$oid\": \"%s\"}, \"status\": \"requested\", \"items\": [{\"sku\": \"RT-B-%s\","
	       " \"quantity\": " L(1) "}], \"reason\": \"size\", \"refund_amount\": null,"
	       " \"version\": " L(1) ", \"created_at\": " D("2019-03-03T05:00:00Z") "}",
	       oid(302), tag, oid(4), oid(U1), tag);

	/* paid a minute ago, for the dashboard's today */
	gmtime_r(&(time_t){ now - 60 }, &tm);
	strftime(now_s, sizeof(now_s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&(time_t){ now - 120 }, &tm);
	strftime(before_s, sizeof(before_s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(hex, sizeof(hex), "%s", oid(7));
	snprintf(now_order, sizeof(now_order), "%s", hex);
	snprintf(now_number, sizeof(now_number), "EM-2019-%06d%06u", 7, run_no);
	order(7, U2, "processing", "sslcommerz", "paid", before_s, line_p2_3, 3000, 0, 0, 0, 3000, "null");
	{
		char upd[512], ev1[32], ev2[32];

		/* its events are the shop's newest: ten minutes ahead, so the
		 * sweeps' and other suites' events of the shared database (the
		 * expiry sweep cancels their unpaid orders meanwhile) cannot push
		 * them out of the dashboard's last 10 */
		gmtime_r(&(time_t){ now + 540 }, &tm);
		strftime(ev1, sizeof(ev1), "%Y-%m-%dT%H:%M:%SZ", &tm);
		gmtime_r(&(time_t){ now + 600 }, &tm);
		strftime(ev2, sizeof(ev2), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(upd, sizeof(upd),
			 "{\"$set\": {\"events\": [{\"from\": null, \"to\": \"pending\", \"at\": {\"$date\": \"%s\"}},"
			 " {\"from\": \"pending\", \"to\": \"processing\", \"at\": {\"$date\": \"%s\"}}]}}",
			 ev1, ev2);
		char filt[128];

		snprintf(filt, sizeof(filt), "{\"_id\": {\"$oid\": \"%s\"}}", now_order);
		h_db_update("orders", filt, upd);
	}
	payment(107, 7, "sslcommerz", 3000, "order", now_s);

	/* June 2017: sums no int64 holds. 10 June: 2^62 twice in one bucket (the
	 * database's $sum overflows into a double); 20 and 21 June: 2^62 + 2^61
	 * each, fine alone, too much together (the buckets' sum in C). */
	order(11, U3, "delivered", "sslcommerz", "paid", "2017-06-10T06:00:00Z", line_p2_3, 3000, 0, 0, 0,
	      4611686018427387904L, "null");
	order(12, U3, "delivered", "sslcommerz", "paid", "2017-06-10T07:00:00Z", line_p2_3, 3000, 0, 0, 0,
	      4611686018427387904L, "null");
	order(13, U3, "delivered", "sslcommerz", "paid", "2017-06-20T06:00:00Z", line_p2_3, 3000, 0, 0, 0,
	      6917529027641081856L, "null");
	order(14, U3, "delivered", "sslcommerz", "paid", "2017-06-21T06:00:00Z", line_p2_3, 3000, 0, 0, 0,
	      6917529027641081856L, "null");
	payment(111, 11, "sslcommerz", 1, "order", "2017-06-10T06:05:00Z");
	payment(112, 12, "sslcommerz", 1, "order", "2017-06-10T07:05:00Z");
	payment(113, 13, "sslcommerz", 1, "order", "2017-06-20T06:05:00Z");
	payment(114, 14, "sslcommerz", 1, "order", "2017-06-21T06:05:00Z");
}

static int group_setup(void **state)
{
	char id[32];

	(void)state;
	h_user_token("admin", admin_tok, sizeof(admin_tok), id, sizeof(id));
	h_bearer(admin_tok, admin_auth, sizeof(admin_auth));
	h_user_token("staff", staff_tok, sizeof(staff_tok), id, sizeof(id));
	h_bearer(staff_tok, staff_auth, sizeof(staff_auth));
	h_user_token("customer", cust_tok, sizeof(cust_tok), id, sizeof(id));
	h_bearer(cust_tok, cust_auth, sizeof(cust_auth));
	seed();
	return 0;
}

#define RANGE "from=2019-03-01&to=2019-03-04&tz=Asia/Dhaka"

static void expect_figures(json_object *o, const char *at, long gross, long disc, long ship,
			   long tax, long refunds, long net, long orders, long units, long aov)
{
	char p[96];

#define F(name, want) \
	do { snprintf(p, sizeof(p), "%s.%s", at, name); \
	     if (jint(o, p) != (want)) fail_msg("%s: %lld, want %ld", p, (long long)jint(o, p), (long)(want)); } while (0)
	F("gross", gross);
	F("discounts", disc);
	F("shipping", ship);
	F("tax", tax);
	F("refunds", refunds);
	F("net", net);
	F("orders", orders);
	F("units", units);
	F("aov", aov);
#undef F
}

static void test_sales_daily_dhaka(void **state)
{
	struct h_resp r;
	json_object *o;

	(void)state;
	r = admin_get("/api/v1/admin/reports/sales?" RANGE "&interval=day");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_string_equal(jstr(o, "currency"), "BDT");
	assert_string_equal(jstr(o, "tz"), "Asia/Dhaka");
	assert_string_equal(jstr(o, "interval"), "day");
	assert_string_equal(jstr(o, "from"), "2019-02-28T18:00:00.000Z");
	assert_string_equal(jstr(o, "to"), "2019-03-03T18:00:00.000Z");
	assert_int_equal(json_object_array_length(jpath(o, "buckets")), 3);
	assert_string_equal(jstr(o, "buckets.0.start"), "2019-02-28T18:00:00.000Z");
	assert_string_equal(jstr(o, "buckets.0.label"), "2019-03-01");
	assert_string_equal(jstr(o, "buckets.1.start"), "2019-03-01T18:00:00.000Z");
	assert_string_equal(jstr(o, "buckets.2.label"), "2019-03-03");
	expect_figures(o, "buckets.0", 10000, 1000, 500, 0, 500, 9000, 1, 2, 9500);
	/* paid 18:30Z on 1 March: 2 March in Dhaka */
	expect_figures(o, "buckets.1", 3000, 0, 0, 150, 0, 3150, 1, 3, 3150);
	/* the refund of the 1 March sale, issued on 3 March, lowers 3 March */
	expect_figures(o, "buckets.2", 4000, 0, 200, 0, 1500, 2700, 1, 4, 4200);
	expect_figures(o, "totals", 17000, 1000, 700, 150, 2000, 14850, 3, 9, 5616);
	assert_string_equal(jstr(o, "previous.from"), "2019-02-25T18:00:00.000Z");
	assert_string_equal(jstr(o, "previous.to"), "2019-02-28T18:00:00.000Z");
	expect_figures(o, "previous.totals", 2000, 0, 0, 0, 0, 2000, 1, 1, 2000);
	assert_string_equal(jpct(o, "change_pct.gross"), "750.0");
	assert_string_equal(jpct(o, "change_pct.net"), "642.5");
	assert_string_equal(jpct(o, "change_pct.orders"), "200.0");
	assert_string_equal(jpct(o, "change_pct.units"), "800.0");
	assert_string_equal(jpct(o, "change_pct.aov"), "180.8");
	assert_string_equal(jpct(o, "change_pct.refunds"), "null");
	assert_string_equal(jpct(o, "change_pct.discounts"), "null");
	json_object_put(o);
	h_resp_free(&r);
}

/* The same dates read in UTC: the 18:30Z payment is on 1 March, the
 * 23:59:59 Dhaka one (17:59:59Z 28 Feb) still before the range. */
static void test_sales_utc_and_weeks(void **state)
{
	struct h_resp r;
	json_object *o;

	(void)state;
	r = admin_get("/api/v1/admin/reports/sales?from=2019-03-01&to=2019-03-04&tz=UTC");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_string_equal(jstr(o, "buckets.0.start"), "2019-03-01T00:00:00.000Z");
	/* O1 and O2; R2 (10:00Z) */
	expect_figures(o, "buckets.0", 13000, 1000, 500, 150, 500, 12150, 2, 5, 6325);
	expect_figures(o, "buckets.1", 0, 0, 0, 0, 1500, -1500, 0, 0, 0);
	expect_figures(o, "buckets.2", 4000, 0, 200, 0, 0, 4200, 1, 4, 4200);
	json_object_put(o);
	h_resp_free(&r);

	/* ISO weeks in Dhaka: 1-3 March 2019 (Fri-Sun) lie in the week of Monday 25 Feb */
	r = admin_get("/api/v1/admin/reports/sales?" RANGE "&interval=week");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(json_object_array_length(jpath(o, "buckets")), 1);
	assert_string_equal(jstr(o, "buckets.0.start"), "2019-02-24T18:00:00.000Z");
	assert_string_equal(jstr(o, "buckets.0.label"), "2019-02-25");
	/* the range starts 1 March: O3 (28 Feb) stays out of the bucket */
	expect_figures(o, "buckets.0", 17000, 1000, 700, 150, 2000, 14850, 3, 9, 5616);
	json_object_put(o);
	h_resp_free(&r);

	/* months: a refund alone in its month makes a negative net */
	r = admin_get("/api/v1/admin/reports/sales?from=2019-03-04&to=2019-05-01&tz=Asia/Dhaka&interval=month");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(json_object_array_length(jpath(o, "buckets")), 2);
	assert_string_equal(jstr(o, "buckets.0.start"), "2019-02-28T18:00:00.000Z");
	assert_string_equal(jstr(o, "buckets.1.start"), "2019-03-31T18:00:00.000Z");
	expect_figures(o, "buckets.0", 0, 0, 0, 0, 300, -300, 0, 0, 0);
	expect_figures(o, "totals", 0, 0, 0, 0, 300, -300, 0, 0, 0);
	json_object_put(o);
	h_resp_free(&r);
}

/* A figure no int64 holds is a 500, never a wrapped or rounded number. */
static void test_sales_overflow(void **state)
{
	struct h_resp r;
	json_object *o;

	(void)state;
	/* 21 June alone (its previous period is 20 June: each fits) */
	r = admin_get("/api/v1/admin/reports/sales?from=2017-06-21&to=2017-06-22&tz=UTC");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(jint(o, "totals.net"), INT64_C(6917529027641081856));
	json_object_put(o);
	h_resp_free(&r);
	r = admin_get("/api/v1/admin/reports/sales?from=2017-06-10&to=2017-06-11&tz=UTC");
	h_assert_problem(&r, 500);
	h_resp_free(&r);
	r = admin_get("/api/v1/admin/reports/sales?from=2017-06-20&to=2017-06-22&tz=UTC");
	h_assert_problem(&r, 500);
	h_resp_free(&r);
}

static void test_sales_csv(void **state)
{
	struct h_resp r;
	char buf[256];

	(void)state;
	r = admin_get("/api/v1/admin/reports/sales?" RANGE "&format=csv");
	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "content-type", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "text/csv"));
	assert_true(h_header(&r, "content-disposition", buf, sizeof(buf)));
	assert_string_equal(buf, "attachment; filename=\"sales-2019-03-01-2019-03-03.csv\"");
	assert_string_equal(r.body,
			    "start,label,gross,discounts,shipping,tax,refunds,net,orders,units,aov\r\n"
			    "2019-02-28T18:00:00.000Z,2019-03-01,10000,1000,500,0,500,9000,1,2,9500\r\n"
			    "2019-03-01T18:00:00.000Z,2019-03-02,3000,0,0,150,0,3150,1,3,3150\r\n"
			    "2019-03-02T18:00:00.000Z,2019-03-03,4000,0,200,0,1500,2700,1,4,4200\r\n"
			    "total,,17000,1000,700,150,2000,14850,3,9,5616\r\n");
	h_resp_free(&r);

	/* Accept: text/csv does the same; a negative figure is quoted out of formula reach */
	r = as(admin_auth, "/api/v1/admin/reports/sales?from=2019-03-10&to=2019-03-11&tz=Asia/Dhaka",
	       "Accept: text/csv");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body,
			    "start,label,gross,discounts,shipping,tax,refunds,net,orders,units,aov\r\n"
			    "2019-03-09T18:00:00.000Z,2019-03-10,0,0,0,0,300,'-300,0,0,0\r\n"
			    "total,,0,0,0,0,300,'-300,0,0,0\r\n");
	h_resp_free(&r);
}

static void test_products_categories_coupons(void **state)
{
	struct h_resp r;
	json_object *o;
	char want[512];

	(void)state;
	r = admin_get("/api/v1/admin/reports/products?" RANGE);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(json_object_array_length(jpath(o, "items")), 2);
	assert_string_equal(jstr(o, "items.0.product_id"), oid(P1));
	assert_string_equal(jstr(o, "items.0.title"), "Shirt, \"blue\"");
	assert_int_equal(jint(o, "items.0.units"), 2);
	assert_int_equal(jint(o, "items.0.gross"), 10000);
	assert_int_equal(jint(o, "items.0.discounts"), 1000);
	assert_int_equal(jint(o, "items.0.revenue"), 9000);
	assert_int_equal(jint(o, "items.0.orders"), 1);
	assert_string_equal(jstr(o, "items.1.product_id"), oid(P2));
	assert_int_equal(jint(o, "items.1.units"), 7);
	assert_int_equal(jint(o, "items.1.revenue"), 7000);
	assert_int_equal(jint(o, "items.1.orders"), 2);
	json_object_put(o);
	h_resp_free(&r);

	r = admin_get("/api/v1/admin/reports/products?" RANGE "&sort=units&limit=1");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(json_object_array_length(jpath(o, "items")), 1);
	assert_string_equal(jstr(o, "items.0.product_id"), oid(P2));
	json_object_put(o);
	h_resp_free(&r);

	/* CSV: the comma and quotes quoted, the formula defused */
	r = admin_get("/api/v1/admin/reports/products?" RANGE "&format=csv");
	assert_int_equal(r.status, 200);
	snprintf(want, sizeof(want),
		 "product_id,title,units,gross,discounts,revenue,orders\r\n"
		 "%s,\"Shirt, \"\"blue\"\"\",2,10000,1000,9000,1\r\n"
		 "%s,'=SUM(A1:A2),7,7000,0,7000,2\r\n", oid(P1), oid(P2));
	assert_string_equal(r.body, want);
	h_resp_free(&r);

	r = admin_get("/api/v1/admin/reports/categories?" RANGE);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(json_object_array_length(jpath(o, "items")), 2);
	assert_string_equal(jstr(o, "items.0.category_id"), oid(K1));
	assert_string_equal(jstr(o, "items.0.name"), "-Shirts");
	assert_int_equal(jint(o, "items.0.revenue"), 9000);
	assert_string_equal(jstr(o, "items.1.name"), "Mugs");
	assert_int_equal(jint(o, "items.1.units"), 7);
	assert_int_equal(jint(o, "items.1.orders"), 2);
	json_object_put(o);
	h_resp_free(&r);

	r = admin_get("/api/v1/admin/reports/categories?" RANGE "&format=csv");
	assert_int_equal(r.status, 200);
	snprintf(want, sizeof(want),
		 "category_id,name,units,gross,discounts,revenue,orders\r\n"
		 "%s,'-Shirts,2,10000,1000,9000,1\r\n"
		 "%s,Mugs,7,7000,0,7000,2\r\n", oid(K1), oid(K2));
	assert_string_equal(r.body, want);
	h_resp_free(&r);

	r = admin_get("/api/v1/admin/reports/coupons?" RANGE);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(jint(o, "orders"), 1);
	assert_int_equal(jint(o, "discount"), 1000);
	assert_int_equal(json_object_array_length(jpath(o, "items")), 1);
	assert_string_equal(jstr(o, "items.0.code"), "SAVE10");
	assert_string_equal(jstr(o, "items.0.coupon_id"), oid(3001));
	assert_int_equal(jint(o, "items.0.discount"), 1000);
	json_object_put(o);
	h_resp_free(&r);
}

static int64_t keyed(json_object *o, const char *list, const char *key, const char *field)
{
	json_object *arr = jpath(o, list);

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i), *k;

		if (json_object_object_get_ex(e, "key", &k) &&
		    strcmp(json_object_get_string(k), key) == 0)
			return jint(e, field);
	}
	fail_msg("no %s in %s", key, list);
	return -1;
}

static void test_orders_refunds(void **state)
{
	struct h_resp r;
	json_object *o;

	(void)state;
	/* placed in the range: O1, O2, O4, O5, O6 (O3 before it, O7 today) */
	r = as(staff_auth, "/api/v1/admin/reports/orders?" RANGE, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(jint(o, "orders"), 5);
	assert_int_equal(json_object_array_length(jpath(o, "by_status")), 7);
	assert_int_equal(keyed(o, "by_status", "pending", "orders"), 1);
	assert_int_equal(keyed(o, "by_status", "processing", "orders"), 1);
	assert_int_equal(keyed(o, "by_status", "shipped", "orders"), 1);
	assert_int_equal(keyed(o, "by_status", "delivered", "orders"), 1);
	assert_int_equal(keyed(o, "by_status", "cancelled", "orders"), 1);
	assert_int_equal(keyed(o, "by_status", "returned", "orders"), 0);
	assert_int_equal(keyed(o, "by_payment_method", "sslcommerz", "orders"), 3);
	assert_int_equal(keyed(o, "by_payment_method", "cod", "orders"), 2);
	json_object_put(o);
	h_resp_free(&r);

	/* issued in the range: R1, R2, R4 refunded, R3 failed (R5 on 10 March) */
	r = admin_get("/api/v1/admin/reports/refunds?" RANGE);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(jint(o, "refunds.count"), 3);
	assert_int_equal(jint(o, "refunds.amount"), 1500 + 500 + 99999);
	assert_int_equal(keyed(o, "refunds.by_status", "refunded", "count"), 3);
	assert_int_equal(keyed(o, "refunds.by_status", "failed", "count"), 1);
	assert_int_equal(keyed(o, "refunds.by_status", "failed", "amount"), 100);
	assert_int_equal(keyed(o, "refunds.by_method", "gateway", "amount"), 1500 + 99999);
	assert_int_equal(keyed(o, "refunds.by_method", "manual", "amount"), 500);
	assert_int_equal(jint(o, "returns.count"), 2);
	assert_int_equal(keyed(o, "returns.by_status", "received", "count"), 1);
	assert_int_equal(keyed(o, "returns.by_status", "requested", "count"), 1);
	assert_int_equal(jint(o, "returns.refund_amount"), 700);
	json_object_put(o);
	h_resp_free(&r);
}

static void test_customers(void **state)
{
	struct h_resp r;
	json_object *o;
	char want[512];

	(void)state;
	r = admin_get("/api/v1/admin/reports/customers?" RANGE);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	/* U2 signed up at 19:00Z on 1 March (2 March local), U3 on 3 March */
	assert_int_equal(jint(o, "signups.0.signups"), 0);
	assert_int_equal(jint(o, "signups.1.signups"), 1);
	assert_int_equal(jint(o, "signups.2.signups"), 1);
	assert_int_equal(jint(o, "signups_total"), 2);
	/* U1 (O1, O4; O3 before: returning, repeat), U2 (O2: new); U3's was late */
	assert_int_equal(jint(o, "buyers"), 2);
	assert_int_equal(jint(o, "new_buyers"), 1);
	assert_int_equal(jint(o, "returning_buyers"), 1);
	assert_int_equal(jint(o, "repeat_buyers"), 1);
	assert_string_equal(jpct(o, "repeat_rate_pct"), "50.0");
	assert_string_equal(jstr(o, "top_customers.0.user_id"), oid(U1));
	assert_int_equal(jint(o, "top_customers.0.orders"), 2);
	assert_int_equal(jint(o, "top_customers.0.spent"), 9500 + 4200);
	assert_string_equal(jstr(o, "top_customers.1.user_id"), oid(U2));
	assert_int_equal(jint(o, "top_customers.1.spent"), 3150);
	json_object_put(o);
	h_resp_free(&r);

	r = admin_get("/api/v1/admin/reports/customers?" RANGE "&format=csv");
	assert_int_equal(r.status, 200);
	snprintf(want, sizeof(want),
		 "user_id,email,name,orders,spent\r\n"
		 "%s,rt-u1-%s@example.test,\"Una, \"\"first\"\"\",2,13700\r\n"
		 "%s,rt-u2-%s@example.test,'@Two,1,3150\r\n", oid(U1), tag, oid(U2), tag);
	assert_string_equal(r.body, want);
	h_resp_free(&r);
}

/* The stock report lists this run's variants by state. */
static void test_stock(void **state)
{
	struct h_resp r;
	json_object *o, *items;
	char a[64], a2[64], b[64], gone[64], path[160];
	int seen_a = 0, seen_a2 = 0;

	(void)state;
	snprintf(a, sizeof(a), "RT-A-%s", tag);
	snprintf(a2, sizeof(a2), "RT-A2-%s", tag);
	snprintf(b, sizeof(b), "RT-B-%s", tag);
	snprintf(gone, sizeof(gone), "RT-GONE-%s", tag);
	/* the whole shop: counts only (other suites' products share the database
	 * and can outnumber a page) */
	r = as(staff_auth, "/api/v1/admin/reports/stock?limit=100", NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(jint(o, "out_of_stock") >= 1);
	assert_true(jint(o, "low_stock") >= 1);
	json_object_put(o);
	h_resp_free(&r);
	/* this suite's category: exactly its shirt's two variants */
	snprintf(path, sizeof path, "/api/v1/admin/reports/stock?limit=100&category=%s", oid(K1));
	r = as(staff_auth, path, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_int_equal(jint(o, "out_of_stock"), 1);
	assert_int_equal(jint(o, "low_stock"), 1);
	items = jpath(o, "items");
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *e = json_object_array_get_idx(items, i);
		const char *sku = jstr(e, "sku");

		if (strcmp(sku, a) == 0) {
			seen_a++;
			assert_string_equal(jstr(e, "state"), "out");
			assert_string_equal(jstr(e, "product_id"), oid(P1));
			assert_string_equal(jstr(e, "options.size"), "M");
		} else if (strcmp(sku, a2) == 0) {
			seen_a2++;
			assert_string_equal(jstr(e, "state"), "low");
			assert_int_equal(jint(e, "stock"), 3);
			assert_int_equal(jint(e, "low_stock_threshold"), 5);
		}
		assert_string_not_equal(sku, b);
		assert_string_not_equal(sku, gone);
		/* out of stock first */
		if (i > 0 && strcmp(jstr(e, "state"), "out") == 0)
			assert_string_equal(jstr(json_object_array_get_idx(items, i - 1), "state"), "out");
	}
	assert_int_equal(seen_a, 1);
	assert_int_equal(seen_a2, 1);
	json_object_put(o);
	h_resp_free(&r);

	r = as(staff_auth, "/api/v1/admin/reports/stock?format=csv", NULL);
	assert_int_equal(r.status, 200);
	assert_true(strncmp(r.body, "product_id,title,sku,stock,low_stock_threshold,state\r\n", 54) == 0);
	h_resp_free(&r);
}

static void test_validation(void **state)
{
	static const struct { const char *query; const char *field; } bad[] = {
		{ "from=2019-03-04&to=2019-03-01", "from" },
		{ "from=2019-03-01&to=2019-03-01", "from" },
		{ "from=2019-01-01&to=2020-01-03&interval=day", "to" },
		{ "from=2010-01-01&to=2019-01-01&interval=month", "to" },
		{ "from=2019-02-30&to=2019-03-04", "from" },
		{ "from=yesterday", "from" },
		{ "from=2019-03-01T00:00:00&to=2019-03-04", "from" },
		{ "to=2019-03-04T25:00:00Z", "to" },
		{ "tz=Mars/Olympus", "tz" },
		{ "tz=../../etc/passwd", "tz" },
		{ "tz=posix/Asia/Dhaka", "tz" },
		{ "tz=Asia", "tz" },
		{ "interval=hour", "interval" },
		{ "format=xml", "format" },
		{ "foo=1", "foo" },
		{ "from=2019-03-01&from=2019-03-02", "from" },
		{ "from[$gt]=1", "from[$gt]" },
	};
	struct h_resp r;
	char path[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "/api/v1/admin/reports/sales?%s", bad[i].query);
		r = admin_get(path);
		if (r.status != 400)
			fail_msg("%s: %ld %s", bad[i].query, r.status, r.body);
		h_assert_problem_field(&r, 400, bad[i].field);
		h_resp_free(&r);
	}
	/* a year of weeks is fine; 366 days of days too; RFC 3339 with an offset */
	r = admin_get("/api/v1/admin/reports/sales?from=2016-01-01&to=2017-06-01&interval=week&tz=Asia/Dhaka");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = admin_get("/api/v1/admin/reports/sales?from=2019-01-01T00:00:00%2B06:00&to=2020-01-02T00:00:00%2B06:00");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = admin_get("/api/v1/admin/reports/products?" RANGE "&limit=0");
	h_assert_problem_field(&r, 400, "limit");
	h_resp_free(&r);
	r = admin_get("/api/v1/admin/reports/products?" RANGE "&sort=price");
	h_assert_problem_field(&r, 400, "sort");
	h_resp_free(&r);
	r = admin_get("/api/v1/admin/reports/stock?from=2019-03-01");
	h_assert_problem_field(&r, 400, "from");
	h_resp_free(&r);
	r = admin_get("/api/v1/admin/dashboard?x=1");
	h_assert_problem_field(&r, 400, "x");
	h_resp_free(&r);
}

static void test_roles(void **state)
{
	static const char *const admin_only[] = { "sales", "products", "categories", "coupons",
						  "refunds", "customers" };
	static const char *const staff_ok[] = { "orders", "stock" };
	struct h_resp r;
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof(admin_only) / sizeof(admin_only[0]); i++) {
		snprintf(path, sizeof(path), "/api/v1/admin/reports/%s", admin_only[i]);
		r = as(staff_auth, path, NULL);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
		r = as(cust_auth, path, NULL);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
		r = h_get(path);
		h_assert_problem(&r, 401);
		h_resp_free(&r);
	}
	for (size_t i = 0; i < sizeof(staff_ok) / sizeof(staff_ok[0]); i++) {
		snprintf(path, sizeof(path), "/api/v1/admin/reports/%s", staff_ok[i]);
		r = as(staff_auth, path, NULL);
		assert_int_equal(r.status, 200);
		h_resp_free(&r);
		r = as(cust_auth, path, NULL);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
	r = as(cust_auth, "/api/v1/admin/dashboard", NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
}

static void test_dashboard_staff(void **state)
{
	struct h_resp r;
	json_object *o;

	(void)state;
	r = as(staff_auth, "/api/v1/admin/dashboard", NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_string_equal(jstr(o, "role"), "staff");
	/* exactly the work waiting: no revenue, no customers, no events */
	assert_int_equal(json_object_object_length(o), 5);
	assert_null(jpath(o, "sales"));
	assert_null(jpath(o, "events"));
	assert_int_equal(jint(o, "orders_to_confirm"),
			 h_db_count("orders", "{\"status\": \"pending\", \"payment_method\": \"cod\"}"));
	assert_int_equal(jint(o, "orders_to_ship"), h_db_count("orders", "{\"status\": \"processing\"}"));
	assert_int_equal(jint(o, "returns_waiting"),
			 h_db_count("order_returns", "{\"status\": {\"$in\": [\"requested\", \"approved\"]}}"));
	assert_true(jint(o, "low_stock") >= 2);
	json_object_put(o);
	h_resp_free(&r);
}

/* The dashboard's figures are the sales report's for the same ranges. */
static void test_dashboard_admin(void **state)
{
	struct h_resp r, s;
	json_object *o, *rep;
	char path[256], from[16], to[16];
	static const char *const periods[] = { "today", "7d", "30d" };

	(void)state;
	r = admin_get("/api/v1/admin/dashboard");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_string_equal(jstr(o, "role"), "admin");
	assert_true(jint(o, "sales.today.orders") >= 1);
	assert_true(jint(o, "sales.today.gross") >= 3000);
	for (size_t i = 0; i < 3; i++) {
		char key[64];

		snprintf(key, sizeof(key), "sales.%s.from", periods[i]);
		snprintf(from, sizeof(from), "%.10s", jstr(o, key));
		snprintf(key, sizeof(key), "sales.%s.to", periods[i]);
		snprintf(to, sizeof(to), "%.10s", jstr(o, key));
		snprintf(path, sizeof(path), "/api/v1/admin/reports/sales?from=%s&to=%s&tz=%s", from, to,
			 jstr(o, "tz"));
		s = admin_get(path);
		assert_int_equal(s.status, 200);
		rep = h_json(&s);
		snprintf(key, sizeof(key), "sales.%s.net", periods[i]);
		assert_int_equal(jint(o, key), jint(rep, "totals.net"));
		snprintf(key, sizeof(key), "sales.%s.gross", periods[i]);
		assert_int_equal(jint(o, key), jint(rep, "totals.gross"));
		snprintf(key, sizeof(key), "sales.%s.orders", periods[i]);
		assert_int_equal(jint(o, key), jint(rep, "totals.orders"));
		snprintf(key, sizeof(key), "sales.%s.change_pct", periods[i]);
		assert_string_equal(jpct(o, key), jpct(rep, "change_pct.net"));
		json_object_put(rep);
		h_resp_free(&s);
	}
	/* the default range of the report is the dashboard's 30 days */
	s = admin_get("/api/v1/admin/reports/sales");
	rep = h_json(&s);
	assert_int_equal(jint(o, "sales.30d.net"), jint(rep, "totals.net"));
	assert_string_equal(jstr(o, "sales.30d.from"), jstr(rep, "from"));
	json_object_put(rep);
	h_resp_free(&s);

	assert_int_equal(jint(o, "payment_reviews"), h_db_count("orders", "{\"status\": \"payment_review\"}"));
	assert_int_equal(jint(o, "dead_jobs"), h_db_count("jobs", "{\"status\": \"dead\"}"));
	assert_int_equal(jint(o, "orders_to_ship"), h_db_count("orders", "{\"status\": \"processing\"}"));
	/* newest first; this run's order's two events (to processing a minute
	 * ago, placed a minute before) are there in that order (another
	 * suite's order may have moved since: the sweeps run meanwhile) */
	{
		json_object *ev = jpath(o, "events");
		size_t n = json_object_array_length(ev);
		long mine_processing = -1, mine_pending = -1;

		assert_true(n >= 2 && n <= 10);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(ev, i);

			if (i > 0)
				assert_true(strcmp(jstr(e, "at"),
						   jstr(json_object_array_get_idx(ev, i - 1), "at")) <= 0);
			if (strcmp(jstr(e, "order_id"), now_order) != 0)
				continue;
			assert_string_equal(jstr(e, "number"), now_number);
			if (strcmp(jstr(e, "to"), "processing") == 0) {
				assert_string_equal(jstr(e, "from"), "pending");
				mine_processing = (long)i;
			} else if (strcmp(jstr(e, "to"), "pending") == 0) {
				assert_null(jpath(e, "from"));
				mine_pending = (long)i;
			}
		}
		assert_true(mine_processing >= 0);
		assert_true(mine_pending == -1 || mine_pending > mine_processing);
	}
	json_object_put(o);
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sales_daily_dhaka),
		cmocka_unit_test(test_sales_utc_and_weeks),
		cmocka_unit_test(test_sales_overflow),
		cmocka_unit_test(test_sales_csv),
		cmocka_unit_test(test_products_categories_coupons),
		cmocka_unit_test(test_orders_refunds),
		cmocka_unit_test(test_customers),
		cmocka_unit_test(test_stock),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_dashboard_staff),
		cmocka_unit_test(test_dashboard_admin),
	};
	int rc;

	h_init();
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	snprintf(tag, sizeof(tag), "%08x", (unsigned)rand());
	run_no = (unsigned)rand() % 1000000;
	rc = cmocka_run_group_tests(tests, group_setup, NULL);
	h_cleanup();
	return rc;
}
