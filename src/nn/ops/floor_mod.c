/*
 * FloorMod: the remainder of FloorDiv, with the sign of the divisor as Python's % (float32, int32):
 * -7 mod 2 = 1, 7 mod -2 = -1.
 *
 * int32 modulo zero gives 0 (TF.js's CPU backend computes NaN and stores it in an Int32Array; TensorFlow's
 * C++ kernel raises an error). float32 modulo zero is NaN, as in both.
 */
#include <math.h>

#include "nn/elementwise.h"

/* TensorFlow's google_floor_fmod: the truncated remainder, moved into the divisor's sign when it is not. */
static float floor_mod_f32(float a, float b) {
  float r = fmodf(a, b);
  return r != 0.0f && (b < 0.0f) != (r < 0.0f) ? r + b : r;
}

/* TensorFlow's google_floor_mod, the same rule on C's remainder. b == -1 is answered up front because
 * INT32_MIN % -1 traps on x86. */
static int32_t floor_mod_i32(int32_t a, int32_t b) {
  if (b == 0 || b == -1) return 0;
  int32_t r = a % b;
  return r != 0 && (b < 0) != (r < 0) ? r + b : r;
}

static const nn_binary_kernel floor_mod_kernel = {
    .f32 = floor_mod_f32,
    .i32 = floor_mod_i32,
};

static cpose_status floor_mod_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_infer(node, in, out, &floor_mod_kernel);
}

static cpose_status floor_mod_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  return nn_binary_run(node, in, out, &floor_mod_kernel);
}

/* No fast kernel: XNNPACK has no modulo, and FloorMod appears on small index tensors. */
const nn_op nn_op_floor_mod = {
    .type = "FloorMod",
    .infer = floor_mod_infer,
    .run = floor_mod_run,
    .flops = nn_elementwise_flops,
    .in_place = true,
};
