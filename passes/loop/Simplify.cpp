//===- Simplify.cpp - The simplify pass -----------------------------------===//
//
// Local simplifications that keep semantics exactly:
//   - integer arithmetic: i64 constants fold (+ - * wrap as the machine
//     does; / and % truncate, never by zero or INT64_MIN / -1; min, max and
//     comparisons), constants move to the right of + and *, nested constant
//     additions and multiplications combine ((x + 2) + 3 -> x + 5), and the
//     identities x+0, x-0, x*1, x*0, x/1, x%1 apply to every integer type;
//     an i64 difference of two sums that differ by a constant is that
//     constant (((%t + 3) * 8) - (%t * 8) -> 24, %t any term: a min, a load);
//   - floats: only x*1.0 and x/1.0, which are exact for every x;
//   - select and if on a constant condition pick their arm; not of a
//     constant folds; and/or with a constant bool operand simplify;
//   - loops of extent 0 and statements with empty bodies disappear; a loop
//     of extent 1 is replaced by its body with the variable set to the
//     loop's min (GPU-bound loops are kept: they shape the launch);
//   - sequences are flattened.
// Everything else, in particular any float arithmetic that could round
// differently, is left alone.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include "passes/loop/Bounds.h"
#include "passes/loop/LoopUtils.h"
#include <limits>

using namespace tidal;
using namespace tidal::loop;

namespace {

bool isInt(DataType T) {
  return !T.isVector() && !isFloat(T.Scalar) && T.Scalar != ScalarType::Bool;
}
bool isI64(DataType T) { return T == DataType(ScalarType::I64); }

bool isIntConst(const Expr &E, int64_t V) {
  return constInt(E) == V && isInt(E->Type);
}
bool isFloatOne(const Expr &E) {
  return E->Kind == ExprKind::FloatImm && !E->Type.isVector() &&
         E->FloatValue == 1.0;
}

int64_t wrapAdd(int64_t A, int64_t B) {
  return static_cast<int64_t>(static_cast<uint64_t>(A) + static_cast<uint64_t>(B));
}
int64_t wrapSub(int64_t A, int64_t B) {
  return static_cast<int64_t>(static_cast<uint64_t>(A) - static_cast<uint64_t>(B));
}
int64_t wrapMul(int64_t A, int64_t B) {
  return static_cast<int64_t>(static_cast<uint64_t>(A) * static_cast<uint64_t>(B));
}

/// Folds Op on two i64 constants, if that is exact and defined.
std::optional<Expr> foldConstants(BinaryOp Op, int64_t A, int64_t B) {
  DataType Bool(ScalarType::Bool);
  bool BadDiv = B == 0 || (A == std::numeric_limits<int64_t>::min() && B == -1);
  switch (Op) {
  case BinaryOp::Add: return intImm(wrapAdd(A, B));
  case BinaryOp::Sub: return intImm(wrapSub(A, B));
  case BinaryOp::Mul: return intImm(wrapMul(A, B));
  case BinaryOp::Div: return BadDiv ? std::nullopt : std::optional(intImm(A / B));
  case BinaryOp::Mod: return BadDiv ? std::nullopt : std::optional(intImm(A % B));
  case BinaryOp::Min: return intImm(std::min(A, B));
  case BinaryOp::Max: return intImm(std::max(A, B));
  case BinaryOp::LT: return intImm(A < B, Bool);
  case BinaryOp::LE: return intImm(A <= B, Bool);
  case BinaryOp::GT: return intImm(A > B, Bool);
  case BinaryOp::GE: return intImm(A >= B, Bool);
  case BinaryOp::EQ: return intImm(A == B, Bool);
  case BinaryOp::NE: return intImm(A != B, Bool);
  default: return std::nullopt;
  }
}

class Simplifier : public IRMutator {
public:
  using IRMutator::mutate;
  Expr mutate(const Expr &E) override;
  Stmt mutate(const Stmt &S) override;

private:
  Expr simplifyBinary(const Expr &E);
  std::optional<Expr> integerIdentity(BinaryOp Op, const Expr &A,
                                      const Expr &B);
  std::optional<Expr> reassociate(BinaryOp Op, const Expr &A, const Expr &B);
  Stmt simplifyFor(const Stmt &S);
  Stmt simplifyIf(const Stmt &S);
};

bool isEmpty(const Stmt &S) {
  return !S || (S->Kind == StmtKind::Seq && S->Stmts.empty());
}

Expr Simplifier::mutate(const Expr &EP) {
  if (!EP)
    return EP;
  Expr E = mutateChildren(EP);
  switch (E->Kind) {
  case ExprKind::Binary:
    return simplifyBinary(E);
  case ExprKind::Select:
    if (auto C = constInt(E->Operands[0]))
      return *C ? E->Operands[1] : E->Operands[2];
    return E;
  case ExprKind::Not:
    if (E->Type == DataType(ScalarType::Bool))
      if (auto C = constInt(E->Operands[0]))
        return intImm(!*C, E->Type);
    return E;
  default:
    return E;
  }
}

/// x+0, x-0, x*1, x*0, x/1, x%1 for any scalar integer type.
std::optional<Expr> Simplifier::integerIdentity(BinaryOp Op, const Expr &A,
                                                const Expr &B) {
  switch (Op) {
  case BinaryOp::Add:
  case BinaryOp::Sub:
    if (isIntConst(B, 0))
      return A;
    return std::nullopt;
  case BinaryOp::Mul:
    if (isIntConst(B, 1))
      return A;
    if (isIntConst(B, 0))
      return B;
    return std::nullopt;
  case BinaryOp::Div:
    if (isIntConst(B, 1))
      return A;
    return std::nullopt;
  case BinaryOp::Mod:
    if (isIntConst(B, 1))
      return intImm(0, A->Type);
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

/// (x + c1) + c2, (x - c1) + c2, (x + c1) - c2, (x - c1) - c2 and
/// (x * c1) * c2 on i64, with the constants combined (wrapping, which is
/// exact in two's complement).
std::optional<Expr> Simplifier::reassociate(BinaryOp Op, const Expr &A,
                                            const Expr &B) {
  auto C2 = constInt(B);
  if (!C2 || A->Kind != ExprKind::Binary)
    return std::nullopt;
  auto C1 = constInt(A->Operands[1]);
  if (!C1)
    return std::nullopt;
  const Expr &X = A->Operands[0];
  bool AddLike = Op == BinaryOp::Add || Op == BinaryOp::Sub;
  bool InnerAddLike = A->Op == BinaryOp::Add || A->Op == BinaryOp::Sub;
  if (AddLike && InnerAddLike) {
    int64_t Inner = A->Op == BinaryOp::Add ? *C1 : wrapSub(0, *C1);
    int64_t Outer = Op == BinaryOp::Add ? *C2 : wrapSub(0, *C2);
    return mutate(binary(BinaryOp::Add, X, intImm(wrapAdd(Inner, Outer))));
  }
  if (Op == BinaryOp::Mul && A->Op == BinaryOp::Mul)
    return mutate(binary(BinaryOp::Mul, X, intImm(wrapMul(*C1, *C2))));
  return std::nullopt;
}

/// and/or with a constant scalar bool operand.
std::optional<Expr> boolIdentity(BinaryOp Op, const Expr &A, const Expr &B) {
  if (Op != BinaryOp::And && Op != BinaryOp::Or)
    return std::nullopt;
  for (auto [C, X] : {std::pair(A, B), std::pair(B, A)}) {
    auto V = constInt(C);
    if (!V)
      continue;
    bool Absorbs = (Op == BinaryOp::And) == (*V == 0);
    return Absorbs ? C : X;
  }
  return std::nullopt;
}

Expr Simplifier::simplifyBinary(const Expr &E) {
  Expr A = E->Operands[0], B = E->Operands[1];
  BinaryOp Op = E->Op;
  if (isInt(A->Type)) {
    bool Commutes = Op == BinaryOp::Add || Op == BinaryOp::Mul;
    if (Commutes && constInt(A) && !constInt(B))
      std::swap(A, B);
    if (isI64(A->Type) && constInt(A) && constInt(B))
      if (auto R = foldConstants(Op, *constInt(A), *constInt(B)))
        return *R;
    if (auto R = integerIdentity(Op, A, B))
      return *R;
    if (isI64(A->Type))
      if (auto R = reassociate(Op, A, B))
        return *R;
    // (x + c) - x, for any x: a tile's index past the tile's start.
    if (Op == BinaryOp::Sub && A->Type == DataType(ScalarType::I64))
      if (std::optional<int64_t> D = difference(B, A))
        return intImm(*D);
    if (A != E->Operands[0])
      return binary(Op, A, B);
    return E;
  }
  if (A->Type == DataType(ScalarType::Bool))
    if (auto R = boolIdentity(Op, A, B))
      return *R;
  if (isFloat(A->Type.Scalar) && !A->Type.isVector()) {
    if ((Op == BinaryOp::Mul || Op == BinaryOp::Div) && isFloatOne(B))
      return A;
    if (Op == BinaryOp::Mul && isFloatOne(A))
      return B;
  }
  return E;
}

Stmt Simplifier::simplifyFor(const Stmt &S) {
  auto Extent = constInt(S->Extent);
  bool Gpu = S->Loop == ForKind::GpuBlock || S->Loop == ForKind::GpuThread;
  if ((Extent && *Extent <= 0) || isEmpty(S->Body))
    return seq({});
  if (Extent == 1 && !Gpu)
    return mutate(substitute(S->Body, S->Name, S->Min));
  return S;
}

Stmt Simplifier::simplifyIf(const Stmt &S) {
  if (auto C = constInt(S->Cond))
    return *C ? S->Body : (S->Else ? S->Else : seq({}));
  if (isEmpty(S->Body) && isEmpty(S->Else))
    return seq({});
  return S;
}

Stmt Simplifier::mutate(const Stmt &SP) {
  if (!SP)
    return SP;
  Stmt S = mutateChildren(SP);
  switch (S->Kind) {
  case StmtKind::For:
    return simplifyFor(S);
  case StmtKind::If:
    return simplifyIf(S);
  case StmtKind::Let:
  case StmtKind::Allocate:
    return isEmpty(S->Body) ? seq({}) : S;
  case StmtKind::Seq: {
    Stmt Flat = seq(S->Stmts);
    if (Flat->Kind == StmtKind::Seq && Flat->Stmts.size() == S->Stmts.size() &&
        std::equal(Flat->Stmts.begin(), Flat->Stmts.end(), S->Stmts.begin()))
      return S;
    return Flat;
  }
  case StmtKind::Store:
  case StmtKind::Prefetch:
    return S;
  }
  return S;
}

} // namespace

llvm::Error tidal::simplify(Module &M, const PassOptions &) {
  if (!M.P)
    return llvm::Error::success();
  for (Kernel &K : M.P->Kernels)
    K.Body = Simplifier().mutate(K.Body);
  return llvm::Error::success();
}
