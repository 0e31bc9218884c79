/*
 * catalog_http.c - request helpers the catalog's route files share:
 * query-string checks, product rendering (public and staff), list pages,
 * ETags.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "http/page.h"

json_object *catalog_json_object(struct em_error *err)
{
	json_object *o = json_object_new_object();

	if (!o)
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
	return o;
}

/*
 * The public form of a variant's stock: whether it can be bought and,
 * when few are left, how many (never more than low_stock_public), so the
 * exact stock of a shop is not public information.
 */
static void variant_stock_public(json_object *v, int64_t low_stock_public)
{
	json_object *stock = NULL;
	int64_t n = 0;

	if (json_object_object_get_ex(v, "stock", &stock) && json_object_is_type(stock, json_type_int))
		n = json_object_get_int64(stock);
	json_object_object_del(v, "stock");
	json_object_object_del(v, "low_stock_alerts");
	json_object_object_del(v, "low_stock");
	json_object_object_del(v, "low_stock_threshold");
	json_object_object_add(v, "in_stock", json_object_new_boolean(n > 0));
	json_object_object_add(v, "low_stock_left",
			       n > 0 && n <= low_stock_public ? json_object_new_int64(n) : NULL);
}

json_object *catalog_product_render(const bson_t *doc, bool staff, int64_t low_stock_public)
{
	json_object *o = em_bson_to_json(doc), *id = NULL, *vars = NULL, *cat = NULL, *total = NULL;

	if (!o)
		return NULL;
	if (json_object_object_get_ex(o, "_id", &id)) {
		json_object_object_add(o, "id", json_object_get(id));
		json_object_object_del(o, "_id");
	}
	/* The API names the category "category", like the input. */
	if (json_object_object_get_ex(o, "category_id", &cat)) {
		json_object_object_add(o, "category", json_object_get(cat));
		json_object_object_del(o, "category_id");
	}
	json_object_object_del(o, "stock_rev");
	json_object_object_del(o, "search_text"); /* the text index's input, not content */
	json_object_object_del(o, "_sold");
	if (staff)
		return o;
	json_object_object_del(o, "deleted_at");
	json_object_object_del(o, "deleted_by");
	json_object_object_del(o, "created_by");
	json_object_object_del(o, "updated_by");
	json_object_object_add(o, "in_stock",
			       json_object_new_boolean(json_object_object_get_ex(o, "total_stock",
										 &total) &&
						       json_object_get_int64(total) > 0));
	json_object_object_del(o, "total_stock");
	if (json_object_object_get_ex(o, "variants", &vars) &&
	    json_object_is_type(vars, json_type_array))
		for (size_t i = 0; i < json_object_array_length(vars); i++)
			variant_stock_public(json_object_array_get_idx(vars, i), low_stock_public);
	return o;
}

/* url made absolute: a local "/media/..." path gets the shop's public URL in front. */
static json_object *absolute_url(const char *url, const char *base)
{
	char buf[1024];
	size_t n = strlen(base);

	if (url[0] != '/' || url[1] == '/')
		return json_object_new_string(url);
	while (n > 0 && base[n - 1] == '/')
		n--;
	snprintf(buf, sizeof(buf), "%.*s%s", (int)n, base, url);
	return json_object_new_string(buf);
}

/*
 * The public form of the images: storage details dropped, URLs absolute;
 * returns a new {url, alt, width, height} of the first one by position,
 * or NULL when there is none.
 */
static json_object *images_public(json_object *images, const char *base)
{
	json_object *first = NULL, *card;
	int64_t best = INT64_MAX;

	if (!images || !json_object_is_type(images, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(images); i++) {
		json_object *im = json_object_array_get_idx(images, i), *v = NULL;
		int64_t pos = 0;

		if (!json_object_is_type(im, json_type_object))
			continue;
		json_object_object_del(im, "storage");
		json_object_object_del(im, "public_id");
		if (json_object_object_get_ex(im, "url", &v) && json_object_is_type(v, json_type_string))
			json_object_object_add(im, "url", absolute_url(json_object_get_string(v), base));
		if (json_object_object_get_ex(im, "position", &v))
			pos = json_object_get_int64(v);
		if (pos < best) {
			best = pos;
			first = im;
		}
	}
	if (!first || !(card = json_object_new_object()))
		return NULL;
	{
		static const char *const keys[] = { "url", "alt", "width", "height", NULL };

		for (size_t k = 0; keys[k]; k++) {
			json_object *v = NULL;

			json_object_object_get_ex(first, keys[k], &v);
			json_object_object_add(card, keys[k], json_object_get(v));
		}
	}
	return card;
}

json_object *catalog_product_public_render(const bson_t *doc,
					   const struct catalog_public_view *view)
{
	json_object *o = catalog_product_render(doc, false, view->low_stock_public);
	json_object *v = NULL, *ref = NULL;

	if (!o)
		return NULL;
	json_object_object_del(o, "version");
	json_object_object_del(o, "sold_units");
	json_object_object_del(o, "_score");
	json_object_object_get_ex(o, "images", &v);
	json_object_object_add(o, "image", images_public(v, view->public_url));
	if (json_object_object_get_ex(o, "category", &v) && json_object_is_type(v, json_type_string))
		json_object_object_get_ex(view->categories, json_object_get_string(v), &ref);
	if (ref) {
		json_object *info = json_object_new_object(), *x = NULL;

		if (info) {
			json_object_object_get_ex(ref, "id", &x);
			json_object_object_add(info, "id", json_object_get(x));
			json_object_object_get_ex(ref, "slug", &x);
			json_object_object_add(info, "slug", json_object_get(x));
			json_object_object_get_ex(ref, "name", &x);
			json_object_object_add(info, "name", json_object_get(x));
		}
		json_object_object_add(o, "category_info", info);
	} else {
		json_object_object_add(o, "category_info", NULL);
	}
	if (view->detail) {
		json_object *path = NULL;

		if (ref && json_object_object_get_ex(ref, "path", &path))
			json_object_object_add(o, "breadcrumbs", json_object_get(path));
		else
			json_object_object_add(o, "breadcrumbs", json_object_new_array());
	}
	return o;
}

json_object *catalog_product_public_item(const bson_t *doc, void *ctx)
{
	return catalog_product_public_render(doc, ctx);
}

bool catalog_public_view_init(struct em_request *req, bool detail,
			      struct catalog_public_view *view, struct em_error *err)
{
	memset(view, 0, sizeof(*view));
	view->low_stock_public = catalog_config(&req->app->cfg)->low_stock_public;
	view->public_url = req->app->cfg.public_url;
	view->detail = detail;
	return catalog_category_index(&req->app->store, &view->categories, err);
}

void catalog_public_view_release(struct catalog_public_view *view)
{
	if (view->categories)
		json_object_put(view->categories);
	view->categories = NULL;
}

bool catalog_page_respond(struct em_request *req, struct catalog_page *page,
			  json_object *(*render)(const bson_t *doc, void *ctx), void *ctx,
			  struct em_error *err)
{
	json_object *items = json_object_new_array();
	bool ok = false;

	if (!items) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	for (size_t i = 0; i < page->n; i++) {
		json_object *o = render(page->docs[i], ctx);

		if (!o) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render an item");
			json_object_put(items);
			goto done;
		}
		json_object_array_add(items, o);
	}
	em_page_respond(req, items, page->more ? page->next : NULL);
	ok = true;
done:
	catalog_page_release(page);
	return ok;
}

const bson_oid_t *catalog_actor(const struct em_request *req, bson_oid_t *buf)
{
	return em_oid_parse(req->user_id, buf) ? buf : NULL;
}

void catalog_product_etag(const bson_t *doc, char *out, size_t size)
{
	bson_iter_t it;
	char hex[25] = "";
	int64_t version = 0, rev = 0;

	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_to_string(bson_iter_oid(&it), hex);
	if (bson_iter_init_find(&it, doc, "version"))
		version = em_bson_iter_int64(&it);
	if (bson_iter_init_find(&it, doc, "stock_rev"))
		rev = em_bson_iter_int64(&it);
	snprintf(out, size, "\"%s-%" PRId64 "-%" PRId64 "\"", hex, version, rev);
}
