/* Internal error reporting: a failure records one sentence for cpose_last_error() and returns its status. */
#ifndef CPOSE_CORE_ERROR_H
#define CPOSE_CORE_ERROR_H

#include "cpose.h"

#if defined(__GNUC__)
#define CPOSE_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define CPOSE_PRINTF(fmt_index, first_arg)
#endif

/* Records the message (printf format) as the calling thread's last error and returns `status`. */
cpose_status cpose_fail(cpose_status status, const char *fmt, ...) CPOSE_PRINTF(2, 3);

/* Prepends "context: " to the calling thread's last error and returns `status` (for callers that add where
 * a failure happened, such as a file name). */
cpose_status cpose_fail_context(cpose_status status, const char *fmt, ...) CPOSE_PRINTF(2, 3);

/* Clears the calling thread's last error. */
void cpose_error_clear(void);

#endif
