/*
 * The main job: cpose [--image F | --indir D | --list L | --video F | --webcam N] --outdir DIR [options]
 * Parses the flags, picks the source, and runs the pipeline (include/cpose.h) from the source to the sink
 * (frame_sink.c), in AlphaPose's vocabulary and formats. A bad image or frame is reported and skipped; every
 * other one is processed and written; the exit status says whether anything failed. Ctrl-C finishes the
 * frame at hand and leaves complete output files.
 */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "frame_sink.h"
#include "frame_source.h"
#include "io/detfile.h"
#include "io/io.h"
#include "sources.h"

static const char usage[] =
    "Usage: cpose [--image F | --indir D | --list L | --video F | --webcam N] --outdir DIR [options]\n"
    "Finds every person in the images or video frames, estimates their poses (17 COCO keypoints), tracks\n"
    "them with --pose-track, and writes DIR/alphapose-results.json (AlphaPose's format).\n"
    "\n"
    "Input:\n"
    "  --image F            one image (JPEG or PNG)\n"
    "  --indir D            every .jpg/.jpeg/.png in folder D, in natural order\n"
    "  --list L             the images named in file L, one per line (relative to --indir when given)\n"
    "  --video F            a video file (any format FFmpeg reads); frames are named <index>.jpg\n"
    "  --webcam N           webcam N (/dev/videoN); runs until Ctrl-C\n"
    "  --detfile FILE       person boxes from a COCO-style detections file instead of the detector\n"
    "                       ([{image_id, bbox: [x,y,w,h], score}, ...]; image_id a number or a file name)\n"
    "Output:\n"
    "  --outdir DIR         where results go (created)\n"
    "  --format F           alphapose (default), coco (integer image_id from the file name), cmu, open\n"
    "                       (OpenPose-style, 18 points with a neck; also one file per image in DIR/sep-json/)\n"
    "  --save-img           also write each image with skeletons drawn to DIR/vis/\n"
    "  --save-video         also write the frames with skeletons drawn to DIR/AlphaPose_<name>.mp4 (H.264,\n"
    "                       the input's size and frame rate)\n"
    "  --stream-json        also append each frame's results as a JSON line to DIR/alphapose-results.jsonl\n"
    "                       as soon as it is done (survives a crash)\n"
    "  --showbox            draw the boxes and scores too\n"
    "  --vis-thresh T       keypoints below this confidence are not drawn (default 0.2)\n"
    "  --profile            print the time per stage\n"
    "Tracking:\n"
    "  --pose-track         give each person an id that stays the same from frame to frame (the JSON's\n"
    "                       idx; drawn in one colour per person)\n"
    "  --detect-every K     with --pose-track: run the detector on every K-th frame only, and estimate the\n"
    "                       poses in the tracks' predicted boxes on the frames between (default 1; 3\n"
    "                       with --fast)\n"
    "  --qsize N            frames waiting between two stages of the pipeline (default 4)\n"
    "Models and accuracy:\n"
    "  --fast               speed first: MoveNet Lightning (192x192) instead of Thunder (256x256), no flip\n"
    "                       test, no refinement (add --flip, --refine to have them); with --pose-track the\n"
    "                       detector runs on every third frame (--detect-every)\n"
    "  --pose-model M       thunder (default) or lightning\n"
    "  --decoder D          movenet (default), argmax, integral\n"
    "  --flip, --no-flip    flip test: average with the mirrored crop (default on for images; off with\n"
    "                       --fast, for video and with --pose-track)\n"
    "  --refine, --no-refine  run each person again on a crop centred on the first estimate (default as\n"
    "                       --flip)\n"
    "  --det-thresh T       person boxes below this score are dropped (default 0.1 for images, 0.3 for\n"
    "                       video and with --pose-track)\n"
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
  const char *video, *webcam, *detect_every, *qsize;
  bool save_img, showbox, profile, fast, flip, no_flip, refine, no_refine, stretch, no_pose_nms;
  bool save_video, stream_json, pose_track;
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
                {"--vis-thresh", &o->vis_thresh}, {"--score", &o->score}, {"--video", &o->video},
                {"--webcam", &o->webcam}, {"--detect-every", &o->detect_every}, {"--qsize", &o->qsize}};
  struct {
    const char *flag;
    bool *value;
  } switches[] = {{"--save-img", &o->save_img}, {"--showbox", &o->showbox}, {"--profile", &o->profile},
                  {"--fast", &o->fast},         {"--flip", &o->flip},       {"--refine", &o->refine},
                  {"--no-flip", &o->no_flip},   {"--no-refine", &o->no_refine},
                  {"--stretch", &o->stretch},   {"--no-pose-nms", &o->no_pose_nms},
                  {"--save-video", &o->save_video}, {"--stream-json", &o->stream_json},
                  {"--pose-track", &o->pose_track}};
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
  int inputs = (o->image != NULL) + (o->list != NULL) + (o->indir != NULL && o->list == NULL) +
               (o->video != NULL) + (o->webcam != NULL);
  if (inputs != 1) return cli_usage_error("", "give exactly one of --image, --indir, --list, --video and --webcam");
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

#define VIDEO_DET_THRESHOLD 0.3f
/* With --fast and --pose-track the detector runs on every third frame (measured on the Bonn video: the same
 * MOTA, 0.884, and AP 0.777 against 0.784 when detecting on every frame). */
#define FAST_TRACK_DETECT_EVERY 3

static int configure_estimator(const pose_options_cli *o, cpose_estimator_params *p, io_format *format,
                               float *vis_thresh) {
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
  /* Flip and refine raise AP on still images (see the README) and cost three more runs of the net per
   * person: on by default, off with --fast unless asked for. On video (and with tracking) they are off by
   * default and the detector threshold is 0.3: measured on the labelled Bonn PoseTrack video, they lower
   * keypoint AP (0.810 without, 0.739 with) and MOTA (0.866, 0.756), pulling the crops of people who cross
   * onto each other, and the weak boxes they would refine are mostly not people. */
  bool video = o->video || o->webcam || o->pose_track;
  p->flip = o->flip || (!o->no_flip && !o->fast && !video);
  p->refine = o->refine || (!o->no_refine && !o->fast && !video);
  if (video && !o->det_thresh) p->det_threshold = VIDEO_DET_THRESHOLD;
  p->letterbox = !o->stretch;
  p->pose_nms = !o->no_pose_nms;
  if (o->models) p->models_dir = o->models;
  return CLI_OK;
}

static int configure(const pose_options_cli *o, cpose_pipeline_params *pp, sink_options *so) {
  *pp = cpose_pipeline_params_default();
  memset(so, 0, sizeof *so);
  int code = configure_estimator(o, &pp->estimator, &so->format, &so->vis_thresh);
  if (code != CLI_OK) return code;
  long every = o->fast && o->pose_track ? FAST_TRACK_DETECT_EVERY : 1, qsize = pp->queue_length;
  if (o->detect_every && !cli_parse_int(o->detect_every, 1, 1000, &every)) {
    return cli_usage_error("", "--detect-every must be 1..1000, not '%s'", o->detect_every);
  }
  if (every > 1 && !o->pose_track) return cli_usage_error("", "--detect-every needs --pose-track");
  if (o->qsize && !cli_parse_int(o->qsize, 1, 1000, &qsize)) {
    return cli_usage_error("", "--qsize must be 1..1000, not '%s'", o->qsize);
  }
  pp->detect_every = (int)every;
  pp->queue_length = (int)qsize;
  pp->track = o->pose_track;
  so->outdir = o->outdir;
  so->save_img = o->save_img;
  so->showbox = o->showbox;
  so->stream_json = o->stream_json;
  return CLI_OK;
}

/* Ctrl-C: the first asks the pipeline to stop after the frame at hand; a second one kills as usual. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int signal_number) {
  (void)signal_number;
  interrupted = 1;
}

static void catch_interrupts(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
}

/* The source: the images, or the opened video or webcam (whose name, size and rate go to the sink). */
typedef struct run_input {
  source_list images;
  detfile *boxes;
  cpose_video_reader *video;
  char video_name[256];
} run_input;

static const char *file_stem(const char *path, char *buf, size_t cap) {
  snprintf(buf, cap, "%s", sources_basename(path));
  char *dot = strrchr(buf, '.');
  if (dot && dot != buf) *dot = '\0';
  return buf;
}

static int open_input(const pose_options_cli *o, run_input *in, sink_options *so) {
  memset(in, 0, sizeof *in);
  cpose_status status;
  if (o->video || o->webcam) {
    long cam = 0;
    if (o->webcam && !cli_parse_int(o->webcam, 0, 1000, &cam)) {
      return cli_usage_error("", "--webcam must be a device number 0..1000, not '%s'", o->webcam);
    }
    status = o->video ? cpose_video_open(o->video, &in->video) : cpose_video_open_webcam((int)cam, &in->video);
    if (status != CPOSE_OK) return cli_report("opening the video", status);
    cpose_video_info info;
    cpose_video_reader_info(in->video, &info);
    so->video_fps = info.fps;
    so->expected_frames = info.frame_count;
    if (o->video) file_stem(o->video, in->video_name, sizeof in->video_name);
    else snprintf(in->video_name, sizeof in->video_name, "webcam%ld", cam);
  } else {
    status = sources_collect(o->image, o->indir, o->list, &in->images);
    if (status != CPOSE_OK) return cli_report("listing images", status);
    so->video_fps = 25; /* an image sequence drawn into a video */
    so->expected_frames = (int64_t)in->images.count;
    snprintf(in->video_name, sizeof in->video_name, "%s", "images");
  }
  if (o->detfile && (status = detfile_load(o->detfile, &in->boxes)) != CPOSE_OK) {
    return cli_report("reading the detections file", status);
  }
  if (o->save_video) so->video_name = in->video_name;
  return CLI_OK;
}

static void close_input(run_input *in) {
  cpose_video_close(in->video);
  detfile_destroy(in->boxes);
  sources_free(&in->images);
}

static void print_profile(const sink_totals *t, double total_ms) {
  size_t frames = t->frames + t->failed;
  double n = frames ? (double)frames : 1.0;
  printf("profile: %zu frames, %zu persons, %.1f ms total, %.2f frames/s, %.2f persons/s\n", frames, t->persons,
         total_ms, frames * 1e3 / total_ms, t->persons * 1e3 / total_ms);
  printf("  read    %8.2f ms/frame\n  detect  %8.2f ms/frame\n"
         "  pose    %8.2f ms/frame (%.2f boxes/frame, %.2f ms/box)\n"
         "  nms     %8.2f ms/frame\n  track   %8.2f ms/frame\n  write   %8.2f ms/frame\n",
         t->read_ms / n, t->detect_ms / n, t->pose_ms / n, t->boxes / n, t->boxes ? t->pose_ms / (double)t->boxes : 0.0,
         t->nms_ms / n, t->track_ms / n, t->write_ms / n);
  puts("  (stages overlap: read and write run on their own threads beside detect, pose, nms and track)");
  struct rusage self;
  if (getrusage(RUSAGE_SELF, &self) == 0) printf("  peak memory (resident) %.1f MiB\n", self.ru_maxrss / 1024.0);
}

static void print_summary(const pose_options_cli *o, const sink_totals *t, cpose_status written) {
  fprintf(stderr, "cpose: %zu of %zu frames, %zu persons", t->frames, t->frames + t->failed, t->persons);
  /* Point to the results only when they were written: after a failed write the file is absent or stale. */
  if (written == CPOSE_OK) {
    fprintf(stderr, ": results in %s/%s%s%s", o->outdir, IO_RESULTS_FILE_NAME, o->save_img ? ", images in vis/" : "",
            o->save_video ? ", video AlphaPose_*.mp4" : "");
  }
  fputc('\n', stderr);
  if (t->failed) fprintf(stderr, "cpose: %zu frame(s) failed (see above)\n", t->failed);
}

static int run(const pose_options_cli *o, const cpose_pipeline_params *pp, sink_options *so, run_input *in) {
  frame_source source = {.images = &in->images, .boxes = in->boxes, .video = in->video, .last_index = -1,
                         .need_coco_ids = so->format == IO_FORMAT_COCO && !in->video};
  so->stop = pp->stop;
  frame_sink *sink = NULL;
  if (frame_sink_open(so, &source, &sink) != CPOSE_OK) return CLI_FAILED;
  double start = cli_now_ms();
  cpose_status status = cpose_pipeline_run(pp, frame_source_next, &source, frame_sink_consume, sink);
  if (status != CPOSE_OK) cli_report("running the pipeline", status);
  sink_totals totals;
  cpose_status written = frame_sink_close(sink, &totals);
  if (o->profile) print_profile(&totals, cli_now_ms() - start);
  print_summary(o, &totals, written);
  if (interrupted) return 130; /* as a shell reports a run ended by SIGINT */
  return status != CPOSE_OK || written != CPOSE_OK || totals.failed ? CLI_FAILED : CLI_OK;
}

int cmd_pose(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return CLI_OK;
    }
  }
  pose_options_cli o;
  cpose_pipeline_params params;
  sink_options so;
  int code = parse_flags(argc, argv, &o);
  if (code == CLI_OK) code = configure(&o, &params, &so);
  if (code != CLI_OK) return code;
  run_input in;
  code = open_input(&o, &in, &so);
  if (code == CLI_OK) {
    params.stop = &interrupted;
    catch_interrupts();
    code = run(&o, &params, &so, &in);
  }
  close_input(&in);
  return code;
}
