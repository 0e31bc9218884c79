/*
 * Unit tests for src/core/log.c: every line is one JSON object; a line
 * too long for one write is cut with a marker, never dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* Runs fn with stderr captured; returns what it wrote (caller frees). */
static char *capture(void (*fn)(void))
{
	int fds[2], saved;
	static char buf[65536];
	ssize_t n, total = 0;

	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(fds[1]);
	while ((n = read(fds[0], buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(fds[0]);
	buf[total] = '\0';
	return strdup(buf);
}

static char long_path[6000];

static void log_long_access(void)
{
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	em_log_access("GET", long_path, 200, 1.5);
}

static void log_long_message(void)
{
	char m[3000];

	memset(m, 'x', sizeof(m) - 1);
	m[sizeof(m) - 1] = '\0';
	em_log(EM_LOG_WARN, "start %s end", m);
}

static void log_short(void)
{
	em_log(EM_LOG_INFO, "hello %d", 42);
}

/* Parses the one line out, checking it is a single newline-ended object. */
static json_object *one_line(const char *out)
{
	size_t len = strlen(out);
	json_object *o;

	assert_true(len > 2);
	assert_int_equal(out[len - 1], '\n');
	assert_null(memchr(out, '\n', len - 1));
	o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

static void test_long_access_line_is_cut_with_a_marker(void **state)
{
	char *out = capture(log_long_access);
	json_object *o = one_line(out), *v;

	(void)state;
	assert_true(strlen(out) < 4096);
	assert_true(json_object_object_get_ex(o, "truncated", &v) && json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "path", &v));
	assert_true(strncmp(json_object_get_string(v), "/aaaa", 5) == 0);
	assert_non_null(strstr(json_object_get_string(v), "...[truncated]"));
	assert_true(json_object_object_get_ex(o, "status", &v));
	assert_int_equal(json_object_get_int(v), 200);
	json_object_put(o);
	free(out);
}

static void test_long_message_keeps_its_start_and_says_cut(void **state)
{
	char *out = capture(log_long_message);
	json_object *o = one_line(out), *v;

	(void)state;
	assert_true(json_object_object_get_ex(o, "msg", &v));
	assert_true(strncmp(json_object_get_string(v), "start xxx", 9) == 0);
	assert_non_null(strstr(json_object_get_string(v), "...[truncated]"));
	assert_null(strstr(json_object_get_string(v), " end"));
	json_object_put(o);
	free(out);
}

static void test_short_line_is_whole(void **state)
{
	char *out = capture(log_short);
	json_object *o = one_line(out), *v;

	(void)state;
	assert_true(json_object_object_get_ex(o, "msg", &v));
	assert_string_equal(json_object_get_string(v), "hello 42");
	assert_false(json_object_object_get_ex(o, "truncated", &v));
	json_object_put(o);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_access_line_is_cut_with_a_marker),
		cmocka_unit_test(test_long_message_keeps_its_start_and_says_cut),
		cmocka_unit_test(test_short_line_is_whole),
	};

	em_log_set_level(EM_LOG_DEBUG);
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
