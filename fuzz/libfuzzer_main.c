/* The libFuzzer entry of one target: fuzz/CMakeLists.txt compiles this file once per target with
 * CPOSE_FUZZ_ENTRY set to the target's function (fuzz_image, ...), declared in targets.h. */
#include "targets.h"

#ifndef CPOSE_FUZZ_ENTRY
#error "define CPOSE_FUZZ_ENTRY to the target's entry function"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return CPOSE_FUZZ_ENTRY(data, size);
}
