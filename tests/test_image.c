/*
 * The image layer: decoding (JPEG, PNG, EXIF orientation, CMYK, grey, alpha, 16-bit, interlaced), encoding,
 * saving, bad input, allocation failures, the crop transform, the affine warp, resize/letterbox and drawing.
 *
 * Expected pixel values come from ImageMagick (`convert FILE -format '%[pixel:p{X,Y}]' info:`), an
 * independent decoder. For JPEG two decoders may differ by 1-2 per channel (IDCT and chroma upsampling
 * choices); ImageMagick here uses the same libjpeg-turbo and agrees exactly (all 59 COCO dev images, checked
 * once by hand), but the test allows 2. The EXIF orientation layouts were checked against
 * `convert -auto-orient` on the same files. Sample photos (samples/, from scripts/setup.sh) and COCO images
 * are used when present; everything else is built in memory or is the tiny fixture tests/data/cmyk.jpg.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* jpeglib.h needs FILE from stdio.h: it stays in its own block, after it. */
#include <jpeglib.h>
#include <png.h>

#include "core/alloc.h"
#include "cpose.h"
#include "image/image.h"
#include "test.h"

/* ---- helpers ---------------------------------------------------------------------------------------- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const uint8_t *pixel(const cpose_image *im, int x, int y) {
  return im->rgb + ((size_t)y * im->width + x) * 3;
}

static int pixel_near(const cpose_image *im, int x, int y, int r, int g, int b, int tol) {
  const uint8_t *p = pixel(im, x, y);
  int ok = abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
  if (!ok)
    fprintf(stderr, "pixel (%d, %d) = (%d, %d, %d), expected (%d, %d, %d) +- %d\n", x, y, p[0], p[1], p[2], r,
            g, b, tol);
  return ok;
}

/* Decodes and expects failure with `status` and a message containing `needle`. */
static void expect_decode_error(const void *data, size_t size, cpose_status status, const char *needle) {
  cpose_image *im = NULL;
  cpose_status got = cpose_image_decode(data, size, &im);
  CHECK(got == status);
  CHECK(im == NULL);
  if (got != status || !strstr(cpose_last_error(), needle)) {
    fprintf(stderr, "  expected %s with \"%s\", got %s: %s\n", cpose_status_string(status), needle,
            cpose_status_string(got), cpose_last_error());
    CHECK(strstr(cpose_last_error(), needle) != NULL);
  }
  cpose_image_destroy(im);
}

/* An image of 8x8 blocks, cols x rows of them, colors from `colors` (RGB triples) in row-major order. */
static cpose_image *block_image(int cols, int rows, const uint8_t (*colors)[3]) {
  cpose_image *im = NULL;
  CHECK_OK(cpose_image_create(cols * 8, rows * 8, &im));
  for (int y = 0; y < rows * 8; y++) {
    for (int x = 0; x < cols * 8; x++)
      memcpy(im->rgb + ((size_t)y * cols * 8 + x) * 3, colors[(y / 8) * cols + x / 8], 3);
  }
  return im;
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Appends a PNG chunk (length, type, data, CRC) at out + *n. */
static void put_chunk(uint8_t *out, size_t *n, const char *type, const uint8_t *data, uint32_t len) {
  put_be32(out + *n, len);
  memcpy(out + *n + 4, type, 4);
  if (len) memcpy(out + *n + 8, data, len);
  put_be32(out + *n + 8 + len, crc32_of(out + *n + 4, 4 + len));
  *n += 12 + len;
}

/* A PNG signature + IHDR (w x h, 8-bit RGB) + a small IDAT + IEND: enough for libpng to read the header. */
static size_t png_header_only(uint32_t w, uint32_t h, uint8_t *out) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  size_t n = 8;
  memcpy(out, sig, 8);
  uint8_t ihdr[13] = {0};
  put_be32(ihdr, w);
  put_be32(ihdr + 4, h);
  ihdr[8] = 8;
  ihdr[9] = 2;
  put_chunk(out, &n, "IHDR", ihdr, 13);
  static const uint8_t idat[6] = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00};
  put_chunk(out, &n, "IDAT", idat, sizeof idat);
  put_chunk(out, &n, "IEND", NULL, 0);
  return n;
}

/* ---- a PNG writer for test inputs (plain libpng, not cpose's encoder) --------------------------------- */

typedef struct mem_buf {
  uint8_t *data;
  size_t size, cap;
} mem_buf;

static void mem_write(png_structp png, png_bytep p, size_t n) {
  mem_buf *b = png_get_io_ptr(png);
  if (b->size + n > b->cap) {
    b->cap = (b->size + n) * 2;
    b->data = realloc(b->data, b->cap);
  }
  memcpy(b->data + b->size, p, n);
  b->size += n;
}

static void mem_flush(png_structp png) {
  (void)png;
}

/* Writes rows of `bytes_per_row` bytes (already in the PNG's sample format, 16-bit big-endian). */
static mem_buf write_png(int w, int h, int color_type, int depth, int interlace, const uint8_t *pixels,
                         size_t bytes_per_row, const png_color *palette, int palette_n, const uint8_t *trns,
                         int trns_n) {
  mem_buf b = {0};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    fprintf(stderr, "test PNG writer failed\n");
    exit(1);
  }
  png_set_write_fn(png, &b, mem_write, mem_flush);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (palette) png_set_PLTE(png, info, palette, palette_n);
  if (trns) png_set_tRNS(png, info, trns, trns_n, NULL);
  png_write_info(png, info);
  png_bytep *rows = malloc(sizeof *rows * (size_t)h);
  for (int y = 0; y < h; y++) rows[y] = (png_bytep)(pixels + (size_t)y * bytes_per_row);
  png_write_image(png, rows);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  free(rows);
  return b;
}

/* A grey JPEG written with plain libjpeg (cpose's encoder writes only RGB). */
static uint8_t *write_grey_jpeg(int w, int h, const uint8_t *grey, unsigned long *size_out) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char *out = NULL;
  jpeg_mem_dest(&cinfo, &out, size_out);
  cinfo.image_width = (JDIMENSION)w;
  cinfo.image_height = (JDIMENSION)h;
  cinfo.input_components = 1;
  cinfo.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 100, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(grey + (size_t)cinfo.next_scanline * w);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return out;
}

/* ---- decoding real photos ----------------------------------------------------------------------------- */

static void test_samples(void) {
  cpose_image *im = NULL;
  FILE *f = fopen("samples/messi5.jpg", "rb");
  if (!f) {
    printf("samples/ is missing (run bash scripts/setup.sh): sample photo checks skipped\n");
    return;
  }
  fclose(f);
  double t0 = now_ms();
  CHECK_OK(cpose_image_load("samples/messi5.jpg", &im));
  double t1 = now_ms();
  if (im) {
    CHECK(im->width == 548 && im->height == 342);
    CHECK(pixel_near(im, 0, 0, 44, 43, 39, 2));
    CHECK(pixel_near(im, 10, 20, 46, 45, 43, 2));
    CHECK(pixel_near(im, 274, 171, 43, 74, 199, 2));
    CHECK(pixel_near(im, 547, 341, 86, 124, 51, 2));
    CHECK(pixel_near(im, 100, 300, 99, 148, 43, 2));
    printf("decode samples/messi5.jpg (548x342): %.2f ms\n", t1 - t0);
  }
  cpose_image_destroy(im);
  im = NULL;

  /* basketball1.png is 8-bit grey: replicated into R, G and B exactly. */
  t0 = now_ms();
  CHECK_OK(cpose_image_load("samples/basketball1.png", &im));
  t1 = now_ms();
  if (im) {
    CHECK(im->width == 640 && im->height == 480);
    CHECK(pixel_near(im, 0, 0, 82, 82, 82, 0));
    CHECK(pixel_near(im, 10, 20, 45, 45, 45, 0));
    CHECK(pixel_near(im, 320, 240, 188, 188, 188, 0));
    CHECK(pixel_near(im, 639, 479, 18, 18, 18, 0));
    CHECK(pixel_near(im, 500, 100, 204, 204, 204, 0));
    printf("decode samples/basketball1.png (640x480 grey): %.2f ms\n", t1 - t0);
  }
  cpose_image_destroy(im);
  im = NULL;

  /* Truncated: the first half of messi5.jpg. libjpeg alone would pad it with grey and succeed. */
  size_t size = 0;
  uint8_t *data = test_read_file("samples/messi5.jpg", &size);
  expect_decode_error(data, size / 2, CPOSE_ERR_PARSE, "truncated JPEG");
  free(data);
}

static void test_coco(void) {
  const char *path = "../shared/data/coco-val-dev/images/000000000139.jpg";
  FILE *f = fopen(path, "rb");
  if (!f) {
    printf("%s is missing: COCO check skipped\n", path);
    return;
  }
  fclose(f);
  cpose_image *im = NULL;
  double t0 = now_ms();
  CHECK_OK(cpose_image_load(path, &im));
  double t1 = now_ms();
  if (im) {
    CHECK(im->width == 640 && im->height == 426);
    CHECK(pixel_near(im, 0, 0, 170, 136, 73, 2));
    CHECK(pixel_near(im, 320, 213, 124, 97, 88, 2));
    CHECK(pixel_near(im, 639, 425, 107, 41, 45, 2));
    printf("decode %s (640x426): %.2f ms\n", path, t1 - t0);
  }
  cpose_image_destroy(im);
}

static cpose_image *gradient_image(int w, int h);

/* ---- EXIF orientation -----------------------------------------------------------------------------------
 */

/* Writes TIFF numbers in either byte order. */
typedef struct tiff_writer {
  uint8_t *p;
  size_t n;
  int big_endian;
} tiff_writer;

static void put16(tiff_writer *t, unsigned v) {
  t->p[t->n + (t->big_endian ? 0 : 1)] = (uint8_t)(v >> 8);
  t->p[t->n + (t->big_endian ? 1 : 0)] = (uint8_t)v;
  t->n += 2;
}

static void put32(tiff_writer *t, uint32_t v) {
  put16(t, t->big_endian ? v >> 16 : v & 0xffff);
  put16(t, t->big_endian ? v & 0xffff : v >> 16);
}

/* An APP1 Exif segment (marker included) with IFD0 = {Make (ignored), Orientation = value}. */
static size_t exif_segment(int big_endian, int value, uint8_t *out) {
  uint8_t tiff[64];
  tiff_writer t = {tiff, 0, big_endian};
  tiff[t.n++] = big_endian ? 'M' : 'I';
  tiff[t.n++] = big_endian ? 'M' : 'I';
  put16(&t, 42);
  put32(&t, 8); /* IFD0 right after the header */
  put16(&t, 2); /* two entries: tag, type, count, value */
  put16(&t, 0x010f), put16(&t, 2), put32(&t, 4), put32(&t, 0);
  put16(&t, 0x0112), put16(&t, 3), put32(&t, 1), put16(&t, (unsigned)value), put16(&t, 0);
  put32(&t, 0); /* no next IFD */
  size_t len = 2 + 6 + t.n;
  out[0] = 0xff, out[1] = 0xe1, out[2] = (uint8_t)(len >> 8), out[3] = (uint8_t)len;
  memcpy(out + 4, "Exif\0\0", 6);
  memcpy(out + 10, tiff, t.n);
  return 4 + 6 + t.n;
}

static void test_exif_parse(void) {
  uint8_t seg[128];
  for (int be = 0; be < 2; be++) {
    for (int v = 1; v <= 8; v++) {
      size_t n = exif_segment(be, v, seg);
      CHECK(image_exif_orientation(seg + 4, n - 4) == v);
      /* Every truncation is bounds-checked: "as stored" (1) unless the tag is entirely there. */
      for (size_t cut = 0; cut < n - 4; cut++) {
        int got = image_exif_orientation(seg + 4, cut);
        CHECK(got == 1 || (got == v && cut >= 6 + 8 + 2 + 12 + 10)); /* up to the end of the value */
      }
    }
    size_t n = exif_segment(be, 9, seg);
    CHECK(image_exif_orientation(seg + 4, n - 4) == 1); /* out of range */
    n = exif_segment(be, 6, seg);
    memset(seg + 4 + 6 + 4, 0xff, 4); /* IFD0 offset 0xffffffff: far outside */
    CHECK(image_exif_orientation(seg + 4, n - 4) == 1);
    n = exif_segment(be, 6, seg);
    memset(seg + 4 + 6 + 8, 0xff, 2);                   /* 65535 entries claimed, two present */
    CHECK(image_exif_orientation(seg + 4, n - 4) == 6); /* found before running off the end */
    seg[4 + 6 + 8 + 2 + 12 + 1] ^= 0x01;                /* orientation tag 0x0112 -> another tag */
    seg[4 + 6 + 8 + 2 + 12] ^= 0x01;
    CHECK(image_exif_orientation(seg + 4, n - 4) == 1); /* then the walk stops at the end, safely */
  }
  CHECK(image_exif_orientation((const uint8_t *)"Exif\0\0XX*\0\0\0\0\0", 14) == 1);
  CHECK(image_exif_orientation((const uint8_t *)"JFIF", 4) == 1);
  CHECK(image_exif_orientation(NULL, 0) == 1);
}

/* Whether `im` is `plain` (the same JPEG decoded without EXIF) moved as EXIF orientation v says, pixel for
 * pixel: displayed (x, y) against the stored pixel of the EXIF definitions. */
static int oriented_exactly(const cpose_image *plain, const cpose_image *im, int v) {
  int w = plain->width, h = plain->height;
  if (im->width != (v >= 5 ? h : w) || im->height != (v >= 5 ? w : h)) return 0;
  for (int y = 0; y < im->height; y++) {
    for (int x = 0; x < im->width; x++) {
      int sx = x, sy = y;
      switch (v) {
        case 2:
          sx = w - 1 - x;
          break;
        case 3:
          sx = w - 1 - x, sy = h - 1 - y;
          break;
        case 4:
          sy = h - 1 - y;
          break;
        case 5:
          sx = y, sy = x;
          break;
        case 6:
          sx = y, sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y, sy = h - 1 - x;
          break;
        case 8:
          sx = w - 1 - y, sy = x;
          break;
      }
      if (memcmp(pixel(im, x, y), pixel(plain, sx, sy), 3) != 0) return 0;
    }
  }
  return 1;
}

/* `jpeg` with an APP1 Exif segment (orientation v, byte order big_endian) inserted after SOI; malloc'ed. */
static uint8_t *with_orientation(const void *jpeg, size_t size, int big_endian, int v, size_t *size_out) {
  uint8_t *out = malloc(size + 128);
  memcpy(out, jpeg, 2);
  size_t seg = exif_segment(big_endian, v, out + 2);
  memcpy(out + 2 + seg, (const uint8_t *)jpeg + 2, size - 2);
  *size_out = size + seg;
  return out;
}

static void test_exif_decode(void) {
  /* A 3x2 grid of 8x8 blocks, red green blue / yellow magenta cyan, as a 4:4:4 quality-100 JPEG. */
  static const uint8_t colors[6][3] = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255},
                                       {255, 255, 0}, {255, 0, 255}, {0, 255, 255}};
  const char names[] = "RGBYMC";
  /* The displayed grid for each orientation, rows separated by '/', as `convert -auto-orient` shows it. */
  static const char *expected[9] = {NULL,       "RGB/YMC",  "BGR/CMY",  "CMY/BGR", "YMC/RGB",
                                    "RY/GM/BC", "YR/MG/CB", "CB/MG/YR", "BC/GM/RY"};
  cpose_image *grid = block_image(3, 2, colors);
  void *jpeg = NULL;
  size_t jpeg_size = 0;
  CHECK_OK(cpose_image_encode(grid, CPOSE_IMAGE_FORMAT_JPEG, 100, &jpeg, &jpeg_size));
  cpose_image *plain = NULL;
  CHECK_OK(cpose_image_decode(jpeg, jpeg_size, &plain));
  if (!plain) return;
  for (int be = 0; be < 2; be++) {
    for (int v = 1; v <= 8; v++) {
      size_t size = 0;
      uint8_t *with_exif = with_orientation(jpeg, jpeg_size, be, v, &size);
      cpose_image *im = NULL;
      CHECK_OK(cpose_image_decode(with_exif, size, &im));
      free(with_exif);
      if (!im) continue;
      /* Read the grid back by nearest block color. */
      char got[16] = {0};
      size_t k = 0;
      for (int by = 0; by < im->height / 8; by++) {
        if (by) got[k++] = '/';
        for (int bx = 0; bx < im->width / 8; bx++) {
          const uint8_t *p = pixel(im, bx * 8 + 4, by * 8 + 4);
          int best = 0, best_d = 1 << 30;
          for (int c = 0; c < 6; c++) {
            int d = abs(p[0] - colors[c][0]) + abs(p[1] - colors[c][1]) + abs(p[2] - colors[c][2]);
            if (d < best_d) best = c, best_d = d;
          }
          got[k++] = names[best];
        }
      }
      if (strcmp(got, expected[v]) != 0)
        fprintf(stderr, "orientation %d (%s): got %s, expected %s\n", v, be ? "MM" : "II", got, expected[v]);
      CHECK(strcmp(got, expected[v]) == 0);
      CHECK(oriented_exactly(plain, im, v));
      cpose_image_destroy(im);
    }
  }
  cpose_image_destroy(plain);
  cpose_image_encoded_free(jpeg);
  cpose_image_destroy(grid);

  /* A taller, odd-sized 4:2:0 image: rows arrive in several strips, the last one partial. */
  cpose_image *tall = gradient_image(37, 103);
  CHECK_OK(cpose_image_encode(tall, CPOSE_IMAGE_FORMAT_JPEG, 75, &jpeg, &jpeg_size));
  plain = NULL;
  CHECK_OK(cpose_image_decode(jpeg, jpeg_size, &plain));
  for (int v = 1; v <= 8 && plain; v++) {
    size_t size = 0;
    uint8_t *with_exif = with_orientation(jpeg, jpeg_size, v % 2, v, &size);
    cpose_image *im = NULL;
    CHECK_OK(cpose_image_decode(with_exif, size, &im));
    if (im) CHECK(oriented_exactly(plain, im, v));
    cpose_image_destroy(im);
    free(with_exif);
  }
  cpose_image_destroy(plain);
  cpose_image_encoded_free(jpeg);
  cpose_image_destroy(tall);
}

/* ---- JPEG color spaces ----------------------------------------------------------------------------------
 */

static void test_jpeg_color(void) {
  /* CMYK (Adobe, inverted) made by ImageMagick; expected colors from `convert cmyk.jpg -colorspace sRGB`. */
  cpose_image *im = NULL;
  CHECK_OK(cpose_image_load("tests/data/cmyk.jpg", &im));
  if (im) {
    CHECK(im->width == 32 && im->height == 8);
    CHECK(pixel_near(im, 4, 4, 255, 0, 0, 2));
    CHECK(pixel_near(im, 12, 4, 30, 120, 200, 2));
    CHECK(pixel_near(im, 20, 4, 250, 240, 10, 2));
    CHECK(pixel_near(im, 28, 4, 20, 20, 20, 2));
  }
  cpose_image_destroy(im);
  im = NULL;

  /* Grey JPEG: R = G = B = the grey level (quality 100, within 2). */
  enum { W = 16, H = 16 };
  uint8_t grey[W * H];
  for (int i = 0; i < W * H; i++) grey[i] = (uint8_t)(40 + (i % W) * 8 + (i / W) * 3);
  unsigned long size = 0;
  uint8_t *jpeg = write_grey_jpeg(W, H, grey, &size);
  CHECK_OK(cpose_image_decode(jpeg, size, &im));
  if (im) {
    CHECK(im->width == W && im->height == H);
    int ok = 1;
    for (int i = 0; i < W * H; i++) {
      const uint8_t *p = im->rgb + i * 3;
      if (p[0] != p[1] || p[1] != p[2] || abs(p[0] - grey[i]) > 2) ok = 0;
    }
    CHECK(ok);
  }
  cpose_image_destroy(im);
  free(jpeg);
}

/* ---- PNG variants ---------------------------------------------------------------------------------------
 */

static int round_div255(int v) {
  return (v + 127) / 255;
}

static void test_png_variants(void) {
  enum { W = 7, H = 5 }; /* odd sizes: Adam7 passes of uneven lengths */
  cpose_image *im = NULL;

  /* 8-bit RGB, interlaced and not: the same pixels. */
  for (int interlace = 0; interlace < 2; interlace++) {
    uint8_t px[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)(i * 37 + 11);
    mem_buf b = write_png(W, H, PNG_COLOR_TYPE_RGB, 8, interlace, px, W * 3, NULL, 0, NULL, 0);
    CHECK_OK(cpose_image_decode(b.data, b.size, &im));
    if (im) CHECK(im->width == W && im->height == H && memcmp(im->rgb, px, sizeof px) == 0);
    cpose_image_destroy(im);
    im = NULL;
    free(b.data);
  }

  /* 16-bit RGBA: scaled to 8 bits with rounding (v * 255 / 65535), then composited onto black. */
  {
    uint16_t v[W * H * 4];
    uint8_t px[W * H * 8];
    for (int i = 0; i < W * H * 4; i++) {
      v[i] = (uint16_t)(i % 4 == 3 ? (i / 4) * 1871 % 65536 : i * 4099 % 65536);
      px[2 * i] = (uint8_t)(v[i] >> 8), px[2 * i + 1] = (uint8_t)v[i];
    }
    mem_buf b = write_png(W, H, PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, px, W * 8, NULL, 0, NULL, 0);
    CHECK_OK(cpose_image_decode(b.data, b.size, &im));
    if (im) {
      int ok = 1;
      for (int p = 0; p < W * H; p++) {
        int a = (v[p * 4 + 3] * 255 + 32767) / 65535;
        for (int c = 0; c < 3; c++) {
          int c8 = (v[p * 4 + c] * 255 + 32767) / 65535;
          if (im->rgb[p * 3 + c] != round_div255(c8 * a)) ok = 0;
        }
      }
      CHECK(ok);
    }
    cpose_image_destroy(im);
    im = NULL;
    free(b.data);
  }

  /* 8-bit grey + alpha: composited onto black, replicated. */
  {
    uint8_t px[W * H * 2];
    for (int i = 0; i < W * H; i++) px[2 * i] = (uint8_t)(i * 29 + 3), px[2 * i + 1] = (uint8_t)(i * 53);
    px[1] = 0;   /* fully transparent: black whatever its grey */
    px[3] = 255; /* opaque: unchanged */
    mem_buf b = write_png(W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 1, px, W * 2, NULL, 0, NULL, 0);
    CHECK_OK(cpose_image_decode(b.data, b.size, &im));
    if (im) {
      int ok = 1;
      for (int i = 0; i < W * H; i++) {
        int want = round_div255(px[2 * i] * px[2 * i + 1]);
        for (int c = 0; c < 3; c++) ok &= im->rgb[i * 3 + c] == want;
      }
      CHECK(ok);
      CHECK(pixel_near(im, 0, 0, 0, 0, 0, 0));
      CHECK(pixel_near(im, 1, 0, px[2], px[2], px[2], 0));
    }
    cpose_image_destroy(im);
    im = NULL;
    free(b.data);
  }

  /* 16-bit grey: scaled with rounding. */
  {
    static const uint16_t g[5] = {0, 65535, 32896, 1000, 40000}; /* -> 0, 255, 128, 4, 156 */
    static const uint8_t want[5] = {0, 255, 128, 4, 156};
    uint8_t px[10];
    for (int i = 0; i < 5; i++) px[2 * i] = (uint8_t)(g[i] >> 8), px[2 * i + 1] = (uint8_t)g[i];
    mem_buf b = write_png(5, 1, PNG_COLOR_TYPE_GRAY, 16, 0, px, 10, NULL, 0, NULL, 0);
    CHECK_OK(cpose_image_decode(b.data, b.size, &im));
    if (im) {
      for (int i = 0; i < 5; i++) CHECK(pixel_near(im, i, 0, want[i], want[i], want[i], 0));
    }
    cpose_image_destroy(im);
    im = NULL;
    free(b.data);
  }

  /* 1-bit grey: 0 -> 0, 1 -> 255. Row of 9 pixels = 2 bytes. */
  {
    uint8_t px[2] = {0xa5, 0x80}; /* 1010 0101 1 */
    mem_buf b = write_png(9, 1, PNG_COLOR_TYPE_GRAY, 1, 0, px, 2, NULL, 0, NULL, 0);
    CHECK_OK(cpose_image_decode(b.data, b.size, &im));
    if (im) {
      static const int bits[9] = {1, 0, 1, 0, 0, 1, 0, 1, 1};
      for (int i = 0; i < 9; i++) CHECK(pixel_near(im, i, 0, bits[i] * 255, bits[i] * 255, bits[i] * 255, 0));
    }
    cpose_image_destroy(im);
    im = NULL;
    free(b.data);
  }

  /* Palette with tRNS: entry 1 half transparent, entry 2 fully transparent. */
  {
    png_color pal[3] = {{10, 200, 30}, {200, 100, 50}, {255, 255, 255}};
    uint8_t trns[3] = {255, 128, 0};
    uint8_t px[3] = {0, 1, 2};
    mem_buf b = write_png(3, 1, PNG_COLOR_TYPE_PALETTE, 8, 0, px, 3, pal, 3, trns, 3);
    CHECK_OK(cpose_image_decode(b.data, b.size, &im));
    if (im) {
      CHECK(pixel_near(im, 0, 0, 10, 200, 30, 0));
      CHECK(
          pixel_near(im, 1, 0, round_div255(200 * 128), round_div255(100 * 128), round_div255(50 * 128), 0));
      CHECK(pixel_near(im, 2, 0, 0, 0, 0, 0));
    }
    cpose_image_destroy(im);
    im = NULL;
    free(b.data);
  }
}

/* ---- encoding and saving --------------------------------------------------------------------------------
 */

static cpose_image *gradient_image(int w, int h) {
  cpose_image *im = NULL;
  CHECK_OK(cpose_image_create(w, h, &im));
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      uint8_t *p = im->rgb + ((size_t)y * w + x) * 3;
      p[0] = (uint8_t)(x * 255 / (w - 1));
      p[1] = (uint8_t)(y * 255 / (h - 1));
      p[2] = (uint8_t)((x + y) * 127 / (w + h));
    }
  }
  return im;
}

static void test_encode(void) {
  /* PNG round trip is exact, on noise (no smoothness to hide behind). */
  cpose_image *noise = NULL;
  CHECK_OK(cpose_image_create(37, 23, &noise));
  uint32_t s = 12345;
  for (size_t i = 0; i < 37 * 23 * 3; i++) {
    s = s * 1103515245u + 12345u;
    noise->rgb[i] = (uint8_t)(s >> 16);
  }
  void *png = NULL;
  size_t png_size = 0;
  CHECK_OK(cpose_image_encode(noise, CPOSE_IMAGE_FORMAT_PNG, 0, &png, &png_size));
  cpose_image *back = NULL;
  CHECK_OK(cpose_image_decode(png, png_size, &back));
  if (back) CHECK(back->width == 37 && back->height == 23 && memcmp(back->rgb, noise->rgb, 37 * 23 * 3) == 0);
  cpose_image_destroy(back);
  back = NULL;

  /* JPEG round trip on a smooth image: close, not exact. */
  cpose_image *grad = gradient_image(64, 48);
  for (int q = 50; q <= 100; q += 45) {
    void *jpeg = NULL;
    size_t jpeg_size = 0;
    CHECK_OK(cpose_image_encode(grad, CPOSE_IMAGE_FORMAT_JPEG, q, &jpeg, &jpeg_size));
    CHECK_OK(cpose_image_decode(jpeg, jpeg_size, &back));
    if (back) {
      double sum = 0;
      int worst = 0;
      for (size_t i = 0; i < 64 * 48 * 3; i++) {
        int d = abs(back->rgb[i] - grad->rgb[i]);
        sum += d;
        if (d > worst) worst = d;
      }
      CHECK(back->width == 64 && back->height == 48);
      CHECK(sum / (64 * 48 * 3) < (q >= 90 ? 1.0 : 3.0));
      CHECK(worst <= (q >= 90 ? 4 : 20));
    }
    cpose_image_destroy(back);
    back = NULL;
    cpose_image_encoded_free(jpeg);
  }

  /* Bad arguments. */
  void *data = NULL;
  size_t size = 0;
  CHECK(cpose_image_encode(grad, CPOSE_IMAGE_FORMAT_JPEG, 0, &data, &size) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(cpose_image_encode(grad, CPOSE_IMAGE_FORMAT_JPEG, 101, &data, &size) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(cpose_image_encode(grad, (cpose_image_format)7, 90, &data, &size) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(cpose_image_encode(NULL, CPOSE_IMAGE_FORMAT_PNG, 90, &data, &size) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(data == NULL && size == 0);

  cpose_image_encoded_free(png);
  cpose_image_destroy(grad);
  cpose_image_destroy(noise);
}

/* The names in `dir` other than "." and "..", joined by spaces. */
static void list_dir(const char *dir, char *out, size_t cap) {
  out[0] = '\0';
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (out[0]) strncat(out, " ", cap - strlen(out) - 1);
    strncat(out, e->d_name, cap - strlen(out) - 1);
  }
  closedir(d);
}

static void test_save(void) {
  char dir[] = "/tmp/cpose_test_image_XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(!"mkdtemp");
    return;
  }
  char path[256], names[512];
  cpose_image *grad = gradient_image(40, 30), *back = NULL;

  snprintf(path, sizeof path, "%s/out.PNG", dir);
  CHECK_OK(cpose_image_save(grad, path, 0));
  CHECK_OK(cpose_image_load(path, &back));
  if (back) CHECK(back->width == 40 && back->height == 30 && memcmp(back->rgb, grad->rgb, 40 * 30 * 3) == 0);
  cpose_image_destroy(back);
  back = NULL;
  /* Overwrite with other content: the new file replaces the old one. */
  memset(grad->rgb, 7, 3 * 40);
  CHECK_OK(cpose_image_save(grad, path, 0));
  CHECK_OK(cpose_image_load(path, &back));
  if (back) CHECK(back->rgb[0] == 7 && back->rgb[3 * 40 - 1] == 7);
  cpose_image_destroy(back);
  back = NULL;

  snprintf(path, sizeof path, "%s/out.jpeg", dir);
  CHECK_OK(cpose_image_save(grad, path, 90));
  CHECK_OK(cpose_image_load(path, &back));
  if (back) CHECK(back->width == 40 && back->height == 30);
  cpose_image_destroy(back);
  back = NULL;

  /* Failures leave nothing behind: no temporary files, no partial output. */
  snprintf(path, sizeof path, "%s/out.bmp", dir);
  CHECK(cpose_image_save(grad, path, 90) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(cpose_last_error(), ".png") != NULL);
  snprintf(path, sizeof path, "%s/missing/out.png", dir);
  CHECK(cpose_image_save(grad, path, 90) == CPOSE_ERR_IO);
  CHECK(strstr(cpose_last_error(), path) == cpose_last_error());
  snprintf(path, sizeof path, "%s/x.jpg", dir);
  CHECK(cpose_image_save(grad, path, 0) == CPOSE_ERR_INVALID_ARGUMENT);
  list_dir(dir, names, sizeof names);
  CHECK(strcmp(names, "out.PNG out.jpeg") == 0 || strcmp(names, "out.jpeg out.PNG") == 0);
  if (strcmp(names, "out.PNG out.jpeg") != 0 && strcmp(names, "out.jpeg out.PNG") != 0)
    fprintf(stderr, "left in %s: %s\n", dir, names);

  /* Loading: a missing file, a directory. */
  snprintf(path, sizeof path, "%s/none.png", dir);
  CHECK(cpose_image_load(path, &back) == CPOSE_ERR_IO);
  CHECK(strstr(cpose_last_error(), path) == cpose_last_error());
  CHECK(cpose_image_load(dir, &back) == CPOSE_ERR_IO);
  CHECK(back == NULL);

  snprintf(path, sizeof path, "%s/out.PNG", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/out.jpeg", dir);
  unlink(path);
  rmdir(dir);
  cpose_image_destroy(grad);
}

/* ---- bad input ------------------------------------------------------------------------------------------
 */

static void test_bad_input(void) {
  cpose_image *im = NULL;
  expect_decode_error("", 0, CPOSE_ERR_PARSE, "empty file");
  uint8_t random[1000];
  uint32_t s = 99;
  for (size_t i = 0; i < sizeof random; i++) {
    s = s * 1103515245u + 12345u;
    random[i] = (uint8_t)(s >> 16);
  }
  random[0] = 0x42; /* not a magic byte by chance */
  expect_decode_error(random, sizeof random, CPOSE_ERR_PARSE, "not a JPEG or PNG file");
  expect_decode_error("GIF89a......", 12, CPOSE_ERR_UNSUPPORTED, "GIF");
  expect_decode_error("\xff\xd8", 2, CPOSE_ERR_PARSE, "truncated");
  expect_decode_error("\xff\xd8\xff", 3, CPOSE_ERR_PARSE, "JPEG");
  expect_decode_error("\x89PNG", 4, CPOSE_ERR_PARSE, "truncated");
  CHECK(cpose_image_decode(NULL, 5, &im) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(cpose_image_decode("x", 1, NULL) == CPOSE_ERR_INVALID_ARGUMENT);

  /* A small JPEG and PNG, then every prefix of them: each must fail cleanly (a JPEG is complete once its
   * last scanline's data is there, so only prefixes that lose image data must fail). */
  cpose_image *grad = gradient_image(24, 16);
  void *jpeg = NULL, *png = NULL;
  size_t jpeg_size = 0, png_size = 0;
  CHECK_OK(cpose_image_encode(grad, CPOSE_IMAGE_FORMAT_JPEG, 90, &jpeg, &jpeg_size));
  CHECK_OK(cpose_image_encode(grad, CPOSE_IMAGE_FORMAT_PNG, 0, &png, &png_size));
  long jpeg_ok = 0, png_ok = 0, unexpected = 0;
  for (size_t cut = 0; cut < jpeg_size; cut++) {
    cpose_status st = cpose_image_decode(jpeg, cut, &im);
    if (st == CPOSE_OK) {
      jpeg_ok++;
      cpose_image_destroy(im);
      im = NULL;
    } else if (st != CPOSE_ERR_PARSE) {
      unexpected++;
    }
  }
  for (size_t cut = 0; cut < png_size; cut++) {
    cpose_status st = cpose_image_decode(png, cut, &im);
    if (st == CPOSE_OK) {
      png_ok++;
      cpose_image_destroy(im);
      im = NULL;
    } else if (st != CPOSE_ERR_PARSE) {
      unexpected++;
    }
  }
  CHECK(unexpected == 0);
  CHECK(jpeg_ok <= 2); /* at most the cuts that drop only the EOI marker */
  CHECK(png_ok <= 12); /* at most the cuts inside the trailing IEND chunk */
  expect_decode_error(jpeg, jpeg_size / 2, CPOSE_ERR_PARSE, "truncated JPEG");
  expect_decode_error(png, png_size / 2, CPOSE_ERR_PARSE, "truncated PNG");

  /* Flipped bytes: any status, never a crash (valgrind or the sanitizers watch the reads). */
  uint8_t *copy = malloc(jpeg_size > png_size ? jpeg_size : png_size);
  for (int round = 0; round < 600; round++) {
    const uint8_t *src = round % 2 ? png : jpeg;
    size_t n = round % 2 ? png_size : jpeg_size;
    memcpy(copy, src, n);
    for (int k = 0; k < 1 + round % 4; k++) {
      s = s * 1103515245u + 12345u;
      size_t at = (s >> 8) % n;
      if (at < 8 && round % 2) at = 8; /* keep the PNG signature, so the PNG decoder is what gets tested */
      copy[at] ^= (uint8_t)(1u << ((s >> 4) % 8));
    }
    if (cpose_image_decode(copy, n, &im) == CPOSE_OK) {
      CHECK(im->width > 0 && im->height > 0);
      cpose_image_destroy(im);
      im = NULL;
    }
  }
  free(copy);

  /* Headers claiming huge or zero sizes: refused before any pixel buffer is allocated. */
  uint8_t hdr[128];
  size_t n = png_header_only(100000, 100000, hdr);
  expect_decode_error(hdr, n, CPOSE_ERR_LIMIT, "100000x100000 pixels is above the cap");
  n = png_header_only(0, 10, hdr);
  expect_decode_error(hdr, n, CPOSE_ERR_PARSE, "corrupt PNG");
  n = png_header_only(10, 10, hdr);
  expect_decode_error(hdr, n, CPOSE_ERR_PARSE, "PNG"); /* the header is fine, the data is not */

  uint8_t *patched = malloc(jpeg_size);
  memcpy(patched, jpeg, jpeg_size);
  size_t sof = 0;
  for (size_t i = 2; i + 9 < jpeg_size; i++) {
    if (patched[i] == 0xff && patched[i + 1] == 0xc0) {
      sof = i;
      break;
    }
  }
  CHECK(sof > 0);
  if (sof) {
    /* SOF0: marker (2), length (2), precision (1), height (2), width (2). JPEG sizes stop at 65535. */
    patched[sof + 5] = 0xfd, patched[sof + 6] = 0xe8; /* 65000 */
    patched[sof + 7] = 0xfd, patched[sof + 8] = 0xe8;
    expect_decode_error(patched, jpeg_size, CPOSE_ERR_LIMIT, "65000x65000 pixels is above the cap");
    patched[sof + 5] = 0, patched[sof + 6] = 0;
    expect_decode_error(patched, jpeg_size, CPOSE_ERR_PARSE, "corrupt JPEG");
  }
  free(patched);

  /* Creating images: sizes checked too. */
  CHECK(cpose_image_create(0, 5, &im) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(cpose_image_create(100000, 100000, &im) == CPOSE_ERR_LIMIT);
  CHECK(cpose_image_create(-3, -3, &im) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(im == NULL);
  cpose_image_destroy(NULL);

  cpose_image_encoded_free(jpeg);
  cpose_image_encoded_free(png);
  cpose_image_destroy(grad);
}

/* ---- allocation failures ---------------------------------------------------------------------------------
 */

/* Runs `op` with allocation i failing for i = 0, 1, ... until it succeeds; every earlier run must fail with
 * CPOSE_ERR_OUT_OF_MEMORY (leaks show under valgrind). */
static void sweep(const char *name, cpose_status (*op)(void *), void *arg) {
  long i = 0, unexpected = 0;
  for (; i < 10000; i++) {
    cpose_alloc_fail_after(i);
    cpose_status st = op(arg);
    cpose_alloc_fail_after(-1);
    if (st == CPOSE_OK) break;
    if (st != CPOSE_ERR_OUT_OF_MEMORY && unexpected++ < 3) {
      fprintf(stderr, "%s, allocation %ld: %s: %s\n", name, i, cpose_status_string(st), cpose_last_error());
    }
  }
  CHECK(unexpected == 0);
  CHECK(i > 0 && i < 10000);
  printf("%s: %ld allocation points swept\n", name, i);
}

typedef struct blob {
  const void *data;
  size_t size;
  const cpose_image *image;
  cpose_image_format format;
} blob;

static cpose_status decode_op(void *arg) {
  blob *b = arg;
  cpose_image *im = NULL;
  cpose_status st = cpose_image_decode(b->data, b->size, &im);
  cpose_image_destroy(im);
  return st;
}

static cpose_status encode_op(void *arg) {
  blob *b = arg;
  void *data = NULL;
  size_t size = 0;
  cpose_status st = cpose_image_encode(b->image, b->format, 80, &data, &size);
  cpose_image_encoded_free(data);
  return st;
}

static void test_alloc_failures(void) {
  static const uint8_t colors[6][3] = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255},
                                       {255, 255, 0}, {255, 0, 255}, {0, 255, 255}};
  cpose_image *grid = block_image(3, 2, colors);
  void *jpeg = NULL, *png = NULL;
  size_t jpeg_size = 0, png_size = 0;
  CHECK_OK(cpose_image_encode(grid, CPOSE_IMAGE_FORMAT_JPEG, 90, &jpeg, &jpeg_size));
  /* With EXIF orientation 6, so that the rotation's allocation is swept too. */
  size_t rotated_size = 0;
  uint8_t *rotated = with_orientation(jpeg, jpeg_size, 1, 6, &rotated_size);
  blob b = {rotated, rotated_size, grid, 0};
  sweep("decode JPEG", decode_op, &b);
  size_t cmyk_size = 0;
  uint8_t *cmyk = test_read_file("tests/data/cmyk.jpg", &cmyk_size);
  if (cmyk) {
    b.data = cmyk, b.size = cmyk_size;
    sweep("decode CMYK JPEG", decode_op, &b);
  }
  uint8_t px[7 * 5 * 4];
  for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 13);
  mem_buf interlaced = write_png(7, 5, PNG_COLOR_TYPE_RGB_ALPHA, 8, 1, px, 7 * 4, NULL, 0, NULL, 0);
  b.data = interlaced.data, b.size = interlaced.size;
  sweep("decode PNG", decode_op, &b);
  b.format = CPOSE_IMAGE_FORMAT_JPEG;
  sweep("encode JPEG", encode_op, &b);
  b.format = CPOSE_IMAGE_FORMAT_PNG;
  sweep("encode PNG", encode_op, &b);
  CHECK_OK(cpose_image_encode(grid, CPOSE_IMAGE_FORMAT_PNG, 0, &png, &png_size));
  free(interlaced.data);
  free(cmyk);
  free(rotated);
  cpose_image_encoded_free(jpeg);
  cpose_image_encoded_free(png);
  cpose_image_destroy(grid);
}

/* ---- geometry -------------------------------------------------------------------------------------------
 */

static void test_crop_transform(void) {
  /* Box (100, 50, 40, 100) into a 192x256 net (aspect 0.75): the width grows to 75, both sides x1.25 give
   * 93.75 x 125 around the center (120, 100): region (73.125, 37.5, 93.75, 125), scale 192 / 93.75. */
  image_crop crop;
  CHECK_OK(image_crop_transform(100, 50, 40, 100, 1.25, 192, 256, &crop));
  CHECK_NEAR(crop.region[0], 73.125, 1e-12);
  CHECK_NEAR(crop.region[1], 37.5, 1e-12);
  CHECK_NEAR(crop.region[2], 93.75, 1e-12);
  CHECK_NEAR(crop.region[3], 125, 1e-12);
  double x, y;
  image_affine_apply(&crop.to_crop, 73.125, 37.5, &x, &y); /* region corners -> net corners */
  CHECK_NEAR(x, 0, 1e-9);
  CHECK_NEAR(y, 0, 1e-9);
  image_affine_apply(&crop.to_crop, 73.125 + 93.75, 37.5 + 125, &x, &y);
  CHECK_NEAR(x, 192, 1e-9);
  CHECK_NEAR(y, 256, 1e-9);
  image_affine_apply(&crop.to_crop, 120, 100, &x, &y); /* center -> center */
  CHECK_NEAR(x, 96, 1e-9);
  CHECK_NEAR(y, 128, 1e-9);

  /* A wide box into a square net: the height grows. Round trips image -> crop -> image, and the inverse
   * computed by image_affine_invert equals to_image. */
  CHECK_OK(image_crop_transform(-30.5, 400.25, 300, 120, 1.25, 256, 256, &crop));
  CHECK_NEAR(crop.region[2], 375, 1e-9);
  CHECK_NEAR(crop.region[3], 375, 1e-9);
  image_affine inv;
  CHECK_OK(image_affine_invert(&crop.to_crop, &inv));
  double worst = 0;
  for (int k = 0; k < 6; k++) worst = fmax(worst, fabs(inv.m[k] - crop.to_image.m[k]));
  CHECK(worst < 1e-9);
  worst = 0;
  for (int i = 0; i < 100; i++) {
    double px = -50 + i * 7.31, py = 380 + i * 1.77, cx, cy, bx, by;
    image_affine_apply(&crop.to_crop, px, py, &cx, &cy);
    image_affine_apply(&crop.to_image, cx, cy, &bx, &by);
    worst = fmax(worst, fmax(fabs(bx - px), fabs(by - py)));
  }
  CHECK(worst < 1e-4);

  /* A general (rotated, sheared) map and its inverse. */
  image_affine a = {{0.8, -0.6, 12.5, 0.7, 0.9, -3.25}};
  CHECK_OK(image_affine_invert(&a, &inv));
  image_affine_apply(&a, 17, -4, &x, &y);
  image_affine_apply(&inv, x, y, &x, &y);
  CHECK_NEAR(x, 17, 1e-12);
  CHECK_NEAR(y, -4, 1e-12);

  image_affine singular = {{1, 2, 0, 2, 4, 0}};
  CHECK(image_affine_invert(&singular, &inv) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(image_crop_transform(0, 0, 0, 10, 1.25, 192, 192, &crop) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(image_crop_transform(0, 0, 10, NAN, 1.25, 192, 192, &crop) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(image_crop_transform(0, 0, 10, 10, 0, 192, 192, &crop) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(image_crop_transform(0, 0, 10, 10, 1.25, 0, 192, &crop) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(image_crop_transform(0, 0, 3e307, 10, 1e10, 192, 192, &crop) == CPOSE_ERR_INVALID_ARGUMENT);
}

/* A linear test image: R = 10 * column, G = 20 * row, B = 100 (index space). Bilinear interpolation of a
 * linear function is exact, so a sample at index-space (X, Y) inside the image is (10 X, 20 Y, 100). */
static cpose_image *linear_image(int w, int h) {
  cpose_image *im = NULL;
  CHECK_OK(cpose_image_create(w, h, &im));
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      uint8_t *p = im->rgb + ((size_t)y * w + x) * 3;
      p[0] = (uint8_t)(10 * x), p[1] = (uint8_t)(20 * y), p[2] = 100;
    }
  }
  return im;
}

static const float *out_px(const float *t, int w, int x, int y) {
  return t + ((size_t)y * w + x) * 3;
}

static void test_warp(void) {
  cpose_image *src = linear_image(16, 12);
  enum { DW = 8, DH = 6 };
  float dst[DW * DH * 3], dst2[DW * DH * 3];

  /* dst -> src: x = 0.5 x' + 3.25, y = 0.5 y' + 2 (a 2x zoom into the middle). dst pixel (i, j) has center
   * (j + 0.5, i + 0.5) -> src point (0.5 j + 3.5, 0.5 i + 2.25) -> index space (0.5 j + 3, 0.5 i + 1.75). */
  image_affine zoom = {{0.5, 0, 3.25, 0, 0.5, 2}};
  CHECK_OK(image_warp_affine(src, &zoom, DW, DH, dst));
  double worst = 0;
  for (int i = 0; i < DH; i++) {
    for (int j = 0; j < DW; j++) {
      const float *p = out_px(dst, DW, j, i);
      double X = 0.5 * j + 3, Y = 0.5 * i + 1.75;
      worst = fmax(worst, fmax(fabs(p[0] - 10 * X), fmax(fabs(p[1] - 20 * Y), fabs(p[2] - 100))));
    }
  }
  CHECK(worst < 1e-4);
  /* A hand-computed non-linear case: 2x2 image, sample at its center (index (0.5, 0.5)): the mean. */
  {
    cpose_image *tiny = NULL;
    CHECK_OK(cpose_image_create(2, 2, &tiny));
    static const uint8_t v[12] = {0, 0, 0, 100, 10, 1, 40, 30, 2, 200, 90, 3};
    memcpy(tiny->rgb, v, 12);
    image_affine center = {{0, 0, 1, 0, 0, 1}}; /* every dst pixel -> the point (1, 1) */
    float out[3];
    CHECK_OK(image_warp_affine(tiny, &center, 1, 1, out));
    CHECK_NEAR(out[0], (0 + 100 + 40 + 200) / 4.0, 1e-4);
    CHECK_NEAR(out[1], (0 + 10 + 30 + 90) / 4.0, 1e-4);
    CHECK_NEAR(out[2], (0 + 1 + 2 + 3) / 4.0, 1e-4);
    /* index (0.25, 0.75): rows 0/1 weights 0.25/0.75, columns 0/1 weights 0.75/0.25 */
    image_affine p = {{0, 0, 0.75, 0, 0, 1.25}};
    CHECK_OK(image_warp_affine(tiny, &p, 1, 1, out));
    CHECK_NEAR(out[0], 0.25 * (0.75 * 0 + 0.25 * 100) + 0.75 * (0.75 * 40 + 0.25 * 200), 1e-4);
    cpose_image_destroy(tiny);
  }

  /* Borders: taps outside read black. dst -> src x = x' - 0.75 puts dst column 0 at index -0.75 (column 0
   * weighted 0.25, column -1 black), dst row 0 at index -0.75 likewise: B = 100 * 0.25 * 0.25. */
  image_affine shift = {{1, 0, -0.75, 0, 1, -0.75}};
  CHECK_OK(image_warp_affine(src, &shift, DW, DH, dst));
  CHECK_NEAR(out_px(dst, DW, 0, 0)[2], 100 * 0.25 * 0.25, 1e-4);
  CHECK_NEAR(out_px(dst, DW, 3, 0)[2], 100 * 0.25, 1e-4);
  CHECK_NEAR(out_px(dst, DW, 3, 3)[2], 100, 1e-4);
  CHECK_NEAR(out_px(dst, DW, 3, 3)[0], 10 * (3 - 0.75), 1e-4);
  /* Right edge: 16x12 image, dst column j at index j + 8.25 (x = x' + 8.25): column 7 at 15.25 mixes column
   * 15 (0.75) and black (0.25). */
  image_affine right = {{1, 0, 8.25, 0, 1, 0}};
  CHECK_OK(image_warp_affine(src, &right, DW, DH, dst));
  CHECK_NEAR(out_px(dst, DW, 7, 2)[0], 0.75 * 150, 1e-4);
  CHECK_NEAR(out_px(dst, DW, 7, 2)[2], 0.75 * 100, 1e-4);
  CHECK_NEAR(out_px(dst, DW, 6, 2)[0], 10 * 14.25, 1e-4);

  /* The separable and the general path agree exactly (a negligible shear forces the general one). */
  image_affine z2 = {{0.37, 0, 1.1, 0, 0.61, -0.4}}, z2g = z2;
  z2g.m[1] = 1e-300, z2g.m[3] = 1e-300;
  CHECK_OK(image_warp_affine(src, &z2, DW, DH, dst));
  CHECK_OK(image_warp_affine(src, &z2g, DW, DH, dst2));
  CHECK(memcmp(dst, dst2, sizeof dst) == 0);

  /* A 90-degree rotation of a 12x12 image: dst (x', y') -> src (y', 12 - x'), so dst pixel (i, j) reads
   * index space X = i + 0.5 - 0.5 = i, Y = 12 - (j + 0.5) - 0.5 = 11 - j: exact pixels (general path). */
  {
    cpose_image *sq = linear_image(12, 12);
    float rot[12 * 12 * 3];
    image_affine r90 = {{0, 1, 0, -1, 0, 12}};
    CHECK_OK(image_warp_affine(sq, &r90, 12, 12, rot));
    worst = 0;
    for (int i = 0; i < 12; i++) {
      for (int j = 0; j < 12; j++) {
        const float *p = out_px(rot, 12, j, i);
        worst = fmax(worst, fmax(fabs(p[0] - 10 * i), fabs(p[1] - 20 * (11 - j))));
      }
    }
    CHECK(worst < 1e-4);
    cpose_image_destroy(sq);
  }

  /* Wild maps: all black, no crash; non-finite maps refused. */
  image_affine far = {{1, 0, 1e30, 0, 1, -1e30}};
  CHECK_OK(image_warp_affine(src, &far, DW, DH, dst));
  int zero = 1;
  for (int k = 0; k < DW * DH * 3; k++) zero &= dst[k] == 0;
  CHECK(zero);
  image_affine huge = {{1e300, 1e300, 0, -1e300, 1e300, 0}};
  CHECK_OK(image_warp_affine(src, &huge, DW, DH, dst));
  image_affine bad = {{NAN, 0, 0, 0, 1, 0}};
  CHECK(image_warp_affine(src, &bad, DW, DH, dst) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(image_warp_affine(src, &zoom, 0, DH, dst) == CPOSE_ERR_INVALID_ARGUMENT);
  cpose_image_destroy(src);
}

static void test_resize(void) {
  /* Same size, no letterbox: an exact copy. */
  cpose_image *src = linear_image(16, 12);
  float same[16 * 12 * 3];
  image_resize_info info;
  CHECK_OK(image_resize(src, 16, 12, 0, 0, same, &info));
  int exact = 1;
  for (int k = 0; k < 16 * 12 * 3; k++) exact &= same[k] == src->rgb[k];
  CHECK(exact);
  CHECK(info.scale_x == 1 && info.scale_y == 1 && info.offset_x == 0 && info.offset_y == 0);

  /* Stretch 16x12 -> 8x8: dst column j samples index (j + 0.5) * 2 - 0.5, row i (i + 0.5) * 1.5 - 0.5. */
  float st[8 * 8 * 3];
  CHECK_OK(image_resize(src, 8, 8, 0, 0, st, &info));
  double worst = 0;
  for (int i = 0; i < 8; i++) {
    for (int j = 0; j < 8; j++) {
      double X = (j + 0.5) * 2 - 0.5, Y = (i + 0.5) * 1.5 - 0.5;
      const float *p = out_px(st, 8, j, i);
      worst = fmax(worst, fmax(fabs(p[0] - 10 * X), fabs(p[1] - 20 * Y)));
    }
  }
  CHECK(worst < 1e-4);
  /* Upscaling clamps at the edges: 16x12 -> 64x48, dst column 0 samples index -0.375 -> column 0. */
  static float up[64 * 48 * 3];
  CHECK_OK(image_resize(src, 64, 48, 0, 0, up, &info));
  CHECK_NEAR(out_px(up, 64, 0, 0)[0], 0, 1e-6);
  CHECK_NEAR(out_px(up, 64, 63, 47)[0], 150, 1e-6);
  CHECK_NEAR(out_px(up, 64, 63, 47)[1], 220, 1e-6);

  /* Letterbox 16x12 into 32x32: scale min(2, 2.667) = 2, content 32x24, offsets (0, 4): rows 0..3 and
   * 28..31 are padding. */
  static float lb[32 * 32 * 3];
  CHECK_OK(image_resize(src, 32, 32, 1, 114, lb, &info));
  CHECK(info.offset_x == 0 && info.offset_y == 4 && info.content_w == 32 && info.content_h == 24);
  CHECK_NEAR(info.scale_x, 2, 1e-12);
  CHECK_NEAR(info.scale_y, 2, 1e-12);
  CHECK(out_px(lb, 32, 5, 3)[0] == 114 && out_px(lb, 32, 5, 28)[1] == 114 &&
        out_px(lb, 32, 31, 31)[2] == 114);
  /* Row 4 is content row 0: index (0 + 0.5) / 2 - 0.5 = -0.25 -> clamped to row 0, G = 0. Column 9: index
   * (9.5) / 2 - 0.5 = 4.25, R = 42.5. */
  CHECK_NEAR(out_px(lb, 32, 9, 4)[0], 42.5, 1e-4);
  CHECK_NEAR(out_px(lb, 32, 9, 4)[1], 0, 1e-4);
  CHECK_NEAR(out_px(lb, 32, 9, 4)[2], 100, 1e-4);
  /* to_image maps the destination back: (0, 4) is the image's corner, (32, 28) the opposite one. */
  double x, y;
  image_affine_apply(&info.to_image, 0, 4, &x, &y);
  CHECK_NEAR(x, 0, 1e-12);
  CHECK_NEAR(y, 0, 1e-12);
  image_affine_apply(&info.to_image, 32, 28, &x, &y);
  CHECK_NEAR(x, 16, 1e-12);
  CHECK_NEAR(y, 12, 1e-12);

  /* A 640x480 photo into a 512x512 detector input: scale 0.8, content 512x384, offset (0, 64). A tall image
   * pads left and right: 300x500 into 256x256 -> scale 0.512, content round(153.6) = 154 x 256, offset 51. */
  cpose_image *big = NULL, *tall = NULL;
  CHECK_OK(cpose_image_create(640, 480, &big));
  CHECK_OK(cpose_image_create(300, 500, &tall));
  float *det = malloc(512 * 512 * 3 * sizeof *det);
  CHECK_OK(image_resize(big, 512, 512, 1, 0, det, &info));
  CHECK(info.offset_x == 0 && info.offset_y == 64 && info.content_w == 512 && info.content_h == 384);
  CHECK_OK(image_resize(tall, 256, 256, 1, 0, det, &info));
  CHECK(info.offset_x == 51 && info.offset_y == 0 && info.content_w == 154 && info.content_h == 256);
  CHECK_NEAR(info.scale_x, 154.0 / 300, 1e-12);
  CHECK_NEAR(info.scale_y, 256.0 / 500, 1e-12);
  CHECK(image_resize(big, 0, 10, 1, 0, det, &info) == CPOSE_ERR_INVALID_ARGUMENT);
  CHECK(image_resize(NULL, 10, 10, 1, 0, det, &info) == CPOSE_ERR_INVALID_ARGUMENT);
  free(det);
  cpose_image_destroy(big);
  cpose_image_destroy(tall);
  cpose_image_destroy(src);
}

/* ---- drawing --------------------------------------------------------------------------------------------
 */

static const cpose_color white = {255, 255, 255, 255};

static cpose_image *canvas(int w, int h) {
  cpose_image *im = NULL;
  CHECK_OK(cpose_image_create(w, h, &im));
  return im;
}

static int value(const cpose_image *im, int x, int y) {
  return pixel(im, x, y)[0];
}

static void test_draw_shapes(void) {
  cpose_image *im = canvas(64, 48);
  /* A horizontal line 3 wide centered on y = 10.5 covers rows 9, 10, 11 exactly. */
  cpose_image_draw_line(im, 10.5f, 10.5f, 50.5f, 10.5f, 3, white);
  CHECK(value(im, 30, 9) == 255 && value(im, 30, 10) == 255 && value(im, 30, 11) == 255);
  CHECK(value(im, 30, 8) == 0 && value(im, 30, 12) == 0);
  CHECK(value(im, 5, 10) == 0 && value(im, 56, 10) == 0);
  /* Round ends: the pixel just past the end (center 2 away, radius 1.5 + 0.5 ramp) is untouched, the one
   * half a pixel past is half covered... (51.5 - 50.5 = 1 away: coverage 1). */
  CHECK(value(im, 51, 10) == 255 && value(im, 52, 10) == 0);
  /* A diagonal line: anti-aliased (some partially covered pixels), symmetric about itself. */
  cpose_image *d = canvas(32, 32);
  cpose_image_draw_line(d, 4, 4, 28, 28, 2, white);
  int partial = 0;
  for (int i = 0; i < 32 * 32; i++) partial += d->rgb[i * 3] > 0 && d->rgb[i * 3] < 255;
  CHECK(partial > 10);
  CHECK(value(d, 10, 12) == value(d, 12, 10));
  CHECK(value(d, 15, 15) == 255 && value(d, 2, 30) == 0);
  cpose_image_destroy(d);

  /* A disc of radius 5: total coverage close to its area, center full, far pixels empty. */
  cpose_image *c = canvas(40, 40);
  cpose_image_draw_circle(c, 20, 20, 5, white);
  double sum = 0;
  for (int i = 0; i < 40 * 40; i++) sum += c->rgb[i * 3] / 255.0;
  CHECK_NEAR(sum, 3.14159265358979 * 25, 1.5);
  CHECK(value(c, 19, 19) == 255 && value(c, 20, 20) == 255 && value(c, 27, 20) == 0);
  cpose_image_destroy(c);

  /* Rectangles: exact area coverage. */
  cpose_image *r = canvas(40, 40);
  cpose_image_fill_rect(r, 2, 3, 4, 5, white);
  int full = 0;
  for (int i = 0; i < 40 * 40; i++) full += r->rgb[i * 3] == 255;
  CHECK(full == 20 && value(r, 2, 3) == 255 && value(r, 5, 7) == 255 && value(r, 6, 7) == 0 &&
        value(r, 5, 8) == 0);
  cpose_image_fill_rect(r, 20.5f, 30, 1, 1, white); /* straddles two pixels: half each */
  CHECK(value(r, 20, 30) == 128 && value(r, 21, 30) == 128);
  cpose_image_draw_rect(r, 10, 10, 20, 20, 2, white); /* outer [9, 31], inner [11, 29] */
  CHECK(value(r, 15, 9) == 255 && value(r, 15, 10) == 255 && value(r, 15, 11) == 0);
  CHECK(value(r, 9, 20) == 255 && value(r, 30, 20) == 255 && value(r, 31, 20) == 0 && value(r, 20, 20) == 0);
  CHECK(value(r, 9, 9) == 255 && value(r, 30, 30) == 255 && value(r, 8, 8) == 0);
  cpose_image_destroy(r);

  /* Opacity: half-transparent white over black. */
  cpose_color half = {255, 0, 255, 128};
  cpose_image_fill_rect(im, 0, 40, 4, 4, half);
  CHECK(pixel_near(im, 1, 41, 128, 0, 128, 0));
  cpose_image_destroy(im);
}

static void test_draw_text(void) {
  cpose_image *im = canvas(40, 20);
  cpose_image_draw_text(im, 0, 0, "1", 1, white);
  /* '1' = rows 0x04 0x0c 0x04 0x04 0x04 0x04 0x0e: bottom row columns 1..3 set. */
  CHECK(value(im, 2, 0) == 255 && value(im, 1, 0) == 0 && value(im, 1, 1) == 255);
  CHECK(value(im, 1, 6) == 255 && value(im, 2, 6) == 255 && value(im, 3, 6) == 255 && value(im, 0, 6) == 0 &&
        value(im, 4, 6) == 0);
  /* Scale 2: each font pixel a 2x2 block. Lowercase draws as uppercase. */
  cpose_image *a = canvas(40, 20), *b = canvas(40, 20);
  cpose_image_draw_text(a, 3, 2, "id:7", 2, white);
  cpose_image_draw_text(b, 3, 2, "ID:7", 2, white);
  CHECK(memcmp(a->rgb, b->rgb, 40 * 20 * 3) == 0);
  CHECK(value(a, 3 + 2 * 2, 2) == 255 && value(a, 3 + 2 * 2 + 1, 3) == 255); /* 'I' top row, column 2 */
  int w, h;
  cpose_image_text_size("12", 2, &w, &h);
  CHECK(w == 22 && h == 14);
  cpose_image_text_size("ab\nc", 1, &w, &h);
  CHECK(w == 11 && h == 15);
  cpose_image_text_size("", 1, &w, &h);
  CHECK(w == 0 && h == 0);
  /* Every glyph the header promises exists (is not the hollow box). */
  const char *promised = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.:-_+/%#()[]=,'?!<>*";
  const uint8_t *box = image_font_glyph('\x01');
  for (const char *p = promised; *p; p++) CHECK(memcmp(image_font_glyph(*p), box, IMAGE_FONT_H) != 0);
  cpose_image_destroy(a);
  cpose_image_destroy(b);
  cpose_image_destroy(im);
}

/* Drawing never writes outside the pixels: the buffer sits between guard bytes, and shapes partly off the
 * right edge must not wrap into the next row's first columns. */
static void test_draw_clipping(void) {
  enum { W = 23, H = 17, GUARD = 4096 };
  uint8_t *block = malloc(GUARD + W * H * 3 + GUARD);
  memset(block, 0xa5, GUARD + W * H * 3 + GUARD);
  cpose_image im = {W, H, block + GUARD};
  memset(im.rgb, 0, W * H * 3);
  const float wild[] = {-1e30f, -1e6f,    -100,  -3.5f, -0.5f, 0,        0.49f,     11.5f, W - 0.5f,
                        W,      W + 0.7f, H + 2, 1e6f,  3e38f, INFINITY, -INFINITY, NAN};
  const int n = (int)(sizeof wild / sizeof wild[0]);
  const cpose_color red = {255, 0, 0, 200};
  for (int a = 0; a < n; a++) {
    for (int b = 0; b < n; b++) {
      float x0 = wild[a], y0 = wild[b], x1 = wild[(a + 3) % n], y1 = wild[(b * 7 + 1) % n];
      cpose_image_draw_line(&im, x0, y0, x1, y1, wild[(a + b) % n], red);
      cpose_image_draw_line(&im, x0, y0, x1, y1, 2.5f, red);
      cpose_image_draw_circle(&im, x0, y0, wild[(a * 5 + b) % n], red);
      cpose_image_draw_circle(&im, x0, y0, 4, red);
      cpose_image_draw_rect(&im, x0, y0, x1, y1, 3, red);
      cpose_image_draw_rect(&im, x0, y0, 30, 30, wild[b], red);
      cpose_image_fill_rect(&im, x0, y0, x1, y1, red);
      cpose_image_draw_text(&im, x0, y0, "ID 12: 0.93", 1 + (a + b) % 3, red);
    }
  }
  cpose_image_draw_text(&im, 0, 0, "x", 0, red);
  cpose_image_draw_text(&im, 0, 0, "x", 100000, red);
  cpose_image_draw_text(&im, 0, 0, NULL, 1, red);
  cpose_image_draw_line(NULL, 0, 0, 5, 5, 1, red);
  int guards_ok = 1;
  for (int i = 0; i < GUARD; i++) guards_ok &= block[i] == 0xa5 && block[GUARD + W * H * 3 + i] == 0xa5;
  CHECK(guards_ok);

  /* No wrap-around: shapes hanging off the right edge leave column 0 black. */
  memset(im.rgb, 0, W * H * 3);
  cpose_image_draw_circle(&im, W + 1.5f, 8, 4, white);
  cpose_image_draw_line(&im, W - 2, 3, W + 40, 3, 5, white);
  cpose_image_fill_rect(&im, W - 2, 10, 50, 3, white);
  cpose_image_draw_text(&im, W - 3, 0, "8888", 2, white);
  int left_black = 1;
  for (int y = 0; y < H; y++) left_black &= value(&im, 0, y) == 0 && value(&im, 1, y) == 0;
  CHECK(left_black);
  CHECK(value(&im, W - 1, 8) == 255); /* the circle did reach the last column */
  free(block);
}

/* ---- timings (printed, not checked) ------------------------------------------------------------------- */

static void report_timings(void) {
  cpose_image *im = NULL;
  if (cpose_image_load("samples/messi5.jpg", &im) != CPOSE_OK) {
    CHECK_OK(cpose_image_create(640, 480, &im));
  }
  if (!im) return;
  float *crop = malloc(256 * 256 * 3 * sizeof *crop);
  float *det = malloc(512 * 512 * 3 * sizeof *det);
  image_crop c;
  CHECK_OK(image_crop_transform(200, 40, 120, 280, 1.25, 256, 256, &c));
  image_affine rot = {{0.8, -0.6, 150, 0.6, 0.8, 10}};
  const int reps = 20;
  double t0 = now_ms();
  for (int r = 0; r < reps; r++) image_warp_affine(im, &c.to_image, 256, 256, crop);
  double t1 = now_ms();
  for (int r = 0; r < reps; r++) image_warp_affine(im, &rot, 256, 256, crop);
  double t2 = now_ms();
  for (int r = 0; r < reps; r++) image_resize(im, 512, 512, 1, 0, det, NULL);
  double t3 = now_ms();
  printf(
      "warp 256x256 crop: %.3f ms (axis-aligned), %.3f ms (rotated); letterbox %dx%d -> 512x512: %.3f ms\n",
      (t1 - t0) / reps, (t2 - t1) / reps, im->width, im->height, (t3 - t2) / reps);
  free(crop);
  free(det);
  cpose_image_destroy(im);
}

int main(void) {
  test_samples();
  test_coco();
  test_exif_parse();
  test_exif_decode();
  test_jpeg_color();
  test_png_variants();
  test_encode();
  test_save();
  test_bad_input();
  test_alloc_failures();
  test_crop_transform();
  test_warp();
  test_resize();
  test_draw_shapes();
  test_draw_text();
  test_draw_clipping();
  report_timings();
  return test_finish("test_image");
}
