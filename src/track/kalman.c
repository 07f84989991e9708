/*
 * Constant-velocity Kalman filter on a person's box, per frame.
 *
 * State: center x, center y, width, height, and their velocities. SORT keeps area and aspect ratio (the
 * ratio without a velocity) and DeepSORT aspect ratio and height; we keep width and height as BoT-SORT does
 * (Aharon et al. 2022), which found the boxes fit better: a person's aspect ratio is not constant, it
 * changes every time an arm stretches out or a leg steps, and the boxes here come from poses.
 *
 * Noise, as DeepSORT: every standard deviation is a fraction of the box's size along its axis (the width
 * for center x and width, the height for center y and height), so the filter behaves the same for a person
 * near the camera and far from it:
 *   process noise per frame: position size / 20, velocity size / 160;
 *   measurement noise:       size / 20;
 *   a new track:             position 2 x size / 20, velocity 10 x size / 160 (the velocity is unknown).
 * With these, each coordinate is an independent two-state filter (see track.h).
 */
#include <math.h>

#include "track/track.h"

#define POSITION_WEIGHT (1.0 / 20.0)
#define VELOCITY_WEIGHT (1.0 / 160.0)

static double square(double x) {
  return x * x;
}

/* The size that scales the noise of `axis`: the box's width for x and width, its height for y and height. */
static double noise_scale(const kalman_box *k, int axis) {
  return axis == KALMAN_CX || axis == KALMAN_W ? k->axis[KALMAN_W].pos : k->axis[KALMAN_H].pos;
}

static void box_measurement(const cpose_box *box, double z[KALMAN_AXES]) {
  z[KALMAN_CX] = (double)box->x + 0.5 * box->w;
  z[KALMAN_CY] = (double)box->y + 0.5 * box->h;
  z[KALMAN_W] = box->w;
  z[KALMAN_H] = box->h;
}

void kalman_init(kalman_box *k, const cpose_box *box) {
  double z[KALMAN_AXES];
  box_measurement(box, z);
  for (int i = 0; i < KALMAN_AXES; i++) k->axis[i] = (kalman_axis){.pos = z[i]};
  for (int i = 0; i < KALMAN_AXES; i++) {
    double scale = noise_scale(k, i);
    k->axis[i].var_pos = square(2 * POSITION_WEIGHT * scale);
    k->axis[i].var_vel = square(10 * VELOCITY_WEIGHT * scale);
  }
}

/* x <- F x, P <- F P F' + Q with F = [[1, 1], [0, 1]] and Q = diag(q_pos, q_vel). */
static void axis_predict(kalman_axis *a, double scale) {
  a->pos += a->vel;
  a->var_pos += 2 * a->cov + a->var_vel + square(POSITION_WEIGHT * scale);
  a->cov += a->var_vel;
  a->var_vel += square(VELOCITY_WEIGHT * scale);
}

void kalman_predict(kalman_box *k) {
  double scale[KALMAN_AXES]; /* the noise follows the size before the step, as DeepSORT's */
  for (int i = 0; i < KALMAN_AXES; i++) scale[i] = noise_scale(k, i);
  for (int i = 0; i < KALMAN_AXES; i++) axis_predict(&k->axis[i], scale[i]);
  /* A shrinking box extrapolated too far would turn inside out (SORT's negative areas): stop at a pixel. */
  for (int i = KALMAN_W; i <= KALMAN_H; i++) {
    kalman_axis *a = &k->axis[i];
    if (!(a->pos >= KALMAN_MIN_SIZE)) a->pos = KALMAN_MIN_SIZE, a->vel = 0;
  }
}

/* Measures the position only (H = [1, 0]) with noise r: gain K = P H' / (P_pos + r), P <- (I - K H) P. */
static void axis_update(kalman_axis *a, double z, double r) {
  double s = a->var_pos + r;
  double gain_pos = a->var_pos / s, gain_vel = a->cov / s, innovation = z - a->pos;
  a->pos += gain_pos * innovation;
  a->vel += gain_vel * innovation;
  a->var_vel -= gain_vel * a->cov;
  a->cov *= r / s;
  a->var_pos *= r / s;
}

void kalman_update(kalman_box *k, const cpose_box *box) {
  double z[KALMAN_AXES], r[KALMAN_AXES]; /* the measurement noise follows the predicted size */
  box_measurement(box, z);
  for (int i = 0; i < KALMAN_AXES; i++) r[i] = square(POSITION_WEIGHT * noise_scale(k, i));
  for (int i = 0; i < KALMAN_AXES; i++) axis_update(&k->axis[i], z[i], r[i]);
}

/* The velocity taken from the mean goes to its variance: the person may have stopped or walked on, and the
 * gate of a lost track should widen to cover both. */
void kalman_damp(kalman_box *k, double factor) {
  for (int i = 0; i < KALMAN_AXES; i++) {
    kalman_axis *a = &k->axis[i];
    a->var_vel += square((1.0 - factor) * a->vel);
    a->vel *= factor;
  }
}

cpose_box kalman_box_mean(const kalman_box *k) {
  double w = k->axis[KALMAN_W].pos, h = k->axis[KALMAN_H].pos;
  cpose_box box = {(float)(k->axis[KALMAN_CX].pos - 0.5 * w), (float)(k->axis[KALMAN_CY].pos - 0.5 * h),
                   (float)w, (float)h, 0.0f};
  return box;
}

void kalman_center_spread(const kalman_box *k, float *sx, float *sy) {
  const kalman_axis *x = &k->axis[KALMAN_CX], *y = &k->axis[KALMAN_CY];
  *sx = (float)sqrt(x->var_pos + square(POSITION_WEIGHT * noise_scale(k, KALMAN_CX)));
  *sy = (float)sqrt(y->var_pos + square(POSITION_WEIGHT * noise_scale(k, KALMAN_CY)));
}
