/*
 * Unit tests for the orders module's pure parts: the workflow's edges and
 * who may take them, order numbers, and money as mails show it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "orders/orders.h"

static void test_edges(void **state)
{
	(void)state;
	/* the happy path, by staff */
	assert_true(orders_transition_allowed(ORDERS_PENDING, ORDERS_PROCESSING, ORDERS_ACTOR_STAFF));
	assert_true(orders_transition_allowed(ORDERS_PROCESSING, ORDERS_SHIPPED, ORDERS_ACTOR_STAFF));
	assert_true(orders_transition_allowed(ORDERS_SHIPPED, ORDERS_DELIVERED, ORDERS_ACTOR_STAFF));
	/* no skipping, no going back */
	assert_false(orders_transition_allowed(ORDERS_PENDING, ORDERS_SHIPPED, ORDERS_ACTOR_STAFF));
	assert_false(orders_transition_allowed(ORDERS_PROCESSING, ORDERS_DELIVERED,
					       ORDERS_ACTOR_STAFF));
	assert_false(orders_transition_allowed(ORDERS_SHIPPED, ORDERS_PROCESSING,
					       ORDERS_ACTOR_STAFF));
	assert_false(orders_transition_allowed(ORDERS_DELIVERED, ORDERS_SHIPPED,
					       ORDERS_ACTOR_STAFF));
	/* cancelling: from pending or processing only */
	assert_true(orders_transition_allowed(ORDERS_PROCESSING, ORDERS_CANCELLED,
					      ORDERS_ACTOR_STAFF));
	assert_false(orders_transition_allowed(ORDERS_SHIPPED, ORDERS_CANCELLED, ORDERS_ACTOR_STAFF));
	assert_false(orders_transition_allowed(ORDERS_CANCELLED, ORDERS_PENDING, ORDERS_ACTOR_STAFF));
	/* the customer may cancel a pending order, nothing else */
	assert_true(orders_transition_allowed(ORDERS_PENDING, ORDERS_CANCELLED,
					      ORDERS_ACTOR_CUSTOMER));
	assert_false(orders_transition_allowed(ORDERS_PROCESSING, ORDERS_CANCELLED,
					       ORDERS_ACTOR_CUSTOMER));
	assert_false(orders_transition_allowed(ORDERS_PENDING, ORDERS_PROCESSING,
					       ORDERS_ACTOR_CUSTOMER));
	/* payment review is the payments' (system) hold, released by staff */
	assert_true(orders_transition_allowed(ORDERS_PENDING, ORDERS_PAYMENT_REVIEW,
					      ORDERS_ACTOR_SYSTEM));
	assert_false(orders_transition_allowed(ORDERS_PENDING, ORDERS_PAYMENT_REVIEW,
					       ORDERS_ACTOR_STAFF));
	assert_true(orders_transition_allowed(ORDERS_PAYMENT_REVIEW, ORDERS_PROCESSING,
					      ORDERS_ACTOR_STAFF));
	/* returned only through the returns flow */
	assert_false(orders_transition_allowed(ORDERS_DELIVERED, ORDERS_RETURNED,
					       ORDERS_ACTOR_STAFF));
	assert_true(orders_transition_allowed(ORDERS_DELIVERED, ORDERS_RETURNED,
					      ORDERS_ACTOR_SYSTEM));
	/* nothing leaves a final state */
	for (int to = 0; to < ORDERS_STATUS_COUNT; to++)
		for (int a = ORDERS_ACTOR_CUSTOMER; a <= ORDERS_ACTOR_SYSTEM; a++) {
			assert_false(orders_transition_allowed(ORDERS_CANCELLED,
							       (enum orders_status)to,
							       (enum orders_actor)a));
			assert_false(orders_transition_allowed(ORDERS_RETURNED,
							       (enum orders_status)to,
							       (enum orders_actor)a));
		}
}

static void test_names_and_lists(void **state)
{
	enum orders_status s;
	char list[128];

	(void)state;
	for (int i = 0; i < ORDERS_STATUS_COUNT; i++) {
		assert_true(orders_status_parse(orders_status_name((enum orders_status)i), &s));
		assert_int_equal(s, i);
	}
	assert_false(orders_status_parse("Pending", &s));
	assert_false(orders_status_parse("", &s));
	orders_transitions_list(ORDERS_PENDING, ORDERS_ACTOR_STAFF, list, sizeof list);
	assert_string_equal(list, "processing, cancelled");
	orders_transitions_list(ORDERS_SHIPPED, ORDERS_ACTOR_CUSTOMER, list, sizeof list);
	assert_string_equal(list, "");
	assert_true(orders_status_holds_stock(ORDERS_PROCESSING));
	assert_false(orders_status_holds_stock(ORDERS_SHIPPED));
}

static void test_numbers(void **state)
{
	char n[32];

	(void)state;
	assert_true(orders_number_format(2026, 123, n, sizeof n));
	assert_string_equal(n, "EM-2026-000123");
	assert_true(orders_number_format(2026, 12345678, n, sizeof n));
	assert_string_equal(n, "EM-2026-12345678");
	assert_false(orders_number_format(2026, 0, n, sizeof n));
	assert_false(orders_number_format(2026, 1, n, 8));
	assert_true(orders_number_valid("EM-2026-000123"));
	assert_true(orders_number_valid("EM-2026-12345678"));
	assert_false(orders_number_valid("EM-2026-00012"));
	assert_false(orders_number_valid("em-2026-000123"));
	assert_false(orders_number_valid("EM-2026-00012a"));
	assert_false(orders_number_valid("EM-2026-000123 "));
	assert_false(orders_number_valid("EM-20x6-000123"));
	assert_false(orders_number_valid(""));
	assert_false(orders_number_valid(NULL));
}

static void test_money(void **state)
{
	char m[64];

	(void)state;
	assert_true(orders_money_format(123450, "BDT", m, sizeof m));
	assert_string_equal(m, "BDT 1,234.50");
	assert_true(orders_money_format(5, "USD", m, sizeof m));
	assert_string_equal(m, "USD 0.05");
	assert_true(orders_money_format(0, "BDT", m, sizeof m));
	assert_string_equal(m, "BDT 0.00");
	assert_true(orders_money_format(-250, "BDT", m, sizeof m));
	assert_string_equal(m, "BDT -2.50");
	assert_true(orders_money_format(1234567, "JPY", m, sizeof m));
	assert_string_equal(m, "JPY 1,234,567");
	assert_true(orders_money_format(INT64_MAX, "BDT", m, sizeof m));
	assert_string_equal(m, "BDT 92,233,720,368,547,758.07");
	assert_true(orders_money_format(INT64_MIN, "BDT", m, sizeof m));
	assert_string_equal(m, "BDT -92,233,720,368,547,758.08");
	assert_false(orders_money_format(123450, "BDT", m, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_names_and_lists),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_money),
	};

	return cmocka_run_group_tests_name("orders", tests, NULL, NULL);
}
