/* harness_catalog.c - see harness_catalog.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness_catalog.h"

char hc_staff_tok[2048], hc_cust_tok[2048], hc_staff_auth[2200], hc_cust_auth[2200];
char hc_tag[32];

void hc_init(void)
{
	snprintf(hc_tag, sizeof(hc_tag), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid() & 0xfff);
	/* the callers come through the real sign-up: register, mail, verify, login */
	h_user_register("staff", hc_staff_tok, sizeof(hc_staff_tok), NULL, 0);
	h_user_register("customer", hc_cust_tok, sizeof(hc_cust_tok), NULL, 0);
	h_bearer(hc_staff_tok, hc_staff_auth, sizeof(hc_staff_auth));
	h_bearer(hc_cust_tok, hc_cust_auth, sizeof(hc_cust_auth));
}

/* Every SKU a test writes gets the run's tag, so runs never collide. */
char *hc_tag_skus(const char *body)
{
	size_t cap = strlen(body) * 2 + 64, o = 0;
	char *out = malloc(cap);
	const char *p = body;

	while (*p) {
		if (strncmp(p, "\"sku\": \"", 8) == 0) {
			const char *end = strchr(p + 8, '"');

			if (end) {
				o += (size_t)snprintf(out + o, cap - o, "%.*s-%s", (int)(end - p), p, hc_tag);
				p = end;
				continue;
			}
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

struct h_resp hc_staff(const char *method, const char *path, const char *body,
			   const char *extra)
{
	const char *h[] = { hc_staff_auth, "Content-Type: application/json", extra, NULL };
	char *b = body ? hc_tag_skus(body) : NULL;
	struct h_resp r = h_request(method, path, b, b ? strlen(b) : 0, h);

	free(b);
	return r;
}

json_object *hc_jget(json_object *o, const char *path)
{
	/* "a.b.0.c" */
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(o, tok, &o))
			return NULL;
	}
	return o;
}

const char *hc_jstr(json_object *o, const char *path)
{
	json_object *v = hc_jget(o, path);

	return v ? json_object_get_string(v) : NULL;
}

/* Creates a product; returns its id in out (25 bytes). */
void hc_make_product(const char *slug, const char *title, const char *desc,
			 const char *brand, const char *category, const char *variants,
			 const char *status, char *out)
{
	char body[4096];
	struct h_resp r;
	json_object *j;

	snprintf(body, sizeof(body),
		 "{\"title\": \"%s\", \"slug\": \"%s\", \"description\": \"%s\","
		 " \"brand\": \"%s\", \"category\": %s%s%s, \"status\": \"%s\","
		 " \"options\": [\"size\", \"color\"], \"variants\": %s}",
		 title, slug, desc, brand, category ? "\"" : "", category ? category : "null",
		 category ? "\"" : "", status, variants);
	r = hc_staff("POST", "/api/v1/admin/products", body, NULL);
	if (r.status != 201)
		fprintf(stderr, "create %s: %ld %s\n", slug, r.status, r.body);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(out, 25, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

void hc_make_category(const char *slug, const char *parent, int pos, char *out)
{
	char body[512];
	struct h_resp r;
	json_object *j;

	snprintf(body, sizeof(body), "{\"slug\": \"%s\", \"name\": \"Cat %s\", \"position\": %d,"
		 " \"parent\": %s%s%s}", slug, slug, pos, parent ? "\"" : "",
		 parent ? parent : "null", parent ? "\"" : "");
	r = hc_staff("POST", "/api/v1/admin/categories", body, NULL);
	assert_int_equal(r.status, 201);
	j = h_json(&r);
	snprintf(out, 25, "%s", hc_jstr(j, "id"));
	json_object_put(j);
	h_resp_free(&r);
}

static mongoc_client_t *hc_plans_client;

bool hc_plans_cmd(const char *extra_json, bson_t *out)
{
	char json[256];
	bson_t *cmd;
	bson_error_t err;
	bool ok;

	snprintf(json, sizeof(json), "{\"standinQueryPlans\": 1%s%s}", extra_json ? ", " : "",
		 extra_json ? extra_json : "");
	cmd = bson_new_from_json((const uint8_t *)json, -1, &err);
	assert_non_null(cmd);
	ok = mongoc_client_command_simple(hc_plans_client, "admin", cmd, NULL, out, &err);
	if (!ok)
		fprintf(stderr, "  standinQueryPlans: %s\n", err.message);
	bson_destroy(cmd);
	return ok;
}

bool hc_plans_open(void)
{
	bson_t reply;
	bool on;

	hc_plans_client = mongoc_client_new(h_env("STACK_MONGODB_URI"));
	assert_non_null(hc_plans_client);
	on = hc_plans_cmd("\"record\": true", &reply);
	bson_destroy(&reply);
	if (!on)
		fprintf(stderr, "  the database has no standinQueryPlans (not the stand-in)\n");
	return on;
}

void hc_plans_clear(void)
{
	bson_t reply;

	assert_true(hc_plans_cmd("\"clear\": true", &reply));
	bson_destroy(&reply);
}

void hc_plans_close(void)
{
	bson_t reply;

	if (!hc_plans_client)
		return;
	if (hc_plans_cmd("\"record\": false", &reply))
		bson_destroy(&reply);
	mongoc_client_destroy(hc_plans_client);
	hc_plans_client = NULL;
}
