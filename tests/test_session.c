/* The session's planning (src/nn/session.c) on small models from memory: the depth-first run order, element-
 * wise ops writing over an input they read last, and channel concatenations whose producers write their
 * slices directly (convolution, depthwise convolution and bilinear resize with strided output), each checked
 * for the same values on the reference backend and the fast one with 1 and 2 threads. */
#include <string.h>

#include "cpose.h"
#include "graph_test.h"
#include "nn/nn.h"
#include "op_test.h"

#define SAME "\"padding\": {\"s\": \"U0FNRQ==\"}" /* base64 */
#define STRIDES(s) "\"strides\": {\"list\": {\"i\": [\"1\", \"" #s "\", \"" #s "\", \"1\"]}}"

/* x [1,6,7,4] float32, then `body`, with the weights manifest entries given. */
static cpose_model *load_model(const char *body, const char *weights_json, const void *weights, size_t size) {
  static const int64_t dims[4] = {1, 6, 7, 4};
  return load_graph(dims, body, weights_json, weights, size);
}

enum { X_SIZE = 6 * 7 * 4 };

/* What one session made of the model: output 0's values and shape, and the kernels that ran, in order. */
typedef struct session_result {
  float values[6 * 14 * 11];
  int rank;
  int64_t dims[4];
  char kernels[16][32]; /* op types */
  char names[16][32];   /* node names */
  int kernel_count;
  double kernel_flops; /* summed over the kernels profiled */
  double flops;        /* the session's stats */
  size_t arena_bytes;
} session_result;

static void record_kernel(const cpose_kernel_profile *kernel, void *user) {
  session_result *r = user;
  if (r->kernel_count < 16) {
    snprintf(r->kernels[r->kernel_count], sizeof r->kernels[0], "%s", kernel->op);
    snprintf(r->names[r->kernel_count], sizeof r->names[0], "%s", kernel->node);
  }
  r->kernel_count++;
  r->kernel_flops += kernel->flops;
}

/* Runs the model (`outputs`, the first of which is recorded) once on x. */
static bool run_session(const cpose_model *model, cpose_backend backend, int threads, const char **outputs,
                        int n_outputs, const float *x, session_result *r) {
  memset(r, 0, sizeof *r);
  cpose_session_params params = cpose_session_params_default();
  params.backend = backend;
  params.threads = threads;
  params.outputs = outputs;
  params.output_count = (size_t)n_outputs;
  params.profile = 1;
  cpose_session *session = NULL;
  CHECK_OK(cpose_session_create(model, &params, &session));
  if (!session) return false;
  cpose_tensor out;
  bool ok =
      cpose_session_run(session, x, X_SIZE) == CPOSE_OK && cpose_session_output(session, 0, &out) == CPOSE_OK;
  CHECK(ok);
  int64_t n = ok ? (int64_t)test_tensor_elements(&out) : 1;
  CHECK(n <= (int64_t)(sizeof r->values / sizeof r->values[0]));
  if (ok && n <= (int64_t)(sizeof r->values / sizeof r->values[0])) {
    memcpy(r->values, out.data, (size_t)n * sizeof(float));
    r->rank = out.rank;
    memcpy(r->dims, out.dims, sizeof r->dims);
  }
  cpose_session_profile(session, record_kernel, r);
  cpose_session_stats stats;
  cpose_session_get_stats(session, &stats);
  r->arena_bytes = stats.arena_bytes;
  r->flops = stats.flops;
  cpose_session_destroy(session);
  return ok;
}

static int count_kernels(const session_result *r, const char *type) {
  int n = 0;
  for (int i = 0; i < r->kernel_count && i < 16; i++) n += strcmp(r->kernels[i], type) == 0;
  return n;
}

/* The fast backend with 1 and 2 threads against the reference: same shape, values within tol; `joined` is
 * whether the fast backend should have dropped the ConcatV2 kernel. */
static void check_fast_against_ref(const cpose_model *model, const char **outputs, int n_outputs, double tol,
                                   bool joined) {
  float x[X_SIZE];
  op_fill(x, X_SIZE, 1, -1.0f, 1.0f);
  session_result *ref = calloc(1, sizeof *ref), *fast = calloc(1, sizeof *fast);
  CHECK(ref && fast);
  if (ref && fast && run_session(model, CPOSE_BACKEND_REF, 1, outputs, n_outputs, x, ref)) {
    CHECK(count_kernels(ref, "ConcatV2") == 1);
    for (int threads = 1; threads <= 2; threads++) {
      if (!run_session(model, CPOSE_BACKEND_FAST, threads, outputs, n_outputs, x, fast)) continue;
      CHECK(fast->rank == ref->rank && memcmp(fast->dims, ref->dims, sizeof ref->dims) == 0);
      int64_t n = 1;
      for (int d = 0; d < ref->rank; d++) n *= ref->dims[d];
      int bad = 0;
      for (int64_t i = 0; i < n; i++) bad += !(fabs((double)fast->values[i] - (double)ref->values[i]) <= tol);
      CHECK(bad == 0);
      CHECK(count_kernels(fast, "ConcatV2") == (joined ? 0 : 1));
    }
  }
  free(ref);
  free(fast);
}

/* Weights of the join model: a 1x1 convolution 4 -> 3, a 3x3 depthwise filter over 4 channels, the resize
 * target size and the concat axis. */
typedef struct join_weights {
  float conv[4 * 3];
  float depthwise[3 * 3 * 4];
  int32_t size[2];
  int32_t axis;
} join_weights;

#define JOIN_MANIFEST                                            \
  "{\"name\":\"w\",\"shape\":[1,1,4,3],\"dtype\":\"float32\"},"  \
  "{\"name\":\"wd\",\"shape\":[3,3,4,1],\"dtype\":\"float32\"}," \
  "{\"name\":\"size\",\"shape\":[2],\"dtype\":\"int32\"},"       \
  "{\"name\":\"axis\",\"shape\":[],\"dtype\":\"int32\"}"

// clang-format off
#define POOL_2X2 "{\"ksize\": {\"list\": {\"i\": [\"1\", \"2\", \"2\", \"1\"]}}," STRIDES(2) "," SAME "}"
#define JOIN_CONSTS \
    CONST("w", "DT_FLOAT") "," CONST("wd", "DT_FLOAT") "," CONST("size", "DT_INT32") "," CONST("axis", "DT_INT32")

/* Relu(ConcatV2(Conv2D(x), DepthwiseConv2dNative(x), ResizeBilinear(MaxPool(x)), axis)): [1,6,7,11]. */
static const char *join_body =
    JOIN_CONSTS ","
    NODE("conv", "Conv2D", "\"x\",\"w\"", "{" STRIDES(1) "," SAME "}") ","
    NODE("dw", "DepthwiseConv2dNative", "\"x\",\"wd\"", "{" STRIDES(1) "," SAME "}") ","
    NODE("pool", "MaxPool", "\"x\"", POOL_2X2) ","
    NODE("up", "ResizeBilinear", "\"pool\",\"size\"", "{}") ","
    NODE("cat", "ConcatV2", "\"conv\",\"dw\",\"up\",\"axis\"", "{\"N\": {\"i\": \"3\"}}") ","
    NODE("out", "Relu", "\"cat\"", "{}");

/* ConcatV2 along the width: [1,6,7,4] and [1,6,7,4] -> [1,6,14,4]. */
static const char *width_body =
    JOIN_CONSTS ","
    NODE("dw", "DepthwiseConv2dNative", "\"x\",\"wd\"", "{" STRIDES(1) "," SAME "}") ","
    NODE("pool", "MaxPool", "\"x\"", POOL_2X2) ","
    NODE("up", "ResizeBilinear", "\"pool\",\"size\"", "{}") ","
    NODE("out", "ConcatV2", "\"dw\",\"up\",\"axis\"", "{\"N\": {\"i\": \"2\"}}");

/* x -> Relu -> Sigmoid -> AddV2(s, s) -> Relu, or -> Mul(a, x), which reads x again at the end. */
static const char *chain_bodies[2] = {
    NODE("r", "Relu", "\"x\"", "{}") ","
    NODE("s", "Sigmoid", "\"r\"", "{}") ","
    NODE("a", "AddV2", "\"s\",\"s\"", "{}") ","
    NODE("out", "Relu", "\"a\"", "{}"),
    NODE("r", "Relu", "\"x\"", "{}") ","
    NODE("s", "Sigmoid", "\"r\"", "{}") ","
    NODE("a", "AddV2", "\"s\",\"s\"", "{}") ","
    NODE("out", "Mul", "\"a\",\"x\"", "{}"),
};

/* Conv2D(x, Relu(w)): the Relu of a weight is folded at creation into a buffer the session owns. */
static const char *folded_body =
    JOIN_CONSTS ","
    NODE("wr", "Relu", "\"w\"", "{}") ","
    NODE("out", "Conv2D", "\"x\",\"wr\"", "{" STRIDES(1) "," SAME "}");

/* Two branches, listed side by side. */
static const char *branches_body =
    NODE("b1", "Sigmoid", "\"x\"", "{}") ","
    NODE("c1", "Relu", "\"x\"", "{}") ","
    NODE("b2", "Relu6", "\"b1\"", "{}") ","
    NODE("c2", "Relu6", "\"c1\"", "{}") ","
    NODE("out", "AddV2", "\"b2\",\"c2\"", "{}");
// clang-format on

static void test_join_in_place(void) {
  join_weights w;
  op_fill(w.conv, 12, 2, -1.0f, 1.0f);
  op_fill(w.depthwise, 36, 3, -1.0f, 1.0f);
  w.size[0] = 6;
  w.size[1] = 7;
  const char *out[] = {"out", "conv"};

  for (int axis = 3; axis >= -1; axis -= 4) { /* the last axis, counted from either end */
    w.axis = axis;
    cpose_model *model = load_model(join_body, JOIN_MANIFEST, &w, sizeof w);
    if (!model) continue;
    check_fast_against_ref(model, out, 1, 1e-5, true);
    /* the convolution's output is also requested: it keeps its own buffer, and the concat copies it */
    check_fast_against_ref(model, out, 2, 1e-5, false);
    cpose_model_destroy(model);
  }

  /* Along another axis (the width) the concat runs as it is. */
  w.axis = 2;
  cpose_model *model = load_model(width_body, JOIN_MANIFEST, &w, sizeof w);
  if (model) check_fast_against_ref(model, out, 1, 1e-5, false);
  cpose_model_destroy(model);
}

/* chain_bodies: each op reads its input last, so all write over x's buffer and the arena holds one tensor;
 * with x read again at the end, the Relu may not overwrite it. */
static void test_in_place(void) {
  float x[X_SIZE];
  op_fill(x, X_SIZE, 4, -3.0f, 3.0f);
  nn_tensor one = op_tensor(NN_F32, 4, (const int64_t[]){1, 6, 7, 4}, NULL);
  const char *out[] = {"out"};
  for (int reread = 0; reread < 2; reread++) {
    cpose_model *model = load_model(chain_bodies[reread], "", NULL, 0);
    for (int backend = 0; backend < 2 && model; backend++) {
      session_result *r = calloc(1, sizeof *r);
      if (r && run_session(model, backend ? CPOSE_BACKEND_FAST : CPOSE_BACKEND_REF, 1, out, 1, x, r)) {
        for (int i = 0; i < X_SIZE; i++) {
          double s = 1.0 / (1.0 + exp(-(x[i] > 0 ? x[i] : 0.0))), want = reread ? 2.0 * s * x[i] : 2.0 * s;
          CHECK_NEAR(r->values[i], want, 2e-6);
        }
        if (!reread) CHECK(r->arena_bytes == nn_padded_bytes(&one));
        if (reread) CHECK(r->arena_bytes == 2 * nn_padded_bytes(&one));
      }
      free(r);
    }
    cpose_model_destroy(model);
  }
}

/* branches_body's two branches, listed b1, c1, b2, c2, run one after the other: after b1, the b2 it made
 * ready runs before c1. */
static void test_depth_first_order(void) {
  cpose_model *model = load_model(branches_body, "", NULL, 0);
  float x[X_SIZE];
  op_fill(x, X_SIZE, 5, -1.0f, 1.0f);
  const char *out[] = {"out"};
  session_result *r = calloc(1, sizeof *r);
  if (model && r && run_session(model, CPOSE_BACKEND_REF, 1, out, 1, x, r)) {
    const char *want[] = {"b1", "b2", "c1", "c2", "out"};
    CHECK(r->kernel_count == 5);
    for (int i = 0; i < 5 && i < r->kernel_count; i++) CHECK(strcmp(r->names[i], want[i]) == 0);
    /* five element-wise kernels of one operation per element each, reported per kernel and in total */
    CHECK(r->kernel_flops == 5.0 * X_SIZE);
    CHECK(r->flops == 5.0 * X_SIZE);
  }
  free(r);
  cpose_model_destroy(model);
}

/* ---- strided outputs ----------------------------------------------------------------------------------- */

extern const nn_op nn_op_conv2d, nn_op_depthwise_conv2d, nn_op_resize_bilinear;

/* The node's kernel (fast or reference) writing its [1,H,W,C] output as channels [3, 3 + C) of rows of
 * C + 5 against the reference writing it contiguously; the padding channels must stay untouched. Returns the
 * mismatches; -1 when the fast kernel does not exist. */
static int strided_against_contiguous(op_test *t, bool fast, int threads) {
  const nn_tensor *want = &t->out[0];
  const int64_t c = want->dims[3], stride = c + 5, pixels = nn_numel(want) / (c ? c : 1);
  float *wide = malloc((size_t)(pixels * stride + 16) * sizeof(float));
  if (!wide) return 1;
  for (int64_t i = 0; i < pixels * stride; i++) wide[i] = 123.0f;
  nn_tensor out = *want;
  out.data = wide + 3;
  out.row_stride = stride;
  int bad = 0;
  pthreadpool_t pool = threads > 1 ? pthreadpool_create((size_t)threads) : NULL;
  void *state = NULL;
  cpose_status status = CPOSE_OK;
  if (!fast) {
    status = t->node.op->run(&t->node, t->in, &out);
  } else if ((status = t->node.op->fast_create(&t->node, t->in, &out, pool, &state)) == CPOSE_OK) {
    status = t->node.op->fast_run(state, pool);
  }
  if (status == CPOSE_ERR_UNSUPPORTED) bad = -1;
  if (status != CPOSE_OK && bad == 0) bad = 1;
  for (int64_t p = 0; bad == 0 && p < pixels; p++) {
    for (int64_t k = 0; k < stride; k++) {
      float got = wide[p * stride + k];
      float expected = k < 3 || k >= 3 + c ? 123.0f : ((const float *)want->data)[p * c + k - 3];
      bad += !(fabs((double)got - (double)expected) <= 1e-5);
    }
  }
  if (state) t->node.op->fast_destroy(state);
  if (pool) pthreadpool_destroy(pool);
  free(wide);
  return bad;
}

static void test_strided_outputs(void) {
  static float x[X_SIZE + 16], filter[3 * 3 * 4 * 5], depthwise[3 * 3 * 4 * 2];
  op_fill(x, X_SIZE, 6, -1.0f, 1.0f);
  op_fill(filter, 3 * 3 * 4 * 5, 7, -1.0f, 1.0f);
  op_fill(depthwise, 3 * 3 * 4 * 2, 8, -1.0f, 1.0f);
  int32_t size[2] = {9, 5};
  const char *conv_attr = "{" STRIDES(1) "," SAME "}", *conv2_attr = "{" STRIDES(2) "," SAME "}";
  const nn_tensor image = op_tensor(NN_F32, 4, (const int64_t[]){1, 6, 7, 4}, x);
  struct {
    const nn_op *op;
    const char *attr;
    nn_tensor second;
  } cases[] = {
      {&nn_op_conv2d, conv_attr, op_tensor(NN_F32, 4, (const int64_t[]){3, 3, 4, 5}, filter)},
      {&nn_op_conv2d, conv2_attr, op_tensor(NN_F32, 4, (const int64_t[]){3, 3, 4, 5}, filter)},
      {&nn_op_depthwise_conv2d, conv_attr, op_tensor(NN_F32, 4, (const int64_t[]){3, 3, 4, 2}, depthwise)},
      {&nn_op_resize_bilinear, "{}", op_tensor(NN_I32, 1, (const int64_t[]){2}, size)},
      {&nn_op_resize_bilinear, "{}",
       op_tensor(NN_I32, 1, (const int64_t[]){2}, (int32_t[]){6, 7})}, /* a copy */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nn_tensor in[2] = {image, cases[i].second};
    op_test t;
    CHECK_OK(op_test_init(&t, cases[i].op, cases[i].attr, 2, in));
    CHECK_OK(op_test_run_ref(&t));
    CHECK(cases[i].op->strided_output);
    CHECK(strided_against_contiguous(&t, false, 1) == 0);
    for (int threads = 1; threads <= 2; threads++) CHECK(strided_against_contiguous(&t, true, threads) == 0);
    op_test_free(&t);
  }
}

/* A session with params.max_bytes = cap: its status, and *bytes_out its session_bytes when made. */
static cpose_status make_capped(const cpose_model *model, cpose_backend backend, size_t cap, size_t *bytes_out) {
  cpose_session_params params = cpose_session_params_default();
  params.backend = backend;
  params.max_bytes = cap;
  cpose_session *session = NULL;
  cpose_status status = cpose_session_create(model, &params, &session);
  if (session) {
    cpose_session_stats stats;
    cpose_session_get_stats(session, &stats);
    *bytes_out = stats.session_bytes;
  }
  cpose_session_destroy(session);
  return status;
}

/* params.max_bytes caps folded constants, the arena and the fast kernels' memory, each refused with a
 * message naming it; a cap of exactly what the session takes is enough. */
static void test_memory_cap(void) {
  join_weights w = {.size = {6, 7}, .axis = 3};
  op_fill(w.conv, 12, 2, -1.0f, 1.0f);
  cpose_model *model = load_model(folded_body, JOIN_MANIFEST, &w, sizeof w);
  if (!model) return;
  nn_tensor wr = op_tensor(NN_F32, 4, (const int64_t[]){1, 1, 4, 3}, NULL);
  nn_tensor x = op_tensor(NN_F32, 4, (const int64_t[]){1, 6, 7, 4}, NULL);
  nn_tensor out = op_tensor(NN_F32, 4, (const int64_t[]){1, 6, 7, 3}, NULL);
  size_t folded = nn_padded_bytes(&wr);
  size_t arena = nn_padded_bytes(&x) + nn_padded_bytes(&out); /* both alive during the convolution */
  size_t ref_bytes = 0, fast_bytes = 0, unused = 0;
  CHECK_OK(make_capped(model, CPOSE_BACKEND_REF, 0, &ref_bytes));
  CHECK(ref_bytes == folded + arena);
  CHECK_OK(make_capped(model, CPOSE_BACKEND_FAST, 0, &fast_bytes));
  CHECK(fast_bytes > ref_bytes); /* + the convolution's packed weights */
  CHECK_OK(make_capped(model, CPOSE_BACKEND_REF, ref_bytes, &unused));
  CHECK_OK(make_capped(model, CPOSE_BACKEND_FAST, fast_bytes, &unused));

  const struct {
    cpose_backend backend;
    size_t cap;
    const char *says;
  } refused[] = {
      {CPOSE_BACKEND_REF, folded - 1, "folded constants"},
      {CPOSE_BACKEND_REF, ref_bytes - 1, "intermediate tensors"},
      {CPOSE_BACKEND_FAST, ref_bytes + 1, "fast kernel"},
      {CPOSE_BACKEND_FAST, fast_bytes - 1, "fast kernel"},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    CHECK(make_capped(model, refused[i].backend, refused[i].cap, &unused) == CPOSE_ERR_LIMIT);
    CHECK(strstr(cpose_last_error(), refused[i].says) != NULL);
  }
  cpose_model_destroy(model);
}

int main(void) {
  test_strided_outputs();
  test_join_in_place();
  test_in_place();
  test_depth_first_order();
  test_memory_cap();
  return test_finish("test_session");
}
