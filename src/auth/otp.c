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
 * AUTH_CODE_MAX_ATTEMPTS tries, or when used.
 *
 * Guessing is bounded three ways: a try is counted before the comparison,
 * atomically (so parallel guesses cannot all read "attempts < 5"); wrong
 * codes count against the address's budget across reissues (10 a day:
 * asking for a new code does not buy new guesses); and the routes limit
 * code checks per client address.
 *
 * The plain code exists only in the worker process that mails it
 * (mail_job.c): it is made there, hashed here, and put into the message,
 * never into the job document.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "core/log.h"

void auth_code_hash(const struct em_config *cfg, const bson_oid_t *user_id,
		    const char *purpose, const char *code, char out[65])
{
	char hex[25], msg[96];

	bson_oid_to_string(user_id, hex);
	snprintf(msg, sizeof(msg), "%s|%s|%s", hex, purpose, code);
	auth_hmac_hex(cfg, "otp", msg, out);
}

bool auth_code_issue(struct em_store *st, const struct em_config *cfg,
		     const bson_oid_t *user_id, const char *purpose, const bson_oid_t *job_id,
		     bool *sent, char code[7], struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "email_codes");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_t set, or, c1, c2, c3, lt;
	bson_t reply;
	bson_error_t berr;
	char hash[65];
	int64_t now = em_now_ms();
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
	/* this job's own earlier attempt (its mail never went out) */
	BSON_APPEND_DOCUMENT_BEGIN(&or, "2", &c3);
	BSON_APPEND_OID(&c3, "job_id", job_id);
	bson_append_document_end(&or, &c3);
	bson_append_array_end(&filter, &or);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "hash", hash);
	BSON_APPEND_INT32(&set, "attempts", 0);
	BSON_APPEND_DATE_TIME(&set, "expires_at", now + (int64_t)AUTH_CODE_TTL_S * 1000);
	BSON_APPEND_DATE_TIME(&set, "last_sent_at", now);
	BSON_APPEND_OID(&set, "job_id", job_id);
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

/*
 * Every refusal is this one 400, a spent budget included: a different
 * answer there would tell a guesser which addresses have accounts.
 */
static bool auth_code_refused(struct em_error *err)
{
	em_error_set(err, EM_ERR_INVALID, "code",
		     "the code is wrong, used or expired (after too many wrong codes, none "
		     "works for a day)");
	return false;
}

/* Deletes every live code of a user (its budget is spent). */
static bool auth_codes_drop(mongoc_collection_t *coll, const bson_oid_t *user_id,
			    struct em_error *err)
{
	bson_t *filter = BCON_NEW("user_id", BCON_OID(user_id));
	bson_error_t berr;
	bool ok = mongoc_collection_delete_many(coll, filter, NULL, NULL, &berr);

	if (!ok)
		store_error_set(err, &berr, "drop one-time codes");
	bson_destroy(filter);
	return ok;
}

/*
 * Takes one try of the live code of (user, purpose): findAndModify
 * {attempts < max} -> {$inc: attempts}, so the count is taken before the
 * comparison and no two requests can share one try. *doc_out receives the
 * code document (empty when none was live or tries are used up).
 */
static bool auth_code_try_take(mongoc_collection_t *coll, const bson_oid_t *user_id,
			       const char *purpose, bson_t *doc_out, bool *taken,
			       struct em_error *err)
{
	mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
	bson_t filter = BSON_INITIALIZER, gt, reply;
	bson_t *update = BCON_NEW("$inc", "{", "attempts", BCON_INT32(1), "}");
	bson_error_t berr;
	bson_iter_t it;
	bool ok = false;

	*taken = false;
	BSON_APPEND_OID(&filter, "user_id", user_id);
	BSON_APPEND_UTF8(&filter, "purpose", purpose);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "expires_at", &gt);
	BSON_APPEND_DATE_TIME(&gt, "$gt", em_now_ms());
	bson_append_document_end(&filter, &gt);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "attempts", &gt);
	BSON_APPEND_INT32(&gt, "$lt", AUTH_CODE_MAX_ATTEMPTS);
	bson_append_document_end(&filter, &gt);
	mongoc_find_and_modify_opts_set_update(fam, update);
	if (!mongoc_collection_find_and_modify_with_opts(coll, &filter, fam, &reply, &berr)) {
		store_error_set(err, &berr, "count a code attempt");
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t view;

		bson_iter_document(&it, &len, &data);
		if (bson_init_static(&view, data, len)) {
			bson_destroy(doc_out);
			bson_copy_to(&view, doc_out);
			*taken = true;
		}
	}
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(update);
	bson_destroy(&filter);
	mongoc_find_and_modify_opts_destroy(fam);
	return ok;
}

bool auth_code_check(struct em_store *st, const struct em_config *cfg, const char *email,
		     const bson_oid_t *user_id, const char *purpose, const char *code,
		     struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "email_codes");
	bson_t doc = BSON_INITIALIZER, filter = BSON_INITIALIZER;
	bson_error_t berr;
	bson_iter_t it;
	bson_oid_t code_id;
	char want[65], budget_key[300];
	const char *have;
	int count, retry;
	bool ok = false, taken = false, match = false;

	snprintf(budget_key, sizeof(budget_key), "code-fail|%s", email);
	/* A spent budget refuses every code, the right one included, until
	 * its window ends: new codes buy no new guesses. */
	if (!auth_throttle_peek(st, budget_key, &count, &retry, err))
		goto done;
	if (count >= AUTH_CODE_FAIL_BUDGET) {
		em_info("one-time code refused: the address's budget is spent for %d s", retry);
		auth_code_refused(err);
		goto done;
	}
	if (strlen(code) == 6 && strspn(code, "0123456789") == 6 && user_id) {
		if (!auth_code_try_take(coll, user_id, purpose, &doc, &taken, err))
			goto done;
		if (taken) {
			have = auth_doc_utf8(&doc, "hash");
			auth_code_hash(cfg, user_id, purpose, code, want);
			match = have && strlen(have) == 64 && auth_doc_oid(&doc, "_id", &code_id) &&
				sodium_memcmp(want, have, 64) == 0;
		}
	}
	if (!match && !taken) {
		/* No live code, or its tries are used up: nothing was compared
		 * (late duplicates of a right code land here too), so nothing
		 * is spent. */
		auth_code_refused(err);
		goto done;
	}
	if (!match) {
		/* A wrong code was compared: it costs one of the budget. */
		if (!auth_throttle_hit(st, budget_key, AUTH_CODE_FAIL_WINDOW_S, &count, NULL, err))
			goto done;
		if (count >= AUTH_CODE_FAIL_BUDGET) {
			em_info("one-time codes: budget spent; the account's codes are dropped");
			if (!auth_codes_drop(coll, user_id, err))
				goto done;
		}
		auth_code_refused(err);
		goto done;
	}
	/*
	 * Single use: whoever deletes it first wins, so two racing requests
	 * with the right code cannot both act on it.
	 */
	BSON_APPEND_OID(&filter, "_id", &code_id);
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
	sodium_memzero(want, sizeof(want));
	bson_destroy(&doc);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	return ok;
}
