/*
 * jsonbuf_bson.c - BSON to JSON bytes, whole or through a view (see
 * jsonbuf_bson.h).
 */
#include "core/jsonbuf_bson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"

static void container(struct em_jsonbuf *b, bson_iter_t *child, bool array,
		      const struct em_jsonbuf_view *elem_view, void *ctx);

/* A document value written through view (NULL: as stored). */
static void doc_value(struct em_jsonbuf *b, const bson_iter_t *it, const struct em_jsonbuf_view *view,
		      void *ctx)
{
	const uint8_t *data;
	uint32_t len;
	bson_t sub;

	bson_iter_document(it, &len, &data);
	if (!data || !bson_init_static(&sub, data, len)) {
		em_jsonbuf_raw(b, "null", 4);
		return;
	}
	em_jsonbuf_bson_doc(b, &sub, view, ctx);
}

static void value(struct em_jsonbuf *b, const bson_iter_t *it, const struct em_jsonbuf_view *view,
		  void *ctx)
{
	switch (bson_iter_type(it)) {
	case BSON_TYPE_UTF8: {
		/* json-c keeps a C string: it ends at an embedded NUL */
		const char *s = bson_iter_utf8(it, NULL);

		em_jsonbuf_string(b, s, strlen(s));
		return;
	}
	case BSON_TYPE_INT32:
		em_jsonbuf_int64(b, bson_iter_int32(it));
		return;
	case BSON_TYPE_INT64:
		em_jsonbuf_int64(b, bson_iter_int64(it));
		return;
	case BSON_TYPE_DOUBLE:
		em_jsonbuf_double(b, bson_iter_double(it));
		return;
	case BSON_TYPE_BOOL:
		if (bson_iter_bool(it))
			em_jsonbuf_raw(b, "true", 4);
		else
			em_jsonbuf_raw(b, "false", 5);
		return;
	case BSON_TYPE_OID: {
		char hex[25];

		bson_oid_to_string(bson_iter_oid(it), hex);
		em_jsonbuf_char(b, '"');
		em_jsonbuf_raw(b, hex, 24);
		em_jsonbuf_char(b, '"');
		return;
	}
	case BSON_TYPE_DATE_TIME: {
		char buf[EM_TIME_RFC3339_SIZE];

		if (!em_time_rfc3339(bson_iter_date_time(it), buf, sizeof(buf)))
			break;
		em_jsonbuf_string(b, buf, strlen(buf));
		return;
	}
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY: {
		bson_iter_t child;

		if (!bson_iter_recurse(it, &child))
			break;
		/* a child view is for the documents of an array */
		if (bson_iter_type(it) == BSON_TYPE_ARRAY)
			container(b, &child, true, view, ctx);
		else
			container(b, &child, false, NULL, ctx);
		return;
	}
	default:
		break;
	}
	em_jsonbuf_raw(b, "null", 4);
}

/* An array's elements (documents in it through elem_view) or a document as stored. */
static void container(struct em_jsonbuf *b, bson_iter_t *child, bool array,
		      const struct em_jsonbuf_view *elem_view, void *ctx)
{
	bool first = true;

	em_jsonbuf_char(b, array ? '[' : '{');
	while (bson_iter_next(child)) {
		if (array) {
			if (!first)
				em_jsonbuf_char(b, ',');
			first = false;
			if (elem_view && BSON_ITER_HOLDS_DOCUMENT(child))
				doc_value(b, child, elem_view, ctx);
			else
				value(b, child, NULL, ctx);
		} else {
			em_jsonbuf_key(b, &first, bson_iter_key(child));
			value(b, child, NULL, ctx);
		}
	}
	em_jsonbuf_char(b, array ? ']' : '}');
}

int64_t em_jsonbuf_bson_int64(const bson_iter_t *it)
{
	switch (bson_iter_type(it)) {
	case BSON_TYPE_INT64:
		return bson_iter_int64(it);
	case BSON_TYPE_INT32:
		return bson_iter_int32(it);
	case BSON_TYPE_DOUBLE: {
		double d = bson_iter_double(it);

		if (isnan(d))
			return 0;
		if (d >= (double)INT64_MAX)
			return INT64_MAX;
		if (d <= (double)INT64_MIN)
			return INT64_MIN;
		return (int64_t)d;
	}
	case BSON_TYPE_BOOL:
		return bson_iter_bool(it) ? 1 : 0;
	case BSON_TYPE_UTF8:
	case BSON_TYPE_OID:
	case BSON_TYPE_DATE_TIME: { /* a JSON string: json-c parses its leading number */
		char buf[EM_TIME_RFC3339_SIZE > 25 ? EM_TIME_RFC3339_SIZE : 25];
		const char *s = buf;
		char *end = NULL;
		long long v;

		if (bson_iter_type(it) == BSON_TYPE_UTF8)
			s = bson_iter_utf8(it, NULL);
		else if (bson_iter_type(it) == BSON_TYPE_OID)
			bson_oid_to_string(bson_iter_oid(it), buf);
		else if (!em_time_rfc3339(bson_iter_date_time(it), buf, sizeof(buf)))
			return 0; /* rendered as null */

		errno = 0;
		v = strtoll(s, &end, 10);
		return end != s && !(v == 0 && errno) ? (int64_t)v : 0;
	}
	default:
		return 0;
	}
}

void em_jsonbuf_bson_value(struct em_jsonbuf *b, const bson_iter_t *it)
{
	value(b, it, NULL, NULL);
}

bool em_jsonbuf_bson_is_null(const bson_iter_t *it)
{
	switch (bson_iter_type(it)) {
	case BSON_TYPE_UTF8:
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_BOOL:
	case BSON_TYPE_OID:
		return false;
	case BSON_TYPE_DATE_TIME: {
		char buf[EM_TIME_RFC3339_SIZE];

		return !em_time_rfc3339(bson_iter_date_time(it), buf, sizeof(buf));
	}
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY: {
		bson_iter_t child;

		return !bson_iter_recurse(it, &child);
	}
	default:
		return true;
	}
}

void em_jsonbuf_bson_pick(struct em_jsonbuf *b, bool *first, const bson_t *doc,
			  const char *const *keys)
{
	bson_iter_t it;

	for (; *keys; keys++) {
		em_jsonbuf_key(b, first, *keys);
		if (bson_iter_init_find(&it, doc, *keys))
			value(b, &it, NULL, NULL);
		else
			em_jsonbuf_null(b);
	}
}

/* Every member's key is looked up in a view's lists (drop, rename,
 * children): the first byte settles almost every miss without a call. */
static inline bool key_is(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

static bool listed(const char *const *keys, const char *key)
{
	for (; keys && *keys; keys++)
		if (key_is(*keys, key))
			return true;
	return false;
}

static bool renamed(const struct em_jsonbuf_rename *r, const char *key)
{
	for (; r && r->from; r++)
		if (key_is(r->from, key))
			return true;
	return false;
}

/*
 * The rename whose new name is key, when the document has its old name
 * too: json-c's add then replaces the member in place, so the renamed
 * value is written where key stands, not last.
 */
static const struct em_jsonbuf_rename *rename_onto(const struct em_jsonbuf_rename *r, const bson_t *doc,
						   const char *key)
{
	bson_iter_t it;

	for (; r && r->from; r++)
		if (key_is(r->to, key) && bson_iter_init_find(&it, doc, r->from))
			return r;
	return NULL;
}

static const struct em_jsonbuf_view *child_view(const struct em_jsonbuf_child *c, const char *key)
{
	for (; c && c->key; c++)
		if (key_is(c->key, key))
			return c->view;
	return NULL;
}

void em_jsonbuf_bson_doc(struct em_jsonbuf *b, const bson_t *doc, const struct em_jsonbuf_view *view,
			 void *ctx)
{
	bson_iter_t it;
	bool first = true;

	if (!bson_iter_init(&it, doc)) {
		em_jsonbuf_raw(b, "null", 4);
		return;
	}
	em_jsonbuf_char(b, '{');
	while (bson_iter_next(&it)) {
		const char *key = bson_iter_key(&it);
		const struct em_jsonbuf_rename *onto;
		bson_iter_t from;

		if (view && (listed(view->drop, key) || renamed(view->rename, key)))
			continue;
		em_jsonbuf_key(b, &first, key);
		onto = view ? rename_onto(view->rename, doc, key) : NULL;
		if (!onto && view && view->member && view->member(b, key, &it, ctx))
			continue;
		if (onto && bson_iter_init_find(&from, doc, onto->from))
			value(b, &from, child_view(view->children, onto->from), ctx);
		else
			value(b, &it, view ? child_view(view->children, key) : NULL, ctx);
	}
	for (const struct em_jsonbuf_rename *r = view ? view->rename : NULL; r && r->from; r++) {
		bson_iter_t to;

		if (!bson_iter_init_find(&it, doc, r->from) ||
		    (bson_iter_init_find(&to, doc, r->to) && !listed(view->drop, r->to) &&
		     !renamed(view->rename, r->to)))
			continue; /* absent, or written in place above */
		em_jsonbuf_key(b, &first, r->to);
		value(b, &it, child_view(view->children, r->from), ctx);
	}
	if (view && view->tail)
		view->tail(b, &first, doc, ctx);
	em_jsonbuf_char(b, '}');
}
