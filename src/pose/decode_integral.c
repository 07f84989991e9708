/*
 * Integral regression (soft-argmax, Sun et al. 2018) restricted to the neighbourhood of one peak: the joint
 * is the heatmap-weighted centroid of the cell middles in a (2r + 1)^2 window, r = POSE_INTEGRAL_RADIUS (2
 * cells), cut at the map's edges. The peak is the one MoveNet's decoder picks, so that with several people in
 * the crop the window sits on this person's joint; a soft-argmax over the whole map would average them.
 *
 * The weights are the heatmap values themselves (already sigmoid probabilities, non-negative), not a softmax
 * of them: exp() of values confined to [0, 1] varies by at most e, so a softmax would weigh the whole window
 * almost uniformly and pull every joint toward the window's middle. Linear weights give the blob's own
 * centroid: exact for a symmetric blob, and following an asymmetric one's mass.
 */
#include "pose/pose.h"

/* The weighted centroid of the window around (row, col) of channel k; the peak cell's middle if the window
 * holds no weight at all. */
static void window_centroid(const pose_maps *maps, int k, int row, int col, float *x_out, float *y_out) {
  int r = POSE_INTEGRAL_RADIUS;
  int i0 = row - r < 0 ? 0 : row - r, i1 = row + r >= maps->height ? maps->height - 1 : row + r;
  int j0 = col - r < 0 ? 0 : col - r, j1 = col + r >= maps->width ? maps->width - 1 : col + r;
  double sum = 0, sum_x = 0, sum_y = 0; /* double: 25 products of values in [0, 1], no cancellation worry */
  for (int i = i0; i <= i1; i++) {
    for (int j = j0; j <= j1; j++) {
      double v = maps->heatmap[((size_t)i * maps->width + j) * maps->keypoints + k];
      sum += v;
      sum_x += v * (j + 0.5);
      sum_y += v * (i + 0.5);
    }
  }
  if (!(sum > 0)) {
    *x_out = (float)col + 0.5f;
    *y_out = (float)row + 0.5f;
    return;
  }
  *x_out = (float)(sum_x / sum);
  *y_out = (float)(sum_y / sum);
}

void pose_decode_integral(const pose_maps *maps, pose_joint *joints) {
  int center_row, center_col;
  pose_movenet_center(maps, &center_row, &center_col);
  for (int k = 0; k < maps->keypoints; k++) {
    int row, col;
    pose_movenet_joint_peak(maps, center_row, center_col, k, &row, &col);
    window_centroid(maps, k, row, col, &joints[k].x, &joints[k].y);
    joints[k].score = maps->heatmap[((size_t)row * maps->width + col) * maps->keypoints + k];
  }
}
