/*
 * sign.c - SSLCOMMERZ's verify_sign, as the official PHP and Python SDKs
 * check it (../shared/SSLCOMMERZ.md §2). MD5 is the protocol's choice,
 * not ours: it is used here and nowhere else.
 */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "payments/payments.h"

bool payments_md5_hex(const void *data, size_t len, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	bool ok = EVP_Digest(data, len, md, &n, EVP_md5(), NULL) == 1 && n == 16;

	if (ok)
		for (unsigned int i = 0; i < 16; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	sodium_memzero(md, sizeof md);
	return ok;
}

struct sign_pair {
	const char *key;
	const char *value;
};

static int sign_pair_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sign_pair *)a)->key, ((const struct sign_pair *)b)->key);
}

bool payments_sslcommerz_sign(const struct em_kv_list *form, const char *password, char out[33])
{
	const char *keys = em_kv_list_get(form, "verify_key");
	struct sign_pair pairs[PAYMENTS_FORM_MAX_FIELDS + 1];
	char pw_md5[33], *names = NULL, *save = NULL, *buf = NULL;
	size_t n = 0, cap = 0, used = 0;
	bool ok = false;

	if (!keys || !keys[0] || !password || !payments_md5_hex(password, strlen(password), pw_md5))
		return false;
	names = xstrdup(keys);
	for (char *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const char *v = em_kv_list_get(form, name);

		/* store_passwd is ours to add; a sender naming it is not the gateway */
		if (n == PAYMENTS_FORM_MAX_FIELDS || strcmp(name, "store_passwd") == 0)
			goto done;
		for (size_t i = 0; i < n; i++)
			if (strcmp(pairs[i].key, name) == 0)
				goto done;
		pairs[n].key = name;
		pairs[n].value = v ? v : ""; /* as the SDKs do: an absent field signs empty */
		n++;
	}
	if (n == 0)
		goto done;
	pairs[n].key = "store_passwd";
	pairs[n].value = pw_md5;
	n++;
	qsort(pairs, n, sizeof pairs[0], sign_pair_cmp);
	for (size_t i = 0; i < n; i++)
		cap += strlen(pairs[i].key) + strlen(pairs[i].value) + 2;
	buf = xmalloc(cap + 1);
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + used, cap + 1 - used, "%s%s=%s", i ? "&" : "", pairs[i].key,
				 pairs[i].value);

		if (w < 0 || (size_t)w >= cap + 1 - used)
			goto done;
		used += (size_t)w;
	}
	ok = payments_md5_hex(buf, used, out);
done:
	if (buf) {
		sodium_memzero(buf, cap + 1);
		free(buf);
	}
	sodium_memzero(pw_md5, sizeof pw_md5);
	free(names);
	return ok;
}

bool payments_sslcommerz_verify(const struct em_kv_list *form, const char *password)
{
	/* every field the payment path reads must be among the signed ones */
	static const char *const required[] = { "status", "tran_id", "val_id", "amount",
						"currency", "store_id", "risk_level", "bank_tran_id" };
	const char *given = em_kv_list_get(form, "verify_sign"), *keys = em_kv_list_get(form, "verify_key");
	char want[33], low[33];
	bool ok;

	if (!given || strlen(given) != 32 || !keys)
		return false;
	for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
		size_t len = strlen(required[r]);
		const char *p = keys;
		bool found = false;

		while (!found && (p = strstr(p, required[r])) != NULL) {
			found = (p == keys || p[-1] == ',') && (p[len] == ',' || p[len] == '\0');
			p += len;
		}
		if (!found)
			return false;
	}
	if (!payments_sslcommerz_sign(form, password, want))
		return false;
	for (size_t i = 0; i < 32; i++)
		low[i] = (given[i] >= 'A' && given[i] <= 'F') ? (char)(given[i] - 'A' + 'a') : given[i];
	low[32] = '\0';
	ok = sodium_memcmp(want, low, 32) == 0;
	sodium_memzero(want, sizeof want);
	return ok;
}
