/*
 * util.c - small BSON and store helpers of the payments module.
 */
#include <string.h>

#include "core/time.h"
#include "payments/payments_internal.h"
#include "store/txn.h"

const char *pay_str(const bson_t *doc, const char *path)
{
	bson_iter_t it, sub;

	if (doc && bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &sub) &&
	    BSON_ITER_HOLDS_UTF8(&sub))
		return bson_iter_utf8(&sub, NULL);
	return "";
}

int64_t pay_int64(const bson_t *doc, const char *path, int64_t def)
{
	bson_iter_t it, sub;

	if (doc && bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &sub) &&
	    (BSON_ITER_HOLDS_INT64(&sub) || BSON_ITER_HOLDS_INT32(&sub)))
		return bson_iter_as_int64(&sub);
	return def;
}

const bson_oid_t *pay_oid(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	if (doc && bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_OID(&it))
		return bson_iter_oid(&it);
	return NULL;
}

bool pay_find_one(mongoc_client_session_t *session, struct em_store *st, const char *name,
		  const bson_t *filter, bson_t *out, bool *found, bson_error_t *berr,
		  struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, name);
	bson_t opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bool ok = false;

	*found = false;
	BSON_APPEND_INT64(&opts, "limit", 1);
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		*found = true;
	}
	if (mongoc_cursor_error(cur, berr)) {
		if (*found)
			bson_destroy(out);
		*found = false;
		store_error_set(err, berr, name);
		goto done;
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

bool pay_attempt_mark(struct em_store *st, mongoc_client_session_t *session, const char *tran_id,
		      const char *from, const char *to, bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bson_t *update = BCON_NEW("$set", "{", "status", BCON_UTF8(to), "updated_at",
				  BCON_DATE_TIME(em_now_ms()), "}");
	bool ok;

	BSON_APPEND_UTF8(&filter, "tran_id", tran_id);
	if (from)
		BSON_APPEND_UTF8(&filter, "status", from);
	ok = store_update_one(st, session, "payment_attempts", &filter, update, NULL, berr,
			      "mark payment attempt", err);
	bson_destroy(update);
	bson_destroy(&filter);
	return ok;
}
