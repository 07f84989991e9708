/* Conv2D and _FusedConv2D (Conv2D + BiasAdd [+ Relu | Relu6 | Elu], as TF's grappler fuses them): 2D
 * convolution of an NHWC input with an HWIO filter. Attributes and shapes: conv_common.c. */
#include "core/alloc.h"
#include "nn/ops/conv_common.h"
#include "nn/xnn.h"

static cpose_status conv2d_parse(nn_node *node, const cJSON *attr) {
  return nn_conv_parse(node, attr, false);
}

static cpose_status fused_conv2d_parse(nn_node *node, const cJSON *attr) {
  return nn_conv_parse(node, attr, true);
}

static cpose_status conv2d_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_conv_infer(node, in, out, false);
}

/* ---- reference kernel -------------------------------------------------------------------------------- */

/* Sums one output pixel over ky, kx, ci in that order. Taps in the padding are skipped: they add zeros. */
static void conv2d_pixel(const nn_conv_geometry *g, const nn_conv_params *p, const float *image,
                         const float *filter, int64_t oy, int64_t ox, float *pixel) {
  for (int64_t co = 0; co < g->out_c; co++) pixel[co] = 0.0f;
  for (int64_t ky = 0; ky < g->kernel_h; ky++) {
    int64_t iy = oy * p->stride_h + ky * p->dilation_h - g->pad_top;
    if (iy < 0 || iy >= g->in_h) continue;
    for (int64_t kx = 0; kx < g->kernel_w; kx++) {
      int64_t ix = ox * p->stride_w + kx * p->dilation_w - g->pad_left;
      if (ix < 0 || ix >= g->in_w) continue;
      const float *x = image + (iy * g->in_w + ix) * g->in_c;                 /* (CIN) */
      const float *w = filter + (ky * g->kernel_w + kx) * g->in_c * g->out_c; /* (CIN, COUT) */
      for (int64_t ci = 0; ci < g->in_c; ci++) {
        for (int64_t co = 0; co < g->out_c; co++) pixel[co] += x[ci] * w[ci * g->out_c + co];
      }
    }
  }
}

static cpose_status conv2d_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_conv_params *p = node->params;
  nn_conv_geometry g;
  cpose_status status = nn_conv_geometry_of(node, in, false, &g);
  if (status != CPOSE_OK) return status;
  const float *input = in[0].data;                     /* NHWC (N, IH, IW, CIN) */
  const float *filter = in[1].data;                    /* HWIO (KH, KW, CIN, COUT) */
  const float *bias = p->has_bias ? in[2].data : NULL; /* (COUT) */
  float *output = out[0].data;                         /* NHWC (N, OH, OW, COUT), pixels `stride` apart */
  const int64_t stride = nn_row_stride(&out[0]);
  for (int64_t n = 0; n < g.batch; n++) {
    const float *image = input + n * g.in_h * g.in_w * g.in_c; /* (IH, IW, CIN) */
    for (int64_t oy = 0; oy < g.out_h; oy++) {
      for (int64_t ox = 0; ox < g.out_w; ox++) {
        float *pixel = output + ((n * g.out_h + oy) * g.out_w + ox) * stride; /* (COUT) */
        conv2d_pixel(&g, p, image, filter, oy, ox, pixel);
        nn_conv_finish_pixel(p, bias, pixel, g.out_c);
      }
    }
  }
  return CPOSE_OK;
}

/* ---- fast kernel (XNNPACK) --------------------------------------------------------------------------- */

/* XNNPACK wants the filter as OHWI (COUT, KH, KW, CIN); TF stores HWIO (KH, KW, CIN, COUT). NULL on OOM. */
static float *hwio_to_ohwi(const nn_conv_geometry *g, const float *hwio) {
  size_t count = (size_t)(g->kernel_h * g->kernel_w * g->in_c * g->out_c);
  float *ohwi = cpose_malloc(count * sizeof(float));
  if (!ohwi) return NULL;
  int64_t taps = g->kernel_h * g->kernel_w; /* (KH, KW) flattened */
  for (int64_t t = 0; t < taps; t++) {
    for (int64_t ci = 0; ci < g->in_c; ci++) {
      for (int64_t co = 0; co < g->out_c; co++) {
        ohwi[(co * taps + t) * g->in_c + ci] = hwio[(t * g->in_c + ci) * g->out_c + co];
      }
    }
  }
  return ohwi;
}

static cpose_status conv2d_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                       pthreadpool_t pool, void **state_out) {
  const nn_conv_params *p = node->params;
  cpose_status status = nn_xnn_init(node);
  if (status != CPOSE_OK) return status;
  nn_conv_geometry g;
  status = nn_conv_geometry_of(node, in, false, &g);
  if (status != CPOSE_OK) return status;
  float *ohwi = hwio_to_ohwi(&g, in[1].data); /* (COUT, KH, KW, CIN) */
  if (!ohwi) {
    return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the %lld-element OHWI filter",
                        (long long)(g.kernel_h * g.kernel_w * g.in_c * g.out_c));
  }
  const float *bias = p->has_bias ? in[2].data : NULL; /* (COUT) */
  /* XNNPACK packs the weights at creation, so the transposed copy is not needed after. */
  status = nn_conv_xnn_create(node, &g, 1, (size_t)g.in_c, (size_t)g.out_c, ohwi, bias, 0, in[0].data,
                              &out[0], pool, state_out);
  cpose_free(ohwi);
  return status;
}

static double conv2d_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  (void)node;
  const int64_t *w = in[1].dims; /* (KH, KW, CIN, COUT) */
  return 2.0 * (double)nn_numel(&out[0]) * (double)(w[0] * w[1] * w[2]);
}

const nn_op nn_op_conv2d = {
    .type = "Conv2D",
    .params_size = sizeof(nn_conv_params),
    .parse = conv2d_parse,
    .infer = conv2d_infer,
    .run = conv2d_run,
    .fast_create = conv2d_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = conv2d_flops,
    .strided_output = true,
};

const nn_op nn_op_fused_conv2d = {
    .type = "_FusedConv2D",
    .params_size = sizeof(nn_conv_params),
    .parse = fused_conv2d_parse,
    .infer = conv2d_infer,
    .run = conv2d_run,
    .fast_create = conv2d_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = conv2d_flops,
    .strided_output = true,
};
