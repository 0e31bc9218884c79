/*
 * Integration tests for src/payments through the real path: HTTPS ->
 * nginx -> emporium-fcgi -> database, with tests/sslcommerz-standin as
 * the gateway (scripts/lib/stack.sh starts it; STACK_SSLCOMMERZ_BASE).
 * The stand-in plays the customer (POST /_standin/act) and sends the
 * IPN itself, signed as the gateway signs it, to the stack's ipn_url.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_catalog.h"
#include "harness_orders.h"
#include "payments/payments.h"

static char prod[25];
static char last_gateway_url[1024]; /* of the last session() */
static bool refunds_wait(const char *id, const char *status, long n, long ms);
static char admin_tok[2048], admin_auth[2200], admin_id[25];

static int suite_setup(void **state)
{
	(void)state;
	hc_init();
	/* 1500.00 BDT a shirt: with Dhaka shipping (60.00) an order is 1560.00 */
	ho_product("Paid Shirt",
		   "[{\"sku\": \"PS1\", \"options\": {\"size\": \"M\", \"color\": \"teal\"},"
		   " \"price\": 150000, \"stock\": 500}]",
		   prod);
	h_user_token("admin", admin_tok, sizeof admin_tok, admin_id, sizeof admin_id);
	h_bearer(admin_tok, admin_auth, sizeof admin_auth);
	return 0;
}

/* ---- the stand-in ---- */

static struct h_resp standin(const char *method, const char *path, const char *json)
{
	char url[512];
	const char *h[] = { "Content-Type: application/json", NULL };

	snprintf(url, sizeof url, "%s%s", h_env("STACK_SSLCOMMERZ_BASE"), path);
	return h_request(method, url, json, json ? strlen(json) : 0, json ? h : NULL);
}

static void standin_config(const char *json)
{
	struct h_resp r = standin("POST", "/_standin/config", json);

	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

/*
 * The customer acts at the gateway: opts is extra JSON members ("" for
 * none). Returns the stand-in's answer {form, ipns, return_url} (put it).
 */
static json_object *act(const char *tran_id, const char *action, const char *opts)
{
	char body[1024];
	struct h_resp r;
	json_object *j;

	snprintf(body, sizeof body, "{\"tran_id\": \"%s\", \"action\": \"%s\"%s%s}", tran_id, action,
		 opts[0] ? ", " : "", opts);
	r = standin("POST", "/_standin/act", body);
	if (r.status != 200)
		fail_msg("act: %ld %s", r.status, r.body);
	j = h_json(&r);
	h_resp_free(&r);
	return j;
}

/* The HTTP status the stack answered the stand-in's IPN number i with. */
static long act_ipn_status(json_object *a, size_t i)
{
	json_object *ipns = hc_jget(a, "ipns"), *one, *st;

	assert_non_null(ipns);
	assert_true(json_object_array_length(ipns) > i);
	one = json_object_array_get_idx(ipns, i);
	assert_true(json_object_object_get_ex(one, "status", &st));
	return (long)json_object_get_int64(st);
}

/* The signed form of an act answer, urlencoded (free it). */
static char *form_encode(json_object *a)
{
	json_object *form = hc_jget(a, "form");
	CURL *curl = curl_easy_init();
	size_t cap = 8192, used = 0;
	char *out = malloc(cap);

	assert_non_null(form);
	assert_non_null(curl);
	assert_non_null(out);
	out[0] = '\0';
	json_object_object_foreach(form, k, v) {
		char *e = curl_easy_escape(curl, json_object_get_string(v), 0);

		assert_non_null(e);
		used += (size_t)snprintf(out + used, cap - used, "%s%s=%s", used ? "&" : "", k, e);
		curl_free(e);
		assert_true(used < cap);
	}
	curl_easy_cleanup(curl);
	return out;
}

static struct h_resp post_form(const char *path, const char *form)
{
	const char *h[] = { "Content-Type: application/x-www-form-urlencoded", NULL };

	return h_request("POST", path, form, strlen(form), h);
}

/* ---- orders ---- */

/* A customer's new order paid with method; its id into id. */
static void order_new(struct ho_customer *c, const char *method, char id[25])
{
	char body[256], key[33];
	struct h_resp r;
	json_object *j;

	ho_cart_add(c, ho_sku("PS1"), 1);
	snprintf(body, sizeof body, "{\"shipping_address_id\": \"%s\", \"payment_method\": \"%s\"}",
		 c->address, method);
	ho_key(key);
	r = ho_place(c, key, body);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(id, 25, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

/* A session for the order: 201 and its tran_id, or the status returned. */
static long session(const struct ho_customer *c, const char *order_id, char tran_id[40])
{
	char body[80];
	struct h_resp r;
	long st;

	snprintf(body, sizeof body, "{\"order_id\": \"%s\"}", order_id);
	r = ho_req(c, "POST", "/api/v1/payments/sslcommerz/session", body, NULL);
	st = r.status;
	if (st == 201) {
		json_object *j = h_json(&r);

		snprintf(tran_id, 40, "%s", hc_jstr(j, "tran_id"));
		snprintf(last_gateway_url, sizeof last_gateway_url, "%s", hc_jstr(j, "gateway_url"));
		assert_true(strncmp(hc_jstr(j, "gateway_url"), h_env("STACK_SSLCOMMERZ_BASE"),
				    strlen(h_env("STACK_SSLCOMMERZ_BASE"))) == 0);
		assert_true(strlen(tran_id) > 0 && strlen(tran_id) <= 30);
		assert_true(strlen(hc_jstr(j, "expires_at")) >= 20); /* RFC 3339: a card order expires */
		json_object_put(j);
		{
			/* 201 names what it made: this attempt */
			char loc[128], want[128];

			snprintf(want, sizeof want, "/api/v1/payments/sslcommerz/session/%s", tran_id);
			assert_true(h_header(&r, "Location", loc, sizeof loc));
			assert_string_equal(loc, want);
		}
	} else if (st >= 400) {
		h_assert_problem(&r, st);
	}
	h_resp_free(&r);
	return st;
}

/* The order's status and payment_status as its customer sees them. */
static void order_state(const struct ho_customer *c, const char *id, char *status, char *pay)
{
	char path[80];
	struct h_resp r;
	json_object *j;

	snprintf(path, sizeof path, "/api/v1/orders/%s", id);
	r = ho_req(c, "GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	snprintf(status, 32, "%s", hc_jstr(j, "status"));
	snprintf(pay, 32, "%s", hc_jstr(j, "payment_status"));
	json_object_put(j);
	h_resp_free(&r);
}

static void assert_order(const struct ho_customer *c, const char *id, const char *status,
			 const char *pay)
{
	char s[32], p[32];

	order_state(c, id, s, p);
	if (strcmp(s, status) != 0 || strcmp(p, pay) != 0)
		fail_msg("order %s is %s/%s, expected %s/%s", id, s, p, status, pay);
}

static long payments_of(const char *order_id)
{
	char f[96];

	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}}", order_id);
	return h_db_count("payments", f);
}

/* Waits up to ms for the order to reach status/pay. */
static bool order_wait(const struct ho_customer *c, const char *id, const char *status,
		       const char *pay, long ms)
{
	char s[32], p[32];

	for (long t = 0; t <= ms; t += 250) {
		order_state(c, id, s, p);
		if (strcmp(s, status) == 0 && strcmp(p, pay) == 0)
			return true;
		h_sleep_ms(250);
	}
	fprintf(stderr, "# order %s stayed %s/%s (waited for %s/%s)\n", id, s, p, status, pay);
	return false;
}

/* The order's number (for its mails). */
static void order_number(const struct ho_customer *c, const char *id, char out[40])
{
	char path[80];
	struct h_resp r;
	json_object *j;

	snprintf(path, sizeof path, "/api/v1/orders/%s", id);
	r = ho_req(c, "GET", path, NULL, NULL);
	j = h_json(&r);
	snprintf(out, 40, "%s", hc_jstr(j, "number"));
	json_object_put(j);
	h_resp_free(&r);
}

/* An order as its customer (staff false) or staff (true) see it (put it). */
static json_object *order_view(const struct ho_customer *c, const char *id, bool staff)
{
	char path[96];
	struct h_resp r;
	json_object *j;

	snprintf(path, sizeof path, staff ? "/api/v1/admin/orders/%s" : "/api/v1/orders/%s", id);
	r = staff ? hc_staff("GET", path, NULL, NULL) : ho_req(c, "GET", path, NULL, NULL);
	if (r.status != 200)
		fail_msg("GET %s: %ld %s", path, r.status, r.body);
	j = h_json(&r);
	h_resp_free(&r);
	return j;
}

/*
 * The order's refunds as both its customer and staff see them: n entries,
 * entry i with amount/currency/state (states: one per entry, in order),
 * refunded_total.
 */
static void assert_refund_mirror(const struct ho_customer *c, const char *id, size_t n,
				 const long long *amounts, const char *currency,
				 const char *const *states, long long refunded_total)
{
	for (int staff = 0; staff < 2; staff++) {
		json_object *j = order_view(c, id, staff), *list = hc_jget(j, "refunds");

		assert_non_null(list);
		if (json_object_array_length(list) != n)
			fail_msg("order %s has %zu refunds (wanted %zu): %s", id,
				 json_object_array_length(list), n, json_object_to_json_string(list));
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(list, i);

			assert_int_equal(json_object_get_int64(hc_jget(e, "amount")), amounts[i]);
			assert_string_equal(hc_jstr(e, "currency"), currency);
			if (strcmp(hc_jstr(e, "state"), states[i]) != 0)
				fail_msg("refund %zu of %s is %s, wanted %s", i, id, hc_jstr(e, "state"),
					 states[i]);
			assert_int_equal(strlen(hc_jstr(e, "id")), 24);
			assert_true(strlen(hc_jstr(e, "reason")) > 0);
			assert_non_null(hc_jget(e, "updated_at"));
		}
		assert_int_equal(json_object_get_int64(hc_jget(j, "refunded_total")), refunded_total);
		json_object_put(j);
	}
}

/* Exactly n mails to `to` containing needle (and the order's number). */
static void assert_mails(const char *to, const char *needle, const char *number, int n)
{
	char *mail;

	for (int i = 0; i < n; i++) {
		mail = h_mail_wait(to, needle, 20000);
		if (!mail)
			fail_msg("mail %d of %d to %s with \"%s\" did not come", i + 1, n, to, needle);
		assert_non_null(strstr(mail, number));
		free(mail);
	}
	mail = h_mail_wait(to, needle, 1500);
	if (mail) {
		free(mail);
		fail_msg("more than %d mails to %s with \"%s\"", n, to, needle);
	}
}

#define MAIL_REFUND_REQUESTED "is on its way"
#define MAIL_REFUNDED         "We have refunded"
#define MAIL_REFUND_STOPPED   "did not go through"

/*
 * The session call the shop made for tran_id, as the stand-in received it:
 * every field filled from the order (amount from minor units, the
 * callbacks under EMPORIUM_PUBLIC_URL, value_a the order's id).
 */
static void session_call_check(const char *tran_id, const char *order_id, const char *number,
			       const char *email)
{
	struct h_resp r = standin("GET", "/_standin/calls", NULL);
	json_object *j = h_json(&r), *calls = hc_jget(j, "calls"), *p = NULL;
	static const char *const cb[][2] = { { "success_url", "/api/v1/payments/sslcommerz/success" },
					     { "fail_url", "/api/v1/payments/sslcommerz/fail" },
					     { "cancel_url", "/api/v1/payments/sslcommerz/cancel" },
					     { "ipn_url", "/api/v1/payments/sslcommerz/ipn" } };

	h_resp_free(&r);
	for (size_t i = 0; calls && i < json_object_array_length(calls); i++) {
		json_object *c = json_object_array_get_idx(calls, i);

		if (strcmp(hc_jstr(c, "path"), "/gwprocess/v4/api.php") == 0 &&
		    strcmp(hc_jstr(hc_jget(c, "params"), "tran_id"), tran_id) == 0)
			p = hc_jget(c, "params");
	}
	if (!p)
		fail_msg("no session call for %s", tran_id);
	assert_string_equal(hc_jstr(p, "store_passwd"), "<right>");
	assert_string_equal(hc_jstr(p, "total_amount"), "1560.00");
	assert_string_equal(hc_jstr(p, "currency"), "BDT");
	assert_string_equal(hc_jstr(p, "product_profile"), "physical-goods");
	assert_string_equal(hc_jstr(p, "value_a"), order_id);
	assert_string_equal(hc_jstr(p, "value_b"), number);
	assert_string_equal(hc_jstr(p, "cus_email"), email);
	assert_string_equal(hc_jstr(p, "shipping_method"), "YES");
	assert_string_equal(hc_jstr(p, "num_of_item"), "1");
	assert_non_null(strstr(hc_jstr(p, "product_name"), "Paid Shirt"));
	for (size_t i = 0; i < 4; i++) {
		const char *u = hc_jstr(p, cb[i][0]), *tail = strstr(u, "/api/");

		if (strncmp(u, "https://", 8) != 0 || !tail || strcmp(tail, cb[i][1]) != 0)
			fail_msg("%s is %s", cb[i][0], u);
	}
	json_object_put(j);
}

/* ---- tests ---- */

/* session -> the customer pays at the stand-in -> IPN -> processing, one
 * payment, the confirmation mail once */
static void test_pay_end_to_end(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], number[40], f[160], *mail;
	json_object *a;
	struct h_resp r;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_order(&c, id, "pending", "unpaid");
	assert_int_equal(session(&c, id, tran), 201);
	order_number(&c, id, number);
	session_call_check(tran, id, number, c.email);
	a = act(tran, "pay", "");
	assert_int_equal(act_ipn_status(a, 0), 200);
	assert_order(&c, id, "processing", "paid");
	assert_int_equal(payments_of(id), 1);
	/* the payment as the gateway reported it, for staff */
	{
		char path[96];
		json_object *j, *p;

		snprintf(path, sizeof path, "/api/v1/admin/orders/%s/payments", id);
		r = hc_staff("GET", path, NULL, NULL);
		assert_int_equal(r.status, 200);
		j = h_json(&r);
		h_resp_free(&r);
		p = json_object_array_get_idx(hc_jget(j, "items"), 0);
		assert_non_null(p);
		assert_string_equal(hc_jstr(p, "tran_id"), tran);
		assert_string_equal(hc_jstr(p, "bank_tran_id"), hc_jstr(hc_jget(a, "form"), "bank_tran_id"));
		assert_true(strlen(hc_jstr(p, "bank_tran_id")) > 0);
		assert_string_equal(hc_jstr(p, "card_brand"), "VISA");
		assert_int_equal(json_object_get_int64(hc_jget(p, "amount")), 156000);
		assert_string_equal(hc_jstr(p, "currency"), "BDT");
		assert_int_equal(json_object_get_int64(hc_jget(p, "risk_level")), 0);
		assert_string_equal(hc_jstr(p, "applied"), "order");
		json_object_put(j);
	}
	json_object_put(a);
	snprintf(f, sizeof f, "{\"tran_id\": \"%s\", \"status\": \"paid\"}", tran);
	assert_int_equal(h_db_count("payment_attempts", f), 1);
	mail = h_mail_wait(c.email, number, 15000);
	assert_non_null(mail);
	free(mail);
	mail = h_mail_wait(c.email, number, 1500);
	assert_null(mail); /* no second mail of any kind about the order */
	/* once: the confirmation's outbox job is one (dedupe), and a replayed
	 * notification makes no other */
	snprintf(f, sizeof f, "{\"dedupe_key\": \"order_confirmation:%s\"}", number);
	assert_int_equal(h_db_count("jobs", f), 1);
	/* the session asked the gateway with every mandatory field right: the
	 * stand-in refuses a session otherwise; the validation was asked with
	 * the right credentials (the stand-in records <right>/<wrong>) */
	r = standin("GET", "/_standin/calls", NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "validationserverAPI.php"));
	assert_null(strstr(r.body, "<wrong>"));
	h_resp_free(&r);
	/* a paid order takes no new session */
	assert_int_equal(session(&c, id, tran), 409);
}

/* A person at the hosted page: it shows the amount, Pay sends the IPN and
 * answers a page that POSTs the browser back to the shop's success URL. */
static void test_pay_hosted_page(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], loc[512], form[8192] = "";
	const char *h[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	struct h_resp r;
	const char *p;
	CURL *curl = curl_easy_init();
	size_t used = 0;

	(void)state;
	assert_non_null(curl);
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	r = h_request("GET", last_gateway_url, NULL, 0, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "BDT 1560.00"));
	h_resp_free(&r);
	r = h_request("POST", last_gateway_url, "action=pay", 10, h);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "/api/v1/payments/sslcommerz/success\""));
	/* the page's hidden inputs, as the browser would POST them */
	for (p = strstr(r.body, "<input type=\"hidden\" name=\""); p;
	     p = strstr(p, "<input type=\"hidden\" name=\"")) {
		const char *n = p + 27, *ne = strchr(n, '"'), *v, *ve;
		char name[64], value[512], *e;

		assert_non_null(ne);
		v = strstr(ne, "value=\"");
		assert_non_null(v);
		v += 7;
		ve = strchr(v, '"');
		assert_non_null(ve);
		snprintf(name, sizeof name, "%.*s", (int)(ne - n), n);
		snprintf(value, sizeof value, "%.*s", (int)(ve - v), v);
		e = curl_easy_escape(curl, value, 0);
		used += (size_t)snprintf(form + used, sizeof form - used, "%s%s=%s", used ? "&" : "", name, e);
		curl_free(e);
		p = ve;
	}
	h_resp_free(&r);
	curl_easy_cleanup(curl);
	assert_non_null(strstr(form, "verify_sign="));
	/* the IPN came first and paid the order; the return says so */
	assert_order(&c, id, "processing", "paid");
	r = post_form("/api/v1/payments/sslcommerz/success", form);
	assert_int_equal(r.status, 303);
	assert_true(h_header(&r, "Location", loc, sizeof loc));
	assert_non_null(strstr(loc, "status=paid"));
	h_resp_free(&r);
	assert_int_equal(payments_of(id), 1);
	/* the page is closed now */
	r = h_request("GET", last_gateway_url, NULL, 0, NULL);
	assert_int_equal(r.status, 410);
	h_resp_free(&r);
}

struct replay_arg {
	const char *form;
	long status[16];
	const char *path[16];
};

static void replay_one(int i, void *varg)
{
	struct replay_arg *arg = varg;
	struct h_resp r = post_form(arg->path[i], arg->form);

	arg->status[i] = r.status;
	h_resp_free(&r);
}

/* the same IPN 10 times at once: one payment, one event, every answer 200 */
static void test_ipn_replay_concurrent(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], f[200];
	struct replay_arg arg;
	json_object *a;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	a = act(tran, "pay", "\"drop_ipn\": true");
	arg.form = form_encode(a);
	json_object_put(a);
	assert_order(&c, id, "pending", "unpaid");
	for (int i = 0; i < 10; i++)
		arg.path[i] = "/api/v1/payments/sslcommerz/ipn";
	h_parallel(10, replay_one, &arg);
	for (int i = 0; i < 10; i++)
		assert_int_equal(arg.status[i], 200);
	assert_int_equal(payments_of(id), 1);
	assert_order(&c, id, "processing", "paid");
	/* one move to processing among the order's events */
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}}", id);
	{
		char *doc = h_db_find_json("orders", f);
		json_object *o = doc ? json_tokener_parse(doc) : NULL, *ev = o ? hc_jget(o, "events") : NULL;
		int moves = 0;

		assert_non_null(ev);
		for (size_t i = 0; i < json_object_array_length(ev); i++)
			moves += strcmp(hc_jstr(json_object_array_get_idx(ev, i), "to"), "processing") == 0;
		assert_int_equal(moves, 1);
		json_object_put(o);
		free(doc);
	}
	free((char *)arg.form);
}

/* the IPN and the browser's success return at once: one payment */
static void test_ipn_and_success_race(void **state)
{
	struct ho_customer c;
	char id[25], tran[40];
	struct replay_arg arg;
	json_object *a;

	(void)state;
	for (int round = 0; round < 3; round++) {
		ho_customer_new(&c, false);
		order_new(&c, "sslcommerz", id);
		assert_int_equal(session(&c, id, tran), 201);
		a = act(tran, "pay", "\"drop_ipn\": true");
		arg.form = form_encode(a);
		json_object_put(a);
		for (int i = 0; i < 4; i++)
			arg.path[i] = i % 2 ? "/api/v1/payments/sslcommerz/success" :
					      "/api/v1/payments/sslcommerz/ipn";
		h_parallel(4, replay_one, &arg);
		assert_int_equal(arg.status[0], 200);
		assert_int_equal(arg.status[1], 303);
		assert_int_equal(payments_of(id), 1);
		assert_order(&c, id, "processing", "paid");
		free((char *)arg.form);
	}
}

/* the browser comes back before the IPN: its success return runs the same
 * validation and pays the order; the IPN that comes late is a replay */
static void test_success_before_ipn(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], loc[512], *form;
	json_object *a;
	struct h_resp r;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	a = act(tran, "pay", "\"drop_ipn\": true");
	form = form_encode(a);
	json_object_put(a);
	r = post_form("/api/v1/payments/sslcommerz/success", form);
	assert_int_equal(r.status, 303);
	assert_true(h_header(&r, "Location", loc, sizeof loc));
	assert_non_null(strstr(loc, "/checkout/payment?status=paid&order="));
	assert_non_null(strstr(loc, id));
	h_resp_free(&r);
	assert_order(&c, id, "processing", "paid");
	assert_int_equal(payments_of(id), 1);
	r = post_form("/api/v1/payments/sslcommerz/ipn", form);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "replay"));
	h_resp_free(&r);
	assert_int_equal(payments_of(id), 1);
	free(form);
	/* both callbacks are in the payment log with their raw fields */
	{
		char f[200];

		snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"kind\": \"success\","
			 " \"direction\": \"in\", \"fields.tran_id\": \"%s\", \"error\": null}", id, tran);
		assert_int_equal(h_db_count("payment_logs", f), 1);
		snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"kind\": \"ipn\","
			 " \"fields.verify_sign\": \"***\"}", id);
		assert_int_equal(h_db_count("payment_logs", f), 1);
	}
}

/* An IPN that fails a check changes nothing; answer 4xx. */
static void refused_ipn(const struct ho_customer *c, const char *id, const char *form,
			long want)
{
	struct h_resp r = post_form("/api/v1/payments/sslcommerz/ipn", form);

	if (r.status != want)
		fail_msg("IPN answered %ld (wanted %ld): %s", r.status, want, r.body);
	h_assert_problem(&r, want);
	h_resp_free(&r);
	assert_order(c, id, "pending", "unpaid");
	assert_int_equal(payments_of(id), 0);
}

static void test_tampered_and_mismatched(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], *form, *p;
	json_object *a;
	struct h_resp r;
	char loc[512];

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);

	/* a signed field changed after signing (the stand-in tampers) */
	a = act(tran, "pay", "\"drop_ipn\": true, \"tamper\": {\"amount\": \"1.00\"}");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 400);
	free(form);
	/* a field dropped from verify_key */
	a = act(tran, "pay", "\"drop_ipn\": true, \"again\": true, \"trim_key\": \"amount\"");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 400);
	/* the same form with one byte of the risk level changed */
	p = strstr(form, "risk_level=0");
	assert_non_null(p);
	p[11] = '1';
	refused_ipn(&c, id, form, 400);
	free(form);
	/* signed by another store's password */
	a = act(tran, "pay", "\"drop_ipn\": true, \"again\": true, \"password\": \"another-store-pw\"");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 400);
	free(form);
	/* each of the four is in the payment log, with why it was refused */
	{
		char f[200];

		snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"kind\": \"ipn\","
			 " \"direction\": \"in\", \"error\": \"verify_sign does not match\"}", id);
		assert_int_equal(h_db_count("payment_logs", f), 4);
	}
	/* genuinely signed, but for another store */
	a = act(tran, "pay", "\"drop_ipn\": true, \"again\": true,"
		" \"override\": {\"store_id\": \"another-store\"}");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 400);
	free(form);
	/* genuinely signed, but for a tran_id nobody opened: 404, logged */
	a = act(tran, "pay", "\"drop_ipn\": true, \"again\": true,"
		" \"override\": {\"tran_id\": \"EMnosuchattempt000000000000\"}");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 404);
	free(form);
	assert_int_equal(h_db_count("payment_logs", "{\"kind\": \"ipn\","
				    " \"fields.tran_id\": \"EMnosuchattempt000000000000\"}"), 1);
	/* a signed VALID IPN whose validation answers INVALID_TRANSACTION
	 * (a val_id the gateway never issued): the IPN alone is not believed */
	a = act(tran, "pay", "\"drop_ipn\": true, \"again\": true,"
		" \"override\": {\"val_id\": \"201201nosuchvalidation\"}");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 400);
	free(form);
	r = standin("GET", "/_standin/calls", NULL);
	assert_non_null(strstr(r.body, "\"val_id\":\"201201nosuchvalidation\""));
	h_resp_free(&r);
	/* a genuine IPN, but the customer was charged one paisa less: the
	 * validation API says so, and the order's own total decides */
	a = act(tran, "pay", "\"drop_ipn\": true, \"again\": true, \"amount\": \"1559.99\"");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 400);
	free(form);
	/* another currency */
	a = act(tran, "pay", "\"drop_ipn\": true, \"again\": true, \"currency\": \"USD\"");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 400);
	free(form);
	/* a forged success return (no signature): 303, nothing changes */
	r = post_form("/api/v1/payments/sslcommerz/success", "status=VALID&tran_id=EMforged&val_id=x");
	assert_int_equal(r.status, 303);
	assert_true(h_header(&r, "Location", loc, sizeof loc));
	assert_non_null(strstr(loc, "status=failed"));
	h_resp_free(&r);
	assert_order(&c, id, "pending", "unpaid");
	/* not a form */
	r = h_request("POST", "/api/v1/payments/sslcommerz/ipn", "{}", 2,
		      (const char *const[]){ "Content-Type: application/json", NULL });
	h_assert_problem(&r, 415);
	h_resp_free(&r);
	/* after all that, the genuine payment still goes through */
	a = act(tran, "pay", "\"again\": true");
	assert_int_equal(act_ipn_status(a, 0), 200);
	json_object_put(a);
	assert_order(&c, id, "processing", "paid");
	assert_int_equal(payments_of(id), 1);
}

/* risk_level 1: paid, held in payment_review */
static void test_risky(void **state)
{
	struct ho_customer c;
	char id[25], tran[40];
	json_object *a;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	/* the gateway sends it twice: the second is a replay */
	a = act(tran, "pay", "\"risk_level\": 1, \"ipn_twice\": true");
	assert_int_equal(act_ipn_status(a, 0), 200);
	assert_int_equal(act_ipn_status(a, 1), 200);
	assert_non_null(strstr(json_object_to_json_string(a), "replay"));
	json_object_put(a);
	assert_order(&c, id, "payment_review", "paid");
	assert_int_equal(payments_of(id), 1);
}

/* sessions: another's order 404, a new attempt voids the open one, a
 * failed or cancelled payment marks the attempt only */
static void test_sessions(void **state)
{
	struct ho_customer c, other;
	char id[25], t1[40], t2[40], f[160];
	json_object *a, *a_last;

	(void)state;
	ho_customer_new(&c, false);
	ho_customer_new(&other, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&other, id, t1), 404);
	/* bad bodies: 400, and no attempt opened */
	{
		static const char *const bad[] = { "{}", "{\"order_id\": 12}", "{\"order_id\": \"nope\"}",
						   "{\"order_id\": {\"$ne\": null}}", "" };
		char body[128];
		struct h_resp r;

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			/* the last: the right order with a field the route does not take */
			if (bad[i][0])
				snprintf(body, sizeof body, "%s", bad[i]);
			else
				snprintf(body, sizeof body, "{\"order_id\": \"%s\", \"amount\": 1}", id);
			r = ho_req(&c, "POST", "/api/v1/payments/sslcommerz/session", body, NULL);
			if (r.status != 400)
				fail_msg("%s answered %ld", body, r.status);
			h_assert_problem(&r, 400);
			h_resp_free(&r);
		}
		/* every fault of one body at once, each with its code */
		r = ho_req(&c, "POST", "/api/v1/payments/sslcommerz/session",
			   "{\"order_id\": 12, \"amount\": 1}", NULL);
		h_assert_problem_errors(&r, 400, "amount:unknown_field order_id:invalid_type");
		h_resp_free(&r);
		snprintf(body, sizeof body, "{\"order_id\": \"%s\"}", id);
		r = ho_req(NULL, "POST", "/api/v1/payments/sslcommerz/session", body, NULL);
		h_assert_problem(&r, 401);
		h_resp_free(&r);
		snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}}", id);
		assert_int_equal(h_db_count("payment_attempts", f), 0);
	}
	assert_int_equal(session(&c, id, t1), 201);
	{
		/* the Location answers the attempt to its customer, to no one else */
		char path[128];
		struct h_resp r;
		json_object *j;

		snprintf(path, sizeof path, "/api/v1/payments/sslcommerz/session/%s", t1);
		r = ho_req(&c, "GET", path, NULL, NULL);
		assert_int_equal(r.status, 200);
		j = h_json(&r);
		assert_string_equal(hc_jstr(j, "tran_id"), t1);
		assert_string_equal(hc_jstr(j, "order_id"), id);
		assert_string_equal(hc_jstr(j, "status"), "open");
		assert_string_equal(hc_jstr(j, "gateway_url"), last_gateway_url);
		assert_int_equal(json_object_get_int64(hc_jget(j, "amount")), 156000);
		assert_null(strstr(r.body, "sessionkey"));
		json_object_put(j);
		h_resp_free(&r);
		r = ho_req(&other, "GET", path, NULL, NULL);
		h_assert_problem(&r, 404);
		h_resp_free(&r);
		r = ho_req(&c, "GET", "/api/v1/payments/sslcommerz/session/EM0000", NULL, NULL);
		h_assert_problem(&r, 404);
		h_resp_free(&r);
	}
	assert_int_equal(session(&c, id, t2), 201);
	assert_string_not_equal(t1, t2);
	snprintf(f, sizeof f, "{\"tran_id\": \"%s\", \"status\": \"void\"}", t1);
	assert_int_equal(h_db_count("payment_attempts", f), 1);
	a = act(t2, "fail", "");
	assert_int_equal(act_ipn_status(a, 0), 200);
	a_last = a;
	snprintf(f, sizeof f, "{\"tran_id\": \"%s\", \"status\": \"failed\"}", t2);
	assert_int_equal(h_db_count("payment_attempts", f), 1);
	assert_order(&c, id, "pending", "unpaid");
	/* the browser's fail and cancel returns change nothing: 303 to the shop */
	{
		char *form = form_encode(a_last), loc[512];
		struct h_resp r;

		r = post_form("/api/v1/payments/sslcommerz/fail", form);
		assert_int_equal(r.status, 303);
		assert_true(h_header(&r, "Location", loc, sizeof loc));
		assert_non_null(strstr(loc, "/checkout/payment?status=failed&order="));
		assert_non_null(strstr(loc, id));
		h_resp_free(&r);
		r = post_form("/api/v1/payments/sslcommerz/cancel", form);
		assert_int_equal(r.status, 303);
		assert_true(h_header(&r, "Location", loc, sizeof loc));
		assert_non_null(strstr(loc, "status=cancelled"));
		h_resp_free(&r);
		free(form);
		json_object_put(a_last);
	}
	assert_order(&c, id, "pending", "unpaid");
	/* CANCELLED, EXPIRED, UNATTEMPTED: each marks its attempt, nothing else */
	{
		static const char *const acts[][2] = { { "cancel", "cancelled" }, { "expire", "expired" },
						       { "unattempted", "unattempted" } };
		char t3[40];

		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(session(&c, id, t3), 201);
			a = act(t3, acts[i][0], "");
			assert_int_equal(act_ipn_status(a, 0), 200);
			json_object_put(a);
			snprintf(f, sizeof f, "{\"tran_id\": \"%s\", \"status\": \"%s\"}", t3, acts[i][1]);
			assert_int_equal(h_db_count("payment_attempts", f), 1);
			assert_order(&c, id, "pending", "unpaid");
			assert_int_equal(payments_of(id), 0);
		}
	}
	/* the voided attempt paid after all (another tab): recorded, refunded,
	 * and the order still waits for a payment through a new attempt */
	a = act(t1, "pay", "");
	assert_int_equal(act_ipn_status(a, 0), 200);
	json_object_put(a);
	assert_true(refunds_wait(id, "refunded", 1, 20000));
	assert_order(&c, id, "pending", "unpaid");
	assert_int_equal(session(&c, id, t2), 201);
	a = act(t2, "pay", "");
	json_object_put(a);
	assert_order(&c, id, "processing", "paid");
	assert_int_equal(payments_of(id), 2);
	/* a COD order takes no card session */
	order_new(&c, "cod", id);
	assert_int_equal(session(&c, id, t1), 409);
}

/* the IPN never arrives: reconciliation finds the payment */
static void test_dropped_ipn_reconciled(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], f[160];
	json_object *a;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	a = act(tran, "pay", "\"drop_ipn\": true");
	json_object_put(a);
	assert_order(&c, id, "pending", "unpaid");
	/* the attempt was last looked at an hour ago (RECONCILE_AFTER is 10 min) */
	snprintf(f, sizeof f, "{\"tran_id\": \"%s\"}", tran);
	h_db_update("payment_attempts", f,
		    "{\"$set\": {\"checked_at\": {\"$date\": \"2020-01-01T00:00:00Z\"}}}");
	assert_true(order_wait(&c, id, "processing", "paid", 20000));
	assert_int_equal(payments_of(id), 1);
	/* the query that found it is in the payment log */
	snprintf(f, sizeof f, "{\"tran_id\": \"%s\", \"kind\": \"query\", \"direction\": \"out\"}", tran);
	assert_true(h_db_count("payment_logs", f) >= 1);
}

/* the validation API answers 500 twice: the IPN is queued, the job retries */
static void test_validation_down_then_up(void **state)
{
	struct ho_customer c;
	char id[25], tran[40];
	json_object *a;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	standin_config("{\"fail_validations\": 2}");
	a = act(tran, "pay", "");
	assert_int_equal(act_ipn_status(a, 0), 200);
	json_object_put(a);
	assert_true(order_wait(&c, id, "processing", "paid", 90000));
	assert_int_equal(payments_of(id), 1);
	standin_config("{\"fail_validations\": 0}");
}

/* a gateway slower than EMPORIUM_SSLCOMMERZ_TIMEOUT: the session is a 502
 * (the attempt failed, nothing paid); the IPN's validation times out and
 * is retried by the job worker (its own, longer, timeout) */
static void test_gateway_slow(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], f[160];
	json_object *a;
	struct h_resp r;
	double t0;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_true(h_stack_reconfigure("EMPORIUM_SSLCOMMERZ_TIMEOUT=1"));
	standin_config("{\"slow_ms\": 2500}");
	t0 = h_now_s();
	{
		char body[80];

		snprintf(body, sizeof body, "{\"order_id\": \"%s\"}", id);
		r = ho_req(&c, "POST", "/api/v1/payments/sslcommerz/session", body, NULL);
	}
	h_assert_problem(&r, 502);
	h_resp_free(&r);
	assert_true(h_now_s() - t0 < 2.4); /* bounded by the timeout, not the gateway */
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"status\": \"failed\"}", id);
	assert_int_equal(h_db_count("payment_attempts", f), 1);
	standin_config("{\"slow_ms\": 0}");
	assert_int_equal(session(&c, id, tran), 201);
	standin_config("{\"slow_ms\": 2500}");
	a = act(tran, "pay", "");
	assert_int_equal(act_ipn_status(a, 0), 200);
	assert_non_null(strstr(json_object_to_json_string(a), "queued"));
	json_object_put(a);
	assert_order(&c, id, "pending", "unpaid");
	assert_true(order_wait(&c, id, "processing", "paid", 20000));
	standin_config("{\"slow_ms\": 0}");
	assert_true(h_stack_reconfigure(NULL));
	assert_int_equal(payments_of(id), 1);
}

static long refund(const char *id, const char *key, const char *body)
{
	char path[96], hk[300];
	const char *h[] = { admin_auth, "Content-Type: application/json", hk, NULL };
	struct h_resp r;
	long st;

	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/refunds", id);
	snprintf(hk, sizeof hk, "Idempotency-Key: %s", key);
	r = h_request("POST", path, body, strlen(body), h);
	st = r.status;
	h_resp_free(&r);
	return st;
}

/*
 * A refund request that answers with the refund's Location (into loc) and
 * whether it was a replay; the status returned.
 */
static long refund_loc(const char *id, const char *key, const char *body, char loc[160],
		       bool *replayed)
{
	char path[96], hk[300], v[16];
	const char *h[] = { admin_auth, "Content-Type: application/json", hk, NULL };
	struct h_resp r;
	long st;

	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/refunds", id);
	snprintf(hk, sizeof hk, "Idempotency-Key: %s", key);
	r = h_request("POST", path, body, strlen(body), h);
	st = r.status;
	loc[0] = '\0';
	if (!h_header(&r, "Location", loc, 160))
		loc[0] = '\0';
	*replayed = h_header(&r, "Idempotent-Replayed", v, sizeof v) && strcmp(v, "true") == 0;
	h_resp_free(&r);
	return st;
}

/*
 * GETs what a Location names (as staff) and checks it is the thing made:
 * its id is the last segment, and amount and currency are those given.
 */
static json_object *staff_at(const char *loc, long long amount)
{
	const char *last = strrchr(loc, '/');
	struct h_resp r;
	json_object *j;

	assert_non_null(last);
	r = hc_staff("GET", loc, NULL, NULL);
	if (r.status != 200)
		fail_msg("GET %s answered %ld", loc, r.status);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "id"), last + 1);
	assert_int_equal(json_object_get_int64(hc_jget(j, "amount")), amount);
	assert_string_equal(hc_jstr(j, "currency"), "BDT");
	h_resp_free(&r);
	return j;
}

static bool refunds_wait(const char *id, const char *status, long n, long ms)
{
	char f[160];

	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"status\": \"%s\"}", id, status);
	for (long t = 0; t <= ms; t += 250) {
		if (h_db_count("refunds", f) == n)
			return true;
		h_sleep_ms(250);
	}
	return false;
}

/* partial, then the rest: refunded; never more than was paid */
static void test_refunds(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], k1[33], k2[33];
	json_object *a;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	a = act(tran, "pay", "");
	json_object_put(a);
	assert_order(&c, id, "processing", "paid");
	ho_key(k1);
	ho_key(k2);
	{
		/* the same key and body: the same refund, not a second, answered
		 * as the first time (202 and the refund's Location) */
		const char *body = "{\"amount\": 56000, \"reason\": \"one item damaged\"}";
		char loc[160], loc2[160], want[96];
		bool replayed;
		json_object *j;

		assert_int_equal(refund_loc(id, k1, body, loc, &replayed), 202);
		assert_false(replayed);
		snprintf(want, sizeof want, "/api/v1/admin/orders/%s/refunds/", id);
		assert_true(strncmp(loc, want, strlen(want)) == 0);
		assert_int_equal(refund_loc(id, k1, body, loc2, &replayed), 202);
		assert_true(replayed);
		assert_string_equal(loc, loc2);
		j = staff_at(loc, 56000);
		assert_string_equal(hc_jstr(j, "reason"), "one item damaged");
		json_object_put(j);
		/* another order's path to it: 404 */
		{
			char other[200];
			struct h_resp r;

			snprintf(other, sizeof other, "/api/v1/admin/orders/0123456789abcdef01234567/refunds/%s",
				 strrchr(loc, '/') + 1);
			r = hc_staff("GET", other, NULL, NULL);
			h_assert_problem(&r, 404);
			h_resp_free(&r);
		}
	}
	assert_int_equal(refund(id, k1, "{\"amount\": 100, \"reason\": \"other\"}"), 422);
	/* more than paid less reserved */
	assert_int_equal(refund(id, k2, "{\"amount\": 100001, \"reason\": \"too much\"}"), 409);
	assert_true(refunds_wait(id, "refunded", 1, 20000));
	assert_order(&c, id, "processing", "paid");
	{
		static const long long amounts[] = { 56000 };
		static const char *const states[] = { "refunded" };

		assert_refund_mirror(&c, id, 1, amounts, "BDT", states, 56000);
	}
	assert_int_equal(refund(id, k2, "{\"amount\": 100000, \"reason\": \"the rest\"}"), 202);
	assert_true(refunds_wait(id, "refunded", 2, 20000));
	assert_true(order_wait(&c, id, "processing", "refunded", 5000));
	{
		static const long long amounts[] = { 56000, 100000 };
		static const char *const states[] = { "refunded", "refunded" };
		char number[40];

		assert_refund_mirror(&c, id, 2, amounts, "BDT", states, 156000);
		/* each refund's two states, mailed once each */
		order_number(&c, id, number);
		assert_mails(c.email, MAIL_REFUND_REQUESTED, number, 2);
		assert_mails(c.email, MAIL_REFUNDED, number, 2);
	}
	/* the refund and refund-status calls are in the payment log */
	{
		char f[200];

		snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"kind\": \"refund\","
			 " \"direction\": \"out\", \"http_status\": 200}", id);
		assert_int_equal(h_db_count("payment_logs", f), 2);
		snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"kind\": \"refund_status\"}", id);
		assert_true(h_db_count("payment_logs", f) >= 2);
	}
	ho_key(k1);
	assert_int_equal(refund(id, k1, "{\"amount\": 1, \"reason\": \"again\"}"), 409);
	/* staff see both refunds and the payment refunded in full */
	{
		char path[96];
		struct h_resp r;
		json_object *j, *items;

		snprintf(path, sizeof path, "/api/v1/admin/orders/%s/refunds", id);
		r = hc_staff("GET", path, NULL, NULL);
		assert_int_equal(r.status, 200);
		j = h_json(&r);
		items = hc_jget(j, "items");
		assert_int_equal(json_object_array_length(items), 2);
		assert_string_equal(hc_jstr(json_object_array_get_idx(items, 0), "status"), "refunded");
		assert_string_equal(hc_jstr(json_object_array_get_idx(items, 1), "status"), "refunded");
		json_object_put(j);
		h_resp_free(&r);
		snprintf(path, sizeof path, "/api/v1/admin/orders/%s/payments", id);
		r = hc_staff("GET", path, NULL, NULL);
		assert_int_equal(r.status, 200);
		j = h_json(&r);
		items = hc_jget(j, "items");
		assert_int_equal(json_object_array_length(items), 1);
		assert_non_null(strstr(r.body, "\"refunded\":156000"));
		json_object_put(j);
		h_resp_free(&r);
		r = ho_req(&c, "GET", path, NULL, NULL);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
}

/* the order was cancelled before the payment landed: recorded, refunded */
static void test_payment_after_cancel(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], path[96], f[160];
	json_object *a;
	struct h_resp r;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	snprintf(path, sizeof path, "/api/v1/orders/%s/cancel", id);
	r = ho_req(&c, "POST", path, NULL, NULL);
	assert_true(r.status == 200);
	h_resp_free(&r);
	assert_order(&c, id, "cancelled", "unpaid");
	a = act(tran, "pay", "");
	assert_int_equal(act_ipn_status(a, 0), 200);
	json_object_put(a);
	assert_int_equal(payments_of(id), 1);
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"applied\": \"late\"}", id);
	assert_int_equal(h_db_count("payments", f), 1);
	assert_true(refunds_wait(id, "refunded", 1, 20000));
	assert_true(order_wait(&c, id, "cancelled", "refunded", 5000));
	{
		static const long long amounts[] = { 156000 };
		static const char *const states[] = { "refunded" };
		char number[40];

		assert_refund_mirror(&c, id, 1, amounts, "BDT", states, 156000);
		order_number(&c, id, number);
		assert_mails(c.email, MAIL_REFUND_REQUESTED, number, 1);
		assert_mails(c.email, MAIL_REFUNDED, number, 1);
	}
}

/* the expiry sweep cancels the unpaid order, then the customer pays:
 * recorded, refunded automatically, staff told */
static void test_payment_after_expiry(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], f[160], number[40], *mail;
	json_object *a;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	order_number(&c, id, number);
	snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}}", id);
	h_db_update("orders", f, "{\"$set\": {\"expires_at\": {\"$date\": \"2020-01-01T00:00:00Z\"}}}");
	/* the orders module's sweep runs every 60 s in the job worker */
	assert_true(order_wait(&c, id, "cancelled", "unpaid", 75000));
	a = act(tran, "pay", "");
	assert_int_equal(act_ipn_status(a, 0), 200);
	json_object_put(a);
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"applied\": \"late\"}", id);
	assert_int_equal(h_db_count("payments", f), 1);
	assert_true(refunds_wait(id, "refunded", 1, 20000));
	assert_true(order_wait(&c, id, "cancelled", "refunded", 5000));
	mail = h_mail_wait(getenv("STACK_STAFF_EMAIL") ? getenv("STACK_STAFF_EMAIL") : "staff@localhost",
			   tran, 15000);
	assert_non_null(mail);
	assert_non_null(strstr(mail, number));
	free(mail);
	mail = h_mail_wait(c.email, "We have refunded", 15000);
	assert_non_null(mail);
	free(mail);
}

/* staff cancel a paid order: the rest of its payment is refunded, once */
static void test_cancel_paid_refunds(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], path[96], k[33];
	json_object *a;
	struct h_resp r;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	a = act(tran, "pay", "");
	json_object_put(a);
	assert_order(&c, id, "processing", "paid");
	/* part of it refunded by hand first */
	ho_key(k);
	assert_int_equal(refund(id, k, "{\"amount\": 6000, \"reason\": \"shipping waived\"}"), 202);
	assert_true(refunds_wait(id, "refunded", 1, 20000));
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/transitions", id);
	r = hc_staff("POST", path, "{\"to\": \"cancelled\", \"note\": \"out of stock\"}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_order(&c, id, "cancelled", "refund_requested");
	assert_true(refunds_wait(id, "refunded", 2, 30000));
	assert_true(order_wait(&c, id, "cancelled", "refunded", 5000));
	/* the rest, exactly: 1560.00 - 60.00 */
	{
		char f[200];

		snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"amount\": 150000,"
			 " \"status\": \"refunded\"}", id);
		assert_int_equal(h_db_count("refunds", f), 1);
		/* the sweep marked the order: it is not looked at again */
		snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}, \"cancel_refund_id\":"
			 " {\"$type\": \"objectId\"}}", id);
		assert_int_equal(h_db_count("orders", f), 1);
	}
	{
		static const long long amounts[] = { 6000, 150000 };
		static const char *const states[] = { "refunded", "refunded" };

		assert_refund_mirror(&c, id, 2, amounts, "BDT", states, 156000);
	}
	h_sleep_ms(6000); /* another sweep or two: still two refunds */
	{
		char f[120];

		snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}}", id);
		assert_int_equal(h_db_count("refunds", f), 2);
	}
}

/* a received return of a card order: the lines' share is refunded once */
static void test_return_refunds(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], rid[25], path[200], body[256], f[200];
	json_object *a, *j;
	struct h_resp r;
	long long share;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	a = act(tran, "pay", "");
	json_object_put(a);
	assert_order(&c, id, "processing", "paid");
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/transitions", id);
	r = hc_staff("POST", path, "{\"to\": \"shipped\", \"carrier\": \"pathao\", \"tracking_number\": \"P1\"}",
		     NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = hc_staff("POST", path, "{\"to\": \"delivered\"}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/orders/%s/returns", id);
	snprintf(body, sizeof body, "{\"items\": [{\"sku\": \"%s\", \"quantity\": 1}], \"reason\": \"too big\"}",
		 ho_sku("PS1"));
	r = ho_req(&c, "POST", path, body, NULL);
	if (r.status != 201)
		fail_msg("return: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(rid, sizeof rid, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/returns/%s/approve", id, rid);
	r = hc_staff("POST", path, "{}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/returns/%s/receive", id, rid);
	r = hc_staff("POST", path, "{\"lines\": [{\"sku\": \"PS1\", \"restock\": true}]}", NULL);
	if (r.status != 200)
		fail_msg("receive: %ld %s", r.status, r.body);
	j = h_json(&r);
	share = (long long)json_object_get_int64(hc_jget(j, "refund_amount"));
	json_object_put(j);
	h_resp_free(&r);
	assert_true(share > 0 && share <= 156000);
	assert_true(refunds_wait(id, "refunded", 1, 20000));
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"amount\": %lld}", id, share);
	assert_int_equal(h_db_count("refunds", f), 1);
	h_sleep_ms(6000); /* later sweeps: still one refund */
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}}", id);
	assert_int_equal(h_db_count("refunds", f), 1);
}

/* A paid order (BDT 1560.00) of a new customer; its number into number. */
static void paid_order(struct ho_customer *c, char id[25], char tran[40], char number[40])
{
	json_object *a;

	ho_customer_new(c, false);
	order_new(c, "sslcommerz", id);
	assert_int_equal(session(c, id, tran), 201);
	a = act(tran, "pay", "");
	assert_int_equal(act_ipn_status(a, 0), 200);
	json_object_put(a);
	assert_order(c, id, "processing", "paid");
	order_number(c, id, number);
}

/* A refund request with these headers (NULL: admin's, JSON) and body. */
static long refund_raw(const char *id, const char *const *h, const char *body)
{
	char path[128];
	struct h_resp r;
	long st;

	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/refunds", id);
	r = h_request("POST", path, body, body ? strlen(body) : 0, h);
	st = r.status;
	if (st >= 400)
		h_assert_problem(&r, st);
	h_resp_free(&r);
	return st;
}

/* refunds refused for bad input: clear 4xx, no refund, the order unchanged */
static void test_refund_bad_input(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], number[40], k[33], hk[80], f[120];
	const char *h[] = { admin_auth, "Content-Type: application/json", hk, NULL };
	const char *no_key[] = { admin_auth, "Content-Type: application/json", NULL };
	static const char *const bodies[] = {
		"{\"amount\": 0, \"reason\": \"zero\"}",
		"{\"amount\": -5, \"reason\": \"negative\"}",
		"{\"amount\": \"100\", \"reason\": \"text\"}",
		"{\"amount\": 1.5, \"reason\": \"fraction\"}",
		"{\"amount\": 100}",
		"{\"amount\": 100, \"reason\": \"\"}",
		"{\"amount\": 100, \"reason\": \"x\", \"method\": \"manual\"}",
		"{\"amount\": 100, \"reason\": \"x\", \"$set\": {\"refunded\": 0}}",
		"{\"amount\": 9223372036854775808, \"reason\": \"overflow\"}",
		"[100]",
	};

	(void)state;
	paid_order(&c, id, tran, number);
	ho_key(k);
	snprintf(hk, sizeof hk, "Idempotency-Key: %s", k);
	assert_int_equal(refund_raw(id, no_key, "{\"amount\": 100, \"reason\": \"no key\"}"), 428);
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		long st = refund_raw(id, h, bodies[i]);

		if (st != 400)
			fail_msg("%s answered %ld (wanted 400)", bodies[i], st);
	}
	/* every fault of one body at once, each with its code */
	{
		char path[128];
		const char *body = "{\"amount\": \"x\", \"reason\": \"\", \"method\": \"manual\"}";
		struct h_resp r;

		snprintf(path, sizeof path, "/api/v1/admin/orders/%s/refunds", id);
		r = h_request("POST", path, body, strlen(body), h);
		h_assert_problem_errors(&r, 400,
					"method:unknown_field amount:invalid_type reason:too_short");
		h_resp_free(&r);
	}
	/* no such order, a malformed id, a customer */
	assert_int_equal(refund_raw("0123456789abcdef01234567", h, "{\"amount\": 100, \"reason\": \"x\"}"), 404);
	assert_int_equal(refund_raw("not-an-order", h, "{\"amount\": 100, \"reason\": \"x\"}"), 404);
	{
		const char *ch[] = { c.auth, "Content-Type: application/json", hk, NULL };

		assert_int_equal(refund_raw(id, ch, "{\"amount\": 100, \"reason\": \"mine\"}"), 403);
	}
	/* an unpaid order has nothing to refund */
	{
		char other[25];

		order_new(&c, "sslcommerz", other);
		assert_int_equal(refund_raw(other, h, "{\"amount\": 100, \"reason\": \"x\"}"), 409);
	}
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}}", id);
	assert_int_equal(h_db_count("refunds", f), 0);
	assert_order(&c, id, "processing", "paid");
	{
		json_object *j = order_view(&c, id, false);

		assert_int_equal(json_object_array_length(hc_jget(j, "refunds")), 0);
		assert_int_equal(json_object_get_int64(hc_jget(j, "refunded_total")), 0);
		json_object_put(j);
	}
}


/* a refund the bank cancels and one the gateway refuses: each state on the
 * order and mailed once; their amounts can be refunded again */
static void test_refund_cancelled_and_failed(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], number[40], k[33], f[200];

	(void)state;
	paid_order(&c, id, tran, number);
	ho_key(k);
	/* the stand-in's bank cancels a refund whose remarks say cancel-me */
	assert_int_equal(refund(id, k, "{\"amount\": 156000, \"reason\": \"cancel-me: wrong card\"}"), 202);
	assert_true(refunds_wait(id, "cancelled", 1, 20000));
	{
		static const long long amounts[] = { 156000 };
		static const char *const states[] = { "cancelled" };

		assert_refund_mirror(&c, id, 1, amounts, "BDT", states, 0);
	}
	assert_order(&c, id, "processing", "paid");
	/* the reservation went back: the whole amount can be asked again; the
	 * stand-in's gateway refuses one whose remarks say fail-me */
	ho_key(k);
	assert_int_equal(refund(id, k, "{\"amount\": 156000, \"reason\": \"fail-me: try again\"}"), 202);
	assert_true(refunds_wait(id, "failed", 1, 20000));
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"refund_reserved\": 0}", id);
	assert_int_equal(h_db_count("payments", f), 1);
	{
		static const long long amounts[] = { 156000, 156000 };
		static const char *const states[] = { "cancelled", "failed" };

		assert_refund_mirror(&c, id, 2, amounts, "BDT", states, 0);
	}
	ho_key(k);
	assert_int_equal(refund(id, k, "{\"amount\": 156000, \"reason\": \"the whole order\"}"), 202);
	assert_true(refunds_wait(id, "refunded", 1, 20000));
	assert_true(order_wait(&c, id, "processing", "refunded", 5000));
	{
		static const long long amounts[] = { 156000, 156000, 156000 };
		static const char *const states[] = { "cancelled", "failed", "refunded" };

		assert_refund_mirror(&c, id, 3, amounts, "BDT", states, 156000);
	}
	/* three requested, two stopped, one refunded: each mailed once */
	assert_mails(c.email, MAIL_REFUND_REQUESTED, number, 3);
	assert_mails(c.email, MAIL_REFUND_STOPPED, number, 2);
	assert_mails(c.email, MAIL_REFUNDED, number, 1);
}

struct refund_race {
	const char *id;
	char keys[8][33];
	const char *body;
	long status[8];
	bool replayed[8];
	char loc[8][160];
};

static void refund_race_one(int i, void *varg)
{
	struct refund_race *r = varg;

	r->status[i] = refund_loc(r->id, r->keys[i], r->body, r->loc[i], &r->replayed[i]);
}

/* refunds at once never exceed the payment; one key at once is one refund */
static void test_refunds_concurrent(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], number[40], f[200];
	struct refund_race race;
	int accepted = 0, refused = 0;

	(void)state;
	paid_order(&c, id, tran, number);
	/* 8 admins refund 600.00 each of 1560.00 at once: two fit */
	race.id = id;
	race.body = "{\"amount\": 60000, \"reason\": \"at once\"}";
	for (int i = 0; i < 8; i++)
		ho_key(race.keys[i]);
	h_parallel(8, refund_race_one, &race);
	for (int i = 0; i < 8; i++) {
		accepted += race.status[i] == 202;
		refused += race.status[i] == 409;
	}
	if (accepted != 2 || refused != 6)
		fail_msg("%d accepted, %d refused (wanted 2 and 6)", accepted, refused);
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}}", id);
	assert_int_equal(h_db_count("refunds", f), 2);
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"refund_reserved\": 120000}", id);
	assert_int_equal(h_db_count("payments", f), 1);
	/* one key sent 8 times at once: one refund, the rest see it (its 202
	 * and Location again, marked replayed) or find it running (409) */
	ho_key(race.keys[0]);
	for (int i = 1; i < 8; i++)
		memcpy(race.keys[i], race.keys[0], sizeof race.keys[0]);
	race.body = "{\"amount\": 100, \"reason\": \"one key\"}";
	h_parallel(8, refund_race_one, &race);
	accepted = 0;
	for (int i = 0; i < 8; i++) {
		assert_true(race.status[i] == 202 || race.status[i] == 409);
		accepted += race.status[i] == 202 && !race.replayed[i];
	}
	assert_int_equal(accepted, 1);
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 8; k++)
			if (race.status[i] == 202 && race.status[k] == 202)
				assert_string_equal(race.loc[i], race.loc[k]);
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}}", id);
	assert_int_equal(h_db_count("refunds", f), 3);
	assert_true(refunds_wait(id, "refunded", 3, 30000));
	{
		static const long long amounts[] = { 60000, 60000, 100 };
		static const char *const states[] = { "refunded", "refunded", "refunded" };

		assert_refund_mirror(&c, id, 3, amounts, "BDT", states, 120100);
	}
	assert_order(&c, id, "processing", "paid");
}

/* "12.34" from minor units, as the shop writes amounts to the gateway */
static void money_text(long long minor, char out[32])
{
	snprintf(out, 32, "%lld.%02lld", minor / 100, minor % 100);
}

static int usd_teardown(void **state)
{
	(void)state;
	return h_stack_reconfigure(NULL) ? 0 : -1;
}

/* a shop in USD: the gateway converts to BDT; the charged currency and
 * amount (currency_type, currency_amount) must be the order's exactly */
static void test_currency_usd(void **state)
{
	struct ho_customer c;
	char uprod[25], id[25], tran[40], body[256], key[33], amount[32], f[240], *form;
	long long total;
	json_object *j, *a;
	struct h_resp r;

	(void)state;
	assert_true(h_stack_reconfigure("EMPORIUM_CURRENCY=USD\n"));
	ho_product("Dollar Shirt",
		   "[{\"sku\": \"US1\", \"options\": {\"size\": \"L\", \"color\": \"navy\"},"
		   " \"price\": 1999, \"stock\": 50}]",
		   uprod);
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("US1"), 1);
	snprintf(body, sizeof body, "{\"shipping_address_id\": \"%s\", \"payment_method\": \"sslcommerz\"}",
		 c.address);
	ho_key(key);
	r = ho_place(&c, key, body);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	assert_string_equal(hc_jstr(j, "currency"), "USD");
	total = (long long)json_object_get_int64(hc_jget(j, "total"));
	json_object_put(j);
	h_resp_free(&r);
	assert_true(total > 1999);
	money_text(total, amount);
	assert_int_equal(session(&c, id, tran), 201);
	/* the session asked for the order's own currency and amount */
	r = standin("GET", "/_standin/sessions", NULL);
	snprintf(f, sizeof f, "\"tran_id\":\"%s\",\"state\":\"open\",\"val_id\":null,"
		 "\"total_amount\":\"%s\",\"currency\":\"USD\"", tran, amount);
	if (!strstr(r.body, f))
		fail_msg("no session %s in %s", f, r.body);
	h_resp_free(&r);
	/* charged in EUR: refused, nothing changes */
	a = act(tran, "pay", "\"drop_ipn\": true, \"currency\": \"EUR\"");
	assert_string_equal(hc_jstr(hc_jget(a, "form"), "currency"), "BDT");
	assert_string_equal(hc_jstr(hc_jget(a, "form"), "currency_type"), "EUR");
	form = form_encode(a);
	json_object_put(a);
	refused_ipn(&c, id, form, 400);
	free(form);
	/* one cent less: refused */
	{
		char less[32], opt[80];

		money_text(total - 1, less);
		snprintf(opt, sizeof opt, "\"drop_ipn\": true, \"again\": true, \"amount\": \"%s\"", less);
		a = act(tran, "pay", opt);
		form = form_encode(a);
		json_object_put(a);
		refused_ipn(&c, id, form, 400);
		free(form);
	}
	/* the right amount in USD (converted to BDT by the gateway): paid */
	a = act(tran, "pay", "\"again\": true");
	assert_string_equal(hc_jstr(hc_jget(a, "form"), "currency"), "BDT");
	assert_string_equal(hc_jstr(hc_jget(a, "form"), "currency_amount"), amount);
	assert_int_equal(act_ipn_status(a, 0), 200);
	json_object_put(a);
	assert_order(&c, id, "processing", "paid");
	snprintf(f, sizeof f, "{\"order_id\": {\"$oid\": \"%s\"}, \"amount\": %lld, \"currency\": \"USD\"}",
		 id, total);
	assert_int_equal(h_db_count("payments", f), 1);
	/* a partial refund in USD: 10.00 asked of the gateway, mirrored in USD */
	ho_key(key);
	assert_int_equal(refund(id, key, "{\"amount\": 1000, \"reason\": \"late delivery\"}"), 202);
	assert_true(refunds_wait(id, "refunded", 1, 20000));
	r = standin("GET", "/_standin/calls", NULL);
	assert_non_null(strstr(r.body, "\"refund_amount\":\"10.00\""));
	h_resp_free(&r);
	{
		static const long long amounts[] = { 1000 };
		static const char *const states[] = { "refunded" };

		assert_refund_mirror(&c, id, 1, amounts, "USD", states, 1000);
	}
}

/*
 * More cancelled paid orders than a page of the sweep can be stuck behind:
 * 25 orders waiting (refund_requested) with nothing to refund come first,
 * and a real cancelled paid order after them still gets its refund.
 */
static void test_cancel_sweep_pages(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], number[40], doc[1400], path[96];
	struct h_resp r;
	long long base = (long long)h_now_s() % 100000000;

	(void)state;
	for (int i = 0; i < 25; i++) {
		snprintf(doc, sizeof doc,
			 "{\"number\": \"EM-2020-%010lld\", \"user_id\": {\"$oid\": \"%024x\"},"
			 " \"status\": \"cancelled\", \"payment_method\": \"sslcommerz\","
			 " \"payment_status\": \"refund_requested\", \"currency\": \"BDT\","
			 " \"lines\": [{\"sku\": \"SWEEP-%d\", \"quantity\": {\"$numberLong\": \"1\"},"
			 " \"unit_price\": {\"$numberLong\": \"1000\"}, \"line_total\": {\"$numberLong\": \"1000\"},"
			 " \"discount\": {\"$numberLong\": \"0\"}, \"tax\": {\"$numberLong\": \"0\"}}],"
			 " \"subtotal\": {\"$numberLong\": \"1000\"}, \"discount\": {\"$numberLong\": \"0\"},"
			 " \"shipping\": {\"$numberLong\": \"0\"}, \"tax\": {\"$numberLong\": \"0\"},"
			 " \"total\": {\"$numberLong\": \"1000\"}, \"version\": {\"$numberLong\": \"1\"},"
			 " \"sweep_test\": true, \"created_at\": {\"$date\": \"2020-01-01T00:00:00Z\"}}",
			 base * 100 + i, i + 1, i);
		h_db_insert_json("orders", doc);
	}
	paid_order(&c, id, tran, number);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/transitions", id);
	r = hc_staff("POST", path, "{\"to\": \"cancelled\", \"note\": \"cannot ship\"}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_true(refunds_wait(id, "refunded", 1, 30000));
	assert_true(order_wait(&c, id, "cancelled", "refunded", 5000));
	/* the 25 had nothing to refund: marked, so no pass reads them again */
	assert_int_equal(h_db_count("orders", "{\"sweep_test\": true,"
				    " \"cancel_refund_id\": {\"$type\": \"null\"}}"), 25);
	h_db_delete("orders", "{\"sweep_test\": true}");
}

/* COD: staff confirm, then record the cash, which must be the total */
static struct h_resp cod_collect(const char *path, const char *body)
{
	const char *h[] = { admin_auth, "Content-Type: application/json", NULL };

	return h_request("POST", path, body, strlen(body), h);
}

static void test_cod(void **state)
{
	struct ho_customer c;
	char id[25], path[96];
	struct h_resp r;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "cod", id);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/payments", id);
	/* before it is confirmed */
	r = cod_collect(path, "{\"method\": \"cod\", \"amount\": 156000}");
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/transitions", id);
	r = hc_staff("POST", path, "{\"to\": \"processing\"}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_order(&c, id, "processing", "unpaid");
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/payments", id);
	r = cod_collect(path, "{\"method\": \"cod\", \"amount\": 155999}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = cod_collect(path, "{\"method\": \"card\", \"amount\": 156000}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = cod_collect(path, "{\"method\": \"cod\", \"amount\": -156000}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = cod_collect(path, "{\"method\": \"cod\", \"amount\": \"156000\"}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = ho_req(&c, "POST", path, "{\"method\": \"cod\", \"amount\": 156000}", NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	assert_order(&c, id, "processing", "unpaid");
	r = cod_collect(path, "{\"method\": \"cod\", \"amount\": 156000}");
	assert_int_equal(r.status, 201);
	{
		/* 201 names what it made: the payment, as staff list it */
		char loc[160], want[96];
		json_object *j, *p;

		assert_true(h_header(&r, "Location", loc, sizeof loc));
		snprintf(want, sizeof want, "/api/v1/admin/orders/%s/payments/", id);
		assert_true(strncmp(loc, want, strlen(want)) == 0);
		p = h_json(&r);
		assert_string_equal(hc_jstr(p, "id"), strrchr(loc, '/') + 1);
		json_object_put(p);
		j = staff_at(loc, 156000);
		assert_string_equal(hc_jstr(j, "method"), "cod");
		json_object_put(j);
	}
	h_resp_free(&r);
	assert_order(&c, id, "processing", "paid");
	r = cod_collect(path, "{\"method\": \"cod\", \"amount\": 156000}");
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	assert_int_equal(payments_of(id), 1);
	/* cash given back by hand: recorded as done at once, never more than paid */
	{
		char k[33];

		ho_key(k);
		assert_int_equal(refund(id, k, "{\"amount\": 156001, \"reason\": \"too much\"}"), 409);
		ho_key(k);
		{
			const char *body = "{\"amount\": 156000, \"reason\": \"returned at the door\"}";
			char loc[160], loc2[160];
			bool replayed;
			json_object *j;

			assert_int_equal(refund_loc(id, k, body, loc, &replayed), 201);
			assert_false(replayed);
			j = staff_at(loc, 156000);
			assert_string_equal(hc_jstr(j, "status"), "refunded");
			json_object_put(j);
			/* a replay: 201 again, the same Location */
			assert_int_equal(refund_loc(id, k, body, loc2, &replayed), 201);
			assert_true(replayed);
			assert_string_equal(loc, loc2);
		}
		assert_true(refunds_wait(id, "refunded", 1, 1000));
		assert_order(&c, id, "processing", "refunded");
		ho_key(k);
		assert_int_equal(refund(id, k, "{\"amount\": 1, \"reason\": \"again\"}"), 409);
	}
	/* on the order at once; given back by hand, so one mail: refunded */
	{
		static const long long amounts[] = { 156000 };
		static const char *const states[] = { "refunded" };
		char number[40];

		assert_refund_mirror(&c, id, 1, amounts, "BDT", states, 156000);
		order_number(&c, id, number);
		assert_mails(c.email, MAIL_REFUNDED, number, 1);
		assert_mails(c.email, MAIL_REFUND_REQUESTED, number, 0);
	}
}

/* every call in the log, no secret anywhere in it (nor in the database) */
static void test_logs(void **state)
{
	struct ho_customer c;
	char id[25], tran[40], path[128], pw_md5[33];
	const char *pw = h_env("STACK_SSLCOMMERZ_PASSWORD");
	const char *h[] = { admin_auth, NULL };
	json_object *a, *j, *items;
	struct h_resp r;
	bool session_seen = false, ipn_seen = false, validation_seen = false;

	(void)state;
	ho_customer_new(&c, false);
	order_new(&c, "sslcommerz", id);
	assert_int_equal(session(&c, id, tran), 201);
	a = act(tran, "pay", "");
	json_object_put(a);
	assert_order(&c, id, "processing", "paid");
	snprintf(path, sizeof path, "/api/v1/admin/payments/logs?order_id=%s", id);
	r = h_request("GET", path, NULL, 0, h);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	items = hc_jget(j, "items");
	assert_non_null(items);
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		const char *kind = hc_jstr(json_object_array_get_idx(items, i), "kind");

		session_seen |= strcmp(kind, "session") == 0;
		ipn_seen |= strcmp(kind, "ipn") == 0;
		validation_seen |= strcmp(kind, "validation") == 0;
	}
	assert_true(session_seen && ipn_seen && validation_seen);
	assert_null(strstr(r.body, pw));
	assert_true(payments_md5_hex(pw, strlen(pw), pw_md5));
	assert_null(strstr(r.body, pw_md5));
	assert_non_null(strstr(r.body, "\"store_passwd\":\"***\""));
	json_object_put(j);
	h_resp_free(&r);
	/* nowhere in the database, in any collection */
	assert_int_equal(h_db_dump_count(pw, NULL), 0);
	assert_int_equal(h_db_dump_count(pw_md5, NULL), 0);
	/* nor in the servers' logs (the shop's and nginx's) */
	{
		char dir[512], file[1024];
		DIR *d;
		struct dirent *e;
		int files = 0;

		snprintf(dir, sizeof dir, "%s/logs", h_env("STACK_DIR"));
		d = opendir(dir);
		assert_non_null(d);
		while ((e = readdir(d))) {
			char *text;

			/* the stand-in's own log is the gateway's side */
			if (e->d_name[0] == '.' || strncmp(e->d_name, "sslcommerz", 10) == 0)
				continue;
			snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
			text = h_file_read(file, NULL);
			if (!text)
				continue;
			files++;
			if (strstr(text, pw) || strstr(text, pw_md5))
				fail_msg("%s holds the store password", file);
			free(text);
		}
		closedir(d);
		assert_true(files >= 3);
	}
	/* customers cannot read the log */
	r = ho_req(&c, "GET", path, NULL, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pay_end_to_end),
		cmocka_unit_test(test_pay_hosted_page),
		cmocka_unit_test(test_ipn_replay_concurrent),
		cmocka_unit_test(test_ipn_and_success_race),
		cmocka_unit_test(test_success_before_ipn),
		cmocka_unit_test(test_tampered_and_mismatched),
		cmocka_unit_test(test_risky),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_dropped_ipn_reconciled),
		cmocka_unit_test(test_validation_down_then_up),
		cmocka_unit_test(test_gateway_slow),
		cmocka_unit_test(test_refunds),
		cmocka_unit_test(test_payment_after_cancel),
		cmocka_unit_test(test_payment_after_expiry),
		cmocka_unit_test(test_cancel_paid_refunds),
		cmocka_unit_test(test_return_refunds),
		cmocka_unit_test(test_refund_cancelled_and_failed),
		cmocka_unit_test(test_refunds_concurrent),
		cmocka_unit_test(test_refund_bad_input),
		cmocka_unit_test_teardown(test_currency_usd, usd_teardown),
		cmocka_unit_test(test_cancel_sweep_pages),
		cmocka_unit_test(test_cod),
		cmocka_unit_test(test_logs),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("payments", tests, suite_setup, NULL);
	h_cleanup();
	return rc;
}
