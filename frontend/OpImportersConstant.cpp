//===- OpImportersConstant.cpp - Constants, shapes, identities ------------===//
//
// Constant, ConstantOfShape, Shape, Size and Range become Constant nodes at
// import: shapes are static, so Shape and Size are known, and
// ConstantOfShape and Range need constant operands (they are rejected
// otherwise, since their result shape would be unknown). Identity and
// Dropout (inference) forward their input.
//
// Opset differences: Shape has start/end from 15; Dropout takes `ratio` as
// an attribute before 12 and ratio/training_mode inputs after (training mode
// must be a constant false); its mask output is of the input's type before
// 10 and bool after, all ones/true in inference.
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"
#include <cmath>
#include <cstring>

using namespace tidal;
using namespace tidal::onnximport;

namespace {
// Constants bigger than this are refused rather than built at import.
constexpr int64_t MaxConstantElements = int64_t(1) << 27;

template <typename T>
Tensor vectorTensor(ElemType E, const std::vector<T> &V, bool Scalar) {
  std::vector<int64_t> Shape;
  if (!Scalar)
    Shape.push_back(static_cast<int64_t>(V.size()));
  Tensor R(TensorType(E, Shape));
  for (size_t I = 0; I < V.size(); ++I)
    R.template data<T>()[I] = V[I];
  return R;
}
} // namespace

void onnximport::importConstant(NodeImporter &N) {
  const auto &Attrs = N.Proto.attribute();
  if (Attrs.size() != 1)
    return N.fail("exactly one value attribute is required");
  const std::string &A = Attrs.Get(0).name();
  std::optional<Tensor> T;
  if (A == "value") {
    if (const onnx::TensorProto *P = N.attrTensor("value")) {
      auto R = tensorFromProto(*P, N.M.BaseDir, N.M.ReadFiles);
      if (!R)
        return N.fail(llvm::toString(R.takeError()));
      T = std::move(*R);
    }
  } else if (A == "value_float") {
    T = vectorTensor<float>(ElemType::F32, {N.attrFloat(A, 0)}, true);
  } else if (A == "value_floats") {
    T = vectorTensor<float>(ElemType::F32, N.attrFloats(A), false);
  } else if (A == "value_int") {
    T = vectorTensor<int64_t>(ElemType::I64, {N.attrInt(A, 0)}, true);
  } else if (A == "value_ints") {
    T = vectorTensor<int64_t>(ElemType::I64, N.attrInts(A), false);
  } else if (A == "value_string" || A == "value_strings") {
    return N.fail("string constants are not supported");
  } else if (A == "sparse_value") {
    return N.fail("sparse constants are not supported");
  } else {
    return N.fail("unknown attribute '" + A + "'");
  }
  if (T && !N.failed())
    N.setOutput(0, N.constant(std::move(*T)));
}

void onnximport::importConstantOfShape(NodeImporter &N) {
  auto Shape = N.constInts(0, "shape");
  if (!Shape)
    return;
  Tensor Fill(TensorType(ElemType::F32, {}));
  if (const onnx::TensorProto *P = N.attrTensor("value")) {
    auto R = tensorFromProto(*P, N.M.BaseDir, N.M.ReadFiles);
    if (!R)
      return N.fail(llvm::toString(R.takeError()));
    if (R->Type.numElements() != 1)
      return N.fail("value must hold one element");
    Fill = std::move(*R);
  }
  if (N.failed())
    return;
  for (int64_t D : *Shape)
    if (D < 0)
      return N.fail("shape " + shapeStr(*Shape) + " has a negative dimension");
  if (!reasonableShape(*Shape) || product(*Shape) > MaxConstantElements)
    return N.fail("the constant of shape " + shapeStr(*Shape) +
                  " would be too large");
  Tensor T(TensorType(Fill.Type.Elem, *Shape));
  size_t B = Fill.Bytes.size();
  for (int64_t I = 0, E = T.Type.numElements(); I < E; ++I)
    std::memcpy(&T.Bytes[I * B], Fill.Bytes.data(), B);
  N.setOutput(0, N.constant(std::move(T)));
}

void onnximport::importShape(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  int64_t Rank = X->Type.rank();
  int64_t Start = N.Opset >= 15 ? N.attrInt("start", 0) : 0;
  int64_t End = N.Opset >= 15 ? N.attrInt("end", Rank) : Rank;
  auto Clamp = [&](int64_t A) {
    return std::clamp<int64_t>(A < 0 ? A + Rank : A, 0, Rank);
  };
  Start = Clamp(Start);
  End = std::max(Start, Clamp(End));
  const auto &S = X->Type.Shape;
  N.setOutput(0, N.constantI64(
                     std::vector<int64_t>(S.begin() + Start, S.begin() + End)));
}

void onnximport::importSize(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  Tensor T(TensorType(ElemType::I64, {}));
  T.data<int64_t>()[0] = X->Type.numElements();
  N.setOutput(0, N.constant(std::move(T)));
}

namespace {
int64_t rangeLength(const Tensor &S, const Tensor &L, const Tensor &D) {
  if (isFloat(S.Type.Elem)) {
    double N = std::ceil((L.getDouble(0) - S.getDouble(0)) / D.getDouble(0));
    return std::isfinite(N) && N > 0 ? static_cast<int64_t>(std::min(N, 9.0e18))
                                     : 0;
  }
  __int128 Start = S.getInt(0), Limit = L.getInt(0), Delta = D.getInt(0);
  __int128 Len = 0;
  if (Delta > 0 && Limit > Start)
    Len = (Limit - Start + Delta - 1) / Delta;
  else if (Delta < 0 && Start > Limit)
    Len = (Start - Limit - Delta - 1) / -Delta;
  return static_cast<int64_t>(std::min<__int128>(Len, MaxConstantElements + 1));
}
} // namespace

void onnximport::importRange(NodeImporter &N) {
  const Tensor *T[3];
  for (unsigned I = 0; I < 3; ++I) {
    Value *V = N.requiredInput(I);
    if (!V)
      return;
    T[I] = V->constantData();
    if (!T[I]) {
      N.needConstant(I);
      N.fail("input " + llvm::Twine(I) + " ('" + N.Proto.input(I) +
             "') must be a constant, since the result's length depends on it");
    }
  }
  if (N.failed())
    return;
  for (unsigned I = 0; I < 3; ++I)
    if (T[I]->Type.numElements() != 1 || T[I]->Type.Elem != T[0]->Type.Elem)
      return N.fail("inputs must be scalars of one type");
  ElemType E = T[0]->Type.Elem;
  if (E != ElemType::F32 && E != ElemType::F64 && E != ElemType::I16 &&
      E != ElemType::I32 && E != ElemType::I64)
    return N.fail(llvm::Twine("Range is not defined for ") + elemTypeName(E));
  if (T[2]->getDouble(0) == 0)
    return N.fail("delta must not be 0");
  int64_t Len = rangeLength(*T[0], *T[1], *T[2]);
  if (Len > MaxConstantElements)
    return N.fail("the range would have more than " +
                  llvm::Twine(MaxConstantElements) + " elements");
  Tensor R(TensorType(E, {Len}));
  for (int64_t I = 0; I < Len; ++I) {
    if (isFloat(E))
      R.setDouble(I, T[0]->getDouble(0) + I * T[2]->getDouble(0));
    else
      R.setInt(I, T[0]->getInt(0) + I * T[2]->getInt(0));
  }
  N.setOutput(0, N.constant(std::move(R)));
}

void onnximport::importIdentity(NodeImporter &N) {
  N.setOutput(0, N.requiredInput(0));
}

void onnximport::importDropout(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  N.ignoreInput(1); // ratio: no effect in inference
  if (N.Opset >= 12 && N.hasInput(2)) {
    const Tensor *Training = N.constInput(2);
    if (!Training)
      N.needConstant(2);
    if (!Training || Training->Type.numElements() != 1)
      return N.fail("training_mode must be a constant (inference only)");
    if (Training->getInt(0))
      return N.fail("training mode is not supported (inference only)");
  }
  N.setOutput(0, X);
  if (N.outputUsed(1)) {
    if (X->Type.numElements() > MaxConstantElements)
      return N.fail("the mask output would be too large a constant");
    ElemType E = N.Opset >= 10 ? ElemType::Bool : X->Type.Elem;
    Tensor Mask(TensorType(E, X->Type.Shape));
    for (int64_t I = 0, End = Mask.Type.numElements(); I < End; ++I)
      Mask.setInt(I, 1);
    N.setOutput(1, N.constant(std::move(Mask)));
  }
}
