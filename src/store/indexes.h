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

#include "core/error.h"
#include "store/store.h"

/* Creates every index of the table; logs each collection it touches. */
bool store_indexes_migrate(struct em_store *st, struct em_error *err);

#endif
