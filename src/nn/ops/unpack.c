/*
 * Unpack (tf.unstack): splits a tensor along an axis into `num` tensors that drop that axis. Attributes:
 * num (the node's output count; must equal the input's size on the axis), axis (in -rank..rank-1).
 * Reference only.
 */
#include "nn/nn.h"
#include "nn/ops/const_input.h"
#include "nn/ops/copy_blocks.h"

/* More outputs than this is no pose model; capping keeps a hostile file from asking for millions. */
#define UNPACK_MAX_OUTPUTS 64

typedef struct unpack_params {
  int64_t axis; /* attr axis, as written (may be negative) */
} unpack_params;

static cpose_status unpack_parse(nn_node *node, const cJSON *attr) {
  unpack_params *p = node->params;
  int64_t num;
  cpose_status status = nn_attr_int(node, attr, "num", -1, &num);
  if (status == CPOSE_OK) status = nn_attr_int(node, attr, "axis", 0, &p->axis);
  if (status != CPOSE_OK) return status;
  if (num < 1 || num > UNPACK_MAX_OUTPUTS) {
    return nn_node_fail(node, num > UNPACK_MAX_OUTPUTS ? CPOSE_ERR_LIMIT : CPOSE_ERR_PARSE,
                        "attribute num is %lld, must be in 1..%d", (long long)num, UNPACK_MAX_OUTPUTS);
  }
  node->n_outputs = (int)num;
  return CPOSE_OK;
}

static cpose_status unpack_axis(const nn_node *node, const nn_tensor *in, int *axis) {
  const unpack_params *p = node->params;
  cpose_status status = nn_check_input_count(node, 1);
  if (status != CPOSE_OK) return status;
  status = nn_axis(node, p->axis, in[0].rank, axis);
  if (status != CPOSE_OK) return status;
  if (in[0].dims[*axis] != node->n_outputs) {
    char s[96];
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "input %s has %lld on axis %d, attribute num is %d",
                        nn_shape_string(&in[0], s, sizeof s), (long long)in[0].dims[*axis], *axis,
                        node->n_outputs);
  }
  return CPOSE_OK;
}

static cpose_status unpack_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  int axis;
  cpose_status status = unpack_axis(node, in, &axis);
  if (status != CPOSE_OK) return status;
  int64_t dims[NN_MAX_RANK];
  for (int d = 0, s = 0; d < in[0].rank; d++) {
    if (d != axis) dims[s++] = in[0].dims[d];
  }
  for (int k = 0; k < node->n_outputs; k++) {
    out[k].dtype = in[0].dtype;
    status = nn_set_shape(node, &out[k], in[0].rank - 1, dims);
    if (status != CPOSE_OK) return status;
  }
  return CPOSE_OK;
}

static cpose_status unpack_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  int axis;
  cpose_status status = unpack_axis(node, in, &axis);
  if (status != CPOSE_OK) return status;
  /* Cut at `axis`, each output is the input's rows with one block each (what follows the dropped axis). */
  nn_blocks_split(&in[0], axis, out, node->n_outputs);
  return CPOSE_OK;
}

const nn_op nn_op_unpack = {
    .type = "Unpack",
    .params_size = sizeof(unpack_params),
    .parse = unpack_parse,
    .infer = unpack_infer,
    .run = unpack_run,
};
