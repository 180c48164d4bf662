//===- Bounds.cpp - Interval arithmetic on index expressions -------------===//
//
// The symbolic bounds of i64 index expressions, as compute_at's bounds
// inference and pack's index splitting need them (Bounds.h).
//
//===----------------------------------------------------------------------===//

#include "passes/loop/Bounds.h"
#include "passes/loop/LoopUtils.h"

using namespace tidal;
using namespace tidal::loop;

namespace {

/// An i64 expression as a sum of Coef x Term plus a constant, where the
/// terms are its largest subexpressions that are not sums, differences or
/// products by a constant (so X * 3 + (X + 1) * 2 is 5 X + 2).
struct LinearForm {
  std::vector<std::pair<Expr, int64_t>> Terms;
  int64_t Constant = 0;

  void add(const Expr &E, int64_t Scale) {
    if (std::optional<int64_t> C = constInt(E)) {
      Constant += Scale * *C;
      return;
    }
    if (E->Kind == ExprKind::Binary) {
      const Expr &A = E->Operands[0], &B = E->Operands[1];
      switch (E->Op) {
      case BinaryOp::Add:
        add(A, Scale);
        add(B, Scale);
        return;
      case BinaryOp::Sub:
        add(A, Scale);
        add(B, -Scale);
        return;
      case BinaryOp::Mul:
        if (std::optional<int64_t> C = constInt(B))
          return add(A, Scale * *C);
        if (std::optional<int64_t> C = constInt(A))
          return add(B, Scale * *C);
        break;
      default:
        break;
      }
    }
    for (auto &[Term, Coef] : Terms)
      if (exprEqual(Term, E)) {
        Coef += Scale;
        return;
      }
    Terms.push_back({E, Scale});
  }
};

} // namespace

std::optional<int64_t> loop::difference(const Expr &A, const Expr &B) {
  LinearForm F;
  F.add(B, 1);
  F.add(A, -1);
  for (const auto &Term : F.Terms)
    if (Term.second != 0)
      return std::nullopt;
  return F.Constant;
}
Expr loop::plus(const Expr &A, const Expr &B) {
  std::optional<int64_t> X = constInt(A), Y = constInt(B);
  if (X && Y)
    return intImm(*X + *Y);
  if (Y && *Y == 0)
    return A;
  if (X && *X == 0)
    return B;
  if (Y && A->Kind == ExprKind::Binary && A->Op == BinaryOp::Add)
    if (std::optional<int64_t> Z = constInt(A->Operands[1]))
      return plus(A->Operands[0], intImm(*Z + *Y));
  return A + B;
}
Expr loop::minus(const Expr &A, const Expr &B) {
  if (std::optional<int64_t> D = difference(B, A))
    return intImm(*D);
  std::optional<int64_t> Y = constInt(B);
  if (Y)
    return plus(A, intImm(-*Y));
  // (B + X) - B is X.
  if (A->Kind == ExprKind::Binary && A->Op == BinaryOp::Add &&
      exprEqual(A->Operands[0], B))
    return A->Operands[1];
  return A - B;
}
Expr loop::times(const Expr &A, int64_t C) {
  std::optional<int64_t> X = constInt(A);
  return X ? intImm(*X * C) : C == 1 ? A : A * C;
}

Expr loop::lower(const Expr &A, const Expr &B) {
  std::optional<int64_t> D = difference(A, B);
  return D ? (*D >= 0 ? A : B) : min(A, B);
}
Expr loop::upper(const Expr &A, const Expr &B) {
  std::optional<int64_t> D = difference(A, B);
  return D ? (*D >= 0 ? B : A) : max(A, B);
}

Ranges loop::loopRanges(const std::vector<const StmtNode *> &Loops) {
  Ranges R;
  for (const StmtNode *L : Loops) {
    std::optional<int64_t> Min = constInt(L->Min), Ext = constInt(L->Extent);
    if (Min && Ext && *Ext > 0)
      R[L->Name] = {intImm(*Min), intImm(*Min + *Ext - 1)};
  }
  return R;
}

std::optional<Interval> loop::bounds(const Expr &E, const Ranges &R) {
  if (E->Type != DataType(ScalarType::I64))
    return std::nullopt;
  if (E->Kind == ExprKind::IntImm)
    return Interval{E, E};
  if (E->Kind == ExprKind::Var) {
    auto It = R.find(E->Name);
    return It == R.end() ? Interval{E, E} : It->second;
  }
  if (E->Kind != ExprKind::Binary)
    return std::nullopt;
  auto A = bounds(E->Operands[0], R), B = bounds(E->Operands[1], R);
  if (!A || !B)
    return std::nullopt;
  switch (E->Op) {
  case BinaryOp::Add:
    return Interval{plus(A->Lo, B->Lo), plus(A->Hi, B->Hi)};
  case BinaryOp::Sub:
    return Interval{minus(A->Lo, B->Hi), minus(A->Hi, B->Lo)};
  case BinaryOp::Mul: {
    std::optional<int64_t> C = constInt(E->Operands[1]);
    Interval X = *A;
    if (!C) {
      C = constInt(E->Operands[0]);
      X = *B;
    }
    if (!C)
      return std::nullopt;
    return *C >= 0 ? Interval{times(X.Lo, *C), times(X.Hi, *C)}
                   : Interval{times(X.Hi, *C), times(X.Lo, *C)};
  }
  case BinaryOp::Min:
    return Interval{lower(A->Lo, B->Lo), lower(A->Hi, B->Hi)};
  case BinaryOp::Max:
    return Interval{upper(A->Lo, B->Lo), upper(A->Hi, B->Hi)};
  default:
    return std::nullopt;
  }
}

namespace {

/// The region of buffer Buf (one interval per dimension) that a statement
/// reads (and, with Stores, writes), with the loops and lets inside it
/// ranging.
class RegionFinder {
public:
  RegionFinder(std::string Buf, size_t Rank, bool Stores)
      : Buf(std::move(Buf)), Rank(Rank), Stores(Stores) {}
  bool visit(const Stmt &S);
  std::vector<Interval> Region;
  std::string Why;

private:
  bool expr(const Expr &E);
  bool fail(const std::string &Msg) {
    if (Why.empty())
      Why = Msg;
    return false;
  }
  bool note(const std::vector<Expr> &Indices);
  std::string Buf;
  size_t Rank;
  bool Stores;
  Ranges R;
};

bool RegionFinder::expr(const Expr &E) {
  if (!E)
    return true;
  for (const Expr &Op : E->Operands)
    if (!expr(Op))
      return false;
  if (E->Kind != ExprKind::Load || E->Name != Buf)
    return true;
  return note(E->Operands);
}

/// Adds the interval of one access's indices to the region.
bool RegionFinder::note(const std::vector<Expr> &Indices) {
  if (Indices.size() != Rank)
    return fail("it is accessed at a flat index, not one per dimension");
  for (size_t D = 0; D < Rank; ++D) {
    std::optional<Interval> I = bounds(Indices[D], R);
    if (!I)
      return fail("its index in dimension " + std::to_string(D) +
                  " is not built from +, -, * by a constant, min and max");
    if (Region.size() <= D)
      Region.push_back(*I);
    else
      Region[D] = {lower(Region[D].Lo, I->Lo), upper(Region[D].Hi, I->Hi)};
  }
  return true;
}

bool RegionFinder::visit(const Stmt &S) {
  if (!S)
    return true;
  switch (S->Kind) {
  case StmtKind::For: {
    if (!expr(S->Min) || !expr(S->Extent))
      return false;
    auto Lo = bounds(S->Min, R), Ext = bounds(S->Extent, R);
    if (!Lo || !Ext)
      return fail("the bounds of loop '%" + S->Name + "' are not affine");
    R[S->Name] = {Lo->Lo, plus(Lo->Hi, minus(Ext->Hi, intImm(1)))};
    bool Ok = visit(S->Body);
    R.erase(S->Name);
    return Ok;
  }
  case StmtKind::Let: {
    if (!expr(S->Value))
      return false;
    bool IsIndex = S->Value->Type == DataType(ScalarType::I64);
    auto V = IsIndex ? bounds(S->Value, R) : std::nullopt;
    if (IsIndex && !V)
      return fail("let '%" + S->Name + "' is not affine");
    if (V)
      R[S->Name] = *V;
    bool Ok = visit(S->Body);
    R.erase(S->Name);
    return Ok;
  }
  case StmtKind::Store:
    for (const Expr &I : S->Indices)
      if (!expr(I))
        return false;
    if (S->Name == Buf && !Stores)
      return fail("it is written there");
    if (S->Name == Buf && !note(S->Indices))
      return false;
    return expr(S->Value);
  case StmtKind::If:
    return expr(S->Cond) && visit(S->Body) && visit(S->Else);
  case StmtKind::Prefetch: // reads nothing itself
    for (const Expr &I : S->Indices)
      if (!expr(I))
        return false;
    return true;
  case StmtKind::Allocate:
    return visit(S->Body);
  case StmtKind::Seq:
    for (const Stmt &X : S->Stmts)
      if (!visit(X))
        return false;
    return true;
  }
  return true;
}

} // namespace

std::optional<std::vector<Interval>>
loop::accessRegion(const Stmt &S, const std::string &Buf, size_t Rank,
                   bool Stores, std::string &Why) {
  RegionFinder F(Buf, Rank, Stores);
  if (!F.visit(S)) {
    Why = F.Why;
    return std::nullopt;
  }
  return F.Region;
}
