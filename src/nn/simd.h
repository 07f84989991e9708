/* What the runtime's own SIMD kernels (gemm.c, dwconv.c) need from the compiler and the CPU. */
#ifndef CPOSE_NN_SIMD_H
#define CPOSE_NN_SIMD_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NN_SIMD_AVX512 1
#include <immintrin.h>
/* On the functions that use AVX-512 intrinsics: the rest of the library stays baseline x86-64. */
#define NN_SIMD_TARGET __attribute__((target("avx512f")))
#endif

#ifdef NN_SIMD_AVX512
/* The first min(lanes, 16) lanes of a vector of 16 floats. */
static inline __mmask16 nn_simd_lanes(size_t lanes) {
  return lanes >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << lanes) - 1u);
}
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
