#include "core/threadpool.h"

#include <math.h>
#include <pthread.h>

#include "core/alloc.h"
#include "core/error.h"

/* A pooled run twice its session's best is contended: idle runs mostly vary by tens of percent (the rare
 * hiccup beyond is why one lone slow run is forgiven), and a contended one waits a time slice per layer,
 * many times a whole run. */
#define POOL_SLOW_FACTOR 2.0
/* Nor may it pass the session's best run on the calling thread by more than 20%: less, and a session whose
 * pooled runs are barely faster (a network that gains little from a second thread, a noisy machine) would
 * swap back and forth on noise. */
#define POOL_SINGLE_MARGIN 1.2
/* Single runs after two runs in a row give up, and the cap of their doubling. A probe that gives up costs
 * about one extra run, so probing every 8 to 64 runs costs 12% to 1.5% while the contention lasts, and the
 * pool is back at most 64 runs after it ends. */
#define POOL_FIRST_BACKOFF 8
#define POOL_MAX_BACKOFF 64
/* A best time moves 1/16 of the way toward a slower run: tens of slower runs to move far. */
#define POOL_DRIFT 16.0

struct cpose_threadpool {
  pthreadpool_t pool; /* NULL when threads is 1: pthreadpool's calls then run on the calling thread */
  /* Guards `mode`: sessions on different threads may share a pool (pthreadpool serializes their calls). */
  pthread_mutex_t lock;
  cpose_pool_mode mode;
};

bool cpose_pool_use_pool(const cpose_pool_mode *mode, const cpose_pool_history *history) {
  return history->best_single_ms > 0 && mode->single_left == 0;
}

double cpose_pool_limit_ms(const cpose_pool_history *h) {
  double limit = h->best_single_ms > 0 ? POOL_SINGLE_MARGIN * h->best_single_ms : INFINITY;
  if (h->best_pooled_ms > 0) limit = fmin(limit, POOL_SLOW_FACTOR * h->best_pooled_ms);
  return limit;
}

static void update_best(double *best, double ms) {
  if (*best == 0 || ms < *best) {
    *best = ms;
  } else {
    *best += (ms - *best) / POOL_DRIFT;
  }
}

void cpose_pool_record(cpose_pool_mode *mode, cpose_pool_history *history, cpose_run_kind kind, double ms) {
  switch (kind) {
    case CPOSE_RUN_POOLED:
      update_best(&history->best_pooled_ms, ms);
      mode->backoff = 0;
      mode->gave_up = false;
      break;
    case CPOSE_RUN_GAVE_UP: {
      if (mode->backoff == 0 && !mode->gave_up) { /* the first sign: it finished alone, the pool stays */
        mode->gave_up = true;
        break;
      }
      int runs = mode->backoff ? mode->backoff : POOL_FIRST_BACKOFF;
      mode->single_left = runs;
      mode->backoff = runs < POOL_MAX_BACKOFF ? 2 * runs : POOL_MAX_BACKOFF;
      break;
    }
    case CPOSE_RUN_SINGLE:
      update_best(&history->best_single_ms, ms);
      if (mode->single_left > 0) mode->single_left--;
      break;
  }
}

cpose_status cpose_threadpool_create(int threads, cpose_threadpool **pool_out) {
  if (!pool_out || threads < 1 || threads > 256) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "a thread pool needs 1..256 threads, not %d", threads);
  }
  cpose_threadpool *p = cpose_calloc(1, sizeof *p);
  if (!p) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a thread pool");
  if (pthread_mutex_init(&p->lock, NULL) != 0) {
    cpose_free(p);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "cannot create a thread pool's lock");
  }
  if (threads > 1 && !(p->pool = pthreadpool_create((size_t)threads))) {
    pthread_mutex_destroy(&p->lock);
    cpose_free(p);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "cannot create a pool of %d threads", threads);
  }
  *pool_out = p;
  return CPOSE_OK;
}

void cpose_threadpool_destroy(cpose_threadpool *p) {
  if (!p) return;
  if (p->pool) pthreadpool_destroy(p->pool);
  pthread_mutex_destroy(&p->lock);
  cpose_free(p);
}

pthreadpool_t cpose_threadpool_handle(const cpose_threadpool *p) {
  return p ? p->pool : NULL;
}

pthreadpool_t cpose_threadpool_begin_run(cpose_threadpool *p, const cpose_pool_history *history) {
  if (!p || !p->pool) return NULL;
  pthread_mutex_lock(&p->lock);
  bool pooled = cpose_pool_use_pool(&p->mode, history);
  pthread_mutex_unlock(&p->lock);
  return pooled ? p->pool : NULL;
}

void cpose_threadpool_end_run(cpose_threadpool *p, cpose_pool_history *history, cpose_run_kind kind,
                              double ms) {
  if (!p || !p->pool) return;
  pthread_mutex_lock(&p->lock);
  cpose_pool_record(&p->mode, history, kind, ms);
  pthread_mutex_unlock(&p->lock);
}
