/*
 * What Conv2D and DepthwiseConv2dNative (and their fused spellings) share: the TF attributes, the window
 * geometry and shape checks, the bias + activation epilogue of the reference kernels, and the creation of
 * the XNNPACK convolution operator that is the fast kernel of both.
 */
#ifndef CPOSE_NN_OPS_CONV_COMMON_H
#define CPOSE_NN_OPS_CONV_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "nn/gemm.h"
#include "nn/nn.h"

/* The activation a fused op applies after BiasAdd (fused_ops[1]). */
typedef enum nn_conv_activation {
  NN_CONV_ACT_NONE = 0,
  NN_CONV_ACT_RELU,  /* max(x, 0) */
  NN_CONV_ACT_RELU6, /* min(max(x, 0), 6) */
  NN_CONV_ACT_ELU,   /* x < 0 ? exp(x) - 1 : x; the fast kernel has no Elu, so such nodes run the reference */
} nn_conv_activation;

/* node->params of all four conv ops. */
typedef struct nn_conv_params {
  int64_t stride_h, stride_w;     /* strides [1, sh, sw, 1] */
  int64_t dilation_h, dilation_w; /* dilations [1, dh, dw, 1], 1s when absent */
  nn_padding padding;             /* SAME or VALID */
  nn_conv_activation activation;
  bool has_bias; /* fused_ops starts with BiasAdd: the bias is input 2 */
} nn_conv_params;

/* Every size of one convolution, derived from the input and filter shapes and the params. */
typedef struct nn_conv_geometry {
  int64_t batch, in_h, in_w, in_c;
  int64_t kernel_h, kernel_w;
  int64_t multiplier; /* depthwise: output channels per input channel; 1 for Conv2D */
  int64_t out_h, out_w, out_c;
  int64_t pad_top, pad_bottom, pad_left, pad_right; /* zeros around the input, TF's SAME rule */
} nn_conv_geometry;

/* Reads strides, dilations, padding and data_format, and for the fused spellings (`fused`) fused_ops and
 * num_args, into node->params (an nn_conv_params). */
cpose_status nn_conv_parse(nn_node *node, const cJSON *attr, bool fused);

/* Checks the inputs (count, dtypes, ranks, constant filter and bias, channel agreement, bias length) and
 * computes the geometry. Depthwise filters are [kh, kw, cin, multiplier], others [kh, kw, cin, cout]. */
cpose_status nn_conv_geometry_of(const nn_node *node, const nn_tensor *in, bool depthwise,
                                 nn_conv_geometry *g);

/* The shared infer: output [N, OH, OW, COUT] float32. */
cpose_status nn_conv_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out, bool depthwise);

/* The reference epilogue of one output pixel: adds the bias (when the node has one) and applies the
 * activation, in the order TF's fused kernels do. pixel: (out_c), float32; bias: (out_c) or NULL. */
void nn_conv_finish_pixel(const nn_conv_params *p, const float *bias, float *pixel, int64_t out_c);

/* The fast kernels apply the activation as a clamp of the output to [*lo, *hi] (+-INFINITY for none);
 * CPOSE_ERR_UNSUPPORTED for Elu, which is no clamp. */
cpose_status nn_conv_output_range(const nn_node *node, nn_conv_activation activation, float *lo, float *hi);

/* The GEMM (gemm.h) of a 1x1 convolution node: its (CIN, COUT) filter in[1], its bias in[2] when it has one,
 * its activation as the clamp. Errors name the node. */
cpose_status nn_conv_gemm_create(const nn_node *node, const nn_tensor *in, nn_gemm **out);

/* Creates and sets up the XNNPACK convolution operator of the fast kernels (returned in *state_out); the
 * caller has called nn_xnn_init.
 * kernel is in XNNPACK's layout for `flags` and is packed (copied) here, so the caller may free it after.
 * bias: (groups * group_out) or NULL. input: the final arena pointer; out: the output tensor, its final
 * pointer and its row stride (pixels may be a slice of wider ones). Fails with CPOSE_ERR_UNSUPPORTED where
 * XNNPACK cannot do what the node asks (Elu, sizes past uint32). */
cpose_status nn_conv_xnn_create(const nn_node *node, const nn_conv_geometry *g, size_t groups,
                                size_t group_in, size_t group_out, const float *kernel, const float *bias,
                                uint32_t flags, const float *input, const nn_tensor *out, pthreadpool_t pool,
                                void **state_out);

#endif
