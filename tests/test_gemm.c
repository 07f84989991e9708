/* nn_gemm, the matrix product of 1x1 convolutions: equal, bit for bit, to a plain loop that sums in the order
 * gemm.h promises (bias first, then one fmaf per k, k ascending), for every row count that exercises a
 * different mix of its kernels, column counts around its 16- and 32-wide panels, strided rows, each clamp,
 * with and without bias, on 1 and 2 threads; rows and the gaps between them it must not write stay as they
 * were. Skips on a CPU without AVX-512F, where the convolutions use XNNPACK instead. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/gemm.h"
#include "op_test.h"
#include "test.h"

#define GAP 3          /* floats between rows of A and of C */
#define SENTINEL -7.5f /* what C holds where the product must not write */

typedef struct gemm_case {
  size_t m, k, n;
  bool bias;
  float lo, hi;
} gemm_case;

/* C (m, n), rows n + GAP apart: the sums in gemm.h's order. */
static void expected_product(const gemm_case *c, const float *a, const float *w, const float *bias,
                             float *out) {
  size_t lda = c->k + GAP, ldc = c->n + GAP;
  for (size_t i = 0; i < c->m; i++) {
    for (size_t j = 0; j < c->n; j++) {
      float sum = bias ? bias[j] : 0.0f;
      for (size_t r = 0; r < c->k; r++) sum = fmaf(a[i * lda + r], w[r * c->n + j], sum);
      out[i * ldc + j] = fminf(fmaxf(sum, c->lo), c->hi);
    }
  }
}

/* The number of floats of C that differ from `want` (bitwise, so -0 and NaN count too). */
static size_t run_case(const gemm_case *c, const float *a, const float *w, const float *bias,
                       const float *want, pthreadpool_t pool) {
  size_t size = c->m * (c->n + GAP);
  float *got = malloc(size * sizeof *got);
  for (size_t i = 0; i < size; i++) got[i] = SENTINEL;
  nn_gemm *g = NULL;
  CHECK_OK(nn_gemm_create(c->k, c->n, w, bias, c->lo, c->hi, &g));
  size_t wrong = size;
  if (g) {
    nn_gemm_run(g, c->m, a, c->k + GAP, got, c->n + GAP, pool);
    wrong = 0;
    for (size_t i = 0; i < size; i++) wrong += memcmp(&got[i], &want[i], sizeof *got) != 0;
  }
  nn_gemm_destroy(g);
  free(got);
  return wrong;
}

static void check_case(const gemm_case *c, unsigned seed, pthreadpool_t pool) {
  size_t a_size = c->m * (c->k + GAP), c_size = c->m * (c->n + GAP);
  float *a = malloc(a_size * sizeof *a), *w = malloc(c->k * c->n * sizeof *w);
  float *bias = malloc(c->n * sizeof *bias), *want = malloc(c_size * sizeof *want);
  op_fill(a, (int64_t)a_size, seed, -1.0f, 1.0f);
  op_fill(w, (int64_t)(c->k * c->n), seed + 1, -1.0f, 1.0f);
  op_fill(bias, (int64_t)c->n, seed + 2, -1.0f, 1.0f);
  for (size_t i = 0; i < c_size; i++) want[i] = SENTINEL;
  expected_product(c, a, w, c->bias ? bias : NULL, want);
  for (int threads = 1; threads <= 2; threads++) {
    size_t wrong = run_case(c, a, w, c->bias ? bias : NULL, want, threads == 2 ? pool : NULL);
    if (wrong) {
      fprintf(stderr, "m %zu k %zu n %zu bias %d clamp [%g, %g], %d threads: %zu floats differ\n", c->m, c->k,
              c->n, c->bias, (double)c->lo, (double)c->hi, threads, wrong);
    }
    CHECK(wrong == 0);
  }
  free(a);
  free(w);
  free(bias);
  free(want);
}

/* Rows 1..61 meet every split of a 28-row tile into the 14/8/4/2/1 and 28/16/8/4/2/1-row kernels, and more
 * than one tile; columns around 16 and 32 meet half, full and masked panels. */
static void test_matches_plain_loop(pthreadpool_t pool) {
  static const size_t ks[] = {1, 2, 7, 16, 33};
  static const size_t ns[] = {1, 5, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 100};
  static const float clamps[][2] = {{-INFINITY, INFINITY}, {0.0f, INFINITY}, {0.0f, 6.0f}, {-0.5f, 0.25f}};
  unsigned index = 0;
  for (size_t m = 1; m <= 61; m++) {
    for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++, index++) {
      gemm_case c = {m, ks[index % 5], ns[j], index % 3 != 0, clamps[index % 4][0], clamps[index % 4][1]};
      check_case(&c, index, pool);
    }
  }
}

/* Larger shapes of the kind MobileNet has: many pixels, few channels; few pixels, many channels. */
static void test_network_shapes(pthreadpool_t pool) {
  static const gemm_case cases[] = {{1000, 16, 96, true, 0.0f, 6.0f},
                                    {64, 320, 100, true, -INFINITY, INFINITY},
                                    {130, 144, 24, false, 0.0f, INFINITY}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i], 1000 + (unsigned)i, pool);
}

static void test_create_failures(void) {
  float w[4] = {1, 2, 3, 4};
  nn_gemm *g = NULL;
  CHECK(nn_gemm_create(0, 4, w, NULL, 0.0f, 1.0f, &g) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(nn_gemm_create(4, 0, w, NULL, 0.0f, 1.0f, &g) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(nn_gemm_create((size_t)1 << 60, 4, w, NULL, 0.0f, 1.0f, &g) == CPOSE_ERR_INVALID_ARGUMENT);
  for (long fail_at = 0; fail_at < 2; fail_at++) {
    cpose_alloc_fail_after(fail_at);
    cpose_status status = nn_gemm_create(2, 2, w, NULL, 0.0f, 1.0f, &g);
    cpose_alloc_fail_after(-1);
    CHECK(status == CPOSE_ERR_OUT_OF_MEMORY);
  }
  CHECK(g == NULL);
  nn_gemm_destroy(NULL);
}

int main(void) {
  if (!nn_gemm_available()) TEST_SKIP("this CPU has no AVX-512F; 1x1 convolutions use XNNPACK");
  pthreadpool_t pool = pthreadpool_create(2);
  test_matches_plain_loop(pool);
  test_network_shapes(pool);
  test_create_failures();
  pthreadpool_destroy(pool);
  return test_finish("test_gemm");
}
