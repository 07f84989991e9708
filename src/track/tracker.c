/*
 * The tracker: stable person ids through a video (cpose_tracker_* in cpose.h).
 *
 * One update is one frame:
 *   1. every track's Kalman filter (kalman.c) moves one frame ahead;
 *   2. the persons are matched to the tracks in two stages, DeepSORT's matching cascade cut to two levels
 *      as ByteTrack cuts it: the confirmed tracks matched in the previous frame, the likeliest to go on,
 *      pick first; the lost and tentative tracks then share the persons left. Each stage is one optimal
 *      assignment (hungarian.c) on the cost below, pairs above max_cost excluded;
 *   3. a matched track takes its person's box (the Kalman update), pose, box score and colours and, once
 *      matched confirm_frames times in a row, is confirmed and gets the next id. An unmatched tentative
 *      track dies; an unmatched confirmed one is lost, coasts on its filter with its velocity damped, can
 *      still be matched (re-identified), and dies after max_lost_frames frames. Persons left over start
 *      tentative tracks, confirmed at once in the first frame (they are the scene at the start).
 *
 * The cost of a track and a person is the weighted sum of three distances, each in [0, 1]:
 *   iou_weight:        1 - IoU of the track's predicted box and the person's box, both grown by the gate;
 *   oks_weight:        1 - OKS of the track's last pose, moved with its predicted box, and the person's;
 *   appearance_weight: the Hellinger distance of the track's and the person's torso colour histograms.
 * A term that cannot be computed (no keypoint seen in both poses, no image) drops out and its weight goes to
 * the others in proportion, so a cost keeps its scale against max_cost.
 *
 * The gate. Both boxes are grown by the spread the filter expects of the next measured center (C-BIoU's
 * buffered IoU, Yang et al. 2023, with the buffer taken from the filter instead of a constant). For a track
 * matched in the last frame that is about a tenth of the box's size; for a lost one it widens with every
 * frame, so the IoU forgives more as the track's position becomes a guess, while the OKS (scaled by the
 * predicted box's own area) and the colours keep their strictness and weigh more in the decision.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "cpose.h"
#include "track/track.h"

/* Per frame, the velocity of a lost track is multiplied by this (and what it loses goes to its variance,
 * see kalman_damp): a hidden person may walk on or stop, and a velocity measured on jittery boxes should not
 * carry a guess ever further. After 7 frames half of it is left, and the drift stops after about 10 frames'
 * worth of it. The size velocities too, or boxes would shrink to nothing. Measured on synthetic walkers
 * (3 to 15 pixels a frame, boxes 80 wide): 0.9 re-identifies those that walk on and those that stop about
 * equally well; 0.95 and 1 (no damping) keep the walkers and lose most of those that stop. */
#define LOST_VELOCITY_DAMPING 0.9
/* A track's colours are a moving average: each match adds 10% of the new histogram (StrongSORT's 0.9). */
#define APPEARANCE_MEMORY 0.9f
/* Caps that keep a frame's cost matrix within 4096 x 4096 floats (64 MiB). Beyond TRACK_MAX_TRACKS live
 * tracks, leftover persons start none until some die. */
#define TRACK_MAX_PERSONS 4096
#define TRACK_MAX_TRACKS 4096
/* The gate grows by at most this many box sizes on each side, which a track standing still reaches after
 * about 40 lost frames (beyond the default max_lost_frames): any wider, and the grown IoU of a track lost
 * for long would be high with anyone in the frame. */
#define TRACK_MAX_GATE 1.0f
/* Boxes beyond this many pixels from the origin, or larger, are not images' and take no part. */
#define TRACK_MAX_COORD 1e8f

/* COCO-17 OKS sigmas (pycocotools), per keypoint in COCO order. */
static const float coco_sigmas[COCO_KEYPOINTS] = {.026f, .025f, .025f, .035f, .035f, .079f,
                                                  .079f, .072f, .072f, .062f, .062f, .107f,
                                                  .107f, .087f, .087f, .089f, .089f};

typedef struct track {
  int id; /* 0 while tentative */
  bool confirmed;
  int hits;    /* frames matched while tentative (a tentative track is never unmatched: it dies) */
  int lost;    /* frames since the last match: 0 when matched in the last update */
  float box_score; /* the last matched person's box score: what a predicted box stands for */
  kalman_box kalman;
  /* Set for the current frame before matching: */
  cpose_box predicted;  /* the filter's box */
  float gate_x, gate_y; /* how much boxes grow for the IoU: kalman_center_spread, capped */
  int person;           /* the matched person, or -1 */
  /* The last pose seen (COCO-17), and the filter's box right after it: the pose moves with that box. */
  bool has_pose;
  cpose_box pose_box;
  cpose_keypoint pose[COCO_KEYPOINTS];
  bool has_appearance;
  float appearance[APPEARANCE_BINS]; /* moving average of the torso histograms */
} track;

struct cpose_tracker {
  cpose_tracker_params params;
  track *tracks; /* (track_count) live tracks, oldest first, room for track_capacity */
  size_t track_count, track_capacity;
  int next_id;
  bool started; /* an update has run: new tracks are no longer the opening scene */
};

/* One person of the frame as the matcher sees it. */
typedef struct observation {
  bool valid;          /* a finite box of positive size: takes part in matching */
  bool has_pose;       /* at least 17 keypoints (COCO-17 order) */
  bool has_appearance; /* an image was given, the appearance cue is on and the torso lies in the image */
  int track;           /* the matched (or started) track, or -1 */
  cpose_box box;
  float appearance[APPEARANCE_BINS];
} observation;

/* One update's scratch memory, all of it taken before anything changes, so that a failed allocation
 * leaves the tracker as it was. */
typedef struct frame_scratch {
  observation *obs; /* (persons) */
  float *cost;      /* (tracks, persons) row-major: one stage's cost matrix, rows x cols of it used */
  int *rows;        /* (tracks) the stage's tracks */
  int *row_match;   /* (tracks) the column matched to each row, or -1 */
  int *cols;        /* (persons) the stage's persons */
  void *hungarian;  /* hungarian_scratch_size(tracks, persons) bytes */
} frame_scratch;

cpose_tracker_params cpose_tracker_params_default(void) {
  /* Weights 0.5 / 0.5: box overlap and pose agree on an easy frame, and each covers the other's weak spot
   * (the overlapping boxes of two people crossing; poses missing or mis-estimated). max_cost 0.8: without a
   * pose a pair needs a (grown) IoU above 0.2, with one e.g. IoU 0.5 and OKS 0.1 or IoU 0.2 and OKS 0.4.
   * A person walking at 10 fps moves about a fifth of their box width per frame, which the prediction
   * mostly absorbs, so matched pairs cost far less (synthetic walkers at 3 to 15 pixels a frame, boxes 80
   * wide, box jitter up to 6 pixels: mean 0.11, 97% below 0.3). Measured on the labelled Bonn PoseTrack
   * video (scripts/track-eval.sh, default pipeline): the torso colours at weight 0.3 and min_score 0.1 (the
   * person score, box x mean keypoint confidence: a person half out of the frame scores about 0.1) raise
   * MOTA from 0.707 to 0.756 and keypoint AP from 0.712 to 0.737; weight 0.5 and max_cost 0.9 change
   * nothing there, confirm_frames 2 lowers MOTA to 0.726 (more false positives). */
  cpose_tracker_params p = {
      .confirm_frames = 3,
      .max_lost_frames = 30,
      .min_score = 0.1f,
      .iou_weight = 0.5f,
      .oks_weight = 0.5f,
      .appearance_weight = 0.3f,
      .max_cost = 0.8f,
  };
  return p;
}

static cpose_status check_params(const cpose_tracker_params *p) {
  if (p->confirm_frames < 1 || p->max_lost_frames < 0) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT,
                      "cpose_tracker_create: confirm_frames %d (at least 1), max_lost_frames %d (at least 0)",
                      p->confirm_frames, p->max_lost_frames);
  }
  float sum = p->iou_weight + p->oks_weight + p->appearance_weight;
  if (!(p->iou_weight >= 0 && p->oks_weight >= 0 && p->appearance_weight >= 0 && sum > 0 && isfinite(sum))) {
    return cpose_fail(
        CPOSE_ERR_INVALID_ARGUMENT,
        "cpose_tracker_create: weights iou %g, oks %g, appearance %g (each finite and at least 0, "
        "not all 0)",
        p->iou_weight, p->oks_weight, p->appearance_weight);
  }
  if (!(p->max_cost >= 0 && isfinite(p->max_cost)) || isnan(p->min_score)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT,
                      "cpose_tracker_create: max_cost %g (finite, at least 0), min_score %g", p->max_cost,
                      p->min_score);
  }
  return CPOSE_OK;
}

cpose_status cpose_tracker_create(const cpose_tracker_params *params, cpose_tracker **tracker_out) {
  if (!params || !tracker_out)
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_tracker_create: NULL argument");
  cpose_status status = check_params(params);
  if (status != CPOSE_OK) return status;
  cpose_tracker *t = cpose_calloc(1, sizeof *t);
  if (!t) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "cpose_tracker_create: no memory for the tracker");
  t->params = *params;
  t->next_id = 1;
  *tracker_out = t;
  return CPOSE_OK;
}

void cpose_tracker_destroy(cpose_tracker *tracker) {
  if (!tracker) return;
  cpose_free(tracker->tracks);
  cpose_free(tracker);
}

/* --- The cost ------------------------------------------------------------------------------------------ */

static bool box_valid(const cpose_box *b) {
  return fabsf(b->x) <= TRACK_MAX_COORD && fabsf(b->y) <= TRACK_MAX_COORD && b->w > 0 && b->h > 0 &&
         b->w <= TRACK_MAX_COORD && b->h <= TRACK_MAX_COORD; /* false for NaN too */
}

/* The box the tracker follows: the extent of the person's usable keypoints (COCO-17), grown by
 * POSE_BOX_MARGIN of its size on each side, or the person's own box when fewer than POSE_BOX_MIN_KEYPOINTS
 * are usable (or when the person's own box is not valid: such a person takes no part). A box drawn from the pose does not depend on the box the pose was estimated in, which may be
 * a duplicate's odd box that pose NMS kept, or a predicted box on a frame without detection: the filter
 * follows where the person is. */
#define POSE_BOX_MIN_KEYPOINTS 6
#define POSE_BOX_MARGIN 0.1f

static cpose_box person_box(const cpose_person *p) {
  cpose_box box = {p->box[0], p->box[1], p->box[2], p->box[3], p->score};
  if (!box_valid(&box)) return box;
  float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  int usable = 0;
  for (int k = 0; p->keypoint_count >= COCO_KEYPOINTS && k < COCO_KEYPOINTS; k++) {
    const cpose_keypoint *kp = &p->keypoints[k];
    if (!track_keypoint_usable(kp)) continue;
    x0 = fminf(x0, kp->x), y0 = fminf(y0, kp->y), x1 = fmaxf(x1, kp->x), y1 = fmaxf(y1, kp->y);
    usable++;
  }
  if (usable < POSE_BOX_MIN_KEYPOINTS || !(x1 > x0 && y1 > y0)) return box;
  float mx = POSE_BOX_MARGIN * (x1 - x0), my = POSE_BOX_MARGIN * (y1 - y0);
  return (cpose_box){x0 - mx, y0 - my, x1 - x0 + 2 * mx, y1 - y0 + 2 * my, p->score};
}

/* IoU of `a` and `b`, each grown by gx to the left and right and gy above and below. */
static float grown_iou(const cpose_box *a, const cpose_box *b, float gx, float gy) {
  float overlap_w = fminf(a->x + a->w, b->x + b->w) - fmaxf(a->x, b->x) + 2 * gx;
  float overlap_h = fminf(a->y + a->h, b->y + b->h) - fmaxf(a->y, b->y) + 2 * gy;
  if (!(overlap_w > 0 && overlap_h > 0)) return 0.0f;
  float overlap = overlap_w * overlap_h;
  float area_a = (a->w + 2 * gx) * (a->h + 2 * gy), area_b = (b->w + 2 * gx) * (b->h + 2 * gy);
  return overlap / (area_a + area_b - overlap);
}

/* 1 - OKS between the track's last pose, moved from its pose box to its predicted box (shifted with the
 * center, scaled with the size), and the person's pose, over the keypoints usable in both; the scale s^2 of
 * COCO's exp(-d^2 / (2 s^2 (2 sigma)^2)) is the predicted box's area. -1 when no keypoint counts. */
static float pose_distance(const track *tr, const cpose_person *person) {
  const cpose_box *from = &tr->pose_box, *to = &tr->predicted;
  float scale_x = to->w / from->w, scale_y = to->h / from->h, area = to->w * to->h;
  float from_cx = from->x + 0.5f * from->w, from_cy = from->y + 0.5f * from->h;
  float to_cx = to->x + 0.5f * to->w, to_cy = to->y + 0.5f * to->h;
  float sum = 0.0f;
  int counted = 0;
  for (int k = 0; k < COCO_KEYPOINTS; k++) {
    const cpose_keypoint *a = &tr->pose[k], *b = &person->keypoints[k];
    if (!track_keypoint_usable(a) || !track_keypoint_usable(b)) continue;
    float dx = to_cx + (a->x - from_cx) * scale_x - b->x, dy = to_cy + (a->y - from_cy) * scale_y - b->y;
    float kappa = 2.0f * coco_sigmas[k];
    sum += expf(-(dx * dx + dy * dy) / (2.0f * area * kappa * kappa));
    counted++;
  }
  return counted ? 1.0f - sum / (float)counted : -1.0f;
}

/* Adds a term with `weight` and `distance` (negative: the term is unavailable and drops out). */
static void add_term(float weight, float distance, float *weighted_sum, float *weight_sum) {
  if (weight > 0 && distance >= 0) *weighted_sum += weight * distance, *weight_sum += weight;
}

static float pair_cost(const cpose_tracker_params *p, const track *tr, const cpose_person *person,
                       const observation *o) {
  float sum = 0.0f, weight = 0.0f;
  add_term(p->iou_weight, 1.0f - grown_iou(&tr->predicted, &o->box, tr->gate_x, tr->gate_y), &sum, &weight);
  if (tr->has_pose && o->has_pose) add_term(p->oks_weight, pose_distance(tr, person), &sum, &weight);
  if (tr->has_appearance && o->has_appearance) {
    add_term(p->appearance_weight, appearance_distance(tr->appearance, o->appearance), &sum, &weight);
  }
  if (weight == 0.0f) return INFINITY; /* nothing to judge the pair by: never matched */
  return sum / weight * (p->iou_weight + p->oks_weight + p->appearance_weight);
}

/* --- One frame ----------------------------------------------------------------------------------------- */

static void frame_free(frame_scratch *f) {
  cpose_free(f->obs), cpose_free(f->cost), cpose_free(f->rows), cpose_free(f->row_match), cpose_free(f->cols);
  cpose_free(f->hungarian);
}

/* Room for `count` more tracks (in the array that persists from frame to frame). */
static bool reserve_tracks(cpose_tracker *t, size_t count) {
  size_t need = t->track_count + count;
  if (need <= t->track_capacity) return true;
  size_t capacity = need > 2 * t->track_capacity ? need : 2 * t->track_capacity;
  track *grown = cpose_realloc(t->tracks, capacity * sizeof *grown);
  if (!grown) return false;
  t->tracks = grown, t->track_capacity = capacity;
  return true;
}

static cpose_status frame_alloc(cpose_tracker *t, size_t count, frame_scratch *f) {
  size_t tracks = t->track_count, births = TRACK_MAX_TRACKS - tracks;
  memset(f, 0, sizeof *f);
  f->obs = cpose_calloc(count, sizeof *f->obs);
  f->cost = cpose_calloc(tracks, count * sizeof *f->cost);
  f->rows = cpose_calloc(tracks, sizeof *f->rows);
  f->row_match = cpose_calloc(tracks, sizeof *f->row_match);
  f->cols = cpose_calloc(count, sizeof *f->cols);
  f->hungarian = cpose_malloc(hungarian_scratch_size(tracks, count));
  if (!f->obs || !f->cost || !f->rows || !f->row_match || !f->cols || !f->hungarian ||
      !reserve_tracks(t, count < births ? count : births)) {
    frame_free(f);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY,
                      "cpose_tracker_update: no memory for %zu persons and %zu tracks", count, tracks);
  }
  return CPOSE_OK;
}

static void observe(const cpose_tracker *t, const cpose_image *image, const cpose_person *persons,
                    size_t count, observation *obs) {
  bool colours = image && t->params.appearance_weight > 0;
  for (size_t j = 0; j < count; j++) {
    observation *o = &obs[j];
    o->track = -1;
    o->box = person_box(&persons[j]);
    o->valid = box_valid(&o->box);
    o->has_pose = o->valid && persons[j].keypoint_count >= COCO_KEYPOINTS;
    o->has_appearance =
        o->valid && colours && appearance_histogram(image, &o->box, &persons[j], o->appearance);
  }
}

static void predict_tracks(cpose_tracker *t) {
  for (size_t i = 0; i < t->track_count; i++) {
    track *tr = &t->tracks[i];
    kalman_predict(&tr->kalman);
    tr->predicted = kalman_box_mean(&tr->kalman);
    kalman_center_spread(&tr->kalman, &tr->gate_x, &tr->gate_y);
    tr->gate_x = fminf(tr->gate_x, TRACK_MAX_GATE * tr->predicted.w);
    tr->gate_y = fminf(tr->gate_y, TRACK_MAX_GATE * tr->predicted.h);
    tr->person = -1;
  }
}

typedef enum stage {
  STAGE_ACTIVE, /* confirmed tracks matched in the previous frame */
  STAGE_REST,   /* lost and tentative tracks */
} stage;

static bool in_stage(const track *tr, stage s) {
  bool active = tr->confirmed && tr->lost == 0;
  return s == STAGE_ACTIVE ? active : !active;
}

/* Assigns the stage's tracks to the persons not matched yet, optimally for the sum of the costs. */
static void match_stage(cpose_tracker *t, const cpose_person *persons, size_t count, frame_scratch *f,
                        stage s) {
  size_t rows = 0, cols = 0;
  for (size_t i = 0; i < t->track_count; i++) {
    if (in_stage(&t->tracks[i], s)) f->rows[rows++] = (int)i;
  }
  for (size_t j = 0; j < count; j++) {
    if (f->obs[j].valid && f->obs[j].track < 0) f->cols[cols++] = (int)j;
  }
  for (size_t r = 0; r < rows; r++) {
    for (size_t c = 0; c < cols; c++) {
      f->cost[r * cols + c] =
          pair_cost(&t->params, &t->tracks[f->rows[r]], &persons[f->cols[c]], &f->obs[f->cols[c]]);
    }
  }
  hungarian_solve(f->cost, rows, cols, t->params.max_cost, f->hungarian, f->row_match);
  for (size_t r = 0; r < rows; r++) {
    if (f->row_match[r] < 0) continue;
    int j = f->cols[f->row_match[r]];
    t->tracks[f->rows[r]].person = j;
    f->obs[j].track = f->rows[r];
  }
}

/* Gives the track the next id. Ids are never reused: once INT_MAX - 1 of them are taken (years of video),
 * new tracks stay tentative. */
static void confirm(cpose_tracker *t, track *tr) {
  if (t->next_id == INT_MAX) return;
  tr->confirmed = true;
  tr->id = t->next_id++;
}

/* Takes the matched person's box score, pose and colours (after the filter has taken the box). */
static void take_person(track *tr, const cpose_person *person, const observation *o) {
  tr->box_score = person->box_score;
  if (o->has_pose) {
    tr->has_pose = true;
    tr->pose_box = kalman_box_mean(&tr->kalman);
    memcpy(tr->pose, person->keypoints, sizeof tr->pose);
  }
  if (!o->has_appearance) return;
  for (int i = 0; i < APPEARANCE_BINS; i++) {
    tr->appearance[i] = tr->has_appearance ? APPEARANCE_MEMORY * tr->appearance[i] +
                                                 (1.0f - APPEARANCE_MEMORY) * o->appearance[i]
                                           : o->appearance[i];
  }
  tr->has_appearance = true;
}

static void track_hit(cpose_tracker *t, track *tr, const cpose_person *person, const observation *o) {
  kalman_update(&tr->kalman, &o->box);
  take_person(tr, person, o);
  tr->lost = 0;
  if (!tr->confirmed && ++tr->hits >= t->params.confirm_frames) confirm(t, tr);
}

static void track_miss(track *tr) {
  tr->lost++;
  kalman_damp(&tr->kalman, LOST_VELOCITY_DAMPING);
}

static void track_start(cpose_tracker *t, track *tr, const cpose_person *person, const observation *o) {
  memset(tr, 0, sizeof *tr);
  kalman_init(&tr->kalman, &o->box);
  take_person(tr, person, o);
  tr->hits = 1;
  if (!t->started || t->params.confirm_frames <= 1) confirm(t, tr);
}

static void update_tracks(cpose_tracker *t, const cpose_person *persons, const observation *obs) {
  for (size_t i = 0; i < t->track_count; i++) {
    track *tr = &t->tracks[i];
    if (tr->person >= 0) {
      track_hit(t, tr, &persons[tr->person], &obs[tr->person]);
    } else {
      track_miss(tr);
    }
  }
}

/* Starts a track for each valid person left unmatched that scores at least min_score. */
static void start_tracks(cpose_tracker *t, const cpose_person *persons, size_t count, observation *obs) {
  for (size_t j = 0; j < count && t->track_count < TRACK_MAX_TRACKS; j++) {
    if (!obs[j].valid || obs[j].track >= 0 || !(persons[j].score >= t->params.min_score)) continue;
    obs[j].track = (int)t->track_count;
    track_start(t, &t->tracks[t->track_count++], &persons[j], &obs[j]);
  }
}

static bool track_dead(const cpose_tracker *t, const track *tr) {
  return tr->lost > 0 && (!tr->confirmed || tr->lost >= t->params.max_lost_frames);
}

static void remove_dead_tracks(cpose_tracker *t) {
  size_t kept = 0;
  for (size_t i = 0; i < t->track_count; i++) {
    if (!track_dead(t, &t->tracks[i])) t->tracks[kept++] = t->tracks[i];
  }
  t->track_count = kept;
}

cpose_status cpose_tracker_update(cpose_tracker *tracker, const cpose_image *image, cpose_person *persons,
                                  size_t count) {
  if (!tracker || (!persons && count))
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_tracker_update: NULL argument");
  if (image && (!image->rgb || image->width <= 0 || image->height <= 0)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_tracker_update: image of %d x %d pixels%s",
                      image->width, image->height, image->rgb ? "" : " without pixels");
  }
  if (count > TRACK_MAX_PERSONS) {
    return cpose_fail(CPOSE_ERR_LIMIT, "cpose_tracker_update: %zu persons (at most %d)", count,
                      TRACK_MAX_PERSONS);
  }
  frame_scratch f;
  cpose_status status = frame_alloc(tracker, count, &f);
  if (status != CPOSE_OK) return status;
  observe(tracker, image, persons, count, f.obs);
  predict_tracks(tracker);
  match_stage(tracker, persons, count, &f, STAGE_ACTIVE);
  match_stage(tracker, persons, count, &f, STAGE_REST);
  update_tracks(tracker, persons, f.obs);
  start_tracks(tracker, persons, count, f.obs);
  for (size_t j = 0; j < count; j++)
    persons[j].track_id = f.obs[j].track >= 0 ? tracker->tracks[f.obs[j].track].id : 0;
  remove_dead_tracks(tracker);
  tracker->started = true;
  frame_free(&f);
  return CPOSE_OK;
}

/* Writes the boxes of the qualifying tracks, oldest track first, up to `capacity` of them, and returns how
 * many it wrote (so a return equal to `capacity` may mean that some did not fit). */
size_t cpose_tracker_predict(const cpose_tracker *tracker, int max_age, cpose_box *boxes, size_t capacity) {
  size_t written = 0;
  if (!tracker || !boxes) return 0;
  for (size_t i = 0; i < tracker->track_count && written < capacity; i++) {
    const track *tr = &tracker->tracks[i];
    if (tr->lost > max_age) continue; /* tentative tracks too: they must be followed to be confirmed */
    kalman_box next = tr->kalman; /* a copy: predicting leaves the tracker as it is */
    kalman_predict(&next);
    boxes[written] = kalman_box_mean(&next);
    boxes[written++].score = tr->box_score;
  }
  return written;
}
