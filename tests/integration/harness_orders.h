/*
 * harness_orders.h - what the orders suites share: customers with an
 * address and a cart, products made through the admin API, placing an
 * order through nginx, and reading stock back.
 */
#ifndef EM_TEST_HARNESS_ORDERS_H
#define EM_TEST_HARNESS_ORDERS_H

#include <json-c/json.h>

#include "harness.h"
#include "harness_catalog.h"

struct ho_customer {
	char token[2048];
	char auth[2200];      /* "Authorization: Bearer ..." */
	char id[25];
	char email[256];
	char address[25];     /* an address in Dhaka */
};

/* A verified customer (planted, or through the real sign-up when real),
 * with a Dhaka address in the book. */
void ho_customer_new(struct ho_customer *c, bool real);
/* A request as c (NULL: anonymous) with a JSON body and extra headers. */
struct h_resp ho_req(const struct ho_customer *c, const char *method, const char *path,
		     const char *body, const char *const *extra);
/* Adds quantity of sku (the run-tagged name) to c's cart; asserts success. */
void ho_cart_add(const struct ho_customer *c, const char *sku, long quantity);
/* POST /api/v1/orders with Idempotency-Key key (NULL: none) and body (NULL:
 * c's address, cod). */
struct h_resp ho_place(const struct ho_customer *c, const char *key, const char *body);
/* A product with one variant per (sku, price, stock); SKUs get the run tag. */
void ho_product(const char *name, const char *variants, char *id_out);
/* The run-tagged SKU name (a static buffer of 8 in rotation). */
const char *ho_sku(const char *name);
/* A variant's stock, read as staff (GET /admin/products/{id}). */
long ho_stock(const char *product_id, const char *tagged_sku);
/* A random Idempotency-Key. */
void ho_key(char out[33]);
/* The string member key of a response's JSON body into buf. */
const char *ho_jstr(const struct h_resp *r, const char *path, char *buf, size_t size);

#endif
