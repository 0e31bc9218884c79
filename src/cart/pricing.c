/*
 * pricing.c - the pricing engine (rules in pricing.h).
 *
 * Intermediate products use unsigned 128-bit integers so that rounding and
 * proportional allocation are exact; every result is range-checked before
 * it goes back into an int64_t.
 */
#include "cart/pricing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

__extension__ typedef unsigned __int128 pricing_u128;

bool pricing_mul_div_half_up(int64_t a, int64_t num, int64_t den, int64_t *out)
{
	pricing_u128 p, q;

	if (a < 0 || num < 0 || den <= 0)
		return false;
	/* a, num < 2^63, so 2*a*num < 2^127: no overflow in 128 bits. */
	p = (pricing_u128)a * (pricing_u128)num;
	q = (2 * p + (pricing_u128)den) / (2 * (pricing_u128)den);
	if (q > (pricing_u128)INT64_MAX)
		return false;
	*out = (int64_t)q;
	return true;
}

bool pricing_line_total(int64_t unit_price, int64_t quantity, int64_t *out,
			struct em_error *err)
{
	if (unit_price < 0) {
		em_error_set(err, EM_ERR_INVALID, "unit_price", "a price cannot be negative");
		return false;
	}
	if (quantity < 1) {
		em_error_set(err, EM_ERR_INVALID, "quantity", "quantity must be at least 1");
		return false;
	}
	if (__builtin_mul_overflow(unit_price, quantity, out)) {
		em_error_set(err, EM_ERR_INVALID, "quantity",
			     "unit price x quantity does not fit a 64-bit amount");
		return false;
	}
	return true;
}

/*
 * Largest remainder without scratch memory: line i gets the extra unit
 * when fewer than `left` lines rank above it, ranking by remainder
 * (larger first) and then by position (earlier first). O(n^2) in the
 * number of lines, which the cart caps at a few hundred.
 */
bool pricing_allocate(int64_t amount, const int64_t *weights, size_t n, int64_t *shares,
		      struct em_error *err)
{
	int64_t wsum = 0, given = 0, left;
	size_t i, j;

	if (amount < 0) {
		em_error_set(err, EM_ERR_INVALID, "discount", "an amount to allocate cannot be negative");
		return false;
	}
	for (i = 0; i < n; i++) {
		if (weights[i] < 0) {
			em_error_set(err, EM_ERR_INVALID, "lines", "a weight cannot be negative");
			return false;
		}
		if (__builtin_add_overflow(wsum, weights[i], &wsum)) {
			em_error_set(err, EM_ERR_INVALID, "subtotal",
				     "the weights do not fit a 64-bit amount");
			return false;
		}
	}
	if (amount > wsum) {
		em_error_set(err, EM_ERR_INVALID, "discount",
			     "cannot allocate more than the lines are worth");
		return false;
	}
	if (amount == 0) {
		for (i = 0; i < n; i++)
			shares[i] = 0;
		return true;
	}
	for (i = 0; i < n; i++) {
		/* amount <= wsum, so the quotient is <= weights[i]: fits. */
		pricing_u128 p = (pricing_u128)amount * (pricing_u128)weights[i];

		shares[i] = (int64_t)(p / (pricing_u128)wsum);
		given += shares[i];
	}
	left = amount - given; /* < n: each floor loses less than one unit */
	for (i = 0; i < n && left > 0; i++) {
		pricing_u128 ri = ((pricing_u128)amount * (pricing_u128)weights[i]) % (pricing_u128)wsum;
		int64_t above = 0;

		if (ri == 0)
			continue; /* exact shares never take a leftover unit */
		for (j = 0; j < n; j++) {
			pricing_u128 rj;

			if (j == i)
				continue;
			rj = ((pricing_u128)amount * (pricing_u128)weights[j]) % (pricing_u128)wsum;
			if (rj > ri || (rj == ri && j < i))
				above++;
		}
		if (above < left)
			shares[i]++;
	}
	return true;
}

const char *pricing_coupon_status_name(enum pricing_coupon_status s)
{
	switch (s) {
	case PRICING_COUPON_NONE: return "none";
	case PRICING_COUPON_APPLIED: return "applied";
	case PRICING_COUPON_MIN_SUBTOTAL: return "min_subtotal";
	case PRICING_COUPON_NOT_IN_SCOPE: return "not_in_scope";
	}
	return "none";
}

const struct pricing_shipping_method *
pricing_method_find(const struct pricing_shipping_method *methods, size_t n, const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < n; i++)
		if (methods[i].name && strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

static bool pricing_currency_valid(const char *c)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (c[i] < 'A' || c[i] > 'Z')
			return false;
	return c[3] == '\0';
}

static bool pricing_coupon_check(const struct pricing_coupon *c, struct em_error *err)
{
	switch (c->type) {
	case PRICING_COUPON_TYPE_NONE:
		return true;
	case PRICING_COUPON_TYPE_PERCENT:
		if (c->percent_bp < 1 || c->percent_bp > PRICING_BP_ONE) {
			em_error_set(err, EM_ERR_INVALID, "coupon.percent_bp",
				     "a percent coupon takes 1..10000 basis points");
			return false;
		}
		if (c->has_max_discount && c->max_discount < 0) {
			em_error_set(err, EM_ERR_INVALID, "coupon.max_discount",
				     "max_discount cannot be negative");
			return false;
		}
		break;
	case PRICING_COUPON_TYPE_FIXED:
		if (c->amount < 1) {
			em_error_set(err, EM_ERR_INVALID, "coupon.amount",
				     "a fixed coupon takes a positive amount");
			return false;
		}
		break;
	case PRICING_COUPON_TYPE_FREE_SHIPPING:
		break;
	default:
		em_error_set(err, EM_ERR_INVALID, "coupon.type", "unknown coupon type");
		return false;
	}
	if (c->min_subtotal < 0) {
		em_error_set(err, EM_ERR_INVALID, "coupon.min_subtotal",
			     "min_subtotal cannot be negative");
		return false;
	}
	return true;
}

/* Step 1: line totals, subtotal, eligible subtotal. */
static bool pricing_sum_lines(const struct pricing_input *in, struct pricing_result *out,
			      struct em_error *err)
{
	size_t i;

	for (i = 0; i < in->nlines; i++) {
		struct pricing_line *l = &in->lines[i];

		if (memcmp(l->currency, in->currency, 4) != 0) {
			em_error_set(err, EM_ERR_INVALID, "currency",
				     "line %zu is priced in another currency than the cart", i);
			return false;
		}
		if (!pricing_line_total(l->unit_price, l->quantity, &l->line_total, err)) {
			/* name the line: "lines[3].quantity" */
			char field[sizeof err->field];

			memcpy(field, err->field, sizeof field);
			field[sizeof field - 1] = '\0';
			snprintf(err->field, sizeof err->field, "lines[%zu].%.16s", i, field);
			return false;
		}
		l->discount = 0;
		l->tax = 0;
		if (__builtin_add_overflow(out->subtotal, l->line_total, &out->subtotal)) {
			em_error_set(err, EM_ERR_INVALID, "subtotal",
				     "the subtotal does not fit a 64-bit amount");
			return false;
		}
		/* eligible_subtotal <= subtotal, so it cannot overflow first */
		if (l->eligible)
			out->eligible_subtotal += l->line_total;
	}
	return true;
}

/* Step 2: the discount and the coupon's status. */
static bool pricing_discount(const struct pricing_input *in, struct pricing_result *out,
			     struct em_error *err)
{
	const struct pricing_coupon *c = &in->coupon;
	int64_t d = 0;

	out->coupon_status = PRICING_COUPON_NONE;
	if (c->type == PRICING_COUPON_TYPE_NONE)
		return true;
	if (out->subtotal < c->min_subtotal) {
		out->coupon_status = PRICING_COUPON_MIN_SUBTOTAL;
		return true;
	}
	if (c->type != PRICING_COUPON_TYPE_FREE_SHIPPING && out->eligible_subtotal == 0) {
		out->coupon_status = PRICING_COUPON_NOT_IN_SCOPE;
		return true;
	}
	if (c->type == PRICING_COUPON_TYPE_PERCENT) {
		if (!pricing_mul_div_half_up(out->eligible_subtotal, c->percent_bp, PRICING_BP_ONE, &d)) {
			em_error_set(err, EM_ERR_INVALID, "discount",
				     "the discount does not fit a 64-bit amount");
			return false;
		}
		if (c->has_max_discount && d > c->max_discount)
			d = c->max_discount;
	} else if (c->type == PRICING_COUPON_TYPE_FIXED) {
		d = c->amount;
	}
	if (d > out->eligible_subtotal)
		d = out->eligible_subtotal;
	out->discount = d;
	out->coupon_status = PRICING_COUPON_APPLIED;
	return true;
}

/* Step 3: the discount's shares, over eligible lines only. */
static bool pricing_allocate_lines(const struct pricing_input *in, const struct pricing_result *out,
				   struct em_error *err)
{
	int64_t *w, *shares, given = 0;
	size_t i;
	bool ok = false;

	if (out->discount == 0 || in->nlines == 0)
		return true;
	w = xcalloc(in->nlines, sizeof *w);
	shares = xcalloc(in->nlines, sizeof *shares);
	/* lines outside the coupon's scope weigh 0, so they get no share */
	for (i = 0; i < in->nlines; i++)
		w[i] = in->lines[i].eligible ? in->lines[i].line_total : 0;
	if (!pricing_allocate(out->discount, w, in->nlines, shares, err))
		goto done;
	for (i = 0; i < in->nlines; i++) {
		in->lines[i].discount = shares[i];
		given += shares[i];
	}
	/* The invariant refunds rely on; pricing_allocate() guarantees it. */
	if (given != out->discount) {
		em_error_set(err, EM_ERR_INTERNAL, "discount", "the shares do not sum to the discount");
		goto done;
	}
	ok = true;
done:
	free(w);
	free(shares);
	return ok;
}

/* Step 4: shipping. */
static bool pricing_shipping(const struct pricing_input *in, struct pricing_result *out,
			     struct em_error *err)
{
	const struct pricing_shipping_method *m;
	int64_t goods = out->subtotal - out->discount; /* >= 0 */
	size_t i;

	out->shipping = 0;
	out->shipping_quoted = false;
	out->shipping_free = false;
	out->method = NULL;
	if (in->method) {
		m = pricing_method_find(in->methods, in->nmethods, in->method);
		if (!m) {
			em_error_set(err, EM_ERR_INVALID, "shipping_method", "unknown shipping method");
			return false;
		}
	} else {
		m = in->nmethods > 0 ? &in->methods[0] : NULL;
	}
	if (!in->zone)
		return true;
	if (!m) {
		em_error_set(err, EM_ERR_INVALID, "shipping_method", "no shipping method is configured");
		return false;
	}
	out->method = m->name;
	for (i = 0; i < m->nzones; i++)
		if (m->zones[i].zone && strcmp(m->zones[i].zone, in->zone) == 0)
			break;
	if (i == m->nzones) {
		em_error_set(err, EM_ERR_INVALID, "shipping_zone",
			     "this shipping method does not ship to that zone");
		return false;
	}
	if (m->zones[i].price < 0 || (m->has_free_over && m->free_over < 0)) {
		em_error_set(err, EM_ERR_INVALID, "shipping_method",
			     "a shipping price or threshold is negative");
		return false;
	}
	out->shipping_quoted = true;
	if (in->nlines == 0 ||
	    (in->coupon.type == PRICING_COUPON_TYPE_FREE_SHIPPING &&
	     out->coupon_status == PRICING_COUPON_APPLIED) ||
	    (m->has_free_over && goods >= m->free_over)) {
		out->shipping_free = in->nlines > 0;
		return true;
	}
	out->shipping = m->zones[i].price;
	return true;
}

/* Step 5: tax per line, half-up. */
static bool pricing_tax_lines(const struct pricing_input *in, struct pricing_result *out,
			      struct em_error *err)
{
	int64_t den = PRICING_BP_ONE;
	size_t i;

	if (in->tax.prices_include_tax)
		den += in->tax.rate_bp; /* rate_bp <= 10000: no overflow */
	out->tax = 0;
	for (i = 0; i < in->nlines; i++) {
		struct pricing_line *l = &in->lines[i];
		int64_t net = l->line_total - l->discount; /* >= 0 by allocation */

		if (!pricing_mul_div_half_up(net, in->tax.rate_bp, den, &l->tax) ||
		    __builtin_add_overflow(out->tax, l->tax, &out->tax)) {
			em_error_set(err, EM_ERR_INVALID, "tax", "the tax does not fit a 64-bit amount");
			return false;
		}
	}
	return true;
}

bool pricing_compute(const struct pricing_input *in, struct pricing_result *out,
		     struct em_error *err)
{
	int64_t total;

	memset(out, 0, sizeof *out);
	if (!pricing_currency_valid(in->currency)) {
		em_error_set(err, EM_ERR_INVALID, "currency", "currency must be an ISO 4217 code");
		return false;
	}
	memcpy(out->currency, in->currency, sizeof out->currency);
	if (in->nlines > 0 && !in->lines) {
		em_error_set(err, EM_ERR_INTERNAL, "lines", "lines missing");
		return false;
	}
	if (in->tax.rate_bp < 0 || in->tax.rate_bp > PRICING_TAX_RATE_BP_MAX) {
		em_error_set(err, EM_ERR_INVALID, "tax_rate_bp", "the tax rate takes 0..10000 basis points");
		return false;
	}
	if (!pricing_coupon_check(&in->coupon, err) ||
	    !pricing_sum_lines(in, out, err) ||
	    !pricing_discount(in, out, err) ||
	    !pricing_allocate_lines(in, out, err) ||
	    !pricing_shipping(in, out, err) ||
	    !pricing_tax_lines(in, out, err))
		return false;
	total = out->subtotal - out->discount; /* discount <= subtotal */
	if (__builtin_add_overflow(total, out->shipping, &total) ||
	    (!in->tax.prices_include_tax && __builtin_add_overflow(total, out->tax, &total))) {
		em_error_set(err, EM_ERR_INVALID, "total", "the total does not fit a 64-bit amount");
		return false;
	}
	out->total = total;
	return true;
}
