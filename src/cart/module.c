/*
 * module.c - the cart module: carts for accounts and guests, favorites,
 * coupons (staff), and the order summary from the pricing engine.
 */
#include <stdlib.h>

#include "app/module.h"
#include "cart/cart.h"
#include "cart/cart_internal.h"
#include "core/alloc.h"

static const struct em_config_entry cart_config_entries[] = {
	{ { "EMPORIUM_GUEST_CART_TTL", "2592000",
	    "seconds a guest cart lives after its last change (default 30 days)" },
	  EM_CFG_INT, 3600, 31536000, EM_CFG_FIELD_NUM(struct cart_config, guest_ttl_s) },
	{ { "EMPORIUM_CART_MAX_LINES", "100", "most lines (SKUs) in one cart" },
	  EM_CFG_INT, 1, 1000, EM_CFG_FIELD_NUM(struct cart_config, max_lines) },
	{ { "EMPORIUM_CART_MAX_QTY", "99", "largest quantity of one cart line" },
	  EM_CFG_INT, 1, 100000, EM_CFG_FIELD_NUM(struct cart_config, max_qty) },
	{ { "EMPORIUM_PRICES_INCLUDE_TAX", "true",
	    "true: catalog prices include tax (the summary shows the tax inside them);\n"
	    "false: tax is added on top" },
	  EM_CFG_BOOL, 0, 0, EM_CFG_FIELD_NUM(struct cart_config, prices_include_tax) },
	{ { "EMPORIUM_TAX_RATE_BP", "0",
	    "tax rate in basis points (1500 = 15 %), applied per line after discounts" },
	  EM_CFG_INT, 0, 10000, EM_CFG_FIELD_NUM(struct cart_config, tax_rate_bp) },
	{ { "EMPORIUM_SHIPPING_METHODS",
	    "standard:inside_dhaka=6000,outside_dhaka=12000,free_over=500000",
	    "shipping methods separated by ';', each name:zone=price,...[,free_over=amount]\n"
	    "(minor units; free_over: free when the goods after discount reach it);\n"
	    "the first is the default method" },
	  EM_CFG_STR, 1, 0, EM_CFG_FIELD_STR(struct cart_config, shipping_methods) },
	{ { "EMPORIUM_SHIPPING_ZONE_CITIES", "Dhaka=inside_dhaka",
	    "city=zone pairs separated by ';': the zone of an address by its city\n"
	    "(case-insensitive)" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct cart_config, shipping_cities) },
	{ { "EMPORIUM_SHIPPING_DEFAULT_ZONE", "outside_dhaka",
	    "the zone of an address whose city is not listed" },
	  EM_CFG_STR, 1, 0, EM_CFG_FIELD_STR(struct cart_config, shipping_default_zone) },
};

/* The shipping texts must parse, so a bad one stops the process at start. */
static bool cart_config_check(const void *values, struct em_error *err)
{
	const struct cart_config *cc = values;
	struct cart_shipping *s = xmalloc(sizeof *s);
	bool ok = cart_shipping_parse(cc->shipping_methods, cc->shipping_cities,
				      cc->shipping_default_zone, s, err);

	free(s);
	return ok;
}

const struct em_config_section cart_config_section = {
	.name = "cart",
	.title = "carts, coupons, shipping and tax",
	.entries = cart_config_entries,
	.count = EM_COUNT(cart_config_entries),
	.size = sizeof(struct cart_config),
	.check = cart_config_check,
};

static const struct em_route_table *const cart_route_tables[] = {
	&cart_routes,
	&cart_favorite_routes,
	&cart_coupon_admin_routes,
	NULL,
};

/* The indexes that serve this module's queries (emporium-admin migrate). */
static const struct store_index cart_indexes[] = {
	/* one cart per account; partial, so guest carts (no user_id) do not collide */
	{ "carts", "user_unique", "{\"user_id\": 1}",
	  "{\"unique\": true, \"partialFilterExpression\": {\"user_id\": {\"$exists\": true}}}" },
	/* a guest's cart is found by its token's hash */
	{ "carts", "token_unique", "{\"token_hash\": 1}",
	  "{\"unique\": true, \"partialFilterExpression\": {\"token_hash\": {\"$exists\": true}}}" },
	/* guest carts go when they expire (account carts have no expires_at) */
	{ "carts", "expires_at_ttl", "{\"expires_at\": 1}", "{\"expireAfterSeconds\": 0}" },
	/* one entry per product; also serves a user's list */
	{ "favorites", "user_product_unique", "{\"user_id\": 1, \"product_id\": 1}",
	  "{\"unique\": true}" },
	{ "favorites", "user_id", "{\"user_id\": 1, \"_id\": 1}", "{}" },
	/* codes are case-insensitive: the lower-case key is unique */
	{ "coupons", "code_key_unique", "{\"code_key\": 1}", "{\"unique\": true}" },
	/* the per-customer limit counts a customer's redemptions of a coupon */
	{ "coupon_redemptions", "coupon_user", "{\"coupon_id\": 1, \"user_id\": 1}", "{}" },
};

static const struct em_admin_cmd cart_admin_cmds[] = {
	{ "seed-demo-coupons", "load the demo coupons WELCOME10, FLAT200, FREESHIP (idempotent)",
	  cart_cmd_seed_coupons },
	{ NULL, NULL, NULL },
};

/* What MongoDB itself refuses to store for this module (migrate puts it
 * in place): int64 money and quantities, enums, required fields. */
static const struct store_validator cart_validators[] = {
	{ "carts",
	  "{\"bsonType\": \"object\", "
	  "\"properties\": {\"user_id\": {\"bsonType\": \"objectId\"}, "
	  "\"token_hash\": {\"bsonType\": \"string\", \"maxLength\": 64, "
	  "\"minLength\": 64}, \"items\": {\"bsonType\": \"array\", "
	  "\"items\": {\"bsonType\": \"object\", \"required\": [\"sku\", \"quantity\"], "
	  "\"properties\": {\"sku\": {\"bsonType\": \"string\", \"maxLength\": 64, "
	  "\"minLength\": 1}, \"quantity\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"price_at_add\": {\"bsonType\": \"long\", \"minimum\": 0}}}}}}" },
	{ "coupons",
	  "{\"bsonType\": \"object\", \"required\": [\"code\", \"code_key\", \"type\", "
	  "\"used_count\", \"active\"], "
	  "\"properties\": {\"code\": {\"bsonType\": \"string\", \"maxLength\": 32, "
	  "\"minLength\": 1}, \"code_key\": {\"bsonType\": \"string\", \"maxLength\": 32, "
	  "\"minLength\": 1}, \"type\": {\"enum\": [\"percent\", \"fixed\", "
	  "\"free_shipping\"]}, \"percent_bp\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"amount\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"max_discount\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"min_subtotal\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"usage_limit\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"usage_limit_per_customer\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"used_count\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"active\": {\"bsonType\": \"bool\"}}}" },
	{ "coupon_redemptions",
	  "{\"bsonType\": \"object\", \"required\": [\"coupon_id\", \"user_id\", "
	  "\"order_id\"], \"properties\": {\"coupon_id\": {\"bsonType\": \"objectId\"}, "
	  "\"user_id\": {\"bsonType\": \"objectId\"}, "
	  "\"order_id\": {\"bsonType\": \"objectId\"}}}" },
};

const struct em_module cart_module = {
	.name = "cart",
	.routes = cart_route_tables,
	.indexes = cart_indexes,
	.nindexes = EM_COUNT(cart_indexes),
	.validators = cart_validators,
	.nvalidators = EM_COUNT(cart_validators),
	.admin_cmds = cart_admin_cmds,
	.config = &cart_config_section,
};
