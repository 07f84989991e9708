/*
 * The classic heatmap decode of AlphaPose and the Hourglass papers: each joint at its heatmap's global
 * maximum, moved a quarter cell toward the higher of the two neighbours on each axis. The quarter shift is a
 * cheap sub-cell estimate: the true peak lies between the maximum cell and its higher neighbour, and a
 * quarter is the expected distance when it is uniformly placed there. No offsets, no person choice: with two
 * people in the crop, the brighter joint wins, whoever it belongs to.
 */
#include "pose/pose.h"

/* -0.25, 0 or +0.25 along one axis: toward the higher of the neighbours `step` elements before and after
 * element `at` of `channel`; 0 when they are equal or one is missing (`index` on the border of `size`). */
static float quarter_shift(const float *channel, size_t at, size_t step, int index, int size) {
  if (index <= 0 || index >= size - 1) return 0.0f;
  float before = channel[at - step], after = channel[at + step];
  return after > before ? 0.25f : after < before ? -0.25f : 0.0f;
}

void pose_decode_argmax(const pose_maps *maps, pose_joint *joints) {
  int w = maps->width, h = maps->height, kk = maps->keypoints;
  for (int k = 0; k < kk; k++) {
    int row, col;
    pose_channel_argmax(maps->heatmap, h, w, kk, k, &row, &col);
    const float *channel = maps->heatmap + k; /* element (i, j) at channel[(i * w + j) * kk] */
    size_t at = ((size_t)row * w + col) * kk;
    /* The maximum cell's middle (+0.5: pose_joint's continuous cells), then the shift. */
    joints[k].x = (float)col + 0.5f + quarter_shift(channel, at, (size_t)kk, col, w);
    joints[k].y = (float)row + 0.5f + quarter_shift(channel, at, (size_t)w * kk, row, h);
    joints[k].score = channel[at];
  }
}
