/*
 * catalog_db.h - what the catalog's domain files (products.c, facets.c,
 * versions.c, categories.c) share: one-document reads inside or outside
 * a transaction, page collection, and the error mapping of product
 * writes. Not an API for route files or other modules (that is catalog.h).
 */
#ifndef EM_CATALOG_DB_H
#define EM_CATALOG_DB_H

#include "catalog/catalog.h"

/*
 * Finds one document matching filter in collection, inside session when
 * it is not NULL; *out is a copy (bson_destroy it) or NULL when none
 * matches. False only when the database failed (berr and err set).
 */
bool catalog_db_find_one(struct em_store *st, mongoc_client_session_t *session,
			 const char *collection, const bson_t *filter, bson_t **out,
			 bson_error_t *berr, struct em_error *err);

/*
 * Reads a cursor opened with limit + 1 into page: up to limit copies,
 * and page->more when the extra document came. page->next is left for
 * the caller, which derives it from the last document. On failure page
 * is released and err says what (`what` names the read; the driver's
 * error is also in berr).
 */
bool catalog_db_page_collect(mongoc_cursor_t *cur, int limit, const char *what,
			     struct catalog_page *page, bson_error_t *berr, struct em_error *err);

/* Appends key: the actor's ObjectId, or null. */
void catalog_db_actor_append(bson_t *doc, const char *key, const bson_oid_t *actor);

/*
 * Turns a failed product write into err: a duplicate key becomes
 * EM_ERR_CONFLICT on "sku" or "slug". Returns false.
 */
bool catalog_db_product_write_error(const bson_error_t *berr, struct em_error *err);

/*
 * When product content names a category_id, checks in session that the
 * category exists (EM_ERR_INVALID "category" when it does not). When it
 * differs from old's (old: the stored product, NULL for a new one), the
 * category document is written too (its link_rev incremented), so the
 * transaction conflicts with a concurrent delete of that category instead
 * of committing a product into a category that is gone.
 */
bool catalog_db_category_link(struct em_store *st, mongoc_client_session_t *session,
			      const bson_t *content, const bson_t *old, bson_error_t *berr,
			      struct em_error *err);

/* The parts of the public $match (catalog_db_product_match). */
#define CATALOG_MATCH_BASE    1u  /* $text, visible (status, deleted_at) */
#define CATALOG_MATCH_FILTERS 2u  /* everything else f holds */

/*
 * Resolves f's categories (ids or slugs) to the _ids of their subtrees,
 * appended to ids as array elements. EM_ERR_INVALID "category" for an
 * unknown category. Nothing is appended when f names no category.
 */
bool catalog_db_category_ids(struct em_store *st, const struct catalog_filter *f, bson_t *ids,
			     struct em_error *err);

/*
 * The $match of the public list and facets: the parts of "visible
 * products passing f". cat_ids are f's categories resolved by
 * catalog_db_category_ids (ignored when f names none). Every value is
 * appended with a typed call, option values and brands as escaped,
 * anchored patterns; nothing from the request becomes an operator or a
 * key (option names are [a-z_] only).
 */
void catalog_db_product_match(const struct catalog_filter *f, const bson_t *cat_ids,
			      unsigned parts, bson_t *match);

/*
 * Appends the variant conditions of f (options, price range, in stock) to
 * doc, each key prefixed by prefix ("" inside an $elemMatch on variants,
 * "variants." after an $unwind of them). False when f has none.
 */
bool catalog_db_variant_conditions(const struct catalog_filter *f, const char *prefix,
				   bson_t *doc);

/* The $search string of f's q under its match mode, into out. */
void catalog_db_text_search(const struct catalog_filter *f, char *out, size_t size);

/*
 * Appends the fields a new product starts with besides its content:
 * no images, version 1, stock_rev 0, created/updated at now by actor
 * (may be NULL), not deleted. Staff creation and seed-demo use it.
 */
void catalog_db_product_new_fields(bson_t *doc, const bson_oid_t *actor, int64_t now);

/* The int64 at key of doc (0 when absent). */
int64_t catalog_db_int(const bson_t *doc, const char *key);

#endif
