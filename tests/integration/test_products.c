/*
 * Integration tests for catalog administration through the real stack
 * (HTTPS -> nginx -> emporium-fcgi -> database), split from
 * test_catalog.c: staff CRUD with roles, validation, HTML kept as text,
 * ETag/304, If-Match 412/428, soft delete, versions and the micro-cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness_catalog.h"

static void test_roles(void **state)
{
	const char *cust[] = { hc_cust_auth, "Content-Type: application/json", NULL };
	const char *anon[] = { "Content-Type: application/json", NULL };
	struct h_resp r;
	long before = h_db_count("products", "{}");

	(void)state;
	r = h_request("POST", "/api/v1/admin/products", "{}", 2, cust);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = h_request("POST", "/api/v1/admin/products", "{}", 2, anon);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = h_request("GET", "/api/v1/admin/products", NULL, 0, cust);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = h_request("POST", "/api/v1/admin/inventory/adjustments", "{}", 2, cust);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	assert_int_equal(h_db_count("products", "{}"), before);
}

static void expect_bad(const char *body, const char *field, long status)
{
	struct h_resp r = hc_staff("POST", "/api/v1/admin/products", body, NULL);

	if (r.status != status || (field && !strstr(r.body, field)))
		fprintf(stderr, "body %s -> %ld %s\n", body, r.status, r.body);
	h_assert_problem(&r, status);
	if (field) {
		char needle[128];

		snprintf(needle, sizeof(needle), "\"field\":\"%s\"", field);
		assert_non_null(strstr(r.body, needle));
	}
	h_resp_free(&r);
}

static void test_bad_input(void **state)
{
	char b[4096], id[25], *longt;
	long before;

	(void)state;
	{
	char dslug[64];

	snprintf(dslug, sizeof(dslug), "dup-base-%s", hc_tag);
	hc_make_product(dslug, "Base", "", "b", NULL,
		     "[{\"sku\": \"DUPSKU-1\", \"options\": {\"size\": \"M\"}, \"price\": 100}]",
		     "draft", id);
	before = h_db_count("products", "{}");
#define V(s) "{\"title\": \"T\", \"slug\": \"bad-1\", \"variants\": [" s "]}"
	expect_bad(V("{\"sku\": \"B1\", \"options\": {}, \"price\": -5}"), "variants[0].price", 400);
	expect_bad(V("{\"sku\": \"B1\", \"options\": {}, \"price\": 9.99}"), "variants[0].price", 400);
	expect_bad(V("{\"sku\": \"B1\", \"options\": {}, \"price\": \"100\"}"), "variants[0].price", 400);
	expect_bad(V("{\"sku\": \"B1\", \"options\": {\"flavour\": \"x\"}, \"price\": 1}"),
		   "variants[0].options.flavour", 400);
	expect_bad(V("{\"sku\": \"B1\", \"options\": {}, \"price\": 1},"
		     "{\"sku\": \"B1\", \"options\": {}, \"price\": 2}"), "variants[1].sku", 400);
	expect_bad(V("{\"sku\": \"B 1\", \"options\": {}, \"price\": 1}"), "variants[0].sku", 400);
	expect_bad("{\"title\": \"T\", \"slug\": \"Bad Slug\", \"variants\": "
		   "[{\"sku\": \"B1\", \"options\": {}, \"price\": 1}]}", "slug", 400);
	expect_bad("{\"title\": \"T\", \"slug\": \"bad-2\", \"colour\": 1, \"variants\": "
		   "[{\"sku\": \"B1\", \"options\": {}, \"price\": 1}]}", "colour", 400);
	expect_bad("{\"title\": \"T\", \"slug\": \"bad-2\", \"variants\": "
		   "[{\"sku\": \"B1\", \"options\": {\"$gt\": \"x\"}, \"price\": 1}]}", "$gt", 400);
	longt = malloc(400);
	memset(longt, 'a', 399);
	longt[399] = '\0';
	snprintf(b, sizeof(b), "{\"title\": \"%s\", \"slug\": \"bad-3\", \"variants\": "
		 "[{\"sku\": \"B1\", \"options\": {}, \"price\": 1}]}", longt);
	free(longt);
	expect_bad(b, "title", 400);
	/* a SKU another product has, and a slug another product has: 409 */
	expect_bad(V("{\"sku\": \"DUPSKU-1\", \"options\": {}, \"price\": 1}"), "sku", 409);
	snprintf(b, sizeof(b), "{\"title\": \"T\", \"slug\": \"%s\", \"variants\": "
		 "[{\"sku\": \"B9\", \"options\": {}, \"price\": 1}]}", dslug);
	expect_bad(b, "slug", 409);
	}
#undef V
	assert_int_equal(h_db_count("products", "{}"), before);
}

static void test_html_is_text(void **state)
{
	char id[25], path[128], slug[64];
	struct h_resp r;
	json_object *j;

	(void)state;
	snprintf(slug, sizeof(slug), "html-%s", hc_tag);
	hc_make_product(slug, "<script>alert(1)</script>", "<b>bold</b> & <img src=x onerror=1>",
		     "b", NULL, "[{\"sku\": \"HTML-1\", \"options\": {}, \"price\": 5}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/products/%s", slug);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "title"), "<script>alert(1)</script>");
	assert_string_equal(hc_jstr(j, "description"), "<b>bold</b> & <img src=x onerror=1>");
	json_object_put(j);
	h_resp_free(&r);
}

static void test_etag_and_if_match(void **state)
{
	char id[25], s[64], path[128], etag[128], etag2[128], ifm[200];
	const char *inm[2] = { ifm, NULL };
	struct h_resp r;

	(void)state;
	snprintf(s, sizeof(s), "etag-%s", hc_tag);
	hc_make_product(s, "Etag", "", "b", NULL,
		     "[{\"sku\": \"ETAG-1\", \"options\": {}, \"price\": 100}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/products/%s", id);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "etag", etag, sizeof(etag)));
	assert_true(h_header(&r, "cache-control", etag2, sizeof(etag2)));
	assert_non_null(strstr(etag2, "public"));
	h_resp_free(&r);
	snprintf(ifm, sizeof(ifm), "If-None-Match: %s", etag);
	r = h_request("GET", path, NULL, 0, inm);
	assert_int_equal(r.status, 304);
	h_resp_free(&r);

	/* PATCH: no If-Match 428, stale 412, current 200 */
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
	r = hc_staff("PATCH", path, "{\"title\": \"New\"}", NULL);
	h_assert_problem(&r, 428);
	h_resp_free(&r);
	r = hc_staff("PATCH", path, "{\"title\": \"New\"}", "If-Match: \"7\"");
	h_assert_problem(&r, 412);
	h_resp_free(&r);
	snprintf(ifm, sizeof(ifm), "If-Match: %s", etag);
	/* stock is refused in a PATCH (inventory adjustments own it), not ignored */
	r = hc_staff("PATCH", path, "{\"title\": \"Newer\", \"variants\": [{\"sku\": \"ETAG-1\","
		  " \"options\": {}, \"price\": 150, \"stock\": 99}]}", ifm);
	h_assert_problem_errors(&r, 422, "variants[0].stock:rule_violation");
	h_resp_free(&r);
	r = hc_staff("PATCH", path, "{\"title\": \"Newer\", \"variants\": [{\"sku\": \"ETAG-1\","
		  " \"options\": {}, \"price\": 150}]}", ifm);
	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "etag", etag2, sizeof(etag2)));
	assert_string_not_equal(etag, etag2);
	{
		json_object *j = h_json(&r);

		assert_string_equal(hc_jstr(j, "title"), "Newer");
		assert_int_equal(json_object_get_int(hc_jget(j, "version")), 2);
		assert_int_equal(json_object_get_int(hc_jget(j, "variants.0.price")), 150);
		/* stock was not changed by the refused PATCH */
		assert_int_equal(json_object_get_int(hc_jget(j, "variants.0.stock")), 0);
		json_object_put(j);
	}
	h_resp_free(&r);
	/* the old ETag is stale now */
	r = hc_staff("PATCH", path, "{\"title\": \"Again\"}", ifm);
	h_assert_problem(&r, 412);
	h_resp_free(&r);
	/* bad PATCH: nothing changes */
	r = hc_staff("PATCH", path, "{\"variants\": [{\"sku\": \"ETAG-1\", \"options\": {}, \"price\": -1}]}",
		  "If-Match: 2");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	{
		char f[128];

		snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"version\": 2}", id);
		assert_int_equal(h_db_count("products", f), 1);
	}
}

static void test_soft_delete_and_versions(void **state)
{
	char id[25], s[64], path[100], path2[300];
	struct h_resp r;
	json_object *j;

	(void)state;
	snprintf(s, sizeof(s), "sd-%s", hc_tag);
	hc_make_product(s, "Version one", "", "b", NULL,
		     "[{\"sku\": \"SD-1\", \"options\": {}, \"price\": 100}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
	r = hc_staff("PATCH", path, "{\"title\": \"Version two\"}", "If-Match: 1");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = hc_staff("DELETE", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* hidden from customers (a URL not read before: no cache) */
	snprintf(path2, sizeof(path2), "/api/v1/products/%s", s);
	r = h_get(path2);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* listed for staff */
	r = hc_staff("GET", "/api/v1/admin/products?deleted=true&limit=100", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, s));
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "%s/restore", path);
	r = hc_staff("POST", path2, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = hc_staff("POST", path2, NULL, NULL);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "/api/v1/products/%s", id);
	r = h_get(path2);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);

	/* versions: 1 (created), 2 (patched), 3 (deleted) are stored */
	snprintf(path2, sizeof(path2), "%s/versions", path);
	r = hc_staff("GET", path2, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 3);
	assert_int_equal(json_object_get_int(hc_jget(j, "items.0.version")), 3);
	assert_string_equal(hc_jstr(j, "items.2.snapshot.title"), "Version one");
	assert_string_equal(hc_jstr(j, "items.2.action"), "update");
	assert_non_null(hc_jstr(j, "items.2.changed_by"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "%s/versions/1/restore", path);
	r = hc_staff("POST", path2, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "title"), "Version one");
	assert_int_equal(json_object_get_int(hc_jget(j, "version")), 5);
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "%s/versions/99/restore", path);
	r = hc_staff("POST", path2, NULL, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
}

static void test_micro_cache(void **state)
{
	char path[128], v[64];
	struct h_resp r;
	const char *auth[] = { hc_staff_auth, NULL };

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/products?brand=cache%s", hc_tag);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = h_get(path);
	assert_true(h_header(&r, "x-cache-status", v, sizeof(v)));
	assert_string_equal(v, "HIT");
	h_resp_free(&r);
	r = h_request("GET", path, NULL, 0, auth);
	assert_true(h_header(&r, "x-cache-status", v, sizeof(v)));
	assert_string_equal(v, "BYPASS");
	h_resp_free(&r);
}

/* Asserts a public variant shows no figure but in_stock and the capped count. */
static void public_variant_check(json_object *v, bool in_stock, int left)
{
	json_object *x = NULL;

	assert_false(json_object_object_get_ex(v, "stock", &x));
	assert_false(json_object_object_get_ex(v, "low_stock_threshold", &x));
	assert_true(json_object_object_get_ex(v, "in_stock", &x));
	assert_int_equal(json_object_get_boolean(x), in_stock);
	assert_true(json_object_object_get_ex(v, "low_stock_left", &x));
	if (left < 0)
		assert_null(x);
	else
		assert_int_equal(json_object_get_int(x), left);
}

/*
 * The public catalog (detail and list) shows in_stock
 * and "only N left" up to EMPORIUM_LOW_STOCK_PUBLIC (5), never the exact
 * stock; staff read the figures.
 */
static void test_public_stock_is_capped(void **state)
{
	char id[25], s[64], path[160], brand[64], f[160];
	struct h_resp r;
	json_object *j, *x = NULL;

	(void)state;
	snprintf(s, sizeof(s), "stockcap-%s", hc_tag);
	snprintf(brand, sizeof(brand), "stockcap%s", hc_tag);
	hc_make_product(s, "Stock cap", "", brand, NULL,
		     "[{\"sku\": \"CAP-3\", \"options\": {\"size\": \"S\"}, \"price\": 100, \"stock\": 3},"
		     " {\"sku\": \"CAP-0\", \"options\": {\"size\": \"M\"}, \"price\": 100, \"stock\": 0},"
		     " {\"sku\": \"CAP-5\", \"options\": {\"size\": \"L\"}, \"price\": 100, \"stock\": 5},"
		     " {\"sku\": \"CAP-6\", \"options\": {\"size\": \"XL\"}, \"price\": 100, \"stock\": 6},"
		     " {\"sku\": \"CAP-987\", \"options\": {\"size\": \"XXL\"}, \"price\": 100, \"stock\": 987}]",
		     "active", id);
	/* the figures are stored: 1001 in all */
	snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"total_stock\": 1001}", id);
	assert_int_equal(h_db_count("products", f), 1);

	snprintf(path, sizeof(path), "/api/v1/products/%s", id);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	/* no "stock" member anywhere (in_stock and total_stock aside) */
	assert_null(strstr(r.body, "\"stock\""));
	assert_null(strstr(r.body, "total_stock"));
	j = h_json(&r);
	assert_false(json_object_object_get_ex(j, "total_stock", &x));
	assert_true(json_object_get_boolean(hc_jget(j, "in_stock")));
	public_variant_check(hc_jget(j, "variants.0"), true, 3);
	public_variant_check(hc_jget(j, "variants.1"), false, -1);
	public_variant_check(hc_jget(j, "variants.2"), true, 5);
	public_variant_check(hc_jget(j, "variants.3"), true, -1);
	public_variant_check(hc_jget(j, "variants.4"), true, -1);
	json_object_put(j);
	h_resp_free(&r);

	/* the list shows the same form; the in_stock filter still applies */
	snprintf(path, sizeof(path), "/api/v1/products?brand=%s&in_stock=true&size=M", brand);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 0);
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/products?brand=%s&in_stock=true&size=XXL", brand);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "\"stock\""));
	j = h_json(&r);
	assert_int_equal(json_object_array_length(hc_jget(j, "items")), 1);
	public_variant_check(hc_jget(j, "items.0.variants.4"), true, -1);
	public_variant_check(hc_jget(j, "items.0.variants.0"), true, 3);
	json_object_put(j);
	h_resp_free(&r);

	/* staff see the exact figures */
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
	r = hc_staff("GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_get_int(hc_jget(j, "variants.4.stock")), 987);
	assert_int_equal(json_object_get_int(hc_jget(j, "variants.0.stock")), 3);
	assert_int_equal(json_object_get_int(hc_jget(j, "total_stock")), 1001);
	json_object_put(j);
	h_resp_free(&r);
}

/* The cap is EMPORIUM_LOW_STOCK_PUBLIC: 2 hides a stock of 3; 0 hides every count. */
static void test_public_stock_cap_configured(void **state)
{
	static const struct { const char *env; int left3, left1; } cases[] = {
		{ "EMPORIUM_LOW_STOCK_PUBLIC=2\n", -1, 1 },
		{ "EMPORIUM_LOW_STOCK_PUBLIC=0\n", -1, -1 },
	};
	char id[25], s[64], path[160];
	struct h_resp r;
	json_object *j;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char v3[64], v1[64];

		assert_true(h_stack_reconfigure(cases[i].env));
		snprintf(s, sizeof(s), "capcfg%zu-%s", i, hc_tag);
		snprintf(v3, sizeof(v3), "CAPCFG%zu-3", i);
		snprintf(v1, sizeof(v1), "CAPCFG%zu-1", i);
		{
			char variants[512];

			snprintf(variants, sizeof(variants),
				 "[{\"sku\": \"%s\", \"options\": {\"size\": \"S\"}, \"price\": 1, \"stock\": 3},"
				 " {\"sku\": \"%s\", \"options\": {\"size\": \"M\"}, \"price\": 1, \"stock\": 1}]",
				 v3, v1);
			hc_make_product(s, "Cap config", "", "b", NULL, variants, "active", id);
		}
		snprintf(path, sizeof(path), "/api/v1/products/%s", id);
		r = h_get(path);
		assert_int_equal(r.status, 200);
		j = h_json(&r);
		public_variant_check(hc_jget(j, "variants.0"), true, cases[i].left3);
		public_variant_check(hc_jget(j, "variants.1"), true, cases[i].left1);
		json_object_put(j);
		h_resp_free(&r);
	}
	assert_true(h_stack_reconfigure(NULL));
}

/* The public ETag of a product, read past the micro-cache (a staff token). */
static void public_etag_get(const char *id, char *etag, size_t size)
{
	char path[128];
	const char *auth[] = { hc_staff_auth, NULL };
	struct h_resp r;

	snprintf(path, sizeof(path), "/api/v1/products/%s", id);
	r = h_request("GET", path, NULL, 0, auth);
	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "etag", etag, size));
	h_resp_free(&r);
}

static void stock_adjust(const char *sku, int delta)
{
	char body[256];
	struct h_resp r;

	/* hc_staff tags the SKU as hc_make_product did */
	snprintf(body, sizeof(body), "{\"sku\": \"%s\", \"delta\": %d, \"reason\": \"sale\"}", sku,
		 delta);
	r = hc_staff("POST", "/api/v1/admin/inventory/adjustments", body, NULL);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
}

/*
 * The public ETag moves with what the public sees, not with every stock
 * movement: otherwise polling it counts a product's sales. A sale from
 * 100 to 99 keeps it; reaching "only 3 left" and selling out change it.
 */
static void test_public_etag_hides_sales(void **state)
{
	char id[25], s[64], e1[128], e2[128], e3[128], e4[128];

	(void)state;
	snprintf(s, sizeof(s), "etagsales-%s", hc_tag);
	hc_make_product(s, "Etag sales", "", "b", NULL,
		     "[{\"sku\": \"ESALE-1\", \"options\": {}, \"price\": 100, \"stock\": 100}]",
		     "active", id);
	public_etag_get(id, e1, sizeof(e1));
	stock_adjust("ESALE-1", -1);
	stock_adjust("ESALE-1", -1);
	public_etag_get(id, e2, sizeof(e2));
	assert_string_equal(e1, e2);
	stock_adjust("ESALE-1", -95);
	public_etag_get(id, e3, sizeof(e3));
	assert_string_not_equal(e2, e3);
	stock_adjust("ESALE-1", -3);
	public_etag_get(id, e4, sizeof(e4));
	assert_string_not_equal(e3, e4);
	/* staff still get the ETag that every stock change moves */
	{
		char path[128], staff_etag[128];
		struct h_resp r;

		snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
		r = hc_staff("GET", path, NULL, NULL);
		assert_int_equal(r.status, 200);
		assert_true(h_header(&r, "etag", staff_etag, sizeof(staff_etag)));
		assert_non_null(strstr(staff_etag, "-1-4\"")); /* version 1, 4 stock changes */
		h_resp_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_html_is_text),
		cmocka_unit_test(test_etag_and_if_match),
		cmocka_unit_test(test_soft_delete_and_versions),
		cmocka_unit_test(test_micro_cache),
		cmocka_unit_test(test_public_stock_is_capped),
		cmocka_unit_test(test_public_stock_cap_configured),
		cmocka_unit_test(test_public_etag_hides_sales),
	};
	int rc;

	h_init();
	hc_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
