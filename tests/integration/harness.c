#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <jwt.h>
#include <sodium.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *h_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		fprintf(stderr, "integration tests need %s (run them with ./scripts/test)\n", name);
		exit(2);
	}
	return v;
}

void h_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mongoc_init();
	(void)h_env("STACK_BASE");
	(void)h_env("STACK_DIR");
}

void h_cleanup(void)
{
	mongoc_cleanup();
	curl_global_cleanup();
}

void h_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

struct h_buf {
	char *p;
	size_t n;
};

static size_t h_collect(char *data, size_t size, size_t nmemb, void *ud)
{
	struct h_buf *b = ud;
	size_t len = size * nmemb;
	char *np = realloc(b->p, b->n + len + 1);

	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

/*
 * The contract log: every response h_request() gets is appended to the
 * file EM_CONTRACT_LOG names (default: $STACK_DIR/contract.jsonl; "off":
 * none) as one JSON line {suite, method, url,
 * on_stack, path, status, content_type, headers, body, request_content_type,
 * request_body (JSON requests)}, for tests/contract to
 * validate against docs/openapi.yaml after the suites. One write() per
 * line with O_APPEND, so parallel requests do not interleave. A failed
 * transfer (no response) is not recorded. Failing to record stops the
 * run: a contract run with holes in its log would pass what it never saw.
 */
static void h_contract_record(const char *method, const char *url, const char *body,
			      size_t body_len, const char *const *headers, CURL *c,
			      const struct h_resp *r)
{
	const char *req_ct = NULL;
	const char *log = getenv("EM_CONTRACT_LOG"), *base = getenv("STACK_BASE");
	const char *dir = getenv("STACK_DIR"), *ct = NULL, *text;
	size_t blen = base ? strlen(base) : 0, len;
	bool on_stack = blen && strncmp(url, base, blen) == 0;
	char deflog[4096];
	json_object *o;
	ssize_t n;
	int fd;

	if (!r->ok || (log && strcmp(log, "off") == 0))
		return;
	if (!log || !*log) {
		/* the stack suites (tests/contract/run.sh) read it from there */
		if (!dir || !*dir ||
		    snprintf(deflog, sizeof(deflog), "%s/contract.jsonl", dir) >= (int)sizeof(deflog))
			return;
		log = deflog;
	}
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
		ct = NULL;
	o = json_object_new_object();
	if (!o) {
		fprintf(stderr, "contract log: out of memory\n");
		exit(2);
	}
	json_object_object_add(o, "suite", json_object_new_string(program_invocation_short_name));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "on_stack", json_object_new_boolean(on_stack));
	json_object_object_add(o, "path", json_object_new_string(on_stack ? url + blen : url));
	json_object_object_add(o, "status", json_object_new_int64(r->status));
	json_object_object_add(o, "content_type", ct ? json_object_new_string(ct) : NULL);
	json_object_object_add(o, "headers", json_object_new_string(r->headers ? r->headers : ""));
	/* the request's JSON body, so what the server accepted can be checked
	 * against the request schema (uploads and other bodies are left out) */
	for (size_t i = 0; headers && headers[i]; i++)
		if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
			req_ct = headers[i] + 13 + strspn(headers[i] + 13, " ");
	if (req_ct)
		json_object_object_add(o, "request_content_type", json_object_new_string(req_ct));
	if (body && req_ct && strncasecmp(req_ct, "application/json", 16) == 0)
		json_object_object_add(o, "request_body", json_object_new_string_len(body, (int)body_len));
	json_object_object_add(o, "body", json_object_new_string_len(r->body, (int)r->body_len));
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (!text || fd < 0) {
		fprintf(stderr, "contract log %s: %s\n", log, strerror(errno));
		exit(2);
	}
	{
		char *line = malloc(len + 1);

		if (!line) {
			fprintf(stderr, "contract log: out of memory\n");
			exit(2);
		}
		memcpy(line, text, len);
		line[len] = '\n';
		n = write(fd, line, len + 1);
		free(line);
	}
	if (n != (ssize_t)(len + 1)) {
		fprintf(stderr, "contract log %s: short write\n", log);
		exit(2);
	}
	close(fd);
	json_object_put(o);
}

static bool h_http1;
static _Thread_local char h_src[48];

void h_http1_set(bool http1)
{
	h_http1 = http1;
}

void h_source_set(int n)
{
	if (n <= 0)
		h_src[0] = '\0';
	else
		snprintf(h_src, sizeof(h_src), "host!127.0.0.%d", n > 254 ? 254 : n);
}

struct h_par {
	pthread_barrier_t go;
	void (*fn)(int i, void *arg);
	void *arg;
};

struct h_par_thread {
	struct h_par *par;
	int i;
};

static void *h_par_run(void *p)
{
	struct h_par_thread *t = p;

	pthread_barrier_wait(&t->par->go);
	t->par->fn(t->i, t->par->arg);
	return NULL;
}

void h_parallel(int n, void (*fn)(int i, void *arg), void *arg)
{
	struct h_par par = { .fn = fn, .arg = arg };
	pthread_t *th = calloc((size_t)n, sizeof(*th));
	struct h_par_thread *ts = calloc((size_t)n, sizeof(*ts));

	assert_non_null(th);
	assert_non_null(ts);
	assert_int_equal(pthread_barrier_init(&par.go, NULL, (unsigned)n), 0);
	for (int i = 0; i < n; i++) {
		ts[i].par = &par;
		ts[i].i = i;
		assert_int_equal(pthread_create(&th[i], NULL, h_par_run, &ts[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&par.go);
	free(th);
	free(ts);
}

int h_race_workers(void)
{
	const char *v = getenv("STACK_RACE_WORKERS");
	int n = v && *v ? atoi(v) : 8;

	return n > 0 && n <= 64 ? n : 8;
}

bool h_stack_pool(int workers)
{
	char extra[64];

	if (workers <= 0)
		return h_stack_reconfigure(NULL);
	snprintf(extra, sizeof(extra), "EMPORIUM_WORKERS=%d", workers);
	if (!h_stack_reconfigure(extra))
		return false;
	/* every worker answers before the race starts */
	for (int i = 0; i < 100 && h_worker_pids((pid_t[64]){ 0 }, 64) < workers; i++)
		h_sleep_ms(100);
	return h_worker_pids((pid_t[64]){ 0 }, 64) >= workers;
}

struct h_resp h_request(const char *method, const char *path_or_url,
			const char *body, size_t body_len, const char *const *headers)
{
	struct h_resp r = { 0 };
	struct h_buf hb = { 0 }, bb = { 0 };
	struct curl_slist *hl = NULL;
	char url[8192];
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c)
		return r;
	if (strncmp(path_or_url, "http", 4) == 0)
		snprintf(url, sizeof(url), "%s", path_or_url);
	else
		snprintf(url, sizeof(url), "%s%s", h_env("STACK_BASE"), path_or_url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_CAINFO, h_env("STACK_CA"));
	/* the certificate is for localhost; we connect to 127.0.0.1 */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
			 h_http1 ? CURL_HTTP_VERSION_1_1 : CURL_HTTP_VERSION_2TLS);
	if (h_src[0])
		curl_easy_setopt(c, CURLOPT_INTERFACE, h_src);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, h_collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, h_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	hl = curl_slist_append(hl, "Expect:");
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c);
	r.ok = rc == CURLE_OK;
	if (!r.ok)
		fprintf(stderr, "  curl %s %s: %s\n", method, url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &r.http_version);
	r.body = bb.p ? bb.p : strdup("");
	r.body_len = bb.n;
	r.headers = hb.p ? hb.p : strdup("");
	h_contract_record(method, url, body, body_len, headers, c, &r);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return r;
}

struct h_resp h_get(const char *path)
{
	return h_request("GET", path, NULL, 0, NULL);
}

void h_resp_free(struct h_resp *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

bool h_header(const struct h_resp *r, const char *name, char *buf, size_t size)
{
	size_t nlen = strlen(name), len;
	const char *p = r->headers, *end;

	/* header names are case-insensitive (HTTP/2 sends them lower-case) */
	for (p = strchr(p, '\n'); p; p = strchr(p + 1, '\n'))
		if (strncasecmp(p + 1, name, nlen) == 0 && p[1 + nlen] == ':')
			break;
	if (!p)
		return false;
	p += 1 + nlen + 1;
	while (*p == ' ')
		p++;
	end = strpbrk(p, "\r\n");
	len = end ? (size_t)(end - p) : strlen(p);
	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return true;
}

void h_assert_problem(const struct h_resp *r, long status)
{
	char ct[128];
	json_object *o, *s;

	assert_int_equal(r->status, status);
	assert_true(h_header(r, "content-type", ct, sizeof(ct)));
	assert_non_null(strstr(ct, "application/problem+json"));
	o = json_tokener_parse(r->body);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "status", &s));
	assert_int_equal(json_object_get_int(s), status);
	assert_true(json_object_object_get_ex(o, "title", &s));
	assert_true(json_object_object_get_ex(o, "type", &s));
	json_object_put(o);
}

pid_t h_master_pid(void)
{
	char path[1024];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/run/fcgi.pid", h_env("STACK_DIR"));
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

int h_worker_pids(pid_t *pids, int max)
{
	char path[128], buf[4096];
	pid_t master = h_master_pid();
	FILE *f;
	int n = 0;
	char *tok, *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master, (int)master);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	for (tok = strtok_r(buf, " \n", &save); tok && n < max; tok = strtok_r(NULL, " \n", &save))
		pids[n++] = (pid_t)atoi(tok);
	return n;
}

bool h_stack_ctl(const char *subcommand)
{
	char script[1024];
	char *argv[5];
	pid_t pid;
	int status;

	snprintf(script, sizeof(script), "%s", h_env("STACK_CTL"));
	argv[0] = "bash";
	argv[1] = script;
	argv[2] = (char *)subcommand;
	argv[3] = (char *)h_env("STACK_DIR");
	argv[4] = NULL;
	if (posix_spawnp(&pid, "bash", NULL, NULL, argv, environ) != 0)
		return false;
	if (waitpid(pid, &status, 0) < 0)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

long h_db_count(const char *collection, const char *filter_json)
{
	bson_error_t err;
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_collection_t *coll;
	bson_t *filter;
	int64_t n;
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	assert_non_null(client);
	coll = mongoc_client_get_collection(client, db, collection);
	filter = bson_new_from_json((const uint8_t *)filter_json, -1, &err);
	assert_non_null(filter);
	n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &err);
	if (n < 0)
		fprintf(stderr, "  count %s: %s\n", collection, err.message);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	return (long)n;
}

void h_user_token(const char *role, char *token, size_t token_size, char *user_id,
		  size_t id_size)
{
	bson_error_t err;
	bson_oid_t oid;
	char email[96], oidhex[25], jti[33];
	unsigned char rnd[16];
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_collection_t *coll;
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";
	bson_t *doc;
	jwt_t *jwt = NULL;
	char *enc;
	time_t now = time(NULL);
	const char *secret = h_env("STACK_JWT_SECRET");

	assert_true(sodium_init() >= 0);
	assert_non_null(client);
	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, oidhex);
	snprintf(email, sizeof(email), "%s-%s@test.invalid", role, oidhex);
	doc = BCON_NEW("_id", BCON_OID(&oid), "email", BCON_UTF8(email),
		       "name", BCON_UTF8("Test User"), "role", BCON_UTF8(role),
		       "email_verified", BCON_BOOL(true), "disabled", BCON_BOOL(false),
		       "password_hash", BCON_NULL,
		       "created_at", BCON_DATE_TIME((int64_t)now * 1000),
		       "updated_at", BCON_DATE_TIME((int64_t)now * 1000));
	coll = mongoc_client_get_collection(client, db, "users");
	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
		fail_msg("insert user: %s", err.message);
	bson_destroy(doc);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(jti, sizeof(jti), rnd, sizeof(rnd));
	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret,
				     (int)strlen(secret)), 0);
	jwt_add_grant(jwt, "iss", getenv("STACK_JWT_ISSUER") ? getenv("STACK_JWT_ISSUER") : "emporium");
	jwt_add_grant(jwt, "aud", getenv("STACK_JWT_AUDIENCE") ? getenv("STACK_JWT_AUDIENCE")
							   : "emporium-api");
	jwt_add_grant(jwt, "sub", oidhex);
	jwt_add_grant(jwt, "role", role);
	jwt_add_grant(jwt, "jti", jti);
	jwt_add_grant_int(jwt, "iat", (long)now);
	jwt_add_grant_int(jwt, "exp", (long)now + 900);
	enc = jwt_encode_str(jwt);
	assert_non_null(enc);
	snprintf(token, token_size, "%s", enc);
	if (user_id)
		snprintf(user_id, id_size, "%s", oidhex);
	free(enc);
	jwt_free(jwt);
}

const char *h_bearer(const char *token, char *buf, size_t size)
{
	snprintf(buf, size, "Authorization: Bearer %s", token);
	return buf;
}

/* Names of mails already handed out, so each is returned once. */
static char **h_seen;
static size_t h_nseen;

static bool h_mail_seen(const char *name)
{
	for (size_t i = 0; i < h_nseen; i++)
		if (strcmp(h_seen[i], name) == 0)
			return true;
	return false;
}

char *h_file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
			if (len)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

char *h_mail_wait(const char *to, const char *needle, long timeout_ms)
{
	const char *dir = h_env("STACK_MAIL_DIR");
	char rcpt[512];

	snprintf(rcpt, sizeof(rcpt), "X-Envelope-To: %s\r\n", to);
	for (long waited = 0; waited <= timeout_ms; waited += 100) {
		DIR *d = opendir(dir);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char path[1024], *text;

			if (e->d_name[0] == '.' || h_mail_seen(e->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			text = h_file_read(path, NULL);
			if (text && strstr(text, rcpt) && (!needle || strstr(text, needle))) {
				h_seen = realloc(h_seen, (h_nseen + 1) * sizeof(*h_seen));
				assert_non_null(h_seen);
				h_seen[h_nseen++] = strdup(e->d_name);
				closedir(d);
				return text;
			}
			free(text);
		}
		if (d)
			closedir(d);
		h_sleep_ms(100);
	}
	return NULL;
}

struct json_object *h_json(const struct h_resp *r)
{
	json_object *o = json_tokener_parse(r->body);

	if (!o)
		fail_msg("not JSON (status %ld): %.300s", r->status, r->body);
	return o;
}

void h_db_insert_json(const char *collection, const char *json)
{
	bson_error_t err;
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_collection_t *coll;
	bson_t *doc;
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	assert_non_null(client);
	doc = bson_new_from_json((const uint8_t *)json, -1, &err);
	if (!doc)
		fail_msg("h_db_insert_json: bad JSON: %s", err.message);
	coll = mongoc_client_get_collection(client, db, collection);
	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
		fail_msg("insert into %s: %s", collection, err.message);
	bson_destroy(doc);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
}

char *h_db_find_json(const char *collection, const char *filter_json)
{
	bson_error_t err;
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t *filter;
	char *out = NULL, *json;
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	assert_non_null(client);
	filter = bson_new_from_json((const uint8_t *)filter_json, -1, &err);
	assert_non_null(filter);
	coll = mongoc_client_get_collection(client, db, collection);
	cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		json = bson_as_relaxed_extended_json(doc, NULL);
		out = json ? strdup(json) : NULL;
		bson_free(json);
	}
	if (mongoc_cursor_error(cur, &err))
		fprintf(stderr, "  find %s: %s\n", collection, err.message);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	return out;
}

/* The stack's env file as the stack wrote it, saved on first change. */
static char *h_env_original;
static size_t h_env_original_len;

bool h_env_file_write(const char *extra)
{
	const char *path = h_env("STACK_ENV_FILE");
	FILE *f;
	bool ok;

	if (!h_env_original) {
		h_env_original = h_file_read(path, &h_env_original_len);
		if (!h_env_original)
			return false;
	}
	f = fopen(path, "wb");
	if (!f)
		return false;
	ok = fwrite(h_env_original, 1, h_env_original_len, f) == h_env_original_len &&
	     (!extra || fprintf(f, "\n%s\n", extra) >= 0);
	return fclose(f) == 0 && ok;
}

bool h_stack_reconfigure(const char *extra)
{
	pid_t before[64], now[64];
	int nb, nn = 0;
	bool old_left = true;

	if (!h_env_file_write(extra))
		return false;
	nb = h_worker_pids(before, 64);
	if (kill(h_master_pid(), SIGHUP) != 0)
		return false;
	/* the master rolls the workers: wait until none of the old ones is
	 * left (bounded), then a little for the new ones to accept */
	for (int i = 0; i < 150 && old_left; i++) {
		h_sleep_ms(100);
		nn = h_worker_pids(now, 64);
		old_left = nn == 0;
		for (int k = 0; k < nb && !old_left; k++)
			for (int j = 0; j < nn; j++)
				if (now[j] == before[k])
					old_left = true;
	}
	h_sleep_ms(300);
	return !old_left;
}

/* ---- accounts (moved from test_accounts.c when it was split) ---- */

double h_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* nginx's auth zone: 5 r/s, burst 10. Keep our own estimate of its
 * bucket (starting half full: earlier suites may have used it). */
static double h_bucket = 5, h_bucket_t;

void h_auth_pace(void)
{
	double t = h_now_s();

	if (h_bucket_t > 0) {
		h_bucket -= (t - h_bucket_t) * 5.0;
		if (h_bucket < 0)
			h_bucket = 0;
	}
	if (h_bucket > 7) {
		h_sleep_ms((long)((h_bucket - 7) / 5.0 * 1000) + 10);
		h_bucket = 7;
		t = h_now_s();
	}
	h_bucket += 1;
	h_bucket_t = t;
}

struct h_resp h_req_json(const char *method, const char *path, const char *body,
			 const char *const *extra)
{
	const char *hdrs[8];
	size_t n = 0;

	if (strncmp(path, "/api/v1/auth/", 13) == 0)
		h_auth_pace();
	if (body)
		hdrs[n++] = "Content-Type: application/json";
	for (size_t i = 0; extra && extra[i] && n < 7; i++)
		hdrs[n++] = extra[i];
	hdrs[n] = NULL;
	return h_request(method, path, body, body ? strlen(body) : 0, hdrs);
}

struct h_resp h_post(const char *path, const char *body)
{
	return h_req_json("POST", path, body, NULL);
}

struct h_resp h_authed(const char *method, const char *path, const char *token,
		       const char *body)
{
	char auth[4096];
	const char *extra[] = { h_bearer(token, auth, sizeof(auth)), NULL };

	return h_req_json(method, path, body, extra);
}

const char *h_jstr(const struct h_resp *r, const char *key, char *buf, size_t size)
{
	json_object *o = h_json(r), *v;

	buf[0] = '\0';
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(buf, size, "%s", json_object_get_string(v));
	json_object_put(o);
	return buf;
}

void h_assert_problem_field(const struct h_resp *r, long status, const char *field)
{
	json_object *o, *errs, *e, *f;

	if (r->status != status)
		fprintf(stderr, "  unexpected %ld: %s\n", r->status, r->body);
	h_assert_problem(r, status);
	o = h_json(r);
	assert_true(json_object_object_get_ex(o, "errors", &errs));
	e = json_object_array_get_idx(errs, 0);
	assert_non_null(e);
	assert_true(json_object_object_get_ex(e, "field", &f));
	if (strcmp(json_object_get_string(f), field) != 0)
		fail_msg("field is %s, expected %s (%s)", json_object_get_string(f), field, r->body);
	json_object_put(o);
}

void h_assert_problem_errors(const struct h_resp *r, long status, const char *expected)
{
	json_object *o, *errs, *e, *f, *c, *t;
	char got[1024] = "";
	size_t n = 0;

	if (r->status != status)
		fprintf(stderr, "  unexpected %ld: %s\n", r->status, r->body);
	h_assert_problem(r, status);
	o = h_json(r);
	assert_true(json_object_object_get_ex(o, "type", &t));
	assert_true(strncmp(json_object_get_string(t), "/problems/", 10) == 0);
	if (json_object_object_get_ex(o, "errors", &errs))
		for (size_t i = 0; i < json_object_array_length(errs); i++) {
			e = json_object_array_get_idx(errs, i);
			assert_true(json_object_object_get_ex(e, "field", &f));
			assert_true(json_object_object_get_ex(e, "code", &c));
			n += (size_t)snprintf(got + n, n < sizeof got ? sizeof got - n : 0, "%s%s:%s",
					      i ? " " : "", json_object_get_string(f),
					      json_object_get_string(c));
		}
	if (strcmp(got, expected) != 0)
		fail_msg("errors are \"%s\", expected \"%s\" (%s)", got, expected, r->body);
	json_object_put(o);
}

void h_unique_email(const char *tag, char *buf, size_t size)
{
	unsigned char rnd[6];
	char hex[13];

	assert_true(sodium_init() >= 0);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(buf, size, "%s-%s@example.test", tag, hex);
}

void h_mail_code(const char *to, const char *needle, char code[7])
{
	char *mail = h_mail_wait(to, needle, 15000), *p;

	if (!mail)
		fail_msg("no mail to %s containing '%s' (is emporium-worker running?)", to, needle);
	p = strstr(mail, "code: ");
	assert_non_null(p);
	p += 6;
	assert_true(strspn(p, "0123456789") >= 6);
	memcpy(code, p, 6);
	code[6] = '\0';
	free(mail);
}

static mongoc_client_t *h_db_client(mongoc_collection_t **coll, const char *name)
{
	mongoc_client_t *c = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	assert_non_null(c);
	*coll = mongoc_client_get_collection(c, db, name);
	return c;
}

void h_db_update(const char *collection, const char *filter_json, const char *update_json)
{
	mongoc_collection_t *coll;
	mongoc_client_t *c = h_db_client(&coll, collection);
	bson_error_t err;
	bson_t *f = bson_new_from_json((const uint8_t *)filter_json, -1, &err);
	bson_t *u = bson_new_from_json((const uint8_t *)update_json, -1, &err);

	assert_non_null(f);
	assert_non_null(u);
	if (!mongoc_collection_update_many(coll, f, u, NULL, NULL, &err))
		fail_msg("update %s: %s", collection, err.message);
	bson_destroy(f);
	bson_destroy(u);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(c);
}

void h_db_delete(const char *collection, const char *filter_json)
{
	mongoc_collection_t *coll;
	mongoc_client_t *c = h_db_client(&coll, collection);
	bson_error_t err;
	bson_t *f = bson_new_from_json((const uint8_t *)filter_json, -1, &err);

	assert_non_null(f);
	if (!mongoc_collection_delete_many(coll, f, NULL, NULL, &err))
		fail_msg("delete %s: %s", collection, err.message);
	bson_destroy(f);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(c);
}

void h_account_new(const char *tag, char *email, size_t esize)
{
	static unsigned n;
	char body[512], code[7];
	struct h_resp r;

	/*
	 * The application allows a client address a few mails per 10 min
	 * (AUTH_IP_MAIL_MAX), and a whole run signs up far more test users
	 * than that from 127.0.0.1: each sign-up comes from a loopback
	 * address of its own (127.0.0.2-199, spread over processes), so the
	 * fixture never meets the throttle the throttle tests test. 200 and
	 * up belong to those tests (test_account_security uses up the code
	 * checks of 127.0.0.240 for two minutes): a sign-up landing there
	 * failed whichever suite came next.
	 */
	h_source_set(2 + (int)(((unsigned)getpid() * 31u + n++) % 198u));
	h_unique_email(tag, email, esize);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"T %s\"}",
		 email, H_PW, tag);
	r = h_post("/api/v1/auth/register", body);
	if (r.status != 202) {
		h_source_set(0);
		fail_msg("register %s: %ld %s", email, r.status, r.body);
	}
	h_resp_free(&r);
	h_mail_code(email, "verification code", code);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
	r = h_post("/api/v1/auth/verify-email", body);
	h_source_set(0);
	if (r.status != 200)
		fail_msg("verify: %ld %s", r.status, r.body);
	h_resp_free(&r);
}

long h_login(const char *email, const char *password, char *access, size_t asize,
	     char *refresh, size_t rsize)
{
	char body[512];
	struct h_resp r;
	long status;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
	r = h_post("/api/v1/auth/login", body);
	status = r.status;
	if (status == 200) {
		if (access)
			h_jstr(&r, "access_token", access, asize);
		if (refresh)
			h_jstr(&r, "refresh_token", refresh, rsize);
	}
	h_resp_free(&r);
	return status;
}

struct h_resp h_refresh_body(const char *token)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", token);
	return h_post("/api/v1/auth/refresh", body);
}

void h_expect_invalid_token(const char *token)
{
	struct h_resp r = h_authed("GET", "/api/v1/me", token, NULL);
	char v[256];

	h_assert_problem(&r, 401);
	assert_true(h_header(&r, "www-authenticate", v, sizeof(v)));
	if (!strstr(r.headers, "error=\"invalid_token\""))
		fail_msg("no invalid_token challenge: %s", r.headers);
	h_resp_free(&r);
}

/* The admin h_user_register() grants roles with, made once per process. */
static char h_admin_token[2048];

/* Runs the build's emporium-admin create-admin with password on stdin. */
static int h_create_admin(const char *email, const char *password)
{
	char exe[1024], cmd[2048];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *p;
	char *slash;

	assert_true(n > 0);
	exe[n] = '\0';
	/* <build>/tests/integration/test_x -> <build>/emporium-admin */
	for (int i = 0; i < 3; i++) {
		slash = strrchr(exe, '/');
		assert_non_null(slash);
		*slash = '\0';
	}
	snprintf(cmd, sizeof(cmd), "EMPORIUM_ENV_FILE='%s' '%s/emporium-admin' create-admin --email '%s' "
		 ">/dev/null 2>&1", h_env("STACK_ENV_FILE"), exe, email);
	p = popen(cmd, "w");
	assert_non_null(p);
	fprintf(p, "%s\n", password);
	return pclose(p);
}

void h_user_register(const char *role, char *token, size_t token_size, char *user_id,
		     size_t id_size)
{
	char email[128], id[64], path[128], body[64];
	struct h_resp r;

	h_account_new(role, email, sizeof(email));
	if (h_login(email, H_PW, token, token_size, NULL, 0) != 200)
		fail_msg("login of the new %s %s failed", role, email);
	r = h_authed("GET", "/api/v1/me", token, NULL);
	assert_int_equal(r.status, 200);
	h_jstr(&r, "id", id, sizeof(id));
	h_resp_free(&r);
	assert_int_equal(strlen(id), 24);
	if (user_id)
		snprintf(user_id, id_size, "%s", id);
	if (strcmp(role, "customer") == 0)
		return;
	if (!h_admin_token[0]) {
		char admin[128];

		h_unique_email("admin", admin, sizeof(admin));
		assert_int_equal(h_create_admin(admin, H_PW), 0);
		if (h_login(admin, H_PW, h_admin_token, sizeof(h_admin_token), NULL, 0) != 200)
			fail_msg("login of the admin made by create-admin failed");
	}
	if (strcmp(role, "admin") != 0 && strcmp(role, "staff") != 0)
		fail_msg("h_user_register: unknown role %s", role);
	snprintf(path, sizeof(path), "/api/v1/admin/users/%s", id);
	snprintf(body, sizeof(body), "{\"role\":\"%s\"}", role);
	r = h_authed("PATCH", path, h_admin_token, body);
	if (r.status != 200)
		fail_msg("granting %s: %ld %s", role, r.status, r.body);
	h_resp_free(&r);
	/* the role change revoked the customer token: sign in again */
	if (h_login(email, H_PW, token, token_size, NULL, 0) != 200)
		fail_msg("login of the new %s %s failed", role, email);
}

long h_db_dump_count(const char *needle, int *collections)
{
	const char *dbname = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";
	mongoc_client_t *client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	mongoc_database_t *db;
	bson_error_t err;
	char **names;
	long hits = 0;
	int n = 0;

	assert_non_null(client);
	db = mongoc_client_get_database(client, dbname);
	names = mongoc_database_get_collection_names_with_opts(db, NULL, &err);
	if (!names)
		fail_msg("list collections: %s", err.message);
	for (char **name = names; *name; name++) {
		mongoc_collection_t *coll = mongoc_database_get_collection(db, *name);
		bson_t *all = bson_new();
		mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, all, NULL, NULL);
		const bson_t *doc;

		n++;
		while (mongoc_cursor_next(cur, &doc)) {
			char *json = bson_as_canonical_extended_json(doc, NULL);

			assert_non_null(json);
			if (strstr(json, needle))
				hits++;
			bson_free(json);
		}
		if (mongoc_cursor_error(cur, &err))
			fail_msg("read %s: %s", *name, err.message);
		mongoc_cursor_destroy(cur);
		bson_destroy(all);
		mongoc_collection_destroy(coll);
	}
	bson_strfreev(names);
	mongoc_database_destroy(db);
	mongoc_client_destroy(client);
	if (collections)
		*collections = n;
	return hits;
}

void h_db_user_id(const char *email, char out[25])
{
	char filter[320], *doc;
	json_object *o, *id, *oid;

	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	doc = h_db_find_json("users", filter);
	if (!doc)
		fail_msg("no user %s", email);
	o = json_tokener_parse(doc);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "_id", &id));
	assert_true(json_object_object_get_ex(id, "$oid", &oid));
	snprintf(out, 25, "%s", json_object_get_string(oid));
	json_object_put(o);
	free(doc);
}
