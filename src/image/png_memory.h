/* libpng's memory hooks, shared by the PNG decoder and encoder (png_memory.c). */
#ifndef CPOSE_IMAGE_PNG_MEMORY_H
#define CPOSE_IMAGE_PNG_MEMORY_H

#include <png.h>

/* Pass these to png_create_{read,write}_struct_2 with mem_ptr pointing at an int that becomes 1 when an
 * allocation fails. */
png_voidp image_png_malloc(png_structp png, png_alloc_size_t size);
void image_png_free(png_structp png, png_voidp p);

#endif
