/*
 * seed.c - `emporium-admin seed-demo`: a realistic demo catalog,
 * idempotently. (The demo admin is made by ./scripts/run with
 * `emporium-admin create-admin`, the one way admins are created.)
 *
 * Everything is generated deterministically here (no downloaded data):
 * 3 departments x 4 kinds = 15 categories and 3 x 4 x 18 = 216 products
 * with sizes, colours, brands, prices in minor units, descriptions and
 * some variants below their low-stock threshold. Products go through
 * catalog_product_build like staff input, and are written with one bulk
 * of upserts by slug using $setOnInsert, so re-running creates nothing
 * new and never overwrites what staff changed since.
 *
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/catalog_db.h"
#include "catalog/catalog_internal.h"
#include "core/log.h"
#include "store/store.h"

#define SEED_PER_KIND 18

static const char *const departments[] = { "Men", "Women", "Kids" };
static const char *const kinds[] = { "Tops", "Bottoms", "Shoes", "Accessories" };
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

static void lower_slug(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = in; *p && o + 1 < size; p++)
		out[o++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	out[o] = '\0';
}

/* Upserts a category by slug and returns its _id. */
static bool seed_category(mongoc_collection_t *coll, const char *slug, const char *name,
			  const bson_oid_t *parent, int position, bson_oid_t *id)
{
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER, soi;
	bson_error_t berr;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_iter_t it;
	int64_t now = em_now_ms();
	bool ok = false;

	BSON_APPEND_UTF8(&filter, "slug", slug);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
	BSON_APPEND_UTF8(&soi, "name", name);
	if (parent)
		BSON_APPEND_OID(&soi, "parent_id", parent);
	else
		BSON_APPEND_NULL(&soi, "parent_id");
	BSON_APPEND_INT32(&soi, "position", position);
	BSON_APPEND_DATE_TIME(&soi, "created_at", now);
	BSON_APPEND_DATE_TIME(&soi, "updated_at", now);
	bson_append_document_end(&update, &soi);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, NULL, &berr)) {
		em_err("seed-demo: category %s: %s", slug, berr.message);
		goto done;
	}
	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "_id") &&
	    BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_copy(bson_iter_oid(&it), id);
		ok = true;
	} else {
		em_err("seed-demo: category %s cannot be read back", slug);
	}
	mongoc_cursor_destroy(cur);
done:
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

/* The request-shaped JSON of demo product n of kind k in department d. */
static json_object *seed_product_json(size_t d, size_t k, size_t n, const bson_oid_t *cat,
				      char *slug, size_t slug_size)
{
	json_object *o = json_object_new_object(), *vars = json_object_new_array();
	json_object *opts = json_object_new_array(), *attrs = json_object_new_object();
	char title[160], desc[600], dep[16], kind[16], cat_hex[25];
	size_t seed = d * 1000 + k * 100 + n;
	const char *brand = brands[seed % 6];
	const char *adj = adjectives[(seed * 7) % 10];
	const char *noun = nouns[k][n % 6];
	int64_t base = (int64_t)(300 + (seed * 37) % 4700) * 100; /* 300.00 .. 4999.00 */
	const char *const *sizes = k == 2 ? shoe_sizes : clothing_sizes;
	size_t nsizes = k == 3 ? 1 : (k == 2 ? 5 : 4);

	lower_slug(departments[d], dep, sizeof(dep));
	lower_slug(kinds[k], kind, sizeof(kind));
	snprintf(slug, slug_size, "%s-%s-%03zu", dep, kind, n + 1);
	snprintf(title, sizeof(title), "%s %s %s", brand, adj, noun);
	snprintf(desc, sizeof(desc),
		 "The %s %s from %s: made for %s who want comfort that lasts. %s cut, "
		 "easy care, and colours that stay true wash after wash.",
		 adj, noun, brand, d == 2 ? "kids" : (d == 0 ? "men" : "women"), adj);
	bson_oid_to_string(cat, cat_hex);
	json_object_object_add(o, "title", json_object_new_string(title));
	json_object_object_add(o, "slug", json_object_new_string(slug));
	json_object_object_add(o, "description", json_object_new_string(desc));
	json_object_object_add(o, "brand", json_object_new_string(brand));
	json_object_object_add(o, "category", json_object_new_string(cat_hex));
	json_object_object_add(o, "status", json_object_new_string("active"));
	json_object_object_add(attrs, "material",
			       json_object_new_string(k == 2 ? "leather" : (seed % 2 ? "cotton" : "linen")));
	json_object_object_add(o, "attributes", attrs);
	json_object_array_add(opts, json_object_new_string("size"));
	json_object_array_add(opts, json_object_new_string("color"));
	json_object_object_add(o, "options", opts);
	if (k < 2) {
		/* the order a size sidebar shows (facets): declared, not guessed */
		json_object *order = json_object_new_object(), *sz = json_object_new_array();

		for (size_t s = 0; s < 4; s++)
			json_object_array_add(sz, json_object_new_string(clothing_sizes[s]));
		json_object_object_add(order, "size", sz);
		json_object_object_add(o, "option_order", order);
	}
	for (size_t c = 0; c < 2; c++) {
		const char *color = colors[(seed + c * 3) % 8];

		for (size_t s = 0; s < nsizes; s++) {
			json_object *v = json_object_new_object(), *vo = json_object_new_object();
			char sku[64];
			const char *size = k == 3 ? "OS" : sizes[s];
			/* every 9th product runs low: stock under its threshold */
			int64_t stock = (n % 9 == 4) ? (int64_t)(s % 3) : (int64_t)(5 + (seed + s) % 40);

			snprintf(sku, sizeof(sku), "EMP-%c%c-%03zu-%s-%.3s", dep[0], kind[0], n + 1, size,
				 color);
			for (char *p = sku; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');
			json_object_object_add(v, "sku", json_object_new_string(sku));
			json_object_object_add(vo, "size", json_object_new_string(size));
			json_object_object_add(vo, "color", json_object_new_string(color));
			json_object_object_add(v, "options", vo);
			json_object_object_add(v, "price", json_object_new_int64(base + (int64_t)s * 5000));
			if (seed % 4 == 0)
				json_object_object_add(v, "compare_at_price",
						       json_object_new_int64(base + (int64_t)s * 5000 + 20000));
			json_object_object_add(v, "stock", json_object_new_int64(stock));
			json_object_object_add(v, "low_stock_threshold", json_object_new_int64(3));
			json_object_object_add(v, "weight_grams",
					       json_object_new_int64(k == 2 ? 900 : 250));
			json_object_array_add(vars, v);
		}
	}
	json_object_object_add(o, "variants", vars);
	return o;
}

/* The 3 departments and their 4 kinds each; their ids into the arrays. */
static bool seed_categories(struct em_store *st, bson_oid_t dept_ids[3], bson_oid_t kind_ids[3][4])
{
	mongoc_collection_t *cats = store_collection(st, "categories");
	bool ok = false;

	for (size_t d = 0; d < 3; d++) {
		char slug[64];

		lower_slug(departments[d], slug, sizeof(slug));
		if (!seed_category(cats, slug, departments[d], NULL, (int)d + 1, &dept_ids[d]))
			goto done;
		for (size_t k = 0; k < 4; k++) {
			char name[160], kslug[64];

			lower_slug(kinds[k], kslug, sizeof(kslug));
			snprintf(name, sizeof(name), "%s-%s", slug, kslug);
			if (!seed_category(cats, name, kinds[k], &dept_ids[d], (int)k + 1,
					   &kind_ids[d][k]))
				goto done;
		}
	}
	ok = true;
done:
	mongoc_collection_destroy(cats);
	return ok;
}

/*
 * Queues the upsert of one demo product (by slug, inserted only when
 * missing) built and checked like staff input.
 */
static bool seed_product_queue(mongoc_bulk_operation_t *bulk, const struct em_config *cfg,
			       size_t d, size_t k, size_t n, const bson_oid_t *kind_id)
{
	char slug[64];
	json_object *in = seed_product_json(d, k, n, kind_id, slug, sizeof(slug));
	bson_t content = BSON_INITIALIZER, filter = BSON_INITIALIZER;
	bson_t update = BSON_INITIALIZER, uopts = BSON_INITIALIZER, soi;
	struct em_error err = EM_ERROR_INIT;
	bson_error_t berr;
	bool ok;

	ok = in && catalog_product_build(in, cfg->currency, NULL, &content, &err);
	if (in)
		json_object_put(in);
	if (!ok) {
		em_err("seed-demo: %s: %s (%s)", slug, err.message, err.field);
		goto done;
	}
	BSON_APPEND_UTF8(&filter, "slug", slug);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
	bson_concat(&soi, &content);
	catalog_db_product_new_fields(&soi, NULL, em_now_ms());
	bson_append_document_end(&update, &soi);
	BSON_APPEND_BOOL(&uopts, "upsert", true);
	ok = mongoc_bulk_operation_update_one_with_opts(bulk, &filter, &update, &uopts, &berr);
	if (!ok)
		em_err("seed-demo: %s: %s", slug, berr.message);
done:
	bson_destroy(&content);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&uopts);
	return ok;
}

int catalog_cmd_seed_demo(const struct em_config *cfg, int argc, char **argv)
{
	struct em_store st;
	struct em_error err = EM_ERROR_INIT;
	mongoc_collection_t *products = NULL;
	mongoc_bulk_operation_t *bulk = NULL;
	bson_t reply;
	bson_error_t berr;
	bson_oid_t dept_ids[3], kind_ids[3][4];
	int rc = 1;
	size_t count = 0;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: emporium-admin seed-demo\n");
		return 2;
	}
	if (!store_open(&st, cfg, "emporium-admin", &err)) {
		fprintf(stderr, "seed-demo: %s\n", err.message);
		return 1;
	}
	if (!seed_categories(&st, dept_ids, kind_ids))
		goto done;
	/* written without the API's transactions: tell the workers' copies */
	if (!catalog_category_rev_bump(&st, &err)) {
		fprintf(stderr, "seed-demo: %s\n", err.message);
		goto done;
	}
	products = store_collection(&st, "products");
	bulk = mongoc_collection_create_bulk_operation_with_opts(products, NULL);
	for (size_t d = 0; d < 3; d++)
		for (size_t k = 0; k < 4; k++)
			for (size_t n = 0; n < SEED_PER_KIND; n++, count++)
				if (!seed_product_queue(bulk, cfg, d, k, n, &kind_ids[d][k]))
					goto done;
	if (!mongoc_bulk_operation_execute(bulk, &reply, &berr)) {
		em_err("seed-demo: products: %s", berr.message);
		bson_destroy(&reply);
		goto done;
	}
	bson_destroy(&reply);
	printf("seed-demo: 15 categories and %zu products in place\n", count);
	rc = 0;
done:
	if (bulk)
		mongoc_bulk_operation_destroy(bulk);
	if (products)
		mongoc_collection_destroy(products);
	store_close(&st);
	return rc;
}
