/*
 * Integration test: a large image upload from a caller without the route's
 * role is refused before the worker reads its body (security review item
 * 15): 401 without a token, 403 for a customer, each answered as
 * problem+json through nginx, and the worker's log says the body was not
 * read - for this very request (its X-Request-Id).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define UPLOAD_BYTES (4 * 1024 * 1024)

/* A multipart body of about UPLOAD_BYTES (its content does not matter:
 * it must never be parsed). */
static char *upload_body(size_t *len)
{
	static const char head[] = "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; "
				   "filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n";
	static const char tail[] = "\r\n--b0undary--\r\n";
	char *b = malloc(UPLOAD_BYTES + sizeof(head) + sizeof(tail));

	assert_non_null(b);
	memcpy(b, head, sizeof(head) - 1);
	memset(b + sizeof(head) - 1, 'A', UPLOAD_BYTES);
	memcpy(b + sizeof(head) - 1 + UPLOAD_BYTES, tail, sizeof(tail) - 1);
	*len = sizeof(head) - 1 + UPLOAD_BYTES + sizeof(tail) - 1;
	return b;
}

/* True when the FastCGI log has the refusal line for request id. */
static bool refused_unread(const char *request_id)
{
	char path[1024], *log;
	const char *p;
	bool found = false;

	snprintf(path, sizeof(path), "%s/logs/fcgi.log", h_env("STACK_DIR"));
	log = h_file_read(path, NULL);
	assert_non_null(log);
	for (p = strstr(log, request_id); p && !found; p = strstr(p + 1, request_id)) {
		const char *eol = strchr(p, '\n'), *bol = p;

		while (bol > log && bol[-1] != '\n')
			bol--;
		found = eol && memmem(bol, (size_t)(eol - bol), "before its", 10) != NULL;
	}
	free(log);
	return found;
}

static void post_upload(const char *auth_header, long want)
{
	const char *hdrs[3] = { "Content-Type: multipart/form-data; boundary=b0undary",
				auth_header, NULL };
	size_t len;
	char *body = upload_body(&len), rid[128];
	struct h_resp r = h_request("POST", "/api/v1/admin/products/0123456789abcdef01234567/images",
				    body, len, hdrs);

	h_assert_problem(&r, want);
	assert_true(h_header(&r, "x-request-id", rid, sizeof(rid)));
	h_sleep_ms(200); /* the log line is written before the response; allow the pipe */
	if (!refused_unread(rid))
		fail_msg("no 'refused before its body was read' log line for request %s", rid);
	h_resp_free(&r);
	free(body);
}

static void test_anonymous_upload_refused_unread(void **state)
{
	(void)state;
	post_upload(NULL, 401);
}

static void test_customer_upload_refused_unread(void **state)
{
	char token[1024], id[25], auth[1100];

	(void)state;
	h_user_token("customer", token, sizeof(token), id, sizeof(id));
	post_upload(h_bearer(token, auth, sizeof(auth)), 403);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anonymous_upload_refused_unread),
		cmocka_unit_test(test_customer_upload_refused_unread),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("upload-auth", tests, NULL, NULL);
	h_cleanup();
	return rc;
}
