/* The per-keypoint OKS sigmas of the keypoint sets that cpose can evaluate. */
#include <string.h>

#include "core/error.h"
#include "eval/eval.h"

/* pycocotools writes the COCO sigmas as tenths divided by 10.0 (np.array([.26, ...]) / 10.0), which is not
 * always the same double as the literal 0.026; the tables are built the same way so that OKS values agree to
 * the last bit. */
#define TENTHS(x) ((x) / 10.0)

/* COCO-17: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles (left before right). */
#define COCO17_SIGMAS                                                                                     \
  TENTHS(.26), TENTHS(.25), TENTHS(.25), TENTHS(.35), TENTHS(.35), TENTHS(.79), TENTHS(.79), TENTHS(.72), \
      TENTHS(.72), TENTHS(.62), TENTHS(.62), TENTHS(1.07), TENTHS(1.07), TENTHS(.87), TENTHS(.87),        \
      TENTHS(.89), TENTHS(.89)

static const double coco17[] = {COCO17_SIGMAS};

/* Halpe-26 (AlphaPose's body set): COCO-17, then head, neck, hip, and big toe, small toe, heel (left, right),
 * as the first 26 of the Halpe-FullBody authors' own evaluation code (halpecocotools). (MMPose's halpe26
 * config lists other values for the last nine; the dataset's authors are the reference.) */
static const double halpe26[] = {COCO17_SIGMAS, TENTHS(.8),  TENTHS(.8),  TENTHS(.8),  TENTHS(.89),
                                 TENTHS(.89),   TENTHS(.89), TENTHS(.89), TENTHS(.89), TENTHS(.89)};

/* CrowdPose-14: shoulders, elbows, wrists, hips, knees, ankles (left before right), head top, neck, as its
 * evaluation code (crowdposetools, xtcocotools) defines them. */
static const double crowdpose14[] = {TENTHS(.79), TENTHS(.79),  TENTHS(.72),  TENTHS(.72), TENTHS(.62),
                                     TENTHS(.62), TENTHS(1.07), TENTHS(1.07), TENTHS(.87), TENTHS(.87),
                                     TENTHS(.89), TENTHS(.89),  TENTHS(.79),  TENTHS(.79)};

typedef struct keypoint_set {
  const char *name;
  const double *sigmas;
  size_t count;
} keypoint_set;

#define SET(name, table) \
  { name, table, sizeof table / sizeof table[0] }
static const keypoint_set sets[] = {SET("coco17", coco17), SET("halpe26", halpe26),
                                    SET("crowdpose14", crowdpose14)};

cpose_status cpose_eval_keypoint_set(const char *name, const double **sigmas_out, size_t *count_out) {
  if (!name || !sigmas_out || !count_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_eval_keypoint_set: NULL argument");
  }
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
    if (strcmp(sets[i].name, name) == 0) {
      *sigmas_out = sets[i].sigmas;
      *count_out = sets[i].count;
      return CPOSE_OK;
    }
  }
  return cpose_fail(CPOSE_ERR_NOT_FOUND, "keypoint set '%s' is unknown (known: coco17, halpe26, crowdpose14)",
                    name);
}
