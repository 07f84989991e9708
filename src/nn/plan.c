#include "nn/plan.h"

#include <stdlib.h>

#include "core/alloc.h"
#include "core/error.h"

#define PLAN_ALIGN 64

static int by_size_descending(const void *a, const void *b) {
  const nn_buffer *x = *(nn_buffer *const *)a, *y = *(nn_buffer *const *)b;
  if (x->size != y->size) return x->size < y->size ? 1 : -1;
  return x < y ? -1 : x > y; /* stable: earlier buffers first */
}

static int by_offset(const void *a, const void *b) {
  const nn_buffer *x = *(nn_buffer *const *)a, *y = *(nn_buffer *const *)b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static size_t align_up(size_t n) {
  return (n + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
}

/* The lowest offset where `b` fits between the already placed buffers that live at the same time.
 * `scratch` has room for n_placed pointers. */
static size_t first_fit(const nn_buffer *b, nn_buffer *const *placed, int n_placed, nn_buffer **scratch) {
  int n = 0;
  for (int i = 0; i < n_placed; i++) {
    if (placed[i]->first <= b->last && b->first <= placed[i]->last) scratch[n++] = placed[i];
  }
  qsort(scratch, (size_t)n, sizeof *scratch, by_offset);
  size_t offset = 0;
  for (int i = 0; i < n; i++) {
    if (scratch[i]->offset >= offset + align_up(b->size)) break;
    size_t end = scratch[i]->offset + align_up(scratch[i]->size);
    if (end > offset) offset = end;
  }
  return offset;
}

cpose_status nn_plan_arena(nn_buffer *buffers, int count, size_t *arena_bytes_out) {
  nn_buffer **order = cpose_calloc((size_t)count + 1, sizeof *order);
  nn_buffer **scratch = cpose_calloc((size_t)count + 1, sizeof *scratch);
  if (!order || !scratch) {
    cpose_free(order);
    cpose_free(scratch);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory to plan %d buffers", count);
  }
  for (int i = 0; i < count; i++) order[i] = &buffers[i];
  qsort(order, (size_t)count, sizeof *order, by_size_descending);
  size_t arena = 0;
  for (int i = 0; i < count; i++) {
    order[i]->offset = first_fit(order[i], order, i, scratch);
    size_t end = order[i]->offset + align_up(order[i]->size);
    if (end > arena) arena = end;
  }
  cpose_free(order);
  cpose_free(scratch);
  *arena_bytes_out = arena;
  return CPOSE_OK;
}
