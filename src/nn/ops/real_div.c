/* RealDiv: a / b with broadcasting (float32; IEEE: x / 0 is +-inf, 0 / 0 is NaN). */
#include <math.h>

#include "nn/elementwise.h"

static float real_div_f32(float a, float b) {
  return a / b;
}

static enum xnn_status real_div_xnn_create(xnn_operator_t *op_out) {
  return xnn_create_divide_nd_f32(-INFINITY, INFINITY, 0, op_out);
}

static const nn_binary_kernel real_div_kernel = {
    .f32 = real_div_f32,
    .xnn_create = real_div_xnn_create,
    .xnn_setup = xnn_setup_divide_nd_f32,
};

static cpose_status real_div_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_infer(node, in, out, &real_div_kernel);
}

static cpose_status real_div_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_run(node, in, out, &real_div_kernel);
}

static cpose_status real_div_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                         pthreadpool_t pool, void **state_out) {
  return nn_binary_fast_create(node, in, out, pool, state_out, &real_div_kernel);
}

const nn_op nn_op_real_div = {
    .type = "RealDiv",
    .infer = real_div_infer,
    .run = real_div_run,
    .fast_create = real_div_fast_create,
    .fast_run = nn_binary_fast_run,
    .fast_destroy = nn_binary_fast_destroy,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
