/*
 * GatherNd: slices of params (input 0) at the K-dim positions listed in indices (input 1, int32, [..., K]):
 *   output[i..., q...] = params[indices[i..., 0], ..., indices[i..., K-1], q...]
 * so the output shape is indices.shape[:-1] + params.shape[K:]. MoveNet picks its keypoints this way
 * (params [1, 48, 48, 34], indices [17, 3] -> [17, 34]). An index outside its dim fails the run, as on
 * TensorFlow's CPU; nothing is ever read outside params.
 */
#include <string.h>

#include "nn/ops/const_input.h"

static cpose_status gather_nd_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  cpose_status status = nn_check_input_count(node, 2);
  if (status == CPOSE_OK) status = nn_check_int32(node, in, 1, "indices");
  if (status != CPOSE_OK) return status;
  const nn_tensor *params = &in[0], *indices = &in[1];
  if (params->rank < 1) return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "params must be at least 1-D");
  if (indices->rank < 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "indices must be at least 1-D");
  }
  const int64_t k = indices->dims[indices->rank - 1];
  if (k > params->rank) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                        "indices' last dim (%lld) is longer than params' rank (%d)", (long long)k,
                        params->rank);
  }
  if (k == 0 && nn_numel(params) == 0 && nn_numel(indices) > 0) {
    /* Each index would select all of an empty params; TF rejects this. */
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "requested slices of an empty params");
  }
  int64_t dims[2 * NN_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < indices->rank - 1; d++) dims[rank++] = indices->dims[d];
  for (int d = (int)k; d < params->rank; d++) dims[rank++] = params->dims[d];
  out[0].dtype = params->dtype;
  return nn_set_shape(node, &out[0], rank, dims);
}

static cpose_status gather_nd_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_tensor *params = &in[0], *indices = &in[1];
  const int k = (int)indices->dims[indices->rank - 1]; /* <= params->rank, checked by infer */
  /* params viewed as [dims[0], ..., dims[K-1], slice]; stride[j] counts slices; n index rows of K. */
  int64_t slice = 1, stride[NN_MAX_RANK], n = 1;
  for (int d = k; d < params->rank; d++) slice *= params->dims[d];
  for (int j = k - 1; j >= 0; j--) stride[j] = j == k - 1 ? 1 : stride[j + 1] * params->dims[j + 1];
  for (int d = 0; d < indices->rank - 1; d++) n *= indices->dims[d];
  const size_t slice_bytes = (size_t)slice * nn_dtype_size(params->dtype);
  const int32_t *index = indices->data; /* [n, K] */
  const uint8_t *src = params->data;
  uint8_t *dst = out[0].data;
  for (int64_t i = 0; i < n; i++) {
    int64_t position = 0;
    for (int j = 0; j < k; j++) {
      const int32_t v = index[i * k + j];
      if (v < 0 || v >= params->dims[j]) {
        char shape[96];
        return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                            "indices[%lld][%d] = %d is outside params %s (dim %d has %lld)", (long long)i, j,
                            (int)v, nn_shape_string(params, shape, sizeof shape), j,
                            (long long)params->dims[j]);
      }
      position += v * stride[j];
    }
    memcpy(dst, src + (size_t)position * slice_bytes, slice_bytes);
    dst += slice_bytes;
  }
  return CPOSE_OK;
}

const nn_op nn_op_gather_nd = {
    .type = "GatherNd",
    .infer = gather_nd_infer,
    .run = gather_nd_run,
};
