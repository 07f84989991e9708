/* What the model targets do with a model that loaded: every query of the API, then a session per backend,
 * and one run when the plan is small. */
#include <stdbool.h>
#include <string.h>

#include "cpose.h"
#include "targets.h"

/* Runs are skipped above these: a hostile graph may plan a huge arena or a long run, which is not a bug. */
#define MODEL_CHECK_MAX_INPUT (1 << 16)         /* input elements */
#define MODEL_CHECK_MAX_ARENA ((size_t)1 << 20) /* bytes */
#define MODEL_CHECK_MAX_FLOPS 1e7
/* The sessions' memory cap: well under libFuzzer's RSS limit (fuzz.sh), so a hostile shape is refused with
 * CPOSE_ERR_LIMIT instead of reported as out-of-memory. */
#define MODEL_CHECK_MAX_SESSION_BYTES ((size_t)256 << 20)

static void model_check_count_op(const char *op, size_t count, void *user) {
  FUZZ_CHECK(op && op[0] && count > 0);
  *(size_t *)user += count;
}

static void model_check_shape(const cpose_tensor *t) {
  FUZZ_CHECK(t->rank >= -1 && t->rank <= CPOSE_MAX_RANK);
  for (int d = 0; d < t->rank; d++) FUZZ_CHECK(t->dims[d] >= -1);
}

/* The element count of an output, after checking its shape; its bytes are all read, so that an output whose
 * shape claims more than its buffer holds shows up under AddressSanitizer (when the buffer is its own). */
static void model_check_output(const cpose_tensor *t) {
  FUZZ_CHECK(t->rank >= 0 && t->rank <= CPOSE_MAX_RANK);
  size_t n = 1;
  for (int d = 0; d < t->rank; d++) {
    FUZZ_CHECK(t->dims[d] >= 0);
    n *= (size_t)t->dims[d];
  }
  size_t bytes = n * (t->dtype == CPOSE_DTYPE_BOOL ? 1 : 4);
  FUZZ_CHECK(bytes == 0 || t->data != NULL);
  const uint8_t *p = t->data;
  unsigned sum = 0;
  for (size_t i = 0; i < bytes; i++) sum += p[i];
  (void)sum;
}

/* Plans a session for `model` on `backend` with input shape `dims` (rank < 0: the declared one) and runs it
 * once when the plan is small. Returns whether the plan was small. */
static bool model_check_session(const cpose_model *model, cpose_backend backend, int rank,
                                const int64_t *dims, size_t input_count) {
  cpose_session_params params = cpose_session_params_default();
  params.backend = backend;
  params.threads = 1;
  params.max_bytes = MODEL_CHECK_MAX_SESSION_BYTES;
  if (rank >= 0) {
    params.input_rank = rank;
    memcpy(params.input_dims, dims, (size_t)rank * sizeof *dims);
  }
  cpose_session *session = NULL;
  cpose_status status = cpose_session_create(model, &params, &session);
  if (status != CPOSE_OK) {
    FUZZ_CHECK(session == NULL);
    FUZZ_CHECK(cpose_last_error()[0] != '\0');
    return false;
  }
  FUZZ_CHECK(session != NULL);
  cpose_session_stats stats;
  cpose_session_get_stats(session, &stats);
  FUZZ_CHECK(stats.fast_kernel_count <= stats.kernel_count);
  FUZZ_CHECK(stats.session_bytes <= MODEL_CHECK_MAX_SESSION_BYTES && stats.arena_bytes <= stats.session_bytes);
  size_t outputs = cpose_session_output_count(session);
  FUZZ_CHECK(outputs > 0);
  for (size_t i = 0; i < outputs; i++) FUZZ_CHECK(cpose_session_output_name(session, i) != NULL);
  FUZZ_CHECK(cpose_session_output_name(session, outputs) == NULL);
  const bool small = input_count <= MODEL_CHECK_MAX_INPUT && stats.arena_bytes <= MODEL_CHECK_MAX_ARENA &&
                     stats.flops <= MODEL_CHECK_MAX_FLOPS;
  if (small) {
    /* Small values of both signs, a fraction and zero: indices, sizes and divisors all come out. */
    static const float pattern[8] = {0.0f, 1.0f, -1.0f, 2.0f, 3.0f, 0.5f, -7.0f, 100.0f};
    float *input = calloc(input_count ? input_count : 1, sizeof *input);
    FUZZ_CHECK(input != NULL);
    for (size_t i = 0; i < input_count; i++) input[i] = pattern[i % 8];
    status = cpose_session_run(session, input, input_count);
    free(input);
    if (status == CPOSE_OK) {
      for (size_t i = 0; i < outputs; i++) {
        cpose_tensor t;
        FUZZ_CHECK(cpose_session_output(session, i, &t) == CPOSE_OK);
        model_check_output(&t);
      }
    } else {
      FUZZ_CHECK(cpose_last_error()[0] != '\0');
    }
  }
  cpose_tensor t;
  FUZZ_CHECK(cpose_session_output(session, outputs, &t) == CPOSE_ERR_NOT_FOUND);
  cpose_session_destroy(session);
  return small;
}

static void check_model(const cpose_model *model) {
  cpose_model_summary summary;
  cpose_model_summarize(model, &summary);
  FUZZ_CHECK(summary.node_count > 0);
  size_t counted = 0;
  cpose_model_op_counts(model, model_check_count_op, &counted);
  FUZZ_CHECK(counted == summary.node_count);
  const char *name = NULL;
  cpose_tensor shape;
  for (size_t i = 0; i < summary.input_count; i++) {
    FUZZ_CHECK(cpose_model_input(model, i, &name, &shape) == CPOSE_OK && name != NULL);
    model_check_shape(&shape);
  }
  for (size_t i = 0; i < summary.output_count; i++) {
    FUZZ_CHECK(cpose_model_output(model, i, &name, &shape) == CPOSE_OK && name != NULL);
    model_check_shape(&shape);
  }
  FUZZ_CHECK(cpose_model_input(model, summary.input_count, &name, &shape) == CPOSE_ERR_NOT_FOUND);
  FUZZ_CHECK(cpose_model_output(model, summary.output_count, &name, &shape) == CPOSE_ERR_NOT_FOUND);

  /* The input shape: the declared one, with unknown dims (-1) as 1; no input at all is fine too. */
  int rank = -1;
  int64_t dims[CPOSE_MAX_RANK];
  size_t input_count = 0;
  if (summary.input_count > 0 && cpose_model_input(model, 0, &name, &shape) == CPOSE_OK && shape.rank >= 0) {
    rank = shape.rank;
    input_count = 1;
    for (int d = 0; d < rank; d++) {
      dims[d] = shape.dims[d] < 0 ? 1 : shape.dims[d];
      input_count = dims[d] > 0 && input_count > MODEL_CHECK_MAX_INPUT / (size_t)dims[d]
                        ? MODEL_CHECK_MAX_INPUT + 1
                        : input_count * (size_t)dims[d];
    }
  }
  /* The fast backend only after the reference one planned a small session: XNNPACK fills buffers that grow
   * with the tensors when it creates its operators (a 2x resize of [1,4,4,2] to 8 x 2^21 pixels: 640 MB at
   * session creation), where the reference backend only reserves its arena. */
  if (model_check_session(model, CPOSE_BACKEND_REF, rank, dims, input_count)) {
    model_check_session(model, CPOSE_BACKEND_FAST, rank, dims, input_count);
  }
}

void fuzz_model_load(const char *json, size_t json_size, const void *weights, size_t weights_size) {
  cpose_model *model = NULL;
  cpose_status status = cpose_model_load_memory(json, json_size, weights, weights_size, &model);
  if (status != CPOSE_OK) {
    FUZZ_CHECK(model == NULL);
    FUZZ_CHECK(cpose_last_error()[0] != '\0');
    return;
  }
  FUZZ_CHECK(model != NULL);
  check_model(model);
  cpose_model_destroy(model);
}
