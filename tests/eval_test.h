/* Helpers for the evaluation tests (test_eval, test_eval_mot): JSON files written into a growing string,
 * a standing COCO-17 person, the COCO sigmas as OKS variances, a whole file read into memory, and the checks
 * that a failed evaluation names the problem and leaves its out-parameter alone. */
#ifndef CPOSE_EVAL_TEST_H
#define CPOSE_EVAL_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpose.h"
#include "test.h"

#define K 17 /* COCO-17 keypoints */

/* A string that grows as it is written (s is NUL-terminated; n bytes without the NUL). Free s. */
typedef struct text {
  char *s;
  size_t n, cap;
} text;

/* Appends printf-style. */
static inline void put(text *t, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int need = vsnprintf(NULL, 0, fmt, args);
  va_end(args);
  if (t->n + (size_t)need + 1 > t->cap) {
    t->cap = (t->n + (size_t)need + 1) * 2;
    t->s = realloc(t->s, t->cap);
    if (!t->s) abort();
  }
  va_start(args, fmt);
  vsnprintf(t->s + t->n, t->cap - t->n, fmt, args);
  va_end(args);
  t->n += (size_t)need;
}

/* "keypoints": [x, y, v, ...] of kp (3 * K values), exactly (%.17g). */
static inline void put_keypoints(text *t, const double *kp) {
  put(t, "\"keypoints\": [");
  for (int i = 0; i < 3 * K; i++) put(t, i ? ", %.17g" : "%.17g", kp[i]);
  put(t, "]");
}

/* A standing person: 17 labelled keypoints (v = 2) spread over the box x0..x0+100, y0..y0+100. */
static inline void pose_at(double x0, double y0, double kp[3 * K]) {
  for (int i = 0; i < K; i++) {
    kp[3 * i] = x0 + 10 + (i % 5) * 20;
    kp[3 * i + 1] = y0 + 5 + i * 5;
    kp[3 * i + 2] = 2;
  }
}

/* The COCO-17 OKS variances (2 sigma)^2, as eval_oks takes them. */
static inline const double *coco_vars(void) {
  static double vars[K];
  const double *sigmas;
  size_t k;
  CHECK_OK(cpose_eval_keypoint_set("coco17", &sigmas, &k));
  for (int i = 0; i < K; i++) vars[i] = 4 * sigmas[i] * sigmas[i];
  return vars;
}

/* What a failing call's out-parameter is filled with beforehand, to see that it is left alone. */
#define UNTOUCHED_BYTE 0x5a

/* A call failed as expected: `status` is `expected`, the library's message has `needle`, and the
 * out-parameter `out` (size bytes, filled with UNTOUCHED_BYTE before the call) was not written. */
static inline void check_failure(cpose_status status, cpose_status expected, const char *needle,
                                 const void *out, size_t size) {
  CHECK(status == expected);
  bool named = strstr(cpose_last_error(), needle) != NULL;
  if (!named) fprintf(stderr, "error message '%s' lacks '%s'\n", cpose_last_error(), needle);
  CHECK(named);
  bool untouched = true;
  for (size_t i = 0; i < size; i++) untouched &= ((const unsigned char *)out)[i] == UNTOUCHED_BYTE;
  CHECK(untouched); /* out-parameters are written only on success */
}

#endif
