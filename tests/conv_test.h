/* Conv nodes for op tests: their attributes as model.json writes them (strides, dilations, padding,
 * fused_ops), from a readable spec. */
#ifndef CPOSE_CONV_TEST_H
#define CPOSE_CONV_TEST_H

#include <stdio.h>
#include <string.h>

static inline void base64(const char *s, char *out) {
  static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(s), o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)(unsigned char)s[i] << 16;
    if (i + 1 < n) v |= (unsigned)(unsigned char)s[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned)(unsigned char)s[i + 2];
    out[o++] = table[(v >> 18) & 63];
    out[o++] = table[(v >> 12) & 63];
    out[o++] = i + 1 < n ? table[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? table[v & 63] : '=';
  }
  out[o] = '\0';
}

/* What a conv node's attributes say, in readable form; conv_attr writes them as model.json does. */
typedef struct conv_spec {
  int stride_h, stride_w, dilation_h, dilation_w;
  const char *padding; /* "SAME", "VALID", ... */
  const char *fused;   /* NULL: no fused_ops; else comma-separated ("BiasAdd,Relu") */
  int num_args;        /* written with fused_ops; -1: 1 when fused is not empty */
  const char *extra;   /* more JSON members ("\"data_format\": ...") or NULL */
} conv_spec;

static inline conv_spec conv_spec_default(void) {
  conv_spec s = {1, 1, 1, 1, "SAME", NULL, -1, NULL};
  return s;
}

static inline size_t append(char *buf, size_t cap, size_t n, const char *text) {
  if (n < cap) snprintf(buf + n, cap - n, "%s", text);
  return n + strlen(text);
}

static inline const char *conv_attr(char *buf, size_t cap, const conv_spec *s) {
  char encoded[128], part[256];
  base64(s->padding, encoded);
  snprintf(part, sizeof part,
           "{\"strides\": {\"list\": {\"i\": [\"1\", \"%d\", \"%d\", \"1\"]}}, "
           "\"dilations\": {\"list\": {\"i\": [\"1\", \"%d\", \"%d\", \"1\"]}}, \"padding\": {\"s\": \"%s\"}",
           s->stride_h, s->stride_w, s->dilation_h, s->dilation_w, encoded);
  size_t n = append(buf, cap, 0, part);
  if (s->fused) {
    n = append(buf, cap, n, ", \"fused_ops\": {\"list\": {\"s\": [");
    char names[128];
    snprintf(names, sizeof names, "%s", s->fused);
    int count = 0;
    for (char *name = strtok(names, ","); name; name = strtok(NULL, ",")) {
      base64(name, encoded);
      snprintf(part, sizeof part, "%s\"%s\"", count++ ? ", " : "", encoded);
      n = append(buf, cap, n, part);
    }
    snprintf(part, sizeof part, "]}}, \"num_args\": {\"i\": \"%d\"}",
             s->num_args >= 0 ? s->num_args : count > 0);
    n = append(buf, cap, n, part);
  }
  if (s->extra) {
    n = append(buf, cap, n, ", ");
    n = append(buf, cap, n, s->extra);
  }
  append(buf, cap, n, "}");
  return buf;
}

#endif
