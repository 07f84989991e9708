#ifndef CPOSE_NN_OPS_CAST_H
#define CPOSE_NN_OPS_CAST_H

#include <stdbool.h>

#include "nn/nn.h"

/* node->params of Cast; shared with the graph fuser (fuse.c), which matches bool -> float32 casts. */
typedef struct nn_cast_params {
  bool has_src; /* SrcT is optional; when present, the input must have that dtype */
  nn_dtype src;
  nn_dtype dst;
} nn_cast_params;

#endif
