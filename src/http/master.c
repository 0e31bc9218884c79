#include "http/worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/modules.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/notify.h"
#include "http/metrics.h"
#include "http/peer.h"

#define MASTER_MAX_WORKERS 256

struct master_slot {
	pid_t pid;           /* 0: empty */
	unsigned generation; /* bumped by every reload */
	bool retiring;       /* told to stop; not respawned */
	struct timespec started;
};

struct master {
	struct em_config cfg;
	int listen_fd;
	char unix_path[EM_CONFIG_STR_MAX]; /* "" for TCP */
	struct master_slot slots[MASTER_MAX_WORKERS];
	unsigned generation;
	int nworkers;
	int fast_failures;               /* consecutive early deaths */
	struct timespec respawn_after;   /* backoff: no forks before this */
	pid_t pid;
	struct em_metrics *metrics;      /* shared with the workers; NULL: none */
};

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static int master_worker_count(const struct em_config *cfg)
{
	long n = cfg->workers > 0 ? cfg->workers : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > MASTER_MAX_WORKERS)
		n = MASTER_MAX_WORKERS;
	return (int)n;
}

/* Binds the listening socket once; workers inherit it across fork(). */
static bool master_listen(struct master *m)
{
	const char *addr = m->cfg.listen;
	int flags;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct stat st;

		addr += 5;
		snprintf(m->unix_path, sizeof(m->unix_path), "%s", addr);
		/* A socket left by a crashed run would make bind() fail. */
		if (lstat(addr, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(addr);
	}
	if (FCGX_Init() != 0) {
		em_err("FCGX_Init failed");
		return false;
	}
	m->listen_fd = FCGX_OpenSocket(addr, m->cfg.backlog);
	if (m->listen_fd < 0) {
		em_err("cannot listen on %s (EMPORIUM_LISTEN): %s", m->cfg.listen,
		       strerror(errno));
		return false;
	}
	if (m->unix_path[0] && chmod(m->unix_path, (mode_t)m->cfg.socket_mode) != 0) {
		em_err("cannot chmod %s: %s", m->unix_path, strerror(errno));
		return false;
	}
	/* Workers poll, then accept; whoever loses the race gets EAGAIN. */
	flags = fcntl(m->listen_fd, F_GETFL);
	if (flags < 0 || fcntl(m->listen_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(m->listen_fd, F_SETFD, FD_CLOEXEC) < 0) {
		em_err("cannot set the listening socket non-blocking: %s", strerror(errno));
		return false;
	}
	em_info("listening on %s", m->cfg.listen);
	return true;
}

static bool master_spawn(struct master *m, struct master_slot *slot)
{
	pid_t pid = fork();

	if (pid < 0) {
		em_err("fork failed: %s", strerror(errno));
		return false;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		em_worker_run(m->listen_fd, &m->cfg, m->pid, m->metrics, (int)(slot - m->slots));
	}
	if (m->metrics)
		em_metrics_add(&m->metrics->worker_starts, 1);
	slot->pid = pid;
	slot->generation = m->generation;
	slot->retiring = false;
	now(&slot->started);
	return true;
}

static int master_live_current(const struct master *m)
{
	int n = 0;

	for (int i = 0; i < MASTER_MAX_WORKERS; i++)
		if (m->slots[i].pid && !m->slots[i].retiring)
			n++;
	return n;
}

static int master_live_total(const struct master *m)
{
	int n = 0;

	for (int i = 0; i < MASTER_MAX_WORKERS; i++)
		if (m->slots[i].pid)
			n++;
	return n;
}

/* Starts workers until nworkers current ones run, unless backing off. */
static void master_fill(struct master *m)
{
	struct timespec t;

	now(&t);
	if (ts_diff(&t, &m->respawn_after) < 0)
		return;
	for (int i = 0; i < MASTER_MAX_WORKERS && master_live_current(m) < m->nworkers; i++)
		if (!m->slots[i].pid && !master_spawn(m, &m->slots[i]))
			return;
}

static void master_signal_all(struct master *m, int sig, bool only_retiring)
{
	for (int i = 0; i < MASTER_MAX_WORKERS; i++)
		if (m->slots[i].pid && (!only_retiring || m->slots[i].retiring))
			kill(m->slots[i].pid, sig);
}

/* Reaps exited workers; decides on backoff for ones that died early. */
static void master_reap(struct master *m, bool stopping)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct timespec t;

		now(&t);
		for (int i = 0; i < MASTER_MAX_WORKERS; i++) {
			struct master_slot *s = &m->slots[i];
			double lived;

			if (s->pid != pid)
				continue;
			lived = ts_diff(&t, &s->started);
			s->pid = 0;
			if (m->metrics) {
				bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

				/* a clean exit the master asked for is a retirement
				 * (reload, stop); any other is max_requests reached */
				em_metrics_add(clean && (s->retiring || stopping) ?
						       &m->metrics->worker_exits_retired :
					       clean ? &m->metrics->worker_exits_recycled :
					       WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
						       &m->metrics->worker_exits_timeout :
						       &m->metrics->worker_exits_crash,
					       1);
			}
			if (s->retiring || stopping)
				break;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				em_debug("worker %d recycled", (int)pid);
				break;
			}
			if (WIFSIGNALED(status))
				em_warn("worker %d killed by signal %d%s", (int)pid,
					WTERMSIG(status),
					WTERMSIG(status) == SIGALRM ? " (request timeout)" : "");
			else
				em_warn("worker %d exited with status %d", (int)pid,
					WEXITSTATUS(status));
			/* Dying in a loop (bad config, DB URI): back off
			 * exponentially instead of forking flat out. A SIGKILL
			 * comes from outside (an operator, the OOM killer, the
			 * cluster fault test) and says nothing about the next
			 * worker: it is replaced at once, or a few kills in a
			 * row would leave the pool empty for seconds. */
			if (lived < 2.0 && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
				double delay;

				m->fast_failures++;
				delay = 0.1 * (double)(1 << (m->fast_failures < 7 ? m->fast_failures : 7));
				if (delay > 10.0)
					delay = 10.0;
				m->respawn_after = t;
				m->respawn_after.tv_sec += (time_t)delay;
				m->respawn_after.tv_nsec += (long)((delay - (double)(time_t)delay) * 1e9);
				if (m->respawn_after.tv_nsec >= 1000000000L) {
					m->respawn_after.tv_sec++;
					m->respawn_after.tv_nsec -= 1000000000L;
				}
				em_warn("workers die early; next start in %.1f s", delay);
			} else {
				m->fast_failures = 0;
			}
			break;
		}
	}
}

/*
 * SIGHUP: reread the configuration, start a new generation of workers, and
 * tell the old ones to finish their request and go. The listening socket
 * never closes, so connections wait in its backlog meanwhile: nothing is
 * dropped. A bad new configuration is refused and the old one kept.
 */
static void master_reload(struct master *m)
{
	struct em_peer_allow allow;
	struct em_config next;
	struct em_error err = EM_ERROR_INIT;

	em_notify("RELOADING=1");
	if (!em_app_config_load(&next, &err) ||
	    !em_peer_allow_parse(next.fcgi_allowed, &allow, &err)) {
		em_err("reload refused, keeping the running configuration: %s", err.message);
		em_notify("READY=1");
		return;
	}
	if (strcmp(next.listen, m->cfg.listen) != 0) {
		em_warn("EMPORIUM_LISTEN changed; the socket is kept until a restart");
		snprintf(next.listen, sizeof(next.listen), "%s", m->cfg.listen);
	}
	m->cfg = next;
	em_log_set_level(m->cfg.log_level);
	m->nworkers = master_worker_count(&m->cfg);
	for (int i = 0; i < MASTER_MAX_WORKERS; i++)
		if (m->slots[i].pid)
			m->slots[i].retiring = true;
	m->generation++;
	m->fast_failures = 0;
	m->respawn_after = (struct timespec){ 0, 0 };
	master_fill(m);
	master_signal_all(m, SIGTERM, true);
	em_info("reloaded: %d workers in generation %u", m->nworkers, m->generation);
	em_notify("READY=1");
}

int em_master_run(struct em_config *cfg)
{
	struct master *m = xcalloc(1, sizeof(*m));
	sigset_t set;
	bool stopping = false;
	struct timespec stop_deadline = { 0, 0 };
	int rc = 1;

	em_log_set_role("master");
	m->cfg = *cfg;
	m->pid = getpid();
	m->listen_fd = -1;
	m->nworkers = master_worker_count(&m->cfg);
	/* mapped before any fork: the one area the pool shares on purpose */
	m->metrics = em_metrics_create();

	/* All supervision signals are taken synchronously by sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!master_listen(m))
		goto done;
	master_fill(m);
	em_info("started %d workers", m->nworkers);
	em_notify("READY=1");

	for (;;) {
		struct timespec wait = { 0, 200 * 1000 * 1000 }, t;
		siginfo_t info;
		int sig = sigtimedwait(&set, &info, &wait);

		if (sig == SIGHUP && !stopping) {
			master_reload(m);
		} else if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			stopping = true;
			em_notify("STOPPING=1");
			em_info("stopping: letting in-flight requests finish");
			now(&stop_deadline);
			stop_deadline.tv_sec += m->cfg.shutdown_timeout_s;
			master_signal_all(m, SIGTERM, false);
		}
		master_reap(m, stopping);
		if (stopping) {
			if (master_live_total(m) == 0)
				break;
			now(&t);
			if (ts_diff(&t, &stop_deadline) > 0) {
				em_warn("shutdown timeout: killing the remaining workers");
				master_signal_all(m, SIGKILL, false);
				stop_deadline.tv_sec += 3600;
			}
			continue;
		}
		master_fill(m);
	}
	em_info("stopped");
	rc = 0;
done:
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->unix_path[0])
		unlink(m->unix_path);
	if (m->metrics)
		munmap(m->metrics, sizeof(*m->metrics));
	free(m);
	return rc;
}
