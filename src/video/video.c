/*
 * What the video reader and writer share: FFmpeg's one-time setup, its log and error codes turned into cpose
 * messages, and aligned frames.
 */
#include "video/video.h"

#include <errno.h>
#include <libavdevice/avdevice.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* FFmpeg's last error line on this thread. av_err2str alone often says no more than "Invalid data found when
 * processing input"; the log line says which ("moov atom not found", "ac-tex damaged at 22 17"). With one
 * decoder and one encoder thread, FFmpeg logs on the thread that called it. */
static _Thread_local char log_line[256];
static _Thread_local char log_detail[sizeof log_line + 4];

static void record_log(void *object, int level, const char *fmt, va_list args) {
  if (level > AV_LOG_ERROR) return; /* warnings, info and debug lines: not worth a message */
  char text[sizeof log_line];
  vsnprintf(text, sizeof text, fmt, args);
  size_t len = strlen(text);
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ')) text[--len] = '\0';
  if (len == 0) return; /* the newline that ends a line logged in pieces */
  const AVClass *cls = object ? *(const AVClass **)object : NULL;
  const char *component = cls && cls->item_name ? cls->item_name(object) : NULL;
  snprintf(log_line, sizeof log_line, "%s%s%s", component ? component : "", component ? ": " : "", text);
}

static void init_once(void) {
  av_log_set_callback(record_log);
  avdevice_register_all();
}

void video_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_once);
}

void video_log_clear(void) {
  log_line[0] = '\0';
}

const char *video_log_detail(void) {
  if (!log_line[0]) return "";
  snprintf(log_detail, sizeof log_detail, " (%s)", log_line);
  return log_detail;
}

static cpose_status status_of(int averror, cpose_status fallback) {
  switch (averror) {
    case AVERROR(ENOMEM):
      return CPOSE_ERR_OUT_OF_MEMORY;
    case AVERROR(ENOENT):
    case AVERROR(EACCES):
    case AVERROR(EIO):
    case AVERROR(EISDIR):
    case AVERROR(ENOTDIR):
    case AVERROR(ENODEV):
    case AVERROR(ENXIO):
    case AVERROR(ENOSPC):
    case AVERROR(EROFS):
    case AVERROR(EFBIG):
      return CPOSE_ERR_IO;
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_ENCODER_NOT_FOUND:
    case AVERROR_PATCHWELCOME:
      return CPOSE_ERR_UNSUPPORTED;
    default:
      return fallback;
  }
}

cpose_status video_fail(cpose_status fallback, int averror, const char *fmt, ...) {
  char what[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(what, sizeof what, fmt, args);
  va_end(args);
  char reason[AV_ERROR_MAX_STRING_SIZE];
  av_strerror(averror, reason, sizeof reason);
  return cpose_fail(status_of(averror, fallback), "%s: %s%s", what, reason, video_log_detail());
}

AVFrame *video_frame_alloc(int width, int height, enum AVPixelFormat format) {
  AVFrame *frame = av_frame_alloc();
  if (!frame) return NULL;
  frame->width = width;
  frame->height = height;
  frame->format = format;
  if (av_frame_get_buffer(frame, 0) < 0) av_frame_free(&frame);
  return frame;
}
