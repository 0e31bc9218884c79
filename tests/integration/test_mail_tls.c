/*
 * Mail over STARTTLS with SMTP AUTH (src/jobs/smtp.c): an emporium-worker
 * of this build sends to a second SMTP catcher (scripts/lib/smtp-catcher.py
 * under Debian's python3-aiosmtpd) that offers and requires STARTTLS with
 * the stack's self-signed certificate and requires AUTH. The worker is
 * configured as in production: EMPORIUM_SMTP_TLS=required, _USER,
 * _PASSWORD, and EMPORIUM_SMTP_CA_FILE naming that certificate (the
 * certificate is verified, not skipped). The catcher records, in each
 * saved message, whether its session was TLS and as whom it signed in.
 * Each test has its own database, worker and catcher (harness_jobs.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness_jobs.h"

#define USER "mailer"
#define PASSWORD "Catcher-Pass-8213"

static char cert[PATH_MAX + 16], key[PATH_MAX + 16], ca_env[PATH_MAX + 40];

/* A catcher requiring STARTTLS (the stack's certificate) and AUTH. */
static void tls_catcher_start(struct hj_catcher *c, const char *name)
{
	const char *const args[] = { "--tls-cert", cert, "--tls-key", key, "--auth-user", USER,
				     "--auth-password", PASSWORD, NULL };

	hj_catcher_start_args(c, 0, name, args);
}

/* Waits for a first attempt of the job; fails if it was delivered. */
static bson_t *job_failed_once(struct em_store *st, const char *key_, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms; t += 50) {
		bson_t *job = hj_job_get(st, key_);

		if (job && hj_job_int(job, "attempts") >= 1 &&
		    strcmp(hj_job_str(job, "status"), "running") != 0) {
			if (strcmp(hj_job_str(job, "status"), "done") == 0)
				fail_msg("the mail %s was sent", key_);
			return job;
		}
		if (job)
			bson_destroy(job);
		h_sleep_ms(50);
	}
	fail_msg("no attempt at %s", key_);
	return NULL;
}

/* STARTTLS + AUTH + a verified certificate: delivered, over TLS, as USER. */
static void test_starttls_auth_delivered(void **state)
{
	const char *const extra[] = { "EMPORIUM_SMTP_TLS=required", "EMPORIUM_SMTP_USER=" USER,
				      "EMPORIUM_SMTP_PASSWORD=" PASSWORD, ca_env, NULL };
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64], *mail;
	bson_t *job;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	tls_catcher_start(&c, "tls-ok");
	hj_worker_start(&w, db, c.port, extra, "tls-ok");
	hj_enqueue_mail(&st, "tls@example.test", "verify_email",
			"{\"name\": \"Tess\", \"code\": \"771205\"}", "verify:tls:1");
	job = hj_job_wait(&st, "verify:tls:1", "done", 1, 15000);
	bson_destroy(job);
	hj_mail_wait_count(&c, 1, 5000);
	mail = hj_mail_to(&c, "tls@example.test");
	assert_non_null(mail);
	assert_non_null(strstr(mail, "X-Catcher-TLS: yes\r\n"));
	assert_non_null(strstr(mail, "X-Catcher-Auth: " USER "\r\n"));
	assert_non_null(strstr(mail, "Subject: Your Emporium verification code: 771205"));
	free(mail);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

/* A wrong password: the server refuses, nothing is delivered. */
static void test_wrong_password_refused(void **state)
{
	const char *const extra[] = { "EMPORIUM_SMTP_TLS=required", "EMPORIUM_SMTP_USER=" USER,
				      "EMPORIUM_SMTP_PASSWORD=not-the-password", ca_env,
				      "EMPORIUM_JOB_BACKOFF_MS=60000", NULL };
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64];
	bson_t *job;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	tls_catcher_start(&c, "tls-badpw");
	hj_worker_start(&w, db, c.port, extra, "tls-badpw");
	hj_enqueue_mail(&st, "pw@example.test", "verify_email",
			"{\"name\": \"Pat\", \"code\": \"100200\"}", "verify:pw:1");
	job = job_failed_once(&st, "verify:pw:1", 15000);
	fprintf(stderr, "  wrong password: %s\n", hj_job_str(job, "last_error"));
	assert_non_null(strstr(hj_job_str(job, "last_error"), "Login denied"));
	bson_destroy(job);
	assert_int_equal(hj_mail_count(&c), 0);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

/* No CA file: the self-signed certificate is not trusted, no mail. */
static void test_untrusted_certificate_refused(void **state)
{
	const char *const extra[] = { "EMPORIUM_SMTP_TLS=required", "EMPORIUM_SMTP_USER=" USER,
				      "EMPORIUM_SMTP_PASSWORD=" PASSWORD,
				      "EMPORIUM_JOB_BACKOFF_MS=60000", NULL };
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64];
	bson_t *job;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	tls_catcher_start(&c, "tls-untrusted");
	hj_worker_start(&w, db, c.port, extra, "tls-untrusted");
	hj_enqueue_mail(&st, "ca@example.test", "verify_email",
			"{\"name\": \"Cal\", \"code\": \"300400\"}", "verify:ca:1");
	job = job_failed_once(&st, "verify:ca:1", 15000);
	fprintf(stderr, "  untrusted certificate: %s\n", hj_job_str(job, "last_error"));
	assert_non_null(strstr(hj_job_str(job, "last_error"), "SSL"));
	assert_string_equal(hj_job_str(job, "status"), "pending"); /* retried later */
	bson_destroy(job);
	assert_int_equal(hj_mail_count(&c), 0);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

/* TLS required but the server offers none: the mail is not sent in clear. */
static void test_required_tls_not_offered(void **state)
{
	const char *const extra[] = { "EMPORIUM_SMTP_TLS=required", ca_env,
				      "EMPORIUM_JOB_BACKOFF_MS=60000", NULL };
	struct em_store st;
	struct hj_catcher c = { 0 };
	struct hj_worker w = { 0 };
	char db[64];
	bson_t *job;

	(void)state;
	hj_db_open(&st, db, sizeof(db));
	hj_catcher_start(&c, 0, "tls-plain");
	hj_worker_start(&w, db, c.port, extra, "tls-plain");
	hj_enqueue_mail(&st, "clear@example.test", "verify_email",
			"{\"name\": \"Cleo\", \"code\": \"500600\"}", "verify:clear:1");
	job = job_failed_once(&st, "verify:clear:1", 15000);
	fprintf(stderr, "  TLS not offered: %s\n", hj_job_str(job, "last_error"));
	assert_non_null(strstr(hj_job_str(job, "last_error"), "SSL"));
	bson_destroy(job);
	assert_int_equal(hj_mail_count(&c), 0);
	hj_worker_stop(&w);
	hj_catcher_stop(&c);
	store_close(&st);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starttls_auth_delivered),
		cmocka_unit_test(test_wrong_password_refused),
		cmocka_unit_test(test_untrusted_certificate_refused),
		cmocka_unit_test(test_required_tls_not_offered),
	};
	int rc;

	(void)argc;
	h_init();
	if (!hj_init(argv[0]))
		return 2;
	/* the stack's self-signed certificate (CN=localhost, IP:127.0.0.1) */
	snprintf(cert, sizeof(cert), "%s/tls/cert.pem", h_env("STACK_DIR"));
	snprintf(key, sizeof(key), "%s/tls/key.pem", h_env("STACK_DIR"));
	snprintf(ca_env, sizeof(ca_env), "EMPORIUM_SMTP_CA_FILE=%s", h_env("STACK_CA"));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	hj_finish(rc);
	h_cleanup();
	return rc;
}
