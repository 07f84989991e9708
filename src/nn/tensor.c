#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nn/nn.h"

cpose_status nn_node_fail(const nn_node *node, cpose_status status, const char *fmt, ...) {
  char message[768];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  return cpose_fail(status, "node '%s' (%s): %s", node ? node->name : "?",
                    node && node->op ? node->op->type : "?", message);
}

size_t nn_dtype_size(nn_dtype dtype) {
  switch (dtype) {
    case NN_F32: return 4;
    case NN_I32: return 4;
    case NN_BOOL: return 1;
  }
  return 0;
}

const char *nn_dtype_name(nn_dtype dtype) {
  switch (dtype) {
    case NN_F32: return "float32";
    case NN_I32: return "int32";
    case NN_BOOL: return "bool";
  }
  return "?";
}

int64_t nn_numel(const nn_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

size_t nn_bytes(const nn_tensor *t) {
  return (size_t)nn_numel(t) * nn_dtype_size(t->dtype);
}

size_t nn_padded_bytes(const nn_tensor *t) {
  return (nn_bytes(t) + NN_TENSOR_SLACK + 63) / 64 * 64;
}

int64_t nn_row_stride(const nn_tensor *t) {
  if (t->row_stride) return t->row_stride;
  return t->rank > 0 ? t->dims[t->rank - 1] : 1;
}

bool nn_same_shape(const nn_tensor *a, const nn_tensor *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++) {
    if (a->dims[i] != b->dims[i]) return false;
  }
  return true;
}

const char *nn_shape_string(const nn_tensor *t, char *buf, size_t cap) {
  size_t n = 0;
  if (cap == 0) return buf;
  buf[0] = '\0';
  n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "[");
  for (int i = 0; i < t->rank && n < cap; i++) {
    n += (size_t)snprintf(buf + n, cap - n, i ? ",%lld" : "%lld", (long long)t->dims[i]);
  }
  if (n < cap) snprintf(buf + n, cap - n, "]");
  return buf;
}

cpose_status nn_set_shape(const nn_node *node, nn_tensor *t, int rank, const int64_t *dims) {
  if (rank < 0 || rank > NN_MAX_RANK) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "rank %d is outside 0..%d", rank, NN_MAX_RANK);
  }
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) {
      return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "dim %d is negative (%lld)", i, (long long)dims[i]);
    }
    if (dims[i] > 0 && n > NN_MAX_ELEMENTS / dims[i]) {
      return nn_node_fail(node, CPOSE_ERR_LIMIT, "shape has more than %lld elements (dim %d is %lld)",
                          (long long)NN_MAX_ELEMENTS, i, (long long)dims[i]);
    }
    n *= dims[i];
  }
  t->rank = rank;
  for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
  return CPOSE_OK;
}

int64_t nn_get_int(const nn_tensor *t, int64_t i) {
  switch (t->dtype) {
    case NN_I32: return ((const int32_t *)t->data)[i];
    case NN_F32: return (int64_t)((const float *)t->data)[i];
    case NN_BOOL: return ((const uint8_t *)t->data)[i];
  }
  return 0;
}

cpose_status nn_broadcast_shape(const nn_node *node, const nn_tensor *a, const nn_tensor *b, nn_tensor *out) {
  int rank = a->rank > b->rank ? a->rank : b->rank;
  int64_t dims[NN_MAX_RANK];
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[96], sb[96];
      return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "shapes %s and %s do not broadcast",
                          nn_shape_string(a, sa, sizeof sa), nn_shape_string(b, sb, sizeof sb));
    }
    dims[i] = da == 1 ? db : da;
  }
  return nn_set_shape(node, out, rank, dims);
}

cpose_status nn_axis(const nn_node *node, int64_t axis, int rank, int *axis_out) {
  if (axis < -rank || axis >= rank) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "axis %lld is outside %d..%d", (long long)axis, -rank,
                        rank - 1);
  }
  *axis_out = (int)(axis < 0 ? axis + rank : axis);
  return CPOSE_OK;
}

cpose_status nn_window(const nn_node *node, int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                       nn_padding padding, int64_t *out, int64_t *pad_before, int64_t *pad_after) {
  if (kernel < 1 || stride < 1 || dilation < 1 || in < 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                        "window needs input, kernel, stride, dilation >= 1 (got %lld, %lld, %lld, %lld)",
                        (long long)in, (long long)kernel, (long long)stride, (long long)dilation);
  }
  int64_t effective = (kernel - 1) * dilation + 1;
  if (padding == NN_PAD_SAME) {
    int64_t o = (in + stride - 1) / stride;
    int64_t total = (o - 1) * stride + effective - in;
    if (total < 0) total = 0;
    *out = o;
    *pad_before = total / 2;
    *pad_after = total - total / 2;
    return CPOSE_OK;
  }
  if (padding != NN_PAD_VALID) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "only SAME and VALID padding are supported");
  }
  if (in < effective) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "VALID window of %lld does not fit input of %lld",
                        (long long)effective, (long long)in);
  }
  *out = (in - effective) / stride + 1;
  *pad_before = 0;
  *pad_after = 0;
  return CPOSE_OK;
}
