/*
 * catalog.h - categories, products with variants, search and versions.
 *
 * Collections (all money is BSON int64 in minor units of `currency`):
 *
 *   categories { _id, slug (unique), name, parent_id: ObjectId|null,
 *                position: int32, created_at, updated_at }
 *
 *   products   { _id, slug (unique), title, description, brand,
 *                category_id: ObjectId|null, attributes: {name: string},
 *                images: [{id, url, alt, position, width, height,
 *                          content_type}]   (written by src/media),
 *                status: "draft"|"active"|"archived", currency: "BDT",
 *                options: ["size", "color", ...]  (the option names the
 *                                                  variants may use),
 *                variants: [{ sku (unique across the shop), options:
 *                             {name: value}, price: int64,
 *                             compare_at_price: int64 (optional),
 *                             stock: int64, low_stock_threshold: int64,
 *                             weight_grams: int64 (optional),
 *                             low_stock: bool (stock < threshold),
 *                             low_stock_alerts: int64 (downward
 *                             crossings so far: the alert dedupe key) }],
 *                min_price, max_price, total_stock: int64 (denormalised
 *                from the variants, for sorting and filtering),
 *                version: int64 (bumped by every content change; If-Match),
 *                stock_rev: int64 (bumped by every stock change; part of
 *                the ETag, because stock is not versioned content),
 *                created_at, updated_at, created_by, updated_by,
 *                deleted_at: date|null, deleted_by }
 *
 *   product_versions { _id, product_id, version, snapshot: <the whole
 *                product document before the change>, action, changed_by,
 *                changed_at }
 *
 * Every change made through this module (PATCH, delete, restore, version
 * restore) writes the previous document into product_versions and the
 * new one in ONE transaction. src/media changes `images` with $push/$pull
 * and `$inc: {version: 1}` without saving a version: image changes show
 * up as a gap in the version list, and restoring a version keeps the
 * product's current images (the files belong to media).
 */
#ifndef EM_CATALOG_CATALOG_H
#define EM_CATALOG_CATALOG_H

#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"
#include "store/txn.h"

#define CATALOG_SLUG_MAX        100
#define CATALOG_SKU_MAX         64
#define CATALOG_TITLE_MAX       200
#define CATALOG_DESCRIPTION_MAX 10000
#define CATALOG_BRAND_MAX       100
#define CATALOG_NAME_MAX        100
#define CATALOG_OPTION_MAX      5      /* option names per product */
#define CATALOG_VARIANTS_MAX    100
#define CATALOG_PRICE_MAX       INT64_C(1000000000000) /* 10^12 minor units */
#define CATALOG_STOCK_MAX       INT64_C(1000000000)
#define CATALOG_LIMIT_DEFAULT   20

/*
 * For other modules (media): is there a product with this _id? Deleted
 * products count only with include_deleted. False with EM_ERR_NOT_FOUND
 * when there is none, or another kind when the database failed.
 */
bool catalog_product_exists(struct em_store *st, const bson_oid_t *id, bool include_deleted,
			    struct em_error *err);

/* What a stored variant holds besides its content (catalog_variant_find). */
struct catalog_variant_state {
	int64_t stock;
	int64_t threshold;  /* low_stock_threshold */
	int64_t alerts;     /* low_stock_alerts: downward crossings so far */
	bool low;           /* the stored low_stock flag */
};

/*
 * Finds the variant with this SKU in a stored product document (product
 * may be NULL) and fills *out (zeroed when there is none). The one walk
 * over variants that inventory and product edits share.
 */
bool catalog_variant_find(const bson_t *product, const char *sku,
			  struct catalog_variant_state *out);

/* Slugs: 1..100 of [a-z0-9-], not starting or ending with '-'. */
bool catalog_slug_valid(const char *s);
/* SKUs: 1..64 of [A-Za-z0-9._-]. */
bool catalog_sku_valid(const char *s);
/* Option names: 1..20 of [a-z_]. */
bool catalog_option_name_valid(const char *s);

/*
 * Builds the editable part of a product document from request JSON:
 * title, slug, description, brand, category_id, attributes, status,
 * currency (default_currency when absent), options, variants, and the
 * denormalised min_price, max_price, total_stock. Every value is checked
 * and appended with a typed bson call; unknown keys, wrong types, bad
 * money, unknown option names and SKUs repeated within the product fail
 * with EM_ERR_INVALID naming the field ("variants[2].price").
 *
 * old, when not NULL, is the stored product: an existing SKU keeps its
 * stored stock and alert counter (stock changes go through inventory
 * adjustments), a new SKU takes the given stock (default 0).
 * category_id is only checked for form here; the caller checks it exists.
 */
bool catalog_product_build(json_object *in, const char *default_currency, const bson_t *old,
			   bson_t *out, struct em_error *err);

/*
 * The keyset pagination cursor: an opaque base64url string holding the
 * sort it belongs to (one letter), the sort key (an int64 or a double
 * as its exact bits) and the _id of the last item.
 */
struct catalog_cursor {
	char sort;          /* 'n' newest, 'a' price_asc, 'd' price_desc, 'r' relevance, 'i' id */
	int64_t ival;
	double dval;
	bson_oid_t id;
};

/* Writes the cursor into out (size >= 96). */
void catalog_cursor_encode(const struct catalog_cursor *c, char *out, size_t size);
/* Parses a cursor; false (EM_ERR_INVALID, field "cursor") on anything malformed. */
bool catalog_cursor_decode(const char *s, struct catalog_cursor *c, struct em_error *err);

#endif
