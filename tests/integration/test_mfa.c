/*
 * The second factor for staff and admin accounts, through
 * nginx -> emporium-fcgi -> database: enrolment in two steps, the sign-in
 * that then asks for a TOTP code (RFC 6238, SHA-256, computed here from
 * the secret the server showed), replay refused, recovery codes single
 * use, and EMPORIUM_ADMIN_MFA=required holding an admin without one at
 * customer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

/* RFC 4648 base32 (no padding) -> bytes; the length. */
static size_t b32_decode(const char *in, unsigned char *out, size_t size)
{
	uint32_t buf = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in; in++) {
		const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *p = strchr(alpha, *in);

		assert_non_null(p);
		buf = (buf << 5) | (uint32_t)(p - alpha);
		bits += 5;
		if (bits >= 8) {
			assert_true(n < size);
			out[n++] = (unsigned char)(buf >> (bits - 8));
			bits -= 8;
		}
	}
	return n;
}

/* The test's own RFC 6238 (HMAC-SHA-256, 30 s, 6 digits). */
static void totp_at(const unsigned char *key, size_t len, int64_t t, char out[7])
{
	crypto_auth_hmacsha256_state st;
	unsigned char msg[8], mac[32];
	uint64_t step = (uint64_t)(t / 30);
	uint32_t bin;
	int off;

	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (unsigned char)(step & 0xff);
	crypto_auth_hmacsha256_init(&st, key, len);
	crypto_auth_hmacsha256_update(&st, msg, 8);
	crypto_auth_hmacsha256_final(&st, mac);
	off = mac[31] & 15;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
	snprintf(out, 7, "%06u", (unsigned)(bin % 1000000));
}

/* The e-mail address of the account with id. */
static void email_of(const char *id, char *email, size_t size)
{
	char filter[128], *doc, *p, *q;

	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"}}", id);
	doc = h_db_find_json("users", filter);
	assert_non_null(doc);
	p = strstr(doc, "\"email\"");
	assert_non_null(p);
	p = strchr(p + 7, '"');
	assert_non_null(p);
	q = strchr(p + 1, '"');
	assert_non_null(q);
	snprintf(email, size, "%.*s", (int)(q - p - 1), p + 1);
	free(doc);
}

/*
 * GET /api/v1/me/mfa/totp (where the enrolment's Location points) answers
 * the factor's state: enabled, pending, and enrolled_at set once enabled.
 */
static void expect_factor(const char *token, bool enabled, bool pending)
{
	struct h_resp r = h_authed("GET", "/api/v1/me/mfa/totp", token, NULL);
	json_object *o, *v;

	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "enabled", &v));
	assert_int_equal(json_object_get_boolean(v), enabled);
	assert_true(json_object_object_get_ex(o, "pending", &v));
	assert_int_equal(json_object_get_boolean(v), pending);
	assert_true(json_object_object_get_ex(o, "enrolled_at", &v));
	assert_int_equal(v != NULL, enabled);
	assert_null(strstr(r.body, "secret")); /* never the secret again */
	json_object_put(o);
	h_resp_free(&r);
}

/* Enrols token's account; fills the secret and the first recovery code. */
static void enrol(const char *token, unsigned char *key, size_t *klen, char *recovery,
		  size_t rsize)
{
	char secret[128], uri[512], code[7];
	struct h_resp r;
	json_object *o, *list;

	expect_factor(token, false, false);
	r = h_authed("POST", "/api/v1/me/mfa/totp", token, NULL);
	assert_int_equal(r.status, 201);
	h_jstr(&r, "secret", secret, sizeof(secret));
	h_jstr(&r, "otpauth_uri", uri, sizeof(uri));
	{
		/* 201 names what it made: the factor, pending */
		char loc[128];

		assert_true(h_header(&r, "Location", loc, sizeof(loc)));
		assert_string_equal(loc, "/api/v1/me/mfa/totp");
	}
	h_resp_free(&r);
	expect_factor(token, false, true);
	assert_non_null(strstr(uri, "otpauth://totp/Emporium:"));
	assert_non_null(strstr(uri, "algorithm=SHA256"));
	assert_non_null(strstr(uri, secret));
	*klen = b32_decode(secret, key, 64);
	assert_int_equal(*klen, 32);
	/* the secret is stored sealed, never as shown */
	assert_int_equal(h_db_count("users", "{\"mfa.pending_box\":{\"$exists\":true}}") >= 1, 1);
	{
		char filter[512];

		snprintf(filter, sizeof(filter), "{\"$or\":[{\"mfa.pending_box\":\"%s\"},"
			 "{\"mfa.secret_box\":\"%s\"}]}", secret, secret);
		assert_int_equal(h_db_count("users", filter), 0);
	}
	/* every fault of a confirm at once, and nothing turned on */
	r = h_authed("POST", "/api/v1/me/mfa/totp/confirm", token,
		     "{\"code\":123456,\"enabled\":true}");
	h_assert_problem_errors(&r, 400, "enabled:unknown_field code:invalid_type");
	h_resp_free(&r);
	expect_factor(token, false, true);
	/* a wrong code does not turn it on */
	totp_at(key, *klen, (int64_t)time(NULL) + 300, code);
	r = h_authed("POST", "/api/v1/me/mfa/totp/confirm", token, "{\"code\":\"000000\"}");
	if (strcmp(code, "000000") != 0)
		h_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	totp_at(key, *klen, (int64_t)time(NULL), code);
	{
		char body[64];

		snprintf(body, sizeof(body), "{\"code\":\"%s\"}", code);
		r = h_authed("POST", "/api/v1/me/mfa/totp/confirm", token, body);
	}
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "recovery_codes", &list));
	assert_int_equal(json_object_array_length(list), 10);
	snprintf(recovery, rsize, "%s", json_object_get_string(json_object_array_get_idx(list, 0)));
	json_object_put(o);
	h_resp_free(&r);
	/* the session that enrolled ends: every session now has the factor */
	h_expect_invalid_token(token);
}

static long login_mfa(const char *email, const char *field, const char *value, char *access,
		      size_t asize)
{
	char body[512];
	struct h_resp r;
	long status;

	if (field)
		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"%s\":\"%s\"}",
			 email, H_PW, field, value);
	else
		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW);
	r = h_post("/api/v1/auth/login", body);
	status = r.status;
	if (status == 401)
		h_assert_problem_field(&r, 401, "totp");
	if (access && status == 200)
		h_jstr(&r, "access_token", access, asize);
	h_resp_free(&r);
	return status;
}

static void test_staff_totp(void **state)
{
	char token[2048], id[32], email[128], recovery[32], code[7], access[2048];
	unsigned char key[64];
	size_t klen;
	struct h_resp r;
	long st;

	(void)state;
	h_user_register("staff", token, sizeof(token), id, sizeof(id));
	email_of(id, email, sizeof(email));
	enrol(token, key, &klen, recovery, sizeof(recovery));
	/* the password alone no longer signs in */
	assert_int_equal(login_mfa(email, NULL, NULL, NULL, 0), 401);
	/* null is not "no code" (docs/api: null clears only what is nullable) */
	{
		char body[512];

		snprintf(body, sizeof(body),
			 "{\"email\":\"%s\",\"password\":\"%s\",\"totp\":null,"
			 "\"recovery_code\":null}", email, H_PW);
		r = h_post("/api/v1/auth/login", body);
		h_assert_problem_errors(&r, 400, "totp:invalid_type recovery_code:invalid_type");
		h_resp_free(&r);
	}
	assert_int_equal(login_mfa(email, "totp", "123456", NULL, 0) == 200, 0);
	/* the code of now does, once: the same code again is a replay. (If
	 * the step turns between the two, the old code is still inside the
	 * window and still refused, being no later than the used step.) */
	totp_at(key, klen, (int64_t)time(NULL), code);
	st = login_mfa(email, "totp", code, access, sizeof(access));
	if (st == 401) { /* the enrolment used this very step: wait for the next */
		h_sleep_ms(1000L * (30 - (long)(time(NULL) % 30)) + 200);
		totp_at(key, klen, (int64_t)time(NULL), code);
		st = login_mfa(email, "totp", code, access, sizeof(access));
	}
	assert_int_equal(st, 200);
	r = h_authed("GET", "/api/v1/me", access, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	expect_factor(access, true, false);
	assert_int_equal(login_mfa(email, "totp", code, NULL, 0), 401);
	/* a recovery code works once, in capitals too */
	for (char *p = recovery; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	assert_int_equal(login_mfa(email, "recovery_code", recovery, NULL, 0), 200);
	assert_int_equal(login_mfa(email, "recovery_code", recovery, NULL, 0), 401);
	/* enrolling again while it is on: 409 */
	r = h_authed("POST", "/api/v1/me/mfa/totp", access, NULL);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
}

static void test_customer_cannot_enrol(void **state)
{
	char token[2048], id[32];
	struct h_resp r;

	(void)state;
	h_user_register("customer", token, sizeof(token), id, sizeof(id));
	r = h_authed("POST", "/api/v1/me/mfa/totp", token, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = h_authed("GET", "/api/v1/me/mfa/totp", token, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = h_req_json("POST", "/api/v1/me/mfa/totp", NULL, NULL);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
}

static void test_admin_mfa_required(void **state)
{
	char token[2048], id[32], email[128], recovery[32], code[7], access[2048];
	unsigned char key[64];
	size_t klen;
	struct h_resp r;
	long st;

	(void)state;
	h_user_register("admin", token, sizeof(token), id, sizeof(id));
	email_of(id, email, sizeof(email));
	assert_true(h_stack_reconfigure("EMPORIUM_ADMIN_MFA=required"));
	/* an admin without a second factor is held at customer ... */
	r = h_authed("GET", "/api/v1/admin/users?limit=1", token, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = h_authed("GET", "/api/v1/me", token, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* ... which is enough to enrol one, and then it is an admin again */
	enrol(token, key, &klen, recovery, sizeof(recovery));
	h_sleep_ms(1000L * (30 - (long)(time(NULL) % 30)) + 200); /* a step after the enrolment's */
	totp_at(key, klen, (int64_t)time(NULL), code);
	st = login_mfa(email, "totp", code, access, sizeof(access));
	assert_int_equal(st, 200);
	r = h_authed("GET", "/api/v1/admin/users?limit=1", access, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

/* The stack's own configuration back, whatever the test did. */
static int config_restore(void **state)
{
	(void)state;
	return h_stack_reconfigure(NULL) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_staff_totp),
		cmocka_unit_test(test_customer_cannot_enrol),
		cmocka_unit_test_teardown(test_admin_mfa_required, config_restore),
	};
	int rc;

	h_init();
	if (sodium_init() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
