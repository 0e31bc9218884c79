/*
 * fuzz.h - what the libFuzzer harnesses in tests/fuzz share.
 *
 * A harness feeds one input to the code under test and then checks the
 * code's contract (what its header promises) on the result: a broken
 * promise aborts, so libFuzzer reports it like a sanitizer finding and
 * keeps the input. See tests/fuzz/README.md.
 */
#ifndef EM_TESTS_FUZZ_H
#define EM_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                  \
			abort();                                                      \
		}                                                                     \
	} while (0)

/*
 * A NUL-terminated copy of the input, cut at its first NUL: what a
 * FastCGI parameter or header value always is by the time code sees it.
 */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);

	return xmemdup0(data, nul ? (size_t)(nul - data) : size);
}

#endif
