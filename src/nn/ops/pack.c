/*
 * Pack (tf.stack): stacks N tensors of one shape and dtype along a new axis. Attributes: N, axis (in
 * -(rank+1)..rank of the inputs' rank). Output: the input shape with N inserted at axis. Reference only.
 */
#include "nn/nn.h"
#include "nn/ops/copy_blocks.h"

typedef struct pack_params {
  int64_t n;    /* attr N: number of inputs */
  int64_t axis; /* attr axis, as written (may be negative) */
} pack_params;

static cpose_status pack_parse(nn_node *node, const cJSON *attr) {
  pack_params *p = node->params;
  cpose_status status = nn_attr_int(node, attr, "N", node->n_inputs, &p->n);
  if (status == CPOSE_OK) status = nn_attr_int(node, attr, "axis", 0, &p->axis);
  if (status != CPOSE_OK) return status;
  if (p->n < 1) {
    return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute N is %lld, needs at least 1", (long long)p->n);
  }
  return CPOSE_OK;
}

/* The new axis in the output's coordinates (0..rank of the inputs). */
static cpose_status pack_axis(const nn_node *node, const nn_tensor *in, int *axis) {
  const pack_params *p = node->params;
  if (node->n_inputs != p->n) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "has %d inputs, attribute N says %lld",
                        node->n_inputs, (long long)p->n);
  }
  if (in[0].rank + 1 > NN_MAX_RANK) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "stacking rank-%d inputs needs rank %d, at most %d",
                        in[0].rank, in[0].rank + 1, NN_MAX_RANK);
  }
  return nn_axis(node, p->axis, in[0].rank + 1, axis);
}

static cpose_status pack_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const pack_params *p = node->params;
  int axis;
  cpose_status status = pack_axis(node, in, &axis);
  if (status != CPOSE_OK) return status;
  for (int i = 1; i < p->n; i++) {
    if (!nn_same_shape(&in[i], &in[0]) || in[i].dtype != in[0].dtype) {
      char s0[96], si[96];
      return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                          "input %d is %s %s, input 0 is %s %s: they must agree", i,
                          nn_dtype_name(in[i].dtype), nn_shape_string(&in[i], si, sizeof si),
                          nn_dtype_name(in[0].dtype), nn_shape_string(&in[0], s0, sizeof s0));
    }
  }
  int64_t dims[NN_MAX_RANK];
  for (int d = 0, s = 0; d <= in[0].rank; d++) dims[d] = d == axis ? p->n : in[0].dims[s++];
  out[0].dtype = in[0].dtype;
  return nn_set_shape(node, &out[0], in[0].rank + 1, dims);
}

static cpose_status pack_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const pack_params *p = node->params;
  int axis;
  cpose_status status = pack_axis(node, in, &axis);
  if (status != CPOSE_OK) return status;
  /* Cut at `axis`, each input is the output's rows with one block each: its dims[axis..] (the new size-1
   * axis adds nothing). */
  nn_blocks_join(in, (int)p->n, axis, &out[0]);
  return CPOSE_OK;
}

const nn_op nn_op_pack = {
    .type = "Pack",
    .params_size = sizeof(pack_params),
    .parse = pack_parse,
    .infer = pack_infer,
    .run = pack_run,
};
