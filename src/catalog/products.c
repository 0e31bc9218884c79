/*
 * products.c - product reads and creation: the public list (filters,
 * full-text search, sorts, keyset pagination), the public and staff
 * detail, staff creation and the staff list (see catalog.h).
 *
 * The public list is an aggregate whose first stage is the $match built
 * by catalog_db_product_match() from typed values; the sort keys
 * (created_at + _id; min_price + _id; text score + _id) are served by the
 * indexes in module.c. Keyset pagination continues strictly after the
 * last (sort key, _id) pair of the previous page, so inserts made while a
 * client pages neither repeat nor hide items that existed before.
 */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_db.h"
#include "core/bsonjson.h"
#include "core/ids.h"
#include "core/time.h"

/* Appends {"$elemMatch": ...} for the variant conditions of f, if any. */
static void match_variant_append(bson_t *match, const struct catalog_filter *f)
{
	bson_t em, vm, range;

	if (!(f->size || f->color || f->has_min_price || f->has_max_price || f->in_stock_only))
		return;
	BSON_APPEND_DOCUMENT_BEGIN(match, "variants", &em);
	BSON_APPEND_DOCUMENT_BEGIN(&em, "$elemMatch", &vm);
	if (f->size)
		BSON_APPEND_UTF8(&vm, "options.size", f->size);
	if (f->color)
		BSON_APPEND_UTF8(&vm, "options.color", f->color);
	if (f->has_min_price || f->has_max_price) {
		BSON_APPEND_DOCUMENT_BEGIN(&vm, "price", &range);
		if (f->has_min_price)
			BSON_APPEND_INT64(&range, "$gte", f->min_price);
		if (f->has_max_price)
			BSON_APPEND_INT64(&range, "$lte", f->max_price);
		bson_append_document_end(&vm, &range);
	}
	if (f->in_stock_only) {
		BSON_APPEND_DOCUMENT_BEGIN(&vm, "stock", &range);
		BSON_APPEND_INT64(&range, "$gt", 0);
		bson_append_document_end(&vm, &range);
	}
	bson_append_document_end(&em, &vm);
	bson_append_document_end(match, &em);
}

bool catalog_db_product_match(struct em_store *st, const struct catalog_filter *f,
			      bson_t *match, struct em_error *err)
{
	if (f->q) {
		bson_t text;

		BSON_APPEND_DOCUMENT_BEGIN(match, "$text", &text);
		BSON_APPEND_UTF8(&text, "$search", f->q);
		bson_append_document_end(match, &text);
	}
	BSON_APPEND_UTF8(match, "status", "active");
	BSON_APPEND_NULL(match, "deleted_at");
	if (f->category) {
		bson_t ids = BSON_INITIALIZER, in;
		bson_oid_t root;

		if (!catalog_category_subtree(st, f->category, &root, &ids, err)) {
			bson_destroy(&ids);
			if (err->kind == EM_ERR_NOT_FOUND)
				em_error_set(err, EM_ERR_INVALID, "category", "no such category");
			return false;
		}
		BSON_APPEND_DOCUMENT_BEGIN(match, "category_id", &in);
		BSON_APPEND_ARRAY(&in, "$in", &ids);
		bson_append_document_end(match, &in);
		bson_destroy(&ids);
	}
	if (f->brand)
		BSON_APPEND_UTF8(match, "brand", f->brand);
	match_variant_append(match, f);
	return true;
}

bool catalog_sort_parse(const char *name, bool has_q, char *sort, struct em_error *err)
{
	if (!name)
		*sort = has_q ? CATALOG_SORT_RELEVANCE : CATALOG_SORT_NEWEST;
	else if (strcmp(name, "newest") == 0)
		*sort = CATALOG_SORT_NEWEST;
	else if (strcmp(name, "price_asc") == 0)
		*sort = CATALOG_SORT_PRICE_ASC;
	else if (strcmp(name, "price_desc") == 0)
		*sort = CATALOG_SORT_PRICE_DESC;
	else if (strcmp(name, "relevance") == 0 && has_q)
		*sort = CATALOG_SORT_RELEVANCE;
	else {
		em_error_set(err, EM_ERR_INVALID, "sort",
			     "sort must be newest, price_asc, price_desc or (with q) relevance");
		return false;
	}
	return true;
}

/* The stored field a sort orders by (then _id breaks ties). */
static const char *sort_key(char sort)
{
	if (sort == CATALOG_SORT_RELEVANCE)
		return "_score";
	return sort == CATALOG_SORT_NEWEST ? "created_at" : "min_price";
}

/* Appends the cursor's sort key to doc under op, typed as stored. */
static void cursor_key_append(bson_t *doc, const char *op, const struct catalog_cursor *c)
{
	if (c->sort == CATALOG_SORT_RELEVANCE)
		BSON_APPEND_DOUBLE(doc, op, c->dval);
	else if (c->sort == CATALOG_SORT_NEWEST)
		BSON_APPEND_DATE_TIME(doc, op, c->ival);
	else
		BSON_APPEND_INT64(doc, op, c->ival);
}

/*
 * Appends the "strictly after the cursor" condition: key beyond the
 * cursor's, or the same key and _id beyond (the tie-break of the sort).
 */
static void cursor_match_append(bson_t *m, const struct catalog_cursor *c)
{
	bson_t or, a, b, cmp;
	const char *key = sort_key(c->sort);
	bool up_id = c->sort == CATALOG_SORT_PRICE_ASC || c->sort == CATALOG_SORT_RELEVANCE;
	const char *key_op = c->sort == CATALOG_SORT_PRICE_ASC ? "$gt" : "$lt";

	BSON_APPEND_ARRAY_BEGIN(m, "$or", &or);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
	BSON_APPEND_DOCUMENT_BEGIN(&a, key, &cmp);
	cursor_key_append(&cmp, key_op, c);
	bson_append_document_end(&a, &cmp);
	bson_append_document_end(&or, &a);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &b);
	cursor_key_append(&b, key, c);
	BSON_APPEND_DOCUMENT_BEGIN(&b, "_id", &cmp);
	BSON_APPEND_OID(&cmp, up_id ? "$gt" : "$lt", &c->id);
	bson_append_document_end(&b, &cmp);
	bson_append_document_end(&or, &b);
	bson_append_array_end(m, &or);
}

/* An aggregate pipeline being built: stages get the keys "0", "1", ... */
struct pipeline {
	bson_t doc;
	int n;
};

/* Opens the next stage, {name: <*body>}; close it with stage_end. */
static void stage_begin(struct pipeline *p, bson_t *stage, const char *name, bson_t *body)
{
	char key[16];

	snprintf(key, sizeof(key), "%d", p->n++);
	BSON_APPEND_DOCUMENT_BEGIN(&p->doc, key, stage);
	BSON_APPEND_DOCUMENT_BEGIN(stage, name, body);
}

static void stage_end(struct pipeline *p, bson_t *stage, bson_t *body)
{
	bson_append_document_end(stage, body);
	bson_append_document_end(&p->doc, stage);
}

static void sort_stage_append(struct pipeline *p, char sort)
{
	bson_t stage, body;

	stage_begin(p, &stage, "$sort", &body);
	switch (sort) {
	case CATALOG_SORT_PRICE_ASC:
		BSON_APPEND_INT32(&body, "min_price", 1);
		BSON_APPEND_INT32(&body, "_id", 1);
		break;
	case CATALOG_SORT_PRICE_DESC:
		BSON_APPEND_INT32(&body, "min_price", -1);
		BSON_APPEND_INT32(&body, "_id", -1);
		break;
	case CATALOG_SORT_RELEVANCE:
		BSON_APPEND_INT32(&body, "_score", -1);
		BSON_APPEND_INT32(&body, "_id", 1);
		break;
	default:
		/* created_at, not _id alone: ObjectIds from different worker
		 * processes are ordered only to the second */
		BSON_APPEND_INT32(&body, "created_at", -1);
		BSON_APPEND_INT32(&body, "_id", -1);
	}
	stage_end(p, &stage, &body);
}

/* match, [score], [after the cursor], sort, limit + 1. */
static void search_pipeline_build(struct pipeline *p, const bson_t *match, char sort,
				  const struct catalog_cursor *after, int limit)
{
	bson_t stage, body, meta;

	stage_begin(p, &stage, "$match", &body);
	bson_concat(&body, match);
	stage_end(p, &stage, &body);
	if (sort == CATALOG_SORT_RELEVANCE) {
		stage_begin(p, &stage, "$addFields", &body);
		BSON_APPEND_DOCUMENT_BEGIN(&body, "_score", &meta);
		BSON_APPEND_UTF8(&meta, "$meta", "textScore");
		bson_append_document_end(&body, &meta);
		stage_end(p, &stage, &body);
	}
	if (after) {
		stage_begin(p, &stage, "$match", &body);
		cursor_match_append(&body, after);
		stage_end(p, &stage, &body);
	}
	sort_stage_append(p, sort);
	{
		char key[16];

		snprintf(key, sizeof(key), "%d", p->n++);
		BSON_APPEND_DOCUMENT_BEGIN(&p->doc, key, &stage);
		BSON_APPEND_INT64(&stage, "$limit", limit + 1);
		bson_append_document_end(&p->doc, &stage);
	}
}

/* The cursor after the last document of a search page: its sort key and _id. */
static void search_next_cursor(const bson_t *last, char sort, char *out, size_t size)
{
	struct catalog_cursor c = { 0 };
	bson_iter_t it;

	c.sort = sort;
	if (bson_iter_init_find(&it, last, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_copy(bson_iter_oid(&it), &c.id);
	if (sort == CATALOG_SORT_RELEVANCE && bson_iter_init_find(&it, last, "_score"))
		c.dval = BSON_ITER_HOLDS_DOUBLE(&it) ? bson_iter_double(&it)
						     : (double)em_bson_iter_int64(&it);
	else if (sort == CATALOG_SORT_NEWEST && bson_iter_init_find(&it, last, "created_at") &&
		 BSON_ITER_HOLDS_DATE_TIME(&it))
		c.ival = bson_iter_date_time(&it);
	else if (sort != CATALOG_SORT_NEWEST && bson_iter_init_find(&it, last, "min_price"))
		c.ival = em_bson_iter_int64(&it);
	catalog_cursor_encode(&c, out, size);
}

/* Decodes cursor (NULL: none) and checks it belongs to a list sorted by sort. */
static bool page_cursor_decode(const char *cursor, char sort, struct catalog_cursor *after,
			       bool *has, struct em_error *err)
{
	*has = cursor != NULL;
	if (!cursor)
		return true;
	if (!catalog_cursor_decode(cursor, after, err))
		return false;
	if (after->sort != sort) {
		em_error_set(err, EM_ERR_INVALID, "cursor", "the cursor belongs to another list");
		return false;
	}
	return true;
}

bool catalog_product_search(struct em_store *st, const struct catalog_filter *f, char sort,
			    int limit, const char *cursor, struct catalog_page *page,
			    struct em_error *err)
{
	bson_t match = BSON_INITIALIZER;
	struct pipeline p = { BSON_INITIALIZER, 0 };
	struct catalog_cursor after;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_error_t berr;
	bool has_after, ok = false;

	memset(page, 0, sizeof(*page));
	if (!page_cursor_decode(cursor, sort, &after, &has_after, err) ||
	    !catalog_db_product_match(st, f, &match, err))
		goto done;
	search_pipeline_build(&p, &match, sort, has_after ? &after : NULL, limit);
	coll = store_collection(st, "products");
	cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, &p.doc, NULL, NULL);
	if (!catalog_db_page_collect(cur, limit, "list products", page, &berr, err)) {
		/* a search the database cannot run is the client's query */
		if (berr.code == 27 || berr.code == 2)
			em_error_set(err, EM_ERR_INVALID, "q", "this search is not supported");
		goto done;
	}
	if (page->more)
		search_next_cursor(page->docs[page->n - 1], sort, page->next, sizeof(page->next));
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&match);
	bson_destroy(&p.doc);
	return ok;
}

bool catalog_product_find_visible(struct em_store *st, const char *id_or_slug, bson_t **out,
				  struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, or, a, b;
	bson_oid_t oid;
	bson_error_t berr;
	bool ok = false;

	*out = NULL;
	if (!id_or_slug || strlen(id_or_slug) > CATALOG_SLUG_MAX) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		goto done;
	}
	BSON_APPEND_UTF8(&filter, "status", "active");
	BSON_APPEND_NULL(&filter, "deleted_at");
	/* 24 hex digits are also a valid slug: either may be meant */
	if (em_oid_parse(id_or_slug, &oid)) {
		BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &or);
		BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
		BSON_APPEND_OID(&a, "_id", &oid);
		bson_append_document_end(&or, &a);
		BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &b);
		BSON_APPEND_UTF8(&b, "slug", id_or_slug);
		bson_append_document_end(&or, &b);
		bson_append_array_end(&filter, &or);
	} else {
		BSON_APPEND_UTF8(&filter, "slug", id_or_slug);
	}
	if (!catalog_db_find_one(st, NULL, "products", &filter, out, &berr, err))
		goto done;
	if (!*out) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		goto done;
	}
	ok = true;
done:
	bson_destroy(&filter);
	return ok;
}

bool catalog_product_find(struct em_store *st, const bson_oid_t *id, bson_t **out,
			  struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bson_error_t berr;
	bool ok;

	BSON_APPEND_OID(&filter, "_id", id);
	ok = catalog_db_find_one(st, NULL, "products", &filter, out, &berr, err);
	bson_destroy(&filter);
	if (ok && !*out) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such product");
		ok = false;
	}
	return ok;
}

void catalog_db_product_new_fields(bson_t *doc, const bson_oid_t *actor, int64_t now)
{
	bson_t empty;

	BSON_APPEND_ARRAY_BEGIN(doc, "images", &empty);
	bson_append_array_end(doc, &empty);
	BSON_APPEND_INT64(doc, "version", 1);
	BSON_APPEND_INT64(doc, "stock_rev", 0);
	BSON_APPEND_DATE_TIME(doc, "created_at", now);
	BSON_APPEND_DATE_TIME(doc, "updated_at", now);
	catalog_db_actor_append(doc, "created_by", actor);
	catalog_db_actor_append(doc, "updated_by", actor);
	BSON_APPEND_NULL(doc, "deleted_at");
}

struct create_run {
	struct em_store *st;
	const bson_t *doc;
};

/* Checks (and links) the category and inserts the product, in one transaction. */
static bool create_txn(mongoc_client_session_t *session, void *ctx, bson_error_t *berr,
		       struct em_error *err)
{
	struct create_run *r = ctx;
	mongoc_collection_t *coll = NULL;
	bson_t opts = BSON_INITIALIZER;
	bool ok = false;

	if (!catalog_db_category_link(r->st, session, r->doc, NULL, berr, err) ||
	    !store_txn_opts(session, &opts, err))
		goto done;
	coll = store_collection(r->st, "products");
	if (!mongoc_collection_insert_one(coll, r->doc, &opts, NULL, berr)) {
		catalog_db_product_write_error(berr, err);
		goto done;
	}
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&opts);
	return ok;
}

bool catalog_product_create(struct em_store *st, const char *default_currency, json_object *in,
			    const bson_oid_t *actor, bson_t **out, struct em_error *err)
{
	bson_t *doc = bson_new(), content = BSON_INITIALIZER;
	struct create_run r = { .st = st, .doc = doc };
	bson_oid_t id;
	bool ok = false;

	*out = NULL;
	if (!catalog_product_build(in, default_currency, NULL, &content, err))
		goto done;
	/* the _id is chosen once, so a rerun transaction inserts the same product */
	bson_oid_init(&id, NULL);
	BSON_APPEND_OID(doc, "_id", &id);
	if (!bson_concat(doc, &content)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the product");
		goto done;
	}
	catalog_db_product_new_fields(doc, actor, em_now_ms());
	if (!store_txn_run(st, create_txn, &r, err))
		goto done;
	*out = doc;
	doc = NULL;
	ok = true;
done:
	if (doc)
		bson_destroy(doc);
	bson_destroy(&content);
	return ok;
}

bool catalog_product_admin_list(struct em_store *st, enum catalog_deleted deleted,
				const char *status, int limit, const char *cursor,
				struct catalog_page *page, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, cmp;
	struct catalog_cursor after;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_error_t berr;
	bool has_after, ok = false;

	memset(page, 0, sizeof(*page));
	if (!page_cursor_decode(cursor, 'i', &after, &has_after, err))
		goto done;
	if (deleted == CATALOG_LIVE) {
		BSON_APPEND_NULL(&filter, "deleted_at");
	} else if (deleted == CATALOG_DELETED) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "deleted_at", &cmp);
		BSON_APPEND_NULL(&cmp, "$ne");
		bson_append_document_end(&filter, &cmp);
	}
	if (status)
		BSON_APPEND_UTF8(&filter, "status", status);
	if (has_after) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &cmp);
		BSON_APPEND_OID(&cmp, "$lt", &after.id);
		bson_append_document_end(&filter, &cmp);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "_id", -1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", limit + 1);
	coll = store_collection(st, "products");
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	if (!catalog_db_page_collect(cur, limit, "list products", page, &berr, err))
		goto done;
	if (page->more) {
		struct catalog_cursor c = { .sort = 'i' };
		bson_iter_t it;

		if (bson_iter_init_find(&it, page->docs[page->n - 1], "_id") &&
		    BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &c.id);
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
