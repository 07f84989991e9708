/* cpose_image_decode on any bytes: JPEG (libjpeg-turbo), PNG (libpng), EXIF orientation, CMYK, and the
 * refusal of everything else. */
#include <string.h>

#include "cpose.h"
#include "targets.h"

int fuzz_image(const uint8_t *data, size_t size) {
  cpose_image *image = NULL;
  cpose_status status = cpose_image_decode(data, size, &image);
  if (status != CPOSE_OK) {
    FUZZ_CHECK(image == NULL);
    FUZZ_CHECK(cpose_last_error()[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(image && image->rgb);
  FUZZ_CHECK(image->width > 0 && image->height > 0);
  FUZZ_CHECK((int64_t)image->width * image->height <= CPOSE_IMAGE_MAX_PIXELS);
  /* Reads the last byte, so that a buffer shorter than width x height x 3 shows up under AddressSanitizer
   * (reading them all would make big images, which small inputs can describe, slower still). */
  const size_t bytes = (size_t)image->width * (size_t)image->height * 3;
  volatile uint8_t last = image->rgb[bytes - 1];
  (void)last;
  cpose_image_destroy(image);
  return 0;
}
