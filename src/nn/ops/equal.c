/* Equal: a == b with broadcasting (float32, int32), output bool. IEEE comparison: NaN equals nothing, and
 * -0 equals +0. */
#include "nn/elementwise.h"

static bool equal_f32(float a, float b) {
  return a == b;
}

static bool equal_i32(int32_t a, int32_t b) {
  return a == b;
}

static const nn_binary_kernel equal_kernel = {
    .compare_f32 = equal_f32,
    .compare_i32 = equal_i32,
};

static cpose_status equal_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_infer(node, in, out, &equal_kernel);
}

static cpose_status equal_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_run(node, in, out, &equal_kernel);
}

/* No fast kernel: XNNPACK has no comparisons. */
const nn_op nn_op_equal = {
    .type = "Equal",
    .infer = equal_infer,
    .run = equal_run,
    .flops = nn_elementwise_flops,
};
