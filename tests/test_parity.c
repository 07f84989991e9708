/* Parity with TensorFlow.js: every model, on every input under tests/golden/<model>/, computes the nodes its
 * golden manifest lists within the tolerances, on the reference backend and on the fast one (1 and 2
 * threads). The manifests drive the test (nodes, files, shapes), so golden files regenerated with other nodes
 * or inputs need no change here. One line per tensor reports the largest error, so that the CTest log
 * documents the measured parity and not only a pass. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpose.h"
#include "test.h"

#define GOLDEN_DIR "tests/golden"
#define MAX_NAME 256
#define MAX_INPUTS 32
#define MAX_OUTPUTS 16
#define MAX_CHANNELS 128
#define MAX_ELEMENTS ((size_t)1 << 28) /* a cap on any shape read from a manifest */
#define MAX_REPORTED 3                 /* mismatching elements printed per tensor; a count covers the rest */
#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static const char *const model_names[] = {"movenet-lightning", "movenet-thunder", "centernet"};

typedef struct backend_config {
  cpose_backend backend;
  int threads;
  const char *label;
} backend_config;

/* Two threads as well as one: the fast kernels split work across threads, which must not change results. */
static const backend_config configs[] = {
    {CPOSE_BACKEND_REF, 1, "ref"}, {CPOSE_BACKEND_FAST, 1, "fast/1"}, {CPOSE_BACKEND_FAST, 2, "fast/2"}};

/* One entry of a manifest's "outputs", with its file's values. */
typedef struct golden_output {
  char node[MAX_NAME];
  int rank; /* of the file */
  int64_t dims[CPOSE_MAX_RANK];
  size_t count;
  /* The node's whole output: "full_shape" when the file keeps only some channels, else the file's shape. */
  int full_rank;
  int64_t full_dims[CPOSE_MAX_RANK];
  int channels[MAX_CHANNELS]; /* "channels": the kept channels of the last axis, in file order */
  int channel_count;          /* 0: the file holds every channel */
  float *values;              /* the file: float32 little-endian, shape dims */
} golden_output;

/* One folder tests/golden/<model>/<input>/: the model input and the outputs TF.js computed from it. */
typedef struct golden_case {
  const char *model, *input; /* borrowed from the caller, for messages: "centernet", "messi5" */
  int input_rank;
  int64_t input_dims[CPOSE_MAX_RANK];
  float *pixels; /* NHWC (1, S, S, 3) float32, 0..255: the uint8 image; the session casts it to int32 for
                  * MoveNet, exactly, since every value is a whole number */
  size_t pixel_count;
  golden_output outputs[MAX_OUTPUTS];
  size_t output_count;
} golden_case;

/* ---- reading the golden files -------------------------------------------------------------------------- */

static int load_error(const char *where, const char *what) {
  fprintf(stderr, "parity: %s: %s\n", where, what);
  return 0;
}

/* Whether snprintf's output fitted: a truncated path would name another file. */
static int fits(int written, size_t cap) {
  return written >= 0 && (size_t)written < cap;
}

/* A file of exactly `count` float32 values, or NULL. */
static float *read_floats(const char *path, size_t count) {
  size_t size = 0;
  float *values = test_read_file(path, &size);
  if (!values) {
    load_error(path, "cannot read");
  } else if (size != count * sizeof *values) {
    fprintf(stderr, "parity: %s: %zu bytes, the manifest's shape needs %zu\n", path, size,
            count * sizeof *values);
    free(values);
    values = NULL;
  }
  return values;
}

static const char *json_string(const cJSON *object, const char *key) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
  return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* A manifest shape [1, 48, 48, 17]; every dimension positive and the product capped. */
static int parse_shape(const cJSON *array, int *rank_out, int64_t *dims, size_t *count_out) {
  int rank = cJSON_GetArraySize(array);
  if (!cJSON_IsArray(array) || rank < 1 || rank > CPOSE_MAX_RANK) return 0;
  size_t count = 1;
  for (int d = 0; d < rank; d++) {
    const cJSON *dim = cJSON_GetArrayItem(array, d);
    if (!cJSON_IsNumber(dim) || dim->valuedouble < 1 ||
        dim->valuedouble > (double)MAX_ELEMENTS / (double)count) {
      return 0;
    }
    dims[d] = (int64_t)dim->valuedouble;
    count *= (size_t)dims[d];
  }
  *rank_out = rank;
  *count_out = count;
  return 1;
}

/* "full_shape" + "channels" say the file keeps some channels of the last axis of a larger output; the other
 * axes must agree and every channel must exist. Without them the file is the whole output. */
static int load_channels(const char *where, const cJSON *entry, golden_output *g) {
  const cJSON *full = cJSON_GetObjectItemCaseSensitive(entry, "full_shape");
  const cJSON *channels = cJSON_GetObjectItemCaseSensitive(entry, "channels");
  size_t full_count = 0;
  if (!full && !channels) {
    g->full_rank = g->rank;
    memcpy(g->full_dims, g->dims, sizeof g->dims);
    return 1;
  }
  if (!parse_shape(full, &g->full_rank, g->full_dims, &full_count) || g->full_rank != g->rank) {
    return load_error(where, "\"full_shape\" is missing or does not have the rank of \"shape\"");
  }
  int last = g->rank - 1;
  g->channel_count = cJSON_GetArraySize(channels);
  if (!cJSON_IsArray(channels) || g->channel_count != g->dims[last] || g->channel_count > MAX_CHANNELS) {
    return load_error(where, "\"channels\" must list one channel per element of the last axis of \"shape\"");
  }
  for (int d = 0; d < last; d++) {
    if (g->dims[d] != g->full_dims[d])
      return load_error(where, "\"shape\" and \"full_shape\" differ before the last axis");
  }
  for (int k = 0; k < g->channel_count; k++) {
    const cJSON *channel = cJSON_GetArrayItem(channels, k);
    if (!cJSON_IsNumber(channel) || channel->valueint < 0 || channel->valueint >= g->full_dims[last]) {
      return load_error(where, "a channel is outside \"full_shape\"");
    }
    g->channels[k] = channel->valueint;
  }
  return 1;
}

static int load_output(const char *dir, const cJSON *entry, golden_output *g) {
  const char *node = json_string(entry, "node"), *file = json_string(entry, "file");
  const char *dtype = json_string(entry, "dtype");
  if (!node || !file || strlen(node) >= sizeof g->node)
    return load_error(dir, "an output lacks \"node\" or \"file\"");
  if (dtype && strcmp(dtype, "float32") != 0)
    return load_error(node, "only float32 golden files are compared");
  snprintf(g->node, sizeof g->node, "%s", node);
  if (!parse_shape(cJSON_GetObjectItemCaseSensitive(entry, "shape"), &g->rank, g->dims, &g->count)) {
    return load_error(node, "\"shape\" is missing or invalid");
  }
  if (!load_channels(node, entry, g)) return 0;
  char path[4 * MAX_NAME];
  if (!fits(snprintf(path, sizeof path, "%s/%s", dir, file), sizeof path))
    return load_error(file, "name too long");
  g->values = read_floats(path, g->count);
  return g->values != NULL;
}

static int load_outputs(golden_case *c, const cJSON *manifest, const char *dir) {
  const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(manifest, "outputs"), *entry;
  if (!cJSON_IsArray(outputs) || cJSON_GetArraySize(outputs) < 1 ||
      cJSON_GetArraySize(outputs) > MAX_OUTPUTS) {
    fprintf(stderr, "parity: %s: \"outputs\" must list 1 to %d entries\n", dir, MAX_OUTPUTS);
    return 0;
  }
  cJSON_ArrayForEach(entry, outputs) {
    if (!load_output(dir, entry, &c->outputs[c->output_count++])) return 0;
  }
  return 1;
}

/* The README's synthetic image, so that it needs no file: value(y, x, c) = (y*7 + x*13 + c*29) % 256. */
static void fill_synthetic(float *pixels, int64_t height, int64_t width) {
  for (int64_t y = 0; y < height; y++) {
    for (int64_t x = 0; x < width; x++) {
      for (int64_t c = 0; c < 3; c++)
        pixels[(y * width + x) * 3 + c] = (float)((y * 7 + x * 13 + c * 29) % 256);
    }
  }
}

/* The model input: a photo's committed uint8 RGB bytes (the manifest's "input"), or the synthetic image. */
static int load_input(golden_case *c, const cJSON *manifest) {
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(manifest, "shape");
  if (!parse_shape(shape, &c->input_rank, c->input_dims, &c->pixel_count) || c->input_rank != 4 ||
      c->input_dims[0] != 1 || c->input_dims[3] != 3) {
    return load_error(c->input, "the manifest's \"shape\" is not (1, H, W, 3)");
  }
  c->pixels = malloc(c->pixel_count * sizeof *c->pixels);
  if (!c->pixels) return load_error(c->input, "out of memory");
  if (strcmp(c->input, "synthetic") == 0) {
    fill_synthetic(c->pixels, c->input_dims[1], c->input_dims[2]);
    return 1;
  }
  const char *path = json_string(manifest, "input");
  size_t size = 0;
  uint8_t *rgb = path ? test_read_file(path, &size) : NULL;
  int ok = rgb && size == c->pixel_count;
  if (!ok)
    fprintf(stderr, "parity: %s: cannot read %zu bytes of RGB from %s\n", c->input, c->pixel_count, path);
  for (size_t i = 0; ok && i < c->pixel_count; i++) c->pixels[i] = (float)rgb[i];
  free(rgb);
  return ok;
}

static void free_case(golden_case *c) {
  free(c->pixels);
  for (size_t i = 0; i < c->output_count; i++) free(c->outputs[i].values);
}

/* Reads tests/golden/<model>/<input>/manifest.json and everything it names. */
static int load_case(const char *model, const char *input, golden_case *c) {
  memset(c, 0, sizeof *c);
  c->model = model;
  c->input = input;
  char dir[2 * MAX_NAME + sizeof GOLDEN_DIR + 8], path[sizeof dir + 16];
  if (!fits(snprintf(dir, sizeof dir, "%s/%s/%s", GOLDEN_DIR, model, input), sizeof dir)) {
    return load_error(input, "name too long");
  }
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  size_t size = 0;
  char *text = test_read_file(path, &size);
  cJSON *manifest = text ? cJSON_ParseWithLength(text, size) : NULL;
  free(text);
  int ok = manifest ? load_input(c, manifest) && load_outputs(c, manifest, dir)
                    : load_error(path, "cannot read or parse");
  cJSON_Delete(manifest);
  return ok;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(a, b);
}

/* The input folders of a model (those holding a manifest.json), sorted so that the log reads the same on
 * every machine. */
static size_t list_inputs(const char *model, char names[][MAX_NAME]) {
  char dir[MAX_NAME + sizeof GOLDEN_DIR + 8], path[sizeof dir + MAX_NAME + 16];
  snprintf(dir, sizeof dir, "%s/%s", GOLDEN_DIR, model);
  DIR *d = opendir(dir);
  if (!d) return 0;
  size_t n = 0;
  for (struct dirent *e = readdir(d); e && n < MAX_INPUTS; e = readdir(d)) {
    if (e->d_name[0] == '.' || strlen(e->d_name) >= MAX_NAME) continue;
    snprintf(path, sizeof path, "%s/%s/manifest.json", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    fclose(f);
    snprintf(names[n++], MAX_NAME, "%s", e->d_name);
  }
  closedir(d);
  qsort(names, n, MAX_NAME, compare_names);
  return n;
}

/* ---- comparing ----------------------------------------------------------------------------------------- */

typedef enum compare_kind {
  COMPARE_ABSOLUTE,   /* probabilities and decoded keypoints: |cpose - tfjs| <= 1e-4 */
  COMPARE_RELATIVE,   /* other float outputs: |cpose - tfjs| <= max(1e-3 |tfjs|, 1e-4) */
  COMPARE_DETECTIONS, /* CenterNet's boxes: equal as a set, see compare_detections */
} compare_kind;

static compare_kind compare_kind_of(const char *node) {
  if (strcmp(node, "tower_0/detections") == 0) return COMPARE_DETECTIONS;
  /* Sigmoid outputs lie in (0, 1), so an absolute bound is the meaningful one. CenterNet's tower_0/keypoints
   * (the class heatmaps) is a sigmoid too, under another name. */
  if (strstr(node, "Sigmoid") || strcmp(node, "tower_0/keypoints") == 0) return COMPARE_ABSOLUTE;
  /* MoveNet's decoded keypoints [1,1,17,3]: y and x in 0..1 of the input, and a score. */
  if (strcmp(node, "Identity:0") == 0 || strcmp(node, "Identity") == 0) return COMPARE_ABSOLUTE;
  return COMPARE_RELATIVE;
}

static double tolerance(compare_kind kind, double expected) {
  return kind == COMPARE_RELATIVE ? fmax(1e-3 * fabs(expected), 1e-4) : 1e-4;
}

/* Where the file's element i lies in the node's output, which may have more channels than the file. */
static size_t full_index(const golden_output *g, size_t i) {
  if (!g->channel_count) return i;
  size_t kept = (size_t)g->channel_count;
  return i / kept * (size_t)g->full_dims[g->full_rank - 1] + (size_t)g->channels[i % kept];
}

/* "(1,48,48,17)": a shape, or coordinates */
static void format_dims(const int64_t *dims, int rank, char *out, size_t cap) {
  size_t at = 0;
  for (int d = 0; d < rank && at < cap; d++) {
    at += (size_t)snprintf(out + at, cap - at, "%s%lld", d ? "," : "(", (long long)dims[d]);
  }
  if (at < cap) snprintf(out + at, cap - at, ")");
}

/* "(0,12,30,5)": a flat index as coordinates, which say more in a mismatch message. */
static void format_index(const golden_output *g, size_t flat, char *out, size_t cap) {
  int64_t coords[CPOSE_MAX_RANK];
  for (int d = g->full_rank - 1; d >= 0; d--) {
    coords[d] = (int64_t)(flat % (size_t)g->full_dims[d]);
    flat /= (size_t)g->full_dims[d];
  }
  format_dims(coords, g->full_rank, out, cap);
}

static int check_shape(const char *label, const golden_output *g, const cpose_tensor *t) {
  int ok = t->dtype == CPOSE_DTYPE_FLOAT32 && t->rank == g->full_rank;
  for (int d = 0; ok && d < t->rank; d++) ok = t->dims[d] == g->full_dims[d];
  if (!ok) {
    char got[128], expected[128];
    format_dims(t->dims, t->rank, got, sizeof got);
    format_dims(g->full_dims, g->full_rank, expected, sizeof expected);
    fprintf(stderr, "parity: %s: cpose's output is dtype %d %s, the golden file float32 %s\n", label,
            (int)t->dtype, got, expected);
  }
  CHECK(ok);
  return ok;
}

static void compare_dense(const char *label, const golden_output *g, const float *actual, compare_kind kind) {
  size_t bad = 0;
  double max_err = 0, worst = 0; /* worst: the largest error as a fraction of its element's tolerance */
  for (size_t i = 0; i < g->count; i++) {
    size_t at = full_index(g, i);
    double expected = g->values[i], got = actual[at], err = fabs(got - expected),
           tol = tolerance(kind, expected);
    if (isnan(err) || err > max_err) max_err = err; /* a NaN stays in the report */
    if (err / tol > worst) worst = err / tol;
    if (err <= tol || bad++ >= MAX_REPORTED) continue;
    char where[128];
    format_index(g, at, where, sizeof where);
    fprintf(stderr, "parity: MISMATCH %s at %s: cpose %.9g, tfjs %.9g, |diff| %.3g > %.3g\n", label, where,
            got, expected, err, tol);
  }
  printf("parity: %s: max abs err %.3g (%.2f of tolerance), %zu of %zu elements outside\n", label, max_err,
         worst, bad, g->count);
  CHECK(bad == 0);
}

/* A detection row of tower_0/detections [1, N, 6]. */
enum { DET_X1, DET_Y1, DET_X2, DET_Y2, DET_SCORE, DET_CLASS, DET_WIDTH };

/* Only detections above this score are compared: the graph keeps the top 100 of the 128x128x80 class
 * heatmap, and among tiny scores near-ties in TopK may order differently (so may be cut differently) when
 * the scores differ by rounding alone. */
#define DET_MIN_SCORE 0.05
#define DET_SCORE_TOL 1e-4
#define DET_BOX_TOL 1e-2 /* pixels: boxes are in the units of the 512x512 input, so 1/100 of a pixel */

typedef struct det_errors {
  double score, box; /* the largest errors of the counterparts found */
} det_errors;

/* Whether `list` (n rows) holds a counterpart of detection d: the same class, the score within
 * DET_SCORE_TOL, each box coordinate within DET_BOX_TOL. The first one found adds its errors to *e. */
static int find_counterpart(const float *d, const float *list, size_t n, det_errors *e) {
  for (size_t j = 0; j < n; j++) {
    const float *o = list + j * DET_WIDTH;
    double score_err = fabs(o[DET_SCORE] - d[DET_SCORE]), box_err = 0;
    for (int k = DET_X1; k <= DET_Y2; k++) box_err = fmax(box_err, fabs(o[k] - d[k]));
    if (o[DET_CLASS] != d[DET_CLASS] || !(score_err <= DET_SCORE_TOL) || !(box_err <= DET_BOX_TOL)) continue;
    e->score = fmax(e->score, score_err);
    e->box = fmax(e->box, box_err);
    return 1;
  }
  return 0;
}

static double lowest_score(const float *list, size_t n) {
  double lowest = INFINITY;
  for (size_t j = 0; j < n; j++) lowest = fmin(lowest, list[j * DET_WIDTH + DET_SCORE]);
  return lowest;
}

/* The detections of `from` above DET_MIN_SCORE without a counterpart in `to`. One that scores within
 * DET_SCORE_TOL of `to`'s lowest score is excused: a near-tie at the top-100 cutoff decides whether it got
 * in. */
static size_t count_unmatched(const char *label, const char *from_name, const float *from, const float *to,
                              size_t n, det_errors *e) {
  size_t unmatched = 0;
  double cutoff = lowest_score(to, n) + DET_SCORE_TOL;
  for (size_t i = 0; i < n; i++) {
    const float *d = from + i * DET_WIDTH;
    if (!(d[DET_SCORE] > DET_MIN_SCORE) || find_counterpart(d, to, n, e)) continue;
    if (d[DET_SCORE] <= cutoff) {
      printf("parity: %s: %s detection %zu (score %.6f) is at the other's top-100 cutoff, not compared\n",
             label, from_name, i, d[DET_SCORE]);
      continue;
    }
    if (unmatched++ >= MAX_REPORTED) continue;
    fprintf(stderr,
            "parity: MISMATCH %s: %s detection %zu (class %g, score %.6f, box %.3f %.3f %.3f %.3f) has no "
            "counterpart\n",
            label, from_name, i, d[DET_CLASS], d[DET_SCORE], d[DET_X1], d[DET_Y1], d[DET_X2], d[DET_Y2]);
  }
  return unmatched;
}

static void compare_detections(const char *label, const golden_output *g, const float *actual) {
  if (g->rank != 3 || g->dims[2] != DET_WIDTH || g->channel_count) {
    fprintf(stderr, "parity: %s: detections must be (1, N, %d)\n", label, DET_WIDTH);
    CHECK(0);
    return;
  }
  size_t n = (size_t)g->dims[1], above = 0;
  for (size_t i = 0; i < n; i++) above += g->values[i * DET_WIDTH + DET_SCORE] > DET_MIN_SCORE;
  det_errors e = {0, 0};
  size_t missing = count_unmatched(label, "tfjs", g->values, actual, n, &e);
  size_t extra = count_unmatched(label, "cpose", actual, g->values, n, &e);
  printf(
      "parity: %s: %zu of %zu tfjs detections above %.2f; max score err %.3g, max box err %.3g px; %zu "
      "missing, %zu extra\n",
      label, above, n, DET_MIN_SCORE, e.score, e.box, missing, extra);
  CHECK(missing == 0);
  CHECK(extra == 0);
}

/* ---- running ------------------------------------------------------------------------------------------- */

/* CHECK_OK that names the run, since one failure message would otherwise look like the next. */
static int check_status(const char *label, const char *call, cpose_status status) {
  if (status != CPOSE_OK) {
    fprintf(stderr, "parity: %s: %s failed: %s: %s\n", label, call, cpose_status_string(status),
            cpose_last_error());
  }
  CHECK(status == CPOSE_OK);
  return status == CPOSE_OK;
}

static void compare_output(const char *run_label, const cpose_session *session, size_t index,
                           const golden_output *g) {
  char label[4 * MAX_NAME];
  snprintf(label, sizeof label, "%s %s", run_label, g->node);
  cpose_tensor t;
  if (!check_status(label, "cpose_session_output", cpose_session_output(session, index, &t))) return;
  if (!check_shape(label, g, &t)) return;
  compare_kind kind = compare_kind_of(g->node);
  if (kind == COMPARE_DETECTIONS) {
    compare_detections(label, g, t.data);
  } else {
    compare_dense(label, g, t.data, kind);
  }
}

static void run_case(const cpose_model *model, const golden_case *c, const backend_config *config) {
  char label[3 * MAX_NAME];
  snprintf(label, sizeof label, "%s/%s %s", c->model, c->input, config->label);
  const char *names[MAX_OUTPUTS];
  for (size_t i = 0; i < c->output_count; i++) names[i] = c->outputs[i].node;
  cpose_session_params params = cpose_session_params_default();
  params.backend = config->backend;
  params.threads = config->threads;
  /* fast/2 on the pool even on a busy machine, whose fallback would run it on one thread: test_threadpool.c
   * checks that the fallback's runs give the pooled values bit for bit. */
  params.fixed_threads = 1;
  params.outputs = names;
  params.output_count = c->output_count;
  params.input_rank = c->input_rank;
  memcpy(params.input_dims, c->input_dims, sizeof c->input_dims);
  cpose_session *session = NULL;
  if (!check_status(label, "cpose_session_create", cpose_session_create(model, &params, &session))) return;
  if (check_status(label, "cpose_session_run", cpose_session_run(session, c->pixels, c->pixel_count))) {
    for (size_t i = 0; i < c->output_count; i++) compare_output(label, session, i, &c->outputs[i]);
  }
  cpose_session_destroy(session);
}

static void test_model(const char *name) {
  char inputs[MAX_INPUTS][MAX_NAME], path[MAX_NAME + 32];
  size_t input_count = list_inputs(name, inputs);
  if (input_count == 0)
    fprintf(stderr, "parity: %s/%s holds no input with a manifest.json\n", GOLDEN_DIR, name);
  CHECK(input_count > 0);
  snprintf(path, sizeof path, "models/%s/model.json", name);
  cpose_model *model = NULL;
  if (!check_status(path, "cpose_model_load", cpose_model_load(path, &model))) return;
  for (size_t i = 0; i < input_count; i++) {
    golden_case c;
    int loaded = load_case(name, inputs[i], &c);
    CHECK(loaded);
    for (size_t k = 0; loaded && k < COUNT_OF(configs); k++) run_case(model, &c, &configs[k]);
    free_case(&c);
  }
  cpose_model_destroy(model);
}

/* The models are downloaded by scripts/setup.sh, not committed; without them there is nothing to compare. */
static void skip_without_models(void) {
  for (size_t m = 0; m < COUNT_OF(model_names); m++) {
    char path[MAX_NAME];
    snprintf(path, sizeof path, "models/%s/model.json", model_names[m]);
    FILE *f = fopen(path, "rb");
    if (!f) TEST_SKIP("%s is missing: run `bash scripts/setup.sh` first", path);
    fclose(f);
  }
}

int main(void) {
  /* Line-buffered, so that the CTest log keeps the report in order with the failures on stderr. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  skip_without_models();
  for (size_t m = 0; m < COUNT_OF(model_names); m++) test_model(model_names[m]);
  return test_finish("test_parity");
}
