/*
 * Integration tests for the signed-in user's own data split
 * from test_accounts.c: /me (no mass assignment) and the address book
 * (validation, defaults, another user's address is a 404, the bound).
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

static void test_me_mass_assignment(void **state)
{
	char token[2048], uid[32], filter[256];
	struct h_resp r;
	json_object *o, *x;

	(void)state;
	h_user_token("customer", token, sizeof(token), uid, sizeof(uid));
	r = h_authed("PATCH", "/api/v1/me", token, "{\"role\":\"admin\"}");
	h_assert_problem_field(&r, 400, "role");
	h_resp_free(&r);
	r = h_authed("PATCH", "/api/v1/me", token, "{\"name\":\"Ok\",\"email_verified\":false}");
	h_assert_problem_field(&r, 400, "email_verified");
	h_resp_free(&r);
	r = h_authed("PATCH", "/api/v1/me", token, "{\"email\":\"x@example.test\"}");
	h_assert_problem_field(&r, 400, "email");
	h_resp_free(&r);
	r = h_authed("PATCH", "/api/v1/me", token, "{\"name\":{\"$set\":\"x\"}}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = h_authed("PATCH", "/api/v1/me", token, "{\"phone\":\"call me\"}");
	h_assert_problem_field(&r, 400, "phone");
	h_resp_free(&r);
	r = h_authed("PATCH", "/api/v1/me", token,
		     "{\"name\":null,\"phone\":\"call me\",\"role\":\"admin\"}");
	/* name is not nullable: null is a value of the wrong type (docs/api: absent, null, "") */
	h_assert_problem_errors(&r, 400, "role:unknown_field name:invalid_type phone:invalid_format");
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"},\"role\":\"customer\","
		 "\"name\":\"Test User\",\"email_verified\":true}", uid);
	assert_int_equal(h_db_count("users", filter), 1);
	r = h_authed("PATCH", "/api/v1/me", token, "{\"name\":\"Renamed\",\"phone\":\"+880 1711-000000\"}");
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

static const char *ADDR =
	"{\"name\":\"Home\",\"line1\":\"House 1, Road 2\",\"city\":\"Dhaka\","
	"\"postal_code\":\"1207\",\"country\":\"BD\",\"phone\":\"+8801711000000\"}";

static void test_addresses(void **state)
{
	char t1[2048], u1[32], t2[2048], u2[32], id1[32], id2[32], path[128], filter[256];
	struct h_resp r;
	json_object *o, *x;

	(void)state;
	/* two customers through the real sign-up (register, mail, verify, login) */
	h_user_register("customer", t1, sizeof(t1), u1, sizeof(u1));
	h_user_register("customer", t2, sizeof(t2), u2, sizeof(u2));
	/* validation */
	r = h_authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"line1\":\"x\",\"city\":\"D\",\"postal_code\":\"1\","
		   "\"country\":\"XX\"}");
	h_assert_problem_field(&r, 400, "country");
	h_resp_free(&r);
	r = h_authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"city\":\"D\",\"postal_code\":\"1\",\"country\":\"BD\"}");
	h_assert_problem_field(&r, 400, "line1");
	h_resp_free(&r);
	r = h_authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"line1\":\"x\",\"city\":\"D\",\"postal_code\":\"1\","
		   "\"country\":\"BD\",\"user_id\":\"000000000000000000000000\"}");
	h_assert_problem_field(&r, 400, "user_id");
	h_resp_free(&r);
	r = h_authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"line1\":\"x\",\"city\":\"D\",\"postal_code\":\"1\","
		   "\"country\":\"BD\",\"default_shipping\":\"yes\"}");
	h_assert_problem_field(&r, 400, "default_shipping");
	h_resp_free(&r);
	/* every fault of one body at once, each with its code */
	r = h_authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"H\",\"city\":null,\"postal_code\":\"1$\",\"country\":\"bd\","
		   "\"phone\":7,\"default_billing\":1,\"user_id\":\"x\"}");
	h_assert_problem_errors(&r, 400,
				"user_id:unknown_field line1:required city:required "
				"postal_code:invalid_format country:invalid_format phone:invalid_type "
				"default_billing:invalid_type");
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"}}", u1);
	assert_int_equal(h_db_count("addresses", filter), 0);

	/* the first address is the default for both */
	r = h_authed("POST", "/api/v1/me/addresses", t1, ADDR);
	assert_int_equal(r.status, 201);
	h_jstr(&r, "id", id1, sizeof(id1));
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "default_shipping", &x));
	assert_true(json_object_get_boolean(x));
	json_object_put(o);
	h_resp_free(&r);
	/* a second one takes the shipping default */
	r = h_authed("POST", "/api/v1/me/addresses", t1,
		   "{\"name\":\"Office\",\"line1\":\"Level 5\",\"city\":\"Dhaka\","
		   "\"postal_code\":\"1212\",\"country\":\"BD\",\"default_shipping\":true}");
	assert_int_equal(r.status, 201);
	h_jstr(&r, "id", id2, sizeof(id2));
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"},\"default_shipping\":false,"
		 "\"default_billing\":true}", id1);
	assert_int_equal(h_db_count("addresses", filter), 1);
	r = h_authed("GET", "/api/v1/me/addresses", t1, NULL);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "items", &x));
	assert_int_equal(json_object_array_length(x), 2);
	json_object_put(o);
	h_resp_free(&r);
	/* oldest first by when they were written, not by ObjectId (which
	 * orders only to the second across worker processes): two entries
	 * whose ids sort the other way round */
	{
		static const char *const names[] = { "Zeta", "Home", "Office", "Alpha" };
		char doc[512];

		snprintf(doc, sizeof doc, "{\"_id\":{\"$oid\":\"ffffffffffffffffffffff01\"},"
			 "\"user_id\":{\"$oid\":\"%s\"},\"name\":\"Zeta\",\"line1\":\"x\","
			 "\"city\":\"D\",\"postal_code\":\"1\",\"country\":\"BD\","
			 "\"default_shipping\":false,\"default_billing\":false,"
			 "\"created_at\":{\"$date\":\"2020-01-01T00:00:00Z\"}}", u1);
		h_db_insert_json("addresses", doc);
		snprintf(doc, sizeof doc, "{\"_id\":{\"$oid\":\"000000000000000000000001\"},"
			 "\"user_id\":{\"$oid\":\"%s\"},\"name\":\"Alpha\",\"line1\":\"x\","
			 "\"city\":\"D\",\"postal_code\":\"1\",\"country\":\"BD\","
			 "\"default_shipping\":false,\"default_billing\":false,"
			 "\"created_at\":{\"$date\":\"2099-01-01T00:00:00Z\"}}", u1);
		h_db_insert_json("addresses", doc);
		r = h_authed("GET", "/api/v1/me/addresses", t1, NULL);
		assert_int_equal(r.status, 200);
		o = h_json(&r);
		assert_true(json_object_object_get_ex(o, "items", &x));
		assert_int_equal(json_object_array_length(x), 4);
		for (size_t i = 0; i < 4; i++) {
			json_object *n;

			assert_true(json_object_object_get_ex(json_object_array_get_idx(x, i), "name",
							      &n));
			assert_string_equal(json_object_get_string(n), names[i]);
		}
		json_object_put(o);
		h_resp_free(&r);
		h_db_delete("addresses", "{\"_id\":{\"$in\":[{\"$oid\":\"ffffffffffffffffffffff01\"},"
			    "{\"$oid\":\"000000000000000000000001\"}]}}");
	}

	/* update: a field, and null removes an optional one */
	snprintf(path, sizeof(path), "/api/v1/me/addresses/%s", id1);
	r = h_authed("PATCH", path, t1, "{\"city\":\"Chattogram\",\"phone\":null}");
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "city", &x));
	assert_string_equal(json_object_get_string(x), "Chattogram");
	assert_true(json_object_object_get_ex(o, "phone", &x));
	assert_null(x);
	json_object_put(o);
	h_resp_free(&r);
	r = h_authed("PATCH", path, t1, "{\"city\":null}");
	h_assert_problem_errors(&r, 400, "city:invalid_type");
	h_resp_free(&r);

	/* another customer: 404 on every verb, nothing changes */
	r = h_authed("GET", path, t2, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = h_authed("PATCH", path, t2, "{\"city\":\"Stolen\"}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = h_authed("DELETE", path, t2, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = h_authed("GET", "/api/v1/me/addresses", t2, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"items\":[]"));
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"_id\":{\"$oid\":\"%s\"},\"city\":\"Chattogram\"}", id1);
	assert_int_equal(h_db_count("addresses", filter), 1);
	r = h_authed("GET", "/api/v1/me/addresses/not-an-id", t1, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* the book is never paged: limit is refused, not silently ignored */
	r = h_authed("GET", "/api/v1/me/addresses?limit=1", t1, NULL);
	h_assert_problem_field(&r, 400, "limit");
	h_resp_free(&r);

	/* delete */
	r = h_authed("DELETE", path, t1, NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	r = h_authed("GET", path, t1, NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);

	/* the bound: 20 per account */
	for (int i = 0; i < 19; i++) {
		r = h_authed("POST", "/api/v1/me/addresses", t1, ADDR);
		assert_int_equal(r.status, 201);
		h_resp_free(&r);
	}
	r = h_authed("POST", "/api/v1/me/addresses", t1, ADDR);
	h_assert_problem(&r, 409);
	h_resp_free(&r);
	snprintf(filter, sizeof(filter), "{\"user_id\":{\"$oid\":\"%s\"}}", u1);
	assert_int_equal(h_db_count("addresses", filter), 20);
	(void)id2;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_me_mass_assignment),
		cmocka_unit_test(test_addresses),
	};
	int rc;

	h_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
