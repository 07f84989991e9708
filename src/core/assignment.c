/*
 * The Hungarian method (Kuhn-Munkres) for rectangular cost matrices, in the O(n^2 m) form with row and
 * column potentials and shortest augmenting paths (Jonker-Volgenant's formulation, as in e-maxx's
 * "Hungarian algorithm"): rows are added one at a time and each is routed to a free column along the
 * cheapest path of reduced costs, which keeps the partial assignment optimal at every step.
 */
#include "core/assignment.h"

#include <math.h>
#include <stdbool.h>

/* The solver runs on n x m with n <= m; a matrix with more rows than columns is read transposed. */
typedef struct problem {
  cpose_assignment_cost_fn cost;
  const void *ctx;
  bool transposed;
} problem;

/* Entry (i, j) of the n x m problem (0-based). */
static double problem_cost(const problem *pr, size_t i, size_t j) {
  return pr->transposed ? pr->cost(pr->ctx, j, i) : pr->cost(pr->ctx, i, j);
}

/* The solver's arrays, 1-based with index 0 a virtual column (m + 1 entries each; u uses n + 1):
 * u, v: row and column potentials; min_slack[j]: the least reduced cost reaching free column j on the
 * current search; row_of[j]: the row assigned to column j (0: none); from[j]: the previous column on the
 * path to j; visited[j]: column j is on the search tree. */
typedef struct arrays {
  double *u, *v, *min_slack;
  int *row_of, *from;
  unsigned char *visited;
} arrays;

size_t cpose_assignment_scratch_size(size_t rows, size_t cols) {
  size_t m = (rows > cols ? rows : cols) + 1;
  return m * (3 * sizeof(double) + 2 * sizeof(int) + 1);
}

static arrays carve(void *scratch, size_t m) {
  arrays a;
  a.u = scratch, a.v = a.u + m, a.min_slack = a.v + m; /* the doubles first: malloc aligns for them */
  a.row_of = (int *)(a.min_slack + m), a.from = a.row_of + m;
  a.visited = (unsigned char *)(a.from + m);
  return a;
}

/* Adds row i (1-based) to the assignment: grows a tree of alternating paths from it by Dijkstra's rule on
 * reduced costs until it reaches a free column, adjusting the potentials as it goes, then flips the path. */
static void add_row(const problem *pr, size_t m, arrays *a, int i) {
  size_t j0 = 0;
  a->row_of[0] = i;
  for (size_t j = 0; j <= m; j++) a->min_slack[j] = INFINITY, a->visited[j] = 0;
  do {
    a->visited[j0] = 1;
    int i0 = a->row_of[j0];
    double delta = INFINITY;
    size_t j1 = 0;
    for (size_t j = 1; j <= m; j++) {
      if (a->visited[j]) continue;
      double slack = problem_cost(pr, (size_t)i0 - 1, j - 1) - a->u[i0] - a->v[j];
      if (slack < a->min_slack[j]) a->min_slack[j] = slack, a->from[j] = (int)j0;
      if (a->min_slack[j] < delta) delta = a->min_slack[j], j1 = j;
    }
    for (size_t j = 0; j <= m; j++) {
      if (a->visited[j]) {
        a->u[a->row_of[j]] += delta, a->v[j] -= delta;
      } else {
        a->min_slack[j] -= delta;
      }
    }
    j0 = j1;
  } while (a->row_of[j0] != 0);
  do { /* flip the path: each column on it takes the row of the column before it */
    size_t j1 = (size_t)a->from[j0];
    a->row_of[j0] = a->row_of[j1];
    j0 = j1;
  } while (j0 != 0);
}

void cpose_assignment_solve(size_t rows, size_t cols, cpose_assignment_cost_fn cost, const void *ctx,
                            void *scratch, int *row_match) {
  problem pr = {cost, ctx, rows > cols};
  size_t n = pr.transposed ? cols : rows, m = pr.transposed ? rows : cols;
  for (size_t r = 0; r < rows; r++) row_match[r] = -1;
  if (n == 0) return;
  arrays a = carve(scratch, m + 1);
  for (size_t j = 0; j <= m; j++) a.u[j] = 0, a.v[j] = 0, a.row_of[j] = 0, a.from[j] = 0;
  for (size_t i = 1; i <= n; i++) add_row(&pr, m, &a, (int)i);
  for (size_t j = 1; j <= m; j++) {
    if (a.row_of[j] == 0) continue;
    size_t i = (size_t)a.row_of[j] - 1;
    if (pr.transposed) {
      row_match[j - 1] = (int)i;
    } else {
      row_match[i] = (int)(j - 1);
    }
  }
}
