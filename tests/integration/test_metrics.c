/*
 * Integration test for GET /metrics through nginx: the pool's counters
 * summed over every worker (7 requests made -> the counter grows by
 * exactly 7, whichever workers served them), a histogram that is
 * cumulative and counts every request, the workers' lifecycle, the job
 * queue's depth, and nginx refusing every scraper not in
 * NGX_METRICS_ALLOW (127.0.0.9 is loopback, but not 127.0.0.1).
 *
 * And the application's events, each made to happen and read back through
 * nginx's /metrics as exactly the expected growth: database errors (fail
 * points on the stand-in, for the FastCGI workers' appName only), a
 * transaction retried once by a checkout that also takes a variant's last
 * units (one stock-out, counted once although its transaction ran twice),
 * a checkout whose commits keep failing (one give-up, a 503), payment
 * notifications paid, replayed, in review and refused, and a refund.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness_orders.h"

static char *scrape(void)
{
	struct h_resp r = h_get("/metrics");
	char ct[128], *body;

	if (r.status != 200)
		fail_msg("/metrics: %ld %s", r.status, r.body ? r.body : "");
	assert_true(h_header(&r, "content-type", ct, sizeof ct));
	assert_non_null(strstr(ct, "text/plain; version=0.0.4"));
	body = strdup(r.body ? r.body : "");
	h_resp_free(&r);
	return body;
}

/* The value of the sample whose name and labels are exactly `series`; -1 if absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static void test_counts_every_request_once(void **state)
{
	const char *series = "emporium_http_requests_total{method=\"GET\",route=\"/api/v1/health\","
			     "code=\"2xx\"}";
	char *before, *after;
	double v0, v1;

	(void)state;
	before = scrape();
	v0 = sample(before, series);
	for (int i = 0; i < 7; i++) {
		struct h_resp r = h_get("/api/v1/health");

		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
	after = scrape();
	v1 = sample(after, series);
	fprintf(stderr, "  health 2xx: %g -> %g\n", v0, v1);
	assert_true(v1 >= 7);
	assert_true(v0 < 0 ? v1 == 7 : v1 == v0 + 7);
	free(before);
	free(after);
}

static void test_histogram_is_cumulative(void **state)
{
	char *text;
	const char *les[] = { "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
			      "0.5", "1", "2.5", "10", "+Inf" };
	char series[256];
	double last = 0, count, total = 0;

	(void)state;
	text = scrape();
	for (size_t i = 0; i < sizeof les / sizeof les[0]; i++) {
		double v;

		snprintf(series, sizeof series,
			 "emporium_http_request_duration_seconds_bucket{method=\"GET\","
			 "route=\"/api/v1/health\",le=\"%s\"}", les[i]);
		v = sample(text, series);
		assert_true(v >= last);
		last = v;
	}
	count = sample(text, "emporium_http_request_duration_seconds_count{method=\"GET\","
			     "route=\"/api/v1/health\"}");
	assert_true(count == last);
	for (int c = 1; c <= 5; c++) {
		double v;

		snprintf(series, sizeof series,
			 "emporium_http_requests_total{method=\"GET\",route=\"/api/v1/health\","
			 "code=\"%dxx\"}", c);
		v = sample(text, series);
		if (v > 0)
			total += v;
	}
	/* the histogram counts every request of the route, whatever its status */
	assert_true(count == total);
	assert_true(sample(text, "emporium_fcgi_workers_started_total") >= 1);
	assert_true(sample(text, "emporium_fcgi_worker_exits_total{reason=\"crash\"}") >= 0);
	assert_true(sample(text, "emporium_http_requests_in_flight") >= 1); /* this scrape */
	assert_true(sample(text, "emporium_jobs{status=\"pending\"}") >= 0);
	free(text);
}

/*
 * A worker that reached EMPORIUM_MAX_REQUESTS is counted as recycled, one
 * the master retired (a reload) as retired - not both as "clean".
 */
static void test_worker_exits_by_reason(void **state)
{
	const char *rec = "emporium_fcgi_worker_exits_total{reason=\"recycled\"}";
	const char *ret = "emporium_fcgi_worker_exits_total{reason=\"retired\"}";
	char *text;
	double rec0, ret0, rec1, ret1, rec2, ret2;
	int before;

	(void)state;
	text = scrape();
	rec0 = sample(text, rec);
	ret0 = sample(text, ret);
	free(text);
	assert_true(rec0 >= 0 && ret0 >= 0);
	/* a reload retires every worker of the pool */
	before = h_worker_pids((pid_t[64]){ 0 }, 64);
	assert_true(before >= 1);
	assert_true(h_stack_reconfigure("EMPORIUM_MAX_REQUESTS=5"));
	text = scrape();
	rec1 = sample(text, rec);
	ret1 = sample(text, ret);
	free(text);
	fprintf(stderr, "  retired %g -> %g (pool of %d), recycled %g -> %g\n", ret0, ret1, before,
		rec0, rec1);
	assert_true(ret1 >= ret0 + before);
	assert_true(rec1 == rec0);
	/* 40 requests over workers that serve 5 each: at least 40/5 - pool of
	 * them ended recycled, none retired */
	for (int i = 0; i < 40; i++) {
		struct h_resp r = h_get("/api/v1/health");

		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
	h_sleep_ms(300); /* the master reaps the last one */
	text = scrape();
	rec2 = sample(text, rec);
	ret2 = sample(text, ret);
	free(text);
	fprintf(stderr, "  recycled %g -> %g after 40 requests\n", rec1, rec2);
	assert_true(rec2 >= rec1 + 40 / 5 - h_worker_pids((pid_t[64]){ 0 }, 64));
	assert_true(ret2 == ret1);
	assert_true(h_stack_reconfigure(NULL));
}

static void test_only_allowed_scrapers(void **state)
{
	struct h_resp r;

	(void)state;
	h_source_set(9);
	r = h_get("/metrics");
	h_source_set(0);
	assert_int_equal(r.status, 403);
	assert_null(r.body ? strstr(r.body, "emporium_http_requests_total") : NULL);
	h_resp_free(&r);
}


/* The value of series in a fresh scrape (0 when absent: a counter not yet
 * incremented by any worker is still shown, but be lenient). */
static double now_value(const char *series)
{
	char *text = scrape();
	double v = sample(text, series);

	free(text);
	return v < 0 ? 0 : v;
}

/* configureFailPoint failCommand on the stack's database. */
static void failpoint(const char *mode_json, const char *data_json)
{
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	char json[1024];
	bson_t *cmd;
	bson_error_t berr;

	assert_non_null(client);
	snprintf(json, sizeof json, "{\"configureFailPoint\": \"failCommand\", \"mode\": %s%s%s}",
		 mode_json, data_json ? ", \"data\": " : "", data_json ? data_json : "");
	cmd = bson_new_from_json((const uint8_t *)json, -1, &berr);
	assert_non_null(cmd);
	if (!mongoc_client_command_simple(client, "admin", cmd, NULL, NULL, &berr))
		fail_msg("configureFailPoint: %s", berr.message);
	bson_destroy(cmd);
	mongoc_client_destroy(client);
}

#define DB_ERR(kind) "emporium_db_errors_total{kind=\"" kind "\"}"

/* A database error of each kind, one each: a refused ping (other), a ping
 * whose connection is dropped (unavailable). */
static void test_database_errors(void **state)
{
	double other0, unav0, other1, unav1;
	struct h_resp r;

	(void)state;
	other0 = now_value(DB_ERR("other"));
	unav0 = now_value(DB_ERR("unavailable"));
	failpoint("{\"times\": 1}", "{\"failCommands\": [\"ping\"], \"errorCode\": 2,"
		  " \"appName\": \"emporium-fcgi\"}");
	r = h_get("/api/v1/health/ready");
	assert_int_equal(r.status, 500);
	h_resp_free(&r);
	failpoint("{\"times\": 1}", "{\"failCommands\": [\"ping\"], \"closeConnection\": true,"
		  " \"appName\": \"emporium-fcgi\"}");
	r = h_get("/api/v1/health/ready");
	assert_int_equal(r.status, 503);
	h_resp_free(&r);
	failpoint("\"off\"", NULL);
	other1 = now_value(DB_ERR("other"));
	unav1 = now_value(DB_ERR("unavailable"));
	fprintf(stderr, "  db errors: other %g -> %g, unavailable %g -> %g\n", other0, other1, unav0,
		unav1);
	assert_true(other1 == other0 + 1);
	assert_true(unav1 == unav0 + 1);
}

#define RETRIES "emporium_db_transaction_retries_total{phase=\"transaction\"}"
#define COMMITTED "emporium_db_transactions_total{result=\"committed\"}"
#define STOCK_OUTS "emporium_stock_outs_total"

/*
 * A checkout of a variant's last 2 units whose first commit fails with a
 * transient error: the transaction runs again and commits; one retry, one
 * stock-out (the first attempt's is dropped with it), the order placed.
 */
static void test_retry_and_stock_out(void **state)
{
	struct ho_customer c;
	char prod[25], key[33];
	double retries0, outs0, commit0, retries1, outs1, commit1;
	struct h_resp r;

	(void)state;
	ho_product("Metric Mug", "[{\"sku\": \"MM1\", \"options\": {\"size\": \"one\"},"
		   " \"price\": 5000, \"stock\": 2}]", prod);
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("MM1"), 2);
	ho_key(key);
	retries0 = now_value(RETRIES);
	outs0 = now_value(STOCK_OUTS);
	commit0 = now_value(COMMITTED);
	failpoint("{\"times\": 1}", "{\"failCommands\": [\"commitTransaction\"], \"errorCode\": 112,"
		  " \"errorLabels\": [\"TransientTransactionError\"], \"appName\": \"emporium-fcgi\"}");
	r = ho_place(&c, key, NULL);
	failpoint("\"off\"", NULL);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body ? r.body : "");
	h_resp_free(&r);
	assert_int_equal(ho_stock(prod, ho_sku("MM1")), 0);
	retries1 = now_value(RETRIES);
	outs1 = now_value(STOCK_OUTS);
	commit1 = now_value(COMMITTED);
	fprintf(stderr, "  retries %g -> %g, stock-outs %g -> %g, committed %g -> %g\n", retries0,
		retries1, outs0, outs1, commit0, commit1);
	assert_true(retries1 == retries0 + 1);
	assert_true(outs1 == outs0 + 1);
	assert_true(commit1 >= commit0 + 1);
}

#define GIVEN_UP "emporium_db_transactions_total{result=\"given_up\"}"

/*
 * Every commit of the FastCGI workers fails with a transient error: a
 * checkout retries for its bound (half the request timeout, at most 10 s)
 * and gives up with a 503 problem+json and Retry-After; one give-up, many
 * retries, no order.
 */
static void test_give_up_counted(void **state)
{
	struct ho_customer c;
	char prod[25], key[33], ra[16];
	double gave0, gave1, retries0, retries1, t0, took;
	struct h_resp r;

	(void)state;
	ho_product("Metric Pen", "[{\"sku\": \"MP1\", \"options\": {\"size\": \"one\"},"
		   " \"price\": 1000, \"stock\": 5}]", prod);
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("MP1"), 1);
	ho_key(key);
	gave0 = now_value(GIVEN_UP);
	retries0 = now_value(RETRIES);
	failpoint("\"alwaysOn\"", "{\"failCommands\": [\"commitTransaction\"], \"errorCode\": 112,"
		  " \"errorLabels\": [\"TransientTransactionError\"], \"appName\": \"emporium-fcgi\"}");
	t0 = h_now_s();
	r = ho_place(&c, key, NULL);
	took = h_now_s() - t0;
	failpoint("\"off\"", NULL);
	fprintf(stderr, "  checkout against failing commits: %ld after %.1f s\n", r.status, took);
	h_assert_problem(&r, 503);
	assert_true(h_header(&r, "retry-after", ra, sizeof ra));
	h_resp_free(&r);
	assert_int_equal(ho_stock(prod, ho_sku("MP1")), 5);
	gave1 = now_value(GIVEN_UP);
	retries1 = now_value(RETRIES);
	fprintf(stderr, "  given up %g -> %g, retries %g -> %g\n", gave0, gave1, retries0, retries1);
	assert_true(gave1 == gave0 + 1);
	assert_true(retries1 >= retries0 + 1);
}

/* ---- payments (the SSLCOMMERZ stand-in, as test_payments drives it) ---- */

static struct h_resp standin(const char *method, const char *path, const char *json)
{
	char url[512];
	const char *h[] = { "Content-Type: application/json", NULL };

	snprintf(url, sizeof url, "%s%s", h_env("STACK_SSLCOMMERZ_BASE"), path);
	return h_request(method, url, json, json ? strlen(json) : 0, json ? h : NULL);
}

/* The customer pays at the gateway, which does not send the IPN (the test
 * posts it): the signed form, urlencoded (free it). */
static char *paid_form(const char *tran_id, const char *opts)
{
	char body[1024];
	struct h_resp r;
	json_object *a, *form;
	CURL *curl = curl_easy_init();
	size_t cap = 8192, used = 0;
	char *out = malloc(cap);

	assert_non_null(curl);
	assert_non_null(out);
	snprintf(body, sizeof body, "{\"tran_id\": \"%s\", \"action\": \"pay\", "
		 "\"drop_ipn\": true%s}", tran_id, opts);
	r = standin("POST", "/_standin/act", body);
	if (r.status != 200)
		fail_msg("act: %ld %s", r.status, r.body);
	a = h_json(&r);
	h_resp_free(&r);
	form = hc_jget(a, "form");
	assert_non_null(form);
	out[0] = '\0';
	json_object_object_foreach(form, k, v) {
		char *e = curl_easy_escape(curl, json_object_get_string(v), 0);

		assert_non_null(e);
		used += (size_t)snprintf(out + used, cap - used, "%s%s=%s", used ? "&" : "", k, e);
		curl_free(e);
		assert_true(used < cap);
	}
	curl_easy_cleanup(curl);
	json_object_put(a);
	return out;
}

static long ipn(const char *form)
{
	const char *h[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	struct h_resp r = h_request("POST", "/api/v1/payments/sslcommerz/ipn", form, strlen(form), h);
	long st = r.status;

	h_resp_free(&r);
	return st;
}

/* An order paid through a gateway session: its tran_id. */
static void order_with_session(const char *prod_sku, char tran_id[40])
{
	struct ho_customer c;
	char body[256], key[33], id[25];
	struct h_resp r;
	json_object *j;

	ho_customer_new(&c, false);
	ho_cart_add(&c, prod_sku, 1);
	snprintf(body, sizeof body, "{\"shipping_address_id\": \"%s\", \"payment_method\": "
		 "\"sslcommerz\"}", c.address);
	ho_key(key);
	r = ho_place(&c, key, body);
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(body, sizeof body, "{\"order_id\": \"%s\"}", id);
	r = ho_req(&c, "POST", "/api/v1/payments/sslcommerz/session", body, NULL);
	if (r.status != 201)
		fail_msg("session: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(tran_id, 40, "%s", hc_jstr(j, "tran_id"));
	json_object_put(j);
	h_resp_free(&r);
}

#define PAY(outcome) "emporium_payments_total{outcome=\"" outcome "\"}"

/* One notification paid, the same one again (a replay), a risky one
 * (review), and one whose signed amount was changed (refused). */
static void test_payments_by_outcome(void **state)
{
	char prod[25], tran[40], tran2[40], tran3[40], *form, *risky, *tampered;
	double paid0, replay0, review0, refused0, paid1, replay1, review1, refused1;

	(void)state;
	ho_product("Metric Shirt", "[{\"sku\": \"MS1\", \"options\": {\"size\": \"M\"},"
		   " \"price\": 150000, \"stock\": 50}]", prod);
	order_with_session(ho_sku("MS1"), tran);
	order_with_session(ho_sku("MS1"), tran2);
	order_with_session(ho_sku("MS1"), tran3);
	form = paid_form(tran, "");
	risky = paid_form(tran2, ", \"risk_level\": 1");
	tampered = paid_form(tran3, ", \"tamper\": {\"amount\": \"1.00\"}");
	paid0 = now_value(PAY("paid"));
	replay0 = now_value(PAY("replay"));
	review0 = now_value(PAY("review"));
	refused0 = now_value(PAY("refused"));
	assert_int_equal(ipn(form), 200);
	assert_int_equal(ipn(form), 200);
	assert_int_equal(ipn(risky), 200);
	assert_int_equal(ipn(tampered), 400);
	paid1 = now_value(PAY("paid"));
	replay1 = now_value(PAY("replay"));
	review1 = now_value(PAY("review"));
	refused1 = now_value(PAY("refused"));
	fprintf(stderr, "  payments: paid %g -> %g, replay %g -> %g, review %g -> %g, refused %g -> %g\n",
		paid0, paid1, replay0, replay1, review0, review1, refused0, refused1);
	assert_true(paid1 == paid0 + 1);
	assert_true(replay1 == replay0 + 1);
	assert_true(review1 == review0 + 1);
	assert_true(refused1 == refused0 + 1);
	free(form);
	free(risky);
	free(tampered);
}

/* Cash collected on delivery and given back by hand: one refund, done at
 * once in the FastCGI worker (a card refund completes in emporium-worker
 * and shows on its own /metrics). */
static void test_refund_counted(void **state)
{
	struct ho_customer c;
	char prod[25], key[33], id[25], path[128], tok[2048], uid[25], auth[2200], hk[80];
	const char *h[] = { auth, "Content-Type: application/json", hk, NULL };
	const char *plain[] = { auth, "Content-Type: application/json", NULL };
	const char *collect = "{\"method\": \"cod\", \"amount\": 46000}";
	const char *give_back = "{\"amount\": 46000, \"reason\": \"at the door\"}";
	double before, after;
	struct h_resp r;
	json_object *j;

	(void)state;
	h_user_token("admin", tok, sizeof tok, uid, sizeof uid);
	h_bearer(tok, auth, sizeof auth);
	ho_product("Metric Cap", "[{\"sku\": \"MC1\", \"options\": {\"size\": \"one\"},"
		   " \"price\": 40000, \"stock\": 10}]", prod);
	ho_customer_new(&c, false);
	ho_cart_add(&c, ho_sku("MC1"), 1);
	ho_key(key);
	r = ho_place(&c, key, NULL); /* cash on delivery */
	if (r.status != 201)
		fail_msg("place: %ld %s", r.status, r.body ? r.body : "");
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/transitions", id);
	r = hc_staff("POST", path, "{\"to\": \"processing\"}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/payments", id);
	r = h_request("POST", path, collect, strlen(collect), plain);
	if (r.status != 201)
		fail_msg("collect: %ld %s", r.status, r.body ? r.body : "");
	h_resp_free(&r);
	before = now_value(PAY("refunded"));
	ho_key(key);
	snprintf(hk, sizeof hk, "Idempotency-Key: %s", key);
	snprintf(path, sizeof path, "/api/v1/admin/orders/%s/refunds", id);
	r = h_request("POST", path, give_back, strlen(give_back), h);
	if (r.status != 201)
		fail_msg("refund: %ld %s", r.status, r.body ? r.body : "");
	h_resp_free(&r);
	after = now_value(PAY("refunded"));
	fprintf(stderr, "  refunded %g -> %g\n", before, after);
	assert_true(after == before + 1);
}

/* Every event metric has its HELP and TYPE, once. */
static void test_event_metadata(void **state)
{
	const char *names[] = { "emporium_db_errors_total", "emporium_db_client_rebuilds_total",
				"emporium_db_transactions_total",
				"emporium_db_transaction_retries_total", "emporium_payments_total",
				"emporium_stock_outs_total" };
	char *text, needle[160];

	(void)state;
	text = scrape();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *first;

		snprintf(needle, sizeof needle, "# TYPE %s counter\n", names[i]);
		first = strstr(text, needle);
		if (!first)
			fail_msg("no TYPE line for %s", names[i]);
		assert_null(strstr(first + 1, needle));
		snprintf(needle, sizeof needle, "# HELP %s ", names[i]);
		assert_non_null(strstr(text, needle));
	}
	/* mails and job runs are emporium-worker's, not the pool's */
	assert_null(strstr(text, "emporium_mails_total"));
	free(text);
}


/* ---- emporium-admin status ---- */

/* Runs the build's emporium-admin status with args; its stdout (free it). */
static char *admin_status(const char *args, int *rc)
{
	char exe[1024], cmd[4096], buf[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t len = 0, cap = 1 << 16;
	char *out = malloc(cap);
	FILE *p;
	int st;

	assert_true(n > 0);
	assert_non_null(out);
	exe[n] = '\0';
	/* <build>/tests/integration/test_x -> <build>/emporium-admin */
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(exe, '/');

		assert_non_null(slash);
		*slash = '\0';
	}
	snprintf(cmd, sizeof cmd, "EMPORIUM_ENV_FILE='%s' '%s/emporium-admin' status %s 2>/dev/null",
		 h_env("STACK_ENV_FILE"), exe, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = (ssize_t)fread(buf, 1, sizeof buf, p)) > 0) {
		assert_true(len + (size_t)n < cap);
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	out[len] = '\0';
	st = pclose(p);
	*rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

/*
 * The pool as the test sees it (the master, its workers), the database
 * reachable, the queue's dead count with a dead job planted, and the last
 * errors: that job's last_error, and the error line a 500 wrote to the
 * FastCGI log with its request id.
 */
static void test_admin_status(void **state)
{
	char args[1200], marker[64], rid[64], job[512], *out;
	pid_t pids[64];
	json_object *j, *o, *errs;
	struct h_resp r;
	int rc, nworkers;
	bool saw_job = false, saw_log = false;

	(void)state;
	snprintf(marker, sizeof marker, "status-marker-%d-%ld", (int)getpid(), (long)time(NULL));
	snprintf(job, sizeof job, "{\"type\": \"email\", \"status\": \"dead\", \"dedupe_key\": \"%s\","
		 " \"payload\": {}, \"attempts\": 1, \"last_error\": \"%s\","
		 " \"dead_at\": {\"$date\": \"2099-01-01T00:00:00Z\"}}", marker, marker);
	h_db_insert_json("jobs", job);
	/* a 500: the ping refused once */
	failpoint("{\"times\": 1}", "{\"failCommands\": [\"ping\"], \"errorCode\": 2,"
		  " \"appName\": \"emporium-fcgi\"}");
	r = h_get("/api/v1/health/ready");
	failpoint("\"off\"", NULL);
	assert_int_equal(r.status, 500);
	assert_true(h_header(&r, "x-request-id", rid, sizeof rid));
	h_resp_free(&r);

	snprintf(args, sizeof args, "--json --log '%s/logs/fcgi.log'", h_env("STACK_DIR"));
	out = admin_status(args, &rc);
	j = json_tokener_parse(out);
	if (!j)
		fail_msg("status --json is not JSON: %s", out);
	assert_int_equal(rc, 0);
	assert_true(json_object_get_boolean(hc_jget(j, "ok")));
	o = hc_jget(j, "pool");
	nworkers = h_worker_pids(pids, 64);
	assert_int_equal(json_object_get_int(hc_jget(o, "master_pid")), (int)h_master_pid());
	assert_int_equal(json_object_get_int(hc_jget(o, "workers")), nworkers);
	o = hc_jget(j, "database");
	assert_true(json_object_get_boolean(hc_jget(o, "reachable")));
	assert_true(json_object_get_double(hc_jget(o, "ping_ms")) >= 0);
	assert_true(json_object_get_int64(hc_jget(j, "queue.dead")) >= 1);
	assert_true(json_object_get_int64(hc_jget(j, "queue.pending")) >= 0);
	errs = hc_jget(j, "last_errors");
	assert_non_null(errs);
	for (size_t i = 0; i < json_object_array_length(errs); i++) {
		json_object *e = json_object_array_get_idx(errs, i);

		if (strcmp(hc_jstr(e, "source"), "jobs") == 0 &&
		    strcmp(hc_jstr(e, "message"), marker) == 0)
			saw_job = true;
		if (strcmp(hc_jstr(e, "source"), "log") == 0 && hc_jget(e, "request_id") &&
		    strcmp(hc_jstr(e, "request_id"), rid) == 0)
			saw_log = saw_log || strstr(hc_jstr(e, "message"), "ping") != NULL;
	}
	if (!saw_job || !saw_log)
		fail_msg("last errors lack the dead job (%d) or the 500's log line (%d): %s", saw_job,
			 saw_log, out);
	json_object_put(j);
	free(out);
	/* the text at a glance */
	out = admin_status("", &rc);
	fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	snprintf(args, sizeof args, "pool      master %d, %d of ", (int)h_master_pid(), nworkers);
	assert_non_null(strstr(out, args));
	assert_non_null(strstr(out, "database  reachable"));
	assert_non_null(strstr(out, marker));
	free(out);
	h_db_delete("jobs", "{\"status\": \"dead\", \"dead_at\": {\"$gt\": {\"$date\": \"2098-01-01T00:00:00Z\"}}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_every_request_once),
		cmocka_unit_test(test_histogram_is_cumulative),
		cmocka_unit_test(test_only_allowed_scrapers),
		cmocka_unit_test(test_worker_exits_by_reason),
		cmocka_unit_test(test_database_errors),
		cmocka_unit_test(test_retry_and_stock_out),
		cmocka_unit_test(test_give_up_counted),
		cmocka_unit_test(test_payments_by_outcome),
		cmocka_unit_test(test_refund_counted),
		cmocka_unit_test(test_event_metadata),
		cmocka_unit_test(test_admin_status),
	};
	int rc;

	h_init();
	hc_init();
	rc = cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
	h_cleanup();
	return rc;
}
