#include "nn/ops/alias.h"

#include <string.h>

cpose_status nn_alias_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  (void)node;
  if (out[0].data != in[0].data) memmove(out[0].data, in[0].data, nn_bytes(&out[0]));
  return CPOSE_OK;
}
