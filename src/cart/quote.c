/*
 * quote.c - pricing a stored cart: the one composition of the cart, the
 * catalog's current truth about each SKU, the coupon's rules and the
 * pricing engine. GET /api/v1/cart/summary renders a quote, and order
 * placement (src/orders) charges one, inside its transaction - so what the
 * summary shows is what the order charges, by construction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart/cart.h"
#include "cart/cart_internal.h"
#include "core/alloc.h"

void cart_quote_release(struct cart_quote *q)
{
	if (q->vars)
		cart_variants_free(q->vars, q->nitems);
	free(q->vars);
	free(q->items);
	free(q->lines);
	free(q->coupon);
	if (q->own_doc) {
		cart_doc_free(q->doc);
		free(q->doc);
	}
	free(q->ship);
	memset(q, 0, sizeof(*q));
}

/* The coupon of code: the rules that need the clock and the database. */
static bool cart_quote_coupon(struct em_store *st, const bson_oid_t *user, const char *code,
			      struct cart_quote *q, bson_t *parents, struct em_error *err)
{
	char key[CART_COUPON_CODE_MAX + 1];
	bool found = false;
	int64_t uses = 0, orders = 0;

	if (!cart_coupon_code_check(code, key, sizeof key, err) ||
	    !cart_coupon_find(st, key, q->coupon, &found, err))
		return false;
	if (!found) {
		q->coupon_reason = "unknown";
		return true;
	}
	if (user && (q->coupon->usage_limit_per_customer || q->coupon->first_order_only) &&
	    !cart_customer_counts(st, &q->coupon->id, user, &uses, &orders, err))
		return false;
	q->coupon_reason = cart_coupon_rules(q->coupon, cart_now_ms(), user != NULL, uses, orders);
	q->coupon_applies = q->coupon_reason == NULL;
	if (q->coupon_applies && q->coupon->has_scope && q->coupon->nscope_categories &&
	    !cart_categories_load(st, parents, err))
		return false;
	return true;
}

bool cart_quote_doc(struct em_store *st, mongoc_client_session_t *session,
		    const struct em_config *cfg, const struct cart_shipping *ship,
		    const struct cart_doc *doc, const bson_oid_t *user, const char *coupon_code,
		    const char *zone, const char *method, struct cart_quote *q, bson_error_t *berr,
		    struct em_error *err)
{
	const struct cart_config *cc = cart_config(cfg);
	size_t n = doc ? doc->nitems : 0;
	struct pricing_input in;
	bson_t parents = BSON_INITIALIZER;
	char **skus = NULL;
	bool ok = false;

	memset(q, 0, sizeof(*q));
	memset(&in, 0, sizeof in);
	q->doc = (struct cart_doc *)doc;
	q->nitems = n;
	q->vars = xcalloc(n + 1, sizeof *q->vars);
	q->items = xcalloc(n + 1, sizeof *q->items);
	q->lines = xcalloc(n + 1, sizeof *q->lines);
	q->coupon = xcalloc(1, sizeof *q->coupon);
	if (n) {
		skus = xcalloc(n + 1, sizeof *skus);
		for (size_t i = 0; i < n; i++)
			skus[i] = (char *)doc->items[i].sku;
		if (!cart_variants_load(st, session, skus, n, q->vars, berr, err))
			goto done;
	}
	if (coupon_code && coupon_code[0]) {
		snprintf(q->coupon_code, sizeof q->coupon_code, "%s", coupon_code);
		if (!cart_quote_coupon(st, user, coupon_code, q, &parents, err))
			goto done;
	}
	memcpy(in.currency, cfg->currency, 4);
	for (size_t i = 0; i < n; i++) {
		const struct cart_variant *v = &q->vars[i];
		struct cart_quote_item *it = &q->items[i];
		struct pricing_line *l = &q->lines[q->nlines];

		it->sku = doc->items[i].sku;
		it->quantity = doc->items[i].quantity;
		it->price_at_add = doc->items[i].price_at_add;
		it->variant = v;
		it->line = -1;
		if (!v->active) {
			q->unavailable = true;
			continue;
		}
		if (v->stock < it->quantity)
			q->short_stock = true;
		l->sku = it->sku;
		snprintf(l->currency, sizeof l->currency, "%s", v->currency);
		l->unit_price = v->price;
		l->quantity = it->quantity;
		l->eligible = true;
		if (q->coupon_applies && q->coupon->has_scope) {
			bson_oid_t chain[32];
			size_t nchain = v->has_category ?
				cart_category_chain(&parents, &v->category_id, chain, 32) : 0;

			l->eligible = cart_coupon_in_scope(q->coupon, &v->product_id, chain, nchain);
		}
		it->line = (long)q->nlines;
		q->nlines++;
	}
	in.lines = q->lines;
	in.nlines = q->nlines;
	if (q->coupon_applies)
		in.coupon = cart_coupon_pricing(q->coupon);
	in.methods = ship->methods;
	in.nmethods = ship->nmethods;
	in.method = method;
	in.zone = zone;
	in.tax.rate_bp = cc->tax_rate_bp;
	in.tax.prices_include_tax = cc->prices_include_tax;
	if (!pricing_compute(&in, &q->result, err))
		goto done;
	if (q->coupon_applies && q->result.coupon_status != PRICING_COUPON_APPLIED) {
		q->coupon_reason = pricing_coupon_status_name(q->result.coupon_status);
		q->coupon_applies = false;
	}
	q->checkout_ready = q->nlines > 0 && !q->unavailable && !q->short_stock &&
			    q->result.shipping_quoted && !q->coupon_reason;
	ok = true;
done:
	free(skus);
	bson_destroy(&parents);
	if (!ok)
		cart_quote_release(q);
	return ok;
}

bool cart_quote_user(struct em_store *st, mongoc_client_session_t *session,
		     const struct em_config *cfg, const bson_oid_t *user, const char *zone,
		     const char *method, struct cart_quote *q, bson_error_t *berr,
		     struct em_error *err)
{
	const struct cart_config *cc = cart_config(cfg);
	struct cart_shipping *ship = xmalloc(sizeof *ship);
	struct cart_doc *doc = xcalloc(1, sizeof *doc);
	bool found = false;

	memset(q, 0, sizeof(*q));
	if (!cart_shipping_parse(cc->shipping_methods, cc->shipping_cities,
				 cc->shipping_default_zone, ship, err)) {
		err->kind = EM_ERR_INTERNAL; /* checked at start: a bug */
		goto fail;
	}
	if (!cart_find_user_in(st, session, user, doc, &found, berr, err))
		goto fail;
	if (!cart_quote_doc(st, session, cfg, ship, found ? doc : NULL, user,
			    found ? doc->coupon : NULL, zone, method, q, berr, err))
		goto fail;
	/* the quote owns what it borrowed from here on */
	q->found = found;
	if (found)
		bson_oid_copy(&doc->id, &q->cart_id);
	q->doc = doc;
	q->own_doc = true;
	q->ship = ship;
	return true;
fail:
	cart_doc_free(doc);
	free(doc);
	free(ship);
	return false;
}

const char *cart_quote_zone_for_city(const struct cart_quote *q, const char *city)
{
	return q->ship ? cart_shipping_zone_for_city(q->ship, city) : NULL;
}
