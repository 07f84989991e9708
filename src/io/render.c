/*
 * Skeletons on images, after AlphaPose's vis_frame for COCO-17 (alphapose/utils/vis.py): its limb list
 * (l_pair) and colours (p_color, line_color; written there in OpenCV's BGR order, kept in that order below
 * and swapped by BGR()), a neck at the shoulders' midpoint with their mean confidence, limbs whose half-width
 * is c1 + c2 + 1 pixels and whose opacity is 0.5 * (c1 + c2) - 0.1, keypoints as discs of opacity c, and for
 * tracked persons get_color_fast's eight colours picked by the id. What differs, on purpose:
 *  - sizes scale with the person: AlphaPose draws in fixed pixels, too thin on a 4K frame and too thick on a
 *    thumbnail; here its pixel sizes hold for a person REFERENCE_SIZE pixels tall;
 *  - limbs are anti-aliased lines with round ends instead of filled ellipse polygons, and are drawn before
 *    the keypoints so that the joints show (AlphaPose paints keypoints first and limbs over them);
 *  - the label: "#<id>" for a tracked person (AlphaPose prints the id only with its box), plus the score with
 *    show_box, on a tag in the person's colour so that it reads on any background.
 */
#include <math.h>
#include <stdio.h>

#include "io/io.h"

#define BGR(b, g, r) \
  { (r), (g), (b), 255 }

#define COCO_KEYPOINTS 17
#define NECK 17 /* appended after the 17 COCO keypoints, as AlphaPose does */
#define POINTS 18
#define LIMBS 15
#define TRACK_COLORS 8

/* A person whose box's longer side is this many pixels is drawn at AlphaPose's pixel sizes. */
#define REFERENCE_SIZE 256.0f
#define MIN_SCALE 0.5f /* keeps limbs a pixel or more wide on tiny persons */
#define MAX_SCALE 8.0f

/* l_pair: head, shoulders and arms, neck to hips, legs. */
static const uint8_t limbs[LIMBS][2] = {{0, 1},   {0, 2},   {1, 3},   {2, 4},   {5, 6},
                                        {5, 7},   {7, 9},   {6, 8},   {8, 10},  {17, 11},
                                        {17, 12}, {11, 13}, {12, 14}, {13, 15}, {14, 16}};

/* p_color: nose, l/r eye, l/r ear, l/r shoulder, l/r elbow, l/r wrist, l/r hip, l/r knee, l/r ankle, neck. */
static const cpose_color point_colors[POINTS] = {
    BGR(0, 255, 255),  BGR(0, 191, 255),  BGR(0, 255, 102),  BGR(0, 77, 255),   BGR(0, 255, 0),
    BGR(77, 255, 255), BGR(77, 255, 204), BGR(77, 204, 255), BGR(191, 255, 77), BGR(77, 191, 255),
    BGR(191, 255, 77), BGR(204, 77, 255), BGR(77, 255, 204), BGR(191, 77, 255), BGR(77, 255, 191),
    BGR(127, 77, 255), BGR(77, 255, 127), BGR(0, 255, 255)};

/* line_color, one per limb above. */
static const cpose_color limb_colors[LIMBS] = {
    BGR(0, 215, 255),   BGR(0, 255, 204),  BGR(0, 134, 255),  BGR(0, 255, 50),  BGR(77, 255, 222),
    BGR(77, 196, 255),  BGR(77, 135, 255), BGR(191, 255, 77), BGR(77, 255, 77), BGR(77, 222, 255),
    BGR(255, 156, 127), BGR(0, 127, 255),  BGR(255, 127, 77), BGR(0, 77, 255),  BGR(255, 77, 36)};

/* get_color_fast's pool: RED, GREEN, BLUE, CYAN, YELLOW, ORANGE, PURPLE, WHITE, picked by id % 8. */
static const cpose_color track_colors[TRACK_COLORS] = {BGR(0, 0, 255),   BGR(0, 255, 0),    BGR(255, 0, 0),
                                                       BGR(255, 255, 0), BGR(0, 255, 255),  BGR(0, 165, 255),
                                                       BGR(255, 0, 255), BGR(255, 255, 255)};

static const cpose_color untracked_box_color = BGR(255, 0, 0); /* AlphaPose's BLUE */
static const cpose_color extra_point_color = BGR(255, 255, 255);

/* A person's COCO-17 keypoints plus the neck, and which of them are drawn. */
typedef struct skeleton {
  cpose_keypoint points[POINTS];
  bool visible[POINTS];
} skeleton;

static float clamp01(float v) {
  return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; /* NaN gives 0 */
}

static uint8_t opacity(float v) {
  return (uint8_t)lrintf(clamp01(v) * 255.0f);
}

static bool shown(cpose_keypoint k, float threshold) {
  return isfinite(k.x) && isfinite(k.y) && isfinite(k.score) && k.score > threshold;
}

/* AlphaPose skips a keypoint whose score is <= the threshold, and a limb unless both ends are drawn. */
static void build_skeleton(const cpose_person *p, float threshold, skeleton *s) {
  int n = p->keypoint_count < COCO_KEYPOINTS ? p->keypoint_count : COCO_KEYPOINTS;
  for (int k = 0; k < POINTS; k++) {
    s->points[k] = k < n ? p->keypoints[k] : (cpose_keypoint){0.0f, 0.0f, 0.0f};
    s->visible[k] = k < n && shown(p->keypoints[k], threshold);
  }
  if (n > 6) {
    cpose_keypoint l = p->keypoints[5], r = p->keypoints[6];
    s->points[NECK] = (cpose_keypoint){(l.x + r.x) * 0.5f, (l.y + r.y) * 0.5f, (l.score + r.score) * 0.5f};
    s->visible[NECK] = shown(s->points[NECK], threshold);
  }
}

static bool box_is_valid(const float box[4]) {
  return isfinite(box[0]) && isfinite(box[1]) && isfinite(box[2]) && isfinite(box[3]) && box[2] > 0.0f &&
         box[3] > 0.0f;
}

/* Where the person is: their box, or the extent of their drawn keypoints when the box is not a real one
 * (AlphaPose's get_box fallback). false when there is neither. */
static bool person_rect(const cpose_person *p, const skeleton *s, float rect[4]) {
  if (box_is_valid(p->box)) {
    for (int i = 0; i < 4; i++) rect[i] = p->box[i];
    return true;
  }
  float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  for (int k = 0; k < POINTS; k++) {
    if (!s->visible[k]) continue;
    x0 = fminf(x0, s->points[k].x), y0 = fminf(y0, s->points[k].y);
    x1 = fmaxf(x1, s->points[k].x), y1 = fmaxf(y1, s->points[k].y);
  }
  if (!(x0 <= x1)) return false;
  rect[0] = x0, rect[1] = y0, rect[2] = x1 - x0, rect[3] = y1 - y0;
  return true;
}

static float person_scale(const float rect[4]) {
  float scale = fmaxf(rect[2], rect[3]) / REFERENCE_SIZE;
  return scale < MIN_SCALE ? MIN_SCALE : (scale > MAX_SCALE ? MAX_SCALE : scale); /* inf gives MAX_SCALE */
}

/* `person_color` NULL: AlphaPose's colour per limb; else that one colour (a tracked person). */
static void draw_limbs(cpose_image *image, const skeleton *s, float scale, const cpose_color *person_color) {
  for (int i = 0; i < LIMBS; i++) {
    int a = limbs[i][0], b = limbs[i][1];
    if (!s->visible[a] || !s->visible[b]) continue;
    float ca = s->points[a].score, cb = s->points[b].score;
    cpose_color color = person_color ? *person_color : limb_colors[i];
    color.a = opacity(0.5f * (ca + cb) - 0.1f);
    /* Confidences are clamped for the width only: some models score above 1, which must not make limbs fat.
     */
    float width = 2.0f * (clamp01(ca) + clamp01(cb) + 1.0f) * scale;
    cpose_image_draw_line(image, s->points[a].x, s->points[a].y, s->points[b].x, s->points[b].y, width,
                          color);
  }
}

/* The 18 points, then any keypoints past the COCO ones (AlphaPose: white, opacity 2c). */
static void draw_points(cpose_image *image, const cpose_person *p, const skeleton *s, float threshold,
                        float scale, const cpose_color *person_color) {
  for (int k = 0; k < POINTS; k++) {
    if (!s->visible[k]) continue;
    cpose_color color = person_color ? *person_color : point_colors[k];
    color.a = opacity(s->points[k].score);
    cpose_image_draw_circle(image, s->points[k].x, s->points[k].y, 3.0f * scale, color);
  }
  int count = p->keypoint_count < CPOSE_MAX_KEYPOINTS ? p->keypoint_count : CPOSE_MAX_KEYPOINTS;
  for (int k = COCO_KEYPOINTS; k < count; k++) {
    cpose_keypoint kp = p->keypoints[k];
    if (!shown(kp, threshold)) continue;
    cpose_color color = extra_point_color;
    color.a = opacity(2.0f * kp.score);
    cpose_image_draw_circle(image, kp.x, kp.y, 1.5f * scale, color);
  }
}

/* "#<id>" for a tracked person, the score with show_box, both, or "" (no label). */
static void label_text(const cpose_person *p, bool show_box, char *text, size_t size) {
  int n = 0;
  text[0] = '\0';
  if (p->track_id > 0) n = snprintf(text, size, "#%d", p->track_id);
  if (show_box && n >= 0 && (size_t)n < size) {
    float score = isfinite(p->score) ? p->score : 0.0f;
    snprintf(text + n, size - (size_t)n, "%s%.2f", n > 0 ? " " : "", (double)score);
  }
}

/* The label on a tag of `background` at the rectangle's top-left corner, inside it (as AlphaPose's id),
 * in black or white, whichever reads better on the tag. */
static void draw_label(cpose_image *image, const float rect[4], const char *text, cpose_color background,
                       float scale) {
  int text_scale = (int)lrintf(2.0f * scale);
  if (text_scale < 1) text_scale = 1;
  int w = 0, h = 0;
  cpose_image_text_size(text, text_scale, &w, &h);
  float pad = (float)text_scale;
  cpose_image_fill_rect(image, rect[0], rect[1], (float)w + 2.0f * pad, (float)h + 2.0f * pad, background);
  int luma = (299 * background.r + 587 * background.g + 114 * background.b) / 1000;
  cpose_color ink = luma > 128 ? (cpose_color){0, 0, 0, 255} : (cpose_color){255, 255, 255, 255};
  cpose_image_draw_text(image, rect[0] + pad, rect[1] + pad, text, text_scale, ink);
}

static void render_person(cpose_image *image, const cpose_person *p, float threshold, bool show_box) {
  skeleton s;
  build_skeleton(p, threshold, &s);
  float rect[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  bool located = person_rect(p, &s, rect);
  float scale = located ? person_scale(rect) : 1.0f;
  bool tracked = p->track_id > 0;
  const cpose_color *person_color = tracked ? &track_colors[p->track_id % TRACK_COLORS] : NULL;
  cpose_color frame_color = tracked ? *person_color : untracked_box_color;
  if (show_box && box_is_valid(p->box)) {
    cpose_image_draw_rect(image, p->box[0], p->box[1], p->box[2], p->box[3], fmaxf(1.0f, 2.0f * scale),
                          frame_color);
  }
  draw_limbs(image, &s, scale, person_color);
  draw_points(image, p, &s, threshold, scale, person_color);
  char text[64];
  label_text(p, show_box, text, sizeof text);
  if (located && text[0]) draw_label(image, rect, text, frame_color, scale);
}

void io_render_persons(cpose_image *image, const cpose_person *persons, size_t count,
                       float keypoint_threshold, bool show_box) {
  if (!image || !image->rgb || !persons) return;
  for (size_t i = 0; i < count; i++) render_person(image, &persons[i], keypoint_threshold, show_box);
}
