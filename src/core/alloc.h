/* Allocation goes through these wrappers so that tests can make the i-th allocation fail (see
 * cpose_alloc_fail_after) and prove that every error path frees what it took and crashes nothing. */
#ifndef CPOSE_CORE_ALLOC_H
#define CPOSE_CORE_ALLOC_H

#include <stddef.h>

void *cpose_malloc(size_t size);
void *cpose_calloc(size_t count, size_t size); /* fails (NULL) when count * size overflows */
void *cpose_realloc(void *ptr, size_t size);
void cpose_free(void *ptr);
char *cpose_strdup(const char *s);

/* Aligned to 64 bytes (a cache line, and what AVX-512 loads like); free with cpose_free_aligned. */
void *cpose_malloc_aligned(size_t size);
void cpose_free_aligned(void *ptr);

/* For a large buffer that kernels stride through (a session's arena): from 2 MB on, aligned to 2 MB and,
 * where the system has transparent huge pages, advised to use them, so that a few TLB entries cover it
 * instead of thousands (CenterNet's 22 MB arena: 4% of its run time). Smaller ones are
 * cpose_malloc_aligned's. Free with cpose_free_aligned. */
void *cpose_malloc_large(size_t size);

/* Test hook: allocation number `n` (counting from 0, from this call on) and every later one fail.
 * A negative `n` turns failures off. Returns the number of allocations made since the previous call. */
long cpose_alloc_fail_after(long n);

#endif
