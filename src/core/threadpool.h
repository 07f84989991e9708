/* The thread pool behind cpose_threadpool: a pthreadpool, which XNNPACK's kernels take directly, and the
 * policy that runs networks on the calling thread alone while another process keeps one of its cores busy.
 *
 * Why: every parallelize call waits for all the pool's threads to check in. A worker that shares its core
 * with a busy process gets that core only every few milliseconds (Linux's time slices; autogroup makes nice
 * useless), so each of a network's ~100 layers waits that long: Lightning on 2 threads went from 2.5 ms to
 * 770 ms with one core busy elsewhere, against 6 ms on the calling thread alone. A kernel computes the same
 * values with or without the pool, so a run may leave the pool at any step.
 *
 * The policy, per run of a session:
 * - Its first run is on the calling thread: the reference a pooled run must beat, measured before any pooled
 *   run could be slow from the start.
 * - A pooled run that has taken longer than cpose_pool_limit_ms (twice the session's best pooled run, and no
 *   more than 1.2 times its best run on the calling thread) gives up the pool for its remaining steps, so
 *   noticing contention costs about one run, not hundreds of waits.
 * - After two pooled runs in a row give up (one alone may be a hiccup of a noisy machine), the pool's
 * sessions run on the calling thread for a number of runs, then one pooled run probes the machine: a probe
 * that gives up doubles that number (up to a cap), one that finishes brings the pool back. The decisions are
 * pure functions of the two small structs below and of the times they are given, so that tests drive them
 * with scripted times. */
#ifndef CPOSE_CORE_THREADPOOL_H
#define CPOSE_CORE_THREADPOOL_H

#include <pthreadpool.h>
#include <stdbool.h>

#include "cpose.h"

/* One session's recent times, which its pooled runs are judged against (each network costs its own). */
typedef struct cpose_pool_history {
  /* The fastest whole run of each kind, drifting up by a fraction of each slower one, so that a machine that
   * has slowed for good (heat, a busier neighbour) is not compared with its best moment forever. 0: none. */
  double best_pooled_ms;
  double best_single_ms; /* on the calling thread alone */
} cpose_pool_history;

/* What a pool's sessions do next; shared by them, since contention is the machine's, not one session's. */
typedef struct cpose_pool_mode {
  int single_left; /* runs left on the calling thread before the next pooled probe; 0: pooled */
  int backoff;     /* what single_left becomes when the next pooled run gives up; 0: no contention seen */
  bool gave_up;    /* with backoff 0: the last pooled run gave up, once, which could have been a hiccup */
} cpose_pool_mode;

/* How a run went. */
typedef enum cpose_run_kind {
  CPOSE_RUN_POOLED,  /* on the pool from the first step to the last */
  CPOSE_RUN_GAVE_UP, /* began on the pool, passed the limit and finished on the calling thread */
  CPOSE_RUN_SINGLE,  /* on the calling thread from the start */
} cpose_run_kind;

/* Whether a session with `history` runs its next run on the pool. */
bool cpose_pool_use_pool(const cpose_pool_mode *mode, const cpose_pool_history *history);

/* Milliseconds after which a pooled run of the session gives up the pool. */
double cpose_pool_limit_ms(const cpose_pool_history *history);

/* Learns from a run of `kind` that took `ms` in all. */
void cpose_pool_record(cpose_pool_mode *mode, cpose_pool_history *history, cpose_run_kind kind, double ms);

/* The pool's pthreadpool, or NULL for a NULL pool or a pool of 1 thread (run on the calling thread). */
pthreadpool_t cpose_threadpool_handle(const cpose_threadpool *pool);

/* The pthreadpool a session with `history` runs its next run on: NULL runs it on the calling thread
 * (always for a NULL pool or a pool of 1 thread). Tell the pool how it went with cpose_threadpool_end_run. */
pthreadpool_t cpose_threadpool_begin_run(cpose_threadpool *pool, const cpose_pool_history *history);

/* Records a finished run of `kind` that took `ms` (a no-op for a NULL pool or a pool of 1 thread). */
void cpose_threadpool_end_run(cpose_threadpool *pool, cpose_pool_history *history, cpose_run_kind kind,
                              double ms);

#endif
