/*
 * Unit tests for the cart module's pure parts: the shipping configuration,
 * coupon codes and rules, scope with subcategories, RFC 3339 dates, guest
 * tokens, and the admin body builder's refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cart/cart.h"
#include "core/json.h"

static const char *demo_methods =
	"standard:inside_dhaka=6000,outside_dhaka=12000,free_over=500000;express:inside_dhaka=15000";

static void test_shipping_parse(void **state)
{
	struct cart_shipping *s = malloc(sizeof *s);
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_non_null(s);
	assert_true(cart_shipping_parse(demo_methods, "Dhaka=inside_dhaka;Narayanganj=inside_dhaka",
					"outside_dhaka", s, &err));
	assert_int_equal(s->nmethods, 2);
	assert_string_equal(s->methods[0].name, "standard");
	assert_int_equal(s->methods[0].nzones, 2);
	assert_int_equal(s->methods[0].zones[1].price, 12000);
	assert_true(s->methods[0].has_free_over);
	assert_int_equal(s->methods[0].free_over, 500000);
	assert_false(s->methods[1].has_free_over);
	assert_string_equal(cart_shipping_zone_for_city(s, "dhaka"), "inside_dhaka");
	assert_string_equal(cart_shipping_zone_for_city(s, "  DHAKA "), "inside_dhaka");
	assert_string_equal(cart_shipping_zone_for_city(s, "Chattogram"), "outside_dhaka");
	assert_string_equal(cart_shipping_zone_for_city(s, NULL), "outside_dhaka");
	assert_true(cart_shipping_zone_known(s, "inside_dhaka"));
	assert_false(cart_shipping_zone_known(s, "mars"));

	/* refusals name the variable */
	assert_false(cart_shipping_parse("", "", "outside_dhaka", s, &err));
	assert_string_equal(err.field, "EMPORIUM_SHIPPING_METHODS");
	assert_false(cart_shipping_parse("standard", "", "x", s, &err));
	assert_false(cart_shipping_parse("Standard:a=1", "", "a", s, &err));
	assert_false(cart_shipping_parse("s:a=-1", "", "a", s, &err));
	assert_false(cart_shipping_parse("s:a=1.5", "", "a", s, &err));
	assert_false(cart_shipping_parse("s:a=10000000000000", "", "a", s, &err));
	assert_false(cart_shipping_parse("s:a=1,a=2", "", "a", s, &err));
	assert_false(cart_shipping_parse("s:a=1;s:b=2", "", "a", s, &err));
	assert_false(cart_shipping_parse("s:a=1,free_over=1,free_over=2", "", "a", s, &err));
	assert_false(cart_shipping_parse("s:free_over=1", "", "a", s, &err));
	assert_false(cart_shipping_parse("s:a=1", "", "b", s, &err));
	assert_string_equal(err.field, "EMPORIUM_SHIPPING_DEFAULT_ZONE");
	assert_false(cart_shipping_parse("s:a=1", "Dhaka=b", "a", s, &err));
	assert_string_equal(err.field, "EMPORIUM_SHIPPING_ZONE_CITIES");
	assert_false(cart_shipping_parse("s:a=1", "Dhaka", "a", s, &err));
	assert_true(cart_shipping_parse("s:a=0", "", "a", s, &err));
	free(s);
}

static void test_coupon_code(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char key[CART_COUPON_CODE_MAX + 1];

	(void)state;
	assert_true(cart_coupon_code_check("Welcome10", key, sizeof key, &err));
	assert_string_equal(key, "welcome10");
	assert_true(cart_coupon_code_check("A-B_C", key, sizeof key, &err));
	assert_false(cart_coupon_code_check("", key, sizeof key, &err));
	assert_string_equal(err.field, "code");
	assert_false(cart_coupon_code_check("$gt", key, sizeof key, &err));
	assert_false(cart_coupon_code_check("a b", key, sizeof key, &err));
	assert_false(cart_coupon_code_check("x.y", key, sizeof key, &err));
	assert_false(cart_coupon_code_check("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", key, sizeof key,
					    &err)); /* 33 */
	assert_true(cart_coupon_code_check("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", key, sizeof key,
					   &err)); /* 32 */
}

static void test_coupon_rules(void **state)
{
	struct cart_coupon c;
	const int64_t now = INT64_C(1800000000000);

	(void)state;
	memset(&c, 0, sizeof c);
	c.type = CART_COUPON_PERCENT;
	c.percent_bp = 1000;
	c.active = true;
	assert_null(cart_coupon_rules(&c, now, false, 0, 0));
	c.active = false;
	assert_string_equal(cart_coupon_rules(&c, now, true, 0, 0), "unknown"); /* like unknown */
	c.active = true;
	c.starts_at = now + 1;
	assert_string_equal(cart_coupon_rules(&c, now, true, 0, 0), "not_started");
	c.starts_at = now;
	assert_null(cart_coupon_rules(&c, now, true, 0, 0));
	c.ends_at = now;
	assert_string_equal(cart_coupon_rules(&c, now, true, 0, 0), "expired");
	c.ends_at = now + 1;
	assert_null(cart_coupon_rules(&c, now, true, 0, 0));
	c.usage_limit = 5;
	c.used_count = 5;
	assert_string_equal(cart_coupon_rules(&c, now, true, 0, 0), "usage_limit");
	c.used_count = 4;
	c.usage_limit_per_customer = 1;
	assert_string_equal(cart_coupon_rules(&c, now, true, 1, 0), "per_customer_limit");
	assert_null(cart_coupon_rules(&c, now, false, 1, 0)); /* a guest: checked at the order */
	c.first_order_only = true;
	assert_string_equal(cart_coupon_rules(&c, now, true, 0, 2), "first_order_only");
	assert_null(cart_coupon_rules(&c, now, true, 0, 0));
}

static void test_coupon_scope(void **state)
{
	struct cart_coupon c;
	bson_oid_t p1, p2, root, child, grandchild, other, chain[3];

	(void)state;
	memset(&c, 0, sizeof c);
	bson_oid_init_from_string(&p1, "aaaaaaaaaaaaaaaaaaaaaaa1");
	bson_oid_init_from_string(&p2, "aaaaaaaaaaaaaaaaaaaaaaa2");
	bson_oid_init_from_string(&root, "bbbbbbbbbbbbbbbbbbbbbbb1");
	bson_oid_init_from_string(&child, "bbbbbbbbbbbbbbbbbbbbbbb2");
	bson_oid_init_from_string(&grandchild, "bbbbbbbbbbbbbbbbbbbbbbb3");
	bson_oid_init_from_string(&other, "bbbbbbbbbbbbbbbbbbbbbbb4");
	assert_true(cart_coupon_in_scope(&c, &p1, NULL, 0)); /* no scope: everything */
	c.has_scope = true;
	bson_oid_copy(&p1, &c.scope_products[0]);
	c.nscope_products = 1;
	bson_oid_copy(&child, &c.scope_categories[0]);
	c.nscope_categories = 1;
	assert_true(cart_coupon_in_scope(&c, &p1, NULL, 0));
	assert_false(cart_coupon_in_scope(&c, &p2, NULL, 0));
	/* p2 in a grandchild of the scoped category: in scope (subcategories count) */
	bson_oid_copy(&grandchild, &chain[0]);
	bson_oid_copy(&child, &chain[1]);
	bson_oid_copy(&root, &chain[2]);
	assert_true(cart_coupon_in_scope(&c, &p2, chain, 3));
	/* p2 in the parent of the scoped category: not in scope */
	assert_false(cart_coupon_in_scope(&c, &p2, &chain[2], 1));
	bson_oid_copy(&other, &chain[0]);
	assert_false(cart_coupon_in_scope(&c, &p2, chain, 1));
}

static void test_time(void **state)
{
	int64_t ms;
	char buf[40];

	(void)state;
	assert_true(cart_time_parse("2026-12-01T08:00:00Z", &ms));
	assert_int_equal(ms, INT64_C(1796112000000));
	cart_time_format(ms, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-01T08:00:00.000Z");
	assert_true(cart_time_parse("2026-12-01T14:00:00.250+06:00", &ms));
	assert_int_equal(ms, INT64_C(1796112000250));
	assert_false(cart_time_parse("2026-02-30T00:00:00Z", &ms));
	assert_false(cart_time_parse("2026-12-01 08:00:00Z", &ms));
	assert_false(cart_time_parse("2026-12-01T08:00:00", &ms));
	assert_false(cart_time_parse("2026-12-01T08:00:00Zjunk", &ms));
	assert_false(cart_time_parse("1969-12-31T23:59:59Z", &ms));
	assert_false(cart_time_parse(NULL, &ms));
}

static void test_token(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char a[CART_TOKEN_LEN + 1], b[CART_TOKEN_LEN + 1], ha[65], hb[65], h[65];

	(void)state;
	assert_true(cart_token_new(a, ha, &err));
	assert_true(cart_token_new(b, hb, &err));
	assert_int_equal(strlen(a), CART_TOKEN_LEN);
	assert_true(cart_token_valid(a));
	assert_string_not_equal(a, b);
	cart_token_hash(a, h);
	assert_true(cart_hash_equal(h, ha));
	assert_false(cart_hash_equal(ha, hb));
	assert_false(cart_hash_equal(ha, "short"));
	a[5] = '$';
	assert_false(cart_token_valid(a));
	assert_false(cart_token_valid("abc"));
	memset(b, 'A', CART_TOKEN_LEN);
	b[CART_TOKEN_LEN] = '\0';
	assert_true(cart_token_valid(b));
	assert_false(cart_token_valid(NULL));
}

static json_object *parse(const char *s)
{
	struct em_error err = EM_ERROR_INIT;

	return em_json_parse(s, strlen(s), 4096, EM_JSON_MAX_DEPTH, &err);
}

static void expect_build_fails(const char *body, const char *field)
{
	struct em_error err = EM_ERROR_INIT;
	json_object *o = parse(body);
	bson_t set = BSON_INITIALIZER;

	assert_non_null(o);
	assert_false(cart_coupon_build(o, true, &set, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_string_equal(err.field, field);
	bson_destroy(&set);
	json_object_put(o);
}

static void test_coupon_build(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	json_object *o;
	bson_t set = BSON_INITIALIZER;
	struct cart_coupon c;

	(void)state;
	o = parse("{\"code\": \"Summer-5\", \"type\": \"percent\", \"percent_bp\": 500,"
		  " \"max_discount\": 10000, \"starts_at\": \"2026-01-01T00:00:00Z\","
		  " \"scope\": {\"category_ids\": [\"bbbbbbbbbbbbbbbbbbbbbbb1\"]}, \"active\": true}");
	assert_true(cart_coupon_build(o, true, &set, &err));
	assert_true(cart_coupon_from_bson(&set, &c, &err));
	assert_string_equal(c.code, "Summer-5");
	assert_int_equal(c.type, CART_COUPON_PERCENT);
	assert_int_equal(c.percent_bp, 500);
	assert_true(c.has_max_discount);
	assert_true(c.has_scope);
	assert_int_equal(c.nscope_categories, 1);
	assert_true(cart_coupon_validate(&c, &err));
	bson_destroy(&set);
	json_object_put(o);

	expect_build_fails("{\"code\": \"A\", \"type\": \"percent\", \"percent_bp\": 0}", "percent_bp");
	expect_build_fails("{\"code\": \"A\", \"type\": \"percent\", \"percent_bp\": 10001}",
			   "percent_bp");
	expect_build_fails("{\"code\": \"A\", \"type\": \"percent\", \"percent_bp\": \"5\"}",
			   "percent_bp");
	expect_build_fails("{\"code\": \"A\", \"type\": \"fixed\", \"amount\": 1.5}", "amount");
	expect_build_fails("{\"code\": \"A\", \"type\": \"bogus\"}", "type");
	expect_build_fails("{\"code\": \"$where\", \"type\": \"fixed\"}", "code");
	expect_build_fails("{\"type\": \"fixed\", \"amount\": 1}", "code");
	expect_build_fails("{\"code\": \"A\", \"type\": \"fixed\", \"used_count\": 0}", "used_count");
	expect_build_fails("{\"code\": \"A\", \"type\": \"fixed\", \"ends_at\": \"tomorrow\"}",
			   "ends_at");
	expect_build_fails("{\"code\": \"A\", \"type\": \"fixed\", \"scope\": {\"product_ids\": [1]}}",
			   "scope.product_ids");
	expect_build_fails("{\"code\": \"A\", \"type\": \"fixed\", \"scope\": {\"brands\": []}}",
			   "scope.brands");
	expect_build_fails("{\"code\": \"A\", \"type\": \"fixed\", \"active\": 1}", "active");

	/* cross-field: fixed needs an amount; ends after it starts */
	o = parse("{\"code\": \"A\", \"type\": \"fixed\", \"starts_at\": \"2026-02-01T00:00:00Z\","
		  " \"ends_at\": \"2026-01-01T00:00:00Z\", \"amount\": 5}");
	bson_init(&set);
	assert_true(cart_coupon_build(o, true, &set, &err));
	assert_true(cart_coupon_from_bson(&set, &c, &err));
	assert_false(cart_coupon_validate(&c, &err));
	assert_string_equal(err.field, "ends_at");
	c.ends_at = 0;
	c.amount = 0;
	assert_false(cart_coupon_validate(&c, &err));
	assert_string_equal(err.field, "amount");
	bson_destroy(&set);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipping_parse),
		cmocka_unit_test(test_coupon_code),
		cmocka_unit_test(test_coupon_rules),
		cmocka_unit_test(test_coupon_scope),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_coupon_build),
	};

	return cmocka_run_group_tests_name("cart", tests, NULL, NULL);
}
