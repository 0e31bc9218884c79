/*
 * page.h - reading one page of a keyset-paginated list from a MongoDB
 * cursor (the HTTP side - ?limit=, ?cursor=, the response - is
 * src/http/page.h; this is the store side, so the HTTP layer never
 * touches the driver).
 */
#ifndef EM_STORE_PAGE_H
#define EM_STORE_PAGE_H

#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>

#include "core/error.h"

/* Renders one document of a list as its JSON item; NULL on failure. */
typedef json_object *(*store_page_render_fn)(const bson_t *doc, void *ctx);

/*
 * Reads a cursor opened with "limit": limit + 1 (the extra document only
 * says there is a next page): renders up to limit documents into a new
 * *items array, copies the last one rendered into *last (a bson_t the
 * caller initialised and destroys; it derives the next cursor from it)
 * and sets *more. On failure *items is NULL and err is set: the driver's
 * error (also in berr) through store_error_set with `what`, or
 * EM_ERR_INTERNAL when an item cannot be rendered.
 */
bool store_page_collect(mongoc_cursor_t *cur, int limit, store_page_render_fn render, void *ctx,
			const char *what, json_object **items, bson_t *last, bool *more,
			bson_error_t *berr, struct em_error *err);

struct em_store;

/*
 * One page of a list sorted by _id (descending: newest first): narrows
 * filter (the caller's, appended to) to the documents past `after` (NULL
 * on the first page), reads limit + 1 of them from collection with
 * store_page_collect (projection: the fields to leave out or keep, NULL
 * for all), and sets *next_id from the last one listed when *more. The
 * shape every list by _id shares.
 */
bool store_page_by_id(struct em_store *st, const char *collection, bson_t *filter,
		      const bson_t *projection, bool descending, const bson_oid_t *after, int limit,
		      store_page_render_fn render, void *ctx, const char *what,
		      json_object **items, bson_oid_t *next_id, bool *more, struct em_error *err);

/*
 * As store_page_by_id, sorted by a date field, then _id (the tie-break):
 * for lists shown in the order things happened, which an ObjectId gives
 * only to the second across processes. after_id NULL: the first page;
 * else the page starts past (after_ms, after_id). *next_ms and *next_id
 * come from the last document listed when *more.
 */
bool store_page_by_time(struct em_store *st, const char *collection, bson_t *filter,
			const char *time_field, const bson_t *projection, bool descending,
			int64_t after_ms, const bson_oid_t *after_id, int limit,
			store_page_render_fn render, void *ctx, const char *what,
			json_object **items, int64_t *next_ms, bson_oid_t *next_id, bool *more,
			struct em_error *err);

#endif
