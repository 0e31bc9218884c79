/*
 * test_query_plans.c - which index serves each catalog and orders query
 * (issue 16). The requests go through the real stack (HTTPS -> nginx ->
 * emporium-fcgi -> database); the database stand-in, started with
 * --enable-test-commands, records the plan of every query it answers
 * (test command standinQueryPlans), and the test asserts the index each
 * request's query used: the public list with a category filter and a
 * price sort (category_price, sort from the index), the default list
 * (visible_newest), a search (the text index), a product by slug
 * (slug_unique) and a customer's orders (user_id). No products or
 * orders query may scan the collection. Against a real mongod the
 * command does not exist and the suite skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <bson/bson.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_catalog.h"

static bool plans_on;

/* The plans recorded since the last clear (caller destroys). */
static void plans_get(bson_t *reply)
{
	assert_true(hc_plans_cmd(NULL, reply));
}

static bool str_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Whether array filterKeys of plan holds key. */
static bool plan_has_key(const bson_t *plan, const char *key)
{
	bson_iter_t it, arr;

	if (!bson_iter_init_find(&it, plan, "filterKeys") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &arr))
		return false;
	while (bson_iter_next(&arr))
		if (BSON_ITER_HOLDS_UTF8(&arr) && strcmp(bson_iter_utf8(&arr, NULL), key) == 0)
			return true;
	return false;
}

static const char *plan_str(const bson_t *plan, const char *field)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, plan, field) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return "";
}

/*
 * Asserts that some recorded query on collection coll whose filter has
 * key (NULL: any) ran with stage and index, and that no query on coll
 * scanned the collection. Prints what was recorded when it fails.
 */
static void expect_plan(const char *coll, const char *key, const char *stage, const char *index)
{
	bson_t reply, plan;
	bson_iter_t it, arr;
	char suffix[64];
	bool found = false, scanned = false;

	snprintf(suffix, sizeof(suffix), ".%s", coll);
	plans_get(&reply);
	assert_true(bson_iter_init_find(&it, &reply, "plans") && bson_iter_recurse(&it, &arr));
	while (bson_iter_next(&arr)) {
		const uint8_t *data;
		uint32_t len;

		bson_iter_document(&arr, &len, &data);
		assert_true(bson_init_static(&plan, data, len));
		if (!str_ends(plan_str(&plan, "ns"), suffix))
			continue;
		if (strcmp(plan_str(&plan, "stage"), "COLLSCAN") == 0)
			scanned = true;
		if ((!key || plan_has_key(&plan, key)) && strcmp(plan_str(&plan, "stage"), stage) == 0 &&
		    strcmp(plan_str(&plan, "indexName"), index) == 0)
			found = true;
	}
	if (!found || scanned) {
		char *s = bson_as_relaxed_extended_json(&reply, NULL);

		fprintf(stderr, "  want %s %s on %s (key %s), no COLLSCAN; recorded: %s\n", stage,
			index, coll, key ? key : "-", s);
		bson_free(s);
	}
	bson_destroy(&reply);
	assert_true(found);
	assert_false(scanned);
}

/* GET path past nginx's micro-cache (any cookie bypasses it; the app
 * ignores an unknown cookie), with an Authorization header or none. */
static void get_ok(const char *path, const char *auth)
{
	const char *hdrs[] = { "Cookie: qp=1", auth, NULL };
	struct h_resp r = h_request("GET", path, NULL, 0, hdrs);

	if (r.status != 200)
		fprintf(stderr, "  GET %s: %ld %s\n", path, r.status, r.body);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

static void test_catalog_plans(void **state)
{
	char cat[25], other[25], slug[64], path[256], id[25], variants[512];

	(void)state;
	if (!plans_on)
		skip();
	/* 3 products in the category, 6 more elsewhere: the category is the
	 * narrower bound, as a real catalog's category is */
	snprintf(slug, sizeof(slug), "qp-%s", hc_tag);
	hc_make_category(slug, NULL, 1, cat);
	snprintf(path, sizeof(path), "qpo-%s", hc_tag);
	hc_make_category(path, NULL, 2, other);
	for (int i = 0; i < 9; i++) {
		char ps[64];

		snprintf(ps, sizeof(ps), "qp-%s-%d", hc_tag, i);
		snprintf(variants, sizeof(variants),
			 "[{\"sku\": \"QP-%d-M\", \"options\": {\"size\": \"M\", \"color\": \"red\"},"
			 " \"price\": %d, \"stock\": 3}]",
			 i, 1000 + i * 10);
		hc_make_product(ps, i < 3 ? "Plan probe zyxplanword" : "Plan filler", "", hc_tag,
				i < 3 ? cat : other, variants, "active", id);
	}

	/* the list the benchmark reads: category + size, price order */
	hc_plans_clear();
	snprintf(path, sizeof(path), "/api/v1/products?category=%s&size=M&sort=price_asc", slug);
	get_ok(path, NULL);
	expect_plan("products", "category_id", "IXSCAN", "category_price");

	/* price, descending: the same index backwards */
	hc_plans_clear();
	snprintf(path, sizeof(path), "/api/v1/products?category=%s&sort=price_desc&limit=2", slug);
	get_ok(path, NULL);
	expect_plan("products", "category_id", "IXSCAN", "category_price");

	/* the default list: newest first */
	hc_plans_clear();
	get_ok("/api/v1/products?limit=3", NULL);
	expect_plan("products", "status", "IXSCAN", "visible_newest");

	/* search: the text index */
	hc_plans_clear();
	snprintf(path, sizeof(path), "/api/v1/products?q=zyxplanword&brand=%s", hc_tag);
	get_ok(path, NULL);
	expect_plan("products", "$text", "TEXT_MATCH", "text_search");

	/* one product by slug */
	hc_plans_clear();
	snprintf(path, sizeof(path), "/api/v1/products/qp-%s-1", hc_tag);
	get_ok(path, NULL);
	expect_plan("products", "slug", "IXSCAN", "slug_unique");
}

static void test_orders_plans(void **state)
{
	(void)state;
	if (!plans_on)
		skip();
	hc_plans_clear();
	get_ok("/api/v1/orders", hc_cust_auth);
	expect_plan("orders", "user_id", "IXSCAN", "user_id");
	hc_plans_clear();
	get_ok("/api/v1/orders?status=pending", hc_cust_auth);
	expect_plan("orders", "user_id", "IXSCAN", "user_id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog_plans),
		cmocka_unit_test(test_orders_plans),
	};
	int rc;

	h_init();
	hc_init();
	plans_on = hc_plans_open();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	hc_plans_close();
	h_cleanup();
	return rc;
}
