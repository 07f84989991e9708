/*
 * Internal interface of the tracker (src/track): the Kalman filter on a person's box (kalman.c), the
 * assignment with a cost limit (hungarian.c, on the solver of core/assignment.h) and the colour histograms
 * of the appearance cue (appearance.c), which tracker.c combines into cpose_tracker_*. Boxes are cpose_box
 * (x, y, w, h in image pixels; score unused).
 */
#ifndef CPOSE_TRACK_TRACK_H
#define CPOSE_TRACK_TRACK_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "cpose.h"

/* A keypoint takes part in the pose cues (OKS, torso region) only above this confidence, and with finite
 * coordinates. */
#define TRACK_KEYPOINT_MIN_SCORE 0.2f

/* The pose cues read a person's first 17 keypoints, in COCO-17 order, when it has at least that many. */
#define COCO_KEYPOINTS 17

static inline bool track_keypoint_usable(const cpose_keypoint *k) {
  return k->score > TRACK_KEYPOINT_MIN_SCORE && isfinite(k->x) && isfinite(k->y);
}

/* --- Kalman filter (kalman.c) --------------------------------------------------------------------------- */

/* One coordinate of the state and its velocity, per frame: mean and 2x2 covariance. */
typedef struct kalman_axis {
  double pos, vel;
  double var_pos, cov, var_vel; /* [[var_pos, cov], [cov, var_vel]] */
} kalman_axis;

enum { KALMAN_CX, KALMAN_CY, KALMAN_W, KALMAN_H, KALMAN_AXES };

/* A constant-velocity filter on (box center x, center y, width, height) and their velocities in pixels per
 * frame, with DeepSORT's noise model (standard deviations a fixed fraction of the box size). Its 8x8
 * covariance never couples two coordinates (F, H, Q and R are all block-diagonal per coordinate), so it is
 * kept as four independent 2x2 blocks: the same numbers as the 8x8 filter, in a few lines each. */
typedef struct kalman_box {
  kalman_axis axis[KALMAN_AXES]; /* indexed by KALMAN_CX .. KALMAN_H */
} kalman_box;

/* Starts a filter at `box` (width and height > 0), at rest, with a large velocity uncertainty. */
void kalman_init(kalman_box *k, const cpose_box *box);
/* Moves the filter one frame ahead. Width and height stay at least KALMAN_MIN_SIZE pixels. */
void kalman_predict(kalman_box *k);
/* Corrects the (predicted) filter with a measured box (width and height > 0). */
void kalman_update(kalman_box *k, const cpose_box *box);
/* Multiplies the velocities by `factor` and adds what they lose to their variances (a track that lost its
 * person: see tracker.c). */
void kalman_damp(kalman_box *k, double factor);
/* The filter's mean as a box (score 0). */
cpose_box kalman_box_mean(const kalman_box *k);
/* The standard deviations of the next measured box center around the mean, in x and y (the innovation's:
 * the filter's own uncertainty plus the measurement noise). */
void kalman_center_spread(const kalman_box *k, float *sx, float *sy);

#define KALMAN_MIN_SIZE 1.0f

/* --- Assignment (hungarian.c) --------------------------------------------------------------------------- */

/* Bytes of scratch memory hungarian_solve needs for a rows x cols matrix. */
size_t hungarian_scratch_size(size_t rows, size_t cols);

/* The optimal partial assignment of rows to columns: pairs costing more than max_cost (or NaN) are
 * forbidden, and among the assignments of allowed pairs it finds one of least
 *   sum over matched pairs of cost + max_cost / 2 x (unmatched rows + unmatched columns),
 * so a pair is matched only where it beats leaving both alone (lapjv's cost_limit, as ByteTrack uses it).
 * `cost`: (rows, cols) row-major, borrowed; +infinity and NaN are forbidden like any cost above max_cost.
 * Writes row_match[rows]: the column matched to each row, or -1. `scratch`: hungarian_scratch_size(rows,
 * cols) bytes, aligned as malloc aligns. O(n^2 m) time for n = min(rows, cols), m = max(rows, cols);
 * allocates nothing. */
void hungarian_solve(const float *cost, size_t rows, size_t cols, float max_cost, void *scratch,
                     int *row_match);

/* --- Appearance (appearance.c) -------------------------------------------------------------------------- */

#define APPEARANCE_BINS 128 /* hue 8 x saturation 4 x value 4 */

/* The colour histogram (HSV, normalized to sum 1) of the person's torso in `image`: the rectangle spanned by
 * the shoulders and hips when the person has a COCO-17 pose with all four above TRACK_KEYPOINT_MIN_SCORE,
 * else the middle of `box`. False (hist unset) when the region holds no pixel of the image. */
bool appearance_histogram(const cpose_image *image, const cpose_box *box, const cpose_person *person,
                          float hist[APPEARANCE_BINS]);

/* Hellinger distance of two normalized histograms: 0 for equal ones, 1 for disjoint ones. */
float appearance_distance(const float a[APPEARANCE_BINS], const float b[APPEARANCE_BINS]);

#endif
