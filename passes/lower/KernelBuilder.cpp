//===- KernelBuilder.cpp - Building the kernel of one fused group ---------===//
//
// The helpers every lowering writes its loop nest with: kernel parameters
// made from graph values, index arithmetic over row-major shapes, loops with
// kernel-unique variable names, and storeResult(), which applies the group's
// elementwise epilogue before the one store into the group's final result.
//
// Names in a kernel (parameters and loop variables) share one namespace and
// are plain identifiers, unique within the kernel, because schedules address
// loops by name.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "passes/loop/LoopUtils.h"
#include "passes/lower/Lowering.h"
#include "llvm/Support/ErrorHandling.h"
#include <cassert>
#include <cctype>
#include <numeric>
#include <optional>

using namespace tidal;
using namespace tidal::lower;

/// Makes Hint a plain identifier: [A-Za-z_][A-Za-z0-9_]*.
static std::string sanitize(llvm::StringRef Hint) {
  std::string S;
  for (char C : Hint)
    S += (std::isalnum(static_cast<unsigned char>(C)) || C == '_') ? C : '_';
  if (S.empty() || std::isdigit(static_cast<unsigned char>(S[0])))
    S = "v" + S;
  return S;
}

KernelBuilder::KernelBuilder(std::string KernelName, const Node &Anchor,
                             std::vector<const Node *> Epilogue,
                             const PassOptions &Opts)
    : Name(std::move(KernelName)), Anchor(Anchor),
      Epilogue(std::move(Epilogue)), Opts(Opts) {}

std::string KernelBuilder::freshName(llvm::StringRef Hint) {
  // NameCounts holds every taken name, mapped to the next suffix to try
  // when that name is asked for again.
  std::string Base = sanitize(Hint), Candidate = Base;
  auto It = NameCounts.find(Base);
  unsigned Next = It == NameCounts.end() ? 1 : It->second;
  while (NameCounts.count(Candidate))
    Candidate = Base + "_" + std::to_string(Next++);
  if (Candidate != Base)
    NameCounts[Base] = Next;
  NameCounts.emplace(Candidate, 1);
  return Candidate;
}

const std::string &KernelBuilder::buffer(const Value *V) {
  return buffer(V, V->Type.Shape);
}

const std::string &KernelBuilder::buffer(const Value *V,
                                         const std::vector<int64_t> &Shape) {
  assert(std::accumulate(Shape.begin(), Shape.end(), int64_t(1),
                         std::multiplies<int64_t>()) == V->Type.numElements() &&
         "a view with another number of elements");
  auto Key = std::make_pair(V, Shape);
  auto It = ParamIndex.find(Key);
  if (It != ParamIndex.end())
    return Params[It->second].Name;
  const Value *Final =
      Epilogue.empty() ? Anchor.result() : Epilogue.back()->result();
  BufferDecl D;
  D.Name = freshName(V->Name);
  D.Elem = scalarTypeOf(V->Type.Elem);
  D.Size = V->Type.numElements();
  if (Shape.size() >= 2)
    D.Shape = Shape;
  D.ReadOnly = V != Final;
  ParamIndex[Key] = Params.size();
  Params.push_back(D);
  ParamValues.push_back(V);
  return Params.back().Name;
}

std::string KernelBuilder::scratch(llvm::StringRef Hint, ScalarType Elem,
                                   int64_t Elems, std::vector<int64_t> Shape) {
  assert(Elems > 0 && "scratch buffer without elements");
  assert((Shape.empty() ||
          (Shape.size() >= 2 &&
           std::accumulate(Shape.begin(), Shape.end(), int64_t(1),
                           std::multiplies<int64_t>()) == Elems)) &&
         "scratch shape does not hold its elements");
  BufferDecl D;
  D.Shape = std::move(Shape);
  D.Name = freshName(Hint);
  D.Elem = Elem;
  D.Size = Elems;
  D.ReadOnly = false;
  Params.push_back(D);
  ParamValues.push_back(nullptr);
  return D.Name;
}

const std::string &KernelBuilder::derivedConstant(llvm::StringRef Hint,
                                                  Tensor T) {
  auto N = std::make_unique<Node>(OpKind::Constant, Hint.str());
  N->Results.push_back(std::make_unique<Value>(Hint.str(), T.Type, N.get(), 0));
  N->Attrs["value"] = std::move(T);
  Derived.push_back(std::move(N));
  return buffer(Derived.back()->result());
}

/// The access of a buffer of Shape at Idx: one index per dimension when
/// there are two or more, else the flat one.
static std::vector<Expr> accessIndices(const std::vector<int64_t> &Shape,
                                       const std::vector<Expr> &Idx) {
  assert(Shape.size() == Idx.size() && "index rank differs from shape rank");
  if (Shape.size() >= 2)
    return Idx;
  return {loop::rowMajorIndex(Shape, Idx)};
}

Expr KernelBuilder::loadAt(const Value *V, const std::vector<Expr> &Idx) {
  return loadAt(V, V->Type.Shape, Idx);
}

Expr KernelBuilder::loadAt(const Value *V, const std::vector<int64_t> &Shape,
                           const std::vector<Expr> &Idx) {
  const std::string &Buf = buffer(V, Shape);
  DataType T(scalarTypeOf(V->Type.Elem));
  std::vector<Expr> At = accessIndices(Shape, Idx);
  return At.size() == 1 ? load(Buf, T, At[0]) : load(Buf, T, std::move(At));
}

Expr KernelBuilder::loadBroadcast(const Value *V,
                                  const std::vector<Expr> &Idx) {
  const std::vector<int64_t> &Shape = V->Type.Shape;
  assert(Shape.size() <= Idx.size() && "broadcast to a lower rank");
  size_t Lead = Idx.size() - Shape.size();
  std::vector<Expr> Own;
  for (size_t D = 0; D < Shape.size(); ++D)
    Own.push_back(Shape[D] == 1 ? intImm(0) : Idx[Lead + D]);
  return loadAt(V, Own);
}

Stmt KernelBuilder::loopNest(
    const std::vector<int64_t> &Shape, llvm::StringRef Hint,
    const std::function<Stmt(const std::vector<Expr> &)> &Body) {
  std::vector<Expr> Idx;
  std::vector<std::string> Names;
  for (size_t D = 0; D < Shape.size(); ++D) {
    // A size-1 dimension needs no loop: its index is 0.
    if (Shape[D] == 1) {
      Idx.push_back(intImm(0));
      Names.push_back("");
      continue;
    }
    Names.push_back(freshName(Hint.str() + std::to_string(D)));
    Idx.push_back(var(Names.back()));
  }
  Stmt S = Body(Idx);
  for (size_t D = Shape.size(); D-- > 0;)
    if (!Names[D].empty())
      S = forRange(Names[D], Shape[D], S);
  return S;
}

/// Whether E is cheap enough to repeat wherever a formula uses it.
static bool isTrivial(const Expr &E) {
  return E->Kind == ExprKind::Var || E->Kind == ExprKind::IntImm ||
         E->Kind == ExprKind::FloatImm || E->Kind == ExprKind::Load;
}

Stmt KernelBuilder::storeResult(const std::vector<Expr> &Idx, Expr V) {
  const Value *Prev = Anchor.result();
  assert(Idx.size() ==
             (ResultView.empty() ? Prev->Type.rank() : ResultView.size()) &&
         "index rank differs from result");
  // Operand Op of the epilogue at Idx: broadcast, through its view if any.
  auto OperandAt = [&](const Value *Op) {
    auto It = Views.find(Op);
    if (It == Views.end())
      return loadBroadcast(Op, Idx);
    std::vector<Expr> Own;
    for (size_t D = 0; D < Idx.size(); ++D)
      Own.push_back(It->second[D] == 1 ? intImm(0) : Idx[D]);
    return loadAt(Op, It->second, Own);
  };
  // Each intermediate value is bound to a variable before the next formula
  // uses it, so that formulas using an operand twice (Relu, Clip, ...)
  // do not grow the expression exponentially along a chain.
  std::vector<std::pair<std::string, Expr>> Lets;
  for (const Node *E : Epilogue) {
    if (!isTrivial(V)) {
      Lets.emplace_back(freshName(Prev->Name), V);
      V = var(Lets.back().first, V->Type);
    }
    std::vector<Expr> Operands;
    for (const Value *Op : E->Operands)
      Operands.push_back(Op == Prev ? V : OperandAt(Op));
    // lower-to-loops has checked every epilogue node with elementwiseExpr()
    // before building the kernel, so this cannot fail.
    V = llvm::cantFail(elementwiseExpr(*E, Operands));
    Prev = E->result();
  }
  assert(V->Type == DataType(scalarTypeOf(Prev->Type.Elem)) &&
         "stored value has another type than the result");
  const std::vector<int64_t> &Shape =
      ResultView.empty() ? Prev->Type.Shape : ResultView;
  const std::string &Buf = buffer(Prev, Shape);
  std::vector<Expr> At = accessIndices(Shape, Idx);
  Stmt S = At.size() == 1 ? store(Buf, At[0], V) : store(Buf, std::move(At), V);
  for (size_t I = Lets.size(); I-- > 0;)
    S = letStmt(Lets[I].first, Lets[I].second, S);
  return S;
}

/// The runs of consecutive dimensions of Shape that View merges, [begin,
/// end) for each dimension of View (a trailing run of size-1 dimensions
/// joins the last), or none where View does not merge runs of Shape.
static std::optional<std::vector<std::pair<size_t, size_t>>>
mergedRuns(const std::vector<int64_t> &Shape,
           const std::vector<int64_t> &View) {
  std::vector<std::pair<size_t, size_t>> Runs;
  size_t D = 0;
  for (int64_t Extent : View) {
    size_t Begin = D;
    int64_t Elems = 1;
    while (D < Shape.size() && Elems < Extent)
      Elems *= Shape[D++];
    if (Elems != Extent)
      return std::nullopt;
    Runs.emplace_back(Begin, D);
  }
  for (; D < Shape.size(); ++D)
    if (Shape[D] != 1 || Runs.empty())
      return std::nullopt;
  Runs.back().second = Shape.size();
  return Runs;
}

/// The view of Op, broadcast numpy-style to Shape, that merges Runs of
/// Shape: per run, 1 where Op's dimensions in it are all 1 (or absent),
/// their product where they all match Shape's; none otherwise.
static std::optional<std::vector<int64_t>>
operandView(const std::vector<int64_t> &Op, const std::vector<int64_t> &Shape,
            const std::vector<std::pair<size_t, size_t>> &Runs) {
  size_t Lead = Shape.size() - Op.size();
  std::vector<int64_t> View;
  for (auto [Begin, End] : Runs) {
    bool Ones = true, Full = true;
    int64_t Elems = 1;
    for (size_t D = Begin; D < End; ++D) {
      int64_t E = D < Lead ? 1 : Op[D - Lead];
      Ones &= E == 1;
      Full &= E == Shape[D];
      Elems *= E;
    }
    if (!Ones && !Full)
      return std::nullopt;
    View.push_back(Ones ? 1 : Elems);
  }
  return View;
}

bool KernelBuilder::viewResult(const std::vector<int64_t> &Shape) {
  const std::vector<int64_t> &Result = Anchor.result()->Type.Shape;
  auto Runs = mergedRuns(Result, Shape);
  if (!Runs)
    return false;
  std::map<const Value *, std::vector<int64_t>> OperandViews;
  const Value *Prev = Anchor.result();
  for (const Node *E : Epilogue) {
    for (const Value *Op : E->Operands) {
      if (Op == Prev)
        continue;
      auto View = operandView(Op->Type.Shape, Result, *Runs);
      if (!View)
        return false;
      OperandViews[Op] = *View;
    }
    Prev = E->result();
  }
  ResultView = Shape;
  Views = std::move(OperandViews);
  return true;
}

Kernel KernelBuilder::finish(Stmt Body) {
  Kernel K;
  K.Name = Name;
  K.Params = Params;
  K.Body = Body ? Body : seq({});
  return K;
}

llvm::Error lower::nodeError(const Node &N, const llvm::Twine &Why) {
  return modelError(N.Name, opName(N.Kind), 0, Why);
}

llvm::Expected<Stmt> lower::lowerNode(const Node &N, KernelBuilder &B) {
  // A result with no elements is written by no loop, so no lowering needs to
  // handle (or divide by) an empty shape itself.
  if (N.Kind != OpKind::Constant && N.result()->Type.numElements() == 0)
    return seq({});
  switch (N.Kind) {
#define TIDAL_OP(Id, MinOps, MaxOps, Cat)                                      \
  case OpKind::Id:                                                             \
    return lower##Id(N, B);
#include "compiler/Ops.def"
  }
  llvm_unreachable("bad op kind");
}
