/*
 * Integration tests for emporium-worker (split from test_jobs.c): the
 * outbox in the database, worker processes and a real SMTP server
 * (Debian's python3-aiosmtpd via scripts/lib/smtp-catcher.py): delivery,
 * the SMTP server down then up, SIGKILL mid-job, bad jobs and attempts
 * going dead, and two workers never sending one mail twice.
 *
 * These tests start their OWN workers on a database of their own and
 * their own SMTP catcher (harness_jobs.h), so the stack's worker (which
 * serves STACK_DB_NAME) never touches their jobs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"
#include "jobs/jobs.h"
#include "harness_jobs.h"

/* A mail arrives with the right envelope, headers, subject and body. */
static void test_mail_delivered(void **state)
{
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64], *mail, mid[128];
	bson_t *job;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	hj_catcher_start(&c, 0, "delivered");
	hj_worker_start(&w, db, c.port, NULL, "delivered");
	hj_enqueue_mail(&st, "ann@example.test", "verify_email",
		     "{\"name\": \"Ann <O'Hara>\", \"code\": \"482913\"}", "verify:ann:1");
	/* the same event again: one job, one mail */
	hj_enqueue_mail(&st, "ann@example.test", "verify_email",
		     "{\"name\": \"Ann <O'Hara>\", \"code\": \"482913\"}", "verify:ann:1");
	assert_int_equal(hj_count(&st, "{}"), 1);
	job = hj_job_wait(&st, "verify:ann:1", "done", 1, 10000);
	assert_int_equal(hj_job_int(job, "attempts"), 1);
	hj_mail_wait_count(&c, 1, 5000);
	mail = hj_mail_to(&c, "ann@example.test");
	assert_non_null(mail);
	assert_non_null(strstr(mail, "X-Envelope-From: shop@localhost\r\n"));
	assert_non_null(strstr(mail, "\r\nTo: ann@example.test\r\n"));
	assert_non_null(strstr(mail, "\r\nFrom: Emporium Demo <shop@localhost>\r\n"));
	assert_non_null(strstr(mail, "\r\nSubject: Your Emporium verification code: 482913\r\n"));
	assert_non_null(strstr(mail, "multipart/alternative"));
	assert_non_null(strstr(mail, "Your verification code is: 482913"));
	/* the text part carries the name as is, the HTML part escaped */
	assert_non_null(strstr(mail, "Hello Ann <O'Hara>,"));
	assert_non_null(strstr(mail, "Hello Ann &lt;O&#39;Hara&gt;,"));
	/* the Message-ID is derived from the job, and recorded on it */
	snprintf(mid, sizeof(mid), "Message-ID: <%s>", hj_job_str(job, "message_id"));
	assert_non_null(strstr(hj_job_str(job, "message_id"), "emporium.job."));
	assert_non_null(strstr(mail, mid));
	{
		bson_iter_t it;

		assert_true(bson_iter_init_find(&it, job, "sent_at"));
		assert_true(BSON_ITER_HOLDS_DATE_TIME(&it));
		assert_true(bson_iter_init_find(&it, job, "finished_at"));
		assert_true(BSON_ITER_HOLDS_DATE_TIME(&it));
		/* attempts keeps its int32 type through the claim's $inc */
		assert_true(bson_iter_init_find(&it, job, "attempts"));
		assert_true(BSON_ITER_HOLDS_INT32(&it));
	}
	free(mail);
	bson_destroy(job);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

/* The SMTP server is down: the job retries, then is delivered once. */
static void test_smtp_down_then_up(void **state)
{
	static const char *const extra[] = { "EMPORIUM_JOB_MAX_ATTEMPTS=50", NULL };
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64], *mail;
	int port = hj_free_port();
	bson_t *job;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	hj_worker_start(&w, db, port, extra, "smtpdown");
	hj_enqueue_mail(&st, "bob@example.test", "order_shipped",
		     "{\"name\": \"Bob\", \"order_id\": \"EM-1002\", \"carrier\": \"Pathao\","
		     " \"tracking_number\": \"PT-778\"}",
		     "shipped:EM-1002");
	/* failed at least twice, waiting for its next attempt, error kept */
	job = hj_job_wait(&st, "shipped:EM-1002", "pending", 2, 15000);
	assert_non_null(strstr(hj_job_str(job, "last_error"), "SMTP"));
	bson_destroy(job);
	/* the server comes back on the same port */
	hj_catcher_start(&c, port, "smtpdown");
	job = hj_job_wait(&st, "shipped:EM-1002", "done", 2, 15000);
	bson_destroy(job);
	h_sleep_ms(300);
	hj_mail_wait_count(&c, 1, 1000);
	mail = hj_mail_to(&c, "bob@example.test");
	assert_non_null(mail);
	assert_non_null(strstr(mail, "Subject: Order EM-1002 has shipped"));
	assert_non_null(strstr(mail, "Tracking number: PT-778"));
	free(mail);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

/*
 * The SMTP server returns: the first mail that goes out brings the other
 * waiting retries forward, so one queued behind an hour of backoff is
 * delivered at once instead of an hour later (after an outage of a minute
 * the doubling backoff had pushed some confirmations minutes out).
 */
static void test_retries_due_when_smtp_returns(void **state)
{
	static const char *const extra[] = { "EMPORIUM_JOB_MAX_ATTEMPTS=50",
					     "EMPORIUM_JOB_BACKOFF_MS=500", NULL };
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64], *mail;
	int port = hj_free_port();
	mongoc_collection_t *coll;
	bson_t *filter, *update, *job;
	bson_error_t berr;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	/* a retry waiting out an hour of backoff, from before the outage */
	hj_enqueue_mail(&st, "late@example.test", "order_shipped",
		     "{\"name\": \"Lee\", \"order_id\": \"EM-2001\", \"carrier\": \"Pathao\","
		     " \"tracking_number\": \"PT-1\"}", "shipped:EM-2001");
	coll = store_collection(&st, "jobs");
	filter = BCON_NEW("dedupe_key", BCON_UTF8("shipped:EM-2001"));
	update = BCON_NEW("$set", "{", "attempts", BCON_INT32(3), "run_after",
			  BCON_DATE_TIME(em_now_ms() + 3600 * 1000), "last_error",
			  BCON_UTF8("SMTP: connection refused"), "}");
	assert_true(mongoc_collection_update_one(coll, filter, update, NULL, NULL, &berr));
	bson_destroy(filter);
	bson_destroy(update);
	mongoc_collection_destroy(coll);
	/* the server is down: a new mail fails and waits too */
	hj_worker_start(&w, db, port, extra, "bringforward");
	hj_enqueue_mail(&st, "new@example.test", "order_shipped",
		     "{\"name\": \"Nia\", \"order_id\": \"EM-2002\", \"carrier\": \"Pathao\","
		     " \"tracking_number\": \"PT-2\"}", "shipped:EM-2002");
	job = hj_job_wait(&st, "shipped:EM-2002", "pending", 1, 15000);
	bson_destroy(job);
	/* back: the new mail goes out, and the hour-long wait is over too */
	hj_catcher_start(&c, port, "bringforward");
	job = hj_job_wait(&st, "shipped:EM-2002", "done", 2, 20000);
	bson_destroy(job);
	job = hj_job_wait(&st, "shipped:EM-2001", "done", 4, 10000);
	bson_destroy(job);
	hj_mail_wait_count(&c, 2, 3000);
	mail = hj_mail_to(&c, "late@example.test");
	assert_non_null(mail);
	assert_non_null(strstr(mail, "Subject: Order EM-2001 has shipped"));
	free(mail);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

/*
 * A worker SIGKILLed in the middle of a send: its lease expires, another
 * worker completes the job, and the mail arrives exactly once.
 */
static void test_sigkill_mid_job(void **state)
{
	static const char *const extra[] = { "EMPORIUM_JOB_LEASE=5", NULL };
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker a = { 0 }, b = { 0 };
	char db[64], *mail;
	bson_t *job;
	int status;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	hj_catcher_start(&c, 0, "sigkill");
	/* a stopped server: the TCP connection opens, the greeting never comes */
	assert_int_equal(kill(c.pid, SIGSTOP), 0);
	hj_worker_start(&a, db, c.port, extra, "sigkill-a");
	hj_enqueue_mail(&st, "cy@example.test", "order_delivered",
		     "{\"name\": \"Cy\", \"order_id\": \"EM-1003\"}", "delivered:EM-1003");
	job = hj_job_wait(&st, "delivered:EM-1003", "running", 1, 10000);
	bson_destroy(job);
	h_sleep_ms(300); /* well inside the send (bounded by lease/2 = 2 s) */
	assert_int_equal(kill(a.pid, SIGKILL), 0);
	status = hj_wait_exit(a.pid, 5000);
	assert_true(WIFSIGNALED(status));
	hj_worker_log_check(&a);
	a.pid = 0;
	assert_int_equal(kill(c.pid, SIGCONT), 0);
	/* still leased to the dead worker: not run again before the lease ends */
	hj_worker_start(&b, db, c.port, extra, "sigkill-b");
	h_sleep_ms(1500);
	job = hj_job_get(&st, "delivered:EM-1003");
	assert_string_equal(hj_job_str(job, "status"), "running");
	assert_int_equal(hj_job_int(job, "attempts"), 1);
	assert_int_equal(hj_mail_count(&c), 0);
	bson_destroy(job);
	job = hj_job_wait(&st, "delivered:EM-1003", "done", 2, 15000);
	assert_int_equal(hj_job_int(job, "attempts"), 2);
	bson_destroy(job);
	h_sleep_ms(300);
	assert_int_equal(hj_mail_count(&c), 1);
	mail = hj_mail_to(&c, "cy@example.test");
	assert_non_null(mail);
	assert_non_null(strstr(mail, "Subject: Order EM-1003 has been delivered"));
	free(mail);
	hj_worker_stop(&b);
	hj_catcher_stop(&c);
	store_close(&st);
}

/*
 * Malformed payloads and missing templates park the job as dead at once,
 * with an error naming the problem; the worker carries on.
 */
static void test_bad_jobs_go_dead(void **state)
{
	struct em_store st;
	struct em_error err = EM_ERROR_INIT;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64], *mail;
	bson_t *payload, *job;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	hj_catcher_start(&c, 0, "bad");
	hj_worker_start(&w, db, c.port, NULL, "bad");
	hj_enqueue_mail(&st, "dee@example.test", "no_such_template", "{\"name\": \"Dee\"}", "bad:tpl");
	hj_enqueue_mail(&st, "dee@example.test", "verify_email", "{\"name\": \"Dee\"}", "bad:var");
	hj_enqueue_mail(&st, "dee@example.test", "../../etc/passwd", "{}", "bad:name");
	hj_enqueue_mail(&st, "dee@example.test\r\nBcc: eve@evil.test", "verify_email",
		     "{\"name\": \"Dee\", \"code\": \"1\"}", "bad:to");
	payload = BCON_NEW("template", BCON_UTF8("verify_email"), "vars", "{", "}");
	assert_true(jobs_enqueue(&st, NULL, "email", payload, "bad:payload", 0, NULL, &err));
	bson_destroy(payload);
	payload = BCON_NEW("x", BCON_INT32(1));
	assert_true(jobs_enqueue(&st, NULL, "no_such_type", payload, "bad:type", 0, NULL, &err));
	bson_destroy(payload);
	hj_enqueue_mail(&st, "dee@example.test", "order_delivered",
		     "{\"name\": \"Dee\", \"order_id\": \"EM-1004\"}", "good:after");

	job = hj_job_wait(&st, "bad:tpl", "dead", 1, 10000);
	assert_int_equal(hj_job_int(job, "attempts"), 1);
	assert_non_null(strstr(hj_job_str(job, "last_error"), "no_such_template"));
	bson_destroy(job);
	job = hj_job_wait(&st, "bad:var", "dead", 1, 10000);
	assert_int_equal(hj_job_int(job, "attempts"), 1);
	assert_non_null(strstr(hj_job_str(job, "last_error"), "code is not set"));
	bson_destroy(job);
	job = hj_job_wait(&st, "bad:name", "dead", 1, 10000);
	assert_non_null(strstr(hj_job_str(job, "last_error"), "template"));
	bson_destroy(job);
	job = hj_job_wait(&st, "bad:to", "dead", 1, 10000);
	assert_non_null(strstr(hj_job_str(job, "last_error"), "to"));
	bson_destroy(job);
	job = hj_job_wait(&st, "bad:payload", "dead", 1, 10000);
	assert_non_null(strstr(hj_job_str(job, "last_error"), "to must be a string"));
	bson_destroy(job);
	/* an unknown type is retried (a newer worker may know it), not dead */
	job = hj_job_wait(&st, "bad:type", "pending", 1, 10000);
	assert_non_null(strstr(hj_job_str(job, "last_error"), "no handler"));
	bson_destroy(job);
	/* the worker is still alive and working */
	job = hj_job_wait(&st, "good:after", "done", 1, 10000);
	bson_destroy(job);
	assert_int_equal(waitpid(w.pid, NULL, WNOHANG), 0);
	h_sleep_ms(200);
	assert_int_equal(hj_mail_count(&c), 1);
	mail = hj_mail_to(&c, "dee@example.test");
	assert_non_null(mail);
	assert_null(strstr(mail, "eve@evil.test"));
	free(mail);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

/* After EMPORIUM_JOB_MAX_ATTEMPTS failures the job is dead, error kept. */
static void test_max_attempts_dead(void **state)
{
	static const char *const extra[] = { "EMPORIUM_JOB_MAX_ATTEMPTS=3",
					     "EMPORIUM_JOB_BACKOFF_MS=50", NULL };
	struct em_store st;
	struct hj_worker w = { 0 };
	char db[64];
	bson_t *job;
	bson_iter_t it;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	hj_worker_start(&w, db, hj_free_port(), extra, "maxattempts");
	hj_enqueue_mail(&st, "eve@example.test", "account_exists", "{\"name\": \"Eve\"}", "max:1");
	job = hj_job_wait(&st, "max:1", "dead", 3, 15000);
	assert_int_equal(hj_job_int(job, "attempts"), 3);
	assert_non_null(strstr(hj_job_str(job, "last_error"), "SMTP"));
	assert_true(bson_iter_init_find(&it, job, "dead_at"));
	assert_false(bson_iter_init_find(&it, job, "finished_at"));
	bson_destroy(job);
	hj_worker_stop(&w);
	store_close(&st);
}

/* Two workers on one queue: every job runs once, and both take part. */
static void test_two_workers_no_duplicates(void **state)
{
	const char *nenv = getenv("JOBS_TEST_N");
	int n = nenv ? atoi(nenv) : 1000;
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w1 = { 0 }, w2 = { 0 };
	mongoc_collection_t *coll;
	mongoc_bulk_operation_t *bulk;
	bson_error_t berr;
	bson_t reply, *cmd;
	char db[64];
	unsigned char *seen;
	int64_t now = (int64_t)time(NULL) * 1000;
	struct timespec t0, t1;
	DIR *d;
	struct dirent *e;
	bson_iter_t it, arr;
	int nowners = 0;

	(void)state;
	assert_true(n > 0 && n <= 100000);
	hj_db_open(&st, db, sizeof(db));
	hj_catcher_start(&c, 0, "two");
	/* the outbox filled first, as a burst of orders would */
	coll = store_collection(&st, "jobs");
	bulk = mongoc_collection_create_bulk_operation_with_opts(coll, NULL);
	for (int i = 0; i < n; i++) {
		char to[64], key[64], code[16];
		bson_t *doc;

		snprintf(to, sizeof(to), "bulk%d@example.test", i);
		snprintf(key, sizeof(key), "bulk:%d", i);
		snprintf(code, sizeof(code), "%06d", i);
		doc = BCON_NEW("type", BCON_UTF8("email"), "payload", "{", "to", BCON_UTF8(to),
			       "template", BCON_UTF8("verify_email"), "vars", "{", "name",
			       BCON_UTF8("Bulk"), "code", BCON_UTF8(code), "}", "}",
			       "dedupe_key", BCON_UTF8(key), "status", BCON_UTF8("pending"),
			       "run_after", BCON_DATE_TIME(now), "attempts", BCON_INT32(0),
			       "lease_until", BCON_NULL, "last_error", BCON_NULL,
			       "created_at", BCON_DATE_TIME(now), "updated_at", BCON_DATE_TIME(now));
		mongoc_bulk_operation_insert(bulk, doc);
		bson_destroy(doc);
	}
	if (!mongoc_bulk_operation_execute(bulk, &reply, &berr))
		fail_msg("bulk insert: %s", berr.message);
	bson_destroy(&reply);
	mongoc_bulk_operation_destroy(bulk);
	mongoc_collection_destroy(coll);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	hj_worker_start(&w1, db, c.port, NULL, "two-1");
	hj_worker_start(&w2, db, c.port, NULL, "two-2");
	for (int t = 0; t < 1200 && hj_count(&st, "{\"status\": \"done\"}") < n; t++)
		h_sleep_ms(100);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(hj_count(&st, "{\"status\": \"done\"}"), n);
	print_message("  %d jobs through 2 workers in %.1f s\n", n,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	/* nobody ran a job twice: one attempt each, one mail per recipient */
	assert_int_equal(hj_count(&st, "{\"status\": \"done\", \"attempts\": 1}"), n);
	hj_worker_stop(&w1);
	hj_worker_stop(&w2);
	assert_int_equal(hj_mail_count(&c), n);
	seen = calloc((size_t)n, 1);
	assert_non_null(seen);
	d = opendir(c.dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[PATH_MAX * 2], *text, *p;
		int i;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", c.dir, e->d_name);
		text = hj_file_read(path);
		p = strstr(text, "X-Envelope-To: bulk");
		assert_non_null(p);
		i = atoi(p + strlen("X-Envelope-To: bulk"));
		assert_true(i >= 0 && i < n);
		if (seen[i])
			fail_msg("bulk%d got two mails", i);
		seen[i] = 1;
		free(text);
	}
	closedir(d);
	free(seen);
	/* both workers took part (done_by is the worker's lease owner id) */
	cmd = BCON_NEW("distinct", BCON_UTF8("jobs"), "key", BCON_UTF8("done_by"));
	if (!mongoc_client_read_command_with_opts(st.client, db, cmd, NULL, NULL, &reply, &berr))
		fail_msg("distinct: %s", berr.message);
	assert_true(bson_iter_init_find(&it, &reply, "values") && bson_iter_recurse(&it, &arr));
	while (bson_iter_next(&arr))
		nowners++;
	assert_int_equal(nowners, 2);
	bson_destroy(&reply);
	bson_destroy(cmd);
	hj_catcher_stop(&c);
	store_close(&st);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_delivered),
		cmocka_unit_test(test_smtp_down_then_up),
		cmocka_unit_test(test_retries_due_when_smtp_returns),
		cmocka_unit_test(test_sigkill_mid_job),
		cmocka_unit_test(test_bad_jobs_go_dead),
		cmocka_unit_test(test_max_attempts_dead),
		cmocka_unit_test(test_two_workers_no_duplicates),
	};
	int rc;

	(void)argc;
	h_init();
	if (!hj_init(argv[0]))
		return 2;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	hj_finish(rc);
	h_cleanup();
	return rc;
}
