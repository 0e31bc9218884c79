/*
 * token.c - guest cart tokens: 32 random bytes (libsodium), shown once as
 * base64url, stored only as a SHA-256 so a database read does not hand
 * out usable tokens.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "cart/cart.h"

int64_t cart_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void cart_token_hash(const char *token, char hash[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hash, 65, d, sizeof d);
}

bool cart_token_new(char out[CART_TOKEN_LEN + 1], char hash[65], struct em_error *err)
{
	unsigned char raw[CART_TOKEN_BYTES];

	/* sodium_init() is idempotent and thread-safe; it fails only when the
	 * system has no randomness source, and then no token may be made */
	if (sodium_init() < 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libsodium could not be initialised");
		return false;
	}
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, CART_TOKEN_LEN + 1, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	cart_token_hash(out, hash);
	return true;
}

bool cart_token_valid(const char *token)
{
	size_t i;

	if (!token)
		return false;
	for (i = 0; token[i] && i <= CART_TOKEN_LEN; i++) {
		char c = token[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return i == CART_TOKEN_LEN && token[i] == '\0';
}

bool cart_hash_equal(const char *a, const char *b)
{
	if (!a || !b || strlen(a) != 64 || strlen(b) != 64)
		return false;
	return sodium_memcmp(a, b, 64) == 0;
}
