/*
 * Integration tests for orders through nginx: placing a cash-on-delivery
 * order from the cart (the summary's total charged, stock decremented,
 * cart cleared, the confirmation mail), every refusal changing nothing,
 * Idempotency-Key, the workflow with its mails, tracking without an
 * account, the staff list, and the expiry of unpaid card orders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_orders.h"

static char prod[25], prod2[25];

static int suite_setup(void **state)
{
	(void)state;
	hc_init();
	ho_product("Order Shirt",
		   "[{\"sku\": \"OS1\", \"options\": {\"size\": \"M\", \"color\": \"navy\"},"
		   " \"price\": 150000, \"stock\": 40},"
		   " {\"sku\": \"OS2\", \"options\": {\"size\": \"L\", \"color\": \"navy\"},"
		   " \"price\": 99950, \"stock\": 40}]",
		   prod);
	ho_product("Order Cap",
		   "[{\"sku\": \"OC1\", \"options\": {\"size\": \"M\", \"color\": \"red\"},"
		   " \"price\": 25000, \"stock\": 3}]",
		   prod2);
	return 0;
}

/* The summary's total for c's cart shipped to its address. */
static long long summary_total(const struct ho_customer *c)
{
	char path[128];
	struct h_resp r;
	json_object *j, *t;
	long long total;

	snprintf(path, sizeof path, "/api/v1/cart/summary?shipping_address_id=%s", c->address);
	r = ho_req(c, "GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_true(json_object_object_get_ex(j, "total", &t));
	total = (long long)json_object_get_int64(t);
	json_object_put(j);
	h_resp_free(&r);
	return total;
}

static long orders_of(const char *user_id)
{
	char f[128];

	snprintf(f, sizeof f, "{\"user_id\": {\"$oid\": \"%s\"}}", user_id);
	return h_db_count("orders", f);
}

/* The whole path: cart -> summary -> order -> stock, cart, mail, reads. */
static void test_place_cod_order(void **state)
{
	struct ho_customer c, other;
	struct h_resp r;
	json_object *j, *v;
	char key[33], body[512], id[32], number[32], where[128], path[128], *mail;
	long long total;
	long before = ho_stock(prod, ho_sku("OS1")), before2 = ho_stock(prod, ho_sku("OS2"));

	(void)state;
	ho_customer_new(&c, true); /* through register -> mail -> verify -> login */
	ho_customer_new(&other, false);
	ho_cart_add(&c, ho_sku("OS1"), 2);
	ho_cart_add(&c, ho_sku("OS2"), 1);
	total = summary_total(&c);
	/* 2 x 1500.00 + 999.50 + shipping inside Dhaka */
	assert_true(total >= 399950);
	ho_key(key);
	snprintf(body, sizeof body,
		 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\","
		 " \"expected_total\": %lld, \"note\": \"ring twice\"}", c.address, total);
	r = ho_place(&c, key, body);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body);
	assert_true(h_header(&r, "location", where, sizeof where));
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	snprintf(number, sizeof number, "%s", hc_jstr(j, "number"));
	snprintf(path, sizeof path, "/api/v1/orders/%s", id);
	assert_string_equal(where, path);
	assert_int_equal(strncmp(number, "EM-", 3), 0);
	assert_string_equal(hc_jstr(j, "status"), "pending");
	assert_string_equal(hc_jstr(j, "payment_method"), "cod");
	assert_string_equal(hc_jstr(j, "currency"), "BDT");
	assert_true(json_object_object_get_ex(j, "total", &v));
	assert_true(json_object_is_type(v, json_type_int));
	assert_int_equal(json_object_get_int64(v), total);
	assert_string_equal(hc_jstr(j, "lines.0.title"), "Order Shirt");
	assert_string_equal(hc_jstr(j, "lines.0.options.color"), "navy");
	assert_string_equal(hc_jstr(j, "shipping_address.city"), "Dhaka");
	assert_string_equal(hc_jstr(j, "note"), "ring twice");
	assert_null(hc_jget(j, "user_id")); /* internal: staff only */
	json_object_put(j);
	h_resp_free(&r);
	/* stock taken, cart emptied */
	assert_int_equal(ho_stock(prod, ho_sku("OS1")), before - 2);
	assert_int_equal(ho_stock(prod, ho_sku("OS2")), before2 - 1);
	r = ho_req(&c, "GET", "/api/v1/cart", NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 0);
	json_object_put(j);
	h_resp_free(&r);
	/* money in the database is int64, exactly */
	snprintf(body, sizeof body,
		 "{\"_id\": {\"$oid\": \"%s\"}, \"total\": {\"$type\": \"long\"},"
		 " \"lines.unit_price\": {\"$type\": \"long\"}}", id);
	assert_int_equal(h_db_count("orders", body), 1);
	/* the confirmation mail, once, with the formatted total */
	mail = h_mail_wait(c.email, number, 15000);
	assert_non_null(mail);
	assert_non_null(strstr(mail, "BDT "));
	assert_non_null(strstr(mail, "Order Shirt"));
	free(mail);
	snprintf(body, sizeof body, "{\"dedupe_key\": \"order_confirmation:%s\"}", number);
	assert_int_equal(h_db_count("jobs", body), 1);
	/* the customer reads it and lists it; another customer cannot */
	r = ho_req(&c, "GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = ho_req(&other, "GET", path, NULL, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = ho_req(&c, "GET", "/api/v1/orders", NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 1);
	assert_string_equal(hc_jstr(j, "items.0.number"), number);
	json_object_put(j);
	h_resp_free(&r);
	r = ho_req(&other, "GET", "/api/v1/orders", NULL, NULL);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 0);
	json_object_put(j);
	h_resp_free(&r);
}

/* Every refusal: a clear 4xx, and nothing written. */
static void test_refusals_change_nothing(void **state)
{
	struct ho_customer c, other;
	struct h_resp r;
	char key[33], body[512], longkey[300], hdr[320], f[160];
	const char *extra[2] = { hdr, NULL };
	long stock = ho_stock(prod2, ho_sku("OC1"));

	(void)state;
	ho_customer_new(&c, false);
	ho_customer_new(&other, false);
	/* empty cart */
	ho_key(key);
	r = ho_place(&c, key, NULL);
	h_assert_problem_field(&r, 409, "cart");
	assert_non_null(strstr(r.body, "\"code\":\"cart_empty\""));
	h_resp_free(&r);
	ho_cart_add(&c, ho_sku("OC1"), 1);
	/* no key, an over-long key, a key with a space */
	r = ho_place(&c, NULL, NULL);
	h_assert_problem(&r, 428);
	h_resp_free(&r);
	memset(longkey, 'k', 256);
	longkey[256] = '\0';
	snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", longkey);
	snprintf(body, sizeof body, "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\"}",
		 c.address);
	r = ho_req(&c, "POST", "/api/v1/orders", body, extra);
	h_assert_problem_field(&r, 400, "Idempotency-Key");
	h_resp_free(&r);
	/* another customer's address: 404, as if none */
	snprintf(body, sizeof body, "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\"}",
		 other.address);
	r = ho_place(&c, key, body);
	h_assert_problem_field(&r, 404, "shipping_address_id");
	h_resp_free(&r);
	/* bad fields */
	snprintf(body, sizeof body,
		 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\","
		 " \"shipping_method\": \"teleport\"}", c.address);
	r = ho_place(&c, key, body);
	h_assert_problem_field(&r, 400, "shipping_method");
	h_resp_free(&r);
	snprintf(body, sizeof body, "{\"shipping_address_id\": \"%s\", \"payment_method\": \"gold\"}",
		 c.address);
	r = ho_place(&c, key, body);
	h_assert_problem_field(&r, 400, "payment_method");
	h_resp_free(&r);
	snprintf(body, sizeof body,
		 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\", \"total\": 1}",
		 c.address);
	r = ho_place(&c, key, body);
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	/* every fault at once, each with its code */
	r = ho_place(&c, key,
		     "{\"shipping_address_id\": \"nope\", \"payment_method\": \"gold\","
		     " \"note\": 7, \"expected_total\": -5, \"total\": 1}");
	h_assert_problem_errors(&r, 400,
				"total:unknown_field shipping_address_id:invalid_format "
				"payment_method:invalid_value note:invalid_type "
				"expected_total:out_of_range");
	h_resp_free(&r);
	/* the total shown is not the total now */
	snprintf(body, sizeof body,
		 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\", \"expected_total\": 1}",
		 c.address);
	r = ho_place(&c, key, body);
	h_assert_problem_field(&r, 409, "expected_total");
	assert_non_null(strstr(r.body, "\"code\":\"price_changed\""));
	h_resp_free(&r);
	/* an unverified account */
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}}", c.id);
	h_db_update("users", f, "{\"$set\": {\"email_verified\": false}}");
	r = ho_place(&c, key, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	h_db_update("users", f, "{\"$set\": {\"email_verified\": true}}");
	/* none of it wrote anything */
	assert_int_equal(orders_of(c.id), 0);
	assert_int_equal(ho_stock(prod2, ho_sku("OC1")), stock);
	/* and the same key still places the order once the request is right */
	r = ho_place(&c, key, NULL);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
	assert_int_equal(orders_of(c.id), 1);
	assert_int_equal(ho_stock(prod2, ho_sku("OC1")), stock - 1);
}

/* Out of stock: 409 naming the SKU and what is left; nothing written. */
static void test_out_of_stock(void **state)
{
	struct ho_customer c;
	struct h_resp r;
	char key[33], body[256];
	long stock = ho_stock(prod2, ho_sku("OC1"));

	(void)state;
	assert_true(stock >= 2);
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("OC1"), stock);
	/* the shop sells one elsewhere meanwhile: the cart now wants one more */
	/* hc_staff tags the SKU itself */
	snprintf(body, sizeof body,
		 "{\"sku\": \"OC1\", \"delta\": -1, \"reason\": \"sold in the shop\"}");
	r = hc_staff("POST", "/api/v1/admin/inventory/adjustments", body, NULL);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
	stock--;
	ho_key(key);
	r = ho_place(&c, key, NULL);
	h_assert_problem_field(&r, 409, "stock");
	assert_non_null(strstr(r.body, "\"code\":\"out_of_stock\""));
	assert_non_null(strstr(r.body, ho_sku("OC1")));
	assert_non_null(strstr(r.body, "\"available\""));
	h_resp_free(&r);
	assert_int_equal(orders_of(c.id), 0);
	assert_int_equal(ho_stock(prod2, ho_sku("OC1")), stock);
}

static void test_idempotency(void **state)
{
	struct ho_customer c;
	struct h_resp a, b;
	char key[33], body[512], hdr[64];

	(void)state;
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("OS1"), 1);
	ho_key(key);
	a = ho_place(&c, key, NULL);
	assert_int_equal(a.status, 201);
	/* the same request again: the same answer, replayed, no second order */
	b = ho_place(&c, key, NULL);
	assert_int_equal(b.status, 201);
	assert_string_equal(a.body, b.body);
	assert_true(h_header(&b, "idempotent-replayed", hdr, sizeof hdr));
	assert_string_equal(hdr, "true");
	assert_false(h_header(&a, "idempotent-replayed", hdr, sizeof hdr));
	h_resp_free(&a);
	h_resp_free(&b);
	assert_int_equal(orders_of(c.id), 1);
	/* the same key with another body: 422 */
	snprintf(body, sizeof body,
		 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\", \"note\": \"x\"}",
		 c.address);
	a = ho_place(&c, key, body);
	h_assert_problem_field(&a, 422, "Idempotency-Key");
	h_resp_free(&a);
	assert_int_equal(orders_of(c.id), 1);
}

/* A staff transition; returns the status and leaves the body in *out. */
static long transition(const char *id, const char *body, struct h_resp *out)
{
	char path[160];

	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/transitions", id);
	*out = hc_staff("POST", path, body, NULL);
	return out->status;
}

static void place_one(struct ho_customer *c, const char *sku, long qty, char *id, char *number)
{
	struct h_resp r;
	json_object *j;
	char key[33];

	ho_cart_add(c, sku, qty);
	ho_key(key);
	r = ho_place(c, key, NULL);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(id, 25, "%s", hc_jstr(j, "id"));
	if (number)
		snprintf(number, 32, "%s", hc_jstr(j, "number"));
	json_object_put(j);
	h_resp_free(&r);
}

static void test_workflow(void **state)
{
	struct ho_customer c;
	struct h_resp r;
	char id[25], number[32], *mail, f[200];
	long stock = ho_stock(prod, ho_sku("OS2"));
	json_object *j;

	(void)state;
	ho_customer_new(&c, false);
	place_one(&c, ho_sku("OS2"), 2, id, number);
	assert_int_equal(ho_stock(prod, ho_sku("OS2")), stock - 2);
	/* skipping a state: 409 naming where it is and where it may go */
	assert_int_equal(transition(id, "{\"to\": \"shipped\", \"carrier\": \"pathao\","
					" \"tracking_number\": \"PX1\"}", &r), 409);
	assert_non_null(strstr(r.body, "pending"));
	assert_non_null(strstr(r.body, "processing, cancelled"));
	h_resp_free(&r);
	assert_int_equal(transition(id, "{\"to\": \"nowhere\"}", &r), 400);
	h_resp_free(&r);
	/* every fault at once, each with its code */
	assert_int_equal(transition(id, "{\"to\": \"nowhere\", \"carrier\": 7,"
				    " \"delivered_at\": \"yesterday\", \"by\": \"me\"}", &r), 400);
	h_assert_problem_errors(&r, 400, "by:unknown_field to:invalid_value carrier:invalid_type "
				"delivered_at:invalid_format");
	h_resp_free(&r);
	assert_int_equal(transition(id, "{\"to\": \"processing\", \"note\": \"called the customer\"}",
				    &r), 200);
	h_resp_free(&r);
	/* shipping needs the carrier and the tracking number */
	assert_int_equal(transition(id, "{\"to\": \"shipped\"}", &r), 400);
	assert_non_null(strstr(r.body, "carrier"));
	h_resp_free(&r);
	assert_int_equal(transition(id, "{\"to\": \"shipped\", \"carrier\": \"pathao\","
					" \"tracking_number\": \"PX-778899\"}", &r), 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "status"), "shipped");
	assert_string_equal(hc_jstr(j, "tracking_number"), "PX-778899");
	assert_string_equal(hc_jstr(j, "events.2.to"), "shipped");
	assert_string_equal(hc_jstr(j, "events.2.by.role"), "staff");
	json_object_put(j);
	h_resp_free(&r);
	mail = h_mail_wait(c.email, "PX-778899", 15000);
	assert_non_null(mail);
	free(mail);
	/* the customer can no longer cancel; staff cannot cancel a shipped order */
	{
		char path[160];

		snprintf(path, sizeof path, "/api/v1/orders/%s/cancel", id);
		r = ho_req(&c, "POST", path, NULL, NULL);
		h_assert_problem(&r, 409);
		h_resp_free(&r);
	}
	assert_int_equal(transition(id, "{\"to\": \"cancelled\"}", &r), 409);
	h_resp_free(&r);
	assert_int_equal(transition(id, "{\"to\": \"delivered\"}", &r), 200);
	h_resp_free(&r);
	mail = h_mail_wait(c.email, "has been delivered", 15000);
	assert_non_null(mail);
	free(mail);
	/* backwards: refused */
	assert_int_equal(transition(id, "{\"to\": \"processing\"}", &r), 409);
	h_resp_free(&r);
	/* shipped stock stays taken */
	assert_int_equal(ho_stock(prod, ho_sku("OS2")), stock - 2);
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}, \"events\": {\"$size\": 4}}", id);
	assert_int_equal(h_db_count("orders", f), 1);
}

/* The customer cancels a pending order: stock back, mail, once. */
static void test_customer_cancel_gives_stock_back(void **state)
{
	struct ho_customer c, other;
	struct h_resp r;
	char id[25], number[32], path[160], *mail;
	long stock = ho_stock(prod, ho_sku("OS1"));

	(void)state;
	ho_customer_new(&c, false);
	ho_customer_new(&other, false);
	place_one(&c, ho_sku("OS1"), 3, id, number);
	assert_int_equal(ho_stock(prod, ho_sku("OS1")), stock - 3);
	snprintf(path, sizeof path, "/api/v1/orders/%s/cancel", id);
	r = ho_req(&other, "POST", path, NULL, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = ho_req(&c, "POST", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_int_equal(ho_stock(prod, ho_sku("OS1")), stock);
	r = ho_req(&c, "POST", path, NULL, NULL);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	/* given back once, not twice */
	assert_int_equal(ho_stock(prod, ho_sku("OS1")), stock);
	mail = h_mail_wait(c.email, "has been cancelled", 15000);
	assert_non_null(mail);
	free(mail);
}

static void test_tracking(void **state)
{
	struct ho_customer c;
	struct h_resp r, r2;
	char id[25], number[32], path[512], d1[256], d2[256];
	json_object *j;

	(void)state;
	ho_customer_new(&c, false);
	place_one(&c, ho_sku("OS1"), 1, id, number);
	snprintf(path, sizeof path, "/api/v1/orders/track?order=%s&email=%s", number, c.email);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "number"), number);
	assert_string_equal(hc_jstr(j, "status"), "pending");
	assert_string_equal(hc_jstr(j, "items.0.title"), "Order Shirt");
	assert_string_equal(hc_jstr(j, "events.0.to"), "pending");
	/* nothing private on the public page */
	assert_null(strstr(r.body, "Dhaka"));
	assert_null(strstr(r.body, "+8801711000000"));
	assert_null(strstr(r.body, "\"total\""));
	assert_null(strstr(r.body, c.email));
	json_object_put(j);
	h_resp_free(&r);
	/* a wrong address and an unknown number answer the same */
	snprintf(path, sizeof path, "/api/v1/orders/track?order=%s&email=someone@example.test",
		 number);
	r = h_get(path);
	h_assert_problem(&r, 404);
	snprintf(path, sizeof path, "/api/v1/orders/track?order=EM-2026-999999999&email=%s",
		 c.email);
	r2 = h_get(path);
	h_assert_problem(&r2, 404);
	assert_string_equal(ho_jstr(&r, "detail", d1, sizeof d1), ho_jstr(&r2, "detail", d2, sizeof d2));
	h_resp_free(&r);
	h_resp_free(&r2);
	r = h_get("/api/v1/orders/track?order=12345&email=a@b.test");
	h_assert_problem_field(&r, 400, "order");
	h_resp_free(&r);
	r = h_get("/api/v1/orders/track?order=EM-2026-000001");
	h_assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
}

static void test_admin_list(void **state)
{
	struct ho_customer c;
	struct h_resp r;
	char id1[25], id2[25], n1[32], n2[32], path[512], cursor[64];
	json_object *j;

	(void)state;
	ho_customer_new(&c, false);
	place_one(&c, ho_sku("OS1"), 1, id1, n1);
	/* "newest first" is the ObjectId's order: to the second (two workers
	 * placing orders in one second may list them either way) */
	h_sleep_ms(1100);
	place_one(&c, ho_sku("OS1"), 1, id2, n2);
	snprintf(path, sizeof path, "/api/v1/admin/orders?email=%s&limit=1", c.email);
	r = hc_staff("GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	/* newest first, with staff fields, and a cursor to the next */
	assert_string_equal(hc_jstr(j, "items.0.number"), n2);
	assert_string_equal(hc_jstr(j, "items.0.email"), c.email);
	assert_non_null(hc_jstr(j, "next_cursor"));
	snprintf(cursor, sizeof cursor, "%s", hc_jstr(j, "next_cursor"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders?email=%s&limit=1&cursor=%s", c.email,
		 cursor);
	r = hc_staff("GET", path, NULL, NULL);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "items.0.number"), n1);
	assert_null(hc_jget(j, "next_cursor"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s", id1);
	r = hc_staff("GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "number"), n1);
	assert_string_equal(hc_jstr(j, "user_id"), c.id);
	assert_string_equal(hc_jstr(j, "events.0.by.role"), "customer");
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders?number=%s", n1);
	r = hc_staff("GET", path, NULL, NULL);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 1);
	json_object_put(j);
	h_resp_free(&r);
	r = hc_staff("GET", "/api/v1/admin/orders?status=lost", NULL, NULL);
	h_assert_problem_field(&r, 400, "status");
	h_resp_free(&r);
	r = hc_staff("GET", "/api/v1/admin/orders?colour=red", NULL, NULL);
	h_assert_problem_field(&r, 400, "colour");
	h_resp_free(&r);
	/* customers have no admin list */
	r = ho_req(&c, "GET", "/api/v1/admin/orders", NULL, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
}

/*
 * An unpaid card order past its expiry is cancelled by the job worker's
 * sweep (every 10 s), once: its stock comes back exactly once.
 */
static void test_unpaid_card_order_expires(void **state)
{
	struct ho_customer c;
	struct h_resp r;
	char key[33], body[512], id[25], f[512];
	long stock = ho_stock(prod, ho_sku("OS2"));
	json_object *j;

	(void)state;
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("OS2"), 2);
	ho_key(key);
	snprintf(body, sizeof body,
		 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"sslcommerz\"}", c.address);
	r = ho_place(&c, key, body);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	assert_string_equal(hc_jstr(j, "status"), "pending");
	json_object_put(j);
	h_resp_free(&r);
	assert_int_equal(ho_stock(prod, ho_sku("OS2")), stock - 2);
	/* no confirmation for an unpaid card order */
	snprintf(f, sizeof f, "{\"payload.to\": \"%s\", \"payload.template\": \"order_confirmation\"}",
		 c.email);
	assert_int_equal(h_db_count("jobs", f), 0);
	/* its time runs out */
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}}", id);
	h_db_update("orders", f, "{\"$set\": {\"expires_at\": {\"$date\": 1000}}}");
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}, \"status\": \"cancelled\"}", id);
	for (int i = 0; i < 100 && h_db_count("orders", f) == 0; i++)
		h_sleep_ms(250);
	assert_int_equal(h_db_count("orders", f), 1);
	assert_int_equal(ho_stock(prod, ho_sku("OS2")), stock);
	/* another sweep finds nothing more to give back */
	h_sleep_ms(11000);
	assert_int_equal(ho_stock(prod, ho_sku("OS2")), stock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place_cod_order),
		cmocka_unit_test(test_refusals_change_nothing),
		cmocka_unit_test(test_out_of_stock),
		cmocka_unit_test(test_idempotency),
		cmocka_unit_test(test_workflow),
		cmocka_unit_test(test_customer_cancel_gives_stock_back),
		cmocka_unit_test(test_tracking),
		cmocka_unit_test(test_admin_list),
		cmocka_unit_test(test_unpaid_card_order_expires),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("orders", tests, suite_setup, NULL);
	h_cleanup();
	return rc;
}
