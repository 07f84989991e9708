/* The sinks (src/io): every result format is written, parsed back with cJSON and checked key by key against
 * AlphaPose's schema (written out here independently of the writer's tables); COCO image ids from file names;
 * atomic files (a failing write leaves nothing, an existing file is replaced whole); values JSON cannot hold;
 * allocation failures; and skeleton drawing: where pixels change, where they must not, colours per track,
 * sizes per person, and no access outside the image whatever the input. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "cpose.h"
#include "io/io.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------------------------------ */

/* A person with `k` keypoints at distinct, non-round places and confidences, so that any mix-up shows. */
static cpose_person make_person(float x0, float y0, int k, int track_id) {
  cpose_person p;
  memset(&p, 0, sizeof p);
  p.keypoint_count = k;
  p.track_id = track_id;
  p.box[0] = x0 - 3.25f, p.box[1] = y0 - 7.5f, p.box[2] = 123.375f, p.box[3] = 251.625f;
  p.box_score = 0.875f;
  p.score = 2.718281828f;
  for (int i = 0; i < k; i++) {
    p.keypoints[i] = (cpose_keypoint){x0 + 10.1f * (float)i + 0.3f, y0 + 5.7f * (float)i + 0.1f,
                                      0.31f + 0.037f * (float)(i % 17)};
  }
  return p;
}

static cJSON *parse_file(const char *path) {
  char *text = test_read_file(path, NULL);
  cJSON *json = text ? cJSON_Parse(text) : NULL;
  free(text);
  return json;
}

/* What io_write_results_stream writes, as a string (malloc'ed); NULL when it fails. */
static char *write_to_string(io_format format, const io_frame *frames, size_t count) {
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  cpose_status status = io_write_results_stream(f, format, frames, count);
  fclose(f);
  if (status != CPOSE_OK) {
    CHECK(size == 0); /* nothing is written when a check fails */
    free(text);
    return NULL;
  }
  return text;
}

static int key_count(const cJSON *object) {
  int n = 0;
  for (const cJSON *c = object ? object->child : NULL; c; c = c->next) n++;
  return n;
}

/* A number in the file equals the float it was written from (9 digits read back exactly). */
static int same_float(const cJSON *number, float expected) {
  return cJSON_IsNumber(number) && (float)number->valuedouble == expected;
}

/* The names in a folder, sorted, space-separated. */
static void list_dir(const char *dir, char *out, size_t cap) {
  char names[32][256];
  int n = 0;
  out[0] = '\0';
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d)) && n < 32;) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      snprintf(names[n++], 256, "%s", e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
  for (int i = 0; i < n; i++) {
    if (i) strncat(out, " ", cap - strlen(out) - 1);
    strncat(out, names[i], cap - strlen(out) - 1);
  }
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  char path[512];
  for (struct dirent *e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (unlink(path) != 0) remove_dir(path);
  }
  closedir(d);
  rmdir(dir);
}

/* ---- alphapose and coco ------------------------------------------------------------------------------- */

/* One person object of the list formats: exactly image_id, category_id, keypoints, score, box, idx. */
static void check_list_person(const cJSON *o, const cpose_person *p, const char *image_id, int64_t coco_id,
                              int idx) {
  CHECK(cJSON_IsObject(o));
  CHECK(key_count(o) == 6);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "image_id");
  if (image_id) CHECK(cJSON_IsString(id) && strcmp(id->valuestring, image_id) == 0);
  if (!image_id) CHECK(cJSON_IsNumber(id) && id->valuedouble == (double)coco_id);
  const cJSON *category = cJSON_GetObjectItemCaseSensitive(o, "category_id");
  CHECK(cJSON_IsNumber(category) && category->valuedouble == 1.0);
  const cJSON *kps = cJSON_GetObjectItemCaseSensitive(o, "keypoints");
  CHECK(cJSON_IsArray(kps) && cJSON_GetArraySize(kps) == 3 * p->keypoint_count);
  int wrong = 0;
  for (int k = 0; k < p->keypoint_count && cJSON_IsArray(kps); k++) {
    wrong += !same_float(cJSON_GetArrayItem(kps, 3 * k), p->keypoints[k].x);
    wrong += !same_float(cJSON_GetArrayItem(kps, 3 * k + 1), p->keypoints[k].y);
    wrong += !same_float(cJSON_GetArrayItem(kps, 3 * k + 2), p->keypoints[k].score);
  }
  CHECK(wrong == 0);
  CHECK(same_float(cJSON_GetObjectItemCaseSensitive(o, "score"), p->score));
  const cJSON *box = cJSON_GetObjectItemCaseSensitive(o, "box");
  CHECK(cJSON_IsArray(box) && cJSON_GetArraySize(box) == 4);
  for (int i = 0; i < 4 && cJSON_IsArray(box); i++) CHECK(same_float(cJSON_GetArrayItem(box, i), p->box[i]));
  const cJSON *idx_item = cJSON_GetObjectItemCaseSensitive(o, "idx");
  CHECK(cJSON_IsNumber(idx_item) && idx_item->valuedouble == idx);
}

static void test_alphapose_list(void) {
  cpose_person a[2] = {make_person(10, 20, 17, 0), make_person(300, 40, 17, 0)};
  cpose_person b[1] = {make_person(5, 6, 26, 7)}; /* Halpe-26: all keypoints are written */
  io_frame frames[3] = {{"000000000139.jpg", a, 2}, {"empty.jpg", NULL, 0}, {"some/folder/b.png", b, 1}};
  char *text = write_to_string(IO_FORMAT_ALPHAPOSE, frames, 3);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  CHECK(cJSON_IsArray(root) && cJSON_GetArraySize(root) == 3);
  if (cJSON_GetArraySize(root) == 3) {
    check_list_person(cJSON_GetArrayItem(root, 0), &a[0], "000000000139.jpg", 0, 0); /* untracked: index */
    check_list_person(cJSON_GetArrayItem(root, 1), &a[1], "000000000139.jpg", 0, 1);
    check_list_person(cJSON_GetArrayItem(root, 2), &b[0], "b.png", 0, 7); /* folders dropped; track id */
  }
  cJSON_Delete(root);
  free(text);

  /* No persons at all: an empty list. */
  text = write_to_string(IO_FORMAT_ALPHAPOSE, frames + 1, 1);
  root = text ? cJSON_Parse(text) : NULL;
  CHECK(cJSON_IsArray(root) && cJSON_GetArraySize(root) == 0);
  cJSON_Delete(root);
  free(text);
  text = write_to_string(IO_FORMAT_ALPHAPOSE, NULL, 0);
  CHECK(text && strcmp(text, "[]\n") == 0);
  free(text);
}

static void test_coco_list(void) {
  cpose_person a[1] = {make_person(10, 20, 17, 0)};
  cpose_person b[2] = {make_person(1, 2, 17, 3), make_person(4, 5, 17, 0)};
  io_frame frames[3] = {{"000000000139.jpg", a, 1},
                        {"no digits here.jpg", NULL, 0},
                        {"val/COCO_val2014_000000000785.jpg", b, 2}};
  char *text = write_to_string(IO_FORMAT_COCO, frames, 3);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  CHECK(cJSON_IsArray(root) && cJSON_GetArraySize(root) == 3);
  if (cJSON_GetArraySize(root) == 3) {
    check_list_person(cJSON_GetArrayItem(root, 0), &a[0], NULL, 139, 0);
    check_list_person(cJSON_GetArrayItem(root, 1), &b[0], NULL, 785, 3);
    check_list_person(cJSON_GetArrayItem(root, 2), &b[1], NULL, 785, 1);
  }
  cJSON_Delete(root);
  free(text);
  /* A frame with persons and no id in its name fails, naming it; nothing is written. */
  frames[1].persons = a, frames[1].count = 1;
  CHECK(write_to_string(IO_FORMAT_COCO, frames, 3) == NULL);
  CHECK(strstr(cpose_last_error(), "no digits here.jpg") != NULL);
  CHECK(strstr(cpose_last_error(), "frame 1") != NULL);
}

static void test_coco_image_ids(void) {
  static const struct {
    const char *name;
    int64_t id; /* -1: an error */
  } cases[] = {
      {"000000000139.jpg", 139},
      {"COCO_val2014_000000000785.jpg", 785},
      {"dir/sub/000000000001.png", 1},
      {"0.jpg", 0},
      {"0000.jpg", 0},
      {"42", 42},
      {"7.tar.gz", 7},
      {"frame_12.v2.png", 12},
      {"9007199254740991.jpg", 9007199254740991LL}, /* 2^53 - 1 */
      {"9007199254740992.jpg", -1},                 /* 2^53: not exact as a double */
      {"99999999999999999999999.jpg", -1},          /* would overflow int64 */
      {"abc.jpg", -1},
      {"img12.jpg", -1}, /* AlphaPose's int('img12') fails too */
      {"12_abc.jpg", -1},
      {"abc_.jpg", -1},
      {"-5.jpg", -1},
      {"+5.jpg", -1},
      {" 5.jpg", -1},
      {"5 .jpg", -1},
      {".jpg", -1},
      {"", -1},
      {"dir/", -1},
      {"12/abc.jpg", -1}, /* digits in a folder do not count */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t id = -7;
    cpose_status status = io_coco_image_id(cases[i].name, &id);
    if (cases[i].id >= 0) {
      CHECK(status == CPOSE_OK && id == cases[i].id);
      if (status != CPOSE_OK || id != cases[i].id) fprintf(stderr, "  case '%s'\n", cases[i].name);
    } else {
      CHECK(status == CPOSE_ERR_INVALID_ARGUMENT && id == -7);
      if (status != CPOSE_ERR_INVALID_ARGUMENT) fprintf(stderr, "  case '%s'\n", cases[i].name);
      if (cases[i].name[0]) CHECK(strstr(cpose_last_error(), cases[i].name) != NULL);
    }
  }
  CHECK(io_coco_image_id(NULL, &(int64_t){0}) == CPOSE_ERR_INVALID_ARGUMENT);
}

/* ---- cmu and open ------------------------------------------------------------------------------------- */

/* OpenPose's COCO-18 body parts and the COCO-17 keypoint each one is (-1: the neck), by name. */
static const int openpose_from_coco[18] = {
    0,  /* nose */
    -1, /* neck */
    6,  /* right shoulder */
    8,  /* right elbow */
    10, /* right wrist */
    5,  /* left shoulder */
    7,  /* left elbow */
    9,  /* left wrist */
    12, /* right hip */
    14, /* right knee */
    16, /* right ankle */
    11, /* left hip */
    13, /* left knee */
    15, /* left ankle */
    2,  /* right eye */
    1,  /* left eye */
    4,  /* right ear */
    3,  /* left ear */
};

/* {"<points_key>": [x, y, c] * 18}: the parts in OpenPose's order, the neck between the shoulders. */
static void check_openpose_person(const cJSON *o, const char *points_key, const cpose_person *p) {
  CHECK(cJSON_IsObject(o) && key_count(o) == 1);
  const cJSON *points = cJSON_GetObjectItemCaseSensitive(o, points_key);
  CHECK(cJSON_IsArray(points) && cJSON_GetArraySize(points) == 54);
  if (cJSON_GetArraySize(points) != 54) return;
  int wrong = 0;
  for (int i = 0; i < 18; i++) {
    const cJSON *x = cJSON_GetArrayItem(points, 3 * i), *y = cJSON_GetArrayItem(points, 3 * i + 1),
                *c = cJSON_GetArrayItem(points, 3 * i + 2);
    int k = openpose_from_coco[i];
    if (k >= 0) {
      wrong += !same_float(x, p->keypoints[k].x) + !same_float(y, p->keypoints[k].y) +
               !same_float(c, p->keypoints[k].score);
    } else {
      const cpose_keypoint *l = &p->keypoints[5], *r = &p->keypoints[6];
      CHECK_NEAR(x->valuedouble, (l->x + r->x) / 2.0, 1e-4);
      CHECK_NEAR(y->valuedouble, (l->y + r->y) / 2.0, 1e-4);
      CHECK_NEAR(c->valuedouble, (l->score + r->score) / 2.0, 1e-7); /* AlphaPose: the mean confidence */
    }
  }
  CHECK(wrong == 0);
}

/* {"version": "AlphaPose v0.3", "<people_key>": [...]} holding `persons` in order. */
static void check_openpose_image(const cJSON *o, io_format format, const cpose_person *const *persons,
                                 int count) {
  const char *people_key = format == IO_FORMAT_CMU ? "bodies" : "people";
  const char *points_key = format == IO_FORMAT_CMU ? "joints" : "pose_keypoints_2d";
  CHECK(cJSON_IsObject(o) && key_count(o) == 2);
  const cJSON *version = cJSON_GetObjectItemCaseSensitive(o, "version");
  CHECK(cJSON_IsString(version) && strcmp(version->valuestring, "AlphaPose v0.3") == 0);
  const cJSON *people = cJSON_GetObjectItemCaseSensitive(o, people_key);
  CHECK(cJSON_IsArray(people) && cJSON_GetArraySize(people) == count);
  for (int i = 0; i < count && cJSON_GetArraySize(people) == count; i++) {
    check_openpose_person(cJSON_GetArrayItem(people, i), points_key, persons[i]);
  }
}

static void test_openpose_combined(io_format format) {
  cpose_person a[1] = {make_person(10, 20, 17, 0)};
  cpose_person b[1] = {make_person(50, 60, 26, 2)}; /* more than 17: the first 17 are COCO's */
  cpose_person c[2] = {make_person(1, 2, 17, 0), make_person(3, 4, 17, 0)};
  /* "a.jpg" twice (two folders): written as they come, two entries under one key (AlphaPose's dict would
   * merge them; cpose streams frames and does not hold them). */
  io_frame frames[4] = {{"x/a.jpg", a, 1}, {"nobody.jpg", NULL, 0}, {"b.jpg", b, 1}, {"y/a.jpg", c, 2}};
  char *text = write_to_string(format, frames, 4);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  CHECK(cJSON_IsObject(root) && key_count(root) == 3); /* no entry for the image without persons */
  if (key_count(root) == 3) {
    const cJSON *first = root->child, *second = first->next, *third = second->next;
    CHECK(strcmp(first->string, "a.jpg") == 0 && strcmp(second->string, "b.jpg") == 0 &&
          strcmp(third->string, "a.jpg") == 0);
    const cpose_person *in_a[1] = {&a[0]}, *in_b[1] = {&b[0]}, *in_c[2] = {&c[0], &c[1]};
    check_openpose_image(first, format, in_a, 1);
    check_openpose_image(second, format, in_b, 1);
    check_openpose_image(third, format, in_c, 2);
  }
  cJSON_Delete(root);
  free(text);
  text = write_to_string(format, frames + 1, 1);
  CHECK(text && strcmp(text, "{}\n") == 0);
  free(text);
  /* Fewer than the 17 COCO keypoints cannot make OpenPose's 18. */
  cpose_person few = make_person(0, 0, 14, 0);
  io_frame bad = {"crowd.jpg", &few, 1};
  CHECK(write_to_string(format, &bad, 1) == NULL);
  CHECK(strstr(cpose_last_error(), "14 keypoints") != NULL &&
        strstr(cpose_last_error(), "crowd.jpg") != NULL);
}

static void test_frame_files(const char *dir) {
  char sep[256], path[512], names[1024];
  snprintf(sep, sizeof sep, "%s/sep-json", dir);
  CHECK(mkdir(sep, 0777) == 0);
  cpose_person a[2] = {make_person(10, 20, 17, 0), make_person(30, 40, 17, 5)};
  const cpose_person *in_a[2] = {&a[0], &a[1]};
  io_frame frame = {"folder/frame.0001.jpg", a, 2}; /* AlphaPose: name.split('.')[0] + '.json' */
  CHECK_OK(io_write_frame_file(sep, IO_FORMAT_CMU, &frame));
  snprintf(path, sizeof path, "%s/frame.json", sep);
  cJSON *root = parse_file(path);
  check_openpose_image(root, IO_FORMAT_CMU, in_a, 2);
  cJSON_Delete(root);
  frame.image_name = "000000000139.jpg";
  CHECK_OK(io_write_frame_file(sep, IO_FORMAT_OPEN, &frame));
  snprintf(path, sizeof path, "%s/000000000139.json", sep);
  root = parse_file(path);
  check_openpose_image(root, IO_FORMAT_OPEN, in_a, 2);
  cJSON_Delete(root);
  /* No persons: no file, as AlphaPose. Other formats have no per-image files. */
  io_frame empty = {"empty.jpg", NULL, 0};
  CHECK_OK(io_write_frame_file(sep, IO_FORMAT_OPEN, &empty));
  CHECK(io_write_frame_file(sep, IO_FORMAT_ALPHAPOSE, &frame) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(io_write_frame_file(sep, IO_FORMAT_COCO, &frame) == CPOSE_ERR_INVALID_ARGUMENT);
  /* A name with nothing before its first '.' cannot name a file; a missing folder fails as I/O. */
  frame.image_name = ".hidden.jpg";
  CHECK(io_write_frame_file(sep, IO_FORMAT_CMU, &frame) == CPOSE_ERR_INVALID_ARGUMENT);
  frame.image_name = "x.jpg";
  snprintf(path, sizeof path, "%s/missing", dir);
  CHECK(io_write_frame_file(path, IO_FORMAT_CMU, &frame) == CPOSE_ERR_IO);
  CHECK(strstr(cpose_last_error(), path) == cpose_last_error());
  list_dir(sep, names, sizeof names);
  CHECK(strcmp(names, "000000000139.json frame.json") == 0);
  if (strcmp(names, "000000000139.json frame.json") != 0) fprintf(stderr, "  sep-json holds: %s\n", names);
  remove_dir(sep);
}

/* ---- checks, values JSON cannot hold, escaping -------------------------------------------------------- */

static void test_input_checks(void) {
  cpose_person p = make_person(0, 0, 17, 0);
  io_frame frame = {"a.jpg", &p, 1};
  p.keypoint_count = 0;
  CHECK(write_to_string(IO_FORMAT_ALPHAPOSE, &frame, 1) == NULL);
  CHECK(strstr(cpose_last_error(), "0 keypoints") != NULL);
  p.keypoint_count = CPOSE_MAX_KEYPOINTS + 1;
  CHECK(write_to_string(IO_FORMAT_ALPHAPOSE, &frame, 1) == NULL);
  p.keypoint_count = CPOSE_MAX_KEYPOINTS;
  char *text = write_to_string(IO_FORMAT_ALPHAPOSE, &frame, 1);
  CHECK(text != NULL);
  free(text);
  io_frame no_name = {NULL, &p, 1}, no_persons = {"a.jpg", NULL, 2}, folder_only = {"dir/", &p, 1};
  CHECK(write_to_string(IO_FORMAT_ALPHAPOSE, &no_name, 1) == NULL);
  CHECK(write_to_string(IO_FORMAT_ALPHAPOSE, &no_persons, 1) == NULL);
  CHECK(write_to_string(IO_FORMAT_ALPHAPOSE, &folder_only, 1) == NULL);
  CHECK(write_to_string((io_format)4, &frame, 1) == NULL);
  CHECK(write_to_string((io_format)-1, &frame, 1) == NULL);
  CHECK(write_to_string(IO_FORMAT_ALPHAPOSE, NULL, 1) == NULL);
  CHECK(io_write_results_stream(NULL, IO_FORMAT_ALPHAPOSE, &frame, 1) == CPOSE_ERR_INVALID_ARGUMENT);
  FILE *full = fopen("/dev/full", "w"); /* every write fails with ENOSPC: reported, not ignored */
  if (full) {
    CHECK(io_write_results_stream(full, IO_FORMAT_ALPHAPOSE, &frame, 1) == CPOSE_ERR_IO);
    CHECK(strstr(cpose_last_error(), "write failed") != NULL);
    fclose(full);
  }
  CHECK(io_write_results(NULL, IO_FORMAT_ALPHAPOSE, &frame, 1) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(io_write_frame_file(NULL, IO_FORMAT_CMU, &frame) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(io_write_frame_file("/tmp", IO_FORMAT_CMU, NULL) == CPOSE_ERR_INVALID_ARGUMENT);

  io_format format = IO_FORMAT_ALPHAPOSE;
  static const char *const names[] = {"alphapose", "coco", "cmu", "open"};
  for (int i = 0; i < 4; i++) {
    CHECK(io_format_parse(names[i], &format) == CPOSE_OK && (int)format == i);
    CHECK(strcmp(io_format_name(format), names[i]) == 0);
  }
  CHECK(io_format_parse("openpose", &format) == CPOSE_ERR_INVALID_ARGUMENT && format == IO_FORMAT_OPEN);
  CHECK(strstr(cpose_last_error(), "openpose") != NULL);
  CHECK(io_format_parse(NULL, &format) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(strcmp(io_format_name((io_format)9), "unknown") == 0);
}

static void test_non_finite(void) {
  cpose_person p = make_person(10, 20, 17, 0);
  p.keypoints[0].x = NAN;
  p.keypoints[1].score = INFINITY;
  p.keypoints[2].y = -INFINITY;
  p.keypoints[5].x = NAN; /* a shoulder: the neck is made from the written (0, 0, 0) */
  p.score = NAN;
  p.box[2] = INFINITY;
  p.keypoints[3] = (cpose_keypoint){3.4028235e38f, -3.4028235e38f, 1e-30f}; /* finite extremes survive */
  io_frame frame = {"n.jpg", &p, 1};
  static const io_format all[] = {IO_FORMAT_ALPHAPOSE, IO_FORMAT_COCO, IO_FORMAT_CMU, IO_FORMAT_OPEN};
  frame.image_name = "5.jpg";
  for (int f = 0; f < 4; f++) {
    char *text = write_to_string(all[f], &frame, 1);
    CHECK(text && !strstr(text, "nan") && !strstr(text, "NaN") && !strstr(text, "inf") &&
          !strstr(text, "null"));
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL);
    if (f < 2 && cJSON_GetArraySize(root) == 1) {
      const cJSON *o = cJSON_GetArrayItem(root, 0);
      const cJSON *kps = cJSON_GetObjectItemCaseSensitive(o, "keypoints");
      for (int i = 0; i < 9; i++) CHECK(same_float(cJSON_GetArrayItem(kps, i), 0.0f)); /* kps 0, 1, 2 */
      CHECK(same_float(cJSON_GetArrayItem(kps, 9), 3.4028235e38f));
      CHECK(same_float(cJSON_GetArrayItem(kps, 10), -3.4028235e38f));
      CHECK(same_float(cJSON_GetArrayItem(kps, 11), 1e-30f));
      CHECK(same_float(cJSON_GetArrayItem(kps, 15), 0.0f) && same_float(cJSON_GetArrayItem(kps, 17), 0.0f));
      CHECK(same_float(cJSON_GetObjectItemCaseSensitive(o, "score"), 0.0f));
      CHECK(same_float(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "box"), 2), 0.0f));
    }
    if (f >= 2 && root && root->child) {
      const cJSON *people = root->child->child->next; /* after "version" */
      const cJSON *points = people->child->child;
      /* neck = ((0, 0, 0) + right shoulder) / 2 */
      CHECK_NEAR(cJSON_GetArrayItem(points, 3)->valuedouble, p.keypoints[6].x / 2.0, 1e-4);
      CHECK_NEAR(cJSON_GetArrayItem(points, 5)->valuedouble, p.keypoints[6].score / 2.0, 1e-7);
    }
    cJSON_Delete(root);
    free(text);
  }
}

static void test_escaping(void) {
  static const char *const names[] = {"quote\"and\\back.jpg", "tab\there\nnewline\x01.jpg",
                                      "caf\xc3\xa9.jpg"};
  cpose_person p = make_person(1, 2, 17, 0);
  for (int i = 0; i < 3; i++) {
    io_frame frame = {names[i], &p, 1};
    char *text = write_to_string(IO_FORMAT_ALPHAPOSE, &frame, 1);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(root, 0), "image_id");
    CHECK(cJSON_IsString(id) && strcmp(id->valuestring, names[i]) == 0);
    cJSON_Delete(root);
    free(text);
    text = write_to_string(IO_FORMAT_OPEN, &frame, 1);
    root = text ? cJSON_Parse(text) : NULL;
    CHECK(root && root->child && strcmp(root->child->string, names[i]) == 0);
    cJSON_Delete(root);
    free(text);
  }
}

/* ---- atomic files ------------------------------------------------------------------------------------- */

static void test_atomic(const char *dir) {
  char path[512], names[1024];
  cpose_person many[40];
  for (int i = 0; i < 40; i++) many[i] = make_person((float)i, (float)i, 17, 0);
  io_frame big = {"000000000001.jpg", many, 40}, small = {"000000000002.jpg", many, 1};
  snprintf(path, sizeof path, "%s/alphapose-results.json", dir);

  /* The parent folder must exist: nothing is created, not even a temporary file. */
  char missing[512];
  snprintf(missing, sizeof missing, "%s/missing/alphapose-results.json", dir);
  CHECK(io_write_results(missing, IO_FORMAT_ALPHAPOSE, &big, 1) == CPOSE_ERR_IO);
  CHECK(strstr(cpose_last_error(), missing) == cpose_last_error());
  list_dir(dir, names, sizeof names);
  CHECK(names[0] == '\0');

  /* A long file replaced by a short one holds exactly the short one. */
  CHECK_OK(io_write_results(path, IO_FORMAT_ALPHAPOSE, &big, 1));
  char *expected = write_to_string(IO_FORMAT_COCO, &small, 1);
  CHECK_OK(io_write_results(path, IO_FORMAT_COCO, &small, 1));
  char *got = test_read_file(path, NULL);
  CHECK(got && expected && strcmp(got, expected) == 0);
  free(got);

  /* A write that fails its checks leaves the old file as it was and no temporary file. */
  io_frame bad = {"no-id.jpg", many, 1};
  CHECK(io_write_results(path, IO_FORMAT_COCO, &bad, 1) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(cpose_last_error(), path) == cpose_last_error() && strstr(cpose_last_error(), "no-id.jpg"));
  got = test_read_file(path, NULL);
  CHECK(got && expected && strcmp(got, expected) == 0);
  free(got);
  free(expected);

  /* A destination that cannot be replaced (a folder): the temporary file is removed. */
  char sub[512];
  snprintf(sub, sizeof sub, "%s/folder.json", dir);
  CHECK(mkdir(sub, 0777) == 0);
  CHECK(io_write_results(sub, IO_FORMAT_ALPHAPOSE, &big, 1) == CPOSE_ERR_IO);
  CHECK(strstr(cpose_last_error(), sub) == cpose_last_error());
  rmdir(sub);
  list_dir(dir, names, sizeof names);
  CHECK(strcmp(names, "alphapose-results.json") == 0);
  if (strcmp(names, "alphapose-results.json") != 0) fprintf(stderr, "  left in %s: %s\n", dir, names);

  /* What the file holds parses, for every format. */
  static const io_format all[] = {IO_FORMAT_ALPHAPOSE, IO_FORMAT_COCO, IO_FORMAT_CMU, IO_FORMAT_OPEN};
  for (int f = 0; f < 4; f++) {
    CHECK_OK(io_write_results(path, all[f], &big, 1));
    cJSON *root = parse_file(path);
    CHECK(f < 2 ? cJSON_GetArraySize(root) == 40 : key_count(root) == 1);
    cJSON_Delete(root);
  }
  unlink(path);
}

/* Every allocation of a write may fail: out-of-memory, no file, no temporary file, nothing leaked. */
static void test_alloc_failures(const char *dir) {
  char path[512], names[1024];
  snprintf(path, sizeof path, "%s/r.json", dir);
  cpose_person p[2] = {make_person(1, 2, 17, 0), make_person(3, 4, 17, 0)};
  io_frame frames[3] = {{"b.jpg", p, 1}, {"a.jpg", p + 1, 1}, {"b.jpg", p, 2}};
  long i = 0, unexpected = 0;
  for (;; i++) {
    cpose_alloc_fail_after(i);
    cpose_status status = io_write_results(path, IO_FORMAT_CMU, frames, 3);
    cpose_alloc_fail_after(-1);
    if (status == CPOSE_OK) break;
    unexpected += status != CPOSE_ERR_OUT_OF_MEMORY;
    list_dir(dir, names, sizeof names);
    unexpected += names[0] != '\0';
    if (i > 100) break;
  }
  CHECK(unexpected == 0);
  CHECK(i >= 3 && i <= 100); /* the writer, its path and the temporary name */
  cpose_alloc_fail_after(0);
  CHECK(io_write_frame_file(dir, IO_FORMAT_CMU, frames) == CPOSE_ERR_OUT_OF_MEMORY);
  cpose_alloc_fail_after(-1);
  unlink(path);
}

/* Frame by frame: the file appears only when closed with keep, holds every frame added, and a frame that
 * fails its check leaves the document valid. */
static void test_results_writer(const char *dir) {
  char path[512], names[1024];
  snprintf(path, sizeof path, "%s/stream.json", dir);
  cpose_person p[2] = {make_person(1, 2, 17, 0), make_person(3, 4, 17, 7)};
  io_frame good[2] = {{"0.jpg", p, 1}, {"1.jpg", p, 2}}, bad = {"name.jpg", p, 1}; /* no COCO id */
  io_results_writer *w = NULL;
  CHECK_OK(io_results_writer_open(path, IO_FORMAT_COCO, &w));
  CHECK_OK(io_results_writer_add(w, &good[0]));
  list_dir(dir, names, sizeof names);
  CHECK(strstr(names, "stream.json ") == NULL); /* only the temporary file so far */
  CHECK(io_results_writer_add(w, &bad) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK_OK(io_results_writer_add(w, &good[1]));
  CHECK_OK(io_results_writer_close(w, true));
  char *text = test_read_file(path, NULL);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  CHECK(cJSON_IsArray(root) && cJSON_GetArraySize(root) == 3);
  const cJSON *last = cJSON_GetArrayItem(root, 2);
  CHECK(last && cJSON_GetObjectItem(last, "image_id")->valueint == 1 && cJSON_GetObjectItem(last, "idx")->valueint == 7);
  cJSON_Delete(root);
  free(text);
  unlink(path);
  CHECK_OK(io_results_writer_open(path, IO_FORMAT_ALPHAPOSE, &w));
  CHECK_OK(io_results_writer_add(w, &good[0]));
  CHECK_OK(io_results_writer_close(w, false));
  list_dir(dir, names, sizeof names);
  CHECK(names[0] == '\0'); /* nothing left behind */
}

/* One line per frame, flushed: what survives a crash. */
static void test_json_lines(void) {
  cpose_person p[1] = {make_person(1, 2, 17, 3)};
  io_frame frames[2] = {{"dir/5.jpg", p, 1}, {"6.jpg", NULL, 0}};
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  CHECK_OK(io_write_json_line(f, IO_FORMAT_ALPHAPOSE, &frames[0]));
  CHECK_OK(io_write_json_line(f, IO_FORMAT_ALPHAPOSE, &frames[1]));
  fclose(f);
  char *second = text ? strchr(text, '\n') : NULL;
  CHECK(second != NULL && strcmp(second + 1, "{\"image_id\": \"6.jpg\", \"persons\": []}\n") == 0);
  if (second) *second = '\0';
  cJSON *line = text ? cJSON_Parse(text) : NULL;
  const cJSON *persons = cJSON_GetObjectItem(line, "persons");
  CHECK(cJSON_IsString(cJSON_GetObjectItem(line, "image_id")) && cJSON_GetArraySize(persons) == 1);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(persons, 0), "keypoints")) == 51);
  cJSON_Delete(line);
  free(text);
}

/* ---- rendering ---------------------------------------------------------------------------------------- */

static const uint8_t *pixel(const cpose_image *image, int x, int y) {
  return image->rgb + ((size_t)y * (size_t)image->width + (size_t)x) * 3;
}

static int is_black(const cpose_image *image, int x, int y) {
  const uint8_t *p = pixel(image, x, y);
  return p[0] == 0 && p[1] == 0 && p[2] == 0;
}

/* Pixels of [x0, x1] x [y0, y1] that are not black. */
static int painted(const cpose_image *image, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = y0; y <= y1; y++) {
    for (int x = x0; x <= x1; x++) n += !is_black(image, x, y);
  }
  return n;
}

/* Confident left shoulder (5) and left elbow (7) on one row; every other keypoint parked at (20, 180) with
 * confidence 0. */
static cpose_person arm_person(float c5, float c7, int track_id) {
  cpose_person p;
  memset(&p, 0, sizeof p);
  p.keypoint_count = 17;
  p.track_id = track_id;
  p.box[0] = 40, p.box[1] = 40, p.box[2] = 120, p.box[3] = 120;
  p.score = 2.5f;
  for (int k = 0; k < 17; k++) p.keypoints[k] = (cpose_keypoint){20.5f, 180.5f, 0.0f};
  p.keypoints[5] = (cpose_keypoint){50.5f, 100.5f, c5};
  p.keypoints[7] = (cpose_keypoint){150.5f, 100.5f, c7};
  return p;
}

static void test_render_limb(void) {
  cpose_image *image = NULL;
  CHECK_OK(cpose_image_create(200, 200, &image));
  if (!image) return;
  cpose_person p = arm_person(0.9f, 0.9f, 0);
  io_render_persons(image, &p, 1, 0.2f, false);
  /* The limb's middle: AlphaPose's line_color for (5, 7), BGR (77, 196, 255), at opacity 0.5 * 1.8 - 0.1. */
  const uint8_t *mid = pixel(image, 100, 100);
  CHECK_NEAR(mid[0], 255 * 0.8, 2);
  CHECK_NEAR(mid[1], 196 * 0.8, 2);
  CHECK_NEAR(mid[2], 77 * 0.8, 2);
  CHECK(painted(image, 60, 100, 140, 100) == 81); /* the whole segment */
  CHECK(painted(image, 60, 110, 140, 110) == 0);  /* but not beside it */
  CHECK(painted(image, 60, 90, 140, 90) == 0);
  /* The shoulder's disc over the limb's end: p_color for the left shoulder, BGR (77, 255, 255), at opacity
   * 0.9 over the limb's colour. */
  const uint8_t *shoulder = pixel(image, 50, 100);
  CHECK_NEAR(shoulder[0], mid[0] + (255 - mid[0]) * 0.9, 2);
  CHECK_NEAR(shoulder[1], mid[1] + (255 - mid[1]) * 0.9, 2);
  CHECK_NEAR(shoulder[2], mid[2] + (77 - mid[2]) * 0.9, 2);
  /* Keypoints with confidence 0 stay undrawn, with their limbs (the parked points, hips, legs). */
  CHECK(painted(image, 5, 165, 35, 195) == 0);
  /* The neck, (5 + 6) / 2 with confidence 0.45 > 0.2, is drawn at (35.5, 140.5); the box is not shown. */
  CHECK(!is_black(image, 35, 140));
  CHECK(painted(image, 40, 38, 160, 42) == 0);
  cpose_image_destroy(image);
}

static void test_render_threshold(void) {
  cpose_image *image = NULL;
  CHECK_OK(cpose_image_create(200, 200, &image));
  if (!image) return;
  /* AlphaPose skips a keypoint whose confidence is <= the threshold; its limb goes with it. */
  cpose_person p = arm_person(0.9f, 0.5f, 0);
  io_render_persons(image, &p, 1, 0.5f, false);
  CHECK(painted(image, 60, 95, 140, 105) == 0);
  CHECK(painted(image, 145, 95, 155, 105) == 0);
  CHECK(!is_black(image, 50, 100)); /* the shoulder itself is above it */
  /* NaN anywhere in a keypoint: skipped too. */
  memset(image->rgb, 0, 200 * 200 * 3);
  p = arm_person(0.9f, 0.9f, 0);
  p.keypoints[7].x = NAN;
  io_render_persons(image, &p, 1, 0.2f, false);
  CHECK(painted(image, 60, 95, 140, 105) == 0);
  cpose_image_destroy(image);
}

static void test_render_tracks(void) {
  cpose_image *a = NULL, *b = NULL;
  CHECK_OK(cpose_image_create(200, 200, &a));
  CHECK_OK(cpose_image_create(200, 200, &b));
  if (!a || !b) return;
  /* Track 1 is AlphaPose's GREEN in every part of the person. */
  cpose_person p = arm_person(0.9f, 0.9f, 1);
  io_render_persons(a, &p, 1, 0.2f, false);
  const uint8_t *mid = pixel(a, 100, 100), *joint = pixel(a, 150, 100);
  CHECK(mid[0] == 0 && mid[2] == 0 && mid[1] > 190 && mid[1] < 215);
  CHECK(joint[0] == 0 && joint[2] == 0 && joint[1] > 220);
  CHECK(painted(a, 40, 40, 52, 48) > 60); /* the "#1" tag at the box's corner, even without the box */
  CHECK(pixel(a, 40, 40)[1] == 255);
  /* The same id in another frame, elsewhere and among other persons, keeps its colour. */
  cpose_person q[2] = {arm_person(0.9f, 0.9f, 6), arm_person(0.9f, 0.9f, 1)};
  for (int k = 0; k < 17; k++) q[1].keypoints[k].y += 30;
  io_render_persons(b, q, 2, 0.2f, false);
  CHECK(memcmp(pixel(b, 100, 130), mid, 3) == 0);
  CHECK(memcmp(pixel(b, 150, 130), joint, 3) == 0);
  /* Track 6 (PURPLE) is another colour. */
  const uint8_t *other = pixel(b, 100, 100);
  CHECK(other[0] > 190 && other[1] == 0 && other[2] > 190);
  cpose_image_destroy(a);
  cpose_image_destroy(b);
}

static void test_render_box(void) {
  cpose_image *image = NULL;
  CHECK_OK(cpose_image_create(200, 200, &image));
  if (!image) return;
  cpose_person p = arm_person(0.9f, 0.9f, 0);
  io_render_persons(image, &p, 1, 0.2f, true);
  /* The box (AlphaPose's BLUE when untracked) on its edges... */
  CHECK(pixel(image, 120, 40)[2] > 0 && pixel(image, 120, 40)[0] == 0);
  CHECK(pixel(image, 160, 120)[2] > 0 && pixel(image, 40, 120)[2] > 0 && pixel(image, 120, 160)[2] > 0);
  /* ... and the score on a tag at its top-left corner: BLUE tag, white text. */
  CHECK(painted(image, 41, 41, 70, 50) > 100);
  CHECK(pixel(image, 41, 41)[2] == 255);
  int white = 0;
  for (int y = 41; y < 58; y++) {
    for (int x = 41; x < 70; x++) white += pixel(image, x, y)[0] == 255;
  }
  CHECK(white > 10);
  cpose_image_destroy(image);
}

static void test_render_scale(void) {
  /* The same limb on a person 8 times larger is drawn thicker: sizes follow the person's box. */
  cpose_image *small = NULL, *large = NULL;
  CHECK_OK(cpose_image_create(200, 200, &small));
  CHECK_OK(cpose_image_create(200, 200, &large));
  if (!small || !large) return;
  cpose_person p = arm_person(0.9f, 0.9f, 0);
  p.box[2] = p.box[3] = 256;
  io_render_persons(small, &p, 1, 0.2f, false);
  p.box[2] = p.box[3] = 2048;
  io_render_persons(large, &p, 1, 0.2f, false);
  int thin = painted(small, 90, 50, 90, 150), thick = painted(large, 90, 50, 90, 150);
  CHECK(thin >= 5 && thin <= 8);     /* 2 * (0.9 + 0.9 + 1) = 5.6 pixels */
  CHECK(thick >= 43 && thick <= 47); /* 8 times that */
  cpose_image_destroy(small);
  cpose_image_destroy(large);
}

/* Any input draws inside the image or not at all (run under valgrind or the sanitizers to see the
 * accesses); a person entirely outside leaves the image as it was. */
static void test_render_bounds(void) {
  static const int sizes[][2] = {{1, 1}, {2, 3}, {64, 48}};
  static const float weird[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 3e9f, -0.0f, 0.5f, 63.99f, 1e-30f};
  const size_t weird_count = sizeof weird / sizeof weird[0];
  cpose_person persons[24];
  for (int i = 0; i < 24; i++) {
    persons[i] =
        make_person(weird[i % weird_count], weird[(i * 3 + 1) % weird_count], 17, i % 3 ? INT_MAX - i : 0);
    for (int k = 0; k < 17; k++) {
      persons[i].keypoints[k].x = weird[(size_t)(i + k) % weird_count];
      persons[i].keypoints[k].y = weird[(size_t)(i * 7 + k) % weird_count];
      persons[i].keypoints[k].score = (k + i) % 4 ? 0.9f : weird[(size_t)k % weird_count];
    }
    for (int b = 0; b < 4; b++) persons[i].box[b] = weird[(size_t)(i + 2 * b) % weird_count];
    persons[i].score = weird[(size_t)i % weird_count];
  }
  persons[0].keypoint_count = -5;
  persons[1].keypoint_count = 0;
  persons[2].keypoint_count = 3;
  persons[3].keypoint_count = CPOSE_MAX_KEYPOINTS + 100;          /* clamped, never read past the array */
  persons[4] = make_person(-1e9f, -1e9f, CPOSE_MAX_KEYPOINTS, 1); /* extra points past 17, all off-image */
  persons[5] = make_person(0, 0, 26, 2);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    cpose_image *image = NULL;
    CHECK_OK(cpose_image_create(sizes[s][0], sizes[s][1], &image));
    if (!image) continue;
    io_render_persons(image, persons, 24, 0.05f, true);
    io_render_persons(image, persons, 24, NAN, false);
    cpose_image_destroy(image);
  }
  cpose_image *image = NULL;
  CHECK_OK(cpose_image_create(64, 48, &image));
  if (!image) return;
  cpose_person outside = make_person(-500, -900, 17, 3);
  io_render_persons(image, &outside, 1, 0.05f, true);
  CHECK(painted(image, 0, 0, 63, 47) == 0);
  io_render_persons(NULL, &outside, 1, 0.05f, true);
  io_render_persons(image, NULL, 3, 0.05f, true);
  cpose_image_destroy(image);
}

int main(void) {
  char dir[] = "/tmp/cpose_test_io_XXXXXX";
  if (!mkdtemp(dir)) {
    fprintf(stderr, "mkdtemp failed\n");
    return 1;
  }
  test_alphapose_list();
  test_coco_list();
  test_coco_image_ids();
  test_openpose_combined(IO_FORMAT_CMU);
  test_openpose_combined(IO_FORMAT_OPEN);
  test_frame_files(dir);
  test_input_checks();
  test_non_finite();
  test_escaping();
  test_atomic(dir);
  test_alloc_failures(dir);
  test_results_writer(dir);
  test_json_lines();
  test_render_limb();
  test_render_threshold();
  test_render_tracks();
  test_render_box();
  test_render_scale();
  test_render_bounds();
  remove_dir(dir);
  return test_finish("test_io");
}
