/*
 * Unit tests for src/payments: amounts to and from the gateway's decimal
 * text (no floating point, exact both ways), the IPN form parser's bounds,
 * and verify_sign against vectors computed independently (Node's crypto,
 * the stand-in's algorithm: md5 of the sorted k=v pairs with
 * store_passwd = md5(password)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payments/payments.h"

static void test_amount_format(void **state)
{
	char buf[32];

	(void)state;
	assert_true(payments_amount_format(0, 2, buf, sizeof buf));
	assert_string_equal(buf, "0.00");
	assert_true(payments_amount_format(5, 2, buf, sizeof buf));
	assert_string_equal(buf, "0.05");
	assert_true(payments_amount_format(10, 2, buf, sizeof buf));
	assert_string_equal(buf, "0.10");
	assert_true(payments_amount_format(115000, 2, buf, sizeof buf));
	assert_string_equal(buf, "1150.00");
	assert_true(payments_amount_format(123456789, 2, buf, sizeof buf));
	assert_string_equal(buf, "1234567.89");
	assert_true(payments_amount_format(INT64_MAX, 2, buf, sizeof buf));
	assert_string_equal(buf, "92233720368547758.07");
	assert_true(payments_amount_format(1234, 0, buf, sizeof buf));
	assert_string_equal(buf, "1234");
	/* refused: negative, unknown exponent, too small a buffer */
	assert_false(payments_amount_format(-1, 2, buf, sizeof buf));
	assert_false(payments_amount_format(INT64_MIN, 2, buf, sizeof buf));
	assert_false(payments_amount_format(100, 3, buf, sizeof buf));
	assert_false(payments_amount_format(115000, 2, buf, 7));
	assert_true(payments_amount_format(115000, 2, buf, 8));
}

static void test_amount_parse(void **state)
{
	int64_t v = -7;

	(void)state;
	assert_true(payments_amount_parse("1150.00", 2, &v));
	assert_int_equal(v, 115000);
	assert_true(payments_amount_parse("1150", 2, &v));
	assert_int_equal(v, 115000);
	assert_true(payments_amount_parse("1150.5", 2, &v));
	assert_int_equal(v, 115050);
	assert_true(payments_amount_parse("0.01", 2, &v));
	assert_int_equal(v, 1);
	/* trailing zeros past the exponent are exact; other digits are not */
	assert_true(payments_amount_parse("10.5000", 2, &v));
	assert_int_equal(v, 1050);
	assert_false(payments_amount_parse("10.001", 2, &v));
	assert_false(payments_amount_parse("10.999", 2, &v));
	assert_true(payments_amount_parse("92233720368547758.07", 2, &v));
	assert_int_equal(v, INT64_MAX);
	assert_false(payments_amount_parse("92233720368547758.08", 2, &v));
	assert_false(payments_amount_parse("92233720368547759", 2, &v));
	assert_false(payments_amount_parse("99999999999999999999", 2, &v));
	assert_true(payments_amount_parse("1234", 0, &v));
	assert_int_equal(v, 1234);
	assert_false(payments_amount_parse("1234.5", 0, &v));
	assert_true(payments_amount_parse("1234.0", 0, &v));
	assert_int_equal(v, 1234);
	v = 42;
	/* what a float parser or strtoll would take, and we must not */
	static const char *const bad[] = { "", ".", "1.", ".5", "-1.00", "+1.00", " 1.00", "1.00 ",
					   "1e3", "0x10", "1,150.00", "1.0.0", "NaN", "inf",
					   "1150.00\n", "１", "12a" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(payments_amount_parse(bad[i], 2, &v));
		assert_int_equal(v, 42); /* untouched on failure */
	}
	assert_false(payments_amount_parse(NULL, 2, &v));
	assert_false(payments_amount_parse("1.00", 1, &v));
}

/* Every value from 0 to 100000 minor units, and some large ones, survives
 * format -> parse exactly (a double would round some of these). */
static void test_amount_roundtrip(void **state)
{
	char buf[32];
	int64_t v;
	static const int64_t big[] = { 999999999999LL, 4503599627370497LL, 9007199254740993LL,
				       INT64_MAX - 1, INT64_MAX };

	(void)state;
	for (int64_t m = 0; m <= 100000; m++) {
		assert_true(payments_amount_format(m, 2, buf, sizeof buf));
		assert_true(payments_amount_parse(buf, 2, &v));
		assert_int_equal(v, m);
	}
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		assert_true(payments_amount_format(big[i], 2, buf, sizeof buf));
		assert_true(payments_amount_parse(buf, 2, &v));
		assert_true(v == big[i]);
	}
	assert_int_equal(payments_currency_exponent("BDT"), 2);
	assert_int_equal(payments_currency_exponent("JPY"), 0);
}

static void test_form_parse(void **state)
{
	struct em_kv_list f;
	struct em_error err = EM_ERROR_INIT;
	char *big;
	const char *body = "status=VALID&tran_id=EM01&card_issuer=STANDARD+CHARTERED%20BANK&empty=&v=a%3Db%26c";

	(void)state;
	assert_true(payments_form_parse(body, strlen(body), &f, &err));
	assert_int_equal(f.n, 5);
	assert_string_equal(em_kv_list_get(&f, "card_issuer"), "STANDARD CHARTERED BANK");
	assert_string_equal(em_kv_list_get(&f, "empty"), "");
	assert_string_equal(em_kv_list_get(&f, "v"), "a=b&c");
	em_kv_list_release(&f);

	/* a key given twice could hide a value behind the signed one */
	assert_false(payments_form_parse("amount=1.00&amount=2.00", 23, &f, &err));
	assert_string_equal(err.field, "amount");
	assert_null(f.items);
	/* malformed keys and values, escapes, NUL */
	assert_false(payments_form_parse("a$b=1", 5, &f, &err));
	assert_false(payments_form_parse("a.b=1", 5, &f, &err));
	assert_false(payments_form_parse("=1", 2, &f, &err));
	assert_false(payments_form_parse("a=%zz", 5, &f, &err));
	assert_false(payments_form_parse("a=%00", 5, &f, &err));
	assert_false(payments_form_parse("a=x%0Ay", 7, &f, &err));
	assert_false(payments_form_parse("a=1\0b=2", 7, &f, &err));
	assert_false(payments_form_parse("", 0, &f, &err));
	/* the bounds: length, field count, value length */
	big = malloc(PAYMENTS_FORM_MAX_LEN + 2);
	assert_non_null(big);
	memset(big, 'a', PAYMENTS_FORM_MAX_LEN + 1);
	big[0] = 'k';
	big[1] = '=';
	big[PAYMENTS_FORM_MAX_LEN + 1] = '\0';
	em_error_clear(&err);
	assert_false(payments_form_parse(big, PAYMENTS_FORM_MAX_LEN + 1, &f, &err));
	assert_int_equal(err.kind, EM_ERR_TOO_LARGE);
	big[PAYMENTS_FORM_VALUE_MAX + 3] = '\0';
	assert_false(payments_form_parse(big, PAYMENTS_FORM_VALUE_MAX + 3, &f, &err));
	assert_true(payments_form_parse(big, PAYMENTS_FORM_VALUE_MAX + 2, &f, &err));
	em_kv_list_release(&f);
	{
		size_t used = 0;

		for (int i = 0; i <= PAYMENTS_FORM_MAX_FIELDS; i++)
			used += (size_t)snprintf(big + used, PAYMENTS_FORM_MAX_LEN + 2 - used, "%sf%d=1",
						 i ? "&" : "", i);
		assert_false(payments_form_parse(big, used, &f, &err));
	}
	free(big);
}

static void form_make(struct em_kv_list *f, const char *body)
{
	struct em_error err = EM_ERROR_INIT;

	assert_true(payments_form_parse(body, strlen(body), f, &err));
}

#define SIGNED_FIELDS "amount=1150.00&bank_tran_id=BT1&currency=BDT&risk_level=0&status=VALID" \
		      "&store_id=demo&tran_id=EM0001&val_id=V1"
#define SIGNED_KEY "verify_key=amount%2Cbank_tran_id%2Ccurrency%2Crisk_level%2Cstatus%2Cstore_id" \
		   "%2Ctran_id%2Cval_id"

static void test_sign(void **state)
{
	struct em_kv_list f;
	char out[33];

	(void)state;
	assert_true(payments_md5_hex("", 0, out));
	assert_string_equal(out, "d41d8cd98f00b204e9800998ecf8427e");
	assert_true(payments_md5_hex("abc", 3, out));
	assert_string_equal(out, "900150983cd24fb0d6963f7d28e17f72");

	/* Node: md5("amount=1150.00&...&store_passwd=" + md5("demo-secret") + "&tran_id=...") */
	form_make(&f, SIGNED_FIELDS "&verify_sign=1091fec75ea13d2d1b6f9dd8c9dbc6e1&" SIGNED_KEY);
	assert_true(payments_sslcommerz_sign(&f, "demo-secret", out));
	assert_string_equal(out, "1091fec75ea13d2d1b6f9dd8c9dbc6e1");
	assert_true(payments_sslcommerz_verify(&f, "demo-secret"));
	assert_false(payments_sslcommerz_verify(&f, "other-store"));
	em_kv_list_release(&f);

	/* the same in upper case hex is the same signature */
	form_make(&f, SIGNED_FIELDS "&verify_sign=1091FEC75EA13D2D1B6F9DD8C9DBC6E1&" SIGNED_KEY);
	assert_true(payments_sslcommerz_verify(&f, "demo-secret"));
	em_kv_list_release(&f);

	/* any signed field changed */
	form_make(&f, "amount=1150.01&bank_tran_id=BT1&currency=BDT&risk_level=0&status=VALID"
		      "&store_id=demo&tran_id=EM0001&val_id=V1&verify_sign=1091fec75ea13d2d1b6f9dd8c9dbc6e1&"
		      SIGNED_KEY);
	assert_false(payments_sslcommerz_verify(&f, "demo-secret"));
	em_kv_list_release(&f);
	form_make(&f, "amount=1150.00&bank_tran_id=BT1&currency=BDT&risk_level=1&status=VALID"
		      "&store_id=demo&tran_id=EM0001&val_id=V1&verify_sign=1091fec75ea13d2d1b6f9dd8c9dbc6e1&"
		      SIGNED_KEY);
	assert_false(payments_sslcommerz_verify(&f, "demo-secret"));
	em_kv_list_release(&f);

	/* verify_key trimmed: amount no longer signed - refused even if the
	 * signature matched what remains */
	form_make(&f, SIGNED_FIELDS "&verify_sign=1091fec75ea13d2d1b6f9dd8c9dbc6e1"
		      "&verify_key=bank_tran_id%2Ccurrency%2Crisk_level%2Cstatus%2Cstore_id%2Ctran_id%2Cval_id");
	assert_true(payments_sslcommerz_sign(&f, "demo-secret", out));
	em_kv_list_release(&f);
	{
		char body[600];

		snprintf(body, sizeof body, SIGNED_FIELDS "&verify_sign=%s&verify_key=bank_tran_id"
			 "%%2Ccurrency%%2Crisk_level%%2Cstatus%%2Cstore_id%%2Ctran_id%%2Cval_id", out);
		form_make(&f, body);
		assert_false(payments_sslcommerz_verify(&f, "demo-secret"));
		em_kv_list_release(&f);
	}
	/* a sender that names store_passwd, a name twice, or no signature */
	form_make(&f, SIGNED_FIELDS "&store_passwd=x&verify_sign=1091fec75ea13d2d1b6f9dd8c9dbc6e1&"
		      SIGNED_KEY "%2Cstore_passwd");
	assert_false(payments_sslcommerz_sign(&f, "demo-secret", out));
	assert_false(payments_sslcommerz_verify(&f, "demo-secret"));
	em_kv_list_release(&f);
	form_make(&f, SIGNED_FIELDS "&verify_sign=1091fec75ea13d2d1b6f9dd8c9dbc6e1&" SIGNED_KEY
		      "%2Camount");
	assert_false(payments_sslcommerz_verify(&f, "demo-secret"));
	em_kv_list_release(&f);
	form_make(&f, SIGNED_FIELDS "&" SIGNED_KEY);
	assert_false(payments_sslcommerz_verify(&f, "demo-secret"));
	em_kv_list_release(&f);
	form_make(&f, SIGNED_FIELDS "&verify_sign=1091fec75ea13d2d1b6f9dd8c9dbc6e");
	assert_false(payments_sslcommerz_verify(&f, "demo-secret"));
	em_kv_list_release(&f);
}

static void test_tran_id(void **state)
{
	char a[PAYMENTS_TRAN_ID_MAX + 1], b[PAYMENTS_TRAN_ID_MAX + 1];

	(void)state;
	payments_tran_id_new(a);
	payments_tran_id_new(b);
	assert_int_equal(strlen(a), 26);
	assert_true(strlen(a) <= PAYMENTS_TRAN_ID_MAX);
	assert_memory_equal(a, "EM", 2);
	assert_string_not_equal(a, b);
	assert_true(payments_log_field_secret("store_passwd"));
	assert_true(payments_log_field_secret("verify_sign"));
	assert_false(payments_log_field_secret("amount"));
}

/* what the gateway is sent always has two decimal places */
static void test_amount_gateway(void **state)
{
	char buf[32], small[7];
	int64_t back;

	(void)state;
	assert_true(payments_amount_gateway(156000, "BDT", buf, sizeof buf));
	assert_string_equal(buf, "1560.00");
	assert_true(payments_amount_gateway(7999, "USD", buf, sizeof buf));
	assert_string_equal(buf, "79.99");
	assert_true(payments_amount_gateway(1234, "JPY", buf, sizeof buf));
	assert_string_equal(buf, "1234.00");
	/* and it reads back to the same minor units */
	assert_true(payments_amount_parse(buf, payments_currency_exponent("JPY"), &back));
	assert_int_equal(back, 1234);
	assert_true(payments_amount_gateway(123, "JPY", small, sizeof small));
	assert_string_equal(small, "123.00");
	assert_false(payments_amount_gateway(1234, "JPY", small, sizeof small));
	assert_false(payments_amount_gateway(-1, "BDT", buf, sizeof buf));
}

/* EMPORIUM_SSLCOMMERZ_MODE picks the host; the override wins over both */
static void test_base_url(void **state)
{
	struct payments_config pc;

	(void)state;
	memset(&pc, 0, sizeof pc);
	snprintf(pc.mode, sizeof pc.mode, "sandbox");
	assert_string_equal(payments_sslcommerz_base(&pc), "https://sandbox.sslcommerz.com");
	snprintf(pc.mode, sizeof pc.mode, "live");
	assert_string_equal(payments_sslcommerz_base(&pc), "https://securepay.sslcommerz.com");
	snprintf(pc.base_url, sizeof pc.base_url, "http://127.0.0.1:9999");
	assert_string_equal(payments_sslcommerz_base(&pc), "http://127.0.0.1:9999");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amount_format),
		cmocka_unit_test(test_amount_parse),
		cmocka_unit_test(test_amount_roundtrip),
		cmocka_unit_test(test_form_parse),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_tran_id),
		cmocka_unit_test(test_base_url),
		cmocka_unit_test(test_amount_gateway),
	};

	return cmocka_run_group_tests_name("payments", tests, NULL, NULL);
}
