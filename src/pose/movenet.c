/*
 * The pose net: MoveNet (Thunder 256x256 or Lightning 192x192) run on one person's crop, its raw maps
 * decoded in C, the joints mapped back to the image.
 *
 * The session outputs the four raw maps only, so the runtime prunes the graph's own decode (its ArgMax,
 * GatherNd, ... nodes) and pose_decode does that work: the same result with CPOSE_DECODER_MOVENET, and the
 * other decoders on the same maps.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
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

struct pose_net {
  cpose_model *model;     /* owned */
  cpose_session *session; /* owned */
  int input_size;         /* S: the input is NHWC (1, S, S, 3) */
  int map_height, map_width, keypoints;
  float *input; /* NHWC (1, S, S, 3) float32 RGB, whole numbers 0..255: the crop being run; owned */
};

/* Checks that output `index` is float32 (1, map_height, map_width, channels). */
static cpose_status check_map(const pose_net *net, int index, int64_t channels) {
  cpose_tensor t;
  cpose_status status = cpose_session_output(net->session, (size_t)index, &t);
  if (status != CPOSE_OK) return status;
  if (t.dtype != CPOSE_DTYPE_FLOAT32 || t.rank != 4 || t.dims[0] != 1 || t.dims[1] != net->map_height ||
      t.dims[2] != net->map_width || t.dims[3] != channels) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED,
                      "'%s' is %s (%lld, %lld, %lld, %lld); MoveNet's is float32 (1, %d, %d, %lld)",
                      map_names[index], t.dtype == CPOSE_DTYPE_FLOAT32 ? "float32" : "not float32",
                      (long long)t.dims[0], (long long)(t.rank > 1 ? t.dims[1] : 0),
                      (long long)(t.rank > 2 ? t.dims[2] : 0), (long long)(t.rank > 3 ? t.dims[3] : 0),
                      net->map_height, net->map_width, (long long)channels);
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
  if ((status = cpose_session_output(net->session, MAP_HEATMAP, &heat)) != CPOSE_OK) return status;
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

cpose_status pose_net_create(const char *model_path, cpose_threadpool *pool, pose_net **net_out) {
  if (!model_path || !net_out) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "pose_net_create: NULL argument");
  cpose_status status;
  pose_net *net = cpose_calloc(1, sizeof *net);
  if (!net) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a pose net");
  if ((status = cpose_model_load(model_path, &net->model)) != CPOSE_OK) goto error; /* its errors name the file */
  cpose_session_params params = cpose_session_params_default();
  params.pool = pool;
  params.outputs = map_names;
  params.output_count = MAP_COUNT;
  if ((status = cpose_session_create(net->model, &params, &net->session)) != CPOSE_OK) goto error_in_model;
  if ((status = read_shapes(net)) != CPOSE_OK) goto error_in_model;
  net->input = cpose_malloc((size_t)net->input_size * net->input_size * 3 * sizeof *net->input);
  if (!net->input) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a %dx%d input", net->input_size, net->input_size);
    goto error_in_model;
  }
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
  cpose_session_destroy(net->session);
  cpose_model_destroy(net->model);
  cpose_free(net->input);
  cpose_free(net);
}

int pose_net_input_size(const pose_net *net) {
  return net->input_size;
}

/* Views of the last run's maps (valid until the next run). */
static void read_maps(const pose_net *net, pose_maps *maps) {
  const float *data[MAP_COUNT];
  for (int i = 0; i < MAP_COUNT; i++) {
    cpose_tensor t;
    cpose_session_output(net->session, (size_t)i, &t); /* cannot fail: i < MAP_COUNT outputs */
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

/* Warps the crop whose net-input -> image map is `to_image` into the input, runs the net and decodes the
 * joints (in map cells). */
static cpose_status run_crop(pose_net *net, const cpose_image *image, const image_affine *to_image,
                             cpose_decoder decoder, pose_joint *joints) {
  int s = net->input_size;
  size_t count = (size_t)s * s * 3;
  cpose_status status = image_warp_affine(image, to_image, s, s, net->input);
  if (status != CPOSE_OK) return status;
  /* MoveNet's input is int32 and the session converts by truncating toward zero (TensorFlow's Cast). The
   * warp's values are bilinear mixes in [0, 255], so adding one half turns that truncation into rounding to
   * the nearest level, as an image resized to uint8 by any library (the model's training data, our golden
   * inputs) would hold; truncation alone would darken every pixel by half a level on average. */
  for (size_t i = 0; i < count; i++) net->input[i] += 0.5f;
  if ((status = cpose_session_run(net->session, net->input, count)) != CPOSE_OK) return status;
  pose_maps maps;
  read_maps(net, &maps);
  pose_decode(&maps, decoder, joints);
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

/* The pose in one crop, keypoints in image pixels: the crop, and with `flip` its mirror too, averaged. */
static cpose_status estimate_crop(pose_net *net, const cpose_image *image, const image_crop *crop,
                                  const pose_options *options, cpose_keypoint *keypoints) {
  pose_joint joints[CPOSE_MAX_KEYPOINTS];
  cpose_status status = run_crop(net, image, &crop->to_image, options->decoder, joints);
  if (status != CPOSE_OK) return status;
  if (options->flip) {
    /* The maps of the first run are gone after the second; its joints are already decoded. */
    pose_joint mirrored[CPOSE_MAX_KEYPOINTS];
    image_affine mirror;
    pose_mirror_affine(&crop->to_image, net->input_size, &mirror);
    if ((status = run_crop(net, image, &mirror, options->decoder, mirrored)) != CPOSE_OK) return status;
    pose_unflip_joints(mirrored, net->keypoints, net->map_width);
    pose_average_joints(joints, mirrored, net->keypoints);
  }
  for (int k = 0; k < net->keypoints; k++) {
    pose_joint_to_image(&joints[k], net->map_width, net->map_height, net->input_size, &crop->to_image,
                        &keypoints[k]);
  }
  return CPOSE_OK;
}

/* The pose in the crop of `box` enlarged by options->box_scale. */
static cpose_status estimate_box(pose_net *net, const cpose_image *image, const cpose_box *box,
                                 const pose_options *options, cpose_keypoint *keypoints) {
  image_crop crop;
  cpose_status status = image_crop_transform(box->x, box->y, box->w, box->h, options->box_scale,
                                             net->input_size, net->input_size, &crop);
  if (status != CPOSE_OK) return status;
  return estimate_crop(net, image, &crop, options, keypoints);
}

static float mean_score(const cpose_keypoint *keypoints, int count) {
  float sum = 0.0f;
  for (int k = 0; k < count; k++) sum += keypoints[k].score;
  return sum / (float)count;
}

static cpose_status check_arguments(const pose_net *net, const cpose_image *image, const cpose_box *box,
                                    const pose_options *options, const cpose_person *person) {
  if (!net || !image || !box || !options || !person) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "pose_net_estimate: NULL argument");
  }
  if (options->decoder != CPOSE_DECODER_MOVENET && options->decoder != CPOSE_DECODER_ARGMAX &&
      options->decoder != CPOSE_DECODER_INTEGRAL) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "pose decoder %d is not one of cpose_decoder's values",
                      (int)options->decoder);
  }
  return CPOSE_OK; /* the box and box_scale are checked by image_crop_transform */
}

cpose_status pose_net_estimate(pose_net *net, const cpose_image *image, const cpose_box *box,
                               const pose_options *options, cpose_person *person) {
  cpose_status status = check_arguments(net, image, box, options, person);
  if (status != CPOSE_OK) return status;
  int count = net->keypoints;
  cpose_keypoint keypoints[CPOSE_MAX_KEYPOINTS];
  if ((status = estimate_box(net, image, box, options, keypoints)) != CPOSE_OK) return status;
  cpose_box refined;
  if (options->refine && pose_refine_box(keypoints, count, box, &refined)) {
    cpose_keypoint second[CPOSE_MAX_KEYPOINTS];
    if ((status = estimate_box(net, image, &refined, options, second)) != CPOSE_OK) return status;
    /* The second crop can also be worse (the first estimate had joints of a neighbour): keep whichever the
     * net is surer of, by mean keypoint score. */
    if (mean_score(second, count) >= mean_score(keypoints, count)) memcpy(keypoints, second, sizeof second);
  }
  memcpy(person->keypoints, keypoints, (size_t)count * sizeof keypoints[0]);
  person->keypoint_count = count;
  person->box[0] = box->x;
  person->box[1] = box->y;
  person->box[2] = box->w;
  person->box[3] = box->h;
  person->box_score = box->score;
  return CPOSE_OK;
}
