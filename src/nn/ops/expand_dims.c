/*
 * ExpandDims: inserts a dim of size 1 at `axis` (input 1, a constant int32 with one value) in
 * -rank-1 .. rank; a negative axis counts from the end of the output shape.
 */
#include "nn/ops/alias.h"
#include "nn/ops/const_input.h"

static cpose_status expand_dims_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  cpose_status status = nn_check_input_count(node, 2);
  if (status != CPOSE_OK) return status;
  int64_t axis;
  status = nn_const_int(node, in, 1, "axis", true, &axis);
  if (status != CPOSE_OK) return status;
  const nn_tensor *x = &in[0];
  if (axis < -x->rank - 1 || axis > x->rank) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "axis %lld is outside %d..%d for a rank %d input",
                        (long long)axis, -x->rank - 1, x->rank, x->rank);
  }
  if (x->rank + 1 > NN_MAX_RANK) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "output rank %d is above %d", x->rank + 1, NN_MAX_RANK);
  }
  int at = (int)(axis < 0 ? axis + x->rank + 1 : axis);
  int64_t dims[NN_MAX_RANK];
  for (int d = 0, s = 0; d <= x->rank; d++) dims[d] = d == at ? 1 : x->dims[s++];
  out[0].dtype = x->dtype;
  return nn_set_shape(node, &out[0], x->rank + 1, dims);
}

const nn_op nn_op_expand_dims = {
    .type = "ExpandDims",
    .infer = expand_dims_infer,
    .run = nn_alias_run,
    .alias = true,
};
