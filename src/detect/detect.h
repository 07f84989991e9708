/*
 * Internal interface of the person detectors (src/detect): CenterNet (MobileNetV3, COCO classes) run on the
 * whole image, person boxes kept, box NMS. Boxes are (x, y, w, h) in image pixels, in the continuous
 * coordinates of src/image/image.h.
 */
#ifndef CPOSE_DETECT_DETECT_H
#define CPOSE_DETECT_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "cpose.h"

typedef struct detector detector;

/* Defaults for detector_run. CenterNet's peaks are not box-NMSed (see centernet.c); 0.6 is the IoU AlphaPose
 * applies to its detector's person boxes, loose enough to keep two people standing one behind the other. */
#define DETECT_DEFAULT_THRESHOLD 0.1f
#define DETECT_DEFAULT_NMS_IOU 0.6f

/* Loads `model_path` (the centernet model.json) and plans a session whose kernels run on `pool` (borrowed,
 * must outlive the detector; NULL: the calling thread only). `letterbox`:
 * the image is resized into the 512x512 input keeping its aspect ratio (padded), else stretched. */
cpose_status detector_create(const char *model_path, cpose_threadpool *pool, bool letterbox,
                             detector **detector_out);
void detector_destroy(detector *d);

/* Runs the detector on `image` and writes the person boxes scoring at least `threshold`, after box NMS at
 * `nms_iou`, best first, mapped back to image pixels and clipped to the image. *boxes_out is allocated with
 * cpose_malloc (transferred). */
cpose_status detector_run(detector *d, const cpose_image *image, float threshold, float nms_iou,
                          cpose_box **boxes_out, size_t *count_out);

/* Intersection over union of two boxes (0 when either is empty). */
float box_iou(const cpose_box *a, const cpose_box *b);

/* Greedy box NMS in place: sorts by score (best first, stable) and drops every box whose IoU with a kept,
 * better box exceeds `iou`. Writes the number kept. */
void box_nms(cpose_box *boxes, size_t count, float iou, size_t *kept_out);

#endif
