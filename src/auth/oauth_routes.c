/*
 * oauth_routes.c - OpenID Connect sign-in over HTTP:
 *
 *   GET /api/v1/auth/oauth/{provider}/authorize[?redirect_after=/path]
 *       302 to the provider's authorization endpoint (code flow, PKCE S256,
 *       random state and nonce); the pending login is kept server-side in
 *       oauth_states for 10 minutes.
 *   GET /api/v1/auth/oauth/{provider}/callback?code=...&state=...
 *       consumes the state (once), exchanges the code, verifies the ID
 *       token and signs the account in with auth_session_issue(): 200 with
 *       the tokens, or, when the login began with redirect_after, a 302 to
 *       that path of EMPORIUM_PUBLIC_URL carrying only the refresh cookie.
 *
 * The state is the browser's proof that it started this login (CSRF on
 * the callback); the nonce is the ID token's proof that it was issued for
 * this login; the PKCE verifier is the proof that whoever redeems the code
 * is whoever asked for it. All three are 32 random bytes.
 *
 * The state alone does not tie the callback to the browser: an attacker
 * can start a login, stop before the callback, and send the victim its
 * callback URL, signing the victim into the attacker's account (login
 * CSRF). So /authorize also sets a __Host- cookie holding a fourth random
 * value whose hash is stored with the state, and the callback takes the
 * state only together with that cookie's hash. SameSite=Lax: the callback
 * is a top-level navigation from the provider's site, which Lax allows
 * and Strict would not.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "auth/auth_routes.h"
#include "auth/oauth.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"

#define OAUTH_SECRET_BYTES 32
#define OAUTH_SECRET_LEN 43            /* base64url of 32 bytes, unpadded */
#define OAUTH_CODE_MAX 2048
#define OAUTH_BINDING_COOKIE "__Host-emporium_oauth"

/* base64url of n random bytes into out. */
static void oauth_random(char *out, size_t size, size_t nbytes)
{
	unsigned char buf[64];

	randombytes_buf(buf, nbytes);
	sodium_bin2base64(out, size, buf, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(buf, sizeof(buf));
}

static void oauth_state_hash(const char *state, char out[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)state, strlen(state));
	sodium_bin2hex(out, 65, d, sizeof(d));
}

/*
 * A path on this site to land on after the login: it must start with one
 * '/' (not "//" or "/\", which browsers read as another host) and hold no
 * control characters, so it can never become an open redirect.
 */
static bool oauth_redirect_after_check(const char *v, struct em_error *err)
{
	size_t n = strlen(v);

	if (n == 0 || n > OAUTH_REDIRECT_AFTER_MAX || v[0] != '/' || v[1] == '/' ||
	    v[1] == '\\') {
		em_error_set(err, EM_ERR_INVALID, "redirect_after",
			     "must be a path on this site, starting with a single '/'");
		return false;
	}
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p < 0x21 || *p == 0x7f || *p == '\\') {
			em_error_set(err, EM_ERR_INVALID, "redirect_after",
				     "must not contain spaces, control characters or '\\'");
			return false;
		}
	}
	return true;
}

static bool oauth_state_store(struct em_request *req, const char *provider, const char *state,
			      const char *binding, const char *verifier, const char *nonce,
			      const char *redirect_after, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&req->app->store, "oauth_states");
	bson_t doc = BSON_INITIALIZER;
	bson_error_t berr;
	int64_t now = em_now_ms();
	char hash[65];
	bool ok;

	oauth_state_hash(state, hash);
	BSON_APPEND_UTF8(&doc, "state_hash", hash);
	oauth_state_hash(binding, hash);
	BSON_APPEND_UTF8(&doc, "binding_hash", hash);
	BSON_APPEND_UTF8(&doc, "provider", provider);
	BSON_APPEND_UTF8(&doc, "code_verifier", verifier);
	BSON_APPEND_UTF8(&doc, "nonce", nonce);
	if (redirect_after)
		BSON_APPEND_UTF8(&doc, "redirect_after", redirect_after);
	else
		BSON_APPEND_NULL(&doc, "redirect_after");
	BSON_APPEND_BOOL(&doc, "used", false);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "expires_at", now + OAUTH_STATE_TTL_S * 1000);
	ok = mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr);
	if (!ok)
		store_error_set(err, &berr, "store oauth state");
	bson_destroy(&doc);
	mongoc_collection_destroy(coll);
	return ok;
}

/* Appends "&key=urlencoded(value)" to the URL being built. */
static bool oauth_url_param(CURL *c, char *url, size_t size, size_t *len, const char *key,
			    const char *value)
{
	char *enc = curl_easy_escape(c, value, 0);
	int n;

	if (!enc)
		return false;
	n = snprintf(url + *len, size - *len, "&%s=%s", key, enc);
	curl_free(enc);
	if (n < 0 || (size_t)n >= size - *len)
		return false;
	*len += (size_t)n;
	return true;
}

static bool auth_oauth_authorize(struct em_request *req, struct em_error *err)
{
	struct oauth_provider p;
	struct oauth_discovery d;
	const char *redirect_after = em_request_query(req, "redirect_after");
	char state[64], nonce[64], verifier[64], challenge[64], binding[64];
	char url[4096], cookie[256];
	size_t len;
	CURL *esc = NULL;
	bool ok = false;

	if (!oauth_provider_load(&req->app->cfg, em_request_path_param(req, "provider"), &p, err))
		return false;
	if (redirect_after && !oauth_redirect_after_check(redirect_after, err))
		return false;
	if (!oauth_discovery_get(&p, &d, err))
		return false;
	oauth_random(state, sizeof(state), OAUTH_SECRET_BYTES);
	oauth_random(nonce, sizeof(nonce), OAUTH_SECRET_BYTES);
	oauth_random(verifier, sizeof(verifier), OAUTH_SECRET_BYTES);
	oauth_random(binding, sizeof(binding), OAUTH_SECRET_BYTES);
	if (!oauth_pkce_challenge(verifier, challenge, sizeof(challenge))) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot derive the PKCE challenge");
		goto done;
	}
	if (!oauth_state_store(req, p.name, state, binding, verifier, nonce, redirect_after, err))
		goto done;
	esc = curl_easy_init();
	if (!esc) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl cannot make a handle");
		goto done;
	}
	/* The endpoint may carry a query of its own (some providers do). */
	len = (size_t)snprintf(url, sizeof(url), "%s%sresponse_type=code",
			       d.authorization_endpoint,
			       strchr(d.authorization_endpoint, '?') ? "&" : "?");
	if (len >= sizeof(url) ||
	    !oauth_url_param(esc, url, sizeof(url), &len, "client_id", p.client_id) ||
	    !oauth_url_param(esc, url, sizeof(url), &len, "redirect_uri", p.redirect_uri) ||
	    !oauth_url_param(esc, url, sizeof(url), &len, "scope", "openid email profile") ||
	    !oauth_url_param(esc, url, sizeof(url), &len, "state", state) ||
	    !oauth_url_param(esc, url, sizeof(url), &len, "nonce", nonce) ||
	    !oauth_url_param(esc, url, sizeof(url), &len, "code_challenge", challenge) ||
	    !oauth_url_param(esc, url, sizeof(url), &len, "code_challenge_method", "S256")) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the authorization URL is too long");
		goto done;
	}
	snprintf(cookie, sizeof(cookie),
		 OAUTH_BINDING_COOKIE "=%s; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Lax",
		 binding, OAUTH_STATE_TTL_S);
	if (!em_response_header(req, "Location", url) ||
	    !em_response_header(req, "Set-Cookie", cookie)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot set the redirect");
		goto done;
	}
	em_response_empty(req, 302);
	ok = true;
done:
	sodium_memzero(verifier, sizeof(verifier));
	sodium_memzero(binding, sizeof(binding));
	curl_easy_cleanup(esc);
	return ok;
}

struct oauth_pending {
	char verifier[160];
	char nonce[160];
	char redirect_after[OAUTH_REDIRECT_AFTER_MAX + 1];
};

static bool oauth_doc_str(const bson_t *doc, const char *key, char *out, size_t size)
{
	bson_iter_t it;

	out[0] = '\0';
	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
		return false;
	return (size_t)snprintf(out, size, "%s", bson_iter_utf8(&it, NULL)) < size;
}

/*
 * Consumes the state: finds it unused, unexpired and of this provider and
 * marks it used in one atomic findAndModify, so two callbacks racing with
 * the same state cannot both proceed.
 */
static bool oauth_state_take(struct em_request *req, const char *provider, const char *state,
			     const char *binding, struct oauth_pending *pend, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	mongoc_find_and_modify_opts_t *fam = NULL;
	bson_t query = BSON_INITIALIZER, update = BSON_INITIALIZER, set, gt, reply, value;
	bson_error_t berr;
	bson_iter_t it;
	int64_t now = em_now_ms();
	char hash[65];
	bool ok = false;

	oauth_state_hash(state, hash);
	BSON_APPEND_UTF8(&query, "state_hash", hash);
	/* only the browser that started the login: hash equality in the
	 * filter, so a callback from any other browser finds nothing and
	 * leaves the state for the right one */
	oauth_state_hash(binding, hash);
	BSON_APPEND_UTF8(&query, "binding_hash", hash);
	BSON_APPEND_UTF8(&query, "provider", provider);
	BSON_APPEND_BOOL(&query, "used", false);
	BSON_APPEND_DOCUMENT_BEGIN(&query, "expires_at", &gt);
	BSON_APPEND_DATE_TIME(&gt, "$gt", now);
	bson_append_document_end(&query, &gt);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_BOOL(&set, "used", true);
	BSON_APPEND_DATE_TIME(&set, "used_at", now);
	bson_append_document_end(&update, &set);
	fam = mongoc_find_and_modify_opts_new();
	if (!fam || !mongoc_find_and_modify_opts_set_update(fam, &update)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build findAndModify");
		bson_init(&reply);
		goto done;
	}
	coll = store_collection(&req->app->store, "oauth_states");
	if (!mongoc_collection_find_and_modify_with_opts(coll, &query, fam, &reply, &berr)) {
		store_error_set(err, &berr, "take oauth state");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "value") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		em_info("oauth %s: unknown, used or expired state, or another browser's", provider);
		em_error_set(err, EM_ERR_INVALID, "state",
			     "this sign-in attempt is unknown, already used or expired; "
			     "start again");
		goto done;
	}
	{
		const uint8_t *data;
		uint32_t dlen;

		bson_iter_document(&it, &dlen, &data);
		if (!bson_init_static(&value, data, dlen) ||
		    !oauth_doc_str(&value, "code_verifier", pend->verifier, sizeof(pend->verifier)) ||
		    !oauth_doc_str(&value, "nonce", pend->nonce, sizeof(pend->nonce))) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "a malformed oauth state");
			goto done;
		}
		oauth_doc_str(&value, "redirect_after", pend->redirect_after,
			      sizeof(pend->redirect_after));
	}
	ok = true;
done:
	bson_destroy(&reply);
	if (fam)
		mongoc_find_and_modify_opts_destroy(fam);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&query);
	bson_destroy(&update);
	return ok;
}

/* A query parameter of 1..max bytes; EM_ERR_INVALID naming it otherwise. */
static bool oauth_query_required(struct em_request *req, const char *name, size_t max,
				 const char **out, struct em_error *err)
{
	*out = em_request_query(req, name);
	if (!*out || !**out) {
		em_error_set(err, EM_ERR_INVALID, name, "is required");
		return false;
	}
	if (strlen(*out) > max) {
		em_error_set(err, EM_ERR_INVALID, name, "is too long");
		return false;
	}
	return true;
}

static bool auth_oauth_callback(struct em_request *req, struct em_error *err)
{
	struct oauth_provider p;
	struct oauth_discovery d;
	struct oauth_pending pend = { "", "", "" };
	struct oauth_claims claims;
	const char *code, *state, *perror_code, *iss, *binding;
	char *id_token = NULL;
	bson_oid_t user_id;
	bool created = false, ok = false;

	if (!oauth_provider_load(&req->app->cfg, em_request_path_param(req, "provider"), &p, err))
		return false;
	/* The user said no, or the provider failed: nothing to redeem. */
	perror_code = em_request_query(req, "error");
	if (perror_code) {
		em_info("oauth %s: the provider returned error %.64s", p.name, perror_code);
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL,
			     "the sign-in was cancelled or refused at the provider");
		return false;
	}
	if (!oauth_query_required(req, "code", OAUTH_CODE_MAX, &code, err) ||
	    !oauth_query_required(req, "state", 256, &state, err))
		return false;
	/* RFC 9207: a provider that names itself must be the one we asked. */
	iss = em_request_query(req, "iss");
	if (iss && strcmp(iss, p.issuer) != 0) {
		em_error_set(err, EM_ERR_INVALID, "iss", "the response comes from another issuer");
		return false;
	}
	binding = em_request_cookie(req, OAUTH_BINDING_COOKIE);
	if (!binding || strlen(binding) != OAUTH_SECRET_LEN) {
		em_info("oauth %s: a callback without this browser's login cookie", p.name);
		em_error_set(err, EM_ERR_INVALID, "state",
			     "this sign-in was not started in this browser; start again");
		return false;
	}
	if (!oauth_state_take(req, p.name, state, binding, &pend, err))
		goto done;
	/* the binding is spent with the state */
	if (!em_response_header(req, "Set-Cookie",
				OAUTH_BINDING_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; "
						     "SameSite=Lax")) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot clear the login cookie");
		goto done;
	}
	if (!oauth_discovery_get(&p, &d, err) ||
	    !oauth_code_exchange(&p, &d, code, pend.verifier, &id_token, err) ||
	    !oauth_id_token_check(&p, &d, id_token, pend.nonce, &claims, err) ||
	    !oauth_user_resolve(&req->app->store, p.name, &claims, &user_id, &created, err))
		goto done;
	if (!auth_session_issue(req, &user_id, err))
		goto done;
	if (pend.redirect_after[0] && req->resp.status == 200) {
		char url[EM_CONFIG_STR_MAX + OAUTH_REDIRECT_AFTER_MAX + 8];
		const char *base = req->app->cfg.public_url;
		size_t blen = strlen(base);

		while (blen > 0 && base[blen - 1] == '/')
			blen--;
		snprintf(url, sizeof(url), "%.*s%s", (int)blen, base, pend.redirect_after);
		/* The refresh cookie carries the session; the tokens stay out of
		 * a redirect that browsers may log or prefetch. */
		if (!em_response_header(req, "Location", url)) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot set the redirect");
			goto done;
		}
		em_response_empty(req, 302);
	}
	ok = true;
done:
	sodium_memzero(pend.verifier, sizeof(pend.verifier));
	free(id_token);
	return ok;
}

static const struct em_route auth_oauth_table[] = {
	{ "GET", "/api/v1/auth/oauth/{provider}/authorize", auth_oauth_authorize, EM_ROLE_PUBLIC,
	  EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/auth/oauth/{provider}/callback", auth_oauth_callback, EM_ROLE_PUBLIC,
	  EM_BODY_NONE, NULL },
};

const struct em_route_table auth_oauth_routes = EM_ROUTE_TABLE("oauth", auth_oauth_table);
