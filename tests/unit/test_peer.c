/* Unit tests for src/http/peer.c: the FastCGI TCP allowlist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "http/peer.h"

static bool allowed(const struct em_peer_allow *a, const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return em_peer_allowed(a, (const struct sockaddr *)&ss);
}

static void test_default_is_loopback(void **state)
{
	struct em_peer_allow a;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_true(em_peer_allow_parse("127.0.0.1 ::1", &a, &err));
	assert_true(allowed(&a, "127.0.0.1"));
	assert_true(allowed(&a, "::1"));
	assert_true(allowed(&a, "::ffff:127.0.0.1")); /* v4-mapped */
	assert_false(allowed(&a, "127.0.0.2"));
	assert_false(allowed(&a, "10.0.0.5"));
	assert_false(allowed(&a, "2001:db8::1"));
}

static void test_networks(void **state)
{
	struct em_peer_allow a;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_true(em_peer_allow_parse("10.0.0.0/24, 192.168.7.9 2001:db8:1::/48", &a, &err));
	assert_int_equal(a.n, 3);
	assert_true(allowed(&a, "10.0.0.0"));
	assert_true(allowed(&a, "10.0.0.255"));
	assert_false(allowed(&a, "10.0.1.0"));
	assert_true(allowed(&a, "192.168.7.9"));
	assert_false(allowed(&a, "192.168.7.10"));
	assert_true(allowed(&a, "2001:db8:1:ffff::1"));
	assert_false(allowed(&a, "2001:db8:2::1"));
	assert_true(em_peer_allow_parse("10.1.2.3/20", &a, &err));
	assert_true(allowed(&a, "10.1.15.255"));
	assert_false(allowed(&a, "10.1.16.0"));
	assert_true(em_peer_allow_parse("0.0.0.0/0", &a, &err));
	assert_true(allowed(&a, "8.8.8.8"));
	assert_false(allowed(&a, "::1")); /* an IPv4 rule never admits IPv6 */
}

static void test_malformed_names_the_variable(void **state)
{
	static const char *const bad[] = { "localhost", "10.0.0.0/33", "::1/129", "1.2.3",
					   "10.0.0.0/", "10.0.0.0/x", "999.1.1.1" };
	struct em_peer_allow a;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct em_error err = EM_ERROR_INIT;

		assert_false(em_peer_allow_parse(bad[i], &a, &err));
		assert_string_equal(err.field, "EMPORIUM_FCGI_ALLOWED");
	}
}

/* Throttles count an IPv6 client by its /64, an IPv4 one by its address. */
static void test_client_key(void **state)
{
	char a[64], b[64];

	(void)state;
	em_peer_client_key("2001:db8:1:2::1", a, sizeof a);
	assert_string_equal(a, "2001:db8:1:2::/64");
	em_peer_client_key("2001:db8:1:2:ffff:eeee:dddd:cccc", b, sizeof b);
	assert_string_equal(a, b);
	em_peer_client_key("2001:db8:1:3::1", b, sizeof b);
	assert_string_not_equal(a, b);
	em_peer_client_key("2001:db8::1:0:0:1", a, sizeof a);
	em_peer_client_key("2001:db8:0:0:5::9", b, sizeof b);
	assert_string_equal(a, "2001:db8:0:0::/64");
	assert_string_equal(a, b);
	em_peer_client_key("203.0.113.7", a, sizeof a);
	assert_string_equal(a, "203.0.113.7");
	em_peer_client_key("::ffff:203.0.113.7", a, sizeof a);
	assert_string_equal(a, "203.0.113.7");
	em_peer_client_key(NULL, a, sizeof a);
	assert_string_equal(a, "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_loopback),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_malformed_names_the_variable),
		cmocka_unit_test(test_client_key),
	};

	return cmocka_run_group_tests_name("peer", tests, NULL, NULL);
}
