/*
 * harness_jobs.h - what the job-system suites share (split from
 * test_jobs.c): their OWN emporium-worker processes (the one next to the
 * suite's build tree, or $JOBS_WORKER_BIN) on databases of their own,
 * their own SMTP catchers (scripts/lib/smtp-catcher.py under Debian's
 * python3-aiosmtpd), and the outbox in the database.
 */
#ifndef EM_TEST_HARNESS_JOBS_H
#define EM_TEST_HARNESS_JOBS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <mongoc/mongoc.h>

#include "core/config.h"
#include "store/store.h"
#include "harness.h"

extern char hj_worker_bin[PATH_MAX];
extern char hj_catcher_py[PATH_MAX];
extern char hj_tmp_root[];
extern struct em_config hj_base_cfg;

/*
 * Call once after h_init(): finds the worker and the catcher, makes the
 * temporary directory, loads the stack's configuration. False (with a
 * message on stderr) when something is missing.
 */
bool hj_init(const char *argv0);
/* Drops the test databases; removes the logs unless rc says a failure. */
void hj_finish(int rc);

struct hj_catcher {
	pid_t pid;
	int port;
	char dir[PATH_MAX];
};

struct hj_worker {
	pid_t pid;
	char log[PATH_MAX + 32];
};

int hj_free_port(void);
bool hj_port_open(int port);
/* Spawns argv with envp, stdout and stderr appended to log. */
pid_t hj_spawn_logged(char *const argv[], char *const envp[], const char *log);
/* Waits up to timeout_ms for pid to exit; its wait status, or -1. */
int hj_wait_exit(pid_t pid, long timeout_ms);
void hj_catcher_start(struct hj_catcher *c, int port, const char *name);
/* The same with more arguments for smtp-catcher.py (NULL-terminated). */
void hj_catcher_start_args(struct hj_catcher *c, int port, const char *name,
			   const char *const *args);
void hj_catcher_stop(struct hj_catcher *c);
/* Mails in the catcher's directory (complete ones: no leading dot). */
int hj_mail_count(const struct hj_catcher *c);
char *hj_file_read(const char *path);
/* The one mail to `to` (fails if there are several); NULL when none. */
char *hj_mail_to(const struct hj_catcher *c, const char *to);
/* A sanitizer report in a worker's log fails the test (ASan builds). */
void hj_worker_log_check(const struct hj_worker *w);
/*
 * Starts an emporium-worker on db, sending to smtp_port, with the stack's
 * env file plus overrides (NULL-terminated "NAME=value" extras).
 */
void hj_worker_start(struct hj_worker *w, const char *db, int smtp_port,
			 const char *const *extra, const char *name);
/* SIGTERM: the worker must finish and exit 0 within a few seconds. */
void hj_worker_stop(struct hj_worker *w);
/* A fresh database for one test, with every index migrate creates. */
void hj_db_open(struct em_store *st, char *db, size_t size);
void hj_stack_store_open(struct em_store *st);
void hj_enqueue_mail(struct em_store *st, const char *to, const char *tpl,
			 const char *vars_json, const char *key);
int64_t hj_count(struct em_store *st, const char *filter_json);
/* The job with dedupe key `key` (bson_destroy it), or NULL. */
bson_t *hj_job_get(struct em_store *st, const char *key);
const char *hj_job_str(const bson_t *job, const char *key);
int hj_job_int(const bson_t *job, const char *key);
/* Polls until the job's status is `status` (and attempts >= min_attempts). */
bson_t *hj_job_wait(struct em_store *st, const char *key, const char *status,
			int min_attempts, long timeout_ms);
void hj_mail_wait_count(const struct hj_catcher *c, int n, long timeout_ms);
void hj_drop_databases(void);

#endif
