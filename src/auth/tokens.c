/*
 * tokens.c - access tokens (JWT HS256), rotating refresh tokens, and the
 * session a login hands out (auth_session_issue, used by password and
 * OAuth login alike).
 *
 * A refresh token is 32 random bytes, sent as base64url; only its SHA-256
 * is stored, so a leaked database does not leak sessions. Every use
 * rotates it: the presented token is marked rotated and a successor in
 * the same family is issued. A rotated token presented again means two
 * parties hold the family (a thief and the owner), so the whole family is
 * revoked and both must sign in again.
 */
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "core/log.h"

#define AUTH_REFRESH_BYTES 32

int64_t auth_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool auth_sodium_ready(void)
{
	/* Idempotent and cheap after the first call; picks the fastest
	 * argon2 code for this CPU. Called lazily because the worker's
	 * start-up belongs to src/http. */
	return sodium_init() >= 0;
}

void auth_random_token(char *out, size_t size, size_t nbytes)
{
	unsigned char buf[64];

	if (nbytes > sizeof(buf))
		nbytes = sizeof(buf);
	randombytes_buf(buf, nbytes);
	sodium_bin2base64(out, size, buf, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(buf, sizeof(buf));
}

void auth_sha256_hex(const char *s, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

void auth_hmac_hex(const struct em_config *cfg, const char *label, const char *msg,
		   char out[65])
{
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES], mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	/* key = HMAC(secret, label): one configured secret, independent keys. */
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)auth_config(cfg)->jwt_secret,
				    strlen(auth_config(cfg)->jwt_secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label));
	crypto_auth_hmacsha256_final(&st, key);
	crypto_auth_hmacsha256_init(&st, key, sizeof(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
	sodium_memzero(key, sizeof(key));
}

void auth_csrf_token(const struct em_config *cfg, const char *refresh_token, char out[65])
{
	auth_hmac_hex(cfg, "csrf", refresh_token, out);
}

char *auth_access_token_mint(const struct em_config *cfg, const char *user_id_hex,
			     const char *role, int64_t now, struct em_error *err)
{
	jwt_t *jwt = NULL;
	unsigned char rnd[16];
	char jti[33];
	char *out = NULL;

	if (!auth_config(cfg)->jwt_secret[0]) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "EMPORIUM_JWT_SECRET is not set");
		return NULL;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(jti, sizeof(jti), rnd, sizeof(rnd));
	if (jwt_new(&jwt) != 0 || !jwt ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)auth_config(cfg)->jwt_secret,
			(int)strlen(auth_config(cfg)->jwt_secret)) != 0 ||
	    jwt_add_grant(jwt, "iss", auth_config(cfg)->jwt_issuer) != 0 ||
	    jwt_add_grant(jwt, "aud", auth_config(cfg)->jwt_audience) != 0 ||
	    jwt_add_grant(jwt, "sub", user_id_hex) != 0 ||
	    jwt_add_grant(jwt, "role", role) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)now + auth_config(cfg)->access_ttl_s) != 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build an access token");
		goto done;
	}
	out = jwt_encode_str(jwt);
	if (!out)
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot sign an access token");
done:
	jwt_free(jwt);
	return out;
}

bool auth_refresh_create(struct em_store *st, const struct em_config *cfg,
			 const bson_oid_t *user_id, const char *family_id, char *out,
			 size_t size, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t doc = BSON_INITIALIZER;
	bson_error_t berr;
	char hash[65], fam[33];
	int64_t now = auth_now_ms();
	bool ok = false;

	if (size < sodium_base64_ENCODED_LEN(AUTH_REFRESH_BYTES,
					     sodium_base64_VARIANT_URLSAFE_NO_PADDING)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "refresh token buffer too small");
		return false;
	}
	if (!family_id) {
		unsigned char rnd[16];

		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(fam, sizeof(fam), rnd, sizeof(rnd));
		family_id = fam;
	}
	auth_random_token(out, size, AUTH_REFRESH_BYTES);
	auth_sha256_hex(out, hash);
	BSON_APPEND_UTF8(&doc, "hash", hash);
	BSON_APPEND_OID(&doc, "user_id", user_id);
	BSON_APPEND_UTF8(&doc, "family_id", family_id);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "expires_at", now + (int64_t)auth_config(cfg)->refresh_ttl_s * 1000);
	BSON_APPEND_NULL(&doc, "rotated_at");
	BSON_APPEND_NULL(&doc, "revoked_at");
	coll = store_collection(st, "refresh_tokens");
	if (!mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "store refresh token");
		goto done;
	}
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	return ok;
}

static bool auth_refresh_refused(struct em_error *err, const char *why)
{
	em_info("refresh token refused: %s", why);
	em_error_set(err, EM_ERR_UNAUTHENTICATED, "refresh_token",
		     "the refresh token is invalid, expired or revoked");
	return false;
}

/* Sets revoked_at on every live token of filter (a family or a user). */
static bool auth_refresh_revoke(struct em_store *st, const bson_t *match, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "refresh_tokens");
	bson_t *update = BCON_NEW("$set", "{", "revoked_at", BCON_DATE_TIME(auth_now_ms()), "}");
	bson_t filter = BSON_INITIALIZER;
	bson_error_t berr;
	bool ok;

	bson_concat(&filter, match);
	BSON_APPEND_NULL(&filter, "revoked_at");
	ok = mongoc_collection_update_many(coll, &filter, update, NULL, NULL, &berr);
	if (!ok)
		store_error_set(err, &berr, "revoke refresh tokens");
	bson_destroy(&filter);
	bson_destroy(update);
	mongoc_collection_destroy(coll);
	return ok;
}

bool auth_refresh_rotate(struct em_store *st, const struct em_config *cfg,
			 const char *token, bson_oid_t *user_id, char *out, size_t size,
			 struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	mongoc_find_and_modify_opts_t *fam = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, reply, set, gt;
	bson_t by_hash = BSON_INITIALIZER, found = BSON_INITIALIZER, *fam_match = NULL;
	bson_error_t berr;
	bson_iter_t it;
	char hash[65], family[33] = "";
	int64_t now = auth_now_ms();
	bool ok = false, exists = false;
	const char *s;

	if (!token || strlen(token) < 20 || strlen(token) > 128)
		return auth_refresh_refused(err, "malformed");
	auth_sha256_hex(token, hash);
	/* Mark the current token rotated, atomically: two concurrent uses of
	 * one token cannot both succeed. */
	BSON_APPEND_UTF8(&filter, "hash", hash);
	BSON_APPEND_NULL(&filter, "rotated_at");
	BSON_APPEND_NULL(&filter, "revoked_at");
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "expires_at", &gt);
	BSON_APPEND_DATE_TIME(&gt, "$gt", now);
	bson_append_document_end(&filter, &gt);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_DATE_TIME(&set, "rotated_at", now);
	bson_append_document_end(&update, &set);
	coll = store_collection(st, "refresh_tokens");
	fam = mongoc_find_and_modify_opts_new();
	mongoc_find_and_modify_opts_set_update(fam, &update);
	/* reply is initialised by the call, on success and failure alike */
	if (!mongoc_collection_find_and_modify_with_opts(coll, &filter, fam, &reply, &berr)) {
		store_error_set(err, &berr, "rotate refresh token");
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;

		bson_iter_document(&it, &len, &data);
		bson_destroy(&found);
		if (!bson_init_static(&found, data, len)) {
			bson_init(&found);
			em_error_set(err, EM_ERR_INTERNAL, NULL, "bad refresh token document");
			goto done;
		}
		exists = true;
	}
	if (!exists) {
		/* Not current: find out whether it is a reuse of a rotated one. */
		mongoc_cursor_t *cur;
		const bson_t *doc;

		BSON_APPEND_UTF8(&by_hash, "hash", hash);
		cur = mongoc_collection_find_with_opts(coll, &by_hash, NULL, NULL);
		if (mongoc_cursor_next(cur, &doc)) {
			bson_iter_t ri;

			s = auth_doc_utf8(doc, "family_id");
			if (s)
				snprintf(family, sizeof(family), "%s", s);
			if (bson_iter_init_find(&ri, doc, "rotated_at") &&
			    BSON_ITER_HOLDS_DATE_TIME(&ri) && family[0]) {
				fam_match = BCON_NEW("family_id", BCON_UTF8(family));
				em_warn("refresh token reuse: revoking family %s", family);
			}
		} else if (mongoc_cursor_error(cur, &berr)) {
			store_error_set(err, &berr, "find refresh token");
			mongoc_cursor_destroy(cur);
			goto done;
		}
		mongoc_cursor_destroy(cur);
		if (fam_match && !auth_refresh_revoke(st, fam_match, err))
			goto done;
		auth_refresh_refused(err, fam_match ? "reuse of a rotated token" : "not current");
		goto done;
	}
	s = auth_doc_utf8(&found, "family_id");
	if (!s || !auth_doc_oid(&found, "user_id", user_id)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "bad refresh token document");
		goto done;
	}
	snprintf(family, sizeof(family), "%s", s);
	if (!auth_refresh_create(st, cfg, user_id, family, out, size, err))
		goto done;
	/*
	 * A concurrent reuse of this token may have revoked the family
	 * between the rotation above and the successor's insert, missing the
	 * successor. Checked after the insert: either that revocation saw
	 * the successor, or this sees the rotated token revoked and revokes
	 * the family again (tests/integration/test_races.c).
	 */
	{
		bson_t rev = BSON_INITIALIZER, type;
		int64_t n;

		if (!bson_iter_init_find(&it, &found, "_id") || !BSON_ITER_HOLDS_OID(&it)) {
			bson_destroy(&rev);
			em_error_set(err, EM_ERR_INTERNAL, NULL, "bad refresh token document");
			goto done;
		}
		BSON_APPEND_OID(&rev, "_id", bson_iter_oid(&it));
		BSON_APPEND_DOCUMENT_BEGIN(&rev, "revoked_at", &type);
		BSON_APPEND_UTF8(&type, "$type", "date");
		bson_append_document_end(&rev, &type);
		n = mongoc_collection_count_documents(coll, &rev, NULL, NULL, NULL, &berr);
		bson_destroy(&rev);
		if (n < 0) {
			store_error_set(err, &berr, "check refresh token family");
			goto done;
		}
		if (n > 0) {
			fam_match = BCON_NEW("family_id", BCON_UTF8(family));
			if (auth_refresh_revoke(st, fam_match, err))
				auth_refresh_refused(err, "reuse of a rotated token");
			goto done;
		}
	}
	ok = true;
done:
	if (fam)
		mongoc_find_and_modify_opts_destroy(fam);
	if (coll)
		mongoc_collection_destroy(coll);
	if (fam_match)
		bson_destroy(fam_match);
	bson_destroy(&found);
	bson_destroy(&by_hash);
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	return ok;
}

bool auth_refresh_revoke_family(struct em_store *st, const char *token, struct em_error *err)
{
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t filter = BSON_INITIALIZER, *match = NULL;
	bson_error_t berr;
	char hash[65];
	const char *fam;
	bool ok = true;

	if (!token || !*token || strlen(token) > 128)
		return true;
	auth_sha256_hex(token, hash);
	BSON_APPEND_UTF8(&filter, "hash", hash);
	coll = store_collection(st, "refresh_tokens");
	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		fam = auth_doc_utf8(doc, "family_id");
		if (fam)
			match = BCON_NEW("family_id", BCON_UTF8(fam));
	} else if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "find refresh token");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	if (ok && match)
		ok = auth_refresh_revoke(st, match, err);
	if (match)
		bson_destroy(match);
	bson_destroy(&filter);
	return ok;
}

bool auth_refresh_revoke_user(struct em_store *st, const bson_oid_t *user_id,
			      struct em_error *err)
{
	bson_t *match = BCON_NEW("user_id", BCON_OID(user_id));
	bool ok = auth_refresh_revoke(st, match, err);

	bson_destroy(match);
	return ok;
}

/* Set-Cookie for the refresh token and its CSRF companion. */
static void auth_session_cookies(struct em_request *req, const char *refresh,
				 const char *csrf, int max_age)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d",
		 AUTH_REFRESH_COOKIE, refresh, max_age);
	em_response_header(req, "Set-Cookie", buf);
	/* Readable by the shop's script, which echoes it in X-CSRF-Token. */
	snprintf(buf, sizeof(buf), "%s=%s; Path=/; Secure; SameSite=Strict; Max-Age=%d",
		 AUTH_CSRF_COOKIE, csrf, max_age);
	em_response_header(req, "Set-Cookie", buf);
}

void auth_session_cookies_clear(struct em_request *req)
{
	auth_session_cookies(req, "", "", 0);
}

bool auth_session_respond(struct em_request *req, const bson_oid_t *user_id,
			  const char *refresh, struct em_error *err)
{
	const struct em_config *cfg = &req->app->cfg;
	bson_t user = BSON_INITIALIZER;
	json_object *o = NULL;
	char oidhex[25], csrf[65];
	char *access = NULL;
	const char *role;
	bool found = false, ok = false;

	if (!auth_user_find_by_id(&req->app->store, user_id, &user, &found, err))
		goto done;
	if (!found || auth_doc_bool(&user, "disabled")) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "this account cannot sign in");
		goto done;
	}
	role = auth_doc_utf8(&user, "role");
	if (!role) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "user without a role");
		goto done;
	}
	bson_oid_to_string(user_id, oidhex);
	access = auth_access_token_mint(cfg, oidhex, role, time(NULL), err);
	if (!access)
		goto done;
	auth_csrf_token(cfg, refresh, csrf);
	o = json_object_new_object();
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	json_object_object_add(o, "access_token", json_object_new_string(access));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in", json_object_new_int(auth_config(cfg)->access_ttl_s));
	json_object_object_add(o, "refresh_token", json_object_new_string(refresh));
	json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
	auth_session_cookies(req, refresh, csrf, auth_config(cfg)->refresh_ttl_s);
	em_response_json(req, 200, o);
	ok = true;
done:
	free(access);
	bson_destroy(&user);
	return ok;
}

bool auth_session_issue(struct em_request *req, const bson_oid_t *user_id,
			struct em_error *err)
{
	char refresh[64];
	bool ok;

	if (!auth_refresh_create(&req->app->store, &req->app->cfg, user_id, NULL, refresh,
				 sizeof(refresh), err))
		return false;
	ok = auth_session_respond(req, user_id, refresh, err);
	sodium_memzero(refresh, sizeof(refresh));
	return ok;
}
