/* Element-wise ops (src/nn/elementwise.c, src/nn/ops/{add,sub,...}.c): hand-computed values, TensorFlow's
 * floor division and modulo on negative operands, broadcasting, Cast, bad inputs, and every XNNPACK kernel
 * against the reference on odd shapes with 1 and 2 threads. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/ops/hard_swish.h"
#include "op_test.h"

extern const nn_op nn_op_add, nn_op_add_v2, nn_op_sub, nn_op_mul, nn_op_real_div, nn_op_squared_difference;
extern const nn_op nn_op_floor_div, nn_op_floor_mod, nn_op_equal;
extern const nn_op nn_op_relu, nn_op_relu6, nn_op_sigmoid, nn_op_sqrt, nn_op_hard_swish;
extern const nn_op nn_op_cast, nn_op_identity;

#define LEN(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

/* ---- helpers ------------------------------------------------------------------------------------------- */

/* Element i of a float32, int32 or bool buffer (all exact as doubles). */
static double element(nn_dtype dtype, const void *data, int64_t i) {
  switch (dtype) {
    case NN_F32:
      return ((const float *)data)[i];
    case NN_I32:
      return ((const int32_t *)data)[i];
    case NN_BOOL:
      return ((const uint8_t *)data)[i];
  }
  return NAN;
}

/* Checks that `t` has dtype `dtype`, n elements, and the values `expected` (of that dtype) within `tol`
 * (NaN matches only NaN). `line` is the caller's, for the message. */
static void expect_values(int line, const nn_tensor *t, nn_dtype dtype, const void *expected, int64_t n,
                          double tol) {
  test_checks++;
  bool ok = t->dtype == dtype && nn_numel(t) == n && t->data;
  if (!ok) {
    fprintf(stderr, "line %d: got %s tensor of %lld elements, want %s of %lld\n", line,
            nn_dtype_name(t->dtype), (long long)nn_numel(t), nn_dtype_name(dtype), (long long)n);
  }
  for (int64_t i = 0; ok && i < n; i++) {
    double v = element(dtype, t->data, i), e = element(dtype, expected, i);
    if (isnan(e) ? !isnan(v) : !(v == e || fabs(v - e) <= tol)) {
      fprintf(stderr, "line %d: element %lld is %.9g, want %.9g\n", line, (long long)i, v, e);
      ok = false;
    }
  }
  if (!ok) test_failures++;
}

#define EXPECT_F32(t, expected, n, tol) expect_values(__LINE__, t, NN_F32, expected, n, tol)
#define EXPECT_I32(t, expected, n) expect_values(__LINE__, t, NN_I32, expected, n, 0.0)
#define EXPECT_BOOL(t, expected, n) expect_values(__LINE__, t, NN_BOOL, expected, n, 0.0)

/* n floats, plus the NN_TENSOR_SLACK bytes past the end that XNNPACK may read (as the session's arena). */
static float *alloc_floats(int64_t n) {
  return malloc((size_t)n * sizeof(float) + NN_TENSOR_SLACK);
}

static bool has_shape(const nn_tensor *t, int rank, const int64_t *dims) {
  nn_tensor want = op_tensor(t->dtype, rank, dims, NULL);
  return nn_same_shape(t, &want);
}

/* Runs a binary op's reference kernel on (a, b); the output stays in t (free with op_test_free). */
static cpose_status run_binary(op_test *t, const nn_op *op, nn_tensor a, nn_tensor b) {
  nn_tensor in[2] = {a, b};
  cpose_status status = op_test_init(t, op, NULL, 2, in);
  return status == CPOSE_OK ? op_test_run_ref(t) : status;
}

static cpose_status run_unary(op_test *t, const nn_op *op, const char *attr, nn_tensor x) {
  cpose_status status = op_test_init(t, op, attr, 1, &x);
  return status == CPOSE_OK ? op_test_run_ref(t) : status;
}

/* ---- binary ops on same-shape inputs ------------------------------------------------------------------- */

static void test_arithmetic_f32(void) {
  static const int64_t dims[] = {4};
  float a[] = {1.5f, -2.0f, 3.0f, 0.25f};
  float b[] = {2.0f, 4.0f, -0.5f, 0.5f};
  struct {
    const nn_op *op;
    float expected[4];
  } cases[] = {
      {&nn_op_add, {3.5f, 2.0f, 2.5f, 0.75f}},
      {&nn_op_add_v2, {3.5f, 2.0f, 2.5f, 0.75f}},
      {&nn_op_sub, {-0.5f, -6.0f, 3.5f, -0.25f}},
      {&nn_op_mul, {3.0f, -8.0f, -1.5f, 0.125f}},
      {&nn_op_real_div, {0.75f, -0.5f, -6.0f, 0.5f}},
      {&nn_op_squared_difference, {0.25f, 36.0f, 12.25f, 0.0625f}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    op_test t;
    CHECK_OK(run_binary(&t, cases[c].op, op_tensor(NN_F32, 1, dims, a), op_tensor(NN_F32, 1, dims, b)));
    EXPECT_F32(&t.out[0], cases[c].expected, 4, 0.0);
    op_test_free(&t);
  }
  CHECK(strcmp(nn_op_add.type, "Add") == 0 && strcmp(nn_op_add_v2.type, "AddV2") == 0);
}

static void test_arithmetic_i32(void) {
  static const int64_t dims[] = {4};
  int32_t a[] = {7, -7, INT32_MAX, 3};
  int32_t b[] = {2, 2, 1, -4};
  struct {
    const nn_op *op;
    int32_t expected[4];
  } cases[] = {
      {&nn_op_add, {9, -5, INT32_MIN, -1}}, /* int32 overflow wraps, as in TensorFlow */
      {&nn_op_add_v2, {9, -5, INT32_MIN, -1}},
      {&nn_op_sub, {5, -9, INT32_MAX - 1, 7}},
      {&nn_op_mul, {14, -14, INT32_MAX, -12}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    op_test t;
    CHECK_OK(run_binary(&t, cases[c].op, op_tensor(NN_I32, 1, dims, a), op_tensor(NN_I32, 1, dims, b)));
    EXPECT_I32(&t.out[0], cases[c].expected, 4);
    op_test_free(&t);
  }
}

static void test_floor_div_mod(void) {
  /* int32, Python's // and %: rounding toward -inf, remainder with the divisor's sign. Division by zero is
   * defined as 0; INT32_MIN // -1 wraps. */
  int32_t ia[] = {7, -7, 7, -7, 6, -6, 0, 5, -5, INT32_MIN, INT32_MIN, INT32_MAX, -1};
  int32_t ib[] = {2, 2, -2, -2, 3, 3, 3, 0, 0, -1, 2, -1, 3};
  int32_t div_expected[] = {3, -4, -4, 3, 2, -2, 0, 0, 0, INT32_MIN, -1073741824, -INT32_MAX, -1};
  int32_t mod_expected[] = {1, 1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  int64_t idims[] = {LEN(ia)};
  op_test t;
  CHECK_OK(
      run_binary(&t, &nn_op_floor_div, op_tensor(NN_I32, 1, idims, ia), op_tensor(NN_I32, 1, idims, ib)));
  EXPECT_I32(&t.out[0], div_expected, LEN(ia));
  op_test_free(&t);
  CHECK_OK(
      run_binary(&t, &nn_op_floor_mod, op_tensor(NN_I32, 1, idims, ia), op_tensor(NN_I32, 1, idims, ib)));
  EXPECT_I32(&t.out[0], mod_expected, LEN(ia));
  op_test_free(&t);

  /* float32: floor(a / b), and TF's fmod with the sign fix. */
  float fa[] = {7.0f, -7.0f, 7.0f, -7.0f, -7.5f, -0.5f, 6.0f, 5.5f, 1.0f, 7.25f};
  float fb[] = {2.0f, 2.0f, -2.0f, -2.0f, 2.0f, 2.0f, -3.0f, 0.0f, 0.5f, -0.5f};
  float fdiv_expected[] = {3.0f, -4.0f, -4.0f, 3.0f, -4.0f, -1.0f, -2.0f, INFINITY, 2.0f, -15.0f};
  float fmod_expected[] = {1.0f, 1.0f, -1.0f, -1.0f, 0.5f, 1.5f, 0.0f, NAN, 0.0f, -0.25f};
  int64_t fdims[] = {LEN(fa)};
  CHECK_OK(
      run_binary(&t, &nn_op_floor_div, op_tensor(NN_F32, 1, fdims, fa), op_tensor(NN_F32, 1, fdims, fb)));
  EXPECT_F32(&t.out[0], fdiv_expected, LEN(fa), 0.0);
  op_test_free(&t);
  CHECK_OK(
      run_binary(&t, &nn_op_floor_mod, op_tensor(NN_F32, 1, fdims, fa), op_tensor(NN_F32, 1, fdims, fb)));
  EXPECT_F32(&t.out[0], fmod_expected, LEN(fa), 0.0);
  op_test_free(&t);
}

static void test_equal(void) {
  float fa[] = {1.0f, 2.0f, NAN, -0.0f, INFINITY};
  float fb[] = {1.0f, 3.0f, NAN, 0.0f, INFINITY};
  uint8_t f_expected[] = {1, 0, 0, 1, 1};
  int64_t fdims[] = {LEN(fa)};
  op_test t;
  CHECK_OK(run_binary(&t, &nn_op_equal, op_tensor(NN_F32, 1, fdims, fa), op_tensor(NN_F32, 1, fdims, fb)));
  EXPECT_BOOL(&t.out[0], f_expected, LEN(fa));
  op_test_free(&t);

  /* int32, broadcast against a scalar: [2,2] == [] */
  int32_t ia[] = {3, -1, 3, 4};
  int32_t ib[] = {3};
  uint8_t i_expected[] = {1, 0, 1, 0};
  int64_t idims[] = {2, 2};
  CHECK_OK(run_binary(&t, &nn_op_equal, op_tensor(NN_I32, 2, idims, ia), op_tensor(NN_I32, 0, NULL, ib)));
  EXPECT_BOOL(&t.out[0], i_expected, 4);
  CHECK(has_shape(&t.out[0], 2, idims));
  op_test_free(&t);
}

/* ---- shapes for the broadcasting and fast-kernel tests ------------------------------------------------ */

typedef struct shape_pair {
  int a_rank;
  int64_t a[NN_MAX_RANK];
  int b_rank;
  int64_t b[NN_MAX_RANK];
  bool fast; /* whether XNNPACK should take it (false: more than 6 dims remain after merging) */
} shape_pair;

static const shape_pair shape_pairs[] = {
    {3, {3, 5, 7}, 3, {3, 5, 7}, true},
    {4, {1, 7, 9, 13}, 1, {13}, true},
    {4, {1, 1, 1, 17}, 4, {1, 5, 7, 17}, true},
    {0, {0}, 3, {2, 3, 5}, true},
    {3, {2, 3, 5}, 0, {0}, true},
    {3, {5, 1, 3}, 3, {1, 6, 1}, true},
    {3, {2, 3, 1}, 2, {1, 4}, true},
    {4, {1, 64, 64, 33}, 1, {33}, true},
    {4, {1, 31, 29, 3}, 4, {1, 31, 29, 3}, true},
    {5, {2, 1, 3, 1, 2}, 4, {4, 1, 5, 1}, true},
    /* an empty output: nothing to compute, so no XNNPACK operator */
    {2, {0, 3}, 1, {3}, false},
    /* rank 8 that merges to [120,7] with b broadcast along the first dim */
    {8, {1, 2, 3, 4, 5, 1, 1, 7}, 8, {1, 1, 1, 1, 1, 1, 1, 7}, true},
    /* rank 8 with alternating broadcasts: 8 dims remain, so the reference kernel is used */
    {8, {2, 1, 2, 1, 2, 1, 2, 3}, 8, {1, 3, 1, 2, 1, 2, 1, 3}, false},
    /* the fast kernel's special shapes: a short row broadcast from either side (repeated into longer rows),
     * one that no repeat count divides into (1021 rows), and flat tensors cut into slices for the pool */
    {1, {3}, 4, {1, 64, 64, 3}, true},
    {2, {1021, 3}, 1, {3}, true},
    {3, {2, 100, 100}, 3, {2, 100, 100}, true},
    {0, {0}, 3, {2, 100, 100}, true},
    /* slices along the outermost dim where a side is broadcast along an inner one (each slice's offset into
     * that side counts only its own dims), from either side */
    {3, {64, 64, 33}, 3, {64, 1, 33}, true},
    {3, {64, 1, 33}, 3, {64, 64, 33}, true},
};

/* ---- broadcasting -------------------------------------------------------------------------------------- */

static void test_broadcast(void) {
  op_test t;

  /* [2,3,1] + [1,4] -> [2,3,4]: out[i][j][k] = a[i][j] + b[k] */
  {
    float a[6], b[4], expected[24];
    for (int i = 0; i < 6; i++) a[i] = (float)(10 * i);
    for (int k = 0; k < 4; k++) b[k] = 0.5f * (float)(k + 1);
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 3; j++)
        for (int k = 0; k < 4; k++) expected[(i * 3 + j) * 4 + k] = a[i * 3 + j] + b[k];
    int64_t ad[] = {2, 3, 1}, bd[] = {1, 4}, od[] = {2, 3, 4};
    CHECK_OK(run_binary(&t, &nn_op_add, op_tensor(NN_F32, 3, ad, a), op_tensor(NN_F32, 2, bd, b)));
    CHECK(has_shape(&t.out[0], 3, od));
    EXPECT_F32(&t.out[0], expected, 24, 0.0);
    op_test_free(&t);
  }

  /* scalar - [2,3] and [2,3] - scalar: the order of the operands is kept */
  {
    float s[] = {10.0f}, x[] = {1, 2, 3, 4, 5, 6};
    float s_minus_x[] = {9, 8, 7, 6, 5, 4}, x_minus_s[] = {-9, -8, -7, -6, -5, -4};
    int64_t xd[] = {2, 3};
    CHECK_OK(run_binary(&t, &nn_op_sub, op_tensor(NN_F32, 0, NULL, s), op_tensor(NN_F32, 2, xd, x)));
    CHECK(has_shape(&t.out[0], 2, xd));
    EXPECT_F32(&t.out[0], s_minus_x, 6, 0.0);
    op_test_free(&t);
    CHECK_OK(run_binary(&t, &nn_op_sub, op_tensor(NN_F32, 2, xd, x), op_tensor(NN_F32, 0, NULL, s)));
    CHECK(has_shape(&t.out[0], 2, xd));
    EXPECT_F32(&t.out[0], x_minus_s, 6, 0.0);
    op_test_free(&t);
  }

  /* [1,H,W,C] - [1,1,1,C] and [1,1,1,C] - [1,H,W,C]: a per-channel bias, on either side */
  {
    enum { H = 2, W = 3, C = 5 };
    float bias[C], x[H * W * C], x_minus_bias[H * W * C], bias_minus_x[H * W * C];
    for (int c = 0; c < C; c++) bias[c] = (float)(c + 1);
    for (int i = 0; i < H * W * C; i++) x[i] = (float)(i * i) - 7.0f;
    for (int i = 0; i < H * W * C; i++) {
      x_minus_bias[i] = x[i] - bias[i % C];
      bias_minus_x[i] = bias[i % C] - x[i];
    }
    int64_t bd[] = {1, 1, 1, C}, xd[] = {1, H, W, C};
    CHECK_OK(run_binary(&t, &nn_op_sub, op_tensor(NN_F32, 4, xd, x), op_tensor(NN_F32, 4, bd, bias)));
    CHECK(has_shape(&t.out[0], 4, xd));
    EXPECT_F32(&t.out[0], x_minus_bias, H * W * C, 0.0);
    op_test_free(&t);
    CHECK_OK(run_binary(&t, &nn_op_sub, op_tensor(NN_F32, 4, bd, bias), op_tensor(NN_F32, 4, xd, x)));
    CHECK(has_shape(&t.out[0], 4, xd));
    EXPECT_F32(&t.out[0], bias_minus_x, H * W * C, 0.0);
    op_test_free(&t);
  }

  /* [3,1,5] - [4,1]: both sides broadcast, on alternating dims -> [3,4,5] */
  {
    float a[15], b[4], expected[60];
    for (int i = 0; i < 15; i++) a[i] = (float)(i * i);
    for (int j = 0; j < 4; j++) b[j] = (float)(100 * j);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 4; j++)
        for (int k = 0; k < 5; k++) expected[(i * 4 + j) * 5 + k] = a[i * 5 + k] - b[j];
    int64_t ad[] = {3, 1, 5}, bd[] = {4, 1}, od[] = {3, 4, 5};
    CHECK_OK(run_binary(&t, &nn_op_sub, op_tensor(NN_F32, 3, ad, a), op_tensor(NN_F32, 2, bd, b)));
    CHECK(has_shape(&t.out[0], 3, od));
    EXPECT_F32(&t.out[0], expected, 60, 0.0);
    op_test_free(&t);
  }

  /* int32 index arithmetic: [6] floormod [] and [6] floordiv [] (flat index -> (row, column) of width 4) */
  {
    int32_t idx[] = {0, 3, 4, 9, -1, -5}, width[] = {4};
    int32_t rows[] = {0, 0, 1, 2, -1, -2}, cols[] = {0, 3, 0, 1, 3, 3};
    int64_t d[] = {6};
    CHECK_OK(
        run_binary(&t, &nn_op_floor_div, op_tensor(NN_I32, 1, d, idx), op_tensor(NN_I32, 0, NULL, width)));
    EXPECT_I32(&t.out[0], rows, 6);
    op_test_free(&t);
    CHECK_OK(
        run_binary(&t, &nn_op_floor_mod, op_tensor(NN_I32, 1, d, idx), op_tensor(NN_I32, 0, NULL, width)));
    EXPECT_I32(&t.out[0], cols, 6);
    op_test_free(&t);
  }

  /* an empty output ([0,3] + [3]) runs and writes nothing */
  {
    float a[1] = {0}, b[3] = {1, 2, 3};
    int64_t ad[] = {0, 3}, bd[] = {3};
    CHECK_OK(run_binary(&t, &nn_op_add, op_tensor(NN_F32, 2, ad, a), op_tensor(NN_F32, 1, bd, b)));
    CHECK(has_shape(&t.out[0], 2, ad));
    op_test_free(&t);
  }
}

/* Element o of the broadcast of a (rank a_rank, dims a) into out: o's index in out, with the dims a lacks or
 * has as 1 dropped. Plain index arithmetic, independent of elementwise.c's merged loop nest. */
static int64_t broadcast_source(int64_t o, int out_rank, const int64_t *out, int a_rank, const int64_t *a) {
  int64_t source = 0, stride = 1;
  for (int i = out_rank - 1; i >= 0; i--) {
    int64_t index = o % out[i];
    o /= out[i];
    int ia = i - (out_rank - a_rank);
    if (ia < 0) continue;
    if (a[ia] != 1) source += index * stride;
    stride *= a[ia];
  }
  return source;
}

/* The reference kernel against index arithmetic, for every shape pair, both operand orders, with Sub (whose
 * result shows which operand went where). */
static void test_broadcast_pairs(void) {
  enum { MAX_ELEMENTS = 64 * 64 * 33 };
  float *a = alloc_floats(MAX_ELEMENTS), *b = alloc_floats(MAX_ELEMENTS);
  float *expected = alloc_floats(MAX_ELEMENTS);
  CHECK(a && b && expected);
  if (!a || !b || !expected) goto done;
  op_fill(a, MAX_ELEMENTS, 4, -100.0f, 100.0f);
  op_fill(b, MAX_ELEMENTS, 5, -1.0f, 1.0f);
  for (size_t s = 0; s < sizeof shape_pairs / sizeof shape_pairs[0]; s++) {
    for (int swap = 0; swap < 2; swap++) {
      const shape_pair *sp = &shape_pairs[s];
      int ra = swap ? sp->b_rank : sp->a_rank, rb = swap ? sp->a_rank : sp->b_rank;
      const int64_t *da = swap ? sp->b : sp->a, *db = swap ? sp->a : sp->b;
      op_test t;
      CHECK_OK(run_binary(&t, &nn_op_sub, op_tensor(NN_F32, ra, da, a), op_tensor(NN_F32, rb, db, b)));
      const nn_tensor *out = &t.out[0];
      int64_t n = nn_numel(out);
      CHECK(n <= MAX_ELEMENTS);
      if (n > MAX_ELEMENTS) n = 0;
      for (int64_t o = 0; o < n; o++) {
        expected[o] = a[broadcast_source(o, out->rank, out->dims, ra, da)] -
                      b[broadcast_source(o, out->rank, out->dims, rb, db)];
      }
      EXPECT_F32(out, expected, n, 0.0);
      op_test_free(&t);
    }
  }
done:
  free(a);
  free(b);
  free(expected);
}

/* ---- unary ops ----------------------------------------------------------------------------------------- */

static void test_unary(void) {
  struct {
    const nn_op *op;
    float x[8];
    float expected[8];
    double tol;
  } cases[] = {
      {&nn_op_relu,
       {-1.0f, -0.0f, 0.0f, 2.5f, 1e30f, -1e30f, NAN, 7.0f},
       {0, 0, 0, 2.5f, 1e30f, 0, NAN, 7},
       0.0},
      {&nn_op_relu6, {-1.0f, 0.0f, 3.0f, 6.0f, 7.0f, 1e30f, NAN, 5.5f}, {0, 0, 3, 6, 6, 6, NAN, 5.5f}, 0.0},
      {&nn_op_sqrt,
       {0.0f, 4.0f, 2.0f, -1.0f, 0.25f, INFINITY, 1e-30f, 9.0f},
       {0, 2, 1.41421356f, NAN, 0.5f, INFINITY, 1e-15f, 3},
       1e-7},
      {&nn_op_hard_swish,
       {-4.0f, -3.0f, -1.0f, 0.0f, 1.0f, 3.0f, 4.0f, -1.5f},
       {0, 0, -1.0f / 3.0f, 0, 2.0f / 3.0f, 3, 4, -0.375f},
       1e-7},
  };
  int64_t dims[] = {8};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    op_test t;
    CHECK_OK(run_unary(&t, cases[c].op, NULL, op_tensor(NN_F32, 1, dims, cases[c].x)));
    EXPECT_F32(&t.out[0], cases[c].expected, 8, cases[c].tol);
    op_test_free(&t);
  }

  /* Sigmoid, including tails where a naive 1 / (1 + exp(-x)) overflows (x = -90: exp(90) is inf in float) */
  float x[] = {0.0f, 1.0f, -1.0f, 20.0f, -20.0f, 100.0f, -90.0f, -200.0f};
  float expected[8];
  for (int i = 0; i < 8; i++) expected[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
  op_test t;
  CHECK_OK(run_unary(&t, &nn_op_sigmoid, NULL, op_tensor(NN_F32, 1, dims, x)));
  EXPECT_F32(&t.out[0], expected, 8, 1e-7);
  const float *y = t.out[0].data;
  CHECK(y[6] > 0.0f && fabs((double)y[6] - 8.194012623990515e-40) <= 1e-44); /* subnormal, not flushed to 0 */
  CHECK(y[7] == 0.0f);
  op_test_free(&t);
}

/* ---- Cast and Identity --------------------------------------------------------------------------------- */

#define CAST_ATTR(src, dst) "{\"SrcT\": {\"type\": \"" src "\"}, \"DstT\": {\"type\": \"" dst "\"}}"

static void test_cast(void) {
  op_test t;
  {
    float x[] = {-2.7f, 2.7f, -0.5f, 0.0f, 1e10f, 3e9f, NAN, -INFINITY};
    /* 1e10 and 3e9 wrap modulo 2^32; NaN and inf are 0 (TF.js's Int32Array) */
    int32_t expected[] = {-2, 2, 0, 0, 1410065408, -1294967296, 0, 0};
    int64_t d[] = {2, 4};
    CHECK_OK(run_unary(&t, &nn_op_cast, CAST_ATTR("DT_FLOAT", "DT_INT32"), op_tensor(NN_F32, 2, d, x)));
    CHECK(has_shape(&t.out[0], 2, d));
    EXPECT_I32(&t.out[0], expected, 8);
    op_test_free(&t);
  }
  {
    float x[] = {0.0f, -0.0f, 0.1f, -3.0f, NAN};
    uint8_t expected[] = {0, 0, 1, 1, 1};
    int64_t d[] = {5};
    CHECK_OK(run_unary(&t, &nn_op_cast, CAST_ATTR("DT_FLOAT", "DT_BOOL"), op_tensor(NN_F32, 1, d, x)));
    EXPECT_BOOL(&t.out[0], expected, 5);
    op_test_free(&t);
  }
  {
    int32_t x[] = {-3, 0, 16777217, INT32_MIN};
    float f_expected[] = {-3.0f, 0.0f, 16777216.0f, -2147483648.0f}; /* 2^24 + 1 rounds to even */
    uint8_t b_expected[] = {1, 0, 1, 1};
    int64_t d[] = {4};
    CHECK_OK(run_unary(&t, &nn_op_cast, CAST_ATTR("DT_INT32", "DT_FLOAT"), op_tensor(NN_I32, 1, d, x)));
    EXPECT_F32(&t.out[0], f_expected, 4, 0.0);
    op_test_free(&t);
    CHECK_OK(run_unary(&t, &nn_op_cast, CAST_ATTR("DT_INT32", "DT_BOOL"), op_tensor(NN_I32, 1, d, x)));
    EXPECT_BOOL(&t.out[0], b_expected, 4);
    op_test_free(&t);
    /* same dtype: a copy */
    CHECK_OK(run_unary(&t, &nn_op_cast, CAST_ATTR("DT_INT32", "DT_INT32"), op_tensor(NN_I32, 1, d, x)));
    EXPECT_I32(&t.out[0], x, 4);
    op_test_free(&t);
  }
  {
    uint8_t x[] = {1, 0, 1};
    float f_expected[] = {1.0f, 0.0f, 1.0f};
    int32_t i_expected[] = {1, 0, 1};
    int64_t d[] = {3};
    CHECK_OK(run_unary(&t, &nn_op_cast, CAST_ATTR("DT_BOOL", "DT_FLOAT"), op_tensor(NN_BOOL, 1, d, x)));
    EXPECT_F32(&t.out[0], f_expected, 3, 0.0);
    op_test_free(&t);
    /* SrcT may be absent */
    CHECK_OK(run_unary(&t, &nn_op_cast, "{\"DstT\": {\"type\": \"DT_INT32\"}}", op_tensor(NN_BOOL, 1, d, x)));
    EXPECT_I32(&t.out[0], i_expected, 3);
    op_test_free(&t);
  }

  /* bad attributes: SrcT that is not the input's dtype, no DstT, an unsupported DstT */
  float x[] = {1.0f};
  int64_t d[] = {1};
  CHECK(run_unary(&t, &nn_op_cast, CAST_ATTR("DT_INT32", "DT_FLOAT"), op_tensor(NN_F32, 1, d, x)) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(cpose_last_error(), "float32") && strstr(cpose_last_error(), "int32"));
  op_test_free(&t);
  CHECK(run_unary(&t, &nn_op_cast, "{\"SrcT\": {\"type\": \"DT_FLOAT\"}}", op_tensor(NN_F32, 1, d, x)) ==
        CPOSE_ERR_PARSE);
  op_test_free(&t);
  CHECK(run_unary(&t, &nn_op_cast, NULL, op_tensor(NN_F32, 1, d, x)) == CPOSE_ERR_PARSE);
  op_test_free(&t);
  CHECK(run_unary(&t, &nn_op_cast, CAST_ATTR("DT_FLOAT", "DT_INT64"), op_tensor(NN_F32, 1, d, x)) ==
        CPOSE_ERR_UNSUPPORTED);
  CHECK(strstr(cpose_last_error(), "DT_INT64") != NULL);
  op_test_free(&t);
}

/* Cast to float32 from int32 and bool has a fast kernel (exact: the same roundings); other pairs do not. */
static void test_fast_cast(void) {
  enum { N = 40000 }; /* several of the kernel's tiles */
  int32_t *xi = malloc(N * sizeof *xi);
  uint8_t *xb = malloc(N);
  float *xf = malloc(N * sizeof *xf);
  CHECK(xi && xb && xf);
  if (!xi || !xb || !xf) goto done;
  for (int i = 0; i < N; i++) {
    xi[i] = (int32_t)((uint32_t)i * 2654435761u); /* all magnitudes, most past 2^24 (rounded) */
    xb[i] = (uint8_t)(i % 3 == 0);
    xf[i] = (float)i;
  }
  const int64_t d[2] = {4, N / 4};
  struct {
    const char *attr;
    nn_tensor x;
    int fast; /* op_test_compare_fast's expected result */
  } cases[] = {
      {CAST_ATTR("DT_INT32", "DT_FLOAT"), op_tensor(NN_I32, 2, d, xi), 0},
      {CAST_ATTR("DT_BOOL", "DT_FLOAT"), op_tensor(NN_BOOL, 2, d, xb), 0},
      {CAST_ATTR("DT_FLOAT", "DT_INT32"), op_tensor(NN_F32, 2, d, xf), -1},
      {CAST_ATTR("DT_INT32", "DT_BOOL"), op_tensor(NN_I32, 2, d, xi), -1},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (int threads = 1; threads <= 2; threads++) {
      op_test t;
      CHECK_OK(run_unary(&t, &nn_op_cast, cases[c].attr, cases[c].x));
      CHECK(op_test_compare_fast(&t, 0.0, 0.0, threads) == cases[c].fast);
      op_test_free(&t);
    }
  }
done:
  free(xi);
  free(xb);
  free(xf);
}

static void test_identity(void) {
  CHECK(nn_op_identity.alias);
  CHECK(!nn_op_add.alias && !nn_op_cast.alias);
  int32_t x[] = {5, -6, 7, 8, 9, 10};
  int64_t d[] = {3, 1, 2};
  op_test t;
  CHECK_OK(run_unary(&t, &nn_op_identity, NULL, op_tensor(NN_I32, 3, d, x)));
  CHECK(has_shape(&t.out[0], 3, d));
  EXPECT_I32(&t.out[0], x, 6);
  op_test_free(&t);
}

/* ---- bad inputs ---------------------------------------------------------------------------------------- */

static void test_bad_inputs(void) {
  op_test t;
  float f[12] = {0};
  int32_t i[12] = {0};
  uint8_t b[12] = {0};
  int64_t d23[] = {2, 3}, d4[] = {4}, d3[] = {3};

  /* shapes that do not broadcast; the message names both */
  CHECK(run_binary(&t, &nn_op_add, op_tensor(NN_F32, 2, d23, f), op_tensor(NN_F32, 1, d4, f)) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(cpose_last_error(), "[2,3]") && strstr(cpose_last_error(), "[4]"));
  op_test_free(&t);
  int64_t d232[] = {2, 3, 2}, d34[] = {3, 4};
  CHECK(run_binary(&t, &nn_op_equal, op_tensor(NN_I32, 3, d232, i), op_tensor(NN_I32, 2, d34, i)) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  op_test_free(&t);

  /* mismatched dtypes; the message names both */
  CHECK(run_binary(&t, &nn_op_mul, op_tensor(NN_F32, 1, d3, f), op_tensor(NN_I32, 1, d3, i)) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(cpose_last_error(), "float32") && strstr(cpose_last_error(), "int32"));
  op_test_free(&t);
  CHECK(run_binary(&t, &nn_op_equal, op_tensor(NN_I32, 1, d3, i), op_tensor(NN_F32, 1, d3, f)) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  op_test_free(&t);

  /* dtypes an op does not support */
  const nn_op *float_only[] = {&nn_op_real_div, &nn_op_squared_difference};
  for (int k = 0; k < 2; k++) {
    CHECK(run_binary(&t, float_only[k], op_tensor(NN_I32, 1, d3, i), op_tensor(NN_I32, 1, d3, i)) ==
          CPOSE_ERR_UNSUPPORTED);
    op_test_free(&t);
  }
  CHECK(run_binary(&t, &nn_op_add, op_tensor(NN_BOOL, 1, d3, b), op_tensor(NN_BOOL, 1, d3, b)) ==
        CPOSE_ERR_UNSUPPORTED);
  CHECK(strstr(cpose_last_error(), "bool") != NULL);
  op_test_free(&t);
  const nn_op *unary[] = {&nn_op_relu, &nn_op_relu6, &nn_op_sigmoid, &nn_op_sqrt, &nn_op_hard_swish};
  for (int k = 0; k < 5; k++) {
    CHECK(run_unary(&t, unary[k], NULL, op_tensor(NN_I32, 1, d3, i)) == CPOSE_ERR_UNSUPPORTED);
    op_test_free(&t);
  }

  /* wrong input counts */
  nn_tensor one = op_tensor(NN_F32, 1, d3, f);
  CHECK(op_test_init(&t, &nn_op_add, NULL, 1, &one) == CPOSE_ERR_INVALID_ARGUMENT);
  op_test_free(&t);
  nn_tensor two[2] = {one, one};
  CHECK(op_test_init(&t, &nn_op_relu, NULL, 2, two) == CPOSE_ERR_INVALID_ARGUMENT);
  op_test_free(&t);
}

/* ---- fast kernels against the reference ---------------------------------------------------------------- */

static void test_fast_binary(void) {
  const nn_op *with_fast[] = {&nn_op_add, &nn_op_add_v2,   &nn_op_sub,
                              &nn_op_mul, &nn_op_real_div, &nn_op_squared_difference};
  const nn_op *without_fast[] = {&nn_op_floor_div, &nn_op_floor_mod, &nn_op_equal};
  enum { MAX_ELEMENTS = 64 * 64 * 33 };
  float *a = alloc_floats(MAX_ELEMENTS), *b = alloc_floats(MAX_ELEMENTS);
  CHECK(a && b);
  if (!a || !b) goto done;
  op_fill(a, MAX_ELEMENTS, 1, -3.0f, 3.0f);
  op_fill(b, MAX_ELEMENTS, 2, 0.5f, 2.0f); /* away from 0 for RealDiv */
  for (size_t s = 0; s < sizeof shape_pairs / sizeof shape_pairs[0]; s++) {
    const shape_pair *sp = &shape_pairs[s];
    nn_tensor ta = op_tensor(NN_F32, sp->a_rank, sp->a, a), tb = op_tensor(NN_F32, sp->b_rank, sp->b, b);
    CHECK(nn_numel(&ta) <= MAX_ELEMENTS && nn_numel(&tb) <= MAX_ELEMENTS);
    for (size_t k = 0; k < sizeof with_fast / sizeof with_fast[0]; k++) {
      for (int threads = 1; threads <= 2; threads++) {
        op_test t;
        CHECK_OK(run_binary(&t, with_fast[k], ta, tb));
        int mismatches = op_test_compare_fast(&t, 0.0, 1e-6, threads);
        if (mismatches != (sp->fast ? 0 : -1)) {
          fprintf(stderr, "%s, shape pair %zu, %d threads: %d mismatches\n", with_fast[k]->type, s, threads,
                  mismatches);
        }
        CHECK(mismatches == (sp->fast ? 0 : -1));
        op_test_free(&t);
      }
    }
    for (size_t k = 0; k < sizeof without_fast / sizeof without_fast[0]; k++) {
      op_test t;
      CHECK_OK(run_binary(&t, without_fast[k], ta, tb));
      CHECK(op_test_compare_fast(&t, 0.0, 0.0, 1) == -1);
      op_test_free(&t);
    }
  }

  /* int32 inputs have no fast kernel */
  int32_t ia[6] = {1, 2, 3, 4, 5, 6};
  int64_t d[] = {2, 3};
  for (size_t k = 0; k < 4; k++) {
    op_test t;
    CHECK_OK(run_binary(&t, with_fast[k], op_tensor(NN_I32, 2, d, ia), op_tensor(NN_I32, 2, d, ia)));
    CHECK(op_test_compare_fast(&t, 0.0, 0.0, 1) == -1);
    op_test_free(&t);
  }
done:
  free(a);
  free(b);
}

static void test_fast_unary(void) {
  struct {
    const nn_op *op;
    float lo, hi;
    double atol, rtol;
  } cases[] = {
      {&nn_op_relu, -10.0f, 10.0f, 0.0, 0.0},
      {&nn_op_relu6, -10.0f, 10.0f, 0.0, 0.0},
      {&nn_op_sigmoid, -10.0f, 10.0f, 1e-6, 0.0},
      {&nn_op_sqrt, 0.0f, 100.0f, 0.0, 1e-6}, /* negative inputs are NaN on both sides, which never compare */
      {&nn_op_hard_swish, -10.0f, 10.0f, 1e-6, 1e-6},
  };
  static const int64_t shapes[][4] = {{1, 1, 1, 1}, {1, 3, 5, 7}, {1, 33, 17, 13}, {2, 64, 64, 3}};
  enum { MAX_ELEMENTS = 2 * 64 * 64 * 3 };
  float *x = alloc_floats(MAX_ELEMENTS);
  CHECK(x != NULL);
  if (!x) return;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    op_fill(x, MAX_ELEMENTS, 3, cases[c].lo, cases[c].hi);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      for (int threads = 1; threads <= 2; threads++) {
        op_test t;
        CHECK_OK(run_unary(&t, cases[c].op, NULL, op_tensor(NN_F32, 4, shapes[s], x)));
        int mismatches = op_test_compare_fast(&t, cases[c].atol, cases[c].rtol, threads);
        if (mismatches != 0) {
          fprintf(stderr, "%s, shape %zu, %d threads: %d mismatches\n", cases[c].op->type, s, threads,
                  mismatches);
        }
        CHECK(mismatches == 0);
        op_test_free(&t);
      }
    }
  }
  free(x);
}

/* _CposeHardSwish with the constants the fuser finds: (x * scale) * relu6(x + shift), rounded in that order;
 * the fast kernel against the reference, exactly, for 1/6 as float32 and as float16 and for other constants.
 */
static void test_hard_swish_params(void) {
  struct {
    float shift, scale;
  } cases[] = {
      {3.0f, 1.0f / 6.0f},
      {3.0f, 0.1666259765625f}, /* 1/6 in float16 */
      {2.5f, 0.2f},
  };
  static const int64_t shapes[][4] = {{1, 1, 1, 1}, {1, 33, 17, 13}, {2, 64, 64, 3}};
  enum { MAX_ELEMENTS = 2 * 64 * 64 * 3 };
  float *x = alloc_floats(MAX_ELEMENTS), *expected = alloc_floats(MAX_ELEMENTS);
  CHECK(x && expected);
  if (!x || !expected) goto done;
  op_fill(x, MAX_ELEMENTS, 6, -8.0f, 8.0f);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      for (int threads = 1; threads <= 2; threads++) {
        op_test t;
        nn_tensor in = op_tensor(NN_F32, 4, shapes[s], x);
        CHECK_OK(op_test_init(&t, &nn_op_hard_swish, NULL, 1, &in));
        nn_hard_swish_params *p = t.node.params;
        p->shift = cases[c].shift;
        p->scale = cases[c].scale;
        CHECK_OK(op_test_run_ref(&t));
        int64_t n = nn_numel(&in);
        for (int64_t i = 0; i < n; i++) {
          float r = fminf(fmaxf(x[i] + cases[c].shift, 0.0f), 6.0f);
          expected[i] = (x[i] * cases[c].scale) * r;
        }
        EXPECT_F32(&t.out[0], expected, n, 0.0);
        int mismatches = op_test_compare_fast(&t, 0.0, 0.0, threads); /* the same arithmetic: exact */
        if (mismatches != 0) {
          fprintf(stderr, "hard-swish case %zu, shape %zu, %d threads: %d mismatches\n", c, s, threads,
                  mismatches);
        }
        CHECK(mismatches == 0);
        op_test_free(&t);
      }
    }
  }

  /* the fast kernel's only allocation fails: an error, and nothing leaks (valgrind) */
  op_test t;
  nn_tensor in = op_tensor(NN_F32, 4, shapes[1], x);
  CHECK_OK(op_test_init(&t, &nn_op_hard_swish, NULL, 1, &in));
  void *state = NULL;
  cpose_alloc_fail_after(0);
  CHECK(nn_op_hard_swish.fast_create(&t.node, t.in, t.out, NULL, &state) == CPOSE_ERR_OUT_OF_MEMORY);
  cpose_alloc_fail_after(-1);
  CHECK(state == NULL);
  op_test_free(&t);
done:
  free(x);
  free(expected);
}

/* XNNPACK's sigmoid approximates exp: measure its worst error against the reference on [-20, 20]. */
static void test_sigmoid_accuracy(void) {
  enum { N = 400001 };
  float *x = alloc_floats(N), *ref = alloc_floats(N), *fast = alloc_floats(N);
  CHECK(x && ref && fast);
  if (!x || !ref || !fast) goto done;
  for (int i = 0; i < N; i++) x[i] = -20.0f + 40.0f * (float)i / (float)(N - 1);
  int64_t d[] = {N};
  nn_tensor in = op_tensor(NN_F32, 1, d, x);
  nn_tensor out_ref = op_tensor(NN_F32, 1, d, ref), out_fast = op_tensor(NN_F32, 1, d, fast);
  nn_node node = {.name = (char *)"sigmoid", .op = &nn_op_sigmoid, .n_inputs = 1, .n_outputs = 1};
  CHECK_OK(nn_op_sigmoid.run(&node, &in, &out_ref));
  void *state = NULL;
  cpose_status status = nn_op_sigmoid.fast_create(&node, &in, &out_fast, NULL, &state);
  CHECK_OK(status);
  if (status == CPOSE_OK) {
    CHECK_OK(nn_op_sigmoid.fast_run(state, NULL));
    double max_abs = 0.0, max_rel = 0.0, max_abs_exact = 0.0;
    float worst_x = 0.0f;
    for (int i = 0; i < N; i++) {
      double err = fabs((double)fast[i] - (double)ref[i]);
      double exact = 1.0 / (1.0 + exp(-(double)x[i]));
      if (err > max_abs) {
        max_abs = err;
        worst_x = x[i];
      }
      if (ref[i] > 0.0f && err / ref[i] > max_rel) max_rel = err / ref[i];
      if (fabs((double)ref[i] - exact) > max_abs_exact) max_abs_exact = fabs((double)ref[i] - exact);
    }
    printf(
        "sigmoid on [-20, 20]: XNNPACK vs reference: max abs error %.3g (at x = %.6g), max rel error %.3g; "
        "reference vs double: max abs error %.3g\n",
        max_abs, worst_x, max_rel, max_abs_exact);
    CHECK(max_abs <= 1e-4);       /* the parity target with TF.js */
    CHECK(max_abs_exact <= 1e-7); /* the reference itself is within rounding */
  }
  nn_op_sigmoid.fast_destroy(state);
done:
  free(x);
  free(ref);
  free(fast);
}

static void test_flops(void) {
  float f[24] = {0};
  int32_t i[24] = {0};
  int64_t ad[] = {2, 3, 1}, bd[] = {4};
  op_test t;
  CHECK_OK(run_binary(&t, &nn_op_add, op_tensor(NN_F32, 3, ad, f), op_tensor(NN_F32, 1, bd, f)));
  CHECK(nn_op_add.flops(&t.node, t.in, t.out) == 24.0);
  op_test_free(&t);
  CHECK_OK(run_binary(&t, &nn_op_add, op_tensor(NN_I32, 3, ad, i), op_tensor(NN_I32, 1, bd, i)));
  CHECK(nn_op_add.flops(&t.node, t.in, t.out) == 0.0);
  op_test_free(&t);
  CHECK_OK(run_unary(&t, &nn_op_relu, NULL, op_tensor(NN_F32, 3, ad, f)));
  CHECK(nn_op_relu.flops(&t.node, t.in, t.out) == 6.0);
  op_test_free(&t);
  CHECK_OK(run_unary(&t, &nn_op_hard_swish, NULL, op_tensor(NN_F32, 3, ad, f)));
  CHECK(nn_op_hard_swish.flops(&t.node, t.in, t.out) == 24.0); /* the Add, Relu6, Mul, Mul it replaces */
  op_test_free(&t);
}

int main(void) {
  test_arithmetic_f32();
  test_arithmetic_i32();
  test_floor_div_mod();
  test_equal();
  test_broadcast();
  test_broadcast_pairs();
  test_unary();
  test_cast();
  test_identity();
  test_bad_inputs();
  test_fast_binary();
  test_fast_unary();
  test_fast_cast();
  test_hard_swish_params();
  test_sigmoid_accuracy();
  test_flops();
  return test_finish("test_ops_elementwise");
}
