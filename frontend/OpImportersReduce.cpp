//===- OpImportersReduce.cpp - The Reduce* family -------------------------===//
//
// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare,
// ReduceL1, ReduceL2, ReduceLogSumExp, and ReduceLogSum (as Log of
// ReduceSum). Axes are normalized: non-negative, sorted, and explicit (all
// axes when none are given), with keepdims filled in.
//
// Opset differences: `axes` is an attribute before opset 13 for ReduceSum
// and before 18 for the others; after that it is an optional input, which
// must be constant, and `noop_with_empty_axes` says whether empty axes mean
// "all axes" (default) or none. A reduction over no axis is elementwise
// (ReduceSumSquare squares, ReduceL1/L2 take |x|, ReduceLogSum takes the
// log, the rest are the identity), so it is imported as such.
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"

using namespace tidal;
using namespace tidal::onnximport;

namespace {

// The operation a Reduce* over no axes amounts to.
Value *reduceNothing(NodeImporter &N, llvm::StringRef Op, Value *X) {
  if (Op == "ReduceSumSquare")
    return N.emit(OpKind::Mul, {X, X}, {}, X->Type);
  if (Op == "ReduceL1" || Op == "ReduceL2")
    return N.emit(OpKind::Abs, {X}, {}, X->Type);
  if (Op == "ReduceLogSum")
    return N.emit(OpKind::Log, {X}, {}, X->Type);
  return X;
}

std::optional<std::vector<int64_t>> readAxes(NodeImporter &N,
                                             llvm::StringRef Op, bool &Noop) {
  bool AxesInput = Op == "ReduceSum" ? N.Opset >= 13 : N.Opset >= 18;
  Noop = false;
  if (!AxesInput)
    return N.attrInts("axes");
  Noop = N.attrInt("noop_with_empty_axes", 0) != 0;
  if (!N.hasInput(1))
    return std::vector<int64_t>();
  return N.constInts(1, "axes");
}

} // namespace

void onnximport::importReduce(NodeImporter &N) {
  llvm::StringRef Op = N.Proto.op_type();
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  ElemType E = X->Type.Elem;
  bool MaxMin = Op == "ReduceMax" || Op == "ReduceMin";
  if (E == ElemType::Bool && !MaxMin)
    return N.fail(Op + " is not defined for bool");
  if (!isFloat(E) &&
      (Op == "ReduceLogSum" || Op == "ReduceLogSumExp" || Op == "ReduceL2"))
    return N.fail(Op + " on integers is not supported");
  bool Noop;
  auto Axes = readAxes(N, Op, Noop);
  int64_t Keep = N.attrInt("keepdims", 1) != 0;
  if (!Axes || N.failed())
    return;
  int64_t Rank = X->Type.rank();
  if (Axes->empty() && !Noop)
    for (int64_t I = 0; I < Rank; ++I)
      Axes->push_back(I);
  if (Axes->empty())
    return N.setOutput(0, reduceNothing(N, Op, X));
  auto Sorted = N.normalizeAxes(*Axes, Rank);
  if (!Sorted)
    return;
  bool LogSum = Op == "ReduceLogSum";
  OpKind K = LogSum ? OpKind::ReduceSum : *parseOpName(Op);
  Value *R = build::reduce(N, K, X, *Sorted, Keep);
  if (LogSum)
    R = build::unary(N, OpKind::Log, R);
  N.setOutput(0, R);
}
