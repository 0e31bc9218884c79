/*
 * read.c - orders as the API shows them: to their customer, to staff, and
 * on the public tracking page (status and timeline only). Each view is
 * written from the stored document straight to JSON bytes, with no json-c
 * tree (tests/integration/test_render_orders compares the bytes with the
 * tree renderer these replaced).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonbuf_bson.h"
#include "orders/orders_internal.h"

/* The top-level fields a customer sees (besides id, lines and events). */
static const char *const orders_customer_fields[] = {
	"number", "status", "payment_method", "payment_status", "currency", "subtotal",
	"discount", "shipping", "tax", "total", "prices_include_tax", "shipping_method",
	"shipping_zone", "shipping_address", "billing_address", "note", "carrier",
	"tracking_number", "delivered_at", "version", "created_at", "updated_at", NULL,
};

/* And what only staff see. */
static const char *const orders_staff_fields[] = {
	"user_id", "email", "name", "expires_at", NULL,
};

static const char *const orders_event_fields[] = { "from", "to", "at", NULL };
static const char *const orders_event_note[] = { "note", NULL };
static const char *const orders_event_by[] = { "by", NULL };
static const char *const orders_track_fields[] = {
	"number", "status", "created_at", "carrier", "tracking_number", NULL,
};
static const char *const orders_track_line_fields[] = { "title", "quantity", NULL };

/* The document at it (an empty one when it holds none: every member then absent). */
static void orders_subdoc(const bson_iter_t *it, bson_t *out)
{
	const uint8_t *data = NULL;
	uint32_t len = 0;

	if (BSON_ITER_HOLDS_DOCUMENT(it))
		bson_iter_document(it, &len, &data);
	if (!data || !bson_init_static(out, data, len))
		bson_init(out); /* empty, and static storage: nothing to destroy */
}

/* The member key of doc only when it has one (a null stays a null). */
static void orders_write_present(struct em_jsonbuf *b, bool *first, const bson_t *doc,
				 const char *key)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, key))
		return;
	em_jsonbuf_key(b, first, key);
	em_jsonbuf_bson_value(b, &it);
}

/* An event: who acted only for staff; carrier and tracking when given. */
static void orders_event_write(struct em_jsonbuf *b, const bson_iter_t *e, bool staff,
			       bool public_view)
{
	bson_t ev;
	bool first = true;

	orders_subdoc(e, &ev);
	em_jsonbuf_char(b, '{');
	em_jsonbuf_bson_pick(b, &first, &ev, orders_event_fields);
	if (!public_view)
		em_jsonbuf_bson_pick(b, &first, &ev, orders_event_note);
	orders_write_present(b, &first, &ev, "carrier");
	orders_write_present(b, &first, &ev, "tracking_number");
	if (staff)
		em_jsonbuf_bson_pick(b, &first, &ev, orders_event_by);
	em_jsonbuf_char(b, '}');
}

/* The elements of the array member key of doc, each written by fn; [] when it holds none. */
static void orders_array_write(struct em_jsonbuf *b, const bson_t *doc, const char *key,
			       void (*fn)(struct em_jsonbuf *b, const bson_iter_t *e, bool staff,
					  bool public_view),
			       bool staff, bool public_view)
{
	bson_iter_t it, e;
	bool first = true;

	em_jsonbuf_char(b, '[');
	if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &e))
		while (bson_iter_next(&e)) {
			if (!first)
				em_jsonbuf_char(b, ',');
			first = false;
			fn(b, &e, staff, public_view);
		}
	em_jsonbuf_char(b, ']');
}

void orders_write(struct em_jsonbuf *b, const bson_t *doc, bool staff)
{
	bson_iter_t it;
	bool first = true;

	em_jsonbuf_char(b, '{');
	if (bson_iter_init_find(&it, doc, "_id")) {
		em_jsonbuf_key(b, &first, "id");
		em_jsonbuf_bson_value(b, &it);
	}
	em_jsonbuf_bson_pick(b, &first, doc, orders_customer_fields);
	if (staff)
		em_jsonbuf_bson_pick(b, &first, doc, orders_staff_fields);
	em_jsonbuf_key(b, &first, "lines");
	if (bson_iter_init_find(&it, doc, "lines"))
		em_jsonbuf_bson_value(b, &it);
	else
		em_jsonbuf_null(b);
	/* the payments module's mirror of each refund's state (an order with
	 * none has none: [] and 0, never null) */
	em_jsonbuf_key(b, &first, "refunds");
	if (bson_iter_init_find(&it, doc, "refunds") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    !em_jsonbuf_bson_is_null(&it))
		em_jsonbuf_bson_value(b, &it);
	else
		EM_JSONBUF_LIT(b, "[]");
	em_jsonbuf_key(b, &first, "refunded_total");
	if (bson_iter_init_find(&it, doc, "refunded_total") &&
	    (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)))
		em_jsonbuf_bson_value(b, &it);
	else
		em_jsonbuf_char(b, '0');
	/* the coupon's code; its id is internal */
	em_jsonbuf_key(b, &first, "coupon");
	if (bson_iter_init_find(&it, doc, "coupon") && !em_jsonbuf_bson_is_null(&it)) {
		bson_t c;
		bool cf = true;

		orders_subdoc(&it, &c);
		em_jsonbuf_char(b, '{');
		orders_write_present(b, &cf, &c, "code");
		em_jsonbuf_char(b, '}');
	} else {
		em_jsonbuf_null(b);
	}
	em_jsonbuf_key(b, &first, "events");
	orders_array_write(b, doc, "events", orders_event_write, staff, false);
	em_jsonbuf_char(b, '}');
}

json_object *orders_render(const bson_t *doc, bool staff)
{
	struct em_jsonbuf b = EM_JSONBUF_INIT;
	json_object *o;
	char *text;

	orders_write(&b, doc, staff);
	text = em_jsonbuf_take(&b, NULL);
	o = json_tokener_parse(text);
	free(text);
	return o;
}

/* A line as the tracking page shows it: title and quantity. */
static void orders_track_line_write(struct em_jsonbuf *b, const bson_iter_t *e, bool staff,
				    bool public_view)
{
	bson_t line;
	bool first = true;

	(void)staff;
	(void)public_view;
	orders_subdoc(e, &line);
	em_jsonbuf_char(b, '{');
	em_jsonbuf_bson_pick(b, &first, &line, orders_track_line_fields);
	em_jsonbuf_char(b, '}');
}

/* The public tracking view: status, carrier, items and the timeline without notes. */
static void orders_track_write(struct em_jsonbuf *b, const bson_t *doc)
{
	bool first = true;

	em_jsonbuf_char(b, '{');
	em_jsonbuf_bson_pick(b, &first, doc, orders_track_fields);
	em_jsonbuf_key(b, &first, "items");
	orders_array_write(b, doc, "lines", orders_track_line_write, false, true);
	em_jsonbuf_key(b, &first, "events");
	orders_array_write(b, doc, "events", orders_event_write, false, true);
	em_jsonbuf_char(b, '}');
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

bool orders_track(struct em_store *st, const char *number, const char *email,
		  struct em_jsonbuf *out, struct em_error *err)
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

	BSON_APPEND_UTF8(&filter, "number", number);
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;

		if (bson_iter_init_find(&it, doc, "email") && BSON_ITER_HOLDS_UTF8(&it))
			stored = bson_iter_utf8(&it, NULL);
		match = orders_email_equal(stored, email);
		if (match)
			orders_track_write(out, doc);
	} else {
		(void)orders_email_equal(stored, email);
	}
	if (mongoc_cursor_error(cur, &berr)) {
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

bool orders_list(struct em_store *st, const struct orders_list_filter *f, int limit,
		 const bson_oid_t *after, bool staff, struct em_jsonbuf *items, bool *more,
		 bson_oid_t *last_id, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "orders");
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_t cond, sort;
	const bson_t *doc;
	bson_error_t berr;
	bson_iter_t it;
	bool ok = true, have_last = false;
	int n = 0;

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
	em_jsonbuf_char(items, '[');
	while (mongoc_cursor_next(cur, &doc)) {
		if (n == limit) {
			*more = true;
			break;
		}
		if (n++)
			em_jsonbuf_char(items, ',');
		orders_write(items, doc, staff);
		have_last = bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it);
		if (have_last)
			bson_oid_copy(bson_iter_oid(&it), last_id);
	}
	em_jsonbuf_char(items, ']');
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "list orders");
		ok = false;
	}
	if (!ok || !have_last)
		*more = false;
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}
