/*
 * facets.c - facet counts for the public list's filters (see catalog.h):
 * by size, by colour and the price range, in one aggregate.
 */
#include <string.h>

#include "catalog/catalog_db.h"
#include "core/bsonjson.h"

/* The $facet stage: fixed text, never request data. A product counts
 * once per size/colour it offers. */
static const char facet_stage_json[] =
	"{\"$facet\": {"
	" \"sizes\": [{\"$unwind\": \"$variants\"},"
	"   {\"$group\": {\"_id\": {\"p\": \"$_id\", \"v\": \"$variants.options.size\"}}},"
	"   {\"$match\": {\"_id.v\": {\"$type\": \"string\"}}},"
	"   {\"$group\": {\"_id\": \"$_id.v\", \"count\": {\"$sum\": 1}}},"
	"   {\"$sort\": {\"_id\": 1}}],"
	" \"colors\": [{\"$unwind\": \"$variants\"},"
	"   {\"$group\": {\"_id\": {\"p\": \"$_id\", \"v\": \"$variants.options.color\"}}},"
	"   {\"$match\": {\"_id.v\": {\"$type\": \"string\"}}},"
	"   {\"$group\": {\"_id\": \"$_id.v\", \"count\": {\"$sum\": 1}}},"
	"   {\"$sort\": {\"_id\": 1}}],"
	" \"price\": [{\"$group\": {\"_id\": null, \"min\": {\"$min\": \"$min_price\"},"
	"   \"max\": {\"$max\": \"$max_price\"}, \"count\": {\"$sum\": 1}}}]"
	"}}";

/* [{value, count}] from the rows of one facet. */
static json_object *facet_values(bson_iter_t *arr)
{
	json_object *out = json_object_new_array();
	bson_iter_t rows;

	if (!out || !bson_iter_recurse(arr, &rows))
		return out;
	while (bson_iter_next(&rows)) {
		bson_iter_t f;
		json_object *o;

		if (!BSON_ITER_HOLDS_DOCUMENT(&rows) || !bson_iter_recurse(&rows, &f))
			continue;
		o = json_object_new_object();
		if (!o)
			break;
		while (bson_iter_next(&f)) {
			if (strcmp(bson_iter_key(&f), "_id") == 0 && BSON_ITER_HOLDS_UTF8(&f))
				json_object_object_add(o, "value",
						       json_object_new_string(bson_iter_utf8(&f, NULL)));
			else if (strcmp(bson_iter_key(&f), "count") == 0)
				json_object_object_add(o, "count",
						       json_object_new_int64(em_bson_iter_int64(&f)));
		}
		json_object_array_add(out, o);
	}
	return out;
}

/* {min, max, count}: nulls and 0 when nothing matched. */
static json_object *facet_price(const bson_t *doc)
{
	json_object *price = json_object_new_object();
	bson_iter_t it, p, f;

	if (!price)
		return NULL;
	json_object_object_add(price, "min", NULL);
	json_object_object_add(price, "max", NULL);
	json_object_object_add(price, "count", json_object_new_int64(0));
	if (doc && bson_iter_init_find(&it, doc, "price") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &p) && bson_iter_next(&p) && BSON_ITER_HOLDS_DOCUMENT(&p) &&
	    bson_iter_recurse(&p, &f))
		while (bson_iter_next(&f)) {
			const char *k = bson_iter_key(&f);

			if (strcmp(k, "min") == 0 || strcmp(k, "max") == 0 || strcmp(k, "count") == 0)
				json_object_object_add(price, k,
						       json_object_new_int64(em_bson_iter_int64(&f)));
		}
	return price;
}

/* The API's body from the aggregate's one result (NULL: nothing matched). */
static json_object *facets_json(const bson_t *doc)
{
	json_object *body = json_object_new_object(), *price = facet_price(doc);
	bson_iter_t it;

	if (!body || !price) {
		if (body)
			json_object_put(body);
		if (price)
			json_object_put(price);
		return NULL;
	}
	if (doc && bson_iter_init_find(&it, doc, "sizes") && BSON_ITER_HOLDS_ARRAY(&it))
		json_object_object_add(body, "sizes", facet_values(&it));
	if (doc && bson_iter_init_find(&it, doc, "colors") && BSON_ITER_HOLDS_ARRAY(&it))
		json_object_object_add(body, "colors", facet_values(&it));
	json_object_object_add(body, "price", price);
	return body;
}

bool catalog_product_facets(struct em_store *st, const struct catalog_filter *f,
			    json_object **out, struct em_error *err)
{
	bson_t match = BSON_INITIALIZER, pipeline = BSON_INITIALIZER, stage, *facet = NULL;
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc = NULL;
	bson_error_t berr;
	bool ok = false;

	*out = NULL;
	if (!catalog_db_product_match(st, f, &match, err))
		goto done;
	facet = bson_new_from_json((const uint8_t *)facet_stage_json, -1, &berr);
	if (!facet) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "facet stage: %s", berr.message);
		goto done;
	}
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, "0", &stage);
	BSON_APPEND_DOCUMENT(&stage, "$match", &match);
	bson_append_document_end(&pipeline, &stage);
	BSON_APPEND_DOCUMENT(&pipeline, "1", facet);
	coll = store_collection(st, "products");
	cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, &pipeline, NULL, NULL);
	if (!mongoc_cursor_next(cur, &doc))
		doc = NULL;
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "facets");
		goto done;
	}
	*out = facets_json(doc);
	if (!*out) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	ok = true;
done:
	if (facet)
		bson_destroy(facet);
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&match);
	bson_destroy(&pipeline);
	return ok;
}
