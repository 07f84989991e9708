/*
 * Internal interface: detections files (`--detfile`), person boxes given instead of running the detector.
 *
 * The format is a COCO results list, as detectors and AlphaPose write them:
 *   [{"image_id": 139, "category_id": 1, "bbox": [x, y, w, h], "score": 0.98}, ...]
 * - image_id: a non-negative integer, or a string naming the image file ("000000000139.jpg", a path is
 *   reduced to its last component). A name whose stem is all digits is the numeric id it spells, as COCO
 *   names its files: "000000000139.jpg" and 139 are the same image.
 * - category_id: optional; when present only 1 (person) is kept, other categories are skipped.
 * - bbox: x, y (top-left corner), w, h in image pixels; finite, w and h not negative.
 * - score: optional (1 when absent, as in a ground truth turned into detections); finite.
 * Other fields are ignored. Any other deviation fails the whole file with CPOSE_ERR_PARSE and a message
 * naming the entry's index (and image_id).
 */
#ifndef CPOSE_IO_DETFILE_H
#define CPOSE_IO_DETFILE_H

#include <stddef.h>
#include <stdint.h>

#include "cpose.h"

#define DETFILE_MAX_BYTES ((size_t)256 << 20) /* 256 MiB: cJSON takes several times that in memory */
#define DETFILE_MAX_ENTRIES 4000000           /* entries (of any category) per file */

/* The boxes of a file grouped by image, each image's boxes in file order. Immutable once loaded. */
typedef struct detfile detfile;

/* Reads and checks the file at `path`. Errors start with the path. */
cpose_status detfile_load(const char *path, detfile **detfile_out);

/* The same from memory: `json` (`size` bytes, need not be NUL-terminated; borrowed for the call). `what`
 * names the data in error messages. */
cpose_status detfile_parse(const char *json, size_t size, const char *what, detfile **detfile_out);

void detfile_destroy(detfile *detfile);

/* The person boxes of one image: sets *boxes_out (borrowed from `detfile`, valid until it is destroyed) and
 * returns their count; 0 (and *boxes_out NULL) when the file lists none. The image is looked up by its
 * numeric id `image_id` (negative: unknown), then by `file_name` (may be NULL; any folders are ignored): by
 * the numeric id its stem spells when it is all digits, else by name. */
size_t detfile_boxes(const detfile *detfile, int64_t image_id, const char *file_name,
                     const cpose_box **boxes_out);

/* Number of images and of person boxes in the file. */
size_t detfile_image_count(const detfile *detfile);
size_t detfile_box_count(const detfile *detfile);

#endif
