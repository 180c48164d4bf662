//===- DefaultSchedule.cpp - The default-schedule pass --------------------===//
//
// Attaches each kernel's default schedule for the target; a kernel that
// already carries a schedule keeps it. At -O0 it attaches nothing. From -O1
// on, every innermost loop (a For with no For inside) of constant extent E
// whose body holds only stores and lets, at least one store, and which the
// vectorizer can turn into vector code (canVectorizeLoop: no ifs, affine
// store indices, no loop-carried dependence) is vectorized with
// L = VectorBits / (bits of the widest element type stored in the body)
// lanes: `split %i, %i.o, %i.i by L` then `vectorize %i.i`, or just
// `vectorize %i` when E == L. When E < L, L becomes the largest power of two
// not above E; loops for which that is below 2 are left alone. Loops the
// vectorizer would reject (reductions into one element, bodies with ifs)
// get no directive, so no useless split is made.
//
// Assumes loop names are unique in each kernel (the lowering makes them so,
// the verifier checks it); the new names are made unique too.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include "passes/loop/LoopUtils.h"

using namespace tidal;
using namespace tidal::loop;

namespace {

/// Element types of the buffers in scope.
struct BufferTypes {
  std::vector<std::pair<std::string, ScalarType>> Scope;
  std::optional<ScalarType> lookup(llvm::StringRef Name) const {
    for (auto It = Scope.rbegin(); It != Scope.rend(); ++It)
      if (It->first == Name)
        return It->second;
    return std::nullopt;
  }
};

/// True if S holds only stores, lets and ifs (and sequences of them).
bool isStraightLine(const Stmt &S) {
  if (!S)
    return true;
  switch (S->Kind) {
  case StmtKind::For:
  case StmtKind::Allocate:
    return false;
  case StmtKind::Store:
    return true;
  default:
    break;
  }
  if (!isStraightLine(S->Body) || !isStraightLine(S->Else))
    return false;
  for (const Stmt &X : S->Stmts)
    if (!isStraightLine(X))
      return false;
  return true;
}

/// The widest element size in bits that S stores (0 if it stores nothing).
unsigned widestStore(const Stmt &S, const BufferTypes &Types) {
  if (!S)
    return 0;
  unsigned Bits = 0;
  if (S->Kind == StmtKind::Store)
    if (auto T = Types.lookup(S->Name))
      Bits = scalarBits(*T);
  for (const Stmt *Sub : {&S->Body, &S->Else})
    Bits = std::max(Bits, widestStore(*Sub, Types));
  for (const Stmt &X : S->Stmts)
    Bits = std::max(Bits, widestStore(X, Types));
  return Bits;
}

/// Walks a kernel and appends directives for its innermost loops.
class Scheduler {
public:
  Scheduler(const Kernel &K, unsigned VectorBits)
      : VectorBits(VectorBits) {
    for (const BufferDecl &B : K.Params)
      Types.Scope.push_back({B.Name, B.Elem});
    collectLoopNames(K.Body, Names);
  }
  void visit(const Stmt &S);
  Schedule Sched;

private:
  void visitLoop(const StmtNode &L);
  unsigned VectorBits;
  BufferTypes Types;
  std::set<std::string> Names;
};

void Scheduler::visit(const Stmt &S) {
  if (!S)
    return;
  if (S->Kind == StmtKind::For) {
    visitLoop(*S);
    return;
  }
  bool Alloc = S->Kind == StmtKind::Allocate;
  if (Alloc)
    Types.Scope.push_back({S->Name, S->Elem});
  visit(S->Body);
  visit(S->Else);
  for (const Stmt &X : S->Stmts)
    visit(X);
  if (Alloc)
    Types.Scope.pop_back();
}

void Scheduler::visitLoop(const StmtNode &L) {
  if (!isStraightLine(L.Body)) {
    visit(L.Body); // not innermost (or holds an allocate): look inside
    return;
  }
  std::optional<int64_t> E = constInt(L.Extent);
  unsigned Bits = widestStore(L.Body, Types);
  if (!E || Bits == 0 || !canVectorizeLoop(L))
    return;
  int64_t Lanes = VectorBits / Bits;
  if (*E < Lanes) {
    Lanes = 1;
    while (Lanes * 2 <= *E)
      Lanes *= 2;
  }
  if (Lanes < 2)
    return;
  if (*E == Lanes) {
    Sched.push_back({Directive::Vectorize, {L.Name}, {}});
    return;
  }
  std::string Outer = freshName(L.Name + ".o", Names);
  std::string Inner = freshName(L.Name + ".i", Names);
  Sched.push_back({Directive::Split, {L.Name, Outer, Inner}, {Lanes}});
  Sched.push_back({Directive::Vectorize, {Inner}, {}});
}

} // namespace

llvm::Error tidal::defaultSchedule(Module &M, const PassOptions &Opts) {
  if (!M.P)
    return llvm::Error::success();
  if (Opts.OptLevel == 0)
    return llvm::Error::success();
  for (Kernel &K : M.P->Kernels) {
    if (!K.Sched.empty())
      continue;
    Scheduler S(K, Opts.VectorBits);
    S.visit(K.Body);
    K.Sched = std::move(S.Sched);
  }
  return llvm::Error::success();
}
