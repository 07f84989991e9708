#include "nn/dwconv.h"

#include <string.h>

#include "core/alloc.h"
#include "nn/simd.h"
#include "nn/xnn.h"

#define LANES 16 /* channels in one AVX-512 vector */

/* Packed filter: ceil(channels / 16) blocks of 16 channels; block b at packed + b * (kernel^2 + 1) * 16 holds
 * one vector per tap (row-major), then the bias vector. Lanes past `channels` are zeros. */
struct nn_dwconv {
  size_t channels, blocks;
  int kernel, stride;
  float lo, hi;
  float *packed; /* 64-byte aligned */
};

static size_t block_floats(const nn_dwconv *d) {
  return ((size_t)d->kernel * (size_t)d->kernel + 1) * LANES;
}

static void pack(nn_dwconv *d, const float *filter, const float *bias) {
  size_t taps = (size_t)d->kernel * (size_t)d->kernel;
  memset(d->packed, 0, d->blocks * block_floats(d) * sizeof(float));
  for (size_t c = 0; c < d->channels; c++) {
    float *block = d->packed + c / LANES * block_floats(d); /* (taps + 1, 16) */
    for (size_t t = 0; t < taps; t++) block[t * LANES + c % LANES] = filter[t * d->channels + c];
    block[taps * LANES + c % LANES] = bias ? bias[c] : 0.0f;
  }
}

cpose_status nn_dwconv_create(size_t channels, int kernel, int stride, const float *filter, const float *bias,
                              float lo, float hi, nn_dwconv **out) {
  if (!nn_simd_has_avx512()) return cpose_fail(CPOSE_ERR_UNSUPPORTED, "the depthwise kernels need AVX-512F");
  if ((kernel != 3 && kernel != 5) || (stride != 1 && stride != 2)) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "no depthwise kernel for a %dx%d filter at stride %d", kernel,
                      kernel, stride);
  }
  if (channels == 0 || channels > ((size_t)1 << 32)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "a depthwise convolution of %zu channels", channels);
  }
  nn_dwconv *d = cpose_calloc(1, sizeof *d);
  if (!d) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a depthwise convolution");
  d->channels = channels;
  d->blocks = (channels + LANES - 1) / LANES;
  d->kernel = kernel;
  d->stride = stride;
  d->lo = lo;
  d->hi = hi;
  d->packed = nn_fast_malloc_aligned(d->blocks * block_floats(d) * sizeof(float));
  if (!d->packed) {
    cpose_free(d);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a packed %dx%d filter of %zu channels", kernel,
                      kernel, channels);
  }
  pack(d, filter, bias);
  *out = d;
  return CPOSE_OK;
}

void nn_dwconv_destroy(nn_dwconv *d) {
  if (!d) return;
  cpose_free_aligned(d->packed);
  cpose_free(d);
}

/* ---- kernels ------------------------------------------------------------------------------------------ */

#ifdef NN_SIMD_AVX512

/* The lanes of block b that hold channels. */
static __mmask16 block_mask(const nn_dwconv *d, size_t b) {
  return nn_simd_lanes(d->channels - b * LANES);
}

/* Block b's taps w[0..KERNEL^2) (row-major) and bias, into what the unrolled loops keep in registers. */
NN_SIMD_TARGET __attribute__((always_inline)) static inline void load_block(const nn_dwconv *d, size_t b,
                                                                            const int KERNEL, __m512 *w,
                                                                            __m512 *bias) {
  const float *block = d->packed + b * block_floats(d);
  _Pragma("GCC unroll 25") for (int t = 0; t < KERNEL * KERNEL; t++) w[t] = _mm512_load_ps(block + t * LANES);
  *bias = _mm512_load_ps(block + KERNEL * KERNEL * LANES);
}

/* Output pixels [x0, x1) of the row, any of whose taps may fall in the padding: block by block with the
 * block's taps in registers (KERNEL is a constant and the tap loops unroll), each tap checked. */
NN_SIMD_TARGET __attribute__((always_inline)) static inline void edge_pixels(
    const nn_dwconv *d, const float *const *rows, size_t in_w, size_t pad_left, float *out, size_t x0,
    size_t x1, size_t out_stride, const int KERNEL, const int STRIDE) {
  const __m512 lo = _mm512_set1_ps(d->lo), hi = _mm512_set1_ps(d->hi);
  for (size_t b = 0; b < d->blocks; b++) {
    const __mmask16 mask = block_mask(d, b);
    __m512 w[25], bias;
    load_block(d, b, KERNEL, w, &bias);
    for (size_t x = x0; x < x1; x++) {
      const long left = (long)(x * STRIDE) - (long)pad_left; /* input column of tap kx = 0 */
      __m512 acc = bias;
      _Pragma("GCC unroll 5") for (int ky = 0; ky < KERNEL; ky++) {
        if (!rows[ky]) continue;
        _Pragma("GCC unroll 5") for (int kx = 0; kx < KERNEL; kx++) {
          long ix = left + kx;
          if (ix < 0 || ix >= (long)in_w) continue;
          __m512 v = _mm512_maskz_loadu_ps(mask, rows[ky] + (size_t)ix * d->channels + b * LANES);
          acc = _mm512_fmadd_ps(v, w[ky * KERNEL + kx], acc);
        }
      }
      _mm512_mask_storeu_ps(out + x * out_stride + b * LANES, mask,
                            _mm512_min_ps(_mm512_max_ps(acc, lo), hi));
    }
  }
}

/* PIXELS output pixels from x on, whose taps all lie inside the row: one accumulator each, so that their
 * chains of fused multiply-adds overlap (one chain waits on FMA latency at every tap). */
NN_SIMD_TARGET __attribute__((always_inline)) static inline void inner_group(
    const __m512 *w, __m512 bias, __m512 lo, __m512 hi, __mmask16 mask, const float *const *in,
    size_t channels, float *o, size_t out_stride, const int KERNEL, const int STRIDE, const int PIXELS) {
  __m512 acc[4];
  _Pragma("GCC unroll 4") for (int p = 0; p < PIXELS; p++) acc[p] = bias;
  _Pragma("GCC unroll 5") for (int ky = 0; ky < KERNEL; ky++) {
    _Pragma("GCC unroll 5") for (int kx = 0; kx < KERNEL; kx++) {
      _Pragma("GCC unroll 4") for (int p = 0; p < PIXELS; p++) {
        __m512 v = _mm512_maskz_loadu_ps(mask, in[ky] + (size_t)(p * STRIDE + kx) * channels);
        acc[p] = _mm512_fmadd_ps(v, w[ky * KERNEL + kx], acc[p]);
      }
    }
  }
  _Pragma("GCC unroll 4") for (int p = 0; p < PIXELS; p++) {
    _mm512_mask_storeu_ps(o + (size_t)p * out_stride, mask, _mm512_min_ps(_mm512_max_ps(acc[p], lo), hi));
  }
}

/* Output pixels [x0, x1) whose taps all lie inside the row, of rows that are all there: block by block, the
 * block's taps held in registers (the tap loops have constant trip counts and are unrolled), four pixels at
 * a time for 3x3 filters, two for 5x5 (whose 25 taps leave fewer registers). */
NN_SIMD_TARGET __attribute__((always_inline)) static inline void inner_pixels(
    const nn_dwconv *d, const float *const *rows, size_t pad_left, float *out, size_t x0, size_t x1,
    size_t out_stride, const int KERNEL, const int STRIDE) {
  const int group = KERNEL == 3 ? 4 : 2;
  const size_t channels = d->channels;
  const __m512 lo = _mm512_set1_ps(d->lo), hi = _mm512_set1_ps(d->hi);
  for (size_t b = 0; b < d->blocks; b++) {
    const __mmask16 mask = block_mask(d, b);
    __m512 w[25], bias;
    load_block(d, b, KERNEL, w, &bias);
    const float *in[5];
    _Pragma("GCC unroll 5") for (int ky = 0; ky < KERNEL; ky++) {
      in[ky] = rows[ky] + (x0 * STRIDE - pad_left) * channels + b * LANES;
    }
    float *o = out + x0 * out_stride + b * LANES;
    size_t x = x0;
    for (; x + (size_t)group <= x1; x += (size_t)group) {
      inner_group(w, bias, lo, hi, mask, in, channels, o, out_stride, KERNEL, STRIDE, group);
      _Pragma("GCC unroll 5") for (int ky = 0; ky < KERNEL; ky++) in[ky] += group * STRIDE * channels;
      o += group * out_stride;
    }
    for (; x < x1; x++) {
      inner_group(w, bias, lo, hi, mask, in, channels, o, out_stride, KERNEL, STRIDE, 1);
      _Pragma("GCC unroll 5") for (int ky = 0; ky < KERNEL; ky++) in[ky] += STRIDE * channels;
      o += out_stride;
    }
  }
}

#define NN_DWCONV_EDGE(KERNEL, STRIDE)                                                                   \
  NN_SIMD_TARGET static void edge_##KERNEL##x##KERNEL##_s##STRIDE(                                       \
      const nn_dwconv *d, const float *const *rows, size_t in_w, size_t pad_left, float *out, size_t x0, \
      size_t x1, size_t out_stride) {                                                                    \
    edge_pixels(d, rows, in_w, pad_left, out, x0, x1, out_stride, KERNEL, STRIDE);                       \
  }
NN_DWCONV_EDGE(3, 1)
NN_DWCONV_EDGE(3, 2)
NN_DWCONV_EDGE(5, 1)
NN_DWCONV_EDGE(5, 2)

#define NN_DWCONV_INNER(KERNEL, STRIDE)                                                                \
  NN_SIMD_TARGET static void inner_##KERNEL##x##KERNEL##_s##STRIDE(                                    \
      const nn_dwconv *d, const float *const *rows, size_t pad_left, float *out, size_t x0, size_t x1, \
      size_t out_stride) {                                                                             \
    inner_pixels(d, rows, pad_left, out, x0, x1, out_stride, KERNEL, STRIDE);                          \
  }
NN_DWCONV_INNER(3, 1)
NN_DWCONV_INNER(3, 2)
NN_DWCONV_INNER(5, 1)
NN_DWCONV_INNER(5, 2)

#endif /* NN_SIMD_AVX512 */

void nn_dwconv_row(const nn_dwconv *d, const float *const *rows, size_t in_w, size_t pad_left, float *out,
                   size_t out_w, size_t out_stride) {
#ifdef NN_SIMD_AVX512
  const size_t kernel = (size_t)d->kernel, stride = (size_t)d->stride;
  bool all_rows = true;
  for (size_t ky = 0; ky < kernel; ky++) all_rows = all_rows && rows[ky];
  /* Inner pixels x: x * stride >= pad_left and x * stride - pad_left + kernel <= in_w. */
  size_t x0 = (pad_left + stride - 1) / stride;
  size_t x1 = in_w + pad_left >= kernel ? (in_w + pad_left - kernel) / stride + 1 : 0;
  if (!all_rows || x1 > out_w) x1 = out_w;
  if (!all_rows || x0 > x1) x0 = x1;
  void (*edge)(const nn_dwconv *, const float *const *, size_t, size_t, float *, size_t, size_t, size_t) =
      kernel == 3 ? (stride == 1 ? edge_3x3_s1 : edge_3x3_s2) : (stride == 1 ? edge_5x5_s1 : edge_5x5_s2);
  void (*inner)(const nn_dwconv *, const float *const *, size_t, float *, size_t, size_t, size_t) =
      kernel == 3 ? (stride == 1 ? inner_3x3_s1 : inner_3x3_s2) : (stride == 1 ? inner_5x5_s1 : inner_5x5_s2);
  if (x0 > 0) edge(d, rows, in_w, pad_left, out, 0, x0, out_stride);
  if (x1 > x0) inner(d, rows, pad_left, out, x0, x1, out_stride);
  if (out_w > x1) edge(d, rows, in_w, pad_left, out, x1, out_w, out_stride);
#else
  (void)d, (void)rows, (void)in_w, (void)pad_left, (void)out, (void)out_w, (void)out_stride;
#endif
}
