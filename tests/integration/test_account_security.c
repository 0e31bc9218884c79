/*
 * Regression tests for the account holes a security review found (the accounts items:
 * 1, 2, 4, 5, 8, 9, 10, 11, 14, 20), each through the real path (HTTPS ->
 * nginx -> emporium-fcgi -> database, mail through emporium-worker and the
 * SMTP catcher) and each failing on the code before the fix. The races
 * release their requests together (h_parallel) on the race pool, each
 * thread from a loopback address of its own (nginx limits /api/v1/auth/
 * per address), and check the bound afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static const char *const json_ct[] = { "Content-Type: application/json", NULL };

/*
 * Source addresses: the parallel requests come from 127.0.0.200 on, and
 * each test's own from one of SRC_MAIN.. (src_rotate), so the suite's
 * many sign-ups spend neither the per-address budgets (mails, code
 * checks) of the suites sharing the stack's 127.0.0.1 nor, run after
 * run, one address's own.
 */
enum { SRC_BASE = 200, SRC_MAIN = 250, SRC_MAIN_N = 5, RACE_N = 16 };
static int src_main = SRC_MAIN;

/* Before each test: the next of the suite's own source addresses. */
static int src_rotate(void **state)
{
	static int k;

	(void)state;
	src_main = SRC_MAIN + k++ % SRC_MAIN_N;
	h_source_set(src_main);
	return 0;
}

/* Registers email with H_PW (name "Sec"), without verifying. */
static void register_only(const char *email)
{
	char body[512];
	struct h_resp r;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Sec\"}",
		 email, H_PW);
	r = h_post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
}

/* The user's id (24 hex) of email into id. */
static void user_id_of(const char *email, char id[25])
{
	char filter[256], *doc, *p;

	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	doc = h_db_find_json("users", filter);
	assert_non_null(doc);
	p = strstr(doc, "\"$oid\"");
	assert_non_null(p);
	p = strchr(p + 6, '"');
	assert_non_null(p);
	memcpy(id, p + 1, 24);
	id[24] = '\0';
	free(doc);
}

/* Runs configureFailPoint failCommand (the stand-in's test commands). */
static void failpoint(const char *json)
{
	mongoc_client_t *c = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	bson_error_t err;
	bson_t *cmd = bson_new_from_json((const uint8_t *)json, -1, &err);
	bson_t reply;

	assert_non_null(c);
	assert_non_null(cmd);
	if (!mongoc_client_command_simple(c, "admin", cmd, NULL, &reply, &err))
		fail_msg("configureFailPoint: %s", err.message);
	bson_destroy(&reply);
	bson_destroy(cmd);
	mongoc_client_destroy(c);
}

/* Waits (10 s at most) until every job to `to` is done or dead. */
static void jobs_settle(const char *to)
{
	char filter[256];

	snprintf(filter, sizeof(filter), "{\"payload.to\":\"%s\",\"status\":{\"$in\":"
		 "[\"pending\",\"running\"]}}", to);
	for (int i = 0; i < 100 && h_db_count("jobs", filter) > 0; i++)
		h_sleep_ms(100);
	assert_int_equal(h_db_count("jobs", filter), 0);
}

/* A mail to `to` containing needle arrives (or, want false, none does). */
static void mail_expect(const char *to, const char *needle, bool want)
{
	char *mail = h_mail_wait(to, needle, want ? 10000 : 1500);

	if (want && !mail)
		fail_msg("no mail to %s containing '%s'", to, needle);
	if (!want && mail)
		fail_msg("an unexpected mail to %s: %s", to, mail);
	free(mail);
}

/* ---- 1. account pre-hijacking ---- */

/*
 * An address nobody verified gets no session: a squatter who registered
 * the victim's address cannot sign in with the password they chose.
 */
static void test_unverified_account_gets_no_session(void **state)
{
	char email[128], body[512], id[25], filter[256];
	struct h_resp r;

	(void)state;
	h_unique_email("squat", email, sizeof(email));
	register_only(email);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW);
	r = h_post("/api/v1/auth/login", body);
	h_assert_problem(&r, 403);
	assert_null(strstr(r.body, "access_token"));
	assert_null(strstr(r.body, "refresh_token"));
	assert_null(strstr(r.headers, "emporium_rt="));
	h_resp_free(&r);
	/* a wrong password is the usual 401: the 403 needs the password */
	assert_int_equal(h_login(email, H_PW2, NULL, 0, NULL, 0), 401);
	/* no session was stored for the account */
	user_id_of(email, id);
	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"}}", id);
	assert_int_equal(h_db_count("refresh_tokens", filter), 0);
}

/*
 * A family has an absolute end (EMPORIUM_REFRESH_FAMILY_MAX_AGE, 30 days):
 * rotating does not extend it, and a family past it is dead.
 */
static void test_refresh_family_absolute_lifetime(void **state)
{
	char email[128], rt[128], rt2[128], filter[512], update[512], hash[65];
	unsigned char h[crypto_hash_sha256_BYTES];
	struct h_resp r;
	time_t now = time(NULL);
	char iso[64];
	struct tm tm;

	(void)state;
	h_account_new("family", email, sizeof(email));
	assert_int_equal(h_login(email, H_PW, NULL, 0, rt, sizeof(rt)), 200);
	crypto_hash_sha256(h, (const unsigned char *)rt, strlen(rt));
	sodium_bin2hex(hash, sizeof(hash), h, sizeof(h));
	/* the sign-in was 29 days and 23 hours ago: one refresh is left, and
	 * its successor must expire within the hour, not in 30 days */
	gmtime_r(&(time_t){ now - 30 * 86400 + 3600 }, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(filter, sizeof(filter), "{\"hash\":\"%s\"}", hash);
	snprintf(update, sizeof(update), "{\"$set\":{\"family_created_at\":{\"$date\":\"%s\"},"
		 "\"created_at\":{\"$date\":\"%s\"}}}", iso, iso);
	h_db_update("refresh_tokens", filter, update);
	r = h_refresh_body(rt);
	assert_int_equal(r.status, 200);
	h_jstr(&r, "refresh_token", rt2, sizeof(rt2));
	h_resp_free(&r);
	crypto_hash_sha256(h, (const unsigned char *)rt2, strlen(rt2));
	sodium_bin2hex(hash, sizeof(hash), h, sizeof(h));
	gmtime_r(&(time_t){ now + 3600 + 60 }, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(filter, sizeof(filter), "{\"hash\":\"%s\",\"expires_at\":{\"$lte\":{\"$date\":\"%s\"}}}",
		 hash, iso);
	assert_int_equal(h_db_count("refresh_tokens", filter), 1);
	/* and once the family is 30 days old, the current token is refused */
	gmtime_r(&(time_t){ now - 30 * 86400 - 60 }, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(filter, sizeof(filter), "{\"hash\":\"%s\"}", hash);
	snprintf(update, sizeof(update), "{\"$set\":{\"family_created_at\":{\"$date\":\"%s\"}}}", iso);
	h_db_update("refresh_tokens", filter, update);
	r = h_refresh_body(rt2);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
}

/* ---- 2. one-time codes ---- */

struct code_race {
	char body[RACE_N][512];
	const char *path;
	long status[RACE_N];
};

static void code_one(int i, void *arg)
{
	struct code_race *a = arg;
	struct h_resp r;

	h_source_set(SRC_BASE + i);
	r = h_request("POST", a->path, a->body[i], strlen(a->body[i]), json_ct);
	a->status[i] = r.status;
	h_resp_free(&r);
}

/*
 * RACE_N different wrong codes at once: each try is counted before it is
 * compared, atomically, so at most AUTH_CODE_MAX_ATTEMPTS (5) are checked.
 * emporium-fcgi's updates are slowed down during the race, so that a
 * read-then-increment would let every request that read before the
 * first increment landed through.
 */
static void test_code_guesses_in_parallel_bounded(void **state)
{
	static struct code_race a;
	char email[128], code[7], id[25], filter[256], *doc, *p;
	int attempts;

	(void)state;
	memset(&a, 0, sizeof(a));
	h_unique_email("otprace", email, sizeof(email));
	register_only(email);
	h_mail_code(email, "verification code", code);
	user_id_of(email, id);
	for (int i = 0; i < RACE_N; i++)
		snprintf(a.body[i], sizeof(a.body[i]), "{\"email\":\"%s\",\"code\":\"%06d\"}", email,
			 (atoi(code) + 1 + i) % 1000000);
	a.path = "/api/v1/auth/verify-email";
	failpoint("{\"configureFailPoint\":\"failCommand\",\"mode\":{\"times\":64},\"data\":"
		  "{\"failCommands\":[\"update\"],\"blockConnection\":true,\"blockTimeMS\":300,"
		  "\"appName\":\"emporium-fcgi\"}}");
	h_parallel(RACE_N, code_one, &a);
	failpoint("{\"configureFailPoint\":\"failCommand\",\"mode\":\"off\"}");
	for (int i = 0; i < RACE_N; i++)
		assert_int_equal(a.status[i], 400);
	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"},\"purpose\":\"verify\"}", id);
	doc = h_db_find_json("email_codes", filter);
	assert_non_null(doc);
	p = strstr(doc, "\"attempts\"");
	assert_non_null(p);
	p = strchr(p, ':');
	assert_non_null(p);
	attempts = atoi(p + 1);
	free(doc);
	fprintf(stderr, "  %d parallel wrong codes: attempts counted %d\n", RACE_N, attempts);
	assert_in_range(attempts, 1, 5);
	/* the tries are used up: the right code is refused too */
	{
		char body[256];
		struct h_resp r;

		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
		r = h_post("/api/v1/auth/verify-email", body);
		h_assert_problem_field(&r, 400, "code");
		h_resp_free(&r);
	}
}

/* Lets the next resend through: the code and recipient cooldowns over. */
static void cooldowns_over(const char *email, const char *id)
{
	char filter[320];

	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"}}", id);
	h_db_update("email_codes", filter,
		    "{\"$set\":{\"last_sent_at\":{\"$date\":\"2000-01-01T00:00:00Z\"}}}");
	snprintf(filter, sizeof(filter), "{\"_id\":\"mail-to|verify|%s\"}", email);
	h_db_delete("rate_limits", filter);
}

/*
 * Asking for a new code does not buy new guesses: 10 wrong codes a day
 * per address across reissues, then no code works (not even the right
 * one of a fresh mail) until the cool-down ends.
 */
static void test_code_budget_survives_reissue(void **state)
{
	char email[128], body[512], code[7], id[25];
	struct h_resp r;

	(void)state;
	h_unique_email("budget", email, sizeof(email));
	register_only(email);
	user_id_of(email, id);
	for (int round = 0; round < 2; round++) {
		h_mail_code(email, "verification code", code);
		for (int i = 1; i <= 5; i++) {
			snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%06d\"}", email,
				 (atoi(code) + i) % 1000000);
			r = h_post("/api/v1/auth/verify-email", body);
			h_assert_problem_field(&r, 400, "code");
			h_resp_free(&r);
		}
		cooldowns_over(email, id);
		snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
		r = h_post("/api/v1/auth/verify-email/resend", body);
		assert_int_equal(r.status, 202);
		h_resp_free(&r);
	}
	/* a third code arrives, right, and is refused: the budget is spent */
	h_mail_code(email, "verification code", code);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
	r = h_post("/api/v1/auth/verify-email", body);
	h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"email_verified\":false}", email);
	assert_int_equal(h_db_count("users", body), 1);
}

/* verify-email and password/reset have a per-address throttle of their own. */
static void test_code_checks_throttled_per_address(void **state)
{
	char v[32];
	struct h_resp r;
	const char *paths[] = { "/api/v1/auth/verify-email", "/api/v1/auth/password/reset" };
	const char *bodies[] = {
		"{\"email\":\"thr-code@example.test\",\"code\":\"123456\"}",
		"{\"email\":\"thr-code@example.test\",\"code\":\"123456\",\"password\":\"" H_PW2 "\"}",
	};

	(void)state;
	h_source_set(SRC_BASE + 40);
	{
		/* the address has used up its checks (set in the database: 60 real
		 * ones would take nginx's pace) */
		char doc[256];

		snprintf(doc, sizeof(doc), "{\"_id\":\"code-ip|127.0.0.%d\"}", SRC_BASE + 40);
		h_db_delete("rate_limits", doc);
		snprintf(doc, sizeof(doc), "{\"_id\":\"code-ip|127.0.0.%d\",\"count\":60,"
			 "\"expires_at\":{\"$date\":{\"$numberLong\":\"%lld\"}}}", SRC_BASE + 40,
			 ((long long)time(NULL) + 120) * 1000);
		h_db_insert_json("rate_limits", doc);
	}
	for (int i = 0; i < 2; i++) {
		r = h_req_json("POST", paths[i], bodies[i], NULL);
		h_assert_problem(&r, 429);
		assert_true(h_header(&r, "retry-after", v, sizeof(v)));
		assert_in_range(atoi(v), 60, 120);
		h_resp_free(&r);
	}
	h_source_set(src_main);
}

/*
 * One mail of a kind per recipient a minute, from any number of client
 * addresses: "account exists" mails cannot bomb an inbox.
 */
static void test_mail_cooldown_per_recipient(void **state)
{
	char email[128], body[512], filter[256];
	struct h_resp r;

	(void)state;
	h_account_new("bomb", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Bomb\"}",
		 email, H_PW2);
	for (int i = 0; i < 4; i++) {
		h_source_set(SRC_BASE + 41 + i);
		r = h_req_json("POST", "/api/v1/auth/register", body, NULL);
		assert_int_equal(r.status, 202);
		h_resp_free(&r);
	}
	h_source_set(src_main);
	snprintf(filter, sizeof(filter), "{\"payload.to\":\"%s\",\"payload.template\":"
		 "\"account_exists\"}", email);
	assert_int_equal(h_db_count("jobs", filter), 1);
	/* reset mails too */
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	for (int i = 0; i < 3; i++) {
		h_source_set(SRC_BASE + 45 + i);
		r = h_req_json("POST", "/api/v1/auth/password/forgot", body, NULL);
		assert_int_equal(r.status, 202);
		h_resp_free(&r);
	}
	h_source_set(src_main);
	jobs_settle(email);
	mail_expect(email, "reset code", true);
	mail_expect(email, "reset code", false);
}

/* ---- 4. the refresh token stays out of scripts' reach ---- */

static void test_cookie_refresh_keeps_token_out_of_body(void **state)
{
	char email[128], body[512], rt[128], csrf[128], cookie[512], hdr[256], v[1024];
	struct h_resp r;

	(void)state;
	h_account_new("ckbody", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW);
	r = h_post("/api/v1/auth/login", body);
	assert_int_equal(r.status, 200);
	h_jstr(&r, "refresh_token", rt, sizeof(rt));
	h_jstr(&r, "csrf_token", csrf, sizeof(csrf));
	h_resp_free(&r);
	snprintf(cookie, sizeof(cookie), "Cookie: __Host-emporium_rt=%s", rt);
	snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s", csrf);
	{
		const char *h[] = { cookie, hdr, NULL };

		r = h_req_json("POST", "/api/v1/auth/refresh", NULL, h);
	}
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "refresh_token"));
	assert_non_null(strstr(r.body, "access_token"));
	assert_true(h_header(&r, "set-cookie", v, sizeof(v)));
	assert_non_null(strstr(r.headers, "__Host-emporium_rt="));
	assert_non_null(strstr(r.headers, "HttpOnly"));
	h_resp_free(&r);
	/* a body client still gets it in the body */
	assert_int_equal(h_login(email, H_PW, NULL, 0, rt, sizeof(rt)), 200);
	r = h_refresh_body(rt);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "refresh_token"));
	h_resp_free(&r);
}

/* ---- 5. the lockout holds under parallel guesses ---- */

struct login_race {
	char body[512];
	long status[RACE_N];
};

static void login_one(int i, void *arg)
{
	struct login_race *a = arg;
	struct h_resp r;

	h_source_set(SRC_BASE + 20 + i);
	r = h_request("POST", "/api/v1/auth/login", a->body, strlen(a->body), json_ct);
	a->status[i] = r.status;
	h_resp_free(&r);
}

static void test_lockout_race_bounded(void **state)
{
	static struct login_race a;
	char email[128];
	int verdicts = 0, locked = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	h_account_new("lockrace", email, sizeof(email));
	snprintf(a.body, sizeof(a.body), "{\"email\":\"%s\",\"password\":\"Wrong-Password-123\"}",
		 email);
	h_parallel(RACE_N, login_one, &a);
	for (int i = 0; i < RACE_N; i++) {
		verdicts += a.status[i] == 401;
		locked += a.status[i] == 429;
	}
	fprintf(stderr, "  %d parallel wrong passwords: %d verdicts, %d locked\n", RACE_N, verdicts,
		locked);
	assert_in_range(verdicts, 1, 10);
	assert_int_equal(verdicts + locked, RACE_N);
	/* locked now, even for the right password */
	assert_int_equal(h_login(email, H_PW, NULL, 0, NULL, 0), 429);
	snprintf(a.body, sizeof(a.body), "{\"_id\":\"login-acct|%s\"}", email);
	h_db_delete("rate_limits", a.body);
}

/* ---- 8. the self-change guard compares ids, not spellings ---- */

static void test_admin_cannot_demote_self_by_case(void **state)
{
	char token[2048], id[32], upper[32], path[128], filter[256];
	struct h_resp r;

	(void)state;
	h_user_register("admin", token, sizeof(token), id, sizeof(id));
	snprintf(upper, sizeof(upper), "%s", id);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	assert_string_not_equal(upper, id);
	snprintf(path, sizeof(path), "/api/v1/admin/users/%s", upper);
	r = h_authed("PATCH", path, token, "{\"role\":\"customer\"}");
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	r = h_authed("PATCH", path, token, "{\"disabled\":true}");
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"},\"role\":\"admin\","
		 "\"disabled\":false}", id);
	assert_int_equal(h_db_count("users", filter), 1);
}

/* ---- 9. a registrant's name cannot carry a message ---- */

static void test_name_cannot_carry_a_message(void **state)
{
	static const char *const names[] = {
		"Claim your prize at evil.example",
		"http://evil.example/login",
		"write to boss@evil.example",
		"Ann \\u202egnp.exe",
		"Ann \\ud83d\\udcb0",
	};
	char email[128], body[512], token[2048], id[32];
	struct h_resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		h_unique_email("phish", email, sizeof(email));
		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"%s\"}",
			 email, H_PW, names[i]);
		r = h_post("/api/v1/auth/register", body);
		h_assert_problem_field(&r, 400, "name");
		h_resp_free(&r);
		snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
		assert_int_equal(h_db_count("users", body), 0);
	}
	/* and the profile cannot be renamed into one either */
	h_user_register("customer", token, sizeof(token), id, sizeof(id));
	r = h_authed("PATCH", "/api/v1/me", token, "{\"name\":\"see evil.example\"}");
	h_assert_problem_field(&r, 400, "name");
	h_resp_free(&r);
	r = h_authed("PATCH", "/api/v1/me", token, "{\"name\":\"Zo\\u00eb O'Brien-Smith\"}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

/* ---- 10. forgot and resend do the same work for every address ---- */

static void test_forgot_resend_same_work(void **state)
{
	char email[128], ghost[128], body[256], filter[256], code[7], id[25];
	const char *paths[] = { "/api/v1/auth/password/forgot", "/api/v1/auth/verify-email/resend" };
	double t0, t_known = 0, t_ghost = 0;
	struct h_resp r;

	(void)state;
	for (int p = 0; p < 2; p++) {
		h_unique_email("eqk", email, sizeof(email));
		h_unique_email("eqg", ghost, sizeof(ghost));
		register_only(email);
		h_mail_code(email, "verification code", code);
		user_id_of(email, id);
		cooldowns_over(email, id);
		snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
		h_auth_pace();
		t0 = h_now_s();
		r = h_request("POST", paths[p], body, strlen(body), json_ct);
		t_known += h_now_s() - t0;
		assert_int_equal(r.status, 202);
		h_resp_free(&r);
		snprintf(body, sizeof(body), "{\"email\":\"%s\"}", ghost);
		h_auth_pace();
		t0 = h_now_s();
		r = h_request("POST", paths[p], body, strlen(body), json_ct);
		t_ghost += h_now_s() - t0;
		assert_int_equal(r.status, 202);
		h_resp_free(&r);
		/* the request did the same for both: one job each, decided later */
		snprintf(filter, sizeof(filter), "{\"payload.to\":\"%s\"}", ghost);
		assert_int_equal(h_db_count("jobs", filter), 1);
		snprintf(filter, sizeof(filter), "{\"payload.to\":\"%s\",\"payload.purpose\":"
			 "{\"$in\":[\"reset\",\"verify\"]},\"payload.template\":{\"$ne\":null}}",
			 email);
		assert_int_equal(h_db_count("jobs", filter), 2);
		/* and only the real account gets a mail */
		jobs_settle(ghost);
		mail_expect(ghost, NULL, false);
		mail_expect(email, p == 0 ? "reset code" : "verification code", true);
	}
	fprintf(stderr, "  forgot+resend: known %.1f ms, unknown %.1f ms\n", t_known * 500,
		t_ghost * 500);
}

/* ---- 11. access tokens end with the session ---- */

static void test_access_token_dies_with_session(void **state)
{
	char email[128], access[2048], rt[128], body[512], code[7];
	struct h_resp r;

	(void)state;
	h_account_new("tv", email, sizeof(email));
	/* logout */
	assert_int_equal(h_login(email, H_PW, access, sizeof(access), rt, sizeof(rt)), 200);
	r = h_authed("GET", "/api/v1/me", access, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
	r = h_post("/api/v1/auth/logout", body);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	h_expect_invalid_token(access);
	/* password reset */
	assert_int_equal(h_login(email, H_PW, access, sizeof(access), NULL, 0), 200);
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	r = h_post("/api/v1/auth/password/forgot", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	h_mail_code(email, "reset code", code);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\",\"password\":\"%s\"}", email,
		 code, H_PW2);
	r = h_post("/api/v1/auth/password/reset", body);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	h_expect_invalid_token(access);
	/* a new sign-in works */
	assert_int_equal(h_login(email, H_PW2, access, sizeof(access), NULL, 0), 200);
	r = h_authed("GET", "/api/v1/me", access, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

/* ---- 14. the plain code never lands in the jobs collection ---- */

static void test_code_not_stored_in_jobs(void **state)
{
	char email[128], code[7], filter[256], *doc;

	(void)state;
	h_unique_email("nocode", email, sizeof(email));
	register_only(email);
	h_mail_code(email, "verification code", code);
	jobs_settle(email);
	snprintf(filter, sizeof(filter), "{\"payload.to\":\"%s\"}", email);
	assert_int_equal(h_db_count("jobs", filter), 1);
	doc = h_db_find_json("jobs", filter);
	assert_non_null(doc);
	if (strstr(doc, code))
		fail_msg("the job keeps the code: %s", doc);
	free(doc);
	snprintf(filter, sizeof(filter), "{\"payload.vars.code\":{\"$exists\":true},"
		 "\"payload.to\":\"%s\"}", email);
	assert_int_equal(h_db_count("jobs", filter), 0);
}

/* ---- 20. the user and its mail commit together ---- */

static void test_register_is_one_transaction(void **state)
{
	char email[128], body[512], filter[256];
	struct h_resp r;

	(void)state;
	h_unique_email("txn", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Txn\"}",
		 email, H_PW);
	/* the mail job's write fails once, for good (not a transient error);
	 * only emporium-fcgi's writes, so the job worker cannot take it */
	failpoint("{\"configureFailPoint\":\"failCommand\",\"mode\":{\"times\":1},\"data\":"
		  "{\"failCommands\":[\"update\"],\"errorCode\":2,"
		  "\"appName\":\"emporium-fcgi\"}}");
	r = h_post("/api/v1/auth/register", body);
	failpoint("{\"configureFailPoint\":\"failCommand\",\"mode\":\"off\"}");
	assert_true(r.status >= 500);
	h_resp_free(&r);
	/* no user without its verification mail */
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
	snprintf(filter, sizeof(filter), "{\"payload.to\":\"%s\"}", email);
	assert_int_equal(h_db_count("jobs", filter), 0);
	/* and a retry registers normally */
	r = h_post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	mail_expect(email, "verification code", true);
}

static int setup(void **state)
{
	(void)state;
	h_source_set(src_main);
	return h_stack_pool(h_race_workers()) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return h_stack_pool(0) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unverified_account_gets_no_session, src_rotate),
		cmocka_unit_test_setup(test_refresh_family_absolute_lifetime, src_rotate),
		cmocka_unit_test_setup(test_code_guesses_in_parallel_bounded, src_rotate),
		cmocka_unit_test_setup(test_code_budget_survives_reissue, src_rotate),
		cmocka_unit_test_setup(test_code_checks_throttled_per_address, src_rotate),
		cmocka_unit_test_setup(test_mail_cooldown_per_recipient, src_rotate),
		cmocka_unit_test_setup(test_cookie_refresh_keeps_token_out_of_body, src_rotate),
		cmocka_unit_test_setup(test_lockout_race_bounded, src_rotate),
		cmocka_unit_test_setup(test_admin_cannot_demote_self_by_case, src_rotate),
		cmocka_unit_test_setup(test_name_cannot_carry_a_message, src_rotate),
		cmocka_unit_test_setup(test_forgot_resend_same_work, src_rotate),
		cmocka_unit_test_setup(test_access_token_dies_with_session, src_rotate),
		cmocka_unit_test_setup(test_code_not_stored_in_jobs, src_rotate),
		cmocka_unit_test_setup(test_register_is_one_transaction, src_rotate),
	};
	int rc;

	h_init();
	if (sodium_init() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, setup, teardown);
	h_cleanup();
	return rc;
}
