/*
 * What ConcatV2, Pack and Unpack share: moving row-major tensors into and out of one tensor along an axis.
 *
 * Cut at `axis`, every part is `rows` rows (the product of its dims before axis) of one contiguous block
 * (the product of its dims from axis on, times the dtype size). The whole tensor holds, row after row, the
 * blocks of all parts laid end to end: row r of the whole = row r of part 0 | row r of part 1 | ...
 *
 * ConcatV2 cuts its inputs at the concat axis; Pack cuts its inputs at the new axis (the size-1 axis each
 * input gains); Unpack cuts its outputs at the dropped axis. Callers check in infer that all parts have the
 * same row count and dtype and that the block sizes add up to the whole's row; these copy without checks.
 */
#ifndef CPOSE_NN_OPS_COPY_BLOCKS_H
#define CPOSE_NN_OPS_COPY_BLOCKS_H

#include "nn/nn.h"

/* Rows of `t` cut at `axis` (0..rank): the product of dims[0..axis). */
int64_t nn_blocks_rows(const nn_tensor *t, int axis);

/* Bytes of one block of `t` cut at `axis` (0..rank): the product of dims[axis..rank) times the dtype size. */
size_t nn_blocks_bytes(const nn_tensor *t, int axis);

/* Copies `n` parts (each cut at `axis`) into `whole`. parts: borrowed, read; whole->data written. */
void nn_blocks_join(const nn_tensor *parts, int n, int axis, nn_tensor *whole);

/* The same for rows [begin, end) only (a share of the work for one thread). */
void nn_blocks_join_rows(const nn_tensor *parts, int n, int axis, nn_tensor *whole, int64_t begin,
                         int64_t end);

/* Copies `whole` out into `n` parts (each cut at `axis`), the inverse of nn_blocks_join. parts[i].data
 * written. */
void nn_blocks_split(const nn_tensor *whole, int axis, nn_tensor *parts, int n);

#endif
