/*
 * Integration tests for accounts and access (issue 4): register, verify,
 * login, tokens, refresh rotation, logout, password reset, throttles,
 * /me, the address book, admin user management and create-admin.
 * Everything goes HTTPS -> nginx -> emporium-fcgi -> database, and the
 * one-time codes are read from the mail the SMTP catcher really received
 * (sent by emporium-worker from the jobs outbox).
 *
 * nginx limits /api/v1/auth/ to 5 requests a second (burst 10) per
 * address, and every test comes from 127.0.0.1: auth_post() paces itself
 * like nginx's leaky bucket so the suite never trips it by accident.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <jwt.h>
#include <mongoc/mongoc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define PW "Vivid-Otter-Lantern-42"
#define PW2 "Quiet-Maple-Harbor-77"

/* ---- helpers ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* nginx's auth zone: 5 r/s, burst 10. Keep our own estimate of its
 * bucket (starting half full: earlier suites may have used it). */
static double bucket = 5, bucket_t;

static void auth_pace(void)
{
	double t = now_s();

	if (bucket_t > 0) {
		bucket -= (t - bucket_t) * 5.0;
		if (bucket < 0)
			bucket = 0;
	}
	if (bucket > 7) {
		h_sleep_ms((long)((bucket - 7) / 5.0 * 1000) + 10);
		bucket = 7;
		t = now_s();
	}
	bucket += 1;
	bucket_t = t;
}

static const char *const json_ct[] = { "Content-Type: application/json", NULL };

static struct h_resp req_json(const char *method, const char *path, const char *body,
			      const char *const *extra)
{
	const char *hdrs[8];
	size_t n = 0;

	if (strncmp(path, "/api/v1/auth/", 13) == 0)
		auth_pace();
	if (body)
		hdrs[n++] = "Content-Type: application/json";
	for (size_t i = 0; extra && extra[i] && n < 7; i++)
		hdrs[n++] = extra[i];
	hdrs[n] = NULL;
	return h_request(method, path, body, body ? strlen(body) : 0, hdrs);
}

static struct h_resp post(const char *path, const char *body)
{
	return req_json("POST", path, body, NULL);
}

/* A GET/PATCH/DELETE... with a bearer token. */
static struct h_resp authed(const char *method, const char *path, const char *token,
			    const char *body)
{
	char auth[4096];
	const char *extra[] = { h_bearer(token, auth, sizeof(auth)), NULL };

	return req_json(method, path, body, extra);
}

/* A string member of the JSON body, copied into buf ("" if absent). */
static const char *jstr(const struct h_resp *r, const char *key, char *buf, size_t size)
{
	json_object *o = h_json(r), *v;

	buf[0] = '\0';
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(buf, size, "%s", json_object_get_string(v));
	json_object_put(o);
	return buf;
}

/* The problem's errors[0].field. */
static void assert_problem_field(const struct h_resp *r, long status, const char *field)
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

static void unique_email(const char *tag, char *buf, size_t size)
{
	unsigned char rnd[6];
	char hex[13];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(buf, size, "%s-%s@example.test", tag, hex);
}

/* The 6-digit code in the subject of the next mail to `to` matching needle. */
static void mail_code(const char *to, const char *needle, char code[7])
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

static mongoc_client_t *db_client(mongoc_collection_t **coll, const char *name)
{
	mongoc_client_t *c = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	assert_non_null(c);
	*coll = mongoc_client_get_collection(c, db, name);
	return c;
}

/* Runs a JSON update ({"$set": ...}) on the documents of a JSON filter. */
static void db_update(const char *collection, const char *filter_json, const char *update_json)
{
	mongoc_collection_t *coll;
	mongoc_client_t *c = db_client(&coll, collection);
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

static void db_delete(const char *collection, const char *filter_json)
{
	mongoc_collection_t *coll;
	mongoc_client_t *c = db_client(&coll, collection);
	bson_error_t err;
	bson_t *f = bson_new_from_json((const uint8_t *)filter_json, -1, &err);

	assert_non_null(f);
	if (!mongoc_collection_delete_many(coll, f, NULL, NULL, &err))
		fail_msg("delete %s: %s", collection, err.message);
	bson_destroy(f);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(c);
}

/* Registers, reads the code from the mail, verifies; leaves tokens of a login. */
static void account_new(const char *tag, char *email, size_t esize)
{
	char body[512], code[7];
	struct h_resp r;

	unique_email(tag, email, esize);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"T %s\"}",
		 email, PW, tag);
	r = post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	mail_code(email, "verification code", code);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
	r = post("/api/v1/auth/verify-email", body);
	if (r.status != 200)
		fail_msg("verify: %ld %s", r.status, r.body);
	h_resp_free(&r);
}

/* Logs in; fills access and refresh tokens (either may be NULL). */
static long login(const char *email, const char *password, char *access, size_t asize,
		  char *refresh, size_t rsize)
{
	char body[512];
	struct h_resp r;
	long status;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
	r = post("/api/v1/auth/login", body);
	status = r.status;
	if (status == 200) {
		if (access)
			jstr(&r, "access_token", access, asize);
		if (refresh)
			jstr(&r, "refresh_token", refresh, rsize);
	}
	h_resp_free(&r);
	return status;
}

static struct h_resp refresh_body(const char *token)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", token);
	return post("/api/v1/auth/refresh", body);
}

/* ---- register, verify, login ---- */

static void test_register_verify_login(void **state)
{
	char email[128], upper[160], body[512], code[7], access[2048], v[1024], filter[256];
	struct h_resp r;
	json_object *o, *x;

	(void)state;
	unique_email("reg", email, sizeof(email));
	/* sent with spaces and capitals: stored normalised */
	snprintf(upper, sizeof(upper), "  %s ", email);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z' && p[1] != '@')
			*p = (char)(*p - 32);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Ann\"}",
		 upper, PW);
	r = post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"email_verified\":false,"
		 "\"role\":\"customer\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* the password is stored as argon2id, never in clear */
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"password_hash\":{\"$regex\":"
		 "\"^\\\\$argon2id\\\\$v=19\\\\$m=19456,t=2\"}}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	mail_code(email, "verification code", code);

	/* unverified: may sign in, shows as unverified */
	assert_int_equal(login(email, PW, access, sizeof(access), NULL, 0), 200);
	r = authed("GET", "/api/v1/me", access, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "email_verified", &x));
	assert_false(json_object_get_boolean(x));
	assert_true(json_object_object_get_ex(o, "email", &x));
	assert_string_equal(json_object_get_string(x), email);
	assert_false(json_object_object_get_ex(o, "password_hash", &x));
	json_object_put(o);
	h_resp_free(&r);

	/* a wrong code, then the right one, then the right one again */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%06d\"}", email,
		 (atoi(code) + 1) % 1000000);
	r = post("/api/v1/auth/verify-email", body);
	assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
	r = post("/api/v1/auth/verify-email", body);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"email_verified\":true}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	r = post("/api/v1/auth/verify-email", body);
	assert_problem_field(&r, 400, "code");
	h_resp_free(&r);

	/* login: body and cookies */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, PW);
	r = post("/api/v1/auth/login", body);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "token_type", &x));
	assert_string_equal(json_object_get_string(x), "Bearer");
	assert_true(json_object_object_get_ex(o, "expires_in", &x));
	assert_int_equal(json_object_get_int(x), 900);
	assert_true(json_object_object_get_ex(o, "refresh_token", &x));
	assert_int_equal(strlen(json_object_get_string(x)), 43); /* 32 bytes, base64url */
	assert_true(json_object_object_get_ex(o, "access_token", &x));
	assert_true(json_object_object_get_ex(o, "csrf_token", &x));
	json_object_put(o);
	assert_true(h_header(&r, "set-cookie", v, sizeof(v)));
	assert_non_null(strstr(r.headers, "__Host-emporium_rt="));
	assert_non_null(strstr(r.headers, "Path=/; Secure; HttpOnly; SameSite=Strict"));
	assert_non_null(strstr(r.headers, "__Host-emporium_csrf="));
	h_resp_free(&r);
	/* the refresh token is stored hashed only */
	assert_int_equal(h_db_count("refresh_tokens", "{\"hash\":{\"$exists\":true}}") > 0, 1);
}

static void test_register_existing_account(void **state)
{
	char email[128], fresh[128], body[512], filter[256], jobs[256];
	struct h_resp r1, r2;
	char *mail;

	(void)state;
	account_new("dup", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Other\"}",
		 email, PW2);
	r2 = post("/api/v1/auth/register", body);
	unique_email("fresh", fresh, sizeof(fresh)); /* a never-seen address, to compare */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Other\"}",
		 fresh, PW2);
	r1 = post("/api/v1/auth/register", body);
	/* the same answer whether the address has an account or not */
	assert_int_equal(r1.status, 202);
	assert_int_equal(r2.status, 202);
	assert_string_equal(r1.body, r2.body);
	h_resp_free(&r1);
	h_resp_free(&r2);
	/* the owner is told, nothing else changes */
	mail = h_mail_wait(email, "already have", 15000);
	assert_non_null(mail);
	free(mail);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	assert_int_equal(login(email, PW, NULL, 0, NULL, 0), 200);
	assert_int_equal(login(email, PW2, NULL, 0, NULL, 0), 401);
	snprintf(jobs, sizeof(jobs), "{\"payload.to\":\"%s\",\"payload.template\":\"verify_email\"}",
		 email);
	assert_int_equal(h_db_count("jobs", jobs), 1);
}

/* Bad input: 400 naming the field, nothing stored, nobody logged in. */
static void test_register_bad_input(void **state)
{
	static const struct {
		const char *body;
		const char *field;
	} cases[] = {
		{ "{\"email\":{\"$ne\":null},\"password\":\"" PW "\",\"name\":\"x\"}", "$ne" },
		{ "{\"email\":\"a@b.test\",\"password\":{\"$gt\":\"\"},\"name\":\"x\"}", "$gt" },
		{ "{\"email\":42,\"password\":\"" PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":[\"a@b.test\"],\"password\":\"" PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":12345678901234,\"name\":\"x\"}",
		  "password" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"" PW "\",\"name\":{\"a\":1}}",
		  "name" },
		{ "{\"password\":\"" PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":\"bad-inp@example.test\",\"name\":\"x\"}", "password" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"" PW "\"}", "name" },
		{ "{\"email\":\"not-an-email\",\"password\":\"" PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":\"a@@b.test\",\"password\":\"" PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"short-pw\",\"name\":\"x\"}",
		  "password" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"Password1234\",\"name\":\"x\"}",
		  "password" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"" PW "\",\"name\":\"x\","
		  "\"role\":\"admin\"}", "role" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"" PW "\",\"name\":\"x\","
		  "\"email_verified\":true}", "email_verified" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"ab\\u0000cdefghijklmnop\","
		  "\"name\":\"x\"}", "password" },
	};
	char longname[400], body[700];
	struct h_resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = post("/api/v1/auth/register", cases[i].body);
		assert_problem_field(&r, 400, cases[i].field);
		h_resp_free(&r);
	}
	/* over-long fields */
	memset(longname, 'n', 300);
	longname[300] = '\0';
	snprintf(body, sizeof(body), "{\"email\":\"bad-inp@example.test\",\"password\":\"%s\","
		 "\"name\":\"%s\"}", PW, longname);
	r = post("/api/v1/auth/register", body);
	assert_problem_field(&r, 400, "name");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s@example.test\",\"password\":\"%s\","
		 "\"name\":\"x\"}", longname, PW);
	r = post("/api/v1/auth/register", body);
	assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
	/* invalid UTF-8 */
	r = post("/api/v1/auth/register",
		 "{\"email\":\"bad-inp@example.test\",\"password\":\"" PW "\",\"name\":\"\xff\xfe\"}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	/* query-string style operators go nowhere: the body is what counts */
	auth_pace();
	r = h_request("POST", "/api/v1/auth/login?email[$ne]=&password[$ne]=", "{}", 2, json_ct);
	assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
	auth_pace();
	{
		const char *form[] = { "Content-Type: application/x-www-form-urlencoded", NULL };

		r = h_request("POST", "/api/v1/auth/login", "email[$ne]=&password[$ne]=", 26, form);
		h_assert_problem(&r, 415);
		assert_true(strstr(r.headers, "set-cookie") == NULL);
		h_resp_free(&r);
	}
	assert_int_equal(h_db_count("users", "{\"email\":\"bad-inp@example.test\"}"), 0);
	assert_int_equal(h_db_count("users", "{\"email\":{\"$type\":\"object\"}}"), 0);
}

static void test_login_injection_refused(void **state)
{
	struct h_resp r;

	(void)state;
	r = post("/api/v1/auth/login", "{\"email\":{\"$ne\":null},\"password\":{\"$ne\":null}}");
	h_assert_problem(&r, 400);
	assert_null(strstr(r.body, "access_token"));
	h_resp_free(&r);
	r = post("/api/v1/auth/login", "{\"email\":\"x@example.test\",\"password\":[\"a\"]}");
	assert_problem_field(&r, 400, "password");
	h_resp_free(&r);
	r = post("/api/v1/auth/login", "{\"email\":true,\"password\":\"" PW "\"}");
	assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
}

static void test_verify_attempt_limit(void **state)
{
	char email[128], body[512], code[7];
	struct h_resp r;

	(void)state;
	unique_email("att", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"A\"}", email,
		 PW);
	r = post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	mail_code(email, "verification code", code);
	for (int i = 1; i <= 5; i++) {
		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%06d\"}", email,
			 (atoi(code) + i) % 1000000);
		r = post("/api/v1/auth/verify-email", body);
		assert_problem_field(&r, 400, "code");
		h_resp_free(&r);
	}
	/* five misses: even the right code is refused now */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
	r = post("/api/v1/auth/verify-email", body);
	assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	/* an unknown address gets the same answer */
	r = post("/api/v1/auth/verify-email",
		 "{\"email\":\"nobody-here@example.test\",\"code\":\"123456\"}");
	assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
}

static void test_resend_cooldown(void **state)
{
	char email[128], body[512], jobs[256], code1[7], code2[7];
	struct h_resp r;

	(void)state;
	unique_email("resend", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"R\"}", email,
		 PW);
	r = post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	mail_code(email, "verification code", code1);
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	r = post("/api/v1/auth/verify-email/resend", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	snprintf(jobs, sizeof(jobs), "{\"payload.to\":\"%s\",\"payload.template\":\"verify_email\"}",
		 email);
	/* within the cooldown: no second mail */
	assert_int_equal(h_db_count("jobs", jobs), 1);
	/* after it (moved back in the database): a new code, the old one dead */
	db_update("email_codes", "{\"purpose\":\"verify\"}",
		  "{\"$set\":{\"last_sent_at\":{\"$date\":\"2000-01-01T00:00:00Z\"}}}");
	r = post("/api/v1/auth/verify-email/resend", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	mail_code(email, "verification code", code2);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code1);
	if (strcmp(code1, code2) != 0) {
		r = post("/api/v1/auth/verify-email", body);
		assert_problem_field(&r, 400, "code");
		h_resp_free(&r);
	}
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code2);
	r = post("/api/v1/auth/verify-email", body);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* unknown address: the same 202, and no mail job */
	r = post("/api/v1/auth/verify-email/resend", "{\"email\":\"ghost-rs@example.test\"}");
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	assert_int_equal(h_db_count("jobs", "{\"payload.to\":\"ghost-rs@example.test\"}"), 0);
}

/* Unknown address and wrong password: same status, body, and similar time. */
static void test_login_same_error(void **state)
{
	char email[128], body[512], d1[512], d2[512];
	struct h_resp r1, r2;
	double t0, t_unknown = 0, t_wrong = 0;

	(void)state;
	account_new("same", email, sizeof(email));
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"email\":\"ghost-%d@example.test\",\"password\":\"%s\"}",
			 i, PW2);
		auth_pace();
		t0 = now_s();
		r1 = h_request("POST", "/api/v1/auth/login", body, strlen(body), json_ct);
		t_unknown += now_s() - t0;
		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, PW2);
		auth_pace();
		t0 = now_s();
		r2 = h_request("POST", "/api/v1/auth/login", body, strlen(body), json_ct);
		t_wrong += now_s() - t0;
		h_assert_problem(&r1, 401);
		h_assert_problem(&r2, 401);
		assert_string_equal(jstr(&r1, "detail", d1, sizeof(d1)), jstr(&r2, "detail", d2, sizeof(d2)));
		h_resp_free(&r1);
		h_resp_free(&r2);
	}
	/* both spend an argon2id verification: neither is much faster */
	if (t_unknown < t_wrong * 0.5 || t_wrong < t_unknown * 0.5)
		fail_msg("timing differs: unknown %.1f ms, wrong password %.1f ms",
			 t_unknown * 1000 / 3, t_wrong * 1000 / 3);
	db_delete("rate_limits", "{\"_id\":{\"$regex\":\"^login-\"}}");
}

/* ---- tokens ---- */

static void test_refresh_rotation_and_reuse(void **state)
{
	char email[128], a1[2048], rt1[128], rt2[128], rt3[128], a2[2048];
	struct h_resp r;

	(void)state;
	account_new("rot", email, sizeof(email));
	assert_int_equal(login(email, PW, a1, sizeof(a1), rt1, sizeof(rt1)), 200);
	r = refresh_body(rt1);
	assert_int_equal(r.status, 200);
	jstr(&r, "refresh_token", rt2, sizeof(rt2));
	jstr(&r, "access_token", a2, sizeof(a2));
	h_resp_free(&r);
	assert_string_not_equal(rt1, rt2);
	r = authed("GET", "/api/v1/me", a2, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* rotate once more, then replay the first (rotated) token */
	r = refresh_body(rt2);
	assert_int_equal(r.status, 200);
	jstr(&r, "refresh_token", rt3, sizeof(rt3));
	h_resp_free(&r);
	r = refresh_body(rt1);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	/* the reuse revoked the whole family: the newest token is dead too */
	r = refresh_body(rt3);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	/* garbage and missing tokens */
	r = refresh_body("not-a-token-at-all-but-long-enough");
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = post("/api/v1/auth/refresh", NULL);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = post("/api/v1/auth/refresh", "{\"refresh_token\":{\"$ne\":null}}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
}

static void test_refresh_cookie_csrf(void **state)
{
	char email[128], body[512], rt[128], csrf[128], cookie[512], hdr[256], rt2[128];
	struct h_resp r;

	(void)state;
	account_new("csrf", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, PW);
	r = post("/api/v1/auth/login", body);
	assert_int_equal(r.status, 200);
	jstr(&r, "refresh_token", rt, sizeof(rt));
	jstr(&r, "csrf_token", csrf, sizeof(csrf));
	h_resp_free(&r);
	snprintf(cookie, sizeof(cookie), "Cookie: __Host-emporium_rt=%s; __Host-emporium_csrf=%s",
		 rt, csrf);
	{
		const char *no_csrf[] = { cookie, NULL };

		r = req_json("POST", "/api/v1/auth/refresh", NULL, no_csrf);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
	{
		const char *bad[] = { cookie, "X-CSRF-Token: 0000000000000000000000000000000000000000"
					      "000000000000000000000000", NULL };

		r = req_json("POST", "/api/v1/auth/refresh", NULL, bad);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
	snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s", csrf);
	{
		const char *good[] = { cookie, hdr, NULL };

		r = req_json("POST", "/api/v1/auth/refresh", NULL, good);
		assert_int_equal(r.status, 200);
		jstr(&r, "refresh_token", rt2, sizeof(rt2));
		assert_non_null(strstr(r.headers, "__Host-emporium_rt="));
		h_resp_free(&r);
	}
	/* logout by cookie with CSRF clears the cookies and revokes */
	snprintf(cookie, sizeof(cookie), "Cookie: __Host-emporium_rt=%s", rt2);
	{
		char h2[256];
		const char *lo[] = { cookie, h2, NULL };

		/* the CSRF token of the new refresh token came in the refresh answer;
		 * a stale one must not do */
		snprintf(h2, sizeof(h2), "X-CSRF-Token: %s", csrf);
		r = req_json("POST", "/api/v1/auth/logout", NULL, lo);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt2);
	r = post("/api/v1/auth/logout", body);
	assert_int_equal(r.status, 204);
	assert_non_null(strstr(r.headers, "Max-Age=0"));
	h_resp_free(&r);
	r = refresh_body(rt2);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
}

/* Mints a token by hand with the stack's secret, or another key. */
static char *mint(const char *sub, const char *role, long iat, long exp, const char *aud,
		  const char *key)
{
	jwt_t *jwt = NULL;
	char *enc;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)key,
				     (int)strlen(key)), 0);
	jwt_add_grant(jwt, "iss", getenv("STACK_JWT_ISSUER") ? getenv("STACK_JWT_ISSUER") : "emporium");
	jwt_add_grant(jwt, "aud", aud);
	jwt_add_grant(jwt, "sub", sub);
	jwt_add_grant(jwt, "role", role);
	jwt_add_grant(jwt, "jti", "0123456789abcdef0123456789abcdef");
	jwt_add_grant_int(jwt, "iat", iat);
	jwt_add_grant_int(jwt, "exp", exp);
	enc = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(enc);
	return enc;
}

static void expect_invalid_token(const char *token)
{
	struct h_resp r = authed("GET", "/api/v1/me", token, NULL);
	char v[256];

	h_assert_problem(&r, 401);
	assert_true(h_header(&r, "www-authenticate", v, sizeof(v)));
	if (!strstr(r.headers, "error=\"invalid_token\""))
		fail_msg("no invalid_token challenge: %s", r.headers);
	h_resp_free(&r);
}

static void test_bad_access_tokens(void **state)
{
	char token[2048], uid[32], none[1024], *t;
	const char *secret = h_env("STACK_JWT_SECRET");
	const char *aud = getenv("STACK_JWT_AUDIENCE") ? getenv("STACK_JWT_AUDIENCE")
						       : "emporium-api";
	long now = (long)time(NULL);
	struct h_resp r;

	(void)state;
	h_user_token("customer", token, sizeof(token), uid, sizeof(uid));
	r = authed("GET", "/api/v1/me", token, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* expired (past the leeway) */
	t = mint(uid, "customer", now - 2000, now - 1000, aud, secret);
	expect_invalid_token(t);
	free(t);
	/* not yet valid: issued in the future */
	t = mint(uid, "customer", now + 600, now + 1500, aud, secret);
	expect_invalid_token(t);
	free(t);
	/* wrong signature */
	t = mint(uid, "customer", now, now + 900, aud,
		 "another-secret-of-at-least-32-bytes-long!!");
	expect_invalid_token(t);
	free(t);
	/* wrong audience */
	t = mint(uid, "customer", now, now + 900, "someone-else", secret);
	expect_invalid_token(t);
	free(t);
	/* a role the account does not have */
	t = mint(uid, "admin", now, now + 900, aud, secret);
	expect_invalid_token(t);
	free(t);
	/* alg none: the valid token's claims with no signature */
	{
		const char *dot = strchr(token, '.');
		const char *hdr = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; /* {"alg":"none","typ":"JWT"} */
		const char *dot2 = strchr(dot + 1, '.');

		snprintf(none, sizeof(none), "%s.%.*s.", hdr, (int)(dot2 - dot - 1), dot + 1);
		expect_invalid_token(none);
	}
	/* garbage */
	expect_invalid_token("garbage");
	expect_invalid_token("a.b.c");
}

/* ---- password reset ---- */

static void test_password_reset(void **state)
{
	char email[128], body[512], code[7], rt[128], jobs[256];
	struct h_resp r;

	(void)state;
	account_new("reset", email, sizeof(email));
	assert_int_equal(login(email, PW, NULL, 0, rt, sizeof(rt)), 200);
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	r = post("/api/v1/auth/password/forgot", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	mail_code(email, "reset code", code);
	/* policy first: a weak password does not use up the code */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\",\"password\":\"123456789012\"}",
		 email, code);
	r = post("/api/v1/auth/password/reset", body);
	assert_problem_field(&r, 400, "password");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%06d\",\"password\":\"%s\"}",
		 email, (atoi(code) + 1) % 1000000, PW2);
	r = post("/api/v1/auth/password/reset", body);
	assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\",\"password\":\"%s\"}", email,
		 code, PW2);
	r = post("/api/v1/auth/password/reset", body);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	/* single use */
	r = post("/api/v1/auth/password/reset", body);
	assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	/* every session is gone, the old password too */
	r = refresh_body(rt);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	assert_int_equal(login(email, PW, NULL, 0, NULL, 0), 401);
	assert_int_equal(login(email, PW2, NULL, 0, NULL, 0), 200);
	/* unknown address: the same 202 and no mail job */
	r = post("/api/v1/auth/password/forgot", "{\"email\":\"ghost-pw@example.test\"}");
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	snprintf(jobs, sizeof(jobs), "{\"payload.to\":\"ghost-pw@example.test\"}");
	assert_int_equal(h_db_count("jobs", jobs), 0);
}

/* ---- throttling ---- */

static void test_brute_force_lock(void **state)
{
	char email[128], v[32];
	struct h_resp r;
	char body[512];

	(void)state;
	account_new("brute", email, sizeof(email));
	for (int i = 0; i < 10; i++)
		assert_int_equal(login(email, "Wrong-Password-123", NULL, 0, NULL, 0), 401);
	/* locked: even the right password gets 429 with Retry-After */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, PW);
	r = post("/api/v1/auth/login", body);
	h_assert_problem(&r, 429);
	assert_true(h_header(&r, "retry-after", v, sizeof(v)));
	assert_true(atoi(v) > 60 && atoi(v) <= 900);
	assert_null(strstr(r.body, "access_token"));
	h_resp_free(&r);
	/* an unknown address locks the same way (a lock reveals nothing) */
	for (int i = 0; i < 10; i++)
		assert_int_equal(login("ghost-brute@example.test", PW, NULL, 0, NULL, 0), 401);
	assert_int_equal(login("ghost-brute@example.test", PW, NULL, 0, NULL, 0), 429);
	/* the per-address counter saw all 20 failures */
	assert_int_equal(h_db_count("rate_limits", "{\"_id\":\"login-ip|127.0.0.1\","
				    "\"count\":{\"$gte\":20}}"), 1);
	db_delete("rate_limits", "{\"_id\":{\"$regex\":\"^login-\"}}");
	assert_int_equal(login(email, PW, NULL, 0, NULL, 0), 200);
}

static void test_ip_throttle(void **state)
{
	char email[128], v[32];
	struct h_resp r;
	char body[512];

	(void)state;
	account_new("ipthr", email, sizeof(email));
	/* the address has used up its failures (set in the database: making
	 * 50 real ones would take nginx's pace) */
	db_delete("rate_limits", "{\"_id\":\"login-ip|127.0.0.1\"}");
	{
		mongoc_collection_t *coll;
		mongoc_client_t *c = db_client(&coll, "rate_limits");
		bson_error_t err;
		bson_t *doc = BCON_NEW("_id", BCON_UTF8("login-ip|127.0.0.1"), "count", BCON_INT32(50),
				       "expires_at", BCON_DATE_TIME(((int64_t)time(NULL) + 120) * 1000));

		if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
			fail_msg("insert: %s", err.message);
		bson_destroy(doc);
		mongoc_collection_destroy(coll);
		mongoc_client_destroy(c);
	}
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, PW);
	r = post("/api/v1/auth/login", body);
	h_assert_problem(&r, 429);
	assert_true(h_header(&r, "retry-after", v, sizeof(v)));
	assert_true(atoi(v) > 60 && atoi(v) <= 120);
	h_resp_free(&r);
	db_delete("rate_limits", "{\"_id\":\"login-ip|127.0.0.1\"}");
	assert_int_equal(login(email, PW, NULL, 0, NULL, 0), 200);
}

/* ---- /me ---- */

static void test_me_mass_assignment(void **state)
{
	char token[2048], uid[32], filter[256];
	struct h_resp r;
	json_object *o, *x;

	(void)state;
	h_user_token("customer", token, sizeof(token), uid, sizeof(uid));
	r = authed("PATCH", "/api/v1/me", token, "{\"role\":\"admin\"}");
	assert_problem_field(&r, 400, "role");
	h_resp_free(&r);
	r = authed("PATCH", "/api/v1/me", token, "{\"name\":\"Ok\",\"email_verified\":false}");
	assert_problem_field(&r, 400, "email_verified");
	h_resp_free(&r);
	r = authed("PATCH", "/api/v1/me", token, "{\"email\":\"x@example.test\"}");
	assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
	r = authed("PATCH", "/api/v1/me", token, "{\"name\":{\"$set\":\"x\"}}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = authed("PATCH", "/api/v1/me", token, "{\"phone\":\"call me\"}");
	assert_problem_field(&r, 400, "phone");
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"},\"role\":\"customer\","
		 "\"name\":\"Test User\",\"email_verified\":true}", uid);
	assert_int_equal(h_db_count("users", filter), 1);
	r = authed("PATCH", "/api/v1/me", token, "{\"name\":\"Renamed\",\"phone\":\"+880 1711-000000\"}");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "name", &x));
	assert_string_equal(json_object_get_string(x), "Renamed");
	assert_true(json_object_object_get_ex(o, "role", &x));
	assert_string_equal(json_object_get_string(x), "customer");
	json_object_put(o);
	h_resp_free(&r);
	r = h_get("/api/v1/me");
	h_assert_problem(&r, 401);
	h_resp_free(&r);
}

/* ---- address book ---- */

static const char *ADDR =
	"{\"name\":\"Home\",\"line1\":\"House 1, Road 2\",\"city\":\"Dhaka\","
	"\"postal_code\":\"1207\",\"country\":\"BD\",\"phone\":\"+8801711000000\"}";

static void test_addresses(void **state)
{
	char t1[2048], u1[32], t2[2048], u2[32], id1[32], id2[32], path[128], filter[256];
	struct h_resp r;
	json_object *o, *x;

	(void)state;
	h_user_token("customer", t1, sizeof(t1), u1, sizeof(u1));
	h_user_token("customer", t2, sizeof(t2), u2, sizeof(u2));
	/* validation */
	r = authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"line1\":\"x\",\"city\":\"D\",\"postal_code\":\"1\","
		   "\"country\":\"XX\"}");
	assert_problem_field(&r, 400, "country");
	h_resp_free(&r);
	r = authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"city\":\"D\",\"postal_code\":\"1\",\"country\":\"BD\"}");
	assert_problem_field(&r, 400, "line1");
	h_resp_free(&r);
	r = authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"line1\":\"x\",\"city\":\"D\",\"postal_code\":\"1\","
		   "\"country\":\"BD\",\"user_id\":\"000000000000000000000000\"}");
	assert_problem_field(&r, 400, "user_id");
	h_resp_free(&r);
	r = authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"line1\":\"x\",\"city\":\"D\",\"postal_code\":\"1\","
		   "\"country\":\"BD\",\"default_shipping\":\"yes\"}");
	assert_problem_field(&r, 400, "default_shipping");
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"}}", u1);
	assert_int_equal(h_db_count("addresses", filter), 0);

	/* the first address is the default for both */
	r = authed("POST", "/api/v1/me/addresses", t1, ADDR);
	assert_int_equal(r.status, 201);
	jstr(&r, "id", id1, sizeof(id1));
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "default_shipping", &x));
	assert_true(json_object_get_boolean(x));
	json_object_put(o);
	h_resp_free(&r);
	/* a second one takes the shipping default */
	r = authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"Office\",\"line1\":\"Level 5\",\"city\":\"Dhaka\","
		   "\"postal_code\":\"1212\",\"country\":\"BD\",\"default_shipping\":true}");
	assert_int_equal(r.status, 201);
	jstr(&r, "id", id2, sizeof(id2));
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"},\"default_shipping\":false,"
		 "\"default_billing\":true}", id1);
	assert_int_equal(h_db_count("addresses", filter), 1);
	r = authed("GET", "/api/v1/me/addresses", t1, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "items", &x));
	assert_int_equal(json_object_array_length(x), 2);
	json_object_put(o);
	h_resp_free(&r);

	/* update: a field, and null removes an optional one */
	snprintf(path, sizeof(path), "/api/v1/me/addresses/%s", id1);
	r = authed("PATCH", path, t1, "{\"city\":\"Chattogram\",\"phone\":null}");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "city", &x));
	assert_string_equal(json_object_get_string(x), "Chattogram");
	assert_true(json_object_object_get_ex(o, "phone", &x));
	assert_null(x);
	json_object_put(o);
	h_resp_free(&r);
	r = authed("PATCH", path, t1, "{\"city\":null}");
	assert_problem_field(&r, 400, "city");
	h_resp_free(&r);

	/* another customer: 404 on every verb, nothing changes */
	r = authed("GET", path, t2, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = authed("PATCH", path, t2, "{\"city\":\"Stolen\"}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = authed("DELETE", path, t2, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = authed("GET", "/api/v1/me/addresses", t2, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"items\":[]"));
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"},\"city\":\"Chattogram\"}", id1);
	assert_int_equal(h_db_count("addresses", filter), 1);
	r = authed("GET", "/api/v1/me/addresses/not-an-id", t1, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);

	/* delete */
	r = authed("DELETE", path, t1, NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	r = authed("GET", path, t1, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);

	/* the bound: 20 per account */
	for (int i = 0; i < 19; i++) {
		r = authed("POST", "/api/v1/me/addresses", t1, ADDR);
		assert_int_equal(r.status, 201);
		h_resp_free(&r);
	}
	r = authed("POST", "/api/v1/me/addresses", t1, ADDR);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"}}", u1);
	assert_int_equal(h_db_count("addresses", filter), 20);
	(void)id2;
}

/* ---- admin ---- */

static void test_admin_roles(void **state)
{
	char tc[2048], uc[32], ts[2048], us[32], ta[2048], ua[32], path[128], email[128];
	char rt[128], access[2048], url[256];
	/* method, whether the path takes the user id, body */
	const char *routes[][3] = {
		{ "GET", "", NULL },
		{ "GET", "id", NULL },
		{ "PATCH", "id", "{\"role\":\"admin\"}" },
	};
	struct h_resp r;
	json_object *o, *x;

	(void)state;
	h_user_token("customer", tc, sizeof(tc), uc, sizeof(uc));
	h_user_token("staff", ts, sizeof(ts), us, sizeof(us));
	h_user_token("admin", ta, sizeof(ta), ua, sizeof(ua));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		snprintf(path, sizeof(path), "/api/v1/admin/users%s%s", routes[i][1][0] ? "/" : "",
			 routes[i][1][0] ? uc : "");
		r = authed(routes[i][0], path, tc, routes[i][2]);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
		r = authed(routes[i][0], path, ts, routes[i][2]);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
		r = req_json(routes[i][0], path, routes[i][2], NULL);
		h_assert_problem(&r, 401);
		h_resp_free(&r);
	}
	snprintf(path, sizeof(path), "{\"_id\":{\"$oid\":\"%s\"},\"role\":\"customer\"}", uc);
	assert_int_equal(h_db_count("users", path), 1);

	/* list with pagination and a prefix search */
	r = authed("GET", "/api/v1/admin/users?limit=1", ta, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "items", &x));
	assert_int_equal(json_object_array_length(x), 1);
	assert_true(json_object_object_get_ex(o, "next_cursor", &x));
	assert_true(json_object_is_type(x, json_type_string));
	snprintf(url, sizeof(url), "/api/v1/admin/users?limit=1&cursor=%s", json_object_get_string(x));
	json_object_put(o);
	assert_null(strstr(r.body, "password_hash"));
	h_resp_free(&r);
	r = authed("GET", url, ta, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(url, sizeof(url), "/api/v1/admin/users?email=STAFF-%.10s", us);
	r = authed("GET", url, ta, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "items", &x));
	assert_int_equal(json_object_array_length(x), 1);
	json_object_put(o);
	h_resp_free(&r);
	/* regex metacharacters are just characters */
	r = authed("GET", "/api/v1/admin/users?email=.*", ta, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"items\":[]"));
	h_resp_free(&r);
	r = authed("GET", "/api/v1/admin/users?limit=500", ta, NULL);
	assert_problem_field(&r, 400, "limit");
	h_resp_free(&r);
	r = authed("GET", "/api/v1/admin/users?cursor=zzz", ta, NULL);
	assert_problem_field(&r, 400, "cursor");
	h_resp_free(&r);

	/* role change: the customer's old token stops working at once */
	snprintf(path, sizeof(path), "/api/v1/admin/users/%s", uc);
	r = authed("PATCH", path, ta, "{\"role\":\"superuser\"}");
	assert_problem_field(&r, 400, "role");
	h_resp_free(&r);
	r = authed("PATCH", path, ta, "{\"email_verified\":false}");
	assert_problem_field(&r, 400, "email_verified");
	h_resp_free(&r);
	r = authed("PATCH", path, ta, "{\"role\":\"staff\"}");
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"role\":\"staff\""));
	h_resp_free(&r);
	expect_invalid_token(tc);
	/* an admin cannot demote or disable themselves */
	snprintf(path, sizeof(path), "/api/v1/admin/users/%s", ua);
	r = authed("PATCH", path, ta, "{\"disabled\":true}");
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	r = authed("PATCH", "/api/v1/admin/users/0123456789abcdef01234567", ta, "{\"disabled\":true}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);

	/* disabling: sign-in, refresh and access tokens all stop */
	account_new("dis", email, sizeof(email));
	assert_int_equal(login(email, PW, access, sizeof(access), rt, sizeof(rt)), 200);
	r = authed("GET", "/api/v1/me", access, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "id", &x));
	snprintf(path, sizeof(path), "/api/v1/admin/users/%s", json_object_get_string(x));
	json_object_put(o);
	h_resp_free(&r);
	r = authed("PATCH", path, ta, "{\"disabled\":true}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	expect_invalid_token(access);
	r = refresh_body(rt);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	assert_int_equal(login(email, PW, NULL, 0, NULL, 0), 401);
	r = authed("PATCH", path, ta, "{\"disabled\":false}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	db_delete("rate_limits", "{\"_id\":{\"$regex\":\"^login-\"}}");
	assert_int_equal(login(email, PW, NULL, 0, NULL, 0), 200);
}

/* ---- emporium-admin create-admin ---- */

static int run_create_admin(const char *email, const char *password)
{
	char exe[1024], cmd[2048];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *p;
	char *slash;

	assert_true(n > 0);
	exe[n] = '\0';
	/* build/tests/integration/test_accounts -> build/emporium-admin */
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

static void test_create_admin_cmd(void **state)
{
	char email[128], access[2048], filter[256];
	struct h_resp r;

	(void)state;
	unique_email("boss", email, sizeof(email));
	/* a weak password is refused */
	assert_int_not_equal(run_create_admin(email, "password1234"), 0);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
	assert_int_equal(run_create_admin(email, PW), 0);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"role\":\"admin\",\"email_verified\":true}",
		 email);
	assert_int_equal(h_db_count("users", filter), 1);
	assert_int_equal(login(email, PW, access, sizeof(access), NULL, 0), 200);
	r = authed("GET", "/api/v1/admin/users?limit=1", access, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* re-running resets the password and keeps one account */
	assert_int_equal(run_create_admin(email, PW2), 0);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	assert_int_equal(login(email, PW2, NULL, 0, NULL, 0), 200);
	assert_int_equal(login(email, PW, NULL, 0, NULL, 0), 401);
	db_delete("rate_limits", "{\"_id\":{\"$regex\":\"^login-\"}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_verify_login),
		cmocka_unit_test(test_register_existing_account),
		cmocka_unit_test(test_register_bad_input),
		cmocka_unit_test(test_login_injection_refused),
		cmocka_unit_test(test_verify_attempt_limit),
		cmocka_unit_test(test_resend_cooldown),
		cmocka_unit_test(test_login_same_error),
		cmocka_unit_test(test_refresh_rotation_and_reuse),
		cmocka_unit_test(test_refresh_cookie_csrf),
		cmocka_unit_test(test_bad_access_tokens),
		cmocka_unit_test(test_password_reset),
		cmocka_unit_test(test_brute_force_lock),
		cmocka_unit_test(test_ip_throttle),
		cmocka_unit_test(test_me_mass_assignment),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_admin_roles),
		cmocka_unit_test(test_create_admin_cmd),
	};
	int rc;

	h_init();
	if (sodium_init() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
