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
	long http_version; /* CURL_HTTP_VERSION_* the answer came over */
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

/*
 * Creates an active, verified user with role ("customer", "staff",
 * "admin") directly in the database and mints an access token for it as
 * src/auth/auth.h specifies (HS256 with STACK_JWT_SECRET). Writes the
 * token and the user's id (hex) into the buffers. For tests of modules
 * that need a signed-in caller; the accounts suite tests the real login.
 */
void h_user_token(const char *role, char *token, size_t token_size, char *user_id,
		  size_t id_size);
/* "Authorization: Bearer <token>" in buf, for a header list. */
const char *h_bearer(const char *token, char *buf, size_t size);

/*
 * Waits up to timeout_ms for a mail in STACK_MAIL_DIR to `to` whose text
 * contains needle (NULL: any), and returns its whole text (free it), or
 * NULL. Mails already returned once are skipped.
 */
char *h_mail_wait(const char *to, const char *needle, long timeout_ms);

/* A whole file, NUL-terminated (free it); *len (may be NULL) its size. */
char *h_file_read(const char *path, size_t *len);

/*
 * Rewrites the stack's env file (STACK_ENV_FILE) as the stack wrote it,
 * plus the lines in extra (NULL: nothing more). The original is saved on
 * the first call, so every test can put it back with extra NULL.
 */
bool h_env_file_write(const char *extra);

/*
 * h_env_file_write(extra), then SIGHUP to the master, waiting (at most
 * 15 s) until every worker of the old configuration has gone. False if
 * the file cannot be written or old workers stay.
 */
bool h_stack_reconfigure(const char *extra);

/* Parses r->body as JSON (json_object_put it); fails the test if not JSON. */
struct json_object *h_json(const struct h_resp *r);

/*
 * Inserts one document, given as (relaxed or canonical) extended JSON,
 * into a collection of the stack's database; fails the test on error.
 * For tests that need data another module's routes would create.
 */
void h_db_insert_json(const char *collection, const char *json);

/*
 * The first document matching a JSON filter, as relaxed extended JSON
 * (free it), or NULL when none matches.
 */
char *h_db_find_json(const char *collection, const char *filter_json);

/* ---- accounts: the calls every suite that signs users in shares ---- */

/* Passwords the policy accepts (long, not on the common list). */
#define H_PW "Vivid-Otter-Lantern-42"
#define H_PW2 "Quiet-Maple-Harbor-77"

/* A monotonic clock in seconds. */
double h_now_s(void);

/*
 * nginx limits /api/v1/auth/ to 5 requests a second (burst 10) per
 * address, and every test comes from 127.0.0.1: h_auth_pace() waits like
 * nginx's leaky bucket so a suite never trips it by accident.
 * h_req_json() calls it for every /api/v1/auth/ path.
 */
void h_auth_pace(void);

/* A request with a JSON body (NULL: none) and extra headers (may be NULL). */
struct h_resp h_req_json(const char *method, const char *path, const char *body,
			 const char *const *extra);
struct h_resp h_post(const char *path, const char *body);
/* A request with "Authorization: Bearer token". */
struct h_resp h_authed(const char *method, const char *path, const char *token,
		       const char *body);
/* A string member of the JSON body, copied into buf ("" if absent). */
const char *h_jstr(const struct h_resp *r, const char *key, char *buf, size_t size);
/* The body is problem+json with status and errors[0].field == field. */
void h_assert_problem_field(const struct h_resp *r, long status, const char *field);
/* The problem lists exactly these field errors, in order: expected is
 * "field:code field:code ..."; its type is /problems/<slug of status>. */
void h_assert_problem_errors(const struct h_resp *r, long status, const char *expected);
/* "<tag>-<random hex>@example.test". */
void h_unique_email(const char *tag, char *buf, size_t size);
/* The 6-digit code ("code: NNNNNN") of the next mail to `to` matching needle. */
void h_mail_code(const char *to, const char *needle, char code[7]);
/* Runs a JSON update or delete on the documents of a JSON filter. */
void h_db_update(const char *collection, const char *filter_json, const char *update_json);
void h_db_delete(const char *collection, const char *filter_json);
/* Registers with H_PW, reads the code from the mail, verifies. */
void h_account_new(const char *tag, char *email, size_t esize);
/* Logs in; fills the access and refresh tokens (either may be NULL); the status. */
long h_login(const char *email, const char *password, char *access, size_t asize,
	     char *refresh, size_t rsize);
/* POST /auth/refresh with the token in the body. */
struct h_resp h_refresh_body(const char *token);
/* GET /me with token answers 401 with an invalid_token challenge. */
void h_expect_invalid_token(const char *token);

/* ---- protocol, source address and parallel requests ---- */

/*
 * Every later h_request() of the process speaks HTTP/1.1 (true) or
 * HTTP/2 over TLS (false, the default), so a suite can run its tests
 * over both.
 */
void h_http1_set(bool http1);

/*
 * The calling thread's requests come from 127.0.0.<n> (2..254; 0: the
 * default 127.0.0.1). nginx limits /api/v1/auth/ per client address, so
 * parallel tests give each thread an address of its own: the requests
 * then reach the application together instead of meeting nginx's 429.
 */
void h_source_set(int n);

/*
 * Runs fn(i, arg) for i in 0..n-1 on n threads released together by a
 * barrier (so the requests are in flight at once), and joins them all.
 */
void h_parallel(int n, void (*fn)(int i, void *arg), void *arg);

/*
 * The FastCGI pool size for race tests: STACK_RACE_WORKERS (stack.env),
 * else 8. h_stack_pool(n) reloads the stack with n workers (0: the
 * stack's own configuration back).
 */
int h_race_workers(void);
bool h_stack_pool(int workers);

/*
 * The real sign-up path for a test user: register -> the mail the SMTP
 * catcher received -> verify-email with its code -> login. role
 * "customer" stops there; "staff" and "admin" are then granted by an
 * admin made with `emporium-admin create-admin` (the one path that makes
 * admins) through PATCH /api/v1/admin/users/{id}, and the user logs in
 * again for a token with the role. Writes the access token and the
 * user's id (hex, may be NULL).
 */
void h_user_register(const char *role, char *token, size_t token_size, char *user_id,
		     size_t id_size);

/*
 * How many documents, in every collection of the stack's database,
 * contain needle anywhere in their canonical extended JSON (keys,
 * strings, binary as base64). For "stored hashed only" checks: a secret
 * must appear nowhere, its hash where it belongs. *collections (may be
 * NULL) gets how many collections were searched.
 */
long h_db_dump_count(const char *needle, int *collections);

/* The id (hex) of the user with this e-mail; fails the test if none. */
void h_db_user_id(const char *email, char out[25]);

#endif
