/* harness_jobs.c - see harness_jobs.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
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

#include "core/log.h"
#include "jobs/jobs.h"
#include "app/modules.h"
#include "harness_jobs.h"

extern char **environ;

char hj_worker_bin[PATH_MAX];
char hj_catcher_py[PATH_MAX];
char hj_tmp_root[] = "/tmp/emporium-test-jobs-XXXXXX";
struct em_config hj_base_cfg;
static int hj_db_seq;
static char hj_dbs[16][64];
static int hj_ndbs;

int hj_free_port(void)
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

bool hj_port_open(int port)
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
pid_t hj_spawn_logged(char *const argv[], char *const envp[], const char *log)
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
int hj_wait_exit(pid_t pid, long timeout_ms)
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

void hj_catcher_start(struct hj_catcher *c, int port, const char *name)
{
	hj_catcher_start_args(c, port, name, NULL);
}

void hj_catcher_start_args(struct hj_catcher *c, int port, const char *name,
			   const char *const *args)
{
	char portbuf[16], log[PATH_MAX + 32];
	char *argv[24] = { "/usr/bin/python3", hj_catcher_py, "--port", portbuf, "--dir", c->dir, NULL };
	size_t n = 6;

	for (size_t i = 0; args && args[i] && n < 23; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;

	c->port = port ? port : hj_free_port();
	snprintf(portbuf, sizeof(portbuf), "%d", c->port);
	if (!c->dir[0]) {
		snprintf(c->dir, sizeof(c->dir), "%s/mail-%s", hj_tmp_root, name);
		assert_int_equal(mkdir(c->dir, 0700), 0);
	}
	snprintf(log, sizeof(log), "%s/catcher-%s.log", hj_tmp_root, name);
	c->pid = hj_spawn_logged(argv, environ, log);
	for (int i = 0; i < 200 && !hj_port_open(c->port); i++)
		h_sleep_ms(50);
	assert_true(hj_port_open(c->port));
}

void hj_catcher_stop(struct hj_catcher *c)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, SIGCONT);
	kill(c->pid, SIGTERM);
	if (hj_wait_exit(c->pid, 5000) < 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	c->pid = 0;
}

/* Mails in the catcher's directory (complete ones: no leading dot). */
int hj_mail_count(const struct hj_catcher *c)
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

char *hj_file_read(const char *path)
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
char *hj_mail_to(const struct hj_catcher *c, const char *to)
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
		text = hj_file_read(path);
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

/* A sanitizer report in a worker's log fails the test (ASan builds). */
void hj_worker_log_check(const struct hj_worker *w)
{
	char *text = hj_file_read(w->log);

	if (strstr(text, "runtime error:") || strstr(text, "AddressSanitizer") ||
	    strstr(text, "LeakSanitizer"))
		fail_msg("sanitizer report in %s", w->log);
	free(text);
}

/*
 * Starts an emporium-worker on db, sending to smtp_port, with the stack's
 * env file plus overrides (NULL-terminated "NAME=value" extras).
 */
void hj_worker_start(struct hj_worker *w, const char *db, int smtp_port,
			 const char *const *extra, const char *name)
{
	static const char *const overridden[] = {
		"EMPORIUM_ENV_FILE=", "EMPORIUM_DB_NAME=", "EMPORIUM_SMTP_URL=",
		"EMPORIUM_JOB_POLL_MS=", "EMPORIUM_JOB_BACKOFF_MS=", "EMPORIUM_JOB_LEASE=",
		"EMPORIUM_JOB_MAX_ATTEMPTS=", "EMPORIUM_SMTP_TLS=", "EMPORIUM_SMTP_USER=",
		"EMPORIUM_SMTP_PASSWORD=", "EMPORIUM_SMTP_CA_FILE=", NULL,
	};
	char *envp[512], envfile[PATH_MAX + 32], dbv[128], smtp[96];
	char *argv[] = { hj_worker_bin, NULL };
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
	for (size_t i = 0; extra && extra[i]; i++)
		envp[n++] = (char *)extra[i];
	/* defaults for what extra did not set (the first of a name wins) */
	{
		const char *defaults[] = { smtp, "EMPORIUM_SMTP_TLS=none", "EMPORIUM_JOB_POLL_MS=50",
					   "EMPORIUM_JOB_BACKOFF_MS=200", NULL };

		for (size_t d = 0; defaults[d]; d++) {
			size_t len = strcspn(defaults[d], "=") + 1;
			bool set = false;

			for (size_t i = 0; extra && extra[i]; i++)
				if (strncmp(extra[i], defaults[d], len) == 0)
					set = true;
			if (!set)
				envp[n++] = (char *)defaults[d];
		}
	}
	envp[n] = NULL;
	snprintf(w->log, sizeof(w->log), "%s/worker-%s.log", hj_tmp_root, name);
	w->pid = hj_spawn_logged(argv, envp, w->log);
}

/* SIGTERM: the worker must finish and exit 0 within a few seconds. */
void hj_worker_stop(struct hj_worker *w)
{
	int status;

	if (w->pid <= 0)
		return;
	assert_int_equal(kill(w->pid, SIGTERM), 0);
	status = hj_wait_exit(w->pid, 15000);
	if (status < 0) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		fail_msg("the worker did not stop on SIGTERM");
	}
	hj_worker_log_check(w);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	w->pid = 0;
}

/* A fresh database for one test, with every index migrate creates. */
void hj_db_open(struct em_store *st, char *db, size_t size)
{
	struct em_config cfg = hj_base_cfg;
	struct em_error err = EM_ERROR_INIT;

	snprintf(db, size, "t_jobs_%d_%d", (int)getpid(), ++hj_db_seq);
	snprintf(cfg.db_name, sizeof(cfg.db_name), "%s", db);
	if (!store_open(st, &cfg, "test_jobs", &err))
		fail_msg("store_open: %s", err.message);
	if (!em_modules_indexes_create(st, &err))
		fail_msg("migrate: %s", err.message);
	if (hj_ndbs < 16)
		snprintf(hj_dbs[hj_ndbs++], sizeof(hj_dbs[0]), "%s", db);
}

void hj_stack_store_open(struct em_store *st)
{
	struct em_config cfg = hj_base_cfg;
	struct em_error err = EM_ERROR_INIT;

	snprintf(cfg.db_name, sizeof(cfg.db_name), "%s", h_env("STACK_DB_NAME"));
	if (!store_open(st, &cfg, "test_jobs", &err))
		fail_msg("store_open: %s", err.message);
}

void hj_enqueue_mail(struct em_store *st, const char *to, const char *tpl,
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

int64_t hj_count(struct em_store *st, const char *filter_json)
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
bson_t *hj_job_get(struct em_store *st, const char *key)
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

const char *hj_job_str(const bson_t *job, const char *key)
{
	bson_iter_t it;

	if (job && bson_iter_init_find(&it, job, key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return "";
}

int hj_job_int(const bson_t *job, const char *key)
{
	bson_iter_t it;

	if (job && bson_iter_init_find(&it, job, key) && BSON_ITER_HOLDS_NUMBER(&it))
		return (int)bson_iter_as_int64(&it);
	return -1;
}

/* Polls until the job's status is `status` (and attempts >= min_attempts). */
bson_t *hj_job_wait(struct em_store *st, const char *key, const char *status,
			int min_attempts, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms; t += 50) {
		bson_t *job = hj_job_get(st, key);

		if (job && strcmp(hj_job_str(job, "status"), status) == 0 &&
		    hj_job_int(job, "attempts") >= min_attempts)
			return job;
		if (job)
			bson_destroy(job);
		h_sleep_ms(50);
	}
	{
		bson_t *job = hj_job_get(st, key);
		char *s = job ? bson_as_relaxed_extended_json(job, NULL) : NULL;

		fail_msg("job %s never became %s: %s", key, status, s ? s : "(none)");
	}
	return NULL;
}

void hj_mail_wait_count(const struct hj_catcher *c, int n, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms && hj_mail_count(c) < n; t += 50)
		h_sleep_ms(50);
	assert_int_equal(hj_mail_count(c), n);
}

static int hj_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void hj_drop_databases(void)
{
	struct em_store st;
	struct em_error err = EM_ERROR_INIT;

	if (!store_open(&st, &hj_base_cfg, "test_jobs", &err))
		return;
	for (int i = 0; i < hj_ndbs; i++) {
		mongoc_database_t *d = mongoc_client_get_database(st.client, hj_dbs[i]);

		mongoc_database_drop(d, NULL);
		mongoc_database_destroy(d);
	}
	store_close(&st);
}

bool hj_init(const char *argv0)
{
	struct em_error err = EM_ERROR_INIT;
	char self[PATH_MAX], *dir;
	const char *bin = getenv("JOBS_WORKER_BIN");

	/* the worker of the same build: <build>/tests/integration/test_jobs* */
	if (bin && *bin) {
		snprintf(hj_worker_bin, sizeof(hj_worker_bin), "%s", bin);
	} else {
		if (!realpath(argv0, self)) {
			fprintf(stderr, "cannot resolve %s\n", argv0);
			return false;
		}
		dir = dirname(self);
		snprintf(hj_worker_bin, sizeof(hj_worker_bin), "%s/../../emporium-worker", dir);
	}
	if (access(hj_worker_bin, X_OK) != 0) {
		fprintf(stderr, "no emporium-worker at %s (set JOBS_WORKER_BIN)\n", hj_worker_bin);
		return false;
	}
	/* STACK_CTL is <checkout>/scripts/lib/stack.sh; the catcher sits next to it */
	snprintf(self, sizeof(self), "%s", h_env("STACK_CTL"));
	snprintf(hj_catcher_py, sizeof(hj_catcher_py), "%s/smtp-catcher.py", dirname(self));
	if (!mkdtemp(hj_tmp_root)) {
		perror("mkdtemp");
		return false;
	}
	setenv("EMPORIUM_ENV_FILE", h_env("STACK_ENV_FILE"), 1);
	if (!em_app_config_load(&hj_base_cfg, &err)) {
		fprintf(stderr, "config: %s\n", err.message);
		return false;
	}
	/* the index lines of each test database's migrate are noise here */
	em_log_set_level(EM_LOG_WARN);
	return true;
}

void hj_finish(int rc)
{
	hj_drop_databases();
	/* keep the workers' and catchers' logs only when something failed */
	if (rc == 0)
		nftw(hj_tmp_root, hj_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "worker and catcher logs: %s\n", hj_tmp_root);
}
