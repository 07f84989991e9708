/* Tracking evaluation (cpose_eval_mot): CLEAR MOT counts worked out by hand on small sequences written here
 * as JSON (perfect tracking, an id switch, two crossing people whose ids swap, a missed frame, a false
 * track, the previous match kept over a better one, the most matches first, the OKS threshold's boundary);
 * errors on missing track ids; every allocation failure handled; when ../shared/data is there, the Bonn
 * PoseTrack sequence tracked by its own ground truth, then with two people's ids swapped; and the cpose
 * command's --track output. argv[1] is the cpose binary. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "cpose.h"
#include "eval/eval.h"
#include "eval_test.h"
#include "test.h"

#define TIGHT 1e-12

/* --- Building test files ------------------------------------------------------------------------------- */

static void put_pose(text *t, double x0, double y0) {
  double kp[3 * K];
  pose_at(x0, y0, kp);
  put_keypoints(t, kp);
}

/* A person in a frame: on the ground-truth side its track_id, on the results side its idx. Box 100 x 100 at
 * (x, y), area 10000. */
typedef struct entry {
  long frame; /* image id; frames are 1..n */
  long track;
  double x, y;
} entry;

/* Frames 1..frames ("<id>.jpg"), one category, the people in file order. */
static char *gt_json(long frames, const entry *people, int count) {
  text t = {0};
  put(&t, "{\"images\": [");
  for (long f = 1; f <= frames; f++)
    put(&t, "%s{\"id\": %ld, \"file_name\": \"%ld.jpg\"}", f > 1 ? ", " : "", f, f);
  put(&t, "], \"categories\": [{\"id\": 1, \"name\": \"person\"}], \"annotations\": [");
  for (int i = 0; i < count; i++) {
    const entry *p = &people[i];
    put(&t,
        "%s{\"id\": %d, \"image_id\": %ld, \"category_id\": 1, \"iscrowd\": 0, \"num_keypoints\": %d, "
        "\"track_id\": %ld, \"area\": 10000, \"bbox\": [%g, %g, 100, 100], ",
        i ? ", " : "", i + 1, p->frame, K, p->track, p->x, p->y);
    put_pose(&t, p->x, p->y);
    put(&t, "}");
  }
  put(&t, "]}");
  return t.s;
}

/* Results with their track id under `key` ("idx" as AlphaPose writes it, or "track_id"). */
static char *dt_json(const entry *results, int count, const char *key) {
  text t = {0};
  put(&t, "[");
  for (int i = 0; i < count; i++) {
    const entry *r = &results[i];
    put(&t, "%s{\"image_id\": %ld, \"category_id\": 1, \"score\": 0.9, \"%s\": %ld, ", i ? ", " : "",
        r->frame, key, r->track);
    put_pose(&t, r->x, r->y);
    put(&t, "}");
  }
  put(&t, "]");
  return t.s;
}

/* Evaluates (COCO sigmas) at `threshold`, frees both files; false (and a message) when it failed. */
static bool mot_of(char *gt, char *dt, double threshold, cpose_mot_result *r) {
  cpose_status status = cpose_eval_mot(gt, strlen(gt), dt, strlen(dt), NULL, threshold, r);
  if (status != CPOSE_OK) fprintf(stderr, "evaluation failed: %s\n", cpose_last_error());
  free(gt);
  free(dt);
  return status == CPOSE_OK;
}

/* The OKS of a result at (x + shift, y) with a ground-truth person at (x, y): eval_oks itself, which
 * test_eval checks against pycocotools' formula; here it only tells the expected MOTP and boundaries. */
static double oks_of_shift(double shift) {
  double gt[3 * K], dt[3 * K], bbox[4] = {0, 0, 100, 100};
  pose_at(0, 0, gt);
  pose_at(shift, 0, dt);
  return eval_oks(gt, bbox, 10000, dt, coco_vars(), K);
}

/* --- Hand-computed sequences --------------------------------------------------------------------------- */

/* Two people over three frames, each followed by one result track. */
static void test_perfect(void) {
  entry people[] = {{1, 0, 0, 0},   {1, 1, 300, 0}, {2, 0, 10, 0},
                    {2, 1, 290, 0}, {3, 0, 20, 0},  {3, 1, 280, 0}};
  entry results[6];
  for (int i = 0; i < 6; i++)
    results[i] = (entry){people[i].frame, 10 + 10 * people[i].track, people[i].x, 0};
  cpose_mot_result r;
  CHECK(mot_of(gt_json(3, people, 6), dt_json(results, 6, "idx"), 0.5, &r));
  CHECK(r.frames == 3 && r.gt_count == 6 && r.dt_count == 6 && r.matches == 6);
  CHECK(r.misses == 0 && r.false_positives == 0 && r.id_switches == 0 && r.fragmentations == 0);
  CHECK(r.gt_tracks == 2 && r.dt_tracks == 2 && r.mostly_tracked == 2 && r.mostly_lost == 0);
  CHECK(r.false_tracks == 0);
  CHECK_NEAR(r.mota, 1.0, TIGHT);
  CHECK_NEAR(r.motp, 1.0, TIGHT);
  /* The results may name their track 'track_id' instead of AlphaPose's 'idx'. */
  CHECK(mot_of(gt_json(3, people, 6), dt_json(results, 6, "track_id"), 0.5, &r));
  CHECK(r.matches == 6 && r.id_switches == 0);
}

/* Four frames of two people: person A's results change id from 1 to 7 at frame 3 and keep it; B is
 * followed throughout. The ground truth and the results ("idx"), to be freed. */
static void id_switch_scene(char **gt, char **dt) {
  entry people[8], results[8];
  long a_ids[] = {1, 1, 7, 7};
  for (int f = 0; f < 4; f++) {
    people[2 * f] = (entry){f + 1, 100, 0, 0};
    people[2 * f + 1] = (entry){f + 1, 200, 300, 0};
    results[2 * f] = (entry){f + 1, a_ids[f], 0, 0};
    results[2 * f + 1] = (entry){f + 1, 2, 300, 0};
  }
  *gt = gt_json(4, people, 8);
  *dt = dt_json(results, 8, "idx");
}

static void test_id_switch(void) {
  char *gt, *dt;
  id_switch_scene(&gt, &dt);
  cpose_mot_result r;
  CHECK(mot_of(gt, dt, 0.5, &r));
  CHECK(r.id_switches == 1 && r.matches == 8 && r.misses == 0 && r.false_positives == 0);
  CHECK(r.fragmentations == 0 && r.dt_tracks == 3 && r.false_tracks == 0 && r.mostly_tracked == 2);
  CHECK_NEAR(r.mota, 1.0 - 1.0 / 8.0, TIGHT); /* 0.875 */
  CHECK_NEAR(r.motp, 1.0, TIGHT);
}

/* Four frames: A walks right and B left; they cross between frames 2 and 3, and the tracker swaps their
 * ids there. B's results lie b_shift pixels to the right of B. */
static void crossing_scene(entry people[8], entry results[8], double b_shift) {
  double a_x[] = {0, 100, 200, 300}, b_x[] = {300, 200, 100, 0};
  for (int f = 0; f < 4; f++) {
    people[2 * f] = (entry){f + 1, 0, a_x[f], 0};
    people[2 * f + 1] = (entry){f + 1, 1, b_x[f], 0};
    long a_id = f < 2 ? 1 : 2, b_id = f < 2 ? 2 : 1;
    /* B's result first: file order need not follow the ground truth's */
    results[2 * f] = (entry){f + 1, b_id, b_x[f] + b_shift, 0};
    results[2 * f + 1] = (entry){f + 1, a_id, a_x[f], 0};
  }
}

static void test_crossing_swap(void) {
  entry people[8], results[8];
  crossing_scene(people, results, 0);
  cpose_mot_result r;
  CHECK(mot_of(gt_json(4, people, 8), dt_json(results, 8, "idx"), 0.5, &r));
  CHECK(r.id_switches == 2 && r.matches == 8 && r.misses == 0 && r.false_positives == 0);
  CHECK(r.fragmentations == 0 && r.false_tracks == 0);
  CHECK_NEAR(r.mota, 1.0 - 2.0 / 8.0, TIGHT);
}

/* Five frames; nothing found in frame 3. A's result track resumes with its id (a fragmentation, no switch);
 * B's with a new one (a fragmentation and a switch: motmetrics compares with the last match, however far
 * back). A is matched in 4 of 5 frames, exactly the 80% of mostly tracked. */
static void test_missed_frame(void) {
  entry people[10], results[8];
  int n = 0;
  for (int f = 1; f <= 5; f++) {
    people[2 * f - 2] = (entry){f, 0, 0, 0};
    people[2 * f - 1] = (entry){f, 1, 300, 0};
    if (f == 3) continue;
    results[n++] = (entry){f, 1, 0, 0};
    results[n++] = (entry){f, f < 3 ? 5 : 6, 300, 0};
  }
  cpose_mot_result r;
  CHECK(mot_of(gt_json(5, people, 10), dt_json(results, n, "idx"), 0.5, &r));
  CHECK(r.misses == 2 && r.fragmentations == 2 && r.id_switches == 1 && r.matches == 8);
  CHECK(r.false_positives == 0 && r.mostly_tracked == 2 && r.mostly_lost == 0);
  CHECK_NEAR(r.mota, 1.0 - 3.0 / 10.0, TIGHT);

  /* Misses before the first match and after the last are no fragmentation. A is matched in 2 of 5 frames
   * (40%: neither mostly tracked nor lost), B in 1 of 5 (20%: not below the 20% of mostly lost). */
  entry edge_results[] = {{2, 1, 0, 0}, {3, 1, 0, 0}, {4, 2, 300, 0}};
  CHECK(mot_of(gt_json(5, people, 10), dt_json(edge_results, 3, "idx"), 0.5, &r));
  CHECK(r.fragmentations == 0 && r.misses == 7 && r.matches == 3);
  CHECK(r.mostly_tracked == 0 && r.mostly_lost == 0);
  entry lost_results[] = {{2, 1, 0, 0}, {3, 1, 0, 0}};
  CHECK(mot_of(gt_json(5, people, 10), dt_json(lost_results, 2, "idx"), 0.5, &r));
  CHECK(r.mostly_tracked == 0 && r.mostly_lost == 1); /* B never matched */
}

/* A is followed by id 1; id 9 wanders where nobody is (frames 1, 2, and frame 4, which has no people); B is
 * never found. */
static void test_false_track(void) {
  entry people[] = {{1, 0, 0, 0}, {1, 1, 0, 300}, {2, 0, 0, 0}, {2, 1, 0, 300}, {3, 0, 0, 0}, {3, 1, 0, 300}};
  entry results[] = {{1, 1, 0, 0},   {1, 9, 600, 0}, {2, 1, 0, 0},
                     {2, 9, 600, 0}, {3, 1, 0, 0},   {4, 9, 600, 0}};
  cpose_mot_result r;
  CHECK(mot_of(gt_json(4, people, 6), dt_json(results, 6, "idx"), 0.5, &r));
  CHECK(r.frames == 4 && r.gt_count == 6 && r.dt_count == 6);
  CHECK(r.false_positives == 3 && r.misses == 3 && r.matches == 3 && r.id_switches == 0);
  CHECK(r.false_tracks == 1 && r.dt_tracks == 2 && r.gt_tracks == 2);
  CHECK(r.mostly_tracked == 1 && r.mostly_lost == 1);
  CHECK_NEAR(r.mota, 0.0, TIGHT); /* 1 - (3 + 3 + 0) / 6 */

  /* More errors than people: MOTA below zero. */
  entry one[] = {{1, 0, 0, 0}};
  entry far[] = {{1, 1, 600, 0}, {1, 2, 800, 0}, {1, 3, 1000, 0}};
  CHECK(mot_of(gt_json(1, one, 1), dt_json(far, 3, "idx"), 0.5, &r));
  CHECK(r.false_positives == 3 && r.misses == 1 && r.false_tracks == 3);
  CHECK_NEAR(r.mota, 1.0 - 4.0, TIGHT);
  CHECK_NEAR(r.motp, 0.0, TIGHT);

  /* No people at all: MOTA -1 (undefined), the false positives still counted. */
  CHECK(mot_of(gt_json(1, NULL, 0), dt_json(far, 3, "idx"), 0.5, &r));
  CHECK(r.gt_count == 0 && r.false_positives == 3 && r.gt_tracks == 0);
  CHECK_NEAR(r.mota, -1.0, TIGHT);
}

/* Frame 1 pairs A with id 1. In frame 2 id 2 lies exactly on A and id 1 is 8 px off (OKS ~0.73): the
 * Hungarian method alone would take id 2, but the previous match still holds, so it is kept. */
static void test_previous_match_kept(void) {
  entry people[] = {{1, 0, 0, 0}, {2, 0, 0, 0}};
  entry results[] = {{1, 1, 0, 0}, {2, 2, 0, 0}, {2, 1, 8, 0}};
  double oks8 = oks_of_shift(8);
  CHECK(oks8 > 0.5 && oks8 < 0.9);
  cpose_mot_result r;
  CHECK(mot_of(gt_json(2, people, 2), dt_json(results, 3, "idx"), 0.5, &r));
  CHECK(r.id_switches == 0 && r.matches == 2 && r.false_positives == 1 && r.false_tracks == 1);
  CHECK_NEAR(r.motp, (1.0 + oks8) / 2, TIGHT);
  CHECK_NEAR(r.mota, 1.0 - 1.0 / 2.0, TIGHT);

  /* Once id 1 drifts below the threshold (16 px, OKS ~0.43), the Hungarian method takes id 2: a switch. */
  entry drifted[] = {{1, 1, 0, 0}, {2, 2, 0, 0}, {2, 1, 16, 0}};
  CHECK(oks_of_shift(16) < 0.5);
  CHECK(mot_of(gt_json(2, people, 2), dt_json(drifted, 3, "idx"), 0.5, &r));
  CHECK(r.id_switches == 1 && r.matches == 2 && r.false_positives == 1 && r.false_tracks == 0);
  CHECK_NEAR(r.motp, 1.0, TIGHT);

  /* The previous match is a track's latest, however far back: A matched id 1 in frame 1, was missed in
   * frame 2, and in frame 3 id 1 (off by 8 px) is kept over id 2 lying exactly on A. */
  entry three[] = {{1, 0, 0, 0}, {2, 0, 0, 0}, {3, 0, 0, 0}};
  entry back[] = {{1, 1, 0, 0}, {3, 2, 0, 0}, {3, 1, 8, 0}};
  CHECK(mot_of(gt_json(3, three, 3), dt_json(back, 3, "idx"), 0.5, &r));
  CHECK(r.id_switches == 0 && r.matches == 2 && r.misses == 1 && r.fragmentations == 1);
  CHECK_NEAR(r.motp, (1.0 + oks8) / 2, TIGHT);
}

/* The Hungarian method, not greedy matching, and the most matches before the most OKS (motmetrics).
 * Frame 1: A at 0, B at 16; r1 at 6 (OKS ~0.83 with A, ~0.65 with B), r2 at -7 (~0.78 with A, below 0.5
 * with B). Greedy would give A r1 and leave B; the assignment is A r2, B r1.
 * Frame 2 (threshold 0.3): B at 0, r1 at 2 (~0.98 with B), A at 22 (r1 ~0.33), r2 at -20 (B ~0.33, A far):
 * one match B r1 has more OKS (0.98) than A r1 + B r2 (0.66), but two matches come first. */
static void test_assignment(void) {
  entry people[] = {{1, 0, 0, 0}, {1, 1, 16, 0}};
  entry results[] = {{1, 1, 6, 0}, {1, 2, -7, 0}};
  cpose_mot_result r;
  CHECK(mot_of(gt_json(1, people, 2), dt_json(results, 2, "idx"), 0.5, &r));
  CHECK(r.matches == 2 && r.misses == 0 && r.false_positives == 0);
  CHECK_NEAR(r.motp, (oks_of_shift(7) + oks_of_shift(10)) / 2, TIGHT);

  entry people2[] = {{1, 0, 22, 0}, {1, 1, 0, 0}};
  entry results2[] = {{1, 1, 2, 0}, {1, 2, -20, 0}};
  CHECK(oks_of_shift(20) > 0.3 && oks_of_shift(42) < 0.3);
  CHECK(mot_of(gt_json(1, people2, 2), dt_json(results2, 2, "idx"), 0.3, &r));
  CHECK(r.matches == 2 && r.misses == 0 && r.false_positives == 0);
  CHECK_NEAR(r.motp, oks_of_shift(20), TIGHT);

  /* More results than people and more people than results (the method runs on the transpose). */
  entry crowd[] = {{1, 0, 0, 0}, {1, 1, 200, 0}, {1, 2, 400, 0}};
  entry two[] = {{1, 5, 402, 0}, {1, 6, 3, 0}};
  CHECK(mot_of(gt_json(1, crowd, 3), dt_json(two, 2, "idx"), 0.5, &r));
  CHECK(r.matches == 2 && r.misses == 1 && r.false_positives == 0);
  CHECK_NEAR(r.motp, (oks_of_shift(2) + oks_of_shift(3)) / 2, TIGHT);
  entry four[] = {{1, 5, 402, 0}, {1, 6, 3, 0}, {1, 7, 800, 0}, {1, 8, 199, 0}};
  CHECK(mot_of(gt_json(1, crowd, 3), dt_json(four, 4, "idx"), 0.5, &r));
  CHECK(r.matches == 3 && r.misses == 0 && r.false_positives == 1);
}

/* A pair matches only when its OKS is above the threshold, not at it. */
static void test_threshold_boundary(void) {
  entry people[] = {{1, 0, 0, 0}};
  entry results[] = {{1, 1, 10, 0}};
  double oks = oks_of_shift(10);
  cpose_mot_result r;
  CHECK(mot_of(gt_json(1, people, 1), dt_json(results, 1, "idx"), oks, &r));
  CHECK(r.matches == 0 && r.misses == 1 && r.false_positives == 1);
  CHECK(mot_of(gt_json(1, people, 1), dt_json(results, 1, "idx"), nextafter(oks, 0), &r));
  CHECK(r.matches == 1 && r.misses == 0 && r.false_positives == 0);
  CHECK_NEAR(r.motp, oks, 0);
  CHECK(mot_of(gt_json(1, people, 1), dt_json(results, 1, "idx"), 0, &r));
  CHECK(r.matches == 1);

  char *gt = gt_json(1, people, 1), *dt = dt_json(results, 1, "idx");
  double bad[] = {1.0, -0.1, NAN, INFINITY};
  for (int i = 0; i < 4; i++) {
    CHECK(cpose_eval_mot(gt, strlen(gt), dt, strlen(dt), NULL, bad[i], &r) == CPOSE_ERR_INVALID_ARGUMENT);
  }
  CHECK(cpose_eval_mot(gt, strlen(gt), dt, strlen(dt), NULL, 0.5, NULL) == CPOSE_ERR_INVALID_ARGUMENT);
  free(gt);
  free(dt);
}

/* Crowd regions and people without labelled keypoints neither count nor match, and need no track id. */
static void test_ignored(void) {
  const char *gt =
      "{\"images\": [{\"id\": 1}], \"categories\": [{\"id\": 1}], \"annotations\": ["
      "{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"iscrowd\": 1, \"area\": 10000, "
      "\"bbox\": [0, 0, 100, 100]},"
      "{\"id\": 2, \"image_id\": 1, \"category_id\": 1, \"num_keypoints\": 0, \"area\": 10000, "
      "\"bbox\": [300, 0, 100, 100], \"track_id\": 4}]}";
  entry results[] = {{1, 1, 0, 0}, {1, 2, 300, 0}};
  char *dt = dt_json(results, 2, "idx");
  cpose_mot_result r;
  CHECK_OK(cpose_eval_mot(gt, strlen(gt), dt, strlen(dt), NULL, 0.5, &r));
  CHECK(r.gt_count == 0 && r.gt_tracks == 0 && r.false_positives == 2 && r.matches == 0);
  free(dt);
}

/* --- Bad input ----------------------------------------------------------------------------------------- */

static void check_error(const char *gt, const char *dt, const char *needle) {
  cpose_mot_result r;
  memset(&r, UNTOUCHED_BYTE, sizeof r);
  check_failure(cpose_eval_mot(gt, strlen(gt), dt, strlen(dt), NULL, 0.5, &r), CPOSE_ERR_PARSE, needle, &r,
                sizeof r);
}

static void test_missing_track_ids(void) {
  entry people[] = {{1, 0, 0, 0}, {2, 0, 0, 0}};
  char *gt = gt_json(2, people, 2);
  text dt = {0};
  put(&dt, "[{\"image_id\": 1, \"category_id\": 1, \"score\": 1, \"idx\": 3.0, ");
  put_pose(&dt, 0, 0);
  put(&dt, "}, {\"image_id\": 2, \"category_id\": 1, \"score\": 1, ");
  put_pose(&dt, 0, 0);
  put(&dt, "}]");
  check_error(gt, dt.s, "results[1] (image_id 2): no track id ('track_id' or 'idx')");
  /* COCO evaluation does not need track ids: the same files work there. */
  cpose_eval_result coco;
  CHECK_OK(cpose_eval_coco(gt, strlen(gt), dt.s, dt.n, NULL, &coco));
  CHECK_NEAR(coco.stats[CPOSE_EVAL_STAT_AP], 1.0, 1e-9);

  memcpy(strstr(dt.s, "\"idx\": 3.0"), "\"idx\": 3.5", strlen("\"idx\": 3.5"));
  check_error(gt, dt.s, "results[0] (image_id 1): track id 'idx' is not an integer");
  CHECK_OK(cpose_eval_coco(gt, strlen(gt), dt.s, dt.n, NULL, &coco));
  free(dt.s);

  entry results[] = {{1, 1, 0, 0}, {2, 1, 0, 0}};
  char *dt_ok = dt_json(results, 2, "idx");
  const char *no_track =
      "{\"images\": [{\"id\": 1}], \"categories\": [{\"id\": 1}], \"annotations\": [{\"id\": 5, "
      "\"image_id\": 1, "
      "\"category_id\": 1, \"area\": 100, \"bbox\": [0, 0, 10, 10], \"keypoints\": [1, 1, 2" /* ... */;
  text g = {0};
  put(&g, "%s", no_track);
  for (int i = 1; i < K; i++) put(&g, ", 0, 0, 0");
  put(&g, "]}]}");
  check_error(g.s, dt_ok, "ground truth: annotations[0] (image_id 1): no track id ('track_id')");
  free(g.s);

  /* Two people of one track in one frame. */
  entry twins[] = {{1, 0, 0, 0}, {2, 0, 0, 0}, {2, 0, 300, 0}};
  char *gt_twins = gt_json(2, twins, 3);
  check_error(gt_twins, dt_ok, "annotations with ids 2 and 3 (image_id 2) have the same track_id 0");
  free(gt_twins);
  /* Results for an image not in the ground truth are an error, as in cpose_eval_coco. */
  entry elsewhere[] = {{1, 1, 0, 0}, {9, 1, 0, 0}};
  char *dt_elsewhere = dt_json(elsewhere, 2, "idx");
  check_error(gt, dt_elsewhere, "results[1] (image_id 9): no ground-truth image has this id");
  free(dt_elsewhere);
  free(dt_ok);
  free(gt);
}

/* Allocation number i fails, for every i: a clean out-of-memory error each time, nothing leaked (ASan), and
 * finally the same numbers as without failures. */
static void test_allocation_failures(void) {
  entry people[8], results[9];
  crossing_scene(people, results, 3);
  results[8] = (entry){3, 9, 700, 0};
  char *gt = gt_json(4, people, 8), *dt = dt_json(results, 9, "idx");
  cpose_mot_result expected, r;
  CHECK_OK(cpose_eval_mot(gt, strlen(gt), dt, strlen(dt), NULL, 0.5, &expected));
  int failures = 0;
  for (long i = 0; i < 1000; i++) {
    cpose_alloc_fail_after(i);
    cpose_status status = cpose_eval_mot(gt, strlen(gt), dt, strlen(dt), NULL, 0.5, &r);
    cpose_alloc_fail_after(-1);
    if (status == CPOSE_OK) {
      CHECK(memcmp(&r, &expected, sizeof r) == 0);
      break;
    }
    failures++;
    CHECK(status == CPOSE_ERR_OUT_OF_MEMORY);
  }
  CHECK(failures > 10);
  free(gt);
  free(dt);
}

/* --- Real data ----------------------------------------------------------------------------------------- */

/* Results written from the annotations with cJSON (independently of the evaluator's loader), as AlphaPose
 * writes them: image_id the file name, idx the track; from image id `swap_from` on, tracks 0 and 1 trade
 * ids. */
static char *results_from_ground_truth(const cJSON *root, long swap_from) {
  text dt = {0};
  put(&dt, "[");
  const cJSON *ann;
  int n = 0;
  cJSON_ArrayForEach(ann, cJSON_GetObjectItem(root, "annotations")) {
    long image = (long)cJSON_GetObjectItem(ann, "image_id")->valuedouble;
    long track = (long)cJSON_GetObjectItem(ann, "track_id")->valuedouble;
    const char *name = NULL;
    const cJSON *img;
    cJSON_ArrayForEach(img, cJSON_GetObjectItem(root, "images")) {
      if ((long)cJSON_GetObjectItem(img, "id")->valuedouble == image)
        name = cJSON_GetObjectItem(img, "file_name")->valuestring;
    }
    if (image >= swap_from && (track == 0 || track == 1)) track = 1 - track;
    char *kp = cJSON_PrintUnformatted(cJSON_GetObjectItem(ann, "keypoints"));
    put(&dt, "%s{\"image_id\": \"%s\", \"category_id\": 1, \"score\": 1, \"idx\": %ld, \"keypoints\": %s}",
        n++ ? ", " : "", name ? name : "?", track, kp);
    free(kp);
  }
  put(&dt, "]");
  return dt.s;
}

static void test_real_sequence(void) {
  const char *path = "../shared/data/bonn-posetrack-060470979/annotations_coco17.json";
  size_t size;
  char *gt = test_read_file(path, &size);
  if (!gt) {
    printf("test_eval_mot: %s not found; the real-data check is skipped\n", path);
    return;
  }
  cJSON *root = cJSON_ParseWithLength(gt, size);
  CHECK(root != NULL);
  if (!root) {
    free(gt);
    return;
  }
  char *dt = results_from_ground_truth(root, 1L << 40);
  cpose_mot_result r;
  CHECK_OK(cpose_eval_mot(gt, size, dt, strlen(dt), NULL, 0.5, &r));
  CHECK(r.frames == 41 && r.gt_count == 164 && r.gt_tracks == 4 && r.dt_tracks == 4);
  CHECK(r.matches == 164 && r.id_switches == 0 && r.misses == 0 && r.false_positives == 0);
  CHECK(r.fragmentations == 0 && r.mostly_tracked == 4 && r.false_tracks == 0);
  CHECK_NEAR(r.mota, 1.0, TIGHT);
  CHECK_NEAR(r.motp, 1.0, TIGHT);
  free(dt);

  dt = results_from_ground_truth(root, 20);
  CHECK_OK(cpose_eval_mot(gt, size, dt, strlen(dt), NULL, 0.5, &r));
  CHECK(r.id_switches == 2 && r.matches == 164 && r.misses == 0 && r.false_positives == 0);
  CHECK_NEAR(r.mota, 1.0 - 2.0 / 164.0, TIGHT);
  printf(
      "test_eval_mot: %s: %zu frames, %zu people in %zu tracks; ids 0 and 1 swapped from image 20: "
      "%zu switches, MOTA %.4f\n",
      path, r.frames, r.gt_count, r.gt_tracks, r.id_switches, r.mota);
  free(dt);
  cJSON_Delete(root);
  free(gt);
}

/* --- The cpose command --------------------------------------------------------------------------------- */

/* Runs `cpose eval` with `flags` on the two files; returns its exit status and its stdout in *out. */
static int run_eval(const char *cpose, const char *gt_path, const char *dt_path, const char *flags,
                    char **out) {
  char command[8192];
  snprintf(command, sizeof command, "'%s' eval --gt '%s' --dt '%s' %s 2>/dev/null", cpose, gt_path, dt_path,
           flags);
  FILE *pipe = popen(command, "r");
  text t = {0};
  put(&t, "");
  char buf[4096];
  size_t n;
  while (pipe && (n = fread(buf, 1, sizeof buf - 1, pipe)) > 0) {
    buf[n] = '\0';
    put(&t, "%s", buf);
  }
  int status = pipe ? pclose(pipe) : -1;
  *out = t.s;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_text(const char *path, const char *s) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  fputs(s, f);
  fclose(f);
}

static void test_cli(const char *cpose) {
  if (!cpose || access(cpose, X_OK) != 0) {
    printf("test_eval_mot: no cpose binary given; the command check is skipped\n");
    return;
  }
  char dir[] = "/tmp/cpose_test_eval_mot_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char gt_path[64], dt_path[64];
  snprintf(gt_path, sizeof gt_path, "%s/gt.json", dir);
  snprintf(dt_path, sizeof dt_path, "%s/dt.json", dir);
  char *gt, *dt;
  id_switch_scene(&gt, &dt);
  write_text(gt_path, gt);
  write_text(dt_path, dt);
  free(gt);
  free(dt);

  char *out;
  CHECK(run_eval(cpose, gt_path, dt_path, "", &out) == 0);
  CHECK(strstr(out, "Average Precision") && !strstr(out, "MOTA") && !strstr(out, "tracking"));
  free(out);
  CHECK(run_eval(cpose, gt_path, dt_path, "--track", &out) == 0);
  CHECK(strstr(out, " MOTA         = 0.875") != NULL);
  CHECK(strstr(out, " IDSW         = 1\n") != NULL);
  CHECK(strstr(out, " FP           = 0\n") != NULL);
  CHECK(strstr(out, "8 people in 2 tracks, 8 results in 3 tracks") != NULL);
  CHECK(strstr(out, "Average Precision") < strstr(out, "MOTA")); /* after the AP table */
  free(out);
  CHECK(run_eval(cpose, gt_path, dt_path, "--track --track-oks 0.3 --json", &out) == 0);
  CHECK(strstr(out, "OKS > 0.3)") != NULL);
  const char *last = out + strlen(out);
  while (last > out && last[-1] == '\n') last--;
  while (last > out && last[-1] != '\n') last--;
  cJSON *json = cJSON_Parse(last);
  CHECK(json != NULL);
  const cJSON *mot = cJSON_GetObjectItem(json, "mot");
  CHECK(cJSON_IsObject(mot));
  CHECK(cJSON_GetObjectItem(json, "AP") != NULL);
  CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(mot, "MOTA")), 0.875, 1e-9);
  CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(mot, "IDSW")), 1, 0);
  CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(mot, "false_tracks")), 0, 0);
  cJSON_Delete(json);
  free(out);
  CHECK(run_eval(cpose, gt_path, dt_path, "--track-oks 0.3", &out) == 2); /* needs --track */
  free(out);
  CHECK(run_eval(cpose, gt_path, dt_path, "--track --track-oks 1.5", &out) == 2);
  free(out);
  /* Results without track ids: the tracking evaluation fails, naming the entry. */
  write_text(dt_path, "[]");
  CHECK(run_eval(cpose, gt_path, dt_path, "--track", &out) == 0); /* no results: nothing lacks an id */
  free(out);
  entry one[] = {{1, 0, 0, 0}};
  dt = dt_json(one, 1, "frame");
  write_text(dt_path, dt);
  free(dt);
  CHECK(run_eval(cpose, gt_path, dt_path, "", &out) == 0);
  free(out);
  CHECK(run_eval(cpose, gt_path, dt_path, "--track", &out) == 1);
  free(out);
  unlink(gt_path);
  unlink(dt_path);
  rmdir(dir);
}

int main(int argc, char **argv) {
  test_perfect();
  test_id_switch();
  test_crossing_swap();
  test_missed_frame();
  test_false_track();
  test_previous_match_kept();
  test_assignment();
  test_threshold_boundary();
  test_ignored();
  test_missing_track_ids();
  test_allocation_failures();
  test_real_sequence();
  test_cli(argc > 1 ? argv[1] : NULL);
  return test_finish("test_eval_mot");
}
