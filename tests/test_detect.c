/* Person detection: box IoU and NMS by hand, the CenterNet detector on a real photo (letterbox and stretch),
 * and detections files (good and malformed). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "detect/detect.h"
#include "io/detfile.h"
#include "test.h"

#define MODEL_PATH "models/centernet/model.json"
#define PHOTO_PATH "samples/messi5.jpg"
/* MoveNet Thunder's keypoints on messi5 (TensorFlow.js): (1, 1, 17, 3) float32, y and x normalized to the
 * image, score. */
#define KEYPOINTS_PATH "tests/golden/movenet-thunder/messi5/Identity_0.f32"

static cpose_box box(float x, float y, float w, float h, float score) {
  cpose_box b = {x, y, w, h, score};
  return b;
}

/* --- box_iou ------------------------------------------------------------------------------------------- */

static void test_iou(void) {
  cpose_box a = box(0, 0, 10, 10, 1);
  cpose_box disjoint = box(20, 0, 10, 10, 1), touching = box(10, 0, 10, 10, 1);
  cpose_box nested = box(2, 2, 5, 5, 1);   /* 25 inside 100 */
  cpose_box half = box(5, 0, 10, 10, 1);   /* overlap 50, union 150 */
  cpose_box corner = box(5, 5, 10, 10, 1); /* overlap 25, union 175 */
  cpose_box empty = box(0, 0, 0, 10, 1), nan_box = box(0, 0, NAN, 10, 1);
  CHECK_NEAR(box_iou(&a, &a), 1.0, 1e-6);
  CHECK_NEAR(box_iou(&a, &disjoint), 0.0, 0);
  CHECK_NEAR(box_iou(&a, &touching), 0.0, 0);
  CHECK_NEAR(box_iou(&a, &nested), 0.25, 1e-6);
  CHECK_NEAR(box_iou(&nested, &a), 0.25, 1e-6);
  CHECK_NEAR(box_iou(&a, &half), 1.0 / 3.0, 1e-6);
  CHECK_NEAR(box_iou(&a, &corner), 25.0 / 175.0, 1e-6);
  CHECK_NEAR(box_iou(&a, &empty), 0.0, 0);
  CHECK_NEAR(box_iou(&empty, &empty), 0.0, 0);
  CHECK_NEAR(box_iou(&a, &nan_box), 0.0, 0);
}

/* --- box_nms ------------------------------------------------------------------------------------------- */

static void test_nms_duplicates(void) {
  cpose_box b[4] = {box(0, 0, 10, 10, 0.5f), box(0, 0, 10, 10, 0.9f), box(0.5f, 0, 10, 10, 0.7f),
                    box(100, 100, 10, 10, 0.2f)};
  size_t kept = 99;
  box_nms(b, 4, 0.6f, &kept);
  CHECK(kept == 2);
  CHECK(b[0].score == 0.9f && b[0].x == 0);
  CHECK(b[1].score == 0.2f && b[1].x == 100);
}

static void test_nms_distinct(void) {
  /* Half overlap is IoU 1/3: kept at 0.6, suppressed at 0.3. */
  cpose_box b[3] = {box(0, 0, 10, 10, 0.3f), box(5, 0, 10, 10, 0.8f), box(50, 0, 10, 10, 0.6f)};
  size_t kept = 0;
  box_nms(b, 3, 0.6f, &kept);
  CHECK(kept == 3);
  CHECK(b[0].score == 0.8f && b[1].score == 0.6f && b[2].score == 0.3f);
  box_nms(b, 3, 0.3f, &kept);
  CHECK(kept == 2);
  CHECK(b[0].score == 0.8f && b[1].score == 0.6f);
}

static void test_nms_ties_and_edges(void) {
  /* Equal scores keep their input order: the first of two duplicates wins, disjoint ties stay in order. */
  cpose_box b[4] = {box(30, 0, 10, 10, 0.5f), box(0, 0, 10, 10, 0.5f), box(0, 0, 10, 10, 0.5f),
                    box(60, 0, 10, 10, 0.5f)};
  b[2].h = 11; /* a near-duplicate of b[1], told apart by its height */
  size_t kept = 0;
  box_nms(b, 4, 0.5f, &kept);
  CHECK(kept == 3);
  CHECK(b[0].x == 30 && b[1].x == 0 && b[1].h == 10 && b[2].x == 60);
  /* A NaN score sorts last and does not disturb the others. */
  cpose_box c[3] = {box(0, 0, 1, 1, NAN), box(5, 0, 1, 1, 0.1f), box(9, 0, 1, 1, 0.9f)};
  box_nms(c, 3, 0.5f, &kept);
  CHECK(kept == 3 && c[0].score == 0.9f && c[1].score == 0.1f && isnan(c[2].score));
  box_nms(NULL, 0, 0.5f, &kept);
  CHECK(kept == 0);
}

/* --- the detector on a photo --------------------------------------------------------------------------- */

/* The golden keypoints scoring above 0.3, in pixels of a width x height image; returns how many. */
static int golden_keypoints(int width, int height, float xy[17][2]) {
  float v[17 * 3];
  FILE *f = fopen(KEYPOINTS_PATH, "rb");
  if (!f) return 0;
  size_t got = fread(v, sizeof *v, 17 * 3, f);
  fclose(f);
  if (got != 17 * 3) return 0;
  int n = 0;
  for (int k = 0; k < 17; k++) {
    if (v[3 * k + 2] <= 0.3f) continue;
    xy[n][0] = v[3 * k + 1] * width;
    xy[n][1] = v[3 * k] * height;
    n++;
  }
  return n;
}

/* Checks the best box on messi5.jpg (548x342, one player in front of a blurred crowd). By eye, the player
 * reaches from his left hand at x ~ 68 to his right boot at x ~ 458, and from his hair at y ~ 60 to his left
 * boot at y ~ 336. The box must cover every confident golden keypoint (10 pixels of slack for the regressed
 * box edges) and overlap that by-eye box well. */
static void check_messi(const cpose_box *boxes, size_t count, const cpose_image *image) {
  CHECK(count >= 1);
  if (count < 1) return;
  const cpose_box *best = &boxes[0];
  CHECK(best->score > 0.4f);
  cpose_box by_eye = box(68, 60, 458 - 68, 336 - 60, 1);
  CHECK(box_iou(best, &by_eye) > 0.75f);
  float xy[17][2];
  int n = golden_keypoints(image->width, image->height, xy);
  CHECK(n >= 10);
  for (int k = 0; k < n; k++) {
    CHECK(xy[k][0] >= best->x - 10 && xy[k][0] <= best->x + best->w + 10);
    CHECK(xy[k][1] >= best->y - 10 && xy[k][1] <= best->y + best->h + 10);
  }
  for (size_t i = 0; i < count; i++) {
    CHECK(boxes[i].x >= 0 && boxes[i].y >= 0 && boxes[i].w > 0 && boxes[i].h > 0);
    CHECK(boxes[i].x + boxes[i].w <= image->width && boxes[i].y + boxes[i].h <= image->height);
    CHECK(boxes[i].score >= 0.1f);
    if (i > 0) CHECK(boxes[i].score <= boxes[i - 1].score);
    for (size_t j = 0; j < i; j++) CHECK(box_iou(&boxes[i], &boxes[j]) <= DETECT_DEFAULT_NMS_IOU);
  }
}

static void test_detector_mode(const cpose_image *image, bool letterbox) {
  detector *d = NULL;
  CHECK_OK(detector_create(MODEL_PATH, NULL, letterbox, &d));
  if (!d) return;
  cpose_box *boxes = NULL;
  size_t count = 0;
  CHECK_OK(detector_run(d, image, DETECT_DEFAULT_THRESHOLD, DETECT_DEFAULT_NMS_IOU, &boxes, &count));
  printf("%s: %zu person boxes\n", letterbox ? "letterbox" : "stretch", count);
  for (size_t i = 0; i < count && i < 4; i++) {
    printf("  %.1f %.1f %.1f %.1f  %.3f\n", boxes[i].x, boxes[i].y, boxes[i].w, boxes[i].h, boxes[i].score);
  }
  check_messi(boxes, count, image);
  cpose_free(boxes);

  /* A second run reuses the session and the input buffer, so the result is its only allocation; a high
   * threshold keeps only the player. */
  cpose_alloc_fail_after(-1);
  CHECK_OK(detector_run(d, image, 0.45f, DETECT_DEFAULT_NMS_IOU, &boxes, &count));
  CHECK(cpose_alloc_fail_after(-1) == 1);
  CHECK(count == 1);
  cpose_free(boxes);
  boxes = NULL;
  cpose_alloc_fail_after(0);
  CHECK(detector_run(d, image, 0.1f, 0.5f, &boxes, &count) == CPOSE_ERR_OUT_OF_MEMORY && boxes == NULL);
  cpose_alloc_fail_after(-1);
  CHECK(detector_run(d, image, 0.1f, 1.5f, &boxes, &count) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(detector_run(d, NULL, 0.1f, 0.5f, &boxes, &count) == CPOSE_ERR_INVALID_ARGUMENT);
  detector_destroy(d);
}

/* Failing allocations in detector_create free what it built: the detector (0), its input (1), inside the
 * model load (2), and the session's first allocation (2 + the model load's count). */
static void test_detector_create_failures(void) {
  cpose_model *model = NULL;
  cpose_alloc_fail_after(-1);
  CHECK_OK(cpose_model_load(MODEL_PATH, &model));
  long model_allocations = cpose_alloc_fail_after(-1);
  cpose_model_destroy(model);
  const long fail_at[] = {0, 1, 2, 2 + model_allocations};
  for (size_t i = 0; i < sizeof fail_at / sizeof *fail_at; i++) {
    detector *d = NULL;
    cpose_alloc_fail_after(fail_at[i]);
    cpose_status status = detector_create(MODEL_PATH, NULL, true, &d);
    cpose_alloc_fail_after(-1);
    CHECK(status == CPOSE_ERR_OUT_OF_MEMORY && d == NULL);
    if (i == 3) CHECK(strstr(cpose_last_error(), "detector " MODEL_PATH) != NULL);
  }
}

static void test_detector(void) {
  FILE *f = fopen(MODEL_PATH, "rb");
  if (!f) {
    printf("detector: %s missing, skipped (run scripts/setup.sh)\n", MODEL_PATH);
    return;
  }
  fclose(f);
  cpose_image *image = NULL;
  if (cpose_image_load(PHOTO_PATH, &image) != CPOSE_OK) {
    printf("detector: %s missing, skipped\n", PHOTO_PATH);
    return;
  }
  test_detector_mode(image, true);
  test_detector_mode(image, false);
  cpose_image_destroy(image);

  test_detector_create_failures();
  detector *d = NULL;
  CHECK(detector_create("no/such/model.json", NULL, true, &d) == CPOSE_ERR_IO && d == NULL);
  detector_destroy(NULL);
}

/* --- detections files ---------------------------------------------------------------------------------- */

static cpose_status parse(const char *json, detfile **f) {
  return detfile_parse(json, strlen(json), "dets.json", f);
}

static void test_detfile_good(void) {
  const char *json =
      "[{\"image_id\": 139, \"category_id\": 1, \"bbox\": [1, 2, 30, 40], \"score\": 0.9},\n"
      " {\"image_id\": \"val2017/000000000139.jpg\", \"bbox\": [5, 6, 7, 8], \"score\": 0.5},\n"
      " {\"image_id\": 139, \"category_id\": 18, \"bbox\": [0, 0, 1, 1], \"score\": 0.99},\n"
      " {\"image_id\": \"frame one.png\", \"category_id\": 1, \"bbox\": [10, 20, 30, 40]},\n"
      " {\"image_id\": 7, \"category_id\": 1, \"bbox\": [0, 0, 0, 0], \"score\": 0.1, \"extra\": [1]},\n"
      " {\"image_id\": 139, \"category_id\": 1, \"bbox\": [9, 9, 9, 9], \"score\": 0.95}]";
  detfile *f = NULL;
  CHECK_OK(parse(json, &f));
  if (!f) return;
  CHECK(detfile_image_count(f) == 3);
  CHECK(detfile_box_count(f) == 5);
  const cpose_box *b = NULL;
  /* Image 139 by id: its three person boxes in file order (the dog, category 18, is skipped). */
  CHECK(detfile_boxes(f, 139, NULL, &b) == 3);
  CHECK(b && b[0].x == 1 && b[0].h == 40 && b[0].score == 0.9f && b[1].x == 5 && b[2].x == 9);
  CHECK(detfile_boxes(f, -1, "000000000139.jpg", &b) == 3);
  CHECK(detfile_boxes(f, -1, "/data/coco/000000000139.png", &b) == 3);
  CHECK(detfile_boxes(f, 12, "000000000139.jpg", &b) == 3); /* unknown id: the name decides */
  CHECK(detfile_boxes(f, -1, "frame one.png", &b) == 1);
  CHECK(b && b[0].y == 20 && b[0].score == 1.0f); /* score absent: 1 */
  CHECK(detfile_boxes(f, -1, "videos/frame one.png", &b) == 1);
  CHECK(detfile_boxes(f, 7, NULL, &b) == 1);
  CHECK(detfile_boxes(f, 8, "frame two.png", &b) == 0 && b == NULL);
  CHECK(detfile_boxes(f, -1, NULL, &b) == 0);
  CHECK(detfile_boxes(f, -1, "dir/", &b) == 0);
  CHECK(detfile_boxes(NULL, 139, NULL, &b) == 0 && b == NULL);
  detfile_destroy(f);

  CHECK_OK(parse(" [ ] \n", &f));
  CHECK(f && detfile_image_count(f) == 0 && detfile_boxes(f, 0, "0.jpg", &b) == 0);
  detfile_destroy(f);
  detfile_destroy(NULL);
}

/* Each malformed text fails with `status` and a message containing `needle`. */
static void expect_failure(const char *json, cpose_status status, const char *needle) {
  detfile *f = NULL;
  cpose_status got = parse(json, &f);
  CHECK(got == status && f == NULL);
  if (!strstr(cpose_last_error(), needle)) {
    test_failures++;
    fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\" (for %s)\n", __FILE__, __LINE__, cpose_last_error(),
            needle, json);
  }
  detfile_destroy(f);
}

static void test_detfile_malformed(void) {
  const char *ok = "{\"image_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}";
  char json[512];
  expect_failure("", CPOSE_ERR_PARSE, "empty");
  expect_failure("[{\"image_id\": 1,", CPOSE_ERR_PARSE, "malformed JSON");
  expect_failure("[] []", CPOSE_ERR_PARSE, "malformed JSON at byte 3");
  expect_failure("{\"image_id\": 1}", CPOSE_ERR_PARSE, "not a list");
  snprintf(json, sizeof json, "[%s, 5]", ok);
  expect_failure(json, CPOSE_ERR_PARSE, "entry 1 is not an object");
  snprintf(json, sizeof json, "[%s, %s, {\"bbox\": [0, 0, 1, 1]}]", ok, ok);
  expect_failure(json, CPOSE_ERR_PARSE, "dets.json: entry 2: 'image_id' is missing");
  expect_failure("[{\"image_id\": -3, \"bbox\": [0, 0, 1, 1]}]", CPOSE_ERR_PARSE, "entry 0: 'image_id'");
  expect_failure("[{\"image_id\": 1.5, \"bbox\": [0, 0, 1, 1]}]", CPOSE_ERR_PARSE, "entry 0: 'image_id'");
  expect_failure("[{\"image_id\": \"a/\", \"bbox\": [0, 0, 1, 1]}]", CPOSE_ERR_PARSE, "names a folder");
  expect_failure("[{\"image_id\": 4, \"category_id\": \"1\", \"bbox\": [0, 0, 1, 1]}]", CPOSE_ERR_PARSE,
                 "entry 0 (image_id 4): 'category_id'");
  expect_failure("[{\"image_id\": 4, \"score\": 1}]", CPOSE_ERR_PARSE, "'bbox' is missing");
  expect_failure("[{\"image_id\": 4, \"bbox\": [0, 0, 1]}]", CPOSE_ERR_PARSE, "'bbox' has 3 values");
  expect_failure("[{\"image_id\": \"x.jpg\", \"bbox\": [0, 0, \"1\", 1]}]", CPOSE_ERR_PARSE,
                 "entry 0 (image_id \"x.jpg\"): 'bbox'[2]");
  expect_failure("[{\"image_id\": 4, \"bbox\": [0, 0, 1e300, 1]}]", CPOSE_ERR_PARSE, "'bbox'[2]");
  expect_failure("[{\"image_id\": 4, \"bbox\": [0, 0, -1, 1]}]", CPOSE_ERR_PARSE, "negative size");
  expect_failure("[{\"image_id\": 4, \"bbox\": [0, 0, 1, 1], \"score\": null}]", CPOSE_ERR_PARSE, "'score'");
  /* Entries of other categories are still checked up to their category. */
  expect_failure("[{\"image_id\": null, \"category_id\": 3}]", CPOSE_ERR_PARSE, "'image_id'");

  detfile *f = NULL;
  CHECK(detfile_parse(NULL, 5, "x", &f) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(detfile_parse("[]", DETFILE_MAX_BYTES + 1, "x", &f) == CPOSE_ERR_LIMIT && f == NULL);
  CHECK(detfile_load("no/such/dets.json", &f) == CPOSE_ERR_IO && f == NULL);
  CHECK(strstr(cpose_last_error(), "no/such/dets.json") != NULL);
  CHECK(detfile_load(NULL, &f) == CPOSE_ERR_INVALID_ARGUMENT);
}

/* Loading from a file, and every allocation failing in turn: no leak, no crash, no half-written output. */
static void test_detfile_file_and_alloc_failures(void) {
  const char *path = "/tmp/cpose_test_detect_dets.json";
  FILE *fp = fopen(path, "wb");
  CHECK(fp != NULL);
  if (!fp) return;
  fputs(
      "[{\"image_id\": \"a.jpg\", \"bbox\": [0, 0, 1, 1]}, {\"image_id\": 2, \"bbox\": [0, 0, 2, 2]},"
      " {\"image_id\": \"b.jpg\", \"bbox\": [1, 1, 2, 2], \"score\": 0.25}]",
      fp);
  fclose(fp);
  detfile *f = NULL;
  CHECK_OK(detfile_load(path, &f));
  CHECK(f && detfile_image_count(f) == 3 && detfile_box_count(f) == 3);
  detfile_destroy(f);
  int failures_seen = 0;
  for (long i = 0; i < 64; i++) {
    f = NULL;
    cpose_alloc_fail_after(i);
    cpose_status status = detfile_load(path, &f);
    cpose_alloc_fail_after(-1);
    if (status == CPOSE_OK) {
      CHECK(detfile_box_count(f) == 3);
      detfile_destroy(f);
      break;
    }
    CHECK(status == CPOSE_ERR_OUT_OF_MEMORY && f == NULL);
    failures_seen++;
  }
  CHECK(failures_seen >= 4); /* the read buffer, the entries, the detfile and its three arrays */
  remove(path);
}

int main(void) {
  test_iou();
  test_nms_duplicates();
  test_nms_distinct();
  test_nms_ties_and_edges();
  test_detfile_good();
  test_detfile_malformed();
  test_detfile_file_and_alloc_failures();
  test_detector();
  return test_finish("test_detect");
}
