/* Shared helpers of the cpose command: flag values, lists, files, timing. */
#ifndef CPOSE_CLI_H
#define CPOSE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpose.h"

/* Exit codes: 0 success, 1 a run that failed (bad input, missing file), 2 a usage error. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Prints "cpose: <status>: <last error>" to stderr and returns CLI_FAILED. */
int cli_report(const char *what, cpose_status status);
/* Prints "cpose: <message>" and "Try 'cpose <command> --help'." to stderr and returns CLI_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...);

/* When argv[*i] is `flag`, takes its value (argv[*i + 1]) into *value, advances *i and returns true.
 * A flag without a value sets *missing. */
bool cli_flag(int argc, char **argv, int *i, const char *flag, const char **value, bool *missing);

/* Parses "1,256,256,3" (at most `cap` positive integers). */
bool cli_parse_dims(const char *text, int64_t *dims, int cap, int *count);
/* Parses a non-negative decimal integer within [min, max]. */
bool cli_parse_int(const char *text, long min, long max, long *out);

/* Reads a whole file (at most `cap` bytes). */
cpose_status cli_read_file(const char *path, size_t cap, void **data_out, size_t *size_out);
/* Writes a file completely or not at all: a temporary file beside it, then rename. */
cpose_status cli_write_file_atomic(const char *path, const void *data, size_t size);
/* Creates a folder and its parents (mkdir -p). */
cpose_status cli_make_dirs(const char *path);

/* Monotonic milliseconds. */
double cli_now_ms(void);

#endif
