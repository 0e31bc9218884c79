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
};

static const struct jobs_periodic orders_periodics[] = {
	/* unpaid card orders give their stock back (guarded: exactly once) */
	{ "order_expiry", 10, orders_expiry_sweep },
	{ NULL, 0, NULL },
};

const struct em_module orders_module = {
	.name = "orders",
	.routes = orders_route_tables,
	.indexes = orders_indexes,
	.nindexes = EM_COUNT(orders_indexes),
	.periodics = orders_periodics,
	.config = &orders_config_section,
};
