/*
 * Integration tests for OpenID Connect sign-in, split from test_oauth.c:
 * HTTPS -> nginx -> emporium-fcgi -> the database, against a real OpenID
 * Connect provider that the suite starts itself (see harness_oauth.h):
 * the authorize redirect with PKCE, account creation and linking, the
 * unverified-email rules and the redirect after sign-in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness_oauth.h"

static void test_unknown_provider(void **state)
{
	struct h_resp r;

	(void)state;
	r = ho_auth_req("/api/v1/auth/oauth/nope/authorize", NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = ho_auth_req("/api/v1/auth/oauth/nope/callback?code=a&state=b", NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* names are matched exactly, never case-folded into another one */
	r = ho_auth_req("/api/v1/auth/oauth/TEST/authorize", NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
}

static void test_authorize_redirects_with_pkce(void **state)
{
	struct h_resp r;
	char loc[4096], v[512], hash[65], filter[1024], redirect[1024], expect[600];

	(void)state;
	r = ho_auth_req("/api/v1/auth/oauth/test/authorize", NULL);
	assert_int_equal(r.status, 302);
	assert_true(h_header(&r, "location", loc, sizeof(loc)));
	h_resp_free(&r);
	snprintf(expect, sizeof(expect), "%s/auth?", HO_TEST_IDP->issuer);
	assert_true(strncmp(loc, expect, strlen(expect)) == 0);
	assert_true(ho_url_param(loc, "response_type", v, sizeof(v)));
	assert_string_equal(v, "code");
	assert_true(ho_url_param(loc, "client_id", v, sizeof(v)));
	assert_string_equal(v, "emporium-test");
	assert_true(ho_url_param(loc, "code_challenge_method", v, sizeof(v)));
	assert_string_equal(v, "S256");
	assert_true(ho_url_param(loc, "code_challenge", v, sizeof(v)));
	assert_int_equal(strlen(v), 43);
	assert_true(ho_url_param(loc, "scope", v, sizeof(v)));
	assert_non_null(strstr(v, "openid"));
	assert_true(ho_url_param(loc, "redirect_uri", redirect, sizeof(redirect)));
	snprintf(expect, sizeof(expect), "%s/api/v1/auth/oauth/test/callback", ho_public_url);
	assert_string_equal(redirect, expect);
	assert_true(ho_url_param(loc, "nonce", v, sizeof(v)));
	assert_true(strlen(v) >= 43);
	assert_true(ho_url_param(loc, "state", v, sizeof(v)));
	assert_true(strlen(v) >= 43);
	/* stored server-side by hash only, unused, for this provider */
	ho_sha256_hex(v, hash);
	snprintf(filter, sizeof(filter),
		 "{\"state_hash\": \"%s\", \"provider\": \"test\", \"used\": false, "
		 "\"code_verifier\": {\"$type\": \"string\"}}", hash);
	assert_int_equal(h_db_count("oauth_states", filter), 1);
	snprintf(filter, sizeof(filter), "{\"state_hash\": \"%s\"}", v);
	assert_int_equal(h_db_count("oauth_states", filter), 0);
}

static void test_callback_needs_code_and_state(void **state)
{
	struct h_resp r;

	(void)state;
	r = ho_auth_req("/api/v1/auth/oauth/test/callback?state=abc", NULL);
	ho_assert_problem_field(&r, 400, "code");
	h_resp_free(&r);
	r = ho_auth_req("/api/v1/auth/oauth/test/callback?code=abc", NULL);
	ho_assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
	/* the provider reporting a refusal is not a login */
	r = ho_auth_req("/api/v1/auth/oauth/test/callback?error=access_denied&state=abc", NULL);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
}

static void test_login_creates_verified_account(void **state)
{
	char email[128], sub[64], id[25], filter[512], bearer[2048];
	struct ho_login l;
	struct h_resp r, me;
	json_object *o, *v;
	const char *hdrs[2];

	(void)state;
	ho_fresh_email("new", email, sizeof(email));
	ho_browse(HO_TEST_IDP, NULL, email, true, &l);
	r = ho_callback(l.callback);
	if (r.status != 200)
		fail_msg("callback: %ld %s", r.status, r.body);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "access_token", &v));
	ho_token_sub(json_object_get_string(v), sub, sizeof(sub));
	/* the account: verified customer, no password, linked to the identity */
	ho_db_user_id(email, id);
	assert_string_equal(sub, id);
	snprintf(filter, sizeof(filter),
		 "{\"email\": \"%s\", \"email_verified\": true, \"role\": \"customer\", "
		 "\"password_hash\": null, \"disabled\": false, "
		 "\"oauth\": {\"$elemMatch\": {\"provider\": \"test\", "
		 "\"subject\": {\"$type\": \"string\"}}}}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* the state is spent */
	snprintf(filter, sizeof(filter), "{\"provider\": \"test\", \"used\": true}");
	assert_true(h_db_count("oauth_states", filter) >= 1);
	/* and the token works on the API */
	hdrs[0] = h_bearer(json_object_get_string(v), bearer, sizeof(bearer));
	hdrs[1] = NULL;
	me = h_request("GET", "/api/v1/me", NULL, 0, hdrs);
	if (me.status != 404) { /* /me belongs to the accounts module */
		assert_int_equal(me.status, 200);
		assert_non_null(strstr(me.body, email));
	}
	h_resp_free(&me);
	json_object_put(o);
	h_resp_free(&r);
}

static void test_second_login_same_account(void **state)
{
	char email[128], sub1[64], sub2[64], filter[512];

	(void)state;
	ho_fresh_email("again", email, sizeof(email));
	ho_login_ok(HO_TEST_IDP, email, sub1, sizeof(sub1));
	ho_login_ok(HO_TEST_IDP, email, sub2, sizeof(sub2));
	assert_string_equal(sub1, sub2);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* one link, not two */
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\", \"oauth.1\": {\"$exists\": true}}",
		 email);
	assert_int_equal(h_db_count("users", filter), 0);
}

static void test_links_existing_password_account(void **state)
{
	char email[128], sub[64], id[25], filter[600];

	(void)state;
	ho_fresh_email("pw", email, sizeof(email));
	ho_db_user_insert(email, true, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
	ho_db_user_id(email, id);
	ho_login_ok(HO_TEST_IDP, email, sub, sizeof(sub));
	assert_string_equal(sub, id);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* linked; the verified owner keeps the password */
	snprintf(filter, sizeof(filter),
		 "{\"email\": \"%s\", \"oauth.provider\": \"test\", "
		 "\"password_hash\": {\"$type\": \"string\"}}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* the same person through a second provider (client_secret_post): same account */
	ho_login_ok(HO_ALT_IDP, email, sub, sizeof(sub));
	assert_string_equal(sub, id);
	snprintf(filter, sizeof(filter),
		 "{\"email\": \"%s\", \"oauth.provider\": {\"$all\": [\"test\", \"alt\"]}}", email);
	assert_int_equal(h_db_count("users", filter), 1);
}

static void test_unverified_account_loses_password(void **state)
{
	char email[128], sub[64], id[25], filter[600];

	(void)state;
	/* someone registered the address without confirming it */
	ho_fresh_email("squat", email, sizeof(email));
	ho_db_user_insert(email, false, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
	ho_db_user_id(email, id);
	/* ... and holds sessions from then (two live refresh tokens) */
	for (int i = 0; i < 2; i++) {
		char doc[600];

		snprintf(doc, sizeof(doc),
			 "{\"user_id\": {\"$oid\": \"%s\"}, \"hash\": \"squatter-%s-%d\", "
			 "\"family_id\": \"squat-family-%s-%d\", \"revoked_at\": null, "
			 "\"rotated_at\": null, \"created_at\": {\"$date\": 1790000000000}, "
			 "\"family_created_at\": {\"$date\": 1790000000000}, "
			 "\"expires_at\": {\"$date\": 4102444800000}}", id, id, i, id, i);
		h_db_insert_json("refresh_tokens", doc);
	}
	snprintf(filter, sizeof(filter),
		 "{\"user_id\": {\"$oid\": \"%s\"}, \"revoked_at\": null}", id);
	assert_int_equal(h_db_count("refresh_tokens", filter), 2);
	ho_login_ok(HO_TEST_IDP, email, sub, sizeof(sub));
	assert_string_equal(sub, id);
	snprintf(filter, sizeof(filter),
		 "{\"email\": \"%s\", \"email_verified\": true, \"password_hash\": null, "
		 "\"oauth.provider\": \"test\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	/* the squatter's sessions are gone; only the owner's new one lives */
	snprintf(filter, sizeof(filter),
		 "{\"user_id\": {\"$oid\": \"%s\"}, \"revoked_at\": null}", id);
	assert_int_equal(h_db_count("refresh_tokens", filter), 1);
	snprintf(filter, sizeof(filter),
		 "{\"user_id\": {\"$oid\": \"%s\"}, \"hash\": {\"$regex\": \"^squatter-\"}, "
		 "\"revoked_at\": null}", id);
	assert_int_equal(h_db_count("refresh_tokens", filter), 0);
}

/* A staff or admin account is never linked by e-mail: whoever controls the
 * address at a provider must not get the back office. */
static void test_staff_account_not_linked_by_email(void **state)
{
	char email[128], filter[600], id[25];
	struct ho_login l;
	struct h_resp r;

	(void)state;
	ho_fresh_email("staff", email, sizeof(email));
	ho_db_user_insert(email, true, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	h_db_update("users", filter, "{\"$set\": {\"role\": \"staff\"}}");
	ho_browse(HO_TEST_IDP, NULL, email, true, &l);
	r = ho_callback(l.callback);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\", \"oauth\": {\"$exists\": true}}",
		 email);
	assert_int_equal(h_db_count("users", filter), 0);
	ho_db_user_id(email, id);
	snprintf(filter, sizeof(filter), "{\"user_id\": {\"$oid\": \"%s\"}}", id);
	assert_int_equal(h_db_count("refresh_tokens", filter), 0);
}

static void test_unverified_email_refused(void **state)
{
	char email[128], filter[300];
	struct ho_login l;
	struct h_resp r;

	(void)state;
	ho_fresh_email("unverified", email, sizeof(email));
	ho_browse(HO_TEST_IDP, NULL, email, false, &l);
	r = ho_callback(l.callback);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
}

static void test_redirect_after(void **state)
{
	char email[128], loc[1024], expect[700], cookie[1024];
	struct ho_login l;
	struct h_resp r;

	(void)state;
	r = ho_auth_req("/api/v1/auth/oauth/test/authorize?redirect_after=%2F%2Fevil.test%2F", NULL);
	ho_assert_problem_field(&r, 400, "redirect_after");
	h_resp_free(&r);
	r = ho_auth_req("/api/v1/auth/oauth/test/authorize?redirect_after=https%3A%2F%2Fevil.test",
		     NULL);
	ho_assert_problem_field(&r, 400, "redirect_after");
	h_resp_free(&r);
	ho_fresh_email("landing", email, sizeof(email));
	ho_browse(HO_TEST_IDP, "?redirect_after=%2Faccount%3Ftab%3Dorders", email, true, &l);
	r = ho_callback(l.callback);
	assert_int_equal(r.status, 302);
	assert_true(h_header(&r, "location", loc, sizeof(loc)));
	snprintf(expect, sizeof(expect), "%s/account?tab=orders", ho_public_url);
	assert_string_equal(loc, expect);
	assert_true(h_header(&r, "set-cookie", cookie, sizeof(cookie)));
	assert_null(strstr(r.body, "access_token"));
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_provider),
		cmocka_unit_test(test_authorize_redirects_with_pkce),
		cmocka_unit_test(test_callback_needs_code_and_state),
		cmocka_unit_test(test_login_creates_verified_account),
		cmocka_unit_test(test_second_login_same_account),
		cmocka_unit_test(test_links_existing_password_account),
		cmocka_unit_test(test_unverified_account_loses_password),
		cmocka_unit_test(test_staff_account_not_linked_by_email),
		cmocka_unit_test(test_unverified_email_refused),
		cmocka_unit_test(test_redirect_after),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, ho_setup, ho_teardown);
	h_cleanup();
	return rc;
}
