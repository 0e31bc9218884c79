/*
 * parse.h - the pure parsers behind a request: percent-decoding, query
 * strings, cookies, paths. No FastCGI here, so the unit tests drive them
 * directly.
 *
 * Every result is newly allocated and owned by the caller: from the heap
 * (xmalloc) when arena is NULL - em_kv_list_release() frees a list,
 * em_path_segments_free() the segments - or from arena (the request's:
 * freed with it, never by these functions). Limits are enforced here, not by the
 * callers: an attacker controls every byte of these inputs.
 */
#ifndef EM_HTTP_PARSE_H
#define EM_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/kv.h"

#define EM_QUERY_MAX_LEN     4096
#define EM_QUERY_MAX_PARAMS  64
#define EM_PATH_MAX_LEN      2048
#define EM_PATH_MAX_SEGMENTS 32
#define EM_COOKIE_MAX_COUNT  32

/*
 * Percent-decodes len bytes of s into a new string. With form = true a
 * '+' means a space (query strings). Fails on a bad escape ("%4", "%zz")
 * and on a decoded NUL byte, which no caller can handle safely.
 */
bool em_url_decode(const char *s, size_t len, bool form, char **out,
		   struct em_error *err);

/* Parses "a=1&b=x%20y" (a leading '?' is not expected). */
bool em_query_parse(const char *qs, struct em_kv_list *out, struct em_arena *arena,
		    struct em_error *err);

/*
 * Parses a Cookie header ("a=1; b=2"). Malformed pairs are skipped, as
 * browsers do, rather than failing the request.
 */
void em_cookie_parse(const char *header, struct em_kv_list *out, struct em_arena *arena);

/*
 * Splits the path part of a request URI into percent-decoded segments:
 * "/api/v1/products/abc" -> {"api","v1","products","abc"}. Decoding is
 * per segment, so an encoded "/" (%2F) never becomes a separator. Empty
 * segments ("//", trailing "/") are refused, as are "." and "..".
 */
bool em_path_split(const char *path, size_t len, struct em_arena *arena, char ***segments,
		   size_t *count, struct em_error *err);
void em_path_segments_free(char **segments, size_t count);

#endif
