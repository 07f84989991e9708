/*
 * Anti-aliased drawing on RGB8 images: thick lines, filled discs, rectangles, bitmap text.
 *
 * Coverage. A pixel (i, j) is the square [j, j+1) x [i, i+1) with center (j + 0.5, i + 0.5). Lines and discs
 * use the signed distance d from the pixel center to the shape's boundary (negative inside): the pixel is
 * covered by clamp(0.5 - d, 0, 1), a one-pixel linear ramp that approximates the covered area. Axis-aligned
 * rectangles use the exact covered area. A covered pixel is blended as p += (color - p) * coverage * a / 255.
 *
 * Clipping. Every shape first checks that its numbers are finite, then computes its bounding rows and
 * columns in double precision and clamps them to the image before converting to int, so no coordinate can
 * overflow an int or reach outside the buffer; per-row spans are clamped the same way.
 */
#include <math.h>

#include "image/image.h"

static inline void blend_pixel(uint8_t *p, cpose_color color, float alpha) {
  p[0] = (uint8_t)(p[0] + (color.r - p[0]) * alpha + 0.5f);
  p[1] = (uint8_t)(p[1] + (color.g - p[1]) * alpha + 0.5f);
  p[2] = (uint8_t)(p[2] + (color.b - p[2]) * alpha + 0.5f);
}

/* floor(v) clamped to [lo, hi] (v may be any double, NaN gives lo). */
static int clamp_floor(double v, int lo, int hi) {
  if (!(v > lo)) return lo;
  if (v > hi) return hi;
  return (int)floor(v);
}

static int drawable(const cpose_image *image, cpose_color color) {
  return image && image->rgb && image->width > 0 && image->height > 0 && color.a > 0;
}

/* Pixels [j0, j1) x [i0, i1) of the image, clamped; 0 when empty. Bounds given as continuous coordinates. */
typedef struct span {
  int i0, i1, j0, j1;
} span;

static int clip_box(const cpose_image *image, double x0, double y0, double x1, double y1, span *s) {
  s->j0 = clamp_floor(x0, 0, image->width);
  s->j1 = clamp_floor(ceil(x1), 0, image->width);
  s->i0 = clamp_floor(y0, 0, image->height);
  s->i1 = clamp_floor(ceil(y1), 0, image->height);
  return s->j0 < s->j1 && s->i0 < s->i1;
}

void cpose_image_draw_line(cpose_image *image, float x0, float y0, float x1, float y1, float width,
                           cpose_color color) {
  if (!drawable(image, color) || !isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) ||
      !(width > 0) || !isfinite(width)) {
    return;
  }
  const double ax = x0, ay = y0, dx = (double)x1 - x0, dy = (double)y1 - y0;
  const double r = 0.5 * width, reach = r + 0.5; /* coverage is zero at distance >= reach */
  const double len2 = dx * dx + dy * dy;
  const float alpha = color.a / 255.0f;
  span box;
  if (!clip_box(image, fmin(ax, ax + dx) - reach, fmin(ay, ay + dy) - reach, fmax(ax, ax + dx) + reach,
                fmax(ay, ay + dy) + reach, &box)) {
    return;
  }
  const size_t stride = (size_t)image->width * 3;
  for (int i = box.i0; i < box.i1; i++) {
    const double py = i + 0.5;
    /* The columns this row can touch: the part of the segment within `reach` of the row, widened by reach. */
    double t_lo = 0, t_hi = 1;
    if (dy != 0) {
      double ta = (py - reach - ay) / dy, tb = (py + reach - ay) / dy;
      t_lo = fmax(0, fmin(ta, tb));
      t_hi = fmin(1, fmax(ta, tb));
      if (t_lo > t_hi) continue;
    } else if (fabs(py - ay) >= reach) {
      continue;
    }
    double xa = ax + t_lo * dx, xb = ax + t_hi * dx;
    int j0 = clamp_floor(fmin(xa, xb) - reach, box.j0, box.j1);
    int j1 = clamp_floor(ceil(fmax(xa, xb) + reach), box.j0, box.j1);
    uint8_t *p = image->rgb + (size_t)i * stride + (size_t)j0 * 3;
    for (int j = j0; j < j1; j++, p += 3) {
      const double px = j + 0.5;
      /* Distance from the pixel center to the closest point of the segment. */
      double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      double ex = px - (ax + t * dx), ey = py - (ay + t * dy);
      double coverage = reach - sqrt(ex * ex + ey * ey);
      if (coverage <= 0) continue;
      blend_pixel(p, color, coverage >= 1 ? alpha : (float)coverage * alpha);
    }
  }
}

void cpose_image_draw_circle(cpose_image *image, float cx, float cy, float radius, cpose_color color) {
  if (!drawable(image, color) || !isfinite(cx) || !isfinite(cy) || !(radius > 0) || !isfinite(radius)) return;
  const double reach = (double)radius + 0.5;
  const float alpha = color.a / 255.0f;
  span box;
  if (!clip_box(image, cx - reach, cy - reach, cx + reach, cy + reach, &box)) return;
  const size_t stride = (size_t)image->width * 3;
  for (int i = box.i0; i < box.i1; i++) {
    const double py = i + 0.5, ey = py - cy;
    if (fabs(ey) >= reach) continue;
    double half = sqrt(reach * reach - ey * ey);
    int j0 = clamp_floor(cx - half, box.j0, box.j1);
    int j1 = clamp_floor(ceil(cx + half), box.j0, box.j1);
    uint8_t *p = image->rgb + (size_t)i * stride + (size_t)j0 * 3;
    for (int j = j0; j < j1; j++, p += 3) {
      double ex = j + 0.5 - cx;
      double coverage = reach - sqrt(ex * ex + ey * ey);
      if (coverage <= 0) continue;
      blend_pixel(p, color, coverage >= 1 ? alpha : (float)coverage * alpha);
    }
  }
}

/* Length of [k, k+1) inside [a, b]. */
static double overlap(int k, double a, double b) {
  double v = fmin(k + 1.0, b) - fmax((double)k, a);
  return v < 0 ? 0 : v;
}

/* Blends the area of each pixel covered by the outer box [ox0, ox1] x [oy0, oy1] minus the inner box (pass
 * an empty inner box, x0 >= x1, for a filled rectangle). */
static void fill_ring(cpose_image *image, double ox0, double oy0, double ox1, double oy1, double ix0,
                      double iy0, double ix1, double iy1, cpose_color color) {
  span box;
  if (!(ox0 < ox1 && oy0 < oy1) || !clip_box(image, ox0, oy0, ox1, oy1, &box)) return;
  const int hollow = ix0 < ix1 && iy0 < iy1;
  const float alpha = color.a / 255.0f;
  const size_t stride = (size_t)image->width * 3;
  for (int i = box.i0; i < box.i1; i++) {
    double cover_y = overlap(i, oy0, oy1), inner_y = hollow ? overlap(i, iy0, iy1) : 0;
    uint8_t *p = image->rgb + (size_t)i * stride + (size_t)box.j0 * 3;
    for (int j = box.j0; j < box.j1; j++, p += 3) {
      double coverage = overlap(j, ox0, ox1) * cover_y;
      if (inner_y > 0) coverage -= overlap(j, ix0, ix1) * inner_y;
      if (coverage <= 1e-9) continue;
      blend_pixel(p, color, coverage >= 1 ? alpha : (float)coverage * alpha);
    }
  }
}

void cpose_image_fill_rect(cpose_image *image, float x, float y, float w, float h, cpose_color color) {
  if (!drawable(image, color) || !isfinite(x) || !isfinite(y) || !isfinite(w) || !isfinite(h)) return;
  fill_ring(image, x, y, (double)x + w, (double)y + h, 0, 0, 0, 0, color);
}

void cpose_image_draw_rect(cpose_image *image, float x, float y, float w, float h, float width,
                           cpose_color color) {
  if (!drawable(image, color) || !isfinite(x) || !isfinite(y) || !(w >= 0) || !(h >= 0) || !isfinite(w) ||
      !isfinite(h) || !(width > 0) || !isfinite(width)) {
    return;
  }
  double half = 0.5 * width, x1 = (double)x + w, y1 = (double)y + h;
  fill_ring(image, x - half, y - half, x1 + half, y1 + half, x + half, y + half, x1 - half, y1 - half, color);
}

#define TEXT_MAX_SCALE 64

void cpose_image_text_size(const char *text, int scale, int *width_out, int *height_out) {
  int width = 0, height = 0;
  if (text && *text && scale >= 1 && scale <= TEXT_MAX_SCALE) {
    long longest = 0, line = 0, lines = 1;
    for (const char *c = text; *c; c++) {
      if (*c == '\n') {
        lines++;
        line = 0;
        continue;
      }
      if (++line > longest) longest = line;
    }
    /* Characters advance by 6 font pixels and lines by 8; the last column and row of spacing do not count. */
    double w = longest > 0 ? (double)longest * (IMAGE_FONT_W + 1) * scale - scale : 0;
    double h = (double)lines * (IMAGE_FONT_H + 1) * scale - scale;
    width = w > INT32_MAX ? INT32_MAX : (int)w;
    height = h > INT32_MAX ? INT32_MAX : (int)h;
  }
  if (width_out) *width_out = width;
  if (height_out) *height_out = height;
}

void cpose_image_draw_text(cpose_image *image, float x, float y, const char *text, int scale,
                           cpose_color color) {
  if (!drawable(image, color) || !text || !isfinite(x) || !isfinite(y) || scale < 1 ||
      scale > TEXT_MAX_SCALE) {
    return;
  }
  /* Far-away origins are clamped to where no text can reach the image; int64 keeps the arithmetic exact. */
  const double limit = 1e12;
  const int64_t left = (int64_t)floor(fmax(-limit, fmin(limit, (double)x) + 0.5));
  int64_t top = (int64_t)floor(fmax(-limit, fmin(limit, (double)y) + 0.5));
  int64_t pen = left;
  const float alpha = color.a / 255.0f;
  const size_t stride = (size_t)image->width * 3;
  for (const char *c = text; *c; c++) {
    if (*c == '\n') {
      top += (IMAGE_FONT_H + 1) * scale;
      pen = left;
      continue;
    }
    if (pen >= image->width || pen + IMAGE_FONT_W * scale <= 0 || top >= image->height ||
        top + IMAGE_FONT_H * scale <= 0) {
      pen += (IMAGE_FONT_W + 1) * scale; /* nothing of this glyph is inside the image */
      continue;
    }
    const uint8_t *glyph = image_font_glyph(*c);
    for (int r = 0; r < IMAGE_FONT_H; r++) {
      for (int k = 0; k < IMAGE_FONT_W; k++) {
        if (!(glyph[r] & (0x10 >> k))) continue;
        int64_t bx = pen + (int64_t)k * scale, by = top + (int64_t)r * scale;
        /* The scale x scale block at (bx, by), clipped. */
        int64_t j0 = bx < 0 ? 0 : bx, j1 = bx + scale > image->width ? image->width : bx + scale;
        int64_t i0 = by < 0 ? 0 : by, i1 = by + scale > image->height ? image->height : by + scale;
        for (int64_t i = i0; i < i1; i++) {
          for (int64_t j = j0; j < j1; j++)
            blend_pixel(image->rgb + (size_t)i * stride + (size_t)j * 3, color, alpha);
        }
      }
    }
    pen += (IMAGE_FONT_W + 1) * scale;
  }
}
