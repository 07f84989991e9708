#include "nn/ops/copy_blocks.h"

#include <stdbool.h>
#include <string.h>

int64_t nn_blocks_rows(const nn_tensor *t, int axis) {
  int64_t rows = 1;
  for (int d = 0; d < axis; d++) rows *= t->dims[d];
  return rows;
}

size_t nn_blocks_bytes(const nn_tensor *t, int axis) {
  int64_t n = 1;
  for (int d = axis; d < t->rank; d++) n *= t->dims[d];
  return (size_t)n * nn_dtype_size(t->dtype);
}

/* The one loop behind join and split: walks rows [begin, end) of the whole tensor row by row and the parts
 * block by block, and copies each block towards the whole (`join`) or away from it. */
static void copy_blocks(const nn_tensor *parts, int n, int axis, char *whole, int64_t begin, int64_t end,
                        bool join) {
  size_t row_bytes = 0;
  for (int i = 0; i < n; i++) row_bytes += nn_blocks_bytes(&parts[i], axis);
  whole += (size_t)begin * row_bytes;
  for (int64_t r = begin; r < end; r++) {
    for (int i = 0; i < n; i++) {
      size_t block = nn_blocks_bytes(&parts[i], axis);
      if (block == 0) continue; /* empty parts may have no buffer at all */
      char *part = (char *)parts[i].data + (size_t)r * block;
      if (join)
        memcpy(whole, part, block);
      else
        memcpy(part, whole, block);
      whole += block;
    }
  }
}

void nn_blocks_join(const nn_tensor *parts, int n, int axis, nn_tensor *whole) {
  if (n > 0) nn_blocks_join_rows(parts, n, axis, whole, 0, nn_blocks_rows(&parts[0], axis));
}

void nn_blocks_join_rows(const nn_tensor *parts, int n, int axis, nn_tensor *whole, int64_t begin,
                         int64_t end) {
  copy_blocks(parts, n, axis, (char *)whole->data, begin, end, true);
}

void nn_blocks_split(const nn_tensor *whole, int axis, nn_tensor *parts, int n) {
  if (n > 0) copy_blocks(parts, n, axis, (char *)whole->data, 0, nn_blocks_rows(&parts[0], axis), false);
}
