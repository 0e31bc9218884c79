/*
 * digest.h - a fast 64-bit digest of bytes, for validators (ETags): not
 * cryptographic, the same on every host of a shop (it reads the bytes as
 * little-endian words whatever the CPU), so any host can answer 304 to a
 * tag another host gave.
 */
#ifndef EM_CORE_DIGEST_H
#define EM_CORE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

uint64_t em_digest64(const void *data, size_t len);

#endif
