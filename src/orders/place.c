/*
 * place.c - placing an order: one MongoDB transaction (store_txn_run) that
 *
 *  1. reads the account (verified, not disabled) and the two addresses of
 *     its address book (another account's address: 404) in the session;
 *  2. prices the cart with cart_quote_user() - the summary's own code -
 *     for the shipping address's zone and the chosen method, and refuses an
 *     empty cart, an unavailable line, a coupon that no longer applies, or a
 *     total other than the one the caller was shown (409 price_changed);
 *  3. uses the order number taken from a counter before the transaction;
 *  4. decrements every line's stock through inventory_stock_change(), whose
 *     guard never lets stock go below zero (409 naming each short SKU);
 *  5. redeems the coupon under its global limit (a guarded $inc) and its
 *     per-customer and first-order rules, and records the redemption;
 *  6. inserts the order with its snapshots, clears the cart, enqueues the
 *     confirmation mail (cash on delivery; a card order is confirmed when
 *     paid), and stores the idempotent response.
 *
 * Conflicting placements meet on a document both write (the SKU's
 * product, the coupon, the customer's cart), so one of them gets a
 * WriteConflict and runs again on fresh data: that is what makes "never
 * oversold" and "never over-redeemed" hold under concurrency.
 *
 * The order number is deliberately not in the transaction. Every checkout
 * writes the counter, so inside the transaction it made all checkouts
 * conflict with each other - and a worker killed between its writes and
 * its commit left the counter locked until the server dropped the
 * transaction (transactionLifetimeLimitSeconds, 60 s): no checkout on the
 * whole site could be placed for a minute (test_order_faults). Taken by
 * a single atomic $inc first, a number is never given twice; a placement
 * that then fails leaves a gap, which order numbers may have.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/accounts.h"
#include "cart/cart.h"
#include "catalog/catalog.h"
#include "core/alloc.h"
#include "core/bsonjson.h"
#include "core/log.h"
#include "core/time.h"
#include "inventory/inventory.h"
#include "jobs/jobs.h"
#include "orders/orders.h"
#include "orders/orders_internal.h"
#include "store/txn.h"

struct place_ctx {
	struct em_store *st;
	const struct em_config *cfg;
	const struct orders_place_request *in;
	/* outputs, reset at every run of the transaction */
	bson_oid_t order_id;
	json_object *order;
	json_object *extra;
	char number[ORDERS_NUMBER_MAX];
};

/* The address fields an order keeps (me_routes.c's book). */
static const char *const place_address_fields[] = {
	"name", "line1", "line2", "city", "region", "postal_code", "country", "phone",
};

/* Reads one address of user in the session into snap (its fields only). */
static bool place_address(mongoc_client_session_t *session, struct em_store *st,
			  const bson_oid_t *user, const bson_oid_t *id, const char *field,
			  bson_t *snap, char *city, size_t city_size, bson_error_t *berr,
			  struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, doc;
	bson_iter_t it;
	bool found = false;

	/* the caller's id in the filter: another account's address is a 404 */
	BSON_APPEND_OID(&filter, "_id", id);
	BSON_APPEND_OID(&filter, "user_id", user);
	if (!store_find_one(st, session, "addresses", &filter, &doc, &found, berr, "read address",
			    err)) {
		bson_destroy(&filter);
		return false;
	}
	bson_destroy(&filter);
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, field, "no such address in your address book");
		return false;
	}
	for (size_t i = 0; i < EM_ORDERS_COUNT(place_address_fields); i++) {
		if (bson_iter_init_find(&it, &doc, place_address_fields[i]) &&
		    BSON_ITER_HOLDS_UTF8(&it))
			BSON_APPEND_UTF8(snap, place_address_fields[i], bson_iter_utf8(&it, NULL));
		else
			BSON_APPEND_NULL(snap, place_address_fields[i]);
	}
	if (city) {
		city[0] = '\0';
		if (bson_iter_init_find(&it, &doc, "city") && BSON_ITER_HOLDS_UTF8(&it))
			snprintf(city, city_size, "%s", bson_iter_utf8(&it, NULL));
	}
	bson_destroy(&doc);
	return true;
}

/* The account, in the session: e-mail and name, verified and enabled. */
static bool place_user(mongoc_client_session_t *session, struct em_store *st,
		       const bson_oid_t *user, char *email, size_t esize, char *name, size_t nsize,
		       bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, doc;
	bson_iter_t it;
	bool found = false, verified, disabled;

	BSON_APPEND_OID(&filter, "_id", user);
	if (!store_find_one(st, session, "users", &filter, &doc, &found, berr, "read user", err)) {
		bson_destroy(&filter);
		return false;
	}
	bson_destroy(&filter);
	if (!found) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "this account cannot place orders");
		return false;
	}
	email[0] = name[0] = '\0';
	if (bson_iter_init_find(&it, &doc, "email") && BSON_ITER_HOLDS_UTF8(&it))
		snprintf(email, esize, "%s", bson_iter_utf8(&it, NULL));
	if (bson_iter_init_find(&it, &doc, "name") && BSON_ITER_HOLDS_UTF8(&it))
		snprintf(name, nsize, "%s", bson_iter_utf8(&it, NULL));
	verified = bson_iter_init_find(&it, &doc, "email_verified") && BSON_ITER_HOLDS_BOOL(&it) &&
		   bson_iter_bool(&it);
	disabled = bson_iter_init_find(&it, &doc, "disabled") && BSON_ITER_HOLDS_BOOL(&it) &&
		   bson_iter_bool(&it);
	bson_destroy(&doc);
	if (disabled) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "this account cannot place orders");
		return false;
	}
	if (!verified) {
		em_error_set(err, EM_ERR_FORBIDDEN, NULL,
			     "confirm your e-mail address before placing an order");
		return false;
	}
	return true;
}

/*
 * The next order number of the year: one atomic $inc on the year's counter,
 * outside any transaction (see the top of this file). The first order of
 * a year creates the counter by upsert; two racing upserts can make one
 * of them fail on the unique _id, and its retry then finds the document.
 */
static bool place_number(struct em_store *st, char *out, size_t size, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "counters");
	mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
	bson_t query = BSON_INITIALIZER, reply;
	bson_t *update = BCON_NEW("$inc", "{", "seq", BCON_INT64(1), "}");
	bson_iter_t it, v;
	bson_error_t berr;
	time_t now = time(NULL);
	struct tm tm;
	char id[32];
	bool ok = false, updated = false;

	gmtime_r(&now, &tm);
	snprintf(id, sizeof(id), "order_number:%04d", tm.tm_year + 1900);
	BSON_APPEND_UTF8(&query, "_id", id);
	bson_init(&reply);
	if (!fam || !mongoc_find_and_modify_opts_set_update(fam, update) ||
	    !mongoc_find_and_modify_opts_set_flags(
		    fam, MONGOC_FIND_AND_MODIFY_UPSERT | MONGOC_FIND_AND_MODIFY_RETURN_NEW)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the counter update");
		goto done;
	}
	for (int attempt = 0; attempt < 2 && !updated; attempt++) {
		bson_destroy(&reply);
		updated = mongoc_collection_find_and_modify_with_opts(coll, &query, fam, &reply,
								      &berr);
		if (!updated && berr.code != 11000)
			break;
	}
	if (!updated) {
		store_error_set(err, &berr, "order number");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "value") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
	    !bson_iter_recurse(&it, &v) || !bson_iter_find(&v, "seq") ||
	    !orders_number_format(tm.tm_year + 1900, em_bson_iter_int64(&v), out, size)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the order counter is malformed");
		goto done;
	}
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&query);
	bson_destroy(update);
	if (fam)
		mongoc_find_and_modify_opts_destroy(fam);
	mongoc_collection_destroy(coll);
	return ok;
}

/* Counts documents of collection matching filter, inside the session. */
static bool place_count(mongoc_client_session_t *session, struct em_store *st,
			const char *collection, const bson_t *filter, int64_t *n,
			bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_t opts = BSON_INITIALIZER;
	bool ok = store_txn_opts(session, &opts, err);

	if (ok) {
		*n = mongoc_collection_count_documents(coll, filter, &opts, NULL, NULL, berr);
		if (*n < 0) {
			store_error_set(err, berr, "count");
			ok = false;
		}
	}
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

/*
 * Redeems the quote's coupon: the global limit as a guarded $inc (two
 * orders racing for the last use write the same document: one retries and
 * then fails the guard), the per-customer limit and first-order rule
 * counted in the session, and the redemption recorded.
 */
static bool place_coupon(mongoc_client_session_t *session, struct place_ctx *c,
			 const struct cart_quote *q, bson_error_t *berr, struct em_error *err)
{
	const struct cart_coupon *cp = q->coupon;
	mongoc_collection_t *coll = store_collection(c->st, "coupons");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, reply, doc = BSON_INITIALIZER;
	bson_t *update = BCON_NEW("$inc", "{", "used_count", BCON_INT64(1), "}");
	bson_iter_t it;
	int64_t n;
	bool ok = false;

	bson_init(&reply);
	if (cp->usage_limit_per_customer || cp->first_order_only) {
		bson_t f = BSON_INITIALIZER, ne;

		BSON_APPEND_OID(&f, "coupon_id", &cp->id);
		BSON_APPEND_OID(&f, "user_id", c->in->user_id);
		ok = place_count(session, c->st, "coupon_redemptions", &f, &n, berr, err);
		bson_destroy(&f);
		if (!ok)
			goto done;
		ok = false;
		if (cp->usage_limit_per_customer && n >= cp->usage_limit_per_customer) {
			em_error_set(err, EM_ERR_CONFLICT, "coupon",
				     "per_customer_limit: you have used this coupon as often as it allows");
			goto done;
		}
		if (cp->first_order_only) {
			bson_init(&f);
			BSON_APPEND_OID(&f, "user_id", c->in->user_id);
			BSON_APPEND_DOCUMENT_BEGIN(&f, "status", &ne);
			BSON_APPEND_UTF8(&ne, "$ne", "cancelled");
			bson_append_document_end(&f, &ne);
			ok = place_count(session, c->st, "orders", &f, &n, berr, err);
			bson_destroy(&f);
			if (!ok)
				goto done;
			ok = false;
			if (n > 0) {
				em_error_set(err, EM_ERR_CONFLICT, "coupon",
					     "first_order_only: this coupon is for a first order");
				goto done;
			}
		}
	}
	BSON_APPEND_OID(&filter, "_id", &cp->id);
	BSON_APPEND_BOOL(&filter, "active", true);
	if (cp->usage_limit) {
		bson_t lt;

		BSON_APPEND_DOCUMENT_BEGIN(&filter, "used_count", &lt);
		BSON_APPEND_INT64(&lt, "$lt", cp->usage_limit);
		bson_append_document_end(&filter, &lt);
	}
	if (!store_txn_opts(session, &opts, err))
		goto done;
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, update, &opts, &reply, berr)) {
		store_error_set(err, berr, "redeem coupon");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, "coupon",
			     "usage_limit: this coupon has been used as often as it allows");
		goto done;
	}
	mongoc_collection_destroy(coll);
	coll = store_collection(c->st, "coupon_redemptions");
	BSON_APPEND_OID(&doc, "coupon_id", &cp->id);
	BSON_APPEND_OID(&doc, "user_id", c->in->user_id);
	BSON_APPEND_OID(&doc, "order_id", &c->order_id);
	BSON_APPEND_DATE_TIME(&doc, "created_at", em_now_ms());
	bson_destroy(&opts);
	bson_init(&opts);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_insert_one(coll, &doc, &opts, NULL, berr)) {
		store_error_set(err, berr, "record coupon redemption");
		goto done;
	}
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&doc);
	bson_destroy(&filter);
	bson_destroy(&opts);
	bson_destroy(update);
	mongoc_collection_destroy(coll);
	return ok;
}

/* Decrements every priced line's stock; 409 with each SKU that is short. */
static bool place_stock(mongoc_client_session_t *session, struct place_ctx *c,
			const struct cart_quote *q, bson_error_t *berr, struct em_error *err)
{
	json_object *short_list = json_object_new_array();
	char reason[64];

	if (!short_list) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate");
		return false;
	}
	/* what the snapshot shows short, all at once, before writing anything */
	for (size_t i = 0; i < q->nitems; i++) {
		const struct cart_quote_item *it = &q->items[i];

		if (it->line >= 0 && it->variant->stock < it->quantity) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "sku", json_object_new_string(it->sku));
			json_object_object_add(o, "requested", json_object_new_int64(it->quantity));
			json_object_object_add(o, "available",
					       json_object_new_int64(it->variant->stock > 0 ?
									     it->variant->stock : 0));
			json_object_array_add(short_list, o);
		}
	}
	if (json_object_array_length(short_list) > 0) {
		c->extra = json_object_new_object();
		json_object_object_add(c->extra, "skus", short_list);
		em_error_set(err, EM_ERR_CONFLICT, "stock", "out_of_stock: not enough in stock");
		return false;
	}
	json_object_put(short_list);
	snprintf(reason, sizeof(reason), "order %s", c->number);
	for (size_t i = 0; i < q->nlines; i++) {
		struct inventory_result res;

		if (!inventory_stock_change(c->st, session, c->cfg, q->lines[i].sku,
					    -q->lines[i].quantity, reason, c->in->user_id, &res, berr,
					    err)) {
			if (err->kind == EM_ERR_CONFLICT) {
				c->extra = json_object_new_object();
				short_list = json_object_new_array();
				json_object_object_add(c->extra, "skus", short_list);
				json_object *o = json_object_new_object();

				json_object_object_add(o, "sku", json_object_new_string(q->lines[i].sku));
				json_object_object_add(o, "requested",
						       json_object_new_int64(q->lines[i].quantity));
				json_object_array_add(short_list, o);
				em_error_set(err, EM_ERR_CONFLICT, "stock",
					     "out_of_stock: not enough in stock");
			}
			return false;
		}
		/* sort=best_selling: the product's units sold, in the same
		 * transaction (the document the stock change just wrote) */
		if (!catalog_product_sold_add(c->st, session, q->lines[i].sku, q->lines[i].quantity,
					      berr, err))
			return false;
	}
	return true;
}

/* Appends the order's lines (snapshots of the catalog now) to doc. */
static void place_lines(bson_t *doc, const struct cart_quote *q)
{
	bson_t arr, el;
	char key[16];
	size_t k = 0;

	BSON_APPEND_ARRAY_BEGIN(doc, "lines", &arr);
	for (size_t i = 0; i < q->nitems; i++) {
		const struct cart_quote_item *it = &q->items[i];
		const struct pricing_line *l;

		if (it->line < 0)
			continue;
		l = &q->lines[it->line];
		snprintf(key, sizeof(key), "%zu", k++);
		BSON_APPEND_DOCUMENT_BEGIN(&arr, key, &el);
		BSON_APPEND_UTF8(&el, "sku", it->sku);
		BSON_APPEND_OID(&el, "product_id", &it->variant->product_id);
		BSON_APPEND_UTF8(&el, "title", it->variant->title);
		if (it->variant->options)
			BSON_APPEND_DOCUMENT(&el, "options", it->variant->options);
		BSON_APPEND_INT64(&el, "quantity", l->quantity);
		BSON_APPEND_INT64(&el, "unit_price", l->unit_price);
		BSON_APPEND_INT64(&el, "line_total", l->line_total);
		BSON_APPEND_INT64(&el, "discount", l->discount);
		BSON_APPEND_INT64(&el, "tax", l->tax);
		BSON_APPEND_INT64(&el, "returned_quantity", 0);
		bson_append_document_end(&arr, &el);
	}
	bson_append_array_end(doc, &arr);
}

/* The confirmation mail's vars: lines with formatted prices, the total. */
static void place_mail_vars(bson_t *vars, const char *name, const char *number,
			    const struct cart_quote *q, const bson_t *addr)
{
	bson_t items, el;
	char key[16], money[64], address[1024] = "";
	size_t k = 0, len = 0;
	bson_iter_t it;

	BSON_APPEND_UTF8(vars, "name", name[0] ? name : "customer");
	BSON_APPEND_UTF8(vars, "order_id", number);
	BSON_APPEND_ARRAY_BEGIN(vars, "items", &items);
	for (size_t i = 0; i < q->nitems; i++) {
		const struct cart_quote_item *ci = &q->items[i];

		if (ci->line < 0)
			continue;
		snprintf(key, sizeof(key), "%zu", k++);
		BSON_APPEND_DOCUMENT_BEGIN(&items, key, &el);
		BSON_APPEND_UTF8(&el, "title", ci->variant->title);
		BSON_APPEND_INT64(&el, "quantity", ci->quantity);
		orders_money_format(q->lines[ci->line].line_total, q->result.currency, money,
				    sizeof(money));
		BSON_APPEND_UTF8(&el, "price", money);
		bson_append_document_end(&items, &el);
	}
	bson_append_array_end(vars, &items);
	orders_money_format(q->result.total, q->result.currency, money, sizeof(money));
	BSON_APPEND_UTF8(vars, "total", money);
	if (bson_iter_init(&it, addr))
		while (bson_iter_next(&it))
			if (BSON_ITER_HOLDS_UTF8(&it) && strcmp(bson_iter_key(&it), "phone") != 0) {
				int n = snprintf(address + len, sizeof(address) - len, "%s%s",
						 len ? "\n" : "", bson_iter_utf8(&it, NULL));

				if (n > 0 && (size_t)n < sizeof(address) - len)
					len += (size_t)n;
			}
	BSON_APPEND_UTF8(vars, "address", address);
}

/*
 * The quote's refusals, before anything is written: an empty cart, an
 * unavailable line, a coupon that no longer applies, no shipping for the
 * address, a total other than the one shown, cash on delivery when it is
 * off or over its limit.
 */
static bool place_checks(struct place_ctx *c, const struct cart_quote *q, struct em_error *err)
{
	const struct orders_place_request *in = c->in;
	const struct orders_config *oc = orders_config(c->cfg);
	bool cod = strcmp(in->payment_method, "cod") == 0;

	if (!q->found || q->nlines == 0) {
		em_error_set(err, EM_ERR_CONFLICT, "cart", "cart_empty: the cart has nothing to order");
		return false;
	}
	if (q->unavailable) {
		em_error_set(err, EM_ERR_CONFLICT, "cart",
			     "unavailable: a line's product is no longer sold; remove it first");
		return false;
	}
	if (q->coupon_code[0] && !q->coupon_applies) {
		em_error_set(err, EM_ERR_CONFLICT, "coupon", "%s: the cart's coupon does not apply",
			     q->coupon_reason ? q->coupon_reason : "unknown");
		return false;
	}
	if (!q->result.shipping_quoted) {
		em_error_set(err, EM_ERR_INVALID, "shipping_address_id",
			     "no shipping method serves this address");
		return false;
	}
	if (in->has_expected_total && in->expected_total != q->result.total) {
		c->extra = json_object_new_object();
		json_object_object_add(c->extra, "total", json_object_new_int64(q->result.total));
		json_object_object_add(c->extra, "expected_total",
				       json_object_new_int64(in->expected_total));
		em_error_set(err, EM_ERR_CONFLICT, "expected_total",
			     "price_changed: the cart's total is not the one shown; review it");
		return false;
	}
	if (cod && !oc->cod_enabled) {
		em_error_set(err, EM_ERR_INVALID, "payment_method", "cash on delivery is not offered");
		return false;
	}
	if (cod && oc->cod_max_total && q->result.total > oc->cod_max_total) {
		em_error_set(err, EM_ERR_INVALID, "payment_method",
			     "this total is over the cash-on-delivery limit");
		return false;
	}
	return true;
}

/* What the order is placed with besides the cart: who, where to. */
struct place_who {
	char email[256], name[256], city[128];
	bson_t ship_addr, bill_addr;
	const char *zone;
};

/* The first event of every order: placed by its customer. */
static void place_first_event(bson_t *doc, const bson_oid_t *user, int64_t now)
{
	bson_t evs, ev, by;

	BSON_APPEND_ARRAY_BEGIN(doc, "events", &evs);
	BSON_APPEND_DOCUMENT_BEGIN(&evs, "0", &ev);
	BSON_APPEND_NULL(&ev, "from");
	BSON_APPEND_UTF8(&ev, "to", "pending");
	BSON_APPEND_DOCUMENT_BEGIN(&ev, "by", &by);
	BSON_APPEND_OID(&by, "id", user);
	BSON_APPEND_UTF8(&by, "role", "customer");
	bson_append_document_end(&ev, &by);
	BSON_APPEND_DATE_TIME(&ev, "at", now);
	BSON_APPEND_UTF8(&ev, "note", "order placed");
	bson_append_document_end(&evs, &ev);
	bson_append_array_end(doc, &evs);
}

/* The order document (orders.h lists its fields), from the quote. */
static void place_order_doc(bson_t *doc, const struct place_ctx *c, const struct cart_quote *q,
			    const struct place_who *w, int64_t now)
{
	const struct orders_place_request *in = c->in;
	bool cod = strcmp(in->payment_method, "cod") == 0;
	bson_t child;

	BSON_APPEND_OID(doc, "_id", &c->order_id);
	BSON_APPEND_UTF8(doc, "number", c->number);
	BSON_APPEND_OID(doc, "user_id", in->user_id);
	BSON_APPEND_UTF8(doc, "email", w->email);
	BSON_APPEND_UTF8(doc, "name", w->name);
	BSON_APPEND_UTF8(doc, "status", "pending");
	BSON_APPEND_UTF8(doc, "payment_method", in->payment_method);
	BSON_APPEND_UTF8(doc, "payment_status", "unpaid");
	BSON_APPEND_UTF8(doc, "currency", q->result.currency);
	place_lines(doc, q);
	BSON_APPEND_INT64(doc, "subtotal", q->result.subtotal);
	BSON_APPEND_INT64(doc, "discount", q->result.discount);
	BSON_APPEND_INT64(doc, "shipping", q->result.shipping);
	BSON_APPEND_INT64(doc, "tax", q->result.tax);
	BSON_APPEND_INT64(doc, "total", q->result.total);
	BSON_APPEND_BOOL(doc, "prices_include_tax", cart_config(c->cfg)->prices_include_tax);
	if (q->coupon_applies) {
		BSON_APPEND_DOCUMENT_BEGIN(doc, "coupon", &child);
		BSON_APPEND_OID(&child, "id", &q->coupon->id);
		BSON_APPEND_UTF8(&child, "code", q->coupon->code);
		bson_append_document_end(doc, &child);
	} else {
		BSON_APPEND_NULL(doc, "coupon");
	}
	BSON_APPEND_UTF8(doc, "shipping_method", q->result.method ? q->result.method : "");
	BSON_APPEND_UTF8(doc, "shipping_zone", w->zone);
	BSON_APPEND_DOCUMENT(doc, "shipping_address", &w->ship_addr);
	BSON_APPEND_DOCUMENT(doc, "billing_address", &w->bill_addr);
	if (in->has_note)
		BSON_APPEND_UTF8(doc, "note", in->note);
	else
		BSON_APPEND_NULL(doc, "note");
	BSON_APPEND_NULL(doc, "carrier");
	BSON_APPEND_NULL(doc, "tracking_number");
	BSON_APPEND_NULL(doc, "delivered_at");
	/* a card order holds its stock until it is paid, or expires */
	if (cod)
		BSON_APPEND_NULL(doc, "expires_at");
	else
		BSON_APPEND_DATE_TIME(doc, "expires_at",
				      now + (int64_t)orders_config(c->cfg)->payment_timeout_s * 1000);
	place_first_event(doc, in->user_id, now);
	BSON_APPEND_INT64(doc, "version", 1);
	BSON_APPEND_DATE_TIME(doc, "created_at", now);
	BSON_APPEND_DATE_TIME(doc, "updated_at", now);
}

/* Who orders and where to: the account and its two addresses, the zone. */
static bool place_who_read(mongoc_client_session_t *session, struct place_ctx *c,
			   const struct cart_shipping *ship, struct place_who *w,
			   bson_error_t *berr, struct em_error *err)
{
	const struct orders_place_request *in = c->in;

	if (!place_user(session, c->st, in->user_id, w->email, sizeof w->email, w->name,
			sizeof w->name, berr, err) ||
	    !place_address(session, c->st, in->user_id, &in->shipping_address_id,
			   "shipping_address_id", &w->ship_addr, w->city, sizeof w->city, berr, err) ||
	    !place_address(session, c->st, in->user_id,
			   in->has_billing_address ? &in->billing_address_id
						   : &in->shipping_address_id,
			   "billing_address_id", &w->bill_addr, NULL, 0, berr, err))
		return false;
	w->zone = cart_shipping_zone_for_city(ship, w->city);
	if (in->shipping_method[0] &&
	    !pricing_method_find(ship->methods, ship->nmethods, in->shipping_method)) {
		em_error_set(err, EM_ERR_INVALID, "shipping_method", "unknown shipping method");
		return false;
	}
	return true;
}

static bool place_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
		      struct em_error *err)
{
	struct place_ctx *c = vctx;
	const struct orders_place_request *in = c->in;
	const struct cart_config *cc = cart_config(c->cfg);
	struct cart_shipping *ship = xmalloc(sizeof *ship);
	struct cart_quote q;
	struct place_who w;
	bson_t doc = BSON_INITIALIZER, vars = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	mongoc_collection_t *coll = NULL;
	char dedupe[96];
	bool ok = false, quoted = false, cod = strcmp(in->payment_method, "cod") == 0;
	int64_t now = em_now_ms();

	/* a run may be a retry: nothing of the last one survives */
	json_object_put(c->order);
	json_object_put(c->extra);
	c->order = c->extra = NULL;
	bson_oid_init(&c->order_id, NULL);
	memset(&w, 0, sizeof w);
	bson_init(&w.ship_addr);
	bson_init(&w.bill_addr);
	if (!cart_shipping_parse(cc->shipping_methods, cc->shipping_cities,
				 cc->shipping_default_zone, ship, err)) {
		err->kind = EM_ERR_INTERNAL; /* checked at start: a bug */
		goto done;
	}
	if (!place_who_read(session, c, ship, &w, berr, err) ||
	    !cart_quote_user(c->st, session, c->cfg, in->user_id, w.zone,
			     in->shipping_method[0] ? in->shipping_method : NULL, &q, berr, err))
		goto done;
	quoted = true;
	if (!place_checks(c, &q, err) ||
	    !place_stock(session, c, &q, berr, err) ||
	    (q.coupon_applies && !place_coupon(session, c, &q, berr, err)))
		goto done;
	place_order_doc(&doc, c, &q, &w, now);
	coll = store_collection(c->st, "orders");
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_insert_one(coll, &doc, &opts, NULL, berr)) {
		store_error_set(err, berr, "insert order");
		goto done;
	}
	if (!orders_cart_clear(session, c->st, &q.cart_id, berr, err))
		goto done;
	/* cash on delivery is confirmed now; a card order when it is paid */
	if (cod) {
		place_mail_vars(&vars, w.name, c->number, &q, &w.ship_addr);
		snprintf(dedupe, sizeof dedupe, "order_confirmation:%s", c->number);
		if (!jobs_email_enqueue(c->st, session, w.email, "order_confirmation", &vars, dedupe,
					berr, err))
			goto done;
	}
	c->order = orders_render(&doc, false);
	if (!c->order) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render the order");
		goto done;
	}
	if (in->idem_key &&
	    !orders_idem_finish(session, c->st, in->user_id, in->idem_key, 201, c->order,
				&c->order_id, berr, err))
		goto done;
	ok = true;
done:
	if (quoted)
		cart_quote_release(&q);
	free(ship);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&w.ship_addr);
	bson_destroy(&w.bill_addr);
	bson_destroy(&doc);
	bson_destroy(&vars);
	bson_destroy(&opts);
	return ok;
}

bool orders_place(struct em_store *st, const struct em_config *cfg,
		  const struct orders_place_request *in, struct orders_place_result *out,
		  struct em_error *err)
{
	struct place_ctx c;

	memset(&c, 0, sizeof c);
	memset(out, 0, sizeof *out);
	c.st = st;
	c.cfg = cfg;
	c.in = in;
	if (!place_number(st, c.number, sizeof c.number, err) ||
	    !store_txn_run(st, place_txn, &c, err)) {
		json_object_put(c.order);
		out->problem_extra = c.extra;
		return false;
	}
	json_object_put(c.extra);
	em_info("order %s placed (%s)", c.number, in->payment_method);
	bson_oid_copy(&c.order_id, &out->order_id);
	out->order = c.order;
	return true;
}

void orders_place_result_release(struct orders_place_result *r)
{
	json_object_put(r->order);
	json_object_put(r->problem_extra);
	memset(r, 0, sizeof *r);
}

bool orders_cart_clear(mongoc_client_session_t *session, struct em_store *st,
		       const bson_oid_t *cart_id, bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bson_t *update = BCON_NEW("$set", "{", "items", "[", "]", "updated_at",
				  BCON_DATE_TIME(em_now_ms()), "}", "$unset", "{", "coupon",
				  BCON_UTF8(""), "}");
	bool ok;

	BSON_APPEND_OID(&filter, "_id", cart_id);
	/* the same document every placement of this customer writes: two of
	 * its orders at once conflict here, and one runs again on fresh data */
	ok = store_update_one(st, session, "carts", &filter, update, NULL, berr, "clear cart", err);
	bson_destroy(update);
	bson_destroy(&filter);
	return ok;
}
