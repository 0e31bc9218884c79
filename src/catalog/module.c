/*
 * module.c - the catalog module: categories, products with variants,
 * search, filters and facets, staff product management with versions.
 */
#include "app/module.h"
#include "catalog/catalog.h"
#include "catalog/catalog_internal.h"

static const struct em_config_entry catalog_config_entries[] = {
	{ { "EMPORIUM_LOW_STOCK_PUBLIC", "5",
	    "the public catalog says \"only N left\" for a variant with 1..N in stock\n"
	    "and never shows exact stock (staff routes do); 0: never" },
	  EM_CFG_INT, 0, 100, EM_CFG_FIELD_NUM(struct catalog_config, low_stock_public) },
};

const struct em_config_section catalog_config_section = {
	.name = "catalog",
	.title = "catalog",
	.entries = catalog_config_entries,
	.count = EM_COUNT(catalog_config_entries),
	.size = sizeof(struct catalog_config),
};

static const struct em_route_table *const catalog_route_tables[] = {
	&catalog_category_routes,
	&catalog_product_routes,
	&catalog_admin_product_routes,
	NULL,
};

/*
 * The indexes that serve the catalog's queries
 * (emporium-admin migrate). Public lists always filter on status and
 * deleted_at, then sort by created_at + _id (newest), min_price + _id (price),
 * title + _id or the text score (best selling sorts on sold_units defaulted
 * to 0 for never-sold products, computed, so it sorts in memory); the filters
 * on category, brand and the variant fields have their own indexes (brand
 * and option values match case-insensitively, by an anchored pattern, so
 * those indexes bound the scan rather than seek). category_visible serves
 * the category tree's counts.
 */
static const struct store_index catalog_indexes[] = {
	{ "categories", "slug_unique", "{\"slug\": 1}", "{\"unique\": true}" },
	{ "categories", "parent_position", "{\"parent_id\": 1, \"position\": 1}", "{}" },
	{ "products", "slug_unique", "{\"slug\": 1}", "{\"unique\": true}" },
	/* multikey unique: a SKU in two products is refused (repeats inside
	 * one product are refused in catalog_product_build) */
	{ "products", "variants_sku_unique", "{\"variants.sku\": 1}", "{\"unique\": true}" },
	/* search_text: the attribute and option values (catalog_product_build).
	 * A database made before it holds the older text index under this
	 * name: drop it once before migrating (MongoDB keeps one text index
	 * per collection and refuses to change one in place). */
	{ "products", "text_search",
	  "{\"title\": \"text\", \"brand\": \"text\", \"variants.sku\": \"text\","
	  " \"search_text\": \"text\", \"description\": \"text\"}",
	  "{\"weights\": {\"title\": 10, \"brand\": 5, \"variants.sku\": 5, \"search_text\": 3,"
	  " \"description\": 1}, \"default_language\": \"english\"}" },
	{ "products", "visible_newest", "{\"status\": 1, \"deleted_at\": 1, \"created_at\": -1, \"_id\": -1}", "{}" },
	{ "products", "visible_title",
	  "{\"status\": 1, \"deleted_at\": 1, \"title\": 1, \"_id\": 1}", "{}" },
	{ "products", "category_visible", "{\"category_id\": 1, \"status\": 1, \"deleted_at\": 1}",
	  "{}" },
	{ "products", "visible_price",
	  "{\"status\": 1, \"deleted_at\": 1, \"min_price\": 1, \"_id\": 1}", "{}" },
	{ "products", "category_price",
	  "{\"category_id\": 1, \"status\": 1, \"min_price\": 1, \"_id\": 1}", "{}" },
	{ "products", "brand_price", "{\"brand\": 1, \"status\": 1, \"min_price\": 1, \"_id\": 1}",
	  "{}" },
	{ "products", "variant_size_color",
	  "{\"variants.options.size\": 1, \"variants.options.color\": 1}", "{}" },
	{ "products", "variant_color", "{\"variants.options.color\": 1}", "{}" },
	{ "products", "variant_price", "{\"variants.price\": 1}", "{}" },
	{ "products", "variant_stock", "{\"variants.stock\": 1}", "{}" },
	{ "products", "low_stock", "{\"variants.low_stock\": 1, \"_id\": -1}", "{}" },
	{ "product_versions", "product_version_unique", "{\"product_id\": 1, \"version\": -1}",
	  "{\"unique\": true}" },
};

static const struct em_admin_cmd catalog_admin_cmds[] = {
	{ "seed-demo", "load the demo catalog (idempotent)", catalog_cmd_seed_demo },
	{ NULL, NULL, NULL },
};

/* What MongoDB itself refuses to store for this module (migrate puts it
 * in place): int64 money and quantities, enums, required fields. */
static const struct store_validator catalog_validators[] = {
	{ "products",
	  "{\"bsonType\": \"object\", \"required\": [\"title\", \"slug\", \"status\", "
	  "\"variants\", \"version\"], "
	  "\"properties\": {\"title\": {\"bsonType\": \"string\", \"maxLength\": 200, "
	  "\"minLength\": 1}, \"slug\": {\"bsonType\": \"string\", \"maxLength\": 100, "
	  "\"minLength\": 1}, \"status\": {\"enum\": [\"draft\", \"active\", "
	  "\"archived\"]}, \"min_price\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"max_price\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"total_stock\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"version\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"variants\": {\"bsonType\": \"array\", \"items\": {\"bsonType\": \"object\", "
	  "\"required\": [\"sku\", \"price\", \"stock\"], "
	  "\"properties\": {\"sku\": {\"bsonType\": \"string\", \"maxLength\": 64, "
	  "\"minLength\": 1}, \"price\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"compare_at_price\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"stock\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"low_stock_threshold\": {\"bsonType\": \"long\", \"minimum\": 0}}}}}}" },
};

const struct em_module catalog_module = {
	.name = "catalog",
	.routes = catalog_route_tables,
	.indexes = catalog_indexes,
	.nindexes = EM_COUNT(catalog_indexes),
	.validators = catalog_validators,
	.nvalidators = EM_COUNT(catalog_validators),
	.admin_cmds = catalog_admin_cmds,
	.config = &catalog_config_section,
};
