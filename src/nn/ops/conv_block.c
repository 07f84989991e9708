/*
 * _CposeConvBlock: [1x1 convolution ->] depthwise convolution [-> 1x1 convolution], MobileNet's inverted
 * residual block and the separable convolutions of detection heads. Not a TensorFlow op: the graph fuser
 * (fuse.c) makes it on the fast backend, from the model's own nodes (conv_block.h).
 *
 * Why: run one node at a time, the block writes and reads back its expanded tensor, 4-25 MB at the 256x256
 * stages of CenterNet and Thunder, and those layers wait on memory. The fast kernel runs the block band by
 * band instead: the 1x1 expansion of the few input rows a band of output rows needs goes into a ring buffer,
 * the depthwise convolution reads the ring, the 1x1 projection reads its output, and both buffers stay in
 * cache. Each thread takes a stripe of output rows with buffers of its own. The arithmetic per output is the
 * parts' own (gemm.h, dwconv.h), so band and stripe sizes do not change any value.
 *
 * The reference kernel runs the parts' reference kernels one after the other.
 */
#include "nn/ops/conv_block.h"

#include <string.h>

#include "core/alloc.h"
#include "nn/dwconv.h"
#include "nn/gemm.h"
#include "nn/ops/conv_common.h"
#include "nn/xnn.h"

/* Each part's inputs and output: shapes, and data where they are constants. */
typedef struct block_tensors {
  nn_tensor in[NN_BLOCK_PARTS][3]; /* x (the previous part's output), filter[, bias] */
  nn_tensor out[NN_BLOCK_PARTS];
  int last; /* the part whose output is the block's */
} block_tensors;

static cpose_status chain_parts(const nn_node *node, const nn_tensor *in, block_tensors *t) {
  const nn_conv_block_params *p = node->params;
  memset(t, 0, sizeof *t);
  nn_tensor x = in[0];
  int next = 1; /* the fused node's next input */
  for (int k = 0; k < NN_BLOCK_PARTS; k++) {
    const nn_node *part = p->parts[k];
    if (!part) continue;
    if (part->n_inputs > 3 || next + part->n_inputs - 1 > node->n_inputs) {
      return nn_node_fail(node, CPOSE_ERR_INTERNAL, "part '%s' does not match the block's inputs",
                          part->name);
    }
    t->in[k][0] = x;
    for (int i = 1; i < part->n_inputs; i++) t->in[k][i] = in[next++];
    cpose_status status = part->op->infer(part, t->in[k], &t->out[k]);
    if (status != CPOSE_OK) return status;
    x = t->out[k];
    t->last = k;
  }
  return CPOSE_OK;
}

static cpose_status conv_block_infer(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  block_tensors t;
  cpose_status status = chain_parts(node, in, &t);
  if (status == CPOSE_OK) out[0] = t.out[t.last];
  return status;
}

static double conv_block_flops(const nn_node *node, const nn_tensor *in, const nn_tensor *out) {
  (void)out;
  const nn_conv_block_params *p = node->params;
  block_tensors t;
  if (chain_parts(node, in, &t) != CPOSE_OK) return 0.0;
  double flops = 0.0;
  for (int k = 0; k < NN_BLOCK_PARTS; k++) {
    if (p->parts[k]) flops += p->parts[k]->op->flops(p->parts[k], t.in[k], &t.out[k]);
  }
  return flops;
}

/* ---- reference kernel -------------------------------------------------------------------------------- */

static cpose_status conv_block_run(const nn_node *node, const nn_tensor *in, nn_tensor *out) {
  const nn_conv_block_params *p = node->params;
  block_tensors t;
  cpose_status status = chain_parts(node, in, &t);
  void *buffers[NN_BLOCK_PARTS] = {NULL};
  void *x = in[0].data;
  for (int k = 0; k < NN_BLOCK_PARTS && status == CPOSE_OK; k++) {
    if (!p->parts[k]) continue;
    t.in[k][0].data = x;
    if (k == t.last) t.out[k].row_stride = out[0].row_stride;
    t.out[k].data = k == t.last ? out[0].data : (buffers[k] = cpose_malloc(nn_padded_bytes(&t.out[k])));
    if (!t.out[k].data) {
      status = nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the output of part '%s'",
                            p->parts[k]->name);
      break;
    }
    status = p->parts[k]->op->run(p->parts[k], t.in[k], &t.out[k]);
    x = t.out[k].data;
  }
  for (int k = 0; k < NN_BLOCK_PARTS; k++) cpose_free(buffers[k]);
  return status;
}

/* ---- fast kernel ------------------------------------------------------------------------------------- */

/* Floats of ring and middle buffer one thread aims to keep in its share of L2. */
#define BAND_FLOATS (96 * 1024)
/* Output pixels a band has at least, so that small layers do not stream the weights through the cache for a
 * few rows at a time (Thunder's time measured the same for 1 to 100000: a guard, not a tune). */
#define BAND_MIN_PIXELS 256

typedef struct conv_block_fast {
  nn_gemm *expand, *project; /* or NULL */
  nn_dwconv *depthwise;
  const float *x; /* NHWC (batch, in_h, in_w, c0) */
  float *y;       /* NHWC (batch, out_h, out_w, c2), pixels y_stride apart (c2 channels) */
  size_t batch, in_h, in_w, out_h, out_w;
  size_t c0, c1; /* channels of x and of the depthwise convolution */
  size_t y_stride;
  size_t kernel, stride, pad_top, pad_left;
  size_t band;                       /* output rows per band */
  size_t ring_rows;                  /* expanded input rows a band needs: (band - 1) * stride + kernel */
  size_t stripes;                    /* stripes of output rows, one per pool thread */
  size_t ring_floats, middle_floats; /* per stripe, each a multiple of 16 */
  float *scratch;                    /* stripes x (ring (ring_rows, in_w, c1), middle (band, out_w, c1)) */
} conv_block_fast;

static size_t min_size(size_t a, size_t b) {
  return a < b ? a : b;
}

static size_t round16(size_t n) {
  return (n + 15) / 16 * 16;
}

/* Expands input rows [first, end) of image n into their ring slots (row % ring_rows). */
static void expand_rows(const conv_block_fast *f, size_t n, size_t first, size_t end, float *ring) {
  while (first < end) {
    size_t slot = first % f->ring_rows, count = min_size(end - first, f->ring_rows - slot);
    const float *x = f->x + (n * f->in_h + first) * f->in_w * f->c0;
    nn_gemm_run(f->expand, count * f->in_w, x, f->c0, ring + slot * f->in_w * f->c1, f->c1, NULL);
    first += count;
  }
}

/* Depthwise output row oy of image n into `out` (out_w, c1), pixels out_stride apart. */
static void depthwise_row(const conv_block_fast *f, size_t n, size_t oy, const float *ring, float *out,
                          size_t out_stride) {
  const float *rows[5];
  for (size_t ky = 0; ky < f->kernel; ky++) {
    long iy = (long)(oy * f->stride + ky) - (long)f->pad_top;
    if (iy < 0 || iy >= (long)f->in_h) {
      rows[ky] = NULL;
    } else if (f->expand) {
      rows[ky] = ring + (size_t)iy % f->ring_rows * f->in_w * f->c1;
    } else {
      rows[ky] = f->x + (n * f->in_h + (size_t)iy) * f->in_w * f->c1;
    }
  }
  nn_dwconv_row(f->depthwise, rows, f->in_w, f->pad_left, out, f->out_w, out_stride);
}

/* pthreadpool task: output rows [stripe * out_h / stripes, (stripe + 1) * out_h / stripes) of every image,
 * band by band, in the stripe's own buffers. */
static void run_stripe(void *context, size_t stripe) {
  const conv_block_fast *f = context;
  size_t begin = stripe * f->out_h / f->stripes, end = (stripe + 1) * f->out_h / f->stripes;
  float *ring = f->scratch + stripe * (f->ring_floats + f->middle_floats), *middle = ring + f->ring_floats;
  for (size_t n = 0; n < f->batch; n++) {
    size_t expanded = 0; /* input rows before this one are in the ring or no longer needed */
    for (size_t oy = begin; oy < end; oy += f->band) {
      size_t rows = min_size(f->band, end - oy);
      float *y = f->y + (n * f->out_h + oy) * f->out_w * f->y_stride; /* (rows, out_w, c2) */
      if (f->expand) {
        long first = (long)(oy * f->stride) - (long)f->pad_top;
        size_t from = first > (long)expanded ? (size_t)first : expanded;
        size_t to = min_size((oy + rows - 1) * f->stride + f->kernel - f->pad_top, f->in_h);
        if (to > from) {
          expand_rows(f, n, from, to, ring);
          expanded = to;
        }
      }
      if (!f->project) {
        for (size_t r = 0; r < rows; r++) {
          depthwise_row(f, n, oy + r, ring, y + r * f->out_w * f->y_stride, f->y_stride);
        }
        continue;
      }
      for (size_t r = 0; r < rows; r++)
        depthwise_row(f, n, oy + r, ring, middle + r * f->out_w * f->c1, f->c1);
      nn_gemm_run(f->project, rows * f->out_w, middle, f->c1, y, f->y_stride, NULL);
    }
  }
}

static cpose_status create_depthwise(const nn_node *part, const nn_tensor *in, const nn_conv_geometry *g,
                                     nn_dwconv **out) {
  const nn_conv_params *p = part->params;
  float lo, hi;
  cpose_status status = nn_conv_output_range(part, p->activation, &lo, &hi);
  if (status != CPOSE_OK) return status;
  if (g->kernel_h != g->kernel_w || p->stride_h != p->stride_w || p->dilation_h != 1 || p->dilation_w != 1 ||
      g->multiplier != 1) {
    return nn_node_fail(part, CPOSE_ERR_UNSUPPORTED, "no banded kernel for this depthwise convolution");
  }
  status = nn_dwconv_create((size_t)g->in_c, (int)g->kernel_h, (int)p->stride_h, in[1].data,
                            p->has_bias ? in[2].data : NULL, lo, hi, out);
  return status == CPOSE_OK ? status : nn_node_fail(part, status, "%s", cpose_last_error());
}

/* Band height and ring size for the buffers to fit BAND_FLOATS, stripes for the pool, and the scratch. */
static cpose_status plan_bands(const nn_node *node, conv_block_fast *f, pthreadpool_t pool) {
  size_t ring_row = f->expand ? f->in_w * f->c1 : 0, middle_row = f->project ? f->out_w * f->c1 : 0;
  size_t fixed = f->kernel > f->stride ? (f->kernel - f->stride) * ring_row : 0;
  size_t per_row = f->stride * ring_row + middle_row;
  f->stripes = min_size(pool ? pthreadpool_get_threads_count(pool) : 1, f->out_h);
  f->band = BAND_FLOATS > fixed + per_row ? (BAND_FLOATS - fixed) / per_row : 1;
  if (f->band * f->out_w < BAND_MIN_PIXELS) f->band = (BAND_MIN_PIXELS + f->out_w - 1) / f->out_w;
  f->band = min_size(f->band, (f->out_h + f->stripes - 1) / f->stripes);
  f->ring_rows = (f->band - 1) * f->stride + f->kernel;
  f->ring_floats = round16(f->ring_rows * ring_row);
  f->middle_floats = round16(f->band * middle_row);
  f->scratch = nn_fast_malloc_aligned(f->stripes * (f->ring_floats + f->middle_floats) * sizeof(float));
  if (!f->scratch) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the band buffers");
  return CPOSE_OK;
}

static void conv_block_fast_destroy(void *state) {
  conv_block_fast *f = state;
  if (!f) return;
  nn_gemm_destroy(f->expand);
  nn_gemm_destroy(f->project);
  nn_dwconv_destroy(f->depthwise);
  cpose_free_aligned(f->scratch);
  cpose_free(f);
}

static cpose_status conv_block_fast_create(const nn_node *node, const nn_tensor *in, const nn_tensor *out,
                                           pthreadpool_t pool, void **state_out) {
  const nn_conv_block_params *p = node->params;
  block_tensors t;
  nn_conv_geometry g;
  cpose_status status = chain_parts(node, in, &t);
  if (status == CPOSE_OK) {
    status = nn_conv_geometry_of(p->parts[NN_BLOCK_DEPTHWISE], t.in[NN_BLOCK_DEPTHWISE], true, &g);
  }
  if (status != CPOSE_OK) return status;
  if (nn_numel(&in[0]) == 0 || nn_numel(&out[0]) == 0 || g.in_c == 0) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "nothing to compute: the reference kernel runs it");
  }
  conv_block_fast *f = cpose_calloc(1, sizeof *f);
  if (!f) return nn_node_fail(node, CPOSE_ERR_OUT_OF_MEMORY, "no memory for the fast kernel's state");
  f->x = in[0].data;
  f->y = out[0].data;
  f->batch = (size_t)g.batch;
  f->in_h = (size_t)g.in_h;
  f->in_w = (size_t)g.in_w;
  f->out_h = (size_t)g.out_h;
  f->out_w = (size_t)g.out_w;
  f->c0 = (size_t)in[0].dims[3];
  f->c1 = (size_t)g.in_c;
  f->y_stride = (size_t)nn_row_stride(&out[0]);
  f->kernel = (size_t)g.kernel_h;
  f->stride = (size_t)((const nn_conv_params *)p->parts[NN_BLOCK_DEPTHWISE]->params)->stride_h;
  f->pad_top = (size_t)g.pad_top;
  f->pad_left = (size_t)g.pad_left;
  if (p->parts[NN_BLOCK_EXPAND]) {
    status = nn_conv_gemm_create(p->parts[NN_BLOCK_EXPAND], t.in[NN_BLOCK_EXPAND], &f->expand);
  }
  if (status == CPOSE_OK) {
    status = create_depthwise(p->parts[NN_BLOCK_DEPTHWISE], t.in[NN_BLOCK_DEPTHWISE], &g, &f->depthwise);
  }
  if (status == CPOSE_OK && p->parts[NN_BLOCK_PROJECT]) {
    status = nn_conv_gemm_create(p->parts[NN_BLOCK_PROJECT], t.in[NN_BLOCK_PROJECT], &f->project);
  }
  if (status == CPOSE_OK) status = plan_bands(node, f, pool);
  if (status != CPOSE_OK) {
    conv_block_fast_destroy(f);
    return status;
  }
  *state_out = f;
  return CPOSE_OK;
}

static cpose_status conv_block_fast_run(void *state, pthreadpool_t pool) {
  conv_block_fast *f = state;
  pthreadpool_parallelize_1d(pool, run_stripe, f, f->stripes, 0);
  return CPOSE_OK;
}

const nn_op nn_op_conv_block = {
    .type = "_CposeConvBlock",
    .params_size = sizeof(nn_conv_block_params),
    .infer = conv_block_infer,
    .run = conv_block_run,
    .fast_create = conv_block_fast_create,
    .fast_run = conv_block_fast_run,
    .fast_destroy = conv_block_fast_destroy,
    .flops = conv_block_flops,
    .strided_output = true,
};
