/*
 * Integration tests for product images (src/media) through the real stack:
 * HTTPS -> nginx -> emporium-fcgi -> database, and nginx serving the
 * stored files at /media/. Products are inserted directly in the database
 * (the catalog's routes are another module's). The Cloudinary tests start
 * tests/cloudinary-standin, point the running stack at it (env file +
 * SIGHUP) and put the configuration back afterwards.
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

#include "harness.h"
#include "media/media.h"

extern char **environ;

#define BOUNDARY "emporium-test-7f3a"
#define MULTIPART_CT "Content-Type: multipart/form-data; boundary=" BOUNDARY

static char staff_token[2048], customer_token[2048];

/* ---- building bodies and images ---- */

struct buf {
	char *p;
	size_t n;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->n + len + 1);
	assert_non_null(b->p);
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void mp_part(struct buf *b, const char *name, const char *filename,
		    const void *data, size_t len)
{
	char head[512];

	snprintf(head, sizeof(head),
		 "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"%s%s%s\r\n%s\r\n",
		 name, filename ? "; filename=\"" : "", filename ? filename : "",
		 filename ? "\"" : "", filename ? "Content-Type: image/png\r\n" : "");
	buf_str(b, head);
	buf_add(b, data, len);
	buf_str(b, "\r\n");
}

static void mp_end(struct buf *b)
{
	buf_str(b, "--" BOUNDARY "--\r\n");
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void png_chunk(struct buf *b, const char *type, const unsigned char *data, uint32_t len)
{
	unsigned char h[8], crc[4];
	uint32_t c;

	put32(h, len);
	memcpy(h + 4, type, 4);
	buf_add(b, h, 8);
	if (len)
		buf_add(b, data, len);
	c = media_crc32(0, (const unsigned char *)type, 4);
	c = media_crc32(c, data, len);
	put32(crc, c);
	buf_add(b, crc, 4);
}

/*
 * A grayscale PNG w x h (declaring dw x dh) with one stored deflate block,
 * distinct per seed, plus pad bytes of a private ancillary chunk (to make
 * it large while keeping it valid).
 */
static struct buf png_make(uint32_t w, uint32_t h, uint32_t dw, uint32_t dh, unsigned seed,
			   size_t pad)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	struct buf b = { 0 };
	unsigned char ihdr[13], idat[2048];
	size_t raw = (size_t)(w + 1) * h, n = 0;
	uint32_t a = 1, s = 0;

	assert_true(raw < 2000);
	buf_add(&b, sig, 8);
	put32(ihdr, dw);
	put32(ihdr + 4, dh);
	ihdr[8] = 8;
	ihdr[9] = 0;
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	png_chunk(&b, "IHDR", ihdr, 13);
	if (pad) {
		unsigned char *p = malloc(pad);

		assert_non_null(p);
		for (size_t i = 0; i < pad; i++)
			p[i] = (unsigned char)(i * 31 + seed);
		png_chunk(&b, "emPd", p, (uint32_t)pad);
		free(p);
	}
	idat[n++] = 0x78;
	idat[n++] = 0x01;
	idat[n++] = 0x01;
	idat[n++] = (unsigned char)(raw & 0xff);
	idat[n++] = (unsigned char)(raw >> 8);
	idat[n++] = (unsigned char)(~raw & 0xff);
	idat[n++] = (unsigned char)((~raw >> 8) & 0xff);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x <= w; x++) {
			unsigned char v = x == 0 ? 0 : (unsigned char)(seed * 17 + x * 7 + y * 13);

			idat[n++] = v;
			a = (a + v) % 65521;
			s = (s + a) % 65521;
		}
	}
	put32(idat + n, s << 16 | a);
	n += 4;
	png_chunk(&b, "IDAT", idat, (uint32_t)n);
	png_chunk(&b, "IEND", NULL, 0);
	return b;
}

static struct buf fixture(const char *name)
{
	char path[1024], chunk[4096];
	struct buf b = { 0 };
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/images/%s", EM_TOP_SRCDIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return b;
}

/* ---- the stack ---- */

/* Inserts a minimal product (the catalog's contract) and returns its id. */
static void product_new(char hex[25])
{
	bson_oid_t oid;
	char json[512];

	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, hex);
	snprintf(json, sizeof(json),
		 "{\"_id\": {\"$oid\": \"%s\"}, \"title\": \"Test shoe\", \"slug\": \"shoe-%s\","
		 " \"status\": \"active\", \"variants\": [{\"sku\": \"T-%s\"}],"
		 " \"version\": {\"$numberLong\": \"1\"}, \"images\": []}", hex, hex, hex);
	h_db_insert_json("products", json);
}

static long product_version_is(const char *hex, long version)
{
	char f[256];

	snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"version\": %ld}", hex, version);
	return h_db_count("products", f);
}

static long product_has_image(const char *hex, const char *image_id)
{
	char f[256];

	snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"images.id\": \"%s\"}", hex,
		 image_id);
	return h_db_count("products", f);
}

static struct h_resp upload(const char *token, const char *product, const struct buf *body,
			    const char *content_type)
{
	char path[256], auth[2200];
	const char *headers[3] = { content_type, NULL, NULL };

	snprintf(path, sizeof(path), "/api/v1/admin/products/%s/images", product);
	if (token)
		headers[1] = h_bearer(token, auth, sizeof(auth));
	return h_request("POST", path, body ? body->p : NULL, body ? body->n : 0, headers);
}

static struct h_resp upload_file(const char *product, const struct buf *file, const char *alt)
{
	struct buf body = { 0 };
	struct h_resp r;

	mp_part(&body, "file", "photo.png", file->p, file->n);
	if (alt)
		mp_part(&body, "alt", NULL, alt, strlen(alt));
	mp_end(&body);
	r = upload(staff_token, product, &body, MULTIPART_CT);
	free(body.p);
	return r;
}

static struct h_resp image_call(const char *method, const char *token, const char *product,
				const char *image, const char *json)
{
	char path[256], auth[2200];
	const char *headers[3] = { "Content-Type: application/json", NULL, NULL };

	snprintf(path, sizeof(path), "/api/v1/admin/products/%s/images/%s", product, image);
	if (token)
		headers[1] = h_bearer(token, auth, sizeof(auth));
	return h_request(method, path, json, json ? strlen(json) : 0, headers);
}

/* Counts regular files under the media dir (temp and lock files aside). */
static long media_files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[2048];
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, ".lock") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			n += media_files_in(path);
		else
			n++;
	}
	closedir(d);
	return n;
}

static long media_files(void)
{
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/media", h_env("STACK_DIR"));
	return media_files_in(dir);
}

static const char *json_s(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in the answer", key);
	return json_object_get_string(v);
}

static int json_i(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		fail_msg("no integer %s in the answer", key);
	return json_object_get_int(v);
}

/* The problem names the field in errors[0].field. */
static void assert_problem_field(const struct h_resp *r, long status, const char *field)
{
	json_object *o, *errs, *e, *f;

	h_assert_problem(r, status);
	if (!field)
		return;
	o = h_json(r);
	if (!json_object_object_get_ex(o, "errors", &errs) ||
	    json_object_array_length(errs) < 1 ||
	    !(e = json_object_array_get_idx(errs, 0)) ||
	    !json_object_object_get_ex(e, "field", &f))
		fail_msg("no errors[0].field in %s", r->body);
	assert_string_equal(json_object_get_string(f), field);
	json_object_put(o);
}

/* GETs a URL (a /media/ path through nginx, or an absolute URL). */
static void assert_served(const char *url, const struct buf *bytes, const char *content_type)
{
	struct h_resp r = h_get(url);
	char ct[128];

	assert_int_equal(r.status, 200);
	assert_true(h_header(&r, "content-type", ct, sizeof(ct)));
	assert_string_equal(ct, content_type);
	assert_int_equal(r.body_len, bytes->n);
	assert_memory_equal(r.body, bytes->p, bytes->n);
	h_resp_free(&r);
}

/* ---- tests ---- */

static void test_upload_formats(void **state)
{
	static const struct {
		const char *file, *ct, *ext;
		int w, h;
	} cases[] = {
		{ "rgba-3x2.png", "image/png", "png", 3, 2 },
		{ "baseline-5x3.jpg", "image/jpeg", "jpg", 5, 3 },
		{ "progressive-4x6.jpg", "image/jpeg", "jpg", 4, 6 },
		{ "lossless-1x1.webp", "image/webp", "webp", 1, 1 },
		{ "alpha-1x1.webp", "image/webp", "webp", 1, 1 },
	};
	char product[25];

	(void)state;
	product_new(product);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf file = fixture(cases[i].file);
		struct h_resp r = upload_file(product, &file, "A shoe, from the side");
		char hash[65], rel[160], want_url[200], path[1200];
		json_object *o;
		struct stat sb;

		if (r.status != 201)
			fail_msg("%s: %ld %s", cases[i].file, r.status, r.body);
		media_sha256_hex((const unsigned char *)file.p, file.n, hash);
		o = h_json(&r);
		assert_string_equal(json_s(o, "id"), hash);
		assert_true(media_local_relpath(hash, cases[i].ext, rel, sizeof(rel)));
		snprintf(want_url, sizeof(want_url), "/media/%s", rel);
		assert_string_equal(json_s(o, "url"), want_url);
		assert_string_equal(json_s(o, "alt"), "A shoe, from the side");
		assert_string_equal(json_s(o, "content_type"), cases[i].ct);
		assert_string_equal(json_s(o, "storage"), "local");
		assert_int_equal(json_i(o, "width"), cases[i].w);
		assert_int_equal(json_i(o, "height"), cases[i].h);
		assert_int_equal(json_i(o, "position"), (int)i);
		/* on disk, world-readable, and served by nginx byte for byte */
		snprintf(path, sizeof(path), "%s/media/%s", h_env("STACK_DIR"), rel);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0644);
		assert_served(want_url, &file, cases[i].ct);
		/* in the product, with the version bumped once per image */
		assert_int_equal(product_has_image(product, hash), 1);
		assert_int_equal(product_version_is(product, (long)i + 2), 1);
		json_object_put(o);
		h_resp_free(&r);

		/* the same image twice on one product: 409, nothing changes */
		r = upload_file(product, &file, NULL);
		assert_problem_field(&r, 409, "file");
		assert_int_equal(product_version_is(product, (long)i + 2), 1);
		h_resp_free(&r);
		free(file.p);
	}
}

/* An upload over EMPORIUM_MAX_BODY (1 MiB) but within the media limit. */
static void test_upload_large(void **state)
{
	char product[25];
	struct buf png = png_make(4, 4, 4, 4, 77, 2 * 1024 * 1024);
	struct h_resp r;

	(void)state;
	product_new(product);
	r = upload_file(product, &png, NULL);
	if (r.status != 201)
		fail_msg("2 MiB upload: %ld %s", r.status, r.body);
	h_resp_free(&r);
	free(png.p);
}

static void test_upload_refused(void **state)
{
	char product[25], missing[25], long_alt[302];
	static const char php[] = "<?php echo shell_exec($_GET['c']); ?>\n";
	static const char svg[] =
		"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
	struct buf ok = png_make(2, 2, 2, 2, 5, 0), bomb = png_make(1, 1, 100000, 100000, 1, 0),
		   zero = png_make(1, 1, 0, 1, 2, 0), trunc = png_make(3, 3, 3, 3, 3, 0),
		   big = { 0 }, body;
	long files_before = media_files();
	struct h_resp r;
	bson_oid_t oid;

	(void)state;
	product_new(product);
	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, missing);
	trunc.n -= 12; /* no IEND */
	/* over EMPORIUM_MEDIA_MAX_BYTES (5 MiB) by one byte */
	buf_add(&big, ok.p, 8);
	{
		size_t n = 5 * 1024 * 1024 + 1 - 8;
		char *junk = calloc(1, n);

		assert_non_null(junk);
		buf_add(&big, junk, n);
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
		body = (struct buf){ 0 };
		mp_part(&body, "file", "image.png", cases[i].data, cases[i].len);
		if (cases[i].alt)
			mp_part(&body, "alt", NULL, cases[i].alt, strlen(cases[i].alt));
		mp_end(&body);
		r = upload(staff_token, product, &body, MULTIPART_CT);
		if (r.status != cases[i].status)
			fail_msg("%s: got %ld %s", cases[i].what, r.status, r.body);
		assert_problem_field(&r, cases[i].status, cases[i].field);
		h_resp_free(&r);
		free(body.p);
	}

	/* not multipart: 415 */
	body = (struct buf){ 0 };
	buf_add(&body, ok.p, ok.n);
	r = upload(staff_token, product, &body, "Content-Type: image/png");
	assert_problem_field(&r, 415, NULL);
	h_resp_free(&r);
	r = upload(staff_token, product, &body, "Content-Type: application/json");
	assert_problem_field(&r, 415, NULL);
	h_resp_free(&r);
	free(body.p);
	/* a bad boundary parameter: 400 naming Content-Type */
	body = (struct buf){ 0 };
	mp_part(&body, "file", "a.png", ok.p, ok.n);
	mp_end(&body);
	r = upload(staff_token, product, &body, "Content-Type: multipart/form-data; boundary=");
	assert_problem_field(&r, 400, "Content-Type");
	h_resp_free(&r);
	/* a truncated multipart body (no closing boundary) */
	body.n -= strlen("--" BOUNDARY "--\r\n");
	r = upload(staff_token, product, &body, MULTIPART_CT);
	assert_problem_field(&r, 400, "body");
	h_resp_free(&r);
	free(body.p);
	/* missing file part: 400 file */
	body = (struct buf){ 0 };
	mp_part(&body, "alt", NULL, "just text", 9);
	mp_end(&body);
	r = upload(staff_token, product, &body, MULTIPART_CT);
	assert_problem_field(&r, 400, "file");
	h_resp_free(&r);
	free(body.p);
	/* no body at all */
	r = upload(staff_token, product, NULL, MULTIPART_CT);
	assert_problem_field(&r, 400, "file");
	h_resp_free(&r);
	/* an unknown part */
	body = (struct buf){ 0 };
	mp_part(&body, "file", "a.png", ok.p, ok.n);
	mp_part(&body, "owner", NULL, "x", 1);
	mp_end(&body);
	r = upload(staff_token, product, &body, MULTIPART_CT);
	assert_problem_field(&r, 400, "owner");
	h_resp_free(&r);
	free(body.p);
	/* no such product, a malformed id, a soft-deleted product: 404 */
	body = (struct buf){ 0 };
	mp_part(&body, "file", "a.png", ok.p, ok.n);
	mp_end(&body);
	r = upload(staff_token, missing, &body, MULTIPART_CT);
	assert_problem_field(&r, 404, NULL);
	h_resp_free(&r);
	r = upload(staff_token, "not-an-id", &body, MULTIPART_CT);
	assert_problem_field(&r, 404, NULL);
	h_resp_free(&r);
	{
		char gone[25], json[512];

		bson_oid_init(&oid, NULL);
		bson_oid_to_string(&oid, gone);
		snprintf(json, sizeof(json),
			 "{\"_id\": {\"$oid\": \"%s\"}, \"title\": \"Gone\", \"slug\": \"gone-%s\","
			 " \"variants\": [{\"sku\": \"G-%s\"}], \"version\": 1, \"images\": [],"
			 " \"deleted_at\": {\"$date\": \"2024-01-01T00:00:00Z\"}}", gone, gone, gone);
		h_db_insert_json("products", json);
		r = upload(staff_token, gone, &body, MULTIPART_CT);
		assert_problem_field(&r, 404, NULL);
		h_resp_free(&r);
	}
	free(body.p);

	/* nothing was stored anywhere */
	assert_int_equal(media_files(), files_before);
	assert_int_equal(product_version_is(product, 1), 1);
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
	struct buf png = png_make(2, 2, 2, 2, 9, 0), body = { 0 };
	struct h_resp r;
	const char *img = "0000000000000000000000000000000000000000000000000000000000000000";

	(void)state;
	product_new(product);
	mp_part(&body, "file", "a.png", png.p, png.n);
	mp_end(&body);
	r = upload(NULL, product, &body, MULTIPART_CT);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = upload(customer_token, product, &body, MULTIPART_CT);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = image_call("PATCH", NULL, product, img, "{\"alt\": \"x\"}");
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = image_call("PATCH", customer_token, product, img, "{\"alt\": \"x\"}");
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = image_call("DELETE", NULL, product, img, NULL);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = image_call("DELETE", customer_token, product, img, NULL);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	assert_int_equal(product_version_is(product, 1), 1);
	free(body.p);
	free(png.p);
}

/* Uploads n distinct images; ids[i] gets each id. */
static void upload_n(const char *product, int n, unsigned seed, char ids[][65])
{
	for (int i = 0; i < n; i++) {
		struct buf png = png_make(2, 2, 2, 2, seed + (unsigned)i, 0);
		struct h_resp r = upload_file(product, &png, NULL);
		json_object *o;

		assert_int_equal(r.status, 201);
		o = h_json(&r);
		snprintf(ids[i], 65, "%s", json_s(o, "id"));
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
	product_new(product);
	upload_n(product, 3, 100, ids);
	/* move the last to the front and give it an alt text */
	r = image_call("PATCH", staff_token, product, ids[2],
		       "{\"position\": 0, \"alt\": \"Front view \\u00e9\"}");
	if (r.status != 200)
		fail_msg("PATCH: %ld %s", r.status, r.body);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "images", &arr));
	assert_int_equal(json_object_array_length(arr), 3);
	assert_string_equal(json_s(json_object_array_get_idx(arr, 0), "id"), ids[2]);
	assert_string_equal(json_s(json_object_array_get_idx(arr, 0), "alt"), "Front view \xc3\xa9");
	assert_string_equal(json_s(json_object_array_get_idx(arr, 1), "id"), ids[0]);
	assert_string_equal(json_s(json_object_array_get_idx(arr, 2), "id"), ids[1]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(json_i(json_object_array_get_idx(arr, (size_t)i), "position"), i);
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
	assert_int_equal(product_version_is(product, 5), 1);

	/* alt only */
	r = image_call("PATCH", staff_token, product, ids[0], "{\"alt\": \"\"}");
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	assert_int_equal(product_version_is(product, 6), 1);

	/* refused: nothing changes */
	r = image_call("PATCH", staff_token, product, ids[0], "{\"position\": 3}");
	assert_problem_field(&r, 400, "position");
	h_resp_free(&r);
	r = image_call("PATCH", staff_token, product, ids[0], "{\"position\": -1}");
	assert_problem_field(&r, 400, "position");
	h_resp_free(&r);
	r = image_call("PATCH", staff_token, product, ids[0], "{\"position\": \"1\"}");
	assert_problem_field(&r, 400, "position");
	h_resp_free(&r);
	r = image_call("PATCH", staff_token, product, ids[0], "{\"url\": \"https://evil\"}");
	assert_problem_field(&r, 400, "url");
	h_resp_free(&r);
	r = image_call("PATCH", staff_token, product, ids[0], "{\"alt\": {\"$gt\": \"\"}}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	r = image_call("PATCH", staff_token, product, ids[0], "{}");
	h_assert_problem(&r, 400);
	h_resp_free(&r);
	{
		char json[400];

		snprintf(json, sizeof(json), "{\"alt\": \"%0301d\"}", 0);
		r = image_call("PATCH", staff_token, product, ids[0], json);
		assert_problem_field(&r, 400, "alt");
		h_resp_free(&r);
	}
	r = image_call("PATCH", staff_token, product,
		       "1111111111111111111111111111111111111111111111111111111111111111",
		       "{\"alt\": \"x\"}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = image_call("PATCH", staff_token, product, "../../etc", "{\"alt\": \"x\"}");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	assert_int_equal(product_version_is(product, 6), 1);
}

static void test_delete(void **state)
{
	char p1[25], p2[25], ids[2][65], path[1200], rel[160], url[200];
	struct buf shared = png_make(3, 1, 3, 1, 201, 0);
	struct h_resp r;
	json_object *o;
	struct stat sb;

	(void)state;
	product_new(p1);
	product_new(p2);
	upload_n(p1, 1, 150, ids);
	/* delete: gone from the product, from the disk, from nginx */
	assert_true(media_local_relpath(ids[0], "png", rel, sizeof(rel)));
	snprintf(path, sizeof(path), "%s/media/%s", h_env("STACK_DIR"), rel);
	snprintf(url, sizeof(url), "/media/%s", rel);
	assert_int_equal(stat(path, &sb), 0);
	r = image_call("DELETE", staff_token, p1, ids[0], NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_equal(product_has_image(p1, ids[0]), 0);
	assert_int_equal(product_version_is(p1, 3), 1);
	assert_int_not_equal(stat(path, &sb), 0);
	r = h_get(url);
	assert_int_equal(r.status, 404);
	h_resp_free(&r);
	r = image_call("DELETE", staff_token, p1, ids[0], NULL);
	h_assert_problem(&r, 404);
	h_resp_free(&r);

	/* one image on two products: the file stays until the last goes */
	r = upload_file(p1, &shared, NULL);
	assert_int_equal(r.status, 201);
	o = h_json(&r);
	snprintf(ids[1], 65, "%s", json_s(o, "id"));
	json_object_put(o);
	h_resp_free(&r);
	r = upload_file(p2, &shared, NULL);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
	assert_true(media_local_relpath(ids[1], "png", rel, sizeof(rel)));
	snprintf(path, sizeof(path), "%s/media/%s", h_env("STACK_DIR"), rel);
	snprintf(url, sizeof(url), "/media/%s", rel);
	r = image_call("DELETE", staff_token, p1, ids[1], NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_equal(stat(path, &sb), 0);
	assert_served(url, &shared, "image/png");
	r = image_call("DELETE", staff_token, p2, ids[1], NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_not_equal(stat(path, &sb), 0);
	free(shared.p);
}

/* ---- Cloudinary, through the stand-in ---- */

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
	return media_files_in(cld_dir);
}

static void test_cloudinary(void **state)
{
	char product[25], other[25], extra[512], hash[65], url[1200], com[40];
	struct buf base = fixture("baseline-5x3.jpg"), jpg = { 0 },
		   png = png_make(2, 3, 2, 3, (unsigned)getpid(), 0);
	struct h_resp r;
	json_object *o;
	long local_before;

	(void)state;
	/* bytes unique to this run (a JPEG comment after SOI), so that runs
	 * against a kept database do not share images */
	snprintf(com, sizeof(com), "run %ld %d", (long)time(NULL), (int)getpid());
	buf_add(&jpg, base.p, 2);
	buf_add(&jpg, "\xff\xfe", 2);
	buf_add(&jpg, (unsigned char[]){ 0, (unsigned char)(strlen(com) + 2) }, 2);
	buf_add(&jpg, com, strlen(com));
	buf_add(&jpg, base.p + 2, base.n - 2);
	free(base.p);
	product_new(product);
	product_new(other);
	/* the same bytes stored locally for another product first */
	r = upload_file(other, &jpg, NULL);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
	local_before = media_files();
	snprintf(extra, sizeof(extra),
		 "EMPORIUM_MEDIA_STORAGE=cloudinary\nEMPORIUM_CLOUDINARY_API_URL=%s\n"
		 "EMPORIUM_CLOUDINARY_CLOUD=demo\nEMPORIUM_CLOUDINARY_API_KEY=1234\n"
		 "EMPORIUM_CLOUDINARY_API_SECRET=abcd\n", cld_base);
	env_changed = true;
	assert_true(h_stack_reconfigure(extra));

	/* a signed upload the stand-in verifies */
	r = upload_file(product, &jpg, "On Cloudinary");
	if (r.status != 201)
		fail_msg("cloudinary upload: %ld %s", r.status, r.body);
	media_sha256_hex((const unsigned char *)jpg.p, jpg.n, hash);
	o = h_json(&r);
	assert_string_equal(json_s(o, "id"), hash);
	assert_string_equal(json_s(o, "storage"), "cloudinary");
	assert_string_equal(json_s(o, "public_id"), hash);
	assert_int_equal(json_i(o, "width"), 5);
	assert_int_equal(json_i(o, "height"), 3);
	snprintf(url, sizeof(url), "%s", json_s(o, "url"));
	assert_true(strncmp(url, cld_base, strlen(cld_base)) == 0);
	json_object_put(o);
	h_resp_free(&r);
	assert_served(url, &jpg, "image/jpeg");
	assert_int_equal(cld_files(), 1);
	assert_int_equal(media_files(), local_before); /* nothing local */
	assert_int_equal(product_has_image(product, hash), 1);
	{
		char f[512];

		snprintf(f, sizeof(f),
			 "{\"_id\": {\"$oid\": \"%s\"}, \"images\": {\"$elemMatch\": {\"id\": \"%s\","
			 " \"storage\": \"cloudinary\", \"public_id\": \"%s\"}}}", product, hash, hash);
		assert_int_equal(h_db_count("products", f), 1);
	}

	/* delete calls destroy */
	r = image_call("DELETE", staff_token, product, hash, NULL);
	assert_int_equal(r.status, 204);
	h_resp_free(&r);
	assert_int_equal(cld_files(), 0);
	r = h_get(url);
	assert_int_equal(r.status, 404);
	h_resp_free(&r);
	/* the local copy of the same bytes (other product) is separate and stays */
	{
		char rel[160], lurl[200];

		assert_true(media_local_relpath(hash, "jpg", rel, sizeof(rel)));
		snprintf(lurl, sizeof(lurl), "/media/%s", rel);
		assert_served(lurl, &jpg, "image/jpeg");
	}

	/* a wrong secret: the stand-in answers 401, we answer 502, nothing stored */
	snprintf(extra, sizeof(extra),
		 "EMPORIUM_MEDIA_STORAGE=cloudinary\nEMPORIUM_CLOUDINARY_API_URL=%s\n"
		 "EMPORIUM_CLOUDINARY_CLOUD=demo\nEMPORIUM_CLOUDINARY_API_KEY=1234\n"
		 "EMPORIUM_CLOUDINARY_API_SECRET=not-the-secret\n", cld_base);
	env_changed = true;
	assert_true(h_stack_reconfigure(extra));
	r = upload_file(product, &png, NULL);
	assert_problem_field(&r, 502, NULL);
	assert_non_null(strstr(r.body, "Invalid Signature"));
	h_resp_free(&r);
	assert_int_equal(cld_files(), 0);
	assert_int_equal(media_files(), local_before);
	assert_int_equal(product_version_is(product, 3), 1);

	/* Cloudinary unreachable: 502 as well */
	snprintf(extra, sizeof(extra),
		 "EMPORIUM_MEDIA_STORAGE=cloudinary\nEMPORIUM_CLOUDINARY_API_URL=http://127.0.0.1:9\n"
		 "EMPORIUM_CLOUDINARY_CLOUD=demo\nEMPORIUM_CLOUDINARY_API_KEY=1234\n"
		 "EMPORIUM_CLOUDINARY_API_SECRET=abcd\n");
	env_changed = true;
	assert_true(h_stack_reconfigure(extra));
	r = upload_file(product, &png, NULL);
	assert_problem_field(&r, 502, NULL);
	h_resp_free(&r);
	assert_int_equal(product_version_is(product, 3), 1);
	free(jpg.p);
	free(png.p);
}

static int group_setup(void **state)
{
	int good = 0;

	(void)state;
	h_init();
	/* A suite run before this one may have restarted the database; each
	 * worker finds it again on its own schedule. Wait (bounded) until
	 * several readiness checks in a row succeed, so that every worker is
	 * back before the first upload. */
	for (int waited = 0; waited < 20000 && good < 6; waited += 100) {
		struct h_resp r = h_get("/api/v1/health/ready");

		good = r.status == 200 ? good + 1 : 0;
		h_resp_free(&r);
		if (good < 6)
			h_sleep_ms(good ? 10 : 100);
	}
	h_user_token("staff", staff_token, sizeof(staff_token), NULL, 0);
	h_user_token("customer", customer_token, sizeof(customer_token), NULL, 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	h_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_formats),
		cmocka_unit_test(test_upload_large),
		cmocka_unit_test(test_upload_refused),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_delete),
		cmocka_unit_test_setup_teardown(test_cloudinary, cld_setup, cld_teardown),
	};

	return cmocka_run_group_tests_name("media", tests, group_setup, group_teardown);
}
