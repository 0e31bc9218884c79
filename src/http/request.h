/*
 * request.h - one HTTP request as a FastCGI worker sees it, and the
 * response being built for it.
 *
 * Lifecycle: em_request_init() from the FastCGI environment, the router
 * fills route and params, the handler reads and writes through the
 * accessors here, em_response_send() writes the response, and
 * em_request_release() frees everything the request owns, including all
 * em_request_alloc()/em_request_strdup() memory: handlers never free
 * per-request strings themselves (nginx pools, kcgi's khttp_free). That
 * memory, and the parsed path, query and cookies, come from an arena
 * (core/arena.h): the worker's, reset after each request.
 */
#ifndef EM_HTTP_REQUEST_H
#define EM_HTTP_REQUEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"
#include "http/parse.h"

struct em_route;
struct em_app;

#define EM_ROUTE_MAX_PARAMS 8

struct em_response {
	int status;
	char *headers;          /* "Name: value\r\n" lines */
	size_t headers_len, headers_cap;
	char *body;
	size_t body_len;
	char content_type[96];
	bool has_cache_control;
};

struct em_request {
	/* From the FastCGI parameters nginx sends. */
	char **envp;
	const char *method;
	const char *uri_path;       /* the raw path part of REQUEST_URI */
	size_t uri_path_len;
	char **segments;            /* decoded path segments */
	size_t nsegments;
	struct em_kv_list query;
	struct em_kv_list cookies;
	char request_id[64];
	const char *remote_addr;

	/* The body, read up to the configured limit. */
	char *body;
	size_t body_len;
	json_object *json;          /* parsed body, for routes that take JSON */

	/* Filled by the router. */
	const struct em_route *route;
	struct em_kv params[EM_ROUTE_MAX_PARAMS];
	size_t nparams;
	int role;                   /* enum em_role of the caller */
	char user_id[25];           /* the caller's users._id (hex), "" if anonymous */

	struct em_app *app;         /* the worker's context: config, store */
	struct em_response resp;
	struct timespec started;

	/* Memory owned by the request, given back by em_request_release():
	 * the worker's arena (reset after each request), or own_arena. */
	struct em_arena *arena;
	struct em_arena own_arena;

	/* Set when the request line itself could not be parsed. */
	struct em_error parse_error;
};

/*
 * Prepares req from a FastCGI environment (NULL-terminated "NAME=value"
 * strings). Never fails: a malformed path or query is recorded in
 * req->parse_error and answered as a 4xx by the dispatcher.
 */
void em_request_init(struct em_request *req, char **envp, struct em_app *app);
/* The same with arena (not NULL) for the request's memory: em_request_release()
 * resets it (keeping its first chunk), the caller releases it at the end. */
void em_request_init_arena(struct em_request *req, char **envp, struct em_app *app,
			   struct em_arena *arena);
void em_request_release(struct em_request *req);

/* A FastCGI parameter ("REQUEST_METHOD", "HTTP_AUTHORIZATION"), or NULL. */
const char *em_request_param(const struct em_request *req, const char *name);
/* A request header by its HTTP name ("Content-Type", "If-Match"), or NULL. */
const char *em_request_header(const struct em_request *req, const char *name);
/* A {name} captured from the route pattern, or NULL. */
const char *em_request_path_param(const struct em_request *req, const char *name);
/* A decoded query parameter, or NULL. */
const char *em_request_query(const struct em_request *req, const char *name);
/*
 * The Idempotency-Key header: 1..EM_IDEMPOTENCY_KEY_MAX printable ASCII
 * characters without spaces (400 otherwise). Missing: *key NULL, or a 428
 * saying what_needs_it ("placing an order") when required.
 */
#define EM_IDEMPOTENCY_KEY_MAX 255
bool em_request_idempotency_key(const struct em_request *req, bool required,
				const char *what_needs_it, const char **key,
				struct em_error *err);
/*
 * The query string holds only the names in `allowed` (NULL-terminated; NULL
 * for none), each at most once, each value at most `value_max` bytes and
 * not starting with '$'. A 400 naming the parameter otherwise. Unknown
 * names include "category[$ne]": nothing a client sends is read as an
 * operator, and a misspelt filter is an error instead of being ignored.
 */
bool em_request_query_check(const struct em_request *req, const char *const *allowed,
			    size_t value_max, struct em_error *err);
/* A cookie value, or NULL. */
const char *em_request_cookie(const struct em_request *req, const char *name);

/* Per-request memory, released with the request. */
void *em_request_alloc(struct em_request *req, size_t size);
char *em_request_strdup(struct em_request *req, const char *s);

/*
 * Takes the body the worker read (ownership passes to req). The body
 * limit is enforced by the reader, before any byte is kept.
 */
void em_request_set_body(struct em_request *req, char *body, size_t len);

/*
 * Checks that the body is JSON (Content-Type application/json, or one of
 * extra_types when given, NULL-terminated) and parses it into req->json.
 * EM_ERR_MEDIA_TYPE, EM_ERR_INVALID or EM_ERR_TOO_LARGE otherwise.
 */
bool em_request_parse_json(struct em_request *req, const char *const *extra_types,
			   size_t max_len, struct em_error *err);

/* ---- the response ---- */

/* Adds a header; refuses (and logs) a name or value with CR, LF or NUL. */
bool em_response_header(struct em_request *req, const char *name, const char *value);
/* Sets status and a JSON body; takes ownership of o (may be NULL: no body). */
void em_response_json(struct em_request *req, int status, json_object *o);
/* A JSON body already written (em_jsonbuf_take); the response takes body. */
void em_response_json_bytes(struct em_request *req, int status, char *body, size_t len);
/* A body of another media type (text/plain for /metrics): copied. */
void em_response_text(struct em_request *req, int status, const char *content_type,
		      const char *body, size_t len);
/* An empty response (204, 304...). */
void em_response_empty(struct em_request *req, int status);
/*
 * An RFC 9457 problem: type /problems/<em_problem_slug>, title
 * from the status, detail, and for validation errors an "errors"
 * [{field, code, message}] array when field is non-empty
 * (em_response_error lists every field error an em_error collected).
 */
const char *em_problem_slug(int status);
void em_response_problem(struct em_request *req, int status, const char *detail,
			 const char *field);
/* As em_response_error, with extension members (RFC 9457 §3.2) taken
 * from extra (consumed; NULL: none): a module's machine-readable extras
 * ("skus", "reason"), never replacing type/title/status/detail/errors. */
void em_response_problem_ext(struct em_request *req, const struct em_error *err,
			     json_object *extra);
/* The problem for an em_error: maps err->kind to a status. */
void em_response_error(struct em_request *req, const struct em_error *err);
/* The HTTP status an error kind maps to. */
int em_error_status(enum em_error_kind kind);
/* The reason phrase of a status ("Not Found"). */
const char *em_status_text(int status);

/*
 * Serialises the response as FastCGI expects (a Status: line, headers,
 * blank line, body) into a new buffer the caller frees.
 */
char *em_response_serialize(const struct em_request *req, size_t *len);

#endif
