#include "http/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/app.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/log.h"
#include "http/peer.h"
#include "http/router.h"

static volatile sig_atomic_t worker_stop;

static void worker_on_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/*
 * Reads the body up to CONTENT_LENGTH. A declared length over the limit
 * is refused before reading anything; a body that ends early is refused.
 */
static bool worker_body_read(struct em_request *req, FCGX_Stream *in,
			     int64_t max_body, struct em_error *err)
{
	const char *cl = em_request_param(req, "CONTENT_LENGTH");
	char *end = NULL, *buf;
	long long len;
	int got = 0;

	if (!cl || !*cl)
		return true;
	errno = 0;
	len = strtoll(cl, &end, 10);
	if (errno || *end || len < 0) {
		em_error_set(err, EM_ERR_INVALID, NULL, "invalid Content-Length");
		return false;
	}
	if (len == 0)
		return true;
	if (len > max_body) {
		em_error_set(err, EM_ERR_TOO_LARGE, NULL,
			     "the body is larger than %lld bytes", (long long)max_body);
		return false;
	}
	buf = xmalloc((size_t)len + 1);
	while (got < len) {
		int n = FCGX_GetStr(buf + got, (int)(len - got), in);

		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	em_request_set_body(req, buf, (size_t)got);
	if (got != len) {
		em_error_set(err, EM_ERR_INVALID, NULL,
			     "the body ended after %d of %lld bytes", got, len);
		return false;
	}
	return true;
}

/*
 * The body limit for this request: EMPORIUM_MAX_BODY, or for a route that
 * takes an upload (EM_BODY_UPLOAD) what its module allows (media: room for
 * EMPORIUM_MEDIA_MAX_BYTES plus its multipart framing). The route is
 * matched here, before any byte of the body is read, so no other route
 * ever accepts more; nginx enforces the same split (client_max_body_size
 * per location). A large upload is also authenticated here, before its
 * body is read: a caller without the route's role costs a header check,
 * not megabytes of reading (the refusal is left in req->parse_error and
 * *skip_body set, so the router answers it).
 */
static int64_t worker_body_limit(const struct em_app *app, struct em_request *req,
				 bool *skip_body)
{
	const struct em_route *route = NULL;
	struct em_kv params[EM_ROUTE_MAX_PARAMS];
	struct em_error err = EM_ERROR_INIT;
	size_t nparams = 0;
	int64_t upload = app->upload_max_body;
	const char *cl = em_request_param(req, "CONTENT_LENGTH");
	enum em_role role = EM_ROLE_PUBLIC;

	*skip_body = false;
	/* Routing twice is only worth it for a body the default refuses. */
	if (!cl || strtoll(cl, NULL, 10) <= app->cfg.max_body)
		return app->cfg.max_body;
	if (req->parse_error.kind != EM_ERR_NONE ||
	    !em_router_match(app->routes, req->method, req->segments, req->nsegments, &route,
			     params, &nparams, NULL, 0, &err) ||
	    route->body != EM_BODY_UPLOAD || upload <= app->cfg.max_body)
		return app->cfg.max_body;
	if (route->role != EM_ROLE_PUBLIC) {
		if (!app->authenticate || !app->authenticate(req, &role, &err)) {
			if (err.kind == EM_ERR_NONE)
				em_error_set(&err, EM_ERR_UNAUTHENTICATED, NULL,
					     "this resource needs a signed-in account");
		} else if (role < route->role) {
			em_error_set(&err, EM_ERR_FORBIDDEN, NULL,
				     "your account may not use this resource");
		}
		if (err.kind != EM_ERR_NONE) {
			em_info("upload refused before its %s-byte body was read: %s", cl,
				err.message);
			req->parse_error = err;
			*skip_body = true;
			return app->cfg.max_body;
		}
	}
	return upload;
}

static double worker_elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Serves the request libfcgi just read; its memory from arena (reset after). */
static void worker_serve(struct em_app *app, FCGX_Request *fr, struct em_arena *arena)
{
	struct em_request req;
	char *out, *path;
	size_t len;

	em_request_init_arena(&req, fr->envp, app, arena);
	em_log_set_request(req.request_id, NULL);
	if (req.parse_error.kind == EM_ERR_NONE) {
		bool skip_body;
		int64_t limit = worker_body_limit(app, &req, &skip_body);

		if (!skip_body && !worker_body_read(&req, fr->in, limit, &req.parse_error)) {
			/* recorded in parse_error: the dispatcher answers it */
		}
	}
	if (app->metrics_slot)
		em_metrics_add(&app->metrics_slot->in_flight, 1);
	store_recover(&app->store); /* a client that lost the server: a fresh one */
	em_router_dispatch(app->routes, app->authenticate, (size_t)app->cfg.max_body, &req);
	out = em_response_serialize(&req, &len);
	if (FCGX_PutStr(out, (int)len, fr->out) != (int)len)
		em_warn("the response could not be written whole (client gone?)");
	free(out);
	path = em_request_alloc(&req, req.uri_path_len + 1);
	memcpy(path, req.uri_path, req.uri_path_len);
	{
		double ms = worker_elapsed_ms(&req.started);

		em_log_access(req.method, path, req.resp.status, ms);
		if (app->metrics_slot) {
			em_metrics_request(app->metrics_slot, em_app_route_index(app, req.route),
					   req.resp.status, ms);
			__atomic_fetch_sub(&app->metrics_slot->in_flight, 1, __ATOMIC_RELAXED);
		}
	}
	em_request_release(&req);
	em_log_set_request(NULL, NULL);
}

/*
 * The wait for a connection. poll() on the shared listening socket wakes
 * every idle worker for each connection, and all but one find accept()
 * empty; an epoll set of its own per worker with EPOLLEXCLUSIVE (Linux
 * 4.5+) wakes one. -1 (then ppoll) where the kernel refuses it.
 */
static int worker_epoll_open(int listen_fd)
{
#ifdef EPOLLEXCLUSIVE
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	int fd = epoll_create1(EPOLL_CLOEXEC);

	ev.data.fd = listen_fd;
	if (fd >= 0 && epoll_ctl(fd, EPOLL_CTL_ADD, listen_fd, &ev) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
#else
	(void)listen_fd;
#endif
	return -1;
}

/*
 * Closes the connection of a finished request. libfcgi's close is a
 * lingering one (shutdown, then up to 2 s of poll and read until nginx
 * closes its end), which keeps the worker from its next connection for a
 * round trip through nginx. Over a unix socket with nothing left unread a
 * plain close loses nothing (the response is in nginx's receive queue;
 * no RST as on TCP), so the worker is free at once; otherwise libfcgi's.
 */
static void worker_conn_close(FCGX_Request *fr, sa_family_t family)
{
	int unread = -1;

	if (family == AF_UNIX && ioctl(fr->ipcFd, FIONREAD, &unread) == 0 && unread == 0) {
		close(fr->ipcFd);
		fr->ipcFd = -1;
		FCGX_Free(fr, 0);
		return;
	}
	FCGX_Free(fr, 1);
}

/*
 * Leaves the worker process. A forked worker normally leaves with _exit():
 * exit() would run exit handlers and flush stdio buffers inherited from
 * the master. A sanitizer build (--enable-asan), or a run with
 * EMPORIUM_TEST_CLEAN_EXIT=1 (valgrind), leaves with exit() instead, the
 * store already closed by the caller, so LeakSanitizer checks every
 * worker at its end: ./scripts/test runs its ASan stack with detect_leaks=1.
 */
#if defined(__SANITIZE_ADDRESS__)
#define WORKER_CLEAN_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_CLEAN_EXIT 1
#endif
#endif
#ifndef WORKER_CLEAN_EXIT
#define WORKER_CLEAN_EXIT 0
#endif

static void worker_exit(int code) __attribute__((noreturn));
static void worker_exit(int code)
{
	const char *clean = getenv("EMPORIUM_TEST_CLEAN_EXIT");

	em_log_flush(); /* a clean exit loses no access line */
	if (WORKER_CLEAN_EXIT || (clean && strcmp(clean, "1") == 0)) {
		store_global_cleanup();
		exit(code);
	}
	_exit(code);
}

void em_worker_run(int listen_fd, const struct em_config *cfg, pid_t master_pid,
		   struct em_metrics *metrics, int slot)
{
	struct em_app app;
	/* the requests' memory, made after fork(): see core/arena.h */
	struct em_arena arena = { 0 };
	struct em_error err = EM_ERROR_INIT;
	struct em_peer_allow allow;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	FCGX_Request fr;
	struct sigaction sa;
	sigset_t blocked, unblocked;
	long served = 0;
	int epfd;

	em_log_set_role("worker");
	/* Die with the master: a worker that outlives it keeps the socket and
	 * answers from old code (PITFALLS.md). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != master_pid)
		_exit(0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL); /* Ctrl-C: the master decides */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL); /* the request timeout kills us */

	/* SIGTERM stays blocked except while waiting for a connection, so a
	 * stop never interrupts a request, and is never missed (ppoll
	 * unblocks it atomically with the wait). */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGTERM);
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	sigemptyset(&unblocked);

	em_log_set_level(cfg->log_level);
	if (!em_peer_allow_parse(cfg->fcgi_allowed, &allow, &err)) {
		em_err("%s", err.message);
		_exit(3);
	}
	if (!em_app_open(&app, cfg, "emporium-fcgi", &err)) {
		em_err("worker cannot start: %s", err.message);
		_exit(3);
	}
	app.metrics = metrics;
	app.metrics_slot = metrics && slot >= 0 && slot < EM_METRICS_SLOTS ? &metrics->slots[slot] : NULL;
	em_metrics_events_attach(app.metrics_slot);
	if (FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
		em_err("FCGX_InitRequest failed");
		_exit(3);
	}
	em_debug("worker ready");
	{
		/* A sanitizer reports SIGSEGV & co. itself: only the request
		 * timeout's SIGALRM is ours there. */
		static const int crash[] = { SIGALRM, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };

		em_log_crash_flush_install(crash, WORKER_CLEAN_EXIT ? 1 : sizeof(crash) / sizeof(crash[0]));
	}
	em_log_buffer_enable(true);
	epfd = worker_epoll_open(listen_fd);

	while (!worker_stop) {
		struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
		int fd, rc;

		if (cfg->max_requests > 0 && served >= cfg->max_requests)
			break;
		/* Idle (no connection waiting): the buffered access lines go out
		 * now, before the wait, so a quiet worker holds none. */
		rc = em_log_pending() ? poll(&pfd, 1, 0) : 0;
		if (rc <= 0) {
			em_log_flush();
			if (epfd >= 0) {
				struct epoll_event ev;

				rc = epoll_pwait(epfd, &ev, 1, -1, &unblocked);
			} else {
				rc = ppoll(&pfd, 1, NULL, &unblocked);
			}
		}
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			em_err("poll on the listening socket failed: %s", strerror(errno));
			_exit(4);
		}
		if (getppid() != master_pid)
			break;
		peer_len = sizeof peer;
		fd = accept4(listen_fd, (struct sockaddr *)&peer, &peer_len, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED || errno == EPROTO)
				continue; /* another worker took it */
			em_err("accept failed: %s", strerror(errno));
			_exit(4);
		}
		/* FastCGI trusts its peer completely: over TCP only the nginx
		 * hosts may talk (unix sockets are guarded by their mode) */
		if ((peer.ss_family == AF_INET || peer.ss_family == AF_INET6) &&
		    !em_peer_allowed(&allow, (const struct sockaddr *)&peer)) {
			char host[INET6_ADDRSTRLEN] = "?";

			if (peer.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, host,
					  sizeof host);
			else
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, host,
					  sizeof host);
			em_warn("refused a FastCGI connection from %s (not in EMPORIUM_FCGI_ALLOWED)",
				host);
			close(fd);
			continue;
		}
		/* Hand the connection to libfcgi: with ipcFd set and
		 * keepConnection on, FCGX_Accept_r neither closes it nor calls
		 * accept() itself, and reads the request from it. */
		fr.ipcFd = fd;
		fr.keepConnection = 1;
		if (FCGX_Accept_r(&fr) < 0) {
			if (fr.ipcFd >= 0)
				FCGX_Free(&fr, 1);
			continue;
		}
		alarm((unsigned)cfg->request_timeout_s);
		worker_serve(&app, &fr, &arena);
		/* FCGX_Accept_r took keepConnection from nginx's request (off
		 * without fastcgi_keep_conn), and FCGX_Finish_r would then close
		 * with libfcgi's lingering close. When nginx has sent all of the
		 * request (stdin at its end: no body, or a body read whole) the
		 * worker closes it itself (worker_conn_close); a body left unread
		 * (refused before reading) is still coming, so libfcgi's
		 * lingering close drains it and nginx gets the answer. */
		if (peer.ss_family == AF_UNIX && FCGX_GetChar(fr.in) == EOF)
			fr.keepConnection = 1;
		FCGX_Finish_r(&fr);
		/* nginx may keep the connection (fastcgi_keep_conn); we don't:
		 * a pinned worker cannot serve other connections. */
		if (fr.ipcFd >= 0)
			worker_conn_close(&fr, peer.ss_family);
		alarm(0);
		served++;
	}
	em_debug("worker stopping after %ld requests", served);
	if (epfd >= 0)
		close(epfd);
	em_arena_release(&arena);
	em_app_close(&app);
	worker_exit(0);
}
