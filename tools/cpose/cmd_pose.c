/*
 * The main job: cpose [--image F | --indir D | --list L] --outdir DIR [options]
 * Reads each image, runs the estimator (or uses a detections file's boxes), and writes the results in
 * AlphaPose's vocabulary and formats. A bad image is reported and skipped; every other one is processed and
 * written; the exit status says whether anything failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "io/detfile.h"
#include "io/io.h"
#include "sources.h"

static const char usage[] =
    "Usage: cpose [--image F | --indir D | --list L] --outdir DIR [options]\n"
    "Finds every person in the images, estimates their poses (17 COCO keypoints) and writes\n"
    "DIR/alphapose-results.json (AlphaPose's format).\n"
    "\n"
    "Input:\n"
    "  --image F            one image (JPEG or PNG)\n"
    "  --indir D            every .jpg/.jpeg/.png in folder D, in natural order\n"
    "  --list L             the images named in file L, one per line (relative to --indir when given)\n"
    "  --detfile FILE       person boxes from a COCO-style detections file instead of the detector\n"
    "                       ([{image_id, bbox: [x,y,w,h], score}, ...]; image_id a number or a file name)\n"
    "Output:\n"
    "  --outdir DIR         where results go (created)\n"
    "  --format F           alphapose (default), coco (integer image_id from the file name), cmu, open\n"
    "                       (OpenPose-style, 18 points with a neck; also one file per image in DIR/sep-json/)\n"
    "  --save-img           also write each image with skeletons drawn to DIR/vis/\n"
    "  --showbox            draw the boxes and scores too\n"
    "  --vis-thresh T       keypoints below this confidence are not drawn (default 0.2)\n"
    "  --profile            print the time per stage\n"
    "Models and accuracy:\n"
    "  --fast               speed first: MoveNet Lightning (192x192) instead of Thunder (256x256), no flip\n"
    "                       test, no refinement (add --flip, --refine to have them)\n"
    "  --pose-model M       thunder (default) or lightning\n"
    "  --decoder D          movenet (default), argmax, integral\n"
    "  --flip, --no-flip    flip test: average with the mirrored crop (default on, off with --fast)\n"
    "  --refine, --no-refine  run each person again on a crop centred on the first estimate (default on,\n"
    "                       off with --fast)\n"
    "  --det-thresh T       person boxes below this score are dropped (default 0.1)\n"
    "  --box-nms IOU        of two person boxes overlapping more than this, the weaker goes (default 0.6;\n"
    "                       1 keeps all)\n"
    "  --box-scale S        boxes are enlarged by S before cropping (default 1.25, as AlphaPose)\n"
    "  --stretch            stretch images to the detector's square input instead of letterboxing\n"
    "  --min-box-area A     poses whose keypoints span less than this area are dropped (default 0)\n"
    "  --no-pose-nms        keep duplicate poses\n"
    "  --score S            person score: box-x-mean (default: box score x mean keypoint confidence),\n"
    "                       alphapose (mean + box + 1.25 x best keypoint), box-x-confident (box score x\n"
    "                       mean of the keypoints above 0.2)\n"
    "  --threads N          threads of the networks (default 2)\n"
    "  --models DIR         models folder (default models, made by scripts/setup.sh)\n";

typedef struct pose_options_cli {
  const char *image, *indir, *list, *outdir, *detfile, *format, *pose_model, *decoder, *threads, *models;
  const char *det_thresh, *box_nms, *box_scale, *min_box_area, *vis_thresh, *score;
  bool save_img, showbox, profile, fast, flip, no_flip, refine, no_refine, stretch, no_pose_nms;
} pose_options_cli;

static int parse_flags(int argc, char **argv, pose_options_cli *o) {
  memset(o, 0, sizeof *o);
  struct {
    const char *flag;
    const char **value;
  } values[] = {{"--image", &o->image},       {"--indir", &o->indir},       {"--list", &o->list},
                {"--outdir", &o->outdir},     {"--detfile", &o->detfile},   {"--format", &o->format},
                {"--pose-model", &o->pose_model}, {"--decoder", &o->decoder}, {"--threads", &o->threads},
                {"--models", &o->models},     {"--det-thresh", &o->det_thresh}, {"--box-nms", &o->box_nms},
                {"--box-scale", &o->box_scale}, {"--min-box-area", &o->min_box_area},
                {"--vis-thresh", &o->vis_thresh}, {"--score", &o->score}};
  struct {
    const char *flag;
    bool *value;
  } switches[] = {{"--save-img", &o->save_img}, {"--showbox", &o->showbox}, {"--profile", &o->profile},
                  {"--fast", &o->fast},         {"--flip", &o->flip},       {"--refine", &o->refine},
                  {"--no-flip", &o->no_flip},   {"--no-refine", &o->no_refine},
                  {"--stretch", &o->stretch},   {"--no-pose-nms", &o->no_pose_nms}};
  for (int i = 0; i < argc; i++) {
    bool matched = false, missing = false;
    for (size_t f = 0; f < sizeof values / sizeof values[0] && !matched; f++) {
      matched = cli_flag(argc, argv, &i, values[f].flag, values[f].value, &missing);
      if (missing) return cli_usage_error("", "%s needs a value", values[f].flag);
    }
    for (size_t f = 0; f < sizeof switches / sizeof switches[0] && !matched; f++) {
      if (strcmp(argv[i], switches[f].flag) == 0) *switches[f].value = matched = true;
    }
    if (!matched) return cli_usage_error("", "unknown argument '%s'", argv[i]);
  }
  int inputs = (o->image != NULL) + (o->list != NULL) + (o->indir != NULL && o->list == NULL);
  if (inputs != 1) return cli_usage_error("", "give exactly one of --image, --indir and --list");
  if (!o->outdir) return cli_usage_error("", "--outdir is required");
  return CLI_OK;
}

static bool parse_float(const char *text, float min, float max, float *out) {
  char *end = NULL;
  float v = text ? strtof(text, &end) : 0.0f;
  if (!text || end == text || *end || !(v >= min && v <= max)) return false;
  *out = v;
  return true;
}

/* Maps a name to its index in `names` (NULL-terminated); -1 when absent. */
static int lookup(const char *name, const char *const *names) {
  for (int i = 0; names[i]; i++) {
    if (strcmp(name, names[i]) == 0) return i;
  }
  return -1;
}

static int configure(const pose_options_cli *o, cpose_estimator_params *p, io_format *format, float *vis_thresh) {
  static const char *const formats[] = {"alphapose", "coco", "cmu", "open", NULL};
  static const char *const decoders[] = {"movenet", "argmax", "integral", NULL};
  static const char *const models[] = {"thunder", "lightning", NULL};
  static const char *const scores[] = {"alphapose", "box-x-mean", "box-x-confident", NULL};
  static const io_format format_values[] = {IO_FORMAT_ALPHAPOSE, IO_FORMAT_COCO, IO_FORMAT_CMU, IO_FORMAT_OPEN};
  *p = cpose_estimator_params_default();
  int f = o->format ? lookup(o->format, formats) : 0;
  int d = o->decoder ? lookup(o->decoder, decoders) : 0;
  int m = o->pose_model ? lookup(o->pose_model, models) : o->fast;
  if (f < 0) return cli_usage_error("", "--format must be alphapose, coco, cmu or open, not '%s'", o->format);
  if (d < 0) return cli_usage_error("", "--decoder must be movenet, argmax or integral, not '%s'", o->decoder);
  if (m < 0) return cli_usage_error("", "--pose-model must be thunder or lightning, not '%s'", o->pose_model);
  int sc = o->score ? lookup(o->score, scores) : (int)p->score;
  if (sc < 0) return cli_usage_error("", "--score must be alphapose, box-x-mean or box-x-confident, not '%s'", o->score);
  p->score = (cpose_person_score)sc;
  *format = format_values[f];
  p->decoder = (cpose_decoder)d;
  p->pose_model = (cpose_pose_model)m;
  long threads = p->threads;
  if (o->threads && !cli_parse_int(o->threads, 1, 256, &threads)) {
    return cli_usage_error("", "--threads must be 1..256, not '%s'", o->threads);
  }
  p->threads = (int)threads;
  if (o->det_thresh && !parse_float(o->det_thresh, 0, 1, &p->det_threshold)) {
    return cli_usage_error("", "--det-thresh must be in [0, 1], not '%s'", o->det_thresh);
  }
  if (o->box_nms && !parse_float(o->box_nms, 0.01f, 1, &p->det_nms_iou)) {
    return cli_usage_error("", "--box-nms must be in (0, 1], not '%s'", o->box_nms);
  }
  if (o->box_scale && !parse_float(o->box_scale, 1, 4, &p->box_scale)) {
    return cli_usage_error("", "--box-scale must be in [1, 4], not '%s'", o->box_scale);
  }
  if (o->min_box_area && !parse_float(o->min_box_area, 0, 1e12f, &p->nms.min_box_area)) {
    return cli_usage_error("", "--min-box-area must be a non-negative number, not '%s'", o->min_box_area);
  }
  *vis_thresh = 0.2f;
  if (o->vis_thresh && !parse_float(o->vis_thresh, 0, 1, vis_thresh)) {
    return cli_usage_error("", "--vis-thresh must be in [0, 1], not '%s'", o->vis_thresh);
  }
  /* Flip and refine raise AP (see the README) and cost three more runs of the net per person: on by
   * default, off with --fast unless asked for. */
  p->flip = o->flip || (!o->no_flip && !o->fast);
  p->refine = o->refine || (!o->no_refine && !o->fast);
  p->letterbox = !o->stretch;
  p->pose_nms = !o->no_pose_nms;
  if (o->models) p->models_dir = o->models;
  return CLI_OK;
}

/* What the run accumulates: one frame per image that worked, and the stage times. */
typedef struct run_state {
  io_frame *frames;
  size_t frame_count;
  size_t failed;
  size_t person_count;
  double load_ms, detect_ms, pose_ms, nms_ms, write_ms;
} run_state;

static void print_progress(size_t done, size_t total, const char *name, double elapsed_ms) {
  if (!isatty(STDERR_FILENO)) return;
  fprintf(stderr, "\r[%zu/%zu] %.1f img/s  %-40.40s", done, total, elapsed_ms > 0 ? done * 1e3 / elapsed_ms : 0.0,
          name);
  if (done == total) fputc('\n', stderr);
}

/* Draws the persons on the image and saves it as DIR/vis/<name>. */
static cpose_status save_visual(cpose_image *image, const char *outdir, const char *name, const io_frame *frame,
                                const pose_options_cli *o, float vis_thresh) {
  char path[8192];
  snprintf(path, sizeof path, "%s/vis/%s", outdir, name);
  io_render_persons(image, frame->persons, frame->count, vis_thresh, o->showbox);
  return cpose_image_save(image, path, 92);
}

/* Loads one image and estimates its persons into a new frame. Failures are reported by the caller. */
static cpose_status process_image(cpose_estimator *estimator, const detfile *boxes_file, const char *path,
                                  const pose_options_cli *o, io_format format, float vis_thresh, run_state *run) {
  int64_t coco_id;
  /* COCO results need an id from the file name: an image without one is reported and skipped up front, so
   * that it cannot stop the other images' results from being written. */
  if (format == IO_FORMAT_COCO && io_coco_image_id(sources_basename(path), &coco_id) != CPOSE_OK) {
    return CPOSE_ERR_INVALID_ARGUMENT;
  }
  cpose_image *image = NULL;
  double t0 = cli_now_ms();
  cpose_status status = cpose_image_load(path, &image);
  if (status != CPOSE_OK) return status;
  double t1 = cli_now_ms();
  const char *name = sources_basename(path);
  const cpose_box *boxes = NULL;
  size_t box_count = 0;
  if (boxes_file) box_count = detfile_boxes(boxes_file, -1, name, &boxes);
  io_frame *frame = &run->frames[run->frame_count];
  cpose_person *persons = NULL;
  size_t count = 0;
  static const cpose_box no_boxes[1];
  status = cpose_estimator_run(estimator, image, boxes_file ? (boxes ? boxes : no_boxes) : NULL, box_count, &persons,
                               &count);
  if (status == CPOSE_OK) {
    cpose_stage_times times;
    cpose_estimator_times(estimator, &times);
    run->detect_ms += times.detect_ms, run->pose_ms += times.pose_ms, run->nms_ms += times.nms_ms;
    *frame = (io_frame){.image_name = name, .persons = persons, .count = count};
    run->frame_count++;
    run->person_count += count;
    if (o->save_img) status = save_visual(image, o->outdir, name, frame, o, vis_thresh);
  }
  run->load_ms += t1 - t0;
  cpose_image_destroy(image);
  return status;
}

static cpose_status write_results(const pose_options_cli *o, io_format format, run_state *run) {
  double t0 = cli_now_ms();
  char path[8192];
  snprintf(path, sizeof path, "%s/alphapose-results.json", o->outdir);
  cpose_status status = io_write_results(path, format, run->frames, run->frame_count);
  if (status == CPOSE_OK && (format == IO_FORMAT_CMU || format == IO_FORMAT_OPEN)) {
    snprintf(path, sizeof path, "%s/sep-json", o->outdir);
    status = cli_make_dirs(path);
    for (size_t i = 0; status == CPOSE_OK && i < run->frame_count; i++) {
      status = io_write_frame_file(path, format, &run->frames[i]);
    }
  }
  run->write_ms += cli_now_ms() - t0;
  return status;
}

static void print_profile(const run_state *run, size_t images, double total_ms) {
  double n = images ? (double)images : 1.0;
  printf("profile: %zu images, %zu persons, %.1f ms total, %.2f images/s, %.2f persons/s\n", images,
         run->person_count, total_ms, images * 1e3 / total_ms, run->person_count * 1e3 / total_ms);
  printf("  load    %8.2f ms/image\n  detect  %8.2f ms/image\n  pose    %8.2f ms/image (%.2f ms/person)\n"
         "  nms     %8.2f ms/image\n  write   %8.2f ms/image\n",
         run->load_ms / n, run->detect_ms / n, run->pose_ms / n,
         run->person_count ? run->pose_ms / (double)run->person_count : 0.0, run->nms_ms / n, run->write_ms / n);
}

static int run_all(cpose_estimator *estimator, const detfile *boxes_file, const source_list *sources,
                   const pose_options_cli *o, io_format format, float vis_thresh) {
  run_state run;
  memset(&run, 0, sizeof run);
  run.frames = calloc(sources->count + 1, sizeof *run.frames);
  if (!run.frames) return cli_report("listing images", CPOSE_ERR_OUT_OF_MEMORY);
  double start = cli_now_ms();
  for (size_t i = 0; i < sources->count; i++) {
    cpose_status status = process_image(estimator, boxes_file, sources->paths[i], o, format, vis_thresh, &run);
    if (status != CPOSE_OK) {
      if (isatty(STDERR_FILENO)) fputc('\n', stderr);
      fprintf(stderr, "cpose: %s: %s: %s\n", sources->paths[i], cpose_status_string(status), cpose_last_error());
      run.failed++;
    }
    print_progress(i + 1, sources->count, sources_basename(sources->paths[i]), cli_now_ms() - start);
  }
  cpose_status status = write_results(o, format, &run);
  if (status != CPOSE_OK) cli_report("writing the results", status);
  if (o->profile) print_profile(&run, sources->count, cli_now_ms() - start);
  /* Point to the results only when they were written: after a failed write the file is absent or stale. */
  fprintf(stderr, "cpose: %zu of %zu images, %zu persons", run.frame_count, sources->count, run.person_count);
  if (status == CPOSE_OK) {
    fprintf(stderr, ": results in %s/alphapose-results.json%s", o->outdir, o->save_img ? " and images in vis/" : "");
  }
  fputc('\n', stderr);
  for (size_t i = 0; i < run.frame_count; i++) cpose_persons_free((cpose_person *)run.frames[i].persons);
  free(run.frames);
  if (run.failed) fprintf(stderr, "cpose: %zu image(s) failed (see above)\n", run.failed);
  return status != CPOSE_OK || run.failed ? CLI_FAILED : CLI_OK;
}

static int make_output_dirs(const pose_options_cli *o) {
  char path[8192];
  snprintf(path, sizeof path, "%s/vis", o->outdir);
  return cli_make_dirs(o->save_img ? path : o->outdir) == CPOSE_OK ? CLI_OK : CLI_FAILED;
}

int cmd_pose(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return CLI_OK;
    }
  }
  pose_options_cli o;
  cpose_estimator_params params;
  io_format format = IO_FORMAT_ALPHAPOSE;
  float vis_thresh = 0.2f;
  int code = parse_flags(argc, argv, &o);
  if (code == CLI_OK) code = configure(&o, &params, &format, &vis_thresh);
  if (code != CLI_OK) return code;
  source_list sources;
  cpose_status status = sources_collect(o.image, o.indir, o.list, &sources);
  if (status != CPOSE_OK) return cli_report("listing images", status);
  detfile *boxes_file = NULL;
  cpose_estimator *estimator = NULL;
  code = CLI_FAILED;
  if (o.detfile && (status = detfile_load(o.detfile, &boxes_file)) != CPOSE_OK) {
    cli_report("reading the detections file", status);
  } else if ((status = cpose_estimator_create(&params, &estimator)) != CPOSE_OK) {
    cli_report("loading the models", status);
  } else if (make_output_dirs(&o) == CLI_OK) {
    code = run_all(estimator, boxes_file, &sources, &o, format, vis_thresh);
  }
  cpose_estimator_destroy(estimator);
  detfile_destroy(boxes_file);
  sources_free(&sources);
  return code;
}
