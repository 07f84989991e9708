/*
 * The broadcasting engine and the drivers behind every element-wise op (see elementwise.h).
 *
 * Broadcasting is planned once per call as a short loop nest: dims of size 1 are dropped and neighbouring
 * dims merged wherever both inputs stay contiguous, so that every remaining dim is, for each input, either
 * full or broadcast (stride 0). The common cases then become one contiguous row per call or per outer index:
 * same shapes -> one row; a scalar side -> one row with stride 0; [1,H,W,C] with [C] -> H*W rows of C.
 * XNNPACK's binary operators get the merged shapes too, which also lets rank-7 and rank-8 tensors that
 * merge down to 6 dims take the fast path.
 */
#include "nn/elementwise.h"

#include <string.h>

#include "core/alloc.h"

/* ---- broadcast plan ------------------------------------------------------------------------------------ */

typedef struct broadcast_plan {
  int rank;                  /* >= 1 */
  int64_t dims[NN_MAX_RANK]; /* output dims after dropping 1s and merging */
  bool a_full[NN_MAX_RANK];  /* false: input a is broadcast (size 1) along this dim */
  bool b_full[NN_MAX_RANK];
  int64_t a_strides[NN_MAX_RANK]; /* in elements; 0 where broadcast */
  int64_t b_strides[NN_MAX_RANK];
} broadcast_plan;

/* Plans out = a (op) b; `out` holds the broadcast shape from nn_broadcast_shape and is not empty. */
static void broadcast_plan_make(const nn_tensor *a, const nn_tensor *b, const nn_tensor *out,
                                broadcast_plan *plan) {
  int rank = 0;
  for (int i = 0; i < out->rank; i++) {
    int64_t d = out->dims[i];
    if (d == 1) continue; /* contributes nothing to any index */
    int ia = i - (out->rank - a->rank), ib = i - (out->rank - b->rank);
    bool a_full = ia >= 0 && a->dims[ia] == d;
    bool b_full = ib >= 0 && b->dims[ib] == d;
    if (rank > 0 && plan->a_full[rank - 1] == a_full && plan->b_full[rank - 1] == b_full) {
      plan->dims[rank - 1] *= d; /* same pattern as the previous dim: both inputs stay contiguous across */
      continue;
    }
    plan->dims[rank] = d;
    plan->a_full[rank] = a_full;
    plan->b_full[rank] = b_full;
    rank++;
  }
  if (rank == 0) { /* one element */
    plan->dims[0] = 1;
    plan->a_full[0] = plan->b_full[0] = true;
    rank = 1;
  }
  plan->rank = rank;
  int64_t a_stride = 1, b_stride = 1;
  for (int i = rank - 1; i >= 0; i--) {
    plan->a_strides[i] = plan->a_full[i] ? a_stride : 0;
    plan->b_strides[i] = plan->b_full[i] ? b_stride : 0;
    if (plan->a_full[i]) a_stride *= plan->dims[i];
    if (plan->b_full[i]) b_stride *= plan->dims[i];
  }
}

/* ---- binary ops ---------------------------------------------------------------------------------------- */

static nn_dtype binary_output_dtype(const nn_binary_kernel *kernel, nn_dtype in, bool *supported) {
  *supported = true;
  if (in == NN_F32 && kernel->f32) return NN_F32;
  if (in == NN_F32 && kernel->compare_f32) return NN_BOOL;
  if (in == NN_I32 && kernel->i32) return NN_I32;
  if (in == NN_I32 && kernel->compare_i32) return NN_BOOL;
  *supported = false;
  return in;
}

cpose_status nn_binary_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out,
                             const nn_binary_kernel *kernel) {
  if (node->n_inputs != 2) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "needs 2 inputs, got %d", node->n_inputs);
  }
  if (in[0].dtype != in[1].dtype) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "input dtypes differ: %s and %s",
                        nn_dtype_name(in[0].dtype), nn_dtype_name(in[1].dtype));
  }
  bool supported;
  nn_dtype dtype = binary_output_dtype(kernel, in[0].dtype, &supported);
  if (!supported) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "inputs of dtype %s are not supported (supported:%s%s)",
                        nn_dtype_name(in[0].dtype), kernel->f32 || kernel->compare_f32 ? " float32" : "",
                        kernel->i32 || kernel->compare_i32 ? " int32" : "");
  }
  cpose_status status = nn_broadcast_shape(node, &in[0], &in[1], &out[0]);
  if (status != CPOSE_OK) return status;
  out[0].dtype = dtype;
  return CPOSE_OK;
}

/* out[i] = a[i * a_stride] (op) b[i * b_stride] for i < n; `dtype` is the inputs' dtype. */
static void binary_row(const nn_binary_kernel *kernel, nn_dtype dtype, int64_t n, const void *a,
                       int64_t a_stride, const void *b, int64_t b_stride, void *out) {
  if (dtype == NN_F32) {
    const float *x = a, *y = b;
    if (kernel->f32) {
      float *o = out;
      for (int64_t i = 0; i < n; i++) o[i] = kernel->f32(x[i * a_stride], y[i * b_stride]);
    } else {
      uint8_t *o = out;
      for (int64_t i = 0; i < n; i++) o[i] = kernel->compare_f32(x[i * a_stride], y[i * b_stride]);
    }
  } else {
    const int32_t *x = a, *y = b;
    if (kernel->i32) {
      int32_t *o = out;
      for (int64_t i = 0; i < n; i++) o[i] = kernel->i32(x[i * a_stride], y[i * b_stride]);
    } else {
      uint8_t *o = out;
      for (int64_t i = 0; i < n; i++) o[i] = kernel->compare_i32(x[i * a_stride], y[i * b_stride]);
    }
  }
}

cpose_status nn_binary_run(const nn_node *node, const nn_tensor *in, nn_tensor *out,
                           const nn_binary_kernel *kernel) {
  (void)node;
  int64_t total = nn_numel(&out[0]);
  if (total == 0) return CPOSE_OK;
  broadcast_plan plan;
  broadcast_plan_make(&in[0], &in[1], &out[0], &plan);

  const char *a = in[0].data, *b = in[1].data; /* any shape broadcasting to out, dtype in[0].dtype */
  char *o = out[0].data;                       /* out's shape, dtype out[0].dtype */
  size_t in_size = nn_dtype_size(in[0].dtype), out_size = nn_dtype_size(out[0].dtype);
  int inner = plan.rank - 1;
  int64_t row = plan.dims[inner], rows = total / row;
  int64_t index[NN_MAX_RANK] = {0};
  int64_t a_offset = 0, b_offset = 0; /* elements, for the current row */
  for (int64_t r = 0; r < rows; r++) {
    binary_row(kernel, in[0].dtype, row, a + a_offset * (int64_t)in_size, plan.a_strides[inner],
               b + b_offset * (int64_t)in_size, plan.b_strides[inner], o + r * row * (int64_t)out_size);
    for (int d = inner - 1; d >= 0; d--) { /* next outer index, odometer style */
      a_offset += plan.a_strides[d];
      b_offset += plan.b_strides[d];
      if (++index[d] < plan.dims[d]) break;
      a_offset -= plan.a_strides[d] * plan.dims[d];
      b_offset -= plan.b_strides[d] * plan.dims[d];
      index[d] = 0;
    }
  }
  return CPOSE_OK;
}

/*
 * The fast state of a binary op: XNNPACK operators set up on the final pointers. XNNPACK runs a binary
 * operator as one call per row of its innermost (merged) dim, spread over the pool by rows, so two kinds of
 * shape get help:
 *  - a short broadcast row (x [R, C] op y [C], C small: MoveNet's per-channel normalization of its image)
 *    would be R calls of C elements: y is repeated `repeat` times into `tiled`, refreshed at each run as y
 *    may change, and the operator sees R / repeat rows of C * repeat;
 *  - any other shape is cut along its outermost dim into `count` slices with an operator each, which the
 *    pool runs side by side: a flat tensor (equal shapes, or a scalar side) is one row, one call, one thread
 *    otherwise, and rows of a few hundred elements spread over the pool one task each cost more than they
 *    share.
 */
#define BINARY_MIN_ROW 64  /* elements: shorter broadcast rows are repeated up to at least this */
#define BINARY_SLICE 16384 /* elements per slice */

typedef struct binary_fast {
  int count;           /* operators */
  xnn_operator_t *ops; /* (count) */
  const float *row;    /* the short broadcast row, (row_size), or NULL */
  size_t row_size;
  size_t repeat;
  float *tiled; /* (row_size * repeat) */
} binary_fast;

void nn_binary_fast_destroy(void *state) {
  binary_fast *f = state;
  if (!f) return;
  for (int i = 0; f->ops && i < f->count; i++) nn_xnn_delete_operator(f->ops[i]);
  cpose_free(f->ops);
  cpose_free_aligned(f->tiled);
  cpose_free(f);
}

static cpose_status binary_operator(const nn_node *node, const nn_binary_kernel *kernel, int rank,
                                    const size_t *a_dims, const size_t *b_dims, const float *a,
                                    const float *b, float *out, pthreadpool_t pool, xnn_operator_t *op_out) {
  cpose_status status = nn_xnn_check(node, kernel->xnn_create(op_out), "create");
  if (status != CPOSE_OK) return status;
  return nn_xnn_check(
      node, kernel->xnn_setup(*op_out, (size_t)rank, a_dims, (size_t)rank, b_dims, a, b, out, pool), "setup");
}

/* The repeat count that makes a broadcast row of `row` elements at least BINARY_MIN_ROW long while dividing
 * the `rows` it is broadcast over; 1 when none does. */
static int64_t row_repeat(int64_t row, int64_t rows) {
  for (int64_t k = 2; k <= rows && k * row <= 4 * BINARY_MIN_ROW; k++) {
    if (rows % k == 0 && k * row >= BINARY_MIN_ROW) return k;
  }
  return 1;
}

/* Which input (0 or 1) is a single short row broadcast over all the rest, with the other input full; -1 when
 * none. The plan has rank >= 2 and merged dims, so such an input is full on the last dim only. */
static int short_row_side(const broadcast_plan *plan) {
  int last = plan->rank - 1;
  if (plan->rank < 2 || plan->dims[last] >= BINARY_MIN_ROW) return -1;
  for (int side = 0; side < 2; side++) {
    const bool *row = side ? plan->b_full : plan->a_full, *other = side ? plan->a_full : plan->b_full;
    bool is_row = row[last], other_full = true;
    for (int d = 0; d < last; d++) is_row = is_row && !row[d];
    for (int d = 0; d <= last; d++) other_full = other_full && other[d];
    if (is_row && other_full) return side;
  }
  return -1;
}

/* The tiled case: both inputs seen as rows `repeat` times longer, the broadcast side reading f->tiled. */
static cpose_status create_tiled(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                 pthreadpool_t pool, const nn_binary_kernel *kernel,
                                 const broadcast_plan *plan, int side, int64_t repeat, binary_fast *f) {
  int64_t row = plan->dims[plan->rank - 1], rows = nn_numel(&out[0]) / row;
  f->row = in[side].data;
  f->row_size = (size_t)row;
  f->repeat = (size_t)repeat;
  f->tiled = cpose_malloc_aligned((size_t)(row * repeat) * sizeof(float) + NN_TENSOR_SLACK);
  f->ops = cpose_calloc(1, sizeof *f->ops);
  if (!f->tiled || !f->ops) {
    return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel");
  }
  f->count = 1;
  const size_t full[2] = {(size_t)(rows / repeat), (size_t)(row * repeat)}, tile[2] = {1, full[1]};
  const float *a = side == 0 ? f->tiled : in[0].data, *b = side == 1 ? f->tiled : in[1].data;
  return binary_operator(node, kernel, 2, side == 0 ? tile : full, side == 1 ? tile : full, a, b, out[0].data,
                         pool, &f->ops[0]);
}

/* The other cases: the output cut along its outermost (merged) dim into slices of about BINARY_SLICE
 * elements, each its own operator on the calling thread, which the pool runs side by side (a side that is
 * broadcast along that dim stays whole). Measured on CenterNet's squeeze-excite products (rows of 128
 * elements): one operator on the pool, a task per row, took 2.2x the time of one thread. */
static cpose_status create_sliced(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                  pthreadpool_t pool, const nn_binary_kernel *kernel,
                                  const broadcast_plan *plan, binary_fast *f) {
  int64_t n = plan->dims[0], total = nn_numel(&out[0]);
  int64_t count = pool ? (total + BINARY_SLICE - 1) / BINARY_SLICE : 1;
  count = count < n ? count : n;
  f->ops = cpose_calloc((size_t)count, sizeof *f->ops);
  if (!f->ops) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel");
  f->count = (int)count;
  size_t a_dims[XNN_MAX_TENSOR_DIMS], b_dims[XNN_MAX_TENSOR_DIMS];
  int64_t a_inner = 1, b_inner = 1; /* elements of one step along dim 0 */
  for (int d = 0; d < plan->rank; d++) {
    a_dims[d] = plan->a_full[d] ? (size_t)plan->dims[d] : 1;
    b_dims[d] = plan->b_full[d] ? (size_t)plan->dims[d] : 1;
    if (d > 0) a_inner *= (int64_t)a_dims[d], b_inner *= (int64_t)b_dims[d];
  }
  for (int64_t i = 0; i < count; i++) {
    int64_t begin = n * i / count, size = n * (i + 1) / count - begin;
    if (plan->a_full[0]) a_dims[0] = (size_t)size;
    if (plan->b_full[0]) b_dims[0] = (size_t)size;
    const float *a = (const float *)in[0].data + (plan->a_full[0] ? begin * a_inner : 0);
    const float *b = (const float *)in[1].data + (plan->b_full[0] ? begin * b_inner : 0);
    cpose_status status = binary_operator(node, kernel, plan->rank, a_dims, b_dims, a, b,
                                          (float *)out[0].data + begin * (total / n), NULL, &f->ops[i]);
    if (status != CPOSE_OK) return status;
  }
  return CPOSE_OK;
}

static cpose_status create_operators(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                     pthreadpool_t pool, const nn_binary_kernel *kernel,
                                     const broadcast_plan *plan, binary_fast *f) {
  int side = short_row_side(plan);
  if (side >= 0) {
    int64_t row = plan->dims[plan->rank - 1], repeat = row_repeat(row, nn_numel(&out[0]) / row);
    if (repeat > 1) return create_tiled(node, in, out, pool, kernel, plan, side, repeat, f);
  }
  return create_sliced(node, in, out, pool, kernel, plan, f);
}

cpose_status nn_binary_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                   pthreadpool_t pool, void **state_out, const nn_binary_kernel *kernel) {
  if (!kernel->xnn_create || in[0].dtype != NN_F32 || out[0].dtype != NN_F32) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "no fast kernel for %s inputs",
                        nn_dtype_name(in[0].dtype));
  }
  if (nn_numel(&out[0]) == 0) return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "output is empty");
  broadcast_plan plan;
  broadcast_plan_make(&in[0], &in[1], &out[0], &plan);
  if (plan.rank > XNN_MAX_TENSOR_DIMS) {
    char shape[96];
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED,
                        "output %s needs %d dims after merging, XNNPACK takes %d",
                        nn_shape_string(&out[0], shape, sizeof shape), plan.rank, XNN_MAX_TENSOR_DIMS);
  }
  binary_fast *f = cpose_calloc(1, sizeof *f);
  if (!f) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel");
  cpose_status status = nn_xnn_init(node);
  if (status == CPOSE_OK) status = create_operators(node, in, out, pool, kernel, &plan, f);
  if (status != CPOSE_OK) {
    nn_binary_fast_destroy(f);
    return status;
  }
  *state_out = f;
  return CPOSE_OK;
}

static void run_slice(void *state, size_t i) {
  binary_fast *f = state;
  xnn_run_operator(f->ops[i], NULL); /* cannot fail: set up at creation */
}

cpose_status nn_binary_fast_run(void *state, pthreadpool_t pool) {
  binary_fast *f = state;
  for (size_t r = 0; f->row && r < f->repeat; r++) {
    memcpy(f->tiled + r * f->row_size, f->row, f->row_size * sizeof(float));
  }
  if (f->row) return nn_xnn_run_operator(f->ops[0], pool); /* tiled: one operator, rows over the pool */
  pthreadpool_parallelize_1d(pool, run_slice, f, (size_t)f->count, 0);
  return CPOSE_OK;
}

/* ---- unary ops ----------------------------------------------------------------------------------------- */

cpose_status nn_unary_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  if (node->n_inputs != 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "needs 1 input, got %d", node->n_inputs);
  }
  if (in[0].dtype != NN_F32) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED,
                        "input of dtype %s is not supported (supported: float32)",
                        nn_dtype_name(in[0].dtype));
  }
  cpose_status status = nn_set_shape(node, &out[0], in[0].rank, in[0].dims);
  if (status != CPOSE_OK) return status;
  out[0].dtype = NN_F32;
  return CPOSE_OK;
}

cpose_status nn_unary_run(const nn_node *node, const nn_tensor *in, nn_tensor *out,
                          const nn_unary_kernel *kernel) {
  (void)node;
  const float *x = in[0].data; /* any shape, float32 */
  float *y = out[0].data;      /* in's shape, float32 */
  int64_t n = nn_numel(&in[0]);
  for (int64_t i = 0; i < n; i++) y[i] = kernel->f32(x[i]);
  return CPOSE_OK;
}

cpose_status nn_unary_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                  pthreadpool_t pool, void **state_out, const nn_unary_kernel *kernel) {
  if (!kernel->xnn_create || in[0].dtype != NN_F32) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "no fast kernel for %s inputs",
                        nn_dtype_name(in[0].dtype));
  }
  int64_t n = nn_numel(&in[0]);
  if (n == 0) return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "input is empty");

  /* One row of all elements: XNNPACK splits contiguous data into its own tiles for the thread pool. */
  xnn_operator_t op = NULL;
  cpose_status status = nn_xnn_init(node);
  if (status != CPOSE_OK) goto error;
  status = nn_xnn_check(node, kernel->xnn_create((size_t)n, &op), "create");
  if (status != CPOSE_OK) goto error;
  status = nn_xnn_check(node, kernel->xnn_setup(op, 1, in[0].data, out[0].data, pool), "setup");
  if (status != CPOSE_OK) goto error;
  *state_out = op;
  return CPOSE_OK;

error:
  nn_xnn_delete_operator(op);
  return status;
}

double nn_elementwise_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  (void)node;
  return in[0].dtype == NN_F32 ? (double)nn_numel(&out[0]) : 0.0;
}
