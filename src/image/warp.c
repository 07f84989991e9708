/*
 * Bilinear sampling of an RGB8 image into float32 NHWC tensors: the affine warp that cuts a person's crop
 * for the pose net, and the whole-image resize (optionally letterboxed) for the detector. Both use the
 * pixel-center convention of image.h: destination pixel (i, j) is the point (j + 0.5, i + 0.5), mapped to
 * a continuous source point (x, y), sampled at index-space (x - 0.5, y - 0.5).
 *
 * One axis of one sample is a "tap": two neighbouring source columns (or rows) as byte offsets, and their
 * weights. The warp gives a tap outside the image weight 0 (black); the resize clamps to the edge instead.
 * A sample is (a0 wx0 + a1 wx1) wy0 + (b0 wx0 + b1 wx1) wy1 for the pixels a (row tap 0) and b (row tap 1).
 *
 * When the map has no rotation or shear (crops, resizes), the column taps are the same for every row and
 * the row tap the same for every column: the separable path computes the column taps once per block of
 * columns, interpolates each needed source row horizontally once (a0 wx0 + a1 wx1, kept for the next
 * destination row, which usually reads the same source rows when enlarging), and blends two such rows per
 * destination row. A rotated map computes both taps per pixel. Both evaluate the same float expression in
 * the same order, so they agree exactly. Nothing allocates: the taps and the two interpolated rows of a
 * block live on the stack (about 10 KB).
 */
#include <math.h>
#include <string.h>

#include "image/image.h"

#define TAP_BLOCK 256 /* columns per block of precomputed taps */

typedef struct tap {
  int o0, o1;   /* offsets of the two source pixels: columns * 3 (bytes in a row) or rows * stride */
  float w0, w1; /* their weights; 0 for a tap outside the image (warp) */
} tap;

/* The tap of index-space coordinate v along an axis of `size` pixels whose neighbours are `unit` bytes
 * apart; taps outside [0, size) read black. v is a double so that any finite or infinite value, or NaN, is
 * safe: everything outside (-1, size) gives two zero weights before any conversion to int. */
static inline tap zero_tap(double v, int size, int unit) {
  tap t = {0, 0, 0.0f, 0.0f};
  if (!(v > -1.0 && v < (double)size)) return t;
  int i = (int)v; /* truncation; floor for v < 0 below (floor() is a libm call on baseline x86-64) */
  if (v < i) i--;
  double frac = v - i;
  if (i >= 0) {
    t.o0 = i * unit;
    t.w0 = (float)(1.0 - frac);
  }
  if (i + 1 < size) {
    t.o1 = (i + 1) * unit;
    t.w1 = (float)frac;
  }
  return t;
}

/* The same with the edge pixels repeated (v is finite here). */
static inline tap clamp_tap(double v, int size, int unit) {
  if (v < 0) v = 0;
  if (v > size - 1) v = size - 1;
  int i = (int)v; /* v >= 0: truncation is floor */
  tap t = {i * unit, (i + 1 < size ? i + 1 : i) * unit, (float)(1.0 - (v - i)), (float)(v - i)};
  return t;
}

/* One output pixel: rows r0 (weight wy0) and r1 (wy1), columns from tx (the general path). */
static inline void blend(const uint8_t *r0, const uint8_t *r1, tap tx, float wy0, float wy1, float *out) {
  const uint8_t *a0 = r0 + tx.o0, *a1 = r0 + tx.o1, *b0 = r1 + tx.o0, *b1 = r1 + tx.o1;
  for (int c = 0; c < 3; c++) {
    float a = a0[c] * tx.w0 + a1[c] * tx.w1;
    float b = b0[c] * tx.w0 + b1[c] * tx.w1;
    out[c] = a * wy0 + b * wy1;
  }
}

/* The separable path's state for one block of up to TAP_BLOCK destination columns: their column taps and
 * up to two source rows interpolated horizontally, HWC (1, n, 3) float32 each, keyed by row byte offset. */
typedef struct row_cache {
  tap xt[TAP_BLOCK];
  int n;
  int key[2]; /* byte offset of the source row in slot k, -1 when empty */
  float row[2][TAP_BLOCK * 3];
} row_cache;

static void interpolate_row(const row_cache *rc, const uint8_t *src, float *h) {
  for (int j = 0; j < rc->n; j++, h += 3) {
    const tap tx = rc->xt[j];
    const uint8_t *a0 = src + tx.o0, *a1 = src + tx.o1;
    for (int c = 0; c < 3; c++) h[c] = a0[c] * tx.w0 + a1[c] * tx.w1;
  }
}

/* Slot holding source row `key`, interpolating it into a slot other than `keep` when absent. */
static int cached_row(row_cache *rc, const uint8_t *rgb, int key, int keep) {
  if (rc->key[0] == key) return 0;
  if (rc->key[1] == key) return 1;
  int slot = keep == 0 ? 1 : 0;
  interpolate_row(rc, rgb + key, rc->row[slot]);
  rc->key[slot] = key;
  return slot;
}

/* One destination row of a block: ty's two source rows blended. */
static void blend_rows(row_cache *rc, const uint8_t *rgb, tap ty, float *out) {
  int s0 = cached_row(rc, rgb, ty.o0, -1);
  int s1 = cached_row(rc, rgb, ty.o1, s0);
  const float *h0 = rc->row[s0], *h1 = rc->row[s1];
  const float wy0 = ty.w0, wy1 = ty.w1;
  for (int k = 0; k < rc->n * 3; k++) out[k] = h0[k] * wy0 + h1[k] * wy1;
}

/* Source coordinates (index space) of destination pixel center (xc, yc). */
static inline double map_x(const double *m, double xc, double yc) {
  return (m[0] * xc + m[1] * yc) + m[2] - 0.5;
}
static inline double map_y(const double *m, double xc, double yc) {
  return (m[3] * xc + m[4] * yc) + m[5] - 0.5;
}

static cpose_status check_args(const cpose_image *src, int dst_w, int dst_h, const float *dst,
                               const char *fn) {
  if (!src || !src->rgb || !dst)
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "%s: NULL image or output", fn);
  cpose_status status = image_check_size(src->width, src->height, fn);
  if (status == CPOSE_OK) status = image_check_size(dst_w, dst_h, fn);
  return status == CPOSE_ERR_PARSE ? CPOSE_ERR_INVALID_ARGUMENT : status;
}

cpose_status image_warp_affine(const cpose_image *src, const image_affine *dst_to_src, int dst_w, int dst_h,
                               float *dst) {
  cpose_status status = check_args(src, dst_w, dst_h, dst, "image_warp_affine");
  if (status != CPOSE_OK) return status;
  const double *m = dst_to_src->m;
  for (int k = 0; k < 6; k++) {
    if (!isfinite(m[k]))
      return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "image_warp_affine: m[%d] is %g", k, m[k]);
  }
  const int w = src->width, h = src->height, stride = 3 * w;
  const uint8_t *rgb = src->rgb;

  if (m[1] == 0 && m[3] == 0) { /* separable: column taps depend on j only, row taps on i only */
    row_cache rc;
    for (int j0 = 0; j0 < dst_w; j0 += TAP_BLOCK) {
      rc.n = dst_w - j0 < TAP_BLOCK ? dst_w - j0 : TAP_BLOCK;
      rc.key[0] = rc.key[1] = -1;
      for (int j = 0; j < rc.n; j++) rc.xt[j] = zero_tap(map_x(m, j0 + j + 0.5, 0.5), w, 3);
      for (int i = 0; i < dst_h; i++) {
        float *out = dst + ((size_t)i * dst_w + j0) * 3;
        tap ty = zero_tap(map_y(m, 0.5, i + 0.5), h, stride);
        if (ty.w0 == 0 && ty.w1 == 0) {
          memset(out, 0, (size_t)rc.n * 3 * sizeof *out);
        } else {
          blend_rows(&rc, rgb, ty, out);
        }
      }
    }
    return CPOSE_OK;
  }

  for (int i = 0; i < dst_h; i++) {
    float *out = dst + (size_t)i * dst_w * 3;
    double yc = i + 0.5;
    for (int j = 0; j < dst_w; j++, out += 3) {
      double xc = j + 0.5;
      tap tx = zero_tap(map_x(m, xc, yc), w, 3);
      tap ty = zero_tap(map_y(m, xc, yc), h, stride);
      blend(rgb + ty.o0, rgb + ty.o1, tx, ty.w0, ty.w1, out);
    }
  }
  return CPOSE_OK;
}

cpose_status image_resize(const cpose_image *src, int dst_w, int dst_h, int letterbox, float pad, float *dst,
                          image_resize_info *info_out) {
  cpose_status status = check_args(src, dst_w, dst_h, dst, "image_resize");
  if (status != CPOSE_OK) return status;
  const int w = src->width, h = src->height, stride = 3 * w;
  int content_w = dst_w, content_h = dst_h, ox = 0, oy = 0;
  if (letterbox) {
    double scale = fmin((double)dst_w / w, (double)dst_h / h);
    content_w = (int)lround(w * scale);
    content_h = (int)lround(h * scale);
    if (content_w < 1) content_w = 1;
    if (content_h < 1) content_h = 1;
    if (content_w > dst_w) content_w = dst_w;
    if (content_h > dst_h) content_h = dst_h;
    ox = (dst_w - content_w) / 2;
    oy = (dst_h - content_h) / 2;
  }
  /* Within the content, destination x' = ox + x * sx: index-space source column (j - ox + 0.5) / sx - 0.5. */
  const double inv_sx = (double)w / content_w, inv_sy = (double)h / content_h;
  /* Blocks of content columns, then the padding columns and rows. */
  row_cache rc;
  for (int j0 = 0; j0 < content_w; j0 += TAP_BLOCK) {
    rc.n = content_w - j0 < TAP_BLOCK ? content_w - j0 : TAP_BLOCK;
    rc.key[0] = rc.key[1] = -1;
    for (int j = 0; j < rc.n; j++) rc.xt[j] = clamp_tap((j0 + j + 0.5) * inv_sx - 0.5, w, 3);
    for (int i = 0; i < content_h; i++) {
      tap ty = clamp_tap((i + 0.5) * inv_sy - 0.5, h, stride);
      blend_rows(&rc, src->rgb, ty, dst + ((size_t)(oy + i) * dst_w + ox + j0) * 3);
    }
  }
  for (int i = 0; i < dst_h; i++) {
    float *row = dst + (size_t)i * dst_w * 3;
    if (i < oy || i >= oy + content_h) {
      for (size_t k = 0; k < (size_t)dst_w * 3; k++) row[k] = pad;
      continue;
    }
    for (int k = 0; k < ox * 3; k++) row[k] = pad;
    for (int k = (ox + content_w) * 3; k < dst_w * 3; k++) row[k] = pad;
  }
  if (info_out) {
    double sx = (double)content_w / w, sy = (double)content_h / h;
    info_out->scale_x = sx;
    info_out->scale_y = sy;
    info_out->offset_x = ox;
    info_out->offset_y = oy;
    info_out->content_w = content_w;
    info_out->content_h = content_h;
    image_affine to_image = {{1 / sx, 0, -ox / sx, 0, 1 / sy, -oy / sy}};
    info_out->to_image = to_image;
  }
  return CPOSE_OK;
}
