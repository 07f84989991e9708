/*
 * Cast: converts between float32, int32 and bool (attributes SrcT, the input's dtype, and DstT).
 *
 * float32 -> int32 truncates toward zero. Where C leaves the conversion undefined (NaN, +-inf, beyond
 * int32) this follows TF.js, whose CPU backend stores into an Int32Array: NaN and +-inf become 0 and other
 * values wrap modulo 2^32. Anything -> bool is x != 0 (so NaN is true); bool -> anything is 0 or 1.
 */
#include <math.h>
#include <string.h>

#include "nn/elementwise.h"

typedef struct cast_params {
  bool has_src; /* SrcT is optional; when present, the input must have that dtype */
  nn_dtype src;
  nn_dtype dst;
} cast_params;

static cpose_status cast_parse(nn_node *node, const cJSON *attr) {
  cast_params *p = node->params;
  if (!attr || !cJSON_GetObjectItemCaseSensitive(attr, "DstT")) {
    return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute 'DstT' is missing");
  }
  cpose_status status = nn_attr_type(node, attr, "DstT", NN_F32, &p->dst);
  if (status != CPOSE_OK) return status;
  p->has_src = cJSON_GetObjectItemCaseSensitive(attr, "SrcT") != NULL;
  return nn_attr_type(node, attr, "SrcT", NN_F32, &p->src);
}

static cpose_status cast_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const cast_params *p = node->params;
  if (node->n_inputs != 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "needs 1 input, got %d", node->n_inputs);
  }
  if (p->has_src && in[0].dtype != p->src) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "input has dtype %s, SrcT says %s",
                        nn_dtype_name(in[0].dtype), nn_dtype_name(p->src));
  }
  cpose_status status = nn_set_shape(node, &out[0], in[0].rank, in[0].dims);
  if (status != CPOSE_OK) return status;
  out[0].dtype = p->dst;
  return CPOSE_OK;
}

/* Every float32, int32 and bool value is exact as a double, so elements travel through one. */
static double cast_load(nn_dtype dtype, const void *data, int64_t i) {
  switch (dtype) {
    case NN_F32:
      return ((const float *)data)[i];
    case NN_I32:
      return ((const int32_t *)data)[i];
    case NN_BOOL:
      return ((const uint8_t *)data)[i];
  }
  return 0.0;
}

static int32_t cast_to_i32(double x) {
  double t = trunc(x);
  if (!isfinite(t)) return 0;
  t = fmod(t, 4294967296.0); /* exact: an integer in (-2^32, 2^32) */
  if (t < 0.0) t += 4294967296.0;
  return nn_i32_wrap((uint32_t)t);
}

static void cast_store(nn_dtype dtype, void *data, int64_t i, double x) {
  switch (dtype) {
    case NN_F32:
      ((float *)data)[i] = (float)x;
      break;
    case NN_I32:
      ((int32_t *)data)[i] = cast_to_i32(x);
      break;
    case NN_BOOL:
      ((uint8_t *)data)[i] = x != 0.0;
      break;
  }
}

static cpose_status cast_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  (void)node;
  int64_t n = nn_numel(&in[0]); /* in: any shape, SrcT; out: in's shape, DstT */
  if (in[0].dtype == out[0].dtype) {
    if (n > 0 && out[0].data != in[0].data) memcpy(out[0].data, in[0].data, nn_bytes(&in[0]));
    return CPOSE_OK;
  }
  for (int64_t i = 0; i < n; i++) {
    cast_store(out[0].dtype, out[0].data, i, cast_load(in[0].dtype, in[0].data, i));
  }
  return CPOSE_OK;
}

const nn_op nn_op_cast = {
    .type = "Cast",
    .params_size = sizeof(cast_params),
    .parse = cast_parse,
    .infer = cast_infer,
    .run = cast_run,
};
