/*
 * harness_media.h - what the media suites share (split from
 * test_media.c): multipart bodies and generated PNGs, fixtures, products
 * inserted directly in the database (the catalog's routes are another
 * module's), upload and image calls, the media directory, and a group
 * setup that waits for every worker to reach the database.
 */
#ifndef EM_TEST_HARNESS_MEDIA_H
#define EM_TEST_HARNESS_MEDIA_H

#include <json-c/json.h>
#include <stdint.h>

#include "harness.h"

#define HM_BOUNDARY "emporium-test-7f3a"
#define HM_MULTIPART_CT "Content-Type: multipart/form-data; boundary=" HM_BOUNDARY

/* Tokens of a staff member and a customer, made by hm_group_setup(). */
extern char hm_staff_token[2048], hm_customer_token[2048];

/* A growing byte buffer (free p). */
struct hm_buf {
	char *p;
	size_t n;
};

void hm_buf_add(struct hm_buf *b, const void *data, size_t len);
void hm_buf_str(struct hm_buf *b, const char *s);
void hm_mp_part(struct hm_buf *b, const char *name, const char *filename,
		    const void *data, size_t len);
void hm_mp_end(struct hm_buf *b);
void hm_put32(unsigned char *p, uint32_t v);
void hm_png_chunk(struct hm_buf *b, const char *type, const unsigned char *data, uint32_t len);
/*
 * A grayscale PNG w x h (declaring dw x dh) with one stored deflate block,
 * distinct per seed, plus pad bytes of a private ancillary chunk (to make
 * it large while keeping it valid).
 */
struct hm_buf hm_png_make(uint32_t w, uint32_t h, uint32_t dw, uint32_t dh, unsigned seed,
			   size_t pad);
struct hm_buf hm_fixture(const char *name);
/* Inserts a minimal product (the catalog's contract) and returns its id. */
void hm_product_new(char hex[25]);
/* A product made and then soft-deleted through the admin API. */
void hm_product_deleted(char hex[25]);
long hm_product_version_is(const char *hex, long version);
long hm_product_has_image(const char *hex, const char *image_id);
struct h_resp hm_upload(const char *token, const char *product, const struct hm_buf *body,
			    const char *content_type);
struct h_resp hm_upload_file(const char *product, const struct hm_buf *file, const char *alt);
struct h_resp hm_image_call(const char *method, const char *token, const char *product,
				const char *image, const char *json);
/* Counts regular files under the media dir (temp and lock files aside). */
long hm_media_files_in(const char *dir);
long hm_media_files(void);
const char *hm_json_s(json_object *o, const char *key);
int hm_json_i(json_object *o, const char *key);
/* The problem names the field in errors[0].field. */
void hm_assert_problem_field(const struct h_resp *r, long status, const char *field);
/* GETs a URL (a /media/ path through nginx, or an absolute URL). */
void hm_assert_served(const char *url, const struct hm_buf *bytes, const char *content_type);
int hm_group_setup(void **state);
int hm_group_teardown(void **state);

#endif
