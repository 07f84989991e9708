/*
 * The pose net: MoveNet (Thunder 256x256 or Lightning 192x192) run on one person's crop, its raw maps
 * decoded in C, the joints mapped back to the image.
 *
 * The session outputs the four raw maps only, so the runtime prunes the graph's own decode (its ArgMax,
 * GatherNd, ... nodes) and pose_decode does that work: the same result with CPOSE_DECODER_MOVENET, and the
 * other decoders on the same maps.
 */
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "pose/pose.h"

/* The session's outputs, in this order. */
enum { MAP_HEATMAP, MAP_OFFSETS, MAP_REGRESS, MAP_CENTER, MAP_COUNT };

static const char *const map_names[MAP_COUNT] = {
    "StatefulPartitionedCall/Sigmoid",                        /* (1, H, W, K) joint heatmaps */
    "StatefulPartitionedCall/kpt_offset_0/conv2d_7/BiasAdd",  /* (1, H, W, 2K) sub-cell offsets */
    "StatefulPartitionedCall/kpt_regress_0/conv2d_6/BiasAdd", /* (1, H, W, 2K) joints from a center */
    "StatefulPartitionedCall/Sigmoid_1",                      /* (1, H, W, 1) person centers */
};

/* MoveNet's joints: COCO-17, the set pose_unflip_joints' pairs are for. */
#define MOVENET_KEYPOINTS 17

/* One crop at a time: a session on the calling thread and its input. */
typedef struct pose_lane {
  cpose_session *session; /* owned */
  float *input;           /* NHWC (1, S, S, 3) float32 RGB, whole numbers 0..255: the crop being run; owned */
  atomic_bool busy;       /* a crop job holds the lane */
} pose_lane;

/* Boxes whose crops one round runs side by side: rounds of up to twice as many jobs (with the mirrors). */
#define POSE_ROUND_BOXES 32

/* A crop to run in a round: where it comes from in the image, and the joints the net finds there. */
typedef struct crop_job {
  image_affine to_image; /* net input -> image */
  pose_joint joints[CPOSE_MAX_KEYPOINTS];
  cpose_status status;
} crop_job;

struct pose_net {
  cpose_model *model; /* owned */
  pose_lane *lanes;   /* owned; one per thread of the pool */
  int lane_count;
  pthreadpool_t pool; /* borrowed: the pool's threads, or NULL for the calling thread alone */
  int input_size;     /* S: the input is NHWC (1, S, S, 3) */
  int map_height, map_width, keypoints;
  crop_job jobs[2 * POSE_ROUND_BOXES]; /* the round being run */
  /* what a round runs on */
  const cpose_image *image;
  cpose_decoder decoder;
};

/* Checks that output `index` is float32 (1, map_height, map_width, channels). */
static cpose_status check_map(const pose_net *net, int index, int64_t channels) {
  cpose_tensor t;
  cpose_status status = cpose_session_output(net->lanes[0].session, (size_t)index, &t);
  if (status != CPOSE_OK) return status;
  if (t.dtype != CPOSE_DTYPE_FLOAT32 || t.rank != 4 || t.dims[0] != 1 || t.dims[1] != net->map_height ||
      t.dims[2] != net->map_width || t.dims[3] != channels) {
    return cpose_fail(
        CPOSE_ERR_UNSUPPORTED, "'%s' is %s (%lld, %lld, %lld, %lld); MoveNet's is float32 (1, %d, %d, %lld)",
        map_names[index], t.dtype == CPOSE_DTYPE_FLOAT32 ? "float32" : "not float32", (long long)t.dims[0],
        (long long)(t.rank > 1 ? t.dims[1] : 0), (long long)(t.rank > 2 ? t.dims[2] : 0),
        (long long)(t.rank > 3 ? t.dims[3] : 0), net->map_height, net->map_width, (long long)channels);
  }
  return CPOSE_OK;
}

/* Reads the input side from the model and the map sizes from the planned session, and checks all shapes. */
static cpose_status read_shapes(pose_net *net) {
  const char *name;
  cpose_tensor in;
  cpose_status status = cpose_model_input(net->model, 0, &name, &in);
  if (status != CPOSE_OK) return status;
  if (in.rank != 4 || in.dims[0] != 1 || in.dims[1] != in.dims[2] || in.dims[1] < 4 || in.dims[1] > 4096 ||
      in.dims[3] != 3) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "input '%s' is not (1, S, S, 3) with S in 4..4096", name);
  }
  net->input_size = (int)in.dims[1];
  cpose_tensor heat;
  if ((status = cpose_session_output(net->lanes[0].session, MAP_HEATMAP, &heat)) != CPOSE_OK) return status;
  if (heat.rank != 4 || heat.dims[1] < 1 || heat.dims[2] < 1 || heat.dims[1] > net->input_size ||
      heat.dims[2] > net->input_size || heat.dims[3] != MOVENET_KEYPOINTS) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "'%s' is not (1, H, W, %d) with H, W up to the input's %d",
                      map_names[MAP_HEATMAP], MOVENET_KEYPOINTS, net->input_size);
  }
  net->map_height = (int)heat.dims[1];
  net->map_width = (int)heat.dims[2];
  net->keypoints = MOVENET_KEYPOINTS;
  int64_t channels[MAP_COUNT] = {net->keypoints, 2 * net->keypoints, 2 * net->keypoints, 1};
  for (int i = 0; i < MAP_COUNT; i++) {
    if ((status = check_map(net, i, channels[i])) != CPOSE_OK) return status;
  }
  return CPOSE_OK;
}

/* A lane: a single-threaded session of the model for the raw maps, and its input. */
static cpose_status create_lane(pose_net *net, pose_lane *lane) {
  cpose_session_params params = cpose_session_params_default();
  params.threads = 1;
  params.outputs = map_names;
  params.output_count = MAP_COUNT;
  cpose_status status = cpose_session_create(net->model, &params, &lane->session);
  if (status != CPOSE_OK) return status;
  const char *name;
  cpose_tensor in;
  if ((status = cpose_model_input(net->model, 0, &name, &in)) != CPOSE_OK) return status;
  size_t count = 1;
  for (int d = 0; d < in.rank; d++) count *= (size_t)in.dims[d]; /* checked by read_shapes after */
  lane->input = cpose_calloc(count, sizeof *lane->input);
  if (!lane->input) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a pose net's input");
  atomic_init(&lane->busy, false);
  return CPOSE_OK;
}

cpose_status pose_net_create(const char *model_path, cpose_threadpool *pool, pose_net **net_out) {
  if (!model_path || !net_out)
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "pose_net_create: NULL argument");
  cpose_status status;
  pose_net *net = cpose_calloc(1, sizeof *net);
  if (!net) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a pose net");
  if ((status = cpose_model_load(model_path, &net->model)) != CPOSE_OK)
    goto error; /* its errors name the file */
  net->pool = cpose_threadpool_handle(pool);
  int lanes = net->pool ? (int)pthreadpool_get_threads_count(net->pool) : 1;
  net->lanes = cpose_calloc((size_t)lanes, sizeof *net->lanes);
  if (!net->lanes) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for %d pose lanes", lanes);
    goto error;
  }
  net->lane_count = lanes;
  for (int i = 0; i < lanes; i++) {
    if ((status = create_lane(net, &net->lanes[i])) != CPOSE_OK) goto error_in_model;
  }
  if ((status = read_shapes(net)) != CPOSE_OK) goto error_in_model;
  *net_out = net;
  return CPOSE_OK;
error_in_model:
  cpose_fail_context(status, "pose net '%s'", model_path);
error:
  pose_net_destroy(net);
  return status;
}

void pose_net_destroy(pose_net *net) {
  if (!net) return;
  for (int i = 0; i < net->lane_count; i++) {
    cpose_session_destroy(net->lanes[i].session);
    cpose_free(net->lanes[i].input);
  }
  cpose_free(net->lanes);
  cpose_model_destroy(net->model);
  cpose_free(net);
}

int pose_net_input_size(const pose_net *net) {
  return net->input_size;
}

/* Views of the lane's last maps (valid until its next run). */
static void read_maps(const pose_net *net, const pose_lane *lane, pose_maps *maps) {
  const float *data[MAP_COUNT];
  for (int i = 0; i < MAP_COUNT; i++) {
    cpose_tensor t;
    cpose_session_output(lane->session, (size_t)i, &t); /* cannot fail: i < MAP_COUNT outputs */
    data[i] = t.data;
  }
  maps->height = net->map_height;
  maps->width = net->map_width;
  maps->keypoints = net->keypoints;
  maps->heatmap = data[MAP_HEATMAP];
  maps->offsets = data[MAP_OFFSETS];
  maps->regress = data[MAP_REGRESS];
  maps->center = data[MAP_CENTER];
}

/* Warps the job's crop into the lane's input, runs the net and decodes the joints (in map cells). */
static cpose_status run_crop(const pose_net *net, pose_lane *lane, crop_job *job) {
  int s = net->input_size;
  size_t count = (size_t)s * s * 3;
  cpose_status status = image_warp_affine(net->image, &job->to_image, s, s, lane->input);
  if (status != CPOSE_OK) return status;
  /* MoveNet's input is int32 and the session converts by truncating toward zero (TensorFlow's Cast). The
   * warp's values are bilinear mixes in [0, 255], so adding one half turns that truncation into rounding to
   * the nearest level, as an image resized to uint8 by any library (the model's training data, our golden
   * inputs) would hold; truncation alone would darken every pixel by half a level on average. */
  for (size_t i = 0; i < count; i++) lane->input[i] += 0.5f;
  if ((status = cpose_session_run(lane->session, lane->input, count)) != CPOSE_OK) return status;
  pose_maps maps;
  read_maps(net, lane, &maps);
  pose_decode(&maps, net->decoder, job->joints);
  return CPOSE_OK;
}

/* pthreadpool task: job j on a free lane. The pool runs at most lane_count jobs at once, so one is free. */
static void run_job(void *context, size_t j) {
  pose_net *net = context;
  pose_lane *lane = net->lanes;
  while (atomic_exchange(&lane->busy, true)) {
    lane = lane + 1 < net->lanes + net->lane_count ? lane + 1 : net->lanes;
  }
  net->jobs[j].status = run_crop(net, lane, &net->jobs[j]);
  atomic_store(&lane->busy, false);
}

/* Runs jobs[0..count) side by side on the lanes; the first failure, in job order. */
static cpose_status run_round(pose_net *net, size_t count) {
  pthreadpool_parallelize_1d(net->pool, run_job, net, count, 0);
  for (size_t j = 0; j < count; j++) {
    if (net->jobs[j].status != CPOSE_OK) return net->jobs[j].status;
  }
  return CPOSE_OK;
}

void pose_joint_to_image(const pose_joint *joint, int map_width, int map_height, int input_size,
                         const image_affine *to_image, cpose_keypoint *keypoint_out) {
  double x_in = (double)joint->x * input_size / map_width;
  double y_in = (double)joint->y * input_size / map_height;
  double x, y;
  image_affine_apply(to_image, x_in, y_in, &x, &y);
  keypoint_out->x = (float)x;
  keypoint_out->y = (float)y;
  keypoint_out->score = joint->score;
}

/* Sets jobs[j] to the crop of `box` enlarged by box_scale, and with `flip` jobs[j + 1] to its mirror. */
static cpose_status add_crop(pose_net *net, size_t j, const cpose_box *box, const pose_options *options) {
  image_crop crop;
  cpose_status status = image_crop_transform(box->x, box->y, box->w, box->h, options->box_scale,
                                             net->input_size, net->input_size, &crop);
  if (status != CPOSE_OK) return status;
  net->jobs[j].to_image = crop.to_image;
  if (options->flip) pose_mirror_affine(&crop.to_image, net->input_size, &net->jobs[j + 1].to_image);
  return CPOSE_OK;
}

/* The pose of the crop in jobs[j] after its round, keypoints in image pixels: its joints, and with `flip` the
 * average with those of the mirror in jobs[j + 1] (flip.c). */
static void crop_pose(pose_net *net, size_t j, const pose_options *options, cpose_keypoint *keypoints) {
  crop_job *job = &net->jobs[j];
  if (options->flip) {
    pose_unflip_joints(job[1].joints, net->keypoints, net->map_width);
    pose_average_joints(job[0].joints, job[1].joints, net->keypoints);
  }
  for (int k = 0; k < net->keypoints; k++) {
    pose_joint_to_image(&job->joints[k], net->map_width, net->map_height, net->input_size, &job->to_image,
                        &keypoints[k]);
  }
}

/* keypoints[i] = the pose in the crop of boxes[i], i < count <= POSE_ROUND_BOXES: all crops (and mirrors)
 * run as one round. */
static cpose_status estimate_round(pose_net *net, const cpose_box *boxes, size_t count,
                                   const pose_options *options,
                                   cpose_keypoint (*keypoints)[CPOSE_MAX_KEYPOINTS]) {
  size_t per_box = options->flip ? 2 : 1;
  cpose_status status = CPOSE_OK;
  for (size_t i = 0; i < count && status == CPOSE_OK; i++)
    status = add_crop(net, i * per_box, &boxes[i], options);
  if (status == CPOSE_OK) status = run_round(net, count * per_box);
  for (size_t i = 0; i < count && status == CPOSE_OK; i++) crop_pose(net, i * per_box, options, keypoints[i]);
  return status;
}

static float mean_score(const cpose_keypoint *keypoints, int count) {
  float sum = 0.0f;
  for (int k = 0; k < count; k++) sum += keypoints[k].score;
  return sum / (float)count;
}

static cpose_status check_arguments(const pose_net *net, const cpose_image *image, const cpose_box *boxes,
                                    size_t count, const pose_options *options, const cpose_person *persons) {
  if (!net || !image || !options || (count > 0 && (!boxes || !persons))) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "pose_net_estimate: NULL argument");
  }
  if (options->decoder != CPOSE_DECODER_MOVENET && options->decoder != CPOSE_DECODER_ARGMAX &&
      options->decoder != CPOSE_DECODER_INTEGRAL) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "pose decoder %d is not one of cpose_decoder's values",
                      (int)options->decoder);
  }
  return CPOSE_OK; /* the boxes and box_scale are checked by image_crop_transform */
}

static void write_person(const cpose_keypoint *keypoints, int count, const cpose_box *box,
                         cpose_person *person) {
  memcpy(person->keypoints, keypoints, (size_t)count * sizeof keypoints[0]);
  person->keypoint_count = count;
  person->box[0] = box->x;
  person->box[1] = box->y;
  person->box[2] = box->w;
  person->box[3] = box->h;
  person->box_score = box->score;
}

/* persons[i] for boxes[i], i < count <= POSE_ROUND_BOXES: a round of first crops, then one of the refined
 * crops, where the second estimate replaces the first when the net is surer of it (by mean keypoint score:
 * the second crop can also be worse, when the first estimate had joints of a neighbour). */
static cpose_status estimate_group(pose_net *net, const cpose_box *boxes, size_t count,
                                   const pose_options *options, cpose_person *persons) {
  int k = net->keypoints;
  cpose_keypoint first[POSE_ROUND_BOXES][CPOSE_MAX_KEYPOINTS], second[POSE_ROUND_BOXES][CPOSE_MAX_KEYPOINTS];
  cpose_box refined[POSE_ROUND_BOXES];
  size_t refined_of[POSE_ROUND_BOXES], refined_count = 0;
  cpose_status status = estimate_round(net, boxes, count, options, first);
  for (size_t i = 0; i < count && status == CPOSE_OK && options->refine; i++) {
    if (pose_refine_box(first[i], k, &boxes[i], &refined[refined_count])) refined_of[refined_count++] = i;
  }
  if (status == CPOSE_OK && refined_count > 0)
    status = estimate_round(net, refined, refined_count, options, second);
  for (size_t r = 0; r < refined_count && status == CPOSE_OK; r++) {
    cpose_keypoint *better = first[refined_of[r]];
    if (mean_score(second[r], k) >= mean_score(better, k)) memcpy(better, second[r], sizeof second[r]);
  }
  for (size_t i = 0; i < count && status == CPOSE_OK; i++) write_person(first[i], k, &boxes[i], &persons[i]);
  return status;
}

cpose_status pose_net_estimate_boxes(pose_net *net, const cpose_image *image, const cpose_box *boxes,
                                     size_t count, const pose_options *options, cpose_person *persons) {
  cpose_status status = check_arguments(net, image, boxes, count, options, persons);
  if (status != CPOSE_OK) return status;
  net->image = image;
  net->decoder = options->decoder;
  for (size_t at = 0; at < count && status == CPOSE_OK; at += POSE_ROUND_BOXES) {
    size_t group = count - at < POSE_ROUND_BOXES ? count - at : POSE_ROUND_BOXES;
    status = estimate_group(net, boxes + at, group, options, persons + at);
  }
  net->image = NULL;
  return status;
}

cpose_status pose_net_estimate(pose_net *net, const cpose_image *image, const cpose_box *box,
                               const pose_options *options, cpose_person *person) {
  return pose_net_estimate_boxes(net, image, box, 1, options, person);
}
