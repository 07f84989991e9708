/*
 * Detections files (see detfile.h). Loading parses the whole list, checks every entry, keeps the person
 * boxes with their image key, and sorts them by image (stable: an image's boxes keep their file order) into
 * one array of boxes plus a sorted list of images, each a slice of that array, so a lookup is a binary search
 * and hands out a borrowed slice.
 */
#include "io/detfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/error.h"

#define PERSON_CATEGORY 1
#define MAX_STEM_DIGITS 18 /* any 18-digit number fits in an int64_t */
/* Integers beyond 2^53 do not survive a double, which is how cJSON (and JSON) hold numbers. */
#define WHERE_CAP 256 /* "<what>: entry 1234567 (image_id \"<64 characters>\")", <what> cut to 128 */

/* Which image an entry belongs to: a numeric id (id >= 0), else a file name (name, borrowed). */
typedef struct image_key {
  int64_t id;
  const char *name;
} image_key;

/* A person box while loading: its image and its index in the file (for a stable sort). */
typedef struct entry {
  image_key key;
  size_t index;
  cpose_box box;
} entry;

/* One image's boxes: boxes[start, start + count). `name` points into detfile.names (NULL for an id). */
typedef struct image_group {
  image_key key;
  size_t start, count;
} image_group;

struct detfile {
  cpose_box *boxes; /* (box_count) the person boxes, grouped by image */
  size_t box_count;
  image_group *images; /* (image_count) numeric ids ascending first, then names in strcmp order */
  size_t image_count, id_image_count;
  char *names; /* the name groups' names, each NUL-terminated, one after the other */
};

/* --- image keys ---------------------------------------------------------------------------------------- */

/* The last component of a path: detection files name images with or without their folder. */
static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The number a file name's stem spells ("000000000139.jpg" -> 139), when the stem is 1..18 digits. */
static bool stem_id(const char *name, int64_t *id_out) {
  const char *dot = strrchr(name, '.');
  size_t len = dot ? (size_t)(dot - name) : strlen(name);
  if (len == 0 || len > MAX_STEM_DIGITS) return false;
  int64_t id = 0;
  for (size_t i = 0; i < len; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    id = id * 10 + (name[i] - '0');
  }
  *id_out = id;
  return true;
}

static image_key key_of_name(const char *path) {
  image_key key = {-1, base_name(path)};
  if (stem_id(key.name, &key.id)) key.name = NULL;
  return key;
}

/* Numeric ids first (ascending), then names. */
static int compare_keys(const image_key *a, const image_key *b) {
  if (a->name || b->name) {
    if (!a->name) return -1;
    if (!b->name) return 1;
    return strcmp(a->name, b->name);
  }
  return (a->id > b->id) - (a->id < b->id);
}

static int compare_entries(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  int c = compare_keys(&a->key, &b->key);
  return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* --- one entry ----------------------------------------------------------------------------------------- */

static const cJSON *field(const cJSON *object, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(object, key);
}



/* Reads image_id into *key (borrowing a string id from the JSON tree) and appends it to `where`. */
static cpose_status read_image_id(const cJSON *item, image_key *key, char *where) {
  const cJSON *id = field(item, "image_id");
  size_t len = strlen(where);
  if (cJSON_IsString(id) && id->valuestring[0]) {
    snprintf(where + len, WHERE_CAP - len, " (image_id \"%.64s\")", id->valuestring);
    *key = key_of_name(id->valuestring);
    if (key->name && !key->name[0])
      return cpose_fail(CPOSE_ERR_PARSE, "%s: 'image_id' names a folder", where);
    return CPOSE_OK;
  }
  int64_t number;
  if (!cpose_json_exact_integer(id, &number) || number < 0) {
    return cpose_fail(CPOSE_ERR_PARSE,
                      "%s: 'image_id' is missing or not a non-negative integer or a file name", where);
  }
  snprintf(where + len, WHERE_CAP - len, " (image_id %lld)", (long long)number);
  key->id = number;
  key->name = NULL;
  return CPOSE_OK;
}

/* Whether the entry is a person: category_id absent, or 1. */
static cpose_status read_category(const cJSON *item, bool *person_out, const char *where) {
  const cJSON *category = field(item, "category_id");
  int64_t id = PERSON_CATEGORY;
  if (category && !cpose_json_exact_integer(category, &id)) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'category_id' is not an integer", where);
  }
  *person_out = id == PERSON_CATEGORY;
  return CPOSE_OK;
}

static cpose_status read_bbox(const cJSON *item, cpose_box *box, const char *where) {
  const cJSON *bbox = field(item, "bbox");
  if (!cJSON_IsArray(bbox)) return cpose_fail(CPOSE_ERR_PARSE, "%s: 'bbox' is missing or not a list", where);
  int n = cJSON_GetArraySize(bbox);
  if (n != 4)
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'bbox' has %d values, expected 4 (x, y, w, h)", where, n);
  double v[4];
  for (int k = 0; k < 4; k++) {
    if (!cpose_json_finite(cJSON_GetArrayItem(bbox, k), &v[k]) || fabs(v[k]) > 1e9) {
      return cpose_fail(CPOSE_ERR_PARSE, "%s: 'bbox'[%d] is not a finite number within +-1e9", where, k);
    }
  }
  if (v[2] < 0 || v[3] < 0) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'bbox' has a negative size %g x %g", where, v[2], v[3]);
  }
  box->x = (float)v[0];
  box->y = (float)v[1];
  box->w = (float)v[2];
  box->h = (float)v[3];
  return CPOSE_OK;
}

static cpose_status read_score(const cJSON *item, cpose_box *box, const char *where) {
  const cJSON *score = field(item, "score");
  double v = 1.0;
  if (score && (!cpose_json_finite(score, &v) || fabs(v) > 1e9)) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'score' is not a finite number", where);
  }
  box->score = (float)v;
  return CPOSE_OK;
}

/* Reads entry `index`; *person_out says whether it is a person box (only then is *e written). */
static cpose_status read_entry(const cJSON *item, size_t index, const char *what, entry *e,
                               bool *person_out) {
  char where[WHERE_CAP];
  snprintf(where, sizeof where, "%.128s: entry %zu", what, index);
  if (!cJSON_IsObject(item)) return cpose_fail(CPOSE_ERR_PARSE, "%s is not an object", where);
  entry read = {{-1, NULL}, index, {0, 0, 0, 0, 0}};
  cpose_status status = read_image_id(item, &read.key, where);
  if (status == CPOSE_OK) status = read_category(item, person_out, where);
  if (status != CPOSE_OK || !*person_out) return status;
  if ((status = read_bbox(item, &read.box, where)) != CPOSE_OK) return status;
  if ((status = read_score(item, &read.box, where)) != CPOSE_OK) return status;
  *e = read;
  return CPOSE_OK;
}

/* --- the whole file ------------------------------------------------------------------------------------ */

static size_t line_of(const char *text, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset; i++) line += text[i] == '\n';
  return line;
}

/* Parses the text as one JSON list; anything but white space after it is an error too. */
static cpose_status parse_list(const char *json, size_t size, const char *what, cJSON **root_out) {
  const char *end = NULL;
  cJSON *root = size ? cJSON_ParseWithLengthOpts(json, size, &end, 0) : NULL;
  size_t offset = end ? (size_t)(end - json) : 0;
  while (root && offset < size && json[offset] && strchr(" \t\r\n", json[offset])) offset++;
  if (root && offset < size && json[offset] != '\0') {
    cJSON_Delete(root);
    root = NULL;
  }
  if (!root) {
    if (!size) return cpose_fail(CPOSE_ERR_PARSE, "%s: empty, not JSON", what);
    return cpose_fail(CPOSE_ERR_PARSE, "%s: malformed JSON at byte %zu (line %zu)", what, offset,
                      line_of(json, offset));
  }
  if (!cJSON_IsArray(root)) {
    cJSON_Delete(root);
    return cpose_fail(CPOSE_ERR_PARSE, "%s: not a list of detections (the top level is not a JSON list)",
                      what);
  }
  *root_out = root;
  return CPOSE_OK;
}

/* Reads every entry of `list`, keeping the person boxes in entries[0..*count_out) (allocated here). */
static cpose_status read_entries(const cJSON *list, const char *what, entry **entries_out,
                                 size_t *count_out) {
  size_t n = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, list) {
    if (++n > DETFILE_MAX_ENTRIES) {
      return cpose_fail(CPOSE_ERR_LIMIT, "%s: more than %d entries", what, DETFILE_MAX_ENTRIES);
    }
  }
  entry *entries = cpose_malloc((n ? n : 1) * sizeof *entries);
  if (!entries) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: no memory for %zu entries", what, n);
  size_t index = 0, count = 0;
  cJSON_ArrayForEach(item, list) {
    bool person = false;
    cpose_status status = read_entry(item, index++, what, &entries[count], &person);
    if (status != CPOSE_OK) {
      cpose_free(entries);
      return status;
    }
    count += person;
  }
  *entries_out = entries;
  *count_out = count;
  return CPOSE_OK;
}

/* Counts the images of sorted entries and the bytes their names need. */
static void count_images(const entry *entries, size_t count, size_t *images_out, size_t *name_bytes_out) {
  size_t images = 0, name_bytes = 0;
  for (size_t i = 0; i < count; i++) {
    if (i > 0 && compare_keys(&entries[i - 1].key, &entries[i].key) == 0) continue;
    images++;
    if (entries[i].key.name) name_bytes += strlen(entries[i].key.name) + 1;
  }
  *images_out = images;
  *name_bytes_out = name_bytes;
}

/* Fills f's boxes, images and names from sorted entries (f's arrays allocated to fit). */
static void fill_groups(detfile *f, const entry *entries, size_t count) {
  char *name = f->names;
  image_group *g = NULL;
  for (size_t i = 0; i < count; i++) {
    f->boxes[i] = entries[i].box;
    if (g && compare_keys(&g->key, &entries[i].key) == 0) {
      g->count++;
      continue;
    }
    g = g ? g + 1 : f->images;
    g->key = entries[i].key;
    g->start = i;
    g->count = 1;
    if (g->key.name) { /* the JSON tree goes away: the name moves to f->names */
      size_t len = strlen(g->key.name) + 1;
      memcpy(name, g->key.name, len);
      g->key.name = name;
      name += len;
    } else {
      f->id_image_count++;
    }
  }
}

static cpose_status build(const entry *entries, size_t count, const char *what, detfile **detfile_out) {
  size_t images, name_bytes;
  count_images(entries, count, &images, &name_bytes);
  detfile *f = cpose_calloc(1, sizeof *f);
  if (!f) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: no memory", what);
  f->boxes = cpose_calloc(count ? count : 1, sizeof *f->boxes);
  f->images = cpose_calloc(images ? images : 1, sizeof *f->images);
  f->names = cpose_malloc(name_bytes ? name_bytes : 1);
  if (!f->boxes || !f->images || !f->names) {
    detfile_destroy(f);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: no memory for %zu boxes of %zu images", what, count,
                      images);
  }
  f->box_count = count;
  f->image_count = images;
  fill_groups(f, entries, count);
  *detfile_out = f;
  return CPOSE_OK;
}

cpose_status detfile_parse(const char *json, size_t size, const char *what, detfile **detfile_out) {
  if (!what) what = "detections";
  if ((!json && size) || !detfile_out)
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "%s: NULL argument", what);
  if (size > DETFILE_MAX_BYTES) {
    return cpose_fail(CPOSE_ERR_LIMIT, "%s: %zu bytes, above the cap of %zu", what, size, DETFILE_MAX_BYTES);
  }
  cJSON *root = NULL;
  entry *entries = NULL;
  size_t count = 0;
  cpose_status status = parse_list(json, size, what, &root);
  if (status == CPOSE_OK) status = read_entries(root, what, &entries, &count);
  if (status == CPOSE_OK) {
    if (count) qsort(entries, count, sizeof *entries, compare_entries);
    status = build(entries, count, what, detfile_out);
  }
  cpose_free(entries);
  cJSON_Delete(root);
  return status;
}

/* Reads all of `path` (at most DETFILE_MAX_BYTES) into a new NUL-terminated buffer (transferred). Reads in
 * chunks rather than trusting a size from stat, so that pipes work and a growing file cannot overrun. */
static cpose_status read_file(const char *path, char **text_out, size_t *size_out) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return cpose_fail(CPOSE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  cpose_status status = CPOSE_OK;
  char *text = NULL;
  size_t size = 0, capacity = 0;
  for (;;) {
    if (size == capacity) {
      if (capacity > DETFILE_MAX_BYTES) {
        status = cpose_fail(CPOSE_ERR_LIMIT, "%s: bigger than the cap of %zu bytes", path, DETFILE_MAX_BYTES);
        goto error;
      }
      size_t grown = capacity ? capacity * 2 : (size_t)1 << 16;
      if (grown > DETFILE_MAX_BYTES + 1) grown = DETFILE_MAX_BYTES + 1; /* one past the cap detects "over" */
      char *bigger = cpose_realloc(text, grown + 1);
      if (!bigger) {
        status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: no memory for %zu bytes", path, grown);
        goto error;
      }
      text = bigger;
      capacity = grown;
    }
    size_t got = fread(text + size, 1, capacity - size, fp);
    size += got;
    if (got == 0) break;
  }
  if (ferror(fp)) {
    status = cpose_fail(CPOSE_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    goto error;
  }
  fclose(fp);
  text[size] = '\0';
  *text_out = text;
  *size_out = size;
  return CPOSE_OK;
error:
  fclose(fp);
  cpose_free(text);
  return status;
}

cpose_status detfile_load(const char *path, detfile **detfile_out) {
  if (!path || !detfile_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "detfile_load: %s is NULL", path ? "detfile_out" : "path");
  }
  char *text = NULL;
  size_t size = 0;
  cpose_status status = read_file(path, &text, &size);
  if (status == CPOSE_OK) status = detfile_parse(text, size, path, detfile_out);
  cpose_free(text);
  return status;
}

void detfile_destroy(detfile *f) {
  if (!f) return;
  cpose_free(f->boxes);
  cpose_free(f->images);
  cpose_free(f->names);
  cpose_free(f);
}

/* --- lookup -------------------------------------------------------------------------------------------- */

static const image_group *find_image(const detfile *f, const image_key *key) {
  size_t lo = key->name ? f->id_image_count : 0, hi = key->name ? f->image_count : f->id_image_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = compare_keys(&f->images[mid].key, key);
    if (c == 0) return &f->images[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

size_t detfile_boxes(const detfile *f, int64_t image_id, const char *file_name, const cpose_box **boxes_out) {
  const image_group *g = NULL;
  if (f && image_id >= 0) {
    image_key key = {image_id, NULL};
    g = find_image(f, &key);
  }
  if (f && !g && file_name) {
    image_key key = key_of_name(file_name);
    if (key.id >= 0 || key.name[0]) g = find_image(f, &key);
  }
  if (boxes_out) *boxes_out = g ? f->boxes + g->start : NULL;
  return g ? g->count : 0;
}

size_t detfile_image_count(const detfile *f) {
  return f ? f->image_count : 0;
}

size_t detfile_box_count(const detfile *f) {
  return f ? f->box_count : 0;
}
