/* What the runtime's own SIMD kernels (gemm.c, dwconv.c) need from the compiler and the CPU. */
#ifndef CPOSE_NN_SIMD_H
#define CPOSE_NN_SIMD_H

#include <stdbool.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NN_SIMD_AVX512 1
#include <immintrin.h>
/* On the functions that use AVX-512 intrinsics: the rest of the library stays baseline x86-64. */
#define NN_SIMD_TARGET __attribute__((target("avx512f")))
#endif

/* True when this CPU (and its OS) runs AVX-512F code and it was compiled in. */
static inline bool nn_simd_has_avx512(void) {
#ifdef NN_SIMD_AVX512
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

#endif
