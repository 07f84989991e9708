/*
 * The flip test: the net also sees the crop mirrored left to right, and the joints it finds there are
 * mirrored back and averaged with the others.
 *
 * We average joints, not maps. Averaging maps (AlphaPose's way) needs every map mirrored, the x channels of
 * the offsets and regressions negated and re-based (the graph reads them from a cell's index, not its
 * middle, so a mirrored cell's offset is 1 - x, not -x), the left/right channels swapped, and a copy of all
 * four maps kept across the second run; and it would only serve the heatmap decoders. Joints are the same
 * for every decoder, need no buffer, and mirror exactly in continuous cell coordinates.
 */
#include "pose/pose.h"

const int pose_coco17_flip_pairs[POSE_COCO17_FLIP_PAIRS][2] = {
    {1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}, {13, 14}, {15, 16},
};

void pose_mirror_affine(const image_affine *to_image, int input_width, image_affine *mirrored_out) {
  /* to_image composed with x -> input_width - x (continuous, so pixel j's middle j + 0.5 goes to
   * input_width - 1 - j + 0.5, the middle of the mirrored pixel: the warp samples the same points). */
  const double *m = to_image->m;
  double s = input_width;
  image_affine mirrored = {{-m[0], m[1], m[0] * s + m[2], -m[3], m[4], m[3] * s + m[5]}};
  *mirrored_out = mirrored;
}

void pose_unflip_joints(pose_joint *joints, int keypoints, int map_width) {
  for (int k = 0; k < keypoints; k++) joints[k].x = (float)map_width - joints[k].x;
  for (int p = 0; p < POSE_COCO17_FLIP_PAIRS; p++) {
    int a = pose_coco17_flip_pairs[p][0], b = pose_coco17_flip_pairs[p][1];
    if (a >= keypoints || b >= keypoints) continue; /* only with fewer than 17 joints (not COCO-17) */
    pose_joint t = joints[a];
    joints[a] = joints[b];
    joints[b] = t;
  }
}

void pose_average_joints(pose_joint *joints, const pose_joint *other, int keypoints) {
  for (int k = 0; k < keypoints; k++) {
    joints[k].x = 0.5f * (joints[k].x + other[k].x);
    joints[k].y = 0.5f * (joints[k].y + other[k].y);
    joints[k].score = 0.5f * (joints[k].score + other[k].score);
  }
}
