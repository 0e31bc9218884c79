/*
 * catalog_internal.h - what the catalog's route files share; not an API
 * for other modules (that is catalog.h).
 */
#ifndef EM_CATALOG_INTERNAL_H
#define EM_CATALOG_INTERNAL_H

#include "app/app.h"
#include "catalog/catalog.h"
#include "core/bsonjson.h"
#include "core/ids.h"
#include "core/time.h"
#include "http/router.h"

/* Route tables: categories, public products, staff products. */
extern const struct em_route_table catalog_category_routes;
extern const struct em_route_table catalog_product_routes;
extern const struct em_route_table catalog_admin_product_routes;

/* emporium-admin seed-demo: the demo catalog, idempotently (seed.c). */
int catalog_cmd_seed_demo(const struct em_config *cfg, int argc, char **argv);

/* Longest query value the catalog takes (em_request_query_check). */
#define CATALOG_QUERY_VALUE_MAX 200

/*
 * Renders a product for the API: "id" for _id, "category" for
 * category_id, internal fields dropped. For staff, everything else as
 * stored. For the public, no author or deletion fields and no stock
 * figure: each variant shows in_stock and low_stock_left (its stock when
 * 1..low_stock_public, else null), the product in_stock instead of
 * total_stock.
 */
json_object *catalog_product_render(const bson_t *doc, bool staff, int64_t low_stock_public);

/*
 * The public view of products: what a product card and a product page
 * show. Made once per request (the category index is one read of the
 * tree), used for every product of the answer.
 */
struct catalog_public_view {
	int64_t low_stock_public;
	const char *public_url;    /* EMPORIUM_PUBLIC_URL: local image URLs are made absolute */
	json_object *categories;   /* catalog_category_index, or NULL */
	bool detail;               /* the product page: with the breadcrumb */
};

bool catalog_public_view_init(struct em_request *req, bool detail,
			      struct catalog_public_view *view, struct em_error *err);
void catalog_public_view_release(struct catalog_public_view *view);

/*
 * A product as the public sees it: catalog_product_render's public form
 * without internal counters (version, sold_units, search_text) or
 * storage details, images with absolute URLs, "image" (the first image,
 * for a card: {url, alt, width, height} or null), "category_info"
 * ({id, slug, name} or null) and, on detail, "breadcrumbs" (root first).
 */
json_object *catalog_product_public_render(const bson_t *doc,
					   const struct catalog_public_view *view);

/* catalog_page_respond's render for public lists: ctx is the view. */
json_object *catalog_product_public_item(const bson_t *doc, void *ctx);

/*
 * catalog_product_public_render() as JSON bytes appended to b, without the
 * tree (product_json.c): the same bytes (test_render_bytes compares).
 */
struct em_jsonbuf;
void catalog_product_public_write(struct em_jsonbuf *b, const bson_t *doc,
				  const struct catalog_public_view *view);
/* catalog_page_respond() with catalog_product_public_item, written as bytes. */
bool catalog_page_respond_public(struct em_request *req, struct catalog_page *page,
				 const struct catalog_public_view *view);

/*
 * The category tree as read from the database (categories.c): every
 * category document, ordered by position then name, at most
 * CATALOG_CATEGORY_MAX of them.
 */
#define CATALOG_CATEGORY_MAX 5000

struct catalog_cat_row {
	bson_oid_t id;
	bson_oid_t parent;
	bool has_parent;
	bson_t *doc;
};

struct catalog_cat_rows {
	struct catalog_cat_row *rows;
	size_t n;
	size_t bytes; /* the documents' BSON sizes summed */
};

/* Loads every category (in session, if any: a transaction's snapshot). */
bool catalog_cat_rows_load(struct em_store *st, mongoc_client_session_t *session,
			   struct catalog_cat_rows *out, bson_error_t *berr, struct em_error *err);
void catalog_cat_rows_release(struct catalog_cat_rows *t);

/*
 * The per-process copy of the tree (categories_cache.c), for reads outside
 * a transaction. It hangs off the store (st->category_cache), which each
 * worker opens after fork(), so no two processes share one. A change of
 * the tree through the API increments catalog_locks "categories".rev in
 * its transaction; the copy re-reads that revision at most every
 * CATALOG_CATEGORY_CACHE_MS, reloads the rows when it moved (or when the
 * copy is older than CATALOG_CATEGORY_CACHE_MAX_AGE_MS, for changes made
 * by other means), and is dropped at once by a change made in this
 * process. A tree over CATALOG_CATEGORY_CACHE_BYTES is not kept: each use
 * reads it, as before the cache.
 */
#ifndef CATALOG_CATEGORY_CACHE_MS /* -D: test_category_cache shown to fail without it */
#define CATALOG_CATEGORY_CACHE_MS 1000
#endif
#define CATALOG_CATEGORY_CACHE_MAX_AGE_MS 60000
#ifndef CATALOG_CATEGORY_CACHE_BYTES
#define CATALOG_CATEGORY_CACHE_BYTES (1024 * 1024)
#endif

struct catalog_category_cache;

/* The rows for one use: the cache's (valid until the next get) or own. */
struct catalog_category_snap {
	const struct catalog_cat_rows *rows;
	struct catalog_category_cache *cache; /* NULL: rows is &own */
	struct catalog_cat_rows own;
};

bool catalog_category_snap_get(struct em_store *st, struct catalog_category_snap *s,
			       struct em_error *err);
void catalog_category_snap_release(struct catalog_category_snap *s);
/* The index built from the cached rows (a new reference), or NULL. */
json_object *catalog_category_snap_index(const struct catalog_category_snap *s);
/* Keeps index (takes a new reference) with the cached rows; nothing when uncached. */
void catalog_category_snap_index_keep(struct catalog_category_snap *s, json_object *index);
/* A change of the tree made in this process: the next use reloads. */
void catalog_category_cache_invalidate(struct em_store *st);
/*
 * For a change of the categories written outside the API's transactions
 * (seed-demo): moves the revision, so every worker's copy reloads within
 * CATALOG_CATEGORY_CACHE_MS.
 */
bool catalog_category_rev_bump(struct em_store *st, struct em_error *err);

/* The staff ETag of a product: "<id>-<version>-<stock_rev>" in quotes. */
void catalog_product_etag(const bson_t *doc, char *out, size_t size);

/* An empty 201/200 JSON helper: a new object or an INTERNAL error. */
json_object *catalog_json_object(struct em_error *err);

/*
 * Answers 200 {items, next_cursor} with render(doc, ctx) for each
 * document of page, then releases the page (also on failure:
 * EM_ERR_INTERNAL when an item cannot be rendered).
 */
bool catalog_page_respond(struct em_request *req, struct catalog_page *page,
			  json_object *(*render)(const bson_t *doc, void *ctx), void *ctx,
			  struct em_error *err);

/* The caller as an ObjectId for created_by/changed_by: buf, or NULL. */
const bson_oid_t *catalog_actor(const struct em_request *req, bson_oid_t *buf);

#endif
