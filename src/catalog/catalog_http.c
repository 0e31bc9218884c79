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
