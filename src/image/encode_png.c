/*
 * PNG encoding with libpng into a growing cpose_malloc buffer: 8-bit RGB, not interlaced, zlib level 6 and
 * libpng's adaptive filters (its defaults). Lossless: decoding gives back the same bytes. libpng allocates
 * through cpose_malloc and reports errors through a longjmp back to encode(), as in decode_png.c.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "image/image.h"
#include "image/png_hooks.h"

typedef struct png_encoder {
  png_structp png;
  png_infop info;
  int out_of_memory;
  char message[IMAGE_PNG_MESSAGE_CAP];
  uint8_t *data; /* the encoded file: `size` bytes used of `capacity` */
  size_t size, capacity;
} png_encoder;

static void on_write(png_structp png, png_bytep bytes, size_t count) {
  png_encoder *enc = png_get_io_ptr(png);
  if (count > enc->capacity - enc->size) {
    size_t capacity = enc->capacity ? enc->capacity : 1 << 16;
    while (capacity - enc->size < count) {
      if (capacity > SIZE_MAX / 2) png_error(png, "the encoded image is too big");
      capacity *= 2;
    }
    uint8_t *bigger = cpose_realloc(enc->data, capacity);
    if (!bigger) {
      enc->out_of_memory = 1;
      png_error(png, "out of memory");
    }
    enc->data = bigger;
    enc->capacity = capacity;
  }
  memcpy(enc->data + enc->size, bytes, count);
  enc->size += count;
}

static void on_flush(png_structp png) {
  (void)png;
}

static cpose_status encode(png_encoder *enc, const cpose_image *image) {
  if (setjmp(png_jmpbuf(enc->png))) {
    if (enc->out_of_memory) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "PNG encoder: out of memory");
    return cpose_fail(CPOSE_ERR_INTERNAL, "PNG encoder: %s", enc->message);
  }
  png_set_write_fn(enc->png, enc, on_write, on_flush);
  png_set_IHDR(enc->png, enc->info, (png_uint_32)image->width, (png_uint_32)image->height, 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(enc->png, enc->info);
  size_t stride = (size_t)image->width * 3;
  for (int y = 0; y < image->height; y++) png_write_row(enc->png, image->rgb + (size_t)y * stride);
  png_write_end(enc->png, NULL);
  return CPOSE_OK;
}

cpose_status image_encode_png(const cpose_image *image, uint8_t **data_out, size_t *size_out) {
  png_encoder *enc = cpose_calloc(1, sizeof *enc);
  if (!enc) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "PNG encoder: out of memory");
  cpose_status status = CPOSE_OK;
  enc->png =
      png_create_write_struct_2(PNG_LIBPNG_VER_STRING, enc->message, image_png_error, image_png_warning,
                               &enc->out_of_memory, image_png_malloc, image_png_free);
  if (enc->png) enc->info = png_create_info_struct(enc->png);
  if (!enc->png || !enc->info) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "PNG encoder: out of memory");
  } else {
    status = encode(enc, image);
  }
  if (enc->png) png_destroy_write_struct(&enc->png, enc->info ? &enc->info : NULL);
  if (status == CPOSE_OK) {
    *data_out = enc->data;
    *size_out = enc->size;
  } else {
    cpose_free(enc->data);
  }
  cpose_free(enc);
  return status;
}
