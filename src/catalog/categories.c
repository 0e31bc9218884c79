/*
 * categories.c - the category tree (see catalog.h).
 *
 * A shop has tens or hundreds of categories, never millions, so the tree
 * is read whole (one indexed find) and assembled in C; products point at
 * one category_id and "category including subcategories" is resolved by
 * collecting the subtree's ids here (catalog_category_subtrees), so moving
 * a category never has to rewrite products.
 *
 * Changes are transactions that first increment the tree's lock document
 * (catalog_locks "categories"). Without it, two moves (A under B, B under
 * A) each check for a cycle on a snapshot where there is none and both
 * commit, since they write different documents; and a delete that
 * counted no children commits next to an insert of a child. With it, the
 * second of two concurrent changes meets a WriteConflict, is rerun by
 * store_txn_run on a fresh snapshot, and sees what the first did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_db.h"
#include "catalog/catalog_internal.h"
#include "core/alloc.h"
#include "core/bsonjson.h"
#include "core/ids.h"
#include "core/time.h"

/* Room for this many rows at first; doubled as the tree needs. */
#define CAT_ROWS_FIRST 64

void catalog_cat_rows_release(struct catalog_cat_rows *t)
{
	for (size_t i = 0; i < t->n; i++)
		bson_destroy(t->rows[i].doc);
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
	t->bytes = 0;
}

/* A free row at the end of out, growing it (false: no memory). */
static struct catalog_cat_row *cat_rows_push(struct catalog_cat_rows *out, size_t *cap)
{
	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : CAT_ROWS_FIRST;
		struct catalog_cat_row *rows;

		if (ncap > CATALOG_CATEGORY_MAX)
			ncap = CATALOG_CATEGORY_MAX;
		rows = realloc(out->rows, ncap * sizeof(*rows));
		if (!rows)
			return NULL;
		out->rows = rows;
		*cap = ncap;
	}
	memset(&out->rows[out->n], 0, sizeof(out->rows[out->n]));
	return &out->rows[out->n];
}

bool catalog_cat_rows_load(struct em_store *st, mongoc_client_session_t *session,
			   struct catalog_cat_rows *out, bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "categories");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	size_t cap = 0;
	bool ok = false;

	out->rows = NULL;
	out->n = 0;
	out->bytes = 0;
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "position", 1);
	BSON_APPEND_INT32(&sort, "name", 1);
	BSON_APPEND_INT32(&sort, "_id", 1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", CATALOG_CATEGORY_MAX);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (out->n < CATALOG_CATEGORY_MAX && mongoc_cursor_next(cur, &doc)) {
		struct catalog_cat_row *r = cat_rows_push(out, &cap);
		bson_iter_t it;

		if (!r || !(r->doc = bson_copy(doc))) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot copy a category");
			goto done;
		}
		out->n++;
		out->bytes += doc->len;
		if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &r->id);
		if (bson_iter_init_find(&it, doc, "parent_id") && BSON_ITER_HOLDS_OID(&it)) {
			bson_oid_copy(bson_iter_oid(&it), &r->parent);
			r->has_parent = true;
		}
	}
	if (mongoc_cursor_error(cur, berr)) {
		store_error_set(err, berr, "read categories");
		goto done;
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	if (!ok)
		catalog_cat_rows_release(out);
	return ok;
}

/* The row with this _id, or SIZE_MAX. */
static size_t cat_find(const struct catalog_cat_rows *t, const bson_oid_t *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (bson_oid_equal(&t->rows[i].id, id))
			return i;
	return SIZE_MAX;
}

/* The row of i's parent, or SIZE_MAX for a root or a missing parent. */
static size_t cat_parent(const struct catalog_cat_rows *t, size_t i)
{
	size_t p;

	if (!t->rows[i].has_parent)
		return SIZE_MAX;
	p = cat_find(t, &t->rows[i].parent);
	return p == i ? SIZE_MAX : p;
}

/*
 * Is row i inside the subtree of row root (root itself included)? Walks
 * i's parent chain; at most n steps, so a cycle already stored ends the
 * walk instead of looping.
 */
static bool cat_is_below(const struct catalog_cat_rows *t, size_t i, size_t root)
{
	for (size_t steps = 0; i != SIZE_MAX && steps <= t->n; steps++) {
		if (i == root)
			return true;
		i = cat_parent(t, i);
	}
	return false;
}

/* Does row i's parent chain reach a root without going round a cycle? */
static bool cat_reaches_root(const struct catalog_cat_rows *t, size_t i)
{
	for (size_t steps = 0; steps <= t->n; steps++) {
		i = cat_parent(t, i);
		if (i == SIZE_MAX)
			return true;
	}
	return false;
}

static bool row_slug_is(const struct catalog_cat_row *r, const char *slug)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, r->doc, "slug") && BSON_ITER_HOLDS_UTF8(&it) &&
	       strcmp(bson_iter_utf8(&it, NULL), slug) == 0;
}

bool catalog_category_subtrees(struct em_store *st, const char *const *ids_or_slugs, size_t n,
			       bson_t *ids, struct em_error *err)
{
	struct catalog_category_snap snap;
	const struct catalog_cat_rows *t;
	bool *in = NULL, ok = false;
	size_t k = 0;

	if (!catalog_category_snap_get(st, &snap, err))
		return false;
	t = snap.rows;
	in = xcalloc(t->n ? t->n : 1, sizeof(*in));
	for (size_t v = 0; v < n; v++) {
		bson_oid_t want;
		bool by_id = em_oid_parse(ids_or_slugs[v], &want);
		size_t r = SIZE_MAX;

		for (size_t i = 0; i < t->n && r == SIZE_MAX; i++)
			if ((by_id && bson_oid_equal(&t->rows[i].id, &want)) ||
			    row_slug_is(&t->rows[i], ids_or_slugs[v]))
				r = i;
		if (r == SIZE_MAX) {
			em_error_set(err, EM_ERR_NOT_FOUND, "category", "no such category");
			goto done;
		}
		for (size_t i = 0; i < t->n; i++)
			in[i] = in[i] || cat_is_below(t, i, r);
	}
	for (size_t i = 0; i < t->n; i++)
		if (in[i]) {
			char key[24];

			snprintf(key, sizeof(key), "%zu", k++);
			BSON_APPEND_OID(ids, key, &t->rows[i].id);
		}
	ok = true;
done:
	free(in);
	catalog_category_snap_release(&snap);
	return ok;
}

/* A tree node: the category without timestamps, with an empty children list. */
static json_object *tree_node(const bson_t *doc)
{
	json_object *o = em_bson_to_json(doc), *v = NULL, *children;

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
	/* what a category is to clients, nothing else the document holds
	 * (timestamps, link_rev - a conflict marker -, fields other tools add) */
	{
		static const char *const keep[] = { "id", "slug", "name", "parent", "position",
						    NULL };
		const char *drop[32];
		size_t n = 0;

		json_object_object_foreach(o, k, val) {
			size_t i;

			(void)val;
			for (i = 0; keep[i] && strcmp(keep[i], k) != 0; i++)
				;
			if (!keep[i] && n < sizeof drop / sizeof drop[0])
				drop[n++] = k;
		}
		for (size_t i = 0; i < n; i++)
			json_object_object_del(o, drop[i]);
	}
	children = json_object_new_array();
	if (!children) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "children", children);
	return o;
}

bool catalog_category_tree(struct em_store *st, json_object **out, struct em_error *err)
{
	struct catalog_cat_rows rows, *t = &rows;
	json_object **nodes = NULL, *roots = NULL;
	bson_error_t berr;
	bool ok = false;

	/* Read from the database, not the worker's copy: staff see their
	 * change (or one written by other means) at once, and the answer
	 * also counts products (one aggregate), so it is no one-query read;
	 * nginx micro-caches it for the storefront. */
	*out = NULL;
	if (!catalog_cat_rows_load(st, NULL, &rows, &berr, err))
		return false;
	nodes = xcalloc(t->n ? t->n : 1, sizeof(*nodes));
	roots = json_object_new_array();
	if (!roots)
		goto nomem;
	for (size_t i = 0; i < t->n; i++)
		if (!(nodes[i] = tree_node(t->rows[i].doc)))
			goto nomem;
	/* rows are in position order, so appending keeps children ordered */
	for (size_t i = 0; i < t->n; i++) {
		size_t p = cat_parent(t, i);
		json_object *children = NULL;

		/* The tree takes its own reference: a parent may come after its
		 * children in position order, so every node stays reachable
		 * through nodes[] until the loop ends. A node whose chain
		 * never reaches a root would close a reference cycle (json-c
		 * would never free it) and vanish from the tree: it is listed
		 * as a root instead. */
		if (p != SIZE_MAX && cat_reaches_root(t, i) &&
		    json_object_object_get_ex(nodes[p], "children", &children))
			json_object_array_add(children, json_object_get(nodes[i]));
		else
			json_object_array_add(roots, json_object_get(nodes[i]));
	}
	*out = roots;
	roots = NULL;
	ok = true;
	goto done;
nomem:
	em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render a category");
done:
	for (size_t i = 0; i < t->n; i++)
		if (nodes[i])
			json_object_put(nodes[i]);
	free(nodes);
	if (roots)
		json_object_put(roots);
	catalog_cat_rows_release(&rows);
	return ok;
}

/* {id, slug, name} of a category row. */
static json_object *cat_ref(const struct catalog_cat_row *r)
{
	json_object *o = json_object_new_object();
	bson_iter_t it;
	char hex[25];

	if (!o)
		return NULL;
	bson_oid_to_string(&r->id, hex);
	json_object_object_add(o, "id", json_object_new_string(hex));
	json_object_object_add(o, "slug", json_object_new_string(
		bson_iter_init_find(&it, r->doc, "slug") && BSON_ITER_HOLDS_UTF8(&it)
			? bson_iter_utf8(&it, NULL) : ""));
	json_object_object_add(o, "name", json_object_new_string(
		bson_iter_init_find(&it, r->doc, "name") && BSON_ITER_HOLDS_UTF8(&it)
			? bson_iter_utf8(&it, NULL) : ""));
	return o;
}

bool catalog_category_index(struct em_store *st, json_object **out, struct em_error *err)
{
	struct catalog_category_snap snap;
	const struct catalog_cat_rows *t;
	json_object *index = NULL;
	size_t chain[64];
	bool ok = false;

	*out = NULL;
	if (!catalog_category_snap_get(st, &snap, err))
		return false;
	t = snap.rows;
	/* built once per load of the cached tree, shared by every request
	 * (read only: a view takes references, never changes it) */
	if ((index = catalog_category_snap_index(&snap))) {
		*out = index;
		catalog_category_snap_release(&snap);
		return true;
	}
	index = json_object_new_object();
	if (!index)
		goto nomem;
	for (size_t i = 0; i < t->n; i++) {
		json_object *ref = cat_ref(&t->rows[i]), *path = json_object_new_array();
		size_t depth = 0;
		char hex[25];

		if (!ref || !path) {
			if (ref)
				json_object_put(ref);
			if (path)
				json_object_put(path);
			goto nomem;
		}
		/* the chain up to a root; a stored cycle or a very deep tree
		 * ends the walk (64 levels: no shop's breadcrumb is longer) */
		for (size_t k = i; k != SIZE_MAX && depth < 64; k = cat_parent(t, k)) {
			bool seen = false;

			for (size_t d = 0; d < depth; d++)
				seen = seen || chain[d] == k;
			if (seen)
				break;
			chain[depth++] = k;
		}
		while (depth > 0)
			json_object_array_add(path, cat_ref(&t->rows[chain[--depth]]));
		json_object_object_add(ref, "path", path);
		bson_oid_to_string(&t->rows[i].id, hex);
		json_object_object_add(index, hex, ref);
	}
	catalog_category_snap_index_keep(&snap, index);
	*out = index;
	index = NULL;
	ok = true;
	goto done;
nomem:
	em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render a category");
done:
	if (index)
		json_object_put(index);
	catalog_category_snap_release(&snap);
	return ok;
}

/* Sums the direct counts (counts: hex id -> int) into node and below; its total. */
static int64_t tree_count_node(json_object *node, json_object *counts)
{
	json_object *id = NULL, *kids = NULL, *c = NULL;
	int64_t n = 0;

	if (json_object_object_get_ex(node, "id", &id) &&
	    json_object_object_get_ex(counts, json_object_get_string(id), &c))
		n = json_object_get_int64(c);
	if (json_object_object_get_ex(node, "children", &kids))
		for (size_t i = 0; i < json_object_array_length(kids); i++)
			n += tree_count_node(json_object_array_get_idx(kids, i), counts);
	json_object_object_add(node, "product_count", json_object_new_int64(n));
	return n;
}

/* The pipeline: fixed text, never request data. */
static const char tree_count_json[] =
	"[{\"$match\": {\"status\": \"active\", \"deleted_at\": null,"
	"   \"category_id\": {\"$type\": \"objectId\"}}},"
	" {\"$group\": {\"_id\": \"$category_id\", \"n\": {\"$sum\": 1}}}]";

bool catalog_category_tree_count(struct em_store *st, json_object *roots, struct em_error *err)
{
	bson_t *pipeline = NULL;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	json_object *counts = json_object_new_object();
	const bson_t *doc;
	bson_error_t berr;
	bool ok = false;

	if (!counts) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate");
		return false;
	}
	pipeline = bson_new_from_json((const uint8_t *)tree_count_json, -1, &berr);
	if (!pipeline) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "count pipeline: %s", berr.message);
		goto done;
	}
	coll = store_collection(st, "products");
	cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		char hex[25];

		if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
			continue;
		bson_oid_to_string(bson_iter_oid(&it), hex);
		json_object_object_add(counts, hex,
				       json_object_new_int64(catalog_db_int(doc, "n")));
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "count products");
		goto done;
	}
	for (size_t i = 0; i < json_object_array_length(roots); i++)
		tree_count_node(json_object_array_get_idx(roots, i), counts);
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	if (pipeline)
		bson_destroy(pipeline);
	json_object_put(counts);
	return ok;
}

/* ---- changes ---- */

/*
 * Increments the tree's lock document inside session (NULL: on its own,
 * for catalog_category_rev_bump). Every change of the tree does this
 * first, so two of them never commit from one snapshot (see the top of
 * this file).
 */
static bool tree_lock(struct em_store *st, mongoc_client_session_t *session, bson_error_t *berr,
		      struct em_error *err)
{
	/* The lock is also the tree's revision: every worker's copy
	 * (categories_cache.c) reloads when it moved. Written in the same
	 * transaction as the change, so a copy never sees the new revision
	 * with the old tree. */
	mongoc_collection_t *coll = store_collection(st, "catalog_locks");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER, inc;
	bool ok = false;

	BSON_APPEND_UTF8(&filter, "_id", "categories");
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "rev", 1);
	bson_append_document_end(&update, &inc);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, NULL, berr)) {
		store_error_set(err, berr, "lock the category tree");
		goto done;
	}
	ok = true;
done:
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

bool catalog_category_rev_bump(struct em_store *st, struct em_error *err)
{
	bson_error_t berr;
	bool ok = tree_lock(st, NULL, &berr, err);

	catalog_category_cache_invalidate(st);
	return ok;
}

static bool category_write_error(const bson_error_t *berr, struct em_error *err)
{
	store_error_set(err, berr, "write category");
	if (err->kind == EM_ERR_CONFLICT)
		em_error_setc(err, EM_ERR_CONFLICT, "slug", EM_CODE_NOT_UNIQUE,
			      "a category with this slug exists");
	return false;
}

/*
 * Checks in's parent against the tree read in the transaction: it must
 * exist and, when id is the category being moved, lie outside id's
 * subtree.
 */
static bool parent_check(const struct catalog_cat_rows *t, const struct catalog_category_in *in,
			 const bson_oid_t *id, struct em_error *err)
{
	size_t p, self;

	if (!in->parent_set || !in->has_parent)
		return true;
	p = cat_find(t, &in->parent);
	if (p == SIZE_MAX) {
		em_error_set(err, EM_ERR_INVALID, "parent", "no such parent category");
		return false;
	}
	self = id ? cat_find(t, id) : SIZE_MAX;
	if (self != SIZE_MAX && cat_is_below(t, p, self)) {
		em_error_set(err, EM_ERR_INVALID, "parent", "a category cannot move below itself");
		return false;
	}
	return true;
}

/* in's fields into set (all of them when full, as for a create). */
static void category_fields_append(const struct catalog_category_in *in, bool full, bson_t *set)
{
	if (in->slug)
		BSON_APPEND_UTF8(set, "slug", in->slug);
	if (in->name)
		BSON_APPEND_UTF8(set, "name", in->name);
	if (in->has_position || full)
		BSON_APPEND_INT32(set, "position", (int32_t)(in->has_position ? in->position : 0));
	if (in->parent_set || full) {
		if (in->parent_set && in->has_parent)
			BSON_APPEND_OID(set, "parent_id", &in->parent);
		else
			BSON_APPEND_NULL(set, "parent_id");
	}
}

struct category_run {
	struct em_store *st;
	const struct catalog_category_in *in;
	bson_oid_t id;
	bson_t *result;
};

/* Takes the lock, reads the tree and checks the parent (id: the moved category). */
static bool category_begin(struct category_run *r, mongoc_client_session_t *session,
			   const bson_oid_t *id, struct catalog_cat_rows *t, bson_error_t *berr,
			   struct em_error *err)
{
	if (r->result) {
		bson_destroy(r->result);
		r->result = NULL;
	}
	t->rows = NULL;
	t->n = 0;
	if (!tree_lock(r->st, session, berr, err) || !catalog_cat_rows_load(r->st, session, t, berr, err))
		return false;
	if (id && cat_find(t, id) == SIZE_MAX) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such category");
		return false;
	}
	return parent_check(t, r->in, id, err);
}

/* Reads the category back into r->result. */
static bool category_reread(struct category_run *r, mongoc_client_session_t *session,
			    bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool ok;

	BSON_APPEND_OID(&filter, "_id", &r->id);
	ok = catalog_db_find_one(r->st, session, "categories", &filter, &r->result, berr, err);
	bson_destroy(&filter);
	if (ok && !r->result) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such category");
		ok = false;
	}
	return ok;
}

static bool create_txn(mongoc_client_session_t *session, void *ctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct category_run *r = ctx;
	mongoc_collection_t *coll = NULL;
	bson_t doc = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	struct catalog_cat_rows t;
	int64_t now = em_now_ms();
	bool ok = false;

	if (!category_begin(r, session, NULL, &t, berr, err) ||
	    !store_txn_opts(session, &opts, err))
		goto done;
	BSON_APPEND_OID(&doc, "_id", &r->id);
	category_fields_append(r->in, true, &doc);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	coll = store_collection(r->st, "categories");
	if (!mongoc_collection_insert_one(coll, &doc, &opts, NULL, berr)) {
		category_write_error(berr, err);
		goto done;
	}
	ok = category_reread(r, session, berr, err);
done:
	if (coll)
		mongoc_collection_destroy(coll);
	catalog_cat_rows_release(&t);
	bson_destroy(&doc);
	bson_destroy(&opts);
	return ok;
}

static bool update_txn(mongoc_client_session_t *session, void *ctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct category_run *r = ctx;
	mongoc_collection_t *coll = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER, set;
	struct catalog_cat_rows t;
	bool ok = false;

	if (!category_begin(r, session, &r->id, &t, berr, err) ||
	    !store_txn_opts(session, &opts, err))
		goto done;
	BSON_APPEND_OID(&filter, "_id", &r->id);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	category_fields_append(r->in, false, &set);
	BSON_APPEND_DATE_TIME(&set, "updated_at", em_now_ms());
	bson_append_document_end(&update, &set);
	coll = store_collection(r->st, "categories");
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, NULL, berr)) {
		category_write_error(berr, err);
		goto done;
	}
	ok = category_reread(r, session, berr, err);
done:
	if (coll)
		mongoc_collection_destroy(coll);
	catalog_cat_rows_release(&t);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

/* Runs a create or update transaction and hands the category to *out. */
static bool category_run(struct category_run *r, store_txn_fn fn, bson_t **out,
			 struct em_error *err)
{
	bool ok = store_txn_run(r->st, fn, r, err);

	/* also after a failure: a commit whose answer was lost may have landed */
	catalog_category_cache_invalidate(r->st);
	*out = NULL;
	if (ok)
		*out = r->result;
	else if (r->result)
		bson_destroy(r->result);
	r->result = NULL;
	return ok;
}

bool catalog_category_create(struct em_store *st, const struct catalog_category_in *in,
			     bson_t **out, struct em_error *err)
{
	struct category_run r = { .st = st, .in = in };

	/* chosen once, so a rerun transaction inserts the same category */
	bson_oid_init(&r.id, NULL);
	return category_run(&r, create_txn, out, err);
}

bool catalog_category_update(struct em_store *st, const bson_oid_t *id,
			     const struct catalog_category_in *in, bson_t **out,
			     struct em_error *err)
{
	struct category_run r = { .st = st, .in = in };

	bson_oid_copy(id, &r.id);
	return category_run(&r, update_txn, out, err);
}

/* How many documents of collection have field == id (at most 1 counted), in session. */
static bool count_refs(struct em_store *st, mongoc_client_session_t *session,
		       const char *collection, const char *field, const bson_oid_t *id,
		       int64_t *n, bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bool ok = false;

	BSON_APPEND_OID(&filter, field, id);
	BSON_APPEND_INT64(&opts, "limit", 1);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	*n = mongoc_collection_count_documents(coll, &filter, &opts, NULL, NULL, berr);
	if (*n < 0) {
		store_error_set(err, berr, "count");
		goto done;
	}
	ok = true;
done:
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}

struct category_delete {
	struct em_store *st;
	bson_oid_t id;
};

static bool delete_txn(mongoc_client_session_t *session, void *ctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct category_delete *d = ctx;
	struct em_store *st = d->st;
	const bson_oid_t *id = &d->id;
	mongoc_collection_t *coll = NULL;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, reply = BSON_INITIALIZER;
	int64_t n = 0;
	bool ok = false;

	if (!tree_lock(st, session, berr, err) ||
	    !count_refs(st, session, "products", "category_id", id, &n, berr, err))
		goto done;
	if (n > 0) {
		em_error_set(err, EM_ERR_CONFLICT, "category",
			     "the category has products; move them to another category first");
		goto done;
	}
	if (!count_refs(st, session, "categories", "parent_id", id, &n, berr, err))
		goto done;
	if (n > 0) {
		em_error_set(err, EM_ERR_CONFLICT, "category",
			     "the category has subcategories; move or delete them first");
		goto done;
	}
	if (!store_txn_opts(session, &opts, err))
		goto done;
	BSON_APPEND_OID(&filter, "_id", id);
	coll = store_collection(st, "categories");
	bson_destroy(&reply);
	if (!mongoc_collection_delete_one(coll, &filter, &opts, &reply, berr)) {
		store_error_set(err, berr, "delete category");
		goto done;
	}
	if (catalog_db_int(&reply, "deletedCount") == 0) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such category");
		goto done;
	}
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	bson_destroy(&reply);
	return ok;
}

bool catalog_category_delete(struct em_store *st, const bson_oid_t *id, struct em_error *err)
{
	struct category_delete d = { .st = st };
	bool ok;

	bson_oid_copy(id, &d.id);
	ok = store_txn_run(st, delete_txn, &d, err);
	catalog_category_cache_invalidate(st);
	return ok;
}
