/*
 * category_routes.c - the category tree over HTTP: GET /api/v1/categories
 * for everyone, create/update/delete for staff under
 * /api/v1/admin/categories. The tree and its transactions are in
 * categories.c.
 */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/json.h"

/*
 * GET /api/v1/categories: the whole tree, children ordered by position,
 * each node with product_count (its visible products and its
 * descendants').
 */
static bool catalog_category_tree_get(struct em_request *req, struct em_error *err)
{
	static const char *const allowed[] = { NULL };
	json_object *items = NULL, *body = NULL;

	if (!em_request_query_check(req, allowed, CATALOG_QUERY_VALUE_MAX, err) ||
	    !catalog_category_tree(&req->app->store, &items, err))
		return false;
	if (!catalog_category_tree_count(&req->app->store, items, err)) {
		json_object_put(items);
		return false;
	}
	body = catalog_json_object(err);
	if (!body) {
		json_object_put(items);
		return false;
	}
	json_object_object_add(body, "items", items);
	em_response_header(req, "Cache-Control", "public, max-age=5");
	em_response_json(req, 200, body);
	return true;
}

static const char *const category_keys[] = { "slug", "name", "parent", "position", NULL };

/*
 * Validates a category body into in. With partial (PATCH) nothing is
 * required. The strings point into the request's JSON.
 */
static bool category_params(json_object *body, bool partial, struct catalog_category_in *in,
			    struct em_error *err)
{
	json_object *p = NULL;

	memset(in, 0, sizeof(*in));
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (!em_json_check_fields(body, category_keys, err) && !err->field[0])
		goto done; /* not an object */
	if (em_json_get_string(body, "slug", 1, CATALOG_SLUG_MAX, !partial, &in->slug, err) &&
	    in->slug && !catalog_slug_valid(in->slug))
		em_error_setc(err, EM_ERR_INVALID, "slug", EM_CODE_INVALID_FORMAT,
			      "slug must be 1..100 characters of a-z 0-9 and inner '-'");
	if (em_json_get_string(body, "name", 1, CATALOG_NAME_MAX, !partial, &in->name, err))
		for (const char *c = in->name; c && *c; c++)
			if ((unsigned char)*c < 0x20) {
				em_error_setc(err, EM_ERR_INVALID, "name", EM_CODE_INVALID_FORMAT,
					      "name may not hold control characters");
				break;
			}
	em_json_get_int64(body, "position", 0, 1000000, false, &in->has_position, &in->position,
			  err);
	if (json_object_object_get_ex(body, "parent", &p)) {
		in->parent_set = true;
		if (p) {
			if (!json_object_is_type(p, json_type_string) ||
			    !em_oid_parse(json_object_get_string(p), &in->parent))
				em_error_setc(err, EM_ERR_INVALID, "parent", EM_CODE_INVALID_FORMAT,
					      "parent must be a category id or null");
			else
				in->has_parent = true;
		}
	}
done:
	return em_error_collect_end(err);
}

/* A category as the API shows it: "id" and "parent" for _id and parent_id. */
static bool category_respond(struct em_request *req, bson_t *doc, int status,
			     struct em_error *err)
{
	json_object *o = em_bson_to_json(doc), *v = NULL;

	bson_destroy(doc);
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render a category");
		return false;
	}
	if (json_object_object_get_ex(o, "_id", &v)) {
		json_object_object_add(o, "id", json_object_get(v));
		json_object_object_del(o, "_id");
	}
	if (json_object_object_get_ex(o, "parent_id", &v)) {
		json_object_object_add(o, "parent", json_object_get(v));
		json_object_object_del(o, "parent_id");
	}
	json_object_object_del(o, "link_rev"); /* a conflict marker (catalog_db_category_link) */
	em_response_json(req, status, o);
	return true;
}

static bool category_id_param(struct em_request *req, bson_oid_t *id, struct em_error *err)
{
	if (!em_oid_parse(em_request_path_param(req, "id"), id)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such category");
		return false;
	}
	return true;
}

/* POST /api/v1/admin/categories */
static bool catalog_category_create_post(struct em_request *req, struct em_error *err)
{
	struct catalog_category_in in;
	bson_t *doc = NULL;
	bson_iter_t it;
	char hex[25], loc[64];

	if (!category_params(req->json, false, &in, err) ||
	    !catalog_category_create(&req->app->store, &in, &doc, err))
		return false;
	/* 201 + Location, as every create */
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_to_string(bson_iter_oid(&it), hex);
		snprintf(loc, sizeof(loc), "/api/v1/admin/categories/%s", hex);
		em_response_header(req, "Location", loc);
	}
	return category_respond(req, doc, 201, err);
}

/* PATCH /api/v1/admin/categories/{id}: name, slug, position, parent. */
static bool catalog_category_update_patch(struct em_request *req, struct em_error *err)
{
	struct catalog_category_in in;
	bson_oid_t id;
	bson_t *doc = NULL;

	if (!category_id_param(req, &id, err) || !category_params(req->json, true, &in, err) ||
	    !catalog_category_update(&req->app->store, &id, &in, &doc, err))
		return false;
	return category_respond(req, doc, 200, err);
}

/*
 * DELETE /api/v1/admin/categories/{id}: only an empty leaf. Products
 * (even soft-deleted ones, which can be restored) must be moved first.
 */
static bool catalog_category_delete_route(struct em_request *req, struct em_error *err)
{
	bson_oid_t id;

	if (!category_id_param(req, &id, err) ||
	    !catalog_category_delete(&req->app->store, &id, err))
		return false;
	em_response_empty(req, 204);
	return true;
}

static const struct em_route catalog_category_table[] = {
	{ "GET", "/api/v1/categories", catalog_category_tree_get, EM_ROLE_PUBLIC, EM_BODY_NONE,
	  NULL },
	{ "POST", "/api/v1/admin/categories", catalog_category_create_post, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
	{ "PATCH", "/api/v1/admin/categories/{id}", catalog_category_update_patch, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
	{ "DELETE", "/api/v1/admin/categories/{id}", catalog_category_delete_route,
	  EM_ROLE_STAFF, EM_BODY_NONE, NULL },
};

const struct em_route_table catalog_category_routes =
	EM_ROUTE_TABLE("categories", catalog_category_table);
