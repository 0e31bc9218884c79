/*
 * cart_internal.h - what the cart module's own files share: the stored
 * cart, the catalog's view of a SKU, and the cart operations below the
 * routes. Not for other modules (their contract is cart.h / pricing.h).
 */
#ifndef EM_CART_CART_INTERNAL_H
#define EM_CART_CART_INTERNAL_H

#include <bson/bson.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>

#include "cart/cart.h"
#include "http/router.h"

/*
 * Loads the catalog's state of n SKUs into out[0..n-1] (one query). A SKU
 * of a deleted product, or one no product has, is found = false. session
 * may be NULL; berr (may be NULL) receives a driver error, for a
 * transaction's retry decision.
 */
bool cart_variants_load(struct em_store *st, mongoc_client_session_t *session,
			char *const *skus, size_t n, struct cart_variant *out, bson_error_t *berr,
			struct em_error *err);

/* The ancestors of a category, itself first, into chain (at most max). */
size_t cart_category_chain(const bson_t *parents, const bson_oid_t *cat, bson_oid_t *chain,
			   size_t max);
/* Reads every category's {_id: parent_id} into *parents (a bson map). */
bool cart_categories_load(struct em_store *st, bson_t *parents, struct em_error *err);

/* ---- carts (cart_store.c) ---- */

/* The caller's cart, from an account id or a guest token hash. */
bool cart_find_user(struct em_store *st, const bson_oid_t *user, struct cart_doc *out,
		    bool *found, struct em_error *err);
bool cart_find_guest(struct em_store *st, const char *token_hash, struct cart_doc *out,
		     bool *found, struct em_error *err);
/* An account's cart read inside a transaction's session (NULL: none);
 * berr (may be NULL) receives a driver error, for the retry decision. */
bool cart_find_user_in(struct em_store *st, mongoc_client_session_t *session,
		       const bson_oid_t *user, struct cart_doc *out, bool *found,
		       bson_error_t *berr, struct em_error *err);

/*
 * Prices doc (NULL: an empty cart) for user (NULL: a guest): the catalog's
 * current state of every line, the coupon coupon_code (NULL: none) under
 * its rules, and pricing_compute() with the shipping methods of ship, the
 * zone and the method (either may be NULL). q borrows doc and ship, which
 * must outlive it; cart_quote_release() frees the rest (quote.c).
 */
bool cart_quote_doc(struct em_store *st, mongoc_client_session_t *session,
		    const struct em_config *cfg, const struct cart_shipping *ship,
		    const struct cart_doc *doc, const bson_oid_t *user, const char *coupon_code,
		    const char *zone, const char *method, struct cart_quote *q, bson_error_t *berr,
		    struct em_error *err);
/* An account's cart, made when it has none (unique on user_id). */
bool cart_ensure_user(struct em_store *st, const bson_oid_t *user, bson_oid_t *id,
		      struct em_error *err);
/* A new guest cart expiring in ttl_s. */
bool cart_create_guest(struct em_store *st, const char *token_hash, int ttl_s, bson_oid_t *id,
		       struct em_error *err);

/*
 * Adds quantity of sku to the cart: to its line when there is one (never a
 * second line), else as a new line. Refused with EM_ERR_CONFLICT when the
 * line would pass max_qty ("quantity") or the cart holds max_lines lines
 * ("sku"); *line_qty is the line's quantity after the add. expires_at,
 * when not 0, renews a guest cart's expiry.
 */
bool cart_item_add(struct em_store *st, const bson_oid_t *cart, const char *sku,
		   const bson_oid_t *product_id, int64_t quantity, int64_t price,
		   const char *currency, int max_qty, int max_lines, int64_t expires_at,
		   int64_t *line_qty, struct em_error *err);
/* Sets a line's quantity (0 removes it); EM_ERR_NOT_FOUND without the line. */
bool cart_item_set(struct em_store *st, const bson_oid_t *cart, const char *sku,
		   int64_t quantity, int64_t expires_at, struct em_error *err);
/* Empties the cart (lines and coupon). */
bool cart_clear(struct em_store *st, const bson_oid_t *cart, int64_t expires_at,
		struct em_error *err);
/* Sets (code) or removes (NULL) the cart's coupon. */
bool cart_coupon_store(struct em_store *st, const bson_oid_t *cart, const char *code,
		       int64_t expires_at, struct em_error *err);

/* What a merge did (cart.h describes the rule). */
struct cart_merge_report {
	bool merged;
	size_t nlines;                       /* guest lines merged */
	char capped[16][CART_SKU_MAX + 1];   /* lines held at stock or max */
	size_t ncapped;
	char dropped[16][CART_SKU_MAX + 1];  /* lines over the line limit */
	size_t ndropped;
};

/*
 * Merges the guest cart of token_hash into the account's cart and deletes
 * it, in one transaction. No guest cart (already merged, expired,
 * unknown): report->merged false, true.
 */
bool cart_merge(struct em_store *st, const struct cart_config *cc, const bson_oid_t *user,
		const char *token_hash, struct cart_merge_report *report, struct em_error *err);

/* ---- coupons (coupon_store.c) ---- */

/* The coupon of a code key (lower-case), *found false when none. */
bool cart_coupon_find(struct em_store *st, const char *key, struct cart_coupon *c, bool *found,
		      struct em_error *err);
/* A customer's redemptions of a coupon and orders (not cancelled). */
bool cart_customer_counts(struct em_store *st, const bson_oid_t *coupon, const bson_oid_t *user,
			  int64_t *uses, int64_t *orders, struct em_error *err);

/* ---- routes ---- */
extern const struct em_route_table cart_routes;
extern const struct em_route_table cart_favorite_routes;
extern const struct em_route_table cart_coupon_admin_routes;

/*
 * Adds quantity of sku (of product, when not NULL) to the caller's cart,
 * making the cart when needed, and renders it: 201 when this request
 * created it, else 200 (cart_routes.c; the favorites' move-to-cart too).
 */
bool cart_add_and_render(struct em_request *req, const char *sku, int64_t quantity,
			 const bson_oid_t *product, struct em_error *err);

/* Longest query value the cart's routes take (em_request_query_check). */
#define CART_QUERY_VALUE_MAX 200

/* emporium-admin seed-demo-coupons (seed.c). */
int cart_cmd_seed_coupons(const struct em_config *cfg, int argc, char **argv);

#endif
