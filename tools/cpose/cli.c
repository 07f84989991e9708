#include "cli.h"

#include "core/file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cli_report(const char *what, cpose_status status) {
  fprintf(stderr, "cpose: %s: %s: %s\n", what, cpose_status_string(status), cpose_last_error());
  return CLI_FAILED;
}

int cli_usage_error(const char *command, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fprintf(stderr, "cpose: ");
  vfprintf(stderr, fmt, args);
  fprintf(stderr, "\nTry 'cpose %s%s--help'.\n", command, command[0] ? " " : "");
  va_end(args);
  return CLI_USAGE;
}

bool cli_flag(int argc, char **argv, int *i, const char *flag, const char **value, bool *missing) {
  if (strcmp(argv[*i], flag) != 0) return false;
  if (*i + 1 >= argc) {
    *missing = true;
    return true;
  }
  *value = argv[++*i];
  return true;
}

bool cli_parse_int(const char *text, long min, long max, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < min || v > max) return false;
  *out = v;
  return true;
}

bool cli_parse_dims(const char *text, int64_t *dims, int cap, int *count) {
  int n = 0;
  const char *p = text;
  while (*p) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || end == p || v <= 0 || n >= cap || (*end && *end != ',')) return false;
    dims[n++] = v;
    p = *end ? end + 1 : end;
    if (*end && !*p) return false;
  }
  *count = n;
  return n > 0;
}

cpose_status cli_read_file(const char *path, size_t cap, void **data_out, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cpose: %s: %s\n", path, strerror(errno));
    return CPOSE_ERR_IO;
  }
  struct stat st;
  void *data = NULL;
  cpose_status status = CPOSE_OK;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (size_t)st.st_size > cap) {
    fprintf(stderr, "cpose: %s: size unknown or above %zu bytes\n", path, cap);
    status = CPOSE_ERR_LIMIT;
  } else if (!(data = malloc((size_t)st.st_size + 1))) {
    status = CPOSE_ERR_OUT_OF_MEMORY;
  } else if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
    fprintf(stderr, "cpose: %s: short read\n", path);
    status = CPOSE_ERR_IO;
  }
  fclose(f);
  if (status != CPOSE_OK) {
    free(data);
    return status;
  }
  *data_out = data;
  *size_out = (size_t)st.st_size;
  return CPOSE_OK;
}

cpose_status cli_write_file_atomic(const char *path, const void *data, size_t size) {
  cpose_status status = cpose_write_file_atomic(path, data, size);
  if (status != CPOSE_OK) fprintf(stderr, "cpose: %s\n", cpose_last_error());
  return status;
}

cpose_status cli_make_dirs(const char *path) {
  char buf[4096];
  if (strlen(path) >= sizeof buf) return CPOSE_ERR_INVALID_ARGUMENT;
  strcpy(buf, path);
  for (char *p = buf + 1; ; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
      fprintf(stderr, "cpose: %s: cannot create folder: %s\n", buf, strerror(errno));
      return CPOSE_ERR_IO;
    }
    *p = saved;
    if (!saved) break;
  }
  return CPOSE_OK;
}

double cli_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
