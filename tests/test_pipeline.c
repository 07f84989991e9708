/* The estimator (src/pipeline) end to end on samples/messi5.jpg, one footballer: the default configuration
 * and Lightning both find him where he is, with 17 keypoints on his body and persons ranked best first; given
 * boxes replace the detector (one box: exactly that person; zero boxes: nobody); bad params are refused with
 * a message that says what to do; and every allocation of a run may fail without a crash or a half-written
 * result. Skips (77) when scripts/setup.sh has not fetched the models and samples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "cpose.h"
#include "test.h"

#define SAMPLE "samples/messi5.jpg"

/* Where the footballer is in messi5.jpg (548x342), measured by eye: x0, y0, x1, y1 in pixels. */
static const float player[4] = {68.0f, 60.0f, 458.0f, 336.0f};
/* Keypoints with confidence above this are on him; weaker ones may be guesses off the body. */
#define CONFIDENT 0.3f

static int file_exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}

static void skip_without_setup(void) {
  static const char *const needed[] = {SAMPLE, "models/centernet/model.json",
                                       "models/movenet-thunder/model.json",
                                       "models/movenet-lightning/model.json"};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    if (!file_exists(needed[i])) TEST_SKIP("%s is missing: run bash scripts/setup.sh", needed[i]);
  }
}

/* Intersection over union of an (x, y, w, h) box and an (x0, y0, x1, y1) region. */
static float box_iou(const float box[4], const float region[4]) {
  float ix = fminf(box[0] + box[2], region[2]) - fmaxf(box[0], region[0]);
  float iy = fminf(box[1] + box[3], region[3]) - fmaxf(box[1], region[1]);
  float inter = ix > 0 && iy > 0 ? ix * iy : 0.0f;
  float uni = box[2] * box[3] + (region[2] - region[0]) * (region[3] - region[1]) - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

/* The pose of the person that should be the footballer: 17 keypoints, the confident ones on him. */
static void check_on_player(const cpose_person *p, const char *what) {
  CHECK(p->keypoint_count == 17);
  int confident = 0, outside = 0;
  for (int k = 0; k < p->keypoint_count; k++) {
    const cpose_keypoint *kp = &p->keypoints[k];
    CHECK(kp->score >= 0.0f && kp->score <= 1.0f);
    if (kp->score <= CONFIDENT) continue;
    confident++;
    if (kp->x < player[0] || kp->x > player[2] || kp->y < player[1] || kp->y > player[3]) {
      outside++;
      fprintf(stderr, "%s: keypoint %d (%.1f, %.1f, score %.2f) is off the player\n", what, k, (double)kp->x,
              (double)kp->y, (double)kp->score);
    }
  }
  /* A clear, upright, unoccluded player: most joints must be confident, or the check above proves little. */
  CHECK(confident >= 10);
  CHECK(outside == 0);
}

/* What the detector path must give: at least him, best first, with his box. */
static void check_detected(const cpose_person *persons, size_t count, const char *what) {
  CHECK(count >= 1);
  if (count == 0) return;
  for (size_t i = 0; i < count; i++) {
    CHECK(persons[i].keypoint_count == 17);
    if (i > 0) CHECK(persons[i - 1].score >= persons[i].score);
  }
  float iou = box_iou(persons[0].box, player);
  if (!(iou > 0.5f))
    fprintf(stderr, "%s: the best person's box has IoU %.2f with the player\n", what, (double)iou);
  CHECK(iou > 0.5f);
  check_on_player(&persons[0], what);
}

/* Creates an estimator from `params`, runs it once on `image` and destroys it. */
static cpose_status estimate_once(const cpose_estimator_params *params, const cpose_image *image,
                                  const cpose_box *boxes, size_t box_count, cpose_person **persons_out,
                                  size_t *count_out) {
  cpose_estimator *estimator = NULL;
  cpose_status status = cpose_estimator_create(params, &estimator);
  if (status == CPOSE_OK)
    status = cpose_estimator_run(estimator, image, boxes, box_count, persons_out, count_out);
  cpose_estimator_destroy(estimator);
  return status;
}

static cpose_estimator_params lightning_params(void) {
  cpose_estimator_params params = cpose_estimator_params_default();
  params.pose_model = CPOSE_POSE_MODEL_LIGHTNING;
  params.threads = 1;
  return params;
}

static void test_detector_path(const cpose_image *image, const cpose_estimator_params *params,
                               const char *what) {
  cpose_person *persons = NULL;
  size_t count = 0;
  CHECK_OK(estimate_once(params, image, NULL, 0, &persons, &count));
  check_detected(persons, count, what);
  printf("%s: %zu persons, best score %.3f\n", what, count, count ? (double)persons[0].score : 0.0);
  cpose_persons_free(persons);
}

/* One given box: the detector does not run, and the one person that comes back carries that box. */
static void test_one_given_box(const cpose_image *image) {
  const cpose_box box = {player[0], player[1], player[2] - player[0], player[3] - player[1], 0.9f};
  cpose_estimator_params params = lightning_params();
  cpose_person *persons = NULL;
  size_t count = 0;
  CHECK_OK(estimate_once(&params, image, &box, 1, &persons, &count));
  CHECK(count == 1);
  if (count == 1) {
    CHECK(persons[0].box[0] == box.x && persons[0].box[1] == box.y);
    CHECK(persons[0].box[2] == box.w && persons[0].box[3] == box.h);
    CHECK(persons[0].box_score == box.score);
    check_on_player(&persons[0], "one given box");
  }
  cpose_persons_free(persons);
}

/* Zero given boxes (a pointer, count 0) means "nobody here", not "run the detector". */
static void test_zero_given_boxes(const cpose_image *image) {
  static const cpose_box none[1];
  cpose_estimator_params params = lightning_params();
  cpose_person *persons = NULL;
  size_t count = 99;
  CHECK_OK(estimate_once(&params, image, none, 0, &persons, &count));
  CHECK(count == 0);
  cpose_persons_free(persons);
}

/* A refused create returns `expected` and leaves the out-parameter alone. */
static void check_create_fails(const cpose_estimator_params *params, cpose_status expected,
                               const char *message_part) {
  static char marker; /* an address no estimator can have */
  cpose_estimator *const sentinel = (cpose_estimator *)(void *)&marker;
  cpose_estimator *estimator = sentinel;
  cpose_status status = cpose_estimator_create(params, &estimator);
  CHECK(status == expected);
  CHECK(estimator == sentinel);
  if (status == CPOSE_OK && estimator != sentinel) cpose_estimator_destroy(estimator);
  if (message_part && !strstr(cpose_last_error(), message_part)) {
    fprintf(stderr, "message '%s' does not contain '%s'\n", cpose_last_error(), message_part);
    CHECK(!"message names the fix");
  }
}

static void test_invalid_params(void) {
  cpose_estimator_params params = lightning_params();
  params.threads = 0;
  check_create_fails(&params, CPOSE_ERR_INVALID_ARGUMENT, "threads");
  params = lightning_params();
  params.box_scale = 0.5f; /* a crop smaller than the box cuts the person off */
  check_create_fails(&params, CPOSE_ERR_INVALID_ARGUMENT, "box_scale");
  char empty[] = "/tmp/cpose_test_pipeline_XXXXXX";
  CHECK(mkdtemp(empty) != NULL);
  params = lightning_params();
  params.models_dir = empty;
  check_create_fails(&params, CPOSE_ERR_NOT_FOUND, "bash scripts/setup.sh");
  rmdir(empty);
}

/* Runs `estimator` with allocation `fail_at` failing (-1: none) and, when `allocations_out` is not NULL,
 * tells how many allocations the run attempted; on failure the result pointer must stay as it was. */
static cpose_status run_failing_at(cpose_estimator *estimator, const cpose_image *image, long fail_at,
                                   size_t *count_out, long *allocations_out) {
  static cpose_person marker; /* an address no result can have */
  cpose_person *const sentinel = &marker;
  cpose_person *persons = sentinel;
  cpose_alloc_fail_after(fail_at);
  cpose_status status = cpose_estimator_run(estimator, image, NULL, 0, &persons, count_out);
  long allocations = cpose_alloc_fail_after(-1);
  if (allocations_out) *allocations_out = allocations;
  if (status == CPOSE_OK) {
    cpose_persons_free(persons);
  } else {
    CHECK(persons == sentinel);
  }
  return status;
}

/* Every allocation of a run (detector, crops, pose net, NMS) fails in turn: each must give out-of-memory or
 * a result, and the estimator must still work afterwards. Leaks show under LeakSanitizer (CPOSE_SANITIZE). */
static void test_allocation_failures(const cpose_image *image) {
  cpose_estimator_params params = lightning_params();
  cpose_estimator *estimator = NULL;
  CHECK_OK(cpose_estimator_create(&params, &estimator));
  if (!estimator) return;
  size_t expected = 0, count = 0;
  long allocations = 0, unexpected = 0;
  CHECK_OK(run_failing_at(estimator, image, -1, &expected, &allocations));
  for (long i = 0; i < allocations; i++) {
    cpose_status status = run_failing_at(estimator, image, i, &count, NULL);
    if (status == CPOSE_OK || status == CPOSE_ERR_OUT_OF_MEMORY) continue;
    if (unexpected++ < 3)
      fprintf(stderr, "allocation %ld: %s: %s\n", i, cpose_status_string(status), cpose_last_error());
  }
  CHECK(unexpected == 0);
  CHECK(allocations > 0);
  /* Past the last allocation nothing fails, and the failed runs must not have changed the estimator. */
  CHECK_OK(run_failing_at(estimator, image, allocations, &count, NULL));
  CHECK(count == expected);
  printf("allocation failures: %ld allocation points of a run swept\n", allocations);
  cpose_estimator_destroy(estimator);
}

int main(void) {
  skip_without_setup();
  cpose_image *image = NULL;
  CHECK_OK(cpose_image_load(SAMPLE, &image));
  if (!image) return test_finish("test_pipeline");
  cpose_estimator_params defaults = cpose_estimator_params_default();
  test_detector_path(image, &defaults, "default params");
  cpose_estimator_params lightning = lightning_params();
  test_detector_path(image, &lightning, "lightning");
  test_one_given_box(image);
  test_zero_given_boxes(image);
  test_invalid_params();
  test_allocation_failures(image);
  cpose_image_destroy(image);
  return test_finish("test_pipeline");
}
