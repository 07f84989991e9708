/*
 * Internal interface of the video layer (src/video): what the reader (reader.c) and the writer (writer.c)
 * share. Both talk to FFmpeg, which reports failures as negative AVERROR codes and writes the details to its
 * log; these helpers turn the two into one cpose error message.
 */
#ifndef CPOSE_VIDEO_VIDEO_H
#define CPOSE_VIDEO_VIDEO_H

#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>

#include "core/error.h"

/* Once per process, from any thread: registers libavdevice's inputs (V4L2 webcams) and routes FFmpeg's log
 * to a per-thread record instead of stderr. A library must not print; the record is quoted by video_fail. */
void video_init(void);

/* Forgets this thread's record of FFmpeg's last error line. Called before the FFmpeg calls whose failures
 * are reported, so that a message never quotes an older, unrelated line. */
void video_log_clear(void);

/* " (<component>: <FFmpeg's last error line on this thread>)", or "" when none was logged since
 * video_log_clear. Valid until the next FFmpeg call on this thread. */
const char *video_log_detail(void);

/* Records "<fmt...>: <FFmpeg's text for averror><video_log_detail()>" and returns its status: out of memory,
 * an I/O failure (missing file, permissions, no such device, disk full) or a missing codec
 * (CPOSE_ERR_UNSUPPORTED) when `averror` says so, else `fallback`. */
cpose_status video_fail(cpose_status fallback, int averror, const char *fmt, ...) CPOSE_PRINTF(3, 4);

/* A new frame of `format` with buffers from FFmpeg's allocator: rows padded and aligned as its SIMD code
 * expects (sws_scale reads and writes whole vectors, past the last pixel of a row). NULL when out of memory.
 */
AVFrame *video_frame_alloc(int width, int height, enum AVPixelFormat format);

#endif
