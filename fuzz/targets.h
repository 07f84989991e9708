/*
 * The fuzz targets' entry points: each takes one input (borrowed for the call), runs it through a parser of
 * outside data, frees everything it made, and returns 0. The libFuzzer executables (libfuzzer_main.c, one
 * per entry) and tests/test_fuzz_regressions.c (which replays fuzz/corpus/ and fuzz/regressions/ in the
 * normal build) call the same functions.
 *
 * An entry checks the API's promises on the way (a failure sets a status and a message, a success hands out
 * a well-formed object) and aborts when one is broken, so that libFuzzer keeps the input as a crash.
 */
#ifndef CPOSE_FUZZ_TARGETS_H
#define CPOSE_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* model.json bytes, a NUL, then the weight shards; without a NUL, all of it is model.json and the weights
 * are a fixed small buffer. A model that loads goes through fuzz_model_load. */
int fuzz_model_json(const uint8_t *data, size_t size);

/* The first byte picks one of a few fixed valid model.json files; the rest are its weight shards. */
int fuzz_model_weights(const uint8_t *data, size_t size);

/* cpose_image_decode: a JPEG, PNG or anything else. */
int fuzz_image(const uint8_t *data, size_t size);

/* detfile_parse: a detections file (COCO results list), then a few lookups. */
int fuzz_detfile(const uint8_t *data, size_t size);

/* cpose_eval_coco. With a NUL in the input: the ground truth before it, the results after it. Without: an
 * input starting with '[' (after white space) is a results list, evaluated against a fixed ground truth;
 * anything else is a ground truth, evaluated with fixed results. */
int fuzz_eval(const uint8_t *data, size_t size);

/* cpose_video_open_memory, then cpose_video_read to the end of the stream. */
int fuzz_video(const uint8_t *data, size_t size);

/* Shared by the two model targets (model_check.c): loads the model from memory; a failure must leave no
 * model and say why; a model that loads goes through every query, then a session on the reference backend
 * and, when its plan is small, a run and the same on the fast backend; then it is freed. */
void fuzz_model_load(const char *json, size_t json_size, const void *weights, size_t weights_size);

/* A broken promise of the API: prints where and aborts (libFuzzer then saves the input). */
#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                      \
    }                                                                               \
  } while (0)

#endif
