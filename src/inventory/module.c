/*
 * module.c - the inventory module: stock adjustments with an audit trail
 * and low-stock alerts (stock itself lives on the catalog's variants).
 */
#include "app/module.h"
#include "inventory/inventory.h"
#include "inventory/inventory_routes.h"

static const struct em_route_table *const inventory_route_tables[] = {
	&inventory_routes,
	NULL,
};

static const struct store_index inventory_indexes[] = {
	/* the adjustment log of one SKU, newest first */
	{ "inventory_adjustments", "sku_at", "{\"sku\": 1, \"at\": -1}", "{}" },
	/* the adjustments list, all SKUs or one, newest first, keyset (at, _id) */
	{ "inventory_adjustments", "at_id", "{\"at\": -1, \"_id\": -1}", "{}" },
	{ "inventory_adjustments", "sku_at_id", "{\"sku\": 1, \"at\": -1, \"_id\": -1}", "{}" },
	/* an Idempotency-Key moves stock once: one adjustment per (by, key) */
	{ "inventory_adjustments", "by_idem_key_unique", "{\"by\": 1, \"idem_key\": 1}",
	  "{\"unique\": true, \"partialFilterExpression\": {\"idem_key\": {\"$exists\": true}}}" },
};

/* What MongoDB itself refuses to store for this module (migrate puts it
 * in place): int64 money and quantities, enums, required fields. */
static const struct store_validator inventory_validators[] = {
	{ "inventory_adjustments",
	  "{\"bsonType\": \"object\", \"required\": [\"sku\", \"delta\", \"stock_before\", "
	  "\"stock_after\", \"at\"], \"properties\": {\"sku\": {\"bsonType\": \"string\", "
	  "\"maxLength\": 64, \"minLength\": 1}, \"delta\": {\"bsonType\": \"long\"}, "
	  "\"stock_before\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"stock_after\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"idem_key\": {\"bsonType\": \"string\", \"minLength\": 1, \"maxLength\": 255}, "
	  "\"at\": {\"bsonType\": \"date\"}}}" },
};

const struct em_module inventory_module = {
	.name = "inventory",
	.routes = inventory_route_tables,
	.indexes = inventory_indexes,
	.nindexes = EM_COUNT(inventory_indexes),
	.validators = inventory_validators,
	.nvalidators = EM_COUNT(inventory_validators),
};
