/*
 * status_cmd.c - `emporium-admin status [--json] [--log FILE]...`: the
 * state of one host's installation at a glance, for the person on call.
 *
 *   pool      the FastCGI master and its live workers, found through the
 *             listening socket of EMPORIUM_LISTEN: every process that
 *             holds it (/proc/net/unix or /proc/net/tcp{,6} gives its
 *             inode, /proc/<pid>/fd the holders) is the master or one of
 *             its workers. No pid file to go stale, and it tells several
 *             installations on one machine apart. Reading other
 *             processes' fds takes root or the service's user.
 *   database  ping time, the replica set, its primary and members
 *             (replSetGetStatus; hello's host list where that is refused).
 *   queue     jobs by status, how many are due and the oldest due one's
 *             wait, expired leases (a worker died mid-job).
 *   errors    where the application writes them: the last dead jobs'
 *             last_error (the outbox keeps them until retried) and the
 *             last error lines of each log file given with --log (the
 *             JSON lines of src/core/log.c; under systemd the journal has
 *             them: journalctl -u emporium-fcgi -p err).
 *
 * Exit 0 when the pool has a master and a worker and the database
 * answers, 1 otherwise, so a cron job or a check script can use it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/module.h"
#include "core/log.h"
#include "core/time.h"
#include "ops/ops.h"
#include "store/store.h"

#define STATUS_PIDS_MAX 512
#define STATUS_INODES_MAX 8
#define STATUS_LOGS_MAX 8
#define STATUS_ERRORS_PER_SOURCE 5
#define STATUS_LOG_TAIL (256 * 1024)

/* ---- the pool ---- */

/* The inodes of the listening sockets of EMPORIUM_LISTEN (unix:PATH or
 * [host]:port); the number found. */
static size_t status_listen_inodes(const char *listen, unsigned long *inodes)
{
	char line[1024];
	size_t n = 0;
	FILE *f;

	if (strncmp(listen, "unix:", 5) == 0) {
		const char *path = listen + 5;

		f = fopen("/proc/net/unix", "r");
		if (!f)
			return 0;
		while (n < STATUS_INODES_MAX && fgets(line, sizeof line, f)) {
			unsigned long inode;
			char p[512] = "";
			unsigned st;

			line[strcspn(line, "\n")] = '\0';
			/* Num RefCount Protocol Flags Type St Inode Path */
			if (sscanf(line, "%*s %*s %*s %*s %*s %x %lu %511s", &st, &inode, p) == 3 &&
			    st == 1 /* SS_UNCONNECTED: listening */ && strcmp(p, path) == 0)
				inodes[n++] = inode;
		}
		fclose(f);
		return n;
	}
	{
		const char *colon = strrchr(listen, ':');
		static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
		long port;
		char *end;

		if (!colon)
			return 0;
		port = strtol(colon + 1, &end, 10);
		if (*end || port <= 0 || port > 65535)
			return 0;
		for (size_t t = 0; t < 2; t++) {
			f = fopen(tables[t], "r");
			if (!f)
				continue;
			while (n < STATUS_INODES_MAX && fgets(line, sizeof line, f)) {
				char local[128];
				unsigned st, lport;
				unsigned long inode;
				const char *c;

				/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
				if (sscanf(line, "%*s %127s %*s %x %*s %*s %*s %*s %*s %lu", local, &st,
					   &inode) != 3 || st != 0x0A /* LISTEN */)
					continue;
				c = strrchr(local, ':');
				if (c && sscanf(c + 1, "%x", &lport) == 1 && (long)lport == port)
					inodes[n++] = inode;
			}
			fclose(f);
		}
	}
	return n;
}

/* The parent of pid, or 0. */
static int status_ppid(int pid)
{
	char path[64], buf[512], *p;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')) != NULL)
		if (sscanf(p + 1, " %*c %d", &ppid) != 1)
			ppid = 0;
	fclose(f);
	return ppid;
}

/* Whether pid has one of the inodes open. */
static bool status_holds(int pid, const unsigned long *inodes, size_t ninodes)
{
	char dir[64], link[PATH_MAX], target[128];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d)) != NULL) {
		unsigned long inode;
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
		len = readlink(link, target, sizeof target - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%lu]", &inode) != 1)
			continue;
		for (size_t i = 0; i < ninodes; i++)
			found = found || inode == inodes[i];
	}
	closedir(d);
	return found;
}

struct status_pool {
	int master;          /* 0: none found */
	int workers;
	int configured;
	bool readable;       /* /proc could be read */
};

static void status_pool_read(const struct em_config *cfg, struct status_pool *p)
{
	unsigned long inodes[STATUS_INODES_MAX];
	size_t ninodes = status_listen_inodes(cfg->listen, inodes);
	int pids[STATUS_PIDS_MAX], ppids[STATUS_PIDS_MAX], n = 0;
	struct dirent *e;
	DIR *d;

	memset(p, 0, sizeof *p);
	p->configured = cfg->workers > 0 ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	d = opendir("/proc");
	if (!d || ninodes == 0) {
		if (d)
			closedir(d);
		p->readable = d != NULL;
		return;
	}
	p->readable = true;
	while (n < STATUS_PIDS_MAX && (e = readdir(d)) != NULL) {
		int pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		if (pid > 0 && pid != getpid() && status_holds(pid, inodes, ninodes)) {
			pids[n] = pid;
			ppids[n++] = status_ppid(pid);
		}
	}
	closedir(d);
	/* the master: a holder whose parent holds none */
	for (int i = 0; i < n && !p->master; i++) {
		bool parent_holds = false;

		for (int j = 0; j < n; j++)
			parent_holds = parent_holds || pids[j] == ppids[i];
		if (!parent_holds)
			p->master = pids[i];
	}
	for (int i = 0; i < n; i++)
		p->workers += p->master && ppids[i] == p->master;
}

/* ---- the database ---- */

static json_object *status_database(struct em_store *st, bool *reachable)
{
	json_object *o = json_object_new_object(), *members = json_object_new_array();
	bson_t cmd = BSON_INITIALIZER, reply;
	struct timespec t0, t1;
	bson_error_t berr;
	bson_iter_t it, arr, m;

	/* the ping by hand, not store_ping: the driver's own words say why */
	BSON_APPEND_INT32(&cmd, "ping", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*reachable = mongoc_client_command_simple(st->client, "admin", &cmd, NULL, NULL, &berr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	bson_reinit(&cmd);
	json_object_object_add(o, "reachable", json_object_new_boolean(*reachable));
	if (!*reachable) {
		json_object_object_add(o, "error", json_object_new_string(berr.message));
		json_object_put(members);
		bson_destroy(&cmd);
		return o;
	}
	json_object_object_add(o, "ping_ms",
			       json_object_new_double((double)(t1.tv_sec - t0.tv_sec) * 1e3 +
						      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6));
	BSON_APPEND_INT32(&cmd, "hello", 1);
	if (mongoc_client_command_simple(st->client, "admin", &cmd, NULL, &reply, &berr)) {
		if (bson_iter_init_find(&it, &reply, "setName") && BSON_ITER_HOLDS_UTF8(&it))
			json_object_object_add(o, "replica_set",
					       json_object_new_string(bson_iter_utf8(&it, NULL)));
		if (bson_iter_init_find(&it, &reply, "primary") && BSON_ITER_HOLDS_UTF8(&it))
			json_object_object_add(o, "primary",
					       json_object_new_string(bson_iter_utf8(&it, NULL)));
		if (bson_iter_init_find(&it, &reply, "hosts") && BSON_ITER_HOLDS_ARRAY(&it) &&
		    bson_iter_recurse(&it, &arr))
			while (bson_iter_next(&arr))
				if (BSON_ITER_HOLDS_UTF8(&arr)) {
					json_object *one = json_object_new_object();

					json_object_object_add(one, "name", json_object_new_string(
								   bson_iter_utf8(&arr, NULL)));
					json_object_array_add(members, one);
				}
	}
	bson_destroy(&reply);
	bson_reinit(&cmd);
	/* the members' states, where the server lets us ask */
	BSON_APPEND_INT32(&cmd, "replSetGetStatus", 1);
	if (mongoc_client_command_simple(st->client, "admin", &cmd, NULL, &reply, &berr) &&
	    bson_iter_init_find(&it, &reply, "members") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &arr)) {
		json_object_put(members);
		members = json_object_new_array();
		while (bson_iter_next(&arr)) {
			json_object *one = json_object_new_object();

			if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &m)) {
				json_object_put(one);
				continue;
			}
			while (bson_iter_next(&m)) {
				const char *k = bson_iter_key(&m);

				if (strcmp(k, "name") == 0 && BSON_ITER_HOLDS_UTF8(&m))
					json_object_object_add(one, "name", json_object_new_string(
								   bson_iter_utf8(&m, NULL)));
				else if (strcmp(k, "stateStr") == 0 && BSON_ITER_HOLDS_UTF8(&m))
					json_object_object_add(one, "state", json_object_new_string(
								   bson_iter_utf8(&m, NULL)));
				else if (strcmp(k, "health") == 0 && BSON_ITER_HOLDS_NUMBER(&m))
					json_object_object_add(one, "healthy", json_object_new_boolean(
								   bson_iter_as_int64(&m) == 1));
			}
			json_object_array_add(members, one);
		}
	}
	bson_destroy(&reply);
	bson_destroy(&cmd);
	json_object_object_add(o, "members", members);
	return o;
}

/* ---- the queue ---- */

static int64_t status_count(mongoc_collection_t *coll, bson_t *filter)
{
	bson_error_t berr;
	int64_t n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &berr);

	bson_destroy(filter);
	return n;
}

static json_object *status_queue(struct em_store *st)
{
	static const char *const statuses[] = { "pending", "running", "done", "dead" };
	mongoc_collection_t *coll = store_collection(st, "jobs");
	json_object *o = json_object_new_object();
	int64_t now = em_now_ms();
	bson_t *filter, *opts;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_iter_t it;

	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		int64_t n = status_count(coll, BCON_NEW("status", BCON_UTF8(statuses[i])));

		json_object_object_add(o, statuses[i], n >= 0 ? json_object_new_int64(n) : NULL);
	}
	json_object_object_add(o, "due", json_object_new_int64(status_count(
		coll, BCON_NEW("status", "pending", "run_after", "{", "$lte",
			       BCON_DATE_TIME(now), "}"))));
	json_object_object_add(o, "expired_leases", json_object_new_int64(status_count(
		coll, BCON_NEW("status", "running", "lease_until", "{", "$lt",
			       BCON_DATE_TIME(now), "}"))));
	/* the oldest due job: how long the queue is behind */
	filter = BCON_NEW("status", "pending", "run_after", "{", "$lte", BCON_DATE_TIME(now), "}");
	opts = BCON_NEW("sort", "{", "run_after", BCON_INT32(1), "}", "limit", BCON_INT64(1),
			"projection", "{", "run_after", BCON_INT32(1), "}");
	cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "run_after") &&
	    BSON_ITER_HOLDS_DATE_TIME(&it))
		json_object_object_add(o, "oldest_due_s", json_object_new_double(
			(double)(now - bson_iter_date_time(&it)) / 1000.0));
	else
		json_object_object_add(o, "oldest_due_s", NULL);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	bson_destroy(opts);
	mongoc_collection_destroy(coll);
	return o;
}

/* ---- the last errors ---- */

static void status_error_add(json_object *arr, const char *source, const char *time,
			     const char *what, const char *message, const char *request_id)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "source", json_object_new_string(source));
	json_object_object_add(e, "time", json_object_new_string(time ? time : ""));
	json_object_object_add(e, "what", json_object_new_string(what ? what : ""));
	json_object_object_add(e, "message", json_object_new_string(message ? message : ""));
	if (request_id && request_id[0])
		json_object_object_add(e, "request_id", json_object_new_string(request_id));
	json_object_array_add(arr, e);
}

/* The last dead jobs, newest first: their last_error is the outbox's record. */
static void status_dead_jobs(struct em_store *st, json_object *arr)
{
	mongoc_collection_t *coll = store_collection(st, "jobs");
	bson_t *filter = BCON_NEW("status", "dead");
	bson_t *opts = BCON_NEW("sort", "{", "dead_at", BCON_INT32(-1), "}", "limit",
				BCON_INT64(STATUS_ERRORS_PER_SOURCE));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	const bson_t *doc;

	while (mongoc_cursor_next(cur, &doc)) {
		char when[EM_TIME_RFC3339_SIZE] = "", what[128], id[25] = "";
		const char *type = "?", *msg = "", *rid = NULL;
		bson_iter_t it;

		if (bson_iter_init_find(&it, doc, "dead_at") && BSON_ITER_HOLDS_DATE_TIME(&it) &&
		    !em_time_rfc3339(bson_iter_date_time(&it), when, sizeof when))
			when[0] = '\0';
		if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_to_string(bson_iter_oid(&it), id);
		if (bson_iter_init_find(&it, doc, "type") && BSON_ITER_HOLDS_UTF8(&it))
			type = bson_iter_utf8(&it, NULL);
		if (bson_iter_init_find(&it, doc, "last_error") && BSON_ITER_HOLDS_UTF8(&it))
			msg = bson_iter_utf8(&it, NULL);
		if (bson_iter_init_find(&it, doc, "request_id") && BSON_ITER_HOLDS_UTF8(&it))
			rid = bson_iter_utf8(&it, NULL);
		snprintf(what, sizeof what, "job %s (%.64s) dead", id, type);
		status_error_add(arr, "jobs", when, what, msg, rid);
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	bson_destroy(opts);
	mongoc_collection_destroy(coll);
}

/* The last error lines of a log file (its last STATUS_LOG_TAIL bytes). */
static void status_log_errors(const char *path, json_object *arr)
{
	json_object *found[STATUS_ERRORS_PER_SOURCE] = { NULL };
	size_t nfound = 0, got;
	char *buf = NULL, *line, *save = NULL;
	long size;
	FILE *f = fopen(path, "r");

	if (!f) {
		status_error_add(arr, "log", NULL, path, strerror(errno), NULL);
		return;
	}
	buf = malloc(STATUS_LOG_TAIL + 1);
	if (!buf || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, size > STATUS_LOG_TAIL ? size - STATUS_LOG_TAIL : 0, SEEK_SET) != 0) {
		free(buf);
		fclose(f);
		return;
	}
	got = fread(buf, 1, STATUS_LOG_TAIL, f);
	fclose(f);
	buf[got] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *j, *v;

		if (!strstr(line, "\"level\":\"error\""))
			continue;
		j = json_tokener_parse(line);
		if (!j)
			continue;
		if (!json_object_object_get_ex(j, "level", &v) ||
		    strcmp(json_object_get_string(v), "error") != 0) {
			json_object_put(j);
			continue;
		}
		/* keep the last few: a ring */
		if (found[nfound % STATUS_ERRORS_PER_SOURCE])
			json_object_put(found[nfound % STATUS_ERRORS_PER_SOURCE]);
		found[nfound % STATUS_ERRORS_PER_SOURCE] = j;
		nfound++;
	}
	free(buf);
	/* newest first, like the jobs */
	for (size_t k = 0; k < STATUS_ERRORS_PER_SOURCE && k < nfound; k++) {
		json_object *j = found[(nfound - 1 - k) % STATUS_ERRORS_PER_SOURCE];
		json_object *t = NULL, *m = NULL, *r = NULL, *p = NULL;
		char what[PATH_MAX + 64];

		if (!json_object_object_get_ex(j, "time", &t))
			t = NULL;
		if (!json_object_object_get_ex(j, "msg", &m))
			m = NULL;
		if (!json_object_object_get_ex(j, "request_id", &r))
			r = NULL;
		if (!json_object_object_get_ex(j, "proc", &p))
			p = NULL;
		snprintf(what, sizeof what, "%s%s%s", path, p ? " " : "",
			 p ? json_object_get_string(p) : "");
		status_error_add(arr, "log", t ? json_object_get_string(t) : "", what,
				 m ? json_object_get_string(m) : "", r ? json_object_get_string(r) : NULL);
	}
	for (size_t k = 0; k < STATUS_ERRORS_PER_SOURCE; k++)
		if (found[k])
			json_object_put(found[k]);
}

/* ---- the report ---- */

static const char *status_jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static int64_t status_jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_int64(v) : -1;
}

static void status_print_text(json_object *all)
{
	json_object *pool, *db, *queue, *errors, *members, *v;

	json_object_object_get_ex(all, "pool", &pool);
	json_object_object_get_ex(all, "database", &db);
	json_object_object_get_ex(all, "queue", &queue);
	json_object_object_get_ex(all, "last_errors", &errors);
	if (status_jint(pool, "master_pid") > 0)
		printf("pool      master %" PRId64 ", %" PRId64 " of %" PRId64 " workers alive (%s)\n",
		       status_jint(pool, "master_pid"), status_jint(pool, "workers"),
		       status_jint(pool, "configured"), status_jstr(pool, "listen"));
	else
		printf("pool      NOT RUNNING: nothing listens on %s%s\n", status_jstr(pool, "listen"),
		       json_object_get_boolean(json_object_object_get(pool, "proc_readable")) ? ""
			       : " (cannot read /proc)");
	if (json_object_get_boolean(json_object_object_get(db, "reachable"))) {
		printf("database  reachable (ping %.1f ms)", json_object_get_double(
			       json_object_object_get(db, "ping_ms")));
		if (status_jstr(db, "replica_set"))
			printf(", replica set %s", status_jstr(db, "replica_set"));
		if (status_jstr(db, "primary"))
			printf(", primary %s", status_jstr(db, "primary"));
		printf("\n");
		if (json_object_object_get_ex(db, "members", &members))
			for (size_t i = 0; i < json_object_array_length(members); i++) {
				json_object *m = json_object_array_get_idx(members, i);

				printf("          member %s%s%s\n", status_jstr(m, "name"),
				       status_jstr(m, "state") ? " " : "",
				       status_jstr(m, "state") ? status_jstr(m, "state") : "");
			}
		printf("queue     pending %" PRId64 " (due %" PRId64, status_jint(queue, "pending"),
		       status_jint(queue, "due"));
		if (json_object_object_get_ex(queue, "oldest_due_s", &v) && v)
			printf(", oldest due %.1f s ago", json_object_get_double(v));
		printf("), running %" PRId64 " (expired leases %" PRId64 "), dead %" PRId64
		       ", done %" PRId64 "\n", status_jint(queue, "running"),
		       status_jint(queue, "expired_leases"), status_jint(queue, "dead"),
		       status_jint(queue, "done"));
	} else {
		printf("database  UNREACHABLE: %s\n", status_jstr(db, "error"));
		printf("queue     unknown (no database)\n");
	}
	if (json_object_array_length(errors) == 0)
		printf("errors    none recorded\n");
	for (size_t i = 0; i < json_object_array_length(errors); i++) {
		json_object *e = json_object_array_get_idx(errors, i);

		printf("%s %s %s: %s%s%s\n", i ? "         " : "errors   ", status_jstr(e, "time"),
		       status_jstr(e, "what"), status_jstr(e, "message"),
		       status_jstr(e, "request_id") ? " request_id=" : "",
		       status_jstr(e, "request_id") ? status_jstr(e, "request_id") : "");
	}
}

static int ops_status(const struct em_config *cfg, int argc, char **argv)
{
	const char *logs[STATUS_LOGS_MAX];
	size_t nlogs = 0;
	bool json = false, reachable = false;
	struct status_pool pool;
	struct em_store st;
	struct em_error err = EM_ERROR_INIT;
	json_object *all, *p, *errors;
	bool store_ok;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc && nlogs < STATUS_LOGS_MAX) {
			logs[nlogs++] = argv[++i];
		} else {
			fprintf(stderr, "usage: emporium-admin status [--json] [--log FILE]... (at most "
					"%d logs)\n", STATUS_LOGS_MAX);
			return 2;
		}
	}
	all = json_object_new_object();
	status_pool_read(cfg, &pool);
	p = json_object_new_object();
	json_object_object_add(p, "listen", json_object_new_string(cfg->listen));
	json_object_object_add(p, "master_pid", pool.master ? json_object_new_int(pool.master) : NULL);
	json_object_object_add(p, "workers", json_object_new_int(pool.workers));
	json_object_object_add(p, "configured", json_object_new_int(pool.configured));
	json_object_object_add(p, "proc_readable", json_object_new_boolean(pool.readable));
	json_object_object_add(all, "pool", p);

	errors = json_object_new_array();
	store_ok = store_open(&st, cfg, "emporium-admin", &err);
	if (store_ok) {
		json_object_object_add(all, "database", status_database(&st, &reachable));
		if (reachable) {
			json_object_object_add(all, "queue", status_queue(&st));
			status_dead_jobs(&st, errors);
		}
		store_close(&st);
	} else {
		json_object *db = json_object_new_object();

		json_object_object_add(db, "reachable", json_object_new_boolean(false));
		json_object_object_add(db, "error", json_object_new_string(err.message));
		json_object_object_add(all, "database", db);
	}
	if (!reachable)
		json_object_object_add(all, "queue", NULL);
	for (size_t i = 0; i < nlogs; i++)
		status_log_errors(logs[i], errors);
	json_object_object_add(all, "last_errors", errors);
	rc = pool.master && pool.workers > 0 && reachable ? 0 : 1;
	json_object_object_add(all, "ok", json_object_new_boolean(rc == 0));
	if (json)
		printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		status_print_text(all);
	json_object_put(all);
	return fflush(stdout) == 0 ? rc : 1;
}

const struct em_admin_cmd ops_admin_cmds[] = {
	{ "status", "the pool, the database, the job queue and the last errors at a glance "
		    "([--json] [--log FILE]...)", ops_status },
	{ NULL, NULL, NULL },
};
