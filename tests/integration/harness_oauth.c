/* harness_oauth.c - see harness_oauth.h. */
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

#include "harness_oauth.h"

#ifndef EM_TOP_SRCDIR
#define EM_TOP_SRCDIR "."
#endif

extern char **environ;

struct ho_idp ho_idps[] = {
	{ "test", "client_secret_basic", 0, "", "" },
	{ "alt", "client_secret_post", 0, "", "" },
};

char ho_public_url[512];
bool ho_env_changed;
char ho_env_extra[4096];

void ho_random_hex(char *out, size_t bytes)
{
	unsigned char b[64];

	randombytes_buf(b, bytes);
	sodium_bin2hex(out, bytes * 2 + 1, b, bytes);
}

void ho_sha256_hex(const char *s, char out[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, 65, d, sizeof(d));
}

/* A query parameter of url, decoded, into out; false when absent. */
bool ho_url_param(const char *url, const char *name, char *out, size_t size)
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
struct h_resp ho_auth_req(const char *path, const char *const *headers)
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

mongoc_collection_t *ho_db_coll(mongoc_client_t **client, const char *name)
{
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	*client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	assert_non_null(*client);
	return mongoc_client_get_collection(*client, db, name);
}

/* The _id (hex) of the user with email, or "" when none. */
void ho_db_user_id(const char *email, char out[25])
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = ho_db_coll(&client, "users");
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
void ho_db_user_insert(const char *email, bool verified, const char *password_hash)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = ho_db_coll(&client, "users");
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
void ho_db_state_set_nonce(const char *state, const char *nonce)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = ho_db_coll(&client, "oauth_states");
	char hash[65];
	bson_t *filter, *update, reply;
	bson_error_t err;
	bson_iter_t it;

	ho_sha256_hex(state, hash);
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

void ho_idp_start(struct ho_idp *p, const char *log_path)
{
	char script[1024], redirect[1024], line[512];
	char *argv[16];
	int out[2], logfd, i = 0;
	size_t got = 0;
	posix_spawn_file_actions_t fa;
	struct pollfd pfd;

	ho_random_hex(p->secret, 32);
	snprintf(script, sizeof(script), "%s/tests/oidc-provider/server.js", EM_TOP_SRCDIR);
	snprintf(redirect, sizeof(redirect), "%s/api/v1/auth/oauth/%s/callback", ho_public_url,
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

void ho_idp_stop(struct ho_idp *p)
{
	int status;

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, &status, 0);
		p->pid = 0;
	}
}

int ho_setup(void **state)
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
		snprintf(ho_public_url, sizeof(ho_public_url), "%.*s", (int)strcspn(p, "\r\n"), p);
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
	for (size_t i = 0; i < sizeof(ho_idps) / sizeof(ho_idps[0]); i++)
		ho_idp_start(&ho_idps[i], log_path);
	n = snprintf(extra, sizeof(extra), "\n# test_oauth\nEMPORIUM_OAUTH_PROVIDERS=test alt\n");
	len = (size_t)n;
	for (size_t i = 0; i < sizeof(ho_idps) / sizeof(ho_idps[0]); i++) {
		char up[16];

		snprintf(up, sizeof(up), "%s", ho_idps[i].name);
		for (char *c = up; *c; c++)
			*c = (char)(*c - 'a' + 'A');
		n = snprintf(extra + len, sizeof(extra) - len,
			     "EMPORIUM_OAUTH_%s_ISSUER=%s\nEMPORIUM_OAUTH_%s_CLIENT_ID=emporium-test\n"
			     "EMPORIUM_OAUTH_%s_CLIENT_SECRET=%s\n",
			     up, ho_idps[i].issuer, up, up, ho_idps[i].secret);
		len += (size_t)n;
	}
	ho_env_changed = true;
	snprintf(ho_env_extra, sizeof(ho_env_extra), "%s", extra);
	if (!h_stack_reconfigure(extra))
		return -1;
	return 0;
}

int ho_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ho_idps) / sizeof(ho_idps[0]); i++)
		ho_idp_stop(&ho_idps[i]);
	if (ho_env_changed) {
		ho_env_changed = false;
		if (!h_stack_reconfigure(NULL))
			return -1;
	}
	return 0;
}

/* The login cookie of the last ho_browse(): "the browser" of ho_callback(). */
static char ho_last_cookie[256];

/*
 * Plays the browser from our /authorize to the provider's redirect back
 * to our callback (not called). email/verified pick the provider's account.
 */
void ho_browse(const struct ho_idp *p, const char *query, const char *email, bool verified,
		   struct ho_login *out)
{
	char path[512], hdr_email[300], prefix[700], url[4096];
	const char *hdrs[4];
	struct h_resp r;
	struct curl_slist *hl = NULL;
	CURL *c;
	bool arrived = false;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/api/v1/auth/oauth/%s/authorize%s", p->name, query ? query : "");
	r = ho_auth_req(path, NULL);
	if (r.status != 302)
		fail_msg("authorize: %ld %s", r.status, r.body);
	assert_true(h_header(&r, "location", out->authorize_location,
			     sizeof(out->authorize_location)));
	{
		char sc[200], *semi;

		/* the browser binding (login CSRF): sent back on the callback */
		assert_true(h_header(&r, "set-cookie", sc, sizeof(sc)));
		assert_non_null(strstr(sc, "__Host-emporium_oauth="));
		assert_non_null(strstr(sc, "HttpOnly"));
		assert_non_null(strstr(sc, "Secure"));
		semi = strchr(sc, ';');
		if (semi)
			*semi = '\0';
		snprintf(out->cookie, sizeof(out->cookie), "Cookie: %s", sc);
		snprintf(ho_last_cookie, sizeof(ho_last_cookie), "%s", out->cookie);
	}
	h_resp_free(&r);
	snprintf(url, sizeof(url), "%s", out->authorize_location);
	snprintf(prefix, sizeof(prefix), "%s/api/v1/auth/oauth/%s/callback?", ho_public_url, p->name);
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
	snprintf(out->callback, sizeof(out->callback), "%s", url + strlen(ho_public_url));
	assert_true(ho_url_param(url, "state", out->state, sizeof(out->state)));
	assert_true(ho_url_param(url, "code", out->code, sizeof(out->code)));
}

struct h_resp ho_callback_cookie(const char *path, const char *cookie_header)
{
	const char *hdrs[2] = { cookie_header, NULL };

	return ho_auth_req(path, cookie_header ? hdrs : NULL);
}

struct h_resp ho_callback(const char *path)
{
	return ho_callback_cookie(path, ho_last_cookie[0] ? ho_last_cookie : NULL);
}

/* The sub of an access token (no signature check: the stack checks it). */
void ho_token_sub(const char *token, char *out, size_t size)
{
	jwt_t *jwt = NULL;

	assert_int_equal(jwt_decode(&jwt, token, (const unsigned char *)h_env("STACK_JWT_SECRET"),
				    (int)strlen(h_env("STACK_JWT_SECRET"))), 0);
	snprintf(out, size, "%s", jwt_get_grant(jwt, "sub"));
	jwt_free(jwt);
}

/* Logs in through p as email; asserts 200 with tokens; writes the sub. */
void ho_login_ok(const struct ho_idp *p, const char *email, char *sub, size_t sub_size)
{
	struct ho_login l;
	struct h_resp r;
	json_object *o, *v;
	char cookie[1024];

	ho_browse(p, NULL, email, true, &l);
	r = ho_callback(l.callback);
	if (r.status != 200)
		fail_msg("callback: %ld %s", r.status, r.body);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "access_token", &v));
	ho_token_sub(json_object_get_string(v), sub, sub_size);
	assert_true(json_object_object_get_ex(o, "token_type", &v));
	assert_string_equal(json_object_get_string(v), "Bearer");
	assert_true(json_object_object_get_ex(o, "refresh_token", &v));
	assert_true(h_header(&r, "set-cookie", cookie, sizeof(cookie)));
	assert_non_null(strstr(cookie, "__Host-"));
	json_object_put(o);
	h_resp_free(&r);
}

void ho_fresh_email(const char *tag, char *out, size_t size)
{
	char rnd[17];

	ho_random_hex(rnd, 8);
	snprintf(out, size, "%s-%s@example.test", tag, rnd);
}

/* The problem's errors[0].field, for validation problems. */
void ho_assert_problem_field(const struct h_resp *r, long status, const char *field)
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
