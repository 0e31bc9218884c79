/*
 * module.c - the media module: product images, validated from their
 * bytes, stored on local disk (served by nginx) or at Cloudinary.
 */
#include "app/module.h"
#include "core/curl_body.h"
#include "http/router.h"
#include "media/media.h"
#include "media/media_routes.h"

static const struct em_config_entry media_config_entries[] = {
	{ { "EMPORIUM_MEDIA_STORAGE", "local", "local (served by nginx) or cloudinary" },
	  EM_CFG_ENUM, 0, 0, EM_CFG_FIELD_ENUM(struct media_config, storage, "local|cloudinary") },
	{ { "EMPORIUM_MEDIA_DIR", "/var/lib/emporium/media",
	    "where local images are written (nginx serves it at /media/)" },
	  EM_CFG_STR, 1, 0, EM_CFG_FIELD_STR(struct media_config, dir) },
	{ { "EMPORIUM_MEDIA_URL_PREFIX", "/media/", "URL prefix of local images" },
	  EM_CFG_STR, 1, 0, EM_CFG_FIELD_STR(struct media_config, url_prefix) },
	{ { "EMPORIUM_MEDIA_MAX_BYTES", "5242880", "largest image upload in bytes" },
	  EM_CFG_SIZE, 1024, 64LL * 1024 * 1024, EM_CFG_FIELD_NUM(struct media_config, max_bytes) },
	{ { "EMPORIUM_MEDIA_MAX_PIXELS", "40000000", "largest image in pixels (width x height)" },
	  EM_CFG_SIZE, 1, 1000000000LL, EM_CFG_FIELD_NUM(struct media_config, max_pixels) },
	{ { "EMPORIUM_CLOUDINARY_API_URL", "https://api.cloudinary.com",
	    "Cloudinary API base URL" },
	  EM_CFG_URI, 1, 0, EM_CFG_FIELD_STR(struct media_config, cloudinary_url) },
	{ { "EMPORIUM_CLOUDINARY_CLOUD", "", "Cloudinary cloud name" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct media_config, cloudinary_cloud) },
	{ { "EMPORIUM_CLOUDINARY_API_KEY", "", "Cloudinary API key" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct media_config, cloudinary_key) },
	{ { "EMPORIUM_CLOUDINARY_API_SECRET", "", "Cloudinary API secret" },
	  EM_CFG_SECRET, 1, 0, EM_CFG_FIELD_STR(struct media_config, cloudinary_secret) },
};

const struct em_config_section media_config_section = {
	.name = "media",
	.title = "product images",
	.entries = media_config_entries,
	.count = EM_COUNT(media_config_entries),
	.size = sizeof(struct media_config),
};

static const struct em_route_table *const media_route_tables[] = {
	&media_routes,
	NULL,
};

static const struct store_index media_indexes[] = {
	/* Removing an image asks whether any product still names its bytes
	 * (src/media/media.c, media_refs_count). Multikey over the array. */
	{ "products", "media_images_id", "{\"images.id\": 1}", "{}" },
};

/*
 * An upload route reads up to EMPORIUM_MEDIA_MAX_BYTES plus room for its
 * multipart framing; the worker grants that only to EM_BODY_UPLOAD routes.
 */
static int64_t media_upload_max_body(const struct em_config *cfg)
{
	return media_config(cfg)->max_bytes + EM_UPLOAD_OVERHEAD;
}

const struct em_module media_module = {
	.name = "media",
	.routes = media_route_tables,
	.upload_max_body = media_upload_max_body,
	.indexes = media_indexes,
	.nindexes = EM_COUNT(media_indexes),
	.config = &media_config_section,
	.process_init = em_curl_process_init,
	.process_release = em_curl_process_release,
};
