/* Graph fusion: patterns of several TF nodes that one kernel computes faster, with the same arithmetic. */
#ifndef CPOSE_NN_FUSE_H
#define CPOSE_NN_FUSE_H

#include "nn/model.h"

/* The replacement nodes a fusion pass made; owned by the session. */
typedef struct nn_fusion nn_fusion;

/* Finds fusable patterns in `model` and points defs[i] of each pattern's last node at a replacement node
 * that reads the pattern's inputs directly; the pattern's inner nodes then drop out unless something else
 * needs them. defs has model->n_nodes entries, initially the model's own nodes. conv_blocks adds the
 * convolution blocks (ops/conv_block.h), which only pay with their banded fast kernel: for the fast backend
 * on a CPU that has it (nn_gemm_available). */
cpose_status nn_fuse(const cpose_model *model, bool conv_blocks, const nn_node **defs,
                     nn_fusion **fusion_out);
void nn_fusion_destroy(nn_fusion *fusion);

#endif
