/*
 * catalog.h - categories, products with variants, search and versions.
 *
 * Collections (all money is BSON int64 in minor units of `currency`):
 *
 *   categories { _id, slug (unique), name, parent_id: ObjectId|null,
 *                position: int32, created_at, updated_at,
 *                link_rev: int64 (incremented by a product write that puts
 *                a product into the category, in its transaction, so it
 *                conflicts with a concurrent delete; never shown) }
 *
 *   catalog_locks { _id: "categories", rev: int64 } - every change of the
 *                category tree increments rev first, inside its
 *                transaction, so two changes never run on one snapshot
 *                (a move checks for cycles and a delete for children
 *                against a tree nobody else is changing).
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
 *                the staff ETag, because stock is not versioned content;
 *                the public ETag is a digest of the public body instead,
 *                so it does not count sales),
 *                created_at, updated_at (the last content change: stock
 *                changes leave it, as they leave version), created_by,
 *                updated_by, deleted_at: date|null, deleted_by }
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

#include "core/config.h"
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
#define CATALOG_CURSOR_SIZE     128    /* an encoded cursor with its NUL */

/* ---- configuration (EMPORIUM_LOW_STOCK_PUBLIC) ---- */

struct catalog_config {
	/*
	 * The public catalog never shows exact stock: a variant shows
	 * in_stock, and "only N left" (low_stock_left) when 1 <= stock <= this
	 * value (0: never). Staff routes show the exact figures.
	 */
	int64_t low_stock_public;
};

extern const struct em_config_section catalog_config_section;

/* The catalog module's values in cfg. */
static inline const struct catalog_config *catalog_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &catalog_config_section);
}

/* The fields a product's request JSON may hold (create and PATCH), NULL-terminated. */
extern const char *const catalog_product_fields[];

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

/* The longest slug made from a title, leaving room for "-<n>". */
#define CATALOG_SLUG_BASE_MAX 80

/*
 * The slug of a title: ASCII letters lower-cased, digits kept, Latin
 * accents folded (e-acute -> e, sharp s -> ss, o-slash -> o, ...),
 * apostrophes dropped, anything else a dash; dashes collapsed and
 * trimmed; at most CATALOG_SLUG_BASE_MAX bytes. "" when nothing in the
 * title is usable (the caller picks a fallback).
 */
void catalog_slug_from_title(const char *title, char *out, size_t size);
/* SKUs: 1..64 of [A-Za-z0-9._-]. */
bool catalog_sku_valid(const char *s);
/* Option names: 1..20 of [a-z_]. */
bool catalog_option_name_valid(const char *s);

/*
 * Builds the editable part of a product document from request JSON:
 * title, slug, description, brand, category_id, attributes, status,
 * currency (default_currency when absent), options, option_order
 * (always written, {} when absent), variants, and the denormalised
 * min_price, max_price, total_stock and search_text (the attribute and
 * option values, for the text index). Every value is checked
 * and appended with a typed bson call; unknown keys, wrong types, bad
 * money, unknown option names and SKUs repeated within the product fail
 * with EM_ERR_INVALID, every fault collected with its path and code
 * ("variants[2].price" out_of_range, "variants[1].sku" not_unique); a
 * check that depends on a faulty field is skipped.
 *
 * old == NULL (a create): an absent or null slug is made from the
 * title (catalog_slug_from_title; "" when nothing is usable, which
 * catalog_product_create replaces and makes unique). old, when not NULL,
 * is the stored product (version restore): an existing SKU keeps its
 * stored stock and alert counter (stock changes go through inventory
 * adjustments), a new SKU takes the given stock (default 0).
 * category_id is only checked for form here; the caller checks it exists.
 */
bool catalog_product_build(json_object *in, const char *default_currency, const bson_t *old,
			   bson_t *out, struct em_error *err);

/*
 * The content of a PATCH: stored (the product's editable fields as
 * request JSON, without stock; modified) with patch's fields laid over
 * it, built as catalog_product_build does, every fault collected. On
 * top: a variant's stock is refused (422 rule_violation at
 * variants[i].stock: stock changes only through inventory
 * adjustments); variants_remove: [SKU...] removes variants, and a
 * variants list that leaves out a stored SKU not named there is refused
 * (422 rule_violation at "variants"); removing a variant that holds
 * stock is EM_ERR_CONFLICT (409) at variants_remove[i].
 */
bool catalog_product_patch_build(json_object *patch, json_object *stored,
				 const char *default_currency, const bson_t *old, bson_t *out,
				 struct em_error *err);

/* ---- lists ---- */

/*
 * One page of a keyset-paginated list: the documents in order (owned,
 * freed by catalog_page_release) and, when more follow, the opaque
 * cursor of the next page.
 */
struct catalog_page {
	bson_t **docs;
	size_t n;
	bool more;
	char next[CATALOG_CURSOR_SIZE];
};

void catalog_page_release(struct catalog_page *page);

/* ---- public product lists, facets and detail (products.c, facets.c) ---- */

/*
 * The public filters, already typed and bounded by the caller (the
 * strings belong to the request). Values within one filter are OR-ed,
 * filters are AND-ed. Option values and brands match case-insensitively
 * (exactly otherwise: an anchored, escaped pattern). Variant conditions
 * (options, price range, in stock) must hold for one and the same
 * variant.
 */
#define CATALOG_FILTER_VALUES_MAX  20   /* values of one filter */
#define CATALOG_FILTER_OPTIONS_MAX 5    /* option filters per request */
#define CATALOG_IDS_MAX            50   /* ids= per request */
#define CATALOG_VALUE_MAX          50   /* bytes of one option value */
#define CATALOG_Q_MAX              200  /* bytes of a search */

struct catalog_values {
	const char *v[CATALOG_FILTER_VALUES_MAX];
	size_t n;
};

/* One option filter: name is catalog_option_name_valid ([a-z_]{1,20}). */
struct catalog_option_filter {
	char name[24];
	struct catalog_values values;
};

enum catalog_match_mode {
	CATALOG_MATCH_ALL,     /* every word (or "quoted phrase") must appear */
	CATALOG_MATCH_ANY,     /* any word, stemmed (MongoDB's plain $text) */
	CATALOG_MATCH_PHRASE,  /* the whole q as one phrase */
};

struct catalog_filter {
	struct catalog_values categories;  /* ids or slugs; subcategories count too */
	struct catalog_values brands;
	const char *q;          /* full-text search; NULL or "": none */
	enum catalog_match_mode match;
	struct catalog_option_filter options[CATALOG_FILTER_OPTIONS_MAX]; /* size, color, option.* */
	size_t noptions;
	bool has_min_price, has_max_price;
	int64_t min_price, max_price;
	bool in_stock_only;
	bson_oid_t ids[CATALOG_IDS_MAX];  /* ids=: only these products */
	size_t nids;
};

/* The option filter named name in f, or NULL. */
struct catalog_option_filter *catalog_filter_option(struct catalog_filter *f, const char *name);

/* Sort orders of the public list (the cursor's sort letter). */
#define CATALOG_SORT_NEWEST       'n'
#define CATALOG_SORT_PRICE_ASC    'a'
#define CATALOG_SORT_PRICE_DESC   'd'
#define CATALOG_SORT_RELEVANCE    'r'
#define CATALOG_SORT_TITLE        't'
#define CATALOG_SORT_BEST_SELLING 'b'
/* every letter a cursor may carry: the sorts above and 'i' (the admin
 * list's _id order) */
#define CATALOG_CURSOR_SORTS "nadritb"

/*
 * The sort for ?sort= (NULL: relevance with q, else newest): newest,
 * price_asc, price_desc, title, best_selling, or relevance (only with
 * q). EM_ERR_INVALID on field "sort" otherwise.
 */
bool catalog_sort_parse(const char *name, bool has_q, char *sort, struct em_error *err);

/*
 * Active, non-deleted products passing f, sorted by sort, limit (1..100)
 * per page after cursor (NULL: the first page; a cursor of another sort
 * is EM_ERR_INVALID "cursor"). A category that does not exist is
 * EM_ERR_INVALID "category"; a search the database refuses, "q". The
 * documents carry "_score" under relevance.
 */
bool catalog_product_search(struct em_store *st, const struct catalog_filter *f, char sort,
			    int limit, const char *cursor, struct catalog_page *page,
			    struct em_error *err);

/*
 * Facet counts over the products passing f, disjunctive: each facet
 * counts with every filter but its own, so a sidebar can offer the other
 * values of a filter already chosen. The API's JSON {sizes, colors:
 * [{value, count}], options: {name: [...]} (the other filtered options),
 * brands: [...], categories: [{id, slug, name, count}], availability:
 * {in_stock, total}, price: {min, max, count}}. Sizes come in their
 * natural order (the products' option_order, then numbers numerically,
 * then the usual clothing scale, then by name). *out is a new reference.
 */
bool catalog_product_facets(struct em_store *st, const struct catalog_filter *f,
			    json_object **out, struct em_error *err);

/*
 * The visible products with the ids of f (and passing its other
 * filters), in the order of f->ids; ids that are not visible are left
 * out. page->more is false.
 */
bool catalog_product_by_ids(struct em_store *st, const struct catalog_filter *f,
			    struct catalog_page *page, struct em_error *err);

/*
 * Adds qty units to the sold_units counter of the product holding sku,
 * in session (the checkout's transaction): what sort=best_selling orders
 * by. Units placed, not net of cancellations or returns.
 */
bool catalog_product_sold_add(struct em_store *st, mongoc_client_session_t *session,
			      const char *sku, int64_t qty, bson_error_t *berr,
			      struct em_error *err);

/*
 * The visible (active, not deleted) product with this _id (24 hex) or
 * slug; *out a copy to bson_destroy. EM_ERR_NOT_FOUND when none.
 */
bool catalog_product_find_visible(struct em_store *st, const char *id_or_slug, bson_t **out,
				  struct em_error *err);

/* ---- staff product management (products.c, versions.c) ---- */

/* Any product by _id, drafts and deleted ones too; EM_ERR_NOT_FOUND when none. */
bool catalog_product_find(struct em_store *st, const bson_oid_t *id, bson_t **out,
			  struct em_error *err);

/*
 * Creates a product from request JSON (catalog_product_build; the
 * category must exist: EM_ERR_INVALID "category"; one transaction, so a
 * concurrent delete of the category cannot strand it), version 1, by actor
 * (may be NULL). A taken slug or SKU is EM_ERR_CONFLICT on "slug"/"sku";
 * a slug made from the title instead takes the next free -2, -3... (a
 * lost race on the unique index retries with the next).
 * *out is the stored document.
 */
bool catalog_product_create(struct em_store *st, const char *default_currency, json_object *in,
			    const bson_oid_t *actor, bson_t **out, struct em_error *err);

enum catalog_deleted { CATALOG_LIVE, CATALOG_DELETED, CATALOG_ALL };

/* What the staff list is narrowed to; NULL members narrow nothing. */
struct catalog_admin_query {
	enum catalog_deleted deleted;
	const char *status;   /* draft, active or archived */
	const char *q;        /* text search, every word must match (the public text index) */
	const char *sku;      /* a variant's exact SKU */
	const char *category; /* a category id or slug; its subcategories count too */
};

/*
 * Staff list, newest _id first (keyset: cursor after the last _id). An
 * unknown category is EM_ERR_INVALID "category".
 */
bool catalog_product_admin_list(struct em_store *st, const struct catalog_admin_query *aq,
				int limit, const char *cursor, struct catalog_page *page,
				struct em_error *err);

/*
 * A change of an existing product. Each runs in one transaction that
 * reads the product, checks if_match (when has_if_match) against its
 * version (EM_ERR_PRECONDITION "If-Match" when stale), saves the whole
 * previous document in product_versions with actor and time, and writes
 * the change with version + 1. *out is the product after the change.
 */
struct catalog_change {
	bson_oid_t id;
	bool has_if_match;
	int64_t if_match;
	const bson_oid_t *actor;     /* the staff member, or NULL */
	const char *currency;        /* the shop's default, for rebuilt content */
};

/* PATCH: patch's fields (catalog_product_fields) replace the stored ones. */
bool catalog_product_update(struct em_store *st, const struct catalog_change *c,
			    json_object *patch, bson_t **out, struct em_error *err);
/* Soft delete; EM_ERR_CONFLICT when already deleted. */
bool catalog_product_delete(struct em_store *st, const struct catalog_change *c, bson_t **out,
			    struct em_error *err);
/* Undoes a soft delete; EM_ERR_CONFLICT when not deleted. */
bool catalog_product_restore(struct em_store *st, const struct catalog_change *c, bson_t **out,
			     struct em_error *err);
/*
 * Brings back the content of version n (never its stock, and the current
 * images stay); EM_ERR_NOT_FOUND when the product has no such version.
 */
bool catalog_product_version_restore(struct em_store *st, const struct catalog_change *c,
				     int64_t n, bson_t **out, struct em_error *err);

/* The saved versions of a product, newest first; EM_ERR_NOT_FOUND without the product. */
bool catalog_product_versions(struct em_store *st, const bson_oid_t *id, int limit,
			      const char *cursor, struct catalog_page *page,
			      struct em_error *err);

/* ---- categories (categories.c) ---- */

/* A category's fields from a request, validated by the caller. */
struct catalog_category_in {
	const char *slug;        /* NULL: unchanged (update) */
	const char *name;        /* NULL: unchanged (update) */
	bool has_position;
	int64_t position;
	bool parent_set;         /* "parent" was given */
	bool has_parent;         /* ... and was an id, in parent */
	bson_oid_t parent;
};

/*
 * The whole tree as the API's JSON array of root categories, each with
 * its children (ordered by position, then name). A category whose parent
 * chain does not reach a root (a missing parent, or a cycle written by
 * other means) is listed as a root, so none disappears. *out is new.
 */
bool catalog_category_tree(struct em_store *st, json_object **out, struct em_error *err);

/*
 * Sets each node's product_count in a tree from catalog_category_tree:
 * the active, non-deleted products in the category or any of its
 * descendants (one aggregate grouping products by category_id).
 */
bool catalog_category_tree_count(struct em_store *st, json_object *roots, struct em_error *err);

/*
 * Every category as {hex id: {id, slug, name, path}}, path being the
 * breadcrumb [{id, slug, name}] from the root down to the category
 * itself. What a list page and a product detail show of a product's
 * category. *out is the caller's reference (json_object_put it) to the
 * index the worker's copy of the tree keeps (categories_cache.c): read
 * it, never change it.
 */
bool catalog_category_index(struct em_store *st, json_object **out, struct em_error *err);

/*
 * Create, update and delete, each one transaction that first takes the
 * tree's lock (catalog_locks), so concurrent changes serialise: the
 * parent must exist (EM_ERR_INVALID "parent") and a move may not put a
 * category below itself (EM_ERR_INVALID "parent"); a taken slug is
 * EM_ERR_CONFLICT "slug". *out is the stored category.
 */
bool catalog_category_create(struct em_store *st, const struct catalog_category_in *in,
			     bson_t **out, struct em_error *err);
bool catalog_category_update(struct em_store *st, const bson_oid_t *id,
			     const struct catalog_category_in *in, bson_t **out,
			     struct em_error *err);
/*
 * Deletes an empty leaf: EM_ERR_CONFLICT "category" while products (even
 * soft-deleted ones, which can be restored) or subcategories point at it.
 */
bool catalog_category_delete(struct em_store *st, const bson_oid_t *id, struct em_error *err);

/*
 * Resolves categories given by id (24 hex) or slug to the _ids of each
 * one and all its descendants (one read of the tree), appended to ids as
 * an array's elements "0", "1", ..., each _id once. EM_ERR_NOT_FOUND
 * when one of them does not exist.
 */
bool catalog_category_subtrees(struct em_store *st, const char *const *ids_or_slugs, size_t n,
			       bson_t *ids, struct em_error *err);

/* ---- cursors (catalog.c) ---- */

/*
 * The keyset pagination cursor: an opaque base64url string holding the
 * sort it belongs to (one letter), the sort key (an int64 or a double
 * as its exact bits) and the _id of the last item.
 */
struct catalog_cursor {
	char sort;          /* 'n' newest, 'a' price_asc, 'd' price_desc, 'r' relevance,
			       'i' id, 't' title (the last item's _id only: its title is
			       read back), 'b' best_selling */
	int64_t ival;
	double dval;
	bson_oid_t id;
};

/* Writes the cursor into out (size >= 96). */
void catalog_cursor_encode(const struct catalog_cursor *c, char *out, size_t size);
/* Parses a cursor; false (EM_ERR_INVALID, field "cursor") on anything malformed. */
bool catalog_cursor_decode(const char *s, struct catalog_cursor *c, struct em_error *err);

#endif
