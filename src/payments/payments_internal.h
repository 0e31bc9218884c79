/*
 * payments_internal.h - what the payments module's files share; not an
 * API for other modules (that is payments.h).
 */
#ifndef EM_PAYMENTS_PAYMENTS_INTERNAL_H
#define EM_PAYMENTS_PAYMENTS_INTERNAL_H

#include <mongoc/mongoc.h>

#include "http/router.h"
#include "jobs/jobs.h"
#include "payments/payments.h"

/* A text field of doc ("" when absent or not text); dotted paths allowed. */
const char *pay_str(const bson_t *doc, const char *path);
/* An integer field of doc (int32 or int64), or def. */
int64_t pay_int64(const bson_t *doc, const char *path, int64_t def);
/* The ObjectId at key, or NULL. */
const bson_oid_t *pay_oid(const bson_t *doc, const char *key);

/*
 * Finds one document of coll matching filter, in session when not NULL.
 * *found says whether out was filled (then the caller destroys it).
 */
bool pay_find_one(mongoc_client_session_t *session, struct em_store *st, const char *coll,
		  const bson_t *filter, bson_t *out, bool *found, bson_error_t *berr,
		  struct em_error *err);

/* Sets the attempt's status (only when it is still `from`, NULL = any). */
bool pay_attempt_mark(struct em_store *st, mongoc_client_session_t *session, const char *tran_id,
		      const char *from, const char *to, bson_error_t *berr, struct em_error *err);

/* ---- refunds (refund.c) ---- */

/*
 * Writes a refund request for payment (in session) and its job, which
 * calls the gateway and then polls until refunded or cancelled. refund_id
 * receives the new id. amount in minor units; auto_late marks the refund
 * of a payment that arrived after the order was cancelled.
 */
bool pay_refund_request(mongoc_client_session_t *session, struct em_store *st,
			const bson_t *payment, int64_t amount, const char *reason,
			const char *idem_key, const bson_oid_t *by, bson_oid_t *refund_id,
			bson_error_t *berr, struct em_error *err);

/*
 * A refund is done (r: the refund with _id, payment_id, order_id, amount,
 * currency; the payment's refunded already counts it): the order is
 * refunded when its payment is refunded in full, the customer is mailed.
 */
bool pay_refund_done(mongoc_client_session_t *session, struct em_store *st, const bson_t *r,
		     bson_error_t *berr, struct em_error *err);

/* Job handlers. */
bool pay_job_validate(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err);
bool pay_job_refund(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err);
bool pay_job_refund_poll(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err);
/* ---- the sweeps (sweep.c): each pages through all that is due, bounded per pass ---- */

/* Reconciliation: open attempts looked up at the gateway by tran_id. */
bool pay_reconcile_sweep(struct jobs_worker *w, struct em_error *err);
/* Refunds for paid card orders that were cancelled (payment_status
 * refund_requested, no cancel_refund_id yet: the sweep sets it). */
bool pay_refund_requested_sweep(struct jobs_worker *w, struct em_error *err);
/* Refunds for received returns (order_returns refund_requested, refund_amount). */
bool pay_returns_refund_sweep(struct jobs_worker *w, struct em_error *err);

/* ---- routes ---- */
extern const struct em_route_table payments_routes;
extern const struct em_route_table payments_admin_routes;

#endif
