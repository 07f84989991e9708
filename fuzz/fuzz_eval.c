/* cpose_eval_coco on a fuzzed ground truth and/or fuzzed results (see targets.h for how the input splits).
 * Each input is evaluated twice: with COCO's 17 keypoints (the default parameters), and with 2 keypoints of
 * custom sigmas and max_dets 1, so that short inputs can reach the matching and the accumulation too. */
#include <string.h>

#include "cpose.h"
#include "targets.h"

/* The fixed halves, one per keypoint count: image 1 ("1.jpg") with one labelled person, and a result on
 * it. */
static const char eval_gt17[] =
    "{\"images\":[{\"id\":1,\"file_name\":\"1.jpg\"}],\"categories\":[{\"id\":1,\"name\":\"person\"}],"
    "\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,\"iscrowd\":0,\"num_keypoints\":17,"
    "\"area\":10000,\"bbox\":[0,0,100,100],\"keypoints\":["
    "10,5,2,30,10,2,50,15,2,70,20,2,90,25,2,10,30,2,30,35,2,50,40,2,70,45,2,"
    "90,50,2,10,55,2,30,60,2,50,65,2,70,70,2,90,75,2,10,80,2,30,85,2]}]}";
static const char eval_dt17[] =
    "[{\"image_id\":1,\"category_id\":1,\"score\":0.9,\"keypoints\":["
    "11,5,1,30,11,1,50,15,1,70,20,1,90,25,1,10,30,1,30,35,1,50,40,1,70,45,1,"
    "90,50,1,10,55,1,30,60,1,50,65,1,70,70,1,90,75,1,10,80,1,30,85,1]}]";
static const char eval_gt2[] =
    "{\"images\":[{\"id\":1,\"file_name\":\"1.jpg\"}],\"categories\":[{\"id\":1}],\"annotations\":[{\"id\":1,"
    "\"image_id\":1,\"category_id\":1,\"area\":2500,\"bbox\":[10,10,50,50],"
    "\"keypoints\":[10,10,2,60,60,2]}]}";
static const char eval_dt2[] =
    "[{\"image_id\":\"1.jpg\",\"category_id\":1,\"score\":1,\"keypoints\":[12,10,1,60,61,1]}]";

static void eval_check_result(const cpose_eval_result *r) {
  for (int i = 0; i < CPOSE_EVAL_STAT_COUNT; i++) {
    FUZZ_CHECK(r->stats[i] == -1 || (r->stats[i] >= 0 && r->stats[i] <= 1));
  }
  FUZZ_CHECK(r->dt_unused_count <= r->dt_count);
}

static void eval_run(const char *gt, size_t gt_size, const char *dt, size_t dt_size,
                     const cpose_eval_params *params) {
  cpose_eval_result result;
  memset(&result, 0xA5, sizeof result); /* must stay as it is on failure */
  cpose_status status = cpose_eval_coco(gt, gt_size, dt, dt_size, params, &result);
  if (status != CPOSE_OK) {
    FUZZ_CHECK(cpose_last_error()[0] != '\0');
    const unsigned char *bytes = (const unsigned char *)&result;
    for (size_t i = 0; i < sizeof result; i++) FUZZ_CHECK(bytes[i] == 0xA5);
    return;
  }
  eval_check_result(&result);
}

int fuzz_eval(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
  static const double sigmas2[2] = {0.05, 0.1};
  cpose_eval_params coco17 = cpose_eval_params_default(), custom2 = cpose_eval_params_default();
  custom2.sigmas = sigmas2;
  custom2.sigma_count = 2;
  custom2.max_dets = 1;
  if (nul) {
    const size_t gt_size = (size_t)(nul - data);
    eval_run(text, gt_size, text + gt_size + 1, size - gt_size - 1, &coco17);
    eval_run(text, gt_size, text + gt_size + 1, size - gt_size - 1, &custom2);
    return 0;
  }
  /* No NUL: a list is results, evaluated against the fixed ground truth; anything else a ground truth. */
  size_t lead = 0;
  while (lead < size && strchr(" \t\r\n", text[lead])) lead++;
  if (lead < size && text[lead] == '[') {
    eval_run(eval_gt17, sizeof eval_gt17 - 1, text, size, &coco17);
    eval_run(eval_gt2, sizeof eval_gt2 - 1, text, size, &custom2);
  } else {
    eval_run(text, size, eval_dt17, sizeof eval_dt17 - 1, &coco17);
    eval_run(text, size, eval_dt2, sizeof eval_dt2 - 1, &custom2);
  }
  return 0;
}
