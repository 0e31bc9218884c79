/*
 * indexes.h - the indexes (and other schema objects) the code relies on.
 *
 * Every module that queries a collection lists the indexes that serve
 * its queries in the table in indexes.c; `emporium-admin migrate` creates
 * them all. createIndexes is idempotent for an identical spec, so migrate
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

/* A module's indexes; each module defines one in src/MOD/MOD_indexes.c. */
struct store_index_set {
	const char *module;
	const struct store_index *indexes;
	size_t count;
};

#define STORE_INDEX_SET(mod, arr) \
	{ (mod), (arr), sizeof(arr) / sizeof((arr)[0]) }

extern const struct store_index_set ops_index_set;
extern const struct store_index_set jobs_index_set;
extern const struct store_index_set auth_index_set;
extern const struct store_index_set oauth_index_set;
extern const struct store_index_set catalog_index_set;
extern const struct store_index_set media_index_set;

/* Creates every index of every set; logs each one. */
bool store_indexes_migrate(struct em_store *st, struct em_error *err);

#endif
