#ifndef CPOSE_NN_OPS_HARD_SWISH_H
#define CPOSE_NN_OPS_HARD_SWISH_H

/* "_CposeHardSwish", made by fusion from MobileNetV3's Mul(Mul(x, scale), Relu6(Add(x, shift))):
 * y = (x * scale) * min(max(x + shift, 0), 6), in exactly that order so that it rounds like the graph
 * (scale is 1/6 stored as float16, so it is not exactly 1/6). */
typedef struct nn_hard_swish_params {
  float shift;
  float scale;
} nn_hard_swish_params;

#endif
