/*
 * cart.h - the cart module: persistent carts (accounts and guests),
 * favorites, coupons, and the order summary priced by src/cart/pricing.h.
 *
 * Collections (indexes in module.c; money is BSON int64 minor units):
 *
 *   carts     { _id: ObjectId,
 *               user_id: ObjectId            (an account's cart; unique), or
 *               token_hash: hex SHA-256      (a guest's cart; unique) and
 *               expires_at: date             (guests only: TTL, renewed by
 *                                             every change),
 *               items: [{ sku, product_id: ObjectId, quantity: int64,
 *                         price_at_add: int64, currency, added_at: date }],
 *               coupon: string               (the code as applied) | absent,
 *               created_at, updated_at }
 *             One line per SKU: every change is a single atomic update
 *             whose filter states the precondition ("no line of this SKU",
 *             "the line's quantity leaves room"), so concurrent adds can
 *             neither make two lines nor pass the per-line maximum.
 *
 *   favorites { _id, user_id: ObjectId, product_id: ObjectId, created_at }
 *             unique (user_id, product_id): one entry per product.
 *
 *   coupons   { _id, code: string (as entered), code_key: lower-case code
 *               (unique: codes are case-insensitive),
 *               type: "percent"|"fixed"|"free_shipping",
 *               percent_bp: int64, amount: int64, max_discount: int64|absent,
 *               min_subtotal: int64, starts_at: date|absent, ends_at: date|absent,
 *               usage_limit: int64|absent, usage_limit_per_customer: int64|absent,
 *               used_count: int64 (incremented by the order transaction),
 *               first_order_only: bool,
 *               scope: { product_ids: [ObjectId], category_ids: [ObjectId] } | absent,
 *               active: bool, version: int64, created_at, updated_at }
 *
 *   coupon_redemptions { coupon_id, user_id, order_id, created_at }
 *             written by the orders module in the order transaction; the
 *             per-customer limit counts them.
 *   orders    { user_id, status, ... } (orders module): first_order_only
 *             counts a customer's orders that are not cancelled.
 *
 * Guests: the first POST /api/v1/cart/items without a token creates a
 * cart and returns an opaque token (32 random bytes, base64url) in the
 * body and in the __Host-emporium_cart cookie; clients send it back in
 * that cookie or in X-Cart-Token. Only its SHA-256 is stored.
 *
 * Merge: a request to any /api/v1/cart route that carries both an access
 * token and a guest token merges the guest cart into the account's, in
 * one transaction that deletes the guest cart: exactly once, whichever of
 * several concurrent requests gets there first. The rule: per SKU the
 * quantities add up, capped at the variant's stock and at
 * EMPORIUM_CART_MAX_QTY; SKUs the account cart lacks are appended while
 * it has fewer than EMPORIUM_CART_MAX_LINES lines; the guest's coupon is
 * kept when the account cart has none. Capped and dropped SKUs are
 * reported in the response's "merge" member, never silently lost.
 */
#ifndef EM_CART_CART_H
#define EM_CART_CART_H

#include <bson/bson.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "cart/pricing.h"
#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

#define CART_TOKEN_BYTES   32
#define CART_TOKEN_LEN     43            /* base64url of 32 bytes, no padding */
#define CART_COOKIE        "__Host-emporium_cart"
#define CART_COUPON_CODE_MAX 32
#define CART_SCOPE_MAX     100           /* product or category ids in a scope */
#define CART_METHODS_MAX   8
#define CART_ZONES_MAX     16
#define CART_CITIES_MAX    32

/* The module's configuration (module.c lists the variables). */
struct cart_config {
	int guest_ttl_s;               /* EMPORIUM_GUEST_CART_TTL */
	int max_lines;                 /* EMPORIUM_CART_MAX_LINES */
	int max_qty;                   /* EMPORIUM_CART_MAX_QTY */
	bool prices_include_tax;       /* EMPORIUM_PRICES_INCLUDE_TAX */
	int tax_rate_bp;               /* EMPORIUM_TAX_RATE_BP */
	char shipping_methods[512];    /* EMPORIUM_SHIPPING_METHODS */
	char shipping_cities[512];     /* EMPORIUM_SHIPPING_ZONE_CITIES */
	char shipping_default_zone[PRICING_NAME_MAX]; /* EMPORIUM_SHIPPING_DEFAULT_ZONE */
};

extern const struct em_config_section cart_config_section;

static inline const struct cart_config *cart_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &cart_config_section);
}

/* ---- shipping configuration (shipping.c; pure) ---- */

/*
 * The shipping methods and the city -> zone map, parsed from the
 * configuration text into fixed storage (no pointers outside itself but
 * into its own arrays, so keep it in one place and do not copy it).
 *
 * EMPORIUM_SHIPPING_METHODS: methods separated by ';', each
 *   name:zone=price,zone=price[,free_over=amount]
 * e.g. "standard:inside_dhaka=6000,outside_dhaka=12000,free_over=500000".
 * EMPORIUM_SHIPPING_ZONE_CITIES: "city=zone;city=zone" (cities compared
 * case-insensitively with the address's city), and
 * EMPORIUM_SHIPPING_DEFAULT_ZONE the zone of any other city.
 */
struct cart_shipping {
	char names[CART_METHODS_MAX][PRICING_NAME_MAX];
	char zone_names[CART_METHODS_MAX][CART_ZONES_MAX][PRICING_NAME_MAX];
	struct pricing_zone_price zones[CART_METHODS_MAX][CART_ZONES_MAX];
	struct pricing_shipping_method methods[CART_METHODS_MAX];
	size_t nmethods;
	char cities[CART_CITIES_MAX][100];
	char city_zones[CART_CITIES_MAX][PRICING_NAME_MAX];
	size_t ncities;
	char default_zone[PRICING_NAME_MAX];
};

/*
 * Parses the three texts into *out. False with EM_ERR_INVALID naming the
 * variable on anything malformed: a bad name ([a-z0-9_], 1..63), a price
 * that is not a whole number 0..10^12, too many methods or zones, a city
 * mapped to a zone no method serves.
 */
bool cart_shipping_parse(const char *methods, const char *cities, const char *default_zone,
			 struct cart_shipping *out, struct em_error *err);

/* The zone of an address's city (the default zone when unmapped). */
const char *cart_shipping_zone_for_city(const struct cart_shipping *s, const char *city);

/* True when some method serves the zone. */
bool cart_shipping_zone_known(const struct cart_shipping *s, const char *zone);

/* ---- coupons (coupon.c; the rules are pure) ---- */

enum cart_coupon_type {
	CART_COUPON_PERCENT = 1,
	CART_COUPON_FIXED,
	CART_COUPON_FREE_SHIPPING,
};

struct cart_coupon {
	bson_oid_t id;
	char code[CART_COUPON_CODE_MAX + 1];
	enum cart_coupon_type type;
	int64_t percent_bp, amount;
	bool has_max_discount;
	int64_t max_discount;
	int64_t min_subtotal;
	int64_t starts_at, ends_at;               /* ms since the epoch; 0 = none */
	int64_t usage_limit, usage_limit_per_customer; /* 0 = none */
	int64_t used_count;
	bool first_order_only, active;
	bool has_scope;
	bson_oid_t scope_products[CART_SCOPE_MAX], scope_categories[CART_SCOPE_MAX];
	size_t nscope_products, nscope_categories;
};

/*
 * A coupon code as a customer types it: 1..32 of [A-Za-z0-9_-]. Anything
 * else (operators, spaces, over-long) is EM_ERR_INVALID on field "code".
 * key (size >= 33) receives the lower-case form the unique index holds.
 */
bool cart_coupon_code_check(const char *code, char *key, size_t size, struct em_error *err);

/* Reads a stored coupon document; false (EM_ERR_INTERNAL) if malformed. */
bool cart_coupon_from_bson(const bson_t *doc, struct cart_coupon *c, struct em_error *err);

/*
 * The rules a coupon must pass before pricing, in this order: active
 * (an inactive coupon is reported as "unknown", so codes cannot be told
 * apart by probing), not_started, expired, usage_limit, then for a known
 * customer per_customer_limit and first_order_only (a guest is checked
 * again when the order is placed, signed in). Returns NULL when it may
 * apply, else the reason code. min_subtotal and not_in_scope come from
 * pricing (they depend on the lines).
 */
const char *cart_coupon_rules(const struct cart_coupon *c, int64_t now_ms, bool customer_known,
			      int64_t customer_uses, int64_t customer_orders);

/* The pricing engine's view of the coupon. */
struct pricing_coupon cart_coupon_pricing(const struct cart_coupon *c);

/*
 * Whether a product (its id and its category's chain of ancestors, the
 * category first) is in the coupon's scope: every product is when the
 * coupon has none.
 */
bool cart_coupon_in_scope(const struct cart_coupon *c, const bson_oid_t *product_id,
			  const bson_oid_t *category_chain, size_t nchain);

/*
 * Builds the stored fields of a coupon from an admin body (POST: all
 * required fields; PATCH: only those present) into *set, with field-named
 * EM_ERR_INVALID for every bad value. Checks across fields (percent needs
 * percent_bp, fixed needs amount, ends_at after starts_at) run on the
 * merged result in cart_coupon_from_bson by the caller.
 */
bool cart_coupon_build(json_object *in, bool creating, bson_t *set, struct em_error *err);

/* Checks across the fields of a whole coupon (type needs its value,
 * max_discount only for percent, ends_at after starts_at). */
bool cart_coupon_validate(const struct cart_coupon *c, struct em_error *err);

/* The coupon as the admin API shows it. NULL on allocation failure. */
json_object *cart_coupon_json(const bson_t *doc);

/* Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm)" into ms. */
bool cart_time_parse(const char *s, int64_t *ms);
/* Formats ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (size >= 32). */
void cart_time_format(int64_t ms, char *out, size_t size);

/* ---- guest tokens (token.c) ---- */

/* A new token (CART_TOKEN_LEN chars + NUL into out) and its hex SHA-256. */
bool cart_token_new(char out[CART_TOKEN_LEN + 1], char hash[65], struct em_error *err);
/* A presented token: exactly CART_TOKEN_LEN base64url characters, else false. */
bool cart_token_valid(const char *token);
/* Hex SHA-256 of a token. */
void cart_token_hash(const char *token, char hash[65]);
/* Constant-time equality of two hex hashes. */
bool cart_hash_equal(const char *a, const char *b);

int64_t cart_now_ms(void);

/* ---- stored carts and the catalog's view of their lines ---- */

#define CART_SKU_MAX      64
#define CART_TITLE_MAX    200
#define CART_IMAGE_MAX    512
#define CART_ITEMS_MAX    1000  /* a stored cart never holds more (config max 1000) */

/* One line as stored. */
struct cart_item {
	char sku[CART_SKU_MAX + 1];
	bson_oid_t product_id;
	int64_t quantity;
	int64_t price_at_add;
	char currency[4];
};

/* A stored cart, read whole. items is malloc'd; cart_doc_free() it. */
struct cart_doc {
	bson_oid_t id;
	bool guest;
	int64_t expires_at;
	struct cart_item *items;
	size_t nitems;
	char coupon[CART_COUPON_CODE_MAX + 1];
};

void cart_doc_free(struct cart_doc *c);

/* The catalog's truth about a SKU, now (read from `products`, catalog.h). */
struct cart_variant {
	bool found;         /* a product (not deleted) has this variant */
	bool active;        /* and it is active (not draft, archived) */
	bson_oid_t product_id;
	bool has_category;
	bson_oid_t category_id;
	char title[CART_TITLE_MAX + 1];
	char slug[128];
	char image[CART_IMAGE_MAX + 1];
	int64_t price;
	char currency[4];
	int64_t stock;
	bool low_stock;
	/* the variant's options (string values), as stored: rendered and
	 * copied into an order without a detour through json-c; owned,
	 * bson_destroy it (cart_variants_free does) */
	bson_t *options;
};

void cart_variants_free(struct cart_variant *v, size_t n);

/* ---- quotes (quote.c): what the summary shows and an order charges ---- */

/* One stored line of a quoted cart. */
struct cart_quote_item {
	const char *sku;                  /* borrowed from the cart */
	int64_t quantity;
	int64_t price_at_add;
	const struct cart_variant *variant; /* the catalog's state now */
	long line;                        /* index into lines[], -1: not sellable */
};

struct cart_quote {
	bool found;                  /* the account has a cart (cart_quote_user) */
	bson_oid_t cart_id;
	struct cart_doc *doc;        /* the cart read (borrowed or owned) */
	struct cart_variant *vars;   /* [nitems] */
	struct cart_quote_item *items; /* [nitems]: every stored line */
	size_t nitems;
	struct pricing_line *lines;  /* [nlines]: the sellable lines, priced */
	size_t nlines;
	struct pricing_result result;
	char coupon_code[CART_COUPON_CODE_MAX + 1]; /* "" when the cart has none */
	struct cart_coupon *coupon;  /* its stored state, when coupon_applies */
	bool coupon_applies;
	const char *coupon_reason;   /* why it does not apply (a reason code), or NULL */
	bool unavailable;            /* a line's product is no longer sold */
	bool short_stock;            /* a line wants more than is in stock */
	bool checkout_ready;         /* lines, all sellable and in stock, shipping
				      * quoted, no coupon problem */
	bool own_doc;
	struct cart_shipping *ship;  /* owned by cart_quote_user's quotes */
};

/*
 * Prices the account's cart inside session (NULL: no transaction), as the
 * summary does: the order placement's view of the cart. zone and method
 * may be NULL (shipping not quoted / the first method). berr receives a
 * driver error, for a transaction's retry decision.
 */
bool cart_quote_user(struct em_store *st, mongoc_client_session_t *session,
		     const struct em_config *cfg, const bson_oid_t *user, const char *zone,
		     const char *method, struct cart_quote *q, bson_error_t *berr,
		     struct em_error *err);
void cart_quote_release(struct cart_quote *q);

/* The zone of an address's city, with the configured shipping (cart_quote_user's). */
const char *cart_quote_zone_for_city(const struct cart_quote *q, const char *city);



#endif
