/* TensorFlow NodeDef attributes in the proto3 JSON form that TF.js stores: {"i": "3"}, {"b": true},
 * {"f": 0.5}, {"s": "<base64>"}, {"type": "DT_FLOAT"}, {"list": {"i": [...]}} and {"list": {"s": [...]}}. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "nn/nn.h"

static const cJSON *attr_field(const cJSON *attr, const char *key, const char *field) {
  const cJSON *entry = attr ? cJSON_GetObjectItemCaseSensitive(attr, key) : NULL;
  return cJSON_IsObject(entry) ? cJSON_GetObjectItemCaseSensitive(entry, field) : NULL;
}

static bool attr_present(const cJSON *attr, const char *key) {
  return attr && cJSON_GetObjectItemCaseSensitive(attr, key) != NULL;
}


static cpose_status attr_malformed(const nn_node *node, const char *key, const char *expected) {
  return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute '%s' is not %s", key, expected);
}

cpose_status nn_attr_int(const nn_node *node, const cJSON *attr, const char *key, int64_t def, int64_t *out) {
  if (!attr_present(attr, key)) {
    *out = def;
    return CPOSE_OK;
  }
  const cJSON *v = attr_field(attr, key, "i");
  if (!v) {  /* proto3 JSON omits zero values: {"i": 0} may be written as {} */
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(attr, key);
    if (cJSON_IsObject(entry) && entry->child == NULL) {
      *out = 0;
      return CPOSE_OK;
    }
    return attr_malformed(node, key, "an integer");
  }
  if (!cpose_json_int64(v, out)) return attr_malformed(node, key, "an integer");
  return CPOSE_OK;
}

cpose_status nn_attr_bool(const nn_node *node, const cJSON *attr, const char *key, bool def, bool *out) {
  if (!attr_present(attr, key)) {
    *out = def;
    return CPOSE_OK;
  }
  const cJSON *v = attr_field(attr, key, "b");
  if (!v) {
    *out = false;  /* proto3 default */
    return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(attr, key)) ? CPOSE_OK
                                                                      : attr_malformed(node, key, "a bool");
  }
  if (!cJSON_IsBool(v)) return attr_malformed(node, key, "a bool");
  *out = cJSON_IsTrue(v);
  return CPOSE_OK;
}

cpose_status nn_attr_float(const nn_node *node, const cJSON *attr, const char *key, float def, float *out) {
  if (!attr_present(attr, key)) {
    *out = def;
    return CPOSE_OK;
  }
  const cJSON *v = attr_field(attr, key, "f");
  if (!v) {
    *out = 0.0f;
    return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(attr, key)) ? CPOSE_OK
                                                                      : attr_malformed(node, key, "a float");
  }
  if (!cJSON_IsNumber(v)) return attr_malformed(node, key, "a float");
  *out = (float)v->valuedouble;
  return CPOSE_OK;
}

static const cJSON *attr_list(const nn_node *node, const cJSON *attr, const char *key, const char *field,
                              cpose_status *status) {
  *status = CPOSE_OK;
  if (!attr_present(attr, key)) return NULL;
  const cJSON *list = attr_field(attr, key, "list");
  if (!cJSON_IsObject(list)) {
    *status = attr_malformed(node, key, "a list");
    return NULL;
  }
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, field);
  if (items && !cJSON_IsArray(items)) {
    *status = attr_malformed(node, key, "a list");
    return NULL;
  }
  return items;
}

cpose_status nn_attr_ints(const nn_node *node, const cJSON *attr, const char *key, int64_t *out, int cap,
                          int *count) {
  cpose_status status;
  const cJSON *items = attr_list(node, attr, key, "i", &status);
  if (status != CPOSE_OK) return status;
  int n = items ? cJSON_GetArraySize(items) : 0;
  if (n > cap) return nn_node_fail(node, CPOSE_ERR_PARSE, "attribute '%s' has %d values, at most %d", key, n, cap);
  int i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, items) {
    if (!cpose_json_int64(item, &out[i])) return attr_malformed(node, key, "a list of integers");
    i++;
  }
  *count = n;
  return CPOSE_OK;
}

static int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

/* Decodes base64 `in` into `out` (NUL-terminated); false when malformed or longer than cap - 1. */
static bool base64_decode(const char *in, char *out, size_t cap) {
  size_t n = 0;
  unsigned bits = 0;
  int count = 0;
  for (const char *p = in; *p && *p != '='; p++) {
    int v = base64_value(*p);
    if (v < 0) return false;
    bits = (bits << 6) | (unsigned)v;
    count += 6;
    if (count >= 8) {
      count -= 8;
      if (n + 1 >= cap) return false;
      out[n++] = (char)((bits >> count) & 0xff);
    }
  }
  out[n] = '\0';
  return true;
}

cpose_status nn_attr_string(const nn_node *node, const cJSON *attr, const char *key, char *out, size_t cap) {
  out[0] = '\0';
  if (!attr_present(attr, key)) return CPOSE_OK;
  const cJSON *v = attr_field(attr, key, "s");
  if (!v) return CPOSE_OK;
  if (!cJSON_IsString(v) || !base64_decode(v->valuestring, out, cap)) {
    return attr_malformed(node, key, "a short base64 string");
  }
  return CPOSE_OK;
}

cpose_status nn_attr_string_at(const nn_node *node, const cJSON *attr, const char *key, int index, char *out,
                               size_t cap, int *count) {
  cpose_status status;
  const cJSON *items = attr_list(node, attr, key, "s", &status);
  if (status != CPOSE_OK) return status;
  *count = items ? cJSON_GetArraySize(items) : 0;
  out[0] = '\0';
  if (index < 0 || index >= *count) return CPOSE_OK;
  const cJSON *v = cJSON_GetArrayItem(items, index);
  if (!cJSON_IsString(v) || !base64_decode(v->valuestring, out, cap)) {
    return attr_malformed(node, key, "a list of short base64 strings");
  }
  return CPOSE_OK;
}


cpose_status nn_attr_type(const nn_node *node, const cJSON *attr, const char *key, nn_dtype def,
                          nn_dtype *out) {
  if (!attr_present(attr, key)) {
    *out = def;
    return CPOSE_OK;
  }
  const cJSON *v = attr_field(attr, key, "type");
  if (!cJSON_IsString(v)) return attr_malformed(node, key, "a dtype");
  if (nn_dtype_from_tf(v->valuestring, out) != CPOSE_OK) {
    return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "attribute '%s' has dtype %s (supported: DT_FLOAT, DT_INT32, "
                        "DT_BOOL)", key, v->valuestring);
  }
  return CPOSE_OK;
}

cpose_status nn_dtype_from_tf(const char *name, nn_dtype *out) {
  if (strcmp(name, "DT_FLOAT") == 0) *out = NN_F32;
  else if (strcmp(name, "DT_INT32") == 0) *out = NN_I32;
  else if (strcmp(name, "DT_BOOL") == 0) *out = NN_BOOL;
  else return CPOSE_ERR_UNSUPPORTED;
  return CPOSE_OK;
}

cpose_status nn_attr_padding(const nn_node *node, const cJSON *attr, nn_padding *out) {
  char padding[16];
  cpose_status status = nn_attr_string(node, attr, "padding", padding, sizeof padding);
  if (status != CPOSE_OK) return status;
  if (strcmp(padding, "SAME") == 0) *out = NN_PAD_SAME;
  else if (strcmp(padding, "VALID") == 0) *out = NN_PAD_VALID;
  else if (strcmp(padding, "EXPLICIT") == 0) *out = NN_PAD_EXPLICIT;
  else return nn_node_fail(node, CPOSE_ERR_UNSUPPORTED, "padding '%s' is not SAME, VALID or EXPLICIT", padding);
  return CPOSE_OK;
}
