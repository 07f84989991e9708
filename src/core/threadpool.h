/* The thread pool behind cpose_threadpool: a pthreadpool, which XNNPACK's kernels take directly. */
#ifndef CPOSE_CORE_THREADPOOL_H
#define CPOSE_CORE_THREADPOOL_H

#include <pthreadpool.h>

#include "cpose.h"

/* The pool's pthreadpool, or NULL for a NULL pool (run on the calling thread). */
pthreadpool_t cpose_threadpool_handle(const cpose_threadpool *pool);

#endif
