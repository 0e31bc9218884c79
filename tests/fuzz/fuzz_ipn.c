/*
 * fuzz_ipn - what SSLCOMMERZ (or anyone on the internet) POSTs to the IPN
 * and return URLs: the form parser (src/payments/form.c), verify_sign
 * (src/payments/sign.c) and the gateway's amounts (src/payments/amount.c).
 *
 * Input: byte 0 is the mode (bit 0: this harness signs the parsed form
 * with the store password before verifying it, so the verification's own
 * rules are reached; bit 1: the signed form's amount is then changed), the
 * rest is the form body. Checked: a parsed form keeps every bound of
 * payments.h (fields, key characters, value length and bytes, no key
 * twice); a form verifies only when verify_key names every field the
 * payment path reads, once each, and never after a signed field changed;
 * an amount that parses formats back to a string that parses to the same
 * number of minor units.
 */
#include <stdbool.h>
#include <strings.h>

#include "fuzz.h"
#include "payments/payments.h"

#define FUZZ_STORE_PASSWORD "fuzz-store-password@ssl"

/* Whether the comma-separated list names name as a whole item. */
static bool list_has(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

static void check_form(const struct em_kv_list *form)
{
	FUZZ_CHECK(form->n <= PAYMENTS_FORM_MAX_FIELDS);
	for (size_t i = 0; i < form->n; i++) {
		const char *k = form->items[i].key, *v = form->items[i].value;

		FUZZ_CHECK(strlen(k) >= 1 && strlen(k) <= PAYMENTS_FORM_KEY_MAX);
		FUZZ_CHECK(strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
			   strlen(k));
		FUZZ_CHECK(strlen(v) <= PAYMENTS_FORM_VALUE_MAX);
		for (const char *c = v; *c; c++)
			FUZZ_CHECK((unsigned char)*c >= 0x20 || *c == '\t');
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(form->items[j].key, k) != 0);
	}
}

static void check_amount(const char *s)
{
	for (int exponent = 0; exponent <= 2; exponent += 2) {
		char text[PAYMENTS_AMOUNT_MAX + 8];
		int64_t minor = -1, again = -1;

		if (!payments_amount_parse(s, exponent, &minor))
			continue;
		FUZZ_CHECK(minor >= 0);
		FUZZ_CHECK(payments_amount_format(minor, exponent, text, sizeof(text)));
		FUZZ_CHECK(payments_amount_parse(text, exponent, &again) && again == minor);
	}
}

/* Sets (or replaces) key in form; the list owns the copies. */
static void form_set(struct em_kv_list *form, const char *key, const char *value)
{
	for (size_t i = 0; i < form->n; i++) {
		if (strcmp(form->items[i].key, key) == 0) {
			free(form->items[i].value);
			form->items[i].value = xstrdup(value);
			return;
		}
	}
	form->items = xrealloc(form->items, (form->n + 1) * sizeof(*form->items));
	form->items[form->n].key = xstrdup(key);
	form->items[form->n].value = xstrdup(value);
	form->n++;
}

static void check_signed(struct em_kv_list *form, bool tamper)
{
	static const char *const required[] = { "status", "tran_id", "val_id", "amount",
						"currency", "store_id", "risk_level", "bank_tran_id" };
	const char *keys = em_kv_list_get(form, "verify_key");
	char sig[33];
	bool covered = true, ok;

	if (!keys || list_has(keys, "verify_sign") ||
	    !payments_sslcommerz_sign(form, FUZZ_STORE_PASSWORD, sig))
		return;
	form_set(form, "verify_sign", sig);
	keys = em_kv_list_get(form, "verify_key");
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		covered = covered && list_has(keys, required[i]);
	ok = payments_sslcommerz_verify(form, FUZZ_STORE_PASSWORD);
	FUZZ_CHECK(ok == covered);
	/* another password never verifies it */
	FUZZ_CHECK(!payments_sslcommerz_verify(form, "another-password"));
	if (ok && tamper) {
		const char *amount = em_kv_list_get(form, "amount");
		char changed[PAYMENTS_FORM_VALUE_MAX + 2];

		snprintf(changed, sizeof(changed), "%s0", amount ? amount : "");
		form_set(form, "amount", changed);
		FUZZ_CHECK(!payments_sslcommerz_verify(form, FUZZ_STORE_PASSWORD));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_kv_list form = { NULL, 0 };
	struct em_error err = EM_ERROR_INIT;
	char *body;
	unsigned mode;

	if (size < 1)
		return 0;
	mode = data[0];
	/* a buffer of exactly the body's size: ASan sees any overread */
	body = xmalloc(size - 1 ? size - 1 : 1);
	memcpy(body, data + 1, size - 1);
	if (!payments_form_parse(body, size - 1, &form, &err)) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID || err.kind == EM_ERR_TOO_LARGE);
		FUZZ_CHECK(form.items == NULL && form.n == 0);
		free(body);
		return 0;
	}
	FUZZ_CHECK(size - 1 <= PAYMENTS_FORM_MAX_LEN);
	check_form(&form);
	for (size_t i = 0; i < form.n; i++)
		if (strstr(form.items[i].key, "amount"))
			check_amount(form.items[i].value);
	{
		int e = payments_currency_exponent(em_kv_list_get(&form, "currency"));

		FUZZ_CHECK(e == 0 || e == 2);
	}
	/* as it came: a forged verify_sign never passes */
	if (em_kv_list_get(&form, "verify_sign") && payments_sslcommerz_verify(&form, FUZZ_STORE_PASSWORD)) {
		char sig[33];

		FUZZ_CHECK(payments_sslcommerz_sign(&form, FUZZ_STORE_PASSWORD, sig));
		FUZZ_CHECK(strncasecmp(sig, em_kv_list_get(&form, "verify_sign"), 32) == 0);
	}
	if (mode & 1)
		check_signed(&form, mode & 2);
	em_kv_list_release(&form);
	free(body);
	return 0;
}
