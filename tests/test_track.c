/* The tracker: the Hungarian method on hand-solved matrices and against brute force, the Kalman filter on
 * constant-velocity motion, and synthetic scenes of walking people with jittered 17-keypoint poses (two
 * people crossing, an occlusion, people leaving and entering, a one-frame false positive, clothes colours
 * telling two people apart), the predicted boxes, bad inputs and failing allocations. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "cpose.h"
#include "test.h"
#include "track/track.h"

/* --- Hungarian method ---------------------------------------------------------------------------------- */

/* Solves with fresh scratch memory. */
static void solve(const float *cost, size_t rows, size_t cols, float max_cost, int *row_match) {
  void *scratch = malloc(hungarian_scratch_size(rows, cols));
  hungarian_solve(cost, rows, cols, max_cost, scratch, row_match);
  free(scratch);
}

static void test_hungarian_square(void) {
  /* Optimum 1 + 2 + 2 = 5: row 0 -> 1, row 1 -> 0, row 2 -> 2 (greedy on row 1's 0 would cost 6). */
  const float cost[9] = {4, 1, 3, 2, 0, 5, 3, 2, 2};
  int match[3];
  solve(cost, 3, 3, 100, match);
  CHECK(match[0] == 1 && match[1] == 0 && match[2] == 2);
}

static void test_hungarian_rectangular(void) {
  /* 2 x 4: row 0 -> 1 (2), row 1 -> 2 (3) = 5; columns 0 and 3 stay free. */
  const float wide[8] = {9, 2, 7, 8, 6, 4, 3, 7};
  int match[4];
  solve(wide, 2, 4, 100, match);
  CHECK(match[0] == 1 && match[1] == 2);
  /* The same matrix transposed, 4 x 2: rows 1 and 2 matched, rows 0 and 3 left. */
  const float tall[8] = {9, 6, 2, 4, 7, 3, 8, 7};
  solve(tall, 4, 2, 100, match);
  CHECK(match[0] == -1 && match[1] == 0 && match[2] == 1 && match[3] == -1);
  /* Empty matrices. */
  solve(NULL, 0, 3, 1, match);
  match[0] = 7, match[1] = 7;
  solve(wide, 2, 0, 1, match);
  CHECK(match[0] == -1 && match[1] == -1);
}

static void test_hungarian_forbidden(void) {
  /* Row 1 can only take column 0, which row 0 wants too: max_cost 5 forbids the 10s. */
  const float cost[4] = {1, 10, 10, 10};
  int match[2];
  solve(cost, 2, 2, 5, match);
  CHECK(match[0] == 0 && match[1] == -1);
  /* Matching both rows costs 2 + 3, 5 below leaving them alone (5 a pair): better than the 1 alone (4 below),
   * which would leave row 1 without its only allowed column. */
  const float forced[4] = {1, 2, 3, 10};
  solve(forced, 2, 2, 5, match);
  CHECK(match[0] == 1 && match[1] == 0);
  /* The cost limit: matching both costs 0.7 + 0.75, i.e. 0.15 below leaving them alone (0.8 per pair);
   * matching only row 0 to column 0 costs 0.1, 0.7 below: a close pair is not given up to match a far one. */
  const float limit[4] = {0.1f, 0.7f, 0.75f, 0.9f};
  solve(limit, 2, 2, 0.8f, match);
  CHECK(match[0] == 0 && match[1] == -1);
  /* NaN is forbidden. */
  const float nan_cost[4] = {NAN, 1, 1, NAN};
  solve(nan_cost, 2, 2, 5, match);
  CHECK(match[0] == 1 && match[1] == 0);
  solve(nan_cost, 1, 1, 5, match);
  CHECK(match[0] == -1);
}

static uint32_t rng_state;

static float uniform01(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float)(rng_state >> 8) / 16777216.0f;
}

/* Deterministic jitter in [-amplitude, amplitude]. */
static float jitter(float amplitude) {
  return amplitude * (2.0f * uniform01() - 1.0f);
}

/* The least sum of (cost - max_cost) over partial assignments of allowed pairs, by enumeration (rows <= 5,
 * each row takes one of the columns or none). */
static double brute_force(const float *cost, int rows, int cols, float max_cost, int row, unsigned used) {
  if (row == rows) return 0.0;
  double best = brute_force(cost, rows, cols, max_cost, row + 1, used); /* row left alone */
  for (int c = 0; c < cols; c++) {
    float v = cost[row * cols + c];
    if ((used >> c & 1u) || !(v <= max_cost)) continue;
    double sum = (v - max_cost) + brute_force(cost, rows, cols, max_cost, row + 1, used | 1u << c);
    if (sum < best) best = sum;
  }
  return best;
}

static void test_hungarian_brute_force(void) {
  rng_state = 12345;
  float cost[25];
  int match[5];
  for (int trial = 0; trial < 300; trial++) {
    int rows = 1 + trial % 5, cols = 1 + (trial / 5) % 5;
    for (int i = 0; i < rows * cols; i++) cost[i] = uniform01();
    solve(cost, (size_t)rows, (size_t)cols, 0.6f, match);
    double sum = 0.0;
    unsigned used = 0;
    for (int r = 0; r < rows; r++) {
      if (match[r] < 0) continue;
      CHECK(match[r] < cols && !(used >> match[r] & 1u) && cost[r * cols + match[r]] <= 0.6f);
      used |= 1u << match[r];
      sum += cost[r * cols + match[r]] - 0.6f;
    }
    CHECK_NEAR(sum, brute_force(cost, rows, cols, 0.6f, 0, 0), 1e-5);
  }
}

/* --- Kalman filter ------------------------------------------------------------------------------------- */

static void test_kalman_constant_velocity(void) {
  /* A box moving by (5, -3) pixels per frame and growing by (0.5, 1). The filter starts at rest; its
   * prediction error then shrinks by about 13% a frame: under a pixel after 8 frames, 0.05 after 30. */
  kalman_box k;
  for (int t = 0; t <= 30; t++) {
    cpose_box b = {100 + 5.0f * t, 200 - 3.0f * t, 80 + 0.5f * t, 160 + 1.0f * t, 0};
    if (t == 0) {
      kalman_init(&k, &b);
      continue;
    }
    kalman_predict(&k);
    cpose_box p = kalman_box_mean(&k);
    if (t == 8 || t == 30) {
      double tolerance = t == 8 ? 1.0 : 0.05;
      CHECK_NEAR(p.x, b.x, tolerance);
      CHECK_NEAR(p.y, b.y, tolerance);
      CHECK_NEAR(p.w, b.w, tolerance / 5);
      CHECK_NEAR(p.h, b.h, tolerance / 5);
    }
    kalman_update(&k, &b);
  }
  /* The gate widens while the filter coasts without measurements. */
  float sx0, sy0, sx1, sy1;
  kalman_center_spread(&k, &sx0, &sy0);
  for (int t = 0; t < 5; t++) kalman_predict(&k);
  kalman_center_spread(&k, &sx1, &sy1);
  CHECK(sx1 > 2 * sx0 && sy1 > 2 * sy0);
  /* A box shrinking fast never turns inside out. */
  cpose_box shrunk = {0, 0, 10, 10, 0};
  kalman_init(&k, &shrunk);
  for (int t = 1; t < 10; t++) {
    cpose_box b = {0, 0, 10 - t, 10 - t, 0};
    kalman_predict(&k);
    kalman_update(&k, &b);
  }
  for (int t = 0; t < 100; t++) kalman_predict(&k);
  cpose_box p = kalman_box_mean(&k);
  CHECK(p.w >= KALMAN_MIN_SIZE && p.h >= KALMAN_MIN_SIZE);
}

/* --- Synthetic scenes ---------------------------------------------------------------------------------- */

#define MAX_ACTORS 8
#define MAX_FRAMES 320
#define SCENE_WIDTH 640
#define SCENE_HEIGHT 360

/* A person of the scene: a box moving at constant velocity, visible in frames first..last except those from
 * hide_from to hide_to (occluded). */
typedef struct actor {
  float x, y, vx, vy, w, h; /* box at frame 0 and its motion, pixels per frame */
  int first, last, hide_from, hide_to;
  int arms_up; /* a second pose shape */
  float score; /* the person's score (0: 0.9) */
  uint8_t shirt[3];
} actor;

static bool actor_visible(const actor *a, int t) {
  return t >= a->first && t <= a->last && !(t >= a->hide_from && t <= a->hide_to);
}

/* COCO-17 keypoints as fractions of the box: nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
 * ankles. */
static const float pose_u[17] = {.50f, .54f, .46f, .58f, .42f, .68f, .32f, .76f, .24f,
                                 .80f, .20f, .62f, .38f, .62f, .38f, .62f, .38f};
static const float pose_v[17] = {.06f, .04f, .04f, .06f, .06f, .20f, .20f, .36f, .36f,
                                 .50f, .50f, .54f, .54f, .74f, .74f, .96f, .96f};

/* The actor's person in frame t: box and pose jittered, limbs swinging when it walks. */
static cpose_person actor_person(const actor *a, int t) {
  cpose_person p;
  memset(&p, 0, sizeof p);
  float x = a->x + a->vx * t + jitter(1.5f), y = a->y + a->vy * t + jitter(1.5f);
  float w = a->w + jitter(1.5f), h = a->h + jitter(1.5f);
  p.box[0] = x, p.box[1] = y, p.box[2] = w, p.box[3] = h;
  p.box_score = 0.9f;
  p.score = a->score > 0 ? a->score : 0.9f;
  p.keypoint_count = 17;
  float swing = (a->vx != 0 || a->vy != 0) ? sinf(0.6f * (float)t) : 0.0f;
  for (int k = 0; k < 17; k++) {
    float u = pose_u[k], v = pose_v[k];
    if (k >= 13) u += (k % 2 ? 0.06f : -0.06f) * swing; /* ankles and knees: left foot forward, right back */
    if (k == 9 || k == 10) u += (k % 2 ? -0.05f : 0.05f) * swing;
    if (a->arms_up && k >= 7 && k <= 10) v = k <= 8 ? 0.12f : 0.01f;
    p.keypoints[k] =
        (cpose_keypoint){x + u * w + jitter(2.0f), y + v * h + jitter(2.0f), 0.6f + 0.35f * uniform01()};
  }
  return p;
}

/* Noise in 0..15 for a pixel of frame t (a hash: the persons' jitter must not depend on the painting). */
static int pixel_noise(int x, int y, int t) {
  return (int)(((unsigned)x * 73856093u ^ (unsigned)y * 19349663u ^ (unsigned)t * 83492791u) >> 7 & 15u);
}

/* Fills the rectangle [x0, x1) x [y0, y1) (clipped to the image) with `rgb`, darkened by the noise. */
static void fill_rect(cpose_image *image, float x0, float y0, float x1, float y1, const uint8_t rgb[3],
                      int t) {
  for (int y = y0 < 0 ? 0 : (int)y0; y < (int)y1 && y < image->height; y++) {
    for (int x = x0 < 0 ? 0 : (int)x0; x < (int)x1 && x < image->width; x++) {
      uint8_t *px = image->rgb + ((size_t)y * (size_t)image->width + (size_t)x) * 3;
      for (int c = 0; c < 3; c++) px[c] = (uint8_t)(rgb[c] > 15 ? rgb[c] - pixel_noise(x, y, t) : rgb[c]);
    }
  }
}

/* Paints the scene of frame t: a grey noisy background and each visible actor's shirt (the torso and upper
 * arms) and trousers. */
static void paint_scene(cpose_image *image, const actor *actors, int n, int t) {
  static const uint8_t background[3] = {96, 96, 96}, trousers[3] = {40, 40, 40};
  fill_rect(image, 0, 0, (float)image->width, (float)image->height, background, t);
  for (int a = 0; a < n; a++) {
    const actor *ac = &actors[a];
    if (!actor_visible(ac, t)) continue;
    float x = ac->x + ac->vx * (float)t, y = ac->y + ac->vy * (float)t;
    fill_rect(image, x + 0.3f * ac->w, y + 0.15f * ac->h, x + 0.7f * ac->w, y + 0.55f * ac->h, ac->shirt, t);
    fill_rect(image, x + 0.35f * ac->w, y + 0.55f * ac->h, x + 0.65f * ac->w, y + 0.95f * ac->h, trousers, t);
  }
}

/* The persons of frame t in a shuffled order (the tracker must not care), with actor_of[i] their actor. */
static size_t scene_frame(const actor *actors, int n, int t, cpose_person *persons, int *actor_of) {
  size_t count = 0;
  for (int i = 0; i < n; i++) {
    int a = (i + t) % n; /* rotate the order every frame */
    if (!actor_visible(&actors[a], t)) continue;
    actor_of[count] = a;
    persons[count++] = actor_person(&actors[a], t);
  }
  return count;
}

/* Tracks `frames` frames of the scene and writes ids[t][a]: the actor's track id in frame t, -1 when not
 * visible. With `painted`, every frame comes with its image. */
static void run_scene(const cpose_tracker_params *params, const actor *actors, int n, int frames,
                      bool painted, int ids[MAX_FRAMES][MAX_ACTORS]) {
  cpose_tracker *tracker = NULL;
  cpose_image *image = NULL;
  cpose_person persons[MAX_ACTORS];
  int actor_of[MAX_ACTORS];
  CHECK_OK(cpose_tracker_create(params, &tracker));
  if (painted) CHECK_OK(cpose_image_create(SCENE_WIDTH, SCENE_HEIGHT, &image));
  rng_state = 1;
  for (int t = 0; t < frames; t++) {
    size_t count = scene_frame(actors, n, t, persons, actor_of);
    if (painted) paint_scene(image, actors, n, t);
    CHECK_OK(cpose_tracker_update(tracker, image, persons, count));
    for (int a = 0; a < n; a++) ids[t][a] = -1;
    for (size_t i = 0; i < count; i++) ids[t][actor_of[i]] = persons[i].track_id;
  }
  cpose_image_destroy(image);
  cpose_tracker_destroy(tracker);
}

/* The id actor a has in every frame from `from` to `to` where it is visible, or -1 if it changes (or is 0).
 */
static int steady_id(int ids[MAX_FRAMES][MAX_ACTORS], int a, int from, int to) {
  int id = -1;
  for (int t = from; t <= to; t++) {
    if (ids[t][a] < 0) continue;
    if (ids[t][a] == 0 || (id >= 0 && ids[t][a] != id)) return -1;
    id = ids[t][a];
  }
  return id;
}

static const actor still = {.first = 0, .last = MAX_FRAMES, .hide_from = -1, .hide_to = -2};

static actor make_actor(float x, float y, float vx, float w, float h) {
  actor a = still;
  a.x = x, a.y = y, a.vx = vx, a.w = w, a.h = h;
  return a;
}

/* (5) Ids start at 1 and the first frame's persons have them at once, in the order of the persons. */
static void test_first_frame(void) {
  actor actors[3] = {make_actor(40, 60, 0, 80, 200), make_actor(260, 70, 0, 70, 190),
                     make_actor(460, 50, 0, 90, 210)};
  int ids[MAX_FRAMES][MAX_ACTORS];
  cpose_tracker_params params = cpose_tracker_params_default();
  run_scene(&params, actors, 3, 10, false, ids);
  CHECK(ids[0][0] == 1 && ids[0][1] == 2 && ids[0][2] == 3);
  for (int a = 0; a < 3; a++) CHECK(steady_id(ids, a, 0, 9) == a + 1);
}

/* (1) Two people walk toward each other and cross: their boxes overlap for 21 frames, with an IoU above 0.5
 * for 7 of them. */
static void test_crossing(void) {
  actor actors[2] = {make_actor(100, 60, 4, 90, 220), make_actor(440, 75, -4, 80, 205)};
  actors[1].arms_up = 1;
  int ids[MAX_FRAMES][MAX_ACTORS];
  cpose_tracker_params params = cpose_tracker_params_default();
  run_scene(&params, actors, 2, 75, false, ids);
  CHECK(steady_id(ids, 0, 0, 74) == 1);
  CHECK(steady_id(ids, 1, 0, 74) == 2);
}

/* (2) A walking person is occluded for 5 frames and comes back with the same id; a second person stands
 * by. */
static void test_occlusion(void) {
  actor actors[2] = {make_actor(40, 60, 5, 80, 200), make_actor(480, 70, 0, 80, 200)};
  actors[0].hide_from = 15, actors[0].hide_to = 19;
  int ids[MAX_FRAMES][MAX_ACTORS];
  cpose_tracker_params params = cpose_tracker_params_default();
  run_scene(&params, actors, 2, 50, false, ids);
  CHECK(ids[17][0] == -1);
  CHECK(steady_id(ids, 0, 0, 49) == 1);
  CHECK(steady_id(ids, 1, 0, 49) == 2);
}

/* (3) and (4): a person leaves; another enters and is confirmed after confirm_frames frames; a one-frame
 * false positive never takes an id; a person entering where the first one stood, after its track died, gets
 * a new id: ids are never reused. */
static void test_leave_and_enter(void) {
  actor actors[4] = {make_actor(40, 60, 0, 80, 200), make_actor(450, 60, 0, 80, 200),
                     make_actor(300, 10, 0, 40, 60), make_actor(45, 65, 0, 85, 190)};
  actors[0].last = 9;
  actors[1].first = 15;
  actors[2].first = 5, actors[2].last = 5; /* the false positive */
  actors[3].first = 50;
  int ids[MAX_FRAMES][MAX_ACTORS];
  cpose_tracker_params params = cpose_tracker_params_default();
  run_scene(&params, actors, 4, 60, false, ids);
  CHECK(steady_id(ids, 0, 0, 9) == 1);
  CHECK(ids[5][2] == 0);
  CHECK(ids[15][1] == 0 && ids[16][1] == 0); /* tentative for confirm_frames - 1 = 2 frames */
  CHECK(steady_id(ids, 1, 17, 59) == 2);
  CHECK(ids[50][3] == 0 && ids[51][3] == 0);
  CHECK(steady_id(ids, 3, 52, 59) == 3);
  /* With confirm_frames 1 every new person has an id at once (the false positive too). */
  params.confirm_frames = 1;
  run_scene(&params, actors, 4, 20, false, ids);
  CHECK(ids[5][2] == 2 && ids[15][1] == 3);
}

/* A track lost for long (with max_lost_frames raised) is still re-identified where it was lost, but its
 * widening gate stops short of a person entering 4 box widths away, even after 300 frames. */
static void test_long_lost(void) {
  actor actors[2] = {make_actor(40, 60, 0, 80, 200), make_actor(45, 62, 0, 80, 200)};
  actors[0].last = 9;
  actors[1].first = 300;
  int ids[MAX_FRAMES][MAX_ACTORS];
  cpose_tracker_params params = cpose_tracker_params_default();
  params.max_lost_frames = 1000;
  run_scene(&params, actors, 2, 305, false, ids);
  CHECK(steady_id(ids, 0, 0, 9) == 1);
  CHECK(steady_id(ids, 1, 300, 304) == 1);
  actors[1].x = 360;
  run_scene(&params, actors, 2, 305, false, ids);
  CHECK(ids[300][1] == 0 && steady_id(ids, 1, 302, 304) == 2);
}

/* Persons scoring below min_score start no track but continue one. */
static void test_min_score(void) {
  actor actors[2] = {make_actor(40, 60, 3, 80, 200), make_actor(400, 60, 0, 80, 200)};
  actors[1].score = 0.05f; /* below the default min_score, 0.1 */
  int ids[MAX_FRAMES][MAX_ACTORS];
  cpose_tracker_params params = cpose_tracker_params_default();
  run_scene(&params, actors, 2, 10, false, ids);
  CHECK(steady_id(ids, 0, 0, 9) == 1);
  for (int t = 0; t < 10; t++) CHECK(ids[t][1] == 0);
  /* The same person, confident in the first frame only: tracked throughout. */
  cpose_tracker *tracker = NULL;
  CHECK_OK(cpose_tracker_create(&params, &tracker));
  for (int t = 0; t < 10; t++) {
    cpose_person p = actor_person(&actors[0], t);
    p.score = t == 0 ? 0.9f : 0.05f;
    CHECK_OK(cpose_tracker_update(tracker, NULL, &p, 1));
    CHECK(p.track_id == 1);
  }
  cpose_tracker_destroy(tracker);
}

/* Two people in red and blue, of one size and pose, are occluded together and come back having crossed
 * behind the occluder, each now nearer the other's last position. Box and pose alone swap them; their
 * clothes colours keep their ids. */
static void test_appearance(void) {
  actor actors[4] = {make_actor(200, 80, 0, 80, 200), make_actor(300, 80, 0, 80, 200),
                     make_actor(275, 80, 0, 80, 200), make_actor(225, 80, 0, 80, 200)};
  const uint8_t red[3] = {200, 30, 30}, blue[3] = {30, 60, 200};
  memcpy(actors[0].shirt, red, 3), memcpy(actors[2].shirt, red, 3);
  memcpy(actors[1].shirt, blue, 3), memcpy(actors[3].shirt, blue, 3);
  actors[0].last = actors[1].last = 9;    /* hidden in frames 10 to 14 */
  actors[2].first = actors[3].first = 15; /* red now on the right, blue on the left */
  int ids[MAX_FRAMES][MAX_ACTORS];
  cpose_tracker_params params = cpose_tracker_params_default();
  params.iou_weight = 0.3f, params.oks_weight = 0.3f, params.appearance_weight = 0.4f;
  run_scene(&params, actors, 4, 25, true, ids);
  CHECK(steady_id(ids, 0, 0, 9) == 1 && steady_id(ids, 1, 0, 9) == 2);
  CHECK(steady_id(ids, 2, 15, 24) == 1 && steady_id(ids, 3, 15, 24) == 2);
  /* Without colours (no image, or weight 0) the same frames swap the ids. */
  run_scene(&params, actors, 4, 25, false, ids);
  CHECK(steady_id(ids, 2, 15, 24) == 2 && steady_id(ids, 3, 15, 24) == 1);
}

/* (6) The predicted boxes lie ahead of the last ones, for tentative tracks and confirmed ones seen recently enough. */
static void test_predict(void) {
  cpose_tracker *tracker = NULL;
  cpose_tracker_params params = cpose_tracker_params_default();
  CHECK_OK(cpose_tracker_create(&params, &tracker));
  actor walker = make_actor(40, 60, 6, 80, 200), newcomer = make_actor(400, 60, 0, 80, 200);
  cpose_box boxes[4];
  rng_state = 7;
  CHECK(cpose_tracker_predict(tracker, 0, boxes, 4) == 0);
  for (int t = 0; t < 20; t++) {
    cpose_person p[2] = {actor_person(&walker, t), actor_person(&newcomer, t)};
    CHECK_OK(cpose_tracker_update(tracker, NULL, p, t == 19 ? 2 : 1)); /* the newcomer: tentative */
  }
  /* The tentative newcomer too: a caller that skips the detector must follow it for it to be confirmed. */
  CHECK(cpose_tracker_predict(tracker, 0, boxes, 4) == 2);
  CHECK_NEAR(boxes[1].x + 0.5f * boxes[1].w, 440, 20.0);
  /* The tracker follows the pose's box (its keypoints' extent, grown by a tenth on each side): where the
   * walker's pose will be in frame 20. */
  cpose_person next = actor_person(&walker, 20);
  float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int k = 0; k < 17; k++) {
    x0 = fminf(x0, next.keypoints[k].x), x1 = fmaxf(x1, next.keypoints[k].x);
    y0 = fminf(y0, next.keypoints[k].y), y1 = fmaxf(y1, next.keypoints[k].y);
  }
  CHECK_NEAR(boxes[0].x + 0.5f * boxes[0].w, 0.5f * (x0 + x1), 4.0);
  CHECK_NEAR(boxes[0].y + 0.5f * boxes[0].h, 0.5f * (y0 + y1), 4.0);
  CHECK_NEAR(boxes[0].w, 1.2f * (x1 - x0), 6.0);
  CHECK_NEAR(boxes[0].score, 0.9, 1e-6);
  cpose_box again;
  CHECK(cpose_tracker_predict(tracker, 0, &again, 1) == 1);
  CHECK(memcmp(&again, &boxes[0], sizeof again) == 0); /* predicting changes nothing */
  CHECK(cpose_tracker_predict(tracker, 0, boxes, 0) == 0);
  CHECK(cpose_tracker_predict(tracker, 0, NULL, 4) == 0);
  CHECK(cpose_tracker_predict(tracker, -1, boxes, 4) == 0);
  /* Two frames without the walker: lost for 2 frames, still moving ahead, damped. */
  CHECK_OK(cpose_tracker_update(tracker, NULL, NULL, 0));
  CHECK_OK(cpose_tracker_update(tracker, NULL, NULL, 0));
  CHECK(cpose_tracker_predict(tracker, 1, boxes, 4) == 0);
  CHECK(cpose_tracker_predict(tracker, 2, boxes, 4) == 1);
  CHECK(boxes[0].x > 40 + 6 * 20 && boxes[0].x < 40 + 6 * 23 && boxes[0].w > 0 && boxes[0].h > 0);
  cpose_tracker_destroy(tracker);
}

/* --- Bad inputs ---------------------------------------------------------------------------------------- */

static void test_bad_params(void) {
  cpose_tracker *tracker = NULL, *kept = NULL;
  cpose_tracker_params params = cpose_tracker_params_default();
  CHECK_OK(cpose_tracker_create(&params, &kept));
  tracker = kept; /* must stay untouched by the failures */
  params.confirm_frames = 0;
  CHECK(cpose_tracker_create(&params, &tracker) == CPOSE_ERR_INVALID_ARGUMENT);
  params = cpose_tracker_params_default(), params.max_lost_frames = -1;
  CHECK(cpose_tracker_create(&params, &tracker) == CPOSE_ERR_INVALID_ARGUMENT);
  params = cpose_tracker_params_default(), params.iou_weight = 0, params.oks_weight = 0, params.appearance_weight = 0;
  CHECK(cpose_tracker_create(&params, &tracker) == CPOSE_ERR_INVALID_ARGUMENT);
  params = cpose_tracker_params_default(), params.oks_weight = NAN;
  CHECK(cpose_tracker_create(&params, &tracker) == CPOSE_ERR_INVALID_ARGUMENT);
  params = cpose_tracker_params_default(), params.max_cost = INFINITY;
  CHECK(cpose_tracker_create(&params, &tracker) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(cpose_last_error(), "max_cost") != NULL);
  CHECK(cpose_tracker_create(NULL, &tracker) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(tracker == kept);
  params = cpose_tracker_params_default();
  CHECK(cpose_tracker_create(&params, NULL) == CPOSE_ERR_INVALID_ARGUMENT);
  cpose_tracker_destroy(kept);
  cpose_tracker_destroy(NULL);
}

/* (7) Boxes that are not boxes take no part and get id 0; odd keypoint counts and NaN keypoints fall back on
 * the box; no persons, too many persons and broken images are handled. */
static void test_bad_inputs(void) {
  cpose_tracker *tracker = NULL;
  cpose_tracker_params params = cpose_tracker_params_default();
  params.appearance_weight = 0.2f;
  CHECK_OK(cpose_tracker_create(&params, &tracker));
  CHECK(cpose_tracker_update(NULL, NULL, NULL, 0) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(cpose_tracker_update(tracker, NULL, NULL, 3) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK_OK(cpose_tracker_update(tracker, NULL, NULL, 0)); /* the first frame, empty */
  cpose_image *image = NULL;
  CHECK_OK(cpose_image_create(64, 48, &image));
  cpose_image broken = {64, 48, NULL};
  actor a = make_actor(10, 5, 0.5f, 20, 40);
  rng_state = 3;
  const float bad[][4] = {{NAN, 0, 10, 10}, {0, INFINITY, 10, 10}, {0, 0, 0, 10},    {0, 0, 10, -1},
                          {0, 0, 10, NAN},  {1e30f, 0, 10, 10},    {0, 0, 1e30f, 10}};
  const int nbad = (int)(sizeof bad / sizeof bad[0]);
  cpose_person persons[16];
  for (int t = 0; t < 8; t++) {
    persons[0] = actor_person(&a, t);
    for (int i = 0; i < nbad; i++) {
      persons[1 + i] = actor_person(&a, t);
      memcpy(persons[1 + i].box, bad[i], sizeof bad[i]);
    }
    persons[0].keypoints[t].x = NAN; /* one keypoint broken per frame */
    persons[0].keypoints[16 - t].score = NAN;
    persons[0].keypoint_count = t == 2   ? 0
                                : t == 3 ? -5
                                : t == 4 ? CPOSE_MAX_KEYPOINTS
                                : t == 5 ? 100000
                                         : 17;
    cpose_person before[16];
    memcpy(before, persons, sizeof before);
    CHECK_OK(cpose_tracker_update(tracker, t % 2 ? image : NULL, persons, (size_t)nbad + 1));
    for (int i = 1; i <= nbad; i++) CHECK(persons[i].track_id == 0);
    for (int i = 0; i <= nbad; i++) before[i].track_id = persons[i].track_id;
    CHECK(memcmp(before, persons, sizeof(cpose_person) * (size_t)(nbad + 1)) == 0); /* nothing else written */
  }
  /* The person arrived in the second frame: tentative there, confirmed two frames later with id 1, kept. */
  CHECK(persons[0].track_id == 1);
  CHECK(cpose_tracker_update(tracker, &broken, persons, 1) == CPOSE_ERR_INVALID_ARGUMENT);
  cpose_image_destroy(image);
  cpose_person *crowd = calloc(4097, sizeof *crowd);
  CHECK(cpose_tracker_update(tracker, NULL, crowd, 4097) == CPOSE_ERR_LIMIT);
  free(crowd);
  cpose_box box;
  CHECK(cpose_tracker_predict(NULL, 5, &box, 1) == 0);
  cpose_tracker_destroy(tracker);
}

/* 500 people in a large frame, drifting: all get ids 1..500 at once and keep them. */
static void test_crowd(void) {
  enum { N = 500 };
  cpose_person *persons = calloc(N, sizeof *persons);
  actor *actors = calloc(N, sizeof *actors);
  cpose_tracker *tracker = NULL;
  cpose_tracker_params params = cpose_tracker_params_default();
  CHECK_OK(cpose_tracker_create(&params, &tracker));
  rng_state = 99;
  for (int i = 0; i < N; i++) { /* a 25 x 20 grid of 60 x 150 boxes, 100 x 200 apart */
    actors[i] = make_actor(100.0f * (float)(i % 25), 200.0f * (float)(i / 25), jitter(3), 60, 150);
  }
  bool kept = true;
  for (int t = 0; t < 5; t++) {
    for (int i = 0; i < N; i++) persons[i] = actor_person(&actors[i], t);
    CHECK_OK(cpose_tracker_update(tracker, NULL, persons, N));
    for (int i = 0; i < N; i++) kept = kept && persons[i].track_id == i + 1;
  }
  CHECK(kept);
  cpose_tracker_destroy(tracker);
  free(actors);
  free(persons);
}

/* Every allocation of an update failing, in every frame: the update reports it, and retrying the frame
 * gives the ids of a run that never failed (the failed update changed nothing). */
static void test_allocation_failures(void) {
  actor actors[3] = {make_actor(20, 60, 7, 90, 220), make_actor(540, 75, -7, 80, 205),
                     make_actor(300, 10, 0, 40, 60)};
  actors[1].arms_up = 1;
  actors[2].first = 4;
  enum { FRAMES = 12 };
  int reference[MAX_FRAMES][MAX_ACTORS];
  cpose_tracker_params params = cpose_tracker_params_default();
  run_scene(&params, actors, 3, FRAMES, false, reference);
  bool same = true, failed = false;
  for (long fail_at = 0; fail_at < 8; fail_at++) {
    cpose_tracker *tracker = NULL;
    CHECK_OK(cpose_tracker_create(&params, &tracker));
    cpose_person persons[MAX_ACTORS];
    int actor_of[MAX_ACTORS];
    rng_state = 1;
    for (int t = 0; t < FRAMES; t++) {
      size_t count = scene_frame(actors, 3, t, persons, actor_of);
      cpose_alloc_fail_after(fail_at);
      cpose_status status = cpose_tracker_update(tracker, NULL, persons, count);
      cpose_alloc_fail_after(-1);
      if (status == CPOSE_ERR_OUT_OF_MEMORY) {
        failed = true;
        status = cpose_tracker_update(tracker, NULL, persons, count);
      }
      CHECK(status == CPOSE_OK);
      for (size_t i = 0; i < count; i++) same = same && persons[i].track_id == reference[t][actor_of[i]];
    }
    cpose_tracker_destroy(tracker);
  }
  CHECK(failed && same);
  cpose_tracker *tracker = NULL;
  cpose_alloc_fail_after(0);
  CHECK(cpose_tracker_create(&params, &tracker) == CPOSE_ERR_OUT_OF_MEMORY);
  cpose_alloc_fail_after(-1);
  CHECK(tracker == NULL);
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  test_hungarian_square();
  test_hungarian_rectangular();
  test_hungarian_forbidden();
  test_hungarian_brute_force();
  test_kalman_constant_velocity();
  test_first_frame();
  test_crossing();
  test_occlusion();
  test_leave_and_enter();
  test_long_lost();
  test_min_score();
  test_appearance();
  test_predict();
  test_bad_params();
  test_bad_inputs();
  test_crowd();
  test_allocation_failures();
  return test_finish("test_track");
}
