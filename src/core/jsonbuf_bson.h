/*
 * jsonbuf_bson.h - stored BSON documents written straight to JSON bytes
 * (jsonbuf.h), with views that drop, rename and add members.
 *
 * The bytes are those of em_bson_to_json() then em_json_text(): the same
 * type mapping (ObjectIds as hex, dates as RFC 3339, null and the types the
 * shop never stores as null) and the member order json-c gives a render
 * that deletes, renames (add under the new name, then delete: the new name
 * goes last) and adds members. A view is that list of edits, declared once;
 * rendering walks the document once, with no tree and no allocation but
 * the buffer's.
 */
#ifndef EM_CORE_JSONBUF_BSON_H
#define EM_CORE_JSONBUF_BSON_H

#include <bson/bson.h>

#include "core/jsonbuf.h"

struct em_jsonbuf_view;

/* A renamed member: written after the others, in table order, as `to`. */
struct em_jsonbuf_rename {
	const char *from, *to;
};

/* A member whose value (a document, or an array of documents) has its own view. */
struct em_jsonbuf_child {
	const char *key;
	const struct em_jsonbuf_view *view;
};

struct em_jsonbuf_view {
	const char *const *drop;                 /* NULL-terminated, or NULL */
	const struct em_jsonbuf_rename *rename;  /* ends with { NULL, NULL }, or NULL */
	const struct em_jsonbuf_child *children; /* ends with { NULL, NULL }, or NULL */
	/* Members added last (after the renamed ones); NULL for none.
	 * Write each with em_jsonbuf_key(b, first, ...) then its value. */
	void (*tail)(struct em_jsonbuf *b, bool *first, const bson_t *doc, void *ctx);
	/* A member's value written another way (a URL made absolute): returns
	 * true when it wrote the value of it itself; NULL for none. */
	bool (*member)(struct em_jsonbuf *b, const char *key, const bson_iter_t *it, void *ctx);
};

/* What json_object_get_int64() gives for the value at it (0 for absent types). */
int64_t em_jsonbuf_bson_int64(const bson_iter_t *it);

/* The value at it, as em_bson_to_json() maps it. */
void em_jsonbuf_bson_value(struct em_jsonbuf *b, const bson_iter_t *it);
/* Whether the value at it is written as null (what a json-c tree of it
 * holds as NULL: null, the types the shop never stores, a date out of range). */
bool em_jsonbuf_bson_is_null(const bson_iter_t *it);
/* The members named in keys (NULL-terminated), in that order: each one's
 * value in doc, or null when doc has none (a json-c copy of a member that
 * may be missing). */
void em_jsonbuf_bson_pick(struct em_jsonbuf *b, bool *first, const bson_t *doc,
			  const char *const *keys);
/* The whole document (view NULL) or its view; ctx goes to the tail callbacks. */
void em_jsonbuf_bson_doc(struct em_jsonbuf *b, const bson_t *doc, const struct em_jsonbuf_view *view,
			 void *ctx);

#endif
