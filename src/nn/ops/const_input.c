#include "nn/ops/const_input.h"

cpose_status nn_check_input_count(const nn_node *node, int expected) {
  if (node->n_inputs != expected) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "expects %d inputs, has %d", expected,
                        node->n_inputs);
  }
  return CPOSE_OK;
}

cpose_status nn_check_int32(const nn_node *node, const nn_tensor *in, int index, const char *what) {
  if (in[index].dtype != NN_I32) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "%s (input %d) must be int32, is %s", what, index,
                        nn_dtype_name(in[index].dtype));
  }
  return CPOSE_OK;
}

cpose_status nn_check_nhwc_f32(const nn_node *node, const nn_tensor *in) {
  if (in[0].dtype == NN_F32 && in[0].rank == 4) return CPOSE_OK;
  char s[96];
  return nn_node_fail(node, in[0].dtype != NN_F32 ? CPOSE_ERR_UNSUPPORTED : CPOSE_ERR_INVALID_ARGUMENT,
                      "input is %s %s, needs float32 NHWC (rank 4)", nn_dtype_name(in[0].dtype),
                      nn_shape_string(&in[0], s, sizeof s));
}

/* The checks both readers share: present as a constant, and int32. */
static cpose_status check_const_int32(const nn_node *node, const nn_tensor *in, int index, const char *what) {
  if (!in[index].data) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "%s (input %d) must be a constant", what, index);
  }
  return nn_check_int32(node, in, index, what);
}

cpose_status nn_const_ints(const nn_node *node, const nn_tensor *in, int index, const char *what,
                           bool allow_scalar, int64_t *out, int cap, int *count) {
  cpose_status status = check_const_int32(node, in, index, what);
  if (status != CPOSE_OK) return status;
  const nn_tensor *t = &in[index];
  if (t->rank != 1 && !(allow_scalar && t->rank == 0)) {
    char shape[96];
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "%s (input %d) must be a vector%s, has shape %s",
                        what, index, allow_scalar ? " or a scalar" : "",
                        nn_shape_string(t, shape, sizeof shape));
  }
  int64_t n = nn_numel(t);
  if (n > cap) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "%s (input %d) has %lld values, at most %d", what,
                        index, (long long)n, cap);
  }
  const int32_t *values = t->data;
  for (int64_t i = 0; i < n; i++) out[i] = values[i];
  *count = (int)n;
  return CPOSE_OK;
}

cpose_status nn_const_int(const nn_node *node, const nn_tensor *in, int index, const char *what,
                          bool any_shape, int64_t *out) {
  cpose_status status = check_const_int32(node, in, index, what);
  if (status != CPOSE_OK) return status;
  const nn_tensor *t = &in[index];
  if (any_shape ? nn_numel(t) != 1 : t->rank != 0) {
    char shape[96];
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "%s (input %d) must be %s, has shape %s", what,
                        index, any_shape ? "a single value" : "a scalar",
                        nn_shape_string(t, shape, sizeof shape));
  }
  *out = ((const int32_t *)t->data)[0];
  return CPOSE_OK;
}
