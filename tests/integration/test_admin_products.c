/*
 * Integration tests of staff product management's conveniences (issue
 * 17) through the real stack (HTTPS -> nginx -> emporium-fcgi ->
 * database): every field error of a product at once with its code and
 * path, slugs made from the title (unique, also under a burst of
 * parallel creates), explicit variant changes in a PATCH (stock
 * refused, removal by variants_remove only, a stocked variant kept), a
 * soft-deleted product read-only until restored (images too), and the
 * staff search (q, sku, category, status). Refused input changes
 * nothing: each case checks the database.
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

#include "harness_catalog.h"

/* The product's stored version, read from the database. */
static int stored_version(const char *id)
{
	char f[128];

	for (int v = 1; v < 50; v++) {
		snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"version\": %d}", id, v);
		if (h_db_count("products", f) == 1)
			return v;
	}
	return -1;
}

static void post_expect(const char *body, long status, const char *errors)
{
	long before = h_db_count("products", "{}");
	struct h_resp r = hc_staff("POST", "/api/v1/admin/products", body, NULL);

	h_assert_problem_errors(&r, status, errors);
	h_resp_free(&r);
	assert_int_equal(h_db_count("products", "{}"), before);
}

/* Every field error of a create at once, with its code and path. */
static void test_create_collects_every_error(void **state)
{
	(void)state;
	/* options are invalid, so the variants' option names are not
	 * checked against them (no spurious variants[i].options.size) */
	post_expect("{\"title\": \"\", \"slug\": \"Bad Slug\", \"status\": \"live\", \"colour\": 1,"
		    " \"options\": [\"size\", \"size\"], \"variants\": ["
		    "{\"sku\": \"CE-A\", \"options\": {\"size\": \"M\"}, \"price\": -1},"
		    "{\"sku\": \"CE-A\", \"options\": {\"size\": \"L\"}, \"price\": \"x\"}]}",
		    400,
		    "colour:unknown_field title:too_short slug:invalid_format status:invalid_value "
		    "options[1]:not_unique variants[0].price:out_of_range "
		    "variants[1].price:invalid_type variants[1].sku:not_unique");
	/* valid options: an undeclared option name is reported, and a
	 * missing price, an unknown variant field, a bad category */
	post_expect("{\"title\": \"T\", \"slug\": \"ce-2\", \"category\": \"xyz\","
		    " \"options\": [\"size\"], \"option_order\": {\"colour\": [\"a\"]}, \"variants\": ["
		    "{\"sku\": \"CE-B\", \"options\": {\"flavour\": \"x\"}, \"weight\": 1}]}",
		    400,
		    "category:invalid_format option_order.colour:invalid_value "
		    "variants[0].weight:unknown_field variants[0].price:required "
		    "variants[0].options.flavour:invalid_value");
	/* a SKU repeated within the body names the second variant */
	post_expect("{\"title\": \"T\", \"slug\": \"ce-3\", \"variants\": ["
		    "{\"sku\": \"CE-C\", \"options\": {}, \"price\": 1},"
		    "{\"sku\": \"CE-D\", \"options\": {}, \"price\": 1},"
		    "{\"sku\": \"CE-C\", \"options\": {}, \"price\": 2}]}",
		    400, "variants[2].sku:not_unique");
	post_expect("{\"title\": \"T\", \"slug\": \"ce-4\", \"variants\": []}", 400,
		    "variants:too_short");
	post_expect("{\"title\": \"T\", \"slug\": \"ce-5\"}", 400, "variants:required");
	post_expect("{\"title\": \"T\", \"slug\": \"ce-6\", \"attributes\": {\"Bad\": \"x\","
		    " \"ok\": 5}, \"variants\": [{\"sku\": \"bad sku\", \"options\": {}, \"price\": 1,"
		    " \"stock\": -1}]}",
		    400, "attributes.Bad:invalid_format attributes.ok:invalid_type "
			 "variants[0].sku:invalid_format variants[0].stock:out_of_range");
}

/* A PATCH collects too, and changes nothing when refused. */
static void test_patch_collects_every_error(void **state)
{
	char id[25], slug[64], path[128];
	struct h_resp r;

	(void)state;
	snprintf(slug, sizeof(slug), "pc-%s", hc_tag);
	hc_make_product(slug, "Patch collect", "", "b", NULL,
			"[{\"sku\": \"PC-1\", \"options\": {}, \"price\": 100}]", "draft", id);
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
	r = hc_staff("PATCH", path, "{\"title\": 5, \"status\": \"gone\", \"currency\": \"usd\","
		     " \"nope\": 1}", "If-Match: 1");
	h_assert_problem_errors(&r, 400, "nope:unknown_field title:invalid_type "
					 "status:invalid_value currency:invalid_format");
	h_resp_free(&r);
	r = hc_staff("PATCH", path, "{\"variants\": [{\"sku\": \"PC-1\", \"options\": {},"
		     " \"price\": 1000000000000000000}]}", "If-Match: 1");
	h_assert_problem_errors(&r, 400, "variants[0].price:out_of_range");
	h_resp_free(&r);
	assert_int_equal(stored_version(id), 1);
}

/* The slug of a product, read back from the create's response. */
static void create_for_slug(const char *title, const char *sku, char *slug, size_t size,
			    char *id)
{
	char body[1024];
	struct h_resp r;
	json_object *j;

	snprintf(body, sizeof(body), "{\"title\": \"%s\", \"variants\": [{\"sku\": \"%s\","
		 " \"options\": {}, \"price\": 100}]}", title, sku);
	r = hc_staff("POST", "/api/v1/admin/products", body, NULL);
	if (r.status != 201)
		fprintf(stderr, "create %s: %ld %s\n", title, r.status, r.body);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(slug, size, "%s", hc_jstr(j, "slug"));
	if (id)
		snprintf(id, 25, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

struct slug_race {
	char slugs[8][128];
	long status[8];
};

static void slug_race_one(int i, void *arg)
{
	struct slug_race *s = arg;
	char body[512];
	struct h_resp r;
	json_object *j;

	snprintf(body, sizeof(body), "{\"title\": \"Race Lamp %s\", \"variants\": [{\"sku\":"
		 " \"RACE-%d\", \"options\": {}, \"price\": 100}]}", hc_tag, i);
	r = hc_staff("POST", "/api/v1/admin/products", body, NULL);
	s->status[i] = r.status;
	if (r.status == 201) {
		j = h_json(&r);
		snprintf(s->slugs[i], sizeof(s->slugs[i]), "%s", hc_jstr(j, "slug"));
		json_object_put(j);
	}
	h_resp_free(&r);
}

static void test_slug_from_title(void **state)
{
	char title[512], want[256], slug[128], id[25], longt[300];
	struct slug_race race;

	(void)state;
	/* folded accents, sharp s, o-slash, an em dash, an apostrophe */
	snprintf(title, sizeof(title), "Cr\xc3\xa8me Br\xc3\xbbl\xc3\xa9" "e Stra\xc3\x9f" "e "
		 "\xc3\x98l \xe2\x80\x94 Men's 2 Pack %s", hc_tag);
	snprintf(want, sizeof(want), "creme-brulee-strasse-ol-mens-2-pack-%s", hc_tag);
	create_for_slug(title, "SLUG-1", slug, sizeof(slug), NULL);
	assert_string_equal(slug, want);
	/* taken: -2, then -3 */
	create_for_slug(title, "SLUG-2", slug, sizeof(slug), NULL);
	snprintf(want, sizeof(want), "creme-brulee-strasse-ol-mens-2-pack-%s-2", hc_tag);
	assert_string_equal(slug, want);
	create_for_slug(title, "SLUG-3", slug, sizeof(slug), NULL);
	snprintf(want, sizeof(want), "creme-brulee-strasse-ol-mens-2-pack-%s-3", hc_tag);
	assert_string_equal(slug, want);
	/* nothing usable in the title: product-<the id's last 8 digits> */
	create_for_slug("\xe6\x97\xa5\xe6\x9c\xac !!", "SLUG-4", slug, sizeof(slug), id);
	snprintf(want, sizeof(want), "product-%s", id + 16);
	assert_string_equal(slug, want);
	/* bounded: 80 characters */
	snprintf(longt, sizeof(longt), "%s ", hc_tag);
	memset(longt + strlen(longt), 'b', 150);
	longt[strlen(hc_tag) + 151] = '\0';
	create_for_slug(longt, "SLUG-5", slug, sizeof(slug), NULL);
	assert_int_equal(strlen(slug), 80);
	assert_int_equal(strncmp(slug, hc_tag, strlen(hc_tag)), 0);
	assert_int_equal(slug[strlen(hc_tag)], '-');
	assert_int_equal(strspn(slug + strlen(hc_tag) + 1, "b"), 80 - strlen(hc_tag) - 1);

	/* a burst of creates of one title: each gets its own slug */
	memset(&race, 0, sizeof(race));
	h_parallel(6, slug_race_one, &race);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(race.status[i], 201);
		for (int k = 0; k < i; k++)
			assert_string_not_equal(race.slugs[i], race.slugs[k]);
	}
	{
		char f[256];

		snprintf(f, sizeof(f), "{\"slug\": {\"$regex\": \"^race-lamp-%s(-[2-6])?$\"}}", hc_tag);
		assert_int_equal(h_db_count("products", f), 6);
	}
}

/* The stock of variant i in the staff view of a product. */
static long staff_stock(const char *path, int i, int *nvariants)
{
	struct h_resp r = hc_staff("GET", path, NULL, NULL);
	json_object *j, *vars;
	char p[32];
	long s;

	assert_int_equal(r.status, 200);
	j = h_json(&r);
	vars = hc_jget(j, "variants");
	*nvariants = (int)json_object_array_length(vars);
	snprintf(p, sizeof(p), "variants.%d.stock", i);
	s = json_object_get_int64(hc_jget(j, p));
	json_object_put(j);
	h_resp_free(&r);
	return s;
}

static void patch_expect(const char *path, const char *body, int version, long status,
			 const char *errors)
{
	char ifm[64];
	struct h_resp r;

	snprintf(ifm, sizeof(ifm), "If-Match: %d", version);
	r = hc_staff("PATCH", path, body, ifm);
	if (status == 200) {
		if (r.status != 200)
			fprintf(stderr, "PATCH %s: %ld %s\n", body, r.status, r.body);
		assert_int_equal(r.status, 200);
	} else {
		h_assert_problem_errors(&r, status, errors);
	}
	h_resp_free(&r);
}

static void test_patch_variants_explicit(void **state)
{
	char id[25], slug[64], path[128], body[1024], f[256];
	int n = 0;
	struct h_resp r;

	(void)state;
	snprintf(slug, sizeof(slug), "pv-%s", hc_tag);
	hc_make_product(slug, "Patch variants", "", "b", NULL,
			"[{\"sku\": \"PV-A\", \"options\": {\"size\": \"S\"}, \"price\": 100},"
			" {\"sku\": \"PV-B\", \"options\": {\"size\": \"M\"}, \"price\": 100},"
			" {\"sku\": \"PV-C\", \"options\": {\"size\": \"L\"}, \"price\": 100, \"stock\": 5}]",
			"draft", id);
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
#define VA "{\"sku\": \"PV-A\", \"options\": {\"size\": \"S\"}, \"price\": 100}"
#define VB "{\"sku\": \"PV-B\", \"options\": {\"size\": \"M\"}, \"price\": 100}"
#define VC "{\"sku\": \"PV-C\", \"options\": {\"size\": \"L\"}, \"price\": 120}"
	/* stock in a PATCH: refused, naming the variant, not ignored */
	r = hc_staff("PATCH", path, "{\"variants\": [" VA ", " VB ", {\"sku\": \"PV-C\","
		     " \"options\": {\"size\": \"L\"}, \"price\": 100, \"stock\": 99}]}", "If-Match: 1");
	h_assert_problem_errors(&r, 422, "variants[2].stock:rule_violation");
	assert_non_null(strstr(r.body, "variants[2].stock"));
	assert_non_null(strstr(r.body, "inventory adjustments"));
	h_resp_free(&r);
	/* a variants list leaving out PV-B: refused (no removal by omission) */
	patch_expect(path, "{\"variants\": [" VA ", " VC "]}", 1, 422, "variants:rule_violation");
	/* removing an unknown SKU, or one also listed */
	snprintf(body, sizeof(body), "{\"variants_remove\": [\"PV-NOPE-%s\"]}", hc_tag);
	patch_expect(path, body, 1, 422, "variants_remove[0]:invalid_value");
	snprintf(body, sizeof(body), "{\"variants\": [" VA ", " VB ", " VC "],"
		 " \"variants_remove\": [\"PV-B-%s\"]}", hc_tag);
	patch_expect(path, body, 1, 422, "variants_remove[0]:rule_violation");
	patch_expect(path, "{\"variants_remove\": \"PV-B\"}", 1, 400, "variants_remove:invalid_type");
	/* a variant holding stock is not removed: 409 */
	snprintf(body, sizeof(body), "{\"variants_remove\": [\"PV-C-%s\"]}", hc_tag);
	patch_expect(path, body, 1, 409, "variants_remove[0]:conflict");
	assert_int_equal(stored_version(id), 1);
	assert_int_equal(staff_stock(path, 2, &n), 5);
	assert_int_equal(n, 3);

	/* explicit removal of PV-B */
	snprintf(body, sizeof(body), "{\"variants_remove\": [\"PV-B-%s\"]}", hc_tag);
	patch_expect(path, body, 1, 200, NULL);
	assert_int_equal(stored_version(id), 2);
	assert_int_equal(staff_stock(path, 1, &n), 5);
	assert_int_equal(n, 2);
	snprintf(f, sizeof(f), "{\"variants.sku\": \"PV-B-%s\"}", hc_tag);
	assert_int_equal(h_db_count("products", f), 0);
	/* the whole list with a new variant: PV-C keeps its stock, PV-D has 0 */
	patch_expect(path, "{\"variants\": [" VA ", " VC ", {\"sku\": \"PV-D\", \"options\":"
		     " {\"size\": \"XL\"}, \"price\": 90}]}", 2, 200, NULL);
	assert_int_equal(staff_stock(path, 1, &n), 5);
	assert_int_equal(staff_stock(path, 2, &n), 0);
	assert_int_equal(n, 3);
	snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"total_stock\": 5,"
		 " \"min_price\": 90, \"max_price\": 120}", id);
	assert_int_equal(h_db_count("products", f), 1);
#undef VA
#undef VB
#undef VC
}

static void test_deleted_is_read_only(void **state)
{
	char id[25], slug[64], path[128], path2[256], body[256];
	struct h_resp r;
	static const char img[] =
		"0000000000000000000000000000000000000000000000000000000000000000";

	(void)state;
	snprintf(slug, sizeof(slug), "ro-%s", hc_tag);
	hc_make_product(slug, "Read only", "", "b", NULL,
			"[{\"sku\": \"RO-1\", \"options\": {}, \"price\": 100},"
			" {\"sku\": \"RO-2\", \"options\": {}, \"price\": 100}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
	r = hc_staff("DELETE", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_int_equal(stored_version(id), 2);
	r = hc_staff("PATCH", path, "{\"title\": \"Changed\"}", "If-Match: 2");
	h_assert_problem(&r, 409);
	assert_non_null(strstr(r.body, "deleted"));
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"variants_remove\": [\"RO-2-%s\"]}", hc_tag);
	r = hc_staff("PATCH", path, body, "If-Match: 2");
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "%s/versions/1/restore", path);
	r = hc_staff("POST", path2, NULL, NULL);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	/* images: removing or editing one is refused as deleted, not 404 */
	snprintf(path2, sizeof(path2), "%s/images/%s", path, img);
	r = hc_staff("DELETE", path2, NULL, NULL);
	h_assert_problem(&r, 409);
	assert_non_null(strstr(r.body, "deleted"));
	h_resp_free(&r);
	r = hc_staff("PATCH", path2, "{\"alt\": \"x\"}", NULL);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	assert_int_equal(stored_version(id), 2);
	/* restore works, and then changes do */
	snprintf(path2, sizeof(path2), "%s/restore", path);
	r = hc_staff("POST", path2, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = hc_staff("PATCH", path, "{\"title\": \"Changed\"}", "If-Match: 3");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(path2, sizeof(path2), "%s/images/%s", path, img);
	r = hc_staff("DELETE", path2, NULL, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
}

/* The ids listed by an admin search, "id,id," in order; the next cursor. */
static void admin_list(const char *query, long status, char *ids, size_t size, char *next,
		       size_t nsize)
{
	char path[512];
	struct h_resp r;
	json_object *j, *items, *c;
	size_t o = 0;

	snprintf(path, sizeof(path), "/api/v1/admin/products?%s", query);
	r = hc_staff("GET", path, NULL, NULL);
	if (r.status != status)
		fprintf(stderr, "GET %s: %ld %s\n", path, r.status, r.body);
	assert_int_equal(r.status, status);
	ids[0] = '\0';
	if (next)
		next[0] = '\0';
	j = h_json(&r);
	items = hc_jget(j, "items");
	for (size_t i = 0; i < json_object_array_length(items); i++)
		o += (size_t)snprintf(ids + o, o < size ? size - o : 0, "%s,",
				      hc_jstr(json_object_array_get_idx(items, i), "id"));
	c = hc_jget(j, "next_cursor");
	if (next && c && json_object_is_type(c, json_type_string))
		snprintf(next, nsize, "%s", json_object_get_string(c));
	json_object_put(j);
	h_resp_free(&r);
}

/* ids is "a,b," for a and b in either order. */
static bool two_ids(const char *ids, const char *a, const char *b)
{
	char x[64], y[64];

	snprintf(x, sizeof(x), "%s,%s,", a, b);
	snprintf(y, sizeof(y), "%s,%s,", b, a);
	return strcmp(ids, x) == 0 || strcmp(ids, y) == 0;
}

static void test_admin_search(void **state)
{
	char p1[25], p2[25], p3[25], cat[25], cslug[64], s[64], title[128], q[512], ids[512],
		want[512], next[256], w[48];
	struct h_resp r;

	(void)state;
	/* a word only this test's titles hold */
	snprintf(w, sizeof(w), "as%s", hc_tag);
	snprintf(cslug, sizeof(cslug), "as-cat-%s", hc_tag);
	hc_make_category(cslug, NULL, 0, cat);
	snprintf(s, sizeof(s), "as1-%s", hc_tag);
	snprintf(title, sizeof(title), "Zebra Lamp %s", w);
	hc_make_product(s, title, "", "b", cat,
			"[{\"sku\": \"AS-1\", \"options\": {}, \"price\": 100}]", "active", p1);
	snprintf(s, sizeof(s), "as2-%s", hc_tag);
	snprintf(title, sizeof(title), "Zebra Chair %s", w);
	hc_make_product(s, title, "", "b", NULL,
			"[{\"sku\": \"AS-2\", \"options\": {}, \"price\": 100}]", "draft", p2);
	snprintf(s, sizeof(s), "as3-%s", hc_tag);
	snprintf(title, sizeof(title), "Other Thing %s", w);
	hc_make_product(s, title, "", "b", NULL,
			"[{\"sku\": \"AS-3\", \"options\": {}, \"price\": 100}]", "archived", p3);
	snprintf(q, sizeof(q), "/api/v1/admin/products/%s", p3);
	r = hc_staff("DELETE", q, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);

	/* q: every word must match (ordered by _id, newest first, which
	 * for two products made within one second by different workers may
	 * be either way) */
	snprintf(q, sizeof(q), "q=zebra+%s", w);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	assert_true(two_ids(ids, p1, p2));
	snprintf(q, sizeof(q), "q=lamp+%s", w);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	snprintf(want, sizeof(want), "%s,", p1);
	assert_string_equal(ids, want);
	/* a deleted product is listed only when asked for */
	snprintf(q, sizeof(q), "q=%s", w);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	assert_true(two_ids(ids, p1, p2));
	snprintf(q, sizeof(q), "q=%s&status=deleted", w);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	snprintf(want, sizeof(want), "%s,", p3);
	assert_string_equal(ids, want);
	snprintf(q, sizeof(q), "q=%s&status=draft", w);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	snprintf(want, sizeof(want), "%s,", p2);
	assert_string_equal(ids, want);
	/* sku: exact */
	snprintf(q, sizeof(q), "sku=AS-1-%s", hc_tag);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	snprintf(want, sizeof(want), "%s,", p1);
	assert_string_equal(ids, want);
	snprintf(q, sizeof(q), "sku=AS-1-%sx", hc_tag);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	assert_string_equal(ids, "");
	/* category: by id or slug */
	snprintf(q, sizeof(q), "category=%s", cat);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	snprintf(want, sizeof(want), "%s,", p1);
	assert_string_equal(ids, want);
	snprintf(q, sizeof(q), "category=%s&status=draft", cslug);
	admin_list(q, 200, ids, sizeof(ids), NULL, 0);
	assert_string_equal(ids, "");
	/* keyset pages of one: both, each once */
	snprintf(q, sizeof(q), "q=%s&limit=1", w);
	admin_list(q, 200, ids, sizeof(ids), next, sizeof(next));
	assert_int_equal(strlen(ids), 25);
	assert_true(next[0]);
	snprintf(want, sizeof(want), "%s", ids);
	snprintf(q, sizeof(q), "q=%s&limit=1&cursor=%s", w, next);
	admin_list(q, 200, ids, sizeof(ids), next, sizeof(next));
	assert_int_equal(strlen(ids), 25);
	{
		char both[128];

		snprintf(both, sizeof(both), "%.25s%.25s", want, ids);
		assert_true(two_ids(both, p1, p2));
	}
	if (next[0]) {
		snprintf(q, sizeof(q), "q=%s&limit=1&cursor=%s", w, next);
		admin_list(q, 200, ids, sizeof(ids), NULL, 0);
		assert_string_equal(ids, "");
	}

	/* every parameter checked, every fault told */
	r = hc_staff("GET", "/api/v1/admin/products?status=gone&sku=bad%20sku&category=x%20y&limit=0",
		     NULL, NULL);
	h_assert_problem_errors(&r, 400, "status:invalid_value sku:invalid_format "
					 "category:invalid_format limit:invalid");
	h_resp_free(&r);
	r = hc_staff("GET", "/api/v1/admin/products?colour=red", NULL, NULL);
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "colour"));
	h_resp_free(&r);
	r = hc_staff("GET", "/api/v1/admin/products?status=deleted&deleted=false", NULL, NULL);
	h_assert_problem_errors(&r, 400, "deleted:invalid_value");
	h_resp_free(&r);
	r = hc_staff("GET", "/api/v1/admin/products?category=000000000000000000000000", NULL, NULL);
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "category"));
	h_resp_free(&r);
	r = hc_staff("GET", "/api/v1/admin/products?q=%C3%28", NULL, NULL);
	h_assert_problem(&r, 400);
	h_resp_free(&r);
}

/* 201 + Location for the catalog's creates; 204 for a category's delete. */
static void test_create_location(void **state)
{
	char body[256], loc[256], want[256];
	struct h_resp r;
	json_object *j;

	(void)state;
	snprintf(body, sizeof(body), "{\"slug\": \"loc-%s\", \"name\": \"Loc\", \"position\": 0}",
		 hc_tag);
	r = hc_staff("POST", "/api/v1/admin/categories", body, NULL);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(want, sizeof(want), "/api/v1/admin/categories/%s", hc_jstr(j, "id"));
	json_object_put(j);
	assert_true(h_header(&r, "location", loc, sizeof(loc)));
	assert_string_equal(loc, want);
	h_resp_free(&r);
	r = hc_staff("DELETE", loc, NULL, NULL);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body_len, 0);
	h_resp_free(&r);
	r = hc_staff("POST", "/api/v1/admin/products", "{\"title\": \"Located\", \"variants\":"
		     " [{\"sku\": \"LOC-1\", \"options\": {}, \"price\": 1}]}", NULL);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(want, sizeof(want), "/api/v1/admin/products/%s", hc_jstr(j, "id"));
	json_object_put(j);
	assert_true(h_header(&r, "location", loc, sizeof(loc)));
	assert_string_equal(loc, want);
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_collects_every_error),
		cmocka_unit_test(test_patch_collects_every_error),
		cmocka_unit_test(test_slug_from_title),
		cmocka_unit_test(test_patch_variants_explicit),
		cmocka_unit_test(test_deleted_is_read_only),
		cmocka_unit_test(test_admin_search),
		cmocka_unit_test(test_create_location),
	};
	int rc;

	h_init();
	hc_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
