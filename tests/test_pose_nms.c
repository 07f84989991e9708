/* AlphaPose's parametric pose NMS on hand-built cases: duplicates merged (with the merged values computed by
 * hand), distinct people kept, low-score and tiny poses dropped, both duplicate rules (keypoint matches and
 * parametric similarity). */
#include <math.h>
#include <string.h>

#include "cpose.h"
#include "test.h"

/* A 17-keypoint pose: keypoint k at (x0 + 3k, y0 + 2k), every score `score`, box 100x100 at (x0, y0). */
static cpose_person make_pose(float x0, float y0, float score, float box) {
  cpose_person p;
  memset(&p, 0, sizeof p);
  p.box[0] = x0, p.box[1] = y0, p.box[2] = box, p.box[3] = box;
  p.box_score = 0.9f;
  p.keypoint_count = 17;
  for (int k = 0; k < 17; k++) p.keypoints[k] = (cpose_keypoint){x0 + 3.0f * k, y0 + 2.0f * k, score};
  return p;
}

static void test_duplicates_merge(void) {
  cpose_person persons[2] = {make_pose(100, 100, 0.6f, 100), make_pose(102, 100, 0.9f, 100)};
  cpose_pose_nms_params params = cpose_pose_nms_params_default();
  size_t kept = 0;
  CHECK_OK(cpose_pose_nms(persons, 2, &params, &kept));
  CHECK(kept == 1);
  /* The pick is the 0.9 pose (x0 = 102). ref = 0.1 * 100 = 10: all 17 keypoints 2 px apart match (>= 5), so
   * the 0.6 pose is a duplicate; both lie within min(10, 15) px, so x = (0.9*102 + 0.6*100) / 1.5 = 101.2 for
   * keypoint 0, and the merged score is (0.81 + 0.36) / 1.5 = 0.78. */
  CHECK_NEAR(persons[0].keypoints[0].x, 101.2, 1e-4);
  CHECK_NEAR(persons[0].keypoints[0].y, 100.0, 1e-4);
  CHECK_NEAR(persons[0].keypoints[5].x, 116.2, 1e-4);
  CHECK_NEAR(persons[0].keypoints[0].score, 0.78, 1e-5);
  CHECK_NEAR(persons[0].box[0], 102.0, 0); /* the pick's box */
  /* score = mean 0.78 + box 0.9 + 1.25 x best 0.78 */
  CHECK_NEAR(persons[0].score, 0.78 + 0.9 + 1.25 * 0.78, 1e-5);
}

static void test_distinct_people_kept(void) {
  cpose_person persons[3] = {make_pose(0, 0, 0.5f, 100), make_pose(300, 0, 0.8f, 100), make_pose(0, 300, 0.7f, 100)};
  cpose_pose_nms_params params = cpose_pose_nms_params_default();
  size_t kept = 0;
  CHECK_OK(cpose_pose_nms(persons, 3, &params, &kept));
  CHECK(kept == 3);
  /* best mean score first, keypoints untouched (a cluster of one) */
  CHECK_NEAR(persons[0].keypoints[0].x, 300, 0);
  CHECK_NEAR(persons[1].keypoints[0].y, 300, 0);
  CHECK_NEAR(persons[2].keypoints[0].score, 0.5, 1e-6);
}

static void test_low_scores_dropped(void) {
  cpose_person persons[2] = {make_pose(0, 0, 0.29f, 100), make_pose(300, 0, 0.31f, 100)};
  cpose_pose_nms_params params = cpose_pose_nms_params_default();
  size_t kept = 0;
  CHECK_OK(cpose_pose_nms(persons, 2, &params, &kept));
  CHECK(kept == 1);
  CHECK_NEAR(persons[0].keypoints[0].x, 300, 0);
  /* min_box_area: keypoints span 48 x 32 px; 1.5^2 x 1536 = 3456 */
  persons[0] = make_pose(0, 0, 0.8f, 100);
  params.min_box_area = 3457;
  CHECK_OK(cpose_pose_nms(persons, 1, &params, &kept));
  CHECK(kept == 0);
  persons[0] = make_pose(0, 0, 0.8f, 100);
  params.min_box_area = 3455;
  CHECK_OK(cpose_pose_nms(persons, 1, &params, &kept));
  CHECK(kept == 1);
}

/* Boxes of 5 px make the reference distance 0.5 px, so keypoint matches need d <= 0.5 and only the
 * parametric similarity can find duplicates: at d = 0.8 px with scores 0.9 it is
 *   17 tanh(0.9)^2 + 1.7 x 17 exp(-0.8 / 2.65) = 8.722 + 21.369 = 30.09 > 22.48: a duplicate;
 * at d = 1.2 px (the score term needs d <= 1) it is 1.7 x 17 exp(-1.2 / 2.65) = 18.38 < 22.48: distinct. */
static void test_parametric_similarity(void) {
  cpose_pose_nms_params params = cpose_pose_nms_params_default();
  size_t kept = 0;
  cpose_person near[2] = {make_pose(10, 10, 0.9f, 5), make_pose(10.8f, 10, 0.9f, 5)};
  CHECK_OK(cpose_pose_nms(near, 2, &params, &kept));
  CHECK(kept == 1);
  cpose_person far[2] = {make_pose(10, 10, 0.9f, 5), make_pose(11.2f, 10, 0.9f, 5)};
  CHECK_OK(cpose_pose_nms(far, 2, &params, &kept));
  CHECK(kept == 2);
}

static void test_bad_arguments(void) {
  cpose_person persons[2] = {make_pose(0, 0, 0.5f, 100), make_pose(300, 0, 0.8f, 100)};
  persons[1].keypoint_count = 16;
  cpose_pose_nms_params params = cpose_pose_nms_params_default();
  size_t kept = 7;
  CHECK(cpose_pose_nms(persons, 2, &params, &kept) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(kept == 7);
  CHECK_OK(cpose_pose_nms(NULL, 0, &params, &kept));
  CHECK(kept == 0);
}

int main(void) {
  test_duplicates_merge();
  test_distinct_people_kept();
  test_low_scores_dropped();
  test_parametric_similarity();
  test_bad_arguments();
  return test_finish("test_pose_nms");
}
