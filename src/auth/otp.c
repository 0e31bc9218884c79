/*
 * otp.c - 6-digit one-time codes mailed for e-mail verification and
 * password reset.
 *
 * Only an HMAC of the code is stored (keyed by a key derived from the JWT
 * secret, over the user, the purpose and the code), so a database dump
 * does not give away live codes, and a code for one user or purpose is
 * worth nothing for another. There is one live code per (user, purpose);
 * a new one replaces it. A code dies after 10 minutes (TTL index, and
 * checked here because the TTL monitor runs only once a minute), after
 * AUTH_CODE_MAX_ATTEMPTS wrong tries, or when used.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"

void auth_code_hash(const struct em_config *cfg, const bson_oid_t *user_id,
		    const char *purpose, const char *code, char out[65])
{
	char hex[25], msg[96];

	bson_oid_to_string(user_id, hex);
	snprintf(msg, sizeof(msg), "%s|%s|%s", hex, purpose, code);
	auth_hmac_hex(cfg, "otp", msg, out);
}

bool auth_code_issue(struct em_store *st, const struct em_config *cfg,
		     const bson_oid_t *user_id, const char *purpose, bool *sent,
		     char code[7], struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "email_codes");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_t set, or, c1, c2, lt;
	bson_t reply;
	bson_error_t berr;
	char hash[65];
	int64_t now = auth_now_ms();
	bool ok = false;

	*sent = false;
	snprintf(code, 7, "%06u", (unsigned)randombytes_uniform(1000000));
	auth_code_hash(cfg, user_id, purpose, code, hash);
	/*
	 * Replace the pair's code unless one went out within the cooldown:
	 * the filter only matches an old enough code (or none, via upsert);
	 * a recent one makes the upsert collide with the unique (user_id,
	 * purpose) index, which is the "too soon" answer.
	 */
	BSON_APPEND_OID(&filter, "user_id", user_id);
	BSON_APPEND_UTF8(&filter, "purpose", purpose);
	BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &or);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &c1);
	BSON_APPEND_DOCUMENT_BEGIN(&c1, "last_sent_at", &lt);
	BSON_APPEND_DATE_TIME(&lt, "$lte", now - (int64_t)AUTH_CODE_RESEND_S * 1000);
	bson_append_document_end(&c1, &lt);
	bson_append_document_end(&or, &c1);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &c2);
	BSON_APPEND_DOCUMENT_BEGIN(&c2, "expires_at", &lt);
	BSON_APPEND_DATE_TIME(&lt, "$lte", now);
	bson_append_document_end(&c2, &lt);
	bson_append_document_end(&or, &c2);
	bson_append_array_end(&filter, &or);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "hash", hash);
	BSON_APPEND_INT32(&set, "attempts", 0);
	BSON_APPEND_DATE_TIME(&set, "expires_at", now + (int64_t)AUTH_CODE_TTL_S * 1000);
	BSON_APPEND_DATE_TIME(&set, "last_sent_at", now);
	bson_append_document_end(&update, &set);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, &berr)) {
		bson_destroy(&reply);
		if (store_error_is_duplicate(&berr)) {
			ok = true; /* a code went out moments ago: no new one */
			goto done;
		}
		store_error_set(err, &berr, "store one-time code");
		goto done;
	}
	bson_destroy(&reply);
	*sent = true;
	ok = true;
done:
	if (!*sent)
		sodium_memzero(code, 7);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

static bool auth_code_refused(struct em_error *err)
{
	em_error_set(err, EM_ERR_INVALID, "code", "the code is wrong, used or expired");
	return false;
}

bool auth_code_check(struct em_store *st, const struct em_config *cfg,
		     const bson_oid_t *user_id, const char *purpose, const char *code,
		     struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "email_codes");
	mongoc_cursor_t *cur = NULL;
	bson_t filter = BSON_INITIALIZER, gt;
	const bson_t *doc;
	bson_error_t berr;
	bson_iter_t it;
	bson_oid_t code_id;
	char want[65];
	const char *have;
	int64_t now = auth_now_ms();
	bool ok = false;

	if (strlen(code) != 6 || strspn(code, "0123456789") != 6) {
		auth_code_refused(err);
		goto done;
	}
	BSON_APPEND_OID(&filter, "user_id", user_id);
	BSON_APPEND_UTF8(&filter, "purpose", purpose);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "expires_at", &gt);
	BSON_APPEND_DATE_TIME(&gt, "$gt", now);
	bson_append_document_end(&filter, &gt);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "attempts", &gt);
	BSON_APPEND_INT32(&gt, "$lt", AUTH_CODE_MAX_ATTEMPTS);
	bson_append_document_end(&filter, &gt);
	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	if (!mongoc_cursor_next(cur, &doc)) {
		if (mongoc_cursor_error(cur, &berr))
			store_error_set(err, &berr, "load one-time code");
		else
			auth_code_refused(err);
		goto done;
	}
	have = auth_doc_utf8(doc, "hash");
	if (!have || strlen(have) != 64 || !auth_doc_oid(doc, "_id", &code_id)) {
		auth_code_refused(err);
		goto done;
	}
	auth_code_hash(cfg, user_id, purpose, code, want);
	bson_reinit(&filter);
	BSON_APPEND_OID(&filter, "_id", &code_id);
	if (sodium_memcmp(want, have, 64) != 0) {
		/* Count the miss; the attempts filter above retires the code. */
		bson_t *inc = BCON_NEW("$inc", "{", "attempts", BCON_INT32(1), "}");
		bool w = mongoc_collection_update_one(coll, &filter, inc, NULL, NULL, &berr);

		bson_destroy(inc);
		if (!w)
			store_error_set(err, &berr, "count a code attempt");
		else
			auth_code_refused(err);
		goto done;
	}
	/*
	 * Single use: whoever deletes it first wins, so two racing requests
	 * with the right code cannot both act on it.
	 */
	{
		bson_t reply;
		bool d = mongoc_collection_delete_one(coll, &filter, NULL, &reply, &berr);
		int64_t n = 0;

		if (d && bson_iter_init_find(&it, &reply, "deletedCount"))
			n = bson_iter_as_int64(&it);
		bson_destroy(&reply);
		if (!d) {
			store_error_set(err, &berr, "use a code");
			goto done;
		}
		if (n != 1) {
			auth_code_refused(err);
			goto done;
		}
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	return ok;
}
