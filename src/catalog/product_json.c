/*
 * product_json.c - the public product view written straight from BSON to
 * JSON bytes (core/jsonbuf_bson.h), for the public detail and list: the
 * same bytes as catalog_product_public_render() serialised by
 * em_json_text (tests/integration/test_render_bytes compares them on the
 * seed data), without building and freeing a json-c tree per product.
 * When catalog_product_public_render changes, this view changes with it.
 */
#include <inttypes.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/json.h"
#include "core/jsonbuf_bson.h"

/* A variant's public stock (variant_stock_public in catalog_http.c). */
static void variant_tail(struct em_jsonbuf *b, bool *first, const bson_t *doc, void *ctx)
{
	const struct catalog_public_view *view = ctx;
	bson_iter_t it;
	int64_t n = 0;

	/* only an integer counts (json_type_int) */
	if (bson_iter_init_find(&it, doc, "stock") &&
	    (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)))
		n = em_jsonbuf_bson_int64(&it);
	em_jsonbuf_member_bool(b, first, "in_stock", n > 0);
	em_jsonbuf_key(b, first, "low_stock_left");
	if (n > 0 && n <= view->low_stock_public)
		em_jsonbuf_int64(b, n);
	else
		em_jsonbuf_raw(b, "null", 4);
}

/* absolute_url() of catalog_http.c: a local "/media/..." path gets the base in front */
static void url_write(struct em_jsonbuf *b, const char *url, const char *base)
{
	size_t n = strlen(base), u = strlen(url);

	if (url[0] != '/' || url[1] == '/') {
		em_jsonbuf_string(b, url, u);
		return;
	}
	while (n > 0 && base[n - 1] == '/')
		n--;
	/* the json-c render joins them in a 1024-byte buffer: at most 1023 */
	if (n > 1023)
		n = 1023;
	if (n + u > 1023)
		u = 1023 - n;
	{
		char buf[1024];

		memcpy(buf, base, n);
		memcpy(buf + n, url, u);
		em_jsonbuf_string(b, buf, n + u);
	}
}

static bool image_member(struct em_jsonbuf *b, const char *key, const bson_iter_t *it, void *ctx)
{
	const struct catalog_public_view *view = ctx;

	if (strcmp(key, "url") != 0 || !BSON_ITER_HOLDS_UTF8(it))
		return false;
	url_write(b, bson_iter_utf8(it, NULL), view->public_url);
	return true;
}

/* "image": the first image by position as {url, alt, width, height}, or null. */
static void image_card_write(struct em_jsonbuf *b, const bson_t *doc,
			     const struct catalog_public_view *view)
{
	static const char *const keys[] = { "url", "alt", "width", "height", NULL };
	bson_iter_t it, im, v;
	bson_t first;
	const uint8_t *first_data = NULL;
	uint32_t first_len = 0;
	int64_t best = INT64_MAX;

	if (bson_iter_init_find(&it, doc, "images") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &im)) {
		while (bson_iter_next(&im)) {
			const uint8_t *data;
			uint32_t len;
			bson_t sub;
			int64_t pos = 0;

			if (!BSON_ITER_HOLDS_DOCUMENT(&im))
				continue;
			bson_iter_document(&im, &len, &data);
			if (!bson_init_static(&sub, data, len))
				continue;
			if (bson_iter_init_find(&v, &sub, "position"))
				pos = em_jsonbuf_bson_int64(&v);
			if (pos < best) {
				best = pos;
				first_data = data; /* not the bson_t: a static one points into itself */
				first_len = len;
			}
		}
	}
	if (!first_data || !bson_init_static(&first, first_data, first_len)) {
		em_jsonbuf_raw(b, "null", 4);
		return;
	}
	em_jsonbuf_char(b, '{');
	for (size_t k = 0; keys[k]; k++) {
		bool f = k == 0;

		em_jsonbuf_key(b, &f, keys[k]);
		if (!bson_iter_init_find(&v, &first, keys[k]))
			em_jsonbuf_raw(b, "null", 4);
		else if (!image_member(b, keys[k], &v, (void *)view))
			em_jsonbuf_bson_value(b, &v);
	}
	em_jsonbuf_char(b, '}');
}

/* The category index entry of the product's category, or NULL. */
static json_object *category_ref(const bson_t *doc, const struct catalog_public_view *view)
{
	json_object *ref = NULL;
	bson_iter_t it;
	char hex[25];
	const char *key = NULL;

	if (!view->categories || !bson_iter_init_find(&it, doc, "category_id"))
		return NULL;
	if (BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_to_string(bson_iter_oid(&it), hex);
		key = hex;
	} else if (BSON_ITER_HOLDS_UTF8(&it)) {
		key = bson_iter_utf8(&it, NULL);
	} else if (BSON_ITER_HOLDS_DATE_TIME(&it)) {
		return NULL; /* a string in the render, but never a category id */
	}
	if (key)
		json_object_object_get_ex(view->categories, key, &ref);
	return ref;
}

static void product_tail(struct em_jsonbuf *b, bool *first, const bson_t *doc, void *ctx)
{
	const struct catalog_public_view *view = ctx;
	json_object *ref = category_ref(doc, view);
	bson_iter_t it;

	em_jsonbuf_member_bool(b, first, "in_stock",
			       bson_iter_init_find(&it, doc, "total_stock") &&
				       em_jsonbuf_bson_int64(&it) > 0);
	em_jsonbuf_key(b, first, "image");
	image_card_write(b, doc, view);
	em_jsonbuf_key(b, first, "category_info");
	if (ref) {
		static const char *const keys[] = { "id", "slug", "name", NULL };

		em_jsonbuf_char(b, '{');
		for (size_t k = 0; keys[k]; k++) {
			json_object *x = NULL;
			bool f = k == 0;

			json_object_object_get_ex(ref, keys[k], &x);
			em_jsonbuf_key(b, &f, keys[k]);
			em_jsonbuf_json(b, x);
		}
		em_jsonbuf_char(b, '}');
	} else {
		em_jsonbuf_raw(b, "null", 4);
	}
	if (view->detail) {
		json_object *path = NULL;

		em_jsonbuf_key(b, first, "breadcrumbs");
		if (ref && json_object_object_get_ex(ref, "path", &path))
			em_jsonbuf_json(b, path);
		else
			em_jsonbuf_raw(b, "[]", 2);
	}
}

static const char *const variant_drop[] = { "stock", "low_stock_alerts", "low_stock",
					    "low_stock_threshold", "in_stock", "low_stock_left",
					    NULL };
static const struct em_jsonbuf_view variant_view = { .drop = variant_drop, .tail = variant_tail };
static const char *const image_drop[] = { "storage", "public_id", NULL };
static const struct em_jsonbuf_view image_view = { .drop = image_drop, .member = image_member };
static const struct em_jsonbuf_rename product_rename[] = { { "_id", "id" },
							    { "category_id", "category" },
							    { NULL, NULL } };
static const struct em_jsonbuf_child product_children[] = { { "variants", &variant_view },
							     { "images", &image_view },
							     { NULL, NULL } };
/* catalog_product_render's public drops, then catalog_product_public_render's,
 * then the members the tail adds (stored ones would be replaced) */
static const char *const product_drop[] = {
	"stock_rev", "search_text", "_sold", "deleted_at", "deleted_by", "created_by",
	"updated_by", "total_stock", "version", "sold_units", "_score",
	"in_stock", "image", "category_info", "breadcrumbs", NULL,
};
static const struct em_jsonbuf_view product_view = { .drop = product_drop,
						     .rename = product_rename,
						     .children = product_children,
						     .tail = product_tail };

void catalog_product_public_write(struct em_jsonbuf *b, const bson_t *doc,
				  const struct catalog_public_view *view)
{
	em_jsonbuf_bson_doc(b, doc, &product_view, (void *)view);
}

bool catalog_page_respond_public(struct em_request *req, struct catalog_page *page,
				 const struct catalog_public_view *view)
{
	struct em_jsonbuf b = EM_JSONBUF_INIT;
	size_t len;
	char *body;

	em_jsonbuf_reserve(&b, 2048 * (page->n + 1));
	EM_JSONBUF_LIT(&b, "{\"items\":[");
	for (size_t i = 0; i < page->n; i++) {
		if (i)
			em_jsonbuf_char(&b, ',');
		catalog_product_public_write(&b, page->docs[i], view);
	}
	em_jsonbuf_raw(&b, "],\"next_cursor\":", 16);
	if (page->more && page->next[0])
		em_jsonbuf_string(&b, page->next, strlen(page->next));
	else
		em_jsonbuf_raw(&b, "null", 4);
	em_jsonbuf_char(&b, '}');
	body = em_jsonbuf_take(&b, &len);
	em_response_json_bytes(req, 200, body, len);
	catalog_page_release(page);
	return true;
}
