/* _CposeConvBlock ([1x1 conv ->] depthwise conv [-> 1x1 conv]): its banded fast kernel against its reference
 * kernel (the parts' reference kernels in turn) on odd shapes, every mix of parts, filter size, stride,
 * padding and activation, on 1 and 2 threads; and the fuser, which makes blocks of a model's nodes on the
 * fast backend only and leaves a model's results as they were. Skips on a CPU without AVX-512F, where no
 * block is made. */
#include <stdbool.h>
#include <string.h>

#include "conv_test.h"
#include "graph_test.h"
#include "nn/gemm.h"
#include "nn/ops/conv_block.h"
#include "op_test.h"

extern const nn_op nn_op_conv_block, nn_op_conv2d, nn_op_fused_conv2d;
extern const nn_op nn_op_depthwise_conv2d, nn_op_fused_depthwise_conv2d;

/* Sums of up to 40 + 25 + 40 products of values in [-1, 1], in another order than the reference's. */
#define TOLERANCE 1e-4

typedef struct block_case {
  int64_t batch, height, width, c0, c1, c2; /* c0 is c1 without an expansion, c2 is c1 without a projection */
  int kernel, stride;
  const char *padding;
  const char *fused[NN_BLOCK_PARTS]; /* each part's fused_ops (NULL: the plain op, no bias) */
  bool expand, project;
} block_case;

/* A tensor of random values in [-1, 1], with the slack the fast kernels may read past the end. */
static nn_tensor random_tensor(int rank, const int64_t *dims, unsigned seed) {
  nn_tensor t = op_tensor(NN_F32, rank, dims, NULL);
  t.data = calloc(1, nn_padded_bytes(&t));
  op_fill(t.data, nn_numel(&t), seed, -1.0f, 1.0f);
  return t;
}

/* Part k of the case as a parsed node reading x, with its filter and bias appended to `inputs`. */
static cpose_status init_part(op_test *t, const block_case *c, int k, nn_tensor x, nn_tensor *inputs,
                              int *n_inputs, unsigned seed) {
  bool depthwise = k == NN_BLOCK_DEPTHWISE;
  int64_t cin = x.dims[3], cout = k == NN_BLOCK_EXPAND ? c->c1 : k == NN_BLOCK_PROJECT ? c->c2 : 1;
  int64_t size = depthwise ? c->kernel : 1;
  const int64_t w_dims[4] = {size, size, cin, cout}, b_dims[1] = {depthwise ? cin : cout};
  conv_spec spec = conv_spec_default();
  spec.stride_h = spec.stride_w = depthwise ? c->stride : 1;
  spec.padding = depthwise ? c->padding : "VALID";
  spec.fused = c->fused[k];
  const nn_op *op = depthwise ? (spec.fused ? &nn_op_fused_depthwise_conv2d : &nn_op_depthwise_conv2d)
                              : (spec.fused ? &nn_op_fused_conv2d : &nn_op_conv2d);
  nn_tensor in[3] = {x, random_tensor(4, w_dims, seed), random_tensor(1, b_dims, seed + 1)};
  int count = spec.fused ? 3 : 2;
  for (int i = 1; i < count; i++) inputs[(*n_inputs)++] = in[i];
  if (!spec.fused) free(in[2].data);
  char attr[1024];
  return op_test_init(t, op, conv_attr(attr, sizeof attr, &spec), count, in);
}

static void describe(const block_case *c, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%s%s (%lld,%lld,%lld,%lld) -> %lld -> %lld, %dx%d stride %d %s, %s / %s / %s",
           c->expand ? "1x1 + " : "", "depthwise", c->project ? " + 1x1" : "", (long long)c->batch,
           (long long)c->height, (long long)c->width, (long long)c->c0, (long long)c->c1, (long long)c->c2,
           c->kernel, c->kernel, c->stride, c->padding, c->fused[0] ? c->fused[0] : "plain",
           c->fused[1] ? c->fused[1] : "plain", c->fused[2] ? c->fused[2] : "plain");
}

static void check_block(const block_case *c, unsigned seed) {
  char text[256];
  describe(c, text, sizeof text);
  const int64_t x_dims[4] = {c->batch, c->height, c->width, c->expand ? c->c0 : c->c1};
  nn_tensor inputs[7];
  int n_inputs = 1;
  inputs[0] = random_tensor(4, x_dims, seed);
  op_test parts[NN_BLOCK_PARTS];
  nn_conv_block_params params = {{NULL}};
  bool present[NN_BLOCK_PARTS] = {c->expand, true, c->project};
  nn_tensor x = inputs[0];
  cpose_status status = CPOSE_OK;
  for (int k = 0; k < NN_BLOCK_PARTS && status == CPOSE_OK; k++) {
    if (!present[k]) continue;
    status = init_part(&parts[k], c, k, x, inputs, &n_inputs, seed + 10 * (unsigned)k);
    params.parts[k] = &parts[k].node;
    x = parts[k].out[0];
  }
  CHECK_OK(status);
  op_test block;
  memset(&block, 0, sizeof block);
  block.node.name = (char *)"block";
  block.node.op = &nn_op_conv_block;
  block.node.n_inputs = block.n_inputs = n_inputs;
  block.node.n_outputs = 1;
  block.node.params = malloc(sizeof params);
  memcpy(block.node.params, &params, sizeof params);
  memcpy(block.in, inputs, (size_t)n_inputs * sizeof inputs[0]);
  if (status == CPOSE_OK) CHECK_OK(status = nn_op_conv_block.infer(&block.node, block.in, block.out));
  if (status == CPOSE_OK) {
    CHECK(block.out[0].dims[3] == (c->project ? c->c2 : c->c1));
    block.out[0].data = calloc(1, nn_padded_bytes(&block.out[0]));
    CHECK_OK(status = op_test_run_ref(&block));
  }
  for (int threads = 1; status == CPOSE_OK && threads <= 2; threads++) {
    int mismatches = op_test_compare_fast(&block, TOLERANCE, TOLERANCE, threads);
    if (mismatches != 0) fprintf(stderr, "%s, %d threads: %d mismatches\n", text, threads, mismatches);
    CHECK(mismatches == 0);
  }
  op_test_free(&block);
  for (int k = 0; k < NN_BLOCK_PARTS; k++) {
    if (params.parts[k]) op_test_free(&parts[k]);
  }
  for (int i = 0; i < n_inputs; i++) free(inputs[i].data);
}

/* Each filter x stride x padding x mix of parts; sizes, channels and activations cycle through their values
 * so that each meets many of the others. Widths from 1 to 19 put pixels on both edges, in the middle and in
 * the unrolled groups; heights above the band give several bands per stripe. */
static void test_fast_matches_reference(void) {
  static const int64_t sizes[][2] = {{7, 5}, {13, 9}, {8, 6}, {3, 19}, {40, 1}, {5, 5}};
  static const int64_t channels[][3] = {{3, 5, 1}, {1, 16, 17}, {17, 33, 40}, {8, 1, 4}, {4, 48, 16}};
  static const char *const acts[] = {"BiasAdd", "BiasAdd,Relu", "BiasAdd,Relu6", NULL};
  static const bool mixes[][2] = {{true, true}, {false, true}, {true, false}};
  int index = 0, run = 0;
  for (int kernel = 3; kernel <= 5; kernel += 2) {
    for (int stride = 1; stride <= 2; stride++) {
      for (int p = 0; p < 2; p++) {
        for (size_t m = 0; m < sizeof mixes / sizeof mixes[0]; m++) {
          for (int repeat = 0; repeat < 3; repeat++, index++) {
            block_case c;
            c.batch = 1 + index % 2;
            c.height = sizes[index % 6][0];
            c.width = sizes[index % 6][1];
            c.c0 = channels[index % 5][0];
            c.c1 = channels[index % 5][1];
            c.c2 = channels[index % 5][2];
            c.kernel = kernel;
            c.stride = stride;
            c.padding = p ? "VALID" : "SAME";
            for (int k = 0; k < NN_BLOCK_PARTS; k++) c.fused[k] = acts[(index + k) % 4];
            c.expand = mixes[m][0];
            c.project = mixes[m][1];
            if (p == 1 && (c.height < kernel || c.width < kernel))
              continue; /* VALID needs the whole window */
            check_block(&c, (unsigned)index);
            run++;
          }
        }
      }
    }
  }
  CHECK(run > 50);
}

/* A 256-pixel-wide image, as in the models: bands of a few rows and stripes of several bands. */
static void test_wide_image(void) {
  block_case c = {1,    40,  256, 16, 64, 24, 3, 2, "SAME", {"BiasAdd,Relu", "BiasAdd,Relu", "BiasAdd"},
                  true, true};
  check_block(&c, 99);
  c.stride = 1;
  c.height = 24;
  check_block(&c, 98);
}

/* ---- the fuser --------------------------------------------------------------------------------------- */

#define WEIGHT(name, shape) "{\"name\":\"" name "\",\"shape\":" shape ",\"dtype\":\"float32\"}"

/* What reads the block's inner nodes too: nothing, the expansion e, the depthwise convolution d. */
typedef enum extra_reader { READS_NOTHING, READS_E, READS_D } extra_reader;

/* x (1, 6, 7, 3) -> 1x1 e -> 3x3 depthwise d at stride 2 -> 1x1 p, out = AddV2(p, q) with q = p, or a 1x1
 * p2 at stride 2 of e, or d itself. The fast backend makes the block e-d-p of the first, d-p of the second
 * (e has another reader), e-d of the third (so has d); the reference backend makes none. */
static void check_fused_graph(extra_reader extra) {
  static const int64_t dims[4] = {1, 6, 7, 3};
  static const char *const q[] = {"p", "p2", "d"};
  static const int fast_convs[] = {0, 2, 1}, ref_convs[] = {2, 3, 2};
  char attr_e[1024], attr_d[1024], attr_p[1024], body[4096];
  conv_spec spec = conv_spec_default();
  spec.fused = "BiasAdd,Relu6";
  conv_attr(attr_e, sizeof attr_e, &spec);
  spec.stride_h = spec.stride_w = 2;
  conv_attr(attr_d, sizeof attr_d, &spec);
  spec = conv_spec_default();
  spec.fused = "BiasAdd";
  conv_attr(attr_p, sizeof attr_p, &spec);
  // clang-format off
  snprintf(body, sizeof body,
      CONST("we", "DT_FLOAT") "," CONST("be", "DT_FLOAT") "," CONST("wd", "DT_FLOAT") ","
      CONST("bd", "DT_FLOAT") "," CONST("wp", "DT_FLOAT") "," CONST("bp", "DT_FLOAT") ","
      NODE("e", "_FusedConv2D", "\"x\",\"we\",\"be\"", "%s") ","
      NODE("d", "FusedDepthwiseConv2dNative", "\"e\",\"wd\",\"bd\"", "%s") ","
      NODE("p", "_FusedConv2D", "\"d\",\"wp\",\"bp\"", "%s") ","
      "%s"
      NODE("out", "AddV2", "\"p\",\"%s\"", "{}"),
      attr_e, attr_d, attr_p, "", q[extra]);
  if (extra == READS_E) {
    char p2[1200];
    snprintf(p2, sizeof p2, NODE("p2", "_FusedConv2D", "\"e\",\"wp\",\"bp\"", "%s") ",", attr_d);
    char *at = strstr(body, "{\"name\":\"out\"");
    memmove(at + strlen(p2), at, strlen(at) + 1);
    memcpy(at, p2, strlen(p2));
  }
  // clang-format on
  /* we (1,1,3,8), be (8), wd (3,3,8,1), bd (8), wp (1,1,8,8), bp (8) */
  static float weights[24 + 8 + 72 + 8 + 64 + 8];
  op_fill(weights, sizeof weights / sizeof weights[0], 7, -1.0f, 1.0f);
  cpose_model *model =
      load_graph(dims, body,
                 WEIGHT("we", "[1,1,3,8]") "," WEIGHT("be", "[8]") "," WEIGHT("wd", "[3,3,8,1]") "," WEIGHT(
                     "bd", "[8]") "," WEIGHT("wp", "[1,1,8,8]") "," WEIGHT("bp", "[8]"),
                 weights, sizeof weights);
  float x[126], results[2][96];
  op_fill(x, 126, 8, -1.0f, 1.0f);
  for (int fast = 0; fast <= 1 && model; fast++) {
    cpose_session_params params = cpose_session_params_default();
    params.backend = fast ? CPOSE_BACKEND_FAST : CPOSE_BACKEND_REF;
    params.profile = 1;
    cpose_session *session = NULL;
    CHECK_OK(cpose_session_create(model, &params, &session));
    if (!session) continue;
    cpose_tensor out;
    CHECK_OK(cpose_session_run(session, x, 126));
    CHECK_OK(cpose_session_output(session, 0, &out));
    CHECK(out.rank == 4 && out.dims[1] == 3 && out.dims[2] == 4 && out.dims[3] == 8);
    memcpy(results[fast], out.data, sizeof results[fast]);
    CHECK(graph_kernels(session, "_CposeConvBlock") == fast);
    CHECK(graph_kernels(session, "_FusedConv2D") == (fast ? fast_convs[extra] : ref_convs[extra]));
    CHECK(graph_kernels(session, "FusedDepthwiseConv2dNative") == !fast);
    cpose_session_destroy(session);
  }
  for (int i = 0; i < 96; i++) CHECK_NEAR(results[1][i], results[0][i], TOLERANCE);
  cpose_model_destroy(model);
}

int main(void) {
  if (!nn_gemm_available()) TEST_SKIP("this CPU has no AVX-512F; no convolution blocks are made");
  test_fast_matches_reference();
  test_wide_image();
  check_fused_graph(READS_NOTHING);
  check_fused_graph(READS_E);
  check_fused_graph(READS_D);
  return test_finish("test_conv_block");
}
