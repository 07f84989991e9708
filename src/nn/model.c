/*
 * Loading a TF.js graph model: model.json (a TensorFlow GraphDef in JSON under "modelTopology", the weight
 * layout under "weightsManifest", the signature) plus the weight shards, concatenated in manifest order.
 *
 * Everything read from the files is checked before it is used: JSON structure, names, shapes against the
 * element cap, every weight's byte range against the shards' size, dtypes, ops, references between nodes,
 * and the absence of cycles. A failure names the file part and the values that were wrong.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "nn/model.h"

#define MODEL_MAX_JSON_BYTES ((size_t)256 << 20)
#define MODEL_MAX_WEIGHT_BYTES ((size_t)2 << 30)
#define MODEL_MAX_NODES 100000
#define MODEL_MAX_SHARDS 1024

/* ---- small JSON readers ------------------------------------------------------------------------------- */

static const cJSON *json_get(const cJSON *object, const char *key) {
  return cJSON_IsObject(object) ? cJSON_GetObjectItemCaseSensitive(object, key) : NULL;
}

static const char *json_string(const cJSON *object, const char *key) {
  const cJSON *item = json_get(object, key);
  return cJSON_IsString(item) ? item->valuestring : NULL;
}


/* A JSON array of integers as a shape; `what` names it in errors. */
static cpose_status json_shape(const cJSON *array, const char *what, nn_tensor *t) {
  if (!cJSON_IsArray(array)) return cpose_fail(CPOSE_ERR_PARSE, "%s: shape is not an array", what);
  int rank = cJSON_GetArraySize(array);
  if (rank > NN_MAX_RANK) return cpose_fail(CPOSE_ERR_LIMIT, "%s: rank %d is above %d", what, rank, NN_MAX_RANK);
  int64_t dims[NN_MAX_RANK];
  int i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, array) {
    if (!cpose_json_int64(item, &dims[i])) return cpose_fail(CPOSE_ERR_PARSE, "%s: dim %d is not an integer", what, i);
    i++;
  }
  return nn_set_shape(NULL, t, rank, dims) == CPOSE_OK ? CPOSE_OK : cpose_fail_context(CPOSE_ERR_LIMIT, "%s", what);
}

/* A TensorShapeProto in JSON ({"dim": [{"size": "1"}, ...]} or {"unknownRank": true}); unknown dims -1. */
static cpose_status json_tensor_shape(const cJSON *proto, const char *what, nn_tensor *t) {
  t->rank = -1;
  if (!proto || cJSON_IsTrue(json_get(proto, "unknownRank"))) return CPOSE_OK;
  const cJSON *dims = json_get(proto, "dim");
  t->rank = 0;
  if (!dims) return CPOSE_OK; /* a scalar */
  if (!cJSON_IsArray(dims) || cJSON_GetArraySize(dims) > NN_MAX_RANK) {
    return cpose_fail(CPOSE_ERR_PARSE, "%s: malformed tensor shape", what);
  }
  const cJSON *dim;
  cJSON_ArrayForEach(dim, dims) {
    int64_t size = 0; /* proto3 omits a zero size */
    const cJSON *size_item = json_get(dim, "size");
    if (size_item && !cpose_json_int64(size_item, &size)) {
      return cpose_fail(CPOSE_ERR_PARSE, "%s: dim %d is not an integer", what, t->rank);
    }
    if (size < -1 || size > NN_MAX_ELEMENTS) {
      return cpose_fail(CPOSE_ERR_LIMIT, "%s: dim %d is %lld", what, t->rank, (long long)size);
    }
    t->dims[t->rank++] = size;
  }
  return CPOSE_OK;
}

/* ---- names ---------------------------------------------------------------------------------------------- */

static int compare_names(const void *a, const void *b) {
  return strcmp(((const nn_name_index *)a)->name, ((const nn_name_index *)b)->name);
}

int nn_model_find(const cpose_model *model, const char *name) {
  nn_name_index key = {name, -1};
  const nn_name_index *hit = bsearch(&key, model->by_name, (size_t)model->n_nodes, sizeof key, compare_names);
  return hit ? hit->node : -1;
}

/* Splits "name:k" into the name (copied into buf) and k; a name without ":digits" has k = 0. */
static bool split_tensor_name(const char *tensor_name, char *buf, size_t cap, int *index) {
  size_t n = strlen(tensor_name);
  if (n == 0 || n >= cap) return false;
  memcpy(buf, tensor_name, n + 1);
  *index = 0;
  char *colon = strrchr(buf, ':');
  if (!colon || !colon[1]) return true;
  char *end = NULL;
  errno = 0;
  long k = strtol(colon + 1, &end, 10);
  if (*end) return true; /* not an index: part of the name */
  if (errno || k < 0 || k > 1 << 20) return false;
  *colon = '\0';
  *index = (int)k;
  return true;
}

cpose_status nn_model_resolve(const cpose_model *model, const char *tensor_name, nn_ref *ref_out) {
  char name[1024];
  int index;
  if (!split_tensor_name(tensor_name, name, sizeof name, &index)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "'%s' is not a tensor name", tensor_name);
  }
  int node = nn_model_find(model, name);
  if (node < 0) return cpose_fail(CPOSE_ERR_NOT_FOUND, "the model has no node '%s'", name);
  if (index >= model->nodes[node].n_outputs) {
    return cpose_fail(CPOSE_ERR_NOT_FOUND, "node '%s' has %d output(s); there is no output %d", name,
                      model->nodes[node].n_outputs, index);
  }
  ref_out->node = node;
  ref_out->index = index;
  return CPOSE_OK;
}

/* ---- weights ---------------------------------------------------------------------------------------- */

typedef enum weight_storage { STORE_F32, STORE_I32, STORE_BOOL, STORE_F16, STORE_U8, STORE_U16 } weight_storage;

typedef struct weight_spec {
  const char *name;
  nn_tensor tensor; /* dtype, shape; data set when decoded */
  weight_storage storage;
  float scale, min; /* uint8/uint16 quantization: value = q * scale + min */
  size_t offset;    /* in the concatenated shards */
  size_t stored_bytes;
} weight_spec;

static size_t storage_size(weight_storage s) {
  switch (s) {
    case STORE_F32: case STORE_I32: return 4;
    case STORE_F16: case STORE_U16: return 2;
    case STORE_BOOL: case STORE_U8: return 1;
  }
  return 0;
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else { /* subnormal: normalize */
      int e = -1;
      do {
        e++;
        mantissa <<= 1;
      } while (!(mantissa & 0x400));
      bits = sign | (uint32_t)(127 - 15 - e) << 23 | (mantissa & 0x3ff) << 13;
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | mantissa << 13;
  } else {
    bits = sign | (exponent - 15 + 127) << 23 | mantissa << 13;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Reads one manifest weight entry's name, dtype, shape and quantization. */
static cpose_status parse_weight_spec(const cJSON *entry, weight_spec *spec) {
  memset(spec, 0, sizeof *spec);
  spec->name = json_string(entry, "name");
  if (!spec->name) return cpose_fail(CPOSE_ERR_PARSE, "weightsManifest: a weight has no name");
  const char *dtype = json_string(entry, "dtype");
  if (!dtype) return cpose_fail(CPOSE_ERR_PARSE, "weight '%s': no dtype", spec->name);
  if (strcmp(dtype, "float32") == 0) {
    spec->tensor.dtype = NN_F32, spec->storage = STORE_F32;
  } else if (strcmp(dtype, "int32") == 0) {
    spec->tensor.dtype = NN_I32, spec->storage = STORE_I32;
  } else if (strcmp(dtype, "bool") == 0) {
    spec->tensor.dtype = NN_BOOL, spec->storage = STORE_BOOL;
  } else {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "weight '%s': dtype '%s' is not float32, int32 or bool", spec->name,
                      dtype);
  }
  cpose_status status = json_shape(json_get(entry, "shape"), spec->name, &spec->tensor);
  if (status != CPOSE_OK) return cpose_fail_context(status, "weight '%s'", spec->name);
  const cJSON *quant = json_get(entry, "quantization");
  if (!quant) return CPOSE_OK;
  const char *qtype = json_string(quant, "dtype");
  if (!qtype) return cpose_fail(CPOSE_ERR_PARSE, "weight '%s': quantization has no dtype", spec->name);
  const bool float16 = strcmp(qtype, "float16") == 0;
  if (!float16 && strcmp(qtype, "uint8") != 0 && strcmp(qtype, "uint16") != 0) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "weight '%s': quantization dtype '%s' is not float16, uint8 or uint16",
                      spec->name, qtype);
  }
  /* As in TF.js: float16 stores float32 weights; uint8 and uint16 store float32 or int32 ones. decode_weight
   * writes 4-byte values for all of these, so a quantized bool (1 byte per element) must not get there. */
  if (spec->tensor.dtype != NN_F32 && (float16 || spec->tensor.dtype != NN_I32)) {
    return cpose_fail(CPOSE_ERR_UNSUPPORTED, "weight '%s': %s quantization is only for %s weights, not %s",
                      spec->name, qtype, float16 ? "float32" : "float32 and int32", dtype);
  }
  if (float16) {
    spec->storage = STORE_F16;
    return CPOSE_OK;
  }
  spec->storage = qtype[4] == '8' ? STORE_U8 : STORE_U16;
  const cJSON *scale = json_get(quant, "scale"), *min = json_get(quant, "min");
  if (!cJSON_IsNumber(scale) || !cJSON_IsNumber(min) || !isfinite(scale->valuedouble) ||
      !isfinite(min->valuedouble)) {
    return cpose_fail(CPOSE_ERR_PARSE, "weight '%s': %s quantization needs numeric scale and min", spec->name, qtype);
  }
  spec->scale = (float)scale->valuedouble;
  spec->min = (float)min->valuedouble;
  return CPOSE_OK;
}

/* Converts one weight from its stored form at `src` into `dst` (float32 / int32 / bool). */
static void decode_weight(const weight_spec *spec, const uint8_t *src, void *dst) {
  int64_t n = nn_numel(&spec->tensor);
  float *f = dst;
  for (int64_t i = 0; i < n; i++) {
    switch (spec->storage) {
      case STORE_F32: case STORE_I32: memcpy((uint8_t *)dst + 4 * i, src + 4 * i, 4); break;
      case STORE_BOOL: ((uint8_t *)dst)[i] = src[i] != 0; break;
      case STORE_F16: f[i] = half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8)); break;
      case STORE_U8:
        if (spec->tensor.dtype == NN_F32) f[i] = src[i] * spec->scale + spec->min;
        else ((int32_t *)dst)[i] = (int32_t)lroundf(src[i] * spec->scale + spec->min);
        break;
      case STORE_U16: {
        float v = (float)(src[2 * i] | src[2 * i + 1] << 8) * spec->scale + spec->min;
        if (spec->tensor.dtype == NN_F32) f[i] = v;
        else ((int32_t *)dst)[i] = (int32_t)lroundf(v);
        break;
      }
    }
  }
}

/* Collects every manifest weight in order with its byte range, checked against `weights_size`. */
static cpose_status parse_manifest(const cJSON *manifest, size_t weights_size, weight_spec **specs_out,
                                   int *count_out) {
  if (!cJSON_IsArray(manifest)) return cpose_fail(CPOSE_ERR_PARSE, "weightsManifest is missing or not an array");
  int count = 0;
  const cJSON *group, *entry;
  cJSON_ArrayForEach(group, manifest) {
    const cJSON *weights = json_get(group, "weights");
    if (!cJSON_IsArray(weights)) return cpose_fail(CPOSE_ERR_PARSE, "weightsManifest: a group has no weights array");
    count += cJSON_GetArraySize(weights);
    if (count > MODEL_MAX_NODES) return cpose_fail(CPOSE_ERR_LIMIT, "weightsManifest lists over %d weights", MODEL_MAX_NODES);
  }
  weight_spec *specs = cpose_calloc((size_t)count + 1, sizeof *specs);
  if (!specs) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for %d weight entries", count);
  size_t offset = 0;
  int i = 0;
  cpose_status status = CPOSE_OK;
  cJSON_ArrayForEach(group, manifest) {
    cJSON_ArrayForEach(entry, json_get(group, "weights")) {
      status = parse_weight_spec(entry, &specs[i]);
      if (status != CPOSE_OK) goto error;
      specs[i].offset = offset;
      specs[i].stored_bytes = (size_t)nn_numel(&specs[i].tensor) * storage_size(specs[i].storage);
      if (specs[i].stored_bytes > weights_size - offset || offset > weights_size) {
        status = cpose_fail(CPOSE_ERR_PARSE, "weight '%s' needs bytes %zu..%zu, the weight shards end after %zu bytes",
                            specs[i].name, offset, offset + specs[i].stored_bytes, weights_size);
        goto error;
      }
      offset += specs[i].stored_bytes;
      i++;
    }
  }
  *specs_out = specs;
  *count_out = count;
  return CPOSE_OK;
error:
  cpose_free(specs);
  return status;
}

/* ---- nodes --------------------------------------------------------------------------------------------- */

static void free_nodes(nn_node *nodes, int n) {
  for (int i = 0; nodes && i < n; i++) {
    cpose_free(nodes[i].name);
    cpose_free(nodes[i].inputs);
    cpose_free(nodes[i].params);
  }
  cpose_free(nodes);
}

void cpose_model_destroy(cpose_model *model) {
  if (!model) return;
  free_nodes(model->nodes, model->n_nodes);
  cpose_free(model->kinds);
  cpose_free(model->values);
  cpose_free_aligned(model->weights);
  cpose_free(model->by_name);
  for (int i = 0; i < model->n_inputs; i++) cpose_free(model->inputs[i].name);
  for (int i = 0; i < model->n_outputs; i++) cpose_free(model->outputs[i].name);
  cpose_free(model->inputs);
  cpose_free(model->outputs);
  cpose_free(model);
}

/* Reads one NodeDef's name, op and attributes; input names are resolved later (`input_names`). */
static cpose_status parse_node(cpose_model *model, int i, const cJSON *def) {
  nn_node *node = &model->nodes[i];
  const char *name = json_string(def, "name"), *op = json_string(def, "op");
  if (!name || !name[0]) return cpose_fail(CPOSE_ERR_PARSE, "modelTopology: node %d has no name", i);
  if (!op) return cpose_fail(CPOSE_ERR_PARSE, "modelTopology: node '%s' has no op", name);
  node->name = cpose_strdup(name);
  if (!node->name) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for node names");
  node->n_outputs = 1;
  const cJSON *attr = json_get(def, "attr");
  if (strcmp(op, "Const") == 0) {
    model->kinds[i] = NN_NODE_CONST;
    return nn_attr_type(node, attr, "dtype", NN_F32, &model->values[i].dtype);
  }
  if (strcmp(op, "Placeholder") == 0) {
    model->kinds[i] = NN_NODE_PLACEHOLDER;
    cpose_status status = nn_attr_type(node, attr, "dtype", NN_F32, &model->values[i].dtype);
    if (status != CPOSE_OK) return status;
    return json_tensor_shape(json_get(json_get(attr, "shape"), "shape"), name, &model->values[i]);
  }
  node->op = nn_op_find(op);
  if (!node->op) return cpose_fail(CPOSE_ERR_UNSUPPORTED, "node '%s': unknown op '%s'", name, op);
  node->params = cpose_calloc(1, node->op->params_size);
  if (!node->params) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for node '%s'", name);
  return node->op->parse ? node->op->parse(node, attr) : CPOSE_OK;
}

/* Resolves a node's input names ("name", "name:k"; "^name" control inputs are dropped) to references. */
static cpose_status resolve_inputs(cpose_model *model, int i, const cJSON *def) {
  nn_node *node = &model->nodes[i];
  const cJSON *inputs = json_get(def, "input");
  if (inputs && !cJSON_IsArray(inputs)) return cpose_fail(CPOSE_ERR_PARSE, "node '%s': input is not a list", node->name);
  int n = inputs ? cJSON_GetArraySize(inputs) : 0;
  node->inputs = cpose_calloc((size_t)n + 1, sizeof *node->inputs);
  if (!node->inputs) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for node '%s'", node->name);
  const cJSON *item;
  cJSON_ArrayForEach(item, inputs) {
    if (!cJSON_IsString(item)) return cpose_fail(CPOSE_ERR_PARSE, "node '%s': an input is not a string", node->name);
    if (item->valuestring[0] == '^') continue;
    cpose_status status = nn_model_resolve(model, item->valuestring, &node->inputs[node->n_inputs]);
    if (status != CPOSE_OK) return cpose_fail_context(CPOSE_ERR_PARSE, "node '%s'", node->name);
    node->n_inputs++;
  }
  if (model->kinds[i] != NN_NODE_OP && node->n_inputs > 0) {
    return cpose_fail(CPOSE_ERR_PARSE, "node '%s': a Const or Placeholder has no inputs, it lists %d", node->name,
                      node->n_inputs);
  }
  return CPOSE_OK;
}

static cpose_status build_name_index(cpose_model *model) {
  model->by_name = cpose_calloc((size_t)model->n_nodes + 1, sizeof *model->by_name);
  if (!model->by_name) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the node index");
  for (int i = 0; i < model->n_nodes; i++) model->by_name[i] = (nn_name_index){model->nodes[i].name, i};
  qsort(model->by_name, (size_t)model->n_nodes, sizeof *model->by_name, compare_names);
  for (int i = 1; i < model->n_nodes; i++) {
    if (strcmp(model->by_name[i - 1].name, model->by_name[i].name) == 0) {
      return cpose_fail(CPOSE_ERR_PARSE, "modelTopology: two nodes are called '%s'", model->by_name[i].name);
    }
  }
  return CPOSE_OK;
}

/* Reorders nodes so that each comes after its inputs (Kahn's algorithm); a cycle is an error. */
static cpose_status sort_topologically(cpose_model *model) {
  int n = model->n_nodes;
  cpose_status status = CPOSE_OK;
  int *pending = cpose_calloc((size_t)n + 1, sizeof *pending);   /* unplaced inputs per node */
  int *order = cpose_calloc((size_t)n + 1, sizeof *order);       /* new position -> old index */
  int *position = cpose_calloc((size_t)n + 1, sizeof *position); /* old index -> new position */
  int *first = cpose_calloc((size_t)n + 1, sizeof *first);       /* consumer lists, CSR by producer */
  int *consumers = NULL;
  nn_node *nodes = NULL;
  nn_node_kind *kinds = NULL;
  nn_tensor *values = NULL;
  if (!pending || !order || !position || !first) goto oom;
  int edges = 0;
  for (int i = 0; i < n; i++) {
    pending[i] = model->nodes[i].n_inputs;
    edges += model->nodes[i].n_inputs;
    for (int k = 0; k < model->nodes[i].n_inputs; k++) first[model->nodes[i].inputs[k].node]++;
  }
  consumers = cpose_calloc((size_t)edges + 1, sizeof *consumers);
  if (!consumers) goto oom;
  for (int i = 0, sum = 0; i <= n; i++) { /* counts -> end offsets, filled backwards below */
    int c = i < n ? first[i] : 0;
    sum += c;
    first[i] = sum;
  }
  for (int i = n - 1; i >= 0; i--) {
    for (int k = model->nodes[i].n_inputs - 1; k >= 0; k--) consumers[--first[model->nodes[i].inputs[k].node]] = i;
  }
  int placed = 0;
  for (int i = 0; i < n; i++) {
    if (pending[i] == 0) order[placed++] = i;
  }
  for (int head = 0; head < placed; head++) {
    int producer = order[head];
    for (int e = first[producer]; e < first[producer + 1]; e++) {
      if (--pending[consumers[e]] == 0) order[placed++] = consumers[e];
    }
  }
  if (placed < n) {
    for (int i = 0; i < n; i++) {
      if (pending[i] > 0) {
        status = cpose_fail(CPOSE_ERR_PARSE, "modelTopology: the graph has a cycle through node '%s'",
                            model->nodes[i].name);
        goto done;
      }
    }
  }
  nodes = cpose_calloc((size_t)n + 1, sizeof *nodes);
  kinds = cpose_calloc((size_t)n + 1, sizeof *kinds);
  values = cpose_calloc((size_t)n + 1, sizeof *values);
  if (!nodes || !kinds || !values) goto oom;
  for (int p = 0; p < n; p++) position[order[p]] = p;
  for (int p = 0; p < n; p++) {
    nodes[p] = model->nodes[order[p]];
    kinds[p] = model->kinds[order[p]];
    values[p] = model->values[order[p]];
    for (int k = 0; k < nodes[p].n_inputs; k++) nodes[p].inputs[k].node = position[nodes[p].inputs[k].node];
  }
  cpose_free(model->nodes), model->nodes = nodes, nodes = NULL;
  cpose_free(model->kinds), model->kinds = kinds, kinds = NULL;
  cpose_free(model->values), model->values = values, values = NULL;
  for (int i = 0; i < n; i++) model->by_name[i].node = position[model->by_name[i].node];
  goto done;
oom:
  status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory to sort %d nodes", n);
done:
  cpose_free(pending), cpose_free(order), cpose_free(position), cpose_free(first), cpose_free(consumers);
  cpose_free(nodes), cpose_free(kinds), cpose_free(values);
  return status;
}

/* Gives every Const node its value from the manifest, dequantized into one aligned buffer. */
static cpose_status attach_weights(cpose_model *model, const weight_spec *specs, int count, const uint8_t *data) {
  size_t total = 0;
  for (int i = 0; i < count; i++) {
    total += nn_padded_bytes(&specs[i].tensor);
    if (total > MODEL_MAX_WEIGHT_BYTES) {
      return cpose_fail(CPOSE_ERR_LIMIT, "the weights need more than %zu bytes", MODEL_MAX_WEIGHT_BYTES);
    }
  }
  model->weights = cpose_malloc_aligned(total);
  if (!model->weights) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for %zu bytes of weights", total);
  model->weights_bytes = total;
  size_t offset = 0;
  for (int i = 0; i < count; i++) {
    int node = nn_model_find(model, specs[i].name);
    if (node < 0) continue; /* a weight no node uses */
    if (model->kinds[node] != NN_NODE_CONST) {
      return cpose_fail(CPOSE_ERR_PARSE, "weight '%s' belongs to a node that is not a Const", specs[i].name);
    }
    nn_tensor *value = &model->values[node];
    if (value->data) return cpose_fail(CPOSE_ERR_PARSE, "weight '%s' is listed twice", specs[i].name);
    if (value->dtype != specs[i].tensor.dtype) {
      return cpose_fail(CPOSE_ERR_PARSE, "weight '%s' is %s in the manifest but %s in the graph", specs[i].name,
                        nn_dtype_name(specs[i].tensor.dtype), nn_dtype_name(value->dtype));
    }
    *value = specs[i].tensor;
    value->data = (uint8_t *)model->weights + offset;
    decode_weight(&specs[i], data + specs[i].offset, value->data);
    model->parameter_count += (size_t)nn_numel(value);
    offset += nn_padded_bytes(value);
  }
  for (int i = 0; i < model->n_nodes; i++) {
    if (model->kinds[i] == NN_NODE_CONST && !model->values[i].data) {
      return cpose_fail(CPOSE_ERR_PARSE, "Const node '%s' has no weight in the manifest", model->nodes[i].name);
    }
  }
  return CPOSE_OK;
}

/* ---- signature ------------------------------------------------------------------------------------------ */

static cpose_status parse_signature_side(const cJSON *side, nn_signature_entry **entries_out, int *count_out) {
  int count = cJSON_GetArraySize(side);
  nn_signature_entry *entries = cpose_calloc((size_t)count + 1, sizeof *entries);
  if (!entries) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the signature");
  *entries_out = entries;
  *count_out = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, side) {
    const char *name = json_string(item, "name");
    if (!name) name = item->string;
    if (!name) return cpose_fail(CPOSE_ERR_PARSE, "signature: an entry has no name");
    nn_signature_entry *e = &entries[(*count_out)++];
    e->name = cpose_strdup(name);
    if (!e->name) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the signature");
    cpose_status status = json_tensor_shape(json_get(item, "tensorShape"), name, &e->shape);
    if (status != CPOSE_OK) return status;
    const char *dtype = json_string(item, "dtype");
    e->shape.dtype = NN_F32;
    if (dtype && nn_dtype_from_tf(dtype, &e->shape.dtype) != CPOSE_OK) {
      return cpose_fail(CPOSE_ERR_UNSUPPORTED, "signature: '%s' has dtype %s", name, dtype);
    }
  }
  return CPOSE_OK;
}

/* Without a signature: inputs are the placeholders, outputs the op nodes nothing consumes. */
static cpose_status derive_signature(cpose_model *model) {
  int n = model->n_nodes;
  bool *consumed = cpose_calloc((size_t)n + 1, sizeof *consumed);
  model->inputs = cpose_calloc((size_t)n + 1, sizeof *model->inputs);
  model->outputs = cpose_calloc((size_t)n + 1, sizeof *model->outputs);
  cpose_status status = CPOSE_OK;
  if (!consumed || !model->inputs || !model->outputs) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the signature");
    goto done;
  }
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < model->nodes[i].n_inputs; k++) consumed[model->nodes[i].inputs[k].node] = true;
  }
  for (int i = 0; i < n && status == CPOSE_OK; i++) {
    bool input = model->kinds[i] == NN_NODE_PLACEHOLDER, output = model->kinds[i] == NN_NODE_OP && !consumed[i];
    if (!input && !output) continue;
    nn_signature_entry *e = input ? &model->inputs[model->n_inputs++] : &model->outputs[model->n_outputs++];
    e->name = cpose_strdup(model->nodes[i].name);
    e->shape = input ? model->values[i] : (nn_tensor){.dtype = NN_F32, .rank = -1};
    if (!e->name) status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the signature");
  }
done:
  cpose_free(consumed);
  return status;
}

static cpose_status parse_signature(cpose_model *model, const cJSON *signature) {
  const cJSON *inputs = json_get(signature, "inputs"), *outputs = json_get(signature, "outputs");
  if (!cJSON_IsObject(inputs) || !cJSON_IsObject(outputs)) return derive_signature(model);
  cpose_status status = parse_signature_side(inputs, &model->inputs, &model->n_inputs);
  if (status == CPOSE_OK) status = parse_signature_side(outputs, &model->outputs, &model->n_outputs);
  for (int i = 0; status == CPOSE_OK && i < model->n_inputs + model->n_outputs; i++) {
    const char *name = i < model->n_inputs ? model->inputs[i].name : model->outputs[i - model->n_inputs].name;
    nn_ref ref;
    status = nn_model_resolve(model, name, &ref);
    if (status != CPOSE_OK) status = cpose_fail_context(CPOSE_ERR_PARSE, "signature");
  }
  return status;
}

/* ---- loading --------------------------------------------------------------------------------------- */

static cpose_status build_model(const cJSON *root, const uint8_t *weights, size_t weights_size,
                                cpose_model **model_out) {
  const cJSON *topology = json_get(root, "modelTopology");
  const cJSON *defs = json_get(topology, "node");
  if (!cJSON_IsArray(defs)) return cpose_fail(CPOSE_ERR_PARSE, "modelTopology.node is missing or not an array");
  int n = cJSON_GetArraySize(defs);
  if (n == 0 || n > MODEL_MAX_NODES) {
    return cpose_fail(CPOSE_ERR_LIMIT, "modelTopology has %d nodes (allowed: 1..%d)", n, MODEL_MAX_NODES);
  }
  weight_spec *specs = NULL;
  int spec_count = 0;
  cpose_status status = CPOSE_OK;
  cpose_model *model = cpose_calloc(1, sizeof *model);
  if (!model) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the model");
  model->n_nodes = n;
  model->nodes = cpose_calloc((size_t)n, sizeof *model->nodes);
  model->kinds = cpose_calloc((size_t)n, sizeof *model->kinds);
  model->values = cpose_calloc((size_t)n, sizeof *model->values);
  if (!model->nodes || !model->kinds || !model->values) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for %d nodes", n);
    goto error;
  }
  int i = 0;
  const cJSON *def;
  cJSON_ArrayForEach(def, defs) {
    if ((status = parse_node(model, i++, def)) != CPOSE_OK) goto error;
  }
  if ((status = build_name_index(model)) != CPOSE_OK) goto error;
  i = 0;
  cJSON_ArrayForEach(def, defs) {
    if ((status = resolve_inputs(model, i++, def)) != CPOSE_OK) goto error;
  }
  if ((status = sort_topologically(model)) != CPOSE_OK) goto error;
  if ((status = parse_manifest(json_get(root, "weightsManifest"), weights_size, &specs, &spec_count)) != CPOSE_OK) {
    goto error;
  }
  if ((status = attach_weights(model, specs, spec_count, weights)) != CPOSE_OK) goto error;
  if ((status = parse_signature(model, json_get(root, "signature"))) != CPOSE_OK) goto error;
  cpose_free(specs);
  *model_out = model;
  return CPOSE_OK;
error:
  cpose_free(specs);
  cpose_model_destroy(model);
  return status;
}

static cpose_status parse_json(const char *json, size_t size, cJSON **root_out) {
  if (size > MODEL_MAX_JSON_BYTES) {
    return cpose_fail(CPOSE_ERR_LIMIT, "model.json is %zu bytes, above the cap of %zu", size, MODEL_MAX_JSON_BYTES);
  }
  cJSON *root = cJSON_ParseWithLength(json, size);
  if (!root) {
    const char *at = cJSON_GetErrorPtr();
    size_t offset = at && at >= json && at <= json + size ? (size_t)(at - json) : 0;
    return cpose_fail(CPOSE_ERR_PARSE, "model.json is not valid JSON (near byte %zu)", offset);
  }
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return cpose_fail(CPOSE_ERR_PARSE, "model.json is not a JSON object");
  }
  *root_out = root;
  return CPOSE_OK;
}

cpose_status cpose_model_load_memory(const char *json, size_t json_size, const void *weights, size_t weights_size,
                                     cpose_model **model_out) {
  if (!json || !model_out || (!weights && weights_size)) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_model_load_memory: NULL argument");
  }
  cJSON *root = NULL;
  cpose_status status = parse_json(json, json_size, &root);
  if (status != CPOSE_OK) return status;
  status = build_model(root, weights, weights_size, model_out);
  cJSON_Delete(root);
  return status;
}

/* Reads a whole file into a new buffer; CPOSE_ERR_LIMIT above `cap` bytes. */
static cpose_status read_file(const char *path, size_t cap, uint8_t **data_out, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) return cpose_fail(CPOSE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  cpose_status status = CPOSE_OK;
  uint8_t *data = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
    status = cpose_fail(CPOSE_ERR_IO, "%s: cannot determine the size", path);
  } else if ((size_t)size > cap) {
    status = cpose_fail(CPOSE_ERR_LIMIT, "%s: %ld bytes, above the cap of %zu", path, size, cap);
  } else if (!(data = cpose_malloc((size_t)size + 1))) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "%s: no memory for %ld bytes", path, size);
  } else if (fread(data, 1, (size_t)size, f) != (size_t)size) {
    status = cpose_fail(CPOSE_ERR_IO, "%s: short read", path);
  }
  fclose(f);
  if (status != CPOSE_OK) {
    cpose_free(data);
    return status;
  }
  *data_out = data;
  *size_out = (size_t)size;
  return CPOSE_OK;
}

/* A shard path from the manifest must stay inside the model's folder. */
static bool safe_shard_path(const char *p) {
  if (!p[0] || p[0] == '/' || strlen(p) > 512) return false;
  for (const char *s = p; *s; s++) {
    if ((s == p || s[-1] == '/') && s[0] == '.' && s[1] == '.' && (s[2] == '/' || s[2] == '\0')) return false;
  }
  return true;
}

/* Reads the manifest's shards (in order) from `dir` into one buffer. */
static cpose_status read_shards(const cJSON *root, const char *dir, uint8_t **data_out, size_t *size_out) {
  uint8_t *all = NULL;
  size_t total = 0;
  int shards = 0;
  const cJSON *group, *path;
  cJSON_ArrayForEach(group, json_get(root, "weightsManifest")) {
    const cJSON *paths = json_get(group, "paths");
    if (!cJSON_IsArray(paths)) {
      cpose_free(all);
      return cpose_fail(CPOSE_ERR_PARSE, "weightsManifest: a group has no paths array");
    }
    cJSON_ArrayForEach(path, paths) {
      if (!cJSON_IsString(path) || !safe_shard_path(path->valuestring) || ++shards > MODEL_MAX_SHARDS) {
        cpose_free(all);
        return cpose_fail(CPOSE_ERR_PARSE, "weightsManifest: shard path %d is not a relative path inside the model's "
                          "folder", shards);
      }
      char full[4096 + 520]; /* dir (< 4096) + '/' + path (<= 512) */
      snprintf(full, sizeof full, "%s/%s", dir, path->valuestring);
      uint8_t *data = NULL;
      size_t size = 0;
      cpose_status status = read_file(full, MODEL_MAX_WEIGHT_BYTES - total, &data, &size);
      uint8_t *grown = status == CPOSE_OK ? cpose_realloc(all, total + size + 1) : NULL;
      if (!grown) {
        cpose_free(data);
        cpose_free(all);
        return status != CPOSE_OK ? status : cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the weight shards");
      }
      all = grown;
      memcpy(all + total, data, size);
      total += size;
      cpose_free(data);
    }
  }
  *data_out = all;
  *size_out = total;
  return CPOSE_OK;
}

cpose_status cpose_model_load(const char *json_path, cpose_model **model_out) {
  if (!json_path || !model_out) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_model_load: NULL argument");
  uint8_t *json = NULL, *weights = NULL;
  size_t json_size = 0, weights_size = 0;
  cJSON *root = NULL;
  char dir[4096];
  if (strlen(json_path) >= sizeof dir) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "model path is too long");
  cpose_status status = read_file(json_path, MODEL_MAX_JSON_BYTES, &json, &json_size);
  if (status != CPOSE_OK) goto done;
  if ((status = parse_json((const char *)json, json_size, &root)) != CPOSE_OK) goto done;
  const char *slash = strrchr(json_path, '/');
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - json_path) : 1, slash ? json_path : ".");
  if ((status = read_shards(root, dir, &weights, &weights_size)) != CPOSE_OK) goto done;
  status = build_model(root, weights, weights_size, model_out);
done:
  if (status != CPOSE_OK) cpose_fail_context(status, "%s", json_path);
  cJSON_Delete(root);
  cpose_free(json);
  cpose_free(weights);
  return status;
}

/* ---- queries ------------------------------------------------------------------------------------- */

void cpose_model_summarize(const cpose_model *model, cpose_model_summary *summary_out) {
  summary_out->node_count = (size_t)model->n_nodes;
  summary_out->parameter_count = model->parameter_count;
  summary_out->input_count = (size_t)model->n_inputs;
  summary_out->output_count = (size_t)model->n_outputs;
}

static cpose_status signature_entry(const nn_signature_entry *entries, int count, size_t index,
                                    const char **name_out, cpose_tensor *shape_out) {
  if (index >= (size_t)count) {
    return cpose_fail(CPOSE_ERR_NOT_FOUND, "signature entry %zu does not exist (the model has %d)", index, count);
  }
  const nn_tensor *t = &entries[index].shape;
  *name_out = entries[index].name;
  memset(shape_out, 0, sizeof *shape_out);
  shape_out->dtype = (cpose_dtype)t->dtype;
  shape_out->rank = t->rank;
  for (int i = 0; i < t->rank; i++) shape_out->dims[i] = t->dims[i];
  return CPOSE_OK;
}

cpose_status cpose_model_input(const cpose_model *model, size_t index, const char **name_out,
                               cpose_tensor *shape_out) {
  return signature_entry(model->inputs, model->n_inputs, index, name_out, shape_out);
}

cpose_status cpose_model_output(const cpose_model *model, size_t index, const char **name_out,
                                cpose_tensor *shape_out) {
  return signature_entry(model->outputs, model->n_outputs, index, name_out, shape_out);
}

static const char *node_type(const cpose_model *model, int i) {
  switch (model->kinds[i]) {
    case NN_NODE_CONST: return "Const";
    case NN_NODE_PLACEHOLDER: return "Placeholder";
    case NN_NODE_OP: break;
  }
  return model->nodes[i].op->type;
}

void cpose_model_op_counts(const cpose_model *model, void (*visit)(const char *op, size_t count, void *user),
                           void *user) {
  for (int i = 0; i < model->n_nodes; i++) {
    const char *type = node_type(model, i);
    bool seen = false;
    size_t count = 0;
    for (int j = 0; j < model->n_nodes; j++) {
      if (strcmp(node_type(model, j), type) != 0) continue;
      if (j < i) seen = true;
      count++;
    }
    if (!seen) visit(type, count, user);
  }
}
