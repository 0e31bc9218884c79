#include "http/request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/json.h"

const char *em_request_param(const struct em_request *req, const char *name)
{
	size_t len = strlen(name);

	if (!req->envp)
		return NULL;
	for (char **e = req->envp; *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

const char *em_request_header(const struct em_request *req, const char *name)
{
	char param[128];
	size_t o = 0;

	/* CGI puts these two without the HTTP_ prefix. */
	if (strcasecmp(name, "Content-Type") == 0)
		return em_request_param(req, "CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return em_request_param(req, "CONTENT_LENGTH");
	o = (size_t)snprintf(param, sizeof(param), "HTTP_");
	for (const char *p = name; *p && o < sizeof(param) - 1; p++)
		param[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	param[o] = '\0';
	return em_request_param(req, param);
}

const char *em_request_path_param(const struct em_request *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].key, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *em_request_query(const struct em_request *req, const char *name)
{
	return em_kv_list_get(&req->query, name);
}

bool em_request_idempotency_key(const struct em_request *req, bool required,
				const char *what_needs_it, const char **key,
				struct em_error *err)
{
	const char *k = em_request_header(req, "Idempotency-Key");
	size_t n = k ? strlen(k) : 0;

	*key = NULL;
	if (n == 0) {
		if (!required)
			return true;
		em_error_setc(err, EM_ERR_PRECONDITION_REQUIRED, "Idempotency-Key", EM_CODE_REQUIRED,
			      "%s needs an Idempotency-Key header (a random value per attempt, "
			      "reused on retries)", what_needs_it);
		return false;
	}
	if (n > EM_IDEMPOTENCY_KEY_MAX) {
		em_error_setc(err, EM_ERR_INVALID, "Idempotency-Key", EM_CODE_TOO_LONG,
			      "is longer than %d characters", EM_IDEMPOTENCY_KEY_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e) {
			em_error_setc(err, EM_ERR_INVALID, "Idempotency-Key", EM_CODE_INVALID_FORMAT,
				      "must be printable ASCII without spaces");
			return false;
		}
	*key = k;
	return true;
}

bool em_request_query_check(const struct em_request *req, const char *const *allowed,
			    size_t value_max, struct em_error *err)
{
	for (size_t i = 0; i < req->query.n; i++) {
		const struct em_kv *kv = &req->query.items[i];
		bool known = false;

		for (size_t a = 0; allowed && allowed[a]; a++)
			known = known || strcmp(allowed[a], kv->key) == 0;
		if (!known) {
			em_error_set(err, EM_ERR_INVALID, kv->key, "unknown query parameter %.60s",
				     kv->key);
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(req->query.items[j].key, kv->key) == 0) {
				em_error_set(err, EM_ERR_INVALID, kv->key,
					     "%.60s may be given only once", kv->key);
				return false;
			}
		if (strlen(kv->value) > value_max || kv->value[0] == '$') {
			em_error_set(err, EM_ERR_INVALID, kv->key,
				     "%.60s must be a plain value of at most %zu bytes", kv->key,
				     value_max);
			return false;
		}
	}
	return true;
}

const char *em_request_cookie(const struct em_request *req, const char *name)
{
	return em_kv_list_get(&req->cookies, name);
}

void *em_request_alloc(struct em_request *req, size_t size)
{
	return em_arena_alloc(req->arena, size);
}

char *em_request_strdup(struct em_request *req, const char *s)
{
	size_t len = strlen(s);
	char *p = em_request_alloc(req, len + 1);

	memcpy(p, s, len);
	return p;
}

/* Keeps the request id only when it is the safe token nginx generates. */
static void request_id_set(struct em_request *req, const char *rid)
{
	size_t len = rid ? strlen(rid) : 0;

	req->request_id[0] = '\0';
	if (len == 0 || len >= sizeof(req->request_id))
		return;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)rid[i]) && rid[i] != '-')
			return;
	memcpy(req->request_id, rid, len + 1);
}

void em_request_init(struct em_request *req, char **envp, struct em_app *app)
{
	em_request_init_arena(req, envp, app, NULL);
}

void em_request_init_arena(struct em_request *req, char **envp, struct em_app *app,
			   struct em_arena *arena)
{
	const char *uri, *qmark, *qs;

	memset(req, 0, sizeof(*req));
	req->arena = arena ? arena : &req->own_arena;
	req->envp = envp;
	req->app = app;
	req->resp.status = 200;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	em_error_clear(&req->parse_error);

	req->method = em_request_param(req, "REQUEST_METHOD");
	if (!req->method)
		req->method = "GET";
	req->remote_addr = em_request_param(req, "REMOTE_ADDR");
	request_id_set(req, em_request_param(req, "REQUEST_ID"));

	uri = em_request_param(req, "REQUEST_URI");
	if (!uri || !*uri)
		uri = "/";
	qmark = strchr(uri, '?');
	req->uri_path = uri;
	req->uri_path_len = qmark ? (size_t)(qmark - uri) : strlen(uri);
	if (!em_path_split(uri, req->uri_path_len, req->arena, &req->segments, &req->nsegments,
			   &req->parse_error))
		return;
	qs = em_request_param(req, "QUERY_STRING");
	if (!qs)
		qs = qmark ? qmark + 1 : "";
	if (!em_query_parse(qs, &req->query, req->arena, &req->parse_error))
		return;
	em_cookie_parse(em_request_header(req, "Cookie"), &req->cookies, req->arena);
}

void em_request_release(struct em_request *req)
{
	/* segments, query and cookies live in the arena */
	free(req->body);
	json_object_put(req->json);
	if (req->arena == &req->own_arena)
		em_arena_release(req->arena);
	else if (req->arena)
		em_arena_reset(req->arena);
	free(req->resp.headers);
	free(req->resp.body);
	memset(req, 0, sizeof(*req));
}

void em_request_set_body(struct em_request *req, char *body, size_t len)
{
	free(req->body);
	req->body = body;
	req->body_len = len;
}

/* Compares a Content-Type's media type (before any ';') with want. */
static bool media_type_is(const char *ct, const char *want)
{
	size_t wl = strlen(want);

	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, want, wl) != 0)
		return false;
	ct += wl;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

bool em_request_parse_json(struct em_request *req, const char *const *extra_types,
			   size_t max_len, struct em_error *err)
{
	const char *ct = em_request_header(req, "Content-Type");
	bool ok = ct && media_type_is(ct, "application/json");

	for (size_t i = 0; !ok && ct && extra_types && extra_types[i]; i++)
		ok = media_type_is(ct, extra_types[i]);
	if (!ok) {
		em_error_set(err, EM_ERR_MEDIA_TYPE, NULL,
			     "the body must be sent as Content-Type: application/json");
		return false;
	}
	json_object_put(req->json);
	req->json = em_json_parse(req->body ? req->body : "", req->body_len,
				  max_len, EM_JSON_MAX_DEPTH, err);
	if (!req->json)
		return false;
	return em_json_check_keys(req->json, err);
}
