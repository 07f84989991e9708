/*
 * The person detector: CenterNet with a MobileNetV3 backbone, trained on COCO's 80 classes.
 *
 * Model facts (checked against the TensorFlow.js golden output of tests/golden/centernet/messi5):
 * - input `tower_0/images`: NHWC (1, 512, 512, 3) float32, RGB 0..255 (the graph normalizes itself);
 * - output `tower_0/detections`: (1, 100, 6) float32, the 100 best (centre, class) peaks by score, each
 *   x1, y1, x2, y2 in input pixels (they can reach slightly outside [0, 512]), score, class: 0-based COCO-80
 *   ids (0 person, 32 sports ball), so persons are class 0;
 * - the peaks come from a 3x3 max-pool on the class heatmaps, not from box NMS: two neighbouring centres of
 *   one person both give a box (the golden output has two person boxes with IoU 0.86), so box NMS follows.
 */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "detect/detect.h"
#include "image/image.h"

#define INPUT_SIZE 512
#define OUTPUT_NAME "tower_0/detections"
#define VALUES_PER_DETECTION 6 /* x1, y1, x2, y2, score, class */
#define PERSON_CLASS 0
/* What letterboxing fills the border with: mid-grey, the value closest to the mean of natural images, so
 * the border looks like nothing in particular to the net. */
#define LETTERBOX_PAD 127.5f

struct detector {
  cpose_model *model;
  cpose_session *session;
  bool letterbox;
  float *input; /* NHWC (1, INPUT_SIZE, INPUT_SIZE, 3) float32, RGB 0..255; rewritten by every run */
};

cpose_status detector_create(const char *model_path, cpose_threadpool *pool, bool letterbox,
                             detector **detector_out) {
  if (!model_path || !detector_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "detector_create: %s is NULL",
                      model_path ? "detector_out" : "model_path");
  }
  cpose_status status = CPOSE_OK;
  detector *d = cpose_calloc(1, sizeof *d);
  if (!d) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "detector_create: no memory for the detector");
  d->letterbox = letterbox;
  const size_t input_count = (size_t)INPUT_SIZE * INPUT_SIZE * 3;
  d->input = cpose_malloc_aligned(input_count * sizeof *d->input);
  if (!d->input) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "detector_create: no memory for the %dx%d input", INPUT_SIZE,
                        INPUT_SIZE);
    goto error;
  }
  if ((status = cpose_model_load(model_path, &d->model)) != CPOSE_OK) goto error;
  const char *outputs[] = {OUTPUT_NAME};
  cpose_session_params params = cpose_session_params_default();
  params.pool = pool;
  params.outputs = outputs;
  params.output_count = 1;
  params.input_rank = 4;
  const int64_t dims[4] = {1, INPUT_SIZE, INPUT_SIZE, 3};
  for (int k = 0; k < 4; k++) params.input_dims[k] = dims[k];
  if ((status = cpose_session_create(d->model, &params, &d->session)) != CPOSE_OK) {
    status = cpose_fail_context(status, "detector %s", model_path);
    goto error;
  }
  *detector_out = d;
  return CPOSE_OK;
error:
  detector_destroy(d);
  return status;
}

void detector_destroy(detector *d) {
  if (!d) return;
  cpose_session_destroy(d->session);
  cpose_model_destroy(d->model);
  cpose_free_aligned(d->input);
  cpose_free(d);
}

/* The detections tensor of the last run as `count` rows of VALUES_PER_DETECTION floats. A model whose output
 * has another shape is not the model this file knows. */
static cpose_status detections(const detector *d, const float **rows_out, size_t *count_out) {
  cpose_tensor t;
  cpose_status status = cpose_session_output(d->session, 0, &t);
  if (status != CPOSE_OK) return status;
  if (t.dtype != CPOSE_DTYPE_FLOAT32 || t.rank != 3 || t.dims[0] != 1 || t.dims[2] != VALUES_PER_DETECTION ||
      t.dims[1] < 0) {
    return cpose_fail(
        CPOSE_ERR_UNSUPPORTED,
        "detector: %s has dtype %d, rank %d, dims [%lld, %lld, %lld]; expected float32 [1, N, %d]",
        OUTPUT_NAME, (int)t.dtype, t.rank, (long long)t.dims[0], (long long)(t.rank > 1 ? t.dims[1] : 0),
        (long long)(t.rank > 2 ? t.dims[2] : 0), VALUES_PER_DETECTION);
  }
  *rows_out = t.data;
  *count_out = (size_t)t.dims[1];
  return CPOSE_OK;
}

static float clampf(float v, float lo, float hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* One detection row (input pixels) as an image box: mapped through the resize's inverse and clipped to the
 * image. False when the box has nothing left inside the image. */
static bool row_to_box(const float *row, const image_resize_info *info, const cpose_image *image,
                       cpose_box *box_out) {
  double x1, y1, x2, y2;
  image_affine_apply(&info->to_image, row[0], row[1], &x1, &y1);
  image_affine_apply(&info->to_image, row[2], row[3], &x2, &y2);
  const float w = (float)image->width, h = (float)image->height;
  float left = clampf((float)x1, 0, w), top = clampf((float)y1, 0, h);
  float right = clampf((float)x2, 0, w), bottom = clampf((float)y2, 0, h);
  if (!(right > left) || !(bottom > top)) return false; /* also false for NaN */
  box_out->x = left;
  box_out->y = top;
  box_out->w = right - left;
  box_out->h = bottom - top;
  box_out->score = row[4];
  return true;
}

/* A person row scoring at least `threshold`. The class is a float holding an integer id. */
static bool is_person(const float *row, float threshold) {
  return row[5] > PERSON_CLASS - 0.5f && row[5] < PERSON_CLASS + 0.5f && row[4] >= threshold;
}

cpose_status detector_run(detector *d, const cpose_image *image, float threshold, float nms_iou,
                          cpose_box **boxes_out, size_t *count_out) {
  if (!d || !image || !boxes_out || !count_out)
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "detector_run: NULL argument");
  if (!(nms_iou >= 0 && nms_iou <= 1) || isnan(threshold)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "detector_run: threshold %g or NMS IoU %g is not valid",
                      (double)threshold, (double)nms_iou);
  }
  image_resize_info info;
  cpose_status status =
      image_resize(image, INPUT_SIZE, INPUT_SIZE, d->letterbox, LETTERBOX_PAD, d->input, &info);
  if (status != CPOSE_OK) return status;
  const size_t input_count = (size_t)INPUT_SIZE * INPUT_SIZE * 3;
  if ((status = cpose_session_run(d->session, d->input, input_count)) != CPOSE_OK) return status;
  const float *rows = NULL;
  size_t n = 0;
  if ((status = detections(d, &rows, &n)) != CPOSE_OK) return status;

  cpose_box *boxes = cpose_malloc((n ? n : 1) * sizeof *boxes);
  if (!boxes) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "detector_run: no memory for %zu boxes", n);
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    const float *row = rows + i * VALUES_PER_DETECTION;
    if (is_person(row, threshold) && row_to_box(row, &info, image, &boxes[count])) count++;
  }
  box_nms(boxes, count, nms_iou, &count);
  *boxes_out = boxes;
  *count_out = count;
  return CPOSE_OK;
}
