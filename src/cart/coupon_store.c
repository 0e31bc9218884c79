/*
 * coupon_store.c - reading coupons and the counts their rules need.
 */
#include <string.h>

#include "cart/cart_internal.h"

bool cart_coupon_find(struct em_store *st, const char *key, struct cart_coupon *c, bool *found,
		      struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "coupons");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = true;

	*found = false;
	BSON_APPEND_UTF8(&filter, "code_key", key);
	BSON_APPEND_INT64(&opts, "limit", 1);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		ok = cart_coupon_from_bson(doc, c, err);
		*found = ok;
	}
	if (ok && mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "read coupon");
		*found = false;
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}

static bool cart_count(struct em_store *st, const char *collection, const bson_t *filter,
		       int64_t *out, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, collection);
	bson_error_t berr;
	int64_t n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &berr);

	mongoc_collection_destroy(coll);
	if (n < 0) {
		store_error_set(err, &berr, "count");
		return false;
	}
	*out = n;
	return true;
}

bool cart_customer_counts(struct em_store *st, const bson_oid_t *coupon, const bson_oid_t *user,
			  int64_t *uses, int64_t *orders, struct em_error *err)
{
	bson_t f = BSON_INITIALIZER, ne;
	bool ok;

	BSON_APPEND_OID(&f, "coupon_id", coupon);
	BSON_APPEND_OID(&f, "user_id", user);
	ok = cart_count(st, "coupon_redemptions", &f, uses, err);
	bson_reinit(&f);
	BSON_APPEND_OID(&f, "user_id", user);
	BSON_APPEND_DOCUMENT_BEGIN(&f, "status", &ne);
	BSON_APPEND_UTF8(&ne, "$ne", "cancelled");
	bson_append_document_end(&f, &ne);
	ok = ok && cart_count(st, "orders", &f, orders, err);
	bson_destroy(&f);
	return ok;
}
