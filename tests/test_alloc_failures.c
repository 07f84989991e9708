/* Every allocation of loading a model, planning a session and running it may fail: sweeping "fail the i-th
 * allocation" over every i must give CPOSE_ERR_OUT_OF_MEMORY (or success once i passes the last allocation),
 * never a crash; leaks show under valgrind or LeakSanitizer. Uses a real model when models/ exists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "cpose.h"
#include "test.h"

/* Loads, plans and runs once with allocation `fail_at` failing (-1: none). Returns the first failure. */
static cpose_status load_plan_run(const char *path, int backend, long fail_at, const float *input, size_t count) {
  cpose_model *model = NULL;
  cpose_session *session = NULL;
  cpose_alloc_fail_after(fail_at);
  cpose_status status = cpose_model_load(path, &model);
  if (status == CPOSE_OK) {
    cpose_session_params params = cpose_session_params_default();
    params.backend = backend;
    status = cpose_session_create(model, &params, &session);
  }
  if (status == CPOSE_OK) status = cpose_session_run(session, input, count);
  cpose_alloc_fail_after(-1);
  cpose_session_destroy(session);
  cpose_model_destroy(model);
  return status;
}

/* Sweeps i = 0, 1, ... until the whole sequence succeeds; every earlier i must fail with out-of-memory. */
static void sweep(const char *path, int backend, const float *input, size_t count) {
  CHECK_OK(load_plan_run(path, backend, -1, input, count)); /* also initializes XNNPACK outside the sweep */
  long i = 0, unexpected = 0;
  for (;; i++) {
    cpose_status status = load_plan_run(path, backend, i, input, count);
    if (status == CPOSE_OK) break;
    if (status != CPOSE_ERR_OUT_OF_MEMORY) {
      if (unexpected++ < 3) fprintf(stderr, "allocation %ld: %s: %s\n", i, cpose_status_string(status), cpose_last_error());
    }
    if (i > 100000) break;
  }
  CHECK(unexpected == 0);
  CHECK(i > 10 && i <= 100000);
  printf("%s (%s backend): %ld allocation points swept\n", path, backend ? "ref" : "fast", i);
}

int main(void) {
  const char *path = "models/movenet-lightning/model.json";
  FILE *f = fopen(path, "r");
  if (!f) TEST_SKIP("%s is missing: run bash scripts/setup.sh", path);
  fclose(f);
  size_t count = 192 * 192 * 3;
  float *input = malloc(count * sizeof *input);
  for (size_t i = 0; i < count; i++) input[i] = (float)(i * 7 % 256);
  sweep(path, CPOSE_BACKEND_FAST, input, count);
  sweep(path, CPOSE_BACKEND_REF, input, count);
  free(input);
  return test_finish("test_alloc_failures");
}
