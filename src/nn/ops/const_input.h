/*
 * Reading the inputs that an op's output shape depends on: Reshape's shape, StridedSlice's begin / end /
 * strides, an axis, TopKV2's k. TensorFlow passes them as tensors; we need their values at session creation
 * (in infer), so they must be constants (weights, or values folded before the node). Shared by the shape and
 * indexing ops so that every one of them checks the same things with the same messages.
 */
#ifndef CPOSE_NN_OPS_CONST_INPUT_H
#define CPOSE_NN_OPS_CONST_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "nn/nn.h"

/* Fails (CPOSE_ERR_INVALID_ARGUMENT) unless the node has exactly `expected` inputs, so that an op may then
 * index in[0 .. expected-1]. */
cpose_status nn_check_input_count(const nn_node *node, int expected);

/* Fails unless input `index` (called `what` in messages) has dtype int32. */
cpose_status nn_check_int32(const nn_node *node, const nn_tensor *in, int index, const char *what);

/* Fails unless input 0 is a float32 NHWC image (rank 4): CPOSE_ERR_UNSUPPORTED for another dtype,
 * CPOSE_ERR_INVALID_ARGUMENT for another rank. For the pooling and resizing ops. */
cpose_status nn_check_nhwc_f32(const nn_node *node, const nn_tensor *in);

/* The values of input `index`: a constant int32 tensor of rank 1 (or rank 0 where `allow_scalar`, read as
 * one value) with at most `cap` elements. Fails with CPOSE_ERR_UNSUPPORTED when the input is not a
 * constant, and CPOSE_ERR_INVALID_ARGUMENT for another dtype, rank or a longer vector. `out` has `cap`
 * entries; *count gets the number of values. */
cpose_status nn_const_ints(const nn_node *node, const nn_tensor *in, int index, const char *what,
                           bool allow_scalar, int64_t *out, int cap, int *count);

/* The value of input `index`: a constant int32 scalar, or, where `any_shape`, a constant int32 tensor of
 * any rank with exactly one element (ExpandDims' axis). Fails as nn_const_ints does. */
cpose_status nn_const_int(const nn_node *node, const nn_tensor *in, int index, const char *what,
                          bool any_shape, int64_t *out);

#endif
