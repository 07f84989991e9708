/*
 * 2x3 affine maps and the crop transform (image.h states the coordinate convention and the matrix layout).
 */
#include <math.h>

#include "image/image.h"

void image_affine_apply(const image_affine *a, double x, double y, double *x_out, double *y_out) {
  const double *m = a->m;
  *x_out = m[0] * x + m[1] * y + m[2];
  *y_out = m[3] * x + m[4] * y + m[5];
}

cpose_status image_affine_invert(const image_affine *a, image_affine *inverse_out) {
  const double *m = a->m;
  for (int i = 0; i < 6; i++) {
    if (!isfinite(m[i])) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "affine map: m[%d] is %g", i, m[i]);
  }
  double det = m[0] * m[4] - m[1] * m[3];
  if (!(fabs(det) >= 1e-12)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "affine map [%g %g %g; %g %g %g] is singular (det %g)",
                      m[0], m[1], m[2], m[3], m[4], m[5], det);
  }
  /* [A | t]^-1 = [A^-1 | -A^-1 t] with A^-1 = [m4 -m1; -m3 m0] / det. */
  double i0 = m[4] / det, i1 = -m[1] / det, i3 = -m[3] / det, i4 = m[0] / det;
  image_affine inv = {{i0, i1, -(i0 * m[2] + i1 * m[5]), i3, i4, -(i3 * m[2] + i4 * m[5])}};
  *inverse_out = inv;
  return CPOSE_OK;
}

cpose_status image_crop_transform(double x, double y, double w, double h, double scale, int net_w, int net_h,
                                  image_crop *crop_out) {
  if (!isfinite(x) || !isfinite(y) || !(w > 0) || !(h > 0) || !isfinite(w) || !isfinite(h) || !(scale > 0) ||
      !isfinite(scale) || net_w <= 0 || net_h <= 0) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT,
                      "crop of box (x %g, y %g, w %g, h %g) scaled by %g into %dx%d: needs finite values, "
                      "w, h and scale above 0 and a positive net size",
                      x, y, w, h, scale, net_w, net_h);
  }
  double cx = x + 0.5 * w, cy = y + 0.5 * h;
  double aspect = (double)net_w / net_h;
  /* Grow the short side (relative to the net's aspect ratio); the center stays. */
  if (w > aspect * h) {
    h = w / aspect;
  } else {
    w = h * aspect;
  }
  w *= scale;
  h *= scale;
  double x0 = cx - 0.5 * w, y0 = cy - 0.5 * h;
  double s = net_w / w; /* = net_h / h up to rounding; one factor keeps the map a uniform scale */
  if (!(s > 0) || !isfinite(1 / s) || !isfinite(x0) || !isfinite(y0)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT,
                      "crop at (x %g, y %g) scaled by %g: the region (w %g, h %g) "
                      "is too big",
                      x, y, scale, w, h);
  }
  crop_out->region[0] = x0;
  crop_out->region[1] = y0;
  crop_out->region[2] = w;
  crop_out->region[3] = h;
  image_affine to_crop = {{s, 0, -x0 * s, 0, s, -y0 * s}};
  image_affine to_image = {{1 / s, 0, x0, 0, 1 / s, y0}};
  crop_out->to_crop = to_crop;
  crop_out->to_image = to_image;
  return CPOSE_OK;
}
