#include "store/page.h"

#include <string.h>

#include "store/store.h"

bool store_page_collect(mongoc_cursor_t *cur, int limit, store_page_render_fn render, void *ctx,
			const char *what, json_object **items, bson_t *last, bool *more,
			bson_error_t *berr, struct em_error *err)
{
	const bson_t *doc;
	int n = 0;

	*more = false;
	memset(berr, 0, sizeof(*berr)); /* a render failure leaves code 0 */
	*items = json_object_new_array();
	if (!*items) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		return false;
	}
	while (mongoc_cursor_next(cur, &doc)) {
		json_object *o;

		if (n == limit) {
			*more = true;
			break;
		}
		o = render(doc, ctx);
		if (!o) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render an item");
			goto fail;
		}
		json_object_array_add(*items, o);
		bson_destroy(last);
		bson_copy_to(doc, last);
		n++;
	}
	if (mongoc_cursor_error(cur, berr)) {
		store_error_set(err, berr, what);
		goto fail;
	}
	return true;
fail:
	json_object_put(*items);
	*items = NULL;
	return false;
}

bool store_page_by_id(struct em_store *st, const char *collection, bson_t *filter,
		      const bson_t *projection, bool descending, const bson_oid_t *after, int limit,
		      store_page_render_fn render, void *ctx, const char *what,
		      json_object **items, bson_oid_t *next_id, bool *more, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_t last = BSON_INITIALIZER, range, *opts;
	bson_error_t berr;
	bson_iter_t it;
	bool ok = false;

	*items = NULL;
	*more = false;
	if (after) {
		BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &range);
		BSON_APPEND_OID(&range, descending ? "$lt" : "$gt", after);
		bson_append_document_end(filter, &range);
	}
	opts = BCON_NEW("sort", "{", "_id", BCON_INT32(descending ? -1 : 1), "}", "limit",
			BCON_INT64((int64_t)limit + 1));
	if (projection)
		BSON_APPEND_DOCUMENT(opts, "projection", projection);
	coll = store_collection(st, collection);
	cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	if (!store_page_collect(cur, limit, render, ctx, what, items, &last, more, &berr, err))
		goto done;
	if (*more && bson_iter_init_find(&it, &last, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_copy(bson_iter_oid(&it), next_id);
	else
		*more = false;
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(opts);
	bson_destroy(&last);
	return ok;
}

bool store_page_by_time(struct em_store *st, const char *collection, bson_t *filter,
			const char *time_field, const bson_t *projection, bool descending,
			int64_t after_ms, const bson_oid_t *after_id, int limit,
			store_page_render_fn render, void *ctx, const char *what,
			json_object **items, int64_t *next_ms, bson_oid_t *next_id, bool *more,
			struct em_error *err)
{
	const char *op = descending ? "$lt" : "$gt";
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_t last = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, or, a, b, cmp;
	bson_error_t berr;
	bson_iter_t it;
	bool ok = false;

	*items = NULL;
	*more = false;
	if (after_id) {
		/* past (time, _id): an earlier (later) time, or the same and a lower (higher) id */
		BSON_APPEND_ARRAY_BEGIN(filter, "$or", &or);
		BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
		BSON_APPEND_DOCUMENT_BEGIN(&a, time_field, &cmp);
		BSON_APPEND_DATE_TIME(&cmp, op, after_ms);
		bson_append_document_end(&a, &cmp);
		bson_append_document_end(&or, &a);
		BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &b);
		BSON_APPEND_DATE_TIME(&b, time_field, after_ms);
		BSON_APPEND_DOCUMENT_BEGIN(&b, "_id", &cmp);
		BSON_APPEND_OID(&cmp, op, after_id);
		bson_append_document_end(&b, &cmp);
		bson_append_document_end(&or, &b);
		bson_append_array_end(filter, &or);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, time_field, descending ? -1 : 1);
	BSON_APPEND_INT32(&sort, "_id", descending ? -1 : 1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", (int64_t)limit + 1);
	if (projection)
		BSON_APPEND_DOCUMENT(&opts, "projection", projection);
	coll = store_collection(st, collection);
	cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
	if (!store_page_collect(cur, limit, render, ctx, what, items, &last, more, &berr, err))
		goto done;
	if (*more && bson_iter_init_find(&it, &last, time_field) &&
	    BSON_ITER_HOLDS_DATE_TIME(&it)) {
		*next_ms = bson_iter_date_time(&it);
		if (bson_iter_init_find(&it, &last, "_id") && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), next_id);
		else
			*more = false;
	} else {
		*more = false;
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&opts);
	bson_destroy(&last);
	return ok;
}
