/* Minimum-cost assignment (the Hungarian method) on a rectangular cost matrix: every row is given its own
 * column, or every column its own row, whichever side is smaller, at the least total cost. One solver for
 * the tracker (src/track/hungarian.c adds its cost limit on top) and the CLEAR MOT evaluation
 * (src/eval/mot_eval.c adds motmetrics' cost for inadmissible pairs). */
#ifndef CPOSE_CORE_ASSIGNMENT_H
#define CPOSE_CORE_ASSIGNMENT_H

#include <stddef.h>

/* The cost of pairing `row` with `col` (0-based) in the caller's matrix `ctx` (borrowed). It must be finite
 * and the same on every call: the solver reads each entry many times instead of copying the matrix, so the
 * caller can keep its costs in any layout and type (the tracker's are clamped floats). */
typedef double (*cpose_assignment_cost_fn)(const void *ctx, size_t row, size_t col);

/* Bytes of scratch memory cpose_assignment_solve needs for a rows x cols matrix: O(max(rows, cols)). */
size_t cpose_assignment_scratch_size(size_t rows, size_t cols);

/* A least-cost assignment of the smaller side of the rows x cols matrix `cost(ctx, row, col)`: with
 * rows <= cols every row gets a distinct column, otherwise every column a distinct row. Writes
 * row_match[rows]: the column of each row, or -1 for a row left over. `scratch`:
 * cpose_assignment_scratch_size(rows, cols) bytes, aligned as malloc aligns, borrowed; allocates nothing,
 * so a caller can take all its memory before it changes any state. rows and cols at most INT_MAX. Ties go
 * the same way on every run. O(n^2 m) time for n = min(rows, cols), m = max(rows, cols). */
void cpose_assignment_solve(size_t rows, size_t cols, cpose_assignment_cost_fn cost, const void *ctx,
                            void *scratch, int *row_match);

#endif
