/* Helpers for tests that build small models in memory: a float32 placeholder "x" of a given NHWC shape, then
 * the caller's nodes, written with NODE; and a count of the kernels of one op type that a session ran. */
#ifndef CPOSE_GRAPH_TEST_H
#define CPOSE_GRAPH_TEST_H

#include <stdio.h>
#include <string.h>

#include "cpose.h"
#include "test.h"

/* One node of modelTopology.node: inputs as a JSON list body ("\"x\",\"w\""), attr as a JSON object. */
#define NODE(name, op, inputs, attr) \
  "{\"name\":\"" name "\",\"op\":\"" op "\",\"input\":[" inputs "],\"attr\":" attr "}"

/* A constant node; its value comes from the weights manifest. */
#define CONST(name, type) \
  "{\"name\":\"" name "\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"" type "\"}}}"

/* The model: x [dims], then `body` (comma-separated NODEs); `weights_json` lists the weights manifest's
 * entries, whose values are `weights` (`size` bytes) in that order. NULL (after a failed CHECK) on error. */
static inline cpose_model *load_graph(const int64_t dims[4], const char *body, const char *weights_json,
                                      const void *weights, size_t size) {
  char json[8192];
  snprintf(json, sizeof json,
           "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
           "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
           "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"%lld\"},{\"size\":\"%lld\"},{\"size\":\"%lld\"},"
           "{\"size\":\"%lld\"}]}}}},%s]},\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":[%s]}]}",
           (long long)dims[0], (long long)dims[1], (long long)dims[2], (long long)dims[3], body,
           weights_json);
  cpose_model *model = NULL;
  CHECK_OK(cpose_model_load_memory(json, strlen(json), weights, size, &model));
  return model;
}

typedef struct graph_kernel_count {
  const char *type;
  int count;
} graph_kernel_count;

static inline void graph_count_kernel(const cpose_kernel_profile *kernel, void *user) {
  graph_kernel_count *c = user;
  if (strcmp(kernel->op, c->type) == 0) c->count++;
}

/* Kernels of op type `type` that a session created with params.profile set runs. */
static inline int graph_kernels(const cpose_session *session, const char *type) {
  graph_kernel_count c = {type, 0};
  cpose_session_profile(session, graph_count_kernel, &c);
  return c.count;
}

#endif
