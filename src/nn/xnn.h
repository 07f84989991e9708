/* Shared glue for the fast kernels: XNNPACK's one-time initialization and its status codes. */
#ifndef CPOSE_NN_XNN_H
#define CPOSE_NN_XNN_H

#include <stdbool.h>
#include <stddef.h>

#include <xnnpack.h>

#include "nn/nn.h"

/* Initializes XNNPACK once per process (thread-safe); fails when the CPU is not supported. */
cpose_status nn_xnn_init(const nn_node *node);

/* A budget for what XNNPACK and nn_fast_malloc_aligned allocate on the calling thread between begin and end
 * (packed weights, indirection buffers, workspaces of the operators being created): an allocation past it
 * fails, so creation reports out of memory. Frees give nothing back (an upper bound). nn_xnn_budget_end
 * returns the bytes taken and sets *exceeded_out when an allocation was refused. */
void nn_xnn_budget_begin(size_t bytes);
size_t nn_xnn_budget_end(bool *exceeded_out);

/* 64-byte aligned memory for a fast kernel's own packed weights, counted against the calling thread's budget
 * like XNNPACK's; NULL when it is refused or out of memory. Free with cpose_free_aligned. */
void *nn_fast_malloc_aligned(size_t size);

/* CPOSE_OK for xnn_status_success; otherwise records "node ...: XNNPACK <what> failed: <status>" and returns
 * CPOSE_ERR_OUT_OF_MEMORY for xnn_status_out_of_memory, CPOSE_ERR_UNSUPPORTED for unsupported parameters or
 * hardware (the session then falls back to the reference kernel), CPOSE_ERR_INTERNAL otherwise. */
cpose_status nn_xnn_check(const nn_node *node, enum xnn_status status, const char *what);

/* The common fast state: one XNNPACK operator, set up at creation; fast_run runs it, fast_destroy deletes it.
 * Ops whose fast path is a single XNNPACK operator use these three as their fast_run / fast_destroy. */
cpose_status nn_xnn_run_operator(void *op, pthreadpool_t pool);
void nn_xnn_delete_operator(void *op);

#endif
