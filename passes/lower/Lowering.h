//===- Lowering.h - Lowering graph operations to loop nests -----*- C++ -*-===//
//
// The lower-to-loops pass makes one Kernel per fused group (see
// FuseElementwise.cpp: a group is an anchor node followed by the
// elementwise nodes fused into it, all carrying the same FusionGroupAttr
// (`fusion_group`) attribute). Each operation kind has one lowering function, declared here
// from Ops.def; it writes the anchor's loop nest through a KernelBuilder.
//
// The anchor never stores its result itself: it calls storeResult() with the
// output element's multi-dimensional index and value, and the builder
// applies the group's elementwise epilogue (loading the epilogue nodes'
// other operands, broadcast to that index) before storing into the group's
// final output buffer. So every operation fuses with every elementwise
// chain, and lowerings never know whether they are fused.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOWER_LOWERING_H
#define TIDAL_PASSES_LOWER_LOWERING_H

#include "compiler/Graph.h"
#include "compiler/Loop.h"
#include "compiler/PassManager.h"
#include <functional>
#include <map>

namespace tidal {
namespace lower {

/// Builds the kernel of one fused group.
class KernelBuilder {
public:
  /// Anchor is the group's first node; Epilogue the elementwise nodes fused
  /// after it, in order (each consumes the previous one's result).
  KernelBuilder(std::string KernelName, const Node &Anchor,
                std::vector<const Node *> Epilogue, const PassOptions &Opts);

  const PassOptions &options() const { return Opts; }

  /// The kernel parameter holding graph value V (added on first use).
  /// Values are read-only parameters, except the group's final result.
  const std::string &buffer(const Value *V);
  /// The kernel parameter holding V seen as Shape, a row-major view of the
  /// same elements (a parameter of its own when Shape is not V's shape).
  const std::string &buffer(const Value *V, const std::vector<int64_t> &Shape);
  /// A writable scratch parameter of Elems elements of Elem, private to this
  /// kernel's call: lower-to-loops binds it to a temporary of its own, which
  /// plan-memory places in the workspace like any other (so a large scratch
  /// buffer never lives on the stack, which firmware keeps small). Its
  /// paramValues() entry is null.
  /// With a Shape (rank 2 or more, Elems elements), it is indexed per
  /// dimension like a graph value.
  std::string scratch(llvm::StringRef Hint, ScalarType Elem, int64_t Elems,
                      std::vector<int64_t> Shape = {});
  /// A read-only parameter holding T, a constant that the lowering made at
  /// compile time from the model's constants (a weight in the layout its
  /// kernel reads fastest). lower-to-loops lays it out in the weights
  /// section like the model's own constants. Its paramValues() entry is the
  /// result of a Constant node outside the graph, owned by the builder until
  /// takeDerived().
  const std::string &derivedConstant(llvm::StringRef Hint, Tensor T);
  /// The Constant nodes of derivedConstant(), in the order they were made.
  std::vector<std::unique_ptr<Node>> takeDerived() {
    return std::move(Derived);
  }
  /// Loads V at a multi-dimensional index, one i64 expression per dimension
  /// of V's shape (none for a scalar). The load keeps one index per
  /// dimension (V's buffer carries its shape) when V has two or more; the
  /// flatten pass makes it flat after scheduling.
  Expr loadAt(const Value *V, const std::vector<Expr> &Idx);
  /// Loads V seen as Shape (buffer(V, Shape)) at Idx.
  Expr loadAt(const Value *V, const std::vector<int64_t> &Shape,
              const std::vector<Expr> &Idx);
  /// Loads V broadcast numpy-style to a shape of rank Idx.size(): V's
  /// trailing dimensions align with Idx's, size-1 dimensions read index 0.
  Expr loadBroadcast(const Value *V, const std::vector<Expr> &Idx);
  /// Stores the anchor's result element at Idx (in the anchor's result
  /// shape) after applying the epilogue; indexed per dimension as loadAt.
  Stmt storeResult(const std::vector<Expr> &Idx, Expr Value);
  /// Makes storeResult() take indices in Shape, a view of the anchor's
  /// result that merges runs of consecutive dimensions ([N, M, H, W] as
  /// [N, M, H * W]); the final result and the epilogue's operands are then
  /// read and written through views that merge the same runs. Returns
  /// false, changing nothing, where Shape is not such a view or an operand
  /// broadcasts over part of a merged run (an operand [H, 1] to [H, W]),
  /// which no view of it can follow.
  bool viewResult(const std::vector<int64_t> &Shape);
  /// A variable name unique in this kernel, made from Hint.
  std::string freshName(llvm::StringRef Hint);
  /// Serial loops over every index of Shape (outermost first); Body gets
  /// the index variables. A rank-0 shape gives Body({}) without loops.
  Stmt loopNest(const std::vector<int64_t> &Shape, llvm::StringRef Hint,
                const std::function<Stmt(const std::vector<Expr> &)> &Body);

  /// Finishes the kernel with Body. Params come in first-use order.
  Kernel finish(Stmt Body);
  /// The graph values behind the kernel's parameters, in parameter order.
  const std::vector<const Value *> &paramValues() const { return ParamValues; }

private:
  std::string Name;
  const Node &Anchor;
  std::vector<const Node *> Epilogue;
  const PassOptions &Opts;
  std::vector<BufferDecl> Params;
  std::vector<const Value *> ParamValues;
  std::map<std::pair<const Value *, std::vector<int64_t>>, unsigned> ParamIndex;
  /// Set by viewResult(): the index shape of storeResult(), and the view
  /// of each epilogue operand and of the final result.
  std::vector<int64_t> ResultView;
  std::map<const Value *, std::vector<int64_t>> Views;
  std::map<std::string, unsigned> NameCounts;
  std::vector<std::unique_ptr<Node>> Derived;
};

/// The error of a node the lowering cannot compute (a type or shape it does
/// not support): a ModelError naming the node. Lowerings know no opset, so
/// it is 0.
llvm::Error nodeError(const Node &N, const llvm::Twine &Why);

/// The scalar computation of an elementwise node (Unary/Binary/Ternary
/// category, and Copy/Cast) on already-loaded operand values. Used both by
/// the elementwise lowerings and by storeResult() for epilogues.
llvm::Expected<Expr> elementwiseExpr(const Node &N,
                                     const std::vector<Expr> &Operands);

/// Every operation's lowering. One that the lowering does not support for
/// the node's types returns a ModelError naming the node.
#define TIDAL_OP(Id, MinOps, MaxOps, Cat)                                      \
  llvm::Expected<Stmt> lower##Id(const Node &N, KernelBuilder &B);
#include "compiler/Ops.def"

/// Dispatches on N.Kind.
llvm::Expected<Stmt> lowerNode(const Node &N, KernelBuilder &B);

} // namespace lower
} // namespace tidal

#endif
