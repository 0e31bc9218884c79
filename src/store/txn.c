/*
 * txn.c - transactions with MongoDB's retry rules, done here rather than
 * by mongoc_client_session_with_transaction(): the driver decides to retry
 * from the error labels in the callback's reply document, which a callback
 * that only sees bson_error_t cannot hand over (a WriteConflict would then
 * never be retried). The rules (MongoDB's transactions specification):
 *   - the callback fails with a transient error (WriteConflict 112,
 *     NoSuchTransaction 251, LockTimeout 24, a network error): abort and
 *     run the whole transaction again;
 *   - the commit fails with UnknownTransactionCommitResult: commit again;
 *     with TransientTransactionError: run the whole transaction again;
 * all within a time bound, with a short jittered pause between tries so
 * the transaction that won can commit.
 */
#include "store/txn.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "http/metrics.h"

/* The specification's bound is 120 s; a web request cannot wait that long
 * (store_open makes it at most half the request timeout). */
#define TXN_RETRY_BOUND_S 10.0

/*
 * Out of retries on a conflict: the request may be repeated and may well
 * succeed then (what kept conflicting is another writer, or a dead
 * worker's transaction the server has not dropped yet), so it is a 503
 * with Retry-After, not a 500 that says something is broken. True when
 * it was a conflict (counted as given up), false when the database is down.
 */
static bool txn_give_up(struct em_error *err, const bson_error_t *berr)
{
	if (berr->domain == MONGOC_ERROR_STREAM || berr->domain == MONGOC_ERROR_SERVER_SELECTION) {
		store_error_set(err, berr, "transaction"); /* the database is down: 503 */
		return false;
	}
	em_metrics_event(EM_EV_TXN_GIVE_UP);
	em_warn("transaction given up after retrying: %s", berr->message);
	em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
		     "the database is busy with conflicting changes; try again shortly");
	err->retry_after_s = 1;
	return true;
}

static double txn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void txn_pause(int attempt)
{
	struct timespec ts = { 0, 0 };
	long ms = 1L << (attempt < 6 ? attempt : 6); /* 1..64 ms */

	ts.tv_nsec = (ms + (long)randombytes_uniform((uint32_t)ms + 1)) * 1000000L;
	nanosleep(&ts, NULL);
}

/* Errors the specification labels TransientTransactionError. */
static bool txn_error_transient(const bson_error_t *berr)
{
	if (berr->domain == MONGOC_ERROR_STREAM || berr->domain == MONGOC_ERROR_SERVER_SELECTION)
		return true;
	switch (berr->code) {
	case 24:  /* LockTimeout */
	case 112: /* WriteConflict */
	case 251: /* NoSuchTransaction */
		return true;
	default:
		return false;
	}
}

bool store_txn_run(struct em_store *st, store_txn_fn fn, void *ctx, struct em_error *err)
{
	mongoc_client_session_t *session = NULL;
	mongoc_transaction_opt_t *topts = NULL;
	mongoc_write_concern_t *wc = NULL;
	mongoc_read_concern_t *rc = NULL;
	bson_error_t berr;
	double deadline = txn_now() + (st->txn_retry_bound_s > 0 ? st->txn_retry_bound_s
								 : TXN_RETRY_BOUND_S);
	bool ok = false, gave_up = false;

	em_error_clear(err);
	session = mongoc_client_start_session(st->client, NULL, &berr);
	if (!session) {
		store_error_set(err, &berr, "start session");
		goto done;
	}
	topts = mongoc_transaction_opts_new();
	wc = mongoc_write_concern_new();
	rc = mongoc_read_concern_new();
	mongoc_write_concern_set_w(wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
	mongoc_read_concern_set_level(rc, MONGOC_READ_CONCERN_LEVEL_SNAPSHOT);
	mongoc_transaction_opts_set_write_concern(topts, wc);
	mongoc_transaction_opts_set_read_concern(topts, rc);

	for (int attempt = 0;; attempt++) {
		bool retry_all = false;

		memset(&berr, 0, sizeof(berr));
		em_error_clear(err);
		/* the events of an attempt count only when it commits */
		em_metrics_pending_drop();
		if (!mongoc_client_session_start_transaction(session, topts, &berr)) {
			store_error_set(err, &berr, "start transaction");
			goto done;
		}
		if (!fn(session, ctx, &berr, err)) {
			bson_error_t ignored;

			mongoc_client_session_abort_transaction(session, &ignored);
			/* Decided by berr alone: a callback may also have
			 * described the driver's error in err. */
			if (txn_error_transient(&berr) && txn_now() < deadline) {
				em_debug("transaction retried after: %s", berr.message);
				em_metrics_event(EM_EV_TXN_RETRY);
				txn_pause(attempt);
				continue;
			}
			if (txn_error_transient(&berr))
				gave_up = txn_give_up(err, &berr);
			else if (err->kind == EM_ERR_NONE)
				store_error_set(err, &berr, "transaction");
			goto done;
		}
		for (;;) {
			bson_t reply;

			ok = mongoc_client_session_commit_transaction(session, &reply, &berr);
			if (ok) {
				bson_destroy(&reply);
				em_metrics_pending_commit();
				goto done;
			}
			if (mongoc_error_has_label(&reply, "UnknownTransactionCommitResult") &&
			    txn_now() < deadline) {
				bson_destroy(&reply);
				em_metrics_event(EM_EV_TXN_COMMIT_RETRY);
				continue;
			}
			retry_all = mongoc_error_has_label(&reply, "TransientTransactionError") ||
				    txn_error_transient(&berr);
			bson_destroy(&reply);
			break;
		}
		if (retry_all && txn_now() < deadline) {
			em_metrics_event(EM_EV_TXN_RETRY);
			txn_pause(attempt);
			continue;
		}
		if (retry_all)
			gave_up = txn_give_up(err, &berr);
		else
			store_error_set(err, &berr, "commit");
		goto done;
	}
done:
	em_metrics_pending_drop();
	/* a transaction was tried: how it ended (given up: counted there) */
	if (session && (ok || !gave_up))
		em_metrics_event(ok ? EM_EV_TXN_COMMITTED : EM_EV_TXN_ABORTED);
	if (rc)
		mongoc_read_concern_destroy(rc);
	if (wc)
		mongoc_write_concern_destroy(wc);
	if (topts)
		mongoc_transaction_opts_destroy(topts);
	if (session)
		mongoc_client_session_destroy(session);
	return ok;
}

bool store_txn_opts(mongoc_client_session_t *session, bson_t *opts, struct em_error *err)
{
	bson_error_t berr;

	if (!mongoc_client_session_append(session, opts, &berr)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot use the session: %s", berr.message);
		return false;
	}
	return true;
}
