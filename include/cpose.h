/*
 * cpose: multi-person human pose estimation and tracking on the CPU.
 *
 * One public header. Conventions (see STYLE.md):
 * - every function that can fail returns a cpose_status; out-parameters are written only on success;
 * - on failure, cpose_last_error() returns a sentence saying what failed and with which values;
 * - cpose_*_destroy(NULL) is a no-op;
 * - ownership of every pointer is written next to it: borrowed (caller keeps it, must outlive the call or
 *   the object as stated), or transferred (the callee takes it over).
 * - the library never exits or aborts on bad input.
 */
#ifndef CPOSE_H
#define CPOSE_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------- */
/* Status                                                                                               */
/* ---------------------------------------------------------------------------------------------------- */

typedef enum cpose_status {
  CPOSE_OK = 0,
  CPOSE_ERR_INVALID_ARGUMENT, /* a caller passed a value the function cannot accept */
  CPOSE_ERR_IO,               /* a file could not be opened, read or written */
  CPOSE_ERR_PARSE,            /* a file's contents are malformed (JSON, sizes, offsets) */
  CPOSE_ERR_UNSUPPORTED,      /* well-formed, but uses a feature cpose does not implement (an unknown op) */
  CPOSE_ERR_OUT_OF_MEMORY,    /* an allocation failed */
  CPOSE_ERR_LIMIT,            /* a size is above one of cpose's caps (tensor elements, file size, ...) */
  CPOSE_ERR_NOT_FOUND,        /* a named thing (node, output, file) does not exist */
  CPOSE_ERR_INTERNAL,         /* a dependency (XNNPACK) failed where it should not have */
} cpose_status;

/* A short constant name for a status ("parse error"). Never NULL. */
const char *cpose_status_string(cpose_status status);

/* The detailed message of the last failure on the calling thread, or "" if none. The pointer is valid until
 * the next cpose call on this thread. */
const char *cpose_last_error(void);

/* ---------------------------------------------------------------------------------------------------- */
/* Neural-network runtime: TensorFlow.js graph models                                                   */
/* ---------------------------------------------------------------------------------------------------- */

typedef enum cpose_dtype {
  CPOSE_DTYPE_FLOAT32 = 1,
  CPOSE_DTYPE_INT32 = 2,
  CPOSE_DTYPE_BOOL = 3, /* one byte per element, 0 or 1 */
} cpose_dtype;

#define CPOSE_MAX_RANK 8

/* A view of a tensor owned by someone else. Row-major, the layout TensorFlow uses (NHWC for images). */
typedef struct cpose_tensor {
  cpose_dtype dtype;
  int rank;
  int64_t dims[CPOSE_MAX_RANK];
  const void *data; /* borrowed: owned by the session, valid until its next run or its destruction */
} cpose_tensor;

/* A loaded model: the graph and its weights (dequantized to float32). Immutable once loaded, so one model
 * can be shared by any number of sessions on any number of threads. */
typedef struct cpose_model cpose_model;

/* Loads a TF.js graph model: `json_path` names model.json (any file name); its weight shards are read from
 * the same folder. Every size, offset, shape and name is checked. */
cpose_status cpose_model_load(const char *json_path, cpose_model **model_out);

/* The same from memory: `json` (not NUL-terminated, `json_size` bytes) and the weight shards in the order of
 * the manifest's `paths`, concatenated (`weights`, `weights_size` bytes). Both borrowed for the call only. */
cpose_status cpose_model_load_memory(const char *json, size_t json_size, const void *weights,
                                     size_t weights_size, cpose_model **model_out);

void cpose_model_destroy(cpose_model *model);

/* What a model contains, for `cpose model info`. Strings borrowed from the model. */
typedef struct cpose_model_summary {
  size_t node_count;
  size_t parameter_count; /* elements of all constant tensors */
  size_t input_count;
  size_t output_count; /* the signature's outputs */
} cpose_model_summary;

void cpose_model_summarize(const cpose_model *model, cpose_model_summary *summary_out);

/* The i-th signature input / output: name and declared shape (dims -1 where unknown). */
cpose_status cpose_model_input(const cpose_model *model, size_t index, const char **name_out,
                               cpose_tensor *shape_out);
cpose_status cpose_model_output(const cpose_model *model, size_t index, const char **name_out,
                                cpose_tensor *shape_out);

/* The number of nodes of each op type: calls `visit` once per op type in order of first appearance. */
void cpose_model_op_counts(const cpose_model *model, void (*visit)(const char *op, size_t count, void *user),
                           void *user);

typedef enum cpose_backend {
  CPOSE_BACKEND_FAST = 0, /* XNNPACK for the heavy ops, reference kernels for the rest */
  CPOSE_BACKEND_REF = 1,  /* portable reference C kernels only: the oracle for the fast ones */
} cpose_backend;

/* A pool of worker threads that sessions run their kernels on. Sessions that run one after another (a
 * detector, then a pose net) should share one: every pool keeps its threads busy-waiting for a while after
 * a run, so two pools on the same cores slow each other down.
 *
 * Every layer waits for all the pool's threads, so while another process keeps one of its cores busy a
 * pooled run becomes many times slower than a run on the calling thread alone. Sessions therefore watch their
 * run times: a pooled run that passes twice the session's best pooled run (or 1.2 times its best run on the
 * calling thread) finishes on the calling thread; after two such runs in a row the pool's sessions run there
 * alone for 8 to 64 runs, and a
 * pooled run now and then brings the pool back once the machine is free. A session's first run is on the
 * calling thread, as the reference. Results are the same either way; cpose_session_params.fixed_threads
 * turns the fallback off. */
typedef struct cpose_threadpool cpose_threadpool;

/* `threads` 1..256, counting the calling thread (which takes part in every run). */
cpose_status cpose_threadpool_create(int threads, cpose_threadpool **pool_out);
void cpose_threadpool_destroy(cpose_threadpool *pool);

typedef struct cpose_session_params {
  cpose_backend backend;
  int threads; /* worker threads for the fast kernels; 1 runs on the calling thread */
  /* When not NULL, the kernels run on this pool (borrowed: it must outlive the session) and `threads` is
   * ignored. */
  cpose_threadpool *pool;
  /* Nonzero: every run uses the pool, even while its cores are contended (for benchmarks of a thread count);
   * 0 (the default): runs fall back to the calling thread then, as cpose_threadpool describes. */
  int fixed_threads;
  /* Nodes to compute, by name with an optional output index ("Identity:0", "TopKV2:1"). Borrowed for the
   * create call. NULL (or output_count 0) means the signature's outputs. */
  const char *const *outputs;
  size_t output_count;
  /* Shape of the (single) input; rank 0 means the placeholder's declared shape. */
  int input_rank;
  int64_t input_dims[CPOSE_MAX_RANK];
  int profile; /* nonzero: time every kernel of every run (see cpose_session_profile) */
  /* Cap on the memory the session takes for itself: folded constants, the arena of intermediate tensors and
   * the fast kernels' packed weights and buffers. Creation fails with CPOSE_ERR_LIMIT before passing it, so
   * a hostile model cannot make a session of gigabytes. 0 means CPOSE_SESSION_DEFAULT_MAX_BYTES. */
  size_t max_bytes;
} cpose_session_params;

/* 1 GiB: about 25 times what CenterNet's session takes. */
#define CPOSE_SESSION_DEFAULT_MAX_BYTES ((size_t)1 << 30)

cpose_session_params cpose_session_params_default(void);

/* A session plans and owns everything one stream of inferences needs: folded constants, the arena for
 * intermediate tensors, the XNNPACK operators and the thread pool. One session per thread. */
typedef struct cpose_session cpose_session;

/* `model` is borrowed and must outlive the session. */
cpose_status cpose_session_create(const cpose_model *model, const cpose_session_params *params,
                                  cpose_session **session_out);
void cpose_session_destroy(cpose_session *session);

/* Runs one inference. `input` holds `count` float32 values in the input's layout; they are converted to the
 * input's dtype (truncated toward zero for int32, as TensorFlow's Cast does). Borrowed for the call. */
cpose_status cpose_session_run(cpose_session *session, const float *input, size_t count);

/* The i-th requested output of the last run. The data stays valid until the next run. */
cpose_status cpose_session_output(const cpose_session *session, size_t index, cpose_tensor *tensor_out);
size_t cpose_session_output_count(const cpose_session *session);
/* The requested name of the i-th output (as given in params), borrowed from the session. */
const char *cpose_session_output_name(const cpose_session *session, size_t index);

/* Planning facts: bytes of the arena (peak intermediate memory), kernels that run, floating-point
 * operations per inference (multiply-add counted as two). */
typedef struct cpose_session_stats {
  size_t arena_bytes;
  size_t naive_bytes; /* what the intermediates would take without reuse */
  size_t kernel_count;
  size_t fast_kernel_count;
  double flops;
  size_t session_bytes; /* what params.max_bytes caps: folded constants + arena + fast kernels' memory */
  /* Runs so far with a pool of 2+ threads (both 0 otherwise): those on the pool from start to end, and those
   * partly or wholly on the calling thread alone (see cpose_threadpool). */
  size_t pooled_runs;
  size_t unpooled_runs;
} cpose_session_stats;

void cpose_session_get_stats(const cpose_session *session, cpose_session_stats *stats_out);

/* One kernel of a session, as cpose_session_profile reports it. */
typedef struct cpose_kernel_profile {
  const char *node; /* the node's name (borrowed for the call) */
  const char *op;   /* its op type */
  int fast;         /* nonzero: the fast (XNNPACK) kernel ran, else the reference one */
  double total_ms;  /* milliseconds it took, summed over all runs so far */
  double flops;     /* floating-point operations of one run (a multiply-add counts two); 0 for data movement */
} cpose_kernel_profile;

/* With params.profile set: calls `visit` once per kernel, in run order. */
void cpose_session_profile(const cpose_session *session,
                           void (*visit)(const cpose_kernel_profile *kernel, void *user), void *user);

/* ---------------------------------------------------------------------------------------------------- */
/* Persons and poses                                                                                    */
/* ---------------------------------------------------------------------------------------------------- */

/* Enough for the whole-body sets (Halpe-136); COCO-17 uses the first 17. */
#define CPOSE_MAX_KEYPOINTS 136

typedef struct cpose_keypoint {
  float x, y;  /* image pixels; the image's top-left corner is (0, 0), a pixel's center is at +0.5 */
  float score; /* confidence in [0, 1] */
} cpose_keypoint;

/* One person: a box, a pose and scores. */
typedef struct cpose_person {
  float box[4];    /* x, y, width, height in image pixels */
  float box_score; /* the detector's confidence */
  float score;     /* the person's score (see cpose_pose_nms) */
  int track_id;    /* 0 when not tracked; tracked ids start at 1 */
  int keypoint_count;
  cpose_keypoint keypoints[CPOSE_MAX_KEYPOINTS];
} cpose_person;

/* AlphaPose's parametric pose NMS (Fang et al., RMPE), with its published constants as defaults. */
typedef struct cpose_pose_nms_params {
  float delta1;          /* 1: keypoint-score term tanh(s / delta1) */
  float mu;              /* 1.7: weight of the spatial term */
  float delta2;          /* 2.65: spatial term exp(-d / delta2), d in pixels */
  float gamma;           /* 22.48: poses with a parametric similarity above this are duplicates */
  float score_threshold; /* 0.3: poses whose best keypoint is below this are dropped */
  float match_threshold; /* 5: poses sharing this many keypoints (within the reference distance) are duplicates */
  float alpha;           /* 0.1: reference distance = alpha * max(box width, height) */
  float min_box_area;    /* 0: poses whose keypoints span less than this area (x 1.5^2) are dropped */
} cpose_pose_nms_params;

cpose_pose_nms_params cpose_pose_nms_params_default(void);

/* Removes duplicate poses of persons[0..count), best first: the highest mean keypoint score is picked, every
 * remaining pose too similar to it (parametric similarity above gamma, or match_threshold keypoints closer
 * than the reference distance) is merged into it, keypoint by keypoint (a score-weighted mean of the poses
 * whose keypoint lies within min(reference distance, 15) pixels), and the process repeats. Writes the kept
 * persons to persons[0..*kept_out), best first, each with score = mean keypoint score + box score + 1.25 x
 * best keypoint score (AlphaPose's). Allocates scratch memory; all persons must have one keypoint count. */
cpose_status cpose_pose_nms(cpose_person *persons, size_t count, const cpose_pose_nms_params *params,
                            size_t *kept_out);

/* ---------------------------------------------------------------------------------------------------- */
/* Images                                                                                               */
/* ---------------------------------------------------------------------------------------------------- */

/* Decoders refuse images with more pixels than this (checked before anything is allocated). */
#define CPOSE_IMAGE_MAX_PIXELS 100000000 /* 100 megapixels */

/* An 8-bit RGB image. Drawing and the image layer use continuous coordinates: pixel (row i, column j) covers
 * [j, j+1) x [i, i+1), so its center is (j + 0.5, i + 0.5). */
typedef struct cpose_image {
  int width, height;
  uint8_t *rgb; /* HWC (height, width, 3) uint8 RGB, row stride 3 * width; owned by the image */
} cpose_image;

/* A new image, every pixel black. Both sides at least 1, at most CPOSE_IMAGE_MAX_PIXELS pixels. */
cpose_status cpose_image_create(int width, int height, cpose_image **image_out);
void cpose_image_destroy(cpose_image *image);

/* Decodes a JPEG or PNG file held in memory (`data`, `size` bytes; borrowed for the call). The format is told
 * by the magic bytes, not the name. Grey, palette and 16-bit images become 8-bit RGB; an alpha channel is
 * composited onto black (a fully transparent pixel becomes black); CMYK and YCCK JPEGs are converted to RGB;
 * a JPEG's EXIF orientation is applied, so the image comes out the way viewers show it. Empty, truncated,
 * corrupt and non-image data fail with CPOSE_ERR_PARSE (CPOSE_ERR_UNSUPPORTED for other formats such as GIF
 * and for 12-bit JPEG) and a message naming the reason; images above CPOSE_IMAGE_MAX_PIXELS fail with
 * CPOSE_ERR_LIMIT. */
cpose_status cpose_image_decode(const void *data, size_t size, cpose_image **image_out);

/* The same for a file; errors start with the path. */
cpose_status cpose_image_load(const char *path, cpose_image **image_out);

typedef enum cpose_image_format {
  CPOSE_IMAGE_FORMAT_JPEG = 1,
  CPOSE_IMAGE_FORMAT_PNG = 2,
} cpose_image_format;

/* Encodes into memory. `quality` 1..100 for JPEG (4:4:4 chroma from 90 up, 4:2:0 below), ignored for PNG
 * (lossless, 8-bit RGB). On success *data_out (transferred: free it with cpose_image_encoded_free) holds
 * *size_out bytes. */
cpose_status cpose_image_encode(const cpose_image *image, cpose_image_format format, int quality,
                                void **data_out, size_t *size_out);
void cpose_image_encoded_free(void *data);

/* Writes a JPEG (name ending in .jpg or .jpeg) or PNG (.png), any letter case. The file is written
 * completely or not at all: the data goes to a temporary file beside it which is then renamed over `path`. */
cpose_status cpose_image_save(const cpose_image *image, const char *path, int quality);

/* A color with opacity: a = 255 paints over, a = 0 leaves the image as it was. */
typedef struct cpose_color {
  uint8_t r, g, b, a;
} cpose_color;

/* Drawing. Shapes are anti-aliased (each pixel is blended by the fraction of it the shape covers) and
 * clipped to the image: any coordinates (negative, huge, infinite, NaN) are safe, and what lies outside the
 * image, or a shape with a NaN, a non-positive size or a NULL image, draws nothing. Nothing allocates. */

/* A line from (x0, y0) to (x1, y1), `width` pixels thick, with round ends. */
void cpose_image_draw_line(cpose_image *image, float x0, float y0, float x1, float y1, float width,
                           cpose_color color);
/* A filled disc. */
void cpose_image_draw_circle(cpose_image *image, float cx, float cy, float radius, cpose_color color);
/* The outline of the box [x, x + w] x [y, y + h], `width` pixels thick, centered on the box's edges. */
void cpose_image_draw_rect(cpose_image *image, float x, float y, float w, float h, float width,
                           cpose_color color);
/* The filled box [x, x + w] x [y, y + h]. */
void cpose_image_fill_rect(cpose_image *image, float x, float y, float w, float h, cpose_color color);

/* Text in the built-in 5x7 bitmap font: digits, letters (lowercase drawn as uppercase), space and
 * . : - _ + / % # ( ) [ ] = , ' ? ! < > * (others as a hollow box); '\n' starts a new line. (x, y) is the
 * top-left corner, rounded to whole pixels; each font pixel becomes a `scale` x `scale` block (scale >= 1,
 * at most 64). Not anti-aliased: the glyphs are pixel art. */
void cpose_image_draw_text(cpose_image *image, float x, float y, const char *text, int scale,
                           cpose_color color);
/* The size in pixels that cpose_image_draw_text would cover (0 x 0 for an empty text). */
void cpose_image_text_size(const char *text, int scale, int *width_out, int *height_out);

/* ---------------------------------------------------------------------------------------------------- */
/* COCO keypoint evaluation                                                                             */
/* ---------------------------------------------------------------------------------------------------- */

/* The most keypoints per person an evaluation takes. */
#define CPOSE_EVAL_MAX_KEYPOINTS 1024

/* The ten numbers of pycocotools' COCOeval for keypoints, in its order. AP: precision averaged over the OKS
 * thresholds 0.50:0.05:0.95 and 101 recall points; AR: the final recall averaged over the thresholds.
 * Medium: ground-truth area in [32^2, 96^2]; large: in [96^2, 1e10]. */
typedef enum cpose_eval_stat {
  CPOSE_EVAL_STAT_AP = 0,
  CPOSE_EVAL_STAT_AP50,
  CPOSE_EVAL_STAT_AP75,
  CPOSE_EVAL_STAT_AP_MEDIUM,
  CPOSE_EVAL_STAT_AP_LARGE,
  CPOSE_EVAL_STAT_AR,
  CPOSE_EVAL_STAT_AR50,
  CPOSE_EVAL_STAT_AR75,
  CPOSE_EVAL_STAT_AR_MEDIUM,
  CPOSE_EVAL_STAT_AR_LARGE,
  CPOSE_EVAL_STAT_COUNT
} cpose_eval_stat;

typedef struct cpose_eval_params {
  const char *keypoint_set; /* "coco17" (default), "halpe26" or "crowdpose14": its OKS sigmas. Borrowed */
  const double *sigmas;     /* when not NULL, per-keypoint OKS sigmas used instead; borrowed for the call */
  size_t sigma_count;       /* with sigmas: keypoints per person (1..CPOSE_EVAL_MAX_KEYPOINTS) */
  int max_dets;             /* 20: detections per image that count, best scores first */
} cpose_eval_params;

cpose_eval_params cpose_eval_params_default(void);

typedef struct cpose_eval_result {
  double stats[CPOSE_EVAL_STAT_COUNT]; /* each in [0, 1], or -1 where no ground truth counts */
  size_t image_count;                  /* images in the ground truth */
  size_t gt_count;                     /* people that count: not crowd, at least one labelled keypoint */
  size_t gt_ignored_count;             /* crowd regions and people without labelled keypoints */
  size_t dt_count;                     /* entries in the results */
  size_t dt_unused_count; /* of those: beyond max_dets in their image, or of a category not in the ground truth */
} cpose_eval_result;

/* Evaluates keypoint results against a ground truth as pycocotools' COCOeval(iouType='keypoints') does.
 * `gt_json`: a COCO keypoint annotation file (images, annotations, categories). `dt_json`: a COCO results
 * list, [{image_id, category_id, keypoints [x, y, score] * K, score}, ...]; image_id may also be the file
 * name of a ground-truth image (AlphaPose's results), and other fields are ignored. Both borrowed for the
 * call, `*_size` bytes (at most 1 GiB), need not be NUL-terminated. `params` may be NULL (the defaults).
 * Malformed JSON, a result for an image not in the ground truth, a wrong keypoint count or a non-numeric
 * value fail with CPOSE_ERR_PARSE and a message naming the entry (its index and image_id). */
cpose_status cpose_eval_coco(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                             const cpose_eval_params *params, cpose_eval_result *result_out);

/* CLEAR MOT tracking metrics (Bernardin and Stiefelhagen, 2008) on poses. */
typedef struct cpose_mot_result {
  size_t frames;          /* ground-truth images */
  size_t gt_count;        /* ground-truth persons over all frames (not crowd, at least one labelled joint) */
  size_t dt_count;        /* results over all frames */
  size_t matches;         /* ground-truth persons matched to a result (OKS above the threshold) */
  size_t misses;          /* FN: ground-truth persons left unmatched */
  size_t false_positives; /* FP: results left unmatched */
  size_t id_switches;     /* a ground-truth track matched to another result id than its previous match */
  size_t fragmentations;  /* a ground-truth track's matched run interrupted by misses */
  size_t gt_tracks, dt_tracks;
  size_t mostly_tracked;  /* ground-truth tracks matched in at least 80% of their frames */
  size_t mostly_lost;     /* ... in less than 20% */
  size_t false_tracks;    /* result tracks never matched to any ground truth */
  double mota;            /* 1 - (FN + FP + IDSW) / gt_count */
  double motp;            /* mean OKS of the matches */
} cpose_mot_result;

/* Matches results to ground truth frame by frame, as py-motmetrics does (a ground-truth person and a result
 * match when their OKS over the labelled joints is above `oks_threshold`, e.g. 0.5; a ground-truth track
 * keeps the result id of its latest match while that pair stays above it, the rest are matched by the
 * Hungarian method on 1 - OKS) and counts the CLEAR MOT events. The
 * ground truth is a COCO keypoint file whose annotations carry `track_id`; the results a results list whose
 * entries carry the track id as `idx` (AlphaPose) or `track_id`; image_id as in cpose_eval_coco; frames are
 * the ground truth's images in ascending id order. Same inputs, sizes and errors as cpose_eval_coco, plus:
 * an annotation or result without a track id fails with CPOSE_ERR_PARSE naming it. */
cpose_status cpose_eval_mot(const char *gt_json, size_t gt_size, const char *dt_json, size_t dt_size,
                            const cpose_eval_params *params, double oks_threshold, cpose_mot_result *result_out);

/* The OKS sigmas of a keypoint set by name ("coco17", "halpe26", "crowdpose14"): a static table of
 * *count_out values. CPOSE_ERR_NOT_FOUND for an unknown name. */
cpose_status cpose_eval_keypoint_set(const char *name, const double **sigmas_out, size_t *count_out);

/* ---------------------------------------------------------------------------------------------------- */
/* Pose estimation: detector -> crops -> pose net -> decoding -> pose NMS                               */
/* ---------------------------------------------------------------------------------------------------- */

/* A person box from a detector (or a detections file), in image pixels. */
typedef struct cpose_box {
  float x, y, w, h; /* top-left corner, width, height */
  float score;
} cpose_box;

/* How keypoints are read from the pose net's maps. */
typedef enum cpose_decoder {
  /* MoveNet's own: the person center nearest the crop's center, the joints it regresses, then per joint the
   * heatmap peak nearest the regressed joint (peaks weighted by distance), refined by the offset map. */
  CPOSE_DECODER_MOVENET = 0,
  /* The heatmap's maximum, shifted a quarter pixel toward its higher neighbour (AlphaPose, Hourglass). */
  CPOSE_DECODER_ARGMAX = 1,
  /* Soft-argmax (integral regression) over the neighbourhood of the peak MoveNet's decoder picks. */
  CPOSE_DECODER_INTEGRAL = 2,
} cpose_decoder;

typedef enum cpose_pose_model {
  CPOSE_POSE_MODEL_THUNDER = 0,   /* MoveNet Thunder, 256x256: accurate */
  CPOSE_POSE_MODEL_LIGHTNING = 1, /* MoveNet Lightning, 192x192: fast */
} cpose_pose_model;

/* A person's score, which ranks the results (COCO AP is a ranking measure). */
typedef enum cpose_person_score {
  CPOSE_SCORE_ALPHAPOSE = 0, /* mean keypoint confidence + box score + 1.25 x best keypoint confidence */
  CPOSE_SCORE_BOX_X_MEAN = 1, /* box score x mean keypoint confidence */
  CPOSE_SCORE_BOX_X_CONFIDENT = 2, /* box score x mean confidence of the keypoints above 0.2 */
} cpose_person_score;

typedef struct cpose_estimator_params {
  const char *models_dir; /* folder holding <model>/model.json ("models"); borrowed for the create call */
  cpose_pose_model pose_model;
  cpose_decoder decoder;
  int flip;         /* flip test: also run the mirrored crop and average */
  int refine;       /* run each crop again, re-centred on the first estimate's keypoints */
  int threads;      /* worker threads of the networks (1: the calling thread only); the detector runs on all
                       of them, the pose net keeps one single-threaded session per thread and runs that
                       many crops at once (more crops per second; one session's memory per thread) */
  int letterbox;    /* detector input keeps the image's aspect ratio (padding) instead of stretching */
  float det_threshold; /* person boxes scoring below this are dropped */
  float det_nms_iou;   /* box NMS: of two person boxes overlapping more than this, the weaker goes */
  float box_scale;     /* boxes are enlarged by this before cropping (AlphaPose: 1.25) */
  int pose_nms;        /* apply the parametric pose NMS (params below) */
  cpose_pose_nms_params nms;
  cpose_person_score score; /* how persons are ranked (the results' "score") */
} cpose_estimator_params;

cpose_estimator_params cpose_estimator_params_default(void);

/* Loads the detector and the pose net and prepares their sessions. One estimator per thread. */
typedef struct cpose_estimator cpose_estimator;

cpose_status cpose_estimator_create(const cpose_estimator_params *params, cpose_estimator **estimator_out);
void cpose_estimator_destroy(cpose_estimator *estimator);

/* Time spent per stage by the last cpose_estimator_run, in milliseconds. */
typedef struct cpose_stage_times {
  double detect_ms;
  double pose_ms; /* crops, pose net and decoding */
  double nms_ms;
  size_t box_count; /* boxes whose pose was estimated (pose NMS then merges duplicates) */
} cpose_stage_times;

/* Finds the persons in `image` (borrowed for the call) and estimates their poses. `boxes` (borrowed; may be
 * NULL) replaces the detector with given boxes. On success *persons_out (transferred: free it with
 * cpose_persons_free) holds *count_out persons, best score first, keypoints in image pixels. */
cpose_status cpose_estimator_run(cpose_estimator *estimator, const cpose_image *image, const cpose_box *boxes,
                                 size_t box_count, cpose_person **persons_out, size_t *count_out);
void cpose_persons_free(cpose_person *persons);
void cpose_estimator_times(const cpose_estimator *estimator, cpose_stage_times *times_out);

/* ---------------------------------------------------------------------------------------------------- */
/* Video: files, webcams and H.264 output (FFmpeg)                                                      */
/* ---------------------------------------------------------------------------------------------------- */

typedef struct cpose_video_info {
  int width, height;   /* of the decoded frames (after any rotation FFmpeg applies: none) */
  double fps;          /* the stream's average frame rate; 25 when the container does not say */
  int64_t frame_count; /* the container's frame count, or duration x fps; 0 when unknown (webcams) */
} cpose_video_info;

/* Reads the first video stream of a file, a memory buffer or a webcam, frame by frame, as RGB images. */
typedef struct cpose_video_reader cpose_video_reader;

/* Opens any file FFmpeg can demux and decode. A missing file is CPOSE_ERR_IO, a file without a video stream
 * or that no demuxer recognises CPOSE_ERR_PARSE, a codec FFmpeg lacks CPOSE_ERR_UNSUPPORTED; frames above
 * CPOSE_IMAGE_MAX_PIXELS CPOSE_ERR_LIMIT. Errors start with the path. */
cpose_status cpose_video_open(const char *path, cpose_video_reader **reader_out);
/* The same for a file held in memory (`data` borrowed until the reader is closed): what the fuzzer feeds. */
cpose_status cpose_video_open_memory(const void *data, size_t size, cpose_video_reader **reader_out);
/* Opens webcam `index` (/dev/video<index>, V4L2 through libavdevice). */
cpose_status cpose_video_open_webcam(int index, cpose_video_reader **reader_out);
void cpose_video_close(cpose_video_reader *reader);
void cpose_video_reader_info(const cpose_video_reader *reader, cpose_video_info *info_out);

/* Decodes the next frame into a new RGB image (*frame_out transferred: cpose_image_destroy) with its index
 * in the stream (*index_out: 0, 1, 2, ... in presentation order, from its timestamp when it has one, so a
 * skipped frame leaves a gap). At the end of the stream: CPOSE_OK with *frame_out NULL. A damaged packet or
 * frame fails with CPOSE_ERR_PARSE naming the frame, and the reader stays usable: the next call goes on
 * with the next frame. A truncated file ends early, after the frames that could be decoded. */
cpose_status cpose_video_read(cpose_video_reader *reader, cpose_image **frame_out, int64_t *index_out);

/* Writes H.264 (libx264, yuv420p) into an MP4 (or any container FFmpeg picks from the name: .mkv, .avi). */
typedef struct cpose_video_writer cpose_video_writer;

/* Frames of width x height at `fps` (odd sizes are padded by one pixel: H.264 4:2:0 needs even sizes). The
 * data goes to a temporary file beside `path`, renamed over it by cpose_video_writer_close, so a killed run
 * leaves no truncated video under `path`. */
cpose_status cpose_video_writer_open(const char *path, int width, int height, double fps,
                                     cpose_video_writer **writer_out);
/* Encodes one frame (borrowed for the call; its size must be the writer's). */
cpose_status cpose_video_write(cpose_video_writer *writer, const cpose_image *frame);
/* Flushes the encoder, finishes the file and renames it into place; frees the writer either way. With
 * `keep` 0 the temporary file is removed instead (an aborted run). */
cpose_status cpose_video_writer_close(cpose_video_writer *writer, int keep);

/* ---------------------------------------------------------------------------------------------------- */
/* Pose tracking: stable person ids through a video                                                     */
/* ---------------------------------------------------------------------------------------------------- */

typedef struct cpose_tracker_params {
  int confirm_frames;  /* 3: a new track is confirmed (gets an id) after this many matched frames in a row;
                          tracks born in the first frame are confirmed at once */
  int max_lost_frames; /* 30: a track unmatched this long is dropped; until then it can be re-identified */
  float min_score;     /* 0.1: persons scoring below this start no track (they may continue one) */
  float iou_weight;    /* 0.5, 0.5, 0.3: weights of the cost's terms: 1 - box IoU with the predicted box, */
  float oks_weight;    /*   1 - OKS between the track's last pose (moved with its box) and the new pose, */
  float appearance_weight; /* 0.3: and the distance of torso colour histograms (0: not used) */
  float max_cost;      /* 0.8: pairs costing more than this are never matched */
} cpose_tracker_params;

cpose_tracker_params cpose_tracker_params_default(void);

/* Tracks persons from frame to frame: a constant-velocity Kalman filter per person on the box (center, size
 * and their velocities), assignment by the Hungarian method on the cost above. Ids start at 1 and are never
 * reused. */
typedef struct cpose_tracker cpose_tracker;

cpose_status cpose_tracker_create(const cpose_tracker_params *params, cpose_tracker **tracker_out);
void cpose_tracker_destroy(cpose_tracker *tracker);

/* Takes the persons of the next frame (in order; `image` is that frame, borrowed, for the appearance cue; may
 * be NULL) and sets each person's track_id: its confirmed track's id, or 0 while its track is tentative.
 * Persons, boxes and keypoints are otherwise left as they are. */
cpose_status cpose_tracker_update(cpose_tracker *tracker, const cpose_image *image, cpose_person *persons,
                                  size_t count);

/* Where the live tracks (tentative ones, and confirmed ones matched in the last frame or lost for at most
 * `max_age` frames) are predicted in the next frame: writes up to `capacity` boxes (score: the box score of the track's last person) and
 * returns how many it wrote. A caller that skips the detector on some frames estimates poses in these boxes. */
size_t cpose_tracker_predict(const cpose_tracker *tracker, int max_age, cpose_box *boxes, size_t capacity);

/* ---------------------------------------------------------------------------------------------------- */
/* Pipeline: source -> estimator (+ tracker) -> sink, stages on their own threads                        */
/* ---------------------------------------------------------------------------------------------------- */

/* One frame from a source. */
typedef struct cpose_source_frame {
  cpose_image *image;      /* transferred to the pipeline; NULL at the end of the source */
  int64_t index;           /* the frame's index (video) or position (image lists): increasing */
  const cpose_box *boxes;  /* with `has_boxes`: these boxes replace the detector (borrowed until the run ends) */
  size_t box_count;
  int has_boxes;
} cpose_source_frame;

/* Fills *frame_out with the next frame. At the end: CPOSE_OK with frame_out->image NULL. A frame that cannot
 * be read fails (with cpose_last_error's message) and sets frame_out->index: the pipeline hands the failure to
 * the sink in its place, and asks for the next frame. */
typedef cpose_status (*cpose_source_fn)(void *user, cpose_source_frame *frame_out);

/* One frame's results, handed to the sink in source order. */
typedef struct cpose_result_frame {
  int64_t index;
  cpose_status status;     /* not CPOSE_OK: the frame failed; `error` says why, image and persons are NULL */
  const char *error;
  cpose_image *image;      /* the frame (the sink may draw on it); freed after the sink returns */
  cpose_person *persons;   /* best score first; track ids set when tracking */
  size_t count;
  double read_ms, detect_ms, pose_ms, nms_ms, track_ms; /* time of each stage on this frame */
  size_t box_count;        /* boxes whose pose was estimated */
} cpose_result_frame;

/* Consumes one frame's results (on the pipeline's sink thread, one frame at a time). A non-zero return stops
 * the run at once: frames still in the pipeline are dropped. */
typedef int (*cpose_sink_fn)(void *user, cpose_result_frame *frame);

typedef struct cpose_pipeline_params {
  cpose_estimator_params estimator;
  int track;                     /* assign track ids (cpose_tracker); only persons with an id are reported:
                                    a new person from the frame their track is confirmed on */
  cpose_tracker_params tracker;
  int detect_every;              /* 1: the detector runs on every frame; k: on every k-th while tracking, the
                                    tracks' predicted boxes standing in on the frames between */
  int queue_length;              /* frames waiting between two stages (4): bounds the memory of a long video */
  const volatile sig_atomic_t *stop; /* when it becomes non-zero (say, on SIGINT), no new frame is read; the
                                        frames already read are finished and handed to the sink. May be NULL */
} cpose_pipeline_params;

cpose_pipeline_params cpose_pipeline_params_default(void);

/* Runs source -> estimator -> sink until the source ends, the stop flag is set or the sink stops it: the
 * source is read on one thread, the estimator and tracker run on another (with their own worker threads),
 * the sink on a third, with at most queue_length frames waiting between stages; the call returns when all
 * are done. The source and sink threads run at the lowest priority (nice 19), so that they take the cores
 * only when the networks leave them free. Frame
 * failures go to the sink and do not stop the run; the return is an error only when the pipeline itself
 * cannot run (models missing, out of memory, threads) or the reader ran out of memory for a frame (the run
 * then ends after the frames before it, every one of them at the sink). */
cpose_status cpose_pipeline_run(const cpose_pipeline_params *params, cpose_source_fn source, void *source_user,
                                cpose_sink_fn sink, void *sink_user);

#ifdef __cplusplus
}
#endif

#endif /* CPOSE_H */
