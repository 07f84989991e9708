/* Mean, MaxPool, ResizeBilinear, ConcatV2, Pack and Unpack: hand-computed values for the reference kernels,
 * the fast (XNNPACK) kernels against the reference on odd shapes with 1 and 2 threads, and malformed nodes
 * that must fail with a status. */
#include <stdint.h>

#include "op_test.h"

extern const nn_op nn_op_mean, nn_op_max_pool, nn_op_resize_bilinear;
extern const nn_op nn_op_concat_v2, nn_op_pack, nn_op_unpack;

/* Attribute JSON as TF.js writes it; strings are base64: "U0FNRQ==" SAME, "VkFMSUQ=" VALID,
 * "TkNIVw==" NCHW. */
#define KEEP_DIMS(b) "{\"keep_dims\": {\"b\": " #b "}}"
#define POOL(k, s, pad)                                                     \
  "{\"ksize\": {\"list\": {\"i\": [\"1\", \"" #k "\", \"" #k                \
  "\", \"1\"]}}, \"strides\": {\"list\": {\"i\": [\"1\", \"" #s "\", \"" #s \
  "\", \"1\"]}}, \"padding\": {\"s\": \"" pad "\"}}"
#define SAME "U0FNRQ=="
#define VALID "VkFMSUQ="
#define RESIZE_LEGACY "{\"align_corners\": {\"b\": false}, \"half_pixel_centers\": {\"b\": false}}"
#define RESIZE_ALIGN "{\"align_corners\": {\"b\": true}}"
#define RESIZE_HALF "{\"half_pixel_centers\": {\"b\": true}}"

/* Floats of slack after every buffer a fast kernel reads: XNNPACK may read XNN_EXTRA_BYTES past the end. */
#define SLACK 4

/* Number of elements of `got` (float32) further than tol from `want`; prints the first few. */
static int mismatches(const nn_tensor *got, const float *want, int64_t n, double tol) {
  int bad = 0;
  if (nn_numel(got) != n) {
    fprintf(stderr, "  output has %lld elements, expected %lld\n", (long long)nn_numel(got), (long long)n);
    return 1;
  }
  for (int64_t i = 0; i < n; i++) {
    float g = ((const float *)got->data)[i];
    if (!(fabs((double)g - (double)want[i]) <= tol)) {
      if (bad < 5) fprintf(stderr, "  element %lld: got %.9g, expected %.9g\n", (long long)i, g, want[i]);
      bad++;
    }
  }
  return bad;
}

static int mismatches_i32(const nn_tensor *got, const int32_t *want, int64_t n) {
  if (got->dtype != NN_I32 || nn_numel(got) != n) return 1;
  int bad = 0;
  for (int64_t i = 0; i < n; i++) bad += ((const int32_t *)got->data)[i] != want[i];
  return bad;
}

static bool has_shape(const nn_tensor *t, int rank, const int64_t *dims) {
  nn_tensor want = op_tensor(t->dtype, rank, dims, NULL);
  return nn_same_shape(t, &want);
}

/* Runs the reference kernel of `op` on the inputs and compares output 0 with `want`. */
static int run_expect(const nn_op *op, const char *attr, int n_in, const nn_tensor *in, int out_rank,
                      const int64_t *out_dims, const float *want, double tol) {
  op_test t;
  int bad = 0;
  cpose_status status = op_test_init(&t, op, attr, n_in, in);
  if (status == CPOSE_OK) status = op_test_run_ref(&t);
  if (status != CPOSE_OK) {
    fprintf(stderr, "  %s failed: %s\n", op->type, cpose_last_error());
    bad = 1;
  } else if (!has_shape(&t.out[0], out_rank, out_dims)) {
    char s[96];
    fprintf(stderr, "  %s: output shape %s\n", op->type, nn_shape_string(&t.out[0], s, sizeof s));
    bad = 1;
  } else {
    bad = mismatches(&t.out[0], want, nn_numel(&t.out[0]), tol);
  }
  op_test_free(&t);
  return bad;
}

/* The status of parse + infer (+ the reference run when they pass) of a node. */
static cpose_status try_node(const nn_op *op, const char *attr, int n_in, const nn_tensor *in) {
  op_test t;
  cpose_status status = op_test_init(&t, op, attr, n_in, in);
  if (status == CPOSE_OK) status = op_test_run_ref(&t);
  op_test_free(&t);
  return status;
}

/* The reference on `in`, then the fast kernel with 1 and 2 threads: mismatches (-1: no fast kernel). */
static int fast_vs_ref(const nn_op *op, const char *attr, int n_in, const nn_tensor *in, double tol) {
  op_test t;
  int result = 0;
  cpose_status status = op_test_init(&t, op, attr, n_in, in);
  if (status == CPOSE_OK) status = op_test_run_ref(&t);
  if (status != CPOSE_OK) {
    fprintf(stderr, "  %s reference failed: %s\n", op->type, cpose_last_error());
    result = 1;
  } else {
    for (int threads = 1; threads <= 2; threads++) {
      int m = op_test_compare_fast(&t, tol, tol, threads);
      if (m != 0) {
        result = m;
        if (m > 0) fprintf(stderr, "  %s: %d mismatches with %d threads\n", op->type, m, threads);
        break;
      }
    }
  }
  op_test_free(&t);
  return result;
}

/* ---- Mean ------------------------------------------------------------------------------------------- */

static void test_mean(void) {
  /* NHWC (1, 2, 2, 2): pixels (0,0) = [1, 2], (0,1) = [3, 4], (1,0) = [5, 6], (1,1) = [7, 8] */
  float x[8 + SLACK] = {1, 2, 3, 4, 5, 6, 7, 8};
  const int64_t xd[4] = {1, 2, 2, 2}, two[1] = {2};
  int32_t hw[2] = {1, 2}, last[1] = {-1};
  nn_tensor in[2] = {op_tensor(NN_F32, 4, xd, x), op_tensor(NN_I32, 1, two, hw)};

  /* axes {1, 2}: channel 0 (1 + 3 + 5 + 7) / 4 = 4, channel 1 (2 + 4 + 6 + 8) / 4 = 5 */
  const float hw_mean[2] = {4, 5};
  const int64_t keep[4] = {1, 1, 1, 2}, drop[2] = {1, 2};
  CHECK(run_expect(&nn_op_mean, KEEP_DIMS(true), 2, in, 4, keep, hw_mean, 1e-6) == 0);
  CHECK(run_expect(&nn_op_mean, KEEP_DIMS(false), 2, in, 2, drop, hw_mean, 1e-6) == 0);
  CHECK(run_expect(&nn_op_mean, NULL, 2, in, 2, drop, hw_mean, 1e-6) == 0); /* keep_dims defaults to false */
  CHECK(fast_vs_ref(&nn_op_mean, KEEP_DIMS(true), 2, in, 1e-6) == 0);

  /* axis -1 (a scalar): each pixel's channel pair, (1 + 2) / 2 = 1.5, 3.5, 5.5, 7.5 */
  const float c_mean[4] = {1.5f, 3.5f, 5.5f, 7.5f};
  const int64_t keep_c[4] = {1, 2, 2, 1}, drop_c[3] = {1, 2, 2};
  in[1] = op_tensor(NN_I32, 0, NULL, last);
  CHECK(run_expect(&nn_op_mean, KEEP_DIMS(true), 2, in, 4, keep_c, c_mean, 1e-6) == 0);
  CHECK(run_expect(&nn_op_mean, KEEP_DIMS(false), 2, in, 3, drop_c, c_mean, 1e-6) == 0);
  CHECK(fast_vs_ref(&nn_op_mean, KEEP_DIMS(false), 2, in, 1e-6) == -1); /* no fast kernel but for {1, 2} */

  /* axes {0, 3, -1} (3 twice, as TF allows): over batch and channels, the same as axis -1 here */
  int32_t repeat[3] = {0, 3, -1};
  const int64_t three[1] = {3};
  in[1] = op_tensor(NN_I32, 1, three, repeat);
  CHECK(run_expect(&nn_op_mean, KEEP_DIMS(false), 2, in, 2, (const int64_t[]){2, 2}, c_mean, 1e-6) == 0);

  /* axis 1 of (2, 3) [[1, 2, 3], [4, 5, 6]] -> [2, 5]; axis 0 -> [2.5, 3.5, 4.5] */
  float m[6] = {1, 2, 3, 4, 5, 6};
  int32_t one[1] = {1}, zero[1] = {0};
  in[0] = op_tensor(NN_F32, 2, (const int64_t[]){2, 3}, m);
  in[1] = op_tensor(NN_I32, 1, (const int64_t[]){1}, one);
  CHECK(run_expect(&nn_op_mean, NULL, 2, in, 1, two, (const float[]){2, 5}, 1e-6) == 0);
  in[1] = op_tensor(NN_I32, 1, (const int64_t[]){1}, zero);
  CHECK(run_expect(&nn_op_mean, NULL, 2, in, 1, three, (const float[]){2.5f, 3.5f, 4.5f}, 1e-6) == 0);

  /* No axes: a copy. */
  in[1] = op_tensor(NN_I32, 1, (const int64_t[]){0}, zero);
  CHECK(run_expect(&nn_op_mean, NULL, 2, in, 2, (const int64_t[]){2, 3}, m, 0) == 0);

  /* Bad nodes: axis out of range, axes not constant, axes of the wrong dtype. */
  int32_t four[1] = {4}, minus5[1] = {-5};
  in[0] = op_tensor(NN_F32, 4, xd, x);
  in[1] = op_tensor(NN_I32, 1, (const int64_t[]){1}, four);
  CHECK(try_node(&nn_op_mean, NULL, 2, in) == CPOSE_ERR_INVALID_ARGUMENT);
  in[1] = op_tensor(NN_I32, 1, (const int64_t[]){1}, minus5);
  CHECK(try_node(&nn_op_mean, NULL, 2, in) == CPOSE_ERR_INVALID_ARGUMENT);
  in[1] = op_tensor(NN_I32, 1, two, NULL);
  CHECK(try_node(&nn_op_mean, NULL, 2, in) == CPOSE_ERR_UNSUPPORTED);
  float faxes[2] = {1, 2};
  in[1] = op_tensor(NN_F32, 1, two, faxes);
  CHECK(try_node(&nn_op_mean, NULL, 2, in) != CPOSE_OK);
  in[1] = op_tensor(NN_I32, 1, two, hw);
  CHECK(try_node(&nn_op_mean, NULL, 1, in) != CPOSE_OK); /* the axes input missing */

  /* flops: one add per input, one divide per output */
  op_test t;
  in[1] = op_tensor(NN_I32, 1, two, hw);
  CHECK_OK(op_test_init(&t, &nn_op_mean, NULL, 2, in));
  CHECK(nn_op_mean.flops(&t.node, t.in, t.out) == 8 + 2);
  op_test_free(&t);
}

/* ---- MaxPool ---------------------------------------------------------------------------------------- */

static void test_max_pool(void) {
  /* NHWC (1, 3, 3, 1), all negative, so that a zero padding would show:
   *   -1 -2 -3
   *   -4 -5 -6
   *   -7 -8 -9
   * 3x3 stride 1 SAME pads 1 on every side; the padding is ignored, so each output is the largest input in
   * its clipped window, the one nearest the top-left: (0,0) max(-1,-2,-4,-5) = -1, (0,2) max(-2,-3,-5,-6) =
   * -2, (2,0) max(-4,-5,-7,-8) = -4, (2,2) max(-5,-6,-8,-9) = -5, ... */
  float x[9 + SLACK] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
  const int64_t xd[4] = {1, 3, 3, 1};
  nn_tensor in[1] = {op_tensor(NN_F32, 4, xd, x)};
  const float same[9] = {-1, -1, -2, -1, -1, -2, -4, -4, -5};
  CHECK(run_expect(&nn_op_max_pool, POOL(3, 1, SAME), 1, in, 4, xd, same, 0) == 0);
  CHECK(fast_vs_ref(&nn_op_max_pool, POOL(3, 1, SAME), 1, in, 0) == 0);

  /* (1, 4, 5, 1) with x[r][c] = 5r + c; 2x2 stride 2 VALID -> (1, 2, 2, 1), the last column dropped:
   * max of rows 0-1 cols 0-1 = 6, cols 2-3 = 8; rows 2-3: 16, 18 */
  float y[20 + SLACK];
  for (int i = 0; i < 20; i++) y[i] = (float)i;
  in[0] = op_tensor(NN_F32, 4, (const int64_t[]){1, 4, 5, 1}, y);
  const float valid[4] = {6, 8, 16, 18};
  CHECK(run_expect(&nn_op_max_pool, POOL(2, 2, VALID), 1, in, 4, (const int64_t[]){1, 2, 2, 1}, valid, 0) ==
        0);
  CHECK(fast_vs_ref(&nn_op_max_pool, POOL(2, 2, VALID), 1, in, 0) == 0);

  /* A 1x1 window copies (no fast kernel: XNNPACK refuses 1x1). */
  CHECK(run_expect(&nn_op_max_pool, POOL(1, 1, VALID), 1, in, 4, (const int64_t[]){1, 4, 5, 1}, y, 0) == 0);
  CHECK(fast_vs_ref(&nn_op_max_pool, POOL(1, 1, VALID), 1, in, 0) == -1);

  /* Bad nodes: a VALID window larger than the input, a 3-entry ksize, NCHW, a rank-3 input. */
  in[0] = op_tensor(NN_F32, 4, xd, x);
  CHECK(try_node(&nn_op_max_pool, POOL(4, 1, VALID), 1, in) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(try_node(
            &nn_op_max_pool,
            "{\"ksize\": {\"list\": {\"i\": [\"1\", \"3\", \"3\"]}}, \"strides\": {\"list\": {\"i\": [\"1\", "
            "\"1\", \"1\", \"1\"]}}, \"padding\": {\"s\": \"" SAME "\"}}",
            1, in) == CPOSE_ERR_PARSE);
  CHECK(try_node(
            &nn_op_max_pool,
            "{\"ksize\": {\"list\": {\"i\": [\"1\", \"3\", \"3\", \"1\"]}}, \"strides\": {\"list\": {\"i\": "
            "[\"1\", \"1\", \"1\", \"1\"]}}, \"padding\": {\"s\": \"" SAME "\"}, \"data_format\": {\"s\": "
            "\"TkNIVw==\"}}",
            1, in) == CPOSE_ERR_UNSUPPORTED);
  CHECK(try_node(
            &nn_op_max_pool,
            "{\"ksize\": {\"list\": {\"i\": [\"1\", \"0\", \"3\", \"1\"]}}, \"strides\": {\"list\": {\"i\": "
            "[\"1\", \"1\", \"1\", \"1\"]}}, \"padding\": {\"s\": \"" SAME "\"}}",
            1, in) != CPOSE_OK);
  in[0] = op_tensor(NN_F32, 3, xd + 1, x);
  CHECK(try_node(&nn_op_max_pool, POOL(3, 1, SAME), 1, in) == CPOSE_ERR_INVALID_ARGUMENT);

  op_test t;
  in[0] = op_tensor(NN_F32, 4, xd, x);
  CHECK_OK(op_test_init(&t, &nn_op_max_pool, POOL(3, 1, SAME), 1, in));
  CHECK(nn_op_max_pool.flops(&t.node, t.in, t.out) == 9 * 9);
  op_test_free(&t);
}

/* ---- ResizeBilinear --------------------------------------------------------------------------------- */

static void test_resize(void) {
  /* NHWC (1, 2, 2, 1) [[1, 2], [3, 4]] -> (1, 4, 4, 1). Per axis, 2 -> 4 pixels:
   *
   * legacy (neither flag): scale 2/4 = 0.5, src = 0, 0.5, 1, 1.5; (lower, upper, lerp) = (0,0,0), (0,1,.5),
   *   (1,1,0), (1,1,.5): row [1, 2] -> [1, 1.5, 2, 2], row [3, 4] -> [3, 3.5, 4, 4]; down the rows the same
   *   weights: row 1 = the mean of both, rows 2 and 3 = the bottom row.
   * align_corners: scale (2-1)/(4-1) = 1/3, src = 0, 1/3, 2/3, 1: out[y][x] = 1 + x/3 + 2y/3.
   * half_pixel_centers: scale 0.5, src = (x + 0.5) * 0.5 - 0.5 = -0.25, 0.25, 0.75, 1.25; -0.25 -> lower 0,
   *   upper ceil(-0.25) = 0 (the first pixel); 1.25 -> lower 1, upper min(2, 1) = 1 (the last): row [1, 2]
   *   -> [1, 1.25, 1.75, 2]; rows add 2 * (0, 0.25, 0.75, 1) = 0, 0.5, 1.5, 2. */
  float x[4 + SLACK] = {1, 2, 3, 4};
  int32_t size[2] = {4, 4};
  const int64_t xd[4] = {1, 2, 2, 1}, od[4] = {1, 4, 4, 1}, two[1] = {2};
  nn_tensor in[2] = {op_tensor(NN_F32, 4, xd, x), op_tensor(NN_I32, 1, two, size)};
  const float legacy[16] = {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4};
  float align[16];
  for (int yy = 0; yy < 4; yy++) {
    for (int xx = 0; xx < 4; xx++) align[yy * 4 + xx] = 1.0f + (float)xx / 3.0f + 2.0f * (float)yy / 3.0f;
  }
  const float half[16] = {1,    1.25f, 1.75f, 2,    1.5f, 1.75f, 2.25f, 2.5f,
                          2.5f, 2.75f, 3.25f, 3.5f, 3,    3.25f, 3.75f, 4};
  CHECK(run_expect(&nn_op_resize_bilinear, RESIZE_LEGACY, 2, in, 4, od, legacy, 1e-6) == 0);
  CHECK(run_expect(&nn_op_resize_bilinear, NULL, 2, in, 4, od, legacy, 1e-6) == 0); /* the defaults */
  CHECK(run_expect(&nn_op_resize_bilinear, RESIZE_ALIGN, 2, in, 4, od, align, 1e-6) == 0);
  CHECK(run_expect(&nn_op_resize_bilinear, RESIZE_HALF, 2, in, 4, od, half, 1e-6) == 0);
  CHECK(fast_vs_ref(&nn_op_resize_bilinear, RESIZE_LEGACY, 2, in, 1e-6) == 0);
  CHECK(fast_vs_ref(&nn_op_resize_bilinear, RESIZE_ALIGN, 2, in, 1e-6) == 0);
  CHECK(fast_vs_ref(&nn_op_resize_bilinear, RESIZE_HALF, 2, in, 1e-6) == 0);

  /* Width 3 -> 5 (a factor of 5/3), (1, 1, 3, 1) [0, 10, 20]; the height stays 1 (src 0):
   * legacy: scale 3/5 = 0.6, src = 0, 0.6, 1.2, 1.8, 2.4 -> 0, 6, 12, 18, and 2.4 -> lower 2, upper
   *   min(3, 2) = 2 -> 20.
   * align_corners: scale 2/4 = 0.5, src = 0, 0.5, 1, 1.5, 2 -> 0, 5, 10, 15, 20.
   * half_pixel_centers: src = (x + 0.5) * 0.6 - 0.5 = -0.2, 0.4, 1, 1.6, 2.2 -> 0 (clamped), 4, 10, 16, 20.
   */
  float w[3] = {0, 10, 20};
  int32_t size5[2] = {1, 5};
  in[0] = op_tensor(NN_F32, 4, (const int64_t[]){1, 1, 3, 1}, w);
  in[1] = op_tensor(NN_I32, 1, two, size5);
  const int64_t od5[4] = {1, 1, 5, 1};
  CHECK(run_expect(&nn_op_resize_bilinear, RESIZE_LEGACY, 2, in, 4, od5, (const float[]){0, 6, 12, 18, 20},
                   1e-5) == 0);
  CHECK(run_expect(&nn_op_resize_bilinear, RESIZE_ALIGN, 2, in, 4, od5, (const float[]){0, 5, 10, 15, 20},
                   1e-5) == 0);
  CHECK(run_expect(&nn_op_resize_bilinear, RESIZE_HALF, 2, in, 4, od5, (const float[]){0, 4, 10, 16, 20},
                   1e-5) == 0);

  /* Half-pixel with scale 3/4 (12 x 6 -> 16 x 8, coordinates exact in float) takes the fast kernel; 13 x 9 ->
   * 29 x 17 does not (XNNPACK's coordinates round differently there). */
  static float big[13 * 9 * 2 + SLACK];
  op_fill(big, 13 * 9 * 2, 7, -1.0f, 1.0f);
  int32_t size_3_4[2] = {16, 8}, size_odd[2] = {29, 17};
  in[0] = op_tensor(NN_F32, 4, (const int64_t[]){1, 12, 6, 2}, big);
  in[1] = op_tensor(NN_I32, 1, two, size_3_4);
  CHECK(fast_vs_ref(&nn_op_resize_bilinear, RESIZE_HALF, 2, in, 0) == 0);
  in[0] = op_tensor(NN_F32, 4, (const int64_t[]){1, 13, 9, 2}, big);
  in[1] = op_tensor(NN_I32, 1, two, size_odd);
  CHECK(fast_vs_ref(&nn_op_resize_bilinear, RESIZE_HALF, 2, in, 1e-5) == -1);

  /* Bad nodes: size not constant, not positive, not 2 values; both modes at once; a rank-3 image. */
  in[0] = op_tensor(NN_F32, 4, xd, x);
  in[1] = op_tensor(NN_I32, 1, two, NULL);
  CHECK(try_node(&nn_op_resize_bilinear, NULL, 2, in) == CPOSE_ERR_UNSUPPORTED);
  int32_t bad_size[3] = {4, 0, 4};
  in[1] = op_tensor(NN_I32, 1, two, bad_size);
  CHECK(try_node(&nn_op_resize_bilinear, NULL, 2, in) == CPOSE_ERR_INVALID_ARGUMENT);
  in[1] = op_tensor(NN_I32, 1, (const int64_t[]){3}, bad_size);
  CHECK(try_node(&nn_op_resize_bilinear, NULL, 2, in) == CPOSE_ERR_INVALID_ARGUMENT);
  in[1] = op_tensor(NN_I32, 1, two, size);
  CHECK(try_node(&nn_op_resize_bilinear,
                 "{\"align_corners\": {\"b\": true}, \"half_pixel_centers\": {\"b\": true}}", 2,
                 in) != CPOSE_OK);
  in[0] = op_tensor(NN_F32, 3, xd + 1, x);
  CHECK(try_node(&nn_op_resize_bilinear, NULL, 2, in) == CPOSE_ERR_INVALID_ARGUMENT);

  op_test t;
  in[0] = op_tensor(NN_F32, 4, xd, x);
  CHECK_OK(op_test_init(&t, &nn_op_resize_bilinear, NULL, 2, in));
  CHECK(nn_op_resize_bilinear.flops(&t.node, t.in, t.out) == 4 * 16);
  op_test_free(&t);
}

/* ---- fast kernels against the reference on odd shapes ----------------------------------------------- */

static void test_fast_odd_shapes(void) {
  static const int64_t shapes[2][4] = {{1, 13, 9, 5}, {2, 7, 11, 3}};
  static float x[2 * 13 * 11 * 5 + SLACK];
  const int64_t two[1] = {2};
  for (int s = 0; s < 2; s++) {
    const int64_t *d = shapes[s];
    op_fill(x, d[0] * d[1] * d[2] * d[3], (unsigned)s + 1, -1.0f, 1.0f);
    nn_tensor in[2] = {op_tensor(NN_F32, 4, d, x)};

    int32_t hw[2] = {1, 2}, wh[2] = {-2, 1};
    in[1] = op_tensor(NN_I32, 1, two, hw);
    CHECK(fast_vs_ref(&nn_op_mean, KEEP_DIMS(true), 2, in, 1e-5) == 0);
    CHECK(fast_vs_ref(&nn_op_mean, KEEP_DIMS(false), 2, in, 1e-5) == 0);
    in[1] = op_tensor(NN_I32, 1, two, wh); /* {2, 1}: the same reduction */
    CHECK(fast_vs_ref(&nn_op_mean, KEEP_DIMS(false), 2, in, 1e-5) == 0);

    CHECK(fast_vs_ref(&nn_op_max_pool, POOL(3, 1, SAME), 1, in, 0) == 0);
    CHECK(fast_vs_ref(&nn_op_max_pool, POOL(3, 2, SAME), 1, in, 0) == 0);
    CHECK(fast_vs_ref(&nn_op_max_pool, POOL(2, 3, SAME), 1, in, 0) == 0); /* stride past the window */
    CHECK(fast_vs_ref(&nn_op_max_pool, POOL(5, 2, SAME), 1, in, 0) == 0);
    CHECK(fast_vs_ref(&nn_op_max_pool, POOL(2, 2, VALID), 1, in, 0) == 0);
    CHECK(fast_vs_ref(&nn_op_max_pool, POOL(3, 2, VALID), 1, in, 0) == 0);

    /* Up by non-integer factors, up by 2, down, one axis only. Legacy and align_corners always have the fast
     * kernel; half-pixel only where its coordinates are exact in float (x2 here), else it runs the reference.
     */
    const int32_t sizes[][2] = {
        {29, 17}, {(int32_t)d[1] * 2, (int32_t)d[2] * 2}, {5, 4}, {(int32_t)d[1], 20}};
    const char *modes[] = {RESIZE_LEGACY, RESIZE_ALIGN, RESIZE_HALF};
    for (int k = 0; k < 4; k++) {
      int32_t size[2] = {sizes[k][0], sizes[k][1]};
      in[1] = op_tensor(NN_I32, 1, two, size);
      for (int m = 0; m < 3; m++) {
        int want = m == 2 && k != 1 ? -1 : 0;
        int r = fast_vs_ref(&nn_op_resize_bilinear, modes[m], 2, in, 1e-5);
        if (r != want)
          fprintf(stderr, "  resize mode %d to %dx%d of shape %d: %d\n", m, size[0], size[1], s, r);
        CHECK(r == want);
      }
    }
  }
}

/* ---- ConcatV2, Pack, Unpack ------------------------------------------------------------------------- */

static void test_concat(void) {
  /* float32 on axis 0: (1, 2) [1, 2] and (2, 2) [[3, 4], [5, 6]] -> (3, 2) [1 .. 6] */
  float a[2] = {1, 2}, b[4] = {3, 4, 5, 6};
  int32_t axis0[1] = {0}, axis_last[1] = {-1}, axis2[1] = {2};
  nn_tensor in[4] = {op_tensor(NN_F32, 2, (const int64_t[]){1, 2}, a),
                     op_tensor(NN_F32, 2, (const int64_t[]){2, 2}, b), op_tensor(NN_I32, 0, NULL, axis0)};
  const float f_want[6] = {1, 2, 3, 4, 5, 6};
  CHECK(run_expect(&nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, in, 2, (const int64_t[]){3, 2}, f_want,
                   0) == 0);

  /* int32 on axis -1: (2, 1) [[1], [2]] and (2, 2) [[3, 4], [5, 6]] -> (2, 3) [[1, 3, 4], [2, 5, 6]] */
  int32_t ia[2] = {1, 2}, ib[4] = {3, 4, 5, 6};
  in[0] = op_tensor(NN_I32, 2, (const int64_t[]){2, 1}, ia);
  in[1] = op_tensor(NN_I32, 2, (const int64_t[]){2, 2}, ib);
  in[2] = op_tensor(NN_I32, 0, NULL, axis_last);
  op_test t;
  CHECK_OK(op_test_init(&t, &nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, in));
  CHECK_OK(op_test_run_ref(&t));
  CHECK(has_shape(&t.out[0], 2, (const int64_t[]){2, 3}));
  CHECK(mismatches_i32(&t.out[0], (const int32_t[]){1, 3, 4, 2, 5, 6}, 6) == 0);
  op_test_free(&t);

  /* three float inputs on axis 1 of (1, 1, 2) / (1, 2, 2) / (1, 0, 2): the empty one adds nothing */
  float c[1] = {0};
  in[0] = op_tensor(NN_F32, 3, (const int64_t[]){1, 1, 2}, a);
  in[1] = op_tensor(NN_F32, 3, (const int64_t[]){1, 2, 2}, b);
  in[2] = op_tensor(NN_F32, 3, (const int64_t[]){1, 0, 2}, c);
  int32_t axis1[1] = {1};
  in[3] = op_tensor(NN_I32, 0, NULL, axis1);
  CHECK(run_expect(&nn_op_concat_v2, "{\"N\": {\"i\": \"3\"}}", 4, in, 3, (const int64_t[]){1, 3, 2}, f_want,
                   0) == 0);
  /* The fast kernel (tiles of rows on the pool) against the reference: channels of [1,100,100,7] and
   * [1,100,100,9] (many tiles), rows of [1,37,5,3] and [1,2,5,3] (one tile), int32 as well. */
  {
    static float big[100 * 100 * 16];
    op_fill(big, 100 * 100 * 16, 5, -1.0f, 1.0f);
    nn_tensor parts[3] = {op_tensor(NN_F32, 4, (const int64_t[]){1, 100, 100, 7}, big),
                          op_tensor(NN_F32, 4, (const int64_t[]){1, 100, 100, 9}, big + 100 * 100 * 7),
                          op_tensor(NN_I32, 0, NULL, axis_last)};
    CHECK(fast_vs_ref(&nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, parts, 0) == 0);
    parts[0] = op_tensor(NN_I32, 4, (const int64_t[]){1, 37, 5, 3}, big);
    parts[1] = op_tensor(NN_I32, 4, (const int64_t[]){1, 2, 5, 3}, big + 37 * 5 * 3);
    parts[2] = op_tensor(NN_I32, 0, NULL, axis1);
    CHECK(fast_vs_ref(&nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, parts, 0) == 0);
  }

  in[3] = op_tensor(NN_I32, 1, (const int64_t[]){1}, axis1); /* TF wants a scalar axis, not [1] */
  CHECK(try_node(&nn_op_concat_v2, "{\"N\": {\"i\": \"3\"}}", 4, in) == CPOSE_ERR_INVALID_ARGUMENT);

  /* Bad nodes: mismatched shapes, mismatched dtypes, axis out of range, axis not constant, N wrong. */
  in[0] = op_tensor(NN_F32, 2, (const int64_t[]){1, 2}, a);
  in[1] = op_tensor(NN_F32, 2, (const int64_t[]){2, 2}, b);
  in[2] = op_tensor(NN_I32, 0, NULL, axis_last); /* on axis 1, the 1 and 2 rows disagree */
  CHECK(try_node(&nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, in) == CPOSE_ERR_INVALID_ARGUMENT);
  in[1] = op_tensor(NN_I32, 2, (const int64_t[]){2, 2}, ib);
  in[2] = op_tensor(NN_I32, 0, NULL, axis0);
  CHECK(try_node(&nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, in) == CPOSE_ERR_INVALID_ARGUMENT);
  in[1] = op_tensor(NN_F32, 2, (const int64_t[]){2, 2}, b);
  in[2] = op_tensor(NN_I32, 0, NULL, axis2);
  CHECK(try_node(&nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, in) == CPOSE_ERR_INVALID_ARGUMENT);
  in[2] = op_tensor(NN_I32, 0, NULL, NULL);
  CHECK(try_node(&nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, in) == CPOSE_ERR_UNSUPPORTED);
  in[2] = op_tensor(NN_I32, 0, NULL, axis0);
  CHECK(try_node(&nn_op_concat_v2, "{\"N\": {\"i\": \"3\"}}", 3, in) != CPOSE_OK);
  CHECK(try_node(&nn_op_concat_v2, "{\"N\": {\"i\": \"0\"}}", 3, in) != CPOSE_OK);
  in[0] = op_tensor(NN_F32, 0, NULL, a);
  in[1] = op_tensor(NN_F32, 0, NULL, b);
  CHECK(try_node(&nn_op_concat_v2, "{\"N\": {\"i\": \"2\"}}", 3, in) != CPOSE_OK); /* scalars */
}

static void test_pack_unpack(void) {
  /* two (2, 3): a = [[0, 1, 2], [3, 4, 5]], b = a + 10 */
  float a[6] = {0, 1, 2, 3, 4, 5}, b[6] = {10, 11, 12, 13, 14, 15};
  const int64_t d23[2] = {2, 3};
  nn_tensor in[2] = {op_tensor(NN_F32, 2, d23, a), op_tensor(NN_F32, 2, d23, b)};
  /* axis 0 -> (2, 2, 3): a then b. axis 1 -> (2, 2, 3): a's row 0, b's row 0, a's row 1, b's row 1. */
  const float axis0[12] = {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15};
  const float axis1[12] = {0, 1, 2, 10, 11, 12, 3, 4, 5, 13, 14, 15};
  /* axis -1 -> (2, 3, 2): pairs (a[i], b[i]) */
  const float axis_last[12] = {0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15};
  const char *attrs[3] = {"{\"N\": {\"i\": \"2\"}, \"axis\": {\"i\": \"0\"}}",
                          "{\"N\": {\"i\": \"2\"}, \"axis\": {\"i\": \"1\"}}",
                          "{\"N\": {\"i\": \"2\"}, \"axis\": {\"i\": \"-1\"}}"};
  const char *unpack_attrs[3] = {"{\"num\": {\"i\": \"2\"}, \"axis\": {\"i\": \"0\"}}",
                                 "{\"num\": {\"i\": \"2\"}, \"axis\": {\"i\": \"1\"}}",
                                 "{\"num\": {\"i\": \"2\"}, \"axis\": {\"i\": \"-1\"}}"};
  const float *wants[3] = {axis0, axis1, axis_last};
  const int64_t shapes[3][3] = {{2, 2, 3}, {2, 2, 3}, {2, 3, 2}};
  for (int k = 0; k < 3; k++) {
    op_test pack, unpack;
    CHECK_OK(op_test_init(&pack, &nn_op_pack, attrs[k], 2, in));
    CHECK_OK(op_test_run_ref(&pack));
    CHECK(has_shape(&pack.out[0], 3, shapes[k]));
    CHECK(mismatches(&pack.out[0], wants[k], 12, 0) == 0);
    /* Round trip: Unpack on the same axis gives a and b back. */
    CHECK_OK(op_test_init(&unpack, &nn_op_unpack, unpack_attrs[k], 1, pack.out));
    CHECK(unpack.node.n_outputs == 2);
    CHECK_OK(op_test_run_ref(&unpack));
    CHECK(has_shape(&unpack.out[0], 2, d23) && has_shape(&unpack.out[1], 2, d23));
    CHECK(mismatches(&unpack.out[0], a, 6, 0) == 0);
    CHECK(mismatches(&unpack.out[1], b, 6, 0) == 0);
    op_test_free(&unpack);
    op_test_free(&pack);
  }

  /* Pack of int32 scalars -> a vector. */
  int32_t s0[1] = {7}, s1[1] = {9};
  nn_tensor scalars[2] = {op_tensor(NN_I32, 0, NULL, s0), op_tensor(NN_I32, 0, NULL, s1)};
  op_test t;
  CHECK_OK(op_test_init(&t, &nn_op_pack, "{\"N\": {\"i\": \"2\"}}", 2, scalars));
  CHECK_OK(op_test_run_ref(&t));
  CHECK(has_shape(&t.out[0], 1, (const int64_t[]){2}));
  CHECK(mismatches_i32(&t.out[0], (const int32_t[]){7, 9}, 2) == 0);
  op_test_free(&t);

  /* Bad nodes: pack axis out of range, mismatched shapes, N disagreeing with the inputs; unpack num not the
   * axis size, num past the cap, axis out of range. */
  CHECK(try_node(&nn_op_pack, "{\"N\": {\"i\": \"2\"}, \"axis\": {\"i\": \"3\"}}", 2, in) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(try_node(&nn_op_pack, "{\"N\": {\"i\": \"2\"}, \"axis\": {\"i\": \"-4\"}}", 2, in) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(try_node(&nn_op_pack, "{\"N\": {\"i\": \"3\"}}", 2, in) != CPOSE_OK);
  in[1] = op_tensor(NN_F32, 2, (const int64_t[]){3, 2}, b);
  CHECK(try_node(&nn_op_pack, "{\"N\": {\"i\": \"2\"}}", 2, in) == CPOSE_ERR_INVALID_ARGUMENT);
  in[1] = op_tensor(NN_I32, 2, d23, b);
  CHECK(try_node(&nn_op_pack, "{\"N\": {\"i\": \"2\"}}", 2, in) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(try_node(&nn_op_unpack, "{\"num\": {\"i\": \"3\"}, \"axis\": {\"i\": \"0\"}}", 1, in) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(try_node(&nn_op_unpack, "{\"num\": {\"i\": \"1000\"}}", 1, in) != CPOSE_OK);
  CHECK(try_node(&nn_op_unpack, "{\"num\": {\"i\": \"2\"}, \"axis\": {\"i\": \"2\"}}", 1, in) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(try_node(&nn_op_unpack, "{\"num\": {\"i\": \"2\"}, \"axis\": {\"i\": \"-3\"}}", 1, in) ==
        CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(try_node(&nn_op_unpack, NULL, 1, in) != CPOSE_OK); /* num is required */
}

int main(void) {
  test_mean();
  test_max_pool();
  test_resize();
  test_fast_odd_shapes();
  test_concat();
  test_pack_unpack();
  return test_finish("test_ops_pool_resize");
}
