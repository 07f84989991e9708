/*
 * MaxPool: the maximum over each kh x kw window of an NHWC float32 tensor. Attributes: ksize [1, kh, kw, 1],
 * strides [1, sh, sw, 1], padding SAME or VALID, data_format NHWC. SAME's padding pixels are not values: a
 * window takes the maximum of the input pixels it covers (every SAME window covers at least one).
 *
 * Reference: a loop over the covered pixels. Fast: XNNPACK's max pooling with the same explicit paddings
 * (it clamps padded taps to the nearest edge pixel, which lies in the same window, so the maximum is
 * identical).
 */
#include "nn/ops/max_pool.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/ops/const_input.h"
#include "nn/xnn.h"

/* Every size of one pooling. */
typedef struct pool_geometry {
  int64_t batch, in_h, in_w, channels;
  int64_t out_h, out_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right; /* SAME's padding; the pixels there are ignored */
} pool_geometry;

/* Reads a 4-entry window attribute [1, h, w, 1]. */
static cpose_status window_attr(nn_node *node, const cJSON *attr, const char *key, int64_t *h, int64_t *w) {
  int64_t v[4];
  int n = 0;
  cpose_status status = nn_attr_ints(node, attr, key, v, 4, &n);
  if (status != CPOSE_OK) return status;
  if (n != 4) return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute '%s' has %d values, needs 4", key, n);
  if (v[0] != 1 || v[3] != 1) {
    return nn_node_fail(
        node, CPOSE_ERR_UNSUPPORTED,
        "attribute '%s' is [%lld,%lld,%lld,%lld]: pooling over batch or channels is not supported", key,
        (long long)v[0], (long long)v[1], (long long)v[2], (long long)v[3]);
  }
  if (v[1] < 1 || v[2] < 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                        "attribute '%s' is [1,%lld,%lld,1], needs sizes >= 1", key, (long long)v[1],
                        (long long)v[2]);
  }
  *h = v[1];
  *w = v[2];
  return CPOSE_OK;
}

static cpose_status max_pool_parse(nn_node *node, const cJSON *attr) {
  nn_max_pool_params *p = node->params;
  char format[16];
  cpose_status status = window_attr(node, attr, "ksize", &p->kernel_h, &p->kernel_w);
  if (status == CPOSE_OK) status = window_attr(node, attr, "strides", &p->stride_h, &p->stride_w);
  if (status == CPOSE_OK) status = nn_attr_padding(node, attr, &p->padding);
  if (status == CPOSE_OK) status = nn_attr_string(node, attr, "data_format", format, sizeof format);
  if (status != CPOSE_OK) return status;
  if (format[0] && strcmp(format, "NHWC") != 0) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "data_format '%s' is not supported (only NHWC)", format);
  }
  if (p->padding != NN_PAD_SAME && p->padding != NN_PAD_VALID) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "only SAME and VALID padding are supported");
  }
  return CPOSE_OK;
}

static cpose_status pool_geometry_of(const nn_node *node, const nn_tensor *in, pool_geometry *g) {
  const nn_max_pool_params *p = node->params;
  cpose_status status = nn_check_input_count(node, 1);
  if (status == CPOSE_OK) status = nn_check_nhwc_f32(node, in);
  if (status != CPOSE_OK) return status;
  g->batch = in[0].dims[0];
  g->in_h = in[0].dims[1];
  g->in_w = in[0].dims[2];
  g->channels = in[0].dims[3];
  status = nn_window(node, g->in_h, p->kernel_h, p->stride_h, 1, p->padding, &g->out_h, &g->pad_top,
                     &g->pad_bottom);
  if (status == CPOSE_OK) {
    status = nn_window(node, g->in_w, p->kernel_w, p->stride_w, 1, p->padding, &g->out_w, &g->pad_left,
                       &g->pad_right);
  }
  return status;
}

static cpose_status max_pool_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  pool_geometry g;
  cpose_status status = pool_geometry_of(node, in, &g);
  if (status != CPOSE_OK) return status;
  int64_t dims[4] = {g.batch, g.out_h, g.out_w, g.channels};
  out[0].dtype = NN_F32;
  return nn_set_shape(node, &out[0], 4, dims);
}

static int64_t max64(int64_t a, int64_t b) {
  return a > b ? a : b;
}
static int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

static cpose_status max_pool_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_max_pool_params *p = node->params;
  pool_geometry g;
  cpose_status status = pool_geometry_of(node, in, &g);
  if (status != CPOSE_OK) return status;
  const float *x = in[0].data; /* NHWC (N, H, W, C), float32 */
  float *y = out[0].data;      /* NHWC (N, OH, OW, C), float32 */
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t oy = 0; oy < g.out_h; oy++) {
      /* The window's rows clipped to the input; never empty (see the top comment). */
      int64_t y0 = oy * p->stride_h - g.pad_top;
      int64_t y_begin = max64(y0, 0), y_end = min64(y0 + min64(p->kernel_h, g.in_h + g.pad_top), g.in_h);
      for (int64_t ox = 0; ox < g.out_w; ox++) {
        int64_t x0 = ox * p->stride_w - g.pad_left;
        int64_t x_begin = max64(x0, 0), x_end = min64(x0 + min64(p->kernel_w, g.in_w + g.pad_left), g.in_w);
        float *pixel = y + ((b * g.out_h + oy) * g.out_w + ox) * g.channels;
        for (int64_t c = 0; c < g.channels; c++) pixel[c] = -FLT_MAX; /* TF starts from the lowest float */
        for (int64_t iy = y_begin; iy < y_end; iy++) {
          for (int64_t ix = x_begin; ix < x_end; ix++) {
            const float *src = x + ((b * g.in_h + iy) * g.in_w + ix) * g.channels;
            for (int64_t c = 0; c < g.channels; c++) {
              if (src[c] > pixel[c]) pixel[c] = src[c];
            }
          }
        }
      }
    }
  }
  return CPOSE_OK;
}

static cpose_status max_pool_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                         pthreadpool_t pool, void **state_out) {
  const nn_max_pool_params *p = node->params;
  pool_geometry g;
  cpose_status status = pool_geometry_of(node, in, &g);
  if (status != CPOSE_OK) return status;
  /* XNNPACK rejects 1x1 windows and empty tensors and takes uint32 sizes; windows larger than the image
   * (possible with SAME) would make its pooling size and indirection buffer huge: the reference runs
   * those. */
  if ((p->kernel_h == 1 && p->kernel_w == 1) || nn_numel(&in[0]) == 0 || p->kernel_h > g.in_h ||
      p->kernel_w > g.in_w || p->stride_h > (int64_t)UINT32_MAX || p->stride_w > (int64_t)UINT32_MAX) {
    return CPOSE_ERR_UNSUPPORTED;
  }
  /* XNNPACK sizes its output from the paddings; make sure it agrees with TF's, which `out` was sized for. */
  if ((g.in_h + g.pad_top + g.pad_bottom - p->kernel_h) / p->stride_h + 1 != g.out_h ||
      (g.in_w + g.pad_left + g.pad_right - p->kernel_w) / p->stride_w + 1 != g.out_w) {
    return CPOSE_ERR_UNSUPPORTED;
  }
  status = nn_xnn_init(node);
  if (status != CPOSE_OK) return status;
  size_t channels = (size_t)g.channels;
  xnn_operator_t op = NULL;
  status = nn_xnn_check(
      node,
      xnn_create_max_pooling2d_nhwc_f32((uint32_t)g.pad_top, (uint32_t)g.pad_right, (uint32_t)g.pad_bottom,
                                        (uint32_t)g.pad_left, (uint32_t)p->kernel_h, (uint32_t)p->kernel_w,
                                        (uint32_t)p->stride_h, (uint32_t)p->stride_w, 1, 1, channels,
                                        channels, channels, -INFINITY, INFINITY, 0, &op),
      "max pooling creation");
  if (status != CPOSE_OK) goto error;
  status = nn_xnn_check(node,
                        xnn_setup_max_pooling2d_nhwc_f32(op, (size_t)g.batch, (size_t)g.in_h, (size_t)g.in_w,
                                                         in[0].data, out[0].data, pool),
                        "max pooling setup");
  if (status != CPOSE_OK) goto error;
  *state_out = op;
  return CPOSE_OK;
error:
  nn_xnn_delete_operator(op);
  return status;
}

static double max_pool_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  const nn_max_pool_params *p = node->params;
  (void)in;
  return (double)nn_numel(&out[0]) * (double)p->kernel_h * (double)p->kernel_w; /* one compare per tap */
}

const nn_op nn_op_max_pool = {
    .type = "MaxPool",
    .params_size = sizeof(nn_max_pool_params),
    .parse = max_pool_parse,
    .infer = max_pool_infer,
    .run = max_pool_run,
    .fast_create = max_pool_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = max_pool_flops,
};
