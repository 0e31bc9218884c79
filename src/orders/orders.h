/*
 * orders.h - the orders module: placing an order from the cart in one
 * transaction, the order workflow, tracking without an account, and the
 * customer's mails.
 *
 * Collections (indexes in module.c; money is BSON int64 minor units):
 *
 *   orders { _id: ObjectId, number: "EM-2026-000123" (unique),
 *            user_id: ObjectId, email: string (the account's, normalised),
 *            name: string,
 *            status: "pending"|"payment_review"|"processing"|"shipped"|
 *                    "delivered"|"returned"|"cancelled",
 *            payment_method: "sslcommerz"|"cod",
 *            payment_status: "unpaid"|"paid"|"refund_requested"|"refunded",
 *            currency, lines: [{ sku, product_id, title, options: {},
 *              quantity, unit_price, line_total, discount, tax }],
 *            subtotal, discount, shipping, tax, total: int64,
 *            prices_include_tax: bool,
 *            coupon: { id: ObjectId, code } | null,
 *            shipping_method, shipping_zone,
 *            shipping_address, billing_address: { name, line1, line2, city,
 *              region, postal_code, country, phone } (snapshots),
 *            note: string|null, carrier: string|null, tracking_number:
 *            string|null, delivered_at: date|null,
 *            expires_at: date|null (an unpaid sslcommerz order),
 *            events: [{ from, to, by: { id: ObjectId|null, role }, at, note,
 *              carrier?, tracking_number? }],
 *            version: int64 (+1 on every change), created_at, updated_at }
 *   counters { _id: "order_number:<year>", seq: int64 }  (order numbers;
 *            never reused, no gaps needed)
 *   idempotency_keys { user_id, key, fingerprint (hex SHA-256 of the
 *            request), state: "running"|"done", started_at, status: int32,
 *            body: string (the response), order_id, created_at (TTL 24 h) }
 *   coupon_redemptions { coupon_id, user_id, order_id, created_at }
 *   order_returns { _id, order_id, user_id, number (the order's),
 *            status: "requested"|"approved"|"rejected"|"received",
 *            items: [{ sku, title, quantity: int64 }], reason,
 *            reject_reason: string|null, currency,
 *            received: [{ sku, quantity, restock: bool, refund_amount }],
 *            refund_amount: int64|null (the received lines' share),
 *            refund_requested: bool, refund_id: ObjectId|null (set by the
 *            payments module's sweep when it refunds), events: [{ from, to, by: { id, role },
 *            at, note }], version: int64, created_at, updated_at }
 *            (returns.c says why a collection and not an array on the order)
 *
 * Every change of an order is one transaction: the status compared and
 * set (so of two concurrent transitions one wins), the event appended,
 * stock and coupon use given back where the change says so, and the
 * customer's mail enqueued through the outbox.
 */
#ifndef EM_ORDERS_ORDERS_H
#define EM_ORDERS_ORDERS_H

#include <bson/bson.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jsonbuf.h"
#include "store/store.h"

#define ORDERS_NUMBER_MAX       32
#define ORDERS_NOTE_MAX         500
#define ORDERS_CARRIER_MAX      64
#define ORDERS_TRACKING_MAX     64
#define ORDERS_IDEM_KEY_MAX     255

/* The module's configuration (module.c lists the variables). */
struct orders_config {
	bool cod_enabled;              /* EMPORIUM_COD_ENABLED */
	int64_t cod_max_total;         /* EMPORIUM_COD_MAX_TOTAL, 0 = no limit */
	int payment_timeout_s;         /* EMPORIUM_ORDER_PAYMENT_TIMEOUT */
	int return_window_days;        /* EMPORIUM_RETURN_WINDOW_DAYS */
	char carrier_urls[512];        /* EMPORIUM_CARRIER_TRACKING_URLS */
};

extern const struct em_config_section orders_config_section;

static inline const struct orders_config *orders_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &orders_config_section);
}

/* ---- the workflow (state.c; pure) ---- */

enum orders_status {
	ORDERS_PENDING = 0,
	ORDERS_PAYMENT_REVIEW,
	ORDERS_PROCESSING,
	ORDERS_SHIPPED,
	ORDERS_DELIVERED,
	ORDERS_RETURNED,
	ORDERS_CANCELLED,
	ORDERS_STATUS_COUNT
};

/* Who asks for a transition. */
enum orders_actor {
	ORDERS_ACTOR_CUSTOMER,  /* the order's own customer */
	ORDERS_ACTOR_STAFF,     /* staff or admin */
	ORDERS_ACTOR_SYSTEM,    /* payments, the expiry sweep, returns */
};

const char *orders_status_name(enum orders_status s);
bool orders_status_parse(const char *name, enum orders_status *out);

/*
 * Whether actor may move an order from `from` to `to`. The edges:
 *   pending -> processing (staff: COD confirmed; system: paid),
 *              payment_review (system: a risky payment), cancelled
 *              (customer, staff, system: expiry)
 *   payment_review -> processing, cancelled (staff)
 *   processing -> shipped, cancelled (staff)
 *   shipped -> delivered (staff)
 *   delivered -> returned (system: every line returned and received)
 */
bool orders_transition_allowed(enum orders_status from, enum orders_status to,
			       enum orders_actor actor);

/* The states `from` may go to for actor, comma-separated into out. */
void orders_transitions_list(enum orders_status from, enum orders_actor actor, char *out,
			     size_t size);

/* Whether leaving `from` for cancelled gives the stock back (every
 * state before shipping holds it). */
bool orders_status_holds_stock(enum orders_status s);

/* ---- numbers and money (number.c; pure) ---- */

/* "EM-<year>-<seq, 6 digits or more>" into out; false when it does not fit. */
bool orders_number_format(int year, int64_t seq, char *out, size_t size);
/* A number as customers type it: EM-YYYY-NNNNNN (6..12 digits). */
bool orders_number_valid(const char *s);

/*
 * Money for people: "BDT 1,234.50" from minor units and the currency's
 * exponent (2, or 0 for the zero-decimal currencies). False when out is
 * too small.
 */
bool orders_money_format(int64_t minor, const char *currency, char *out, size_t size);

/* ---- placing an order (place.c) ---- */

struct orders_place_request {
	const bson_oid_t *user_id;
	bson_oid_t shipping_address_id;
	bool has_billing_address;
	bson_oid_t billing_address_id;
	char shipping_method[64];       /* "" = the first configured method */
	char payment_method[16];        /* sslcommerz | cod */
	char note[ORDERS_NOTE_MAX + 1];
	bool has_note;
	/* when the caller charges a summary it showed: the total it showed */
	bool has_expected_total;
	int64_t expected_total;
	/* idempotency: the stored response is written in the same transaction */
	const char *idem_key;           /* NULL: none */
};

/* What a placement ended as, for the route to render. */
struct orders_place_result {
	bson_oid_t order_id;
	json_object *order;             /* the order as the API shows it (owned) */
	json_object *problem_extra;     /* 409 details: skus / new summary (owned) */
};

/*
 * Places the caller's order from its cart, in one transaction (see the
 * file comment of place.c for every step). On a domain refusal err says
 * why: EM_ERR_CONFLICT "cart" (empty), "stock" (out_of_stock, with
 * problem_extra {skus: [{sku, requested, available}]}), "total"
 * (price_changed, with problem_extra {summary}), "coupon" (limits);
 * EM_ERR_NOT_FOUND on another user's or an unknown address; EM_ERR_INVALID
 * for an unknown shipping method or payment method, a COD order over the
 * limit.
 */
bool orders_place(struct em_store *st, const struct em_config *cfg,
		  const struct orders_place_request *in, struct orders_place_result *out,
		  struct em_error *err);
void orders_place_result_release(struct orders_place_result *r);

/* ---- reading (read.c) ---- */

/*
 * The order as the API shows it to its customer (staff: with internal
 * fields and every event), written straight from the stored document to
 * JSON bytes (core/jsonbuf_bson.h).
 */
void orders_write(struct em_jsonbuf *b, const bson_t *doc, bool staff);
/* The same as a json-c tree (the placement keeps it for replays); NULL on failure. */
json_object *orders_render(const bson_t *doc, bool staff);

/* What a list is narrowed to; NULL/0 members are not filters. */
struct orders_list_filter {
	const bson_oid_t *user_id;      /* a customer's own orders */
	const char *status;             /* an orders_status name */
	const char *payment_method;
	const char *number;
	const char *email;              /* normalised */
	int64_t from_ms, to_ms;         /* created_at in [from, to) */
};

/*
 * One page of orders, newest first (keyset on _id: after is the last id
 * of the previous page, or NULL), appended to items as a JSON array; *more
 * says whether a next page exists, and *last_id is then the id to
 * continue after.
 */
bool orders_list(struct em_store *st, const struct orders_list_filter *f, int limit,
		 const bson_oid_t *after, bool staff, struct em_jsonbuf *items, bool *more,
		 bson_oid_t *last_id, struct em_error *err);

/* One order by id; a customer's filter adds user_id (another's: 404). */
bool orders_find(struct em_store *st, const bson_oid_t *id, const bson_oid_t *user_id,
		 bson_t *out, struct em_error *err);

/*
 * Tracking without an account: the order of number whose e-mail is email
 * (compared in constant time). Unknown numbers and wrong addresses are the
 * same EM_ERR_NOT_FOUND.
 */
bool orders_track(struct em_store *st, const char *number, const char *email,
		  struct em_jsonbuf *out, struct em_error *err);

/* ---- transitions (transition.c) ---- */

struct orders_transition {
	enum orders_status to;
	enum orders_actor actor;
	const bson_oid_t *by;           /* the user acting, NULL for the system */
	const char *by_role;            /* "customer", "staff", "admin", "system" */
	const bson_oid_t *only_user;    /* a customer's own orders only (404 otherwise) */
	const char *note;               /* may be NULL */
	const char *carrier;            /* shipped: required */
	const char *tracking_number;    /* shipped: required */
	int64_t delivered_at;           /* delivered: 0 = now */
	/* only when the order is still in this state (the expiry sweep) */
	bool has_expect;
	enum orders_status expect;
};

/*
 * Moves an order along one edge, in one transaction: compare-and-set on
 * its status, the event, stock and coupon use back on cancel, a refund
 * marked as requested when a paid order is cancelled, and the customer's
 * mail. An edge the actor may not take is EM_ERR_CONFLICT naming the
 * current state and the allowed ones; a lost race is EM_ERR_CONFLICT too.
 * *doc_out (may be NULL) receives the order after the change.
 */
bool orders_transition_apply(struct em_store *st, const struct em_config *cfg,
			     const bson_oid_t *order_id, const struct orders_transition *t,
			     bson_t *doc_out, struct em_error *err);
/*
 * orders_transition_apply() inside the caller's transaction (session of a
 * store_txn_run() callback): for a change that must commit together with
 * the caller's own writes (a payment and the order it pays).
 */
bool orders_transition_apply_in(mongoc_client_session_t *session, struct em_store *st,
				const struct em_config *cfg, const bson_oid_t *order_id,
				const struct orders_transition *t, bson_t *doc_out,
				bson_error_t *berr, struct em_error *err);

/* ---- returns (returns.c) ---- */

#define ORDERS_RETURN_REASON_MAX 500
#define ORDERS_RETURN_ITEMS_MAX  100
#define ORDERS_RETURN_QTY_MAX    10000
#define ORDERS_RETURNS_LIST_MAX  100
#define ORDERS_SKU_MAX           64

/* A line of a return request (quantity) or of a receipt (restock). */
struct orders_return_item {
	char sku[ORDERS_SKU_MAX + 1];
	int64_t quantity;
	bool restock;
};

struct orders_return_request {
	const bson_oid_t *user_id;                /* the order's customer */
	const struct orders_return_item *items;   /* distinct SKUs, quantity >= 1 */
	size_t nitems;
	const char *reason;                       /* 1..ORDERS_RETURN_REASON_MAX bytes */
};

/*
 * Asks for a return of a delivered order, in one transaction: the order
 * must be the customer's (EM_ERR_NOT_FOUND otherwise), delivered
 * (EM_ERR_CONFLICT), within the return window of delivered_at
 * (EM_ERR_UNPROCESSABLE), each SKU a line of it and each quantity at most
 * what is neither returned nor asked for by an open return
 * (EM_ERR_UNPROCESSABLE). Inserts the return (requested) and mails the
 * customer. *out (may be NULL) receives the return.
 */
bool orders_return_create(struct em_store *st, const struct em_config *cfg,
			  const bson_oid_t *order_id, const struct orders_return_request *req,
			  bson_t *out, struct em_error *err);

enum orders_return_step {
	ORDERS_RETURN_APPROVE,   /* requested -> approved */
	ORDERS_RETURN_REJECT,    /* requested -> rejected (reason) */
	ORDERS_RETURN_RECEIVE,   /* approved -> received (lines: restock per SKU) */
};

struct orders_return_change {
	enum orders_return_step step;
	const bson_oid_t *by;                     /* the staff member */
	const char *by_role;                      /* "staff" | "admin" */
	const char *reason;                       /* reject: required; else a note or NULL */
	const struct orders_return_item *lines;   /* receive: every SKU of the return once */
	size_t nlines;
};

/*
 * A staff step of return return_id of order order_id, in one transaction
 * with a compare-and-set on the return's status (of two concurrent steps
 * one wins; the other is EM_ERR_CONFLICT). Receive restocks the lines
 * marked so, records refund_amount (the lines' share of what the order
 * charged) and refund_requested, adds the units to the order's
 * lines[].returned_quantity and, when every unit is back, moves the order
 * delivered -> returned (system). Each step mails the customer.
 */
bool orders_return_change(struct em_store *st, const struct em_config *cfg,
			  const bson_oid_t *order_id, const bson_oid_t *return_id,
			  const struct orders_return_change *chg, bson_t *out,
			  struct em_error *err);

/* A return as the API shows it (staff: with user_id, version). */
json_object *orders_return_render(const bson_t *doc, bool staff);

/* The returns of an order, oldest first (a customer's own order only:
 * user_id non-NULL, another's is EM_ERR_NOT_FOUND). *items a new array. */
bool orders_returns_list(struct em_store *st, const bson_oid_t *order_id,
			 const bson_oid_t *user_id, bool staff, json_object **items,
			 struct em_error *err);

/* The expiry sweep: cancels unpaid sslcommerz orders past their expires_at. */
struct jobs_worker;
bool orders_expiry_sweep(struct jobs_worker *w, struct em_error *err);

#endif
