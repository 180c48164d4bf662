//===- Flatten.cpp - Multi-dimensional accesses to flat indices -----------===//
//
// Lowering writes each kernel's canonical definition: loads and stores with
// one index per dimension of a buffer that carries its shape, so that the
// schedule works on the algorithm's axes. The flatten pass runs after the
// schedule is applied and turns every such access into the one row-major
// element index that vectorize and codegen read. Legality tests that need
// addresses (vectorizing, parallel loops) look at a flattened copy of the
// statement they judge (flattenAccesses), so they see exactly what codegen
// will.
//
// The flat index leaves out size-1 dimensions and zero terms, and joins a
// pair of adjacent indices `X / S`, `X % S` (S the inner extent) back into
// X: a lowering that unflattens a position and indexes with the pieces gets
// back an affine index, which the vectorizer and the parallel-loop test
// need.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include "passes/loop/LoopUtils.h"
#include "llvm/ADT/StringMap.h"

using namespace tidal;
using namespace tidal::loop;

/// If A is `X / S` and B is `X % S` (S a constant), X.
static Expr joinedSplit(const Expr &A, const Expr &B, int64_t S) {
  auto IsOp = [&](const Expr &E, BinaryOp Op) {
    return E->Kind == ExprKind::Binary && E->Op == Op &&
           E->Operands[1]->Kind == ExprKind::IntImm &&
           E->Operands[1]->IntValue == S;
  };
  if (IsOp(A, BinaryOp::Div) && IsOp(B, BinaryOp::Mod) &&
      exprEqual(A->Operands[0], B->Operands[0]))
    return A->Operands[0];
  return nullptr;
}

Expr loop::rowMajorIndex(llvm::ArrayRef<int64_t> Shape,
                         llvm::ArrayRef<Expr> Idx) {
  assert(Shape.size() == Idx.size() && "index rank differs from shape rank");
  // A size-1 dimension's index is always 0: leave it out. Then join split
  // indices: dimension D's index then covers the extents of D and D+1 (and
  // takes D+1's stride).
  std::vector<Expr> Index;
  std::vector<int64_t> Extent, Strides;
  std::vector<int64_t> AllStrides = rowMajorStrides(Shape.vec());
  for (size_t D = 0; D < Shape.size(); ++D)
    if (Shape[D] != 1) {
      Index.push_back(Idx[D]);
      Extent.push_back(Shape[D]);
      Strides.push_back(AllStrides[D]);
    }
  for (size_t D = 0; D + 1 < Index.size();) {
    Expr X = joinedSplit(Index[D], Index[D + 1], Extent[D + 1]);
    if (!X) {
      ++D;
      continue;
    }
    Index[D] = X;
    Extent[D] *= Extent[D + 1];
    Strides[D] = Strides[D + 1];
    Index.erase(Index.begin() + D + 1);
    Extent.erase(Extent.begin() + D + 1);
    Strides.erase(Strides.begin() + D + 1);
    D = D ? D - 1 : 0; // the joined index may join the one before it
  }
  Expr Flat;
  for (size_t D = 0; D < Index.size(); ++D) {
    if (Index[D]->Kind == ExprKind::IntImm && Index[D]->IntValue == 0)
      continue;
    Expr Term = Strides[D] == 1 ? Index[D]
                : Index[D]->Kind == ExprKind::IntImm
                    ? intImm(Index[D]->IntValue * Strides[D])
                    : Index[D] * Strides[D];
    Flat = Flat ? Flat + Term : Term;
  }
  return Flat ? Flat : intImm(0);
}

namespace {

/// Rewrites the multi-dimensional accesses of one kernel's buffers.
class Flattener : public IRMutator {
public:
  explicit Flattener(const std::vector<BufferDecl> &Params) {
    for (const BufferDecl &B : Params)
      if (!B.Shape.empty())
        Shapes[B.Name] = &B.Shape;
  }

  Expr mutate(const Expr &E) override {
    if (!E || E->Kind != ExprKind::Load || E->Operands.size() == 1)
      return IRMutator::mutate(E);
    return load(E->Name, E->Type, flat(E->Name, E->Operands));
  }
  Stmt mutate(const Stmt &S) override {
    if (!S || S->Indices.size() < 2)
      return IRMutator::mutate(S);
    if (S->Kind == StmtKind::Prefetch)
      return prefetch(S->Name, {flat(S->Name, S->Indices)});
    return store(S->Name, flat(S->Name, S->Indices), mutate(S->Value));
  }

private:
  Expr flat(const std::string &Buffer, const std::vector<Expr> &Indices) {
    std::vector<Expr> Idx;
    for (const Expr &I : Indices)
      Idx.push_back(mutate(I));
    auto It = Shapes.find(Buffer);
    assert(It != Shapes.end() && It->second->size() == Idx.size() &&
           "multi-dimensional access unchecked by the verifier");
    return rowMajorIndex(*It->second, Idx);
  }

  llvm::StringMap<const std::vector<int64_t> *> Shapes;
};

} // namespace

Stmt loop::flattenAccesses(const std::vector<BufferDecl> &Params,
                           const Stmt &S) {
  return Flattener(Params).mutate(S);
}

llvm::Error tidal::flatten(Module &M, const PassOptions &) {
  if (!M.P)
    return llvm::Error::success();
  for (Kernel &K : M.P->Kernels)
    K.Body = flattenAccesses(K.Params, K.Body);
  return llvm::Error::success();
}
