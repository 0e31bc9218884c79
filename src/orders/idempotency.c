/*
 * idempotency.c - Idempotency-Key for order placement (Stripe's rules):
 * keys are scoped to the account; the first request with a key stores a
 * fingerprint of its body and, in the same transaction as the order, its
 * response; a retry with the same key and body gets that response again
 * (Idempotent-Replayed: true), the same key with another body a 422, a
 * retry while the first still runs a 409 with Retry-After. Keys expire
 * after 24 h (TTL index). Refusals change nothing and are not stored.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/time.h"
#include "orders/orders_internal.h"
#include "store/txn.h"

#define IDEM_WAIT_MS 3000
#define IDEM_POLL_MS 50
#define IDEM_DUPLICATE_KEY 11000

void orders_idem_fingerprint(const char *method, const char *path, const char *body,
			     size_t len, char out[65])
{
	crypto_hash_sha256_state h;
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)method, strlen(method) + 1);
	crypto_hash_sha256_update(&h, (const unsigned char *)path, strlen(path) + 1);
	if (body && len)
		crypto_hash_sha256_update(&h, (const unsigned char *)body, len);
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(out, 65, d, sizeof d);
}

static void idem_filter(bson_t *f, const bson_oid_t *user, const char *key)
{
	BSON_APPEND_OID(f, "user_id", user);
	BSON_APPEND_UTF8(f, "key", key);
}

/* The stored claim of (user, key); *found false when there is none. */
static bool idem_read(mongoc_collection_t *coll, const bson_oid_t *user, const char *key,
		      bson_t *out, bool *found, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = true;

	*found = false;
	idem_filter(&filter, user, key);
	/* primary reads: a claim just written must be seen */
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		*found = true;
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "read idempotency key");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	return ok;
}

static const char *idem_str(const bson_t *doc, const char *k)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, k) && BSON_ITER_HOLDS_UTF8(&it) ?
		       bson_iter_utf8(&it, NULL) : "";
}

static int64_t idem_date(const bson_t *doc, const char *k)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, k) && BSON_ITER_HOLDS_DATE_TIME(&it) ?
		       bson_iter_date_time(&it) : 0;
}

/* Takes over a claim whose request died (started before `stale`). */
static bool idem_takeover(mongoc_collection_t *coll, const bson_oid_t *user, const char *key,
			  int64_t stale, bool *taken, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, lt, reply;
	bson_t *update = BCON_NEW("$set", "{", "started_at", BCON_DATE_TIME(em_now_ms()), "}");
	bson_error_t berr;
	bson_iter_t it;
	bool ok;

	idem_filter(&filter, user, key);
	BSON_APPEND_UTF8(&filter, "state", "running");
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "started_at", &lt);
	BSON_APPEND_DATE_TIME(&lt, "$lt", stale);
	bson_append_document_end(&filter, &lt);
	ok = mongoc_collection_update_one(coll, &filter, update, NULL, &reply, &berr);
	if (!ok)
		store_error_set(err, &berr, "take over idempotency key");
	*taken = ok && bson_iter_init_find(&it, &reply, "modifiedCount") &&
		 bson_iter_as_int64(&it) == 1;
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(update);
	return ok;
}

bool orders_idem_begin(struct em_store *st, const bson_oid_t *user, const char *key,
		       const char *fingerprint, int lease_s, enum orders_idem_outcome *outcome,
		       int *status, char **body, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "idempotency_keys");
	bson_t doc = BSON_INITIALIZER, have = BSON_INITIALIZER;
	bson_error_t berr;
	int64_t now = em_now_ms(), waited = 0;
	bool ok = false, found;

	*body = NULL;
	BSON_APPEND_OID(&doc, "user_id", user);
	BSON_APPEND_UTF8(&doc, "key", key);
	BSON_APPEND_UTF8(&doc, "fingerprint", fingerprint);
	BSON_APPEND_UTF8(&doc, "state", "running");
	BSON_APPEND_DATE_TIME(&doc, "started_at", now);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	if (mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
		*outcome = ORDERS_IDEM_PROCEED;
		ok = true;
		goto done;
	}
	if (berr.code != IDEM_DUPLICATE_KEY) {
		store_error_set(err, &berr, "claim idempotency key");
		goto done;
	}
	for (;;) {
		/* bson_copy_to in idem_read initializes `have` afresh: what a
		 * previous turn copied into it must be freed first, not kept by
		 * bson_reinit (LeakSanitizer: 256 bytes per waiting turn) */
		bson_destroy(&have);
		bson_init(&have);
		if (!idem_read(coll, user, key, &have, &found, err))
			goto done;
		if (!found) {
			/* abandoned (and deleted) between our insert and read: retry */
			if (mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
				*outcome = ORDERS_IDEM_PROCEED;
				ok = true;
				goto done;
			}
			if (berr.code != IDEM_DUPLICATE_KEY) {
				store_error_set(err, &berr, "claim idempotency key");
				goto done;
			}
			continue;
		}
		if (strlen(idem_str(&have, "fingerprint")) != 64 ||
		    sodium_memcmp(idem_str(&have, "fingerprint"), fingerprint, 64) != 0) {
			*outcome = ORDERS_IDEM_MISMATCH;
			ok = true;
			goto done;
		}
		if (strcmp(idem_str(&have, "state"), "done") == 0) {
			bson_iter_t it;

			*outcome = ORDERS_IDEM_REPLAY;
			*status = bson_iter_init_find(&it, &have, "status") ?
					  (int)bson_iter_as_int64(&it) : 200;
			*body = strdup(idem_str(&have, "body"));
			ok = *body != NULL;
			if (!ok)
				em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate");
			goto done;
		}
		if (idem_date(&have, "started_at") < em_now_ms() - (int64_t)lease_s * 1000) {
			bool taken = false;

			if (!idem_takeover(coll, user, key, em_now_ms() - (int64_t)lease_s * 1000,
					   &taken, err))
				goto done;
			if (taken) {
				*outcome = ORDERS_IDEM_PROCEED;
				ok = true;
				goto done;
			}
			continue;
		}
		if (waited >= IDEM_WAIT_MS) {
			*outcome = ORDERS_IDEM_BUSY;
			ok = true;
			goto done;
		}
		{
			struct timespec ts = { 0, IDEM_POLL_MS * 1000000L };

			nanosleep(&ts, NULL);
			waited += IDEM_POLL_MS;
		}
	}
done:
	bson_destroy(&doc);
	bson_destroy(&have);
	mongoc_collection_destroy(coll);
	return ok;
}

bool orders_idem_finish(mongoc_client_session_t *session, struct em_store *st,
			const bson_oid_t *user, const char *key, int status, json_object *body,
			const bson_oid_t *order_id, bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "idempotency_keys");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, opts = BSON_INITIALIZER;
	bson_t reply;
	bson_iter_t it;
	bool ok = false;

	bson_init(&reply);
	idem_filter(&filter, user, key);
	BSON_APPEND_UTF8(&filter, "state", "running");
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "state", "done");
	BSON_APPEND_INT32(&set, "status", status);
	BSON_APPEND_UTF8(&set, "body",
			 json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
	BSON_APPEND_OID(&set, "order_id", order_id);
	bson_append_document_end(&update, &set);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, berr)) {
		store_error_set(err, berr, "store idempotent response");
		goto done;
	}
	/* our claim was taken over (we ran past the lease): let the taker win */
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, "Idempotency-Key",
			     "this key's request is being run by another attempt");
		goto done;
	}
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

void orders_idem_abandon(struct em_store *st, const bson_oid_t *user, const char *key)
{
	mongoc_collection_t *coll = store_collection(st, "idempotency_keys");
	bson_t filter = BSON_INITIALIZER;
	bson_error_t berr;

	idem_filter(&filter, user, key);
	BSON_APPEND_UTF8(&filter, "state", "running");
	/* best effort: a claim left behind is taken over after its lease */
	if (!mongoc_collection_delete_one(coll, &filter, NULL, NULL, &berr))
		em_log(EM_LOG_WARN, "idempotency key not released: %s", berr.message);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
}
