/*
 * Integration tests for carts, favorites and coupons through the real
 * stack (HTTPS -> nginx -> emporium-fcgi -> database): guest carts and
 * their merge (also under concurrent requests), one account's cart from
 * two sessions, lines that show price changes, archived products and
 * short stock, bad input, every coupon rule and reason, scope with
 * subcategories, the summary's arithmetic, 50 parallel adds of one SKU,
 * and favorites unique under parallel adds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_catalog.h"

static char cat_root[25], cat_child[25], cat_grand[25], cat_other[25];
static char prod_a[25], prod_b[25], prod_c[25], prod_draft[25], prod_many[25];

/* The run's SKU for a name ("A1" -> "A1-<tag>"), as hc_tag_skus makes it. */
static const char *sku(const char *name)
{
	static char buf[8][96];
	static int n;
	char *b = buf[n++ % 8];

	snprintf(b, 96, "%s-%s", name, hc_tag);
	return b;
}

/* ---- requests ---- */

struct call {
	const char *bearer; /* "Authorization: Bearer ..." or NULL */
	const char *token;  /* guest cart token or NULL */
};

static struct h_resp req(const struct call *c, const char *method, const char *path,
			 const char *body)
{
	char tok[128];
	const char *h[4];
	int n = 0;

	if (c && c->bearer)
		h[n++] = c->bearer;
	if (c && c->token) {
		snprintf(tok, sizeof tok, "X-Cart-Token: %s", c->token);
		h[n++] = tok;
	}
	if (body)
		h[n++] = "Content-Type: application/json";
	h[n] = NULL;
	return h_request(method, path, body, body ? strlen(body) : 0, h);
}

static long add(const struct call *c, const char *s, long qty)
{
	char body[256];
	struct h_resp r;
	long st;

	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": %ld}", s, qty);
	r = req(c, "POST", "/api/v1/cart/items", body);
	st = r.status;
	if (st != 200 && st != 201 && st != 409)
		fprintf(stderr, "add %s x%ld: %ld %s\n", s, qty, st, r.body ? r.body : "");
	{
		/* the add that made the cart says where it is; the others don't */
		char loc[64];
		bool has = h_header(&r, "Location", loc, sizeof loc);

		assert_true(st == 201 ? has && strcmp(loc, "/api/v1/cart") == 0 : !has);
	}
	h_resp_free(&r);
	return st;
}

/* The quantity of a SKU's line in the caller's cart (0: none), and the line count. */
static long line_qty(const struct call *c, const char *s, long *nlines)
{
	struct h_resp r = req(c, "GET", "/api/v1/cart", NULL);
	json_object *j, *items;
	long q = 0;

	assert_int_equal(r.status, 200);
	j = h_json(&r);
	items = hc_jget(j, "items");
	if (nlines)
		*nlines = (long)json_object_array_length(items);
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *l = json_object_array_get_idx(items, i);

		if (strcmp(hc_jstr(l, "sku"), s) == 0) {
			assert_int_equal(q, 0); /* never two lines of one SKU */
			q = (long)json_object_get_int64(hc_jget(l, "quantity"));
		}
	}
	json_object_put(j);
	h_resp_free(&r);
	return q;
}

static void user(char *bearer, size_t size, char *uid)
{
	char tok[1024];

	h_user_token("customer", tok, sizeof tok, uid, 25);
	h_bearer(tok, bearer, size);
}

static void guest_token_of(const struct h_resp *r, char *out)
{
	char cookie[512];
	json_object *j = h_json(r);

	snprintf(out, 64, "%s", hc_jstr(j, "cart_token") ? hc_jstr(j, "cart_token") : "");
	assert_int_equal(strlen(out), 43);
	/* also as the __Host- cookie, Secure and HttpOnly */
	assert_true(h_header(r, "set-cookie", cookie, sizeof cookie));
	assert_non_null(strstr(cookie, "__Host-emporium_cart="));
	assert_non_null(strstr(cookie, out));
	assert_non_null(strstr(cookie, "Secure"));
	assert_non_null(strstr(cookie, "HttpOnly"));
	json_object_put(j);
}

static void token_hash_hex(const char *token, char out[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, 65, d, sizeof d);
}

/* ---- fixtures ---- */

static int setup(void **state)
{
	char v[8192], name[64], slug[96];
	size_t o;

	(void)state;
	hc_init();
	snprintf(slug, sizeof slug, "cart-root-%s", hc_tag);
	hc_make_category(slug, NULL, 1, cat_root);
	snprintf(slug, sizeof slug, "cart-child-%s", hc_tag);
	hc_make_category(slug, cat_root, 1, cat_child);
	snprintf(slug, sizeof slug, "cart-grand-%s", hc_tag);
	hc_make_category(slug, cat_child, 1, cat_grand);
	snprintf(slug, sizeof slug, "cart-other-%s", hc_tag);
	hc_make_category(slug, NULL, 2, cat_other);
	snprintf(slug, sizeof slug, "cart-a-%s", hc_tag);
	hc_make_product(slug, "Cart A", "a", hc_tag, cat_grand,
			"[{\"sku\": \"A1\", \"options\": {\"size\": \"M\"}, \"price\": 100000, \"stock\": 1000},"
			" {\"sku\": \"A2\", \"options\": {\"size\": \"L\"}, \"price\": 33333, \"stock\": 1000},"
			" {\"sku\": \"A3\", \"options\": {\"size\": \"S\"}, \"price\": 100, \"stock\": 1000},"
			" {\"sku\": \"A4\", \"options\": {\"size\": \"XL\"}, \"price\": 100, \"stock\": 1000}]",
			"active", prod_a);
	snprintf(slug, sizeof slug, "cart-b-%s", hc_tag);
	hc_make_product(slug, "Cart B", "b", hc_tag, cat_other,
			"[{\"sku\": \"B1\", \"options\": {\"size\": \"M\"}, \"price\": 50000, \"stock\": 1000},"
			" {\"sku\": \"B2\", \"options\": {\"size\": \"L\"}, \"price\": 100, \"stock\": 1000},"
			" {\"sku\": \"B3\", \"options\": {\"size\": \"S\"}, \"price\": 100, \"stock\": 5}]",
			"active", prod_b);
	snprintf(slug, sizeof slug, "cart-c-%s", hc_tag);
	hc_make_product(slug, "Cart C", "c", hc_tag, NULL,
			"[{\"sku\": \"C1\", \"options\": {\"size\": \"M\"}, \"price\": 1000, \"stock\": 1000},"
			" {\"sku\": \"C2\", \"options\": {\"size\": \"L\"}, \"price\": 1000, \"stock\": 1000},"
			" {\"sku\": \"C3\", \"options\": {\"size\": \"S\"}, \"price\": 1000, \"stock\": 1000}]",
			"active", prod_c);
	snprintf(slug, sizeof slug, "cart-d-%s", hc_tag);
	hc_make_product(slug, "Cart Draft", "d", hc_tag, NULL,
			"[{\"sku\": \"D1\", \"options\": {\"size\": \"M\"}, \"price\": 1000, \"stock\": 10}]",
			"draft", prod_draft);
	/* 100 variants + 1 elsewhere: for the 101st line */
	o = (size_t)snprintf(v, sizeof v, "[");
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "M%d", i);
		o += (size_t)snprintf(v + o, sizeof v - o,
				      "%s{\"sku\": \"%s\", \"options\": {\"size\": \"s%d\"},"
				      " \"price\": 10, \"stock\": 10}",
				      i ? ", " : "", name, i);
	}
	snprintf(v + o, sizeof v - o, "]");
	/* too big for hc_make_product's buffer */
	{
		char *body = malloc(sizeof v + 512);
		struct h_resp r;
		json_object *j;

		assert_non_null(body);
		snprintf(body, sizeof v + 512,
			 "{\"title\": \"Cart Many\", \"slug\": \"cart-many-%s\", \"status\": \"active\","
			 " \"options\": [\"size\"], \"variants\": %s}", hc_tag, v);
		r = hc_staff("POST", "/api/v1/admin/products", body, NULL);
		free(body);
		if (r.status != 201)
			fprintf(stderr, "create many: %ld %s\n", r.status, r.body);
		assert_int_equal(r.status, 201);
		j = h_json(&r);
		snprintf(prod_many, sizeof prod_many, "%s", hc_jstr(j, "id"));
		json_object_put(j);
		h_resp_free(&r);
	}
	return 0;
}

/* ---- guests and merge ---- */

static void test_guest_cart_then_merge(void **state)
{
	char bearer[1100], uid[25], token[64], hash[65], filter[256];
	struct call g = { NULL, NULL }, u, both;
	struct h_resp r;
	json_object *j;

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	/* the first add without a token makes a guest cart */
	r = req(&g, "POST", "/api/v1/cart/items", "{\"sku\": \"placeholder\", \"quantity\": 1}");
	h_assert_problem_field(&r, 400, "sku"); /* unknown SKU: nothing made */
	h_resp_free(&r);
	{
		char body[128];

		snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 2}", sku("A1"));
		r = req(&g, "POST", "/api/v1/cart/items", body);
	}
	assert_int_equal(r.status, 201);
	guest_token_of(&r, token);
	h_resp_free(&r);
	g.token = token;
	assert_int_equal(add(&g, sku("A1"), 3), 200);
	assert_int_equal(add(&g, sku("B1"), 1), 200);
	assert_int_equal(line_qty(&g, sku("A1"), NULL), 5);
	/* only the hash is stored */
	token_hash_hex(token, hash);
	snprintf(filter, sizeof filter, "{\"token_hash\": \"%s\"}", hash);
	assert_int_equal(h_db_count("carts", filter), 1);
	snprintf(filter, sizeof filter, "{\"token_hash\": \"%s\"}", token);
	assert_int_equal(h_db_count("carts", filter), 0);

	/* the account already holds 1 of A1 */
	assert_int_equal(add(&u, sku("A1"), 1), 201);
	both = (struct call){ bearer, token };
	r = req(&both, "GET", "/api/v1/cart", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_get_int64(hc_jget(j, "merge.lines")), 2);
	assert_false(json_object_get_boolean(hc_jget(j, "guest")));
	json_object_put(j);
	h_resp_free(&r);
	assert_int_equal(line_qty(&u, sku("A1"), NULL), 6);
	assert_int_equal(line_qty(&u, sku("B1"), NULL), 1);
	/* the guest cart is gone: its token finds nothing */
	snprintf(filter, sizeof filter, "{\"token_hash\": \"%s\"}", hash);
	assert_int_equal(h_db_count("carts", filter), 0);
	r = req(&g, "GET", "/api/v1/cart", NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* and presenting it again merges nothing twice */
	r = req(&both, "GET", "/api/v1/cart", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_int_equal(line_qty(&u, sku("A1"), NULL), 6);
}

struct merge_arg {
	const char *bearer, *token;
	long status;
};

static void *merge_thread(void *p)
{
	struct merge_arg *a = p;
	struct call c = { a->bearer, a->token };
	struct h_resp r = req(&c, "GET", "/api/v1/cart", NULL);

	a->status = r.status;
	h_resp_free(&r);
	return NULL;
}

static void test_merge_exactly_once_concurrently(void **state)
{
	char bearer[1100], uid[25], token[64], filter[256];
	struct call g = { NULL, NULL }, u;
	struct merge_arg args[10];
	pthread_t th[10];
	struct h_resp r;
	char body[128];

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 3}", sku("C1"));
	r = req(&g, "POST", "/api/v1/cart/items", body);
	assert_int_equal(r.status, 201);
	guest_token_of(&r, token);
	h_resp_free(&r);
	for (int i = 0; i < 10; i++) {
		args[i] = (struct merge_arg){ bearer, token, 0 };
		pthread_create(&th[i], NULL, merge_thread, &args[i]);
	}
	for (int i = 0; i < 10; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].status, 200);
	}
	/* merged once: 3, not 30; one account cart; no guest cart left */
	assert_int_equal(line_qty(&u, sku("C1"), NULL), 3);
	snprintf(filter, sizeof filter, "{\"user_id\": {\"$oid\": \"%s\"}}", uid);
	assert_int_equal(h_db_count("carts", filter), 1);
	{
		char hash[65];

		token_hash_hex(token, hash);
		snprintf(filter, sizeof filter, "{\"token_hash\": \"%s\"}", hash);
		assert_int_equal(h_db_count("carts", filter), 0);
	}
}

static void test_two_sessions_one_cart(void **state)
{
	char email[128], a1[1024], a2[1024], b1[1100], b2[1100];
	struct call s1, s2;

	(void)state;
	h_account_new("cart2s", email, sizeof email);
	assert_int_equal(h_login(email, H_PW, a1, sizeof a1, NULL, 0), 200);
	assert_int_equal(h_login(email, H_PW, a2, sizeof a2, NULL, 0), 200);
	assert_string_not_equal(a1, a2);
	h_bearer(a1, b1, sizeof b1);
	h_bearer(a2, b2, sizeof b2);
	s1 = (struct call){ b1, NULL };
	s2 = (struct call){ b2, NULL };
	assert_int_equal(add(&s1, sku("C2"), 4), 201);
	assert_int_equal(line_qty(&s2, sku("C2"), NULL), 4);
	assert_int_equal(add(&s2, sku("C2"), 1), 200);
	assert_int_equal(line_qty(&s1, sku("C2"), NULL), 5);
}

/* ---- lines show the truth now ---- */

static void test_lines_flag_changes(void **state)
{
	char bearer[1100], uid[25], filter[256], update[256];
	struct call u;
	struct h_resp r;
	json_object *j, *l;

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	assert_int_equal(add(&u, sku("B2"), 2), 201);
	assert_int_equal(add(&u, sku("B3"), 4), 200);
	/* the catalog changes: B2's price, B3's stock */
	snprintf(filter, sizeof filter, "{\"variants.sku\": \"%s\"}", sku("B2"));
	snprintf(update, sizeof update, "{\"$set\": {\"variants.$.price\": {\"$numberLong\": \"150\"}}}");
	h_db_update("products", filter, update);
	snprintf(filter, sizeof filter, "{\"variants.sku\": \"%s\"}", sku("B3"));
	snprintf(update, sizeof update, "{\"$set\": {\"variants.$.stock\": {\"$numberLong\": \"1\"}}}");
	h_db_update("products", filter, update);
	r = req(&u, "GET", "/api/v1/cart", NULL);
	j = h_json(&r);
	l = hc_jget(j, "items.0");
	assert_string_equal(hc_jstr(l, "sku"), sku("B2"));
	assert_int_equal(json_object_get_int64(hc_jget(l, "unit_price")), 150);
	assert_int_equal(json_object_get_int64(hc_jget(l, "price_changed.old")), 100);
	assert_int_equal(json_object_get_int64(hc_jget(l, "price_changed.new")), 150);
	assert_int_equal(json_object_get_int64(hc_jget(l, "line_total")), 300);
	assert_string_equal(hc_jstr(l, "title"), "Cart B");
	l = hc_jget(j, "items.1");
	assert_int_equal(json_object_get_int64(hc_jget(l, "insufficient_stock.available")), 1);
	assert_null(hc_jget(l, "price_changed"));
	json_object_put(j);
	h_resp_free(&r);
	/* archived: flagged, kept, and the summary says checkout is not ready */
	snprintf(filter, sizeof filter, "{\"_id\": {\"$oid\": \"%s\"}}", prod_b);
	h_db_update("products", filter, "{\"$set\": {\"status\": \"archived\"}}");
	r = req(&u, "GET", "/api/v1/cart", NULL);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 2);
	assert_true(json_object_get_boolean(hc_jget(j, "items.0.unavailable")));
	assert_string_equal(hc_jstr(j, "items.1.available"), "unavailable");
	json_object_put(j);
	h_resp_free(&r);
	r = req(&u, "GET", "/api/v1/cart/summary?shipping_zone=inside_dhaka", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_false(json_object_get_boolean(hc_jget(j, "checkout_ready")));
	assert_int_equal(json_object_array_length(hc_jget(j, "lines")), 0);
	assert_string_equal(hc_jstr(j, "warnings.0.code"), "unavailable");
	json_object_put(j);
	h_resp_free(&r);
	h_db_update("products", filter, "{\"$set\": {\"status\": \"active\"}}");
	/* adding an archived product's SKU is refused; a draft's too */
	assert_int_equal(add(&u, sku("D1"), 1), 400);
}

/* ---- bad input ---- */

static void expect_problem(const struct call *c, const char *method, const char *path,
			   const char *body, long status, const char *field)
{
	struct h_resp r = req(c, method, path, body);

	if (field)
		h_assert_problem_field(&r, status, field);
	else
		h_assert_problem(&r, status);
	h_resp_free(&r);
}

static void test_bad_input(void **state)
{
	char bearer[1100], uid[25], b2[1100], uid2[25], body[256], filter[256], path[256];
	struct call u, other, bad = { NULL, "not-a-token" }, gone;
	static const char *const qtys[] = { "0", "-1", "1.5", "\"2\"", "100", "1e3",
					    "99999999999999999999", "null", "true" };
	long n = 0;
	struct h_resp r;
	json_object *j;

	(void)state;
	user(bearer, sizeof bearer, uid);
	user(b2, sizeof b2, uid2);
	u = (struct call){ bearer, NULL };
	other = (struct call){ b2, NULL };
	assert_int_equal(add(&u, sku("C3"), 1), 201);
	for (size_t i = 0; i < sizeof qtys / sizeof qtys[0]; i++) {
		snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": %s}", sku("C3"), qtys[i]);
		expect_problem(&u, "POST", "/api/v1/cart/items", body, 400, "quantity");
	}
	expect_problem(&u, "POST", "/api/v1/cart/items", "{\"sku\": \"NOPE-1\", \"quantity\": 1}", 400,
		       "sku");
	expect_problem(&u, "POST", "/api/v1/cart/items", "{\"sku\": {\"$gt\": \"\"}, \"quantity\": 1}",
		       400, NULL);
	expect_problem(&u, "POST", "/api/v1/cart/items", "{\"sku\": \"a b\", \"quantity\": 1}", 400,
		       "sku");
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 1, \"price\": 1}", sku("C3"));
	expect_problem(&u, "POST", "/api/v1/cart/items", body, 400, "price");
	r = req(&u, "POST", "/api/v1/cart/items",
		"{\"sku\": \"a b\", \"quantity\": 0, \"price\": 1}");
	h_assert_problem_errors(&r, 400, "price:unknown_field sku:invalid_format quantity:out_of_range");
	h_resp_free(&r);
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 1}", sku("D1"));
	expect_problem(&u, "POST", "/api/v1/cart/items", body, 400, "sku"); /* draft */
	/* quantity x price past int64 */
	snprintf(filter, sizeof filter, "{\"variants.sku\": \"%s\"}", sku("A4"));
	h_db_update("products", filter,
		    "{\"$set\": {\"variants.$.price\": {\"$numberLong\": \"5000000000000000000\"}}}");
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 2}", sku("A4"));
	expect_problem(&u, "POST", "/api/v1/cart/items", body, 400, "quantity");
	h_db_update("products", filter, "{\"$set\": {\"variants.$.price\": {\"$numberLong\": \"100\"}}}");
	/* nothing of that changed the cart */
	assert_int_equal(line_qty(&u, sku("C3"), &n), 1);
	assert_int_equal(n, 1);
	/* tokens: malformed 400, unknown 404 */
	expect_problem(&bad, "GET", "/api/v1/cart", NULL, 400, "X-Cart-Token");
	gone = (struct call){ NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
	expect_problem(&gone, "GET", "/api/v1/cart", NULL, 404, NULL);
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 1}", sku("C3"));
	expect_problem(&gone, "POST", "/api/v1/cart/items", body, 404, NULL);
	/* an expired guest cart is unreachable at once (before the TTL sweep) */
	{
		struct call g = { NULL, NULL };
		char token[64], hash[65];

		r = req(&g, "POST", "/api/v1/cart/items", body);
		assert_int_equal(r.status, 201);
		guest_token_of(&r, token);
		h_resp_free(&r);
		g.token = token;
		token_hash_hex(token, hash);
		snprintf(filter, sizeof filter, "{\"token_hash\": \"%s\"}", hash);
		h_db_update("carts", filter,
			    "{\"$set\": {\"expires_at\": {\"$date\": \"2020-01-01T00:00:00Z\"}}}");
		expect_problem(&g, "GET", "/api/v1/cart", NULL, 404, NULL);
		expect_problem(&g, "POST", "/api/v1/cart/items", body, 404, NULL);
	}
	/* PATCH and DELETE of a line the cart lacks; bad quantity */
	snprintf(path, sizeof path, "/api/v1/cart/items/%s", sku("C1"));
	expect_problem(&u, "PATCH", path, "{\"quantity\": 2}", 404, "sku");
	expect_problem(&u, "DELETE", path, NULL, 404, "sku");
	snprintf(path, sizeof path, "/api/v1/cart/items/%s", sku("C3"));
	expect_problem(&u, "PATCH", path, "{\"quantity\": -1}", 400, "quantity");
	expect_problem(&u, "PATCH", path, "{\"quantity\": 100}", 400, "quantity");
	/* every fault of a PATCH at once (the path's SKU too); the line unchanged */
	r = req(&u, "PATCH", path, "{\"quantity\": \"2\", \"price\": 1}");
	h_assert_problem_errors(&r, 400, "price:unknown_field quantity:invalid_type");
	h_resp_free(&r);
	r = req(&u, "PATCH", "/api/v1/cart/items/a%20b", "{\"quantity\": null}");
	h_assert_problem_errors(&r, 400, "sku:invalid_format quantity:required");
	h_resp_free(&r);
	assert_int_equal(line_qty(&u, sku("C3"), NULL), 1);
	/* coupon codes with operators or too long */
	expect_problem(&u, "PUT", "/api/v1/cart/coupon", "{\"code\": \"$ne\"}", 400, "code");
	expect_problem(&u, "PUT", "/api/v1/cart/coupon",
		       "{\"code\": \"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"}", 400, "code");
	expect_problem(&u, "PUT", "/api/v1/cart/coupon", "{\"code\": {\"$gt\": \"\"}}", 400, NULL);
	/* every fault of the coupon body at once; no coupon on the cart */
	r = req(&u, "PUT", "/api/v1/cart/coupon", "{\"code\": \"A B\", \"discount\": 100}");
	h_assert_problem_errors(&r, 400, "discount:unknown_field code:invalid_format");
	h_resp_free(&r);
	r = req(&u, "GET", "/api/v1/cart", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_null(hc_jget(j, "coupon"));
	json_object_put(j);
	h_resp_free(&r);
	/* summary parameters */
	expect_problem(&u, "GET", "/api/v1/cart/summary?shipping_zone=mars", NULL, 400,
		       "shipping_zone");
	expect_problem(&u, "GET", "/api/v1/cart/summary?shipping_method=teleport", NULL, 400,
		       "shipping_method");
	expect_problem(&u, "GET", "/api/v1/cart/summary?shipping_zone[$ne]=x", NULL, 400, NULL);
	/* another user's address is a 404 */
	r = req(&other, "POST", "/api/v1/me/addresses",
		"{\"name\": \"B\", \"line1\": \"1 Road\", \"city\": \"Dhaka\", \"postal_code\": \"1207\","
		" \"country\": \"BD\"}");
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(path, sizeof path, "/api/v1/cart/summary?shipping_address_id=%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
	expect_problem(&u, "GET", path, NULL, 404, "shipping_address_id");
	r = req(&other, "GET", path, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "shipping_zone"), "inside_dhaka");
	json_object_put(j);
	h_resp_free(&r);
	/* PATCH 0 removes the line */
	snprintf(path, sizeof path, "/api/v1/cart/items/%s", sku("C3"));
	r = req(&u, "PATCH", path, "{\"quantity\": 0}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_int_equal(line_qty(&u, sku("C3"), &n), 0);
	assert_int_equal(n, 0);
}

static void test_line_limit(void **state)
{
	char bearer[1100], uid[25], name[32];
	struct call u;
	long n = 0;

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "M%d", i);
		assert_int_equal(add(&u, sku(name), 1), i == 0 ? 201 : 200);
	}
	/* the 101st line is refused; adding to an existing one is not */
	assert_int_equal(add(&u, sku("C1"), 1), 409);
	assert_int_equal(add(&u, sku("M5"), 1), 200);
	assert_int_equal(line_qty(&u, sku("M5"), &n), 2);
	assert_int_equal(n, 100);
}

/* ---- concurrency ---- */

struct add_arg {
	const char *bearer, *sku;
	long qty, status;
};

static void *add_thread(void *p)
{
	struct add_arg *a = p;
	struct call c = { a->bearer, NULL };

	a->status = add(&c, a->sku, a->qty);
	return NULL;
}

static void parallel_adds(const char *bearer, const char *s, long qty, int n, int *ok, int *refused)
{
	struct add_arg args[50];
	pthread_t th[50];

	*ok = *refused = 0;
	for (int i = 0; i < n; i++) {
		args[i] = (struct add_arg){ bearer, s, qty, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, add_thread, &args[i]), 0);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (args[i].status == 200 || args[i].status == 201)
			(*ok)++;
		else if (args[i].status == 409)
			(*refused)++;
	}
}

static void test_fifty_parallel_adds(void **state)
{
	char bearer[1100], uid[25];
	struct call u;
	int ok, refused;
	long n = 0;

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	/* 50 x 1: one line of 50 */
	parallel_adds(bearer, sku("A3"), 1, 50, &ok, &refused);
	assert_int_equal(ok, 50);
	assert_int_equal(refused, 0);
	assert_int_equal(line_qty(&u, sku("A3"), &n), 50);
	assert_int_equal(n, 1);
	/* 50 x 3 against the maximum of 99: exactly 33 fit, 17 refused */
	parallel_adds(bearer, sku("B1"), 3, 50, &ok, &refused);
	assert_int_equal(ok, 33);
	assert_int_equal(refused, 17);
	assert_int_equal(line_qty(&u, sku("B1"), &n), 99);
	assert_int_equal(n, 2);
}

/* ---- coupons ---- */

static void make_coupon(const char *body, char *id_out)
{
	struct h_resp r = hc_staff("POST", "/api/v1/admin/coupons", body, NULL);
	json_object *j;

	if (r.status != 201)
		fprintf(stderr, "coupon %s: %ld %s\n", body, r.status, r.body);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	{
		/* 201 names what it made: Location reads the same coupon back */
		char loc[128], want[128];
		struct h_resp g;

		assert_true(h_header(&r, "Location", loc, sizeof loc));
		snprintf(want, sizeof want, "/api/v1/admin/coupons/%s", hc_jstr(j, "id"));
		assert_string_equal(loc, want);
		g = hc_staff("GET", loc, NULL, NULL);
		assert_int_equal(g.status, 200);
		h_resp_free(&g);
	}
	if (id_out)
		snprintf(id_out, 25, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

/* PUT the coupon: 200, or 422 with reason (returned, "" on 200). */
static const char *apply(const struct call *c, const char *code)
{
	static char reason[64];
	char body[128];
	struct h_resp r;
	json_object *j;

	snprintf(body, sizeof body, "{\"code\": \"%s\"}", code);
	r = req(c, "PUT", "/api/v1/cart/coupon", body);
	reason[0] = '\0';
	if (r.status == 422) {
		h_assert_problem_field(&r, 422, "code");
		j = h_json(&r);
		snprintf(reason, sizeof reason, "%s", hc_jstr(j, "reason"));
		json_object_put(j);
	} else {
		if (r.status != 200)
			fprintf(stderr, "apply %s: %ld %s\n", code, r.status, r.body);
		assert_int_equal(r.status, 200);
	}
	h_resp_free(&r);
	return reason;
}

static void test_coupon_rules_and_reasons(void **state)
{
	char bearer[1100], uid[25], code[64], body[1024], id[25], filter[256], doc[1536];
	struct call u;
	struct h_resp r;

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	assert_int_equal(add(&u, sku("C1"), 2), 201); /* 2000, product C has no category */

	snprintf(code, sizeof code, "Pct%s", hc_tag);
	snprintf(body, sizeof body, "{\"code\": \"%s\", \"type\": \"percent\", \"percent_bp\": 1000}",
		 code);
	make_coupon(body, id);
	/* case-insensitive and unique */
	snprintf(body, sizeof body, "{\"code\": \"PCT%s\", \"type\": \"fixed\", \"amount\": 5}",
		 hc_tag);
	r = hc_staff("POST", "/api/v1/admin/coupons", body, NULL);
	h_assert_problem_errors(&r, 409, "code:not_unique");
	h_resp_free(&r);
	/* every fault of a coupon at once, each with its code; nothing stored */
	r = hc_staff("POST", "/api/v1/admin/coupons",
		     "{\"code\": \"bad code!\", \"type\": \"half\", \"amount\": -1,"
		     " \"ends_at\": \"soon\", \"active\": \"yes\", \"scope\": {\"skus\": []},"
		     " \"owner\": 1}", NULL);
	h_assert_problem_errors(&r, 400,
				"owner:unknown_field code:invalid_format type:invalid_value "
				"amount:out_of_range ends_at:invalid_format active:invalid_type "
				"scope.skus:unknown_field");
	h_resp_free(&r);
	assert_int_equal(h_db_count("coupons", "{\"code\":\"bad code!\"}"), 0);
	{
		char lower[64];

		for (size_t i = 0; i <= strlen(code); i++)
			lower[i] = (char)((code[i] >= 'A' && code[i] <= 'Z') ? code[i] + 32 : code[i]);
		assert_string_equal(apply(&u, lower), "");
	}
	/* unknown and inactive answer alike */
	assert_string_equal(apply(&u, "NoSuchCode"), "unknown");
	snprintf(body, sizeof body, "{\"code\": \"Off%s\", \"type\": \"fixed\", \"amount\": 100,"
		 " \"active\": false}", hc_tag);
	make_coupon(body, NULL);
	snprintf(code, sizeof code, "Off%s", hc_tag);
	assert_string_equal(apply(&u, code), "unknown");
	snprintf(body, sizeof body, "{\"code\": \"Old%s\", \"type\": \"fixed\", \"amount\": 100,"
		 " \"ends_at\": \"2020-01-01T00:00:00Z\"}", hc_tag);
	make_coupon(body, NULL);
	snprintf(code, sizeof code, "Old%s", hc_tag);
	assert_string_equal(apply(&u, code), "expired");
	snprintf(body, sizeof body, "{\"code\": \"New%s\", \"type\": \"fixed\", \"amount\": 100,"
		 " \"starts_at\": \"2099-01-01T00:00:00Z\"}", hc_tag);
	make_coupon(body, NULL);
	snprintf(code, sizeof code, "New%s", hc_tag);
	assert_string_equal(apply(&u, code), "not_started");
	snprintf(body, sizeof body, "{\"code\": \"Min%s\", \"type\": \"fixed\", \"amount\": 100,"
		 " \"min_subtotal\": 2001}", hc_tag);
	make_coupon(body, NULL);
	snprintf(code, sizeof code, "Min%s", hc_tag);
	assert_string_equal(apply(&u, code), "min_subtotal");
	snprintf(body, sizeof body, "{\"code\": \"Lim%s\", \"type\": \"fixed\", \"amount\": 100,"
		 " \"usage_limit\": 3}", hc_tag);
	make_coupon(body, id);
	snprintf(code, sizeof code, "Lim%s", hc_tag);
	assert_string_equal(apply(&u, code), "");
	snprintf(filter, sizeof filter, "{\"_id\": {\"$oid\": \"%s\"}}", id);
	h_db_update("coupons", filter, "{\"$set\": {\"used_count\": {\"$numberLong\": \"3\"}}}");
	assert_string_equal(apply(&u, code), "usage_limit");
	snprintf(body, sizeof body, "{\"code\": \"Once%s\", \"type\": \"fixed\", \"amount\": 100,"
		 " \"usage_limit_per_customer\": 1}", hc_tag);
	make_coupon(body, id);
	snprintf(code, sizeof code, "Once%s", hc_tag);
	assert_string_equal(apply(&u, code), "");
	snprintf(doc, sizeof doc, "{\"coupon_id\": {\"$oid\": \"%s\"}, \"user_id\": {\"$oid\": \"%s\"},"
		 " \"order_id\": {\"$oid\": \"%s\"}}", id, uid, id);
	h_db_insert_json("coupon_redemptions", doc);
	assert_string_equal(apply(&u, code), "per_customer_limit");
	snprintf(body, sizeof body, "{\"code\": \"First%s\", \"type\": \"percent\", \"percent_bp\": 1000,"
		 " \"first_order_only\": true}", hc_tag);
	make_coupon(body, NULL);
	snprintf(code, sizeof code, "First%s", hc_tag);
	assert_string_equal(apply(&u, code), "");
	/* a delivered earlier order, whole (the database validates orders) */
	snprintf(doc, sizeof doc,
		 "{\"number\": \"EM-2020-%06ld\", \"user_id\": {\"$oid\": \"%s\"},"
		 " \"status\": \"delivered\", \"payment_method\": \"cod\","
		 " \"payment_status\": \"paid\", \"currency\": \"BDT\","
		 " \"lines\": [{\"sku\": \"OLD-1\", \"quantity\": {\"$numberLong\": \"1\"},"
		 " \"unit_price\": {\"$numberLong\": \"100\"}, \"line_total\": {\"$numberLong\": \"100\"},"
		 " \"discount\": {\"$numberLong\": \"0\"}, \"tax\": {\"$numberLong\": \"0\"}}],"
		 " \"subtotal\": {\"$numberLong\": \"100\"}, \"discount\": {\"$numberLong\": \"0\"},"
		 " \"shipping\": {\"$numberLong\": \"0\"}, \"tax\": {\"$numberLong\": \"0\"},"
		 " \"total\": {\"$numberLong\": \"100\"}, \"version\": {\"$numberLong\": \"1\"},"
		 " \"created_at\": {\"$date\": 1600000000000}}",
		 (long)(h_now_s() * 1000) % 1000000, uid);
	h_db_insert_json("orders", doc);
	assert_string_equal(apply(&u, code), "first_order_only");
	/* scope: a category the line is not under */
	snprintf(body, sizeof body, "{\"code\": \"Scope%s\", \"type\": \"percent\", \"percent_bp\": 1000,"
		 " \"scope\": {\"category_ids\": [\"%s\"]}}", hc_tag, cat_root);
	make_coupon(body, NULL);
	snprintf(code, sizeof code, "Scope%s", hc_tag);
	assert_string_equal(apply(&u, code), "not_in_scope");
	/* a refused coupon changed nothing: the last one that applied is still on */
	r = req(&u, "GET", "/api/v1/cart", NULL);
	{
		json_object *j = h_json(&r);
		char want[64];

		snprintf(want, sizeof want, "First%s", hc_tag);
		assert_string_equal(hc_jstr(j, "coupon"), want);
		json_object_put(j);
	}
	h_resp_free(&r);
	/* the stored coupon no longer applies: the summary says why, checkout waits */
	r = req(&u, "GET", "/api/v1/cart/summary?shipping_zone=inside_dhaka", NULL);
	{
		json_object *j = h_json(&r);

		assert_string_equal(hc_jstr(j, "coupon.status"), "not_applicable");
		assert_string_equal(hc_jstr(j, "coupon.reason"), "first_order_only");
		assert_int_equal(json_object_get_int64(hc_jget(j, "discount")), 0);
		assert_false(json_object_get_boolean(hc_jget(j, "checkout_ready")));
		json_object_put(j);
	}
	h_resp_free(&r);
	r = req(&u, "DELETE", "/api/v1/cart/coupon", NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
}

/* Scope with subcategories and the summary's arithmetic. */
static void test_scope_and_summary(void **state)
{
	char bearer[1100], uid[25], code[64], body[512];
	struct call u;
	struct h_resp r;
	json_object *j, *lines;
	int64_t dsum = 0;

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	assert_int_equal(add(&u, sku("A1"), 1), 201); /* 100000, category grandchild of root */
	assert_int_equal(add(&u, sku("A2"), 2), 200); /* 2 x 33333 = 66666, same */
	assert_int_equal(add(&u, sku("B1"), 1), 200); /* 50000, other category */
	snprintf(code, sizeof code, "Root%s", hc_tag);
	snprintf(body, sizeof body, "{\"code\": \"%s\", \"type\": \"percent\", \"percent_bp\": 1500,"
		 " \"scope\": {\"category_ids\": [\"%s\"]}}", code, cat_root);
	make_coupon(body, NULL);
	assert_string_equal(apply(&u, code), "");
	r = req(&u, "GET", "/api/v1/cart/summary?shipping_zone=outside_dhaka", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	/* 15 % of the 166666 in scope = 24999.9 -> 25000 (half-up); B1 gets none */
	assert_string_equal(hc_jstr(j, "currency"), "BDT");
	assert_int_equal(json_object_get_int64(hc_jget(j, "subtotal")), 216666);
	assert_int_equal(json_object_get_int64(hc_jget(j, "discount")), 25000);
	assert_int_equal(json_object_get_int64(hc_jget(j, "shipping")), 12000);
	assert_int_equal(json_object_get_int64(hc_jget(j, "total")), 216666 - 25000 + 12000);
	assert_string_equal(hc_jstr(j, "coupon.status"), "applied");
	assert_true(json_object_get_boolean(hc_jget(j, "checkout_ready")));
	lines = hc_jget(j, "lines");
	assert_int_equal(json_object_array_length(lines), 3);
	for (size_t i = 0; i < 3; i++) {
		json_object *l = json_object_array_get_idx(lines, i);

		dsum += json_object_get_int64(hc_jget(l, "discount"));
		if (strcmp(hc_jstr(l, "sku"), sku("B1")) == 0)
			assert_int_equal(json_object_get_int64(hc_jget(l, "discount")), 0);
		assert_true(json_object_get_int64(hc_jget(l, "line_total")) ==
			    json_object_get_int64(hc_jget(l, "unit_price")) *
				    json_object_get_int64(hc_jget(l, "quantity")));
	}
	/* 25000 split 100000:66666 -> 15000.09 / 9999.9 -> 15000 + 10000 */
	assert_int_equal(dsum, 25000);
	json_object_put(j);
	h_resp_free(&r);
	/* the free-over threshold: 5,000 BDT of goods after discount ship free */
	assert_int_equal(add(&u, sku("A1"), 4), 200); /* +400000: goods after discount 531666 */
	r = req(&u, "GET", "/api/v1/cart/summary?shipping_zone=outside_dhaka", NULL);
	j = h_json(&r);
	assert_int_equal(json_object_get_int64(hc_jget(j, "shipping")), 0);
	assert_true(json_object_get_boolean(hc_jget(j, "shipping_free")));
	json_object_put(j);
	h_resp_free(&r);
	/* no zone: shipping is not quoted and checkout is not ready */
	r = req(&u, "GET", "/api/v1/cart/summary", NULL);
	j = h_json(&r);
	assert_false(json_object_get_boolean(hc_jget(j, "shipping_quoted")));
	assert_false(json_object_get_boolean(hc_jget(j, "checkout_ready")));
	json_object_put(j);
	h_resp_free(&r);
}

static void test_coupon_admin(void **state)
{
	char body[512], id[25], path[128], etag[64], hdr[96];
	struct h_resp r;
	json_object *j;

	(void)state;
	snprintf(body, sizeof body, "{\"code\": \"Adm%s\", \"type\": \"fixed\", \"amount\": 500}",
		 hc_tag);
	make_coupon(body, id);
	snprintf(path, sizeof path, "/api/v1/admin/coupons/%s", id);
	r = hc_staff("GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "etag", etag, sizeof etag));
	j = h_json(&r);
	assert_int_equal(json_object_get_int64(hc_jget(j, "amount")), 500);
	assert_null(hc_jget(j, "code_key"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(hdr, sizeof hdr, "If-Match: %s", etag);
	r = hc_staff("PATCH", path, "{\"amount\": 700, \"usage_limit\": 10}", hdr);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_get_int64(hc_jget(j, "amount")), 700);
	assert_int_equal(json_object_get_int64(hc_jget(j, "version")), 2);
	json_object_put(j);
	h_resp_free(&r);
	/* a stale If-Match, a bad value, mass assignment: refused, nothing changed */
	r = hc_staff("PATCH", path, "{\"amount\": 900}", hdr);
	h_assert_problem(&r, 412);
	h_resp_free(&r);
	r = hc_staff("PATCH", path, "{\"amount\": -1}", NULL);
	h_assert_problem_field(&r, 400, "amount");
	h_resp_free(&r);
	r = hc_staff("PATCH", path, "{\"used_count\": 0}", NULL);
	h_assert_problem_field(&r, 400, "used_count");
	h_resp_free(&r);
	r = hc_staff("PATCH", path, "{\"max_discount\": 10}", NULL); /* percent only */
	h_assert_problem_field(&r, 400, "max_discount");
	h_resp_free(&r);
	r = hc_staff("PATCH", path, "{\"usage_limit\": null}", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_null(hc_jget(j, "usage_limit"));
	assert_int_equal(json_object_get_int64(hc_jget(j, "amount")), 700);
	json_object_put(j);
	h_resp_free(&r);
	/* customers cannot see the admin routes */
	{
		const char *h[] = { hc_cust_auth, NULL };

		r = h_request("GET", "/api/v1/admin/coupons", NULL, 0, h);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
	r = hc_staff("GET", "/api/v1/admin/coupons?limit=2", NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_true(json_object_array_length(hc_jget(j, "items")) <= 2);
	json_object_put(j);
	h_resp_free(&r);
	r = hc_staff("DELETE", path, NULL, NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	r = hc_staff("GET", path, NULL, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
}

/* ---- favorites ---- */

struct fav_arg {
	const char *bearer;
	long status;
};

static void *fav_thread(void *p)
{
	struct fav_arg *a = p;
	struct call c = { a->bearer, NULL };
	char body[96];
	struct h_resp r;

	snprintf(body, sizeof body, "{\"product_id\": \"%s\"}", prod_c);
	r = req(&c, "POST", "/api/v1/favorites", body);
	a->status = r.status;
	{
		/* only the request that added it names the favorite it made */
		char loc[96], want[96];
		bool has = h_header(&r, "Location", loc, sizeof loc);

		snprintf(want, sizeof want, "/api/v1/favorites/%s", prod_c);
		if (r.status == 201 ? !has || strcmp(loc, want) != 0 : has)
			a->status = -r.status; /* the main thread's count then fails */
	}
	h_resp_free(&r);
	return NULL;
}

static void test_favorites(void **state)
{
	char bearer[1100], uid[25], b2[1100], uid2[25], filter[256], path[256], body[256];
	struct call u, other, anon = { NULL, NULL };
	struct fav_arg args[20];
	pthread_t th[20];
	int created = 0;
	struct h_resp r;
	json_object *j;

	(void)state;
	user(bearer, sizeof bearer, uid);
	user(b2, sizeof b2, uid2);
	u = (struct call){ bearer, NULL };
	other = (struct call){ b2, NULL };
	for (int i = 0; i < 20; i++) {
		args[i] = (struct fav_arg){ bearer, 0 };
		pthread_create(&th[i], NULL, fav_thread, &args[i]);
	}
	for (int i = 0; i < 20; i++) {
		pthread_join(th[i], NULL);
		assert_true(args[i].status == 201 || args[i].status == 200);
		created += args[i].status == 201;
	}
	assert_int_equal(created, 1);
	snprintf(filter, sizeof filter, "{\"user_id\": {\"$oid\": \"%s\"}}", uid);
	assert_int_equal(h_db_count("favorites", filter), 1);
	r = req(&u, "GET", "/api/v1/favorites", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 1);
	assert_string_equal(hc_jstr(j, "items.0.product_id"), prod_c);
	assert_int_equal(json_object_get_int64(hc_jget(j, "items.0.price")), 1000);
	assert_string_equal(hc_jstr(j, "items.0.available"), "in_stock");
	json_object_put(j);
	h_resp_free(&r);
	/* guests have no favorites; another account cannot touch these */
	expect_problem(&anon, "GET", "/api/v1/favorites", NULL, 401, NULL);
	snprintf(path, sizeof path, "/api/v1/favorites/%s", prod_c);
	expect_problem(&other, "DELETE", path, NULL, 404, NULL);
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 1}", sku("C1"));
	snprintf(path, sizeof path, "/api/v1/favorites/%s/cart", prod_c);
	expect_problem(&other, "POST", path, body, 404, NULL);
	expect_problem(&u, "POST", "/api/v1/favorites", "{\"product_id\": \"zz\"}", 400, "product_id");
	/* every fault of one body at once, and nothing added */
	r = req(&u, "POST", "/api/v1/favorites",
		"{\"product_id\": \"zzzzzzzzzzzzzzzzzzzzzzzz\", \"note\": \"x\"}");
	h_assert_problem_errors(&r, 400, "note:unknown_field product_id:invalid_format");
	h_resp_free(&r);
	snprintf(body, sizeof body, "{\"sku\": 5, \"quantity\": 0}");
	snprintf(path, sizeof path, "/api/v1/favorites/%s/cart", prod_c);
	r = req(&u, "POST", path, body);
	h_assert_problem_errors(&r, 400, "sku:invalid_type quantity:out_of_range");
	h_resp_free(&r);
	assert_int_equal(h_db_count("favorites", filter), 1);
	/* the Location of the add: the favorite, to its owner only */
	snprintf(path, sizeof path, "/api/v1/favorites/%s", prod_c);
	r = req(&u, "GET", path, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "product_id"), prod_c);
	assert_int_equal(json_object_get_int64(hc_jget(j, "price")), 1000);
	assert_string_equal(hc_jstr(j, "available"), "in_stock");
	json_object_put(j);
	h_resp_free(&r);
	expect_problem(&other, "GET", path, NULL, 404, NULL);
	snprintf(path, sizeof path, "/api/v1/favorites/%s", prod_a);
	expect_problem(&u, "GET", path, NULL, 404, NULL);
	snprintf(path, sizeof path, "/api/v1/favorites/%s/cart", prod_c);
	snprintf(body, sizeof body, "{\"product_id\": \"%s\"}", prod_draft);
	expect_problem(&u, "POST", "/api/v1/favorites", body, 400, "product_id");
	/* move to cart: a SKU of another product is refused; its own works */
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 1}", sku("A1"));
	expect_problem(&u, "POST", path, body, 400, "sku");
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 2}", sku("C2"));
	r = req(&u, "POST", path, body);
	assert_true(r.status == 200 || r.status == 201);
	h_resp_free(&r);
	assert_int_equal(line_qty(&u, sku("C2"), NULL), 2);
	assert_int_equal(h_db_count("favorites", filter), 0);
	snprintf(path, sizeof path, "/api/v1/favorites/%s", prod_c);
	expect_problem(&u, "DELETE", path, NULL, 404, NULL);
}

/* The merge rule's caps: the line maximum and the stock, reported. */
static void test_merge_caps(void **state)
{
	char bearer[1100], uid[25], token[64], filter[256], body[128];
	struct call g = { NULL, NULL }, u, both;
	struct h_resp r;
	json_object *j, *capped;
	bool saw_c3 = false, saw_a2 = false;

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	assert_int_equal(add(&u, sku("C3"), 60), 201);
	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": 60}", sku("C3"));
	r = req(&g, "POST", "/api/v1/cart/items", body);
	assert_int_equal(r.status, 201);
	guest_token_of(&r, token);
	h_resp_free(&r);
	g.token = token;
	assert_int_equal(add(&g, sku("A2"), 4), 200);
	/* A2's stock drops to 2 before the sign-in */
	snprintf(filter, sizeof filter, "{\"variants.sku\": \"%s\"}", sku("A2"));
	h_db_update("products", filter, "{\"$set\": {\"variants.$.stock\": {\"$numberLong\": \"2\"}}}");
	both = (struct call){ bearer, token };
	r = req(&both, "GET", "/api/v1/cart", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	capped = hc_jget(j, "merge.capped");
	assert_non_null(capped);
	for (size_t i = 0; i < json_object_array_length(capped); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(capped, i));

		saw_c3 |= strcmp(s, sku("C3")) == 0;
		saw_a2 |= strcmp(s, sku("A2")) == 0;
	}
	assert_true(saw_c3);
	assert_true(saw_a2);
	json_object_put(j);
	h_resp_free(&r);
	assert_int_equal(line_qty(&u, sku("C3"), NULL), 99); /* 60 + 60, held at the maximum */
	assert_int_equal(line_qty(&u, sku("A2"), NULL), 2);  /* held at the stock */
	h_db_update("products", filter,
		    "{\"$set\": {\"variants.$.stock\": {\"$numberLong\": \"1000\"}}}");
}

/* Tax from the configuration, exclusive and inclusive, through a reload. */
static void test_tax_configured(void **state)
{
	char bearer[1100], uid[25];
	struct call u;
	struct h_resp r;
	json_object *j;

	(void)state;
	user(bearer, sizeof bearer, uid);
	u = (struct call){ bearer, NULL };
	assert_int_equal(add(&u, sku("C1"), 1), 201); /* 1000 */
	assert_true(h_stack_reconfigure("EMPORIUM_TAX_RATE_BP=1500\nEMPORIUM_PRICES_INCLUDE_TAX=false\n"));
	r = req(&u, "GET", "/api/v1/cart/summary?shipping_zone=inside_dhaka", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_get_int64(hc_jget(j, "tax")), 150);
	assert_int_equal(json_object_get_int64(hc_jget(j, "total")), 1000 + 150 + 6000);
	assert_false(json_object_get_boolean(hc_jget(j, "prices_include_tax")));
	json_object_put(j);
	h_resp_free(&r);
	assert_true(h_stack_reconfigure("EMPORIUM_TAX_RATE_BP=1500\nEMPORIUM_PRICES_INCLUDE_TAX=true\n"));
	r = req(&u, "GET", "/api/v1/cart/summary?shipping_zone=inside_dhaka", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	/* 1000 x 1500 / 11500 = 130.43 -> 130, inside the price */
	assert_int_equal(json_object_get_int64(hc_jget(j, "tax")), 130);
	assert_int_equal(json_object_get_int64(hc_jget(j, "lines.0.tax")), 130);
	assert_int_equal(json_object_get_int64(hc_jget(j, "total")), 1000 + 6000);
	json_object_put(j);
	h_resp_free(&r);
	assert_true(h_stack_reconfigure(NULL));
}

/* A browser shop on an allowed origin may send the guest token header. */
static void test_cors_preflight_allows_cart_token(void **state)
{
	const char *origin = h_env("STACK_CORS_ORIGIN");
	char oh[256], allow[512];
	const char *h[] = { oh, "Access-Control-Request-Method: POST",
			    "Access-Control-Request-Headers: content-type, x-cart-token", NULL };
	struct h_resp r;

	(void)state;
	assert_non_null(origin); /* the stack is started with an allowed origin */
	snprintf(oh, sizeof oh, "Origin: %s", origin);
	r = h_request("OPTIONS", "/api/v1/cart/items", NULL, 0, h);
	assert_int_equal(r.status, 204);
	assert_true(h_header(&r, "access-control-allow-headers", allow, sizeof allow));
	assert_non_null(strstr(allow, "X-Cart-Token"));
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_cart_then_merge),
		cmocka_unit_test(test_merge_exactly_once_concurrently),
		cmocka_unit_test(test_two_sessions_one_cart),
		cmocka_unit_test(test_lines_flag_changes),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_fifty_parallel_adds),
		cmocka_unit_test(test_coupon_rules_and_reasons),
		cmocka_unit_test(test_scope_and_summary),
		cmocka_unit_test(test_coupon_admin),
		cmocka_unit_test(test_favorites),
		cmocka_unit_test(test_merge_caps),
		cmocka_unit_test(test_cors_preflight_allows_cart_token),
		cmocka_unit_test(test_tax_configured), /* last: it reloads the stack */
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("cart", tests, setup, NULL);
	h_cleanup();
	return rc;
}
