/*
 * Depthwise convolution one output row at a time, for the convolution blocks (ops/conv_block.c) that run a
 * depthwise convolution band by band between two pointwise ones. The caller hands it the input rows the row
 * needs (rows in the padding are NULL), so the rows may come from a small ring buffer that stays in cache
 * rather than from a whole tensor. AVX-512 kernels for 3x3 and 5x5 filters, stride 1 or 2, multiplier 1;
 * nn_dwconv_create declines anything else, and a CPU without AVX-512F.
 *
 * Each output starts from its bias and adds input x weight with one fused multiply-add per tap, taps in
 * row-major order (ky, then kx), skipping taps in the padding.
 */
#ifndef CPOSE_NN_DWCONV_H
#define CPOSE_NN_DWCONV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct nn_dwconv nn_dwconv;

/* Packs the filter, HWIO (kernel, kernel, channels, 1), and bias (channels) or NULL; outputs are clamped to
 * [lo, hi]. Memory comes from nn_fast_malloc_aligned. CPOSE_ERR_UNSUPPORTED for another kernel size or
 * stride, or without AVX-512F; nothing is written to *out then. */
cpose_status nn_dwconv_create(size_t channels, int kernel, int stride, const float *filter, const float *bias,
                              float lo, float hi, nn_dwconv **out);

/* One output row of out_w pixels, pixel x at out + x * out_stride, (channels) each. rows[ky] (kernel of them)
 * is input row oy * stride - pad_top + ky, (in_w, channels) contiguous, or NULL where that row is padding;
 * input column x * stride - pad_left + kx is read for tap kx, skipped outside 0..in_w - 1. Borrowed. */
void nn_dwconv_row(const nn_dwconv *d, const float *const *rows, size_t in_w, size_t pad_left, float *out,
                   size_t out_w, size_t out_stride);

/* NULL-safe. */
void nn_dwconv_destroy(nn_dwconv *d);

#endif
