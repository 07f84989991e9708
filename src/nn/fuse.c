#include "nn/fuse.h"

#include <string.h>

#include "core/alloc.h"
#include "nn/ops/hard_swish.h"

extern const nn_op nn_op_hard_swish;

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

cpose_status nn_fuse(const cpose_model *model, const nn_node **defs, nn_fusion **fusion_out) {
  int n = model->n_nodes;
  nn_fusion *f = cpose_calloc(1, sizeof *f + (size_t)n * sizeof f->nodes[0]);
  if (!f) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for fusion");
  for (int i = 0; i < n; i++) {
    nn_ref x;
    nn_hard_swish_params p;
    if (!match_hard_swish(model, i, &x, &p)) continue;
    nn_node *r = &f->nodes[f->count];
    r->params = cpose_malloc(sizeof p);
    r->inputs = cpose_malloc(sizeof x);
    if (!r->params || !r->inputs) {
      cpose_free(r->params);
      cpose_free(r->inputs);
      nn_fusion_destroy(f);
      return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for fusion");
    }
    memcpy(r->params, &p, sizeof p);
    r->inputs[0] = x;
    r->n_inputs = 1;
    r->n_outputs = 1;
    r->name = model->nodes[i].name;
    r->op = &nn_op_hard_swish;
    defs[i] = r;
    f->count++;
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
