/*
 * catalog_http.c - request helpers the catalog's route files share:
 * query-string checks, pagination parameters, product rendering, ETags.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"

json_object *catalog_json_object(struct em_error *err)
{
	json_object *o = json_object_new_object();

	if (!o)
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
	return o;
}

bool catalog_query_check(struct em_request *req, const char *const *allowed,
			 struct em_error *err)
{
	for (size_t i = 0; i < req->query.n; i++) {
		const struct em_kv *kv = &req->query.items[i];
		bool known = false;

		for (size_t a = 0; allowed[a]; a++)
			if (strcmp(allowed[a], kv->key) == 0)
				known = true;
		/* Unknown names include "category[$ne]": nothing a client
		 * sends is ever read as an operator. */
		if (!known) {
			em_error_set(err, EM_ERR_INVALID, kv->key, "unknown query parameter %.60s",
				     kv->key);
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(req->query.items[j].key, kv->key) == 0) {
				em_error_set(err, EM_ERR_INVALID, kv->key,
					     "%.60s may be given only once", kv->key);
				return false;
			}
		if (strlen(kv->value) > 200 || kv->value[0] == '$') {
			em_error_set(err, EM_ERR_INVALID, kv->key,
				     "%.60s must be a plain value of at most 200 bytes", kv->key);
			return false;
		}
	}
	return true;
}

static void drop_key(json_object *o, const char *k)
{
	json_object_object_del(o, k);
}

json_object *catalog_product_render(const bson_t *doc, bool staff)
{
	json_object *o = em_bson_to_json(doc), *id = NULL, *vars = NULL, *cat = NULL;

	if (!o)
		return NULL;
	if (json_object_object_get_ex(o, "_id", &id)) {
		json_object_object_add(o, "id", json_object_get(id));
		drop_key(o, "_id");
	}
	/* The API names the category "category", like the input. */
	if (json_object_object_get_ex(o, "category_id", &cat)) {
		json_object_object_add(o, "category", json_object_get(cat));
		drop_key(o, "category_id");
	}
	drop_key(o, "stock_rev");
	if (!staff) {
		drop_key(o, "deleted_at");
		drop_key(o, "deleted_by");
		drop_key(o, "created_by");
		drop_key(o, "updated_by");
		if (json_object_object_get_ex(o, "variants", &vars) &&
		    json_object_is_type(vars, json_type_array))
			for (size_t i = 0; i < json_object_array_length(vars); i++) {
				json_object *v = json_object_array_get_idx(vars, i);

				drop_key(v, "low_stock_alerts");
				drop_key(v, "low_stock");
				drop_key(v, "low_stock_threshold");
			}
	}
	return o;
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
