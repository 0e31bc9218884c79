/*
 * form.c - the IPN's and the browser returns' form bodies
 * (application/x-www-form-urlencoded), bounded: the sender is anyone on
 * the internet until verify_sign says otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "http/parse.h"
#include "payments/payments.h"

static bool form_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > PAYMENTS_FORM_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

static bool form_value_ok(const char *v)
{
	size_t n = strlen(v);

	if (n > PAYMENTS_FORM_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
			return false;
	return true;
}

bool payments_form_parse(const char *body, size_t len, struct em_kv_list *out,
			 struct em_error *err)
{
	size_t pos = 0;
	char *k = NULL, *v = NULL;

	out->items = NULL;
	out->n = 0;
	if (len > PAYMENTS_FORM_MAX_LEN) {
		em_error_set(err, EM_ERR_TOO_LARGE, NULL, "the form is larger than %d bytes",
			     PAYMENTS_FORM_MAX_LEN);
		return false;
	}
	if (!body || len == 0) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the form is empty");
		return false;
	}
	if (memchr(body, '\0', len)) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the form holds a NUL byte");
		return false;
	}
	out->items = xcalloc(PAYMENTS_FORM_MAX_FIELDS, sizeof(*out->items));
	while (pos < len) {
		const char *start = body + pos, *amp = memchr(start, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - start) : len - pos;
		const char *eq = memchr(start, '=', plen);

		pos += plen + (amp ? 1 : 0);
		if (plen == 0)
			continue;
		if (out->n == PAYMENTS_FORM_MAX_FIELDS) {
			em_error_set(err, EM_ERR_INVALID, NULL, "more than %d fields",
				     PAYMENTS_FORM_MAX_FIELDS);
			goto fail;
		}
		if (!em_url_decode(start, eq ? (size_t)(eq - start) : plen, true, &k, err))
			goto fail;
		if (!em_url_decode(eq ? eq + 1 : start + plen, eq ? plen - (size_t)(eq - start) - 1 : 0,
				   true, &v, err))
			goto fail;
		if (!form_key_ok(k)) {
			em_error_set(err, EM_ERR_INVALID, NULL, "a field name is malformed");
			goto fail;
		}
		if (!form_value_ok(v)) {
			em_error_set(err, EM_ERR_INVALID, k, "the value is too long or malformed");
			goto fail;
		}
		if (em_kv_list_get(out, k)) {
			em_error_set(err, EM_ERR_INVALID, k, "is given twice");
			goto fail;
		}
		out->items[out->n].key = k;
		out->items[out->n].value = v;
		out->n++;
		k = v = NULL;
	}
	return true;
fail:
	free(k);
	free(v);
	em_kv_list_release(out);
	return false;
}
