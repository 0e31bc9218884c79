/*
 * digest.c - em_digest64: eight bytes a step through a multiply-xorshift
 * mix, then a finaliser (murmur3's fmix64) over the length too. A product
 * read used to hash its ~2 kB body with FNV-1a, a multiply per byte on one
 * dependency chain: about 3% of the read's CPU; this takes an eighth of
 * the steps.
 */
#include "core/digest.h"

#define DIGEST_K1 UINT64_C(0x9e3779b97f4a7c15)
#define DIGEST_K2 UINT64_C(0xff51afd7ed558ccd)
#define DIGEST_K3 UINT64_C(0xc4ceb9fe1a85ec53)

/* little-endian on every CPU; one load on x86-64 and arm64 */
static uint64_t digest_load(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static uint64_t digest_mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= DIGEST_K1;
	return h ^ (h >> 32);
}

uint64_t em_digest64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = DIGEST_K3 ^ (uint64_t)len;
	size_t n = len;

	for (; n >= 8; n -= 8, p += 8)
		h = digest_mix(h, digest_load(p, 8));
	if (n)
		h = digest_mix(h, digest_load(p, n) | (uint64_t)1 << (8 * n));
	h ^= (uint64_t)len;
	h ^= h >> 33;
	h *= DIGEST_K2;
	h ^= h >> 33;
	h *= DIGEST_K3;
	return h ^ (h >> 33);
}
