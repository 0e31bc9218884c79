/*
 * The public product view written straight from BSON (product_json.c,
 * core/jsonbuf_bson.c) against the json-c renderer it replaces
 * (catalog_product_render + em_json_text): the same bytes for every
 * product of the demo catalog (seeded into a database of its own on the
 * stack's server, so no other suite sees it) and for stored documents
 * with every type and awkward string the writer must escape; and through
 * HTTPS, a product's detail body and ETag are what the old renderer gives
 * for its stored document.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <bson/bson.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog_internal.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/jsonbuf.h"
#include "harness_catalog.h"

/* The old bytes: the json-c tree, as em_response_json wrote it. */
static char *old_bytes(const bson_t *doc, const struct catalog_public_view *view)
{
	json_object *o = catalog_product_public_render(doc, view);
	char *s;

	assert_non_null(o);
	s = strdup(em_json_text(o, NULL));
	json_object_put(o);
	return s;
}

static char *new_bytes(const bson_t *doc, const struct catalog_public_view *view)
{
	struct em_jsonbuf b = EM_JSONBUF_INIT;

	catalog_product_public_write(&b, doc, view);
	return em_jsonbuf_take(&b, NULL);
}

/* Compares both renderers on every product of db; returns how many. */
static int compare_all(const char *db)
{
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_collection_t *coll = mongoc_client_get_collection(client, db, "products");
	bson_t filter = BSON_INITIALIZER;
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	struct em_store st = { 0 };
	struct em_error e = EM_ERROR_INIT;
	json_object *index = NULL;
	const bson_t *doc;
	bson_error_t err;
	int n = 0;

	/* the category index the request builds (catalog_public_view_init) */
	st.client = client;
	st.db = mongoc_client_get_database(client, db);
	snprintf(st.db_name, sizeof(st.db_name), "%s", db);
	if (!catalog_category_index(&st, &index, &e))
		fail_msg("category index: %s", e.message);
	while (mongoc_cursor_next(cur, &doc)) {
		static const int64_t lows[] = { 0, 5, 100 };
		static const char *const bases[] = { "https://shop.example.test", "https://s.test///" };

		for (size_t l = 0; l < sizeof(lows) / sizeof(lows[0]); l++)
			for (int detail = 0; detail < 2; detail++)
				for (int base = 0; base < 2; base++) {
					struct catalog_public_view view = { lows[l], bases[base], index,
									    detail };
					char *o = old_bytes(doc, &view), *w = new_bytes(doc, &view);

					if (strcmp(o, w) != 0) {
						size_t at = 0;

						while (o[at] && o[at] == w[at])
							at++;
						at = at > 40 ? at - 40 : 0;
						fail_msg("renderers differ (low %" PRId64 ", detail %d) at byte %zu:\n"
							 "old ...%.200s\nnew ...%.200s", lows[l], detail, at,
							 o + at, w + at);
					}
					free(o);
					free(w);
				}
		n++;
	}
	if (mongoc_cursor_error(cur, &err))
		fail_msg("find: %s", err.message);
	json_object_put(index);
	/* the store's copy of the tree (store_close would free it) */
	if (st.category_cache_free)
		st.category_cache_free(st.category_cache);
	mongoc_database_destroy(st.db);
	mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	return n;
}

static void test_seed_catalog_renders_the_same(void **state)
{
	char env[256], db[64], cmd[2600], exe[1024], line[1024];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *in, *out;
	int n;

	(void)state;
	/* an env file naming a database of this test's own */
	snprintf(db, sizeof(db), "render_bytes_%d", (int)getpid());
	snprintf(env, sizeof(env), "/tmp/render-bytes-%d.env", (int)getpid());
	in = fopen(h_env("STACK_ENV_FILE"), "r");
	out = fopen(env, "w");
	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in))
		if (strncmp(line, "EMPORIUM_DB_NAME=", 17) != 0)
			fputs(line, out);
	fprintf(out, "EMPORIUM_DB_NAME=%s\n", db);
	fclose(in);
	fclose(out);
	assert_true(len > 0);
	exe[len] = '\0';
	for (int i = 0; i < 3; i++) /* <build>/tests/integration/x -> <build> */
		*strrchr(exe, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "EMPORIUM_ENV_FILE='%s' '%s/emporium-admin' seed-demo >/dev/null 2>&1",
		 env, exe);
	assert_int_equal(system(cmd), 0);
	unlink(env);
	n = compare_all(db);
	assert_true(n >= 20); /* the demo catalog is there */
	{
		mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
		mongoc_database_t *d = mongoc_client_get_database(client, db);

		mongoc_database_drop(d, NULL);
		mongoc_database_destroy(d);
		mongoc_client_destroy(client);
	}
}

/* Stored documents with what a writer can get wrong. */
static void test_awkward_documents_render_the_same(void **state)
{
	char db[64];
	mongoc_client_t *client;
	mongoc_collection_t *coll;
	bson_error_t err;
	bson_oid_t id, cat;
	char s[160];
	int n;

	(void)state;
	snprintf(db, sizeof(db), "render_awkward_%d", (int)getpid());
	client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	{
		/* a category for the product's category_info and breadcrumbs */
		mongoc_collection_t *cats = mongoc_client_get_collection(client, db, "categories");
		bson_t *c = BCON_NEW("slug", BCON_UTF8("cat/\"x\""), "name", BCON_UTF8("Cat \\ é"),
				     "position", BCON_INT32(0));

		bson_oid_init(&cat, NULL);
		BSON_APPEND_OID(c, "_id", &cat);
		if (!mongoc_collection_insert_one(cats, c, NULL, NULL, &err))
			fail_msg("insert category: %s", err.message);
		bson_destroy(c);
		mongoc_collection_destroy(cats);
	}
	coll = mongoc_client_get_collection(client, db, "products");
	/* every byte 0x01..0xff that is valid in UTF-8 up to 0x7f, plus
	 * multi-byte characters, quotes, backslashes and slashes */
	for (int i = 1; i < 128; i++)
		s[i - 1] = (char)i;
	snprintf(s + 127, sizeof(s) - 127, "\"\\/ é€😀</script>");
	for (int v = 0; v < 6; v++) {
		bson_t *doc = bson_new(), vars, var, tags, sub;

		bson_oid_init(&id, NULL);
		BSON_APPEND_OID(doc, "_id", &id);
		BSON_APPEND_UTF8(doc, "slug", "awkward");
		BSON_APPEND_UTF8(doc, "title", s);
		if (v == 0 || v == 3)
			BSON_APPEND_OID(doc, "category_id", &cat);
		else if (v != 1)
			BSON_APPEND_OID(doc, "category_id", &id); /* no such category */
		{
			/* images: relative, protocol-relative, absolute and odd URLs,
			 * positions of every type, storage details to drop */
			static const char *const urls[] = { "/media/a b.jpg", "//cdn.test/x.jpg",
							    "https://img.test/y.png", "" };
			bson_t ims, im;

			BSON_APPEND_ARRAY_BEGIN(doc, "images", &ims);
			for (int k = 0; k < 4 && v != 5; k++) {
				char key[4];

				snprintf(key, sizeof(key), "%d", k);
				BSON_APPEND_DOCUMENT_BEGIN(&ims, key, &im);
				BSON_APPEND_UTF8(&im, "storage", "local");
				if (k == 3 && v == 2)
					BSON_APPEND_INT32(&im, "url", 7);
				else
					BSON_APPEND_UTF8(&im, "url", urls[(k + v) % 4]);
				BSON_APPEND_UTF8(&im, "public_id", "p/1");
				BSON_APPEND_UTF8(&im, "alt", "an \"alt\"");
				if (k != 1)
					BSON_APPEND_INT32(&im, "width", 640);
				if (k == 0)
					BSON_APPEND_INT32(&im, "position", 3 - v);
				else if (k == 1)
					BSON_APPEND_UTF8(&im, "position", "2");
				else if (k == 2)
					BSON_APPEND_DOUBLE(&im, "position", v - 1.5);
				bson_append_document_end(&ims, &im);
			}
			bson_append_array_end(doc, &ims);
		}
		BSON_APPEND_UTF8(doc, "search_text", "hidden");
		BSON_APPEND_INT64(doc, "sold_units", 3);
		BSON_APPEND_NULL(doc, "deleted_at");
		BSON_APPEND_DATE_TIME(doc, "created_at", 1700000000123 + v);
		BSON_APPEND_DOUBLE(doc, "rating", v == 0 ? 4.5 : v == 1 ? 3.0 : 1e300 * v);
		BSON_APPEND_BOOL(doc, "featured", v % 2);
		BSON_APPEND_INT32(doc, "version", v);
		if (v == 2)
			BSON_APPEND_DOUBLE(doc, "total_stock", 3.0);
		else if (v == 3)
			BSON_APPEND_UTF8(doc, "total_stock", "7");
		else
			BSON_APPEND_INT64(doc, "total_stock", v * 10);
		BSON_APPEND_DOCUMENT_BEGIN(doc, "price", &sub);
		BSON_APPEND_INT64(&sub, "amount", INT64_MIN + v);
		BSON_APPEND_UTF8(&sub, "currency", "BDT");
		BSON_APPEND_REGEX(&sub, "odd", "x", ""); /* a type never stored: null */
		bson_append_document_end(doc, &sub);
		BSON_APPEND_ARRAY_BEGIN(doc, "tags", &tags);
		BSON_APPEND_UTF8(&tags, "0", "a/b");
		BSON_APPEND_INT32(&tags, "1", -1);
		BSON_APPEND_NULL(&tags, "2");
		bson_append_array_end(doc, &tags);
		if (v != 4) {
			BSON_APPEND_ARRAY_BEGIN(doc, "variants", &vars);
			for (int k = 0; k < 3; k++) {
				char key[4];

				snprintf(key, sizeof(key), "%d", k);
				BSON_APPEND_DOCUMENT_BEGIN(&vars, key, &var);
				BSON_APPEND_UTF8(&var, "sku", "S\"1");
				if (k == 0)
					BSON_APPEND_INT32(&var, "stock", v);
				else if (k == 1)
					BSON_APPEND_DOUBLE(&var, "stock", 2.0);
				BSON_APPEND_INT64(&var, "low_stock_threshold", 3);
				BSON_APPEND_BOOL(&var, "low_stock", true);
				bson_append_document_end(&vars, &var);
			}
			bson_append_array_end(doc, &vars);
		} else {
			BSON_APPEND_DOCUMENT_BEGIN(doc, "variants", &var); /* not an array */
			BSON_APPEND_INT32(&var, "stock", 4);
			bson_append_document_end(doc, &var);
		}
		BSON_APPEND_DOUBLE(doc, "_score", 1.25);
		BSON_APPEND_OID(doc, "created_by", &id);
		BSON_APPEND_INT64(doc, "stock_rev", 9);
		if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
			fail_msg("insert: %s", err.message);
		bson_destroy(doc);
	}
	n = compare_all(db);
	assert_int_equal(n, 6);
	{
		mongoc_database_t *d = mongoc_client_get_database(client, db);

		mongoc_database_drop(d, NULL);
		mongoc_database_destroy(d);
	}
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
}

/* The ETag of the old renderer's bytes (body): "<id>-<version>-<digest>". */
static void old_etag(const bson_t *doc, const char *body, char *out, size_t size)
{
	bson_iter_t it;
	char hex[25] = "";

	bson_iter_init_find(&it, doc, "_id");
	bson_oid_to_string(bson_iter_oid(&it), hex);
	snprintf(out, size, "\"%s-%" PRId64 "-%016" PRIx64 "\"", hex,
		 bson_iter_init_find(&it, doc, "version") ? em_bson_iter_int64(&it) : 0,
		 em_digest64(body, strlen(body)));
}

static void test_detail_over_https_is_the_old_bytes(void **state)
{
	char id[25], slug[64], path[128], filter[96], etag[128], want_etag[128];
	char *stored, *want;
	bson_t *doc;
	bson_error_t err;
	struct h_resp r;

	(void)state;
	snprintf(slug, sizeof(slug), "render-bytes-%s", hc_tag);
	hc_make_product(slug, "Slash/\\\"quote\\\" \\\\ é", "a description with </tags> and / slashes",
			"Brand/X", NULL,
			"[{\"sku\": \"RB-1\", \"options\": {\"size\": \"M/L\"}, \"price\": 1500, \"stock\": 3},"
			"{\"sku\": \"RB-2\", \"options\": {}, \"price\": 1700, \"stock\": 40}]",
			"active", id);
	snprintf(filter, sizeof(filter), "{\"_id\": {\"$oid\": \"%s\"}}", id);
	stored = h_db_find_json("products", filter);
	assert_non_null(stored);
	doc = bson_new_from_json((const uint8_t *)stored, -1, &err);
	assert_non_null(doc);
	{
		/* the stack's view: the default low stock (5), its public URL */
		struct em_store st = { 0 };
		struct em_error e = EM_ERROR_INIT;
		struct catalog_public_view view = { 5, h_env("STACK_BASE"), NULL, true };
		const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

		st.client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
		st.db = mongoc_client_get_database(st.client, db);
		snprintf(st.db_name, sizeof(st.db_name), "%s", db);
		if (!catalog_category_index(&st, &view.categories, &e))
			fail_msg("category index: %s", e.message);
		want = old_bytes(doc, &view);
		old_etag(doc, want, want_etag, sizeof(want_etag));
		json_object_put(view.categories);
		if (st.category_cache_free)
			st.category_cache_free(st.category_cache);
		mongoc_database_destroy(st.db);
		mongoc_client_destroy(st.client);
	}
	snprintf(path, sizeof(path), "/api/v1/products/%s", slug);
	r = h_get(path);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, want);
	assert_true(h_header(&r, "ETag", etag, sizeof(etag)));
	assert_string_equal(etag, want_etag);
	h_resp_free(&r);
	free(want);
	free(stored);
	bson_destroy(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_catalog_renders_the_same),
		cmocka_unit_test(test_awkward_documents_render_the_same),
		cmocka_unit_test(test_detail_over_https_is_the_old_bytes),
	};
	int rc;

	h_init();
	hc_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
