/* Relu6: min(max(x, 0), 6) (float32). NaN passes through. */
#include "nn/elementwise.h"

static float relu6_f32(float x) {
  return x < 0.0f ? 0.0f : x > 6.0f ? 6.0f : x;
}

static enum xnn_status relu6_xnn_create(size_t channels, xnn_operator_t *op_out) {
  return xnn_create_clamp_nc_f32(channels, channels, channels, 0.0f, 6.0f, 0, op_out);
}

static const nn_unary_kernel relu6_kernel = {
    .f32 = relu6_f32,
    .xnn_create = relu6_xnn_create,
    .xnn_setup = xnn_setup_clamp_nc_f32,
};

static cpose_status relu6_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_unary_run(node, in, out, &relu6_kernel);
}

static cpose_status relu6_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                      pthreadpool_t pool, void **state_out) {
  return nn_unary_fast_create(node, in, out, pool, state_out, &relu6_kernel);
}

const nn_op nn_op_relu6 = {
    .type = "Relu6",
    .infer = nn_unary_infer,
    .run = relu6_run,
    .fast_create = relu6_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
