/*
 * fuzz_request - one whole request through the code emporium-fcgi runs
 * for it: em_request_init() on a FastCGI environment, the body read as
 * src/http/worker.c reads it, em_router_dispatch() over every module's
 * routes (authentication, role checks, JSON bodies, the handlers), and
 * em_response_serialize(). No socket and no FastCGI: the environment is
 * built here. The database is a MongoDB client for a Unix socket nobody
 * listens on, so handlers that reach it answer 503 (the driver's own
 * error path, as when the replica set is down).
 *
 * Input: an HTTP/1.1-like request, LF (or CRLF) line ends:
 *   METHOD SP REQUEST-URI LF
 *   Name: value LF          (up to 48 headers; names of [A-Za-z0-9-])
 *   LF
 *   body
 * Headers become HTTP_* parameters as nginx passes them (Content-Type and
 * Content-Length become CONTENT_TYPE / CONTENT_LENGTH); without a
 * Content-Length the body's size is sent. "Authorization: Fuzz <role>"
 * signs in as a fixed user with that role, so the fuzzer gets past the
 * role checks to the handlers; any other Authorization goes to the real
 * authenticator.
 *
 * Checked: the response is complete and well-formed (a known status, no
 * CR/LF inside a header, Content-Length equal to the body, a JSON body
 * that parses, a problem+json body whose status matches, Cache-Control
 * and the request's X-Request-Id), holds no secret, and is never a 500:
 * with the database down, every failure is a 4xx or a 503 (set
 * FUZZ_ALLOW_500=1 to look past that). FUZZ_VERBOSE=1 prints every
 * response (with EMPORIUM_LOG_LEVEL=debug, the logs too).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <strings.h>
#include <unistd.h>

#include "app/app.h"
#include "app/modules.h"
#include "auth/auth.h"
#include "core/log.h"
#include "fuzz.h"
#include "http/router.h"
#include "store/store.h"

#define FUZZ_MAX_HEADERS 48
#define FUZZ_USER_ID "5f00000000000000000000a1"
#define FUZZ_SECRET "fuzz-secret-0123456789abcdef0123456789abcdef"
#define FUZZ_REQUEST_ID "0123456789abcdef0123456789abcdef"

static struct em_app app;
static em_authenticate_fn real_authenticate;
static char media_dir[] = "/tmp/emporium-fuzz-media-XXXXXX";
static bool allow_500, verbose;

/* "Authorization: Fuzz staff" signs in as FUZZ_USER_ID, role staff. */
static bool fuzz_authenticate(struct em_request *req, enum em_role *role, struct em_error *err)
{
	const char *h = em_request_header(req, "Authorization");

	if (h && strncmp(h, "Fuzz ", 5) == 0) {
		if (!auth_role_parse(h + 5, role)) {
			em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "fuzz: no such role");
			return false;
		}
		memcpy(req->user_id, FUZZ_USER_ID, sizeof(FUZZ_USER_ID));
		return true;
	}
	if (!real_authenticate) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "no authenticator");
		return false;
	}
	return real_authenticate(req, role, err);
}

/* The media directory stays empty (every upload stops at the database):
 * it goes when the process does. */
static void media_dir_remove(void)
{
	rmdir(media_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct em_error err = EM_ERROR_INIT;
	char uri[128];

	(void)argc;
	(void)argv;
	if (!mkdtemp(media_dir)) {
		perror("fuzz_request: mkdtemp");
		abort();
	}
	atexit(media_dir_remove);
	snprintf(uri, sizeof(uri),
		 "mongodb://%%2Ftmp%%2Femporium-fuzz-nodb-%ld.sock/?serverSelectionTryOnce=false&serverSelectionTimeoutMS=1",
		 (long)getpid());
	setenv("EMPORIUM_ENV_FILE", "/dev/null", 1);
	setenv("EMPORIUM_JWT_SECRET", FUZZ_SECRET, 1);
	setenv("EMPORIUM_MONGODB_URI", uri, 1);
	setenv("EMPORIUM_DB_TIMEOUT_MS", "100", 1);
	setenv("EMPORIUM_ARGON2_MEMORY_KIB", "8192", 1);
	setenv("EMPORIUM_ARGON2_ITERATIONS", "1", 1);
	setenv("EMPORIUM_MEDIA_DIR", media_dir, 1);
	if (!getenv("EMPORIUM_LOG_LEVEL"))
		setenv("EMPORIUM_LOG_LEVEL", "error", 1);
	allow_500 = getenv("FUZZ_ALLOW_500") && strcmp(getenv("FUZZ_ALLOW_500"), "1") == 0;
	verbose = getenv("FUZZ_VERBOSE") && strcmp(getenv("FUZZ_VERBOSE"), "1") == 0;

	store_global_init();
	if (!em_app_config_load(&app.cfg, &err)) {
		fprintf(stderr, "fuzz_request: configuration: %s\n", err.message);
		abort();
	}
	em_log_set_level(app.cfg.log_level);
	if (!em_modules_route_tables(app.routes, EM_APP_ROUTE_TABLES_MAX)) {
		fprintf(stderr, "fuzz_request: too many route tables\n");
		abort();
	}
	real_authenticate = em_modules_authenticator();
	app.authenticate = fuzz_authenticate;
	app.upload_max_body = em_modules_upload_max_body(&app.cfg);
	if (!em_modules_process_init(&app.cfg, &err) ||
	    !store_open(&app.store, &app.cfg, "fuzz_request", &err)) {
		fprintf(stderr, "fuzz_request: %s\n", err.message);
		abort();
	}
	return 0;
}

/* Appends "NAME=value" for a header as nginx's fastcgi_params pass it. */
static char *header_param(const char *name, size_t nlen, const char *value, size_t vlen)
{
	char *p = xmalloc(nlen + vlen + sizeof("HTTP_="));
	size_t o = 0;

	if (nlen == 12 && strncasecmp(name, "Content-Type", 12) == 0) {
		memcpy(p, "CONTENT_TYPE", 12);
		o = 12;
	} else if (nlen == 14 && strncasecmp(name, "Content-Length", 14) == 0) {
		memcpy(p, "CONTENT_LENGTH", 14);
		o = 14;
	} else {
		memcpy(p, "HTTP_", 5);
		o = 5;
		for (size_t i = 0; i < nlen; i++)
			p[o++] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	}
	p[o++] = '=';
	memcpy(p + o, value, vlen);
	p[o + vlen] = '\0';
	return p;
}

/* The next line of [*p, end) without its LF (and CR); NULL at the end. */
static const char *line_next(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *lf;

	if (s >= end)
		return NULL;
	lf = memchr(s, '\n', (size_t)(end - s));
	*len = (size_t)((lf ? lf : end) - s);
	*p = lf ? lf + 1 : end;
	if (*len && s[*len - 1] == '\r')
		(*len)--;
	return s;
}

/* The body as worker_body_read() takes it: CONTENT_LENGTH, bounded. */
static void body_read(struct em_request *req, const char *body, size_t avail, int64_t max_body)
{
	const char *cl = em_request_param(req, "CONTENT_LENGTH");
	char *end = NULL;
	long long len;
	size_t got;

	if (!cl || !*cl)
		return;
	errno = 0;
	len = strtoll(cl, &end, 10);
	if (errno || *end || len < 0) {
		em_error_set(&req->parse_error, EM_ERR_INVALID, NULL, "invalid Content-Length");
		return;
	}
	if (len == 0)
		return;
	if (len > max_body) {
		em_error_set(&req->parse_error, EM_ERR_TOO_LARGE, NULL, "the body is too large");
		return;
	}
	got = (size_t)len < avail ? (size_t)len : avail;
	em_request_set_body(req, xmemdup0(body, got), got);
	if (got != (size_t)len)
		em_error_set(&req->parse_error, EM_ERR_INVALID, NULL, "the body ended early");
}

/* The serialised response is what FastCGI and nginx expect. */
static void response_check(const struct em_request *req, const char *out, size_t len)
{
	const char *p = out, *end = out + len, *eol, *blank;
	bool has_len = false, has_cc = false;
	size_t clen = 0, body_len;
	int status = 0;

	/* the buffer has a length, not a NUL: read the status from a copy */
	{
		char head[32];

		FUZZ_CHECK(len > 12);
		memcpy(head, out, 12);
		head[12] = '\0';
		FUZZ_CHECK(sscanf(head, "Status: %3d", &status) == 1 && status == req->resp.status);
	}
	FUZZ_CHECK(status >= 200 && status <= 599);
	FUZZ_CHECK(strcmp(em_status_text(status), "Unknown") != 0);
	if (status == 500 && !allow_500) {
		fprintf(stderr, "fuzz: a 500 for %s %.*s: %.*s\n", req->method,
			(int)req->uri_path_len, req->uri_path, (int)req->resp.body_len,
			req->resp.body ? req->resp.body : "");
		FUZZ_CHECK(status != 500);
	}
	blank = memmem(out, len, "\r\n\r\n", 4);
	FUZZ_CHECK(blank != NULL);
	for (; p < blank + 2; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		FUZZ_CHECK(eol && eol <= blank + 2);
		FUZZ_CHECK(!memchr(p, '\n', (size_t)(eol - p)) && !memchr(p, '\r', (size_t)(eol - p)));
		FUZZ_CHECK(memchr(p, ':', (size_t)(eol - p)) != NULL);
		if (strncmp(p, "Content-Length: ", 16) == 0) {
			has_len = true;
			clen = strtoul(p + 16, NULL, 10);
		}
		if (strncasecmp(p, "Cache-Control: ", 15) == 0)
			has_cc = true;
	}
	FUZZ_CHECK(has_cc);
	/* the request id nginx gave comes back */
	FUZZ_CHECK(memmem(out, (size_t)(blank + 2 - out), "\r\nX-Request-Id: " FUZZ_REQUEST_ID "\r\n",
			  sizeof("\r\nX-Request-Id: " FUZZ_REQUEST_ID "\r\n") - 1));
	body_len = (size_t)(end - (blank + 4));
	if (status != 204 && status != 304)
		FUZZ_CHECK(has_len && clen == req->resp.body_len);
	FUZZ_CHECK(body_len == req->resp.body_len || (strcmp(req->method, "HEAD") == 0 && !body_len));
	if (req->resp.body_len && strstr(req->resp.content_type, "json")) {
		json_object *o = json_tokener_parse(req->resp.body), *st = NULL;

		FUZZ_CHECK(o != NULL);
		if (strstr(req->resp.content_type, "problem+json")) {
			FUZZ_CHECK(json_object_object_get_ex(o, "status", &st));
			FUZZ_CHECK(json_object_get_int(st) == status);
		}
		json_object_put(o);
	}
}

static struct em_arena arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *line, *sp;
	char *envp[FUZZ_MAX_HEADERS + 12];
	size_t n = 0, len = 0;
	bool has_cl = false;
	struct em_request req;
	char *out;
	size_t out_len;

	line = line_next(&p, end, &len);
	if (!line || !(sp = memchr(line, ' ', len)) || sp == line || memchr(line, '\0', len))
		return 0;
	{
		char *m = xmalloc((size_t)(sp - line) + sizeof("REQUEST_METHOD="));
		const char *uri = sp + 1, *q;
		size_t ulen = len - (size_t)(uri - line);
		char *u = xmalloc(ulen + sizeof("REQUEST_URI="));

		snprintf(m, (size_t)(sp - line) + sizeof("REQUEST_METHOD="), "REQUEST_METHOD=%.*s",
			 (int)(sp - line), line);
		envp[n++] = m;
		snprintf(u, ulen + sizeof("REQUEST_URI="), "REQUEST_URI=%.*s", (int)ulen, uri);
		envp[n++] = u;
		q = memchr(uri, '?', ulen);
		if (q) {
			size_t qlen = ulen - (size_t)(q + 1 - uri);
			char *qs = xmalloc(qlen + sizeof("QUERY_STRING="));

			snprintf(qs, qlen + sizeof("QUERY_STRING="), "QUERY_STRING=%.*s", (int)qlen,
				 q + 1);
			envp[n++] = qs;
		}
	}
	envp[n++] = xstrdup("REMOTE_ADDR=127.0.0.1");
	envp[n++] = xstrdup("REQUEST_ID=" FUZZ_REQUEST_ID);
	envp[n++] = xstrdup("SERVER_PROTOCOL=HTTP/1.1");
	envp[n++] = xstrdup("HTTPS=on");
	while ((line = line_next(&p, end, &len)) != NULL && len > 0) {
		const char *colon = memchr(line, ':', len), *v;
		size_t nlen, vlen;

		if (n >= FUZZ_MAX_HEADERS + 8 || !colon || colon == line ||
		    memchr(line, '\0', len))
			continue;
		nlen = (size_t)(colon - line);
		if (strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") <
		    nlen)
			continue;
		v = colon + 1;
		while (v < line + len && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(line + len - v);
		envp[n] = header_param(line, nlen, v, vlen);
		if (strncmp(envp[n], "CONTENT_LENGTH=", 15) == 0)
			has_cl = true;
		n++;
	}
	if (!has_cl && p < end) {
		char cl[40];

		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", (size_t)(end - p));
		envp[n++] = xstrdup(cl);
	}
	envp[n] = NULL;

	/* one arena across inputs, reset by each release, as a worker keeps one */
	em_request_init_arena(&req, envp, &app, &arena);
	em_log_set_request(req.request_id, NULL);
	if (req.parse_error.kind == EM_ERR_NONE)
		body_read(&req, p, (size_t)(end - p), app.cfg.max_body);
	em_router_dispatch(app.routes, app.authenticate, (size_t)app.cfg.max_body, &req);
	out = em_response_serialize(&req, &out_len);
	if (verbose)
		fprintf(stderr, "fuzz: %s %.*s ->\n%.*s\n", req.method, (int)req.uri_path_len,
			req.uri_path, (int)(out_len > 2000 ? 2000 : out_len), out);
	response_check(&req, out, out_len);
	/* no secret ever leaves (unless the request itself held it: refusals
	 * may quote what they refuse) */
	if (!memmem(data, size, FUZZ_SECRET, sizeof(FUZZ_SECRET) - 1))
		FUZZ_CHECK(!memmem(out, out_len, FUZZ_SECRET, sizeof(FUZZ_SECRET) - 1));
	free(out);
	em_request_release(&req);
	em_log_set_request(NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(envp[i]);
	return 0;
}
