/*
 * cart_routes.c - /api/v1/cart: the caller's cart, its lines, its coupon
 * and the order summary.
 *
 * The routes are public (guests have carts); a request that carries an
 * access token is authenticated here with the auth module's
 * authenticator, and then only the account's cart is reachable. A guest
 * reaches a cart only through its token; an unknown, expired or merged
 * token is a 404, like a cart that does not exist.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "cart/cart_internal.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/jsonbuf.h"
#include "core/jsonbuf_bson.h"

/* ---- who is calling, and which cart is theirs ---- */

struct cart_caller {
	bool user;                 /* signed in: the account's cart */
	bson_oid_t uid;
	bool token;                /* a guest token came with the request */
	char token_hash[65];
	bool found;                /* the cart exists */
	struct cart_doc doc;
	struct cart_merge_report merge;
	char new_token[CART_TOKEN_LEN + 1]; /* set when this request made the guest cart */
};

static const struct cart_config *cart_cc(const struct em_request *req)
{
	return cart_config(&req->app->cfg);
}

static int64_t cart_expiry(const struct em_request *req, const struct cart_caller *c)
{
	return c->user ? 0 : cart_now_ms() + (int64_t)cart_cc(req)->guest_ttl_s * 1000;
}

static void cart_cookie_set(struct em_request *req, const char *token, int max_age)
{
	char buf[256];

	/* __Host-: Secure, Path=/, no Domain; Strict so no other site's page
	 * can make the browser send it */
	snprintf(buf, sizeof buf, "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d",
		 CART_COOKIE, token, max_age);
	em_response_header(req, "Set-Cookie", buf);
}

/*
 * Resolves the caller: authenticates a bearer token when one is sent,
 * reads the guest token (X-Cart-Token, else the cookie), merges a guest
 * cart into the account's when both are present, and loads the cart.
 */
static bool cart_caller_load(struct em_request *req, struct cart_caller *c, struct em_error *err)
{
	const char *token = em_request_header(req, "X-Cart-Token");
	bool from_cookie = false;

	memset(c, 0, sizeof *c);
	if (em_request_header(req, "Authorization")) {
		enum em_role role = EM_ROLE_PUBLIC;

		if (!auth_request_authenticate(req, &role, err))
			return false;
		req->role = (int)role;
		if (!bson_oid_is_valid(req->user_id, strlen(req->user_id))) {
			em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "no signed-in account");
			return false;
		}
		bson_oid_init_from_string(&c->uid, req->user_id);
		c->user = true;
	}
	if (!token) {
		token = em_request_cookie(req, CART_COOKIE);
		from_cookie = token != NULL;
	}
	if (token && !(from_cookie && token[0] == '\0')) {
		if (!cart_token_valid(token)) {
			em_error_set(err, EM_ERR_INVALID, from_cookie ? CART_COOKIE : "X-Cart-Token",
				     "a cart token is %d base64url characters", CART_TOKEN_LEN);
			return false;
		}
		c->token = true;
		cart_token_hash(token, c->token_hash);
	}
	if (c->user) {
		if (c->token) {
			if (!cart_merge(&req->app->store, cart_cc(req), &c->uid, c->token_hash,
					&c->merge, err))
				return false;
			/* merged now or before: the browser's token is spent either way */
			if (from_cookie)
				cart_cookie_set(req, "", 0);
		}
		return cart_find_user(&req->app->store, &c->uid, &c->doc, &c->found, err);
	}
	if (c->token) {
		if (!cart_find_guest(&req->app->store, c->token_hash, &c->doc, &c->found, err))
			return false;
		if (!c->found) {
			em_error_set(err, EM_ERR_NOT_FOUND, NULL,
				     "no cart for this token (unknown, expired or merged)");
			return false;
		}
	}
	return true;
}

/* The caller's cart, made when it has none (guests get a token). */
static bool cart_caller_ensure(struct em_request *req, struct cart_caller *c, struct em_error *err)
{
	bson_oid_t id;

	if (c->found)
		return true;
	if (c->user) {
		if (!cart_ensure_user(&req->app->store, &c->uid, &id, err))
			return false;
	} else {
		if (!cart_token_new(c->new_token, c->token_hash, err) ||
		    !cart_create_guest(&req->app->store, c->token_hash, cart_cc(req)->guest_ttl_s,
				       &id, err))
			return false;
		c->token = true;
		cart_cookie_set(req, c->new_token, cart_cc(req)->guest_ttl_s);
	}
	memset(&c->doc, 0, sizeof c->doc);
	bson_oid_copy(&id, &c->doc.id);
	c->doc.guest = !c->user;
	c->found = true;
	return true;
}

/* Reads the cart again after a change. */
static bool cart_caller_reload(struct em_request *req, struct cart_caller *c, struct em_error *err)
{
	cart_doc_free(&c->doc);
	if (c->user)
		return cart_find_user(&req->app->store, &c->uid, &c->doc, &c->found, err);
	return cart_find_guest(&req->app->store, c->token_hash, &c->doc, &c->found, err);
}

static void cart_caller_release(struct cart_caller *c)
{
	cart_doc_free(&c->doc);
}

/* ---- rendering: straight to JSON bytes (core/jsonbuf.h), no json-c tree ---- */

static void cart_oid_write(struct em_jsonbuf *b, const bson_oid_t *oid)
{
	char hex[25];

	bson_oid_to_string(oid, hex);
	em_jsonbuf_string(b, hex, 24);
}

static void cart_str_list_write(struct em_jsonbuf *b, char (*list)[CART_SKU_MAX + 1], size_t n)
{
	em_jsonbuf_char(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			em_jsonbuf_char(b, ',');
		em_jsonbuf_cstr(b, list[i]);
	}
	em_jsonbuf_char(b, ']');
}

static void cart_respond(struct em_request *req, int status, struct em_jsonbuf *b)
{
	size_t len;
	char *body = em_jsonbuf_take(b, &len);

	em_response_json_bytes(req, status, body, len);
}

/* "in_stock", "low_stock", "out_of_stock" or "unavailable". */
static const char *cart_stock_state(const struct cart_variant *v)
{
	if (!v->active)
		return "unavailable";
	if (v->stock <= 0)
		return "out_of_stock";
	return v->low_stock ? "low_stock" : "in_stock";
}

static bool cart_load_variants(struct em_request *req, const struct cart_doc *d,
			       struct cart_variant **vars, struct em_error *err)
{
	char **skus = xcalloc(d->nitems + 1, sizeof *skus);
	bool ok;

	*vars = xcalloc(d->nitems + 1, sizeof **vars);
	for (size_t i = 0; i < d->nitems; i++)
		skus[i] = (char *)d->items[i].sku;
	ok = cart_variants_load(&req->app->store, NULL, skus, d->nitems, *vars, NULL, err);
	free(skus);
	if (!ok) {
		free(*vars);
		*vars = NULL;
	}
	return ok;
}

/*
 * The cart as GET /api/v1/cart shows it: every line with the catalog's
 * current title, options, image and price, its stock state and what
 * changed since it was added. Nothing is left out: an unavailable line
 * stays, flagged.
 */
static bool cart_render(struct em_request *req, struct cart_caller *c, int status,
			struct em_error *err)
{
	const struct cart_config *cc = cart_cc(req);
	struct cart_variant *vars = NULL;
	struct em_jsonbuf b = EM_JSONBUF_INIT;
	size_t n = c->found ? c->doc.nitems : 0;
	bool first = true;

	if (c->found && !cart_load_variants(req, &c->doc, &vars, err))
		return false;
	em_jsonbuf_reserve(&b, 1024 + 640 * n);
	EM_JSONBUF_LIT(&b, "{\"items\":[");
	for (size_t i = 0; i < n; i++) {
		const struct cart_item *it = &c->doc.items[i];
		const struct cart_variant *v = &vars[i];
		struct em_error ignored = EM_ERROR_INIT;
		bool f = true;
		int64_t total;

		if (i)
			em_jsonbuf_char(&b, ',');
		em_jsonbuf_char(&b, '{');
		em_jsonbuf_member_cstr(&b, &f, "sku", it->sku);
		em_jsonbuf_key(&b, &f, "product_id");
		cart_oid_write(&b, &it->product_id);
		em_jsonbuf_member_int64(&b, &f, "quantity", it->quantity);
		em_jsonbuf_member_cstr(&b, &f, "available", cart_stock_state(v));
		em_jsonbuf_member_bool(&b, &f, "unavailable", !v->active);
		if (v->found) {
			em_jsonbuf_member_cstr(&b, &f, "title", v->title);
			em_jsonbuf_member_cstr(&b, &f, "slug", v->slug);
			em_jsonbuf_key(&b, &f, "options");
			if (v->options)
				em_jsonbuf_bson_doc(&b, v->options, NULL, NULL);
			else
				EM_JSONBUF_LIT(&b, "{}");
			em_jsonbuf_member_cstr(&b, &f, "image", v->image[0] ? v->image : NULL);
			em_jsonbuf_member_int64(&b, &f, "unit_price", v->price);
			em_jsonbuf_member_cstr(&b, &f, "currency", v->currency);
			em_jsonbuf_key(&b, &f, "line_total");
			if (pricing_line_total(v->price, it->quantity, &total, &ignored))
				em_jsonbuf_int64(&b, total);
			else
				em_jsonbuf_null(&b);
		} else {
			/* deleted product or removed variant: what we knew when it was added */
			EM_JSONBUF_LIT(&b, ",\"title\":null,\"unit_price\":null,\"currency\":");
			em_jsonbuf_cstr(&b, it->currency);
			EM_JSONBUF_LIT(&b, ",\"line_total\":null");
		}
		em_jsonbuf_key(&b, &f, "price_changed");
		if (v->found && v->price != it->price_at_add) {
			EM_JSONBUF_LIT(&b, "{\"old\":");
			em_jsonbuf_int64(&b, it->price_at_add);
			EM_JSONBUF_LIT(&b, ",\"new\":");
			em_jsonbuf_int64(&b, v->price);
			em_jsonbuf_char(&b, '}');
		} else {
			em_jsonbuf_null(&b);
		}
		em_jsonbuf_key(&b, &f, "insufficient_stock");
		if (v->found && v->active && v->stock < it->quantity) {
			EM_JSONBUF_LIT(&b, "{\"available\":");
			em_jsonbuf_int64(&b, v->stock > 0 ? v->stock : 0);
			em_jsonbuf_char(&b, '}');
		} else {
			em_jsonbuf_null(&b);
		}
		em_jsonbuf_char(&b, '}');
	}
	em_jsonbuf_char(&b, ']');
	first = false; /* "items" was the first member */
	em_jsonbuf_member_int64(&b, &first, "line_count", (int64_t)n);
	em_jsonbuf_member_int64(&b, &first, "max_lines", cc->max_lines);
	em_jsonbuf_member_int64(&b, &first, "max_quantity", cc->max_qty);
	em_jsonbuf_member_cstr(&b, &first, "currency", req->app->cfg.currency);
	em_jsonbuf_member_cstr(&b, &first, "coupon",
			       c->found && c->doc.coupon[0] ? c->doc.coupon : NULL);
	em_jsonbuf_member_bool(&b, &first, "guest", !c->user);
	if (c->new_token[0])
		em_jsonbuf_member_cstr(&b, &first, "cart_token", c->new_token);
	if (c->merge.merged) {
		bool f = true;

		em_jsonbuf_key(&b, &first, "merge");
		em_jsonbuf_char(&b, '{');
		em_jsonbuf_member_int64(&b, &f, "lines", (int64_t)c->merge.nlines);
		em_jsonbuf_key(&b, &f, "capped");
		cart_str_list_write(&b, c->merge.capped, c->merge.ncapped);
		em_jsonbuf_key(&b, &f, "dropped");
		cart_str_list_write(&b, c->merge.dropped, c->merge.ndropped);
		em_jsonbuf_char(&b, '}');
	}
	em_jsonbuf_char(&b, '}');
	cart_variants_free(vars, n);
	free(vars);
	cart_respond(req, status, &b);
	return true;
}

/* ---- the summary ---- */

struct cart_summary {
	struct em_jsonbuf body;    /* the summary document */
	const char *coupon_reason; /* why the coupon does not apply, or NULL */
};

/* One warning of the summary's (the array's comma is the caller's). */
static void cart_warning(struct em_jsonbuf *b, bool *wfirst, const char *code, const char *sku,
			 const char *message)
{
	bool f = true;

	if (!*wfirst)
		em_jsonbuf_char(b, ',');
	*wfirst = false;
	em_jsonbuf_char(b, '{');
	em_jsonbuf_member_cstr(b, &f, "code", code);
	if (sku) {
		em_jsonbuf_member_cstr(b, &f, "sku", sku);
	}
	em_jsonbuf_member_cstr(b, &f, "message", message);
	em_jsonbuf_char(b, '}');
}

/* The shipping zone of an address in the caller's book (404 otherwise). */
static bool cart_address_zone(struct em_request *req, const struct cart_caller *c,
			      const struct cart_shipping *ship, const char *id, const char **zone,
			      struct em_error *err)
{
	mongoc_collection_t *coll;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bson_oid_t oid;
	bool ok = false, found = false;

	if (strlen(id) != 24 || !bson_oid_is_valid(id, 24)) {
		em_error_set(err, EM_ERR_INVALID, "shipping_address_id", "not an address id");
		return false;
	}
	if (!c->user) {
		em_error_set(err, EM_ERR_NOT_FOUND, "shipping_address_id", "no such address");
		return false;
	}
	bson_oid_init_from_string(&oid, id);
	/* the caller's id in the filter: another account's address is a 404 */
	BSON_APPEND_OID(&filter, "_id", &oid);
	BSON_APPEND_OID(&filter, "user_id", &c->uid);
	BSON_APPEND_INT64(&opts, "limit", 1);
	coll = store_collection(&req->app->store, "addresses");
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;

		found = true;
		*zone = cart_shipping_zone_for_city(
			ship, bson_iter_init_find(&it, doc, "city") && BSON_ITER_HOLDS_UTF8(&it) ?
				      bson_iter_utf8(&it, NULL) : NULL);
	}
	if (mongoc_cursor_error(cur, &berr))
		store_error_set(err, &berr, "read address");
	else if (!found)
		em_error_set(err, EM_ERR_NOT_FOUND, "shipping_address_id", "no such address");
	else
		ok = true;
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}

/*
 * Prices the caller's cart with cart_quote_doc() - the quote order
 * placement charges (src/orders) - and renders it. coupon_code overrides
 * the cart's coupon (PUT /cart/coupon tries one before storing it).
 * zone/method may be NULL.
 */
static bool cart_summary_build(struct em_request *req, struct cart_caller *c,
			       const struct cart_shipping *ship, const char *zone,
			       const char *method, const char *coupon_code,
			       struct cart_summary *out, struct em_error *err)
{
	const struct cart_config *cc = cart_cc(req);
	struct cart_quote q;
	const struct pricing_result *r = &q.result;
	struct em_jsonbuf *b = &out->body;
	bool first = true, wfirst = true;

	memset(out, 0, sizeof *out);
	if (!cart_quote_doc(&req->app->store, NULL, &req->app->cfg, ship, c->found ? &c->doc : NULL,
			    c->user ? &c->uid : NULL, coupon_code, zone, method, &q, NULL, err))
		return false;
	em_jsonbuf_reserve(b, 1024 + 160 * q.nlines + 160 * q.nitems);
	em_jsonbuf_char(b, '{');
	em_jsonbuf_member_cstr(b, &first, "currency", r->currency);
	em_jsonbuf_key(b, &first, "lines");
	em_jsonbuf_char(b, '[');
	for (size_t i = 0; i < q.nlines; i++) {
		const struct pricing_line *l = &q.lines[i];
		bool f = true;

		if (i)
			em_jsonbuf_char(b, ',');
		em_jsonbuf_char(b, '{');
		em_jsonbuf_member_cstr(b, &f, "sku", l->sku);
		em_jsonbuf_member_int64(b, &f, "quantity", l->quantity);
		em_jsonbuf_member_int64(b, &f, "unit_price", l->unit_price);
		em_jsonbuf_member_int64(b, &f, "line_total", l->line_total);
		em_jsonbuf_member_int64(b, &f, "discount", l->discount);
		em_jsonbuf_member_int64(b, &f, "tax", l->tax);
		em_jsonbuf_char(b, '}');
	}
	em_jsonbuf_char(b, ']');
	em_jsonbuf_member_int64(b, &first, "subtotal", r->subtotal);
	em_jsonbuf_member_int64(b, &first, "discount", r->discount);
	em_jsonbuf_member_int64(b, &first, "shipping", r->shipping);
	em_jsonbuf_member_int64(b, &first, "tax", r->tax);
	em_jsonbuf_member_int64(b, &first, "total", r->total);
	em_jsonbuf_member_bool(b, &first, "prices_include_tax", cc->prices_include_tax);
	em_jsonbuf_member_int64(b, &first, "tax_rate_bp", cc->tax_rate_bp);
	em_jsonbuf_member_bool(b, &first, "shipping_quoted", r->shipping_quoted);
	em_jsonbuf_member_bool(b, &first, "shipping_free", r->shipping_free);
	em_jsonbuf_member_cstr(b, &first, "shipping_method", r->method);
	em_jsonbuf_member_cstr(b, &first, "shipping_zone", zone);
	em_jsonbuf_key(b, &first, "coupon");
	if (coupon_code && coupon_code[0]) {
		bool f = true;

		em_jsonbuf_char(b, '{');
		em_jsonbuf_member_cstr(b, &f, "code", coupon_code);
		em_jsonbuf_member_cstr(b, &f, "status", q.coupon_reason ? "not_applicable" : "applied");
		if (q.coupon_reason) {
			em_jsonbuf_member_cstr(b, &f, "reason", q.coupon_reason);
		}
		em_jsonbuf_char(b, '}');
	} else {
		em_jsonbuf_null(b);
	}
	/* the line warnings, then shipping's, then the coupon's */
	em_jsonbuf_key(b, &first, "warnings");
	em_jsonbuf_char(b, '[');
	for (size_t i = 0; i < q.nitems; i++) {
		const struct cart_quote_item *it = &q.items[i];
		const struct cart_variant *v = it->variant;

		if (!v->active)
			cart_warning(b, &wfirst, "unavailable", it->sku,
				     "this product is no longer sold; remove it to check out");
		else if (v->stock < it->quantity)
			cart_warning(b, &wfirst, "insufficient_stock", it->sku,
				     "fewer are in stock than the cart holds");
		if (v->found && v->price != it->price_at_add)
			cart_warning(b, &wfirst, "price_changed", it->sku,
				     "the price changed since it was added");
	}
	if (!r->shipping_quoted)
		cart_warning(b, &wfirst, "shipping_zone_required", NULL,
			     "give shipping_address_id or shipping_zone to quote shipping");
	if (coupon_code && coupon_code[0] && q.coupon_reason)
		cart_warning(b, &wfirst, "coupon_not_applicable", NULL, q.coupon_reason);
	em_jsonbuf_char(b, ']');
	em_jsonbuf_member_bool(b, &first, "checkout_ready", q.checkout_ready);
	em_jsonbuf_char(b, '}');
	/* a reason code: a static string, valid after the quote is gone */
	out->coupon_reason = q.coupon_reason;
	cart_quote_release(&q);
	return true;
}

static struct cart_shipping *cart_shipping_load(struct em_request *req, struct em_error *err)
{
	const struct cart_config *cc = cart_cc(req);
	struct cart_shipping *s = xmalloc(sizeof *s);

	/* checked at start by the configuration check: a failure is a bug */
	if (!cart_shipping_parse(cc->shipping_methods, cc->shipping_cities,
				 cc->shipping_default_zone, s, err)) {
		err->kind = EM_ERR_INTERNAL;
		free(s);
		return NULL;
	}
	return s;
}

/* ---- handlers ---- */

/* GET /api/v1/cart */
static bool cart_get(struct em_request *req, struct em_error *err)
{
	struct cart_caller c;
	bool ok;

	memset(&c, 0, sizeof c);
	ok = em_request_query_check(req, NULL, CART_QUERY_VALUE_MAX, err) &&
	     cart_caller_load(req, &c, err) &&
	     cart_render(req, &c, 200, err);
	cart_caller_release(&c);
	return ok;
}

/* DELETE /api/v1/cart: every line and the coupon go. */
static bool cart_delete(struct em_request *req, struct em_error *err)
{
	struct cart_caller c;
	bool ok = cart_caller_load(req, &c, err);

	if (ok && c.found)
		ok = cart_clear(&req->app->store, &c.doc.id, cart_expiry(req, &c), err);
	if (ok)
		em_response_empty(req, 204);
	cart_caller_release(&c);
	return ok;
}

static bool cart_sku_check(const char *sku, struct em_error *err)
{
	size_t n = sku ? strlen(sku) : 0;

	if (n < 1 || n > CART_SKU_MAX)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char ch = sku[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			goto bad;
	}
	return true;
bad:
	em_error_setc(err, EM_ERR_INVALID, "sku", EM_CODE_INVALID_FORMAT,
		      "a SKU is 1..64 of A-Z a-z 0-9 . _ -");
	return false;
}

/*
 * The sellable variant of sku: found, active, priced so that quantity
 * fits int64, and with quantity in stock. product, when not NULL, must
 * be the variant's product.
 */
static bool cart_variant_sellable(struct em_request *req, const char *sku, int64_t quantity,
				  const bson_oid_t *product, struct cart_variant *v,
				  struct em_error *err)
{
	char *skus[1] = { (char *)sku };
	int64_t total;

	if (!cart_variants_load(&req->app->store, NULL, skus, 1, v, NULL, err))
		return false;
	if (!v->active || (product && !bson_oid_equal(product, &v->product_id))) {
		cart_variants_free(v, 1);
		em_error_set(err, EM_ERR_INVALID, "sku",
			     "no product on sale has this SKU");
		return false;
	}
	if (strcmp(v->currency, req->app->cfg.currency) != 0) {
		cart_variants_free(v, 1);
		em_error_set(err, EM_ERR_INVALID, "sku", "this product is priced in another currency");
		return false;
	}
	if (!pricing_line_total(v->price, quantity, &total, err)) {
		cart_variants_free(v, 1);
		return false;
	}
	if (quantity > v->stock) {
		em_error_set(err, EM_ERR_CONFLICT, "quantity", "only %" PRId64 " in stock",
			     v->stock > 0 ? v->stock : 0);
		cart_variants_free(v, 1);
		return false;
	}
	return true;
}

static const char *const item_fields[] = { "sku", "quantity", NULL };

/*
 * Adds to the caller's cart (shared with the favorites' move-to-cart).
 * Renders the cart: 201 when this request created it, else 200.
 */
bool cart_add_and_render(struct em_request *req, const char *sku, int64_t quantity,
			 const bson_oid_t *product, struct em_error *err)
{
	const struct cart_config *cc = cart_cc(req);
	struct cart_variant v;
	struct cart_caller c;
	int64_t line_qty = 0;
	bool ok = false, created;

	if (!cart_caller_load(req, &c, err))
		goto done;
	if (!cart_variant_sellable(req, sku, quantity, product, &v, err))
		goto done;
	created = !c.found;
	ok = cart_caller_ensure(req, &c, err) &&
	     cart_item_add(&req->app->store, &c.doc.id, sku, &v.product_id, quantity, v.price,
			   v.currency, cc->max_qty, cc->max_lines, cart_expiry(req, &c), &line_qty,
			   err);
	cart_variants_free(&v, 1);
	/* 201 names what it made: the cart, at its one address */
	if (ok && created)
		em_response_header(req, "Location", "/api/v1/cart");
	ok = ok && cart_caller_reload(req, &c, err) && cart_render(req, &c, created ? 201 : 200, err);
done:
	cart_caller_release(&c);
	return ok;
}

/* POST /api/v1/cart/items {sku, quantity} */
static bool cart_items_post(struct em_request *req, struct em_error *err)
{
	const char *sku = NULL;
	int64_t qty = 0;
	bool present;

	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (em_json_check_fields(req->json, item_fields, err) || err->field[0]) {
		if (em_json_get_string(req->json, "sku", 1, CART_SKU_MAX, true, &sku, err))
			cart_sku_check(sku, err);
		em_json_get_int64(req->json, "quantity", 1, cart_cc(req)->max_qty, true, &present,
				  &qty, err);
	}
	if (!em_error_collect_end(err))
		return false;
	return cart_add_and_render(req, sku, qty, NULL, err);
}

static const char *const patch_fields[] = { "quantity", NULL };

/* PATCH /api/v1/cart/items/{sku} {quantity}: 0 removes the line. */
static bool cart_items_patch(struct em_request *req, struct em_error *err)
{
	const char *sku = em_request_path_param(req, "sku");
	struct cart_caller c;
	struct cart_variant v;
	int64_t qty = 0;
	bool present, ok = false;

	memset(&c, 0, sizeof c);
	/* every field checked (the path's SKU too), every fault reported at once */
	em_error_collect(err);
	cart_sku_check(sku, err);
	if (em_json_check_fields(req->json, patch_fields, err) ||
	    json_object_is_type(req->json, json_type_object))
		em_json_get_int64(req->json, "quantity", 0, cart_cc(req)->max_qty, true, &present,
				  &qty, err);
	if (!em_error_collect_end(err) || !cart_caller_load(req, &c, err))
		goto done;
	if (!c.found) {
		em_error_set(err, EM_ERR_NOT_FOUND, "sku", "the cart has no line of this SKU");
		goto done;
	}
	if (qty > 0) {
		if (!cart_variant_sellable(req, sku, qty, NULL, &v, err))
			goto done;
		cart_variants_free(&v, 1);
	}
	ok = cart_item_set(&req->app->store, &c.doc.id, sku, qty, cart_expiry(req, &c), err) &&
	     cart_caller_reload(req, &c, err) && cart_render(req, &c, 200, err);
done:
	cart_caller_release(&c);
	return ok;
}

/* DELETE /api/v1/cart/items/{sku} */
static bool cart_items_delete(struct em_request *req, struct em_error *err)
{
	const char *sku = em_request_path_param(req, "sku");
	struct cart_caller c;
	bool ok = false;

	memset(&c, 0, sizeof c);
	if (!cart_sku_check(sku, err) || !cart_caller_load(req, &c, err))
		goto done;
	if (!c.found) {
		em_error_set(err, EM_ERR_NOT_FOUND, "sku", "the cart has no line of this SKU");
		goto done;
	}
	ok = cart_item_set(&req->app->store, &c.doc.id, sku, 0, cart_expiry(req, &c), err);
	if (ok)
		em_response_empty(req, 204);
done:
	cart_caller_release(&c);
	return ok;
}

static const char *const coupon_body_fields[] = { "code", NULL };

/*
 * A 422 problem with the coupon's reason as a machine-readable member:
 * {"type", "title", "status": 422, "detail", "reason", "errors": [{field:
 * "code"}]}.
 */
static void cart_coupon_refuse(struct em_request *req, const char *reason)
{
	struct em_error err = EM_ERROR_INIT;
	json_object *extra = json_object_new_object();

	em_error_setc(&err, EM_ERR_UNPROCESSABLE, "code", EM_CODE_RULE,
		      "the coupon cannot be applied: %s", reason);
	if (extra)
		json_object_object_add(extra, "reason", json_object_new_string(reason));
	em_response_problem_ext(req, &err, extra);
}

/* PUT /api/v1/cart/coupon {code}: applies one (replacing any) when it can apply. */
static bool cart_coupon_put(struct em_request *req, struct em_error *err)
{
	struct cart_shipping *ship = NULL;
	struct cart_summary sum = { 0 };
	struct cart_caller c;
	const char *code = NULL;
	char key[CART_COUPON_CODE_MAX + 1];
	bool ok = false;

	memset(&c, 0, sizeof c);
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if ((em_json_check_fields(req->json, coupon_body_fields, err) || err->field[0]) &&
	    em_json_get_string(req->json, "code", 1, CART_COUPON_CODE_MAX, true, &code, err))
		cart_coupon_code_check(code, key, sizeof key, err);
	if (!em_error_collect_end(err) || !cart_caller_load(req, &c, err))
		goto done;
	if (!c.found && !c.user) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no cart: add a product first");
		goto done;
	}
	if (!(ship = cart_shipping_load(req, err)) ||
	    !cart_summary_build(req, &c, ship, NULL, NULL, code, &sum, err))
		goto done;
	if (sum.coupon_reason) {
		cart_coupon_refuse(req, sum.coupon_reason);
		em_jsonbuf_free(&sum.body);
		ok = true;
		goto done;
	}
	if (!cart_caller_ensure(req, &c, err) ||
	    !cart_coupon_store(&req->app->store, &c.doc.id, code, cart_expiry(req, &c), err)) {
		em_jsonbuf_free(&sum.body);
		goto done;
	}
	cart_respond(req, 200, &sum.body);
	ok = true;
done:
	free(ship);
	cart_caller_release(&c);
	return ok;
}

/* DELETE /api/v1/cart/coupon */
static bool cart_coupon_delete(struct em_request *req, struct em_error *err)
{
	struct cart_caller c;
	bool ok = cart_caller_load(req, &c, err);

	if (ok && c.found)
		ok = cart_coupon_store(&req->app->store, &c.doc.id, NULL, cart_expiry(req, &c), err);
	if (ok)
		em_response_empty(req, 204);
	cart_caller_release(&c);
	return ok;
}

static const char *const summary_params[] = { "shipping_address_id", "shipping_zone",
					      "shipping_method", NULL };

/* GET /api/v1/cart/summary[?shipping_address_id=|shipping_zone=][&shipping_method=] */
static bool cart_summary_get(struct em_request *req, struct em_error *err)
{
	const char *addr = em_request_query(req, "shipping_address_id");
	const char *zone = em_request_query(req, "shipping_zone");
	const char *method = em_request_query(req, "shipping_method");
	struct cart_shipping *ship = NULL;
	struct cart_summary sum = { 0 };
	struct cart_caller c;
	bool ok = false;

	memset(&c, 0, sizeof c);
	if (!em_request_query_check(req, summary_params, CART_QUERY_VALUE_MAX, err))
		goto done;
	if (addr && zone) {
		em_error_set(err, EM_ERR_INVALID, "shipping_zone",
			     "give shipping_address_id or shipping_zone, not both");
		goto done;
	}
	if (!(ship = cart_shipping_load(req, err)) || !cart_caller_load(req, &c, err))
		goto done;
	if (zone && !cart_shipping_zone_known(ship, zone)) {
		em_error_set(err, EM_ERR_INVALID, "shipping_zone", "no shipping method serves this zone");
		goto done;
	}
	if (method && !pricing_method_find(ship->methods, ship->nmethods, method)) {
		em_error_set(err, EM_ERR_INVALID, "shipping_method", "unknown shipping method");
		goto done;
	}
	if (addr && !cart_address_zone(req, &c, ship, addr, &zone, err))
		goto done;
	if (!cart_summary_build(req, &c, ship, zone, method, c.found ? c.doc.coupon : NULL, &sum,
				err))
		goto done;
	cart_respond(req, 200, &sum.body);
	ok = true;
done:
	free(ship);
	cart_caller_release(&c);
	return ok;
}

static const struct em_route cart_table[] = {
	{ "GET", "/api/v1/cart", cart_get, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "DELETE", "/api/v1/cart", cart_delete, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/cart/items", cart_items_post, EM_ROLE_PUBLIC, EM_BODY_JSON, NULL },
	{ "PATCH", "/api/v1/cart/items/{sku}", cart_items_patch, EM_ROLE_PUBLIC, EM_BODY_JSON,
	  NULL },
	{ "DELETE", "/api/v1/cart/items/{sku}", cart_items_delete, EM_ROLE_PUBLIC, EM_BODY_NONE,
	  NULL },
	{ "PUT", "/api/v1/cart/coupon", cart_coupon_put, EM_ROLE_PUBLIC, EM_BODY_JSON, NULL },
	{ "DELETE", "/api/v1/cart/coupon", cart_coupon_delete, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/cart/summary", cart_summary_get, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
};

const struct em_route_table cart_routes = EM_ROUTE_TABLE("cart", cart_table);
