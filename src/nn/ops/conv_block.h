#ifndef CPOSE_NN_OPS_CONV_BLOCK_H
#define CPOSE_NN_OPS_CONV_BLOCK_H

#include "nn/nn.h"

/* The parts of a "_CposeConvBlock" (conv_block.c), in the order they run. */
enum { NN_BLOCK_EXPAND, NN_BLOCK_DEPTHWISE, NN_BLOCK_PROJECT, NN_BLOCK_PARTS };

/* "_CposeConvBlock", made by fusion (fuse.c) from [1x1 convolution ->] depthwise convolution [-> 1x1
 * convolution], at least two of them, each intermediate read by the next part only. The fused node's inputs
 * are x, then each present part's inputs after its first (filter, and bias where it has one), in order. */
typedef struct nn_conv_block_params {
  const nn_node *parts[NN_BLOCK_PARTS]; /* the model's own nodes (borrowed); expand and project may be NULL */
} nn_conv_block_params;

#endif
