//===- LoopUtils.cpp - Helpers shared by the loop-level passes ------------===//

#include "passes/loop/LoopUtils.h"
#include "passes/loop/Bounds.h"
#include <map>

using namespace tidal;
using namespace tidal::loop;

//===----------------------------------------------------------------------===//
// IRMutator
//===----------------------------------------------------------------------===//

Expr IRMutator::mutateChildren(const Expr &E) {
  std::vector<Expr> Ops;
  bool Changed = false;
  for (const Expr &Op : E->Operands) {
    Ops.push_back(mutate(Op));
    Changed |= Ops.back() != Op;
  }
  if (!Changed)
    return E;
  auto N = std::make_shared<ExprNode>(*E);
  N->Operands = std::move(Ops);
  return N;
}

Stmt IRMutator::mutateChildren(const Stmt &S) {
  auto N = std::make_shared<StmtNode>(*S);
  bool Changed = false;
  auto MutE = [&](Expr &E) {
    if (!E)
      return;
    Expr New = mutate(E);
    Changed |= New != E;
    E = New;
  };
  auto MutS = [&](Stmt &X) {
    if (!X)
      return;
    Stmt New = mutate(X);
    Changed |= New != X;
    X = New;
  };
  MutE(N->Min);
  MutE(N->Extent);
  for (Expr &I : N->Indices)
    MutE(I);
  MutE(N->Value);
  MutE(N->Cond);
  MutS(N->Body);
  MutS(N->Else);
  for (Stmt &X : N->Stmts)
    MutS(X);
  if (!Changed)
    return S;
  return N;
}

//===----------------------------------------------------------------------===//
// Queries and substitution
//===----------------------------------------------------------------------===//

std::optional<int64_t> loop::constInt(const Expr &E) {
  if (E && E->Kind == ExprKind::IntImm && !E->Type.isVector())
    return E->IntValue;
  return std::nullopt;
}

bool loop::usesVar(const Expr &E, llvm::StringRef Name) {
  if (!E)
    return false;
  if (E->Kind == ExprKind::Var && E->Name == Name)
    return true;
  for (const Expr &Op : E->Operands)
    if (usesVar(Op, Name))
      return true;
  return false;
}

bool loop::usesVar(const Stmt &S, llvm::StringRef Name) {
  if (!S)
    return false;
  if (usesVar(S->Min, Name) || usesVar(S->Extent, Name) ||
      usesVar(S->Value, Name) || usesVar(S->Cond, Name))
    return true;
  for (const Expr &I : S->Indices)
    if (usesVar(I, Name))
      return true;
  bool Binds = (S->Kind == StmtKind::For || S->Kind == StmtKind::Let) &&
               S->Name == Name;
  if (!Binds && usesVar(S->Body, Name))
    return true;
  if (usesVar(S->Else, Name))
    return true;
  for (const Stmt &X : S->Stmts)
    if (usesVar(X, Name))
      return true;
  return false;
}

namespace {
/// Replaces free occurrences of one variable.
class Substituter : public IRMutator {
public:
  Substituter(llvm::StringRef Name, const Expr &Repl) : Name(Name), Repl(Repl) {}
  using IRMutator::mutate;
  Expr mutate(const Expr &E) override {
    if (E && E->Kind == ExprKind::Var && E->Name == Name)
      return Repl;
    return IRMutator::mutate(E);
  }
  Stmt mutate(const Stmt &S) override {
    if (!S)
      return S;
    bool Binds = (S->Kind == StmtKind::For || S->Kind == StmtKind::Let) &&
                 S->Name == Name;
    if (!Binds)
      return IRMutator::mutate(S);
    // The binding's own bounds/value see the outer variable; the body does not.
    auto N = std::make_shared<StmtNode>(*S);
    N->Min = mutate(S->Min);
    N->Extent = mutate(S->Extent);
    N->Value = mutate(S->Value);
    return N;
  }

private:
  llvm::StringRef Name;
  const Expr &Repl;
};
} // namespace

Expr loop::substitute(const Expr &E, llvm::StringRef Name, const Expr &Repl) {
  return Substituter(Name, Repl).mutate(E);
}

Stmt loop::substitute(const Stmt &S, llvm::StringRef Name, const Expr &Repl) {
  return Substituter(Name, Repl).mutate(S);
}

//===----------------------------------------------------------------------===//
// Loop names
//===----------------------------------------------------------------------===//

void loop::collectLoopNames(const Stmt &S, std::set<std::string> &Names) {
  if (!S)
    return;
  if (S->Kind == StmtKind::For)
    Names.insert(S->Name);
  collectLoopNames(S->Body, Names);
  collectLoopNames(S->Else, Names);
  for (const Stmt &X : S->Stmts)
    collectLoopNames(X, Names);
}

std::string loop::freshName(const std::string &Hint, std::set<std::string> &Used) {
  std::string Name = Hint;
  for (unsigned N = 1; Used.count(Name); ++N)
    Name = Hint + "." + std::to_string(N);
  Used.insert(Name);
  return Name;
}

namespace {
class LoopRenamer : public IRMutator {
public:
  LoopRenamer(llvm::StringRef Suffix, std::set<std::string> &Used)
      : Suffix(Suffix), Used(Used) {}
  using IRMutator::mutate;
  Stmt mutate(const Stmt &S) override {
    if (!S || S->Kind != StmtKind::For)
      return IRMutator::mutate(S);
    std::string New = freshName(S->Name + Suffix.str(), Used);
    auto N = std::make_shared<StmtNode>(*S);
    N->Name = New;
    N->Body = mutate(substitute(S->Body, S->Name, var(New)));
    return N;
  }

private:
  llvm::StringRef Suffix;
  std::set<std::string> &Used;
};
} // namespace

Stmt loop::renameLoops(const Stmt &S, llvm::StringRef Suffix,
                       std::set<std::string> &Used) {
  return LoopRenamer(Suffix, Used).mutate(S);
}

std::vector<const StmtNode *> loop::perfectNest(const Stmt &S) {
  std::vector<const StmtNode *> Chain;
  for (const StmtNode *L = S.get(); L && L->Kind == StmtKind::For;
       L = L->Body.get())
    Chain.push_back(L);
  return Chain;
}

std::vector<const StmtNode *> loop::loopsTo(const Stmt &S,
                                            const std::string &Name) {
  if (!S)
    return {};
  if (S->Kind == StmtKind::For && S->Name == Name)
    return {S.get()};
  std::vector<const Stmt *> Subs = {&S->Body, &S->Else};
  for (const Stmt &X : S->Stmts)
    Subs.push_back(&X);
  for (const Stmt *X : Subs) {
    std::vector<const StmtNode *> Path = loopsTo(*X, Name);
    if (Path.empty())
      continue;
    if (S->Kind == StmtKind::For)
      Path.insert(Path.begin(), S.get());
    return Path;
  }
  return {};
}

Stmt loop::withLoopBody(const Stmt &Body, const std::string &Loop, Stmt New) {
  struct Replace : IRMutator {
    const std::string &Name;
    Stmt New;
    Replace(const std::string &Name, Stmt New) : Name(Name), New(New) {}
    using IRMutator::mutate;
    Stmt mutate(const Stmt &S) override {
      if (!S || S->Kind != StmtKind::For || S->Name != Name)
        return IRMutator::mutate(S);
      return forLoop(S->Name, S->Min, S->Extent, S->Loop, New);
    }
  };
  return Replace(Loop, std::move(New)).mutate(Body);
}

static void collectLoads(const Expr &E, std::set<std::string> &Loaded) {
  if (!E)
    return;
  if (E->Kind == ExprKind::Load)
    Loaded.insert(E->Name);
  for (const Expr &Op : E->Operands)
    collectLoads(Op, Loaded);
}

void loop::collectAccesses(const Stmt &S, std::set<std::string> &Loaded,
                           std::set<std::string> &Stored,
                           std::set<std::string> *Allocated) {
  if (!S)
    return;
  if (S->Kind == StmtKind::Store)
    Stored.insert(S->Name);
  if (S->Kind == StmtKind::Allocate && Allocated)
    Allocated->insert(S->Name);
  for (const Expr &E : {S->Min, S->Extent, S->Value, S->Cond})
    collectLoads(E, Loaded);
  for (const Expr &E : S->Indices)
    collectLoads(E, Loaded);
  collectAccesses(S->Body, Loaded, Stored, Allocated);
  collectAccesses(S->Else, Loaded, Stored, Allocated);
  for (const Stmt &X : S->Stmts)
    collectAccesses(X, Loaded, Stored, Allocated);
}

//===----------------------------------------------------------------------===//
// Vectorization legality
//===----------------------------------------------------------------------===//

namespace {

/// Walks a loop body and decides whether it vectorizes.
class VectorLegality {
public:
  VectorLegality(const std::string &LoopVar, std::optional<int64_t> Extent)
      : Extent(Extent) {
    Strides[LoopVar] = 1;
  }
  bool check(const Stmt &S);
  bool checkLoads();
  std::string Why;

private:
  bool fail(const std::string &Msg) {
    if (Why.empty())
      Why = Msg;
    return false;
  }
  /// The constant coefficient of the loop variable in E if E is affine in
  /// it (0: E does not depend on it); nullopt if not affine.
  std::optional<int64_t> stride(const Expr &E) const;
  bool dependent(const Expr &E) const;
  bool checkExpr(const Expr &E);
  bool noteAccess(const std::string &Buffer, const Expr &Index);
  bool disjointStores(const std::string &Buffer, const Expr &Index,
                      int64_t Stride);

  /// The loop's constant extent, if it has one.
  std::optional<int64_t> Extent;

  /// Affine strides of the loop var and of the lets that depend on it;
  /// nullopt for a dependent let that is not affine.
  std::map<std::string, std::optional<int64_t>> Strides;
  /// The indices each buffer is stored at, with their strides.
  std::map<std::string, std::vector<std::pair<Expr, int64_t>>> StoreIndex;
  std::vector<std::pair<std::string, Expr>> Loads;
  std::set<std::string> LetNames;
};

/// A buffer both stored and loaded must be read at a stored index only, or
/// lanes would see each other's writes in another order than the loop.
/// (Stores at different indices write disjoint elements, disjointStores,
/// so a lane reading a stored index sees only its own write.)
bool VectorLegality::checkLoads() {
  for (const auto &[Buffer, Index] : Loads) {
    auto It = StoreIndex.find(Buffer);
    if (It == StoreIndex.end())
      continue;
    bool Stored = false;
    for (const auto &Store : It->second)
      Stored |= exprEqual(Store.first, Index);
    if (!Stored)
      return fail("'%" + Buffer + "' is loaded at another index than stored");
  }
  return true;
}

/// Whether a store to Buffer at Index (of Stride in the loop variable)
/// writes, over all iterations, no element that the buffer's earlier stores
/// in the body write: vector code runs each store for all lanes before the
/// next, so two stores may only share a buffer when no element is written
/// by both (a Winograd tile's outputs, a row and the next). Index and an
/// earlier index I with the same stride S write the same element for
/// iterations i and j when Index - I = S (j - i): never if the difference
/// is a constant that is not a multiple of S, or one of at least S times
/// the extent. The same index twice is the same lane's element twice.
bool VectorLegality::disjointStores(const std::string &Buffer,
                                    const Expr &Index, int64_t Stride) {
  for (const auto &[Earlier, EarlierStride] : StoreIndex[Buffer]) {
    std::optional<int64_t> D = difference(Earlier, Index);
    bool Disjoint = D && EarlierStride == Stride &&
                    (*D == 0 || *D % Stride != 0 ||
                     (Extent && std::abs(*D / Stride) >= *Extent));
    if (!Disjoint)
      return fail("'%" + Buffer +
                  "' is stored at two indices that may overlap");
  }
  StoreIndex[Buffer].push_back({Index, Stride});
  return true;
}

bool VectorLegality::dependent(const Expr &E) const {
  if (!E)
    return false;
  if (E->Kind == ExprKind::Var && Strides.count(E->Name))
    return true;
  for (const Expr &Op : E->Operands)
    if (dependent(Op))
      return true;
  return false;
}

std::optional<int64_t> VectorLegality::stride(const Expr &E) const {
  if (!dependent(E))
    return 0;
  if (E->Type != DataType(ScalarType::I64))
    return std::nullopt;
  if (E->Kind == ExprKind::Var)
    return Strides.at(E->Name);
  if (E->Kind != ExprKind::Binary)
    return std::nullopt;
  auto A = stride(E->Operands[0]), B = stride(E->Operands[1]);
  if (!A || !B)
    return std::nullopt;
  switch (E->Op) {
  case BinaryOp::Add:
    return *A + *B;
  case BinaryOp::Sub:
    return *A - *B;
  case BinaryOp::Mul:
    if (*A == 0 && constInt(E->Operands[0]))
      return *B * *constInt(E->Operands[0]);
    if (*B == 0 && constInt(E->Operands[1]))
      return *A * *constInt(E->Operands[1]);
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

bool VectorLegality::checkExpr(const Expr &E) {
  if (E->Type.isVector())
    return fail("the body already holds vector values");
  if (E->Kind == ExprKind::Load && E->Operands.size() != 1)
    return fail("'%" + E->Name + "' is loaded at a multi-dimensional index");
  if (E->Kind == ExprKind::Load)
    Loads.push_back({E->Name, E->Operands[0]});
  for (const Expr &Op : E->Operands)
    if (!checkExpr(Op))
      return false;
  return true;
}

bool VectorLegality::check(const Stmt &S) {
  switch (S->Kind) {
  case StmtKind::Seq:
    for (const Stmt &X : S->Stmts)
      if (!check(X))
        return false;
    return true;
  case StmtKind::Let: {
    if (!checkExpr(S->Value))
      return false;
    if (!LetNames.insert(S->Name).second)
      return fail("two lets bind '%" + S->Name + "'");
    if (dependent(S->Value))
      Strides[S->Name] = stride(S->Value);
    else
      Strides.erase(S->Name);
    return check(S->Body);
  }
  case StmtKind::Store: {
    if (S->Indices.size() != 1)
      return fail("'%" + S->Name + "' is stored at a multi-dimensional index");
    if (!checkExpr(S->index()) || !checkExpr(S->Value))
      return false;
    auto St = stride(S->index());
    if (!St || *St == 0)
      return fail("store to '%" + S->Name +
                  "' is not at an affine index of non-zero stride");
    return disjointStores(S->Name, S->index(), *St);
  }
  case StmtKind::For:
    return fail("the body holds a loop");
  case StmtKind::If:
    return fail("the body holds an if");
  case StmtKind::Allocate:
    return fail("the body holds an allocate");
  case StmtKind::Prefetch:
    return fail("the body holds a prefetch");
  }
  return false;
}

} // namespace

bool loop::canVectorizeLoop(const StmtNode &L, std::string *Why) {
  VectorLegality V(L.Name, constInt(L.Extent));
  bool Ok = L.Body && V.check(L.Body) && V.checkLoads();
  if (!Ok && Why)
    *Why = V.Why;
  return Ok;
}

bool loop::readsWhatItWrites(const Stmt &S) {
  std::set<std::string> Loaded, Stored, Local;
  collectAccesses(S, Loaded, Stored, &Local);
  for (const std::string &B : Stored)
    if (!Local.count(B) && Loaded.count(B))
      return true;
  return false;
}
