#include "nn/ops/conv_common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/xnn.h"

/* Strides and dilations above this are not a real model; the cap keeps (kernel - 1) * dilation and the
 * padding far from int64 overflow and within XNNPACK's uint32 parameters. */
#define NN_CONV_MAX_STEP 65536

/* ---- attributes -------------------------------------------------------------------------------------- */

/* "[1,2,2,1]" */
static const char *ints_string(const int64_t *v, int count, char *buf, size_t cap) {
  size_t n = (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < count && n < cap; i++) {
    n += (size_t)snprintf(buf + n, cap - n, i ? ",%lld" : "%lld", (long long)v[i]);
  }
  if (n < cap) snprintf(buf + n, cap - n, "]");
  return buf;
}

/* strides / dilations: a list [1, h, w, 1] (NHWC: TF has no stride over batch or channels). `def` when
 * absent, or 0 to make it required. */
static cpose_status parse_hw_list(nn_node *node, const cJSON *attr, const char *key, int64_t def, int64_t *h,
                                  int64_t *w) {
  int64_t v[4];
  int count = 0;
  cpose_status status = nn_attr_ints(node, attr, key, v, 4, &count);
  if (status != CPOSE_OK) return status;
  if (count == 0 && def > 0) {
    *h = def;
    *w = def;
    return CPOSE_OK;
  }
  char buf[96];
  if (count != 4 || v[0] != 1 || v[3] != 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "attribute '%s' is %s, expected [1,h,w,1]", key,
                        ints_string(v, count, buf, sizeof buf));
  }
  if (v[1] < 1 || v[2] < 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "attribute '%s' is %s, values must be >= 1", key,
                        ints_string(v, count, buf, sizeof buf));
  }
  if (v[1] > NN_CONV_MAX_STEP || v[2] > NN_CONV_MAX_STEP) {
    return nn_node_fail(node, CPOSE_ERR_LIMIT, "attribute '%s' is %s, at most %d supported", key,
                        ints_string(v, count, buf, sizeof buf), NN_CONV_MAX_STEP);
  }
  *h = v[1];
  *w = v[2];
  return CPOSE_OK;
}

static cpose_status parse_data_format(nn_node *node, const cJSON *attr) {
  char format[16];
  cpose_status status = nn_attr_string(node, attr, "data_format", format, sizeof format);
  if (status != CPOSE_OK) return status;
  if (format[0] && strcmp(format, "NHWC") != 0) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "data_format '%s' is not supported (only NHWC)", format);
  }
  return CPOSE_OK;
}

static cpose_status unsupported_fused_op(nn_node *node, const char *name) {
  return nn_node_fail(
      node, CPOSE_ERR_UNSUPPORTED,
      "fused op '%s' is not supported (supported: BiasAdd, then optionally Relu, Relu6 or Elu)", name);
}

/* The activation TF names `name` in fused_ops; false for one the kernels do not have. */
static bool activation_named(const char *name, nn_conv_activation *out) {
  static const struct {
    const char *name;
    nn_conv_activation activation;
  } known[] = {{"Relu", NN_CONV_ACT_RELU}, {"Relu6", NN_CONV_ACT_RELU6}, {"Elu", NN_CONV_ACT_ELU}};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    if (strcmp(name, known[i].name) == 0) {
      *out = known[i].activation;
      return true;
    }
  }
  return false;
}

/* fused_ops as TF's remapper writes them: ["BiasAdd"] or ["BiasAdd", <activation>]. An empty list is a
 * plain convolution. */
static cpose_status parse_fused_ops(nn_node *node, const cJSON *attr, nn_conv_params *p) {
  char name[64];
  int count = 0;
  cpose_status status = nn_attr_string_at(node, attr, "fused_ops", 0, name, sizeof name, &count);
  if (status != CPOSE_OK) return status;
  if (count > 2) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "fused_ops has %d entries, at most 2 supported", count);
  }
  for (int i = 0; i < count; i++) {
    status = nn_attr_string_at(node, attr, "fused_ops", i, name, sizeof name, &count);
    if (status != CPOSE_OK) return status;
    bool known = i == 0 ? strcmp(name, "BiasAdd") == 0 : activation_named(name, &p->activation);
    if (!known) return unsupported_fused_op(node, name);
    if (i == 0) p->has_bias = true;
  }
  /* num_args counts the fused ops' extra inputs: 1 for BiasAdd's bias. */
  int64_t num_args = 0;
  status = nn_attr_int(node, attr, "num_args", p->has_bias ? 1 : 0, &num_args);
  if (status != CPOSE_OK) return status;
  if (num_args != (p->has_bias ? 1 : 0)) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "num_args is %lld, fused_ops need %d",
                        (long long)num_args, p->has_bias ? 1 : 0);
  }
  return CPOSE_OK;
}

cpose_status nn_conv_parse(nn_node *node, const cJSON *attr, bool fused) {
  nn_conv_params *p = node->params;
  cpose_status status = parse_hw_list(node, attr, "strides", 0, &p->stride_h, &p->stride_w);
  if (status == CPOSE_OK) status = parse_hw_list(node, attr, "dilations", 1, &p->dilation_h, &p->dilation_w);
  if (status == CPOSE_OK) status = nn_attr_padding(node, attr, &p->padding);
  if (status == CPOSE_OK && p->padding == NN_PAD_EXPLICIT) {
    status =
        nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "padding EXPLICIT is not supported (only SAME and VALID)");
  }
  if (status == CPOSE_OK) status = parse_data_format(node, attr);
  if (status == CPOSE_OK && fused) status = parse_fused_ops(node, attr, p);
  return status;
}

/* ---- shapes ------------------------------------------------------------------------------------------ */

static cpose_status check_tensor(const nn_node *node, const nn_tensor *t, const char *what, int rank) {
  char shape[96];
  if (t->dtype != NN_F32) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "%s is %s, only float32 is supported", what,
                        nn_dtype_name(t->dtype));
  }
  if (t->rank != rank) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "%s is %s, expected rank %d", what,
                        nn_shape_string(t, shape, sizeof shape), rank);
  }
  return CPOSE_OK;
}

/* The fast kernels pack the filter and bias once, at session creation, so both must be known then. */
static cpose_status check_constant(const nn_node *node, const nn_tensor *t, const char *what) {
  if (t->data) return CPOSE_OK;
  return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "%s is not a constant", what);
}

static cpose_status check_inputs(const nn_node *node, const nn_tensor *in, bool has_bias) {
  int expected = has_bias ? 3 : 2;
  if (node->n_inputs != expected) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "has %d inputs, expected %d (input, filter%s)",
                        node->n_inputs, expected, has_bias ? ", bias" : "");
  }
  cpose_status status = check_tensor(node, &in[0], "input", 4);
  if (status == CPOSE_OK) status = check_tensor(node, &in[1], "filter", 4);
  if (status == CPOSE_OK) status = check_constant(node, &in[1], "filter");
  if (status == CPOSE_OK && has_bias) status = check_tensor(node, &in[2], "bias", 1);
  if (status == CPOSE_OK && has_bias) status = check_constant(node, &in[2], "bias");
  return status;
}

static cpose_status check_channels(const nn_node *node, const nn_tensor *in, bool depthwise, bool has_bias) {
  char input[96], filter[96];
  const int64_t *w = in[1].dims;
  if (w[2] != in[0].dims[3]) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                        "filter %s needs %lld input channels, input %s has %lld",
                        nn_shape_string(&in[1], filter, sizeof filter), (long long)w[2],
                        nn_shape_string(&in[0], input, sizeof input), (long long)in[0].dims[3]);
  }
  if (w[0] < 1 || w[1] < 1 || w[2] < 1 || w[3] < 1) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT, "filter %s has an empty dim",
                        nn_shape_string(&in[1], filter, sizeof filter));
  }
  int64_t out_c = depthwise ? w[2] * w[3] : w[3];
  if (has_bias && in[2].dims[0] != out_c) {
    return nn_node_fail(node, CPOSE_ERR_INVALID_ARGUMENT,
                        "bias has %lld values, the convolution %lld channels", (long long)in[2].dims[0],
                        (long long)out_c);
  }
  return CPOSE_OK;
}

cpose_status nn_conv_geometry_of(const nn_node *node, const nn_tensor *in, bool depthwise,
                                 nn_conv_geometry *g) {
  const nn_conv_params *p = node->params;
  cpose_status status = check_inputs(node, in, p->has_bias);
  if (status == CPOSE_OK) status = check_channels(node, in, depthwise, p->has_bias);
  if (status != CPOSE_OK) return status;
  nn_conv_geometry r;
  r.batch = in[0].dims[0];
  r.in_h = in[0].dims[1];
  r.in_w = in[0].dims[2];
  r.in_c = in[0].dims[3];
  r.kernel_h = in[1].dims[0];
  r.kernel_w = in[1].dims[1];
  r.multiplier = depthwise ? in[1].dims[3] : 1;
  r.out_c = depthwise ? r.in_c * r.multiplier : in[1].dims[3];
  status = nn_window(node, r.in_h, r.kernel_h, p->stride_h, p->dilation_h, p->padding, &r.out_h, &r.pad_top,
                     &r.pad_bottom);
  if (status == CPOSE_OK) {
    status = nn_window(node, r.in_w, r.kernel_w, p->stride_w, p->dilation_w, p->padding, &r.out_w,
                       &r.pad_left, &r.pad_right);
  }
  if (status == CPOSE_OK) *g = r;
  return status;
}

cpose_status nn_conv_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out, bool depthwise) {
  nn_conv_geometry g;
  cpose_status status = nn_conv_geometry_of(node, in, depthwise, &g);
  if (status != CPOSE_OK) return status;
  int64_t dims[4] = {g.batch, g.out_h, g.out_w, g.out_c};
  status = nn_set_shape(node, &out[0], 4, dims);
  if (status == CPOSE_OK) out[0].dtype = NN_F32;
  return status;
}

/* ---- reference epilogue ------------------------------------------------------------------------------ */

/* Written so that NaN passes through, as in TensorFlow. */
static float activate(nn_conv_activation activation, float v) {
  switch (activation) {
    case NN_CONV_ACT_NONE:
      return v;
    case NN_CONV_ACT_RELU:
      return v < 0.0f ? 0.0f : v;
    case NN_CONV_ACT_RELU6:
      return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
    case NN_CONV_ACT_ELU:
      return v < 0.0f ? expf(v) - 1.0f : v; /* TF's formula, not expm1f */
  }
  return v;
}

void nn_conv_finish_pixel(const nn_conv_params *p, const float *bias, float *pixel, int64_t out_c) {
  for (int64_t c = 0; c < out_c; c++) {
    float v = bias ? pixel[c] + bias[c] : pixel[c];
    pixel[c] = activate(p->activation, v);
  }
}

/* ---- fast kernel ------------------------------------------------------------------------------------- */

cpose_status nn_conv_output_range(const nn_node *node, nn_conv_activation activation, float *lo, float *hi) {
  *lo = -INFINITY;
  *hi = INFINITY;
  switch (activation) {
    case NN_CONV_ACT_NONE:
      return CPOSE_OK;
    case NN_CONV_ACT_RELU:
      *lo = 0.0f;
      return CPOSE_OK;
    case NN_CONV_ACT_RELU6:
      *lo = 0.0f;
      *hi = 6.0f;
      return CPOSE_OK;
    case NN_CONV_ACT_ELU:
      break;
  }
  return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "XNNPACK's convolution has no fused Elu");
}

cpose_status nn_conv_gemm_create(const nn_node *node, const nn_tensor *in, nn_gemm **out) {
  const nn_conv_params *p = node->params;
  float lo, hi;
  cpose_status status = nn_conv_output_range(node, p->activation, &lo, &hi);
  if (status != CPOSE_OK) return status;
  status = nn_gemm_create((size_t)in[1].dims[2], (size_t)in[1].dims[3], in[1].data,
                          p->has_bias ? in[2].data : NULL, lo, hi, out);
  return status == CPOSE_OK ? status : nn_node_fail(node, status, "%s", cpose_last_error());
}

static bool fits_uint32(const int64_t *v, int n) {
  for (int i = 0; i < n; i++) {
    if (v[i] < 0 || v[i] > (int64_t)UINT32_MAX) return false;
  }
  return true;
}

cpose_status nn_conv_xnn_create(const nn_node *node, const nn_conv_geometry *g, size_t groups,
                                size_t group_in, size_t group_out, const float *kernel, const float *bias,
                                uint32_t flags, const float *input, const nn_tensor *out, pthreadpool_t pool,
                                void **state_out) {
  const nn_conv_params *p = node->params;
  float lo, hi;
  cpose_status status = nn_conv_output_range(node, p->activation, &lo, &hi);
  if (status != CPOSE_OK) return status;
  const int64_t sizes[] = {g->pad_top,  g->pad_right, g->pad_bottom, g->pad_left,   g->kernel_h,
                           g->kernel_w, p->stride_h,  p->stride_w,   p->dilation_h, p->dilation_w};
  if (!fits_uint32(sizes, (int)(sizeof sizes / sizeof sizes[0]))) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "a kernel, stride, dilation or padding passes uint32");
  }
  xnn_operator_t op = NULL;
  enum xnn_status xs = xnn_create_convolution2d_nhwc_f32(
      (uint32_t)g->pad_top, (uint32_t)g->pad_right, (uint32_t)g->pad_bottom, (uint32_t)g->pad_left,
      (uint32_t)g->kernel_h, (uint32_t)g->kernel_w, (uint32_t)p->stride_h, (uint32_t)p->stride_w,
      (uint32_t)p->dilation_h, (uint32_t)p->dilation_w, (uint32_t)groups, group_in, group_out,
      groups * group_in /* input pixel stride */, (size_t)nn_row_stride(out) /* output pixel stride */,
      kernel, bias, lo, hi, flags, &op);
  status = nn_xnn_check(node, xs, "convolution create");
  if (status != CPOSE_OK) goto error;
  xs = xnn_setup_convolution2d_nhwc_f32(op, (size_t)g->batch, (size_t)g->in_h, (size_t)g->in_w, input,
                                        out->data, pool);
  status = nn_xnn_check(node, xs, "convolution setup");
  if (status != CPOSE_OK) goto error;
  *state_out = op;
  return CPOSE_OK;

error:
  nn_xnn_delete_operator(op);
  return status;
}
