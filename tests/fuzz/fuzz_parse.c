/*
 * fuzz_parse - the request-line parsers of src/http/parse.c: query
 * strings, Cookie headers, paths, percent-decoding.
 *
 * Input: the bytes are, at once, a query string, a Cookie header and a
 * path (each parser gets what it would get from nginx: a C string for the
 * query and the cookies, bytes with a length for the path). Checked:
 * every limit in parse.h holds on success, no decoded key, value or
 * segment holds a NUL, a failure always says why, and no segment is empty,
 * "." or "..". Each parser runs twice, on the heap and on an arena (as a
 * worker runs it), and both give the same answer.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "http/parse.h"

static struct em_arena arena;

/* the arena's list is the heap's, pair for pair */
static void check_same(const struct em_kv_list *heap, const struct em_kv_list *on_arena)
{
	FUZZ_CHECK(heap->n == on_arena->n);
	for (size_t i = 0; i < heap->n && i < on_arena->n; i++) {
		FUZZ_CHECK(strcmp(heap->items[i].key, on_arena->items[i].key) == 0);
		FUZZ_CHECK(strcmp(heap->items[i].value, on_arena->items[i].value) == 0);
	}
}

static void check_query(const char *qs)
{
	struct em_kv_list list = { NULL, 0 }, alist = { NULL, 0 };
	struct em_error err = EM_ERROR_INIT, aerr = EM_ERROR_INIT;
	bool ok = em_query_parse(qs, &list, NULL, &err);

	FUZZ_CHECK(em_query_parse(qs, &alist, &arena, &aerr) == ok);
	FUZZ_CHECK(err.kind == aerr.kind);
	check_same(&list, &alist);
	em_arena_reset(&arena);
	if (!ok) {
		FUZZ_CHECK(err.kind != EM_ERR_NONE);
		FUZZ_CHECK(list.items == NULL && list.n == 0);
		return;
	}
	FUZZ_CHECK(strlen(qs) <= EM_QUERY_MAX_LEN);
	FUZZ_CHECK(list.n <= EM_QUERY_MAX_PARAMS);
	for (size_t i = 0; i < list.n; i++) {
		/* decoding never lengthens */
		FUZZ_CHECK(strlen(list.items[i].key) + strlen(list.items[i].value) <= strlen(qs));
		FUZZ_CHECK(em_kv_list_get(&list, list.items[i].key) != NULL);
	}
	em_kv_list_release(&list);
	FUZZ_CHECK(list.items == NULL && list.n == 0);
}

static void check_cookies(const char *header)
{
	struct em_kv_list list = { NULL, 0 }, alist = { NULL, 0 };

	em_cookie_parse(header, &list, NULL);
	em_cookie_parse(header, &alist, &arena);
	check_same(&list, &alist);
	em_arena_reset(&arena);
	FUZZ_CHECK(list.n <= EM_COOKIE_MAX_COUNT);
	for (size_t i = 0; i < list.n; i++) {
		const char *k = list.items[i].key;

		FUZZ_CHECK(k[0] != '\0');
		FUZZ_CHECK(!strchr(k, ';') && !strchr(k, '='));
		FUZZ_CHECK(!strchr(list.items[i].value, ';'));
		FUZZ_CHECK(strlen(k) + strlen(list.items[i].value) <= strlen(header));
	}
	em_kv_list_release(&list);
}

static void check_path(const uint8_t *data, size_t size)
{
	struct em_error err = EM_ERROR_INIT;
	char **segs = NULL;
	size_t n = 0;

	char **asegs = NULL;
	size_t an = 0;
	bool ok = em_path_split((const char *)data, size, NULL, &segs, &n, &err);

	FUZZ_CHECK(em_path_split((const char *)data, size, &arena, &asegs, &an, &err) == ok);
	FUZZ_CHECK(an == n && (asegs == NULL) == (segs == NULL));
	for (size_t i = 0; i < n && i < an; i++)
		FUZZ_CHECK(strcmp(segs[i], asegs[i]) == 0);
	em_arena_reset(&arena);
	if (!ok) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID || err.kind == EM_ERR_URI_TOO_LONG);
		FUZZ_CHECK(segs == NULL && n == 0);
		return;
	}
	FUZZ_CHECK(size >= 1 && data[0] == '/' && size <= EM_PATH_MAX_LEN);
	FUZZ_CHECK(n <= EM_PATH_MAX_SEGMENTS);
	FUZZ_CHECK((n == 0) == (segs == NULL));
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(segs[i][0] != '\0');
		FUZZ_CHECK(strcmp(segs[i], ".") != 0 && strcmp(segs[i], "..") != 0);
		FUZZ_CHECK(strlen(segs[i]) < size);
	}
	em_path_segments_free(segs, n);
}

static void check_decode(const uint8_t *data, size_t size, bool form)
{
	struct em_error err = EM_ERROR_INIT;
	char *out = NULL;

	if (!em_url_decode((const char *)data, size, form, &out, &err)) {
		FUZZ_CHECK(out == NULL && err.kind == EM_ERR_INVALID);
		return;
	}
	FUZZ_CHECK(out != NULL && strlen(out) <= size);
	/* no NUL came out of the input: the whole decoded length is strlen */
	if (!memchr(data, '%', size))
		FUZZ_CHECK(strlen(out) == size);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	check_query(s);
	check_cookies(s);
	check_path(data, size);
	check_decode(data, size, true);
	check_decode(data, size, false);
	free(s);
	return 0;
}
