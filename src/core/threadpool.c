#include "core/threadpool.h"

#include "core/alloc.h"
#include "core/error.h"

struct cpose_threadpool {
  pthreadpool_t pool; /* NULL when threads is 1: pthreadpool's calls then run on the calling thread */
};

cpose_status cpose_threadpool_create(int threads, cpose_threadpool **pool_out) {
  if (!pool_out || threads < 1 || threads > 256) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "a thread pool needs 1..256 threads, not %d", threads);
  }
  cpose_threadpool *p = cpose_calloc(1, sizeof *p);
  if (!p) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a thread pool");
  if (threads > 1 && !(p->pool = pthreadpool_create((size_t)threads))) {
    cpose_free(p);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "cannot create a pool of %d threads", threads);
  }
  *pool_out = p;
  return CPOSE_OK;
}

void cpose_threadpool_destroy(cpose_threadpool *p) {
  if (!p) return;
  if (p->pool) pthreadpool_destroy(p->pool);
  cpose_free(p);
}

pthreadpool_t cpose_threadpool_handle(const cpose_threadpool *p) {
  return p ? p->pool : NULL;
}
