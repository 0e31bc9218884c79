/*
 * pricing.h - the pricing engine: what a cart (and later an order) costs.
 *
 * Pure functions: no I/O, no clock, no global state, no HTTP, no BSON. The
 * cart summary (GET /api/v1/cart/summary) and order placement call the
 * same pricing_compute() on plain structs, so what the summary shows is
 * exactly what the order charges.
 *
 * Money is int64_t minor units (paisa, cents) of ONE ISO 4217 currency,
 * carried from the input to the result. Every multiplication and sum is
 * checked: an amount that does not fit int64_t is refused with
 * EM_ERR_INVALID naming the field, never wrapped or saturated.
 *
 * The arithmetic, in order (these are the rules checkout charges):
 *
 *  1. line_total = unit_price x quantity;  subtotal = sum of line_total.
 *     eligible_subtotal = sum of line_total over lines in the coupon's
 *     scope (pricing_line.eligible, decided by the caller from the
 *     coupon's product and category ids).
 *
 *  2. The coupon (at most one). min_subtotal is compared with the whole
 *     subtotal (not only the eligible lines): below it the coupon does not
 *     apply (PRICING_COUPON_MIN_SUBTOTAL). A percent or fixed coupon with
 *     no eligible line does not apply (PRICING_COUPON_NOT_IN_SCOPE).
 *       percent:  discount = half_up(eligible_subtotal x bp / 10000),
 *                 then capped at max_discount when one is set;
 *       fixed:    discount = min(amount, eligible_subtotal);
 *       free_shipping: discount 0, shipping 0.
 *     The discount never exceeds the eligible subtotal, so no line and no
 *     total goes negative.
 *
 *  3. Allocation: the discount is split over the eligible lines in
 *     proportion to their line_total by the largest-remainder method:
 *     each line gets floor(discount x line_total / eligible_subtotal);
 *     the units left over (fewer than the number of lines) go one each
 *     to the lines with the largest remainders, ties to the earlier line.
 *     The shares sum to the discount exactly and no share exceeds its
 *     line, so a partial refund can give back precisely a line's share.
 *
 *  4. Shipping: the chosen method's price for the zone. It is free
 *     (0) when the method has a free-over threshold and
 *     subtotal - discount >= free_over, or when a free_shipping coupon
 *     applies. An empty cart ships for 0. Without a zone the shipping is
 *     not quoted (shipping_quoted false, shipping 0, and the total leaves
 *     it out): a summary can be shown before an address is known, but
 *     checkout must require one. Shipping is not taxed.
 *
 *  5. Tax, per line, on the line after its discount (net = line_total -
 *     discount), rounded half-up PER LINE; the tax total is the sum of the
 *     lines' tax (so refunding a line refunds its tax exactly):
 *       exclusive: tax = half_up(net x rate_bp / 10000), added to the total;
 *       inclusive: tax = half_up(net x rate_bp / (10000 + rate_bp)), the
 *                  part of the price that is tax; shown, not added.
 *
 *  6. total = subtotal - discount + shipping (+ tax when exclusive).
 *
 * Rounding: the only rounding rule is half-up (x.5 -> x+1) on exact
 * integer arithmetic (128-bit intermediates), applied once per amount:
 * the percent discount, and each line's tax. Allocation is exact.
 */
#ifndef EM_CART_PRICING_H
#define EM_CART_PRICING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define PRICING_BP_ONE          INT64_C(10000) /* 100.00 % in basis points */
#define PRICING_TAX_RATE_BP_MAX INT64_C(10000)
#define PRICING_NAME_MAX        64             /* method and zone names */

/* One cart line. The caller fills the inputs; pricing_compute() the outputs. */
struct pricing_line {
	/* inputs */
	const char *sku;     /* borrowed; only for the caller's reporting */
	char currency[4];    /* ISO 4217 of unit_price; must equal the cart's */
	int64_t unit_price;  /* minor units, >= 0 */
	int64_t quantity;    /* >= 1 */
	bool eligible;       /* in the coupon's scope (true when it has none) */
	/* outputs */
	int64_t line_total;  /* unit_price x quantity */
	int64_t discount;    /* this line's share of the discount */
	int64_t tax;         /* tax on line_total - discount */
};

enum pricing_coupon_type {
	PRICING_COUPON_TYPE_NONE = 0,  /* no coupon on the cart */
	PRICING_COUPON_TYPE_PERCENT,
	PRICING_COUPON_TYPE_FIXED,
	PRICING_COUPON_TYPE_FREE_SHIPPING,
};

/*
 * The arithmetic part of a coupon. Its other rules (dates, usage limits,
 * first order, active) need the clock and the database and are checked by
 * the cart module before pricing; a coupon that fails them is passed as
 * PRICING_COUPON_TYPE_NONE.
 */
struct pricing_coupon {
	enum pricing_coupon_type type;
	int64_t percent_bp;        /* percent: 1..10000 */
	int64_t amount;            /* fixed: minor units, >= 1 */
	bool has_max_discount;     /* percent: cap the discount at max_discount */
	int64_t max_discount;      /* >= 0 */
	int64_t min_subtotal;      /* >= 0; 0 = no minimum */
};

/* What became of the coupon. */
enum pricing_coupon_status {
	PRICING_COUPON_NONE = 0,       /* there was none */
	PRICING_COUPON_APPLIED,
	PRICING_COUPON_MIN_SUBTOTAL,   /* subtotal below min_subtotal */
	PRICING_COUPON_NOT_IN_SCOPE,   /* no line in its scope */
};

/* A zone's price within a shipping method. */
struct pricing_zone_price {
	const char *zone;   /* e.g. "inside_dhaka" */
	int64_t price;      /* minor units of the cart's currency, >= 0 */
};

/* A named shipping method with a price per zone. */
struct pricing_shipping_method {
	const char *name;   /* e.g. "standard" */
	const struct pricing_zone_price *zones;
	size_t nzones;
	bool has_free_over;
	int64_t free_over;  /* free when subtotal - discount >= free_over */
};

struct pricing_tax {
	int64_t rate_bp;          /* 0..10000 */
	bool prices_include_tax;  /* unit prices already contain the tax */
};

struct pricing_input {
	char currency[4];                      /* the cart's ISO 4217 code */
	struct pricing_line *lines;            /* outputs written in place */
	size_t nlines;
	struct pricing_coupon coupon;
	const struct pricing_shipping_method *methods; /* configured methods */
	size_t nmethods;
	const char *method;  /* chosen method name; NULL = the first configured */
	const char *zone;    /* shipping zone; NULL = shipping not quoted */
	struct pricing_tax tax;
};

struct pricing_result {
	char currency[4];
	int64_t subtotal;
	int64_t eligible_subtotal;
	int64_t discount;
	int64_t shipping;
	int64_t tax;
	int64_t total;
	bool shipping_quoted;      /* a zone was given and priced */
	bool shipping_free;        /* quoted 0 by the threshold or the coupon */
	const char *method;        /* the method used (borrowed from input), or NULL */
	enum pricing_coupon_status coupon_status;
};

/*
 * Prices a cart: fills each line's line_total, discount and tax and the
 * result. False with EM_ERR_INVALID and a field on bad input (a negative
 * price, a quantity below 1, a currency that differs from the cart's, an
 * unknown method "shipping_method" or zone "shipping_zone", a bad coupon
 * or tax rate) or on an amount past int64_t ("lines[3].quantity" when
 * that line's total overflows, "subtotal", "total"...). On false, the
 * result and the line outputs are unspecified.
 */
bool pricing_compute(const struct pricing_input *in, struct pricing_result *out,
		     struct em_error *err);

/*
 * unit_price x quantity, checked: false (EM_ERR_INVALID, field
 * "quantity") when either is out of range or the product overflows. For
 * refusing an add to cart before it is stored.
 */
bool pricing_line_total(int64_t unit_price, int64_t quantity, int64_t *out,
			struct em_error *err);

/*
 * Splits amount (>= 0) over n weights (>= 0) in proportion, by the
 * largest-remainder method described above, into shares[0..n-1]. The
 * shares sum to amount exactly. amount must not exceed the sum of the
 * weights (so no share exceeds its weight), and that sum must fit int64_t;
 * otherwise false with EM_ERR_INVALID. All-zero weights with amount 0
 * give zero shares.
 */
bool pricing_allocate(int64_t amount, const int64_t *weights, size_t n, int64_t *shares,
		      struct em_error *err);

/* half_up(a x num / den) for a, num >= 0, den > 0; false if it overflows. */
bool pricing_mul_div_half_up(int64_t a, int64_t num, int64_t den, int64_t *out);

/* "none", "applied", "min_subtotal", "not_in_scope". */
const char *pricing_coupon_status_name(enum pricing_coupon_status s);

/* The method of that name among methods, or NULL. */
const struct pricing_shipping_method *
pricing_method_find(const struct pricing_shipping_method *methods, size_t n, const char *name);

#endif
