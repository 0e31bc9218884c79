#include "http/page.h"

#include <sodium.h>
#include <string.h>


bool em_page_params(const struct em_request *req, int def, int *limit, const char **cursor,
		    struct em_error *err)
{
	const char *s = em_request_query(req, "limit");
	int v = 0;

	*limit = def;
	*cursor = em_request_query(req, "cursor");
	if (*cursor && !**cursor)
		*cursor = NULL;
	if (!s)
		return true;
	/* digits only, no sign, no spaces: strtol would accept " +7" */
	if (!*s || strlen(s) > 3)
		goto bad;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > EM_PAGE_LIMIT_MAX)
		goto bad;
	*limit = v;
	return true;
bad:
	em_error_set(err, EM_ERR_INVALID, "limit", "limit must be a whole number from 1 to %d",
		     EM_PAGE_LIMIT_MAX);
	return false;
}

void em_page_cursor_oid_encode(const bson_oid_t *oid, char out[EM_PAGE_OID_CURSOR_SIZE])
{
	sodium_bin2base64(out, EM_PAGE_OID_CURSOR_SIZE, oid->bytes, sizeof(oid->bytes),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool em_page_cursor_oid_decode(const char *s, bson_oid_t *oid, struct em_error *err)
{
	size_t bin_len = 0, len = strlen(s);
	const char *end = NULL;

	/* libsodium 1.0.18 decodes every byte >= 0x80 as if it were a base64
	 * character (found by tests/fuzz), so the alphabet is checked first:
	 * a cursor is never accepted in two spellings. */
	if (len != EM_PAGE_OID_CURSOR_SIZE - 1 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != len ||
	    sodium_base642bin(oid->bytes, sizeof(oid->bytes), s, len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    bin_len != sizeof(oid->bytes) || end != s + len) {
		em_error_set(err, EM_ERR_INVALID, "cursor", "the cursor is not one this API gave out");
		return false;
	}
	return true;
}

void em_page_respond(struct em_request *req, json_object *items, const char *next)
{
	json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(items);
		em_response_problem(req, 500, "cannot allocate a response", NULL);
		return;
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "next_cursor", next && *next ? json_object_new_string(next) : NULL);
	em_response_json(req, 200, o);
}

void em_page_cursor_oid_from_doc(const bson_t *doc, char out[EM_PAGE_OID_CURSOR_SIZE])
{
	bson_iter_t it;

	out[0] = '\0';
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
		em_page_cursor_oid_encode(bson_iter_oid(&it), out);
}

bool em_page_list_by_id(struct em_request *req, struct em_store *st, const char *collection,
			bson_t *filter, const bson_t *projection, bool descending, int def,
			store_page_render_fn render, void *ctx, const char *what,
			struct em_error *err)
{
	const char *cursor;
	bson_oid_t after, next_id;
	json_object *items = NULL;
	char next[EM_PAGE_OID_CURSOR_SIZE] = "";
	bool more = false;
	int limit;

	if (!em_page_params(req, def, &limit, &cursor, err) ||
	    (cursor && !em_page_cursor_oid_decode(cursor, &after, err)) ||
	    !store_page_by_id(st, collection, filter, projection, descending,
			      cursor ? &after : NULL, limit,
			      render, ctx, what, &items, &next_id, &more, err))
		return false;
	if (more)
		em_page_cursor_oid_encode(&next_id, next);
	em_page_respond(req, items, more ? next : NULL);
	return true;
}

void em_page_cursor_time_encode(int64_t ms, const bson_oid_t *oid,
				char out[EM_PAGE_TIME_CURSOR_SIZE])
{
	unsigned char raw[20];
	uint64_t u = (uint64_t)ms;

	for (int i = 0; i < 8; i++)
		raw[i] = (unsigned char)(u >> (56 - 8 * i));
	memcpy(raw + 8, oid->bytes, 12);
	sodium_bin2base64(out, EM_PAGE_TIME_CURSOR_SIZE, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool em_page_cursor_time_decode(const char *s, int64_t *ms, bson_oid_t *oid, struct em_error *err)
{
	unsigned char raw[20];
	size_t bin_len = 0, len = strlen(s);
	const char *end = NULL;
	uint64_t u = 0;

	/* the alphabet first, as for the _id cursor (libsodium 1.0.18) */
	if (len != EM_PAGE_TIME_CURSOR_SIZE - 1 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != len ||
	    sodium_base642bin(raw, sizeof raw, s, len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    bin_len != sizeof raw || end != s + len) {
		em_error_set(err, EM_ERR_INVALID, "cursor", "the cursor is not one this API gave out");
		return false;
	}
	for (int i = 0; i < 8; i++)
		u = (u << 8) | raw[i];
	*ms = (int64_t)u;
	memcpy(oid->bytes, raw + 8, 12);
	return true;
}

bool em_page_list_by_time(struct em_request *req, struct em_store *st, const char *collection,
			  bson_t *filter, const char *time_field, const bson_t *projection,
			  bool descending, int def, store_page_render_fn render, void *ctx,
			  const char *what, struct em_error *err)
{
	const char *cursor;
	bson_oid_t after, next_id;
	int64_t after_ms = 0, next_ms = 0;
	json_object *items = NULL;
	char next[EM_PAGE_TIME_CURSOR_SIZE] = "";
	bool more = false;
	int limit;

	if (!em_page_params(req, def, &limit, &cursor, err) ||
	    (cursor && !em_page_cursor_time_decode(cursor, &after_ms, &after, err)) ||
	    !store_page_by_time(st, collection, filter, time_field, projection, descending,
				after_ms, cursor ? &after : NULL, limit, render, ctx, what, &items,
				&next_ms, &next_id, &more, err))
		return false;
	if (more)
		em_page_cursor_time_encode(next_ms, &next_id, next);
	em_page_respond(req, items, more ? next : NULL);
	return true;
}
