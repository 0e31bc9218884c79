/*
 * Integration tests for product image uploads (src/media) through the
 * real stack, split from test_media.c: HTTPS -> nginx -> emporium-fcgi ->
 * database, and nginx serving the stored files at /media/: the formats,
 * a large upload, what is refused, and who may upload.
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

static void test_upload_formats(void **state)
{
	/* fixed vectors: the SHA-256 of each fixture (sha256sum) and the URL
	 * the content-addressed layout gives it (/media/ab/cd/<hash>.<ext>) */
	static const struct {
		const char *file, *ct, *hash, *url;
		int w, h;
	} cases[] = {
		{ "rgba-3x2.png", "image/png",
		  "84e5af90cf30098b8345702ef1ff908ed120ffcb1617d1c1b6b783869a797129",
		  "/media/84/e5/84e5af90cf30098b8345702ef1ff908ed120ffcb1617d1c1b6b783869a797129.png", 3, 2 },
		{ "baseline-5x3.jpg", "image/jpeg",
		  "7f9eb2e2d27afc2f588afaa5c2abbef07b72d7ce0b07235f0ffbf042c71d5403",
		  "/media/7f/9e/7f9eb2e2d27afc2f588afaa5c2abbef07b72d7ce0b07235f0ffbf042c71d5403.jpg", 5, 3 },
		{ "progressive-4x6.jpg", "image/jpeg",
		  "ba287f33c6436b6065d218a8346b1bacf89dba85e6b54513db532945eb82497c",
		  "/media/ba/28/ba287f33c6436b6065d218a8346b1bacf89dba85e6b54513db532945eb82497c.jpg", 4, 6 },
		{ "lossless-1x1.webp", "image/webp",
		  "86be52bdb7547413cafb3ed175a806a798c65de98b40849e0b974c47d187de65",
		  "/media/86/be/86be52bdb7547413cafb3ed175a806a798c65de98b40849e0b974c47d187de65.webp", 1, 1 },
		{ "alpha-1x1.webp", "image/webp",
		  "7e41ca21e421f129d3881e345f990027b66c0ab3c5580e549575f9393d117cbd",
		  "/media/7e/41/7e41ca21e421f129d3881e345f990027b66c0ab3c5580e549575f9393d117cbd.webp", 1, 1 },
	};
	char product[25];

	(void)state;
	hm_product_new(product);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hm_buf file = hm_fixture(cases[i].file);
		struct h_resp r = hm_upload_file(product, &file, "A shoe, from the side");
		const char *hash = cases[i].hash, *want_url = cases[i].url;
		char path[1200];
		json_object *o;
		struct stat sb;

		if (r.status != 201)
			fail_msg("%s: %ld %s", cases[i].file, r.status, r.body);
		o = h_json(&r);
		assert_string_equal(hm_json_s(o, "id"), hash);
		{
			char loc[256], want_loc[256];

			snprintf(want_loc, sizeof(want_loc), "/api/v1/admin/products/%s/images/%s",
				 product, hash);
			assert_true(h_header(&r, "location", loc, sizeof(loc)));
			assert_string_equal(loc, want_loc);
		}
		assert_string_equal(hm_json_s(o, "url"), want_url);
		assert_string_equal(hm_json_s(o, "alt"), "A shoe, from the side");
		assert_string_equal(hm_json_s(o, "content_type"), cases[i].ct);
		assert_string_equal(hm_json_s(o, "storage"), "local");
		assert_int_equal(hm_json_i(o, "width"), cases[i].w);
		assert_int_equal(hm_json_i(o, "height"), cases[i].h);
		assert_int_equal(hm_json_i(o, "position"), (int)i);
		/* on disk, world-readable, and served by nginx byte for byte */
		snprintf(path, sizeof(path), "%s%s", h_env("STACK_DIR"), want_url);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0644);
		hm_assert_served(want_url, &file, cases[i].ct);
		/* in the product, with the version bumped once per image */
		assert_int_equal(hm_product_has_image(product, hash), 1);
		assert_int_equal(hm_product_version_is(product, (long)i + 2), 1);
		json_object_put(o);
		h_resp_free(&r);

		/* the same image twice on one product: 409, nothing changes */
		r = hm_upload_file(product, &file, NULL);
		hm_assert_problem_field(&r, 409, "file");
		assert_int_equal(hm_product_version_is(product, (long)i + 2), 1);
		h_resp_free(&r);
		free(file.p);
	}
}

/* An upload over EMPORIUM_MAX_BODY (1 MiB) but within the media limit. */
static void test_upload_large(void **state)
{
	/* the generated 2 MiB PNG's SHA-256 (a fixed vector: sha256sum of the
	 * same bytes written to a file) */
	static const char hash[] = "9226e0649bbd872f02db8fc49191fffe5a05f65c9e7c9f40d7c403bca443657d";
	static const char url[] =
		"/media/92/26/9226e0649bbd872f02db8fc49191fffe5a05f65c9e7c9f40d7c403bca443657d.png";
	char product[25], path[1200];
	struct hm_buf png = hm_png_make(4, 4, 4, 4, 77, 2 * 1024 * 1024);
	struct h_resp r;
	json_object *o;
	size_t len = 0;
	char *stored;

	(void)state;
	assert_true(png.n > 2 * 1024 * 1024);
	hm_product_new(product);
	r = hm_upload_file(product, &png, NULL);
	if (r.status != 201)
		fail_msg("2 MiB upload: %ld %s", r.status, r.body);
	/* the answer describes this image */
	o = h_json(&r);
	assert_string_equal(hm_json_s(o, "id"), hash);
	assert_string_equal(hm_json_s(o, "url"), url);
	assert_string_equal(hm_json_s(o, "content_type"), "image/png");
	assert_int_equal(hm_json_i(o, "width"), 4);
	assert_int_equal(hm_json_i(o, "height"), 4);
	json_object_put(o);
	h_resp_free(&r);
	/* the stored file is the upload, whole, and nginx serves it */
	snprintf(path, sizeof(path), "%s%s", h_env("STACK_DIR"), url);
	stored = h_file_read(path, &len);
	assert_non_null(stored);
	assert_int_equal(len, png.n);
	assert_memory_equal(stored, png.p, png.n);
	free(stored);
	hm_assert_served(url, &png, "image/png");
	assert_int_equal(hm_product_has_image(product, hash), 1);
	free(png.p);
}

static void test_upload_refused(void **state)
{
	char product[25], missing[25], long_alt[302];
	static const char php[] = "<?php echo shell_exec($_GET['c']); ?>\n";
	static const char svg[] =
		"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
	struct hm_buf ok = hm_png_make(2, 2, 2, 2, 5, 0), bomb = hm_png_make(1, 1, 100000, 100000, 1, 0),
		   zero = hm_png_make(1, 1, 0, 1, 2, 0), trunc = hm_png_make(3, 3, 3, 3, 3, 0),
		   big = { 0 }, body;
	long files_before = hm_media_files();
	struct h_resp r;
	bson_oid_t oid;

	(void)state;
	hm_product_new(product);
	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, missing);
	trunc.n -= 12; /* no IEND */
	/* over EMPORIUM_MEDIA_MAX_BYTES (5 MiB) by one byte */
	hm_buf_add(&big, ok.p, 8);
	{
		size_t n = 5 * 1024 * 1024 + 1 - 8;
		char *junk = calloc(1, n);

		assert_non_null(junk);
		hm_buf_add(&big, junk, n);
		free(junk);
	}
	memset(long_alt, 'a', 301);
	long_alt[301] = '\0';

	struct {
		const char *what;
		const void *data;
		size_t len;
		const char *alt;
		long status;
		const char *field;
	} cases[] = {
		{ "php renamed .png", php, sizeof(php) - 1, NULL, 415, "file" },
		{ "svg renamed .png", svg, sizeof(svg) - 1, NULL, 415, "file" },
		{ "truncated png", trunc.p, trunc.n, NULL, 400, "file" },
		{ "decompression bomb", bomb.p, bomb.n, NULL, 400, "file" },
		{ "zero width", zero.p, zero.n, NULL, 400, "file" },
		{ "over max bytes", big.p, big.n, NULL, 413, "file" },
		{ "empty file", "", 0, NULL, 400, "file" },
		{ "alt too long", ok.p, ok.n, long_alt, 400, "alt" },
		{ "alt with control chars", ok.p, ok.n, "bad\x01" "alt", 400, "alt" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = (struct hm_buf){ 0 };
		hm_mp_part(&body, "file", "image.png", cases[i].data, cases[i].len);
		if (cases[i].alt)
			hm_mp_part(&body, "alt", NULL, cases[i].alt, strlen(cases[i].alt));
		hm_mp_end(&body);
		r = hm_upload(hm_staff_token, product, &body, HM_MULTIPART_CT);
		if (r.status != cases[i].status)
			fail_msg("%s: got %ld %s", cases[i].what, r.status, r.body);
		hm_assert_problem_field(&r, cases[i].status, cases[i].field);
		h_resp_free(&r);
		free(body.p);
	}

	/* not multipart: 415 */
	body = (struct hm_buf){ 0 };
	hm_buf_add(&body, ok.p, ok.n);
	r = hm_upload(hm_staff_token, product, &body, "Content-Type: image/png");
	hm_assert_problem_field(&r, 415, NULL);
	h_resp_free(&r);
	r = hm_upload(hm_staff_token, product, &body, "Content-Type: application/json");
	hm_assert_problem_field(&r, 415, NULL);
	h_resp_free(&r);
	free(body.p);
	/* a bad boundary parameter: 400 naming Content-Type */
	body = (struct hm_buf){ 0 };
	hm_mp_part(&body, "file", "a.png", ok.p, ok.n);
	hm_mp_end(&body);
	r = hm_upload(hm_staff_token, product, &body, "Content-Type: multipart/form-data; boundary=");
	hm_assert_problem_field(&r, 400, "Content-Type");
	h_resp_free(&r);
	/* a truncated multipart body (no closing boundary) */
	body.n -= strlen("--" HM_BOUNDARY "--\r\n");
	r = hm_upload(hm_staff_token, product, &body, HM_MULTIPART_CT);
	hm_assert_problem_field(&r, 400, "body");
	h_resp_free(&r);
	free(body.p);
	/* missing file part: 400 file */
	body = (struct hm_buf){ 0 };
	hm_mp_part(&body, "alt", NULL, "just text", 9);
	hm_mp_end(&body);
	r = hm_upload(hm_staff_token, product, &body, HM_MULTIPART_CT);
	hm_assert_problem_field(&r, 400, "file");
	h_resp_free(&r);
	free(body.p);
	/* no body at all */
	r = hm_upload(hm_staff_token, product, NULL, HM_MULTIPART_CT);
	hm_assert_problem_field(&r, 400, "file");
	h_resp_free(&r);
	/* an unknown part */
	body = (struct hm_buf){ 0 };
	hm_mp_part(&body, "file", "a.png", ok.p, ok.n);
	hm_mp_part(&body, "owner", NULL, "x", 1);
	hm_mp_end(&body);
	r = hm_upload(hm_staff_token, product, &body, HM_MULTIPART_CT);
	hm_assert_problem_field(&r, 400, "owner");
	h_resp_free(&r);
	free(body.p);
	/* no such product, a malformed id: 404; a soft-deleted product is
	 * read-only until restored: 409 */
	body = (struct hm_buf){ 0 };
	hm_mp_part(&body, "file", "a.png", ok.p, ok.n);
	hm_mp_end(&body);
	r = hm_upload(hm_staff_token, missing, &body, HM_MULTIPART_CT);
	hm_assert_problem_field(&r, 404, NULL);
	h_resp_free(&r);
	r = hm_upload(hm_staff_token, "not-an-id", &body, HM_MULTIPART_CT);
	hm_assert_problem_field(&r, 404, NULL);
	h_resp_free(&r);
	{
		char gone[25];

		hm_product_deleted(gone);
		r = hm_upload(hm_staff_token, gone, &body, HM_MULTIPART_CT);
		hm_assert_problem_field(&r, 409, NULL);
		assert_non_null(strstr(r.body, "deleted"));
		h_resp_free(&r);
	}
	free(body.p);

	/* nothing was stored anywhere */
	assert_int_equal(hm_media_files(), files_before);
	assert_int_equal(hm_product_version_is(product, 1), 1);
	{
		char f[128];

		snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"images\": {\"$size\": 0}}",
			 product);
		assert_int_equal(h_db_count("products", f), 1);
	}
	free(ok.p);
	free(bomb.p);
	free(zero.p);
	free(trunc.p);
	free(big.p);
}

static void test_roles(void **state)
{
	char product[25];
	struct hm_buf png = hm_png_make(2, 2, 2, 2, 9, 0), body = { 0 };
	struct h_resp r;
	const char *img = "0000000000000000000000000000000000000000000000000000000000000000";

	(void)state;
	hm_product_new(product);
	hm_mp_part(&body, "file", "a.png", png.p, png.n);
	hm_mp_end(&body);
	r = hm_upload(NULL, product, &body, HM_MULTIPART_CT);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = hm_upload(hm_customer_token, product, &body, HM_MULTIPART_CT);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = hm_image_call("PATCH", NULL, product, img, "{\"alt\": \"x\"}");
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = hm_image_call("PATCH", hm_customer_token, product, img, "{\"alt\": \"x\"}");
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = hm_image_call("DELETE", NULL, product, img, NULL);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = hm_image_call("DELETE", hm_customer_token, product, img, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	assert_int_equal(hm_product_version_is(product, 1), 1);
	free(body.p);
	free(png.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_formats),
		cmocka_unit_test(test_upload_large),
		cmocka_unit_test(test_upload_refused),
		cmocka_unit_test(test_roles),
	};

	return cmocka_run_group_tests_name("media_upload", tests, hm_group_setup, hm_group_teardown);
}
