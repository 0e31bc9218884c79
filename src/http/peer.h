/*
 * peer.h - which addresses may speak FastCGI to a TCP listener.
 *
 * FastCGI has no authentication: whoever reaches the port can send any
 * request with any parameters (REMOTE_ADDR, HTTPS, the user's headers).
 * With EMPORIUM_LISTEN=host:port a worker therefore checks each accepted
 * connection's source against EMPORIUM_FCGI_ALLOWED (the nginx hosts;
 * loopback by default) and closes any other at once, before reading a
 * byte. Unix sockets are guarded by their file mode instead.
 */
#ifndef EM_HTTP_PEER_H
#define EM_HTTP_PEER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/error.h"

#define EM_PEER_RULES_MAX 32

struct em_peer_rule {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;            /* bits that must match */
};

struct em_peer_allow {
	struct em_peer_rule rules[EM_PEER_RULES_MAX];
	size_t n;
};

/*
 * Parses a list of addresses and CIDR networks, separated by spaces or
 * commas ("127.0.0.1 ::1 10.0.0.0/24"). EM_ERR_INVALID naming
 * EMPORIUM_FCGI_ALLOWED for a malformed entry or too many.
 */
bool em_peer_allow_parse(const char *text, struct em_peer_allow *out, struct em_error *err);

/* Whether the peer address sa (AF_INET / AF_INET6, IPv4-mapped IPv6
 * compared as IPv4) is in the list. */
bool em_peer_allowed(const struct em_peer_allow *allow, const struct sockaddr *sa);

/*
 * The key per-client limits count under: an IPv4 address as it is, an
 * IPv6 address as its /64 ("2001:db8:1:2::/64"), since one subscriber
 * gets a whole /64 and could otherwise rotate through it to dodge every
 * per-address limit. Anything unparsable is used as it is. out gets at
 * most size-1 bytes.
 */
void em_peer_client_key(const char *addr, char *out, size_t size);

#endif
