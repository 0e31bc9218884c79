/*
 * fuzz_pricing - the pricing engine (src/cart/pricing.c): what a cart
 * costs, in int64 minor units, with every sum and product checked.
 *
 * Input: bytes read as the engine's plain structs (up to 8 lines with any
 * price and quantity, a coupon of any type and values, a shipping method
 * and zone, known or not, a tax rate and mode); amounts come out small or
 * near INT64_MAX as the fuzzer likes. Checked on success, against the
 * rules in pricing.h recomputed here in 128-bit arithmetic: the line
 * totals, the subtotal, the coupon's discount (percent half-up and its
 * cap, fixed up to the eligible subtotal), its allocation (the shares sum
 * to the discount, stay within their lines and within one unit of their
 * exact proportion, nothing on ineligible lines), each line's tax, the
 * shipping and the total; nothing negative. A refusal is EM_ERR_INVALID
 * naming a field. pricing_allocate() is checked on its own too.
 */
#include <stdbool.h>

#include "cart/pricing.h"
#include "fuzz.h"

#define FUZZ_LINES_MAX 8

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint64_t rd(struct reader *r, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes; i++) {
		v = v << 8 | (r->n ? *r->p : 0);
		if (r->n) {
			r->p++;
			r->n--;
		}
	}
	return v;
}

/* An amount: mostly small, sometimes anything, sometimes near the edges. */
static int64_t rd_amount(struct reader *r)
{
	switch (rd(r, 1) & 3) {
	case 0: return (int64_t)rd(r, 2);
	case 1: return (int64_t)rd(r, 4);
	case 2: return INT64_MAX - (int64_t)rd(r, 2);
	default: return (int64_t)rd(r, 8);
	}
}

static __int128 half_up(__int128 a, __int128 num, __int128 den)
{
	return (a * num * 2 + den) / (den * 2);
}

static void check_allocate(struct reader *r)
{
	int64_t weights[FUZZ_LINES_MAX], shares[FUZZ_LINES_MAX], amount = rd_amount(r);
	size_t n = rd(r, 1) % (FUZZ_LINES_MAX + 1);
	struct em_error err = EM_ERROR_INIT;
	__int128 sum = 0, got = 0;

	for (size_t i = 0; i < n; i++) {
		weights[i] = rd_amount(r);
		sum += weights[i];
	}
	if (!pricing_allocate(amount, weights, n, shares, &err)) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID);
		return;
	}
	FUZZ_CHECK(amount >= 0 && amount <= sum && sum <= INT64_MAX);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(shares[i] >= 0 && shares[i] <= weights[i]);
		got += shares[i];
	}
	FUZZ_CHECK(got == amount);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pricing_zone_price std_zones[] = {
		{ "inside_dhaka", 6000 }, { "outside_dhaka", 12000 }, { "far", INT64_MAX - 5 },
	};
	static const struct pricing_zone_price exp_zones[] = { { "inside_dhaka", 15000 } };
	static const char *const zones[] = { NULL, "inside_dhaka", "outside_dhaka", "far", "mars" };
	static const char *const methods_named[] = { NULL, "standard", "express", "teleport" };
	struct pricing_shipping_method methods[2] = {
		{ "standard", std_zones, 3, false, 0 },
		{ "express", exp_zones, 1, false, 0 },
	};
	struct reader r = { data, size };
	struct pricing_line lines[FUZZ_LINES_MAX];
	struct pricing_input in;
	struct pricing_result out;
	struct em_error err = EM_ERROR_INIT;
	uint64_t flags;
	__int128 subtotal = 0, eligible = 0, discount = 0, dsum = 0, tsum = 0, total, expect;
	const struct pricing_shipping_method *m;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	flags = rd(&r, 2);
	memcpy(in.currency, flags & 1 ? "USD" : "BDT", 4);
	in.nlines = rd(&r, 1) % (FUZZ_LINES_MAX + 1);
	for (size_t i = 0; i < in.nlines; i++) {
		uint64_t lf = rd(&r, 1);

		memset(&lines[i], 0, sizeof(lines[i]));
		lines[i].sku = "SKU";
		memcpy(lines[i].currency, lf & 1 ? (lf & 2 ? "EUR" : "USD") : in.currency, 4);
		lines[i].unit_price = lf & 4 ? -(int64_t)rd(&r, 1) : rd_amount(&r);
		lines[i].quantity = lf & 8 ? (int64_t)rd(&r, 1) - 1 : rd_amount(&r) % 1000 + 1;
		lines[i].eligible = lf & 16;
	}
	in.lines = lines;
	in.coupon.type = (enum pricing_coupon_type)(rd(&r, 1) % 4);
	in.coupon.percent_bp = (int64_t)rd(&r, 2) % 10002;
	in.coupon.amount = rd_amount(&r);
	in.coupon.has_max_discount = flags & 2;
	in.coupon.max_discount = rd_amount(&r);
	in.coupon.min_subtotal = flags & 4 ? rd_amount(&r) : 0;
	methods[0].has_free_over = flags & 8;
	methods[0].free_over = rd_amount(&r);
	in.methods = methods;
	in.nmethods = flags & 16 ? 1 : 2;
	in.method = methods_named[(flags >> 5) & 3];
	in.zone = zones[rd(&r, 1) % 5];
	in.tax.rate_bp = (int64_t)rd(&r, 2) % 10002;
	in.tax.prices_include_tax = flags & 128;

	if (flags & 256)
		check_allocate(&r);

	if (!pricing_compute(&in, &out, &err)) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID && err.field[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(strcmp(out.currency, in.currency) == 0);
	/* 1. lines and subtotals */
	for (size_t i = 0; i < in.nlines; i++) {
		const struct pricing_line *l = &lines[i];

		FUZZ_CHECK(strcmp(l->currency, in.currency) == 0);
		FUZZ_CHECK(l->unit_price >= 0 && l->quantity >= 1);
		FUZZ_CHECK((__int128)l->line_total == (__int128)l->unit_price * l->quantity);
		subtotal += l->line_total;
		if (l->eligible || in.coupon.type == PRICING_COUPON_TYPE_NONE)
			eligible += l->line_total;
	}
	FUZZ_CHECK(out.subtotal == subtotal);
	/* 2. the coupon */
	switch (out.coupon_status) {
	case PRICING_COUPON_NONE:
		FUZZ_CHECK(in.coupon.type == PRICING_COUPON_TYPE_NONE && out.discount == 0);
		break;
	case PRICING_COUPON_MIN_SUBTOTAL:
		FUZZ_CHECK(subtotal < in.coupon.min_subtotal && out.discount == 0);
		break;
	case PRICING_COUPON_NOT_IN_SCOPE:
		FUZZ_CHECK(out.discount == 0);
		break;
	case PRICING_COUPON_APPLIED:
		FUZZ_CHECK(in.coupon.type != PRICING_COUPON_TYPE_NONE);
		FUZZ_CHECK(subtotal >= in.coupon.min_subtotal);
		FUZZ_CHECK(out.eligible_subtotal == eligible);
		if (in.coupon.type == PRICING_COUPON_TYPE_PERCENT) {
			discount = half_up(eligible, in.coupon.percent_bp, PRICING_BP_ONE);
			if (in.coupon.has_max_discount && discount > in.coupon.max_discount)
				discount = in.coupon.max_discount;
		} else if (in.coupon.type == PRICING_COUPON_TYPE_FIXED) {
			discount = in.coupon.amount < eligible ? in.coupon.amount : eligible;
		}
		FUZZ_CHECK(out.discount == discount);
		break;
	default:
		FUZZ_CHECK(!"an unknown coupon status");
	}
	FUZZ_CHECK(out.discount >= 0 && out.discount <= out.subtotal);
	/* 3. the allocation, and 5. the tax */
	for (size_t i = 0; i < in.nlines; i++) {
		const struct pricing_line *l = &lines[i];
		__int128 net = (__int128)l->line_total - l->discount;

		FUZZ_CHECK(l->discount >= 0 && l->discount <= l->line_total);
		if (out.discount && l->discount)
			FUZZ_CHECK(l->eligible);
		if (out.discount && out.eligible_subtotal) {
			__int128 exact_floor = (__int128)out.discount * l->line_total / out.eligible_subtotal;

			if (l->eligible)
				FUZZ_CHECK(l->discount == exact_floor || l->discount == exact_floor + 1);
		}
		dsum += l->discount;
		expect = in.tax.prices_include_tax
				 ? half_up(net, in.tax.rate_bp, PRICING_BP_ONE + in.tax.rate_bp)
				 : half_up(net, in.tax.rate_bp, PRICING_BP_ONE);
		FUZZ_CHECK(l->tax == expect && l->tax >= 0);
		tsum += l->tax;
	}
	FUZZ_CHECK(dsum == out.discount);
	FUZZ_CHECK(tsum == out.tax);
	/* 4. shipping */
	m = in.method ? pricing_method_find(methods, in.nmethods, in.method) : &methods[0];
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(!out.method || strcmp(out.method, m->name) == 0);
	if (!in.zone || in.nlines == 0) {
		FUZZ_CHECK(out.shipping == 0);
	} else {
		FUZZ_CHECK(out.shipping_quoted && out.method);
		if (out.shipping_free)
			FUZZ_CHECK(out.shipping == 0);
		else
			FUZZ_CHECK(out.shipping >= 0);
		if (m->has_free_over && subtotal - out.discount >= m->free_over)
			FUZZ_CHECK(out.shipping == 0);
	}
	/* 6. the total */
	total = subtotal - out.discount + out.shipping + (in.tax.prices_include_tax ? 0 : out.tax);
	FUZZ_CHECK(out.total == total && out.total >= 0);
	return 0;
}
