/*
 * ConcatV2: joins N tensors along one axis. Inputs: the N values (any one dtype, equal ranks, equal dims but
 * on the axis), then the axis as a constant int32 scalar (negative counts from the end). Attribute: N.
 * Reference only: it is a memcpy per block, which XNNPACK would not make faster.
 */
#include "nn/nn.h"
#include "nn/ops/const_input.h"
#include "nn/ops/copy_blocks.h"

typedef struct concat_params {
  int64_t n; /* attr N: number of values; the axis is input N */
} concat_params;

static cpose_status concat_parse(nn_node *node, const cJSON *attr) {
  concat_params *p = node->params;
  cpose_status status = nn_attr_int(node, attr, "N", -1, &p->n);
  if (status != CPOSE_OK) return status;
  if (p->n == -1) p->n = node->n_inputs - 1; /* absent: every input but the last is a value */
  if (p->n < 1) {
    return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute N is %lld, needs at least 1", (long long)p->n);
  }
  return CPOSE_OK;
}

/* The normalized concat axis, read from the constant last input. */
static cpose_status concat_axis(const nn_node *node, const nn_tensor *in, int *axis) {
  const concat_params *p = node->params;
  if (node->n_inputs != p->n + 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                        "has %d inputs, N = %lld needs %lld (the values, then the axis)", node->n_inputs,
                        (long long)p->n, (long long)p->n + 1);
  }
  int64_t value;
  cpose_status status = nn_const_int(node, in, (int)p->n, "axis", false, &value);
  if (status != CPOSE_OK) return status;
  if (in[0].rank == 0) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "cannot concatenate scalars (Pack stacks them)");
  }
  return nn_axis(node, value, in[0].rank, axis);
}

static cpose_status concat_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const concat_params *p = node->params;
  int axis;
  cpose_status status = concat_axis(node, in, &axis);
  if (status != CPOSE_OK) return status;
  int64_t dims[NN_MAX_RANK];
  for (int d = 0; d < in[0].rank; d++) dims[d] = in[0].dims[d];
  dims[axis] = 0;
  for (int i = 0; i < p->n; i++) {
    bool match = in[i].rank == in[0].rank;
    for (int d = 0; match && d < in[0].rank; d++) match = d == axis || in[i].dims[d] == in[0].dims[d];
    if (!match || in[i].dtype != in[0].dtype) {
      char s0[96], si[96];
      return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                          "input %d is %s %s, input 0 is %s %s: they must agree but on axis %d", i,
                          nn_dtype_name(in[i].dtype), nn_shape_string(&in[i], si, sizeof si),
                          nn_dtype_name(in[0].dtype), nn_shape_string(&in[0], s0, sizeof s0), axis);
    }
    dims[axis] += in[i].dims[axis]; /* each at most NN_MAX_ELEMENTS: no overflow for any int count */
  }
  out[0].dtype = in[0].dtype;
  return nn_set_shape(node, &out[0], in[0].rank, dims);
}

static cpose_status concat_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const concat_params *p = node->params;
  int axis;
  cpose_status status = concat_axis(node, in, &axis);
  if (status != CPOSE_OK) return status;
  nn_blocks_join(in, (int)p->n, axis, &out[0]);
  return CPOSE_OK;
}

const nn_op nn_op_concat_v2 = {
    .type = "ConcatV2",
    .params_size = sizeof(concat_params),
    .parse = concat_parse,
    .infer = concat_infer,
    .run = concat_run,
};
