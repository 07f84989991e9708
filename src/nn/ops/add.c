/* Add and AddV2: a + b with broadcasting (float32, int32). TensorFlow keeps both names for one operation;
 * AddV2 only drops the string support that Add had. */
#include <math.h>

#include "nn/elementwise.h"

static float add_f32(float a, float b) {
  return a + b;
}

static int32_t add_i32(int32_t a, int32_t b) {
  return nn_i32_wrap((uint32_t)a + (uint32_t)b);
}

static enum xnn_status add_xnn_create(xnn_operator_t *op_out) {
  return xnn_create_add_nd_f32(-INFINITY, INFINITY, 0, op_out);
}

static const nn_binary_kernel add_kernel = {
    .f32 = add_f32,
    .i32 = add_i32,
    .xnn_create = add_xnn_create,
    .xnn_setup = xnn_setup_add_nd_f32,
};

static cpose_status add_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_infer(node, in, out, &add_kernel);
}

static cpose_status add_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_run(node, in, out, &add_kernel);
}

static cpose_status add_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                    pthreadpool_t pool, void **state_out) {
  return nn_binary_fast_create(node, in, out, pool, state_out, &add_kernel);
}

const nn_op nn_op_add = {
    .type = "Add",
    .infer = add_infer,
    .run = add_run,
    .fast_create = add_fast_create,
    .fast_run = nn_binary_fast_run,
    .fast_destroy = nn_binary_fast_destroy,
    .flops = nn_elementwise_flops,
    .in_place = true,
};

const nn_op nn_op_add_v2 = {
    .type = "AddV2",
    .infer = add_infer,
    .run = add_run,
    .fast_create = add_fast_create,
    .fast_run = nn_binary_fast_run,
    .fast_destroy = nn_binary_fast_destroy,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
