/*
 * categories_cache.c - the worker's copy of the category tree (see
 * catalog_internal.h).
 *
 * Every public product view shows its category and breadcrumb, and a
 * filtered list resolves its category to a subtree: without a copy, each
 * of those read the whole tree from the database, a second round trip
 * per product detail and two more per filtered list (issue 16).
 *
 * The copy hangs off the store, which every process opens for itself
 * after fork() (em_app_open), so no two processes ever share it. It is
 * kept right across workers and hosts by the tree's revision: every
 * change through the API increments catalog_locks "categories".rev in the
 * change's own transaction (categories.c, tree_lock). The copy re-reads
 * that one small document at most every CATALOG_CATEGORY_CACHE_MS and
 * reloads the rows when it moved. The revision is read BEFORE the rows:
 * a change committed in between leaves the copy with the new rows and the
 * old revision, which only costs one more reload - the other order could
 * keep old rows under the new revision until the next change.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog_db.h"
#include "catalog/catalog_internal.h"
#include "core/alloc.h"

struct catalog_category_cache {
	struct catalog_cat_rows rows;
	bool loaded;         /* rows and rev are a copy of the database's */
	int64_t rev;         /* catalog_locks "categories".rev when loaded (0: none) */
	int64_t checked_ms;  /* monotonic ms the revision was last read */
	int64_t loaded_ms;   /* monotonic ms the rows were read */
	json_object *index;  /* catalog_category_index of rows, built on first use */
};

static int64_t cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cache_drop(struct catalog_category_cache *c)
{
	catalog_cat_rows_release(&c->rows);
	if (c->index)
		json_object_put(c->index);
	c->index = NULL;
	c->loaded = false;
}

static void cache_free(void *p)
{
	struct catalog_category_cache *c = p;

	cache_drop(c);
	free(c);
}

/* The tree's revision: catalog_locks "categories".rev, 0 before any change. */
static bool cache_rev_read(struct em_store *st, int64_t *rev, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, *doc = NULL;
	bson_error_t berr;
	bool ok;

	BSON_APPEND_UTF8(&filter, "_id", "categories");
	ok = catalog_db_find_one(st, NULL, "catalog_locks", &filter, &doc, &berr, err);
	*rev = ok && doc ? catalog_db_int(doc, "rev") : 0;
	if (doc)
		bson_destroy(doc);
	bson_destroy(&filter);
	return ok;
}

/* Brings c up to date (at most one revision read, a reload when it moved). */
static bool cache_refresh(struct em_store *st, struct catalog_category_cache *c,
			  struct em_error *err)
{
	int64_t now = cache_now_ms(), rev;
	bson_error_t berr;

	if (c->loaded && now - c->checked_ms < CATALOG_CATEGORY_CACHE_MS)
		return true;
	if (!cache_rev_read(st, &rev, err))
		return false;
	c->checked_ms = now;
	if (c->loaded && rev == c->rev && now - c->loaded_ms < CATALOG_CATEGORY_CACHE_MAX_AGE_MS)
		return true;
	cache_drop(c);
	if (!catalog_cat_rows_load(st, NULL, &c->rows, &berr, err))
		return false;
	c->rev = rev;
	c->loaded_ms = now;
	c->loaded = true;
	return true;
}

bool catalog_category_snap_get(struct em_store *st, struct catalog_category_snap *s,
			       struct em_error *err)
{
	struct catalog_category_cache *c = st->category_cache;

	memset(s, 0, sizeof(*s));
	if (!c) {
		c = xcalloc(1, sizeof(*c));
		st->category_cache = c;
		st->category_cache_free = cache_free;
	}
	if (!cache_refresh(st, c, err))
		return false;
	if (c->rows.bytes <= CATALOG_CATEGORY_CACHE_BYTES) {
		s->cache = c;
		s->rows = &c->rows;
		return true;
	}
	/* Too big to keep: this use takes the rows just read, and the next
	 * one reads the tree again (so a tree that shrinks is kept again). */
	s->own = c->rows;
	memset(&c->rows, 0, sizeof(c->rows));
	cache_drop(c);
	s->rows = &s->own;
	return true;
}

void catalog_category_snap_release(struct catalog_category_snap *s)
{
	if (!s->cache)
		catalog_cat_rows_release(&s->own);
	s->rows = NULL;
	s->cache = NULL;
}

json_object *catalog_category_snap_index(const struct catalog_category_snap *s)
{
	return s->cache && s->cache->index ? json_object_get(s->cache->index) : NULL;
}

void catalog_category_snap_index_keep(struct catalog_category_snap *s, json_object *index)
{
	if (!s->cache || s->cache->index)
		return;
	s->cache->index = json_object_get(index);
}

void catalog_category_cache_invalidate(struct em_store *st)
{
	struct catalog_category_cache *c = st->category_cache;

	if (c)
		cache_drop(c);
}
