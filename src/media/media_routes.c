/*
 * media_routes.c - HTTP for product images (staff):
 *   POST   /api/v1/admin/products/{id}/images             multipart upload
 *   PATCH  /api/v1/admin/products/{id}/images/{image_id}  {alt?, position?}
 *   DELETE /api/v1/admin/products/{id}/images/{image_id}
 *
 * The upload route is EM_BODY_UPLOAD: the worker reads its body up to
 * EMPORIUM_MEDIA_MAX_BYTES plus multipart framing (EM_UPLOAD_OVERHEAD),
 * and this file parses the multipart itself. Everything is validated
 * before anything is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/ids.h"
#include "core/json.h"
#include "media/media.h"
#include "media/media_routes.h"

/* Well-formed UTF-8 without control characters (alt text is shown in HTML
 * attributes and screen readers; a control character there is a bug). */
static bool text_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static bool product_id_parse(struct em_request *req, bson_oid_t *oid, struct em_error *err)
{
	const char *id = em_request_path_param(req, "id");

	if (!em_oid_parse(id, oid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, "id", "no such product");
		return false;
	}
	return true;
}

static bool image_id_check(struct em_request *req, const char **image_id,
			   struct em_error *err)
{
	const char *id = em_request_path_param(req, "image_id");
	size_t i;

	for (i = 0; id && id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			break;
	if (!id || id[i] || i != 64) {
		em_error_set(err, EM_ERR_NOT_FOUND, "image_id", "the product has no such image");
		return false;
	}
	*image_id = id;
	return true;
}

static json_object *image_json(const struct media_image *im)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(im->id));
	json_object_object_add(o, "url", json_object_new_string(im->url));
	json_object_object_add(o, "alt", json_object_new_string(im->alt));
	json_object_object_add(o, "position", json_object_new_int(im->position));
	json_object_object_add(o, "width", json_object_new_int(im->width));
	json_object_object_add(o, "height", json_object_new_int(im->height));
	json_object_object_add(o, "content_type", json_object_new_string(im->content_type));
	json_object_object_add(o, "storage", json_object_new_string(im->storage));
	if (im->public_id[0])
		json_object_object_add(o, "public_id", json_object_new_string(im->public_id));
	return o;
}

/* A provider failure is a 502: the request was fine, the upstream was not. */
static void storage_failed(struct em_error *err)
{
	if (err->kind == EM_ERR_UNAVAILABLE && strcmp(err->field, "storage") == 0) {
		err->kind = EM_ERR_BAD_GATEWAY;
		err->field[0] = '\0';
	}
}

static bool media_image_create(struct em_request *req, struct em_error *err)
{
	const struct em_config *cfg = &req->app->cfg;
	struct media_multipart *mp = em_request_alloc(req, sizeof(*mp));
	const struct media_part *file, *alt_part;
	struct media_image_info info;
	struct media_image im;
	char boundary[MEDIA_BOUNDARY_MAX + 1], *alt = NULL;
	bson_oid_t product;
	json_object *o;

	if (!product_id_parse(req, &product, err) ||
	    !media_multipart_boundary(em_request_header(req, "Content-Type"), boundary,
				      sizeof(boundary), err))
		return false;
	if (!req->body || req->body_len == 0) {
		em_error_set(err, EM_ERR_INVALID, "file", "the file part is missing");
		return false;
	}
	if (!media_multipart_parse(req->body, req->body_len, boundary, mp, err))
		return false;
	for (size_t i = 0; i < mp->nparts; i++) {
		if (strcmp(mp->parts[i].name, "file") != 0 && strcmp(mp->parts[i].name, "alt") != 0) {
			em_error_set(err, EM_ERR_INVALID, mp->parts[i].name,
				     "unknown part; only file and alt are accepted");
			return false;
		}
	}
	file = media_multipart_get(mp, "file");
	if (!file || file->len == 0) {
		em_error_set(err, EM_ERR_INVALID, "file", "the file part is missing or empty");
		return false;
	}
	if ((int64_t)file->len > media_config(cfg)->max_bytes) {
		em_error_set(err, EM_ERR_TOO_LARGE, "file", "the image is larger than %lld bytes",
			     (long long)media_config(cfg)->max_bytes);
		return false;
	}
	alt_part = media_multipart_get(mp, "alt");
	if (alt_part) {
		if (alt_part->len > MEDIA_ALT_MAX ||
		    !text_ok((const unsigned char *)alt_part->data, alt_part->len)) {
			em_error_set(err, EM_ERR_INVALID, "alt",
				     "alt must be UTF-8 text of at most %d bytes without control characters",
				     MEDIA_ALT_MAX);
			return false;
		}
		alt = em_request_alloc(req, alt_part->len + 1);
		memcpy(alt, alt_part->data, alt_part->len);
		alt[alt_part->len] = '\0';
	}
	if (!media_image_probe((const unsigned char *)file->data, file->len,
			       media_config(cfg)->max_pixels, &info, err))
		return false;
	if (!media_image_add(&req->app->store, cfg, &product, (const unsigned char *)file->data,
			     file->len, &info, alt, &im, err)) {
		storage_failed(err);
		return false;
	}
	o = image_json(&im);
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		return false;
	}
	/* 201 + Location, as every create: the image's own URI */
	{
		char hex[25], loc[192];

		bson_oid_to_string(&product, hex);
		snprintf(loc, sizeof(loc), "/api/v1/admin/products/%s/images/%s", hex, im.id);
		em_response_header(req, "Location", loc);
	}
	em_response_json(req, 201, o);
	return true;
}

static const char *const media_patch_fields[] = { "alt", "position", NULL };

static bool media_image_patch(struct em_request *req, struct em_error *err)
{
	bson_oid_t product;
	const char *image_id, *alt = NULL;
	int64_t position = -1;
	bool has_position = false;
	struct media_image *images = NULL;
	size_t n = 0;
	json_object *o, *arr;
	bool ok = false;

	if (!product_id_parse(req, &product, err) || !image_id_check(req, &image_id, err))
		return false;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (em_json_check_fields(req->json, media_patch_fields, err) || err->field[0]) {
		/* absent = unchanged; neither field is nullable (an image
		 * always has an alt, "" when none, and a place): the
		 * accessors refuse null */
		if (em_json_get_string(req->json, "alt", 0, MEDIA_ALT_MAX, false, &alt, err) &&
		    alt && !text_ok((const unsigned char *)alt, strlen(alt)))
			em_error_setc(err, EM_ERR_INVALID, "alt", EM_CODE_INVALID_FORMAT,
				      "alt must not hold control characters");
		em_json_get_int64(req->json, "position", 0, MEDIA_IMAGES_MAX - 1, false,
				  &has_position, &position, err);
		if (err->kind == EM_ERR_NONE && !alt && !has_position)
			em_error_setc(err, EM_ERR_INVALID, NULL, EM_CODE_REQUIRED,
				      "give alt, position or both");
	}
	if (!em_error_collect_end(err))
		return false;
	if (!has_position)
		position = -1;
	if (!media_image_update(&req->app->store, &product, image_id, alt, position, &images,
				&n, err))
		return false;
	o = json_object_new_object();
	arr = json_object_new_array();
	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *im = image_json(&images[i]);

		if (!im || json_object_array_add(arr, im) != 0) {
			json_object_put(im);
			json_object_put(o);
			json_object_put(arr);
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
			goto done;
		}
	}
	json_object_object_add(o, "images", arr);
	em_response_json(req, 200, o);
	ok = true;
done:
	free(images);
	return ok;
}

static bool media_image_delete(struct em_request *req, struct em_error *err)
{
	bson_oid_t product;
	const char *image_id;

	if (!product_id_parse(req, &product, err) || !image_id_check(req, &image_id, err))
		return false;
	if (!media_image_remove(&req->app->store, &req->app->cfg, &product, image_id, err)) {
		storage_failed(err);
		return false;
	}
	em_response_empty(req, 204);
	return true;
}

static const struct em_route media_table[] = {
	{ "POST", "/api/v1/admin/products/{id}/images", media_image_create, EM_ROLE_STAFF,
	  EM_BODY_UPLOAD, NULL },
	{ "PATCH", "/api/v1/admin/products/{id}/images/{image_id}", media_image_patch,
	  EM_ROLE_STAFF, EM_BODY_JSON, NULL },
	{ "DELETE", "/api/v1/admin/products/{id}/images/{image_id}", media_image_delete,
	  EM_ROLE_STAFF, EM_BODY_NONE, NULL },
};

const struct em_route_table media_routes = EM_ROUTE_TABLE("media", media_table);
