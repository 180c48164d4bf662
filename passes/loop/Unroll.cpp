//===- Unroll.cpp - The unroll pass ---------------------------------------===//
//
// Expands every `unrolled` loop of constant bounds into copies of its body,
// one per iteration, with the loop variable replaced by the iteration's
// value, so that later passes see straight-line code: a vectorized loop
// around an unrolled one becomes vectorizable, and simplify folds the
// constant indices. Each copy gets fresh names for the loops, lets and
// local buffers it binds (loop names stay unique in the kernel, as
// schedules and the vectorizer need). Loops are expanded innermost first.
//
// A loop whose extent is a constant is expanded whatever its start: copy K
// gets `min + K` (a tile computed at a loop over tiles starts where that
// loop's iteration puts it, and simplify cancels the start from the local
// indices). A loop of more than MaxUnrolled iterations, or of an extent
// known only at run time, stays an `unrolled` loop: codegen passes it to
// LLVM as an unroll hint.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include "passes/loop/LoopUtils.h"
#include <map>

using namespace tidal;
using namespace tidal::loop;

namespace {

/// The most iterations the pass expands.
constexpr int64_t MaxUnrolled = 64;

/// Adds every name S binds (loops, lets, local buffers) to Names.
void collectBinders(const Stmt &S, std::set<std::string> &Names) {
  if (!S)
    return;
  if (S->Kind == StmtKind::For || S->Kind == StmtKind::Let ||
      S->Kind == StmtKind::Allocate)
    Names.insert(S->Name);
  collectBinders(S->Body, Names);
  collectBinders(S->Else, Names);
  for (const Stmt &X : S->Stmts)
    collectBinders(X, Names);
}

/// A copy of a statement in which every binder gets a fresh name (its old
/// one plus Suffix) and every use in its scope follows.
class BinderRenamer : public IRMutator {
public:
  BinderRenamer(std::string Suffix, std::set<std::string> &Used)
      : Suffix(std::move(Suffix)), Used(Used) {}
  using IRMutator::mutate;

  Expr mutate(const Expr &E) override {
    if (!E)
      return E;
    Expr New = IRMutator::mutate(E);
    auto It = Renamed.find(New->Name);
    if ((New->Kind != ExprKind::Var && New->Kind != ExprKind::Load) ||
        It == Renamed.end())
      return New;
    auto N = std::make_shared<ExprNode>(*New);
    N->Name = It->second;
    return N;
  }

  Stmt mutate(const Stmt &S) override {
    if (!S)
      return S;
    bool Binds = S->Kind == StmtKind::For || S->Kind == StmtKind::Let ||
                 S->Kind == StmtKind::Allocate;
    if (!Binds) {
      Stmt New = IRMutator::mutate(S);
      auto It = Renamed.find(New->Name);
      if (New->Kind != StmtKind::Store || It == Renamed.end())
        return New;
      auto N = std::make_shared<StmtNode>(*New);
      N->Name = It->second;
      return N;
    }
    // The binder's own value and bounds are outside its scope.
    auto N = std::make_shared<StmtNode>(*S);
    N->Min = mutate(S->Min);
    N->Extent = mutate(S->Extent);
    N->Value = mutate(S->Value);
    N->Name = freshName(S->Name + Suffix, Used);
    auto Saved = Renamed.find(S->Name) == Renamed.end()
                     ? std::optional<std::string>()
                     : std::optional<std::string>(Renamed[S->Name]);
    Renamed[S->Name] = N->Name;
    N->Body = mutate(S->Body);
    if (Saved)
      Renamed[S->Name] = *Saved;
    else
      Renamed.erase(S->Name);
    return N;
  }

private:
  std::string Suffix;
  std::set<std::string> &Used;
  std::map<std::string, std::string> Renamed;
};

/// Expands the unrolled loops of one kernel.
class Unroller : public IRMutator {
public:
  explicit Unroller(std::set<std::string> &Used) : Used(Used) {}
  using IRMutator::mutate;

  Stmt mutate(const Stmt &S) override {
    Stmt New = IRMutator::mutate(S); // innermost first
    if (!New || New->Kind != StmtKind::For ||
        New->Loop != ForKind::Unrolled)
      return New;
    std::optional<int64_t> E = constInt(New->Extent);
    if (!E || *E > MaxUnrolled)
      return New;
    std::optional<int64_t> Min = constInt(New->Min);
    std::vector<Stmt> Copies;
    for (int64_t K = 0; K < *E; ++K) {
      Expr At = Min ? intImm(*Min + K) : K ? New->Min + intImm(K) : New->Min;
      Stmt Body = substitute(New->Body, New->Name, At);
      Copies.push_back(
          BinderRenamer(".u" + std::to_string(K), Used).mutate(Body));
    }
    return seq(std::move(Copies));
  }

private:
  std::set<std::string> &Used;
};

} // namespace

llvm::Error tidal::unroll(Module &M, const PassOptions &) {
  if (!M.P)
    return llvm::Error::success();
  for (Kernel &K : M.P->Kernels) {
    std::set<std::string> Used;
    for (const BufferDecl &B : K.Params)
      Used.insert(B.Name);
    collectBinders(K.Body, Used);
    K.Body = Unroller(Used).mutate(K.Body);
  }
  return llvm::Error::success();
}
