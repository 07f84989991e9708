#include "nn/fuse.h"

#include <string.h>

#include "core/alloc.h"
#include "nn/ops/cast.h"
#include "nn/ops/conv_block.h"
#include "nn/ops/conv_common.h"
#include "nn/ops/hard_swish.h"
#include "nn/ops/keep_peaks.h"
#include "nn/ops/max_pool.h"

extern const nn_op nn_op_hard_swish, nn_op_keep_peaks, nn_op_conv_block;

struct nn_fusion {
  int count;
  nn_node nodes[]; /* replacement nodes; inputs and params owned here */
};

static bool is_type(const cpose_model *model, int node, const char *type) {
  return model->kinds[node] == NN_NODE_OP && strcmp(model->nodes[node].op->type, type) == 0;
}

/* The value of a float32 constant with one element. */
static bool const_scalar(const cpose_model *model, nn_ref ref, float *value) {
  const nn_tensor *t = &model->values[ref.node];
  if (model->kinds[ref.node] != NN_NODE_CONST || t->dtype != NN_F32 || nn_numel(t) != 1) return false;
  *value = *(const float *)t->data;
  return true;
}

static bool same_ref(nn_ref a, nn_ref b) {
  return a.node == b.node && a.index == b.index;
}

/* Binary node `node` has a scalar constant on one side: *other gets the other side, *value the constant. */
static bool split_scalar(const cpose_model *model, int node, nn_ref *other, float *value) {
  const nn_node *n = &model->nodes[node];
  if (n->n_inputs != 2) return false;
  for (int side = 0; side < 2; side++) {
    if (const_scalar(model, n->inputs[side], value)) {
      *other = n->inputs[1 - side];
      return true;
    }
  }
  return false;
}

/* Mul(Mul(x, scale), Relu6(Add(x, shift))), the operands of each Mul and Add in either order. */
static bool match_hard_swish(const cpose_model *model, int node, nn_ref *x, nn_hard_swish_params *p) {
  if (!is_type(model, node, "Mul") || model->nodes[node].n_inputs != 2) return false;
  for (int side = 0; side < 2; side++) {
    int scaled = model->nodes[node].inputs[side].node, relu6 = model->nodes[node].inputs[1 - side].node;
    if (!is_type(model, scaled, "Mul") || !is_type(model, relu6, "Relu6")) continue;
    int add = model->nodes[relu6].inputs[0].node;
    if (!is_type(model, add, "Add") && !is_type(model, add, "AddV2")) continue;
    nn_ref x_scaled, x_shifted;
    if (!split_scalar(model, scaled, &x_scaled, &p->scale) ||
        !split_scalar(model, add, &x_shifted, &p->shift)) {
      continue;
    }
    if (!same_ref(x_scaled, x_shifted)) continue;
    *x = x_scaled;
    return true;
  }
  return false;
}

/* The one input of a node that must be of type `type`, as a node index; -1 when it is not. */
static int input_of_type(const cpose_model *model, int node, int index, const char *type) {
  if (model->nodes[node].n_inputs <= index) return -1;
  int input = model->nodes[node].inputs[index].node;
  return is_type(model, input, type) ? input : -1;
}

/* Mul(x, Cast(Equal(x, MaxPool(x)))) with a stride-1 SAME pooling, so that the pooled maximum lines up with
 * x; the operands of Mul and Equal in either order, Cast from bool to float32. */
static bool match_keep_peaks(const cpose_model *model, int node, nn_ref *x, nn_keep_peaks_params *p) {
  if (!is_type(model, node, "Mul") || model->nodes[node].n_inputs != 2) return false;
  for (int side = 0; side < 2; side++) {
    int cast = input_of_type(model, node, side, "Cast");
    if (cast < 0 || model->nodes[cast].n_inputs != 1) continue;
    const nn_cast_params *c = model->nodes[cast].params;
    if (c->dst != NN_F32 || (c->has_src && c->src != NN_BOOL)) continue;
    int equal = input_of_type(model, cast, 0, "Equal");
    if (equal < 0 || model->nodes[equal].n_inputs != 2) continue;
    nn_ref mul_x = model->nodes[node].inputs[1 - side];
    for (int pooled = 0; pooled < 2; pooled++) {
      int pool = input_of_type(model, equal, pooled, "MaxPool");
      if (pool < 0 || model->nodes[pool].n_inputs != 1) continue;
      const nn_max_pool_params *m = model->nodes[pool].params;
      if (m->stride_h != 1 || m->stride_w != 1 || m->padding != NN_PAD_SAME) continue;
      nn_ref equal_x = model->nodes[equal].inputs[1 - pooled], pool_x = model->nodes[pool].inputs[0];
      if (!same_ref(mul_x, equal_x) || !same_ref(mul_x, pool_x)) continue;
      *x = mul_x;
      p->kernel_h = m->kernel_h;
      p->kernel_w = m->kernel_w;
      return true;
    }
  }
  return false;
}

/* Points defs[node] at a new replacement node: `op` on inputs[n_inputs], with a copy of `params` (`size`
 * bytes). */
static cpose_status replace(nn_fusion *f, const cpose_model *model, const nn_node **defs, int node,
                            const nn_op *op, const nn_ref *inputs, int n_inputs, const void *params,
                            size_t size) {
  nn_node *r = &f->nodes[f->count];
  r->params = cpose_malloc(size);
  r->inputs = cpose_malloc((size_t)n_inputs * sizeof *inputs);
  if (!r->params || !r->inputs) {
    cpose_free(r->params);
    cpose_free(r->inputs);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for fusion");
  }
  memcpy(r->params, params, size);
  memcpy(r->inputs, inputs, (size_t)n_inputs * sizeof *inputs);
  r->n_inputs = n_inputs;
  r->n_outputs = 1;
  r->name = model->nodes[node].name;
  r->op = op;
  defs[node] = r;
  f->count++;
  return CPOSE_OK;
}

/* ---- convolution blocks ------------------------------------------------------------------------------- */

/* Who reads each node's outputs: how many inputs of all nodes, and one of those nodes. */
typedef struct nn_readers {
  int *count;
  int *one; /* -1 for a node nothing reads */
} nn_readers;

static cpose_status find_readers(const cpose_model *model, nn_readers *r) {
  r->count = cpose_calloc((size_t)model->n_nodes, sizeof *r->count);
  r->one = cpose_calloc((size_t)model->n_nodes, sizeof *r->one);
  if (!r->count || !r->one) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for fusion");
  for (int i = 0; i < model->n_nodes; i++) r->one[i] = -1;
  for (int i = 0; i < model->n_nodes; i++) {
    for (int k = 0; k < model->nodes[i].n_inputs; k++) {
      r->count[model->nodes[i].inputs[k].node]++;
      r->one[model->nodes[i].inputs[k].node] = i;
    }
  }
  return CPOSE_OK;
}

/* Its filter: a constant of rank 4 (HWIO), with at most a bias after it. NULL when it is not. */
static const nn_tensor *conv_filter(const cpose_model *model, int node) {
  const nn_node *n = &model->nodes[node];
  if (n->n_inputs < 2 || n->n_inputs > 3 || model->kinds[n->inputs[1].node] != NN_NODE_CONST) return NULL;
  const nn_tensor *w = &model->values[n->inputs[1].node];
  return w->rank == 4 && w->dtype == NN_F32 ? w : NULL;
}

/* The activation is a clamp (the banded kernels have no Elu). */
static bool clamped(const nn_node *n) {
  return ((const nn_conv_params *)n->params)->activation != NN_CONV_ACT_ELU;
}

/* A 1x1 stride-1 Conv2D or _FusedConv2D that the block's GEMM can run. */
static bool is_pointwise(const cpose_model *model, int node) {
  if (!is_type(model, node, "_FusedConv2D") && !is_type(model, node, "Conv2D")) return false;
  const nn_conv_params *p = model->nodes[node].params;
  const nn_tensor *w = conv_filter(model, node);
  return w && w->dims[0] == 1 && w->dims[1] == 1 && p->stride_h == 1 && p->stride_w == 1 &&
         clamped(&model->nodes[node]);
}

/* A depthwise convolution that the banded kernels run: 3x3 or 5x5, stride 1 or 2, multiplier 1. */
static bool is_banded_depthwise(const cpose_model *model, int node) {
  if (!is_type(model, node, "FusedDepthwiseConv2dNative") && !is_type(model, node, "DepthwiseConv2dNative")) {
    return false;
  }
  const nn_conv_params *p = model->nodes[node].params;
  const nn_tensor *w = conv_filter(model, node);
  return w && w->dims[0] == w->dims[1] && (w->dims[0] == 3 || w->dims[0] == 5) && w->dims[3] == 1 &&
         p->stride_h == p->stride_w && (p->stride_h == 1 || p->stride_h == 2) && p->dilation_h == 1 &&
         p->dilation_w == 1 && clamped(&model->nodes[node]);
}

/* A pointwise convolution of a banded depthwise one that nothing else reads: the end of a block. */
static bool projects_depthwise(const cpose_model *model, const nn_readers *r, int node) {
  if (!is_pointwise(model, node)) return false;
  int depthwise = model->nodes[node].inputs[0].node;
  return is_banded_depthwise(model, depthwise) && r->count[depthwise] == 1;
}

/* Node `node` ends a block: it projects a depthwise convolution (projects_depthwise), or it is a banded
 * depthwise convolution that no such projection reads. The block starts with the pointwise convolution
 * before the depthwise one when only that reads it and it ends no block of its own. At least two parts. */
static bool match_conv_block(const cpose_model *model, const nn_readers *r, int node,
                             nn_conv_block_params *b) {
  memset(b, 0, sizeof *b);
  int depthwise = node;
  if (projects_depthwise(model, r, node)) {
    depthwise = model->nodes[node].inputs[0].node;
    b->parts[NN_BLOCK_PROJECT] = &model->nodes[node];
  } else if (!is_banded_depthwise(model, node) ||
             (r->count[node] == 1 && projects_depthwise(model, r, r->one[node]))) {
    return false;
  }
  b->parts[NN_BLOCK_DEPTHWISE] = &model->nodes[depthwise];
  int expand = model->nodes[depthwise].inputs[0].node;
  if (is_pointwise(model, expand) && r->count[expand] == 1 && !projects_depthwise(model, r, expand)) {
    b->parts[NN_BLOCK_EXPAND] = &model->nodes[expand];
  }
  return b->parts[NN_BLOCK_EXPAND] || b->parts[NN_BLOCK_PROJECT];
}

/* The block's inputs: the first part's x, then each part's inputs after its first. */
static int block_inputs(const nn_conv_block_params *b, nn_ref *inputs) {
  int n = 0;
  for (int k = 0; k < NN_BLOCK_PARTS; k++) {
    const nn_node *part = b->parts[k];
    if (!part) continue;
    if (n == 0) inputs[n++] = part->inputs[0];
    for (int i = 1; i < part->n_inputs; i++) inputs[n++] = part->inputs[i];
  }
  return n;
}

static cpose_status fuse_conv_blocks(nn_fusion *f, const cpose_model *model, const nn_node **defs) {
  nn_readers r;
  cpose_status status = find_readers(model, &r);
  for (int i = 0; i < model->n_nodes && status == CPOSE_OK; i++) {
    nn_conv_block_params b;
    if (defs[i] != &model->nodes[i] || !match_conv_block(model, &r, i, &b)) continue;
    nn_ref inputs[7]; /* x, then at most a filter and a bias per part */
    int n_inputs = block_inputs(&b, inputs);
    status = replace(f, model, defs, i, &nn_op_conv_block, inputs, n_inputs, &b, sizeof b);
  }
  cpose_free(r.count);
  cpose_free(r.one);
  return status;
}

cpose_status nn_fuse(const cpose_model *model, bool conv_blocks, const nn_node **defs,
                     nn_fusion **fusion_out) {
  int n = model->n_nodes;
  nn_fusion *f = cpose_calloc(1, sizeof *f + (size_t)n * sizeof f->nodes[0]);
  if (!f) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for fusion");
  cpose_status status = CPOSE_OK;
  for (int i = 0; i < n && status == CPOSE_OK; i++) {
    nn_ref x;
    nn_hard_swish_params swish;
    nn_keep_peaks_params peaks;
    if (match_hard_swish(model, i, &x, &swish)) {
      status = replace(f, model, defs, i, &nn_op_hard_swish, &x, 1, &swish, sizeof swish);
    } else if (match_keep_peaks(model, i, &x, &peaks)) {
      status = replace(f, model, defs, i, &nn_op_keep_peaks, &x, 1, &peaks, sizeof peaks);
    }
  }
  if (status == CPOSE_OK && conv_blocks) status = fuse_conv_blocks(f, model, defs);
  if (status != CPOSE_OK) {
    nn_fusion_destroy(f);
    return status;
  }
  *fusion_out = f;
  return CPOSE_OK;
}

void nn_fusion_destroy(nn_fusion *f) {
  if (!f) return;
  for (int i = 0; i < f->count; i++) {
    cpose_free(f->nodes[i].params);
    cpose_free(f->nodes[i].inputs);
  }
  cpose_free(f);
}
