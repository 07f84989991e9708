#include "nn/xnn.h"

#include <pthread.h>

static pthread_once_t xnn_once = PTHREAD_ONCE_INIT;
static enum xnn_status xnn_init_status = xnn_status_uninitialized;

static void xnn_init_once(void) {
  xnn_init_status = xnn_initialize(NULL);
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
