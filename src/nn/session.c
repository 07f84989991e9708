/*
 * A session turns an immutable model into something that runs, for one input shape:
 *   1. resolve the requested outputs;
 *   2. fuse patterns into single kernels (fuse.c);
 *   3. keep only the nodes the outputs need;
 *   4. infer every shape, and evaluate every node whose inputs are all constant (shape arithmetic) once;
 *   5. plan one arena for the intermediate tensors (plan.c); reshape-like ops share their input's buffer;
 *   6. create each kernel: the fast (XNNPACK) one where the op has it, the reference one otherwise.
 * Running then walks the steps in order. Nothing is allocated while running.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "nn/fuse.h"
#include "nn/model.h"
#include "nn/plan.h"

typedef struct nn_step {
  const nn_node *def;
  nn_tensor *in;  /* def->n_inputs views with final data pointers */
  nn_tensor *out; /* the node's outputs in the session's value table */
  void *fast;     /* fast kernel state; NULL runs the reference kernel */
  double total_ms; /* with profiling: time spent in this step over all runs */
} nn_step;

struct cpose_session {
  const cpose_model *model;
  pthreadpool_t pool;
  int n_nodes;
  const nn_node **defs; /* per node: the model's node, or a fused replacement from `fused` */
  nn_fusion *fused;
  nn_tensor **values;   /* per node: its outputs (shape, dtype, data) */
  nn_tensor *value_storage;
  bool *constant;       /* per node: values known at creation (weights, folded) */
  bool *needed;
  void **folded;        /* per node: buffer owned for a folded value, or NULL */
  int input_node;
  nn_step *steps;
  int n_steps;
  void *arena;
  int n_outputs;
  nn_ref *outputs;
  char **output_names;
  cpose_session_stats stats;
  bool profile;
};

cpose_session_params cpose_session_params_default(void) {
  cpose_session_params p;
  memset(&p, 0, sizeof p);
  p.backend = CPOSE_BACKEND_FAST;
  p.threads = 1;
  return p;
}

static bool is_op(const cpose_session *s, int node) {
  return s->model->kinds[node] == NN_NODE_OP;
}

/* ---- creation steps ----------------------------------------------------------------------------------- */

static cpose_status allocate_tables(cpose_session *s) {
  const cpose_model *m = s->model;
  int n = m->n_nodes, total = 0;
  for (int i = 0; i < n; i++) total += m->nodes[i].n_outputs;
  s->n_nodes = n;
  s->defs = cpose_calloc((size_t)n, sizeof *s->defs);
  s->values = cpose_calloc((size_t)n, sizeof *s->values);
  s->value_storage = cpose_calloc((size_t)total, sizeof *s->value_storage);
  s->constant = cpose_calloc((size_t)n, sizeof *s->constant);
  s->needed = cpose_calloc((size_t)n, sizeof *s->needed);
  s->folded = cpose_calloc((size_t)n, sizeof *s->folded);
  if (!s->defs || !s->values || !s->value_storage || !s->constant || !s->needed || !s->folded) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a session of %d nodes", n);
  }
  for (int i = 0, at = 0; i < n; i++) {
    s->defs[i] = &m->nodes[i];
    s->values[i] = &s->value_storage[at];
    at += m->nodes[i].n_outputs;
    if (m->kinds[i] == NN_NODE_CONST) {
      s->values[i][0] = m->values[i];
      s->constant[i] = true;
    }
  }
  return CPOSE_OK;
}

static cpose_status resolve_outputs(cpose_session *s, const cpose_session_params *params) {
  const cpose_model *m = s->model;
  bool from_params = params->outputs && params->output_count > 0;
  int n = from_params ? (int)params->output_count : m->n_outputs;
  if (n <= 0) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "no outputs requested and the model declares none");
  s->outputs = cpose_calloc((size_t)n, sizeof *s->outputs);
  s->output_names = cpose_calloc((size_t)n, sizeof *s->output_names);
  if (!s->outputs || !s->output_names) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for outputs");
  for (int i = 0; i < n; i++) {
    const char *name = from_params ? params->outputs[i] : m->outputs[i].name;
    if (!name) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "output %d has no name", i);
    s->output_names[i] = cpose_strdup(name);
    if (!s->output_names[i]) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for outputs");
    s->n_outputs = i + 1;
    cpose_status status = nn_model_resolve(m, name, &s->outputs[i]);
    if (status != CPOSE_OK) return cpose_fail_context(status, "requested output");
  }
  return CPOSE_OK;
}

/* Marks every node that a requested output depends on, following the (possibly fused) definitions. */
static void mark_needed(cpose_session *s) {
  for (int i = 0; i < s->n_outputs; i++) s->needed[s->outputs[i].node] = true;
  for (int i = s->n_nodes - 1; i >= 0; i--) {
    if (!s->needed[i]) continue;
    for (int k = 0; k < s->defs[i]->n_inputs; k++) s->needed[s->defs[i]->inputs[k].node] = true;
  }
}

/* Gives the (single) needed placeholder its shape: from params, else the declared one. */
static cpose_status shape_input(cpose_session *s, const cpose_session_params *params) {
  s->input_node = -1;
  for (int i = 0; i < s->n_nodes; i++) {
    if (!s->needed[i] || s->model->kinds[i] != NN_NODE_PLACEHOLDER) continue;
    if (s->input_node >= 0) {
      return cpose_fail(CPOSE_ERR_UNSUPPORTED, "the outputs need two inputs ('%s' and '%s'); one is supported",
                        s->model->nodes[s->input_node].name, s->model->nodes[i].name);
    }
    s->input_node = i;
    nn_tensor *t = &s->values[i][0];
    *t = s->model->values[i];
    if (params->input_rank > 0) {
      cpose_status status = nn_set_shape(s->defs[i], t, params->input_rank, params->input_dims);
      if (status != CPOSE_OK) return status;
    }
    for (int d = 0; d < t->rank; d++) {
      if (t->dims[d] < 0) {
        return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "input '%s' has an unknown dim %d: give the input shape",
                          s->model->nodes[i].name, d);
      }
    }
    if (t->rank < 0) {
      return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "input '%s' has an unknown rank: give the input shape",
                        s->model->nodes[i].name);
    }
  }
  return CPOSE_OK;
}

/* The inputs of node i as tensors (views of their producers' values). `in` has room for n_inputs. */
static bool gather_inputs(const cpose_session *s, int i, nn_tensor *in) {
  bool all_constant = true;
  const nn_node *def = s->defs[i];
  for (int k = 0; k < def->n_inputs; k++) {
    nn_ref r = def->inputs[k];
    in[k] = s->values[r.node][r.index];
    all_constant = all_constant && s->constant[r.node];
  }
  return all_constant;
}

/* Evaluates a node whose inputs are all constant, once, into buffers the session owns. */
static cpose_status fold(cpose_session *s, int i, const nn_tensor *in) {
  const nn_node *def = s->defs[i];
  nn_tensor *out = s->values[i];
  s->constant[i] = true;
  if (def->op->alias) {
    out[0].data = in[0].data;
    return CPOSE_OK;
  }
  size_t total = 0;
  for (int k = 0; k < def->n_outputs; k++) total += nn_padded_bytes(&out[k]);
  uint8_t *buffer = cpose_malloc_aligned(total);
  if (!buffer) return nn_node_fail(def, CPOSE_ERR_OUT_OF_MEMORY, "no memory to fold %zu bytes", total);
  s->folded[i] = buffer;
  for (int k = 0; k < def->n_outputs; k++) {
    out[k].data = buffer;
    buffer += nn_padded_bytes(&out[k]);
  }
  return def->op->run(def, in, out);
}

static cpose_status infer_and_fold(cpose_session *s) {
  nn_tensor in[64];
  for (int i = 0; i < s->n_nodes; i++) {
    if (!s->needed[i] || !is_op(s, i)) continue;
    const nn_node *def = s->defs[i];
    if (def->n_inputs > 64) return nn_node_fail(def, CPOSE_ERR_LIMIT, "%d inputs (at most 64)", def->n_inputs);
    bool all_constant = gather_inputs(s, i, in);
    cpose_status status = def->op->infer(def, in, s->values[i]);
    if (status != CPOSE_OK) return status;
    if (all_constant && (status = fold(s, i, in)) != CPOSE_OK) return status;
  }
  return CPOSE_OK;
}

/* The value whose storage `r` uses: itself, or (through alias ops) the value it reinterprets. */
static nn_ref storage_root(const cpose_session *s, nn_ref r) {
  while (is_op(s, r.node) && s->defs[r.node]->op->alias && !s->constant[r.node]) r = s->defs[r.node]->inputs[0];
  return r;
}

static bool has_own_buffer(const cpose_session *s, int i) {
  return s->needed[i] && !s->constant[i] && storage_root(s, (nn_ref){i, 0}).node == i;
}

/* Lifetimes in node positions: a buffer lives from its producer to its last reader; outputs to the end. */
static cpose_status plan_memory(cpose_session *s) {
  int n = s->n_nodes;
  int *buffer_of = cpose_calloc((size_t)n, sizeof *buffer_of);
  nn_buffer *buffers = cpose_calloc((size_t)n, sizeof *buffers);
  cpose_status status = CPOSE_OK;
  if (!buffer_of || !buffers) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory to plan %d nodes", n);
    goto done;
  }
  int count = 0;
  for (int i = 0; i < n; i++) {
    buffer_of[i] = -1;
    if (!has_own_buffer(s, i)) continue;
    size_t bytes = 0;
    for (int k = 0; k < s->defs[i]->n_outputs; k++) bytes += nn_padded_bytes(&s->values[i][k]);
    buffers[count] = (nn_buffer){.size = bytes, .first = i, .last = i};
    buffer_of[i] = count++;
    s->stats.naive_bytes += bytes;
  }
  for (int i = 0; i < n; i++) {
    if (!s->needed[i] || s->constant[i] || !is_op(s, i)) continue;
    for (int k = 0; k < s->defs[i]->n_inputs; k++) {
      int root = storage_root(s, s->defs[i]->inputs[k]).node;
      if (buffer_of[root] >= 0 && buffers[buffer_of[root]].last < i) buffers[buffer_of[root]].last = i;
    }
  }
  for (int i = 0; i < s->n_outputs; i++) {
    int root = storage_root(s, s->outputs[i]).node;
    if (buffer_of[root] >= 0) buffers[buffer_of[root]].last = n;
  }
  if ((status = nn_plan_arena(buffers, count, &s->stats.arena_bytes)) != CPOSE_OK) goto done;
  s->arena = cpose_malloc_aligned(s->stats.arena_bytes);
  if (!s->arena) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for an arena of %zu bytes", s->stats.arena_bytes);
    goto done;
  }
  for (int i = 0; i < n; i++) { /* topological order: an alias's root already has its pointer */
    if (!s->needed[i] || s->constant[i]) continue;
    if (buffer_of[i] < 0) {
      nn_ref root = storage_root(s, (nn_ref){i, 0});
      s->values[i][0].data = s->values[root.node][root.index].data;
      continue;
    }
    uint8_t *p = (uint8_t *)s->arena + buffers[buffer_of[i]].offset;
    for (int k = 0; k < s->defs[i]->n_outputs; k++) {
      s->values[i][k].data = p;
      p += nn_padded_bytes(&s->values[i][k]);
    }
  }
done:
  cpose_free(buffer_of);
  cpose_free(buffers);
  return status;
}

/* One step per node that computes something at run time; fast kernels where the op has one. */
static cpose_status create_steps(cpose_session *s, cpose_backend backend) {
  s->steps = cpose_calloc((size_t)s->n_nodes, sizeof *s->steps);
  if (!s->steps) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the steps");
  for (int i = 0; i < s->n_nodes; i++) {
    if (!s->needed[i] || s->constant[i] || !is_op(s, i) || s->defs[i]->op->alias) continue;
    const nn_node *def = s->defs[i];
    nn_step *step = &s->steps[s->n_steps++];
    step->def = def;
    step->out = s->values[i];
    step->in = cpose_calloc((size_t)def->n_inputs + 1, sizeof *step->in);
    if (!step->in) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the steps");
    gather_inputs(s, i, step->in);
    if (def->op->flops) s->stats.flops += def->op->flops(def, step->in, step->out);
    if (backend != CPOSE_BACKEND_FAST || !def->op->fast_create) continue;
    cpose_status status = def->op->fast_create(def, step->in, step->out, s->pool, &step->fast);
    if (status == CPOSE_ERR_UNSUPPORTED) {
      step->fast = NULL; /* this case has no fast kernel: the reference one runs */
      cpose_error_clear();
      continue;
    }
    if (status != CPOSE_OK) return status;
    s->stats.fast_kernel_count++;
  }
  s->stats.kernel_count = (size_t)s->n_steps;
  return CPOSE_OK;
}

cpose_status cpose_session_create(const cpose_model *model, const cpose_session_params *params,
                                  cpose_session **session_out) {
  if (!model || !params || !session_out) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_session_create: NULL argument");
  }
  if (params->threads < 1 || params->threads > 256) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "threads must be 1..256, not %d", params->threads);
  }
  if (params->input_rank < 0 || params->input_rank > CPOSE_MAX_RANK) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "input rank must be 0..%d, not %d", CPOSE_MAX_RANK,
                      params->input_rank);
  }
  cpose_session *s = cpose_calloc(1, sizeof *s);
  if (!s) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a session");
  s->model = model;
  s->profile = params->profile != 0;
  cpose_status status = CPOSE_OK;
  if (params->threads > 1 && !(s->pool = pthreadpool_create((size_t)params->threads))) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "cannot create a pool of %d threads", params->threads);
    goto error;
  }
  if ((status = allocate_tables(s)) != CPOSE_OK) goto error;
  if ((status = resolve_outputs(s, params)) != CPOSE_OK) goto error;
  if ((status = nn_fuse(model, s->defs, &s->fused)) != CPOSE_OK) goto error;
  mark_needed(s);
  if ((status = shape_input(s, params)) != CPOSE_OK) goto error;
  if ((status = infer_and_fold(s)) != CPOSE_OK) goto error;
  if ((status = plan_memory(s)) != CPOSE_OK) goto error;
  if ((status = create_steps(s, params->backend)) != CPOSE_OK) goto error;
  *session_out = s;
  return CPOSE_OK;
error:
  cpose_session_destroy(s);
  return status;
}

void cpose_session_destroy(cpose_session *s) {
  if (!s) return;
  for (int i = 0; s->steps && i < s->n_steps; i++) {
    if (s->steps[i].fast) s->steps[i].def->op->fast_destroy(s->steps[i].fast);
    cpose_free(s->steps[i].in);
  }
  cpose_free(s->steps);
  for (int i = 0; s->folded && i < s->n_nodes; i++) cpose_free_aligned(s->folded[i]);
  for (int i = 0; s->output_names && i < s->n_outputs; i++) cpose_free(s->output_names[i]);
  cpose_free(s->output_names);
  cpose_free(s->outputs);
  cpose_free_aligned(s->arena);
  nn_fusion_destroy(s->fused);
  cpose_free(s->defs), cpose_free(s->values), cpose_free(s->value_storage);
  cpose_free(s->constant), cpose_free(s->needed), cpose_free(s->folded);
  if (s->pool) pthreadpool_destroy(s->pool);
  cpose_free(s);
}

/* ---- running ---------------------------------------------------------------------------------------- */

static cpose_status write_input(cpose_session *s, const float *input, size_t count) {
  if (s->input_node < 0) return CPOSE_OK; /* the outputs need no input */
  nn_tensor *t = &s->values[s->input_node][0];
  if (!input || count != (size_t)nn_numel(t)) {
    char shape[96];
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "input '%s' %s needs %lld values, got %zu",
                      s->model->nodes[s->input_node].name, nn_shape_string(t, shape, sizeof shape),
                      (long long)nn_numel(t), count);
  }
  for (size_t i = 0; i < count; i++) {
    switch (t->dtype) {
      case NN_F32: ((float *)t->data)[i] = input[i]; break;
      case NN_I32: ((int32_t *)t->data)[i] = (int32_t)input[i]; break;
      case NN_BOOL: ((uint8_t *)t->data)[i] = input[i] != 0.0f; break;
    }
  }
  return CPOSE_OK;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static cpose_status run_step(const cpose_session *s, const nn_step *step) {
  if (step->fast) return step->def->op->fast_run(step->fast, s->pool);
  return step->def->op->run(step->def, step->in, step->out);
}

cpose_status cpose_session_run(cpose_session *s, const float *input, size_t count) {
  if (!s) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_session_run: NULL session");
  cpose_status status = write_input(s, input, count);
  for (int i = 0; status == CPOSE_OK && i < s->n_steps; i++) {
    nn_step *step = &s->steps[i];
    double start = s->profile ? now_ms() : 0;
    status = run_step(s, step);
    if (s->profile) step->total_ms += now_ms() - start;
    if (status != CPOSE_OK) status = cpose_fail_context(status, "running node '%s'", step->def->name);
  }
  return status;
}

void cpose_session_profile(const cpose_session *s,
                           void (*visit)(const char *node, const char *op, int fast, double total_ms, void *user),
                           void *user) {
  for (int i = 0; i < s->n_steps; i++) {
    const nn_step *step = &s->steps[i];
    visit(step->def->name, step->def->op->type, step->fast != NULL, step->total_ms, user);
  }
}

size_t cpose_session_output_count(const cpose_session *s) {
  return (size_t)s->n_outputs;
}

const char *cpose_session_output_name(const cpose_session *s, size_t index) {
  return index < (size_t)s->n_outputs ? s->output_names[index] : NULL;
}

cpose_status cpose_session_output(const cpose_session *s, size_t index, cpose_tensor *tensor_out) {
  if (index >= (size_t)s->n_outputs) {
    return cpose_fail(CPOSE_ERR_NOT_FOUND, "output %zu does not exist (the session has %d)", index, s->n_outputs);
  }
  const nn_tensor *t = &s->values[s->outputs[index].node][s->outputs[index].index];
  memset(tensor_out, 0, sizeof *tensor_out);
  tensor_out->dtype = (cpose_dtype)t->dtype;
  tensor_out->rank = t->rank;
  for (int i = 0; i < t->rank; i++) tensor_out->dims[i] = t->dims[i];
  tensor_out->data = t->data;
  return CPOSE_OK;
}

void cpose_session_get_stats(const cpose_session *s, cpose_session_stats *stats_out) {
  *stats_out = s->stats;
}
