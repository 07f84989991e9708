/*
 * _CposeKeepPeaks: y = x * (x == M ? 1 : 0) where M is the maximum of x's kh x kw neighbourhood in its
 * channel (NHWC float32, stride 1, TF's SAME window: the padding pixels are ignored). Not a TensorFlow op:
 * the graph fuser (fuse.c) makes it from Mul(x, Cast(Equal(x, MaxPool(x)))), with the window in
 * nn_keep_peaks_params (keep_peaks.h), and it computes exactly what those four nodes compute: M as MaxPool's
 * reference takes it (from -FLT_MAX, and a NaN never wins), == as IEEE equality, then the product with 1 or
 * 0, so that a NaN or an infinity that is not kept gives NaN, as in the graph.
 *
 * Why: the graph writes and reads back three full-size tensors (the pooled maximum, a bool mask and its
 * float copy; CenterNet's are [1,128,128,80]) and runs Equal and Cast through the generic broadcasting loop.
 * This reads x once per window tap from cache and writes y once.
 */
#include "nn/ops/keep_peaks.h"

#include <float.h>

#include "core/alloc.h"
#include "nn/nn.h"
#include "nn/ops/const_input.h"

/* Every size of one run. */
typedef struct peaks_geometry {
  int64_t batch, height, width, channels;
  int64_t pad_top, pad_left; /* SAME at stride 1: (k - 1) / 2 before, the rest after */
} peaks_geometry;

static cpose_status peaks_geometry_of(const nn_node *node, const nn_tensor *in, peaks_geometry *g) {
  const nn_keep_peaks_params *p = node->params;
  cpose_status status = nn_check_input_count(node, 1);
  if (status == CPOSE_OK) status = nn_check_nhwc_f32(node, in);
  if (status != CPOSE_OK) return status;
  if (p->kernel_h < 1 || p->kernel_w < 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "window %lldx%lld needs sizes >= 1",
                        (long long)p->kernel_h, (long long)p->kernel_w);
  }
  g->batch = in[0].dims[0];
  g->height = in[0].dims[1];
  g->width = in[0].dims[2];
  g->channels = in[0].dims[3];
  g->pad_top = (p->kernel_h - 1) / 2;
  g->pad_left = (p->kernel_w - 1) / 2;
  return CPOSE_OK;
}

static cpose_status keep_peaks_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  peaks_geometry g;
  cpose_status status = peaks_geometry_of(node, in, &g);
  if (status != CPOSE_OK) return status;
  out[0].dtype = NN_F32;
  return nn_set_shape(node, &out[0], 4, in[0].dims);
}

static int64_t max64(int64_t a, int64_t b) {
  return a > b ? a : b;
}
static int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

/* The window rows [*begin, *end) of output row (or column) `o`, clipped to the image of `size`. */
static void window_span(int64_t o, int64_t kernel, int64_t pad, int64_t size, int64_t *begin, int64_t *end) {
  *begin = max64(o - pad, 0);
  *end = min64(o - pad + kernel, size);
}

/* ---- reference kernel -------------------------------------------------------------------------------- */

/* The four graph nodes one element at a time: MaxPool's maximum, Equal, Cast, Mul. */
static cpose_status keep_peaks_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_keep_peaks_params *p = node->params;
  peaks_geometry g;
  cpose_status status = peaks_geometry_of(node, in, &g);
  if (status != CPOSE_OK) return status;
  const float *x = in[0].data; /* NHWC (N, H, W, C) */
  float *y = out[0].data;      /* NHWC (N, H, W, C) */
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t oy = 0; oy < g.height; oy++) {
      int64_t y_begin, y_end;
      window_span(oy, p->kernel_h, g.pad_top, g.height, &y_begin, &y_end);
      for (int64_t ox = 0; ox < g.width; ox++) {
        int64_t x_begin, x_end;
        window_span(ox, p->kernel_w, g.pad_left, g.width, &x_begin, &x_end);
        for (int64_t c = 0; c < g.channels; c++) {
          float max = -FLT_MAX;
          for (int64_t iy = y_begin; iy < y_end; iy++) {
            for (int64_t ix = x_begin; ix < x_end; ix++) {
              float v = x[((b * g.height + iy) * g.width + ix) * g.channels + c];
              if (v > max) max = v;
            }
          }
          int64_t at = ((b * g.height + oy) * g.width + ox) * g.channels + c;
          float mask = x[at] == max ? 1.0f : 0.0f;
          y[at] = x[at] * mask;
        }
      }
    }
  }
  return CPOSE_OK;
}

/* ---- fast kernel ------------------------------------------------------------------------------------- */

/* The same arithmetic, one image row per task of the thread pool. Window taps outside the image are
 * replaced by the nearest edge row or column, which lies in the same window, so the maximum does not change
 * (the pixel is counted twice) and every pixel of the row but those at its two ends sees its window at the
 * same offsets. The row is then a few runs of elements sharing one list of tap offsets, and each run is
 * computed LANES elements at a time with the maximum held in a register (where a pass per tap over the row
 * would be bound by loads and stores). */
#define LANES 16
#define MAX_TAPS 64 /* windows of up to 64 pixels (8x8) take the fast kernel */

typedef struct keep_peaks_fast {
  peaks_geometry g;
  int64_t kernel_h, kernel_w;
  const float *x; /* NHWC (N, H, W, C), the session's arena */
  float *y;       /* NHWC (N, H, W, C) */
} keep_peaks_fast;

/* y[i] = x[i] * (x[i] == max over taps t of x[i + offsets[t]] ? 1 : 0) for i < n; the maximum starts from
 * -FLT_MAX and a NaN never wins, as in the reference. */
static inline void keep_run(const float *x, const int64_t *offsets, int taps, float *restrict y, int64_t n) {
  int64_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    float max[LANES];
    for (int k = 0; k < LANES; k++) max[k] = -FLT_MAX;
#pragma GCC unroll 16
    for (int t = 0; t < taps; t++) {
      const float *tap = x + i + offsets[t];
      for (int k = 0; k < LANES; k++) max[k] = tap[k] > max[k] ? tap[k] : max[k];
    }
    for (int k = 0; k < LANES; k++) y[i + k] = x[i + k] * (x[i + k] == max[k] ? 1.0f : 0.0f);
  }
  for (; i < n; i++) {
    float max = -FLT_MAX;
    for (int t = 0; t < taps; t++) max = x[i + offsets[t]] > max ? x[i + offsets[t]] : max;
    y[i] = x[i] * (x[i] == max ? 1.0f : 0.0f);
  }
}

/* The tap offsets, in elements from pixel (oy, ox), of its window with out-of-image taps moved to the edge;
 * a column shift of `ox` < 0 leaves the columns unclamped (for the row's middle pixels). */
static int window_offsets(const keep_peaks_fast *f, int64_t oy, int64_t ox, int64_t *offsets) {
  const peaks_geometry *g = &f->g;
  int taps = 0;
  for (int64_t dy = 0; dy < f->kernel_h; dy++) {
    int64_t iy = min64(max64(oy + dy - g->pad_top, 0), g->height - 1);
    for (int64_t dx = 0; dx < f->kernel_w; dx++) {
      int64_t shift = dx - g->pad_left;
      if (ox >= 0) shift = min64(max64(ox + shift, 0), g->width - 1) - ox;
      offsets[taps++] = ((iy - oy) * g->width + shift) * g->channels;
    }
  }
  return taps;
}

/* One pixel of the row (x, y: (W, C)) whose window is clipped by the image's left or right edge.
 * offsets: scratch for MAX_TAPS. */
static inline void keep_pixel(const keep_peaks_fast *f, int64_t oy, int64_t ox, const float *x, float *y,
                              int64_t *offsets) {
  int taps = window_offsets(f, oy, ox, offsets);
  keep_run(x + ox * f->g.channels, offsets, taps, y + ox * f->g.channels, f->g.channels);
}

NN_SIMD_CLONES
static void keep_peaks_row(void *context, size_t row) {
  const keep_peaks_fast *f = context;
  const peaks_geometry *g = &f->g;
  const int64_t oy = (int64_t)row % g->height, channels = g->channels;
  const float *x = f->x + (int64_t)row * g->width * channels; /* (W, C): the input row of this output row */
  float *y = f->y + (int64_t)row * g->width * channels;       /* (W, C) */
  int64_t offsets[MAX_TAPS];
  /* Pixels [first, end) see all their window's columns: one run. */
  const int64_t pad_right = f->kernel_w - 1 - g->pad_left;
  const int64_t first = min64(g->pad_left, g->width), end = max64(g->width - pad_right, first);
  int taps = window_offsets(f, oy, -1, offsets);
  if (taps == 9) { /* 3x3, CenterNet's: a constant count lets the compiler unroll the taps loop */
    keep_run(x + first * channels, offsets, 9, y + first * channels, (end - first) * channels);
  } else {
    keep_run(x + first * channels, offsets, taps, y + first * channels, (end - first) * channels);
  }
  /* The pixels at the two ends: a run each. */
  for (int64_t ox = 0; ox < first; ox++) keep_pixel(f, oy, ox, x, y, offsets);
  for (int64_t ox = end; ox < g->width; ox++) keep_pixel(f, oy, ox, x, y, offsets);
}

static cpose_status keep_peaks_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                           pthreadpool_t pool, void **state_out) {
  (void)pool;
  const nn_keep_peaks_params *p = node->params;
  peaks_geometry g;
  cpose_status status = peaks_geometry_of(node, in, &g);
  if (status != CPOSE_OK) return status;
  if (p->kernel_h > MAX_TAPS || p->kernel_w > MAX_TAPS || p->kernel_h * p->kernel_w > MAX_TAPS) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "window %lldx%lld has more than %d pixels",
                        (long long)p->kernel_h, (long long)p->kernel_w, MAX_TAPS);
  }
  keep_peaks_fast *f = cpose_calloc(1, sizeof *f);
  if (!f) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel");
  f->g = g;
  f->kernel_h = p->kernel_h;
  f->kernel_w = p->kernel_w;
  f->x = in[0].data;
  f->y = out[0].data;
  *state_out = f;
  return CPOSE_OK;
}

static cpose_status keep_peaks_fast_run(void *state, pthreadpool_t pool) {
  keep_peaks_fast *f = state;
  pthreadpool_parallelize_1d(pool, keep_peaks_row, f, (size_t)(f->g.batch * f->g.height), 0);
  return CPOSE_OK;
}

static void keep_peaks_fast_destroy(void *state) {
  cpose_free(state);
}

/* What the four nodes it replaces count (MaxPool one per tap, Equal and Mul one each), so that fusion does
 * not change a model's FLOP count. */
static double keep_peaks_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  const nn_keep_peaks_params *p = node->params;
  (void)in;
  return (double)nn_numel(&out[0]) * (double)(p->kernel_h * p->kernel_w + 2);
}

const nn_op nn_op_keep_peaks = {
    .type = "_CposeKeepPeaks",
    .params_size = sizeof(nn_keep_peaks_params),
    .infer = keep_peaks_infer,
    .run = keep_peaks_run,
    .fast_create = keep_peaks_fast_create,
    .fast_run = keep_peaks_fast_run,
    .fast_destroy = keep_peaks_fast_destroy,
    .flops = keep_peaks_flops,
};
