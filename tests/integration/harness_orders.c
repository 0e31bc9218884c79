/* harness_orders.c - see harness_orders.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_orders.h"

void ho_customer_new(struct ho_customer *c, bool real)
{
	struct h_resp r;
	json_object *j;
	char filter[128], *doc;

	memset(c, 0, sizeof *c);
	if (real)
		h_user_register("customer", c->token, sizeof c->token, c->id, sizeof c->id);
	else
		h_user_token("customer", c->token, sizeof c->token, c->id, sizeof c->id);
	h_bearer(c->token, c->auth, sizeof c->auth);
	snprintf(filter, sizeof filter, "{\"_id\": {\"$oid\": \"%s\"}}", c->id);
	doc = h_db_find_json("users", filter);
	assert_non_null(doc);
	j = json_tokener_parse(doc);
	assert_non_null(j);
	snprintf(c->email, sizeof c->email, "%s", hc_jstr(j, "email"));
	json_object_put(j);
	free(doc);
	r = ho_req(c, "POST", "/api/v1/me/addresses",
		   "{\"name\": \"Rahim Uddin\", \"line1\": \"12 Road 5\", \"city\": \"Dhaka\","
		   " \"postal_code\": \"1207\", \"country\": \"BD\", \"phone\": \"+8801711000000\"}",
		   NULL);
	if (r.status != 201)
		fail_msg("address: %ld %s", r.status, r.body);
	j = h_json(&r);
	snprintf(c->address, sizeof c->address, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

struct h_resp ho_req(const struct ho_customer *c, const char *method, const char *path,
		     const char *body, const char *const *extra)
{
	const char *h[8];
	int n = 0;

	if (c)
		h[n++] = c->auth;
	if (body)
		h[n++] = "Content-Type: application/json";
	for (int i = 0; extra && extra[i] && n < 7; i++)
		h[n++] = extra[i];
	h[n] = NULL;
	return h_request(method, path, body, body ? strlen(body) : 0, h);
}

const char *ho_sku(const char *name)
{
	static char buf[8][96];
	static int n;
	char *b = buf[n++ % 8];

	snprintf(b, 96, "%s-%s", name, hc_tag);
	return b;
}

void ho_cart_add(const struct ho_customer *c, const char *sku, long quantity)
{
	char body[256];
	struct h_resp r;

	snprintf(body, sizeof body, "{\"sku\": \"%s\", \"quantity\": %ld}", sku, quantity);
	r = ho_req(c, "POST", "/api/v1/cart/items", body, NULL);
	if (r.status != 200 && r.status != 201)
		fail_msg("cart add %s: %ld %s", sku, r.status, r.body);
	h_resp_free(&r);
}

void ho_key(char out[33])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof b);
	sodium_bin2hex(out, 33, b, sizeof b);
}

struct h_resp ho_place(const struct ho_customer *c, const char *key, const char *body)
{
	char hdr[300], def[256];
	const char *extra[2] = { NULL, NULL };

	if (key) {
		snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
		extra[0] = hdr;
	}
	if (!body) {
		snprintf(def, sizeof def,
			 "{\"shipping_address_id\": \"%s\", \"payment_method\": \"cod\"}", c->address);
		body = def;
	}
	return ho_req(c, "POST", "/api/v1/orders", body, extra);
}

void ho_product(const char *name, const char *variants, char *id_out)
{
	char slug[128];

	snprintf(slug, sizeof slug, "order-%s-%s", name, hc_tag);
	for (char *p = slug; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (*p == ' ')
			*p = '-';
	hc_make_product(slug, name, "for the orders suites", hc_tag, NULL, variants, "active",
			id_out);
}

long ho_stock(const char *product_id, const char *tagged_sku)
{
	char path[128];
	struct h_resp r;
	json_object *j, *vs;
	long stock = -1;

	snprintf(path, sizeof path, "/api/v1/admin/products/%s", product_id);
	r = hc_staff("GET", path, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = h_json(&r);
	vs = hc_jget(j, "variants");
	for (size_t i = 0; vs && i < json_object_array_length(vs); i++) {
		json_object *v = json_object_array_get_idx(vs, i), *s;

		if (strcmp(hc_jstr(v, "sku"), tagged_sku) == 0 &&
		    json_object_object_get_ex(v, "stock", &s))
			stock = (long)json_object_get_int64(s);
	}
	json_object_put(j);
	h_resp_free(&r);
	return stock;
}

const char *ho_jstr(const struct h_resp *r, const char *path, char *buf, size_t size)
{
	json_object *j = h_json(r);
	const char *s = j ? hc_jstr(j, path) : NULL;

	snprintf(buf, size, "%s", s ? s : "");
	json_object_put(j);
	return buf;
}
