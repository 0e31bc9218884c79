/*
 * Integration tests for user administration, split from
 * test_accounts.c: the admin users API (roles, pagination, search, role
 * changes and disabling take effect at once) and emporium-admin
 * create-admin.
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
		r = h_authed(routes[i][0], path, tc, routes[i][2]);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
		r = h_authed(routes[i][0], path, ts, routes[i][2]);
		h_assert_problem(&r, 403);
		h_resp_free(&r);
		r = h_req_json(routes[i][0], path, routes[i][2], NULL);
		h_assert_problem(&r, 401);
		h_resp_free(&r);
	}
	snprintf(path, sizeof(path), "{\"_id\":{\"$oid\":\"%s\"},\"role\":\"customer\"}", uc);
	assert_int_equal(h_db_count("users", path), 1);

	/* list with pagination and a prefix search */
	r = h_authed("GET", "/api/v1/admin/users?limit=1", ta, NULL);
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
	r = h_authed("GET", url, ta, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(url, sizeof(url), "/api/v1/admin/users?email=STAFF-%.10s", us);
	r = h_authed("GET", url, ta, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "items", &x));
	assert_int_equal(json_object_array_length(x), 1);
	json_object_put(o);
	h_resp_free(&r);
	/* regex metacharacters are just characters */
	r = h_authed("GET", "/api/v1/admin/users?email=.*", ta, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"items\":[]"));
	h_resp_free(&r);
	r = h_authed("GET", "/api/v1/admin/users?limit=500", ta, NULL);
	h_assert_problem_field(&r, 400, "limit");
	h_resp_free(&r);
	r = h_authed("GET", "/api/v1/admin/users?cursor=zzz", ta, NULL);
	h_assert_problem_field(&r, 400, "cursor");
	h_resp_free(&r);
	/* a misspelt filter would otherwise list everyone */
	r = h_authed("GET", "/api/v1/admin/users?emial=x%40example.com", ta, NULL);
	h_assert_problem_field(&r, 400, "emial");
	h_resp_free(&r);
	r = h_authed("GET", "/api/v1/admin/users?limit=1&limit=2", ta, NULL);
	h_assert_problem_field(&r, 400, "limit");
	h_resp_free(&r);

	/* role change: the customer's old token stops working at once */
	snprintf(path, sizeof(path), "/api/v1/admin/users/%s", uc);
	r = h_authed("PATCH", path, ta, "{\"role\":\"superuser\"}");
	h_assert_problem_field(&r, 400, "role");
	h_resp_free(&r);
	r = h_authed("PATCH", path, ta, "{\"role\":\"superuser\",\"disabled\":\"no\",\"email\":\"x\"}");
	h_assert_problem_errors(&r, 400, "email:unknown_field role:invalid_value disabled:invalid_type");
	h_resp_free(&r);
	r = h_authed("PATCH", path, ta, "{\"email_verified\":false}");
	h_assert_problem_field(&r, 400, "email_verified");
	h_resp_free(&r);
	r = h_authed("PATCH", path, ta, "{\"role\":\"staff\"}");
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"role\":\"staff\""));
	h_resp_free(&r);
	h_expect_invalid_token(tc);
	/* an admin cannot demote or disable themselves */
	snprintf(path, sizeof(path), "/api/v1/admin/users/%s", ua);
	r = h_authed("PATCH", path, ta, "{\"disabled\":true}");
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	r = h_authed("PATCH", "/api/v1/admin/users/0123456789abcdef01234567", ta, "{\"disabled\":true}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);

	/* disabling: sign-in, refresh and access tokens all stop */
	h_account_new("dis", email, sizeof(email));
	assert_int_equal(h_login(email, H_PW, access, sizeof(access), rt, sizeof(rt)), 200);
	r = h_authed("GET", "/api/v1/me", access, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "id", &x));
	snprintf(path, sizeof(path), "/api/v1/admin/users/%s", json_object_get_string(x));
	json_object_put(o);
	h_resp_free(&r);
	r = h_authed("PATCH", path, ta, "{\"disabled\":true}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	h_expect_invalid_token(access);
	r = h_refresh_body(rt);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	/* told it is disabled after the right password, and only then */
	{
		char body[512];

		h_auth_pace();
		snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", email, H_PW);
		r = h_post("/api/v1/auth/login", body);
		h_assert_problem(&r, 403);
		assert_non_null(strstr(r.body, "disabled"));
		assert_null(strstr(r.headers, "set-cookie"));
		h_resp_free(&r);
		h_auth_pace();
		snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s-wrong\"}",
			 email, H_PW);
		r = h_post("/api/v1/auth/login", body);
		h_assert_problem(&r, 401);
		assert_null(strstr(r.body, "disabled"));
		h_resp_free(&r);
	}
	r = h_authed("PATCH", path, ta, "{\"disabled\":false}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	h_db_delete("rate_limits", "{\"_id\":{\"$regex\":\"^login-\"}}");
	assert_int_equal(h_login(email, H_PW, NULL, 0, NULL, 0), 200);
}

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
	h_unique_email("boss", email, sizeof(email));
	/* a weak password is refused */
	assert_int_not_equal(run_create_admin(email, "password1234"), 0);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 0);
	assert_int_equal(run_create_admin(email, H_PW), 0);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\",\"role\":\"admin\",\"email_verified\":true}",
		 email);
	assert_int_equal(h_db_count("users", filter), 1);
	assert_int_equal(h_login(email, H_PW, access, sizeof(access), NULL, 0), 200);
	r = h_authed("GET", "/api/v1/admin/users?limit=1", access, NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* re-running resets the password and keeps one account */
	assert_int_equal(run_create_admin(email, H_PW2), 0);
	snprintf(filter, sizeof(filter), "{\"email\":\"%s\"}", email);
	assert_int_equal(h_db_count("users", filter), 1);
	assert_int_equal(h_login(email, H_PW2, NULL, 0, NULL, 0), 200);
	assert_int_equal(h_login(email, H_PW, NULL, 0, NULL, 0), 401);
	h_db_delete("rate_limits", "{\"_id\":{\"$regex\":\"^login-\"}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_roles),
		cmocka_unit_test(test_create_admin_cmd),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
