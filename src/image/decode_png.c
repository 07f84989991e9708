/*
 * PNG decoding with libpng.
 *
 * libpng reports errors by calling our error function, which records the message and longjmps (png_jmpbuf)
 * back to decode(); everything the error path needs lives in a heap-allocated png_decoder. libpng allocates
 * through cpose_malloc, so allocation-failure tests reach its allocations too, and an allocation failure is
 * reported as CPOSE_ERR_OUT_OF_MEMORY, not as a corrupt file.
 *
 * Every PNG becomes 8-bit RGB: palette and low bit depths are expanded, 16-bit samples are scaled to 8 bits
 * with rounding (png_set_scale_16: v * 255 / 65535, not just the high byte), grey is replicated, and an alpha
 * channel (or a tRNS transparent color) is composited onto black: c' = round(c * a / 255), so a fully
 * transparent pixel is black whatever color it stores. No gamma or color-profile correction is applied (as
 * OpenCV and most pipelines do). Interlaced files are supported.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "image/image.h"
#include "image/png_hooks.h"

typedef struct png_decoder {
  const uint8_t *data;
  size_t size, offset;
  int truncated;
  int out_of_memory;
  char message[IMAGE_PNG_MESSAGE_CAP];
  png_structp png;
  png_infop info;
  uint8_t *pixels; /* HWC (height, width, channels) uint8, channels 3 or 4; becomes the RGB image */
  png_bytep *rows; /* (height) pointers into pixels */
} png_decoder;

static void on_read(png_structp png, png_bytep out, size_t count) {
  png_decoder *dec = png_get_io_ptr(png);
  if (count > dec->size - dec->offset) {
    dec->truncated = 1;
    png_error(png, "truncated");
  }
  memcpy(out, dec->data + dec->offset, count);
  dec->offset += count;
}

static cpose_status jump_status(const png_decoder *dec) {
  if (dec->out_of_memory) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "PNG: out of memory");
  if (dec->truncated) {
    return cpose_fail(CPOSE_ERR_PARSE, "truncated PNG (the data ends after %zu bytes)", dec->size);
  }
  return cpose_fail(CPOSE_ERR_PARSE, "corrupt PNG: %s", dec->message);
}

/* Composites HWC (n, 4) RGBA onto black into (n, 3) RGB, in place (the write index never passes the read
 * index). */
static void composite_on_black(uint8_t *pixels, size_t n) {
  const uint8_t *in = pixels;
  uint8_t *out = pixels;
  for (size_t i = 0; i < n; i++, in += 4, out += 3) {
    unsigned a = in[3];
    uint8_t r = (uint8_t)((in[0] * a + 127) / 255);
    uint8_t g = (uint8_t)((in[1] * a + 127) / 255);
    uint8_t b = (uint8_t)((in[2] * a + 127) / 255);
    out[0] = r;
    out[1] = g;
    out[2] = b;
  }
}

/* Everything between setjmp and the return works through `dec` only. On success dec->pixels holds RGB. */
static cpose_status decode(png_decoder *dec) {
  if (setjmp(png_jmpbuf(dec->png))) return jump_status(dec);
  png_structp png = dec->png;
  png_infop info = dec->info;
  png_set_read_fn(png, dec, on_read);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff); /* our pixel cap below is the real one */
  png_read_info(png, info);
  png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  cpose_status status = image_check_size(width, height, "PNG");
  if (status != CPOSE_OK) return status;

  png_set_expand(png); /* palette -> RGB, grey < 8 bits -> 8 bits, tRNS -> alpha */
  png_set_scale_16(png);
  png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  if (png_get_bit_depth(png, info) != 8 || (channels != 3 && channels != 4)) {
    return cpose_fail(CPOSE_ERR_INTERNAL, "PNG: libpng gave %d channels of %d bits, expected 3 or 4 of 8",
                      channels, png_get_bit_depth(png, info));
  }
  size_t stride = (size_t)width * (size_t)channels;
  dec->pixels = cpose_malloc(stride * height);
  dec->rows = cpose_malloc(sizeof *dec->rows * height);
  if (!dec->pixels || !dec->rows) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "PNG: out of memory for %ux%u pixels", (unsigned)width,
                      (unsigned)height);
  }
  for (png_uint_32 y = 0; y < height; y++) dec->rows[y] = dec->pixels + y * stride;
  png_read_image(png, dec->rows);
  /* The image data is complete; what follows (IEND, text chunks) is not read, so a file cut after its last
   * IDAT still decodes. */
  if (channels == 4) {
    size_t n = (size_t)width * height;
    composite_on_black(dec->pixels, n);
    uint8_t *smaller = cpose_realloc(dec->pixels, n * 3);
    if (smaller) dec->pixels = smaller; /* keeping the bigger block is harmless */
  }
  return CPOSE_OK;
}

cpose_status image_decode_png(const uint8_t *data, size_t size, cpose_image **image_out) {
  png_decoder *dec = cpose_calloc(1, sizeof *dec);
  if (!dec) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "PNG: out of memory");
  dec->data = data;
  dec->size = size;
  cpose_status status = CPOSE_OK;
  cpose_image *image = NULL;
  dec->png =
      png_create_read_struct_2(PNG_LIBPNG_VER_STRING, dec->message, image_png_error, image_png_warning,
                               &dec->out_of_memory, image_png_malloc, image_png_free);
  if (dec->png) dec->info = png_create_info_struct(dec->png);
  if (!dec->png || !dec->info) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "PNG: out of memory");
    goto done;
  }
  status = decode(dec);
  if (status == CPOSE_OK) {
    status = image_wrap((int)png_get_image_width(dec->png, dec->info),
                        (int)png_get_image_height(dec->png, dec->info), dec->pixels, &image);
    dec->pixels = NULL; /* transferred, also on failure */
  }
done:
  if (dec->png) png_destroy_read_struct(&dec->png, dec->info ? &dec->info : NULL, NULL);
  cpose_free(dec->rows);
  cpose_free(dec->pixels);
  cpose_free(dec);
  if (status != CPOSE_OK) return status;
  *image_out = image;
  return CPOSE_OK;
}
