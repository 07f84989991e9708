/* COCO keypoint evaluation: OKS and the AP / AR that follow from it, against values worked out by hand from
 * pycocotools' COCOeval rules; errors on bad input; every allocation failure handled; and, when
 * ../shared/data is there, the real val subset scored against itself. */
#include <cjson/cJSON.h>
#include <string.h>

#include "core/alloc.h"
#include "cpose.h"
#include "eval/eval.h"
#include "eval_test.h"
#include "test.h"

#define TIGHT 1e-9 /* pycocotools' precision is tp / (tp + fp + eps): a hair under the exact fraction */

/* --- Building test files ------------------------------------------------------------------------------- */

typedef struct gt_person {
  long id, image;
  double kp[3 * K]; /* all zero: none labelled */
  double bbox[4];
  double area;
  int crowd;
} gt_person;

typedef struct dt_person {
  long image;       /* used when name is NULL */
  const char *name; /* AlphaPose's image_id: a file name */
  double kp[3 * K];
  double score;
} dt_person;

/* A ground truth with images `ids` (file names "<id>.jpg") and one category (person, id 1). */
static char *gt_file(const long *ids, int image_count, const gt_person *people, int count) {
  text t = {0};
  put(&t, "{\"images\": [");
  for (int i = 0; i < image_count; i++)
    put(&t, "%s{\"id\": %ld, \"file_name\": \"%ld.jpg\"}", i ? ", " : "", ids[i], ids[i]);
  put(&t, "], \"categories\": [{\"id\": 1, \"name\": \"person\"}], \"annotations\": [");
  for (int i = 0; i < count; i++) {
    const gt_person *p = &people[i];
    int labelled = 0;
    for (int k = 0; k < K; k++) labelled += p->kp[3 * k + 2] > 0;
    put(&t, "%s{\"id\": %ld, \"image_id\": %ld, \"category_id\": 1, \"iscrowd\": %d, \"num_keypoints\": %d, ",
        i ? ", " : "", p->id, p->image, p->crowd, labelled);
    put(&t, "\"area\": %.17g, \"bbox\": [%g, %g, %g, %g], ", p->area, p->bbox[0], p->bbox[1], p->bbox[2],
        p->bbox[3]);
    put_keypoints(&t, p->kp);
    put(&t, "}");
  }
  put(&t, "]}");
  return t.s;
}

/* Results; `extra` (may be NULL) is appended inside the i-th entry, e.g. ", \"bbox\": [0, 0, 1, 1]". */
static char *dt_file(const dt_person *dets, int count, const char *const *extra) {
  text t = {0};
  put(&t, "[");
  for (int i = 0; i < count; i++) {
    const dt_person *d = &dets[i];
    if (d->name)
      put(&t, "%s{\"image_id\": \"%s\", ", i ? ", " : "", d->name);
    else
      put(&t, "%s{\"image_id\": %ld, ", i ? ", " : "", d->image);
    put(&t, "\"category_id\": 1, \"score\": %.17g, ", d->score);
    put_keypoints(&t, d->kp);
    put(&t, "%s}", extra && extra[i] ? extra[i] : "");
  }
  put(&t, "]");
  return t.s;
}

static cpose_status evaluate(const char *gt, const char *dt, int max_dets, cpose_eval_result *r) {
  cpose_eval_params params = cpose_eval_params_default();
  params.max_dets = max_dets;
  return cpose_eval_coco(gt, strlen(gt), dt, strlen(dt), &params, r);
}

/* Evaluates, frees both files, and returns AP (-2 when the evaluation failed). */
static double ap_of(char *gt, char *dt, int max_dets, cpose_eval_result *r) {
  cpose_eval_result local;
  if (!r) r = &local;
  cpose_status status = evaluate(gt, dt, max_dets, r);
  if (status != CPOSE_OK) fprintf(stderr, "evaluation failed: %s\n", cpose_last_error());
  free(gt);
  free(dt);
  return status == CPOSE_OK ? r->stats[CPOSE_EVAL_STAT_AP] : -2;
}

/* A person at (x0, y0): box 100 x 100, area 10000 (large). */
static gt_person person(long id, long image, double x0, double y0) {
  gt_person p = {id, image, {0}, {x0, y0, 100, 100}, 10000, 0};
  pose_at(x0, y0, p.kp);
  return p;
}

static dt_person detection_of(const gt_person *p, double score) {
  dt_person d = {p->image, NULL, {0}, score};
  memcpy(d.kp, p->kp, sizeof d.kp);
  return d;
}

/* --- OKS ----------------------------------------------------------------------------------------------- */

static void test_oks(void) {
  const double *vars = coco_vars();
  gt_person p = person(1, 1, 100, 100);
  double dt[3 * K];
  memcpy(dt, p.kp, sizeof dt);
  CHECK_NEAR(eval_oks(p.kp, p.bbox, p.area, dt, vars, K), 1.0, 1e-15);

  /* Left hip (sigma .107, var .214^2) moved by (6, 8): e = 100 / .045796 / 10000 / 2 = 0.1091798,
   * exp(-e) = 0.8965692, and the 16 others count 1 each: (16 + 0.8965692) / 17 = 0.9939158. */
  dt[3 * 11] += 6;
  dt[3 * 11 + 1] += 8;
  CHECK_NEAR(eval_oks(p.kp, p.bbox, p.area, dt, vars, K), 0.9939158331, 1e-9);

  /* Keypoints with v = 0 do not count, wherever the detection puts them. */
  p.kp[3 * 11 + 2] = 0;
  CHECK_NEAR(eval_oks(p.kp, p.bbox, p.area, dt, vars, K), 1.0, 1e-15);

  /* Only the nose labelled, detected 3 px off: e = 9 / .052^2 / 10000 / 2 = 0.1664201, OKS = 0.8466904. */
  double nose_only[3 * K] = {150, 150, 2};
  memcpy(dt, p.kp, sizeof dt);
  dt[0] = 153;
  dt[1] = 150;
  CHECK_NEAR(eval_oks(nose_only, p.bbox, p.area, dt, vars, K), 0.8466904493, 1e-9);

  /* No labelled keypoint: the distance outside the box enlarged by its size on every side. Box x 100..150,
   * y 100..180 -> x 50..200, y 20..260. All inside: 1. The right wrist (sigma .062) at x = 210, 10 px out:
   * e = 100 / .124^2 / 4000 / 2 = 0.8129553, (16 + exp(-e)) / 17 = 0.9672674. */
  double none[3 * K] = {0}, box[4] = {100, 100, 50, 80};
  for (int i = 0; i < K; i++) {
    dt[3 * i] = 60 + 8 * i;
    dt[3 * i + 1] = 30 + 12 * i;
  }
  CHECK_NEAR(eval_oks(none, box, 4000, dt, vars, K), 1.0, 1e-15);
  dt[3 * 10] = 210;
  CHECK_NEAR(eval_oks(none, box, 4000, dt, vars, K), 0.9672673728, 1e-9);
}

/* --- AP and AR ----------------------------------------------------------------------------------------- */

static void test_perfect(void) {
  long ids[] = {7, 3};
  gt_person gts[] = {person(1, 7, 0, 0), person(2, 7, 200, 0), person(3, 3, 50, 50)};
  dt_person dts[] = {detection_of(&gts[0], 0.9), detection_of(&gts[1], 0.8), detection_of(&gts[2], 0.7)};
  cpose_eval_result r;
  CHECK_NEAR(ap_of(gt_file(ids, 2, gts, 3), dt_file(dts, 3, NULL), 20, &r), 1.0, TIGHT);
  for (int s = 0; s < CPOSE_EVAL_STAT_COUNT; s++) {
    /* Every person is large (area 10000 >= 96^2): nothing counts in the medium range. */
    double expected = s == CPOSE_EVAL_STAT_AP_MEDIUM || s == CPOSE_EVAL_STAT_AR_MEDIUM ? -1 : 1;
    CHECK_NEAR(r.stats[s], expected, TIGHT);
  }
  CHECK(r.image_count == 2 && r.gt_count == 3 && r.gt_ignored_count == 0 && r.dt_count == 3);
  CHECK(r.dt_unused_count == 0);
}

/* OKS 0.8467 (see test_oks) is at or above the thresholds 0.50..0.80 and below 0.85..0.95: the one
 * detection is a hit at 7 of 10 thresholds, where precision is 1 at every recall point, and a miss (0) at
 * the other 3. AP = AR = 0.7; AP50 = AP75 = 1. */
static void test_partial_match(void) {
  long ids[] = {1};
  gt_person g = person(1, 1, 100, 100);
  memset(g.kp, 0, sizeof g.kp);
  g.kp[0] = 150;
  g.kp[1] = 150;
  g.kp[2] = 2;
  dt_person d = {1, NULL, {0}, 0.9};
  pose_at(100, 100, d.kp);
  d.kp[0] = 153;
  d.kp[1] = 150;
  cpose_eval_result r;
  CHECK_NEAR(ap_of(gt_file(ids, 1, &g, 1), dt_file(&d, 1, NULL), 20, &r), 0.7, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP50], 1.0, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP75], 1.0, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP_LARGE], 0.7, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR], 0.7, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR_LARGE], 0.7, TIGHT);
}

/* A crowd region, and a person without labelled keypoints, are neither misses nor hits: detections on
 * them are ignored. Both get OKS 1 by the box rule (keypoints inside the enlarged box). */
static void ignored_regions(int crowd, cpose_eval_result *r) {
  long ids[] = {1};
  gt_person gts[2] = {person(1, 1, 0, 0), {2, 1, {0}, {300, 300, 40, 40}, 1600, crowd}};
  dt_person dts[3] = {{1, NULL, {0}, 0.95}, {1, NULL, {0}, 0.9}, detection_of(&gts[0], 0.5)};
  pose_at(290, 290, dts[0].kp); /* inside 260..380 */
  pose_at(280, 280, dts[1].kp);
  ap_of(gt_file(ids, 1, gts, 2), dt_file(dts, 3, NULL), 20, r);
}

static void test_ignored(void) {
  cpose_eval_result r;
  /* Crowd: both detections on it are ignored, however many; the person is found: AP 1. */
  ignored_regions(1, &r);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP], 1.0, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR], 1.0, TIGHT);
  CHECK(r.gt_count == 1 && r.gt_ignored_count == 1);
  /* Not crowd, no keypoints: ignored too, but it takes one detection only; the second is a false positive
   * ahead of the hit. Sorted: ignored, FP, TP -> precision 0, 0, 1/2 -> made monotone 1/2 everywhere. */
  ignored_regions(0, &r);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP], 0.5, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR], 1.0, TIGHT);
}

/* Equal scores keep file order within an image (a stable sort) and image-id order across images. */
static void test_ties(void) {
  long ids[] = {5, 3};
  gt_person g = person(1, 5, 0, 0);
  dt_person hit = detection_of(&g, 0.5), miss = {5, NULL, {0}, 0.5};
  pose_at(300, 300, miss.kp);
  dt_person miss_first[] = {miss, hit}, hit_first[] = {hit, miss};
  /* FP then TP: precision 0, 1/2 -> 1/2. TP then FP: precision 1 at full recall -> 1. */
  CHECK_NEAR(ap_of(gt_file(ids, 2, &g, 1), dt_file(miss_first, 2, NULL), 20, NULL), 0.5, TIGHT);
  CHECK_NEAR(ap_of(gt_file(ids, 2, &g, 1), dt_file(hit_first, 2, NULL), 20, NULL), 1.0, TIGHT);
  /* The miss in image 3 comes before the hit in image 5 although the file lists image 5 first. */
  miss.image = 3;
  dt_person across[] = {hit, miss};
  CHECK_NEAR(ap_of(gt_file(ids, 2, &g, 1), dt_file(across, 2, NULL), 20, NULL), 0.5, TIGHT);
}

/* Only the 20 best-scored detections of an image count. */
static void test_max_dets(void) {
  long ids[] = {1};
  gt_person g = person(1, 1, 0, 0);
  dt_person dts[21];
  for (int i = 0; i < 20; i++) {
    dts[i] = (dt_person){1, NULL, {0}, 0.9};
    pose_at(200 + 10 * i, 300, dts[i].kp);
  }
  dts[20] = detection_of(&g, 0.1);
  cpose_eval_result r;
  /* The hit is 21st: dropped, so nothing is found. */
  CHECK_NEAR(ap_of(gt_file(ids, 1, &g, 1), dt_file(dts, 21, NULL), 20, &r), 0.0, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR], 0.0, TIGHT);
  CHECK(r.dt_count == 21 && r.dt_unused_count == 1);
  /* With 21 allowed, it is found after 20 false positives: precision 1/21 at recall 1. */
  CHECK_NEAR(ap_of(gt_file(ids, 1, &g, 1), dt_file(dts, 21, NULL), 21, &r), 1.0 / 21, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR], 1.0, TIGHT);
}

/* A person nobody detected is a miss: recall 1/2; precision 1 up to recall 0.50 (51 of 101 points). */
static void test_missed_image(void) {
  long ids[] = {1, 2};
  gt_person gts[] = {person(1, 1, 0, 0), person(2, 2, 0, 0)};
  dt_person d = detection_of(&gts[0], 0.9);
  cpose_eval_result r;
  CHECK_NEAR(ap_of(gt_file(ids, 2, gts, 2), dt_file(&d, 1, NULL), 20, &r), 51.0 / 101, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR], 0.5, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR50], 0.5, TIGHT);
}

/* The area ranges: a medium person (area 2000) and a false positive whose keypoints span 50 x 50 = 2500
 * (medium), scored higher. Medium and all: FP then TP -> 1/2. When the first result has a bbox, pycocotools
 * takes every result's area from its bbox: 200 x 100 is large, so in the medium range the unmatched
 * detection is ignored -> APm 1. */
static void test_area_ranges(void) {
  long ids[] = {1};
  gt_person g = person(1, 1, 0, 0);
  g.area = 2000;
  dt_person dts[] = {{1, NULL, {0}, 0.9}, detection_of(&g, 0.5)};
  pose_at(300, 300, dts[0].kp);
  for (int i = 0; i < K; i++) { /* squeeze the FP from x 310..390, y 305..385 into 300..350 */
    dts[0].kp[3 * i] = 300 + (dts[0].kp[3 * i] - 310) * 50 / 80;
    dts[0].kp[3 * i + 1] = 300 + (dts[0].kp[3 * i + 1] - 305) * 50 / 80;
  }
  cpose_eval_result r;
  CHECK_NEAR(ap_of(gt_file(ids, 1, &g, 1), dt_file(dts, 2, NULL), 20, &r), 0.5, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP_MEDIUM], 0.5, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP_LARGE], -1, TIGHT);
  const char *boxes[] = {", \"bbox\": [300, 300, 200, 100]", ", \"bbox\": [0, 0, 10, 10]"};
  CHECK_NEAR(ap_of(gt_file(ids, 1, &g, 1), dt_file(dts, 2, boxes), 20, &r), 0.5, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP_MEDIUM], 1.0, TIGHT);
}

/* AlphaPose's results name the image by file name (folders dropped) and carry extra fields. */
static void test_alphapose_names(void) {
  long ids[] = {139, 785};
  gt_person gts[] = {person(1, 139, 0, 0), person(2, 785, 0, 0)};
  dt_person dts[] = {detection_of(&gts[0], 0.9), detection_of(&gts[1], 0.8)};
  dts[0].name = "139.jpg";
  dts[1].name = "val2017/785.jpg";
  const char *extra[] = {", \"box\": [0, 0, 100, 100], \"idx\": [0]", ", \"idx\": [1]"};
  CHECK_NEAR(ap_of(gt_file(ids, 2, gts, 2), dt_file(dts, 2, extra), 20, NULL), 1.0, TIGHT);
}

/* pycocotools marks a match with the ground truth's id, so one whose id is 0 never counts as found. */
static void test_gt_id_zero(void) {
  long ids[] = {1};
  gt_person g = person(0, 1, 0, 0);
  dt_person d = detection_of(&g, 0.9);
  CHECK_NEAR(ap_of(gt_file(ids, 1, &g, 1), dt_file(&d, 1, NULL), 20, NULL), 0.0, TIGHT);
}

/* Other keypoint sets: a 14-keypoint file evaluates with 14 sigmas. */
static void test_keypoint_sets(void) {
  const double *sigmas;
  size_t k;
  CHECK_OK(cpose_eval_keypoint_set("coco17", &sigmas, &k));
  CHECK(k == 17 && sigmas[0] == .26 / 10.0 && sigmas[16] == .89 / 10.0);
  CHECK_OK(cpose_eval_keypoint_set("halpe26", &sigmas, &k));
  CHECK(k == 26 && sigmas[17] == .8 / 10.0);
  CHECK_OK(cpose_eval_keypoint_set("crowdpose14", &sigmas, &k));
  CHECK(k == 14 && sigmas[13] == .79 / 10.0);
  CHECK(cpose_eval_keypoint_set("mpii", &sigmas, &k) == CPOSE_ERR_NOT_FOUND);

  const char *gt =
      "{\"images\": [{\"id\": 1}], \"categories\": [{\"id\": 1}], \"annotations\": [{\"id\": 1, "
      "\"image_id\": 1, \"category_id\": 1, \"area\": 900, \"bbox\": [0, 0, 30, 30], "
      "\"keypoints\": [1,2,2, 3,4,2, 5,6,2, 7,8,2, 9,10,2, 11,12,2, 13,14,2, 15,16,2, 17,18,2, "
      "19,20,2, 21,22,2, 23,24,2, 25,26,2, 27,28,0]}]}";
  const char *dt =
      "[{\"image_id\": 1, \"category_id\": 1, \"score\": 1, \"keypoints\": [1,2,1, 3,4,1, 5,6,1, "
      "7,8,1, 9,10,1, 11,12,1, 13,14,1, 15,16,1, 17,18,1, 19,20,1, 21,22,1, 23,24,1, 25,26,1, 0,0,1]}]";
  cpose_eval_params params = cpose_eval_params_default();
  params.keypoint_set = "crowdpose14";
  cpose_eval_result r;
  CHECK_OK(cpose_eval_coco(gt, strlen(gt), dt, strlen(dt), &params, &r));
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP], 1.0, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP_MEDIUM], -1.0, TIGHT); /* 900 < 32^2 */
  params.sigmas = sigmas;
  params.sigma_count = k;
  params.keypoint_set = "unknown, but sigmas win";
  CHECK_OK(cpose_eval_coco(gt, strlen(gt), dt, strlen(dt), &params, &r));
  params = cpose_eval_params_default(); /* coco17: the 14-keypoint file is refused */
  CHECK(cpose_eval_coco(gt, strlen(gt), dt, strlen(dt), &params, &r) == CPOSE_ERR_PARSE);
  CHECK(strstr(cpose_last_error(), "'keypoints' has 42 values, expected 51") != NULL);
}

/* --- Bad input ----------------------------------------------------------------------------------------- */

/* Evaluates the small valid ground truth against `dt`; checks the status and that the message has `needle`.
 */
static void check_error(const char *gt, const char *dt, cpose_status expected, const char *needle) {
  cpose_eval_result r;
  memset(&r, UNTOUCHED_BYTE, sizeof r);
  check_failure(cpose_eval_coco(gt, strlen(gt), dt, strlen(dt), NULL, &r), expected, needle, &r, sizeof r);
}

static void test_bad_input(void) {
  long ids[] = {139};
  gt_person g = person(1, 139, 0, 0);
  char *gt = gt_file(ids, 1, &g, 1);
  const char *kp17 =
      "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
      "1]";
  char ok[400], dt[1024];
  snprintf(ok, sizeof ok, "{\"image_id\": 139, \"category_id\": 1, \"score\": 0.5, \"keypoints\": %s}", kp17);

  check_error(gt, "[{\"image_id\": 139,", CPOSE_ERR_PARSE, "results: malformed JSON");
  check_error(gt, "[] trailing", CPOSE_ERR_PARSE, "results: malformed JSON at byte 3");
  check_error(gt, "", CPOSE_ERR_PARSE, "results: empty");
  check_error("{\"images\": [", "[]", CPOSE_ERR_PARSE, "ground truth: malformed JSON");
  check_error(gt, "{\"annotations\": []}", CPOSE_ERR_PARSE, "results: expected a JSON list");
  check_error("{\"categories\": []}", "[]", CPOSE_ERR_PARSE, "'images' is missing");
  check_error("{\"images\": [{\"id\": \"x\"}], \"categories\": []}", "[]", CPOSE_ERR_PARSE,
              "images[0]: 'id'");
  snprintf(dt, sizeof dt, "[%s, {\"image_id\": 999, \"category_id\": 1, \"score\": 1, \"keypoints\": %s}]",
           ok, kp17);
  check_error(gt, dt, CPOSE_ERR_PARSE, "results[1] (image_id 999): no ground-truth image has this id");
  snprintf(dt, sizeof dt,
           "[{\"image_id\": \"nope.jpg\", \"category_id\": 1, \"score\": 1, \"keypoints\": %s}]", kp17);
  check_error(gt, dt, CPOSE_ERR_PARSE,
              "results[0] (image_id \"nope.jpg\"): no ground-truth image has this file name");
  check_error(gt, "[{\"image_id\": 139, \"category_id\": 1, \"score\": 1, \"keypoints\": [1, 2, 3]}]",
              CPOSE_ERR_PARSE,
              "results[0] (image_id 139): 'keypoints' has 3 values, expected 51 (17 keypoints x 3)");
  check_error(gt, "[{\"image_id\": 139, \"category_id\": 1, \"score\": 1, \"keypoints\": [1, \"2\", 3]}]",
              CPOSE_ERR_PARSE, "results[0] (image_id 139): 'keypoints'[1] is not a finite number");
  snprintf(dt, sizeof dt,
           "[%s, {\"image_id\": 139, \"category_id\": 1, \"score\": \"high\", \"keypoints\": %s}]", ok, kp17);
  check_error(gt, dt, CPOSE_ERR_PARSE, "results[1] (image_id 139): 'score'");
  check_error(gt, "[{\"image_id\": 139, \"category_id\": 1, \"score\": 1e999, \"keypoints\": []}]",
              CPOSE_ERR_PARSE, "'score' is missing or not a finite number");
  check_error(gt, "[{\"image_id\": [139]}]", CPOSE_ERR_PARSE,
              "results[0]: 'image_id' is missing or not a number");
  check_error(gt, "[7]", CPOSE_ERR_PARSE, "results[0]: not a JSON object");
  snprintf(dt, sizeof dt, "[%s, {\"image_id\": 139, \"score\": 1, \"keypoints\": %s}]", ok, kp17);
  check_error(gt, dt, CPOSE_ERR_PARSE, "results[1] (image_id 139): 'category_id'");
  /* bbox-mode results (the first has a bbox) need a bbox on every entry. */
  snprintf(dt, sizeof dt, "[{\"bbox\": [0, 0, 1, 1], %s, %s]", ok + 1, ok);
  check_error(gt, dt, CPOSE_ERR_PARSE, "results[1] (image_id 139): 'bbox' is missing or not a list");
  const char *bad_gt =
      "{\"images\": [{\"id\": 1}], \"categories\": [{\"id\": 1}], \"annotations\": [{\"id\": 1, "
      "\"image_id\": 1, \"category_id\": 1, \"area\": -5, \"bbox\": [0, 0, 1, 1]}]}";
  check_error(bad_gt, "[]", CPOSE_ERR_PARSE, "ground truth: annotations[0] (image_id 1): 'area'");

  /* A deeply nested file is refused by cJSON's nesting cap, not by the stack. */
  static char deep[20001];
  memset(deep, '[', sizeof deep - 1);
  check_error(gt, deep, CPOSE_ERR_PARSE, "results: malformed JSON");
  /* Sizes above the cap are refused before the buffer is read. */
  cpose_eval_result r;
  CHECK(cpose_eval_coco(gt, ((size_t)1 << 30) + 1, "[]", 2, NULL, &r) == CPOSE_ERR_LIMIT);

  cpose_eval_params params = cpose_eval_params_default();
  params.max_dets = 0;
  CHECK(cpose_eval_coco(gt, strlen(gt), "[]", 2, &params, &r) == CPOSE_ERR_INVALID_ARGUMENT);
  params = cpose_eval_params_default();
  double negative[] = {0.1, -0.1};
  params.sigmas = negative;
  params.sigma_count = 2;
  CHECK(cpose_eval_coco(gt, strlen(gt), "[]", 2, &params, &r) == CPOSE_ERR_INVALID_ARGUMENT);
  params = cpose_eval_params_default();
  params.keypoint_set = "mpii";
  CHECK(cpose_eval_coco(gt, strlen(gt), "[]", 2, &params, &r) == CPOSE_ERR_NOT_FOUND);
  CHECK(cpose_eval_coco(gt, strlen(gt), "[]", 2, NULL, NULL) == CPOSE_ERR_INVALID_ARGUMENT);

  /* No results at all is not an error: nothing found, AP 0. */
  CHECK_OK(cpose_eval_coco(gt, strlen(gt), "[]", 2, NULL, &r));
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AP], 0.0, TIGHT);
  CHECK_NEAR(r.stats[CPOSE_EVAL_STAT_AR], 0.0, TIGHT);
  free(gt);
}

/* Allocation number i fails, for every i: a clean out-of-memory error each time, nothing leaked (valgrind
 * or ASan), and finally the same numbers as without failures. */
static void test_allocation_failures(void) {
  long ids[] = {7, 3};
  gt_person gts[] = {person(1, 7, 0, 0), person(2, 7, 200, 0), person(3, 3, 50, 50)};
  dt_person dts[] = {detection_of(&gts[0], 0.9), detection_of(&gts[1], 0.8), {3, NULL, {0}, 0.95}};
  pose_at(400, 400, dts[2].kp);
  char *gt = gt_file(ids, 2, gts, 3), *dt = dt_file(dts, 3, NULL);
  cpose_eval_result expected, r;
  CHECK_OK(evaluate(gt, dt, 20, &expected));
  int failures = 0;
  for (long i = 0; i < 1000; i++) {
    cpose_alloc_fail_after(i);
    cpose_status status = evaluate(gt, dt, 20, &r);
    cpose_alloc_fail_after(-1);
    if (status == CPOSE_OK) {
      CHECK(memcmp(r.stats, expected.stats, sizeof r.stats) == 0);
      break;
    }
    failures++;
    CHECK(status == CPOSE_ERR_OUT_OF_MEMORY);
  }
  CHECK(failures > 5);
  free(gt);
  free(dt);
}

/* --- Real data ----------------------------------------------------------------------------------------- */

/* The official COCO val annotations of ../shared/data, with every person that counts "detected" exactly
 * (results written from the ground truth): AP and AR 1. */
static void test_real_ground_truth(void) {
  const char *path = "../shared/data/coco-val-dev/annotations.json";
  size_t size;
  char *gt = test_read_file(path, &size);
  if (!gt) {
    printf("test_eval: %s not found; the real-data check is skipped\n", path);
    return;
  }
  /* The results are written from the annotations with cJSON here, independently of the evaluator's loader. */
  cJSON *root = cJSON_ParseWithLength(gt, size);
  CHECK(root != NULL);
  text dt = {0};
  put(&dt, "[");
  const cJSON *ann;
  int people = 0;
  cJSON_ArrayForEach(ann, cJSON_GetObjectItem(root, "annotations")) {
    if (cJSON_GetObjectItem(ann, "iscrowd")->valueint ||
        cJSON_GetObjectItem(ann, "num_keypoints")->valueint == 0) {
      continue;
    }
    char *kp = cJSON_PrintUnformatted(cJSON_GetObjectItem(ann, "keypoints"));
    put(&dt, "%s{\"image_id\": %d, \"category_id\": 1, \"score\": %.3f, \"keypoints\": %s}",
        people ? ", " : "", cJSON_GetObjectItem(ann, "image_id")->valueint, 1.0 - people * 0.001, kp);
    free(kp);
    people++;
  }
  put(&dt, "]");
  cJSON_Delete(root);
  cpose_eval_result r;
  CHECK_OK(cpose_eval_coco(gt, size, dt.s, dt.n, NULL, &r));
  for (int s = 0; s < CPOSE_EVAL_STAT_COUNT; s++) CHECK_NEAR(r.stats[s], 1.0, TIGHT);
  CHECK(r.gt_count == (size_t)people && people > 50);
  printf("test_eval: %s: %zu images, %zu people, AP %.3f\n", path, r.image_count, r.gt_count,
         r.stats[CPOSE_EVAL_STAT_AP]);
  free(dt.s);
  free(gt);
}

int main(void) {
  test_oks();
  test_perfect();
  test_partial_match();
  test_ignored();
  test_ties();
  test_max_dets();
  test_missed_image();
  test_area_ranges();
  test_alphapose_names();
  test_gt_id_zero();
  test_keypoint_sets();
  test_bad_input();
  test_allocation_failures();
  test_real_ground_truth();
  return test_finish("test_eval");
}
