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

static int failures = 0, passes = 0;
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
   }
   if (argc >= 3 && strcmp (argv[2], "-") != 0)
      test_standalone (argv[2]);
   mongoc_client_destroy (c);
   mongoc_uri_destroy (uri);
   mongoc_cleanup ();
   printf ("C: %d passed, %d failed\n", passes, failures);
   return failures ? 1 : 0;
}
