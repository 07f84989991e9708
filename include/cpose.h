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

typedef struct cpose_session_params {
  cpose_backend backend;
  int threads; /* worker threads for the fast kernels; 1 runs on the calling thread */
  /* Nodes to compute, by name with an optional output index ("Identity:0", "TopKV2:1"). Borrowed for the
   * create call. NULL (or output_count 0) means the signature's outputs. */
  const char *const *outputs;
  size_t output_count;
  /* Shape of the (single) input; rank 0 means the placeholder's declared shape. */
  int input_rank;
  int64_t input_dims[CPOSE_MAX_RANK];
  int profile; /* nonzero: time every kernel of every run (see cpose_session_profile) */
} cpose_session_params;

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
} cpose_session_stats;

void cpose_session_get_stats(const cpose_session *session, cpose_session_stats *stats_out);

/* With params.profile set: calls `visit` once per kernel, in run order, with the node's name, its op type,
 * whether the fast kernel ran, and the milliseconds it took summed over all runs so far. Strings borrowed
 * for the call. */
void cpose_session_profile(const cpose_session *session,
                           void (*visit)(const char *node, const char *op, int fast, double total_ms, void *user),
                           void *user);

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

#ifdef __cplusplus
}
#endif

#endif /* CPOSE_H */
