/*
 * harness_oauth.h - what the OpenID Connect suites share (split from
 * test_oauth.c).
 *
 * Group setup (ho_setup): start two real providers (tests/oidc-provider,
 * the oidc-provider npm package) on free loopback ports -- "test" with
 * client_secret_basic, "alt" with client_secret_post --, append their
 * EMPORIUM_OAUTH_* settings to the stack's env file and SIGHUP the
 * FastCGI master so the workers reload (ho_teardown restores the file).
 * The browser part is played by libcurl with a cookie jar: our
 * /authorize -> the provider's pages (which sign in the account named by
 * the X-Test-Email header and consent) -> the redirect to our callback,
 * which the test then calls through nginx.
 */
#ifndef EM_TEST_HARNESS_OAUTH_H
#define EM_TEST_HARNESS_OAUTH_H

#include <stdbool.h>
#include <mongoc/mongoc.h>

#include "harness.h"

struct ho_idp {
	const char *name;        /* the provider's name in EMPORIUM_OAUTH_PROVIDERS */
	const char *auth_method;
	pid_t pid;
	char issuer[512];
	char secret[65];
};

extern struct ho_idp ho_idps[2];
#define HO_TEST_IDP (&ho_idps[0])
#define HO_ALT_IDP (&ho_idps[1])

extern char ho_public_url[512]; /* EMPORIUM_PUBLIC_URL of the stack */
extern bool ho_env_changed;     /* setup added the providers to the env file */
/* The lines setup added to the env file (to reload with more on top). */
extern char ho_env_extra[4096];

struct ho_login {
	char authorize_location[4096];
	char callback[4096];     /* the callback path+query, to call through nginx */
	char state[256];
	char code[512];
	char cookie[256];        /* "Cookie: __Host-emporium_oauth=..." set by /authorize */
};

void ho_random_hex(char *out, size_t bytes);
void ho_sha256_hex(const char *s, char out[65]);
/* A query parameter of url, decoded, into out; false when absent. */
bool ho_url_param(const char *url, const char *name, char *out, size_t size);
/*
 * A request under /api/v1/auth/: nginx limits these per client address
 * (NGX_AUTH_RATE), so a 429 is waited out, for at most ~10 s.
 */
struct h_resp ho_auth_req(const char *path, const char *const *headers);
mongoc_collection_t *ho_db_coll(mongoc_client_t **client, const char *name);
/* The _id (hex) of the user with email, or "" when none. */
void ho_db_user_id(const char *email, char out[25]);
/* Inserts a password account (as the accounts module would have). */
void ho_db_user_insert(const char *email, bool verified, const char *password_hash);
/* Replaces the nonce stored for a pending login (a tampered login). */
void ho_db_state_set_nonce(const char *state, const char *nonce);
void ho_idp_start(struct ho_idp *p, const char *log_path);
void ho_idp_stop(struct ho_idp *p);
int ho_setup(void **state);
int ho_teardown(void **state);
/*
 * Plays the browser from our /authorize to the provider's redirect back
 * to our callback (not called). email/verified pick the provider's account.
 */
void ho_browse(const struct ho_idp *p, const char *query, const char *email, bool verified,
		   struct ho_login *out);
/* Calls the callback from the browser of the last ho_browse() (with its
 * login cookie); returns the response (free it). */
struct h_resp ho_callback(const char *path);
/* Calls the callback with this Cookie header line (NULL: no cookie). */
struct h_resp ho_callback_cookie(const char *path, const char *cookie_header);
/* The sub of an access token (no signature check: the stack checks it). */
void ho_token_sub(const char *token, char *out, size_t size);
/* Logs in through p as email; asserts 200 with tokens; writes the sub. */
void ho_login_ok(const struct ho_idp *p, const char *email, char *sub, size_t sub_size);
void ho_fresh_email(const char *tag, char *out, size_t size);
/* The problem's errors[0].field, for validation problems. */
void ho_assert_problem_field(const struct h_resp *r, long status, const char *field);

#endif
