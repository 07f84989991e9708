/* Small readers of cJSON values shared by every parser of outside JSON (models, detections, evaluation). */
#ifndef CPOSE_CORE_JSON_H
#define CPOSE_CORE_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* The largest integer a double (and so cJSON) holds exactly: 2^53. */
#define CPOSE_JSON_MAX_EXACT_INTEGER 9007199254740992.0

/* A finite JSON number. */
bool cpose_json_finite(const cJSON *item, double *out);

/* A JSON number that is a whole number of magnitude at most 2^53. */
bool cpose_json_exact_integer(const cJSON *item, int64_t *out);

/* An integer written as a JSON number or, as proto3 JSON writes int64, a decimal string. */
bool cpose_json_int64(const cJSON *item, int64_t *out);

#endif
