/*
 * media.h - product images: upload validation, local storage (served by
 * nginx at /media/) and Cloudinary storage.
 *
 * An image belongs to a product (collection `products`); the product's
 * `images` array holds one subdocument per image:
 *   { id: string (SHA-256 hex of the bytes), url: string, alt: string,
 *     position: int32, width: int32, height: int32,
 *     content_type: "image/jpeg"|"image/png"|"image/webp",
 *     storage: "local"|"cloudinary", public_id?: string (cloudinary) }
 * and every change bumps the product's `version` ($inc 1). Updates are
 * built here with typed bson appends ($push, $pull, $set of positions),
 * never from request JSON.
 *
 * Positions are sort keys: the images are shown in ascending position.
 * An upload takes the highest position + 1, a removal leaves a gap, and a
 * PATCH of one image's position renumbers them all 0..n-1.
 *
 * The layers: multipart.c (the request body), probe.c (what the bytes are),
 * storage_local.c / cloudinary.c (where they go), media.c (the product
 * document), media_routes.c (HTTP).
 */
#ifndef EM_MEDIA_MEDIA_H
#define EM_MEDIA_MEDIA_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

/* The module's configuration (EMPORIUM_MEDIA_*, EMPORIUM_CLOUDINARY_*). */
struct media_config {
	char storage[16];                   /* EMPORIUM_MEDIA_STORAGE: local|cloudinary */
	char dir[EM_CONFIG_STR_MAX];        /* EMPORIUM_MEDIA_DIR */
	char url_prefix[256];               /* EMPORIUM_MEDIA_URL_PREFIX */
	int64_t max_bytes;                  /* EMPORIUM_MEDIA_MAX_BYTES */
	int64_t max_pixels;                 /* EMPORIUM_MEDIA_MAX_PIXELS */
	char cloudinary_url[256];           /* EMPORIUM_CLOUDINARY_API_URL */
	char cloudinary_cloud[128];         /* EMPORIUM_CLOUDINARY_CLOUD */
	char cloudinary_key[128];           /* EMPORIUM_CLOUDINARY_API_KEY */
	char cloudinary_secret[256];        /* EMPORIUM_CLOUDINARY_API_SECRET */
};

extern const struct em_config_section media_config_section;

/* The media module's values in cfg. */
static inline const struct media_config *media_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &media_config_section);
}

/* ---- multipart/form-data (RFC 7578, RFC 2046 §5.1) ---- */

#define MEDIA_MULTIPART_MAX_PARTS 8
#define MEDIA_BOUNDARY_MAX 70

struct media_part {
	char name[64];          /* the Content-Disposition name */
	bool has_filename;      /* a filename was given (its value is not used) */
	const char *data;       /* points into the body; not NUL-terminated */
	size_t len;
};

struct media_multipart {
	struct media_part parts[MEDIA_MULTIPART_MAX_PARTS];
	size_t nparts;
};

/*
 * Reads the boundary from a Content-Type header value. The media type must
 * be multipart/form-data (else EM_ERR_MEDIA_TYPE); the boundary parameter
 * must be 1..70 characters of RFC 2046's bchars, not ending in a space
 * (else EM_ERR_INVALID). boundary gets a NUL-terminated copy; size must be
 * at least MEDIA_BOUNDARY_MAX + 1.
 */
bool media_multipart_boundary(const char *content_type, char *boundary, size_t size,
			      struct em_error *err);

/*
 * Splits len bytes of body into parts. Each part needs a
 * Content-Disposition: form-data header with a name; names must be unique;
 * other part headers (the part's Content-Type included) are ignored, as is
 * the filename: what a file is gets decided from its bytes. Headers are
 * bounded (MEDIA_PART_HEADERS_MAX bytes per part), the number of parts is
 * bounded, and the close delimiter must be present (a truncated body is
 * refused). Parts point into body, which must outlive mp.
 * EM_ERR_INVALID on any malformation.
 */
bool media_multipart_parse(const char *body, size_t len, const char *boundary,
			   struct media_multipart *mp, struct em_error *err);

/* The part with this name, or NULL. */
const struct media_part *media_multipart_get(const struct media_multipart *mp,
					     const char *name);

/* ---- what an upload is: decided by magic bytes and a header parse ---- */

enum media_image_type { MEDIA_IMAGE_PNG, MEDIA_IMAGE_JPEG, MEDIA_IMAGE_WEBP };

struct media_image_info {
	enum media_image_type type;
	uint32_t width, height;
	const char *content_type; /* "image/png", ... (static) */
	const char *ext;          /* "png", "jpg", "webp" (static) */
};

/*
 * Checks that data is a whole PNG, JPEG (baseline or progressive) or WebP
 * and reads its dimensions:
 *  - PNG: signature, IHDR first (length 13, valid fields, CRC checked),
 *    every chunk inside the file with a correct CRC, an IDAT, IEND last.
 *  - JPEG: SOI, every segment inside the file, an SOF0/1/2 before the first
 *    SOS, the entropy-coded data walked to EOI, EOI last.
 *  - WebP: RIFF size equal to the file's, every chunk inside it, a VP8,
 *    VP8L or VP8X header with consistent dimensions, an image chunk.
 * Nothing may follow the end of the image (no polyglots). Width and height
 * must be > 0 and width * height <= max_pixels (decompression bombs).
 * Anything that is none of the three is EM_ERR_MEDIA_TYPE; a damaged or
 * oversized image EM_ERR_INVALID; both with field "file".
 */
bool media_image_probe(const unsigned char *data, size_t len, int64_t max_pixels,
		       struct media_image_info *info, struct em_error *err);

/* CRC-32 (ISO 3309, as PNG uses it) of len bytes, continuing from crc (0). */
uint32_t media_crc32(uint32_t crc, const unsigned char *data, size_t len);

/* ---- storage ---- */

/* SHA-256 of len bytes as 64 lower-case hex digits (out: 65 bytes). */
void media_sha256_hex(const unsigned char *data, size_t len, char out[65]);

/*
 * Local storage: the file is EMPORIUM_MEDIA_DIR/ab/cd/<hash>.<ext> (ab, cd:
 * the hash's first two byte pairs), written atomically (temp file, fsync,
 * rename, 0644) and served by nginx at EMPORIUM_MEDIA_URL_PREFIX + the
 * same relative path. A shard lock (flock on ab/cd/.lock) is held by
 * media_local_lock() callers so that a removal's "is it still referenced?"
 * check and an upload's write + database update cannot interleave.
 */
struct media_local_lock {
	int fd;
};

/* Takes the lock of the shard the hash lives in (creates the dirs). */
bool media_local_lock(const struct em_config *cfg, const char *hash,
		      struct media_local_lock *lk, struct em_error *err);
void media_local_unlock(struct media_local_lock *lk);

/* The path relative to the media dir ("ab/cd/<hash>.<ext>"). */
bool media_local_relpath(const char *hash, const char *ext, char *out, size_t size);

/*
 * Writes the bytes under their hash (a file already there with the same
 * size is kept). *created tells whether this call created the file.
 */
bool media_local_write(const struct em_config *cfg, const char *hash, const char *ext,
		       const unsigned char *data, size_t len, bool *created,
		       struct em_error *err);

/* Removes the file (a missing file is not an error). */
bool media_local_remove(const struct em_config *cfg, const char *hash, const char *ext,
			struct em_error *err);

/* The public URL of a local image into out. */
bool media_local_url(const struct em_config *cfg, const char *hash, const char *ext,
		     char *out, size_t size);

/*
 * Cloudinary's request signature: params is a NULL-terminated list of
 * "key=value" strings (any order; file, cloud_name, resource_type and
 * api_key must not be among them); they are sorted by key, joined with
 * '&', the secret is appended, and the SHA-1 (sha256 false) or SHA-256
 * digest is written as lower-case hex into out (41 or 65 bytes).
 */
bool media_cloudinary_sign(const char *const *params, const char *secret, bool sha256,
			   char *out, size_t size);

/* SHA-1 of len bytes (the signature needs it; libsodium has none). */
void media_sha1(const unsigned char *data, size_t len, unsigned char out[20]);

struct media_cloudinary_result {
	char secure_url[1024];
	char public_id[256];
};

/*
 * Uploads with Cloudinary's signed upload API (POST
 * <API_URL>/v1_1/<cloud>/image/upload, multipart: file, api_key,
 * timestamp, public_id, signature). Any failure of the provider (refusal,
 * bad answer, timeout) is EM_ERR_UNAVAILABLE with field "storage": the
 * route answers 502.
 */
bool media_cloudinary_upload(const struct em_config *cfg, const char *public_id,
			     const unsigned char *data, size_t len, const char *filename,
			     struct media_cloudinary_result *res, struct em_error *err);

/* Deletes with the destroy API; "not found" counts as done. */
bool media_cloudinary_destroy(const struct em_config *cfg, const char *public_id,
			      struct em_error *err);

/* ---- the product's images ---- */

#define MEDIA_ALT_MAX 300
#define MEDIA_IMAGES_MAX 20

/* One image as stored in products.images. */
struct media_image {
	char id[65];
	char url[1024];
	char alt[MEDIA_ALT_MAX + 1];
	int32_t position;
	int32_t width, height;
	char content_type[32];
	char storage[16];
	char public_id[256]; /* "" when none */
};

/*
 * Adds an image to a product: checks the product exists (not deleted),
 * has room and does not hold the same image yet, stores the bytes with the
 * configured storage, then $push-es the image and bumps the version. If
 * the database update fails, bytes this call stored and nobody references
 * are removed again. *out is the stored image.
 */
bool media_image_add(struct em_store *st, const struct em_config *cfg,
		     const bson_oid_t *product, const unsigned char *data, size_t len,
		     const struct media_image_info *info, const char *alt,
		     struct media_image *out, struct em_error *err);

/*
 * Changes an image's alt text (alt != NULL) and/or moves it to index
 * position (>= 0) in the shown order, renumbering all positions 0..n-1;
 * optimistic on the product's version, retried a few times on a race.
 * images/nimages receive the product's images in order (caller frees
 * images with free()).
 */
bool media_image_update(struct em_store *st, const bson_oid_t *product,
			const char *image_id, const char *alt, int64_t position,
			struct media_image **images, size_t *nimages, struct em_error *err);

/*
 * Removes an image from a product ($pull, version + 1), then the stored
 * bytes when no product references them any more.
 */
bool media_image_remove(struct em_store *st, const struct em_config *cfg,
			const bson_oid_t *product, const char *image_id,
			struct em_error *err);

#endif
