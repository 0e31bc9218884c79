/*
 * harness_catalog.h - what the catalog suites share (split from
 * test_catalog.c): a staff and a customer caller, a run tag that keeps
 * each run's SKUs, slugs and brands apart, product and category makers.
 *
 * Public GETs are micro-cached by nginx for 5 s per URL, so each test
 * uses a brand of its own (the run tag) and never reads the same public
 * URL twice expecting a change.
 */
#ifndef EM_TEST_HARNESS_CATALOG_H
#define EM_TEST_HARNESS_CATALOG_H

#include <bson/bson.h>
#include <json-c/json.h>

#include "harness.h"

extern char hc_staff_tok[2048], hc_cust_tok[2048], hc_staff_auth[2200], hc_cust_auth[2200];
extern char hc_tag[32];

/* Call once after h_init(): the tag and the two callers' tokens. */
void hc_init(void);

/* A copy of body with the run's tag appended to every "sku" (free it). */
char *hc_tag_skus(const char *body);
/* A request as staff with a JSON body (SKUs tagged) and one extra header. */
struct h_resp hc_staff(const char *method, const char *path, const char *body,
		       const char *extra);
/* The member at a dotted path ("a.b.0.c"), or NULL; its string value. */
json_object *hc_jget(json_object *o, const char *path);
const char *hc_jstr(json_object *o, const char *path);
/* Creates a product (201 or the test fails); its id into out (25 bytes). */
void hc_make_product(const char *slug, const char *title, const char *desc,
		     const char *brand, const char *category, const char *variants,
		     const char *status, char *out);
/* Creates a category (201 or the test fails); its id into out (25 bytes). */
void hc_make_category(const char *slug, const char *parent, int pos, char *out);

/*
 * The database stand-in's log of the queries it answered (test command
 * standinQueryPlans, --enable-test-commands): hc_plans_open() connects
 * and starts recording (false: the database has no such command, not
 * the stand-in), hc_plans_cmd() runs {standinQueryPlans: 1, <extra>}
 * with its reply into out, hc_plans_clear() empties the log,
 * hc_plans_close() stops recording.
 */
bool hc_plans_open(void);
bool hc_plans_cmd(const char *extra_json, bson_t *out);
void hc_plans_clear(void);
void hc_plans_close(void);

#endif
