/*
 * Unit tests for src/jobs: retry backoff, template rendering and HTML
 * escaping, the shipped templates, header-injection refusal, MIME and
 * quoted-printable building. No database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/jobs.h"
#include "jobs/mail.h"

#define TEMPLATES EM_TOP_SRCDIR "/templates"

/* ---- backoff ---- */

static void test_backoff_bounds(void **state)
{
	(void)state;
	/* the ceiling is base * 2^(attempts-1): rnd = ceiling hits it exactly */
	assert_int_equal(jobs_backoff_ms(1, 1000, JOBS_BACKOFF_CAP_MS, 1000), 1000);
	assert_int_equal(jobs_backoff_ms(1, 1000, JOBS_BACKOFF_CAP_MS, 1001), 0);
	assert_int_equal(jobs_backoff_ms(2, 1000, JOBS_BACKOFF_CAP_MS, 2000), 2000);
	assert_int_equal(jobs_backoff_ms(3, 1000, JOBS_BACKOFF_CAP_MS, 4000), 4000);
	assert_int_equal(jobs_backoff_ms(3, 1000, JOBS_BACKOFF_CAP_MS, 0), 0);
	for (int32_t a = 1; a <= 100; a++) {
		for (uint64_t r = 0; r < 2000; r += 97) {
			uint64_t rnd = r * 0x9E3779B97F4A7C15ULL;
			int64_t d = jobs_backoff_ms(a, 500, 60000, rnd);
			int64_t ceiling = a >= 8 ? 60000 : 500LL << (a - 1);

			assert_true(d >= 0);
			assert_true(d <= ceiling);
		}
	}
	/* huge attempts and a cap near the limit of int64 do not overflow */
	assert_true(jobs_backoff_ms(INT32_MAX, 30000, INT64_MAX / 2, UINT64_MAX) >= 0);
	assert_true(jobs_backoff_ms(60, 1, JOBS_BACKOFF_CAP_MS, UINT64_MAX) <= JOBS_BACKOFF_CAP_MS);
	/* base above the cap: the cap wins */
	assert_true(jobs_backoff_ms(1, 10000, 5000, UINT64_MAX) <= 5000);
	assert_int_equal(jobs_backoff_ms(1, 0, 5000, 12345), 0);
}

static void test_backoff_jitter_spreads(void **state)
{
	int64_t seen_low = 0, seen_high = 0;
	uint64_t x = 88172645463325252ULL;

	(void)state;
	/* full jitter: over many draws the delays cover the whole range */
	for (int i = 0; i < 1000; i++) {
		int64_t d;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d = jobs_backoff_ms(4, 1000, JOBS_BACKOFF_CAP_MS, x);
		assert_true(d >= 0 && d <= 8000);
		if (d < 2000)
			seen_low++;
		if (d > 6000)
			seen_high++;
	}
	assert_true(seen_low > 100);
	assert_true(seen_high > 100);
}

static void test_error_permanence(void **state)
{
	struct em_error e = EM_ERROR_INIT;

	(void)state;
	e.kind = EM_ERR_INVALID;
	assert_true(jobs_error_is_permanent(&e));
	e.kind = EM_ERR_NOT_FOUND;
	assert_true(jobs_error_is_permanent(&e));
	e.kind = EM_ERR_UNAVAILABLE;
	assert_false(jobs_error_is_permanent(&e));
	e.kind = EM_ERR_INTERNAL;
	assert_false(jobs_error_is_permanent(&e));
}

/* ---- templates ---- */

static char *render(const char *tpl, const char *vars_json, bool html, struct em_error *err)
{
	bson_error_t berr;
	bson_t *vars = bson_new_from_json((const uint8_t *)vars_json, -1, &berr);
	bson_string_t *out = bson_string_new(NULL);
	char *res = NULL;

	assert_non_null(vars);
	if (mail_template_render(tpl, strlen(tpl), vars, html, out, err))
		res = bson_string_free(out, false);
	else
		bson_string_free(out, true);
	bson_destroy(vars);
	return res;
}

static void test_template_vars(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char *s;

	(void)state;
	s = render("Hi {{name}}, code {{ code }}.", "{\"name\": \"Ann\", \"code\": \"123456\"}",
		   false, &err);
	assert_non_null(s);
	assert_string_equal(s, "Hi Ann, code 123456.");
	bson_free(s);

	s = render("{{n}}/{{m}}", "{\"n\": 5, \"m\": {\"$numberLong\": \"9000000000\"}}", true,
		   &err);
	assert_non_null(s);
	assert_string_equal(s, "5/9000000000");
	bson_free(s);

	/* text without tags, and a single brace, pass through */
	s = render("a { b } c", "{}", false, &err);
	assert_non_null(s);
	assert_string_equal(s, "a { b } c");
	bson_free(s);
}

static void test_template_escaping(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	const char *vars = "{\"name\": \"<script>alert('x')</script> & \\\"Co\\\"\"}";
	char *s;

	(void)state;
	s = render("<p>{{name}}</p>", vars, true, &err);
	assert_non_null(s);
	assert_string_equal(s, "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
			       "&quot;Co&quot;</p>");
	bson_free(s);
	/* the text part carries the value as is */
	s = render("{{name}}", vars, false, &err);
	assert_non_null(s);
	assert_string_equal(s, "<script>alert('x')</script> & \"Co\"");
	bson_free(s);
	/* a value that looks like a tag is not expanded again */
	s = render("{{a}}", "{\"a\": \"{{b}}\", \"b\": \"no\"}", true, &err);
	assert_non_null(s);
	assert_string_equal(s, "{{b}}");
	bson_free(s);
}

static void test_template_errors(void **state)
{
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_null(render("Hi {{name}}", "{}", false, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_string_equal(err.field, "name");
	assert_non_null(strstr(err.message, "not set"));

	assert_null(render("Hi {{name", "{\"name\": \"x\"}", false, &err));
	assert_non_null(strstr(err.message, "never closed"));

	assert_null(render("{{bad name}}", "{}", false, &err));
	assert_null(render("{{}}", "{}", false, &err));
	assert_null(render("{{/items}}", "{\"items\": []}", false, &err));

	assert_null(render("{{x}}", "{\"x\": 1.5}", false, &err));
	assert_string_equal(err.field, "x");
	assert_null(render("{{x}}", "{\"x\": {\"a\": 1}}", false, &err));
	assert_null(render("{{x}}", "{\"x\": null}", false, &err));

	assert_null(render("{{#items}}x", "{\"items\": []}", false, &err));
	assert_non_null(strstr(err.message, "never closed"));
	assert_null(render("{{#items}}x{{/items}}", "{\"items\": \"no\"}", false, &err));
	assert_null(render("{{#items}}x{{/items}}", "{\"items\": [1, 2]}", false, &err));
	assert_null(render("{{#items}}{{price}}{{/items}}", "{\"items\": [{\"title\": \"a\"}]}",
			   false, &err));
	assert_string_equal(err.field, "price");
}

static void test_template_sections(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char *s;

	(void)state;
	s = render("{{#items}}[{{title}} x{{qty}} {{cur}}]{{/items}} total",
		   "{\"cur\": \"BDT\", \"items\": [{\"title\": \"A&B\", \"qty\": 2}, "
		   "{\"title\": \"C\", \"qty\": 1, \"cur\": \"USD\"}]}",
		   true, &err);
	assert_non_null(s);
	/* element first, then the outer vars; values escaped in HTML */
	assert_string_equal(s, "[A&amp;B x2 BDT][C x1 USD] total");
	bson_free(s);

	s = render("a{{#items}}x{{/items}}b", "{\"items\": []}", false, &err);
	assert_non_null(s);
	assert_string_equal(s, "ab");
	bson_free(s);

	/* nested sections of the same name close at the right tag */
	s = render("{{#l}}({{#l}}{{v}}{{/l}}){{/l}}",
		   "{\"l\": [{\"l\": [{\"v\": 1}, {\"v\": 2}]}, {\"l\": []}]}", false, &err);
	assert_non_null(s);
	assert_string_equal(s, "(12)()");
	bson_free(s);
}

static void test_template_names(void **state)
{
	(void)state;
	assert_true(mail_template_name_valid("verify_email"));
	assert_true(mail_template_name_valid("low_stock2"));
	assert_false(mail_template_name_valid(""));
	assert_false(mail_template_name_valid(NULL));
	assert_false(mail_template_name_valid("../etc/passwd"));
	assert_false(mail_template_name_valid("a/b"));
	assert_false(mail_template_name_valid("Verify"));
	assert_false(mail_template_name_valid("a.b"));
}

/* Renders a shipped template with vars; checks a needle in each part. */
static void check_shipped(const char *name, const char *vars_json, const char *subject_needle,
			  const char *text_needle, const char *html_needle)
{
	struct em_error err = EM_ERROR_INIT;
	struct mail_rendered r;
	bson_error_t berr;
	bson_t *vars = bson_new_from_json((const uint8_t *)vars_json, -1, &berr);

	assert_non_null(vars);
	if (!mail_render(TEMPLATES, name, vars, &r, &err))
		fail_msg("template %s: %s", name, err.message);
	if (!strstr(r.subject, subject_needle))
		fail_msg("%s subject: %s", name, r.subject);
	assert_null(strpbrk(r.subject, "\r\n"));
	if (!strstr(r.text, text_needle))
		fail_msg("%s text lacks %s", name, text_needle);
	if (!strstr(r.html, html_needle))
		fail_msg("%s html lacks %s", name, html_needle);
	assert_null(strstr(r.text, "{{"));
	assert_null(strstr(r.html, "{{"));
	mail_rendered_release(&r);
	/* without vars every shipped template refuses to render */
	bson_reinit(vars);
	assert_false(mail_render(TEMPLATES, name, vars, &r, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_true(err.field[0] != '\0');
	bson_destroy(vars);
}

static void test_shipped_templates(void **state)
{
	(void)state;
	check_shipped("verify_email", "{\"name\": \"Ann <Admin>\", \"code\": \"482913\"}",
		      "482913", "Hello Ann <Admin>,", "Hello Ann &lt;Admin&gt;,");
	check_shipped("password_reset", "{\"name\": \"Ann\", \"code\": \"771204\"}", "771204",
		      "771204", "771204");
	check_shipped("account_exists", "{\"name\": \"Ann\"}", "already", "Hello Ann",
		      "Hello Ann");
	check_shipped("order_confirmation",
		      "{\"name\": \"Ann\", \"order_id\": \"EM-1001\", \"total\": \"BDT 1,250.00\","
		      " \"address\": \"House 1\\nDhaka\", \"items\": [{\"title\": \"Tee & Co\","
		      " \"quantity\": 2, \"price\": \"BDT 500.00\"}, {\"title\": \"Cap\","
		      " \"quantity\": 1, \"price\": \"BDT 250.00\"}]}",
		      "EM-1001", "2 x Tee & Co", "<td>Tee &amp; Co</td>");
	check_shipped("order_shipped",
		      "{\"name\": \"Ann\", \"order_id\": \"EM-1001\", \"carrier\": \"Pathao\","
		      " \"tracking_number\": \"PT123\"}",
		      "EM-1001", "Tracking number: PT123", "PT123");
	check_shipped("order_delivered", "{\"name\": \"Ann\", \"order_id\": \"EM-1001\"}",
		      "delivered", "EM-1001", "EM-1001");
	check_shipped("low_stock",
		      "{\"sku\": \"TEE-RED-M\", \"title\": \"Red tee\", \"stock\": 3, \"threshold\": 5}",
		      "TEE-RED-M (3 left)", "threshold 5", "Red tee");
}

static void test_missing_template(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	struct mail_rendered r;
	bson_t vars = BSON_INITIALIZER;

	(void)state;
	assert_false(mail_render(TEMPLATES, "no_such_template", &vars, &r, &err));
	assert_int_equal(err.kind, EM_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "no_such_template"));
	assert_false(mail_render(TEMPLATES, "../templates/verify_email", &vars, &r, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	bson_destroy(&vars);
}

/* ---- addresses, headers, MIME ---- */

static void test_addresses(void **state)
{
	char name[128], addr[128];
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_true(mail_address_valid("ann@example.com"));
	assert_true(mail_address_valid("staff@localhost"));
	assert_true(mail_address_valid("a.b+tag@sub.example.co.uk"));
	assert_false(mail_address_valid("ann@example.com\r\nBcc: eve@evil.test"));
	assert_false(mail_address_valid("ann@example.com\n"));
	assert_false(mail_address_valid("ann example@x.com"));
	assert_false(mail_address_valid("<ann@x.com>"));
	assert_false(mail_address_valid("ann@x.com,eve@y.com"));
	assert_false(mail_address_valid("annx.com"));
	assert_false(mail_address_valid("@x.com"));
	assert_false(mail_address_valid("a@"));
	assert_false(mail_address_valid("a@b@c"));
	assert_false(mail_address_valid("a@b..c"));
	assert_false(mail_address_valid("\xc3\xa9@x.com"));
	assert_false(mail_address_valid(NULL));

	assert_true(mail_from_parse("Emporium Demo <shop@localhost>", name, sizeof(name), addr,
				    sizeof(addr), &err));
	assert_string_equal(name, "Emporium Demo");
	assert_string_equal(addr, "shop@localhost");
	assert_true(mail_from_parse("\"Shop, Inc.\" <a@b.test>", name, sizeof(name), addr,
				    sizeof(addr), &err));
	assert_string_equal(name, "Shop, Inc.");
	assert_true(mail_from_parse("a@b.test", name, sizeof(name), addr, sizeof(addr), &err));
	assert_string_equal(name, "");
	assert_string_equal(addr, "a@b.test");
	assert_false(mail_from_parse("Shop <a@b.test>\r\nBcc: e@v.test", name, sizeof(name), addr,
				     sizeof(addr), &err));
	assert_false(mail_from_parse("Shop <a@b.test> x", name, sizeof(name), addr, sizeof(addr),
				     &err));
	assert_false(mail_from_parse("Shop <not an address>", name, sizeof(name), addr,
				     sizeof(addr), &err));
}

static struct mail_message good_message(void)
{
	struct mail_message m = {
		.from = "Emporium Demo <shop@localhost>",
		.to = "ann@example.test",
		.subject = "Your code: 123456",
		.text = "Hello,\nyour code is 123456.\n",
		.html = "<p>Hello, your code is <b>123456</b>.</p>\n",
		.message_id = "emporium.job.0123456789abcdef01234567@localhost",
		.date = 1700000000,
	};
	return m;
}

static void test_header_injection_refused(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	struct mail_message m;
	size_t len;

	(void)state;
	m = good_message();
	m.subject = "Hello\r\nBcc: eve@evil.test";
	assert_null(mail_message_build(&m, &len, &err));
	assert_string_equal(err.field, "subject");
	m = good_message();
	m.subject = "Hello\nX-Evil: 1";
	assert_null(mail_message_build(&m, &len, &err));
	m = good_message();
	m.to = "ann@example.test\r\nBcc: eve@evil.test";
	assert_null(mail_message_build(&m, &len, &err));
	assert_string_equal(err.field, "to");
	m = good_message();
	m.from = "Shop\r\nBcc: eve@evil.test <shop@localhost>";
	assert_null(mail_message_build(&m, &len, &err));
	m = good_message();
	m.message_id = "x@y>\r\nBcc: eve@evil.test";
	assert_null(mail_message_build(&m, &len, &err));
	m = good_message();
	m.subject = "";
	assert_null(mail_message_build(&m, &len, &err));
}

/* Decodes quoted-printable (soft breaks, =XX) for the round-trip check. */
static char *qp_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	assert_non_null(out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=' && i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < len) {
			unsigned v;

			assert_int_equal(sscanf(s + i + 1, "%2X", &v), 1);
			*o++ = (char)v;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static void test_qp_encoding(void **state)
{
	const char *in = "Line one = equal\n.starts with a dot\ntrailing blank \n"
			 "caf\xc3\xa9 \xe0\xa6\x9f\xe0\xa6\xbe\xe0\xa6\x95\xe0\xa6\xbe 1250\n"
			 "a very long line that goes on and on and on well past the seventy-six "
			 "character limit of quoted printable encoding, which must be broken\n";
	const char *expect = "Line one = equal\r\n.starts with a dot\r\ntrailing blank \r\n"
			     "caf\xc3\xa9 \xe0\xa6\x9f\xe0\xa6\xbe\xe0\xa6\x95\xe0\xa6\xbe 1250\r\n"
			     "a very long line that goes on and on and on well past the seventy-six "
			     "character limit of quoted printable encoding, which must be broken\r\n";
	bson_string_t *out = bson_string_new(NULL);
	char *dec, *line, *save = NULL;

	(void)state;
	mail_qp_encode(out, in, strlen(in));
	assert_non_null(strstr(out->str, "=3D"));
	assert_non_null(strstr(out->str, "\r\n=2Estarts"));
	assert_non_null(strstr(out->str, "blank=20\r\n"));
	assert_non_null(strstr(out->str, "caf=C3=A9"));
	dec = qp_decode(out->str, out->len);
	assert_string_equal(dec, expect);
	free(dec);
	/* 7-bit, and no line longer than 76 characters */
	for (size_t i = 0; i < out->len; i++)
		assert_true((unsigned char)out->str[i] < 0x80);
	for (line = strtok_r(out->str, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		assert_true(strlen(line) <= 77); /* 76 + the CR */
	bson_string_free(out, true);
}

static void test_header_encoding(void **state)
{
	bson_string_t *out = bson_string_new(NULL);
	const char *bn = "\xe0\xa6\x85\xe0\xa6\xb0\xe0\xa7\x8d\xe0\xa6\xa1\xe0\xa6\xbe\xe0\xa6\xb0 "
			 "\xe0\xa6\xa8\xe0\xa6\xbf\xe0\xa6\xb6\xe0\xa7\x8d\xe0\xa6\x9a\xe0\xa6\xbf"
			 "\xe0\xa6\xa4 \xe0\xa6\xb9\xe0\xa6\xaf\xe0\xa6\xbc\xe0\xa7\x87\xe0\xa6\x9b"
			 "\xe0\xa7\x87 EM-1001";

	(void)state;
	mail_header_encode(out, "Plain subject");
	assert_string_equal(out->str, "Plain subject");
	bson_string_truncate(out, 0);
	mail_header_encode(out, bn);
	assert_memory_equal(out->str, "=?UTF-8?B?", 10);
	assert_non_null(strstr(out->str, "\r\n =?UTF-8?B?")); /* folded into several words */
	for (size_t i = 0; i < out->len; i++)
		assert_true((unsigned char)out->str[i] < 0x80);
	bson_string_truncate(out, 0);
	mail_header_encode(out, "Looks =?like?= a word");
	assert_memory_equal(out->str, "=?UTF-8?B?", 10);
	bson_string_free(out, true);
}

static void test_mime_message(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	struct mail_message m = good_message();
	char boundary[64], *msg, *p, *b;
	size_t len, n = 0;

	(void)state;
	m.from = "Caf\xc3\xa9 Shop <shop@localhost>";
	msg = mail_message_build(&m, &len, &err);
	assert_non_null(msg);
	assert_int_equal(strlen(msg), len);
	assert_memory_equal(msg, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n", 39);
	assert_non_null(strstr(msg, "\r\nFrom: =?UTF-8?B?"));
	assert_non_null(strstr(msg, "?= <shop@localhost>\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: ann@example.test\r\n"));
	assert_non_null(strstr(msg, "\r\nSubject: Your code: 123456\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <emporium.job.0123456789abcdef01234567@localhost>\r\n"));
	assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n"));
	assert_non_null(strstr(msg, "Content-Type: text/html; charset=UTF-8\r\n"));
	assert_non_null(strstr(msg, "Content-Transfer-Encoding: quoted-printable\r\n"));
	/* every LF is part of a CRLF */
	for (size_t i = 0; i < len; i++)
		if (msg[i] == '\n')
			assert_true(i > 0 && msg[i - 1] == '\r');
	/* the boundary opens both parts and closes the body */
	p = strstr(msg, "multipart/alternative; boundary=\"");
	assert_non_null(p);
	p += strlen("multipart/alternative; boundary=\"");
	b = strchr(p, '"');
	assert_non_null(b);
	snprintf(boundary, sizeof(boundary), "--%.*s", (int)(b - p), p);
	for (p = strstr(msg, boundary); p; p = strstr(p + 1, boundary))
		n++;
	assert_int_equal(n, 3);
	strncat(boundary, "--\r\n", sizeof(boundary) - strlen(boundary) - 1);
	assert_non_null(strstr(msg, boundary));
	assert_non_null(strstr(msg, "your code is 123456."));
	bson_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_jitter_spreads),
		cmocka_unit_test(test_error_permanence),
		cmocka_unit_test(test_template_vars),
		cmocka_unit_test(test_template_escaping),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_template_sections),
		cmocka_unit_test(test_template_names),
		cmocka_unit_test(test_shipped_templates),
		cmocka_unit_test(test_missing_template),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_header_injection_refused),
		cmocka_unit_test(test_qp_encoding),
		cmocka_unit_test(test_header_encoding),
		cmocka_unit_test(test_mime_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
