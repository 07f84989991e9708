/*
 * The tracker's assignment: the shared Hungarian method (core/assignment.c) with a cost limit.
 *
 * Forbidden pairs and the cost limit. We want the least
 *   sum over matched pairs of c_ij + max_cost / 2 x (unmatched rows + unmatched columns)
 * over partial assignments of allowed pairs (c_ij <= max_cost). Matching a pair replaces two unmatched
 * halves (max_cost in all) by c_ij, so this is a constant plus the sum over matched pairs of
 * c_ij - max_cost: only pairs cheaper than max_cost gain anything. A full assignment of the smaller side on
 * the costs min(c_ij, max_cost) reaches the same optimum: pairs clamped to max_cost gain nothing there and
 * are dropped afterwards, and no partial assignment does better. lapjv instead pads the matrix to (n + m) x
 * (n + m) with max_cost / 2 entries, eight times the work for square matrices.
 */
#include "core/assignment.h"
#include "track/track.h"

/* The caller's (rows, cols) float matrix as the solver reads it. */
typedef struct limited_costs {
  const float *cost; /* (rows, cols) row-major */
  size_t cols;
  float max_cost;
} limited_costs;

/* Entry (row, col), clamped to max_cost (NaN counts as forbidden). */
static double limited_cost(const void *ctx, size_t row, size_t col) {
  const limited_costs *lc = ctx;
  float c = lc->cost[row * lc->cols + col];
  return c <= lc->max_cost ? c : lc->max_cost;
}

size_t hungarian_scratch_size(size_t rows, size_t cols) {
  return cpose_assignment_scratch_size(rows, cols);
}

void hungarian_solve(const float *cost, size_t rows, size_t cols, float max_cost, void *scratch,
                     int *row_match) {
  limited_costs lc = {cost, cols, max_cost};
  cpose_assignment_solve(rows, cols, limited_cost, &lc, scratch, row_match);
  for (size_t r = 0; r < rows; r++) { /* the pairs clamped to max_cost: forbidden */
    if (row_match[r] >= 0 && !(cost[r * cols + (size_t)row_match[r]] <= max_cost)) row_match[r] = -1;
  }
}
