/*
 * Races the code claims to handle, tested in parallel through the real
 * stack (HTTPS -> nginx -> emporium-fcgi -> database) with the invariant
 * checked afterwards. The suite reloads the stack with a larger FastCGI
 * pool (h_race_workers(), STACK_RACE_WORKERS) so that many requests are
 * really inside the application at once, and puts the pool back after.
 * Every race releases N >= 50 threads together (h_parallel's barrier);
 * the auth ones give each thread its own loopback source address, since
 * nginx limits /api/v1/auth/ per address. Users come from the real
 * register -> mail -> verify -> login path (h_user_register).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

enum { N = 50 };

static const char *const json_ct[] = { "Content-Type: application/json", NULL };
static char staff_tok[2048], staff_auth[2200], tag[32];
static bool pool_changed;

static struct h_resp staff(const char *method, const char *path, const char *body,
			   const char *extra)
{
	const char *h[] = { staff_auth, "Content-Type: application/json", extra, NULL };

	return h_request(method, path, body, body ? strlen(body) : 0, h);
}

/* ---- refresh: one token used N times at once ---- */

struct refresh_race {
	char rt[128];
	long status[N];
	char next[N][128];
};

static void refresh_one(int i, void *arg)
{
	struct refresh_race *a = arg;
	char body[256];
	struct h_resp r;

	h_source_set(10 + i);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", a->rt);
	r = h_request("POST", "/api/v1/auth/refresh", body, strlen(body), json_ct);
	a->status[i] = r.status;
	if (r.status == 200)
		h_jstr(&r, "refresh_token", a->next[i], sizeof(a->next[i]));
	h_resp_free(&r);
}

/*
 * src/auth/accounts.h: a token is rotated atomically on use, and a token
 * already rotated is a reuse that revokes the whole family. Of N
 * concurrent uses at most one gets a successor, the others are refused,
 * and their reuse kills the family: afterwards no token of the family is
 * live, and a successor that was handed out is refused. (Whether the
 * one rotation answers 200 or is itself refused depends on whether it
 * saw the revocation: both leave no session.)
 */
static void test_refresh_token_used_twice_at_once(void **state)
{
	static struct refresh_race a;
	char email[128], filter[512], *doc, fam[64] = "", uid[32];
	int ok = 0, refused = 0, winner = -1;
	struct h_resp r;

	(void)state;
	memset(&a, 0, sizeof(a));
	h_account_new("race-rt", email, sizeof(email));
	assert_int_equal(h_login(email, H_PW, NULL, 0, a.rt, sizeof(a.rt)), 200);
	h_parallel(N, refresh_one, &a);
	for (int i = 0; i < N; i++) {
		if (a.status[i] == 200) {
			ok++;
			winner = i;
		} else if (a.status[i] == 401) {
			refused++;
		}
	}
	fprintf(stderr, "  refresh race: %d rotated, %d refused\n", ok, refused);
	assert_true(ok <= 1);
	assert_int_equal(ok + refused, N);
	if (winner >= 0) {
		r = h_refresh_body(a.next[winner]);
		if (r.status != 401)
			fail_msg("the successor outlived the reuse: %ld %s", r.status, r.body);
		h_assert_problem(&r, 401);
		h_resp_free(&r);
	}
	/* in the database: every token of the family revoked */
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	doc = h_db_find_json("users", filter);
	assert_non_null(doc);
	{
		json_object *o = json_tokener_parse(doc), *id, *oid;

		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "_id", &id));
		assert_true(json_object_object_get_ex(id, "$oid", &oid));
		snprintf(uid, sizeof(uid), "%s", json_object_get_string(oid));
		json_object_put(o);
	}
	free(doc);
	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"}}", uid);
	doc = h_db_find_json("refresh_tokens", filter);
	assert_non_null(doc);
	{
		json_object *o = json_tokener_parse(doc), *f;

		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "family_id", &f));
		snprintf(fam, sizeof(fam), "%s", json_object_get_string(f));
		json_object_put(o);
	}
	free(doc);
	snprintf(filter, sizeof(filter), "{\"family_id\":\"%s\"}", fam);
	/* the token, and at most one successor (the one rotation's) */
	assert_in_range(h_db_count("refresh_tokens", filter), 1 + ok, 2);
	snprintf(filter, sizeof(filter), "{\"family_id\":\"%s\",\"revoked_at\":null}", fam);
	assert_int_equal(h_db_count("refresh_tokens", filter), 0);
	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"},\"revoked_at\":null}", uid);
	assert_int_equal(h_db_count("refresh_tokens", filter), 0);
}

/* ---- one-time codes: the same right code N times at once ---- */

struct code_race {
	char body[512];
	const char *path;
	long status[N];
};

static void code_one(int i, void *arg)
{
	struct code_race *a = arg;
	struct h_resp r;

	h_source_set(70 + i);
	r = h_request("POST", a->path, a->body, strlen(a->body), json_ct);
	a->status[i] = r.status;
	h_resp_free(&r);
}

static int code_count(const struct code_race *a, long status)
{
	int n = 0;

	for (int i = 0; i < N; i++)
		n += a->status[i] == status;
	return n;
}

/* src/auth/otp.c: single use, whoever deletes the code first wins. */
static void test_otp_code_submitted_twice_at_once(void **state)
{
	static struct code_race a;
	char email[128], body[512], code[7], filter[256];
	struct h_resp r;

	(void)state;
	memset(&a, 0, sizeof(a));
	h_unique_email("race-otp", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"R\"}", email,
		 H_PW);
	r = h_post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	h_mail_code(email, "verification code", code);
	snprintf(a.body, sizeof(a.body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
	a.path = "/api/v1/auth/verify-email";
	h_parallel(N, code_one, &a);
	fprintf(stderr, "  verify race: %d verified, %d refused\n", code_count(&a, 200),
		code_count(&a, 400));
	assert_int_equal(code_count(&a, 200), 1);
	assert_int_equal(code_count(&a, 400), N - 1);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"email_verified\":true}", email);
	assert_int_equal(h_db_count("users", filter), 1);

	/* the password-reset code: at most one reset */
	memset(&a, 0, sizeof(a));
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	r = h_post("/api/v1/auth/password/forgot", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	h_mail_code(email, "reset code", code);
	snprintf(a.body, sizeof(a.body), "{\"email\":\"%s\",\"code\":\"%s\",\"password\":\"%s\"}",
		 email, code, H_PW2);
	a.path = "/api/v1/auth/password/reset";
	h_parallel(N, code_one, &a);
	fprintf(stderr, "  reset race: %d reset, %d refused\n", code_count(&a, 204),
		code_count(&a, 400));
	assert_int_equal(code_count(&a, 204), 1);
	assert_int_equal(code_count(&a, 400), N - 1);
	assert_int_equal(h_login(email, H_PW2, NULL, 0, NULL, 0), 200);
}

/* ---- catalog and inventory ---- */

/* A product with one variant <name>-<tag>; its id into id (25 bytes). */
static void product_make(const char *name, int stock, int threshold, char *sku, size_t sku_size,
			 char *id)
{
	char body[1024];
	struct h_resp r;

	snprintf(sku, sku_size, "RACE-%s-%s", name, tag);
	snprintf(body, sizeof(body),
		 "{\"title\": \"Race %s\", \"slug\": \"race-%s-%s\", \"status\": \"active\","
		 " \"options\": [\"size\"],"
		 " \"variants\": [{\"sku\": \"%s\", \"options\": {\"size\": \"M\"}, \"price\": 100,"
		 " \"stock\": %d, \"low_stock_threshold\": %d}]}",
		 name, name, tag, sku, stock, threshold);
	r = staff("POST", "/api/v1/admin/products", body, NULL);
	if (r.status != 201)
		fail_msg("create product: %ld %s", r.status, r.body);
	h_jstr(&r, "id", id, 25);
	h_resp_free(&r);
}

/* The product's version in the database. */
static long product_version(const char *id)
{
	char filter[128], *doc;
	json_object *o, *v;
	long version = -1;

	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"}}", id);
	doc = h_db_find_json("products", filter);
	assert_non_null(doc);
	o = json_tokener_parse(doc);
	assert_non_null(o);
	if (json_object_object_get_ex(o, "version", &v))
		version = (long)json_object_get_int64(v);
	json_object_put(o);
	free(doc);
	return version;
}

/* The variant's stock in the database, or -1. */
static long sku_stock(const char *sku)
{
	char filter[256], *doc;
	json_object *o, *vars;
	long stock = -1;

	snprintf(filter, sizeof(filter), "{\"variants.sku\":\"%s\"}", sku);
	doc = h_db_find_json("products", filter);
	assert_non_null(doc);
	o = json_tokener_parse(doc);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "variants", &vars));
	for (size_t i = 0; i < json_object_array_length(vars); i++) {
		json_object *v = json_object_array_get_idx(vars, i), *s, *st;

		if (json_object_object_get_ex(v, "sku", &s) &&
		    strcmp(json_object_get_string(s), sku) == 0 &&
		    json_object_object_get_ex(v, "stock", &st))
			stock = (long)json_object_get_int64(st);
	}
	json_object_put(o);
	free(doc);
	return stock;
}

struct patch_race {
	char path[128];
	char if_match[64];
	long status[N];
};

static void patch_one(int i, void *arg)
{
	struct patch_race *a = arg;
	char body[128];
	struct h_resp r;

	snprintf(body, sizeof(body), "{\"title\": \"Edited by %d\"}", i);
	r = staff("PATCH", a->path, body, a->if_match);
	a->status[i] = r.status;
	h_resp_free(&r);
}

/* Optimistic concurrency: N PATCHes with one If-Match, one wins. */
static void test_patch_same_if_match_at_once(void **state)
{
	static struct patch_race a;
	char sku[96], id[25];
	int ok = 0, stale = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	product_make("ifm", 5, 0, sku, sizeof(sku), id);
	assert_int_equal(product_version(id), 1);
	snprintf(a.path, sizeof(a.path), "/api/v1/admin/products/%s", id);
	snprintf(a.if_match, sizeof(a.if_match), "If-Match: \"1\"");
	h_parallel(N, patch_one, &a);
	for (int i = 0; i < N; i++) {
		ok += a.status[i] == 200;
		stale += a.status[i] == 412;
	}
	fprintf(stderr, "  If-Match race: %d applied, %d stale\n", ok, stale);
	assert_int_equal(ok, 1);
	assert_int_equal(stale, N - 1);
	assert_int_equal(product_version(id), 2);
}

/* One variant's adjustment log, in the database. */
struct adj_log {
	int n;
	long delta[512], before[512], after[512];
};

static void adj_log_read(const char *sku, struct adj_log *log)
{
	mongoc_client_t *c = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t *filter = BCON_NEW("sku", BCON_UTF8(sku));
	bson_error_t err;

	assert_non_null(c);
	memset(log, 0, sizeof(*log));
	coll = mongoc_client_get_collection(c, db, "inventory_adjustments");
	cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	while (mongoc_cursor_next(cur, &doc) && log->n < 512) {
		bson_iter_t it;

		assert_true(bson_iter_init_find(&it, doc, "delta"));
		log->delta[log->n] = (long)bson_iter_as_int64(&it);
		assert_true(bson_iter_init_find(&it, doc, "stock_before"));
		log->before[log->n] = (long)bson_iter_as_int64(&it);
		assert_true(bson_iter_init_find(&it, doc, "stock_after"));
		log->after[log->n] = (long)bson_iter_as_int64(&it);
		log->n++;
	}
	if (mongoc_cursor_error(cur, &err))
		fail_msg("read the adjustments: %s", err.message);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(c);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/*
 * The log is the history of the stock: each entry's after = before +
 * delta, the deltas add up to the change, and the entries chain from
 * the first stock to the last (as multisets: {before} + {last} ==
 * {first} + {after}, so no adjustment saw a stock another one left
 * unrecorded). Returns the number of threshold crossings in it.
 */
static int adj_log_check(const struct adj_log *log, long first, long last, long threshold)
{
	static long from[513], to[513];
	long sum = 0;
	int crossings = 0;

	for (int i = 0; i < log->n; i++) {
		assert_int_equal(log->after[i], log->before[i] + log->delta[i]);
		sum += log->delta[i];
		from[i] = log->before[i];
		to[i] = log->after[i];
		if (log->before[i] >= threshold && log->after[i] < threshold)
			crossings++;
	}
	assert_int_equal(sum, last - first);
	from[log->n] = last;
	to[log->n] = first;
	qsort(from, (size_t)log->n + 1, sizeof(long), cmp_long);
	qsort(to, (size_t)log->n + 1, sizeof(long), cmp_long);
	for (int i = 0; i <= log->n; i++)
		if (from[i] != to[i])
			fail_msg("the adjustment log does not chain from %ld to %ld", first, last);
	return crossings;
}

struct mixed_race {
	char sku[96];
	char path[128];
	long id_version;
	int delta[N];
	long status[N];
	int patches; /* threads [0, patches) PATCH the product instead */
};

static void mixed_one(int i, void *arg)
{
	struct mixed_race *a = arg;
	char body[512];
	struct h_resp r;

	if (i < a->patches) {
		/* an edit of the whole variant list (stock not included: only
		 * adjustments own it), retried on a stale If-Match */
		for (int tries = 0; tries < 40; tries++) {
			char ifm[64];
			long v = product_version(a->path + strlen("/api/v1/admin/products/"));

			snprintf(ifm, sizeof(ifm), "If-Match: \"%ld\"", v);
			snprintf(body, sizeof(body),
				 "{\"variants\": [{\"sku\": \"%s\", \"options\": {\"size\": \"M\"},"
				 " \"price\": %d, \"low_stock_threshold\": 5}]}", a->sku, 100 + i);
			r = staff("PATCH", a->path, body, ifm);
			a->status[i] = r.status;
			h_resp_free(&r);
			if (a->status[i] != 412)
				break;
		}
		return;
	}
	snprintf(body, sizeof(body), "{\"sku\": \"%s\", \"delta\": %d, \"reason\": \"race\"}", a->sku,
		 a->delta[i]);
	r = staff("POST", "/api/v1/admin/inventory/adjustments", body, NULL);
	a->status[i] = r.status;
	if (r.status != 201 && r.status != 409)
		fprintf(stderr, "  adjust %d: %ld %s\n", a->delta[i], r.status, r.body);
	h_resp_free(&r);
}

/* The sum of the deltas the stack accepted (201). */
static long mixed_applied(const struct mixed_race *a)
{
	long sum = 0;

	for (int i = a->patches; i < N; i++)
		if (a->status[i] == 201)
			sum += a->delta[i];
	return sum;
}

/*
 * A product PATCH (which rewrites the variant list) racing stock
 * adjustments: no adjustment is lost, stock after = before + the
 * accepted deltas, and the log agrees.
 */
static void test_patch_races_stock_adjustments(void **state)
{
	static struct mixed_race a;
	char id[25];
	struct adj_log log;
	long after;
	int patched = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	product_make("patchadj", 100, 5, a.sku, sizeof(a.sku), id);
	snprintf(a.path, sizeof(a.path), "/api/v1/admin/products/%s", id);
	a.patches = 10;
	for (int i = a.patches; i < N; i++)
		a.delta[i] = i % 2 ? -1 : 3;
	h_parallel(N, mixed_one, &a);
	for (int i = 0; i < a.patches; i++)
		patched += a.status[i] == 200;
	for (int i = a.patches; i < N; i++)
		assert_int_equal(a.status[i], 201); /* 100 units: nothing may be refused */
	after = sku_stock(a.sku);
	fprintf(stderr, "  PATCH vs adjustments: %d edits, stock 100 -> %ld (accepted %+ld)\n",
		patched, after, mixed_applied(&a));
	assert_true(patched >= 1);
	assert_int_equal(after, 100 + mixed_applied(&a));
	adj_log_read(a.sku, &log);
	assert_int_equal(log.n, N - a.patches);
	(void)adj_log_check(&log, 100, after, 5);
}

/*
 * Mixed increases and decreases across a low-stock threshold, several
 * rounds: one alert per crossing (counted in the log, in the outbox, in
 * the variant's counter and in the mail the worker delivered).
 *
 * Each round starts at 6 (threshold 5) with 30 decrements and 20
 * increments of one unit in flight at once. 6 + 20 - 30 < 0, so some
 * decrement must be refused at 0: the stock crossed the threshold at
 * least once in every round. Between rounds one sequential adjustment
 * restocks to 6.
 */
static void test_low_stock_crossings_in_parallel(void **state)
{
	static struct mixed_race a;
	char id[25], filter[256];
	struct adj_log log;
	long stock = 6;
	int crossings, mails = 0;

	(void)state;
	product_make("crossing", 6, 5, a.sku, sizeof(a.sku), id);
	for (int round = 0; round < 3; round++) {
		char sku[96];
		long now;

		snprintf(sku, sizeof(sku), "%s", a.sku);
		memset(&a, 0, sizeof(a));
		snprintf(a.sku, sizeof(a.sku), "%s", sku);
		for (int i = 0; i < N; i++)
			a.delta[i] = i < 30 ? -1 : 1;
		h_parallel(N, mixed_one, &a);
		now = sku_stock(a.sku);
		assert_int_equal(now, stock + mixed_applied(&a));
		/* back to 6 for the next round (the increments may have left
		 * it anywhere from 0 to 26) */
		if (now != 6) {
			char body[256];
			struct h_resp r;

			snprintf(body, sizeof(body), "{\"sku\": \"%s\", \"delta\": %ld, \"reason\": \"restock\"}",
				 a.sku, 6 - now);
			r = staff("POST", "/api/v1/admin/inventory/adjustments", body, NULL);
			assert_int_equal(r.status, 201);
			h_resp_free(&r);
		}
		stock = 6;
	}
	assert_int_equal(sku_stock(a.sku), 6);
	adj_log_read(a.sku, &log);
	crossings = adj_log_check(&log, 6, 6, 5);
	snprintf(filter, sizeof(filter),
		 "{\"type\": \"email\", \"payload.template\": \"low_stock\", \"payload.vars.sku\": \"%s\"}",
		 a.sku);
	fprintf(stderr, "  low-stock race: %d adjustments, %d crossings, %ld alert jobs\n", log.n,
		crossings, h_db_count("jobs", filter));
	assert_true(crossings >= 3);
	assert_int_equal(h_db_count("jobs", filter), crossings);
	snprintf(filter, sizeof(filter),
		 "{\"variants\": {\"$elemMatch\": {\"sku\": \"%s\", \"low_stock_alerts\": %d}}}", a.sku,
		 crossings);
	assert_int_equal(h_db_count("products", filter), 1);
	/* the worker delivers one mail per crossing, no more */
	for (int i = 0; i < crossings; i++) {
		char *mail = h_mail_wait("staff@localhost", a.sku, 15000);

		if (!mail)
			break;
		mails++;
		free(mail);
	}
	assert_int_equal(mails, crossings);
	assert_null(h_mail_wait("staff@localhost", a.sku, 1500));
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tag, sizeof(tag), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid() & 0xfff);
	pool_changed = true;
	if (!h_stack_pool(h_race_workers())) {
		fprintf(stderr, "could not reload the stack with %d workers\n", h_race_workers());
		return -1;
	}
	fprintf(stderr, "  pool: %d FastCGI workers\n", h_worker_pids((pid_t[64]){ 0 }, 64));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (pool_changed && !h_stack_pool(0))
		return -1;
	return 0;
}

static void staff_user(void **state)
{
	(void)state;
	h_user_register("staff", staff_tok, sizeof(staff_tok), NULL, 0);
	h_bearer(staff_tok, staff_auth, sizeof(staff_auth));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(staff_user),
		cmocka_unit_test(test_refresh_token_used_twice_at_once),
		cmocka_unit_test(test_otp_code_submitted_twice_at_once),
		cmocka_unit_test(test_patch_same_if_match_at_once),
		cmocka_unit_test(test_patch_races_stock_adjustments),
		cmocka_unit_test(test_low_stock_crossings_in_parallel),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	h_cleanup();
	return rc;
}
