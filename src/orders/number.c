/*
 * number.c - order numbers and money as people read them (pure).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "orders/orders.h"

bool orders_number_format(int year, int64_t seq, char *out, size_t size)
{
	int n;

	if (year < 2000 || year > 9999 || seq < 1)
		return false;
	n = snprintf(out, size, "EM-%04d-%06" PRId64, year, seq);
	return n > 0 && (size_t)n < size;
}

bool orders_number_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0, digits = 0;

	if (n < 14 || n > 20 || strncmp(s, "EM-", 3) != 0 || s[7] != '-')
		return false;
	for (size_t i = 3; i < 7; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	for (size_t i = 8; i < n; i++, digits++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return digits >= 6 && digits <= 12;
}

/* ISO 4217 currencies without minor units that a shop may plausibly use. */
static int orders_currency_exponent(const char *currency)
{
	static const char *const zero[] = { "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF",
					    "XOF", "PYG", "RWF" };

	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if (strcmp(currency, zero[i]) == 0)
			return 0;
	return 2;
}

bool orders_money_format(int64_t minor, const char *currency, char *out, size_t size)
{
	int exp = orders_currency_exponent(currency);
	uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	uint64_t unit = exp ? 100 : 1, whole = mag / unit, frac = mag % unit;
	char digits[32], grouped[48];
	size_t nd, ng = 0;
	int n;

	nd = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, whole);
	for (size_t i = 0; i < nd; i++) {
		if (i && (nd - i) % 3 == 0)
			grouped[ng++] = ',';
		grouped[ng++] = digits[i];
	}
	grouped[ng] = '\0';
	if (exp)
		n = snprintf(out, size, "%s %s%s.%02" PRIu64, currency, minor < 0 ? "-" : "",
			     grouped, frac);
	else
		n = snprintf(out, size, "%s %s%s", currency, minor < 0 ? "-" : "", grouped);
	return n > 0 && (size_t)n < size;
}
