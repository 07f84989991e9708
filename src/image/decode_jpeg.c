/*
 * JPEG decoding with libjpeg-turbo.
 *
 * libjpeg's default error handler calls exit(); ours formats the message and longjmps back to decode(),
 * which returns a status. All state the error path needs lives in a heap-allocated jpeg_decoder reached
 * through a pointer that never changes after setjmp, so nothing is clobbered by the longjmp.
 *
 * A truncated file is only a warning to libjpeg ("Premature end of JPEG file"): it pads the missing data
 * with grey and carries on. Our emit_message hook makes that warning an error. Other warnings ("Corrupt
 * JPEG data: N extraneous bytes before marker") are common in camera files that decode fine, and are
 * ignored. Once every scanline is out the rest of the file is not read, so a file that lacks only its final
 * EOI marker still decodes.
 *
 * Grey, YCbCr and RGB files come out as RGB from libjpeg-turbo itself. CMYK and YCCK come out as CMYK and
 * are converted here without a color profile: R = (255 - C) * (255 - K) / 255 and likewise for G (M) and B
 * (Y). Files with an Adobe marker (Photoshop's) store CMYK inverted, which then reads R = C * K / 255.
 *
 * The EXIF orientation (APP1, read by exif.c) is applied as the rows come out: each strip of decoded rows is
 * copied straight to its displayed place, so a rotated photo needs no second full-size buffer.
 */
#include <setjmp.h>
#include <stdio.h>

/* jpeglib.h needs FILE and size_t from stdio.h: it stays in its own block, after it. */
#include <jerror.h>
#include <jpeglib.h>

#include "core/alloc.h"
#include "image/image.h"

/* A progressive file may have any number of scans, each a pass over the whole image: a tiny hostile file
 * with thousands of them takes minutes. Real encoders write about 10. */
#define JPEG_MAX_SCANS 1000
/* libjpeg's own memory for the whole-image coefficient buffers of progressive files (600 MB for a 4:4:4
 * image at CPOSE_IMAGE_MAX_PIXELS). */
#define JPEG_MAX_MEMORY (1L << 30)
/* Rows decoded before they are converted or moved together: a rotation then writes runs of JPEG_STRIP
 * pixels instead of single pixels each on another page. */
#define JPEG_STRIP 32

typedef struct jpeg_decoder {
  struct jpeg_decompress_struct cinfo; /* first member: the callbacks find the decoder from it */
  struct jpeg_error_mgr err;           /* cinfo.err points here */
  struct jpeg_progress_mgr progress;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int truncated;
  int too_many_scans;
  size_t size;
  uint8_t *rgb;   /* the displayed image: HWC (height, width, 3) uint8, width and height swapped by EXIF
                     orientations 5..8 */
  uint8_t *strip; /* HWC (JPEG_STRIP, output_width, 3 or 4) uint8: decoded rows on their way to rgb, when
                     they are CMYK or must be moved by the orientation; NULL otherwise */
} jpeg_decoder;

static jpeg_decoder *decoder_of(j_common_ptr cinfo) {
  /* cinfo is the first member of jpeg_decoder. */
  return (jpeg_decoder *)(void *)cinfo;
}

static void on_error_exit(j_common_ptr cinfo) {
  jpeg_decoder *dec = decoder_of(cinfo);
  (*cinfo->err->format_message)(cinfo, dec->message);
  longjmp(dec->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return; /* trace messages */
  cinfo->err->num_warnings++;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    jpeg_decoder *dec = decoder_of(cinfo);
    dec->truncated = 1;
    longjmp(dec->jump, 1);
  }
}

static void on_progress(j_common_ptr cinfo) {
  jpeg_decoder *dec = decoder_of(cinfo);
  if (dec->cinfo.input_scan_number > JPEG_MAX_SCANS) {
    dec->too_many_scans = 1;
    longjmp(dec->jump, 1);
  }
}

/* The status and message for a longjmp out of libjpeg. */
static cpose_status jump_status(const jpeg_decoder *dec) {
  if (dec->truncated) {
    return cpose_fail(CPOSE_ERR_PARSE, "truncated JPEG (the data ends after %zu bytes)", dec->size);
  }
  if (dec->too_many_scans) {
    return cpose_fail(CPOSE_ERR_LIMIT, "JPEG has more than %d scans", JPEG_MAX_SCANS);
  }
  switch (dec->err.msg_code) {
    case JERR_OUT_OF_MEMORY:
      return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "JPEG: %s", dec->message);
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
      return cpose_fail(CPOSE_ERR_UNSUPPORTED, "unsupported JPEG: %s", dec->message);
    default:
      return cpose_fail(CPOSE_ERR_PARSE, "corrupt JPEG: %s", dec->message);
  }
}

/* The EXIF orientation of the first APP1 segment that holds one (1 when none). */
static int find_orientation(j_decompress_ptr cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
    if (m->marker != JPEG_APP0 + 1) continue;
    int orientation = image_exif_orientation(m->data, m->data_length);
    if (orientation != 1) return orientation;
  }
  return 1;
}

/* Converts n CMYK pixels to RGB in place (pixel p moves from byte 4p to 3p, never over an unread one). */
static void cmyk_to_rgb(uint8_t *pixels, size_t n, int inverted) {
  const uint8_t *cmyk = pixels;
  uint8_t *rgb = pixels;
  for (size_t p = 0; p < n; p++, cmyk += 4, rgb += 3) {
    unsigned k = inverted ? cmyk[3] : 255u - cmyk[3];
    unsigned v[3];
    for (int c = 0; c < 3; c++) v[c] = inverted ? cmyk[c] : 255u - cmyk[c];
    for (int c = 0; c < 3; c++) rgb[c] = (uint8_t)((v[c] * k + 127) / 255);
  }
}

/* Everything between setjmp and the return works through `dec` only. On success dec->rgb holds the pixels
 * and *orientation_out the EXIF orientation. */
static cpose_status decode(jpeg_decoder *dec, const uint8_t *data, size_t size, int *orientation_out) {
  j_decompress_ptr cinfo = &dec->cinfo;
  if (setjmp(dec->jump)) return jump_status(dec);
  cinfo->err = jpeg_std_error(&dec->err);
  dec->err.error_exit = on_error_exit;
  dec->err.emit_message = on_emit_message;
  jpeg_create_decompress(cinfo);
  cinfo->mem->max_memory_to_use = JPEG_MAX_MEMORY;
  dec->progress.progress_monitor = on_progress;
  cinfo->progress = &dec->progress;
  jpeg_mem_src(cinfo, data, (unsigned long)size);
  jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(cinfo, TRUE);

  cpose_status status = image_check_size(cinfo->image_width, cinfo->image_height, "JPEG");
  if (status != CPOSE_OK) return status;
  int cmyk = 0;
  switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_RGB:
    case JCS_YCbCr:
      cinfo->out_color_space = JCS_RGB;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo->out_color_space = JCS_CMYK;
      cmyk = 1;
      break;
    default:
      return cpose_fail(CPOSE_ERR_UNSUPPORTED, "unsupported JPEG: %d components in an unknown color space",
                        cinfo->num_components);
  }
  const int orientation = find_orientation(cinfo);

  jpeg_start_decompress(cinfo);
  int width = (int)cinfo->output_width, height = (int)cinfo->output_height;
  status = image_check_size(width, height, "JPEG");
  if (status != CPOSE_OK) return status;
  const size_t stride = (size_t)width * 3;
  dec->rgb = cpose_malloc(stride * (size_t)height);
  /* Rows go straight into rgb unless they need converting or moving. */
  const int direct = !cmyk && orientation == 1;
  if (!direct) dec->strip = cpose_malloc((size_t)width * (cmyk ? 4 : 3) * JPEG_STRIP);
  if (!dec->rgb || (!direct && !dec->strip)) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "JPEG: out of memory for %dx%d pixels", width, height);
  }
  const size_t strip_stride = (size_t)width * (cmyk ? 4 : 3);
  while (cinfo->output_scanline < cinfo->output_height) {
    /* Fill a strip (libjpeg returns one row group per call, often a single row), then move it. */
    const JDIMENSION first = cinfo->output_scanline;
    const JDIMENSION want =
        cinfo->output_height - first < JPEG_STRIP ? cinfo->output_height - first : JPEG_STRIP;
    while (cinfo->output_scanline < first + want) {
      JSAMPROW rows[JPEG_STRIP];
      const JDIMENSION at = cinfo->output_scanline, left = first + want - at;
      for (JDIMENSION r = 0; r < left; r++) {
        rows[r] = direct ? dec->rgb + (at + r) * stride : dec->strip + (at - first + r) * strip_stride;
      }
      if (jpeg_read_scanlines(cinfo, rows, left) == 0) {
        return cpose_fail(CPOSE_ERR_PARSE, "corrupt JPEG: no data for row %u", (unsigned)at);
      }
    }
    if (direct) continue;
    if (cmyk) cmyk_to_rgb(dec->strip, (size_t)want * width, cinfo->saw_Adobe_marker);
    image_orient_rows(dec->strip, width, height, (int)first, (int)want, orientation, dec->rgb);
  }
  *orientation_out = orientation;
  return CPOSE_OK;
}

cpose_status image_decode_jpeg(const uint8_t *data, size_t size, cpose_image **image_out) {
  jpeg_decoder *dec = cpose_calloc(1, sizeof *dec);
  if (!dec) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "JPEG: out of memory");
  dec->size = size;
  int orientation = 1;
  cpose_image *image = NULL;
  cpose_status status = decode(dec, data, size, &orientation);
  if (status == CPOSE_OK) {
    int w = (int)dec->cinfo.output_width, h = (int)dec->cinfo.output_height;
    status = orientation >= 5 ? image_wrap(h, w, dec->rgb, &image) : image_wrap(w, h, dec->rgb, &image);
    dec->rgb = NULL; /* transferred, also on failure */
  }
  jpeg_destroy_decompress(&dec->cinfo);
  cpose_free(dec->rgb);
  cpose_free(dec->strip);
  cpose_free(dec);
  if (status != CPOSE_OK) return status;
  *image_out = image;
  return CPOSE_OK;
}
