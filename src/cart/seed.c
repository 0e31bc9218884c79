/*
 * seed.c - emporium-admin seed-demo-coupons: the demo shop's three
 * coupons. The demo shipping methods are the defaults of
 * EMPORIUM_SHIPPING_METHODS (Bangladesh: inside_dhaka 60 BDT,
 * outside_dhaka 120 BDT, free from 5,000 BDT), so nothing is stored for
 * them. Idempotent: a coupon that exists (by code) is left as it is.
 *
 * A command of the cart module's own descriptor rather than a call from
 * the catalog's seed-demo: the catalog does not know about carts, and
 * each module seeds what it owns.
 */
#include <stdio.h>
#include <string.h>

#include "app/module.h"
#include "cart/cart_internal.h"

struct cart_seed {
	const char *code, *type;
	int64_t percent_bp, amount, min_subtotal, per_customer;
	bool first_order_only;
};

static const struct cart_seed cart_seeds[] = {
	/* 10 % off a customer's first order, once per customer */
	{ "WELCOME10", "percent", 1000, 0, 0, 1, true },
	/* 200 BDT off from a 2,000 BDT subtotal */
	{ "FLAT200", "fixed", 0, 20000, 200000, 0, false },
	/* free shipping from 1,000 BDT */
	{ "FREESHIP", "free_shipping", 0, 0, 100000, 0, false },
};

int cart_cmd_seed_coupons(const struct em_config *cfg, int argc, char **argv)
{
	mongoc_collection_t *coll;
	struct em_store st;
	struct em_error err = EM_ERROR_INIT;
	int rc = 0;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: emporium-admin seed-demo-coupons\n");
		return 2;
	}
	if (!store_open(&st, cfg, "emporium-admin", &err)) {
		fprintf(stderr, "seed-demo-coupons: %s\n", err.message);
		return 1;
	}
	coll = store_collection(&st, "coupons");
	for (size_t i = 0; i < EM_COUNT(cart_seeds); i++) {
		const struct cart_seed *s = &cart_seeds[i];
		bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, soi,
		       opts = BSON_INITIALIZER;
		char key[CART_COUPON_CODE_MAX + 1];
		bson_error_t berr;
		int64_t now = cart_now_ms();

		if (!cart_coupon_code_check(s->code, key, sizeof key, &err)) {
			rc = 1;
			break;
		}
		BSON_APPEND_UTF8(&filter, "code_key", key);
		BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
		BSON_APPEND_UTF8(&soi, "code", s->code);
		BSON_APPEND_UTF8(&soi, "type", s->type);
		if (s->percent_bp)
			BSON_APPEND_INT64(&soi, "percent_bp", s->percent_bp);
		if (s->amount)
			BSON_APPEND_INT64(&soi, "amount", s->amount);
		BSON_APPEND_INT64(&soi, "min_subtotal", s->min_subtotal);
		if (s->per_customer)
			BSON_APPEND_INT64(&soi, "usage_limit_per_customer", s->per_customer);
		BSON_APPEND_BOOL(&soi, "first_order_only", s->first_order_only);
		BSON_APPEND_BOOL(&soi, "active", true);
		BSON_APPEND_INT64(&soi, "used_count", 0);
		BSON_APPEND_INT64(&soi, "version", 1);
		BSON_APPEND_DATE_TIME(&soi, "created_at", now);
		BSON_APPEND_DATE_TIME(&soi, "updated_at", now);
		bson_append_document_end(&update, &soi);
		BSON_APPEND_BOOL(&opts, "upsert", true);
		if (!mongoc_collection_update_one(coll, &filter, &update, &opts, NULL, &berr)) {
			fprintf(stderr, "seed-demo-coupons: %s: %s\n", s->code, berr.message);
			rc = 1;
		}
		bson_destroy(&filter);
		bson_destroy(&update);
		bson_destroy(&opts);
		if (rc)
			break;
	}
	mongoc_collection_destroy(coll);
	store_close(&st);
	if (rc == 0)
		printf("seed-demo-coupons: %zu demo coupons present\n", EM_COUNT(cart_seeds));
	return rc;
}
