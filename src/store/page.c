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
