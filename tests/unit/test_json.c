/* Unit tests for src/core/json.c: size, depth, UTF-8, NUL, strict types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static json_object *parse(const char *s, struct em_error *err)
{
	return em_json_parse(s, strlen(s), 4096, EM_JSON_MAX_DEPTH, err);
}

static void test_limits(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char deep[200];
	json_object *o;

	(void)state;
	o = parse("{\"a\": [1, 2, {\"b\": \"c\"}]}", &err);
	assert_non_null(o);
	json_object_put(o);

	memset(deep, '[', 100);
	memset(deep + 100, ']', 99);
	deep[199] = '\0';
	assert_null(parse(deep, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);

	assert_null(em_json_parse("{}", 2, 1, EM_JSON_MAX_DEPTH, &err));
	assert_int_equal(err.kind, EM_ERR_TOO_LARGE);

	assert_null(em_json_parse("{\"a\":\"x\0y\"}", 11, 4096, 8, &err));
	assert_non_null(strstr(err.message, "NUL"));

	assert_null(parse("{\"a\": \"\xff\xfe\"}", &err)); /* invalid UTF-8 */
	assert_null(parse("{\"a\": 1,}", &err));
	assert_null(parse("[1] [2]", &err));
	assert_null(parse("{\"a\": 1", &err));
}

/*
 * A bare scalar that ends exactly at the end of the buffer is a complete
 * value: json-c reports "continue" for it (more digits could follow), and
 * em_json_parse used to refuse "8" with "the body ends before the value
 * does" while accepting "8 ". Callers then refuse it as not an object.
 */
static void test_bare_scalars(void **state)
{
	static const char *const whole[] = { "8", "-1", "0", "1.5", "1e5", "true", "false",
					     "\"s\"", "8 ", "true\n", "[1]", "{}" };
	static const char *const cut[] = { "tru", "nul", "-", "1e", "{\"a\": 1", "[1,", "\"ab" };
	struct em_error err = EM_ERROR_INIT;
	static const char *const allowed[] = { "a", NULL };
	json_object *o;

	(void)state;
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		em_error_clear(&err);
		o = parse(whole[i], &err);
		if (!o)
			fail_msg("refused '%s': %s", whole[i], err.message);
		json_object_put(o);
	}
	o = parse("8", &err);
	assert_int_equal(json_object_get_type(o), json_type_int);
	assert_int_equal(json_object_get_int64(o), 8);
	/* the route's answer for it: not an object */
	assert_false(em_json_check_fields(o, allowed, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_non_null(strstr(err.message, "must be a JSON object"));
	json_object_put(o);
	o = parse("true", &err);
	assert_int_equal(json_object_get_type(o), json_type_boolean);
	json_object_put(o);
	/* null has no json-c object: a failure with the error set, at the end
	 * of the buffer or not (NULL with no error used to be a 500) */
	for (size_t i = 0; i < 2; i++) {
		em_error_clear(&err);
		assert_null(parse(i ? "null " : "null", &err));
		assert_int_equal(err.kind, EM_ERR_INVALID);
		assert_non_null(strstr(err.message, "must be a JSON object"));
	}
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		em_error_clear(&err);
		if ((o = parse(cut[i], &err)) != NULL) {
			json_object_put(o);
			fail_msg("accepted '%s'", cut[i]);
		}
		assert_int_equal(err.kind, EM_ERR_INVALID);
		assert_non_null(strstr(err.message, "ends before the value does"));
	}
	em_error_clear(&err);
	assert_null(parse("8x", &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_null(parse("8 9", &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_non_null(strstr(err.message, "malformed"));
}

static void test_keys(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	json_object *o = parse("{\"a\": [{\"b\": {\"$gt\": 1}}]}", &err);

	(void)state;
	assert_non_null(o);
	assert_false(em_json_check_keys(o, &err));
	assert_string_equal(err.field, "$gt");
	json_object_put(o);
	o = parse("{\"a.b\": 1}", &err);
	assert_false(em_json_check_keys(o, &err));
	json_object_put(o);
	o = parse("{\"price\": 100, \"tags\": [\"x\"]}", &err);
	assert_true(em_json_check_keys(o, &err));
	json_object_put(o);
}

static void test_strict_types(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	json_object *o = parse("{\"n\": 5, \"d\": 5.0, \"s\": \"5\", \"big\": 99999999999999999999,"
			       " \"name\": \"abc\"}", &err);
	int64_t v;
	bool present;
	const char *s;

	(void)state;
	assert_non_null(o);
	assert_true(em_json_get_int64(o, "n", 0, 10, true, &present, &v, &err));
	assert_int_equal(v, 5);
	assert_false(em_json_get_int64(o, "d", 0, 10, true, &present, &v, &err));
	assert_string_equal(err.field, "d");
	assert_false(em_json_get_int64(o, "s", 0, 10, true, &present, &v, &err));
	assert_false(em_json_get_int64(o, "big", 0, INT64_MAX - 1, true, &present, &v, &err));
	assert_false(em_json_get_int64(o, "n", 6, 10, true, &present, &v, &err));
	assert_true(em_json_get_int64(o, "missing", 0, 10, false, &present, &v, &err));
	assert_false(present);
	assert_false(em_json_get_int64(o, "missing", 0, 10, true, &present, &v, &err));
	assert_true(em_json_get_string(o, "name", 1, 3, true, &s, &err));
	assert_string_equal(s, "abc");
	assert_false(em_json_get_string(o, "name", 1, 2, true, &s, &err));
	assert_false(em_json_get_string(o, "n", 0, 10, true, &s, &err));
	json_object_put(o);
}

/* null is never "absent": required -> required, optional -> invalid_type */
static void test_null_is_not_absent(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	json_object *o = parse("{\"s\": null, \"n\": null, \"e\": \"\"}", &err);
	int64_t v = 7;
	bool present = true;
	const char *s = "x";

	(void)state;
	assert_non_null(o);
	assert_false(em_json_get_string(o, "s", 0, 10, false, &s, &err));
	assert_null(s);
	assert_string_equal(err.field, "s");
	assert_string_equal(em_error_code(&err), EM_CODE_INVALID_TYPE);
	em_error_clear(&err);
	assert_false(em_json_get_string(o, "s", 0, 10, true, &s, &err));
	assert_string_equal(em_error_code(&err), EM_CODE_REQUIRED);
	em_error_clear(&err);
	assert_false(em_json_get_int64(o, "n", 0, 10, false, &present, &v, &err));
	assert_false(present);
	assert_string_equal(err.field, "n");
	assert_string_equal(em_error_code(&err), EM_CODE_INVALID_TYPE);
	em_error_clear(&err);
	assert_false(em_json_get_int64(o, "n", 0, 10, true, &present, &v, &err));
	assert_string_equal(em_error_code(&err), EM_CODE_REQUIRED);
	em_error_clear(&err);
	/* "" is a value: min_len decides */
	assert_true(em_json_get_string(o, "e", 0, 10, false, &s, &err));
	assert_string_equal(s, "");
	assert_false(em_json_get_string(o, "e", 1, 10, false, &s, &err));
	assert_string_equal(em_error_code(&err), EM_CODE_TOO_SHORT);
	json_object_put(o);
}

static void test_check_fields(void **state)
{
	static const char *const allowed[] = { "name", "phone", NULL };
	struct em_error err = EM_ERROR_INIT;
	json_object *o = parse("{\"name\": \"a\", \"phone\": \"1\"}", &err);

	(void)state;
	assert_true(em_json_check_fields(o, allowed, &err));
	json_object_put(o);
	o = parse("{\"name\": \"a\", \"role\": \"admin\"}", &err);
	assert_false(em_json_check_fields(o, allowed, &err));
	assert_string_equal(err.field, "role"); /* mass assignment refused */
	json_object_put(o);
	o = parse("[1]", &err);
	assert_false(em_json_check_fields(o, allowed, &err));
	json_object_put(o);
}

/* "\u0000" parses, but is refused before any C string reader sees it. */
static void test_embedded_nul(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	const char *s = NULL;
	json_object *o;

	(void)state;
	o = parse("{\"sku\": \"ABC\\u0000x\", \"delta\": -1}", &err);
	assert_non_null(o);
	assert_false(em_json_check_keys(o, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_string_equal(err.field, "sku");
	em_error_clear(&err);
	assert_false(em_json_get_string(o, "sku", 1, 64, true, &s, &err));
	assert_string_equal(err.field, "sku");
	assert_null(s);
	json_object_put(o);

	/* nested, and inside an array: named by the member holding it */
	o = parse("{\"variants\": [{\"options\": {\"size\": \"M\\u0000\"}}]}", &err);
	assert_non_null(o);
	assert_false(em_json_check_keys(o, &err));
	assert_string_equal(err.field, "size");
	json_object_put(o);
	o = parse("{\"tags\": [\"a\", \"\\u0000\"]}", &err);
	assert_non_null(o);
	assert_false(em_json_check_keys(o, &err));
	assert_string_equal(err.field, "tags");
	json_object_put(o);

	/* an escaped backslash before u0000 is text, not a NUL */
	em_error_clear(&err);
	o = parse("{\"sku\": \"A\\\\u0000\"}", &err);
	assert_non_null(o);
	assert_true(em_json_check_keys(o, &err));
	assert_true(em_json_get_string(o, "sku", 1, 64, true, &s, &err));
	assert_string_equal(s, "A\\u0000");
	json_object_put(o);
}

/* A collecting validator hears of every bad field, each with its code;
 * without collect the first error stands alone (the old contract). */
static void test_collect_errors(void **state)
{
	static const char *const allowed[] = { "name", "qty", "note", NULL };
	struct em_error err = EM_ERROR_INIT;
	const char *s = NULL;
	int64_t n = 0;
	json_object *o;

	(void)state;
	o = parse("{\"name\": \"\", \"qty\": 5000, \"x\": 1, \"y\": 2}", &err);
	assert_non_null(o);

	em_error_collect(&err);
	assert_false(em_json_check_fields(o, allowed, &err));
	assert_false(em_json_get_string(o, "name", 1, 10, true, &s, &err));
	assert_false(em_json_get_int64(o, "qty", 1, 99, true, NULL, &n, &err));
	assert_false(em_json_get_string(o, "note", 1, 10, true, &s, &err));
	assert_true(em_json_get_int64(o, "missing", 1, 9, false, NULL, &n, &err));
	assert_false(em_error_collect_end(&err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_string_equal(err.field, "x");
	assert_string_equal(em_error_code(&err), EM_CODE_UNKNOWN_FIELD);
	assert_int_equal(err.n_more, 4);
	assert_string_equal(err.more[0].field, "y");
	assert_string_equal(err.more[0].code, EM_CODE_UNKNOWN_FIELD);
	assert_string_equal(err.more[1].field, "name");
	assert_string_equal(err.more[1].code, EM_CODE_TOO_SHORT);
	assert_string_equal(err.more[2].field, "qty");
	assert_string_equal(err.more[2].code, EM_CODE_OUT_OF_RANGE);
	assert_string_equal(err.more[3].field, "note");
	assert_string_equal(err.more[3].code, EM_CODE_REQUIRED);

	/* one error per field: a second complaint about "qty" is dropped */
	em_error_collect(&err);
	em_error_set(&err, EM_ERR_INVALID, "qty", "qty again");
	assert_int_equal(err.n_more, 4);
	/* a 422 rule on top of 400s keeps the request a 400 */
	em_error_setc(&err, EM_ERR_UNPROCESSABLE, "coupon", EM_CODE_RULE, "expired");
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_string_equal(err.more[4].code, EM_CODE_RULE);
	/* past the room left, errors are counted, not kept */
	for (int i = 0; i < 5; i++) {
		char f[8];

		snprintf(f, sizeof(f), "f%d", i);
		em_error_set(&err, EM_ERR_INVALID, f, "bad");
	}
	assert_int_equal(err.n_more, EM_ERROR_MORE_MAX);
	assert_int_equal(err.n_dropped, 5 + 5 - EM_ERROR_MORE_MAX);
	/* any other kind replaces what was collected */
	em_error_set(&err, EM_ERR_UNAVAILABLE, NULL, "the database is down");
	assert_int_equal(err.kind, EM_ERR_UNAVAILABLE);
	assert_int_equal(err.n_more, 0);
	assert_false(em_error_collect_end(&err));

	/* not collecting: the last error replaces the first */
	em_error_clear(&err);
	assert_false(em_json_get_string(o, "name", 1, 10, true, &s, &err));
	assert_false(em_json_get_int64(o, "qty", 1, 99, true, NULL, &n, &err));
	assert_string_equal(err.field, "qty");
	assert_int_equal(err.n_more, 0);
	assert_true(em_error_collect_end(&(struct em_error)EM_ERROR_INIT));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bare_scalars),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_strict_types),
		cmocka_unit_test(test_null_is_not_absent),
		cmocka_unit_test(test_check_fields),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_collect_errors),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
