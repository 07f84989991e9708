/*
 * Box overlap and greedy box NMS. CenterNet extracts one peak per (centre, class) with a 3x3 max-pool, so
 * two nearby centres of the same person both survive as boxes that overlap heavily; NMS keeps the better.
 */
#include <math.h>

#include "detect/detect.h"

static float box_area(const cpose_box *b) {
  return b->w * b->h;
}

/* Negated on purpose: `!(w > 0)` is also true for NaN, so a box with a NaN side counts as empty. */
static bool box_empty(const cpose_box *b) {
  return !(b->w > 0) || !(b->h > 0);
}

float box_iou(const cpose_box *a, const cpose_box *b) {
  if (box_empty(a) || box_empty(b)) return 0.0f;
  float iw = fminf(a->x + a->w, b->x + b->w) - fmaxf(a->x, b->x);
  float ih = fminf(a->y + a->h, b->y + b->h) - fmaxf(a->y, b->y);
  if (!(iw > 0) || !(ih > 0)) return 0.0f;
  float inter = iw * ih;
  float uni = box_area(a) + box_area(b) - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

/* NaN scores sort last, so that the order is total and a NaN cannot stop better boxes from moving up. */
static float sort_key(const cpose_box *b) {
  return isnan(b->score) ? -INFINITY : b->score;
}

/* Insertion sort, best first: stable (equal scores keep their order, so results are reproducible), needs no
 * memory, and its O(n^2) worst case is no worse than the greedy pass that follows. */
static void sort_by_score(cpose_box *boxes, size_t count) {
  for (size_t i = 1; i < count; i++) {
    cpose_box b = boxes[i];
    float key = sort_key(&b);
    size_t j = i;
    for (; j > 0 && sort_key(&boxes[j - 1]) < key; j--) boxes[j] = boxes[j - 1];
    boxes[j] = b;
  }
}

/* Whether `b` overlaps one of the kept boxes kept[0..kept) by more than `iou`. */
static bool suppressed(const cpose_box *kept, size_t kept_count, const cpose_box *b, float iou) {
  for (size_t k = 0; k < kept_count; k++) {
    if (box_iou(&kept[k], b) > iou) return true;
  }
  return false;
}

void box_nms(cpose_box *boxes, size_t count, float iou, size_t *kept_out) {
  sort_by_score(boxes, count);
  size_t kept = 0;
  for (size_t i = 0; i < count; i++) {
    if (suppressed(boxes, kept, &boxes[i], iou)) continue;
    boxes[kept++] = boxes[i];
  }
  *kept_out = kept;
}
