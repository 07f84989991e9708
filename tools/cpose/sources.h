/* The still-image sources of the main job: one image, a folder, or a list file. */
#ifndef CPOSE_SOURCES_H
#define CPOSE_SOURCES_H

#include <stddef.h>

#include "cpose.h"

typedef struct source_list {
  char **paths; /* full paths, in processing order */
  size_t count;
} source_list;

/* One image (`image`), every JPEG/PNG file of `dir` in natural order ("img2" before "img10"), or the lines
 * of `list` (paths relative to `dir` when given; blank lines and lines starting with '#' skipped). Exactly one
 * of image, list, dir-alone must be set. A missing folder or list is an error naming it. */
cpose_status sources_collect(const char *image, const char *dir, const char *list, source_list *out);
void sources_free(source_list *list);

/* The file name part of a path (after the last '/'). */
const char *sources_basename(const char *path);

/* strcmp, except that runs of digits compare by value. */
int sources_natural_compare(const char *a, const char *b);

#endif
