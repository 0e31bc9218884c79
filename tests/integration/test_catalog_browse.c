/*
 * Integration tests for browsing the catalog through the real stack
 * (HTTPS -> nginx -> emporium-fcgi -> database), split from
 * test_catalog.c: the category tree, filters, sorts, search ranking,
 * pagination under concurrent inserts and facets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <bson/bson.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness_catalog.h"

static void test_categories(void **state)
{
	char a[25], b[25], c[25], s[64], path[128];
	struct h_resp r;
	json_object *j;
	char id[25];

	(void)state;
	snprintf(s, sizeof(s), "ca-%s", hc_tag);
	hc_make_category(s, NULL, 50, a);
	snprintf(s, sizeof(s), "cb-%s", hc_tag);
	hc_make_category(s, a, 1, b);
	{
		char body[128];

		snprintf(body, sizeof(body), "{\"slug\": \"cdup-%s\", \"name\": \"x\"}", hc_tag);
		r = hc_staff("POST", "/api/v1/admin/categories", body, NULL);
		assert_int_equal(r.status, 201);
		h_resp_free(&r);
		r = hc_staff("POST", "/api/v1/admin/categories", body, NULL);
	}
	h_assert_problem_errors(&r, 409, "slug:not_unique");
	h_resp_free(&r);
	/* every fault of a category at once, each with its code */
	r = hc_staff("POST", "/api/v1/admin/categories",
		     "{\"slug\": \"Not A Slug\", \"name\": 5, \"position\": -1,"
		     " \"parent\": \"nope\", \"colour\": \"red\"}", NULL);
	h_assert_problem_errors(&r, 400,
				"colour:unknown_field slug:invalid_format name:invalid_type "
				"position:out_of_range parent:invalid_format");
	h_resp_free(&r);
	/* a cycle is refused */
	snprintf(path, sizeof(path), "/api/v1/admin/categories/%s", a);
	{
		char body[128];

		snprintf(body, sizeof(body), "{\"parent\": \"%s\"}", b);
		r = hc_staff("PATCH", path, body, NULL);
		h_assert_problem(&r, 400);
		h_resp_free(&r);
	}
	snprintf(s, sizeof(s), "incat-%s", hc_tag);
	hc_make_product(s, "In cat", "", "b", b,
		     "[{\"sku\": \"INCAT-1\", \"options\": {}, \"price\": 1}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/admin/categories/%s", b);
	r = hc_staff("DELETE", path, NULL, NULL);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	/* a child after its parent in position order, too */
	snprintf(s, sizeof(s), "cc-%s", hc_tag);
	hc_make_category(s, a, 99, c);
	r = h_get("/api/v1/categories");
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	{
		json_object *roots = hc_jget(j, "items"), *pa = NULL, *kids;
		int found = 0;

		assert_non_null(roots);
		for (size_t i = 0; i < json_object_array_length(roots); i++) {
			json_object *n = json_object_array_get_idx(roots, i);

			/* neither child may appear at the top level */
			assert_string_not_equal(hc_jstr(n, "id"), b);
			assert_string_not_equal(hc_jstr(n, "id"), c);
			if (strcmp(hc_jstr(n, "id"), a) == 0)
				pa = n;
		}
		assert_non_null(pa);
		kids = hc_jget(pa, "children");
		assert_non_null(kids);
		for (size_t i = 0; i < json_object_array_length(kids); i++) {
			const char *kid = hc_jstr(json_object_array_get_idx(kids, i), "id");

			found += strcmp(kid, b) == 0 || strcmp(kid, c) == 0;
		}
		assert_int_equal(found, 2);
	}
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
	items = hc_jget(j, "items");
	assert_non_null(items);
	for (size_t i = 0, o = 0; i < json_object_array_length(items); i++) {
		int w = snprintf(out + o, 8192 - o, "%s,",
				 hc_jstr(json_object_array_get_idx(items, i), "slug"));

		assert_true(w > 0 && (size_t)w < 8192 - o);
		o += (size_t)w;
	}
	if (next) {
		nc = hc_jget(j, "next_cursor");
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
	snprintf(brand, sizeof(brand), "brand%s", hc_tag);
	snprintf(s1, sizeof(s1), "men-%s", hc_tag);
	hc_make_category(s1, NULL, 1, men);
	snprintf(s1, sizeof(s1), "tops-%s", hc_tag);
	hc_make_category(s1, men, 1, tops);
	snprintf(s1, sizeof(s1), "shoes-%s", hc_tag);
	hc_make_category(s1, NULL, 2, shoes);
#define P(n, cat, vars, st) do { snprintf(s1, sizeof(s1), "f%s-%s", n, hc_tag); \
		hc_make_product(s1, "Thing " n, "", brand, cat, vars, st, id); } while (0)
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
		while (*p && wo < sizeof(w)) { wo += (size_t)snprintf(w + wo, sizeof(w) - wo, "f%c-%s,", *p, hc_tag); p++; } \
		if (strcmp(got, w) != 0) fprintf(stderr, "%s: got %s want %s\n", q, got, w); \
		assert_string_equal(got, w); free(got); } while (0)
	EXPECT("sort=newest", "cba");
	EXPECT("sort=price_asc", "bca");
	EXPECT("sort=price_desc", "acb");
	snprintf(s1, sizeof(s1), "category=men-%s&sort=price_asc", hc_tag);
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
		"/api/v1/products?category=no-such-category-here", "/api/v1/products?sort=title&sort=newest",
		"/api/v1/products?size=M,,L", "/api/v1/products?option.Material=x",
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
	snprintf(brand, sizeof(brand), "srch%s", hc_tag);
	snprintf(s, sizeof(s), "sdesc-%s", hc_tag);
	hc_make_product(s, "Plain shirt", "a zanzibarian pattern", brand, NULL,
		     "[{\"sku\": \"SRCH-D\", \"options\": {}, \"price\": 100}]", "active", id);
	snprintf(s, sizeof(s), "stitle-%s", hc_tag);
	hc_make_product(s, "Zanzibarian scarf", "soft", brand, NULL,
		     "[{\"sku\": \"SRCH-T\", \"options\": {}, \"price\": 200}]", "active", id);
	snprintf(s, sizeof(s), "snone-%s", hc_tag);
	hc_make_product(s, "Other scarf", "soft", brand, NULL,
		     "[{\"sku\": \"SRCH-N\", \"options\": {}, \"price\": 300}]", "active", id);
	snprintf(q, sizeof(q), "q=zanzibarian&brand=%s", brand);
	got = list_slugs(q, NULL, 0);
	snprintf(want, sizeof(want), "stitle-%s,sdesc-%s,", hc_tag, hc_tag);
	assert_string_equal(got, want);
	free(got);
	/* SKU is searchable too, and relevance pages with a cursor */
	snprintf(q, sizeof(q), "q=zanzibarian&brand=%s&limit=1&sort=relevance", brand);
	{
		char next[256], q2[600];

		got = list_slugs(q, next, sizeof(next));
		snprintf(want, sizeof(want), "stitle-%s,", hc_tag);
		assert_string_equal(got, want);
		free(got);
		assert_true(next[0]);
		snprintf(q2, sizeof(q2), "%s&cursor=%s", q, next);
		got = list_slugs(q2, next, sizeof(next));
		snprintf(want, sizeof(want), "sdesc-%s,", hc_tag);
		assert_string_equal(got, want);
		free(got);
	}
}

static void test_pagination_concurrent_inserts(void **state)
{
	char id[25], s[64], q[600], next[256] = "", brand[64], seen[4096] = "";
	int pages = 0, count = 0;

	(void)state;
	snprintf(brand, sizeof(brand), "page%s", hc_tag);
	for (int i = 0; i < 12; i++) {
		char vars[256];

		snprintf(s, sizeof(s), "pg%02d-%s", i, hc_tag);
		snprintf(vars, sizeof(vars),
			 "[{\"sku\": \"PG%02d-%s\", \"options\": {}, \"price\": %d}]", i, hc_tag,
			 1000 + (i % 4) * 100); /* ties on price: _id breaks them */
		hc_make_product(s, "Paged", "", brand, NULL, vars, "active", id);
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
			snprintf(s, sizeof(s), "new%d-%c-%s", pages, sort[0], hc_tag);
			snprintf(vars, sizeof(vars),
				 "[{\"sku\": \"NEW%d-%s-%s\", \"options\": {}, \"price\": 1}]", pages,
				 strcmp(sort, "newest") == 0 ? "n" : "p", hc_tag);
			hc_make_product(s, "Inserted", "", brand, NULL, vars, "active", id);
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
	snprintf(brand, sizeof(brand), "facet%s", hc_tag);
	snprintf(s, sizeof(s), "fa1-%s", hc_tag);
	hc_make_product(s, "F1", "", brand, NULL,
		     "[{\"sku\": \"FAC1-" "A\", \"options\": {\"size\": \"M\", \"color\": \"red\"}, \"price\": 700},"
		     "{\"sku\": \"FAC1-B\", \"options\": {\"size\": \"L\", \"color\": \"red\"}, \"price\": 900}]",
		     "active", id);
	snprintf(s, sizeof(s), "fa2-%s", hc_tag);
	hc_make_product(s, "F2", "", brand, NULL,
		     "[{\"sku\": \"FAC2-A\", \"options\": {\"size\": \"M\", \"color\": \"blue\"}, \"price\": 300}]",
		     "active", id);
	snprintf(path, sizeof(path), "/api/v1/products/facets?brand=%s", brand);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	/* the clothing scale, not the alphabet: M before L */
	assert_string_equal(hc_jstr(j, "sizes.0.value"), "M");
	assert_int_equal(json_object_get_int(hc_jget(j, "sizes.0.count")), 2);
	assert_string_equal(hc_jstr(j, "sizes.1.value"), "L");
	assert_int_equal(json_object_get_int(hc_jget(j, "sizes.1.count")), 1);
	assert_string_equal(hc_jstr(j, "colors.0.value"), "blue");
	assert_string_equal(hc_jstr(j, "colors.1.value"), "red");
	assert_int_equal(json_object_get_int(hc_jget(j, "price.min")), 300);
	assert_int_equal(json_object_get_int(hc_jget(j, "price.max")), 900);
	assert_int_equal(json_object_get_int(hc_jget(j, "price.count")), 2);
	json_object_put(j);
	h_resp_free(&r);
}

/* ---- category changes in parallel (races on the tree) ---- */

/* Up to three staff requests released together (h_parallel). */
struct cat_race {
	const char *method[3];
	char path[3][128];
	char body[3][256];
	long status[3];
};

static void cat_race_one(int i, void *arg)
{
	struct cat_race *a = arg;
	struct h_resp r = hc_staff(a->method[i], a->path[i], a->body[i][0] ? a->body[i] : NULL, NULL);

	a->status[i] = r.status;
	if (r.status >= 500)
		fprintf(stderr, "  %s %s: %ld %s\n", a->method[i], a->path[i], r.status, r.body);
	h_resp_free(&r);
}

/* Does the stored category id have parent as its parent_id? */
static bool cat_parent_is(const char *id, const char *parent)
{
	char f[160];

	snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"parent_id\": {\"$oid\": \"%s\"}}",
		 id, parent);
	return h_db_count("categories", f) == 1;
}

/* How many times id appears in a tree (an array of nodes with children). */
static int tree_count(json_object *nodes, const char *id)
{
	int n = 0;

	for (size_t i = 0; nodes && i < json_object_array_length(nodes); i++) {
		json_object *node = json_object_array_get_idx(nodes, i);
		const char *nid = hc_jstr(node, "id");

		n += nid && strcmp(nid, id) == 0;
		n += tree_count(hc_jget(node, "children"), id);
	}
	return n;
}

/* Every id listed once in GET /api/v1/categories (staff: past the micro-cache). */
static void tree_holds_each_once(char ids[][25], int n)
{
	struct h_resp r = hc_staff("GET", "/api/v1/categories", NULL, NULL);
	json_object *j;

	assert_int_equal(r.status, 200);
	j = h_json(&r);
	for (int i = 0; i < n; i++) {
		if (tree_count(hc_jget(j, "items"), ids[i]) != 1)
			fprintf(stderr, "  category %s listed %d times\n", ids[i],
				tree_count(hc_jget(j, "items"), ids[i]));
		assert_int_equal(tree_count(hc_jget(j, "items"), ids[i]), 1);
	}
	json_object_put(j);
	h_resp_free(&r);
}

#define CAT_ROUNDS 12

/*
 * Moves that would close a cycle, fired together: A under B with B under
 * A; A under B, B under C and C under A. Each check alone passes, so
 * without serialisation all could commit. At most all but one succeed,
 * the others are refused as a cycle, and the tree still lists everyone.
 */
static void test_category_moves_race(void **state)
{
	static char ids[CAT_ROUNDS * 5][25];
	int nids = 0, refused = 0, applied = 0;

	(void)state;
	for (int round = 0; round < CAT_ROUNDS; round++) {
		struct cat_race a;
		int k = round % 2 ? 3 : 2, ok = 0;
		char (*c)[25] = &ids[nids];
		char slug[64];

		memset(&a, 0, sizeof(a));
		for (int i = 0; i < k; i++) {
			snprintf(slug, sizeof(slug), "mv%d-%d-%s", round, i, hc_tag);
			hc_make_category(slug, NULL, 90, c[i]);
		}
		nids += k;
		for (int i = 0; i < k; i++) {
			a.method[i] = "PATCH";
			snprintf(a.path[i], sizeof(a.path[i]), "/api/v1/admin/categories/%s", c[i]);
			snprintf(a.body[i], sizeof(a.body[i]), "{\"parent\": \"%s\"}", c[(i + 1) % k]);
		}
		h_parallel(k, cat_race_one, &a);
		for (int i = 0; i < k; i++) {
			assert_true(a.status[i] == 200 || a.status[i] == 400);
			ok += a.status[i] == 200;
			refused += a.status[i] == 400;
			/* what the database holds agrees with the answers */
			assert_int_equal(cat_parent_is(c[i], c[(i + 1) % k]), a.status[i] == 200);
		}
		applied += ok;
		assert_true(ok <= k - 1);
	}
	fprintf(stderr, "  cycle race: %d moves applied, %d refused\n", applied, refused);
	tree_holds_each_once(ids, nids);
}

/*
 * A delete of an empty leaf fired with the insert of a child under it:
 * either the delete wins (the insert finds no parent) or the insert does
 * (the delete finds a child), never both, so no category is orphaned.
 */
static void test_category_delete_races_child(void **state)
{
	int deleted = 0, inserted = 0;

	(void)state;
	for (int round = 0; round < CAT_ROUNDS; round++) {
		struct cat_race a;
		char parent[25], slug[64], f[160];

		memset(&a, 0, sizeof(a));
		snprintf(slug, sizeof(slug), "dl%d-%s", round, hc_tag);
		hc_make_category(slug, NULL, 91, parent);
		a.method[0] = "DELETE";
		snprintf(a.path[0], sizeof(a.path[0]), "/api/v1/admin/categories/%s", parent);
		a.method[1] = "POST";
		snprintf(a.path[1], sizeof(a.path[1]), "/api/v1/admin/categories");
		snprintf(a.body[1], sizeof(a.body[1]),
			 "{\"slug\": \"dlc%d-%s\", \"name\": \"child\", \"parent\": \"%s\"}", round,
			 hc_tag, parent);
		h_parallel(2, cat_race_one, &a);
		assert_true((a.status[0] == 204 && a.status[1] == 400) ||
			    (a.status[0] == 409 && a.status[1] == 201));
		deleted += a.status[0] == 204;
		inserted += a.status[1] == 201;
		snprintf(f, sizeof(f), "{\"parent_id\": {\"$oid\": \"%s\"}}", parent);
		if (a.status[0] == 204)
			assert_int_equal(h_db_count("categories", f), 0);
		else
			assert_int_equal(h_db_count("categories", f), 1);
	}
	fprintf(stderr, "  delete race: %d deletes won, %d inserts won\n", deleted, inserted);
}

/*
 * The same for a product put into the category while it is deleted: the
 * delete counts no product, the create finds the category; never both.
 */
static void test_category_delete_races_product(void **state)
{
	int deleted = 0, created = 0;

	(void)state;
	for (int round = 0; round < CAT_ROUNDS; round++) {
		struct cat_race a;
		char cat[25], slug[64], f[160];

		memset(&a, 0, sizeof(a));
		snprintf(slug, sizeof(slug), "dp%d-%s", round, hc_tag);
		hc_make_category(slug, NULL, 93, cat);
		a.method[0] = "DELETE";
		snprintf(a.path[0], sizeof(a.path[0]), "/api/v1/admin/categories/%s", cat);
		a.method[1] = "POST";
		snprintf(a.path[1], sizeof(a.path[1]), "/api/v1/admin/products");
		snprintf(a.body[1], sizeof(a.body[1]),
			 "{\"title\": \"Race\", \"slug\": \"dpp%d-%s\", \"category\": \"%s\","
			 " \"variants\": [{\"sku\": \"DPP%d\", \"options\": {}, \"price\": 1}]}",
			 round, hc_tag, cat, round);
		h_parallel(2, cat_race_one, &a);
		assert_true((a.status[0] == 204 && a.status[1] == 400) ||
			    (a.status[0] == 409 && a.status[1] == 201));
		deleted += a.status[0] == 204;
		created += a.status[1] == 201;
		snprintf(f, sizeof(f), "{\"category_id\": {\"$oid\": \"%s\"}}", cat);
		assert_int_equal(h_db_count("products", f), a.status[1] == 201);
	}
	fprintf(stderr, "  delete vs product race: %d deletes won, %d creates won\n", deleted,
		created);
}

/*
 * A cycle written by other means (an old version, a restore) neither
 * drops its categories from the tree nor loops: they are listed as roots.
 */
static void test_category_tree_with_stored_cycle(void **state)
{
	char ids[2][25], doc[512];
	bson_oid_t oid[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		bson_oid_init(&oid[i], NULL);
		bson_oid_to_string(&oid[i], ids[i]);
	}
	for (int i = 0; i < 2; i++) {
		snprintf(doc, sizeof(doc),
			 "{\"_id\": {\"$oid\": \"%s\"}, \"slug\": \"loop%d-%s\", \"name\": \"Loop\","
			 " \"parent_id\": {\"$oid\": \"%s\"}, \"position\": 92}",
			 ids[i], i, hc_tag, ids[1 - i]);
		h_db_insert_json("categories", doc);
	}
	tree_holds_each_once(ids, 2);
	for (int i = 0; i < 2; i++) {
		char path[128];
		struct h_resp r;

		/* and they can be repaired: a move to the root */
		snprintf(path, sizeof(path), "/api/v1/admin/categories/%s", ids[i]);
		r = hc_staff("PATCH", path, "{\"parent\": null}", NULL);
		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_filters_and_sorts),
		cmocka_unit_test(test_filter_bad),
		cmocka_unit_test(test_search_ranking),
		cmocka_unit_test(test_pagination_concurrent_inserts),
		cmocka_unit_test(test_facets),
		cmocka_unit_test(test_category_moves_race),
		cmocka_unit_test(test_category_delete_races_child),
		cmocka_unit_test(test_category_delete_races_product),
		cmocka_unit_test(test_category_tree_with_stored_cycle),
	};
	int rc;

	h_init();
	hc_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
