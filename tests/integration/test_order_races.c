/*
 * Order races, fired in parallel through nginx on the race pool (8
 * workers), with the invariant checked after:
 *   - 200 customers check out the last unit of a SKU at once: one order,
 *     199 x 409, stock 0, one stock decrement;
 *   - 30 customers with overlapping multi-line carts: for every SKU,
 *     initial stock = final stock + units in orders;
 *   - a coupon with usage_limit 1 and 50 checkouts at once: one redemption;
 *   - 20 requests with one Idempotency-Key and body: one order, and every
 *     answer that is not "still running" is the same order;
 *   - two staff shipping one order at once: one wins, one event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_orders.h"

enum { LAST_N = 200, MIX_N = 30, MIX_SKUS = 5, COUPON_N = 50, IDEM_N = 20 };

struct race {
	struct ho_customer *who;
	int n;
	char keys[LAST_N][33];
	const char *body;       /* NULL: each customer's own default */
	long status[LAST_N];
	char *bodies[LAST_N];
};

static void place_one(int i, void *arg)
{
	struct race *r = arg;
	struct h_resp resp;

	h_source_set(2 + i % 250);
	resp = ho_place(&r->who[r->body ? 0 : i], r->keys[i], r->body);
	r->status[i] = resp.status;
	r->bodies[i] = resp.body ? strdup(resp.body) : NULL;
	h_resp_free(&resp);
	h_source_set(0);
}

static void race_free(struct race *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->bodies[i]);
}

static long count_status(const struct race *r, long status)
{
	long n = 0;

	for (int i = 0; i < r->n; i++)
		n += r->status[i] == status;
	return n;
}

static long orders_with_sku(const char *sku)
{
	char f[200];

	snprintf(f, sizeof f, "{\"lines.sku\": \"%s\", \"status\": {\"$ne\": \"cancelled\"}}", sku);
	return h_db_count("orders", f);
}

static int suite_setup(void **state)
{
	(void)state;
	hc_init();
	assert_true(h_stack_pool(h_race_workers()));
	return 0;
}

static int suite_teardown(void **state)
{
	(void)state;
	return h_stack_pool(0) ? 0 : -1;
}

static void test_last_unit_sold_once(void **state)
{
	static struct ho_customer who[LAST_N];
	static struct race r;
	char prod[25], f[200];

	(void)state;
	ho_product("Last Unit", "[{\"sku\": \"LU1\", \"options\": {\"size\": \"M\"},"
				" \"price\": 120000, \"stock\": 1}]", prod);
	memset(&r, 0, sizeof r);
	for (int i = 0; i < LAST_N; i++) {
		ho_customer_new(&who[i], false);
		ho_cart_add(&who[i], ho_sku("LU1"), 1);
		ho_key(r.keys[i]);
	}
	r.who = who;
	r.n = LAST_N;
	h_parallel(LAST_N, place_one, &r);
	fprintf(stderr, "  last unit: %ld placed, %ld refused (409), %ld other\n",
		count_status(&r, 201), count_status(&r, 409),
		LAST_N - count_status(&r, 201) - count_status(&r, 409));
	assert_int_equal(count_status(&r, 201), 1);
	assert_int_equal(count_status(&r, 409), LAST_N - 1);
	for (int i = 0; i < LAST_N; i++)
		if (r.status[i] == 409)
			assert_non_null(strstr(r.bodies[i], "out_of_stock"));
	assert_int_equal(ho_stock(prod, ho_sku("LU1")), 0);
	assert_int_equal(orders_with_sku(ho_sku("LU1")), 1);
	/* no order without its stock decrement, no decrement without an order */
	snprintf(f, sizeof f, "{\"sku\": \"%s\", \"delta\": -1}", ho_sku("LU1"));
	assert_int_equal(h_db_count("inventory_adjustments", f), 1);
	race_free(&r);
}

/* Units of sku across every non-cancelled order. */
static long units_ordered(const char *sku)
{
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";
	mongoc_collection_t *coll = mongoc_client_get_collection(client, db, "orders");
	bson_t *filter = BCON_NEW("lines.sku", BCON_UTF8(sku));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	const bson_t *doc;
	long units = 0;

	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it, arr, f;

		if (!bson_iter_init_find(&it, doc, "lines") || !bson_iter_recurse(&it, &arr))
			continue;
		while (bson_iter_next(&arr)) {
			const char *s = NULL;
			long q = 0;

			if (!bson_iter_recurse(&arr, &f))
				continue;
			while (bson_iter_next(&f)) {
				if (strcmp(bson_iter_key(&f), "sku") == 0)
					s = bson_iter_utf8(&f, NULL);
				else if (strcmp(bson_iter_key(&f), "quantity") == 0)
					q = (long)bson_iter_as_int64(&f);
			}
			if (s && strcmp(s, sku) == 0)
				units += q;
		}
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	return units;
}

static void test_overlapping_carts_conserve_stock(void **state)
{
	static struct ho_customer who[MIX_N];
	static struct race r;
	char prod[25], names[MIX_SKUS][8], variants[1024];
	const long initial = 12;
	size_t o;

	(void)state;
	o = (size_t)snprintf(variants, sizeof variants, "[");
	for (int s = 0; s < MIX_SKUS; s++) {
		snprintf(names[s], sizeof names[s], "MX%d", s);
		o += (size_t)snprintf(variants + o, sizeof variants - o,
				      "%s{\"sku\": \"%s\", \"options\": {\"size\": \"s%d\"},"
				      " \"price\": %d, \"stock\": %ld}",
				      s ? ", " : "", names[s], s, 10000 + s * 100, initial);
	}
	snprintf(variants + o, sizeof variants - o, "]");
	ho_product("Mixed Carts", variants, prod);
	memset(&r, 0, sizeof r);
	for (int i = 0; i < MIX_N; i++) {
		ho_customer_new(&who[i], false);
		/* three SKUs each, overlapping, 1..3 units */
		for (int k = 0; k < 3; k++)
			ho_cart_add(&who[i], ho_sku(names[(i + k) % MIX_SKUS]), 1 + (i + k) % 3);
		ho_key(r.keys[i]);
	}
	r.who = who;
	r.n = MIX_N;
	h_parallel(MIX_N, place_one, &r);
	fprintf(stderr, "  overlapping carts: %ld placed, %ld out of stock\n",
		count_status(&r, 201), count_status(&r, 409));
	assert_int_equal(count_status(&r, 201) + count_status(&r, 409), MIX_N);
	assert_true(count_status(&r, 201) >= 1);
	for (int s = 0; s < MIX_SKUS; s++) {
		long left = ho_stock(prod, ho_sku(names[s])), sold = units_ordered(ho_sku(names[s]));

		fprintf(stderr, "  %s: %ld left + %ld ordered = %ld\n", names[s], left, sold,
			left + sold);
		assert_true(left >= 0);
		assert_int_equal(left + sold, initial);
	}
	race_free(&r);
}

static void test_coupon_usage_limit_holds(void **state)
{
	static struct ho_customer who[COUPON_N];
	static struct race r;
	char prod[25], code[40], body[256], f[200];
	struct h_resp resp;
	long used;

	(void)state;
	ho_product("Coupon Race", "[{\"sku\": \"CR1\", \"options\": {\"size\": \"M\"},"
				  " \"price\": 100000, \"stock\": 1000}]", prod);
	snprintf(code, sizeof code, "ONCE%s", hc_tag);
	for (char *p = code; *p; p++)
		if (*p == '-')
			*p = 'X';
	snprintf(body, sizeof body,
		 "{\"code\": \"%s\", \"type\": \"fixed\", \"amount\": 5000, \"usage_limit\": 1,"
		 " \"active\": true}", code);
	resp = hc_staff("POST", "/api/v1/admin/coupons", body, NULL);
	if (resp.status != 201)
		fail_msg("coupon: %ld %s", resp.status, resp.body);
	h_resp_free(&resp);
	memset(&r, 0, sizeof r);
	snprintf(body, sizeof body, "{\"code\": \"%s\"}", code);
	for (int i = 0; i < COUPON_N; i++) {
		ho_customer_new(&who[i], false);
		ho_cart_add(&who[i], ho_sku("CR1"), 1);
		resp = ho_req(&who[i], "PUT", "/api/v1/cart/coupon", body, NULL);
		if (resp.status != 200)
			fail_msg("apply coupon: %ld %s", resp.status, resp.body);
		h_resp_free(&resp);
		ho_key(r.keys[i]);
	}
	r.who = who;
	r.n = COUPON_N;
	h_parallel(COUPON_N, place_one, &r);
	fprintf(stderr, "  coupon race: %ld placed, %ld refused\n", count_status(&r, 201),
		count_status(&r, 409));
	assert_int_equal(count_status(&r, 201), 1);
	assert_int_equal(count_status(&r, 409), COUPON_N - 1);
	for (int i = 0; i < COUPON_N; i++)
		if (r.status[i] == 409)
			assert_non_null(strstr(r.bodies[i], "usage_limit"));
	snprintf(f, sizeof f, "{\"coupon.code\": \"%s\"}", code);
	assert_int_equal(h_db_count("orders", f), 1);
	snprintf(f, sizeof f, "{\"code\": \"%s\", \"used_count\": 1}", code);
	used = h_db_count("coupons", f);
	assert_int_equal(used, 1);
	race_free(&r);
}

static void test_one_key_one_order(void **state)
{
	static struct ho_customer who[1];
	static struct race r;
	char prod[25], key[33], id[25] = "";
	long replayed_or_first = 0;

	(void)state;
	ho_product("Idem Race", "[{\"sku\": \"IR1\", \"options\": {\"size\": \"M\"},"
				" \"price\": 10000, \"stock\": 100}]", prod);
	memset(&r, 0, sizeof r);
	ho_customer_new(&who[0], false);
	ho_cart_add(&who[0], ho_sku("IR1"), 2);
	ho_key(key);
	for (int i = 0; i < IDEM_N; i++)
		snprintf(r.keys[i], sizeof r.keys[i], "%s", key);
	r.who = who;
	r.n = IDEM_N;
	{
		static char body[256];

		snprintf(body, sizeof body,
			 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\"}",
			 who[0].address);
		r.body = body;
	}
	h_parallel(IDEM_N, place_one, &r);
	fprintf(stderr, "  one key x%d: %ld x 201, %ld x 409 (still running)\n", IDEM_N,
		count_status(&r, 201), count_status(&r, 409));
	for (int i = 0; i < IDEM_N; i++) {
		assert_true(r.status[i] == 201 || r.status[i] == 409);
		if (r.status[i] == 201) {
			json_object *j = json_tokener_parse(r.bodies[i]);

			assert_non_null(j);
			if (!id[0])
				snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
			assert_string_equal(hc_jstr(j, "id"), id);
			json_object_put(j);
			replayed_or_first++;
		}
	}
	assert_true(replayed_or_first >= 1);
	{
		char f[128];

		snprintf(f, sizeof f, "{\"user_id\": {\"$oid\": \"%s\"}}", who[0].id);
		assert_int_equal(h_db_count("orders", f), 1);
	}
	assert_int_equal(ho_stock(prod, ho_sku("IR1")), 98);
	race_free(&r);
}

struct ship_race {
	char path[160];
	long status[2];
};

static void ship_one(int i, void *arg)
{
	struct ship_race *s = arg;
	struct h_resp r = hc_staff("POST", s->path,
				   i ? "{\"to\": \"shipped\", \"carrier\": \"redx\","
				       " \"tracking_number\": \"RX-2\"}"
				     : "{\"to\": \"shipped\", \"carrier\": \"pathao\","
				       " \"tracking_number\": \"PX-1\"}", NULL);

	s->status[i] = r.status;
	h_resp_free(&r);
}

static void test_two_staff_ship_at_once(void **state)
{
	static struct ho_customer who[1];
	struct ship_race s;
	struct h_resp r;
	char prod[25], key[33], id[25], path[160], f[256];
	json_object *j;

	(void)state;
	ho_product("Ship Race", "[{\"sku\": \"SR1\", \"options\": {\"size\": \"M\"},"
				" \"price\": 10000, \"stock\": 100}]", prod);
	ho_customer_new(&who[0], false);
	ho_cart_add(&who[0], ho_sku("SR1"), 1);
	ho_key(key);
	r = ho_place(&who[0], key, NULL);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/transitions", id);
	r = hc_staff("POST", path, "{\"to\": \"processing\"}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	for (int round = 0; round < 1; round++) {
		memset(&s, 0, sizeof s);
		snprintf(s.path, sizeof s.path, "%s", path);
		h_parallel(2, ship_one, &s);
		assert_true((s.status[0] == 200 && s.status[1] == 409) ||
			    (s.status[0] == 409 && s.status[1] == 200));
	}
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}, \"events.to\": \"shipped\","
		 " \"events\": {\"$size\": 3}}", id);
	assert_int_equal(h_db_count("orders", f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_unit_sold_once),
		cmocka_unit_test(test_overlapping_carts_conserve_stock),
		cmocka_unit_test(test_coupon_usage_limit_holds),
		cmocka_unit_test(test_one_key_one_order),
		cmocka_unit_test(test_two_staff_ship_at_once),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("order-races", tests, suite_setup, suite_teardown);
	h_cleanup();
	return rc;
}
