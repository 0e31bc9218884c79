/*
 * enqueue.c - writing jobs into the outbox (see jobs.h).
 *
 * An upsert on the unique dedupe key with $setOnInsert, not an insert:
 * inside a transaction a duplicate-key error would abort the caller's
 * whole transaction, while an upsert that finds the job already there
 * simply changes nothing.
 */
#include <string.h>

#include "core/log.h"
#include "core/time.h"
#include "jobs/jobs.h"
#include "store/txn.h"

bool jobs_enqueue(struct em_store *st, mongoc_client_session_t *session, const char *type,
		  const bson_t *payload, const char *dedupe_key, int64_t run_after_ms,
		  bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_t soi;
	bson_error_t local;
	int64_t now = em_now_ms();
	bool ok = false;

	if (!berr)
		berr = &local;
	if (!type || !*type || !dedupe_key || !*dedupe_key || strlen(dedupe_key) > 512) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "a job needs a type and a dedupe key");
		goto done;
	}
	BSON_APPEND_UTF8(&filter, "dedupe_key", dedupe_key);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
	BSON_APPEND_UTF8(&soi, "type", type);
	BSON_APPEND_DOCUMENT(&soi, "payload", payload);
	BSON_APPEND_UTF8(&soi, "status", "pending");
	BSON_APPEND_DATE_TIME(&soi, "run_after", run_after_ms > 0 ? run_after_ms : now);
	BSON_APPEND_INT32(&soi, "attempts", 0);
	BSON_APPEND_NULL(&soi, "lease_until");
	BSON_APPEND_NULL(&soi, "last_error");
	BSON_APPEND_DATE_TIME(&soi, "created_at", now);
	BSON_APPEND_DATE_TIME(&soi, "updated_at", now);
	/* the request that caused the job: the worker logs its lines with it,
	 * so nginx's access line, the app's and the job's share one id */
	if (em_log_request_id()[0])
		BSON_APPEND_UTF8(&soi, "request_id", em_log_request_id());
	bson_append_document_end(&update, &soi);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	coll = store_collection(st, "jobs");
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, NULL, berr)) {
		store_error_set(err, berr, "enqueue job");
		goto done;
	}
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

bool jobs_email_enqueue(struct em_store *st, mongoc_client_session_t *session,
			const char *to, const char *template_name, const bson_t *vars,
			const char *dedupe_key, bson_error_t *berr, struct em_error *err)
{
	bson_t payload = BSON_INITIALIZER, empty = BSON_INITIALIZER;
	bool ok;

	BSON_APPEND_UTF8(&payload, "to", to);
	BSON_APPEND_UTF8(&payload, "template", template_name);
	BSON_APPEND_DOCUMENT(&payload, "vars", vars ? vars : &empty);
	ok = jobs_enqueue(st, session, "email", &payload, dedupe_key, 0, berr, err);
	bson_destroy(&payload);
	bson_destroy(&empty);
	return ok;
}
