#include "http/parse.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes len bytes of s into buf (len + 1 bytes). */
static bool url_decode_into(const char *s, size_t len, bool form, char *buf, struct em_error *err)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				em_error_set(err, EM_ERR_INVALID, NULL,
					     "invalid percent-encoding at byte %zu", i);
				return false;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && form) {
			c = ' ';
		}
		if (c == '\0') {
			em_error_set(err, EM_ERR_INVALID, NULL,
				     "a NUL byte is not allowed in the URL");
			return false;
		}
		buf[o++] = c;
	}
	buf[o] = '\0';
	return true;
}

bool em_url_decode(const char *s, size_t len, bool form, char **out,
		   struct em_error *err)
{
	char *buf = xmalloc(len + 1);

	if (!url_decode_into(s, len, form, buf, err)) {
		free(buf);
		*out = NULL;
		return false;
	}
	*out = buf;
	return true;
}

/* A NUL-terminated copy from the arena, or from the heap without one. */
static char *memdup0(struct em_arena *arena, const char *s, size_t len)
{
	return arena ? em_arena_memdup0(arena, s, len) : xmemdup0(s, len);
}

/* A decoded copy from the arena or the heap; NULL (err set) on a bad escape. */
static char *decode(struct em_arena *arena, const char *s, size_t len, bool form, struct em_error *err)
{
	char *buf;

	if (!arena)
		return em_url_decode(s, len, form, &buf, err) ? buf : NULL;
	buf = em_arena_alloc(arena, len + 1);
	return url_decode_into(s, len, form, buf, err) ? buf : NULL;
}

/* An array of n elements of size bytes made room for one more: capacity
 * doubles from 4 (the count alone says when), from the arena or the heap. */
static void *array_grow(struct em_arena *arena, void *items, size_t n, size_t size)
{
	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return items;
	if (!arena)
		return xrealloc(items, (n ? n * 2 : 4) * size);
	return em_arena_grow(arena, items, n * size, (n ? n * 2 : 4) * size);
}

static void kv_push(struct em_kv_list *list, struct em_arena *arena, char *key, char *value)
{
	list->items = array_grow(arena, list->items, list->n, sizeof(*list->items));
	list->items[list->n].key = key;
	list->items[list->n].value = value;
	list->n++;
}

/* Forgets a list built on an arena, frees one built on the heap. */
static void list_drop(struct em_kv_list *list, struct em_arena *arena)
{
	if (!arena) {
		em_kv_list_release(list);
		return;
	}
	list->items = NULL;
	list->n = 0;
}

bool em_query_parse(const char *qs, struct em_kv_list *out, struct em_arena *arena,
		    struct em_error *err)
{
	size_t len = strlen(qs);
	const char *p = qs, *end = qs + len;

	out->items = NULL;
	out->n = 0;
	if (len > EM_QUERY_MAX_LEN) {
		em_error_set(err, EM_ERR_URI_TOO_LONG, NULL,
			     "the query string is longer than %d bytes", EM_QUERY_MAX_LEN);
		return false;
	}
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pair_end = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pair_end - p));
		char *key = NULL, *value = NULL;

		if (pair_end == p) { /* "a=1&&b=2": tolerate empty pairs */
			p = pair_end + 1;
			continue;
		}
		if (out->n >= EM_QUERY_MAX_PARAMS) {
			em_error_set(err, EM_ERR_INVALID, NULL,
				     "more than %d query parameters", EM_QUERY_MAX_PARAMS);
			goto fail;
		}
		key = decode(arena, p, (size_t)((eq ? eq : pair_end) - p), true, err);
		if (!key)
			goto fail;
		value = decode(arena, eq ? eq + 1 : pair_end, eq ? (size_t)(pair_end - eq - 1) : 0, true, err);
		if (!value) {
			if (!arena)
				free(key);
			goto fail;
		}
		kv_push(out, arena, key, value);
		p = amp ? amp + 1 : end;
	}
	return true;
fail:
	list_drop(out, arena);
	return false;
}

void em_cookie_parse(const char *header, struct em_kv_list *out, struct em_arena *arena)
{
	const char *p = header;

	out->items = NULL;
	out->n = 0;
	if (!header)
		return;
	while (*p && out->n < EM_COOKIE_MAX_COUNT) {
		const char *semi, *eq, *ks, *ke, *vs, *ve;

		while (*p == ' ' || *p == '\t')
			p++;
		semi = strchr(p, ';');
		ke = semi ? semi : p + strlen(p);
		eq = memchr(p, '=', (size_t)(ke - p));
		if (eq && eq > p) {
			ks = p;
			ke = eq;
			while (ke > ks && (ke[-1] == ' ' || ke[-1] == '\t'))
				ke--;
			vs = eq + 1;
			ve = semi ? semi : vs + strlen(vs);
			while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
				vs++;
				ve--;
			}
			if (ke > ks)
				kv_push(out, arena, memdup0(arena, ks, (size_t)(ke - ks)),
					memdup0(arena, vs, (size_t)(ve - vs)));
		}
		if (!semi)
			break;
		p = semi + 1;
	}
}

void em_path_segments_free(char **segments, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(segments[i]);
	free(segments);
}

bool em_path_split(const char *path, size_t len, struct em_arena *arena, char ***segments,
		   size_t *count, struct em_error *err)
{
	char **segs = NULL;
	size_t n = 0;
	const char *p = path, *end = path + len;

	*segments = NULL;
	*count = 0;
	if (len == 0 || path[0] != '/') {
		em_error_set(err, EM_ERR_INVALID, NULL, "the request path must start with '/'");
		return false;
	}
	if (len > EM_PATH_MAX_LEN) {
		em_error_set(err, EM_ERR_URI_TOO_LONG, NULL,
			     "the path is longer than %d bytes", EM_PATH_MAX_LEN);
		return false;
	}
	if (len == 1)
		return true;
	p++;
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *seg_end = slash ? slash : end;
		char *seg;

		if (seg_end == p) {
			em_error_set(err, EM_ERR_INVALID, NULL,
				     "the path has an empty segment");
			goto fail;
		}
		if (n >= EM_PATH_MAX_SEGMENTS) {
			em_error_set(err, EM_ERR_INVALID, NULL, "the path has too many segments");
			goto fail;
		}
		seg = decode(arena, p, (size_t)(seg_end - p), false, err);
		if (!seg)
			goto fail;
		if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0) {
			if (!arena)
				free(seg);
			em_error_set(err, EM_ERR_INVALID, NULL,
				     "the path may not contain '.' or '..' segments");
			goto fail;
		}
		segs = array_grow(arena, segs, n, sizeof(*segs));
		segs[n++] = seg;
		if (!slash)
			break;
		p = slash + 1;
	}
	*segments = segs;
	*count = n;
	return true;
fail:
	if (!arena)
		em_path_segments_free(segs, n);
	return false;
}
