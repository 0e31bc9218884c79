/*
 * Unit tests for src/catalog/catalog.c (names, product validation,
 * cursors) and the core helpers that came out of it (ids, time, bsonjson).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/bsonjson.h"
#include "core/digest.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/time.h"

static void test_names(void **state)
{
	(void)state;
	assert_true(catalog_slug_valid("red-shirt-2"));
	assert_false(catalog_slug_valid("Red"));
	assert_false(catalog_slug_valid("-a"));
	assert_false(catalog_slug_valid(""));
	assert_false(catalog_slug_valid("a/b"));
	assert_true(catalog_sku_valid("TS-01.red_M"));
	assert_false(catalog_sku_valid("a b"));
	assert_false(catalog_sku_valid("$x"));
	assert_true(catalog_option_name_valid("size"));
	assert_false(catalog_option_name_valid("Size"));
}

static bool build(const char *text, bson_t *out, struct em_error *err)
{
	json_object *in = em_json_parse(text, strlen(text), 65536, EM_JSON_MAX_DEPTH, err);
	bool ok;

	assert_non_null(in);
	ok = catalog_product_build(in, "BDT", NULL, out, err);
	json_object_put(in);
	return ok;
}

static void test_build(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	bson_t out = BSON_INITIALIZER;
	bson_iter_t it;

	(void)state;
	assert_true(build("{\"title\": \"T\", \"slug\": \"t\", \"variants\": ["
			  "{\"sku\": \"A\", \"options\": {\"size\": \"M\"}, \"price\": 500, \"stock\": 3},"
			  "{\"sku\": \"B\", \"options\": {\"color\": \"red\"}, \"price\": 200}]}",
			  &out, &err));
	assert_true(bson_iter_init_find(&it, &out, "min_price"));
	assert_true(BSON_ITER_HOLDS_INT64(&it));
	assert_int_equal(bson_iter_int64(&it), 200);
	assert_true(bson_iter_init_find(&it, &out, "max_price"));
	assert_int_equal(bson_iter_int64(&it), 500);
	assert_true(bson_iter_init_find(&it, &out, "total_stock"));
	assert_int_equal(bson_iter_int64(&it), 3);
	assert_true(bson_iter_init_find(&it, &out, "currency"));
	assert_string_equal(bson_iter_utf8(&it, NULL), "BDT");
	assert_true(bson_iter_init_find(&it, &out, "status"));
	assert_string_equal(bson_iter_utf8(&it, NULL), "draft");
	bson_destroy(&out);

	static const struct { const char *body, *field; } bad[] = {
		{ "{\"title\": \"T\", \"slug\": \"t\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": -1}]}", "variants[0].price" },
		{ "{\"title\": \"T\", \"slug\": \"t\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1.5}]}", "variants[0].price" },
		{ "{\"title\": \"T\", \"slug\": \"t\", \"variants\": [{\"sku\": \"A\", \"options\": {\"fit\": \"x\"}, \"price\": 1}]}", "variants[0].options.fit" },
		{ "{\"title\": \"T\", \"slug\": \"t\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1}, {\"sku\": \"A\", \"options\": {}, \"price\": 1}]}", "variants[1].sku" },
		{ "{\"title\": \"T\", \"slug\": \"t\", \"variants\": []}", "variants" },
		{ "{\"title\": \"T\", \"slug\": \"T\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1}]}", "slug" },
		{ "{\"slug\": \"t\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1}]}", "title" },
		{ "{\"title\": \"T\", \"slug\": \"t\", \"status\": \"live\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1}]}", "status" },
		{ "{\"title\": \"T\", \"slug\": \"t\", \"currency\": \"usd\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1}]}", "currency" },
		{ "{\"title\": \"T\", \"slug\": \"t\", \"x\": 1, \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1}]}", "x" },
		{ "{\"title\": \"T\\u0001\", \"slug\": \"t\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1}]}", "title" },
		{ "{\"title\": \"T\", \"slug\": \"t\", \"variants\": [{\"sku\": \"A\", \"options\": {}, \"price\": 1000000000001}]}", "variants[0].price" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bson_t o = BSON_INITIALIZER;

		em_error_clear(&err);
		assert_false(build(bad[i].body, &o, &err));
		assert_int_equal(err.kind, EM_ERR_INVALID);
		assert_string_equal(err.field, bad[i].field);
		bson_destroy(&o);
	}
}

/* Slugs made from titles (catalog_slug_from_title). */
static void test_slug_from_title(void **state)
{
	static const struct { const char *title, *slug; } cases[] = {
		{ "Waterproof Boots", "waterproof-boots" },
		{ "  --Caf\xc3\xa9  D\xc3\xa9j\xc3\xa0 Vu!! ", "cafe-deja-vu" },
		{ "Stra\xc3\x9f" "e \xc3\x98resund \xc3\x86ther \xc5\x81\xc3\xb3" "d\xc5\xba", "strasse-oresund-aether-lodz" },
		{ "Men's Rock\xe2\x80\x99n Roll", "mens-rockn-roll" },
		{ "\xe6\x97\xa5\xe6\x9c\xac", "" },
		{ "A\xf0\x9f\x98\x80" "B", "a-b" },
		{ "---", "" },
	};
	char out[CATALOG_SLUG_MAX + 1], big[400];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		catalog_slug_from_title(cases[i].title, out, sizeof out);
		assert_string_equal(out, cases[i].slug);
	}
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	catalog_slug_from_title(big, out, sizeof out);
	assert_int_equal(strlen(out), CATALOG_SLUG_BASE_MAX);
	/* a dash at the cut is trimmed */
	memset(big, 'x', CATALOG_SLUG_BASE_MAX - 1);
	big[CATALOG_SLUG_BASE_MAX - 1] = ' ';
	catalog_slug_from_title(big, out, sizeof out);
	assert_int_equal(strlen(out), CATALOG_SLUG_BASE_MAX - 1);
	assert_true(catalog_slug_valid(out));
	/* a small buffer bounds it too */
	catalog_slug_from_title("abcdef", out, 4);
	assert_string_equal(out, "abc");
}

/* Every field error at once, each with its code. */
static void test_build_collects(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	bson_t o = BSON_INITIALIZER;

	(void)state;
	assert_false(build("{\"title\": 1, \"slug\": \"t\", \"options\": [\"Size\"], \"variants\": ["
			   "{\"sku\": \"A\", \"options\": {\"zzz\": \"M\"}, \"price\": -1}]}", &o, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_string_equal(err.field, "title");
	assert_string_equal(em_error_code(&err), "invalid_type");
	/* options[0] is faulty, so variants[0].options.zzz is not checked */
	assert_int_equal(err.n_more, 2);
	assert_string_equal(err.more[0].field, "options[0]");
	assert_string_equal(err.more[0].code, "invalid_format");
	assert_string_equal(err.more[1].field, "variants[0].price");
	assert_string_equal(err.more[1].code, "out_of_range");
	assert_false(err.collect);
	bson_destroy(&o);
}

static void test_cursor(void **state)
{
	struct catalog_cursor c = { 0 }, d;
	struct em_error err = EM_ERROR_INIT;
	char buf[128];

	(void)state;
	c.sort = 'a';
	c.ival = 12345;
	bson_oid_init_from_string(&c.id, "0123456789abcdef01234567");
	catalog_cursor_encode(&c, buf, sizeof(buf));
	assert_true(catalog_cursor_decode(buf, &d, &err));
	assert_int_equal(d.sort, 'a');
	assert_int_equal(d.ival, 12345);
	assert_true(bson_oid_equal(&c.id, &d.id));
	c.sort = 'r';
	c.dval = 1.0 / 3.0;
	catalog_cursor_encode(&c, buf, sizeof(buf));
	assert_true(catalog_cursor_decode(buf, &d, &err));
	assert_true(d.dval == c.dval);
	assert_false(catalog_cursor_decode("not a cursor", &d, &err));
	assert_string_equal(err.field, "cursor");
	assert_false(catalog_cursor_decode("", &d, &err));
	assert_false(catalog_cursor_decode("eDoxOjA", &d, &err)); /* "x:1:0" */
	/* a sort key past int64 is refused, not saturated:
	 * "i:99999999999999999999:0123456789abcdef01234567" */
	assert_false(catalog_cursor_decode("aTo5OTk5OTk5OTk5OTk5OTk5OTk5OTowMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc",
					   &d, &err));
	assert_true(catalog_cursor_decode("aTo5MjIzMzcyMDM2ODU0Nzc1ODA3OjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nw",
					  &d, &err)); /* "i:9223372036854775807:..." */
	assert_true(d.ival == INT64_MAX);
}

static void test_core_helpers(void **state)
{
	char buf[EM_TIME_RFC3339_SIZE], small[8];
	bson_oid_t oid;
	bson_t doc = BSON_INITIALIZER;
	json_object *j, *v;

	(void)state;
	assert_true(em_oid_parse("0123456789ABCDEF01234567", &oid));
	bson_oid_to_string(&oid, buf);
	assert_string_equal(buf, "0123456789abcdef01234567");
	assert_false(em_oid_parse("0123456789abcdef0123456", &oid));
	assert_false(em_oid_parse("0123456789abcdef012345678", &oid));
	assert_false(em_oid_parse("0123456789abcdef0123456g", &oid));
	assert_false(em_oid_parse(NULL, &oid));

	assert_true(em_time_rfc3339(INT64_C(1764579120123), buf, sizeof(buf)));
	assert_string_equal(buf, "2025-12-01T08:52:00.123Z");
	assert_true(em_time_rfc3339(0, buf, sizeof(buf)));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	assert_true(em_time_rfc3339(-1, buf, sizeof(buf))); /* floored, not truncated */
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	assert_false(em_time_rfc3339(0, small, sizeof(small)));
	assert_false(em_time_rfc3339(INT64_MAX, buf, sizeof(buf)));
	assert_true(em_now_ms() > INT64_C(1764579120123));

	BSON_APPEND_DATE_TIME(&doc, "at", INT64_C(1764579120123));
	BSON_APPEND_INT32(&doc, "n", 7);
	bson_oid_init_from_string(&oid, "0123456789abcdef01234567");
	BSON_APPEND_OID(&doc, "_id", &oid);
	j = em_bson_to_json(&doc);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "at", &v));
	assert_string_equal(json_object_get_string(v), "2025-12-01T08:52:00.123Z");
	assert_true(json_object_object_get_ex(j, "n", &v));
	assert_true(json_object_is_type(v, json_type_int));
	assert_true(json_object_object_get_ex(j, "_id", &v));
	assert_string_equal(json_object_get_string(v), "0123456789abcdef01234567");
	json_object_put(j);
	bson_destroy(&doc);
}

/* The public ETag's digest: the same bytes the same digest (on every host:
 * pinned values), any byte or the length changed another one. */
static void test_digest(void **state)
{
	static const char body[] = "{\"slug\":\"men-tops-001\",\"title\":\"Oxford shirt\"}";
	char buf[sizeof body];
	uint64_t base = em_digest64(body, sizeof body - 1);

	(void)state;

	assert_true(em_digest64("", 0) != em_digest64("\0", 1));
	assert_true(em_digest64("a", 1) != em_digest64("a\0", 2));
	assert_true(em_digest64("abcdefgh", 8) != em_digest64("abcdefgh\0", 9));
	assert_true(base == em_digest64(body, sizeof body - 1));
	/* every single-bit change of every byte moves it */
	for (size_t i = 0; i < sizeof body - 1; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, body, sizeof body);
			buf[i] = (char)(buf[i] ^ (1 << bit));
			assert_true(em_digest64(buf, sizeof body - 1) != base);
		}
	/* little-endian words whatever the CPU: fixed values, so a tag one
	 * host gave is the tag every host computes */
	assert_true(base == UINT64_C(0x25c5ca2dce153b3f));
	assert_true(em_digest64("", 0) == UINT64_C(0x93351475dd625ff1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_slug_from_title),
		cmocka_unit_test(test_build_collects),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_core_helpers),
		cmocka_unit_test(test_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
