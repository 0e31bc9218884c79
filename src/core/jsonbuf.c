/*
 * jsonbuf.c - JSON written straight into a growing buffer (see jsonbuf.h).
 */
#include "core/jsonbuf.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

void em_jsonbuf_free(struct em_jsonbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void em_jsonbuf_reserve(struct em_jsonbuf *b, size_t n)
{
	size_t cap;

	if (b->cap - b->len > n)
		return; /* room for n bytes and the NUL em_jsonbuf_take adds */
	cap = b->cap ? b->cap : 1024;
	while (cap - b->len <= n)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void em_jsonbuf_raw(struct em_jsonbuf *b, const char *s, size_t n)
{
	em_jsonbuf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void em_jsonbuf_char(struct em_jsonbuf *b, char c)
{
	em_jsonbuf_reserve(b, 1);
	b->data[b->len++] = c;
}

void em_jsonbuf_string(struct em_jsonbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t start = 0;

	/* worst case: every byte becomes \u00XX */
	em_jsonbuf_reserve(b, n * 6 + 2);
	b->data[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		char esc = 0;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		memcpy(b->data + b->len, s + start, i - start);
		b->len += i - start;
		start = i + 1;
		switch (c) {
		case '\b': esc = 'b'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		case '\f': esc = 'f'; break;
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		default: break;
		}
		b->data[b->len++] = '\\';
		if (esc) {
			b->data[b->len++] = esc;
		} else {
			memcpy(b->data + b->len, "u00", 3);
			b->len += 3;
			b->data[b->len++] = hex[c >> 4];
			b->data[b->len++] = hex[c & 0xf];
		}
	}
	memcpy(b->data + b->len, s + start, n - start);
	b->len += n - start;
	b->data[b->len++] = '"';
}

void em_jsonbuf_cstr(struct em_jsonbuf *b, const char *s)
{
	if (s)
		em_jsonbuf_string(b, s, strlen(s));
	else
		em_jsonbuf_null(b);
}

void em_jsonbuf_bool(struct em_jsonbuf *b, bool v)
{
	if (v)
		em_jsonbuf_raw(b, "true", 4);
	else
		em_jsonbuf_raw(b, "false", 5);
}

void em_jsonbuf_null(struct em_jsonbuf *b)
{
	em_jsonbuf_raw(b, "null", 4);
}

void em_jsonbuf_json(struct em_jsonbuf *b, struct json_object *v)
{
	size_t n = 0;
	const char *s = v ? em_json_text(v, &n) : NULL;

	if (s)
		em_jsonbuf_raw(b, s, n);
	else
		em_jsonbuf_null(b);
}

size_t em_fmt_int64(char *out, int64_t v)
{
	char tmp[20];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, o = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[o++] = '-';
	while (n)
		out[o++] = tmp[--n];
	return o;
}

void em_jsonbuf_int64(struct em_jsonbuf *b, int64_t v)
{
	em_jsonbuf_reserve(b, 21);
	b->len += em_fmt_int64(b->data + b->len, v);
}

void em_jsonbuf_double(struct em_jsonbuf *b, double v)
{
	/* Rare on the read path (money is int64): json-c itself prints it,
	 * so its locale and special-value rules are the same by definition. */
	json_object *d = json_object_new_double(v);
	size_t n = 0;
	const char *s = d ? json_object_to_json_string_length(d, JSON_C_TO_STRING_PLAIN, &n) : NULL;

	if (s)
		em_jsonbuf_raw(b, s, n);
	else
		em_jsonbuf_raw(b, "null", 4);
	if (d)
		json_object_put(d);
}

void em_jsonbuf_key(struct em_jsonbuf *b, bool *first, const char *key)
{
	if (*first)
		*first = false;
	else
		em_jsonbuf_char(b, ',');
	em_jsonbuf_string(b, key, strlen(key));
	em_jsonbuf_char(b, ':');
}

void em_jsonbuf_member_int64(struct em_jsonbuf *b, bool *first, const char *key, int64_t v)
{
	em_jsonbuf_key(b, first, key);
	em_jsonbuf_int64(b, v);
}

void em_jsonbuf_member_cstr(struct em_jsonbuf *b, bool *first, const char *key, const char *s)
{
	em_jsonbuf_key(b, first, key);
	em_jsonbuf_cstr(b, s);
}

void em_jsonbuf_member_bool(struct em_jsonbuf *b, bool *first, const char *key, bool v)
{
	em_jsonbuf_key(b, first, key);
	em_jsonbuf_bool(b, v);
}

char *em_jsonbuf_take(struct em_jsonbuf *b, size_t *len)
{
	char *out;

	em_jsonbuf_reserve(b, 0);
	b->data[b->len] = '\0';
	out = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return out;
}
