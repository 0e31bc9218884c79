/*
 * Integration tests for OpenID Connect sign-in under attack, split from
 * test_oauth.c: a forged or reused state, a wrong nonce and a swapped
 * code are refused (see harness_oauth.h for the providers' setup).
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

static void test_forged_state_refused(void **state)
{
	char email[128], path[4096], forged[64], filter[300];
	struct ho_login l;
	struct h_resp r;

	(void)state;
	ho_fresh_email("forged", email, sizeof(email));
	ho_browse(HO_TEST_IDP, NULL, email, true, &l);
	ho_random_hex(forged, 16);
	snprintf(path, sizeof(path), "/api/v1/auth/oauth/test/callback?code=%s&state=%s", l.code,
		 forged);
	r = ho_callback(path);
	ho_assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
	/* a real state of another provider is no better */
	snprintf(path, sizeof(path), "/api/v1/auth/oauth/alt/callback?code=%s&state=%s", l.code,
		 l.state);
	r = ho_callback(path);
	ho_assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
	/* the genuine callback still works: nothing above consumed it */
	r = ho_callback(l.callback);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

static void test_reused_state_refused(void **state)
{
	char email[128];
	struct ho_login l;
	struct h_resp r;

	(void)state;
	ho_fresh_email("replay", email, sizeof(email));
	ho_browse(HO_TEST_IDP, NULL, email, true, &l);
	r = ho_callback(l.callback);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	r = ho_callback(l.callback);
	ho_assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
}

static void test_wrong_nonce_refused(void **state)
{
	char email[128], filter[300];
	struct ho_login l;
	struct h_resp r;

	(void)state;
	ho_fresh_email("nonce", email, sizeof(email));
	ho_browse(HO_TEST_IDP, NULL, email, true, &l);
	ho_db_state_set_nonce(l.state, "tampered-nonce-0000000000000000000000000000000");
	r = ho_callback(l.callback);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
}

static void test_swapped_code_refused(void **state)
{
	char email[128], path[4096], filter[300];
	struct ho_login a, b;
	struct h_resp r;

	(void)state;
	/* a code redeemed under another login's state: PKCE (and the nonce) say no */
	ho_fresh_email("swap", email, sizeof(email));
	ho_browse(HO_TEST_IDP, NULL, email, true, &a);
	ho_browse(HO_TEST_IDP, NULL, email, true, &b);
	snprintf(path, sizeof(path), "/api/v1/auth/oauth/test/callback?code=%s&state=%s", a.code,
		 b.state);
	r = ho_callback(path);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_state_refused),
		cmocka_unit_test(test_reused_state_refused),
		cmocka_unit_test(test_wrong_nonce_refused),
		cmocka_unit_test(test_swapped_code_refused),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, ho_setup, ho_teardown);
	h_cleanup();
	return rc;
}
