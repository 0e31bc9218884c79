/*
 * jsonbuf.h - JSON written straight into one growing byte buffer.
 *
 * The read path's alternative to building a json-c tree and serialising
 * it: a response is appended member by member, and the bytes are those
 * json-c writes with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE
 * (em_json_text), so a view rendered either way is byte-for-byte the same
 * (tests/integration/test_render_bytes and test_render_orders compare
 * them). Memory comes from xrealloc, which never returns NULL, so
 * appending cannot fail.
 *
 * Commas are the caller's: em_jsonbuf_key() writes one before every key but
 * the first of an object, tracked with the `first` flag the caller keeps
 * per open object (nesting is the caller's C stack, no depth limit here).
 */
#ifndef EM_CORE_JSONBUF_H
#define EM_CORE_JSONBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct em_jsonbuf {
	char *data;
	size_t len, cap;
};

#define EM_JSONBUF_INIT { NULL, 0, 0 }

void em_jsonbuf_free(struct em_jsonbuf *b);
/* Makes room for n more bytes. */
void em_jsonbuf_reserve(struct em_jsonbuf *b, size_t n);
void em_jsonbuf_raw(struct em_jsonbuf *b, const char *s, size_t n);
void em_jsonbuf_char(struct em_jsonbuf *b, char c);
/* A string literal's bytes as they are (JSON punctuation and keys written ahead). */
#define EM_JSONBUF_LIT(b, lit) em_jsonbuf_raw((b), "" lit, sizeof(lit) - 1)
/* A JSON string of the first n bytes of s, escaped as json-c escapes. */
void em_jsonbuf_string(struct em_jsonbuf *b, const char *s, size_t n);
void em_jsonbuf_int64(struct em_jsonbuf *b, int64_t v);
/* A NUL-terminated string, or null when s is NULL. */
void em_jsonbuf_cstr(struct em_jsonbuf *b, const char *s);
void em_jsonbuf_bool(struct em_jsonbuf *b, bool v);
void em_jsonbuf_null(struct em_jsonbuf *b);
/* A json-c value (NULL: null) as em_json_text writes it: for the few
 * values a byte-written view holds as a tree (a variant's options). */
struct json_object;
void em_jsonbuf_json(struct em_jsonbuf *b, struct json_object *v);
/* A double as json-c prints it ("%.17g", ".0" added to an integral value). */
void em_jsonbuf_double(struct em_jsonbuf *b, double v);
/* ',' unless *first (then clears it), the quoted key and ':'. */
void em_jsonbuf_key(struct em_jsonbuf *b, bool *first, const char *key);
/* A member: em_jsonbuf_key() then the value. */
void em_jsonbuf_member_int64(struct em_jsonbuf *b, bool *first, const char *key, int64_t v);
void em_jsonbuf_member_cstr(struct em_jsonbuf *b, bool *first, const char *key, const char *s);
void em_jsonbuf_member_bool(struct em_jsonbuf *b, bool *first, const char *key, bool v);
/* Gives the bytes away (NUL-terminated, *len without the NUL); b is empty after. */
char *em_jsonbuf_take(struct em_jsonbuf *b, size_t *len);

/* The decimal digits of v into out (at least 21 bytes); returns their count. */
size_t em_fmt_int64(char *out, int64_t v);

#endif
