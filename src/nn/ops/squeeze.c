/*
 * Squeeze: removes dims of size 1, either those listed in squeeze_dims (negative counts from the end;
 * squeezing a dim that is not 1 is an error) or, when the list is empty, every dim of size 1.
 */
#include "nn/ops/alias.h"
#include "nn/ops/const_input.h"

/* More than enough for any rank: TF accepts repeated dims, so the list may be longer than the rank. */
#define SQUEEZE_MAX_DIMS 32

typedef struct squeeze_params {
  int n_dims;
  int64_t dims[SQUEEZE_MAX_DIMS]; /* as written in the model, possibly negative */
} squeeze_params;

static cpose_status squeeze_parse(nn_node *node, const cJSON *attr) {
  squeeze_params *p = node->params;
  return nn_attr_ints(node, attr, "squeeze_dims", p->dims, SQUEEZE_MAX_DIMS, &p->n_dims);
}

static cpose_status squeeze_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const squeeze_params *p = node->params;
  cpose_status status = nn_check_input_count(node, 1);
  if (status != CPOSE_OK) return status;
  const nn_tensor *x = &in[0];
  bool drop[NN_MAX_RANK] = {false};
  for (int i = 0; i < p->n_dims; i++) {
    int axis;
    status = nn_axis(node, p->dims[i], x->rank, &axis);
    if (status != CPOSE_OK) return status;
    if (x->dims[axis] != 1) {
      char shape[96];
      return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                          "cannot squeeze dim %d of %s: its size is %lld, not 1", axis,
                          nn_shape_string(x, shape, sizeof shape), (long long)x->dims[axis]);
    }
    drop[axis] = true;
  }
  if (p->n_dims == 0) {
    for (int d = 0; d < x->rank; d++) drop[d] = x->dims[d] == 1;
  }
  int64_t dims[NN_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < x->rank; d++) {
    if (!drop[d]) dims[rank++] = x->dims[d];
  }
  out[0].dtype = x->dtype;
  return nn_set_shape(node, &out[0], rank, dims);
}

const nn_op nn_op_squeeze = {
    .type = "Squeeze",
    .params_size = sizeof(squeeze_params),
    .parse = squeeze_parse,
    .infer = squeeze_infer,
    .run = nn_alias_run,
    .alias = true,
};
