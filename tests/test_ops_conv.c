/* Conv2D, _FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2dNative: hand-computed cases for the
 * reference kernels, the XNNPACK kernels against the reference on odd shapes, and malformed nodes. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conv_test.h"
#include "core/alloc.h"
#include "op_test.h"

extern const nn_op nn_op_conv2d, nn_op_fused_conv2d;
extern const nn_op nn_op_depthwise_conv2d, nn_op_fused_depthwise_conv2d;

/* XNNPACK may read (never write) up to 16 bytes past the end of its input, so every buffer it sees gets the
 * slack of nn_padded_bytes, as in the session's arena. A copy of t with its data in such a buffer. */
static nn_tensor padded_copy(const nn_tensor *t) {
  nn_tensor copy = *t;
  copy.data = calloc(1, nn_padded_bytes(t));
  memcpy(copy.data, t->data, nn_bytes(t));
  return copy;
}

/* ---- hand-computed cases ----------------------------------------------------------------------------- */

/* Initializes and runs the reference kernel, checks its output shape and values (within tol), and then the
 * fast kernel against the reference exactly (the cases use small integers, which sum exactly). fast_expected
 * is what op_test_compare_fast must return: 0, or -1 where the node has no fast kernel. */
static void check_hand_case(const nn_op *op, const char *attr, int n_inputs, const nn_tensor *inputs,
                            const int64_t *out_dims, const float *expected, double tol, int fast_expected) {
  nn_tensor padded[3];
  for (int i = 0; i < n_inputs; i++) padded[i] = padded_copy(&inputs[i]);
  op_test t;
  cpose_status status = op_test_init(&t, op, attr, n_inputs, padded);
  CHECK_OK(status);
  if (status == CPOSE_OK) {
    nn_tensor want = op_tensor(NN_F32, 4, out_dims, NULL);
    CHECK(t.out[0].dtype == NN_F32 && nn_same_shape(&t.out[0], &want));
    CHECK_OK(op_test_run_ref(&t));
    const float *got = t.out[0].data;
    for (int64_t i = 0; nn_same_shape(&t.out[0], &want) && i < nn_numel(&want); i++) {
      CHECK_NEAR(got[i], expected[i], tol);
    }
    CHECK(op_test_compare_fast(&t, 0.0, 0.0, 1) == fast_expected);
  }
  op_test_free(&t);
  for (int i = 0; i < n_inputs; i++) free(padded[i].data);
}

/* The 3x3 image 1..9 and the 2x2 filter [[1,2],[3,4]]:
 *   x = 1 2 3    w = 1 2
 *       4 5 6        3 4
 *       7 8 9
 * out(i,j) = x(i,j) + 2 x(i,j+1) + 3 x(i+1,j) + 4 x(i+1,j+1), with zeros outside x. */
static float hand_image[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}; /* NHWC (1, 3, 3, 1) */
static float hand_filter[4] = {1, 2, 3, 4};               /* HWIO (2, 2, 1, 1) */

static void test_hand_conv(void) {
  const int64_t x_dims[4] = {1, 3, 3, 1}, w_dims[4] = {2, 2, 1, 1};
  nn_tensor inputs[2] = {op_tensor(NN_F32, 4, x_dims, hand_image), op_tensor(NN_F32, 4, w_dims, hand_filter)};
  char attr[1024];
  conv_spec s = conv_spec_default();

  /* VALID: 1+4+12+20 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77. */
  s.padding = "VALID";
  const int64_t valid_dims[4] = {1, 2, 2, 1};
  const float valid[4] = {37, 47, 67, 77};
  check_hand_case(&nn_op_conv2d, conv_attr(attr, sizeof attr, &s), 2, inputs, valid_dims, valid, 0.0, 0);

  /* SAME, stride 1: total padding (3-1)*1 + 2 - 3 = 1, all of it after (TF puts the odd pixel at the end):
   * last column 3+18 = 21, 6+27 = 33, 9; last row 7+16 = 23, 8+18 = 26. */
  s.padding = "SAME";
  const int64_t same_dims[4] = {1, 3, 3, 1};
  const float same[9] = {37, 47, 21, 67, 77, 33, 23, 26, 9};
  check_hand_case(&nn_op_conv2d, conv_attr(attr, sizeof attr, &s), 2, inputs, same_dims, same, 0.0, 0);

  /* SAME, stride 2: out 2x2, total padding (2-1)*2 + 2 - 3 = 1, after: rows and columns 0 and 2 of the
   * stride-1 result. */
  s.stride_h = s.stride_w = 2;
  const int64_t same2_dims[4] = {1, 2, 2, 1};
  const float same2[4] = {37, 21, 23, 9};
  check_hand_case(&nn_op_conv2d, conv_attr(attr, sizeof attr, &s), 2, inputs, same2_dims, same2, 0.0, 0);

  /* VALID, dilation 2: the filter's taps are x(0,0), x(0,2), x(2,0), x(2,2): 1 + 6 + 21 + 36 = 64. */
  s = conv_spec_default();
  s.padding = "VALID";
  s.dilation_h = s.dilation_w = 2;
  const int64_t dilated_dims[4] = {1, 1, 1, 1};
  const float dilated[1] = {64};
  check_hand_case(&nn_op_conv2d, conv_attr(attr, sizeof attr, &s), 2, inputs, dilated_dims, dilated, 0.0, 0);
}

static void test_hand_fused_conv(void) {
  /* Two output channels: the hand filter, and 1 at the top-left tap (a shifted copy of x).
   * HWIO (2, 2, 1, 2): [ky][kx][0][co]. */
  float filter[8] = {1, 1, 2, 0, 3, 0, 4, 0};
  const int64_t x_dims[4] = {1, 3, 3, 1}, w_dims[4] = {2, 2, 1, 2}, b_dims[1] = {2};
  float bias[2] = {-42, -3};
  nn_tensor inputs[3] = {op_tensor(NN_F32, 4, x_dims, hand_image), op_tensor(NN_F32, 4, w_dims, filter),
                         op_tensor(NN_F32, 1, b_dims, bias)};
  char attr[1024];
  conv_spec s = conv_spec_default();
  s.padding = "VALID";
  const int64_t dims[4] = {1, 2, 2, 2};

  /* BiasAdd: channel 0 = {37, 47, 67, 77} - 42; channel 1 = {1, 2, 4, 5} - 3. */
  s.fused = "BiasAdd";
  const float biased[8] = {-5, -2, 5, -1, 25, 1, 35, 2};
  check_hand_case(&nn_op_fused_conv2d, conv_attr(attr, sizeof attr, &s), 3, inputs, dims, biased, 0.0, 0);

  s.fused = "BiasAdd,Relu";
  const float relu[8] = {0, 0, 5, 0, 25, 1, 35, 2};
  check_hand_case(&nn_op_fused_conv2d, conv_attr(attr, sizeof attr, &s), 3, inputs, dims, relu, 0.0, 0);

  s.fused = "BiasAdd,Relu6";
  const float relu6[8] = {0, 0, 5, 0, 6, 1, 6, 2};
  check_hand_case(&nn_op_fused_conv2d, conv_attr(attr, sizeof attr, &s), 3, inputs, dims, relu6, 0.0, 0);

  /* Elu: exp(x) - 1 below zero. XNNPACK has no Elu, so the fast kernel declines (-1). */
  s.fused = "BiasAdd,Elu";
  const float elu[8] = {expf(-5) - 1, expf(-2) - 1, 5, expf(-1) - 1, 25, 1, 35, 2};
  check_hand_case(&nn_op_fused_conv2d, conv_attr(attr, sizeof attr, &s), 3, inputs, dims, elu, 1e-7, -1);
}

static void test_hand_depthwise(void) {
  /* Two channels: channel 0 the hand image 1..9, channel 1 ten times it. NHWC (1, 3, 3, 2). */
  float image[18];
  for (int i = 0; i < 9; i++) {
    image[2 * i] = hand_image[i];
    image[2 * i + 1] = 10 * hand_image[i];
  }
  const int64_t x_dims[4] = {1, 3, 3, 2};
  char attr[1024];
  conv_spec s = conv_spec_default();
  s.padding = "VALID";

  /* Multiplier 1, 2x2: channel 0 the hand filter, channel 1 the diagonal [[1,0],[0,1]], so channel 1 is
   * x(i,j) + x(i+1,j+1) of the tenfold image: 10+50 = 60, 20+60 = 80, 40+80 = 120, 50+90 = 140.
   * Filter (2, 2, 2, 1): [ky][kx][c]. */
  float diagonal[8] = {1, 1, 2, 0, 3, 0, 4, 1};
  const int64_t w1_dims[4] = {2, 2, 2, 1};
  nn_tensor inputs[2] = {op_tensor(NN_F32, 4, x_dims, image), op_tensor(NN_F32, 4, w1_dims, diagonal)};
  const int64_t dims1[4] = {1, 2, 2, 2};
  const float expected1[8] = {37, 60, 47, 80, 67, 120, 77, 140};
  check_hand_case(&nn_op_depthwise_conv2d, conv_attr(attr, sizeof attr, &s), 2, inputs, dims1, expected1, 0.0,
                  0);

  /* Multiplier 2, 1x1 kernel: channel 0 times {1, -1}, channel 1 times {0.5, 2}; output channel c*2+m.
   * Pixel (0,0) = (1, 10) -> (1, -1, 5, 20). Filter (1, 1, 2, 2). With BiasAdd {0, 0, 0, 100}. */
  float spread[4] = {1, -1, 0.5f, 2};
  float bias[4] = {0, 0, 0, 100};
  const int64_t w2_dims[4] = {1, 1, 2, 2}, b_dims[1] = {4};
  nn_tensor inputs2[3] = {op_tensor(NN_F32, 4, x_dims, image), op_tensor(NN_F32, 4, w2_dims, spread),
                          op_tensor(NN_F32, 1, b_dims, bias)};
  float expected2[36]; /* (1, 3, 3, 4) */
  for (int i = 0; i < 9; i++) {
    float v = hand_image[i];
    expected2[4 * i + 0] = v;
    expected2[4 * i + 1] = -v;
    expected2[4 * i + 2] = 0.5f * 10 * v;
    expected2[4 * i + 3] = 2 * 10 * v + 100;
  }
  s.fused = "BiasAdd";
  const int64_t dims2[4] = {1, 3, 3, 4};
  check_hand_case(&nn_op_fused_depthwise_conv2d, conv_attr(attr, sizeof attr, &s), 3, inputs2, dims2,
                  expected2, 0.0, 0);
}

/* ---- fast against reference on odd shapes ------------------------------------------------------------ */

typedef struct sweep_case {
  bool depthwise;
  int64_t batch, height, width, channels;
  int64_t kernel_h, kernel_w;
  int64_t filter_out; /* COUT, or the depthwise multiplier */
  conv_spec spec;
} sweep_case;

static void describe(const sweep_case *c, char *buf, size_t cap) {
  snprintf(buf, cap, "%s (%lld,%lld,%lld,%lld) kernel %lldx%lld out %lld stride %dx%d dilation %dx%d %s %s",
           c->depthwise ? "depthwise" : "conv", (long long)c->batch, (long long)c->height,
           (long long)c->width, (long long)c->channels, (long long)c->kernel_h, (long long)c->kernel_w,
           (long long)c->filter_out, c->spec.stride_h, c->spec.stride_w, c->spec.dilation_h,
           c->spec.dilation_w, c->spec.padding, c->spec.fused ? c->spec.fused : "plain");
}

static const nn_op *sweep_op(const sweep_case *c) {
  if (c->depthwise) return c->spec.fused ? &nn_op_fused_depthwise_conv2d : &nn_op_depthwise_conv2d;
  return c->spec.fused ? &nn_op_fused_conv2d : &nn_op_conv2d;
}

static void check_fast_case(const sweep_case *c, unsigned seed) {
  const int64_t x_dims[4] = {c->batch, c->height, c->width, c->channels};
  const int64_t w_dims[4] = {c->kernel_h, c->kernel_w, c->channels, c->filter_out};
  const int64_t b_dims[1] = {c->depthwise ? c->channels * c->filter_out : c->filter_out};
  nn_tensor inputs[3] = {op_tensor(NN_F32, 4, x_dims, NULL), op_tensor(NN_F32, 4, w_dims, NULL),
                         op_tensor(NN_F32, 1, b_dims, NULL)};
  for (int i = 0; i < 3; i++) {
    inputs[i].data = malloc(nn_padded_bytes(&inputs[i])); /* slack: see padded_copy */
    op_fill(inputs[i].data, nn_numel(&inputs[i]), seed + (unsigned)i, -1.0f, 1.0f);
  }
  char attr[1024], text[256];
  describe(c, text, sizeof text);
  op_test t;
  cpose_status status =
      op_test_init(&t, sweep_op(c), conv_attr(attr, sizeof attr, &c->spec), c->spec.fused ? 3 : 2, inputs);
  CHECK_OK(status);
  if (status == CPOSE_OK) CHECK_OK(op_test_run_ref(&t));
  /* XNNPACK sums in another order (and starts from the bias), so rounding differs by about sqrt(terms) ulps;
   * measured: up to 7e-6 for the 825-term sums of a 5x5x33 conv. 1e-5, grown with sqrt(terms) past 100. */
  double terms = (double)(c->kernel_h * c->kernel_w * (c->depthwise ? 1 : c->channels));
  double tol = 1e-5 * (terms > 100 ? sqrt(terms / 100) : 1.0);
  for (int threads = 1; status == CPOSE_OK && threads <= 2; threads++) {
    int mismatches = op_test_compare_fast(&t, tol, tol, threads);
    if (mismatches != 0) fprintf(stderr, "%s, %d threads: %d mismatches\n", text, threads, mismatches);
    CHECK(mismatches == 0);
  }
  op_test_free(&t);
  for (int i = 0; i < 3; i++) free(inputs[i].data);
}

/* Every kernel x stride x padding x channel count (x multiplier); batch, size, output channels, dilation and
 * fused ops cycle through their values so that each meets many of the others. The even size and kernel give
 * SAME an odd total padding, whose extra pixel TF puts at the end (odd sizes and kernels pad evenly). */
static void test_fast_matches_reference(void) {
  static const int64_t kernels[][2] = {{1, 1}, {3, 3}, {5, 5}, {1, 3}, {2, 2}};
  static const int strides[][2] = {{1, 1}, {2, 2}, {2, 1}};
  static const char *const paddings[] = {"SAME", "VALID"};
  static const int64_t channels[] = {1, 3, 5, 17, 33};
  static const int64_t sizes[][2] = {{7, 5}, {13, 9}, {8, 6}};
  static const int64_t conv_outs[] = {1, 4, 17, 33, 8, 2};
  static const char *const fused[] = {NULL, "BiasAdd", "BiasAdd,Relu", "BiasAdd,Relu6"};
  int index = 0, run = 0;
  for (int depthwise = 0; depthwise <= 1; depthwise++) {
    for (int64_t multiplier = 1; multiplier <= (depthwise ? 2 : 1); multiplier++) {
      for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        for (size_t s = 0; s < sizeof strides / sizeof strides[0]; s++) {
          for (size_t p = 0; p < 2; p++) {
            for (size_t ch = 0; ch < sizeof channels / sizeof channels[0]; ch++, index++) {
              sweep_case c;
              c.depthwise = depthwise;
              c.batch = 1 + index % 2;
              c.height = sizes[index / 2 % 3][0];
              c.width = sizes[index / 2 % 3][1];
              c.channels = channels[ch];
              c.kernel_h = kernels[k][0];
              c.kernel_w = kernels[k][1];
              c.filter_out = depthwise ? multiplier : conv_outs[index % 6];
              c.spec = conv_spec_default();
              c.spec.stride_h = strides[s][0];
              c.spec.stride_w = strides[s][1];
              c.spec.dilation_h = c.spec.dilation_w = index % 7 == 3 ? 2 : 1;
              c.spec.padding = paddings[p];
              c.spec.fused = fused[index % 4];
              /* A VALID window larger than the input is an error, tested below. */
              int64_t reach_h = (c.kernel_h - 1) * c.spec.dilation_h + 1;
              int64_t reach_w = (c.kernel_w - 1) * c.spec.dilation_w + 1;
              if (p == 1 && (reach_h > c.height || reach_w > c.width)) continue;
              check_fast_case(&c, (unsigned)index);
              run++;
            }
          }
        }
      }
    }
  }
  CHECK(run > 400);
}

/* ---- malformed nodes --------------------------------------------------------------------------------- */

/* op_test_init must fail with `expected`, and the message must name `needle`. */
static void expect_error(const nn_op *op, const char *attr, int n_inputs, const nn_tensor *inputs,
                         cpose_status expected, const char *needle) {
  op_test t;
  cpose_status status = op_test_init(&t, op, attr, n_inputs, inputs);
  if (status != expected || !strstr(cpose_last_error(), needle)) {
    fprintf(stderr, "expected %s naming '%s', got %s: %s\n    attributes: %s\n",
            cpose_status_string(expected), needle, cpose_status_string(status), cpose_last_error(), attr);
  }
  CHECK(status == expected);
  CHECK(strstr(cpose_last_error(), needle) != NULL);
  op_test_free(&t);
}

static void test_bad_nodes(void) {
  float w[3 * 3 * 3 * 2] = {0}, b[6] = {0};
  const int64_t x_dims[4] = {2, 4, 4, 3}, w_dims[4] = {3, 3, 3, 2}, b_dims[1] = {2};
  nn_tensor ok[3] = {op_tensor(NN_F32, 4, x_dims, NULL), op_tensor(NN_F32, 4, w_dims, w),
                     op_tensor(NN_F32, 1, b_dims, b)};
  char attr[1024];
  conv_spec s = conv_spec_default();
  const nn_op *fused = &nn_op_fused_conv2d;

  /* The well-formed node itself passes, so the failures below come from what each one changes. */
  s.fused = "BiasAdd,Relu";
  op_test t;
  CHECK_OK(op_test_init(&t, fused, conv_attr(attr, sizeof attr, &s), 3, ok));
  op_test_free(&t);

  s.fused = "FusedBatchNorm";
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_UNSUPPORTED, "FusedBatchNorm");
  s.fused = "BiasAdd,LeakyRelu";
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_UNSUPPORTED, "LeakyRelu");
  s.fused = "BiasAdd,Prelu";
  s.num_args = 2;
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_UNSUPPORTED, "Prelu");
  s.fused = "Relu";
  s.num_args = -1;
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_UNSUPPORTED, "Relu");
  s.fused = "BiasAdd,Relu,Relu6";
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_UNSUPPORTED, "3 entries");
  s.fused = "BiasAdd";
  s.num_args = 2;
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_INVALID_ARGUMENT, "num_args is 2");
  s.num_args = -1;

  /* Shapes. */
  s.fused = "BiasAdd";
  conv_attr(attr, sizeof attr, &s);
  const int64_t b3_dims[1] = {3};
  nn_tensor long_bias[3] = {ok[0], ok[1], op_tensor(NN_F32, 1, b3_dims, b)};
  expect_error(fused, attr, 3, long_bias, CPOSE_ERR_INVALID_ARGUMENT, "bias has 3 values");
  const int64_t x4_dims[4] = {2, 4, 4, 4};
  nn_tensor wrong_channels[3] = {op_tensor(NN_F32, 4, x4_dims, NULL), ok[1], ok[2]};
  expect_error(fused, attr, 3, wrong_channels, CPOSE_ERR_INVALID_ARGUMENT, "has 4");
  expect_error(fused, attr, 2, ok, CPOSE_ERR_INVALID_ARGUMENT, "has 2 inputs, expected 3");
  nn_tensor variable_filter[3] = {ok[0], op_tensor(NN_F32, 4, w_dims, NULL), ok[2]};
  expect_error(fused, attr, 3, variable_filter, CPOSE_ERR_UNSUPPORTED, "filter is not a constant");
  const int64_t x3_dims[3] = {4, 4, 3};
  nn_tensor rank3[3] = {op_tensor(NN_F32, 3, x3_dims, NULL), ok[1], ok[2]};
  expect_error(fused, attr, 3, rank3, CPOSE_ERR_INVALID_ARGUMENT, "input is [4,4,3]");
  nn_tensor ints[3] = {op_tensor(NN_I32, 4, x_dims, NULL), ok[1], ok[2]};
  expect_error(fused, attr, 3, ints, CPOSE_ERR_UNSUPPORTED, "int32");

  /* A 3x3 VALID window over a 2x2 image. */
  const int64_t small_dims[4] = {1, 2, 2, 3};
  nn_tensor small[3] = {op_tensor(NN_F32, 4, small_dims, NULL), ok[1], ok[2]};
  s.padding = "VALID";
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, small, CPOSE_ERR_INVALID_ARGUMENT, "does not fit");
  s.padding = "EXPLICIT";
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_UNSUPPORTED, "EXPLICIT");
  s.padding = "SAME";

  /* Layout and windows. */
  char format[64], extra[128];
  base64("NCHW", format);
  snprintf(extra, sizeof extra, "\"data_format\": {\"s\": \"%s\"}", format);
  s.extra = extra;
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_UNSUPPORTED, "NCHW");
  s.extra = NULL;
  s.stride_h = 0;
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_INVALID_ARGUMENT, "[1,0,1,1]");
  s.stride_h = 1;
  s.dilation_w = 1 << 20;
  expect_error(fused, conv_attr(attr, sizeof attr, &s), 3, ok, CPOSE_ERR_LIMIT, "dilations");
  s.dilation_w = 1;
  const char *three_strides =
      "{\"strides\": {\"list\": {\"i\": [\"1\", \"2\", \"2\"]}}, "
      "\"padding\": {\"s\": \"U0FNRQ==\"}}";
  expect_error(&nn_op_conv2d, three_strides, 2, ok, CPOSE_ERR_INVALID_ARGUMENT, "[1,2,2]");
  const char *batch_stride =
      "{\"strides\": {\"list\": {\"i\": [\"2\", \"1\", \"1\", \"1\"]}}, "
      "\"padding\": {\"s\": \"U0FNRQ==\"}}";
  expect_error(&nn_op_conv2d, batch_stride, 2, ok, CPOSE_ERR_INVALID_ARGUMENT, "[2,1,1,1]");
  expect_error(&nn_op_conv2d, "{\"padding\": {\"s\": \"U0FNRQ==\"}}", 2, ok, CPOSE_ERR_INVALID_ARGUMENT,
               "strides");

  /* Depthwise: filter (3, 3, 2, 2) against 3 input channels; bias of 4 against 3 * 2 channels. */
  s = conv_spec_default();
  const int64_t dw_dims[4] = {3, 3, 2, 2}, dw_ok_dims[4] = {3, 3, 3, 2}, b4_dims[1] = {4};
  nn_tensor dw_channels[2] = {ok[0], op_tensor(NN_F32, 4, dw_dims, w)};
  expect_error(&nn_op_depthwise_conv2d, conv_attr(attr, sizeof attr, &s), 2, dw_channels,
               CPOSE_ERR_INVALID_ARGUMENT, "needs 2 input channels");
  s.fused = "BiasAdd";
  nn_tensor dw_bias[3] = {ok[0], op_tensor(NN_F32, 4, dw_ok_dims, w), op_tensor(NN_F32, 1, b4_dims, b)};
  expect_error(&nn_op_fused_depthwise_conv2d, conv_attr(attr, sizeof attr, &s), 3, dw_bias,
               CPOSE_ERR_INVALID_ARGUMENT, "bias has 4 values, the convolution 6");
  s.fused = "BiasAdd,Sigmoid";
  expect_error(&nn_op_fused_depthwise_conv2d, conv_attr(attr, sizeof attr, &s), 3, dw_bias,
               CPOSE_ERR_UNSUPPORTED, "Sigmoid");
}

/* ---- flops and allocation failure -------------------------------------------------------------------- */

static void test_flops(void) {
  /* Conv: out (2, 7, 5, 8), filter 3x3x4 -> 2 * 560 * 36. Depthwise: out (2, 4, 3, 4*2), 3x3 -> 2*192*9. */
  float w[3 * 3 * 4 * 8] = {0};
  const int64_t x_dims[4] = {2, 7, 5, 4}, w_dims[4] = {3, 3, 4, 8}, dw_dims[4] = {3, 3, 4, 2};
  nn_tensor conv_in[2] = {op_tensor(NN_F32, 4, x_dims, NULL), op_tensor(NN_F32, 4, w_dims, w)};
  nn_tensor dw_in[2] = {op_tensor(NN_F32, 4, x_dims, NULL), op_tensor(NN_F32, 4, dw_dims, w)};
  char attr[1024];
  conv_spec s = conv_spec_default();
  op_test t;
  CHECK_OK(op_test_init(&t, &nn_op_conv2d, conv_attr(attr, sizeof attr, &s), 2, conv_in));
  CHECK_NEAR(nn_op_conv2d.flops(&t.node, t.in, t.out), 2.0 * 2 * 7 * 5 * 8 * 3 * 3 * 4, 0);
  op_test_free(&t);
  s.stride_h = s.stride_w = 2;
  CHECK_OK(op_test_init(&t, &nn_op_depthwise_conv2d, conv_attr(attr, sizeof attr, &s), 2, dw_in));
  CHECK_NEAR(nn_op_depthwise_conv2d.flops(&t.node, t.in, t.out), 2.0 * 2 * 4 * 3 * 8 * 3 * 3, 0);
  op_test_free(&t);
}

/* The OHWI copy of the filter is the one allocation of Conv2D's fast_create: its failure must be reported
 * as out of memory, leave *state_out alone and leak nothing. */
static void test_fast_create_out_of_memory(void) {
  float x[1 * 5 * 5 * 3] = {0}, w[3 * 3 * 3 * 4] = {0};
  const int64_t x_dims[4] = {1, 5, 5, 3}, w_dims[4] = {3, 3, 3, 4};
  nn_tensor inputs[2] = {op_tensor(NN_F32, 4, x_dims, x), op_tensor(NN_F32, 4, w_dims, w)};
  char attr[1024];
  conv_spec s = conv_spec_default();
  op_test t;
  CHECK_OK(op_test_init(&t, &nn_op_conv2d, conv_attr(attr, sizeof attr, &s), 2, inputs));
  void *state = NULL;
  cpose_alloc_fail_after(0);
  cpose_status status = nn_op_conv2d.fast_create(&t.node, t.in, t.out, NULL, &state);
  cpose_alloc_fail_after(-1);
  CHECK(status == CPOSE_ERR_OUT_OF_MEMORY);
  CHECK(state == NULL);
  nn_op_conv2d.fast_destroy(state);
  op_test_free(&t);
}

int main(void) {
  test_hand_conv();
  test_hand_fused_conv();
  test_hand_depthwise();
  test_fast_matches_reference();
  test_bad_nodes();
  test_flops();
  test_fast_create_out_of_memory();
  return test_finish("test_ops_conv");
}
