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

/* {"version": ..., "<people_key>": [{"<points_key>": [...]}, ...]} with the frame's persons. */
static void put_openpose_image(FILE *f, const format_info *info, const io_frame *frame) {
  fprintf(f, "{\"version\": \"%s\", \"%s\": [", OPENPOSE_VERSION, info->people_key);
  for (size_t j = 0; j < frame->count; j++) {
    cpose_keypoint points[OPENPOSE_POINTS];
    openpose_points(&frame->persons[j], points);
    fprintf(f, "%s{\"%s\": [", j ? ", " : "", info->points_key);
    put_keypoints(f, points, OPENPOSE_POINTS);
    fputs("]}", f);
  }
  fputs("]}", f);
}

/* ---- documents, frame by frame ------------------------------------------------------------------------ */

/* A document being written: alphapose and coco are a list with one person per line (so that the file greps
 * and diffs well), cmu and open an object with one "<file name>": {...} entry per image that has persons. */
typedef struct document {
  FILE *f;
  io_format format;
  bool empty; /* nothing after the opening bracket yet */
} document;

static void document_begin(document *d, FILE *f, io_format format) {
  *d = (document){f, format, true};
  fputc(find_format(format)->openpose ? '{' : '[', f);
}

/* Appends a checked frame. */
static void document_add(document *d, const io_frame *frame) {
  const format_info *info = find_format(d->format);
  for (size_t j = 0; j < (info->openpose ? (frame->count > 0) : frame->count); j++) {
    fputs(d->empty ? "\n" : ",\n", d->f);
    d->empty = false;
    if (!info->openpose) {
      put_person(d->f, d->format, frame, j);
      continue;
    }
    put_string(d->f, base_name(frame->image_name));
    fputs(": ", d->f);
    put_openpose_image(d->f, info, frame);
  }
}

static void document_end(document *d) {
  bool openpose = find_format(d->format)->openpose;
  if (!d->empty) fputc('\n', d->f);
  fputs(openpose ? "}\n" : "]\n", d->f);
}

static cpose_status check_stream(FILE *f) {
  if (fflush(f) != 0 || ferror(f)) return cpose_fail(CPOSE_ERR_IO, "write failed: %s", strerror(errno));
  return CPOSE_OK;
}

/* ---- results files ------------------------------------------------------------------------------------ */

struct io_results_writer {
  cpose_atomic_file file;
  document doc;
  char *path;
};

cpose_status io_results_writer_open(const char *path, io_format format, io_results_writer **writer_out) {
  if (!path || !writer_out) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_results_writer_open: NULL argument");
  if (!find_format(format)) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "unknown result format %d", (int)format);
  io_results_writer *w = cpose_calloc(1, sizeof *w);
  char *copy = cpose_strdup(path);
  if (!w || !copy) {
    cpose_free(w);
    cpose_free(copy);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  w->path = copy;
  cpose_status status = cpose_atomic_open(w->path, &w->file);
  if (status != CPOSE_OK) {
    cpose_free(w->path);
    cpose_free(w);
    return status;
  }
  document_begin(&w->doc, w->file.stream, format);
  *writer_out = w;
  return CPOSE_OK;
}

cpose_status io_results_writer_add(io_results_writer *w, const io_frame *frame) {
  if (!w || !frame) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_results_writer_add: NULL argument");
  cpose_status status = check_frame(w->doc.format, frame);
  if (status != CPOSE_OK) return status;
  document_add(&w->doc, frame);
  if (ferror(w->doc.f)) return cpose_fail(CPOSE_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
  return CPOSE_OK;
}

cpose_status io_results_writer_close(io_results_writer *w, bool keep) {
  if (!w) return CPOSE_OK;
  cpose_status status = CPOSE_OK;
  if (keep) {
    document_end(&w->doc);
    status = cpose_atomic_commit(&w->file);
  } else {
    cpose_atomic_abandon(&w->file);
  }
  cpose_free(w->path);
  cpose_free(w);
  return status;
}

cpose_status io_write_results(const char *path, io_format format, const io_frame *frames,
                              size_t frame_count) {
  if (!path) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_write_results: path is NULL");
  cpose_status status = check_frames(format, frames, frame_count);
  if (status != CPOSE_OK) return cpose_fail_context(status, "%s", path);
  io_results_writer *w = NULL;
  status = io_results_writer_open(path, format, &w);
  for (size_t i = 0; status == CPOSE_OK && i < frame_count; i++) status = io_results_writer_add(w, &frames[i]);
  if (status != CPOSE_OK) {
    io_results_writer_close(w, false);
    return status;
  }
  return io_results_writer_close(w, true);
}

cpose_status io_write_results_stream(FILE *stream, io_format format, const io_frame *frames,
                                     size_t frame_count) {
  if (!stream) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_write_results_stream: stream is NULL");
  cpose_status status = check_frames(format, frames, frame_count);
  if (status != CPOSE_OK) return status;
  document doc;
  document_begin(&doc, stream, format);
  for (size_t i = 0; i < frame_count; i++) document_add(&doc, &frames[i]);
  document_end(&doc);
  return check_stream(stream);
}

cpose_status io_write_json_line(FILE *stream, io_format format, const io_frame *frame) {
  if (!stream || !frame) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "io_write_json_line: NULL argument");
  if (format != IO_FORMAT_ALPHAPOSE && format != IO_FORMAT_COCO) format = IO_FORMAT_ALPHAPOSE;
  cpose_status status = check_frame(format, frame);
  if (status != CPOSE_OK) return status;
  fputs("{\"image_id\": ", stream);
  put_image_id(stream, format, frame->image_name);
  fputs(", \"persons\": [", stream);
  for (size_t j = 0; j < frame->count; j++) {
    if (j > 0) fputs(", ", stream);
    put_person(stream, format, frame, j);
  }
  fputs("]}\n", stream);
  return check_stream(stream);
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
  cpose_atomic_file file;
  status = cpose_atomic_open(path, &file);
  if (status == CPOSE_OK) {
    put_openpose_image(file.stream, info, frame);
    fputc('\n', file.stream);
    status = cpose_atomic_commit(&file);
  }
  cpose_free(path);
  return status;
}
