/* What every fuzz harness shares: an invariant that fails aborts, so that
   libFuzzer keeps the input as a crash. */
#ifndef PETAL_FUZZ_H
#define PETAL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
			        __LINE__, #cond);                                 \
			abort();                                                  \
		}                                                                 \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (caller frees). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

/* FNV-1a, to compare two runs' output cheaply. */
static inline uint64_t fuzz_mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}
#define FUZZ_MIX_INIT 0xcbf29ce484222325ull

#endif
