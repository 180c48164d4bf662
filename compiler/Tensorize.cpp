//===- Tensorize.cpp - Loop nests that one target instruction computes ----===//
//
// The patterns of tensorized nests (Tensorize.h): matched by apply-schedule
// before it marks a loop, by the verifier on every tensorized loop, and by
// codegen before it emits the instruction.
//
//===----------------------------------------------------------------------===//

#include "compiler/Tensorize.h"
#include <algorithm>

using namespace tidal;

namespace {

/// How much E grows when variable V grows by 1, where E is V times a
/// constant plus terms free of V; none when V appears otherwise (under a
/// division, a min, a load ...).
std::optional<int64_t> coefficient(const Expr &E, llvm::StringRef V) {
  if (E->Kind == ExprKind::Var)
    return E->Name == V ? 1 : 0;
  if (E->Kind == ExprKind::Binary &&
      (E->Op == BinaryOp::Add || E->Op == BinaryOp::Sub ||
       E->Op == BinaryOp::Mul)) {
    std::optional<int64_t> A = coefficient(E->Operands[0], V),
                           B = coefficient(E->Operands[1], V);
    if (!A || !B)
      return std::nullopt;
    if (E->Op == BinaryOp::Add)
      return *A + *B;
    if (E->Op == BinaryOp::Sub)
      return *A - *B;
    const ExprNode &L = *E->Operands[0], &R = *E->Operands[1];
    if (*A == 0 && *B == 0)
      return 0;
    if (L.Kind == ExprKind::IntImm)
      return L.IntValue * *B;
    if (R.Kind == ExprKind::IntImm)
      return *A * R.IntValue;
    return std::nullopt;
  }
  for (const Expr &Op : E->Operands)
    if (coefficient(Op, V) != 0)
      return std::nullopt;
  return 0;
}

/// The coefficient of V in the row-major element index of an access to
/// Buffer at Indices (one flat index, or one per dimension of its shape).
std::optional<int64_t> stride(const std::string &Buffer,
                              const std::vector<Expr> &Indices,
                              llvm::ArrayRef<BufferDecl> Params,
                              llvm::StringRef V) {
  if (Indices.size() == 1)
    return coefficient(Indices[0], V);
  auto Decl =
      std::find_if(Params.begin(), Params.end(),
                   [&](const BufferDecl &P) { return P.Name == Buffer; });
  if (Decl == Params.end() || Decl->Shape.size() != Indices.size())
    return std::nullopt;
  int64_t Sum = 0, Row = 1;
  for (size_t D = Indices.size(); D-- > 0;) {
    std::optional<int64_t> C = coefficient(Indices[D], V);
    if (!C)
      return std::nullopt;
    Sum += *C * Row;
    Row *= Decl->Shape[D];
  }
  return Sum;
}

/// The load under `cast(load %x[..]:T):i32`, when X has element type T.
const ExprNode *castLoad(const Expr &E, ScalarType T) {
  if (E->Kind != ExprKind::Cast || E->Type != DataType(ScalarType::I32))
    return nullptr;
  const Expr &L = E->Operands[0];
  return L->Kind == ExprKind::Load && L->Type == DataType(T) ? L.get()
                                                             : nullptr;
}

bool isBinary(const Expr &E, BinaryOp Op) {
  return E->Kind == ExprKind::Binary && E->Op == Op;
}

} // namespace

std::optional<ByteDot> tidal::matchByteDot(const StmtNode &L,
                                           llvm::ArrayRef<BufferDecl> Params,
                                           std::string &Why) {
  auto Fail = [&](const std::string &Reason) -> std::optional<ByteDot> {
    Why = Reason;
    return std::nullopt;
  };
  ByteDot D;
  D.Lanes = &L;
  if (L.Kind != StmtKind::For || L.Extent->Kind != ExprKind::IntImm)
    return Fail("the loop has no constant extent");
  D.Width = L.Extent->IntValue;
  const StmtNode *R = L.Body.get();
  if (R->Kind != StmtKind::For || R->Extent->Kind != ExprKind::IntImm ||
      R->Extent->IntValue != 4 || R->Loop != ForKind::Serial)
    return Fail("its body is not one serial loop of 4 steps");
  D.Steps = R;
  const StmtNode *S = R->Body.get();
  if (S->Kind != StmtKind::Store || S->Value->Type != DataType(ScalarType::I32))
    return Fail("the steps' body is not one store of an i32");
  D.Store = S;
  const Expr &V = S->Value;
  if (!isBinary(V, BinaryOp::Add))
    return Fail("the stored value is not a sum");
  bool AccFirst = V->Operands[0]->Kind == ExprKind::Load;
  const Expr &Acc = V->Operands[AccFirst ? 0 : 1],
             &Prod = V->Operands[AccFirst ? 1 : 0];
  if (Acc->Kind != ExprKind::Load || Acc->Name != S->Name ||
      Acc->Operands.size() != S->Indices.size() ||
      !std::equal(S->Indices.begin(), S->Indices.end(), Acc->Operands.begin(),
                  exprEqual))
    return Fail("the sum does not add to the element stored");
  if (!isBinary(Prod, BinaryOp::Mul))
    return Fail("the sum does not add a product");
  for (int First : {0, 1}) {
    D.Unsigned = castLoad(Prod->Operands[First], ScalarType::U8);
    D.Signed = castLoad(Prod->Operands[1 - First], ScalarType::I8);
    if (D.Unsigned && D.Signed)
      break;
  }
  if (!D.Unsigned || !D.Signed)
    return Fail("the product is not of a u8 and an i8 widened to i32");
  if (stride(S->Name, S->Indices, Params, L.Name) != 1 ||
      stride(S->Name, S->Indices, Params, R->Name) != 0)
    return Fail("the stored element does not move by 1 per lane and stay "
                "the same over the steps");
  auto Factor = [&](const ExprNode &F, bool &Splat) {
    std::optional<int64_t> PerLane = stride(F.Name, F.Operands, Params, L.Name);
    Splat = PerLane == 0;
    return stride(F.Name, F.Operands, Params, R->Name) == 1 &&
           (PerLane == 0 || PerLane == 4);
  };
  if (!Factor(*D.Unsigned, D.UnsignedSplat) ||
      !Factor(*D.Signed, D.SignedSplat))
    return Fail("a factor does not read four consecutive bytes per lane "
                "(moving by 4 per lane, or by 0)");
  return D;
}
