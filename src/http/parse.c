#include "http/parse.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

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

bool em_url_decode(const char *s, size_t len, bool form, char **out,
		   struct em_error *err)
{
	char *buf = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				em_error_set(err, EM_ERR_INVALID, NULL,
					     "invalid percent-encoding at byte %zu", i);
				goto fail;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && form) {
			c = ' ';
		}
		if (c == '\0') {
			em_error_set(err, EM_ERR_INVALID, NULL,
				     "a NUL byte is not allowed in the URL");
			goto fail;
		}
		buf[o++] = c;
	}
	buf[o] = '\0';
	*out = buf;
	return true;
fail:
	free(buf);
	*out = NULL;
	return false;
}

static void kv_push(struct em_kv_list *list, char *key, char *value)
{
	list->items = xrealloc(list->items, (list->n + 1) * sizeof(*list->items));
	list->items[list->n].key = key;
	list->items[list->n].value = value;
	list->n++;
}

bool em_query_parse(const char *qs, struct em_kv_list *out, struct em_error *err)
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
		if (!em_url_decode(p, (size_t)((eq ? eq : pair_end) - p), true, &key, err))
			goto fail;
		if (!em_url_decode(eq ? eq + 1 : pair_end,
				   eq ? (size_t)(pair_end - eq - 1) : 0, true, &value, err)) {
			free(key);
			goto fail;
		}
		kv_push(out, key, value);
		p = amp ? amp + 1 : end;
	}
	return true;
fail:
	em_kv_list_release(out);
	return false;
}

void em_cookie_parse(const char *header, struct em_kv_list *out)
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
				kv_push(out, xmemdup0(ks, (size_t)(ke - ks)),
					xmemdup0(vs, (size_t)(ve - vs)));
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

bool em_path_split(const char *path, size_t len, char ***segments,
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
		if (!em_url_decode(p, (size_t)(seg_end - p), false, &seg, err))
			goto fail;
		if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0) {
			free(seg);
			em_error_set(err, EM_ERR_INVALID, NULL,
				     "the path may not contain '.' or '..' segments");
			goto fail;
		}
		segs = xrealloc(segs, (n + 1) * sizeof(*segs));
		segs[n++] = seg;
		if (!slash)
			break;
		p = slash + 1;
	}
	*segments = segs;
	*count = n;
	return true;
fail:
	em_path_segments_free(segs, n);
	return false;
}
