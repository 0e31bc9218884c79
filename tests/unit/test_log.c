/*
 * Unit tests for src/core/log.c: every line is one JSON object; a line
 * too long for one write is cut with a marker, never dropped; buffered
 * access lines are held until a flush, and neither a clean exit nor a
 * crash loses the lines of finished requests.
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
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
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

/*
 * Runs child() in a forked process whose stderr is a pipe; returns what it
 * wrote (caller frees) and its wait status in *status.
 */
static char *child_capture(void (*child)(int rfd), int *status)
{
	int fds[2];
	pid_t pid;
	size_t cap = 1 << 20, total = 0;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		child(fds[0]);
		_exit(99); /* child() exits itself */
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + total, cap - 1 - total)) > 0)
		total += (size_t)n;
	close(fds[0]);
	buf[total] = '\0';
	assert_int_equal(waitpid(pid, status, 0), pid);
	return buf;
}

/* How many bytes wait in the pipe (the child's own stderr). */
static int pipe_pending(int rfd)
{
	int n = -1;

	return ioctl(rfd, FIONREAD, &n) == 0 ? n : -1;
}

static void access_lines(int from, int to)
{
	for (int i = from; i < to; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/api/v1/n/%d", i);
		em_log_access("GET", path, 200, 0.25);
	}
}

/* Checks out holds n access lines, /api/v1/n/0..n-1 in order, each whole. */
static void assert_access_lines(const char *out, int n)
{
	const char *p = out;

	for (int i = 0; i < n; i++) {
		const char *nl = strchr(p, '\n');
		char *line, want[32];
		json_object *o, *v;

		assert_non_null(nl);
		line = strndup(p, (size_t)(nl - p));
		o = json_tokener_parse(line);
		assert_non_null(o);
		snprintf(want, sizeof(want), "/api/v1/n/%d", i);
		assert_true(json_object_object_get_ex(o, "path", &v));
		assert_string_equal(json_object_get_string(v), want);
		assert_true(json_object_object_get_ex(o, "status", &v));
		assert_int_equal(json_object_get_int(v), 200);
		assert_true(json_object_object_get_ex(o, "duration_ms", &v));
		assert_true(json_object_get_double(v) > 0.24 && json_object_get_double(v) < 0.26);
		json_object_put(o);
		free(line);
		p = nl + 1;
	}
	assert_string_equal(p, "");
}

static void child_flush_on_exit(int rfd)
{
	em_log_buffer_enable(true);
	access_lines(0, 3);
	if (pipe_pending(rfd) != 0) /* held, not written one by one */
		_exit(10);
	em_log_flush(); /* what the worker does before it exits */
	_exit(0);
}

static void test_buffered_lines_are_held_then_flushed(void **state)
{
	int status;
	char *out = child_capture(child_flush_on_exit, &status);

	(void)state;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_access_lines(out, 3);
	free(out);
}

static void child_many_lines(int rfd)
{
	(void)rfd;
	em_log_buffer_enable(true);
	access_lines(0, 5000); /* ~1 MB: the buffer fills many times */
	em_log_buffer_enable(false);
	_exit(0);
}

static void test_a_full_buffer_is_written_in_whole_lines(void **state)
{
	int status;
	char *out = child_capture(child_many_lines, &status);

	(void)state;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_access_lines(out, 5000);
	free(out);
}

static void child_other_line_after(int rfd)
{
	(void)rfd;
	em_log_buffer_enable(true);
	access_lines(0, 2);
	em_log(EM_LOG_WARN, "after the two");
	_exit(0); /* no flush: the warning wrote the buffer before itself */
}

static void test_another_line_keeps_the_order(void **state)
{
	int status;
	char *out = child_capture(child_other_line_after, &status);
	char *warn;

	(void)state;
	warn = strstr(out, "{\"time\"");
	assert_non_null(warn);
	/* the third line is the warning, the first two the access lines */
	warn = strchr(strchr(out, '\n') + 1, '\n') + 1;
	assert_non_null(strstr(warn, "after the two"));
	*warn = '\0';
	assert_access_lines(out, 2);
	free(out);
}

static int crash_signal;

static void child_crash(int rfd)
{
	int sigs[] = { SIGSEGV, SIGALRM, SIGABRT };

	(void)rfd;
	em_log_crash_flush_install(sigs, 3);
	em_log_buffer_enable(true);
	access_lines(0, 4);
	/* the fifth request is in flight: its line is never written */
	raise(crash_signal);
	_exit(0);
}

static void crash_case(int sig)
{
	int status;
	char *out;

	crash_signal = sig;
	out = child_capture(child_crash, &status);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), sig); /* still dies of it */
	assert_access_lines(out, 4);             /* and lost no finished line */
	free(out);
}

static void test_a_crash_loses_only_the_request_in_flight(void **state)
{
	(void)state;
	crash_case(SIGSEGV);
	crash_case(SIGALRM); /* the request timeout */
	crash_case(SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_access_line_is_cut_with_a_marker),
		cmocka_unit_test(test_long_message_keeps_its_start_and_says_cut),
		cmocka_unit_test(test_short_line_is_whole),
		cmocka_unit_test(test_buffered_lines_are_held_then_flushed),
		cmocka_unit_test(test_a_full_buffer_is_written_in_whole_lines),
		cmocka_unit_test(test_another_line_keeps_the_order),
		cmocka_unit_test(test_a_crash_loses_only_the_request_in_flight),
	};

	em_log_set_level(EM_LOG_DEBUG);
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
