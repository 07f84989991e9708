/* A minimal test harness: each test program runs its checks, prints failures with file and line, and exits
 * non-zero when any failed. TEST_SKIP exits with 77, which CTest reports as skipped. */
#ifndef CPOSE_TEST_H
#define CPOSE_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpose.h"

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                          \
  do {                                                                       \
    test_checks++;                                                           \
    if (!(cond)) {                                                           \
      test_failures++;                                                       \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                        \
  } while (0)

/* Checks a cpose_status-returning call and prints the library's message when it is not CPOSE_OK. */
#define CHECK_OK(call)                                                                           \
  do {                                                                                           \
    test_checks++;                                                                               \
    cpose_status check_status_ = (call);                                                         \
    if (check_status_ != CPOSE_OK) {                                                             \
      test_failures++;                                                                           \
      fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #call,                   \
              cpose_status_string(check_status_), cpose_last_error());                           \
    }                                                                                            \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                    \
  do {                                                                                           \
    test_checks++;                                                                               \
    double check_a_ = (double)(a), check_b_ = (double)(b);                                       \
    if (!(fabs(check_a_ - check_b_) <= (tol))) {                                                 \
      test_failures++;                                                                           \
      fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g (tolerance %g)\n", __FILE__, \
              __LINE__, #a, check_a_, #b, check_b_, (double)(tol));                              \
    }                                                                                            \
  } while (0)

#define TEST_SKIP(...)                     \
  do {                                     \
    fprintf(stderr, "SKIP: " __VA_ARGS__); \
    fprintf(stderr, "\n");                 \
    exit(77);                              \
  } while (0)

/* The whole file plus a NUL (so that text parses in place), its size without the NUL in *size_out (may be
 * NULL); NULL when it cannot be read. The caller frees it. */
static inline void *test_read_file(const char *path, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *data = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) data = malloc((size_t)size + 1);
  if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  if (data) {
    data[size] = '\0';
    if (size_out) *size_out = (size_t)size;
  }
  return data;
}

/* A golden input image (raw uint8 RGB, as tests/golden holds them) as float32 values 0..255; NULL unless the
 * file holds exactly `count` bytes. The caller frees it. */
static inline float *test_read_rgb_floats(const char *path, size_t count) {
  size_t size = 0;
  unsigned char *bytes = test_read_file(path, &size);
  float *values = bytes && size == count ? malloc(count * sizeof *values) : NULL;
  for (size_t i = 0; values && i < count; i++) values[i] = bytes[i];
  free(bytes);
  return values;
}

/* The number of elements of `t`. */
static inline size_t test_tensor_elements(const cpose_tensor *t) {
  size_t n = 1;
  for (int d = 0; d < t->rank; d++) n *= (size_t)t->dims[d];
  return n;
}

static inline int test_finish(const char *name) {
  if (test_failures) {
    fprintf(stderr, "%s: %d of %d checks failed\n", name, test_failures, test_checks);
    return 1;
  }
  printf("%s: %d checks passed\n", name, test_checks);
  return 0;
}

#endif
