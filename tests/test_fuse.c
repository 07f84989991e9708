/* Graph fusion (src/nn/fuse.c) and the ops it makes: _CposeKeepPeaks against hand-computed values, against
 * the four graph nodes it replaces (each run with its own reference kernel) and fast against reference on odd
 * shapes and windows with 1 and 2 threads, bit for bit; then whole models from memory, to check that the
 * fuser finds the patterns (in either operand order) and leaves look-alikes alone. */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "cpose.h"
#include "graph_test.h"
#include "nn/ops/keep_peaks.h"
#include "op_test.h"

extern const nn_op nn_op_keep_peaks, nn_op_max_pool, nn_op_equal, nn_op_cast, nn_op_mul;

/* Attribute JSON as TF.js writes it ("U0FNRQ==" is base64 for SAME). */
#define POOL_ATTR(kh, kw, s)                                   \
  "{\"ksize\": {\"list\": {\"i\": [\"1\", \"" #kh "\", \"" #kw \
  "\", \"1\"]}}, \"strides\": {\"list\": "                     \
  "{\"i\": [\"1\", \"" #s "\", \"" #s "\", \"1\"]}}, \"padding\": {\"s\": \"U0FNRQ==\"}}"
#define CAST_BOOL_TO_FLOAT "{\"SrcT\": {\"type\": \"DT_BOOL\"}, \"DstT\": {\"type\": \"DT_FLOAT\"}}"

/* Floats of slack after every buffer a fast kernel reads: XNNPACK may read XNN_EXTRA_BYTES past the end. */
#define SLACK 4

/* ---- the op ------------------------------------------------------------------------------------------ */

/* A _CposeKeepPeaks node over x with a kh x kw window, its output allocated (the fuser fills the params
 * directly: the op has no attributes). */
static cpose_status peaks_init(op_test *t, nn_tensor x, int64_t kh, int64_t kw) {
  memset(t, 0, sizeof *t);
  nn_keep_peaks_params *p = calloc(1, sizeof *p);
  if (!p) return CPOSE_ERR_OUT_OF_MEMORY;
  p->kernel_h = kh;
  p->kernel_w = kw;
  t->node.name = (char *)"peaks";
  t->node.op = &nn_op_keep_peaks;
  t->node.n_inputs = t->node.n_outputs = t->n_inputs = 1;
  t->node.params = p;
  t->in[0] = x;
  cpose_status status = nn_op_keep_peaks.infer(&t->node, t->in, t->out);
  if (status == CPOSE_OK) t->out[0].data = calloc(1, nn_padded_bytes(&t->out[0]));
  return status;
}

/* Elements of two float32 tensors of n values whose bits differ: -0 differs from +0, but any NaN equals any
 * NaN (x86 makes -inf * 0 a NaN with the sign bit set, NaN * 0 keeps the NaN's sign). */
static int64_t bit_mismatches(const float *a, const float *b, int64_t n) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    if (memcmp(&a[i], &b[i], sizeof(float)) != 0 && !(isnan(a[i]) && isnan(b[i]))) {
      if (bad < 5) fprintf(stderr, "  element %lld: %.9g vs %.9g\n", (long long)i, a[i], b[i]);
      bad++;
    }
  }
  return bad;
}

/* The reference on a [1,3,4,2] image worked by hand. Channel 0 (3x3 windows, clipped at the edges):
 *   1 5 2 2      0 5 0 0
 *   3 0 4 2  ->  0 0 0 0
 *   7 1 1 6      7 0 0 6
 * Channel 1 is 3 everywhere but one -2: every 3 is the maximum of its window (ties all stay) and the -2 is
 * kept as -2 * 0 = -0. */
static void test_hand_case(void) {
  const float c0[12] = {1, 5, 2, 2, 3, 0, 4, 2, 7, 1, 1, 6}, want0[12] = {0, 5, 0, 0, 0, 0, 0, 0, 7, 0, 0, 6};
  float x[24 + SLACK] = {0}, want[24];
  for (int i = 0; i < 12; i++) {
    x[2 * i] = c0[i];
    x[2 * i + 1] = i == 6 ? -2.0f : 3.0f;
    want[2 * i] = want0[i];
    want[2 * i + 1] = i == 6 ? -0.0f : 3.0f;
  }
  const int64_t d[4] = {1, 3, 4, 2};
  op_test t;
  CHECK_OK(peaks_init(&t, op_tensor(NN_F32, 4, d, x), 3, 3));
  CHECK_OK(op_test_run_ref(&t));
  CHECK(bit_mismatches(t.out[0].data, want, 24) == 0);
  op_test_free(&t);

  /* What the graph does with NaN and infinities, in a 1x3 window along one row: a NaN never is the maximum,
   * so it becomes NaN * 0 = NaN and does not hide its neighbours' peaks; -inf is below the -FLT_MAX the
   * maximum starts from, so it is never kept (-inf * 0 = NaN); +inf is kept and zeroes its neighbours. */
  float specials[7 + SLACK] = {NAN, 2.0f, 1.0f, -INFINITY, INFINITY, 5.0f, -0.0f};
  const float expected[7] = {NAN, 2.0f, 0.0f, NAN, INFINITY, 0.0f, -0.0f};
  const int64_t ds[4] = {1, 1, 7, 1};
  CHECK_OK(peaks_init(&t, op_tensor(NN_F32, 4, ds, specials), 1, 3));
  CHECK_OK(op_test_run_ref(&t));
  CHECK(bit_mismatches(t.out[0].data, expected, 7) == 0);
  op_test_free(&t);
}

/* Runs `op` (reference kernel) on the inputs into a new buffer; NULL on failure. */
static void *run_node(const nn_op *op, const char *attr, int n_in, const nn_tensor *in, nn_tensor *out) {
  op_test t;
  cpose_status status = op_test_init(&t, op, attr, n_in, in);
  if (status == CPOSE_OK) status = op_test_run_ref(&t);
  if (status != CPOSE_OK) {
    fprintf(stderr, "  %s failed: %s\n", op->type, cpose_last_error());
    op_test_free(&t);
    return NULL;
  }
  *out = t.out[0];
  free(t.node.params); /* keep the output buffer: the caller frees it */
  cJSON_Delete(t.attr);
  return out->data;
}

/* The fused reference against Mul(x, Cast(Equal(x, MaxPool(x)))) node by node, bit for bit. */
static int64_t against_graph(const nn_tensor *x, int64_t k) {
  char attr[512];
  snprintf(attr, sizeof attr,
           "{\"ksize\": {\"list\": {\"i\": [\"1\", \"%lld\", \"%lld\", \"1\"]}}, \"strides\": {\"list\": "
           "{\"i\": [\"1\", \"1\", \"1\", \"1\"]}}, \"padding\": {\"s\": \"U0FNRQ==\"}}",
           (long long)k, (long long)k);
  nn_tensor pooled = {0}, mask = {0}, mask_f = {0}, product = {0};
  void *p1 = run_node(&nn_op_max_pool, attr, 1, x, &pooled);
  nn_tensor eq_in[2] = {*x, pooled};
  void *p2 = p1 ? run_node(&nn_op_equal, NULL, 2, eq_in, &mask) : NULL;
  void *p3 = p2 ? run_node(&nn_op_cast, CAST_BOOL_TO_FLOAT, 1, &mask, &mask_f) : NULL;
  nn_tensor mul_in[2] = {*x, mask_f};
  void *p4 = p3 ? run_node(&nn_op_mul, NULL, 2, mul_in, &product) : NULL;
  int64_t bad = 1;
  if (p4) {
    op_test t;
    if (peaks_init(&t, *x, k, k) == CPOSE_OK && op_test_run_ref(&t) == CPOSE_OK) {
      bad = bit_mismatches(t.out[0].data, product.data, nn_numel(x));
    }
    op_test_free(&t);
  }
  free(p1), free(p2), free(p3), free(p4);
  return bad;
}

/* The fast kernel into a fresh buffer against the reference output in t, bit for bit; -1 when the node has
 * no fast kernel. */
static int64_t fast_against_ref(op_test *t, int threads) {
  nn_tensor out = t->out[0];
  out.data = calloc(1, nn_padded_bytes(&out));
  pthreadpool_t pool = threads > 1 ? pthreadpool_create((size_t)threads) : NULL;
  void *state = NULL;
  int64_t bad;
  cpose_status status = nn_op_keep_peaks.fast_create(&t->node, t->in, &out, pool, &state);
  if (status == CPOSE_ERR_UNSUPPORTED) {
    bad = -1;
  } else if (status != CPOSE_OK || nn_op_keep_peaks.fast_run(state, pool) != CPOSE_OK) {
    bad = 1;
  } else {
    bad = bit_mismatches(out.data, t->out[0].data, nn_numel(&out));
  }
  nn_op_keep_peaks.fast_destroy(state);
  if (pool) pthreadpool_destroy(pool);
  free(out.data);
  return bad;
}

/* Odd shapes, windows from 1x1 to past the image, values with many ties and every special float. */
static void test_fast_and_graph(void) {
  static const int64_t shapes[][4] = {
      {1, 1, 1, 1}, {1, 5, 7, 3}, {2, 9, 4, 17}, {1, 2, 2, 20}, {1, 33, 17, 80}};
  static const int64_t windows[][2] = {{3, 3}, {5, 5}, {1, 3}, {2, 2}, {3, 1}, {1, 1}, {8, 8}, {9, 9}};
  enum { MAX_ELEMENTS = 2 * 9 * 4 * 17 + 33 * 17 * 80 };
  float *x = malloc((MAX_ELEMENTS + SLACK) * sizeof *x);
  CHECK(x != NULL);
  if (!x) return;
  op_fill(x, MAX_ELEMENTS, 3, 0.0f, 8.0f);
  for (int64_t i = 0; i < MAX_ELEMENTS; i++) x[i] = (float)(int)x[i] - 2.0f; /* -2 .. 5: ties everywhere */
  const float specials[] = {NAN, INFINITY, -INFINITY, -0.0f, FLT_MAX, -FLT_MAX};
  for (int64_t i = 0; i < MAX_ELEMENTS; i += 97) x[i] = specials[(i / 97) % 6];
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    nn_tensor in = op_tensor(NN_F32, 4, shapes[s], x);
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
      const int64_t kh = windows[w][0], kw = windows[w][1];
      if (kh == kw) CHECK(against_graph(&in, kh) == 0);
      op_test t;
      CHECK_OK(peaks_init(&t, in, kh, kw));
      CHECK_OK(op_test_run_ref(&t));
      for (int threads = 1; threads <= 2; threads++) {
        int64_t bad = fast_against_ref(&t, threads);
        if (bad != (kh * kw > 64 ? -1 : 0)) {
          fprintf(stderr, "shape %zu, window %lldx%lld, %d threads: %lld\n", s, (long long)kh, (long long)kw,
                  threads, (long long)bad);
        }
        CHECK(bad == (kh * kw > 64 ? -1 : 0)); /* windows past 64 pixels run the reference */
      }
      op_test_free(&t);
    }
  }
  free(x);

  /* rank 3 and int32 inputs are refused */
  int32_t xi[4] = {0};
  const int64_t d3[3] = {1, 2, 2}, d4[4] = {1, 1, 2, 2};
  op_test t;
  CHECK(peaks_init(&t, op_tensor(NN_F32, 3, d3, xi), 3, 3) == CPOSE_ERR_INVALID_ARGUMENT);
  op_test_free(&t);
  CHECK(peaks_init(&t, op_tensor(NN_I32, 4, d4, xi), 3, 3) == CPOSE_ERR_UNSUPPORTED);
  op_test_free(&t);
}

/* ---- the fuser, on whole models ---------------------------------------------------------------------- */

static const int64_t graph_dims[4] = {1, 4, 5, 2};

/* Runs `output` of the model on both backends (threads 1 and 2 on the fast one) and checks the result
 * against want (40 values) and how many kernels of op type `type` ran in each. */
static void check_runs(const cpose_model *model, const char *output, const float *x, const float *want,
                       const char *type, int type_count) {
  for (int run = 0; run < 3 && model; run++) {
    cpose_session_params params = cpose_session_params_default();
    params.backend = run == 0 ? CPOSE_BACKEND_REF : CPOSE_BACKEND_FAST;
    params.threads = run == 2 ? 2 : 1;
    params.outputs = &output;
    params.output_count = 1;
    params.profile = 1;
    cpose_session *session = NULL;
    CHECK_OK(cpose_session_create(model, &params, &session));
    if (!session) continue;
    cpose_tensor out;
    CHECK_OK(cpose_session_run(session, x, 40));
    CHECK_OK(cpose_session_output(session, 0, &out));
    CHECK(out.rank == 4 && out.dims[3] == 2);
    CHECK(bit_mismatches(out.data, want, 40) == 0);
    CHECK(graph_kernels(session, type) == type_count);
    cpose_session_destroy(session);
  }
}

static void test_fuse_keep_peaks(void) {
  float x[40], want[40];
  op_fill(x, 40, 5, 0.0f, 4.0f);
  for (int i = 0; i < 40; i++) x[i] = (float)(int)x[i];
  op_test t;
  const int64_t d[4] = {1, 4, 5, 2};
  CHECK_OK(peaks_init(&t, op_tensor(NN_F32, 4, d, x), 3, 3));
  CHECK_OK(op_test_run_ref(&t));
  memcpy(want, t.out[0].data, sizeof want);
  op_test_free(&t);

  /* CenterNet's spelling, and the commuted one: both become one _CposeKeepPeaks, and nothing else runs. */
  // clang-format off
  const char *spellings[] = {
      NODE("pool", "MaxPool", "\"x\"", POOL_ATTR(3, 3, 1)) ","
      NODE("eq", "Equal", "\"x\",\"pool\"", "{}") ","
      NODE("cast", "Cast", "\"eq\"", CAST_BOOL_TO_FLOAT) ","
      NODE("out", "Mul", "\"x\",\"cast\"", "{}"),
      NODE("pool", "MaxPool", "\"x\"", POOL_ATTR(3, 3, 1)) ","
      NODE("eq", "Equal", "\"pool\",\"x\"", "{}") ","
      NODE("cast", "Cast", "\"eq\"", CAST_BOOL_TO_FLOAT) ","
      NODE("out", "Mul", "\"cast\",\"x\"", "{}"),
  };
  // clang-format on
  for (int s = 0; s < 2; s++) {
    cpose_model *model = load_graph(graph_dims, spellings[s], "", NULL, 0);
    check_runs(model, "out", x, want, "_CposeKeepPeaks", 1);
    check_runs(model, "out", x, want, "Equal", 0);
    cpose_model_destroy(model);
  }

  /* A look-alike stays as it is: the pool reads another tensor, Relu(x) (equal to x here, where x >= 0, so
   * the values do not change, but the fuser cannot know that). */
  // clang-format off
  cpose_model *model = load_graph(graph_dims,
      NODE("r", "Relu", "\"x\"", "{}") ","
      NODE("pool", "MaxPool", "\"r\"", POOL_ATTR(3, 3, 1)) ","
      NODE("eq", "Equal", "\"x\",\"pool\"", "{}") ","
      NODE("cast", "Cast", "\"eq\"", CAST_BOOL_TO_FLOAT) ","
      NODE("out", "Mul", "\"x\",\"cast\"", "{}"),
      "", NULL, 0);
  // clang-format on
  check_runs(model, "out", x, want, "_CposeKeepPeaks", 0);
  check_runs(model, "out", x, want, "Equal", 1);
  cpose_model_destroy(model);
}

/* MobileNetV3's hard-swish: Mul(Mul(x, 1/6), Relu6(AddV2(x, 3))) becomes one _CposeHardSwish. */
static void test_fuse_hard_swish(void) {
  const float constants[2] = {1.0f / 6.0f, 3.0f};
  float x[40], want[40];
  op_fill(x, 40, 6, -5.0f, 5.0f);
  for (int i = 0; i < 40; i++) {
    float r = x[i] + 3.0f;
    r = r < 0.0f ? 0.0f : r > 6.0f ? 6.0f : r;
    want[i] = (x[i] * (1.0f / 6.0f)) * r;
  }
  // clang-format off
  cpose_model *model = load_graph(graph_dims,
      CONST("sixth", "DT_FLOAT") ","
      CONST("three", "DT_FLOAT") ","
      NODE("add", "AddV2", "\"x\",\"three\"", "{}") ","
      NODE("relu6", "Relu6", "\"add\"", "{}") ","
      NODE("scaled", "Mul", "\"sixth\",\"x\"", "{}") ","
      NODE("out", "Mul", "\"scaled\",\"relu6\"", "{}"),
      "{\"name\":\"sixth\",\"shape\":[],\"dtype\":\"float32\"},"
      "{\"name\":\"three\",\"shape\":[],\"dtype\":\"float32\"}",
      constants, sizeof constants);
  // clang-format on
  /* Both kernels reproduce the graph's rounding: the values are exact. */
  check_runs(model, "out", x, want, "_CposeHardSwish", 1);
  cpose_model_destroy(model);
}

int main(void) {
  test_hand_case();
  test_fast_and_graph();
  test_fuse_keep_peaks();
  test_fuse_hard_swish();
  return test_finish("test_fuse");
}
