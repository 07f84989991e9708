/* cpose_model_load_memory on a fuzzed model.json: the JSON, the graph (names, references, cycles, ops and
 * their attributes), the weights manifest against the shards' size, the signature; then what a model that
 * loads must support (fuzz_model_load: queries, planning on both backends, a small run). */
#include <string.h>

#include "cpose.h"
#include "targets.h"

/* The weights when the input has no NUL: 64 float32 of small values of both signs (also sensible as
 * float16, uint8 and int32 bytes, read as they come). */
static const float model_json_weights[64] = {
    1.0f, -1.0f, 0.5f, 2.0f,  0.0f,  3.0f, -2.0f, 0.25f, 1.5f, 4.0f, -0.5f, 8.0f,  1.0f, 2.0f, 3.0f, 4.0f,
    0.1f, 0.2f,  0.3f, -0.1f, 16.0f, 1.0f, 1.0f,  1.0f,  2.0f, 2.0f, -3.0f, 0.75f, 5.0f, 6.0f, 7.0f, -8.0f,
    1.0f, -1.0f, 0.5f, 2.0f,  0.0f,  3.0f, -2.0f, 0.25f, 1.5f, 4.0f, -0.5f, 8.0f,  1.0f, 2.0f, 3.0f, 4.0f,
    0.1f, 0.2f,  0.3f, -0.1f, 16.0f, 1.0f, 1.0f,  1.0f,  2.0f, 2.0f, -3.0f, 0.75f, 5.0f, 6.0f, 7.0f, -8.0f,
};

int fuzz_model_json(const uint8_t *data, size_t size) {
  const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
  const size_t json_size = nul ? (size_t)(nul - data) : size;
  const void *weights = nul ? nul + 1 : (const void *)model_json_weights;
  const size_t weights_size = nul ? size - json_size - 1 : sizeof model_json_weights;
  /* An empty input still needs a valid pointer for the JSON. */
  const char *json = size ? (const char *)data : "";
  fuzz_model_load(json, json_size, weights_size ? weights : NULL, weights_size);
  return 0;
}
