/* Files written completely or not at all: the data goes to a temporary file beside the destination, which
 * is renamed over it once everything is written (rename() within one folder is atomic, so a reader sees the
 * old file or the whole new one, and a killed run leaves no half-written file). */
#ifndef CPOSE_CORE_FILE_H
#define CPOSE_CORE_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "cpose.h"

typedef struct cpose_atomic_file {
  FILE *stream;   /* write here */
  char *tmp_path; /* "<path>.tmp-<pid>-<n>", created exclusively */
  const char *path;
} cpose_atomic_file;

/* Creates the temporary file for `path` (borrowed until commit or abandon). */
cpose_status cpose_atomic_open(const char *path, cpose_atomic_file *file_out);
/* Closes the stream and renames the temporary file over the destination; on any failure (including an
 * earlier write error on the stream) removes it and reports the error naming the path. */
cpose_status cpose_atomic_commit(cpose_atomic_file *file);
/* Closes and removes the temporary file; the destination is untouched. */
void cpose_atomic_abandon(cpose_atomic_file *file);

/* Writes `size` bytes to `path` atomically. */
cpose_status cpose_write_file_atomic(const char *path, const void *data, size_t size);

#endif
