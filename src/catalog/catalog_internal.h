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
