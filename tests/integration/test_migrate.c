/*
 * Integration test for emporium-admin migrate: the stack's database holds
 * every index every module declares (the union of the descriptors' index
 * lists), each with the declared keys - read back with listIndexes, so a
 * module whose indexes migrate skipped, or a spec the server stored
 * differently, fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/modules.h"
#include "harness.h"

/* True when collection has an index called name whose key equals keys. */
static bool index_present(mongoc_database_t *db, const struct store_index *ix)
{
	mongoc_collection_t *coll = mongoc_database_get_collection(db, ix->collection);
	mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(coll, NULL);
	bson_t *want = bson_new_from_json((const uint8_t *)ix->keys, -1, NULL);
	const bson_t *doc;
	bson_error_t err;
	bool found = false;

	assert_non_null(want);
	while (!found && mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		const uint8_t *data;
		uint32_t len;
		bson_t key;

		if (!bson_iter_init_find(&it, doc, "name") || !BSON_ITER_HOLDS_UTF8(&it) ||
		    strcmp(bson_iter_utf8(&it, NULL), ix->name) != 0)
			continue;
		assert_true(bson_iter_init_find(&it, doc, "key") && BSON_ITER_HOLDS_DOCUMENT(&it));
		bson_iter_document(&it, &len, &data);
		assert_true(bson_init_static(&key, data, len));
		/* a text index is stored as {_fts, _ftsx} plus its weights */
		found = strstr(ix->keys, "\"text\"") ? true : bson_equal(&key, want);
		if (!found) {
			char *have = bson_as_relaxed_extended_json(&key, NULL);

			fprintf(stderr, "  %s.%s: key %s, declared %s\n", ix->collection, ix->name,
				have, ix->keys);
			bson_free(have);
		}
	}
	if (mongoc_cursor_error(cur, &err))
		fail_msg("listIndexes %s: %s", ix->collection, err.message);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(want);
	return found;
}

static void test_migrate_creates_every_module_index(void **state)
{
	const char *dbname = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_database_t *db;
	size_t checked = 0, missing = 0;

	(void)state;
	assert_non_null(client);
	db = mongoc_client_get_database(client, dbname);
	for (size_t i = 0; em_modules[i]; i++)
		for (size_t x = 0; x < em_modules[i]->nindexes; x++) {
			const struct store_index *ix = &em_modules[i]->indexes[x];

			checked++;
			if (!index_present(db, ix)) {
				fprintf(stderr, "  missing: %s.%s (module %s)\n", ix->collection,
					ix->name, em_modules[i]->name);
				missing++;
			}
		}
	printf("  %zu indexes declared by the modules, %zu missing\n", checked, missing);
	assert_true(checked > 20);
	assert_int_equal(missing, 0);
	mongoc_database_destroy(db);
	mongoc_client_destroy(client);
}

/* Every declared validator is on its collection (listCollections). */
static void test_migrate_puts_every_validator_in_place(void **state)
{
	const char *dbname = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_database_t *db;
	size_t checked = 0;

	(void)state;
	assert_non_null(client);
	db = mongoc_client_get_database(client, dbname);
	for (size_t i = 0; em_modules[i]; i++)
		for (size_t v = 0; v < em_modules[i]->nvalidators; v++) {
			const struct store_validator *val = &em_modules[i]->validators[v];
			bson_t *filter = BCON_NEW("filter", "{", "name", BCON_UTF8(val->collection), "}");
			mongoc_cursor_t *cur = mongoc_database_find_collections_with_opts(db, filter);
			const bson_t *doc;
			bool found = false;
			bson_error_t err;

			while (mongoc_cursor_next(cur, &doc)) {
				bson_iter_t it;

				found = bson_iter_init(&it, doc) &&
					bson_iter_find_descendant(&it, "options.validator.$jsonSchema", &it) &&
					BSON_ITER_HOLDS_DOCUMENT(&it);
			}
			if (mongoc_cursor_error(cur, &err))
				fail_msg("listCollections: %s", err.message);
			if (!found)
				fail_msg("no $jsonSchema validator on %s", val->collection);
			mongoc_cursor_destroy(cur);
			bson_destroy(filter);
			checked++;
		}
	printf("  %zu validators in place\n", checked);
	assert_true(checked >= 8);
	mongoc_database_destroy(db);
	mongoc_client_destroy(client);
}

/* Inserts doc (relaxed extended JSON) into collection; the server's code. */
static int insert_code(const char *collection, const char *json)
{
	const char *dbname = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_collection_t *coll = mongoc_client_get_collection(client, dbname, collection);
	bson_t *doc = bson_new_from_json((const uint8_t *)json, -1, NULL);
	bson_error_t err;
	int code = 0;

	assert_non_null(doc);
	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
		code = (int)err.code;
	bson_destroy(doc);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	return code;
}

/*
 * The database refuses what the code must never write, even if the code
 * had a bug: money as a double, a missing required field, a status
 * outside its enum (121 DocumentValidationFailure); the same document
 * with int64 money is stored.
 */
#define ORDER_FMT \
		"{\"number\": \"EM-2026-%06d\", \"user_id\": {\"$oid\": \"0123456789abcdef01234567\"}," \
		" \"status\": \"%s\", \"payment_method\": \"cod\", \"payment_status\": \"unpaid\"," \
		" \"currency\": \"BDT\", \"lines\": [{\"sku\": \"V-1\", \"quantity\": {\"$numberLong\": \"1\"}," \
		" \"unit_price\": {\"$numberLong\": \"1000\"}, \"line_total\": {\"$numberLong\": \"1000\"}," \
		" \"discount\": {\"$numberLong\": \"0\"}, \"tax\": {\"$numberLong\": \"0\"}}]," \
		" \"subtotal\": {\"$numberLong\": \"1000\"}, \"discount\": {\"$numberLong\": \"0\"}," \
		" \"shipping\": {\"$numberLong\": \"0\"}, \"tax\": {\"$numberLong\": \"0\"}," \
		" \"total\": %s, \"version\": {\"$numberLong\": \"1\"}," \
		" \"created_at\": {\"$date\": 1790000000000}}"

static void test_database_refuses_bad_documents(void **state)
{
	char good[1024], bad[1100];

	(void)state;
	/* money as a double */
	snprintf(bad, sizeof bad, ORDER_FMT, 900001, "pending", "1000.0");
	assert_int_equal(insert_code("orders", bad), 121);
	/* a status outside the enum */
	snprintf(bad, sizeof bad, ORDER_FMT, 900002, "lost", "{\"$numberLong\": \"1000\"}");
	assert_int_equal(insert_code("orders", bad), 121);
	/* a missing required field */
	assert_int_equal(insert_code("orders", "{\"number\": \"EM-2026-900003\"}"), 121);
	/* a product whose variant stock is a double */
	assert_int_equal(insert_code("products",
				     "{\"title\": \"x\", \"slug\": \"validator-x\", \"status\": \"active\","
				     " \"version\": {\"$numberLong\": \"1\"}, \"variants\": [{\"sku\": \"VX-1\","
				     " \"price\": {\"$numberLong\": \"100\"}, \"stock\": 3.0}]}"),
			 121);
	/* a role nobody has */
	assert_int_equal(insert_code("users", "{\"email\": \"v@example.test\", \"role\": \"root\"}"),
			 121);
	/* the same order, written right, is stored */
	snprintf(good, sizeof good, ORDER_FMT, 900004, "pending", "{\"$numberLong\": \"1000\"}");
	assert_int_equal(insert_code("orders", good), 0);
	h_db_delete("orders", "{\"number\": \"EM-2026-900004\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_creates_every_module_index),
		cmocka_unit_test(test_migrate_puts_every_validator_in_place),
		cmocka_unit_test(test_database_refuses_bad_documents),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
	h_cleanup();
	return rc;
}
