/*
 * jobs.h - the transactional outbox: work that must happen, reliably,
 * outside the web request (mail, alerts, sweeps).
 *
 * A job is a document in the `jobs` collection:
 *   { _id: ObjectId, type: "email"|..., payload: {...}, dedupe_key: string
 *     (unique), status: "pending"|"running"|"done"|"dead", run_after: date,
 *     attempts: int32, lease_until: date|null, last_error: string|null,
 *     created_at: date, updated_at: date }
 * Writers enqueue in the same transaction as the change that causes the
 * job, so both commit or neither does; emporium-worker claims due jobs
 * with findAndModify and a lease, and retries with backoff.
 *
 * The dedupe key is unique: enqueueing the same key twice is a no-op
 * (success), so one event never makes two jobs.
 */
#ifndef EM_JOBS_JOBS_H
#define EM_JOBS_JOBS_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/*
 * Enqueues a job. session may be NULL (no transaction) or the session of
 * a store_txn_run() callback; then a driver failure is reported through
 * berr (see txn.h) as well as err. run_after_ms is a Unix time in ms, 0
 * for now. payload is copied.
 */
bool jobs_enqueue(struct em_store *st, mongoc_client_session_t *session, const char *type,
		  const bson_t *payload, const char *dedupe_key, int64_t run_after_ms,
		  bson_error_t *berr, struct em_error *err);

/*
 * Enqueues an "email" job: payload { to, template, vars }. template names
 * a template set in EMPORIUM_TEMPLATES_DIR (<name>.subject, <name>.txt,
 * <name>.html); vars fills its {{placeholders}} (values HTML-escaped in the
 * HTML part). Templates: verify_email, password_reset, account_exists,
 * order_confirmation, order_shipped, order_delivered, low_stock.
 */
bool jobs_email_enqueue(struct em_store *st, mongoc_client_session_t *session,
			const char *to, const char *template_name, const bson_t *vars,
			const char *dedupe_key, bson_error_t *berr, struct em_error *err);

#endif
