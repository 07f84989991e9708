/*
 * The appearance cue: a coarse colour histogram of a person's torso.
 *
 * The torso because clothes are what tells two people apart at a glance, and the torso is the part of a
 * person with the fewest background pixels: arms and legs are thin and move. HSV because it keeps hue
 * apart from brightness, so a person walking into shade moves little of their mass between bins; 8 hues x
 * 4 saturations x 4 values because coarse bins also absorb a few pixels of jitter in the region. Compared
 * with the Hellinger distance (sqrt(1 - Bhattacharyya coefficient)), which is a metric in [0, 1].
 */
#include <math.h>
#include <stdint.h>

#include "track/track.h"

#define HUE_BINS 8
#define SATURATION_BINS 4
#define VALUE_BINS 4
#define MAX_SAMPLES_PER_SIDE 32 /* at most 32 x 32 pixels are read per person, whatever its size */

enum { LEFT_SHOULDER = 5, RIGHT_SHOULDER = 6, LEFT_HIP = 11, RIGHT_HIP = 12 }; /* COCO-17 */

typedef struct region {
  float x0, y0, x1, y1;
} region;

/* The rectangle spanned by the shoulders and hips, or the middle of the box (the upper body of a standing
 * person) when one of them is missing or they span less than 4 pixels (a person seen from the side). */
static region torso_region(const cpose_box *box, const cpose_person *person) {
  static const int torso[4] = {LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP};
  region r = {INFINITY, INFINITY, -INFINITY, -INFINITY};
  int found = 0;
  for (int i = 0; i < 4 && person->keypoint_count >= COCO_KEYPOINTS; i++) {
    const cpose_keypoint *k = &person->keypoints[torso[i]];
    if (!track_keypoint_usable(k)) break;
    r.x0 = fminf(r.x0, k->x), r.y0 = fminf(r.y0, k->y), r.x1 = fmaxf(r.x1, k->x), r.y1 = fmaxf(r.y1, k->y);
    found++;
  }
  if (found == 4 && r.x1 - r.x0 >= 4 && r.y1 - r.y0 >= 4) return r;
  return (region){box->x + 0.25f * box->w, box->y + 0.2f * box->h, box->x + 0.75f * box->w,
                  box->y + 0.6f * box->h};
}

/* The first pixel whose center lies at or after coordinate v, clamped to [0, size] (for any float, NaN and
 * infinities too). */
static int pixel_index(float v, int size) {
  if (!(v > 0.0f)) return 0;
  if (v >= (float)size) return size;
  return (int)ceilf(v - 0.5f); /* pixel j's center is j + 0.5; v < size keeps this at most size */
}

static int color_bin(const uint8_t *rgb) {
  int r = rgb[0], g = rgb[1], b = rgb[2];
  int max = r > g ? (r > b ? r : b) : (g > b ? g : b), min = r < g ? (r < b ? r : b) : (g < b ? g : b);
  int chroma = max - min;
  int value_bin = max * VALUE_BINS / 256, saturation_bin = chroma * SATURATION_BINS / (max + 1);
  int hue_bin = 0; /* greys have no hue: bin 0 with the lowest saturation bin */
  if (chroma > 0) {
    float hue = max == r   ? (float)(g - b) / chroma
                : max == g ? 2.0f + (float)(b - r) / chroma
                           : 4.0f + (float)(r - g) / chroma;
    if (hue < 0.0f) hue += 6.0f;
    hue_bin = (int)(hue * HUE_BINS / 6.0f);
    if (hue_bin >= HUE_BINS) hue_bin = HUE_BINS - 1;
  }
  return (hue_bin * SATURATION_BINS + saturation_bin) * VALUE_BINS + value_bin;
}

bool appearance_histogram(const cpose_image *image, const cpose_box *box, const cpose_person *person,
                          float hist[APPEARANCE_BINS]) {
  region r = torso_region(box, person);
  int x0 = pixel_index(r.x0, image->width), x1 = pixel_index(r.x1, image->width);
  int y0 = pixel_index(r.y0, image->height), y1 = pixel_index(r.y1, image->height);
  if (x1 <= x0 || y1 <= y0) return false;
  int step_x = (x1 - x0 + MAX_SAMPLES_PER_SIDE - 1) / MAX_SAMPLES_PER_SIDE;
  int step_y = (y1 - y0 + MAX_SAMPLES_PER_SIDE - 1) / MAX_SAMPLES_PER_SIDE;
  for (int i = 0; i < APPEARANCE_BINS; i++) hist[i] = 0.0f;
  float samples = 0.0f;
  for (int y = y0; y < y1; y += step_y) {
    for (int x = x0; x < x1; x += step_x) {
      hist[color_bin(image->rgb + ((size_t)y * (size_t)image->width + (size_t)x) * 3)] += 1.0f;
      samples += 1.0f;
    }
  }
  for (int i = 0; i < APPEARANCE_BINS; i++) hist[i] /= samples;
  return true;
}

float appearance_distance(const float a[APPEARANCE_BINS], const float b[APPEARANCE_BINS]) {
  float coefficient = 0.0f;
  for (int i = 0; i < APPEARANCE_BINS; i++) coefficient += sqrtf(a[i] * b[i]);
  return sqrtf(fmaxf(0.0f, 1.0f - coefficient));
}
