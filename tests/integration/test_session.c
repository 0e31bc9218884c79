/*
 * Integration tests for sessions, split from the old test_accounts.c:
 * login, its uniform errors and timing, access-token checks, refresh
 * rotation and reuse detection, cookie + CSRF refresh and logout, and the
 * brute-force and per-address throttles. HTTPS -> nginx -> emporium-fcgi
 * -> database; accounts come from the real register -> mail -> verify flow.
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

static const char *const json_ct[] = { "Content-Type: application/json", NULL };

static mongoc_client_t *db_client(mongoc_collection_t **coll, const char *name)
{
	mongoc_client_t *c = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	const char *db = getenv("STACK_DB_NAME") ? getenv("STACK_DB_NAME") : "emporium";

	assert_non_null(c);
	*coll = mongoc_client_get_collection(c, db, name);
	return c;
}

static void test_login_injection_refused(void **state)
{
	struct h_resp r;

	(void)state;
	r = h_post("/api/v1/auth/login", "{\"email\":{\"$ne\":null},\"password\":{\"$ne\":null}}");
	h_assert_problem(&r, 400);
	assert_null(strstr(r.body, "access_token"));
	h_resp_free(&r);
	r = h_post("/api/v1/auth/login", "{\"email\":\"x@example.test\",\"password\":[\"a\"]}");
	h_assert_problem_field(&r, 400, "password");
	h_resp_free(&r);
	r = h_post("/api/v1/auth/login", "{\"email\":true,\"password\":\"" H_PW "\"}");
	h_assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
}

/* Unknown address and wrong password: same status, body, and similar time. */
static void test_login_same_error(void **state)
{
	char email[128], body[512], d1[512], d2[512];
	struct h_resp r1, r2;
	double t0, t_unknown = 0, t_wrong = 0;

	(void)state;
	h_account_new("same", email, sizeof(email));
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"email\":\"ghost-%d@example.test\",\"password\":\"%s\"}",
			 i, H_PW2);
		h_auth_pace();
		t0 = h_now_s();
		r1 = h_request("POST", "/api/v1/auth/login", body, strlen(body), json_ct);
		t_unknown += h_now_s() - t0;
		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW2);
		h_auth_pace();
		t0 = h_now_s();
		r2 = h_request("POST", "/api/v1/auth/login", body, strlen(body), json_ct);
		t_wrong += h_now_s() - t0;
		h_assert_problem(&r1, 401);
		h_assert_problem(&r2, 401);
		assert_string_equal(h_jstr(&r1, "detail", d1, sizeof(d1)), h_jstr(&r2, "detail", d2, sizeof(d2)));
		h_resp_free(&r1);
		h_resp_free(&r2);
	}
	/* both spend an argon2id verification: neither is much faster */
	if (t_unknown < t_wrong * 0.5 || t_wrong < t_unknown * 0.5)
		fail_msg("timing differs: unknown %.1f ms, wrong password %.1f ms",
			 t_unknown * 1000 / 3, t_wrong * 1000 / 3);
	h_db_delete("rate_limits", "{\"_id\":{\"$regex\":\"^login-\"}}");
}

static void test_refresh_rotation_and_reuse(void **state)
{
	char email[128], a1[2048], rt1[128], rt2[128], rt3[128], a2[2048];
	struct h_resp r;

	(void)state;
	h_account_new("rot", email, sizeof(email));
	assert_int_equal(h_login(email, H_PW, a1, sizeof(a1), rt1, sizeof(rt1)), 200);
	r = h_refresh_body(rt1);
	assert_int_equal(r.status, 200);
	h_jstr(&r, "refresh_token", rt2, sizeof(rt2));
	h_jstr(&r, "access_token", a2, sizeof(a2));
	h_resp_free(&r);
	assert_string_not_equal(rt1, rt2);
	r = h_authed("GET", "/api/v1/me", a2, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* rotate once more, then replay the first (rotated) token */
	r = h_refresh_body(rt2);
	assert_int_equal(r.status, 200);
	h_jstr(&r, "refresh_token", rt3, sizeof(rt3));
	h_resp_free(&r);
	r = h_refresh_body(rt1);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	/* the reuse revoked the whole family: the newest token is dead too */
	r = h_refresh_body(rt3);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	/* garbage and missing tokens */
	r = h_refresh_body("not-a-token-at-all-but-long-enough");
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = h_post("/api/v1/auth/refresh", NULL);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = h_post("/api/v1/auth/refresh", "{\"refresh_token\":{\"$ne\":null}}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
}

static void test_refresh_cookie_csrf(void **state)
{
	char email[128], body[512], rt[128], csrf[128], cookie[512], hdr[256], rt2[128];
	struct h_resp r;

	(void)state;
	h_account_new("csrf", email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW);
	r = h_post("/api/v1/auth/login", body);
	assert_int_equal(r.status, 200);
	h_jstr(&r, "refresh_token", rt, sizeof(rt));
	h_jstr(&r, "csrf_token", csrf, sizeof(csrf));
	h_resp_free(&r);
	snprintf(cookie, sizeof(cookie), "Cookie: __Host-emporium_rt=%s; __Host-emporium_csrf=%s",
		 rt, csrf);
	{
		const char *no_csrf[] = { cookie, NULL };

		r = h_req_json("POST", "/api/v1/auth/refresh", NULL, no_csrf);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
	{
		const char *bad[] = { cookie, "X-CSRF-Token: 0000000000000000000000000000000000000000"
					      "000000000000000000000000", NULL };

		r = h_req_json("POST", "/api/v1/auth/refresh", NULL, bad);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
	snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s", csrf);
	{
		const char *good[] = { cookie, hdr, NULL };

		r = h_req_json("POST", "/api/v1/auth/refresh", NULL, good);
		assert_int_equal(r.status, 200);
		/* a cookie client gets its new token in the cookie only */
		assert_null(strstr(r.body, "refresh_token"));
		{
			const char *c = strstr(r.headers, "__Host-emporium_rt=");
			size_t n;

			assert_non_null(c);
			c += strlen("__Host-emporium_rt=");
			n = strcspn(c, ";\r\n");
			assert_in_range(n, 20, sizeof(rt2) - 1);
			memcpy(rt2, c, n);
			rt2[n] = '\0';
		}
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
		r = h_req_json("POST", "/api/v1/auth/logout", NULL, lo);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
	}
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt2);
	r = h_post("/api/v1/auth/logout", body);
	assert_int_equal(r.status, 204);
	assert_non_null(strstr(r.headers, "Max-Age=0"));
	h_resp_free(&r);
	r = h_refresh_body(rt2);
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
	r = h_authed("GET", "/api/v1/me", token, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* expired (past the leeway) */
	t = mint(uid, "customer", now - 2000, now - 1000, aud, secret);
	h_expect_invalid_token(t);
	free(t);
	/* not yet valid: issued in the future */
	t = mint(uid, "customer", now + 600, now + 1500, aud, secret);
	h_expect_invalid_token(t);
	free(t);
	/* wrong signature */
	t = mint(uid, "customer", now, now + 900, aud,
		 "another-secret-of-at-least-32-bytes-long!!");
	h_expect_invalid_token(t);
	free(t);
	/* wrong audience */
	t = mint(uid, "customer", now, now + 900, "someone-else", secret);
	h_expect_invalid_token(t);
	free(t);
	/* a role the account does not have */
	t = mint(uid, "admin", now, now + 900, aud, secret);
	h_expect_invalid_token(t);
	free(t);
	/* alg none: the valid token's claims with no signature */
	{
		const char *dot = strchr(token, '.');
		const char *hdr = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; /* {"alg":"none","typ":"JWT"} */
		const char *dot2 = strchr(dot + 1, '.');

		snprintf(none, sizeof(none), "%s.%.*s.", hdr, (int)(dot2 - dot - 1), dot + 1);
		h_expect_invalid_token(none);
	}
	/* garbage */
	h_expect_invalid_token("garbage");
	h_expect_invalid_token("a.b.c");
}

static void test_brute_force_lock(void **state)
{
	char email[128], v[32];
	struct h_resp r;
	char body[512];

	(void)state;
	h_account_new("brute", email, sizeof(email));
	for (int i = 0; i < 10; i++)
		assert_int_equal(h_login(email, "Wrong-Password-123", NULL, 0, NULL, 0), 401);
	/* locked: even the right password gets 429 with Retry-After */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW);
	r = h_post("/api/v1/auth/login", body);
	h_assert_problem(&r, 429);
	assert_true(h_header(&r, "retry-after", v, sizeof(v)));
	assert_true(atoi(v) > 60 && atoi(v) <= 900);
	assert_null(strstr(r.body, "access_token"));
	h_resp_free(&r);
	/* an unknown address locks the same way (a lock reveals nothing) */
	for (int i = 0; i < 10; i++)
		assert_int_equal(h_login("ghost-brute@example.test", H_PW, NULL, 0, NULL, 0), 401);
	assert_int_equal(h_login("ghost-brute@example.test", H_PW, NULL, 0, NULL, 0), 429);
	/* the per-address counter saw all 20 failures */
	assert_int_equal(h_db_count("rate_limits", "{\"_id\":\"login-ip|127.0.0.1\","
				    "\"count\":{\"$gte\":20}}"), 1);
	h_db_delete("rate_limits", "{\"_id\":{\"$regex\":\"^login-\"}}");
	assert_int_equal(h_login(email, H_PW, NULL, 0, NULL, 0), 200);
}

static void test_ip_throttle(void **state)
{
	char email[128], v[32];
	struct h_resp r;
	char body[512];

	(void)state;
	h_account_new("ipthr", email, sizeof(email));
	/* the address has used up its failures (set in the database: making
	 * 50 real ones would take nginx's pace) */
	h_db_delete("rate_limits", "{\"_id\":\"login-ip|127.0.0.1\"}");
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
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW);
	r = h_post("/api/v1/auth/login", body);
	h_assert_problem(&r, 429);
	assert_true(h_header(&r, "retry-after", v, sizeof(v)));
	assert_true(atoi(v) > 60 && atoi(v) <= 120);
	h_resp_free(&r);
	h_db_delete("rate_limits", "{\"_id\":\"login-ip|127.0.0.1\"}");
	assert_int_equal(h_login(email, H_PW, NULL, 0, NULL, 0), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_injection_refused),
		cmocka_unit_test(test_login_same_error),
		cmocka_unit_test(test_refresh_rotation_and_reuse),
		cmocka_unit_test(test_refresh_cookie_csrf),
		cmocka_unit_test(test_bad_access_tokens),
		cmocka_unit_test(test_brute_force_lock),
		cmocka_unit_test(test_ip_throttle),
	};
	int rc;

	h_init();
	if (sodium_init() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
