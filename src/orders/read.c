/*
 * read.c - orders as the API shows them: to their customer, to staff, and
 * on the public tracking page (status and timeline only).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/bsonjson.h"
#include "store/page.h"
#include "orders/orders_internal.h"

/* The top-level fields a customer sees (besides id, lines and events). */
static const char *const orders_customer_fields[] = {
	"number", "status", "payment_method", "payment_status", "currency", "subtotal",
	"discount", "shipping", "tax", "total", "prices_include_tax", "shipping_method",
	"shipping_zone", "shipping_address", "billing_address", "note", "carrier",
	"tracking_number", "delivered_at", "version", "created_at", "updated_at",
};

/* And what only staff see. */
static const char *const orders_staff_fields[] = {
	"user_id", "email", "name", "expires_at",
};

static void orders_copy(json_object *to, json_object *from, const char *key)
{
	json_object *v = NULL;

	if (json_object_object_get_ex(from, key, &v))
		json_object_object_add(to, key, json_object_get(v));
	else
		json_object_object_add(to, key, NULL);
}

/* An event: who acted only for staff; carrier and tracking when given. */
static json_object *orders_event_render(json_object *e, bool staff, bool public_view)
{
	json_object *o = json_object_new_object(), *v;

	if (!o)
		return NULL;
	orders_copy(o, e, "from");
	orders_copy(o, e, "to");
	orders_copy(o, e, "at");
	if (!public_view)
		orders_copy(o, e, "note");
	if (json_object_object_get_ex(e, "carrier", &v))
		json_object_object_add(o, "carrier", json_object_get(v));
	if (json_object_object_get_ex(e, "tracking_number", &v))
		json_object_object_add(o, "tracking_number", json_object_get(v));
	if (staff)
		orders_copy(o, e, "by");
	return o;
}

static json_object *orders_events_render(json_object *all, bool staff, bool public_view)
{
	json_object *evs = NULL, *out = json_object_new_array();

	if (!out)
		return NULL;
	if (json_object_object_get_ex(all, "events", &evs) &&
	    json_object_is_type(evs, json_type_array))
		for (size_t i = 0; i < json_object_array_length(evs); i++) {
			json_object *e = orders_event_render(json_object_array_get_idx(evs, i),
							     staff, public_view);

			if (e)
				json_object_array_add(out, e);
		}
	return out;
}

json_object *orders_render(const bson_t *doc, bool staff)
{
	json_object *all = em_bson_to_json(doc), *o, *v;

	if (!all)
		return NULL;
	o = json_object_new_object();
	if (!o) {
		json_object_put(all);
		return NULL;
	}
	if (json_object_object_get_ex(all, "_id", &v))
		json_object_object_add(o, "id", json_object_get(v));
	for (size_t i = 0; i < EM_ORDERS_COUNT(orders_customer_fields); i++)
		orders_copy(o, all, orders_customer_fields[i]);
	if (staff)
		for (size_t i = 0; i < EM_ORDERS_COUNT(orders_staff_fields); i++)
			orders_copy(o, all, orders_staff_fields[i]);
	orders_copy(o, all, "lines");
	/* the payments module's mirror of each refund's state (an order with
	 * none has none: [] and 0, never null) */
	if (json_object_object_get_ex(all, "refunds", &v) && json_object_is_type(v, json_type_array))
		json_object_object_add(o, "refunds", json_object_get(v));
	else
		json_object_object_add(o, "refunds", json_object_new_array());
	if (json_object_object_get_ex(all, "refunded_total", &v) && json_object_is_type(v, json_type_int))
		json_object_object_add(o, "refunded_total", json_object_get(v));
	else
		json_object_object_add(o, "refunded_total", json_object_new_int64(0));
	/* the coupon's code; its id is internal */
	if (json_object_object_get_ex(all, "coupon", &v) && v) {
		json_object *c = json_object_new_object(), *code;

		if (c && json_object_object_get_ex(v, "code", &code))
			json_object_object_add(c, "code", json_object_get(code));
		json_object_object_add(o, "coupon", c);
	} else {
		json_object_object_add(o, "coupon", NULL);
	}
	json_object_object_add(o, "events", orders_events_render(all, staff, false));
	json_object_put(all);
	return o;
}

bool orders_find(struct em_store *st, const bson_oid_t *id, const bson_oid_t *user_id,
		 bson_t *out, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool found = false, ok;

	BSON_APPEND_OID(&filter, "_id", id);
	/* a customer's own orders only: another's is the same 404 as none */
	if (user_id)
		BSON_APPEND_OID(&filter, "user_id", user_id);
	ok = store_find_one(st, NULL, "orders", &filter, out, &found, NULL, "read order", err);
	bson_destroy(&filter);
	if (ok && !found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such order");
		ok = false;
	}
	return ok;
}

/* Constant-time equality of two addresses (by their hashes: equal lengths). */
static bool orders_email_equal(const char *a, const char *b)
{
	unsigned char ha[crypto_hash_sha256_BYTES], hb[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(ha, (const unsigned char *)a, strlen(a));
	crypto_hash_sha256(hb, (const unsigned char *)b, strlen(b));
	return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

bool orders_track(struct em_store *st, const char *number, const char *email, json_object **out,
		  struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "orders");
	bson_t filter = BSON_INITIALIZER;
	bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bool ok = false, match = false;
	/* compared whether or not the order exists, so both misses cost alike */
	const char *stored = "\x01no-such-order";

	*out = NULL;
	BSON_APPEND_UTF8(&filter, "number", number);
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;

		if (bson_iter_init_find(&it, doc, "email") && BSON_ITER_HOLDS_UTF8(&it))
			stored = bson_iter_utf8(&it, NULL);
		match = orders_email_equal(stored, email);
		if (match) {
			json_object *all = em_bson_to_json(doc), *o = json_object_new_object(), *v;
			json_object *items = json_object_new_array();

			if (!all || !o || !items) {
				json_object_put(all);
				json_object_put(o);
				json_object_put(items);
				em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render the order");
				goto done;
			}
			orders_copy(o, all, "number");
			orders_copy(o, all, "status");
			orders_copy(o, all, "created_at");
			orders_copy(o, all, "carrier");
			orders_copy(o, all, "tracking_number");
			if (json_object_object_get_ex(all, "lines", &v))
				for (size_t i = 0; i < json_object_array_length(v); i++) {
					json_object *l = json_object_array_get_idx(v, i);
					json_object *li = json_object_new_object();

					orders_copy(li, l, "title");
					orders_copy(li, l, "quantity");
					json_object_array_add(items, li);
				}
			json_object_object_add(o, "items", items);
			json_object_object_add(o, "events", orders_events_render(all, false, true));
			json_object_put(all);
			*out = o;
		}
	} else {
		(void)orders_email_equal(stored, email);
	}
	if (mongoc_cursor_error(cur, &berr)) {
		json_object_put(*out);
		*out = NULL;
		store_error_set(err, &berr, "track order");
		goto done;
	}
	if (!match) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL,
			     "no order with this number and e-mail address");
		goto done;
	}
	ok = true;
done:
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	return ok;
}

struct orders_render_ctx {
	bool staff;
};

static json_object *orders_item_render(const bson_t *doc, void *vctx)
{
	const struct orders_render_ctx *c = vctx;

	return orders_render(doc, c->staff);
}

bool orders_list(struct em_store *st, const struct orders_list_filter *f, int limit,
		 const bson_oid_t *after, bool staff, json_object **items, bool *more,
		 bson_oid_t *last_id, struct em_error *err)
{
	struct orders_render_ctx rc = { staff };
	mongoc_collection_t *coll = store_collection(st, "orders");
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, last = BSON_INITIALIZER;
	bson_t cond, sort;
	bson_error_t berr;
	bson_iter_t it;
	bool ok;

	*items = NULL;
	*more = false;
	if (f->user_id)
		BSON_APPEND_OID(&filter, "user_id", f->user_id);
	if (f->status)
		BSON_APPEND_UTF8(&filter, "status", f->status);
	if (f->payment_method)
		BSON_APPEND_UTF8(&filter, "payment_method", f->payment_method);
	if (f->number)
		BSON_APPEND_UTF8(&filter, "number", f->number);
	if (f->email)
		BSON_APPEND_UTF8(&filter, "email", f->email);
	if (f->from_ms || f->to_ms) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "created_at", &cond);
		if (f->from_ms)
			BSON_APPEND_DATE_TIME(&cond, "$gte", f->from_ms);
		if (f->to_ms)
			BSON_APPEND_DATE_TIME(&cond, "$lt", f->to_ms);
		bson_append_document_end(&filter, &cond);
	}
	if (after) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &cond);
		BSON_APPEND_OID(&cond, "$lt", after);
		bson_append_document_end(&filter, &cond);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "_id", -1);
	bson_append_document_end(&opts, &sort);
	/* one more than asked: whether there is a next page */
	BSON_APPEND_INT64(&opts, "limit", limit + 1);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	ok = store_page_collect(cur, limit, orders_item_render, &rc, "list orders", items, &last,
				more, &berr, err);
	if (ok && *more && bson_iter_init_find(&it, &last, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_copy(bson_iter_oid(&it), last_id);
	else
		*more = false;
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	bson_destroy(&last);
	return ok;
}
