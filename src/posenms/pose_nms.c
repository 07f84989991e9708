/*
 * AlphaPose's parametric pose NMS (RMPE, Fang et al. 2017), as AlphaPose's pose_nms_body computes it:
 *
 *   repeat while poses remain:
 *     pick the remaining pose with the highest mean keypoint score;
 *     ref = alpha * max(box width, height) of the pick;
 *     for every remaining pose j, with d_k the pixel distance between keypoint k of the pick and of j:
 *       similarity_j = sum_k [d_k <= 1] tanh(s_pick,k / delta1) tanh(s_j,k / delta1) + mu sum_k exp(-d_k / delta2)
 *       matches_j    = #{k : d_k <= min(ref, 7)}
 *     poses with similarity > gamma or matches >= match_threshold (the pick among them) form the pick's
 *     cluster and leave the remaining set;
 *   each pick's keypoints are then merged over its cluster (merge_cluster below), and picks whose best
 *   keypoint score is under score_threshold, or whose keypoints span too small an area, are dropped.
 *
 * Keypoint scores of exactly 0 count as 1e-5, as in AlphaPose, so that no cluster's weights sum to zero.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "cpose.h"

#define NMS_ZERO_SCORE 1e-5f
#define NMS_MATCH_CAP 7.0f  /* AlphaPose caps the reference distance of keypoint matching at 7 pixels */
#define NMS_MERGE_CAP 15.0f /* ... and that of merging at 15 */

cpose_pose_nms_params cpose_pose_nms_params_default(void) {
  cpose_pose_nms_params p = {
      .delta1 = 1.0f,
      .mu = 1.7f,
      .delta2 = 2.65f,
      .gamma = 22.48f,
      .score_threshold = 0.3f,
      .match_threshold = 5.0f,
      .alpha = 0.1f,
      .min_box_area = 0.0f,
  };
  return p;
}

static float keypoint_score(const cpose_person *p, int k) {
  float s = p->keypoints[k].score;
  return s == 0.0f ? NMS_ZERO_SCORE : s;
}

static float mean_score(const cpose_person *p) {
  float sum = 0.0f;
  for (int k = 0; k < p->keypoint_count; k++) sum += keypoint_score(p, k);
  return p->keypoint_count ? sum / (float)p->keypoint_count : 0.0f;
}

static float keypoint_distance(const cpose_person *a, const cpose_person *b, int k) {
  return hypotf(a->keypoints[k].x - b->keypoints[k].x, a->keypoints[k].y - b->keypoints[k].y);
}

static float reference_distance(const cpose_person *p, const cpose_pose_nms_params *params) {
  return params->alpha * fmaxf(p->box[2], p->box[3]);
}

/* Whether `other` describes the same person as `pick` (the pick itself always does). */
static bool is_duplicate(const cpose_person *pick, const cpose_person *other, const cpose_pose_nms_params *params) {
  float ref = fminf(reference_distance(pick, params), NMS_MATCH_CAP);
  float similarity = 0.0f;
  int matches = 0;
  for (int k = 0; k < pick->keypoint_count; k++) {
    float d = keypoint_distance(pick, other, k);
    if (d <= 1.0f) {
      similarity += tanhf(keypoint_score(pick, k) / params->delta1) * tanhf(keypoint_score(other, k) / params->delta1);
    }
    similarity += params->mu * expf(-d / params->delta2);
    if (d <= ref) matches++;
  }
  return similarity > params->gamma || (float)matches >= params->match_threshold;
}

/* Merges the cluster's poses into `out` (a copy of the pick): per keypoint, the poses whose keypoint lies
 * within min(ref, 15) pixels of the pick's are averaged with weights score / sum of scores, and the merged
 * score is sum(score^2) / sum(score). */
static void merge_cluster(const cpose_person *all, const int *cluster, int size, const cpose_pose_nms_params *params,
                          cpose_person *out) {
  const cpose_person *pick = &all[cluster[0]];
  float ref = fminf(reference_distance(pick, params), NMS_MERGE_CAP);
  for (int k = 0; k < pick->keypoint_count; k++) {
    float weight = 0.0f, x = 0.0f, y = 0.0f, score = 0.0f;
    for (int c = 0; c < size; c++) {
      const cpose_person *p = &all[cluster[c]];
      if (keypoint_distance(pick, p, k) > ref) continue;
      float s = keypoint_score(p, k);
      weight += s;
      x += s * p->keypoints[k].x;
      y += s * p->keypoints[k].y;
      score += s * s;
    }
    out->keypoints[k] = (cpose_keypoint){x / weight, y / weight, score / weight};
  }
}

/* Whether a merged pose is kept: its best keypoint reaches the score threshold and its keypoints span
 * enough area (AlphaPose compares 1.5^2 x the keypoints' extent with the area threshold). */
static bool keep_merged(const cpose_person *p, const cpose_pose_nms_params *params) {
  float best = 0.0f, x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  for (int k = 0; k < p->keypoint_count; k++) {
    best = fmaxf(best, p->keypoints[k].score);
    x0 = fminf(x0, p->keypoints[k].x), x1 = fmaxf(x1, p->keypoints[k].x);
    y0 = fminf(y0, p->keypoints[k].y), y1 = fmaxf(y1, p->keypoints[k].y);
  }
  if (best < params->score_threshold) return false;
  return !(1.5f * 1.5f * (x1 - x0) * (y1 - y0) < params->min_box_area);
}

static float best_score(const cpose_person *p) {
  float best = 0.0f;
  for (int k = 0; k < p->keypoint_count; k++) best = fmaxf(best, p->keypoints[k].score);
  return best;
}

/* The remaining pose with the highest mean keypoint score (the first of equals), or -1. */
static int pick_best(const cpose_person *all, const bool *remaining, int n) {
  int pick = -1;
  float pick_score = -INFINITY;
  for (int i = 0; i < n; i++) {
    if (!remaining[i]) continue;
    float s = mean_score(&all[i]);
    if (s > pick_score) pick = i, pick_score = s;
  }
  return pick;
}

cpose_status cpose_pose_nms(cpose_person *persons, size_t count, const cpose_pose_nms_params *params,
                            size_t *kept_out) {
  if ((!persons && count) || !params || !kept_out) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_pose_nms: NULL argument");
  if (count > 100000) return cpose_fail(CPOSE_ERR_LIMIT, "cpose_pose_nms: %zu poses (at most 100000)", count);
  for (size_t i = 0; i < count; i++) {
    if (persons[i].keypoint_count != persons[0].keypoint_count || persons[i].keypoint_count < 0 ||
        persons[i].keypoint_count > CPOSE_MAX_KEYPOINTS) {
      return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_pose_nms: person %zu has %d keypoints, person 0 has %d", i,
                        persons[i].keypoint_count, persons[0].keypoint_count);
    }
  }
  int n = (int)count;
  cpose_person *all = cpose_calloc(count + 1, sizeof *all); /* the poses before merging */
  bool *remaining = cpose_calloc(count + 1, sizeof *remaining);
  int *cluster = cpose_calloc(count + 1, sizeof *cluster);
  if (!all || !remaining || !cluster) {
    cpose_free(all), cpose_free(remaining), cpose_free(cluster);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "cpose_pose_nms: no memory for %zu poses", count);
  }
  if (count) memcpy(all, persons, count * sizeof *all);
  for (int i = 0; i < n; i++) remaining[i] = true;
  size_t kept = 0;
  for (int pick; (pick = pick_best(all, remaining, n)) >= 0;) {
    int size = 0;
    cluster[size++] = pick; /* the pick first: merge_cluster measures distances from it */
    remaining[pick] = false;
    for (int j = 0; j < n; j++) {
      if (remaining[j] && is_duplicate(&all[pick], &all[j], params)) cluster[size++] = j, remaining[j] = false;
    }
    if (best_score(&all[pick]) < params->score_threshold) continue;
    cpose_person merged = all[pick];
    merge_cluster(all, cluster, size, params, &merged);
    if (!keep_merged(&merged, params)) continue;
    merged.score = mean_score(&merged) + merged.box_score + 1.25f * best_score(&merged);
    persons[kept++] = merged;
  }
  cpose_free(all), cpose_free(remaining), cpose_free(cluster);
  *kept_out = kept;
  return CPOSE_OK;
}
