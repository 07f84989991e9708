/*
 * Internal interface of the image layer (src/image): decoders and encoders behind cpose_image_decode and
 * cpose_image_encode, EXIF orientation, and the geometry the detector and the pose stage build on (affine
 * matrices, the crop transform, the affine warp and the resize/letterbox into float32 NHWC input tensors).
 *
 * Coordinates. Everything here uses one continuous convention: pixel (row i, column j) is the unit square
 * [j, j+1) x [i, i+1), so its center is (j + 0.5, i + 0.5) and the image spans [0, width] x [0, height].
 * A point in that space is sampled at index-space position (x - 0.5, y - 0.5): the four pixels around it
 * are columns floor(x - 0.5) and +1, rows floor(y - 0.5) and +1 (TensorFlow's half_pixel_centers, OpenCV's
 * warpAffine after shifting by half a pixel). Boxes (x, y, w, h) are in the same space: (x, y) is the
 * top-left corner, the box covers [x, x + w] x [y, y + h].
 */
#ifndef CPOSE_IMAGE_IMAGE_H
#define CPOSE_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "cpose.h"

/* Files bigger than this are refused before they are read (a 100-megapixel PNG compresses to far less). */
#define IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

/* ---- buffers ---------------------------------------------------------------------------------------- */

/* Checks width x height against 1..CPOSE_IMAGE_MAX_PIXELS (each side at least 1) with overflow-safe
 * arithmetic; on failure records "<what>: <w>x<h> pixels ..." and returns CPOSE_ERR_LIMIT (too big) or
 * CPOSE_ERR_PARSE (zero or negative: only a malformed file claims that). */
cpose_status image_check_size(int64_t width, int64_t height, const char *what);

/* Wraps `rgb` (transferred: freed with cpose_free, also on failure) into a new image. */
cpose_status image_wrap(int width, int height, uint8_t *rgb, cpose_image **image_out);

/* ---- decoding (decode_jpeg.c, decode_png.c) ----------------------------------------------------------- */

/* Decode a whole in-memory file whose magic bytes were already checked. Errors name the reason ("truncated
 * JPEG", "corrupt PNG: ..."); the caller adds the file name. */
cpose_status image_decode_jpeg(const uint8_t *data, size_t size, cpose_image **image_out);
cpose_status image_decode_png(const uint8_t *data, size_t size, cpose_image **image_out);

/* ---- EXIF orientation (exif.c) ---------------------------------------------------------------------- */

/* The orientation tag (0x0112, 1..8) of an APP1 segment's payload (starting with "Exif\0\0" and a TIFF
 * header, either byte order). Returns 1 (as stored) when the payload is not Exif, has no orientation tag, or
 * any offset points outside it: a damaged tag must not fail the decode. */
int image_exif_orientation(const uint8_t *app1, size_t size);

/* Copies stored rows [y0, y0 + n) of a width x height image (`rows`: HWC (n, width, 3) uint8) to where
 * EXIF `orientation` puts them in `out`, the displayed image: HWC (height, width, 3) for 1..4, (width,
 * height, 3) for 5..8 (width and height swap). 1: as stored, 2: mirror horizontally, 3: rotate 180,
 * 4: mirror vertically, 5: transpose, 6: rotate 90 clockwise, 7: transverse, 8: rotate 90 counter-clockwise;
 * other values act as 1. The decoder calls it on each strip of decoded rows, so a rotated photo needs no
 * second full-size buffer. */
void image_orient_rows(const uint8_t *rows, int width, int height, int y0, int n, int orientation,
                       uint8_t *out);

/* ---- encoding (encode_jpeg.c, encode_png.c) ---------------------------------------------------------- */

/* Encode into a buffer allocated with cpose_malloc (transferred to the caller, who frees it with cpose_free);
 * *data_out and *size_out are written only on success. `quality` 1..100 (JPEG only). */
cpose_status image_encode_jpeg(const cpose_image *image, int quality, uint8_t **data_out, size_t *size_out);
cpose_status image_encode_png(const cpose_image *image, uint8_t **data_out, size_t *size_out);

/* ---- affine geometry (affine.c) --------------------------------------------------------------------- */

/* A 2x3 affine map in the continuous coordinates above, row-major:
 *   x' = m[0] * x + m[1] * y + m[2]
 *   y' = m[3] * x + m[4] * y + m[5]
 * Double precision so that mapping keypoints back to a large image loses nothing measurable; the warp
 * samples in float. */
typedef struct image_affine {
  double m[6];
} image_affine;

/* Applies `a` to the point (x, y). */
void image_affine_apply(const image_affine *a, double x, double y, double *x_out, double *y_out);

/* The inverse of `a`. CPOSE_ERR_INVALID_ARGUMENT when `a` is singular (|det| < 1e-12) or not finite. */
cpose_status image_affine_invert(const image_affine *a, image_affine *inverse_out);

/* How a person box becomes the pose net's input, AlphaPose style:
 *  1. the box (x, y, w, h) keeps its center and grows its short side until w / h = net_w / net_h,
 *  2. both sides are multiplied by `scale` (AlphaPose: 1.25),
 *  3. that region maps onto the net's input [0, net_w] x [0, net_h], edges onto edges.
 * `region` is the image region of step 2 (x, y, w, h; it may reach outside the image, where the warp reads
 * black); `to_crop` maps image coordinates to crop coordinates, `to_image` is its inverse: the
 * "de-transformer" that takes keypoints back. Uniform scale, no rotation. */
typedef struct image_crop {
  double region[4];
  image_affine to_crop;
  image_affine to_image;
} image_crop;

/* CPOSE_ERR_INVALID_ARGUMENT when w or h is not positive, any value is not finite, scale <= 0 or the net
 * size is not positive. */
cpose_status image_crop_transform(double x, double y, double w, double h, double scale, int net_w, int net_h,
                                  image_crop *crop_out);

/* ---- warp and resize into float tensors (warp.c, resize.c) ------------------------------------------ */

/* Bilinear affine warp into a float32 tensor.
 *   dst: NHWC (1, dst_h, dst_w, 3) float32, RGB, values 0..255 (not normalized); borrowed, caller-owned.
 *   dst_to_src: maps the center of dst pixel (i, j), the point (j + 0.5, i + 0.5), to a continuous point
 *   (x, y) of `src`, which is sampled bilinearly at index-space (x - 0.5, y - 0.5). Each of the four taps
 *   that falls outside the image reads black (0), so the crop fades to black over one pixel at the image
 *   border, like OpenCV's warpAffine with a constant 0 border.
 * A crop's dst_to_src is image_crop.to_image. No allocation. Axis-aligned maps (m[1] = m[3] = 0) take a
 * separable path; both paths compute the same taps and weights. */
cpose_status image_warp_affine(const cpose_image *src, const image_affine *dst_to_src, int dst_w, int dst_h,
                               float *dst);

/* What cpose_image resize did: a point (x, y) of the source image lands at
 *   (x * scale_x + offset_x, y * scale_y + offset_y) in the destination,
 * and `to_image` is the inverse map (destination -> image), ready for image_affine_apply. The content covers
 * destination columns [offset_x, offset_x + content_w) and rows [offset_y, offset_y + content_h); the rest
 * holds the pad value. */
typedef struct image_resize_info {
  double scale_x, scale_y;
  int offset_x, offset_y;
  int content_w, content_h;
  image_affine to_image;
} image_resize_info;

/* Bilinear resize of the whole image into dst: NHWC (1, dst_h, dst_w, 3) float32, values 0..255.
 * Without letterbox the image is stretched to dst_w x dst_h. With letterbox it keeps its aspect ratio:
 * scale = min(dst_w / width, dst_h / height), content size = round(side * scale) (at least 1), centered
 * with integer offsets floor((dst - content) / 2), and every other pixel set to `pad` (e.g. 0 or 114).
 * Sampling uses the pixel-center convention above with edge pixels repeated (TensorFlow's ResizeBilinear
 * with half_pixel_centers, OpenCV's INTER_LINEAR); there is no antialiasing filter, so shrinking by more
 * than 2x skips pixels, as those do. `info_out` may be NULL. No allocation. */
cpose_status image_resize(const cpose_image *src, int dst_w, int dst_h, int letterbox, float pad, float *dst,
                          image_resize_info *info_out);

/* ---- font (font.c) ---------------------------------------------------------------------------------- */

#define IMAGE_FONT_W 5 /* glyph cell, in font pixels; characters advance by IMAGE_FONT_W + 1 */
#define IMAGE_FONT_H 7

/* The glyph of `c`: IMAGE_FONT_H rows, bit 4 of each row is the leftmost column. Lowercase letters use
 * the uppercase glyphs; characters without a glyph show as a hollow box. ' ' is blank. */
const uint8_t *image_font_glyph(char c);

#endif
