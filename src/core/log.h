/*
 * log.h - structured logs: one JSON object per line on stderr.
 *
 * systemd's journal (or the terminal under ./scripts/run) keeps stderr, so
 * there is no log file to rotate. Every line carries the time, the level,
 * the process id and, while a request is being served, its request id and
 * route, so a line can always be tied to the nginx access log entry with
 * the same $request_id.
 *
 * The request context is per process (set by the worker for the request it
 * serves); nothing here is shared across fork().
 */
#ifndef EM_CORE_LOG_H
#define EM_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum em_log_level { EM_LOG_DEBUG, EM_LOG_INFO, EM_LOG_WARN, EM_LOG_ERROR };

void em_log_set_level(enum em_log_level level);
/* Parses "debug", "info", "warn", "error"; false on anything else. */
bool em_log_level_parse(const char *s, enum em_log_level *out);
/* The name em_log_level_parse() takes for level. */
const char *em_log_level_name(enum em_log_level level);
/* Names the process in every line ("master", "worker", "admin"). */
void em_log_set_role(const char *role);

/* Ties the following lines to a request; NULLs clear the context. */
void em_log_set_request(const char *request_id, const char *route);
/* The request id of the context ("" when none): a job enqueued now carries it. */
const char *em_log_request_id(void);

void em_log(enum em_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The access line written once per request, after the response. */
void em_log_access(const char *method, const char *path, int status,
		   double duration_ms);

/*
 * Buffered access lines (a worker turns this on): em_log_access() keeps
 * its lines in a per-process buffer, written when it is full, when the
 * oldest line is a second old, before any other log line, and on
 * em_log_flush(), which the worker calls when it is about to wait for
 * work and before it exits. Turning it off writes what is held. The
 * buffer is empty in a process that never turned it on, so a fork()
 * never copies lines twice.
 */
void em_log_buffer_enable(bool on);
void em_log_flush(void);
/* Are buffered lines waiting? */
bool em_log_pending(void);
/*
 * On each of the given signals (a crash: SIGSEGV, SIGABRT, ...; the
 * request timeout's SIGALRM), the buffered lines are written, then the
 * process dies of the signal as before. What is lost is only the line of
 * the request in flight, which was never written. SIGKILL cannot be
 * caught: it loses what is buffered (at most a second's lines).
 */
void em_log_crash_flush_install(const int *sigs, size_t n);

#define em_debug(...) em_log(EM_LOG_DEBUG, __VA_ARGS__)
#define em_info(...)  em_log(EM_LOG_INFO, __VA_ARGS__)
#define em_warn(...)  em_log(EM_LOG_WARN, __VA_ARGS__)
#define em_err(...)   em_log(EM_LOG_ERROR, __VA_ARGS__)

#endif
