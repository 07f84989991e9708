/*
 * Shared plumbing of the element-wise ops (src/nn/ops/add.c, relu.c, ...).
 *
 * Each op file defines its scalar function(s) and, where XNNPACK has one, how to create its fast operator,
 * bundles them in an nn_binary_kernel or nn_unary_kernel, and forwards its nn_op entry points to the drivers
 * below. The drivers do everything else: dtype and shape checks, NumPy/TensorFlow broadcasting, the
 * reference loops and the XNNPACK set-up.
 */
#ifndef CPOSE_NN_ELEMENTWISE_H
#define CPOSE_NN_ELEMENTWISE_H

#include <stdbool.h>
#include <stdint.h>

#include "nn/nn.h"
#include "nn/xnn.h"

/* The signature shared by XNNPACK's xnn_setup_{add,subtract,multiply,divide,squared_difference}_nd_f32. */
typedef enum xnn_status (*nn_xnn_binary_setup)(xnn_operator_t op, size_t a_rank, const size_t *a_dims,
                                               size_t b_rank, const size_t *b_dims, const float *a,
                                               const float *b, float *out, pthreadpool_t pool);

/* The signature shared by XNNPACK's xnn_setup_{clamp,sigmoid,square_root,hardswish}_nc_f32. */
typedef enum xnn_status (*nn_xnn_unary_setup)(xnn_operator_t op, size_t batch, const float *in, float *out,
                                              pthreadpool_t pool);

/*
 * A binary op's kernels. An op fills either the arithmetic pair (output dtype = input dtype) or the
 * comparison pair (output bool); a NULL entry means that input dtype is not supported.
 */
typedef struct nn_binary_kernel {
  float (*f32)(float a, float b);
  int32_t (*i32)(int32_t a, int32_t b);
  bool (*compare_f32)(float a, float b);
  bool (*compare_i32)(int32_t a, int32_t b);
  /* The fast kernel (float32 only); both NULL when XNNPACK has none. xnn_create makes an operator with no
   * output clamping. */
  enum xnn_status (*xnn_create)(xnn_operator_t *op_out);
  nn_xnn_binary_setup xnn_setup;
} nn_binary_kernel;

/* A unary op's kernel: float32 in, float32 out. */
typedef struct nn_unary_kernel {
  float (*f32)(float x);
  /* The fast kernel, both NULL when XNNPACK has none. xnn_create makes an operator for rows of `channels`
   * contiguous floats. */
  enum xnn_status (*xnn_create)(size_t channels, xnn_operator_t *op_out);
  nn_xnn_unary_setup xnn_setup;
} nn_unary_kernel;

/* ---- binary ops: 2 inputs of one dtype, broadcast against each other ----------------------------------- */

/* Checks the input count, that both dtypes are equal and supported by `kernel`, and broadcasts the shapes. */
cpose_status nn_binary_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out,
                             const nn_binary_kernel *kernel);
/* The reference kernel: walks both inputs with broadcast strides. */
cpose_status nn_binary_run(const nn_node *node, const nn_tensor *in, nn_tensor *out,
                           const nn_binary_kernel *kernel);
/* Creates and sets up kernel->xnn_create's operator(s) on the final pointers; the op's fast_run and
 * fast_destroy are the two below. CPOSE_ERR_UNSUPPORTED for non-float32 inputs, empty outputs, or more than
 * XNN_MAX_TENSOR_DIMS dims after merging neighbouring dims. */
cpose_status nn_binary_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                   pthreadpool_t pool, void **state_out, const nn_binary_kernel *kernel);
cpose_status nn_binary_fast_run(void *state, pthreadpool_t pool);
void nn_binary_fast_destroy(void *state);

/* ---- unary ops: 1 float32 input, output of the same shape ---------------------------------------------- */

cpose_status nn_unary_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out);
cpose_status nn_unary_run(const nn_node *node, const nn_tensor *in, nn_tensor *out,
                          const nn_unary_kernel *kernel);
/* As nn_binary_fast_create; the tensor is treated as one row of all its elements. */
cpose_status nn_unary_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                  pthreadpool_t pool, void **state_out, const nn_unary_kernel *kernel);

/* One floating-point operation per output element when input 0 is float32, none otherwise (nn_op.flops). */
double nn_elementwise_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out);

/* The int32 whose bits are u: two's-complement wrap-around, as TensorFlow's int32 arithmetic and TF.js's
 * Int32Array stores behave (C leaves signed overflow undefined, so int32 ops compute in uint32). */
static inline int32_t nn_i32_wrap(uint32_t u) {
  return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)~u - 1;
}

#endif
