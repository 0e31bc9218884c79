#include "store/indexes.h"

#include <string.h>

#include "core/log.h"

static bool index_create(struct em_store *st, const struct store_index *ix,
			 struct em_error *err)
{
	bson_error_t berr;
	bson_t *keys = NULL, *opts = NULL, cmd = BSON_INITIALIZER, reply, indexes, spec;
	mongoc_collection_t *coll = NULL;
	bool ok = false;

	keys = bson_new_from_json((const uint8_t *)ix->keys, -1, &berr);
	opts = bson_new_from_json((const uint8_t *)ix->options, -1, &berr);
	if (!keys || !opts) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "index %s.%s: bad spec: %s",
			     ix->collection, ix->name, berr.message);
		goto done;
	}
	BSON_APPEND_UTF8(&cmd, "createIndexes", ix->collection);
	BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
	BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &spec);
	BSON_APPEND_DOCUMENT(&spec, "key", keys);
	BSON_APPEND_UTF8(&spec, "name", ix->name);
	if (!bson_concat(&spec, opts)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "index %s: cannot build spec", ix->name);
		bson_append_document_end(&indexes, &spec);
		bson_append_array_end(&cmd, &indexes);
		goto done;
	}
	bson_append_document_end(&indexes, &spec);
	bson_append_array_end(&cmd, &indexes);
	coll = store_collection(st, ix->collection);
	ok = mongoc_collection_write_command_with_opts(coll, &cmd, NULL, &reply, &berr);
	bson_destroy(&reply);
	if (!ok) {
		store_error_set(err, &berr, "createIndexes");
		em_error_set(err, err->kind == EM_ERR_UNAVAILABLE ? EM_ERR_UNAVAILABLE
								  : EM_ERR_INTERNAL,
			     NULL, "index %s.%s: %s", ix->collection, ix->name, berr.message);
		goto done;
	}
	em_info("index %s.%s is in place", ix->collection, ix->name);
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&cmd);
	if (keys)
		bson_destroy(keys);
	if (opts)
		bson_destroy(opts);
	return ok;
}

bool store_indexes_create(struct em_store *st, const struct store_index *ix, size_t n,
			  struct em_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!index_create(st, &ix[i], err))
			return false;
	return true;
}
