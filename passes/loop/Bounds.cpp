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
  std::optional<int64_t> Y = constInt(B);
  return Y ? plus(A, intImm(-*Y)) : A - B;
}
Expr loop::times(const Expr &A, int64_t C) {
  std::optional<int64_t> X = constInt(A);
  return X ? intImm(*X * C) : C == 1 ? A : A * C;
}

/// C when B is A + C (C a constant), for picking the smaller or larger of
/// two bounds without a min or max.
static std::optional<int64_t> offset(const Expr &A, const Expr &B) {
  std::optional<int64_t> X = constInt(A), Y = constInt(B);
  if (X && Y)
    return *Y - *X;
  if (exprEqual(A, B))
    return 0;
  if (B->Kind == ExprKind::Binary && B->Op == BinaryOp::Add &&
      exprEqual(B->Operands[0], A))
    return constInt(B->Operands[1]);
  if (A->Kind == ExprKind::Binary && A->Op == BinaryOp::Add &&
      exprEqual(A->Operands[0], B))
    if (std::optional<int64_t> C = constInt(A->Operands[1]))
      return -*C;
  return std::nullopt;
}
Expr loop::lower(const Expr &A, const Expr &B) {
  std::optional<int64_t> D = offset(A, B);
  return D ? (*D >= 0 ? A : B) : min(A, B);
}
Expr loop::upper(const Expr &A, const Expr &B) {
  std::optional<int64_t> D = offset(A, B);
  return D ? (*D >= 0 ? B : A) : max(A, B);
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

