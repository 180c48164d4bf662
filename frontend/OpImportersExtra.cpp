//===- OpImportersExtra.cpp - Arg-reductions, bit operations, ... ---------===//
//
// ArgMax, ArgMin, Hardmax, Mod, BitShift, BitwiseNot (BitwiseAnd/Or/Xor use
// importBinary), Shrink, Mish, Swish, IsNaN, IsInf, DepthToSpace,
// SpaceToDepth, Trilu, CumSum, CumProd and GatherElements.
//
// Decompositions (each computes what ONNX's definition computes):
//   - Hardmax: Equal(ArgMax(x, keepdims), iota along the axis), cast to the
//     input's type (the first maximum; before opset 13 over the 2-D
//     coercion at `axis`, as Softmax);
//   - Mish: x * tanh(softplus(x)); Swish: x * sigmoid(alpha * x);
//   - IsNaN: not(x == x); IsInf: x == +inf / x == -inf per detect_*;
//   - DepthToSpace / SpaceToDepth: Reshape, Transpose, Reshape, exactly the
//     formulas of the operator's definition (DCR and CRD modes);
//   - Trilu: Where(constant mask, x, 0) (k must be constant).
// ArgMax, ArgMin, Mod, BitShift, BitwiseNot, Shrink, CumSum, CumProd and
// GatherElements are graph operations of their own.
//
// Opset differences: ArgMax/ArgMin have select_last_index from 12;
// DepthToSpace has `mode` from 11; Hardmax coerces to 2-D before 13; IsInf
// and IsNaN only added types; CumSum 14 only added types.
//
//===----------------------------------------------------------------------===//

#include "frontend/OpImportersExtra.h"
#include <cmath>

using namespace tidal;
using namespace tidal::onnximport;

namespace {

bool requireFloat(NodeImporter &N, Value *X) {
  if (X && isFloat(X->Type.Elem))
    return true;
  if (X)
    N.fail(N.Proto.op_type() + " is not defined for element type " +
           elemTypeName(X->Type.Elem));
  return false;
}

bool isInteger(ElemType E) { return E != ElemType::Bool && !isFloat(E); }

} // namespace

//===----------------------------------------------------------------------===//
// ArgMax, ArgMin, Hardmax
//===----------------------------------------------------------------------===//

namespace {
Value *argExtreme(NodeImporter &N, OpKind K, Value *X, int64_t Axis, bool Keep,
                  bool Last) {
  std::vector<int64_t> Out = X->Type.Shape;
  if (Keep)
    Out[Axis] = 1;
  else
    Out.erase(Out.begin() + Axis);
  AttrMap A;
  A["axis"] = Axis;
  A["keepdims"] = int64_t(Keep);
  A["select_last_index"] = int64_t(Last);
  return N.emit(K, {X}, std::move(A), TensorType(ElemType::I64, Out));
}
} // namespace

void onnximport::importArgMinMax(NodeImporter &N) {
  OpKind K = N.Proto.op_type() == "ArgMax" ? OpKind::ArgMax : OpKind::ArgMin;
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  if (X->Type.Elem == ElemType::Bool)
    return N.fail(N.Proto.op_type() + " is not defined for bool");
  if (X->Type.rank() == 0)
    return N.fail("the input must have rank 1 or more");
  auto Axis = N.normalizeAxis(N.attrInt("axis", 0), X->Type.rank());
  bool Keep = N.attrInt("keepdims", 1) != 0;
  bool Last = N.Opset >= 12 && N.attrInt("select_last_index", 0) != 0;
  if (!Axis || N.failed())
    return;
  if (X->Type.Shape[*Axis] == 0)
    return N.fail("the axis " + llvm::Twine(*Axis) + " of " + X->Type.str() +
                  " is empty: there is no extreme to index");
  N.setOutput(0, argExtreme(N, K, X, *Axis, Keep, Last));
}

void onnximport::importHardmax(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!requireFloat(N, X))
    return;
  int64_t Rank = X->Type.rank();
  if (Rank == 0)
    return N.fail("the input must have rank 1 or more");
  auto Axis = N.normalizeAxis(N.attrInt("axis", N.Opset < 13 ? 1 : -1), Rank);
  if (!Axis || N.failed())
    return;
  const std::vector<int64_t> S = X->Type.Shape;
  Value *V = X;
  int64_t A = *Axis;
  if (N.Opset < 13) {
    // The 2-D coercion: one hardmax over everything from `axis` on.
    V = N.reshape(X, {product(S, 0, A), product(S, A)});
    A = 1;
  }
  if (!V || N.failed())
    return;
  int64_t Len = V->Type.Shape[A];
  if (V->Type.numElements() == 0)
    return N.setOutput(0, X);
  Value *Arg = argExtreme(N, OpKind::ArgMax, V, A, true, false);
  // iota[k, 1, ..., 1] = k along the axis.
  std::vector<int64_t> IotaShape(V->Type.rank() - A, 1);
  IotaShape[0] = Len;
  Tensor Iota(TensorType(ElemType::I64, IotaShape));
  for (int64_t K = 0; K < Len; ++K)
    Iota.setInt(K, K);
  Value *Hot =
      build::binary(N, OpKind::Equal, Arg, N.constant(std::move(Iota)));
  N.setOutput(0, N.reshape(build::cast(N, Hot, X->Type.Elem), S));
}

//===----------------------------------------------------------------------===//
// Mod, BitShift, BitwiseNot, Shrink
//===----------------------------------------------------------------------===//

namespace {
/// The two operands of an elementwise binary operator, of one type.
bool binaryOperands(NodeImporter &N, Value *&A, Value *&B) {
  A = N.requiredInput(0);
  B = N.requiredInput(1);
  if (!A || !B)
    return false;
  if (A->Type.Elem != B->Type.Elem) {
    N.fail(llvm::Twine("operands have different element types (") +
           elemTypeName(A->Type.Elem) + " and " + elemTypeName(B->Type.Elem) +
           ")");
    return false;
  }
  return true;
}
} // namespace

void onnximport::importMod(NodeImporter &N) {
  Value *A, *B;
  if (!binaryOperands(N, A, B))
    return;
  int64_t Fmod = N.attrInt("fmod", 0);
  ElemType E = A->Type.Elem;
  if (Fmod != 0 && Fmod != 1)
    return N.fail("fmod must be 0 or 1, not " + llvm::Twine(Fmod));
  if (E == ElemType::Bool)
    return N.fail("Mod is not defined for bool");
  if (isFloat(E) && Fmod == 0)
    return N.fail("Mod of floating-point operands needs fmod = 1");
  AttrMap Attrs;
  Attrs["fmod"] = Fmod;
  N.setOutput(0, build::binary(N, OpKind::Mod, A, B, std::move(Attrs)));
}

void onnximport::importBitShift(NodeImporter &N) {
  Value *A, *B;
  if (!binaryOperands(N, A, B) || !N.requireAttr("direction"))
    return;
  std::string Dir = N.attrString("direction", "");
  ElemType E = A->Type.Elem;
  if (Dir != "LEFT" && Dir != "RIGHT")
    return N.fail("direction must be LEFT or RIGHT, not '" + Dir + "'");
  if (!isInteger(E) || isSignedInt(E))
    return N.fail("BitShift is defined on unsigned integers, not " +
                  elemTypeName(E));
  AttrMap Attrs;
  Attrs["direction"] = Dir;
  N.setOutput(0, build::binary(N, OpKind::BitShift, A, B, std::move(Attrs)));
}

void onnximport::importBitwiseNot(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  if (!isInteger(X->Type.Elem))
    return N.fail("BitwiseNot is defined on integers, not " +
                  elemTypeName(X->Type.Elem));
  N.setOutput(0, build::unary(N, OpKind::BitwiseNot, X));
}

void onnximport::importShrink(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  float Lambd = N.attrFloat("lambd", 0.5f), Bias = N.attrFloat("bias", 0.0f);
  if (X->Type.Elem == ElemType::Bool)
    return N.fail("Shrink is not defined for bool");
  // ONNX's reference computes integers in float64 and converts back, which
  // wraps (platform-dependently) when x -+ bias leaves the type: only
  // bias 0, whose results are inputs or 0, is exact.
  if (!isFloat(X->Type.Elem) && Bias != 0.0f)
    return N.fail("Shrink of integers with a nonzero bias is not supported");
  AttrMap A;
  A["lambd"] = Lambd;
  A["bias"] = Bias;
  N.setOutput(0, build::unary(N, OpKind::Shrink, X, std::move(A)));
}

//===----------------------------------------------------------------------===//
// Mish, Swish, IsNaN, IsInf
//===----------------------------------------------------------------------===//

void onnximport::importMish(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!requireFloat(N, X))
    return;
  Value *T =
      build::unary(N, OpKind::Tanh, build::unary(N, OpKind::Softplus, X));
  N.setOutput(0, build::binary(N, OpKind::Mul, X, T));
}

void onnximport::importSwish(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!requireFloat(N, X))
    return;
  float Alpha = N.attrFloat("alpha", 1.0f);
  Value *In = X;
  if (Alpha != 1.0f)
    In =
        build::binary(N, OpKind::Mul, X, build::scalar(N, X->Type.Elem, Alpha));
  Value *S = build::unary(N, OpKind::Sigmoid, In);
  N.setOutput(0, build::binary(N, OpKind::Mul, X, S));
}

void onnximport::importIsNaN(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!requireFloat(N, X))
    return;
  // x == x is false exactly for NaN (the comparison is ordered).
  Value *Same = build::binary(N, OpKind::Equal, X, X);
  N.setOutput(0, build::unary(N, OpKind::Not, Same));
}

void onnximport::importIsInf(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!requireFloat(N, X))
    return;
  bool Pos = N.attrInt("detect_positive", 1) != 0;
  bool Neg = N.attrInt("detect_negative", 1) != 0;
  if (N.failed())
    return;
  ElemType E = X->Type.Elem;
  Value *R = nullptr;
  if (Pos)
    R = build::binary(N, OpKind::Equal, X, build::scalar(N, E, INFINITY));
  if (Neg) {
    Value *M =
        build::binary(N, OpKind::Equal, X, build::scalar(N, E, -INFINITY));
    R = R ? build::binary(N, OpKind::Or, R, M) : M;
  }
  if (!R) {
    // Neither infinity is detected: all false.
    Tensor F(TensorType(ElemType::Bool, X->Type.Shape));
    R = N.constant(std::move(F));
  }
  N.setOutput(0, R);
}

//===----------------------------------------------------------------------===//
// DepthToSpace, SpaceToDepth
//===----------------------------------------------------------------------===//

namespace {
/// Reshape -> Transpose -> Reshape.
Value *rearrange(NodeImporter &N, Value *X, std::vector<int64_t> Split,
                 const std::vector<int64_t> &Perm, std::vector<int64_t> Out) {
  Value *V = N.reshape(X, std::move(Split));
  V = build::transpose(N, V, Perm);
  return N.reshape(V, std::move(Out));
}

std::optional<int64_t> blockSize(NodeImporter &N, Value *X) {
  if (!X || !N.requireAttr("blocksize"))
    return std::nullopt;
  int64_t B = N.attrInt("blocksize", 0);
  if (X->Type.rank() != 4) {
    N.fail("the input must have rank 4 (N, C, H, W), not " + X->Type.str());
    return std::nullopt;
  }
  if (B < 1 || B > (int64_t(1) << 20)) {
    N.fail("blocksize must be positive, not " + llvm::Twine(B));
    return std::nullopt;
  }
  return B;
}
} // namespace

void onnximport::importDepthToSpace(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  auto Bs = blockSize(N, X);
  std::string Mode = N.Opset >= 11 ? N.attrString("mode", "DCR") : "DCR";
  if (!Bs || N.failed())
    return;
  if (Mode != "DCR" && Mode != "CRD")
    return N.fail("mode must be DCR or CRD, not '" + Mode + "'");
  int64_t B = *Bs;
  const auto &S = X->Type.Shape;
  int64_t Nb = S[0], C = S[1], H = S[2], W = S[3];
  if (C % (B * B) != 0)
    return N.fail("the channels " + llvm::Twine(C) +
                  " are not divisible by blocksize^2 = " + llvm::Twine(B * B));
  int64_t D = C / (B * B);
  std::vector<int64_t> Out = {Nb, D, H * B, W * B};
  if (Mode == "DCR")
    return N.setOutput(
        0, rearrange(N, X, {Nb, B, B, D, H, W}, {0, 3, 4, 1, 5, 2}, Out));
  N.setOutput(0, rearrange(N, X, {Nb, D, B, B, H, W}, {0, 1, 4, 2, 5, 3}, Out));
}

void onnximport::importSpaceToDepth(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  auto Bs = blockSize(N, X);
  if (!Bs || N.failed())
    return;
  int64_t B = *Bs;
  const auto &S = X->Type.Shape;
  int64_t Nb = S[0], C = S[1], H = S[2], W = S[3];
  if (H % B != 0 || W % B != 0)
    return N.fail("the height " + llvm::Twine(H) + " and width " +
                  llvm::Twine(W) + " are not divisible by blocksize " +
                  llvm::Twine(B));
  N.setOutput(0, rearrange(N, X, {Nb, C, H / B, B, W / B, B},
                           {0, 3, 5, 1, 2, 4}, {Nb, C * B * B, H / B, W / B}));
}

//===----------------------------------------------------------------------===//
// Trilu, CumSum, GatherElements
//===----------------------------------------------------------------------===//

void onnximport::importTrilu(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  bool Upper = N.attrInt("upper", 1) != 0;
  int64_t K = 0;
  if (N.hasInput(1)) {
    Value *KV = N.input(1);
    if (KV && KV->Type.Elem != ElemType::I64)
      return N.fail("k must be int64, not " + KV->Type.str());
    auto D = N.constScalar(1, "k");
    if (!D)
      return;
    K = static_cast<int64_t>(*D);
    // The double holds every k that matters; clamp the rest.
    if (!(std::fabs(*D) < 9e18))
      K = *D < 0 ? -(int64_t(1) << 62) : (int64_t(1) << 62);
  }
  int64_t Rank = X->Type.rank();
  if (Rank < 2)
    return N.fail("the input must have rank 2 or more, not " + X->Type.str());
  if (N.failed())
    return;
  int64_t Rows = X->Type.Shape[Rank - 2], Cols = X->Type.Shape[Rank - 1];
  if (Rows * Cols > (int64_t(1) << 27))
    return N.fail("the matrices are too large for a constant mask");
  // Keep (i, j) when j - i >= k (upper) or j - i <= k (lower).
  Tensor Mask(TensorType(ElemType::Bool, {Rows, Cols}));
  bool All = true;
  for (int64_t I = 0; I < Rows; ++I)
    for (int64_t J = 0; J < Cols; ++J) {
      bool Keep = Upper ? J - I >= K : J - I <= K;
      Mask.Bytes[I * Cols + J] = Keep;
      All &= Keep;
    }
  if (All)
    return N.setOutput(0, X);
  Value *Zero = N.constant(Tensor(TensorType(X->Type.Elem, {})));
  N.setOutput(0, build::where(N, N.constant(std::move(Mask)), X, Zero));
}

void onnximport::importCumSum(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X || !N.requiredInput(1))
    return;
  Value *AxisV = N.input(1);
  if (AxisV->Type.Elem != ElemType::I64 && AxisV->Type.Elem != ElemType::I32)
    return N.fail("axis must be int32 or int64, not " + AxisV->Type.str());
  if (AxisV->Type.rank() > 1 || AxisV->Type.numElements() != 1)
    return N.fail("axis must be a single value, not " + AxisV->Type.str());
  auto Axes = N.constInts(1, "axis");
  if (!Axes)
    return;
  ElemType E = X->Type.Elem;
  if (E == ElemType::Bool)
    return N.fail(N.Proto.op_type() + " is not defined for bool");
  if (X->Type.rank() == 0)
    return N.fail("the input must have rank 1 or more");
  auto Axis = N.normalizeAxis((*Axes)[0], X->Type.rank());
  bool Exclusive = N.attrInt("exclusive", 0) != 0;
  bool Reverse = N.attrInt("reverse", 0) != 0;
  if (!Axis || N.failed())
    return;
  AttrMap A;
  A["axis"] = *Axis;
  A["exclusive"] = int64_t(Exclusive);
  A["reverse"] = int64_t(Reverse);
  OpKind K = N.Proto.op_type() == "CumProd" ? OpKind::CumProd : OpKind::CumSum;
  N.setOutput(0, N.emit(K, {X}, std::move(A), X->Type));
}

void onnximport::importGatherElements(NodeImporter &N) {
  Value *Data = N.requiredInput(0), *Indices = N.requiredInput(1);
  if (!Data || !Indices)
    return;
  ElemType IE = Indices->Type.Elem;
  if (IE != ElemType::I64 && IE != ElemType::I32)
    return N.fail("indices must be int32 or int64, not " + Indices->Type.str());
  int64_t Rank = Data->Type.rank();
  if (Rank < 1 || Indices->Type.rank() != Data->Type.rank())
    return N.fail("data " + Data->Type.str() + " and indices " +
                  Indices->Type.str() + " must have the same rank, 1 or more");
  auto Axis = N.normalizeAxis(N.attrInt("axis", 0), Rank);
  if (!Axis || N.failed())
    return;
  for (int64_t D = 0; D < Rank; ++D)
    if (D != *Axis && Indices->Type.Shape[D] > Data->Type.Shape[D])
      return N.fail("indices " + Indices->Type.str() +
                    " are larger than data " + Data->Type.str() + " on axis " +
                    llvm::Twine(D));
  int64_t Dim = Data->Type.Shape[*Axis];
  if (const Tensor *T = Indices->constantData())
    for (int64_t I = 0, E = T->Type.numElements(); I < E; ++I)
      if (T->getInt(I) < -Dim || T->getInt(I) >= Dim)
        return N.fail("index " + llvm::Twine(T->getInt(I)) +
                      " is out of range for an axis of size " +
                      llvm::Twine(Dim));
  AttrMap A;
  A["axis"] = *Axis;
  N.setOutput(0, N.emit(OpKind::GatherElements, {Data, Indices}, std::move(A),
                        TensorType(Data->Type.Elem, Indices->Type.Shape)));
}
