/*
 * Internal interface of the pose stage (src/pose): the crop around a person box, the single-person pose net
 * (MoveNet Thunder or Lightning) run on it, and the decoders that read keypoints from its raw maps.
 */
#ifndef CPOSE_POSE_POSE_H
#define CPOSE_POSE_POSE_H

#include <stdbool.h>
#include <stddef.h>

#include "cpose.h"
#include "image/image.h"

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

/* Decodes every joint of `maps` into joints[0..keypoints) with `decoder` (any keypoints count up to
 * CPOSE_MAX_KEYPOINTS; an unknown decoder value decodes as CPOSE_DECODER_MOVENET). Pure: no allocation, no
 * state; with CPOSE_DECODER_MOVENET, joints[k] divided by the map size is the graph's own Identity:0. */
void pose_decode(const pose_maps *maps, cpose_decoder decoder, pose_joint *joints);

typedef struct pose_net pose_net;

/* Loads `model_path` (MoveNet's model.json) and plans one single-threaded session per thread of `pool`
 * (borrowed, must outlive the net; NULL: one session, on the calling thread), each outputting the four raw
 * maps only (the graph's own decode is pruned). Crops then run side by side, one per thread: measured on
 * Thunder, two single-threaded runs at once give 25% more crops per second than one run on both threads.
 * Checks the maps' shapes (17 joints). */
cpose_status pose_net_create(const char *model_path, cpose_threadpool *pool, pose_net **net_out);
void pose_net_destroy(pose_net *net);

/* The net's input side (256 for Thunder, 192 for Lightning). */
int pose_net_input_size(const pose_net *net);

typedef struct pose_options {
  cpose_decoder decoder;
  bool flip;       /* also run the mirrored crop; average the two (left and right joints swapped back) */
  bool refine;     /* run a second crop centred on the first estimate's keypoints */
  float box_scale; /* enlarge the box by this before cropping (1.25) */
} pose_options;

/* Estimates the pose of the person in `box`: crops (the box enlarged by box_scale, its short side grown to
 * the net's square aspect ratio, warped into the input), runs the net, decodes and maps the joints back to
 * image pixels. Writes person->keypoints (keypoint_count = 17), person->box and person->box_score from
 * `box`; other fields untouched. With options->flip the mirrored crop runs too and the joints are averaged
 * (flip.c); with options->refine a second crop around pose_refine_box's box runs too, and the estimate with
 * the higher mean keypoint score is kept. Allocates nothing. Not thread-safe: one call on a net at a time.
 * CPOSE_ERR_INVALID_ARGUMENT for a NULL pointer, an unknown decoder or a box or box_scale that
 * image_crop_transform refuses. */
cpose_status pose_net_estimate(pose_net *net, const cpose_image *image, const cpose_box *box,
                               const pose_options *options, cpose_person *person);

/* pose_net_estimate for boxes[0..count) into persons[0..count), the crops of up to 32 boxes (and their
 * mirrors) running side by side on the net's sessions, then their refined crops. Each person is what
 * pose_net_estimate gives for its box alone, bit for bit. On failure (the first, in box order) persons are
 * partly written. */
cpose_status pose_net_estimate_boxes(pose_net *net, const cpose_image *image, const cpose_box *boxes,
                                     size_t count, const pose_options *options, cpose_person *persons);

/* ---- decoding internals (peak.c, decode_*.c, flip.c, refine.c), shared by the net and the tests ------ */

/* The regression window of the integral decoder: a (2r + 1)^2 square of cells around the peak, r = 2. */
#define POSE_INTEGRAL_RADIUS 2

/* The constant MoveNet adds to a cell's distance from the regressed joint before dividing the joint heatmap
 * by it: 1.8, stored in the graph as float16 ('StatefulPartitionedCall/add_5/y' = 1.7998046875). */
#define POSE_MOVENET_DISTANCE_BIAS 1.7998046875f

/* The weight of cell (row, col) in MoveNet's choice of the person center: 1 / (d + 1.8), d the distance of
 * the cell index from (height / 2, width / 2), rounded to float16 as the graph stores it
 * ('ConstantFolding/StatefulPartitionedCall/truediv_2_recip'). It makes the person nearest the crop's middle
 * win over a brighter one at its edge. */
float pose_center_weight(int row, int col, int height, int width);

/* The cell of the largest value of channel `channel` of an HWC (height, width, channels) map; the first one
 * in row-major order on ties (TensorFlow's ArgMax). */
void pose_channel_argmax(const float *map, int height, int width, int channels, int channel, int *row_out,
                         int *col_out);

/* MoveNet's person center: the cell maximizing center x pose_center_weight. */
void pose_movenet_center(const pose_maps *maps, int *row_out, int *col_out);

/* MoveNet's peak of joint `k` for the person centred at cell (center_row, center_col): the cell maximizing
 * heatmap / (distance to the joint that center regresses + POSE_MOVENET_DISTANCE_BIAS), so that a brighter
 * joint of another person in the crop loses to the one where this person's joint should be. */
void pose_movenet_joint_peak(const pose_maps *maps, int center_row, int center_col, int k, int *row_out,
                             int *col_out);

/* The decoders behind pose_decode (see cpose_decoder); each writes joints[0..maps->keypoints). */
void pose_decode_movenet(const pose_maps *maps, pose_joint *joints);
void pose_decode_argmax(const pose_maps *maps, pose_joint *joints);
void pose_decode_integral(const pose_maps *maps, pose_joint *joints);

/* The left/right pairs of COCO-17 (eyes, ears, shoulders, elbows, wrists, hips, knees, ankles). */
#define POSE_COCO17_FLIP_PAIRS 8
extern const int pose_coco17_flip_pairs[POSE_COCO17_FLIP_PAIRS][2];

/* The crop mirrored left to right: its pixel column j shows what column (input_width - 1 - j) of the crop
 * `to_image` makes shows. Both map net-input coordinates to image coordinates. */
void pose_mirror_affine(const image_affine *to_image, int input_width, image_affine *mirrored_out);

/* Joints decoded from the mirrored crop, brought back to the unmirrored one: x -> map_width - x (cells are
 * continuous, so this is an exact mirror) and each COCO-17 left joint swapped with its right one, since the
 * net names the joints of the mirrored person anatomically. `keypoints` must be 17 (COCO order). */
void pose_unflip_joints(pose_joint *joints, int keypoints, int map_width);

/* joints[k] = the mean of joints[k] and other[k]: positions and scores. */
void pose_average_joints(pose_joint *joints, const pose_joint *other, int keypoints);

/* A joint in map cells to image pixels: cells -> net input pixels (x * input_size / map_width) -> image
 * through the crop's `to_image`. */
void pose_joint_to_image(const pose_joint *joint, int map_width, int map_height, int input_size,
                         const image_affine *to_image, cpose_keypoint *keypoint_out);

/* Joints scoring above this shape the refined crop. */
#define POSE_REFINE_MIN_SCORE 0.2f
/* With fewer confident joints than this, there is no refined crop. */
#define POSE_REFINE_MIN_JOINTS 3

/* The box of the refined crop: the extent of the keypoints scoring above POSE_REFINE_MIN_SCORE, joined with
 * the middle half of `box` (its center, half its width and height). False when fewer than
 * POSE_REFINE_MIN_JOINTS keypoints are confident: then there is nothing to re-centre on. */
bool pose_refine_box(const cpose_keypoint *keypoints, int count, const cpose_box *box,
                     cpose_box *refined_out);

#endif
