/* The loaded model, shared by model.c (loading) and session.c (planning and running). */
#ifndef CPOSE_NN_MODEL_H
#define CPOSE_NN_MODEL_H

#include "nn/nn.h"

typedef enum nn_node_kind { NN_NODE_OP = 0, NN_NODE_CONST, NN_NODE_PLACEHOLDER } nn_node_kind;

/* A signature entry: a tensor name ("Identity:0") and its declared shape (-1 where unknown). */
typedef struct nn_signature_entry {
  char *name;
  nn_tensor shape; /* data unused */
} nn_signature_entry;

/* A node name and its index, for lookup by name (sorted by name). */
typedef struct nn_name_index {
  const char *name;
  int node;
} nn_name_index;

struct cpose_model {
  int n_nodes;
  nn_node *nodes;      /* topological order: every node comes after its inputs */
  nn_node_kind *kinds; /* n_nodes */
  /* Per node: for constants, the value (data points into `weights`); for placeholders, the declared dtype
   * and shape (dims -1 where unknown, rank -1 when unknown). Unused for ops. */
  nn_tensor *values;
  void *weights; /* all constants, dequantized to float32 / int32 / bool, 64-byte aligned */
  size_t weights_bytes;
  size_t parameter_count;
  nn_name_index *by_name; /* n_nodes entries sorted by name */
  int n_inputs, n_outputs;
  nn_signature_entry *inputs, *outputs;
};

/* Index of the node called `name` (exact), or -1. */
int nn_model_find(const cpose_model *model, const char *name);

/* Parses "name" or "name:k" into a reference; CPOSE_ERR_NOT_FOUND when no such node or output. */
cpose_status nn_model_resolve(const cpose_model *model, const char *tensor_name, nn_ref *ref_out);

#endif
