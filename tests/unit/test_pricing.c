/*
 * Unit tests for src/cart/pricing.c: a table of priced carts (rounding,
 * allocation, coupons, scope, shipping threshold, inclusive and exclusive
 * tax), overflow refused at every step, and a randomized check of the
 * largest-remainder allocation against a straightforward sort-based one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart/pricing.h"

#define MAXL 8

/* The demo's Bangladesh defaults: 60 / 120 BDT, free from 5,000 BDT. */
static const struct pricing_zone_price std_zones[] = {
	{ "inside_dhaka", 6000 },
	{ "outside_dhaka", 12000 },
};
static const struct pricing_zone_price exp_zones[] = {
	{ "inside_dhaka", 15000 },
};
static const struct pricing_shipping_method methods[] = {
	{ "standard", std_zones, 2, true, 500000 },
	{ "express", exp_zones, 1, false, 0 },
};

struct tline {
	int64_t price, qty;
	bool ineligible; /* default: in scope */
	int64_t want_discount, want_tax;
};

struct tcase {
	const char *name;
	struct tline lines[MAXL];
	size_t n;
	struct pricing_coupon coupon;
	const char *method, *zone;
	int64_t tax_bp;
	bool inclusive;
	/* expected */
	int64_t subtotal, discount, shipping, tax, total;
	enum pricing_coupon_status status;
	bool quoted, free;
};

#define PCT(bp) { PRICING_COUPON_TYPE_PERCENT, (bp), 0, false, 0, 0 }
#define PCT_MAX(bp, mx) { PRICING_COUPON_TYPE_PERCENT, (bp), 0, true, (mx), 0 }
#define FIXED(a) { PRICING_COUPON_TYPE_FIXED, 0, (a), false, 0, 0 }
#define FIXED_MIN(a, m) { PRICING_COUPON_TYPE_FIXED, 0, (a), false, 0, (m) }
#define FREESHIP { PRICING_COUPON_TYPE_FREE_SHIPPING, 0, 0, false, 0, 0 }
#define FREESHIP_MIN(m) { PRICING_COUPON_TYPE_FREE_SHIPPING, 0, 0, false, 0, (m) }
#define NOCOUPON { PRICING_COUPON_TYPE_NONE, 0, 0, false, 0, 0 }

static const struct tcase cases[] = {
	{ "plain, no zone: shipping not quoted",
	  { { 1000, 2, false, 0, 0 }, { 250, 1, false, 0, 0 } }, 2, NOCOUPON, NULL, NULL, 0, false,
	  2250, 0, 0, 0, 2250, PRICING_COUPON_NONE, false, false },
	{ "empty cart ships for 0",
	  { { 0 } }, 0, NOCOUPON, NULL, "inside_dhaka", 1500, false,
	  0, 0, 0, 0, 0, PRICING_COUPON_NONE, true, false },
	{ "default method inside Dhaka",
	  { { 150000, 1, false, 0, 0 } }, 1, NOCOUPON, NULL, "inside_dhaka", 0, false,
	  150000, 0, 6000, 0, 156000, PRICING_COUPON_NONE, true, false },
	{ "outside Dhaka, named method",
	  { { 150000, 1, false, 0, 0 } }, 1, NOCOUPON, "standard", "outside_dhaka", 0, false,
	  150000, 0, 12000, 0, 162000, PRICING_COUPON_NONE, true, false },
	{ "free-over threshold: exactly 5,000 BDT ships free",
	  { { 250000, 2, false, 0, 0 } }, 1, NOCOUPON, NULL, "outside_dhaka", 0, false,
	  500000, 0, 0, 0, 500000, PRICING_COUPON_NONE, true, true },
	{ "free-over threshold: one paisa short pays shipping",
	  { { 499999, 1, false, 0, 0 } }, 1, NOCOUPON, NULL, "outside_dhaka", 0, false,
	  499999, 0, 12000, 0, 511999, PRICING_COUPON_NONE, true, false },
	{ "free-over threshold counts after the discount",
	  { { 500000, 1, false, 1, 0 } }, 1, FIXED(1), NULL, "inside_dhaka", 0, false,
	  500000, 1, 6000, 0, 505999, PRICING_COUPON_APPLIED, true, false },
	{ "a method without a threshold never ships free",
	  { { 900000, 1, false, 0, 0 } }, 1, NOCOUPON, "express", "inside_dhaka", 0, false,
	  900000, 0, 15000, 0, 915000, PRICING_COUPON_NONE, true, false },
	{ "percent rounds half-up: 10% of 1005 = 100.5 -> 101",
	  { { 1005, 1, false, 101, 0 } }, 1, PCT(1000), NULL, NULL, 0, false,
	  1005, 101, 0, 0, 904, PRICING_COUPON_APPLIED, false, false },
	{ "percent rounds half-up: 10% of 1004 = 100.4 -> 100",
	  { { 1004, 1, false, 100, 0 } }, 1, PCT(1000), NULL, NULL, 0, false,
	  1004, 100, 0, 0, 904, PRICING_COUPON_APPLIED, false, false },
	{ "allocation: 100 over three equal lines = 34 + 33 + 33",
	  { { 333, 1, false, 34, 0 }, { 333, 1, false, 33, 0 }, { 333, 1, false, 33, 0 } }, 3,
	  FIXED(100), NULL, NULL, 0, false,
	  999, 100, 0, 0, 899, PRICING_COUPON_APPLIED, false, false },
	{ "allocation by largest remainder, not by position",
	  /* 10 over 100/200/700 of 1000 -> 1, 2, 7 exactly; 7 over them -> 0.7, 1.4, 4.9 ->
	   * floors 0+1+4 = 5, two left: remainders .7 and .9 win */
	  { { 100, 1, false, 1, 0 }, { 200, 1, false, 1, 0 }, { 700, 1, false, 5, 0 } }, 3,
	  FIXED(7), NULL, NULL, 0, false,
	  1000, 7, 0, 0, 993, PRICING_COUPON_APPLIED, false, false },
	{ "max_discount caps a percent coupon",
	  { { 100000, 3, false, 5000, 0 } }, 1, PCT_MAX(2000, 5000), NULL, NULL, 0, false,
	  300000, 5000, 0, 0, 295000, PRICING_COUPON_APPLIED, false, false },
	{ "a fixed coupon never exceeds the eligible lines",
	  { { 300, 1, false, 300, 0 }, { 700, 1, true, 0, 0 } }, 2, FIXED(5000), NULL, NULL, 0, false,
	  1000, 300, 0, 0, 700, PRICING_COUPON_APPLIED, false, false },
	{ "100% coupon makes the goods free",
	  { { 1234, 3, false, 3702, 0 } }, 1, PCT(10000), NULL, "inside_dhaka", 1500, false,
	  3702, 3702, 6000, 0, 6000, PRICING_COUPON_APPLIED, true, false },
	{ "scope: only eligible lines share the discount",
	  { { 1000, 1, true, 0, 0 }, { 2000, 1, false, 200, 0 }, { 3000, 1, true, 0, 0 } }, 3,
	  PCT(1000), NULL, NULL, 0, false,
	  6000, 200, 0, 0, 5800, PRICING_COUPON_APPLIED, false, false },
	{ "scope: no eligible line -> not_in_scope, no discount",
	  { { 1000, 1, true, 0, 0 } }, 1, PCT(1000), NULL, NULL, 0, false,
	  1000, 0, 0, 0, 1000, PRICING_COUPON_NOT_IN_SCOPE, false, false },
	{ "min_subtotal compares the whole subtotal: met",
	  { { 10000, 1, false, 10000, 0 }, { 10000, 1, true, 0, 0 } }, 2, FIXED_MIN(20000, 20000),
	  NULL, NULL, 0, false,
	  20000, 10000, 0, 0, 10000, PRICING_COUPON_APPLIED, false, false },
	{ "min_subtotal not met -> min_subtotal, no discount",
	  { { 19999, 1, false, 0, 0 } }, 1, FIXED_MIN(20000, 20000), NULL, NULL, 0, false,
	  19999, 0, 0, 0, 19999, PRICING_COUPON_MIN_SUBTOTAL, false, false },
	{ "free_shipping coupon zeroes the shipping",
	  { { 1000, 1, false, 0, 0 } }, 1, FREESHIP, NULL, "outside_dhaka", 0, false,
	  1000, 0, 0, 0, 1000, PRICING_COUPON_APPLIED, true, true },
	{ "free_shipping coupon below its minimum pays shipping",
	  { { 1000, 1, false, 0, 0 } }, 1, FREESHIP_MIN(2000), NULL, "outside_dhaka", 0, false,
	  1000, 0, 12000, 0, 13000, PRICING_COUPON_MIN_SUBTOTAL, true, false },
	{ "exclusive tax, half-up per line: 15% of 333 = 49.95 -> 50; of 3 = 0.45 -> 0",
	  { { 333, 1, false, 0, 50 }, { 3, 1, false, 0, 0 }, { 10, 1, false, 0, 2 } }, 3,
	  NOCOUPON, NULL, NULL, 1500, false,
	  346, 0, 0, 52, 398, PRICING_COUPON_NONE, false, false },
	{ "exclusive tax exactly half rounds up: 5% of 10 = 0.5 -> 1",
	  { { 10, 1, false, 0, 1 } }, 1, NOCOUPON, NULL, NULL, 500, false,
	  10, 0, 0, 1, 11, PRICING_COUPON_NONE, false, false },
	{ "exclusive tax is on the line after its discount; shipping untaxed",
	  { { 10000, 1, false, 1000, 1350 } }, 1, PCT(1000), NULL, "inside_dhaka", 1500, false,
	  10000, 1000, 6000, 1350, 16350, PRICING_COUPON_APPLIED, true, false },
	{ "inclusive tax is shown, not added: 15% inside 1150 = 150",
	  { { 1150, 1, false, 0, 150 }, { 100, 1, false, 0, 13 } }, 2, NOCOUPON, NULL, NULL, 1500, true,
	  1250, 0, 0, 163, 1250, PRICING_COUPON_NONE, false, false },
	{ "inclusive tax after discount, with shipping",
	  { { 11500, 2, false, 2300, 2700 } }, 1, PCT(1000), NULL, "inside_dhaka", 1500, true,
	  23000, 2300, 6000, 2700, 26700, PRICING_COUPON_APPLIED, true, false },
	{ "inclusive half-up: 5% inside 21 = 1.0 ; inside 11 = 0.5238 -> 1; inside 10 = 0.476 -> 0",
	  { { 21, 1, false, 0, 1 }, { 11, 1, false, 0, 1 }, { 10, 1, false, 0, 0 } }, 3,
	  NOCOUPON, NULL, NULL, 500, true,
	  42, 0, 0, 2, 42, PRICING_COUPON_NONE, false, false },
	{ "zero-priced line is fine and gets no share",
	  { { 0, 5, false, 0, 0 }, { 1000, 1, false, 100, 0 } }, 2, PCT(1000), NULL, NULL, 0, false,
	  1000, 100, 0, 0, 900, PRICING_COUPON_APPLIED, false, false },
};

static void run_case(const struct tcase *c)
{
	struct pricing_line lines[MAXL];
	struct pricing_input in;
	struct pricing_result r;
	struct em_error err = EM_ERROR_INIT;
	int64_t dsum = 0, tsum = 0;
	size_t i;

	memset(&in, 0, sizeof in);
	memset(lines, 0, sizeof lines);
	memcpy(in.currency, "BDT", 4);
	for (i = 0; i < c->n; i++) {
		lines[i].sku = "SKU";
		memcpy(lines[i].currency, "BDT", 4);
		lines[i].unit_price = c->lines[i].price;
		lines[i].quantity = c->lines[i].qty;
		lines[i].eligible = !c->lines[i].ineligible;
	}
	in.lines = lines;
	in.nlines = c->n;
	in.coupon = c->coupon;
	in.methods = methods;
	in.nmethods = 2;
	in.method = c->method;
	in.zone = c->zone;
	in.tax.rate_bp = c->tax_bp;
	in.tax.prices_include_tax = c->inclusive;

	if (!pricing_compute(&in, &r, &err))
		fail_msg("%s: refused: %s (%s)", c->name, err.message, err.field);
	print_message("case: %s\n", c->name);
	assert_string_equal(r.currency, "BDT");
	assert_int_equal(r.subtotal, c->subtotal);
	assert_int_equal(r.discount, c->discount);
	assert_int_equal(r.shipping, c->shipping);
	assert_int_equal(r.tax, c->tax);
	assert_int_equal(r.total, c->total);
	assert_int_equal(r.coupon_status, c->status);
	assert_int_equal(r.shipping_quoted, c->quoted);
	assert_int_equal(r.shipping_free, c->free);
	for (i = 0; i < c->n; i++) {
		assert_int_equal(lines[i].line_total, c->lines[i].price * c->lines[i].qty);
		assert_int_equal(lines[i].discount, c->lines[i].want_discount);
		assert_int_equal(lines[i].tax, c->lines[i].want_tax);
		assert_true(lines[i].discount <= lines[i].line_total);
		dsum += lines[i].discount;
		tsum += lines[i].tax;
	}
	/* the shares always add up to the totals shown */
	assert_int_equal(dsum, r.discount);
	assert_int_equal(tsum, r.tax);
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
}

/* One line, one input, a named shipping method; for the refusal tests. */
static bool price_one_m(int64_t price, int64_t qty, struct pricing_coupon coupon, const char *method,
			const char *zone, int64_t tax_bp, bool inclusive, struct pricing_result *r,
			struct em_error *err)
{
	struct pricing_line l;
	struct pricing_input in;

	memset(&in, 0, sizeof in);
	memset(&l, 0, sizeof l);
	memcpy(in.currency, "BDT", 4);
	memcpy(l.currency, "BDT", 4);
	l.unit_price = price;
	l.quantity = qty;
	l.eligible = true;
	in.lines = &l;
	in.nlines = 1;
	in.coupon = coupon;
	in.methods = methods;
	in.nmethods = 2;
	in.method = method;
	in.zone = zone;
	in.tax.rate_bp = tax_bp;
	in.tax.prices_include_tax = inclusive;
	return pricing_compute(&in, r, err);
}

/* The same with the default method (standard: free from 5,000 BDT). */
static bool price_one(int64_t price, int64_t qty, struct pricing_coupon coupon, const char *zone,
		      int64_t tax_bp, bool inclusive, struct pricing_result *r, struct em_error *err)
{
	return price_one_m(price, qty, coupon, NULL, zone, tax_bp, inclusive, r, err);
}

static void test_overflow_refused(void **state)
{
	struct pricing_coupon none = NOCOUPON;
	struct pricing_result r;
	struct em_error err = EM_ERROR_INIT;
	struct pricing_line lines[2];
	struct pricing_input in;
	int64_t v;

	(void)state;
	/* price x quantity */
	assert_false(price_one(INT64_MAX, 2, none, NULL, 0, false, &r, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_string_equal(err.field, "lines[0].quantity");
	assert_false(price_one(INT64_C(4611686018427387904), 2, none, NULL, 0, false, &r, &err));
	assert_true(price_one(INT64_C(4611686018427387903), 2, none, NULL, 0, false, &r, &err));
	assert_int_equal(r.total, INT64_C(9223372036854775806));
	assert_false(pricing_line_total(INT64_C(100000000000), 100000000000, &v, &err));
	assert_string_equal(err.field, "quantity");
	assert_true(pricing_line_total(INT64_C(1000000000000), 99, &v, &err));
	assert_int_equal(v, INT64_C(99000000000000));

	/* the subtotal of two lines that each fit */
	memset(&in, 0, sizeof in);
	memset(lines, 0, sizeof lines);
	memcpy(in.currency, "BDT", 4);
	memcpy(lines[0].currency, "BDT", 4);
	memcpy(lines[1].currency, "BDT", 4);
	lines[0].unit_price = lines[1].unit_price = INT64_MAX / 2 + 1;
	lines[0].quantity = lines[1].quantity = 1;
	in.lines = lines;
	in.nlines = 2;
	assert_false(pricing_compute(&in, &r, &err));
	assert_string_equal(err.field, "subtotal");

	/* shipping pushes the total over (express has no free-over threshold) */
	assert_false(price_one_m(INT64_MAX - 100, 1, none, "express", "inside_dhaka", 0, false,
				 &r, &err));
	assert_string_equal(err.field, "total");
	/* ...unless a coupon, or the threshold, makes it free */
	struct pricing_coupon freeship = FREESHIP;
	assert_true(price_one_m(INT64_MAX - 100, 1, freeship, "express", "inside_dhaka", 0, false,
				&r, &err));
	assert_int_equal(r.total, INT64_MAX - 100);
	assert_true(price_one(INT64_MAX - 100, 1, none, "inside_dhaka", 0, false, &r, &err));
	assert_true(r.shipping_free);
	/* exclusive tax pushes the total over; inclusive tax does not add */
	assert_false(price_one(INT64_MAX - 100, 1, none, NULL, 100, false, &r, &err));
	assert_string_equal(err.field, "total");
	assert_true(price_one(INT64_MAX - 100, 1, none, NULL, 100, true, &r, &err));
	assert_int_equal(r.total, INT64_MAX - 100);
	/* the percent discount on the largest subtotal is exact (128-bit) */
	struct pricing_coupon half = PCT(5000);
	assert_true(price_one(INT64_MAX, 1, half, NULL, 0, false, &r, &err));
	assert_int_equal(r.discount, INT64_C(4611686018427387904)); /* 2^63-1 / 2, half-up */
	assert_int_equal(r.total, INT64_C(4611686018427387903));

	assert_false(pricing_mul_div_half_up(INT64_MAX, 2, 1, &v));
	assert_true(pricing_mul_div_half_up(INT64_MAX, INT64_MAX, INT64_MAX, &v));
	assert_int_equal(v, INT64_MAX);
	assert_true(pricing_mul_div_half_up(5, 1, 2, &v));
	assert_int_equal(v, 3);
	assert_true(pricing_mul_div_half_up(7, 1, 2, &v));
	assert_int_equal(v, 4);
	assert_false(pricing_mul_div_half_up(-1, 1, 2, &v));
	assert_false(pricing_mul_div_half_up(1, 1, 0, &v));
}

static void test_bad_input_refused(void **state)
{
	struct pricing_coupon none = NOCOUPON, c;
	struct pricing_result r;
	struct em_error err = EM_ERROR_INIT;
	struct pricing_line l;
	struct pricing_input in;

	(void)state;
	assert_false(price_one(-1, 1, none, NULL, 0, false, &r, &err));
	assert_string_equal(err.field, "lines[0].unit_price");
	assert_false(price_one(100, 0, none, NULL, 0, false, &r, &err));
	assert_string_equal(err.field, "lines[0].quantity");
	assert_false(price_one(100, -5, none, NULL, 0, false, &r, &err));
	assert_false(price_one(100, 1, none, NULL, -1, false, &r, &err));
	assert_string_equal(err.field, "tax_rate_bp");
	assert_false(price_one(100, 1, none, NULL, 10001, false, &r, &err));
	assert_false(price_one(100, 1, none, "chittagong_hills", 0, false, &r, &err));
	assert_string_equal(err.field, "shipping_zone");
	c = (struct pricing_coupon)PCT(0);
	assert_false(price_one(100, 1, c, NULL, 0, false, &r, &err));
	assert_string_equal(err.field, "coupon.percent_bp");
	c = (struct pricing_coupon)PCT(10001);
	assert_false(price_one(100, 1, c, NULL, 0, false, &r, &err));
	c = (struct pricing_coupon)FIXED(0);
	assert_false(price_one(100, 1, c, NULL, 0, false, &r, &err));
	assert_string_equal(err.field, "coupon.amount");
	c = (struct pricing_coupon)PCT_MAX(1000, -1);
	assert_false(price_one(100, 1, c, NULL, 0, false, &r, &err));
	c = (struct pricing_coupon)FIXED_MIN(10, -1);
	assert_false(price_one(100, 1, c, NULL, 0, false, &r, &err));
	c.type = (enum pricing_coupon_type)42;
	assert_false(price_one(100, 1, c, NULL, 0, false, &r, &err));
	assert_string_equal(err.field, "coupon.type");

	/* currency: the cart's must be a code, and every line must match it */
	memset(&in, 0, sizeof in);
	memset(&l, 0, sizeof l);
	memcpy(in.currency, "BDT", 4);
	memcpy(l.currency, "USD", 4);
	l.unit_price = 100;
	l.quantity = 1;
	in.lines = &l;
	in.nlines = 1;
	assert_false(pricing_compute(&in, &r, &err));
	assert_string_equal(err.field, "currency");
	memcpy(in.currency, "bdt", 4);
	memcpy(l.currency, "bdt", 4);
	assert_false(pricing_compute(&in, &r, &err));
	memcpy(in.currency, "USD", 4);
	memcpy(l.currency, "USD", 4);
	assert_true(pricing_compute(&in, &r, &err));
	assert_string_equal(r.currency, "USD");

	/* shipping: unknown method; no method configured */
	in.methods = methods;
	in.nmethods = 2;
	in.method = "teleport";
	in.zone = "inside_dhaka";
	assert_false(pricing_compute(&in, &r, &err));
	assert_string_equal(err.field, "shipping_method");
	in.method = "express";
	in.zone = "outside_dhaka"; /* express only serves Dhaka */
	assert_false(pricing_compute(&in, &r, &err));
	assert_string_equal(err.field, "shipping_zone");
	in.method = NULL;
	in.nmethods = 0;
	assert_false(pricing_compute(&in, &r, &err));
	assert_string_equal(err.field, "shipping_method");
	in.zone = NULL; /* not quoted: no method needed */
	assert_true(pricing_compute(&in, &r, &err));
	assert_false(r.shipping_quoted);
	assert_null(r.method);

	assert_string_equal(pricing_coupon_status_name(PRICING_COUPON_NOT_IN_SCOPE), "not_in_scope");
	assert_string_equal(pricing_coupon_status_name(PRICING_COUPON_MIN_SUBTOTAL), "min_subtotal");
	assert_string_equal(pricing_coupon_status_name(PRICING_COUPON_APPLIED), "applied");
}

static void test_allocate_api(void **state)
{
	const int64_t w[] = { 1, 1, 1 }, w0[] = { 0, 5, 0 }, neg[] = { 3, -1 };
	int64_t s[3];
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_true(pricing_allocate(2, w, 3, s, &err));
	assert_int_equal(s[0], 1); /* ties go to the earlier line */
	assert_int_equal(s[1], 1);
	assert_int_equal(s[2], 0);
	assert_true(pricing_allocate(3, w0, 3, s, &err));
	assert_int_equal(s[0], 0);
	assert_int_equal(s[1], 3);
	assert_int_equal(s[2], 0);
	assert_true(pricing_allocate(0, w0, 0, s, &err));
	assert_false(pricing_allocate(4, w, 3, s, &err)); /* more than the lines */
	assert_false(pricing_allocate(-1, w, 3, s, &err));
	assert_false(pricing_allocate(1, neg, 2, s, &err));
}

/* The reference: sort indices by (remainder desc, index asc) and hand out the rest. */
static void ref_allocate(int64_t amount, const int64_t *w, size_t n, int64_t *s)
{
	__extension__ typedef unsigned __int128 u128;
	int64_t wsum = 0, given = 0, left;
	size_t idx[64], i, j;
	u128 rem[64];

	for (i = 0; i < n; i++)
		wsum += w[i];
	if (wsum == 0) {
		for (i = 0; i < n; i++)
			s[i] = 0;
		return;
	}
	for (i = 0; i < n; i++) {
		u128 p = (u128)amount * (u128)w[i];

		s[i] = (int64_t)(p / (u128)wsum);
		rem[i] = p % (u128)wsum;
		given += s[i];
		idx[i] = i;
	}
	for (i = 1; i < n; i++) /* insertion sort, stable: equal remainders keep index order */
		for (j = i; j > 0 && rem[idx[j]] > rem[idx[j - 1]]; j--) {
			size_t t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	left = amount - given;
	for (i = 0; i < n && left > 0; i++, left--)
		s[idx[i]]++;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static void test_allocate_random(void **state)
{
	int64_t w[64], s[64], want[64], wsum, amount, sum;
	struct em_error err = EM_ERROR_INIT;
	int round;
	size_t n, i;

	(void)state;
	for (round = 0; round < 20000; round++) {
		n = 1 + rng() % 40;
		wsum = 0;
		for (i = 0; i < n; i++) {
			/* mix tiny, zero and huge weights */
			switch (rng() % 4) {
			case 0: w[i] = 0; break;
			case 1: w[i] = (int64_t)(rng() % 10); break;
			case 2: w[i] = (int64_t)(rng() % 1000000); break;
			default: w[i] = (int64_t)(rng() % (UINT64_C(1) << 50)); break;
			}
			wsum += w[i];
		}
		amount = wsum ? (int64_t)(rng() % ((uint64_t)wsum + 1)) : 0;
		assert_true(pricing_allocate(amount, w, n, s, &err));
		ref_allocate(amount, w, n, want);
		sum = 0;
		for (i = 0; i < n; i++) {
			assert_int_equal(s[i], want[i]);
			assert_true(s[i] >= 0 && s[i] <= w[i]);
			sum += s[i];
		}
		assert_int_equal(sum, amount);
	}
}

/* Random carts: the summary's identities hold for every one. */
static void test_compute_random(void **state)
{
	struct pricing_line lines[MAXL];
	struct pricing_input in;
	struct pricing_result r;
	struct em_error err = EM_ERROR_INIT;
	int round;
	size_t i;

	(void)state;
	for (round = 0; round < 5000; round++) {
		int64_t dsum = 0, tsum = 0, sub = 0;

		memset(&in, 0, sizeof in);
		memcpy(in.currency, "BDT", 4);
		in.nlines = 1 + rng() % MAXL;
		for (i = 0; i < in.nlines; i++) {
			memset(&lines[i], 0, sizeof lines[i]);
			memcpy(lines[i].currency, "BDT", 4);
			lines[i].unit_price = (int64_t)(rng() % 2000000);
			lines[i].quantity = 1 + (int64_t)(rng() % 99);
			lines[i].eligible = rng() % 3 != 0;
			sub += lines[i].unit_price * lines[i].quantity;
		}
		in.lines = lines;
		switch (rng() % 4) {
		case 0: in.coupon = (struct pricing_coupon)PCT(1 + (int64_t)(rng() % 10000)); break;
		case 1: in.coupon = (struct pricing_coupon)PCT_MAX(1 + (int64_t)(rng() % 10000),
								   (int64_t)(rng() % 100000)); break;
		case 2: in.coupon = (struct pricing_coupon)FIXED(1 + (int64_t)(rng() % 10000000)); break;
		default: break;
		}
		in.methods = methods;
		in.nmethods = 2;
		in.zone = rng() % 2 ? "inside_dhaka" : NULL;
		in.tax.rate_bp = (int64_t)(rng() % 3000);
		in.tax.prices_include_tax = rng() % 2;
		assert_true(pricing_compute(&in, &r, &err));
		assert_int_equal(r.subtotal, sub);
		assert_true(r.discount >= 0 && r.discount <= r.eligible_subtotal);
		for (i = 0; i < in.nlines; i++) {
			assert_true(lines[i].discount <= lines[i].line_total);
			if (!lines[i].eligible)
				assert_int_equal(lines[i].discount, 0);
			dsum += lines[i].discount;
			tsum += lines[i].tax;
		}
		assert_int_equal(dsum, r.discount);
		assert_int_equal(tsum, r.tax);
		assert_int_equal(r.total, r.subtotal - r.discount + r.shipping +
					   (in.tax.prices_include_tax ? 0 : r.tax));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_overflow_refused),
		cmocka_unit_test(test_bad_input_refused),
		cmocka_unit_test(test_allocate_api),
		cmocka_unit_test(test_allocate_random),
		cmocka_unit_test(test_compute_random),
	};

	return cmocka_run_group_tests_name("pricing", tests, NULL, NULL);
}
