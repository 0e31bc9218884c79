/*
 * indexes.h - the indexes (and other schema objects) the code relies on.
 *
 * Every module that queries a collection lists the indexes that serve
 * its queries in its descriptor (src/<mod>/module.c); `emporium-admin
 * migrate` creates them all. createIndexes is idempotent for an identical spec, so migrate
 * is safe to re-run; a changed spec under the same name fails loudly
 * instead of silently keeping the old one.
 */
#ifndef EM_STORE_INDEXES_H
#define EM_STORE_INDEXES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "store/store.h"

/*
 * One index: the collection, a name, the key document and the options,
 * both as relaxed extended JSON (static text, never request data).
 */
struct store_index {
	const char *collection;
	const char *name;
	const char *keys;
	const char *options;
};

/*
 * Creates the n indexes of one module (its descriptor's list, see
 * src/app/module.h); logs each one. emporium-admin migrate calls it for
 * every module.
 */
bool store_indexes_create(struct em_store *st, const struct store_index *ix, size_t n,
			  struct em_error *err);

/*
 * A collection's $jsonSchema validator: what MongoDB itself refuses to
 * store (money and quantities that are not int64, a status outside its
 * enum, a missing required field), so a bug in the C code cannot write a
 * document the rest of the code cannot read. schema is the $jsonSchema
 * document as relaxed extended JSON (static text in the module's
 * descriptor: the one place the schema is written).
 */
struct store_validator {
	const char *collection;
	const char *schema;
};

/*
 * Puts each validator on its collection (create, or collMod when the
 * collection exists), validationLevel strict, validationAction error;
 * safe to re-run. err names the collection of a failure.
 */
bool store_validators_apply(struct em_store *st, const struct store_validator *v, size_t n,
			    struct em_error *err);

#endif
