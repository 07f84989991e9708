/* The table of ops by TensorFlow type. Each op lives in its own file in this folder. */
#include <string.h>

#include "nn/nn.h"

extern const nn_op nn_op_conv2d, nn_op_fused_conv2d;
extern const nn_op nn_op_depthwise_conv2d, nn_op_fused_depthwise_conv2d;
extern const nn_op nn_op_add, nn_op_add_v2, nn_op_sub, nn_op_mul, nn_op_real_div, nn_op_squared_difference;
extern const nn_op nn_op_floor_div, nn_op_floor_mod, nn_op_equal;
extern const nn_op nn_op_relu, nn_op_relu6, nn_op_sigmoid, nn_op_sqrt, nn_op_hard_swish;
extern const nn_op nn_op_cast, nn_op_identity;
extern const nn_op nn_op_mean, nn_op_max_pool, nn_op_resize_bilinear;
extern const nn_op nn_op_concat_v2, nn_op_pack, nn_op_unpack;
extern const nn_op nn_op_reshape, nn_op_squeeze, nn_op_expand_dims, nn_op_strided_slice;
extern const nn_op nn_op_gather_v2, nn_op_gather_nd, nn_op_arg_max, nn_op_top_k_v2;

static const nn_op *const ops[] = {
    &nn_op_conv2d,        &nn_op_fused_conv2d,   &nn_op_depthwise_conv2d,
    &nn_op_fused_depthwise_conv2d,
    &nn_op_add,           &nn_op_add_v2,         &nn_op_sub,
    &nn_op_mul,           &nn_op_real_div,       &nn_op_squared_difference,
    &nn_op_floor_div,     &nn_op_floor_mod,      &nn_op_equal,
    &nn_op_relu,          &nn_op_relu6,          &nn_op_sigmoid,
    &nn_op_sqrt,          &nn_op_hard_swish,     &nn_op_cast,
    &nn_op_identity,      &nn_op_mean,           &nn_op_max_pool,
    &nn_op_resize_bilinear, &nn_op_concat_v2,    &nn_op_pack,
    &nn_op_unpack,        &nn_op_reshape,        &nn_op_squeeze,
    &nn_op_expand_dims,   &nn_op_strided_slice,  &nn_op_gather_v2,
    &nn_op_gather_nd,     &nn_op_arg_max,        &nn_op_top_k_v2,
};

const nn_op *nn_op_find(const char *type) {
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    if (strcmp(ops[i]->type, type) == 0) return ops[i];
  }
  return NULL;
}
