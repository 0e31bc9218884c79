/*
 * shipping.c - the shipping methods and zones from the configuration
 * (format in cart.h). Parsed by the configuration check (so a bad value
 * stops the process at start) and again per request into the caller's
 * struct: the text is short and the parse allocation-free.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cart/cart.h"

#define CART_SHIP_PRICE_MAX INT64_C(1000000000000)

static bool cart_ship_name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= PRICING_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* A whole number 0..CART_SHIP_PRICE_MAX of len bytes. */
static bool cart_ship_amount(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > 13)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > CART_SHIP_PRICE_MAX)
		return false;
	*out = v;
	return true;
}

/* Splits [s, end) at the first sep; *next is after it (or end). */
static size_t cart_ship_span(const char *s, const char *end, char sep, const char **next)
{
	const char *p = memchr(s, sep, (size_t)(end - s));

	if (!p) {
		*next = end;
		return (size_t)(end - s);
	}
	*next = p + 1;
	return (size_t)(p - s);
}

/* One method "name:zone=price,...,free_over=amount" into slot i. */
static bool cart_ship_method(const char *s, size_t len, struct cart_shipping *out, size_t i,
			     struct em_error *err)
{
	const char *end = s + len, *next, *colon = memchr(s, ':', len);
	struct pricing_shipping_method *m = &out->methods[i];

	if (!colon || !cart_ship_name_ok(s, (size_t)(colon - s)))
		goto bad;
	memcpy(out->names[i], s, (size_t)(colon - s));
	out->names[i][colon - s] = '\0';
	for (size_t k = 0; k < i; k++)
		if (strcmp(out->names[k], out->names[i]) == 0)
			goto bad;
	m->name = out->names[i];
	m->zones = out->zones[i];
	m->nzones = 0;
	m->has_free_over = false;
	for (const char *p = colon + 1; p < end; p = next) {
		size_t n = cart_ship_span(p, end, ',', &next);
		const char *eq = memchr(p, '=', n);
		int64_t v;

		if (!eq || !cart_ship_amount(eq + 1, n - (size_t)(eq - p) - 1, &v) ||
		    !cart_ship_name_ok(p, (size_t)(eq - p)))
			goto bad;
		if ((size_t)(eq - p) == 9 && memcmp(p, "free_over", 9) == 0) {
			if (m->has_free_over)
				goto bad;
			m->has_free_over = true;
			m->free_over = v;
			continue;
		}
		if (m->nzones == CART_ZONES_MAX)
			goto bad;
		memcpy(out->zone_names[i][m->nzones], p, (size_t)(eq - p));
		out->zone_names[i][m->nzones][eq - p] = '\0';
		for (size_t k = 0; k < m->nzones; k++)
			if (strcmp(out->zone_names[i][k], out->zone_names[i][m->nzones]) == 0)
				goto bad;
		out->zones[i][m->nzones].zone = out->zone_names[i][m->nzones];
		out->zones[i][m->nzones].price = v;
		m->nzones++;
	}
	if (m->nzones == 0)
		goto bad;
	return true;
bad:
	em_error_set(err, EM_ERR_INVALID, "EMPORIUM_SHIPPING_METHODS",
		     "EMPORIUM_SHIPPING_METHODS: each method is name:zone=price[,zone=price]"
		     "[,free_over=amount] (names of [a-z0-9_], whole minor units, no repeats)");
	return false;
}

bool cart_shipping_zone_known(const struct cart_shipping *s, const char *zone)
{
	for (size_t i = 0; i < s->nmethods; i++)
		for (size_t z = 0; z < s->methods[i].nzones; z++)
			if (strcmp(s->methods[i].zones[z].zone, zone) == 0)
				return true;
	return false;
}

bool cart_shipping_parse(const char *methods, const char *cities, const char *default_zone,
			 struct cart_shipping *out, struct em_error *err)
{
	const char *end, *next;

	memset(out, 0, sizeof *out);
	end = methods + strlen(methods);
	for (const char *p = methods; p < end; p = next) {
		size_t n = cart_ship_span(p, end, ';', &next);

		if (out->nmethods == CART_METHODS_MAX) {
			em_error_set(err, EM_ERR_INVALID, "EMPORIUM_SHIPPING_METHODS",
				     "EMPORIUM_SHIPPING_METHODS: at most %d methods", CART_METHODS_MAX);
			return false;
		}
		if (!cart_ship_method(p, n, out, out->nmethods, err))
			return false;
		out->nmethods++;
	}
	if (out->nmethods == 0) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_SHIPPING_METHODS",
			     "EMPORIUM_SHIPPING_METHODS: at least one method is needed");
		return false;
	}
	if (!cart_ship_name_ok(default_zone, strlen(default_zone)) ||
	    !cart_shipping_zone_known(out, default_zone)) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_SHIPPING_DEFAULT_ZONE",
			     "EMPORIUM_SHIPPING_DEFAULT_ZONE must be a zone a shipping method serves");
		return false;
	}
	snprintf(out->default_zone, sizeof out->default_zone, "%s", default_zone);
	end = cities + strlen(cities);
	for (const char *p = cities; p < end; p = next) {
		size_t n = cart_ship_span(p, end, ';', &next);
		const char *eq = memchr(p, '=', n);
		size_t zl;

		if (out->ncities == CART_CITIES_MAX || !eq || eq == p ||
		    (size_t)(eq - p) >= sizeof out->cities[0])
			goto bad_city;
		zl = n - (size_t)(eq - p) - 1;
		if (!cart_ship_name_ok(eq + 1, zl))
			goto bad_city;
		memcpy(out->cities[out->ncities], p, (size_t)(eq - p));
		out->cities[out->ncities][eq - p] = '\0';
		memcpy(out->city_zones[out->ncities], eq + 1, zl);
		out->city_zones[out->ncities][zl] = '\0';
		if (!cart_shipping_zone_known(out, out->city_zones[out->ncities]))
			goto bad_city;
		out->ncities++;
	}
	return true;
bad_city:
	em_error_set(err, EM_ERR_INVALID, "EMPORIUM_SHIPPING_ZONE_CITIES",
		     "EMPORIUM_SHIPPING_ZONE_CITIES: city=zone pairs separated by ';', each zone "
		     "served by a shipping method (at most %d)", CART_CITIES_MAX);
	return false;
}

const char *cart_shipping_zone_for_city(const struct cart_shipping *s, const char *city)
{
	size_t len;

	if (!city)
		return s->default_zone;
	/* "  Dhaka " is Dhaka: addresses are typed by people */
	while (*city == ' ')
		city++;
	len = strlen(city);
	while (len > 0 && city[len - 1] == ' ')
		len--;
	for (size_t i = 0; i < s->ncities; i++)
		if (strlen(s->cities[i]) == len && strncasecmp(s->cities[i], city, len) == 0)
			return s->city_zones[i];
	return s->default_zone;
}
