/*
 * The refined crop: a detector's box is often off (cut limbs, too much background, centred between two
 * people); the first estimate's confident keypoints say where this person really is, so a second crop is
 * centred on them.
 */
#include <math.h>

#include "pose/pose.h"

bool pose_refine_box(const cpose_keypoint *keypoints, int count, const cpose_box *box, cpose_box *refined_out) {
  /* Start from the middle half of the original box: keypoints never cover the head's top or a whole torso
   * outline, and with few confident joints (a head and shoulders) their extent alone would be a sliver; the
   * box's middle keeps the crop on the detected person and gives it a size. */
  float x0 = box->x + 0.25f * box->w, x1 = box->x + 0.75f * box->w;
  float y0 = box->y + 0.25f * box->h, y1 = box->y + 0.75f * box->h;
  int confident = 0;
  for (int k = 0; k < count; k++) {
    const cpose_keypoint *p = &keypoints[k];
    if (!(p->score > POSE_REFINE_MIN_SCORE) || !isfinite(p->x) || !isfinite(p->y)) continue;
    confident++;
    x0 = fminf(x0, p->x), x1 = fmaxf(x1, p->x);
    y0 = fminf(y0, p->y), y1 = fmaxf(y1, p->y);
  }
  if (confident < POSE_REFINE_MIN_JOINTS || !(x1 > x0) || !(y1 > y0)) return false;
  refined_out->x = x0;
  refined_out->y = y0;
  refined_out->w = x1 - x0;
  refined_out->h = y1 - y0;
  refined_out->score = box->score;
  return true;
}
