#include "http/peer.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static bool peer_rule_parse(const char *tok, size_t len, struct em_peer_rule *r)
{
	char buf[64], *slash;
	unsigned max;

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(r, 0, sizeof *r);
	if (inet_pton(AF_INET, buf, r->addr) == 1) {
		r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
		r->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	r->prefix = max;
	if (slash) {
		unsigned p = 0;
		const char *d = slash + 1;

		if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 3)
			return false;
		sscanf(d, "%u", &p);
		if (p > max)
			return false;
		r->prefix = p;
	}
	return true;
}

bool em_peer_allow_parse(const char *text, struct em_peer_allow *out, struct em_error *err)
{
	const char *p = text ? text : "";

	memset(out, 0, sizeof *out);
	while (*p) {
		size_t len;

		p += strspn(p, " ,\t");
		len = strcspn(p, " ,\t");
		if (!len)
			break;
		if (out->n == EM_PEER_RULES_MAX || !peer_rule_parse(p, len, &out->rules[out->n])) {
			em_error_set(err, EM_ERR_INVALID, "EMPORIUM_FCGI_ALLOWED",
				     "EMPORIUM_FCGI_ALLOWED: \"%.*s\" is not an address or network "
				     "(at most %d, e.g. 127.0.0.1 ::1 10.0.0.0/24)",
				     (int)(len > 64 ? 64 : len), p, EM_PEER_RULES_MAX);
			return false;
		}
		out->n++;
		p += len;
	}
	return true;
}

static bool peer_prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	size_t bytes = bits / 8;
	unsigned rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xffu << (8 - rest));

		return (a[bytes] & mask) == (b[bytes] & mask);
	}
	return true;
}

bool em_peer_allowed(const struct em_peer_allow *allow, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int family;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			memcpy(addr, a6->s6_addr + 12, 4);
		} else {
			family = AF_INET6;
			memcpy(addr, a6->s6_addr, 16);
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < allow->n; i++)
		if (allow->rules[i].family == family &&
		    peer_prefix_match(addr, allow->rules[i].addr, allow->rules[i].prefix))
			return true;
	return false;
}

void em_peer_client_key(const char *addr, char *out, size_t size)
{
	struct in6_addr a6;

	if (addr && strchr(addr, ':') && inet_pton(AF_INET6, addr, &a6) == 1 &&
	    !IN6_IS_ADDR_V4MAPPED(&a6)) {
		snprintf(out, size, "%x:%x:%x:%x::/64", (a6.s6_addr[0] << 8) | a6.s6_addr[1],
			 (a6.s6_addr[2] << 8) | a6.s6_addr[3], (a6.s6_addr[4] << 8) | a6.s6_addr[5],
			 (a6.s6_addr[6] << 8) | a6.s6_addr[7]);
		return;
	}
	if (addr && strchr(addr, ':') && inet_pton(AF_INET6, addr, &a6) == 1) {
		/* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
		inet_ntop(AF_INET, a6.s6_addr + 12, out, (socklen_t)size);
		return;
	}
	snprintf(out, size, "%s", addr && *addr ? addr : "unknown");
}
