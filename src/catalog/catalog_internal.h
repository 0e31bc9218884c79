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

/*
 * Resolves a category given by id (24 hex) or slug to its _id and the
 * _ids of it and all its descendants (appended to ids as an array's
 * elements "0", "1", ...). EM_ERR_NOT_FOUND when there is no such
 * category.
 */
bool catalog_category_subtree(struct em_store *st, const char *id_or_slug, bson_oid_t *root,
			      bson_t *ids, struct em_error *err);


/*
 * Checks the query string: only the listed parameter names, each at most
 * once, no value longer than 200 bytes or starting with '$'.
 */
bool catalog_query_check(struct em_request *req, const char *const *allowed,
			 struct em_error *err);

/*
 * Renders a product for the API: "id" for _id, internal fields dropped
 * (for the public also deleted/author fields and alert counters).
 */
json_object *catalog_product_render(const bson_t *doc, bool staff);

/* The product's strong ETag: "<id>-<version>-<stock_rev>" in quotes. */
void catalog_product_etag(const bson_t *doc, char *out, size_t size);

/* An empty 201/200 JSON helper: a new object or an INTERNAL error. */
json_object *catalog_json_object(struct em_error *err);

#endif
