/*
 * Writes the generated seeds of fuzz/corpus/ (the hand-written ones, JSON text, are committed as they are):
 *   fuzz_image/          small JPEGs (libjpeg-turbo: baseline, 4:4:4, 4:2:2, grey, RGB, progressive,
 *                        arithmetic, restart markers, CMYK, YCCK, EXIF orientations in both byte orders) and
 *                        PNGs (libpng: every color type, bit depths 1 to 16, palette and tRNS, interlaced)
 *   fuzz_model_weights/  one per fixed model of fuzz_model_weights.c: its index byte, then valid weights
 *   fuzz_model_json/     the same models as model.json, a NUL, then the weights
 *   fuzz_video/          tiny videos (FFmpeg's libraries: H.264 in MP4 and Matroska, MPEG-4 part 2 and
 *                        MJPEG in AVI, MPEG-2 in MPEG-TS, FFV1 grey with odd sizes, raw RGB in NUT, GIF,
 *                        PNG in MOV)
 * Built with the fuzz targets (target fuzz_make_seeds, not instrumented for libFuzzer):
 *   build-fuzz/fuzz/fuzz_make_seeds fuzz/corpus
 * The encoders are called directly, not through cpose, so that the seeds use features cpose's encoder does
 * not write.
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>

/* jpeglib.h needs FILE and size_t from stdio.h: it stays in its own block, after it. */
#include <jpeglib.h>
#include <png.h>

#include "fuzz_model_weights.c"

static const char *seeds_root;
static int seeds_written;

static void write_seed(const char *target, const char *name, const void *data, size_t size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/%s", seeds_root, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    fprintf(stderr, "make_seeds: cannot write %s (does the folder exist?)\n", path);
    exit(1);
  }
  seeds_written++;
}

/* A test pattern: sample c of pixel (x, y), 0..255, with edges and gradients. */
static unsigned pattern(int x, int y, int c) {
  return (unsigned)(x * 255 / 16 + y * 97 + c * 80 + ((x ^ y) & 4) * 30) & 255;
}

/* ---- JPEG ---------------------------------------------------------------------------------------------- */

typedef struct jpeg_seed {
  const char *name;
  int width, height;
  int components;       /* 1 grey, 3 RGB, 4 CMYK */
  J_COLOR_SPACE stored; /* the file's color space */
  int quality;
  int h_samp, v_samp; /* of the first component: 2,2 = 4:2:0; 2,1 = 4:2:2; 1,1 = 4:4:4 */
  int progressive, arithmetic, restart_rows;
  int orientation;         /* EXIF orientation, 0: no APP1 */
  int big_endian, as_long; /* of the EXIF block: "MM" byte order; the tag stored as a LONG */
} jpeg_seed;

/* APP1 payload: "Exif\0\0", a TIFF header, IFD0 with the one orientation entry. */
static size_t exif_block(const jpeg_seed *s, uint8_t *out) {
  uint8_t *p = out;
  memcpy(p, "Exif\0\0", 6), p += 6;
  const int be = s->big_endian;
#define PUT16(v) \
  (be ? (*p++ = (uint8_t)((v) >> 8), *p++ = (uint8_t)(v)) : (*p++ = (uint8_t)(v), *p++ = (uint8_t)((v) >> 8)))
#define PUT32(v) (be ? (PUT16((v) >> 16), PUT16((v)&0xffff)) : (PUT16((v)&0xffff), PUT16((v) >> 16)))
  memcpy(p, be ? "MM" : "II", 2), p += 2;
  PUT16(42);
  PUT32(8u); /* IFD0 right after the header */
  PUT16(1);  /* one entry */
  PUT16(0x0112);
  PUT16(s->as_long ? 4 : 3);
  PUT32(1u);
  if (s->as_long) {
    PUT32((unsigned)s->orientation);
  } else {
    PUT16(s->orientation);
    PUT16(0);
  }
  PUT32(0u); /* no next IFD */
#undef PUT16
#undef PUT32
  return (size_t)(p - out);
}

static void write_jpeg(const jpeg_seed *s) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err); /* exits on error: fine for a tool */
  jpeg_create_compress(&cinfo);
  unsigned char *data = NULL;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &data, &size);
  cinfo.image_width = (JDIMENSION)s->width;
  cinfo.image_height = (JDIMENSION)s->height;
  cinfo.input_components = s->components;
  cinfo.in_color_space = s->components == 1 ? JCS_GRAYSCALE : s->components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, s->stored);
  jpeg_set_quality(&cinfo, s->quality, TRUE);
  cinfo.comp_info[0].h_samp_factor = s->h_samp;
  cinfo.comp_info[0].v_samp_factor = s->v_samp;
  for (int c = 1; c < cinfo.num_components; c++) {
    cinfo.comp_info[c].h_samp_factor = 1;
    cinfo.comp_info[c].v_samp_factor = 1;
  }
  if (s->progressive) jpeg_simple_progression(&cinfo);
  cinfo.arith_code = s->arithmetic ? TRUE : FALSE;
  cinfo.restart_in_rows = s->restart_rows;
  jpeg_start_compress(&cinfo, TRUE);
  if (s->orientation) {
    uint8_t exif[64];
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, exif, (unsigned)exif_block(s, exif));
  }
  uint8_t row[64 * 4];
  while (cinfo.next_scanline < cinfo.image_height) {
    int y = (int)cinfo.next_scanline;
    for (int x = 0; x < s->width; x++) {
      for (int c = 0; c < s->components; c++) row[x * s->components + c] = (uint8_t)pattern(x, y, c);
    }
    JSAMPROW rows[1] = {row};
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  write_seed("fuzz_image", s->name, data, size);
  free(data);
}

/* ---- PNG ----------------------------------------------------------------------------------------------- */

typedef struct png_seed {
  const char *name;
  int width, height;
  int color_type; /* PNG_COLOR_TYPE_* */
  int bit_depth;
  int interlaced;
  int trns; /* a tRNS chunk: palette alphas, or the transparent grey / RGB value */
} png_seed;

typedef struct png_buffer {
  uint8_t *data;
  size_t size, cap;
} png_buffer;

static void png_buffer_write(png_structp png, png_bytep data, size_t n) {
  png_buffer *b = png_get_io_ptr(png);
  if (b->size + n > b->cap) {
    b->cap = (b->size + n) * 2;
    b->data = realloc(b->data, b->cap);
    if (!b->data) png_error(png, "out of memory");
  }
  memcpy(b->data + b->size, data, n);
  b->size += n;
}

static void png_buffer_flush(png_structp png) {
  (void)png;
}

static void write_png(const png_seed *s) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  png_buffer out = {0};
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    fprintf(stderr, "make_seeds: libpng failed on %s\n", s->name);
    exit(1);
  }
  png_set_write_fn(png, &out, png_buffer_write, png_buffer_flush);
  png_set_IHDR(png, info, (png_uint_32)s->width, (png_uint_32)s->height, s->bit_depth, s->color_type,
               s->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  const int max = (1 << s->bit_depth) - 1;
  if (s->color_type == PNG_COLOR_TYPE_PALETTE) {
    png_color palette[16];
    png_byte alphas[16];
    for (int i = 0; i < 16; i++) {
      palette[i] = (png_color){(png_byte)(i * 16), (png_byte)(255 - i * 16), (png_byte)(i * 40)};
      alphas[i] = (png_byte)(i * 17);
    }
    png_set_PLTE(png, info, palette, max + 1);
    if (s->trns) png_set_tRNS(png, info, alphas, max + 1, NULL);
  } else if (s->trns) {
    png_color_16 transparent = {0, (png_uint_16)(max / 3), (png_uint_16)(max / 3), (png_uint_16)(max / 3),
                                (png_uint_16)(max / 3)};
    png_set_tRNS(png, info, NULL, 0, &transparent);
  }
  png_set_compression_level(png, 9);
  png_write_info(png, info);
  if (s->bit_depth < 8) png_set_packing(png); /* rows below hold one byte per sample */
  const int channels = png_get_channels(png, info);
  const int bytes = s->bit_depth == 16 ? 2 : 1;
  const int passes = png_set_interlace_handling(png);
  uint8_t row[64 * 4 * 2];
  for (int pass = 0; pass < passes; pass++) {
    for (int y = 0; y < s->height; y++) {
      for (int x = 0; x < s->width; x++) {
        for (int c = 0; c < channels; c++) {
          unsigned v = pattern(x, y, c) * (unsigned)max / 255;
          uint8_t *at = row + ((size_t)x * channels + c) * bytes;
          if (bytes == 2) {
            v = v * 257 + (unsigned)x; /* low byte not a copy of the high one */
            at[0] = (uint8_t)(v >> 8), at[1] = (uint8_t)v;
          } else {
            at[0] = (uint8_t)v;
          }
        }
      }
      png_write_row(png, row);
    }
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  write_seed("fuzz_image", s->name, out.data, out.size);
  free(out.data);
}

/* ---- models -------------------------------------------------------------------------------------------- */

/* Valid weights of model_weights_models[i] (fuzz_model_weights.c documents each). */
static size_t model_seed_weights(size_t i, uint8_t *out) {
  static const int32_t shapes[] = {8, 4, 1, 0, 7, 4, 2, 1, 0, 2, 1, 0}, reduce[] = {2, 1, 2},
                       resize[] = {8, 6, -1, 3};
  static const uint8_t quantized[] = {0x00, 0xc0, 0, 2, 3, 10},
                       dtypes[] = {1, 0, 1, 1, 0, 0, 100, 0, 200, 0, 0xff, 0xff, 0, 1, 2, 3};
  switch (i) {
    case 0:
      memcpy(out, quantized, sizeof quantized);
      return sizeof quantized;
    case 1:
      memcpy(out, shapes, sizeof shapes);
      return sizeof shapes; /* little-endian host */
    case 2:
      memcpy(out, reduce, sizeof reduce);
      return sizeof reduce;
    case 3:
      memcpy(out, resize, sizeof resize);
      return sizeof resize;
    case 4:
      memcpy(out, dtypes, sizeof dtypes);
      return sizeof dtypes;
    case 5: { /* float16 filter (0.125 .. 0.3125), float32 bias, uint8 depthwise filter */
      size_t n = 0;
      for (int k = 0; k < 72; k++) {
        uint16_t h = (uint16_t)(0x3000 + (k * 7 % 11) * 0x80);
        out[n++] = (uint8_t)h, out[n++] = (uint8_t)(h >> 8);
      }
      const float bias[4] = {0.5f, -0.5f, 1.0f, 0.0f};
      memcpy(out + n, bias, sizeof bias), n += sizeof bias;
      for (int k = 0; k < 18; k++) out[n++] = (uint8_t)(k * 29);
      return n;
    }
  }
  return 0;
}

static void write_model_seeds(void) {
  static const char *const names[] = {"quantized", "shapes", "reduce", "resize", "dtypes", "conv"};
  for (size_t i = 0; i < MODEL_WEIGHTS_COUNT; i++) {
    uint8_t weights[512];
    size_t n = model_seed_weights(i, weights);
    uint8_t seed[1 + sizeof weights];
    seed[0] = (uint8_t)i;
    memcpy(seed + 1, weights, n);
    write_seed("fuzz_model_weights", names[i], seed, n + 1);
    const char *json = model_weights_models[i];
    size_t json_size = strlen(json);
    uint8_t *both = malloc(json_size + 1 + n);
    if (!both) exit(1);
    memcpy(both, json, json_size);
    both[json_size] = 0;
    memcpy(both + json_size + 1, weights, n);
    char name[64];
    snprintf(name, sizeof name, "%s.json", names[i]);
    write_seed("fuzz_model_json", name, both, json_size + 1 + n);
    free(both);
  }
}

/* ---- video --------------------------------------------------------------------------------------------- */

typedef struct video_seed {
  const char *name; /* the extension picks the container */
  const char *codec;
  enum AVPixelFormat format;
  int width, height, frames;
} video_seed;

static void video_die(const video_seed *s, const char *what, int averror) {
  char reason[AV_ERROR_MAX_STRING_SIZE] = "";
  if (averror < 0) av_strerror(averror, reason, sizeof reason);
  fprintf(stderr, "make_seeds: %s: %s failed %s\n", s->name, what, reason);
  exit(1);
}

/* Encodes and muxes every packet the encoder has ready (all of them when `frame` is NULL: the flush). */
static void video_encode(const video_seed *s, AVFormatContext *out, AVCodecContext *enc, AVStream *stream,
                         const AVFrame *frame, AVPacket *packet) {
  int err = avcodec_send_frame(enc, frame);
  if (err < 0) video_die(s, "avcodec_send_frame", err);
  while ((err = avcodec_receive_packet(enc, packet)) >= 0) {
    if (packet->duration <= 0) packet->duration = 1; /* one frame: MP4 and MOV need it for the last one */
    av_packet_rescale_ts(packet, enc->time_base, stream->time_base);
    packet->stream_index = stream->index;
    if ((err = av_interleaved_write_frame(out, packet)) < 0) video_die(s, "av_interleaved_write_frame", err);
  }
  if (err != AVERROR(EAGAIN) && err != AVERROR_EOF) video_die(s, "avcodec_receive_packet", err);
}

static void write_video(const video_seed *s) {
  char path[1024];
  snprintf(path, sizeof path, "%s/fuzz_video/%s", seeds_root, s->name);
  const AVCodec *codec = avcodec_find_encoder_by_name(s->codec);
  if (!codec) {
    fprintf(stderr, "make_seeds: %s: FFmpeg has no encoder '%s'; seed skipped\n", s->name, s->codec);
    return;
  }
  AVFormatContext *out = NULL;
  int err = avformat_alloc_output_context2(&out, NULL, NULL, path);
  if (err < 0) video_die(s, "avformat_alloc_output_context2", err);
  AVStream *stream = avformat_new_stream(out, NULL);
  AVCodecContext *enc = avcodec_alloc_context3(codec);
  if (!stream || !enc) video_die(s, "allocation", 0);
  enc->width = s->width;
  enc->height = s->height;
  enc->pix_fmt = s->format;
  enc->time_base = (AVRational){1, 25};
  enc->framerate = (AVRational){25, 1};
  enc->gop_size = 3;
  enc->bit_rate = 64000;
  enc->strict_std_compliance = FF_COMPLIANCE_UNOFFICIAL; /* MJPEG with limited-range YUV */
  if (out->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  /* No random ids, dates or version strings: the same seeds on every run. */
  enc->flags |= AV_CODEC_FLAG_BITEXACT;
  out->flags |= AVFMT_FLAG_BITEXACT;
  AVDictionary *options = NULL;
  if (strcmp(s->codec, "libx264") == 0) av_dict_set(&options, "preset", "ultrafast", 0);
  if ((err = avcodec_open2(enc, codec, &options)) < 0) video_die(s, "avcodec_open2", err);
  av_dict_free(&options);
  if ((err = avcodec_parameters_from_context(stream->codecpar, enc)) < 0)
    video_die(s, "codec parameters", err);
  stream->time_base = enc->time_base;
  if ((err = avio_open(&out->pb, path, AVIO_FLAG_WRITE)) < 0) video_die(s, "avio_open", err);
  if ((err = avformat_write_header(out, NULL)) < 0) video_die(s, "avformat_write_header", err);

  AVFrame *rgb = av_frame_alloc(), *frame = av_frame_alloc();
  AVPacket *packet = av_packet_alloc();
  if (!rgb || !frame || !packet) video_die(s, "allocation", 0);
  rgb->format = AV_PIX_FMT_RGB24, rgb->width = s->width, rgb->height = s->height;
  frame->format = s->format, frame->width = s->width, frame->height = s->height;
  if (av_frame_get_buffer(rgb, 0) < 0 || av_frame_get_buffer(frame, 0) < 0) video_die(s, "frame buffers", 0);
  struct SwsContext *sws = sws_getContext(s->width, s->height, AV_PIX_FMT_RGB24, s->width, s->height,
                                          s->format, SWS_POINT, NULL, NULL, NULL);
  if (!sws) video_die(s, "sws_getContext", 0);
  for (int i = 0; i < s->frames; i++) {
    if (av_frame_make_writable(frame) < 0) video_die(s, "av_frame_make_writable", 0);
    for (int y = 0; y < s->height; y++) {
      for (int x = 0; x < s->width; x++) {
        for (int c = 0; c < 3; c++)
          rgb->data[0][y * rgb->linesize[0] + x * 3 + c] = (uint8_t)pattern(x + 3 * i, y, c);
      }
    }
    sws_scale(sws, (const uint8_t *const *)rgb->data, rgb->linesize, 0, s->height, frame->data,
              frame->linesize);
    frame->pts = i;
    video_encode(s, out, enc, stream, frame, packet);
  }
  video_encode(s, out, enc, stream, NULL, packet);
  if ((err = av_write_trailer(out)) < 0) video_die(s, "av_write_trailer", err);
  sws_freeContext(sws);
  av_frame_free(&rgb);
  av_frame_free(&frame);
  av_packet_free(&packet);
  avcodec_free_context(&enc);
  avio_closep(&out->pb);
  avformat_free_context(out);
  seeds_written++;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR   (fuzz/corpus: writes into its target folders)\n");
    return 2;
  }
  seeds_root = argv[1];
  av_log_set_level(AV_LOG_ERROR); /* x264 prints its statistics at info level */
  static const jpeg_seed jpegs[] = {
      {"baseline-420.jpg", 16, 16, 3, JCS_YCbCr, 75, 2, 2, 0, 0, 0, 0, 0, 0},
      {"odd-444.jpg", 13, 7, 3, JCS_YCbCr, 95, 1, 1, 0, 0, 0, 0, 0, 0},
      {"restart-422.jpg", 17, 9, 3, JCS_YCbCr, 80, 2, 1, 0, 0, 1, 0, 0, 0},
      {"grey.jpg", 16, 16, 1, JCS_GRAYSCALE, 75, 1, 1, 0, 0, 0, 0, 0, 0},
      {"rgb.jpg", 8, 8, 3, JCS_RGB, 90, 1, 1, 0, 0, 0, 0, 0, 0},
      {"progressive.jpg", 16, 16, 3, JCS_YCbCr, 75, 2, 2, 1, 0, 0, 0, 0, 0},
      {"arithmetic.jpg", 16, 16, 3, JCS_YCbCr, 75, 2, 2, 0, 1, 0, 0, 0, 0},
      {"cmyk.jpg", 8, 8, 4, JCS_CMYK, 90, 1, 1, 0, 0, 0, 0, 0, 0},
      {"ycck.jpg", 16, 8, 4, JCS_YCCK, 90, 2, 2, 0, 0, 0, 0, 0, 0},
      {"exif-6.jpg", 16, 8, 3, JCS_YCbCr, 75, 2, 2, 0, 0, 0, 6, 0, 0},
      {"exif-3.jpg", 8, 8, 3, JCS_YCbCr, 75, 1, 1, 0, 0, 0, 3, 0, 0},
      {"exif-8-mm-long.jpg", 12, 8, 3, JCS_YCbCr, 75, 2, 2, 0, 0, 0, 8, 1, 1},
      {"exif-5-mm.jpg", 8, 16, 1, JCS_GRAYSCALE, 75, 1, 1, 0, 0, 0, 5, 1, 0},
  };
  static const png_seed pngs[] = {
      {"rgb8.png", 8, 8, PNG_COLOR_TYPE_RGB, 8, 0, 0},
      {"rgba8.png", 8, 8, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0},
      {"grey8.png", 8, 8, PNG_COLOR_TYPE_GRAY, 8, 0, 0},
      {"grey1-odd.png", 9, 5, PNG_COLOR_TYPE_GRAY, 1, 0, 0},
      {"grey2-trns.png", 7, 4, PNG_COLOR_TYPE_GRAY, 2, 0, 1},
      {"grey-alpha16.png", 4, 4, PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, 0},
      {"palette4-trns.png", 8, 8, PNG_COLOR_TYPE_PALETTE, 4, 0, 1},
      {"rgb16-interlaced.png", 9, 9, PNG_COLOR_TYPE_RGB, 16, 1, 0},
      {"rgb8-trns-interlaced.png", 8, 8, PNG_COLOR_TYPE_RGB, 8, 1, 1},
  };
  for (size_t i = 0; i < sizeof jpegs / sizeof jpegs[0]; i++) write_jpeg(&jpegs[i]);
  static const video_seed videos[] = {
      {"h264.mp4", "libx264", AV_PIX_FMT_YUV420P, 16, 16, 5},
      {"h264.mkv", "libx264", AV_PIX_FMT_YUV420P, 16, 16, 5},
      {"mpeg4.avi", "mpeg4", AV_PIX_FMT_YUV420P, 16, 16, 5},
      {"mjpeg.avi", "mjpeg", AV_PIX_FMT_YUVJ422P, 16, 8, 3},
      {"mpeg2.ts", "mpeg2video", AV_PIX_FMT_YUV420P, 16, 16, 4},
      {"ffv1-grey-odd.mkv", "ffv1", AV_PIX_FMT_GRAY8, 15, 9, 3},
      {"raw-rgb.nut", "rawvideo", AV_PIX_FMT_RGB24, 8, 6, 3},
      {"pal.gif", "gif", AV_PIX_FMT_RGB8, 8, 8, 3},
      {"png-rgba.mov", "png", AV_PIX_FMT_RGBA, 8, 8, 2},
  };
  for (size_t i = 0; i < sizeof pngs / sizeof pngs[0]; i++) write_png(&pngs[i]);
  for (size_t i = 0; i < sizeof videos / sizeof videos[0]; i++) write_video(&videos[i]);
  write_model_seeds();
  printf("make_seeds: wrote %d seeds under %s\n", seeds_written, seeds_root);
  return 0;
}
