/*
 * Integration tests for the catalog through the real stack (HTTPS ->
 * nginx -> emporium-fcgi -> database): categories, staff CRUD with roles,
 * validation, filters, sorts, search ranking, pagination under concurrent
 * inserts, facets, ETag/304, If-Match 412/428, soft delete, versions.
 *
 * Public GETs are micro-cached by nginx for 5 s per URL, so each test
 * uses a brand of its own (a unique run tag) and never reads the same
 * public URL twice expecting a change.
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

#include "harness.h"

static char staff_tok[1024], cust_tok[1024], staff_auth[1100], cust_auth[1100];
static char tag[32];

/* Every SKU a test writes gets the run's tag, so runs never collide. */
static char *tag_skus(const char *body)
{
	size_t cap = strlen(body) * 2 + 64, o = 0;
	char *out = malloc(cap);
	const char *p = body;

	while (*p) {
		if (strncmp(p, "\"sku\": \"", 8) == 0) {
			const char *end = strchr(p + 8, '"');

			if (end) {
				o += (size_t)snprintf(out + o, cap - o, "%.*s-%s", (int)(end - p), p, tag);
				p = end;
				continue;
			}
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

static struct h_resp staff(const char *method, const char *path, const char *body,
			   const char *extra)
{
	const char *h[] = { staff_auth, "Content-Type: application/json", extra, NULL };
	char *b = body ? tag_skus(body) : NULL;
	struct h_resp r = h_request(method, path, b, b ? strlen(b) : 0, h);

	free(b);
	return r;
}

static json_object *jget(json_object *o, const char *path)
{
	/* "a.b.0.c" */
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(o, tok, &o))
			return NULL;
	}
	return o;
}

static const char *jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	return v ? json_object_get_string(v) : NULL;
}

/* Creates a product; returns its id in out (25 bytes). */
static void make_product(const char *slug, const char *title, const char *desc,
			 const char *brand, const char *category, const char *variants,
			 const char *status, char *out)
{
	char body[4096];
	struct h_resp r;
	json_object *j;

	snprintf(body, sizeof(body),
		 "{\"title\": \"%s\", \"slug\": \"%s\", \"description\": \"%s\","
		 " \"brand\": \"%s\", \"category\": %s%s%s, \"status\": \"%s\","
		 " \"options\": [\"size\", \"color\"], \"variants\": %s}",
		 title, slug, desc, brand, category ? "\"" : "", category ? category : "null",
		 category ? "\"" : "", status, variants);
	r = staff("POST", "/api/v1/admin/products", body, NULL);
	if (r.status != 201)
		fprintf(stderr, "create %s: %ld %s\n", slug, r.status, r.body);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(out, 25, "%s", jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

static void make_category(const char *slug, const char *parent, int pos, char *out)
{
	char body[512];
	struct h_resp r;
	json_object *j;

	snprintf(body, sizeof(body), "{\"slug\": \"%s\", \"name\": \"Cat %s\", \"position\": %d,"
		 " \"parent\": %s%s%s}", slug, slug, pos, parent ? "\"" : "",
		 parent ? parent : "null", parent ? "\"" : "");
	r = staff("POST", "/api/v1/admin/categories", body, NULL);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(out, 25, "%s", jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

static void test_roles(void **state)
{
	const char *cust[] = { cust_auth, "Content-Type: application/json", NULL };
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
	struct h_resp r = staff("POST", "/api/v1/admin/products", body, NULL);

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

	snprintf(dslug, sizeof(dslug), "dup-base-%s", tag);
	make_product(dslug, "Base", "", "b", NULL,
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
		     "{\"sku\": \"B1\", \"options\": {}, \"price\": 2}"), "sku", 400);
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
	snprintf(slug, sizeof(slug), "html-%s", tag);
	make_product(slug, "<script>alert(1)</script>", "<b>bold</b> & <img src=x onerror=1>",
		     "b", NULL, "[{\"sku\": \"HTML-1\", \"options\": {}, \"price\": 5}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/products/%s", slug);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(jstr(j, "title"), "<script>alert(1)</script>");
	assert_string_equal(jstr(j, "description"), "<b>bold</b> & <img src=x onerror=1>");
	json_object_put(j);
	h_resp_free(&r);
}

/* Runs a public list and returns the slugs joined by ',' (caller frees). */
static char *list_slugs(const char *query, char *next, size_t next_size)
{
	char path[1024];
	struct h_resp r;
	json_object *j, *items, *nc;
	char *out = calloc(1, 8192);

	snprintf(path, sizeof(path), "/api/v1/products?%s", query);
	r = h_get(path);
	if (r.status != 200)
		fprintf(stderr, "%s -> %ld %s\n", path, r.status, r.body);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	items = jget(j, "items");
	assert_non_null(items);
	for (size_t i = 0, o = 0; i < json_object_array_length(items); i++) {
		int w = snprintf(out + o, 8192 - o, "%s,",
				 jstr(json_object_array_get_idx(items, i), "slug"));

		assert_true(w > 0 && (size_t)w < 8192 - o);
		o += (size_t)w;
	}
	if (next) {
		nc = jget(j, "next_cursor");
		snprintf(next, next_size, "%s", nc ? json_object_get_string(nc) : "");
	}
	json_object_put(j);
	h_resp_free(&r);
	return out;
}

static void test_filters_and_sorts(void **state)
{
	char men[25], tops[25], shoes[25], id[25], s1[64], q[512], brand[64];
	char *got;

	(void)state;
	snprintf(brand, sizeof(brand), "brand%s", tag);
	snprintf(s1, sizeof(s1), "men-%s", tag);
	make_category(s1, NULL, 1, men);
	snprintf(s1, sizeof(s1), "tops-%s", tag);
	make_category(s1, men, 1, tops);
	snprintf(s1, sizeof(s1), "shoes-%s", tag);
	make_category(s1, NULL, 2, shoes);
#define P(n, cat, vars, st) do { snprintf(s1, sizeof(s1), "f%s-%s", n, tag); \
		make_product(s1, "Thing " n, "", brand, cat, vars, st, id); } while (0)
	P("a", tops, "[{\"sku\": \"FA1-T\", \"options\": {\"size\": \"M\", \"color\": \"red\"}, \"price\": 3000, \"stock\": 5}]", "active");
	P("b", men, "[{\"sku\": \"FB1-T\", \"options\": {\"size\": \"L\", \"color\": \"blue\"}, \"price\": 1000, \"stock\": 0},"
		    "{\"sku\": \"FB2-T\", \"options\": {\"size\": \"M\", \"color\": \"blue\"}, \"price\": 1500, \"stock\": 0}]", "active");
	P("c", shoes, "[{\"sku\": \"FC1-T\", \"options\": {\"size\": \"M\", \"color\": \"red\"}, \"price\": 2000, \"stock\": 2}]", "active");
	P("d", shoes, "[{\"sku\": \"FD1-T\", \"options\": {\"size\": \"S\", \"color\": \"red\"}, \"price\": 500, \"stock\": 2}]", "draft");
	P("e", tops, "[{\"sku\": \"FE1-T\", \"options\": {\"size\": \"S\", \"color\": \"green\"}, \"price\": 2500, \"stock\": 1}]", "archived");
#undef P
	/* SKUs are global: make them unique per run */
#define EXPECT(query, want) do { \
		snprintf(q, sizeof(q), "brand=%s&%s", brand, query); \
		got = list_slugs(q, NULL, 0); \
		char w[512] = ""; const char *p = want; size_t wo = 0; \
		while (*p && wo < sizeof(w)) { wo += (size_t)snprintf(w + wo, sizeof(w) - wo, "f%c-%s,", *p, tag); p++; } \
		if (strcmp(got, w) != 0) fprintf(stderr, "%s: got %s want %s\n", q, got, w); \
		assert_string_equal(got, w); free(got); } while (0)
	EXPECT("sort=newest", "cba");
	EXPECT("sort=price_asc", "bca");
	EXPECT("sort=price_desc", "acb");
	snprintf(s1, sizeof(s1), "category=men-%s&sort=price_asc", tag);
	EXPECT(s1, "ba");          /* men includes its subcategory tops */
	snprintf(s1, sizeof(s1), "category=%s&sort=price_asc", tops);
	EXPECT(s1, "a");
	EXPECT("size=M&sort=price_asc", "bca");
	EXPECT("size=M&color=red&sort=price_asc", "ca");
	EXPECT("color=blue", "b");
	EXPECT("in_stock=true&sort=price_asc", "ca");
	EXPECT("min_price=1200&max_price=2500&sort=price_asc", "bc");
	EXPECT("min_price=2600", "a");
	EXPECT("max_price=999", "");
#undef EXPECT
}

static void test_filter_bad(void **state)
{
	const char *bad[] = {
		"/api/v1/products?category[$ne]=x", "/api/v1/products?min_price={\"$gt\":0}",
		"/api/v1/products?min_price=-1", "/api/v1/products?min_price=1.5",
		"/api/v1/products?limit=100000", "/api/v1/products?limit=0",
		"/api/v1/products?cursor=not-a-cursor", "/api/v1/products?cursor=%24%24%24",
		"/api/v1/products?sort=cheapest", "/api/v1/products?sort=relevance",
		"/api/v1/products?size=$ne", "/api/v1/products?in_stock=maybe",
		"/api/v1/products?category=no-such-category-here", "/api/v1/products?size=M&size=L",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct h_resp r = h_get(bad[i]);

		if (r.status != 400)
			fprintf(stderr, "%s -> %ld %s\n", bad[i], r.status, r.body);
		h_assert_problem(&r, 400);
		assert_non_null(strstr(r.body, "\"field\""));
		h_resp_free(&r);
	}
}

static void test_search_ranking(void **state)
{
	char id[25], s[64], q[256], brand[64];
	char *got, want[256];

	(void)state;
	snprintf(brand, sizeof(brand), "srch%s", tag);
	snprintf(s, sizeof(s), "sdesc-%s", tag);
	make_product(s, "Plain shirt", "a zanzibarian pattern", brand, NULL,
		     "[{\"sku\": \"SRCH-D\", \"options\": {}, \"price\": 100}]", "active", id);
	snprintf(s, sizeof(s), "stitle-%s", tag);
	make_product(s, "Zanzibarian scarf", "soft", brand, NULL,
		     "[{\"sku\": \"SRCH-T\", \"options\": {}, \"price\": 200}]", "active", id);
	snprintf(s, sizeof(s), "snone-%s", tag);
	make_product(s, "Other scarf", "soft", brand, NULL,
		     "[{\"sku\": \"SRCH-N\", \"options\": {}, \"price\": 300}]", "active", id);
	snprintf(q, sizeof(q), "q=zanzibarian&brand=%s", brand);
	got = list_slugs(q, NULL, 0);
	snprintf(want, sizeof(want), "stitle-%s,sdesc-%s,", tag, tag);
	assert_string_equal(got, want);
	free(got);
	/* SKU is searchable too, and relevance pages with a cursor */
	snprintf(q, sizeof(q), "q=zanzibarian&brand=%s&limit=1&sort=relevance", brand);
	{
		char next[256], q2[600];

		got = list_slugs(q, next, sizeof(next));
		snprintf(want, sizeof(want), "stitle-%s,", tag);
		assert_string_equal(got, want);
		free(got);
		assert_true(next[0]);
		snprintf(q2, sizeof(q2), "%s&cursor=%s", q, next);
		got = list_slugs(q2, next, sizeof(next));
		snprintf(want, sizeof(want), "sdesc-%s,", tag);
		assert_string_equal(got, want);
		free(got);
	}
}

static void test_pagination_concurrent_inserts(void **state)
{
	char id[25], s[64], q[600], next[256] = "", brand[64], seen[4096] = "";
	int pages = 0, count = 0;

	(void)state;
	snprintf(brand, sizeof(brand), "page%s", tag);
	for (int i = 0; i < 12; i++) {
		char vars[256];

		snprintf(s, sizeof(s), "pg%02d-%s", i, tag);
		snprintf(vars, sizeof(vars),
			 "[{\"sku\": \"PG%02d-%s\", \"options\": {}, \"price\": %d}]", i, tag,
			 1000 + (i % 4) * 100); /* ties on price: _id breaks them */
		make_product(s, "Paged", "", brand, NULL, vars, "active", id);
	}
	for (const char *sort = "price_asc"; sort; sort = strcmp(sort, "price_asc") == 0 ? "newest" : NULL) {
		next[0] = '\0';
		seen[0] = '\0';
		pages = count = 0;
		do {
			char *got, vars[256];

			snprintf(q, sizeof(q), "brand=%s&sort=%s&limit=5%s%s", brand, sort,
				 next[0] ? "&cursor=" : "", next);
			got = list_slugs(q, next, sizeof(next));
			for (char *p = strtok(got, ","); p; p = strtok(NULL, ",")) {
				char needle[80];

				snprintf(needle, sizeof(needle), "|%s|", p);
				assert_null(strstr(seen, needle)); /* no duplicates */
				assert_true(strlen(seen) + strlen(needle) < sizeof(seen));
				memcpy(seen + strlen(seen), needle, strlen(needle) + 1);
				if (strncmp(p, "pg", 2) == 0)
					count++;
			}
			free(got);
			/* a concurrent insert, cheapest and newest, between pages */
			snprintf(s, sizeof(s), "new%d-%c-%s", pages, sort[0], tag);
			snprintf(vars, sizeof(vars),
				 "[{\"sku\": \"NEW%d-%s-%s\", \"options\": {}, \"price\": 1}]", pages,
				 strcmp(sort, "newest") == 0 ? "n" : "p", tag);
			make_product(s, "Inserted", "", brand, NULL, vars, "active", id);
			pages++;
		} while (next[0] && pages < 20);
		assert_int_equal(count, 12); /* no gaps among the pre-existing */
	}
}

static void test_facets(void **state)
{
	char id[25], s[64], path[256], brand[64];
	struct h_resp r;
	json_object *j;

	(void)state;
	snprintf(brand, sizeof(brand), "facet%s", tag);
	snprintf(s, sizeof(s), "fa1-%s", tag);
	make_product(s, "F1", "", brand, NULL,
		     "[{\"sku\": \"FAC1-" "A\", \"options\": {\"size\": \"M\", \"color\": \"red\"}, \"price\": 700},"
		     "{\"sku\": \"FAC1-B\", \"options\": {\"size\": \"L\", \"color\": \"red\"}, \"price\": 900}]",
		     "active", id);
	snprintf(s, sizeof(s), "fa2-%s", tag);
	make_product(s, "F2", "", brand, NULL,
		     "[{\"sku\": \"FAC2-A\", \"options\": {\"size\": \"M\", \"color\": \"blue\"}, \"price\": 300}]",
		     "active", id);
	snprintf(path, sizeof(path), "/api/v1/products/facets?brand=%s", brand);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(jstr(j, "sizes.0.value"), "L");
	assert_int_equal(json_object_get_int(jget(j, "sizes.0.count")), 1);
	assert_string_equal(jstr(j, "sizes.1.value"), "M");
	assert_int_equal(json_object_get_int(jget(j, "sizes.1.count")), 2);
	assert_string_equal(jstr(j, "colors.0.value"), "blue");
	assert_string_equal(jstr(j, "colors.1.value"), "red");
	assert_int_equal(json_object_get_int(jget(j, "price.min")), 300);
	assert_int_equal(json_object_get_int(jget(j, "price.max")), 900);
	assert_int_equal(json_object_get_int(jget(j, "price.count")), 2);
	json_object_put(j);
	h_resp_free(&r);
}

static void test_etag_and_if_match(void **state)
{
	char id[25], s[64], path[128], etag[128], etag2[128], ifm[200];
	const char *inm[2] = { ifm, NULL };
	struct h_resp r;

	(void)state;
	snprintf(s, sizeof(s), "etag-%s", tag);
	make_product(s, "Etag", "", "b", NULL,
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
	r = staff("PATCH", path, "{\"title\": \"New\"}", NULL);
	h_assert_problem(&r, 428);
	h_resp_free(&r);
	r = staff("PATCH", path, "{\"title\": \"New\"}", "If-Match: \"7\"");
	h_assert_problem(&r, 412);
	h_resp_free(&r);
	snprintf(ifm, sizeof(ifm), "If-Match: %s", etag);
	r = staff("PATCH", path, "{\"title\": \"Newer\", \"variants\": [{\"sku\": \"ETAG-1\","
		  " \"options\": {}, \"price\": 150, \"stock\": 99}]}", ifm);
	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "etag", etag2, sizeof(etag2)));
	assert_string_not_equal(etag, etag2);
	{
		json_object *j = h_json(&r);

		assert_string_equal(jstr(j, "title"), "Newer");
		assert_int_equal(json_object_get_int(jget(j, "version")), 2);
		assert_int_equal(json_object_get_int(jget(j, "variants.0.price")), 150);
		/* stock is not edited by PATCH: inventory adjustments own it */
		assert_int_equal(json_object_get_int(jget(j, "variants.0.stock")), 0);
		json_object_put(j);
	}
	h_resp_free(&r);
	/* the old ETag is stale now */
	r = staff("PATCH", path, "{\"title\": \"Again\"}", ifm);
	h_assert_problem(&r, 412);
	h_resp_free(&r);
	/* bad PATCH: nothing changes */
	r = staff("PATCH", path, "{\"variants\": [{\"sku\": \"ETAG-1\", \"options\": {}, \"price\": -1}]}",
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
	snprintf(s, sizeof(s), "sd-%s", tag);
	make_product(s, "Version one", "", "b", NULL,
		     "[{\"sku\": \"SD-1\", \"options\": {}, \"price\": 100}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
	r = staff("PATCH", path, "{\"title\": \"Version two\"}", "If-Match: 1");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = staff("DELETE", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* hidden from customers (a URL not read before: no cache) */
	snprintf(path2, sizeof(path2), "/api/v1/products/%s", s);
	r = h_get(path2);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* listed for staff */
	r = staff("GET", "/api/v1/admin/products?deleted=true&limit=100", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, s));
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "%s/restore", path);
	r = staff("POST", path2, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = staff("POST", path2, NULL, NULL);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "/api/v1/products/%s", id);
	r = h_get(path2);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);

	/* versions: 1 (created), 2 (patched), 3 (deleted) are stored */
	snprintf(path2, sizeof(path2), "%s/versions", path);
	r = staff("GET", path2, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_int_equal(json_object_array_length(jget(j, "items")), 3);
	assert_int_equal(json_object_get_int(jget(j, "items.0.version")), 3);
	assert_string_equal(jstr(j, "items.2.snapshot.title"), "Version one");
	assert_string_equal(jstr(j, "items.2.action"), "update");
	assert_non_null(jstr(j, "items.2.changed_by"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "%s/versions/1/restore", path);
	r = staff("POST", path2, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(jstr(j, "title"), "Version one");
	assert_int_equal(json_object_get_int(jget(j, "version")), 5);
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "%s/versions/99/restore", path);
	r = staff("POST", path2, NULL, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
}

static void test_categories(void **state)
{
	char a[25], b[25], c[25], s[64], path[128];
	struct h_resp r;
	json_object *j;
	char id[25];

	(void)state;
	snprintf(s, sizeof(s), "ca-%s", tag);
	make_category(s, NULL, 50, a);
	snprintf(s, sizeof(s), "cb-%s", tag);
	make_category(s, a, 1, b);
	{
		char body[128];

		snprintf(body, sizeof(body), "{\"slug\": \"cdup-%s\", \"name\": \"x\"}", tag);
		r = staff("POST", "/api/v1/admin/categories", body, NULL);
		assert_int_equal(r.status, 201);
		h_resp_free(&r);
		r = staff("POST", "/api/v1/admin/categories", body, NULL);
	}
	h_assert_problem(&r, 409);
	assert_non_null(strstr(r.body, "\"field\":\"slug\""));
	h_resp_free(&r);
	/* a cycle is refused */
	snprintf(path, sizeof(path), "/api/v1/admin/categories/%s", a);
	{
		char body[128];

		snprintf(body, sizeof(body), "{\"parent\": \"%s\"}", b);
		r = staff("PATCH", path, body, NULL);
		h_assert_problem(&r, 400);
		h_resp_free(&r);
	}
	snprintf(s, sizeof(s), "incat-%s", tag);
	make_product(s, "In cat", "", "b", b,
		     "[{\"sku\": \"INCAT-1\", \"options\": {}, \"price\": 1}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/admin/categories/%s", b);
	r = staff("DELETE", path, NULL, NULL);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	/* a child after its parent in position order, too */
	snprintf(s, sizeof(s), "cc-%s", tag);
	make_category(s, a, 99, c);
	r = h_get("/api/v1/categories");
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	{
		json_object *roots = jget(j, "items"), *pa = NULL, *kids;
		int found = 0;

		assert_non_null(roots);
		for (size_t i = 0; i < json_object_array_length(roots); i++) {
			json_object *n = json_object_array_get_idx(roots, i);

			/* neither child may appear at the top level */
			assert_string_not_equal(jstr(n, "id"), b);
			assert_string_not_equal(jstr(n, "id"), c);
			if (strcmp(jstr(n, "id"), a) == 0)
				pa = n;
		}
		assert_non_null(pa);
		kids = jget(pa, "children");
		assert_non_null(kids);
		for (size_t i = 0; i < json_object_array_length(kids); i++) {
			const char *kid = jstr(json_object_array_get_idx(kids, i), "id");

			found += strcmp(kid, b) == 0 || strcmp(kid, c) == 0;
		}
		assert_int_equal(found, 2);
	}
	json_object_put(j);
	h_resp_free(&r);
}

static void test_micro_cache(void **state)
{
	char path[128], v[64];
	struct h_resp r;
	const char *auth[] = { staff_auth, NULL };

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/products?brand=cache%s", tag);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_html_is_text),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_filters_and_sorts),
		cmocka_unit_test(test_filter_bad),
		cmocka_unit_test(test_search_ranking),
		cmocka_unit_test(test_pagination_concurrent_inserts),
		cmocka_unit_test(test_facets),
		cmocka_unit_test(test_etag_and_if_match),
		cmocka_unit_test(test_soft_delete_and_versions),
		cmocka_unit_test(test_micro_cache),
	};
	int rc;

	h_init();
	snprintf(tag, sizeof(tag), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid() & 0xfff);
	h_user_token("staff", staff_tok, sizeof(staff_tok), NULL, 0);
	h_user_token("customer", cust_tok, sizeof(cust_tok), NULL, 0);
	h_bearer(staff_tok, staff_auth, sizeof(staff_auth));
	h_bearer(cust_tok, cust_auth, sizeof(cust_auth));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
