/* Unit tests for src/http/parse.c: percent-decoding, query, cookies, paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

static void test_url_decode(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char *out = NULL;

	(void)state;
	assert_true(em_url_decode("a%20b+c", 7, true, &out, &err));
	assert_string_equal(out, "a b c");
	free(out);
	assert_true(em_url_decode("a+b%2Fc", 7, false, &out, &err));
	assert_string_equal(out, "a+b/c");
	free(out);
	assert_true(em_url_decode("%C3%A9", 6, false, &out, &err));
	assert_string_equal(out, "\xc3\xa9");
	free(out);
	/* bad escapes and an encoded NUL are refused */
	assert_false(em_url_decode("%4", 2, false, &out, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_false(em_url_decode("%zz", 3, false, &out, &err));
	assert_false(em_url_decode("ab%", 3, false, &out, &err));
	assert_false(em_url_decode("a%00b", 5, false, &out, &err));
	assert_null(out);
}

static void test_query(void **state)
{
	struct em_kv_list q;
	struct em_error err = EM_ERROR_INIT;
	char big[EM_QUERY_MAX_LEN + 2];

	(void)state;
	assert_true(em_query_parse("a=1&b=x%20y&&flag&c=", &q, NULL, &err));
	assert_int_equal(q.n, 4);
	assert_string_equal(em_kv_list_get(&q, "a"), "1");
	assert_string_equal(em_kv_list_get(&q, "b"), "x y");
	assert_string_equal(em_kv_list_get(&q, "flag"), "");
	assert_string_equal(em_kv_list_get(&q, "c"), "");
	assert_null(em_kv_list_get(&q, "d"));
	em_kv_list_release(&q);

	/* operators arrive as plain keys; they never become structure */
	assert_true(em_query_parse("email%5B%24ne%5D=x", &q, NULL, &err));
	assert_string_equal(q.items[0].key, "email[$ne]");
	em_kv_list_release(&q);

	assert_false(em_query_parse("a=%zz", &q, NULL, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_int_equal(q.n, 0);

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(em_query_parse(big, &q, NULL, &err));
	assert_int_equal(err.kind, EM_ERR_URI_TOO_LONG);
}

static void test_query_param_limit(void **state)
{
	struct em_kv_list q;
	struct em_error err = EM_ERROR_INIT;
	char qs[1024] = "";
	size_t o = 0;

	(void)state;
	for (int i = 0; i <= EM_QUERY_MAX_PARAMS; i++)
		o += (size_t)snprintf(qs + o, sizeof(qs) - o, "a=1&");
	assert_false(em_query_parse(qs, &q, NULL, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
}

static void test_cookies(void **state)
{
	struct em_kv_list c;

	(void)state;
	em_cookie_parse("a=1; __Host-rt=abc.def ;  b=\"q\"; junk; =x; c=", &c, NULL);
	assert_string_equal(em_kv_list_get(&c, "a"), "1");
	assert_string_equal(em_kv_list_get(&c, "__Host-rt"), "abc.def");
	assert_string_equal(em_kv_list_get(&c, "b"), "q");
	assert_string_equal(em_kv_list_get(&c, "c"), "");
	assert_null(em_kv_list_get(&c, "junk"));
	em_kv_list_release(&c);
	em_cookie_parse(NULL, &c, NULL);
	assert_int_equal(c.n, 0);
}

static void test_path(void **state)
{
	char **segs;
	size_t n;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_true(em_path_split("/api/v1/products/a%2Fb", 22, NULL, &segs, &n, &err));
	assert_int_equal(n, 4);
	assert_string_equal(segs[3], "a/b"); /* %2F stays inside the segment */
	em_path_segments_free(segs, n);
	assert_true(em_path_split("/", 1, NULL, &segs, &n, &err));
	assert_int_equal(n, 0);
	assert_false(em_path_split("/api//v1", 8, NULL, &segs, &n, &err));
	assert_false(em_path_split("/api/../etc", 11, NULL, &segs, &n, &err));
	assert_false(em_path_split("/api/%2e%2e/x", 13, NULL, &segs, &n, &err));
	assert_false(em_path_split("/a%00b", 6, NULL, &segs, &n, &err));
	assert_false(em_path_split("relative", 8, NULL, &segs, &n, &err));
}

/* The same parses on an arena (as a worker runs them): same results, and
 * nothing to free but the arena itself (LeakSanitizer checks). */
static void test_parse_on_arena(void **state)
{
	struct em_arena a = { 0 };
	struct em_kv_list q, c;
	struct em_error err = EM_ERROR_INIT;
	char **segs, qs[1024] = "";
	size_t n, o = 0;

	(void)state;
	assert_true(em_query_parse("a=1&b=x%20y&&flag&c=", &q, &a, &err));
	assert_int_equal(q.n, 4);
	assert_string_equal(em_kv_list_get(&q, "b"), "x y");
	assert_string_equal(em_kv_list_get(&q, "c"), "");
	assert_false(em_query_parse("a=1&b=%zz", &q, &a, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_int_equal(q.n, 0);
	assert_null(q.items);
	/* 40 pairs: the array grows past its first capacities */
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(qs + o, sizeof(qs) - o, "k%d=v%d&", i, i);
	assert_true(em_query_parse(qs, &q, &a, &err));
	assert_int_equal(q.n, 40);
	assert_string_equal(em_kv_list_get(&q, "k0"), "v0");
	assert_string_equal(em_kv_list_get(&q, "k39"), "v39");
	em_cookie_parse("a=1; __Host-rt=abc.def ;  b=\"q\"; junk; =x; c=", &c, &a);
	assert_int_equal(c.n, 4);
	assert_string_equal(em_kv_list_get(&c, "__Host-rt"), "abc.def");
	assert_string_equal(em_kv_list_get(&c, "b"), "q");
	assert_true(em_path_split("/api/v1/products/a%2Fb/c/d/e", 28, &a, &segs, &n, &err));
	assert_int_equal(n, 7);
	assert_string_equal(segs[3], "a/b");
	assert_string_equal(segs[6], "e");
	assert_false(em_path_split("/api/../etc", 11, &a, &segs, &n, &err));
	assert_null(segs);
	assert_int_equal(n, 0);
	em_arena_release(&a);
}

/* Alignment, zeroing, chunks past the first, a block larger than a chunk,
 * growth keeping the old bytes, and reset handing the first chunk back. */
static void test_arena(void **state)
{
	struct em_arena a = { 0 };
	unsigned char *p, *first, *big, *grown;

	(void)state;
	first = em_arena_alloc(&a, 1);
	assert_non_null(first);
	assert_int_equal((uintptr_t)first % _Alignof(max_align_t), 0);
	p = em_arena_alloc(&a, 3);
	assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
	assert_true(p > first);
	for (int i = 0; i < 1000; i++) {
		p = em_arena_alloc(&a, 100);
		for (int j = 0; j < 100; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xAB, 100);
	}
	big = em_arena_alloc(&a, 300000);
	assert_int_equal(big[0], 0);
	assert_int_equal(big[299999], 0);
	memset(big, 1, 300000);
	grown = em_arena_grow(&a, big, 300000, 300010);
	assert_int_equal(grown[0], 1);
	assert_int_equal(grown[299999], 1);
	assert_int_equal(grown[300009], 0);
	assert_string_equal(em_arena_memdup0(&a, "abcdef", 3), "abc");
	assert_string_equal(em_arena_memdup0(&a, "", 0), "");
	/* after a reset the next block is the kept chunk's start again, zeroed */
	em_arena_reset(&a);
	p = em_arena_alloc(&a, 16);
	assert_ptr_equal(p, first);
	assert_int_equal(p[0], 0);
	em_arena_release(&a);
	assert_null(a.head);
	/* a released arena is an empty, valid one */
	assert_non_null(em_arena_alloc(&a, 8));
	em_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_param_limit),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_parse_on_arena),
		cmocka_unit_test(test_arena),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
