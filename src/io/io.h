/*
 * Internal interface of the sinks (src/io): result files in AlphaPose's formats and skeletons drawn on
 * images. (Detections files are read by detfile.h.)
 *
 * Formats, as AlphaPose's write_json (alphapose/utils/pPose_nms.py) writes them:
 *
 *  alphapose  <outdir>/alphapose-results.json: a list with one object per person, frames in order, persons
 *             in their order within a frame:
 *               {"image_id": "<file name>", "category_id": 1, "keypoints": [x, y, c] * K, "score": s,
 *                "box": [x, y, w, h], "idx": i}
 *             image_id is the file name without folders (AlphaPose: os.path.basename). K is the person's
 *             keypoint count (17 for COCO). score is the person's score (cpose_person.score). box is the
 *             detector's box. idx is the track id (cpose_person.track_id) when the person is tracked and the
 *             person's index within its frame otherwise. (AlphaPose without a tracker writes, instead of a
 *             number, the list of the ids of the detections merged by pose NMS, which are all 0 there: a
 *             number per person says the same and keeps one type for the field.)
 *  coco       the same list with image_id an integer (AlphaPose's --eval form: for_eval=True), read from the
 *             file name as AlphaPose does (see io_coco_image_id). What cpose eval and pycocotools read.
 *  cmu, open  OpenPose style: each person becomes 18 points [x, y, c] * 18 in OpenPose's COCO-18 order
 *               nose, neck, r-shoulder, r-elbow, r-wrist, l-shoulder, l-elbow, l-wrist, r-hip, r-knee,
 *               r-ankle, l-hip, l-knee, l-ankle, r-eye, l-eye, r-ear, l-ear
 *             with the neck the midpoint of the shoulders and its confidence their mean (AlphaPose's
 *             (kp[5] + kp[6]) / 2, applied to x, y and c alike). One object per image:
 *               cmu:  {"version": "AlphaPose v0.3", "bodies": [{"joints": [54 numbers]}, ...]}
 *               open: {"version": "AlphaPose v0.3", "people": [{"pose_keypoints_2d": [54 numbers]}, ...]}
 *             AlphaPose writes, for both, <outdir>/alphapose-results.json holding one object keyed by image
 *             file name ({"a.jpg": {...}, "b.jpg": {...}}, in frame order) and, in <outdir>/sep-json/,
 *             one file per image named after the file name up to its first '.' ("a.jpg" -> "a.json")
 *             holding that image's object. Images without persons appear in neither (AlphaPose creates an
 *             entry on an image's first person). cpose writes frames as they finish, so two frames with the
 *             same file name (from two folders) give two entries with one key where AlphaPose's dict would
 *             merge them. io_write_results writes the first, io_write_frame_file one
 *             of the second; the caller creates the sep-json folder.
 *
 * Numbers are written with 9 significant digits ("%.9g"), which reads back as the same float32. JSON has
 * no NaN or infinity: a keypoint whose x, y or confidence is not finite is written as 0, 0, 0 (not found),
 * and a non-finite score or box value as 0.
 */
#ifndef CPOSE_IO_IO_H
#define CPOSE_IO_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "cpose.h"

/* AlphaPose's names for the combined file and the per-image folder inside its output folder. */
#define IO_RESULTS_FILE_NAME "alphapose-results.json"
#define IO_SEP_JSON_DIR_NAME "sep-json"

typedef enum io_format {
  IO_FORMAT_ALPHAPOSE = 0, /* the default */
  IO_FORMAT_COCO = 1,
  IO_FORMAT_CMU = 2,
  IO_FORMAT_OPEN = 3,
} io_format;

/* The results of one image. Everything borrowed for the call. */
typedef struct io_frame {
  const char *image_name;      /* the file name ("000000000139.jpg"); folders, if any, are dropped */
  const cpose_person *persons; /* `count` persons; may be NULL when count is 0 */
  size_t count;
} io_frame;

/* The format named "alphapose", "coco", "cmu" or "open". CPOSE_ERR_INVALID_ARGUMENT for other names. */
cpose_status io_format_parse(const char *name, io_format *format_out);
/* The name of a format ("alphapose"), or "unknown". */
const char *io_format_name(io_format format);

/* COCO's integer image id of a file name, AlphaPose's rule for --eval: the name without folders, cut at its
 * first '.', then the part after its last '_' must be decimal digits ("000000000139.jpg" -> 139,
 * "COCO_val2014_000000000139.jpg" -> 139, "7.tar.gz" -> 7). At most 2^53 - 1, so that a JSON reader that
 * holds numbers as doubles reads it exactly. Anything else fails with CPOSE_ERR_INVALID_ARGUMENT naming the
 * file. */
cpose_status io_coco_image_id(const char *image_name, int64_t *id_out);

/* Writes the results of `frames` (frame_count of them; may be NULL when 0) to the file `path` in `format`
 * (for cmu and open: the combined file). The file is written completely or not at all: the text goes to a
 * temporary file beside `path` that is then renamed over it (an existing file is replaced; the parent folder
 * must exist). Everything is checked before anything is written: a frame without a name, a keypoint count
 * outside 1..CPOSE_MAX_KEYPOINTS (below 17 for cmu and open) or, for coco, a file name without an image id
 * fail with CPOSE_ERR_INVALID_ARGUMENT naming the frame; a failing write with CPOSE_ERR_IO naming the path.
 */
cpose_status io_write_results(const char *path, io_format format, const io_frame *frames, size_t frame_count);

/* The same text to an open stream (stdout, say); nothing is written when a check fails. CPOSE_ERR_IO when
 * the stream reports an error. The stream is borrowed and left open. */
cpose_status io_write_results_stream(FILE *stream, io_format format, const io_frame *frames,
                                     size_t frame_count);

/* The same, frame by frame, for runs too long to hold in memory (video, large folders): open writes the
 * opening bracket to a temporary file beside `path`, add appends a frame (checked as above; a frame that
 * fails its check is not written and the file stays valid), close with `keep` finishes the document and
 * renames it over `path` (without: removes it). Close frees the writer either way. */
typedef struct io_results_writer io_results_writer;
cpose_status io_results_writer_open(const char *path, io_format format, io_results_writer **writer_out);
cpose_status io_results_writer_add(io_results_writer *writer, const io_frame *frame);
cpose_status io_results_writer_close(io_results_writer *writer, bool keep);

/* Appends one JSON line for the frame to `stream` and flushes it, so that the frames written survive a
 * crash: {"image_id": <as in the list formats>, "persons": [<the list formats' person objects>]} (a frame
 * without persons gives "persons": []). `format` coco gives integer image ids; every other format the
 * alphapose objects. */
cpose_status io_write_json_line(FILE *stream, io_format format, const io_frame *frame);

/* For the per-image formats (cmu, open): writes the frame's object to "<dir>/<stem>.json", stem being the
 * file name up to its first '.', completely or not at all (as io_write_results). `dir` must exist. A frame
 * without persons writes nothing and succeeds (AlphaPose writes no file for it). Other formats fail with
 * CPOSE_ERR_INVALID_ARGUMENT. */
cpose_status io_write_frame_file(const char *dir, io_format format, const io_frame *frame);

/* Draws persons[0..count) on `image` as AlphaPose's vis_frame does (alphapose/utils/vis.py): the COCO-17
 * skeleton plus a neck at the shoulders' midpoint, AlphaPose's colours per keypoint and per limb, each limb
 * as a thick anti-aliased line whose width grows with its keypoints' confidences and whose opacity is
 * 0.5 * (c1 + c2) - 0.1, each keypoint as a disc of opacity c. Sizes scale with the person (their box, or
 * the extent of their keypoints). Keypoints whose confidence is not above `keypoint_threshold` are not drawn,
 * nor are their limbs (AlphaPose: 0.4 for heatmap models, 0.05 for regression models). A tracked person
 * (track_id > 0) is drawn in one colour picked by the id (the same in every frame) and labelled "#<id>".
 * With `show_box` the box is drawn too and the label gets the person's score. Keypoints past the 17th are
 * drawn as small white dots. Any values are safe: what falls outside the image (or is not finite) is
 * clipped or skipped. Nothing allocates. `image` and `persons` borrowed for the call. */
void io_render_persons(cpose_image *image, const cpose_person *persons, size_t count,
                       float keypoint_threshold, bool show_box);

#endif
