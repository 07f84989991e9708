#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

bool cpose_json_finite(const cJSON *item, double *out) {
  if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) return false;
  *out = item->valuedouble;
  return true;
}

bool cpose_json_exact_integer(const cJSON *item, int64_t *out) {
  double v;
  if (!cpose_json_finite(item, &v) || v != floor(v) || fabs(v) > CPOSE_JSON_MAX_EXACT_INTEGER) return false;
  *out = (int64_t)v;
  return true;
}

bool cpose_json_int64(const cJSON *item, int64_t *out) {
  if (cJSON_IsNumber(item)) return cpose_json_exact_integer(item, out);
  if (!cJSON_IsString(item) || !item->valuestring[0]) return false;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(item->valuestring, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}
