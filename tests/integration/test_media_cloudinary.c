/*
 * Integration tests for Cloudinary storage (src/media), split from
 * test_media.c: these start tests/cloudinary-standin, point the running
 * stack at it (env file + SIGHUP) and put the configuration back
 * afterwards.
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

#include <sodium.h>

#include "harness_media.h"
#include "media/media.h"

extern char **environ;

static pid_t cld_pid;

static char cld_base[128], cld_dir[256];

static bool env_changed; /* a test pointed the stack at the stand-in */

static int cld_setup(void **state)
{
	char *argv[] = { "node", NULL, "--port", "0", "--cloud", "demo", "--api-key", "1234",
			 "--api-secret", "abcd", "--dir", cld_dir, NULL };
	char script[1024], line[256] = "", outpath[300];
	posix_spawn_file_actions_t fa;
	FILE *f = NULL;

	(void)state;
	snprintf(script, sizeof(script), "%s/tests/cloudinary-standin/server.js", EM_TOP_SRCDIR);
	argv[1] = script;
	/* a fresh directory per run: the stack's dir outlives runs */
	snprintf(cld_dir, sizeof(cld_dir), "%s/cloudinary-XXXXXX", h_env("STACK_DIR"));
	if (!mkdtemp(cld_dir))
		return -1;
	snprintf(outpath, sizeof(outpath), "%s/logs/cloudinary-standin.out", h_env("STACK_DIR"));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (posix_spawnp(&cld_pid, "node", &fa, NULL, argv, environ) != 0)
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	for (int waited = 0; waited < 10000 && !strstr(line, "ready on"); waited += 50) {
		h_sleep_ms(50);
		f = fopen(outpath, "r");
		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = '\0';
			fclose(f);
		}
	}
	{
		char *on = strstr(line, "ready on ");

		if (!on)
			return -1;
		on += 9;
		on[strcspn(on, "\r\n")] = '\0';
		snprintf(cld_base, sizeof(cld_base), "http://%s", on);
	}
	return 0;
}

static int cld_teardown(void **state)
{
	int status;

	(void)state;
	if (env_changed) {
		env_changed = false;
		if (!h_stack_reconfigure(NULL))
			return -1;
	}
	if (cld_pid > 0) {
		kill(cld_pid, SIGTERM);
		waitpid(cld_pid, &status, 0);
		cld_pid = 0;
	}
	return 0;
}

static long cld_files(void)
{
	return hm_media_files_in(cld_dir);
}

static void test_cloudinary(void **state)
{
	char product[25], other[25], extra[512], hash[65], url[1200], com[40];
	struct hm_buf base = hm_fixture("baseline-5x3.jpg"), jpg = { 0 },
		   png = hm_png_make(2, 3, 2, 3, (unsigned)getpid(), 0);
	struct h_resp r;
	json_object *o;
	long local_before;

	(void)state;
	/* bytes unique to this run (a JPEG comment after SOI), so that runs
	 * against a kept database do not share images */
	snprintf(com, sizeof(com), "run %ld %d", (long)time(NULL), (int)getpid());
	hm_buf_add(&jpg, base.p, 2);
	hm_buf_add(&jpg, "\xff\xfe", 2);
	hm_buf_add(&jpg, (unsigned char[]){ 0, (unsigned char)(strlen(com) + 2) }, 2);
	hm_buf_add(&jpg, com, strlen(com));
	hm_buf_add(&jpg, base.p + 2, base.n - 2);
	free(base.p);
	hm_product_new(product);
	hm_product_new(other);
	/* the same bytes stored locally for another product first */
	r = hm_upload_file(other, &jpg, NULL);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
	local_before = hm_media_files();
	snprintf(extra, sizeof(extra),
		 "EMPORIUM_MEDIA_STORAGE=cloudinary\nEMPORIUM_CLOUDINARY_API_URL=%s\n"
		 "EMPORIUM_CLOUDINARY_CLOUD=demo\nEMPORIUM_CLOUDINARY_API_KEY=1234\n"
		 "EMPORIUM_CLOUDINARY_API_SECRET=abcd\n", cld_base);
	env_changed = true;
	assert_true(h_stack_reconfigure(extra));

	/* a signed upload the stand-in verifies */
	r = hm_upload_file(product, &jpg, "On Cloudinary");
	if (r.status != 201)
		fail_msg("cloudinary upload: %ld %s", r.status, r.body);
	/* the bytes are unique to this run, so no fixed vector: the expected
	 * id comes from libsodium's SHA-256, not from the module's helper */
	{
		unsigned char d[crypto_hash_sha256_BYTES];

		assert_true(sodium_init() >= 0);
		crypto_hash_sha256(d, (const unsigned char *)jpg.p, jpg.n);
		sodium_bin2hex(hash, sizeof(hash), d, sizeof(d));
	}
	o = h_json(&r);
	assert_string_equal(hm_json_s(o, "id"), hash);
	assert_string_equal(hm_json_s(o, "storage"), "cloudinary");
	assert_string_equal(hm_json_s(o, "public_id"), hash);
	assert_int_equal(hm_json_i(o, "width"), 5);
	assert_int_equal(hm_json_i(o, "height"), 3);
	snprintf(url, sizeof(url), "%s", hm_json_s(o, "url"));
	assert_true(strncmp(url, cld_base, strlen(cld_base)) == 0);
	json_object_put(o);
	h_resp_free(&r);
	hm_assert_served(url, &jpg, "image/jpeg");
	assert_int_equal(cld_files(), 1);
	assert_int_equal(hm_media_files(), local_before); /* nothing local */
	assert_int_equal(hm_product_has_image(product, hash), 1);
	{
		char f[512];

		snprintf(f, sizeof(f),
			 "{\"_id\": {\"$oid\": \"%s\"}, \"images\": {\"$elemMatch\": {\"id\": \"%s\","
			 " \"storage\": \"cloudinary\", \"public_id\": \"%s\"}}}", product, hash, hash);
		assert_int_equal(h_db_count("products", f), 1);
	}

	/* delete calls destroy */
	r = hm_image_call("DELETE", hm_staff_token, product, hash, NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_equal(cld_files(), 0);
	r = h_get(url);
	assert_int_equal(r.status, 404);
	h_resp_free(&r);
	/* the local copy of the same bytes (other product) is separate and stays */
	{
		char lurl[200];

		/* the content-addressed layout: /media/ab/cd/<hash>.<ext> */
		snprintf(lurl, sizeof(lurl), "/media/%.2s/%.2s/%s.jpg", hash, hash + 2, hash);
		hm_assert_served(lurl, &jpg, "image/jpeg");
	}

	/* a wrong secret: the stand-in answers 401, we answer 502, nothing stored */
	snprintf(extra, sizeof(extra),
		 "EMPORIUM_MEDIA_STORAGE=cloudinary\nEMPORIUM_CLOUDINARY_API_URL=%s\n"
		 "EMPORIUM_CLOUDINARY_CLOUD=demo\nEMPORIUM_CLOUDINARY_API_KEY=1234\n"
		 "EMPORIUM_CLOUDINARY_API_SECRET=not-the-secret\n", cld_base);
	env_changed = true;
	assert_true(h_stack_reconfigure(extra));
	r = hm_upload_file(product, &png, NULL);
	hm_assert_problem_field(&r, 502, NULL);
	assert_non_null(strstr(r.body, "Invalid Signature"));
	h_resp_free(&r);
	assert_int_equal(cld_files(), 0);
	assert_int_equal(hm_media_files(), local_before);
	assert_int_equal(hm_product_version_is(product, 3), 1);

	/* Cloudinary unreachable: 502 as well */
	snprintf(extra, sizeof(extra),
		 "EMPORIUM_MEDIA_STORAGE=cloudinary\nEMPORIUM_CLOUDINARY_API_URL=http://127.0.0.1:9\n"
		 "EMPORIUM_CLOUDINARY_CLOUD=demo\nEMPORIUM_CLOUDINARY_API_KEY=1234\n"
		 "EMPORIUM_CLOUDINARY_API_SECRET=abcd\n");
	env_changed = true;
	assert_true(h_stack_reconfigure(extra));
	r = hm_upload_file(product, &png, NULL);
	hm_assert_problem_field(&r, 502, NULL);
	h_resp_free(&r);
	assert_int_equal(hm_product_version_is(product, 3), 1);
	free(jpg.p);
	free(png.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cloudinary, cld_setup, cld_teardown),
	};

	return cmocka_run_group_tests_name("media_cloudinary", tests, hm_group_setup, hm_group_teardown);
}
