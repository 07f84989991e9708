/* Sqrt: the square root (float32); negative inputs give NaN. */
#include <math.h>

#include "nn/elementwise.h"

static float sqrt_f32(float x) {
  return sqrtf(x);
}

static enum xnn_status sqrt_xnn_create(size_t channels, xnn_operator_t *op_out) {
  return xnn_create_square_root_nc_f32(channels, channels, channels, 0, op_out);
}

static const nn_unary_kernel sqrt_kernel = {
    .f32 = sqrt_f32,
    .xnn_create = sqrt_xnn_create,
    .xnn_setup = xnn_setup_square_root_nc_f32,
};

static cpose_status sqrt_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_unary_run(node, in, out, &sqrt_kernel);
}

static cpose_status sqrt_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                     pthreadpool_t pool, void **state_out) {
  return nn_unary_fast_create(node, in, out, pool, state_out, &sqrt_kernel);
}

const nn_op nn_op_sqrt = {
    .type = "Sqrt",
    .infer = nn_unary_infer,
    .run = sqrt_run,
    .fast_create = sqrt_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
