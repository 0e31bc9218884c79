/*
 * harness.h - what the integration tests share: HTTPS requests through
 * nginx with libcurl, the stack's processes, and the database.
 *
 * The stack is started by ./scripts/test (scripts/lib/stack.sh), which
 * passes its coordinates in the environment (STACK_BASE, STACK_DIR, ...).
 */
#ifndef EM_TEST_HARNESS_H
#define EM_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct h_resp {
	long status;
	char *body;
	size_t body_len;
	char *headers; /* raw header block, lower-cased names */
	bool ok;       /* the transfer itself worked */
};

/* Reads the stack's coordinates; call once in main(). */
void h_init(void);
void h_cleanup(void);

/*
 * method, a path (appended to the HTTPS base) or full URL, an optional
 * body and a NULL-terminated list of extra "Name: value" headers.
 */
struct h_resp h_request(const char *method, const char *path_or_url,
			const char *body, size_t body_len, const char *const *headers);
struct h_resp h_get(const char *path);
void h_resp_free(struct h_resp *r);

/* A response header's value (case-insensitive name) into buf, or false. */
bool h_header(const struct h_resp *r, const char *name, char *buf, size_t size);

/* The body is problem+json with this status; fails the test otherwise. */
void h_assert_problem(const struct h_resp *r, long status);

const char *h_env(const char *name);

/* The master's pid and its current workers (children), up to max. */
pid_t h_master_pid(void);
int h_worker_pids(pid_t *pids, int max);

/* Runs scripts/lib/stack.sh with a subcommand on the stack dir. */
bool h_stack_ctl(const char *subcommand);

/* Counts documents of a collection matching a JSON filter (test-built). */
long h_db_count(const char *collection, const char *filter_json);

void h_sleep_ms(long ms);

#endif
