/*
 * Result files in AlphaPose's formats; io.h gives the schemas and where they come from.
 *
 * The text is streamed through stdio: a write error is sticky in the FILE and checked once at the end, so the
 * serializers stay plain sequences of puts. Every input check runs before the first byte is written, and
 * files are written to a temporary file that is renamed over the destination, so a failure never leaves half
 * a document behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file.h"
#include "io/io.h"

#define COCO_KEYPOINTS 17
#define OPENPOSE_POINTS 18
#define NECK 17 /* AlphaPose appends the neck after the 17 COCO keypoints */
#define OPENPOSE_VERSION "AlphaPose v0.3"

/* OpenPose's COCO-18 order as indices into COCO-17 plus the neck: AlphaPose's
 * indexarr = [0, 51, 18, 24, 30, 15, 21, 27, 36, 42, 48, 33, 39, 45, 6, 3, 12, 9], offsets into [x, y, c] *
 * 18, divided by 3. */
static const uint8_t openpose_order[OPENPOSE_POINTS] = {0,  NECK, 6,  8,  10, 5, 7, 9, 12,
                                                        14, 16,   11, 13, 15, 2, 1, 4, 3};

typedef struct format_info {
  const char *name;
  bool openpose;          /* cmu, open: 18 points per person, one object per image */
  const char *people_key; /* the image object's list of persons */
  const char *points_key; /* a person's list of numbers */
} format_info;

static const format_info formats[] = {
    [IO_FORMAT_ALPHAPOSE] = {"alphapose", false, NULL, NULL},
    [IO_FORMAT_COCO] = {"coco", false, NULL, NULL},
    [IO_FORMAT_CMU] = {"cmu", true, "bodies", "joints"},
    [IO_FORMAT_OPEN] = {"open", true, "people", "pose_keypoints_2d"},
};
#define FORMAT_COUNT (sizeof formats / sizeof formats[0])

static const format_info *find_format(io_format format) {
  return (size_t)format < FORMAT_COUNT ? &formats[format] : NULL;
}

cpose_status io_format_parse(const char *name, io_format *format_out) {
  for (size_t i = 0; name && i < FORMAT_COUNT; i++) {
    if (strcmp(name, formats[i].name) == 0) {
      *format_out = (io_format)i;
      return CPOSE_OK;
    }
  }
  return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "unknown result format '%s' (alphapose, coco, cmu or open)",
                    name ? name : "(null)");
}

const char *io_format_name(io_format format) {
  const format_info *info = find_format(format);
  return info ? info->name : "unknown";
}

/* ---- file names --------------------------------------------------------------------------------------- */

/* The name without folders: AlphaPose's os.path.basename. */
static const char *base_name(const char *name) {
  const char *slash = strrchr(name, '/');
  return slash ? slash + 1 : name;
}

/* The length of the name's part before its first '.': AlphaPose's name.split('.')[0]. */
static size_t stem_length(const char *base) {
  return strcspn(base, ".");
}

/* Reads `n` (at least one) decimal digits into *value_out. Fails (false) on any other character or a value
 * above `max`. */
static bool parse_digits(const char *text, size_t n, int64_t max, int64_t *value_out) {
  int64_t value = 0;
  for (size_t i = 0; i < n; i++) {
    if (text[i] < '0' || text[i] > '9') return false;
    int digit = text[i] - '0';
    if (value > (max - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *value_out = value;
  return n > 0;
}

cpose_status io_coco_image_id(const char *image_name, int64_t *id_out) {
  if (!image_name) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_coco_image_id: image_name is NULL");
  /* AlphaPose: int(os.path.basename(name).split('.')[0].split('_')[-1]). */
  const char *base = base_name(image_name);
  size_t stem = stem_length(base);
  size_t start = stem;
  while (start > 0 && base[start - 1] != '_') start--;
  /* COCO ids are read into doubles by most JSON readers (cJSON, JavaScript): keep them exact there. */
  const int64_t max_id = ((int64_t)1 << 53) - 1;
  int64_t id = 0;
  if (!parse_digits(base + start, stem - start, max_id, &id)) {
    return cpose_fail(
        CPOSE_ERR_INVALID_ARGUMENT,
        "'%s' has no COCO image id: the file name before its first '.' must be digits, or end in "
        "'_' and digits (\"000000000139.jpg\", \"COCO_val2014_000000000139.jpg\"), at most "
        "%" PRId64,
        image_name, max_id);
  }
  *id_out = id;
  return CPOSE_OK;
}

/* ---- checks ------------------------------------------------------------------------------------------- */

static cpose_status check_frame(io_format format, const io_frame *frame) {
  const format_info *info = find_format(format);
  if (!frame->image_name || !*base_name(frame->image_name)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "no image file name");
  }
  const char *name = frame->image_name;
  if (frame->count > 0 && !frame->persons) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "'%s': persons is NULL but count is %zu", name,
                      frame->count);
  }
  int min_keypoints = info->openpose ? COCO_KEYPOINTS : 1;
  for (size_t i = 0; i < frame->count; i++) {
    int k = frame->persons[i].keypoint_count;
    if (k < min_keypoints || k > CPOSE_MAX_KEYPOINTS) {
      return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT,
                        "'%s': person %zu has %d keypoints; the %s format takes %d to %d", name, i, k,
                        info->name, min_keypoints, CPOSE_MAX_KEYPOINTS);
    }
  }
  /* As AlphaPose, which computes the id per person: a frame without persons needs none. */
  int64_t id;
  if (format == IO_FORMAT_COCO && frame->count > 0) return io_coco_image_id(name, &id);
  return CPOSE_OK;
}

static cpose_status check_frames(io_format format, const io_frame *frames, size_t frame_count) {
  if (!find_format(format))
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "unknown result format %d", (int)format);
  if (frame_count > 0 && !frames) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "frames is NULL but frame_count is %zu", frame_count);
  }
  for (size_t i = 0; i < frame_count; i++) {
    cpose_status status = check_frame(format, &frames[i]);
    if (status != CPOSE_OK) return cpose_fail_context(status, "frame %zu", i);
  }
  return CPOSE_OK;
}

/* ---- JSON values -------------------------------------------------------------------------------------- */

static void put_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
    } else if (c < 0x20) {
      fprintf(f, "\\u%04x", c);
    } else {
      fputc(c, f); /* bytes from 0x80 pass through: a UTF-8 name stays UTF-8 */
    }
  }
  fputc('"', f);
}

/* Nine significant digits read back as the same float32. Callers clean values first (see io.h); anything
 * not finite that still gets here becomes 0, because JSON cannot hold it. The separator is forced to '.' in
 * case the program set a locale whose decimal separator is ','. */
static void put_number(FILE *f, double v) {
  char text[32];
  snprintf(text, sizeof text, "%.9g", isfinite(v) ? v : 0.0);
  for (char *p = text; *p; p++) {
    if (*p == ',') *p = '.';
  }
  fputs(text, f);
}

static float finite_or_zero(float v) {
  return isfinite(v) ? v : 0.0f;
}

/* A keypoint as written: one with any value not finite becomes (0, 0, 0), "not found", rather than a point
 * at a made-up place that keeps a real confidence (or a real place with a made-up confidence). */
static cpose_keypoint clean_keypoint(cpose_keypoint k) {
  if (isfinite(k.x) && isfinite(k.y) && isfinite(k.score)) return k;
  return (cpose_keypoint){0.0f, 0.0f, 0.0f};
}

/* "x, y, c" of each keypoint, comma-separated. */
static void put_keypoints(FILE *f, const cpose_keypoint *keypoints, int count) {
  for (int i = 0; i < count; i++) {
    cpose_keypoint k = clean_keypoint(keypoints[i]);
    if (i > 0) fputs(", ", f);
    put_number(f, k.x);
    fputs(", ", f);
    put_number(f, k.y);
    fputs(", ", f);
    put_number(f, k.score);
  }
}

/* ---- alphapose and coco: one list of persons ---------------------------------------------------------- */

static void put_image_id(FILE *f, io_format format, const char *image_name) {
  int64_t id = 0;
  if (format == IO_FORMAT_COCO && io_coco_image_id(image_name, &id) == CPOSE_OK) {
    fprintf(f, "%" PRId64, id);
  } else {
    put_string(f, base_name(image_name)); /* alphapose (coco names were checked before writing began) */
  }
}

/* The person serializer of both list formats; `index` is the person's index within its frame. */
static void put_person(FILE *f, io_format format, const io_frame *frame, size_t index) {
  const cpose_person *p = &frame->persons[index];
  fputs("{\"image_id\": ", f);
  put_image_id(f, format, frame->image_name);
  fputs(", \"category_id\": 1, \"keypoints\": [", f);
  put_keypoints(f, p->keypoints, p->keypoint_count);
  fputs("], \"score\": ", f);
  put_number(f, finite_or_zero(p->score));
  fputs(", \"box\": [", f);
  for (int i = 0; i < 4; i++) {
    if (i > 0) fputs(", ", f);
    put_number(f, finite_or_zero(p->box[i]));
  }
  int64_t idx = p->track_id > 0 ? (int64_t)p->track_id : (int64_t)index;
  fprintf(f, "], \"idx\": %" PRId64 "}", idx);
}

/* One person per line, so that the file greps and diffs well; still one JSON document. */
static void put_person_list(FILE *f, io_format format, const io_frame *frames, size_t frame_count) {
  bool first = true;
  fputc('[', f);
  for (size_t i = 0; i < frame_count; i++) {
    for (size_t j = 0; j < frames[i].count; j++) {
      fputs(first ? "\n" : ",\n", f);
      put_person(f, format, &frames[i], j);
      first = false;
    }
  }
  fputs(first ? "]\n" : "\n]\n", f);
}

/* ---- cmu and open: objects per image ------------------------------------------------------------------ */

/* The 18 OpenPose points of a person with at least 17 COCO keypoints. The neck is the shoulders' midpoint
 * with their mean confidence: AlphaPose averages x, y and c alike. Taken from the cleaned shoulders, so a
 * non-finite shoulder gives a neck between (0, 0) and the other one with half its confidence, as AlphaPose
 * would compute from the written values. */
static void openpose_points(const cpose_person *p, cpose_keypoint out[OPENPOSE_POINTS]) {
  cpose_keypoint coco[COCO_KEYPOINTS + 1];
  for (int k = 0; k < COCO_KEYPOINTS; k++) coco[k] = clean_keypoint(p->keypoints[k]);
  cpose_keypoint l = coco[5], r = coco[6]; /* left and right shoulder */
  coco[NECK] = (cpose_keypoint){(float)(((double)l.x + r.x) / 2), (float)(((double)l.y + r.y) / 2),
                                (float)(((double)l.score + r.score) / 2)};
  for (int i = 0; i < OPENPOSE_POINTS; i++) out[i] = coco[openpose_order[i]];
}

/* A frame of the combined file: `frame` indexes the caller's frames; `name` is its file name without folders.
 */
typedef struct name_entry {
  const char *name;
  size_t frame;
} name_entry;

/* {"version": ..., "<people_key>": [{"<points_key>": [...]}, ...]} with the persons of `entries`' frames. */
static void put_openpose_image(FILE *f, const format_info *info, const io_frame *frames,
                               const name_entry *entries, size_t entry_count) {
  fprintf(f, "{\"version\": \"%s\", \"%s\": [", OPENPOSE_VERSION, info->people_key);
  bool first = true;
  for (size_t e = 0; e < entry_count; e++) {
    const io_frame *frame = &frames[entries[e].frame];
    for (size_t j = 0; j < frame->count; j++) {
      cpose_keypoint points[OPENPOSE_POINTS];
      openpose_points(&frame->persons[j], points);
      fprintf(f, "%s{\"%s\": [", first ? "" : ", ", info->points_key);
      put_keypoints(f, points, OPENPOSE_POINTS);
      fputs("]}", f);
      first = false;
    }
  }
  fputs("]}", f);
}

/* A run of `count` entries, from `start` in the name-sorted entries, that share a file name; `first_frame` is
 * where that name first appears. */
typedef struct image_group {
  size_t start, count, first_frame;
} image_group;

static int compare_entries(const void *a, const void *b) {
  const name_entry *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c != 0) return c;
  return (x->frame > y->frame) - (x->frame < y->frame);
}

static int compare_groups(const void *a, const void *b) {
  const image_group *x = a, *y = b;
  return (x->first_frame > y->first_frame) - (x->first_frame < y->first_frame);
}

/* The combined file, keyed by file name. AlphaPose builds a dict: frames that share a name share one entry
 * and keys keep the order of first appearance. Sorting by (name, frame) groups them in O(n log n); sorting
 * the groups by their first frame restores that order. */
static cpose_status put_openpose_combined(FILE *f, const format_info *info, const io_frame *frames,
                                          size_t frame_count) {
  size_t entry_count = 0;
  for (size_t i = 0; i < frame_count; i++) entry_count += frames[i].count > 0;
  if (entry_count == 0) {
    fputs("{}\n", f);
    return CPOSE_OK;
  }
  name_entry *entries = cpose_calloc(entry_count, sizeof *entries);
  image_group *groups = cpose_calloc(entry_count, sizeof *groups);
  if (!entries || !groups) {
    cpose_free(entries);
    cpose_free(groups);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "out of memory grouping %zu images by name", entry_count);
  }
  size_t n = 0, group_count = 0;
  for (size_t i = 0; i < frame_count; i++) {
    if (frames[i].count > 0) entries[n++] = (name_entry){base_name(frames[i].image_name), i};
  }
  qsort(entries, entry_count, sizeof *entries, compare_entries);
  for (size_t e = 0; e < entry_count; e++) {
    if (e == 0 || strcmp(entries[e].name, entries[e - 1].name) != 0) {
      groups[group_count++] = (image_group){e, 0, entries[e].frame};
    }
    groups[group_count - 1].count++;
  }
  qsort(groups, group_count, sizeof *groups, compare_groups);
  fputc('{', f);
  for (size_t g = 0; g < group_count; g++) {
    fputs(g == 0 ? "\n" : ",\n", f);
    put_string(f, entries[groups[g].start].name);
    fputs(": ", f);
    put_openpose_image(f, info, frames, entries + groups[g].start, groups[g].count);
  }
  fputs("\n}\n", f);
  cpose_free(entries);
  cpose_free(groups);
  return CPOSE_OK;
}

/* ---- writing ------------------------------------------------------------------------------------------ */

/* What one file holds: the results of `frames`; `single` for a per-image file. */
typedef struct write_job {
  io_format format;
  const io_frame *frames;
  size_t frame_count;
  bool single;
} write_job;

static cpose_status check_stream(FILE *f) {
  if (fflush(f) != 0 || ferror(f)) return cpose_fail(CPOSE_ERR_IO, "write failed: %s", strerror(errno));
  return CPOSE_OK;
}

/* Writes the job's text; its inputs were checked. */
static cpose_status put_job(FILE *f, const write_job *job) {
  const format_info *info = find_format(job->format);
  cpose_status status = CPOSE_OK;
  if (job->single) {
    name_entry only = {base_name(job->frames[0].image_name), 0};
    put_openpose_image(f, info, job->frames, &only, 1);
    fputc('\n', f);
  } else if (info->openpose) {
    status = put_openpose_combined(f, info, job->frames, job->frame_count);
  } else {
    put_person_list(f, job->format, job->frames, job->frame_count);
  }
  return status == CPOSE_OK ? check_stream(f) : status;
}

/* Writes the job to a temporary file renamed over `path` once complete (core/file.h). */
static cpose_status write_file_atomic(const char *path, const write_job *job) {
  cpose_atomic_file file;
  cpose_status status = cpose_atomic_open(path, &file);
  if (status != CPOSE_OK) return status;
  status = put_job(file.stream, job);
  if (status != CPOSE_OK) {
    cpose_fail_context(status, "%s", path);
    cpose_atomic_abandon(&file);
    return status;
  }
  return cpose_atomic_commit(&file);
}

cpose_status io_write_results(const char *path, io_format format, const io_frame *frames,
                              size_t frame_count) {
  if (!path) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_write_results: path is NULL");
  cpose_status status = check_frames(format, frames, frame_count);
  if (status != CPOSE_OK) return cpose_fail_context(status, "%s", path);
  write_job job = {format, frames, frame_count, false};
  return write_file_atomic(path, &job);
}

cpose_status io_write_results_stream(FILE *stream, io_format format, const io_frame *frames,
                                     size_t frame_count) {
  if (!stream) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_write_results_stream: stream is NULL");
  cpose_status status = check_frames(format, frames, frame_count);
  if (status != CPOSE_OK) return status;
  write_job job = {format, frames, frame_count, false};
  return put_job(stream, &job);
}

cpose_status io_write_frame_file(const char *dir, io_format format, const io_frame *frame) {
  if (!dir || !frame)
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_write_frame_file: dir or frame is NULL");
  const format_info *info = find_format(format);
  if (!info || !info->openpose) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "the %s format has no per-image files (cmu and open have)",
                      io_format_name(format));
  }
  cpose_status status = check_frame(format, frame);
  if (status != CPOSE_OK || frame->count == 0) return status;
  const char *base = base_name(frame->image_name);
  size_t stem = stem_length(base);
  if (stem == 0) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT,
                      "cannot name a file after '%s': nothing before its first '.'", frame->image_name);
  }
  size_t dir_length = strlen(dir);
  char *path = cpose_malloc(dir_length + 1 + stem + sizeof ".json");
  if (!path)
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "out of memory naming the file of '%s'", frame->image_name);
  memcpy(path, dir, dir_length);
  path[dir_length] = '/';
  memcpy(path + dir_length + 1, base, stem);
  memcpy(path + dir_length + 1 + stem, ".json", sizeof ".json");
  write_job job = {format, frame, 1, true};
  status = write_file_atomic(path, &job);
  cpose_free(path);
  return status;
}
