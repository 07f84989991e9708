/*
 * JPEG encoding with libjpeg-turbo into a growing cpose_malloc buffer (our own destination manager, so the
 * output's allocations go through cpose's allocator). Errors longjmp back to encode(), as in decode_jpeg.c.
 * Quality 90 and up keeps full chroma resolution (4:4:4): drawn skeletons are thin colored lines that 4:2:0
 * would smear; below 90, libjpeg's default 4:2:0. Huffman tables are optimized (smaller files).
 */
#include <setjmp.h>
#include <stdio.h>

/* jpeglib.h needs FILE and size_t from stdio.h: it stays in its own block, after it. */
#include <jerror.h>
#include <jpeglib.h>

#include "core/alloc.h"
#include "image/image.h"

typedef struct jpeg_encoder {
  struct jpeg_compress_struct cinfo; /* first member: the callbacks find the encoder from it */
  struct jpeg_error_mgr err;
  struct jpeg_destination_mgr dest;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int out_of_memory;
  uint8_t *data; /* the encoded file, `capacity` bytes allocated */
  size_t capacity;
} jpeg_encoder;

static jpeg_encoder *encoder_of(j_common_ptr cinfo) {
  return (jpeg_encoder *)(void *)cinfo;
}

static void on_error_exit(j_common_ptr cinfo) {
  jpeg_encoder *enc = encoder_of(cinfo);
  (*cinfo->err->format_message)(cinfo, enc->message);
  longjmp(enc->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
  (void)cinfo;
  (void)level; /* the encoder has no warnings worth reporting */
}

/* Grows the buffer to `capacity` bytes and points libjpeg at the part not yet written. */
static void grow(jpeg_encoder *enc, size_t capacity) {
  size_t used = enc->capacity - enc->dest.free_in_buffer;
  uint8_t *bigger = cpose_realloc(enc->data, capacity);
  if (!bigger) {
    enc->out_of_memory = 1;
    longjmp(enc->jump, 1);
  }
  enc->data = bigger;
  enc->capacity = capacity;
  enc->dest.next_output_byte = bigger + used;
  enc->dest.free_in_buffer = capacity - used;
}

static void on_init_destination(j_compress_ptr cinfo) {
  jpeg_encoder *enc = encoder_of((j_common_ptr)cinfo);
  enc->capacity = 0;
  enc->dest.free_in_buffer = 0;
  grow(enc, 1 << 16);
}

/* Called when the buffer is full (libjpeg ignores free_in_buffer here: the whole buffer is used). */
static boolean on_empty_output_buffer(j_compress_ptr cinfo) {
  jpeg_encoder *enc = encoder_of((j_common_ptr)cinfo);
  enc->dest.free_in_buffer = 0;
  grow(enc, enc->capacity * 2);
  return TRUE;
}

static void on_term_destination(j_compress_ptr cinfo) {
  (void)cinfo; /* the size is capacity - free_in_buffer */
}

static cpose_status encode(jpeg_encoder *enc, const cpose_image *image, int quality) {
  j_compress_ptr cinfo = &enc->cinfo;
  if (setjmp(enc->jump)) {
    if (enc->out_of_memory || enc->err.msg_code == JERR_OUT_OF_MEMORY) {
      return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "JPEG encoder: out of memory");
    }
    return cpose_fail(CPOSE_ERR_INTERNAL, "JPEG encoder: %s", enc->message);
  }
  cinfo->err = jpeg_std_error(&enc->err);
  enc->err.error_exit = on_error_exit;
  enc->err.emit_message = on_emit_message;
  jpeg_create_compress(cinfo);
  enc->dest.init_destination = on_init_destination;
  enc->dest.empty_output_buffer = on_empty_output_buffer;
  enc->dest.term_destination = on_term_destination;
  cinfo->dest = &enc->dest;
  cinfo->image_width = (JDIMENSION)image->width;
  cinfo->image_height = (JDIMENSION)image->height;
  cinfo->input_components = 3;
  cinfo->in_color_space = JCS_RGB;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  cinfo->optimize_coding = TRUE;
  if (quality >= 90) {
    for (int c = 0; c < cinfo->num_components; c++) {
      cinfo->comp_info[c].h_samp_factor = 1;
      cinfo->comp_info[c].v_samp_factor = 1;
    }
  }
  jpeg_start_compress(cinfo, TRUE);
  size_t stride = (size_t)image->width * 3;
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW rows[16];
    JDIMENSION first = cinfo->next_scanline;
    JDIMENSION n = cinfo->image_height - first < 16 ? cinfo->image_height - first : 16;
    /* libjpeg's row type is not const; it only reads the rows. */
    for (JDIMENSION r = 0; r < n; r++) rows[r] = (JSAMPROW)(image->rgb + (first + r) * stride);
    jpeg_write_scanlines(cinfo, rows, n);
  }
  jpeg_finish_compress(cinfo);
  return CPOSE_OK;
}

cpose_status image_encode_jpeg(const cpose_image *image, int quality, uint8_t **data_out, size_t *size_out) {
  jpeg_encoder *enc = cpose_calloc(1, sizeof *enc);
  if (!enc) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "JPEG encoder: out of memory");
  cpose_status status = encode(enc, image, quality);
  jpeg_destroy_compress(&enc->cinfo);
  if (status == CPOSE_OK) {
    *data_out = enc->data;
    *size_out = enc->capacity - enc->dest.free_in_buffer;
  } else {
    cpose_free(enc->data);
  }
  cpose_free(enc);
  return status;
}
