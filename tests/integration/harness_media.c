/* harness_media.c - see harness_media.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "harness_media.h"
#include "media/media.h"

#ifndef EM_TOP_SRCDIR
#define EM_TOP_SRCDIR "."
#endif

char hm_staff_token[2048], hm_customer_token[2048];

void hm_buf_add(struct hm_buf *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->n + len + 1);
	assert_non_null(b->p);
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
}

void hm_buf_str(struct hm_buf *b, const char *s)
{
	hm_buf_add(b, s, strlen(s));
}

void hm_mp_part(struct hm_buf *b, const char *name, const char *filename,
		    const void *data, size_t len)
{
	char head[512];

	snprintf(head, sizeof(head),
		 "--" HM_BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"%s%s%s\r\n%s\r\n",
		 name, filename ? "; filename=\"" : "", filename ? filename : "",
		 filename ? "\"" : "", filename ? "Content-Type: image/png\r\n" : "");
	hm_buf_str(b, head);
	hm_buf_add(b, data, len);
	hm_buf_str(b, "\r\n");
}

void hm_mp_end(struct hm_buf *b)
{
	hm_buf_str(b, "--" HM_BOUNDARY "--\r\n");
}

void hm_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

void hm_png_chunk(struct hm_buf *b, const char *type, const unsigned char *data, uint32_t len)
{
	unsigned char h[8], crc[4];
	uint32_t c;

	hm_put32(h, len);
	memcpy(h + 4, type, 4);
	hm_buf_add(b, h, 8);
	if (len)
		hm_buf_add(b, data, len);
	c = media_crc32(0, (const unsigned char *)type, 4);
	c = media_crc32(c, data, len);
	hm_put32(crc, c);
	hm_buf_add(b, crc, 4);
}

/*
 * A grayscale PNG w x h (declaring dw x dh) with one stored deflate block,
 * distinct per seed, plus pad bytes of a private ancillary chunk (to make
 * it large while keeping it valid).
 */
struct hm_buf hm_png_make(uint32_t w, uint32_t h, uint32_t dw, uint32_t dh, unsigned seed,
			   size_t pad)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	struct hm_buf b = { 0 };
	unsigned char ihdr[13], idat[2048];
	size_t raw = (size_t)(w + 1) * h, n = 0;
	uint32_t a = 1, s = 0;

	assert_true(raw < 2000);
	hm_buf_add(&b, sig, 8);
	hm_put32(ihdr, dw);
	hm_put32(ihdr + 4, dh);
	ihdr[8] = 8;
	ihdr[9] = 0;
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	hm_png_chunk(&b, "IHDR", ihdr, 13);
	if (pad) {
		unsigned char *p = malloc(pad);

		assert_non_null(p);
		for (size_t i = 0; i < pad; i++)
			p[i] = (unsigned char)(i * 31 + seed);
		hm_png_chunk(&b, "emPd", p, (uint32_t)pad);
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
	hm_put32(idat + n, s << 16 | a);
	n += 4;
	hm_png_chunk(&b, "IDAT", idat, (uint32_t)n);
	hm_png_chunk(&b, "IEND", NULL, 0);
	return b;
}

struct hm_buf hm_fixture(const char *name)
{
	char path[1024], chunk[4096];
	struct hm_buf b = { 0 };
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/images/%s", EM_TOP_SRCDIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		hm_buf_add(&b, chunk, n);
	fclose(f);
	return b;
}

/* Inserts a minimal product (the catalog's contract) and returns its id. */
/*
 * A product made as staff make one (POST /api/v1/admin/products), so it is
 * a whole product everywhere it is listed - the contract suite checks the
 * staff list against the description. Version 1, no images.
 */
void hm_product_new(char hex[25])
{
	char body[512], auth[2200], rnd[25];
	const char *hdrs[3] = { auth, "Content-Type: application/json", NULL };
	struct h_resp r;
	json_object *j, *id;
	bson_oid_t oid;

	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, rnd);
	snprintf(body, sizeof(body),
		 "{\"title\": \"Test shoe\", \"slug\": \"shoe-%s\", \"status\": \"active\","
		 " \"options\": [\"size\"], \"variants\": [{\"sku\": \"T-%s\","
		 " \"options\": {\"size\": \"42\"}, \"price\": 250000, \"stock\": 5}]}", rnd, rnd);
	h_bearer(hm_staff_token, auth, sizeof(auth));
	r = h_request("POST", "/api/v1/admin/products", body, strlen(body), hdrs);
	if (r.status != 201)
		fail_msg("create a product: %ld %s", r.status, r.body);
	j = h_json(&r);
	assert_true(json_object_object_get_ex(j, "id", &id));
	snprintf(hex, 25, "%s", json_object_get_string(id));
	json_object_put(j);
	h_resp_free(&r);
}

/* A product made, then soft-deleted, through the admin API. */
void hm_product_deleted(char hex[25])
{
	char path[128], auth[2200];
	const char *hdrs[3] = { auth, "If-Match: \"1\"", NULL };
	struct h_resp r;

	hm_product_new(hex);
	h_bearer(hm_staff_token, auth, sizeof(auth));
	snprintf(path, sizeof(path), "/api/v1/admin/products/%s", hex);
	r = h_request("DELETE", path, NULL, 0, hdrs);
	if (r.status != 200 && r.status != 204)
		fail_msg("delete a product: %ld %s", r.status, r.body);
	h_resp_free(&r);
}

long hm_product_version_is(const char *hex, long version)
{
	char f[256];

	snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"version\": %ld}", hex, version);
	return h_db_count("products", f);
}

long hm_product_has_image(const char *hex, const char *image_id)
{
	char f[256];

	snprintf(f, sizeof(f), "{\"_id\": {\"$oid\": \"%s\"}, \"images.id\": \"%s\"}", hex,
		 image_id);
	return h_db_count("products", f);
}

struct h_resp hm_upload(const char *token, const char *product, const struct hm_buf *body,
			    const char *content_type)
{
	char path[256], auth[2200];
	const char *headers[3] = { content_type, NULL, NULL };

	snprintf(path, sizeof(path), "/api/v1/admin/products/%s/images", product);
	if (token)
		headers[1] = h_bearer(token, auth, sizeof(auth));
	return h_request("POST", path, body ? body->p : NULL, body ? body->n : 0, headers);
}

struct h_resp hm_upload_file(const char *product, const struct hm_buf *file, const char *alt)
{
	struct hm_buf body = { 0 };
	struct h_resp r;

	hm_mp_part(&body, "file", "photo.png", file->p, file->n);
	if (alt)
		hm_mp_part(&body, "alt", NULL, alt, strlen(alt));
	hm_mp_end(&body);
	r = hm_upload(hm_staff_token, product, &body, HM_MULTIPART_CT);
	free(body.p);
	return r;
}

struct h_resp hm_image_call(const char *method, const char *token, const char *product,
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
long hm_media_files_in(const char *dir)
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
			n += hm_media_files_in(path);
		else
			n++;
	}
	closedir(d);
	return n;
}

long hm_media_files(void)
{
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/media", h_env("STACK_DIR"));
	return hm_media_files_in(dir);
}

const char *hm_json_s(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in the answer", key);
	return json_object_get_string(v);
}

int hm_json_i(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		fail_msg("no integer %s in the answer", key);
	return json_object_get_int(v);
}

/* The problem names the field in errors[0].field. */
void hm_assert_problem_field(const struct h_resp *r, long status, const char *field)
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
void hm_assert_served(const char *url, const struct hm_buf *bytes, const char *content_type)
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

int hm_group_setup(void **state)
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
	/* the callers come through the real sign-up: register, mail, verify, login */
	h_user_register("staff", hm_staff_token, sizeof(hm_staff_token), NULL, 0);
	h_user_register("customer", hm_customer_token, sizeof(hm_customer_token), NULL, 0);
	return 0;
}

int hm_group_teardown(void **state)
{
	(void)state;
	h_cleanup();
	return 0;
}
