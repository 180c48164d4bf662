//===- Vectorize.cpp - The vectorize pass ---------------------------------===//
//
// Turns every For of kind Vectorized with a constant extent L (2 to 64
// lanes) into vector code without a loop: the loop variable becomes
// ramp(min, 1, L) and the body is lifted. Subexpressions that do not depend
// on the variable stay scalar and are broadcast where they meet vector
// ones; i64 arithmetic that is affine in the variable stays a Ramp, so a
// Load or Store at an affine index keeps a ramp index (codegen turns
// stride-1 ramps into vector loads and stores, others into gathers and
// scatters); other vector indices are gathers. Calls get vector types and
// are scalarized by codegen. A Let whose value becomes a ramp or broadcast
// is substituted into its body; one whose value becomes another vector
// binds a vector variable.
//
// A loop that cannot be vectorized (see canVectorizeLoop: nested loops,
// ifs, allocates, a store index that is not affine with non-zero stride,
// a buffer accessed at two indices, values that are already vectors), or
// whose extent is not a constant from 2 to 64, is left as a Serial loop:
// correctness first, never an error. Loops are handled innermost first.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "passes/PassRegistry.h"
#include "passes/loop/LoopUtils.h"
#include <map>

using namespace tidal;
using namespace tidal::loop;

namespace {

constexpr int64_t MaxLanes = 64;

/// Lifts the body of one loop to L lanes.
class Lifter {
public:
  Lifter(const StmtNode &Loop, unsigned Lanes) : Lanes(Lanes) {
    Env[Loop.Name] = ramp(Loop.Min, intImm(1), Lanes);
  }
  Expr lift(const Expr &E);
  Stmt lift(const Stmt &S);

private:
  Expr widen(const Expr &E) {
    return E->Type.isVector() ? E : broadcast(E, Lanes);
  }
  Expr liftBinary(const ExprNode &E);
  std::optional<Expr> affine(BinaryOp Op, const Expr &A, const Expr &B);
  Expr liftOperands(const ExprNode &E);

  unsigned Lanes;
  /// Variables whose value is a vector, by name.
  std::map<std::string, Expr> Env;
};

bool isRamp(const Expr &E) { return E->Kind == ExprKind::Ramp; }

/// A + B, A - B and A * B on scalar i64, folding constants, zeros and ones
/// so that ramp bases and strides stay readable.
Expr addI(const Expr &A, const Expr &B) {
  if (constInt(A) && constInt(B))
    return intImm(int64_t(uint64_t(*constInt(A)) + uint64_t(*constInt(B))));
  if (constInt(B) == 0)
    return A;
  if (constInt(A) == 0)
    return B;
  return A + B;
}
Expr subI(const Expr &A, const Expr &B) {
  if (constInt(A) && constInt(B))
    return intImm(int64_t(uint64_t(*constInt(A)) - uint64_t(*constInt(B))));
  if (constInt(B) == 0)
    return A;
  return A - B;
}
Expr mulI(const Expr &A, const Expr &B) {
  if (constInt(A) && constInt(B))
    return intImm(int64_t(uint64_t(*constInt(A)) * uint64_t(*constInt(B))));
  if (constInt(B) == 1)
    return A;
  if (constInt(A) == 1)
    return B;
  return A * B;
}

/// Ramp-preserving forms of +, - and * on i64; nullopt if none applies.
std::optional<Expr> Lifter::affine(BinaryOp Op, const Expr &A, const Expr &B) {
  if (A->Type.Scalar != ScalarType::I64 || (!isRamp(A) && !isRamp(B)))
    return std::nullopt;
  if ((isRamp(A) || !A->Type.isVector()) && (isRamp(B) || !B->Type.isVector())) {
    auto Base = [](const Expr &X) { return isRamp(X) ? X->Operands[0] : X; };
    auto Stride = [](const Expr &X) {
      return isRamp(X) ? X->Operands[1] : intImm(0);
    };
    switch (Op) {
    case BinaryOp::Add:
      return ramp(addI(Base(A), Base(B)), addI(Stride(A), Stride(B)), Lanes);
    case BinaryOp::Sub:
      return ramp(subI(Base(A), Base(B)), subI(Stride(A), Stride(B)), Lanes);
    case BinaryOp::Mul:
      if (isRamp(A) && !B->Type.isVector())
        return ramp(mulI(A->Operands[0], B), mulI(A->Operands[1], B), Lanes);
      if (isRamp(B) && !A->Type.isVector())
        return ramp(mulI(A, B->Operands[0]), mulI(A, B->Operands[1]), Lanes);
      return std::nullopt;
    default:
      return std::nullopt;
    }
  }
  return std::nullopt;
}

Expr Lifter::liftBinary(const ExprNode &E) {
  Expr A = lift(E.Operands[0]), B = lift(E.Operands[1]);
  if (!A->Type.isVector() && !B->Type.isVector()) {
    if (A == E.Operands[0] && B == E.Operands[1])
      return nullptr; // unchanged: the caller keeps E
    return binary(E.Op, A, B);
  }
  if (auto R = affine(E.Op, A, B))
    return *R;
  return binary(E.Op, widen(A), widen(B));
}

/// Lifts every operand; if any becomes a vector, all are widened and the
/// node gets L lanes.
Expr Lifter::liftOperands(const ExprNode &E) {
  std::vector<Expr> Ops;
  bool AnyVector = false, Changed = false;
  for (const Expr &Op : E.Operands) {
    Ops.push_back(lift(Op));
    AnyVector |= Ops.back()->Type.isVector();
    Changed |= Ops.back() != Op;
  }
  if (!Changed)
    return nullptr;
  auto N = std::make_shared<ExprNode>(E);
  if (AnyVector) {
    for (Expr &Op : Ops)
      Op = widen(Op);
    N->Type = E.Type.withLanes(Lanes);
  }
  N->Operands = std::move(Ops);
  return N;
}

Expr Lifter::lift(const Expr &E) {
  Expr R;
  switch (E->Kind) {
  case ExprKind::Var: {
    auto It = Env.find(E->Name);
    return It == Env.end() ? E : It->second;
  }
  case ExprKind::Binary:
    R = liftBinary(*E);
    break;
  case ExprKind::Load: {
    Expr Index = lift(E->Operands[0]);
    if (Index == E->Operands[0])
      return E;
    if (!Index->Type.isVector())
      return load(E->Name, E->Type, Index);
    return load(E->Name, E->Type.withLanes(Lanes), Index);
  }
  default:
    R = liftOperands(*E);
    break;
  }
  return R ? R : E;
}

Stmt Lifter::lift(const Stmt &S) {
  switch (S->Kind) {
  case StmtKind::Seq: {
    std::vector<Stmt> Out;
    for (const Stmt &X : S->Stmts)
      Out.push_back(lift(X));
    return seq(std::move(Out));
  }
  case StmtKind::Store:
    return store(S->Name, lift(S->index()), widen(lift(S->Value)));
  case StmtKind::Let: {
    Expr V = lift(S->Value);
    if (!V->Type.isVector()) {
      Env.erase(S->Name);
      return letStmt(S->Name, V, lift(S->Body));
    }
    if (V->Kind == ExprKind::Ramp || V->Kind == ExprKind::Broadcast) {
      Env[S->Name] = V;
      return lift(S->Body);
    }
    Env[S->Name] = var(S->Name, V->Type);
    return letStmt(S->Name, V, lift(S->Body));
  }
  default:
    llvm_unreachable("canVectorizeLoop admits only stores, lets and seqs");
  }
}

/// Vectorizes loops innermost first.
class Vectorizer : public IRMutator {
public:
  using IRMutator::mutate;
  Stmt mutate(const Stmt &S) override {
    Stmt N = IRMutator::mutate(S);
    if (!N || N->Kind != StmtKind::For || N->Loop != ForKind::Vectorized)
      return N;
    std::optional<int64_t> E = constInt(N->Extent);
    if (E && *E >= 2 && *E <= MaxLanes && canVectorizeLoop(*N))
      return Lifter(*N, *E).lift(N->Body);
    return forLoop(N->Name, N->Min, N->Extent, ForKind::Serial, N->Body);
  }
};

} // namespace

llvm::Error tidal::vectorize(Module &M, const PassOptions &) {
  if (!M.P)
    return llvm::Error::success();
  for (Kernel &K : M.P->Kernels) {
    if (hasMultiDimAccess(K.Body))
      return makeError("kernel '" + K.Name +
                       "': accesses indexed per dimension; run flatten "
                       "before vectorize");
    K.Body = Vectorizer().mutate(K.Body);
  }
  return llvm::Error::success();
}
