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

#define STORE_NAMESPACE_EXISTS 48

/* Runs create (or collMod) with the validator; *exists when create found it there. */
static bool validator_command(struct em_store *st, const char *cmd_name,
			      const struct store_validator *v, const bson_t *schema, bool *exists,
			      struct em_error *err)
{
	bson_t cmd = BSON_INITIALIZER, validator, reply;
	bson_error_t berr;
	bool ok;

	*exists = false;
	BSON_APPEND_UTF8(&cmd, cmd_name, v->collection);
	BSON_APPEND_DOCUMENT_BEGIN(&cmd, "validator", &validator);
	BSON_APPEND_DOCUMENT(&validator, "$jsonSchema", schema);
	bson_append_document_end(&cmd, &validator);
	BSON_APPEND_UTF8(&cmd, "validationLevel", "strict");
	BSON_APPEND_UTF8(&cmd, "validationAction", "error");
	ok = mongoc_database_write_command_with_opts(st->db, &cmd, NULL, &reply, &berr);
	if (!ok && berr.code == STORE_NAMESPACE_EXISTS) {
		*exists = true;
	} else if (!ok) {
		store_error_set(err, &berr, cmd_name);
		em_error_set(err, err->kind == EM_ERR_UNAVAILABLE ? EM_ERR_UNAVAILABLE : EM_ERR_INTERNAL,
			     NULL, "validator of %s: %s", v->collection, berr.message);
	}
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return ok;
}

bool store_validators_apply(struct em_store *st, const struct store_validator *v, size_t n,
			    struct em_error *err)
{
	for (size_t i = 0; i < n; i++) {
		bson_error_t berr;
		bson_t *schema = bson_new_from_json((const uint8_t *)v[i].schema, -1, &berr);
		bool exists = false, ok;

		if (!schema) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "validator of %s: bad schema: %s",
				     v[i].collection, berr.message);
			return false;
		}
		ok = validator_command(st, "create", &v[i], schema, &exists, err);
		if (!ok && exists)
			ok = validator_command(st, "collMod", &v[i], schema, &exists, err);
		bson_destroy(schema);
		if (!ok)
			return false;
		em_info("validator on %s is in place", v[i].collection);
	}
	return true;
}
