/* DepthwiseConv2dNative and FusedDepthwiseConv2dNative (+ BiasAdd [+ Relu | Relu6 | Elu], as the TF.js
 * converter fuses them): each input channel c is convolved with its own `multiplier` filters, giving output
 * channels c * multiplier + m. Filter (KH, KW, CIN, MULTIPLIER). Attributes and shapes: conv_common.c. */
#include "nn/ops/conv_common.h"
#include "nn/xnn.h"

static cpose_status depthwise_parse(nn_node *node, const cJSON *attr) {
  return nn_conv_parse(node, attr, false);
}

static cpose_status fused_depthwise_parse(nn_node *node, const cJSON *attr) {
  return nn_conv_parse(node, attr, true);
}

static cpose_status depthwise_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_conv_infer(node, in, out, true);
}

/* ---- reference kernel -------------------------------------------------------------------------------- */

/* Sums one output pixel over ky, kx in that order. Taps in the padding are skipped: they add zeros. */
static void depthwise_pixel(const nn_conv_geometry *g, const nn_conv_params *p, const float *image,
                            const float *filter, int64_t oy, int64_t ox, float *pixel) {
  for (int64_t co = 0; co < g->out_c; co++) pixel[co] = 0.0f;
  for (int64_t ky = 0; ky < g->kernel_h; ky++) {
    int64_t iy = oy * p->stride_h + ky * p->dilation_h - g->pad_top;
    if (iy < 0 || iy >= g->in_h) continue;
    for (int64_t kx = 0; kx < g->kernel_w; kx++) {
      int64_t ix = ox * p->stride_w + kx * p->dilation_w - g->pad_left;
      if (ix < 0 || ix >= g->in_w) continue;
      const float *x = image + (iy * g->in_w + ix) * g->in_c;       /* (CIN) */
      const float *w = filter + (ky * g->kernel_w + kx) * g->out_c; /* (CIN, MULTIPLIER) */
      for (int64_t c = 0; c < g->in_c; c++) {
        for (int64_t m = 0; m < g->multiplier; m++) {
          pixel[c * g->multiplier + m] += x[c] * w[c * g->multiplier + m];
        }
      }
    }
  }
}

static cpose_status depthwise_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_conv_params *p = node->params;
  nn_conv_geometry g;
  cpose_status status = nn_conv_geometry_of(node, in, true, &g);
  if (status != CPOSE_OK) return status;
  const float *input = in[0].data;                     /* NHWC (N, IH, IW, CIN) */
  const float *filter = in[1].data;                    /* (KH, KW, CIN, MULTIPLIER) */
  const float *bias = p->has_bias ? in[2].data : NULL; /* (CIN * MULTIPLIER) */
  float *output = out[0].data; /* NHWC (N, OH, OW, CIN * MULTIPLIER), pixels `stride` apart */
  const int64_t stride = nn_row_stride(&out[0]);
  for (int64_t n = 0; n < g.batch; n++) {
    const float *image = input + n * g.in_h * g.in_w * g.in_c; /* (IH, IW, CIN) */
    for (int64_t oy = 0; oy < g.out_h; oy++) {
      for (int64_t ox = 0; ox < g.out_w; ox++) {
        float *pixel = output + ((n * g.out_h + oy) * g.out_w + ox) * stride; /* (CIN * MULTIPLIER) */
        depthwise_pixel(&g, p, image, filter, oy, ox, pixel);
        nn_conv_finish_pixel(p, bias, pixel, g.out_c);
      }
    }
  }
  return CPOSE_OK;
}

/* ---- fast kernel (XNNPACK) --------------------------------------------------------------------------- */

/* A grouped convolution with one group per input channel. With XNN_FLAG_DEPTHWISE_CONVOLUTION XNNPACK reads
 * the filter as (1, KH, KW, CIN * MULTIPLIER), which is TF's layout as it is: no copy. */
static cpose_status depthwise_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                          pthreadpool_t pool, void **state_out) {
  const nn_conv_params *p = node->params;
  cpose_status status = nn_xnn_init(node);
  if (status != CPOSE_OK) return status;
  nn_conv_geometry g;
  status = nn_conv_geometry_of(node, in, true, &g);
  if (status != CPOSE_OK) return status;
  const float *bias = p->has_bias ? in[2].data : NULL; /* (CIN * MULTIPLIER) */
  return nn_conv_xnn_create(node, &g, (size_t)g.in_c, 1, (size_t)g.multiplier, in[1].data, bias,
                            XNN_FLAG_DEPTHWISE_CONVOLUTION, in[0].data, &out[0], pool, state_out);
}

static double depthwise_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  (void)node;
  const int64_t *w = in[1].dims; /* (KH, KW, CIN, MULTIPLIER) */
  return 2.0 * (double)nn_numel(&out[0]) * (double)(w[0] * w[1]);
}

const nn_op nn_op_depthwise_conv2d = {
    .type = "DepthwiseConv2dNative",
    .params_size = sizeof(nn_conv_params),
    .parse = depthwise_parse,
    .infer = depthwise_infer,
    .run = depthwise_run,
    .fast_create = depthwise_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = depthwise_flops,
    .strided_output = true,
};

const nn_op nn_op_fused_depthwise_conv2d = {
    .type = "FusedDepthwiseConv2dNative",
    .params_size = sizeof(nn_conv_params),
    .parse = fused_depthwise_parse,
    .infer = depthwise_infer,
    .run = depthwise_run,
    .fast_create = depthwise_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = depthwise_flops,
    .strided_output = true,
};
