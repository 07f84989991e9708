/* libpng's memory and error hooks, shared by the PNG decoder and encoder (png_hooks.c). */
#ifndef CPOSE_IMAGE_PNG_HOOKS_H
#define CPOSE_IMAGE_PNG_HOOKS_H

#include <png.h>

/* Pass these to png_create_{read,write}_struct_2 with mem_ptr pointing at an int that becomes 1 when an
 * allocation fails. */
png_voidp image_png_malloc(png_structp png, png_alloc_size_t size);
void image_png_free(png_structp png, png_voidp p);

/* The size of the message buffer that error_ptr must point at. */
#define IMAGE_PNG_MESSAGE_CAP 256

/* Pass these as error_fn / warn_fn with error_ptr pointing at a char[IMAGE_PNG_MESSAGE_CAP]: an error copies
 * libpng's message there and longjmps back to the caller's setjmp; warnings (ancillary-chunk problems such as
 * a bad CRC in a text chunk) are ignored, as they are not worth failing an image for. */
void image_png_error(png_structp png, png_const_charp message);
void image_png_warning(png_structp png, png_const_charp message);

#endif
