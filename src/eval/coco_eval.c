/*
 * COCO keypoint evaluation: pycocotools' COCOeval with iouType 'keypoints' and its default parameters, step
 * for step, so that the ten numbers agree with it.
 *
 * For each category, and each image in ascending id order that has ground truths or detections of it:
 *   1. the detections, best score first (a stable sort), at most max_dets of them;
 *   2. the OKS of every detection with every ground truth (eval_oks);
 *   3. for each area range (all, medium, large) and each OKS threshold 0.50:0.05:0.95, greedy matching:
 *      detections in score order each take the free ground truth with the best OKS at or above the
 *      threshold, preferring ground truths that count over ignored ones; a detection matched to an ignored
 *      ground truth is ignored, as is an unmatched one whose own area is outside the range.
 * Then, per category and area range, all images' detections together in score order give a precision /
 * recall curve per threshold; precision is made monotone from the right and read at 101 recall points.
 * AP is the mean of those over thresholds (and categories), AR the mean of the final recall.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "eval/eval.h"

#define THRESHOLD_COUNT 10 /* OKS thresholds 0.50:0.05:0.95 */
#define RECALL_COUNT 101   /* recall points 0:0.01:1 */
#define AREA_COUNT 3       /* all, medium, large */
#define EPS DBL_EPSILON    /* np.spacing(1) */

/* pycocotools' setKpParams: [0, 1e5^2], [32^2, 96^2], [96^2, 1e5^2], bounds included. */
static const double area_ranges[AREA_COUNT][2] = {{0, 1e10}, {32 * 32, 96 * 96}, {96 * 96, 1e10}};

/* Which values each summary number averages (pycocotools' _summarizeKps). */
typedef struct stat_def {
  bool precision; /* AP (precision at the recall points) or AR (final recall) */
  int threshold;  /* index into the thresholds, or -1 for all ten */
  int area;       /* index into area_ranges */
} stat_def;

static const stat_def stat_defs[CPOSE_EVAL_STAT_COUNT] = {
    {true, -1, 0},  {true, 0, 0},  {true, 5, 0},  {true, -1, 1},  {true, -1, 2},
    {false, -1, 0}, {false, 0, 0}, {false, 5, 0}, {false, -1, 1}, {false, -1, 2},
};

/* How one detection fared at one threshold. */
enum { OUTCOME_FALSE_POSITIVE = 0, OUTCOME_TRUE_POSITIVE = 1, OUTCOME_IGNORED = 2 };

/* Sorting key of a ground truth or detection. Ties keep file order, as np.argsort(kind='mergesort') does. */
typedef struct sort_key {
  size_t category, image;
  double score; /* detections: higher first; 0 for ground truths */
  size_t index; /* into eval_data.gts / dts, or a position in a pool */
} sort_key;

/* The detections of all images of one category for one area range, in the order pycocotools' accumulate
 * concatenates them (images by id, then best score first), and the ground truths that count. */
typedef struct eval_pool {
  size_t count, cap;
  double *scores;    /* (cap) */
  uint8_t *outcomes; /* (cap, THRESHOLD_COUNT) OUTCOME_* */
  size_t gt_counted; /* ground truths neither ignored nor outside the area range */
} eval_pool;

/* Scratch memory for one image, grown as needed. */
typedef struct eval_scratch {
  size_t gt_cap, oks_cap;
  double *oks; /* (oks_cap) >= (D, G): OKS of detection d with ground truth g (file order) at [d * G + g] */
  size_t *gt_order; /* (gt_cap): ground-truth positions, those that count first (a stable sort on ignore) */
  bool *gt_ignored; /* (gt_cap): per position in gt_order */
  bool *gt_taken;   /* (THRESHOLD_COUNT, gt_cap): per position in gt_order, matched at that threshold */
} eval_scratch;

typedef struct eval_context {
  const eval_data *data;
  const double *vars; /* (k): (2 sigma)^2 */
  size_t max_dets;
  double thresholds[THRESHOLD_COUNT];
  double recall_points[RECALL_COUNT];
  sort_key *gt_keys; /* (gt_count): by category, image, file order */
  sort_key *dt_keys; /* (dt_count): by category, image, best score first, file order */
  eval_scratch scratch;
  eval_pool pools[AREA_COUNT];
  double sums[CPOSE_EVAL_STAT_COUNT]; /* of the values each summary number averages */
  size_t counts[CPOSE_EVAL_STAT_COUNT];
  size_t dt_over_limit; /* detections beyond max_dets in their image */
} eval_context;

/* np.linspace(start, stop, num): i * step + start, the last one exactly stop. The thresholds must be the
 * same doubles as pycocotools' for OKS values right at a threshold to be decided the same way. */
static void linspace(double start, double stop, int num, double *out) {
  double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; i++) out[i] = (double)i * step + start;
  out[num - 1] = stop;
}

static int compare_keys(const void *a, const void *b) {
  const sort_key *x = a, *y = b;
  if (x->category != y->category) return x->category < y->category ? -1 : 1;
  if (x->image != y->image) return x->image < y->image ? -1 : 1;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

/* --- OKS ----------------------------------------------------------------------------------------------- */

/* How far x lies outside [lo, hi]: 0 inside. */
static double outside(double x, double lo, double hi) {
  return fmax(0, lo - x) + fmax(0, x - hi);
}

double eval_oks(const double *gt, const double gt_bbox[4], double gt_area, const double *dt,
                const double *vars, size_t k) {
  size_t labelled = 0;
  for (size_t i = 0; i < k; i++) labelled += gt[3 * i + 2] > 0;
  /* Without labelled keypoints, distances are taken to the box enlarged by its own size on every side. */
  double x0 = gt_bbox[0] - gt_bbox[2], x1 = gt_bbox[0] + gt_bbox[2] * 2;
  double y0 = gt_bbox[1] - gt_bbox[3], y1 = gt_bbox[1] + gt_bbox[3] * 2;
  double sum = 0;
  for (size_t i = 0; i < k; i++) {
    double dx, dy;
    if (labelled) {
      if (!(gt[3 * i + 2] > 0)) continue;
      dx = dt[3 * i] - gt[3 * i];
      dy = dt[3 * i + 1] - gt[3 * i + 1];
    } else {
      dx = outside(dt[3 * i], x0, x1);
      dy = outside(dt[3 * i + 1], y0, y1);
    }
    /* The operation order of pycocotools' e = (dx**2 + dy**2) / vars / (area + eps) / 2. */
    double e = (dx * dx + dy * dy) / vars[i] / (gt_area + EPS) / 2;
    sum += exp(-e);
  }
  return sum / (double)(labelled ? labelled : k);
}

/* --- Memory -------------------------------------------------------------------------------------------- */

static cpose_status grow(void **buffer, size_t count, size_t size) {
  void *bigger = count <= SIZE_MAX / size ? cpose_realloc(*buffer, count * size) : NULL;
  if (!bigger)
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "evaluation: no memory for %zu x %zu bytes", count, size);
  *buffer = bigger;
  return CPOSE_OK;
}

static cpose_status scratch_reserve(eval_scratch *s, size_t gts, size_t dts) {
  cpose_status status = CPOSE_OK;
  if (gts > s->gt_cap) {
    status = grow((void **)&s->gt_order, gts, sizeof *s->gt_order);
    if (status == CPOSE_OK) status = grow((void **)&s->gt_ignored, gts, sizeof *s->gt_ignored);
    if (status == CPOSE_OK) status = grow((void **)&s->gt_taken, gts, THRESHOLD_COUNT * sizeof *s->gt_taken);
    if (status != CPOSE_OK) return status;
    s->gt_cap = gts;
  }
  /* dts <= max_dets and gts <= the annotation cap, so the product does not overflow. */
  if (dts * gts > s->oks_cap) {
    status = grow((void **)&s->oks, dts * gts, sizeof *s->oks);
    if (status != CPOSE_OK) return status;
    s->oks_cap = dts * gts;
  }
  return CPOSE_OK;
}

static cpose_status pool_reserve(eval_pool *pool, size_t more) {
  if (pool->count + more <= pool->cap) return CPOSE_OK;
  size_t cap = pool->cap ? pool->cap : 64;
  while (cap < pool->count + more) cap *= 2;
  cpose_status status = grow((void **)&pool->scores, cap, sizeof *pool->scores);
  if (status == CPOSE_OK)
    status = grow((void **)&pool->outcomes, cap, THRESHOLD_COUNT * sizeof *pool->outcomes);
  if (status == CPOSE_OK) pool->cap = cap;
  return status;
}

/* --- One image ----------------------------------------------------------------------------------------- */

/* pycocotools' greedy choice for one detection at one threshold, over the ground truths in gt_order:
 * skip those already taken (crowd regions never are), stop at the first ignored one once a match that
 * counts is held, and keep the best OKS at or above the threshold (a later equal OKS wins).
 * Returns the position in gt_order, or -1. */
static long best_match(const eval_context *ctx, const size_t *gts, size_t gt_count, const double *oks_row,
                       const bool *taken, double threshold) {
  const eval_scratch *s = &ctx->scratch;
  double best = fmin(threshold, 1 - 1e-10);
  long m = -1;
  for (size_t j = 0; j < gt_count; j++) {
    size_t g = s->gt_order[j];
    if (taken[j] && !ctx->data->gts[gts[g]].crowd) continue;
    if (m > -1 && !s->gt_ignored[m] && s->gt_ignored[j]) break;
    if (oks_row[g] < best) continue;
    best = oks_row[g];
    m = (long)j;
  }
  return m;
}

static bool outside_range(double area, int range) {
  return area < area_ranges[range][0] || area > area_ranges[range][1];
}

/* Orders the image's ground truths for one area range: those that count first, each group in file order. */
static size_t order_gts(eval_context *ctx, const size_t *gts, size_t gt_count, int range) {
  eval_scratch *s = &ctx->scratch;
  size_t counted = 0, n = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t g = 0; g < gt_count; g++) {
      const eval_gt *gt = &ctx->data->gts[gts[g]];
      bool ignored = gt->ignore || outside_range(gt->area, range);
      if (ignored != (pass == 1)) continue;
      s->gt_order[n] = g;
      s->gt_ignored[n++] = ignored;
      counted += !ignored;
    }
  }
  return counted;
}

/* Matches the image's detections for one area range at every threshold and appends them to its pool. */
static cpose_status match_range(eval_context *ctx, const size_t *gts, size_t gt_count, const size_t *dts,
                                size_t dt_count, int range) {
  eval_scratch *s = &ctx->scratch;
  eval_pool *pool = &ctx->pools[range];
  cpose_status status = pool_reserve(pool, dt_count);
  if (status != CPOSE_OK) return status;
  pool->gt_counted += order_gts(ctx, gts, gt_count, range);
  if (gt_count) memset(s->gt_taken, 0, THRESHOLD_COUNT * gt_count * sizeof *s->gt_taken); /* else NULL */
  for (size_t d = 0; d < dt_count; d++) {
    const eval_dt *dt = &ctx->data->dts[dts[d]];
    size_t at = pool->count + d;
    pool->scores[at] = dt->score;
    for (int t = 0; t < THRESHOLD_COUNT; t++) {
      long m = -1;
      if (gt_count) { /* gt_taken is NULL without ground truth: no pointer arithmetic on it */
        bool *taken = s->gt_taken + (size_t)t * gt_count;
        m = best_match(ctx, gts, gt_count, s->oks + d * gt_count, taken, ctx->thresholds[t]);
        if (m >= 0) taken[m] = true;
      }
      /* pycocotools records a match as the ground truth's id and tests it for truth, so a ground truth
       * whose id is 0 reads as unmatched; kept so that the numbers agree. */
      bool hit = m >= 0 && ctx->data->gts[gts[s->gt_order[m]]].id != 0;
      bool ignored = (m >= 0 && s->gt_ignored[m]) || (!hit && outside_range(dt->area, range));
      pool->outcomes[at * THRESHOLD_COUNT + t] = ignored ? OUTCOME_IGNORED
                                                 : hit   ? OUTCOME_TRUE_POSITIVE
                                                         : OUTCOME_FALSE_POSITIVE;
    }
  }
  pool->count += dt_count;
  return CPOSE_OK;
}

/* gts: the image's ground truths (indices into data->gts, file order); dts: its detections, best first. */
static cpose_status evaluate_image(eval_context *ctx, const size_t *gts, size_t gt_count, const size_t *dts,
                                   size_t dt_count) {
  const eval_data *data = ctx->data;
  cpose_status status = scratch_reserve(&ctx->scratch, gt_count, dt_count);
  if (status != CPOSE_OK) return status;
  for (size_t d = 0; d < dt_count; d++) {
    for (size_t g = 0; g < gt_count; g++) {
      const eval_gt *gt = &data->gts[gts[g]];
      ctx->scratch.oks[d * gt_count + g] =
          eval_oks(data->gt_keypoints + gts[g] * 3 * data->k, gt->bbox, gt->area,
                   data->dt_keypoints + dts[d] * 3 * data->k, ctx->vars, data->k);
    }
  }
  for (int range = 0; range < AREA_COUNT && status == CPOSE_OK; range++) {
    status = match_range(ctx, gts, gt_count, dts, dt_count, range);
  }
  return status;
}

/* --- Accumulation -------------------------------------------------------------------------------------- */

/* Precision at the recall points and the final recall of one threshold's curve. `order`: the pool's
 * detections by score; rc, pr: (count) scratch. */
static void curve(const eval_pool *pool, const sort_key *order, int t, const double *recall_points,
                  double *rc, double *pr, double precision_out[RECALL_COUNT], double *recall_out) {
  size_t n = pool->count, tp = 0, fp = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t outcome = pool->outcomes[order[i].index * THRESHOLD_COUNT + t];
    tp += outcome == OUTCOME_TRUE_POSITIVE;
    fp += outcome == OUTCOME_FALSE_POSITIVE;
    rc[i] = (double)tp / (double)pool->gt_counted;
    pr[i] = (double)tp / ((double)fp + (double)tp + EPS);
  }
  *recall_out = n ? rc[n - 1] : 0;
  for (size_t i = n; i-- > 1;) {
    if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
  }
  /* np.searchsorted(rc, recall_points, side='left'); points beyond the curve's last recall get 0. */
  size_t j = 0;
  for (int r = 0; r < RECALL_COUNT; r++) {
    while (j < n && rc[j] < recall_points[r]) j++;
    precision_out[r] = j < n ? pr[j] : 0;
  }
}

/* Adds one (category, area range) pool's curves to the sums of the summary numbers that average them. */
static void add_to_stats(eval_context *ctx, int range, double precision[THRESHOLD_COUNT][RECALL_COUNT],
                         const double recall[THRESHOLD_COUNT]) {
  for (int s = 0; s < CPOSE_EVAL_STAT_COUNT; s++) {
    const stat_def *def = &stat_defs[s];
    if (def->area != range) continue;
    for (int t = 0; t < THRESHOLD_COUNT; t++) {
      if (def->threshold >= 0 && def->threshold != t) continue;
      if (!def->precision) {
        ctx->sums[s] += recall[t];
        ctx->counts[s]++;
        continue;
      }
      for (int r = 0; r < RECALL_COUNT; r++) ctx->sums[s] += precision[t][r];
      ctx->counts[s] += RECALL_COUNT;
    }
  }
}

/* pycocotools' accumulate for one category and area range. A pool without ground truths that count leaves
 * its values at -1, which the summary skips. */
static cpose_status accumulate(eval_context *ctx, int range) {
  const eval_pool *pool = &ctx->pools[range];
  if (pool->gt_counted == 0) return CPOSE_OK;
  size_t n = pool->count;
  sort_key *order = cpose_malloc((n ? n : 1) * sizeof *order);
  double *rc = cpose_malloc((n ? n : 1) * sizeof *rc);
  double *pr = cpose_malloc((n ? n : 1) * sizeof *pr);
  cpose_status status = CPOSE_OK;
  if (!order || !rc || !pr) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "evaluation: no memory to sort %zu detections", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) order[i] = (sort_key){0, 0, pool->scores[i], i};
  if (n) qsort(order, n, sizeof *order, compare_keys);
  double precision[THRESHOLD_COUNT][RECALL_COUNT], recall[THRESHOLD_COUNT];
  for (int t = 0; t < THRESHOLD_COUNT; t++) {
    curve(pool, order, t, ctx->recall_points, rc, pr, precision[t], &recall[t]);
  }
  add_to_stats(ctx, range, precision, recall);
done:
  cpose_free(order);
  cpose_free(rc);
  cpose_free(pr);
  return status;
}

/* --- Driver -------------------------------------------------------------------------------------------- */

/* Sorting keys of all ground truths (file order within an image) and detections (best first). */
static cpose_status sort_entries(eval_context *ctx) {
  const eval_data *data = ctx->data;
  ctx->gt_keys = cpose_malloc((data->gt_count ? data->gt_count : 1) * sizeof *ctx->gt_keys);
  ctx->dt_keys = cpose_malloc((data->dt_count ? data->dt_count : 1) * sizeof *ctx->dt_keys);
  if (!ctx->gt_keys || !ctx->dt_keys)
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "evaluation: no memory to sort");
  for (size_t i = 0; i < data->gt_count; i++) {
    ctx->gt_keys[i] = (sort_key){data->gts[i].category, data->gts[i].image, 0, i};
  }
  for (size_t i = 0; i < data->dt_count; i++) {
    ctx->dt_keys[i] = (sort_key){data->dts[i].category, data->dts[i].image, data->dts[i].score, i};
  }
  if (data->gt_count) qsort(ctx->gt_keys, data->gt_count, sizeof *ctx->gt_keys, compare_keys);
  if (data->dt_count) qsort(ctx->dt_keys, data->dt_count, sizeof *ctx->dt_keys, compare_keys);
  return CPOSE_OK;
}

/* The end of the run of keys [from, count) with the same category and image as keys[from]. */
static size_t group_end(const sort_key *keys, size_t from, size_t count) {
  size_t end = from;
  while (end < count && keys[end].category == keys[from].category && keys[end].image == keys[from].image)
    end++;
  return end;
}

/* Copies the `index` fields of keys[from, to) into out (scratch the caller owns). */
static void indices(const sort_key *keys, size_t from, size_t to, size_t *out) {
  for (size_t i = from; i < to; i++) out[i - from] = keys[i].index;
}

/* The next image (lowest index) with ground truths or detections of the category, given which have some. */
static size_t next_image(const eval_context *ctx, size_t gi, size_t di, bool has_gt, bool has_dt) {
  if (!has_dt) return ctx->gt_keys[gi].image;
  if (!has_gt) return ctx->dt_keys[di].image;
  size_t a = ctx->gt_keys[gi].image, b = ctx->dt_keys[di].image;
  return a < b ? a : b;
}

/* Evaluates every image of category c, in ascending image order; *gi and *di walk the sorted keys. */
static cpose_status evaluate_category(eval_context *ctx, size_t c, size_t *gi, size_t *di, size_t *gt_buf,
                                      size_t *dt_buf) {
  const eval_data *data = ctx->data;
  for (int range = 0; range < AREA_COUNT; range++) {
    ctx->pools[range].count = 0;
    ctx->pools[range].gt_counted = 0;
  }
  for (;;) {
    bool has_gt = *gi < data->gt_count && ctx->gt_keys[*gi].category == c;
    bool has_dt = *di < data->dt_count && ctx->dt_keys[*di].category == c;
    if (!has_gt && !has_dt) break;
    size_t image = next_image(ctx, *gi, *di, has_gt, has_dt);
    size_t g_end =
        has_gt && ctx->gt_keys[*gi].image == image ? group_end(ctx->gt_keys, *gi, data->gt_count) : *gi;
    size_t d_end =
        has_dt && ctx->dt_keys[*di].image == image ? group_end(ctx->dt_keys, *di, data->dt_count) : *di;
    size_t dt_count = d_end - *di;
    if (dt_count > ctx->max_dets) {
      ctx->dt_over_limit += dt_count - ctx->max_dets;
      dt_count = ctx->max_dets;
    }
    indices(ctx->gt_keys, *gi, g_end, gt_buf);
    indices(ctx->dt_keys, *di, *di + dt_count, dt_buf);
    cpose_status status = evaluate_image(ctx, gt_buf, g_end - *gi, dt_buf, dt_count);
    if (status != CPOSE_OK) return status;
    *gi = g_end;
    *di = d_end;
  }
  for (int range = 0; range < AREA_COUNT; range++) {
    cpose_status status = accumulate(ctx, range);
    if (status != CPOSE_OK) return status;
  }
  return CPOSE_OK;
}

static cpose_status evaluate_all(eval_context *ctx) {
  const eval_data *data = ctx->data;
  cpose_status status = sort_entries(ctx);
  size_t *gt_buf = cpose_malloc((data->gt_count ? data->gt_count : 1) * sizeof *gt_buf);
  size_t dt_most = ctx->max_dets < data->dt_count ? ctx->max_dets : data->dt_count; /* per image */
  size_t *dt_buf = cpose_malloc((dt_most ? dt_most : 1) * sizeof *dt_buf);
  if (status == CPOSE_OK && (!gt_buf || !dt_buf)) {
    status =
        cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "evaluation: no memory for %zu ground truths", data->gt_count);
  }
  size_t gi = 0, di = 0;
  for (size_t c = 0; c < data->category_count && status == CPOSE_OK; c++) {
    status = evaluate_category(ctx, c, &gi, &di, gt_buf, dt_buf);
  }
  cpose_free(gt_buf);
  cpose_free(dt_buf);
  return status;
}

static void fill_result(const eval_context *ctx, cpose_eval_result *result) {
  const eval_data *data = ctx->data;
  memset(result, 0, sizeof *result);
  for (int s = 0; s < CPOSE_EVAL_STAT_COUNT; s++) {
    result->stats[s] = ctx->counts[s] ? ctx->sums[s] / (double)ctx->counts[s] : -1;
  }
  result->image_count = data->image_count;
  for (size_t i = 0; i < data->gt_count; i++) {
    if (data->gts[i].ignore)
      result->gt_ignored_count++;
    else
      result->gt_count++;
  }
  result->dt_count = data->dt_count + data->dt_skipped;
  result->dt_unused_count = data->dt_skipped + ctx->dt_over_limit;
}

static void context_free(eval_context *ctx) {
  for (int range = 0; range < AREA_COUNT; range++) {
    cpose_free(ctx->pools[range].scores);
    cpose_free(ctx->pools[range].outcomes);
  }
  cpose_free(ctx->scratch.oks);
  cpose_free(ctx->scratch.gt_order);
  cpose_free(ctx->scratch.gt_ignored);
  cpose_free(ctx->scratch.gt_taken);
  cpose_free(ctx->gt_keys);
  cpose_free(ctx->dt_keys);
}

/* --- Public -------------------------------------------------------------------------------------------- */

cpose_eval_params cpose_eval_params_default(void) {
  cpose_eval_params params = {"coco17", NULL, 0, 20};
  return params;
}

cpose_status eval_make_vars(const cpose_eval_params *params, double **vars_out, size_t *k_out) {
  const double *sigmas = params->sigmas;
  size_t k = params->sigma_count;
  if (!sigmas) {
    cpose_status status =
        cpose_eval_keypoint_set(params->keypoint_set ? params->keypoint_set : "coco17", &sigmas, &k);
    if (status != CPOSE_OK) return status;
  }
  if (k == 0 || k > CPOSE_EVAL_MAX_KEYPOINTS) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "%zu sigmas: need 1 to %d", k, CPOSE_EVAL_MAX_KEYPOINTS);
  }
  double *vars = cpose_malloc(k * sizeof *vars);
  if (!vars) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for %zu sigmas", k);
  for (size_t i = 0; i < k; i++) {
    if (!(sigmas[i] > 0) || !isfinite(sigmas[i])) {
      cpose_free(vars);
      return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "sigma %zu is %g: sigmas must be positive", i, sigmas[i]);
    }
    vars[i] = (sigmas[i] * 2) * (sigmas[i] * 2);
  }
  *vars_out = vars;
  *k_out = k;
  return CPOSE_OK;
}

cpose_status cpose_eval_coco(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                             const cpose_eval_params *params, cpose_eval_result *result_out) {
  cpose_eval_params defaults = cpose_eval_params_default();
  if (!params) params = &defaults;
  if (!result_out) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_eval_coco: result_out is NULL");
  if (params->max_dets < 1 || params->max_dets > EVAL_MAX_DETS) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "max_dets %d: need 1 to %d", params->max_dets,
                      EVAL_MAX_DETS);
  }
  eval_data data;
  eval_context ctx;
  memset(&data, 0, sizeof data);
  memset(&ctx, 0, sizeof ctx);
  double *vars = NULL;
  size_t k = 0;
  cpose_status status = eval_make_vars(params, &vars, &k);
  if (status == CPOSE_OK) status = eval_data_load(gt_json, gt_size, dt_json, dt_size, k, &data);
  if (status == CPOSE_OK) {
    ctx.data = &data;
    ctx.vars = vars;
    ctx.max_dets = (size_t)params->max_dets;
    linspace(0.5, 0.95, THRESHOLD_COUNT, ctx.thresholds);
    linspace(0.0, 1.0, RECALL_COUNT, ctx.recall_points);
    status = evaluate_all(&ctx);
  }
  if (status == CPOSE_OK) fill_result(&ctx, result_out);
  context_free(&ctx);
  eval_data_free(&data);
  cpose_free(vars);
  return status;
}
