/*
 * bench.c - the database stand-in's throughput from the C driver, as the
 * application uses it: N product-like documents with a unique index on
 * sku, then finds by _id, finds by the indexed sku, and single inserts.
 * Prints one "name ops/s" line per measurement.
 *
 *   bench URI N
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bson_t *product(int i)
{
	char title[64], sku[32];

	snprintf(title, sizeof(title), "Product number %d deluxe edition", i);
	snprintf(sku, sizeof(sku), "SKU-%08d", i);
	return BCON_NEW("_id", BCON_INT32(i), "sku", BCON_UTF8(sku), "title", BCON_UTF8(title),
			"description", BCON_UTF8("A fine product with a long description that fills "
						 "some bytes of the document, like real catalog entries do."),
			"price", BCON_INT64(1999 + i), "stock", BCON_INT32(i % 100),
			"tags", "[", BCON_UTF8("alpha"), BCON_UTF8("beta"), "]",
			"created_at", BCON_DATE_TIME(1700000000000LL));
}

static int find_loop(mongoc_collection_t *coll, const char *field, int n, int iters)
{
	int found = 0;

	for (int i = 0; i < iters; i++) {
		int k = (int)(((long)i * 7919) % n);
		char sku[32];
		bson_t *q;
		mongoc_cursor_t *cur;
		const bson_t *d;

		snprintf(sku, sizeof(sku), "SKU-%08d", k);
		q = field[0] == '_' ? BCON_NEW("_id", BCON_INT32(k)) : BCON_NEW("sku", BCON_UTF8(sku));
		cur = mongoc_collection_find_with_opts(coll, q, NULL, NULL);
		if (mongoc_cursor_next(cur, &d))
			found++;
		mongoc_cursor_destroy(cur);
		bson_destroy(q);
	}
	return found;
}

int main(int argc, char **argv)
{
	mongoc_client_t *c;
	mongoc_collection_t *coll;
	bson_error_t e;
	bson_t *cmd;
	int n, iters = 20000, found;
	double t0, t1;

	if (argc != 3 || (n = atoi(argv[2])) < 1000) {
		fprintf(stderr, "usage: bench URI N (N >= 1000)\n");
		return 2;
	}
	mongoc_init();
	c = mongoc_client_new(argv[1]);
	if (!c)
		return 1;
	coll = mongoc_client_get_collection(c, "bench", "products");
	mongoc_collection_drop(coll, NULL);
	cmd = BCON_NEW("createIndexes", BCON_UTF8("products"), "indexes", "[", "{",
		       "key", "{", "sku", BCON_INT32(1), "}", "name", BCON_UTF8("sku_unique"),
		       "unique", BCON_BOOL(true), "}", "]");
	if (!mongoc_collection_write_command_with_opts(coll, cmd, NULL, NULL, &e)) {
		fprintf(stderr, "createIndexes: %s\n", e.message);
		return 1;
	}
	t0 = now_s();
	for (int i = 0; i < n; i += 1000) {
		mongoc_bulk_operation_t *b = mongoc_collection_create_bulk_operation_with_opts(coll, NULL);

		for (int j = i; j < i + 1000 && j < n; j++) {
			bson_t *d = product(j);

			mongoc_bulk_operation_insert(b, d);
			bson_destroy(d);
		}
		if (!mongoc_bulk_operation_execute(b, NULL, &e)) {
			fprintf(stderr, "bulk insert: %s\n", e.message);
			return 1;
		}
		mongoc_bulk_operation_destroy(b);
	}
	t1 = now_s();
	printf("bulk_insert %.0f\n", n / (t1 - t0));

	t0 = now_s();
	found = find_loop(coll, "_id", n, iters);
	t1 = now_s();
	printf("find_by_id %.0f\n", iters / (t1 - t0));
	if (found != iters)
		fprintf(stderr, "warning: found %d of %d\n", found, iters);

	t0 = now_s();
	found = find_loop(coll, "sku", n, iters);
	t1 = now_s();
	printf("find_by_indexed_field %.0f\n", iters / (t1 - t0));
	if (found != iters)
		fprintf(stderr, "warning: found %d of %d\n", found, iters);

	t0 = now_s();
	for (int i = 0; i < 5000; i++) {
		bson_t *d = product(n + i);

		if (!mongoc_collection_insert_one(coll, d, NULL, NULL, &e)) {
			fprintf(stderr, "insert: %s\n", e.message);
			return 1;
		}
		bson_destroy(d);
	}
	t1 = now_s();
	printf("insert_one %.0f\n", 5000 / (t1 - t0));
	bson_destroy(cmd);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(c);
	mongoc_cleanup();
	return 0;
}
