/*
 * media.c - a product's images in the `products` collection: add, update
 * (alt text, order), remove; and keeping the stored bytes in step.
 *
 * The bytes are stored before the document is updated (a document must
 * never name bytes that are not there), and removed after the document no
 * longer names them. The shard lock of storage_local.c is held around both
 * steps, so "is anyone still referencing this hash?" and "store it and
 * reference it" cannot interleave within one host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "media/media.h"

#define MEDIA_UPDATE_TRIES 3

struct media_product {
	struct media_image *images;
	size_t n;
	bool has_version;
	int64_t version;
};

static void media_product_release(struct media_product *p)
{
	free(p->images);
	memset(p, 0, sizeof(*p));
}

/* Field readers search from the document's start: fields may be in any order. */
static void copy_utf8(const bson_t *doc, const char *key, char *out, size_t size)
{
	bson_iter_t f;
	uint32_t len = 0;
	const char *s;

	out[0] = '\0';
	if (bson_iter_init_find(&f, doc, key) && BSON_ITER_HOLDS_UTF8(&f)) {
		s = bson_iter_utf8(&f, &len);
		if (len < size) {
			memcpy(out, s, len);
			out[len] = '\0';
		}
	}
}

static int32_t get_int32(const bson_t *doc, const char *key)
{
	bson_iter_t f;

	if (bson_iter_init_find(&f, doc, key) && BSON_ITER_HOLDS_NUMBER(&f)) {
		int64_t v = bson_iter_as_int64(&f);

		if (v >= INT32_MIN && v <= INT32_MAX)
			return (int32_t)v;
	}
	return 0;
}

/* Reads one stored image subdocument. */
static void media_image_read(const bson_t *doc, struct media_image *im)
{
	memset(im, 0, sizeof(*im));
	copy_utf8(doc, "id", im->id, sizeof(im->id));
	copy_utf8(doc, "url", im->url, sizeof(im->url));
	copy_utf8(doc, "alt", im->alt, sizeof(im->alt));
	copy_utf8(doc, "content_type", im->content_type, sizeof(im->content_type));
	copy_utf8(doc, "storage", im->storage, sizeof(im->storage));
	copy_utf8(doc, "public_id", im->public_id, sizeof(im->public_id));
	im->position = get_int32(doc, "position");
	im->width = get_int32(doc, "width");
	im->height = get_int32(doc, "height");
}

/* Builds one image subdocument with typed appends. */
static void media_image_append(bson_t *parent, const char *key, const struct media_image *im)
{
	bson_t d;

	BSON_APPEND_DOCUMENT_BEGIN(parent, key, &d);
	BSON_APPEND_UTF8(&d, "id", im->id);
	BSON_APPEND_UTF8(&d, "url", im->url);
	BSON_APPEND_UTF8(&d, "alt", im->alt);
	BSON_APPEND_INT32(&d, "position", im->position);
	BSON_APPEND_INT32(&d, "width", im->width);
	BSON_APPEND_INT32(&d, "height", im->height);
	BSON_APPEND_UTF8(&d, "content_type", im->content_type);
	BSON_APPEND_UTF8(&d, "storage", im->storage);
	if (im->public_id[0])
		BSON_APPEND_UTF8(&d, "public_id", im->public_id);
	bson_append_document_end(parent, &d);
}

/* The filter {_id, deleted_at: null}: a soft-deleted product is gone. */
static void filter_product(bson_t *f, const bson_oid_t *product)
{
	BSON_APPEND_OID(f, "_id", product);
	BSON_APPEND_NULL(f, "deleted_at");
}

/*
 * Loads the product's images and version; EM_ERR_NOT_FOUND when none,
 * EM_ERR_CONFLICT when it is soft-deleted (read-only until restored;
 * the writes' filter_product guard still refuses one deleted meanwhile).
 */
static bool media_product_load(struct em_store *st, const bson_oid_t *product,
			       struct media_product *p, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "products");
	bson_t filter = BSON_INITIALIZER;
	bson_t *opts = BCON_NEW("projection", "{", "images", BCON_INT32(1),
				"version", BCON_INT32(1), "deleted_at", BCON_INT32(1), "}",
				"limit", BCON_INT64(1));
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = false, found = false, deleted = false;

	memset(p, 0, sizeof(*p));
	BSON_APPEND_OID(&filter, "_id", product);
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it, arr;

		found = true;
		if (bson_iter_init_find(&it, doc, "deleted_at") && BSON_ITER_HOLDS_DATE_TIME(&it))
			deleted = true;
		if (bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_NUMBER(&it)) {
			p->has_version = true;
			p->version = bson_iter_as_int64(&it);
		}
		if (bson_iter_init_find(&it, doc, "images") && BSON_ITER_HOLDS_ARRAY(&it) &&
		    bson_iter_recurse(&it, &arr)) {
			while (bson_iter_next(&arr)) {
				const uint8_t *data;
				uint32_t len;
				bson_t sub;

				if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
					continue;
				bson_iter_document(&arr, &len, &data);
				if (!bson_init_static(&sub, data, len))
					continue;
				p->images = xrealloc(p->images, (p->n + 1) * sizeof(*p->images));
				media_image_read(&sub, &p->images[p->n]);
				p->n++;
			}
		}
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "find product");
		goto done;
	}
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		goto done;
	}
	if (deleted) {
		em_error_setc(err, EM_ERR_CONFLICT, NULL, EM_CODE_CONFLICT,
			      "the product is deleted: restore it (POST "
			      "/api/v1/admin/products/{id}/restore) before changing its images");
		goto done;
	}
	ok = true;
done:
	if (!ok)
		media_product_release(p);
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	return ok;
}

/*
 * Counts products (deleted ones too: they may be restored) naming the hash
 * in this storage: a local file and a Cloudinary asset of the same bytes
 * are separate copies.
 */
static bool media_refs_count(struct em_store *st, const char *hash, const char *storage,
			     int64_t *n, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "products");
	bson_t filter = BSON_INITIALIZER, match, em;
	bson_error_t berr;

	BSON_APPEND_DOCUMENT_BEGIN(&filter, "images", &match);
	BSON_APPEND_DOCUMENT_BEGIN(&match, "$elemMatch", &em);
	BSON_APPEND_UTF8(&em, "id", hash);
	BSON_APPEND_UTF8(&em, "storage", storage);
	bson_append_document_end(&match, &em);
	bson_append_document_end(&filter, &match);
	*n = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &berr);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	if (*n < 0) {
		store_error_set(err, &berr, "count image references");
		return false;
	}
	return true;
}

/* Removes stored bytes that no product names any more. */
static void media_bytes_drop_if_unused(struct em_store *st, const struct em_config *cfg,
				       const struct media_image *im, const char *ext)
{
	struct em_error err = EM_ERROR_INIT;
	int64_t refs = -1;

	if (!media_refs_count(st, im->id, im->storage, &refs, &err) || refs != 0) {
		if (refs < 0)
			em_warn("media: image %s kept: %s", im->id, err.message);
		return;
	}
	if (strcmp(im->storage, "cloudinary") == 0) {
		if (!media_cloudinary_destroy(cfg, im->public_id[0] ? im->public_id : im->id, &err))
			em_warn("media: Cloudinary asset %s left behind: %s", im->id, err.message);
	} else if (!media_local_remove(cfg, im->id, ext, &err)) {
		em_warn("media: file of %s left behind: %s", im->id, err.message);
	}
}

static const char *ext_of(const char *content_type)
{
	if (strcmp(content_type, "image/png") == 0)
		return "png";
	if (strcmp(content_type, "image/webp") == 0)
		return "webp";
	return "jpg";
}

static bool media_update_one(struct em_store *st, const bson_t *filter, const bson_t *update,
			     int64_t *matched, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "products");
	bson_t reply;
	bson_error_t berr;
	bson_iter_t it;
	bool ok;

	ok = mongoc_collection_update_one(coll, filter, update, NULL, &reply, &berr);
	*matched = 0;
	if (ok && bson_iter_init_find(&it, &reply, "matchedCount") && BSON_ITER_HOLDS_NUMBER(&it))
		*matched = bson_iter_as_int64(&it);
	if (!ok)
		store_error_set(err, &berr, "update product images");
	bson_destroy(&reply);
	mongoc_collection_destroy(coll);
	return ok;
}

bool media_image_add(struct em_store *st, const struct em_config *cfg,
		     const bson_oid_t *product, const unsigned char *data, size_t len,
		     const struct media_image_info *info, const char *alt,
		     struct media_image *out, struct em_error *err)
{
	struct media_product p;
	struct media_local_lock lk = { -1 };
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, child, push, ne;
	bool ok = false, loaded = false, created = false, stored = false;
	int64_t matched = 0;
	int32_t next = 0;

	memset(out, 0, sizeof(*out));
	media_sha256_hex(data, len, out->id);
	if (!media_product_load(st, product, &p, err))
		goto done;
	loaded = true;
	for (size_t i = 0; i < p.n; i++) {
		if (strcmp(p.images[i].id, out->id) == 0) {
			em_error_set(err, EM_ERR_CONFLICT, "file", "the product already has this image");
			goto done;
		}
		if (p.images[i].position >= next)
			next = p.images[i].position + 1;
	}
	if (p.n >= MEDIA_IMAGES_MAX) {
		em_error_set(err, EM_ERR_CONFLICT, "file", "a product has at most %d images",
			     MEDIA_IMAGES_MAX);
		goto done;
	}
	snprintf(out->alt, sizeof(out->alt), "%s", alt ? alt : "");
	out->position = next;
	out->width = (int32_t)info->width;
	out->height = (int32_t)info->height;
	snprintf(out->content_type, sizeof(out->content_type), "%s", info->content_type);
	if (!media_local_lock(cfg, out->id, &lk, err))
		goto done;
	if (strcmp(media_config(cfg)->storage, "cloudinary") == 0) {
		struct media_cloudinary_result res;
		char filename[80];

		snprintf(filename, sizeof(filename), "%s.%s", out->id, info->ext);
		if (!media_cloudinary_upload(cfg, out->id, data, len, filename, &res, err))
			goto done;
		snprintf(out->storage, sizeof(out->storage), "cloudinary");
		snprintf(out->url, sizeof(out->url), "%s", res.secure_url);
		snprintf(out->public_id, sizeof(out->public_id), "%s", res.public_id);
	} else {
		if (!media_local_write(cfg, out->id, info->ext, data, len, &created, err))
			goto done;
		snprintf(out->storage, sizeof(out->storage), "local");
		if (!media_local_url(cfg, out->id, info->ext, out->url, sizeof(out->url))) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "the image URL is too long");
			goto done;
		}
	}
	stored = true;

	/* Not guarded by version: concurrent uploads to one product may both
	 * land (positions then tie, and array order breaks the tie). */
	filter_product(&filter, product);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "images.id", &ne);
	BSON_APPEND_UTF8(&ne, "$ne", out->id);
	bson_append_document_end(&filter, &ne);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$push", &push);
	media_image_append(&push, "images", out);
	bson_append_document_end(&update, &push);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &child);
	BSON_APPEND_INT32(&child, "version", 1);
	bson_append_document_end(&update, &child);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &child);
	BSON_APPEND_DATE_TIME(&child, "updated_at", em_now_ms());
	bson_append_document_end(&update, &child);
	if (!media_update_one(st, &filter, &update, &matched, err))
		goto done;
	if (matched != 1) {
		em_error_set(err, EM_ERR_CONFLICT, NULL,
			     "the product was deleted or given this image meanwhile");
		goto done;
	}
	ok = true;
done:
	if (!ok && stored) {
		/* Undo the store if nobody names these bytes (we hold the lock). */
		if (created) {
			struct em_error e2 = EM_ERROR_INIT;

			if (!media_local_remove(cfg, out->id, info->ext, &e2))
				em_warn("media: %s", e2.message);
		} else if (strcmp(out->storage, "cloudinary") == 0) {
			media_bytes_drop_if_unused(st, cfg, out, info->ext);
		}
	}
	media_local_unlock(&lk);
	if (loaded)
		media_product_release(&p);
	bson_destroy(&filter);
	bson_destroy(&update);
	return ok;
}

bool media_image_remove(struct em_store *st, const struct em_config *cfg,
			const bson_oid_t *product, const char *image_id,
			struct em_error *err)
{
	struct media_product p;
	struct media_image im;
	struct media_local_lock lk = { -1 };
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, child, pull;
	bool ok = false, loaded = false, found = false;
	int64_t matched = 0;

	if (!media_product_load(st, product, &p, err))
		goto done;
	loaded = true;
	for (size_t i = 0; i < p.n && !found; i++) {
		if (strcmp(p.images[i].id, image_id) == 0) {
			im = p.images[i];
			found = true;
		}
	}
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "the product has no such image");
		goto done;
	}
	if (!media_local_lock(cfg, image_id, &lk, err))
		goto done;
	filter_product(&filter, product);
	BSON_APPEND_UTF8(&filter, "images.id", image_id);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$pull", &pull);
	BSON_APPEND_DOCUMENT_BEGIN(&pull, "images", &child);
	BSON_APPEND_UTF8(&child, "id", image_id);
	bson_append_document_end(&pull, &child);
	bson_append_document_end(&update, &pull);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &child);
	BSON_APPEND_INT32(&child, "version", 1);
	bson_append_document_end(&update, &child);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &child);
	BSON_APPEND_DATE_TIME(&child, "updated_at", em_now_ms());
	bson_append_document_end(&update, &child);
	if (!media_update_one(st, &filter, &update, &matched, err))
		goto done;
	if (matched != 1) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "the product has no such image");
		goto done;
	}
	/* The image is gone from the product whatever happens to the bytes:
	 * a failure to remove them is logged, not reported. */
	media_bytes_drop_if_unused(st, cfg, &im, ext_of(im.content_type));
	ok = true;
done:
	media_local_unlock(&lk);
	if (loaded)
		media_product_release(&p);
	bson_destroy(&filter);
	bson_destroy(&update);
	return ok;
}

/* Order of display: position, then array order. */
static int image_order_cmp(const void *a, const void *b)
{
	const struct media_image *const *x = a, *const *y = b;

	if ((*x)->position != (*y)->position)
		return (*x)->position < (*y)->position ? -1 : 1;
	return *x < *y ? -1 : *x > *y;
}

bool media_image_update(struct em_store *st, const bson_oid_t *product,
			const char *image_id, const char *alt, int64_t position,
			struct media_image **images, size_t *nimages, struct em_error *err)
{
	*images = NULL;
	*nimages = 0;
	for (int attempt = 0; attempt < MEDIA_UPDATE_TRIES; attempt++) {
		struct media_product p;
		struct media_image **order = NULL, *target = NULL;
		bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, child;
		int64_t matched = 0;
		size_t at = 0;
		bool ok;

		if (!media_product_load(st, product, &p, err))
			return false;
		for (size_t i = 0; i < p.n; i++)
			if (strcmp(p.images[i].id, image_id) == 0)
				target = &p.images[i];
		if (!target) {
			media_product_release(&p);
			em_error_set(err, EM_ERR_NOT_FOUND, NULL, "the product has no such image");
			return false;
		}
		if (position >= (int64_t)p.n) {
			em_error_set(err, EM_ERR_INVALID, "position",
				     "position must be from 0 to %zu", p.n - 1);
			media_product_release(&p);
			return false;
		}
		order = xcalloc(p.n, sizeof(*order));
		for (size_t i = 0; i < p.n; i++)
			order[i] = &p.images[i];
		qsort(order, p.n, sizeof(*order), image_order_cmp);
		if (position >= 0) {
			/* take the target out, put it back at index position */
			for (at = 0; order[at] != target; at++)
				;
			memmove(order + at, order + at + 1, (p.n - at - 1) * sizeof(*order));
			memmove(order + position + 1, order + position,
				(p.n - 1 - (size_t)position) * sizeof(*order));
			order[position] = target;
		}
		if (alt)
			snprintf(target->alt, sizeof(target->alt), "%s", alt);

		filter_product(&filter, product);
		if (p.has_version)
			BSON_APPEND_INT64(&filter, "version", p.version);
		else {
			BSON_APPEND_DOCUMENT_BEGIN(&filter, "version", &child);
			BSON_APPEND_BOOL(&child, "$exists", false);
			bson_append_document_end(&filter, &child);
		}
		BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &child);
		for (size_t i = 0; i < p.n; i++) {
			char key[48];
			size_t idx = (size_t)(order[i] - p.images);

			order[i]->position = (int32_t)i;
			snprintf(key, sizeof(key), "images.%zu.position", idx);
			BSON_APPEND_INT32(&child, key, (int32_t)i);
		}
		if (alt) {
			char key[48];

			snprintf(key, sizeof(key), "images.%zu.alt", (size_t)(target - p.images));
			BSON_APPEND_UTF8(&child, key, alt);
		}
		BSON_APPEND_DATE_TIME(&child, "updated_at", em_now_ms());
		bson_append_document_end(&update, &child);
		BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &child);
		BSON_APPEND_INT32(&child, "version", 1);
		bson_append_document_end(&update, &child);
		ok = media_update_one(st, &filter, &update, &matched, err);
		bson_destroy(&filter);
		bson_destroy(&update);
		if (ok && matched == 1) {
			*images = xcalloc(p.n, sizeof(**images));
			for (size_t i = 0; i < p.n; i++)
				(*images)[i] = *order[i];
			*nimages = p.n;
		}
		free(order);
		media_product_release(&p);
		if (!ok)
			return false;
		if (matched == 1)
			return true;
		/* the product changed between our read and our write: again */
	}
	em_error_set(err, EM_ERR_CONFLICT, NULL,
		     "the product keeps changing; try again");
	return false;
}
