/* Identity: output 0 is input 0 (any dtype). The planner gives both one buffer (alias), so `run` only copies
 * when it is called on separate buffers. */
#include "nn/ops/alias.h"

static cpose_status identity_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  if (node->n_inputs != 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "needs 1 input, got %d", node->n_inputs);
  }
  cpose_status status = nn_set_shape(node, &out[0], in[0].rank, in[0].dims);
  if (status != CPOSE_OK) return status;
  out[0].dtype = in[0].dtype;
  return CPOSE_OK;
}

const nn_op nn_op_identity = {
    .type = "Identity",
    .infer = identity_infer,
    .run = nn_alias_run,
    .alias = true,
};
