/* cpose eval --gt ANNOTATIONS.json --dt RESULTS.json: COCO keypoint AP and AR, printed as pycocotools does;
 * with --track also the CLEAR MOT tracking metrics on OKS (cpose_eval_mot).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

#define EVAL_FILE_CAP ((size_t)1 << 30) /* 1 GiB per file, the library's cap too */

static const char usage[] =
    "Usage: cpose eval --gt ANNOTATIONS.json --dt RESULTS.json [--kpt-set NAME | --sigmas LIST]\n"
    "                  [--max-dets N] [--track [--track-oks T]] [--json]\n"
    "Evaluates keypoint results against a COCO keypoint ground truth exactly as pycocotools' COCOeval\n"
    "(iouType 'keypoints') does, and prints its ten AP / AR lines. RESULTS.json is a COCO results list\n"
    "[{image_id, category_id, keypoints, score}, ...]; AlphaPose's, with image file names as image_id, works "
    "too.\n"
    "  --kpt-set NAME  whose OKS sigmas to use: coco17 (default), halpe26, crowdpose14\n"
    "  --sigmas LIST   per-keypoint OKS sigmas instead, e.g. 0.026,0.025,...; their count is the keypoints "
    "per person\n"
    "  --max-dets N    detections per image that count, best scores first (default 20; not for --track)\n"
    "  --track         also evaluate tracking: CLEAR MOT (MOTA, MOTP, id switches, ...) with OKS as the\n"
    "                  similarity, frames in image id order; every person annotated needs a 'track_id'\n"
    "                  (crowd regions need none) and every result a 'track_id' or 'idx' (AlphaPose's)\n"
    "  --track-oks T   the OKS a ground-truth person and a result must exceed to match (default 0.5)\n"
    "  --json          also print the numbers as one JSON object on the last line (with --track, the\n"
    "                  tracking numbers as its \"mot\" object)\n";

/* How pycocotools' summarize labels each number, and its key in --json. */
typedef struct stat_label {
  const char *key;
  bool precision;
  const char *iou;
  const char *area;
} stat_label;

static const stat_label labels[CPOSE_EVAL_STAT_COUNT] = {
    {"AP", true, "0.50:0.95", "all"},      {"AP50", true, "0.50", "all"},
    {"AP75", true, "0.75", "all"},         {"APm", true, "0.50:0.95", "medium"},
    {"APl", true, "0.50:0.95", "large"},   {"AR", false, "0.50:0.95", "all"},
    {"AR50", false, "0.50", "all"},        {"AR75", false, "0.75", "all"},
    {"ARm", false, "0.50:0.95", "medium"}, {"ARl", false, "0.50:0.95", "large"},
};

typedef struct eval_options {
  const char *gt_path, *dt_path, *kpt_set, *sigmas_text;
  long max_dets;
  bool json;
  bool track;
  double track_oks;
} eval_options;

/* Parses "0.026,0.025,..." into sigmas (at most CPOSE_EVAL_MAX_KEYPOINTS positive numbers). */
static bool parse_sigmas(const char *text, double *sigmas, size_t *count) {
  size_t n = 0;
  const char *p = text;
  while (*p) {
    char *end = NULL;
    errno = 0;
    double v = strtod(p, &end);
    if (errno || end == p || !(v > 0) || n >= CPOSE_EVAL_MAX_KEYPOINTS || (*end && *end != ',')) return false;
    sigmas[n++] = v;
    p = *end ? end + 1 : end;
    if (*end && !*p) return false;
  }
  *count = n;
  return n > 0;
}

/* Returns -1 when the options are complete, else the exit code (help or a usage error). */
static int parse_options(int argc, char **argv, eval_options *o) {
  const char *max_dets = NULL, *track_oks = NULL;
  for (int i = 0; i < argc; i++) {
    bool missing = false;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return CLI_OK;
    }
    if (strcmp(argv[i], "--json") == 0) {
      o->json = true;
    } else if (strcmp(argv[i], "--track") == 0) {
      o->track = true;
    } else if (!cli_flag(argc, argv, &i, "--gt", &o->gt_path, &missing) &&
               !cli_flag(argc, argv, &i, "--dt", &o->dt_path, &missing) &&
               !cli_flag(argc, argv, &i, "--kpt-set", &o->kpt_set, &missing) &&
               !cli_flag(argc, argv, &i, "--sigmas", &o->sigmas_text, &missing) &&
               !cli_flag(argc, argv, &i, "--max-dets", &max_dets, &missing) &&
               !cli_flag(argc, argv, &i, "--track-oks", &track_oks, &missing)) {
      return cli_usage_error("eval", "unexpected argument '%s'", argv[i]);
    }
    if (missing) return cli_usage_error("eval", "%s needs a value", argv[i]);
  }
  if (!o->gt_path || !o->dt_path) return cli_usage_error("eval", "give both --gt and --dt");
  if (o->kpt_set && o->sigmas_text) return cli_usage_error("eval", "give --kpt-set or --sigmas, not both");
  if (max_dets && !cli_parse_int(max_dets, 1, 100000, &o->max_dets)) {
    return cli_usage_error("eval", "--max-dets '%s' is not an integer from 1 to 100000", max_dets);
  }
  if (track_oks) {
    char *end = NULL;
    errno = 0;
    o->track_oks = strtod(track_oks, &end);
    if (!o->track) return cli_usage_error("eval", "--track-oks needs --track");
    if (errno || end == track_oks || *end || !(o->track_oks >= 0 && o->track_oks < 1)) {
      return cli_usage_error("eval", "--track-oks '%s' is not a number from 0 to below 1", track_oks);
    }
  }
  return -1;
}

/* The tracking table, after the AP / AR lines. */
static void print_mot(const cpose_mot_result *m, double oks) {
  printf(
      "tracking (CLEAR MOT, a match needs OKS > %g): %zu frames, %zu people in %zu tracks, %zu results in "
      "%zu tracks\n",
      oks, m->frames, m->gt_count, m->gt_tracks, m->dt_count, m->dt_tracks);
  printf(" MOTA         = %.3f  (1 - (FN + FP + IDSW) / people)\n", m->mota);
  printf(" MOTP         = %.3f  (mean OKS of %zu matches)\n", m->motp, m->matches);
  printf(" IDSW         = %zu\n", m->id_switches);
  printf(" FP           = %zu\n", m->false_positives);
  printf(" FN           = %zu\n", m->misses);
  printf(" Frag         = %zu\n", m->fragmentations);
  printf(
      " MT / ML      = %zu / %zu of %zu ground-truth tracks (matched in >= 80%% / < 20%% of their frames)\n",
      m->mostly_tracked, m->mostly_lost, m->gt_tracks);
  printf(" false tracks = %zu of %zu result tracks (never matched)\n", m->false_tracks, m->dt_tracks);
}

static void print_mot_json(const cpose_mot_result *m) {
  printf(
      ", \"mot\": {\"MOTA\": %.10g, \"MOTP\": %.10g, \"IDSW\": %zu, \"FP\": %zu, \"FN\": %zu, "
      "\"matches\": %zu, \"frag\": %zu, \"MT\": %zu, \"ML\": %zu, \"frames\": %zu, \"gt\": %zu, "
      "\"results\": %zu, \"gt_tracks\": %zu, \"result_tracks\": %zu, \"false_tracks\": %zu}",
      m->mota, m->motp, m->id_switches, m->false_positives, m->misses, m->matches, m->fragmentations,
      m->mostly_tracked, m->mostly_lost, m->frames, m->gt_count, m->dt_count, m->gt_tracks, m->dt_tracks,
      m->false_tracks);
}

/* `mot` is NULL without --track. */
static void print_summary(const cpose_eval_result *r, const cpose_mot_result *mot, double track_oks,
                          int max_dets, bool json) {
  printf(
      "images %zu, people %zu (+%zu crowd or without labelled keypoints, ignored), detections %zu (%zu "
      "unused)\n",
      r->image_count, r->gt_count, r->gt_ignored_count, r->dt_count, r->dt_unused_count);
  for (int s = 0; s < CPOSE_EVAL_STAT_COUNT; s++) {
    const stat_label *l = &labels[s];
    printf(" %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %.3f\n",
           l->precision ? "Average Precision" : "Average Recall", l->precision ? "(AP)" : "(AR)", l->iou,
           l->area, max_dets, r->stats[s]);
  }
  if (mot) print_mot(mot, track_oks);
  if (!json) return;
  for (int s = 0; s < CPOSE_EVAL_STAT_COUNT; s++) {
    printf("%s\"%s\": %.10g", s ? ", " : "{", labels[s].key, r->stats[s]);
  }
  if (mot) print_mot_json(mot);
  printf("}\n");
}

int cmd_eval(int argc, char **argv) {
  eval_options o = {NULL, NULL, NULL, NULL, 20, false, false, 0.5};
  int code = parse_options(argc, argv, &o);
  if (code >= 0) return code;
  static double sigmas[CPOSE_EVAL_MAX_KEYPOINTS];
  cpose_eval_params params = cpose_eval_params_default();
  params.max_dets = (int)o.max_dets;
  if (o.kpt_set) params.keypoint_set = o.kpt_set;
  if (o.sigmas_text) {
    if (!parse_sigmas(o.sigmas_text, sigmas, &params.sigma_count)) {
      return cli_usage_error("eval", "--sigmas '%s' is not a list of 1 to %d positive numbers", o.sigmas_text,
                             CPOSE_EVAL_MAX_KEYPOINTS);
    }
    params.sigmas = sigmas;
  }
  void *gt = NULL, *dt = NULL;
  size_t gt_size = 0, dt_size = 0;
  cpose_eval_result result;
  cpose_mot_result mot;
  cpose_status status = cli_read_file(o.gt_path, EVAL_FILE_CAP, &gt, &gt_size);
  if (status == CPOSE_OK) status = cli_read_file(o.dt_path, EVAL_FILE_CAP, &dt, &dt_size);
  if (status == CPOSE_OK) {
    status = cpose_eval_coco(gt, gt_size, dt, dt_size, &params, &result);
    if (status == CPOSE_OK && o.track)
      status = cpose_eval_mot(gt, gt_size, dt, dt_size, &params, o.track_oks, &mot);
    if (status != CPOSE_OK) {
      char what[512];
      snprintf(what, sizeof what, "evaluating %s against %s", o.dt_path, o.gt_path);
      code = cli_report(what, status);
    }
  } else {
    code = CLI_FAILED; /* cli_read_file said which file and why */
  }
  free(gt);
  free(dt);
  if (status != CPOSE_OK) return code;
  print_summary(&result, o.track ? &mot : NULL, o.track_oks, params.max_dets, o.json);
  return CLI_OK;
}
