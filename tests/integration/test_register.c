/*
 * Integration tests for accounts, split from the old test_accounts.c:
 * registration, e-mail verification with a mailed one-time code, its
 * attempt limit and resend cooldown, and the password reset by code.
 * Everything goes HTTPS -> nginx -> emporium-fcgi -> database, and the
 * one-time codes are read from the mail the SMTP catcher really received
 * (sent by emporium-worker from the jobs outbox).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static const char *const json_ct[] = { "Content-Type: application/json", NULL };

/*
 * The job the request made for `to` (an address without an account)
 * finishes, and no mail goes out: the worker, not the request, found
 * there is no account.
 */
static void no_mail_to(const char *to)
{
	char filter[256], *mail;

	snprintf(filter, sizeof(filter), "{\"payload.to\":\"%s\",\"status\":\"done\"}", to);
	for (int i = 0; i < 100 && h_db_count("jobs", filter) < 1; i++)
		h_sleep_ms(100);
	assert_true(h_db_count("jobs", filter) >= 1);
	mail = h_mail_wait(to, NULL, 1000);
	if (mail)
		fail_msg("a mail to an address without an account: %s", mail);
}

static void test_register_verify_login(void **state)
{
	char email[128], upper[160], body[512], code[7], access[2048], v[1024], filter[256];
	char rt[128] = "";
	struct h_resp r;
	json_object *o, *x;

	(void)state;
	h_unique_email("reg", email, sizeof(email));
	/* sent with spaces and capitals: stored normalised */
	snprintf(upper, sizeof(upper), "  %s ", email);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z' && p[1] != '@')
			*p = (char)(*p - 32);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Ann\"}",
		 upper, H_PW);
	r = h_post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"email_verified\":false,"
		 "\"role\":\"customer\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* the password is stored as argon2id, never in clear */
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"password_hash\":{\"$regex\":"
		 "\"^\\\\$argon2id\\\\$v=19\\\\$m=19456,t=2\"}}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	h_mail_code(email, "verification code", code);

	/* unverified: no session (anyone can register any address, so the
	 * password alone proves nothing: account pre-hijacking) */
	assert_int_equal(h_login(email, H_PW, access, sizeof(access), NULL, 0), 403);

	/* a wrong code, then the right one, then the right one again */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%06d\"}", email,
		 (atoi(code) + 1) % 1000000);
	r = h_post("/api/v1/auth/verify-email", body);
	h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
	r = h_post("/api/v1/auth/verify-email", body);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"email_verified\":true}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	r = h_post("/api/v1/auth/verify-email", body);
	h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	/* verified: signs in, shows as verified */
	assert_int_equal(h_login(email, H_PW, access, sizeof(access), NULL, 0), 200);
	r = h_authed("GET", "/api/v1/me", access, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "email_verified", &x));
	assert_true(json_object_get_boolean(x));
	assert_true(json_object_object_get_ex(o, "email", &x));
	assert_string_equal(json_object_get_string(x), email);
	assert_false(json_object_object_get_ex(o, "password_hash", &x));
	json_object_put(o);
	h_resp_free(&r);

	/* login: body and cookies */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW);
	r = h_post("/api/v1/auth/login", body);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "token_type", &x));
	assert_string_equal(json_object_get_string(x), "Bearer");
	assert_true(json_object_object_get_ex(o, "expires_in", &x));
	assert_int_equal(json_object_get_int(x), 900);
	assert_true(json_object_object_get_ex(o, "refresh_token", &x));
	assert_int_equal(strlen(json_object_get_string(x)), 43); /* 32 bytes, base64url */
	snprintf(rt, sizeof(rt), "%s", json_object_get_string(x));
	assert_true(json_object_object_get_ex(o, "access_token", &x));
	assert_true(json_object_object_get_ex(o, "csrf_token", &x));
	json_object_put(o);
	assert_true(h_header(&r, "set-cookie", v, sizeof(v)));
	assert_non_null(strstr(r.headers, "__Host-emporium_rt="));
	assert_non_null(strstr(r.headers, "Path=/; Secure; HttpOnly; SameSite=Strict"));
	assert_non_null(strstr(r.headers, "__Host-emporium_csrf="));
	h_resp_free(&r);
	/* the refresh token and the password are stored hashed only: their
	 * plain values appear nowhere in the whole database (every
	 * collection dumped), while the search does find the account */
	{
		int colls = 0;
		char uid[25];

		assert_int_equal(h_db_dump_count(rt, &colls), 0);
		assert_int_equal(h_db_dump_count(H_PW, NULL), 0);
		assert_true(h_db_dump_count(email, NULL) >= 1);
		assert_true(colls >= 3);
		h_db_user_id(email, uid);
		snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"}}", uid);
		assert_true(h_db_count("refresh_tokens", filter) >= 1);
	}
}

static void test_register_existing_account(void **state)
{
	char email[128], fresh[128], body[512], filter[256], jobs[256];
	struct h_resp r1, r2;
	char *mail;

	(void)state;
	h_account_new("dup", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Other\"}",
		 email, H_PW2);
	r2 = h_post("/api/v1/auth/register", body);
	h_unique_email("fresh", fresh, sizeof(fresh)); /* a never-seen address, to compare */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"Other\"}",
		 fresh, H_PW2);
	r1 = h_post("/api/v1/auth/register", body);
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
	assert_int_equal(h_login(email, H_PW, NULL, 0, NULL, 0), 200);
	assert_int_equal(h_login(email, H_PW2, NULL, 0, NULL, 0), 401);
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
		{ "{\"email\":{\"$ne\":null},\"password\":\"" H_PW "\",\"name\":\"x\"}", "$ne" },
		{ "{\"email\":\"a@b.test\",\"password\":{\"$gt\":\"\"},\"name\":\"x\"}", "$gt" },
		{ "{\"email\":42,\"password\":\"" H_PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":[\"a@b.test\"],\"password\":\"" H_PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":12345678901234,\"name\":\"x\"}",
		  "password" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"" H_PW "\",\"name\":{\"a\":1}}",
		  "name" },
		{ "{\"password\":\"" H_PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":\"bad-inp@example.test\",\"name\":\"x\"}", "password" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"" H_PW "\"}", "name" },
		{ "{\"email\":\"not-an-email\",\"password\":\"" H_PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":\"a@@b.test\",\"password\":\"" H_PW "\",\"name\":\"x\"}", "email" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"short-pw\",\"name\":\"x\"}",
		  "password" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"Password1234\",\"name\":\"x\"}",
		  "password" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"" H_PW "\",\"name\":\"x\","
		  "\"role\":\"admin\"}", "role" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"" H_PW "\",\"name\":\"x\","
		  "\"email_verified\":true}", "email_verified" },
		{ "{\"email\":\"bad-inp@example.test\",\"password\":\"ab\\u0000cdefghijklmnop\","
		  "\"name\":\"x\"}", "password" },
	};
	char longname[400], body[700];
	struct h_resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = h_post("/api/v1/auth/register", cases[i].body);
		h_assert_problem_field(&r, 400, cases[i].field);
		h_resp_free(&r);
	}
	/* over-long fields */
	memset(longname, 'n', 300);
	longname[300] = '\0';
	snprintf(body, sizeof(body), "{\"email\":\"bad-inp@example.test\",\"password\":\"%s\","
		 "\"name\":\"%s\"}", H_PW, longname);
	r = h_post("/api/v1/auth/register", body);
	h_assert_problem_field(&r, 400, "name");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s@example.test\",\"password\":\"%s\","
		 "\"name\":\"x\"}", longname, H_PW);
	r = h_post("/api/v1/auth/register", body);
	h_assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
	/* invalid UTF-8 */
	r = h_post("/api/v1/auth/register",
		 "{\"email\":\"bad-inp@example.test\",\"password\":\"" H_PW "\",\"name\":\"\xff\xfe\"}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	/* query-string style operators go nowhere: the body is what counts */
	h_auth_pace();
	r = h_request("POST", "/api/v1/auth/login?email[$ne]=&password[$ne]=", "{}", 2, json_ct);
	h_assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
	h_auth_pace();
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

/* Every fault of a body in one answer, each with a code a client can
 * program against; the problem's type is a page nginx serves. */
static void test_register_all_errors(void **state)
{
	struct h_resp r, page;
	char type[64];

	(void)state;
	r = h_post("/api/v1/auth/register",
		   "{\"email\":\"not-an-email\",\"password\":\"short\",\"name\":\"\","
		   "\"role\":\"admin\",\"extra\":1}");
	h_assert_problem_errors(&r, 400,
				"role:unknown_field extra:unknown_field email:invalid_format "
				"password:too_short name:too_short");
	h_jstr(&r, "type", type, sizeof type);
	assert_string_equal(type, "/problems/validation");
	page = h_get(type);
	assert_int_equal(page.status, 200);
	assert_non_null(strstr(page.body, "<code>/problems/validation</code>"));
	assert_non_null(strstr(page.body, "<code>unknown_field</code>"));
	h_resp_free(&page);
	h_resp_free(&r);
	/* a body that is not an object is one error, not a list of missing fields */
	r = h_post("/api/v1/auth/register", "[1]");
	h_assert_problem(&r, 400);
	assert_null(strstr(r.body, "\"errors\""));
	h_resp_free(&r);
	assert_int_equal(h_db_count("users", "{\"email\":\"not-an-email\"}"), 0);
}

static void test_verify_attempt_limit(void **state)
{
	char email[128], body[512], code[7];
	struct h_resp r;

	(void)state;
	h_unique_email("att", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"A\"}", email,
		 H_PW);
	r = h_post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	h_mail_code(email, "verification code", code);
	for (int i = 1; i <= 5; i++) {
		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%06d\"}", email,
			 (atoi(code) + i) % 1000000);
		r = h_post("/api/v1/auth/verify-email", body);
		h_assert_problem_field(&r, 400, "code");
		h_resp_free(&r);
	}
	/* five misses: even the right code is refused now */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code);
	r = h_post("/api/v1/auth/verify-email", body);
	h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	/* an unknown address gets the same answer */
	r = h_post("/api/v1/auth/verify-email",
		 "{\"email\":\"nobody-here@example.test\",\"code\":\"123456\"}");
	h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
}

static void test_resend_cooldown(void **state)
{
	char email[128], body[512], jobs[256], code1[7], code2[7], cooldown[256];
	struct h_resp r;

	(void)state;
	h_unique_email("resend", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"R\"}", email,
		 H_PW);
	r = h_post("/api/v1/auth/register", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	h_mail_code(email, "verification code", code1);
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	r = h_post("/api/v1/auth/verify-email/resend", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	snprintf(jobs, sizeof(jobs), "{\"payload.to\":\"%s\",\"payload.template\":\"verify_email\"}",
		 email);
	/* within the cooldown: no second mail */
	assert_int_equal(h_db_count("jobs", jobs), 1);
	/* the recipient's cooldown (one verification mail a minute) */
	snprintf(cooldown, sizeof(cooldown), "{\"_id\":\"mail-to|verify|%s\"}", email);
	/* after it (moved back in the database): a new code, the old one dead.
	 * Two random codes are equal once in a million: resend until they
	 * differ, so the old code's refusal is always checked. */
	for (int tries = 0; tries < 5; tries++) {
		h_db_update("email_codes", "{\"purpose\":\"verify\"}",
			    "{\"$set\":{\"last_sent_at\":{\"$date\":\"2000-01-01T00:00:00Z\"}}}");
		h_db_delete("rate_limits", cooldown);
		r = h_post("/api/v1/auth/verify-email/resend", body);
		assert_int_equal(r.status, 202);
		h_resp_free(&r);
		h_mail_code(email, "verification code", code2);
		if (strcmp(code1, code2) != 0)
			break;
	}
	assert_string_not_equal(code1, code2);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code1);
	r = h_post("/api/v1/auth/verify-email", body);
	h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email, code2);
	r = h_post("/api/v1/auth/verify-email", body);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* unknown address: the same 202 and the same work (a job), no mail */
	r = h_post("/api/v1/auth/verify-email/resend", "{\"email\":\"ghost-rs@example.test\"}");
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	no_mail_to("ghost-rs@example.test");
}

static void test_password_reset(void **state)
{
	char email[128], body[512], code[7], rt[128];
	struct h_resp r;

	(void)state;
	h_account_new("reset", email, sizeof(email));
	assert_int_equal(h_login(email, H_PW, NULL, 0, rt, sizeof(rt)), 200);
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	r = h_post("/api/v1/auth/password/forgot", body);
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	h_mail_code(email, "reset code", code);
	/* policy first: a weak password does not use up the code */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\",\"password\":\"123456789012\"}",
		 email, code);
	r = h_post("/api/v1/auth/password/reset", body);
	h_assert_problem_field(&r, 400, "password");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%06d\",\"password\":\"%s\"}",
		 email, (atoi(code) + 1) % 1000000, H_PW2);
	r = h_post("/api/v1/auth/password/reset", body);
	h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\",\"password\":\"%s\"}", email,
		 code, H_PW2);
	r = h_post("/api/v1/auth/password/reset", body);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	/* single use */
	r = h_post("/api/v1/auth/password/reset", body);
	h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	/* every session is gone, the old password too */
	r = h_refresh_body(rt);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	assert_int_equal(h_login(email, H_PW, NULL, 0, NULL, 0), 401);
	assert_int_equal(h_login(email, H_PW2, NULL, 0, NULL, 0), 200);
	/* unknown address: the same 202 and the same work (a job), no mail */
	r = h_post("/api/v1/auth/password/forgot", "{\"email\":\"ghost-pw@example.test\"}");
	assert_int_equal(r.status, 202);
	h_resp_free(&r);
	no_mail_to("ghost-pw@example.test");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_verify_login),
		cmocka_unit_test(test_register_existing_account),
		cmocka_unit_test(test_register_bad_input),
		cmocka_unit_test(test_register_all_errors),
		cmocka_unit_test(test_verify_attempt_limit),
		cmocka_unit_test(test_resend_cooldown),
		cmocka_unit_test(test_password_reset),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
