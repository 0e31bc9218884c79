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

/*
 * Login CSRF: an attacker starts a login, stops before the callback and
 * sends the victim the callback URL. The victim's browser has no login
 * cookie, or its own: refused, and the state is not spent, so the
 * attacker's own browser is the only one that can finish.
 */
static void test_callback_from_another_browser_refused(void **state)
{
	char email[128], filter[300];
	struct ho_login attacker, victim;
	struct h_resp r;

	(void)state;
	ho_fresh_email("csrf", email, sizeof(email));
	ho_browse(HO_TEST_IDP, NULL, email, true, &attacker);
	r = ho_callback_cookie(attacker.callback, NULL);
	ho_assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
	ho_browse(HO_TEST_IDP, NULL, "victim@example.test", true, &victim);
	r = ho_callback_cookie(attacker.callback, victim.cookie);
	ho_assert_problem_field(&r, 400, "state");
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
	/* the browser that started it still can */
	r = ho_callback_cookie(attacker.callback, attacker.cookie);
	if (r.status != 200)
		fail_msg("the starting browser's callback: %ld %s", r.status, r.body);
	h_resp_free(&r);
	assert_int_equal(h_db_count("users", filter), 1);
}

/* ---- one state, N callbacks at once ---- */

enum { RACE_N = 50 };

struct callback_race {
	char path[4096];
	long status[RACE_N];
	const char *hdrs[2];     /* the browser's login cookie */
};

static void callback_one(int i, void *arg)
{
	struct callback_race *a = arg;
	struct h_resp r;

	/* an address per thread: nginx limits /api/v1/auth/ per address */
	h_source_set(130 + i);
	r = h_request("GET", a->path, NULL, 0, a->hdrs);
	a->status[i] = r.status;
	h_resp_free(&r);
}

/*
 * The state is consumed once (a findAndModify in oauth_routes.c): of N
 * callbacks carrying the same state and code at once, one signs in, the
 * others are refused at the state, and the account and its session
 * exist once. Runs on the larger
 * race pool (h_race_workers()) so the callbacks meet in the application.
 */
static void test_same_state_at_once(void **state)
{
	static struct callback_race a;
	char email[128], filter[300], uid[25], extra[4200];
	struct ho_login l;
	int ok = 0, refused = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(extra, sizeof(extra), "%s\nEMPORIUM_WORKERS=%d\n", ho_env_extra, h_race_workers());
	assert_true(h_stack_reconfigure(extra));
	ho_fresh_email("race", email, sizeof(email));
	ho_browse(HO_TEST_IDP, NULL, email, true, &l);
	snprintf(a.path, sizeof(a.path), "%s", l.callback);
	a.hdrs[0] = l.cookie;
	h_parallel(RACE_N, callback_one, &a);
	assert_true(h_stack_reconfigure(ho_env_extra));
	for (int i = 0; i < RACE_N; i++) {
		ok += a.status[i] == 200;
		refused += a.status[i] == 400;
	}
	fprintf(stderr, "  callback race: %d signed in, %d refused for the state\n", ok, refused);
	/* the losers are refused at the state (400), before any code
	 * exchange: the provider's own single-use code must not be what
	 * saves the day */
	assert_int_equal(ok, 1);
	assert_int_equal(refused, RACE_N - 1);
	snprintf(filter, sizeof(filter), "{\"email\": \"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	ho_db_user_id(email, uid);
	snprintf(filter, sizeof(filter), "{\"user_id\": {\"$oid\": \"%s\"}}", uid);
	assert_int_equal(h_db_count("refresh_tokens", filter), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_state_refused),
		cmocka_unit_test(test_reused_state_refused),
		cmocka_unit_test(test_wrong_nonce_refused),
		cmocka_unit_test(test_swapped_code_refused),
		cmocka_unit_test(test_callback_from_another_browser_refused),
		cmocka_unit_test(test_same_state_at_once),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, ho_setup, ho_teardown);
	h_cleanup();
	return rc;
}
