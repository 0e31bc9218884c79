/*
 * metrics_listen.c - emporium-worker's GET /metrics: its counters (jobs
 * by outcome and their latency, mails, database errors and transactions,
 * payments and stock-outs of the sweeps it runs) in the Prometheus text
 * format, on a local TCP port (EMPORIUM_WORKER_METRICS_LISTEN).
 *
 * A port rather than a textfile for node_exporter: Prometheus sees the
 * worker itself (`up` goes to 0 when it dies or hangs), and nothing has
 * to clean up files of workers that are gone. The listener is served
 * from the worker's idle wait, one short connection at a time; each read
 * and write is bounded (1 s), so a stuck scraper delays jobs by at most
 * that. Only GET /metrics is answered; it is meant for loopback or a
 * private address, like the FastCGI pool's /metrics behind nginx.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/time.h"
#include "jobs/jobs.h"

#define METRICS_REQUEST_MAX 4096

/* "a.b.c.d:port" into sin; false when it is not one. */
static bool metrics_addr_parse(const char *s, struct sockaddr_in *sin)
{
	const char *colon = strrchr(s, ':');
	char host[64], *end;
	long port;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return false;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1;
}

bool jobs_metrics_open(struct jobs_worker *w, struct em_error *err)
{
	const char *listen_at = jobs_config(&w->cfg)->metrics_listen;
	struct sockaddr_in sin;
	int fd = -1, one = 1;

	w->metrics_fd = -1;
	if (!listen_at[0])
		return true;
	if (!metrics_addr_parse(listen_at, &sin)) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_WORKER_METRICS_LISTEN",
			     "EMPORIUM_WORKER_METRICS_LISTEN must be an IPv4 host:port, not \"%s\"",
			     listen_at);
		return false;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 16) != 0) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_WORKER_METRICS_LISTEN",
			     "cannot listen on %s: %s", listen_at, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	w->metrics_fd = fd;
	em_info("metrics on http://%s/metrics", listen_at);
	return true;
}

void jobs_metrics_close(struct jobs_worker *w)
{
	if (w->metrics_fd >= 0)
		close(w->metrics_fd);
	w->metrics_fd = -1;
}

static void metrics_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			return; /* the scraper left or stalled past the timeout */
		}
		p += k;
		n -= (size_t)k;
	}
}

/* The exposition of this process. */
static void metrics_render(struct jobs_worker *w, bson_string_t *out)
{
	if (w->metrics)
		em_metrics_events_render(w->metrics, 1, true, out);
	em_metrics_appendf(out, "# HELP emporium_worker_start_time_seconds When this "
			   "emporium-worker started (Unix time).\n"
			   "# TYPE emporium_worker_start_time_seconds gauge\n"
			   "emporium_worker_start_time_seconds %.3f\n", (double)w->started_ms / 1000.0);
}

/* Reads one request (bounded in size and time) and answers it. */
static void metrics_serve(struct jobs_worker *w, int fd)
{
	struct timeval tv = { 1, 0 };
	char req[METRICS_REQUEST_MAX + 1], head[256];
	size_t got = 0;
	bool complete = false;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < METRICS_REQUEST_MAX) {
		ssize_t k = read(fd, req + got, METRICS_REQUEST_MAX - got);

		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)k;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n")) {
			complete = true;
			break;
		}
	}
	if (!complete)
		return;
	if (strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET /metrics?", 13) == 0) {
		bson_string_t *out = bson_string_new(NULL);

		metrics_render(w, out);
		snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			 "Content-Length: %u\r\nConnection: close\r\n\r\n", out->len);
		metrics_write_all(fd, head, strlen(head));
		metrics_write_all(fd, out->str, out->len);
		bson_string_free(out, true);
		return;
	}
	snprintf(head, sizeof(head), "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
				     "Content-Length: 10\r\nConnection: close\r\n\r\nnot found\n");
	metrics_write_all(fd, head, strlen(head));
}

static int64_t metrics_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void jobs_metrics_wait(struct jobs_worker *w, int64_t ms)
{
	int64_t end = metrics_mono_ms() + ms;

	if (w->metrics_fd < 0) {
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

		nanosleep(&ts, NULL); /* returns early on a signal */
		return;
	}
	/* ms <= 0: answer the scrapes already waiting, without sleeping (a
	 * busy worker calls this between jobs) */
	for (;;) {
		struct pollfd pfd = { .fd = w->metrics_fd, .events = POLLIN };
		int64_t left = end - metrics_mono_ms();
		int rc, cfd;

		rc = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (rc < 0)
			return; /* EINTR: a signal (stop, reload) - back to the loop */
		if (rc == 0)
			return;
		cfd = accept4(w->metrics_fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		metrics_serve(w, cfd);
		close(cfd);
	}
}
