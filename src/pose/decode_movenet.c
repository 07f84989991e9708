/*
 * MoveNet's own decode, as its graph does it after the heads (models/movenet-{thunder,lightning}/model.json, the nodes from
 * 'StatefulPartitionedCall/truediv_2' to 'Identity'):
 *   1. the person center: argmax of the center heatmap times a fixed weight map (pose_center_weight);
 *   2. the joints that center regresses: its cell index plus the regression at that cell;
 *   3. per joint, the peak: argmax of heatmap / (distance to the regressed joint + 1.8);
 *   4. the position: the peak's cell index plus the offset at the peak; the score: the heatmap there.
 * The graph then divides by the map size to normalize; we keep cells (pose_joint). The graph's cell index
 * plus an offset in [0, 1) is a continuous position: the training target was floor(position) and the
 * fraction, so cell i holds the joints in [i, i + 1), pose_joint's convention.
 */
#include "pose/pose.h"

void pose_decode_movenet(const pose_maps *maps, pose_joint *joints) {
  int center_row, center_col;
  pose_movenet_center(maps, &center_row, &center_col);
  int k2 = 2 * maps->keypoints;
  for (int k = 0; k < maps->keypoints; k++) {
    int row, col;
    pose_movenet_joint_peak(maps, center_row, center_col, k, &row, &col);
    size_t cell = (size_t)row * maps->width + col;
    const float *offset = maps->offsets + cell * k2;
    joints[k].y = (float)row + offset[2 * k];
    joints[k].x = (float)col + offset[2 * k + 1];
    joints[k].score = maps->heatmap[cell * maps->keypoints + k];
  }
}
