/*
 * Reads a COCO keypoint ground truth and a results list (JSON) into an eval_data, checking every field that
 * the evaluation uses, and reading them the way pycocotools' COCO() and COCO.loadRes() do:
 * - evaluated images are the ground truth's 'images' (sorted, unique ids) and categories its 'categories';
 *   annotations of other images or categories take no part, nor do results of other categories;
 * - a result whose image is not in the ground truth is an error (loadRes asserts the same);
 * - a result's area, which decides whether an unmatched detection counts in the medium and large ranges, is
 *   the extent of its keypoints, unless the first result has a non-empty 'bbox': then loadRes takes its
 *   bbox branch and every result's area is its bbox's width x height.
 * Beyond pycocotools, a result's image_id may be the file name of a ground-truth image (AlphaPose writes
 * them so), and fields that pycocotools needs but real files sometimes lack get its natural defaults
 * (iscrowd 0, num_keypoints counted from the labels, keypoints absent = none labelled).
 * Track ids (an annotation's 'track_id', a result's 'track_id' or AlphaPose's 'idx') are read for tracking
 * evaluation (mot_eval.c), which needs them; COCO evaluation does not look at them, nor fails on odd ones.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/error.h"
#include "eval/eval.h"

/* Integers beyond 2^53 do not survive a double, which is how cJSON (and JSON) hold numbers. */
/* Room for "results[1234567] (image_id "<64 characters>")". */
#define WHERE_CAP 160

/* --- JSON values --------------------------------------------------------------------------------------- */

static const cJSON *field(const cJSON *object, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(object, key);
}



/* Reads exactly `count` finite numbers from the JSON list `item` (the object's field `name`). */
static cpose_status read_numbers(const cJSON *item, const char *name, size_t count, double *out,
                                 const char *where, const char *hint) {
  if (!cJSON_IsArray(item)) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: '%s' is missing or not a list", where, name);
  }
  size_t n = 0;
  const cJSON *value;
  cJSON_ArrayForEach(value, item) {
    if (n < count && !cpose_json_finite(value, &out[n])) {
      return cpose_fail(CPOSE_ERR_PARSE, "%s: '%s'[%zu] is not a finite number", where, name, n);
    }
    n++;
  }
  if (n != count) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: '%s' has %zu values, expected %zu%s", where, name, n, count,
                      hint);
  }
  return CPOSE_OK;
}

static size_t line_of(const char *text, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset; i++) line += text[i] == '\n';
  return line;
}

/* Parses one whole file; anything but white space after the value is an error too. */
static cpose_status parse_json(const char *what, const char *text, size_t size, cJSON **root_out) {
  if (!text && size)
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "%s: NULL buffer of %zu bytes", what, size);
  if (size > EVAL_MAX_JSON_BYTES) {
    return cpose_fail(CPOSE_ERR_LIMIT, "%s: %zu bytes, above the cap of %zu", what, size,
                      EVAL_MAX_JSON_BYTES);
  }
  const char *end = NULL;
  cJSON *root = size ? cJSON_ParseWithLengthOpts(text, size, &end, 0) : NULL;
  size_t offset = end ? (size_t)(end - text) : 0;
  while (root && offset < size && text[offset] && strchr(" \t\r\n", text[offset])) offset++;
  if (root && offset < size && text[offset] != '\0') {
    cJSON_Delete(root);
    root = NULL;
  }
  if (!root) {
    if (!size) return cpose_fail(CPOSE_ERR_PARSE, "%s: empty, not JSON", what);
    return cpose_fail(CPOSE_ERR_PARSE, "%s: malformed JSON at byte %zu (line %zu)", what, offset,
                      line_of(text, offset));
  }
  *root_out = root;
  return CPOSE_OK;
}

/* The number of elements of a JSON list, checked against the cap. */
static cpose_status list_length(const cJSON *list, const char *what, size_t *count_out) {
  if (!cJSON_IsArray(list)) return cpose_fail(CPOSE_ERR_PARSE, "%s is missing or not a list", what);
  size_t n = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, list) {
    if (++n > EVAL_MAX_ENTRIES) {
      return cpose_fail(CPOSE_ERR_LIMIT, "%s has more than %d entries", what, EVAL_MAX_ENTRIES);
    }
  }
  *count_out = n;
  return CPOSE_OK;
}

/* An entry's track id: the first of `keys` it has. Without one (or with one that is not an integer) the entry
 * has no track, which is an error only where tracks are required. */
static cpose_status read_track(const cJSON *object, const char *const *keys, size_t key_count, bool required,
                               bool *has_track, int64_t *track, const char *where) {
  *has_track = false;
  *track = 0;
  for (size_t i = 0; i < key_count; i++) {
    const cJSON *item = field(object, keys[i]);
    if (!item) continue;
    *has_track = cpose_json_exact_integer(item, track);
    if (!*has_track && required)
      return cpose_fail(CPOSE_ERR_PARSE, "%s: track id '%s' is not an integer", where, keys[i]);
    return CPOSE_OK;
  }
  if (!required) return CPOSE_OK;
  return cpose_fail(CPOSE_ERR_PARSE, "%s: no track id ('%s'%s), which tracking evaluation needs", where,
                    keys[0], key_count > 1 ? " or 'idx'" : "");
}

/* --- Sorted id lists ----------------------------------------------------------------------------------- */

static int compare_int64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static bool find_id(const int64_t *ids, size_t count, int64_t id, size_t *index_out) {
  const int64_t *hit = count ? bsearch(&id, ids, count, sizeof *ids, compare_int64) : NULL;
  if (!hit) return false;
  *index_out = (size_t)(hit - ids);
  return true;
}

/* Reads the integer 'id' of every object in the ground truth's list `name` (images or categories), sorted
 * and without duplicates, as pycocotools' np.unique(getImgIds()). */
static cpose_status load_ids(const cJSON *list, const char *name, int64_t **ids_out, size_t *count_out) {
  char what[64];
  snprintf(what, sizeof what, "ground truth: '%s'", name);
  size_t n;
  cpose_status status = list_length(list, what, &n);
  if (status != CPOSE_OK) return status;
  int64_t *ids = cpose_malloc((n ? n : 1) * sizeof *ids);
  if (!ids) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: no memory for %zu ids", what, n);
  size_t i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, list) {
    if (!cpose_json_exact_integer(field(item, "id"), &ids[i])) {
      cpose_free(ids);
      return cpose_fail(CPOSE_ERR_PARSE, "ground truth: %s[%zu]: 'id' is missing or not an integer", name, i);
    }
    i++;
  }
  if (n) qsort(ids, n, sizeof *ids, compare_int64);
  size_t unique = 0;
  for (i = 0; i < n; i++) {
    if (unique == 0 || ids[i] != ids[unique - 1]) ids[unique++] = ids[i];
  }
  *ids_out = ids;
  *count_out = unique;
  return CPOSE_OK;
}

/* --- Ground-truth annotations -------------------------------------------------------------------------- */

/* iscrowd as pycocotools reads it (truthiness): absent is 0. */
static cpose_status read_crowd(const cJSON *item, bool *crowd, const char *where) {
  double v = 0;
  if (!item || cJSON_IsNull(item))
    v = 0;
  else if (cJSON_IsBool(item))
    v = cJSON_IsTrue(item);
  else if (!cpose_json_finite(item, &v))
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'iscrowd' is not a number", where);
  *crowd = v != 0;
  return CPOSE_OK;
}

/* num_keypoints decides whether a person is ignored; without the field it is the count of labelled points. */
static cpose_status read_num_keypoints(const cJSON *item, const double *keypoints, size_t k, int64_t *out,
                                       const char *where) {
  if (!item) {
    int64_t labelled = 0;
    for (size_t i = 0; i < k; i++) labelled += keypoints[3 * i + 2] > 0;
    *out = labelled;
    return CPOSE_OK;
  }
  if (!cpose_json_exact_integer(item, out) || *out < 0) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'num_keypoints' is not a non-negative integer", where);
  }
  return CPOSE_OK;
}

/* Fills gt (and its (k, 3) keypoints) from one annotation whose image and category are known. */
static cpose_status read_gt(const cJSON *ann, size_t k, eval_gt *gt, double *keypoints, const char *where) {
  if (!cpose_json_exact_integer(field(ann, "id"), &gt->id)) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'id' is missing or not an integer", where);
  }
  if (!cpose_json_finite(field(ann, "area"), &gt->area) || gt->area < 0) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'area' is missing or not a non-negative number", where);
  }
  cpose_status status = read_numbers(field(ann, "bbox"), "bbox", 4, gt->bbox, where, "");
  if (status == CPOSE_OK) status = read_crowd(field(ann, "iscrowd"), &gt->crowd, where);
  if (status != CPOSE_OK) return status;
  const cJSON *points = field(ann, "keypoints");
  char hint[64];
  snprintf(hint, sizeof hint, " (%zu keypoints x 3)", k);
  if (points && !cJSON_IsNull(points))
    status = read_numbers(points, "keypoints", 3 * k, keypoints, where, hint);
  else
    memset(keypoints, 0, 3 * k * sizeof *keypoints);
  int64_t labelled = 0;
  if (status == CPOSE_OK)
    status = read_num_keypoints(field(ann, "num_keypoints"), keypoints, k, &labelled, where);
  /* pycocotools' _prepare: ignore = iscrowd, then for keypoints also num_keypoints == 0. */
  gt->ignore = gt->crowd || labelled == 0;
  return status;
}

static cpose_status load_gts(const cJSON *list, bool require_tracks, eval_data *data) {
  size_t n = 0;
  cpose_status status = list ? list_length(list, "ground truth: 'annotations'", &n) : CPOSE_OK;
  if (status != CPOSE_OK) return status;
  size_t k = data->k;
  data->gts = cpose_malloc((n ? n : 1) * sizeof *data->gts);
  data->gt_keypoints = cpose_calloc(n ? n : 1, 3 * k * sizeof *data->gt_keypoints);
  if (!data->gts || !data->gt_keypoints) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "ground truth: no memory for %zu annotations", n);
  }
  size_t i = 0;
  const cJSON *ann;
  cJSON_ArrayForEach(ann, list) {
    char where[WHERE_CAP];
    int64_t image_id, category_id;
    snprintf(where, sizeof where, "ground truth: annotations[%zu]", i);
    if (!cpose_json_exact_integer(field(ann, "image_id"), &image_id) || !cpose_json_exact_integer(field(ann, "category_id"), &category_id)) {
      return cpose_fail(CPOSE_ERR_PARSE, "%s: 'image_id' or 'category_id' is missing or not an integer",
                        where);
    }
    snprintf(where, sizeof where, "ground truth: annotations[%zu] (image_id %lld)", i, (long long)image_id);
    eval_gt *gt = &data->gts[data->gt_count];
    i++;
    if (!find_id(data->image_ids, data->image_count, image_id, &gt->image) ||
        !find_id(data->category_ids, data->category_count, category_id, &gt->category)) {
      continue; /* pycocotools only looks up annotations of the listed images and categories */
    }
    status = read_gt(ann, k, gt, data->gt_keypoints + data->gt_count * 3 * k, where);
    /* Ignored people take no part in tracking evaluation, so they need no track (crowd regions have none). */
    static const char *const keys[] = {"track_id"};
    if (status == CPOSE_OK)
      status = read_track(ann, keys, 1, require_tracks && !gt->ignore, &gt->has_track, &gt->track, where);
    if (status != CPOSE_OK) return status;
    data->gt_count++;
  }
  return CPOSE_OK;
}

/* --- Image file names (AlphaPose's image_id) ----------------------------------------------------------- */

typedef struct name_entry {
  const char *name; /* borrowed from the ground truth's JSON: the file name without its folders */
  size_t image;     /* index into eval_data.image_ids */
} name_entry;

typedef struct name_index {
  name_entry *entries; /* (count), sorted by name */
  size_t count;
} name_index;

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *backslash = strrchr(slash ? slash : path, '\\');
  if (backslash) return backslash + 1;
  return slash ? slash + 1 : path;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(((const name_entry *)a)->name, ((const name_entry *)b)->name);
}

static cpose_status build_name_index(const cJSON *images, const eval_data *data, name_index *index) {
  size_t n = (size_t)cJSON_GetArraySize(images); /* within the cap: load_ids counted them */
  index->entries = cpose_malloc((n ? n : 1) * sizeof *index->entries);
  index->count = 0;
  if (!index->entries) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for %zu file names", n);
  const cJSON *image;
  cJSON_ArrayForEach(image, images) {
    const cJSON *name = field(image, "file_name");
    int64_t id;
    size_t at;
    if (!cJSON_IsString(name) || !cpose_json_exact_integer(field(image, "id"), &id) ||
        !find_id(data->image_ids, data->image_count, id, &at)) {
      continue;
    }
    index->entries[index->count++] = (name_entry){base_name(name->valuestring), at};
  }
  if (index->count) qsort(index->entries, index->count, sizeof *index->entries, compare_names);
  return CPOSE_OK;
}

/* Finds the image whose file name (without folders) is that of `path`; false when none or ambiguous. */
static bool find_name(const name_index *index, const char *path, size_t *image_out, bool *ambiguous) {
  name_entry key = {base_name(path), 0};
  const name_entry *hit =
      index->count ? bsearch(&key, index->entries, index->count, sizeof key, compare_names) : NULL;
  *ambiguous = false;
  if (!hit) return false;
  const name_entry *first = hit, *last = hit, *end = index->entries + index->count;
  while (first > index->entries && strcmp(first[-1].name, key.name) == 0) first--;
  while (last + 1 < end && strcmp(last[1].name, key.name) == 0) last++;
  for (const name_entry *e = first; e <= last; e++) *ambiguous |= e->image != first->image;
  *image_out = hit->image;
  return !*ambiguous;
}

/* --- Results ------------------------------------------------------------------------------------------- */

/* The entry's image: an id of the ground truth, or the file name of one of its images. */
static cpose_status result_image(const cJSON *entry, const eval_data *data, const name_index *names,
                                 size_t *image, char *where) {
  const cJSON *id = field(entry, "image_id");
  int64_t number;
  bool ambiguous = false;
  if (cJSON_IsString(id)) {
    snprintf(where + strlen(where), WHERE_CAP - strlen(where), " (image_id \"%.64s\")", id->valuestring);
    if (find_name(names, id->valuestring, image, &ambiguous)) return CPOSE_OK;
    return cpose_fail(CPOSE_ERR_PARSE, "%s: %s", where,
                      ambiguous ? "several ground-truth images have this file name"
                                : "no ground-truth image has this file name");
  }
  if (!cJSON_IsNumber(id))
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'image_id' is missing or not a number", where);
  snprintf(where + strlen(where), WHERE_CAP - strlen(where), " (image_id %.17g)", id->valuedouble);
  if (cpose_json_exact_integer(id, &number) && find_id(data->image_ids, data->image_count, number, image)) return CPOSE_OK;
  return cpose_fail(CPOSE_ERR_PARSE, "%s: no ground-truth image has this id", where);
}

/* loadRes's area of a keypoint result: the area of the box around all its keypoints (x0..x1, y0..y1). */
static double keypoint_extent(const double *keypoints, size_t k) {
  double x0 = keypoints[0], x1 = keypoints[0], y0 = keypoints[1], y1 = keypoints[1];
  for (size_t i = 1; i < k; i++) {
    x0 = fmin(x0, keypoints[3 * i]);
    x1 = fmax(x1, keypoints[3 * i]);
    y0 = fmin(y0, keypoints[3 * i + 1]);
    y1 = fmax(y1, keypoints[3 * i + 1]);
  }
  return (x1 - x0) * (y1 - y0);
}

static cpose_status read_dt(const cJSON *entry, size_t k, bool bbox_area, bool require_tracks, eval_dt *dt,
                            double *keypoints, const char *where) {
  static const char *const keys[] = {"track_id", "idx"};
  cpose_status status = read_track(entry, keys, 2, require_tracks, &dt->has_track, &dt->track, where);
  if (status != CPOSE_OK) return status;
  if (!cpose_json_finite(field(entry, "score"), &dt->score)) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: 'score' is missing or not a finite number", where);
  }
  char hint[64];
  snprintf(hint, sizeof hint, " (%zu keypoints x 3)", k);
  status = read_numbers(field(entry, "keypoints"), "keypoints", 3 * k, keypoints, where, hint);
  if (status != CPOSE_OK) return status;
  if (!bbox_area) {
    dt->area = keypoint_extent(keypoints, k);
    return CPOSE_OK;
  }
  double bbox[4];
  status = read_numbers(field(entry, "bbox"), "bbox", 4, bbox, where,
                        " (the first result has a bbox, so every result needs one, as in pycocotools)");
  dt->area = bbox[2] * bbox[3];
  return status;
}

/* pycocotools' loadRes: `'bbox' in anns[0] and not anns[0]['bbox'] == []` selects the bbox branch. */
static bool first_result_has_bbox(const cJSON *list) {
  const cJSON *bbox = list->child ? field(list->child, "bbox") : NULL;
  return bbox && !(cJSON_IsArray(bbox) && bbox->child == NULL);
}

static cpose_status load_dts(const cJSON *list, const name_index *names, bool require_tracks,
                             eval_data *data) {
  size_t n;
  if (!cJSON_IsArray(list)) return cpose_fail(CPOSE_ERR_PARSE, "results: expected a JSON list of detections");
  cpose_status status = list_length(list, "results", &n);
  if (status != CPOSE_OK) return status;
  size_t k = data->k;
  data->dts = cpose_malloc((n ? n : 1) * sizeof *data->dts);
  data->dt_keypoints = cpose_calloc(n ? n : 1, 3 * k * sizeof *data->dt_keypoints);
  if (!data->dts || !data->dt_keypoints) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "results: no memory for %zu detections", n);
  }
  bool bbox_area = first_result_has_bbox(list);
  size_t i = 0;
  const cJSON *entry;
  cJSON_ArrayForEach(entry, list) {
    char where[WHERE_CAP];
    int64_t category_id;
    eval_dt *dt = &data->dts[data->dt_count];
    snprintf(where, sizeof where, "results[%zu]", i++);
    if (!cJSON_IsObject(entry)) return cpose_fail(CPOSE_ERR_PARSE, "%s: not a JSON object", where);
    status = result_image(entry, data, names, &dt->image, where);
    if (status != CPOSE_OK) return status;
    if (!cpose_json_exact_integer(field(entry, "category_id"), &category_id)) {
      return cpose_fail(CPOSE_ERR_PARSE, "%s: 'category_id' is missing or not an integer", where);
    }
    if (!find_id(data->category_ids, data->category_count, category_id, &dt->category)) {
      data->dt_skipped++;
      continue;
    }
    status =
        read_dt(entry, k, bbox_area, require_tracks, dt, data->dt_keypoints + data->dt_count * 3 * k, where);
    if (status != CPOSE_OK) return status;
    data->dt_count++;
  }
  return CPOSE_OK;
}

/* --- Both files ---------------------------------------------------------------------------------------- */

static cpose_status load_ground_truth(const cJSON *root, bool require_tracks, eval_data *data) {
  if (!cJSON_IsObject(root)) return cpose_fail(CPOSE_ERR_PARSE, "ground truth: expected a JSON object");
  cpose_status status = load_ids(field(root, "images"), "images", &data->image_ids, &data->image_count);
  if (status == CPOSE_OK) {
    status = load_ids(field(root, "categories"), "categories", &data->category_ids, &data->category_count);
  }
  if (status == CPOSE_OK) status = load_gts(field(root, "annotations"), require_tracks, data);
  return status;
}

static cpose_status load_both(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                              size_t k, bool require_tracks, eval_data *data) {
  memset(data, 0, sizeof *data);
  data->k = k;
  cJSON *gt_root = NULL, *dt_root = NULL;
  name_index names = {NULL, 0};
  cpose_status status = parse_json("ground truth", gt_json, gt_size, &gt_root);
  if (status == CPOSE_OK) status = load_ground_truth(gt_root, require_tracks, data);
  if (status == CPOSE_OK) status = parse_json("results", dt_json, dt_size, &dt_root);
  if (status == CPOSE_OK) status = build_name_index(field(gt_root, "images"), data, &names);
  if (status == CPOSE_OK) status = load_dts(dt_root, &names, require_tracks, data);
  cpose_free(names.entries);
  cJSON_Delete(dt_root);
  cJSON_Delete(gt_root);
  if (status != CPOSE_OK) eval_data_free(data);
  return status;
}

cpose_status eval_data_load(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                            size_t k, eval_data *data) {
  return load_both(gt_json, gt_size, dt_json, dt_size, k, false, data);
}

cpose_status eval_data_load_tracked(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                                    size_t k, eval_data *data) {
  return load_both(gt_json, gt_size, dt_json, dt_size, k, true, data);
}

void eval_data_free(eval_data *data) {
  if (!data) return;
  cpose_free(data->image_ids);
  cpose_free(data->category_ids);
  cpose_free(data->gts);
  cpose_free(data->gt_keypoints);
  cpose_free(data->dts);
  cpose_free(data->dt_keypoints);
  memset(data, 0, sizeof *data);
}
