/* fuzz.h - the libFuzzer entry point every tests/fuzz/fuzz-*.c defines.
 *
 * Build with clang -fsanitize=fuzzer for real fuzzing (docs/DEVELOPING.md), or
 * link with standalone-driver.c (what ctest does) to replay a corpus and a
 * bounded number of deterministic mutations of it.
 */
#ifndef RDEV_FUZZ_H
#define RDEV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless a parser's error reads "fuzz:LINE:COL: TEXT" with LINE, COL
 * >= 1 (the targets parse under the name "fuzz"). */
static inline void
fuzz_check_cause(const char *cause)
{
	unsigned line, col;
	int n = 0;

	if (cause == NULL)
		abort();
	if (sscanf(cause, "fuzz:%u:%u: %n", &line, &col, &n) != 2 || n == 0 ||
	    line == 0 || col == 0 || cause[n] == '\0')
		abort();
}

#endif
