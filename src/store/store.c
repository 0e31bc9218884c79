#include "store/store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void store_global_init(void)
{
	mongoc_init();
	/* libsodium (randomness, hashing) is initialised here too: every
	 * process calls this once at start, before it forks. */
	if (sodium_init() < 0) {
		em_err("libsodium cannot initialise");
		abort();
	}
}

void store_global_cleanup(void)
{
	mongoc_cleanup();
}

static void store_log_handler(mongoc_log_level_t level, const char *domain,
			      const char *message, void *data)
{
	(void)data;
	if (level <= MONGOC_LOG_LEVEL_WARNING)
		em_warn("mongoc %s: %s", domain, message);
}

bool store_open(struct em_store *st, const struct em_config *cfg,
		const char *appname, struct em_error *err)
{
	bson_error_t berr;
	mongoc_uri_t *uri = NULL;
	bool ok = false;

	memset(st, 0, sizeof(*st));
	mongoc_log_set_handler(store_log_handler, NULL);
	uri = mongoc_uri_new_with_error(cfg->mongodb_uri, &berr);
	if (!uri) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_MONGODB_URI",
			     "EMPORIUM_MONGODB_URI is not a valid MongoDB URI: %s",
			     berr.message);
		goto done;
	}
	/* Bound every wait on the server by the configured timeout unless the
	 * URI already chose one. */
	if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
					       cfg->db_timeout_ms);
	if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS,
					       cfg->db_timeout_ms);
	/* A server that accepts but never answers (a frozen primary) must
	 * cost a 503, not the worker: give up on one socket operation at 3/4
	 * of the request timeout, before the request's alarm kills the
	 * worker. */
	if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS,
					       cfg->request_timeout_s * 750);
	/* Rescan often so a returning server is found soon; after a failed
	 * connect a single-threaded client still keeps the server in a 5 s
	 * cooldown (fixed in the driver), so recovery takes up to ~6 s. */
	if (!mongoc_uri_has_option(uri, MONGOC_URI_HEARTBEATFREQUENCYMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_HEARTBEATFREQUENCYMS, 1000);
	mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYWRITES, true);
	/* Retrying a transaction until the request's alarm kills the worker
	 * would leave one more open transaction holding its documents for the
	 * server's transaction lifetime - and the next request retries against
	 * those: give up at half the request timeout and answer 503. */
	st->txn_retry_bound_s = cfg->request_timeout_s / 2.0 < 10.0 ? cfg->request_timeout_s / 2.0
								    : 10.0;
	st->client = mongoc_client_new_from_uri_with_error(uri, &berr);
	if (!st->client) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_MONGODB_URI",
			     "cannot create a MongoDB client: %s", berr.message);
		goto done;
	}
	if (!mongoc_client_set_appname(st->client, appname)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot set the MongoDB appname");
		goto done;
	}
	if (!mongoc_client_set_error_api(st->client, MONGOC_ERROR_API_VERSION_2)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot set the MongoDB error API");
		goto done;
	}
	snprintf(st->db_name, sizeof(st->db_name), "%s", cfg->db_name);
	st->db = mongoc_client_get_database(st->client, st->db_name);
	ok = st->db != NULL;
	if (!ok)
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot open database %s", st->db_name);
done:
	mongoc_uri_destroy(uri);
	if (!ok)
		store_close(st);
	return ok;
}

void store_close(struct em_store *st)
{
	if (st->db)
		mongoc_database_destroy(st->db);
	if (st->client)
		mongoc_client_destroy(st->client);
	st->db = NULL;
	st->client = NULL;
}

bool store_ping(struct em_store *st, struct em_error *err)
{
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_error_t berr;
	bool ok;

	BSON_APPEND_INT32(&cmd, "ping", 1);
	ok = mongoc_client_command_simple(st->client, "admin", &cmd, NULL, &reply, &berr);
	if (!ok)
		store_error_set(err, &berr, "ping");
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return ok;
}

mongoc_collection_t *store_collection(struct em_store *st, const char *name)
{
	return mongoc_client_get_collection(st->client, st->db_name, name);
}

bool store_error_is_duplicate(const bson_error_t *berr)
{
	return berr->code == 11000 || berr->code == 11001;
}

void store_error_set(struct em_error *err, const bson_error_t *berr, const char *what)
{
	if (berr->domain == MONGOC_ERROR_SERVER_SELECTION ||
	    berr->domain == MONGOC_ERROR_STREAM ||
	    (berr->domain == MONGOC_ERROR_CLIENT &&
	     berr->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)) {
		em_warn("MongoDB unavailable during %s: %s", what, berr->message);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
			     "the database is unavailable; try again shortly");
		return;
	}
	if (store_error_is_duplicate(berr)) {
		em_error_set(err, EM_ERR_CONFLICT, NULL, "a record with this key exists");
		return;
	}
	em_error_set(err, EM_ERR_INTERNAL, NULL, "MongoDB %s failed: %s (%u.%u)", what,
		     berr->message, berr->domain, berr->code);
}

bool store_find_one(struct em_store *st, mongoc_client_session_t *session,
		    const char *collection, const bson_t *filter, bson_t *out, bool *found,
		    bson_error_t *berr, const char *what, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_t opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bson_error_t local;
	bool ok = false;

	*found = false;
	BSON_APPEND_INT64(&opts, "limit", 1);
	if (session && !mongoc_client_session_append(session, &opts, &local)) {
		store_error_set(err, &local, what);
		goto done;
	}
	cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		*found = true;
	}
	if (mongoc_cursor_error(cur, &local)) {
		if (*found)
			bson_destroy(out);
		*found = false;
		if (berr)
			*berr = local;
		store_error_set(err, &local, what);
		goto done;
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&opts);
	return ok;
}
