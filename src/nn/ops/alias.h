/*
 * The run of ops whose output 0 is input 0's data reinterpreted under another shape (nn_op.alias: Reshape,
 * Squeeze, ExpandDims, Identity). The planner normally gives input and output one buffer and never calls
 * run; this copy is for when it does (a requested output that must not share, a test).
 */
#ifndef CPOSE_NN_OPS_ALIAS_H
#define CPOSE_NN_OPS_ALIAS_H

#include "nn/nn.h"

/* Copies nn_bytes(&out[0]) bytes from in[0] to out[0] (nothing when they are one buffer). */
cpose_status nn_alias_run(const nn_node *node, const nn_tensor *in, nn_tensor *out);

#endif
