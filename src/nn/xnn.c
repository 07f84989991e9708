#include "nn/xnn.h"

#include <pthread.h>

#include "core/alloc.h"

static pthread_once_t xnn_once = PTHREAD_ONCE_INIT;
static enum xnn_status xnn_init_status = xnn_status_uninitialized;

/* The calling thread's budget (nn_xnn_budget_begin); sessions are created on one thread each. */
static _Thread_local struct {
  bool on, exceeded;
  size_t left, taken;
} budget;

void nn_xnn_budget_begin(size_t bytes) {
  budget.on = true;
  budget.exceeded = false;
  budget.left = bytes;
  budget.taken = 0;
}

size_t nn_xnn_budget_end(bool *exceeded_out) {
  budget.on = false;
  *exceeded_out = budget.exceeded;
  return budget.taken;
}

static bool budget_take(size_t size) {
  if (!budget.on) return true;
  if (size > budget.left) {
    budget.exceeded = true;
    return false;
  }
  budget.left -= size;
  budget.taken += size;
  return true;
}

/* XNNPACK allocates through cpose's allocator, so that the allocation-failure tests reach its paths too. */
static void *xnn_allocate(void *context, size_t size) {
  (void)context;
  return budget_take(size) ? cpose_malloc(size) : NULL;
}

static void *xnn_reallocate(void *context, void *pointer, size_t size) {
  (void)context;
  return budget_take(size) ? cpose_realloc(pointer, size) : NULL;
}

static void xnn_deallocate(void *context, void *pointer) {
  (void)context;
  cpose_free(pointer);
}

static void *xnn_aligned_allocate(void *context, size_t alignment, size_t size) {
  (void)context;
  if (alignment > 64) return NULL; /* XNNPACK asks for at most 64 */
  return nn_fast_malloc_aligned(size);
}

void *nn_fast_malloc_aligned(size_t size) {
  return budget_take(size) ? cpose_malloc_aligned(size) : NULL;
}

static void xnn_aligned_deallocate(void *context, void *pointer) {
  (void)context;
  cpose_free_aligned(pointer);
}

static const struct xnn_allocator xnn_cpose_allocator = {
    .allocate = xnn_allocate,
    .reallocate = xnn_reallocate,
    .deallocate = xnn_deallocate,
    .aligned_allocate = xnn_aligned_allocate,
    .aligned_deallocate = xnn_aligned_deallocate,
};

static void xnn_init_once(void) {
  xnn_init_status = xnn_initialize(&xnn_cpose_allocator);
}

static const char *xnn_status_name(enum xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown status";
}

cpose_status nn_xnn_check(const nn_node *node, enum xnn_status status, const char *what) {
  if (status == xnn_status_success) return CPOSE_OK;
  cpose_status mapped = CPOSE_ERR_INTERNAL;
  if (status == xnn_status_out_of_memory) mapped = CPOSE_ERR_OUT_OF_MEMORY;
  if (status == xnn_status_unsupported_parameter || status == xnn_status_unsupported_hardware) {
    mapped = CPOSE_ERR_UNSUPPORTED;
  }
  return nn_node_fail(node, mapped, "XNNPACK %s failed: %s", what, xnn_status_name(status));
}

cpose_status nn_xnn_init(const nn_node *node) {
  pthread_once(&xnn_once, xnn_init_once);
  return nn_xnn_check(node, xnn_init_status, "initialization");
}

cpose_status nn_xnn_run_operator(void *op, pthreadpool_t pool) {
  enum xnn_status status = xnn_run_operator((xnn_operator_t)op, pool);
  return status == xnn_status_success ? CPOSE_OK : nn_xnn_check(NULL, status, "run");
}

void nn_xnn_delete_operator(void *op) {
  if (op) xnn_delete_operator((xnn_operator_t)op);
}
