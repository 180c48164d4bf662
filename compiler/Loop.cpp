//===- Loop.cpp - Loop IR construction ------------------------------------===//
//
// Names of the enums and the node constructors. The constructors assert on
// type errors: a lowering that builds an ill-typed tree is a compiler bug.
//
//===----------------------------------------------------------------------===//

#include "compiler/Loop.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include <cassert>

using namespace tidal;

namespace {
/// ScalarType lists ElemType's types in the same order, without Bit, so the
/// element types' names, sizes and predicates (Types.cpp) answer for both.
ElemType elemTypeOf(ScalarType T) {
  return static_cast<ElemType>(static_cast<unsigned>(T));
}
static_assert(static_cast<unsigned>(ScalarType::Bool) ==
                      static_cast<unsigned>(ElemType::Bool) &&
                  static_cast<unsigned>(ElemType::Bit) ==
                      static_cast<unsigned>(ElemType::Bool) + 1,
              "ScalarType must be ElemType without Bit");

const char *BinaryNames[] = {"add", "sub", "mul", "div", "mod", "min", "max",
                             "lt",  "le",  "gt",  "ge",  "eq",  "ne",  "and",
                             "or",  "xor", "shl", "shr"};
const char *ForKindNames[] = {"serial",    "parallel",  "vectorized",
                              "unrolled",  "gpu_block", "gpu_thread",
                              "tensorized"};
const char *DirectiveNames[] = {
    "split",       "reorder",  "tile",      "vectorize",
    "unroll",      "parallel", "gpu_block", "gpu_thread",
    "compute_at",  "fuse",     "gpu_split", "pack",
    "cache_write", "store_at", "prefetch",  "tensorize"};
const char *StorageNames[] = {"input", "output", "weights", "workspace", "temp"};

template <size_t N>
std::optional<unsigned> lookup(const char *const (&Names)[N], llvm::StringRef S) {
  for (unsigned I = 0; I < N; ++I)
    if (S == Names[I])
      return I;
  return std::nullopt;
}
} // namespace

llvm::StringRef tidal::scalarTypeName(ScalarType T) {
  return elemTypeName(elemTypeOf(T));
}
std::optional<ScalarType> tidal::parseScalarType(llvm::StringRef Name) {
  std::optional<ElemType> E = parseElemType(Name);
  if (!E || *E == ElemType::Bit)
    return std::nullopt;
  return scalarTypeOf(*E);
}
unsigned tidal::scalarBits(ScalarType T) { return elemBits(elemTypeOf(T)); }
bool tidal::isFloat(ScalarType T) { return isFloat(elemTypeOf(T)); }
bool tidal::isSigned(ScalarType T) { return isSignedInt(elemTypeOf(T)); }
ScalarType tidal::scalarTypeOf(ElemType T) {
  assert(T != ElemType::Bit && "packed bits have no scalar type");
  return static_cast<ScalarType>(static_cast<unsigned>(T));
}

std::string DataType::str() const {
  std::string S = scalarTypeName(Scalar).str();
  if (Lanes > 1)
    S += "x" + std::to_string(Lanes);
  return S;
}

llvm::StringRef tidal::binaryOpName(BinaryOp Op) {
  return BinaryNames[static_cast<unsigned>(Op)];
}
std::optional<BinaryOp> tidal::parseBinaryOp(llvm::StringRef Name) {
  if (auto I = lookup(BinaryNames, Name))
    return static_cast<BinaryOp>(*I);
  return std::nullopt;
}
llvm::StringRef tidal::forKindName(ForKind K) {
  return ForKindNames[static_cast<unsigned>(K)];
}
std::optional<ForKind> tidal::parseForKind(llvm::StringRef Name) {
  if (auto I = lookup(ForKindNames, Name))
    return static_cast<ForKind>(*I);
  return std::nullopt;
}
llvm::StringRef tidal::directiveName(Directive::KindT K) {
  return DirectiveNames[static_cast<unsigned>(K)];
}
static const char *const TailNames[] = {"loop", "guard", "shift"};
llvm::StringRef tidal::tailName(Directive::TailT T) {
  return TailNames[static_cast<unsigned>(T)];
}
std::optional<Directive::TailT> tidal::parseTailName(llvm::StringRef Name) {
  if (auto I = lookup(TailNames, Name))
    return static_cast<Directive::TailT>(*I);
  return std::nullopt;
}
llvm::StringRef tidal::storageKindName(StorageKind K) {
  return StorageNames[static_cast<unsigned>(K)];
}

const Kernel *Program::findKernel(llvm::StringRef Name) const {
  for (const Kernel &K : Kernels)
    if (K.Name == Name)
      return &K;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

static std::shared_ptr<ExprNode> node(ExprKind K, DataType T) {
  auto N = std::make_shared<ExprNode>();
  N->Kind = K;
  N->Type = T;
  return N;
}

Expr tidal::intImm(int64_t V, DataType T) {
  auto N = node(ExprKind::IntImm, T);
  N->IntValue = V;
  return N;
}

Expr tidal::floatImm(double V, DataType T) {
  assert(isFloat(T.Scalar) && "float immediate of a non-float type");
  auto N = node(ExprKind::FloatImm, T);
  N->FloatValue = V;
  return N;
}

Expr tidal::constant(DataType T, double V) {
  if (isFloat(T.Scalar))
    return floatImm(V, T);
  return intImm(static_cast<int64_t>(V), T);
}

Expr tidal::var(const std::string &Name, DataType T) {
  auto N = node(ExprKind::Var, T);
  N->Name = Name;
  return N;
}

static bool isComparison(BinaryOp Op) {
  return Op >= BinaryOp::LT && Op <= BinaryOp::NE;
}

Expr tidal::binary(BinaryOp Op, Expr A, Expr B) {
  assert(A->Type == B->Type && "binary operands of different types");
  DataType T = isComparison(Op) ? DataType(ScalarType::Bool, A->Type.Lanes)
                                : A->Type;
  auto N = node(ExprKind::Binary, T);
  N->Op = Op;
  N->Operands = {std::move(A), std::move(B)};
  return N;
}

Expr tidal::logicalNot(Expr A) {
  auto N = node(ExprKind::Not, A->Type);
  N->Operands = {std::move(A)};
  return N;
}

Expr tidal::select(Expr Cond, Expr Then, Expr Else) {
  assert(Then->Type == Else->Type && "select arms of different types");
  assert(Cond->Type.Scalar == ScalarType::Bool && "select condition not bool");
  auto N = node(ExprKind::Select, Then->Type);
  N->Operands = {std::move(Cond), std::move(Then), std::move(Else)};
  return N;
}

Expr tidal::load(const std::string &Buffer, DataType T, Expr Index) {
  assert(Index->Type.Scalar == ScalarType::I64 && "index is not i64");
  assert(Index->Type.Lanes == T.Lanes && "index and load lanes differ");
  auto N = node(ExprKind::Load, T);
  N->Name = Buffer;
  N->Operands = {std::move(Index)};
  return N;
}

Expr tidal::load(const std::string &Buffer, DataType T,
                 std::vector<Expr> Indices) {
  assert(Indices.size() >= 2 && "a multi-dimensional load has 2+ indices");
  assert(!T.isVector() && "multi-dimensional loads are scalar");
  for ([[maybe_unused]] const Expr &I : Indices)
    assert(I->Type == DataType(ScalarType::I64) && "index is not scalar i64");
  auto N = node(ExprKind::Load, T);
  N->Name = Buffer;
  N->Operands = std::move(Indices);
  return N;
}

Expr tidal::cast(DataType T, Expr A) {
  if (A->Type == T)
    return A;
  assert(A->Type.Lanes == T.Lanes && "cast changes the lane count");
  auto N = node(ExprKind::Cast, T);
  N->Operands = {std::move(A)};
  return N;
}

Expr tidal::call(const std::string &Intrinsic, DataType T,
                 std::vector<Expr> Args) {
  auto N = node(ExprKind::Call, T);
  N->Name = Intrinsic;
  N->Operands = std::move(Args);
  return N;
}

Expr tidal::ramp(Expr Base, Expr Stride, unsigned Lanes) {
  assert(!Base->Type.isVector() && Base->Type == Stride->Type);
  auto N = node(ExprKind::Ramp, Base->Type.withLanes(Lanes));
  N->Operands = {std::move(Base), std::move(Stride)};
  return N;
}

Expr tidal::broadcast(Expr Scalar, unsigned Lanes) {
  assert(!Scalar->Type.isVector() && "broadcast of a vector");
  auto N = node(ExprKind::Broadcast, Scalar->Type.withLanes(Lanes));
  N->Operands = {std::move(Scalar)};
  return N;
}

bool tidal::exprEqual(const Expr &A, const Expr &B) {
  if (A == B)
    return true;
  if (!A || !B)
    return false;
  bool SameFloat =
      A->FloatValue == B->FloatValue ||
      (A->FloatValue != A->FloatValue && B->FloatValue != B->FloatValue);
  if (A->Kind != B->Kind || A->Type != B->Type || A->IntValue != B->IntValue ||
      !SameFloat || A->Op != B->Op || A->Name != B->Name ||
      A->Operands.size() != B->Operands.size())
    return false;
  for (size_t I = 0; I < A->Operands.size(); ++I)
    if (!exprEqual(A->Operands[I], B->Operands[I]))
      return false;
  return true;
}

Expr tidal::operator+(Expr A, Expr B) { return binary(BinaryOp::Add, A, B); }
Expr tidal::operator-(Expr A, Expr B) { return binary(BinaryOp::Sub, A, B); }
Expr tidal::operator*(Expr A, Expr B) { return binary(BinaryOp::Mul, A, B); }
Expr tidal::operator/(Expr A, Expr B) { return binary(BinaryOp::Div, A, B); }
Expr tidal::operator%(Expr A, Expr B) { return binary(BinaryOp::Mod, A, B); }
Expr tidal::operator+(Expr A, int64_t B) { return A + intImm(B, A->Type); }
Expr tidal::operator-(Expr A, int64_t B) { return A - intImm(B, A->Type); }
Expr tidal::operator*(Expr A, int64_t B) { return A * intImm(B, A->Type); }
Expr tidal::operator/(Expr A, int64_t B) { return A / intImm(B, A->Type); }
Expr tidal::operator%(Expr A, int64_t B) { return A % intImm(B, A->Type); }
Expr tidal::min(Expr A, Expr B) { return binary(BinaryOp::Min, A, B); }
Expr tidal::max(Expr A, Expr B) { return binary(BinaryOp::Max, A, B); }
Expr tidal::lt(Expr A, Expr B) { return binary(BinaryOp::LT, A, B); }
Expr tidal::le(Expr A, Expr B) { return binary(BinaryOp::LE, A, B); }
Expr tidal::gt(Expr A, Expr B) { return binary(BinaryOp::GT, A, B); }
Expr tidal::ge(Expr A, Expr B) { return binary(BinaryOp::GE, A, B); }
Expr tidal::eq(Expr A, Expr B) { return binary(BinaryOp::EQ, A, B); }
Expr tidal::ne(Expr A, Expr B) { return binary(BinaryOp::NE, A, B); }
Expr tidal::logicalAnd(Expr A, Expr B) { return binary(BinaryOp::And, A, B); }
Expr tidal::logicalOr(Expr A, Expr B) { return binary(BinaryOp::Or, A, B); }

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

static std::shared_ptr<StmtNode> stmt(StmtKind K) {
  auto N = std::make_shared<StmtNode>();
  N->Kind = K;
  return N;
}

Stmt tidal::forLoop(const std::string &Var, Expr Min, Expr Extent, ForKind K,
                    Stmt Body) {
  auto N = stmt(StmtKind::For);
  N->Name = Var;
  N->Min = std::move(Min);
  N->Extent = std::move(Extent);
  N->Loop = K;
  N->Body = std::move(Body);
  return N;
}

Stmt tidal::forRange(const std::string &Var, int64_t Extent, Stmt Body) {
  return forLoop(Var, intImm(0), intImm(Extent), ForKind::Serial,
                 std::move(Body));
}

Stmt tidal::store(const std::string &Buffer, Expr Index, Expr Value) {
  assert(Index->Type.Scalar == ScalarType::I64 && "index is not i64");
  assert(Index->Type.Lanes == Value->Type.Lanes && "index and value lanes differ");
  auto N = stmt(StmtKind::Store);
  N->Name = Buffer;
  N->Indices = {std::move(Index)};
  N->Value = std::move(Value);
  return N;
}

Stmt tidal::store(const std::string &Buffer, std::vector<Expr> Indices,
                  Expr Value) {
  assert(Indices.size() >= 2 && "a multi-dimensional store has 2+ indices");
  assert(!Value->Type.isVector() && "multi-dimensional stores are scalar");
  for ([[maybe_unused]] const Expr &I : Indices)
    assert(I->Type == DataType(ScalarType::I64) && "index is not scalar i64");
  auto N = stmt(StmtKind::Store);
  N->Name = Buffer;
  N->Indices = std::move(Indices);
  N->Value = std::move(Value);
  return N;
}

Stmt tidal::prefetch(const std::string &Buffer, std::vector<Expr> Indices) {
  assert(!Indices.empty() && "a prefetch needs an index");
  for ([[maybe_unused]] const Expr &I : Indices)
    assert(I->Type == DataType(ScalarType::I64) && "index is not scalar i64");
  auto N = stmt(StmtKind::Prefetch);
  N->Name = Buffer;
  N->Indices = std::move(Indices);
  return N;
}

Stmt tidal::letStmt(const std::string &Var, Expr Value, Stmt Body) {
  auto N = stmt(StmtKind::Let);
  N->Name = Var;
  N->Value = std::move(Value);
  N->Body = std::move(Body);
  return N;
}

Stmt tidal::allocate(const std::string &Buffer, ScalarType Elem, int64_t Size,
                     Stmt Body) {
  auto N = stmt(StmtKind::Allocate);
  N->Name = Buffer;
  N->Elem = Elem;
  N->Size = Size;
  N->Body = std::move(Body);
  return N;
}

Stmt tidal::ifThen(Expr Cond, Stmt Then, Stmt Else) {
  assert(Cond->Type == DataType(ScalarType::Bool) && "if condition not bool");
  auto N = stmt(StmtKind::If);
  N->Cond = std::move(Cond);
  N->Body = std::move(Then);
  N->Else = std::move(Else);
  return N;
}

Stmt tidal::seq(std::vector<Stmt> Stmts) {
  std::vector<Stmt> Flat;
  for (Stmt &S : Stmts) {
    if (!S)
      continue;
    if (S->Kind == StmtKind::Seq)
      Flat.insert(Flat.end(), S->Stmts.begin(), S->Stmts.end());
    else
      Flat.push_back(std::move(S));
  }
  if (Flat.size() == 1)
    return Flat.front();
  auto N = stmt(StmtKind::Seq);
  N->Stmts = std::move(Flat);
  return N;
}

static bool hasMultiDimLoad(const Expr &E) {
  if (!E)
    return false;
  if (E->Kind == ExprKind::Load && E->Operands.size() > 1)
    return true;
  for (const Expr &Op : E->Operands)
    if (hasMultiDimLoad(Op))
      return true;
  return false;
}

bool tidal::hasMultiDimAccess(const Stmt &S) {
  if (!S)
    return false;
  if (S->Indices.size() > 1)
    return true;
  for (const Expr &E : {S->Min, S->Extent, S->Value, S->Cond})
    if (hasMultiDimLoad(E))
      return true;
  for (const Expr &I : S->Indices)
    if (hasMultiDimLoad(I))
      return true;
  for (const Stmt &X : S->Stmts)
    if (hasMultiDimAccess(X))
      return true;
  return hasMultiDimAccess(S->Body) || hasMultiDimAccess(S->Else);
}
