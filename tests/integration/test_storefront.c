/*
 * Integration tests for what a storefront asks of the public catalog,
 * through the real stack (HTTPS -> nginx -> emporium-fcgi -> database):
 * filters (OR within, AND across, case-insensitive, option.*),
 * disjunctive facets, natural size order, search (all words, phrase,
 * attribute and option values, empty q, invalid UTF-8), ids=, sort=title
 * and sort=best_selling (orders placed through the API), category counts,
 * product cards (first image with an absolute URL, local and Cloudinary
 * storage; category name and slug; breadcrumbs) and what the public view
 * hides.
 *
 * The demo catalog (emporium-admin seed-demo, run by the group setup) is
 * the data of the filter, facet and search cases. What the server should
 * answer is computed here from the seed's definition (the same formulas
 * as src/catalog/seed.c, written out again: a change there fails this
 * suite until it is repeated here), and the public listing is first
 * checked to hold exactly that catalog; only the products' ids come from
 * the server.
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
#include <strings.h>
#include <unistd.h>

#include "harness_catalog.h"
#include "harness_media.h"
#include "harness_orders.h"

/* ---- the demo catalog, from the seed's definition ---- */

static const char *const departments[] = { "men", "women", "kids" };
static const char *const kinds[] = { "tops", "bottoms", "shoes", "accessories" };
static const char *const brands[] = { "Northwind", "Aurora", "Kestrel", "Lotus Loom",
				      "Monsoon", "Riverstone" };
static const char *const adjectives[] = { "Classic", "Everyday", "Organic", "Slim", "Relaxed",
					  "Heritage", "Linen", "Waterproof", "Soft", "Urban" };
static const char *const nouns[4][6] = {
	{ "T-Shirt", "Polo", "Panjabi", "Hoodie", "Shirt", "Kurta" },
	{ "Chinos", "Jeans", "Joggers", "Shorts", "Trousers", "Skirt" },
	{ "Sneakers", "Loafers", "Sandals", "Boots", "Runners", "Slip-ons" },
	{ "Cap", "Belt", "Scarf", "Backpack", "Wallet", "Tote" },
};
static const char *const colors[] = { "black", "white", "navy", "red", "green", "beige",
				      "grey", "blue" };
static const char *const clothing_sizes[] = { "S", "M", "L", "XL" };
static const char *const shoe_sizes[] = { "40", "41", "42", "43", "44" };

#define DEMO_N (3 * 4 * 18)

struct m_variant {
	const char *size, *color;
	long price;
	bool in_stock;
};

struct m_product {
	char slug[64], title[128], cat[64], id[25];
	const char *brand, *root, *material, *adj, *noun;
	struct m_variant v[10];
	int nv;
	long min_price, max_price;
};

static struct m_product demo[DEMO_N];

static void demo_model(void)
{
	int i = 0;

	for (size_t d = 0; d < 3; d++)
		for (size_t k = 0; k < 4; k++)
			for (size_t n = 0; n < 18; n++, i++) {
				struct m_product *p = &demo[i];
				size_t seed = d * 1000 + k * 100 + n;
				long base = (long)(300 + (seed * 37) % 4700) * 100;
				size_t nsizes = k == 3 ? 1 : (k == 2 ? 5 : 4);

				memset(p, 0, sizeof(*p));
				snprintf(p->slug, sizeof(p->slug), "%s-%s-%03zu", departments[d], kinds[k],
					 n + 1);
				snprintf(p->cat, sizeof(p->cat), "%s-%s", departments[d], kinds[k]);
				p->root = departments[d];
				p->brand = brands[seed % 6];
				p->adj = adjectives[(seed * 7) % 10];
				p->noun = nouns[k][n % 6];
				snprintf(p->title, sizeof(p->title), "%s %s %s", p->brand, p->adj, p->noun);
				p->material = k == 2 ? "leather" : (seed % 2 ? "cotton" : "linen");
				p->min_price = base;
				p->max_price = base + (long)(nsizes - 1) * 5000;
				for (size_t c = 0; c < 2; c++)
					for (size_t s = 0; s < nsizes; s++) {
						struct m_variant *v = &p->v[p->nv++];
						long stock = (n % 9 == 4) ? (long)(s % 3) : (long)(5 + (seed + s) % 40);

						v->color = colors[(seed + c * 3) % 8];
						v->size = k == 3 ? "OS" : (k == 2 ? shoe_sizes[s] : clothing_sizes[s]);
						v->price = base + (long)s * 5000;
						v->in_stock = stock > 0;
					}
			}
}

static struct m_product *demo_find(const char *slug)
{
	for (int i = 0; i < DEMO_N; i++)
		if (strcmp(demo[i].slug, slug) == 0)
			return &demo[i];
	return NULL;
}

/* The demo catalog's own categories (test products live elsewhere). */
#define SCOPE "category=men,women,kids"

/* ---- reading lists ---- */

/* GET /api/v1/products?query, one page: its items (put it). */
static json_object *list_one(const char *query)
{
	char path[2048];
	struct h_resp r;
	json_object *j, *items;

	snprintf(path, sizeof(path), "/api/v1/products?%s", query);
	r = h_get(path);
	if (r.status != 200)
		fail_msg("%s -> %ld %s", path, r.status, r.body);
	j = h_json(&r);
	assert_null(hc_jget(j, "next_cursor"));
	items = json_object_get(hc_jget(j, "items"));
	assert_non_null(items);
	json_object_put(j);
	h_resp_free(&r);
	return items;
}

/* Every page of GET /api/v1/products?query&limit=100: the items, in order (put it). */
static json_object *list_all(const char *query)
{
	json_object *all = json_object_new_array();
	char next[256] = "", path[2048];
	int pages = 0;

	do {
		struct h_resp r;
		json_object *j, *items, *nc;

		snprintf(path, sizeof(path), "/api/v1/products?%s&limit=100%s%s", query,
			 next[0] ? "&cursor=" : "", next);
		r = h_get(path);
		if (r.status != 200)
			fail_msg("%s -> %ld %s", path, r.status, r.body);
		j = h_json(&r);
		items = hc_jget(j, "items");
		assert_non_null(items);
		for (size_t i = 0; i < json_object_array_length(items); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(items, i)));
		nc = hc_jget(j, "next_cursor");
		snprintf(next, sizeof(next), "%s", nc ? json_object_get_string(nc) : "");
		json_object_put(j);
		h_resp_free(&r);
	} while (next[0] && ++pages < 20);
	assert_true(pages < 20);
	return all;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The slugs of a list, sorted and joined by ',' (free it). */
static char *slugs_sorted(json_object *items)
{
	size_t n = json_object_array_length(items), o = 0;
	char **v = calloc(n ? n : 1, sizeof(*v)), *out = calloc(1, 64 * (n + 1) + 1);

	for (size_t i = 0; i < n; i++)
		v[i] = (char *)hc_jstr(json_object_array_get_idx(items, i), "slug");
	qsort(v, n, sizeof(*v), str_cmp);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, 64 * (n + 1) + 1 - o, "%s,", v[i]);
	free(v);
	return out;
}

/* The demo slugs pred holds for, sorted and joined by ',' (free it). */
static char *model_slugs(bool (*pred)(const struct m_product *, const void *), const void *arg)
{
	char **v = calloc(DEMO_N, sizeof(*v)), *out = calloc(1, 64 * DEMO_N + 1);
	size_t n = 0, o = 0;

	for (int i = 0; i < DEMO_N; i++)
		if (pred(&demo[i], arg))
			v[n++] = demo[i].slug;
	qsort(v, n, sizeof(*v), str_cmp);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, 64 * DEMO_N + 1 - o, "%s,", v[i]);
	free(v);
	return out;
}

static bool nothing(const struct m_product *p, const void *arg);

/* Lists query and compares the set of slugs with the model's for pred. */
static void expect_set(const char *query, bool (*pred)(const struct m_product *, const void *),
		       const void *arg)
{
	json_object *items = list_all(query);
	char *got = slugs_sorted(items), *want = model_slugs(pred, arg);

	if (strcmp(got, want) != 0)
		fail_msg("%s:\n got  %.300s\n want %.300s", query, got, want);
	/* a case that tests something: only `nothing` expects no product */
	assert_true(strlen(want) > 0 || pred == nothing);
	free(got);
	free(want);
	json_object_put(items);
}

/* A variant condition of the model: NULL fields are no condition. */
struct m_cond {
	const char *colors[4];   /* any of them (NULL-terminated) */
	const char *sizes[4];
	const char *brands[4];
	bool in_stock;
};

static bool in_list(const char *const *list, const char *v)
{
	if (!list[0])
		return true;
	for (size_t i = 0; i < 4 && list[i]; i++)
		if (strcasecmp(list[i], v) == 0)
			return true;
	return false;
}

static bool variant_ok(const struct m_variant *v, const struct m_cond *c)
{
	return in_list(c->colors, v->color) && in_list(c->sizes, v->size) &&
	       (!c->in_stock || v->in_stock);
}

static bool cond_holds(const struct m_product *p, const void *arg)
{
	const struct m_cond *c = arg;

	if (!in_list(c->brands, p->brand))
		return false;
	for (int i = 0; i < p->nv; i++)
		if (variant_ok(&p->v[i], c))
			return true;
	return false;
}

/* ---- the group: the demo catalog in place, the model checked against it ---- */

static int demo_seed(void)
{
	char exe[1024], cmd[2048];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	/* <build>/tests/integration/test_x -> <build>/emporium-admin */
	for (int i = 0; i < 3; i++) {
		slash = strrchr(exe, '/');
		if (!slash)
			return -1;
		*slash = '\0';
	}
	snprintf(cmd, sizeof(cmd), "EMPORIUM_ENV_FILE='%s' '%s/emporium-admin' seed-demo >/dev/null 2>&1",
		 h_env("STACK_ENV_FILE"), exe);
	return system(cmd);
}

/*
 * The public listing of the demo categories holds exactly the seed's
 * products, each with the seed's brand, category and variants; their ids
 * go into the model.
 */
static void test_demo_listing_is_the_seed(void **state)
{
	json_object *items;

	(void)state;
	items = list_all(SCOPE);
	assert_int_equal(json_object_array_length(items), DEMO_N);
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *it = json_object_array_get_idx(items, i), *vars;
		struct m_product *p = demo_find(hc_jstr(it, "slug"));

		if (!p)
			fail_msg("not a demo product: %s", hc_jstr(it, "slug"));
		assert_string_equal(hc_jstr(it, "brand"), p->brand);
		assert_string_equal(hc_jstr(it, "title"), p->title);
		assert_string_equal(hc_jstr(it, "category_info.slug"), p->cat);
		assert_string_equal(hc_jstr(it, "attributes.material"), p->material);
		vars = hc_jget(it, "variants");
		assert_int_equal(json_object_array_length(vars), p->nv);
		for (int v = 0; v < p->nv; v++) {
			json_object *jv = json_object_array_get_idx(vars, (size_t)v);

			assert_string_equal(hc_jstr(jv, "options.size"), p->v[v].size);
			assert_string_equal(hc_jstr(jv, "options.color"), p->v[v].color);
			assert_int_equal(json_object_get_int64(hc_jget(jv, "price")), p->v[v].price);
			assert_int_equal(json_object_get_boolean(hc_jget(jv, "in_stock")), p->v[v].in_stock);
		}
		snprintf(p->id, sizeof(p->id), "%s", hc_jstr(it, "id"));
	}
	json_object_put(items);
	for (int i = 0; i < DEMO_N; i++)
		assert_int_equal(strlen(demo[i].id), 24);
}

/* ---- filters ---- */

static void test_filters_or_within_and_across(void **state)
{
	struct m_cond navy_beige = { .colors = { "navy", "beige" } };
	struct m_cond navy_m = { .colors = { "navy" }, .sizes = { "M" } };
	struct m_cond two_brands_navy = { .colors = { "navy" }, .brands = { "Aurora", "Kestrel" } };
	struct m_cond s_in_stock = { .sizes = { "S" }, .in_stock = true };
	struct m_cond sizes_or = { .sizes = { "XL", "44", "OS" } };

	(void)state;
	/* OR within a filter: both spellings, any case */
	expect_set(SCOPE "&color=navy,beige", cond_holds, &navy_beige);
	expect_set(SCOPE "&color=navy&color=beige", cond_holds, &navy_beige);
	expect_set(SCOPE "&color=NAVY,%20Beige", cond_holds, &navy_beige);
	expect_set(SCOPE "&option.color=navy&color=beige", cond_holds, &navy_beige);
	expect_set(SCOPE "&size=XL,44&size=os", cond_holds, &sizes_or);
	/* AND across filters, on one and the same variant */
	expect_set(SCOPE "&color=navy&size=M", cond_holds, &navy_m);
	expect_set(SCOPE "&color=navy&brand=aurora,KESTREL", cond_holds, &two_brands_navy);
	expect_set(SCOPE "&size=S&in_stock=true", cond_holds, &s_in_stock);
}

/* Does p sit in one of the roots (NULL-terminated)? */
static bool in_roots(const struct m_product *p, const void *arg)
{
	const char *const *roots = arg;

	for (size_t i = 0; roots[i]; i++)
		if (strcmp(p->root, roots[i]) == 0 || strcmp(p->cat, roots[i]) == 0)
			return true;
	return false;
}

static void test_filter_categories_or(void **state)
{
	const char *two[] = { "men", "kids-shoes", NULL };

	(void)state;
	expect_set("category=men,kids-shoes", in_roots, two);
	expect_set("category=kids-shoes&category=men", in_roots, two);
}

/* ---- facets ---- */

/* GET /api/v1/products/facets?query as JSON (put it). */
static json_object *facets_get(const char *query)
{
	char path[1024];
	struct h_resp r;
	json_object *j;

	snprintf(path, sizeof(path), "/api/v1/products/facets?%s", query);
	r = h_get(path);
	if (r.status != 200)
		fail_msg("%s -> %ld %s", path, r.status, r.body);
	j = h_json(&r);
	h_resp_free(&r);
	return j;
}

/* The count of value in a [{value, count}] facet (0 when absent). */
static long facet_count(json_object *facet, const char *value)
{
	for (size_t i = 0; i < json_object_array_length(facet); i++) {
		json_object *e = json_object_array_get_idx(facet, i);

		if (strcmp(hc_jstr(e, "value"), value) == 0)
			return json_object_get_int64(hc_jget(e, "count"));
	}
	return 0;
}

/* Demo products passing c and, when cat is set, in that leaf category. */
static long model_count(const struct m_cond *c, const char *cat)
{
	long n = 0;

	for (int i = 0; i < DEMO_N; i++)
		n += cond_holds(&demo[i], c) && (!cat || strcmp(demo[i].cat, cat) == 0);
	return n;
}

static void test_facets_disjunctive(void **state)
{
	json_object *j, *f;
	struct m_cond c;
	long in_stock = 0, min = -1, max = -1, total = 0;

	(void)state;
	j = facets_get(SCOPE "&color=navy&brand=Aurora");
	/* colours: every filter but colour (brand Aurora) */
	f = hc_jget(j, "colors");
	for (size_t i = 0; i < 8; i++) {
		memset(&c, 0, sizeof(c));
		c.brands[0] = "Aurora";
		c.colors[0] = colors[i];
		assert_int_equal(facet_count(f, colors[i]), model_count(&c, NULL));
	}
	/* brands: every filter but brand (navy) */
	f = hc_jget(j, "brands");
	for (size_t i = 0; i < 6; i++) {
		memset(&c, 0, sizeof(c));
		c.colors[0] = "navy";
		c.brands[0] = brands[i];
		assert_int_equal(facet_count(f, brands[i]), model_count(&c, NULL));
	}
	/* sizes: both filters, counted on navy variants only */
	f = hc_jget(j, "sizes");
	{
		const char *all_sizes[] = { "S", "M", "L", "XL", "40", "41", "42", "43", "44", "OS" };
		size_t at = 0;

		for (size_t i = 0; i < 10; i++) {
			long want;

			memset(&c, 0, sizeof(c));
			c.brands[0] = "Aurora";
			c.colors[0] = "navy";
			c.sizes[0] = all_sizes[i];
			want = model_count(&c, NULL);
			assert_int_equal(facet_count(f, all_sizes[i]), want);
			/* natural order: the declared S M L XL, numbers, then OS */
			if (want) {
				assert_string_equal(hc_jstr(json_object_array_get_idx(f, at), "value"),
						    all_sizes[i]);
				at++;
			}
		}
		assert_int_equal(json_object_array_length(f), at);
	}
	/* categories: every filter but category, so each demo leaf counts */
	f = hc_jget(j, "categories");
	for (size_t d = 0; d < 3; d++)
		for (size_t k = 0; k < 4; k++) {
			char cat[64];
			long got = 0;

			snprintf(cat, sizeof(cat), "%s-%s", departments[d], kinds[k]);
			for (size_t i = 0; i < json_object_array_length(f); i++)
				if (strcmp(hc_jstr(json_object_array_get_idx(f, i), "slug"), cat) == 0)
					got = json_object_get_int64(
						hc_jget(json_object_array_get_idx(f, i), "count"));
			memset(&c, 0, sizeof(c));
			c.brands[0] = "Aurora";
			c.colors[0] = "navy";
			assert_int_equal(got, model_count(&c, cat));
		}
	/* availability and price over both filters */
	memset(&c, 0, sizeof(c));
	c.brands[0] = "Aurora";
	c.colors[0] = "navy";
	for (int i = 0; i < DEMO_N; i++)
		if (cond_holds(&demo[i], &c)) {
			struct m_cond cs = c;

			cs.in_stock = true;
			total++;
			in_stock += cond_holds(&demo[i], &cs);
			if (min < 0 || demo[i].min_price < min)
				min = demo[i].min_price;
			if (demo[i].max_price > max)
				max = demo[i].max_price;
		}
	assert_true(total > 0);
	assert_int_equal(json_object_get_int64(hc_jget(j, "availability.total")), total);
	assert_int_equal(json_object_get_int64(hc_jget(j, "availability.in_stock")), in_stock);
	assert_int_equal(json_object_get_int64(hc_jget(j, "price.count")), total);
	assert_int_equal(json_object_get_int64(hc_jget(j, "price.min")), min);
	assert_int_equal(json_object_get_int64(hc_jget(j, "price.max")), max);
	json_object_put(j);
}

/* ---- search ---- */

static bool has_color(const struct m_product *p, const void *arg)
{
	struct m_cond c = { .colors = { arg } };

	return cond_holds(p, &c);
}

static bool leather_and_navy(const struct m_product *p, const void *arg)
{
	(void)arg;
	return strcmp(p->material, "leather") == 0 && has_color(p, "navy");
}

static bool leather_or_navy(const struct m_product *p, const void *arg)
{
	(void)arg;
	return strcmp(p->material, "leather") == 0 || has_color(p, "navy");
}

static bool urban_tote(const struct m_product *p, const void *arg)
{
	(void)arg;
	return strcmp(p->adj, "Urban") == 0 && strcmp(p->noun, "Tote") == 0;
}

static bool everything(const struct m_product *p, const void *arg)
{
	(void)p;
	(void)arg;
	return true;
}

/* The one predicate that may expect an empty answer (expect_set calls it with NULL). */
static bool nothing(const struct m_product *p, const void *arg)
{
	(void)p;
	(void)arg;
	return false;
}

static void test_search_words_and_phrases(void **state)
{
	(void)state;
	/* option values and attribute values are searched */
	expect_set(SCOPE "&q=navy", has_color, "navy");
	/* every word must match by default; match=any takes either */
	expect_set(SCOPE "&q=leather%20navy", leather_and_navy, NULL);
	expect_set(SCOPE "&q=leather%20navy&match=all", leather_and_navy, NULL);
	expect_set(SCOPE "&q=leather%20navy&match=any", leather_or_navy, NULL);
	/* a phrase: as written, in that order */
	expect_set(SCOPE "&q=tote%20urban", urban_tote, NULL);
	expect_set(SCOPE "&q=urban%20tote&match=phrase", urban_tote, NULL);
	expect_set(SCOPE "&q=%22urban%20tote%22", urban_tote, NULL);
	expect_set(SCOPE "&q=tote%20urban&match=phrase", nothing, NULL);
	/* an empty q is no search */
	expect_set(SCOPE "&q=", everything, NULL);
	expect_set(SCOPE "&q=%20%20", everything, NULL);
}

static void test_invalid_utf8_is_400(void **state)
{
	const char *bad[] = {
		"/api/v1/products?q=%FF", "/api/v1/products?color=%C3%28",
		"/api/v1/products?brand=%ED%A0%80", "/api/v1/products?option.%FF=x",
		"/api/v1/products/facets?q=caf%E9", "/api/v1/products?size=M%C0%AF",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct h_resp r = h_get(bad[i]);

		if (r.status != 400)
			fail_msg("%s -> %ld %s", bad[i], r.status, r.body);
		h_assert_problem(&r, 400);
		assert_non_null(strstr(r.body, "UTF-8"));
		h_resp_free(&r);
	}
}

/* ---- options of one's own, natural order ---- */

/* POST /admin/products with body (SKUs tagged); its id into out. */
static void product_post(const char *body, char out[25])
{
	struct h_resp r = hc_staff("POST", "/api/v1/admin/products", body, NULL);
	json_object *j;

	if (r.status != 201)
		fail_msg("create: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(out, 25, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

/* The values of a facet joined by ','. */
static void facet_values(json_object *facet, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; facet && i < json_object_array_length(facet); i++)
		o += (size_t)snprintf(out + o, size - o, "%s,",
				      hc_jstr(json_object_array_get_idx(facet, i), "value"));
}

static void test_option_filters_and_natural_order(void **state)
{
	char body[2048], brand[64], a[25], b[25], c[25], q[256], got[512];
	json_object *j, *items;

	(void)state;
	snprintf(brand, sizeof(brand), "opt%s", hc_tag);
	snprintf(body, sizeof(body),
		 "{\"title\": \"Satchel\", \"slug\": \"opt-a-%s\", \"brand\": \"%s\", \"status\": \"active\","
		 " \"options\": [\"size\", \"material\"],"
		 " \"option_order\": {\"size\": [\"XS\", \"S\", \"M\", \"L\", \"XL\"]},"
		 " \"variants\": [{\"sku\": \"OPTA-1\", \"options\": {\"size\": \"XL\", \"material\": \"Leather\"}, \"price\": 100},"
		 " {\"sku\": \"OPTA-2\", \"options\": {\"size\": \"XS\", \"material\": \"canvas\"}, \"price\": 100},"
		 " {\"sku\": \"OPTA-3\", \"options\": {\"size\": \"M\", \"material\": \"Leather\"}, \"price\": 100}]}",
		 hc_tag, brand);
	product_post(body, a);
	snprintf(body, sizeof(body),
		 "{\"title\": \"Boot\", \"slug\": \"opt-b-%s\", \"brand\": \"%s\", \"status\": \"active\","
		 " \"options\": [\"size\"],"
		 " \"variants\": [{\"sku\": \"OPTB-1\", \"options\": {\"size\": \"10\"}, \"price\": 100},"
		 " {\"sku\": \"OPTB-2\", \"options\": {\"size\": \"8.5\"}, \"price\": 100},"
		 " {\"sku\": \"OPTB-3\", \"options\": {\"size\": \"9\"}, \"price\": 100}]}",
		 hc_tag, brand);
	product_post(body, b);
	/* option.* on any declared option, ignoring case */
	snprintf(q, sizeof(q), "brand=%s&option.material=LEATHER", brand);
	items = list_all(q);
	assert_int_equal(json_object_array_length(items), 1);
	assert_string_equal(hc_jstr(json_object_array_get_idx(items, 0), "id"), a);
	json_object_put(items);
	/* material canvas and size XL never share a variant: nothing */
	snprintf(q, sizeof(q), "brand=%s&option.material=canvas&size=XL", brand);
	items = list_all(q);
	assert_int_equal(json_object_array_length(items), 0);
	json_object_put(items);
	/* declared order first, then numbers numerically (not 10, 8.5, 9) */
	snprintf(q, sizeof(q), "brand=%s", brand);
	j = facets_get(q);
	facet_values(hc_jget(j, "sizes"), got, sizeof(got));
	assert_string_equal(got, "XS,M,XL,8.5,9,10,");
	json_object_put(j);
	/* the material facet ignores its own filter; sizes obey it */
	snprintf(q, sizeof(q), "brand=%s&option.material=leather", brand);
	j = facets_get(q);
	facet_values(hc_jget(j, "options.material"), got, sizeof(got));
	assert_string_equal(got, "canvas,Leather,");
	facet_values(hc_jget(j, "sizes"), got, sizeof(got));
	assert_string_equal(got, "M,XL,");
	json_object_put(j);
	/* without a declared order: the clothing scale */
	snprintf(brand, sizeof(brand), "scale%s", hc_tag);
	snprintf(body, sizeof(body),
		 "{\"title\": \"Tee\", \"slug\": \"opt-c-%s\", \"brand\": \"%s\", \"status\": \"active\","
		 " \"variants\": [{\"sku\": \"OPTC-1\", \"options\": {\"size\": \"XXL\"}, \"price\": 1},"
		 " {\"sku\": \"OPTC-2\", \"options\": {\"size\": \"L\"}, \"price\": 1},"
		 " {\"sku\": \"OPTC-3\", \"options\": {\"size\": \"s\"}, \"price\": 1},"
		 " {\"sku\": \"OPTC-4\", \"options\": {\"size\": \"M\"}, \"price\": 1}]}",
		 hc_tag, brand);
	product_post(body, c);
	snprintf(q, sizeof(q), "brand=%s", brand);
	j = facets_get(q);
	facet_values(hc_jget(j, "sizes"), got, sizeof(got));
	assert_string_equal(got, "s,M,L,XXL,");
	json_object_put(j);
	/* an option order naming an undeclared option is refused */
	{
		struct h_resp r;

		snprintf(body, sizeof(body),
			 "{\"title\": \"X\", \"slug\": \"opt-d-%s\", \"option_order\": {\"fit\": [\"a\"]},"
			 " \"variants\": [{\"sku\": \"OPTD-1\", \"options\": {}, \"price\": 1}]}", hc_tag);
		r = hc_staff("POST", "/api/v1/admin/products", body, NULL);
		h_assert_problem_field(&r, 400, "option_order.fit");
		h_resp_free(&r);
	}
}

static void test_option_names_checked(void **state)
{
	const char *bad[] = {
		"/api/v1/products?option.$where=1", "/api/v1/products?option.a.b=1",
		"/api/v1/products?option.Material=x", "/api/v1/products?option.=x",
		"/api/v1/products?option.aaaaaaaaaaaaaaaaaaaaa=x", "/api/v1/products?option.ma%24x=1",
		"/api/v1/products?option.material=%24ne", "/api/v1/products?color=a,,b",
		"/api/v1/products?match=fuzzy&q=x", "/api/v1/products?q=x&q=y",
		"/api/v1/products/facets?limit=5",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct h_resp r = h_get(bad[i]);

		if (r.status != 400)
			fail_msg("%s -> %ld %s", bad[i], r.status, r.body);
		h_assert_problem(&r, 400);
		h_resp_free(&r);
	}
	{
		/* the facets name the parameter they refuse */
		struct h_resp r = h_get("/api/v1/products/facets?limit=5");

		h_assert_problem_field(&r, 400, "limit");
		h_resp_free(&r);
	}
}

/* ---- ids= ---- */

static void test_ids_keep_their_order(void **state)
{
	char q[2048], missing[25];
	json_object *items;
	bson_oid_t oid;
	size_t o;

	(void)state;
	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, missing);
	snprintf(q, sizeof(q), "ids=%s,%s,%s&ids=%s", demo[100].id, missing, demo[3].id, demo[57].id);
	items = list_one(q);
	assert_int_equal(json_object_array_length(items), 3);
	assert_string_equal(hc_jstr(json_object_array_get_idx(items, 0), "id"), demo[100].id);
	assert_string_equal(hc_jstr(json_object_array_get_idx(items, 1), "id"), demo[3].id);
	assert_string_equal(hc_jstr(json_object_array_get_idx(items, 2), "id"), demo[57].id);
	json_object_put(items);
	/* AND with the filters */
	{
		char enc[128];
		size_t e = 0;

		for (const char *c = demo[3].brand; *c && e + 4 < sizeof(enc); c++)
			e += (size_t)snprintf(enc + e, sizeof(enc) - e, *c == ' ' ? "%%20" : "%c", *c);
		snprintf(q, sizeof(q), "ids=%s,%s&brand=%s", demo[100].id, demo[3].id, enc);
	}
	items = list_one(q);
	assert_int_equal(json_object_array_length(items),
			 1 + (strcmp(demo[100].brand, demo[3].brand) == 0));
	json_object_put(items);
	/* bounded: 51 ids; malformed; with a sort */
	o = (size_t)snprintf(q, sizeof(q), "/api/v1/products?");
	for (int i = 0; i < 51; i++) /* repeated: each value within the 200 bytes a value may have */
		o += (size_t)snprintf(q + o, sizeof(q) - o, "%sids=%s", i ? "&" : "", demo[i].id);
	assert_true(o < sizeof(q));
	{
		const char *more[] = { "/api/v1/products?ids=xyz", NULL, NULL };
		char with_sort[128];

		snprintf(with_sort, sizeof(with_sort), "/api/v1/products?ids=%s&sort=title", demo[0].id);
		more[1] = with_sort;
		for (size_t i = 0; i < 3; i++) {
			struct h_resp r = h_get(i < 2 ? more[i] : q);

			h_assert_problem_field(&r, 400, "ids");
			h_resp_free(&r);
		}
	}
}

/* ---- sorts ---- */

/* The titles of a list, in order, joined by '|'. */
static void titles(json_object *items, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(items); i++)
		o += (size_t)snprintf(out + o, size - o, "%s|",
				      hc_jstr(json_object_array_get_idx(items, i), "title"));
}

/* Every page of query at limit 2 (so the cursor is used), titles joined. */
static void titles_paged(const char *query, char *out, size_t size)
{
	char next[256] = "", path[1024];
	size_t o = 0;
	int pages = 0;

	out[0] = '\0';
	do {
		struct h_resp r;
		json_object *j, *items, *nc;

		snprintf(path, sizeof(path), "/api/v1/products?%s&limit=2%s%s", query,
			 next[0] ? "&cursor=" : "", next);
		r = h_get(path);
		if (r.status != 200)
			fail_msg("%s -> %ld %s", path, r.status, r.body);
		j = h_json(&r);
		items = hc_jget(j, "items");
		titles(items, out + o, size - o);
		o = strlen(out);
		nc = hc_jget(j, "next_cursor");
		snprintf(next, sizeof(next), "%s", nc ? json_object_get_string(nc) : "");
		json_object_put(j);
		h_resp_free(&r);
	} while (next[0] && ++pages < 10);
}

static void test_sort_title(void **state)
{
	const char *names[] = { "Mango", "apple", "Banana", "Cherry", "Banana" };
	const char *sorted[5];
	char brand[64], slug[64], sku[160], q[256], got[512], want[512] = "", id[25];

	(void)state;
	snprintf(brand, sizeof(brand), "title%s", hc_tag);
	for (int i = 0; i < 5; i++) {
		snprintf(slug, sizeof(slug), "ttl%d-%s", i, hc_tag);
		snprintf(sku, sizeof(sku), "[{\"sku\": \"TTL-%d\", \"options\": {}, \"price\": 10}]", i);
		hc_make_product(slug, names[i], "", brand, NULL, sku, "active", id);
		sorted[i] = names[i];
	}
	qsort(sorted, 5, sizeof(sorted[0]), str_cmp);
	for (int i = 0, o = 0; i < 5; i++)
		o += snprintf(want + o, sizeof(want) - (size_t)o, "%s|", sorted[i]);
	snprintf(q, sizeof(q), "brand=%s&sort=title", brand);
	titles_paged(q, got, sizeof(got));
	assert_string_equal(got, want);
}

static void test_sort_best_selling(void **state)
{
	struct ho_customer cu;
	char brand[64], ids[3][25], q[256], got[512], want[512], path[128], key[33], first[25];
	const char *names[] = { "Never sold", "Sold three", "Sold one" };
	struct h_resp r;
	json_object *j;

	(void)state;
	snprintf(brand, sizeof(brand), "best%s", hc_tag);
	for (int i = 0; i < 3; i++) {
		char slug[64], vars[160];

		snprintf(slug, sizeof(slug), "best%d-%s", i, hc_tag);
		snprintf(vars, sizeof(vars),
			 "[{\"sku\": \"BEST-%d\", \"options\": {}, \"price\": 1000, \"stock\": 20}]", i);
		hc_make_product(slug, names[i], "", brand, NULL, vars, "active", ids[i]);
	}
	/* before any sale: all three, ties (0 sold) in _id order */
	snprintf(q, sizeof(q), "brand=%s&sort=best_selling", brand);
	titles_paged(q, got, sizeof(got));
	assert_int_equal(strlen(got), strlen("Sold one|Sold three|Never sold|"));
	ho_customer_new(&cu, false);
	/* two orders: 2 + 1 of product 1; one order of 1 of product 2 */
	ho_cart_add(&cu, ho_sku("BEST-1"), 2);
	ho_key(key);
	r = ho_place(&cu, key, NULL);
	if (r.status != 201)
		fail_msg("order: %ld %s", r.status, r.body);
	assert_non_null(ho_jstr(&r, "id", first, sizeof(first)));
	h_resp_free(&r);
	ho_cart_add(&cu, ho_sku("BEST-1"), 1);
	ho_cart_add(&cu, ho_sku("BEST-2"), 1);
	ho_key(key);
	r = ho_place(&cu, key, NULL);
	if (r.status != 201)
		fail_msg("order: %ld %s", r.status, r.body);
	h_resp_free(&r);
	/* another URL than before: the micro-cache keys on the whole query */
	snprintf(q, sizeof(q), "brand=%s&sort=best_selling&in_stock=true", brand);
	titles_paged(q, got, sizeof(got));
	snprintf(want, sizeof(want), "Sold three|Sold one|Never sold|");
	assert_string_equal(got, want);
	/* staff see the counter; the public do not */
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", ids[1]);
	r = hc_staff("GET", path, NULL, NULL);
	j = h_json(&r);
	assert_int_equal(json_object_get_int64(hc_jget(j, "sold_units")), 3);
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/products/%s", ids[1]);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_null(hc_jget(j, "sold_units"));
	json_object_put(j);
	h_resp_free(&r);
	/* a cancelled order was not a sale: the first order's 2 off again,
	 * so "Sold three" (1 left) ties "Sold one" (1): newer _id first */
	snprintf(path, sizeof(path), "/api/v1/orders/%s/cancel", first);
	r = ho_req(&cu, "POST", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", ids[1]);
	r = hc_staff("GET", path, NULL, NULL);
	j = h_json(&r);
	assert_int_equal(json_object_get_int64(hc_jget(j, "sold_units")), 1);
	json_object_put(j);
	h_resp_free(&r);
	/* the parameters in another order: another micro-cache key */
	snprintf(q, sizeof(q), "sort=best_selling&brand=%s", brand);
	titles_paged(q, got, sizeof(got));
	assert_string_equal(got, "Sold one|Sold three|Never sold|");
}

/* ---- categories ---- */

/* The node with slug in a tree (depth first), or NULL. */
static json_object *tree_find(json_object *nodes, const char *slug)
{
	for (size_t i = 0; nodes && i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *x;

		if (strcmp(hc_jstr(n, "slug"), slug) == 0)
			return n;
		if ((x = tree_find(hc_jget(n, "children"), slug)))
			return x;
	}
	return NULL;
}

static void test_category_counts(void **state)
{
	char parent[25], child[25], ps[64], cs[64], slug[64], id[25], vars[128], path[128];
	struct h_resp r;
	json_object *j, *roots;

	(void)state;
	snprintf(ps, sizeof(ps), "cnt-%s", hc_tag);
	hc_make_category(ps, NULL, 70, parent);
	snprintf(cs, sizeof(cs), "cnt-kid-%s", hc_tag);
	hc_make_category(cs, parent, 1, child);
	/* active in the child x2, active in the parent, a draft and a deleted one */
	for (int i = 0; i < 5; i++) {
		snprintf(slug, sizeof(slug), "cnt%d-%s", i, hc_tag);
		snprintf(vars, sizeof(vars), "[{\"sku\": \"CNT-%d\", \"options\": {}, \"price\": 1}]", i);
		hc_make_product(slug, "Counted", "", hc_tag, i == 2 ? parent : child, vars,
				i == 3 ? "draft" : "active", id);
		if (i == 4) {
			snprintf(path, sizeof(path), "/api/v1/admin/products/%s", id);
			r = hc_staff("DELETE", path, NULL, NULL);
			assert_true(r.status == 200 || r.status == 204);
			h_resp_free(&r);
		}
	}
	/* with credentials: an anonymous read may be nginx's micro-cached tree
	 * from up to 5 s ago, without these categories */
	r = hc_staff("GET", "/api/v1/categories", NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	roots = hc_jget(j, "items");
	assert_non_null(tree_find(roots, cs));
	assert_int_equal(json_object_get_int64(hc_jget(tree_find(roots, cs), "product_count")), 2);
	assert_int_equal(json_object_get_int64(hc_jget(tree_find(roots, ps), "product_count")), 3);
	/* the demo tree: a department counts its kinds' products */
	for (size_t d = 0; d < 3; d++) {
		const char *only[] = { departments[d], NULL };
		long want = 0;

		for (int i = 0; i < DEMO_N; i++)
			want += in_roots(&demo[i], only);
		assert_int_equal(
			json_object_get_int64(hc_jget(tree_find(roots, departments[d]), "product_count")),
			want);
		for (size_t k = 0; k < 4; k++) {
			char cat[64];
			long n = 0;

			snprintf(cat, sizeof(cat), "%s-%s", departments[d], kinds[k]);
			for (int i = 0; i < DEMO_N; i++)
				n += strcmp(demo[i].cat, cat) == 0;
			assert_int_equal(json_object_get_int64(hc_jget(tree_find(roots, cat), "product_count")),
					 n);
		}
	}
	json_object_put(j);
	h_resp_free(&r);
}

/* ---- product cards and the public view ---- */

static void assert_public_only(json_object *p)
{
	static const char *const hidden[] = { "version", "sold_units", "search_text", "total_stock",
					      "stock_rev", "created_by", "deleted_at", NULL };

	for (size_t i = 0; hidden[i]; i++)
		if (hc_jget(p, hidden[i]))
			fail_msg("public product shows %s", hidden[i]);
	for (size_t i = 0; i < json_object_array_length(hc_jget(p, "variants")); i++) {
		json_object *v = json_object_array_get_idx(hc_jget(p, "variants"), i);

		assert_null(hc_jget(v, "stock"));
		assert_null(hc_jget(v, "low_stock_threshold"));
	}
	for (size_t i = 0; hc_jget(p, "images") && i < json_object_array_length(hc_jget(p, "images")); i++) {
		json_object *im = json_object_array_get_idx(hc_jget(p, "images"), i);

		assert_null(hc_jget(im, "storage"));
		assert_null(hc_jget(im, "public_id"));
		assert_int_equal(strncmp(hc_jstr(im, "url"), "https://", 8), 0);
	}
}

/* The public URL the stack's server was given (https://localhost:<port>). */
static void public_base(char *out, size_t size)
{
	const char *base = h_env("STACK_BASE"), *colon = strrchr(base, ':');

	snprintf(out, size, "https://localhost%s", colon);
}

static void test_card_image_local_and_cloudinary(void **state)
{
	char id[25], id2[25], slug[64], brand[64], q[256], path[256], base[128], want[512];
	char staff_url[256] = "", filter[128], update[1024], hash[65];
	struct hm_buf png = hm_png_make(12, 7, 12, 7, 4242, 0), body = { 0 };
	json_object *items, *it, *j;
	struct h_resp r;

	(void)state;
	snprintf(brand, sizeof(brand), "card%s", hc_tag);
	snprintf(slug, sizeof(slug), "card-%s", hc_tag);
	hc_make_product(slug, "Card", "", brand, NULL,
			"[{\"sku\": \"CARD-1\", \"options\": {}, \"price\": 10}]", "active", id);
	/* local storage: a real upload */
	hm_mp_part(&body, "file", "photo.png", png.p, png.n);
	hm_mp_part(&body, "alt", NULL, "front", 5);
	hm_mp_end(&body);
	r = hm_upload(hc_staff_tok, id, &body, HM_MULTIPART_CT);
	if (r.status != 201)
		fail_msg("upload: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(staff_url, sizeof(staff_url), "%s", hc_jstr(j, "url"));
	json_object_put(j);
	h_resp_free(&r);
	free(body.p);
	free(png.p);
	assert_int_equal(staff_url[0], '/');
	snprintf(q, sizeof(q), "brand=%s", brand);
	items = list_all(q);
	assert_int_equal(json_object_array_length(items), 1);
	it = json_object_array_get_idx(items, 0);
	public_base(base, sizeof(base));
	snprintf(want, sizeof(want), "%s%s", base, staff_url);
	assert_string_equal(hc_jstr(it, "image.url"), want);
	assert_string_equal(hc_jstr(it, "image.alt"), "front");
	assert_int_equal(json_object_get_int(hc_jget(it, "image.width")), 12);
	assert_int_equal(json_object_get_int(hc_jget(it, "image.height")), 7);
	assert_null(hc_jget(it, "category_info"));
	assert_public_only(it);
	json_object_put(items);
	/* the file is where the absolute URL says (same server) */
	r = h_get(staff_url);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* Cloudinary storage: the image document media writes in that mode
	 * (its upload path is test_media_cloudinary's), URL kept absolute */
	snprintf(slug, sizeof(slug), "card2-%s", hc_tag);
	hc_make_product(slug, "Card two", "", brand, NULL,
			"[{\"sku\": \"CARD-2\", \"options\": {}, \"price\": 20}]", "active", id2);
	memset(hash, 'c', 64);
	hash[64] = '\0';
	snprintf(filter, sizeof(filter), "{\"_id\": {\"$oid\": \"%s\"}}", id2);
	snprintf(update, sizeof(update),
		 "{\"$push\": {\"images\": {\"$each\": ["
		 "{\"id\": \"%s\", \"url\": \"https://res.cloudinary.com/demo/image/upload/v1/b.png\","
		 " \"alt\": \"back\", \"position\": 1, \"width\": 30, \"height\": 40,"
		 " \"content_type\": \"image/png\", \"storage\": \"cloudinary\", \"public_id\": \"b\"},"
		 "{\"id\": \"%.63sd\", \"url\": \"https://res.cloudinary.com/demo/image/upload/v1/a.png\","
		 " \"alt\": \"first\", \"position\": 0, \"width\": 50, \"height\": 60,"
		 " \"content_type\": \"image/png\", \"storage\": \"cloudinary\", \"public_id\": \"a\"}]}}}",
		 hash, hash);
	h_db_update("products", filter, update);
	snprintf(path, sizeof(path), "/api/v1/products/%s", id2);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	/* the first by position, not by array order */
	assert_string_equal(hc_jstr(j, "image.url"),
			    "https://res.cloudinary.com/demo/image/upload/v1/a.png");
	assert_int_equal(json_object_get_int(hc_jget(j, "image.width")), 50);
	assert_int_equal(json_object_get_int(hc_jget(j, "image.height")), 60);
	assert_public_only(j);
	json_object_put(j);
	h_resp_free(&r);
}

static void test_detail_breadcrumbs_and_card_category(void **state)
{
	struct m_product *p = demo_find("women-shoes-007");
	char path[128];
	struct h_resp r;
	json_object *j, *bc;

	(void)state;
	assert_non_null(p);
	snprintf(path, sizeof(path), "/api/v1/products/%s", p->slug);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	bc = hc_jget(j, "breadcrumbs");
	assert_non_null(bc);
	assert_int_equal(json_object_array_length(bc), 2);
	assert_string_equal(hc_jstr(j, "breadcrumbs.0.slug"), "women");
	assert_string_equal(hc_jstr(j, "breadcrumbs.0.name"), "Women");
	assert_string_equal(hc_jstr(j, "breadcrumbs.1.slug"), "women-shoes");
	assert_string_equal(hc_jstr(j, "breadcrumbs.1.name"), "Shoes");
	assert_string_equal(hc_jstr(j, "category_info.slug"), "women-shoes");
	assert_string_equal(hc_jstr(j, "category_info.name"), "Shoes");
	assert_null(hc_jget(j, "image"));
	assert_public_only(j);
	json_object_put(j);
	h_resp_free(&r);
}

/* A category renamed changes the product page, so its ETag changes too. */
static void test_etag_follows_the_breadcrumb(void **state)
{
	char cat[25], cs[64], slug[64], id[25], path[128], etag[128], hdr[200];
	struct h_resp r;
	double until;
	long status = 304;

	(void)state;
	snprintf(cs, sizeof(cs), "etag-%s", hc_tag);
	hc_make_category(cs, NULL, 80, cat);
	snprintf(slug, sizeof(slug), "etag-%s", hc_tag);
	hc_make_product(slug, "Tagged", "", hc_tag, cat,
			"[{\"sku\": \"ETAG-1\", \"options\": {}, \"price\": 1}]", "active", id);
	snprintf(path, sizeof(path), "/api/v1/products/%s", id);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "etag", etag, sizeof(etag)));
	h_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/admin/categories/%s", cat);
	r = hc_staff("PATCH", path, "{\"name\": \"Renamed\"}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* within the micro-cache's 5 s nginx may still answer the old page */
	snprintf(path, sizeof(path), "/api/v1/products/%s", id);
	snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag);
	for (until = h_now_s() + 8; status == 304 && h_now_s() < until;) {
		const char *headers[] = { hdr, NULL };

		r = h_request("GET", path, NULL, 0, headers);
		status = r.status;
		if (status == 200) {
			json_object *j = h_json(&r);

			assert_string_equal(hc_jstr(j, "breadcrumbs.0.name"), "Renamed");
			json_object_put(j);
		}
		h_resp_free(&r);
		if (status == 304)
			h_sleep_ms(250);
	}
	assert_int_equal(status, 200);
}

static int group_setup(void **state)
{
	(void)state;
	demo_model();
	if (demo_seed() != 0) {
		fprintf(stderr, "emporium-admin seed-demo failed\n");
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: the model's ids come from it */
		cmocka_unit_test(test_demo_listing_is_the_seed),
		cmocka_unit_test(test_filters_or_within_and_across),
		cmocka_unit_test(test_filter_categories_or),
		cmocka_unit_test(test_facets_disjunctive),
		cmocka_unit_test(test_search_words_and_phrases),
		cmocka_unit_test(test_invalid_utf8_is_400),
		cmocka_unit_test(test_option_filters_and_natural_order),
		cmocka_unit_test(test_option_names_checked),
		cmocka_unit_test(test_ids_keep_their_order),
		cmocka_unit_test(test_sort_title),
		cmocka_unit_test(test_sort_best_selling),
		cmocka_unit_test(test_category_counts),
		cmocka_unit_test(test_card_image_local_and_cloudinary),
		cmocka_unit_test(test_detail_breadcrumbs_and_card_category),
		cmocka_unit_test(test_etag_follows_the_breadcrumb),
	};
	int rc;

	h_init();
	hc_init();
	rc = cmocka_run_group_tests_name("storefront", tests, group_setup, NULL);
	h_cleanup();
	return rc;
}
