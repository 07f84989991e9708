/*
 * _CposeHardSwish: y = (x * scale) * relu6(x + shift) (float32). Not a TensorFlow op: the graph fuser
 * (fuse.c) makes it from MobileNetV3's Mul(Mul(x, scale), Relu6(AddV2(x, shift))), with the constants in
 * nn_hard_swish_params (hard_swish.h); scale is 1/6 only up to the model's weight precision.
 */
#include "nn/ops/hard_swish.h"

#include <math.h>

#include "core/alloc.h"
#include "nn/elementwise.h"

/* A node that names the op itself (the fuser fills params directly): hard-swish's own constants. */
static cpose_status hard_swish_parse(nn_node *node, const cJSON *attr) {
  (void)attr;
  nn_hard_swish_params *p = node->params;
  p->shift = 3.0f;
  p->scale = 1.0f / 6.0f;
  return CPOSE_OK;
}

static cpose_status hard_swish_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_hard_swish_params *p = node->params;
  const float *x = in[0].data; /* any shape, float32 */
  float *y = out[0].data;      /* in's shape, float32 */
  int64_t n = nn_numel(&in[0]);
  for (int64_t i = 0; i < n; i++) {
    float r = x[i] + p->shift;
    r = r < 0.0f ? 0.0f : r > 6.0f ? 6.0f : r;
    y[i] = (x[i] * p->scale) * r; /* the graph's order, so that it rounds as the unfused nodes do */
  }
  return CPOSE_OK;
}

/* The fast kernel: XNNPACK's hardswish, x * relu6(x + 3) / 6, then an in-place multiply by 6 * scale when
 * that is not 1 (float16 weights store 1/6 as 0.16662598). It rounds differently from the graph by a few
 * ulp. A shift other than 3 takes the reference kernel. */
typedef struct hard_swish_fast {
  xnn_operator_t hardswish;
  xnn_operator_t rescale; /* NULL when 6 * scale == 1 */
  float factor;           /* 6 * scale: rescale's second input, read at each run */
} hard_swish_fast;

static void hard_swish_fast_destroy(void *state) {
  hard_swish_fast *f = state;
  if (!f) return;
  nn_xnn_delete_operator(f->hardswish);
  nn_xnn_delete_operator(f->rescale);
  cpose_free(f);
}

static cpose_status hard_swish_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                           pthreadpool_t pool, void **state_out) {
  const nn_hard_swish_params *p = node->params;
  if (in[0].dtype != NN_F32 || p->shift != 3.0f) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "no fast kernel for %s input with shift %g",
                        nn_dtype_name(in[0].dtype), p->shift);
  }
  size_t n = (size_t)nn_numel(&in[0]);
  if (n == 0) return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "input is empty");

  hard_swish_fast *f = cpose_calloc(1, sizeof *f);
  if (!f) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel");
  cpose_status status = nn_xnn_init(node);
  if (status != CPOSE_OK) goto error;
  /* one row of all n elements: XNNPACK tiles contiguous data for the pool itself */
  status = nn_xnn_check(node, xnn_create_hardswish_nc_f32(n, n, n, 0, &f->hardswish), "hardswish create");
  if (status != CPOSE_OK) goto error;
  status = nn_xnn_check(node, xnn_setup_hardswish_nc_f32(f->hardswish, 1, in[0].data, out[0].data, pool),
                        "hardswish setup");
  if (status != CPOSE_OK) goto error;
  f->factor = 6.0f * p->scale;
  if (f->factor != 1.0f) {
    const size_t all[1] = {n}, one[1] = {1};
    status = nn_xnn_check(node, xnn_create_multiply_nd_f32(-INFINITY, INFINITY, 0, &f->rescale),
                          "multiply create");
    if (status != CPOSE_OK) goto error;
    status = nn_xnn_check(
        node,
        xnn_setup_multiply_nd_f32(f->rescale, 1, all, 1, one, out[0].data, &f->factor, out[0].data, pool),
        "multiply setup");
    if (status != CPOSE_OK) goto error;
  }
  *state_out = f;
  return CPOSE_OK;

error:
  hard_swish_fast_destroy(f);
  return status;
}

static cpose_status hard_swish_fast_run(void *state, pthreadpool_t pool) {
  hard_swish_fast *f = state;
  cpose_status status = nn_xnn_run_operator(f->hardswish, pool);
  if (status == CPOSE_OK && f->rescale) status = nn_xnn_run_operator(f->rescale, pool);
  return status;
}

/* The four nodes it replaces (Add, Relu6, Mul, Mul), so that fusion does not change a model's FLOP count. */
static double hard_swish_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  return 4.0 * nn_elementwise_flops(node, in, out);
}

const nn_op nn_op_hard_swish = {
    .type = "_CposeHardSwish",
    .params_size = sizeof(nn_hard_swish_params),
    .parse = hard_swish_parse,
    .infer = nn_unary_infer,
    .run = hard_swish_run,
    .fast_create = hard_swish_fast_create,
    .fast_run = hard_swish_fast_run,
    .fast_destroy = hard_swish_fast_destroy,
    .flops = hard_swish_flops,
};
