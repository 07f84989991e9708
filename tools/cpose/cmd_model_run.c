/* cpose model run: runs a TF.js graph model on a raw float32 input and writes the requested tensors in the
 * convention of tfjs-ref.js (DIR/<sanitized node>.f32 plus DIR/manifest.json), so the two diff file by file. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

#define RUN_MAX_OUTPUTS 64
#define RUN_MAX_INPUT_BYTES ((size_t)1 << 30)

static const char usage[] =
    "Usage: cpose model run MODEL.json --input IN.f32 --shape 1,256,256,3 --out DIR [options]\n"
    "Runs the model on IN.f32 (float32 little-endian values, NHWC) and writes each output as float32 to\n"
    "DIR/<node name, runs of characters outside [A-Za-z0-9_.-] replaced by '_'>.f32, plus DIR/manifest.json.\n"
    "\n"
    "  --input-u8 IN.rgb      instead of --input: raw uint8 values, such as an RGB image's bytes (HWC)\n"
    "  --print                also print every output of at most 64 values, one row per last dimension\n"
    "  --dtype int32|float32  the input's dtype (must match the model's; values are truncated for int32)\n"
    "  --outputs A,B          nodes to write, by name with an optional output index (default: the signature's)\n"
    "  --backend fast|ref     XNNPACK kernels (default) or the portable reference kernels\n"
    "  --threads N            worker threads (default 1); while another process keeps one of their cores\n"
    "                         busy, runs fall back to the calling thread (see cpose_threadpool in cpose.h)\n"
    "  --fixed-threads        no fallback: every run uses all N threads, whatever else the machine runs\n"
    "  --bench RUNS           time RUNS inferences after 3 warm-ups; the last line printed is median_ms=<ms>,\n"
    "                         after pooled_runs=<K>/<RUNS> with N > 1: the timed runs that used all N threads\n"
    "                         from start to end (all of them with --fixed-threads)\n"
    "  --profile              print the time and GFLOP/s per op type and of the slowest nodes, averaged over\n"
    "                         all runs\n";

typedef struct run_options {
  const char *model, *input, *input_u8, *shape, *dtype, *outputs, *out, *backend, *threads, *bench;
  bool profile, print, fixed_threads;
} run_options;

static int parse_options(int argc, char **argv, run_options *o) {
  memset(o, 0, sizeof *o);
  struct {
    const char *flag;
    const char **value;
  } flags[] = {{"--input", &o->input},     {"--input-u8", &o->input_u8}, {"--shape", &o->shape},     {"--dtype", &o->dtype},
               {"--outputs", &o->outputs}, {"--out", &o->out},         {"--backend", &o->backend},
               {"--threads", &o->threads}, {"--bench", &o->bench}};
  for (int i = 0; i < argc; i++) {
    bool matched = false, missing = false;
    for (size_t f = 0; f < sizeof flags / sizeof flags[0] && !matched; f++) {
      matched = cli_flag(argc, argv, &i, flags[f].flag, flags[f].value, &missing);
      if (missing) return cli_usage_error("model run", "%s needs a value", flags[f].flag);
    }
    if (matched) continue;
    if (strcmp(argv[i], "--profile") == 0) {
      o->profile = true;
      continue;
    }
    if (strcmp(argv[i], "--print") == 0) {
      o->print = true;
      continue;
    }
    if (strcmp(argv[i], "--fixed-threads") == 0) {
      o->fixed_threads = true;
      continue;
    }
    if (argv[i][0] == '-' || o->model) return cli_usage_error("model run", "unexpected argument '%s'", argv[i]);
    o->model = argv[i];
  }
  if (!o->model || !o->input == !o->input_u8 || !o->shape || !o->out) {
    return cli_usage_error("model run", "MODEL.json, one of --input and --input-u8, --shape and --out are required");
  }
  return CLI_OK;
}

/* Splits "A,B,C" in place into at most RUN_MAX_OUTPUTS names. */
static int split_names(char *list, const char **names) {
  int n = 0;
  for (char *p = strtok(list, ","); p && n < RUN_MAX_OUTPUTS; p = strtok(NULL, ",")) names[n++] = p;
  return n;
}

/* tfjs-ref's file name rule: every run of characters outside [A-Za-z0-9_.-] becomes one '_'. */
static void sanitize(const char *name, char *out, size_t cap) {
  size_t n = 0;
  bool in_run = false;
  for (const char *p = name; *p && n + 1 < cap; p++) {
    bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '.' || *p == '-';
    if (ok || !in_run) out[n++] = ok ? *p : '_';
    in_run = !ok;
  }
  out[n] = '\0';
}

#define PROFILE_MAX_TYPES 64
#define PROFILE_TOP 12

typedef struct profile_totals {
  const char *types[PROFILE_MAX_TYPES];
  double type_ms[PROFILE_MAX_TYPES];
  double type_flops[PROFILE_MAX_TYPES];
  int type_count;
  char top_names[PROFILE_TOP][128];
  double top_ms[PROFILE_TOP];
  double top_flops[PROFILE_TOP];
  double all_ms;
} profile_totals;

static void profile_add_type(profile_totals *p, const cpose_kernel_profile *k) {
  int t = 0;
  while (t < p->type_count && strcmp(p->types[t], k->op) != 0) t++;
  if (t == PROFILE_MAX_TYPES) return;
  if (t == p->type_count) p->types[p->type_count++] = k->op;
  p->type_ms[t] += k->total_ms;
  p->type_flops[t] += k->flops;
}

static void profile_add(const cpose_kernel_profile *k, void *user) {
  profile_totals *p = user;
  p->all_ms += k->total_ms;
  profile_add_type(p, k);
  int slot = PROFILE_TOP - 1;
  if (k->total_ms <= p->top_ms[slot]) return;
  while (slot > 0 && p->top_ms[slot - 1] < k->total_ms) { /* insertion into the descending list */
    p->top_ms[slot] = p->top_ms[slot - 1];
    p->top_flops[slot] = p->top_flops[slot - 1];
    memcpy(p->top_names[slot], p->top_names[slot - 1], sizeof p->top_names[slot]);
    slot--;
  }
  p->top_ms[slot] = k->total_ms;
  p->top_flops[slot] = k->flops;
  snprintf(p->top_names[slot], sizeof p->top_names[slot], "%s (%s)", k->node, k->op);
}

/* GFLOP/s of `flops` per run done in `ms` per run; blank for kernels that only move data. */
static void format_rate(double flops, double ms, char *buf, size_t cap) {
  if (flops > 0 && ms > 0) {
    snprintf(buf, cap, "%7.1f GFLOP/s", flops / ms / 1e6);
  } else {
    snprintf(buf, cap, "%15s", "");
  }
}

static void print_profile(const cpose_session *session, long runs) {
  profile_totals p;
  memset(&p, 0, sizeof p);
  cpose_session_profile(session, profile_add, &p);
  char rate[32];
  printf("profile: %.3f ms per run in kernels\n", p.all_ms / (double)runs);
  for (int t = 0; t < p.type_count; t++) {
    double ms = p.type_ms[t] / (double)runs;
    format_rate(p.type_flops[t], ms, rate, sizeof rate);
    printf("  %-28s %8.3f ms %5.1f%%  %8.1f MFLOP %s\n", p.types[t], ms, 100.0 * p.type_ms[t] / p.all_ms,
           p.type_flops[t] / 1e6, rate);
  }
  printf("slowest nodes:\n");
  for (int i = 0; i < PROFILE_TOP && p.top_ms[i] > 0; i++) {
    double ms = p.top_ms[i] / (double)runs;
    format_rate(p.top_flops[i], ms, rate, sizeof rate);
    printf("  %8.3f ms  %8.1f MFLOP %s  %s\n", ms, p.top_flops[i] / 1e6, rate, p.top_names[i]);
  }
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Runs `runs` timed inferences after 3 warm-ups and returns the median in milliseconds, and how many of the
 * timed runs used the pool from start to end (the others fell back to the calling thread). */
static cpose_status bench(cpose_session *session, const float *input, size_t count, long runs, double *median,
                          size_t *pooled_runs) {
  double *times = malloc((size_t)runs * sizeof *times);
  if (!times) return CPOSE_ERR_OUT_OF_MEMORY;
  cpose_status status = CPOSE_OK;
  for (int i = 0; i < 3 && status == CPOSE_OK; i++) status = cpose_session_run(session, input, count);
  cpose_session_stats before, after;
  cpose_session_get_stats(session, &before);
  for (long i = 0; i < runs && status == CPOSE_OK; i++) {
    double t0 = cli_now_ms();
    status = cpose_session_run(session, input, count);
    times[i] = cli_now_ms() - t0;
  }
  if (status == CPOSE_OK) {
    qsort(times, (size_t)runs, sizeof *times, compare_doubles);
    *median = times[runs / 2];
    cpose_session_get_stats(session, &after);
    *pooled_runs = after.pooled_runs - before.pooled_runs;
  }
  free(times);
  return status;
}

/* Writes output i as float32 to dir and adds its manifest entry. */
static cpose_status write_output(const cpose_session *session, size_t i, const char *dir, cJSON *list) {
  cpose_tensor t;
  cpose_status status = cpose_session_output(session, i, &t);
  if (status != CPOSE_OK) return status;
  size_t n = 1;
  for (int d = 0; d < t.rank; d++) n *= (size_t)t.dims[d];
  float *values = malloc(n * sizeof *values + 1);
  if (!values) return CPOSE_ERR_OUT_OF_MEMORY;
  for (size_t k = 0; k < n; k++) {
    values[k] = t.dtype == CPOSE_DTYPE_FLOAT32 ? ((const float *)t.data)[k]
                : t.dtype == CPOSE_DTYPE_INT32 ? (float)((const int32_t *)t.data)[k]
                                               : (float)((const uint8_t *)t.data)[k];
  }
  const char *name = cpose_session_output_name(session, i);
  char file[1024], path[4096 + 1024];
  sanitize(name, file, sizeof file - 4);
  strcat(file, ".f32");
  snprintf(path, sizeof path, "%s/%s", dir, file);
  status = cli_write_file_atomic(path, values, n * sizeof *values);
  free(values);
  cJSON *entry = cJSON_CreateObject(), *shape = cJSON_CreateArray();
  static const char *dtypes[] = {"?", "float32", "int32", "bool"};
  for (int d = 0; d < t.rank; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t.dims[d]));
  cJSON_AddStringToObject(entry, "node", name);
  cJSON_AddStringToObject(entry, "file", file);
  cJSON_AddItemToObject(entry, "shape", shape);
  cJSON_AddStringToObject(entry, "dtype", dtypes[t.dtype <= 3 ? t.dtype : 0]);
  cJSON_AddItemToArray(list, entry);
  return status;
}

static cpose_status write_manifest(const run_options *o, const cpose_session_params *p, cJSON *outputs,
                                   long runs, double median, size_t pooled_runs) {
  cJSON *m = cJSON_CreateObject(), *shape = cJSON_CreateArray();
  for (int d = 0; d < p->input_rank; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)p->input_dims[d]));
  cJSON_AddStringToObject(m, "model", o->model);
  cJSON_AddStringToObject(m, "input", o->input ? o->input : o->input_u8);
  cJSON_AddItemToObject(m, "shape", shape);
  cJSON_AddStringToObject(m, "dtype", o->dtype ? o->dtype : "float32");
  cJSON_AddStringToObject(m, "backend", p->backend == CPOSE_BACKEND_REF ? "ref" : "fast");
  cJSON_AddNumberToObject(m, "threads", p->threads);
  cJSON_AddBoolToObject(m, "fixedThreads", p->fixed_threads != 0);
  cJSON_AddItemToObject(m, "outputs", outputs);
  if (runs > 0) {
    cJSON_AddNumberToObject(m, "benchMedianMs", median);
    cJSON_AddNumberToObject(m, "benchRuns", (double)runs);
    if (p->threads > 1) cJSON_AddNumberToObject(m, "benchPooledRuns", (double)pooled_runs);
  }
  char *text = cJSON_Print(m);
  char path[4096 + 32];
  snprintf(path, sizeof path, "%s/manifest.json", o->out);
  cpose_status status = text ? cli_write_file_atomic(path, text, strlen(text)) : CPOSE_ERR_OUT_OF_MEMORY;
  free(text);
  cJSON_Delete(m);
  return status;
}

static int configure(const run_options *o, cpose_session_params *p, const char **names, long *runs) {
  *p = cpose_session_params_default();
  if (!cli_parse_dims(o->shape, p->input_dims, CPOSE_MAX_RANK, &p->input_rank)) {
    return cli_usage_error("model run", "--shape '%s' is not a list of positive integers", o->shape);
  }
  if (o->backend && strcmp(o->backend, "ref") != 0 && strcmp(o->backend, "fast") != 0) {
    return cli_usage_error("model run", "--backend must be fast or ref, not '%s'", o->backend);
  }
  p->backend = o->backend && strcmp(o->backend, "ref") == 0 ? CPOSE_BACKEND_REF : CPOSE_BACKEND_FAST;
  long threads = 1;
  if (o->threads && !cli_parse_int(o->threads, 1, 256, &threads)) {
    return cli_usage_error("model run", "--threads must be 1..256, not '%s'", o->threads);
  }
  p->threads = (int)threads;
  p->fixed_threads = o->fixed_threads;
  p->profile = o->profile;
  *runs = 0;
  if (o->bench && !cli_parse_int(o->bench, 1, 100000, runs)) {
    return cli_usage_error("model run", "--bench must be 1..100000, not '%s'", o->bench);
  }
  if (o->dtype && strcmp(o->dtype, "int32") != 0 && strcmp(o->dtype, "float32") != 0) {
    return cli_usage_error("model run", "--dtype must be int32 or float32, not '%s'", o->dtype);
  }
  if (o->outputs) {
    static char list[8192];
    snprintf(list, sizeof list, "%s", o->outputs);
    p->output_count = (size_t)split_names(list, names);
    p->outputs = names;
  }
  return CLI_OK;
}

/* Reads --input (float32 values) or --input-u8 (bytes, widened to float). */
static cpose_status read_input(const run_options *o, float **values_out, size_t *count_out) {
  void *data = NULL;
  size_t bytes = 0;
  cpose_status status = cli_read_file(o->input ? o->input : o->input_u8, RUN_MAX_INPUT_BYTES / 4, &data, &bytes);
  if (status != CPOSE_OK) return status;
  if (o->input && bytes % sizeof(float) != 0) {
    fprintf(stderr, "cpose: %s: %zu bytes is not a whole number of float32 values\n", o->input, bytes);
    free(data);
    return CPOSE_ERR_INVALID_ARGUMENT;
  }
  if (o->input) {
    *values_out = data;
    *count_out = bytes / sizeof(float);
    return CPOSE_OK;
  }
  float *values = malloc(bytes * sizeof *values + 1);
  if (!values) {
    free(data);
    return CPOSE_ERR_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < bytes; i++) values[i] = ((const uint8_t *)data)[i];
  free(data);
  *values_out = values;
  *count_out = bytes;
  return CPOSE_OK;
}

/* Prints a small output (at most 64 values) as rows of its last dimension. */
static void print_output(const cpose_session *session, size_t i) {
  cpose_tensor t;
  if (cpose_session_output(session, i, &t) != CPOSE_OK) return;
  size_t n = 1, row = t.rank > 0 ? (size_t)t.dims[t.rank - 1] : 1;
  for (int d = 0; d < t.rank; d++) n *= (size_t)t.dims[d];
  if (n > 64 || row == 0) return;
  printf("%s:\n", cpose_session_output_name(session, i));
  for (size_t k = 0; k < n; k++) {
    double v = t.dtype == CPOSE_DTYPE_FLOAT32 ? ((const float *)t.data)[k]
               : t.dtype == CPOSE_DTYPE_INT32 ? ((const int32_t *)t.data)[k] : ((const uint8_t *)t.data)[k];
    printf("%s%10.4f%s", k % row ? " " : "  ", v, (k + 1) % row ? "" : "\n");
  }
}

/* The model's input dtype must be what --dtype says (tfjs-ref would fail otherwise too). */
static int check_dtype(const cpose_model *model, const char *dtype) {
  const char *name;
  cpose_tensor t;
  if (!dtype || cpose_model_input(model, 0, &name, &t) != CPOSE_OK) return CLI_OK;
  bool want_int = strcmp(dtype, "int32") == 0;
  if (want_int != (t.dtype == CPOSE_DTYPE_INT32)) {
    fprintf(stderr, "cpose: input '%s' is %s, not %s\n", name, want_int ? "float32" : "int32", dtype);
    return CLI_FAILED;
  }
  return CLI_OK;
}

int cmd_model_run(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return CLI_OK;
    }
  }
  run_options o;
  cpose_session_params params;
  const char *names[RUN_MAX_OUTPUTS];
  long runs;
  int code = parse_options(argc, argv, &o);
  if (code == CLI_OK) code = configure(&o, &params, names, &runs);
  if (code != CLI_OK) return code;

  cpose_model *model = NULL;
  cpose_session *session = NULL;
  float *input = NULL;
  size_t input_count = 0;
  double median = 0;
  size_t pooled_runs = 0;
  cJSON *outputs = NULL;
  cpose_status status = cpose_model_load(o.model, &model);
  if (status != CPOSE_OK) return cli_report("loading the model", status);
  if ((code = check_dtype(model, o.dtype)) != CLI_OK) goto done;
  code = CLI_FAILED;
  if ((status = cpose_session_create(model, &params, &session)) != CPOSE_OK) {
    cli_report("preparing the model", status);
    goto done;
  }
  if (read_input(&o, &input, &input_count) != CPOSE_OK) goto done;
  if ((status = cpose_session_run(session, input, input_count)) != CPOSE_OK) {
    cli_report("running the model", status);
    goto done;
  }
  if (cli_make_dirs(o.out) != CPOSE_OK) goto done;
  outputs = cJSON_CreateArray();
  for (size_t i = 0; i < cpose_session_output_count(session); i++) {
    if ((status = write_output(session, i, o.out, outputs)) != CPOSE_OK) goto done;
  }
  if (runs > 0 && (status = bench(session, input, input_count, runs, &median, &pooled_runs)) != CPOSE_OK) {
    cli_report("benchmarking", status);
    goto done;
  }
  status = write_manifest(&o, &params, outputs, runs, median, pooled_runs);
  outputs = NULL; /* the manifest took it */
  if (status != CPOSE_OK) goto done;
  code = CLI_OK;
  for (size_t i = 0; o.print && i < cpose_session_output_count(session); i++) print_output(session, i);
  if (o.profile) print_profile(session, 1 + (runs > 0 ? 3 + runs : 0));
  if (runs > 0 && params.threads > 1) printf("pooled_runs=%zu/%ld\n", pooled_runs, runs);
  if (runs > 0) printf("median_ms=%.3f\n", median);
done:
  cJSON_Delete(outputs);
  free(input);
  cpose_session_destroy(session);
  cpose_model_destroy(model);
  return code;
}
