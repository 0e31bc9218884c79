/*
 * catalog_db.c - database helpers the catalog's domain files share
 * (see catalog_db.h).
 */
#include "catalog/catalog_db.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bsonjson.h"

bool catalog_db_find_one(struct em_store *st, mongoc_client_session_t *session,
			 const char *collection, const bson_t *filter, bson_t **out,
			 bson_error_t *berr, struct em_error *err)
{
	/* one copy out of the reply, not two (store_find_one's, then ours) */
	return store_find_one_new(st, session, collection, filter, out, berr, "read", err);
}

void catalog_page_release(struct catalog_page *page)
{
	for (size_t i = 0; i < page->n; i++)
		bson_destroy(page->docs[i]);
	free(page->docs);
	memset(page, 0, sizeof(*page));
}

bool catalog_db_page_collect(mongoc_cursor_t *cur, int limit, const char *what,
			     struct catalog_page *page, bson_error_t *berr, struct em_error *err)
{
	const bson_t *doc;

	memset(page, 0, sizeof(*page));
	memset(berr, 0, sizeof(*berr)); /* a copy failure leaves code 0 */
	page->docs = xcalloc(limit > 0 ? (size_t)limit : 1, sizeof(*page->docs));
	while (mongoc_cursor_next(cur, &doc)) {
		if (page->n == (size_t)limit) {
			page->more = true; /* the extra document: a next page exists */
			break;
		}
		page->docs[page->n] = bson_copy(doc);
		if (!page->docs[page->n]) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot copy a document");
			goto fail;
		}
		page->n++;
	}
	if (mongoc_cursor_error(cur, berr)) {
		store_error_set(err, berr, what);
		goto fail;
	}
	return true;
fail:
	catalog_page_release(page);
	return false;
}

void catalog_db_actor_append(bson_t *doc, const char *key, const bson_oid_t *actor)
{
	if (actor)
		BSON_APPEND_OID(doc, key, actor);
	else
		BSON_APPEND_NULL(doc, key);
}

bool catalog_db_product_write_error(const bson_error_t *berr, struct em_error *err)
{
	store_error_set(err, berr, "write product");
	if (err->kind == EM_ERR_CONFLICT) {
		bool sku = strstr(berr->message, "sku") != NULL;

		em_error_set(err, EM_ERR_CONFLICT, sku ? "sku" : "slug",
			     sku ? "a variant with this SKU exists in the shop"
				 : "a product with this slug exists");
	}
	return false;
}

/* The category_id OID of doc, or NULL. */
static const bson_oid_t *doc_category(const bson_t *doc, bson_iter_t *it)
{
	if (doc && bson_iter_init_find(it, doc, "category_id") && BSON_ITER_HOLDS_OID(it))
		return bson_iter_oid(it);
	return NULL;
}

bool catalog_db_category_link(struct em_store *st, mongoc_client_session_t *session,
			      const bson_t *content, const bson_t *old, bson_error_t *berr,
			      struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_t reply = BSON_INITIALIZER, inc, *found = NULL;
	bson_iter_t it, oit;
	const bson_oid_t *cat = doc_category(content, &it), *was = doc_category(old, &oit);
	bool ok = false;

	if (!cat)
		return true;
	BSON_APPEND_OID(&filter, "_id", cat);
	if (was && bson_oid_equal(cat, was)) {
		/* no new reference: a delete of it already sees this product */
		ok = catalog_db_find_one(st, session, "categories", &filter, &found, berr, err);
		if (ok && !found) {
			em_error_set(err, EM_ERR_INVALID, "category", "no such category");
			ok = false;
		}
		goto done;
	}
	/* A write, not a read: it conflicts with a concurrent delete of the
	 * category, so one of the two reruns and sees the other. */
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "link_rev", 1);
	bson_append_document_end(&update, &inc);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	coll = store_collection(st, "categories");
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, berr)) {
		store_error_set(err, berr, "link category");
		goto done;
	}
	if (catalog_db_int(&reply, "matchedCount") == 0) {
		em_error_set(err, EM_ERR_INVALID, "category", "no such category");
		goto done;
	}
	ok = true;
done:
	if (found)
		bson_destroy(found);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	bson_destroy(&reply);
	return ok;
}

int64_t catalog_db_int(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) ? em_bson_iter_int64(&it) : 0;
}
