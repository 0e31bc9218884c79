/*
 * orders_internal.h - what the orders module's files share; not an API
 * for other modules (that is orders.h).
 */
#ifndef EM_ORDERS_ORDERS_INTERNAL_H
#define EM_ORDERS_ORDERS_INTERNAL_H

#include <json-c/json.h>
#include <mongoc/mongoc.h>

#include "http/router.h"
#include "orders/orders.h"

#define EM_ORDERS_COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Empties a cart (lines and coupon) inside the session (place.c). */
bool orders_cart_clear(mongoc_client_session_t *session, struct em_store *st,
		       const bson_oid_t *cart_id, bson_error_t *berr, struct em_error *err);

/* ---- idempotency keys (idempotency.c) ---- */

enum orders_idem_outcome {
	ORDERS_IDEM_PROCEED,   /* this request runs; orders_idem_finish/abandon after */
	ORDERS_IDEM_REPLAY,    /* answer *status / *body (the stored response) */
	ORDERS_IDEM_MISMATCH,  /* the key was used with another body: 422 */
	ORDERS_IDEM_BUSY,      /* the first request is still running: 409 */
};

/*
 * Claims key for user: the first request stores a fingerprint of its body
 * and runs (PROCEED); a retry with the same body gets the stored response
 * (REPLAY, waiting up to a few seconds for a running first request to
 * finish), another body MISMATCH, a first request still running after the
 * wait BUSY. A running claim older than the request timeout is taken over
 * (its request died). *body (REPLAY) is malloc'd.
 */
bool orders_idem_begin(struct em_store *st, const bson_oid_t *user, const char *key,
		       const char *fingerprint, int lease_s, enum orders_idem_outcome *outcome,
		       int *status, char **body, struct em_error *err);

/* Stores the response of the claimed key inside the session of the change
 * that produced it, so the change and its idempotent answer commit together. */
bool orders_idem_finish(mongoc_client_session_t *session, struct em_store *st,
			const bson_oid_t *user, const char *key, int status, json_object *body,
			const bson_oid_t *order_id, bson_error_t *berr, struct em_error *err);

/* Drops a claim whose request changed nothing (a refusal), so a retry runs. */
void orders_idem_abandon(struct em_store *st, const bson_oid_t *user, const char *key);

/* Hex SHA-256 of the request (method, path, body) into out. */
void orders_idem_fingerprint(const char *method, const char *path, const char *body,
			     size_t len, char out[65]);

/* ---- mails (mail.c) ---- */

/* Enqueues the customer's mail for a status change of order (in session). */
bool orders_mail_status(mongoc_client_session_t *session, struct em_store *st,
			const struct em_config *cfg, const bson_t *order, enum orders_status to,
			bson_error_t *berr, struct em_error *err);

/* ---- routes ---- */
extern const struct em_route_table orders_routes;
extern const struct em_route_table orders_admin_routes;
extern const struct em_route_table orders_returns_routes;

#endif
