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
