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
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_db.h"
#include "core/alloc.h"
#include "core/bsonjson.h"
#include "core/ids.h"
#include "core/time.h"

struct catalog_option_filter *catalog_filter_option(struct catalog_filter *f, const char *name)
{
	for (size_t i = 0; i < f->noptions; i++)
		if (strcmp(f->options[i].name, name) == 0)
			return &f->options[i];
	return NULL;
}

/*
 * Appends key: {$regex: "^(?:v1|v2...)$", $options: "i"}: any of the
 * values, whole, ignoring case. Every regex metacharacter of a value is
 * escaped, so a value is only ever literal text.
 */
static void values_pattern_append(bson_t *doc, const char *key, const struct catalog_values *vals)
{
	char pat[CATALOG_FILTER_VALUES_MAX * (CATALOG_BRAND_MAX * 2 + 1) + 16];
	size_t o = 0;
	bson_t re;

	o += (size_t)snprintf(pat + o, sizeof(pat) - o, "^(?:");
	for (size_t i = 0; i < vals->n; i++) {
		if (i)
			pat[o++] = '|';
		for (const char *c = vals->v[i]; *c && o + 8 < sizeof(pat); c++) {
			/* the metacharacters outside a class; every other
			 * byte is literal, UTF-8 sequences included */
			if (strchr("\\^$.|?*+()[]{}", *c))
				pat[o++] = '\\';
			pat[o++] = *c;
		}
	}
	snprintf(pat + o, sizeof(pat) - o, ")$");
	BSON_APPEND_DOCUMENT_BEGIN(doc, key, &re);
	BSON_APPEND_UTF8(&re, "$regex", pat);
	BSON_APPEND_UTF8(&re, "$options", "i");
	bson_append_document_end(doc, &re);
}

bool catalog_db_variant_conditions(const struct catalog_filter *f, const char *prefix,
				   bson_t *doc)
{
	char key[64];
	bool any = false;
	bson_t range;

	for (size_t i = 0; i < f->noptions; i++) {
		if (!f->options[i].values.n)
			continue;
		/* the name is [a-z_]{1,20} (catalog_option_name_valid) */
		snprintf(key, sizeof(key), "%soptions.%s", prefix, f->options[i].name);
		values_pattern_append(doc, key, &f->options[i].values);
		any = true;
	}
	if (f->has_min_price || f->has_max_price) {
		snprintf(key, sizeof(key), "%sprice", prefix);
		BSON_APPEND_DOCUMENT_BEGIN(doc, key, &range);
		if (f->has_min_price)
			BSON_APPEND_INT64(&range, "$gte", f->min_price);
		if (f->has_max_price)
			BSON_APPEND_INT64(&range, "$lte", f->max_price);
		bson_append_document_end(doc, &range);
		any = true;
	}
	if (f->in_stock_only) {
		snprintf(key, sizeof(key), "%sstock", prefix);
		BSON_APPEND_DOCUMENT_BEGIN(doc, key, &range);
		BSON_APPEND_INT64(&range, "$gt", 0);
		bson_append_document_end(doc, &range);
		any = true;
	}
	return any;
}

/* Appends {"variants": {"$elemMatch": ...}} for the variant conditions of f, if any. */
static void match_variant_append(bson_t *match, const struct catalog_filter *f)
{
	bson_t em, vm, probe = BSON_INITIALIZER;

	if (!catalog_db_variant_conditions(f, "", &probe)) {
		bson_destroy(&probe);
		return;
	}
	BSON_APPEND_DOCUMENT_BEGIN(match, "variants", &em);
	BSON_APPEND_DOCUMENT_BEGIN(&em, "$elemMatch", &vm);
	bson_concat(&vm, &probe);
	bson_append_document_end(&em, &vm);
	bson_append_document_end(match, &em);
	bson_destroy(&probe);
}

/* Appends one $search phrase: "text" with the text's own quotes dropped. */
static size_t phrase_append(char *out, size_t o, size_t size, const char *s, size_t n)
{
	if (o + n + 4 >= size)
		return o;
	if (o)
		out[o++] = ' ';
	out[o++] = '"';
	for (size_t i = 0; i < n; i++)
		if (s[i] != '"')
			out[o++] = s[i];
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

void catalog_db_text_search(const struct catalog_filter *f, char *out, size_t size)
{
	const char *p = f->q;
	size_t o = 0;

	out[0] = '\0';
	if (!p)
		return;
	if (f->match == CATALOG_MATCH_ANY) {
		snprintf(out, size, "%s", p);
		return;
	}
	if (f->match == CATALOG_MATCH_PHRASE) {
		phrase_append(out, 0, size, p, strlen(p));
		return;
	}
	/* every word, and every "quoted phrase", becomes a phrase of its
	 * own: MongoDB's $text requires all phrases of a search (AND) */
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			const char *end = strchr(p + 1, '"');

			n = end ? (size_t)(end - p - 1) : strlen(p + 1);
			if (n)
				o = phrase_append(out, o, size, p + 1, n);
			p += n + 1 + (end != NULL);
			continue;
		}
		n = strcspn(p, " \t\"");
		o = phrase_append(out, o, size, p, n);
		p += n;
	}
}

bool catalog_db_category_ids(struct em_store *st, const struct catalog_filter *f, bson_t *ids,
			     struct em_error *err)
{
	if (!f->categories.n)
		return true;
	if (!catalog_category_subtrees(st, f->categories.v, f->categories.n, ids, err)) {
		if (err->kind == EM_ERR_NOT_FOUND)
			em_error_set(err, EM_ERR_INVALID, "category", "no such category");
		return false;
	}
	return true;
}

void catalog_db_product_match(const struct catalog_filter *f, const bson_t *cat_ids,
			      unsigned parts, bson_t *match)
{
	if (parts & CATALOG_MATCH_BASE) {
		if (f->q) {
			char search[CATALOG_Q_MAX * 3 + 8];
			bson_t text;

			catalog_db_text_search(f, search, sizeof(search));
			BSON_APPEND_DOCUMENT_BEGIN(match, "$text", &text);
			BSON_APPEND_UTF8(&text, "$search", search);
			bson_append_document_end(match, &text);
		}
		BSON_APPEND_UTF8(match, "status", "active");
		BSON_APPEND_NULL(match, "deleted_at");
	}
	if (!(parts & CATALOG_MATCH_FILTERS))
		return;
	if (f->nids) {
		bson_t in, arr;

		BSON_APPEND_DOCUMENT_BEGIN(match, "_id", &in);
		BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
		for (size_t i = 0; i < f->nids; i++) {
			char key[24];

			snprintf(key, sizeof(key), "%zu", i);
			BSON_APPEND_OID(&arr, key, &f->ids[i]);
		}
		bson_append_array_end(&in, &arr);
		bson_append_document_end(match, &in);
	}
	if (f->categories.n && cat_ids) {
		bson_t in;

		BSON_APPEND_DOCUMENT_BEGIN(match, "category_id", &in);
		BSON_APPEND_ARRAY(&in, "$in", cat_ids);
		bson_append_document_end(match, &in);
	}
	if (f->brands.n)
		values_pattern_append(match, "brand", &f->brands);
	match_variant_append(match, f);
}

bool catalog_sort_parse(const char *name, bool has_q, char *sort, struct em_error *err)
{
	static const struct { const char *name; char sort; } sorts[] = {
		{ "newest", CATALOG_SORT_NEWEST },     { "price_asc", CATALOG_SORT_PRICE_ASC },
		{ "price_desc", CATALOG_SORT_PRICE_DESC }, { "title", CATALOG_SORT_TITLE },
		{ "best_selling", CATALOG_SORT_BEST_SELLING },
	};

	if (!name) {
		*sort = has_q ? CATALOG_SORT_RELEVANCE : CATALOG_SORT_NEWEST;
		return true;
	}
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
		if (strcmp(name, sorts[i].name) == 0) {
			*sort = sorts[i].sort;
			return true;
		}
	if (strcmp(name, "relevance") == 0 && has_q) {
		*sort = CATALOG_SORT_RELEVANCE;
		return true;
	}
	em_error_set(err, EM_ERR_INVALID, "sort",
		     "sort must be newest, price_asc, price_desc, title, best_selling or (with q) "
		     "relevance");
	return false;
}

/*
 * A sort: the field it orders by, its direction, and the direction of
 * the _id that breaks ties (relevance: best first, then oldest _id).
 */
struct sort_spec {
	const char *key;
	int dir, id_dir;
};

static struct sort_spec sort_spec(char sort)
{
	switch (sort) {
	case CATALOG_SORT_RELEVANCE:
		return (struct sort_spec){ "_score", -1, 1 };
	case CATALOG_SORT_PRICE_ASC:
		return (struct sort_spec){ "min_price", 1, 1 };
	case CATALOG_SORT_PRICE_DESC:
		return (struct sort_spec){ "min_price", -1, -1 };
	case CATALOG_SORT_TITLE:
		return (struct sort_spec){ "title", 1, 1 };
	case CATALOG_SORT_BEST_SELLING:
		/* _sold: sold_units, 0 for a product never sold (addFields) */
		return (struct sort_spec){ "_sold", -1, -1 };
	default:
		/* created_at, not _id alone: ObjectIds from different worker
		 * processes are ordered only to the second */
		return (struct sort_spec){ "created_at", -1, -1 };
	}
}

/* Where a page continues: the cursor, and for title the last title. */
struct after {
	struct catalog_cursor c;
	char title[CATALOG_TITLE_MAX + 1];
};

/* Appends the cursor's sort key to doc under op, typed as stored. */
static void cursor_key_append(bson_t *doc, const char *op, const struct after *a)
{
	if (a->c.sort == CATALOG_SORT_RELEVANCE)
		BSON_APPEND_DOUBLE(doc, op, a->c.dval);
	else if (a->c.sort == CATALOG_SORT_NEWEST)
		BSON_APPEND_DATE_TIME(doc, op, a->c.ival);
	else if (a->c.sort == CATALOG_SORT_TITLE)
		BSON_APPEND_UTF8(doc, op, a->title);
	else
		BSON_APPEND_INT64(doc, op, a->c.ival);
}

/*
 * Appends the "strictly after the cursor" condition: key beyond the
 * cursor's, or the same key and _id beyond (the tie-break of the sort).
 */
static void cursor_match_append(bson_t *m, const struct after *a)
{
	bson_t or, x, y, cmp;
	struct sort_spec sp = sort_spec(a->c.sort);

	BSON_APPEND_ARRAY_BEGIN(m, "$or", &or);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &x);
	BSON_APPEND_DOCUMENT_BEGIN(&x, sp.key, &cmp);
	cursor_key_append(&cmp, sp.dir > 0 ? "$gt" : "$lt", a);
	bson_append_document_end(&x, &cmp);
	bson_append_document_end(&or, &x);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &y);
	cursor_key_append(&y, sp.key, a);
	BSON_APPEND_DOCUMENT_BEGIN(&y, "_id", &cmp);
	BSON_APPEND_OID(&cmp, sp.id_dir > 0 ? "$gt" : "$lt", &a->c.id);
	bson_append_document_end(&y, &cmp);
	bson_append_document_end(&or, &y);
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
	struct sort_spec sp = sort_spec(sort);
	bson_t stage, body;

	stage_begin(p, &stage, "$sort", &body);
	BSON_APPEND_INT32(&body, sp.key, sp.dir);
	BSON_APPEND_INT32(&body, "_id", sp.id_dir);
	stage_end(p, &stage, &body);
}

/* match, [score | sold], [after the cursor], sort, limit + 1. */
static void search_pipeline_build(struct pipeline *p, const bson_t *match, char sort,
				  const struct after *after, int limit)
{
	bson_t stage, body, meta, arr;

	stage_begin(p, &stage, "$match", &body);
	bson_concat(&body, match);
	stage_end(p, &stage, &body);
	if (sort == CATALOG_SORT_RELEVANCE) {
		stage_begin(p, &stage, "$addFields", &body);
		BSON_APPEND_DOCUMENT_BEGIN(&body, "_score", &meta);
		BSON_APPEND_UTF8(&meta, "$meta", "textScore");
		bson_append_document_end(&body, &meta);
		stage_end(p, &stage, &body);
	} else if (sort == CATALOG_SORT_BEST_SELLING) {
		stage_begin(p, &stage, "$addFields", &body);
		BSON_APPEND_DOCUMENT_BEGIN(&body, "_sold", &meta);
		BSON_APPEND_ARRAY_BEGIN(&meta, "$ifNull", &arr);
		BSON_APPEND_UTF8(&arr, "0", "$sold_units");
		BSON_APPEND_INT64(&arr, "1", 0);
		bson_append_array_end(&meta, &arr);
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
	struct sort_spec sp = sort_spec(sort);
	bson_iter_t it;

	c.sort = sort;
	if (bson_iter_init_find(&it, last, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_copy(bson_iter_oid(&it), &c.id);
	if (sort == CATALOG_SORT_TITLE) {
		/* the title is read back from the product (a cursor has no room) */
	} else if (!bson_iter_init_find(&it, last, sp.key)) {
		/* absent: 0 */
	} else if (sort == CATALOG_SORT_RELEVANCE) {
		c.dval = BSON_ITER_HOLDS_DOUBLE(&it) ? bson_iter_double(&it)
						     : (double)em_bson_iter_int64(&it);
	} else if (sort == CATALOG_SORT_NEWEST) {
		if (BSON_ITER_HOLDS_DATE_TIME(&it))
			c.ival = bson_iter_date_time(&it);
	} else {
		c.ival = em_bson_iter_int64(&it);
	}
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

/* For a title cursor: the title of the product it ends after (any state). */
static bool after_title_load(struct em_store *st, struct after *a, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, *doc = NULL;
	bson_error_t berr;
	bson_iter_t it;
	bool ok = false;

	BSON_APPEND_OID(&filter, "_id", &a->c.id);
	if (!catalog_db_find_one(st, NULL, "products", &filter, &doc, &berr, err))
		goto done;
	if (!doc || !bson_iter_init_find(&it, doc, "title") || !BSON_ITER_HOLDS_UTF8(&it)) {
		em_error_set(err, EM_ERR_INVALID, "cursor",
			     "the product this page ended at is gone: start again");
		goto done;
	}
	snprintf(a->title, sizeof(a->title), "%s", bson_iter_utf8(&it, NULL));
	ok = true;
done:
	if (doc)
		bson_destroy(doc);
	bson_destroy(&filter);
	return ok;
}

/* The whole $match of f: its categories resolved, every part. */
static bool full_match(struct em_store *st, const struct catalog_filter *f, bson_t *match,
		       struct em_error *err)
{
	bson_t ids = BSON_INITIALIZER;
	bool ok = catalog_db_category_ids(st, f, &ids, err);

	if (ok)
		catalog_db_product_match(f, &ids, CATALOG_MATCH_BASE | CATALOG_MATCH_FILTERS, match);
	bson_destroy(&ids);
	return ok;
}

bool catalog_product_search(struct em_store *st, const struct catalog_filter *f, char sort,
			    int limit, const char *cursor, struct catalog_page *page,
			    struct em_error *err)
{
	bson_t match = BSON_INITIALIZER;
	struct pipeline p = { BSON_INITIALIZER, 0 };
	struct after after;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_error_t berr;
	bool has_after, ok = false;

	memset(page, 0, sizeof(*page));
	memset(&after, 0, sizeof(after));
	if (!page_cursor_decode(cursor, sort, &after.c, &has_after, err) ||
	    (has_after && sort == CATALOG_SORT_TITLE && !after_title_load(st, &after, err)) ||
	    !full_match(st, f, &match, err))
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

bool catalog_product_by_ids(struct em_store *st, const struct catalog_filter *f,
			    struct catalog_page *page, struct em_error *err)
{
	bson_t match = BSON_INITIALIZER;
	struct catalog_page found;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_error_t berr;
	bool ok = false;

	memset(page, 0, sizeof(*page));
	memset(&found, 0, sizeof(found));
	if (!full_match(st, f, &match, err))
		goto done;
	coll = store_collection(st, "products");
	cur = mongoc_collection_find_with_opts(coll, &match, NULL, NULL);
	if (!catalog_db_page_collect(cur, CATALOG_IDS_MAX, "products by id", &found, &berr, err))
		goto done;
	/* the order the client asked in; a repeated id once */
	page->docs = xcalloc(found.n ? found.n : 1, sizeof(*page->docs));
	for (size_t i = 0; i < f->nids; i++)
		for (size_t k = 0; k < found.n; k++) {
			bson_iter_t it;

			if (found.docs[k] && bson_iter_init_find(&it, found.docs[k], "_id") &&
			    BSON_ITER_HOLDS_OID(&it) && bson_oid_equal(bson_iter_oid(&it), &f->ids[i])) {
				page->docs[page->n++] = found.docs[k];
				found.docs[k] = NULL;
				break;
			}
		}
	ok = true;
done:
	for (size_t k = 0; k < found.n; k++)
		if (found.docs[k])
			bson_destroy(found.docs[k]);
	free(found.docs);
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&match);
	return ok;
}

bool catalog_product_sold_add(struct em_store *st, mongoc_client_session_t *session,
			      const char *sku, int64_t qty, bson_error_t *berr,
			      struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, inc;
	bool ok;

	BSON_APPEND_UTF8(&filter, "variants.sku", sku);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "sold_units", qty);
	bson_append_document_end(&update, &inc);
	ok = store_update_one(st, session, "products", &filter, &update, NULL, berr,
			      "count sold units", err);
	bson_destroy(&filter);
	bson_destroy(&update);
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

/* Tries of a generated slug: each lost race means another create took
 * the slug, so a burst of n creates of one title needs at most n. */
#define SLUG_TRIES 16

/*
 * The first free slug for base: base itself, else base-N with N one
 * above the highest taken (one read of the slug index, anchored on
 * base). A create that races to it loses on the unique index and asks
 * again.
 */
static bool slug_pick(struct em_store *st, const char *base, char *out, size_t size,
		      struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "products");
	bson_t filter = BSON_INITIALIZER, re, *opts;
	char pat[CATALOG_SLUG_MAX + 32];
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool taken = false, ok = false;
	long long top = 1;
	size_t blen = strlen(base);

	/* base is [a-z0-9-] only: no pattern metacharacters */
	snprintf(pat, sizeof(pat), "^%s(-[0-9]+)?$", base);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "slug", &re);
	BSON_APPEND_UTF8(&re, "$regex", pat);
	bson_append_document_end(&filter, &re);
	opts = BCON_NEW("projection", "{", "slug", BCON_INT32(1), "_id", BCON_INT32(0), "}");
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		const char *s;

		if (!bson_iter_init_find(&it, doc, "slug") || !BSON_ITER_HOLDS_UTF8(&it))
			continue;
		s = bson_iter_utf8(&it, NULL);
		if (strcmp(s, base) == 0) {
			taken = true;
		} else if (strlen(s) > blen + 1 && strlen(s) - blen - 1 <= 6) {
			long long n = strtoll(s + blen + 1, NULL, 10);

			if (n > top)
				top = n;
		}
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "find slugs");
		goto done;
	}
	if (!taken && top == 1) {
		snprintf(out, size, "%s", base);
	} else {
		/* the suffix always fits: a base at the length limit gives
		 * up its tail (and a '-' left there) to it */
		char suffix[24];
		int sl = snprintf(suffix, sizeof(suffix), "-%lld", top + 1);
		size_t keep = blen;

		if (sl < 0 || (size_t)sl >= size) {
			em_error_set(err, EM_ERR_INTERNAL, "slug", "slug suffix too long");
			goto done;
		}
		if (keep > size - 1 - (size_t)sl)
			keep = size - 1 - (size_t)sl;
		while (keep > 0 && base[keep - 1] == '-')
			keep--;
		memcpy(out, base, keep);
		memcpy(out + keep, suffix, (size_t)sl + 1);
	}
	ok = true;
done:
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	return ok;
}

/* doc: _id, the content with slug (when given), the new product's fields. */
static bool create_doc(bson_t *doc, const bson_oid_t *id, const bson_t *content,
		       const char *slug, const bson_oid_t *actor, struct em_error *err)
{
	bson_reinit(doc);
	BSON_APPEND_OID(doc, "_id", id);
	if (slug) {
		bson_copy_to_excluding_noinit(content, doc, "slug", NULL);
		BSON_APPEND_UTF8(doc, "slug", slug);
	} else if (!bson_concat(doc, content)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the product");
		return false;
	}
	catalog_db_product_new_fields(doc, actor, em_now_ms());
	return true;
}

bool catalog_product_create(struct em_store *st, const char *default_currency, json_object *in,
			    const bson_oid_t *actor, bson_t **out, struct em_error *err)
{
	bson_t *doc = bson_new(), content = BSON_INITIALIZER;
	struct create_run r = { .st = st, .doc = doc };
	json_object *given = NULL;
	char base[CATALOG_SLUG_MAX + 1], slug[CATALOG_SLUG_MAX + 1], hex[25];
	bson_iter_t it;
	bson_oid_t id;
	bool generated, ok = false;

	*out = NULL;
	if (!catalog_product_build(in, default_currency, NULL, &content, err))
		goto done;
	/* the _id is chosen once, so a rerun transaction inserts the same product */
	bson_oid_init(&id, NULL);
	generated = !json_object_object_get_ex(in, "slug", &given) || !given;
	if (!generated) {
		if (!create_doc(doc, &id, &content, NULL, actor, err) ||
		    !store_txn_run(st, create_txn, &r, err))
			goto done;
	} else {
		/* made from the title (catalog_slug_from_title); a title
		 * with nothing usable: product-<the id's last 8 digits> */
		base[0] = '\0';
		if (bson_iter_init_find(&it, &content, "slug") && BSON_ITER_HOLDS_UTF8(&it))
			snprintf(base, sizeof(base), "%s", bson_iter_utf8(&it, NULL));
		if (!base[0]) {
			bson_oid_to_string(&id, hex);
			snprintf(base, sizeof(base), "product-%s", hex + 16);
		}
		for (int attempt = 0;; attempt++) {
			if (!slug_pick(st, base, slug, sizeof(slug), err) ||
			    !create_doc(doc, &id, &content, slug, actor, err))
				goto done;
			if (store_txn_run(st, create_txn, &r, err))
				break;
			/* another create took this slug meanwhile: the next */
			if (err->kind != EM_ERR_CONFLICT || strcmp(err->field, "slug") != 0 ||
			    attempt + 1 >= SLUG_TRIES)
				goto done;
			em_error_clear(err);
		}
	}
	*out = doc;
	doc = NULL;
	ok = true;
done:
	if (doc)
		bson_destroy(doc);
	bson_destroy(&content);
	return ok;
}

/* The staff list's conditions beyond deleted and status. */
static bool admin_match_append(struct em_store *st, const struct catalog_admin_query *aq,
			       bson_t *filter, struct em_error *err)
{
	struct catalog_filter *f = xcalloc(1, sizeof(*f));
	bson_t ids = BSON_INITIALIZER, in;
	bool ok = false;

	if (aq->category) {
		f->categories.v[0] = aq->category;
		f->categories.n = 1;
		if (!catalog_db_category_ids(st, f, &ids, err))
			goto done;
		BSON_APPEND_DOCUMENT_BEGIN(filter, "category_id", &in);
		BSON_APPEND_ARRAY(&in, "$in", &ids);
		bson_append_document_end(filter, &in);
	}
	if (aq->sku)
		BSON_APPEND_UTF8(filter, "variants.sku", aq->sku);
	if (aq->q) {
		char search[CATALOG_Q_MAX * 3 + 8];
		bson_t text;

		f->q = aq->q;
		f->match = CATALOG_MATCH_ALL;
		catalog_db_text_search(f, search, sizeof(search));
		BSON_APPEND_DOCUMENT_BEGIN(filter, "$text", &text);
		BSON_APPEND_UTF8(&text, "$search", search);
		bson_append_document_end(filter, &text);
	}
	ok = true;
done:
	bson_destroy(&ids);
	free(f);
	return ok;
}

bool catalog_product_admin_list(struct em_store *st, const struct catalog_admin_query *aq,
				int limit, const char *cursor, struct catalog_page *page,
				struct em_error *err)
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
	if (aq->deleted == CATALOG_LIVE) {
		BSON_APPEND_NULL(&filter, "deleted_at");
	} else if (aq->deleted == CATALOG_DELETED) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "deleted_at", &cmp);
		BSON_APPEND_NULL(&cmp, "$ne");
		bson_append_document_end(&filter, &cmp);
	}
	if (aq->status)
		BSON_APPEND_UTF8(&filter, "status", aq->status);
	if (!admin_match_append(st, aq, &filter, err))
		goto done;
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
	if (!catalog_db_page_collect(cur, limit, "list products", page, &berr, err)) {
		if (aq->q && (berr.code == 27 || berr.code == 2))
			em_error_set(err, EM_ERR_INVALID, "q", "this search is not supported");
		goto done;
	}
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
