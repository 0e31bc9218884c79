/*
 * Checkouts under faults, through nginx on the race pool (8 workers), with
 * the invariants checked after:
 *   - FastCGI workers SIGKILLed at random every 50-100 ms while 60
 *     customers check out overlapping 3-line carts at once;
 *   - the database stopped while checkouts run, more checkouts during the
 *     outage (each a 503 problem+json within the request timeout), then
 *     the database started again;
 *   - the database stopped and started with readiness probes only: every
 *     worker serves again within 1 s of its return (per worker figures).
 * After each: every client retries its failed checkout with the same
 * Idempotency-Key until it is placed (exactly one order per customer);
 * for every SKU initial stock = final stock + units in orders; every
 * order line has its one stock decrement and no "order EM-..." decrement
 * lacks its order; every order has its one confirmation job in the
 * outbox; every 201 a client saw is an order in the database.
 *
 * The stand-in keeps its data in memory: stopping it loses everything. So
 * the suite first restarts a stand-in that has no --dbpath with one (and
 * runs the migrations again), which wipes what earlier suites wrote: it
 * runs in the last group of scripts/test, beside test_serving. Against an
 * external MONGODB_URI the outage test is skipped (not ours to stop).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness_orders.h"

enum { KILL_N = 60, OUT_N = 24, SKUS = 6, MAX_N = 64 };

#define STOCK0 1000L
/* the request timeout the suite runs with: an idempotency claim of a
 * request that died is taken over after it + 5 s */
#define REQ_TIMEOUT_S 8
#define SETTLE_S 90.0

struct shop {
	char prod[25];
	char skus[SKUS][96];
};

struct run {
	struct ho_customer who[MAX_N];
	char keys[MAX_N][33];
	long status[MAX_N];
	bool problem[MAX_N];    /* the answer was application/problem+json */
	double secs[MAX_N];
	char first_id[MAX_N][25]; /* the order id of a 201, "" if none */
	int n;
};

static bool persistent_db; /* the database survives a stop (not in memory) */

/* ---- the database, read directly ---- */

static mongoc_collection_t *db_coll(mongoc_client_t **client, const char *name)
{
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	*client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	assert_non_null(*client);
	return mongoc_client_get_collection(*client, db, name);
}

static const char *doc_str(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return "";
}

static bool sku_ours(const struct shop *s, const char *sku)
{
	for (int k = 0; k < SKUS; k++)
		if (strcmp(s->skus[k], sku) == 0)
			return true;
	return false;
}

/*
 * Walks every order that holds one of the shop's SKUs: checks its
 * confirmation job and, per line, its one stock decrement; adds the
 * line's units to units[sku] (non-cancelled orders). Returns the number of
 * lines seen.
 */
static long orders_walk(const struct shop *s, long units[SKUS], long *norders)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = db_coll(&client, "orders");
	bson_t *filter = bson_new(), arr;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	long lines = 0;
	char key[8];

	BSON_APPEND_DOCUMENT_BEGIN(filter, "lines.sku", &arr);
	{
		bson_t in;

		BSON_APPEND_ARRAY_BEGIN(&arr, "$in", &in);
		for (int k = 0; k < SKUS; k++) {
			snprintf(key, sizeof key, "%d", k);
			BSON_APPEND_UTF8(&in, key, s->skus[k]);
		}
		bson_append_array_end(&arr, &in);
	}
	bson_append_document_end(filter, &arr);
	memset(units, 0, sizeof(long) * SKUS);
	*norders = 0;
	cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		char number[64], f[400];
		bool cancelled = strcmp(doc_str(doc, "status"), "cancelled") == 0;
		bson_iter_t it, ls, l;

		snprintf(number, sizeof number, "%s", doc_str(doc, "number"));
		(*norders)++;
		/* cash on delivery: its confirmation mail, once, in the outbox */
		snprintf(f, sizeof f, "{\"dedupe_key\": \"order_confirmation:%s\"}", number);
		if (h_db_count("jobs", f) != 1)
			fail_msg("order %s has %ld confirmation jobs", number, h_db_count("jobs", f));
		assert_true(bson_iter_init_find(&it, doc, "lines") && bson_iter_recurse(&it, &ls));
		while (bson_iter_next(&ls)) {
			const char *sku = NULL;
			int64_t q = 0;

			assert_true(bson_iter_recurse(&ls, &l));
			while (bson_iter_next(&l)) {
				if (strcmp(bson_iter_key(&l), "sku") == 0)
					sku = bson_iter_utf8(&l, NULL);
				else if (strcmp(bson_iter_key(&l), "quantity") == 0)
					q = bson_iter_as_int64(&l);
			}
			assert_non_null(sku);
			lines++;
			for (int k = 0; k < SKUS; k++)
				if (!cancelled && strcmp(s->skus[k], sku) == 0)
					units[k] += (long)q;
			/* the line's stock decrement, exactly one */
			snprintf(f, sizeof f,
				 "{\"sku\": \"%s\", \"reason\": \"order %s\", \"delta\": %lld}", sku,
				 number, (long long)-q);
			if (h_db_count("inventory_adjustments", f) != 1)
				fail_msg("order %s line %s x%lld: %ld decrements", number, sku,
					 (long long)q, h_db_count("inventory_adjustments", f));
		}
	}
	if (mongoc_cursor_error(cur, &berr))
		fail_msg("orders: %s", berr.message);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	return lines;
}

/* Every "order EM-..." decrement of the shop's SKUs names an existing
 * order that holds the SKU; returns how many there are. */
static long adjustments_walk(const struct shop *s)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = db_coll(&client, "inventory_adjustments");
	bson_t *filter = BCON_NEW("reason", BCON_REGEX("^order ", ""));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	const bson_t *doc;
	bson_error_t berr;
	long n = 0;

	while (mongoc_cursor_next(cur, &doc)) {
		const char *sku = doc_str(doc, "sku"), *reason = doc_str(doc, "reason");
		char f[400];

		if (!sku_ours(s, sku))
			continue;
		n++;
		snprintf(f, sizeof f, "{\"number\": \"%s\", \"lines.sku\": \"%s\"}", reason + 6, sku);
		if (h_db_count("orders", f) != 1)
			fail_msg("decrement of %s (%s) without its order", sku, reason);
	}
	if (mongoc_cursor_error(cur, &berr))
		fail_msg("adjustments: %s", berr.message);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	return n;
}

/* Every invariant of the file comment, over the shop and its runs. */
static void invariants_check(const struct shop *s, struct run *const *runs, int nruns)
{
	long units[SKUS], norders, lines, adjustments, expected = 0;
	char f[200];

	lines = orders_walk(s, units, &norders);
	adjustments = adjustments_walk(s);
	fprintf(stderr, "  %ld orders, %ld lines, %ld order decrements\n", norders, lines,
		adjustments);
	/* each line has one decrement (orders_walk), each decrement its order:
	 * equal counts leave no decrement over */
	assert_int_equal(adjustments, lines);
	for (int k = 0; k < SKUS; k++) {
		long left = ho_stock(s->prod, s->skus[k]);

		if (left + units[k] != STOCK0)
			fail_msg("%s: %ld left + %ld ordered != %ld", s->skus[k], left, units[k],
				 STOCK0);
	}
	for (int r = 0; r < nruns; r++) {
		for (int i = 0; i < runs[r]->n; i++) {
			/* exactly one order per customer (each placed once, retried
			 * with its key) */
			snprintf(f, sizeof f, "{\"user_id\": {\"$oid\": \"%s\"}}", runs[r]->who[i].id);
			if (h_db_count("orders", f) != 1)
				fail_msg("customer %d of run %d has %ld orders", i, r,
					 h_db_count("orders", f));
			/* every 201 a client saw is that order */
			if (runs[r]->first_id[i][0]) {
				snprintf(f, sizeof f, "{\"_id\": {\"$oid\": \"%s\"}, \"user_id\":"
					 " {\"$oid\": \"%s\"}}", runs[r]->first_id[i],
					 runs[r]->who[i].id);
				if (h_db_count("orders", f) != 1)
					fail_msg("a 201 (order %s) the client saw is not in the database",
						 runs[r]->first_id[i]);
			}
			expected++;
		}
	}
	assert_int_equal(norders, expected);
}

/* ---- the shop, the customers, the checkouts ---- */

static void shop_make(struct shop *s, const char *name)
{
	char variants[2048];
	size_t o;

	o = (size_t)snprintf(variants, sizeof variants, "[");
	for (int k = 0; k < SKUS; k++) {
		char base[16];

		snprintf(base, sizeof base, "%.3s%d", name, k);
		snprintf(s->skus[k], sizeof s->skus[k], "%s", ho_sku(base));
		o += (size_t)snprintf(variants + o, sizeof variants - o,
				      "%s{\"sku\": \"%s\", \"options\": {\"size\": \"s%d\"},"
				      " \"price\": %d, \"stock\": %ld}",
				      k ? ", " : "", base, k, 10000 + k * 100, STOCK0);
	}
	snprintf(variants + o, sizeof variants - o, "]");
	ho_product(name, variants, s->prod);
	for (int k = 0; k < SKUS; k++)
		assert_int_equal(ho_stock(s->prod, s->skus[k]), STOCK0);
}

/* n customers, each with three overlapping SKUs of the shop (1..3 units). */
static void run_prepare(struct run *r, const struct shop *s, int n)
{
	memset(r, 0, sizeof *r);
	r->n = n;
	for (int i = 0; i < n; i++) {
		ho_customer_new(&r->who[i], false);
		for (int k = 0; k < 3; k++)
			ho_cart_add(&r->who[i], s->skus[(i + k) % SKUS], 1 + (i + k) % 3);
		ho_key(r->keys[i]);
	}
}

static double now_s(void)
{
	return h_now_s();
}

/* One checkout of customer i with its key; records what it got. No cmocka
 * assertions here: this runs on a thread of its own. */
static void run_one(struct run *r, int i)
{
	struct h_resp resp;
	double t0 = now_s();
	char ct[128];

	h_source_set(2 + i % 250);
	resp = ho_place(&r->who[i], r->keys[i], NULL);
	h_source_set(0);
	r->secs[i] = now_s() - t0;
	r->status[i] = resp.ok ? resp.status : 0;
	r->problem[i] = h_header(&resp, "content-type", ct, sizeof ct) &&
			strstr(ct, "application/problem+json") != NULL;
	if (r->status[i] == 201 && resp.body) {
		json_object *j = json_tokener_parse(resp.body), *id;

		if (j && json_object_object_get_ex(j, "id", &id))
			snprintf(r->first_id[i], sizeof r->first_id[i], "%s",
				 json_object_get_string(id));
		json_object_put(j);
	}
	h_resp_free(&resp);
}

static void run_par(int i, void *arg)
{
	run_one(arg, i);
}

static long run_count(const struct run *r, long status)
{
	long n = 0;

	for (int i = 0; i < r->n; i++)
		n += r->status[i] == status;
	return n;
}

/*
 * Every checkout that did not get its 201 is retried with the same key
 * until it does: a 409 while the dead request's claim is still leased,
 * 502/503/504 or no answer while the stack recovers. Anything else is a
 * failure. Returns the number of retries.
 */
static long run_settle(struct run *r)
{
	double deadline = now_s() + SETTLE_S;
	long retries = 0;

	for (int i = 0; i < r->n; i++) {
		while (r->status[i] != 201) {
			struct h_resp resp;
			char id[25] = "";

			if (now_s() > deadline)
				fail_msg("checkout %d still not placed after %.0f s (last %ld)", i,
					 SETTLE_S, r->status[i]);
			h_source_set(2 + i % 250);
			resp = ho_place(&r->who[i], r->keys[i], NULL);
			h_source_set(0);
			retries++;
			r->status[i] = resp.ok ? resp.status : 0;
			if (r->status[i] == 201) {
				ho_jstr(&resp, "id", id, sizeof id);
				/* a 201 seen before is the same order */
				if (r->first_id[i][0])
					assert_string_equal(id, r->first_id[i]);
				else
					snprintf(r->first_id[i], sizeof r->first_id[i], "%s", id);
			} else if (r->status[i] == 409) {
				if (!resp.body || !strstr(resp.body, "still running"))
					fail_msg("retry %d: 409 %s", i, resp.body ? resp.body : "");
				h_sleep_ms(500);
			} else if (r->status[i] == 0 || r->status[i] == 502 ||
				   r->status[i] == 503 || r->status[i] == 504) {
				h_sleep_ms(300);
			} else {
				fail_msg("retry %d: %ld %s", i, r->status[i], resp.body ? resp.body : "");
			}
			h_resp_free(&resp);
		}
	}
	return retries;
}

/* ---- the stack ---- */

static pid_t mongo_pid(void)
{
	char path[1024];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof path, "%s/run/mongo.pid", h_env("STACK_DIR"));
	f = fopen(path, "r");
	if (f && fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return (pid_t)pid;
}

/* Whether the database process's command line holds needle. */
static bool mongo_cmdline_has(const char *needle)
{
	char path[64], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)mongo_pid());
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* /health/ready answers 200 ten times in a row (every worker is back). */
static bool stack_ready(int max_tries)
{
	int streak = 0;

	for (int tries = 0; tries < max_tries && streak < 10; tries++) {
		struct h_resp r;

		h_source_set(2 + tries % 250);
		r = h_get("/api/v1/health/ready");
		h_source_set(0);
		streak = r.status == 200 ? streak + 1 : 0;
		h_resp_free(&r);
		if (streak == 0)
			h_sleep_ms(200);
	}
	return streak >= 10;
}

/* The build's emporium-admin migrate (the indexes) on the stack. */
/* The build directory: <build>/tests/integration/test_x -> <build>. */
static void build_dir(char *exe, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", exe, size - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(exe, '/');

		assert_non_null(slash);
		*slash = '\0';
	}
}

static int stack_migrate(void)
{
	char exe[1024], cmd[2048];

	build_dir(exe, sizeof exe);
	snprintf(cmd, sizeof cmd, "EMPORIUM_ENV_FILE='%s' '%s/emporium-admin' migrate >/dev/null 2>&1",
		 h_env("STACK_ENV_FILE"), exe);
	return system(cmd);
}

/* The build's emporium-admin status --json on the stack: its stdout (free it). */
static char *admin_status(int *rc)
{
	char exe[1024], cmd[2048];
	size_t len = 0, cap = 1 << 16;
	char *out = malloc(cap);
	ssize_t n;
	FILE *p;
	int st;

	assert_non_null(out);
	build_dir(exe, sizeof exe);
	snprintf(cmd, sizeof cmd, "EMPORIUM_ENV_FILE='%s' '%s/emporium-admin' status --json 2>/dev/null",
		 h_env("STACK_ENV_FILE"), exe);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (len + 1 < cap && (n = (ssize_t)fread(out + len, 1, cap - 1 - len, p)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	st = pclose(p);
	*rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

static int suite_setup(void **state)
{
	char extra[128], dbpath[1024];

	(void)state;
	/* the stand-in started again keeps its data in STACK_DIR/faults-db */
	snprintf(dbpath, sizeof dbpath, "%s/faults-db", h_env("STACK_DIR"));
	assert_int_equal(setenv("STACK_MONGO_DBPATH", dbpath, 1), 0);
	if (getenv("MONGODB_URI")) {
		persistent_db = false;
	} else if (mongo_cmdline_has("server.js") && !mongo_cmdline_has("--dbpath")) {
		fprintf(stderr, "  restarting the stand-in with --dbpath (its data is lost)\n");
		assert_true(h_stack_ctl("mongo-stop"));
		assert_true(h_stack_ctl("mongo-start"));
		assert_true(mongo_cmdline_has("--dbpath"));
		assert_int_equal(stack_migrate(), 0);
		assert_true(stack_ready(150));
		persistent_db = true;
	} else {
		persistent_db = true; /* mongod, or a stand-in with --dbpath */
	}
	hc_init();
	snprintf(extra, sizeof extra, "EMPORIUM_WORKERS=%d\nEMPORIUM_REQUEST_TIMEOUT=%d",
		 h_race_workers(), REQ_TIMEOUT_S);
	assert_true(h_stack_reconfigure(extra));
	for (int i = 0; i < 100 && h_worker_pids((pid_t[64]){ 0 }, 64) < h_race_workers(); i++)
		h_sleep_ms(100);
	assert_true(h_worker_pids((pid_t[64]){ 0 }, 64) >= h_race_workers());
	assert_true(stack_ready(150));
	return 0;
}

static int suite_teardown(void **state)
{
	(void)state;
	return h_stack_reconfigure(NULL) ? 0 : -1;
}

/* ---- workers killed mid-checkout ---- */

struct killer {
	atomic_int stop;
	int kills;
	pthread_t th;
};

/*
 * SIGKILLs a random worker every 50-100 ms. Only workers that have lived
 * 2 s are chosen: the master backs off respawning workers that die young
 * (a crash loop), and the pool must stay a pool.
 */
static void *killer_main(void *arg)
{
	struct killer *k = arg;
	pid_t seen[512];
	double born[512];
	int nseen = 0;
	bool first_look = true;
	unsigned seed = (unsigned)getpid();

	while (!atomic_load(&k->stop)) {
		pid_t pids[64], cand[64];
		int n, nc = 0;
		double t;

		h_sleep_ms(50 + rand_r(&seed) % 51);
		t = now_s();
		n = h_worker_pids(pids, 64);
		for (int i = 0; i < n; i++) {
			int j;

			for (j = 0; j < nseen && seen[j] != pids[i]; j++)
				;
			if (j == nseen && nseen < 512) {
				/* the pool of the first look is old already */
				seen[nseen] = pids[i];
				born[nseen++] = first_look ? t - 10 : t;
			}
			if (j < nseen && t - born[j] >= 2.0)
				cand[nc++] = pids[i];
		}
		first_look = false;
		if (nc > 0 && kill(cand[rand_r(&seed) % (unsigned)nc], SIGKILL) == 0)
			k->kills++;
	}
	return NULL;
}

static void test_workers_killed_mid_checkout(void **state)
{
	static struct shop s;
	static struct run r;
	struct run *runs[1] = { &r };
	struct killer k;
	pid_t first[64];
	int nfirst;
	long retries;

	(void)state;
	shop_make(&s, "Kil");
	run_prepare(&r, &s, KILL_N);
	memset(&k, 0, sizeof k);
	atomic_init(&k.stop, 0);
	nfirst = h_worker_pids(first, 64);
	assert_true(nfirst >= 2);
	assert_int_equal(pthread_create(&k.th, NULL, killer_main, &k), 0);
	h_parallel(KILL_N, run_par, &r);
	atomic_store(&k.stop, 1);
	pthread_join(k.th, NULL);
	fprintf(stderr, "  %d workers killed; first answers: %ld x 201, %ld x 502, %ld x 503,"
		" %ld x 504, %ld dropped, %ld other\n", k.kills, run_count(&r, 201),
		run_count(&r, 502), run_count(&r, 503), run_count(&r, 504), run_count(&r, 0),
		KILL_N - run_count(&r, 201) - run_count(&r, 502) - run_count(&r, 503) -
			run_count(&r, 504) - run_count(&r, 0));
	/* the faults happened: workers died while the checkouts ran */
	assert_true(k.kills >= 2);
	for (int i = 0; i < KILL_N; i++)
		if (r.status[i] != 201 && r.status[i] != 0 && r.status[i] != 502 &&
		    r.status[i] != 503 && r.status[i] != 504)
			fail_msg("checkout %d answered %ld", i, r.status[i]);
	/* the master brings the pool back */
	for (int i = 0; i < 200 && h_worker_pids(first, 64) < h_race_workers(); i++)
		h_sleep_ms(100);
	if (h_worker_pids(first, 64) < h_race_workers())
		fail_msg("the pool did not come back: %d workers of %d", h_worker_pids(first, 64),
			 h_race_workers());
	retries = run_settle(&r);
	fprintf(stderr, "  settled with %ld retries\n", retries);
	invariants_check(&s, runs, 1);
}

/* ---- a worker killed while its transaction holds its locks ---- */

/* configureFailPoint failCommand on the stack's database (test commands);
 * false when the server refuses it (a database without test commands). */
static bool failpoint_set(const char *mode_json, const char *data_json)
{
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	char json[512];
	bson_t *cmd;
	bson_error_t berr;
	bool ok;

	assert_non_null(client);
	snprintf(json, sizeof json, "{\"configureFailPoint\": \"failCommand\", \"mode\": %s%s%s}",
		 mode_json, data_json ? ", \"data\": " : "", data_json ? data_json : "");
	cmd = bson_new_from_json((const uint8_t *)json, -1, &berr);
	assert_non_null(cmd);
	ok = mongoc_client_command_simple(client, "admin", cmd, NULL, NULL, &berr);
	if (!ok)
		fprintf(stderr, "  configureFailPoint: %s\n", berr.message);
	bson_destroy(cmd);
	mongoc_client_destroy(client);
	return ok;
}

struct held {
	struct run *r;
	int killed;
};

/* Thread 0 checks out; thread 1 kills every worker while that checkout's
 * commit is held back by the fail point (its writes done, its locks
 * taken). */
static void held_par(int i, void *arg)
{
	struct held *h = arg;

	if (i == 0) {
		run_one(h->r, 0);
		return;
	}
	h_sleep_ms(1500);
	{
		pid_t pids[64];
		int n = h_worker_pids(pids, 64);

		for (int k = 0; k < n; k++)
			h->killed += kill(pids[k], SIGKILL) == 0;
	}
}

/*
 * The worst moment to die: after every write of the placement (order
 * number taken, stock decremented, order inserted, cart cleared), before
 * the commit. The fail point holds the commit back longer than the
 * database's transaction lifetime, so the dead worker's transaction is
 * never committed - as when a worker dies before sending its commit. The
 * database keeps such a transaction open, with its write locks (on the
 * order-number counter every placement writes, on its product, its cart)
 * until its lifetime limit (60 s by default, on mongod as on the
 * stand-in). Checkouts of other customers, of other products, must not
 * wait that long: one placed within the request timeout (plus the time
 * the master takes to respawn) is the bound.
 */
static void test_worker_killed_holding_locks(void **state)
{
	static struct shop s, s2;
	static struct run r, other;
	struct run *runs_r[1] = { &r }, *runs_other[1] = { &other };
	struct held h = { .r = &r, .killed = 0 };
	double t0, placed_after = -1;

	(void)state;
	shop_make(&s, "Lck");
	/* the next customer buys another product: the two placements share
	 * no product, cart or address, only what every placement writes */
	shop_make(&s2, "Lc2");
	run_prepare(&r, &s, 1);
	run_prepare(&other, &s2, 1);
	if (!failpoint_set("{\"times\": 1}",
			   "{\"failCommands\": [\"commitTransaction\"], \"blockConnection\": true,"
			   " \"blockTimeMS\": 75000, \"appName\": \"emporium-fcgi\"}")) {
		skip(); /* no test commands on this database */
	}
	h_parallel(2, held_par, &h);
	assert_true(failpoint_set("\"off\"", NULL));
	fprintf(stderr, "  %d workers killed while the commit was held; that checkout: %ld\n",
		h.killed, r.status[0]);
	assert_true(h.killed >= 1);
	/* it died before its commit: no answer from it */
	assert_true(r.status[0] == 0 || r.status[0] == 502 || r.status[0] == 503 ||
		    r.status[0] == 504);
	/* another customer, another product */
	t0 = now_s();
	while (now_s() - t0 < 70.0) {
		run_one(&other, 0);
		if (other.status[0] == 201) {
			placed_after = now_s() - t0;
			break;
		}
		h_sleep_ms(250);
	}
	fprintf(stderr, "  the next customer's checkout was placed after %.1f s (last %ld)\n",
		placed_after, other.status[0]);
	if (placed_after < 0 || placed_after > REQ_TIMEOUT_S + 5)
		fail_msg("checkouts blocked by the dead worker's transaction: placed after %.1f s"
			 " (status %ld)", placed_after, other.status[0]);
	run_settle(&r);
	invariants_check(&s, runs_r, 1);
	invariants_check(&s2, runs_other, 1);
}

/* ---- the database stopped mid-checkout ---- */

struct outage {
	struct run *r;
	bool stopped;
};

/* Thread 0 stops the database a moment after the checkouts start. */
static void outage_par(int i, void *arg)
{
	struct outage *o = arg;

	if (i == 0) {
		h_sleep_ms(60);
		o->stopped = h_stack_ctl("mongo-stop");
		return;
	}
	run_one(o->r, i - 1);
}

static void test_database_stopped_mid_checkout(void **state)
{
	static struct shop s;
	static struct run during, down;
	struct run *runs[2] = { &during, &down };
	struct outage o = { .r = &during, .stopped = false };
	long retries;

	(void)state;
	if (getenv("MONGODB_URI")) {
		skip(); /* an external database is not ours to stop */
	}
	assert_true(persistent_db);
	shop_make(&s, "Out");
	run_prepare(&during, &s, OUT_N);
	run_prepare(&down, &s, OUT_N);
	h_parallel(OUT_N + 1, outage_par, &o);
	assert_true(o.stopped);
	fprintf(stderr, "  during the stop: %ld x 201, %ld x 503, %ld other\n",
		run_count(&during, 201), run_count(&during, 503),
		OUT_N - run_count(&during, 201) - run_count(&during, 503));
	for (int i = 0; i < OUT_N; i++) {
		if (during.status[i] != 201 && (during.status[i] != 503 || !during.problem[i]))
			fail_msg("checkout %d during the stop: %ld after %.1f s", i,
				 during.status[i], during.secs[i]);
		if (during.secs[i] >= REQ_TIMEOUT_S)
			fail_msg("checkout %d during the stop took %.1f s", i, during.secs[i]);
	}
	/* the database is down: every checkout is a prompt 503 problem */
	h_parallel(OUT_N, run_par, &down);
	{
		double worst = 0;

		for (int i = 0; i < OUT_N; i++)
			worst = down.secs[i] > worst ? down.secs[i] : worst;
		fprintf(stderr, "  while down: %ld x 503 (slowest %.2f s)\n", run_count(&down, 503),
			worst);
	}
	for (int i = 0; i < OUT_N; i++) {
		if (down.status[i] != 503 || !down.problem[i])
			fail_msg("checkout %d while down: %ld (problem+json %d) after %.1f s", i,
				 down.status[i], down.problem[i], down.secs[i]);
		if (down.secs[i] >= REQ_TIMEOUT_S)
			fail_msg("checkout %d while down took %.1f s", i, down.secs[i]);
	}
	assert_true(h_stack_ctl("mongo-start"));
	assert_true(stack_ready(150));
	retries = run_settle(&during) + run_settle(&down);
	fprintf(stderr, "  settled with %ld retries\n", retries);
	invariants_check(&s, runs, 2);
}


/* ---- every worker back within 1 s of the database's return ---- */

#define PROBE_MAX 4096
#define PROBE_THREADS 8

struct probe {
	char rid[64];
	double sent, got; /* h_now_s() */
	long status;
	bool problem;
	int pid;          /* the worker that answered (from its access line) */
};

struct probes {
	struct probe p[PROBE_MAX];
	atomic_int n;
	double origin;        /* h_now_s() */
	_Atomic double until; /* probes stop then */
	bool start_db;        /* thread 0 starts the database, then sets until */
	bool started;
	double start_took;
};

/* Readiness (a ping of the database) from every thread until `until`. */
static void probe_par(int i, void *arg)
{
	struct probes *ps = arg;

	if (ps->start_db && i == 0) {
		double t0 = now_s();

		ps->started = h_stack_ctl("mongo-start");
		/* the database accepts connections (mongo-start waits for it):
		 * the time origin of the figures from here on */
		ps->origin = now_s();
		ps->start_took = ps->origin - t0;
		atomic_store(&ps->until, ps->origin + 3.0);
		return;
	}
	while (now_s() < atomic_load(&ps->until)) {
		int k = atomic_fetch_add(&ps->n, 1);
		struct probe *p;
		struct h_resp r;
		char ct[128];

		if (k >= PROBE_MAX)
			return;
		p = &ps->p[k];
		h_source_set(2 + (i * 31 + k) % 250);
		p->sent = now_s();
		r = h_get("/api/v1/health/ready");
		p->got = now_s();
		h_source_set(0);
		p->status = r.ok ? r.status : 0;
		p->problem = h_header(&r, "content-type", ct, sizeof ct) &&
			     strstr(ct, "application/problem+json") != NULL;
		if (!h_header(&r, "x-request-id", p->rid, sizeof p->rid))
			p->rid[0] = '\0';
		h_resp_free(&r);
		h_sleep_ms(15);
	}
}

static int probes_count(const struct probes *ps)
{
	int n = atomic_load(&ps->n);

	return n > PROBE_MAX ? PROBE_MAX : n;
}

/* Fills each probe's pid from the FastCGI workers' access lines. */
static void probes_attribute(struct probes *ps)
{
	char path[1024], line[8192];
	int n = probes_count(ps);
	FILE *f;

	snprintf(path, sizeof path, "%s/logs/fcgi.log", h_env("STACK_DIR"));
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		json_object *j, *v;
		const char *rid;

		if (!strstr(line, "/api/v1/health/ready") || !strstr(line, "\"request_id\""))
			continue;
		j = json_tokener_parse(line);
		if (!j)
			continue;
		if (json_object_object_get_ex(j, "request_id", &v) &&
		    (rid = json_object_get_string(v)) != NULL &&
		    json_object_object_get_ex(j, "status", &v)) {
			json_object *pid;

			if (json_object_object_get_ex(j, "pid", &pid))
				for (int k = 0; k < n; k++)
					if (ps->p[k].rid[0] && strcmp(ps->p[k].rid, rid) == 0)
						ps->p[k].pid = json_object_get_int(pid);
		}
		json_object_put(j);
	}
	fclose(f);
}

/*
 * The database stopped and started again, with readiness probes (a ping
 * each) from 8 threads all along: while it is down every probe is a 503
 * problem+json within the request timeout; from the moment it is back
 * (mongo-start returns once it accepts connections), every worker answers
 * 200 again within 1 s. A single-threaded mongoc client waits out a 5 s
 * cooldown after a failed server check; the store replaces such a client
 * (store_recover) instead. Printed per worker: its last failure and its
 * first success after the return.
 */
static void test_database_restart_every_worker_back(void **state)
{
	static struct probes down, back;
	pid_t pool[64];
	int npool, n, failures_after = 0, served_by[64] = { 0 };
	double last_fail[64], first_ok[64], worst_down = 0, worst_back = -1;

	(void)state;
	if (getenv("MONGODB_URI")) {
		skip(); /* an external database is not ours to stop */
	}
	assert_true(persistent_db);
	assert_true(stack_ready(150));
	npool = h_worker_pids(pool, 64);
	assert_true(npool >= 2);
	/* down: every worker fails its checks for 2 s */
	assert_true(h_stack_ctl("mongo-stop"));
	memset(&down, 0, sizeof down);
	atomic_init(&down.n, 0);
	down.origin = now_s();
	atomic_init(&down.until, down.origin + 2.0);
	h_parallel(PROBE_THREADS, probe_par, &down);
	n = probes_count(&down);
	for (int k = 0; k < n; k++) {
		if (down.p[k].status != 503 || !down.p[k].problem)
			fail_msg("probe %d while down: %ld (problem+json %d) after %.2f s", k,
				 down.p[k].status, down.p[k].problem, down.p[k].got - down.p[k].sent);
		if (down.p[k].got - down.p[k].sent > worst_down)
			worst_down = down.p[k].got - down.p[k].sent;
	}
	fprintf(stderr, "  while down: %d probes, all 503 problem+json, slowest %.3f s\n", n,
		worst_down);
	assert_true(worst_down < REQ_TIMEOUT_S);
	/* the operator's view meanwhile: the pool up, the database not */
	{
		int rc;
		char *out = admin_status(&rc);
		json_object *j = json_tokener_parse(out), *db, *v;

		fprintf(stderr, "  emporium-admin status while down: exit %d\n", rc);
		if (!j)
			fail_msg("status --json: %s", out);
		assert_int_equal(rc, 1);
		assert_true(json_object_object_get_ex(j, "database", &db));
		assert_true(json_object_object_get_ex(db, "reachable", &v));
		assert_false(json_object_get_boolean(v));
		assert_true(json_object_object_get_ex(j, "pool", &db));
		assert_true(json_object_object_get_ex(db, "master_pid", &v));
		assert_int_equal(json_object_get_int(v), (int)h_master_pid());
		json_object_put(j);
		free(out);
	}
	/* back: the probes go on while the database starts, and 3 s after */
	memset(&back, 0, sizeof back);
	atomic_init(&back.n, 0);
	atomic_init(&back.until, now_s() + 60.0);
	back.start_db = true;
	h_parallel(PROBE_THREADS + 1, probe_par, &back);
	assert_true(back.started);
	probes_attribute(&back);
	n = probes_count(&back);
	for (int w = 0; w < npool; w++) {
		last_fail[w] = -1;
		first_ok[w] = -1;
	}
	for (int k = 0; k < n; k++) {
		const struct probe *p = &back.p[k];
		double got = p->got - back.origin;
		int w;

		if (p->sent < back.origin)
			continue; /* sent before the database was back */
		if (p->status != 200) {
			failures_after++;
			if (got > worst_back)
				worst_back = got;
		}
		for (w = 0; w < npool && pool[w] != p->pid; w++)
			;
		if (w == npool)
			continue; /* not one of the pool's (none died here) */
		served_by[w]++;
		if (p->status == 200 && (first_ok[w] < 0 || got < first_ok[w]))
			first_ok[w] = got;
		if (p->status != 200 && got > last_fail[w])
			last_fail[w] = got;
	}
	fprintf(stderr, "  mongo-start took %.2f s (probes all along); after it: %d probes, %d "
		"failed (the last answered at %.3f s)\n", back.start_took, n, failures_after,
		worst_back);
	for (int w = 0; w < npool; w++)
		fprintf(stderr, "  worker %d: %d probes, last failure %.3f s, first success %.3f s\n",
			(int)pool[w], served_by[w], last_fail[w], first_ok[w]);
	for (int w = 0; w < npool; w++) {
		if (served_by[w] == 0)
			fail_msg("worker %d got no probe in 3 s", (int)pool[w]);
		if (first_ok[w] < 0 || first_ok[w] > 1.0 || last_fail[w] > 1.0)
			fail_msg("worker %d: first success %.3f s, last failure %.3f s after the "
				 "database returned (bound: 1 s)", (int)pool[w], first_ok[w],
				 last_fail[w]);
	}
	assert_true(stack_ready(150));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workers_killed_mid_checkout),
		cmocka_unit_test(test_worker_killed_holding_locks),
		cmocka_unit_test(test_database_stopped_mid_checkout),
		cmocka_unit_test(test_database_restart_every_worker_back),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests_name("order-faults", tests, suite_setup, suite_teardown);
	h_cleanup();
	return rc;
}
