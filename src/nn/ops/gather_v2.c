/*
 * GatherV2: slices of params (input 0) along `axis` (input 2, a constant int32 scalar, -rank..rank-1) at the
 * positions in indices (input 1, int32, any shape):
 *   output[p..., i..., q...] = params[p..., indices[i...], q...]
 * so the output shape is params.shape[:axis] + indices.shape + params.shape[axis+1:]. Only batch_dims 0.
 * An index outside 0..params.shape[axis]-1 fails the run, as on TensorFlow's CPU (its GPU writes zeros).
 */
#include <string.h>

#include "nn/ops/const_input.h"

typedef struct gather_v2_params {
  int64_t batch_dims;
} gather_v2_params;

static cpose_status gather_v2_parse(nn_node *node, const cJSON *attr) {
  gather_v2_params *p = node->params;
  return nn_attr_int(node, attr, "batch_dims", 0, &p->batch_dims);
}

static cpose_status gather_v2_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const gather_v2_params *p = node->params;
  cpose_status status = nn_check_input_count(node, 3);
  if (status == CPOSE_OK) status = nn_check_int32(node, in, 1, "indices");
  if (status != CPOSE_OK) return status;
  const nn_tensor *params = &in[0], *indices = &in[1];
  /* TF counts a negative batch_dims from the end of indices' dims. */
  int64_t batch_dims = p->batch_dims < 0 ? p->batch_dims + indices->rank : p->batch_dims;
  if (batch_dims != 0) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "batch_dims %lld is not supported (only 0)",
                        (long long)p->batch_dims);
  }
  if (params->rank < 1) return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "params must be at least 1-D");
  int64_t axis_value;
  int axis;
  status = nn_const_int(node, in, 2, "axis", false, &axis_value);
  if (status == CPOSE_OK) status = nn_axis(node, axis_value, params->rank, &axis);
  if (status != CPOSE_OK) return status;

  int64_t dims[2 * NN_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < axis; d++) dims[rank++] = params->dims[d];
  for (int d = 0; d < indices->rank; d++) dims[rank++] = indices->dims[d];
  for (int d = axis + 1; d < params->rank; d++) dims[rank++] = params->dims[d];
  out[0].dtype = params->dtype;
  return nn_set_shape(node, &out[0], rank, dims);
}

static cpose_status gather_v2_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_tensor *params = &in[0], *indices = &in[1];
  int axis;
  cpose_status status = nn_axis(node, nn_get_int(&in[2], 0), params->rank, &axis);
  if (status != CPOSE_OK) return status;
  /* params viewed as [outer, limit, inner], output as [outer, n, inner]. */
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= params->dims[d];
  for (int d = axis + 1; d < params->rank; d++) inner *= params->dims[d];
  const int64_t limit = params->dims[axis], n = nn_numel(indices);
  const size_t row_bytes = (size_t)inner * nn_dtype_size(params->dtype);
  const int32_t *index = indices->data;
  for (int64_t i = 0; i < n; i++) {
    if (index[i] < 0 || index[i] >= limit) {
      return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                          "indices[%lld] = %d is not in [0, %lld) (axis %d)", (long long)i, (int)index[i],
                          (long long)limit, axis);
    }
  }
  const uint8_t *src = params->data;
  uint8_t *dst = out[0].data;
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < n; i++) {
      memcpy(dst, src + (size_t)(o * limit + index[i]) * row_bytes, row_bytes);
      dst += row_bytes;
    }
  }
  return CPOSE_OK;
}

const nn_op nn_op_gather_v2 = {
    .type = "GatherV2",
    .params_size = sizeof(gather_v2_params),
    .parse = gather_v2_parse,
    .infer = gather_v2_infer,
    .run = gather_v2_run,
};
