/* The main job's sink for the pipeline (cpose_sink_fn): results files, drawn images and video, the progress
 * bar and the per-stage profile. */
#ifndef CPOSE_FRAME_SINK_H
#define CPOSE_FRAME_SINK_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "cpose.h"
#include "frame_source.h"
#include "io/io.h"

typedef struct sink_options {
  const char *outdir;
  io_format format;
  bool save_img, showbox, stream_json;
  float vis_thresh;
  const char *video_name; /* with --save-video: DIR/AlphaPose_<video_name>.mp4 */
  double video_fps;
  int64_t expected_frames; /* for the progress bar; 0 when unknown */
  const volatile sig_atomic_t *stop;
} sink_options;

typedef struct sink_totals {
  size_t frames, failed, persons, boxes;
  double read_ms, detect_ms, pose_ms, nms_ms, track_ms, write_ms;
} sink_totals;

typedef struct frame_sink frame_sink;

/* Creates the output folders and opens the results file(s). Errors are reported on stderr. */
cpose_status frame_sink_open(const sink_options *options, const frame_source *source, frame_sink **sink_out);
/* cpose_sink_fn: writes one frame's results, reports a failed frame on stderr. */
int frame_sink_consume(void *sink, cpose_result_frame *frame);
/* Finishes the files (renaming them into place) and frees the sink; *totals_out gets what was done. */
cpose_status frame_sink_close(frame_sink *sink, sink_totals *totals_out);

#endif
