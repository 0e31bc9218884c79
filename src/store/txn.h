/*
 * txn.h - running a function inside a MongoDB transaction, with the
 * retries MongoDB asks for.
 *
 * store_txn_run() starts a session and runs fn(session, ctx, berr, err) in
 * a transaction, retrying the whole transaction on transient errors
 * (WriteConflict, NoSuchTransaction, network) and the commit on
 * UnknownTransactionCommitResult, for up to 10 s (see txn.c). fn must pass
 * the session to every operation (store_txn_opts() into the opts) and
 * must return false on any failure, never swallow one: a driver error in
 * berr decides the retry. fn may run several times, so it must reset its
 * own state first and have no side effects outside the database (build
 * the response only after store_txn_run returns).
 */
#ifndef EM_STORE_TXN_H
#define EM_STORE_TXN_H

#include <mongoc/mongoc.h>
#include <stdbool.h>

#include "core/error.h"
#include "store/store.h"

typedef bool (*store_txn_fn)(mongoc_client_session_t *session, void *ctx,
			     bson_error_t *berr, struct em_error *err);

/*
 * Runs fn in a transaction. fn reports a driver failure through berr (so
 * that its error labels drive the retries) or a domain failure through err
 * (kind != EM_ERR_NONE: the transaction is aborted, not retried).
 */
bool store_txn_run(struct em_store *st, store_txn_fn fn, void *ctx, struct em_error *err);

/* Appends the session to opts (for an operation inside fn). */
bool store_txn_opts(mongoc_client_session_t *session, bson_t *opts, struct em_error *err);

#endif
