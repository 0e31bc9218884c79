#include "store/store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "http/metrics.h"

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

static int64_t store_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A server check failed (in single-threaded mode: during a blocking scan
 * of this process, so no lock is needed): the server is in the driver's
 * cooldown from now on. */
static void store_heartbeat_failed(const mongoc_apm_server_heartbeat_failed_t *event)
{
	struct store_health *h = mongoc_apm_server_heartbeat_failed_get_context(event);
	bson_error_t berr;

	if (!h)
		return;
	h->check_failed_ms = store_mono_ms();
	mongoc_apm_server_heartbeat_failed_get_error(event, &berr);
	snprintf(h->last_error, sizeof(h->last_error), "%s", berr.message);
}

/* A client for st->uri with the store's settings; NULL (err set) on failure. */
static mongoc_client_t *store_client_new(struct em_store *st, struct em_error *err)
{
	mongoc_apm_callbacks_t *cbs = NULL;
	mongoc_client_t *client;
	bson_error_t berr;

	client = mongoc_client_new_from_uri_with_error(st->uri, &berr);
	if (!client) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_MONGODB_URI",
			     "cannot create a MongoDB client: %s", berr.message);
		return NULL;
	}
	if (!mongoc_client_set_appname(client, st->appname)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot set the MongoDB appname");
		goto fail;
	}
	if (!mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot set the MongoDB error API");
		goto fail;
	}
	cbs = mongoc_apm_callbacks_new();
	if (!cbs) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate the MongoDB callbacks");
		goto fail;
	}
	mongoc_apm_set_server_heartbeat_failed_cb(cbs, store_heartbeat_failed);
	if (!mongoc_client_set_apm_callbacks(client, cbs, st->health)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot set the MongoDB callbacks");
		goto fail;
	}
	mongoc_apm_callbacks_destroy(cbs);
	return client;
fail:
	if (cbs)
		mongoc_apm_callbacks_destroy(cbs);
	mongoc_client_destroy(client);
	return NULL;
}

bool store_recover(struct em_store *st)
{
	struct em_error err = EM_ERROR_INIT;
	mongoc_client_t *client;
	mongoc_database_t *db;
	int64_t now = store_mono_ms();

	if (!st->health || !st->client || !st->health->check_failed_ms ||
	    now - st->health->check_failed_ms < STORE_REBUILD_AFTER_MS)
		return false;
	client = store_client_new(st, &err);
	db = client ? mongoc_client_get_database(client, st->db_name) : NULL;
	if (!db) {
		/* keep the old client: it still finds the server, only later */
		em_warn("cannot replace the MongoDB client: %s", err.message);
		if (client)
			mongoc_client_destroy(client);
		st->health->check_failed_ms = 0;
		return false;
	}
	mongoc_database_destroy(st->db);
	mongoc_client_destroy(st->client);
	st->client = client;
	st->db = db;
	st->health->check_failed_ms = 0;
	st->health->rebuilt_ms = now;
	em_metrics_event(EM_EV_DB_CLIENT_REBUILD);
	em_debug("MongoDB client replaced after a failed check (%s)", st->health->last_error);
	return true;
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
	/* Rescan often so a returning server is found soon; the 5 s cooldown
	 * after a failed connect is cut short by store_recover(). */
	if (!mongoc_uri_has_option(uri, MONGOC_URI_HEARTBEATFREQUENCYMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_HEARTBEATFREQUENCYMS, 1000);
	mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYWRITES, true);
	/* Retrying a transaction until the request's alarm kills the worker
	 * would leave one more open transaction holding its documents for the
	 * server's transaction lifetime - and the next request retries against
	 * those: give up at half the request timeout and answer 503. */
	st->txn_retry_bound_s = cfg->request_timeout_s / 2.0 < 10.0 ? cfg->request_timeout_s / 2.0
								    : 10.0;
	st->health = calloc(1, sizeof(*st->health));
	if (!st->health) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "out of memory");
		goto done;
	}
	snprintf(st->appname, sizeof(st->appname), "%s", appname);
	st->uri = uri;
	uri = NULL;
	st->client = store_client_new(st, err);
	if (!st->client)
		goto done;
	snprintf(st->db_name, sizeof(st->db_name), "%s", cfg->db_name);
	st->db = mongoc_client_get_database(st->client, st->db_name);
	ok = st->db != NULL;
	if (!ok)
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot open database %s", st->db_name);
done:
	if (uri)
		mongoc_uri_destroy(uri);
	if (!ok)
		store_close(st);
	return ok;
}

void store_close(struct em_store *st)
{
	if (st->category_cache && st->category_cache_free)
		st->category_cache_free(st->category_cache);
	st->category_cache = NULL;
	if (st->db)
		mongoc_database_destroy(st->db);
	if (st->client)
		mongoc_client_destroy(st->client);
	if (st->uri)
		mongoc_uri_destroy(st->uri);
	free(st->health);
	st->db = NULL;
	st->client = NULL;
	st->uri = NULL;
	st->health = NULL;
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
		em_metrics_event(EM_EV_DB_UNAVAILABLE);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
			     "the database is unavailable; try again shortly");
		return;
	}
	if (store_error_is_duplicate(berr)) {
		em_metrics_event(EM_EV_DB_DUPLICATE);
		em_error_set(err, EM_ERR_CONFLICT, NULL, "a record with this key exists");
		return;
	}
	em_metrics_event(EM_EV_DB_OTHER);
	em_error_set(err, EM_ERR_INTERNAL, NULL, "MongoDB %s failed: %s (%u.%u)", what,
		     berr->message, berr->domain, berr->code);
}

/*
 * A "find" command through the read-command path, not a cursor: the
 * driver selects the server (and copies its description, a re-parse of
 * its whole hello reply) once per command, where
 * mongoc_collection_find_with_opts does it twice (the cursor's stream,
 * then its command) and builds a cursor around the reply: ~4 us less per
 * product detail (pool CPU, A/B). Still a retryable read with the
 * collection's read concern and preference. *view points into *reply
 * (always initialised: the caller destroys it) when *found.
 */
static bool store_find_first(struct em_store *st, mongoc_client_session_t *session,
			     const char *collection, const bson_t *filter, bson_t *reply,
			     bson_t *view, bool *found, bson_error_t *berr, const char *what,
			     struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_t cmd = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_iter_t it, first;
	bson_error_t local;
	bool ok = false;

	*found = false;
	bson_init(reply);
	if (!BSON_APPEND_UTF8(&cmd, "find", collection) || !BSON_APPEND_DOCUMENT(&cmd, "filter", filter) ||
	    !BSON_APPEND_INT64(&cmd, "limit", 1) || !BSON_APPEND_BOOL(&cmd, "singleBatch", true)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "%s: the query is too large", what);
		goto done;
	}
	if (session && !mongoc_client_session_append(session, &opts, &local)) {
		store_error_set(err, &local, what);
		goto done;
	}
	bson_destroy(reply); /* the driver initialises it again */
	if (!mongoc_collection_read_command_with_opts(coll, &cmd, NULL, &opts, reply, &local)) {
		if (berr)
			*berr = local;
		store_error_set(err, &local, what);
		goto done;
	}
	if (bson_iter_init(&it, reply) && bson_iter_find_descendant(&it, "cursor.firstBatch.0", &first) &&
	    BSON_ITER_HOLDS_DOCUMENT(&first)) {
		const uint8_t *data;
		uint32_t len;

		bson_iter_document(&first, &len, &data);
		if (!bson_init_static(view, data, len)) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "%s: a malformed document", what);
			goto done;
		}
		*found = true;
	}
	ok = true;
done:
	mongoc_collection_destroy(coll);
	bson_destroy(&cmd);
	bson_destroy(&opts);
	return ok;
}

bool store_find_one(struct em_store *st, mongoc_client_session_t *session,
		    const char *collection, const bson_t *filter, bson_t *out, bool *found,
		    bson_error_t *berr, const char *what, struct em_error *err)
{
	bson_t reply, view;
	bool ok = store_find_first(st, session, collection, filter, &reply, &view, found, berr, what,
				   err);

	if (ok && *found)
		bson_copy_to(&view, out);
	bson_destroy(&reply);
	return ok;
}

bool store_find_one_new(struct em_store *st, mongoc_client_session_t *session,
			const char *collection, const bson_t *filter, bson_t **out,
			bson_error_t *berr, const char *what, struct em_error *err)
{
	bson_t reply, view;
	bool found = false, ok;

	*out = NULL;
	ok = store_find_first(st, session, collection, filter, &reply, &view, &found, berr, what, err);
	if (ok && found && !(*out = bson_copy(&view))) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "%s: out of memory", what);
		ok = false;
	}
	bson_destroy(&reply);
	return ok;
}

bool store_update_one(struct em_store *st, mongoc_client_session_t *session,
		      const char *collection, const bson_t *filter, const bson_t *update,
		      int64_t *matched, bson_error_t *berr, const char *what,
		      struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_t opts = BSON_INITIALIZER, reply;
	bson_error_t local, *e = berr ? berr : &local;
	bson_iter_t it;
	bool ok = false;

	bson_init(&reply);
	if (session && !mongoc_client_session_append(session, &opts, e)) {
		store_error_set(err, e, what);
		goto done;
	}
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, filter, update, &opts, &reply, e)) {
		store_error_set(err, e, what);
		goto done;
	}
	if (matched)
		*matched = bson_iter_init_find(&it, &reply, "matchedCount") ?
				   bson_iter_as_int64(&it) : 0;
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}
