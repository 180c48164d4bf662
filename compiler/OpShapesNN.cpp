//===- OpShapesNN.cpp - Type rules of reductions and contractions ---------===//
//
// The second half of inferResultTypes() (see OpShapes.cpp): reductions,
// softmax, pooling, LRN, BatchNormalization, Conv, Gemm and MatMul. Sliding
// windows (pools and Conv) share one rule: along each spatial axis the
// output size is floor((in + pad_begin + pad_end - ((k-1)*d+1)) / s) + 1,
// which must be at least 1. The frontend has already resolved auto_pad and
// ceil_mode into explicit pads.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/OpShapesImpl.h"

using namespace tidal;
using namespace tidal::shapes;

namespace {

/// Quantized operands are accepted only where the result keeps the input's
/// scale (max and min).
bool keepsQuantization(OpKind K) {
  return K == OpKind::ReduceMax || K == OpKind::ReduceMin ||
         K == OpKind::MaxPool || K == OpKind::GlobalMaxPool;
}

llvm::Error checkFloat(const TensorType &T, llvm::StringRef What) {
  if (isFloat(T.Elem))
    return llvm::Error::success();
  return makeError(What + " must have a floating-point type, not " + T.str());
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// The axes list of a normalized op: each in [0, rank), increasing.
llvm::Error checkAxes(const std::vector<int64_t> &Axes, const TensorType &X) {
  int64_t Rank = static_cast<int64_t>(X.rank());
  for (size_t I = 0; I < Axes.size(); ++I)
    if (Axes[I] < 0 || Axes[I] >= Rank || (I && Axes[I] <= Axes[I - 1]))
      return makeError("axes " + shapeStr(Axes) +
                       " must be increasing and in [0, " + llvm::Twine(Rank) +
                       ") for " + X.str());
  return llvm::Error::success();
}

Result inferReduce(OpKind K, const TensorType &X, AttrReader &A) {
  std::vector<int64_t> Axes = A.getInts("axes");
  bool KeepDims = A.getBool("keepdims");
  if (llvm::Error E = A.finish())
    return std::move(E);
  bool MaxMin = K == OpKind::ReduceMax || K == OpKind::ReduceMin;
  if (X.Elem == ElemType::Bit || (X.Elem == ElemType::Bool && !MaxMin))
    return makeError("input must have a numeric type, not " + X.str());
  int64_t Rank = static_cast<int64_t>(X.rank());
  if (llvm::Error E = checkAxes(Axes, X))
    return std::move(E);
  TensorType R(X.Elem, {});
  if (MaxMin && X.Quant && X.Quant->Axis < 0)
    R.Quant = X.Quant;
  for (int64_t D = 0; D < Rank; ++D) {
    bool Reduced = std::find(Axes.begin(), Axes.end(), D) != Axes.end();
    if (!Reduced)
      R.Shape.push_back(X.Shape[D]);
    else if (KeepDims)
      R.Shape.push_back(1);
  }
  return Types{R};
}

Result inferSoftmax(const TensorType &X, AttrReader &A) {
  int64_t Axis = A.getInt("axis");
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (llvm::Error E = checkFloat(X, "input"))
    return std::move(E);
  if (llvm::Error E = checkAxis(Axis, X))
    return std::move(E);
  return Types{X};
}

Result inferStandardize(const TensorType &X, AttrReader &A) {
  std::vector<int64_t> Axes = A.getInts("axes");
  A.getFloat("epsilon");
  A.getBool("divide");
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (llvm::Error E = checkFloat(X, "input"))
    return std::move(E);
  if (llvm::Error E = checkAxes(Axes, X))
    return std::move(E);
  return Types{X};
}

//===----------------------------------------------------------------------===//
// Sliding windows
//===----------------------------------------------------------------------===//

/// The window parameters of a pool or Conv with Spatial spatial axes.
struct Window {
  std::vector<int64_t> Kernel, Strides, Pads, Dilations;
};

llvm::Error checkWindow(const Window &W, size_t Spatial) {
  auto CheckList = [&](const std::vector<int64_t> &L, const char *Name,
                       size_t Want, int64_t Min) -> llvm::Error {
    if (L.size() != Want)
      return makeError(llvm::Twine(Name) + " " + shapeStr(L) + " needs " +
                       llvm::Twine(Want) + " entries");
    for (int64_t V : L)
      if (V < Min)
        return makeError(llvm::Twine(Name) + " " + shapeStr(L) +
                         " must be at least " + llvm::Twine(Min));
    return llvm::Error::success();
  };
  if (llvm::Error E = CheckList(W.Kernel, "kernel_shape", Spatial, 1))
    return E;
  if (llvm::Error E = CheckList(W.Strides, "strides", Spatial, 1))
    return E;
  if (llvm::Error E = CheckList(W.Dilations, "dilations", Spatial, 1))
    return E;
  return CheckList(W.Pads, "pads", 2 * Spatial, 0);
}

/// Output sizes of the spatial axes (the ones after N and C) of X.
llvm::Expected<std::vector<int64_t>> windowOutput(const TensorType &X,
                                                  const Window &W) {
  size_t Spatial = X.rank() - 2;
  if (llvm::Error E = checkWindow(W, Spatial))
    return std::move(E);
  std::vector<int64_t> Out;
  for (size_t I = 0; I < Spatial; ++I) {
    int64_t In = X.Shape[I + 2] + W.Pads[I] + W.Pads[I + Spatial];
    int64_t Extent = (W.Kernel[I] - 1) * W.Dilations[I] + 1;
    if (Extent > In)
      return makeError("window of extent " + llvm::Twine(Extent) +
                       " does not fit spatial axis " + llvm::Twine(I) +
                       " of " + X.str() + " (padded size " + llvm::Twine(In) +
                       ")");
    Out.push_back((In - Extent) / W.Strides[I] + 1);
  }
  return Out;
}

Window readWindow(AttrReader &A, bool WithKernel) {
  Window W;
  if (WithKernel)
    W.Kernel = A.getInts("kernel_shape");
  W.Strides = A.getInts("strides");
  W.Pads = A.getInts("pads");
  W.Dilations = A.getInts("dilations");
  return W;
}

Result inferPool(OpKind K, const TensorType &X, AttrReader &A) {
  Window W = readWindow(A, true);
  if (K == OpKind::AveragePool)
    A.getBool("count_include_pad");
  if (llvm::Error E = A.finish())
    return std::move(E);
  bool IntOk = K == OpKind::MaxPool &&
               (X.Elem == ElemType::I8 || X.Elem == ElemType::U8);
  if (!IntOk)
    if (llvm::Error E = checkFloat(X, "input"))
      return std::move(E);
  if (X.rank() < 3)
    return makeError("input " + X.str() + " needs rank 3 or more (N, C, ...)");
  auto Spatial = windowOutput(X, W);
  if (!Spatial)
    return Spatial.takeError();
  TensorType R = X;
  R.Shape.resize(2);
  R.Shape.insert(R.Shape.end(), Spatial->begin(), Spatial->end());
  return Types{R};
}

Result inferGlobalPool(const TensorType &X, AttrReader &A) {
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (llvm::Error E = checkFloat(X, "input"))
    return std::move(E);
  if (X.rank() < 3)
    return makeError("input " + X.str() + " needs rank 3 or more (N, C, ...)");
  TensorType R = X;
  std::fill(R.Shape.begin() + 2, R.Shape.end(), 1);
  return Types{R};
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

Result inferLRN(const TensorType &X, AttrReader &A) {
  A.getFloat("alpha");
  A.getFloat("beta");
  A.getFloat("bias");
  int64_t Size = A.getInt("size");
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (llvm::Error E = checkFloat(X, "input"))
    return std::move(E);
  if (X.rank() < 2)
    return makeError("input " + X.str() + " needs rank 2 or more (N, C, ...)");
  if (Size < 1)
    return makeError("size must be at least 1, not " + llvm::Twine(Size));
  return Types{X};
}

Result inferBatchNorm(const Types &Ops, AttrReader &A) {
  A.getFloat("epsilon");
  if (llvm::Error E = A.finish())
    return std::move(E);
  const TensorType &X = Ops[0];
  if (llvm::Error E = checkFloat(X, "input"))
    return std::move(E);
  if (X.rank() < 2)
    return makeError("input " + X.str() + " needs rank 2 or more (N, C, ...)");
  static const char *Names[] = {"X", "scale", "B", "mean", "var"};
  for (size_t I = 1; I < 5; ++I)
    if (Ops[I] != TensorType(X.Elem, {X.Shape[1]}))
      return makeError(llvm::Twine(Names[I]) + " is " + Ops[I].str() +
                       " but must be " +
                       TensorType(X.Elem, {X.Shape[1]}).str());
  return Types{X};
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

llvm::Error checkSameFloat(const Types &Ops) {
  for (size_t I = 0; I < Ops.size(); ++I) {
    if (llvm::Error E = checkFloat(Ops[I], "operand " + std::to_string(I)))
      return E;
    if (Ops[I].Elem != Ops[0].Elem)
      return makeError("operands have different element types: " +
                       Ops[0].str() + " and " + Ops[I].str());
  }
  return llvm::Error::success();
}

Result inferConv(const Types &Ops, AttrReader &A) {
  Window W = readWindow(A, false);
  int64_t Group = A.getInt("group");
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (llvm::Error E = checkSameFloat(Ops))
    return std::move(E);
  const TensorType &X = Ops[0], &Wt = Ops[1];
  if (X.rank() < 3 || Wt.rank() != X.rank())
    return makeError("input " + X.str() + " and weight " + Wt.str() +
                     " need the same rank, 3 or more");
  if (Group < 1)
    return makeError("group must be at least 1, not " + llvm::Twine(Group));
  int64_t C = X.Shape[1], M = Wt.Shape[0];
  if (C != Wt.Shape[1] * Group || M % Group != 0)
    return makeError("input " + X.str() + " and weight " + Wt.str() +
                     " do not match for group " + llvm::Twine(Group) +
                     " (need C = W[1] * group and W[0] divisible by group)");
  if (Ops.size() == 3 && Ops[2].Shape != std::vector<int64_t>{M})
    return makeError("bias " + Ops[2].str() + " must have shape [" +
                     llvm::Twine(M) + "]");
  W.Kernel.assign(Wt.Shape.begin() + 2, Wt.Shape.end());
  auto Spatial = windowOutput(X, W);
  if (!Spatial)
    return Spatial.takeError();
  TensorType R(X.Elem, {X.Shape[0], M});
  R.Shape.insert(R.Shape.end(), Spatial->begin(), Spatial->end());
  return Types{R};
}

Result inferGemm(const Types &Ops, AttrReader &A) {
  A.getFloat("alpha");
  A.getFloat("beta");
  bool TransA = A.getBool("transA");
  bool TransB = A.getBool("transB");
  if (llvm::Error E = A.finish())
    return std::move(E);
  for (size_t I = 0; I < Ops.size(); ++I)
    if (!isNumeric(Ops[I].Elem) || Ops[I].Elem != Ops[0].Elem)
      return makeError("operands must share one numeric type, but operand " +
                       llvm::Twine(I) + " is " + Ops[I].str());
  const TensorType &TA = Ops[0], &TB = Ops[1];
  if (TA.rank() != 2 || TB.rank() != 2)
    return makeError("A " + TA.str() + " and B " + TB.str() +
                     " must both have rank 2");
  int64_t M = TA.Shape[TransA], K = TA.Shape[!TransA];
  int64_t KB = TB.Shape[TransB], N = TB.Shape[!TransB];
  if (K != KB)
    return makeError("inner dimensions differ: A " + TA.str() +
                     (TransA ? " (transposed)" : "") + ", B " + TB.str() +
                     (TransB ? " (transposed)" : ""));
  std::vector<int64_t> Out{M, N};
  if (Ops.size() == 3) {
    auto Shape = broadcastShapes(Ops[2].Shape, Out);
    if (!Shape || *Shape != Out) {
      if (!Shape)
        llvm::consumeError(Shape.takeError());
      return makeError("C " + Ops[2].str() + " does not broadcast to " +
                       shapeStr(Out));
    }
  }
  return Types{TensorType(TA.Elem, Out)};
}

Result inferMatMul(const Types &Ops, AttrReader &A) {
  if (llvm::Error E = A.finish())
    return std::move(E);
  const TensorType &TA = Ops[0], &TB = Ops[1];
  if (!isNumeric(TA.Elem) || TA.Elem != TB.Elem)
    return makeError("operands must share one numeric type: " + TA.str() +
                     " and " + TB.str());
  if (TA.rank() == 0 || TB.rank() == 0)
    return makeError("operands must have rank 1 or more: " + TA.str() +
                     " and " + TB.str());
  // numpy: a 1-D A is a row [1, K], a 1-D B a column [K, 1]; the added
  // dimension is dropped from the result.
  std::vector<int64_t> SA = TA.Shape, SB = TB.Shape;
  if (SA.size() == 1)
    SA.insert(SA.begin(), 1);
  if (SB.size() == 1)
    SB.push_back(1);
  int64_t K = SA.back(), KB = SB[SB.size() - 2];
  if (K != KB)
    return makeError("inner dimensions differ: " + TA.str() + " and " +
                     TB.str());
  auto Batch = broadcastShapes({SA.begin(), SA.end() - 2},
                               {SB.begin(), SB.end() - 2});
  if (!Batch)
    return Batch.takeError();
  std::vector<int64_t> Out = *Batch;
  if (TA.rank() >= 2)
    Out.push_back(SA[SA.size() - 2]);
  if (TB.rank() >= 2)
    Out.push_back(SB.back());
  return Types{TensorType(TA.Elem, Out)};
}

} // namespace

Result shapes::inferReduction(OpKind K, const Types &Ops, AttrReader &A) {
  for (const TensorType &T : Ops)
    if (T.Quant && !keepsQuantization(K))
      return makeError("quantized operand " + T.str() + " is not supported");
  switch (K) {
  case OpKind::Softmax:
  case OpKind::LogSoftmax: return inferSoftmax(Ops[0], A);
  case OpKind::Standardize: return inferStandardize(Ops[0], A);
  case OpKind::MaxPool:
  case OpKind::AveragePool: return inferPool(K, Ops[0], A);
  case OpKind::GlobalAveragePool:
  case OpKind::GlobalMaxPool: return inferGlobalPool(Ops[0], A);
  case OpKind::LRN: return inferLRN(Ops[0], A);
  case OpKind::BatchNormalization: return inferBatchNorm(Ops, A);
  case OpKind::ArgMax:
  case OpKind::ArgMin: return inferArgReduce(Ops[0], A);
  case OpKind::CumSum:
  case OpKind::CumProd: return inferCumSum(Ops[0], A);
  default: return inferReduce(K, Ops[0], A);
  }
}

Result shapes::inferContraction(OpKind K, const Types &Ops, AttrReader &A) {
  for (const TensorType &T : Ops)
    if (T.Quant)
      return makeError("quantized operand " + T.str() + " is not supported");
  switch (K) {
  case OpKind::Conv: return inferConv(Ops, A);
  case OpKind::Gemm: return inferGemm(Ops, A);
  case OpKind::MatMul: return inferMatMul(Ops, A);
  case OpKind::ConvTranspose: return inferConvTranspose(Ops, A);
  default: llvm_unreachable("not a contraction");
  }
}
