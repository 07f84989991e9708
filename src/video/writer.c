/*
 * Video output through FFmpeg: RGB images -> sws_scale to YUV 4:2:0 -> H.264 (libx264: preset veryfast,
 * CRF 23, one thread, a keyframe every 2 s) -> the container FFmpeg picks from the file name.
 *
 * The file is written completely or not at all: FFmpeg writes to a temporary file beside the destination
 * (cpose_atomic_open's), which cpose_video_writer_close renames over it. FFmpeg opens that file by name
 * rather than through our FILE stream because the MP4 muxer's +faststart pass reopens it by name to move
 * the index (moov) to the front, where a player reading over a network finds it first.
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file.h"
#include "image/image.h"
#include "video/video.h"

struct cpose_video_writer {
  char *path;              /* the destination: messages start with it, and close renames onto it */
  cpose_atomic_file file;  /* reserves the temporary file beside `path` (created exclusively) */
  AVFormatContext *format; /* the muxer, writing to file.tmp_path */
  AVCodecContext *encoder; /* H.264, yuv420p, time base 1/fps: one tick per frame */
  AVStream *stream;
  struct SwsContext *sws; /* RGB24 -> YUV420P, both at the encoder's size */
  AVFrame *rgb;           /* the caller's frame padded to the encoder's size: (height, linesize[0]) RGB24 */
  AVFrame *yuv;           /* yuv420p at the encoder's size: width and height rounded up to even */
  AVPacket *packet;
  int width, height; /* of the frames the caller writes */
  int64_t next_pts;
  cpose_status error; /* the first failure to encode or write: the file is lost, later calls fail */
};

/* The muxer FFmpeg picks from the name: it must write one file and be able to hold H.264. */
static cpose_status pick_container(const char *path, const AVOutputFormat **container_out) {
  const AVOutputFormat *container = av_guess_format(NULL, path, NULL);
  if (!container) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT,
                      "%s: cannot tell the container from the name (use .mp4, .mkv or .avi)", path);
  }
  if ((container->flags & AVFMT_NOFILE) || container->video_codec == AV_CODEC_ID_NONE ||
      avformat_query_codec(container, AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL) == 0) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "%s: the %s container cannot hold H.264 video", path,
                      container->name);
  }
  *container_out = container;
  return CPOSE_OK;
}

/* libx264 when FFmpeg has it, else any H.264 encoder (which ignores the options it does not know). */
static cpose_status open_encoder(cpose_video_writer *w, double fps, int global_header) {
  const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) codec = avcodec_find_encoder(AV_CODEC_ID_H264);
  if (!codec) return cpose_fail(CPOSE_ERR_UNSUPPORTED, "%s: this FFmpeg has no H.264 encoder", w->path);
  AVCodecContext *enc = w->encoder = avcodec_alloc_context3(codec);
  if (!enc) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
  AVRational rate = av_d2q(fps, 100000); /* 29.97002997 -> 30000/1001 */
  enc->width = (w->width + 1) & ~1;      /* 4:2:0 halves both sides */
  enc->height = (w->height + 1) & ~1;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->time_base = av_inv_q(rate);
  enc->framerate = rate;
  enc->gop_size = fps >= 1 ? (int)lround(2 * fps) : 1; /* a keyframe every 2 s keeps seeking cheap */
  /* One thread: the writer runs beside the pose nets, which use the cores. */
  enc->thread_count = 1;
  enc->colorspace = AVCOL_SPC_SMPTE170M; /* what sws_scale's RGB -> YUV uses (BT.601, limited range) */
  enc->color_range = AVCOL_RANGE_MPEG;
  if (global_header) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary *options = NULL;
  av_dict_set(&options, "preset", "veryfast", 0);
  av_dict_set(&options, "crf", "23", 0);
  int ret = avcodec_open2(enc, codec, &options);
  av_dict_free(&options);
  if (ret < 0) {
    return video_fail(CPOSE_ERR_UNSUPPORTED, ret, "%s: cannot open the %s encoder for %dx%d at %g fps",
                      w->path, codec->name, enc->width, enc->height, fps);
  }
  return CPOSE_OK;
}

/* Creates the muxer on the temporary file, adds the stream and writes the header. */
static cpose_status open_muxer(cpose_video_writer *w, const AVOutputFormat *container) {
  size_t url_size = strlen(w->file.tmp_path) + sizeof "file:";
  char *url = cpose_malloc(url_size); /* "file:": a colon in the path must not name a protocol */
  if (!url) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
  snprintf(url, url_size, "file:%s", w->file.tmp_path);
  int ret = avformat_alloc_output_context2(&w->format, container, NULL, url);
  if (ret >= 0) {
    w->stream = avformat_new_stream(w->format, NULL);
    ret = w->stream ? avcodec_parameters_from_context(w->stream->codecpar, w->encoder) : AVERROR(ENOMEM);
  }
  if (ret >= 0) {
    w->stream->time_base = w->encoder->time_base; /* a wish: the muxer may pick another one */
    w->stream->avg_frame_rate = w->encoder->framerate;
    ret = avio_open(&w->format->pb, url, AVIO_FLAG_WRITE);
  }
  cpose_free(url);
  AVDictionary *options = NULL;
  if (ret >= 0) ret = av_dict_set(&options, "movflags", "+faststart", 0); /* MP4/MOV only; others ignore it */
  if (ret >= 0) ret = avformat_write_header(w->format, &options);
  av_dict_free(&options);
  if (ret < 0) {
    return video_fail(CPOSE_ERR_UNSUPPORTED, ret, "%s: cannot start the %s file", w->path, container->name);
  }
  return CPOSE_OK;
}

static cpose_status alloc_frames(cpose_video_writer *w) {
  w->packet = av_packet_alloc();
  int width = w->encoder->width, height = w->encoder->height;
  w->rgb = video_frame_alloc(width, height, AV_PIX_FMT_RGB24);
  w->yuv = video_frame_alloc(width, height, AV_PIX_FMT_YUV420P);
  w->sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                          NULL, NULL, NULL);
  if (!w->packet || !w->rgb || !w->yuv || !w->sws) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
  }
  return CPOSE_OK;
}

cpose_status cpose_video_writer_open(const char *path, int width, int height, double fps,
                                     cpose_video_writer **writer_out) {
  if (!path || !writer_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_video_writer_open: %s is NULL",
                      path ? "writer_out" : "path");
  }
  cpose_status status = image_check_size(width, height, path);
  if (status != CPOSE_OK) return status == CPOSE_ERR_PARSE ? CPOSE_ERR_INVALID_ARGUMENT : status;
  if (!(fps > 0 && fps <= 1000)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "%s: %g frames per second is not in (0, 1000]", path, fps);
  }
  const AVOutputFormat *container = NULL;
  status = pick_container(path, &container);
  if (status != CPOSE_OK) return status;
  video_init();
  video_log_clear();
  cpose_video_writer *w = cpose_calloc(1, sizeof *w);
  if (!w) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  w->width = width;
  w->height = height;
  w->path = cpose_strdup(path);
  status = w->path ? cpose_atomic_open(w->path, &w->file)
                   : cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  if (status == CPOSE_OK) status = open_encoder(w, fps, container->flags & AVFMT_GLOBALHEADER);
  if (status == CPOSE_OK) status = open_muxer(w, container);
  if (status == CPOSE_OK) status = alloc_frames(w);
  if (status != CPOSE_OK) {
    cpose_video_writer_close(w, 0);
    return status;
  }
  *writer_out = w;
  return CPOSE_OK;
}

/* Remembers the first failure: after it, the file is lost. */
static cpose_status writer_failed(cpose_video_writer *w, cpose_status status) {
  if (w->error == CPOSE_OK) w->error = status;
  return status;
}

/* Moves every packet the encoder has ready into the muxer. */
static cpose_status write_packets(cpose_video_writer *w) {
  for (;;) {
    int ret = avcodec_receive_packet(w->encoder, w->packet);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return CPOSE_OK;
    if (ret < 0)
      return writer_failed(w, video_fail(CPOSE_ERR_INTERNAL, ret, "%s: the encoder failed", w->path));
    av_packet_rescale_ts(w->packet, w->encoder->time_base, w->stream->time_base);
    w->packet->stream_index = w->stream->index;
    ret = av_interleaved_write_frame(w->format, w->packet); /* takes the packet's data */
    if (ret < 0) return writer_failed(w, video_fail(CPOSE_ERR_IO, ret, "%s: cannot write", w->path));
  }
}

/* Copies `image` into the top-left of the staging frame. H.264 4:2:0 needs even sides: an odd width or height
 * gets one more column or row, a copy of the last one. This happens before the conversion to YUV because
 * sws_scale computes an odd row's last chroma sample from the pixel beyond it as well. */
static void copy_padded(AVFrame *rgb, const cpose_image *image) {
  size_t row_bytes = 3 * (size_t)image->width;
  av_image_copy_plane(rgb->data[0], rgb->linesize[0], image->rgb, (int)row_bytes, (int)row_bytes,
                      image->height);
  for (int y = 0; y < image->height && rgb->width > image->width; y++) {
    uint8_t *row = rgb->data[0] + (size_t)y * rgb->linesize[0];
    memcpy(row + row_bytes, row + row_bytes - 3, 3);
  }
  if (rgb->height > image->height) {
    uint8_t *last = rgb->data[0] + (size_t)(image->height - 1) * rgb->linesize[0];
    memcpy(last + rgb->linesize[0], last, 3 * (size_t)rgb->width);
  }
}

/* Converts one frame to YUV and gives it to the encoder, then writes what the encoder has ready. */
static cpose_status encode(cpose_video_writer *w, const cpose_image *frame) {
  video_log_clear();
  /* The encoder may still hold a reference to the previous frame's buffer. */
  int ret = av_frame_make_writable(w->yuv);
  if (ret < 0) {
    return video_fail(CPOSE_ERR_OUT_OF_MEMORY, ret, "%s: frame %lld", w->path, (long long)w->next_pts);
  }
  copy_padded(w->rgb, frame);
  sws_scale(w->sws, (const uint8_t *const *)w->rgb->data, w->rgb->linesize, 0, w->rgb->height, w->yuv->data,
            w->yuv->linesize);
  w->yuv->pts = w->next_pts++;
  ret = avcodec_send_frame(w->encoder, w->yuv);
  if (ret < 0) {
    return writer_failed(w, video_fail(CPOSE_ERR_INTERNAL, ret, "%s: cannot encode frame %lld", w->path,
                                       (long long)w->yuv->pts));
  }
  return write_packets(w);
}

cpose_status cpose_video_write(cpose_video_writer *writer, const cpose_image *frame) {
  if (!writer || !frame || !frame->rgb) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_video_write: %s is NULL",
                      !writer ? "writer" : "frame");
  }
  if (writer->error != CPOSE_OK) {
    return cpose_fail(writer->error, "%s: an earlier frame could not be written", writer->path);
  }
  if (frame->width != writer->width || frame->height != writer->height) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "%s: the frame is %dx%d pixels, the video %dx%d",
                      writer->path, frame->width, frame->height, writer->width, writer->height);
  }
  return encode(writer, frame);
}

/* Drains the encoder (its look-ahead holds the last frames), writes the trailer (an MP4's index; with
 * +faststart that rewrites the file to move it to the front) and closes the file. */
static cpose_status finish_file(cpose_video_writer *w) {
  if (w->error != CPOSE_OK) return cpose_fail(w->error, "%s: not written: an earlier frame failed", w->path);
  video_log_clear();
  int ret = avcodec_send_frame(w->encoder, NULL);
  if (ret < 0) return video_fail(CPOSE_ERR_INTERNAL, ret, "%s: cannot flush the encoder", w->path);
  cpose_status status = write_packets(w);
  if (status != CPOSE_OK) return status;
  ret = av_write_trailer(w->format);
  if (ret >= 0) ret = avio_closep(&w->format->pb);
  if (ret < 0) return video_fail(CPOSE_ERR_IO, ret, "%s: cannot finish the file", w->path);
  return CPOSE_OK;
}

cpose_status cpose_video_writer_close(cpose_video_writer *writer, int keep) {
  if (!writer) return CPOSE_OK;
  cpose_status status = keep ? finish_file(writer) : CPOSE_OK;
  sws_freeContext(writer->sws);
  av_frame_free(&writer->rgb);
  av_frame_free(&writer->yuv);
  av_packet_free(&writer->packet);
  avcodec_free_context(&writer->encoder);
  if (writer->format) avio_closep(&writer->format->pb);
  avformat_free_context(writer->format);
  if (keep && status == CPOSE_OK) {
    status = cpose_atomic_commit(&writer->file); /* closes our unused stream, renames; errors name the path */
  } else {
    cpose_atomic_abandon(&writer->file);
  }
  cpose_free(writer->path);
  cpose_free(writer);
  return status;
}
