#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CPOSE_ERROR_CAP 1024

static _Thread_local char last_error[CPOSE_ERROR_CAP];

const char *cpose_status_string(cpose_status status) {
  switch (status) {
    case CPOSE_OK: return "ok";
    case CPOSE_ERR_INVALID_ARGUMENT: return "invalid argument";
    case CPOSE_ERR_IO: return "i/o error";
    case CPOSE_ERR_PARSE: return "parse error";
    case CPOSE_ERR_UNSUPPORTED: return "unsupported";
    case CPOSE_ERR_OUT_OF_MEMORY: return "out of memory";
    case CPOSE_ERR_LIMIT: return "limit exceeded";
    case CPOSE_ERR_NOT_FOUND: return "not found";
    case CPOSE_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

const char *cpose_last_error(void) {
  return last_error;
}

void cpose_error_clear(void) {
  last_error[0] = '\0';
}

cpose_status cpose_fail(cpose_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, args);
  va_end(args);
  return status;
}

cpose_status cpose_fail_context(cpose_status status, const char *fmt, ...) {
  char previous[CPOSE_ERROR_CAP];
  memcpy(previous, last_error, sizeof previous);
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(last_error, sizeof last_error, fmt, args);
  va_end(args);
  /* Append ": previous", cut to what fits (snprintf would warn about the deliberate truncation). */
  size_t used = n < 0 ? 0 : (size_t)n;
  const char *parts[2] = {": ", previous};
  for (int p = 0; p < 2; p++) {
    size_t len = strlen(parts[p]);
    if (used + 1 >= sizeof last_error) break;
    if (len > sizeof last_error - 1 - used) len = sizeof last_error - 1 - used;
    memcpy(last_error + used, parts[p], len);
    used += len;
    last_error[used] = '\0';
  }
  return status;
}
