/*
 * A session turns an immutable model into something that runs, for one input shape:
 *   1. resolve the requested outputs;
 *   2. fuse patterns into single kernels (fuse.c);
 *   3. keep only the nodes the outputs need;
 *   4. infer every shape, and evaluate every node whose inputs are all constant (shape arithmetic) once;
 *   5. order the nodes that run so that each value is read soon after it is written (schedule);
 *   6. on the fast backend, let the producers of a channel concatenation write their slices of it directly;
 *   7. plan one arena for the intermediate tensors (plan.c); reshape-like ops share their input's buffer,
 *      element-wise ops may write over an input they read last;
 *   8. create each kernel: the fast (XNNPACK) one where the op has it, the reference one otherwise.
 * Running then walks the steps in order, on the thread pool or, while the pool's cores are contended, on the
 * calling thread (core/threadpool.h). Nothing is allocated while running.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/threadpool.h"
#include "nn/fuse.h"
#include "nn/gemm.h"
#include "nn/model.h"
#include "nn/plan.h"
#include "nn/xnn.h"

typedef struct nn_step {
  const nn_node *def;
  nn_tensor *in;  /* def->n_inputs views with final data pointers */
  nn_tensor *out; /* the node's outputs in the session's value table */
  void *fast;     /* fast kernel state; NULL runs the reference kernel */
  double total_ms; /* with profiling: time spent in this step over all runs */
  double flops;    /* of one run (nn_op.flops; 0 without) */
} nn_step;

struct cpose_session {
  const cpose_model *model;
  cpose_threadpool *pool;        /* params.pool (borrowed) or owned_pool */
  cpose_threadpool *owned_pool;  /* the pool the session made for params.threads, if any */
  bool fixed_threads;            /* params.fixed_threads: every run on the pool, no fallback */
  cpose_pool_history history;    /* this session's run times, for the pool's fallback policy */
  int n_nodes;
  const nn_node **defs; /* per node: the model's node, or a fused replacement from `fused` */
  nn_fusion *fused;
  nn_tensor **values;   /* per node: its outputs (shape, dtype, data) */
  nn_tensor *value_storage;
  bool *constant;       /* per node: values known at creation (weights, folded) */
  bool *needed;
  void **folded;        /* per node: buffer owned for a folded value, or NULL */
  int n_order;
  int *order;        /* the nodes that compute at run time (aliases too), in run order */
  int *position;     /* per node: its index in `order`, the time the arena planner sees */
  bool *joined;      /* per node: its output is written by its inputs' producers; it runs no kernel */
  int *slice_of;     /* per node: the joined node whose output it writes a slice of, or -1 */
  int64_t *slice_at; /* per node with slice_of: the slice's first element in a row of that output */
  int input_node;
  nn_step *steps;
  int n_steps;
  void *arena;
  int n_outputs;
  nn_ref *outputs;
  char **output_names;
  size_t max_bytes;         /* params.max_bytes; stats.session_bytes counts what is taken of it */
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

/* Counts `bytes` the session is about to take against its cap; CPOSE_ERR_LIMIT (naming `what`) when they
 * would pass it. */
static cpose_status take_bytes(cpose_session *s, size_t bytes, const char *what) {
  if (bytes > s->max_bytes - s->stats.session_bytes) {
    return cpose_fail(CPOSE_ERR_LIMIT, "%s need %zu bytes, which would pass the session's cap of %zu bytes (%zu taken)",
                      what, bytes, s->max_bytes, s->stats.session_bytes);
  }
  s->stats.session_bytes += bytes;
  return CPOSE_OK;
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
  s->order = cpose_calloc((size_t)n, sizeof *s->order);
  s->position = cpose_calloc((size_t)n, sizeof *s->position);
  s->joined = cpose_calloc((size_t)n, sizeof *s->joined);
  s->slice_of = cpose_calloc((size_t)n, sizeof *s->slice_of);
  s->slice_at = cpose_calloc((size_t)n, sizeof *s->slice_at);
  if (!s->defs || !s->values || !s->value_storage || !s->constant || !s->needed || !s->folded || !s->order ||
      !s->position || !s->joined || !s->slice_of || !s->slice_at) {
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a session of %d nodes", n);
  }
  for (int i = 0, at = 0; i < n; i++) {
    s->slice_of[i] = -1;
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
  cpose_status status = take_bytes(s, total, "folded constants");
  if (status != CPOSE_OK) return cpose_fail_context(status, "node '%s'", def->name);
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

/* True for a node that computes at run time: an op that is needed and not folded. */
static bool runs(const cpose_session *s, int i) {
  return s->needed[i] && !s->constant[i] && is_op(s, i);
}

/*
 * The run order: depth first. After a node runs, the consumers it made ready run next, most recently made
 * ready first, so that a value is usually read while it is still in the cache; the model's own order (a
 * topological order from the converter) often computes two branches side by side and reads each value only
 * after its sibling's, by which time a large one has left the cache (CenterNet's head: the depthwise then
 * the 1x1 convolution of each of two outputs, 8 MB between them). Ties go to the model's order.
 */
static cpose_status schedule(cpose_session *s) {
  int n = s->n_nodes, edges = 0;
  for (int i = 0; i < n; i++) {
    if (runs(s, i)) edges += s->defs[i]->n_inputs;
  }
  int *waiting = cpose_calloc((size_t)n, sizeof *waiting); /* per node: inputs not computed yet */
  /* The readers of node u (that run) are readers[first[u] .. first[u + 1]), in the model's order. */
  int *first = cpose_calloc((size_t)n + 1, sizeof *first);
  int *placed = cpose_calloc((size_t)n, sizeof *placed); /* per node: readers placed so far */
  int *readers = cpose_calloc((size_t)edges + 1, sizeof *readers);
  int *ready = cpose_calloc((size_t)n + 1, sizeof *ready); /* a stack of nodes whose inputs are computed */
  cpose_status status = CPOSE_OK;
  if (!waiting || !first || !placed || !readers || !ready) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory to schedule %d nodes", n);
    goto done;
  }
  for (int v = 0; v < n; v++) { /* count each edge u -> v between nodes that run, then place it */
    for (int k = 0; runs(s, v) && k < s->defs[v]->n_inputs; k++) {
      int u = s->defs[v]->inputs[k].node;
      if (runs(s, u)) first[u + 1]++, waiting[v]++;
    }
  }
  for (int u = 0; u < n; u++) first[u + 1] += first[u];
  for (int v = 0; v < n; v++) {
    for (int k = 0; runs(s, v) && k < s->defs[v]->n_inputs; k++) {
      int u = s->defs[v]->inputs[k].node;
      if (runs(s, u)) readers[first[u] + placed[u]++] = v;
    }
  }
  int top = 0;
  for (int v = n - 1; v >= 0; v--) {
    if (runs(s, v) && waiting[v] == 0) ready[top++] = v; /* the lowest index on top */
  }
  while (top > 0) {
    int u = ready[--top];
    s->position[u] = s->n_order;
    s->order[s->n_order++] = u;
    for (int e = first[u + 1] - 1; e >= first[u]; e--) { /* the first reader on top */
      if (--waiting[readers[e]] == 0) ready[top++] = readers[e];
    }
  }
done:
  cpose_free(waiting), cpose_free(first), cpose_free(placed), cpose_free(readers), cpose_free(ready);
  return status;
}

/* Whether the producer of `part` may write it as a slice of joined node j's output: it computes at run time,
 * writes strided output, and nothing but j reads it, once. readers: per node, the inputs and outputs that
 * name it. */
static bool can_write_slice(const cpose_session *s, nn_ref part, int j, const int *readers) {
  int u = part.node;
  const nn_node *def = s->defs[u];
  return part.index == 0 && runs(s, u) && !def->op->alias && def->op->strided_output && def->n_outputs == 1 &&
         readers[u] == 1 && s->slice_of[u] < 0 && s->values[u][0].dtype == s->values[j][0].dtype &&
         s->values[u][0].rank == s->values[j][0].rank;
}

/* Joins in place: where a node lays values side by side along the last axis (nn_op.joined_parts: ConcatV2 of
 * channels) and every value comes from a node that can write strided output for it alone, those nodes write
 * their slices of the joined tensor and the join itself does not run. CenterNet's head joins three pairs,
 * the largest [1,128,128,64] + [1,128,128,64]: 8 MB copied per run otherwise. */
static cpose_status join_in_place(cpose_session *s) {
  int n = s->n_nodes;
  int *readers = cpose_calloc((size_t)n, sizeof *readers); /* per node: inputs and outputs that name it */
  nn_tensor in[64];
  if (!readers) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory to plan %d nodes", n);
  for (int i = 0; i < n; i++) {
    for (int k = 0; runs(s, i) && k < s->defs[i]->n_inputs; k++) readers[s->defs[i]->inputs[k].node]++;
  }
  for (int i = 0; i < s->n_outputs; i++) readers[s->outputs[i].node]++;
  for (int j = 0; j < n; j++) {
    const nn_node *def = s->defs[j];
    if (!runs(s, j) || !def->op->joined_parts || def->n_inputs > 64) continue;
    gather_inputs(s, j, in);
    int parts = def->op->joined_parts(def, in, s->values[j]);
    bool all = parts >= 1 && parts <= def->n_inputs;
    for (int k = 0; all && k < parts; k++) all = can_write_slice(s, def->inputs[k], j, readers);
    if (!all) continue;
    int64_t at = 0;
    for (int k = 0; k < parts; k++) {
      const nn_tensor *part = &s->values[def->inputs[k].node][0];
      s->slice_of[def->inputs[k].node] = j;
      s->slice_at[def->inputs[k].node] = at;
      at += part->dims[part->rank - 1];
    }
    s->joined[j] = true;
  }
  cpose_free(readers);
  return CPOSE_OK;
}

/* The value whose storage `r` uses: itself, or (through alias ops) the value it reinterprets. */
static nn_ref storage_root(const cpose_session *s, nn_ref r) {
  while (is_op(s, r.node) && s->defs[r.node]->op->alias && !s->constant[r.node]) r = s->defs[r.node]->inputs[0];
  return r;
}

static bool has_own_buffer(const cpose_session *s, int i) {
  return s->needed[i] && !s->constant[i] && s->slice_of[i] < 0 && storage_root(s, (nn_ref){i, 0}).node == i;
}

/* The time node i writes its value: its place in the run order, or its first slice's for a joined node; -1
 * for the input, written before the run. */
static int write_time(const cpose_session *s, int i) {
  if (!runs(s, i)) return -1;
  int t = s->position[i];
  for (int k = 0; s->joined[i] && k < s->defs[i]->n_inputs; k++) {
    int u = s->defs[i]->inputs[k].node;
    if (s->slice_of[u] == i && s->position[u] < t) t = s->position[u];
  }
  return t;
}

/* The buffer node i may write its output into instead of a new one: that of an input with the output's
 * dtype and shape which no node after i reads, when i's op computes element by element (nn_op.in_place).
 * Reusing it keeps the data in memory the cache already holds. -1 when there is none. */
static int in_place_buffer(const cpose_session *s, int i, const int *buffer_of, const nn_buffer *buffers) {
  const nn_node *def = s->defs[i];
  if (!def->op->in_place || def->n_outputs != 1) return -1;
  for (int k = 0; k < def->n_inputs; k++) {
    nn_ref root = storage_root(s, def->inputs[k]);
    int b = buffer_of[root.node];
    const nn_tensor *in = &s->values[def->inputs[k].node][def->inputs[k].index];
    if (b < 0 || buffers[b].last != s->position[i] || s->defs[root.node]->n_outputs != 1) continue;
    if (in->dtype == s->values[i][0].dtype && nn_same_shape(in, &s->values[i][0])) return b;
  }
  return -1;
}

/* Lifetimes in run-order positions: a buffer lives from its producer to its last reader, outputs to the end;
 * an element-wise node may take over the buffer of an input it reads last (in_place_buffer). */
static cpose_status plan_memory(cpose_session *s) {
  int n = s->n_nodes;
  int *buffer_of = cpose_calloc((size_t)n, sizeof *buffer_of);
  int *last_read = cpose_calloc((size_t)n, sizeof *last_read); /* per storage root */
  nn_buffer *buffers = cpose_calloc((size_t)n, sizeof *buffers);
  cpose_status status = CPOSE_OK;
  if (!buffer_of || !last_read || !buffers) {
    status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory to plan %d nodes", n);
    goto done;
  }
  for (int i = 0; i < n; i++) {
    buffer_of[i] = -1;
    last_read[i] = write_time(s, i);
  }
  for (int i = 0; i < n; i++) {
    for (int k = 0; runs(s, i) && k < s->defs[i]->n_inputs; k++) {
      int root = storage_root(s, s->defs[i]->inputs[k]).node;
      if (last_read[root] < s->position[i]) last_read[root] = s->position[i];
    }
  }
  for (int i = 0; i < s->n_outputs; i++) last_read[storage_root(s, s->outputs[i]).node] = s->n_order;
  int count = 0;
  for (int at = -1; at < s->n_order; at++) { /* the input first: it is written before the run */
    int i = at < 0 ? s->input_node : s->order[at];
    if (i < 0 || !has_own_buffer(s, i)) continue;
    size_t bytes = 0;
    for (int k = 0; k < s->defs[i]->n_outputs; k++) bytes += nn_padded_bytes(&s->values[i][k]);
    s->stats.naive_bytes += bytes;
    int shared = at < 0 ? -1 : in_place_buffer(s, i, buffer_of, buffers);
    if (shared >= 0) {
      buffer_of[i] = shared;
      if (buffers[shared].last < last_read[i]) buffers[shared].last = last_read[i];
      continue;
    }
    buffers[count] = (nn_buffer){.size = bytes, .first = write_time(s, i), .last = last_read[i]};
    buffer_of[i] = count++;
  }
  if ((status = nn_plan_arena(buffers, count, &s->stats.arena_bytes)) != CPOSE_OK) goto done;
  if ((status = take_bytes(s, s->stats.arena_bytes, "the intermediate tensors")) != CPOSE_OK) goto done;
  s->arena = cpose_malloc_large(s->stats.arena_bytes);
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
  for (int i = 0; i < n; i++) { /* slices: views of their joined node's rows */
    if (s->slice_of[i] < 0) continue;
    const nn_tensor *whole = &s->values[s->slice_of[i]][0];
    s->values[i][0].data = (uint8_t *)whole->data + (size_t)s->slice_at[i] * nn_dtype_size(whole->dtype);
    s->values[i][0].row_stride = nn_row_stride(whole);
  }
done:
  cpose_free(buffer_of);
  cpose_free(last_read);
  cpose_free(buffers);
  return status;
}

/* The step's fast kernel, its memory counted against the session's cap. */
static cpose_status create_fast_kernel(cpose_session *s, nn_step *step) {
  const nn_node *def = step->def;
  bool exceeded = false;
  nn_xnn_budget_begin(s->max_bytes - s->stats.session_bytes);
  /* Set up for the pool; runs that fall back to the calling thread alone compute the same values. */
  pthreadpool_t pool = cpose_threadpool_handle(s->pool);
  cpose_status status = def->op->fast_create(def, step->in, step->out, pool, &step->fast);
  s->stats.session_bytes += nn_xnn_budget_end(&exceeded);
  if (!exceeded) return status;
  if (status == CPOSE_OK) def->op->fast_destroy(step->fast); /* a refused allocation it could do without */
  step->fast = NULL;
  cpose_error_clear();
  return nn_node_fail(def, CPOSE_ERR_LIMIT, "its fast kernel would pass the session's cap of %zu bytes",
                      s->max_bytes);
}

/* One step per node that computes something at run time; fast kernels where the op has one. */
static cpose_status create_steps(cpose_session *s, cpose_backend backend) {
  s->steps = cpose_calloc((size_t)s->n_nodes, sizeof *s->steps);
  if (!s->steps) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the steps");
  for (int at = 0; at < s->n_order; at++) {
    int i = s->order[at];
    if (s->defs[i]->op->alias || s->joined[i]) continue;
    const nn_node *def = s->defs[i];
    nn_step *step = &s->steps[s->n_steps++];
    step->def = def;
    step->out = s->values[i];
    step->in = cpose_calloc((size_t)def->n_inputs + 1, sizeof *step->in);
    if (!step->in) return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for the steps");
    gather_inputs(s, i, step->in);
    step->flops = def->op->flops ? def->op->flops(def, step->in, step->out) : 0;
    s->stats.flops += step->flops;
    if (backend != CPOSE_BACKEND_FAST || !def->op->fast_create) continue;
    cpose_status status = create_fast_kernel(s, step);
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
  s->fixed_threads = params->fixed_threads != 0;
  s->max_bytes = params->max_bytes ? params->max_bytes : CPOSE_SESSION_DEFAULT_MAX_BYTES;
  cpose_status status = CPOSE_OK;
  if (!params->pool && (status = cpose_threadpool_create(params->threads, &s->owned_pool)) != CPOSE_OK) goto error;
  s->pool = params->pool ? params->pool : s->owned_pool;
  if ((status = allocate_tables(s)) != CPOSE_OK) goto error;
  if ((status = resolve_outputs(s, params)) != CPOSE_OK) goto error;
  bool conv_blocks = params->backend == CPOSE_BACKEND_FAST && nn_gemm_available();
  if ((status = nn_fuse(model, conv_blocks, s->defs, &s->fused)) != CPOSE_OK) goto error;
  mark_needed(s);
  if ((status = shape_input(s, params)) != CPOSE_OK) goto error;
  if ((status = infer_and_fold(s)) != CPOSE_OK) goto error;
  if ((status = schedule(s)) != CPOSE_OK) goto error;
  if (params->backend == CPOSE_BACKEND_FAST && (status = join_in_place(s)) != CPOSE_OK) goto error;
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
  cpose_free(s->order), cpose_free(s->position);
  cpose_free(s->joined), cpose_free(s->slice_of), cpose_free(s->slice_at);
  cpose_threadpool_destroy(s->owned_pool);
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
  /* One loop per dtype: a switch per element kept the copy scalar (CenterNet's 786k values: 2% of a run). */
  switch (t->dtype) {
    case NN_F32:
      memcpy(t->data, input, count * sizeof *input);
      break;
    case NN_I32:
      for (size_t i = 0; i < count; i++) ((int32_t *)t->data)[i] = (int32_t)input[i];
      break;
    case NN_BOOL:
      for (size_t i = 0; i < count; i++) ((uint8_t *)t->data)[i] = input[i] != 0.0f;
      break;
  }
  return CPOSE_OK;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static cpose_status run_step(const nn_step *step, pthreadpool_t pool) {
  if (step->fast) return step->def->op->fast_run(step->fast, pool);
  return step->def->op->run(step->def, step->in, step->out);
}

/* The pool of the next run: NULL runs it on the calling thread (see core/threadpool.h). */
static pthreadpool_t begin_run(cpose_session *s) {
  if (s->fixed_threads) return cpose_threadpool_handle(s->pool);
  return cpose_threadpool_begin_run(s->pool, &s->history);
}

/* Counts a finished run and, unless the threads are fixed, tells the pool's policy how it went. */
static void end_run(cpose_session *s, bool began_pooled, bool ended_pooled, double ms) {
  if (!cpose_threadpool_handle(s->pool)) return; /* no workers: nothing to decide */
  if (ended_pooled) {
    s->stats.pooled_runs++;
  } else {
    s->stats.unpooled_runs++;
  }
  if (s->fixed_threads) return;
  cpose_run_kind kind = !began_pooled  ? CPOSE_RUN_SINGLE
                        : ended_pooled ? CPOSE_RUN_POOLED
                                       : CPOSE_RUN_GAVE_UP;
  cpose_threadpool_end_run(s->pool, &s->history, kind, ms);
}

cpose_status cpose_session_run(cpose_session *s, const float *input, size_t count) {
  if (!s) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_session_run: NULL session");
  cpose_status status = write_input(s, input, count);
  if (status != CPOSE_OK) return status;
  pthreadpool_t pool = begin_run(s);
  bool began_pooled = pool != NULL;
  double limit_ms = s->fixed_threads ? INFINITY : cpose_pool_limit_ms(&s->history);
  double start = now_ms(), last = start;
  for (int i = 0; status == CPOSE_OK && i < s->n_steps; i++) {
    nn_step *step = &s->steps[i];
    status = run_step(step, pool);
    double now = now_ms();
    if (s->profile) step->total_ms += now - last;
    last = now;
    if (now - start > limit_ms) pool = NULL; /* the pool is contended: finish on this thread */
    if (status != CPOSE_OK) status = cpose_fail_context(status, "running node '%s'", step->def->name);
  }
  if (status == CPOSE_OK) end_run(s, began_pooled, pool != NULL, last - start);
  return status;
}

void cpose_session_profile(const cpose_session *s,
                           void (*visit)(const cpose_kernel_profile *kernel, void *user), void *user) {
  for (int i = 0; i < s->n_steps; i++) {
    const nn_step *step = &s->steps[i];
    cpose_kernel_profile kernel = {step->def->name, step->def->op->type, step->fast != NULL, step->total_ms,
                                   step->flops};
    visit(&kernel, user);
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
