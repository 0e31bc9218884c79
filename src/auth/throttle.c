/*
 * throttle.c - fixed-window counters in the rate_limits collection, shared
 * by every worker on every host (nginx's own limit is per nginx host).
 *
 * A counter is { _id: key, count, expires_at }: the window ends at
 * expires_at. The TTL index removes dead windows eventually; until it
 * does, a window past expires_at counts as empty here.
 */
#include <stdio.h>

#include "auth/accounts.h"

bool auth_throttle_peek(struct em_store *st, const char *key, int *count, int *retry_after,
			struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "rate_limits");
	bson_t *filter = BCON_NEW("_id", BCON_UTF8(key));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	const bson_t *doc;
	bson_error_t berr;
	bson_iter_t it;
	int64_t now = em_now_ms(), until = 0;
	bool ok = true;

	*count = 0;
	*retry_after = 0;
	if (mongoc_cursor_next(cur, &doc)) {
		if (bson_iter_init_find(&it, doc, "expires_at") && BSON_ITER_HOLDS_DATE_TIME(&it))
			until = bson_iter_date_time(&it);
		if (until > now) {
			if (bson_iter_init_find(&it, doc, "count") && BSON_ITER_HOLDS_NUMBER(&it))
				*count = (int)bson_iter_as_int64(&it);
			*retry_after = (int)((until - now + 999) / 1000);
		}
	} else if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "read a rate limit");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

bool auth_throttle_hit(struct em_store *st, const char *key, int window_s, int *count,
		       int *retry_after, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "rate_limits");
	int64_t now = em_now_ms();
	bson_t *filter = BCON_NEW("_id", BCON_UTF8(key), "expires_at", "{", "$gt",
				  BCON_DATE_TIME(now), "}");
	bson_t *update = BCON_NEW("$inc", "{", "count", BCON_INT32(1), "}",
				  "$setOnInsert", "{", "expires_at",
				  BCON_DATE_TIME(now + (int64_t)window_s * 1000), "}");
	bson_t *stale = BCON_NEW("_id", BCON_UTF8(key), "expires_at", "{", "$lte",
				 BCON_DATE_TIME(now), "}");
	mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
	bson_t reply;
	bson_error_t berr;
	bson_iter_t it, v;
	bool ok = false;

	*count = 0;
	if (retry_after)
		*retry_after = window_s;
	mongoc_find_and_modify_opts_set_update(fam, update);
	mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_UPSERT |
						   MONGOC_FIND_AND_MODIFY_RETURN_NEW);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (mongoc_collection_find_and_modify_with_opts(coll, filter, fam, &reply, &berr)) {
			if (bson_iter_init_find(&it, &reply, "value") &&
			    bson_iter_recurse(&it, &v) && bson_iter_find(&v, "count") &&
			    BSON_ITER_HOLDS_NUMBER(&v))
				*count = (int)bson_iter_as_int64(&v);
			if (retry_after && bson_iter_init_find(&it, &reply, "value") &&
			    bson_iter_recurse(&it, &v) && bson_iter_find(&v, "expires_at") &&
			    BSON_ITER_HOLDS_DATE_TIME(&v))
				*retry_after = (int)((bson_iter_date_time(&v) - now + 999) / 1000);
			bson_destroy(&reply);
			ok = true;
			break;
		}
		bson_destroy(&reply);
		if (attempt == 0 && store_error_is_duplicate(&berr)) {
			/* A finished window the TTL monitor has not removed yet:
			 * drop it and start a new one. */
			if (!mongoc_collection_delete_one(coll, stale, NULL, NULL, &berr))
				break;
			continue;
		}
		break;
	}
	if (!ok)
		store_error_set(err, &berr, "count a rate limit");
	mongoc_find_and_modify_opts_destroy(fam);
	bson_destroy(stale);
	bson_destroy(update);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

bool auth_throttle_clear(struct em_store *st, const char *key, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "rate_limits");
	bson_t *filter = BCON_NEW("_id", BCON_UTF8(key));
	bson_error_t berr;
	bool ok = mongoc_collection_delete_one(coll, filter, NULL, NULL, &berr);

	if (!ok)
		store_error_set(err, &berr, "clear a rate limit");
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

bool auth_throttle_give(struct em_store *st, const char *key, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "rate_limits");
	bson_t *filter = BCON_NEW("_id", BCON_UTF8(key), "count", "{", "$gt", BCON_INT32(0), "}");
	bson_t *update = BCON_NEW("$inc", "{", "count", BCON_INT32(-1), "}");
	bson_error_t berr;
	bool ok = mongoc_collection_update_one(coll, filter, update, NULL, NULL, &berr);

	if (!ok)
		store_error_set(err, &berr, "give back a rate limit");
	bson_destroy(update);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

bool auth_throttle_take(struct em_store *st, const char *key, int max, int window_s,
			const char *detail, struct em_error *err)
{
	int count, retry;

	if (!auth_throttle_hit(st, key, window_s, &count, &retry, err))
		return false;
	if (count <= max)
		return true;
	em_error_set(err, EM_ERR_RATE_LIMITED, NULL, "%s", detail);
	err->retry_after_s = retry < 1 ? 1 : retry;
	return false;
}
