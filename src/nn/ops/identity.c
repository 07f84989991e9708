/* Identity: output 0 is input 0 (any dtype). The planner gives both one buffer (alias), so `run` only copies
 * when it is called on separate buffers. */
#include <string.h>

#include "nn/nn.h"

static cpose_status identity_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  if (node->n_inputs != 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "needs 1 input, got %d", node->n_inputs);
  }
  cpose_status status = nn_set_shape(node, &out[0], in[0].rank, in[0].dims);
  if (status != CPOSE_OK) return status;
  out[0].dtype = in[0].dtype;
  return CPOSE_OK;
}

static cpose_status identity_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  (void)node;
  size_t bytes = nn_bytes(&in[0]);
  if (bytes > 0 && out[0].data != in[0].data) memcpy(out[0].data, in[0].data, bytes);
  return CPOSE_OK;
}

const nn_op nn_op_identity = {
    .type = "Identity",
    .infer = identity_infer,
    .run = identity_run,
    .alias = true,
};
