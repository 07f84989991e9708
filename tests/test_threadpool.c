/* The thread pool's fallback policy (core/threadpool.h), driven with scripted run times, never real ones: an
 * idle machine stays on the pool, contention moves runs to the calling thread, the pool comes back when the
 * contention ends, and neither runs that vary a little nor a lone slow one make it flap. Then, with MoveNet
 * Lightning when it is there: runs on the calling thread of a session set up for 2 threads give the pooled
 * run's values bit for bit. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/threadpool.h"
#include "cpose.h"
#include "test.h"

/* A session as the policy sees it: what its runs cost on this (simulated) machine. */
typedef struct sim_session {
  cpose_pool_history history;
  double pooled_ms; /* a whole pooled run now */
  double single_ms; /* a whole run on the calling thread now */
} sim_session;

/* One run, as cpose_session_run does it: a pooled run slower than the limit gives up at the limit and does
 * the rest on the calling thread (counted here as a whole single run more: the worst case). */
static cpose_run_kind sim_run(cpose_pool_mode *mode, sim_session *s) {
  cpose_run_kind kind = CPOSE_RUN_SINGLE;
  double ms = s->single_ms;
  if (cpose_pool_use_pool(mode, &s->history)) {
    double limit = cpose_pool_limit_ms(&s->history);
    kind = s->pooled_ms > limit ? CPOSE_RUN_GAVE_UP : CPOSE_RUN_POOLED;
    ms = kind == CPOSE_RUN_POOLED ? s->pooled_ms : limit + s->single_ms;
  }
  cpose_pool_record(mode, &s->history, kind, ms);
  return kind;
}

/* Runs `n` runs and counts those of each kind into counts[CPOSE_RUN_*]. */
static void sim_runs(cpose_pool_mode *mode, sim_session *s, int n, int counts[3]) {
  for (int i = 0; i < n; i++) counts[sim_run(mode, s)]++;
}

/* Lightning's times on a 2-core machine: 2.5 ms on 2 idle cores, 6 ms on one, 770 ms on 2 with one busy. */
static sim_session lightning(void) {
  sim_session s = {.pooled_ms = 2.5, .single_ms = 6.0};
  return s;
}

static void test_limit(void) {
  cpose_pool_history h = {0};
  CHECK(isinf(cpose_pool_limit_ms(&h)));
  h.best_single_ms = 6.0;
  CHECK_NEAR(cpose_pool_limit_ms(&h), 7.2, 1e-12); /* no pooled run yet: about the calling thread's */
  h.best_pooled_ms = 2.5;
  CHECK_NEAR(cpose_pool_limit_ms(&h), 5.0, 1e-12); /* twice the best pooled run */
  h.best_pooled_ms = 4.0;
  CHECK_NEAR(cpose_pool_limit_ms(&h), 7.2, 1e-12); /* but never far slower than the calling thread */
}

static void test_idle_stays_pooled(void) {
  cpose_pool_mode mode = {0};
  sim_session s = lightning();
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_SINGLE); /* the first run measures the calling thread */
  int counts[3] = {0};
  sim_runs(&mode, &s, 1000, counts);
  CHECK(counts[CPOSE_RUN_POOLED] == 1000);
  CHECK_NEAR(s.history.best_pooled_ms, 2.5, 1e-12);
}

/* Starts a simulated session on an idle machine and runs it until it is on the pool. */
static void warm_up(cpose_pool_mode *mode, sim_session *s) {
  int counts[3] = {0};
  sim_runs(mode, s, 10, counts);
  CHECK(counts[CPOSE_RUN_POOLED] == 9);
}

static void test_contention_and_recovery(void) {
  cpose_pool_mode mode = {0};
  sim_session s = lightning();
  warm_up(&mode, &s);
  s.pooled_ms = 770.0; /* another process takes a core */
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_GAVE_UP);
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_GAVE_UP); /* the second in a row */
  int counts[3] = {0};
  sim_runs(&mode, &s, 8, counts);
  CHECK(counts[CPOSE_RUN_SINGLE] == 8);           /* the first back-off */
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_GAVE_UP); /* the probe */
  memset(counts, 0, sizeof counts);
  sim_runs(&mode, &s, 1000, counts);
  CHECK(counts[CPOSE_RUN_POOLED] == 0);
  /* Probes after 16, 32, then every 64 runs: few runs pay for one. */
  CHECK(counts[CPOSE_RUN_GAVE_UP] >= 15 && counts[CPOSE_RUN_GAVE_UP] <= 17);
  CHECK(mode.backoff == 64);

  s.pooled_ms = 2.5; /* the other process ends */
  memset(counts, 0, sizeof counts);
  sim_runs(&mode, &s, 65, counts);
  CHECK(counts[CPOSE_RUN_POOLED] >= 1); /* back within one back-off */
  CHECK(mode.single_left == 0 && mode.backoff == 0);
  memset(counts, 0, sizeof counts);
  sim_runs(&mode, &s, 100, counts);
  CHECK(counts[CPOSE_RUN_POOLED] == 100);

  s.pooled_ms = 770.0; /* a new contention starts with the short back-off again */
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_GAVE_UP);
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_GAVE_UP);
  CHECK(mode.single_left == 8);
}

/* One slow pooled run among fast ones (a hiccup of a noisy machine) finishes on the calling thread, but the
 * pool stays, every time. */
static void test_lone_hiccups(void) {
  cpose_pool_mode mode = {0};
  sim_session s = lightning();
  warm_up(&mode, &s);
  int counts[3] = {0};
  for (int i = 0; i < 1000; i++) {
    s.pooled_ms = i % 10 == 0 ? 8.0 : 2.5;
    counts[sim_run(&mode, &s)]++;
  }
  CHECK(counts[CPOSE_RUN_GAVE_UP] == 100);
  CHECK(counts[CPOSE_RUN_POOLED] == 900);
}

/* A pooled run that is slow from the session's start: the first run on the calling thread is the reference
 * that catches it, where a best pooled run would have been the slow one itself. */
static void test_contention_from_start(void) {
  cpose_pool_mode mode = {0};
  sim_session s = lightning();
  s.pooled_ms = 770.0;
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_SINGLE);
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_GAVE_UP);
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_GAVE_UP);
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_SINGLE);
  CHECK(s.history.best_pooled_ms == 0);
}

/* Pooled runs that vary between 0.75 and 1.45 times their usual time (a deterministic pseudo-random
 * sequence) never give up the pool. */
static void test_no_flapping(void) {
  cpose_pool_mode mode = {0};
  sim_session s = lightning();
  CHECK(sim_run(&mode, &s) == CPOSE_RUN_SINGLE);
  uint32_t state = 12345;
  int counts[3] = {0};
  for (int i = 0; i < 10000; i++) {
    state = state * 1664525u + 1013904223u;
    double factor = 0.75 + 0.7 * (double)(state >> 8) / (double)(1u << 24);
    s.pooled_ms = 2.5 * factor;
    counts[sim_run(&mode, &s)]++;
  }
  CHECK(counts[CPOSE_RUN_POOLED] == 10000);
}

/* A machine that slows for good (by 1.8x) stays on the pool: the best pooled time drifts up to it. */
static void test_lasting_slowdown(void) {
  cpose_pool_mode mode = {0};
  sim_session s = lightning();
  s.single_ms = 20.0; /* well above, so that only the pooled best limits */
  warm_up(&mode, &s);
  s.pooled_ms = 2.5 * 1.8;
  int counts[3] = {0};
  sim_runs(&mode, &s, 200, counts);
  CHECK(counts[CPOSE_RUN_POOLED] == 200);
  CHECK(s.history.best_pooled_ms > 2.5 * 1.7);
}

/* A detector and a pose net on one pool: each is judged against its own times (the detector's 20 ms would
 * be far over the pose net's limit), and contention seen by one moves both to the calling thread. */
static void test_shared_pool(void) {
  cpose_pool_mode mode = {0};
  sim_session pose = lightning(), detector = {.pooled_ms = 20.0, .single_ms = 38.0};
  int counts[3] = {0};
  for (int i = 0; i < 200; i++) {
    counts[sim_run(&mode, &detector)]++;
    for (int k = 0; k < 3; k++) counts[sim_run(&mode, &pose)]++;
  }
  CHECK(counts[CPOSE_RUN_SINGLE] == 2); /* the two first runs */
  CHECK(counts[CPOSE_RUN_GAVE_UP] == 0);
  pose.pooled_ms = 770.0, detector.pooled_ms = 4000.0;
  CHECK(sim_run(&mode, &pose) == CPOSE_RUN_GAVE_UP);
  CHECK(sim_run(&mode, &detector) == CPOSE_RUN_GAVE_UP); /* the second sign, from the other session */
  CHECK(sim_run(&mode, &pose) == CPOSE_RUN_SINGLE);
}

/* ---- the same values on either thread ------------------------------------------------------------------ */

#define LIGHTNING "models/movenet-lightning/model.json"
#define LIGHTNING_IMAGE "tests/golden/movenet-lightning/messi5.rgb"

static cpose_session *two_thread_session(const cpose_model *model, int fixed_threads) {
  cpose_session_params p = cpose_session_params_default();
  p.threads = 2;
  p.fixed_threads = fixed_threads;
  p.input_rank = 4;
  memcpy(p.input_dims, (const int64_t[]){1, 192, 192, 3}, 4 * sizeof(int64_t));
  cpose_session *s = NULL;
  CHECK_OK(cpose_session_create(model, &p, &s));
  return s;
}

/* Whether every output of `a` equals `b`'s bit for bit. */
static int same_outputs(const cpose_session *a, const cpose_session *b) {
  int same = cpose_session_output_count(a) == cpose_session_output_count(b);
  for (size_t i = 0; same && i < cpose_session_output_count(a); i++) {
    cpose_tensor x, y;
    CHECK_OK(cpose_session_output(a, i, &x));
    CHECK_OK(cpose_session_output(b, i, &y));
    size_t bytes = 4 * test_tensor_elements(&x); /* every dtype of a MoveNet output is 4 bytes */
    same = x.rank == y.rank && memcmp(x.dims, y.dims, sizeof x.dims) == 0 && memcmp(x.data, y.data, bytes) == 0;
  }
  return same;
}

/* The fallback's first run, on the calling thread by design, against a session fixed on the pool; later runs
 * go either way, depending on the machine, and must match too. */
static void test_same_values(void) {
  cpose_model *model = NULL;
  size_t count = 192 * 192 * 3;
  float *pixels = test_read_rgb_floats(LIGHTNING_IMAGE, count);
  if (!pixels || cpose_model_load(LIGHTNING, &model) != CPOSE_OK) {
    fprintf(stderr, "test_threadpool: %s or %s missing: values not compared\n", LIGHTNING, LIGHTNING_IMAGE);
    free(pixels);
    return;
  }
  cpose_session *pooled = two_thread_session(model, 1), *fallback = two_thread_session(model, 0);
  if (pooled && fallback) {
    CHECK_OK(cpose_session_run(pooled, pixels, count));
    for (int run = 0; run < 5; run++) {
      CHECK_OK(cpose_session_run(fallback, pixels, count));
      CHECK(same_outputs(pooled, fallback));
    }
    cpose_session_stats stats;
    cpose_session_get_stats(pooled, &stats);
    CHECK(stats.pooled_runs == 1 && stats.unpooled_runs == 0);
    cpose_session_get_stats(fallback, &stats);
    CHECK(stats.unpooled_runs >= 1 && stats.pooled_runs + stats.unpooled_runs == 5);
  }
  cpose_session_destroy(fallback);
  cpose_session_destroy(pooled);
  cpose_model_destroy(model);
  free(pixels);
}

int main(void) {
  test_limit();
  test_idle_stays_pooled();
  test_contention_and_recovery();
  test_lone_hiccups();
  test_contention_from_start();
  test_no_flapping();
  test_lasting_slowdown();
  test_shared_pool();
  test_same_values();
  return test_finish("test_threadpool");
}
