/*
 * Mean: the average over some axes. Inputs: the values (float32, any rank) and the axes, a constant int32
 * scalar or vector of at most NN_MAX_RANK entries (negative counts from the end; repeats are allowed, as in
 * TF). Attribute: keep_dims (reduced axes stay as size 1). An empty reduction (a reduced axis of size 0)
 * gives NaN, 0 / 0, as in TF.
 *
 * Reference: sums in float in the input's order, then divides by the count. Fast: the global average
 * pooling of MobileNetV3's squeeze-excite blocks, axes {1, 2} of NHWC, is XNNPACK's global average pooling
 * (N rows of H*W pixels of C channels); other reductions run the reference.
 */
#include <math.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/ops/const_input.h"
#include "nn/xnn.h"

typedef struct mean_params {
  bool keep_dims;
} mean_params;

static cpose_status mean_parse(nn_node *node, const cJSON *attr) {
  mean_params *p = node->params;
  return nn_attr_bool(node, attr, "keep_dims", false, &p->keep_dims);
}

/* Reads the constant axes (input 1) into reduced[d] for each dim d of the input. */
static cpose_status mean_axes(const nn_node *node, const nn_tensor *in, bool reduced[NN_MAX_RANK]) {
  cpose_status status = nn_check_input_count(node, 2);
  if (status != CPOSE_OK) return status;
  if (in[0].dtype != NN_F32) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "input is %s, only float32 is supported",
                        nn_dtype_name(in[0].dtype));
  }
  int64_t axes[NN_MAX_RANK];
  int n = 0;
  status = nn_const_ints(node, in, 1, "axes", true, axes, NN_MAX_RANK, &n);
  if (status != CPOSE_OK) return status;
  for (int d = 0; d < NN_MAX_RANK; d++) reduced[d] = false;
  for (int i = 0; i < n; i++) {
    int axis;
    status = nn_axis(node, axes[i], in[0].rank, &axis);
    if (status != CPOSE_OK) return status;
    reduced[axis] = true;
  }
  return CPOSE_OK;
}

static cpose_status mean_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const mean_params *p = node->params;
  bool reduced[NN_MAX_RANK];
  cpose_status status = mean_axes(node, in, reduced);
  if (status != CPOSE_OK) return status;
  int64_t dims[NN_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < in[0].rank; d++) {
    if (!reduced[d]) {
      dims[rank++] = in[0].dims[d];
    } else if (p->keep_dims) {
      dims[rank++] = 1;
    }
  }
  out[0].dtype = NN_F32;
  return nn_set_shape(node, &out[0], rank, dims);
}

static cpose_status mean_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  bool reduced[NN_MAX_RANK];
  cpose_status status = mean_axes(node, in, reduced);
  if (status != CPOSE_OK) return status;
  const float *x = in[0].data; /* the input's shape, float32 */
  float *y = out[0].data;      /* the input's shape without (or with 1 on) the reduced axes, float32 */
  int rank = in[0].rank;
  int64_t n_in = nn_numel(&in[0]), n_out = nn_numel(&out[0]);
  int64_t count = 1; /* elements summed into each output */
  for (int d = 0; d < rank; d++) {
    if (reduced[d]) count *= in[0].dims[d];
  }
  if (count == 1) { /* nothing to reduce: TF copies (an add to 0.0f would turn -0.0f into +0.0f) */
    if (n_in > 0) memcpy(y, x, (size_t)n_in * sizeof(float));
    return CPOSE_OK;
  }
  for (int64_t i = 0; i < n_out; i++) y[i] = 0.0f;

  /* Walk the input in order with an odometer over its dims; out_step[d] is how far the output index moves
   * when input dim d steps (0 for reduced dims), so each output sums its inputs in the input's order. */
  int64_t out_step[NN_MAX_RANK], index[NN_MAX_RANK];
  int64_t step = 1;
  for (int d = rank - 1; d >= 0; d--) {
    out_step[d] = reduced[d] ? 0 : step;
    if (!reduced[d]) step *= in[0].dims[d];
    index[d] = 0;
  }
  if (n_in > 0) {
    /* The last dim is the inner loop; the odometer carries over the others. A scalar input has count 1. */
    int64_t inner = in[0].dims[rank - 1], inner_step = out_step[rank - 1];
    int64_t o = 0;
    for (int64_t i = 0; i < n_in; i += inner) {
      for (int64_t j = 0; j < inner; j++) y[o + j * inner_step] += x[i + j];
      for (int d = rank - 2; d >= 0; d--) {
        o += out_step[d];
        if (++index[d] < in[0].dims[d]) break;
        o -= out_step[d] * index[d];
        index[d] = 0;
      }
    }
  }
  float divisor = (float)count; /* 0 for an empty reduction: 0 / 0 = NaN, TF's answer */
  for (int64_t i = 0; i < n_out; i++) y[i] /= divisor;
  return CPOSE_OK;
}

static cpose_status mean_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                     pthreadpool_t pool, void **state_out) {
  bool reduced[NN_MAX_RANK];
  cpose_status status = mean_axes(node, in, reduced);
  if (status != CPOSE_OK) return status;
  if (in[0].rank != 4 || reduced[0] || !reduced[1] || !reduced[2] || reduced[3] || nn_numel(&in[0]) == 0) {
    return CPOSE_ERR_UNSUPPORTED; /* not a global average pooling of NHWC (or nothing to pool) */
  }
  status = nn_xnn_init(node);
  if (status != CPOSE_OK) return status;
  size_t batch = (size_t)in[0].dims[0], pixels = (size_t)(in[0].dims[1] * in[0].dims[2]);
  size_t channels = (size_t)in[0].dims[3];
  xnn_operator_t op = NULL;
  status = nn_xnn_check(
      node,
      xnn_create_global_average_pooling_nwc_f32(channels, channels, channels, -INFINITY, INFINITY, 0, &op),
      "global average pooling creation");
  if (status != CPOSE_OK) goto error;
  /* in: NWC (N, H*W, C), float32; out: (N, C), float32 ([N,C] or [N,1,1,C]: the same bytes) */
  status = nn_xnn_check(
      node, xnn_setup_global_average_pooling_nwc_f32(op, batch, pixels, in[0].data, out[0].data, pool),
      "global average pooling setup");
  if (status != CPOSE_OK) goto error;
  *state_out = op;
  return CPOSE_OK;
error:
  nn_xnn_delete_operator(op);
  return status;
}

static double mean_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  (void)node;
  return (double)nn_numel(&in[0]) + (double)nn_numel(&out[0]); /* one add per input, one divide per output */
}

const nn_op nn_op_mean = {
    .type = "Mean",
    .params_size = sizeof(mean_params),
    .parse = mean_parse,
    .infer = mean_infer,
    .run = mean_run,
    .fast_create = mean_fast_create,
    .fast_run = nn_xnn_run_operator,
    .fast_destroy = nn_xnn_delete_operator,
    .flops = mean_flops,
};
