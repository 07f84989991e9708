/*
 * _CposeHardSwish: y = (x * scale) * relu6(x + shift) (float32). Not a TensorFlow op: the graph fuser
 * (fuse.c) makes it from MobileNetV3's Mul(Mul(x, scale), Relu6(AddV2(x, shift))), with the constants in
 * nn_hard_swish_params (hard_swish.h); scale is 1/6 only up to the model's weight precision.
 */
#include "nn/ops/hard_swish.h"

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

/* The graph's arithmetic for one element, in its order, so that it rounds as the unfused nodes do; a NaN
 * stays NaN. */
static inline float hard_swish_value(float x, float shift, float scale) {
  float r = x + shift;
  r = r < 0.0f ? 0.0f : r > 6.0f ? 6.0f : r;
  return (x * scale) * r;
}

static cpose_status hard_swish_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_hard_swish_params *p = node->params;
  const float *x = in[0].data; /* any shape, float32 */
  float *y = out[0].data;      /* in's shape, float32 */
  int64_t n = nn_numel(&in[0]);
  for (int64_t i = 0; i < n; i++) y[i] = hard_swish_value(x[i], p->shift, p->scale);
  return CPOSE_OK;
}

/* The fast kernel: the same arithmetic in tiles that the pool shares out, in clones the compiler vectorizes
 * for each ISA; so it rounds exactly as the graph does. (XNNPACK's hardswish computes x * relu6(x + 3) / 6, a
 * few ulp away, and a float16 scale of 0.16662598 took a second, single-threaded pass to rescale.) */
#define HARD_SWISH_TILE 16384 /* elements */

typedef struct hard_swish_fast {
  nn_hard_swish_params p;
  const float *x; /* (n) */
  float *y;       /* (n), possibly x itself */
  size_t n;
} hard_swish_fast;

NN_SIMD_CLONES
static void hard_swish_tile(void *state, size_t begin, size_t count) {
  const hard_swish_fast *f = state;
  const float *x = f->x + begin, shift = f->p.shift, scale = f->p.scale;
  float *y = f->y + begin;
  for (size_t i = 0; i < count; i++) y[i] = hard_swish_value(x[i], shift, scale);
}

static cpose_status hard_swish_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                           pthreadpool_t pool, void **state_out) {
  (void)pool;
  if (in[0].dtype != NN_F32) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "no fast kernel for %s input",
                        nn_dtype_name(in[0].dtype));
  }
  hard_swish_fast *f = cpose_calloc(1, sizeof *f);
  if (!f) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel");
  f->p = *(const nn_hard_swish_params *)node->params;
  f->x = in[0].data;
  f->y = out[0].data;
  f->n = (size_t)nn_numel(&in[0]);
  *state_out = f;
  return CPOSE_OK;
}

static cpose_status hard_swish_fast_run(void *state, pthreadpool_t pool) {
  hard_swish_fast *f = state;
  pthreadpool_parallelize_1d_tile_1d(pool, hard_swish_tile, f, f->n, HARD_SWISH_TILE, 0);
  return CPOSE_OK;
}

static void hard_swish_fast_destroy(void *state) {
  cpose_free(state);
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
    .in_place = true,
};
