#include "nn/gemm.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/simd.h"
#include "nn/xnn.h"

#define LANES 16 /* floats in one AVX-512 vector */
#define PANEL 32 /* columns of a full panel: two vectors */
/* Rows of one task: two 14-row kernels on full panels, one 28-row kernel on half ones. */
#define TILE_ROWS 28

/* Packed weights: ceil(n / 32) panels of columns, left to right, panel j at packed + j * (k + 1) * 32. A
 * panel holds `width` floats of bias, then k rows of `width` weights: width 32, or 16 for a last panel of at
 * most 16 columns. Columns past n are zeros. */
struct nn_gemm {
  size_t k, n;
  size_t panels;
  float lo, hi;
  float *packed; /* 64-byte aligned */
};

static size_t panel_width(const nn_gemm *g, size_t panel) {
  return g->n - panel * PANEL <= LANES ? LANES : PANEL;
}

static size_t panel_columns(const nn_gemm *g, size_t panel) {
  size_t left = g->n - panel * PANEL;
  return left < PANEL ? left : PANEL;
}

static void pack(nn_gemm *g, const float *weights, const float *bias) {
  for (size_t j = 0; j < g->panels; j++) {
    float *p = g->packed + j * (g->k + 1) * PANEL; /* (k + 1, width) */
    size_t width = panel_width(g, j), columns = panel_columns(g, j), first = j * PANEL;
    memset(p, 0, (g->k + 1) * width * sizeof(float));
    for (size_t c = 0; c < columns; c++) {
      p[c] = bias ? bias[first + c] : 0.0f;
      for (size_t r = 0; r < g->k; r++) p[(r + 1) * width + c] = weights[r * g->n + first + c];
    }
  }
}

bool nn_gemm_available(void) {
  return nn_simd_has_avx512();
}

cpose_status nn_gemm_create(size_t k, size_t n, const float *weights, const float *bias, float lo, float hi,
                            nn_gemm **out) {
  if (!nn_gemm_available()) return cpose_fail(CPOSE_ERR_UNSUPPORTED, "the GEMM kernels need AVX-512F");
  if (k == 0 || n == 0 || k > SIZE_MAX / sizeof(float) / PANEL / (n / PANEL + 2)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "a %zu x %zu GEMM cannot be packed", k, n);
  }
  nn_gemm *g = cpose_calloc(1, sizeof *g);
  if (!g) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a GEMM");
  g->k = k;
  g->n = n;
  g->panels = (n + PANEL - 1) / PANEL;
  g->lo = lo;
  g->hi = hi;
  g->packed = nn_fast_malloc_aligned(g->panels * (k + 1) * PANEL * sizeof(float));
  if (!g->packed) {
    cpose_free(g);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the packed %zu x %zu GEMM weights", k, n);
  }
  pack(g, weights, bias);
  *out = g;
  return CPOSE_OK;
}

void nn_gemm_destroy(nn_gemm *g) {
  if (!g) return;
  cpose_free_aligned(g->packed);
  cpose_free(g);
}

/* ---- kernels ------------------------------------------------------------------------------------------ */

/* One kernel call: `rows` rows of A against one panel. */
typedef struct gemm_tile {
  const float *a; /* (rows, k), rows lda apart */
  size_t lda;
  const float *panel; /* (k + 1, width): bias, then weights */
  size_t k;
  float *c; /* (rows, columns), rows ldc apart */
  size_t ldc;
  size_t columns; /* 1..width */
  float lo, hi;
} gemm_tile;

#ifdef NN_SIMD_AVX512

/* ROWS x (VECS * 16) outputs in 28 or fewer zmm accumulators. The loops have constant trip counts and are
 * unrolled, so that the accumulators live in registers. */
NN_SIMD_TARGET __attribute__((always_inline)) static inline void kernel(const gemm_tile *t, int rows,
                                                                        int vecs) {
  const int width = vecs * LANES;
  const float *b = t->panel;
  __m512 acc[TILE_ROWS][2];
  __m512 b0 = _mm512_load_ps(b), b1 = vecs == 2 ? _mm512_load_ps(b + LANES) : b0;
  _Pragma("GCC unroll 28") for (int r = 0; r < rows; r++) {
    acc[r][0] = b0;
    acc[r][1] = b1;
  }
  for (size_t i = 0; i < t->k; i++) {
    b += width;
    b0 = _mm512_load_ps(b);
    if (vecs == 2) b1 = _mm512_load_ps(b + LANES);
    _Pragma("GCC unroll 28") for (int r = 0; r < rows; r++) {
      __m512 x = _mm512_set1_ps(t->a[(size_t)r * t->lda + i]);
      acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
      if (vecs == 2) acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
    }
  }
  const __m512 lo = _mm512_set1_ps(t->lo), hi = _mm512_set1_ps(t->hi);
  /* The lanes of each vector that hold one of `columns` columns. */
  const __mmask16 m0 = nn_simd_lanes(t->columns),
                  m1 = nn_simd_lanes(t->columns > LANES ? t->columns - LANES : 0);
  _Pragma("GCC unroll 28") for (int r = 0; r < rows; r++) {
    float *c = t->c + (size_t)r * t->ldc;
    _mm512_mask_storeu_ps(c, m0, _mm512_min_ps(_mm512_max_ps(acc[r][0], lo), hi));
    if (vecs == 2) _mm512_mask_storeu_ps(c + LANES, m1, _mm512_min_ps(_mm512_max_ps(acc[r][1], lo), hi));
  }
}

typedef void (*kernel_fn)(const gemm_tile *t);
typedef struct sized_kernel {
  int rows;
  kernel_fn run;
} sized_kernel;

#define NN_GEMM_KERNEL(ROWS, VECS)                                        \
  NN_SIMD_TARGET static void kernel_##ROWS##x##VECS(const gemm_tile *t) { \
    kernel(t, ROWS, VECS);                                                \
  }
NN_GEMM_KERNEL(14, 2)
NN_GEMM_KERNEL(8, 2)
NN_GEMM_KERNEL(4, 2)
NN_GEMM_KERNEL(2, 2)
NN_GEMM_KERNEL(1, 2)
NN_GEMM_KERNEL(28, 1)
NN_GEMM_KERNEL(16, 1)
NN_GEMM_KERNEL(8, 1)
NN_GEMM_KERNEL(4, 1)
NN_GEMM_KERNEL(2, 1)
NN_GEMM_KERNEL(1, 1)

/* Largest first and ending with 1 row, so that any row count up to TILE_ROWS takes at most five calls. */
static const sized_kernel full_panel[] = {
    {14, kernel_14x2}, {8, kernel_8x2}, {4, kernel_4x2}, {2, kernel_2x2}, {1, kernel_1x2}};
static const sized_kernel half_panel[] = {{28, kernel_28x1}, {16, kernel_16x1}, {8, kernel_8x1},
                                          {4, kernel_4x1},   {2, kernel_2x1},   {1, kernel_1x1}};

#endif /* NN_SIMD_AVX512 */

typedef struct gemm_job {
  const nn_gemm *g;
  size_t m;
  const float *a;
  size_t lda;
  float *c;
  size_t ldc;
} gemm_job;

/* pthreadpool task: rows [tile * 28, +28) of C against panel j. */
static void run_tile(void *context, size_t tile, size_t j) {
  const gemm_job *job = context;
  const nn_gemm *g = job->g;
  size_t row = tile * TILE_ROWS;
  size_t rows = job->m - row < TILE_ROWS ? job->m - row : TILE_ROWS;
  gemm_tile t = {
      .a = job->a + row * job->lda,
      .lda = job->lda,
      .panel = g->packed + j * (g->k + 1) * PANEL,
      .k = g->k,
      .c = job->c + row * job->ldc + j * PANEL,
      .ldc = job->ldc,
      .columns = panel_columns(g, j),
      .lo = g->lo,
      .hi = g->hi,
  };
#ifdef NN_SIMD_AVX512
  for (const sized_kernel *s = panel_width(g, j) == PANEL ? full_panel : half_panel; rows > 0; s++) {
    for (; rows >= (size_t)s->rows; rows -= (size_t)s->rows) {
      s->run(&t);
      t.a += (size_t)s->rows * t.lda;
      t.c += (size_t)s->rows * t.ldc;
    }
  }
#else
  (void)t;
  (void)rows;
#endif
}

void nn_gemm_run(const nn_gemm *g, size_t m, const float *a, size_t lda, float *c, size_t ldc,
                 pthreadpool_t pool) {
  gemm_job job = {g, m, a, lda, c, ldc};
  size_t tiles = (m + TILE_ROWS - 1) / TILE_ROWS;
  pthreadpool_parallelize_2d(pool, run_tile, &job, tiles, g->panels, 0);
}
