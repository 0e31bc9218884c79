/*
 * Integration tests for returns through nginx: a delivered order returned
 * in two parts (request, approve, receive with and without restock: the
 * stock back, the order delivered after the first part and returned after
 * the last, the refund amounts adding up to exactly the lines' charge),
 * every refusal changing nothing, a rejected return, two staff approving
 * one return at once (one wins, one event, one mail), and each mail once.
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

static char prod[25];

static int suite_setup(void **state)
{
	(void)state;
	hc_init();
	ho_product("Return Shirt",
		   "[{\"sku\": \"RS1\", \"options\": {\"size\": \"M\"}, \"price\": 150000,"
		   " \"stock\": 50},"
		   " {\"sku\": \"RS2\", \"options\": {\"size\": \"L\"}, \"price\": 99950,"
		   " \"stock\": 50}]",
		   prod);
	return 0;
}

static void place(struct ho_customer *c, long q1, long q2, char *id)
{
	struct h_resp r;
	json_object *j;
	char key[33];

	if (q1)
		ho_cart_add(c, ho_sku("RS1"), q1);
	if (q2)
		ho_cart_add(c, ho_sku("RS2"), q2);
	ho_key(key);
	r = ho_place(c, key, NULL);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(id, 25, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

static void staff_ok(const char *path, const char *body)
{
	struct h_resp r = hc_staff("POST", path, body, NULL);

	if (r.status != 200)
		fail_msg("%s: %ld %s", path, r.status, r.body);
	h_resp_free(&r);
}

/* pending -> processing -> shipped -> delivered, as staff. */
static void deliver(const char *id)
{
	char path[160];

	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/transitions", id);
	staff_ok(path, "{\"to\": \"processing\"}");
	staff_ok(path, "{\"to\": \"shipped\", \"carrier\": \"pathao\", \"tracking_number\": \"R1\"}");
	staff_ok(path, "{\"to\": \"delivered\"}");
}

static struct h_resp ret_post(const struct ho_customer *c, const char *id, const char *body)
{
	char path[160];

	snprintf(path, sizeof path, "/api/v1/orders/%s/returns", id);
	return ho_req(c, "POST", path, body, NULL);
}

/* Asks for a return; asserts 201 and gives its id. */
static void ret_ok(const struct ho_customer *c, const char *id, const char *body, char *rid)
{
	struct h_resp r = ret_post(c, id, body);
	json_object *j;

	if (r.status != 201)
		fail_msg("return: %ld %s", r.status, r.body);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "status"), "requested");
	snprintf(rid, 25, "%s", hc_jstr(j, "id"));
	assert_int_equal(strlen(rid), 24);
	json_object_put(j);
	h_resp_free(&r);
}

static struct h_resp ret_step(const char *id, const char *rid, const char *step,
			      const char *body)
{
	char path[200];

	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/returns/%s/%s", id, rid, step);
	return hc_staff("POST", path, body, NULL);
}

static long long jint(json_object *j, const char *path)
{
	json_object *v = hc_jget(j, path);

	assert_non_null(v);
	assert_true(json_object_is_type(v, json_type_int));
	return (long long)json_object_get_int64(v);
}

static json_object *order_get(const char *id)
{
	char path[160];
	struct h_resp r;
	json_object *j;

	snprintf(path, sizeof path, "/api/v1/admin/orders/%s", id);
	r = hc_staff("GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	h_resp_free(&r);
	return j;
}

/* What line i of order j charged: line_total - discount (+ tax when excluded). */
static long long line_charge(json_object *j, int i)
{
	char p[64];
	long long v;
	json_object *inc = hc_jget(j, "prices_include_tax");

	snprintf(p, sizeof p, "lines.%d.line_total", i);
	v = jint(j, p);
	snprintf(p, sizeof p, "lines.%d.discount", i);
	v -= jint(j, p);
	if (!inc || !json_object_get_boolean(inc)) {
		snprintf(p, sizeof p, "lines.%d.tax", i);
		v += jint(j, p);
	}
	return v;
}

static long jobs_with(const char *tpl, const char *rid)
{
	char f[160];

	snprintf(f, sizeof f, "{\"dedupe_key\": \"%s:%s\"}", tpl, rid);
	return h_db_count("jobs", f);
}

/* The product's units sold (sort=best_selling), as staff read it. */
static long long sold_units(void)
{
	char path[96];
	struct h_resp r;
	json_object *j;
	long long n;

	snprintf(path, sizeof path, "/api/v1/admin/products/%s", prod);
	r = hc_staff("GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	n = jint(j, "sold_units");
	json_object_put(j);
	h_resp_free(&r);
	return n;
}

/* The whole flow: 1 of 2 back with restock, then the rest. */
static void test_return_flow(void **state)
{
	struct ho_customer c;
	struct h_resp r;
	json_object *j, *o;
	char id[25], rid1[25], rid2[25], body[512], *mail;
	long s1, s2;
	long long refund1, refund2, charge, sold0;
	int i1;

	(void)state;
	ho_customer_new(&c, false);
	place(&c, 2, 1, id);
	deliver(id);
	s1 = ho_stock(prod, ho_sku("RS1"));
	s2 = ho_stock(prod, ho_sku("RS2"));
	sold0 = sold_units();
	o = order_get(id);
	i1 = strcmp(hc_jstr(o, "lines.0.sku"), ho_sku("RS1")) == 0 ? 0 : 1;
	charge = line_charge(o, 0) + line_charge(o, 1);
	json_object_put(o);

	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"too small\"}",
		 ho_sku("RS1"));
	ret_ok(&c, id, body, rid1);
	{
		char needle[64];

		snprintf(needle, sizeof needle, "Return %s: requested.", rid1);
		mail = h_mail_wait(c.email, needle, 15000);
		assert_non_null(mail);
		assert_non_null(strstr(mail, "has been requested"));
		free(mail);
	}
	r = ret_step(id, rid1, "approve", "{\"note\": \"ok\"}");
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "status"), "approved");
	json_object_put(j);
	h_resp_free(&r);
	/* a receipt must name every SKU of the return (hc_staff tags the SKUs) */
	snprintf(body, sizeof body, "{\"lines\": [{\"sku\": \"RS2\", \"restock\": true}]}");
	r = ret_step(id, rid1, "receive", body);
	h_assert_problem(&r, 422);
	h_resp_free(&r);
	snprintf(body, sizeof body, "{\"lines\": [{\"sku\": \"RS1\", \"restock\": true}]}");
	r = ret_step(id, rid1, "receive", body);
	if (r.status != 200)
		fail_msg("receive: %ld %s", r.status, r.body);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "status"), "received");
	refund1 = jint(j, "refund_amount");
	assert_true(hc_jget(j, "refund_requested") &&
		    json_object_get_boolean(hc_jget(j, "refund_requested")));
	json_object_put(j);
	h_resp_free(&r);
	/* received twice: refused, stock given back once */
	r = ret_step(id, rid1, "receive", body);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	assert_int_equal(ho_stock(prod, ho_sku("RS1")), s1 + 1);
	assert_int_equal(ho_stock(prod, ho_sku("RS2")), s2);
	/* a unit back is a unit not sold (best_selling), once */
	assert_int_equal(sold_units(), sold0 - 1);
	o = order_get(id);
	assert_string_equal(hc_jstr(o, "status"), "delivered");
	{
		char p[48];

		snprintf(p, sizeof p, "lines.%d.returned_quantity", i1);
		assert_int_equal(jint(o, p), 1);
	}
	json_object_put(o);

	/* the rest: RS1's other unit (restocked) and RS2 (damaged: not) */
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}, {\"sku\": \"%s\","
		 " \"quantity\": 1}], \"reason\": \"changed my mind\"}",
		 ho_sku("RS1"), ho_sku("RS2"));
	ret_ok(&c, id, body, rid2);
	r = ret_step(id, rid2, "approve", "{}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(body, sizeof body,
		 "{\"lines\": [{\"sku\": \"RS2\", \"restock\": false}, {\"sku\": \"RS1\","
		 " \"restock\": true}]}");
	r = ret_step(id, rid2, "receive", body);
	if (r.status != 200)
		fail_msg("receive: %ld %s", r.status, r.body);
	j = h_json(&r);
	refund2 = jint(j, "refund_amount");
	json_object_put(j);
	h_resp_free(&r);
	assert_int_equal(ho_stock(prod, ho_sku("RS1")), s1 + 2);
	assert_int_equal(ho_stock(prod, ho_sku("RS2")), s2);
	/* restocked or not (RS2 was damaged): all three units off */
	assert_int_equal(sold_units(), sold0 - 3);
	o = order_get(id);
	assert_string_equal(hc_jstr(o, "status"), "returned");
	json_object_put(o);
	/* every unit back: the refunds add up to exactly what the lines charged */
	assert_true(refund1 > 0);
	assert_int_equal(refund1 + refund2, charge);
	/* nothing more to return */
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"again\"}",
		 ho_sku("RS1"));
	r = ret_post(&c, id, body);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	/* each step mailed once */
	assert_int_equal(jobs_with("return_requested", rid1), 1);
	assert_int_equal(jobs_with("return_approved", rid1), 1);
	assert_int_equal(jobs_with("return_received", rid1), 1);
	assert_int_equal(jobs_with("return_requested", rid2), 1);
	assert_int_equal(jobs_with("return_approved", rid2), 1);
	assert_int_equal(jobs_with("return_received", rid2), 1);
	/* through the SMTP catcher: each of the six mails arrives, and once */
	{
		static const char *const steps[] = { "approved", "received" };
		const char *rids[] = { rid1, rid2 };
		char needle[96];

		snprintf(needle, sizeof needle, "Return %s: requested.", rid2);
		mail = h_mail_wait(c.email, needle, 15000);
		assert_non_null(mail);
		free(mail);
		for (int k = 0; k < 2; k++)
			for (int n = 0; n < 2; n++) {
				snprintf(needle, sizeof needle, "Return %s: %s.", rids[k], steps[n]);
				mail = h_mail_wait(c.email, needle, 15000);
				if (!mail)
					fail_msg("no mail '%s'", needle);
				free(mail);
			}
		/* and no second copy of any of them */
		for (int k = 0; k < 2; k++) {
			mail = h_mail_wait(c.email, rids[k], 2000);
			if (mail)
				fail_msg("an extra mail: %.300s", mail);
		}
	}
	/* the customer lists both; in the database: int64 money */
	snprintf(body, sizeof body, "/api/v1/orders/%s/returns", id);
	r = ho_req(&c, "GET", body, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 2);
	assert_null(hc_jget(j, "items.0.user_id"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(body, sizeof body, "{\"order_id\": {\"$oid\": \"%s\"}, \"status\": \"received\","
		 " \"refund_amount\": {\"$type\": \"long\"}}", id);
	assert_int_equal(h_db_count("order_returns", body), 2);
}

static long returns_of(const char *id)
{
	char f[128];

	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}}", id);
	return h_db_count("order_returns", f);
}

/* Every refusal: a 4xx problem+json, nothing written. */
static void test_refusals(void **state)
{
	struct ho_customer c, other;
	struct h_resp r;
	char id[25], id2[25], body[1024], reason[600], f[200], rid[25];
	long stock;

	(void)state;
	ho_customer_new(&c, false);
	ho_customer_new(&other, false);
	place(&c, 2, 0, id);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"broken\"}",
		 ho_sku("RS1"));
	/* not delivered yet */
	r = ret_post(&c, id, body);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	deliver(id);
	/* another customer's order: the same as none */
	r = ret_post(&other, id, body);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = ret_post(&c, "0123456789abcdef01234567", body);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* every fault of the body at once (items: its first entry at fault) */
	r = ret_post(&c, id, "{\"items\": [{\"sku\": \"\", \"quantity\": 1}], \"why\": 1}");
	h_assert_problem_errors(&r, 400, "why:unknown_field items[0].sku:too_short reason:required");
	h_resp_free(&r);
	/* more than was delivered */
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 3}], \"reason\": \"broken\"}",
		 ho_sku("RS1"));
	r = ret_post(&c, id, body);
	h_assert_problem(&r, 422);
	h_resp_free(&r);
	/* a SKU the order does not have (but the shop does) */
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"broken\"}",
		 ho_sku("RS2"));
	r = ret_post(&c, id, body);
	h_assert_problem(&r, 422);
	h_resp_free(&r);
	/* quantity 0, negative, huge, not an integer */
	{
		static const char *const bad[] = { "0", "-1", "99999999999999999999", "1.5", "\"1\"",
						   "100000" };

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			snprintf(body, sizeof body,
				 "{\"items\": [{\"sku\": \"%s\", \"quantity\": %s}],"
				 " \"reason\": \"broken\"}", ho_sku("RS1"), bad[i]);
			r = ret_post(&c, id, body);
			h_assert_problem(&r, 400);
			h_resp_free(&r);
		}
	}
	/* reason: missing, empty, over 500 characters */
	memset(reason, 'x', 501);
	reason[501] = '\0';
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"%s\"}",
		 ho_sku("RS1"), reason);
	r = ret_post(&c, id, body);
	h_assert_problem_field(&r, 400, "reason");
	h_resp_free(&r);
	snprintf(body, sizeof body, "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}]}",
		 ho_sku("RS1"));
	r = ret_post(&c, id, body);
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	/* shapes: no items, the same SKU twice, an unknown or $-key */
	r = ret_post(&c, id, "{\"items\": [], \"reason\": \"x\"}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}, {\"sku\": \"%s\","
		 " \"quantity\": 1}], \"reason\": \"x\"}", ho_sku("RS1"), ho_sku("RS1"));
	r = ret_post(&c, id, body);
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1, \"$set\": 1}], \"reason\": \"x\"}",
		 ho_sku("RS1"));
	r = ret_post(&c, id, body);
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	assert_int_equal(returns_of(id), 0);

	/* after the window (7 days by default) */
	place(&c, 1, 0, id2);
	deliver(id2);
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}}", id2);
	snprintf(body, sizeof body, "{\"$set\": {\"delivered_at\": {\"$date\": %lld}}}",
		 (long long)((h_now_s() - 8 * 86400.0) * 1000));
	h_db_update("orders", f, body);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"late\"}",
		 ho_sku("RS1"));
	r = ret_post(&c, id2, body);
	h_assert_problem(&r, 422);
	h_resp_free(&r);
	assert_int_equal(returns_of(id2), 0);

	/* an open request holds its units: 2 asked, then 1 more is too many */
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 2}], \"reason\": \"both\"}",
		 ho_sku("RS1"));
	ret_ok(&c, id, body, rid);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"one more\"}",
		 ho_sku("RS1"));
	r = ret_post(&c, id, body);
	h_assert_problem(&r, 422);
	h_resp_free(&r);
	assert_int_equal(returns_of(id), 1);
	/* a customer cannot take staff steps */
	snprintf(f, sizeof f, "/api/v1/admin/orders/%s/returns/%s/approve", id, rid);
	r = ho_req(&c, "POST", f, "{}", NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	/* receive before approve; reject without a reason; unknown return */
	stock = ho_stock(prod, ho_sku("RS1"));
	snprintf(body, sizeof body, "{\"lines\": [{\"sku\": \"RS1\", \"restock\": true}]}");
	r = ret_step(id, rid, "receive", body);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	assert_int_equal(ho_stock(prod, ho_sku("RS1")), stock);
	r = ret_step(id, rid, "reject", "{}");
	h_assert_problem_field(&r, 400, "reason");
	h_resp_free(&r);
	r = ret_step(id, "0123456789abcdef01234567", "approve", "{}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = ret_step(id2, rid, "approve", "{}"); /* the return of another order */
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* rejected: mailed with the reason, and its units free again */
	r = ret_step(id, rid, "reject", "{\"reason\": \"worn and washed\"}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = ret_step(id, rid, "approve", "{}");
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	{
		char *mail = h_mail_wait(c.email, "worn and washed", 15000);

		assert_non_null(mail);
		free(mail);
	}
	assert_int_equal(jobs_with("return_rejected", rid), 1);
	assert_int_equal(jobs_with("return_approved", rid), 0);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 2}], \"reason\": \"both again\"}",
		 ho_sku("RS1"));
	ret_ok(&c, id, body, rid);
	assert_int_equal(returns_of(id), 2);
}

struct approve_race {
	const char *id, *rid;
	long status[16];
};

static void approve_one(int i, void *arg)
{
	struct approve_race *a = arg;
	struct h_resp r = ret_step(a->id, a->rid, "approve", "{}");

	a->status[i] = r.status;
	h_resp_free(&r);
}

/* Two (and more) staff approve one return at once: exactly one wins. */
static void test_concurrent_approve(void **state)
{
	static struct approve_race a;
	struct ho_customer c;
	char id[25], rid[25], body[256], f[200];
	int ok = 0, conflict = 0;

	(void)state;
	ho_customer_new(&c, false);
	place(&c, 1, 0, id);
	deliver(id);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"race\"}",
		 ho_sku("RS1"));
	ret_ok(&c, id, body, rid);
	memset(&a, 0, sizeof a);
	a.id = id;
	a.rid = rid;
	h_parallel(8, approve_one, &a);
	for (int i = 0; i < 8; i++) {
		if (a.status[i] == 200)
			ok++;
		else if (a.status[i] == 409)
			conflict++;
		else
			fail_msg("approve %d: %ld", i, a.status[i]);
	}
	assert_int_equal(ok, 1);
	assert_int_equal(conflict, 7);
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}, \"status\": \"approved\","
		 " \"events\": {\"$size\": 2}, \"version\": 2}", rid);
	assert_int_equal(h_db_count("order_returns", f), 1);
	assert_int_equal(jobs_with("return_approved", rid), 1);
}

struct request_race {
	const struct ho_customer *c;
	const char *id;
	const char *body;
	long status[16];
};

static void request_one(int i, void *arg)
{
	struct request_race *a = arg;
	struct h_resp r = ret_post(a->c, a->id, a->body);

	a->status[i] = r.status;
	h_resp_free(&r);
}

/* 8 requests at once for 1 unit each of a line of 2: exactly 2 get it. */
static void test_concurrent_requests(void **state)
{
	static struct request_race a;
	static struct ho_customer c;
	char id[25], body[256];
	int created = 0, refused = 0;

	(void)state;
	ho_customer_new(&c, false);
	place(&c, 2, 0, id);
	deliver(id);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"race\"}",
		 ho_sku("RS1"));
	memset(&a, 0, sizeof a);
	a.c = &c;
	a.id = id;
	a.body = body;
	h_parallel(8, request_one, &a);
	for (int i = 0; i < 8; i++) {
		if (a.status[i] == 201)
			created++;
		else if (a.status[i] == 409 || a.status[i] == 422)
			refused++;
		else
			fail_msg("request %d: %ld", i, a.status[i]);
	}
	assert_int_equal(created, 2);
	assert_int_equal(refused, 6);
	assert_int_equal(returns_of(id), 2);
}

/* Walks GET /admin/returns?<q> one item a page; the position of a and b
 * (-1: absent), failing on an id listed twice. */
static void returns_walk(const char *q, const char *a, const char *b, int *pa, int *pb)
{
	char path[256], cursor[64] = "", seen[512][25];
	int n = 0;

	*pa = *pb = -1;
	do {
		struct h_resp r;
		json_object *o, *items, *next;

		snprintf(path, sizeof path, "/api/v1/admin/returns?%s&limit=1%s%s", q,
			 cursor[0] ? "&cursor=" : "", cursor);
		r = hc_staff("GET", path, NULL, NULL);
		if (r.status != 200)
			fail_msg("%s: %ld %s", path, r.status, r.body);
		o = h_json(&r);
		assert_true(json_object_object_get_ex(o, "items", &items));
		assert_true(json_object_array_length(items) <= 1);
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			const char *id = hc_jstr(json_object_array_get_idx(items, i), "id");

			for (int k = 0; k < n; k++)
				if (strcmp(seen[k], id) == 0)
					fail_msg("return %s listed twice", id);
			assert_true(n < 512);
			snprintf(seen[n], 25, "%s", id);
			if (strcmp(id, a) == 0)
				*pa = n;
			if (strcmp(id, b) == 0)
				*pb = n;
			n++;
		}
		cursor[0] = '\0';
		if (json_object_object_get_ex(o, "next_cursor", &next) &&
		    json_object_is_type(next, json_type_string))
			snprintf(cursor, sizeof cursor, "%s", json_object_get_string(next));
		json_object_put(o);
		h_resp_free(&r);
	} while (cursor[0]);
}

/* "email=" and the address, its '@' and '+' percent-encoded. */
static void email_query(const char *email, char *out, size_t size)
{
	size_t o = (size_t)snprintf(out, size, "email=");

	for (const char *p = email; *p && o + 4 < size; p++)
		o += (size_t)(*p == '@' || *p == '+' ?
				      snprintf(out + o, size - o, "%%%02X", (unsigned char)*p) :
				      snprintf(out + o, size - o, "%c", *p));
}

/* The staff's queue across orders: newest first by when the return was
 * asked for (not by id), filtered by state or customer, every page once. */
static void test_admin_return_list(void **state)
{
	static struct ho_customer c1, c2;
	char id1[25], id2[25], r1[25], r2[25], body[256], f[128], q[320];
	int p1, p2;
	struct h_resp r;

	(void)state;
	ho_customer_new(&c1, false);
	ho_customer_new(&c2, false);
	place(&c1, 1, 0, id1);
	place(&c2, 0, 1, id2);
	deliver(id1);
	deliver(id2);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"queue\"}",
		 ho_sku("RS1"));
	ret_ok(&c1, id1, body, r1);
	snprintf(body, sizeof body,
		 "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"queue\"}",
		 ho_sku("RS2"));
	ret_ok(&c2, id2, body, r2);
	/* the older id asked for later: time decides, not the id */
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}}", r1);
	h_db_update("order_returns", f,
		    "{\"$set\": {\"created_at\": {\"$date\": \"2099-01-01T00:00:00Z\"}}}");
	returns_walk("status=requested", r1, r2, &p1, &p2);
	assert_true(p1 >= 0 && p2 >= 0);
	assert_true(p1 < p2);
	r = ret_step(id2, r2, "approve", "{}");
	if (r.status != 200)
		fail_msg("approve: %ld %s", r.status, r.body);
	h_resp_free(&r);
	returns_walk("status=approved", r1, r2, &p1, &p2);
	assert_int_equal(p1, -1);
	assert_true(p2 >= 0);
	/* open: what waits for staff, requested or approved */
	returns_walk("status=open", r1, r2, &p1, &p2);
	assert_true(p1 >= 0 && p2 >= 0);
	/* one customer's (the address in any case), with a state or not */
	email_query(c1.email, q, sizeof q);
	returns_walk(q, r1, r2, &p1, &p2);
	assert_true(p1 >= 0);
	assert_int_equal(p2, -1);
	for (char *p = q; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	memcpy(q, "email=", 6);
	returns_walk(q, r1, r2, &p1, &p2);
	assert_true(p1 >= 0);
	email_query(c2.email, q, sizeof q);
	snprintf(q + strlen(q), sizeof q - strlen(q), "&status=open");
	returns_walk(q, r1, r2, &p1, &p2);
	assert_int_equal(p1, -1);
	assert_true(p2 >= 0);
	email_query(c2.email, q, sizeof q);
	snprintf(q + strlen(q), sizeof q - strlen(q), "&status=requested");
	returns_walk(q, r1, r2, &p1, &p2);
	assert_true(p1 == -1 && p2 == -1);
	/* nobody has this address: an empty list, not an error */
	returns_walk("email=nobody-here%40example.test", r1, r2, &p1, &p2);
	assert_true(p1 == -1 && p2 == -1);
	/* every bad parameter at once */
	r = hc_staff("GET", "/api/v1/admin/returns?status=lost&email=not-an-address", NULL, NULL);
	h_assert_problem_errors(&r, 400, "status:invalid_value email:invalid_format");
	h_resp_free(&r);
	/* bad input, and customers have no such list */
	r = hc_staff("GET", "/api/v1/admin/returns?status=lost", NULL, NULL);
	h_assert_problem_errors(&r, 400, "status:invalid_value");
	h_resp_free(&r);
	r = hc_staff("GET", "/api/v1/admin/returns?cursor=AAAA", NULL, NULL);
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = ho_req(&c1, "GET", "/api/v1/admin/returns", NULL, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_return_flow),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_concurrent_approve),
		cmocka_unit_test(test_concurrent_requests),
		cmocka_unit_test(test_admin_return_list),
	};

	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("returns", tests, suite_setup, NULL);
	h_cleanup();
	return rc;
}
