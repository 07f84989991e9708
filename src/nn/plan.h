/* Memory planning: intermediate tensors share one arena, each placed at an offset that no other tensor
 * alive at the same time overlaps ("greedy by size", as TFLite's planner). */
#ifndef CPOSE_NN_PLAN_H
#define CPOSE_NN_PLAN_H

#include <stddef.h>

#include "cpose.h"

typedef struct nn_buffer {
  size_t size;   /* bytes */
  int first;     /* time of the write that creates it */
  int last;      /* time of its last read (inclusive) */
  size_t offset; /* out: its place in the arena, 64-byte aligned */
} nn_buffer;

/* Assigns every buffer an offset and writes the arena size needed. */
cpose_status nn_plan_arena(nn_buffer *buffers, int count, size_t *arena_bytes_out);

#endif
