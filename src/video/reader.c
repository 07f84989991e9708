/*
 * Video input through FFmpeg: a file, a buffer in memory or a V4L2 webcam, decoded frame by frame into RGB
 * images.
 *
 * One frame's way: av_read_frame (the demuxer's next packet of the video stream) -> avcodec_send_packet /
 * avcodec_receive_frame (the decoder, on one thread) -> sws_scale into an RGB24 staging frame with FFmpeg's
 * padded rows -> a copy into the cpose_image's packed rows.
 *
 * Indices come from timestamps, so that a frame the camera or the encoder dropped leaves a gap that a tracker
 * can see: index = (timestamp - start) x time base x frame rate, rounded. Damaged input does not end the
 * stream: each damaged packet or frame is reported once, and the next read goes on (until a hopeless stream
 * has failed MAX_FAILURES_IN_A_ROW times in a row).
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "image/image.h"
#include "video/video.h"

/* Damaged packets or frames in a row after which the reader gives up and reports the end: every read
 * consumes input, so this only bounds how many errors a hopeless stream produces before it ends. */
#define MAX_FAILURES_IN_A_ROW 1000

/* A file held in memory, read through a custom AVIOContext. */
typedef struct memory_source {
  const uint8_t *data; /* borrowed from the caller until the reader is closed */
  size_t size;
  size_t pos;
} memory_source;

/* What the RGB converter was built for. A frame that differs rebuilds it: the size, pixel format and colour
 * space may change in the middle of a stream. */
typedef struct converter_key {
  int width, height, format, colorspace, color_range;
} converter_key;

struct cpose_video_reader {
  char *name;           /* the path, "/dev/video<N>" or "video in memory": every message starts with it */
  memory_source memory; /* cpose_video_open_memory only */
  AVIOContext *io;      /* custom I/O over `memory`, or NULL */
  AVFormatContext *format;
  AVCodecContext *decoder;
  int stream_index;
  AVRational time_base;  /* of the stream's timestamps */
  AVRational frame_rate; /* frames per second: the unit of frame indices */
  int64_t origin;        /* the timestamp of index 0 (the stream's start); AV_NOPTS_VALUE until known */
  int64_t next_index;    /* the smallest index the next frame may get: indices strictly increase */
  AVPacket *packet;
  AVFrame *frame;         /* the decoded frame, in the codec's pixel format */
  struct SwsContext *sws; /* frame -> RGB24, built for `key` */
  converter_key key;
  AVFrame *rgb; /* (height, rgb->linesize[0] bytes) RGB24: sws_scale's output, before the copy */
  cpose_video_info info;
  int failures; /* damaged packets or frames since the last good frame */
  int draining; /* the demuxer is done and the decoder was told to flush */
  int finished; /* nothing more will come: reads report the end */
};

/* ---- memory I/O -------------------------------------------------------------------------------------- */

static int memory_read(void *opaque, uint8_t *buf, int buf_size) {
  memory_source *m = opaque;
  size_t n = m->size - m->pos;
  if (n == 0) return AVERROR_EOF;
  if (n > (size_t)buf_size) n = (size_t)buf_size;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (int)n;
}

static int64_t memory_seek(void *opaque, int64_t offset, int whence) {
  memory_source *m = opaque;
  int64_t size = (int64_t)m->size;
  if (whence & AVSEEK_SIZE) return size;
  whence &= ~AVSEEK_FORCE;
  int64_t base = whence == SEEK_SET   ? 0
                 : whence == SEEK_CUR ? (int64_t)m->pos
                 : whence == SEEK_END ? size
                                      : -1;
  /* offset + base within [0, size], written so that no sum can overflow */
  if (base < 0 || offset < -base || offset > size - base) return AVERROR(EINVAL);
  m->pos = (size_t)(base + offset);
  return base + offset;
}

/* Points a new (not yet opened) demuxer at reader->memory. */
static cpose_status attach_memory(cpose_video_reader *r) {
  enum { BUFFER_SIZE = 1 << 15 };
  uint8_t *buffer = av_malloc(BUFFER_SIZE); /* FFmpeg's allocator: the I/O context may replace it */
  if (buffer) r->io = avio_alloc_context(buffer, BUFFER_SIZE, 0, &r->memory, memory_read, NULL, memory_seek);
  if (r->io) r->format = avformat_alloc_context();
  if (!r->format) {
    if (!r->io) av_free(buffer);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
  }
  r->format->pb = r->io;
  r->format->flags |= AVFMT_FLAG_CUSTOM_IO; /* so that closing the demuxer leaves r->io to us */
  return CPOSE_OK;
}

/* ---- opening ----------------------------------------------------------------------------------------- */

static cpose_status reader_alloc(const char *name, cpose_video_reader **reader_out) {
  cpose_video_reader *r = cpose_calloc(1, sizeof *r);
  if (!r) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  r->name = cpose_strdup(name);
  r->packet = av_packet_alloc();
  r->frame = av_frame_alloc();
  r->origin = AV_NOPTS_VALUE;
  if (!r->name || !r->packet || !r->frame) {
    cpose_video_close(r);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  }
  *reader_out = r;
  return CPOSE_OK;
}

/* The container's frame count; else the duration (the stream's, or the file's) times the frame rate. */
static int64_t count_frames(const AVFormatContext *format, const AVStream *stream, AVRational rate) {
  if (stream->nb_frames > 0) return stream->nb_frames;
  if (stream->duration > 0 && stream->time_base.num > 0 && stream->time_base.den > 0)
    return av_rescale_q(stream->duration, stream->time_base, av_inv_q(rate));
  if (format->duration > 0) return av_rescale_q(format->duration, AV_TIME_BASE_Q, av_inv_q(rate));
  return 0;
}

/* Sets reader->info and the clock that turns timestamps into indices. */
static cpose_status describe_stream(cpose_video_reader *r, const AVStream *stream) {
  const AVCodecParameters *par = stream->codecpar;
  cpose_status status = image_check_size(par->width, par->height, r->name);
  if (status != CPOSE_OK) return status;
  AVRational rate = stream->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = (AVRational){25, 1};
  r->frame_rate = rate;
  r->time_base = stream->time_base;
  r->origin = stream->start_time;
  r->info = (cpose_video_info){.width = par->width,
                               .height = par->height,
                               .fps = av_q2d(rate),
                               .frame_count = count_frames(r->format, stream, rate)};
  return CPOSE_OK;
}

static cpose_status open_decoder(cpose_video_reader *r, const AVStream *stream) {
  const AVCodec *codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "%s: FFmpeg has no decoder for the video codec '%s'", r->name,
                      avcodec_get_name(stream->codecpar->codec_id));
  }
  r->decoder = avcodec_alloc_context3(codec);
  if (!r->decoder) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
  int ret = avcodec_parameters_to_context(r->decoder, stream->codecpar);
  if (ret >= 0) {
    /* One thread: the pose nets use the cores, and a 768x576 MPEG-4 frame decodes in about a millisecond. */
    r->decoder->thread_count = 1;
    r->decoder->max_pixels = CPOSE_IMAGE_MAX_PIXELS; /* also for frames whose size changes mid-stream */
    r->decoder->pkt_timebase = stream->time_base;
    ret = avcodec_open2(r->decoder, codec, NULL);
  }
  if (ret < 0)
    return video_fail(CPOSE_ERR_PARSE, ret, "%s: cannot open the %s decoder", r->name, codec->name);
  return CPOSE_OK;
}

/* avformat_find_stream_info, whose probing decoders get our pixel cap: a file that claims a giant frame must
 * not make them allocate gigabytes before the size check sees the stream. */
static int find_stream_info(AVFormatContext *format) {
  unsigned n = format->nb_streams;
  AVDictionary **options = av_calloc(n ? n : 1, sizeof *options); /* one dictionary per stream */
  int ret = options ? 0 : AVERROR(ENOMEM);
  for (unsigned i = 0; i < n && ret >= 0; i++) {
    ret = av_dict_set_int(&options[i], "max_pixels", CPOSE_IMAGE_MAX_PIXELS, 0);
  }
  if (ret >= 0) ret = avformat_find_stream_info(format, options);
  for (unsigned i = 0; i < n && options; i++) av_dict_free(&options[i]);
  av_free(options);
  return ret;
}

/* Opens the input (`url` with demuxer `input`, NULL to probe the contents), picks its main video stream and
 * opens a decoder for it. `open_fallback`: the status of a failure to open that FFmpeg's error code does not
 * explain (a file: its contents; a webcam: the device). */
static cpose_status reader_start(cpose_video_reader *r, const char *url, const AVInputFormat *input,
                                 AVDictionary **options, cpose_status open_fallback) {
  video_log_clear();
  int ret = avformat_open_input(&r->format, url, input, options);
  if (ret < 0) return video_fail(open_fallback, ret, "%s: cannot open", r->name);
  ret = find_stream_info(r->format);
  if (ret < 0) return video_fail(CPOSE_ERR_PARSE, ret, "%s: cannot read the stream parameters", r->name);
  ret = av_find_best_stream(r->format, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (ret < 0) return cpose_fail(CPOSE_ERR_PARSE, "%s: no video stream", r->name);
  r->stream_index = ret;
  for (unsigned i = 0; i < r->format->nb_streams; i++) { /* the demuxer can skip the others' data */
    if ((int)i != r->stream_index) r->format->streams[i]->discard = AVDISCARD_ALL;
  }
  const AVStream *stream = r->format->streams[r->stream_index];
  cpose_status status = describe_stream(r, stream);
  return status != CPOSE_OK ? status : open_decoder(r, stream);
}

/* Hands the reader out, or frees it when `status` says that opening failed. */
static cpose_status finish_open(cpose_video_reader *r, cpose_status status, cpose_video_reader **reader_out) {
  if (status != CPOSE_OK) {
    cpose_video_close(r);
    return status;
  }
  *reader_out = r;
  return CPOSE_OK;
}

cpose_status cpose_video_open(const char *path, cpose_video_reader **reader_out) {
  if (!path || !reader_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_video_open: %s is NULL",
                      path ? "reader_out" : "path");
  }
  video_init();
  cpose_video_reader *r;
  cpose_status status = reader_alloc(path, &r);
  if (status != CPOSE_OK) return status;
  /* "file:" keeps a path with a colon from naming a protocol (http:, concat:, ...); the whitelist keeps the
   * demuxers that open further URLs (playlists, references in a MOV file) on local files. */
  size_t url_size = strlen(path) + sizeof "file:";
  char *url = cpose_malloc(url_size);
  AVDictionary *options = NULL;
  if (!url || av_dict_set(&options, "protocol_whitelist", "file", 0) < 0) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  } else {
    snprintf(url, url_size, "file:%s", path);
    status = reader_start(r, url, NULL, &options, CPOSE_ERR_PARSE);
  }
  av_dict_free(&options);
  cpose_free(url);
  return finish_open(r, status, reader_out);
}

cpose_status cpose_video_open_memory(const void *data, size_t size, cpose_video_reader **reader_out) {
  static const char name[] = "video in memory";
  if (!reader_out || (!data && size)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_video_open_memory: %s is NULL",
                      reader_out ? "data" : "reader_out");
  }
  if (size == 0) return cpose_fail(CPOSE_ERR_PARSE, "%s: empty (0 bytes)", name);
  video_init();
  cpose_video_reader *r;
  cpose_status status = reader_alloc(name, &r);
  if (status != CPOSE_OK) return status;
  r->memory = (memory_source){.data = data, .size = size, .pos = 0};
  status = attach_memory(r);
  if (status == CPOSE_OK) status = reader_start(r, "", NULL, NULL, CPOSE_ERR_PARSE);
  return finish_open(r, status, reader_out);
}

cpose_status cpose_video_open_webcam(int index, cpose_video_reader **reader_out) {
  if (!reader_out || index < 0) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_video_open_webcam: %s",
                      reader_out ? "the index is negative" : "reader_out is NULL");
  }
  video_init();
  char device[32];
  snprintf(device, sizeof device, "/dev/video%d", index);
  const AVInputFormat *v4l2 = av_find_input_format("video4linux2");
  if (!v4l2) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "%s: this FFmpeg has no video4linux2 input (libavdevice)",
                      device);
  }
  cpose_video_reader *r;
  cpose_status status = reader_alloc(device, &r);
  if (status != CPOSE_OK) return status;
  return finish_open(r, reader_start(r, device, v4l2, NULL, CPOSE_ERR_IO), reader_out);
}

void cpose_video_close(cpose_video_reader *reader) {
  if (!reader) return;
  sws_freeContext(reader->sws);
  av_frame_free(&reader->rgb);
  av_frame_free(&reader->frame);
  av_packet_free(&reader->packet);
  avcodec_free_context(&reader->decoder);
  avformat_close_input(&reader->format);
  if (reader->io) av_freep(&reader->io->buffer); /* avio_context_free leaves the buffer */
  avio_context_free(&reader->io);
  cpose_free(reader->name);
  cpose_free(reader);
}

void cpose_video_reader_info(const cpose_video_reader *reader, cpose_video_info *info_out) {
  if (reader && info_out) *info_out = reader->info;
}

/* ---- frame indices ----------------------------------------------------------------------------------- */

/* The index that timestamp `ts` stands for, rounded to the nearest frame; -1 when there is no usable
 * timestamp (none, before the start, or so far off that it is garbage). */
static int64_t index_of_timestamp(const cpose_video_reader *r, int64_t ts) {
  int64_t offset;
  if (ts == AV_NOPTS_VALUE || r->origin == AV_NOPTS_VALUE || r->time_base.num <= 0 || r->time_base.den <= 0 ||
      __builtin_sub_overflow(ts, r->origin, &offset) || offset < 0) {
    return -1;
  }
  int64_t index = av_rescale_q(offset, r->time_base, av_inv_q(r->frame_rate));
  return index >= 0 && index < INT64_MAX / 2 ? index : -1;
}

/* The index of the frame just decoded: from its timestamp, else one past the previous frame's, which is also
 * the least it can get: a missing, repeated or backward timestamp must not repeat an index. */
static int64_t take_index(cpose_video_reader *r, const AVFrame *frame) {
  if (r->origin == AV_NOPTS_VALUE) r->origin = frame->best_effort_timestamp; /* the stream did not say */
  int64_t index = index_of_timestamp(r, frame->best_effort_timestamp);
  if (index < r->next_index) index = r->next_index;
  r->next_index = index + 1;
  return index;
}

/* The index of the frame that reader->packet holds, for messages (it does not move the count). */
static int64_t packet_index(const cpose_video_reader *r) {
  const AVPacket *p = r->packet;
  int64_t index = index_of_timestamp(r, p->pts != AV_NOPTS_VALUE ? p->pts : p->dts);
  return index > r->next_index ? index : r->next_index;
}

/* ---- decoding ---------------------------------------------------------------------------------------- */

/* Reports a damaged packet or frame (CPOSE_ERR_PARSE) and counts it. */
static cpose_status damaged(cpose_video_reader *r, int64_t index, const char *reason) {
  if (++r->failures < MAX_FAILURES_IN_A_ROW) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: frame %lld: %s%s", r->name, (long long)index, reason,
                      video_log_detail());
  }
  r->finished = 1;
  return cpose_fail(CPOSE_ERR_PARSE, "%s: frame %lld: %s%s; giving up after %d damaged frames in a row",
                    r->name, (long long)index, reason, video_log_detail(), MAX_FAILURES_IN_A_ROW);
}

/* The next packet of the video stream into reader->packet: 0, AVERROR_EOF or the demuxer's error. */
static int read_video_packet(cpose_video_reader *r) {
  for (;;) {
    int ret = av_read_frame(r->format, r->packet);
    if (ret < 0 || r->packet->stream_index == r->stream_index) return ret;
    av_packet_unref(r->packet);
  }
}

/* The demuxer has nothing more (`ret`: AVERROR_EOF or the error that stopped it). The decoder may still hold
 * frames (B-frames wait for the frame after them): flushing hands them out on the next reads. A file cut
 * short simply ends; an error before the end of the data is reported once. */
static cpose_status end_input(cpose_video_reader *r, int ret) {
  r->draining = 1;
  avcodec_send_packet(r->decoder, NULL); /* cannot fail: the decoder is not draining yet */
  if (ret == AVERROR_EOF || (r->format->pb && avio_feof(r->format->pb))) return CPOSE_OK;
  return video_fail(CPOSE_ERR_PARSE, ret, "%s: frame %lld: cannot read further", r->name,
                    (long long)r->next_index);
}

/* Gives the decoder the next packet, or tells it to flush at the end of the input. */
static cpose_status feed_decoder(cpose_video_reader *r) {
  video_log_clear();
  int ret = read_video_packet(r);
  if (ret < 0) return end_input(r, ret);
  int64_t index = packet_index(r);
  ret = avcodec_send_packet(r->decoder, r->packet);
  av_packet_unref(r->packet);
  return ret < 0 ? damaged(r, index, av_err2str(ret)) : CPOSE_OK;
}

/* Builds the converter and the RGB staging frame for `frame`, unless the previous frame had the same size,
 * pixel format and colour space. On failure there is no converter, so the next frame starts over. */
static cpose_status prepare_converter(cpose_video_reader *r, const AVFrame *frame, const char *what) {
  converter_key key = {frame->width, frame->height, frame->format, frame->colorspace, frame->color_range};
  if (r->sws && memcmp(&key, &r->key, sizeof key) == 0) return CPOSE_OK;
  sws_freeContext(r->sws);
  r->sws = NULL;
  av_frame_free(&r->rgb);
  cpose_status status = image_check_size(frame->width, frame->height, what);
  if (status != CPOSE_OK) return status;
  struct SwsContext *sws = sws_getContext(frame->width, frame->height, frame->format, frame->width,
                                          frame->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
  if (!sws) {
    const char *format = av_get_pix_fmt_name(frame->format);
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "%s: cannot convert pixel format %s to RGB", what,
                      format ? format : "(none)");
  }
  /* Without this, every YUV frame is read as BT.601; HD video is mostly BT.709. A yuvj* format is already
   * full range (src_range as sws_getContext set it). */
  int *inverse, *table, src_range, dst_range, brightness, contrast, saturation;
  sws_getColorspaceDetails(sws, &inverse, &src_range, &table, &dst_range, &brightness, &contrast,
                           &saturation);
  int colorspace = frame->colorspace == AVCOL_SPC_RGB ? SWS_CS_DEFAULT : (int)frame->colorspace;
  sws_setColorspaceDetails(sws, sws_getCoefficients(colorspace),
                           src_range || frame->color_range == AVCOL_RANGE_JPEG, table, dst_range, brightness,
                           contrast, saturation);
  r->rgb = video_frame_alloc(frame->width, frame->height, AV_PIX_FMT_RGB24);
  if (!r->rgb) {
    sws_freeContext(sws);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
  }
  r->sws = sws;
  r->key = key;
  return CPOSE_OK;
}

/* Converts the decoded frame to a new RGB image. */
static cpose_status convert_frame(cpose_video_reader *r, const AVFrame *frame, int64_t index,
                                  cpose_image **image_out) {
  char what[300];
  snprintf(what, sizeof what, "%s: frame %lld", r->name, (long long)index);
  cpose_status status = prepare_converter(r, frame, what);
  if (status != CPOSE_OK) return status;
  int rows = sws_scale(r->sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height,
                       r->rgb->data, r->rgb->linesize);
  if (rows != frame->height) return cpose_fail(CPOSE_ERR_INTERNAL, "%s: the conversion to RGB failed", what);
  cpose_image *image;
  status = cpose_image_create(frame->width, frame->height, &image);
  if (status != CPOSE_OK) return cpose_fail_context(status, "%s", what);
  av_image_copy_plane(image->rgb, 3 * frame->width, r->rgb->data[0], r->rgb->linesize[0], 3 * frame->width,
                      frame->height);
  *image_out = image;
  return CPOSE_OK;
}

/* Hands out the frame the decoder just returned (reader->frame), or reports it when the decoder found
 * errors in it: a concealed frame shows smeared blocks, which the pose nets would take for people. */
static cpose_status take_frame(cpose_video_reader *r, cpose_image **frame_out, int64_t *index_out) {
  AVFrame *frame = r->frame;
  int64_t index = take_index(r, frame);
  cpose_image *image = NULL;
  cpose_status status = (frame->flags & AV_FRAME_FLAG_CORRUPT) || frame->decode_error_flags
                            ? damaged(r, index, "the decoder found errors in it")
                            : convert_frame(r, frame, index, &image);
  av_frame_unref(frame);
  if (status != CPOSE_OK) return status;
  r->failures = 0;
  *frame_out = image;
  *index_out = index;
  return CPOSE_OK;
}

cpose_status cpose_video_read(cpose_video_reader *reader, cpose_image **frame_out, int64_t *index_out) {
  if (!reader || !frame_out || !index_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_video_read: %s is NULL",
                      !reader      ? "reader"
                      : !frame_out ? "frame_out"
                                   : "index_out");
  }
  while (!reader->finished) {
    int ret = avcodec_receive_frame(reader->decoder, reader->frame);
    if (ret == 0) return take_frame(reader, frame_out, index_out);
    if (ret == AVERROR_EOF || (ret == AVERROR(EAGAIN) && reader->draining)) {
      reader->finished = 1;
    } else if (ret != AVERROR(EAGAIN)) {
      return damaged(reader, reader->next_index, av_err2str(ret));
    } else {
      cpose_status status = feed_decoder(reader);
      if (status != CPOSE_OK) return status;
    }
  }
  *frame_out = NULL;
  *index_out = -1;
  return CPOSE_OK;
}
