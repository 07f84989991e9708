/*
 * Image buffers, format detection by magic bytes, reading a whole file, and writing a file completely or not
 * at all (temporary file + rename).
 */
#include "image/image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file.h"

cpose_status image_check_size(int64_t width, int64_t height, const char *what) {
  if (width <= 0 || height <= 0) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: the image is %lldx%lld pixels (zero-size)", what,
                      (long long)width, (long long)height);
  }
  /* Both sides are positive: width > MAX / height is the overflow-safe form of width * height > MAX. */
  if (width > CPOSE_IMAGE_MAX_PIXELS / height) {
    return cpose_fail(CPOSE_ERR_LIMIT, "%s: %lldx%lld pixels is above the cap of %d pixels", what,
                      (long long)width, (long long)height, CPOSE_IMAGE_MAX_PIXELS);
  }
  return CPOSE_OK;
}

cpose_status image_wrap(int width, int height, uint8_t *rgb, cpose_image **image_out) {
  cpose_image *image = cpose_malloc(sizeof *image);
  if (!image) {
    cpose_free(rgb);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "image: out of memory");
  }
  image->width = width;
  image->height = height;
  image->rgb = rgb;
  *image_out = image;
  return CPOSE_OK;
}

cpose_status cpose_image_create(int width, int height, cpose_image **image_out) {
  if (!image_out) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_image_create: image_out is NULL");
  cpose_status status = image_check_size(width, height, "cpose_image_create");
  if (status != CPOSE_OK) {
    return status == CPOSE_ERR_PARSE ? CPOSE_ERR_INVALID_ARGUMENT : status; /* a caller's value, not a file */
  }
  uint8_t *rgb = cpose_calloc((size_t)width * (size_t)height, 3);
  if (!rgb) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "cpose_image_create: %dx%d pixels: out of memory", width,
                      height);
  }
  return image_wrap(width, height, rgb, image_out);
}

void cpose_image_destroy(cpose_image *image) {
  if (!image) return;
  cpose_free(image->rgb);
  cpose_free(image);
}

/* Names formats that are recognizable but not supported, so the error says what the file is. */
static const char *other_format(const uint8_t *d, size_t n) {
  if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) return "GIF";
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return "BMP";
  if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) return "WebP";
  if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0)) return "TIFF";
  if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) return "HEIF/AVIF/MP4";
  return NULL;
}

cpose_status cpose_image_decode(const void *data, size_t size, cpose_image **image_out) {
  if (!image_out || (!data && size)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_image_decode: %s is NULL",
                      image_out ? "data" : "image_out");
  }
  const uint8_t *d = data;
  static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size == 0) return cpose_fail(CPOSE_ERR_PARSE, "empty file (0 bytes)");
  if (size >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) return image_decode_jpeg(d, size, image_out);
  if (size >= 8 && memcmp(d, png_magic, 8) == 0) return image_decode_png(d, size, image_out);
  const char *other = other_format(d, size);
  if (other)
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "%s images are not supported (only JPEG and PNG)", other);
  if ((size < 3 && d[0] == 0xff) || (size < 8 && memcmp(d, png_magic, size) == 0)) {
    return cpose_fail(CPOSE_ERR_PARSE, "truncated file (%zu bytes, shorter than the format's signature)",
                      size);
  }
  return cpose_fail(CPOSE_ERR_PARSE, "not a JPEG or PNG file (starts with %02x %02x %02x %02x)", d[0],
                    size > 1 ? d[1] : 0, size > 2 ? d[2] : 0, size > 3 ? d[3] : 0);
}

/* Reads all of `path` into a new buffer (transferred; cpose_free). */
static cpose_status read_file(const char *path, uint8_t **data_out, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) return cpose_fail(CPOSE_ERR_IO, "cannot open: %s", strerror(errno));
  cpose_status status = CPOSE_OK;
  uint8_t *data = NULL;
  size_t size = 0, capacity = 0;
  for (;;) {
    if (size == capacity) {
      /* The last step allows one byte past the cap, so that a file of exactly the cap still fits. */
      if (capacity > IMAGE_MAX_FILE_BYTES) {
        status =
            cpose_fail(CPOSE_ERR_LIMIT, "the file is bigger than the cap of %zu bytes", IMAGE_MAX_FILE_BYTES);
        goto error;
      }
      size_t grown = capacity ? capacity * 2 : (size_t)1 << 16;
      if (grown > IMAGE_MAX_FILE_BYTES + 1) grown = IMAGE_MAX_FILE_BYTES + 1;
      uint8_t *bigger = cpose_realloc(data, grown);
      if (!bigger) {
        status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "out of memory reading %zu bytes", grown);
        goto error;
      }
      data = bigger;
      capacity = grown;
    }
    size_t got = fread(data + size, 1, capacity - size, f);
    size += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    status = cpose_fail(CPOSE_ERR_IO, "cannot read: %s", strerror(errno));
    goto error;
  }
  fclose(f);
  *data_out = data;
  *size_out = size;
  return CPOSE_OK;
error:
  fclose(f);
  cpose_free(data);
  return status;
}

cpose_status cpose_image_load(const char *path, cpose_image **image_out) {
  if (!path || !image_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_image_load: %s is NULL",
                      path ? "image_out" : "path");
  }
  uint8_t *data = NULL;
  size_t size = 0;
  cpose_status status = read_file(path, &data, &size);
  if (status == CPOSE_OK) {
    status = cpose_image_decode(data, size, image_out);
    cpose_free(data);
  }
  if (status != CPOSE_OK) return cpose_fail_context(status, "%s", path);
  return CPOSE_OK;
}

static cpose_status check_image(const cpose_image *image, const char *fn) {
  if (!image || !image->rgb) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "%s: the image is NULL", fn);
  cpose_status status = image_check_size(image->width, image->height, fn);
  return status == CPOSE_ERR_PARSE ? CPOSE_ERR_INVALID_ARGUMENT : status;
}

static cpose_status encode(const cpose_image *image, cpose_image_format format, int quality,
                           uint8_t **data_out, size_t *size_out) {
  switch (format) {
    case CPOSE_IMAGE_FORMAT_JPEG:
      if (quality < 1 || quality > 100) {
        return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "JPEG quality %d is not in 1..100", quality);
      }
      return image_encode_jpeg(image, quality, data_out, size_out);
    case CPOSE_IMAGE_FORMAT_PNG:
      return image_encode_png(image, data_out, size_out);
  }
  return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "unknown image format %d", (int)format);
}

cpose_status cpose_image_encode(const cpose_image *image, cpose_image_format format, int quality,
                                void **data_out, size_t *size_out) {
  cpose_status status = check_image(image, "cpose_image_encode");
  if (status != CPOSE_OK) return status;
  if (!data_out || !size_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_image_encode: data_out or size_out is NULL");
  }
  uint8_t *data = NULL;
  size_t size = 0;
  status = encode(image, format, quality, &data, &size);
  if (status != CPOSE_OK) return status;
  *data_out = data;
  *size_out = size;
  return CPOSE_OK;
}

void cpose_image_encoded_free(void *data) {
  cpose_free(data);
}

/* The format named by the file's extension, or 0. */
static cpose_image_format format_from_path(const char *path) {
  const char *dot = strrchr(path, '.');
  const char *slash = strrchr(path, '/');
  if (!dot || (slash && dot < slash)) return 0;
  char ext[8];
  size_t n = strlen(dot + 1);
  if (n == 0 || n >= sizeof ext) return 0;
  for (size_t i = 0; i <= n; i++) {
    char c = dot[1 + i];
    ext[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (strcmp(ext, "jpg") == 0 || strcmp(ext, "jpeg") == 0) return CPOSE_IMAGE_FORMAT_JPEG;
  if (strcmp(ext, "png") == 0) return CPOSE_IMAGE_FORMAT_PNG;
  return 0;
}

cpose_status cpose_image_save(const cpose_image *image, const char *path, int quality) {
  if (!path) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_image_save: path is NULL");
  cpose_status status = check_image(image, "cpose_image_save");
  if (status != CPOSE_OK) return cpose_fail_context(status, "%s", path);
  cpose_image_format format = format_from_path(path);
  if (!format) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT,
                      "%s: cannot tell the format: the name must end in .jpg, "
                      ".jpeg or .png",
                      path);
  }
  uint8_t *data = NULL;
  size_t size = 0;
  status = encode(image, format, quality, &data, &size);
  if (status == CPOSE_OK) {
    status = cpose_write_file_atomic(path, data, size); /* its errors name the path */
    cpose_free(data);
    return status;
  }
  return cpose_fail_context(status, "%s", path);
}
