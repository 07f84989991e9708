#include "frame_sink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SINK_PATH_MAX 8192
#define JSON_LINES_BUFFER ((size_t)1 << 20)

struct frame_sink {
  sink_options o;
  const frame_source *source;
  io_results_writer *results;
  FILE *json_lines;
  cpose_video_writer *video;
  sink_totals totals;
  double start_ms, last_progress_ms;
  bool stop_reported, progress_shown;
};

static void report_frame(frame_sink *s, const char *name, cpose_status status, const char *error) {
  if (s->progress_shown) fputc('\n', stderr);
  s->progress_shown = false;
  fprintf(stderr, "cpose: %s: %s: %s\n", name, cpose_status_string(status), error);
}

/* "[=====>      ] 123/795 frames  24.3 fps  0:27 left" on a terminal, at most ten times a second. */
static void show_progress(frame_sink *s, bool last) {
  double now = cli_now_ms(), elapsed = now - s->start_ms;
  if (!isatty(STDERR_FILENO) || (!last && now - s->last_progress_ms < 100)) return;
  s->last_progress_ms = now;
  size_t done = s->totals.frames + s->totals.failed;
  double fps = elapsed > 0 ? done * 1e3 / elapsed : 0;
  int64_t total = s->o.expected_frames;
  char bar[32] = "";
  if (total > 0) {
    int filled = (int)(done >= (size_t)total ? 30 : done * 30 / (size_t)total);
    for (int i = 0; i < 30; i++) bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
    bar[30] = '\0';
    double left = fps > 0 && (int64_t)done < total ? (double)(total - (int64_t)done) / fps : 0;
    fprintf(stderr, "\r[%s] %zu/%" PRId64 " frames  %.1f fps  %d:%02d left ", bar, done, total, fps,
            (int)left / 60, (int)left % 60);
  } else {
    fprintf(stderr, "\r%zu frames  %.1f fps  %d:%02d ", done, fps, (int)(elapsed / 60e3), (int)(elapsed / 1e3) % 60);
  }
  s->progress_shown = true;
  if (last) {
    fputc('\n', stderr);
    s->progress_shown = false;
  }
}

static cpose_status open_results(frame_sink *s) {
  char path[SINK_PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", s->o.outdir, IO_RESULTS_FILE_NAME);
  cpose_status status = io_results_writer_open(path, s->o.format, &s->results);
  if (status != CPOSE_OK || !s->o.stream_json) return status;
  /* JSON lines are appended and flushed frame by frame, so they survive a crash; a new run starts anew. */
  snprintf(path, sizeof path, "%s/alphapose-results.jsonl", s->o.outdir);
  s->json_lines = fopen(path, "w");
  if (!s->json_lines) return cpose_fail(CPOSE_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
  /* A line reaches the file in one write when it fits the buffer (a frame of 100 persons is ~60 KB), so a
   * killed run leaves whole lines. */
  setvbuf(s->json_lines, NULL, _IOFBF, JSON_LINES_BUFFER);
  return CPOSE_OK;
}

static cpose_status make_dirs(const sink_options *o) {
  char path[SINK_PATH_MAX];
  cpose_status status = cli_make_dirs(o->outdir);
  if (status == CPOSE_OK && o->save_img) {
    snprintf(path, sizeof path, "%s/vis", o->outdir);
    status = cli_make_dirs(path);
  }
  if (status == CPOSE_OK && (o->format == IO_FORMAT_CMU || o->format == IO_FORMAT_OPEN)) {
    snprintf(path, sizeof path, "%s/%s", o->outdir, IO_SEP_JSON_DIR_NAME);
    status = cli_make_dirs(path);
  }
  return status;
}

cpose_status frame_sink_open(const sink_options *options, const frame_source *source, frame_sink **sink_out) {
  frame_sink *s = calloc(1, sizeof *s);
  if (!s) {
    fprintf(stderr, "cpose: out of memory\n");
    return CPOSE_ERR_OUT_OF_MEMORY;
  }
  s->o = *options;
  s->source = source;
  s->start_ms = cli_now_ms();
  cpose_status status = make_dirs(options);
  if (status == CPOSE_OK) status = open_results(s);
  if (status != CPOSE_OK) {
    cli_report("creating the output files", status);
    io_results_writer_close(s->results, false);
    free(s);
    return status;
  }
  *sink_out = s;
  return CPOSE_OK;
}

/* The frame drawn into DIR/AlphaPose_<name>.mp4, opened on the first frame (which gives the size). */
static cpose_status write_video_frame(frame_sink *s, const cpose_image *image) {
  if (!s->video) {
    char path[SINK_PATH_MAX];
    snprintf(path, sizeof path, "%s/AlphaPose_%s.mp4", s->o.outdir, s->o.video_name);
    cpose_status status = cpose_video_writer_open(path, image->width, image->height, s->o.video_fps, &s->video);
    if (status != CPOSE_OK) return status;
  }
  return cpose_video_write(s->video, image);
}

/* Drawn images and video. */
static cpose_status write_visuals(frame_sink *s, cpose_result_frame *frame, const char *name) {
  if (!s->o.save_img && !s->o.video_name) return CPOSE_OK;
  io_render_persons(frame->image, frame->persons, frame->count, s->o.vis_thresh, s->o.showbox);
  cpose_status status = CPOSE_OK;
  if (s->o.save_img) {
    char path[SINK_PATH_MAX];
    snprintf(path, sizeof path, "%s/vis/%s", s->o.outdir, name);
    status = cpose_image_save(frame->image, path, 92);
  }
  if (status == CPOSE_OK && s->o.video_name) status = write_video_frame(s, frame->image);
  return status;
}

static cpose_status write_frame(frame_sink *s, cpose_result_frame *frame, const char *name) {
  io_frame f = {.image_name = name, .persons = frame->persons, .count = frame->count};
  cpose_status status = io_results_writer_add(s->results, &f);
  if (status == CPOSE_OK && s->json_lines) status = io_write_json_line(s->json_lines, s->o.format, &f);
  if (status == CPOSE_OK && (s->o.format == IO_FORMAT_CMU || s->o.format == IO_FORMAT_OPEN)) {
    char dir[SINK_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", s->o.outdir, IO_SEP_JSON_DIR_NAME);
    status = io_write_frame_file(dir, s->o.format, &f);
  }
  return status == CPOSE_OK ? write_visuals(s, frame, name) : status;
}

static void add_times(sink_totals *t, const cpose_result_frame *frame) {
  t->read_ms += frame->read_ms, t->detect_ms += frame->detect_ms, t->pose_ms += frame->pose_ms;
  t->nms_ms += frame->nms_ms, t->track_ms += frame->track_ms;
  t->boxes += frame->box_count;
}

int frame_sink_consume(void *sink, cpose_result_frame *frame) {
  frame_sink *s = sink;
  char buf[64];
  const char *name = frame_source_name(s->source, frame->index, buf, sizeof buf);
  add_times(&s->totals, frame);
  cpose_status status = frame->status;
  const char *error = frame->error;
  if (status == CPOSE_OK) {
    double t0 = cli_now_ms();
    status = write_frame(s, frame, name);
    error = cpose_last_error();
    s->totals.write_ms += cli_now_ms() - t0;
  }
  if (status == CPOSE_OK) {
    s->totals.frames++;
    s->totals.persons += frame->count;
  } else {
    s->totals.failed++;
    report_frame(s, name, status, error);
  }
  if (s->o.stop && *s->o.stop && !s->stop_reported) {
    if (s->progress_shown) fputc('\n', stderr);
    fprintf(stderr, "cpose: interrupted: finishing the frame at hand and the output files\n");
    s->stop_reported = true;
    s->progress_shown = false;
  }
  show_progress(s, false);
  return 0;
}

cpose_status frame_sink_close(frame_sink *s, sink_totals *totals_out) {
  show_progress(s, true);
  cpose_status status = io_results_writer_close(s->results, true);
  if (status != CPOSE_OK) cli_report("writing the results", status);
  cpose_status video_status = s->video ? cpose_video_writer_close(s->video, 1) : CPOSE_OK;
  if (video_status != CPOSE_OK) cli_report("writing the video", video_status);
  if (s->json_lines && fclose(s->json_lines) != 0) {
    fprintf(stderr, "cpose: writing the JSON lines: %s\n", strerror(errno));
    status = CPOSE_ERR_IO;
  }
  *totals_out = s->totals;
  free(s);
  return status != CPOSE_OK ? status : video_status;
}
