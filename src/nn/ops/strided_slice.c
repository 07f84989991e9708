/*
 * StridedSlice: x[begin:end:stride] on every dim, Python style, with TensorFlow's masks
 * (util/strided_slice_op.cc, ValidateStridedSliceOp):
 *   begin_mask / end_mask  bit i set: ignore begin[i] / end[i] and take the dim from its first / last
 *                          element in the stride's direction;
 *   ellipsis_mask          (one bit at most) entry i stands for as many full dims as the other entries leave;
 *   new_axis_mask          entry i inserts a dim of size 1 (its begin, end, stride are ignored);
 *   shrink_axis_mask       entry i picks the single index begin[i] and drops the dim; it must be in range.
 * Negative begin / end count from the end of the dim; out-of-range ones are clamped (except for shrink).
 * begin, end and strides (inputs 1..3) are constant int32 vectors of one length, below 32.
 */
#include <string.h>

#include "nn/ops/const_input.h"

#define SLICE_MAX_SPEC 31 /* entries of begin / end / strides: the masks are 32 bits */

typedef struct strided_slice_params {
  uint32_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
} strided_slice_params;

/* What the slice reads, one entry per input dim (TF's "processing shape"): element k (k < size[d]) of dim d
 * is input index begin[d] + k * stride[d], always inside 0..dims[d]-1. */
typedef struct slice_plan {
  int64_t begin[NN_MAX_RANK];
  int64_t stride[NN_MAX_RANK];
  int64_t size[NN_MAX_RANK];
  /* The output: the sizes above without the shrunk dims, with new axes (1) inserted. Sized for a hostile
   * spec; nn_set_shape rejects a rank above NN_MAX_RANK. */
  int out_rank;
  int64_t out_dims[SLICE_MAX_SPEC + 1 + NN_MAX_RANK];
} slice_plan;

static cpose_status read_mask(nn_node *node, const cJSON *attr, const char *key, uint32_t *out) {
  int64_t v;
  cpose_status status = nn_attr_int(node, attr, key, 0, &v);
  if (status != CPOSE_OK) return status;
  if (v < INT32_MIN || v > INT32_MAX) {
    return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute '%s' (%lld) is not a 32-bit mask", key,
                        (long long)v);
  }
  *out = (uint32_t)(int32_t)v;
  return CPOSE_OK;
}

static cpose_status strided_slice_parse(nn_node *node, const cJSON *attr) {
  strided_slice_params *p = node->params;
  cpose_status status = read_mask(node, attr, "begin_mask", &p->begin_mask);
  if (status == CPOSE_OK) status = read_mask(node, attr, "end_mask", &p->end_mask);
  if (status == CPOSE_OK) status = read_mask(node, attr, "ellipsis_mask", &p->ellipsis_mask);
  if (status == CPOSE_OK) status = read_mask(node, attr, "new_axis_mask", &p->new_axis_mask);
  if (status == CPOSE_OK) status = read_mask(node, attr, "shrink_axis_mask", &p->shrink_axis_mask);
  if (status == CPOSE_OK && (p->ellipsis_mask & (p->ellipsis_mask - 1)) != 0) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "ellipsis_mask 0x%x has more than one ellipsis",
                        (unsigned)p->ellipsis_mask);
  }
  return status;
}

/* Computes the plan from the constant begin / end / strides and the input shape. Called by infer and again
 * by run (it is cheap, and keeps the node's params free of shape-dependent state). */
static cpose_status slice_plan_of(const nn_node *node, const nn_tensor *in, slice_plan *plan) {
  const strided_slice_params *p = node->params;
  cpose_status status = nn_check_input_count(node, 4);
  if (status != CPOSE_OK) return status;
  int64_t sparse_begin[SLICE_MAX_SPEC], sparse_end[SLICE_MAX_SPEC], sparse_stride[SLICE_MAX_SPEC];
  int n_begin, n_end, n_stride;
  status = nn_const_ints(node, in, 1, "begin", false, sparse_begin, SLICE_MAX_SPEC, &n_begin);
  if (status == CPOSE_OK) {
    status = nn_const_ints(node, in, 2, "end", false, sparse_end, SLICE_MAX_SPEC, &n_end);
  }
  if (status == CPOSE_OK) {
    status = nn_const_ints(node, in, 3, "strides", false, sparse_stride, SLICE_MAX_SPEC, &n_stride);
  }
  if (status != CPOSE_OK) return status;
  if (n_begin != n_end || n_begin != n_stride) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                        "begin, end and strides have %d, %d and %d values; they must have one length",
                        n_begin, n_end, n_stride);
  }

  /* Step 1: the sparse spec (one entry per begin value). Without an ellipsis there is an implicit one at the
   * end, covering the dims the spec does not mention. */
  const int rank = in[0].rank;
  int sparse_dims = n_begin;
  uint32_t ellipsis_mask = p->ellipsis_mask;
  int new_axes_after_ellipsis = 0;
  bool ellipsis_seen = false;
  for (int i = 0; i < sparse_dims; i++) {
    if (ellipsis_seen && (p->new_axis_mask >> i & 1u)) new_axes_after_ellipsis++;
    if (ellipsis_mask >> i & 1u) ellipsis_seen = true;
  }
  if (!ellipsis_seen) {
    ellipsis_mask |= 1u << sparse_dims; /* sparse_dims <= 31 */
    sparse_dims++;
  }

  /* Step 2: the dense spec, one entry per input dim. `gather` lists the output dims: an input dim, or one
   * of the two markers. */
  enum { GATHER_SHRINK = -1, GATHER_NEW_AXIS = -2 };
  int64_t begin[NN_MAX_RANK], end[NN_MAX_RANK], stride[NN_MAX_RANK];
  uint32_t begin_mask = 0, end_mask = 0, shrink_mask = 0;
  int gather[SLICE_MAX_SPEC + 1 + NN_MAX_RANK];
  int n_gather = 0;
  int full = 0; /* the next input dim */
  for (int i = 0; i < sparse_dims; i++) {
    if (ellipsis_mask >> i & 1u) {
      int next = rank - (sparse_dims - i) + 1 + new_axes_after_ellipsis;
      if (next > rank) next = rank;
      for (; full < next; full++) {
        begin[full] = end[full] = 0;
        stride[full] = 1;
        begin_mask |= 1u << full;
        end_mask |= 1u << full;
        gather[n_gather++] = full;
      }
    } else if (p->new_axis_mask >> i & 1u) {
      gather[n_gather++] = GATHER_NEW_AXIS;
    } else {
      if (full == rank) {
        return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                            "slice entry %d indexes dim %d, but the input has only %d dims", i, full, rank);
      }
      begin[full] = sparse_begin[i];
      end[full] = sparse_end[i];
      stride[full] = sparse_stride[i];
      if (p->begin_mask >> i & 1u) begin_mask |= 1u << full;
      if (p->end_mask >> i & 1u) end_mask |= 1u << full;
      if (p->shrink_axis_mask >> i & 1u) {
        gather[n_gather++] = GATHER_SHRINK;
        shrink_mask |= 1u << full;
      } else {
        gather[n_gather++] = full;
      }
      full++;
    }
  }
  if (full != rank) { /* cannot happen: the ellipsis expands to exactly what is left */
    return nn_node_fail(node, CPOSE_ERR_INTERNAL, "slice spec covers %d of %d dims", full, rank);
  }

  /* Step 3: canonical begin and size of each input dim. */
  for (int d = 0; d < rank; d++) {
    const int64_t dim = in[0].dims[d], s = stride[d];
    if (s == 0) return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "stride of dim %d is 0", d);
    plan->stride[d] = s;
    if (shrink_mask >> d & 1u) {
      /* An index, not a range: begin_mask and end are ignored, and it must be in range. */
      if (s < 0) {
        return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                            "dim %d is indexed (shrink_axis_mask) with stride %lld; it must be positive", d,
                            (long long)s);
      }
      int64_t index = begin[d] < 0 ? begin[d] + dim : begin[d];
      if (index < 0 || index >= dim) {
        return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                            "index %lld is out of bounds for dim %d of size %lld", (long long)begin[d], d,
                            (long long)dim);
      }
      plan->begin[d] = index;
      plan->size[d] = 1;
      continue;
    }
    /* Valid positions: 0..dim going forward, -1..dim-1 going backward (end is exclusive). */
    const int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? dim : dim - 1;
    int64_t b, e;
    if (begin_mask >> d & 1u) {
      b = s > 0 ? lo : hi;
    } else {
      b = begin[d] < 0 ? begin[d] + dim : begin[d];
      b = b < lo ? lo : b > hi ? hi : b;
    }
    if (end_mask >> d & 1u) {
      e = s > 0 ? hi : lo;
    } else {
      e = end[d] < 0 ? end[d] + dim : end[d];
      e = e < lo ? lo : e > hi ? hi : e;
    }
    const int64_t interval = e - b;
    plan->begin[d] = b;
    if (interval == 0 || (interval < 0) != (s < 0)) {
      plan->size[d] = 0;
    } else {
      plan->size[d] = interval / s + (interval % s != 0 ? 1 : 0);
    }
  }

  /* Step 4: the output shape. */
  plan->out_rank = 0;
  for (int g = 0; g < n_gather; g++) {
    if (gather[g] >= 0) {
      plan->out_dims[plan->out_rank++] = plan->size[gather[g]];
    } else if (gather[g] == GATHER_NEW_AXIS) {
      plan->out_dims[plan->out_rank++] = 1;
    }
  }
  return CPOSE_OK;
}

static cpose_status strided_slice_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  slice_plan plan;
  cpose_status status = slice_plan_of(node, in, &plan);
  if (status != CPOSE_OK) return status;
  out[0].dtype = in[0].dtype;
  return nn_set_shape(node, &out[0], plan.out_rank, plan.out_dims);
}

static cpose_status strided_slice_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  slice_plan plan;
  cpose_status status = slice_plan_of(node, in, &plan);
  if (status != CPOSE_OK) return status;
  const int rank = in[0].rank;
  const size_t esize = nn_dtype_size(in[0].dtype);
  const uint8_t *src = in[0].data; /* in[0]'s shape, row-major */
  uint8_t *dst = out[0].data;      /* the sizes of the plan, row-major (= the output shape) */
  const int64_t total = nn_numel(&out[0]);
  if (total == 0) return CPOSE_OK;
  if (rank == 0) { /* a scalar with only new axes */
    memcpy(dst, src, esize);
    return CPOSE_OK;
  }

  /* step[d]: how far (in elements) one step along dim d moves in the input. */
  int64_t step[NN_MAX_RANK], offset = 0, pitch = 1;
  for (int d = rank - 1; d >= 0; d--) {
    step[d] = plan.stride[d] * pitch;
    offset += plan.begin[d] * pitch;
    pitch *= in[0].dims[d];
  }
  const int64_t inner = plan.size[rank - 1], inner_step = step[rank - 1];
  int64_t k[NN_MAX_RANK] = {0}; /* position in the outer dims */
  for (int64_t row = 0; row < total / inner; row++) {
    if (inner_step == 1) {
      memcpy(dst, src + (size_t)offset * esize, (size_t)inner * esize);
    } else {
      for (int64_t j = 0; j < inner; j++) {
        memcpy(dst + (size_t)j * esize, src + (size_t)(offset + j * inner_step) * esize, esize);
      }
    }
    dst += (size_t)inner * esize;
    for (int d = rank - 2; d >= 0; d--) {
      offset += step[d];
      if (++k[d] < plan.size[d]) break;
      offset -= step[d] * plan.size[d];
      k[d] = 0;
    }
  }
  return CPOSE_OK;
}

const nn_op nn_op_strided_slice = {
    .type = "StridedSlice",
    .params_size = sizeof(strided_slice_params),
    .parse = strided_slice_parse,
    .infer = strided_slice_infer,
    .run = strided_slice_run,
};
