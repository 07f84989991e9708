/*
 * Internal interface of the neural-network runtime (src/nn).
 *
 * A model (model.c) is a list of nodes in topological order; each node names an op (an nn_op, one per file
 * in src/nn/ops/) and its inputs as references to other nodes' outputs. A session (session.c) infers every
 * shape for one input shape, folds constant subgraphs, drops what no requested output needs, fuses, plans
 * memory, and then runs each node with its op's reference kernel or its fast kernel (XNNPACK's, or the
 * runtime's own AVX-512 ones: gemm.c, dwconv.c).
 */
#ifndef CPOSE_NN_H
#define CPOSE_NN_H

#include <cjson/cJSON.h>
#include <pthreadpool.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "cpose.h"

/* Caps on what a model file may ask for (hostile files must not make us allocate terabytes). */
#define NN_MAX_RANK CPOSE_MAX_RANK
#define NN_MAX_ELEMENTS ((int64_t)1 << 28) /* per tensor: 1 GiB of float32 */

typedef enum nn_dtype {
  NN_F32 = CPOSE_DTYPE_FLOAT32,
  NN_I32 = CPOSE_DTYPE_INT32,
  NN_BOOL = CPOSE_DTYPE_BOOL, /* uint8_t, 0 or 1 */
} nn_dtype;

/* A tensor: dtype, shape and a borrowed pointer to row-major data (NULL while only the shape is known). */
typedef struct nn_tensor {
  nn_dtype dtype;
  int rank;
  int64_t dims[NN_MAX_RANK];
  void *data;
  /* Elements from the start of one row (the last dim) to the next; 0 means dims[rank - 1], contiguous.
   * Only output 0 of an op with strided_output is ever strided: its rows are then a slice of a wider
   * tensor's (see nn_op.joined_parts). */
  int64_t row_stride;
} nn_tensor;

/* An input of a node: output `index` of node `node`. */
typedef struct nn_ref {
  int node;
  int index;
} nn_ref;

typedef struct nn_op nn_op;

typedef struct nn_node {
  char *name;
  const nn_op *op; /* NULL for Placeholder and Const */
  int n_inputs;
  nn_ref *inputs;
  int n_outputs;  /* 1 unless the op's parse says otherwise (Unpack: num, TopKV2: 2) */
  void *params;   /* op->params_size bytes, zeroed, filled by op->parse */
} nn_node;

/*
 * One op. `in` has node->n_inputs tensors, `out` node->n_outputs.
 *
 * parse   optional. Reads the node's TF attributes (`attr` is the node's "attr" JSON object, may be NULL)
 *         into node->params, and sets node->n_outputs when it is not 1.
 * infer   required. Sets dtype, rank and dims of each output. in[i].data is non-NULL exactly when input i
 *         is a constant (a weight, or a value folded at session creation); ops whose output shape depends on
 *         an input's values (Reshape's shape, ConcatV2's axis) fail with CPOSE_ERR_UNSUPPORTED when it is not.
 *         Checks every shape it relies on.
 * run     required. The portable reference kernel: plain C, exact TensorFlow semantics; the oracle.
 * fast_create  optional. Prepares the fast kernel once, when the session is created: every data pointer in
 *         `in` and `out` is final (the arena does not move), so XNNPACK operators can be created and set up
 *         here. Returns CPOSE_ERR_UNSUPPORTED to fall back to `run` for this node.
 * fast_run     runs what fast_create prepared.
 * fast_destroy frees the state (NULL-safe).
 * flops   optional. Floating-point operations of one run (a multiply-add counts two).
 * alias   true when output 0 is input 0's data reinterpreted (Reshape, Squeeze, ExpandDims, Identity): the
 *         planner gives both one buffer and `run` is not called.
 * in_place true when element i of output 0 depends on element i of the inputs only (element-wise ops): the
 *         planner may then give output 0 the buffer of an input of the same dtype and shape that no later
 *         node reads, so both kernels must work with out[0].data == in[k].data.
 * strided_output true when both kernels write output 0 through out[0].row_stride (rank >= 1).
 * joined_parts optional (ConcatV2). The number of leading inputs that output 0 lays side by side along its
 *         last axis, each row of the output being one row of each of them in order; 0 when the node joins
 *         along another axis. On the fast backend the session then lets producers with strided_output write
 *         their slices of output 0 themselves, and does not run the node.
 */
struct nn_op {
  const char *type;
  size_t params_size;
  cpose_status (*parse)(nn_node *node, const cJSON *attr);
  cpose_status (*infer)(const nn_node *node, const nn_tensor *in, nn_tensor *out);
  cpose_status (*run)(const nn_node *node, const nn_tensor *in, nn_tensor *out);
  cpose_status (*fast_create)(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                              pthreadpool_t pool, void **state_out);
  cpose_status (*fast_run)(void *state, pthreadpool_t pool);
  void (*fast_destroy)(void *state);
  double (*flops)(const nn_node *node, const nn_tensor *in, const nn_tensor *out);
  bool alias;
  bool in_place;
  bool strided_output;
  int (*joined_parts)(const nn_node *node, const nn_tensor *in, const nn_tensor *out);
};

/* The op for a TensorFlow op type ("_FusedConv2D"), or NULL. */
const nn_op *nn_op_find(const char *type);

/* Put on the few plain-C kernels whose loops decide a model's speed (those XNNPACK has no operator for):
 * the compiler builds the function once per ISA level (AVX-512, AVX2, baseline x86-64) and the loader picks
 * the best the CPU has, since the library itself is built for generic x86-64. The clones vectorize the same
 * C: results are identical. Empty where the compiler or target has no multi-versioning. */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define NN_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef NN_SIMD_CLONES
#define NN_SIMD_CLONES
#endif

/* ---- errors ------------------------------------------------------------------------------------------ */

/* Records "node 'NAME' (TYPE): <message>" and returns `status`. */
cpose_status nn_node_fail(const nn_node *node, cpose_status status, const char *fmt, ...) CPOSE_PRINTF(3, 4);

/* ---- tensors (tensor.c) ------------------------------------------------------------------------------ */

size_t nn_dtype_size(nn_dtype dtype);
const char *nn_dtype_name(nn_dtype dtype);
int64_t nn_numel(const nn_tensor *t);
size_t nn_bytes(const nn_tensor *t);
/* Bytes to reserve for a tensor in a buffer shared with others: its bytes plus NN_TENSOR_SLACK, rounded up
 * to 64 (a cache line). XNNPACK may read up to XNN_EXTRA_BYTES (16) past the end of any tensor it is given. */
#define NN_TENSOR_SLACK 16
size_t nn_padded_bytes(const nn_tensor *t);
bool nn_same_shape(const nn_tensor *a, const nn_tensor *b);
/* Elements from one row (the last dim) of `t` to the next: row_stride, or dims[rank - 1] when it is 0. */
int64_t nn_row_stride(const nn_tensor *t);
/* Writes "[1,64,64,17]" into buf. */
const char *nn_shape_string(const nn_tensor *t, char *buf, size_t cap);
/* Sets rank and dims; fails with CPOSE_ERR_LIMIT when the element count passes NN_MAX_ELEMENTS and with
 * CPOSE_ERR_INVALID_ARGUMENT on a negative dim or a rank above NN_MAX_RANK. */
cpose_status nn_set_shape(const nn_node *node, nn_tensor *t, int rank, const int64_t *dims);

/* Element i of an int32 or float32 tensor as int64 (for shape-like inputs). */
int64_t nn_get_int(const nn_tensor *t, int64_t i);

/* NumPy/TensorFlow broadcasting of two shapes into `out` (rank and dims only). */
cpose_status nn_broadcast_shape(const nn_node *node, const nn_tensor *a, const nn_tensor *b, nn_tensor *out);

/* Normalizes a possibly negative axis against `rank` (valid: -rank..rank-1). */
cpose_status nn_axis(const nn_node *node, int64_t axis, int rank, int *axis_out);

/* ---- sliding windows (convolution, pooling) ---------------------------------------------------------- */

typedef enum nn_padding { NN_PAD_VALID = 0, NN_PAD_SAME = 1, NN_PAD_EXPLICIT = 2 } nn_padding;

/* Output size and padding of one spatial dim, TensorFlow's rules: SAME pads (total) so that
 * out = ceil(in / stride), with the extra pixel at the end; VALID: out = ceil((in - (k-1)*dil) / stride). */
cpose_status nn_window(const nn_node *node, int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                       nn_padding padding, int64_t *out, int64_t *pad_before, int64_t *pad_after);

/* ---- attributes (attr.c): TF NodeDef attrs as TF.js stores them in JSON --------------------------------- */

/* Each reads attr[key]; when the key is absent, `def` is the result (no error). A present but malformed
 * value is a CPOSE_ERR_PARSE naming the node and the key. */
cpose_status nn_attr_int(const nn_node *node, const cJSON *attr, const char *key, int64_t def, int64_t *out);
cpose_status nn_attr_bool(const nn_node *node, const cJSON *attr, const char *key, bool def, bool *out);
cpose_status nn_attr_float(const nn_node *node, const cJSON *attr, const char *key, float def, float *out);
/* A list of ints ("list": {"i": [...]}); fails when it has more than `cap`. *count 0 when absent. */
cpose_status nn_attr_ints(const nn_node *node, const cJSON *attr, const char *key, int64_t *out, int cap,
                          int *count);
/* A string ("s", base64 in the JSON), decoded, NUL-terminated; "" when absent. */
cpose_status nn_attr_string(const nn_node *node, const cJSON *attr, const char *key, char *out, size_t cap);
/* Element `index` of a string list ("list": {"s": [...]}); *count gets the list length (0 when absent). */
cpose_status nn_attr_string_at(const nn_node *node, const cJSON *attr, const char *key, int index, char *out,
                               size_t cap, int *count);
/* A dtype ("type": "DT_FLOAT"); `def` when absent. DT_FLOAT, DT_INT32 and DT_BOOL are supported. */
cpose_status nn_attr_type(const nn_node *node, const cJSON *attr, const char *key, nn_dtype def,
                          nn_dtype *out);
/* A TF dtype name ("DT_FLOAT") as nn_dtype; CPOSE_ERR_UNSUPPORTED (no message) for others. */
cpose_status nn_dtype_from_tf(const char *name, nn_dtype *out);
/* "padding" as nn_padding. */
cpose_status nn_attr_padding(const nn_node *node, const cJSON *attr, nn_padding *out);

#endif
