/* The loader: a tiny valid model loads and runs with the values computed by hand; weights in float16 and
 * uint8 are dequantized exactly; corrupt and hostile model files are rejected with a clear message. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "cpose.h"
#include "test.h"

/* Placeholder x [1,2,2,1] -> AddV2(x, b) -> Relu -> Mul(., w): one graph the cases below vary. */
static const char *valid_model =
    "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
    "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
    "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"1\"},{\"size\":\"2\"},{\"size\":\"2\"},{\"size\":\"1\"}]}}}},"
    "{\"name\":\"b\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
    "{\"name\":\"w\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
    "{\"name\":\"add\",\"op\":\"AddV2\",\"input\":[\"x\",\"b\"],\"attr\":{\"T\":{\"type\":\"DT_FLOAT\"}}},"
    "{\"name\":\"relu\",\"op\":\"Relu\",\"input\":[\"add\"]},"
    "{\"name\":\"out\",\"op\":\"Mul\",\"input\":[\"relu\",\"w\"]}]},"
    "\"weightsManifest\":[{\"paths\":[\"m.bin\"],\"weights\":["
    "{\"name\":\"b\",\"shape\":[1],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"float16\"}},"
    "{\"name\":\"w\",\"shape\":[2,2,1],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.5,"
    "\"min\":-1}}]}]}";

/* b = -2.0 as float16 (0xC000); w = uint8 {0, 2, 3, 10} -> q * 0.5 - 1 = {-1, 0, 0.5, 4}. */
static const unsigned char valid_weights[] = {0x00, 0xC0, 0, 2, 3, 10};

static char *replace(const char *text, const char *from, const char *to) {
  static char buf[8192];
  const char *at = strstr(text, from);
  if (!at) {
    fprintf(stderr, "test bug: '%s' not in the model\n", from);
    exit(1);
  }
  snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  return buf;
}

static void test_valid_model_runs(void) {
  cpose_model *model = NULL;
  CHECK_OK(cpose_model_load_memory(valid_model, strlen(valid_model), valid_weights, sizeof valid_weights, &model));
  if (!model) return;
  cpose_model_summary summary;
  cpose_model_summarize(model, &summary);
  CHECK(summary.node_count == 6);
  CHECK(summary.parameter_count == 5);
  CHECK(summary.input_count == 1 && summary.output_count == 1); /* derived: no signature */
  for (int backend = 0; backend < 2; backend++) {
    cpose_session_params params = cpose_session_params_default();
    params.backend = backend ? CPOSE_BACKEND_REF : CPOSE_BACKEND_FAST;
    cpose_session *session = NULL;
    CHECK_OK(cpose_session_create(model, &params, &session));
    if (!session) continue;
    const float x[4] = {1.0f, 3.0f, 5.0f, 2.5f};
    CHECK_OK(cpose_session_run(session, x, 4));
    cpose_tensor out;
    CHECK_OK(cpose_session_output(session, 0, &out));
    CHECK(out.rank == 4 && out.dims[1] == 2 && out.dims[2] == 2);
    const float *y = out.data;
    /* relu(x - 2) * w = relu(-1, 1, 3, 0.5) * (-1, 0, 0.5, 4) = (0, 0, 1.5, 2) */
    CHECK_NEAR(y[0], 0.0, 0);
    CHECK_NEAR(y[1], 0.0, 0);
    CHECK_NEAR(y[2], 1.5, 0);
    CHECK_NEAR(y[3], 2.0, 0);
    CHECK(cpose_session_run(session, x, 3) == CPOSE_ERR_INVALID_ARGUMENT); /* wrong input size */
    cpose_session_destroy(session);
  }
  /* Any node can be an output, by name with an index. */
  const char *names[] = {"add:0", "relu"};
  cpose_session_params params = cpose_session_params_default();
  params.outputs = names;
  params.output_count = 2;
  cpose_session *session = NULL;
  CHECK_OK(cpose_session_create(model, &params, &session));
  if (session) {
    const float x[4] = {1.0f, 3.0f, 5.0f, 2.5f};
    CHECK_OK(cpose_session_run(session, x, 4));
    cpose_tensor add, relu;
    CHECK_OK(cpose_session_output(session, 0, &add));
    CHECK_OK(cpose_session_output(session, 1, &relu));
    CHECK_NEAR(((const float *)add.data)[0], -1.0, 0);
    CHECK_NEAR(((const float *)relu.data)[0], 0.0, 0);
    CHECK_NEAR(((const float *)relu.data)[3], 0.5, 0);
    cpose_session_destroy(session);
  }
  const char *missing[] = {"nope"}, *bad_index[] = {"relu:1"};
  params.outputs = missing;
  params.output_count = 1;
  CHECK(cpose_session_create(model, &params, &session) == CPOSE_ERR_NOT_FOUND);
  params.outputs = bad_index;
  CHECK(cpose_session_create(model, &params, &session) == CPOSE_ERR_NOT_FOUND);
  cpose_model_destroy(model);
  cpose_model_destroy(NULL);
  cpose_session_destroy(NULL);
}

typedef struct bad_case {
  const char *what;
  const char *from, *to; /* a replacement in valid_model */
  size_t weights_size;    /* 0: the valid size */
  cpose_status expected;
  const char *message; /* a part of the error message */
} bad_case;

static void test_bad_models(void) {
  const bad_case cases[] = {
      {"malformed JSON", "\"node\":[", "\"node\":[[", 0, CPOSE_ERR_PARSE, "not valid JSON"},
      {"no topology", "modelTopology", "modelTopologx", 0, CPOSE_ERR_PARSE, "modelTopology.node"},
      {"truncated shard", "", "", 5, CPOSE_ERR_PARSE, "shards end after 5 bytes"},
      {"offsets past the end", "\"shape\":[2,2,1]", "\"shape\":[4000]", 0, CPOSE_ERR_PARSE, "weight 'w' needs bytes"},
      {"huge dimensions", "\"shape\":[2,2,1]", "\"shape\":[65536,65536,65536]", 0, CPOSE_ERR_LIMIT, "elements"},
      {"negative dimension", "\"shape\":[2,2,1]", "\"shape\":[-4]", 0, CPOSE_ERR_LIMIT, "negative"},
      {"unknown weight dtype", "\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\"",
       "\"dtype\":\"complex64\",\"quantization\":{\"dtype\":\"uint8\"", 0, CPOSE_ERR_UNSUPPORTED, "complex64"},
      {"dtype differs from graph", "{\"name\":\"b\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}}",
       "{\"name\":\"b\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_INT32\"}}}", 0, CPOSE_ERR_PARSE,
       "float32 in the manifest but int32"},
      {"unknown quantization", "{\"dtype\":\"uint8\",", "{\"dtype\":\"int4\",", 0, CPOSE_ERR_UNSUPPORTED, "int4"},
      /* decode_weight writes 4-byte values for quantized weights: a bool (1 byte each) once overflowed. */
      {"quantized bool", "\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\"",
       "\"dtype\":\"bool\",\"quantization\":{\"dtype\":\"uint8\"", 0, CPOSE_ERR_UNSUPPORTED,
       "uint8 quantization is only for float32 and int32 weights, not bool"},
      {"float16 int32", "\"shape\":[1],\"dtype\":\"float32\"", "\"shape\":[1],\"dtype\":\"int32\"", 0,
       CPOSE_ERR_UNSUPPORTED, "float16 quantization is only for float32 weights, not int32"},
      {"cyclic graph", "\"input\":[\"add\"]", "\"input\":[\"out\"]", 0, CPOSE_ERR_PARSE, "cycle"},
      {"unknown op", "\"op\":\"Relu\"", "\"op\":\"FancyOp\"", 0, CPOSE_ERR_UNSUPPORTED, "unknown op 'FancyOp'"},
      {"missing input node", "\"input\":[\"add\"]", "\"input\":[\"ghost\"]", 0, CPOSE_ERR_PARSE, "ghost"},
      {"input index past outputs", "\"input\":[\"add\"]", "\"input\":[\"add:3\"]", 0, CPOSE_ERR_PARSE, "output 3"},
      {"duplicate names", "{\"name\":\"relu\"", "{\"name\":\"add\"", 0, CPOSE_ERR_PARSE, "two nodes"},
      {"const without weight", "{\"name\":\"w\",\"shape\"", "{\"name\":\"v\",\"shape\"", 0, CPOSE_ERR_PARSE,
       "no weight"},
      {"node without op", "\"op\":\"Relu\",", "", 0, CPOSE_ERR_PARSE, "has no op"},
      {"rank too high", "\"shape\":[2,2,1]", "\"shape\":[1,1,1,1,1,1,1,1,4]", 0, CPOSE_ERR_LIMIT, "rank"},
      {"quantization without scale", "\"scale\":0.5,", "", 0, CPOSE_ERR_PARSE, "scale and min"},
      {"weights not an array", "\"weightsManifest\":[", "\"weightsManifest\":5,\"x\":[", 0, CPOSE_ERR_PARSE,
       "weightsManifest"},
      {"bad attribute", "Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}",
       "Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_COMPLEX\"}", 0, CPOSE_ERR_UNSUPPORTED, "DT_COMPLEX"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const bad_case *c = &cases[i];
    const char *json = c->from[0] ? replace(valid_model, c->from, c->to) : valid_model;
    size_t weights_size = c->weights_size ? c->weights_size : sizeof valid_weights;
    cpose_model *model = NULL;
    cpose_status status = cpose_model_load_memory(json, strlen(json), valid_weights, weights_size, &model);
    if (status != c->expected || !strstr(cpose_last_error(), c->message)) {
      fprintf(stderr, "case '%s': got %s: %s\n", c->what, cpose_status_string(status), cpose_last_error());
    }
    CHECK(status == c->expected);
    CHECK(strstr(cpose_last_error(), c->message) != NULL);
    CHECK(model == NULL);
    cpose_model_destroy(model);
  }
}

/* Shape errors surface when a session is planned, naming the node. */
static void test_shape_mismatch(void) {
  const char *json = replace(valid_model, "{\"name\":\"w\",\"shape\":[2,2,1]", "{\"name\":\"w\",\"shape\":[3,1]");
  const unsigned char weights[] = {0x00, 0xC0, 0, 2, 3};
  cpose_model *model = NULL;
  CHECK_OK(cpose_model_load_memory(json, strlen(json), weights, sizeof weights, &model));
  cpose_session_params params = cpose_session_params_default();
  cpose_session *session = NULL;
  CHECK(cpose_session_create(model, &params, &session) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(cpose_last_error(), "node 'out'") != NULL);
  CHECK(session == NULL);
  cpose_model_destroy(model);
}

/* Files: a missing file, and a shard path that leaves the model's folder. */
static void test_files(void) {
  cpose_model *model = NULL;
  CHECK(cpose_model_load("/nonexistent/model.json", &model) == CPOSE_ERR_IO);
  CHECK(strstr(cpose_last_error(), "/nonexistent/model.json") != NULL);
  char dir[] = "/tmp/cpose-test-XXXXXX";
  if (!mkdtemp(dir)) return;
  char path[256];
  snprintf(path, sizeof path, "%s/model.json", dir);
  FILE *f = fopen(path, "w");
  if (!f) return;
  fputs(replace(valid_model, "\"m.bin\"", "\"../../etc/passwd\""), f);
  fclose(f);
  CHECK(cpose_model_load(path, &model) == CPOSE_ERR_PARSE);
  CHECK(strstr(cpose_last_error(), "inside the model's folder") != NULL);
  f = fopen(path, "w");
  fputs(valid_model, f);
  fclose(f);
  CHECK(cpose_model_load(path, &model) == CPOSE_ERR_IO); /* m.bin does not exist */
  CHECK(strstr(cpose_last_error(), "m.bin") != NULL);
  char shard[256];
  snprintf(shard, sizeof shard, "%s/m.bin", dir);
  f = fopen(shard, "wb");
  fwrite(valid_weights, 1, sizeof valid_weights, f);
  fclose(f);
  CHECK_OK(cpose_model_load(path, &model));
  cpose_model_destroy(model);
  remove(shard);
  remove(path);
  rmdir(dir);
}

int main(void) {
  test_valid_model_runs();
  test_bad_models();
  test_shape_mismatch();
  test_files();
  return test_finish("test_model_load");
}
