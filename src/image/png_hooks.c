/* libpng allocates through cpose's allocator (so the allocation-failure tests reach it) and records an
 * allocation failure in the int its memory pointer names, so the caller can report "out of memory" rather
 * than the error libpng raises next. Shared by the PNG decoder and encoder. */
#include "image/png_hooks.h"

#include <stdio.h>

#include "core/alloc.h"

png_voidp image_png_malloc(png_structp png, png_alloc_size_t size) {
  void *p = cpose_malloc(size);
  int *out_of_memory = png_get_mem_ptr(png);
  if (!p && out_of_memory) *out_of_memory = 1;
  return p;
}

void image_png_free(png_structp png, png_voidp p) {
  (void)png;
  cpose_free(p);
}

void image_png_error(png_structp png, png_const_charp message) {
  snprintf(png_get_error_ptr(png), IMAGE_PNG_MESSAGE_CAP, "%s", message);
  png_longjmp(png, 1);
}

void image_png_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}
