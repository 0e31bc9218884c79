/*
 * module.c - the orders module: placement, the workflow, tracking, the
 * customer's order mails, and the sweep that cancels unpaid card orders.
 */
#include "app/module.h"
#include "orders/orders.h"
#include "orders/orders_internal.h"

static const struct em_config_entry orders_config_entries[] = {
	{ { "EMPORIUM_COD_ENABLED", "true", "offer cash on delivery (true or false)" },
	  EM_CFG_BOOL, 0, 0, EM_CFG_FIELD_NUM(struct orders_config, cod_enabled) },
	{ { "EMPORIUM_COD_MAX_TOTAL", "0",
	    "largest order total (minor units) payable on delivery; 0 = no limit" },
	  EM_CFG_SIZE, 0, INT64_C(1000000000000), EM_CFG_FIELD_NUM(struct orders_config, cod_max_total) },
	{ { "EMPORIUM_ORDER_PAYMENT_TIMEOUT", "1800",
	    "seconds an unpaid card order holds its stock; then it is cancelled" },
	  EM_CFG_INT, 60, 604800, EM_CFG_FIELD_NUM(struct orders_config, payment_timeout_s) },
	{ { "EMPORIUM_RETURN_WINDOW_DAYS", "7", "days after delivery a return may be asked for" },
	  EM_CFG_INT, 0, 365, EM_CFG_FIELD_NUM(struct orders_config, return_window_days) },
	{ { "EMPORIUM_CARRIER_TRACKING_URLS", "",
	    "carrier=URL pairs separated by ';', {tracking} standing for the number\n"
	    "(e.g. pathao=https://merchant.pathao.com/tracking?consignment_id={tracking})" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct orders_config, carrier_urls) },
};

const struct em_config_section orders_config_section = {
	.name = "orders",
	.title = "orders",
	.entries = orders_config_entries,
	.count = EM_COUNT(orders_config_entries),
	.size = sizeof(struct orders_config),
};

static const struct em_route_table *const orders_route_tables[] = {
	&orders_routes,
	&orders_admin_routes,
	&orders_returns_routes,
	NULL,
};

static const struct store_index orders_indexes[] = {
	/* numbers are shown to people and typed into tracking: one each */
	{ "orders", "number_unique", "{\"number\": 1}", "{\"unique\": true}" },
	/* a customer's orders, newest first */
	{ "orders", "user_id", "{\"user_id\": 1, \"_id\": -1}", "{}" },
	/* the admin list by status, newest first; the expiry sweep */
	{ "orders", "status_id", "{\"status\": 1, \"_id\": -1}", "{}" },
	{ "orders", "status_expires", "{\"status\": 1, \"expires_at\": 1}", "{}" },
	{ "orders", "email_id", "{\"email\": 1, \"_id\": -1}", "{}" },
	{ "orders", "created_at", "{\"created_at\": -1}", "{}" },
	/* Idempotency-Key: one per account and key; kept 24 h */
	{ "idempotency_keys", "user_key_unique", "{\"user_id\": 1, \"key\": 1}",
	  "{\"unique\": true}" },
	{ "idempotency_keys", "created_at_ttl", "{\"created_at\": 1}",
	  "{\"expireAfterSeconds\": 86400}" },
	/* a cancel removes its order's redemption (the cart module indexes
	 * them by coupon and customer, for the per-customer limit) */
	{ "coupon_redemptions", "order_id", "{\"order_id\": 1}", "{}" },
	/* an order's returns (listed, and summed for what is still open) */
	{ "order_returns", "order_status", "{\"order_id\": 1, \"status\": 1}", "{}" },
	/* the staff's queue of returns in one state, newest first */
	{ "order_returns", "created_id", "{\"created_at\": -1, \"_id\": -1}", "{}" },
	{ "order_returns", "status_created_id",
	  "{\"status\": 1, \"created_at\": -1, \"_id\": -1}", "{}" },
	/* one customer's returns in the queue (?email=) */
	{ "order_returns", "user_created_id",
	  "{\"user_id\": 1, \"created_at\": -1, \"_id\": -1}", "{}" },
};

static const struct jobs_periodic orders_periodics[] = {
	/* unpaid card orders give their stock back (guarded: exactly once) */
	{ "order_expiry", 10, orders_expiry_sweep },
	{ NULL, 0, NULL },
};

/* What MongoDB itself refuses to store for this module (migrate puts it
 * in place): int64 money and quantities, enums, required fields. */
static const struct store_validator orders_validators[] = {
	{ "orders",
	  "{\"bsonType\": \"object\", \"required\": [\"number\", \"user_id\", \"status\", "
	  "\"payment_method\", \"payment_status\", \"currency\", \"lines\", \"subtotal\", "
	  "\"discount\", \"shipping\", \"tax\", \"total\", \"version\", \"created_at\"], "
	  "\"properties\": {\"number\": {\"bsonType\": \"string\", "
	  "\"pattern\": \"^EM-[0-9]{4}-[0-9]{6,12}$\"}, "
	  "\"user_id\": {\"bsonType\": \"objectId\"}, "
	  "\"email\": {\"bsonType\": \"string\", \"maxLength\": 254}, "
	  "\"status\": {\"enum\": [\"pending\", \"payment_review\", \"processing\", "
	  "\"shipped\", \"delivered\", \"returned\", \"cancelled\"]}, "
	  "\"payment_method\": {\"enum\": [\"sslcommerz\", \"cod\"]}, "
	  "\"payment_status\": {\"bsonType\": \"string\", \"maxLength\": 32}, "
	  "\"currency\": {\"bsonType\": \"string\", \"maxLength\": 3, \"minLength\": 3}, "
	  "\"lines\": {\"bsonType\": \"array\", \"minItems\": 1, \"maxItems\": 1000, "
	  "\"items\": {\"bsonType\": \"object\", \"required\": [\"sku\", \"quantity\", "
	  "\"unit_price\", \"line_total\", \"discount\", \"tax\"], "
	  "\"properties\": {\"sku\": {\"bsonType\": \"string\", \"maxLength\": 64, "
	  "\"minLength\": 1}, \"quantity\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"unit_price\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"line_total\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"discount\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"tax\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"returned_quantity\": {\"bsonType\": \"long\", \"minimum\": 0}}}}, "
	  "\"subtotal\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"discount\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"shipping\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"tax\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"total\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"note\": {\"bsonType\": [\"string\", \"null\"], \"maxLength\": 500}, "
	  "\"version\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"created_at\": {\"bsonType\": \"date\"}}}" },
	{ "idempotency_keys",
	  "{\"bsonType\": \"object\", \"required\": [\"user_id\", \"key\", "
	  "\"fingerprint\", \"state\", \"created_at\"], "
	  "\"properties\": {\"user_id\": {\"bsonType\": \"objectId\"}, "
	  "\"key\": {\"bsonType\": \"string\", \"maxLength\": 255, \"minLength\": 1}, "
	  "\"fingerprint\": {\"bsonType\": \"string\", \"maxLength\": 64, "
	  "\"minLength\": 64}, \"state\": {\"enum\": [\"running\", \"done\"]}, "
	  "\"created_at\": {\"bsonType\": \"date\"}}}" },
	{ "counters",
	  "{\"bsonType\": \"object\", \"required\": [\"seq\"], "
	  "\"properties\": {\"seq\": {\"bsonType\": \"long\", \"minimum\": 1}}}" },
	{ "order_returns",
	  "{\"bsonType\": \"object\", \"required\": [\"order_id\", \"user_id\", "
	  "\"status\", \"items\", \"reason\", \"version\", \"created_at\"], "
	  "\"properties\": {\"order_id\": {\"bsonType\": \"objectId\"}, "
	  "\"user_id\": {\"bsonType\": \"objectId\"}, "
	  "\"status\": {\"enum\": [\"requested\", \"approved\", \"rejected\", "
	  "\"received\"]}, "
	  "\"items\": {\"bsonType\": \"array\", \"minItems\": 1, \"maxItems\": 100, "
	  "\"items\": {\"bsonType\": \"object\", \"required\": [\"sku\", \"quantity\"], "
	  "\"properties\": {\"sku\": {\"bsonType\": \"string\", \"maxLength\": 64, "
	  "\"minLength\": 1}, \"quantity\": {\"bsonType\": \"long\", \"minimum\": 1}}}}, "
	  "\"reason\": {\"bsonType\": \"string\", \"maxLength\": 500, \"minLength\": 1}, "
	  "\"refund_amount\": {\"bsonType\": [\"long\", \"null\"], \"minimum\": 0}, "
	  "\"version\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"created_at\": {\"bsonType\": \"date\"}}}" },
};

const struct em_module orders_module = {
	.name = "orders",
	.routes = orders_route_tables,
	.indexes = orders_indexes,
	.nindexes = EM_COUNT(orders_indexes),
	.validators = orders_validators,
	.nvalidators = EM_COUNT(orders_validators),
	.periodics = orders_periodics,
	.config = &orders_config_section,
};
