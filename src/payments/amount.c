/*
 * amount.c - money as the gateway writes it ("1234.50") to and from
 * int64 minor units, with integer arithmetic only: a float near a price
 * would make 0.1 + 0.2 a payment mismatch (DESIGN.md §3).
 */
#include <stdio.h>
#include <string.h>

#include "payments/payments.h"

int payments_currency_exponent(const char *currency)
{
	/* the ISO 4217 currencies without minor units a shop may sell in */
	static const char *const zero[] = { "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF",
					    "XOF", "PYG", "RWF" };

	for (size_t i = 0; currency && i < sizeof(zero) / sizeof(zero[0]); i++)
		if (strcmp(currency, zero[i]) == 0)
			return 0;
	return 2;
}

bool payments_amount_format(int64_t minor, int exponent, char *out, size_t size)
{
	int64_t unit = exponent == 0 ? 1 : 100;
	int n;

	if (minor < 0 || (exponent != 0 && exponent != 2) || !out || size == 0)
		return false;
	if (exponent == 0)
		n = snprintf(out, size, "%lld", (long long)minor);
	else
		n = snprintf(out, size, "%lld.%02lld", (long long)(minor / unit),
			     (long long)(minor % unit));
	return n > 0 && (size_t)n < size;
}

bool payments_amount_parse(const char *s, int exponent, int64_t *minor)
{
	int64_t v = 0;
	size_t i = 0, digits = 0, decimals = 0;

	if (!s || (exponent != 0 && exponent != 2) || strlen(s) > PAYMENTS_AMOUNT_MAX)
		return false;
	for (; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (digits == 0)
		return false;
	if (s[i] == '.') {
		i++;
		for (; s[i] >= '0' && s[i] <= '9'; i++, decimals++) {
			if ((int)decimals < exponent) {
				if (v > (INT64_MAX - (s[i] - '0')) / 10)
					return false;
				v = v * 10 + (s[i] - '0');
			} else if (s[i] != '0') {
				return false; /* a fraction of a minor unit */
			}
		}
		if (decimals == 0)
			return false;
	}
	if (s[i] != '\0')
		return false;
	for (; (int)decimals < exponent; decimals++) {
		if (v > INT64_MAX / 10)
			return false;
		v *= 10;
	}
	*minor = v;
	return true;
}

bool payments_amount_gateway(int64_t minor, const char *currency, char *out, size_t size)
{
	int exp = payments_currency_exponent(currency);
	size_t n;

	if (!payments_amount_format(minor, exp, out, size))
		return false;
	if (exp == 2)
		return true;
	/* a currency without minor units is still written with two places */
	n = strlen(out);
	if (n + 3 >= size)
		return false;
	memcpy(out + n, ".00", 4);
	return true;
}
