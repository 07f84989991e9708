/*
 * The dense float32 matrix product behind 1x1 convolutions: C = clamp(A W + bias, lo, hi), with the weights
 * packed once at creation. Its AVX-512 kernels keep 28 accumulators in registers (14 rows x 32 columns) and
 * run at about 95% of a core's float32 FMA peak on MobileNet's pointwise layers, where XNNPACK's 7x16 GEMM
 * (Debian's 2022 build) reaches 65-75% (bench/bench_gemm prints both). Without AVX-512 nn_gemm_create
 * declines, and callers keep XNNPACK's convolution.
 *
 * The order of the sums is fixed: each output starts from its bias and adds A[m][k] * W[k][n] with one fused
 * multiply-add per k, k ascending. That is what C's fmaf gives in a plain loop, so tests can expect equality.
 */
#ifndef CPOSE_NN_GEMM_H
#define CPOSE_NN_GEMM_H

#include <pthreadpool.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct nn_gemm nn_gemm;

/* True when this CPU runs the kernels (x86-64 with AVX-512F, built with GCC or Clang). */
bool nn_gemm_available(void);

/* Packs weights (k, n) row-major (a 1x1 convolution's HWIO filter) and bias (n) or NULL into a new product
 * whose outputs are clamped to [lo, hi]; both are copied. Memory comes from nn_fast_malloc_aligned, so a
 * session's budget counts it. CPOSE_ERR_UNSUPPORTED without the kernels (nn_gemm_available), out of memory
 * otherwise; nothing is written to *out then. */
cpose_status nn_gemm_create(size_t k, size_t n, const float *weights, const float *bias, float lo, float hi,
                            nn_gemm **out);

/* C (m, n) with rows ldc floats apart = the product of A (m, k), rows lda floats apart. A and C are borrowed
 * for the call and must not overlap. Runs on `pool`'s threads, or on the calling thread when pool is NULL;
 * the result does not depend on the thread count. */
void nn_gemm_run(const nn_gemm *g, size_t m, const float *a, size_t lda, float *c, size_t ldc,
                 pthreadpool_t pool);

/* NULL-safe. */
void nn_gemm_destroy(nn_gemm *g);

#endif
