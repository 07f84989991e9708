/* Shape and indexing ops: Reshape, Squeeze, ExpandDims, StridedSlice, GatherV2, GatherNd, ArgMax, TopKV2.
 * Every expectation is written out by hand (what NumPy / TensorFlow give); TopKV2 on large inputs is checked
 * against a full sort. Malformed nodes must fail with a status, never crash. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "op_test.h"

extern const nn_op nn_op_reshape, nn_op_squeeze, nn_op_expand_dims, nn_op_strided_slice;
extern const nn_op nn_op_gather_v2, nn_op_gather_nd, nn_op_arg_max, nn_op_top_k_v2;

/* ---- helpers ----------------------------------------------------------------------------------------- */

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static bool shape_is(const nn_tensor *t, int rank, const int64_t *dims) {
  if (t->rank != rank) return false;
  for (int i = 0; i < rank; i++) {
    if (t->dims[i] != dims[i]) return false;
  }
  return true;
}

static void print_shape(const char *what, const nn_tensor *t) {
  char buf[96];
  fprintf(stderr, "  %s shape %s\n", what, nn_shape_string(t, buf, sizeof buf));
}

/* CHECK_SHAPE(tensor, d0, d1, ...): rank and dims. Rank 0 has its own check (C11 has no empty initializer).
 */
#define CHECK_SHAPE(t, ...)                        \
  do {                                             \
    const int64_t want_[] = {__VA_ARGS__};         \
    bool ok_ = shape_is((t), COUNT(want_), want_); \
    CHECK(ok_ &&#__VA_ARGS__);                     \
    if (!ok_) print_shape("got", (t));             \
  } while (0)

static bool same_f32(const nn_tensor *t, const float *want, int n) {
  if (t->dtype != NN_F32 || nn_numel(t) != n) {
    fprintf(stderr, "  got %s with %lld values, want float32 with %d\n", nn_dtype_name(t->dtype),
            (long long)nn_numel(t), n);
    return false;
  }
  const float *got = t->data;
  for (int i = 0; i < n; i++) {
    if (got[i] != want[i]) {
      fprintf(stderr, "  value %d: got %g, want %g\n", i, got[i], want[i]);
      return false;
    }
  }
  return true;
}

static bool same_i32(const nn_tensor *t, const int32_t *want, int n) {
  if (t->dtype != NN_I32 || nn_numel(t) != n) {
    fprintf(stderr, "  got %s with %lld values, want int32 with %d\n", nn_dtype_name(t->dtype),
            (long long)nn_numel(t), n);
    return false;
  }
  const int32_t *got = t->data;
  for (int i = 0; i < n; i++) {
    if (got[i] != want[i]) {
      fprintf(stderr, "  value %d: got %d, want %d\n", i, (int)got[i], (int)want[i]);
      return false;
    }
  }
  return true;
}

#define CHECK_F32(t, ...)                            \
  do {                                               \
    const float want_[] = {__VA_ARGS__};             \
    CHECK(same_f32((t), want_, COUNT(want_)) && #t); \
  } while (0)

#define CHECK_I32(t, ...)                            \
  do {                                               \
    const int32_t want_[] = {__VA_ARGS__};           \
    CHECK(same_i32((t), want_, COUNT(want_)) && #t); \
  } while (0)

/* Fills x with 0, 1, 2, ... */
static void iota(float *x, int n) {
  for (int i = 0; i < n; i++) x[i] = (float)i;
}

/* Constant int32 inputs: a vector and a scalar over caller-owned storage. */
static nn_tensor ints(int32_t *values, int n) {
  int64_t dims[1] = {n};
  return op_tensor(NN_I32, 1, dims, values);
}

static nn_tensor scalar(int32_t *value) {
  return op_tensor(NN_I32, 0, NULL, value);
}

/* Inits the node and runs the reference kernel; the caller checks and frees. */
static cpose_status run_op(op_test *t, const nn_op *op, const char *attr, int n, const nn_tensor *inputs) {
  cpose_status status = op_test_init(t, op, attr, n, inputs);
  if (status == CPOSE_OK) status = op_test_run_ref(t);
  return status;
}

/* The node must fail (in infer, or in run when `at_run`) with `want`, and with a message containing `needle`
 * unless it is NULL; prints the message so that a reader of the test log sees that it names the values. */
static void expect_fail(int line, const nn_op *op, const char *attr, int n, const nn_tensor *inputs,
                        cpose_status want, bool at_run, const char *needle) {
  op_test t;
  cpose_status status = op_test_init(&t, op, attr, n, inputs);
  bool init_ok = status == CPOSE_OK;
  if (init_ok && at_run) status = op_test_run_ref(&t);
  test_checks++;
  if (status != want || init_ok != at_run || (needle && !strstr(cpose_last_error(), needle))) {
    test_failures++;
    fprintf(stderr, "%s:%d: expected %s at %s (message with \"%s\"), got %s (%s)\n", __FILE__, line,
            cpose_status_string(want), at_run ? "run" : "infer", needle ? needle : "",
            cpose_status_string(status), cpose_last_error());
  } else {
    printf("  expected error: %s\n", cpose_last_error());
  }
  op_test_free(&t);
}

#define EXPECT_FAIL(op, attr, n, inputs, want) expect_fail(__LINE__, op, attr, n, inputs, want, false, NULL)
#define EXPECT_FAIL_SAYING(op, attr, n, inputs, want, needle) \
  expect_fail(__LINE__, op, attr, n, inputs, want, false, needle)
#define EXPECT_RUN_FAIL(op, attr, n, inputs, want, needle) \
  expect_fail(__LINE__, op, attr, n, inputs, want, true, needle)

/* ---- Reshape ----------------------------------------------------------------------------------------- */

static void test_reshape(void) {
  float x[24];
  iota(x, 24);
  int64_t xd[3] = {2, 3, 4};
  op_test t;

  int32_t s1[2] = {-1, 4};
  nn_tensor in1[2] = {op_tensor(NN_F32, 3, xd, x), ints(s1, 2)};
  CHECK_OK(run_op(&t, &nn_op_reshape, NULL, 2, in1));
  CHECK_SHAPE(&t.out[0], 6, 4);
  CHECK(t.out[0].dtype == NN_F32);
  CHECK(t.out[0].data && memcmp(t.out[0].data, x, sizeof x) == 0);
  CHECK(nn_op_reshape.alias);
  op_test_free(&t);

  int32_t s2[3] = {4, -1, 3};
  nn_tensor in2[2] = {op_tensor(NN_F32, 3, xd, x), ints(s2, 3)};
  CHECK_OK(run_op(&t, &nn_op_reshape, NULL, 2, in2));
  CHECK_SHAPE(&t.out[0], 4, 2, 3);
  op_test_free(&t);

  /* The run must also work in place (the planner aliases input and output). */
  float inplace[24];
  iota(inplace, 24);
  nn_tensor in3[2] = {op_tensor(NN_F32, 3, xd, inplace), ints(s1, 2)};
  CHECK_OK(op_test_init(&t, &nn_op_reshape, NULL, 2, in3));
  nn_tensor aliased = t.out[0];
  aliased.data = inplace;
  CHECK_OK(nn_op_reshape.run(&t.node, t.in, &aliased));
  CHECK(memcmp(inplace, x, sizeof x) == 0);
  op_test_free(&t);

  /* A scalar shape is TF's legacy one-element vector: [2,3,4] -> [24]. */
  int32_t s4 = 24;
  nn_tensor in4[2] = {op_tensor(NN_F32, 3, xd, x), scalar(&s4)};
  CHECK_OK(run_op(&t, &nn_op_reshape, NULL, 2, in4));
  CHECK_SHAPE(&t.out[0], 24);
  op_test_free(&t);

  /* To a scalar: [1,1] -> []. */
  int64_t one_dims[2] = {1, 1};
  float one = 7.0f;
  int32_t empty_shape[1] = {0};
  int64_t zero_len[1] = {0};
  nn_tensor in5[2] = {op_tensor(NN_F32, 2, one_dims, &one), op_tensor(NN_I32, 1, zero_len, empty_shape)};
  CHECK_OK(run_op(&t, &nn_op_reshape, NULL, 2, in5));
  CHECK(t.out[0].rank == 0);
  CHECK_F32(&t.out[0], 7.0f);
  op_test_free(&t);

  /* Zero-size tensors, TF's rules: [0,4] -> [0,-1] is [0,4]; [0,4] -> [-1] is [0]. */
  int64_t zd[2] = {0, 4};
  int32_t s6[2] = {0, -1}, s7[1] = {-1};
  nn_tensor in6[2] = {op_tensor(NN_F32, 2, zd, x), ints(s6, 2)};
  CHECK_OK(run_op(&t, &nn_op_reshape, NULL, 2, in6));
  CHECK_SHAPE(&t.out[0], 0, 4);
  op_test_free(&t);
  nn_tensor in7[2] = {op_tensor(NN_F32, 2, zd, x), ints(s7, 1)};
  CHECK_OK(run_op(&t, &nn_op_reshape, NULL, 2, in7));
  CHECK_SHAPE(&t.out[0], 0);
  op_test_free(&t);

  /* int32 and bool data are reshaped the same way. */
  int32_t xi[6] = {1, 2, 3, 4, 5, 6};
  int64_t xid[2] = {2, 3};
  int32_t s8[2] = {3, 2};
  nn_tensor in8[2] = {op_tensor(NN_I32, 2, xid, xi), ints(s8, 2)};
  CHECK_OK(run_op(&t, &nn_op_reshape, NULL, 2, in8));
  CHECK_SHAPE(&t.out[0], 3, 2);
  CHECK_I32(&t.out[0], 1, 2, 3, 4, 5, 6);
  op_test_free(&t);

  /* Errors. */
  int32_t bad1[2] = {5, -1}; /* 24 is not a multiple of 5 */
  int32_t bad2[2] = {5, 5};  /* 25 != 24 */
  int32_t bad3[3] = {-1, 2, -1};
  int32_t bad4[2] = {-2, 12};
  nn_tensor e1[2] = {op_tensor(NN_F32, 3, xd, x), ints(bad1, 2)};
  nn_tensor e2[2] = {op_tensor(NN_F32, 3, xd, x), ints(bad2, 2)};
  nn_tensor e3[2] = {op_tensor(NN_F32, 3, xd, x), ints(bad3, 3)};
  nn_tensor e4[2] = {op_tensor(NN_F32, 3, xd, x), ints(bad4, 2)};
  EXPECT_FAIL_SAYING(&nn_op_reshape, NULL, 2, e1, CPOSE_ERR_INVALID_ARGUMENT, "multiple of 5");
  EXPECT_FAIL_SAYING(&nn_op_reshape, NULL, 2, e2, CPOSE_ERR_INVALID_ARGUMENT, "has 25");
  EXPECT_FAIL_SAYING(&nn_op_reshape, NULL, 2, e3, CPOSE_ERR_INVALID_ARGUMENT, "both 0 and 2");
  EXPECT_FAIL_SAYING(&nn_op_reshape, NULL, 2, e4, CPOSE_ERR_INVALID_ARGUMENT, "not -2");
  nn_tensor e5[2] = {op_tensor(NN_F32, 3, xd, x), ints(NULL, 2)}; /* shape not constant */
  EXPECT_FAIL(&nn_op_reshape, NULL, 2, e5, CPOSE_ERR_UNSUPPORTED);
  float fshape[2] = {6, 4};
  int64_t two[1] = {2};
  nn_tensor e6[2] = {op_tensor(NN_F32, 3, xd, x), op_tensor(NN_F32, 1, two, fshape)};
  EXPECT_FAIL(&nn_op_reshape, NULL, 2, e6, CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_reshape, NULL, 1, e1, CPOSE_ERR_INVALID_ARGUMENT); /* one input */
  int32_t huge[2] = {1 << 30, 1 << 30};
  nn_tensor e7[2] = {op_tensor(NN_F32, 3, xd, x), ints(huge, 2)};
  EXPECT_FAIL(&nn_op_reshape, NULL, 2, e7, CPOSE_ERR_LIMIT);
  int32_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 24};
  nn_tensor e8[2] = {op_tensor(NN_F32, 3, xd, x), ints(nine, 9)};
  EXPECT_FAIL(&nn_op_reshape, NULL, 2, e8, CPOSE_ERR_INVALID_ARGUMENT);
}

/* ---- Squeeze ----------------------------------------------------------------------------------------- */

static void test_squeeze(void) {
  float x[6];
  iota(x, 6);
  int64_t xd[4] = {1, 3, 1, 2};
  nn_tensor in[1] = {op_tensor(NN_F32, 4, xd, x)};
  op_test t;

  CHECK_OK(run_op(&t, &nn_op_squeeze, NULL, 1, in));
  CHECK_SHAPE(&t.out[0], 3, 2);
  CHECK_F32(&t.out[0], 0, 1, 2, 3, 4, 5);
  CHECK(nn_op_squeeze.alias);
  op_test_free(&t);

  CHECK_OK(run_op(&t, &nn_op_squeeze, "{\"squeeze_dims\": {\"list\": {}}}", 1, in));
  CHECK_SHAPE(&t.out[0], 3, 2);
  op_test_free(&t);

  CHECK_OK(run_op(&t, &nn_op_squeeze, "{\"squeeze_dims\": {\"list\": {\"i\": [\"0\"]}}}", 1, in));
  CHECK_SHAPE(&t.out[0], 3, 1, 2);
  op_test_free(&t);

  CHECK_OK(run_op(&t, &nn_op_squeeze, "{\"squeeze_dims\": {\"list\": {\"i\": [\"-2\"]}}}", 1, in));
  CHECK_SHAPE(&t.out[0], 1, 3, 2);
  op_test_free(&t);

  CHECK_OK(
      run_op(&t, &nn_op_squeeze, "{\"squeeze_dims\": {\"list\": {\"i\": [\"2\", \"0\", \"-4\"]}}}", 1, in));
  CHECK_SHAPE(&t.out[0], 3, 2);
  op_test_free(&t);

  /* All dims 1: a scalar. */
  int64_t ones[3] = {1, 1, 1};
  nn_tensor in_ones[1] = {op_tensor(NN_F32, 3, ones, x)};
  CHECK_OK(run_op(&t, &nn_op_squeeze, NULL, 1, in_ones));
  CHECK(t.out[0].rank == 0);
  op_test_free(&t);

  EXPECT_FAIL(&nn_op_squeeze, "{\"squeeze_dims\": {\"list\": {\"i\": [\"1\"]}}}", 1, in,
              CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_squeeze, "{\"squeeze_dims\": {\"list\": {\"i\": [\"4\"]}}}", 1, in,
              CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_squeeze, "{\"squeeze_dims\": {\"list\": {\"i\": [\"-5\"]}}}", 1, in,
              CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_squeeze, "{\"squeeze_dims\": {\"i\": \"0\"}}", 1, in, CPOSE_ERR_PARSE);
}

/* ---- ExpandDims -------------------------------------------------------------------------------------- */

static void test_expand_dims(void) {
  float x[6];
  iota(x, 6);
  int64_t xd[2] = {2, 3};
  op_test t;
  struct {
    int32_t axis;
    int64_t dims[3];
  } cases[] = {{0, {1, 2, 3}}, {-1, {2, 3, 1}}, {1, {2, 1, 3}},
               {2, {2, 3, 1}}, {-3, {1, 2, 3}}, {-2, {2, 1, 3}}};
  for (int i = 0; i < COUNT(cases); i++) {
    nn_tensor in[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&cases[i].axis)};
    CHECK_OK(run_op(&t, &nn_op_expand_dims, NULL, 2, in));
    CHECK(shape_is(&t.out[0], 3, cases[i].dims));
    CHECK_F32(&t.out[0], 0, 1, 2, 3, 4, 5);
    op_test_free(&t);
  }
  CHECK(nn_op_expand_dims.alias);

  /* TF accepts the axis as any one-element tensor. */
  int32_t axis_vec[1] = {0};
  nn_tensor in1[2] = {op_tensor(NN_F32, 2, xd, x), ints(axis_vec, 1)};
  CHECK_OK(run_op(&t, &nn_op_expand_dims, NULL, 2, in1));
  CHECK_SHAPE(&t.out[0], 1, 2, 3);
  op_test_free(&t);

  /* A scalar becomes [1]. */
  int32_t zero = 0;
  nn_tensor in2[2] = {op_tensor(NN_F32, 0, NULL, x), scalar(&zero)};
  CHECK_OK(run_op(&t, &nn_op_expand_dims, NULL, 2, in2));
  CHECK_SHAPE(&t.out[0], 1);
  op_test_free(&t);

  int32_t three = 3, minus_four = -4;
  nn_tensor e1[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&three)};
  nn_tensor e2[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&minus_four)};
  nn_tensor e3[2] = {op_tensor(NN_F32, 2, xd, x), scalar(NULL)};
  int32_t two_axes[2] = {0, 1};
  nn_tensor e4[2] = {op_tensor(NN_F32, 2, xd, x), ints(two_axes, 2)};
  EXPECT_FAIL(&nn_op_expand_dims, NULL, 2, e1, CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_expand_dims, NULL, 2, e2, CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_expand_dims, NULL, 2, e3, CPOSE_ERR_UNSUPPORTED);
  EXPECT_FAIL(&nn_op_expand_dims, NULL, 2, e4, CPOSE_ERR_INVALID_ARGUMENT);
  int64_t rank8[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  nn_tensor e5[2] = {op_tensor(NN_F32, 8, rank8, x), scalar(&zero)};
  EXPECT_FAIL(&nn_op_expand_dims, NULL, 2, e5, CPOSE_ERR_UNSUPPORTED);
}

/* ---- StridedSlice ------------------------------------------------------------------------------------ */

/* Attributes of a StridedSlice node. */
static const char *slice_attr(char *buf, size_t cap, int begin_mask, int end_mask, int ellipsis_mask,
                              int new_axis_mask, int shrink_axis_mask) {
  snprintf(
      buf, cap,
      "{\"begin_mask\": {\"i\": \"%d\"}, \"end_mask\": {\"i\": \"%d\"}, \"ellipsis_mask\": {\"i\": \"%d\"}, "
      "\"new_axis_mask\": {\"i\": \"%d\"}, \"shrink_axis_mask\": {\"i\": \"%d\"}}",
      begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask);
  return buf;
}

/* Runs x[spec] where x is float32 (xd) and begin / end / strides have n entries; the caller checks t. */
static cpose_status run_slice(op_test *t, float *x, int rank, const int64_t *xd, int32_t *begin, int32_t *end,
                              int32_t *strides, int n, int begin_mask, int end_mask, int ellipsis_mask,
                              int new_axis_mask, int shrink_axis_mask) {
  char attr[512];
  nn_tensor in[4] = {op_tensor(NN_F32, rank, xd, x), ints(begin, n), ints(end, n), ints(strides, n)};
  return run_op(
      t, &nn_op_strided_slice,
      slice_attr(attr, sizeof attr, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask), 4,
      in);
}

static void test_strided_slice(void) {
  /* x = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] */
  float x[12];
  iota(x, 12);
  int64_t xd[2] = {3, 4};
  op_test t;

  { /* x[1:, ::2] */
    int32_t b[2] = {1, 0}, e[2] = {0, 0}, s[2] = {1, 2};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 2, 3, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 2, 2);
    CHECK_F32(&t.out[0], 4, 6, 8, 10);
    op_test_free(&t);
  }
  { /* x[-1] */
    int32_t b[2] = {-1, 0}, e[2] = {0, 0}, s[2] = {1, 1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 2, 2, 0, 0, 1));
    CHECK_SHAPE(&t.out[0], 4);
    CHECK_F32(&t.out[0], 8, 9, 10, 11);
    op_test_free(&t);
  }
  { /* x[:, -1] */
    int32_t b[2] = {0, -1}, e[2] = {0, 0}, s[2] = {1, 1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 1, 1, 0, 0, 2));
    CHECK_SHAPE(&t.out[0], 3);
    CHECK_F32(&t.out[0], 3, 7, 11);
    op_test_free(&t);
  }
  { /* x[1, 2]: both shrunk, a scalar */
    int32_t b[2] = {1, 2}, e[2] = {2, 3}, s[2] = {1, 1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 0, 0, 0, 0, 3));
    CHECK(t.out[0].rank == 0);
    CHECK_F32(&t.out[0], 6);
    op_test_free(&t);
  }
  { /* x[::-1, 3:0:-2] */
    int32_t b[2] = {0, 3}, e[2] = {0, 0}, s[2] = {-1, -2};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 1, 1, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 3, 2);
    CHECK_F32(&t.out[0], 11, 9, 7, 5, 3, 1);
    op_test_free(&t);
  }
  { /* x[-1:-3:-1, :] */
    int32_t b[2] = {-1, 0}, e[2] = {-3, 0}, s[2] = {-1, 1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 2, 2, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 2, 4);
    CHECK_F32(&t.out[0], 8, 9, 10, 11, 4, 5, 6, 7);
    op_test_free(&t);
  }
  { /* x[::2, ::-3] */
    int32_t b[2] = {0, 0}, e[2] = {0, 0}, s[2] = {2, -3};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 3, 3, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 2, 2);
    CHECK_F32(&t.out[0], 3, 0, 11, 8);
    op_test_free(&t);
  }
  { /* x[-10:10, 1:-1]: clamped */
    int32_t b[2] = {-10, 1}, e[2] = {10, -1}, s[2] = {1, 1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 0, 0, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 3, 2);
    CHECK_F32(&t.out[0], 1, 2, 5, 6, 9, 10);
    op_test_free(&t);
  }
  { /* x[10:-10:-1, 0]: clamped backwards: rows 2, 1, 0 */
    int32_t b[2] = {10, 0}, e[2] = {-10, 1}, s[2] = {-1, 1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 0, 0, 0, 0, 2));
    CHECK_SHAPE(&t.out[0], 3);
    CHECK_F32(&t.out[0], 8, 4, 0);
    op_test_free(&t);
  }
  { /* x[2:1]: empty */
    int32_t b[1] = {2}, e[1] = {1}, s[1] = {1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 1, 0, 0, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 0, 4);
    op_test_free(&t);
  }
  { /* x[1:3:5, 1::2]: stride past the range gives one element */
    int32_t b[2] = {1, 1}, e[2] = {3, 0}, s[2] = {5, 2};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 0, 2, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 1, 2);
    CHECK_F32(&t.out[0], 5, 7);
    op_test_free(&t);
  }
  { /* x[None, 1:] */
    int32_t b[2] = {0, 1}, e[2] = {0, 0}, s[2] = {1, 1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 0, 2, 0, 1, 0));
    CHECK_SHAPE(&t.out[0], 1, 2, 4);
    CHECK_F32(&t.out[0], 4, 5, 6, 7, 8, 9, 10, 11);
    op_test_free(&t);
  }
  { /* x[0, None]: shrink then new axis: [1, 4] */
    int32_t b[2] = {0, 0}, e[2] = {1, 0}, s[2] = {1, 1};
    CHECK_OK(run_slice(&t, x, 2, xd, b, e, s, 2, 0, 0, 0, 2, 1));
    CHECK_SHAPE(&t.out[0], 1, 4);
    CHECK_F32(&t.out[0], 0, 1, 2, 3);
    op_test_free(&t);
  }

  /* y = arange(24).reshape(2, 3, 4) */
  float y[24];
  iota(y, 24);
  int64_t yd[3] = {2, 3, 4};
  { /* y[1:2]: the dims the spec leaves out are taken whole */
    int32_t b[1] = {1}, e[1] = {2}, s[1] = {1};
    CHECK_OK(run_slice(&t, y, 3, yd, b, e, s, 1, 0, 0, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 1, 3, 4);
    CHECK_F32(&t.out[0], 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
    op_test_free(&t);
  }
  { /* y[:, 1, 2:] */
    int32_t b[3] = {0, 1, 2}, e[3] = {0, 2, 0}, s[3] = {1, 1, 1};
    CHECK_OK(run_slice(&t, y, 3, yd, b, e, s, 3, 1, 5, 0, 0, 2));
    CHECK_SHAPE(&t.out[0], 2, 2);
    CHECK_F32(&t.out[0], 6, 7, 18, 19);
    op_test_free(&t);
  }
  { /* y[:, :, 1:3] with the begin mask set on dim 2: begin is ignored -> y[:, :, :3] */
    int32_t b[3] = {0, 0, 1}, e[3] = {0, 0, 3}, s[3] = {1, 1, 1};
    CHECK_OK(run_slice(&t, y, 3, yd, b, e, s, 3, 7, 3, 0, 0, 0));
    CHECK_SHAPE(&t.out[0], 2, 3, 3);
    CHECK_F32(&t.out[0], 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18, 20, 21, 22);
    op_test_free(&t);
  }
  { /* y[..., None, 0] */
    int32_t b[3] = {0, 0, 0}, e[3] = {0, 0, 1}, s[3] = {1, 1, 1};
    CHECK_OK(run_slice(&t, y, 3, yd, b, e, s, 3, 0, 0, 1, 2, 4));
    CHECK_SHAPE(&t.out[0], 2, 3, 1);
    CHECK_F32(&t.out[0], 0, 4, 8, 12, 16, 20);
    op_test_free(&t);
  }
  { /* y[1, ..., ::-2] */
    int32_t b[3] = {1, 0, 0}, e[3] = {2, 0, 0}, s[3] = {1, 1, -2};
    CHECK_OK(run_slice(&t, y, 3, yd, b, e, s, 3, 4, 4, 2, 0, 1));
    CHECK_SHAPE(&t.out[0], 3, 2);
    CHECK_F32(&t.out[0], 15, 13, 19, 17, 23, 21);
    op_test_free(&t);
  }
  { /* y[..., 1:2, :]: the ellipsis covers dim 0 only */
    int32_t b[3] = {0, 1, 0}, e[3] = {0, 2, 0}, s[3] = {1, 1, 1};
    CHECK_OK(run_slice(&t, y, 3, yd, b, e, s, 3, 4, 4, 1, 0, 0));
    CHECK_SHAPE(&t.out[0], 2, 1, 4);
    CHECK_F32(&t.out[0], 4, 5, 6, 7, 16, 17, 18, 19);
    op_test_free(&t);
  }
  { /* bool data: b[1:] on [1, 0, 1] */
    uint8_t flags[3] = {1, 0, 1};
    int64_t fd[1] = {3};
    int32_t b[1] = {1}, e[1] = {0}, s[1] = {1};
    char attr[512];
    nn_tensor in[4] = {op_tensor(NN_BOOL, 1, fd, flags), ints(b, 1), ints(e, 1), ints(s, 1)};
    CHECK_OK(run_op(&t, &nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 1, 0, 0, 0), 4, in));
    CHECK_SHAPE(&t.out[0], 2);
    CHECK(t.out[0].dtype == NN_BOOL && ((uint8_t *)t.out[0].data)[0] == 0 &&
          ((uint8_t *)t.out[0].data)[1] == 1);
    op_test_free(&t);
  }

  /* Errors. */
  char attr[512];
  int32_t three[2] = {3, 0}, minus4[2] = {-4, 0}, e0[2] = {0, 0}, s11[2] = {1, 1}, s0[2] = {1, 0};
  int32_t sneg[2] = {-1, 1}, b3[3] = {0, 0, 0}, e3[3] = {1, 1, 1}, s3[3] = {1, 1, 1};
  nn_tensor x_in = op_tensor(NN_F32, 2, xd, x);
  nn_tensor shrink_past[4] = {x_in, ints(three, 2), ints(e0, 2), ints(s11, 2)};
  EXPECT_FAIL_SAYING(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 1), 4, shrink_past,
                     CPOSE_ERR_INVALID_ARGUMENT, "index 3");
  nn_tensor shrink_before[4] = {x_in, ints(minus4, 2), ints(e0, 2), ints(s11, 2)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 1), 4, shrink_before,
              CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor shrink_backward[4] = {x_in, ints(e0, 2), ints(e0, 2), ints(sneg, 2)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 1), 4, shrink_backward,
              CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor zero_stride[4] = {x_in, ints(e0, 2), ints(e0, 2), ints(s0, 2)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 0), 4, zero_stride,
              CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor too_many[4] = {x_in, ints(b3, 3), ints(e3, 3), ints(s3, 3)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 0), 4, too_many,
              CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor mixed_lengths[4] = {x_in, ints(b3, 3), ints(e0, 2), ints(s11, 2)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 0), 4, mixed_lengths,
              CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor two_ellipses[4] = {x_in, ints(e0, 2), ints(e0, 2), ints(s11, 2)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 3, 0, 0), 4, two_ellipses,
              CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor dynamic_begin[4] = {x_in, ints(NULL, 2), ints(e0, 2), ints(s11, 2)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 0), 4, dynamic_begin,
              CPOSE_ERR_UNSUPPORTED);
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 0), 3, dynamic_begin,
              CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_strided_slice, "{\"begin_mask\": {\"i\": \"4294967296\"}}", 4, mixed_lengths,
              CPOSE_ERR_PARSE);
  /* Nine new axes on a rank-2 input: rank 11 is past NN_MAX_RANK. */
  int32_t z9[9] = {0}, o9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  nn_tensor rank_past[4] = {x_in, ints(z9, 9), ints(z9, 9), ints(o9, 9)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0x1ff, 0), 4, rank_past,
              CPOSE_ERR_INVALID_ARGUMENT);
  /* 32 entries: past TF's limit of 31 (the masks are 32 bits). */
  int32_t z32[32] = {0}, o32[32];
  for (int i = 0; i < 32; i++) o32[i] = 1;
  nn_tensor spec_past[4] = {x_in, ints(z32, 32), ints(z32, 32), ints(o32, 32)};
  EXPECT_FAIL(&nn_op_strided_slice, slice_attr(attr, sizeof attr, 0, 0, 0, 0, 0), 4, spec_past,
              CPOSE_ERR_INVALID_ARGUMENT);
}

/* ---- GatherV2 ---------------------------------------------------------------------------------------- */

static void test_gather_v2(void) {
  op_test t;
  int32_t axis0 = 0, axis1 = 1, axis_neg = -1, axis2 = 2;

  /* params [[0, 1], [10, 11], [20, 21]], indices [[2, 0], [1, 1]], axis 0 -> [2, 2, 2] */
  float p[6] = {0, 1, 10, 11, 20, 21};
  int64_t pd[2] = {3, 2}, id[2] = {2, 2};
  int32_t idx[4] = {2, 0, 1, 1};
  nn_tensor in0[3] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, idx), scalar(&axis0)};
  CHECK_OK(run_op(&t, &nn_op_gather_v2, NULL, 3, in0));
  CHECK_SHAPE(&t.out[0], 2, 2, 2);
  CHECK_F32(&t.out[0], 20, 21, 0, 1, 10, 11, 10, 11);
  op_test_free(&t);

  /* params [[0, 1, 2], [3, 4, 5]], indices [[2, 0], [1, 2]], axis 1 -> out[p][i][j] = params[p][idx[i][j]] */
  float q[6] = {0, 1, 2, 3, 4, 5};
  int64_t qd[2] = {2, 3};
  int32_t qidx[4] = {2, 0, 1, 2};
  nn_tensor in1[3] = {op_tensor(NN_F32, 2, qd, q), op_tensor(NN_I32, 2, id, qidx), scalar(&axis1)};
  CHECK_OK(run_op(&t, &nn_op_gather_v2, "{\"batch_dims\": {\"i\": \"0\"}}", 3, in1));
  CHECK_SHAPE(&t.out[0], 2, 2, 2);
  CHECK_F32(&t.out[0], 2, 0, 1, 2, 5, 3, 4, 5);
  op_test_free(&t);

  nn_tensor in2[3] = {op_tensor(NN_F32, 2, qd, q), op_tensor(NN_I32, 2, id, qidx), scalar(&axis_neg)};
  CHECK_OK(run_op(&t, &nn_op_gather_v2, NULL, 3, in2));
  CHECK_SHAPE(&t.out[0], 2, 2, 2);
  CHECK_F32(&t.out[0], 2, 0, 1, 2, 5, 3, 4, 5);
  op_test_free(&t);

  /* A scalar index drops the axis: params[1] = [10, 11]. */
  int32_t one = 1;
  nn_tensor in3[3] = {op_tensor(NN_F32, 2, pd, p), scalar(&one), scalar(&axis0)};
  CHECK_OK(run_op(&t, &nn_op_gather_v2, NULL, 3, in3));
  CHECK_SHAPE(&t.out[0], 2);
  CHECK_F32(&t.out[0], 10, 11);
  op_test_free(&t);

  /* int32 params, 1-D. */
  int32_t pi[4] = {7, 8, 9, 10};
  int64_t pid[1] = {4};
  int32_t pidx[3] = {3, 3, 0};
  nn_tensor in4[3] = {op_tensor(NN_I32, 1, pid, pi), ints(pidx, 3), scalar(&axis0)};
  CHECK_OK(run_op(&t, &nn_op_gather_v2, NULL, 3, in4));
  CHECK_SHAPE(&t.out[0], 3);
  CHECK_I32(&t.out[0], 10, 10, 7);
  op_test_free(&t);

  /* Out-of-range indices fail the run, naming the index. */
  int32_t past[4] = {2, 0, 3, 1}, negative[4] = {0, -1, 0, 0};
  nn_tensor e1[3] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, past), scalar(&axis0)};
  nn_tensor e2[3] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, negative), scalar(&axis0)};
  EXPECT_RUN_FAIL(&nn_op_gather_v2, NULL, 3, e1, CPOSE_ERR_INVALID_ARGUMENT, "indices[2] = 3");
  EXPECT_RUN_FAIL(&nn_op_gather_v2, NULL, 3, e2, CPOSE_ERR_INVALID_ARGUMENT, "indices[1] = -1");
  /* ... and infer errors. */
  nn_tensor e3[3] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, idx), scalar(&axis2)};
  EXPECT_FAIL(&nn_op_gather_v2, NULL, 3, e3, CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_gather_v2, "{\"batch_dims\": {\"i\": \"1\"}}", 3, in0, CPOSE_ERR_UNSUPPORTED);
  nn_tensor e4[3] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, idx), scalar(NULL)};
  EXPECT_FAIL(&nn_op_gather_v2, NULL, 3, e4, CPOSE_ERR_UNSUPPORTED);
  nn_tensor e5[3] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_F32, 2, id, p), scalar(&axis0)};
  EXPECT_FAIL(&nn_op_gather_v2, NULL, 3, e5, CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor e6[3] = {op_tensor(NN_F32, 0, NULL, p), scalar(&one), scalar(&axis0)};
  EXPECT_FAIL(&nn_op_gather_v2, NULL, 3, e6, CPOSE_ERR_INVALID_ARGUMENT);
  EXPECT_FAIL(&nn_op_gather_v2, NULL, 2, in0, CPOSE_ERR_INVALID_ARGUMENT);
}

/* ---- GatherNd ---------------------------------------------------------------------------------------- */

static void test_gather_nd(void) {
  op_test t;
  float p[6] = {0, 1, 10, 11, 20, 21}; /* [[0, 1], [10, 11], [20, 21]] */
  int64_t pd[2] = {3, 2};

  { /* K = 1: rows */
    int32_t idx[2] = {2, 0};
    int64_t id[2] = {2, 1};
    nn_tensor in[2] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, idx)};
    CHECK_OK(run_op(&t, &nn_op_gather_nd, NULL, 2, in));
    CHECK_SHAPE(&t.out[0], 2, 2);
    CHECK_F32(&t.out[0], 20, 21, 0, 1);
    op_test_free(&t);
  }
  { /* K = 2: elements */
    int32_t idx[6] = {2, 1, 0, 0, 1, 0};
    int64_t id[2] = {3, 2};
    nn_tensor in[2] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, idx)};
    CHECK_OK(run_op(&t, &nn_op_gather_nd, NULL, 2, in));
    CHECK_SHAPE(&t.out[0], 3);
    CHECK_F32(&t.out[0], 21, 0, 10);
    op_test_free(&t);
  }
  { /* K = 2 with batch dims in indices: [2, 1, 2] -> [2, 1] */
    int32_t idx[4] = {0, 1, 2, 0};
    int64_t id[3] = {2, 1, 2};
    nn_tensor in[2] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 3, id, idx)};
    CHECK_OK(run_op(&t, &nn_op_gather_nd, NULL, 2, in));
    CHECK_SHAPE(&t.out[0], 2, 1);
    CHECK_F32(&t.out[0], 1, 20);
    op_test_free(&t);
  }
  { /* K = 3 on [2, 2, 2] = arange(8) */
    float c[8];
    iota(c, 8);
    int64_t cd[3] = {2, 2, 2}, id[2] = {2, 3};
    int32_t idx[6] = {1, 0, 1, 0, 1, 1};
    nn_tensor in[2] = {op_tensor(NN_F32, 3, cd, c), op_tensor(NN_I32, 2, id, idx)};
    CHECK_OK(run_op(&t, &nn_op_gather_nd, NULL, 2, in));
    CHECK_SHAPE(&t.out[0], 2);
    CHECK_F32(&t.out[0], 5, 3);
    op_test_free(&t);
  }
  { /* K = 0: each index row takes all of params */
    int64_t id[2] = {2, 0};
    int32_t none[1] = {0};
    nn_tensor in[2] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, none)};
    CHECK_OK(run_op(&t, &nn_op_gather_nd, NULL, 2, in));
    CHECK_SHAPE(&t.out[0], 2, 3, 2);
    CHECK_F32(&t.out[0], 0, 1, 10, 11, 20, 21, 0, 1, 10, 11, 20, 21);
    op_test_free(&t);
  }
  { /* MoveNet: params [1, 48, 48, 34] (value y * 10000 + x * 100 + c), indices [17, 3] = [0, y_k, x_k] */
    const int64_t n = 48 * 48 * 34;
    float *heat = malloc((size_t)n * sizeof *heat);
    CHECK(heat != NULL);
    if (!heat) return;
    for (int yy = 0; yy < 48; yy++) {
      for (int xx = 0; xx < 48; xx++) {
        for (int c = 0; c < 34; c++) heat[(yy * 48 + xx) * 34 + c] = (float)(yy * 10000 + xx * 100 + c);
      }
    }
    int32_t idx[17 * 3];
    for (int k = 0; k < 17; k++) {
      idx[k * 3] = 0;
      idx[k * 3 + 1] = (k * 7) % 48;
      idx[k * 3 + 2] = (k * 13 + 5) % 48;
    }
    int64_t hd[4] = {1, 48, 48, 34}, id[2] = {17, 3};
    nn_tensor in[2] = {op_tensor(NN_F32, 4, hd, heat), op_tensor(NN_I32, 2, id, idx)};
    CHECK_OK(run_op(&t, &nn_op_gather_nd, NULL, 2, in));
    CHECK_SHAPE(&t.out[0], 17, 34);
    int wrong = 0;
    const float *out = t.out[0].data;
    for (int k = 0; k < 17 && out; k++) {
      for (int c = 0; c < 34; c++) {
        float want = (float)(((k * 7) % 48) * 10000 + ((k * 13 + 5) % 48) * 100 + c);
        if (out[k * 34 + c] != want) wrong++;
      }
    }
    CHECK(out && wrong == 0);
    op_test_free(&t);

    /* A keypoint one past the heatmap's edge, or negative: the run fails, nothing is read outside. */
    idx[5 * 3 + 1] = 48;
    EXPECT_RUN_FAIL(&nn_op_gather_nd, NULL, 2, in, CPOSE_ERR_INVALID_ARGUMENT, "indices[5][1] = 48");
    idx[5 * 3 + 1] = 0;
    idx[16 * 3 + 2] = -1;
    EXPECT_RUN_FAIL(&nn_op_gather_nd, NULL, 2, in, CPOSE_ERR_INVALID_ARGUMENT, "indices[16][2] = -1");
    idx[16 * 3 + 2] = 0;
    idx[0] = 1; /* batch 1 of a batch of 1 */
    EXPECT_RUN_FAIL(&nn_op_gather_nd, NULL, 2, in, CPOSE_ERR_INVALID_ARGUMENT, "indices[0][0] = 1");
    free(heat);
  }
  { /* K longer than params' rank, 0-D indices, float indices */
    int32_t idx[3] = {0, 0, 0};
    int64_t id[2] = {1, 3};
    nn_tensor e1[2] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_I32, 2, id, idx)};
    EXPECT_FAIL(&nn_op_gather_nd, NULL, 2, e1, CPOSE_ERR_INVALID_ARGUMENT);
    nn_tensor e2[2] = {op_tensor(NN_F32, 2, pd, p), scalar(idx)};
    EXPECT_FAIL(&nn_op_gather_nd, NULL, 2, e2, CPOSE_ERR_INVALID_ARGUMENT);
    nn_tensor e3[2] = {op_tensor(NN_F32, 2, pd, p), op_tensor(NN_F32, 2, id, p)};
    EXPECT_FAIL(&nn_op_gather_nd, NULL, 2, e3, CPOSE_ERR_INVALID_ARGUMENT);
  }
}

/* ---- ArgMax ------------------------------------------------------------------------------------------ */

static void test_arg_max(void) {
  op_test t;
  int32_t axis0 = 0, axis1 = 1, axis_neg = -1, axis3 = 3;

  /* A heatmap flattened to [1, H*W = 6, 2 channels], axis 1. Channel 0: [1, 5, 3, 5, 0, 2] ties at 1 and 3;
   * channel 1: all 7. */
  float h[12] = {1, 7, 5, 7, 3, 7, 5, 7, 0, 7, 2, 7};
  int64_t hd[3] = {1, 6, 2};
  nn_tensor in0[2] = {op_tensor(NN_F32, 3, hd, h), scalar(&axis1)};
  CHECK_OK(run_op(&t, &nn_op_arg_max, "{\"output_type\": {\"type\": \"DT_INT32\"}}", 2, in0));
  CHECK_SHAPE(&t.out[0], 1, 2);
  CHECK_I32(&t.out[0], 1, 0);
  op_test_free(&t);

  /* [[1, 3, 3], [-1, -5, -1]]: axis -1 and axis 0; DT_INT64 (TF's default) is stored as int32. */
  float x[6] = {1, 3, 3, -1, -5, -1};
  int64_t xd[2] = {2, 3};
  nn_tensor in1[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&axis_neg)};
  CHECK_OK(run_op(&t, &nn_op_arg_max, "{\"output_type\": {\"type\": \"DT_INT64\"}}", 2, in1));
  CHECK_SHAPE(&t.out[0], 2);
  CHECK_I32(&t.out[0], 1, 0);
  op_test_free(&t);

  nn_tensor in2[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&axis0)};
  CHECK_OK(run_op(&t, &nn_op_arg_max, NULL, 2, in2));
  CHECK_SHAPE(&t.out[0], 3);
  CHECK_I32(&t.out[0], 0, 0, 0);
  op_test_free(&t);

  /* The max last, and negative values only. */
  float z[4] = {-4, -3, -2, -1};
  int64_t zd[1] = {4};
  nn_tensor in3[2] = {op_tensor(NN_F32, 1, zd, z), scalar(&axis0)};
  CHECK_OK(run_op(&t, &nn_op_arg_max, NULL, 2, in3));
  CHECK(t.out[0].rank == 0);
  CHECK_I32(&t.out[0], 3);
  op_test_free(&t);

  int32_t xi[6] = {4, 9, 9, 2, 2, 1};
  nn_tensor in4[2] = {op_tensor(NN_I32, 2, xd, xi), scalar(&axis1)};
  CHECK_OK(run_op(&t, &nn_op_arg_max, NULL, 2, in4));
  CHECK_I32(&t.out[0], 1, 0);
  op_test_free(&t);

  EXPECT_FAIL(&nn_op_arg_max, "{\"output_type\": {\"type\": \"DT_FLOAT\"}}", 2, in1, CPOSE_ERR_UNSUPPORTED);
  EXPECT_FAIL(&nn_op_arg_max, "{\"output_type\": {\"i\": \"3\"}}", 2, in1, CPOSE_ERR_PARSE);
  nn_tensor e1[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&axis3)};
  EXPECT_FAIL(&nn_op_arg_max, NULL, 2, e1, CPOSE_ERR_INVALID_ARGUMENT);
  int64_t empty[2] = {2, 0};
  nn_tensor e2[2] = {op_tensor(NN_F32, 2, empty, x), scalar(&axis1)};
  EXPECT_FAIL(&nn_op_arg_max, NULL, 2, e2, CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor e3[2] = {op_tensor(NN_F32, 2, xd, x), scalar(NULL)};
  EXPECT_FAIL(&nn_op_arg_max, NULL, 2, e3, CPOSE_ERR_UNSUPPORTED);
  uint8_t flags[6] = {0};
  nn_tensor e4[2] = {op_tensor(NN_BOOL, 2, xd, flags), scalar(&axis1)};
  EXPECT_FAIL(&nn_op_arg_max, NULL, 2, e4, CPOSE_ERR_UNSUPPORTED);
}

/* ---- TopKV2 ------------------------------------------------------------------------------------------ */

typedef struct ranked {
  float value;
  int32_t index;
} ranked;

/* Largest value first; equal values in order of position. */
static int compare_ranked(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->value != y->value) return x->value > y->value ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

/* TopKV2 on one row of n values against a full sort; returns the mismatches. */
static int top_k_against_sort(const float *x, int64_t n, int32_t k) {
  ranked *all = malloc((size_t)n * sizeof *all);
  if (!all) return 1;
  for (int64_t i = 0; i < n; i++) all[i] = (ranked){x[i], (int32_t)i};
  qsort(all, (size_t)n, sizeof *all, compare_ranked);

  op_test t;
  int64_t xd[1] = {n};
  nn_tensor in[2] = {op_tensor(NN_F32, 1, xd, (void *)x), scalar(&k)};
  int wrong = 0;
  clock_t start = clock();
  cpose_status status = run_op(&t, &nn_op_top_k_v2, NULL, 2, in);
  double ms = 1000.0 * (double)(clock() - start) / CLOCKS_PER_SEC;
  if (status != CPOSE_OK) {
    fprintf(stderr, "  TopKV2 failed: %s\n", cpose_last_error());
    wrong = 1;
  } else {
    printf("  TopKV2 n=%lld k=%d: %.2f ms\n", (long long)n, (int)k, ms);
    const float *values = t.out[0].data;
    const int32_t *indices = t.out[1].data;
    for (int32_t i = 0; i < k; i++) {
      if (values[i] != all[i].value || indices[i] != all[i].index) {
        if (wrong < 5) {
          fprintf(stderr, "  rank %d: got %g at %d, want %g at %d\n", (int)i, values[i], (int)indices[i],
                  all[i].value, (int)all[i].index);
        }
        wrong++;
      }
    }
  }
  op_test_free(&t);
  free(all);
  return wrong;
}

static void test_top_k(void) {
  op_test t;
  /* row 0: [1, 3, 3, 2, 3], row 1: [5, -1, 5, 0, 7] */
  float x[10] = {1, 3, 3, 2, 3, 5, -1, 5, 0, 7};
  int64_t xd[2] = {2, 5};
  int32_t k3 = 3, k1 = 1, k5 = 5, k0 = 0, k6 = 6, k_neg = -1;

  nn_tensor in3[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&k3)};
  CHECK_OK(run_op(&t, &nn_op_top_k_v2, "{\"sorted\": {\"b\": true}}", 2, in3));
  CHECK(t.node.n_outputs == 2);
  CHECK_SHAPE(&t.out[0], 2, 3);
  CHECK_SHAPE(&t.out[1], 2, 3);
  CHECK_F32(&t.out[0], 3, 3, 3, 7, 5, 5);
  CHECK_I32(&t.out[1], 1, 2, 4, 4, 0, 2);
  op_test_free(&t);

  nn_tensor in1[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&k1)};
  CHECK_OK(run_op(&t, &nn_op_top_k_v2, NULL, 2, in1));
  CHECK_SHAPE(&t.out[0], 2, 1);
  CHECK_F32(&t.out[0], 3, 7);
  CHECK_I32(&t.out[1], 1, 4);
  op_test_free(&t);

  nn_tensor in5[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&k5)};
  CHECK_OK(run_op(&t, &nn_op_top_k_v2, "{\"sorted\": {\"b\": false}}", 2, in5));
  CHECK_SHAPE(&t.out[0], 2, 5);
  CHECK_F32(&t.out[0], 3, 3, 3, 2, 1, 7, 5, 5, 0, -1);
  CHECK_I32(&t.out[1], 1, 2, 4, 3, 0, 4, 0, 2, 3, 1);
  op_test_free(&t);

  nn_tensor in0[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&k0)};
  CHECK_OK(run_op(&t, &nn_op_top_k_v2, NULL, 2, in0));
  CHECK_SHAPE(&t.out[0], 2, 0);
  CHECK_SHAPE(&t.out[1], 2, 0);
  op_test_free(&t);

  /* int32 values, all equal: positions in order. */
  int32_t xi[4] = {2, 2, 2, 2};
  int64_t xid[1] = {4};
  nn_tensor ini[2] = {op_tensor(NN_I32, 1, xid, xi), scalar(&k3)};
  CHECK_OK(run_op(&t, &nn_op_top_k_v2, NULL, 2, ini));
  CHECK(t.out[0].dtype == NN_I32);
  CHECK_I32(&t.out[0], 2, 2, 2);
  CHECK_I32(&t.out[1], 0, 1, 2);
  op_test_free(&t);

  /* int32 past the scan's blocks of 64: i % 50 over 300 positions, the 49s (at 49, 99, ...) win in order. */
  int32_t xl[300];
  for (int i = 0; i < 300; i++) xl[i] = i % 50;
  int64_t xld[1] = {300};
  nn_tensor inl[2] = {op_tensor(NN_I32, 1, xld, xl), scalar(&k3)};
  CHECK_OK(run_op(&t, &nn_op_top_k_v2, NULL, 2, inl));
  CHECK_I32(&t.out[0], 49, 49, 49);
  CHECK_I32(&t.out[1], 49, 99, 149);
  op_test_free(&t);

  /* -0.0 and 0.0 are equal: order of position. */
  float zeros[3] = {0.0f, -0.0f, 0.0f};
  int64_t zd[1] = {3};
  nn_tensor inz[2] = {op_tensor(NN_F32, 1, zd, zeros), scalar(&k3)};
  CHECK_OK(run_op(&t, &nn_op_top_k_v2, NULL, 2, inz));
  CHECK_I32(&t.out[1], 0, 1, 2);
  op_test_free(&t);

  /* Large rows against a full sort: continuous values (CenterNet's size, 128 * 128 * 80), values on 1000
   * levels (so the top 100 is all ties), ascending values (every value enters the heap), k = 1 and k = n. */
  const int64_t big = (int64_t)128 * 128 * 80;
  float *r = malloc((size_t)big * sizeof *r);
  CHECK(r != NULL);
  if (r) {
    op_fill(r, big, 7, 0.0f, 1.0f);
    CHECK(top_k_against_sort(r, big, 100) == 0);
    CHECK(top_k_against_sort(r, big, 1) == 0);
    const int64_t n20 = (int64_t)1 << 20;
    for (int64_t i = 0; i < n20; i++) r[i] = (float)(int)(r[i] * 1000.0f);
    CHECK(top_k_against_sort(r, n20, 100) == 0);
    for (int64_t i = 0; i < 65536; i++) r[i] = (float)(i / 3);
    CHECK(top_k_against_sort(r, 65536, 100) == 0);
    op_fill(r, 5000, 9, -1.0f, 1.0f);
    for (int64_t i = 0; i < 5000; i++) r[i] = (float)(int)(r[i] * 50.0f);
    CHECK(top_k_against_sort(r, 5000, 5000) == 0);
    free(r);
  }

  /* Several rows: each row on its own. Row i of [4, 1000] gets the values of a 1000-value call. */
  {
    float rows[4000];
    op_fill(rows, 4000, 11, -5.0f, 5.0f);
    int64_t rd[3] = {2, 2, 1000};
    int32_t k = 10;
    nn_tensor in[2] = {op_tensor(NN_F32, 3, rd, rows), scalar(&k)};
    CHECK_OK(run_op(&t, &nn_op_top_k_v2, NULL, 2, in));
    CHECK_SHAPE(&t.out[0], 2, 2, 10);
    int wrong = 0;
    for (int row = 0; row < 4; row++) {
      ranked all[1000];
      for (int i = 0; i < 1000; i++) all[i] = (ranked){rows[row * 1000 + i], i};
      qsort(all, 1000, sizeof *all, compare_ranked);
      for (int i = 0; i < 10; i++) {
        if (((float *)t.out[0].data)[row * 10 + i] != all[i].value) wrong++;
        if (((int32_t *)t.out[1].data)[row * 10 + i] != all[i].index) wrong++;
      }
    }
    CHECK(wrong == 0);
    op_test_free(&t);
  }

  nn_tensor e1[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&k6)};
  EXPECT_FAIL(&nn_op_top_k_v2, NULL, 2, e1, CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor e2[2] = {op_tensor(NN_F32, 2, xd, x), scalar(&k_neg)};
  EXPECT_FAIL(&nn_op_top_k_v2, NULL, 2, e2, CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor e3[2] = {op_tensor(NN_F32, 2, xd, x), scalar(NULL)};
  EXPECT_FAIL(&nn_op_top_k_v2, NULL, 2, e3, CPOSE_ERR_UNSUPPORTED);
  nn_tensor e4[2] = {op_tensor(NN_F32, 0, NULL, x), scalar(&k0)};
  EXPECT_FAIL(&nn_op_top_k_v2, NULL, 2, e4, CPOSE_ERR_INVALID_ARGUMENT);
  nn_tensor e5[2] = {op_tensor(NN_F32, 2, xd, x), ints(&k1, 1)}; /* TF wants a scalar k */
  EXPECT_FAIL(&nn_op_top_k_v2, NULL, 2, e5, CPOSE_ERR_INVALID_ARGUMENT);
}

int main(void) {
  test_reshape();
  test_squeeze();
  test_expand_dims();
  test_strided_slice();
  test_gather_v2();
  test_gather_nd();
  test_arg_max();
  test_top_k();
  return test_finish("test_ops_shape");
}
