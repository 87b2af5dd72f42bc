#include "qtop_fuzz.h"

/* libFuzzer's exported driver; the callback is the Swift @_cdecl entry point in Fuzz/Driver. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SwiftPM links an executable target's `main` to `<target>_main`; hand the process to libFuzzer from there. */
int qtop_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
