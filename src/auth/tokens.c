/*
 * tokens.c - access tokens (JWT HS256), rotating refresh tokens, and what
 * a sign-in hands out (auth_session_make; session_http.c writes it out).
 *
 * A refresh token is 32 random bytes, sent as base64url; only its SHA-256
 * is stored, so a leaked database does not leak sessions. Every use
 * rotates it: the presented token is marked rotated and a successor in
 * the same family is issued. A rotated token presented again means two
 * parties hold the family (a thief and the owner), so the whole family is
 * revoked and both must sign in again.
 *
 * A family has an absolute end: family_created_at (the sign-in) plus
 * EMPORIUM_REFRESH_FAMILY_MAX_AGE. Every successor inherits
 * family_created_at and expires no later than that end, so a stolen or
 * squatted session cannot be kept alive forever by rotating it.
 *
 * Access tokens carry the user's token_version ("tv"); bumping it
 * (auth_user_token_version_bump) ends every access token of the user
 * before its exp, since the authenticator compares it with the user
 * document it reads anyway.
 */
#include <jwt.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/accounts.h"
#include "auth/auth_config.h"
#include "core/log.h"
#include "store/txn.h"

#define AUTH_REFRESH_BYTES 32

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
			     const char *role, int64_t token_version, int64_t now,
			     struct em_error *err)
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
	    jwt_add_grant_int(jwt, "tv", (long)token_version) != 0 ||
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

/*
 * Stores a token of family (NULL: a new one, started now) into out;
 * family_start_ms is when the family began (its absolute end follows).
 */
static bool auth_refresh_store(struct em_store *st, const struct em_config *cfg,
			       const bson_oid_t *user_id, const char *family,
			       int64_t family_start_ms, struct auth_refresh *out,
			       struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t doc = BSON_INITIALIZER;
	bson_error_t berr;
	char hash[65], fam[33];
	int64_t now = em_now_ms(), end;
	bool ok = false;

	if (!family) {
		unsigned char rnd[16];

		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(fam, sizeof(fam), rnd, sizeof(rnd));
		family = fam;
		family_start_ms = now;
	}
	end = family_start_ms + (int64_t)auth_config(cfg)->refresh_family_max_age_s * 1000;
	out->expires_ms = now + (int64_t)auth_config(cfg)->refresh_ttl_s * 1000;
	if (out->expires_ms > end)
		out->expires_ms = end;
	bson_oid_copy(user_id, &out->user_id);
	auth_random_token(out->token, sizeof(out->token), AUTH_REFRESH_BYTES);
	auth_sha256_hex(out->token, hash);
	BSON_APPEND_UTF8(&doc, "hash", hash);
	BSON_APPEND_OID(&doc, "user_id", user_id);
	BSON_APPEND_UTF8(&doc, "family_id", family);
	BSON_APPEND_DATE_TIME(&doc, "family_created_at", family_start_ms);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "expires_at", out->expires_ms);
	BSON_APPEND_NULL(&doc, "rotated_at");
	BSON_APPEND_NULL(&doc, "revoked_at");
	coll = store_collection(st, "refresh_tokens");
	if (!mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "store refresh token");
		goto done;
	}
	ok = true;
done:
	if (!ok)
		sodium_memzero(out->token, sizeof(out->token));
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	return ok;
}

bool auth_refresh_create(struct em_store *st, const struct em_config *cfg,
			 const bson_oid_t *user_id, struct auth_refresh *out,
			 struct em_error *err)
{
	return auth_refresh_store(st, cfg, user_id, NULL, 0, out, err);
}

static bool auth_refresh_refused(struct em_error *err, const char *why)
{
	em_info("refresh token refused: %s", why);
	em_error_set(err, EM_ERR_UNAUTHENTICATED, "refresh_token",
		     "the refresh token is invalid, expired or revoked");
	return false;
}

/* Sets revoked_at on every live token of match (a family or a user). */
static bool auth_refresh_revoke(struct em_store *st, mongoc_client_session_t *session,
				const bson_t *match, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "refresh_tokens");
	bson_t *update = BCON_NEW("$set", "{", "revoked_at", BCON_DATE_TIME(em_now_ms()), "}");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_error_t berr;
	bool ok = false;

	bson_concat(&filter, match);
	BSON_APPEND_NULL(&filter, "revoked_at");
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	ok = mongoc_collection_update_many(coll, &filter, update, &opts, NULL, &berr);
	if (!ok)
		store_error_set(err, &berr, "revoke refresh tokens");
done:
	bson_destroy(&opts);
	bson_destroy(&filter);
	bson_destroy(update);
	mongoc_collection_destroy(coll);
	return ok;
}

/* Reads a date field of doc into *out; false when absent. */
static bool auth_doc_date(const bson_t *doc, const char *key, int64_t *out)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DATE_TIME(&it))
		return false;
	*out = bson_iter_date_time(&it);
	return true;
}

bool auth_refresh_rotate(struct em_store *st, const struct em_config *cfg,
			 const char *token, struct auth_refresh *out, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	mongoc_find_and_modify_opts_t *fam = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, reply, set, gt;
	bson_t by_hash = BSON_INITIALIZER, found = BSON_INITIALIZER, *fam_match = NULL;
	bson_error_t berr;
	bson_iter_t it;
	bson_oid_t user_id;
	char hash[65], family[33] = "";
	int64_t now = em_now_ms(), started = 0;
	bool ok = false, exists = false;
	const char *s;

	bson_init(&reply);
	if (!token || strlen(token) < 20 || strlen(token) > 128)
		return auth_refresh_refused(err, "malformed");
	auth_sha256_hex(token, hash);
	/* Mark the current token rotated, atomically: two concurrent uses of
	 * one token cannot both succeed. A family past its absolute end is
	 * not current, whatever the token's own expiry says. */
	BSON_APPEND_UTF8(&filter, "hash", hash);
	BSON_APPEND_NULL(&filter, "rotated_at");
	BSON_APPEND_NULL(&filter, "revoked_at");
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "expires_at", &gt);
	BSON_APPEND_DATE_TIME(&gt, "$gt", now);
	bson_append_document_end(&filter, &gt);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "family_created_at", &gt);
	BSON_APPEND_DATE_TIME(&gt, "$gt",
			      now - (int64_t)auth_config(cfg)->refresh_family_max_age_s * 1000);
	bson_append_document_end(&filter, &gt);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_DATE_TIME(&set, "rotated_at", now);
	bson_append_document_end(&update, &set);
	coll = store_collection(st, "refresh_tokens");
	fam = mongoc_find_and_modify_opts_new();
	mongoc_find_and_modify_opts_set_update(fam, &update);
	bson_destroy(&reply);
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
		if (fam_match && !auth_refresh_revoke(st, NULL, fam_match, err))
			goto done;
		auth_refresh_refused(err, fam_match ? "reuse of a rotated token"
						    : "not current (or its family is too old)");
		goto done;
	}
	s = auth_doc_utf8(&found, "family_id");
	if (!s || !auth_doc_oid(&found, "user_id", &user_id) ||
	    !auth_doc_date(&found, "family_created_at", &started)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "bad refresh token document");
		goto done;
	}
	snprintf(family, sizeof(family), "%s", s);
	if (!auth_refresh_store(st, cfg, &user_id, family, started, out, err))
		goto done;
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
	bson_oid_t uid;
	char hash[65];
	const char *fam;
	bool ok = true, has_user = false;

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
		has_user = auth_doc_oid(doc, "user_id", &uid);
	} else if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "find refresh token");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	if (ok && match)
		ok = auth_refresh_revoke(st, NULL, match, err);
	/* The access token of this session must not outlive the logout. */
	if (ok && has_user)
		ok = auth_user_token_version_bump(st, NULL, &uid, err);
	if (match)
		bson_destroy(match);
	bson_destroy(&filter);
	return ok;
}

bool auth_refresh_revoke_user(struct em_store *st, mongoc_client_session_t *session,
			      const bson_oid_t *user_id, struct em_error *err)
{
	bson_t *match = BCON_NEW("user_id", BCON_OID(user_id));
	bool ok = auth_refresh_revoke(st, session, match, err);

	bson_destroy(match);
	return ok;
}

bool auth_user_token_version_bump(struct em_store *st, mongoc_client_session_t *session,
				  const bson_oid_t *user_id, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "users");
	bson_t *filter = BCON_NEW("_id", BCON_OID(user_id));
	/* int64: it only ever grows, and an absent field starts at 0 */
	bson_t *update = BCON_NEW("$inc", "{", "token_version", BCON_INT64(1), "}");
	bson_t opts = BSON_INITIALIZER;
	bson_error_t berr;
	bool ok = false;

	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	ok = mongoc_collection_update_one(coll, filter, update, &opts, NULL, &berr);
	if (!ok)
		store_error_set(err, &berr, "bump token_version");
done:
	bson_destroy(&opts);
	bson_destroy(update);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

bool auth_user_sessions_revoke(struct em_store *st, mongoc_client_session_t *session,
			       const bson_oid_t *user_id, struct em_error *err)
{
	return auth_refresh_revoke_user(st, session, user_id, err) &&
	       auth_user_token_version_bump(st, session, user_id, err);
}

bool auth_session_make(struct em_store *st, const struct em_config *cfg,
		       const struct auth_refresh *rt, struct auth_session *out,
		       struct em_error *err)
{
	bson_t user = BSON_INITIALIZER;
	bson_iter_t it;
	char oidhex[25];
	const char *role;
	int64_t tv = 0, left;
	bool found = false, ok = false;

	memset(out, 0, sizeof(*out));
	if (!auth_user_find_by_id(st, &rt->user_id, &user, &found, err))
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
	if (bson_iter_init_find(&it, &user, "token_version") && BSON_ITER_HOLDS_NUMBER(&it))
		tv = bson_iter_as_int64(&it);
	bson_oid_to_string(&rt->user_id, oidhex);
	out->access = auth_access_token_mint(cfg, oidhex, role, tv, time(NULL), err);
	if (!out->access)
		goto done;
	auth_csrf_token(cfg, rt->token, out->csrf);
	out->expires_in = auth_config(cfg)->access_ttl_s;
	left = (rt->expires_ms - em_now_ms()) / 1000;
	out->refresh_max_age = left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
	ok = true;
done:
	bson_destroy(&user);
	return ok;
}

void auth_session_release(struct auth_session *s)
{
	free(s->access);
	s->access = NULL;
	sodium_memzero(s->csrf, sizeof(s->csrf));
}
