#include "core/log.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/jsonbuf.h"
#include "core/time.h"

static enum em_log_level log_level = EM_LOG_INFO;
static char log_role[16] = "main";
static char log_request_id[64];
static char log_route[128];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void em_log_set_level(enum em_log_level level)
{
	log_level = level;
}

bool em_log_level_parse(const char *s, enum em_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum em_log_level)i;
			return true;
		}
	}
	return false;
}

const char *em_log_level_name(enum em_log_level level)
{
	return (size_t)level < sizeof(level_names) / sizeof(level_names[0]) ? level_names[level]
									   : "info";
}

void em_log_set_role(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role ? role : "main");
}

void em_log_set_request(const char *request_id, const char *route)
{
	snprintf(log_request_id, sizeof(log_request_id), "%s",
		 request_id ? request_id : "");
	snprintf(log_route, sizeof(log_route), "%s", route ? route : "");
}

const char *em_log_request_id(void)
{
	return log_request_id;
}

/* Builds the common part of a line: time, level, role, pid, request. */
static json_object *log_line_new(enum em_log_level level)
{
	char ts[EM_TIME_RFC3339_SIZE];
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	/* the API's one date format, so log and response times compare */
	if (!em_time_rfc3339(em_now_ms(), ts, sizeof(ts)))
		snprintf(ts, sizeof(ts), "?");
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "level", json_object_new_string(level_names[level]));
	json_object_object_add(o, "proc", json_object_new_string(log_role));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	if (log_request_id[0])
		json_object_object_add(o, "request_id",
				       json_object_new_string(log_request_id));
	if (log_route[0])
		json_object_object_add(o, "route", json_object_new_string(log_route));
	return o;
}

#define LOG_LINE_MAX 4096
#define LOG_FIELD_KEEP 1024
#define LOG_TRUNCATED_MARK "...[truncated]"

/*
 * Shortens the long string fields of a line that would not fit: each of
 * msg and path keeps its first LOG_FIELD_KEEP bytes (cut on a UTF-8
 * boundary) plus a marker, and the line says "truncated": true. Nothing is
 * dropped silently: a reader sees that a line was cut, and where.
 */
static void log_line_shorten(json_object *o)
{
	static const char *const fields[] = { "msg", "path" };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_object *v;
		const char *text;
		size_t len, keep = LOG_FIELD_KEEP;
		char cut[LOG_FIELD_KEEP + sizeof(LOG_TRUNCATED_MARK)];

		if (!json_object_object_get_ex(o, fields[i], &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		text = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (len <= keep)
			continue;
		while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
			keep--;
		memcpy(cut, text, keep);
		memcpy(cut + keep, LOG_TRUNCATED_MARK, sizeof(LOG_TRUNCATED_MARK));
		json_object_object_add(o, fields[i], json_object_new_string(cut));
	}
	json_object_object_add(o, "truncated", json_object_new_boolean(1));
}

static void log_buffer_write(void);

/* One write(2) per line, so lines from several processes never interleave. */
static void log_line_emit(json_object *o)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char buf[LOG_LINE_MAX];

	if (s && len >= sizeof(buf) - 1) {
		log_line_shorten(o);
		s = json_object_to_json_string_length(
			o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	}
	if (s && len >= sizeof(buf) - 1) {
		/* still too long (escaping can grow a field sixfold): say so */
		s = "{\"level\":\"error\",\"msg\":\"a log line was too long to write\","
		    "\"truncated\":true}";
		len = strlen(s);
	}
	if (s) {
		log_buffer_write(); /* the access lines before it stay before it */
		memcpy(buf, s, len);
		buf[len] = '\n';
		if (write(STDERR_FILENO, buf, len + 1) < 0) {
			/* Nowhere left to report it. */
		}
	}
	json_object_put(o);
}

void em_log(enum em_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_object *o;
	int n;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg)) /* cut: say so at the end of what is kept */
		memcpy(msg + sizeof(msg) - sizeof(LOG_TRUNCATED_MARK), LOG_TRUNCATED_MARK,
		       sizeof(LOG_TRUNCATED_MARK));
	o = log_line_new(level);
	if (!o)
		return;
	json_object_object_add(o, "msg", json_object_new_string(msg));
	log_line_emit(o);
}

/*
 * The access-line buffer. A worker writes one access line per request;
 * one write(2) each was a tenth of a product read's CPU. With buffering
 * on (em_log_buffer_enable) the lines collect here and go out when the
 * worker is about to wait for a connection (em_log_flush), when the next
 * line would not fit, when the oldest is a second old, before any other
 * log line (so the order is kept), at a clean exit, and from the crash
 * handler (em_log_crash_flush_install): a worker that dies of a signal it
 * can catch still writes every line of the requests it finished.
 * log_buf_done is what the handler may write: it only grows after a whole
 * line is in place.
 */
#define LOG_BUF_SIZE 65536
static char log_buf[LOG_BUF_SIZE];
static volatile size_t log_buf_done;
static bool log_buf_on;
static int64_t log_buf_oldest_ms;

/*
 * Writes log_buf[0..len) in pieces of at most PIPE_BUF bytes that end on a
 * line: a pipe (or the journal's stream) takes each whole, so lines of
 * several processes never interleave. Async-signal-safe.
 */
static void log_buf_write_out(size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t n = len - off;
		ssize_t w;

		if (n > 4096) {
			n = 4096;
			while (n > 0 && log_buf[off + n - 1] != '\n')
				n--;
			if (n == 0)
				n = len - off < 4096 ? len - off : 4096;
		}
		w = write(STDERR_FILENO, log_buf + off, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to report it */
		off += (size_t)w;
	}
}

static void log_buffer_write(void)
{
	size_t len = log_buf_done;

	if (!len)
		return;
	log_buf_write_out(len);
	log_buf_done = 0;
}

void em_log_buffer_enable(bool on)
{
	if (!on)
		log_buffer_write();
	log_buf_on = on;
}

void em_log_flush(void)
{
	log_buffer_write();
}

bool em_log_pending(void)
{
	return log_buf_done > 0;
}

static void log_crash_handler(int sig)
{
	int saved = errno;

	log_buf_write_out(log_buf_done);
	log_buf_done = 0;
	errno = saved;
	/* SA_RESETHAND put the default action back: die of the same signal */
	raise(sig);
}

void em_log_crash_flush_install(const int *sigs, size_t n)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = log_crash_handler;
	sa.sa_flags = (int)(SA_RESETHAND | SA_NODEFER);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < n; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* The time as em_time_rfc3339 writes it, the seconds part cached. */
static size_t log_time(int64_t ms, char *out)
{
	static int64_t cached_s = INT64_MIN;
	static char prefix[EM_TIME_RFC3339_SIZE];
	int64_t s = ms >= 0 ? ms / 1000 : -((-(ms + 1)) / 1000) - 1;
	int milli = (int)(ms - s * 1000);

	if (s != cached_s) {
		if (!em_time_rfc3339(s * 1000, prefix, sizeof(prefix))) {
			memcpy(out, "?", 1);
			return 1;
		}
		cached_s = s;
	}
	/* "YYYY-MM-DDTHH:MM:SS." is 20 bytes, then 3 digits and Z */
	memcpy(out, prefix, 20);
	out[20] = (char)('0' + milli / 100);
	out[21] = (char)('0' + milli / 10 % 10);
	out[22] = (char)('0' + milli % 10);
	out[23] = 'Z';
	return 24;
}

#define LIT(b, s) em_jsonbuf_raw((b), (s), sizeof(s) - 1)

/*
 * The access line, written with the byte helpers of jsonbuf.h (no printf,
 * no json-c tree: this runs once per request), newline included. The
 * caller checks the length: escaping can still make it too long.
 */
static void log_access_format(struct em_jsonbuf *b, const char *method, const char *path,
			      int status, double duration_ms)
{
	char num[32];
	size_t plen = strlen(path), n;
	bool cut = false;
	int64_t us;

	n = log_time(em_now_ms(), num);
	LIT(b, "{\"time\":\"");
	em_jsonbuf_raw(b, num, n);
	LIT(b, "\",\"level\":\"info\",\"proc\":");
	em_jsonbuf_string(b, log_role, strlen(log_role));
	LIT(b, ",\"pid\":");
	em_jsonbuf_int64(b, (int64_t)getpid());
	if (log_request_id[0]) {
		LIT(b, ",\"request_id\":");
		em_jsonbuf_string(b, log_request_id, strlen(log_request_id));
	}
	if (log_route[0]) {
		LIT(b, ",\"route\":");
		em_jsonbuf_string(b, log_route, strlen(log_route));
	}
	LIT(b, ",\"msg\":\"request\",\"method\":");
	em_jsonbuf_string(b, method, strlen(method));
	LIT(b, ",\"path\":");
	if (plen > LOG_FIELD_KEEP) {
		plen = LOG_FIELD_KEEP; /* cut on a UTF-8 boundary, and say so */
		while (plen > 0 && ((unsigned char)path[plen] & 0xC0) == 0x80)
			plen--;
		cut = true;
	}
	if (cut) {
		em_jsonbuf_string(b, path, plen);
		b->len--; /* reopen the string for the marker */
		LIT(b, LOG_TRUNCATED_MARK "\"");
	} else {
		em_jsonbuf_string(b, path, plen);
	}
	LIT(b, ",\"status\":");
	em_jsonbuf_int64(b, status);
	/* milliseconds with microsecond digits */
	LIT(b, ",\"duration_ms\":");
	us = duration_ms > 0 ? (int64_t)(duration_ms * 1000.0 + 0.5) : 0;
	em_jsonbuf_int64(b, us / 1000);
	num[0] = '.';
	num[1] = (char)('0' + us % 1000 / 100);
	num[2] = (char)('0' + us % 100 / 10);
	num[3] = (char)('0' + us % 10);
	em_jsonbuf_raw(b, num, 4);
	if (cut)
		LIT(b, ",\"truncated\":true");
	LIT(b, "}\n");
}

void em_log_access(const char *method, const char *path, int status,
		   double duration_ms)
{
	static struct em_jsonbuf line = EM_JSONBUF_INIT;
	int64_t now;

	if (EM_LOG_INFO < log_level)
		return;
	line.len = 0; /* the buffer is kept from line to line */
	log_access_format(&line, method ? method : "", path ? path : "", status, duration_ms);
	if (line.len >= LOG_LINE_MAX) {
		static const char too_long[] =
			"{\"level\":\"error\",\"msg\":\"a log line was too long to write\","
			"\"truncated\":true}\n";

		line.len = 0;
		LIT(&line, too_long);
	}
	if (!log_buf_on) {
		log_buffer_write();
		if (write(STDERR_FILENO, line.data, line.len) < 0) {
			/* Nowhere left to report it. */
		}
		return;
	}
	if (log_buf_done + line.len > LOG_BUF_SIZE)
		log_buffer_write();
	now = em_now_ms();
	if (!log_buf_done)
		log_buf_oldest_ms = now;
	memcpy(log_buf + log_buf_done, line.data, line.len);
	/* the line is whole before the crash handler may write it */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	log_buf_done += line.len;
	if (now - log_buf_oldest_ms >= 1000)
		log_buffer_write();
}
