#include "frame_source.h"

#include <inttypes.h>
#include <stdio.h>

#include "io/io.h"

static cpose_status next_image(frame_source *s, cpose_source_frame *frame) {
  if (s->next_image >= s->images->count) return CPOSE_OK; /* the end: no image */
  size_t i = s->next_image++;
  const char *path = s->images->paths[i];
  const char *name = sources_basename(path);
  frame->index = (int64_t)i;
  int64_t coco_id;
  /* COCO results need an id from the file name: an image without one is skipped before it costs anything,
   * so that it cannot stop the other images' results from being written. */
  if (s->need_coco_ids && io_coco_image_id(name, &coco_id) != CPOSE_OK) return CPOSE_ERR_INVALID_ARGUMENT;
  if (s->boxes) {
    frame->box_count = detfile_boxes(s->boxes, -1, name, &frame->boxes);
    frame->has_boxes = 1;
  }
  return cpose_image_load(path, &frame->image);
}

static cpose_status next_video_frame(frame_source *s, cpose_source_frame *frame) {
  int64_t index = s->last_index + 1;
  cpose_status status = cpose_video_read(s->video, &frame->image, &index);
  frame->index = s->last_index = index; /* a failed frame takes the next index for its report */
  return status;
}

cpose_status frame_source_next(void *source, cpose_source_frame *frame_out) {
  frame_source *s = source;
  return s->video ? next_video_frame(s, frame_out) : next_image(s, frame_out);
}

const char *frame_source_name(const frame_source *s, int64_t index, char *buf, size_t cap) {
  if (!s->video && index >= 0 && (size_t)index < s->images->count) return sources_basename(s->images->paths[index]);
  snprintf(buf, cap, "%" PRId64 ".jpg", index);
  return buf;
}
