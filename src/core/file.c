#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

cpose_status cpose_atomic_open(const char *path, cpose_atomic_file *file_out) {
  static atomic_uint counter;
  size_t tmp_size = strlen(path) + 64;
  char *tmp = cpose_malloc(tmp_size);
  if (!tmp) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; attempt++) { /* O_EXCL: concurrent writers never share one */
    snprintf(tmp, tmp_size, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  FILE *stream = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!stream) {
    cpose_status status = cpose_fail(CPOSE_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                                     strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(tmp);
    }
    cpose_free(tmp);
    return status;
  }
  *file_out = (cpose_atomic_file){.stream = stream, .tmp_path = tmp, .path = path};
  return CPOSE_OK;
}

void cpose_atomic_abandon(cpose_atomic_file *file) {
  if (file->stream) fclose(file->stream);
  if (file->tmp_path) unlink(file->tmp_path);
  cpose_free(file->tmp_path);
  memset(file, 0, sizeof *file);
}

cpose_status cpose_atomic_commit(cpose_atomic_file *file) {
  int err = ferror(file->stream) ? EIO : 0;
  if (fclose(file->stream) != 0 && !err) err = errno;
  file->stream = NULL;
  if (!err && rename(file->tmp_path, file->path) != 0) err = errno;
  if (!err) {
    cpose_free(file->tmp_path);
    memset(file, 0, sizeof *file);
    return CPOSE_OK;
  }
  cpose_status status = cpose_fail(CPOSE_ERR_IO, "%s: cannot write: %s", file->path, strerror(err));
  cpose_atomic_abandon(file);
  return status;
}

cpose_status cpose_write_file_atomic(const char *path, const void *data, size_t size) {
  cpose_atomic_file file;
  cpose_status status = cpose_atomic_open(path, &file);
  if (status != CPOSE_OK) return status;
  if (size > 0 && fwrite(data, 1, size, file.stream) != size) {
    status = cpose_fail(CPOSE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    cpose_atomic_abandon(&file);
    return status;
  }
  return cpose_atomic_commit(&file);
}
