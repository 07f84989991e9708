/*
 * bench_peak: the machine's float32 peak, measured. Each thread runs independent chains of fused multiply-adds
 * on the widest vectors the CPU has (AVX-512, else AVX2+FMA), enough chains to cover the FMA latency, so the
 * FMA units never wait. The runtime benchmark (scripts/bench.sh) divides a model's achieved GFLOP/s by this.
 *
 *   bench_peak [THREADS]      prints "peak_gflops=<GFLOP/s>" for 1..THREADS threads (default 2)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__)

#include <immintrin.h>

enum { CHAINS = 12, ITERATIONS = 200000000 };

/* Each loop body is CHAINS independent FMAs on `lanes`-wide vectors: 2 x lanes x CHAINS FLOPs. The values
 * stay finite (x -> x * 0.999 + 0.001 converges to 1) and one is returned so nothing is optimized away. */
#define FMA_CHAINS(type, lanes, set1, fmadd, first)                  \
  type acc[CHAINS];                                                \
  for (int c = 0; c < CHAINS; c++) acc[c] = set1((float)c);        \
  type mul = set1(0.999f), add = set1(0.001f);                     \
  for (long i = 0; i < ITERATIONS; i++) {                          \
    _Pragma("GCC unroll 12") /* keeps acc[] in registers */        \
    for (int c = 0; c < CHAINS; c++) acc[c] = fmadd(acc[c], mul, add); \
  }                                                                \
  float sum = 0;                                                   \
  for (int c = 0; c < CHAINS; c++) sum += first(acc[c]);           \
  *flops_out = 2.0 * (lanes) * CHAINS * (double)ITERATIONS;        \
  return sum;

__attribute__((target("avx512f"))) static float fma_avx512(double *flops_out) {
  FMA_CHAINS(__m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_cvtss_f32)
}

__attribute__((target("avx2,fma"))) static float fma_avx2(double *flops_out) {
  FMA_CHAINS(__m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_cvtss_f32)
}

typedef struct worker {
  pthread_t thread;
  double flops;
  float sink;
} worker;

static void *run_worker(void *arg) {
  worker *w = arg;
  w->sink = __builtin_cpu_supports("avx512f") ? fma_avx512(&w->flops) : fma_avx2(&w->flops);
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GFLOP/s of `threads` workers running at once; 0 when a thread cannot start. */
static double measure(int threads, worker *workers) {
  double start = now_s(), flops = 0;
  int started = 0;
  while (started < threads && pthread_create(&workers[started].thread, NULL, run_worker, &workers[started]) == 0) {
    started++;
  }
  for (int t = 0; t < started; t++) {
    pthread_join(workers[t].thread, NULL);
    flops += workers[t].flops;
  }
  double seconds = now_s() - start;
  return started == threads ? flops / seconds / 1e9 : 0;
}

#endif

int main(int argc, char **argv) {
#if !defined(__x86_64__)
  (void)argc, (void)argv;
  fprintf(stderr, "bench_peak: measures x86-64 vector units only\n");
  return 1;
#else
  int max_threads = argc > 1 ? atoi(argv[1]) : 2;
  if (max_threads < 1 || max_threads > 256) {
    fprintf(stderr, "usage: bench_peak [THREADS 1..256]\n");
    return 2;
  }
  if (!__builtin_cpu_supports("avx512f") && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    fprintf(stderr, "bench_peak: this CPU has neither AVX-512 nor AVX2+FMA\n");
    return 1;
  }
  worker *workers = calloc((size_t)max_threads, sizeof *workers);
  if (!workers) return 1;
  printf("vectors %s\n", __builtin_cpu_supports("avx512f") ? "avx512" : "avx2");
  int status = 0;
  for (int threads = 1; threads <= max_threads; threads++) {
    double gflops = measure(threads, workers);
    if (gflops == 0) status = 1;
    printf("threads=%d peak_gflops=%.1f\n", threads, gflops);
  }
  free(workers);
  return status;
#endif
}
