/*
 * Internal interface of the COCO keypoint evaluation (src/eval).
 *
 * coco_load.c reads the ground truth and the results (JSON) into an eval_data: plain arrays in file order,
 * every image and category referred to by its index in a sorted id list. coco_eval.c runs pycocotools'
 * COCOeval (iouType 'keypoints') on it: per image OKS and greedy matching, then precision and recall
 * accumulated over all images. mot_eval.c counts the CLEAR MOT tracking events on the same data, read with
 * track ids. keypoint_sets.c holds the per-keypoint sigmas of the known keypoint sets.
 */
#ifndef CPOSE_EVAL_H
#define CPOSE_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpose.h"

/* Caps on what an input may ask for, so that a hostile file is refused before it is allocated. */
#define EVAL_MAX_JSON_BYTES ((size_t)1 << 30) /* 1 GiB per file */
#define EVAL_MAX_ENTRIES 10000000             /* images, annotations, categories or results per file */
#define EVAL_MAX_DETS 100000                  /* params.max_dets */

/* One ground-truth annotation that takes part (its image and category are in the ground truth's lists). */
typedef struct eval_gt {
  int64_t id;      /* the annotation's id; pycocotools marks a match with it (see coco_eval.c) */
  size_t image;    /* index into eval_data.image_ids */
  size_t category; /* index into eval_data.category_ids */
  double area;     /* the annotation's 'area': the OKS scale and the area-range test */
  double bbox[4];  /* x, y, width, height: the region for a person without labelled keypoints */
  bool crowd;      /* iscrowd: may match any number of detections */
  bool ignore;     /* iscrowd, or num_keypoints == 0: neither a miss nor a hit */
  bool has_track;  /* the annotation has an integer 'track_id' */
  int64_t track;   /* that 'track_id' (tracking evaluation, mot_eval.c); 0 without one */
} eval_gt;

/* One detection (result entry) that takes part (its category is in the ground truth's list). */
typedef struct eval_dt {
  size_t image;    /* index into eval_data.image_ids */
  size_t category; /* index into eval_data.category_ids */
  double score;
  double area; /* what pycocotools' loadRes sets: the keypoints' extent, or the 'bbox' area (coco_load.c) */
  bool has_track; /* the entry has an integer 'track_id' or, as AlphaPose writes it, 'idx' */
  int64_t track;  /* that id ('track_id' first); 0 without one */
} eval_dt;

typedef struct eval_data {
  size_t k; /* keypoints per person */
  size_t image_count;
  int64_t *image_ids; /* (image_count), ascending, unique: pycocotools' sorted imgIds */
  size_t category_count;
  int64_t *category_ids; /* (category_count), ascending, unique */
  size_t gt_count;
  eval_gt *gts;         /* (gt_count), in file order */
  double *gt_keypoints; /* (gt_count, k, 3) x, y, v; all zero for an annotation without 'keypoints' */
  size_t dt_count;
  eval_dt *dts;         /* (dt_count), in file order */
  double *dt_keypoints; /* (dt_count, k, 3) x, y, score */
  size_t dt_skipped; /* result entries whose category is not in the ground truth (pycocotools drops them) */
} eval_data;

/* Parses both files (each `size` bytes, not NUL-terminated) for `k` keypoints per person. Every malformed
 * entry is an error that names it (its index and image_id). Track ids are read where an entry has one and
 * are otherwise not looked at. On failure `data` holds nothing to free. */
cpose_status eval_data_load(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                            size_t k, eval_data *data);
/* The same for tracking evaluation: every annotation that counts (not ignored) and every result that takes
 * part must carry an integer track id, else CPOSE_ERR_PARSE names the entry. */
cpose_status eval_data_load_tracked(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                                    size_t k, eval_data *data);
void eval_data_free(eval_data *data);

/* The OKS variances (2 sigma)^2 of params' keypoint set or sigmas: *vars_out (transferred, cpose_free) holds
 * *k_out values. Unknown sets, counts outside 1..CPOSE_EVAL_MAX_KEYPOINTS and non-positive sigmas fail with
 * CPOSE_ERR_INVALID_ARGUMENT (CPOSE_ERR_NOT_FOUND for a set's name). */
cpose_status eval_make_vars(const cpose_eval_params *params, double **vars_out, size_t *k_out);

/* Object keypoint similarity of one detection with one ground truth, as pycocotools' computeOks:
 * gt (k, 3) x, y, v and dt (k, 3) x, y, score; vars[i] = (2 sigma_i)^2; gt_bbox x, y, w, h; gt_area the
 * scale. Keypoints with v = 0 do not count; a ground truth with none labelled is measured by how far each
 * detected keypoint lies outside its box enlarged by the box's size on every side. */
double eval_oks(const double *gt, const double gt_bbox[4], double gt_area, const double *dt,
                const double *vars, size_t k);

#endif
