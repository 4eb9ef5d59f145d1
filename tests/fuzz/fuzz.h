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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
