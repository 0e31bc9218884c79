/*
 * The cart, its summary and the customer's orders (single, list, the
 * public tracking read; the staff's views too) through HTTPS against the
 * json-c renderers they replaced, kept here and only here: each reference
 * is computed from what is stored (the cart, the catalog's variants, the
 * quote the summary prices, the order document) by the old code, and the
 * response body must be those bytes exactly. The carts hold several lines,
 * a coupon, a changed price, an out-of-stock, a short-stock and an
 * unavailable line, and unicode and control characters in titles; the
 * orders are a real placement (its 201 and the reads after it) and stored
 * documents with refunds, events of every shape, long and awkward strings
 * and members of unexpected types.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <bson/bson.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/modules.h"
#include "cart/cart.h"
#include "cart/cart_internal.h"
#include "cart/pricing.h"
#include "core/bsonjson.h"
#include "core/config.h"
#include "core/json.h"
#include "core/jsonbuf_bson.h"
#include "http/page.h"
#include "store/store.h"
#include "harness_orders.h"

static struct em_config cfg;
static struct em_store st;
static char prod_a[25], prod_b[25], prod_c[25], coupon_code[64];

/* ---- the old renderers (as src had them before the byte writer) ---- */

static json_object *old_oid(const bson_oid_t *oid)
{
	char hex[25];

	bson_oid_to_string(oid, hex);
	return json_object_new_string(hex);
}

static const char *old_stock_state(const struct cart_variant *v)
{
	if (!v->active)
		return "unavailable";
	if (v->stock <= 0)
		return "out_of_stock";
	return v->low_stock ? "low_stock" : "in_stock";
}

static json_object *old_str_list(char (*list)[CART_SKU_MAX + 1], size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(list[i]));
	return a;
}

/* cart_render() of cart_routes.c; token: a new guest cart's, or NULL. */
static json_object *old_cart_full(const struct cart_doc *d, bool found, bool user, const char *token,
				  const struct cart_merge_report *merge)
{
	const struct cart_config *cc = cart_config(&cfg);
	struct cart_variant *vars = calloc(d ? d->nitems + 1 : 1, sizeof *vars);
	json_object *o = json_object_new_object(), *items = json_object_new_array();

	if (found) {
		char **skus = calloc(d->nitems + 1, sizeof *skus);
		struct em_error e = EM_ERROR_INIT;

		for (size_t i = 0; i < d->nitems; i++)
			skus[i] = (char *)d->items[i].sku;
		if (!cart_variants_load(&st, NULL, skus, d->nitems, vars, NULL, &e))
			fail_msg("variants: %s", e.message);
		free(skus);
	}
	for (size_t i = 0; found && i < d->nitems; i++) {
		const struct cart_item *it = &d->items[i];
		const struct cart_variant *v = &vars[i];
		json_object *l = json_object_new_object(), *pc = NULL, *is = NULL;
		struct em_error ignored = EM_ERROR_INIT;
		int64_t total;

		json_object_object_add(l, "sku", json_object_new_string(it->sku));
		json_object_object_add(l, "product_id", old_oid(&it->product_id));
		json_object_object_add(l, "quantity", json_object_new_int64(it->quantity));
		json_object_object_add(l, "available", json_object_new_string(old_stock_state(v)));
		json_object_object_add(l, "unavailable", json_object_new_boolean(!v->active));
		if (v->found) {
			json_object_object_add(l, "title", json_object_new_string(v->title));
			json_object_object_add(l, "slug", json_object_new_string(v->slug));
			json_object_object_add(l, "options",
					       v->options ? em_bson_to_json(v->options) :
							    json_object_new_object());
			json_object_object_add(l, "image",
					       v->image[0] ? json_object_new_string(v->image) : NULL);
			json_object_object_add(l, "unit_price", json_object_new_int64(v->price));
			json_object_object_add(l, "currency", json_object_new_string(v->currency));
			json_object_object_add(l, "line_total",
					       pricing_line_total(v->price, it->quantity, &total, &ignored) ?
						       json_object_new_int64(total) : NULL);
			if (v->price != it->price_at_add) {
				pc = json_object_new_object();
				json_object_object_add(pc, "old", json_object_new_int64(it->price_at_add));
				json_object_object_add(pc, "new", json_object_new_int64(v->price));
			}
			if (v->active && v->stock < it->quantity) {
				is = json_object_new_object();
				json_object_object_add(is, "available",
						       json_object_new_int64(v->stock > 0 ? v->stock : 0));
			}
		} else {
			json_object_object_add(l, "title", NULL);
			json_object_object_add(l, "unit_price", NULL);
			json_object_object_add(l, "currency", json_object_new_string(it->currency));
			json_object_object_add(l, "line_total", NULL);
		}
		json_object_object_add(l, "price_changed", pc);
		json_object_object_add(l, "insufficient_stock", is);
		json_object_array_add(items, l);
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "line_count", json_object_new_int64(found ? (int64_t)d->nitems : 0));
	json_object_object_add(o, "max_lines", json_object_new_int(cc->max_lines));
	json_object_object_add(o, "max_quantity", json_object_new_int(cc->max_qty));
	json_object_object_add(o, "currency", json_object_new_string(cfg.currency));
	json_object_object_add(o, "coupon",
			       found && d->coupon[0] ? json_object_new_string(d->coupon) : NULL);
	json_object_object_add(o, "guest", json_object_new_boolean(!user));
	if (token)
		json_object_object_add(o, "cart_token", json_object_new_string(token));
	if (merge && merge->merged) {
		json_object *m = json_object_new_object();

		json_object_object_add(m, "lines", json_object_new_int64((int64_t)merge->nlines));
		json_object_object_add(m, "capped", old_str_list((char (*)[CART_SKU_MAX + 1])merge->capped,
								 merge->ncapped));
		json_object_object_add(m, "dropped",
				       old_str_list((char (*)[CART_SKU_MAX + 1])merge->dropped,
						    merge->ndropped));
		json_object_object_add(o, "merge", m);
	}
	cart_variants_free(vars, found ? d->nitems : 0);
	free(vars);
	return o;
}

static json_object *old_cart(const struct cart_doc *d, bool found, bool user)
{
	return old_cart_full(d, found, user, NULL, NULL);
}

static void old_warning(json_object *w, const char *code, const char *sku, const char *message)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "code", json_object_new_string(code));
	if (sku)
		json_object_object_add(o, "sku", json_object_new_string(sku));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_array_add(w, o);
}

/* cart_summary_build() of cart_routes.c. */
static json_object *old_summary(const struct cart_doc *d, bool found, const bson_oid_t *user,
				const char *coupon, const char *zone, const char *method)
{
	const struct cart_config *cc = cart_config(&cfg);
	struct cart_shipping ship;
	struct cart_quote q;
	const struct pricing_result *r = &q.result;
	struct em_error e = EM_ERROR_INIT;
	json_object *o, *jl, *w, *jc = NULL;

	if (!cart_shipping_parse(cc->shipping_methods, cc->shipping_cities,
				 cc->shipping_default_zone, &ship, &e))
		fail_msg("shipping: %s", e.message);
	if (!cart_quote_doc(&st, NULL, &cfg, &ship, found ? d : NULL, user, coupon, zone, method, &q,
			    NULL, &e))
		fail_msg("quote: %s", e.message);
	o = json_object_new_object();
	jl = json_object_new_array();
	w = json_object_new_array();
	for (size_t i = 0; i < q.nlines; i++) {
		json_object *l = json_object_new_object();

		json_object_object_add(l, "sku", json_object_new_string(q.lines[i].sku));
		json_object_object_add(l, "quantity", json_object_new_int64(q.lines[i].quantity));
		json_object_object_add(l, "unit_price", json_object_new_int64(q.lines[i].unit_price));
		json_object_object_add(l, "line_total", json_object_new_int64(q.lines[i].line_total));
		json_object_object_add(l, "discount", json_object_new_int64(q.lines[i].discount));
		json_object_object_add(l, "tax", json_object_new_int64(q.lines[i].tax));
		json_object_array_add(jl, l);
	}
	for (size_t i = 0; i < q.nitems; i++) {
		const struct cart_quote_item *it = &q.items[i];
		const struct cart_variant *v = it->variant;

		if (!v->active)
			old_warning(w, "unavailable", it->sku,
				    "this product is no longer sold; remove it to check out");
		else if (v->stock < it->quantity)
			old_warning(w, "insufficient_stock", it->sku,
				    "fewer are in stock than the cart holds");
		if (v->found && v->price != it->price_at_add)
			old_warning(w, "price_changed", it->sku, "the price changed since it was added");
	}
	if (!r->shipping_quoted)
		old_warning(w, "shipping_zone_required", NULL,
			    "give shipping_address_id or shipping_zone to quote shipping");
	if (coupon && coupon[0]) {
		jc = json_object_new_object();
		json_object_object_add(jc, "code", json_object_new_string(coupon));
		json_object_object_add(jc, "status",
				       json_object_new_string(q.coupon_reason ? "not_applicable"
									      : "applied"));
		if (q.coupon_reason) {
			json_object_object_add(jc, "reason", json_object_new_string(q.coupon_reason));
			old_warning(w, "coupon_not_applicable", NULL, q.coupon_reason);
		}
	}
	json_object_object_add(o, "currency", json_object_new_string(r->currency));
	json_object_object_add(o, "lines", jl);
	json_object_object_add(o, "subtotal", json_object_new_int64(r->subtotal));
	json_object_object_add(o, "discount", json_object_new_int64(r->discount));
	json_object_object_add(o, "shipping", json_object_new_int64(r->shipping));
	json_object_object_add(o, "tax", json_object_new_int64(r->tax));
	json_object_object_add(o, "total", json_object_new_int64(r->total));
	json_object_object_add(o, "prices_include_tax", json_object_new_boolean(cc->prices_include_tax));
	json_object_object_add(o, "tax_rate_bp", json_object_new_int(cc->tax_rate_bp));
	json_object_object_add(o, "shipping_quoted", json_object_new_boolean(r->shipping_quoted));
	json_object_object_add(o, "shipping_free", json_object_new_boolean(r->shipping_free));
	json_object_object_add(o, "shipping_method",
			       r->method ? json_object_new_string(r->method) : NULL);
	json_object_object_add(o, "shipping_zone", zone ? json_object_new_string(zone) : NULL);
	json_object_object_add(o, "coupon", jc);
	json_object_object_add(o, "warnings", w);
	json_object_object_add(o, "checkout_ready", json_object_new_boolean(q.checkout_ready));
	cart_quote_release(&q);
	return o;
}

static const char *const old_customer_fields[] = {
	"number", "status", "payment_method", "payment_status", "currency", "subtotal",
	"discount", "shipping", "tax", "total", "prices_include_tax", "shipping_method",
	"shipping_zone", "shipping_address", "billing_address", "note", "carrier",
	"tracking_number", "delivered_at", "version", "created_at", "updated_at", NULL,
};
static const char *const old_staff_fields[] = { "user_id", "email", "name", "expires_at", NULL };

static void old_copy(json_object *to, json_object *from, const char *key)
{
	json_object *v = NULL;

	if (json_object_object_get_ex(from, key, &v))
		json_object_object_add(to, key, json_object_get(v));
	else
		json_object_object_add(to, key, NULL);
}

static json_object *old_event(json_object *e, bool staff, bool public_view)
{
	json_object *o = json_object_new_object(), *v;

	old_copy(o, e, "from");
	old_copy(o, e, "to");
	old_copy(o, e, "at");
	if (!public_view)
		old_copy(o, e, "note");
	if (json_object_object_get_ex(e, "carrier", &v))
		json_object_object_add(o, "carrier", json_object_get(v));
	if (json_object_object_get_ex(e, "tracking_number", &v))
		json_object_object_add(o, "tracking_number", json_object_get(v));
	if (staff)
		old_copy(o, e, "by");
	return o;
}

static json_object *old_events(json_object *all, bool staff, bool public_view)
{
	json_object *evs = NULL, *out = json_object_new_array();

	if (json_object_object_get_ex(all, "events", &evs) &&
	    json_object_is_type(evs, json_type_array))
		for (size_t i = 0; i < json_object_array_length(evs); i++)
			json_object_array_add(out, old_event(json_object_array_get_idx(evs, i), staff,
							     public_view));
	return out;
}

/* orders_render() of read.c. */
static json_object *old_order(const bson_t *doc, bool staff)
{
	json_object *all = em_bson_to_json(doc), *o = json_object_new_object(), *v;

	assert_non_null(all);
	if (json_object_object_get_ex(all, "_id", &v))
		json_object_object_add(o, "id", json_object_get(v));
	for (size_t i = 0; old_customer_fields[i]; i++)
		old_copy(o, all, old_customer_fields[i]);
	if (staff)
		for (size_t i = 0; old_staff_fields[i]; i++)
			old_copy(o, all, old_staff_fields[i]);
	old_copy(o, all, "lines");
	if (json_object_object_get_ex(all, "refunds", &v) && json_object_is_type(v, json_type_array))
		json_object_object_add(o, "refunds", json_object_get(v));
	else
		json_object_object_add(o, "refunds", json_object_new_array());
	if (json_object_object_get_ex(all, "refunded_total", &v) && json_object_is_type(v, json_type_int))
		json_object_object_add(o, "refunded_total", json_object_get(v));
	else
		json_object_object_add(o, "refunded_total", json_object_new_int64(0));
	if (json_object_object_get_ex(all, "coupon", &v) && v) {
		json_object *c = json_object_new_object(), *code;

		if (json_object_object_get_ex(v, "code", &code))
			json_object_object_add(c, "code", json_object_get(code));
		json_object_object_add(o, "coupon", c);
	} else {
		json_object_object_add(o, "coupon", NULL);
	}
	json_object_object_add(o, "events", old_events(all, staff, false));
	json_object_put(all);
	return o;
}

/* The tracking view of orders_track() in read.c. */
static json_object *old_track(const bson_t *doc)
{
	json_object *all = em_bson_to_json(doc), *o = json_object_new_object(), *v;
	json_object *items = json_object_new_array();

	old_copy(o, all, "number");
	old_copy(o, all, "status");
	old_copy(o, all, "created_at");
	old_copy(o, all, "carrier");
	old_copy(o, all, "tracking_number");
	if (json_object_object_get_ex(all, "lines", &v))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *l = json_object_array_get_idx(v, i), *li = json_object_new_object();

			old_copy(li, l, "title");
			old_copy(li, l, "quantity");
			json_object_array_add(items, li);
		}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "events", old_events(all, false, true));
	json_object_put(all);
	return o;
}

/* ---- comparing ---- */

/* s with every byte but A-Z a-z 0-9 - . _ ~ percent-encoded (free it). */
static char *url_escape(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	assert_non_null(out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~')
			*o++ = (char)ch;
		else
			o += snprintf(o, 4, "%%%02X", ch);
	}
	*o = '\0';
	return out;
}

/* The response's body is exactly em_json_text(ref); ref is put. */
static void same_bytes(const char *what, const struct h_resp *r, long status, json_object *ref)
{
	const char *want = em_json_text(ref, NULL);
	size_t at = 0;

	if (r->status != status)
		fail_msg("%s: status %ld (want %ld): %s", what, r->status, status, r->body);
	assert_non_null(want);
	if (r->body_len == strlen(want) && memcmp(r->body, want, r->body_len) == 0) {
		json_object_put(ref);
		return;
	}
	while (at < r->body_len && want[at] && r->body[at] == want[at])
		at++;
	fail_msg("%s: the body differs from the old renderer's at byte %zu:\n got ...%.240s\nwant ...%.240s",
		 what, at, r->body + (at > 60 ? at - 60 : 0), want + (at > 60 ? at - 60 : 0));
}

static bson_t *order_doc(const char *id)
{
	mongoc_collection_t *coll = mongoc_database_get_collection(st.db, "orders");
	bson_t *filter = bson_new(), *out = NULL;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_oid_t oid;

	bson_oid_init_from_string(&oid, id);
	BSON_APPEND_OID(filter, "_id", &oid);
	cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	if (mongoc_cursor_next(cur, &doc))
		out = bson_copy(doc);
	assert_non_null(out);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return out;
}

/* The user's orders, newest first (the lists' order). */
static size_t user_orders(const char *user_id, bson_t **docs, size_t max)
{
	mongoc_collection_t *coll = mongoc_database_get_collection(st.db, "orders");
	bson_t *filter = bson_new(), *opts = BCON_NEW("sort", "{", "_id", BCON_INT32(-1), "}");
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_oid_t oid;
	size_t n = 0;

	bson_oid_init_from_string(&oid, user_id);
	BSON_APPEND_OID(filter, "user_id", &oid);
	cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	while (n < max && mongoc_cursor_next(cur, &doc))
		docs[n++] = bson_copy(doc);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	bson_destroy(opts);
	mongoc_collection_destroy(coll);
	return n;
}

/* Every page of path (?limit=2&cursor=...) against the old list of docs. */
static void same_pages(const char *what, const struct ho_customer *c, const char *path,
		       bson_t **docs, size_t n, bool staff)
{
	char cursor[EM_PAGE_OID_CURSOR_SIZE] = "", url[512];
	size_t at = 0;
	int pages = 0;

	do {
		json_object *ref = json_object_new_object(), *items = json_object_new_array();
		bool more = at + 2 < n;
		struct h_resp r;
		bson_iter_t it;

		for (size_t i = at; i < n && i < at + 2; i++)
			json_object_array_add(items, old_order(docs[i], staff));
		json_object_object_add(ref, "items", items);
		snprintf(url, sizeof url, "%s%slimit=2%s%s", path, strchr(path, '?') ? "&" : "?",
			 cursor[0] ? "&cursor=" : "", cursor);
		if (more) {
			assert_true(bson_iter_init_find(&it, docs[at + 1], "_id"));
			em_page_cursor_oid_encode(bson_iter_oid(&it), cursor);
			json_object_object_add(ref, "next_cursor", json_object_new_string(cursor));
		} else {
			json_object_object_add(ref, "next_cursor", NULL);
		}
		r = staff ? hc_staff("GET", url, NULL, NULL) : ho_req(c, "GET", url, NULL, NULL);
		same_bytes(what, &r, 200, ref);
		h_resp_free(&r);
		at += 2;
		pages++;
	} while (at < n);
	assert_true(pages >= 2);
}

/* ---- fixtures ---- */

static int suite_setup(void **state)
{
	struct em_error e = EM_ERROR_INIT;
	char body[1024];
	struct h_resp r;

	(void)state;
	hc_init();
	setenv("EMPORIUM_ENV_FILE", h_env("STACK_ENV_FILE"), 1);
	if (!em_app_config_load(&cfg, &e))
		fail_msg("config: %s %s", e.field, e.message);
	st.client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	assert_non_null(st.client);
	snprintf(st.db_name, sizeof st.db_name, "%s", h_env("STACK_DB_NAME"));
	st.db = mongoc_client_get_database(st.client, st.db_name);
	/* awkward titles: quotes, backslash, slash, scripts, non-ASCII */
	hc_make_product("render-a", "Kurta \\\"Eid\\\" \\\\ a/b </script> ঢাকা — 😀", "render suite",
			hc_tag,
			NULL,
			"[{\"sku\": \"RA1\", \"options\": {\"size\": \"M\", \"color\": \"নীল\"},"
			" \"price\": 150000, \"stock\": 40},"
			" {\"sku\": \"RA2\", \"options\": {\"size\": \"L\", \"color\": \"navy\"},"
			" \"price\": 99950, \"stock\": 2}]",
			"active", prod_a);
	hc_make_product("render-b", "Cap", "render suite", hc_tag, NULL,
			"[{\"sku\": \"RB1\", \"options\": {\"size\": \"M\", \"color\": \"red\"},"
			" \"price\": 25000, \"stock\": 5}]",
			"active", prod_b);
	hc_make_product("render-c", "Scarf", "render suite", hc_tag, NULL,
			"[{\"sku\": \"RC1\", \"options\": {\"size\": \"M\", \"color\": \"red\"},"
			" \"price\": 12345, \"stock\": 9}]",
			"active", prod_c);
	snprintf(coupon_code, sizeof coupon_code, "Rnd%s", hc_tag);
	snprintf(body, sizeof body, "{\"code\": \"%s\", \"type\": \"percent\", \"percent_bp\": 1000}",
		 coupon_code);
	r = hc_staff("POST", "/api/v1/admin/coupons", body, NULL);
	if (r.status != 201)
		fail_msg("coupon: %ld %s", r.status, r.body);
	h_resp_free(&r);
	return 0;
}

static int suite_teardown(void **state)
{
	(void)state;
	mongoc_database_destroy(st.db);
	mongoc_client_destroy(st.client);
	return 0;
}

static void product_set(const char *id, const char *update)
{
	char f[96];

	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}}", id);
	h_db_update("products", f, update);
}

static void user_cart(const char *user_id, struct cart_doc *d, bool *found)
{
	struct em_error e = EM_ERROR_INIT;
	bson_oid_t uid;

	bson_oid_init_from_string(&uid, user_id);
	memset(d, 0, sizeof *d);
	if (!cart_find_user(&st, &uid, d, found, &e))
		fail_msg("cart: %s", e.message);
}

/* ---- the cart ---- */

static void test_cart_views_are_the_old_bytes(void **state)
{
	struct ho_customer c, empty;
	struct cart_doc d;
	struct h_resp r;
	bson_oid_t uid;
	bool found;
	char path[128], body[256];
	const char *zone;

	(void)state;
	ho_customer_new(&c, false);
	ho_customer_new(&empty, false);
	/* no cart yet: an empty view, an unquoted summary */
	r = ho_req(&empty, "GET", "/api/v1/cart", NULL, NULL);
	user_cart(empty.id, &d, &found);
	assert_false(found);
	same_bytes("empty cart", &r, 200, old_cart(&d, false, true));
	h_resp_free(&r);
	bson_oid_init_from_string(&uid, empty.id);
	r = ho_req(&empty, "GET", "/api/v1/cart/summary", NULL, NULL);
	same_bytes("empty summary", &r, 200, old_summary(&d, false, &uid, NULL, NULL, NULL));
	h_resp_free(&r);

	/* the first line: 201 and the cart */
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 3}", ho_sku("RA1"));
	r = ho_req(&c, "POST", "/api/v1/cart/items", body, NULL);
	user_cart(c.id, &d, &found);
	assert_true(found);
	same_bytes("first line", &r, 201, old_cart(&d, true, true));
	h_resp_free(&r);
	cart_doc_free(&d);
	ho_cart_add(&c, ho_sku("RA2"), 2);
	ho_cart_add(&c, ho_sku("RB1"), 4);
	ho_cart_add(&c, ho_sku("RC1"), 1);
	/* the coupon: PUT answers the summary */
	snprintf(body, sizeof body, "{\"code\": \"%s\"}", coupon_code);
	bson_oid_init_from_string(&uid, c.id);
	user_cart(c.id, &d, &found);
	{
		struct h_resp p = ho_req(&c, "PUT", "/api/v1/cart/coupon", body, NULL);

		same_bytes("coupon put", &p, 200, old_summary(&d, true, &uid, coupon_code, NULL, NULL));
		h_resp_free(&p);
	}
	cart_doc_free(&d);
	/* then the catalog moves: a new price, a short stock, none left, a
	 * product taken off sale, a title with control characters */
	product_set(prod_a, "{\"$set\": {\"variants.0.price\": {\"$numberLong\": \"140000\"},"
			    " \"variants.1.stock\": {\"$numberLong\": \"1\"},"
			    " \"images\": [{\"url\": \"/media/a b\\\"c.jpg\", \"position\": 1},"
			    " {\"url\": \"https://img.test/x.jpg?a=1&b=2\", \"position\": 0}],"
			    " \"title\": \"Tab\\there \\u0001\\u001f \\\"q\\\" \\\\ ঢাকা 😀 </b>\"}}");
	product_set(prod_b, "{\"$set\": {\"variants.0.stock\": {\"$numberLong\": \"0\"}}}");
	product_set(prod_c, "{\"$set\": {\"status\": \"draft\"}}");
	r = ho_req(&c, "GET", "/api/v1/cart", NULL, NULL);
	user_cart(c.id, &d, &found);
	assert_int_equal(d.nitems, 4);
	same_bytes("cart", &r, 200, old_cart(&d, true, true));
	h_resp_free(&r);
	r = ho_req(&c, "GET", "/api/v1/cart/summary", NULL, NULL);
	same_bytes("summary, no zone", &r, 200,
		   old_summary(&d, true, &uid, d.coupon, NULL, NULL));
	h_resp_free(&r);
	{
		struct cart_shipping ship;
		struct em_error e = EM_ERROR_INIT;
		const struct cart_config *cc = cart_config(&cfg);

		assert_true(cart_shipping_parse(cc->shipping_methods, cc->shipping_cities,
						cc->shipping_default_zone, &ship, &e));
		zone = cart_shipping_zone_for_city(&ship, "Dhaka");
		snprintf(path, sizeof path, "/api/v1/cart/summary?shipping_address_id=%s", c.address);
		r = ho_req(&c, "GET", path, NULL, NULL);
		same_bytes("summary, address", &r, 200, old_summary(&d, true, &uid, d.coupon, zone, NULL));
		h_resp_free(&r);
		snprintf(path, sizeof path, "/api/v1/cart/summary?shipping_zone=%s&shipping_method=%s",
			 cart_shipping_zone_for_city(&ship, "Chittagong"), ship.names[0]);
		r = ho_req(&c, "GET", path, NULL, NULL);
		same_bytes("summary, zone and method", &r, 200,
			   old_summary(&d, true, &uid, d.coupon,
				       cart_shipping_zone_for_city(&ship, "Chittagong"),
				       ship.names[0]));
		h_resp_free(&r);
	}
	cart_doc_free(&d);
	/* a line whose variant is gone: what was known at add */
	{
		char upd[256];

		snprintf(upd, sizeof upd, "{\"$pull\": {\"variants\": {\"sku\": \"%s\"}}}",
			 ho_sku("RA2"));
		product_set(prod_a, upd);
	}
	snprintf(body, sizeof body, "{\"quantity\": 2}");
	snprintf(path, sizeof path, "/api/v1/cart/items/%s", ho_sku("RA1"));
	r = ho_req(&c, "PATCH", path, body, NULL);
	user_cart(c.id, &d, &found);
	same_bytes("patched, a variant gone", &r, 200, old_cart(&d, true, true));
	h_resp_free(&r);
	cart_doc_free(&d);
	product_set(prod_b, "{\"$set\": {\"variants.0.stock\": {\"$numberLong\": \"5\"}}}");
	product_set(prod_c, "{\"$set\": {\"status\": \"active\"}}");
}

static void test_guest_cart_is_the_old_bytes(void **state)
{
	struct em_error e = EM_ERROR_INIT;
	struct cart_doc d;
	struct h_resp r;
	char body[256], token[128], hdr[160], hash[65];
	const char *h[3] = { hdr, "Content-Type: application/json", NULL };
	json_object *j;
	bool found;

	(void)state;
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 1}", ho_sku("RB1"));
	r = ho_req(NULL, "POST", "/api/v1/cart/items", body, NULL);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(token, sizeof token, "%s", hc_jstr(j, "cart_token"));
	json_object_put(j);
	cart_token_hash(token, hash);
	memset(&d, 0, sizeof d);
	assert_true(cart_find_guest(&st, hash, &d, &found, &e));
	same_bytes("new guest cart", &r, 201, old_cart_full(&d, true, false, token, NULL));
	cart_doc_free(&d);
	h_resp_free(&r);
	snprintf(hdr, sizeof hdr, "X-Cart-Token: %s", token);
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 2}", ho_sku("RA1"));
	r = h_request("POST", "/api/v1/cart/items", body, strlen(body), h);
	cart_token_hash(token, hash);
	memset(&d, 0, sizeof d);
	assert_true(cart_find_guest(&st, hash, &d, &found, &e));
	assert_true(found);
	same_bytes("guest cart", &r, 200, old_cart(&d, true, false));
	h_resp_free(&r);
	h[1] = NULL;
	r = h_request("GET", "/api/v1/cart/summary?shipping_zone=inside_dhaka", NULL, 0, h);
	same_bytes("guest summary", &r, 200, old_summary(&d, true, NULL, NULL, "inside_dhaka", NULL));
	h_resp_free(&r);
	cart_doc_free(&d);
	/* signing in with the token merges both lines into the account's empty cart */
	{
		struct cart_merge_report m;
		struct ho_customer c;
		const char *hm[3] = { NULL, hdr, NULL };

		ho_customer_new(&c, false);
		hm[0] = c.auth;
		r = h_request("GET", "/api/v1/cart", NULL, 0, hm);
		memset(&m, 0, sizeof m);
		m.merged = true;
		m.nlines = 2;
		user_cart(c.id, &d, &found);
		assert_true(found);
		same_bytes("merged cart", &r, 200, old_cart_full(&d, true, true, NULL, &m));
		h_resp_free(&r);
		cart_doc_free(&d);
	}
}

/* ---- orders ---- */

/*
 * A stored order of c's with what a writer can get wrong (variant v): long
 * strings, quotes, backslashes, control and non-ASCII characters, nulls
 * where the description allows them, optional members absent, refunds,
 * events with and without carrier, tracking and actor, int32 money. Each
 * is what the collection's validator and the OpenAPI description accept
 * (the contract suite reads these responses too).
 */
static void order_insert(const struct ho_customer *c, int v, char id_out[25])
{
	static char doc[16384], head[1200];
	char longs[2001], number[32], line[600];
	bson_oid_t id;

	bson_oid_init(&id, NULL);
	bson_oid_to_string(&id, id_out);
	for (int i = 0; i < 2000; i++)
		longs[i] = "abcdefghij"[i % 10];
	longs[2000] = '\0';
	snprintf(number, sizeof number, "EM-2026-%06d", (int)((getpid() * 10 + v) % 1000000));
	snprintf(line, sizeof line,
		 "{\"sku\": \"B-2\", \"product_id\": {\"$oid\": \"%s\"}, \"quantity\": {\"$numberLong\": \"1\"},"
		 " \"unit_price\": {\"$numberLong\": \"125000\"}, \"line_total\": {\"$numberLong\": \"125000\"},"
		 " \"discount\": {\"$numberLong\": \"0\"}, \"tax\": {\"$numberLong\": \"0\"}",
		 prod_b);
	snprintf(head, sizeof head,
		 "{\"_id\": {\"$oid\": \"%s\"}, \"number\": \"%s\", \"user_id\": {\"$oid\": \"%s\"},"
		 " \"email\": \"%s\", \"payment_method\": \"%s\", \"currency\": \"BDT\","
		 " \"subtotal\": {\"$numberLong\": \"%s\"}, \"discount\": {\"$numberLong\": \"0\"},"
		 " \"shipping\": {\"$numberLong\": \"6000\"}, \"tax\": {\"$numberLong\": \"0\"},"
		 " \"total\": {\"$numberLong\": \"425000\"}, \"version\": {\"$numberLong\": \"%d\"},"
		 " \"created_at\": {\"$date\": {\"$numberLong\": \"%lld\"}},"
		 " \"updated_at\": {\"$date\": {\"$numberLong\": \"1764590400999\"}},"
		 " \"shipping_address\": {\"name\": \"রহিম \\\"R\\\"\", \"line1\": \"12 Road 5\\\\6 </b>\","
		 " \"line2\": %s, \"city\": \"Dhaka\", \"postal_code\": \"1207\", \"country\": \"BD\","
		 " \"phone\": null},",
		 id_out, number, c->id, c->email, v == 0 ? "sslcommerz" : "cod",
		 v == 0 ? "9223372036854775807" : "1", v + 3, 1764500000000LL + v,
		 v == 0 ? "\"\\u00e9\\u0001\\u001f\\t\\n 😀\"" : "null");
	if (v == 0)
		snprintf(doc, sizeof doc,
			 "%s \"name\": \"Rahim \\\"R\\\" উদ্দিন\", \"status\": \"delivered\","
			 " \"payment_status\": \"refund_requested\", \"prices_include_tax\": true,"
			 " \"shipping_method\": \"standard\", \"shipping_zone\": \"inside_dhaka\","
			 " \"billing_address\": {\"name\": \"%s\", \"line1\": \"x\", \"city\": \"ঢাকা\","
			 " \"postal_code\": null, \"country\": \"BD\"},"
			 " \"note\": \"ring\\ttwice\\n\\u0001\\u001f\\u007f </script> a/b 😀 ঢাকা\","
			 " \"carrier\": \"Pathao/x\", \"tracking_number\": \"TRK-1\","
			 " \"delivered_at\": {\"$date\": {\"$numberLong\": \"1764590400123\"}},"
			 " \"expires_at\": null, \"internal\": {\"not\": \"shown\"},"
			 " \"lines\": [{\"product_id\": {\"$oid\": \"%s\"}, \"sku\": \"A-1\", \"title\": \"Kurta ঢাকা\","
			 " \"options\": {\"size\": \"M\", \"color\": \"নীল\"}, \"quantity\": {\"$numberLong\": \"2\"},"
			 " \"unit_price\": {\"$numberLong\": \"150000\"}, \"line_total\": {\"$numberLong\": \"300000\"},"
			 " \"discount\": {\"$numberLong\": \"0\"}, \"tax\": {\"$numberLong\": \"0\"},"
			 " \"returned_quantity\": {\"$numberLong\": \"1\"}},"
			 " %s, \"title\": \"%s\"}],"
			 " \"refunds\": [{\"id\": {\"$oid\": \"%s\"}, \"amount\": {\"$numberLong\": \"25000\"},"
			 " \"currency\": \"BDT\", \"state\": \"requested\", \"reason\": \"damaged \\\"box\\\" \\\\ ঢাকা\","
			 " \"updated_at\": {\"$date\": {\"$numberLong\": \"1764590500000\"}}}],"
			 " \"refunded_total\": 25000,"
			 " \"coupon\": {\"id\": {\"$oid\": \"%s\"}, \"code\": \"SAVE10\", \"discount\": 5},"
			 " \"events\": [{\"from\": null, \"to\": \"pending\", \"at\": {\"$date\": {\"$numberLong\": \"1764500000000\"}},"
			 " \"note\": \"placed\", \"by\": {\"id\": \"%s\", \"role\": \"customer\"}},"
			 " {\"from\": \"processing\", \"to\": \"shipped\", \"at\": {\"$date\": {\"$numberLong\": \"1764550000000\"}},"
			 " \"carrier\": \"Pathao\", \"tracking_number\": \"TRK-1\", \"note\": null,"
			 " \"by\": {\"id\": null, \"role\": \"system\"}},"
			 " {\"from\": \"shipped\", \"to\": \"delivered\", \"at\": {\"$date\": {\"$numberLong\": \"1764590400123\"}},"
			 " \"note\": \"%s\", \"internal\": 1.5, \"by\": {\"id\": null, \"role\": \"system\"}}]}",
			 head, longs, prod_a, line, longs, id_out, id_out, c->id, longs);
	else if (v == 1)
		snprintf(doc, sizeof doc,
			 "%s \"status\": \"pending\", \"payment_status\": \"unpaid\", \"lines\": [%s,"
			 " \"title\": \"\", \"options\": {}}], \"billing_address\": {\"name\": null,"
			 " \"line1\": null, \"city\": null, \"postal_code\": null, \"country\": null},"
			 " \"coupon\": null, \"note\": \"\", \"shipping_method\": null,"
			 " \"events\": [{\"from\": null, \"to\": \"pending\","
			 " \"at\": {\"$date\": {\"$numberLong\": \"1764500000001\"}},"
			 " \"by\": {\"id\": \"%s\", \"role\": \"customer\"}}]}",
			 head, line, c->id);
	else
		snprintf(doc, sizeof doc,
			 "%s \"status\": \"cancelled\", \"payment_status\": \"paid\", \"lines\": [%s,"
			 " \"title\": \"t\"}], \"billing_address\": {\"name\": \"n\", \"line1\": \"l\","
			 " \"city\": \"c\", \"postal_code\": \"p\", \"country\": \"BD\"}, \"events\": [],"
			 " \"carrier\": null, \"prices_include_tax\": false}",
			 head, line);
	h_db_insert_json("orders", doc);
}

static void order_reads(const struct ho_customer *c, const char *id)
{
	bson_t *doc = order_doc(id);
	char path[160], number[64];
	struct h_resp r;
	bson_iter_t it;

	snprintf(path, sizeof path, "/api/v1/orders/%s", id);
	r = ho_req(c, "GET", path, NULL, NULL);
	same_bytes("order", &r, 200, old_order(doc, false));
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s", id);
	r = hc_staff("GET", path, NULL, NULL);
	same_bytes("staff order", &r, 200, old_order(doc, true));
	h_resp_free(&r);
	if (bson_iter_init_find(&it, doc, "lines") && BSON_ITER_HOLDS_ARRAY(&it)) {
		char *email = url_escape(c->email);

		assert_true(bson_iter_init_find(&it, doc, "number"));
		snprintf(number, sizeof number, "%s", bson_iter_utf8(&it, NULL));
		snprintf(path, sizeof path, "/api/v1/orders/track?order=%s&email=%s", number, email);
		free(email);
		r = h_get(path);
		same_bytes("tracking", &r, 200, old_track(doc));
		h_resp_free(&r);
	}
	bson_destroy(doc);
}

static void test_order_views_are_the_old_bytes(void **state)
{
	struct ho_customer c;
	struct h_resp r;
	bson_t *docs[16], *doc;
	char key[33], id[25], ids[3][25], body[512], f[96];
	json_object *j;
	size_t n;

	(void)state;
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("RA1"), 2);
	ho_cart_add(&c, ho_sku("RC1"), 1);
	snprintf(body, sizeof body, "{\"code\": \"%s\"}", coupon_code);
	r = ho_req(&c, "PUT", "/api/v1/cart/coupon", body, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	ho_key(key);
	snprintf(body, sizeof body,
		 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\","
		 " \"note\": \"ring \\\"twice\\\" \\\\ ঢাকা 😀\"}", c.address);
	r = ho_place(&c, key, body);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	doc = order_doc(id);
	same_bytes("placed (201)", &r, 201, old_order(doc, false));
	bson_destroy(doc);
	h_resp_free(&r);
	/* the replay is the stored 201 */
	r = ho_place(&c, key, body);
	doc = order_doc(id);
	same_bytes("replayed (201)", &r, 201, old_order(doc, false));
	bson_destroy(doc);
	h_resp_free(&r);
	order_reads(&c, id);
	/* a refund and a return recorded on it, as the payments and returns
	 * modules write them */
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}}", id);
	h_db_update("orders", f,
		    "{\"$set\": {\"refunds\": [{\"id\": \"5f0000000000000000000001\","
		    " \"amount\": {\"$numberLong\": \"1000\"}, \"currency\": \"BDT\","
		    " \"state\": \"refunded\", \"reason\": \"\",  \"updated_at\": \"2026-12-01T00:00:00.000Z\"}],"
		    " \"refunded_total\": {\"$numberLong\": \"1000\"}, \"payment_status\": \"refunded\","
		    " \"returns\": [{\"id\": \"x\"}], \"carrier\": \"Sundarban \\u00e9\"}}");
	order_reads(&c, id);
	for (int v = 0; v < 3; v++) {
		order_insert(&c, v, ids[v]);
		order_reads(&c, ids[v]);
	}
	/* the lists, every page */
	n = user_orders(c.id, docs, 16);
	assert_int_equal(n, 4);
	same_pages("order list", &c, "/api/v1/orders", docs, n, false);
	{
		char *email = url_escape(c.email), path[400];

		snprintf(path, sizeof path, "/api/v1/admin/orders?email=%s", email);
		free(email);
		same_pages("staff order list", &c, path, docs, n, true);
	}
	for (size_t i = 0; i < n; i++)
		bson_destroy(docs[i]);
	/* a cancellation answers the order after it */
	ho_cart_add(&c, ho_sku("RB1"), 1);
	ho_key(key);
	r = ho_place(&c, key, NULL);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
	{
		char path[128];

		snprintf(path, sizeof path, "/api/v1/orders/%s/cancel", id);
		r = ho_req(&c, "POST", path, NULL, NULL);
		doc = order_doc(id);
		same_bytes("cancelled", &r, 200, old_order(doc, false));
		bson_destroy(doc);
		h_resp_free(&r);
	}
}

/* Tax added on top: the summary's and the order's tax members and totals. */
static void test_taxed_summary_and_order_are_the_old_bytes(void **state)
{
	struct em_error e = EM_ERROR_INIT;
	struct ho_customer c;
	struct cart_doc d;
	struct h_resp r;
	bson_oid_t uid;
	bson_t *doc;
	json_object *j;
	char path[128], key[33], id[25];
	bool found;

	(void)state;
	assert_true(h_stack_reconfigure("EMPORIUM_TAX_RATE_BP=1500\nEMPORIUM_PRICES_INCLUDE_TAX=false\n"));
	if (!em_app_config_load(&cfg, &e))
		fail_msg("config: %s %s", e.field, e.message);
	assert_int_equal(cart_config(&cfg)->tax_rate_bp, 1500);
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("RA1"), 3);
	ho_cart_add(&c, ho_sku("RB1"), 1);
	bson_oid_init_from_string(&uid, c.id);
	user_cart(c.id, &d, &found);
	snprintf(path, sizeof path, "/api/v1/cart/summary?shipping_zone=inside_dhaka");
	r = ho_req(&c, "GET", path, NULL, NULL);
	same_bytes("taxed summary", &r, 200, old_summary(&d, true, &uid, NULL, "inside_dhaka", NULL));
	j = h_json(&r);
	assert_true(json_object_get_int64(hc_jget(j, "tax")) > 0);
	json_object_put(j);
	h_resp_free(&r);
	cart_doc_free(&d);
	ho_key(key);
	r = ho_place(&c, key, NULL);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	doc = order_doc(id);
	same_bytes("taxed order (201)", &r, 201, old_order(doc, false));
	h_resp_free(&r);
	bson_destroy(doc);
	order_reads(&c, id);
	assert_true(h_stack_reconfigure(NULL));
	if (!em_app_config_load(&cfg, &e))
		fail_msg("config: %s %s", e.field, e.message);
}

/* ---- the writer's new helpers against json-c, in this process ---- */

/* b's bytes equal em_json_text(ref); both are released. */
static void same_text(const char *what, struct em_jsonbuf *b, json_object *ref)
{
	char *got = em_jsonbuf_take(b, NULL);
	const char *want = em_json_text(ref, NULL);

	if (strcmp(got, want) != 0)
		fail_msg("%s:\n got %s\nwant %s", what, got, want);
	free(got);
	json_object_put(ref);
}

static void test_helpers_are_json_c_bytes(void **state)
{
	static const char *const keys[] = { "s", "i32", "i64", "min", "d", "t", "f", "oid", "date",
					    "far", "nul", "minkey", "re", "bin", "doc", "arr",
					    "absent", NULL };
	static const char *const strs[] = { "", "plain", "q\"b\\s/ </script>", "\x01\x1f\t\n\r\b\f\x7f",
					    "ঢাকা 😀 é", NULL };
	bson_t *doc = bson_new(), sub;
	bson_oid_t oid;
	bson_iter_t it;
	json_object *all, *ref, *v;
	struct em_jsonbuf b = EM_JSONBUF_INIT;
	bool first = true;

	(void)state;
	bson_oid_init(&oid, NULL);
	BSON_APPEND_UTF8(doc, "s", "a \"b\" \\ \x01 ঢাকা");
	BSON_APPEND_INT32(doc, "i32", -7);
	BSON_APPEND_INT64(doc, "i64", INT64_MAX);
	BSON_APPEND_INT64(doc, "min", INT64_MIN);
	BSON_APPEND_DOUBLE(doc, "d", 1.5);
	BSON_APPEND_BOOL(doc, "t", true);
	BSON_APPEND_BOOL(doc, "f", false);
	BSON_APPEND_OID(doc, "oid", &oid);
	BSON_APPEND_DATE_TIME(doc, "date", 1764590400123LL);
	BSON_APPEND_DATE_TIME(doc, "far", INT64_MAX); /* no RFC 3339 form: null */
	BSON_APPEND_NULL(doc, "nul");
	BSON_APPEND_MINKEY(doc, "minkey");
	BSON_APPEND_REGEX(doc, "re", "^a", "i");
	BSON_APPEND_BINARY(doc, "bin", BSON_SUBTYPE_BINARY, (const uint8_t *)"xy", 2);
	BSON_APPEND_DOCUMENT_BEGIN(doc, "doc", &sub);
	BSON_APPEND_UTF8(&sub, "k", "v");
	BSON_APPEND_NULL(&sub, "n");
	bson_append_document_end(doc, &sub);
	BSON_APPEND_ARRAY_BEGIN(doc, "arr", &sub);
	BSON_APPEND_INT32(&sub, "0", 1);
	BSON_APPEND_UTF8(&sub, "1", "x");
	bson_append_array_end(doc, &sub);
	all = em_bson_to_json(doc);
	assert_non_null(all);
	/* pick: each named member, null when absent, in the list's order */
	ref = json_object_new_object();
	for (size_t i = 0; keys[i]; i++) {
		v = NULL;
		json_object_object_get_ex(all, keys[i], &v);
		json_object_object_add(ref, keys[i], json_object_get(v));
	}
	em_jsonbuf_char(&b, '{');
	em_jsonbuf_bson_pick(&b, &first, doc, keys);
	em_jsonbuf_char(&b, '}');
	same_text("pick", &b, ref);
	/* is_null: what the tree holds as NULL */
	for (size_t i = 0; keys[i]; i++)
		if (bson_iter_init_find(&it, doc, keys[i])) {
			v = NULL;
			json_object_object_get_ex(all, keys[i], &v);
			if (em_jsonbuf_bson_is_null(&it) != (v == NULL))
				fail_msg("is_null(%s) is %d", keys[i], em_jsonbuf_bson_is_null(&it));
		}
	/* a json-c value as it is, and NULL */
	em_jsonbuf_json(&b, all);
	same_text("json", &b, json_object_get(all));
	ref = json_object_new_array();
	json_object_array_add(ref, NULL);
	json_object_array_add(ref, NULL);
	em_jsonbuf_char(&b, '[');
	em_jsonbuf_json(&b, NULL);
	em_jsonbuf_char(&b, ',');
	em_jsonbuf_null(&b);
	em_jsonbuf_char(&b, ']');
	same_text("json NULL, null", &b, ref);
	/* the member writers: strings escaped as json-c does, NULL as null */
	ref = json_object_new_object();
	first = true;
	em_jsonbuf_char(&b, '{');
	for (size_t i = 0; strs[i]; i++) {
		char key[8];

		snprintf(key, sizeof key, "k%zu", i);
		json_object_object_add(ref, key, json_object_new_string(strs[i]));
		em_jsonbuf_member_cstr(&b, &first, key, strs[i]);
	}
	json_object_object_add(ref, "none", NULL);
	em_jsonbuf_member_cstr(&b, &first, "none", NULL);
	json_object_object_add(ref, "max", json_object_new_int64(INT64_MAX));
	em_jsonbuf_member_int64(&b, &first, "max", INT64_MAX);
	json_object_object_add(ref, "min", json_object_new_int64(INT64_MIN));
	em_jsonbuf_member_int64(&b, &first, "min", INT64_MIN);
	json_object_object_add(ref, "zero", json_object_new_int64(0));
	em_jsonbuf_member_int64(&b, &first, "zero", 0);
	json_object_object_add(ref, "yes", json_object_new_boolean(true));
	em_jsonbuf_member_bool(&b, &first, "yes", true);
	json_object_object_add(ref, "no", json_object_new_boolean(false));
	em_jsonbuf_member_bool(&b, &first, "no", false);
	EM_JSONBUF_LIT(&b, ",\"lit\":[]");
	json_object_object_add(ref, "lit", json_object_new_array());
	em_jsonbuf_char(&b, '}');
	same_text("members", &b, ref);
	json_object_put(all);
	bson_destroy(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helpers_are_json_c_bytes),
		cmocka_unit_test(test_cart_views_are_the_old_bytes),
		cmocka_unit_test(test_guest_cart_is_the_old_bytes),
		cmocka_unit_test(test_order_views_are_the_old_bytes),
		cmocka_unit_test(test_taxed_summary_and_order_are_the_old_bytes),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, suite_setup, suite_teardown);
	h_cleanup();
	return rc;
}
