//===- EvaluateData.cpp - Evaluating data movement and reductions ---------===//
//
// The injective operations copy whole elements as bytes, so they work for
// every element type but the packed Bit type. Each checks its operands
// against the node's result type, which it trusts only after that check.
// Reductions accumulate in the element type's domain (double for floats).
//
//===----------------------------------------------------------------------===//

#include "compiler/EvaluateImpl.h"
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

using namespace tidal;
using namespace tidal::eval;

namespace {

size_t elemBytes(const Tensor &T) { return elemBits(T.Type.Elem) / 8; }

void copyElem(Tensor &To, int64_t I, const Tensor &From, int64_t J) {
  size_t B = elemBytes(To);
  std::memcpy(&To.Bytes[I * B], &From.Bytes[J * B], B);
}

llvm::Expected<Tensor> evalReshape(const Node &N, const Tensor &X,
                                   const TensorType &RT) {
  if (RT.Elem != X.Type.Elem || RT.numElements() != X.Type.numElements())
    return cannot(N, "cannot reshape " + X.Type.str() + " to " + RT.str());
  return Tensor(RT, X.Bytes);
}

llvm::Expected<Tensor> evalExpand(const Node &N, const Tensor &X,
                                  const TensorType &RT) {
  if (RT.Elem != X.Type.Elem || !broadcastsTo(X.Type.Shape, RT.Shape))
    return cannot(N, X.Type.str() + " does not broadcast to " + RT.str());
  Tensor R(RT);
  forEachIndex(RT.Shape, {broadcastStrides(X.Type.Shape, RT.Shape)},
               [&](int64_t I, const std::vector<int64_t> &Off) {
                 copyElem(R, I, X, Off[0]);
               });
  return std::move(R);
}

llvm::Expected<Tensor> evalTranspose(const Node &N, const Tensor &X,
                                     const TensorType &RT) {
  const std::vector<int64_t> *Perm = intsAttr(N, "perm");
  size_t Rank = X.Type.rank();
  if (!Perm || Perm->size() != Rank || RT.rank() != Rank ||
      RT.Elem != X.Type.Elem)
    return cannot(N, "bad perm or result type");
  std::vector<int64_t> InStrides = rowMajorStrides(X.Type.Shape), Strides;
  std::vector<bool> Seen(Rank, false);
  for (size_t D = 0; D < Rank; ++D) {
    int64_t P = (*Perm)[D];
    if (P < 0 || P >= static_cast<int64_t>(Rank) || Seen[P] ||
        RT.Shape[D] != X.Type.Shape[P])
      return cannot(N, "bad perm or result type");
    Seen[P] = true;
    Strides.push_back(InStrides[P]);
  }
  Tensor R(RT);
  forEachIndex(RT.Shape, {Strides},
               [&](int64_t I, const std::vector<int64_t> &Off) {
                 copyElem(R, I, X, Off[0]);
               });
  return std::move(R);
}

llvm::Expected<Tensor> evalConcat(const Node &N,
                                  const std::vector<const Tensor *> &Ops,
                                  const TensorType &RT) {
  std::optional<int64_t> Axis = intAttr(N, "axis");
  size_t Rank = RT.rank();
  if (!Axis || *Axis < 0 || *Axis >= static_cast<int64_t>(Rank))
    return cannot(N, "bad axis");
  int64_t Total = 0;
  for (const Tensor *T : Ops) {
    if (T->Type.rank() != Rank || T->Type.Elem != RT.Elem)
      return cannot(N, "operands of different ranks or types");
    for (size_t D = 0; D < Rank; ++D)
      if (static_cast<int64_t>(D) != *Axis && T->Type.Shape[D] != RT.Shape[D])
        return cannot(N, "operand shapes do not match the result");
    Total += T->Type.Shape[*Axis];
  }
  if (Total != RT.Shape[*Axis])
    return cannot(N, "operand shapes do not match the result");
  int64_t Outer = 1, Inner = 1;
  for (int64_t D = 0; D < *Axis; ++D)
    Outer *= RT.Shape[D];
  for (size_t D = *Axis + 1; D < Rank; ++D)
    Inner *= RT.Shape[D];
  Tensor R(RT);
  size_t B = elemBits(RT.Elem) / 8;
  size_t Pos = 0;
  for (int64_t O = 0; O < Outer; ++O)
    for (const Tensor *T : Ops) {
      size_t Chunk = T->Type.Shape[*Axis] * Inner * B;
      if (Chunk)
        std::memcpy(&R.Bytes[Pos], &T->Bytes[O * Chunk], Chunk);
      Pos += Chunk;
    }
  return std::move(R);
}

// Elements of a slice of a dimension from Start by Step to End (exclusive).
int64_t sliceLength(int64_t Start, int64_t End, int64_t Step) {
  if (Step > 0)
    return End > Start ? (End - Start + Step - 1) / Step : 0;
  return Start > End ? (Start - End - Step - 1) / -Step : 0;
}

llvm::Expected<Tensor> evalSlice(const Node &N, const Tensor &X,
                                 const TensorType &RT) {
  const std::vector<int64_t> *Starts = intsAttr(N, "starts");
  const std::vector<int64_t> *Ends = intsAttr(N, "ends");
  const std::vector<int64_t> *Steps = intsAttr(N, "steps");
  size_t Rank = X.Type.rank();
  if (!Starts || !Ends || !Steps || Starts->size() != Rank ||
      Ends->size() != Rank || Steps->size() != Rank || RT.rank() != Rank ||
      RT.Elem != X.Type.Elem)
    return cannot(N, "bad starts/ends/steps or result type");
  std::vector<int64_t> InStrides = rowMajorStrides(X.Type.Shape), Strides;
  int64_t Base = 0;
  for (size_t D = 0; D < Rank; ++D) {
    int64_t S = (*Starts)[D], E = (*Ends)[D], St = (*Steps)[D];
    int64_t Len = St == 0 ? -1 : sliceLength(S, E, St);
    if (Len != RT.Shape[D] ||
        (Len > 0 && (S < 0 || S >= X.Type.Shape[D] || S + (Len - 1) * St < 0 ||
                     S + (Len - 1) * St >= X.Type.Shape[D])))
      return cannot(N, "slice does not match the result type");
    Base += Len > 0 ? S * InStrides[D] : 0;
    Strides.push_back(St * InStrides[D]);
  }
  Tensor R(RT);
  forEachIndex(RT.Shape, {Strides},
               [&](int64_t I, const std::vector<int64_t> &Off) {
                 copyElem(R, I, X, Base + Off[0]);
               });
  return std::move(R);
}

llvm::Expected<Tensor> evalGather(const Node &N, const Tensor &X,
                                  const Tensor &Idx, const TensorType &RT) {
  std::optional<int64_t> Axis = intAttr(N, "axis");
  int64_t Rank = X.Type.rank();
  if (!Axis || *Axis < 0 || *Axis >= Rank || RT.Elem != X.Type.Elem ||
      (Idx.Type.Elem != ElemType::I64 && Idx.Type.Elem != ElemType::I32))
    return cannot(N, "bad axis, index type or result type");
  std::vector<int64_t> Want(X.Type.Shape.begin(), X.Type.Shape.begin() + *Axis);
  Want.insert(Want.end(), Idx.Type.Shape.begin(), Idx.Type.Shape.end());
  Want.insert(Want.end(), X.Type.Shape.begin() + *Axis + 1, X.Type.Shape.end());
  if (Want != RT.Shape)
    return cannot(N, "result type does not match");
  int64_t Outer = 1, Inner = 1, Dim = X.Type.Shape[*Axis];
  for (int64_t D = 0; D < *Axis; ++D)
    Outer *= X.Type.Shape[D];
  for (int64_t D = *Axis + 1; D < Rank; ++D)
    Inner *= X.Type.Shape[D];
  int64_t Count = Idx.Type.numElements();
  Tensor R(RT);
  size_t B = elemBits(RT.Elem) / 8;
  for (int64_t K = 0; K < Count; ++K) {
    int64_t J = Idx.getInt(K);
    if (J < 0)
      J += Dim;
    if (J < 0 || J >= Dim)
      return cannot(N, "index " + llvm::Twine(Idx.getInt(K)) + " out of range");
    for (int64_t O = 0; O < Outer; ++O)
      if (Inner)
        std::memcpy(&R.Bytes[((O * Count + K) * Inner) * B],
                    &X.Bytes[((O * Dim + J) * Inner) * B], Inner * B);
  }
  return std::move(R);
}

// The input index read for output index I of a padded dimension, or -1 for
// the constant value.
int64_t padSource(int64_t I, int64_t Dim, llvm::StringRef Mode) {
  if (I >= 0 && I < Dim)
    return I;
  if (Mode == "constant" || Dim == 0)
    return -1;
  if (Mode == "edge")
    return I < 0 ? 0 : Dim - 1;
  if (Mode == "wrap")
    return ((I % Dim) + Dim) % Dim;
  if (Dim == 1) // reflect
    return 0;
  int64_t Period = 2 * (Dim - 1);
  I = ((I % Period) + Period) % Period;
  return I < Dim ? I : Period - I;
}

llvm::Expected<Tensor> evalPad(const Node &N, const Tensor &X,
                               const TensorType &RT) {
  const std::vector<int64_t> *Pads = intsAttr(N, "pads");
  auto ModeIt = N.Attrs.find("mode");
  std::string Mode = "constant";
  if (ModeIt != N.Attrs.end() &&
      std::holds_alternative<std::string>(ModeIt->second))
    Mode = std::get<std::string>(ModeIt->second);
  size_t Rank = X.Type.rank();
  if (!Pads || Pads->size() != 2 * Rank || RT.rank() != Rank ||
      RT.Elem != X.Type.Elem)
    return cannot(N, "bad pads or result type");
  if (Mode != "constant" && Mode != "edge" && Mode != "reflect" &&
      Mode != "wrap")
    return cannot(N, "unknown mode '" + Mode + "'");
  for (size_t D = 0; D < Rank; ++D)
    if (X.Type.Shape[D] + (*Pads)[D] + (*Pads)[D + Rank] != RT.Shape[D])
      return cannot(N, "pads do not match the result type");
  Tensor Fill(TensorType(RT.Elem, {}));
  Fill.setDouble(0, floatAttr(N, "value").value_or(0.0f));
  Tensor R(RT);
  std::vector<int64_t> InStrides = rowMajorStrides(X.Type.Shape);
  std::vector<int64_t> Idx(Rank, 0);
  for (int64_t I = 0, E = RT.numElements(); I < E; ++I) {
    int64_t Off = 0;
    for (size_t D = 0; D < Rank && Off >= 0; ++D) {
      int64_t S = padSource(Idx[D] - (*Pads)[D], X.Type.Shape[D], Mode);
      Off = S < 0 ? -1 : Off + S * InStrides[D];
    }
    if (Off < 0)
      copyElem(R, I, Fill, 0);
    else
      copyElem(R, I, X, Off);
    for (size_t D = Rank; D-- > 0;) {
      if (++Idx[D] < RT.Shape[D])
        break;
      Idx[D] = 0;
    }
  }
  return std::move(R);
}

} // namespace

llvm::Expected<Tensor>
eval::evalInjective(const Node &N, const std::vector<const Tensor *> &Ops,
                    const TensorType &RT) {
  for (const Tensor *T : Ops)
    if (T->Type.Elem == ElemType::Bit && N.Kind != OpKind::Reshape)
      return cannot(N, "bit tensors are not supported");
  switch (N.Kind) {
  case OpKind::Reshape: return evalReshape(N, *Ops[0], RT);
  case OpKind::Expand: return evalExpand(N, *Ops[0], RT);
  case OpKind::Transpose: return evalTranspose(N, *Ops[0], RT);
  case OpKind::Concat: return evalConcat(N, Ops, RT);
  case OpKind::Slice: return evalSlice(N, *Ops[0], RT);
  case OpKind::Gather: return evalGather(N, *Ops[0], *Ops[1], RT);
  case OpKind::Pad: return evalPad(N, *Ops[0], RT);
  default: return cannot(N, "not supported by the evaluator");
  }
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

namespace {

// Maps each input element to its output element: strides of the output
// indexed by input dimension, 0 along reduced axes.
std::vector<int64_t> reductionStrides(const std::vector<int64_t> &InShape,
                                      const std::vector<bool> &Reduced) {
  std::vector<int64_t> Kept;
  for (size_t D = 0; D < InShape.size(); ++D)
    Kept.push_back(Reduced[D] ? 1 : InShape[D]);
  std::vector<int64_t> S = rowMajorStrides(Kept);
  for (size_t D = 0; D < InShape.size(); ++D)
    if (Reduced[D])
      S[D] = 0;
  return S;
}

double initFloat(OpKind K) {
  switch (K) {
  case OpKind::ReduceProd: return 1;
  case OpKind::ReduceMax: return -INFINITY;
  case OpKind::ReduceMin: return INFINITY;
  default: return 0;
  }
}

// One accumulation step; Shift is the maximum that LogSumExp subtracts.
double stepFloat(OpKind K, double Acc, double X, double Shift) {
  switch (K) {
  case OpKind::ReduceProd: return Acc * X;
  case OpKind::ReduceMax:
    return std::isnan(Acc) ? Acc : std::isnan(X) ? X : std::max(Acc, X);
  case OpKind::ReduceMin:
    return std::isnan(Acc) ? Acc : std::isnan(X) ? X : std::min(Acc, X);
  case OpKind::ReduceSumSquare:
  case OpKind::ReduceL2: return Acc + X * X;
  case OpKind::ReduceL1: return Acc + std::fabs(X);
  case OpKind::ReduceLogSumExp: return Acc + std::exp(X - Shift);
  default: return Acc + X; // ReduceSum, ReduceMean
  }
}

double finishFloat(OpKind K, double Acc, double Max, int64_t Count) {
  switch (K) {
  case OpKind::ReduceMean: return Acc / Count;
  case OpKind::ReduceL2: return std::sqrt(Acc);
  case OpKind::ReduceLogSumExp:
    return std::isinf(Max) ? Max : Max + std::log(Acc);
  default: return Acc;
  }
}

llvm::Expected<Tensor> reduceFloat(const Node &N, const Tensor &X,
                                   const std::vector<int64_t> &Strides,
                                   const TensorType &RT) {
  int64_t Out = RT.numElements(), In = X.Type.numElements();
  int64_t Count = Out ? In / Out : 0;
  // LogSumExp subtracts each output's maximum first, for range.
  std::vector<double> Max(Out, -INFINITY);
  if (N.Kind == OpKind::ReduceLogSumExp)
    forEachIndex(X.Type.Shape, {Strides},
                 [&](int64_t I, const std::vector<int64_t> &Off) {
                   Max[Off[0]] = std::max(Max[Off[0]], X.getDouble(I));
                 });
  std::vector<double> Acc(Out, initFloat(N.Kind));
  forEachIndex(
      X.Type.Shape, {Strides}, [&](int64_t I, const std::vector<int64_t> &Off) {
        double M = std::isfinite(Max[Off[0]]) ? Max[Off[0]] : 0;
        Acc[Off[0]] = stepFloat(N.Kind, Acc[Off[0]], X.getDouble(I), M);
      });
  Tensor R(RT);
  for (int64_t I = 0; I < Out; ++I)
    R.setDouble(I, finishFloat(N.Kind, Acc[I], Max[I], Count));
  return std::move(R);
}

uint64_t stepInt(OpKind K, uint64_t Acc, uint64_t X, bool Signed) {
  int64_t SA = static_cast<int64_t>(Acc), SX = static_cast<int64_t>(X);
  switch (K) {
  case OpKind::ReduceProd: return Acc * X;
  case OpKind::ReduceMax:
    return Signed ? static_cast<uint64_t>(std::max(SA, SX)) : std::max(Acc, X);
  case OpKind::ReduceMin:
    return Signed ? static_cast<uint64_t>(std::min(SA, SX)) : std::min(Acc, X);
  case OpKind::ReduceSumSquare: return Acc + X * X;
  case OpKind::ReduceL1: return Acc + (Signed && SX < 0 ? 0 - X : X);
  default: return Acc + X; // ReduceSum, ReduceMean
  }
}

uint64_t initInt(OpKind K, ElemType T) {
  unsigned Shift = 64 - elemBits(T);
  bool Signed = isSignedInt(T);
  switch (K) {
  case OpKind::ReduceProd: return 1;
  case OpKind::ReduceMax:
    return Signed ? static_cast<uint64_t>(std::numeric_limits<int64_t>::min() >>
                                          Shift)
                  : 0;
  case OpKind::ReduceMin:
    if (T == ElemType::Bool)
      return 1;
    return Signed ? static_cast<uint64_t>(std::numeric_limits<int64_t>::max() >>
                                          Shift)
                  : ~uint64_t(0) >> Shift;
  default: return 0;
  }
}

llvm::Expected<Tensor> reduceInt(const Node &N, const Tensor &X,
                                 const std::vector<int64_t> &Strides,
                                 const TensorType &RT) {
  OpKind K = N.Kind;
  bool IsBool = X.Type.Elem == ElemType::Bool;
  if (K == OpKind::ReduceL2 || K == OpKind::ReduceLogSumExp ||
      K == OpKind::Softmax || K == OpKind::LogSoftmax ||
      (IsBool && K != OpKind::ReduceMax && K != OpKind::ReduceMin))
    return cannot(N, "not defined on " + X.Type.str());
  bool Signed = isSignedInt(X.Type.Elem);
  int64_t Out = RT.numElements(), In = X.Type.numElements();
  int64_t Count = Out ? In / Out : 0;
  if (K == OpKind::ReduceMean && Count == 0)
    return cannot(N, "mean of an empty set of integers");
  std::vector<uint64_t> Acc(Out, initInt(K, X.Type.Elem));
  forEachIndex(
      X.Type.Shape, {Strides}, [&](int64_t I, const std::vector<int64_t> &Off) {
        Acc[Off[0]] = stepInt(K, Acc[Off[0]], getUnsigned(X, I), Signed);
      });
  Tensor R(RT);
  for (int64_t I = 0; I < Out; ++I) {
    uint64_t V = Acc[I];
    if (K == OpKind::ReduceMean)
      V = Signed ? static_cast<uint64_t>(static_cast<int64_t>(V) / Count)
                 : V / static_cast<uint64_t>(Count);
    R.setInt(I, static_cast<int64_t>(V));
  }
  return std::move(R);
}

llvm::Expected<Tensor> evalSoftmax(const Node &N, const Tensor &X,
                                   const TensorType &RT) {
  std::optional<int64_t> Axis = intAttr(N, "axis");
  int64_t Rank = X.Type.rank();
  if (!Axis || *Axis < 0 || *Axis >= Rank || RT != X.Type ||
      !isFloat(X.Type.Elem))
    return cannot(N, "bad axis or types");
  int64_t Outer = 1, Dim = X.Type.Shape[*Axis], Inner = 1;
  for (int64_t D = 0; D < *Axis; ++D)
    Outer *= X.Type.Shape[D];
  for (int64_t D = *Axis + 1; D < Rank; ++D)
    Inner *= X.Type.Shape[D];
  Tensor R(RT);
  bool Log = N.Kind == OpKind::LogSoftmax;
  for (int64_t O = 0; O < Outer; ++O)
    for (int64_t In = 0; In < Inner; ++In) {
      int64_t Base = O * Dim * Inner + In;
      double Max = -INFINITY, Sum = 0;
      for (int64_t J = 0; J < Dim; ++J)
        Max = std::max(Max, X.getDouble(Base + J * Inner));
      for (int64_t J = 0; J < Dim; ++J)
        Sum += std::exp(X.getDouble(Base + J * Inner) - Max);
      for (int64_t J = 0; J < Dim; ++J) {
        double V = X.getDouble(Base + J * Inner) - Max;
        R.setDouble(Base + J * Inner,
                    Log ? V - std::log(Sum) : std::exp(V) / Sum);
      }
    }
  return std::move(R);
}

} // namespace

bool eval::isEvaluableReduction(OpKind K) {
  switch (K) {
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin:
  case OpKind::ReduceProd:
  case OpKind::ReduceSumSquare:
  case OpKind::ReduceL1:
  case OpKind::ReduceL2:
  case OpKind::ReduceLogSumExp:
  case OpKind::Softmax:
  case OpKind::LogSoftmax: return true;
  default: return false;
  }
}

llvm::Expected<Tensor> eval::evalReduction(const Node &N, const Tensor &X,
                                           const TensorType &RT) {
  if (X.Type.Elem == ElemType::Bit || RT.Elem != X.Type.Elem)
    return cannot(N, "unexpected element types");
  if (N.Kind == OpKind::Softmax || N.Kind == OpKind::LogSoftmax)
    return evalSoftmax(N, X, RT);
  const std::vector<int64_t> *Axes = intsAttr(N, "axes");
  std::optional<int64_t> Keep = intAttr(N, "keepdims");
  size_t Rank = X.Type.rank();
  if (!Axes || !Keep)
    return cannot(N, "missing axes or keepdims");
  std::vector<bool> Reduced(Rank, false);
  for (int64_t A : *Axes) {
    if (A < 0 || A >= static_cast<int64_t>(Rank) || Reduced[A])
      return cannot(N, "bad axes");
    Reduced[A] = true;
  }
  std::vector<int64_t> Want;
  for (size_t D = 0; D < Rank; ++D)
    if (!Reduced[D])
      Want.push_back(X.Type.Shape[D]);
    else if (*Keep)
      Want.push_back(1);
  if (Want != RT.Shape)
    return cannot(N, "result type does not match");
  std::vector<int64_t> Strides = reductionStrides(X.Type.Shape, Reduced);
  if (isFloat(X.Type.Elem))
    return reduceFloat(N, X, Strides, RT);
  return reduceInt(N, X, Strides, RT);
}
