/* cpose_video_open_memory on any bytes, then cpose_video_read to the end of the stream: FFmpeg's demuxers
 * and decoders behind cpose's reader, its frame conversion to RGB, and its recovery from damaged frames. */
#include "cpose.h"
#include "targets.h"

/* Frames decoded per input at most: enough for every seed, and a bound on slow inputs. */
#define VIDEO_MAX_FRAMES 256
/* The reader reports the end after 1000 failed reads in a row (MAX_FAILURES_IN_A_ROW in src/video/reader.c):
 * more means it is stuck. */
#define VIDEO_MAX_FAILURES 1000

int fuzz_video(const uint8_t *data, size_t size) {
  cpose_video_reader *reader = NULL;
  cpose_status status = cpose_video_open_memory(data, size, &reader);
  if (status != CPOSE_OK) {
    FUZZ_CHECK(reader == NULL);
    FUZZ_CHECK(cpose_last_error()[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(reader != NULL);
  cpose_video_info info;
  cpose_video_reader_info(reader, &info);
  FUZZ_CHECK(info.width > 0 && info.height > 0);
  FUZZ_CHECK((int64_t)info.width * info.height <= CPOSE_IMAGE_MAX_PIXELS);
  FUZZ_CHECK(info.fps > 0 && info.frame_count >= 0);
  size_t frames = 0, failures = 0;
  while (frames < VIDEO_MAX_FRAMES) {
    cpose_image *frame = NULL;
    int64_t index = -1;
    status = cpose_video_read(reader, &frame, &index);
    if (status != CPOSE_OK) {
      FUZZ_CHECK(frame == NULL);
      FUZZ_CHECK(cpose_last_error()[0] != '\0');
      FUZZ_CHECK(++failures <= VIDEO_MAX_FAILURES);
      continue;
    }
    failures = 0;
    if (!frame) break; /* the end of the stream */
    FUZZ_CHECK(frame->rgb && frame->width > 0 && frame->height > 0);
    FUZZ_CHECK((int64_t)frame->width * frame->height <= CPOSE_IMAGE_MAX_PIXELS);
    FUZZ_CHECK(index >= 0);
    frames++;
    cpose_image_destroy(frame);
  }
  cpose_video_close(reader);
  return 0;
}
