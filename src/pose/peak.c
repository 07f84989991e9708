/*
 * Peak finding shared by the decoders: the plain argmax of one heatmap channel, and MoveNet's two weighted
 * argmaxes (the person center, then each joint near where that center says it is). The arithmetic follows
 * the graph's own decode node by node (see decode_movenet.c), in float32 and in the same order, so that the
 * same cells win.
 */
#include <math.h>

#include "pose/pose.h"

/* Rounds a float to the nearest float16 value (11 significant bits, ties to even), for values in float16's
 * normal range (at least 2^-14), which the center weights are for any map smaller than 16000 cells. The graph
 * stores its center weights as float16 (the TF.js converter's quantization), so the weights computed here
 * must be rounded the same way for the same cell to win where two candidates are close. */
static float round_to_float16(float value) {
  int exponent;
  float mantissa = frexpf(value, &exponent); /* value = mantissa * 2^exponent, 0.5 <= mantissa < 1 */
  return ldexpf(rintf(ldexpf(mantissa, 11)), exponent - 11);
}

float pose_center_weight(int row, int col, int height, int width) {
  /* As the graph was built: float32 distance from the middle, plus 1.8, reciprocal; then stored as float16.
   * This reproduces all 48x48 stored weights of Lightning and 4088 of Thunder's 64x64; the other 8, at 35.5
   * cells from the middle, sit one float32 step from a float16 rounding tie, which the converter rounded up:
   * they differ by one float16 step (1.5e-5). */
  float dy = (float)row - 0.5f * (float)height;
  float dx = (float)col - 0.5f * (float)width;
  return round_to_float16(1.0f / (sqrtf(dy * dy + dx * dx) + 1.8f));
}

void pose_channel_argmax(const float *map, int height, int width, int channels, int channel, int *row_out,
                         int *col_out) {
  int cells = height * width, best_index = 0;
  float best = map[channel];
  for (int i = 1; i < cells; i++) {
    float v = map[(size_t)i * channels + channel];
    if (v > best) best = v, best_index = i; /* strict: the first maximum wins, as in TensorFlow */
  }
  *row_out = best_index / width;
  *col_out = best_index % width;
}

void pose_movenet_center(const pose_maps *maps, int *row_out, int *col_out) {
  int best_row = 0, best_col = 0;
  float best = -INFINITY;
  for (int i = 0; i < maps->height; i++) {
    for (int j = 0; j < maps->width; j++) {
      float v = maps->center[i * maps->width + j] * pose_center_weight(i, j, maps->height, maps->width);
      if (v > best) best = v, best_row = i, best_col = j;
    }
  }
  *row_out = best_row;
  *col_out = best_col;
}

void pose_movenet_joint_peak(const pose_maps *maps, int center_row, int center_col, int k, int *row_out,
                             int *col_out) {
  int k2 = 2 * maps->keypoints;
  const float *regress = maps->regress + ((size_t)center_row * maps->width + center_col) * k2;
  /* The graph places the regressed joint at the center's cell index plus the regression (not at the cell's
   * middle): the same convention as its offsets (decode_movenet.c). */
  float joint_y = (float)center_row + regress[2 * k];
  float joint_x = (float)center_col + regress[2 * k + 1];
  int best_row = 0, best_col = 0;
  float best = -INFINITY;
  for (int i = 0; i < maps->height; i++) {
    for (int j = 0; j < maps->width; j++) {
      float dy = (float)i - joint_y, dx = (float)j - joint_x;
      float heat = maps->heatmap[((size_t)i * maps->width + j) * maps->keypoints + k];
      float v = heat / (sqrtf(dy * dy + dx * dx) + POSE_MOVENET_DISTANCE_BIAS);
      if (v > best) best = v, best_row = i, best_col = j;
    }
  }
  *row_out = best_row;
  *col_out = best_col;
}
