/*
 * Integration tests for inventory through the real stack: adjustments
 * (validation, never below zero, audit records), the 100-way race on
 * stock 50, one low-stock alert job per downward crossing, the low-stock
 * list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static char staff_tok[2048], staff_auth[2200], tag[32];

static struct h_resp staff(const char *method, const char *path, const char *body)
{
	const char *h[] = { staff_auth, "Content-Type: application/json", NULL };

	return h_request(method, path, body, body ? strlen(body) : 0, h);
}

/* A product with one variant SKU-<tag>-<name>. */
static void make_product(const char *name, int stock, int threshold, char *sku, size_t size)
{
	char body[1024];
	struct h_resp r;

	snprintf(sku, size, "INV-%s-%s", name, tag);
	snprintf(body, sizeof(body),
		 "{\"title\": \"Inventory %s\", \"slug\": \"inv-%s-%s\", \"status\": \"active\","
		 " \"variants\": [{\"sku\": \"%s\", \"options\": {\"size\": \"M\"}, \"price\": 100,"
		 " \"stock\": %d, \"low_stock_threshold\": %d}]}",
		 name, name, tag, sku, stock, threshold);
	r = staff("POST", "/api/v1/admin/products", body);
	if (r.status != 201)
		fprintf(stderr, "%s\n", r.body);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
}

static long adjust(const char *sku, int delta, long *stock_out)
{
	char body[256];
	struct h_resp r;
	long status;

	snprintf(body, sizeof(body), "{\"sku\": \"%s\", \"delta\": %d, \"reason\": \"test\"}", sku,
		 delta);
	r = staff("POST", "/api/v1/admin/inventory/adjustments", body);
	status = r.status;
	if (status == 201 && stock_out) {
		json_object *j = h_json(&r), *v;

		assert_true(json_object_object_get_ex(j, "stock", &v));
		*stock_out = (long)json_object_get_int64(v);
		json_object_put(j);
	}
	if (status != 201 && status != 409)
		fprintf(stderr, "adjust %s %d: %ld %s\n", sku, delta, status, r.body);
	h_resp_free(&r);
	return status;
}

static long variant_stock(const char *sku)
{
	char filter[256];

	/* counts the product only if the variant holds exactly that stock */
	for (long s = 0; s <= 200; s++) {
		snprintf(filter, sizeof(filter),
			 "{\"variants\": {\"$elemMatch\": {\"sku\": \"%s\", \"stock\": %ld}}}", sku, s);
		if (h_db_count("products", filter) == 1)
			return s;
	}
	return -1;
}

static void test_adjust_basic(void **state)
{
	char sku[96], filter[256];
	long stock = -1;
	struct h_resp r;

	(void)state;
	make_product("basic", 10, 2, sku, sizeof(sku));
	assert_int_equal(adjust(sku, -3, &stock), 201);
	assert_int_equal(stock, 7);
	assert_int_equal(adjust(sku, 5, &stock), 201);
	assert_int_equal(stock, 12);
	assert_int_equal(adjust(sku, -13, NULL), 409); /* never below zero */
	assert_int_equal(variant_stock(sku), 12);
	snprintf(filter, sizeof(filter), "{\"sku\": \"%s\", \"reason\": \"test\"}", sku);
	assert_int_equal(h_db_count("inventory_adjustments", filter), 2);

	r = staff("POST", "/api/v1/admin/inventory/adjustments",
		  "{\"sku\": \"NO-SUCH-SKU-X\", \"delta\": 1, \"reason\": \"x\"}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	{
		const char *bad[] = {
			"{\"delta\": 1, \"reason\": \"x\"}",
			"{\"sku\": \"A\", \"delta\": 0, \"reason\": \"x\"}",
			"{\"sku\": \"A\", \"delta\": 1.5, \"reason\": \"x\"}",
			"{\"sku\": \"A\", \"delta\": \"1\", \"reason\": \"x\"}",
			"{\"sku\": \"A\", \"delta\": 99999999, \"reason\": \"x\"}",
			"{\"sku\": \"A\", \"delta\": 1, \"reason\": \"\"}",
			"{\"sku\": \"A\", \"delta\": 1}",
			"{\"sku\": {\"$ne\": 1}, \"delta\": 1, \"reason\": \"x\"}",
			"{\"sku\": \"A\", \"delta\": 1, \"reason\": \"x\", \"extra\": 1}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = staff("POST", "/api/v1/admin/inventory/adjustments", bad[i]);
			h_assert_problem(&r, 400);
			h_resp_free(&r);
		}
	}
}

/*
 * A SKU holding "\u0000" is refused naming the field;
 * it used to be read up to the NUL and adjust the SKU before it.
 */
static void test_sku_with_nul_refused(void **state)
{
	char sku[96], body[256], filter[256];
	struct h_resp r;

	(void)state;
	make_product("nul", 10, 2, sku, sizeof(sku));
	snprintf(body, sizeof(body),
		 "{\"sku\": \"%s\\u0000x\", \"delta\": -4, \"reason\": \"test\"}", sku);
	r = staff("POST", "/api/v1/admin/inventory/adjustments", body);
	h_assert_problem_field(&r, 400, "sku");
	h_resp_free(&r);
	assert_int_equal(variant_stock(sku), 10);
	snprintf(filter, sizeof(filter), "{\"sku\": \"%s\"}", sku);
	assert_int_equal(h_db_count("inventory_adjustments", filter), 0);
	/* the same SKU without the NUL is adjusted: the refusal was the NUL */
	assert_int_equal(adjust(sku, -4, NULL), 201);
	assert_int_equal(variant_stock(sku), 6);
}

struct race_arg {
	const char *sku;
	long status;
};

static void *race_one(void *p)
{
	struct race_arg *a = p;

	a->status = adjust(a->sku, -1, NULL);
	return NULL;
}

static void test_race(void **state)
{
	enum { N = 100 };
	char sku[96];
	pthread_t th[N];
	struct race_arg args[N];
	int ok = 0, conflict = 0;

	(void)state;
	make_product("race", 50, 0, sku, sizeof(sku));
	for (int i = 0; i < N; i++) {
		args[i].sku = sku;
		args[i].status = 0;
		assert_int_equal(pthread_create(&th[i], NULL, race_one, &args[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		if (args[i].status == 201)
			ok++;
		else if (args[i].status == 409)
			conflict++;
	}
	fprintf(stderr, "  race: %d succeeded, %d refused\n", ok, conflict);
	assert_int_equal(ok, 50);
	assert_int_equal(conflict, 50);
	assert_int_equal(variant_stock(sku), 0);
}

/* POST an adjustment with an Idempotency-Key; the answer, for the caller to free. */
static struct h_resp adjust_keyed(const char *sku, int delta, const char *reason, const char *key)
{
	char body[256], hk[300];
	const char *h[] = { staff_auth, "Content-Type: application/json", hk, NULL };

	snprintf(body, sizeof(body), "{\"sku\": \"%s\", \"delta\": %d, \"reason\": \"%s\"}", sku,
		 delta, reason);
	snprintf(hk, sizeof hk, "Idempotency-Key: %s", key);
	return h_request("POST", "/api/v1/admin/inventory/adjustments", body, strlen(body), h);
}

struct keyed_arg {
	const char *sku, *key;
	long status;
	char id[32];
};

static void keyed_one(int i, void *p)
{
	struct keyed_arg *a = (struct keyed_arg *)p + i;
	struct h_resp r = adjust_keyed(a->sku, -3, "recount", a->key);

	a->status = r.status;
	if (r.status == 201)
		h_jstr(&r, "id", a->id, sizeof a->id);
	h_resp_free(&r);
}

/*
 * An Idempotency-Key moves stock once: a retry gets the first answer
 * again (Idempotent-Replayed, same id, same figures), another body with
 * the key is a 422, and 12 parallel requests with one key make exactly
 * one adjustment. Location names the adjustment, which reads back.
 */
static void test_adjust_idempotency_key(void **state)
{
	enum { N = 12 };
	char sku[96], key[64], filter[256], loc[160], id[32], replay_id[32], first[512];
	struct keyed_arg args[N];
	struct h_resp r;

	(void)state;
	make_product("idem", 40, 0, sku, sizeof(sku));
	snprintf(key, sizeof key, "adj-%s-1", tag);
	r = adjust_keyed(sku, -5, "damaged", key);
	assert_int_equal(r.status, 201);
	assert_true(h_header(&r, "Location", loc, sizeof loc));
	h_jstr(&r, "id", id, sizeof id);
	assert_int_equal(strlen(id), 24);
	assert_false(h_header(&r, "Idempotent-Replayed", first, sizeof first));
	snprintf(first, sizeof first, "%s", r.body);
	h_resp_free(&r);
	assert_int_equal(variant_stock(sku), 35);
	/* the retry: the same answer, nothing moved */
	r = adjust_keyed(sku, -5, "damaged", key);
	assert_int_equal(r.status, 201);
	assert_true(h_header(&r, "Idempotent-Replayed", filter, sizeof filter));
	h_jstr(&r, "id", replay_id, sizeof replay_id);
	assert_string_equal(replay_id, id);
	assert_string_equal(r.body, first);
	h_resp_free(&r);
	assert_int_equal(variant_stock(sku), 35);
	/* the key with another body */
	r = adjust_keyed(sku, -6, "damaged", key);
	h_assert_problem_errors(&r, 422, "Idempotency-Key:rule_violation");
	h_resp_free(&r);
	assert_int_equal(variant_stock(sku), 35);
	/* Location reads the adjustment back */
	r = staff("GET", loc, NULL);
	assert_int_equal(r.status, 200);
	h_jstr(&r, "id", replay_id, sizeof replay_id);
	assert_string_equal(replay_id, id);
	assert_non_null(strstr(r.body, "\"reason\":\"damaged\""));
	assert_null(strstr(r.body, "idem_key"));
	h_resp_free(&r);
	r = staff("GET", "/api/v1/admin/inventory/adjustments/0123456789abcdef01234567", NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* a malformed key changes nothing */
	r = adjust_keyed(sku, -1, "x", "has space");
	h_assert_problem_errors(&r, 400, "Idempotency-Key:invalid_format");
	h_resp_free(&r);
	/* in parallel: one key, one adjustment, every answer the same one */
	snprintf(key, sizeof key, "adj-%s-2", tag);
	for (int i = 0; i < N; i++) {
		args[i].sku = sku;
		args[i].key = key;
		args[i].status = 0;
		args[i].id[0] = '\0';
	}
	h_parallel(N, keyed_one, args);
	for (int i = 0; i < N; i++) {
		if (args[i].status != 201)
			fprintf(stderr, "  keyed %d: %ld\n", i, args[i].status);
		/* a retry may be told the first still runs (409); none moves stock */
		assert_true(args[i].status == 201 || args[i].status == 409);
		if (args[i].status == 201)
			assert_string_equal(args[i].id, args[0].status == 201 ? args[0].id : args[i].id);
	}
	assert_int_equal(variant_stock(sku), 32);
	snprintf(filter, sizeof(filter), "{\"sku\": \"%s\", \"reason\": \"recount\"}", sku);
	assert_int_equal(h_db_count("inventory_adjustments", filter), 1);
}

/* The adjustment log: one SKU's entries newest first across pages, each
 * once; an unknown parameter or a bad SKU is a 400. */
static void test_adjustment_list(void **state)
{
	char sku[96], path[256], cursor[64] = "";
	long deltas[5] = { 2, -1, 3, -2, 4 }, seen = 0;
	struct h_resp r;

	(void)state;
	make_product("log", 10, 0, sku, sizeof(sku));
	for (int i = 0; i < 5; i++)
		assert_int_equal(adjust(sku, (int)deltas[i], NULL), 201);
	do {
		json_object *o, *items, *next;

		snprintf(path, sizeof path, "/api/v1/admin/inventory/adjustments?sku=%s&limit=2%s%s",
			 sku, cursor[0] ? "&cursor=" : "", cursor);
		r = staff("GET", path, NULL);
		assert_int_equal(r.status, 200);
		o = h_json(&r);
		assert_true(json_object_object_get_ex(o, "items", &items));
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			json_object *it = json_object_array_get_idx(items, i), *d, *k;

			assert_true(json_object_object_get_ex(it, "delta", &d));
			assert_true(json_object_object_get_ex(it, "sku", &k));
			assert_string_equal(json_object_get_string(k), sku);
			/* newest first: the deltas in reverse order of making */
			assert_true(seen < 5);
			assert_int_equal(json_object_get_int64(d), deltas[4 - seen]);
			seen++;
		}
		cursor[0] = '\0';
		if (json_object_object_get_ex(o, "next_cursor", &next) &&
		    json_object_is_type(next, json_type_string))
			snprintf(cursor, sizeof cursor, "%s", json_object_get_string(next));
		json_object_put(o);
		h_resp_free(&r);
	} while (cursor[0]);
	assert_int_equal(seen, 5);
	r = staff("GET", "/api/v1/admin/inventory/adjustments?sku=a%20b", NULL);
	h_assert_problem_errors(&r, 400, "sku:invalid_format");
	h_resp_free(&r);
	r = staff("GET", "/api/v1/admin/inventory/adjustments?product=1", NULL);
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = h_get("/api/v1/admin/inventory/adjustments");
	h_assert_problem(&r, 401);
	h_resp_free(&r);
}

/*
 * Walks the whole low-stock list, limit items a page, following
 * next_cursor. Counts how often sku appears (as a variant's SKU) and
 * fails on any SKU listed twice; returns the number of pages.
 */
static int low_stock_walk(int limit, const char *sku, int *seen)
{
	char path[1024], cursor[512] = "";
	static char skus[4096][96];
	int nskus = 0, pages = 0;

	*seen = 0;
	do {
		struct h_resp r;
		json_object *o, *items, *next;

		if (cursor[0])
			snprintf(path, sizeof(path), "/api/v1/admin/inventory/low-stock?limit=%d&cursor=%s",
				 limit, cursor);
		else
			snprintf(path, sizeof(path), "/api/v1/admin/inventory/low-stock?limit=%d", limit);
		r = staff("GET", path, NULL);
		assert_int_equal(r.status, 200);
		o = h_json(&r);
		assert_true(json_object_object_get_ex(o, "items", &items));
		assert_true((int)json_object_array_length(items) <= limit);
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			json_object *it = json_object_array_get_idx(items, i), *vars;

			assert_true(json_object_object_get_ex(it, "variants", &vars));
			for (size_t k = 0; k < json_object_array_length(vars); k++) {
				json_object *v = json_object_array_get_idx(vars, k), *s;
				const char *vs;

				assert_true(json_object_object_get_ex(v, "sku", &s));
				vs = json_object_get_string(s);
				for (int j = 0; j < nskus; j++)
					if (strcmp(skus[j], vs) == 0)
						fail_msg("%s listed twice (page %d)", vs, pages + 1);
				if (nskus < 4096)
					snprintf(skus[nskus++], sizeof(skus[0]), "%s", vs);
				if (sku && strcmp(vs, sku) == 0)
					(*seen)++;
			}
		}
		cursor[0] = '\0';
		assert_true(json_object_object_get_ex(o, "next_cursor", &next));
		if (json_object_is_type(next, json_type_string))
			snprintf(cursor, sizeof(cursor), "%s", json_object_get_string(next));
		else
			assert_true(json_object_is_type(next, json_type_null));
		json_object_put(o);
		h_resp_free(&r);
		pages++;
		assert_true(pages < 5000);
	} while (cursor[0]);
	return pages;
}

static void test_low_stock_alert_once_per_crossing(void **state)
{
	char sku[96], filter[256];
	long stock;
	struct h_resp r;

	(void)state;
	make_product("alert", 8, 5, sku, sizeof(sku));
	snprintf(filter, sizeof(filter),
		 "{\"type\": \"email\", \"payload.template\": \"low_stock\","
		 " \"payload.vars.sku\": \"%s\"}", sku);
	assert_int_equal(adjust(sku, -2, &stock), 201); /* 6: still >= 5 */
	assert_int_equal(h_db_count("jobs", filter), 0);
	assert_int_equal(adjust(sku, -2, &stock), 201); /* 4: crossed */
	assert_int_equal(h_db_count("jobs", filter), 1);
	assert_int_equal(adjust(sku, -1, &stock), 201); /* 3: stays low */
	assert_int_equal(adjust(sku, -1, &stock), 201);
	assert_int_equal(h_db_count("jobs", filter), 1);
	r = staff("GET", "/api/v1/admin/inventory/low-stock?limit=100", NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, sku));
	h_resp_free(&r);
	{
		int seen;

		(void)low_stock_walk(100, sku, &seen);
		assert_int_equal(seen, 1);
		assert_int_equal(adjust(sku, 10, &stock), 201); /* 12: restocked */
		/* restocked: it leaves the list */
		(void)low_stock_walk(100, sku, &seen);
		assert_int_equal(seen, 0);
	}
	assert_int_equal(h_db_count("jobs", filter), 1);
	assert_int_equal(adjust(sku, -8, &stock), 201); /* 4: crossed again */
	assert_int_equal(stock, 4);
	assert_int_equal(h_db_count("jobs", filter), 2);
	snprintf(filter, sizeof(filter), "{\"dedupe_key\": \"low_stock:%s:2\"}", sku);
	assert_int_equal(h_db_count("jobs", filter), 1);
	/* the stack's job worker mails the alert; a stack without one is a
	 * broken precondition, not a reason to pass without checking */
	{
		char pidfile[512];

		snprintf(pidfile, sizeof(pidfile), "%s/run/worker.pid", h_env("STACK_DIR"));
		if (access(pidfile, R_OK) != 0)
			fail_msg("no job worker in this stack (%s is missing): the alert mail "
				 "cannot be checked", pidfile);
	}
	{
		/* the stack sets EMPORIUM_STAFF_EMAIL=staff@localhost */
		char *mail = h_mail_wait("staff@localhost", sku, 10000);

		assert_non_null(mail);
		free(mail);
	}
}

/* The staff caller through the real sign-up: register, mail, verify, login. */
static int group_setup(void **state)
{
	(void)state;
	h_user_register("staff", staff_tok, sizeof(staff_tok), NULL, 0);
	h_bearer(staff_tok, staff_auth, sizeof(staff_auth));
	return 0;
}

/* The low-stock list pages by cursor: every low SKU once, none twice. */
static void test_low_stock_pages(void **state)
{
	char skus[3][96], name[16];
	int seen, pages, pages_all;

	(void)state;
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "page%d", i);
		make_product(name, 1, 5, skus[i], sizeof(skus[i])); /* low from the start */
	}
	pages_all = low_stock_walk(100, NULL, &seen);
	for (int i = 0; i < 3; i++) {
		pages = low_stock_walk(1, skus[i], &seen);
		assert_int_equal(seen, 1);
		assert_true(pages >= 3);
		assert_true(pages >= pages_all);
	}
	/* a bad cursor or limit is a 400, not a silent first page */
	{
		struct h_resp r = staff("GET", "/api/v1/admin/inventory/low-stock?cursor=zzz", NULL);

		h_assert_problem(&r, 400);
		h_resp_free(&r);
		r = staff("GET", "/api/v1/admin/inventory/low-stock?limit=500", NULL);
		h_assert_problem(&r, 400);
		h_resp_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adjust_basic),
		cmocka_unit_test(test_sku_with_nul_refused),
		cmocka_unit_test(test_race),
		cmocka_unit_test(test_adjust_idempotency_key),
		cmocka_unit_test(test_adjustment_list),
		cmocka_unit_test(test_low_stock_alert_once_per_crossing),
		cmocka_unit_test(test_low_stock_pages),
	};
	int rc;

	h_init();
	snprintf(tag, sizeof(tag), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid() & 0xfff);
	rc = cmocka_run_group_tests(tests, group_setup, NULL);
	h_cleanup();
	return rc;
}
