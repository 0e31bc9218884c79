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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_creates_every_module_index),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
	h_cleanup();
	return rc;
}
