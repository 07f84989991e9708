/* cpose_model_load_memory with fuzzed weight shards under fixed, valid model.json files: the first byte
 * picks the model, the rest are its shards. The weights are dequantized (float16, uint8, uint16, bool, int32)
 * and, in these graphs, many are the constant inputs that decide shapes and indices (Reshape's shape,
 * StridedSlice's begin / end / strides, GatherV2's indices and axis, TopKV2's k, Mean's axes,
 * ResizeBilinear's size, ExpandDims' and ConcatV2's axis), so planning and running check them too
 * (fuzz_model_load). Each model's valid weights are the seeds in fuzz/corpus/fuzz_model_weights/. */
#include <string.h>

#include "cpose.h"
#include "targets.h"

/* model.json pieces. Attribute values are proto3 JSON as TF.js writes them (strings in base64). */
/* clang-format off */
#define MW_MODEL(nodes, weights)                                                                             \
  "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":[" nodes "]},"                                    \
  "\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":[" weights "]}]}"
#define MW_X(d0, d1, d2, d3)                                                                                 \
  "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"                      \
  "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"" d0 "\"},{\"size\":\"" d1 "\"},{\"size\":\"" d2 "\"},"        \
  "{\"size\":\"" d3 "\"}]}}}}"
#define MW_CONST(name, type)                                                                                 \
  "{\"name\":\"" name "\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"" type "\"}}}"
#define MW_OP(name, op, inputs, attr)                                                                        \
  "{\"name\":\"" name "\",\"op\":\"" op "\",\"input\":[" inputs "],\"attr\":{" attr "}}"
#define MW_WEIGHT(name, shape, dtype) "{\"name\":\"" name "\",\"shape\":[" shape "],\"dtype\":\"" dtype "\"}"
#define MW_QUANTIZED(name, shape, dtype, quantization)                                                       \
  "{\"name\":\"" name "\",\"shape\":[" shape "],\"dtype\":\"" dtype "\",\"quantization\":" quantization "}"
#define MW_T(type) "{\"type\":\"" type "\"}"
#define MW_INTS4(a, b, c, d) "{\"list\":{\"i\":[\"" a "\",\"" b "\",\"" c "\",\"" d "\"]}}"
#define MW_SAME "{\"s\":\"U0FNRQ==\"}"
#define MW_VALID "{\"s\":\"VkFMSUQ=\"}"

/* x [1,2,2,1] + b (float16 [1]) -> Relu -> Mul w (uint8 [2,2,1], scale 0.5, min -1): test_model_load's graph.
 * Valid weights: 00 c0 00 02 03 0a (6 bytes). */
static const char model_weights_quantized[] = MW_MODEL(
    MW_X("1", "2", "2", "1") "," MW_CONST("b", "DT_FLOAT") "," MW_CONST("w", "DT_FLOAT") ","
    MW_OP("add", "AddV2", "\"x\",\"b\"", "\"T\":" MW_T("DT_FLOAT")) ","
    MW_OP("relu", "Relu", "\"add\"", "") "," MW_OP("out", "Mul", "\"relu\",\"w\"", ""),
    MW_QUANTIZED("b", "1", "float32", "{\"dtype\":\"float16\"}") ","
    MW_QUANTIZED("w", "2,2,1", "float32", "{\"dtype\":\"uint8\",\"scale\":0.5,\"min\":-1}"));

/* x [1,4,4,2] -> Reshape(shape) -> StridedSlice(begin, end, strides) -> GatherV2(idx, axis), all int32.
 * Valid weights (int32 little-endian): shape {8,4}, begin {1,0}, end {7,4}, strides {2,1}, idx {0,2,1},
 * axis 0 (48 bytes). */
static const char model_weights_shapes[] = MW_MODEL(
    MW_X("1", "4", "4", "2") "," MW_CONST("shape", "DT_INT32") "," MW_CONST("begin", "DT_INT32") ","
    MW_CONST("end", "DT_INT32") "," MW_CONST("strides", "DT_INT32") "," MW_CONST("idx", "DT_INT32") ","
    MW_CONST("axis", "DT_INT32") ","
    MW_OP("r", "Reshape", "\"x\",\"shape\"", "") ","
    MW_OP("s", "StridedSlice", "\"r\",\"begin\",\"end\",\"strides\"", "\"Index\":" MW_T("DT_INT32")) ","
    MW_OP("g", "GatherV2", "\"s\",\"idx\",\"axis\"", "\"batch_dims\":{\"i\":\"0\"}"),
    MW_WEIGHT("shape", "2", "int32") "," MW_WEIGHT("begin", "2", "int32") ","
    MW_WEIGHT("end", "2", "int32") ","
    MW_WEIGHT("strides", "2", "int32") "," MW_WEIGHT("idx", "3", "int32") "," MW_WEIGHT("axis", "", "int32"));

/* x [1,4,4,2] -> TopKV2(k) and Mean(axes, keep_dims). Valid weights: k 2, axes {1,2} (12 bytes). */
static const char model_weights_reduce[] = MW_MODEL(
    MW_X("1", "4", "4", "2") "," MW_CONST("k", "DT_INT32") "," MW_CONST("axes", "DT_INT32") ","
    MW_OP("top", "TopKV2", "\"x\",\"k\"", "\"sorted\":{\"b\":true}") ","
    MW_OP("mean", "Mean", "\"x\",\"axes\"", "\"keep_dims\":{\"b\":true}"),
    MW_WEIGHT("k", "", "int32") "," MW_WEIGHT("axes", "2", "int32"));

/* x [1,4,4,2] -> ResizeBilinear(size), ExpandDims(dim), ConcatV2(x, x, axis). Valid weights: size {8,6},
 * dim -1, axis 3 (16 bytes). */
static const char model_weights_resize[] = MW_MODEL(
    MW_X("1", "4", "4", "2") "," MW_CONST("size", "DT_INT32") "," MW_CONST("dim", "DT_INT32") ","
    MW_CONST("axis", "DT_INT32") ","
    MW_OP("resize", "ResizeBilinear", "\"x\",\"size\"", "\"half_pixel_centers\":{\"b\":true}") ","
    MW_OP("expand", "ExpandDims", "\"x\",\"dim\"", "") ","
    MW_OP("concat", "ConcatV2", "\"x\",\"x\",\"axis\"", "\"N\":{\"i\":\"2\"}"),
    MW_WEIGHT("size", "2", "int32") "," MW_WEIGHT("dim", "", "int32") "," MW_WEIGHT("axis", "", "int32"));

/* x [1,2,2,1] * Cast(mask: bool [4]) + u (uint16-quantized float32 [4]) - Cast(i: uint8-quantized int32
 * [4]), and Equal(Cast(i), u). Valid weights: mask 01 00 01 01, u {0, 100, 200, 65535} (uint16),
 * i {0, 1, 2, 3} (16 bytes). */
static const char model_weights_dtypes[] = MW_MODEL(
    MW_X("1", "2", "2", "1") "," MW_CONST("mask", "DT_BOOL") "," MW_CONST("u", "DT_FLOAT") ","
    MW_CONST("i", "DT_INT32") ","
    MW_OP("maskf", "Cast", "\"mask\"", "\"SrcT\":" MW_T("DT_BOOL") ",\"DstT\":" MW_T("DT_FLOAT")) ","
    MW_OP("if", "Cast", "\"i\"", "\"SrcT\":" MW_T("DT_INT32") ",\"DstT\":" MW_T("DT_FLOAT")) ","
    MW_OP("mul", "Mul", "\"x\",\"maskf\"", "") "," MW_OP("add", "AddV2", "\"mul\",\"u\"", "") ","
    MW_OP("out", "Sub", "\"add\",\"if\"", "") "," MW_OP("eq", "Equal", "\"if\",\"u\"", ""),
    MW_WEIGHT("mask", "4", "bool") ","
    MW_QUANTIZED("u", "4", "float32", "{\"dtype\":\"uint16\",\"scale\":0.01,\"min\":-1}") ","
    MW_QUANTIZED("i", "4", "int32", "{\"dtype\":\"uint8\",\"scale\":1,\"min\":0}"));

/* x [1,5,5,2] -> _FusedConv2D(f: float16 [3,3,2,4], bias [4]; BiasAdd, Relu6; SAME) -> MaxPool 2x2, and
 * DepthwiseConv2dNative(dw: uint8-quantized [3,3,2,1], stride 2, VALID). Valid weights: 144 bytes of
 * float16, 16 of float32, 18 of uint8 (178 bytes). */
static const char model_weights_conv[] = MW_MODEL(
    MW_X("1", "5", "5", "2") "," MW_CONST("f", "DT_FLOAT") "," MW_CONST("bias", "DT_FLOAT") ","
    MW_CONST("dw", "DT_FLOAT") ","
    MW_OP("conv", "_FusedConv2D", "\"x\",\"f\",\"bias\"",
          "\"T\":" MW_T("DT_FLOAT") ",\"strides\":" MW_INTS4("1", "1", "1", "1") ",\"padding\":" MW_SAME
          ",\"num_args\":{\"i\":\"1\"},\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdTY=\"]}}") ","
    MW_OP("pool", "MaxPool", "\"conv\"",
          "\"ksize\":" MW_INTS4("1", "2", "2", "1") ",\"strides\":" MW_INTS4("1", "2", "2", "1")
          ",\"padding\":" MW_VALID) ","
    MW_OP("depthwise", "DepthwiseConv2dNative", "\"x\",\"dw\"",
          "\"strides\":" MW_INTS4("1", "2", "2", "1") ",\"padding\":" MW_VALID),
    MW_QUANTIZED("f", "3,3,2,4", "float32", "{\"dtype\":\"float16\"}") ","
    MW_WEIGHT("bias", "4", "float32") ","
    MW_QUANTIZED("dw", "3,3,2,1", "float32", "{\"dtype\":\"uint8\",\"scale\":0.01,\"min\":-1}"));

/* clang-format on */

static const char *const model_weights_models[] = {
    model_weights_quantized, model_weights_shapes, model_weights_reduce,
    model_weights_resize,    model_weights_dtypes, model_weights_conv,
};
#define MODEL_WEIGHTS_COUNT (sizeof model_weights_models / sizeof model_weights_models[0])

int fuzz_model_weights(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const char *json = model_weights_models[data[0] % MODEL_WEIGHTS_COUNT];
  fuzz_model_load(json, strlen(json), size > 1 ? data + 1 : NULL, size - 1);
  return 0;
}
