/*
 * category_routes.c - the category tree: GET /api/v1/categories for
 * everyone, create/update/delete for staff under /api/v1/admin/categories.
 *
 * A shop has tens or hundreds of categories, never millions, so the tree
 * is read whole (one indexed find) and assembled in C; products point at
 * one category_id and "category including subcategories" is resolved by
 * collecting the subtree's ids here (catalog_category_subtree), so moving
 * a category never has to rewrite products.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/alloc.h"
#include "core/json.h"

#define CATEGORY_MAX 5000

struct cat_row {
	bson_oid_t id;
	bson_oid_t parent;
	bool has_parent;
	bson_t *doc;
};

static void cat_rows_free(struct cat_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bson_destroy(rows[i].doc);
	free(rows);
}

/* Loads every category, ordered by position then name. */
static bool cat_rows_load(struct em_store *st, struct cat_row **out, size_t *n,
			  struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "categories");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	struct cat_row *rows = xcalloc(CATEGORY_MAX, sizeof(*rows));
	size_t count = 0;
	bool ok = false;

	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "position", 1);
	BSON_APPEND_INT32(&sort, "name", 1);
	BSON_APPEND_INT32(&sort, "_id", 1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", CATEGORY_MAX);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;

		rows[count].doc = bson_copy(doc);
		if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &rows[count].id);
		if (bson_iter_init_find(&it, doc, "parent_id") && BSON_ITER_HOLDS_OID(&it)) {
			bson_oid_copy(bson_iter_oid(&it), &rows[count].parent);
			rows[count].has_parent = true;
		}
		count++;
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "read categories");
		goto done;
	}
	ok = true;
done:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	if (!ok) {
		cat_rows_free(rows, count);
		rows = NULL;
		count = 0;
	}
	*out = rows;
	*n = count;
	return ok;
}

/* Marks root and every row below it; returns how many are marked. */
static size_t cat_subtree_mark(const struct cat_row *rows, size_t n, size_t root, bool *mark)
{
	size_t marked = 1;
	bool grew = true;

	memset(mark, 0, n * sizeof(*mark));
	mark[root] = true;
	/* Fixed point over the parent links: at most depth passes. */
	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			if (mark[i] || !rows[i].has_parent)
				continue;
			for (size_t j = 0; j < n; j++)
				if (mark[j] && bson_oid_equal(&rows[i].parent, &rows[j].id)) {
					mark[i] = true;
					marked++;
					grew = true;
					break;
				}
		}
	}
	return marked;
}

static bool row_slug_is(const struct cat_row *r, const char *slug)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, r->doc, "slug") && BSON_ITER_HOLDS_UTF8(&it) &&
	       strcmp(bson_iter_utf8(&it, NULL), slug) == 0;
}

bool catalog_category_subtree(struct em_store *st, const char *id_or_slug, bson_oid_t *root,
			      bson_t *ids, struct em_error *err)
{
	struct cat_row *rows = NULL;
	size_t n = 0, r = SIZE_MAX, k = 0;
	bool *mark = NULL, ok = false;
	bson_oid_t want;
	bool by_id = em_oid_parse(id_or_slug, &want);

	if (!cat_rows_load(st, &rows, &n, err))
		return false;
	for (size_t i = 0; i < n && r == SIZE_MAX; i++)
		if ((by_id && bson_oid_equal(&rows[i].id, &want)) || row_slug_is(&rows[i], id_or_slug))
			r = i;
	if (r == SIZE_MAX) {
		em_error_set(err, EM_ERR_NOT_FOUND, "category", "no such category");
		goto done;
	}
	mark = xcalloc(n, sizeof(*mark));
	cat_subtree_mark(rows, n, r, mark);
	bson_oid_copy(&rows[r].id, root);
	for (size_t i = 0; i < n; i++)
		if (mark[i]) {
			char key[24];

			snprintf(key, sizeof(key), "%zu", k++);
			BSON_APPEND_OID(ids, key, &rows[i].id);
		}
	ok = true;
done:
	free(mark);
	cat_rows_free(rows, n);
	return ok;
}

static json_object *cat_render(const bson_t *doc)
{
	json_object *o = em_bson_to_json(doc), *v = NULL;

	if (!o)
		return NULL;
	if (json_object_object_get_ex(o, "_id", &v)) {
		json_object_object_add(o, "id", json_object_get(v));
		json_object_object_del(o, "_id");
	}
	if (json_object_object_get_ex(o, "parent_id", &v)) {
		json_object_object_add(o, "parent", json_object_get(v));
		json_object_object_del(o, "parent_id");
	}
	return o;
}

/* GET /api/v1/categories: the whole tree, children ordered by position. */
static bool catalog_category_tree(struct em_request *req, struct em_error *err)
{
	struct cat_row *rows = NULL;
	size_t n = 0;
	json_object **nodes = NULL, *roots = NULL, *body = NULL;
	static const char *const allowed[] = { NULL };
	bool ok = false;

	if (!catalog_query_check(req, allowed, err))
		return false;
	if (!cat_rows_load(&req->app->store, &rows, &n, err))
		return false;
	nodes = xcalloc(n ? n : 1, sizeof(*nodes));
	roots = json_object_new_array();
	body = catalog_json_object(err);
	if (!roots || !body)
		goto done;
	for (size_t i = 0; i < n; i++) {
		nodes[i] = cat_render(rows[i].doc);
		if (!nodes[i]) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render a category");
			goto done;
		}
		json_object_object_del(nodes[i], "created_at");
		json_object_object_del(nodes[i], "updated_at");
		json_object_object_add(nodes[i], "children", json_object_new_array());
	}
	/* rows are in position order, so appending keeps children ordered */
	for (size_t i = 0; i < n; i++) {
		json_object *children = NULL;
		size_t p = SIZE_MAX;

		if (rows[i].has_parent)
			for (size_t j = 0; j < n; j++)
				if (j != i && bson_oid_equal(&rows[i].parent, &rows[j].id))
					p = j;
		/* The tree takes its own reference: a parent may come after its
		 * children in position order, so every node stays reachable
		 * through nodes[] until the loop ends. */
		if (p != SIZE_MAX && json_object_object_get_ex(nodes[p], "children", &children))
			json_object_array_add(children, json_object_get(nodes[i]));
		else
			json_object_array_add(roots, json_object_get(nodes[i]));
	}
	json_object_object_add(body, "items", roots);
	roots = NULL;
	em_response_header(req, "Cache-Control", "public, max-age=5");
	em_response_json(req, 200, body);
	body = NULL;
	ok = true;
done:
	for (size_t i = 0; i < n; i++)
		if (nodes[i])
			json_object_put(nodes[i]);
	free(nodes);
	if (roots)
		json_object_put(roots);
	if (body)
		json_object_put(body);
	cat_rows_free(rows, n);
	return ok;
}

static const char *const category_keys[] = { "slug", "name", "parent", "position", NULL };

/*
 * Validates a category body into fields (each appended with a typed
 * call). With partial (PATCH) nothing is required. *parent_set tells
 * whether "parent" was given; *parent_null whether it was null.
 */
static bool category_fields(struct em_request *req, json_object *in, bool partial, bson_t *set,
			    bson_oid_t *parent, bool *parent_set, bool *parent_null,
			    struct em_error *err)
{
	const char *slug = NULL, *name = NULL;
	json_object *p = NULL;
	int64_t position = 0;
	bool has_pos = false;

	(void)req;
	*parent_set = false;
	*parent_null = true;
	if (!em_json_check_fields(in, category_keys, err))
		return false;
	if (!em_json_get_string(in, "slug", 1, CATALOG_SLUG_MAX, !partial, &slug, err) ||
	    !em_json_get_string(in, "name", 1, CATALOG_NAME_MAX, !partial, &name, err) ||
	    !em_json_get_int64(in, "position", 0, 1000000, false, &has_pos, &position, err))
		return false;
	if (slug && !catalog_slug_valid(slug)) {
		em_error_set(err, EM_ERR_INVALID, "slug",
			     "slug must be 1..100 characters of a-z 0-9 and inner '-'");
		return false;
	}
	for (const char *c = name; c && *c; c++)
		if ((unsigned char)*c < 0x20) {
			em_error_set(err, EM_ERR_INVALID, "name",
				     "name may not hold control characters");
			return false;
		}
	if (json_object_object_get_ex(in, "parent", &p)) {
		*parent_set = true;
		if (p) {
			if (!json_object_is_type(p, json_type_string) ||
			    !em_oid_parse(json_object_get_string(p), parent)) {
				em_error_set(err, EM_ERR_INVALID, "parent",
					     "parent must be a category id or null");
				return false;
			}
			*parent_null = false;
		}
	}
	if (slug)
		BSON_APPEND_UTF8(set, "slug", slug);
	if (name)
		BSON_APPEND_UTF8(set, "name", name);
	if (has_pos || !partial)
		BSON_APPEND_INT32(set, "position", (int32_t)position);
	if (*parent_set || !partial) {
		if (*parent_null)
			BSON_APPEND_NULL(set, "parent_id");
		else
			BSON_APPEND_OID(set, "parent_id", parent);
	}
	return true;
}

/* Checks that the parent exists and (for a move) is not inside id's subtree. */
static bool category_parent_check(struct em_store *st, const bson_oid_t *parent,
				  const bson_oid_t *id, struct em_error *err)
{
	struct cat_row *rows = NULL;
	size_t n = 0, pi = SIZE_MAX, ci = SIZE_MAX;
	bool ok = false;

	if (!cat_rows_load(st, &rows, &n, err))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (bson_oid_equal(&rows[i].id, parent))
			pi = i;
		if (id && bson_oid_equal(&rows[i].id, id))
			ci = i;
	}
	if (pi == SIZE_MAX) {
		em_error_set(err, EM_ERR_INVALID, "parent", "no such parent category");
		goto done;
	}
	if (ci != SIZE_MAX) {
		bool *mark = xcalloc(n, sizeof(*mark));
		bool cycle;

		cat_subtree_mark(rows, n, ci, mark);
		cycle = mark[pi];
		free(mark);
		if (cycle) {
			em_error_set(err, EM_ERR_INVALID, "parent",
				     "a category cannot move below itself");
			goto done;
		}
	}
	ok = true;
done:
	cat_rows_free(rows, n);
	return ok;
}

static bool category_write_error(const bson_error_t *berr, struct em_error *err)
{
	store_error_set(err, berr, "write category");
	if (err->kind == EM_ERR_CONFLICT)
		em_error_set(err, EM_ERR_CONFLICT, "slug", "a category with this slug exists");
	return false;
}

static bool category_respond(struct em_request *req, const bson_oid_t *id, int status,
			     struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&req->app->store, "categories");
	bson_t filter = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = false;

	BSON_APPEND_OID(&filter, "_id", id);
	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		json_object *o = cat_render(doc);

		if (!o) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render a category");
			goto done;
		}
		em_response_json(req, status, o);
		ok = true;
	} else if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "read category");
	} else {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such category");
	}
done:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	return ok;
}

/* POST /api/v1/admin/categories */
static bool catalog_category_create(struct em_request *req, struct em_error *err)
{
	bson_t doc = BSON_INITIALIZER;
	bson_oid_t id, parent;
	bool parent_set, parent_null, ok = false;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	int64_t now = em_now_ms();

	bson_oid_init(&id, NULL);
	BSON_APPEND_OID(&doc, "_id", &id);
	if (!category_fields(req, req->json, false, &doc, &parent, &parent_set, &parent_null, err))
		goto done;
	if (!parent_null && !category_parent_check(&req->app->store, &parent, NULL, err))
		goto done;
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	coll = store_collection(&req->app->store, "categories");
	if (!mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
		category_write_error(&berr, err);
		goto done;
	}
	ok = category_respond(req, &id, 201, err);
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	return ok;
}

static bool category_id_param(struct em_request *req, bson_oid_t *id, struct em_error *err)
{
	if (!em_oid_parse(em_request_path_param(req, "id"), id)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such category");
		return false;
	}
	return true;
}

/* PATCH /api/v1/admin/categories/{id}: name, slug, position, parent. */
static bool catalog_category_update(struct em_request *req, struct em_error *err)
{
	bson_t set = BSON_INITIALIZER, filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
	bson_t reply;
	bson_oid_t id, parent;
	bool parent_set, parent_null, ok = false;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_iter_t it;

	bson_init(&reply);
	if (!category_id_param(req, &id, err))
		goto done;
	if (!category_fields(req, req->json, true, &set, &parent, &parent_set, &parent_null, err))
		goto done;
	if (parent_set && !parent_null &&
	    !category_parent_check(&req->app->store, &parent, &id, err))
		goto done;
	BSON_APPEND_DATE_TIME(&set, "updated_at", em_now_ms());
	BSON_APPEND_OID(&filter, "_id", &id);
	BSON_APPEND_DOCUMENT(&update, "$set", &set);
	coll = store_collection(&req->app->store, "categories");
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, &update, NULL, &reply, &berr)) {
		category_write_error(&berr, err);
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "matchedCount") && em_bson_iter_int64(&it) == 0) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such category");
		goto done;
	}
	ok = category_respond(req, &id, 200, err);
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&reply);
	bson_destroy(&set);
	bson_destroy(&filter);
	bson_destroy(&update);
	return ok;
}

static int64_t count_where(struct em_store *st, const char *collection, const char *field,
			   const bson_oid_t *id, bson_error_t *berr)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	int64_t n;

	BSON_APPEND_OID(&filter, field, id);
	BSON_APPEND_INT64(&opts, "limit", 1);
	n = mongoc_collection_count_documents(coll, &filter, &opts, NULL, NULL, berr);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return n;
}

/*
 * DELETE /api/v1/admin/categories/{id}: only an empty leaf. Products
 * (even soft-deleted ones, which can be restored) must be moved first.
 */
static bool catalog_category_delete(struct em_request *req, struct em_error *err)
{
	bson_oid_t id;
	bson_error_t berr;
	int64_t n;
	mongoc_collection_t *coll;
	bson_t filter = BSON_INITIALIZER, reply;
	bson_iter_t it;
	bool ok = false;

	if (!category_id_param(req, &id, err))
		goto out;
	n = count_where(&req->app->store, "products", "category_id", &id, &berr);
	if (n < 0) {
		store_error_set(err, &berr, "count products");
		goto out;
	}
	if (n > 0) {
		em_error_set(err, EM_ERR_CONFLICT, "category",
			     "the category has products; move them to another category first");
		goto out;
	}
	n = count_where(&req->app->store, "categories", "parent_id", &id, &berr);
	if (n < 0) {
		store_error_set(err, &berr, "count categories");
		goto out;
	}
	if (n > 0) {
		em_error_set(err, EM_ERR_CONFLICT, "category",
			     "the category has subcategories; move or delete them first");
		goto out;
	}
	coll = store_collection(&req->app->store, "categories");
	BSON_APPEND_OID(&filter, "_id", &id);
	if (!mongoc_collection_delete_one(coll, &filter, NULL, &reply, &berr)) {
		store_error_set(err, &berr, "delete category");
	} else if (bson_iter_init_find(&it, &reply, "deletedCount") &&
		   em_bson_iter_int64(&it) == 0) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such category");
	} else {
		em_response_empty(req, 204);
		ok = true;
	}
	bson_destroy(&reply);
	mongoc_collection_destroy(coll);
out:
	bson_destroy(&filter);
	return ok;
}

static const struct em_route catalog_category_table[] = {
	{ "GET", "/api/v1/categories", catalog_category_tree, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/admin/categories", catalog_category_create, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
	{ "PATCH", "/api/v1/admin/categories/{id}", catalog_category_update, EM_ROLE_STAFF,
	  EM_BODY_JSON, NULL },
	{ "DELETE", "/api/v1/admin/categories/{id}", catalog_category_delete, EM_ROLE_STAFF,
	  EM_BODY_NONE, NULL },
};

const struct em_route_table catalog_category_routes =
	EM_ROUTE_TABLE("categories", catalog_category_table);
