/*
 * Cast: converts between float32, int32 and bool (attributes SrcT, the input's dtype, and DstT).
 *
 * float32 -> int32 truncates toward zero. Where C leaves the conversion undefined (NaN, +-inf, beyond
 * int32) this follows TF.js, whose CPU backend stores into an Int32Array: NaN and +-inf become 0 and other
 * values wrap modulo 2^32. Anything -> bool is x != 0 (so NaN is true); bool -> anything is 0 or 1.
 */
#include "nn/ops/cast.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/elementwise.h"

static cpose_status cast_parse(nn_node *node, const cJSON *attr) {
  nn_cast_params *p = node->params;
  if (!attr || !cJSON_GetObjectItemCaseSensitive(attr, "DstT")) {
    return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute 'DstT' is missing");
  }
  cpose_status status = nn_attr_type(node, attr, "DstT", NN_F32, &p->dst);
  if (status != CPOSE_OK) return status;
  p->has_src = cJSON_GetObjectItemCaseSensitive(attr, "SrcT") != NULL;
  return nn_attr_type(node, attr, "SrcT", NN_F32, &p->src);
}

static cpose_status cast_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_cast_params *p = node->params;
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

/* The fast kernel, for the conversions to float32 that C does exactly as the double route above rounds
 * them (int32: one rounding either way; bool: 0 or 1): plain loops the compiler vectorizes, in tiles shared
 * out to the pool. MoveNet casts its [1,256,256,3] int32 image. */
#define CAST_TILE 16384 /* elements */

typedef struct cast_fast {
  nn_dtype src;
  const void *in; /* (n) of src */
  float *out;     /* (n) */
  size_t n;
} cast_fast;

NN_SIMD_CLONES
static void cast_tile(void *state, size_t begin, size_t count) {
  const cast_fast *f = state;
  float *out = f->out + begin;
  if (f->src == NN_I32) {
    const int32_t *in = (const int32_t *)f->in + begin;
    for (size_t i = 0; i < count; i++) out[i] = (float)in[i];
  } else {
    const uint8_t *in = (const uint8_t *)f->in + begin;
    for (size_t i = 0; i < count; i++) out[i] = (float)in[i];
  }
}

static cpose_status cast_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                     pthreadpool_t pool, void **state_out) {
  (void)pool;
  if (out[0].dtype != NN_F32 || (in[0].dtype != NN_I32 && in[0].dtype != NN_BOOL)) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "no fast kernel from %s to %s",
                        nn_dtype_name(in[0].dtype), nn_dtype_name(out[0].dtype));
  }
  cast_fast *f = cpose_calloc(1, sizeof *f);
  if (!f) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel");
  f->src = in[0].dtype;
  f->in = in[0].data;
  f->out = out[0].data;
  f->n = (size_t)nn_numel(&in[0]);
  *state_out = f;
  return CPOSE_OK;
}

static cpose_status cast_fast_run(void *state, pthreadpool_t pool) {
  cast_fast *f = state;
  pthreadpool_parallelize_1d_tile_1d(pool, cast_tile, f, f->n, CAST_TILE, 0);
  return CPOSE_OK;
}

static void cast_fast_destroy(void *state) {
  cpose_free(state);
}

const nn_op nn_op_cast = {
    .type = "Cast",
    .params_size = sizeof(nn_cast_params),
    .parse = cast_parse,
    .infer = cast_infer,
    .run = cast_run,
    .fast_create = cast_fast_create,
    .fast_run = cast_fast_run,
    .fast_destroy = cast_fast_destroy,
};
