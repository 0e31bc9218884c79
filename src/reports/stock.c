/*
 * stock.c - GET /api/v1/admin/reports/stock: variants out of stock
 * (stock 0) or below their low-stock threshold, of products not deleted.
 * Staff may read it: it holds no money. The dashboard's low_stock is
 * rep_stock_counts.
 */
#include "reports/reports_internal.h"

#include <string.h>

/* products not deleted with a variant low or out -> one row per such variant */
static bson_t *stock_pipeline(int limit, const bson_oid_t *category)
{
	bson_t only = BSON_INITIALIZER, *pl;

	/* the live products of one category (served by the category index), or all */
	if (category)
		BSON_APPEND_OID(&only, "category_id", category);
	BSON_APPEND_NULL(&only, "deleted_at");
	pl = BCON_NEW("pipeline", "[",
		"{", "$match", BCON_DOCUMENT(&only), "}",
		"{", "$match", "{", "deleted_at", BCON_NULL, "$or", "[",
			"{", "variants.low_stock", BCON_BOOL(true), "}",
			"{", "variants.stock", "{", "$lte", BCON_INT64(0), "}", "}", "]", "}", "}",
		"{", "$unwind", BCON_UTF8("$variants"), "}",
		"{", "$match", "{", "$or", "[",
			"{", "variants.low_stock", BCON_BOOL(true), "}",
			"{", "variants.stock", "{", "$lte", BCON_INT64(0), "}", "}", "]", "}", "}",
		"{", "$project", "{", "_id", BCON_INT32(0), "product_id", BCON_UTF8("$_id"),
			"title", BCON_UTF8("$title"), "sku", BCON_UTF8("$variants.sku"),
			"options", BCON_UTF8("$variants.options"), "stock", BCON_UTF8("$variants.stock"),
			"low_stock_threshold", BCON_UTF8("$variants.low_stock_threshold"),
			"state", "{", "$cond", "[", "{", "$lte", "[", BCON_UTF8("$variants.stock"),
				BCON_INT64(0), "]", "}", BCON_UTF8("out"), BCON_UTF8("low"), "]", "}",
		"}", "}",
		"{", "$facet", "{",
			"counts", "[", "{", "$group", "{", "_id", BCON_UTF8("$state"),
				"n", "{", "$sum", BCON_INT32(1), "}", "}", "}", "]",
			"items", "[", "{", "$sort", "{", "stock", BCON_INT32(1), "sku", BCON_INT32(1), "}", "}",
				"{", "$limit", BCON_INT32(limit > 0 ? limit : 1), "}", "]",
		"}", "}",
		"]");

	bson_destroy(&only);
	return pl;
}

struct stock_ctx {
	int64_t out, low;
	json_object *items; /* NULL: counts only */
	struct reports_csv *csv;
};

static bool stock_item(struct stock_ctx *c, const bson_t *row, struct em_error *err)
{
	json_object *o, *x;
	int64_t stock = 0, threshold = 0;
	bson_iter_t it;
	const char *state = "low";

	if (!reports_bson_int64(row, "stock", &stock, err) ||
	    !reports_bson_int64(row, "low_stock_threshold", &threshold, err))
		return false;
	if (bson_iter_init_find(&it, row, "state") && BSON_ITER_HOLDS_UTF8(&it))
		state = bson_iter_utf8(&it, NULL);
	if (c->csv) {
		x = rep_json_oid(row, "product_id");
		reports_csv_cell(c->csv, x ? json_object_get_string(x) : "");
		json_object_put(x);
		x = rep_json_str(row, "title");
		reports_csv_cell(c->csv, x ? json_object_get_string(x) : "");
		json_object_put(x);
		x = rep_json_str(row, "sku");
		reports_csv_cell(c->csv, x ? json_object_get_string(x) : "");
		json_object_put(x);
		reports_csv_int(c->csv, stock);
		reports_csv_int(c->csv, threshold);
		reports_csv_cell(c->csv, state);
		reports_csv_row_end(c->csv);
		return true;
	}
	o = json_object_new_object();
	json_object_object_add(o, "product_id", rep_json_oid(row, "product_id"));
	x = rep_json_str(row, "title");
	json_object_object_add(o, "title", x ? x : json_object_new_string(""));
	x = rep_json_str(row, "sku");
	json_object_object_add(o, "sku", x ? x : json_object_new_string(""));
	x = json_object_new_object();
	if (bson_iter_init_find(&it, row, "options") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		bson_iter_t sub;

		if (bson_iter_recurse(&it, &sub))
			while (bson_iter_next(&sub))
				if (BSON_ITER_HOLDS_UTF8(&sub))
					json_object_object_add(x, bson_iter_key(&sub),
							       json_object_new_string(bson_iter_utf8(&sub, NULL)));
	}
	json_object_object_add(o, "options", x);
	json_object_object_add(o, "stock", json_object_new_int64(stock));
	json_object_object_add(o, "low_stock_threshold", json_object_new_int64(threshold));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_array_add(c->items, o);
	return true;
}

static bool stock_row(const bson_t *row, void *vctx, struct em_error *err)
{
	struct stock_ctx *c = vctx;
	bson_iter_t it, arr;

	if (bson_iter_init_find(&it, row, "counts") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &arr))
		while (bson_iter_next(&arr)) {
			const uint8_t *data;
			uint32_t len;
			bson_t g;
			int64_t n;
			bson_iter_t k;

			bson_iter_document(&arr, &len, &data);
			if (!bson_init_static(&g, data, len) || !reports_bson_int64(&g, "n", &n, err))
				return false;
			if (bson_iter_init_find(&k, &g, "_id") && BSON_ITER_HOLDS_UTF8(&k) &&
			    strcmp(bson_iter_utf8(&k, NULL), "out") == 0)
				c->out = n;
			else
				c->low = n;
		}
	if ((c->items || c->csv) && bson_iter_init_find(&it, row, "items") &&
	    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr))
		while (bson_iter_next(&arr)) {
			const uint8_t *data;
			uint32_t len;
			bson_t item;

			bson_iter_document(&arr, &len, &data);
			if (!bson_init_static(&item, data, len) || !stock_item(c, &item, err))
				return false;
		}
	return true;
}

bool rep_stock_counts(struct em_store *st, const struct em_config *cfg, int64_t *out,
		      int64_t *low, struct em_error *err)
{
	struct stock_ctx c = { 0, 0, NULL, NULL };
	bson_t *p = stock_pipeline(1, NULL);
	bool ok = reports_aggregate(st, cfg, "products", p, stock_row, &c, "stock counts", err);

	bson_destroy(p);
	*out = c.out;
	*low = c.low;
	return ok;
}

bool rep_stock(struct em_request *req, struct em_error *err)
{
	struct rep_params p;
	struct stock_ctx c = { 0, 0, NULL, NULL };
	struct reports_csv csv = { NULL, false };
	bson_t *pl = NULL;
	bool ok = false;

	if (!rep_params_read(req, REP_LIMIT | REP_CATEGORY, &p, err))
		goto done;
	if (p.csv) {
		static const char *const head[] = { "product_id", "title", "sku", "stock",
						    "low_stock_threshold", "state" };

		reports_csv_init(&csv);
		for (size_t i = 0; i < EM_COUNT(head); i++)
			reports_csv_cell(&csv, head[i]);
		reports_csv_row_end(&csv);
		c.csv = &csv;
	} else {
		c.items = json_object_new_array();
	}
	pl = stock_pipeline(p.limit, p.has_category ? &p.category : NULL);
	if (!reports_aggregate(rep_st(req), rep_cfg(req), "products", pl, stock_row, &c,
			       "stock report", err))
		goto done;
	if (p.csv) {
		rep_csv_respond(req, "stock", NULL, &csv);
	} else {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "out_of_stock", json_object_new_int64(c.out));
		json_object_object_add(o, "low_stock", json_object_new_int64(c.low));
		json_object_object_add(o, "items", c.items);
		c.items = NULL;
		em_response_json(req, 200, o);
	}
	ok = true;
done:
	if (pl)
		bson_destroy(pl);
	if (c.items)
		json_object_put(c.items);
	reports_csv_release(&csv);
	return ok;
}
