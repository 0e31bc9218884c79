/*
 * inventory.h - stock levels: atomic adjustments with an audit trail,
 * and low-stock alerts through the jobs outbox.
 *
 * Stock lives on the product's variants (see catalog.h). Collection
 * inventory_adjustments { _id, sku, product_id, delta: int64, reason,
 * by: ObjectId|null, at: date, stock_before, stock_after: int64,
 * low_stock_threshold: int64, low_stock, alert_enqueued: bool, idem_key?
 * (the Idempotency-Key of a staff adjustment; unique per by) }.
 *
 * A low-stock alert is one "email" job (template low_stock, to
 * EMPORIUM_STAFF_EMAIL, vars {sku, title, stock, threshold} as strings)
 * per downward crossing of a variant's threshold: when stock goes from
 * >= threshold to < threshold the variant's low_stock_alerts counter is
 * incremented and the job's dedupe key is "low_stock:<sku>:<counter>".
 * Further decrements while the stock stays low enqueue nothing; after a
 * restock to >= threshold the next crossing makes a new alert.
 */
#ifndef EM_INVENTORY_INVENTORY_H
#define EM_INVENTORY_INVENTORY_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

#define INVENTORY_DELTA_MAX  1000000
#define INVENTORY_REASON_MAX 200

struct inventory_result {
	bson_oid_t adjustment_id;  /* the inventory_adjustments document written */
	bson_oid_t product_id;
	int64_t stock_before;
	int64_t stock_after;
	int64_t threshold;
	bool low_stock;
	bool alert_enqueued;
};

/*
 * Changes the stock of the variant with this SKU by delta, inside the
 * caller's transaction (session from store_txn_run; other modules, e.g.
 * order placement, call this for each line). Never lets stock go below
 * zero: EM_ERR_CONFLICT (field "delta") when it would, EM_ERR_NOT_FOUND
 * (field "sku") when no product has the SKU. Records the adjustment with
 * reason and by (may be NULL), and enqueues the low-stock alert on a
 * downward crossing when EMPORIUM_STAFF_EMAIL is set. Driver failures are
 * reported through berr too, so transient ones can be retried.
 */
bool inventory_stock_change(struct em_store *st, mongoc_client_session_t *session,
			    const struct em_config *cfg, const char *sku, int64_t delta,
			    const char *reason, const bson_oid_t *by,
			    struct inventory_result *out, bson_error_t *berr,
			    struct em_error *err);

/*
 * As inventory_stock_change, recording idem_key (NULL: none) on the
 * adjustment: the unique index on (by, idem_key) makes a second adjustment
 * with the same key by the same person fail as a duplicate key
 * (store_error_is_duplicate(berr)), inside the same transaction as the
 * stock change, so a retried request can never move stock twice.
 */
bool inventory_stock_adjust(struct em_store *st, mongoc_client_session_t *session,
			    const struct em_config *cfg, const char *sku, int64_t delta,
			    const char *reason, const bson_oid_t *by, const char *idem_key,
			    struct inventory_result *out, bson_error_t *berr,
			    struct em_error *err);

#endif
