/* The main job's frame sources for the pipeline (cpose_source_fn): a list of images, or a video or webcam. */
#ifndef CPOSE_FRAME_SOURCE_H
#define CPOSE_FRAME_SOURCE_H

#include <stdbool.h>

#include "cpose.h"
#include "io/detfile.h"
#include "sources.h"

typedef struct frame_source {
  const source_list *images;   /* images, in order; borrowed */
  const detfile *boxes;        /* optional: a detections file's boxes replace the detector; borrowed */
  bool need_coco_ids;          /* fail an image whose name has no COCO id before loading it */
  cpose_video_reader *video;   /* or a video; borrowed */
  size_t next_image;
  int64_t last_index;
} frame_source;

/* cpose_source_fn over a frame_source. */
cpose_status frame_source_next(void *source, cpose_source_frame *frame_out);

/* The name a frame goes by in the results: the image's file name, or for video "<index>.jpg" (AlphaPose's
 * frame names, so that --format coco gives the frame index as image_id). */
const char *frame_source_name(const frame_source *source, int64_t index, char *buf, size_t cap);

#endif
