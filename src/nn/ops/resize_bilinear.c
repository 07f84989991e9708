/*
 * ResizeBilinear: resizes the H and W of an NHWC float32 tensor with bilinear interpolation. Inputs: the
 * image and a constant int32 [new_h, new_w]. Attributes: align_corners, half_pixel_centers (not both).
 *
 * TensorFlow's rules (core/kernels/image/resize_bilinear_op.cc), per axis of in_size -> out_size pixels:
 *   scale = align_corners && out_size > 1 ? (in_size - 1) / (out_size - 1) : in_size / out_size  (float)
 *   src   = half_pixel_centers ? (x + 0.5) * scale - 0.5 : x * scale                            (float)
 *   lower = max(floor(src), 0), upper = min(ceil(src), in_size - 1), lerp = src - floor(src)
 * and out = top + (bottom - top) * y_lerp with top = tl + (tr - tl) * x_lerp (bottom likewise). When the
 * size does not change, TF copies the input.
 *
 * Reference: those rules. Fast: XNNPACK's bilinear resize. Its align_corners and TensorFlow legacy modes
 * compute src = x * scale as TF does and match it bit for bit. Its half-pixel mode (no flag) computes
 * src = x * scale + (0.5 * scale - 0.5), which rounds differently: up to 1e-4 apart on [-1, 1] data for
 * 512x384 -> 641x385. So half-pixel nodes take the fast kernel only where both spellings are exact in float
 * (scales such as 1/2, 1/4, 3/4, 2: every 2x upsampling), where they agree whatever the rounding; others run
 * the reference. tests/test_ops_pool_resize.c checks all three modes against the reference.
 */
#include <math.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/ops/const_input.h"
#include "nn/xnn.h"

typedef struct resize_params {
  bool align_corners;
  bool half_pixel_centers;
} resize_params;

/* One output coordinate's source pixels along one axis. */
typedef struct resize_tap {
  int64_t lower, upper;
  float lerp;
} resize_tap;

static cpose_status resize_parse(nn_node *node, const cJSON *attr) {
  resize_params *p = node->params;
  cpose_status status = nn_attr_bool(node, attr, "align_corners", false, &p->align_corners);
  if (status == CPOSE_OK) {
    status = nn_attr_bool(node, attr, "half_pixel_centers", false, &p->half_pixel_centers);
  }
  if (status != CPOSE_OK) return status;
  if (p->align_corners && p->half_pixel_centers) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                        "align_corners and half_pixel_centers are both true");
  }
  return CPOSE_OK;
}

/* Checks the inputs and reads the new size (input 1). */
static cpose_status resize_size(const nn_node *node, const nn_tensor *in, int64_t *out_h, int64_t *out_w) {
  cpose_status status = nn_check_input_count(node, 2);
  if (status == CPOSE_OK) status = nn_check_nhwc_f32(node, in);
  if (status != CPOSE_OK) return status;
  char s[96];
  if (in[0].dims[1] < 1 || in[0].dims[2] < 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "input %s has no pixels to interpolate",
                        nn_shape_string(&in[0], s, sizeof s));
  }
  int64_t size[2];
  int n = 0;
  status = nn_const_ints(node, in, 1, "size", false, size, 2, &n);
  if (status != CPOSE_OK) return status;
  if (n != 2) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "size (input 1) has %d values, needs 2", n);
  }
  int64_t h = size[0], w = size[1];
  if (h < 1 || w < 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "the size [%lld,%lld] is not positive",
                        (long long)h, (long long)w);
  }
  *out_h = h;
  *out_w = w;
  return CPOSE_OK;
}

static cpose_status resize_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  int64_t out_h, out_w;
  cpose_status status = resize_size(node, in, &out_h, &out_w);
  if (status != CPOSE_OK) return status;
  int64_t dims[4] = {in[0].dims[0], out_h, out_w, in[0].dims[3]};
  out[0].dtype = NN_F32;
  return nn_set_shape(node, &out[0], 4, dims);
}

/* TF's CalculateResizeScale. */
static float resize_scale(const resize_params *p, int64_t in_size, int64_t out_size) {
  return p->align_corners && out_size > 1 ? (float)(in_size - 1) / (float)(out_size - 1)
                                          : (float)in_size / (float)out_size;
}

/* TF's compute_interpolation_weights for output coordinate x. The extra clamps cannot change a result (the
 * scaled coordinate lies in (-0.5, in_size)); they keep every index in bounds whatever the rounding. */
static resize_tap resize_tap_at(const resize_params *p, int64_t x, float scale, int64_t in_size) {
  float src = p->half_pixel_centers ? ((float)x + 0.5f) * scale - 0.5f : (float)x * scale;
  float src_floor = floorf(src);
  resize_tap tap;
  tap.lower = (int64_t)src_floor;
  tap.upper = (int64_t)ceilf(src);
  tap.lower = tap.lower < 0 ? 0 : tap.lower > in_size - 1 ? in_size - 1 : tap.lower;
  tap.upper = tap.upper < 0 ? 0 : tap.upper > in_size - 1 ? in_size - 1 : tap.upper;
  tap.lerp = src - src_floor;
  return tap;
}

static cpose_status resize_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const resize_params *p = node->params;
  int64_t out_h, out_w;
  cpose_status status = resize_size(node, in, &out_h, &out_w);
  if (status != CPOSE_OK) return status;
  int64_t batch = in[0].dims[0], in_h = in[0].dims[1], in_w = in[0].dims[2], channels = in[0].dims[3];
  const float *x = in[0].data; /* NHWC (N, H, W, C), float32 */
  float *y = out[0].data;      /* NHWC (N, OH, OW, C), float32, pixels `stride` apart */
  const int64_t stride = nn_row_stride(&out[0]);
  if (batch <= 0 || channels <= 0) return CPOSE_OK; /* nothing to write: do not walk the empty pixels */
  if (out_h == in_h && out_w == in_w) {
    for (int64_t i = 0; i < batch * in_h * in_w; i++) {
      memcpy(y + i * stride, x + i * channels, (size_t)channels * sizeof(float));
    }
    return CPOSE_OK;
  }
  float scale_h = resize_scale(p, in_h, out_h), scale_w = resize_scale(p, in_w, out_w);
  for (int64_t b = 0; b < batch; b++) {
    const float *image = x + b * in_h * in_w * channels;
    for (int64_t oy = 0; oy < out_h; oy++) {
      resize_tap ty = resize_tap_at(p, oy, scale_h, in_h);
      const float *row_top = image + ty.lower * in_w * channels;
      const float *row_bottom = image + ty.upper * in_w * channels;
      for (int64_t ox = 0; ox < out_w; ox++) {
        resize_tap tx = resize_tap_at(p, ox, scale_w, in_w);
        float *pixel = y + ((b * out_h + oy) * out_w + ox) * stride; /* (C) */
        for (int64_t c = 0; c < channels; c++) {
          float top_left = row_top[tx.lower * channels + c], top_right = row_top[tx.upper * channels + c];
          float bottom_left = row_bottom[tx.lower * channels + c];
          float bottom_right = row_bottom[tx.upper * channels + c];
          float top = top_left + (top_right - top_left) * tx.lerp;
          float bottom = bottom_left + (bottom_right - bottom_left) * tx.lerp;
          pixel[c] = top + (bottom - top) * ty.lerp;
        }
      }
    }
  }
  return CPOSE_OK;
}

/* True when, for every output coordinate x, (x + 0.5) * scale - 0.5 (TF) and x * scale + (0.5 * scale - 0.5)
 * (XNNPACK) are both computed without rounding in float, so that they are the same number. Checked with
 * doubles, which hold each product of a float and a coordinate (< 2^24) exactly. */
static bool half_pixel_exact(float scale, int64_t out_size) {
  float offset = 0.5f * scale - 0.5f;
  if ((double)offset != 0.5 * (double)scale - 0.5) return false;
  for (int64_t x = 0; x < out_size; x++) {
    double product = (double)x * (double)scale, shifted = ((double)x + 0.5) * (double)scale;
    double exact = shifted - 0.5;
    if ((double)((float)x * scale) != product || (double)(((float)x + 0.5f) * scale) != shifted ||
        (double)(float)exact != exact || product + (double)offset != exact) {
      return false;
    }
  }
  return true;
}

static cpose_status resize_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                       pthreadpool_t pool, void **state_out) {
  const resize_params *p = node->params;
  int64_t out_h, out_w;
  cpose_status status = resize_size(node, in, &out_h, &out_w);
  if (status != CPOSE_OK) return status;
  int64_t batch = in[0].dims[0], in_h = in[0].dims[1], in_w = in[0].dims[2], channels = in[0].dims[3];
  /* XNNPACK takes sizes below 2^24 (its coordinates are floats) and no empty tensors. */
  const int64_t limit = (int64_t)1 << 24;
  if (batch == 0 || channels == 0 || in_h >= limit || in_w >= limit || out_h >= limit || out_w >= limit) {
    return CPOSE_ERR_UNSUPPORTED;
  }
  if (p->half_pixel_centers && (!half_pixel_exact(resize_scale(p, in_h, out_h), out_h) ||
                                !half_pixel_exact(resize_scale(p, in_w, out_w), out_w))) {
    return CPOSE_ERR_UNSUPPORTED; /* XNNPACK's coordinates would round differently from TF's */
  }
  status = nn_xnn_init(node);
  if (status != CPOSE_OK) return status;
  uint32_t flags = p->align_corners        ? XNN_FLAG_ALIGN_CORNERS
                   : p->half_pixel_centers ? 0
                                           : XNN_FLAG_TENSORFLOW_LEGACY_MODE;
  xnn_operator_t op = NULL;
  status = nn_xnn_check(node,
                        xnn_create_resize_bilinear2d_nhwc_f32(
                            (size_t)channels, (size_t)channels,
                            (size_t)nn_row_stride(&out[0]) /* output pixel stride */, flags, &op),
                        "bilinear resize creation");
  if (status != CPOSE_OK) goto error;
  status = nn_xnn_check(
      node,
      xnn_setup_resize_bilinear2d_nhwc_f32(op, (size_t)batch, (size_t)in_h, (size_t)in_w, (size_t)out_h,
                                           (size_t)out_w, in[0].data, out[0].data, pool),
      "bilinear resize setup");
  if (status != CPOSE_OK) goto error;
  *state_out = op;
  return CPOSE_OK;
error:
  nn_xnn_delete_operator(op);
  return status;
}

static double resize_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  (void)node;
  (void)in;
  return 4.0 * (double)nn_numel(&out[0]); /* one per input element read: four per output */
}

const nn_op nn_op_resize_bilinear = {
    .type = "ResizeBilinear",
    .params_size = sizeof(resize_params),
    .parse = resize_parse,
    .infer = resize_infer,
    .run = resize_run,
    .fast_create = resize_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = resize_flops,
    .strided_output = true,
};
