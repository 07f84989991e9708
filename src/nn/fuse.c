#include "nn/fuse.h"

#include <string.h>

#include "core/alloc.h"
#include "nn/ops/cast.h"
#include "nn/ops/hard_swish.h"
#include "nn/ops/keep_peaks.h"
#include "nn/ops/max_pool.h"

extern const nn_op nn_op_hard_swish, nn_op_keep_peaks;

struct nn_fusion {
  int count;
  nn_node nodes[]; /* replacement nodes; each has one input slot and params owned here */
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
    if (!split_scalar(model, scaled, &x_scaled, &p->scale) || !split_scalar(model, add, &x_shifted, &p->shift)) {
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

/* Points defs[node] at a new replacement node: `op` on input x, with a copy of `params` (`size` bytes). */
static cpose_status replace(nn_fusion *f, const cpose_model *model, const nn_node **defs, int node,
                            const nn_op *op, nn_ref x, const void *params, size_t size) {
  nn_node *r = &f->nodes[f->count];
  r->params = cpose_malloc(size);
  r->inputs = cpose_malloc(sizeof x);
  if (!r->params || !r->inputs) {
    cpose_free(r->params);
    cpose_free(r->inputs);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for fusion");
  }
  memcpy(r->params, params, size);
  r->inputs[0] = x;
  r->n_inputs = 1;
  r->n_outputs = 1;
  r->name = model->nodes[node].name;
  r->op = op;
  defs[node] = r;
  f->count++;
  return CPOSE_OK;
}

cpose_status nn_fuse(const cpose_model *model, const nn_node **defs, nn_fusion **fusion_out) {
  int n = model->n_nodes;
  nn_fusion *f = cpose_calloc(1, sizeof *f + (size_t)n * sizeof f->nodes[0]);
  if (!f) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for fusion");
  cpose_status status = CPOSE_OK;
  for (int i = 0; i < n && status == CPOSE_OK; i++) {
    nn_ref x;
    nn_hard_swish_params swish;
    nn_keep_peaks_params peaks;
    if (match_hard_swish(model, i, &x, &swish)) {
      status = replace(f, model, defs, i, &nn_op_hard_swish, x, &swish, sizeof swish);
    } else if (match_keep_peaks(model, i, &x, &peaks)) {
      status = replace(f, model, defs, i, &nn_op_keep_peaks, x, &peaks, sizeof peaks);
    }
  }
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
