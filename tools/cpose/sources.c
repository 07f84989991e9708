#include "sources.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"

#define SOURCES_MAX 10000000
#define SOURCES_LINE_MAX 4096

int sources_natural_compare(const char *a, const char *b) {
  while (*a && *b) {
    if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
      while (*a == '0') a++;
      while (*b == '0') b++;
      size_t la = 0, lb = 0;
      while (isdigit((unsigned char)a[la])) la++;
      while (isdigit((unsigned char)b[lb])) lb++;
      if (la != lb) return la < lb ? -1 : 1; /* more significant digits: larger */
      int c = strncmp(a, b, la);
      if (c) return c;
      a += la, b += lb;
    } else {
      if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
      a++, b++;
    }
  }
  return (unsigned char)*a - (unsigned char)*b;
}

const char *sources_basename(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static int compare_paths(const void *a, const void *b) {
  return sources_natural_compare(sources_basename(*(char *const *)a), sources_basename(*(char *const *)b));
}

static bool is_image_name(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

/* Appends dir/name (or name alone when dir is NULL). */
static cpose_status add_path(source_list *list, size_t *cap, const char *dir, const char *name) {
  if (list->count >= SOURCES_MAX) return cpose_fail(CPOSE_ERR_LIMIT, "more than %d images", SOURCES_MAX);
  if (list->count == *cap) {
    size_t grown = *cap ? *cap * 2 : 64;
    char **paths = realloc(list->paths, grown * sizeof *paths);
    if (!paths) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the image list");
    list->paths = paths, *cap = grown;
  }
  size_t n = (dir ? strlen(dir) + 1 : 0) + strlen(name) + 1;
  char *path = malloc(n);
  if (!path) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the image list");
  snprintf(path, n, "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
  list->paths[list->count++] = path;
  return CPOSE_OK;
}

static cpose_status collect_dir(const char *dir, source_list *out) {
  DIR *d = opendir(dir);
  if (!d) return cpose_fail(CPOSE_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
  size_t cap = 0;
  cpose_status status = CPOSE_OK;
  for (struct dirent *e; status == CPOSE_OK && (e = readdir(d));) {
    if (e->d_name[0] != '.' && is_image_name(e->d_name)) status = add_path(out, &cap, dir, e->d_name);
  }
  closedir(d);
  if (status == CPOSE_OK) qsort(out->paths, out->count, sizeof *out->paths, compare_paths);
  return status;
}

static cpose_status collect_list(const char *list, const char *dir, source_list *out) {
  FILE *f = fopen(list, "r");
  if (!f) return cpose_fail(CPOSE_ERR_IO, "%s: cannot open list: %s", list, strerror(errno));
  char line[SOURCES_LINE_MAX];
  size_t cap = 0, number = 0;
  cpose_status status = CPOSE_OK;
  while (status == CPOSE_OK && fgets(line, sizeof line, f)) {
    number++;
    size_t n = strcspn(line, "\r\n");
    if (line[n] == '\0' && !feof(f)) {
      status = cpose_fail(CPOSE_ERR_PARSE, "%s:%zu: line longer than %d characters", list, number, SOURCES_LINE_MAX);
      break;
    }
    line[n] = '\0';
    char *start = line;
    while (isspace((unsigned char)*start)) start++;
    if (*start && *start != '#') status = add_path(out, &cap, dir, start);
  }
  fclose(f);
  return status;
}

cpose_status sources_collect(const char *image, const char *dir, const char *list, source_list *out) {
  memset(out, 0, sizeof *out);
  cpose_status status;
  if (image) {
    size_t cap = 0;
    status = add_path(out, &cap, NULL, image);
  } else if (list) {
    status = collect_list(list, dir, out);
  } else {
    status = collect_dir(dir, out);
  }
  if (status != CPOSE_OK) sources_free(out);
  return status;
}

void sources_free(source_list *list) {
  for (size_t i = 0; i < list->count; i++) free(list->paths[i]);
  free(list->paths);
  memset(list, 0, sizeof *list);
}
