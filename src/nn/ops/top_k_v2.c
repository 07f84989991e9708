/*
 * TopKV2: the k largest values along the last axis (k: input 1, a constant int32 scalar) and their
 * positions. Two outputs: values (the input's dtype) and indices (int32), both [..., k], largest first;
 * equal values come in order of position, as TensorFlow's stable sort gives them. With sorted = false TF
 * leaves the order unspecified; we return the sorted order then too.
 *
 * CenterNet takes k = 100 of 128 * 128 * 80 = 1,310,720 scores, so each row is one pass with a bounded heap
 * of the best k seen so far, whose root is the worst of them: a value enters only when it beats the root
 * (O(n) compares plus O(k log k) per entry, which is rare on such data), and the heap is then sorted in
 * place. The heap lives in the row's indices output, so the kernel allocates nothing.
 */
#include <string.h>

#include "nn/ops/const_input.h"

typedef struct top_k_params {
  bool sorted; /* read for completeness; see above */
} top_k_params;

static cpose_status top_k_parse(nn_node *node, const cJSON *attr) {
  top_k_params *p = node->params;
  node->n_outputs = 2;
  return nn_attr_bool(node, attr, "sorted", true, &p->sorted);
}

static cpose_status top_k_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  cpose_status status = nn_check_input_count(node, 2);
  if (status != CPOSE_OK) return status;
  const nn_tensor *x = &in[0];
  if (x->dtype != NN_F32 && x->dtype != NN_I32) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "input is %s (supported: float32, int32)",
                        nn_dtype_name(x->dtype));
  }
  if (x->rank < 1) return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "input must be at least 1-D");
  int64_t k;
  status = nn_const_int(node, in, 1, "k", false, &k);
  if (status != CPOSE_OK) return status;
  const int64_t n = x->dims[x->rank - 1];
  if (k < 0 || k > n) {
    char shape[96];
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "k = %lld is outside 0..%lld (the last dim of %s)",
                        (long long)k, (long long)n, nn_shape_string(x, shape, sizeof shape));
  }
  int64_t dims[NN_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  dims[x->rank - 1] = k;
  out[0].dtype = x->dtype;
  out[1].dtype = NN_I32;
  status = nn_set_shape(node, &out[0], x->rank, dims);
  if (status == CPOSE_OK) status = nn_set_shape(node, &out[1], x->rank, dims);
  return status;
}

/* One row of the input (float32 or int32); values are compared as doubles, which hold both exactly. */
typedef struct top_k_row {
  const void *data;
  nn_dtype dtype;
} top_k_row;

static inline double row_value(const top_k_row *row, int32_t i) {
  return row->dtype == NN_F32 ? (double)((const float *)row->data)[i]
                              : (double)((const int32_t *)row->data)[i];
}

/* True when position a ranks below position b in the output: a smaller value, or an equal one further on. */
static inline bool ranks_below(const top_k_row *row, int32_t a, int32_t b) {
  const double va = row_value(row, a), vb = row_value(row, b);
  return va < vb || (va == vb && a > b);
}

/* Restores the heap property below heap[at]: every entry ranks below (or equals) its children, so
 * heap[0] is the lowest ranked of the k kept. heap: (size) positions in the row. */
static void sift_down(const top_k_row *row, int32_t *heap, int64_t size, int64_t at) {
  for (;;) {
    int64_t lowest = at, left = 2 * at + 1, right = left + 1;
    if (left < size && ranks_below(row, heap[left], heap[lowest])) lowest = left;
    if (right < size && ranks_below(row, heap[right], heap[lowest])) lowest = right;
    if (lowest == at) return;
    int32_t swap = heap[at];
    heap[at] = heap[lowest];
    heap[lowest] = swap;
    at = lowest;
  }
}

/* The first position i in [from, n) whose value is above `threshold`, or n. Values are tested a block at a
 * time with a loop the compiler vectorizes: after the first few thousand values hardly any beats the k-th
 * best, so the scan is most of the work. */
#define SCAN_BLOCK 64

NN_SIMD_CLONES
static int64_t next_above(const top_k_row *row, int64_t from, int64_t n, double threshold) {
  int64_t i = from;
  if (row->dtype == NN_F32) {
    const float *x = row->data, t = (float)threshold; /* exact: the threshold is one of the row's values */
    for (; i + SCAN_BLOCK <= n; i += SCAN_BLOCK) {
      int above = 0;
      for (int64_t k = 0; k < SCAN_BLOCK; k++) above |= x[i + k] > t;
      if (above) break;
    }
  } else {
    const int32_t *x = row->data;
    const int32_t t = (int32_t)threshold;
    for (; i + SCAN_BLOCK <= n; i += SCAN_BLOCK) {
      int above = 0;
      for (int64_t k = 0; k < SCAN_BLOCK; k++) above |= x[i + k] > t;
      if (above) break;
    }
  }
  while (i < n && !(row_value(row, (int32_t)i) > threshold)) i++;
  return i;
}

/* Writes the positions of the k best of the row's n values into best (k), best first. */
static void top_k_select(const top_k_row *row, int64_t n, int64_t k, int32_t *best) {
  if (k == 0) return;
  for (int64_t i = 0; i < k; i++) best[i] = (int32_t)i;
  for (int64_t i = k / 2 - 1; i >= 0; i--) sift_down(row, best, k, i);
  double threshold = row_value(row, best[0]);
  /* An equal value comes later than every kept one, so it ranks below them all: strictly greater only. */
  for (int64_t i = next_above(row, k, n, threshold); i < n; i = next_above(row, i + 1, n, threshold)) {
    best[0] = (int32_t)i;
    sift_down(row, best, k, 0);
    threshold = row_value(row, best[0]);
  }
  /* Heap sort: move the lowest ranked to the end, one by one, leaving the best at 0. */
  for (int64_t end = k - 1; end > 0; end--) {
    int32_t swap = best[0];
    best[0] = best[end];
    best[end] = swap;
    sift_down(row, best, end, 0);
  }
}

static cpose_status top_k_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  (void)node;
  const nn_tensor *x = &in[0];
  const int64_t n = x->dims[x->rank - 1], k = out[0].dims[x->rank - 1];
  const size_t esize = nn_dtype_size(x->dtype);
  int64_t rows = 1;
  for (int d = 0; d < x->rank - 1; d++) rows *= x->dims[d];
  for (int64_t r = 0; r < rows; r++) {
    const uint8_t *src = (const uint8_t *)x->data + (size_t)(r * n) * esize; /* (n) */
    uint8_t *values = (uint8_t *)out[0].data + (size_t)(r * k) * esize;      /* (k) */
    int32_t *indices = (int32_t *)out[1].data + r * k;                       /* (k) */
    const top_k_row row = {src, x->dtype};
    top_k_select(&row, n, k, indices);
    for (int64_t i = 0; i < k; i++) {
      memcpy(values + (size_t)i * esize, src + (size_t)indices[i] * esize, esize);
    }
  }
  return CPOSE_OK;
}

const nn_op nn_op_top_k_v2 = {
    .type = "TopKV2",
    .params_size = sizeof(top_k_params),
    .parse = top_k_parse,
    .infer = top_k_infer,
    .run = top_k_run,
};
