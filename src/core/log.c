#include "core/log.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

void em_log_access(const char *method, const char *path, int status,
		   double duration_ms)
{
	json_object *o;

	if (EM_LOG_INFO < log_level)
		return;
	o = log_line_new(EM_LOG_INFO);
	if (!o)
		return;
	json_object_object_add(o, "msg", json_object_new_string("request"));
	json_object_object_add(o, "method", json_object_new_string(method ? method : ""));
	/* The path only: query strings can carry emails and codes. */
	json_object_object_add(o, "path", json_object_new_string(path ? path : ""));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "duration_ms", json_object_new_double(duration_ms));
	log_line_emit(o);
}
