/*
 * store.h - the per-process MongoDB connection.
 *
 * mongo-c-driver is not fork-safe, so every process opens its own store
 * after fork() (a worker with one request at a time uses a single-threaded
 * mongoc_client_t). Server selection and connection are bounded by
 * EMPORIUM_DB_TIMEOUT_MS unless the URI sets its own, so a request fails
 * with EM_ERR_UNAVAILABLE (503) quickly when MongoDB is down.
 *
 * When the server comes back, a single-threaded client would wait out a
 * fixed 5 s cooldown after its last failed check (MONGOC_TOPOLOGY_
 * COOLDOWN_MS, not configurable; serverSelectionTryOnce does not lift it:
 * single-threaded scans always obey it). So the store watches its
 * client's checks (an APM heartbeat-failed callback) and store_recover(),
 * called between requests, replaces a client that failed a check at least
 * STORE_REBUILD_AFTER_MS ago with a new one, which connects at once.
 */
#ifndef EM_STORE_STORE_H
#define EM_STORE_STORE_H

#include <mongoc/mongoc.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/error.h"

/* What the client's monitoring callbacks write (on the heap, so a copied
 * em_store - emporium-worker's reload - keeps a valid callback context). */
struct store_health {
	int64_t check_failed_ms;   /* monotonic ms of the last failed check, 0: none since */
	int64_t rebuilt_ms;        /* when the client was last replaced, 0: never */
	char last_error[BSON_ERROR_BUFFER_SIZE]; /* the last failed check's message */
};

/* The shortest time a failed client keeps failing fast before it is replaced. */
#define STORE_REBUILD_AFTER_MS 250

struct em_store {
	mongoc_client_t *client;
	mongoc_database_t *db;
	char db_name[64];
	mongoc_uri_t *uri;         /* kept to build the client again */
	char appname[64];
	struct store_health *health;
	/* How long store_txn_run may keep retrying one transaction (s). */
	double txn_retry_bound_s;
	/* The catalog's copy of the category tree (src/catalog/categories_cache.c):
	 * made on first use by the process that opened the store (after fork),
	 * freed by store_close through category_cache_free. */
	void *category_cache;
	void (*category_cache_free)(void *cache);
};

/* Call once per process before any store is opened (mongoc, libsodium). */
void store_global_init(void);
void store_global_cleanup(void);

/* Opens st from cfg (no I/O yet: the driver connects on first use). */
bool store_open(struct em_store *st, const struct em_config *cfg,
		const char *appname, struct em_error *err);
void store_close(struct em_store *st);

/*
 * Replaces the client when one of its server checks failed at least
 * STORE_REBUILD_AFTER_MS ago (see above); nothing otherwise. Call it only
 * where no collection, cursor or session of the store is alive (between
 * requests, between jobs). True when the client was replaced.
 */
bool store_recover(struct em_store *st);

/* Runs {ping: 1}: true when the server answers within the bound. */
bool store_ping(struct em_store *st, struct em_error *err);

/* A handle on a collection of the configured database; destroy it. */
mongoc_collection_t *store_collection(struct em_store *st, const char *name);

/*
 * Translates a driver error into an em_error: no reachable server or a
 * network failure is EM_ERR_UNAVAILABLE, a duplicate key EM_ERR_CONFLICT,
 * the rest EM_ERR_INTERNAL. what says what was being done.
 */
void store_error_set(struct em_error *err, const bson_error_t *berr, const char *what);

/* True when berr is a duplicate key error (E11000). */
bool store_error_is_duplicate(const bson_error_t *berr);

/*
 * Reads the first document of collection matching filter into *out (a
 * copy: bson_destroy it) and sets *found; session may be NULL or a
 * transaction's (store_txn_run). A driver failure fills berr (may be NULL)
 * and err through store_error_set with `what`; no document is not an
 * error (*found false, out untouched).
 */
bool store_find_one(struct em_store *st, mongoc_client_session_t *session,
		    const char *collection, const bson_t *filter, bson_t *out, bool *found,
		    bson_error_t *berr, const char *what, struct em_error *err);
/* The same, *out a new document (bson_destroy it) or NULL when none matches. */
bool store_find_one_new(struct em_store *st, mongoc_client_session_t *session,
			const char *collection, const bson_t *filter, bson_t **out,
			bson_error_t *berr, const char *what, struct em_error *err);

/*
 * Applies update to the first document of collection matching filter;
 * session may be NULL or a transaction's. *matched (may be NULL) is the
 * number of documents matched (0 or 1). A driver failure fills berr (may
 * be NULL; a transaction's callback passes its own, which decides a
 * retry) and err through store_error_set with `what`.
 */
bool store_update_one(struct em_store *st, mongoc_client_session_t *session,
		      const char *collection, const bson_t *filter, const bson_t *update,
		      int64_t *matched, bson_error_t *berr, const char *what,
		      struct em_error *err);

#endif
