/*
 * scale.c - grows a seeded catalog (`emporium-admin seed-demo`, 216
 * products) to TOTAL products for bench/catalog/run.sh: copies of the
 * seeded products, each with a new _id, slug "<slug>-c<N>" and SKUs
 * "<sku>-C<N>" (both unique in the schema), everything else as seeded
 * (category, variants, prices, stock, status), so filters and sorts see
 * consistent documents. Inserted in bulks of 1000.
 *
 *   scale MONGODB_URI DB TOTAL
 */
#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEED 1024

/* Appends a copy of seed to out with new ids for copy number c. */
static void copy_product(const bson_t *seed, int c, bson_t *out)
{
	bson_iter_t it, vit, fit;
	bson_oid_t oid;
	char buf[256], key[16];

	bson_init(out);
	bson_oid_init(&oid, NULL);
	BSON_APPEND_OID(out, "_id", &oid);
	bson_iter_init(&it, seed);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "_id") == 0)
			continue;
		if (strcmp(k, "slug") == 0 && BSON_ITER_HOLDS_UTF8(&it)) {
			snprintf(buf, sizeof(buf), "%s-c%d", bson_iter_utf8(&it, NULL), c);
			BSON_APPEND_UTF8(out, k, buf);
		} else if (strcmp(k, "variants") == 0 && BSON_ITER_HOLDS_ARRAY(&it)) {
			bson_t arr, v;
			int i = 0;

			BSON_APPEND_ARRAY_BEGIN(out, k, &arr);
			bson_iter_recurse(&it, &vit);
			while (bson_iter_next(&vit)) {
				snprintf(key, sizeof(key), "%d", i++);
				bson_append_document_begin(&arr, key, -1, &v);
				bson_iter_recurse(&vit, &fit);
				while (bson_iter_next(&fit)) {
					if (strcmp(bson_iter_key(&fit), "sku") == 0 &&
					    BSON_ITER_HOLDS_UTF8(&fit)) {
						snprintf(buf, sizeof(buf), "%s-C%d",
							 bson_iter_utf8(&fit, NULL), c);
						BSON_APPEND_UTF8(&v, "sku", buf);
					} else {
						bson_append_iter(&v, NULL, 0, &fit);
					}
				}
				bson_append_document_end(&arr, &v);
			}
			bson_append_array_end(out, &arr);
		} else {
			bson_append_iter(out, NULL, 0, &it);
		}
	}
}

int main(int argc, char **argv)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	mongoc_bulk_operation_t *bulk = NULL;
	bson_t *seeds[MAX_SEED], filter = BSON_INITIALIZER, reply;
	const bson_t *doc;
	bson_error_t err;
	int64_t have, total;
	int nseed = 0, c = 1, inbulk = 0, rc = 1;

	if (argc != 4 || (total = atoll(argv[3])) < 1) {
		fprintf(stderr, "usage: scale MONGODB_URI DB TOTAL\n");
		return 2;
	}
	mongoc_init();
	client = mongoc_client_new(argv[1]);
	if (!client) {
		fprintf(stderr, "scale: bad URI\n");
		return 2;
	}
	coll = mongoc_client_get_collection(client, argv[2], "products");
	have = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &err);
	if (have < 0) {
		fprintf(stderr, "scale: count: %s\n", err.message);
		goto done;
	}
	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	while (nseed < MAX_SEED && mongoc_cursor_next(cur, &doc))
		seeds[nseed++] = bson_copy(doc);
	if (mongoc_cursor_error(cur, &err))
		fprintf(stderr, "scale: read: %s\n", err.message);
	mongoc_cursor_destroy(cur);
	if (nseed == 0) {
		fprintf(stderr, "scale: no products to copy (run seed-demo first)\n");
		goto done;
	}
	for (int64_t n = have; n < total; n++) {
		bson_t copy;

		if (!bulk)
			bulk = mongoc_collection_create_bulk_operation_with_opts(coll, NULL);
		copy_product(seeds[(n - have) % nseed], c, &copy);
		if ((n - have) % nseed == nseed - 1)
			c++;
		mongoc_bulk_operation_insert(bulk, &copy);
		bson_destroy(&copy);
		if (++inbulk == 1000 || n + 1 == total) {
			bool ok = mongoc_bulk_operation_execute(bulk, &reply, &err);

			bson_destroy(&reply);
			mongoc_bulk_operation_destroy(bulk);
			bulk = NULL;
			inbulk = 0;
			if (!ok) {
				fprintf(stderr, "scale: insert: %s\n", err.message);
				goto done;
			}
		}
	}
	have = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &err);
	printf("products %" PRId64 "\n", have);
	rc = have >= total ? 0 : 1;
done:
	for (int i = 0; i < nseed; i++)
		bson_destroy(seeds[i]);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	mongoc_cleanup();
	return rc;
}
