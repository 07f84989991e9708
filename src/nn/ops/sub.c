/* Sub: a - b with broadcasting (float32, int32). */
#include <math.h>

#include "nn/elementwise.h"

static float sub_f32(float a, float b) {
  return a - b;
}

static int32_t sub_i32(int32_t a, int32_t b) {
  return nn_i32_wrap((uint32_t)a - (uint32_t)b);
}

static enum xnn_status sub_xnn_create(xnn_operator_t *op_out) {
  return xnn_create_subtract_nd_f32(-INFINITY, INFINITY, 0, op_out);
}

static const nn_binary_kernel sub_kernel = {
    .f32 = sub_f32,
    .i32 = sub_i32,
    .xnn_create = sub_xnn_create,
    .xnn_setup = xnn_setup_subtract_nd_f32,
};

static cpose_status sub_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_infer(node, in, out, &sub_kernel);
}

static cpose_status sub_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_run(node, in, out, &sub_kernel);
}

static cpose_status sub_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                    pthreadpool_t pool, void **state_out) {
  return nn_binary_fast_create(node, in, out, pool, state_out, &sub_kernel);
}

const nn_op nn_op_sub = {
    .type = "Sub",
    .infer = sub_infer,
    .run = sub_run,
    .fast_create = sub_fast_create,
    .fast_run = nn_binary_fast_run,
    .fast_destroy = nn_binary_fast_destroy,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
