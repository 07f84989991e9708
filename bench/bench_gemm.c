/*
 * bench_gemm: cpose's GEMM (src/nn/gemm.c) against XNNPACK's 1x1 convolution on pointwise layers of the sizes
 * MobileNets have (pixels x input channels -> output channels, Relu6 clamp), one thread. Prints
 * the best of 5 timings of each, in ms and GFLOP/s, and checks that both give the same outputs within 1e-4.
 * A benchmark: it prints numbers and fails only when the outputs disagree or a kernel cannot be created.
 *
 *   bench_gemm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <xnnpack.h>

#include "nn/gemm.h"

typedef struct shape {
  size_t m, k, n; /* pixels, input channels, output channels */
} shape;

/* From 256x256 pixels with few channels (the stems' expansions) to 8x8 with many (the last blocks). */
static const shape shapes[] = {{256 * 256, 16, 16}, {256 * 256, 16, 64}, {256 * 256, 16, 96},
                               {64 * 64, 96, 24},   {64 * 64, 24, 144},  {64 * 64, 144, 24},
                               {32 * 32, 120, 40},  {16 * 16, 96, 576},  {16 * 16, 576, 96},
                               {16 * 16, 480, 112}, {8 * 8, 960, 320},   {8 * 8, 320, 1280}};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static void fill(float *x, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    x[i] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
  }
}

typedef struct kernels {
  const shape *s;
  xnn_operator_t op;
  const nn_gemm *g;
  const float *a;
  float *c;
} kernels;

static void run_xnn(const kernels *k) {
  xnn_run_operator(k->op, NULL);
}

static void run_own(const kernels *k) {
  nn_gemm_run(k->g, k->s->m, k->a, k->s->k, k->c, k->s->n, NULL);
}

/* Best of 5 timings of `runs` calls, in ms per call. */
static double best_ms(int runs, void (*run)(const kernels *), const kernels *k) {
  double best = INFINITY;
  for (int rep = 0; rep < 5; rep++) {
    double t = now_ms();
    for (int i = 0; i < runs; i++) run(k);
    t = (now_ms() - t) / runs;
    if (t < best) best = t;
  }
  return best;
}

/* One shape: 0 when both kernels ran and agree. */
static int bench_shape(const shape *s) {
  float *a = malloc(s->m * s->k * sizeof *a), *w = malloc(s->k * s->n * sizeof *w);
  float *ohwi = malloc(s->k * s->n * sizeof *ohwi), *bias = malloc(s->n * sizeof *bias);
  float *c_xnn = malloc(s->m * s->n * sizeof *c_xnn), *c_own = malloc(s->m * s->n * sizeof *c_own);
  fill(a, s->m * s->k, 1);
  fill(w, s->k * s->n, 2);
  fill(bias, s->n, 3);
  for (size_t r = 0; r < s->k; r++) {
    for (size_t j = 0; j < s->n; j++) ohwi[j * s->k + r] = w[r * s->n + j];
  }
  xnn_operator_t op = NULL;
  nn_gemm *g = NULL;
  int failed = 1;
  if (xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, s->k, s->n, s->k, s->n, ohwi, bias,
                                        0.0f, 6.0f, 0, &op) != xnn_status_success ||
      xnn_setup_convolution2d_nhwc_f32(op, 1, s->m, 1, a, c_xnn, NULL) != xnn_status_success ||
      nn_gemm_create(s->k, s->n, w, bias, 0.0f, 6.0f, &g) != CPOSE_OK) {
    fprintf(stderr, "bench_gemm: cannot create the kernels for %zu x %zu -> %zu\n", s->m, s->k, s->n);
    goto done;
  }
  double flop = 2.0 * (double)(s->m * s->k * s->n);
  int runs = (int)(1e9 / flop) + 3;
  kernels k = {s, op, g, a, c_own};
  double xnn_ms = best_ms(runs, run_xnn, &k), own_ms = best_ms(runs, run_own, &k);
  double diff = 0.0;
  for (size_t i = 0; i < s->m * s->n; i++) diff = fmax(diff, fabs((double)c_xnn[i] - (double)c_own[i]));
  printf("%6zu x %4zu -> %4zu   xnnpack %7.3f ms %4.0f GFLOP/s   cpose %7.3f ms %4.0f GFLOP/s   %.2fx\n",
         s->m, s->k, s->n, xnn_ms, flop / xnn_ms * 1e-6, own_ms, flop / own_ms * 1e-6, xnn_ms / own_ms);
  failed = diff > 1e-4;
  if (failed) fprintf(stderr, "bench_gemm: %zu x %zu -> %zu: outputs differ by %g\n", s->m, s->k, s->n, diff);
done:
  if (op) xnn_delete_operator(op);
  nn_gemm_destroy(g);
  free(a);
  free(w);
  free(ohwi);
  free(bias);
  free(c_xnn);
  free(c_own);
  return failed;
}

int main(void) {
  if (!nn_gemm_available()) {
    fprintf(stderr, "bench_gemm: this CPU has no AVX-512F; cpose uses XNNPACK's convolution\n");
    return 1;
  }
  if (xnn_initialize(NULL) != xnn_status_success) {
    fprintf(stderr, "bench_gemm: XNNPACK does not initialize on this CPU\n");
    return 1;
  }
  int failed = 0;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) failed |= bench_shape(&shapes[i]);
  return failed;
}
