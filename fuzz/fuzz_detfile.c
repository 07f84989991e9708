/* detfile_parse on any bytes (a `--detfile` detections file), then lookups by id and by file name. */
#include <math.h>

#include "cpose.h"
#include "io/detfile.h"
#include "targets.h"

/* Looks one image up and checks that its boxes are the ones the parser promises: finite, sizes >= 0. */
static size_t detfile_lookup(const detfile *f, int64_t image_id, const char *file_name) {
  const cpose_box *boxes = NULL;
  size_t n = detfile_boxes(f, image_id, file_name, &boxes);
  FUZZ_CHECK(n <= detfile_box_count(f));
  FUZZ_CHECK((n == 0) == (boxes == NULL));
  for (size_t i = 0; i < n; i++) {
    FUZZ_CHECK(isfinite(boxes[i].x) && isfinite(boxes[i].y) && isfinite(boxes[i].score));
    FUZZ_CHECK(boxes[i].w >= 0 && boxes[i].h >= 0);
  }
  return n;
}

int fuzz_detfile(const uint8_t *data, size_t size) {
  detfile *f = NULL;
  cpose_status status = detfile_parse((const char *)data, size, "fuzz", &f);
  if (status != CPOSE_OK) {
    FUZZ_CHECK(f == NULL);
    FUZZ_CHECK(cpose_last_error()[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(f != NULL);
  FUZZ_CHECK(detfile_image_count(f) <= detfile_box_count(f)); /* only images with a person box count */
  /* Names of the seeds' images, a folder, an empty name and a stem too long to be an id. */
  static const char *const names[] = {
      "a.jpg", "000000000001.jpg", "dir/0.png", "", "x", "12345678901234567890.jpg",
  };
  for (int64_t id = -1; id < 4; id++) detfile_lookup(f, id, NULL);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) detfile_lookup(f, -1, names[i]);
  detfile_destroy(f);
  return 0;
}
