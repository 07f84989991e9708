/* Helpers for op tests: build a node from an op and its attributes (JSON, as in model.json), run the
 * reference kernel, and check the fast kernel against it. Inputs with data are treated as constants (weights,
 * shapes), as the session does. */
#ifndef CPOSE_OP_TEST_H
#define CPOSE_OP_TEST_H

#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "test.h"

typedef struct op_test {
  nn_node node;
  cJSON *attr;
  int n_inputs;
  nn_tensor in[16];
  nn_tensor out[16];
} op_test;

/* A tensor over caller-owned data (NULL data: shape only). */
static inline nn_tensor op_tensor(nn_dtype dtype, int rank, const int64_t *dims, void *data) {
  nn_tensor t;
  memset(&t, 0, sizeof t);
  t.dtype = dtype;
  t.rank = rank;
  for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
  t.data = data;
  return t;
}

/* Fills n floats with a deterministic pseudo-random sequence in [lo, hi). */
static inline void op_fill(float *x, int64_t n, unsigned seed, float lo, float hi) {
  unsigned s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = lo + (hi - lo) * (float)(s >> 8) / (float)(1u << 24);
  }
}

/* Parses attributes, infers output shapes and allocates outputs. attr_json may be NULL. */
static inline cpose_status op_test_init(op_test *t, const nn_op *op, const char *attr_json, int n_inputs,
                                        const nn_tensor *inputs) {
  memset(t, 0, sizeof *t);
  t->node.name = (char *)"test";
  t->node.op = op;
  t->node.n_inputs = n_inputs;
  t->node.n_outputs = 1;
  t->n_inputs = n_inputs;
  for (int i = 0; i < n_inputs; i++) t->in[i] = inputs[i];
  t->node.params = calloc(1, op->params_size ? op->params_size : 1);
  t->attr = attr_json ? cJSON_Parse(attr_json) : NULL;
  if (attr_json && !t->attr) return cpose_fail(CPOSE_ERR_PARSE, "test attributes are not JSON");
  cpose_status status = op->parse ? op->parse(&t->node, t->attr) : CPOSE_OK;
  if (status != CPOSE_OK) return status;
  status = op->infer(&t->node, t->in, t->out);
  if (status != CPOSE_OK) return status;
  for (int k = 0; k < t->node.n_outputs; k++) {
    t->out[k].data = calloc(1, nn_padded_bytes(&t->out[k]));
  }
  return CPOSE_OK;
}

static inline cpose_status op_test_run_ref(op_test *t) {
  return t->node.op->run(&t->node, t->in, t->out);
}

/* Runs the fast kernel into fresh outputs and compares each float with the reference output (which must
 * have been computed) within atol + rtol * |ref|. Returns the number of mismatches; -1 when the op has no
 * fast kernel for this case (CPOSE_ERR_UNSUPPORTED). */
static inline int op_test_compare_fast(op_test *t, double atol, double rtol, int threads) {
  const nn_op *op = t->node.op;
  if (!op->fast_create) return -1;
  nn_tensor fast_out[16];
  for (int k = 0; k < t->node.n_outputs; k++) {
    fast_out[k] = t->out[k];
    fast_out[k].data = calloc(1, nn_padded_bytes(&t->out[k]));
  }
  pthreadpool_t pool = threads > 1 ? pthreadpool_create((size_t)threads) : NULL;
  void *state = NULL;
  int mismatches = 0;
  cpose_status status = op->fast_create(&t->node, t->in, fast_out, pool, &state);
  if (status == CPOSE_ERR_UNSUPPORTED) {
    mismatches = -1;
  } else if (status != CPOSE_OK || op->fast_run(state, pool) != CPOSE_OK) {
    fprintf(stderr, "fast kernel failed: %s\n", cpose_last_error());
    mismatches = 1;
  } else {
    for (int k = 0; k < t->node.n_outputs; k++) {
      int64_t n = nn_numel(&t->out[k]);
      for (int64_t i = 0; i < n; i++) {
        double r, f;
        if (t->out[k].dtype == NN_F32) {
          r = ((float *)t->out[k].data)[i];
          f = ((float *)fast_out[k].data)[i];
        } else if (t->out[k].dtype == NN_I32) {
          r = ((int32_t *)t->out[k].data)[i];
          f = ((int32_t *)fast_out[k].data)[i];
        } else {
          r = ((uint8_t *)t->out[k].data)[i];
          f = ((uint8_t *)fast_out[k].data)[i];
        }
        if (!(fabs(r - f) <= atol + rtol * fabs(r))) {
          if (mismatches < 5) fprintf(stderr, "  output %d element %lld: ref %.9g fast %.9g\n", k, (long long)i, r, f);
          mismatches++;
        }
      }
    }
  }
  if (op->fast_destroy) op->fast_destroy(state);
  if (pool) pthreadpool_destroy(pool);
  for (int k = 0; k < t->node.n_outputs; k++) free(fast_out[k].data);
  return mismatches;
}

static inline void op_test_free(op_test *t) {
  for (int k = 0; k < t->node.n_outputs; k++) free(t->out[k].data);
  free(t->node.params);
  cJSON_Delete(t->attr);
}

#endif
