/*
 * ArgMax: the position of the largest value along `axis` (input 1, a constant int32 scalar), which the output
 * drops. Ties go to the first (smallest) position, as in TensorFlow. float32 or int32 input; the output is
 * int32 whether output_type asks for DT_INT32 or DT_INT64 (TF's default): we have no int64, and a position
 * in a tensor of at most NN_MAX_ELEMENTS values fits.
 */
#include <string.h>

#include "nn/ops/const_input.h"

/* output_type needs its own reader: nn_attr_type knows only the dtypes we store, and DT_INT64 is not one. */
static cpose_status arg_max_parse(nn_node *node, const cJSON *attr) {
  const cJSON *entry = attr ? cJSON_GetObjectItemCaseSensitive(attr, "output_type") : NULL;
  if (!entry) return CPOSE_OK;
  const cJSON *type = cJSON_IsObject(entry) ? cJSON_GetObjectItemCaseSensitive(entry, "type") : NULL;
  if (!cJSON_IsString(type)) {
    return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute 'output_type' is not a dtype");
  }
  if (strcmp(type->valuestring, "DT_INT32") != 0 && strcmp(type->valuestring, "DT_INT64") != 0) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "output_type %s is not supported (DT_INT32, DT_INT64)",
                        type->valuestring);
  }
  return CPOSE_OK;
}

static cpose_status arg_max_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  cpose_status status = nn_check_input_count(node, 2);
  if (status != CPOSE_OK) return status;
  const nn_tensor *x = &in[0];
  if (x->dtype != NN_F32 && x->dtype != NN_I32) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "input is %s (supported: float32, int32)",
                        nn_dtype_name(x->dtype));
  }
  int64_t axis_value;
  int axis;
  status = nn_const_int(node, in, 1, "axis", false, &axis_value);
  if (status == CPOSE_OK) status = nn_axis(node, axis_value, x->rank, &axis);
  if (status != CPOSE_OK) return status;
  if (x->dims[axis] == 0) {
    char shape[96];
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "axis %d of %s is empty", axis,
                        nn_shape_string(x, shape, sizeof shape));
  }
  int64_t dims[NN_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < x->rank; d++) {
    if (d != axis) dims[rank++] = x->dims[d];
  }
  out[0].dtype = NN_I32;
  return nn_set_shape(node, &out[0], rank, dims);
}

static cpose_status arg_max_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_tensor *x = &in[0];
  int axis;
  cpose_status status = nn_axis(node, nn_get_int(&in[1], 0), x->rank, &axis);
  if (status != CPOSE_OK) return status;
  /* x viewed as [outer, n, inner]; output [outer, inner], int32. */
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= x->dims[d];
  for (int d = axis + 1; d < x->rank; d++) inner *= x->dims[d];
  const int64_t n = x->dims[axis];
  int32_t *result = out[0].data;
  /* Row by row along the axis, every inner position at once, so that memory is read in order (MoveNet takes
   * the argmax over 4096 positions of 17 interleaved heatmaps). best[i] is the position so far; a later value
   * replaces it only when strictly larger, so ties keep the first. */
  for (int64_t o = 0; o < outer; o++) {
    int32_t *best = result + o * inner;  /* (inner) */
    const int64_t first = o * n * inner; /* row 0 of this slab */
    for (int64_t i = 0; i < inner; i++) best[i] = 0;
    for (int64_t j = 1; j < n; j++) {
      const int64_t row = first + j * inner;
      if (x->dtype == NN_F32) {
        const float *v = x->data;
        for (int64_t i = 0; i < inner; i++) {
          if (v[row + i] > v[first + best[i] * inner + i]) best[i] = (int32_t)j;
        }
      } else {
        const int32_t *v = x->data;
        for (int64_t i = 0; i < inner; i++) {
          if (v[row + i] > v[first + best[i] * inner + i]) best[i] = (int32_t)j;
        }
      }
    }
  }
  return CPOSE_OK;
}

const nn_op nn_op_arg_max = {
    .type = "ArgMax",
    .parse = arg_max_parse,
    .infer = arg_max_infer,
    .run = arg_max_run,
};
