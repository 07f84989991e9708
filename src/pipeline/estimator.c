/*
 * The top-down estimator for still images: detector -> person boxes -> a crop per box -> pose net ->
 * decoded keypoints in image pixels -> parametric pose NMS -> persons, best first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "detect/detect.h"
#include "pose/pose.h"

#define ESTIMATOR_MAX_BOXES 1000 /* CenterNet proposes at most 100; a detections file may list more */

struct cpose_estimator {
  cpose_estimator_params params;
  cpose_threadpool *pool; /* shared by both sessions: they run one after the other */
  detector *detector;
  pose_net *pose;
  cpose_stage_times times;
};

cpose_estimator_params cpose_estimator_params_default(void) {
  cpose_estimator_params p;
  memset(&p, 0, sizeof p);
  p.models_dir = "models";
  p.pose_model = CPOSE_POSE_MODEL_THUNDER;
  p.decoder = CPOSE_DECODER_MOVENET;
  p.threads = 2;
  p.letterbox = 1;
  p.det_threshold = DETECT_DEFAULT_THRESHOLD;
  p.det_nms_iou = DETECT_DEFAULT_NMS_IOU;
  p.box_scale = 1.25f;
  p.pose_nms = 1;
  p.nms = cpose_pose_nms_params_default();
  /* Measured on coco-val-dev (README): ranking by box score x mean keypoint confidence, the flip test and
   * the refined crop each raise AP. */
  p.score = CPOSE_SCORE_BOX_X_MEAN;
  p.flip = 1;
  p.refine = 1;
  return p;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* models_dir/<name>/model.json into buf; a missing file is an error that names the set-up command. */
static cpose_status model_path(const char *dir, const char *name, char *buf, size_t cap) {
  int n = snprintf(buf, cap, "%s/%s/model.json", dir, name);
  if (n < 0 || (size_t)n >= cap) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "models folder path is too long");
  FILE *f = fopen(buf, "rb");
  if (!f) {
    return cpose_fail(CPOSE_ERR_NOT_FOUND, "model %s is missing: run 'bash scripts/setup.sh' to fetch the models",
                      buf);
  }
  fclose(f);
  return CPOSE_OK;
}

static cpose_status check_params(const cpose_estimator_params *p) {
  if (!p->models_dir) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "models_dir is NULL");
  if (p->threads < 1 || p->threads > 256) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "threads %d is not 1..256", p->threads);
  if (!(p->box_scale >= 1.0f && p->box_scale <= 4.0f)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "box_scale %g is not in [1, 4]", (double)p->box_scale);
  }
  if (!(p->det_threshold >= 0.0f && p->det_threshold <= 1.0f) || !(p->det_nms_iou > 0.0f && p->det_nms_iou <= 1.0f)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "detector threshold %g or NMS IoU %g is outside [0, 1]",
                      (double)p->det_threshold, (double)p->det_nms_iou);
  }
  if (p->score < CPOSE_SCORE_ALPHAPOSE || p->score > CPOSE_SCORE_BOX_X_CONFIDENT) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "unknown person score %d", (int)p->score);
  }
  if (p->decoder < CPOSE_DECODER_MOVENET || p->decoder > CPOSE_DECODER_INTEGRAL) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "unknown decoder %d", (int)p->decoder);
  }
  return CPOSE_OK;
}

cpose_status cpose_estimator_create(const cpose_estimator_params *params, cpose_estimator **estimator_out) {
  if (!params || !estimator_out) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_estimator_create: NULL argument");
  cpose_status status = check_params(params);
  if (status != CPOSE_OK) return status;
  cpose_estimator *e = cpose_calloc(1, sizeof *e);
  if (!e) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for an estimator");
  e->params = *params;
  e->params.models_dir = NULL; /* borrowed for this call only */
  char path[4096];
  const char *pose_name = params->pose_model == CPOSE_POSE_MODEL_LIGHTNING ? "movenet-lightning" : "movenet-thunder";
  if ((status = model_path(params->models_dir, "centernet", path, sizeof path)) != CPOSE_OK) goto error;
  if ((status = cpose_threadpool_create(params->threads, &e->pool)) != CPOSE_OK) goto error;
  if ((status = detector_create(path, e->pool, params->letterbox != 0, &e->detector)) != CPOSE_OK) goto error;
  if ((status = model_path(params->models_dir, pose_name, path, sizeof path)) != CPOSE_OK) goto error;
  if ((status = pose_net_create(path, e->pool, &e->pose)) != CPOSE_OK) goto error;
  *estimator_out = e;
  return CPOSE_OK;
error:
  cpose_estimator_destroy(e);
  return status;
}

void cpose_estimator_destroy(cpose_estimator *e) {
  if (!e) return;
  detector_destroy(e->detector);
  pose_net_destroy(e->pose);
  cpose_threadpool_destroy(e->pool);
  cpose_free(e);
}

void cpose_persons_free(cpose_person *persons) {
  cpose_free(persons);
}

void cpose_estimator_times(const cpose_estimator *e, cpose_stage_times *times_out) {
  *times_out = e->times;
}

/* The boxes to crop: the caller's (copied, so that NMS may reorder them) or the detector's. */
static cpose_status find_boxes(cpose_estimator *e, const cpose_image *image, const cpose_box *given, size_t given_count,
                               cpose_box **boxes_out, size_t *count_out) {
  if (!given) return detector_run(e->detector, image, e->params.det_threshold, e->params.det_nms_iou, boxes_out, count_out);
  if (given_count > ESTIMATOR_MAX_BOXES) {
    return cpose_fail(CPOSE_ERR_LIMIT, "%zu boxes for one image (at most %d)", given_count, ESTIMATOR_MAX_BOXES);
  }
  cpose_box *boxes = cpose_calloc(given_count + 1, sizeof *boxes);
  if (!boxes) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for %zu boxes", given_count);
  size_t n = 0;
  for (size_t i = 0; i < given_count; i++) {
    if (given[i].w > 0 && given[i].h > 0 && given[i].score >= e->params.det_threshold) boxes[n++] = given[i];
  }
  *boxes_out = boxes;
  *count_out = n;
  return CPOSE_OK;
}

/* The person's score by `mode`, from its keypoints and box score. */
static float person_score(const cpose_person *p, cpose_person_score mode) {
  float mean = 0.0f, best = 0.0f, confident = 0.0f;
  int confident_count = 0;
  for (int k = 0; k < p->keypoint_count; k++) {
    float s = p->keypoints[k].score;
    mean += s / (float)p->keypoint_count;
    best = s > best ? s : best;
    if (s > 0.2f) confident += s, confident_count++;
  }
  switch (mode) {
    case CPOSE_SCORE_BOX_X_MEAN: return p->box_score * mean;
    case CPOSE_SCORE_BOX_X_CONFIDENT: return confident_count ? p->box_score * confident / (float)confident_count : 0.0f;
    case CPOSE_SCORE_ALPHAPOSE: break;
  }
  return mean + p->box_score + 1.25f * best;
}

/* A person per box. */
static cpose_status estimate_poses(cpose_estimator *e, const cpose_image *image, const cpose_box *boxes, size_t count,
                                   cpose_person *persons) {
  pose_options options = {
      .decoder = e->params.decoder,
      .flip = e->params.flip != 0,
      .refine = e->params.refine != 0,
      .box_scale = e->params.box_scale,
  };
  memset(persons, 0, count * sizeof *persons);
  return pose_net_estimate_boxes(e->pose, image, boxes, count, &options, persons);
}

static int by_score_descending(const void *a, const void *b) {
  float x = ((const cpose_person *)a)->score, y = ((const cpose_person *)b)->score;
  return (x < y) - (x > y);
}

cpose_status cpose_estimator_run(cpose_estimator *e, const cpose_image *image, const cpose_box *boxes,
                                 size_t box_count, cpose_person **persons_out, size_t *count_out) {
  if (!e || !image || !persons_out || !count_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_estimator_run: NULL argument");
  }
  memset(&e->times, 0, sizeof e->times);
  cpose_box *found = NULL;
  size_t count = 0;
  double t0 = now_ms();
  cpose_status status = find_boxes(e, image, boxes, box_count, &found, &count);
  if (status != CPOSE_OK) return status;
  double t1 = now_ms();
  cpose_person *persons = cpose_calloc(count + 1, sizeof *persons);
  if (!persons) {
    cpose_free(found);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for %zu persons", count);
  }
  status = estimate_poses(e, image, found, count, persons);
  cpose_free(found);
  double t2 = now_ms();
  size_t estimated = count;
  if (status == CPOSE_OK && e->params.pose_nms) status = cpose_pose_nms(persons, count, &e->params.nms, &count);
  for (size_t i = 0; status == CPOSE_OK && i < count; i++) persons[i].score = person_score(&persons[i], e->params.score);
  if (status == CPOSE_OK) qsort(persons, count, sizeof *persons, by_score_descending);
  e->times = (cpose_stage_times){
      .detect_ms = t1 - t0, .pose_ms = t2 - t1, .nms_ms = now_ms() - t2, .box_count = estimated};
  if (status != CPOSE_OK) {
    cpose_free(persons);
    return status;
  }
  *persons_out = persons;
  *count_out = count;
  return CPOSE_OK;
}
