#include "http/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/jsonbuf.h"
#include "core/log.h"

const char *em_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

int em_error_status(enum em_error_kind kind)
{
	switch (kind) {
	case EM_ERR_INVALID: return 400;
	case EM_ERR_UNAUTHENTICATED: return 401;
	case EM_ERR_FORBIDDEN: return 403;
	case EM_ERR_NOT_FOUND: return 404;
	case EM_ERR_METHOD: return 405;
	case EM_ERR_CONFLICT: return 409;
	case EM_ERR_UNPROCESSABLE: return 422;
	case EM_ERR_PRECONDITION: return 412;
	case EM_ERR_PRECONDITION_REQUIRED: return 428;
	case EM_ERR_TOO_LARGE: return 413;
	case EM_ERR_URI_TOO_LONG: return 414;
	case EM_ERR_MEDIA_TYPE: return 415;
	case EM_ERR_RATE_LIMITED: return 429;
	case EM_ERR_UNAVAILABLE: return 503;
	case EM_ERR_BAD_GATEWAY: return 502;
	case EM_ERR_NONE:
	case EM_ERR_INTERNAL:
	default: return 500;
	}
}

static bool header_text_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

/* n bytes of s at out + o; the new offset */
static size_t response_put(char *out, size_t o, const char *s, size_t n)
{
	memcpy(out + o, s, n);
	return o + n;
}

bool em_response_header(struct em_request *req, const char *name, const char *value)
{
	struct em_response *r = &req->resp;
	size_t need, nlen, vlen;

	if (!header_text_ok(name) || !header_text_ok(value) || !*name) {
		em_err("refused a response header with CR/LF in it (%s)", name);
		return false;
	}
	if (strcasecmp(name, "Cache-Control") == 0)
		r->has_cache_control = true;
	nlen = strlen(name);
	vlen = strlen(value);
	need = nlen + vlen + 4;
	if (r->headers_len + need + 1 > r->headers_cap) {
		r->headers_cap = (r->headers_len + need + 1) * 2;
		r->headers = xrealloc(r->headers, r->headers_cap);
	}
	/* "name: value\r\n", kept NUL-terminated */
	r->headers_len = response_put(r->headers, r->headers_len, name, nlen);
	r->headers_len = response_put(r->headers, r->headers_len, ": ", 2);
	r->headers_len = response_put(r->headers, r->headers_len, value, vlen);
	r->headers_len = response_put(r->headers, r->headers_len, "\r\n", 2);
	r->headers[r->headers_len] = '\0';
	return true;
}

static void response_body_set(struct em_request *req, const char *ctype,
			      const char *body, size_t len)
{
	struct em_response *r = &req->resp;

	free(r->body);
	r->body = len ? xmemdup0(body, len) : NULL;
	r->body_len = len;
	snprintf(r->content_type, sizeof(r->content_type), "%s", ctype ? ctype : "");
}

void em_response_text(struct em_request *req, int status, const char *content_type,
		      const char *body, size_t len)
{
	req->resp.status = status;
	response_body_set(req, content_type, body, len);
}

void em_response_json(struct em_request *req, int status, json_object *o)
{
	size_t len = 0;
	const char *text;

	req->resp.status = status;
	if (!o) {
		response_body_set(req, NULL, NULL, 0);
		return;
	}
	text = em_json_text(o, &len);
	response_body_set(req, "application/json", text, len);
	json_object_put(o);
}

void em_response_json_bytes(struct em_request *req, int status, char *body, size_t len)
{
	struct em_response *r = &req->resp;

	req->resp.status = status;
	free(r->body);
	r->body = body; /* taken as it is: no copy */
	r->body_len = len;
	memcpy(r->content_type, "application/json", sizeof("application/json"));
}

void em_response_empty(struct em_request *req, int status)
{
	req->resp.status = status;
	response_body_set(req, NULL, NULL, 0);
}

/* The last part of a problem type URI: one per status, so one per error
 * kind (em_error_status is one to one). nginx's own error pages use the
 * same names (nginx/snippets/problem_pages.conf) and docs/problems/ has a
 * page for each, served at /problems/. */
const char *em_problem_slug(int status)
{
	switch (status) {
	case 400: return "validation";
	case 401: return "unauthenticated";
	case 403: return "forbidden";
	case 404: return "not-found";
	case 405: return "method-not-allowed";
	case 409: return "conflict";
	case 412: return "precondition-failed";
	case 413: return "too-large";
	case 414: return "uri-too-long";
	case 415: return "unsupported-media-type";
	case 422: return "unprocessable";
	case 428: return "precondition-required";
	case 429: return "rate-limited";
	case 502: return "bad-gateway";
	case 503: return "unavailable";
	case 504: return "gateway-timeout";
	default: return "internal";
	}
}

/* type: a URI reference relative to the shop's own origin (RFC 9457
 * §3.1.1 allows it): the same string from every host behind a load
 * balancer and from nginx's own error pages, and it resolves to the
 * page that documents the kind wherever the API is served. */
static json_object *problem_type(int status)
{
	char uri[64];

	snprintf(uri, sizeof(uri), "/problems/%s", em_problem_slug(status));
	return json_object_new_string(uri);
}

static void problem_field_add(json_object *errors, const char *field, const char *code,
			      const char *message)
{
	json_object *e = json_object_new_object();

	if (!e)
		return;
	json_object_object_add(e, "field", json_object_new_string(field));
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message ? message : ""));
	json_object_array_add(errors, e);
}

/* The problem document; err (may be NULL) adds every field error it
 * collected, each with its code. */
static void problem_respond(struct em_request *req, int status, const char *detail,
			    const char *field, const struct em_error *err, json_object *extra)
{
	json_object *o = json_object_new_object();
	size_t len = 0;
	const char *text;
	unsigned i;

	if (!o) {
		json_object_put(extra);
		em_err("cannot allocate a problem document");
		req->resp.status = 500;
		response_body_set(req, NULL, NULL, 0);
		return;
	}
	json_object_object_add(o, "type", problem_type(status));
	json_object_object_add(o, "title", json_object_new_string(em_status_text(status)));
	json_object_object_add(o, "status", json_object_new_int(status));
	if (detail && *detail)
		json_object_object_add(o, "detail", json_object_new_string(detail));
	if ((field && *field) || (err && err->n_more > 0)) {
		json_object *errors = json_object_new_array();

		if (field && *field)
			problem_field_add(errors, field,
					  err ? em_error_code(err) : EM_CODE_INVALID, detail);
		for (i = 0; err && i < err->n_more; i++)
			problem_field_add(errors, err->more[i].field, err->more[i].code,
					  err->more[i].message);
		json_object_object_add(o, "errors", errors);
		if (err && err->n_dropped > 0)
			json_object_object_add(o, "errors_omitted",
					       json_object_new_int((int)err->n_dropped));
	}
	/* extension members (RFC 9457 §3.2) never replace the standard ones */
	if (extra) {
		json_object_object_foreach(extra, k, v)
			if (!json_object_object_get_ex(o, k, NULL))
				json_object_object_add(o, k, json_object_get(v));
		json_object_put(extra);
	}
	if (req->request_id[0])
		json_object_object_add(o, "request_id",
				       json_object_new_string(req->request_id));
	req->resp.status = status;
	text = em_json_text(o, &len);
	response_body_set(req, "application/problem+json", text, len);
	json_object_put(o);
}

void em_response_problem(struct em_request *req, int status, const char *detail,
			 const char *field)
{
	problem_respond(req, status, detail, field, NULL, NULL);
}

void em_response_problem_ext(struct em_request *req, const struct em_error *err,
			     json_object *extra)
{
	int status = em_error_status(err->kind);

	/* A dependency that is down or failed is the client's business (retry
	 * later); anything else is ours, and its details stay in the log. */
	if (status >= 500 && err->kind != EM_ERR_UNAVAILABLE && err->kind != EM_ERR_BAD_GATEWAY) {
		/* The details of an internal failure go to the log, not out. */
		em_err("internal error: %s", err->message);
		json_object_put(extra);
		em_response_problem(req, status, "an internal error occurred; it has been logged",
				    NULL);
		return;
	}
	problem_respond(req, status, err->message, err->field, err, extra);
	/* The authenticator may have said more (error="invalid_token"). */
	if (status == 401 && !(req->resp.headers && strcasestr(req->resp.headers, "WWW-Authenticate:")))
		em_response_header(req, "WWW-Authenticate", "Bearer");
	if (status == 503 || status == 429) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%d", err->retry_after_s > 0 ? err->retry_after_s : 1);
		em_response_header(req, "Retry-After", secs);
	}
}

void em_response_error(struct em_request *req, const struct em_error *err)
{
	em_response_problem_ext(req, err, NULL);
}

/* Written with memcpy and em_fmt_int64, not snprintf: three formatted
 * lines a request were most of the printf family left on the read path. */
char *em_response_serialize(const struct em_request *req, size_t *len)
{
	const struct em_response *r = &req->resp;
	const char *text = em_status_text(r->status), *method = em_request_param(req, "REQUEST_METHOD");
	size_t text_len = strlen(text), ct_len = strnlen(r->content_type, sizeof(r->content_type));
	/* "Status: " 8 + int 20 + ' ' + text + CRLF, "Content-Type: " 14 + type + CRLF,
	 * "Content-Length: " 16 + 20 + CRLF, the headers, CRLF, the body */
	size_t cap = 8 + 20 + 1 + text_len + 2 + 14 + ct_len + 2 + 16 + 20 + 2 + r->headers_len + 2 +
		     r->body_len;
	char *out = xmalloc(cap);
	size_t o = 0;

	o = response_put(out, o, "Status: ", 8);
	o += em_fmt_int64(out + o, r->status);
	out[o++] = ' ';
	o = response_put(out, o, text, text_len);
	o = response_put(out, o, "\r\n", 2);
	if (ct_len) {
		o = response_put(out, o, "Content-Type: ", 14);
		o = response_put(out, o, r->content_type, ct_len);
		o = response_put(out, o, "\r\n", 2);
	}
	if (r->status != 204 && r->status != 304) {
		o = response_put(out, o, "Content-Length: ", 16);
		o += em_fmt_int64(out + o, (int64_t)r->body_len);
		o = response_put(out, o, "\r\n", 2);
	}
	if (r->headers_len)
		o = response_put(out, o, r->headers, r->headers_len);
	o = response_put(out, o, "\r\n", 2);
	if (r->body_len && strcmp(method ? method : "", "HEAD") != 0)
		o = response_put(out, o, r->body, r->body_len);
	*len = o;
	return out;
}
