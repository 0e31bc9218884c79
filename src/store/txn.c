#include "store/txn.h"

#include <string.h>

#include "core/log.h"

struct txn_call {
	store_txn_fn fn;
	void *ctx;
	struct em_error *err;
};

static bool txn_trampoline(mongoc_client_session_t *session, void *ctx, bson_t **reply,
			   bson_error_t *berr)
{
	struct txn_call *call = ctx;

	(void)reply;
	em_error_clear(call->err);
	memset(berr, 0, sizeof(*berr));
	if (call->fn(session, call->ctx, berr, call->err))
		return true;
	if (call->err->kind != EM_ERR_NONE && berr->code == 0) {
		/* A domain failure: give the driver an error without the
		 * transient label, so it aborts instead of retrying. */
		bson_set_error(berr, MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_SESSION_FAILURE,
			       "%s", call->err->message);
	}
	return false;
}

bool store_txn_run(struct em_store *st, store_txn_fn fn, void *ctx, struct em_error *err)
{
	mongoc_client_session_t *session = NULL;
	mongoc_transaction_opt_t *topts = NULL;
	mongoc_write_concern_t *wc = NULL;
	mongoc_read_concern_t *rc = NULL;
	struct txn_call call = { fn, ctx, err };
	bson_error_t berr;
	bool ok = false;

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
	ok = mongoc_client_session_with_transaction(session, txn_trampoline, topts, &call,
						    NULL, &berr);
	if (!ok && err->kind == EM_ERR_NONE)
		store_error_set(err, &berr, "transaction");
done:
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
