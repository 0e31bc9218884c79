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
	assert_true(em_query_parse("a=1&b=x%20y&&flag&c=", &q, &err));
	assert_int_equal(q.n, 4);
	assert_string_equal(em_kv_list_get(&q, "a"), "1");
	assert_string_equal(em_kv_list_get(&q, "b"), "x y");
	assert_string_equal(em_kv_list_get(&q, "flag"), "");
	assert_string_equal(em_kv_list_get(&q, "c"), "");
	assert_null(em_kv_list_get(&q, "d"));
	em_kv_list_release(&q);

	/* operators arrive as plain keys; they never become structure */
	assert_true(em_query_parse("email%5B%24ne%5D=x", &q, &err));
	assert_string_equal(q.items[0].key, "email[$ne]");
	em_kv_list_release(&q);

	assert_false(em_query_parse("a=%zz", &q, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_int_equal(q.n, 0);

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(em_query_parse(big, &q, &err));
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
	assert_false(em_query_parse(qs, &q, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
}

static void test_cookies(void **state)
{
	struct em_kv_list c;

	(void)state;
	em_cookie_parse("a=1; __Host-rt=abc.def ;  b=\"q\"; junk; =x; c=", &c);
	assert_string_equal(em_kv_list_get(&c, "a"), "1");
	assert_string_equal(em_kv_list_get(&c, "__Host-rt"), "abc.def");
	assert_string_equal(em_kv_list_get(&c, "b"), "q");
	assert_string_equal(em_kv_list_get(&c, "c"), "");
	assert_null(em_kv_list_get(&c, "junk"));
	em_kv_list_release(&c);
	em_cookie_parse(NULL, &c);
	assert_int_equal(c.n, 0);
}

static void test_path(void **state)
{
	char **segs;
	size_t n;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_true(em_path_split("/api/v1/products/a%2Fb", 22, &segs, &n, &err));
	assert_int_equal(n, 4);
	assert_string_equal(segs[3], "a/b"); /* %2F stays inside the segment */
	em_path_segments_free(segs, n);
	assert_true(em_path_split("/", 1, &segs, &n, &err));
	assert_int_equal(n, 0);
	assert_false(em_path_split("/api//v1", 8, &segs, &n, &err));
	assert_false(em_path_split("/api/../etc", 11, &segs, &n, &err));
	assert_false(em_path_split("/api/%2e%2e/x", 13, &segs, &n, &err));
	assert_false(em_path_split("/a%00b", 6, &segs, &n, &err));
	assert_false(em_path_split("relative", 8, &segs, &n, &err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_param_limit),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
