/*
 * Integration tests for a product's images once uploaded (src/media),
 * split from test_media.c: reordering and alt text (PATCH) and removal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "harness_media.h"
#include "media/media.h"

/* Uploads n distinct images; ids[i] gets each id. */
static void upload_n(const char *product, int n, unsigned seed, char ids[][65])
{
	for (int i = 0; i < n; i++) {
		struct hm_buf png = hm_png_make(2, 2, 2, 2, seed + (unsigned)i, 0);
		struct h_resp r = hm_upload_file(product, &png, NULL);
		json_object *o;

		assert_int_equal(r.status, 201);
		o = h_json(&r);
		snprintf(ids[i], 65, "%s", hm_json_s(o, "id"));
		json_object_put(o);
		h_resp_free(&r);
		free(png.p);
	}
}

static void test_patch(void **state)
{
	char product[25], ids[3][65], f[512];
	struct h_resp r;
	json_object *o, *arr;

	(void)state;
	hm_product_new(product);
	upload_n(product, 3, 100, ids);
	/* move the last to the front and give it an alt text */
	r = hm_image_call("PATCH", hm_staff_token, product, ids[2],
		       "{\"position\": 0, \"alt\": \"Front view \\u00e9\"}");
	if (r.status != 200)
		fail_msg("PATCH: %ld %s", r.status, r.body);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "images", &arr));
	assert_int_equal(json_object_array_length(arr), 3);
	assert_string_equal(hm_json_s(json_object_array_get_idx(arr, 0), "id"), ids[2]);
	assert_string_equal(hm_json_s(json_object_array_get_idx(arr, 0), "alt"), "Front view \xc3\xa9");
	assert_string_equal(hm_json_s(json_object_array_get_idx(arr, 1), "id"), ids[0]);
	assert_string_equal(hm_json_s(json_object_array_get_idx(arr, 2), "id"), ids[1]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hm_json_i(json_object_array_get_idx(arr, (size_t)i), "position"), i);
	json_object_put(o);
	h_resp_free(&r);
	/* the database agrees */
	snprintf(f, sizeof(f),
		 "{\"_id\": {\"$oid\": \"%s\"}, \"images\": {\"$elemMatch\": {\"id\": \"%s\","
		 " \"position\": 0, \"alt\": \"Front view \\u00e9\"}}}", product, ids[2]);
	assert_int_equal(h_db_count("products", f), 1);
	snprintf(f, sizeof(f),
		 "{\"_id\": {\"$oid\": \"%s\"}, \"images\": {\"$elemMatch\": {\"id\": \"%s\","
		 " \"position\": 2}}}", product, ids[1]);
	assert_int_equal(h_db_count("products", f), 1);
	assert_int_equal(hm_product_version_is(product, 5), 1);

	/* alt only */
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0], "{\"alt\": \"\"}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_int_equal(hm_product_version_is(product, 6), 1);

	/* refused: nothing changes */
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0], "{\"position\": 3}");
	hm_assert_problem_field(&r, 400, "position");
	h_resp_free(&r);
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0], "{\"position\": -1}");
	hm_assert_problem_field(&r, 400, "position");
	h_resp_free(&r);
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0], "{\"position\": \"1\"}");
	hm_assert_problem_field(&r, 400, "position");
	h_resp_free(&r);
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0], "{\"url\": \"https://evil\"}");
	hm_assert_problem_field(&r, 400, "url");
	h_resp_free(&r);
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0], "{\"alt\": {\"$gt\": \"\"}}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0], "{}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	{
		char json[400];

		snprintf(json, sizeof(json), "{\"alt\": \"%0301d\"}", 0);
		r = hm_image_call("PATCH", hm_staff_token, product, ids[0], json);
		hm_assert_problem_field(&r, 400, "alt");
		h_resp_free(&r);
	}
	r = hm_image_call("PATCH", hm_staff_token, product,
		       "1111111111111111111111111111111111111111111111111111111111111111",
		       "{\"alt\": \"x\"}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = hm_image_call("PATCH", hm_staff_token, product, "../../etc", "{\"alt\": \"x\"}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	/* every fault at once, each with its code */
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0],
			  "{\"alt\": \"a\\u0007b\", \"position\": \"1\", \"url\": \"https://evil\"}");
	h_assert_problem_errors(&r, 400, "url:unknown_field alt:invalid_format position:invalid_type");
	h_resp_free(&r);
	/* neither field is nullable: null is refused, not read as "unchanged" */
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0], "{\"alt\": null}");
	h_assert_problem_errors(&r, 400, "alt:invalid_type");
	h_resp_free(&r);
	r = hm_image_call("PATCH", hm_staff_token, product, ids[0],
			  "{\"alt\": null, \"position\": null}");
	h_assert_problem_errors(&r, 400, "alt:invalid_type position:invalid_type");
	h_resp_free(&r);
	assert_int_equal(hm_product_version_is(product, 6), 1);
}

static void test_delete(void **state)
{
	char p1[25], p2[25], ids[2][65], path[1200], url[200];
	struct hm_buf shared = hm_png_make(3, 1, 3, 1, 201, 0);
	struct h_resp r;
	json_object *o;
	struct stat sb;

	(void)state;
	hm_product_new(p1);
	hm_product_new(p2);
	upload_n(p1, 1, 150, ids);
	/* fixed vector: the SHA-256 of hm_png_make(2, 2, 2, 2, 150, 0) */
	assert_string_equal(ids[0], "aff3c2754945c3369038a7488119e71deaaa5193f1769d021c756706db09035a");
	/* delete: gone from the product, from the disk, from nginx */
	snprintf(url, sizeof(url), "/media/af/f3/%s.png", ids[0]);
	snprintf(path, sizeof(path), "%s%s", h_env("STACK_DIR"), url);
	assert_int_equal(stat(path, &sb), 0);
	r = hm_image_call("DELETE", hm_staff_token, p1, ids[0], NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_equal(hm_product_has_image(p1, ids[0]), 0);
	assert_int_equal(hm_product_version_is(p1, 3), 1);
	assert_int_not_equal(stat(path, &sb), 0);
	r = h_get(url);
	assert_int_equal(r.status, 404);
	h_resp_free(&r);
	r = hm_image_call("DELETE", hm_staff_token, p1, ids[0], NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);

	/* one image on two products: the file stays until the last goes */
	r = hm_upload_file(p1, &shared, NULL);
	assert_int_equal(r.status, 201);
	o = h_json(&r);
	snprintf(ids[1], 65, "%s", hm_json_s(o, "id"));
	json_object_put(o);
	h_resp_free(&r);
	r = hm_upload_file(p2, &shared, NULL);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
	/* fixed vector: the SHA-256 of hm_png_make(3, 1, 3, 1, 201, 0) */
	assert_string_equal(ids[1], "3d030cdc2a75911c0b3595bc82be6b75aed0a578f5906a3dfb760c1eec51f66e");
	snprintf(url, sizeof(url), "/media/3d/03/%s.png", ids[1]);
	snprintf(path, sizeof(path), "%s%s", h_env("STACK_DIR"), url);
	r = hm_image_call("DELETE", hm_staff_token, p1, ids[1], NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_equal(stat(path, &sb), 0);
	hm_assert_served(url, &shared, "image/png");
	r = hm_image_call("DELETE", hm_staff_token, p2, ids[1], NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_not_equal(stat(path, &sb), 0);
	free(shared.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_delete),
	};

	return cmocka_run_group_tests_name("media_images", tests, hm_group_setup, hm_group_teardown);
}
