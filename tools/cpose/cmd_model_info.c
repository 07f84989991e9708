/* cpose model info MODEL.json: what a model holds and what one inference costs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char usage[] =
    "Usage: cpose model info MODEL.json [--shape 1,256,256,3]\n"
    "Prints the model's inputs and outputs, node count per op, parameter count, FLOPs of one inference and\n"
    "the planned intermediate memory. --shape overrides the input shape.\n";

static void print_tensor_line(const char *kind, const char *name, const cpose_tensor *t) {
  static const char *dtypes[] = {"?", "float32", "int32", "bool"};
  printf("%s %s %s [", kind, name, dtypes[t->dtype <= 3 ? t->dtype : 0]);
  for (int i = 0; i < t->rank; i++) printf(i ? ",%lld" : "%lld", (long long)t->dims[i]);
  printf("]\n");
}

static void print_op(const char *op, size_t count, void *user) {
  (void)user;
  printf("  %-28s %zu\n", op, count);
}

int cmd_model_info(int argc, char **argv) {
  const char *path = NULL, *shape = NULL;
  for (int i = 0; i < argc; i++) {
    bool missing = false;
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return CLI_OK;
    }
    if (cli_flag(argc, argv, &i, "--shape", &shape, &missing)) {
      if (missing) return cli_usage_error("model info", "--shape needs a value");
    } else if (argv[i][0] == '-' || path) {
      return cli_usage_error("model info", "unexpected argument '%s'", argv[i]);
    } else {
      path = argv[i];
    }
  }
  if (!path) return cli_usage_error("model info", "give the model's model.json");
  cpose_session_params params = cpose_session_params_default();
  params.backend = CPOSE_BACKEND_REF;
  if (shape && !cli_parse_dims(shape, params.input_dims, CPOSE_MAX_RANK, &params.input_rank)) {
    return cli_usage_error("model info", "--shape '%s' is not a list of positive integers", shape);
  }
  cpose_model *model = NULL;
  cpose_session *session = NULL;
  cpose_status status = cpose_model_load(path, &model);
  if (status != CPOSE_OK) return cli_report("loading the model", status);
  cpose_model_summary summary;
  cpose_model_summarize(model, &summary);
  printf("model %s\n", path);
  for (size_t i = 0; i < summary.input_count + summary.output_count; i++) {
    const char *name;
    cpose_tensor t;
    bool input = i < summary.input_count;
    if (input) cpose_model_input(model, i, &name, &t);
    else cpose_model_output(model, i - summary.input_count, &name, &t);
    print_tensor_line(input ? "input " : "output", name, &t);
  }
  printf("nodes %zu\n", summary.node_count);
  cpose_model_op_counts(model, print_op, NULL);
  printf("parameters %zu\n", summary.parameter_count);
  status = cpose_session_create(model, &params, &session);
  if (status == CPOSE_OK) {
    cpose_session_stats stats;
    cpose_session_get_stats(session, &stats);
    printf("flops %.0f (%.3f GFLOP)\n", stats.flops, stats.flops / 1e9);
    printf("kernels %zu\n", stats.kernel_count);
    printf("arena_bytes %zu (without reuse: %zu)\n", stats.arena_bytes, stats.naive_bytes);
    printf("session_bytes %zu (arena, folded constants and fast kernels: what a session takes)\n",
           stats.session_bytes);
  }
  cpose_session_destroy(session);
  cpose_model_destroy(model);
  return status == CPOSE_OK ? CLI_OK : cli_report("planning the model", status);
}
