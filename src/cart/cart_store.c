/*
 * cart_store.c - carts in MongoDB, the catalog reads a cart needs, and
 * the guest-to-account merge.
 *
 * Concurrency: every change to a line is ONE update whose filter carries
 * its precondition, so MongoDB's per-document atomicity makes it safe
 * without a transaction:
 *   add to a line   {_id, items: {$elemMatch: {sku, quantity <= max - q}}}
 *                   $inc items.$.quantity
 *   new line        {_id, "items.sku": {$ne: sku}, "items.<max-1>": absent}
 *                   $push
 * Fifty concurrent adds of one SKU therefore make one line whose quantity
 * is their sum, or stop exactly at the maximum and refuse the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cart/cart_internal.h"
#include "core/alloc.h"
#include "store/txn.h"

#define CART_WRITE_CONFLICT 112
#define CART_RETRIES 20

void cart_doc_free(struct cart_doc *c)
{
	free(c->items);
	c->items = NULL;
	c->nitems = 0;
}

void cart_variants_free(struct cart_variant *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].options) {
			bson_destroy(v[i].options);
			v[i].options = NULL;
		}
}

static int64_t cart_i64(const bson_iter_t *it)
{
	if (BSON_ITER_HOLDS_INT64(it))
		return bson_iter_int64(it);
	if (BSON_ITER_HOLDS_INT32(it))
		return bson_iter_int32(it);
	if (BSON_ITER_HOLDS_DOUBLE(it))
		return (int64_t)bson_iter_double(it);
	return 0;
}

static void cart_copy_utf8(const bson_iter_t *it, char *out, size_t size)
{
	if (BSON_ITER_HOLDS_UTF8(it))
		snprintf(out, size, "%s", bson_iter_utf8(it, NULL));
	else
		out[0] = '\0';
}

static bool cart_doc_read(const bson_t *doc, struct cart_doc *out, struct em_error *err)
{
	bson_iter_t it, items, item, f;

	memset(out, 0, sizeof *out);
	if (!bson_iter_init(&it, doc))
		goto bad;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "_id") == 0 && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &out->id);
		else if (strcmp(k, "token_hash") == 0)
			out->guest = true;
		else if (strcmp(k, "expires_at") == 0 && BSON_ITER_HOLDS_DATE_TIME(&it))
			out->expires_at = bson_iter_date_time(&it);
		else if (strcmp(k, "coupon") == 0)
			cart_copy_utf8(&it, out->coupon, sizeof out->coupon);
		else if (strcmp(k, "items") == 0 && BSON_ITER_HOLDS_ARRAY(&it)) {
			if (!bson_iter_recurse(&it, &items))
				goto bad;
			while (bson_iter_next(&items)) {
				struct cart_item *ci;

				if (!BSON_ITER_HOLDS_DOCUMENT(&items) || !bson_iter_recurse(&items, &item))
					goto bad;
				if (out->nitems == CART_ITEMS_MAX)
					break;
				out->items = xrealloc(out->items, (out->nitems + 1) * sizeof *out->items);
				ci = &out->items[out->nitems++];
				memset(ci, 0, sizeof *ci);
				while (bson_iter_next(&item)) {
					const char *ik = bson_iter_key(&item);

					f = item;
					if (strcmp(ik, "sku") == 0)
						cart_copy_utf8(&f, ci->sku, sizeof ci->sku);
					else if (strcmp(ik, "product_id") == 0 && BSON_ITER_HOLDS_OID(&f))
						bson_oid_copy(bson_iter_oid(&f), &ci->product_id);
					else if (strcmp(ik, "quantity") == 0)
						ci->quantity = cart_i64(&f);
					else if (strcmp(ik, "price_at_add") == 0)
						ci->price_at_add = cart_i64(&f);
					else if (strcmp(ik, "currency") == 0)
						cart_copy_utf8(&f, ci->currency, sizeof ci->currency);
				}
			}
		}
	}
	return true;
bad:
	cart_doc_free(out);
	em_error_set(err, EM_ERR_INTERNAL, NULL, "a stored cart is malformed");
	return false;
}

static bool cart_find_one(struct em_store *st, mongoc_client_session_t *session,
			  const bson_t *filter, struct cart_doc *out, bool *found, char *hash_out,
			  bson_error_t *berr_out, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "carts");
	bson_t opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = false;

	*found = false;
	BSON_APPEND_INT64(&opts, "limit", 1);
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;

		if (!cart_doc_read(doc, out, err))
			goto done;
		if (hash_out) {
			hash_out[0] = '\0';
			if (bson_iter_init_find(&it, doc, "token_hash"))
				cart_copy_utf8(&it, hash_out, 65);
		}
		*found = true;
	}
	if (mongoc_cursor_error(cur, &berr)) {
		if (*found)
			cart_doc_free(out);
		*found = false;
		store_error_set(err, &berr, "read cart");
		if (berr_out)
			*berr_out = berr;
		goto done;
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&opts);
	return ok;
}

bool cart_find_user(struct em_store *st, const bson_oid_t *user, struct cart_doc *out,
		    bool *found, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool ok;

	BSON_APPEND_OID(&filter, "user_id", user);
	ok = cart_find_one(st, NULL, &filter, out, found, NULL, NULL, err);
	bson_destroy(&filter);
	return ok;
}

bool cart_find_user_in(struct em_store *st, mongoc_client_session_t *session,
		       const bson_oid_t *user, struct cart_doc *out, bool *found,
		       bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool ok;

	BSON_APPEND_OID(&filter, "user_id", user);
	ok = cart_find_one(st, session, &filter, out, found, NULL, berr, err);
	bson_destroy(&filter);
	return ok;
}

bool cart_find_guest(struct em_store *st, const char *token_hash, struct cart_doc *out,
		     bool *found, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, gt;
	char stored[65];
	bool ok;

	BSON_APPEND_UTF8(&filter, "token_hash", token_hash);
	/* the TTL sweep runs about once a minute: an expired cart is gone now */
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "expires_at", &gt);
	BSON_APPEND_DATE_TIME(&gt, "$gt", cart_now_ms());
	bson_append_document_end(&filter, &gt);
	ok = cart_find_one(st, NULL, &filter, out, found, stored, NULL, err);
	bson_destroy(&filter);
	if (ok && *found && !cart_hash_equal(stored, token_hash)) {
		/* cannot happen with an equality filter; refuse rather than trust */
		cart_doc_free(out);
		*found = false;
	}
	return ok;
}

bool cart_ensure_user(struct em_store *st, const bson_oid_t *user, bson_oid_t *id,
		      struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "carts");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, soi, opts = BSON_INITIALIZER;
	struct cart_doc doc;
	bson_error_t berr;
	bool ok = false, found = false;
	int64_t now = cart_now_ms();

	BSON_APPEND_OID(&filter, "user_id", user);
	{
		bson_t arr;

		BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
		BSON_APPEND_ARRAY_BEGIN(&soi, "items", &arr);
		bson_append_array_end(&soi, &arr);
		BSON_APPEND_DATE_TIME(&soi, "created_at", now);
		BSON_APPEND_DATE_TIME(&soi, "updated_at", now);
		bson_append_document_end(&update, &soi);
	}
	BSON_APPEND_BOOL(&opts, "upsert", true);
	/* Two first requests of one account race to create the cart: the
	 * unique index lets one insert win; the other's upsert then matches. */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (mongoc_collection_update_one(coll, &filter, &update, &opts, NULL, &berr))
			break;
		if (!store_error_is_duplicate(&berr) || attempt == 2) {
			store_error_set(err, &berr, "create cart");
			goto done;
		}
	}
	if (!cart_find_user(st, user, &doc, &found, err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the cart vanished after its upsert");
		goto done;
	}
	bson_oid_copy(&doc.id, id);
	cart_doc_free(&doc);
	ok = true;
done:
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

bool cart_create_guest(struct em_store *st, const char *token_hash, int ttl_s, bson_oid_t *id,
		       struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "carts");
	bson_t doc = BSON_INITIALIZER, arr;
	bson_error_t berr;
	int64_t now = cart_now_ms();
	bool ok;

	bson_oid_init(id, NULL);
	BSON_APPEND_OID(&doc, "_id", id);
	BSON_APPEND_UTF8(&doc, "token_hash", token_hash);
	BSON_APPEND_ARRAY_BEGIN(&doc, "items", &arr);
	bson_append_array_end(&doc, &arr);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	BSON_APPEND_DATE_TIME(&doc, "expires_at", now + (int64_t)ttl_s * 1000);
	ok = mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr);
	if (!ok)
		store_error_set(err, &berr, "create guest cart");
	mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	return ok;
}

/* $set updated_at (and a guest's renewed expires_at) into a $set document. */
static void cart_touch(bson_t *set, int64_t expires_at)
{
	BSON_APPEND_DATE_TIME(set, "updated_at", cart_now_ms());
	if (expires_at)
		BSON_APPEND_DATE_TIME(set, "expires_at", expires_at);
}

/*
 * One conditional update; *matched says whether the filter matched. A
 * write conflict with a merge transaction holding the cart is retried
 * after a short pause (the transaction finishes within milliseconds).
 */
static bool cart_update(struct em_store *st, const bson_t *filter, const bson_t *update,
			bool *matched, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "carts");
	bson_error_t berr;
	bool ok = false;

	for (int attempt = 0;; attempt++) {
		bson_t reply;
		bson_iter_t it;

		if (mongoc_collection_update_one(coll, filter, update, NULL, &reply, &berr)) {
			*matched = bson_iter_init_find(&it, &reply, "matchedCount") &&
				   bson_iter_as_int64(&it) >= 1;
			bson_destroy(&reply);
			ok = true;
			break;
		}
		bson_destroy(&reply);
		if (berr.code != CART_WRITE_CONFLICT || attempt == CART_RETRIES) {
			store_error_set(err, &berr, "update cart");
			break;
		}
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	mongoc_collection_destroy(coll);
	return ok;
}

bool cart_item_add(struct em_store *st, const bson_oid_t *cart, const char *sku,
		   const bson_oid_t *product_id, int64_t quantity, int64_t price,
		   const char *currency, int max_qty, int max_lines, int64_t expires_at,
		   int64_t *line_qty, struct em_error *err)
{
	char last[32];
	bool ok = false;

	if (quantity < 1 || quantity > max_qty) {
		em_error_set(err, EM_ERR_INVALID, "quantity", "quantity must be 1 to %d", max_qty);
		return false;
	}
	snprintf(last, sizeof last, "items.%d", max_lines - 1);
	for (int attempt = 0; attempt < CART_RETRIES; attempt++) {
		bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, em, q, inc, set, push, item, ne, ex;
		struct cart_doc doc;
		bool matched = false, found = false;

		/* 1. the SKU's line, when it leaves room for quantity */
		BSON_APPEND_OID(&f, "_id", cart);
		BSON_APPEND_DOCUMENT_BEGIN(&f, "items", &em);
		BSON_APPEND_DOCUMENT_BEGIN(&em, "$elemMatch", &q);
		BSON_APPEND_UTF8(&q, "sku", sku);
		{
			bson_t lte;

			BSON_APPEND_DOCUMENT_BEGIN(&q, "quantity", &lte);
			BSON_APPEND_INT64(&lte, "$lte", (int64_t)max_qty - quantity);
			bson_append_document_end(&q, &lte);
		}
		bson_append_document_end(&em, &q);
		bson_append_document_end(&f, &em);
		BSON_APPEND_DOCUMENT_BEGIN(&u, "$inc", &inc);
		BSON_APPEND_INT64(&inc, "items.$.quantity", quantity);
		bson_append_document_end(&u, &inc);
		BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
		cart_touch(&set, expires_at);
		bson_append_document_end(&u, &set);
		ok = cart_update(st, &f, &u, &matched, err);
		bson_destroy(&f);
		bson_destroy(&u);
		if (!ok)
			return false;
		if (matched)
			goto read_back;

		/* 2. a new line, when there is none of this SKU and room for one */
		bson_init(&f);
		bson_init(&u);
		BSON_APPEND_OID(&f, "_id", cart);
		BSON_APPEND_DOCUMENT_BEGIN(&f, "items.sku", &ne);
		BSON_APPEND_UTF8(&ne, "$ne", sku);
		bson_append_document_end(&f, &ne);
		BSON_APPEND_DOCUMENT_BEGIN(&f, last, &ex);
		BSON_APPEND_BOOL(&ex, "$exists", false);
		bson_append_document_end(&f, &ex);
		BSON_APPEND_DOCUMENT_BEGIN(&u, "$push", &push);
		BSON_APPEND_DOCUMENT_BEGIN(&push, "items", &item);
		BSON_APPEND_UTF8(&item, "sku", sku);
		BSON_APPEND_OID(&item, "product_id", product_id);
		BSON_APPEND_INT64(&item, "quantity", quantity);
		BSON_APPEND_INT64(&item, "price_at_add", price);
		BSON_APPEND_UTF8(&item, "currency", currency);
		BSON_APPEND_DATE_TIME(&item, "added_at", cart_now_ms());
		bson_append_document_end(&push, &item);
		bson_append_document_end(&u, &push);
		BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
		cart_touch(&set, expires_at);
		bson_append_document_end(&u, &set);
		ok = cart_update(st, &f, &u, &matched, err);
		bson_destroy(&f);
		bson_destroy(&u);
		if (!ok)
			return false;
		if (matched)
			goto read_back;

		/* 3. neither: find out why (or lost a race: try again) */
		bson_init(&f);
		BSON_APPEND_OID(&f, "_id", cart);
		ok = cart_find_one(st, NULL, &f, &doc, &found, NULL, NULL, err);
		bson_destroy(&f);
		if (!ok)
			return false;
		if (!found) {
			em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such cart");
			return false;
		}
		for (size_t i = 0; i < doc.nitems; i++)
			if (strcmp(doc.items[i].sku, sku) == 0) {
				int64_t have = doc.items[i].quantity;

				cart_doc_free(&doc);
				if (have + quantity > max_qty) {
					em_error_set(err, EM_ERR_CONFLICT, "quantity",
						     "a line holds at most %d; this one has %lld", max_qty,
						     (long long)have);
					return false;
				}
				goto again; /* the line changed between our updates */
			}
		if (doc.nitems >= (size_t)max_lines) {
			cart_doc_free(&doc);
			em_error_set(err, EM_ERR_CONFLICT, "sku", "a cart holds at most %d lines",
				     max_lines);
			return false;
		}
		cart_doc_free(&doc);
again:
		continue;
read_back:
		/* the line's quantity now, for the response */
		bson_init(&f);
		BSON_APPEND_OID(&f, "_id", cart);
		ok = cart_find_one(st, NULL, &f, &doc, &found, NULL, NULL, err);
		bson_destroy(&f);
		if (!ok)
			return false;
		*line_qty = quantity;
		for (size_t i = 0; found && i < doc.nitems; i++)
			if (strcmp(doc.items[i].sku, sku) == 0)
				*line_qty = doc.items[i].quantity;
		if (found)
			cart_doc_free(&doc);
		return true;
	}
	em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the cart is too busy; try again");
	return false;
}

bool cart_item_set(struct em_store *st, const bson_oid_t *cart, const char *sku,
		   int64_t quantity, int64_t expires_at, struct em_error *err)
{
	bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set, pull, m;
	bool ok, matched = false;

	BSON_APPEND_OID(&f, "_id", cart);
	BSON_APPEND_UTF8(&f, "items.sku", sku);
	if (quantity == 0) {
		BSON_APPEND_DOCUMENT_BEGIN(&u, "$pull", &pull);
		BSON_APPEND_DOCUMENT_BEGIN(&pull, "items", &m);
		BSON_APPEND_UTF8(&m, "sku", sku);
		bson_append_document_end(&pull, &m);
		bson_append_document_end(&u, &pull);
		BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
	} else {
		BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
		BSON_APPEND_INT64(&set, "items.$.quantity", quantity);
	}
	cart_touch(&set, expires_at);
	bson_append_document_end(&u, &set);
	ok = cart_update(st, &f, &u, &matched, err);
	if (ok && !matched) {
		em_error_set(err, EM_ERR_NOT_FOUND, "sku", "the cart has no line of this SKU");
		ok = false;
	}
	bson_destroy(&f);
	bson_destroy(&u);
	return ok;
}

bool cart_clear(struct em_store *st, const bson_oid_t *cart, int64_t expires_at,
		struct em_error *err)
{
	bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set, arr, unset;
	bool ok, matched;

	BSON_APPEND_OID(&f, "_id", cart);
	BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
	BSON_APPEND_ARRAY_BEGIN(&set, "items", &arr);
	bson_append_array_end(&set, &arr);
	cart_touch(&set, expires_at);
	bson_append_document_end(&u, &set);
	BSON_APPEND_DOCUMENT_BEGIN(&u, "$unset", &unset);
	BSON_APPEND_INT32(&unset, "coupon", 1);
	bson_append_document_end(&u, &unset);
	ok = cart_update(st, &f, &u, &matched, err);
	bson_destroy(&f);
	bson_destroy(&u);
	return ok;
}

bool cart_coupon_store(struct em_store *st, const bson_oid_t *cart, const char *code,
		       int64_t expires_at, struct em_error *err)
{
	bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set, unset;
	bool ok, matched;

	BSON_APPEND_OID(&f, "_id", cart);
	BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
	if (code)
		BSON_APPEND_UTF8(&set, "coupon", code);
	cart_touch(&set, expires_at);
	bson_append_document_end(&u, &set);
	if (!code) {
		BSON_APPEND_DOCUMENT_BEGIN(&u, "$unset", &unset);
		BSON_APPEND_INT32(&unset, "coupon", 1);
		bson_append_document_end(&u, &unset);
	}
	ok = cart_update(st, &f, &u, &matched, err);
	bson_destroy(&f);
	bson_destroy(&u);
	return ok;
}

/* ---- the catalog's view ---- */

/* Fills v from a product document for the variant of sku. */
static void cart_variant_fill(const bson_t *product, const char *sku, struct cart_variant *v)
{
	bson_iter_t it, vars, var, f;
	bool deleted = false, active = false;

	if (!bson_iter_init(&it, product))
		return;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "_id") == 0 && BSON_ITER_HOLDS_OID(&it))
			bson_oid_copy(bson_iter_oid(&it), &v->product_id);
		else if (strcmp(k, "title") == 0)
			cart_copy_utf8(&it, v->title, sizeof v->title);
		else if (strcmp(k, "slug") == 0)
			cart_copy_utf8(&it, v->slug, sizeof v->slug);
		else if (strcmp(k, "currency") == 0)
			cart_copy_utf8(&it, v->currency, sizeof v->currency);
		else if (strcmp(k, "status") == 0)
			active = BSON_ITER_HOLDS_UTF8(&it) &&
				 strcmp(bson_iter_utf8(&it, NULL), "active") == 0;
		else if (strcmp(k, "deleted_at") == 0)
			deleted = !BSON_ITER_HOLDS_NULL(&it);
		else if (strcmp(k, "category_id") == 0 && BSON_ITER_HOLDS_OID(&it)) {
			v->has_category = true;
			bson_oid_copy(bson_iter_oid(&it), &v->category_id);
		} else if (strcmp(k, "images") == 0 && bson_iter_recurse(&it, &vars)) {
			/* the first image (lowest position is first: media keeps them sorted) */
			if (bson_iter_next(&vars) && BSON_ITER_HOLDS_DOCUMENT(&vars) &&
			    bson_iter_recurse(&vars, &f) && bson_iter_find(&f, "url"))
				cart_copy_utf8(&f, v->image, sizeof v->image);
		} else if (strcmp(k, "variants") == 0 && bson_iter_recurse(&it, &vars)) {
			while (bson_iter_next(&vars)) {
				bson_iter_t s;

				if (!BSON_ITER_HOLDS_DOCUMENT(&vars) || !bson_iter_recurse(&vars, &var))
					continue;
				s = var;
				if (!bson_iter_find(&s, "sku") || !BSON_ITER_HOLDS_UTF8(&s) ||
				    strcmp(bson_iter_utf8(&s, NULL), sku) != 0)
					continue;
				v->found = true;
				while (bson_iter_next(&var)) {
					const char *vk = bson_iter_key(&var);

					if (strcmp(vk, "price") == 0)
						v->price = cart_i64(&var);
					else if (strcmp(vk, "stock") == 0)
						v->stock = cart_i64(&var);
					else if (strcmp(vk, "low_stock") == 0 && BSON_ITER_HOLDS_BOOL(&var))
						v->low_stock = bson_iter_bool(&var);
					else if (strcmp(vk, "options") == 0 &&
						 BSON_ITER_HOLDS_DOCUMENT(&var) && !v->options) {
						bson_iter_t o;

						v->options = bson_new();
						if (bson_iter_recurse(&var, &o))
							while (bson_iter_next(&o))
								if (BSON_ITER_HOLDS_UTF8(&o))
									bson_append_iter(v->options, NULL, 0, &o);
					}
				}
				break;
			}
		}
	}
	if (deleted)
		v->found = false;
	v->active = v->found && active;
}

bool cart_variants_load(struct em_store *st, mongoc_client_session_t *session,
			char *const *skus, size_t n, struct cart_variant *out, bson_error_t *berr_out,
			struct em_error *err)
{
	mongoc_collection_t *coll;
	bson_t filter = BSON_INITIALIZER, in, arr, opts = BSON_INITIALIZER, proj;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = false;

	memset(out, 0, n * sizeof *out);
	if (n == 0)
		return true;
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "variants.sku", &in);
	BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
	for (size_t i = 0; i < n; i++) {
		char idx[24];

		snprintf(idx, sizeof idx, "%zu", i);
		BSON_APPEND_UTF8(&arr, idx, skus[i]);
	}
	bson_append_array_end(&in, &arr);
	bson_append_document_end(&filter, &in);
	/* only what a cart line shows: not descriptions or version history */
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "title", 1);
	BSON_APPEND_INT32(&proj, "slug", 1);
	BSON_APPEND_INT32(&proj, "currency", 1);
	BSON_APPEND_INT32(&proj, "status", 1);
	BSON_APPEND_INT32(&proj, "deleted_at", 1);
	BSON_APPEND_INT32(&proj, "category_id", 1);
	BSON_APPEND_INT32(&proj, "images", 1);
	BSON_APPEND_INT32(&proj, "variants", 1);
	bson_append_document_end(&opts, &proj);
	if (session && !store_txn_opts(session, &opts, err))
		goto out;
	coll = store_collection(st, "products");
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc))
		for (size_t i = 0; i < n; i++)
			if (!out[i].found) {
				cart_variant_fill(doc, skus[i], &out[i]);
				if (!out[i].found) {
					/* not this product's: keep the slate clean */
					cart_variants_free(&out[i], 1);
					memset(&out[i], 0, sizeof out[i]);
				}
			}
	if (mongoc_cursor_error(cur, &berr)) {
		cart_variants_free(out, n);
		store_error_set(err, &berr, "read products");
		if (berr_out)
			*berr_out = berr;
	} else {
		ok = true;
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
out:
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}

bool cart_categories_load(struct em_store *st, bson_t *parents, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "categories");
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = true;

	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "parent_id", 1);
	bson_append_document_end(&opts, &proj);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		bson_oid_t id;
		char key[25];

		if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
			continue;
		bson_oid_copy(bson_iter_oid(&it), &id);
		bson_oid_to_string(&id, key);
		if (bson_iter_init_find(&it, doc, "parent_id") && BSON_ITER_HOLDS_OID(&it))
			BSON_APPEND_OID(parents, key, bson_iter_oid(&it));
		else
			BSON_APPEND_NULL(parents, key);
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "read categories");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}

size_t cart_category_chain(const bson_t *parents, const bson_oid_t *cat, bson_oid_t *chain,
			   size_t max)
{
	bson_oid_t cur;
	size_t n = 0;

	bson_oid_copy(cat, &cur);
	/* bounded by max: a cycle (which the catalog refuses) cannot loop */
	while (n < max) {
		bson_iter_t it;
		char key[25];

		bson_oid_copy(&cur, &chain[n++]);
		bson_oid_to_string(&cur, key);
		if (!bson_iter_init_find(&it, parents, key) || !BSON_ITER_HOLDS_OID(&it))
			break;
		bson_oid_copy(bson_iter_oid(&it), &cur);
	}
	return n;
}

/* ---- merge ---- */

struct cart_merge_ctx {
	struct em_store *st;
	const struct cart_config *cc;
	const bson_oid_t *user;
	const char *token_hash;
	struct cart_merge_report *report;
};

static void cart_report_add(char (*list)[CART_SKU_MAX + 1], size_t *n, const char *sku)
{
	if (*n < 16)
		snprintf(list[(*n)++], CART_SKU_MAX + 1, "%s", sku);
}

static bool cart_merge_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			   struct em_error *err)
{
	struct cart_merge_ctx *c = vctx;
	mongoc_collection_t *coll = store_collection(c->st, "carts");
	bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, reply;
	struct cart_doc guest = { 0 }, mine = { 0 };
	struct cart_variant *vars = NULL;
	char **skus = NULL;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bool ok = false, have_guest = false, have_mine = false;
	bson_iter_t it;

	memset(c->report, 0, sizeof *c->report);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	/* the guest cart, read in the transaction's snapshot */
	BSON_APPEND_UTF8(&f, "token_hash", c->token_hash);
	cur = mongoc_collection_find_with_opts(coll, &f, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		if (!cart_doc_read(doc, &guest, err))
			goto done;
		have_guest = true;
	}
	if (mongoc_cursor_error(cur, berr))
		goto done; /* berr decides whether the transaction is retried */
	mongoc_cursor_destroy(cur);
	cur = NULL;
	if (!have_guest) {
		ok = true; /* merged already, by this request's twin, or never there */
		goto done;
	}
	/* deleting it first makes a concurrent merge of the same cart conflict */
	bson_reinit(&f);
	BSON_APPEND_OID(&f, "_id", &guest.id);
	if (!mongoc_collection_delete_one(coll, &f, &opts, &reply, berr)) {
		bson_destroy(&reply);
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "deletedCount") || bson_iter_as_int64(&it) != 1) {
		bson_destroy(&reply);
		ok = true;
		goto done;
	}
	bson_destroy(&reply);
	bson_reinit(&f);
	BSON_APPEND_OID(&f, "user_id", c->user);
	cur = mongoc_collection_find_with_opts(coll, &f, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		if (!cart_doc_read(doc, &mine, err))
			goto done;
		have_mine = true;
	}
	if (mongoc_cursor_error(cur, berr))
		goto done;
	mongoc_cursor_destroy(cur);
	cur = NULL;

	/* stock of the guest's SKUs, read in the same snapshot */
	skus = xcalloc(guest.nitems + 1, sizeof *skus);
	vars = xcalloc(guest.nitems + 1, sizeof *vars);
	for (size_t i = 0; i < guest.nitems; i++)
		skus[i] = guest.items[i].sku;
	if (!cart_variants_load(c->st, session, skus, guest.nitems, vars, berr, err))
		goto done;
	for (size_t i = 0; i < guest.nitems; i++) {
		struct cart_item *g = &guest.items[i];
		int64_t cap = c->cc->max_qty;
		size_t j;

		if (vars[i].found && vars[i].stock < cap)
			cap = vars[i].stock > 0 ? vars[i].stock : 0;
		for (j = 0; j < mine.nitems; j++)
			if (strcmp(mine.items[j].sku, g->sku) == 0)
				break;
		if (j < mine.nitems) {
			int64_t sum = mine.items[j].quantity + g->quantity;

			if (sum > cap) {
				/* never lower what the account already had */
				sum = cap > mine.items[j].quantity ? cap : mine.items[j].quantity;
				cart_report_add(c->report->capped, &c->report->ncapped, g->sku);
			}
			mine.items[j].quantity = sum;
		} else if (mine.nitems >= (size_t)c->cc->max_lines) {
			cart_report_add(c->report->dropped, &c->report->ndropped, g->sku);
			continue;
		} else {
			int64_t q = g->quantity;

			if (q > cap && cap > 0) {
				q = cap;
				cart_report_add(c->report->capped, &c->report->ncapped, g->sku);
			} else if (q > c->cc->max_qty) {
				q = c->cc->max_qty;
				cart_report_add(c->report->capped, &c->report->ncapped, g->sku);
			}
			/* an out-of-stock line is kept (flagged when shown), not lost */
			mine.items = xrealloc(mine.items, (mine.nitems + 1) * sizeof *mine.items);
			mine.items[mine.nitems] = *g;
			mine.items[mine.nitems].quantity = q;
			mine.nitems++;
		}
		c->report->nlines++;
	}
	{
		bson_t u = BSON_INITIALIZER, set, arr, uopts = BSON_INITIALIZER;
		int64_t now = cart_now_ms();

		BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
		BSON_APPEND_ARRAY_BEGIN(&set, "items", &arr);
		for (size_t i = 0; i < mine.nitems; i++) {
			bson_t item;
			char idx[24];

			snprintf(idx, sizeof idx, "%zu", i);
			BSON_APPEND_DOCUMENT_BEGIN(&arr, idx, &item);
			BSON_APPEND_UTF8(&item, "sku", mine.items[i].sku);
			BSON_APPEND_OID(&item, "product_id", &mine.items[i].product_id);
			BSON_APPEND_INT64(&item, "quantity", mine.items[i].quantity);
			BSON_APPEND_INT64(&item, "price_at_add", mine.items[i].price_at_add);
			BSON_APPEND_UTF8(&item, "currency", mine.items[i].currency);
			BSON_APPEND_DATE_TIME(&item, "added_at", now);
			bson_append_document_end(&arr, &item);
		}
		bson_append_array_end(&set, &arr);
		if (!mine.coupon[0] && guest.coupon[0])
			BSON_APPEND_UTF8(&set, "coupon", guest.coupon);
		BSON_APPEND_DATE_TIME(&set, "updated_at", now);
		if (!have_mine)
			BSON_APPEND_DATE_TIME(&set, "created_at", now);
		bson_append_document_end(&u, &set);
		bson_reinit(&f);
		BSON_APPEND_OID(&f, "user_id", c->user);
		bson_concat(&uopts, &opts);
		BSON_APPEND_BOOL(&uopts, "upsert", true);
		ok = mongoc_collection_update_one(coll, &f, &u, &uopts, NULL, berr);
		bson_destroy(&u);
		bson_destroy(&uopts);
		if (!ok)
			goto done;
	}
	c->report->merged = true;
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (vars)
		cart_variants_free(vars, guest.nitems);
	free(vars);
	free(skus);
	cart_doc_free(&guest);
	cart_doc_free(&mine);
	mongoc_collection_destroy(coll);
	bson_destroy(&f);
	bson_destroy(&opts);
	return ok;
}

bool cart_merge(struct em_store *st, const struct cart_config *cc, const bson_oid_t *user,
		const char *token_hash, struct cart_merge_report *report, struct em_error *err)
{
	struct cart_merge_ctx ctx = { st, cc, user, token_hash, report };

	return store_txn_run(st, cart_merge_txn, &ctx, err);
}
