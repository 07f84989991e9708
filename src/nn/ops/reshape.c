/*
 * Reshape: the same elements in row-major order under a new shape (input 1, a constant int32 vector) in which
 * at most one size may be -1, inferred from the element count. TensorFlow's rules (reshape_op.h), zero sizes
 * included: a -1 next to a 0 takes whatever the non-zero sizes leave over.
 */
#include "nn/ops/alias.h"
#include "nn/ops/const_input.h"

static cpose_status reshape_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  cpose_status status = nn_check_input_count(node, 2);
  if (status != CPOSE_OK) return status;
  int64_t sizes[NN_MAX_RANK];
  int rank = 0;
  /* A scalar shape is TF's legacy spelling of a one-element vector. */
  status = nn_const_ints(node, in, 1, "shape", true, sizes, NN_MAX_RANK, &rank);
  if (status != CPOSE_OK) return status;

  int unknown = -1;
  bool sizes_have_zero = false;
  int64_t product = 1; /* of the known non-zero sizes */
  for (int d = 0; d < rank; d++) {
    if (sizes[d] == -1) {
      if (unknown >= 0) {
        return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "only one size may be -1, not both %d and %d",
                            unknown, d);
      }
      unknown = d;
    } else if (sizes[d] < 0) {
      return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "size %d must be non-negative, not %lld", d,
                          (long long)sizes[d]);
    } else if (sizes[d] == 0) {
      sizes_have_zero = true;
    } else {
      /* Each size is below 2^31 and the product stays below 2^28 here, so this cannot overflow. */
      product *= sizes[d];
      if (product > NN_MAX_ELEMENTS) {
        return nn_node_fail(node, CPOSE_ERR_LIMIT, "requested shape has more than %lld elements",
                            (long long)NN_MAX_ELEMENTS);
      }
    }
  }

  int64_t input_elements = nn_numel(&in[0]);
  if (unknown >= 0) {
    /* Zero input dims count only when the requested shape has no zero, as in TF: [0, 4] -> [0, -1] gives
     * [0, 4], while [0, 4] -> [-1] gives [0]. */
    int64_t counted = 1;
    bool input_has_zero = false;
    for (int d = 0; d < in[0].rank; d++) {
      if (in[0].dims[d] > 0 || !sizes_have_zero) {
        counted *= in[0].dims[d];
      } else {
        input_has_zero = true;
      }
    }
    int64_t missing = counted / product;
    if (!input_has_zero && missing * product != counted) {
      return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                          "input has %lld values, but the requested shape requires a multiple of %lld",
                          (long long)counted, (long long)product);
    }
    sizes[unknown] = missing;
  }
  int64_t output_elements = 1;
  for (int d = 0; d < rank; d++) output_elements *= sizes[d];
  if (output_elements != input_elements) {
    char shape[96];
    return nn_node_fail(
        node, CPOSE_ERR_INVALID_ARGUMENT, "input %s has %lld values, but the requested shape has %lld",
        nn_shape_string(&in[0], shape, sizeof shape), (long long)input_elements, (long long)output_elements);
  }
  out[0].dtype = in[0].dtype;
  return nn_set_shape(node, &out[0], rank, sizes);
}

const nn_op nn_op_reshape = {
    .type = "Reshape",
    .infer = reshape_infer,
    .run = nn_alias_run,
    .alias = true,
};
