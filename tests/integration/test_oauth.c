/*
 * Integration tests for OpenID Connect sign-in: HTTPS -> nginx ->
 * emporium-fcgi -> the database, against a real OpenID Connect provider
 * (tests/oidc-provider, the oidc-provider npm package) that this test
 * starts itself on a free loopback port.
 *
 * Setup: start two providers ("test" with client_secret_basic, "alt"
 * with client_secret_post), append their EMPORIUM_OAUTH_* settings to the
 * stack's env file and SIGHUP the FastCGI master so the workers reload
 * (teardown restores the file). The browser part is played by libcurl
 * with a cookie jar: our /authorize -> the provider's pages (which sign in
 * the account named by the X-Test-Email header and consent) -> the
 * redirect to our callback, which the test then calls through nginx.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <jwt.h>
#include <mongoc/mongoc.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifndef EM_TOP_SRCDIR
#define EM_TOP_SRCDIR "."
#endif

extern char **environ;

struct idp {
	const char *name;        /* the provider's name in EMPORIUM_OAUTH_PROVIDERS */
	const char *auth_method;
	pid_t pid;
	char issuer[512];
	char secret[65];
};

static struct idp idps[] = {
	{ "test", "client_secret_basic", 0, "", "" },
	{ "alt", "client_secret_post", 0, "", "" },
};
#define TEST_IDP (&idps[0])
#define ALT_IDP (&idps[1])

static char public_url[512];   /* EMPORIUM_PUBLIC_URL of the stack */
static bool env_changed;       /* setup added the providers to the env file */

/* ---- small utilities ---- */

static void random_hex(char *out, size_t bytes)
{
	unsigned char b[64];

	randombytes_buf(b, bytes);
	sodium_bin2hex(out, bytes * 2 + 1, b, bytes);
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, 65, d, sizeof(d));
}

/* A query parameter of url, decoded, into out; false when absent. */
static bool url_param(const char *url, const char *name, char *out, size_t size)
{
	const char *q = strchr(url, '?');
	size_t nlen = strlen(name);
	CURL *c;

	for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, name, nlen) == 0 && p[1 + nlen] == '=') {
			const char *v = p + 2 + nlen;
			int vlen = (int)strcspn(v, "&#");
			int dlen = 0;
			char *dec;

			c = curl_easy_init();
			assert_non_null(c);
			dec = curl_easy_unescape(c, v, vlen, &dlen);
			assert_non_null(dec);
			snprintf(out, size, "%s", dec);
			curl_free(dec);
			curl_easy_cleanup(c);
			return true;
		}
	}
	return false;
}

/*
 * A request under /api/v1/auth/: nginx limits these per client address
 * (NGX_AUTH_RATE), so a 429 is waited out, for at most ~10 s.
 */
static struct h_resp auth_req(const char *path, const char *const *headers)
{
	struct h_resp r = { 0 };

	for (int i = 0; i < 50; i++) {
		r = h_request("GET", path, NULL, 0, headers);
		if (r.status != 429)
			break;
		h_resp_free(&r);
		h_sleep_ms(200);
	}
	return r;
}

/* ---- the database, directly ---- */

static mongoc_collection_t *db_coll(mongoc_client_t **client, const char *name)
{
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	*client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	assert_non_null(*client);
	return mongoc_client_get_collection(*client, db, name);
}

/* The _id (hex) of the user with email, or "" when none. */
static void db_user_id(const char *email, char out[25])
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = db_coll(&client, "users");
	bson_t *filter = BCON_NEW("email", BCON_UTF8(email));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	const bson_t *doc;
	bson_iter_t it;

	out[0] = '\0';
	if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "_id") &&
	    BSON_ITER_HOLDS_OID(&it))
		bson_oid_to_string(bson_iter_oid(&it), out);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
}

/* Inserts a password account (as the accounts module would have). */
static void db_user_insert(const char *email, bool verified, const char *password_hash)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = db_coll(&client, "users");
	int64_t now = (int64_t)time(NULL) * 1000;
	bson_t *doc = BCON_NEW("email", BCON_UTF8(email), "name", BCON_UTF8("Pat Password"),
			       "role", BCON_UTF8("customer"), "email_verified", BCON_BOOL(verified),
			       "disabled", BCON_BOOL(false), "password_hash",
			       BCON_UTF8(password_hash), "phone", BCON_NULL,
			       "created_at", BCON_DATE_TIME(now), "updated_at", BCON_DATE_TIME(now));
	bson_error_t err;

	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
		fail_msg("insert user: %s", err.message);
	bson_destroy(doc);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
}

/* Replaces the nonce stored for a pending login (a tampered login). */
static void db_state_set_nonce(const char *state, const char *nonce)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = db_coll(&client, "oauth_states");
	char hash[65];
	bson_t *filter, *update, reply;
	bson_error_t err;
	bson_iter_t it;

	sha256_hex(state, hash);
	filter = BCON_NEW("state_hash", BCON_UTF8(hash));
	update = BCON_NEW("$set", "{", "nonce", BCON_UTF8(nonce), "}");
	if (!mongoc_collection_update_one(coll, filter, update, NULL, &reply, &err))
		fail_msg("update state: %s", err.message);
	assert_true(bson_iter_init_find(&it, &reply, "matchedCount"));
	assert_int_equal(bson_iter_as_int64(&it), 1);
	bson_destroy(&reply);
	bson_destroy(filter);
	bson_destroy(update);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
}

/* ---- the providers ---- */

static void idp_start(struct idp *p, const char *log_path)
{
	char script[1024], redirect[1024], line[512];
	char *argv[16];
	int out[2], logfd, i = 0;
	size_t got = 0;
	posix_spawn_file_actions_t fa;
	struct pollfd pfd;

	random_hex(p->secret, 32);
	snprintf(script, sizeof(script), "%s/tests/oidc-provider/server.js", EM_TOP_SRCDIR);
	snprintf(redirect, sizeof(redirect), "%s/api/v1/auth/oauth/%s/callback", public_url,
		 p->name);
	argv[i++] = "node";
	argv[i++] = script;
	argv[i++] = "--port";
	argv[i++] = "0";
	argv[i++] = "--client-id";
	argv[i++] = "emporium-test";
	argv[i++] = "--client-secret";
	argv[i++] = p->secret;
	argv[i++] = "--redirect-uri";
	argv[i++] = redirect;
	argv[i++] = "--auth-method";
	argv[i++] = (char *)p->auth_method;
	argv[i] = NULL;
	assert_int_equal(pipe(out), 0);
	logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(logfd >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, logfd, 2);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	assert_int_equal(posix_spawnp(&p->pid, "node", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(logfd);
	/* "ready <issuer>\n", within 20 s */
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
		ssize_t n;

		if (poll(&pfd, 1, 20000) <= 0)
			fail_msg("the OIDC provider did not start (see %s)", log_path);
		n = read(out[0], line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			fail_msg("the OIDC provider exited (see %s)", log_path);
		got += (size_t)n;
		line[got] = '\0';
	}
	close(out[0]);
	line[strcspn(line, "\r\n")] = '\0';
	assert_true(strncmp(line, "ready ", 6) == 0);
	snprintf(p->issuer, sizeof(p->issuer), "%s", line + 6);
}

static void idp_stop(struct idp *p)
{
	int status;

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, &status, 0);
		p->pid = 0;
	}
}

static int setup(void **state)
{
	const char *env_file = h_env("STACK_ENV_FILE");
	char log_path[1024], extra[4096], *p, *env;
	size_t len = 0;
	int n;

	(void)state;
	if (sodium_init() < 0)
		return -1;
	env = h_file_read(env_file, NULL);
	if (!env)
		return -1;
	p = strstr(env, "\nEMPORIUM_PUBLIC_URL=");
	if (p) {
		p += strlen("\nEMPORIUM_PUBLIC_URL=");
		snprintf(public_url, sizeof(public_url), "%.*s", (int)strcspn(p, "\r\n"), p);
	}
	free(env);
	if (!p)
		return -1;
	/* npm ci once when the checkout has no node_modules yet */
	if (access(EM_TOP_SRCDIR "/tests/oidc-provider/node_modules/oidc-provider", R_OK) != 0 &&
	    system("cd '" EM_TOP_SRCDIR "/tests/oidc-provider' && "
		   "npm ci --no-audit --no-fund --silent >/dev/null") != 0)
		return -1;
	snprintf(log_path, sizeof(log_path), "%s/logs/oidc-provider.log", h_env("STACK_DIR"));
	for (size_t i = 0; i < sizeof(idps) / sizeof(idps[0]); i++)
		idp_start(&idps[i], log_path);
	n = snprintf(extra, sizeof(extra), "\n# test_oauth\nEMPORIUM_OAUTH_PROVIDERS=test alt\n");
	len = (size_t)n;
	for (size_t i = 0; i < sizeof(idps) / sizeof(idps[0]); i++) {
		char up[16];

		snprintf(up, sizeof(up), "%s", idps[i].name);
		for (char *c = up; *c; c++)
			*c = (char)(*c - 'a' + 'A');
		n = snprintf(extra + len, sizeof(extra) - len,
			     "EMPORIUM_OAUTH_%s_ISSUER=%s\nEMPORIUM_OAUTH_%s_CLIENT_ID=emporium-test\n"
			     "EMPORIUM_OAUTH_%s_CLIENT_SECRET=%s\n",
			     up, idps[i].issuer, up, up, idps[i].secret);
		len += (size_t)n;
	}
	env_changed = true;
	if (!h_stack_reconfigure(extra))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(idps) / sizeof(idps[0]); i++)
		idp_stop(&idps[i]);
	if (env_changed) {
		env_changed = false;
		if (!h_stack_reconfigure(NULL))
			return -1;
	}
	return 0;
}

/* ---- the browser ---- */

struct login {
	char authorize_location[4096];
	char callback[4096];     /* the callback path+query, to call through nginx */
	char state[256];
	char code[512];
};

/*
 * Plays the browser from our /authorize to the provider's redirect back
 * to our callback (not called). email/verified pick the provider's account.
 */
static void browse(const struct idp *p, const char *query, const char *email, bool verified,
		   struct login *out)
{
	char path[512], hdr_email[300], prefix[700], url[4096];
	const char *hdrs[4];
	struct h_resp r;
	struct curl_slist *hl = NULL;
	CURL *c;
	bool arrived = false;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/api/v1/auth/oauth/%s/authorize%s", p->name, query ? query : "");
	r = auth_req(path, NULL);
	if (r.status != 302)
		fail_msg("authorize: %ld %s", r.status, r.body);
	assert_true(h_header(&r, "location", out->authorize_location,
			     sizeof(out->authorize_location)));
	h_resp_free(&r);
	snprintf(url, sizeof(url), "%s", out->authorize_location);
	snprintf(prefix, sizeof(prefix), "%s/api/v1/auth/oauth/%s/callback?", public_url, p->name);
	snprintf(hdr_email, sizeof(hdr_email), "X-Test-Email: %s", email);
	hdrs[0] = hdr_email;
	hdrs[1] = verified ? "X-Test-Email-Verified: true" : "X-Test-Email-Verified: false";
	hdrs[2] = NULL;
	for (int i = 0; hdrs[i]; i++)
		hl = curl_slist_append(hl, hdrs[i]);
	c = curl_easy_init();
	assert_non_null(c);
	curl_easy_setopt(c, CURLOPT_COOKIEFILE, ""); /* a fresh in-memory jar */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
	for (int hop = 0; hop < 12 && !arrived; hop++) {
		char *next = NULL;
		long status = 0;
		FILE *sink = fopen("/dev/null", "w");

		assert_non_null(sink);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
		if (curl_easy_perform(c) != CURLE_OK)
			fail_msg("browsing %s failed", url);
		fclose(sink);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next);
		if (!next)
			fail_msg("the provider stopped at %s with %ld", url, status);
		snprintf(url, sizeof(url), "%s", next);
		arrived = strncmp(url, prefix, strlen(prefix)) == 0;
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (!arrived)
		fail_msg("never redirected back to the callback (last %s)", url);
	/* Through nginx by address (the public URL names localhost). */
	snprintf(out->callback, sizeof(out->callback), "%s", url + strlen(public_url));
	assert_true(url_param(url, "state", out->state, sizeof(out->state)));
	assert_true(url_param(url, "code", out->code, sizeof(out->code)));
}

/* Calls the callback; returns the response (free it). */
static struct h_resp callback(const char *path)
{
	return auth_req(path, NULL);
}

/* The sub of an access token (no signature check: the stack checks it). */
static void token_sub(const char *token, char *out, size_t size)
{
	jwt_t *jwt = NULL;

	assert_int_equal(jwt_decode(&jwt, token, (const unsigned char *)h_env("STACK_JWT_SECRET"),
				    (int)strlen(h_env("STACK_JWT_SECRET"))), 0);
	snprintf(out, size, "%s", jwt_get_grant(jwt, "sub"));
	jwt_free(jwt);
}

/* Logs in through p as email; asserts 200 with tokens; writes the sub. */
static void login_ok(const struct idp *p, const char *email, char *sub, size_t sub_size)
{
	struct login l;
	struct h_resp r;
	json_object *o, *v;
	char cookie[1024];

	browse(p, NULL, email, true, &l);
	r = callback(l.callback);
	if (r.status != 200)
		fail_msg("callback: %ld %s", r.status, r.body);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "access_token", &v));
	token_sub(json_object_get_string(v), sub, sub_size);
	assert_true(json_object_object_get_ex(o, "token_type", &v));
	assert_string_equal(json_object_get_string(v), "Bearer");
	assert_true(json_object_object_get_ex(o, "refresh_token", &v));
	assert_true(h_header(&r, "set-cookie", cookie, sizeof(cookie)));
	assert_non_null(strstr(cookie, "__Host-"));
	json_object_put(o);
	h_resp_free(&r);
}

static void fresh_email(const char *tag, char *out, size_t size)
{
	char rnd[17];

	random_hex(rnd, 8);
	snprintf(out, size, "%s-%s@example.test", tag, rnd);
}

/* The problem's errors[0].field, for validation problems. */
static void assert_problem_field(const struct h_resp *r, long status, const char *field)
{
	json_object *o, *errs, *e, *f;

	h_assert_problem(r, status);
	o = h_json(r);
	assert_true(json_object_object_get_ex(o, "errors", &errs));
	e = json_object_array_get_idx(errs, 0);
	assert_non_null(e);
	assert_true(json_object_object_get_ex(e, "field", &f));
	assert_string_equal(json_object_get_string(f), field);
	json_object_put(o);
}

/* ---- the tests ---- */

static void test_unknown_provider(void **state)
{
	struct h_resp r;

	(void)state;
	r = auth_req("/api/v1/auth/oauth/nope/authorize", NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = auth_req("/api/v1/auth/oauth/nope/callback?code=a&state=b", NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* names are matched exactly, never case-folded into another one */
	r = auth_req("/api/v1/auth/oauth/TEST/authorize", NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
}

static void test_authorize_redirects_with_pkce(void **state)
{
	struct h_resp r;
	char loc[4096], v[512], hash[65], filter[512], redirect[1024], expect[600];

	(void)state;
	r = auth_req("/api/v1/auth/oauth/test/authorize", NULL);
	assert_int_equal(r.status, 302);
	assert_true(h_header(&r, "location", loc, sizeof(loc)));
	h_resp_free(&r);
	snprintf(expect, sizeof(expect), "%s/auth?", TEST_IDP->issuer);
	assert_true(strncmp(loc, expect, strlen(expect)) == 0);
	assert_true(url_param(loc, "response_type", v, sizeof(v)));
	assert_string_equal(v, "code");
	assert_true(url_param(loc, "client_id", v, sizeof(v)));
	assert_string_equal(v, "emporium-test");
	assert_true(url_param(loc, "code_challenge_method", v, sizeof(v)));
	assert_string_equal(v, "S256");
	assert_true(url_param(loc, "code_challenge", v, sizeof(v)));
	assert_int_equal(strlen(v), 43);
	assert_true(url_param(loc, "scope", v, sizeof(v)));
	assert_non_null(strstr(v, "openid"));
	assert_true(url_param(loc, "redirect_uri", redirect, sizeof(redirect)));
	snprintf(expect, sizeof(expect), "%s/api/v1/auth/oauth/test/callback", public_url);
	assert_string_equal(redirect, expect);
	assert_true(url_param(loc, "nonce", v, sizeof(v)));
	assert_true(strlen(v) >= 43);
	assert_true(url_param(loc, "state", v, sizeof(v)));
	assert_true(strlen(v) >= 43);
	/* stored server-side by hash only, unused, for this provider */
	sha256_hex(v, hash);
	snprintf(filter, sizeof(filter),
		 "{\"state_hash\": \"%s\", \"provider\": \"test\", \"used\": false, "
		 "\"code_verifier\": {\"$type\": \"string\"}}", hash);
	assert_int_equal(h_db_count("oauth_states", filter), 1);
	snprintf(filter, sizeof(filter), "{\"state_hash\": \"%s\"}", v);
	assert_int_equal(h_db_count("oauth_states", filter), 0);
}

static void test_callback_needs_code_and_state(void **state)
{
	struct h_resp r;

	(void)state;
	r = auth_req("/api/v1/auth/oauth/test/callback?state=abc", NULL);
	assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	r = auth_req("/api/v1/auth/oauth/test/callback?code=abc", NULL);
	assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
	/* the provider reporting a refusal is not a login */
	r = auth_req("/api/v1/auth/oauth/test/callback?error=access_denied&state=abc", NULL);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
}

static void test_login_creates_verified_account(void **state)
{
	char email[128], sub[64], id[25], filter[512], bearer[2048];
	struct login l;
	struct h_resp r, me;
	json_object *o, *v;
	const char *hdrs[2];

	(void)state;
	fresh_email("new", email, sizeof(email));
	browse(TEST_IDP, NULL, email, true, &l);
	r = callback(l.callback);
	if (r.status != 200)
		fail_msg("callback: %ld %s", r.status, r.body);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "access_token", &v));
	token_sub(json_object_get_string(v), sub, sizeof(sub));
	/* the account: verified customer, no password, linked to the identity */
	db_user_id(email, id);
	assert_string_equal(sub, id);
	snprintf(filter, sizeof(filter),
		 "{\"email\": \"%s\", \"email_verified\": true, \"role\": \"customer\", "
		 "\"password_hash\": null, \"disabled\": false, "
		 "\"oauth\": {\"$elemMatch\": {\"provider\": \"test\", "
		 "\"subject\": {\"$type\": \"string\"}}}}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* the state is spent */
	snprintf(filter, sizeof(filter), "{\"provider\": \"test\", \"used\": true}");
	assert_true(h_db_count("oauth_states", filter) >= 1);
	/* and the token works on the API */
	hdrs[0] = h_bearer(json_object_get_string(v), bearer, sizeof(bearer));
	hdrs[1] = NULL;
	me = h_request("GET", "/api/v1/me", NULL, 0, hdrs);
	if (me.status != 404) { /* /me belongs to the accounts module */
		assert_int_equal(me.status, 200);
		assert_non_null(strstr(me.body, email));
	}
	h_resp_free(&me);
	json_object_put(o);
	h_resp_free(&r);
}

static void test_second_login_same_account(void **state)
{
	char email[128], sub1[64], sub2[64], filter[512];

	(void)state;
	fresh_email("again", email, sizeof(email));
	login_ok(TEST_IDP, email, sub1, sizeof(sub1));
	login_ok(TEST_IDP, email, sub2, sizeof(sub2));
	assert_string_equal(sub1, sub2);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* one link, not two */
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\", \"oauth.1\": {\"$exists\": true}}",
		 email);
	assert_int_equal(h_db_count("users", filter), 0);
}

static void test_links_existing_password_account(void **state)
{
	char email[128], sub[64], id[25], filter[600];

	(void)state;
	fresh_email("pw", email, sizeof(email));
	db_user_insert(email, true, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
	db_user_id(email, id);
	login_ok(TEST_IDP, email, sub, sizeof(sub));
	assert_string_equal(sub, id);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* linked; the verified owner keeps the password */
	snprintf(filter, sizeof(filter),
		 "{\"email\": \"%s\", \"oauth.provider\": \"test\", "
		 "\"password_hash\": {\"$type\": \"string\"}}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* the same person through a second provider (client_secret_post): same account */
	login_ok(ALT_IDP, email, sub, sizeof(sub));
	assert_string_equal(sub, id);
	snprintf(filter, sizeof(filter),
		 "{\"email\": \"%s\", \"oauth.provider\": {\"$all\": [\"test\", \"alt\"]}}", email);
	assert_int_equal(h_db_count("users", filter), 1);
}

static void test_unverified_account_loses_password(void **state)
{
	char email[128], sub[64], id[25], filter[600];

	(void)state;
	/* someone registered the address without confirming it */
	fresh_email("squat", email, sizeof(email));
	db_user_insert(email, false, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
	db_user_id(email, id);
	login_ok(TEST_IDP, email, sub, sizeof(sub));
	assert_string_equal(sub, id);
	snprintf(filter, sizeof(filter),
		 "{\"email\": \"%s\", \"email_verified\": true, \"password_hash\": null, "
		 "\"oauth.provider\": \"test\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
}

static void test_unverified_email_refused(void **state)
{
	char email[128], filter[300];
	struct login l;
	struct h_resp r;

	(void)state;
	fresh_email("unverified", email, sizeof(email));
	browse(TEST_IDP, NULL, email, false, &l);
	r = callback(l.callback);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
}

static void test_forged_state_refused(void **state)
{
	char email[128], path[4096], forged[64], filter[300];
	struct login l;
	struct h_resp r;

	(void)state;
	fresh_email("forged", email, sizeof(email));
	browse(TEST_IDP, NULL, email, true, &l);
	random_hex(forged, 16);
	snprintf(path, sizeof(path), "/api/v1/auth/oauth/test/callback?code=%s&state=%s", l.code,
		 forged);
	r = callback(path);
	assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
	/* a real state of another provider is no better */
	snprintf(path, sizeof(path), "/api/v1/auth/oauth/alt/callback?code=%s&state=%s", l.code,
		 l.state);
	r = callback(path);
	assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
	/* the genuine callback still works: nothing above consumed it */
	r = callback(l.callback);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

static void test_reused_state_refused(void **state)
{
	char email[128];
	struct login l;
	struct h_resp r;

	(void)state;
	fresh_email("replay", email, sizeof(email));
	browse(TEST_IDP, NULL, email, true, &l);
	r = callback(l.callback);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = callback(l.callback);
	assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
}

static void test_wrong_nonce_refused(void **state)
{
	char email[128], filter[300];
	struct login l;
	struct h_resp r;

	(void)state;
	fresh_email("nonce", email, sizeof(email));
	browse(TEST_IDP, NULL, email, true, &l);
	db_state_set_nonce(l.state, "tampered-nonce-0000000000000000000000000000000");
	r = callback(l.callback);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
}

static void test_swapped_code_refused(void **state)
{
	char email[128], path[4096], filter[300];
	struct login a, b;
	struct h_resp r;

	(void)state;
	/* a code redeemed under another login's state: PKCE (and the nonce) say no */
	fresh_email("swap", email, sizeof(email));
	browse(TEST_IDP, NULL, email, true, &a);
	browse(TEST_IDP, NULL, email, true, &b);
	snprintf(path, sizeof(path), "/api/v1/auth/oauth/test/callback?code=%s&state=%s", a.code,
		 b.state);
	r = callback(path);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
}

static void test_redirect_after(void **state)
{
	char email[128], loc[1024], expect[700], cookie[1024];
	struct login l;
	struct h_resp r;

	(void)state;
	r = auth_req("/api/v1/auth/oauth/test/authorize?redirect_after=%2F%2Fevil.test%2F", NULL);
	assert_problem_field(&r, 400, "redirect_after");
	h_resp_free(&r);
	r = auth_req("/api/v1/auth/oauth/test/authorize?redirect_after=https%3A%2F%2Fevil.test",
		     NULL);
	assert_problem_field(&r, 400, "redirect_after");
	h_resp_free(&r);
	fresh_email("landing", email, sizeof(email));
	browse(TEST_IDP, "?redirect_after=%2Faccount%3Ftab%3Dorders", email, true, &l);
	r = callback(l.callback);
	assert_int_equal(r.status, 302);
	assert_true(h_header(&r, "location", loc, sizeof(loc)));
	snprintf(expect, sizeof(expect), "%s/account?tab=orders", public_url);
	assert_string_equal(loc, expect);
	assert_true(h_header(&r, "set-cookie", cookie, sizeof(cookie)));
	assert_null(strstr(r.body, "access_token"));
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_provider),
		cmocka_unit_test(test_authorize_redirects_with_pkce),
		cmocka_unit_test(test_callback_needs_code_and_state),
		cmocka_unit_test(test_login_creates_verified_account),
		cmocka_unit_test(test_second_login_same_account),
		cmocka_unit_test(test_links_existing_password_account),
		cmocka_unit_test(test_unverified_account_loses_password),
		cmocka_unit_test(test_unverified_email_refused),
		cmocka_unit_test(test_forged_state_refused),
		cmocka_unit_test(test_reused_state_refused),
		cmocka_unit_test(test_wrong_nonce_refused),
		cmocka_unit_test(test_swapped_code_refused),
		cmocka_unit_test(test_redirect_after),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, setup, teardown);
	h_cleanup();
	return rc;
}
