/* SquaredDifference: (a - b)^2 with broadcasting (float32). */
#include "nn/elementwise.h"

static float squared_difference_f32(float a, float b) {
  float d = a - b;
  return d * d;
}

static enum xnn_status squared_difference_xnn_create(xnn_operator_t *op_out) {
  return xnn_create_squared_difference_nd_f32(0, op_out);
}

static const nn_binary_kernel squared_difference_kernel = {
    .f32 = squared_difference_f32,
    .xnn_create = squared_difference_xnn_create,
    .xnn_setup = xnn_setup_squared_difference_nd_f32,
};

static cpose_status squared_difference_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_infer(node, in, out, &squared_difference_kernel);
}

static cpose_status squared_difference_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_run(node, in, out, &squared_difference_kernel);
}

static cpose_status squared_difference_fast_create(const nn_node *node, const nn_tensor *in,
                                                   const nn_tensor *out, pthreadpool_t pool,
                                                   void **state_out) {
  return nn_binary_fast_create(node, in, out, pool, state_out, &squared_difference_kernel);
}

const nn_op nn_op_squared_difference = {
    .type = "SquaredDifference",
    .infer = squared_difference_infer,
    .run = squared_difference_run,
    .fast_create = squared_difference_fast_create,
    .fast_run = nn_binary_fast_run,
    .fast_destroy = nn_binary_fast_destroy,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
