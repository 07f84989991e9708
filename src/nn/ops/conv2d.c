/* Conv2D and _FusedConv2D (Conv2D + BiasAdd [+ Relu | Relu6 | Elu], as TF's grappler fuses them): 2D
 * convolution of an NHWC input with an HWIO filter. Attributes and shapes: conv_common.c. */
#include "core/alloc.h"
#include "nn/gemm.h"
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

/* ---- fast kernel ------------------------------------------------------------------------------------- */

/* A pointwise convolution (1x1, stride 1) is one matrix product over all pixels: it runs on cpose's GEMM
 * where the CPU has its kernels (gemm.h says why); every other convolution on XNNPACK's. */
typedef struct conv2d_fast {
  xnn_operator_t op;  /* or NULL */
  nn_gemm *gemm;      /* or NULL */
  const float *input; /* (pixels, CIN) */
  float *output;      /* (pixels, COUT), pixels `stride` apart */
  size_t pixels, in_c, stride;
} conv2d_fast;

static bool is_pointwise(const nn_conv_geometry *g, const nn_conv_params *p) {
  return g->kernel_h == 1 && g->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 && g->pad_top == 0 &&
         g->pad_bottom == 0 && g->pad_left == 0 && g->pad_right == 0;
}

/* CPOSE_ERR_UNSUPPORTED (error cleared) when the GEMM does not apply, so that XNNPACK is tried. */
static cpose_status create_gemm(const nn_node *node, const nn_conv_geometry *g, const nn_tensor *in,
                                const nn_tensor *out, conv2d_fast *f) {
  const nn_conv_params *p = node->params;
  if (!is_pointwise(g, p) || !nn_gemm_available() || p->activation == NN_CONV_ACT_ELU ||
      g->batch * g->in_h * g->in_w * g->in_c * g->out_c == 0) {
    return CPOSE_ERR_UNSUPPORTED;
  }
  cpose_status status = nn_conv_gemm_create(node, in, &f->gemm);
  if (status != CPOSE_OK) return status;
  f->input = in[0].data;
  f->output = out[0].data;
  f->pixels = (size_t)(g->batch * g->in_h * g->in_w);
  f->in_c = (size_t)g->in_c;
  f->stride = (size_t)nn_row_stride(&out[0]);
  return CPOSE_OK;
}

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

static cpose_status create_xnn(const nn_node *node, const nn_conv_geometry *g, const nn_tensor *in,
                               const nn_tensor *out, pthreadpool_t pool, conv2d_fast *f) {
  const nn_conv_params *p = node->params;
  cpose_status status = nn_xnn_init(node);
  if (status != CPOSE_OK) return status;
  float *ohwi = hwio_to_ohwi(g, in[1].data); /* (COUT, KH, KW, CIN) */
  if (!ohwi) {
    return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the %lld-element OHWI filter",
                        (long long)(g->kernel_h * g->kernel_w * g->in_c * g->out_c));
  }
  const float *bias = p->has_bias ? in[2].data : NULL; /* (COUT) */
  /* XNNPACK packs the weights at creation, so the transposed copy is not needed after. */
  void *op = NULL;
  status = nn_conv_xnn_create(node, g, 1, (size_t)g->in_c, (size_t)g->out_c, ohwi, bias, 0, in[0].data,
                              &out[0], pool, &op);
  cpose_free(ohwi);
  f->op = op;
  return status;
}

static void conv2d_fast_destroy(void *state) {
  conv2d_fast *f = state;
  if (!f) return;
  nn_xnn_delete_operator(f->op);
  nn_gemm_destroy(f->gemm);
  cpose_free(f);
}

static cpose_status conv2d_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                       pthreadpool_t pool, void **state_out) {
  nn_conv_geometry g;
  cpose_status status = nn_conv_geometry_of(node, in, false, &g);
  if (status != CPOSE_OK) return status;
  conv2d_fast *f = cpose_calloc(1, sizeof *f);
  if (!f) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel's state");
  status = create_gemm(node, &g, in, out, f);
  if (status == CPOSE_ERR_UNSUPPORTED) status = create_xnn(node, &g, in, out, pool, f);
  if (status != CPOSE_OK) {
    conv2d_fast_destroy(f);
    return status;
  }
  *state_out = f;
  return CPOSE_OK;
}

static cpose_status conv2d_fast_run(void *state, pthreadpool_t pool) {
  const conv2d_fast *f = state;
  if (f->op) return nn_xnn_run_operator(f->op, pool);
  nn_gemm_run(f->gemm, f->pixels, f->input, f->in_c, f->output, f->stride, pool);
  return CPOSE_OK;
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
    .fast_run = conv2d_fast_run,
    .fast_destroy = conv2d_fast_destroy,
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
    .fast_run = conv2d_fast_run,
    .fast_destroy = conv2d_fast_destroy,
    .flops = conv2d_flops,
    .strided_output = true,
};
