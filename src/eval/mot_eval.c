/*
 * CLEAR MOT tracking metrics (Bernardin and Stiefelhagen, 2008) on poses, counted as py-motmetrics'
 * MOTAccumulator does, with OKS as the similarity instead of IoU.
 *
 * Frames are the ground truth's images in ascending id order. In each frame the ground-truth people that
 * count (not crowd, at least one labelled keypoint: eval_gt.ignore is false) are matched to the frame's
 * results; a pair is admissible when both are of one category and their OKS (eval_oks: the labelled joints,
 * the annotation's 'area' as the scale) is above the threshold. As motmetrics' update():
 *   1. a ground-truth track keeps the result track of its latest match (even one several frames back, after
 *      misses) when a result of that track is in this frame, still free, and the pair is admissible; with
 *      several results of that track in the frame, the first in file order is the one tried;
 *   2. the rest are paired by the Hungarian method: first as many admissible pairs as possible, then the
 *      least total 1 - OKS among those (motmetrics gives inadmissible pairs one large cost, which amounts to
 *      that, then drops them from the solution);
 *   3. a pair made in step 2 whose ground-truth track was last matched to another result track is an id
 *      switch (however many frames ago that match was); the switch still counts as a match;
 *   4. ground-truth people left over are misses (FN), results left over false positives (FP).
 * Per ground-truth track: a fragmentation is each run of misses between two of its matches (frames where
 * the track is not annotated do not count either way); mostly tracked is matched in >= 80% of the frames it
 * is annotated in, mostly lost in < 20% (motmetrics' mostly_tracked and mostly_lost).
 * MOTA = 1 - (FN + FP + IDSW) / gt_count (negative when the errors outnumber the people; -1 when no ground
 * truth counts, as the COCO stats' "-1 where no ground truth"); MOTP = mean OKS of the matches (0 with none).
 * Choices where motmetrics has nothing to say:
 *   - ignored ground truth (crowd regions, people without labelled keypoints) is neither counted nor
 *     matched: a result near one is a false positive unless it matches a person that counts;
 *   - results of a category not in the ground truth take no part (as in cpose_eval_coco); every other result
 *     counts, including those of ground-truth images without people;
 *   - params.max_dets does not apply: a tracker's every output is a claim about the scene;
 *   - track ids are per category: (category, id) names a track, on both sides. Two results of one track in
 *     one frame are allowed (each is a result); two ground-truth people of one track in one frame are an
 *     error, since the track's history would be ambiguous.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/assignment.h"
#include "core/error.h"
#include "eval/eval.h"

#define NONE SIZE_MAX      /* no track, no match */
#define MOSTLY_TRACKED 0.8 /* motmetrics' mostly_tracked: ratio >= 0.8 */
#define MOSTLY_LOST 0.2    /* motmetrics' mostly_lost: ratio < 0.2 */

/* --- Tracks -------------------------------------------------------------------------------------------- */

/* A track's name: its category and id. */
typedef struct track_key {
  size_t category;
  int64_t track;
  size_t entry; /* index into eval_data.gts or dts */
} track_key;

static int compare_track_keys(const void *a, const void *b) {
  const track_key *x = a, *y = b;
  if (x->category != y->category) return x->category < y->category ? -1 : 1;
  if (x->track != y->track) return x->track < y->track ? -1 : 1;
  return (x->entry > y->entry) - (x->entry < y->entry);
}

/* Numbers the distinct tracks of `keys` (count) 0, 1, ...: numbers[key.entry] = its track's number.
 * Sorts `keys`. */
static size_t number_tracks(track_key *keys, size_t count, size_t *numbers) {
  if (count) qsort(keys, count, sizeof *keys, compare_track_keys);
  size_t distinct = 0;
  for (size_t i = 0; i < count; i++) {
    if (i && (keys[i].category != keys[i - 1].category || keys[i].track != keys[i - 1].track)) distinct++;
    numbers[keys[i].entry] = distinct;
  }
  return count ? distinct + 1 : 0;
}

/* What one ground-truth track has been through so far. */
typedef struct gt_track_state {
  size_t last_match;     /* the result track of its latest match; NONE before the first */
  size_t last_frame;     /* the latest frame it is annotated in, + 1 (0: none yet) */
  size_t last_entry;     /* its annotation in that frame (index into eval_data.gts) */
  size_t frames;         /* frames it is annotated in */
  size_t matched_frames; /* of those, frames it was matched in */
  bool interrupted;      /* missed since a match: a fragmentation if it is matched again */
} gt_track_state;

/* --- Context ------------------------------------------------------------------------------------------- */

typedef struct mot_context {
  const eval_data *data;
  const double *vars; /* (k): (2 sigma)^2 */
  double threshold;   /* a pair is admissible when its OKS is above this */

  size_t *gt_track; /* (gt_count): each counted ground truth's track number; NONE for ignored ones */
  size_t *dt_track; /* (dt_count): each result's track number */
  size_t gt_track_count, dt_track_count;
  gt_track_state *gt_tracks; /* (gt_track_count) */
  bool *dt_track_matched;    /* (dt_track_count): matched in some frame */

  size_t *frame_gt_start;  /* (image_count + 1): frame f's counted ground truths are in */
  size_t *frame_gts;       /* frame_gts[frame_gt_start[f] .. frame_gt_start[f + 1]), file order */
  size_t *frame_dt_start;  /* (image_count + 1): likewise for results */
  size_t *frame_dts;       /* (dt_count) */
  size_t max_gts, max_dts; /* the most in one frame */

  /* Per frame, for G ground truths and D results of that frame (positions within the frame): */
  double *oks;        /* (max_gts, max_dts): OKS of position g with position d at [g * D + d], or -1 */
  size_t *gt_matched; /* (max_gts): the result position each is matched to, or NONE */
  bool *dt_taken;     /* (max_dts) */
  size_t *rows;       /* (max_gts): positions of ground truths left for the Hungarian method */
  size_t *cols;       /* (max_dts): positions of results left for it */
  int *row_match;     /* (max_gts): the index into cols matched to each of rows, or -1 */
  void *assignment;   /* cpose_assignment_scratch_size(max_gts, max_dts) bytes */

  size_t gt_counted, matches, misses, false_positives, id_switches, fragmentations;
  double oks_sum; /* over the matches */
} mot_context;

static cpose_status no_memory(const char *what, size_t count) {
  return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "tracking evaluation: no memory for %zu %s", count, what);
}

/* Frame lists (a counting sort): entry i belongs to frame images[i] (NONE: to none); afterwards frame f's
 * entries are list[start[f] .. start[f + 1]) in file order. start has image_count + 1 places. */
static void group_by_frame(size_t image_count, size_t count, const size_t *images, size_t *start,
                           size_t *list) {
  memset(start, 0, (image_count + 1) * sizeof *start);
  for (size_t i = 0; i < count; i++) {
    if (images[i] != NONE) start[images[i] + 1]++;
  }
  for (size_t f = 0; f < image_count; f++) start[f + 1] += start[f];
  for (size_t i = 0; i < count; i++) {
    if (images[i] != NONE) list[start[images[i]]++] = i;
  }
  for (size_t f = image_count; f > 0; f--) start[f] = start[f - 1];
  start[0] = 0;
}

static size_t most_per_frame(const size_t *start, size_t image_count) {
  size_t most = 0;
  for (size_t f = 0; f < image_count; f++) {
    if (start[f + 1] - start[f] > most) most = start[f + 1] - start[f];
  }
  return most;
}

/* Numbers the tracks of both sides and lists each frame's entries. */
static cpose_status prepare_tracks(mot_context *ctx) {
  const eval_data *data = ctx->data;
  size_t gn = data->gt_count ? data->gt_count : 1, dn = data->dt_count ? data->dt_count : 1;
  size_t in = data->image_count + 1;
  track_key *keys = cpose_malloc((gn > dn ? gn : dn) * sizeof *keys);
  size_t *images = cpose_malloc((gn > dn ? gn : dn) * sizeof *images);
  ctx->gt_track = cpose_malloc(gn * sizeof *ctx->gt_track);
  ctx->dt_track = cpose_malloc(dn * sizeof *ctx->dt_track);
  ctx->frame_gt_start = cpose_malloc(in * sizeof *ctx->frame_gt_start);
  ctx->frame_gts = cpose_malloc(gn * sizeof *ctx->frame_gts);
  ctx->frame_dt_start = cpose_malloc(in * sizeof *ctx->frame_dt_start);
  ctx->frame_dts = cpose_malloc(dn * sizeof *ctx->frame_dts);
  cpose_status status = CPOSE_OK;
  if (!keys || !images || !ctx->gt_track || !ctx->dt_track || !ctx->frame_gt_start || !ctx->frame_gts ||
      !ctx->frame_dt_start || !ctx->frame_dts) {
    status = no_memory("ground truths and results", data->gt_count + data->dt_count);
    goto done;
  }
  /* Ground truth: only the people that count have a track. */
  size_t n = 0;
  for (size_t i = 0; i < data->gt_count; i++) {
    const eval_gt *gt = &data->gts[i];
    ctx->gt_track[i] = NONE;
    images[i] = gt->ignore ? NONE : gt->image;
    if (!gt->ignore) keys[n++] = (track_key){gt->category, gt->track, i};
  }
  ctx->gt_counted = n;
  ctx->gt_track_count = number_tracks(keys, n, ctx->gt_track);
  group_by_frame(data->image_count, data->gt_count, images, ctx->frame_gt_start, ctx->frame_gts);
  for (size_t i = 0; i < data->dt_count; i++) {
    keys[i] = (track_key){data->dts[i].category, data->dts[i].track, i};
    images[i] = data->dts[i].image;
  }
  ctx->dt_track_count = number_tracks(keys, data->dt_count, ctx->dt_track);
  group_by_frame(data->image_count, data->dt_count, images, ctx->frame_dt_start, ctx->frame_dts);
  ctx->max_gts = most_per_frame(ctx->frame_gt_start, data->image_count);
  ctx->max_dts = most_per_frame(ctx->frame_dt_start, data->image_count);

  ctx->gt_tracks = cpose_calloc(ctx->gt_track_count ? ctx->gt_track_count : 1, sizeof *ctx->gt_tracks);
  ctx->dt_track_matched = cpose_calloc(ctx->dt_track_count ? ctx->dt_track_count : 1, sizeof(bool));
  if (!ctx->gt_tracks || !ctx->dt_track_matched) {
    status = no_memory("tracks", ctx->gt_track_count + ctx->dt_track_count);
    goto done;
  }
  for (size_t t = 0; t < ctx->gt_track_count; t++) ctx->gt_tracks[t].last_match = NONE;
done:
  cpose_free(keys);
  cpose_free(images);
  return status;
}

/* Scratch for the largest frame. */
static cpose_status prepare_scratch(mot_context *ctx) {
  size_t g = ctx->max_gts ? ctx->max_gts : 1, d = ctx->max_dts ? ctx->max_dts : 1;
  if (g > INT_MAX || d > INT_MAX || g > SIZE_MAX / sizeof(double) / d) { /* INT_MAX: the solver's limit */
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY,
                      "tracking evaluation: a frame of %zu people and %zu results is too large", g, d);
  }
  ctx->oks = cpose_malloc(g * d * sizeof *ctx->oks);
  ctx->gt_matched = cpose_malloc(g * sizeof *ctx->gt_matched);
  ctx->dt_taken = cpose_malloc(d * sizeof *ctx->dt_taken);
  ctx->rows = cpose_malloc(g * sizeof *ctx->rows);
  ctx->cols = cpose_malloc(d * sizeof *ctx->cols);
  ctx->row_match = cpose_malloc(g * sizeof *ctx->row_match);
  ctx->assignment = cpose_malloc(cpose_assignment_scratch_size(g, d));
  if (!ctx->oks || !ctx->gt_matched || !ctx->dt_taken || !ctx->rows || !ctx->cols || !ctx->row_match ||
      !ctx->assignment) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY,
                      "tracking evaluation: no memory for a frame of %zu people and %zu results", g, d);
  }
  return CPOSE_OK;
}

static void context_free(mot_context *ctx) {
  cpose_free(ctx->gt_track);
  cpose_free(ctx->dt_track);
  cpose_free(ctx->gt_tracks);
  cpose_free(ctx->dt_track_matched);
  cpose_free(ctx->frame_gt_start);
  cpose_free(ctx->frame_gts);
  cpose_free(ctx->frame_dt_start);
  cpose_free(ctx->frame_dts);
  cpose_free(ctx->oks);
  cpose_free(ctx->gt_matched);
  cpose_free(ctx->dt_taken);
  cpose_free(ctx->rows);
  cpose_free(ctx->cols);
  cpose_free(ctx->row_match);
  cpose_free(ctx->assignment);
}

/* --- One frame ----------------------------------------------------------------------------------------- */

/* Records the match of ground-truth position g with result position d (step 1 or 2). */
static void record_match(mot_context *ctx, const size_t *gts, const size_t *dts, size_t D, size_t g,
                         size_t d) {
  gt_track_state *track = &ctx->gt_tracks[ctx->gt_track[gts[g]]];
  size_t dt_track = ctx->dt_track[dts[d]];
  if (track->last_match != NONE && track->last_match != dt_track) ctx->id_switches++;
  track->last_match = dt_track;
  ctx->dt_track_matched[dt_track] = true;
  ctx->gt_matched[g] = d;
  ctx->dt_taken[d] = true;
  ctx->matches++;
  ctx->oks_sum += ctx->oks[g * D + d];
}

/* Step 2's cost matrix, read where it lies: row r, column c is ground truth rows[r] with result cols[c]. */
typedef struct rest_costs {
  const mot_context *ctx;
  size_t D;     /* results in the frame: the row stride of ctx->oks */
  double large; /* the cost of an inadmissible pair */
} rest_costs;

static double rest_cost(const void *p, size_t r, size_t c) {
  const rest_costs *rc = p;
  double oks = rc->ctx->oks[rc->ctx->rows[r] * rc->D + rc->ctx->cols[c]];
  return oks > rc->ctx->threshold ? 1 - oks : rc->large;
}

/* Step 2: the Hungarian method on the pairs left, as motmetrics' linear_sum_assignment with its
 * add_expensive_edges: an inadmissible pair costs more than any solution of admissible pairs only, so the
 * most admissible pairs are made, and among those the least total 1 - OKS. The matches are recorded in
 * ground-truth order, as motmetrics lists them. */
static void match_rest(mot_context *ctx, const size_t *gts, size_t G, const size_t *dts, size_t D) {
  size_t nr = 0, nc = 0;
  for (size_t g = 0; g < G; g++) {
    if (ctx->gt_matched[g] == NONE) ctx->rows[nr++] = g;
  }
  for (size_t d = 0; d < D; d++) {
    if (!ctx->dt_taken[d]) ctx->cols[nc++] = d;
  }
  double worst = -1; /* the largest admissible cost, -1 when none */
  for (size_t r = 0; r < nr; r++) {
    for (size_t c = 0; c < nc; c++) {
      double oks = ctx->oks[ctx->rows[r] * D + ctx->cols[c]];
      if (oks > ctx->threshold && 1 - oks > worst) worst = 1 - oks;
    }
  }
  if (worst < 0) return; /* nothing admissible */
  /* motmetrics: c = max |cost| + 1, large = 2 min(n, m) c + 1. */
  size_t n = nr < nc ? nr : nc;
  rest_costs costs = {ctx, D, 2.0 * (double)n * (worst + 1) + 1};
  cpose_assignment_solve(nr, nc, rest_cost, &costs, ctx->assignment, ctx->row_match);
  for (size_t r = 0; r < nr; r++) {
    if (ctx->row_match[r] < 0) continue;
    size_t g = ctx->rows[r], d = ctx->cols[ctx->row_match[r]];
    if (ctx->oks[g * D + d] > ctx->threshold) record_match(ctx, gts, dts, D, g, d);
  }
}

static cpose_status evaluate_frame(mot_context *ctx, size_t frame) {
  const eval_data *data = ctx->data;
  size_t k = data->k;
  const size_t *gts = ctx->frame_gts + ctx->frame_gt_start[frame];
  const size_t *dts = ctx->frame_dts + ctx->frame_dt_start[frame];
  size_t G = ctx->frame_gt_start[frame + 1] - ctx->frame_gt_start[frame];
  size_t D = ctx->frame_dt_start[frame + 1] - ctx->frame_dt_start[frame];
  for (size_t g = 0; g < G; g++) {
    gt_track_state *track = &ctx->gt_tracks[ctx->gt_track[gts[g]]];
    if (track->last_frame == frame + 1) {
      const eval_gt *a = &data->gts[track->last_entry], *b = &data->gts[gts[g]];
      return cpose_fail(CPOSE_ERR_PARSE,
                        "ground truth: annotations with ids %lld and %lld (image_id %lld) have the same "
                        "track_id %lld",
                        (long long)a->id, (long long)b->id, (long long)data->image_ids[frame],
                        (long long)b->track);
    }
    track->last_frame = frame + 1;
    track->last_entry = gts[g];
    ctx->gt_matched[g] = NONE;
    for (size_t d = 0; d < D; d++) {
      const eval_gt *gt = &data->gts[gts[g]];
      const eval_dt *dt = &data->dts[dts[d]];
      ctx->oks[g * D + d] = gt->category != dt->category
                                ? -1
                                : eval_oks(data->gt_keypoints + gts[g] * 3 * k, gt->bbox, gt->area,
                                           data->dt_keypoints + dts[d] * 3 * k, ctx->vars, k);
    }
  }
  for (size_t d = 0; d < D; d++) ctx->dt_taken[d] = false;

  /* Step 1: keep each track's latest correspondence where it still holds. */
  for (size_t g = 0; g < G; g++) {
    size_t previous = ctx->gt_tracks[ctx->gt_track[gts[g]]].last_match;
    if (previous == NONE) continue;
    for (size_t d = 0; d < D; d++) {
      if (ctx->dt_taken[d] || ctx->dt_track[dts[d]] != previous) continue;
      if (ctx->oks[g * D + d] > ctx->threshold) record_match(ctx, gts, dts, D, g, d);
      break; /* motmetrics tries the first free result of that track only */
    }
  }
  match_rest(ctx, gts, G, dts, D);

  /* Steps 3 and 4: what is left over, and each track's run of matches. */
  for (size_t g = 0; g < G; g++) {
    gt_track_state *track = &ctx->gt_tracks[ctx->gt_track[gts[g]]];
    track->frames++;
    if (ctx->gt_matched[g] == NONE) {
      ctx->misses++;
      if (track->matched_frames) track->interrupted = true;
      continue;
    }
    if (track->interrupted) ctx->fragmentations++;
    track->interrupted = false;
    track->matched_frames++;
  }
  for (size_t d = 0; d < D; d++) ctx->false_positives += !ctx->dt_taken[d];
  return CPOSE_OK;
}

static void fill_result(const mot_context *ctx, cpose_mot_result *r) {
  memset(r, 0, sizeof *r);
  r->frames = ctx->data->image_count;
  r->gt_count = ctx->gt_counted;
  r->dt_count = ctx->data->dt_count;
  r->matches = ctx->matches;
  r->misses = ctx->misses;
  r->false_positives = ctx->false_positives;
  r->id_switches = ctx->id_switches;
  r->fragmentations = ctx->fragmentations;
  r->gt_tracks = ctx->gt_track_count;
  r->dt_tracks = ctx->dt_track_count;
  for (size_t t = 0; t < ctx->gt_track_count; t++) {
    const gt_track_state *track = &ctx->gt_tracks[t];
    double ratio = (double)track->matched_frames / (double)track->frames; /* frames >= 1 */
    r->mostly_tracked += ratio >= MOSTLY_TRACKED;
    r->mostly_lost += ratio < MOSTLY_LOST;
  }
  for (size_t t = 0; t < ctx->dt_track_count; t++) r->false_tracks += !ctx->dt_track_matched[t];
  double errors = (double)ctx->misses + (double)ctx->false_positives + (double)ctx->id_switches;
  r->mota = ctx->gt_counted ? 1 - errors / (double)ctx->gt_counted : -1;
  r->motp = ctx->matches ? ctx->oks_sum / (double)ctx->matches : 0;
}

/* --- Public -------------------------------------------------------------------------------------------- */

cpose_status cpose_eval_mot(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                            const cpose_eval_params *params, double oks_threshold,
                            cpose_mot_result *result_out) {
  cpose_eval_params defaults = cpose_eval_params_default();
  if (!params) params = &defaults; /* its max_dets does not apply here (see the top of this file) */
  if (!result_out) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_eval_mot: result_out is NULL");
  if (!(oks_threshold >= 0 && oks_threshold < 1)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_eval_mot: OKS threshold %g: need 0 <= t < 1",
                      oks_threshold);
  }
  eval_data data;
  mot_context ctx;
  memset(&data, 0, sizeof data);
  memset(&ctx, 0, sizeof ctx);
  double *vars = NULL;
  size_t k = 0;
  cpose_status status = eval_make_vars(params, &vars, &k);
  if (status == CPOSE_OK) status = eval_data_load_tracked(gt_json, gt_size, dt_json, dt_size, k, &data);
  if (status == CPOSE_OK) {
    ctx.data = &data;
    ctx.vars = vars;
    ctx.threshold = oks_threshold;
    status = prepare_tracks(&ctx);
  }
  if (status == CPOSE_OK) status = prepare_scratch(&ctx);
  for (size_t f = 0; f < data.image_count && status == CPOSE_OK; f++) status = evaluate_frame(&ctx, f);
  if (status == CPOSE_OK) fill_result(&ctx, result_out);
  context_free(&ctx);
  eval_data_free(&data);
  cpose_free(vars);
  return status;
}
