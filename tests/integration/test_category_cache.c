/*
 * test_category_cache.c - the workers' copy of the category tree
 * (src/catalog/categories_cache.c, issue 16), through the real stack
 * (HTTPS -> nginx -> a pool of 2+ emporium-fcgi workers -> database).
 *
 * Round trips: the database stand-in (--enable-test-commands) records
 * every query it answers (standinQueryPlans). Once the workers hold the
 * tree, a product detail and a filtered list each query the products
 * once and the categories never; the only other read is the tree's
 * revision (catalog_locks), at most once per CATALOG_CATEGORY_CACHE_MS
 * (1 s) per worker. Without the copy every detail read the categories
 * too, and a filtered list twice.
 *
 * Changes: a rename and a move made through the API show in product
 * detail and in the filtered lists of every worker within the bound. The
 * suite polls (requests in parallel, so they reach several workers) until
 * every answer of two rounds in a row shows the change; nothing asserts
 * a time.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_catalog.h"

/* The bound the copy re-reads the revision within (categories_cache.c). */
#define CACHE_MS 1000
/* Parallel requests per polling round (more than the pool's workers). */
#define ROUND 12
/* How long a change may take to show everywhere before the test fails. */
#define SHOW_WITHIN_S 30.0

static bool plans_on;
static int pool_workers;

static char root_a[25], root_b[25], kid[25], product_slug[64], kid_slug[64], a_slug[64],
	b_slug[64];


struct query_counts {
	long products, categories, locks, other_catalog;
};

/* Counts the recorded queries of the stack's database by collection. */
static void plans_count(struct query_counts *c)
{
	const char *db = h_env("STACK_DB_NAME");
	size_t dblen = strlen(db);
	bson_t reply, plan;
	bson_iter_t it, arr, f;

	memset(c, 0, sizeof(*c));
	assert_true(hc_plans_cmd(NULL, &reply));
	assert_true(bson_iter_init_find(&it, &reply, "plans") && bson_iter_recurse(&it, &arr));
	while (bson_iter_next(&arr)) {
		const uint8_t *data;
		uint32_t len;
		const char *ns;

		bson_iter_document(&arr, &len, &data);
		assert_true(bson_init_static(&plan, data, len));
		if (!bson_iter_init_find(&f, &plan, "ns") || !BSON_ITER_HOLDS_UTF8(&f))
			continue;
		ns = bson_iter_utf8(&f, NULL);
		if (strncmp(ns, db, dblen) != 0 || ns[dblen] != '.')
			continue;
		ns += dblen + 1;
		if (strcmp(ns, "products") == 0)
			c->products++;
		else if (strcmp(ns, "categories") == 0)
			c->categories++;
		else if (strcmp(ns, "catalog_locks") == 0)
			c->locks++;
		else if (strncmp(ns, "product", 7) == 0)
			c->other_catalog++;
	}
	bson_destroy(&reply);
}


/* GET path past nginx's micro-cache (a cookie bypasses it); 200 or fail. */
static json_object *get_fresh(const char *path)
{
	const char *hdrs[] = { "Cookie: cc=1", NULL };
	struct h_resp r = h_request("GET", path, NULL, 0, hdrs);
	json_object *j;

	if (r.status != 200)
		fprintf(stderr, "  GET %s: %ld %s\n", path, r.status, r.body);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	h_resp_free(&r);
	assert_non_null(j);
	return j;
}

static void detail_path(char *buf, size_t size)
{
	snprintf(buf, size, "/api/v1/products/%s", product_slug);
}

/* A filtered list the product is in when cat_slug holds its category. */
static void list_path(const char *cat_slug, char *buf, size_t size)
{
	snprintf(buf, size, "/api/v1/products?category=%s&brand=%s&size=M&sort=price_asc",
		 cat_slug, hc_tag);
}

static void setup_tree(void)
{
	char variants[256], id[25];

	if (root_a[0])
		return;
	snprintf(a_slug, sizeof(a_slug), "cc-a-%s", hc_tag);
	snprintf(b_slug, sizeof(b_slug), "cc-b-%s", hc_tag);
	snprintf(kid_slug, sizeof(kid_slug), "cc-k-%s", hc_tag);
	hc_make_category(a_slug, NULL, 1, root_a);
	hc_make_category(b_slug, NULL, 2, root_b);
	hc_make_category(kid_slug, root_a, 1, kid);
	snprintf(product_slug, sizeof(product_slug), "cc-p-%s", hc_tag);
	snprintf(variants, sizeof(variants),
		 "[{\"sku\": \"CC-M\", \"options\": {\"size\": \"M\"}, \"price\": 1500,"
		 " \"stock\": 4}]");
	hc_make_product(product_slug, "Cache probe", "", hc_tag, kid, variants, "active", id);
}

/* Some requests of each kind, in parallel, so every worker reads the tree. */
static void warm_one(int i, void *arg)
{
	char path[256];
	json_object *j;

	(void)arg;
	if (i % 2)
		detail_path(path, sizeof(path));
	else
		list_path(a_slug, path, sizeof(path));
	j = get_fresh(path);
	json_object_put(j);
}

static void warm_up(void)
{
	for (int k = 0; k < 4; k++)
		h_parallel(ROUND, warm_one, NULL);
}

static void test_one_query_per_read(void **state)
{
	enum { N = 40 };
	char detail[256], list[256];
	struct query_counts c = { 0 };
	double t0, elapsed_ms;
	long bound = 0;
	bool clean = false;

	(void)state;
	if (!plans_on)
		skip();
	setup_tree();
	detail_path(detail, sizeof(detail));
	list_path(a_slug, list, sizeof(list));
	/* Warm until a window of N details and N lists reads no category:
	 * a worker that never served a request yet loads the tree once. */
	for (int attempt = 0; attempt < 5 && !clean; attempt++) {
		warm_up();
		hc_plans_clear();
		t0 = h_now_s();
		for (int i = 0; i < N; i++) {
			json_object *j = get_fresh(detail);

			/* the answer still carries what the tree gives it */
			assert_string_equal(hc_jstr(j, "category_info.slug"), kid_slug);
			assert_string_equal(hc_jstr(j, "breadcrumbs.0.slug"), a_slug);
			assert_string_equal(hc_jstr(j, "breadcrumbs.1.slug"), kid_slug);
			json_object_put(j);
			j = get_fresh(list);
			assert_string_equal(hc_jstr(j, "items.0.slug"), product_slug);
			assert_string_equal(hc_jstr(j, "items.0.category_info.slug"), kid_slug);
			json_object_put(j);
		}
		elapsed_ms = (h_now_s() - t0) * 1000.0;
		plans_count(&c);
		/* each worker reads the revision at most once per bound */
		bound = (long)pool_workers * ((long)(elapsed_ms / CACHE_MS) + 2);
		fprintf(stderr,
			"  window %d: %d details + %d lists in %.0f ms: products %ld, categories %ld,"
			" revision %ld (bound %ld)\n",
			attempt, N, N, elapsed_ms, c.products, c.categories, c.locks, bound);
		clean = c.categories == 0;
	}
	assert_true(clean);
	/* exactly one products query per read (the detail's find, the list's
	 * one find or aggregate), nothing else of the catalog */
	assert_int_equal(c.products, 2 * N);
	assert_int_equal(c.other_catalog, 0);
	assert_true(c.locks <= bound);
}

struct poll_want {
	const char *path;
	const char *key;   /* dotted path in the answer */
	const char *value; /* its wanted value; NULL: the list must be empty */
	int ok;            /* answers that matched, this round */
	pthread_mutex_t mu;
};

static void poll_one(int i, void *arg)
{
	struct poll_want *w = arg;
	json_object *j;
	bool match;

	(void)i;
	j = get_fresh(w->path);
	if (w->value) {
		const char *v = hc_jstr(j, w->key);

		match = v && strcmp(v, w->value) == 0;
	} else {
		json_object *items = hc_jget(j, "items");

		match = items && json_object_array_length(items) == 0;
	}
	json_object_put(j);
	pthread_mutex_lock(&w->mu);
	w->ok += match;
	pthread_mutex_unlock(&w->mu);
}

/* Polls path until two rounds in a row answer key == value on every request. */
static void expect_everywhere(const char *path, const char *key, const char *value)
{
	struct poll_want w = { .path = path, .key = key, .value = value };
	double t0 = h_now_s();
	int good = 0, rounds = 0;

	assert_int_equal(pthread_mutex_init(&w.mu, NULL), 0);
	while (good < 2 && h_now_s() - t0 < SHOW_WITHIN_S) {
		w.ok = 0;
		h_parallel(ROUND, poll_one, &w);
		rounds++;
		good = w.ok == ROUND ? good + 1 : 0;
		if (good < 2)
			h_sleep_ms(50);
	}
	pthread_mutex_destroy(&w.mu);
	if (good < 2)
		fprintf(stderr, "  %s: %s never %s on every worker (%d rounds)\n", path, key,
			value ? value : "empty", rounds);
	assert_int_equal(good, 2);
}

/* PATCH the child category as staff; 200 or the test fails. */
static void patch_kid(const char *body)
{
	char path[128];
	struct h_resp r;

	snprintf(path, sizeof(path), "/api/v1/admin/categories/%s", kid);
	r = hc_staff("PATCH", path, body, NULL);
	if (r.status != 200)
		fprintf(stderr, "  PATCH %s: %ld %s\n", path, r.status, r.body);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

static void test_rename_and_move_show(void **state)
{
	char body[256], detail[256], list[256], name[96];

	(void)state;
	setup_tree();
	detail_path(detail, sizeof(detail));
	warm_up();
	/* every worker holds the old name */
	snprintf(name, sizeof(name), "Cat %s", kid_slug);
	expect_everywhere(detail, "category_info.name", name);

	/* a rename */
	snprintf(name, sizeof(name), "Renamed %s", hc_tag);
	snprintf(body, sizeof(body), "{\"name\": \"%s\"}", name);
	patch_kid(body);
	expect_everywhere(detail, "category_info.name", name);
	expect_everywhere(detail, "breadcrumbs.1.name", name);
	list_path(a_slug, list, sizeof(list));
	expect_everywhere(list, "items.0.category_info.name", name);

	/* a move from root A to root B: the breadcrumb, and which filtered
	 * list (the subtree of a category, resolved from the copy) holds it */
	snprintf(body, sizeof(body), "{\"parent\": \"%s\"}", root_b);
	patch_kid(body);
	expect_everywhere(detail, "breadcrumbs.0.slug", b_slug);
	list_path(b_slug, list, sizeof(list));
	expect_everywhere(list, "items.0.slug", product_slug);
	list_path(a_slug, list, sizeof(list));
	expect_everywhere(list, "items", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_query_per_read),
		cmocka_unit_test(test_rename_and_move_show),
	};
	pid_t pids[64];
	int rc;

	h_init();
	hc_init();
	pool_workers = h_worker_pids(pids, 64);
	fprintf(stderr, "  %d FastCGI workers\n", pool_workers);
	/* the claim is about several workers sharing one database */
	assert_true(pool_workers >= 2);
	plans_on = hc_plans_open();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	hc_plans_close();
	h_cleanup();
	return rc;
}
