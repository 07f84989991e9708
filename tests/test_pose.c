/* The pose stage: the three decoders on synthetic maps with hand-computed answers, the crop and flip
 * geometry, the MoveNet decoder against the graph's own decode (Identity:0) on real photos, and the pose net
 * end to end on a photo. The model tests skip when models/ (scripts/setup.sh) or samples/ is missing. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "image/image.h"
#include "pose/pose.h"
#include "test.h"

/* ---- synthetic maps ------------------------------------------------------------------------------------ */

#define SYN 16 /* maps are SYN x SYN cells */
#define SYN_K 17

typedef struct synthetic {
  float heatmap[SYN * SYN * SYN_K];     /* (SYN, SYN, K) */
  float offsets[SYN * SYN * 2 * SYN_K]; /* (SYN, SYN, 2K) */
  float regress[SYN * SYN * 2 * SYN_K]; /* (SYN, SYN, 2K) */
  float center[SYN * SYN];              /* (SYN, SYN, 1) */
  pose_maps maps;
} synthetic;

static synthetic syn_a, syn_b; /* static: 90 KB each */

/* All maps zero, `keypoints` joints. */
static void syn_init(synthetic *s, int keypoints) {
  memset(s, 0, sizeof *s);
  s->maps = (pose_maps){SYN, SYN, keypoints, s->heatmap, s->offsets, s->regress, s->center};
}

static float *heat(synthetic *s, int row, int col, int k) {
  return &s->heatmap[(row * SYN + col) * s->maps.keypoints + k];
}

/* Channels 2k (y) and 2k + 1 (x) of an offset or regression map at a cell. */
static void set_pair(synthetic *s, float *map, int row, int col, int k, float y, float x) {
  float *at = map + (size_t)(row * SYN + col) * 2 * s->maps.keypoints + 2 * k;
  at[0] = y, at[1] = x;
}

/* A person center at (row, col) whose joint k is regressed to cell (joint_row, joint_col). */
static void regress_to(synthetic *s, int row, int col, int k, int joint_row, int joint_col) {
  set_pair(s, s->regress, row, col, k, (float)(joint_row - row), (float)(joint_col - col));
}

static void test_argmax_decoder(void) {
  syn_init(&syn_a, 4);
  /* Joint 0: max at (3, 4); right neighbour higher than left, upper higher than lower. */
  *heat(&syn_a, 3, 4, 0) = 0.9f;
  *heat(&syn_a, 3, 5, 0) = 0.5f, *heat(&syn_a, 3, 3, 0) = 0.3f;
  *heat(&syn_a, 2, 4, 0) = 0.6f, *heat(&syn_a, 4, 4, 0) = 0.2f;
  /* Joint 1: max in the top-right corner: neither axis has both neighbours, no shift. */
  *heat(&syn_a, 0, 15, 1) = 0.8f;
  *heat(&syn_a, 0, 14, 1) = 0.7f, *heat(&syn_a, 1, 15, 1) = 0.7f;
  /* Joint 2: equal neighbours in x (no shift), lower higher in y. */
  *heat(&syn_a, 8, 8, 2) = 0.7f;
  *heat(&syn_a, 8, 7, 2) = 0.4f, *heat(&syn_a, 8, 9, 2) = 0.4f;
  *heat(&syn_a, 7, 8, 2) = 0.1f, *heat(&syn_a, 9, 8, 2) = 0.3f;
  /* Joint 3: two equal maxima: the first in row-major order wins, as TensorFlow's ArgMax. */
  *heat(&syn_a, 5, 10, 3) = 0.5f, *heat(&syn_a, 5, 2, 3) = 0.5f;
  pose_joint j[4];
  pose_decode(&syn_a.maps, CPOSE_DECODER_ARGMAX, j);
  CHECK_NEAR(j[0].x, 4.5 + 0.25, 0); /* cell middle 4.5, a quarter toward column 5 */
  CHECK_NEAR(j[0].y, 3.5 - 0.25, 0); /* toward row 2 */
  CHECK_NEAR(j[0].score, 0.9f, 0);
  CHECK_NEAR(j[1].x, 15.5, 0);
  CHECK_NEAR(j[1].y, 0.5, 0);
  CHECK_NEAR(j[2].x, 8.5, 0);
  CHECK_NEAR(j[2].y, 8.75, 0);
  CHECK_NEAR(j[3].x, 2.5, 0);
  CHECK_NEAR(j[3].y, 5.5, 0);
  CHECK_NEAR(j[3].score, 0.5f, 0);
}

static void test_integral_decoder(void) {
  syn_init(&syn_a, 4);
  syn_a.center[8 * SYN + 8] = 0.9f; /* one person, centred at (8, 8) */
  /* Joint 0: a symmetric blob at (6, 10), plus a value 3 cells away (outside the 5x5 window). */
  *heat(&syn_a, 6, 10, 0) = 1.0f;
  *heat(&syn_a, 5, 10, 0) = *heat(&syn_a, 7, 10, 0) = *heat(&syn_a, 6, 9, 0) = *heat(&syn_a, 6, 11, 0) = 0.5f;
  *heat(&syn_a, 5, 9, 0) = *heat(&syn_a, 5, 11, 0) = *heat(&syn_a, 7, 9, 0) = *heat(&syn_a, 7, 11, 0) = 0.25f;
  *heat(&syn_a, 6, 13, 0) = 0.3f;
  regress_to(&syn_a, 8, 8, 0, 6, 10);
  /* Joint 1: asymmetric: (4, 4) 1.0, (4, 5) 0.5, (3, 4) 0.25, (4, 6) 0.1 inside the window, (4, 7) 0.2 out.
   */
  *heat(&syn_a, 4, 4, 1) = 1.0f, *heat(&syn_a, 4, 5, 1) = 0.5f, *heat(&syn_a, 3, 4, 1) = 0.25f;
  *heat(&syn_a, 4, 6, 1) = 0.1f, *heat(&syn_a, 4, 7, 1) = 0.2f;
  regress_to(&syn_a, 8, 8, 1, 4, 4);
  /* Joint 2: at the map's corner, the window cut to 3x3. */
  *heat(&syn_a, 0, 0, 2) = 0.8f, *heat(&syn_a, 0, 1, 2) = 0.4f;
  regress_to(&syn_a, 8, 8, 2, 0, 0);
  /* Joint 3: an empty heatmap: the chosen cell's middle, score 0. */
  pose_joint j[4];
  pose_decode(&syn_a.maps, CPOSE_DECODER_INTEGRAL, j);
  CHECK_NEAR(j[0].x, 10.5, 1e-6);
  CHECK_NEAR(j[0].y, 6.5, 1e-6);
  CHECK_NEAR(j[0].score, 1.0, 0);
  /* sum 1.85; x = (1 x 4.5 + 0.5 x 5.5 + 0.25 x 4.5 + 0.1 x 6.5) / 1.85 = 9.025 / 1.85,
   *           y = (1 x 4.5 + 0.5 x 4.5 + 0.25 x 3.5 + 0.1 x 4.5) / 1.85 = 8.075 / 1.85 */
  CHECK_NEAR(j[1].x, 9.025 / 1.85, 1e-6);
  CHECK_NEAR(j[1].y, 8.075 / 1.85, 1e-6);
  CHECK_NEAR(j[2].x, (0.8 * 0.5 + 0.4 * 1.5) / 1.2, 1e-6);
  CHECK_NEAR(j[2].y, 0.5, 1e-6);
  CHECK_NEAR(j[3].x, 0.5, 0);
  CHECK_NEAR(j[3].score, 0.0, 0);
}

/* Two people in one crop: the one near the middle is the crop's person, though the other is brighter. */
static void make_two_people(synthetic *s) {
  syn_init(s, 1);
  s->center[1 * SYN + 1] = 0.9f; /* the other person, near the corner: 0.9 x w(1, 1) = 0.9 / 11.70 */
  s->center[9 * SYN + 9] = 0.6f; /* this one, near the middle (8, 8): 0.6 x w(9, 9) = 0.6 / 3.21 */
  regress_to(s, 1, 1, 0, 2, 2);
  regress_to(s, 9, 9, 0, 10, 10);
  *heat(s, 2, 2, 0) = 0.9f;   /* the other's joint: 0.9 / (11.31 + 1.8) */
  *heat(s, 10, 10, 0) = 0.6f; /* this one's, where the center regresses it: 0.6 / 1.8 */
  set_pair(s, s->offsets, 10, 10, 0, 0.25f, 0.75f);
  set_pair(s, s->offsets, 2, 2, 0, 0.5f, 0.5f);
}

static void test_movenet_decoder_picks_near_peak(void) {
  make_two_people(&syn_a);
  int row, col;
  pose_movenet_center(&syn_a.maps, &row, &col);
  CHECK(row == 9 && col == 9);
  pose_joint j;
  pose_decode(&syn_a.maps, CPOSE_DECODER_MOVENET, &j);
  CHECK_NEAR(j.y, 10.25, 0); /* cell index + offset */
  CHECK_NEAR(j.x, 10.75, 0);
  CHECK_NEAR(j.score, 0.6f, 0);
  pose_decode(&syn_a.maps, CPOSE_DECODER_INTEGRAL, &j); /* the same peak, its lone cell's middle */
  CHECK_NEAR(j.x, 10.5, 1e-6);
  CHECK_NEAR(j.y, 10.5, 1e-6);
  pose_decode(&syn_a.maps, CPOSE_DECODER_ARGMAX, &j); /* the brightest: the other person's joint */
  CHECK_NEAR(j.x, 2.5, 0);
  CHECK_NEAR(j.score, 0.9f, 0);
  /* The bright joint moved 2 cells from this person's regressed joint. */
  *heat(&syn_a, 2, 2, 0) = 0.0f;
  *heat(&syn_a, 12, 10, 0) = 0.9f; /* 0.9 / (2 + 1.8) = 0.237 < 0.333: still loses */
  pose_decode(&syn_a.maps, CPOSE_DECODER_MOVENET, &j);
  CHECK_NEAR(j.y, 10.25, 0);
  *heat(&syn_a, 10, 10, 0) = 0.4f; /* 0.4 / 1.8 = 0.222: now the one 2 cells away wins */
  pose_decode(&syn_a.maps, CPOSE_DECODER_MOVENET, &j);
  CHECK_NEAR(j.y, 12.0, 0);
  CHECK_NEAR(j.x, 10.0, 0);
}

static void test_center_weight(void) {
  /* The values stored in the graphs (float16): 1 / 1.8 in the middle, 1 / (sqrt(2) 32 + 1.8) at Thunder's
   * corner, 1 / (sqrt(2) 24 + 1.8) at Lightning's. */
  CHECK_NEAR(pose_center_weight(32, 32, 64, 64), 0.5556640625, 0);
  CHECK_NEAR(pose_center_weight(0, 0, 64, 64), 0.0212554931640625, 0);
  CHECK_NEAR(pose_center_weight(0, 0, 48, 48), 0.027984619140625, 0);
  CHECK(pose_center_weight(31, 32, 64, 64) == pose_center_weight(33, 32, 64, 64));
}

/* ---- geometry: crops, the mirror, flipped maps ------------------------------------------------------- */

static void test_crop_round_trip(void) {
  image_crop crop;
  CHECK_OK(image_crop_transform(100, 50, 80, 200, 1.25, 256, 256, &crop));
  const double points[][2] = {{130.7, 210.2}, {100, 50}, {180, 250}, {-20.5, 400.25}, {141.3, 77.7}};
  for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
    double cx, cy;
    image_affine_apply(&crop.to_crop, points[i][0], points[i][1], &cx, &cy);
    /* Crop pixels -> Thunder's 64x64 cells, then back through what the net does. */
    pose_joint joint = {(float)(cx * 64 / 256), (float)(cy * 64 / 256), 0.5f};
    cpose_keypoint kp;
    pose_joint_to_image(&joint, 64, 64, 256, &crop.to_image, &kp);
    CHECK_NEAR(kp.x, points[i][0], 1e-3);
    CHECK_NEAR(kp.y, points[i][1], 1e-3);
    CHECK_NEAR(kp.score, 0.5, 0);
    /* The mirrored crop: the point sits at (S - cx, cy) there and maps back to the same image point. */
    image_affine mirror;
    pose_mirror_affine(&crop.to_image, 256, &mirror);
    double x, y;
    image_affine_apply(&mirror, 256 - cx, cy, &x, &y);
    CHECK_NEAR(x, points[i][0], 1e-6);
    CHECK_NEAR(y, points[i][1], 1e-6);
  }
}

/* The mirrored warp is the warp with its columns reversed. */
static void test_mirrored_warp(void) {
  cpose_image *image = NULL;
  CHECK_OK(cpose_image_create(23, 17, &image));
  if (!image) return;
  for (int i = 0; i < 23 * 17 * 3; i++) image->rgb[i] = (uint8_t)(i * 37 % 251);
  enum { S = 12 };
  image_crop crop;
  CHECK_OK(image_crop_transform(3.3, 2.1, 15, 11, 1.25, S, S, &crop));
  image_affine mirror;
  pose_mirror_affine(&crop.to_image, S, &mirror);
  static float plain[S * S * 3], mirrored[S * S * 3];
  CHECK_OK(image_warp_affine(image, &crop.to_image, S, S, plain));
  CHECK_OK(image_warp_affine(image, &mirror, S, S, mirrored));
  double worst = 0;
  for (int i = 0; i < S; i++) {
    for (int j = 0; j < S; j++) {
      for (int c = 0; c < 3; c++) {
        double d = fabs(plain[(i * S + j) * 3 + c] - mirrored[(i * S + (S - 1 - j)) * 3 + c]);
        if (d > worst) worst = d;
      }
    }
  }
  CHECK_NEAR(worst, 0, 1e-3);
  cpose_image_destroy(image);
}

/* What the net sees in a mirrored crop: every map's columns reversed and each left joint's channel holding
 * what the right one held. (Heatmaps only: the argmax decoder reads nothing else.) */
static void mirror_heatmaps(const synthetic *in, synthetic *out) {
  int kk = in->maps.keypoints;
  syn_init(out, kk);
  int source[SYN_K];
  for (int k = 0; k < kk; k++) source[k] = k;
  for (int p = 0; p < POSE_COCO17_FLIP_PAIRS; p++) {
    source[pose_coco17_flip_pairs[p][0]] = pose_coco17_flip_pairs[p][1];
    source[pose_coco17_flip_pairs[p][1]] = pose_coco17_flip_pairs[p][0];
  }
  for (int i = 0; i < SYN; i++) {
    for (int j = 0; j < SYN; j++) {
      for (int k = 0; k < kk; k++) {
        out->heatmap[(i * SYN + (SYN - 1 - j)) * kk + k] = in->heatmap[(i * SYN + j) * kk + source[k]];
      }
    }
  }
}

static void test_flip(void) {
  syn_init(&syn_a, SYN_K);
  /* Each joint a peak with an asymmetric neighbourhood: 1 at (row, col), 0.5 right, 0.2 left, 0.4 below. */
  for (int k = 0; k < SYN_K; k++) {
    int row = 1 + k % 13, col = 1 + (5 * k) % 14;
    *heat(&syn_a, row, col, k) = 1.0f;
    *heat(&syn_a, row, col + 1, k) = 0.5f;
    *heat(&syn_a, row, col - 1, k) = 0.2f;
    *heat(&syn_a, row + 1, col, k) = 0.4f;
  }
  mirror_heatmaps(&syn_a, &syn_b);
  pose_joint plain[SYN_K], flipped[SYN_K];
  pose_decode(&syn_a.maps, CPOSE_DECODER_ARGMAX, plain);
  pose_decode(&syn_b.maps, CPOSE_DECODER_ARGMAX, flipped);
  /* Joint 5 (left shoulder): (row 6, col 12) -> x 12.75, y 6.75. In the mirrored maps the right shoulder's
   * channel holds it at column 15 - 12 = 3, its shift now toward column 2: x 3.25. */
  CHECK_NEAR(plain[5].x, 12.75, 0);
  CHECK_NEAR(plain[5].y, 6.75, 0);
  CHECK_NEAR(flipped[6].x, 3.25, 0);
  CHECK_NEAR(flipped[6].y, 6.75, 0);
  pose_unflip_joints(flipped, SYN_K, SYN);
  for (int k = 0; k < SYN_K; k++) {
    CHECK_NEAR(flipped[k].x, plain[k].x, 0);
    CHECK_NEAR(flipped[k].y, plain[k].y, 0);
    CHECK_NEAR(flipped[k].score, plain[k].score, 0);
  }
  pose_joint a[2] = {{1, 2, 0.5f}, {3, 4, 1}}, b[2] = {{2, 4, 0.25f}, {3, 5, 0}};
  pose_average_joints(a, b, 2);
  CHECK_NEAR(a[0].x, 1.5, 0);
  CHECK_NEAR(a[0].y, 3, 0);
  CHECK_NEAR(a[0].score, 0.375, 0);
  CHECK_NEAR(a[1].y, 4.5, 0);
  CHECK_NEAR(a[1].score, 0.5, 0);
}

static void test_refine_box(void) {
  cpose_box box = {100, 100, 200, 400, 0.8f}; /* middle half: [150, 250] x [200, 400] */
  cpose_keypoint kps[4] = {{120, 150, 0.9f}, {260, 380, 0.5f}, {200, 600, 0.3f}, {0, 0, 0.1f}};
  cpose_box r;
  CHECK(pose_refine_box(kps, 4, &box, &r));
  CHECK_NEAR(r.x, 120, 0);
  CHECK_NEAR(r.y, 150, 0);
  CHECK_NEAR(r.w, 140, 0);
  CHECK_NEAR(r.h, 450, 0);
  CHECK_NEAR(r.score, 0.8f, 0);
  kps[2].score = 0.2f; /* not above the threshold: two confident joints are too few */
  CHECK(!pose_refine_box(kps, 4, &box, &r));
}

/* ---- the real models ----------------------------------------------------------------------------------- */

static int have_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}

static const char *const movenet_names[] = {"movenet-lightning", "movenet-thunder"};

enum { OUT_HEAT, OUT_OFFSETS, OUT_REGRESS, OUT_CENTER, OUT_IDENTITY, OUT_SCALE, OUT_WEIGHTS, OUT_COUNT };

/* The four raw maps, the graph's decode, the constant it normalizes by (1 / map size, as float16: exactly
 * 1/64 for Thunder, 0.0208282 for Lightning's 1/48) and its center weights. */
static const char *const parity_outputs[OUT_COUNT] = {
    "StatefulPartitionedCall/Sigmoid",
    "StatefulPartitionedCall/kpt_offset_0/conv2d_7/BiasAdd",
    "StatefulPartitionedCall/kpt_regress_0/conv2d_6/BiasAdd",
    "StatefulPartitionedCall/Sigmoid_1",
    "Identity:0",
    "StatefulPartitionedCall/Reshape_13",
    "ConstantFolding/StatefulPartitionedCall/truediv_2_recip",
};

/* Our center weights against the graph's: equal but for Thunder's 8 cells (see pose_center_weight). */
static void check_center_weights(const float *graph, int size) {
  int differ = 0;
  double worst = 0;
  for (int i = 0; i < size; i++) {
    for (int j = 0; j < size; j++) {
      double d = fabs(pose_center_weight(i, j, size, size) - graph[i * size + j]);
      differ += d != 0;
      if (d > worst) worst = d;
    }
  }
  CHECK(differ <= 8);
  CHECK_NEAR(worst, 0, 1.6e-5); /* one float16 step at 0.027 */
}

/* Runs the golden input `photo` and compares pose_decode_movenet with the graph's Identity:0. */
static void check_parity(cpose_session *session, const char *model, const char *photo, int size) {
  char path[256];
  snprintf(path, sizeof path, "tests/golden/%s/%s.rgb", model, photo);
  size_t count = (size_t)size * size * 3;
  float *input = test_read_rgb_floats(path, count);
  CHECK(input != NULL);
  if (!input) return;
  CHECK_OK(cpose_session_run(session, input, count));
  free(input);
  cpose_tensor t[OUT_COUNT];
  for (int i = 0; i < OUT_COUNT; i++) CHECK_OK(cpose_session_output(session, (size_t)i, &t[i]));
  int cells = (int)t[OUT_HEAT].dims[1];
  pose_maps maps = {cells,
                    (int)t[OUT_HEAT].dims[2],
                    (int)t[OUT_HEAT].dims[3],
                    t[OUT_HEAT].data,
                    t[OUT_OFFSETS].data,
                    t[OUT_REGRESS].data,
                    t[OUT_CENTER].data};
  pose_joint joints[17];
  pose_decode(&maps, CPOSE_DECODER_MOVENET, joints);
  const float *identity = t[OUT_IDENTITY].data, *scale = t[OUT_SCALE].data;
  CHECK_NEAR(scale[0], 1.0 / cells, 3e-4 / cells); /* float16 of 1 / cells */
  double worst = 0;
  for (int k = 0; k < 17; k++) {
    double dy = fabs(joints[k].y * scale[0] - identity[3 * k]);
    double dx = fabs(joints[k].x * scale[1] - identity[3 * k + 1]);
    double ds = fabs(joints[k].score - identity[3 * k + 2]);
    worst = fmax(worst, fmax(dy, fmax(dx, ds)));
  }
  CHECK_NEAR(worst, 0, 1e-5);
  printf("%s %s: MoveNet decoder vs Identity:0, largest difference %.3g\n", model, photo, worst);
  /* The integral decoder reads the same peaks, so it lands within a cell and a half of them on the confident
   * joints. (Not the argmax decoder: basketball1 holds several players, and it takes the brightest joint.) */
  pose_joint other[17];
  pose_decode(&maps, CPOSE_DECODER_INTEGRAL, other);
  for (int k = 0; k < 17; k++) {
    if (joints[k].score < 0.3f) continue;
    CHECK(fabsf(other[k].x - joints[k].x) < 1.5f && fabsf(other[k].y - joints[k].y) < 1.5f);
  }
}

static void test_movenet_parity(int model_count) {
  for (int m = 0; m < model_count; m++) {
    char path[256];
    snprintf(path, sizeof path, "models/%s/model.json", movenet_names[m]);
    if (!have_file(path)) {
      printf("skipped: %s missing (run scripts/setup.sh)\n", path);
      continue;
    }
    cpose_model *model = NULL;
    cpose_session *session = NULL;
    CHECK_OK(cpose_model_load(path, &model));
    cpose_session_params params = cpose_session_params_default();
    params.outputs = parity_outputs;
    params.output_count = OUT_COUNT;
    if (model) CHECK_OK(cpose_session_create(model, &params, &session));
    if (session) {
      const char *name;
      cpose_tensor in, weights;
      CHECK_OK(cpose_model_input(model, 0, &name, &in));
      CHECK_OK(cpose_session_output(session, OUT_WEIGHTS, &weights));
      check_center_weights(weights.data, (int)in.dims[1] / 4);
      check_parity(session, movenet_names[m], "messi5", (int)in.dims[1]);
      check_parity(session, movenet_names[m], "basketball1", (int)in.dims[1]);
    }
    cpose_session_destroy(session);
    cpose_model_destroy(model);
  }
}

/* Every keypoint inside `box` (all of them: Messi's whole body is in it) with a score in [0, 1]. */
static void check_person(const cpose_person *p, const cpose_box *box) {
  CHECK(p->keypoint_count == 17);
  CHECK(p->box[0] == box->x && p->box[1] == box->y && p->box[2] == box->w && p->box[3] == box->h);
  CHECK(p->box_score == box->score);
  for (int k = 0; k < p->keypoint_count; k++) {
    const cpose_keypoint *kp = &p->keypoints[k];
    CHECK(kp->x >= box->x && kp->x <= box->x + box->w && kp->y >= box->y && kp->y <= box->y + box->h);
    CHECK(kp->score >= 0 && kp->score <= 1);
  }
}

static void test_bad_arguments(pose_net *net, const cpose_image *image) {
  cpose_person person;
  cpose_box box = {60, 55, 400, 285, 0.9f};
  pose_options options = {CPOSE_DECODER_MOVENET, false, false, 1.25f};
  pose_options bad_decoder = {(cpose_decoder)7, false, false, 1.25f};
  cpose_box empty = {60, 55, 0, 285, 0.9f};
  CHECK(pose_net_estimate(net, image, &box, &bad_decoder, &person) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(pose_net_estimate(net, image, &empty, &options, &person) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(pose_net_estimate(net, NULL, &box, &options, &person) == CPOSE_ERR_INVALID_ARGUMENT);
  pose_net *none = NULL;
  CHECK(pose_net_create("models/no-such-model/model.json", NULL, &none) != CPOSE_OK && none == NULL);
  pose_net_destroy(NULL);
}

/* Messi (samples/messi5.jpg, 548x342) in a hand-drawn box: hands to right foot, hair to boots. */
static void test_estimate_photo(const char *model) {
  char path[256];
  snprintf(path, sizeof path, "models/%s/model.json", model);
  if (!have_file(path) || !have_file("samples/messi5.jpg")) {
    printf("skipped: %s or samples/messi5.jpg missing\n", path);
    return;
  }
  cpose_image *image = NULL;
  pose_net *net = NULL;
  CHECK_OK(cpose_image_load("samples/messi5.jpg", &image));
  CHECK_OK(pose_net_create(path, NULL, &net));
  if (!image || !net) goto done;
  CHECK(pose_net_input_size(net) == (strstr(model, "thunder") ? 256 : 192));
  cpose_box box = {60, 55, 400, 285, 0.9f};
  cpose_person plain, p;
  pose_options options = {CPOSE_DECODER_MOVENET, false, false, 1.25f};
  /* No allocation per crop: every allocation failing changes nothing. */
  cpose_alloc_fail_after(0);
  cpose_status status = pose_net_estimate(net, image, &box, &options, &plain);
  cpose_alloc_fail_after(-1);
  CHECK_OK(status);
  check_person(&plain, &box);
  float mean = 0;
  for (int k = 0; k < 17; k++) mean += plain.keypoints[k].score / 17;
  CHECK(mean > 0.5f); /* a clear, whole person */
  /* The nose (0) is above the hips (11, 12), the left ankle (15) right of the right one (16): he faces us,
   * his left leg stretched toward the ball on the image's right. */
  CHECK(plain.keypoints[0].y < plain.keypoints[11].y && plain.keypoints[0].y < plain.keypoints[12].y);
  CHECK(plain.keypoints[15].x > plain.keypoints[16].x);
  printf("%s: nose (%.1f, %.1f) %.2f, left ankle (%.1f, %.1f) %.2f, mean score %.3f\n", model,
         plain.keypoints[0].x, plain.keypoints[0].y, plain.keypoints[0].score, plain.keypoints[15].x,
         plain.keypoints[15].y, plain.keypoints[15].score, mean);
  const pose_options variants[] = {
      {CPOSE_DECODER_MOVENET, true, false, 1.25f},  {CPOSE_DECODER_MOVENET, false, true, 1.25f},
      {CPOSE_DECODER_MOVENET, true, true, 1.25f},   {CPOSE_DECODER_ARGMAX, false, false, 1.25f},
      {CPOSE_DECODER_INTEGRAL, true, false, 1.25f},
  };
  for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
    CHECK_OK(pose_net_estimate(net, image, &box, &variants[v], &p));
    check_person(&p, &box);
    /* The same joints within two cells (the crop is 500 px over 64 or 48 cells: 8 or 10 px a cell) but for
     * at most one: with the flip test, Lightning's mirrored crop puts the stretched left ankle on the shin
     * (score 0.14 there), and the average moves it by 25 px. */
    int moved = 0;
    for (int k = 0; k < 17; k++) {
      if (plain.keypoints[k].score < 0.4f) continue;
      moved += !(fabsf(p.keypoints[k].x - plain.keypoints[k].x) < 20 &&
                 fabsf(p.keypoints[k].y - plain.keypoints[k].y) < 20);
    }
    CHECK(moved <= 1);
  }
  test_bad_arguments(net, image);
done:
  pose_net_destroy(net);
  cpose_image_destroy(image);
}

/* A net on a pool of two threads (two sessions, crops side by side) gives every person bit for bit what a
 * net on the calling thread gives, box by box: 35 boxes (two rounds of up to 32) with the flip test and the
 * refined crop, so rounds of 70 jobs and a refined round. No boxes is no work. */
static void test_lanes_match_one_by_one(void) {
  const char *path = "models/movenet-lightning/model.json";
  if (!have_file(path) || !have_file("samples/messi5.jpg")) return;
  cpose_image *image = NULL;
  cpose_threadpool *pool = NULL;
  pose_net *single = NULL, *lanes = NULL;
  CHECK_OK(cpose_image_load("samples/messi5.jpg", &image));
  CHECK_OK(cpose_threadpool_create(2, &pool));
  CHECK_OK(pose_net_create(path, NULL, &single));
  CHECK_OK(pose_net_create(path, pool, &lanes));
  enum { BOXES = 35 };
  cpose_box boxes[BOXES];
  cpose_person together[BOXES], alone;
  pose_options options = {CPOSE_DECODER_MOVENET, true, true, 1.25f};
  for (int i = 0; i < BOXES; i++)
    boxes[i] = (cpose_box){(float)(40 + 3 * i), 55, (float)(400 - 5 * i), 285, 0.9f};
  if (!image || !single || !lanes) goto done;
  memset(together, 0, sizeof together);
  CHECK_OK(pose_net_estimate_boxes(lanes, image, boxes, BOXES, &options, together));
  int differ = 0;
  for (int i = 0; i < BOXES; i++) {
    memset(&alone, 0, sizeof alone);
    CHECK_OK(pose_net_estimate(single, image, &boxes[i], &options, &alone));
    differ += memcmp(alone.keypoints, together[i].keypoints, sizeof alone.keypoints) != 0 ||
              alone.keypoint_count != together[i].keypoint_count;
  }
  CHECK(differ == 0);
  CHECK_OK(pose_net_estimate_boxes(lanes, image, NULL, 0, &options, NULL));
done:
  pose_net_destroy(lanes);
  pose_net_destroy(single);
  cpose_threadpool_destroy(pool);
  cpose_image_destroy(image);
}

/* Allocation failures inside pose_net_create: the first (the net itself) and the last (the input buffer)
 * fail cleanly (valgrind shows nothing leaks); the ones between are the runtime's, swept by its tests. */
static void test_create_failures(void) {
  const char *path = "models/movenet-lightning/model.json";
  if (!have_file(path)) return;
  pose_net *net = NULL;
  cpose_alloc_fail_after(-1);
  CHECK_OK(pose_net_create(path, NULL, &net));
  long allocations = cpose_alloc_fail_after(-1);
  pose_net_destroy(net);
  net = NULL;
  long fail_at[2] = {0, allocations - 1};
  for (int i = 0; i < 2; i++) {
    cpose_alloc_fail_after(fail_at[i]);
    cpose_status status = pose_net_create(path, NULL, &net);
    cpose_alloc_fail_after(-1);
    CHECK(status == CPOSE_ERR_OUT_OF_MEMORY && net == NULL);
  }
}

int main(void) {
  test_argmax_decoder();
  test_integral_decoder();
  test_movenet_decoder_picks_near_peak();
  test_center_weight();
  test_crop_round_trip();
  test_mirrored_warp();
  test_flip();
  test_refine_box();
  test_create_failures();
  test_lanes_match_one_by_one();
  /* CPOSE_TEST_QUICK (set it under valgrind): Lightning only, Thunder's runs take minutes there. */
  const char *quick = getenv("CPOSE_TEST_QUICK");
  int model_count = quick && *quick ? 1 : 2;
  test_movenet_parity(model_count);
  for (int m = 0; m < model_count; m++) test_estimate_photo(movenet_names[m]);
  return test_finish("test_pose");
}
