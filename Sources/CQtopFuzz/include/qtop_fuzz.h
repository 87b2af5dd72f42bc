#ifndef QTOP_FUZZ_H
#define QTOP_FUZZ_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's byte-level mutator (from the runtime that `-sanitize=fuzzer` links), for the custom mutator's
/// fallback and for the params half of container inputs.
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#endif
