/*
 * Integration tests for the job system: the outbox in the database,
 * emporium-worker processes, a real SMTP server (Debian's python3-aiosmtpd
 * via scripts/lib/smtp-catcher.py) and the admin API through
 * HTTPS -> nginx -> emporium-fcgi.
 *
 * The fault tests start their OWN workers (the emporium-worker next to
 * this binary's build tree, or $JOBS_WORKER_BIN) on a database of their
 * own and their own SMTP catcher, so the stack's worker (which serves
 * STACK_DB_NAME) never touches their jobs. The admin tests use the
 * stack's database, worker and catcher: the whole production path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "store/indexes.h"
#include "store/store.h"
#include "harness.h"

extern char **environ;

static char worker_bin[PATH_MAX];
static char catcher_py[PATH_MAX];
static char tmp_root[] = "/tmp/emporium-test-jobs-XXXXXX";
static struct em_config base_cfg;
static int db_seq;
static char dbs[16][64];
static int ndbs;

/* ---- processes ---- */

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Spawns argv with envp, stdout and stderr appended to log. */
static pid_t spawn_logged(char *const argv[], char *const envp[], const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, log,
							  O_WRONLY | O_CREAT | O_APPEND, 0644), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) != 0)
		fail_msg("cannot spawn %s", argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Waits up to timeout_ms for pid to exit; its wait status, or -1. */
static int wait_exit(pid_t pid, long timeout_ms)
{
	int status;

	for (long t = 0; t <= timeout_ms; t += 20) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		h_sleep_ms(20);
	}
	return -1;
}

struct catcher {
	pid_t pid;
	int port;
	char dir[PATH_MAX];
};

static void catcher_start(struct catcher *c, int port, const char *name)
{
	char portbuf[16], log[PATH_MAX + 32];
	char *argv[] = { "/usr/bin/python3", catcher_py, "--port", portbuf, "--dir", c->dir, NULL };

	c->port = port ? port : free_port();
	snprintf(portbuf, sizeof(portbuf), "%d", c->port);
	if (!c->dir[0]) {
		snprintf(c->dir, sizeof(c->dir), "%s/mail-%s", tmp_root, name);
		assert_int_equal(mkdir(c->dir, 0700), 0);
	}
	snprintf(log, sizeof(log), "%s/catcher-%s.log", tmp_root, name);
	c->pid = spawn_logged(argv, environ, log);
	for (int i = 0; i < 200 && !port_open(c->port); i++)
		h_sleep_ms(50);
	assert_true(port_open(c->port));
}

static void catcher_stop(struct catcher *c)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, SIGCONT);
	kill(c->pid, SIGTERM);
	if (wait_exit(c->pid, 5000) < 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	c->pid = 0;
}

/* Mails in the catcher's directory (complete ones: no leading dot). */
static int mail_count(const struct catcher *c)
{
	DIR *d = opendir(c->dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char *file_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The one mail to `to` (fails if there are several); NULL when none. */
static char *mail_to(const struct catcher *c, const char *to)
{
	DIR *d = opendir(c->dir);
	struct dirent *e;
	char needle[320], *found = NULL;

	snprintf(needle, sizeof(needle), "X-Envelope-To: %s\r\n", to);
	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[PATH_MAX * 2];
		char *text;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->dir, e->d_name);
		text = file_read(path);
		if (strstr(text, needle)) {
			if (found)
				fail_msg("two mails to %s", to);
			found = text;
		} else {
			free(text);
		}
	}
	closedir(d);
	return found;
}

struct worker {
	pid_t pid;
	char log[PATH_MAX + 32];
};

/* A sanitizer report in a worker's log fails the test (ASan builds). */
static void worker_log_check(const struct worker *w)
{
	char *text = file_read(w->log);

	if (strstr(text, "runtime error:") || strstr(text, "AddressSanitizer") ||
	    strstr(text, "LeakSanitizer"))
		fail_msg("sanitizer report in %s", w->log);
	free(text);
}

/*
 * Starts an emporium-worker on db, sending to smtp_port, with the stack's
 * env file plus overrides (NULL-terminated "NAME=value" extras).
 */
static void worker_start(struct worker *w, const char *db, int smtp_port,
			 const char *const *extra, const char *name)
{
	static const char *const overridden[] = {
		"EMPORIUM_ENV_FILE=", "EMPORIUM_DB_NAME=", "EMPORIUM_SMTP_URL=",
		"EMPORIUM_JOB_POLL_MS=", "EMPORIUM_JOB_BACKOFF_MS=", "EMPORIUM_JOB_LEASE=",
		"EMPORIUM_JOB_MAX_ATTEMPTS=", "EMPORIUM_SMTP_TLS=", NULL,
	};
	char *envp[512], envfile[PATH_MAX + 32], dbv[128], smtp[96];
	char *argv[] = { worker_bin, NULL };
	size_t n = 0;

	for (char **e = environ; *e && n < 480; e++) {
		bool skip = false;

		for (size_t i = 0; overridden[i]; i++)
			if (strncmp(*e, overridden[i], strlen(overridden[i])) == 0)
				skip = true;
		if (!skip)
			envp[n++] = *e;
	}
	snprintf(envfile, sizeof(envfile), "EMPORIUM_ENV_FILE=%s", h_env("STACK_ENV_FILE"));
	snprintf(dbv, sizeof(dbv), "EMPORIUM_DB_NAME=%s", db);
	snprintf(smtp, sizeof(smtp), "EMPORIUM_SMTP_URL=smtp://127.0.0.1:%d", smtp_port);
	envp[n++] = envfile;
	envp[n++] = dbv;
	envp[n++] = smtp;
	envp[n++] = "EMPORIUM_SMTP_TLS=none";
	envp[n++] = "EMPORIUM_JOB_POLL_MS=50";
	for (size_t i = 0; extra && extra[i]; i++)
		envp[n++] = (char *)extra[i];
	/* defaults for what extra did not set */
	{
		bool has_backoff = false;

		for (size_t i = 0; extra && extra[i]; i++)
			if (strncmp(extra[i], "EMPORIUM_JOB_BACKOFF_MS=", 24) == 0)
				has_backoff = true;
		if (!has_backoff)
			envp[n++] = "EMPORIUM_JOB_BACKOFF_MS=200";
	}
	envp[n] = NULL;
	snprintf(w->log, sizeof(w->log), "%s/worker-%s.log", tmp_root, name);
	w->pid = spawn_logged(argv, envp, w->log);
}

/* SIGTERM: the worker must finish and exit 0 within a few seconds. */
static void worker_stop(struct worker *w)
{
	int status;

	if (w->pid <= 0)
		return;
	assert_int_equal(kill(w->pid, SIGTERM), 0);
	status = wait_exit(w->pid, 15000);
	if (status < 0) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		fail_msg("the worker did not stop on SIGTERM");
	}
	worker_log_check(w);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	w->pid = 0;
}

/* ---- the database ---- */

/* A fresh database for one test, with every index migrate creates. */
static void db_open(struct em_store *st, char *db, size_t size)
{
	struct em_config cfg = base_cfg;
	struct em_error err = EM_ERROR_INIT;

	snprintf(db, size, "t_jobs_%d_%d", (int)getpid(), ++db_seq);
	snprintf(cfg.db_name, sizeof(cfg.db_name), "%s", db);
	if (!store_open(st, &cfg, "test_jobs", &err))
		fail_msg("store_open: %s", err.message);
	if (!store_indexes_migrate(st, &err))
		fail_msg("migrate: %s", err.message);
	if (ndbs < 16)
		snprintf(dbs[ndbs++], sizeof(dbs[0]), "%s", db);
}

static void stack_store_open(struct em_store *st)
{
	struct em_config cfg = base_cfg;
	struct em_error err = EM_ERROR_INIT;

	snprintf(cfg.db_name, sizeof(cfg.db_name), "%s", h_env("STACK_DB_NAME"));
	if (!store_open(st, &cfg, "test_jobs", &err))
		fail_msg("store_open: %s", err.message);
}

static void enqueue_mail(struct em_store *st, const char *to, const char *tpl,
			 const char *vars_json, const char *key)
{
	struct em_error err = EM_ERROR_INIT;
	bson_error_t berr;
	bson_t *vars = bson_new_from_json((const uint8_t *)vars_json, -1, &berr);

	assert_non_null(vars);
	if (!jobs_email_enqueue(st, NULL, to, tpl, vars, key, NULL, &err))
		fail_msg("enqueue: %s", err.message);
	bson_destroy(vars);
}

static int64_t count(struct em_store *st, const char *filter_json)
{
	bson_error_t berr;
	bson_t *filter = bson_new_from_json((const uint8_t *)filter_json, -1, &berr);
	mongoc_collection_t *coll = store_collection(st, "jobs");
	int64_t n;

	assert_non_null(filter);
	n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &berr);
	if (n < 0)
		fail_msg("count: %s", berr.message);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return n;
}

/* The job with dedupe key `key` (bson_destroy it), or NULL. */
static bson_t *job_get(struct em_store *st, const char *key)
{
	mongoc_collection_t *coll = store_collection(st, "jobs");
	bson_t *filter = BCON_NEW("dedupe_key", BCON_UTF8(key));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	const bson_t *doc;
	bson_t *res = NULL;

	if (mongoc_cursor_next(cur, &doc))
		res = bson_copy(doc);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return res;
}

static const char *job_str(const bson_t *job, const char *key)
{
	bson_iter_t it;

	if (job && bson_iter_init_find(&it, job, key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return "";
}

static int job_int(const bson_t *job, const char *key)
{
	bson_iter_t it;

	if (job && bson_iter_init_find(&it, job, key) && BSON_ITER_HOLDS_NUMBER(&it))
		return (int)bson_iter_as_int64(&it);
	return -1;
}

/* Polls until the job's status is `status` (and attempts >= min_attempts). */
static bson_t *job_wait(struct em_store *st, const char *key, const char *status,
			int min_attempts, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms; t += 50) {
		bson_t *job = job_get(st, key);

		if (job && strcmp(job_str(job, "status"), status) == 0 &&
		    job_int(job, "attempts") >= min_attempts)
			return job;
		if (job)
			bson_destroy(job);
		h_sleep_ms(50);
	}
	{
		bson_t *job = job_get(st, key);
		char *s = job ? bson_as_relaxed_extended_json(job, NULL) : NULL;

		fail_msg("job %s never became %s: %s", key, status, s ? s : "(none)");
	}
	return NULL;
}

static void mail_wait_count(const struct catcher *c, int n, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms && mail_count(c) < n; t += 50)
		h_sleep_ms(50);
	assert_int_equal(mail_count(c), n);
}

/* ---- tests: the worker ---- */

/* A mail arrives with the right envelope, headers, subject and body. */
static void test_mail_delivered(void **state)
{
	struct em_store st;
	struct catcher c = { 0 };
	struct worker w = { 0 };
	char db[64], *mail, mid[128];
	bson_t *job;

	(void)state;
	db_open(&st, db, sizeof(db));
	catcher_start(&c, 0, "delivered");
	worker_start(&w, db, c.port, NULL, "delivered");
	enqueue_mail(&st, "ann@example.test", "verify_email",
		     "{\"name\": \"Ann <O'Hara>\", \"code\": \"482913\"}", "verify:ann:1");
	/* the same event again: one job, one mail */
	enqueue_mail(&st, "ann@example.test", "verify_email",
		     "{\"name\": \"Ann <O'Hara>\", \"code\": \"482913\"}", "verify:ann:1");
	assert_int_equal(count(&st, "{}"), 1);
	job = job_wait(&st, "verify:ann:1", "done", 1, 10000);
	assert_int_equal(job_int(job, "attempts"), 1);
	mail_wait_count(&c, 1, 5000);
	mail = mail_to(&c, "ann@example.test");
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
	snprintf(mid, sizeof(mid), "Message-ID: <%s>", job_str(job, "message_id"));
	assert_non_null(strstr(job_str(job, "message_id"), "emporium.job."));
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
	worker_stop(&w);
	catcher_stop(&c);
	store_close(&st);
}

/* The SMTP server is down: the job retries, then is delivered once. */
static void test_smtp_down_then_up(void **state)
{
	static const char *const extra[] = { "EMPORIUM_JOB_MAX_ATTEMPTS=50", NULL };
	struct em_store st;
	struct catcher c = { 0 };
	struct worker w = { 0 };
	char db[64], *mail;
	int port = free_port();
	bson_t *job;

	(void)state;
	db_open(&st, db, sizeof(db));
	worker_start(&w, db, port, extra, "smtpdown");
	enqueue_mail(&st, "bob@example.test", "order_shipped",
		     "{\"name\": \"Bob\", \"order_id\": \"EM-1002\", \"carrier\": \"Pathao\","
		     " \"tracking_number\": \"PT-778\"}",
		     "shipped:EM-1002");
	/* failed at least twice, waiting for its next attempt, error kept */
	job = job_wait(&st, "shipped:EM-1002", "pending", 2, 15000);
	assert_non_null(strstr(job_str(job, "last_error"), "SMTP"));
	bson_destroy(job);
	/* the server comes back on the same port */
	catcher_start(&c, port, "smtpdown");
	job = job_wait(&st, "shipped:EM-1002", "done", 2, 15000);
	bson_destroy(job);
	h_sleep_ms(300);
	mail_wait_count(&c, 1, 1000);
	mail = mail_to(&c, "bob@example.test");
	assert_non_null(mail);
	assert_non_null(strstr(mail, "Subject: Order EM-1002 has shipped"));
	assert_non_null(strstr(mail, "Tracking number: PT-778"));
	free(mail);
	worker_stop(&w);
	catcher_stop(&c);
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
	struct catcher c = { 0 };
	struct worker a = { 0 }, b = { 0 };
	char db[64], *mail;
	bson_t *job;
	int status;

	(void)state;
	db_open(&st, db, sizeof(db));
	catcher_start(&c, 0, "sigkill");
	/* a stopped server: the TCP connection opens, the greeting never comes */
	assert_int_equal(kill(c.pid, SIGSTOP), 0);
	worker_start(&a, db, c.port, extra, "sigkill-a");
	enqueue_mail(&st, "cy@example.test", "order_delivered",
		     "{\"name\": \"Cy\", \"order_id\": \"EM-1003\"}", "delivered:EM-1003");
	job = job_wait(&st, "delivered:EM-1003", "running", 1, 10000);
	bson_destroy(job);
	h_sleep_ms(300); /* well inside the send (bounded by lease/2 = 2 s) */
	assert_int_equal(kill(a.pid, SIGKILL), 0);
	status = wait_exit(a.pid, 5000);
	assert_true(WIFSIGNALED(status));
	worker_log_check(&a);
	a.pid = 0;
	assert_int_equal(kill(c.pid, SIGCONT), 0);
	/* still leased to the dead worker: not run again before the lease ends */
	worker_start(&b, db, c.port, extra, "sigkill-b");
	h_sleep_ms(1500);
	job = job_get(&st, "delivered:EM-1003");
	assert_string_equal(job_str(job, "status"), "running");
	assert_int_equal(job_int(job, "attempts"), 1);
	assert_int_equal(mail_count(&c), 0);
	bson_destroy(job);
	job = job_wait(&st, "delivered:EM-1003", "done", 2, 15000);
	assert_int_equal(job_int(job, "attempts"), 2);
	bson_destroy(job);
	h_sleep_ms(300);
	assert_int_equal(mail_count(&c), 1);
	mail = mail_to(&c, "cy@example.test");
	assert_non_null(mail);
	assert_non_null(strstr(mail, "Subject: Order EM-1003 has been delivered"));
	free(mail);
	worker_stop(&b);
	catcher_stop(&c);
	store_close(&st);
}

/* Two workers on one queue: every job runs once, and both take part. */
static void test_two_workers_no_duplicates(void **state)
{
	const char *nenv = getenv("JOBS_TEST_N");
	int n = nenv ? atoi(nenv) : 1000;
	struct em_store st;
	struct catcher c = { 0 };
	struct worker w1 = { 0 }, w2 = { 0 };
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
	db_open(&st, db, sizeof(db));
	catcher_start(&c, 0, "two");
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
	worker_start(&w1, db, c.port, NULL, "two-1");
	worker_start(&w2, db, c.port, NULL, "two-2");
	for (int t = 0; t < 1200 && count(&st, "{\"status\": \"done\"}") < n; t++)
		h_sleep_ms(100);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(count(&st, "{\"status\": \"done\"}"), n);
	print_message("  %d jobs through 2 workers in %.1f s\n", n,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	/* nobody ran a job twice: one attempt each, one mail per recipient */
	assert_int_equal(count(&st, "{\"status\": \"done\", \"attempts\": 1}"), n);
	worker_stop(&w1);
	worker_stop(&w2);
	assert_int_equal(mail_count(&c), n);
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
		text = file_read(path);
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
	catcher_stop(&c);
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
	struct catcher c = { 0 };
	struct worker w = { 0 };
	char db[64], *mail;
	bson_t *payload, *job;

	(void)state;
	db_open(&st, db, sizeof(db));
	catcher_start(&c, 0, "bad");
	worker_start(&w, db, c.port, NULL, "bad");
	enqueue_mail(&st, "dee@example.test", "no_such_template", "{\"name\": \"Dee\"}", "bad:tpl");
	enqueue_mail(&st, "dee@example.test", "verify_email", "{\"name\": \"Dee\"}", "bad:var");
	enqueue_mail(&st, "dee@example.test", "../../etc/passwd", "{}", "bad:name");
	enqueue_mail(&st, "dee@example.test\r\nBcc: eve@evil.test", "verify_email",
		     "{\"name\": \"Dee\", \"code\": \"1\"}", "bad:to");
	payload = BCON_NEW("template", BCON_UTF8("verify_email"), "vars", "{", "}");
	assert_true(jobs_enqueue(&st, NULL, "email", payload, "bad:payload", 0, NULL, &err));
	bson_destroy(payload);
	payload = BCON_NEW("x", BCON_INT32(1));
	assert_true(jobs_enqueue(&st, NULL, "no_such_type", payload, "bad:type", 0, NULL, &err));
	bson_destroy(payload);
	enqueue_mail(&st, "dee@example.test", "order_delivered",
		     "{\"name\": \"Dee\", \"order_id\": \"EM-1004\"}", "good:after");

	job = job_wait(&st, "bad:tpl", "dead", 1, 10000);
	assert_int_equal(job_int(job, "attempts"), 1);
	assert_non_null(strstr(job_str(job, "last_error"), "no_such_template"));
	bson_destroy(job);
	job = job_wait(&st, "bad:var", "dead", 1, 10000);
	assert_int_equal(job_int(job, "attempts"), 1);
	assert_non_null(strstr(job_str(job, "last_error"), "code is not set"));
	bson_destroy(job);
	job = job_wait(&st, "bad:name", "dead", 1, 10000);
	assert_non_null(strstr(job_str(job, "last_error"), "template"));
	bson_destroy(job);
	job = job_wait(&st, "bad:to", "dead", 1, 10000);
	assert_non_null(strstr(job_str(job, "last_error"), "to"));
	bson_destroy(job);
	job = job_wait(&st, "bad:payload", "dead", 1, 10000);
	assert_non_null(strstr(job_str(job, "last_error"), "to must be a string"));
	bson_destroy(job);
	/* an unknown type is retried (a newer worker may know it), not dead */
	job = job_wait(&st, "bad:type", "pending", 1, 10000);
	assert_non_null(strstr(job_str(job, "last_error"), "no handler"));
	bson_destroy(job);
	/* the worker is still alive and working */
	job = job_wait(&st, "good:after", "done", 1, 10000);
	bson_destroy(job);
	assert_int_equal(waitpid(w.pid, NULL, WNOHANG), 0);
	h_sleep_ms(200);
	assert_int_equal(mail_count(&c), 1);
	mail = mail_to(&c, "dee@example.test");
	assert_non_null(mail);
	assert_null(strstr(mail, "eve@evil.test"));
	free(mail);
	worker_stop(&w);
	catcher_stop(&c);
	store_close(&st);
}

/* After EMPORIUM_JOB_MAX_ATTEMPTS failures the job is dead, error kept. */
static void test_max_attempts_dead(void **state)
{
	static const char *const extra[] = { "EMPORIUM_JOB_MAX_ATTEMPTS=3",
					     "EMPORIUM_JOB_BACKOFF_MS=50", NULL };
	struct em_store st;
	struct worker w = { 0 };
	char db[64];
	bson_t *job;
	bson_iter_t it;

	(void)state;
	db_open(&st, db, sizeof(db));
	worker_start(&w, db, free_port(), extra, "maxattempts");
	enqueue_mail(&st, "eve@example.test", "account_exists", "{\"name\": \"Eve\"}", "max:1");
	job = job_wait(&st, "max:1", "dead", 3, 15000);
	assert_int_equal(job_int(job, "attempts"), 3);
	assert_non_null(strstr(job_str(job, "last_error"), "SMTP"));
	assert_true(bson_iter_init_find(&it, job, "dead_at"));
	assert_false(bson_iter_init_find(&it, job, "finished_at"));
	bson_destroy(job);
	worker_stop(&w);
	store_close(&st);
}

/* ---- tests: the admin API, through the whole stack ---- */

static char admin_auth[2200], staff_auth[2200], customer_auth[2200];

static void tokens(void)
{
	char token[2048], id[32];

	if (admin_auth[0])
		return;
	h_user_token("admin", token, sizeof(token), id, sizeof(id));
	h_bearer(token, admin_auth, sizeof(admin_auth));
	h_user_token("staff", token, sizeof(token), id, sizeof(id));
	h_bearer(token, staff_auth, sizeof(staff_auth));
	h_user_token("customer", token, sizeof(token), id, sizeof(id));
	h_bearer(token, customer_auth, sizeof(customer_auth));
}

static struct h_resp as(const char *auth, const char *method, const char *path)
{
	const char *hdrs[] = { auth, NULL };

	return h_request(method, path, method[0] == 'P' ? "" : NULL, 0, auth ? hdrs : NULL);
}

/* Inserts a job parked as dead (as the worker leaves one); returns its id. */
static void insert_dead(struct em_store *st, const char *to, const char *code, const char *key,
			char *id_hex)
{
	mongoc_collection_t *coll = store_collection(st, "jobs");
	int64_t now = (int64_t)time(NULL) * 1000;
	bson_error_t berr;
	bson_oid_t oid;
	bson_t *doc;

	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, id_hex);
	doc = BCON_NEW("_id", BCON_OID(&oid), "type", BCON_UTF8("email"), "payload", "{", "to",
		       BCON_UTF8(to), "template", BCON_UTF8("verify_email"), "vars", "{", "name",
		       BCON_UTF8("Fay"), "code", BCON_UTF8(code), "}", "}", "dedupe_key",
		       BCON_UTF8(key), "status", BCON_UTF8("dead"), "run_after",
		       BCON_DATE_TIME(now - 60000), "attempts", BCON_INT32(8), "lease_until",
		       BCON_NULL, "lease_owner", BCON_NULL, "last_error",
		       BCON_UTF8("SMTP: Couldn't connect to server (reply 0)"), "dead_at",
		       BCON_DATE_TIME(now), "created_at", BCON_DATE_TIME(now - 600000),
		       "updated_at", BCON_DATE_TIME(now));
	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &berr))
		fail_msg("insert: %s", berr.message);
	bson_destroy(doc);
	mongoc_collection_destroy(coll);
}

/* Dead job -> admin retry over HTTPS -> the stack's worker delivers it. */
static void test_admin_retry_delivers(void **state)
{
	struct em_store st;
	char id[25], path[128], key[64], to[96], *mail;
	struct h_resp r;
	json_object *o, *v;
	bson_t *job;

	(void)state;
	tokens();
	stack_store_open(&st);
	snprintf(key, sizeof(key), "retry:%d:%ld", (int)getpid(), (long)time(NULL));
	snprintf(to, sizeof(to), "fay-%d@example.test", (int)getpid());
	insert_dead(&st, to, "650021", key, id);
	snprintf(path, sizeof(path), "/api/v1/admin/jobs/%s/retry", id);

	r = as(staff_auth, "POST", path);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = as(NULL, "POST", path);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	job = job_get(&st, key);
	assert_string_equal(job_str(job, "status"), "dead");
	bson_destroy(job);

	r = as(admin_auth, "POST", path);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "id", &v));
	assert_string_equal(json_object_get_string(v), id);
	assert_true(json_object_object_get_ex(o, "attempts", &v));
	assert_int_equal(json_object_get_int(v), 0);
	assert_true(json_object_object_get_ex(o, "status", &v));
	/* pending, or already taken by the stack's worker */
	assert_true(strcmp(json_object_get_string(v), "pending") == 0);
	assert_false(json_object_object_get_ex(o, "vars", &v));
	assert_null(strstr(r.body, "650021"));
	json_object_put(o);
	h_resp_free(&r);

	mail = h_mail_wait(to, "650021", 15000);
	assert_non_null(mail);
	assert_non_null(strstr(mail, "Subject: Your Emporium verification code: 650021"));
	free(mail);
	job = job_wait(&st, key, "done", 1, 10000);
	assert_int_equal(job_int(job, "attempts"), 1);
	bson_destroy(job);
	assert_int_equal(h_db_count("jobs", "{\"status\": \"dead\", \"last_error\": \"x-none\"}"), 0);

	/* only a dead job can be retried */
	r = as(admin_auth, "POST", path);
	h_assert_problem(&r, 409);
	assert_non_null(strstr(r.body, "done"));
	h_resp_free(&r);
	r = as(admin_auth, "POST", "/api/v1/admin/jobs/0123456789abcdef01234567/retry");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = as(admin_auth, "POST", "/api/v1/admin/jobs/not-an-id/retry");
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "\"id\""));
	h_resp_free(&r);
	store_close(&st);
}

/* Listing: roles, filters, keyset pages, bad parameters, no secrets. */
static void test_admin_list(void **state)
{
	struct em_store st;
	char ids[5][25], key[64], to[96], path[256], cursor[64] = "";
	const char *bad[] = {
		"/api/v1/admin/jobs?limit=0", "/api/v1/admin/jobs?limit=101",
		"/api/v1/admin/jobs?limit=abc", "/api/v1/admin/jobs?limit=-1",
		"/api/v1/admin/jobs?status=bogus", "/api/v1/admin/jobs?cursor=%21%21%21",
		"/api/v1/admin/jobs?cursor=AAAAAAAAAAAAAAAAAAAAAAAA",
		"/api/v1/admin/jobs?cursor=AAAAAAAAAAAAAAA",
	};
	const char *bad_field[] = { "limit", "limit", "limit", "limit", "status", "cursor",
				    "cursor", "cursor" };
	int found[5] = { 0 }, pages = 0;
	struct h_resp r;
	char *mail;

	(void)state;
	tokens();
	r = as(NULL, "GET", "/api/v1/admin/jobs");
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = as(customer_auth, "GET", "/api/v1/admin/jobs");
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = as(staff_auth, "GET", "/api/v1/admin/jobs?status=dead");
	h_assert_problem(&r, 403);
	h_resp_free(&r);

	stack_store_open(&st);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "list:%d:%ld:%d", (int)getpid(), (long)time(NULL), i);
		snprintf(to, sizeof(to), "list%d@example.test", i);
		insert_dead(&st, to, "secret-code-918273", key, ids[i]);
	}
	/* page through every dead job, two at a time */
	for (;;) {
		json_object *o, *items, *next;

		snprintf(path, sizeof(path), "/api/v1/admin/jobs?status=dead&limit=2%s%s",
			 cursor[0] ? "&cursor=" : "", cursor);
		r = as(admin_auth, "GET", path);
		assert_int_equal(r.status, 200);
		assert_null(strstr(r.body, "secret-code"));
		o = h_json(&r);
		assert_true(json_object_object_get_ex(o, "items", &items));
		assert_true(json_object_array_length(items) <= 2);
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			json_object *it = json_object_array_get_idx(items, i), *v;

			assert_true(json_object_object_get_ex(it, "status", &v));
			assert_string_equal(json_object_get_string(v), "dead");
			assert_true(json_object_object_get_ex(it, "type", &v));
			assert_true(json_object_object_get_ex(it, "to", &v));
			assert_true(json_object_object_get_ex(it, "template", &v));
			assert_true(json_object_object_get_ex(it, "last_error", &v));
			assert_true(json_object_object_get_ex(it, "created_at", &v));
			assert_false(json_object_object_get_ex(it, "payload", &v));
			assert_false(json_object_object_get_ex(it, "vars", &v));
			assert_true(json_object_object_get_ex(it, "id", &v));
			for (int k = 0; k < 5; k++)
				if (strcmp(json_object_get_string(v), ids[k]) == 0)
					found[k]++;
		}
		assert_true(json_object_object_get_ex(o, "next_cursor", &next));
		pages++;
		if (json_object_is_type(next, json_type_null)) {
			json_object_put(o);
			h_resp_free(&r);
			break;
		}
		assert_int_equal(json_object_array_length(items), 2);
		snprintf(cursor, sizeof(cursor), "%s", json_object_get_string(next));
		json_object_put(o);
		h_resp_free(&r);
		assert_true(pages < 200);
	}
	assert_true(pages >= 3);
	for (int k = 0; k < 5; k++)
		assert_int_equal(found[k], 1);

	/* other statuses filter; no status lists all */
	r = as(admin_auth, "GET", "/api/v1/admin/jobs?status=done&limit=100");
	assert_int_equal(r.status, 200);
	for (int k = 0; k < 5; k++)
		assert_null(strstr(r.body, ids[k]));
	h_resp_free(&r);
	r = as(admin_auth, "GET", "/api/v1/admin/jobs?limit=5");
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, ids[4])); /* the newest */
	h_resp_free(&r);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char field[48];

		r = as(admin_auth, "GET", bad[i]);
		h_assert_problem(&r, 400);
		snprintf(field, sizeof(field), "\"%s\"", bad_field[i]);
		if (!strstr(r.body, field))
			fail_msg("%s: %s", bad[i], r.body);
		h_resp_free(&r);
	}
	/* a pending job cannot be retried */
	{
		char pid_key[64], path2[128];
		bson_t *job;
		bson_iter_t it;

		snprintf(pid_key, sizeof(pid_key), "list:pending:%d:%ld", (int)getpid(),
			 (long)time(NULL));
		enqueue_mail(&st, "gus@example.test", "account_exists", "{\"name\": \"Gus\"}",
			     pid_key);
		job = job_get(&st, pid_key);
		assert_true(bson_iter_init_find(&it, job, "_id"));
		{
			char hex[25];

			bson_oid_to_string(bson_iter_oid(&it), hex);
			snprintf(path2, sizeof(path2), "/api/v1/admin/jobs/%s/retry", hex);
		}
		bson_destroy(job);
		r = as(admin_auth, "POST", path2);
		h_assert_problem(&r, 409);
		h_resp_free(&r);
		/* and it is still delivered by the stack's worker */
		mail = h_mail_wait("gus@example.test", NULL, 10000);
		assert_non_null(mail);
		free(mail);
	}
	store_close(&st);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void drop_databases(void)
{
	struct em_store st;
	struct em_error err = EM_ERROR_INIT;

	if (!store_open(&st, &base_cfg, "test_jobs", &err))
		return;
	for (int i = 0; i < ndbs; i++) {
		mongoc_database_t *d = mongoc_client_get_database(st.client, dbs[i]);

		mongoc_database_drop(d, NULL);
		mongoc_database_destroy(d);
	}
	store_close(&st);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_delivered),
		cmocka_unit_test(test_smtp_down_then_up),
		cmocka_unit_test(test_sigkill_mid_job),
		cmocka_unit_test(test_bad_jobs_go_dead),
		cmocka_unit_test(test_max_attempts_dead),
		cmocka_unit_test(test_two_workers_no_duplicates),
		cmocka_unit_test(test_admin_retry_delivers),
		cmocka_unit_test(test_admin_list),
	};
	struct em_error err = EM_ERROR_INIT;
	char self[PATH_MAX], *dir;
	const char *bin = getenv("JOBS_WORKER_BIN");
	int rc;

	(void)argc;
	h_init();
	/* the worker of the same build: <build>/tests/integration/test_jobs */
	if (bin && *bin) {
		snprintf(worker_bin, sizeof(worker_bin), "%s", bin);
	} else {
		if (!realpath(argv[0], self)) {
			fprintf(stderr, "cannot resolve %s\n", argv[0]);
			return 2;
		}
		dir = dirname(self);
		snprintf(worker_bin, sizeof(worker_bin), "%s/../../emporium-worker", dir);
	}
	if (access(worker_bin, X_OK) != 0) {
		fprintf(stderr, "no emporium-worker at %s (set JOBS_WORKER_BIN)\n", worker_bin);
		return 2;
	}
	/* STACK_CTL is <checkout>/scripts/lib/stack.sh; the catcher sits next to it */
	snprintf(self, sizeof(self), "%s", h_env("STACK_CTL"));
	snprintf(catcher_py, sizeof(catcher_py), "%s/smtp-catcher.py", dirname(self));
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 2;
	}
	setenv("EMPORIUM_ENV_FILE", h_env("STACK_ENV_FILE"), 1);
	if (!em_config_load(&base_cfg, &err)) {
		fprintf(stderr, "config: %s\n", err.message);
		return 2;
	}
	/* the index lines of each test database's migrate are noise here */
	em_log_set_level(EM_LOG_WARN);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	drop_databases();
	/* keep the workers' and catchers' logs only when something failed */
	if (rc == 0)
		nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "worker and catcher logs: %s\n", tmp_root);
	h_cleanup();
	return rc;
}
