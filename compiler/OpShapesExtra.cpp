//===- OpShapesExtra.cpp - Type rules of GatherElements, ArgMax, ... ------===//
//
// More of inferResultTypes() (see OpShapes.cpp): GatherElements, ArgMax and
// ArgMin, CumSum and CumProd (one rule), and ConvTranspose. As everywhere,
// attributes come in their normalized form (docs/ir.md): axes non-negative,
// ConvTranspose's output_padding, output_shape and auto_pad already folded into
// its pads.
//
// ConvTranspose's output size along each spatial axis is
//   stride * (in - 1) + (kernel - 1) * dilation + 1 - pad_begin - pad_end,
// where a pad may be negative (output elements that no input reaches, which
// hold the bias): that is how the frontend expresses output_padding and an
// output_shape larger than the natural one.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/OpShapesImpl.h"

using namespace tidal;
using namespace tidal::shapes;

namespace {

/// What ArgMax/ArgMin and CumSum/CumProd share once their attributes are
/// read: a numeric input X and an axis of it.
llvm::Error checkNumericAxis(AttrReader &A, int64_t Axis, const TensorType &X) {
  if (llvm::Error E = A.finish())
    return E;
  if (!isNumeric(X.Elem))
    return makeError("input must have a numeric type, not " + X.str());
  return checkAxis(Axis, X);
}

llvm::Error checkUnquantized(const Types &Ops) {
  for (const TensorType &T : Ops)
    if (T.Quant)
      return makeError("quantized operand " + T.str() + " is not supported");
  return llvm::Error::success();
}

} // namespace

Result shapes::inferGatherElements(const Types &Ops, AttrReader &A) {
  llvm::Expected<int64_t> Axis = readGatherAxis(A, Ops);
  if (!Axis)
    return Axis.takeError();
  const TensorType &Data = Ops[0], &Indices = Ops[1];
  if (Data.Elem == ElemType::Bit || Data.Quant || Indices.Quant)
    return makeError("data " + Data.str() + " is not supported");
  if (Indices.rank() != Data.rank())
    return makeError("indices " + Indices.str() + " and data " + Data.str() +
                     " must have the same rank");
  // Outside the axis, out[..., j, ...] reads data[..., j, ...].
  for (size_t D = 0; D < Data.rank(); ++D)
    if (static_cast<int64_t>(D) != *Axis && Indices.Shape[D] > Data.Shape[D])
      return makeError("indices " + Indices.str() + " are larger than data " +
                       Data.str() + " on axis " + llvm::Twine(D));
  return Types{TensorType(Data.Elem, Indices.Shape)};
}

Result shapes::inferArgReduce(const TensorType &X, AttrReader &A) {
  int64_t Axis = A.getInt("axis");
  bool KeepDims = A.getBool("keepdims");
  A.getBool("select_last_index");
  if (llvm::Error E = checkNumericAxis(A, Axis, X))
    return std::move(E);
  if (X.Shape[Axis] == 0)
    return makeError("cannot take the index of an extreme along the empty "
                     "axis " +
                     llvm::Twine(Axis) + " of " + X.str());
  std::vector<int64_t> Out = X.Shape;
  if (KeepDims)
    Out[Axis] = 1;
  else
    Out.erase(Out.begin() + Axis);
  return Types{TensorType(ElemType::I64, Out)};
}

Result shapes::inferCumSum(const TensorType &X, AttrReader &A) {
  int64_t Axis = A.getInt("axis");
  A.getBool("exclusive");
  A.getBool("reverse");
  if (llvm::Error E = checkNumericAxis(A, Axis, X))
    return std::move(E);
  return Types{X};
}

Result shapes::inferConvTranspose(const Types &Ops, AttrReader &A) {
  std::vector<int64_t> Strides = A.getInts("strides");
  std::vector<int64_t> Pads = A.getInts("pads");
  std::vector<int64_t> Dilations = A.getInts("dilations");
  int64_t Group = A.getInt("group");
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (llvm::Error E = checkUnquantized(Ops))
    return std::move(E);
  for (size_t I = 0; I < Ops.size(); ++I)
    if (!isFloat(Ops[I].Elem) || Ops[I].Elem != Ops[0].Elem)
      return makeError("operands must share one floating-point type, but "
                       "operand " +
                       llvm::Twine(I) + " is " + Ops[I].str());
  const TensorType &X = Ops[0], &W = Ops[1];
  if (X.rank() < 3 || W.rank() != X.rank())
    return makeError("input " + X.str() + " and weight " + W.str() +
                     " need the same rank, 3 or more");
  size_t Spatial = X.rank() - 2;
  if (Strides.size() != Spatial || Dilations.size() != Spatial ||
      Pads.size() != 2 * Spatial)
    return makeError("strides, dilations (one per spatial axis) and pads "
                     "(two per spatial axis) do not fit " +
                     X.str());
  for (size_t I = 0; I < Spatial; ++I)
    if (Strides[I] < 1 || Dilations[I] < 1)
      return makeError("strides and dilations must be at least 1");
  int64_t C = X.Shape[1];
  if (Group < 1 || C % Group != 0 || W.Shape[0] != C)
    return makeError("input " + X.str() + " and weight " + W.str() +
                     " do not match for group " + llvm::Twine(Group) +
                     " (need W[0] = C, divisible by group)");
  int64_t M = W.Shape[1] * Group;
  if (Ops.size() == 3 && Ops[2].Shape != std::vector<int64_t>{M})
    return makeError("bias " + Ops[2].str() + " must have shape [" +
                     llvm::Twine(M) + "]");
  TensorType R(X.Elem, {X.Shape[0], M});
  for (size_t I = 0; I < Spatial; ++I) {
    int64_t Out = Strides[I] * (X.Shape[I + 2] - 1) +
                  (W.Shape[I + 2] - 1) * Dilations[I] + 1 - Pads[I] -
                  Pads[I + Spatial];
    if (X.Shape[I + 2] < 1 || W.Shape[I + 2] < 1 || Out < 1)
      return makeError("spatial axis " + llvm::Twine(I) + " of " + X.str() +
                       " with weight " + W.str() + " and pads " +
                       shapeStr(Pads) + " gives no output");
    R.Shape.push_back(Out);
  }
  return Types{R};
}
