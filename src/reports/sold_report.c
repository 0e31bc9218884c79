/*
 * sold_report.c - what sold: GET /api/v1/admin/reports/products,
 * /categories and /coupons, from the paid orders of the range (by the
 * payment's time, as the sales report).
 */
#include "reports/reports_internal.h"

#include <string.h>

/* The stages every one of them starts with: the range's sales and their orders. */
static void sold_prefix(bson_t *arr, const struct reports_range *r)
{
	bson_t *m = BCON_NEW("$match", "{", "applied", BCON_UTF8("order"), "created_at", "{",
			     "$gte", BCON_DATE_TIME(r->from_ms), "$lt", BCON_DATE_TIME(r->to_ms), "}", "}");
	bson_t *l = BCON_NEW("$lookup", "{", "from", BCON_UTF8("orders"), "localField",
			     BCON_UTF8("order_id"), "foreignField", BCON_UTF8("_id"), "as",
			     BCON_UTF8("o"), "}");
	bson_t *u = BCON_NEW("$unwind", BCON_UTF8("$o"));

	BSON_APPEND_DOCUMENT(arr, "0", m);
	BSON_APPEND_DOCUMENT(arr, "1", l);
	BSON_APPEND_DOCUMENT(arr, "2", u);
	bson_destroy(m);
	bson_destroy(l);
	bson_destroy(u);
}

/* Appends stages (a NULL-terminated list, destroyed here) after the prefix. */
static bson_t *sold_pipeline(const struct reports_range *r, bson_t *const *stages)
{
	bson_t *p = bson_new(), arr;
	char key[16];
	int i = 3;

	BSON_APPEND_ARRAY_BEGIN(p, "pipeline", &arr);
	sold_prefix(&arr, r);
	for (bson_t *const *s = stages; *s; s++, i++) {
		snprintf(key, sizeof(key), "%d", i);
		BSON_APPEND_DOCUMENT(&arr, key, *s);
		bson_destroy(*s);
	}
	bson_append_array_end(p, &arr);
	return p;
}

/* per order and product: the lines' units, gross and discount */
static bson_t *lines_by_order_product(void)
{
	return BCON_NEW("$group", "{",
		"_id", "{", "o", BCON_UTF8("$order_id"), "p", BCON_UTF8("$o.lines.product_id"), "}",
		"title", "{", "$last", BCON_UTF8("$o.lines.title"), "}",
		"units", "{", "$sum", BCON_UTF8("$o.lines.quantity"), "}",
		"gross", "{", "$sum", BCON_UTF8("$o.lines.line_total"), "}",
		"discounts", "{", "$sum", BCON_UTF8("$o.lines.discount"), "}", "}");
}

static bson_t *sort_stage(bool units)
{
	return units ? BCON_NEW("$sort", "{", "units", BCON_INT32(-1), "revenue", BCON_INT32(-1),
				"_id", BCON_INT32(1), "}")
		     : BCON_NEW("$sort", "{", "revenue", BCON_INT32(-1), "units", BCON_INT32(-1),
				"_id", BCON_INT32(1), "}");
}

struct sold_ctx {
	json_object *items;
	struct reports_csv *csv;
	const char *id_key, *name_key; /* product_id/title or category_id/name */
};

static bool sold_row(const bson_t *row, void *vctx, struct em_error *err)
{
	struct sold_ctx *c = vctx;
	int64_t units, gross, discounts, revenue, orders;
	json_object *id = rep_json_oid(row, "_id"), *name = rep_json_str(row, "name");

	if (!reports_bson_int64(row, "units", &units, err) ||
	    !reports_bson_int64(row, "gross", &gross, err) ||
	    !reports_bson_int64(row, "discounts", &discounts, err) ||
	    !reports_bson_int64(row, "revenue", &revenue, err) ||
	    !reports_bson_int64(row, "orders", &orders, err)) {
		json_object_put(id);
		json_object_put(name);
		return false;
	}
	if (c->csv) {
		reports_csv_cell(c->csv, id ? json_object_get_string(id) : "");
		reports_csv_cell(c->csv, name ? json_object_get_string(name) : "");
		reports_csv_int(c->csv, units);
		reports_csv_int(c->csv, gross);
		reports_csv_int(c->csv, discounts);
		reports_csv_int(c->csv, revenue);
		reports_csv_int(c->csv, orders);
		reports_csv_row_end(c->csv);
		json_object_put(id);
		json_object_put(name);
		return true;
	}
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, c->id_key, id);
		/* a product line always has a title; a category may be gone */
		if (!name && strcmp(c->name_key, "title") == 0)
			name = json_object_new_string("");
		json_object_object_add(o, c->name_key, name);
		json_object_object_add(o, "units", json_object_new_int64(units));
		json_object_object_add(o, "gross", json_object_new_int64(gross));
		json_object_object_add(o, "discounts", json_object_new_int64(discounts));
		json_object_object_add(o, "revenue", json_object_new_int64(revenue));
		json_object_object_add(o, "orders", json_object_new_int64(orders));
		json_object_array_add(c->items, o);
	}
	return true;
}

static bool sold_answer(struct em_request *req, const char *report, const struct rep_params *p,
			bson_t *pl, const char *id_key, const char *name_key, struct em_error *err)
{
	struct reports_csv csv = { NULL, false };
	struct sold_ctx c = { NULL, NULL, id_key, name_key };
	bool ok = false;

	if (p->csv) {
		reports_csv_init(&csv);
		reports_csv_cell(&csv, id_key);
		reports_csv_cell(&csv, name_key);
		reports_csv_cell(&csv, "units");
		reports_csv_cell(&csv, "gross");
		reports_csv_cell(&csv, "discounts");
		reports_csv_cell(&csv, "revenue");
		reports_csv_cell(&csv, "orders");
		reports_csv_row_end(&csv);
		c.csv = &csv;
	} else {
		c.items = json_object_new_array();
	}
	if (!reports_aggregate(rep_st(req), rep_cfg(req), "payments", pl, sold_row, &c, report, err))
		goto done;
	if (p->csv) {
		rep_csv_respond(req, report, &p->range, &csv);
	} else {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "currency", json_object_new_string(rep_cfg(req)->currency));
		rep_json_range(o, &p->range);
		json_object_object_add(o, "sort", json_object_new_string(p->sort_units ? "units" : "revenue"));
		json_object_object_add(o, "items", c.items);
		c.items = NULL;
		em_response_json(req, 200, o);
	}
	ok = true;
done:
	if (c.items)
		json_object_put(c.items);
	reports_csv_release(&csv);
	return ok;
}

bool rep_products(struct em_request *req, struct em_error *err)
{
	struct rep_params p;
	bson_t *pl;
	bool ok;

	if (!rep_params_read(req, REP_RANGE | REP_LIMIT | REP_SORT, &p, err))
		return false;
	{
		bson_t *const stages[] = {
			BCON_NEW("$unwind", BCON_UTF8("$o.lines")),
			lines_by_order_product(),
			BCON_NEW("$group", "{", "_id", BCON_UTF8("$_id.p"),
				 "name", "{", "$last", BCON_UTF8("$title"), "}",
				 "units", "{", "$sum", BCON_UTF8("$units"), "}",
				 "gross", "{", "$sum", BCON_UTF8("$gross"), "}",
				 "discounts", "{", "$sum", BCON_UTF8("$discounts"), "}",
				 "orders", "{", "$sum", BCON_INT32(1), "}", "}"),
			BCON_NEW("$addFields", "{", "revenue", "{", "$subtract", "[", BCON_UTF8("$gross"),
				 BCON_UTF8("$discounts"), "]", "}", "}"),
			sort_stage(p.sort_units),
			BCON_NEW("$limit", BCON_INT32(p.limit)),
			NULL,
		};

		pl = sold_pipeline(&p.range, stages);
	}
	ok = sold_answer(req, "products", &p, pl, "product_id", "title", err);
	bson_destroy(pl);
	return ok;
}

bool rep_categories(struct em_request *req, struct em_error *err)
{
	struct rep_params p;
	bson_t *pl;
	bool ok;

	if (!rep_params_read(req, REP_RANGE | REP_LIMIT | REP_SORT, &p, err))
		return false;
	{
		bson_t *const stages[] = {
			BCON_NEW("$unwind", BCON_UTF8("$o.lines")),
			lines_by_order_product(),
			BCON_NEW("$lookup", "{", "from", BCON_UTF8("products"), "localField",
				 BCON_UTF8("_id.p"), "foreignField", BCON_UTF8("_id"), "as",
				 BCON_UTF8("prod"), "}"),
			/* per order and category, so an order counts once per category */
			BCON_NEW("$group", "{",
				 "_id", "{", "o", BCON_UTF8("$_id.o"), "c", "{", "$ifNull", "[",
				 "{", "$first", BCON_UTF8("$prod.category_id"), "}", BCON_NULL, "]", "}", "}",
				 "units", "{", "$sum", BCON_UTF8("$units"), "}",
				 "gross", "{", "$sum", BCON_UTF8("$gross"), "}",
				 "discounts", "{", "$sum", BCON_UTF8("$discounts"), "}", "}"),
			BCON_NEW("$group", "{", "_id", BCON_UTF8("$_id.c"),
				 "units", "{", "$sum", BCON_UTF8("$units"), "}",
				 "gross", "{", "$sum", BCON_UTF8("$gross"), "}",
				 "discounts", "{", "$sum", BCON_UTF8("$discounts"), "}",
				 "orders", "{", "$sum", BCON_INT32(1), "}", "}"),
			BCON_NEW("$addFields", "{", "revenue", "{", "$subtract", "[", BCON_UTF8("$gross"),
				 BCON_UTF8("$discounts"), "]", "}", "}"),
			sort_stage(p.sort_units),
			BCON_NEW("$limit", BCON_INT32(p.limit)),
			BCON_NEW("$lookup", "{", "from", BCON_UTF8("categories"), "localField",
				 BCON_UTF8("_id"), "foreignField", BCON_UTF8("_id"), "as",
				 BCON_UTF8("cat"), "}"),
			BCON_NEW("$addFields", "{", "name", "{", "$first", BCON_UTF8("$cat.name"), "}", "}"),
			/* the $lookup does not keep the order */
			sort_stage(p.sort_units),
			NULL,
		};

		pl = sold_pipeline(&p.range, stages);
	}
	ok = sold_answer(req, "categories", &p, pl, "category_id", "name", err);
	bson_destroy(pl);
	return ok;
}

struct coupon_ctx {
	json_object *items;
	struct reports_csv *csv;
	int64_t orders, discount;
};

static bool coupon_item(const bson_t *row, void *vctx, struct em_error *err)
{
	struct coupon_ctx *c = vctx;
	int64_t orders, discount;
	json_object *id = rep_json_oid(row, "_id");
	const char *code = rep_str(row, "code", "");

	if (!reports_bson_int64(row, "orders", &orders, err) ||
	    !reports_bson_int64(row, "discount", &discount, err)) {
		json_object_put(id);
		return false;
	}
	if (c->csv) {
		reports_csv_cell(c->csv, id ? json_object_get_string(id) : "");
		reports_csv_cell(c->csv, code);
		reports_csv_int(c->csv, orders);
		reports_csv_int(c->csv, discount);
		reports_csv_row_end(c->csv);
		json_object_put(id);
	} else {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "coupon_id", id);
		json_object_object_add(o, "code", json_object_new_string(code));
		json_object_object_add(o, "orders", json_object_new_int64(orders));
		json_object_object_add(o, "discount", json_object_new_int64(discount));
		json_object_array_add(c->items, o);
	}
	return true;
}

static bool coupon_total(const bson_t *row, void *vctx, struct em_error *err)
{
	struct coupon_ctx *c = vctx;

	return reports_bson_int64(row, "orders", &c->orders, err) &&
	       reports_bson_int64(row, "discount", &c->discount, err);
}

static bool coupon_row(const bson_t *row, void *vctx, struct em_error *err)
{
	return rep_each(row, "total", coupon_total, vctx, err) &&
	       rep_each(row, "items", coupon_item, vctx, err);
}

bool rep_coupons(struct em_request *req, struct em_error *err)
{
	struct rep_params p;
	struct reports_csv csv = { NULL, false };
	struct coupon_ctx c = { NULL, NULL, 0, 0 };
	bson_t *pl = NULL;
	bool ok = false;

	if (!rep_params_read(req, REP_RANGE | REP_LIMIT, &p, err))
		goto done;
	{
		bson_t *const stages[] = {
			BCON_NEW("$match", "{", "o.coupon.id", "{", "$exists", BCON_BOOL(true), "}", "}"),
			BCON_NEW("$facet", "{",
				 "total", "[", "{", "$group", "{", "_id", BCON_NULL,
				 "orders", "{", "$sum", BCON_INT32(1), "}",
				 "discount", "{", "$sum", BCON_UTF8("$o.discount"), "}", "}", "}", "]",
				 "items", "[", "{", "$group", "{", "_id", BCON_UTF8("$o.coupon.id"),
				 "code", "{", "$last", BCON_UTF8("$o.coupon.code"), "}",
				 "orders", "{", "$sum", BCON_INT32(1), "}",
				 "discount", "{", "$sum", BCON_UTF8("$o.discount"), "}", "}", "}",
				 "{", "$sort", "{", "discount", BCON_INT32(-1), "_id", BCON_INT32(1), "}", "}",
				 "{", "$limit", BCON_INT32(p.limit), "}", "]",
				 "}"),
			NULL,
		};

		pl = sold_pipeline(&p.range, stages);
	}
	if (p.csv) {
		reports_csv_init(&csv);
		reports_csv_cell(&csv, "coupon_id");
		reports_csv_cell(&csv, "code");
		reports_csv_cell(&csv, "orders");
		reports_csv_cell(&csv, "discount");
		reports_csv_row_end(&csv);
		c.csv = &csv;
	} else {
		c.items = json_object_new_array();
	}
	if (!reports_aggregate(rep_st(req), rep_cfg(req), "payments", pl, coupon_row, &c,
			       "coupons report", err))
		goto done;
	if (p.csv) {
		rep_csv_respond(req, "coupons", &p.range, &csv);
	} else {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "currency", json_object_new_string(rep_cfg(req)->currency));
		rep_json_range(o, &p.range);
		json_object_object_add(o, "orders", json_object_new_int64(c.orders));
		json_object_object_add(o, "discount", json_object_new_int64(c.discount));
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
