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
  size_t a_dims[XNN_MAX_TENSOR_DIMS], b_dims[XNN_MAX_TENSOR_DIMS];
  for (int i = 0; i < plan.rank; i++) {
    a_dims[i] = plan.a_full[i] ? (size_t)plan.dims[i] : 1;
    b_dims[i] = plan.b_full[i] ? (size_t)plan.dims[i] : 1;
  }

  xnn_operator_t op = NULL;
  cpose_status status = nn_xnn_init(node);
  if (status != CPOSE_OK) goto error;
  status = nn_xnn_check(node, kernel->xnn_create(&op), "create");
  if (status != CPOSE_OK) goto error;
  status = nn_xnn_check(node,
                        kernel->xnn_setup(op, (size_t)plan.rank, a_dims, (size_t)plan.rank, b_dims,
                                          in[0].data, in[1].data, out[0].data, pool),
                        "setup");
  if (status != CPOSE_OK) goto error;
  *state_out = op;
  return CPOSE_OK;

error:
  nn_xnn_delete_operator(op);
  return status;
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
