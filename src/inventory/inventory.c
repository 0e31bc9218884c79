/*
 * inventory.c - stock changes (see inventory.h).
 *
 * The decrement is one conditional findAndModify: the filter requires a
 * variant with this SKU and stock >= -delta, and $inc goes to that
 * variant through the positional operator, so two concurrent requests
 * can never both take the last unit (the database serialises the
 * writes; a transaction that loses gets a WriteConflict and reruns).
 */
#include "inventory/inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/time.h"
#include "jobs/jobs.h"
#include "store/txn.h"

static bool sku_exists(mongoc_collection_t *coll, mongoc_client_session_t *session,
		       const char *sku, bool *exists, bson_error_t *berr, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	int64_t n;
	bool ok = false;

	BSON_APPEND_UTF8(&filter, "variants.sku", sku);
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	n = mongoc_collection_count_documents(coll, &filter, &opts, NULL, NULL, berr);
	if (n < 0) {
		store_error_set(err, berr, "find sku");
		goto done;
	}
	*exists = n > 0;
	ok = true;
done:
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}

bool inventory_stock_adjust(struct em_store *st, mongoc_client_session_t *session,
			    const struct em_config *cfg, const char *sku, int64_t delta,
			    const char *reason, const bson_oid_t *by, const char *idem_key,
			    struct inventory_result *out, bson_error_t *berr,
			    struct em_error *err)
{
	mongoc_collection_t *products = store_collection(st, "products");
	mongoc_collection_t *adjustments = store_collection(st, "inventory_adjustments");
	mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
	bson_t query = BSON_INITIALIZER, update = BSON_INITIALIZER, extra = BSON_INITIALIZER;
	bson_t reply, value, em, cond, inc, flag = BSON_INITIALIZER, flag_filter = BSON_INITIALIZER;
	bson_t adj = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;
	struct catalog_variant_state v;
	int64_t stock, threshold, alerts, now = em_now_ms();
	char title[256] = "";
	bool low, exists = false, ok = false, crossing, new_low;

	bson_init(&reply);
	memset(out, 0, sizeof(*out));
	if (delta < 0) {
		BSON_APPEND_DOCUMENT_BEGIN(&query, "variants", &em);
		BSON_APPEND_DOCUMENT_BEGIN(&em, "$elemMatch", &cond);
		BSON_APPEND_UTF8(&cond, "sku", sku);
		{
			bson_t gte;

			BSON_APPEND_DOCUMENT_BEGIN(&cond, "stock", &gte);
			BSON_APPEND_INT64(&gte, "$gte", -delta);
			bson_append_document_end(&cond, &gte);
		}
		bson_append_document_end(&em, &cond);
		bson_append_document_end(&query, &em);
	} else {
		BSON_APPEND_UTF8(&query, "variants.sku", sku);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "variants.$.stock", delta);
	BSON_APPEND_INT64(&inc, "total_stock", delta);
	BSON_APPEND_INT64(&inc, "stock_rev", 1);
	bson_append_document_end(&update, &inc);
	/* No updated_at: that is the last content change, and the public
	 * catalog shows it, so a stock change must not move it (polling it
	 * would time every sale). The adjustment record has the time. */
	mongoc_find_and_modify_opts_set_update(fam, &update);
	mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_RETURN_NEW);
	if (session && !store_txn_opts(session, &extra, err))
		goto done;
	if (!mongoc_find_and_modify_opts_append(fam, &extra)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build findAndModify");
		goto done;
	}
	bson_destroy(&reply);
	if (!mongoc_collection_find_and_modify_with_opts(products, &query, fam, &reply, berr)) {
		store_error_set(err, berr, "adjust stock");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "value") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		if (!sku_exists(products, session, sku, &exists, berr, err))
			goto done;
		if (exists)
			em_error_set(err, EM_ERR_CONFLICT, "delta",
				     "not enough stock: the adjustment would take %s below zero", sku);
		else
			em_error_set(err, EM_ERR_NOT_FOUND, "sku", "no product has SKU %s", sku);
		goto done;
	}
	bson_iter_document(&it, &len, &data);
	if (!bson_init_static(&value, data, len) ||
	    !catalog_variant_find(&value, sku, &v)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the adjusted variant is missing");
		goto done;
	}
	stock = v.stock;
	threshold = v.threshold;
	alerts = v.alerts;
	low = v.low;
	if (bson_iter_init_find(&it, &value, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_copy(bson_iter_oid(&it), &out->product_id);
	if (bson_iter_init_find(&it, &value, "title") && BSON_ITER_HOLDS_UTF8(&it))
		snprintf(title, sizeof(title), "%s", bson_iter_utf8(&it, NULL));
	out->stock_after = stock;
	out->stock_before = stock - delta;
	if (stock == 0 && delta < 0)
		em_metrics_event_in(session, EM_EV_STOCK_OUT); /* counted if it commits */
	out->threshold = threshold;
	new_low = stock < threshold;
	crossing = out->stock_before >= threshold && new_low;
	out->low_stock = new_low;

	if (crossing || new_low != low) {
		bson_t fset, finc;

		BSON_APPEND_OID(&flag_filter, "_id", &out->product_id);
		BSON_APPEND_UTF8(&flag_filter, "variants.sku", sku);
		BSON_APPEND_DOCUMENT_BEGIN(&flag, "$set", &fset);
		BSON_APPEND_BOOL(&fset, "variants.$.low_stock", new_low);
		bson_append_document_end(&flag, &fset);
		if (crossing) {
			BSON_APPEND_DOCUMENT_BEGIN(&flag, "$inc", &finc);
			BSON_APPEND_INT64(&finc, "variants.$.low_stock_alerts", 1);
			bson_append_document_end(&flag, &finc);
		}
		bson_destroy(&reply);
		if (!mongoc_collection_update_one(products, &flag_filter, &flag, &extra, &reply,
						  berr)) {
			store_error_set(err, berr, "flag low stock");
			goto done;
		}
	}
	if (crossing && jobs_config(cfg)->staff_email[0]) {
		bson_t vars = BSON_INITIALIZER;
		char key[160], num[32];
		bool enq;

		snprintf(key, sizeof(key), "low_stock:%s:%" PRId64, sku, alerts + 1);
		BSON_APPEND_UTF8(&vars, "sku", sku);
		BSON_APPEND_UTF8(&vars, "title", title);
		snprintf(num, sizeof(num), "%" PRId64, stock);
		BSON_APPEND_UTF8(&vars, "stock", num);
		snprintf(num, sizeof(num), "%" PRId64, threshold);
		BSON_APPEND_UTF8(&vars, "threshold", num);
		enq = jobs_email_enqueue(st, session, jobs_config(cfg)->staff_email, "low_stock", &vars, key, berr,
					 err);
		bson_destroy(&vars);
		if (!enq)
			goto done;
		out->alert_enqueued = true;
	}

	bson_oid_init(&out->adjustment_id, NULL);
	BSON_APPEND_OID(&adj, "_id", &out->adjustment_id);
	BSON_APPEND_UTF8(&adj, "sku", sku);
	BSON_APPEND_OID(&adj, "product_id", &out->product_id);
	BSON_APPEND_INT64(&adj, "delta", delta);
	BSON_APPEND_UTF8(&adj, "reason", reason);
	if (by)
		BSON_APPEND_OID(&adj, "by", by);
	else
		BSON_APPEND_NULL(&adj, "by");
	BSON_APPEND_DATE_TIME(&adj, "at", now);
	BSON_APPEND_INT64(&adj, "stock_before", out->stock_before);
	BSON_APPEND_INT64(&adj, "stock_after", out->stock_after);
	/* what the answer said, so a retry with the same key gets it again */
	BSON_APPEND_INT64(&adj, "low_stock_threshold", out->threshold);
	BSON_APPEND_BOOL(&adj, "low_stock", out->low_stock);
	BSON_APPEND_BOOL(&adj, "alert_enqueued", out->alert_enqueued);
	if (idem_key)
		BSON_APPEND_UTF8(&adj, "idem_key", idem_key);
	if (session && !store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_insert_one(adjustments, &adj, &opts, NULL, berr)) {
		store_error_set(err, berr, "record adjustment");
		goto done;
	}
	ok = true;
done:
	mongoc_find_and_modify_opts_destroy(fam);
	mongoc_collection_destroy(products);
	mongoc_collection_destroy(adjustments);
	bson_destroy(&reply);
	bson_destroy(&query);
	bson_destroy(&update);
	bson_destroy(&extra);
	bson_destroy(&flag);
	bson_destroy(&flag_filter);
	bson_destroy(&adj);
	bson_destroy(&opts);
	return ok;
}

bool inventory_stock_change(struct em_store *st, mongoc_client_session_t *session,
			    const struct em_config *cfg, const char *sku, int64_t delta,
			    const char *reason, const bson_oid_t *by,
			    struct inventory_result *out, bson_error_t *berr,
			    struct em_error *err)
{
	return inventory_stock_adjust(st, session, cfg, sku, delta, reason, by, NULL, out, berr,
				      err);
}
