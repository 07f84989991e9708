/*
 * Sigmoid: 1 / (1 + exp(-x)) (float32).
 *
 * XNNPACK's kernel is a polynomial approximation of exp; tests/test_ops_elementwise.c measures it against
 * this reference on [-20, 20].
 */
#include <math.h>

#include "nn/elementwise.h"

/* exp is only taken of a non-positive number: exp(-x) would overflow to infinity below x = -88.7 and flush
 * results that float32 can still hold (down to x = -103) to 0. */
static float sigmoid_f32(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

static enum xnn_status sigmoid_xnn_create(size_t channels, xnn_operator_t *op_out) {
  return xnn_create_sigmoid_nc_f32(channels, channels, channels, 0, op_out);
}

static const nn_unary_kernel sigmoid_kernel = {
    .f32 = sigmoid_f32,
    .xnn_create = sigmoid_xnn_create,
    .xnn_setup = xnn_setup_sigmoid_nc_f32,
};

static cpose_status sigmoid_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_unary_run(node, in, out, &sigmoid_kernel);
}

static cpose_status sigmoid_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                        pthreadpool_t pool, void **state_out) {
  return nn_unary_fast_create(node, in, out, pool, state_out, &sigmoid_kernel);
}

const nn_op nn_op_sigmoid = {
    .type = "Sigmoid",
    .infer = nn_unary_infer,
    .run = sigmoid_run,
    .fast_create = sigmoid_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
