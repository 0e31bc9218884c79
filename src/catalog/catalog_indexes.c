#include "store/indexes.h"

/*
 * The indexes that serve the catalog's and the inventory's queries
 * (emporium-admin migrate). Public lists always filter on status and
 * deleted_at, then sort by created_at + _id (newest), min_price + _id (price) or the
 * text score; the filters on category, brand and the variant fields have
 * their own indexes.
 */
static const struct store_index catalog_indexes[] = {
	{ "categories", "slug_unique", "{\"slug\": 1}", "{\"unique\": true}" },
	{ "categories", "parent_position", "{\"parent_id\": 1, \"position\": 1}", "{}" },
	{ "products", "slug_unique", "{\"slug\": 1}", "{\"unique\": true}" },
	/* multikey unique: a SKU in two products is refused (repeats inside
	 * one product are refused in catalog_product_build) */
	{ "products", "variants_sku_unique", "{\"variants.sku\": 1}", "{\"unique\": true}" },
	{ "products", "text_search",
	  "{\"title\": \"text\", \"brand\": \"text\", \"variants.sku\": \"text\","
	  " \"description\": \"text\"}",
	  "{\"weights\": {\"title\": 10, \"brand\": 5, \"variants.sku\": 5, \"description\": 1},"
	  " \"default_language\": \"english\"}" },
	{ "products", "visible_newest", "{\"status\": 1, \"deleted_at\": 1, \"created_at\": -1, \"_id\": -1}", "{}" },
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
	{ "inventory_adjustments", "sku_at", "{\"sku\": 1, \"at\": -1}", "{}" },
};

const struct store_index_set catalog_index_set = STORE_INDEX_SET("catalog", catalog_indexes);
