#ifndef CPOSE_NN_OPS_MAX_POOL_H
#define CPOSE_NN_OPS_MAX_POOL_H

#include <stdint.h>

#include "nn/nn.h"

/* node->params of MaxPool; shared with the graph fuser (fuse.c), which matches pooling windows. */
typedef struct nn_max_pool_params {
  int64_t kernel_h, kernel_w; /* ksize [1, kh, kw, 1] */
  int64_t stride_h, stride_w; /* strides [1, sh, sw, 1] */
  nn_padding padding;         /* SAME or VALID */
} nn_max_pool_params;

#endif
