/* Compatibility checks of the stand-in (or a real MongoDB replica set) from
 * the C driver the application uses (Debian's libmongoc 1.23).
 *
 * usage: compat URI_REPLSET [URI_STANDALONE|-] [bench N]
 * Prints one "ok - name" / "not ok - name: why" line per case and exits
 * non-zero on any failure. Each case says what real MongoDB does.
 */
#define _POSIX_C_SOURCE 200809L
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <inttypes.h>

static int failures = 0, passes = 0, skips = 0;
static const char *DB = "standin_c_compat";

#define CHECK(cond, name, ...)                                   \
   do {                                                          \
      if (cond) {                                                \
         passes++;                                               \
         printf ("ok - %s\n", name);                             \
      } else {                                                   \
         failures++;                                             \
         printf ("not ok - %s: ", name);                         \
         printf (__VA_ARGS__);                                   \
         printf ("\n");                                          \
      }                                                          \
      fflush (stdout);                                           \
   } while (0)

/* A case a real server cannot run here (e.g. no enableTestCommands): printed
 * and counted, never a pass. */
#define SKIP(name, ...)                                          \
   do {                                                          \
      skips++;                                                   \
      printf ("skip - %s: ", name);                              \
      printf (__VA_ARGS__);                                      \
      printf ("\n");                                             \
      fflush (stdout);                                           \
   } while (0)

static mongoc_collection_t *
fresh (mongoc_client_t *c, const char *name)
{
   mongoc_collection_t *coll = mongoc_client_get_collection (c, DB, name);
   mongoc_collection_drop (coll, NULL); /* may fail with "ns not found" */
   return coll;
}

/* MongoDB keeps the BSON type of every stored value: an int64 comes back as
 * int64 (bson_iter_int64 gives the value), a double as double, and $inc of
 * int32 overflowing int32 gives int64. */
static void
test_types (mongoc_client_t *c)
{
   bson_error_t e;
   mongoc_collection_t *coll = fresh (c, "types");
   bson_t *doc = BCON_NEW ("_id", BCON_INT32 (1), "i32", BCON_INT32 (7), "i64", BCON_INT64 (5000000000LL),
                           "small64", BCON_INT64 (3), "dbl", BCON_DOUBLE (1.0), "big", BCON_INT32 (2147483647),
                           "when", BCON_DATE_TIME (1700000000123LL));
   bool ok = mongoc_collection_insert_one (coll, doc, NULL, NULL, &e);
   CHECK (ok, "C insert typed document", "%s", e.message);
   bson_t *upd = BCON_NEW ("$inc", "{", "big", BCON_INT32 (1), "small64", BCON_INT32 (1), "dbl", BCON_INT32 (1), "}");
   bson_t *q = BCON_NEW ("_id", BCON_INT32 (1));
   ok = mongoc_collection_update_one (coll, q, upd, NULL, NULL, &e);
   CHECK (ok, "C $inc update", "%s", e.message);
   mongoc_cursor_t *cur = mongoc_collection_find_with_opts (coll, q, NULL, NULL);
   const bson_t *got;
   bson_iter_t it;
   if (mongoc_cursor_next (cur, &got)) {
      CHECK (bson_iter_init_find (&it, got, "i64") && BSON_ITER_HOLDS_INT64 (&it) && bson_iter_int64 (&it) == 5000000000LL,
             "C int64 round-trip (bson_iter_int64)", "i64 wrong");
      CHECK (bson_iter_init_find (&it, got, "small64") && BSON_ITER_HOLDS_INT64 (&it) && bson_iter_int64 (&it) == 4,
             "C small int64 stays int64 after $inc int32", "small64 type %d", bson_iter_type (&it));
      CHECK (bson_iter_init_find (&it, got, "i32") && BSON_ITER_HOLDS_INT32 (&it) && bson_iter_int32 (&it) == 7,
             "C int32 stays int32", "i32 wrong");
      CHECK (bson_iter_init_find (&it, got, "dbl") && BSON_ITER_HOLDS_DOUBLE (&it) && bson_iter_double (&it) == 2.0,
             "C double 1.0 stays double (+int32 -> double)", "dbl type %d", bson_iter_type (&it));
      CHECK (bson_iter_init_find (&it, got, "big") && BSON_ITER_HOLDS_INT64 (&it) && bson_iter_int64 (&it) == 2147483648LL,
             "C int32 overflow on $inc widens to int64", "big type %d", bson_iter_type (&it));
      CHECK (bson_iter_init_find (&it, got, "when") && BSON_ITER_HOLDS_DATE_TIME (&it) &&
                bson_iter_date_time (&it) == 1700000000123LL,
             "C date round-trip", "date wrong");
   } else {
      CHECK (0, "C find typed document", "no document");
   }
   mongoc_cursor_destroy (cur);
   bson_destroy (doc);
   bson_destroy (upd);
   bson_destroy (q);
   mongoc_collection_destroy (coll);
}

/* MongoDB: a unique index violation is error 11000 with keyValue. */
static void
test_unique (mongoc_client_t *c)
{
   bson_error_t e;
   bson_t reply;
   mongoc_collection_t *coll = fresh (c, "uniq");
   bson_t *cmd = BCON_NEW ("createIndexes", BCON_UTF8 ("uniq"), "indexes", "[", "{", "key", "{", "email", BCON_INT32 (1), "}",
                           "name", BCON_UTF8 ("email_1"), "unique", BCON_BOOL (true), "}", "]");
   bool ok = mongoc_collection_write_command_with_opts (coll, cmd, NULL, NULL, &e);
   CHECK (ok, "C create unique index", "%s", e.message);
   bson_t *d1 = BCON_NEW ("email", BCON_UTF8 ("a@example.com"));
   ok = mongoc_collection_insert_one (coll, d1, NULL, NULL, &e);
   CHECK (ok, "C insert first", "%s", e.message);
   bson_t *d2 = BCON_NEW ("email", BCON_UTF8 ("a@example.com"));
   ok = mongoc_collection_insert_one (coll, d2, NULL, &reply, &e);
   CHECK (!ok && e.code == 11000, "C duplicate key -> 11000", "ok=%d code=%u %s", ok, e.code, e.message);
   bson_iter_t it;
   bool has_kv = false;
   if (bson_iter_init_find (&it, &reply, "writeErrors")) {
      char *s = bson_as_relaxed_extended_json (&reply, NULL);
      has_kv = strstr (s, "keyValue") != NULL && strstr (s, "a@example.com") != NULL;
      bson_free (s);
   }
   CHECK (has_kv, "C duplicate key reply has keyValue", "no keyValue");
   bson_destroy (&reply);
   bson_destroy (cmd);
   bson_destroy (d1);
   bson_destroy (d2);
   mongoc_collection_destroy (coll);
}

/* MongoDB: a find returns 101 documents in the first batch by default and
 * the driver fetches the rest with getMore. */
static void
test_cursor (mongoc_client_t *c)
{
   bson_error_t e;
   mongoc_collection_t *coll = fresh (c, "cursor");
   mongoc_bulk_operation_t *b = mongoc_collection_create_bulk_operation_with_opts (coll, NULL);
   for (int i = 0; i < 250; i++) {
      bson_t *d = BCON_NEW ("n", BCON_INT32 (i));
      mongoc_bulk_operation_insert (b, d);
      bson_destroy (d);
   }
   bool ok = mongoc_bulk_operation_execute (b, NULL, &e) != 0;
   CHECK (ok, "C bulk insert 250", "%s", e.message);
   mongoc_bulk_operation_destroy (b);
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (40), "sort", "{", "n", BCON_INT32 (1), "}");
   bson_t *q = bson_new ();
   mongoc_cursor_t *cur = mongoc_collection_find_with_opts (coll, q, opts, NULL);
   const bson_t *d;
   int n = 0, inorder = 1;
   bson_iter_t it;
   while (mongoc_cursor_next (cur, &d)) {
      if (!bson_iter_init_find (&it, d, "n") || bson_iter_int32 (&it) != n)
         inorder = 0;
      n++;
   }
   CHECK (n == 250 && inorder && !mongoc_cursor_error (cur, &e), "C cursor over several batches (getMore)", "n=%d inorder=%d", n, inorder);
   mongoc_cursor_destroy (cur);
   bson_destroy (opts);
   bson_destroy (q);
   mongoc_collection_destroy (coll);
}

/* MongoDB: findAndModify with upsert+new returns the inserted document. */
static void
test_fam (mongoc_client_t *c)
{
   bson_error_t e;
   bson_t reply;
   mongoc_collection_t *coll = fresh (c, "fam");
   mongoc_find_and_modify_opts_t *o = mongoc_find_and_modify_opts_new ();
   bson_t *upd = BCON_NEW ("$inc", "{", "seq", BCON_INT64 (1), "}");
   mongoc_find_and_modify_opts_set_update (o, upd);
   mongoc_find_and_modify_opts_set_flags (o, MONGOC_FIND_AND_MODIFY_UPSERT | MONGOC_FIND_AND_MODIFY_RETURN_NEW);
   bson_t *q = BCON_NEW ("_id", BCON_UTF8 ("order_seq"));
   int64_t last = 0;
   bool ok = true;
   for (int i = 0; i < 3 && ok; i++) {
      ok = mongoc_collection_find_and_modify_with_opts (coll, q, o, &reply, &e);
      bson_iter_t it;
      if (ok && bson_iter_init (&it, &reply) && bson_iter_find_descendant (&it, "value.seq", &it) && BSON_ITER_HOLDS_INT64 (&it))
         last = bson_iter_int64 (&it);
      bson_destroy (&reply);
   }
   CHECK (ok && last == 3, "C findAndModify upsert+new counter (int64)", "ok=%d last=%lld %s", ok, (long long) last, ok ? "" : e.message);
   mongoc_find_and_modify_opts_destroy (o);
   bson_destroy (upd);
   bson_destroy (q);
   mongoc_collection_destroy (coll);
}

struct txn_ctx {
   mongoc_client_t *client;
   mongoc_client_session_t *other;
   int attempts;
};

/* Callback: on the first attempt another open transaction holds the same
 * document, so our write gets WriteConflict (112) labelled
 * TransientTransactionError; with_transaction retries and succeeds. */
static bool
txn_cb (mongoc_client_session_t *s, void *vctx, bson_t **reply, bson_error_t *error)
{
   struct txn_ctx *ctx = vctx;
   ctx->attempts++;
   mongoc_collection_t *coll = mongoc_client_get_collection (ctx->client, DB, "txn");
   bson_t *q = BCON_NEW ("_id", BCON_INT32 (1));
   bson_t *u = BCON_NEW ("$inc", "{", "stock", BCON_INT32 (-1), "}");
   bson_t opts = BSON_INITIALIZER;
   if (ctx->attempts == 1) {
      bson_error_t e2;
      bson_t o2 = BSON_INITIALIZER;
      mongoc_client_session_start_transaction (ctx->other, NULL, &e2);
      mongoc_client_session_append (ctx->other, &o2, &e2);
      bson_t *u2 = BCON_NEW ("$set", "{", "touched", BCON_BOOL (true), "}");
      mongoc_collection_update_one (coll, q, u2, &o2, NULL, &e2);
      bson_destroy (u2);
      bson_destroy (&o2);
   }
   mongoc_client_session_append (s, &opts, error);
   bson_t r;
   bool ok = mongoc_collection_update_one (coll, q, u, &opts, &r, error);
   if (!ok) {
      /* hand the reply (with its errorLabels) back to with_transaction */
      *reply = bson_copy (&r);
      if (ctx->attempts == 1) {
         bson_error_t e2;
         mongoc_client_session_abort_transaction (ctx->other, &e2);
      }
   }
   bson_destroy (&r);
   bson_destroy (&opts);
   bson_destroy (q);
   bson_destroy (u);
   mongoc_collection_destroy (coll);
   return ok;
}

static void
test_txn (mongoc_client_t *c)
{
   bson_error_t e;
   mongoc_collection_t *coll = fresh (c, "txn");
   bson_t *d = BCON_NEW ("_id", BCON_INT32 (1), "stock", BCON_INT32 (10));
   mongoc_collection_insert_one (coll, d, NULL, NULL, &e);
   mongoc_client_session_t *s = mongoc_client_start_session (c, NULL, &e);
   struct txn_ctx ctx = {c, mongoc_client_start_session (c, NULL, &e), 0};
   bson_t reply;
   bool ok = mongoc_client_session_with_transaction (s, txn_cb, NULL, &ctx, &reply, &e);
   CHECK (ok && ctx.attempts == 2, "C with_transaction: WriteConflict once, then retried and committed",
          "ok=%d attempts=%d %s", ok, ctx.attempts, ok ? "" : e.message);
   bson_destroy (&reply);
   bson_t *q = BCON_NEW ("_id", BCON_INT32 (1));
   mongoc_cursor_t *cur = mongoc_collection_find_with_opts (coll, q, NULL, NULL);
   const bson_t *got;
   bson_iter_t it;
   int stock = -1;
   bool touched = false;
   if (mongoc_cursor_next (cur, &got)) {
      if (bson_iter_init_find (&it, got, "stock"))
         stock = bson_iter_int32 (&it);
      touched = bson_iter_init_find (&it, got, "touched");
   }
   CHECK (stock == 9 && !touched, "C committed txn visible, aborted one not", "stock=%d touched=%d", stock, touched);
   mongoc_cursor_destroy (cur);

   /* Abort: MongoDB discards the transaction's writes. */
   bson_t opts = BSON_INITIALIZER;
   mongoc_client_session_start_transaction (s, NULL, &e);
   mongoc_client_session_append (s, &opts, &e);
   bson_t *u = BCON_NEW ("$set", "{", "stock", BCON_INT32 (0), "}");
   mongoc_collection_update_one (coll, q, u, &opts, NULL, &e);
   ok = mongoc_client_session_abort_transaction (s, &e);
   cur = mongoc_collection_find_with_opts (coll, q, NULL, NULL);
   stock = -1;
   if (mongoc_cursor_next (cur, &got) && bson_iter_init_find (&it, got, "stock"))
      stock = bson_iter_int32 (&it);
   CHECK (ok && stock == 9, "C abortTransaction discards writes", "ok=%d stock=%d", ok, stock);
   mongoc_cursor_destroy (cur);
   bson_destroy (&opts);
   bson_destroy (u);
   bson_destroy (q);
   bson_destroy (d);
   mongoc_client_session_destroy (ctx.other);
   mongoc_client_session_destroy (s);
   mongoc_collection_destroy (coll);
}

/* A pooled client runs background monitor threads whose heartbeats (OP_QUERY
 * isMaster in libmongoc 1.23) must keep working after the handshake. */
static void
test_pool (const char *uri_str)
{
   bson_error_t e;
   char buf[1024];
   snprintf (buf, sizeof buf, "%s%sheartbeatFrequencyMS=500", uri_str, strchr (uri_str, '?') ? "&" : "?");
   mongoc_uri_t *uri = mongoc_uri_new_with_error (buf, &e);
   mongoc_client_pool_t *pool = mongoc_client_pool_new (uri);
   bool ok = true;
   for (int round = 0; round < 3 && ok; round++) {
      mongoc_client_t *c = mongoc_client_pool_pop (pool);
      bson_t *cmd = BCON_NEW ("ping", BCON_INT32 (1));
      ok = mongoc_client_command_simple (c, "admin", cmd, NULL, NULL, &e);
      bson_destroy (cmd);
      mongoc_collection_t *coll = mongoc_client_get_collection (c, DB, "pool");
      bson_t *d = BCON_NEW ("round", BCON_INT32 (round));
      if (ok)
         ok = mongoc_collection_insert_one (coll, d, NULL, NULL, &e);
      bson_destroy (d);
      mongoc_collection_destroy (coll);
      mongoc_client_pool_push (pool, c);
      struct timespec ts = {0, 700 * 1000 * 1000};
      nanosleep (&ts, NULL); /* let heartbeats run */
   }
   CHECK (ok, "C pooled client across heartbeats (replicaSet URI)", "%s", e.message);
   mongoc_client_pool_destroy (pool);
   mongoc_uri_destroy (uri);
}

/* A standalone mongod refuses transactions with IllegalOperation (20). */
static void
test_standalone (const char *uri_str)
{
   bson_error_t e;
   mongoc_client_t *c = mongoc_client_new (uri_str);
   bson_t *cmd = BCON_NEW ("insert", BCON_UTF8 ("sa"), "documents", "[", "{", "a", BCON_INT32 (1), "}", "]");
   mongoc_client_session_t *s = mongoc_client_start_session (c, NULL, &e);
   bson_t opts = BSON_INITIALIZER;
   bool ok = false;
   if (s && mongoc_client_session_start_transaction (s, NULL, &e)) {
      mongoc_client_session_append (s, &opts, &e);
      ok = mongoc_client_write_command_with_opts (c, DB, cmd, &opts, NULL, &e);
   }
   CHECK (!ok && (e.code == 20 || strstr (e.message, "replica set") || strstr (e.message, "not supported")),
          "C standalone refuses transactions", "ok=%d code=%u %s", ok, e.code, e.message);
   bson_destroy (&opts);
   if (s)
      mongoc_client_session_destroy (s);
   bson_destroy (cmd);
   mongoc_client_destroy (c);
}

/* ---- issue 18: where MongoDB fails, the stand-in must fail too ---- */

static bson_t *
json (const char *s)
{
   bson_error_t e;
   bson_t *b = bson_new_from_json ((const uint8_t *) s, -1, &e);
   if (!b) {
      fprintf (stderr, "bad JSON in compat.c: %s: %s\n", e.message, s);
      abort ();
   }
   return b;
}

static int64_t
count_where (mongoc_collection_t *coll, const char *filter_json)
{
   bson_error_t e;
   bson_t *f = json (filter_json);
   int64_t n = mongoc_collection_count_documents (coll, f, NULL, NULL, NULL, &e);
   bson_destroy (f);
   return n;
}

/* Appends the session to fresh opts (caller destroys). */
static void
session_opts (mongoc_client_session_t *s, bson_t *opts)
{
   bson_error_t e;
   bson_init (opts);
   if (!mongoc_client_session_append (s, opts, &e))
      fprintf (stderr, "session append: %s\n", e.message);
}

static bool
start_txn (mongoc_client_session_t *s)
{
   bson_error_t e;
   bool ok = mongoc_client_session_start_transaction (s, NULL, &e);
   if (!ok)
      fprintf (stderr, "start transaction: %s\n", e.message);
   return ok;
}

/* configureFailPoint on admin (mongod needs enableTestCommands=1; the
 * stand-in --enable-test-commands). Returns false when the server refuses
 * the command; *count gets the reply's count (times the previous setting
 * fired) when asked. */
static bool
fail_point (mongoc_client_t *c, const char *spec_json, int *count)
{
   bson_error_t e;
   bson_t reply;
   bson_t *cmd = json (spec_json);
   bool ok = mongoc_client_command_simple (c, "admin", cmd, NULL, &reply, &e);
   bson_iter_t it;
   if (ok && count)
      *count = bson_iter_init_find (&it, &reply, "count") && BSON_ITER_HOLDS_INT32 (&it) ? bson_iter_int32 (&it) : -1;
   if (!ok)
      fprintf (stderr, "configureFailPoint: %s\n", e.message);
   bson_destroy (&reply);
   bson_destroy (cmd);
   return ok;
}

/* The application's own transaction loop, written as src/store/txn.c
 * store_txn_run does: the callback's transient errors (112, 251, 24, network)
 * rerun the whole transaction; a commit with UnknownTransactionCommitResult
 * is committed again, one with TransientTransactionError reruns it all; a
 * 10 s bound; a short pause between runs. */
typedef bool (*app_txn_fn) (mongoc_client_session_t *s, void *ctx, int attempt, bson_error_t *e);

struct app_txn_stats {
   int runs;    /* callback runs */
   int commits; /* commitTransaction calls by the loop */
   bool saw_unknown_commit;
   bool saw_transient;
};

static bool
app_txn_transient (const bson_error_t *e)
{
   if (e->domain == MONGOC_ERROR_STREAM || e->domain == MONGOC_ERROR_SERVER_SELECTION)
      return true;
   return e->code == 24 || e->code == 112 || e->code == 251;
}

static bool
app_txn_run (mongoc_client_t *c, app_txn_fn fn, void *ctx, struct app_txn_stats *st, bson_error_t *e)
{
   bson_error_t local;
   mongoc_client_session_t *s = mongoc_client_start_session (c, NULL, &local);
   mongoc_transaction_opt_t *topts = mongoc_transaction_opts_new ();
   mongoc_write_concern_t *wc = mongoc_write_concern_new ();
   mongoc_read_concern_t *rc = mongoc_read_concern_new ();
   bool ok = false;
   struct timespec t0;
   clock_gettime (CLOCK_MONOTONIC, &t0);
   double deadline = (double) t0.tv_sec + 10.0;

   memset (st, 0, sizeof *st);
   if (!s) {
      *e = local;
      goto done;
   }
   mongoc_write_concern_set_w (wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
   mongoc_read_concern_set_level (rc, MONGOC_READ_CONCERN_LEVEL_SNAPSHOT);
   mongoc_transaction_opts_set_write_concern (topts, wc);
   mongoc_transaction_opts_set_read_concern (topts, rc);
   for (int attempt = 0;; attempt++) {
      struct timespec now;
      bool retry_all = false;
      memset (e, 0, sizeof *e);
      if (!mongoc_client_session_start_transaction (s, topts, e))
         goto done;
      st->runs++;
      if (!fn (s, ctx, attempt, e)) {
         bson_error_t ignored;
         mongoc_client_session_abort_transaction (s, &ignored);
         clock_gettime (CLOCK_MONOTONIC, &now);
         if (app_txn_transient (e) && (double) now.tv_sec < deadline) {
            struct timespec p = {0, (1L << (attempt < 6 ? attempt : 6)) * 1000000L};
            st->saw_transient = true;
            nanosleep (&p, NULL);
            continue;
         }
         goto done;
      }
      for (;;) {
         bson_t reply;
         st->commits++;
         ok = mongoc_client_session_commit_transaction (s, &reply, e);
         if (ok) {
            bson_destroy (&reply);
            goto done;
         }
         clock_gettime (CLOCK_MONOTONIC, &now);
         if (mongoc_error_has_label (&reply, "UnknownTransactionCommitResult") && (double) now.tv_sec < deadline) {
            st->saw_unknown_commit = true;
            bson_destroy (&reply);
            continue;
         }
         retry_all = mongoc_error_has_label (&reply, "TransientTransactionError") || app_txn_transient (e);
         bson_destroy (&reply);
         break;
      }
      clock_gettime (CLOCK_MONOTONIC, &now);
      if (retry_all && (double) now.tv_sec < deadline) {
         st->saw_transient = true;
         continue;
      }
      goto done;
   }
done:
   mongoc_read_concern_destroy (rc);
   mongoc_write_concern_destroy (wc);
   mongoc_transaction_opts_destroy (topts);
   if (s)
      mongoc_client_session_destroy (s);
   return ok;
}

struct conflict_ctx {
   mongoc_client_t *client;
   mongoc_client_session_t *blocker;
   const char *coll;
   const char *doc_json;  /* what the callback inserts (NULL: $inc stock) */
   bool commit_blocker;   /* the blocker commits (else aborts) after our failure */
};

/* Attempt 0: another transaction writes first (the same document, or the
 * same unique key), so our write conflicts; the blocker then ends. */
static bool
conflict_cb (mongoc_client_session_t *s, void *vctx, int attempt, bson_error_t *e)
{
   struct conflict_ctx *ctx = vctx;
   mongoc_collection_t *coll = mongoc_client_get_collection (ctx->client, DB, ctx->coll);
   bson_t opts, bopts;
   bool ok;
   if (attempt == 0) {
      bson_error_t e2;
      start_txn (ctx->blocker);
      session_opts (ctx->blocker, &bopts);
      if (ctx->doc_json) {
         bson_t *d = json (ctx->doc_json);
         mongoc_collection_insert_one (coll, d, &bopts, NULL, &e2);
         bson_destroy (d);
      } else {
         bson_t *q = json ("{\"_id\": 1}"), *u = json ("{\"$set\": {\"blocker\": true}}");
         mongoc_collection_update_one (coll, q, u, &bopts, NULL, &e2);
         bson_destroy (q);
         bson_destroy (u);
      }
      bson_destroy (&bopts);
   }
   session_opts (s, &opts);
   if (ctx->doc_json) {
      bson_t *d = json (ctx->doc_json);
      ok = mongoc_collection_insert_one (coll, d, &opts, NULL, e);
      bson_destroy (d);
   } else {
      bson_t *q = json ("{\"_id\": 1}"), *u = json ("{\"$inc\": {\"stock\": -1}}");
      ok = mongoc_collection_update_one (coll, q, u, &opts, NULL, e);
      bson_destroy (q);
      bson_destroy (u);
   }
   if (attempt == 0) {
      bson_error_t e2;
      if (ctx->commit_blocker)
         mongoc_client_session_commit_transaction (ctx->blocker, NULL, &e2);
      else
         mongoc_client_session_abort_transaction (ctx->blocker, &e2);
   }
   bson_destroy (&opts);
   mongoc_collection_destroy (coll);
   return ok;
}

/* MongoDB: the app's loop reruns a transaction that met a WriteConflict and
 * commits it once. */
static void
test_app_retry_loop (mongoc_client_t *c)
{
   bson_error_t e;
   mongoc_collection_t *coll = fresh (c, "app_loop");
   bson_t *d = json ("{\"_id\": 1, \"stock\": 10}");
   mongoc_collection_insert_one (coll, d, NULL, NULL, &e);
   struct conflict_ctx ctx = {c, mongoc_client_start_session (c, NULL, &e), "app_loop", NULL, false};
   struct app_txn_stats st;
   bool ok = app_txn_run (c, conflict_cb, &ctx, &st, &e);
   CHECK (ok && st.runs == 2 && st.saw_transient, "C app txn loop: WriteConflict (112) reruns the transaction, then it commits",
          "ok=%d runs=%d %s", ok, st.runs, ok ? "" : e.message);
   CHECK (count_where (coll, "{\"_id\": 1, \"stock\": 9, \"blocker\": {\"$exists\": false}}") == 1,
          "C app txn loop: the write applied exactly once", "stock wrong");
   mongoc_client_session_destroy (ctx.blocker);
   bson_destroy (d);
   mongoc_collection_destroy (coll);
}

/* MongoDB: two open transactions inserting one unique key: the second gets
 * WriteConflict (112) labelled TransientTransactionError; rerun after the
 * first committed, it gets E11000, which is not transient. */
static void
test_txn_unique (mongoc_client_t *c)
{
   bson_error_t e;
   bson_t reply, o1, o2;
   mongoc_collection_t *coll = fresh (c, "txn_unique");
   bson_t *ix = json ("{\"createIndexes\": \"txn_unique\", \"indexes\": [{\"key\": {\"order_no\": 1}, \"name\": \"order_no_1\", \"unique\": true}]}");
   mongoc_collection_write_command_with_opts (coll, ix, NULL, NULL, &e);
   mongoc_client_session_t *s1 = mongoc_client_start_session (c, NULL, &e), *s2 = mongoc_client_start_session (c, NULL, &e);
   start_txn (s1);
   start_txn (s2);
   session_opts (s1, &o1);
   session_opts (s2, &o2);
   bson_t *d1 = json ("{\"order_no\": \"N-1\", \"by\": 1}"), *d2 = json ("{\"order_no\": \"N-1\", \"by\": 2}");
   bool ok1 = mongoc_collection_insert_one (coll, d1, &o1, NULL, &e);
   bool ok2 = mongoc_collection_insert_one (coll, d2, &o2, &reply, &e);
   CHECK (ok1 && !ok2 && e.code == 112 && mongoc_error_has_label (&reply, "TransientTransactionError"),
          "C two txns, one unique key: the second gets 112 TransientTransactionError", "ok1=%d ok2=%d code=%u %s", ok1, ok2,
          e.code, e.message);
   bson_destroy (&reply);
   mongoc_client_session_abort_transaction (s2, &e);
   bool committed = mongoc_client_session_commit_transaction (s1, NULL, &e);
   bson_destroy (&o2);
   start_txn (s2);
   session_opts (s2, &o2);
   ok2 = mongoc_collection_insert_one (coll, d2, &o2, &reply, &e);
   CHECK (committed && !ok2 && e.code == 11000 && !mongoc_error_has_label (&reply, "TransientTransactionError"),
          "C two txns, one unique key: rerun after the commit gets 11000", "committed=%d ok2=%d code=%u %s", committed, ok2,
          e.code, e.message);
   bson_destroy (&reply);
   mongoc_client_session_abort_transaction (s2, &e);

   /* The same through the app's loop: 112, rerun, 11000 ends it. */
   struct conflict_ctx ctx = {c, mongoc_client_start_session (c, NULL, &e), "txn_unique", "{\"order_no\": \"N-2\"}", true};
   struct app_txn_stats st;
   bool ok = app_txn_run (c, conflict_cb, &ctx, &st, &e);
   CHECK (!ok && e.code == 11000 && st.runs == 2 && st.saw_transient,
          "C app txn loop: unique key taken by a concurrent txn -> 112, rerun, then 11000", "ok=%d runs=%d code=%u %s", ok,
          st.runs, e.code, e.message);
   CHECK (count_where (coll, "{}") == 2, "C unique key committed once per key", "documents: %" PRId64, count_where (coll, "{}"));
   mongoc_client_session_destroy (ctx.blocker);
   bson_destroy (&o1);
   bson_destroy (&o2);
   bson_destroy (d1);
   bson_destroy (d2);
   bson_destroy (ix);
   mongoc_client_session_destroy (s1);
   mongoc_client_session_destroy (s2);
   mongoc_collection_destroy (coll);
}

struct insert_ctx {
   mongoc_client_t *client;
   const char *coll;
   int n;
};

static bool
insert_cb (mongoc_client_session_t *s, void *vctx, int attempt, bson_error_t *e)
{
   struct insert_ctx *ctx = vctx;
   (void) attempt;
   mongoc_collection_t *coll = mongoc_client_get_collection (ctx->client, DB, ctx->coll);
   bson_t opts;
   session_opts (s, &opts);
   bson_t *d = BCON_NEW ("case", BCON_INT32 (ctx->n));
   bool ok = mongoc_collection_insert_one (coll, d, &opts, NULL, e);
   bson_destroy (d);
   bson_destroy (&opts);
   mongoc_collection_destroy (coll);
   return ok;
}

/* MongoDB (failCommand): a commit that fails with a retryable error, a
 * writeConcern error, or a dropped connection leaves an unknown result; the
 * app commits again and the transaction's writes land exactly once. */
static void
test_commit_fail_points (mongoc_client_t *c)
{
   bson_error_t e;
   mongoc_collection_t *coll = fresh (c, "commit_fp");
   struct insert_ctx ctx = {c, "commit_fp", 0};
   struct app_txn_stats st;
   int fired = 0;
   if (!fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": \"off\"}", NULL)) {
      SKIP ("C commit fail points", "configureFailPoint refused (mongod needs --setParameter enableTestCommands=1)");
      mongoc_collection_destroy (coll);
      return;
   }
   /* ShutdownInProgress twice: the driver's own commit retry meets the second. */
   fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 2}, \"data\": {\"failCommands\": "
                  "[\"commitTransaction\"], \"errorCode\": 91}}", NULL);
   ctx.n = 1;
   bool ok = app_txn_run (c, insert_cb, &ctx, &st, &e);
   fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": \"off\"}", &fired);
   CHECK (ok && st.saw_unknown_commit && st.commits >= 2 && fired == 2 && count_where (coll, "{\"case\": 1}") == 1,
          "C commit fails with 91 (UnknownTransactionCommitResult): committed again, applied once",
          "ok=%d unknown=%d commits=%d fired=%d n=%" PRId64 " %s", ok, st.saw_unknown_commit, st.commits, fired,
          count_where (coll, "{\"case\": 1}"), ok ? "" : e.message);

   /* A writeConcern error: the commit happened, its durability is unknown. */
   fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 1}, \"data\": {\"failCommands\": "
                  "[\"commitTransaction\"], \"writeConcernError\": {\"code\": 64, \"codeName\": \"WriteConcernFailed\", "
                  "\"errmsg\": \"waiting for replication timed out\", \"errInfo\": {\"wtimeout\": true}}}}", NULL);
   ctx.n = 2;
   ok = app_txn_run (c, insert_cb, &ctx, &st, &e);
   fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": \"off\"}", &fired);
   CHECK (ok && st.saw_unknown_commit && st.commits == 2 && fired == 1 && count_where (coll, "{\"case\": 2}") == 1,
          "C commit with a writeConcernError: UnknownTransactionCommitResult, committed again, applied once",
          "ok=%d unknown=%d commits=%d fired=%d n=%" PRId64 " %s", ok, st.saw_unknown_commit, st.commits, fired,
          count_where (coll, "{\"case\": 2}"), ok ? "" : e.message);

   /* The connection drops at commit, twice (the driver retries once). */
   fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 2}, \"data\": {\"failCommands\": "
                  "[\"commitTransaction\"], \"closeConnection\": true}}", NULL);
   ctx.n = 3;
   ok = app_txn_run (c, insert_cb, &ctx, &st, &e);
   fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": \"off\"}", &fired);
   CHECK (ok && st.commits >= 2 && fired == 2 && count_where (coll, "{\"case\": 3}") == 1,
          "C connection dropped at commit: committed again on a new connection, applied once",
          "ok=%d commits=%d fired=%d n=%" PRId64 " %s", ok, st.commits, fired, count_where (coll, "{\"case\": 3}"),
          ok ? "" : e.message);

   /* TransientTransactionError at commit: the whole transaction reruns. */
   fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 1}, \"data\": {\"failCommands\": "
                  "[\"commitTransaction\"], \"errorCode\": 251, \"errorLabels\": [\"TransientTransactionError\"]}}", NULL);
   ctx.n = 4;
   ok = app_txn_run (c, insert_cb, &ctx, &st, &e);
   fail_point (c, "{\"configureFailPoint\": \"failCommand\", \"mode\": \"off\"}", &fired);
   CHECK (ok && st.runs == 2 && fired == 1 && count_where (coll, "{\"case\": 4}") == 1,
          "C commit fails with TransientTransactionError: the transaction reruns, applied once",
          "ok=%d runs=%d fired=%d n=%" PRId64 " %s", ok, st.runs, fired, count_where (coll, "{\"case\": 4}"),
          ok ? "" : e.message);
   mongoc_collection_destroy (coll);
}

/* MongoDB: an upsert inside a transaction inserts (seen by the transaction,
 * not outside until commit); two transactions upserting one unique key:
 * the second gets 112 TransientTransactionError (the dedupe_key pattern). */
static void
test_txn_upsert (mongoc_client_t *c)
{
   bson_error_t e;
   bson_t reply, o1, o2;
   mongoc_collection_t *coll = fresh (c, "txn_upsert");
   bson_t *ix = json ("{\"createIndexes\": \"txn_upsert\", \"indexes\": [{\"key\": {\"dedupe_key\": 1}, \"name\": \"dk\", \"unique\": true}]}");
   mongoc_collection_write_command_with_opts (coll, ix, NULL, NULL, &e);
   mongoc_client_session_t *s1 = mongoc_client_start_session (c, NULL, &e), *s2 = mongoc_client_start_session (c, NULL, &e);
   bson_t *q = json ("{\"dedupe_key\": \"adj-1\"}");
   bson_t *u = json ("{\"$setOnInsert\": {\"qty\": {\"$numberLong\": \"5\"}}, \"$set\": {\"seen\": true}}");
   start_txn (s1);
   session_opts (s1, &o1);
   bson_append_bool (&o1, "upsert", -1, true);
   bool ok = mongoc_collection_update_one (coll, q, u, &o1, &reply, &e);
   bson_iter_t it;
   bool upserted = ok && bson_iter_init_find (&it, &reply, "upsertedCount") && bson_iter_as_int64 (&it) == 1;
   bson_destroy (&reply);
   bson_t ro;
   session_opts (s1, &ro);
   int64_t inside = mongoc_collection_count_documents (coll, q, &ro, NULL, NULL, &e);
   int64_t outside = count_where (coll, "{\"dedupe_key\": \"adj-1\"}");
   CHECK (upserted && inside == 1 && outside == 0, "C upsert inside a transaction: seen inside only",
          "ok=%d upserted=%d inside=%" PRId64 " outside=%" PRId64 " %s", ok, upserted, inside, outside, ok ? "" : e.message);
   start_txn (s2);
   session_opts (s2, &o2);
   bson_append_bool (&o2, "upsert", -1, true);
   bool ok2 = mongoc_collection_update_one (coll, q, u, &o2, &reply, &e);
   CHECK (!ok2 && e.code == 112 && mongoc_error_has_label (&reply, "TransientTransactionError"),
          "C concurrent upsert of one unique key in two txns -> 112 TransientTransactionError", "ok2=%d code=%u %s", ok2,
          e.code, e.message);
   bson_destroy (&reply);
   mongoc_client_session_abort_transaction (s2, &e);
   ok = mongoc_client_session_commit_transaction (s1, NULL, &e);
   CHECK (ok && count_where (coll, "{\"dedupe_key\": \"adj-1\", \"qty\": {\"$type\": \"long\"}}") == 1,
          "C upserted document committed with its int64", "%s", e.message);
   bson_destroy (&ro);
   bson_destroy (&o1);
   bson_destroy (&o2);
   bson_destroy (q);
   bson_destroy (u);
   bson_destroy (ix);
   mongoc_client_session_destroy (s1);
   mongoc_client_session_destroy (s2);
   mongoc_collection_destroy (coll);
}

/* MongoDB: {$elemMatch} in the filter picks the array element that the
 * positional `variants.$` updates ($inc with a stock guard), in a txn. */
static void
test_txn_elemmatch_positional (mongoc_client_t *c)
{
   bson_error_t e;
   bson_t reply, opts;
   mongoc_collection_t *coll = fresh (c, "txn_variants");
   bson_t *d = json ("{\"_id\": 1, \"variants\": [{\"sku\": \"A\", \"stock\": {\"$numberLong\": \"5\"}}, "
                     "{\"sku\": \"B\", \"stock\": {\"$numberLong\": \"2\"}}]}");
   mongoc_collection_insert_one (coll, d, NULL, NULL, &e);
   mongoc_client_session_t *s = mongoc_client_start_session (c, NULL, &e);
   bson_t *q = json ("{\"_id\": 1, \"variants\": {\"$elemMatch\": {\"sku\": \"B\", \"stock\": {\"$gte\": 2}}}}");
   bson_t *u = json ("{\"$inc\": {\"variants.$.stock\": {\"$numberLong\": \"-2\"}}}");
   start_txn (s);
   session_opts (s, &opts);
   bool ok = mongoc_collection_update_one (coll, q, u, &opts, &reply, &e);
   bson_iter_t it;
   int64_t m1 = ok && bson_iter_init_find (&it, &reply, "modifiedCount") ? bson_iter_as_int64 (&it) : -1;
   bson_destroy (&reply);
   ok = ok && mongoc_collection_update_one (coll, q, u, &opts, &reply, &e);
   int64_t m2 = ok && bson_iter_init_find (&it, &reply, "matchedCount") ? bson_iter_as_int64 (&it) : -1;
   bson_destroy (&reply);
   ok = ok && mongoc_client_session_commit_transaction (s, NULL, &e);
   CHECK (ok && m1 == 1 && m2 == 0, "C $elemMatch + variants.$ $inc in a txn: guard matches once", "ok=%d m1=%" PRId64 " m2=%" PRId64 " %s",
          ok, m1, m2, ok ? "" : e.message);
   CHECK (count_where (coll, "{\"variants\": {\"$elemMatch\": {\"sku\": \"B\", \"stock\": {\"$numberLong\": \"0\"}}}}") == 1 &&
             count_where (coll, "{\"variants\": {\"$elemMatch\": {\"sku\": \"A\", \"stock\": 5}}}") == 1 &&
             count_where (coll, "{\"variants.stock\": {\"$type\": \"long\"}}") == 1,
          "C only the matched variant changed, int64 kept", "variants wrong");
   bson_destroy (&opts);
   bson_destroy (q);
   bson_destroy (u);
   bson_destroy (d);
   mongoc_client_session_destroy (s);
   mongoc_collection_destroy (coll);
}

/* MongoDB: count_documents (an aggregate) works in a transaction; the
 * count command is refused there with 263 OperationNotSupportedInTransaction. */
static void
test_txn_count (mongoc_client_t *c)
{
   bson_error_t e;
   bson_t opts;
   mongoc_collection_t *coll = fresh (c, "txn_count");
   bson_t *d = json ("{\"k\": 1}");
   mongoc_collection_insert_one (coll, d, NULL, NULL, &e);
   mongoc_client_session_t *s = mongoc_client_start_session (c, NULL, &e);
   start_txn (s);
   session_opts (s, &opts);
   mongoc_collection_insert_one (coll, d, &opts, NULL, &e);
   bson_t *f = json ("{\"k\": 1}");
   int64_t n = mongoc_collection_count_documents (coll, f, &opts, NULL, NULL, &e);
   CHECK (n == 2, "C count_documents in a transaction (aggregate) sees its writes", "n=%" PRId64 " %s", n, e.message);
   bson_t *cmd = json ("{\"count\": \"txn_count\"}");
   bool ok = mongoc_collection_read_command_with_opts (coll, cmd, NULL, &opts, NULL, &e);
   CHECK (!ok && e.code == 263, "C count command in a transaction -> 263", "ok=%d code=%u %s", ok, e.code, e.message);
   mongoc_client_session_abort_transaction (s, &e);
   bson_destroy (cmd);
   bson_destroy (f);
   bson_destroy (&opts);
   bson_destroy (d);
   mongoc_client_session_destroy (s);
   mongoc_collection_destroy (coll);
}

/* MongoDB: a plain findAndModify on a document an open transaction wrote
 * waits for it; with maxTimeMS 50 it fails with MaxTimeMSExpired (50). */
static void
test_max_time_ms (mongoc_client_t *c)
{
   bson_error_t e;
   bson_t opts, reply;
   mongoc_collection_t *coll = fresh (c, "maxtime");
   bson_t *d = json ("{\"_id\": 1, \"n\": 0}");
   mongoc_collection_insert_one (coll, d, NULL, NULL, &e);
   mongoc_client_session_t *s = mongoc_client_start_session (c, NULL, &e);
   bson_t *q = json ("{\"_id\": 1}"), *u = json ("{\"$inc\": {\"n\": 1}}");
   start_txn (s);
   session_opts (s, &opts);
   mongoc_collection_update_one (coll, q, u, &opts, NULL, &e);
   mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new ();
   mongoc_find_and_modify_opts_set_update (fam, u);
   mongoc_find_and_modify_opts_set_max_time_ms (fam, 50);
   struct timespec t0, t1;
   clock_gettime (CLOCK_MONOTONIC, &t0);
   bool ok = mongoc_collection_find_and_modify_with_opts (coll, q, fam, &reply, &e);
   clock_gettime (CLOCK_MONOTONIC, &t1);
   double ms = (double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6;
   CHECK (!ok && e.code == 50 && ms >= 40, "C findAndModify blocked by a txn, maxTimeMS 50 -> 50 MaxTimeMSExpired",
          "ok=%d code=%u after %.0f ms %s", ok, e.code, ms, e.message);
   bson_destroy (&reply);
   mongoc_client_session_commit_transaction (s, NULL, &e);
   CHECK (count_where (coll, "{\"n\": 1}") == 1, "C the timed-out write did not apply", "n wrong");
   mongoc_find_and_modify_opts_destroy (fam);
   bson_destroy (&opts);
   bson_destroy (q);
   bson_destroy (u);
   bson_destroy (d);
   mongoc_client_session_destroy (s);
   mongoc_collection_destroy (coll);
}

/* MongoDB keeps int64 exact above 2^53 in filters, $inc and $group. */
static void
test_int64_exact (mongoc_client_t *c)
{
   bson_error_t e;
   mongoc_collection_t *coll = fresh (c, "int64");
   bson_t *a = BCON_NEW ("_id", BCON_INT32 (1), "v", BCON_INT64 (9007199254740992LL));
   bson_t *b = BCON_NEW ("_id", BCON_INT32 (2), "v", BCON_INT64 (9007199254740993LL));
   mongoc_collection_insert_one (coll, a, NULL, NULL, &e);
   mongoc_collection_insert_one (coll, b, NULL, NULL, &e);
   bson_t *f = BCON_NEW ("v", BCON_INT64 (9007199254740993LL));
   int64_t n = mongoc_collection_count_documents (coll, f, NULL, NULL, NULL, &e);
   CHECK (n == 1, "C filter on 2^53+1 matches only that int64", "n=%" PRId64, n);
   bson_t *q = BCON_NEW ("_id", BCON_INT32 (2));
   bson_t *u = BCON_NEW ("$inc", "{", "v", BCON_INT64 (2), "}");
   mongoc_collection_update_one (coll, q, u, NULL, NULL, &e);
   mongoc_cursor_t *cur = mongoc_collection_find_with_opts (coll, q, NULL, NULL);
   const bson_t *got;
   bson_iter_t it;
   int64_t v = 0;
   if (mongoc_cursor_next (cur, &got) && bson_iter_init_find (&it, got, "v") && BSON_ITER_HOLDS_INT64 (&it))
      v = bson_iter_int64 (&it);
   mongoc_cursor_destroy (cur);
   CHECK (v == 9007199254740995LL, "C $inc of an int64 above 2^53 keeps every digit", "v=%" PRId64, v);
   bson_t *pipe = json ("{\"pipeline\": [{\"$group\": {\"_id\": null, \"s\": {\"$sum\": \"$v\"}, \"mx\": {\"$max\": \"$v\"}, "
                        "\"mn\": {\"$min\": \"$v\"}}}]}");
   bson_iter_t p;
   bson_t arr;
   bson_iter_init_find (&p, pipe, "pipeline");
   uint32_t len;
   const uint8_t *data;
   bson_iter_array (&p, &len, &data);
   bson_init_static (&arr, data, len);
   cur = mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, &arr, NULL, NULL);
   int64_t s = 0, mx = 0, mn = 0;
   bool typed = false;
   if (mongoc_cursor_next (cur, &got)) {
      bson_iter_t i1, i2, i3;
      typed = bson_iter_init_find (&i1, got, "s") && BSON_ITER_HOLDS_INT64 (&i1) && bson_iter_init_find (&i2, got, "mx") &&
              BSON_ITER_HOLDS_INT64 (&i2) && bson_iter_init_find (&i3, got, "mn") && BSON_ITER_HOLDS_INT64 (&i3);
      if (typed) {
         s = bson_iter_int64 (&i1);
         mx = bson_iter_int64 (&i2);
         mn = bson_iter_int64 (&i3);
      }
   }
   mongoc_cursor_destroy (cur);
   CHECK (typed && s == 18014398509481987LL && mx == 9007199254740995LL && mn == 9007199254740992LL,
          "C $group $sum/$max/$min of int64 above 2^53: int64, exact", "typed=%d s=%" PRId64 " mx=%" PRId64 " mn=%" PRId64,
          typed, s, mx, mn);
   bson_destroy (pipe);
   bson_destroy (q);
   bson_destroy (u);
   bson_destroy (f);
   bson_destroy (a);
   bson_destroy (b);
   mongoc_collection_destroy (coll);
}

/* MongoDB: a $jsonSchema validator refuses money as a double where
 * bsonType long is required, and a missing required field: 121
 * DocumentValidationFailure with errInfo {failingDocumentId, details}. */
static void
test_json_schema (mongoc_client_t *c)
{
   bson_error_t e;
   bson_t reply;
   mongoc_database_t *db = mongoc_client_get_database (c, DB);
   mongoc_collection_t *old = mongoc_client_get_collection (c, DB, "vpay");
   mongoc_collection_drop (old, NULL);
   mongoc_collection_destroy (old);
   bson_t *opts = json ("{\"validator\": {\"$jsonSchema\": {\"bsonType\": \"object\", \"required\": [\"amount\", \"currency\"], "
                        "\"properties\": {\"amount\": {\"bsonType\": \"long\", \"minimum\": 0}, "
                        "\"currency\": {\"bsonType\": \"string\", \"minLength\": 3, \"maxLength\": 3}}}}}");
   mongoc_collection_t *coll = mongoc_database_create_collection (db, "vpay", opts, &e);
   CHECK (coll != NULL, "C create collection with a $jsonSchema validator", "%s", e.message);
   if (!coll) {
      bson_destroy (opts);
      mongoc_database_destroy (db);
      return;
   }
   bson_t *good = BCON_NEW ("amount", BCON_INT64 (12550), "currency", BCON_UTF8 ("BDT"));
   bool ok = mongoc_collection_insert_one (coll, good, NULL, NULL, &e);
   CHECK (ok, "C valid document accepted", "%s", e.message);
   bson_t *dbl = BCON_NEW ("_id", BCON_INT32 (7), "amount", BCON_DOUBLE (125.5), "currency", BCON_UTF8 ("BDT"));
   ok = mongoc_collection_insert_one (coll, dbl, NULL, &reply, &e);
   char *js = bson_as_relaxed_extended_json (&reply, NULL);
   CHECK (!ok && e.code == 121 && strstr (js, "errInfo") && strstr (js, "failingDocumentId") && strstr (js, "bsonType"),
          "C money as a double where bsonType long is required -> 121 with errInfo", "ok=%d code=%u %s", ok, e.code, js);
   bson_free (js);
   bson_destroy (&reply);
   bson_t *missing = BCON_NEW ("amount", BCON_INT64 (1));
   ok = mongoc_collection_insert_one (coll, missing, NULL, &reply, &e);
   js = bson_as_relaxed_extended_json (&reply, NULL);
   CHECK (!ok && e.code == 121 && strstr (js, "missingProperties") && strstr (js, "currency"),
          "C missing required field -> 121 (missingProperties)", "ok=%d code=%u %s", ok, e.code, js);
   bson_free (js);
   bson_destroy (&reply);
   bson_t *q = json ("{}"), *u = json ("{\"$set\": {\"amount\": 1.5}}");
   ok = mongoc_collection_update_one (coll, q, u, NULL, NULL, &e);
   CHECK (!ok && e.code == 121, "C update to a double amount -> 121", "ok=%d code=%u %s", ok, e.code, e.message);
   CHECK (count_where (coll, "{\"amount\": {\"$type\": \"long\"}}") == 1, "C refused writes changed nothing", "count wrong");
   bson_destroy (q);
   bson_destroy (u);
   bson_destroy (good);
   bson_destroy (dbl);
   bson_destroy (missing);
   bson_destroy (opts);
   mongoc_collection_destroy (coll);
   mongoc_database_destroy (db);
}

static double
now_s (void)
{
   struct timespec ts;
   clock_gettime (CLOCK_MONOTONIC, &ts);
   return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Not a test: find-by-_id throughput over N product-like documents. */
static void
bench (mongoc_client_t *c, int n)
{
   bson_error_t e;
   mongoc_collection_t *coll = fresh (c, "bench");
   mongoc_bulk_operation_t *b = NULL;
   double t0 = now_s ();
   for (int i = 0; i < n; i++) {
      if (!b)
         b = mongoc_collection_create_bulk_operation_with_opts (coll, NULL);
      char name[64], sku[32];
      snprintf (name, sizeof name, "Product number %d deluxe edition", i);
      snprintf (sku, sizeof sku, "SKU-%08d", i);
      bson_t *d = BCON_NEW ("_id", BCON_INT32 (i), "sku", BCON_UTF8 (sku), "name", BCON_UTF8 (name),
                            "description", BCON_UTF8 ("A fine product with a long description that fills some bytes of the document, like real catalog entries do."),
                            "price_cents", BCON_INT64 (1999 + i), "stock", BCON_INT32 (i % 100), "rating", BCON_DOUBLE (4.5),
                            "tags", "[", BCON_UTF8 ("alpha"), BCON_UTF8 ("beta"), "]", "created", BCON_DATE_TIME (1700000000000LL));
      mongoc_bulk_operation_insert (b, d);
      bson_destroy (d);
      if (i % 1000 == 999 || i == n - 1) {
         mongoc_bulk_operation_execute (b, NULL, &e);
         mongoc_bulk_operation_destroy (b);
         b = NULL;
      }
   }
   double t1 = now_s ();
   int iters = 20000, found = 0;
   for (int i = 0; i < iters; i++) {
      bson_t *q = BCON_NEW ("_id", BCON_INT32 ((i * 7919) % n));
      mongoc_cursor_t *cur = mongoc_collection_find_with_opts (coll, q, NULL, NULL);
      const bson_t *d;
      if (mongoc_cursor_next (cur, &d))
         found++;
      mongoc_cursor_destroy (cur);
      bson_destroy (q);
   }
   double t2 = now_s ();
   printf ("bench: inserted %d docs in %.2fs; %d finds by _id in %.2fs = %.0f ops/s (found %d)\n", n, t1 - t0, iters,
           t2 - t1, iters / (t2 - t1), found);
   mongoc_collection_destroy (coll);
}

int
main (int argc, char **argv)
{
   if (argc < 2) {
      fprintf (stderr, "usage: %s URI [STANDALONE_URI|-] [bench N]\n", argv[0]);
      return 2;
   }
   mongoc_init ();
   bson_error_t e;
   mongoc_uri_t *uri = mongoc_uri_new_with_error (argv[1], &e);
   if (!uri) {
      fprintf (stderr, "bad uri: %s\n", e.message);
      return 2;
   }
   mongoc_client_t *c = mongoc_client_new_from_uri (uri);
   mongoc_client_set_error_api (c, MONGOC_ERROR_API_VERSION_2);
   if (argc >= 5 && strcmp (argv[3], "bench") == 0) {
      bench (c, atoi (argv[4]));
      mongoc_client_destroy (c);
      mongoc_uri_destroy (uri);
      mongoc_cleanup ();
      return 0;
   }
   bson_t *ping = BCON_NEW ("ping", BCON_INT32 (1));
   bool ok = mongoc_client_command_simple (c, "admin", ping, NULL, NULL, &e);
   CHECK (ok, "C single-threaded client connects (replicaSet URI, OP_QUERY handshake)", "%s", e.message);
   bson_destroy (ping);
   if (ok) {
      test_types (c);
      test_unique (c);
      test_cursor (c);
      test_fam (c);
      test_txn (c);
      test_pool (argv[1]);
      test_app_retry_loop (c);
      test_txn_unique (c);
      test_commit_fail_points (c);
      test_txn_upsert (c);
      test_txn_elemmatch_positional (c);
      test_txn_count (c);
      test_max_time_ms (c);
      test_int64_exact (c);
      test_json_schema (c);
   }
   if (argc >= 3 && strcmp (argv[2], "-") != 0)
      test_standalone (argv[2]);
   mongoc_client_destroy (c);
   mongoc_uri_destroy (uri);
   mongoc_cleanup ();
   printf ("C: %d passed, %d failed, %d skipped\n", passes, failures, skips);
   return failures ? 1 : 0;
}
