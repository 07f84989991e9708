/*
 * Internal interface of the pose stage (src/pose): the crop around a person box, the single-person pose net
 * (MoveNet Thunder or Lightning) run on it, and the decoders that read keypoints from its raw maps.
 */
#ifndef CPOSE_POSE_POSE_H
#define CPOSE_POSE_POSE_H

#include <stdbool.h>
#include <stddef.h>

#include "cpose.h"

/* The raw output maps of MoveNet for one crop, all NHWC with batch 1, height x width cells (a quarter of the
 * input size), `keypoints` joints (17, COCO order). Borrowed views of the session's outputs. */
typedef struct pose_maps {
  int height, width, keypoints;
  const float *heatmap; /* (H, W, K) joint heatmaps after the sigmoid */
  const float *offsets; /* (H, W, 2K) sub-cell offset of joint k: channel 2k is y, 2k+1 is x, in cells */
  const float *regress; /* (H, W, 2K) joint k relative to a person center at that cell: 2k y, 2k+1 x, cells */
  const float *center;  /* (H, W, 1) person-center heatmap after the sigmoid */
} pose_maps;

/* One decoded joint in crop-map coordinates: x, y in cells (continuous: cell (i, j) covers [j, j+1) x
 * [i, i+1), its center is (j + 0.5, i + 0.5)), score in [0, 1]. */
typedef struct pose_joint {
  float x, y, score;
} pose_joint;

/* Decodes every joint of `maps` into joints[0..keypoints) with `decoder`. */
void pose_decode(const pose_maps *maps, cpose_decoder decoder, pose_joint *joints);

typedef struct pose_net pose_net;

/* Loads `model_path` (MoveNet's model.json) and plans a session with `threads` threads that outputs the raw
 * maps. */
cpose_status pose_net_create(const char *model_path, int threads, pose_net **net_out);
void pose_net_destroy(pose_net *net);

/* The net's input side (256 for Thunder, 192 for Lightning). */
int pose_net_input_size(const pose_net *net);

typedef struct pose_options {
  cpose_decoder decoder;
  bool flip;        /* also run the mirrored crop; average the two (left and right joints swapped back) */
  bool refine;      /* run a second crop centred on the first estimate's keypoints */
  float box_scale;  /* enlarge the box by this before cropping (1.25) */
} pose_options;

/* Estimates the pose of the person in `box`: crops (the box enlarged by box_scale, its short side grown to
 * the net's square aspect ratio, warped into the input), runs the net, decodes and maps the joints back to
 * image pixels. Writes person->keypoints (keypoint_count = 17), person->box and person->box_score from
 * `box`; other fields untouched. */
cpose_status pose_net_estimate(pose_net *net, const cpose_image *image, const cpose_box *box,
                               const pose_options *options, cpose_person *person);

#endif
