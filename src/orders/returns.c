/*
 * returns.c - returns of a delivered order: the customer asks within
 * EMPORIUM_RETURN_WINDOW_DAYS of delivery, staff approve or reject, then
 * receive the parcel (restocking each line or not); the received lines'
 * share of what was charged is recorded as the refund.
 *
 * Where a return lives: its own collection, order_returns (see orders.h),
 * not an array on the order. Each step is then a compare-and-set on one
 * small document's status ({_id, status: "requested"} -> "approved"), so
 * two staff approving at once cannot both win, and an order with many
 * returns does not grow a nested array that every step rewrites. What the
 * order itself must know is kept on it: lines[].returned_quantity (what
 * was received back) and its status (delivered -> returned once every
 * unit is back).
 *
 * Every step is one store_txn_run(): the return's status compared and set,
 * its event appended, the customer's mail enqueued (the outbox). Asking
 * for a return also bumps the order's version under a compare-and-set, so
 * two requests for the same units race on the order and one of them
 * re-reads the other's open request (quantities never over-promised).
 * Receiving restocks through inventory_stock_change, adds the quantities
 * to the order's lines (compare-and-set on its version) and, when nothing
 * is left, moves the order to returned through orders_transition_apply_in
 * in the same transaction.
 *
 * The refund: src/payments exposes no refund request API to other modules
 * (pay_refund_request is internal to it and runs against a payment
 * record), so the return records refund_amount and refund_requested: true,
 * and the payments module's sweep makes the refund and sets the return's
 * refund_id (absent until then: the sweep looks for {refund_id: {$exists:
 * false}}, so it is never written here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/alloc.h"
#include "core/bsonjson.h"
#include "core/log.h"
#include "core/time.h"
#include "inventory/inventory.h"
#include "jobs/jobs.h"
#include "orders/orders_internal.h"
#include "store/txn.h"

#define RET_DAY_MS INT64_C(86400000)
#define RET_LINES_MAX 1000

/* One order line as a return needs it. */
struct ret_line {
	const char *sku;
	const char *title;
	int64_t quantity, returned, open;
	int64_t line_total, discount, tax;
};

struct ret_ctx {
	struct em_store *st;
	const struct em_config *cfg;
	const bson_oid_t *order_id;
	const bson_oid_t *return_id;     /* steps after the request */
	const struct orders_return_request *req;
	const struct orders_return_change *chg;
	bson_oid_t new_id;
	bson_t out;
	bool have_out;
	/* the order as read in this attempt */
	bson_t order;
	bool have_order;
	struct ret_line lines[RET_LINES_MAX];
	size_t nlines;
};

static const char *ret_str(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it) ?
		       bson_iter_utf8(&it, NULL) : "";
}

static int64_t ret_int64(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) ? em_bson_iter_int64(&it) : 0;
}

/* Frees what a previous attempt of the transaction left. */
static void ret_ctx_reset(struct ret_ctx *c)
{
	if (c->have_out)
		bson_destroy(&c->out);
	if (c->have_order)
		bson_destroy(&c->order);
	c->have_out = c->have_order = false;
	c->nlines = 0;
}

/* Reads the order (a customer's own only) and indexes its lines. */
static bool ret_order_read(mongoc_client_session_t *session, struct ret_ctx *c,
			   const bson_oid_t *only_user, bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bson_iter_t it, arr;
	bool found = false, ok;

	BSON_APPEND_OID(&filter, "_id", c->order_id);
	if (only_user)
		BSON_APPEND_OID(&filter, "user_id", only_user);
	ok = store_find_one(c->st, session, "orders", &filter, &c->order, &found, berr,
			    "read order", err);
	bson_destroy(&filter);
	if (!ok)
		return false;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such order");
		return false;
	}
	c->have_order = true;
	if (!bson_iter_init_find(&it, &c->order, "lines") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &arr))
		return true;
	while (bson_iter_next(&arr)) {
		struct ret_line *l;
		bson_iter_t f;

		if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &f))
			continue;
		if (c->nlines == RET_LINES_MAX) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "an order with too many lines");
			return false;
		}
		l = &c->lines[c->nlines++];
		memset(l, 0, sizeof *l);
		l->sku = l->title = "";
		while (bson_iter_next(&f)) {
			const char *k = bson_iter_key(&f);

			if (strcmp(k, "sku") == 0 && BSON_ITER_HOLDS_UTF8(&f))
				l->sku = bson_iter_utf8(&f, NULL);
			else if (strcmp(k, "title") == 0 && BSON_ITER_HOLDS_UTF8(&f))
				l->title = bson_iter_utf8(&f, NULL);
			else if (strcmp(k, "quantity") == 0)
				l->quantity = em_bson_iter_int64(&f);
			else if (strcmp(k, "returned_quantity") == 0)
				l->returned = em_bson_iter_int64(&f);
			else if (strcmp(k, "line_total") == 0)
				l->line_total = em_bson_iter_int64(&f);
			else if (strcmp(k, "discount") == 0)
				l->discount = em_bson_iter_int64(&f);
			else if (strcmp(k, "tax") == 0)
				l->tax = em_bson_iter_int64(&f);
		}
	}
	return true;
}

static struct ret_line *ret_line_find(struct ret_ctx *c, const char *sku)
{
	for (size_t i = 0; i < c->nlines; i++)
		if (strcmp(c->lines[i].sku, sku) == 0)
			return &c->lines[i];
	return NULL;
}

/* Adds the units of the order's open returns (requested, approved) to lines[].open. */
static bool ret_open_sum(mongoc_client_session_t *session, struct ret_ctx *c, bson_error_t *berr,
			 struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(c->st, "order_returns");
	bson_t filter = BSON_INITIALIZER, in, opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bool ok = false;

	BSON_APPEND_OID(&filter, "order_id", c->order_id);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "status", &in);
	{
		bson_t arr;

		BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
		BSON_APPEND_UTF8(&arr, "0", "requested");
		BSON_APPEND_UTF8(&arr, "1", "approved");
		bson_append_array_end(&in, &arr);
	}
	bson_append_document_end(&filter, &in);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it, arr;

		if (!bson_iter_init_find(&it, doc, "items") || !BSON_ITER_HOLDS_ARRAY(&it) ||
		    !bson_iter_recurse(&it, &arr))
			continue;
		while (bson_iter_next(&arr)) {
			bson_iter_t f;
			const char *sku = NULL;
			int64_t qty = 0;
			struct ret_line *l;

			if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &f))
				continue;
			while (bson_iter_next(&f)) {
				if (strcmp(bson_iter_key(&f), "sku") == 0 && BSON_ITER_HOLDS_UTF8(&f))
					sku = bson_iter_utf8(&f, NULL);
				else if (strcmp(bson_iter_key(&f), "quantity") == 0)
					qty = em_bson_iter_int64(&f);
			}
			if (sku && (l = ret_line_find(c, sku)) && qty > 0 &&
			    __builtin_add_overflow(l->open, qty, &l->open)) {
				em_error_set(err, EM_ERR_INTERNAL, NULL, "open return quantities overflow");
				goto done;
			}
		}
	}
	if (mongoc_cursor_error(cur, berr)) {
		store_error_set(err, berr, "read open returns");
		goto done;
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

/*
 * A compare-and-set on the order's version: serialises the changes of one
 * order's returns (a concurrent one fails here or on a write conflict and
 * is retried / refused). lines_update, when not NULL, is the new lines
 * array to $set.
 */
static bool ret_order_bump(mongoc_client_session_t *session, struct ret_ctx *c,
			   const bson_t *new_lines, bson_error_t *berr, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(c->st, "orders");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, inc, opts = BSON_INITIALIZER;
	bson_t reply = BSON_INITIALIZER;
	bson_iter_t it;
	bool ok = false;

	BSON_APPEND_OID(&filter, "_id", c->order_id);
	BSON_APPEND_INT64(&filter, "version", ret_int64(&c->order, "version"));
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_DATE_TIME(&set, "updated_at", em_now_ms());
	if (new_lines)
		BSON_APPEND_ARRAY(&set, "lines", new_lines);
	bson_append_document_end(&update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "version", 1);
	bson_append_document_end(&update, &inc);
	if (!store_txn_opts(session, &opts, err))
		goto done;
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, berr)) {
		store_error_set(err, berr, "change order");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, NULL, "the order changed meanwhile; retry");
		goto done;
	}
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

/* Enqueues the customer's mail for a step of return ret (once per step). */
static bool ret_mail(mongoc_client_session_t *session, struct ret_ctx *c, const char *tpl,
		     const bson_oid_t *rid, const char *reason, int64_t refund,
		     bson_error_t *berr, struct em_error *err)
{
	bson_t vars = BSON_INITIALIZER;
	const char *name = ret_str(&c->order, "name");
	char hex[25], dedupe[96], money[64];
	bool ok;

	bson_oid_to_string(rid, hex);
	BSON_APPEND_UTF8(&vars, "name", name[0] ? name : "customer");
	BSON_APPEND_UTF8(&vars, "order_id", ret_str(&c->order, "number"));
	BSON_APPEND_UTF8(&vars, "return_id", hex);
	BSON_APPEND_UTF8(&vars, "reason", reason ? reason : "");
	if (!orders_money_format(refund, ret_str(&c->order, "currency"), money, sizeof money))
		snprintf(money, sizeof money, "-");
	BSON_APPEND_UTF8(&vars, "refund", money);
	snprintf(dedupe, sizeof dedupe, "%s:%s", tpl, hex);
	ok = jobs_email_enqueue(c->st, session, ret_str(&c->order, "email"), tpl, &vars, dedupe,
				berr, err);
	bson_destroy(&vars);
	return ok;
}

static void ret_event(bson_t *parent, const char *key, const char *from, const char *to,
		      const bson_oid_t *by, const char *role, const char *note, int64_t now)
{
	bson_t ev, b;

	BSON_APPEND_DOCUMENT_BEGIN(parent, key, &ev);
	if (from)
		BSON_APPEND_UTF8(&ev, "from", from);
	else
		BSON_APPEND_NULL(&ev, "from");
	BSON_APPEND_UTF8(&ev, "to", to);
	BSON_APPEND_DOCUMENT_BEGIN(&ev, "by", &b);
	if (by)
		BSON_APPEND_OID(&b, "id", by);
	else
		BSON_APPEND_NULL(&b, "id");
	BSON_APPEND_UTF8(&b, "role", role ? role : "system");
	bson_append_document_end(&ev, &b);
	BSON_APPEND_DATE_TIME(&ev, "at", now);
	if (note && note[0])
		BSON_APPEND_UTF8(&ev, "note", note);
	else
		BSON_APPEND_NULL(&ev, "note");
	bson_append_document_end(parent, &ev);
}

static bool ret_read(mongoc_client_session_t *session, struct ret_ctx *c, const bson_oid_t *rid,
		     bson_t *out, bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool found = false, ok;

	BSON_APPEND_OID(&filter, "_id", rid);
	BSON_APPEND_OID(&filter, "order_id", c->order_id);
	ok = store_find_one(c->st, session, "order_returns", &filter, out, &found, berr,
			    "read return", err);
	bson_destroy(&filter);
	if (ok && !found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such return");
		ok = false;
	}
	return ok;
}

/* ---- asking for a return ---- */

static bool ret_create_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			   struct em_error *err)
{
	struct ret_ctx *c = vctx;
	const struct orders_return_request *r = c->req;
	mongoc_collection_t *coll = NULL;
	bson_t doc = BSON_INITIALIZER, items, evs, opts = BSON_INITIALIZER;
	bson_iter_t it;
	int64_t now = em_now_ms(), delivered_at = 0, window;
	const char *status;
	bool ok = false;

	ret_ctx_reset(c);
	if (!ret_order_read(session, c, r->user_id, berr, err))
		goto done;
	status = ret_str(&c->order, "status");
	if (strcmp(status, "delivered") != 0) {
		em_error_set(err, EM_ERR_CONFLICT, "status",
			     "not_delivered: the order is %s; only a delivered order can be returned",
			     status);
		goto done;
	}
	if (bson_iter_init_find(&it, &c->order, "delivered_at") && BSON_ITER_HOLDS_DATE_TIME(&it))
		delivered_at = bson_iter_date_time(&it);
	window = (int64_t)orders_config(c->cfg)->return_window_days * RET_DAY_MS;
	if (!delivered_at || now - delivered_at > window) {
		em_error_set(err, EM_ERR_UNPROCESSABLE, NULL,
			     "window_closed: returns are accepted for %d days after delivery",
			     orders_config(c->cfg)->return_window_days);
		goto done;
	}
	if (!ret_open_sum(session, c, berr, err))
		goto done;
	for (size_t i = 0; i < r->nitems; i++) {
		struct ret_line *l = ret_line_find(c, r->items[i].sku);
		char field[48];
		int64_t left;

		snprintf(field, sizeof field, "items[%zu].sku", i);
		if (!l) {
			em_error_set(err, EM_ERR_UNPROCESSABLE, field,
				     "unknown_sku: %s is not a line of this order", r->items[i].sku);
			goto done;
		}
		left = l->quantity - l->returned - l->open;
		if (r->items[i].quantity > left) {
			snprintf(field, sizeof field, "items[%zu].quantity", i);
			em_error_set(err, EM_ERR_UNPROCESSABLE, field,
				     "too_many: %lld of %s can still be returned (%lld delivered)",
				     (long long)(left > 0 ? left : 0), l->sku,
				     (long long)l->quantity);
			goto done;
		}
	}
	if (!ret_order_bump(session, c, NULL, berr, err))
		goto done;
	bson_oid_init(&c->new_id, NULL);
	BSON_APPEND_OID(&doc, "_id", &c->new_id);
	BSON_APPEND_OID(&doc, "order_id", c->order_id);
	BSON_APPEND_OID(&doc, "user_id", r->user_id);
	BSON_APPEND_UTF8(&doc, "number", ret_str(&c->order, "number"));
	BSON_APPEND_UTF8(&doc, "status", "requested");
	BSON_APPEND_ARRAY_BEGIN(&doc, "items", &items);
	for (size_t i = 0; i < r->nitems; i++) {
		struct ret_line *l = ret_line_find(c, r->items[i].sku);
		bson_t el;
		char key[24];

		snprintf(key, sizeof key, "%zu", i);
		BSON_APPEND_DOCUMENT_BEGIN(&items, key, &el);
		BSON_APPEND_UTF8(&el, "sku", l->sku);
		BSON_APPEND_UTF8(&el, "title", l->title);
		BSON_APPEND_INT64(&el, "quantity", r->items[i].quantity);
		bson_append_document_end(&items, &el);
	}
	bson_append_array_end(&doc, &items);
	BSON_APPEND_UTF8(&doc, "reason", r->reason);
	BSON_APPEND_NULL(&doc, "reject_reason");
	BSON_APPEND_UTF8(&doc, "currency", ret_str(&c->order, "currency"));
	BSON_APPEND_NULL(&doc, "refund_amount");
	BSON_APPEND_BOOL(&doc, "refund_requested", false);
	BSON_APPEND_ARRAY_BEGIN(&doc, "events", &evs);
	ret_event(&evs, "0", NULL, "requested", r->user_id, "customer", r->reason, now);
	bson_append_array_end(&doc, &evs);
	BSON_APPEND_INT64(&doc, "version", 1);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	coll = store_collection(c->st, "order_returns");
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_insert_one(coll, &doc, &opts, NULL, berr)) {
		store_error_set(err, berr, "insert return");
		goto done;
	}
	if (!ret_mail(session, c, "return_requested", &c->new_id, r->reason, 0, berr, err))
		goto done;
	bson_copy_to(&doc, &c->out);
	c->have_out = true;
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	bson_destroy(&opts);
	return ok;
}

bool orders_return_create(struct em_store *st, const struct em_config *cfg,
			  const bson_oid_t *order_id, const struct orders_return_request *req,
			  bson_t *out, struct em_error *err)
{
	struct ret_ctx *c;
	bool ok;

	if (req->nitems == 0 || req->nitems > ORDERS_RETURN_ITEMS_MAX) {
		em_error_set(err, EM_ERR_INVALID, "items", "one to %d items", ORDERS_RETURN_ITEMS_MAX);
		return false;
	}
	c = xcalloc(1, sizeof *c);
	c->st = st;
	c->cfg = cfg;
	c->order_id = order_id;
	c->req = req;
	ok = store_txn_run(st, ret_create_txn, c, err);
	if (ok && out)
		bson_copy_to(&c->out, out);
	ret_ctx_reset(c);
	free(c);
	return ok;
}

/* ---- staff steps ---- */

/*
 * The refund share of qty of line l's units, given that `before` units of
 * it were received back earlier: the line's charge (line_total - discount,
 * plus its tax when prices exclude it) times the cumulative fraction, so
 * that all the returns of a line add up to exactly its charge.
 */
static bool ret_share(const struct ret_line *l, bool tax_included, int64_t before, int64_t qty,
		      int64_t *out, struct em_error *err)
{
	int64_t charge = l->line_total - l->discount, a, b;

	if (!tax_included && __builtin_add_overflow(charge, l->tax, &charge))
		goto overflow;
	if (charge < 0 || l->quantity <= 0 || before < 0 || qty < 0 ||
	    before + qty > l->quantity) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "a return line does not match its order");
		return false;
	}
	if (__builtin_mul_overflow(charge, before, &a) ||
	    __builtin_mul_overflow(charge, before + qty, &b))
		goto overflow;
	*out = b / l->quantity - a / l->quantity;
	return true;
overflow:
	em_error_set(err, EM_ERR_INTERNAL, NULL, "refund amount overflows");
	return false;
}

/*
 * The order's lines with each received quantity added to
 * returned_quantity, into arr; *all_back says whether every unit is back.
 */
static bool ret_lines_build(struct ret_ctx *c, const bson_t *ret, bson_t *arr, bool *all_back,
			    struct em_error *err)
{
	bson_iter_t it, lines;
	size_t n = 0;

	*all_back = true;
	if (!bson_iter_init_find(&it, &c->order, "lines") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &lines)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "an order without lines");
		return false;
	}
	while (bson_iter_next(&lines)) {
		const uint8_t *data;
		uint32_t len;
		bson_t line, copy;
		bson_iter_t ri, items;
		char key[24];
		const char *sku;
		int64_t qty, back;

		if (!BSON_ITER_HOLDS_DOCUMENT(&lines))
			continue;
		bson_iter_document(&lines, &len, &data);
		if (!bson_init_static(&line, data, len)) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "a malformed order line");
			return false;
		}
		sku = ret_str(&line, "sku");
		qty = ret_int64(&line, "quantity");
		back = ret_int64(&line, "returned_quantity");
		if (bson_iter_init_find(&ri, ret, "items") && BSON_ITER_HOLDS_ARRAY(&ri) &&
		    bson_iter_recurse(&ri, &items))
			while (bson_iter_next(&items)) {
				bson_iter_t f;
				const char *isku = NULL;
				int64_t iq = 0;

				if (!BSON_ITER_HOLDS_DOCUMENT(&items) || !bson_iter_recurse(&items, &f))
					continue;
				while (bson_iter_next(&f)) {
					if (strcmp(bson_iter_key(&f), "sku") == 0 &&
					    BSON_ITER_HOLDS_UTF8(&f))
						isku = bson_iter_utf8(&f, NULL);
					else if (strcmp(bson_iter_key(&f), "quantity") == 0)
						iq = em_bson_iter_int64(&f);
				}
				if (isku && strcmp(isku, sku) == 0)
					back += iq;
			}
		if (back > qty) {
			em_error_set(err, EM_ERR_CONFLICT, NULL,
				     "more of %s would be back than was delivered", sku);
			return false;
		}
		if (back < qty)
			*all_back = false;
		snprintf(key, sizeof key, "%zu", n++);
		BSON_APPEND_DOCUMENT_BEGIN(arr, key, &copy);
		bson_copy_to_excluding_noinit(&line, &copy, "returned_quantity", NULL);
		BSON_APPEND_INT64(&copy, "returned_quantity", back);
		bson_append_document_end(arr, &copy);
	}
	return true;
}

/* Receive: restock, refund share, the order's lines and maybe its status. */
static bool ret_receive(mongoc_client_session_t *session, struct ret_ctx *c, const bson_t *ret,
			bson_t *set, bson_error_t *berr, struct em_error *err)
{
	const struct orders_return_change *chg = c->chg;
	bool tax_included = false, all_back = false, ok = false;
	bson_iter_t it, items;
	bson_t received, new_lines = BSON_INITIALIZER;
	int64_t refund = 0;
	size_t n = 0, nitems = 0;
	char reason[96];

	if (bson_iter_init_find(&it, &c->order, "prices_include_tax") && BSON_ITER_HOLDS_BOOL(&it))
		tax_included = bson_iter_bool(&it);
	snprintf(reason, sizeof reason, "order %s returned", ret_str(&c->order, "number"));
	BSON_APPEND_ARRAY_BEGIN(set, "received", &received);
	if (!bson_iter_init_find(&it, ret, "items") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &items)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "a return without items");
		bson_append_array_end(set, &received);
		goto done;
	}
	while (bson_iter_next(&items)) {
		bson_iter_t f;
		const char *sku = NULL;
		int64_t qty = 0, share;
		struct ret_line *l;
		const struct orders_return_item *in = NULL;
		bson_t el;
		char key[24];

		if (!BSON_ITER_HOLDS_DOCUMENT(&items) || !bson_iter_recurse(&items, &f))
			continue;
		while (bson_iter_next(&f)) {
			if (strcmp(bson_iter_key(&f), "sku") == 0 && BSON_ITER_HOLDS_UTF8(&f))
				sku = bson_iter_utf8(&f, NULL);
			else if (strcmp(bson_iter_key(&f), "quantity") == 0)
				qty = em_bson_iter_int64(&f);
		}
		nitems++;
		for (size_t i = 0; sku && i < chg->nlines; i++)
			if (strcmp(chg->lines[i].sku, sku) == 0)
				in = &chg->lines[i];
		if (!sku || !in) {
			em_error_set(err, EM_ERR_UNPROCESSABLE, "lines",
				     "every line of the return needs its restock choice (%s missing)",
				     sku ? sku : "?");
			bson_append_array_end(set, &received);
			goto done;
		}
		if (!(l = ret_line_find(c, sku))) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "a return line not in its order");
			bson_append_array_end(set, &received);
			goto done;
		}
		if (!ret_share(l, tax_included, l->returned, qty, &share, err) ||
		    __builtin_add_overflow(refund, share, &refund)) {
			if (!err->kind)
				em_error_set(err, EM_ERR_INTERNAL, NULL, "refund amount overflows");
			bson_append_array_end(set, &received);
			goto done;
		}
		if (in->restock) {
			struct inventory_result res;

			if (!inventory_stock_change(c->st, session, c->cfg, sku, qty, reason, chg->by,
						    &res, berr, err)) {
				if (err->kind != EM_ERR_NOT_FOUND) {
					bson_append_array_end(set, &received);
					goto done;
				}
				/* a variant removed since: its units have nowhere to go back to */
				em_warn("return of order %s: SKU %s no longer exists; not restocked",
					ret_str(&c->order, "number"), sku);
				em_error_clear(err);
			}
		}
		/* best_selling counts what customers kept: a received return
		 * takes its units back off, restocked or not */
		if (!catalog_product_sold_add(c->st, session, sku, -qty, berr, err)) {
			bson_append_array_end(set, &received);
			goto done;
		}
		snprintf(key, sizeof key, "%zu", n++);
		BSON_APPEND_DOCUMENT_BEGIN(&received, key, &el);
		BSON_APPEND_UTF8(&el, "sku", sku);
		BSON_APPEND_INT64(&el, "quantity", qty);
		BSON_APPEND_BOOL(&el, "restock", in->restock);
		BSON_APPEND_INT64(&el, "refund_amount", share);
		bson_append_document_end(&received, &el);
	}
	bson_append_array_end(set, &received);
	if (chg->nlines != nitems) {
		em_error_set(err, EM_ERR_UNPROCESSABLE, "lines",
			     "lines must name each SKU of the return once");
		goto done;
	}
	BSON_APPEND_INT64(set, "refund_amount", refund);
	BSON_APPEND_BOOL(set, "refund_requested", refund > 0);
	if (!ret_lines_build(c, ret, &new_lines, &all_back, err) ||
	    !ret_order_bump(session, c, &new_lines, berr, err))
		goto done;
	if (all_back) {
		struct orders_transition t = {
			.to = ORDERS_RETURNED, .actor = ORDERS_ACTOR_SYSTEM, .by_role = "system",
			.note = "every unit returned and received", .has_expect = true,
			.expect = ORDERS_DELIVERED,
		};

		if (!orders_transition_apply_in(session, c->st, c->cfg, c->order_id, &t, NULL, berr,
						err))
			goto done;
	}
	if (!ret_mail(session, c, "return_received", c->return_id, NULL, refund, berr, err))
		goto done;
	ok = true;
done:
	bson_destroy(&new_lines);
	return ok;
}

static bool ret_change_txn(mongoc_client_session_t *session, void *vctx, bson_error_t *berr,
			   struct em_error *err)
{
	struct ret_ctx *c = vctx;
	const struct orders_return_change *chg = c->chg;
	mongoc_collection_t *coll = NULL;
	bson_t ret, filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, push, inc;
	bson_t opts = BSON_INITIALIZER, reply = BSON_INITIALIZER;
	bson_iter_t it;
	const char *from, *expect, *to, *tpl;
	int64_t now = em_now_ms();
	bool ok = false, have_ret = false;

	ret_ctx_reset(c);
	switch (chg->step) {
	case ORDERS_RETURN_APPROVE:
		expect = "requested", to = "approved", tpl = "return_approved";
		break;
	case ORDERS_RETURN_REJECT:
		expect = "requested", to = "rejected", tpl = "return_rejected";
		break;
	default:
		expect = "approved", to = "received", tpl = NULL;
		break;
	}
	if (!ret_order_read(session, c, NULL, berr, err) ||
	    !ret_read(session, c, c->return_id, &ret, berr, err))
		goto done;
	have_ret = true;
	from = ret_str(&ret, "status");
	if (strcmp(from, expect) != 0) {
		em_error_set(err, EM_ERR_CONFLICT, "status",
			     "return_state: the return is %s; only a %s return can be %s", from,
			     expect, to);
		goto done;
	}
	/* compare-and-set on the status read in this transaction */
	BSON_APPEND_OID(&filter, "_id", c->return_id);
	BSON_APPEND_UTF8(&filter, "status", from);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "status", to);
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	if (chg->step == ORDERS_RETURN_REJECT)
		BSON_APPEND_UTF8(&set, "reject_reason", chg->reason ? chg->reason : "");
	if (chg->step == ORDERS_RETURN_RECEIVE && !ret_receive(session, c, &ret, &set, berr, err)) {
		bson_append_document_end(&update, &set);
		goto done;
	}
	bson_append_document_end(&update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "version", 1);
	bson_append_document_end(&update, &inc);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$push", &push);
	ret_event(&push, "events", from, to, chg->by, chg->by_role, chg->reason, now);
	bson_append_document_end(&update, &push);
	coll = store_collection(c->st, "order_returns");
	if (!store_txn_opts(session, &opts, err))
		goto done;
	bson_destroy(&reply);
	if (!mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, berr)) {
		bson_init(&reply);
		store_error_set(err, berr, "change return");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, "status", "the return changed meanwhile; reload it");
		goto done;
	}
	if (tpl && !ret_mail(session, c, tpl, c->return_id, chg->reason, 0, berr, err))
		goto done;
	if (!ret_read(session, c, c->return_id, &c->out, berr, err))
		goto done;
	c->have_out = true;
	ok = true;
done:
	if (have_ret)
		bson_destroy(&ret);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&opts);
	return ok;
}

bool orders_return_change(struct em_store *st, const struct em_config *cfg,
			  const bson_oid_t *order_id, const bson_oid_t *return_id,
			  const struct orders_return_change *chg, bson_t *out, struct em_error *err)
{
	struct ret_ctx *c = xcalloc(1, sizeof *c);
	bool ok;

	c->st = st;
	c->cfg = cfg;
	c->order_id = order_id;
	c->return_id = return_id;
	c->chg = chg;
	ok = store_txn_run(st, ret_change_txn, c, err);
	if (ok && out)
		bson_copy_to(&c->out, out);
	ret_ctx_reset(c);
	free(c);
	return ok;
}

/* ---- reading ---- */

json_object *orders_return_render(const bson_t *doc, bool staff)
{
	json_object *all = em_bson_to_json(doc), *v;

	if (!all)
		return NULL;
	if (json_object_object_get_ex(all, "_id", &v)) {
		json_object_object_add(all, "id", json_object_get(v));
		json_object_object_del(all, "_id");
	}
	if (!staff) {
		json_object *evs;

		json_object_object_del(all, "user_id");
		json_object_object_del(all, "version");
		/* who acted is staff-only, as on the order's own events */
		if (json_object_object_get_ex(all, "events", &evs) &&
		    json_object_is_type(evs, json_type_array))
			for (size_t i = 0; i < json_object_array_length(evs); i++) {
				json_object *e = json_object_array_get_idx(evs, i);

				if (e && json_object_is_type(e, json_type_object))
					json_object_object_del(e, "by");
			}
	}
	return all;
}

bool orders_returns_list(struct em_store *st, const bson_oid_t *order_id,
			 const bson_oid_t *user_id, bool staff, json_object **items,
			 struct em_error *err)
{
	mongoc_collection_t *coll;
	bson_t filter = BSON_INITIALIZER;
	bson_t *opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}", "limit",
				BCON_INT64(ORDERS_RETURNS_LIST_MAX));
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t berr;
	bson_t order;
	bool ok = false;

	*items = NULL;
	/* another customer's order: the same 404 as none */
	if (!orders_find(st, order_id, user_id, &order, err)) {
		bson_destroy(opts);
		bson_destroy(&filter);
		return false;
	}
	bson_destroy(&order);
	*items = json_object_new_array();
	if (!*items) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "out of memory");
		bson_destroy(opts);
		bson_destroy(&filter);
		return false;
	}
	coll = store_collection(st, "order_returns");
	BSON_APPEND_OID(&filter, "order_id", order_id);
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		json_object *o = orders_return_render(doc, staff);

		if (!o || json_object_array_add(*items, o) != 0) {
			json_object_put(o);
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render a return");
			goto done;
		}
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "list returns");
		goto done;
	}
	ok = true;
done:
	if (!ok) {
		json_object_put(*items);
		*items = NULL;
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(opts);
	bson_destroy(&filter);
	return ok;
}
