/*
 * module.c - the payments module: SSLCOMMERZ sessions, IPNs and returns,
 * reconciliation, refunds, cash on delivery, and the payment log.
 */
#include <string.h>

#include "app/module.h"
#include "core/curl_body.h"
#include "payments/payments.h"
#include "payments/payments_internal.h"

static const struct em_config_entry payments_config_entries[] = {
	{ { "EMPORIUM_SSLCOMMERZ_STORE_ID", "",
	    "the SSLCOMMERZ store id (\"\": card payments are off)" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct payments_config, store_id) },
	{ { "EMPORIUM_SSLCOMMERZ_STORE_PASSWORD", "",
	    "the store password (API key); it signs the IPN: never logged or shown" },
	  EM_CFG_SECRET, 8, 0, EM_CFG_FIELD_STR(struct payments_config, store_password) },
	{ { "EMPORIUM_SSLCOMMERZ_MODE", "sandbox",
	    "sandbox (https://sandbox.sslcommerz.com) or live (https://securepay.sslcommerz.com)" },
	  EM_CFG_ENUM, 0, 0, EM_CFG_FIELD_ENUM(struct payments_config, mode, "sandbox|live") },
	{ { "EMPORIUM_SSLCOMMERZ_BASE_URL", "",
	    "overrides the mode's host (a stand-in in tests; http:// is allowed only here)" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct payments_config, base_url) },
	{ { "EMPORIUM_SSLCOMMERZ_TIMEOUT", "10",
	    "seconds one gateway call may take (a slower answer is retried later);\n"
	    "keep it well below EMPORIUM_REQUEST_TIMEOUT: the IPN makes one call" },
	  EM_CFG_INT, 1, 60, EM_CFG_FIELD_NUM(struct payments_config, gateway_timeout_s) },
	{ { "EMPORIUM_SHOP_URL", "https://localhost:8443",
	    "the shop's web front: the gateway's returns are redirected to\n"
	    "<EMPORIUM_SHOP_URL>/checkout/payment?status=paid|pending|failed|cancelled&order=<id>" },
	  EM_CFG_URI, 0, 0, EM_CFG_FIELD_STR(struct payments_config, shop_url) },
	{ { "EMPORIUM_PAYMENT_RECONCILE_AFTER", "600",
	    "seconds after which an open payment attempt is looked up at the gateway\n"
	    "(a lost IPN still pays the order); again every as many seconds" },
	  EM_CFG_INT, 1, 86400, EM_CFG_FIELD_NUM(struct payments_config, reconcile_after_s) },
};

/* The override must be a URL; the store password comes with the store id. */
static bool payments_config_check(const void *values, struct em_error *err)
{
	const struct payments_config *pc = values;

	if (pc->base_url[0] && strncmp(pc->base_url, "https://", 8) != 0 &&
	    strncmp(pc->base_url, "http://", 7) != 0) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_SSLCOMMERZ_BASE_URL",
			     "must start with https:// (or http:// for a local stand-in)");
		return false;
	}
	if (pc->store_id[0] && !pc->store_password[0]) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_SSLCOMMERZ_STORE_PASSWORD",
			     "is required with EMPORIUM_SSLCOMMERZ_STORE_ID");
		return false;
	}
	return true;
}

const struct em_config_section payments_config_section = {
	.name = "payments",
	.title = "payments (SSLCOMMERZ, cash on delivery)",
	.entries = payments_config_entries,
	.count = EM_COUNT(payments_config_entries),
	.size = sizeof(struct payments_config),
	.check = payments_config_check,
};

static const struct em_route_table *const payments_route_tables[] = {
	&payments_routes,
	&payments_admin_routes,
	NULL,
};

static const struct store_index payments_indexes[] = {
	/* exactly once: a gateway transaction and a validation id pay one order once */
	{ "payments", "tran_id_unique", "{\"tran_id\": 1}", "{\"unique\": true}" },
	{ "payments", "val_id_unique", "{\"val_id\": 1}", "{\"unique\": true}" },
	{ "payments", "order_id", "{\"order_id\": 1}", "{}" },
	{ "payment_attempts", "tran_id_unique", "{\"tran_id\": 1}", "{\"unique\": true}" },
	{ "payment_attempts", "order_status", "{\"order_id\": 1, \"status\": 1}", "{}" },
	/* reconciliation: open attempts by when they were last looked at */
	{ "payment_attempts", "status_checked", "{\"status\": 1, \"checked_at\": 1}", "{}" },
	{ "payment_logs", "order_id", "{\"order_id\": 1, \"_id\": 1}", "{}" },
	{ "refunds", "order_key_unique", "{\"order_id\": 1, \"idem_key\": 1}",
	  "{\"unique\": true, \"partialFilterExpression\": {\"idem_key\": {\"$exists\": true}}}" },
	{ "refunds", "payment_id", "{\"payment_id\": 1}", "{}" },
	/* the sweep of cancelled paid orders waiting for their refund */
	{ "orders", "payments_refund_requested", "{\"payment_status\": 1, \"payment_method\": 1}", "{}" },
	/* the sweep of received returns waiting for their refund */
	{ "order_returns", "payments_refund_pending",
	  "{\"status\": 1, \"refund_requested\": 1, \"refund_id\": 1}", "{}" },
};

/* What MongoDB itself refuses to store for this module (migrate puts it
 * in place): int64 money, the states' enums, required fields. */
static const struct store_validator payments_validators[] = {
	{ "payments",
	  "{\"bsonType\": \"object\", \"required\": [\"order_id\", \"tran_id\", \"val_id\", "
	  "\"method\", \"amount\", \"currency\", \"refund_reserved\", \"refunded\", \"applied\", "
	  "\"created_at\"], "
	  "\"properties\": {\"order_id\": {\"bsonType\": \"objectId\"}, "
	  "\"tran_id\": {\"bsonType\": \"string\", \"minLength\": 1, \"maxLength\": 64}, "
	  "\"val_id\": {\"bsonType\": \"string\", \"minLength\": 1, \"maxLength\": 64}, "
	  "\"method\": {\"enum\": [\"sslcommerz\", \"cod\"]}, "
	  "\"amount\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"currency\": {\"bsonType\": \"string\", \"minLength\": 3, \"maxLength\": 3}, "
	  "\"refund_reserved\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"refunded\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"applied\": {\"enum\": [\"order\", \"late\"]}, "
	  "\"risk_level\": {\"bsonType\": \"int\", \"minimum\": 0, \"maximum\": 1}, "
	  "\"created_at\": {\"bsonType\": \"date\"}}}" },
	{ "payment_attempts",
	  "{\"bsonType\": \"object\", \"required\": [\"order_id\", \"tran_id\", \"status\", "
	  "\"amount\", \"currency\", \"checked_at\", \"created_at\"], "
	  "\"properties\": {\"order_id\": {\"bsonType\": \"objectId\"}, "
	  "\"tran_id\": {\"bsonType\": \"string\", \"minLength\": 1, \"maxLength\": 30}, "
	  "\"status\": {\"enum\": [\"open\", \"void\", \"paid\", \"late\", \"failed\", "
	  "\"cancelled\", \"expired\", \"unattempted\"]}, "
	  "\"amount\": {\"bsonType\": \"long\", \"minimum\": 0}, "
	  "\"currency\": {\"bsonType\": \"string\", \"minLength\": 3, \"maxLength\": 3}, "
	  "\"checked_at\": {\"bsonType\": \"date\"}, \"created_at\": {\"bsonType\": \"date\"}}}" },
	{ "refunds",
	  "{\"bsonType\": \"object\", \"required\": [\"order_id\", \"payment_id\", \"amount\", "
	  "\"currency\", \"reason\", \"status\", \"created_at\"], "
	  "\"properties\": {\"order_id\": {\"bsonType\": \"objectId\"}, "
	  "\"payment_id\": {\"bsonType\": \"objectId\"}, "
	  "\"amount\": {\"bsonType\": \"long\", \"minimum\": 1}, "
	  "\"currency\": {\"bsonType\": \"string\", \"minLength\": 3, \"maxLength\": 3}, "
	  "\"reason\": {\"bsonType\": \"string\", \"minLength\": 1, \"maxLength\": 255}, "
	  "\"status\": {\"enum\": [\"requested\", \"processing\", \"refunded\", \"cancelled\", "
	  "\"failed\"]}, "
	  "\"idem_key\": {\"bsonType\": \"string\", \"minLength\": 1, \"maxLength\": 255}, "
	  "\"created_at\": {\"bsonType\": \"date\"}}}" },
	{ "payment_logs",
	  "{\"bsonType\": \"object\", \"required\": [\"direction\", \"kind\", \"fields\", \"at\"], "
	  "\"properties\": {\"direction\": {\"enum\": [\"out\", \"in\"]}, "
	  "\"kind\": {\"bsonType\": \"string\", \"maxLength\": 32}, "
	  "\"fields\": {\"bsonType\": \"object\"}, \"at\": {\"bsonType\": \"date\"}}}" },
};

static const struct jobs_handler payments_job_handlers[] = {
	{ "payments_validate", pay_job_validate },
	{ "payments_refund", pay_job_refund },
	{ "payments_refund_poll", pay_job_refund_poll },
	{ NULL, NULL },
};

/* Every 5 s, cheap when nothing is due: an indexed query that claims what
 * it asks the gateway about, so several workers never ask twice. */
static const struct jobs_periodic payments_periodics[] = {
	{ "payments_reconcile", 5, pay_reconcile_sweep },
	{ "payments_cancelled_refunds", 5, pay_refund_requested_sweep },
	{ "payments_return_refunds", 5, pay_returns_refund_sweep },
	{ NULL, 0, NULL },
};

const struct em_module payments_module = {
	.name = "payments",
	.routes = payments_route_tables,
	.indexes = payments_indexes,
	.nindexes = EM_COUNT(payments_indexes),
	.validators = payments_validators,
	.nvalidators = EM_COUNT(payments_validators),
	.job_handlers = payments_job_handlers,
	.periodics = payments_periodics,
	.config = &payments_config_section,
	.process_init = em_curl_process_init,
	.process_release = em_curl_process_release,
};
