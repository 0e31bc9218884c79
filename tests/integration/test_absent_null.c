/*
 * Integration tests for the one rule on absent, null and empty fields of
 * every JSON body (docs/api/_root.yaml, "Request bodies"): absent = the
 * default (create) or unchanged (PATCH); null clears only a field
 * documented nullable and is a 400 invalid_type on any other (required
 * where the request needs the field); "" is a value, never "absent".
 *
 * One request per handler whose optional, non-nullable fields used to
 * read null as "absent" (the accessors em_json_get_string/int64 did),
 * each with every such field at once, and a check that nothing changed;
 * and the nullable fields beside them, which null still clears. Through
 * the real stack (HTTPS -> nginx -> emporium-fcgi -> database).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "harness_catalog.h"

#define FAKE_ID "0123456789abcdef01234567"

/* The ETag of a staff GET of path (the test fails without one). */
static void etag_of(const char *path, char *etag, size_t size)
{
	struct h_resp r = hc_staff("GET", path, NULL, NULL);

	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "ETag", etag, size));
	h_resp_free(&r);
}

/* A request as staff with If-Match: etag (NULL: none). */
static struct h_resp staff_if(const char *method, const char *path, const char *body,
			      const char *etag)
{
	char hdr[128];

	if (!etag)
		return hc_staff(method, path, body, NULL);
	snprintf(hdr, sizeof hdr, "If-Match: %s", etag);
	return hc_staff(method, path, body, hdr);
}

/* PATCH /api/v1/admin/products/{id}: description and brand are strings ("" allowed),
 * category is nullable */
static void test_product_patch(void **state)
{
	char slug[96], id[25], cat[25], path[96], etag[96], after[96];
	struct h_resp r;
	json_object *j;

	(void)state;
	snprintf(slug, sizeof slug, "nulls-cat-%s", hc_tag);
	hc_make_category(slug, NULL, 1, cat);
	snprintf(slug, sizeof slug, "nulls-p-%s", hc_tag);
	hc_make_product(slug, "Nulls", "a description", hc_tag, cat,
			"[{\"sku\": \"N1\", \"options\": {\"size\": \"M\"}, \"price\": 100, \"stock\": 1}]",
			"draft", id);
	snprintf(path, sizeof path, "/api/v1/admin/products/%s", id);
	etag_of(path, etag, sizeof etag);
	r = staff_if("PATCH", path, "{\"description\": null, \"brand\": null, \"status\": null}", etag);
	h_assert_problem_errors(&r, 400,
				"description:invalid_type brand:invalid_type status:invalid_type");
	h_resp_free(&r);
	etag_of(path, after, sizeof after);
	assert_string_equal(after, etag); /* nothing changed */
	/* "" is a value: stored as given, not read as "leave it" */
	r = staff_if("PATCH", path, "{\"brand\": \"\"}", etag);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_string_equal(hc_jstr(j, "brand"), "");
	assert_string_equal(hc_jstr(j, "description"), "a description"); /* absent: unchanged */
	json_object_put(j);
	h_resp_free(&r);
	/* category is nullable: null takes the product out of it */
	etag_of(path, etag, sizeof etag);
	r = staff_if("PATCH", path, "{\"category\": null}", etag);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_null(hc_jget(j, "category"));
	json_object_put(j);
	h_resp_free(&r);
}

/* PATCH /api/v1/admin/categories/{id}: slug, name, position are not nullable; parent is */
static void test_category_patch(void **state)
{
	char slug[96], parent[25], id[25], path[96], filter[320];
	struct h_resp r;

	(void)state;
	snprintf(slug, sizeof slug, "nulls-parent-%s", hc_tag);
	hc_make_category(slug, NULL, 1, parent);
	snprintf(slug, sizeof slug, "nulls-child-%s", hc_tag);
	hc_make_category(slug, parent, 3, id);
	snprintf(path, sizeof path, "/api/v1/admin/categories/%s", id);
	r = hc_staff("PATCH", path, "{\"slug\": null, \"name\": null, \"position\": null}", NULL);
	h_assert_problem_errors(&r, 400, "slug:invalid_type name:invalid_type position:invalid_type");
	h_resp_free(&r);
	snprintf(filter, sizeof filter,
		 "{\"_id\": {\"$oid\": \"%s\"}, \"slug\": \"%s\", \"position\": 3,"
		 " \"parent_id\": {\"$oid\": \"%s\"}}", id, slug, parent);
	assert_int_equal(h_db_count("categories", filter), 1);
	r = hc_staff("PATCH", path, "{\"parent\": null}", NULL);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	snprintf(filter, sizeof filter, "{\"_id\": {\"$oid\": \"%s\"}, \"parent_id\": null}", id);
	assert_int_equal(h_db_count("categories", filter), 1);
}

/* PATCH /api/v1/admin/coupons/{id}: code, type, min_subtotal are not nullable; usage_limit is */
static void test_coupon_patch(void **state)
{
	char body[256], id[25], path[96], filter[160];
	struct h_resp r;
	json_object *j;

	(void)state;
	snprintf(body, sizeof body,
		 "{\"code\": \"Nul%s\", \"type\": \"fixed\", \"amount\": 500, \"min_subtotal\": 1000,"
		 " \"usage_limit\": 5}", hc_tag);
	r = hc_staff("POST", "/api/v1/admin/coupons", body, NULL);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(id, sizeof id, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/admin/coupons/%s", id);
	r = hc_staff("PATCH", path, "{\"code\": null, \"type\": null, \"min_subtotal\": null}", NULL);
	h_assert_problem_errors(&r, 400, "code:invalid_type type:invalid_type min_subtotal:invalid_type");
	h_resp_free(&r);
	snprintf(filter, sizeof filter,
		 "{\"_id\": {\"$oid\": \"%s\"}, \"version\": 1, \"min_subtotal\": 1000}", id);
	assert_int_equal(h_db_count("coupons", filter), 1);
	r = hc_staff("PATCH", path, "{\"usage_limit\": null}", NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	assert_null(hc_jget(j, "usage_limit"));
	assert_int_equal(json_object_get_int64(hc_jget(j, "min_subtotal")), 1000);
	json_object_put(j);
	h_resp_free(&r);
}

/* PATCH /api/v1/admin/users/{id}: role and disabled are not nullable */
static void test_admin_user_patch(void **state)
{
	char admin[1024], auth[1100], uid[25], cust[1024], cid[25], path[96], filter[160];
	const char *h[3];
	struct h_resp r;
	const char *body = "{\"role\": null, \"disabled\": null}";

	(void)state;
	h_user_token("admin", admin, sizeof admin, uid, sizeof uid);
	h_user_token("customer", cust, sizeof cust, cid, sizeof cid);
	h[0] = h_bearer(admin, auth, sizeof auth);
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	snprintf(path, sizeof path, "/api/v1/admin/users/%s", cid);
	r = h_request("PATCH", path, body, strlen(body), h);
	h_assert_problem_errors(&r, 400, "role:invalid_type disabled:invalid_type");
	h_resp_free(&r);
	snprintf(filter, sizeof filter,
		 "{\"_id\": {\"$oid\": \"%s\"}, \"role\": \"customer\", \"disabled\": false}", cid);
	assert_int_equal(h_db_count("users", filter), 1);
}

/* POST /api/v1/orders, a transition, a return's approval: optional, none nullable */
static void test_orders_bodies(void **state)
{
	char tok[1024], auth[1100], uid[25], filter[128];
	const char *h[] = { NULL, "Content-Type: application/json",
			    "Idempotency-Key: nulls-order-key-1", NULL };
	const char *body = "{\"shipping_address_id\": \"" FAKE_ID "\", \"payment_method\": \"cod\","
			   " \"billing_address_id\": null, \"shipping_method\": null, \"note\": null,"
			   " \"expected_total\": null}";
	struct h_resp r;

	(void)state;
	h_user_token("customer", tok, sizeof tok, uid, sizeof uid);
	h[0] = h_bearer(tok, auth, sizeof auth);
	r = h_request("POST", "/api/v1/orders", body, strlen(body), h);
	h_assert_problem_errors(&r, 400,
				"billing_address_id:invalid_type shipping_method:invalid_type "
				"note:invalid_type expected_total:invalid_type");
	h_resp_free(&r);
	snprintf(filter, sizeof filter, "{\"user_id\": {\"$oid\": \"%s\"}}", uid);
	assert_int_equal(h_db_count("orders", filter), 0);
	assert_int_equal(h_db_count("idempotency_keys", filter), 0);
	r = hc_staff("POST", "/api/v1/admin/orders/" FAKE_ID "/transitions",
		     "{\"to\": \"processing\", \"note\": null, \"carrier\": null,"
		     " \"tracking_number\": null, \"delivered_at\": null}", NULL);
	h_assert_problem_errors(&r, 400,
				"note:invalid_type carrier:invalid_type "
				"tracking_number:invalid_type delivered_at:invalid_type");
	h_resp_free(&r);
	r = hc_staff("POST", "/api/v1/admin/orders/" FAKE_ID "/returns/" FAKE_ID "/approve",
		     "{\"note\": null}", NULL);
	h_assert_problem_errors(&r, 400, "note:invalid_type");
	h_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_product_patch),
		cmocka_unit_test(test_category_patch),
		cmocka_unit_test(test_coupon_patch),
		cmocka_unit_test(test_admin_user_patch),
		cmocka_unit_test(test_orders_bodies),
	};
	int rc;

	h_init();
	hc_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	h_cleanup();
	return rc;
}
