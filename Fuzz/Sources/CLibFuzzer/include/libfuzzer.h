#ifndef MVVAE_LIBFUZZER_H
#define MVVAE_LIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (libclang_rt.fuzzer_no_main): parses libFuzzer's flags from argv and calls
/// `callback` once per input. Linked by scripts/fuzz.sh.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
