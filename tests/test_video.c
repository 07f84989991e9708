/*
 * The video layer: a synthetic clip written with the H.264 writer (MP4 and MKV) and read back (frame count,
 * size, frame rate, indices, pixels, the moving square's position, the padding of odd sides), the same from
 * memory, samples/vtest.avi (OpenCV's sample: 768x576 MPEG-4, 10 fps, 795 frames) when present, truncated
 * and corrupted files, a frame size change mid-stream, a JPEG as a full-range one-frame video, allocation
 * failures and bad arguments. Files go to a fresh folder under /tmp, removed at the end.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "cpose.h"
#include "test.h"

/* The synthetic clip: odd sides (the writer pads them), a 12x12 red square moving down and right on a flat
 * blue background, and the frame number in binary as five 6x6 blocks along the bottom (white: 1). */
#define CLIP_W 65
#define CLIP_H 49
#define CLIP_FRAMES 20
#define CLIP_FPS 10.0
#define SQUARE 12
#define BIT_Y 41
#define BITS 5

static const uint8_t BACKGROUND[3] = {40, 90, 160};
static const uint8_t RED[3] = {230, 40, 30};

static int square_x(int frame) {
  return 4 + 2 * frame;
}
static int square_y(int frame) {
  return 6 + frame;
}
static int bit_x(int bit) {
  return 4 + 8 * bit;
}

static char tmp_dir[64];

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void tmp_path(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", tmp_dir, name);
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void write_bytes(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  CHECK(fwrite(data, 1, size, f) == size);
  fclose(f);
}

static void fill(cpose_image *im, int x0, int y0, int w, int h, const uint8_t rgb[3]) {
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++) memcpy(im->rgb + ((size_t)y * im->width + x) * 3, rgb, 3);
}

static cpose_image *clip_frame(int frame) {
  static const uint8_t black[3] = {16, 16, 16}, white[3] = {235, 235, 235};
  cpose_image *im = NULL;
  CHECK_OK(cpose_image_create(CLIP_W, CLIP_H, &im));
  fill(im, 0, 0, CLIP_W, CLIP_H, BACKGROUND);
  fill(im, square_x(frame), square_y(frame), SQUARE, SQUARE, RED);
  for (int b = 0; b < BITS; b++) fill(im, bit_x(b), BIT_Y, 6, 6, (frame >> b) & 1 ? white : black);
  return im;
}

/* Background pixels at least 3 pixels from the square and the bits: where H.264 should be nearly exact. */
static int is_flat(int frame, int x, int y) {
  int near_square = x >= square_x(frame) - 3 && x < square_x(frame) + SQUARE + 3 &&
                    y >= square_y(frame) - 3 && y < square_y(frame) + SQUARE + 3;
  return !near_square && y < BIT_Y - 3;
}

/* Checks a decoded frame (padded to even sides) against the synthetic frame `frame`. */
static void check_clip_frame(const cpose_image *im, int frame) {
  CHECK(im->width == CLIP_W + 1 && im->height == CLIP_H + 1);
  if (im->width != CLIP_W + 1 || im->height != CLIP_H + 1) return;
  cpose_image *expected = clip_frame(frame);
  double error = 0, sx = 0, sy = 0, red = 0;
  long flat = 0;
  for (int y = 0; y < CLIP_H; y++) {
    for (int x = 0; x < CLIP_W; x++) {
      const uint8_t *p = im->rgb + ((size_t)y * im->width + x) * 3;
      const uint8_t *e = expected->rgb + ((size_t)y * CLIP_W + x) * 3;
      if (is_flat(frame, x, y)) {
        for (int c = 0; c < 3; c++) error += abs(p[c] - e[c]);
        flat++;
      }
      /* Redness, 0 on the background and 1 on the square, so that the pixels along an edge, whose colour
       * 4:2:0 mixes, count half and keep the centroid unbiased; a dead zone at both ends keeps compression
       * noise on the large background from pulling the centroid to the middle. */
      double w = ((p[0] - p[2]) - (BACKGROUND[0] - BACKGROUND[2])) /
                 (double)((RED[0] - RED[2]) - (BACKGROUND[0] - BACKGROUND[2]));
      w = (w - 0.15) / 0.7;
      if (y < BIT_Y - 2 && w > 0) {
        w = w < 1 ? w : 1;
        sx += w * (x + 0.5);
        sy += w * (y + 0.5);
        red += w;
      }
    }
  }
  CHECK(flat > 0 && error / (3.0 * flat) < 6);
  CHECK_NEAR(red, SQUARE * SQUARE, SQUARE * SQUARE / 10);
  if (red > 0) {
    CHECK_NEAR(sx / red, square_x(frame) + SQUARE / 2.0, 0.5);
    CHECK_NEAR(sy / red, square_y(frame) + SQUARE / 2.0, 0.5);
  }
  for (int b = 0; b < BITS; b++) { /* the frame number: frames come in order, none twice */
    const uint8_t *p = im->rgb + ((size_t)(BIT_Y + 3) * im->width + bit_x(b) + 3) * 3;
    CHECK((p[1] > 128) == ((frame >> b) & 1));
  }
  /* The padding column and row repeat the last ones (compared in the blue channel). */
  double pad_error = 0;
  for (int y = 0; y < CLIP_H; y++)
    pad_error +=
        abs(im->rgb[(y * im->width + CLIP_W) * 3 + 2] - im->rgb[(y * im->width + CLIP_W - 1) * 3 + 2]);
  for (int x = 0; x < CLIP_W; x++)
    pad_error +=
        abs(im->rgb[(CLIP_H * im->width + x) * 3 + 2] - im->rgb[((CLIP_H - 1) * im->width + x) * 3 + 2]);
  CHECK(pad_error / (CLIP_W + CLIP_H) < 8);
  cpose_image_destroy(expected);
}

static void write_clip(const char *path) {
  cpose_video_writer *writer = NULL;
  CHECK_OK(cpose_video_writer_open(path, CLIP_W, CLIP_H, CLIP_FPS, &writer));
  if (!writer) return;
  for (int i = 0; i < CLIP_FRAMES; i++) {
    cpose_image *im = clip_frame(i);
    CHECK_OK(cpose_video_write(writer, im));
    cpose_image_destroy(im);
  }
  CHECK(!file_exists(path)); /* only the temporary file exists until close */
  CHECK_OK(cpose_video_writer_close(writer, 1));
  CHECK(file_exists(path));
}

/* What reading a whole stream gave. */
typedef struct read_result {
  cpose_image **frames; /* the first `kept` frames; the rest are only counted */
  int64_t *indices;
  int kept;
  int count;        /* frames read */
  int damaged;      /* CPOSE_ERR_PARSE reports */
  int other_errors; /* any other status: never expected */
  int increasing;   /* indices strictly increased */
  char first_error[256];
} read_result;

/* Reads until the end (bounded, so that a reader that never ends fails instead of hanging); keeps the first
 * `keep` frames. Closes the reader. */
static read_result read_to_end(cpose_video_reader *reader, int keep) {
  read_result r = {.increasing = 1};
  r.frames = calloc((size_t)keep + 1, sizeof *r.frames);
  r.indices = calloc((size_t)keep + 1, sizeof *r.indices);
  int64_t last = -1;
  for (int call = 0; call < 100000; call++) {
    cpose_image *im = NULL;
    int64_t index = -2;
    cpose_status status = cpose_video_read(reader, &im, &index);
    if (status == CPOSE_ERR_PARSE) {
      if (!r.damaged++) snprintf(r.first_error, sizeof r.first_error, "%s", cpose_last_error());
      continue;
    }
    if (status != CPOSE_OK) {
      fprintf(stderr, "read: %s: %s\n", cpose_status_string(status), cpose_last_error());
      r.other_errors++;
      continue;
    }
    if (!im) break;
    if (index <= last) r.increasing = 0;
    last = index;
    if (r.kept < keep) {
      r.frames[r.kept] = im;
      r.indices[r.kept++] = index;
    } else {
      cpose_image_destroy(im);
    }
    r.count++;
  }
  /* The end stays the end. */
  cpose_image *im = (cpose_image *)1;
  int64_t index;
  CHECK_OK(cpose_video_read(reader, &im, &index));
  CHECK(im == NULL);
  cpose_video_close(reader);
  return r;
}

static void free_result(read_result *r) {
  for (int i = 0; i < r->kept; i++) cpose_image_destroy(r->frames[i]);
  free(r->frames);
  free(r->indices);
}

static int same_image(const cpose_image *a, const cpose_image *b) {
  return a->width == b->width && a->height == b->height &&
         memcmp(a->rgb, b->rgb, (size_t)a->width * a->height * 3) == 0;
}

/* ---- the synthetic clip -------------------------------------------------------------------------------- */

static void test_clip_roundtrip(const char *path) {
  write_clip(path);
  cpose_video_reader *reader = NULL;
  CHECK_OK(cpose_video_open(path, &reader));
  if (!reader) return;
  cpose_video_info info;
  cpose_video_reader_info(reader, &info);
  CHECK(info.width == CLIP_W + 1 && info.height == CLIP_H + 1);
  CHECK_NEAR(info.fps, CLIP_FPS, 1e-9);
  CHECK(info.frame_count == CLIP_FRAMES);
  read_result file = read_to_end(reader, CLIP_FRAMES);
  CHECK(file.count == CLIP_FRAMES && file.damaged == 0 && file.other_errors == 0);
  for (int i = 0; i < file.kept; i++) {
    CHECK(file.indices[i] == i);
    check_clip_frame(file.frames[i], i);
  }

  /* The same bytes from memory give the same frames. */
  size_t size = 0;
  uint8_t *data = test_read_file(path, &size);
  CHECK_OK(cpose_video_open_memory(data, size, &reader));
  read_result memory = read_to_end(reader, CLIP_FRAMES);
  CHECK(memory.count == file.count);
  for (int i = 0; i < memory.kept && i < file.kept; i++) {
    CHECK(memory.indices[i] == file.indices[i]);
    CHECK(same_image(memory.frames[i], file.frames[i]));
  }
  free_result(&memory);
  free_result(&file);
  free(data);
}

/* A file cut at 60%: it opens and gives the frames before the cut (at least `min_frames` of `total`), or
 * fails to open with a parse error (an MP4 whose index was lost); either way no crash and an end. */
static void test_truncated(const char *path, const char *cut_name, int total, int min_frames, int must_open) {
  size_t size = 0;
  uint8_t *data = test_read_file(path, &size);
  CHECK(data != NULL);
  if (!data) return;
  char cut_path[256];
  tmp_path(cut_path, sizeof cut_path, cut_name);
  write_bytes(cut_path, data, size * 6 / 10);
  cpose_video_reader *reader = NULL;
  cpose_status status = cpose_video_open(cut_path, &reader);
  if (status != CPOSE_OK) {
    CHECK(!must_open);
    CHECK(status == CPOSE_ERR_PARSE);
    CHECK(strncmp(cpose_last_error(), cut_path, strlen(cut_path)) == 0);
    printf("%s cut at 60%%: %s\n", cut_name, cpose_last_error());
  } else {
    read_result r = read_to_end(reader, 0);
    printf("%s cut at 60%%: %d of %d frames, %d damaged%s%s\n", cut_name, r.count, total, r.damaged,
           r.damaged ? ", first: " : "", r.first_error);
    CHECK(r.count >= min_frames && r.count < total);
    CHECK(r.increasing && r.other_errors == 0);
    free_result(&r);
  }
  free(data);
}

/* Reads a copy of `data` with `run` bytes flipped every `step` bytes from `from` on: errors must be
 * CPOSE_ERR_PARSE (or the open fails with it), indices increase, and the reader reaches the end. */
static read_result read_corrupted(const uint8_t *data, size_t size, size_t from, size_t step, size_t run) {
  uint8_t *copy = malloc(size);
  memcpy(copy, data, size);
  for (size_t at = from; at + run < size; at += step)
    for (size_t i = 0; i < run; i++) copy[at + i] ^= 0x5a;
  cpose_video_reader *reader = NULL;
  read_result r = {0};
  cpose_status status = cpose_video_open_memory(copy, size, &reader);
  CHECK(status == CPOSE_OK || status == CPOSE_ERR_PARSE);
  if (status == CPOSE_OK) {
    r = read_to_end(reader, 0);
    CHECK(r.increasing && r.other_errors == 0);
  }
  free(copy);
  return r;
}

static void test_clip_corrupted(const char *path) {
  size_t size = 0;
  uint8_t *data = test_read_file(path, &size);
  if (!data) return;
  read_result r = read_corrupted(data, size, size / 2, 97, 3);
  printf("clip with flipped bytes: %d frames, %d damaged%s%s\n", r.count, r.damaged,
         r.damaged ? ", first: " : "", r.first_error);
  CHECK(r.damaged > 0);
  free_result(&r);
  free(data);
}

/* Two MPEG-TS files back to back play as one stream whose frame size changes and whose timestamps start
 * over: the reader converts both sizes and keeps the indices increasing. */
static void test_size_change(void) {
  static const int sizes[2][2] = {{64, 48}, {33, 21}};
  uint8_t *joined = NULL;
  size_t joined_size = 0;
  for (int part = 0; part < 2; part++) {
    char path[256];
    snprintf(path, sizeof path, "%s/part%d.ts", tmp_dir, part);
    cpose_video_writer *writer = NULL;
    CHECK_OK(cpose_video_writer_open(path, sizes[part][0], sizes[part][1], 25, &writer));
    cpose_image *im = NULL;
    CHECK_OK(cpose_image_create(sizes[part][0], sizes[part][1], &im));
    for (int i = 0; i < 5 && writer; i++) {
      memset(im->rgb, 40 + 30 * i, (size_t)im->width * im->height * 3);
      CHECK_OK(cpose_video_write(writer, im));
    }
    cpose_image_destroy(im);
    CHECK_OK(cpose_video_writer_close(writer, 1));
    size_t size = 0;
    uint8_t *data = test_read_file(path, &size);
    if (!data) continue;
    joined = realloc(joined, joined_size + size);
    memcpy(joined + joined_size, data, size);
    joined_size += size;
    free(data);
  }
  cpose_video_reader *reader = NULL;
  CHECK_OK(cpose_video_open_memory(joined, joined_size, &reader));
  if (reader) {
    read_result r = read_to_end(reader, 10);
    CHECK(r.count == 10 && r.damaged == 0 && r.increasing);
    for (int i = 0; i < r.kept; i++) {
      CHECK(r.indices[i] == i);
      CHECK(r.frames[i]->width == (i < 5 ? 64 : 34) && r.frames[i]->height == (i < 5 ? 48 : 22));
      CHECK_NEAR(r.frames[i]->rgb[0], 40 + 30 * (i % 5), 4);
    }
    free_result(&r);
  }
  free(joined);
}

/* ---- samples/vtest.avi --------------------------------------------------------------------------------- */

static double mean_level(const cpose_image *im) {
  double sum = 0;
  size_t n = (size_t)im->width * im->height * 3;
  for (size_t i = 0; i < n; i++) sum += im->rgb[i];
  return sum / (double)n;
}

static void test_vtest(const char *path) {
  cpose_video_reader *reader = NULL;
  CHECK_OK(cpose_video_open(path, &reader));
  if (!reader) return;
  cpose_video_info info;
  cpose_video_reader_info(reader, &info);
  CHECK(info.width == 768 && info.height == 576);
  CHECK_NEAR(info.fps, 10, 0.01);
  CHECK(info.frame_count == 795);
  double start = now_ms();
  read_result file = read_to_end(reader, 10);
  double ms = now_ms() - start;
  printf("vtest.avi: %d frames in %.0f ms (%.2f ms per frame, decoding and RGB conversion)\n", file.count, ms,
         ms / (file.count ? file.count : 1));
  CHECK(file.count == 795 && file.damaged == 0 && file.increasing);
  for (int i = 0; i < file.kept; i++) {
    CHECK(file.indices[i] == i);
    CHECK(file.frames[i]->width == 768 && file.frames[i]->height == 576);
    CHECK(mean_level(file.frames[i]) > 40); /* not black */
  }

  size_t size = 0;
  uint8_t *data = test_read_file(path, &size);
  CHECK_OK(cpose_video_open_memory(data, size, &reader));
  if (reader) {
    /* Only the first frames: one whole pass is enough for the timing. */
    for (int i = 0; i < file.kept; i++) {
      cpose_image *im = NULL;
      int64_t index = -1;
      CHECK_OK(cpose_video_read(reader, &im, &index));
      CHECK(im && index == file.indices[i] && same_image(im, file.frames[i]));
      cpose_image_destroy(im);
    }
    cpose_video_close(reader);
  }

  read_result r = read_corrupted(data, size, size / 3, 40000, 64);
  printf("vtest.avi with flipped bytes: %d frames, %d damaged%s%s\n", r.count, r.damaged,
         r.damaged ? ", first: " : "", r.first_error);
  CHECK(r.count > 600 && r.count + r.damaged >= 700);
  CHECK(r.damaged > 0 && strstr(r.first_error, "video in memory: frame ") == r.first_error);
  free_result(&r);
  free(data);
  free_result(&file);
  test_truncated(path, "vtest-cut.avi", 795, 400, 1);
}

/* No file under the name, and no temporary file beside it. */
static int no_file_named(const char *name) {
  DIR *dir = opendir(tmp_dir);
  if (!dir) return 0;
  int found = 0;
  for (struct dirent *e; (e = readdir(dir));) found |= strncmp(e->d_name, name, strlen(name)) == 0;
  closedir(dir);
  return !found;
}

/* ---- a JPEG as a one-frame video ---------------------------------------------------------------------- */

/* FFmpeg decodes a JPEG to full-range YUV (yuvj420p); the conversion must keep the range: the result matches
 * libjpeg-turbo's RGB (cpose_image_load) up to chroma upsampling, where a range mix-up would be 10+ levels
 * off. */
static void test_jpeg_frame(const char *path) {
  cpose_image *expected = NULL, *im = NULL;
  cpose_video_reader *reader = NULL;
  CHECK_OK(cpose_image_load(path, &expected));
  CHECK_OK(cpose_video_open(path, &reader));
  if (!expected || !reader) return;
  int64_t index = -1;
  CHECK_OK(cpose_video_read(reader, &im, &index));
  CHECK(im && index == 0 && im->width == expected->width && im->height == expected->height);
  if (im && im->width == expected->width && im->height == expected->height) {
    double error = 0, bias = 0;
    size_t n = (size_t)im->width * im->height * 3;
    for (size_t i = 0; i < n; i++) {
      error += abs(im->rgb[i] - expected->rgb[i]);
      bias += im->rgb[i] - expected->rgb[i];
    }
    CHECK(error / n < 3);
    CHECK(fabs(bias / n) < 2);
  }
  cpose_image_destroy(im);
  cpose_image_destroy(expected);
  cpose_video_close(reader);
}

/* ---- allocation failures ------------------------------------------------------------------------------- */

/* Opens the clip from memory and reads it all while allocation `fail_at` and later ones fail (-1: none).
 * Returns the first failure. */
static cpose_status read_failing(long fail_at, const void *data, size_t size) {
  cpose_video_reader *reader = NULL;
  cpose_alloc_fail_after(fail_at);
  cpose_status status = cpose_video_open_memory(data, size, &reader);
  for (int more = 1; status == CPOSE_OK && more;) {
    cpose_image *im = NULL;
    int64_t index;
    status = cpose_video_read(reader, &im, &index);
    more = im != NULL;
    cpose_image_destroy(im);
  }
  cpose_alloc_fail_after(-1);
  cpose_video_close(reader);
  return status;
}

/* Writes three frames of the clip the same way. */
static cpose_status write_failing(long fail_at, cpose_image *const *frames) {
  char path[256];
  tmp_path(path, sizeof path, "sweep.mp4");
  cpose_video_writer *writer = NULL;
  cpose_alloc_fail_after(fail_at);
  cpose_status status = cpose_video_writer_open(path, CLIP_W, CLIP_H, CLIP_FPS, &writer);
  for (int i = 0; i < 3 && status == CPOSE_OK; i++) status = cpose_video_write(writer, frames[i]);
  if (writer) {
    cpose_status closed = cpose_video_writer_close(writer, status == CPOSE_OK);
    if (status == CPOSE_OK) status = closed;
  }
  cpose_alloc_fail_after(-1);
  return status;
}

/* Failing the i-th allocation, for i = 0, 1, ... until everything succeeds, must give out-of-memory, never a
 * crash or a leak (LeakSanitizer in the sanitizer build), and leave no temporary file. FFmpeg's own
 * allocations are not covered: it allocates with av_malloc. */
static void test_allocation_failures(const char *clip_path) {
  size_t size = 0;
  uint8_t *data = test_read_file(clip_path, &size);
  cpose_image *frames[3] = {clip_frame(0), clip_frame(1), clip_frame(2)};
  for (int writing = 0; writing < 2 && data; writing++) {
    long i = 0;
    int unexpected = 0;
    for (;; i++) {
      cpose_status status = writing ? write_failing(i, frames) : read_failing(i, data, size);
      if (status == CPOSE_OK || i > 1000) break;
      if (status != CPOSE_ERR_OUT_OF_MEMORY && unexpected++ < 3) {
        fprintf(stderr, "allocation %ld: %s: %s\n", i, cpose_status_string(status), cpose_last_error());
      }
    }
    CHECK(unexpected == 0 && i > 2 && i <= 1000);
    printf("%s: %ld allocation points swept\n", writing ? "writer" : "reader", i);
  }
  CHECK(no_file_named("sweep.mp4."));
  for (int i = 0; i < 3; i++) cpose_image_destroy(frames[i]);
  free(data);
}

/* ---- errors -------------------------------------------------------------------------------------------- */

static void expect_error(cpose_status got, cpose_status expected, const char *needle) {
  CHECK(got == expected);
  CHECK(strstr(cpose_last_error(), needle) != NULL);
  if (got != expected || !strstr(cpose_last_error(), needle)) {
    fprintf(stderr, "  expected %s with \"%s\", got %s: %s\n", cpose_status_string(expected), needle,
            cpose_status_string(got), cpose_last_error());
  }
}

static void test_reader_errors(void) {
  char path[256];
  cpose_video_reader *reader = NULL;
  tmp_path(path, sizeof path, "missing.mp4");
  expect_error(cpose_video_open(path, &reader), CPOSE_ERR_IO, path);
  CHECK(reader == NULL);

  tmp_path(path, sizeof path, "notes.txt");
  static const char text[] = "These are notes, not a video.\nSecond line of plain text.\n";
  write_bytes(path, text, sizeof text - 1);
  expect_error(cpose_video_open(path, &reader), CPOSE_ERR_PARSE, path);
  expect_error(cpose_video_open_memory(text, sizeof text - 1, &reader), CPOSE_ERR_PARSE, "video in memory");
  expect_error(cpose_video_open_memory(text, 0, &reader), CPOSE_ERR_PARSE, "empty");
  expect_error(cpose_video_open(tmp_dir, &reader), CPOSE_ERR_IO, tmp_dir); /* a folder */
  CHECK(reader == NULL);

  /* A raw YUV4MPEG stream whose frames are above the pixel cap (its demuxer allows up to 2^28 pixels). */
  static char y4m[4096] = "YUV4MPEG2 W12000 H9000 F25:1 C420jpeg\nFRAME\n";
  expect_error(cpose_video_open_memory(y4m, sizeof y4m, &reader), CPOSE_ERR_LIMIT, "12000x9000");

  expect_error(cpose_video_open_webcam(99, &reader), CPOSE_ERR_IO, "/dev/video99");
  CHECK(reader == NULL);

  expect_error(cpose_video_open(NULL, &reader), CPOSE_ERR_INVALID_ARGUMENT, "path");
  expect_error(cpose_video_open_memory(NULL, 10, &reader), CPOSE_ERR_INVALID_ARGUMENT, "data");
  expect_error(cpose_video_open_webcam(-1, &reader), CPOSE_ERR_INVALID_ARGUMENT, "negative");
  cpose_image *im = NULL;
  int64_t index;
  expect_error(cpose_video_read(NULL, &im, &index), CPOSE_ERR_INVALID_ARGUMENT, "reader");
  cpose_video_close(NULL);
  cpose_video_info info = {.width = -5};
  cpose_video_reader_info(NULL, &info);
  CHECK(info.width == -5);
}

static void test_writer_errors(void) {
  char path[256];
  cpose_video_writer *writer = NULL;
  tmp_path(path, sizeof path, "aborted.mp4");
  CHECK_OK(cpose_video_writer_open(path, CLIP_W, CLIP_H, 25, &writer));
  if (writer) {
    cpose_image *small = NULL;
    CHECK_OK(cpose_image_create(CLIP_W - 1, CLIP_H, &small));
    expect_error(cpose_video_write(writer, small), CPOSE_ERR_INVALID_ARGUMENT, "64x49");
    cpose_image_destroy(small);
    cpose_image *im = clip_frame(0);
    CHECK_OK(cpose_video_write(writer, im));
    cpose_image_destroy(im);
    CHECK(!no_file_named("aborted.mp4")); /* the temporary file */
    CHECK_OK(cpose_video_writer_close(writer, 0));
    CHECK(no_file_named("aborted.mp4"));
  }
  writer = NULL;
  expect_error(cpose_video_writer_open(path, 0, 10, 25, &writer), CPOSE_ERR_INVALID_ARGUMENT, path);
  expect_error(cpose_video_writer_open(path, 10, 10, 0, &writer), CPOSE_ERR_INVALID_ARGUMENT,
               "frames per second");
  tmp_path(path, sizeof path, "bad.unknownextension");
  expect_error(cpose_video_writer_open(path, 10, 10, 25, &writer), CPOSE_ERR_INVALID_ARGUMENT, "container");
  tmp_path(path, sizeof path, "bad.jpg");
  expect_error(cpose_video_writer_open(path, 10, 10, 25, &writer), CPOSE_ERR_UNSUPPORTED, "H.264");
  tmp_path(path, sizeof path, "no/such/folder/bad.mp4");
  expect_error(cpose_video_writer_open(path, 10, 10, 25, &writer), CPOSE_ERR_IO, path);
  CHECK(writer == NULL);
  CHECK(no_file_named("bad."));
  CHECK_OK(cpose_video_writer_close(NULL, 1));
}

static void remove_tmp_dir(void) {
  DIR *dir = opendir(tmp_dir);
  if (!dir) return;
  char path[512];
  for (struct dirent *e; (e = readdir(dir));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", tmp_dir, e->d_name);
    unlink(path);
  }
  closedir(dir);
  rmdir(tmp_dir);
}

int main(void) {
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/cpose-test-video-XXXXXX");
  if (!mkdtemp(tmp_dir)) TEST_SKIP("cannot create a folder under /tmp");
  char path[256];

  tmp_path(path, sizeof path, "clip.mp4");
  test_clip_roundtrip(path);
  test_truncated(path, "clip-cut.mp4", CLIP_FRAMES, 1, 0);
  test_clip_corrupted(path);

  tmp_path(path, sizeof path, "clip.mkv");
  test_clip_roundtrip(path);
  test_truncated(path, "clip-cut.mkv", CLIP_FRAMES, 1, 1);
  test_size_change();

  if (file_exists("samples/vtest.avi")) {
    test_vtest("samples/vtest.avi");
  } else {
    printf("samples/vtest.avi is missing (scripts/setup.sh fetches it): its checks are skipped\n");
  }
  tmp_path(path, sizeof path, "clip.mp4");
  test_allocation_failures(path);
  if (file_exists("samples/messi5.jpg")) test_jpeg_frame("samples/messi5.jpg");
  test_reader_errors();
  test_writer_errors();
  remove_tmp_dir();
  return test_finish("test_video");
}
