/*
 * versions.c - changes of existing products with their version history
 * (see catalog.h): PATCH, soft delete, restore, restoring a version, and
 * the list of saved versions.
 *
 * Every change runs in one transaction: change_begin() reads the product
 * and checks If-Match; the action's own step decides the new content (or
 * refuses); change_commit() stores the whole previous document in
 * product_versions with who and when, writes the change with version + 1
 * and reads the result back. A callback keeps no state between attempts
 * but the context's result, which it resets first, so store_txn_run may
 * rerun it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_db.h"
#include "core/bsonjson.h"
#include "core/time.h"

/* One attempt's state; change_reset() clears it before each try. */
struct change_run {
	struct em_store *st;
	const struct catalog_change *c;
	const char *action;     /* as saved in product_versions */
	json_object *patch;     /* update: the request's fields */
	int64_t version_n;      /* version restore: which one */
	bson_t *old;            /* the stored product */
	json_object *in;        /* new content as request JSON, or NULL */
	bson_t *result;         /* the product after the change */
};

static void change_reset(struct change_run *r)
{
	if (r->old)
		bson_destroy(r->old);
	if (r->in)
		json_object_put(r->in);
	if (r->result)
		bson_destroy(r->result);
	r->old = NULL;
	r->in = NULL;
	r->result = NULL;
}

static bool doc_deleted(const bson_t *doc)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, "deleted_at") && BSON_ITER_HOLDS_DATE_TIME(&it);
}

/* Reads the product into r->old and checks If-Match against its version. */
static bool change_begin(struct change_run *r, mongoc_client_session_t *session,
			 bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	int64_t version;
	bool ok;

	change_reset(r);
	BSON_APPEND_OID(&filter, "_id", &r->c->id);
	ok = catalog_db_find_one(r->st, session, "products", &filter, &r->old, berr, err);
	bson_destroy(&filter);
	if (!ok)
		return false;
	if (!r->old) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		return false;
	}
	version = catalog_db_int(r->old, "version");
	if (r->c->has_if_match && r->c->if_match != version) {
		em_error_set(err, EM_ERR_PRECONDITION, "If-Match",
			     "the product changed since you read it (now version %" PRId64 ")",
			     version);
		return false;
	}
	return true;
}

/*
 * The editable fields of a stored product as request JSON (the form
 * catalog_product_build takes). keep_stock = false drops variant stock,
 * for restoring an old version: stock is never restored.
 */
static json_object *editable_json(const bson_t *doc, bool keep_stock)
{
	json_object *all = em_bson_to_json(doc), *out = json_object_new_object(), *v = NULL;

	if (!all || !out) {
		if (all)
			json_object_put(all);
		if (out)
			json_object_put(out);
		return NULL;
	}
	for (size_t i = 0; catalog_product_fields[i]; i++)
		if (json_object_object_get_ex(all, catalog_product_fields[i], &v))
			json_object_object_add(out, catalog_product_fields[i], json_object_get(v));
	/* stored as category_id, written as category */
	if (json_object_object_get_ex(all, "category_id", &v))
		json_object_object_add(out, "category", json_object_get(v));
	if (json_object_object_get_ex(out, "variants", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *var = json_object_array_get_idx(v, i);

			json_object_object_del(var, "low_stock");
			json_object_object_del(var, "low_stock_alerts");
			if (!keep_stock)
				json_object_object_del(var, "stock");
		}
	json_object_put(all);
	return out;
}

/*
 * PATCH: the stored content, without stock (a variant keeps its stored
 * stock; catalog_product_patch_build lays the request over it).
 */
static bool change_patch_content(struct change_run *r, struct em_error *err)
{
	r->in = editable_json(r->old, false);
	if (!r->in) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot copy the product");
		return false;
	}
	return true;
}

/* A soft-deleted product is read-only until restored: 409. */
static bool change_live(const struct change_run *r, struct em_error *err)
{
	if (!doc_deleted(r->old))
		return true;
	em_error_setc(err, EM_ERR_CONFLICT, NULL, EM_CODE_CONFLICT,
		      "the product is deleted: restore it (POST /api/v1/admin/products/{id}/restore) "
		      "before changing it");
	return false;
}

/* Version restore: the content saved as version r->version_n, without its stock. */
static bool change_version_content(struct change_run *r, mongoc_client_session_t *session,
				   bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, *vdoc = NULL, snapshot;
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;
	bool ok;

	BSON_APPEND_OID(&filter, "product_id", &r->c->id);
	BSON_APPEND_INT64(&filter, "version", r->version_n);
	ok = catalog_db_find_one(r->st, session, "product_versions", &filter, &vdoc, berr, err);
	bson_destroy(&filter);
	if (!ok)
		return false;
	if (!vdoc || !bson_iter_init_find(&it, vdoc, "snapshot") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such version");
		ok = false;
		goto done;
	}
	bson_iter_document(&it, &len, &data);
	if (bson_init_static(&snapshot, data, len))
		r->in = editable_json(&snapshot, false);
	if (!r->in) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot read the version");
		ok = false;
	}
done:
	if (vdoc)
		bson_destroy(vdoc);
	return ok;
}

/* Saves r->old whole as the version it was. */
static bool version_save(struct change_run *r, mongoc_client_session_t *session, int64_t now,
			 bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(r->st, "product_versions");
	bson_t doc = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bool ok = false;

	BSON_APPEND_OID(&doc, "product_id", &r->c->id);
	BSON_APPEND_INT64(&doc, "version", catalog_db_int(r->old, "version"));
	BSON_APPEND_UTF8(&doc, "action", r->action);
	BSON_APPEND_DOCUMENT(&doc, "snapshot", r->old);
	catalog_db_actor_append(&doc, "changed_by", r->c->actor);
	BSON_APPEND_DATE_TIME(&doc, "changed_at", now);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_insert_one(coll, &doc, &opts, NULL, berr)) {
		store_error_set(err, berr, "save version");
		goto done;
	}
	ok = true;
done:
	mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	bson_destroy(&opts);
	return ok;
}

/*
 * The update of one change: content (may be NULL) and who/when in $set,
 * the delete/restore marks, and version + 1.
 */
static bool change_update_build(struct change_run *r, const bson_t *content, int64_t now,
				bson_t *update, struct em_error *err)
{
	bson_t set, inc;
	bool ok = true;

	BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
	if (content && !bson_concat(&set, content)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the update");
		ok = false;
	}
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	catalog_db_actor_append(&set, "updated_by", r->c->actor);
	if (strcmp(r->action, "delete") == 0) {
		BSON_APPEND_DATE_TIME(&set, "deleted_at", now);
		catalog_db_actor_append(&set, "deleted_by", r->c->actor);
	} else if (strcmp(r->action, "restore") == 0) {
		BSON_APPEND_NULL(&set, "deleted_at");
		BSON_APPEND_NULL(&set, "deleted_by");
	}
	bson_append_document_end(update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "version", 1);
	bson_append_document_end(update, &inc);
	return ok;
}

/*
 * Builds r->in into content (when set), saves the previous version,
 * writes the change guarded by the version read, and reads the result.
 */
static bool change_commit(struct change_run *r, mongoc_client_session_t *session,
			  bson_error_t *berr, struct em_error *err)
{
	bson_t content = BSON_INITIALIZER, filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
	bson_t opts = BSON_INITIALIZER, reply = BSON_INITIALIZER;
	mongoc_collection_t *coll = NULL;
	int64_t now = em_now_ms();
	bool ok = false;

	if (r->in && r->patch &&
	    !catalog_product_patch_build(r->patch, r->in, r->c->currency, r->old, &content, err))
		goto done;
	if (r->in && !r->patch &&
	    !catalog_product_build(r->in, r->c->currency, r->old, &content, err))
		goto done;
	if (r->in && !catalog_db_category_link(r->st, session, &content, r->old, berr, err))
		goto done;
	if (!version_save(r, session, now, berr, err) ||
	    !change_update_build(r, r->in ? &content : NULL, now, &update, err) ||
	    !store_txn_opts(session, &opts, err))
		goto done;
	BSON_APPEND_OID(&filter, "_id", &r->c->id);
	BSON_APPEND_INT64(&filter, "version", catalog_db_int(r->old, "version"));
	coll = store_collection(r->st, "products");
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, berr)) {
		catalog_db_product_write_error(berr, err);
		goto done;
	}
	if (catalog_db_int(&reply, "matchedCount") == 0) {
		em_error_set(err, EM_ERR_PRECONDITION, "If-Match", "the product changed meanwhile");
		goto done;
	}
	bson_reinit(&filter);
	BSON_APPEND_OID(&filter, "_id", &r->c->id);
	ok = catalog_db_find_one(r->st, session, "products", &filter, &r->result, berr, err);
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&content);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	bson_destroy(&reply);
	return ok;
}

static bool update_txn(mongoc_client_session_t *session, void *ctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct change_run *r = ctx;

	return change_begin(r, session, berr, err) && change_live(r, err) &&
	       change_patch_content(r, err) && change_commit(r, session, berr, err);
}

static bool delete_txn(mongoc_client_session_t *session, void *ctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct change_run *r = ctx;

	if (!change_begin(r, session, berr, err))
		return false;
	if (doc_deleted(r->old)) {
		em_error_set(err, EM_ERR_CONFLICT, NULL, "the product is already deleted");
		return false;
	}
	return change_commit(r, session, berr, err);
}

static bool restore_txn(mongoc_client_session_t *session, void *ctx, bson_error_t *berr,
			struct em_error *err)
{
	struct change_run *r = ctx;

	if (!change_begin(r, session, berr, err))
		return false;
	if (!doc_deleted(r->old)) {
		em_error_set(err, EM_ERR_CONFLICT, NULL, "the product is not deleted");
		return false;
	}
	return change_commit(r, session, berr, err);
}

static bool version_restore_txn(mongoc_client_session_t *session, void *ctx,
				bson_error_t *berr, struct em_error *err)
{
	struct change_run *r = ctx;

	return change_begin(r, session, berr, err) && change_live(r, err) &&
	       change_version_content(r, session, berr, err) &&
	       change_commit(r, session, berr, err);
}

/* Runs one change's transaction; hands the result to *out. */
static bool change_run(struct change_run *r, store_txn_fn fn, bson_t **out,
		       struct em_error *err)
{
	bool ok = store_txn_run(r->st, fn, r, err);

	*out = NULL;
	if (ok) {
		*out = r->result;
		r->result = NULL;
	}
	change_reset(r);
	return ok;
}

bool catalog_product_update(struct em_store *st, const struct catalog_change *c,
			    json_object *patch, bson_t **out, struct em_error *err)
{
	struct change_run r = { .st = st, .c = c, .action = "update", .patch = patch };

	return change_run(&r, update_txn, out, err);
}

bool catalog_product_delete(struct em_store *st, const struct catalog_change *c, bson_t **out,
			    struct em_error *err)
{
	struct change_run r = { .st = st, .c = c, .action = "delete" };

	return change_run(&r, delete_txn, out, err);
}

bool catalog_product_restore(struct em_store *st, const struct catalog_change *c, bson_t **out,
			     struct em_error *err)
{
	struct change_run r = { .st = st, .c = c, .action = "restore" };

	return change_run(&r, restore_txn, out, err);
}

bool catalog_product_version_restore(struct em_store *st, const struct catalog_change *c,
				     int64_t n, bson_t **out, struct em_error *err)
{
	struct change_run r = { .st = st, .c = c, .action = "restore_version", .version_n = n };

	return change_run(&r, version_restore_txn, out, err);
}

bool catalog_product_versions(struct em_store *st, const bson_oid_t *id, int limit,
			      const char *cursor, struct catalog_page *page,
			      struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, cmp;
	struct catalog_cursor after;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_error_t berr;
	bool ok = false;

	memset(page, 0, sizeof(*page));
	if (!catalog_product_exists(st, id, true, err))
		goto done;
	if (cursor) {
		if (!catalog_cursor_decode(cursor, &after, err))
			goto done;
		if (after.sort != 'n') {
			em_error_set(err, EM_ERR_INVALID, "cursor", "the cursor is for another list");
			goto done;
		}
	}
	BSON_APPEND_OID(&filter, "product_id", id);
	if (cursor) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "version", &cmp);
		BSON_APPEND_INT64(&cmp, "$lt", after.ival);
		bson_append_document_end(&filter, &cmp);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "version", -1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", limit + 1);
	coll = store_collection(st, "product_versions");
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	if (!catalog_db_page_collect(cur, limit, "list versions", page, &berr, err))
		goto done;
	if (page->more) {
		struct catalog_cursor c = { .sort = 'n' };
		bson_iter_t it;
		const bson_t *last = page->docs[page->n - 1];

		if (bson_iter_init_find(&it, last, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &c.id);
		c.ival = catalog_db_int(last, "version");
		catalog_cursor_encode(&c, page->next, sizeof(page->next));
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}
