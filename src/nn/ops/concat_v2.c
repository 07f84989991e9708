/*
 * ConcatV2: joins N tensors along one axis. Inputs: the N values (any one dtype, equal ranks, equal dims but
 * on the axis), then the axis as a constant int32 scalar (negative counts from the end). Attribute: N.
 * Both kernels are a memcpy per block; the fast one shares the rows out to the thread pool (CenterNet's
 * head joins [1,128,128,64] pairs, 8 MB a copy).
 */
#include "core/alloc.h"
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

/* Along the last axis, each row of the output is one row of every value in turn (nn_op.joined_parts). */
static int concat_joined_parts(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  const concat_params *p = node->params;
  int axis;
  if (concat_axis(node, in, &axis) != CPOSE_OK) {
    cpose_error_clear();
    return 0;
  }
  return axis == out[0].rank - 1 ? (int)p->n : 0;
}

/* The fast kernel: the final pointers and the axis, and rows shared out in tiles of about TILE_BYTES. */
#define TILE_BYTES 65536

typedef struct concat_fast {
  int n; /* values joined */
  int axis;
  nn_tensor *in; /* (n) the values (their data: the session's arena) */
  nn_tensor out; /* the whole */
  int64_t rows;  /* rows of the whole cut at axis */
  size_t tile;   /* rows per task */
} concat_fast;

static void concat_fast_destroy(void *state) {
  concat_fast *f = state;
  if (!f) return;
  cpose_free(f->in);
  cpose_free(f);
}

static cpose_status concat_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                       pthreadpool_t pool, void **state_out) {
  const concat_params *p = node->params;
  (void)pool;
  int axis;
  cpose_status status = concat_axis(node, in, &axis);
  if (status != CPOSE_OK) return status;
  concat_fast *f = cpose_calloc(1, sizeof *f);
  if (!f || !(f->in = cpose_calloc((size_t)p->n, sizeof *f->in))) {
    concat_fast_destroy(f);
    return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel");
  }
  f->n = (int)p->n;
  f->axis = axis;
  for (int i = 0; i < f->n; i++) f->in[i] = in[i];
  f->out = out[0];
  f->rows = nn_blocks_rows(&out[0], axis);
  size_t row_bytes = nn_blocks_bytes(&out[0], axis);
  f->tile = row_bytes >= TILE_BYTES ? 1 : TILE_BYTES / (row_bytes ? row_bytes : 1);
  *state_out = f;
  return CPOSE_OK;
}

static void concat_tile(void *state, size_t begin, size_t count) {
  concat_fast *f = state;
  nn_blocks_join_rows(f->in, f->n, f->axis, &f->out, (int64_t)begin, (int64_t)(begin + count));
}

static cpose_status concat_fast_run(void *state, pthreadpool_t pool) {
  concat_fast *f = state;
  pthreadpool_parallelize_1d_tile_1d(pool, concat_tile, f, (size_t)f->rows, f->tile, 0);
  return CPOSE_OK;
}

const nn_op nn_op_concat_v2 = {
    .type = "ConcatV2",
    .params_size = sizeof(concat_params),
    .parse = concat_parse,
    .infer = concat_infer,
    .run = concat_run,
    .fast_create = concat_fast_create,
    .fast_run = concat_fast_run,
    .fast_destroy = concat_fast_destroy,
    .joined_parts = concat_joined_parts,
};
