//===- OpsetTable.cpp - The ONNX operators Tidal imports ------------------===//
//
// One row per ONNX operator: its importer and every opset version in which
// ONNX published a new definition of it (from spec/Operators.md, up to
// opset 28). A node is imported with the semantics of the newest version
// not newer than the opset its model imports; each importer tests the
// model's opset against the versions where the semantics it implements
// changed (for example Softmax's 2-D coercion before 13, attributes that
// became inputs). Versions that only added element types need no code.
//
// A model importing a default opset newer than 28 is refused node by node:
// any operator may have changed in an opset Tidal has not seen.
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"
#include "frontend/OpImportersExtra.h"
#include "llvm/ADT/StringRef.h"

using namespace tidal;
using namespace tidal::onnximport;

namespace {
const OpEntry Table[] = {
    {"Abs", importUnary, {1, 6, 13}},
    {"Add", importBinary, {1, 6, 7, 13, 14}},
    {"And", importBinary, {1, 7}},
    {"ArgMax", importArgMinMax, {1, 11, 12, 13}},
    {"ArgMin", importArgMinMax, {1, 11, 12, 13}},
    {"AveragePool", importPool, {1, 7, 10, 11, 19, 22}},
    {"BatchNormalization", importBatchNorm, {1, 6, 7, 9, 14, 15}},
    {"BitShift", importBitShift, {11}},
    {"BitwiseAnd", importBinary, {18}},
    {"BitwiseNot", importBitwiseNot, {18}},
    {"BitwiseOr", importBinary, {18}},
    {"BitwiseXor", importBinary, {18}},
    {"Cast", importCast, {1, 6, 9, 13, 19, 21, 23, 24, 25}},
    {"CastLike", importCastLike, {15, 19, 21, 23, 24, 25}},
    {"Ceil", importUnary, {1, 6, 13}},
    {"Celu", importUnary, {12, 28}},
    {"Clip", importClip, {1, 6, 11, 12, 13}},
    {"Concat", importConcat, {1, 4, 11, 13}},
    {"Constant", importConstant, {1, 9, 11, 12, 13, 19, 21, 23, 24, 25}},
    {"ConstantOfShape", importConstantOfShape, {9, 20, 21, 23, 24, 25}},
    {"Conv", importConv, {1, 11, 22}},
    {"ConvTranspose", importConvTranspose, {1, 11, 22}},
    {"Cos", importUnary, {7, 22}},
    {"CumProd", importCumSum, {26}},
    {"CumSum", importCumSum, {11, 14}},
    {"DepthToSpace", importDepthToSpace, {1, 11, 13}},
    {"Div", importBinary, {1, 6, 7, 13, 14}},
    {"Dropout", importDropout, {1, 6, 7, 10, 12, 13, 22}},
    {"Elu", importUnary, {1, 6, 22}},
    {"Equal", importBinary, {1, 7, 11, 13, 19}},
    {"Erf", importUnary, {9, 13}},
    {"Exp", importUnary, {1, 6, 13}},
    {"Expand", importExpand, {8, 13}},
    {"Flatten", importFlatten, {1, 9, 11, 13, 21, 23, 24, 25}},
    {"Floor", importUnary, {1, 6, 13}},
    {"Gather", importGather, {1, 11, 13}},
    {"GatherElements", importGatherElements, {11, 13}},
    {"Gelu", importUnary, {20}},
    {"Gemm", importGemm, {1, 6, 7, 9, 11, 13}},
    {"GlobalAveragePool", importGlobalPool, {1, 22}},
    {"GlobalMaxPool", importGlobalPool, {1, 22}},
    {"Greater", importBinary, {1, 7, 9, 13}},
    {"GreaterOrEqual", importBinary, {12, 16}},
    {"GroupNormalization", importGroupNorm, {18, 21}},
    {"HardSigmoid", importUnary, {1, 6, 22}},
    {"HardSwish", importUnary, {14, 22}},
    {"Hardmax", importHardmax, {1, 11, 13}},
    {"Identity", importIdentity, {1, 13, 14, 16, 19, 21, 23, 24, 25}},
    {"InstanceNormalization", importInstanceNorm, {1, 6, 22}},
    {"IsInf", importIsInf, {10, 20}},
    {"IsNaN", importIsNaN, {9, 13, 20}},
    {"LRN", importLRN, {1, 13}},
    {"LayerNormalization", importLayerNorm, {17}},
    {"LeakyRelu", importUnary, {1, 6, 16}},
    {"Less", importBinary, {1, 7, 9, 13}},
    {"LessOrEqual", importBinary, {12, 16}},
    {"Log", importUnary, {1, 6, 13}},
    {"LogSoftmax", importSoftmax, {1, 11, 13}},
    {"LpNormalization", importLpNorm, {1, 22}},
    {"MatMul", importMatMul, {1, 9, 13}},
    {"Max", importVariadic, {1, 6, 8, 12, 13}},
    {"MaxPool", importPool, {1, 8, 10, 11, 12, 22}},
    {"Mean", importVariadic, {1, 6, 8, 13}},
    {"MeanVarianceNormalization", importMeanVarianceNorm, {9, 13}},
    {"Min", importVariadic, {1, 6, 8, 12, 13}},
    {"Mish", importMish, {18, 22}},
    {"Mod", importMod, {10, 13}},
    {"Mul", importBinary, {1, 6, 7, 13, 14}},
    {"Neg", importUnary, {1, 6, 13}},
    {"Not", importUnary, {1}},
    {"Or", importBinary, {1, 7}},
    {"PRelu", importBinary, {1, 6, 7, 9, 16}},
    {"Pad", importPad, {1, 2, 11, 13, 18, 19, 21, 23, 24, 25}},
    {"Pow", importBinary, {1, 7, 12, 13, 15}},
    {"RMSNormalization", importRMSNorm, {23}},
    {"Range", importRange, {11, 27}},
    {"Reciprocal", importUnary, {1, 6, 13}},
    {"ReduceL1", importReduce, {1, 11, 13, 18}},
    {"ReduceL2", importReduce, {1, 11, 13, 18}},
    {"ReduceLogSum", importReduce, {1, 11, 13, 18}},
    {"ReduceLogSumExp", importReduce, {1, 11, 13, 18}},
    {"ReduceMax", importReduce, {1, 11, 12, 13, 18, 20}},
    {"ReduceMean", importReduce, {1, 11, 13, 18}},
    {"ReduceMin", importReduce, {1, 11, 12, 13, 18, 20}},
    {"ReduceProd", importReduce, {1, 11, 13, 18}},
    {"ReduceSum", importReduce, {1, 11, 13}},
    {"ReduceSumSquare", importReduce, {1, 11, 13, 18}},
    {"Relu", importUnary, {1, 6, 13, 14}},
    {"Reshape", importReshape, {1, 5, 13, 14, 19, 21, 23, 24, 25}},
    {"Resize", importResize, {10, 11, 13, 18, 19}},
    {"Round", importUnary, {11, 22}},
    {"Selu", importUnary, {1, 6, 22}},
    {"Shape", importShape, {1, 13, 15, 19, 21, 23, 24, 25}},
    {"Shrink", importShrink, {9}},
    {"Sigmoid", importUnary, {1, 6, 13}},
    {"Sign", importUnary, {9, 13}},
    {"Sin", importUnary, {7, 22}},
    {"Size", importSize, {1, 13, 19, 21, 23, 24, 25}},
    {"Slice", importSlice, {1, 10, 11, 13}},
    {"Softmax", importSoftmax, {1, 11, 13}},
    {"Softplus", importUnary, {1, 22}},
    {"Softsign", importUnary, {1, 22}},
    {"SpaceToDepth", importSpaceToDepth, {1, 13}},
    {"Split", importSplit, {1, 2, 11, 13, 18}},
    {"Sqrt", importUnary, {1, 6, 13}},
    {"Squeeze", importSqueeze, {1, 11, 13, 21, 23, 24, 25}},
    {"Sub", importBinary, {1, 6, 7, 13, 14}},
    {"Sum", importVariadic, {1, 6, 8, 13}},
    {"Swish", importSwish, {24}},
    {"Tanh", importUnary, {1, 6, 13}},
    {"ThresholdedRelu", importUnary, {10, 22}},
    {"Tile", importTile, {1, 6, 13}},
    {"Transpose", importTranspose, {1, 13, 21, 23, 24, 25}},
    {"Trilu", importTrilu, {14}},
    {"Unsqueeze", importUnsqueeze, {1, 11, 13, 21, 23, 24, 25}},
    {"Upsample", importUpsample, {7, 9, 10}},
    {"Where", importWhere, {9, 16}},
    {"Xor", importBinary, {1, 7}},
};
} // namespace

const OpEntry *onnximport::findOp(llvm::StringRef OpType) {
  for (const OpEntry &E : Table)
    if (OpType == E.Name)
      return &E;
  return nullptr;
}

std::optional<std::string> onnximport::checkOpset(const OpEntry &Op,
                                                  int64_t Opset) {
  if (Opset > MaxKnownOpset)
    return "opset " + std::to_string(Opset) +
           " is newer than the newest Tidal knows (" +
           std::to_string(MaxKnownOpset) +
           "); the operator's semantics may have changed";
  if (Opset < Op.Versions.front())
    return "operator " + std::string(Op.Name) + " does not exist in opset " +
           std::to_string(Opset) + " (it was added in opset " +
           std::to_string(Op.Versions.front()) + ")";
  return std::nullopt;
}
