#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE, beyond POSIX */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static atomic_long alloc_count;
static atomic_long alloc_fail_at = -1;

static int alloc_should_fail(void) {
  long n = atomic_fetch_add(&alloc_count, 1);
  long fail_at = atomic_load(&alloc_fail_at);
  return fail_at >= 0 && n >= fail_at;
}

long cpose_alloc_fail_after(long n) {
  long made = atomic_exchange(&alloc_count, 0);
  atomic_store(&alloc_fail_at, n);
  return made;
}

void *cpose_malloc(size_t size) {
  if (alloc_should_fail()) return NULL;
  return malloc(size ? size : 1);
}

void *cpose_calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  if (alloc_should_fail()) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void *cpose_realloc(void *ptr, size_t size) {
  if (alloc_should_fail()) return NULL;
  return realloc(ptr, size ? size : 1);
}

void cpose_free(void *ptr) {
  free(ptr);
}

char *cpose_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = cpose_malloc(n);
  if (copy) memcpy(copy, s, n);
  return copy;
}

void *cpose_malloc_aligned(size_t size) {
  if (alloc_should_fail()) return NULL;
  size_t rounded = (size + 63) / 64 * 64;
  if (rounded < size) return NULL;
  return aligned_alloc(64, rounded ? rounded : 64);
}

void cpose_free_aligned(void *ptr) {
  free(ptr);
}

#define HUGE_PAGE ((size_t)2 << 20)

void *cpose_malloc_large(size_t size) {
  if (size < HUGE_PAGE) return cpose_malloc_aligned(size);
  if (alloc_should_fail()) return NULL;
  size_t rounded = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  if (rounded < size) return NULL;
  void *p = aligned_alloc(HUGE_PAGE, rounded);
#ifdef MADV_HUGEPAGE
  if (p) (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only: if refused, the memory is just as good */
#endif
  return p;
}
