/* Mul: a * b with broadcasting (float32, int32). */
#include <math.h>

#include "nn/elementwise.h"

static float mul_f32(float a, float b) {
  return a * b;
}

static int32_t mul_i32(int32_t a, int32_t b) {
  return nn_i32_wrap((uint32_t)a * (uint32_t)b);
}

static enum xnn_status mul_xnn_create(xnn_operator_t *op_out) {
  return xnn_create_multiply_nd_f32(-INFINITY, INFINITY, 0, op_out);
}

static const nn_binary_kernel mul_kernel = {
    .f32 = mul_f32,
    .i32 = mul_i32,
    .xnn_create = mul_xnn_create,
    .xnn_setup = xnn_setup_multiply_nd_f32,
};

static cpose_status mul_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_infer(node, in, out, &mul_kernel);
}

static cpose_status mul_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_run(node, in, out, &mul_kernel);
}

static cpose_status mul_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                    pthreadpool_t pool, void **state_out) {
  return nn_binary_fast_create(node, in, out, pool, state_out, &mul_kernel);
}

const nn_op nn_op_mul = {
    .type = "Mul",
    .infer = mul_infer,
    .run = mul_run,
    .fast_create = mul_fast_create,
    .fast_run = nn_binary_fast_run,
    .fast_destroy = nn_binary_fast_destroy,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
