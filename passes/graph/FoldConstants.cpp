//===- FoldConstants.cpp - The "fold-constants" pass ----------------------===//
//
// Evaluates at compile time every node whose operands are all results of
// Constant nodes, and turns it into a Constant node holding the value. The
// node is rewritten in place: its result keeps its Value (so its name, its
// type and every use stay as they were, and printed IR stays readable) and
// the node keeps its name for diagnostics; only its kind, operands and
// attributes change. Nodes are visited in graph order, so a chain of
// constant computations folds in one run. Operands left without users are
// not removed here; "dce" does that.
//
// The evaluation is evaluateNode() (compiler/Evaluate.h), the compiler's
// reference semantics of each operation. It may refuse a node (an operation
// or element type it does not evaluate); then the node is left alone and
// computed at run time, which is always correct. A result whose type is not
// exactly the node's result type is also left alone, and so is a node with
// a quantized operand or result (quantized arithmetic is the lowering's
// business, not the evaluator's).
//
// The size rule: a fold must not blow up the weights. A node is kept as a
// computation when its result would have more than 2^20 elements AND more
// than twice as many elements as all its operands together (Expand or Pad
// of a small tensor to a large one). Folds that do not grow the data much
// (Transpose, Reshape, Cast or arithmetic on big weights) are always done,
// since the operands usually die afterwards.
//
// Assumes the graph is verified (topological order, types inferred) and
// that fusion has not run yet: a folded node loses all its attributes,
// including a fusion `group`.
//
//===----------------------------------------------------------------------===//

#include "compiler/Evaluate.h"
#include "passes/PassRegistry.h"

using namespace tidal;

namespace {

/// Results above this many elements are folded only if they do not grow
/// the data by more than MaxGrowth.
constexpr int64_t LargeResultElements = int64_t(1) << 20;
constexpr int64_t MaxGrowth = 2;

/// The constant operands of N, or nothing when N is not a candidate: some
/// operand is not a constant, N has no operands (a Constant itself), or a
/// type involved is quantized (the evaluator computes on stored values, not
/// on the real numbers they stand for).
std::optional<std::vector<const Tensor *>> constantOperands(const Node &N) {
  if (N.Kind == OpKind::Constant || N.Operands.empty() ||
      N.Results.size() != 1 || !canEvaluate(N.Kind))
    return std::nullopt;
  if (N.result()->Type.Quant)
    return std::nullopt;
  std::vector<const Tensor *> Data;
  for (const Value *Op : N.Operands) {
    const Tensor *T = Op->constantData();
    if (!T || T->Type.Quant)
      return std::nullopt;
    Data.push_back(T);
  }
  return Data;
}

/// The size rule above.
bool tooLargeToFold(const Node &N, const std::vector<const Tensor *> &Ops) {
  int64_t ResultElems = N.result()->Type.numElements();
  if (ResultElems <= LargeResultElements)
    return false;
  int64_t OperandElems = 0;
  for (const Tensor *T : Ops)
    OperandElems += T->Type.numElements();
  return ResultElems > MaxGrowth * OperandElems;
}

/// Evaluates N; the value when it could and its type is N's result type.
std::optional<Tensor> evaluate(const Node &N,
                               const std::vector<const Tensor *> &Ops) {
  llvm::Expected<std::vector<Tensor>> Values = evaluateNode(N, Ops);
  if (!Values) {
    // Not every operation can be evaluated; running it later is correct.
    llvm::consumeError(Values.takeError());
    return std::nullopt;
  }
  if (Values->size() != 1 || (*Values)[0].Type != N.result()->Type)
    return std::nullopt;
  return std::move((*Values)[0]);
}

/// Makes N a Constant node holding T, in place.
void becomeConstant(Node &N, Tensor T) {
  N.Kind = OpKind::Constant;
  N.Operands.clear();
  N.Attrs.clear();
  N.Attrs["value"] = std::move(T);
}

/// Folds N if it can; returns whether it did.
bool foldNode(Node &N) {
  std::optional<std::vector<const Tensor *>> Ops = constantOperands(N);
  if (!Ops || tooLargeToFold(N, *Ops))
    return false;
  std::optional<Tensor> T = evaluate(N, *Ops);
  if (!T)
    return false;
  becomeConstant(N, std::move(*T));
  return true;
}

} // namespace

llvm::Error tidal::foldConstants(Module &M, const PassOptions &) {
  assert(M.G && "fold-constants runs on the graph IR");
  for (auto &N : M.G->Nodes)
    foldNode(*N);
  return llvm::Error::success();
}
