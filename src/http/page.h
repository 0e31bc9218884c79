/*
 * page.h - keyset pagination, the same for every list (DESIGN.md §4):
 * ?limit=N (1..EM_PAGE_LIMIT_MAX) and ?cursor=C in, and
 * {"items": [...], "next_cursor": "..."|null} out. Cursors are opaque to
 * clients; a list sorted by _id uses em_page_cursor_oid_*(), a list with
 * another sort key encodes its own (see src/catalog).
 */
#ifndef EM_HTTP_PAGE_H
#define EM_HTTP_PAGE_H

#include <json-c/json.h>
#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "http/request.h"
#include "store/page.h"

#define EM_PAGE_LIMIT_MAX 100
/* base64url (no padding) of the 12 bytes of an ObjectId, plus NUL */
#define EM_PAGE_OID_CURSOR_SIZE 17

/*
 * Reads ?limit= (def when absent) and ?cursor= (*cursor NULL when absent
 * or empty). A limit that is not a whole number from 1 to
 * EM_PAGE_LIMIT_MAX is EM_ERR_INVALID on field "limit".
 */
bool em_page_params(const struct em_request *req, int def, int *limit, const char **cursor,
		    struct em_error *err);

/* The cursor for a list sorted by _id: the last _id listed. */
void em_page_cursor_oid_encode(const bson_oid_t *oid, char out[EM_PAGE_OID_CURSOR_SIZE]);
/* Decodes it; EM_ERR_INVALID on field "cursor" for anything malformed. */
bool em_page_cursor_oid_decode(const char *s, bson_oid_t *oid, struct em_error *err);

/* base64url (no padding) of 8 bytes of milliseconds and the 12 of an ObjectId, plus NUL */
#define EM_PAGE_TIME_CURSOR_SIZE 28
/* The cursor for a list sorted by a time, then _id: the last item's two. */
void em_page_cursor_time_encode(int64_t ms, const bson_oid_t *oid,
				char out[EM_PAGE_TIME_CURSOR_SIZE]);
/* Decodes it; EM_ERR_INVALID on field "cursor" for anything malformed. */
bool em_page_cursor_time_decode(const char *s, int64_t *ms, bson_oid_t *oid, struct em_error *err);

/* The cursor of a list sorted by _id, from its last document ("" without _id). */
void em_page_cursor_oid_from_doc(const bson_t *doc, char out[EM_PAGE_OID_CURSOR_SIZE]);

/*
 * Answers 200 {"items": items, "next_cursor": next or null}; takes
 * ownership of items. next NULL or "" means the last page.
 */
void em_page_respond(struct em_request *req, json_object *items, const char *next);

struct em_store;

/*
 * A whole list sorted by _id: ?limit= (def when absent) and ?cursor= (an
 * _id cursor), one page of collection's documents matching filter (which
 * it appends the keyset bound to), rendered by render, answered as
 * em_page_respond does (projection as in store_page_by_id). The caller
 * checks the query's names first
 * (em_request_query_check) and builds filter from validated input only.
 */
bool em_page_list_by_id(struct em_request *req, struct em_store *st, const char *collection,
			bson_t *filter, const bson_t *projection, bool descending, int def,
			store_page_render_fn render, void *ctx, const char *what,
			struct em_error *err);

/* As em_page_list_by_id, for a list sorted by time_field (a date), then
 * _id (store_page_by_time), with time cursors. */
bool em_page_list_by_time(struct em_request *req, struct em_store *st, const char *collection,
			  bson_t *filter, const char *time_field, const bson_t *projection,
			  bool descending, int def, store_page_render_fn render, void *ctx,
			  const char *what, struct em_error *err);

#endif
