/*
 * FloorDiv: floor(a / b) with broadcasting (float32, int32), rounding toward -infinity as Python's //.
 *
 * int32 division by zero gives 0. TensorFlow's C++ kernel raises "Integer division by zero" instead, but the
 * models run here come from TF.js, whose CPU backend computes Math.floor(a / 0) = +-Infinity or NaN and
 * stores it in an Int32Array, which makes it 0; an op cannot fail at run time here anyway.
 * INT32_MIN // -1 wraps to INT32_MIN (the same Int32Array store), where C's `/` would trap.
 */
#include <math.h>

#include "nn/elementwise.h"

/* TensorFlow's google_floor_div_real: float division, then floor (not the real quotient's floor). */
static float floor_div_f32(float a, float b) {
  return floorf(a / b);
}

/* TensorFlow's google_floor_div: C's truncating quotient, one less when there is a remainder and the signs
 * differ. */
static int32_t floor_div_i32(int32_t a, int32_t b) {
  if (b == 0) return 0;
  if (b == -1) return nn_i32_wrap(0u - (uint32_t)a);
  int32_t q = a / b;
  return q * b != a && (a < 0) != (b < 0) ? q - 1 : q;
}

static const nn_binary_kernel floor_div_kernel = {
    .f32 = floor_div_f32,
    .i32 = floor_div_i32,
};

static cpose_status floor_div_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_infer(node, in, out, &floor_div_kernel);
}

static cpose_status floor_div_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_run(node, in, out, &floor_div_kernel);
}

/* No fast kernel: XNNPACK has no floor division, and FloorDiv appears on small index tensors. */
const nn_op nn_op_floor_div = {
    .type = "FloorDiv",
    .infer = floor_div_infer,
    .run = floor_div_run,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
