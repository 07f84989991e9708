/*
 * EXIF orientation: reading tag 0x0112 from a JPEG's APP1 segment, and placing stored rows where the
 * displayed image has them.
 *
 * APP1 payload layout (Exif 2.3, section 4.5.4; TIFF 6.0 for the header and IFDs):
 *   "Exif\0\0"                                  6 bytes
 *   TIFF header: "II" (little-endian) or "MM" (big-endian), the number 42 (2 bytes),
 *                offset of IFD0 (4 bytes), counted from the start of the TIFF header
 *   IFD0: entry count (2 bytes), then 12-byte entries: tag (2), type (2), count (4), value or offset (4)
 * The orientation entry has type SHORT (3) and count 1, so its value sits in the first 2 bytes of the value
 * field (in the file's byte order). Every read is bounds-checked; anything odd means "as stored".
 */
#include <string.h>

#include "image/image.h"

typedef struct tiff_reader {
  const uint8_t *p;
  size_t size;
  int big_endian;
} tiff_reader;

/* Reads an unsigned 16/32-bit number at `offset`; 0 when it does not fit inside the data. */
static int read_u16(const tiff_reader *t, size_t offset, uint32_t *v) {
  if (offset > t->size || t->size - offset < 2) return 0;
  const uint8_t *b = t->p + offset;
  *v = t->big_endian ? (uint32_t)b[0] << 8 | b[1] : (uint32_t)b[1] << 8 | b[0];
  return 1;
}

static int read_u32(const tiff_reader *t, size_t offset, uint32_t *v) {
  if (offset > t->size || t->size - offset < 4) return 0;
  const uint8_t *b = t->p + offset;
  *v = t->big_endian ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
                     : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
  return 1;
}

int image_exif_orientation(const uint8_t *app1, size_t size) {
  if (!app1 || size < 6 + 8 || memcmp(app1, "Exif\0\0", 6) != 0) return 1;
  tiff_reader t = {app1 + 6, size - 6, 0};
  if (memcmp(t.p, "MM", 2) == 0) {
    t.big_endian = 1;
  } else if (memcmp(t.p, "II", 2) != 0) {
    return 1;
  }
  uint32_t magic, ifd, count;
  if (!read_u16(&t, 2, &magic) || magic != 42 || !read_u32(&t, 4, &ifd) || !read_u16(&t, ifd, &count))
    return 1;
  for (uint32_t i = 0; i < count; i++) {
    size_t entry = (size_t)ifd + 2 + (size_t)i * 12;
    uint32_t tag, type, n, value;
    if (!read_u16(&t, entry, &tag) || !read_u16(&t, entry + 2, &type) || !read_u32(&t, entry + 4, &n))
      return 1;
    if (tag != 0x0112) continue;
    if (n != 1) return 1;
    if (type == 3) {
      if (!read_u16(&t, entry + 8, &value)) return 1;
    } else if (type == 4) { /* LONG: not what the standard says, but unambiguous */
      if (!read_u32(&t, entry + 8, &value)) return 1;
    } else {
      return 1;
    }
    return value >= 1 && value <= 8 ? (int)value : 1;
  }
  return 1;
}

void image_orient_rows(const uint8_t *rows, int width, int height, int y0, int n, int orientation,
                       uint8_t *out) {
  const ptrdiff_t w = width, h = height;
  if (orientation < 1 || orientation > 8) orientation = 1;
  /* Stored pixel (row sy, column sx) goes to displayed (row, column):
   *   1 as stored:     (sy, sx)             2 mirror:        (sy, w-1-sx)
   *   3 rotate 180:    (h-1-sy, w-1-sx)     4 flip:          (h-1-sy, sx)
   *   5 transpose:     (sx, sy)             6 rotate 90 cw:  (sx, h-1-sy)
   *   7 transverse:    (w-1-sx, h-1-sy)     8 rotate 90 ccw: (w-1-sx, sy)
   * The displayed image is w wide for 1..4 and h wide for 5..8. */
  if (orientation <= 4) {
    const int mirror = orientation == 2 || orientation == 3, flip = orientation == 3 || orientation == 4;
    for (ptrdiff_t r = 0; r < n; r++) {
      const ptrdiff_t sy = y0 + r;
      const uint8_t *src = rows + r * w * 3;
      uint8_t *dst = out + (flip ? h - 1 - sy : sy) * w * 3;
      if (!mirror) {
        memcpy(dst, src, (size_t)w * 3);
        continue;
      }
      for (ptrdiff_t sx = 0; sx < w; sx++) memcpy(dst + (w - 1 - sx) * 3, src + sx * 3, 3);
    }
    return;
  }
  /* A stored row becomes a displayed column. Column-major over the strip: each displayed row receives the
   * strip's n pixels in one contiguous run (one page touched per run, not one per pixel). */
  const int reverse_rows = orientation == 7 || orientation == 8,
            reverse_cols = orientation == 6 || orientation == 7;
  /* The strip fills displayed columns [first, first + n) of each displayed row, written in ascending order.
   */
  const ptrdiff_t first = reverse_cols ? h - y0 - n : y0;
  for (ptrdiff_t sx = 0; sx < w; sx++) {
    uint8_t *dst = out + ((reverse_rows ? w - 1 - sx : sx) * h + first) * 3;
    const uint8_t *src = rows + sx * 3;
    if (reverse_cols) {
      for (ptrdiff_t k = 0; k < n; k++) memcpy(dst + k * 3, src + (n - 1 - k) * w * 3, 3);
    } else {
      for (ptrdiff_t k = 0; k < n; k++) memcpy(dst + k * 3, src + k * w * 3, 3);
    }
  }
}
