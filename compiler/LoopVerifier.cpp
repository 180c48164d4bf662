//===- LoopVerifier.cpp - Checking kernels and programs -------------------===//
//
// verifyKernel() checks one kernel's scoping and typing: every buffer a
// Load or Store names is a parameter or an enclosing Allocate, every Var is
// bound by an enclosing For or Let with the same type, operand types agree,
// loop names are unique in the kernel (schedules key directives by them)
// and no binding shadows another, read-only buffers are not stored to, and
// constant indices are in range. verifyProgram() checks the call list
// against the kernels and the storage (inputs, outputs, weights, temps,
// workspace) and verifies every kernel. Errors name the kernel.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/Loop.h"
#include "compiler/Tensorize.h"
#include <set>

using namespace tidal;

namespace {

/// Walks one kernel, stopping at the first problem.
class KernelVerifier {
public:
  explicit KernelVerifier(const Kernel &K) : K(K) {}
  llvm::Error run();

private:
  struct VarBinding {
    std::string Name;
    DataType Type;
  };
  struct BufferInfo {
    std::string Name;
    ScalarType Elem;
    int64_t Size;
    bool ReadOnly;
    std::vector<int64_t> Shape;
  };

  bool fail(const llvm::Twine &Msg) {
    if (Err.empty())
      Err = Msg.str();
    return false;
  }
  const VarBinding *findVar(llvm::StringRef Name) const;
  const BufferInfo *findBuffer(llvm::StringRef Name) const;
  bool bindVar(const std::string &Name, DataType T);

  bool checkStmt(const Stmt &S);
  bool checkFor(const StmtNode &S);
  bool checkStore(const StmtNode &S);
  bool checkPrefetch(const StmtNode &S);
  bool checkLet(const StmtNode &S);
  bool checkAllocate(const StmtNode &S);
  bool checkIf(const StmtNode &S);

  bool checkExpr(const Expr &E);
  bool checkOperands(const ExprNode &E, size_t Count);
  bool checkImm(const ExprNode &E);
  bool checkVar(const ExprNode &E);
  bool checkBinary(const ExprNode &E);
  bool checkSelect(const ExprNode &E);
  bool checkLoad(const ExprNode &E);
  bool checkCast(const ExprNode &E);
  bool checkRamp(const ExprNode &E);
  bool checkBroadcast(const ExprNode &E);
  bool checkIndex(const BufferInfo &B, const Expr &Index, DataType Value,
                  llvm::StringRef What);
  bool checkIndices(const BufferInfo &B, const std::vector<Expr> &Indices,
                    DataType Value, llvm::StringRef What);

  const Kernel &K;
  std::vector<VarBinding> Vars;
  std::vector<BufferInfo> Buffers;
  std::set<std::string> LoopNames;
  std::string Err;
};

const KernelVerifier::VarBinding *
KernelVerifier::findVar(llvm::StringRef Name) const {
  for (auto It = Vars.rbegin(); It != Vars.rend(); ++It)
    if (It->Name == Name)
      return &*It;
  return nullptr;
}

const KernelVerifier::BufferInfo *
KernelVerifier::findBuffer(llvm::StringRef Name) const {
  for (auto It = Buffers.rbegin(); It != Buffers.rend(); ++It)
    if (It->Name == Name)
      return &*It;
  return nullptr;
}

bool KernelVerifier::bindVar(const std::string &Name, DataType T) {
  if (findVar(Name))
    return fail("'%" + Name + "' shadows an enclosing binding of that name");
  Vars.push_back({Name, T});
  return true;
}

llvm::Error KernelVerifier::run() {
  for (const BufferDecl &B : K.Params) {
    if (findBuffer(B.Name))
      fail("parameter '%" + B.Name + "' declared twice");
    if (B.Size < 0)
      fail("parameter '%" + B.Name + "' has a negative size");
    if (B.Shape.size() == 1)
      fail("parameter '%" + B.Name + "' has a shape of rank 1 (flat)");
    int64_t Elems = 1;
    for (int64_t D : B.Shape)
      Elems = D < 0 ? -1 : Elems * D;
    if (!B.Shape.empty() && Elems != B.Size)
      fail("parameter '%" + B.Name + "' has a shape of " +
           llvm::Twine(Elems) + " elements, not its size " +
           llvm::Twine(B.Size));
    Buffers.push_back({B.Name, B.Elem, B.Size, B.ReadOnly, B.Shape});
  }
  if (!K.Body)
    fail("no body");
  else if (Err.empty())
    checkStmt(K.Body);
  if (Err.empty())
    return llvm::Error::success();
  return makeError("kernel '" + K.Name + "': " + Err);
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

bool KernelVerifier::checkStmt(const Stmt &S) {
  if (!S)
    return fail("null statement");
  switch (S->Kind) {
  case StmtKind::For:
    return checkFor(*S);
  case StmtKind::Store:
    return checkStore(*S);
  case StmtKind::Let:
    return checkLet(*S);
  case StmtKind::Allocate:
    return checkAllocate(*S);
  case StmtKind::If:
    return checkIf(*S);
  case StmtKind::Prefetch:
    return checkPrefetch(*S);
  case StmtKind::Seq:
    for (const Stmt &Sub : S->Stmts)
      if (!checkStmt(Sub))
        return false;
    return true;
  }
  return fail("unknown statement kind");
}

/// The loop var is bound in the body only; Min and Extent see the outer
/// scope.
bool KernelVerifier::checkFor(const StmtNode &S) {
  if (!checkExpr(S.Min) || !checkExpr(S.Extent))
    return false;
  DataType I64(ScalarType::I64);
  if (S.Min->Type != I64 || S.Extent->Type != I64)
    return fail("loop '%" + S.Name + "' bounds must be scalar i64");
  if (S.Extent->Kind == ExprKind::IntImm && S.Extent->IntValue < 0)
    return fail("loop '%" + S.Name + "' has a negative extent");
  if (!LoopNames.insert(S.Name).second)
    return fail("loop name '%" + S.Name + "' is not unique in the kernel");
  std::string Why;
  if (S.Loop == ForKind::Tensorized && !matchByteDot(S, K.Params, Why))
    return fail("tensorized loop '%" + S.Name +
                "' is not a byte dot product: " + Why);
  if (!bindVar(S.Name, I64))
    return false;
  bool Ok = checkStmt(S.Body);
  Vars.pop_back();
  return Ok;
}

bool KernelVerifier::checkStore(const StmtNode &S) {
  const BufferInfo *B = findBuffer(S.Name);
  if (!B)
    return fail("store to unknown buffer '%" + S.Name + "'");
  if (B->ReadOnly)
    return fail("store to read-only buffer '%" + S.Name + "'");
  for (const Expr &I : S.Indices)
    if (!checkExpr(I))
      return false;
  if (!checkExpr(S.Value))
    return false;
  DataType Want(B->Elem, S.Value->Type.Lanes);
  if (S.Value->Type != Want)
    return fail("store of " + S.Value->Type.str() + " to '%" + S.Name +
                "' of " + scalarTypeName(B->Elem));
  return checkIndices(*B, S.Indices, S.Value->Type, "store to");
}

/// Like a scalar load's indices, but not range-checked: a prefetch may look
/// past the end of its buffer.
bool KernelVerifier::checkPrefetch(const StmtNode &S) {
  const BufferInfo *B = findBuffer(S.Name);
  if (!B)
    return fail("prefetch of unknown buffer '%" + S.Name + "'");
  if (S.Indices.size() != 1 && S.Indices.size() != B->Shape.size())
    return fail("prefetch of '%" + S.Name +
                "': " + llvm::Twine(S.Indices.size()) +
                " indices for a buffer of rank " +
                llvm::Twine(B->Shape.size() > 1 ? B->Shape.size() : 1));
  for (const Expr &I : S.Indices) {
    if (!checkExpr(I))
      return false;
    if (I->Type != DataType(ScalarType::I64))
      return fail("prefetch of '%" + S.Name + "': index must be i64, not " +
                  I->Type.str());
  }
  return true;
}

bool KernelVerifier::checkLet(const StmtNode &S) {
  if (!checkExpr(S.Value) || !bindVar(S.Name, S.Value->Type))
    return false;
  bool Ok = checkStmt(S.Body);
  Vars.pop_back();
  return Ok;
}

bool KernelVerifier::checkAllocate(const StmtNode &S) {
  if (findBuffer(S.Name))
    return fail("allocate '%" + S.Name + "' shadows a buffer of that name");
  if (S.Size < 0)
    return fail("allocate '%" + S.Name + "' has a negative size");
  Buffers.push_back({S.Name, S.Elem, S.Size, false});
  bool Ok = checkStmt(S.Body);
  Buffers.pop_back();
  return Ok;
}

bool KernelVerifier::checkIf(const StmtNode &S) {
  if (!checkExpr(S.Cond))
    return false;
  if (S.Cond->Type != DataType(ScalarType::Bool))
    return fail("if condition must be a scalar bool, not " + S.Cond->Type.str());
  return checkStmt(S.Body) && (!S.Else || checkStmt(S.Else));
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

bool KernelVerifier::checkOperands(const ExprNode &E, size_t Count) {
  if (E.Operands.size() != Count)
    return fail("expression with " + llvm::Twine(E.Operands.size()) +
                " operands where " + llvm::Twine(Count) + " are expected");
  for (const Expr &Op : E.Operands)
    if (!checkExpr(Op))
      return false;
  return true;
}

bool KernelVerifier::checkExpr(const Expr &EP) {
  if (!EP)
    return fail("null expression");
  const ExprNode &E = *EP;
  if (E.Type.Lanes == 0)
    return fail("expression with zero lanes");
  switch (E.Kind) {
  case ExprKind::IntImm:
  case ExprKind::FloatImm:
    return checkImm(E);
  case ExprKind::Var:
    return checkVar(E);
  case ExprKind::Binary:
    return checkBinary(E);
  case ExprKind::Not:
    if (!checkOperands(E, 1))
      return false;
    if (isFloat(E.Type.Scalar) || E.Operands[0]->Type != E.Type)
      return fail("not of " + E.Operands[0]->Type.str() + " typed " +
                  E.Type.str());
    return true;
  case ExprKind::Select:
    return checkSelect(E);
  case ExprKind::Load:
    return checkLoad(E);
  case ExprKind::Cast:
    return checkCast(E);
  case ExprKind::Call:
    for (const Expr &Op : E.Operands)
      if (!checkExpr(Op))
        return false;
    return true;
  case ExprKind::Ramp:
    return checkRamp(E);
  case ExprKind::Broadcast:
    return checkBroadcast(E);
  }
  return fail("unknown expression kind");
}

bool KernelVerifier::checkImm(const ExprNode &E) {
  if (E.Kind == ExprKind::IntImm && isFloat(E.Type.Scalar))
    return fail("integer immediate " + llvm::Twine(E.IntValue) +
                " of float type " + E.Type.str());
  if (E.Kind == ExprKind::FloatImm && !isFloat(E.Type.Scalar))
    return fail("float immediate of non-float type " + E.Type.str());
  return true;
}

bool KernelVerifier::checkVar(const ExprNode &E) {
  const VarBinding *B = findVar(E.Name);
  if (!B)
    return fail("'%" + E.Name + "' is not bound by an enclosing for or let");
  if (B->Type != E.Type)
    return fail("'%" + E.Name + "' used as " + E.Type.str() +
                " but bound as " + B->Type.str());
  return true;
}

bool KernelVerifier::checkBinary(const ExprNode &E) {
  if (!checkOperands(E, 2))
    return false;
  DataType A = E.Operands[0]->Type, B = E.Operands[1]->Type;
  llvm::StringRef Name = binaryOpName(E.Op);
  if (A != B)
    return fail(Name + " of different types " + A.str() + " and " + B.str());
  bool Compare = E.Op >= BinaryOp::LT && E.Op <= BinaryOp::NE;
  DataType Want = Compare ? DataType(ScalarType::Bool, A.Lanes) : A;
  if (E.Type != Want)
    return fail(Name + " of " + A.str() + " typed " + E.Type.str());
  bool Bool = A.Scalar == ScalarType::Bool;
  bool Float = isFloat(A.Scalar);
  if (E.Op <= BinaryOp::Max && Bool)
    return fail(Name + " of bool operands");
  if (E.Op >= BinaryOp::And && E.Op <= BinaryOp::Xor && Float)
    return fail(Name + " of float operands");
  if (E.Op >= BinaryOp::Shl && (Float || Bool))
    return fail(Name + " of " + A.str() + " operands");
  return true;
}

bool KernelVerifier::checkSelect(const ExprNode &E) {
  if (!checkOperands(E, 3))
    return false;
  DataType C = E.Operands[0]->Type;
  if (C.Scalar != ScalarType::Bool ||
      (C.Lanes != 1 && C.Lanes != E.Type.Lanes))
    return fail("select condition must be bool with 1 or " +
                llvm::Twine(E.Type.Lanes) + " lanes, not " + C.str());
  if (E.Operands[1]->Type != E.Type || E.Operands[2]->Type != E.Type)
    return fail("select arms " + E.Operands[1]->Type.str() + " and " +
                E.Operands[2]->Type.str() + " typed " + E.Type.str());
  return true;
}

bool KernelVerifier::checkLoad(const ExprNode &E) {
  const BufferInfo *B = findBuffer(E.Name);
  if (!B)
    return fail("load from unknown buffer '%" + E.Name + "'");
  for (const Expr &I : E.Operands)
    if (!checkExpr(I))
      return false;
  if (E.Type.Scalar != B->Elem)
    return fail("load of " + E.Type.str() + " from '%" + E.Name + "' of " +
                scalarTypeName(B->Elem));
  return checkIndices(*B, E.Operands, E.Type, "load from");
}

/// One flat index (checkIndex), or one scalar i64 per dimension of B's
/// shape, each inside its dimension when constant.
bool KernelVerifier::checkIndices(const BufferInfo &B,
                                  const std::vector<Expr> &Indices,
                                  DataType Value, llvm::StringRef What) {
  if (Indices.size() == 1)
    return checkIndex(B, Indices[0], Value, What);
  if (Indices.size() != B.Shape.size())
    return fail(What + " '%" + B.Name + "': " + llvm::Twine(Indices.size()) +
                " indices for a buffer of rank " +
                llvm::Twine(B.Shape.size() > 1 ? B.Shape.size() : 1));
  if (Value.isVector())
    return fail(What + " '%" + B.Name + "': a multi-dimensional access of " +
                Value.str() + " (only scalars are indexed per dimension)");
  for (size_t D = 0; D < Indices.size(); ++D) {
    const Expr &I = Indices[D];
    if (I->Type != DataType(ScalarType::I64))
      return fail(What + " '%" + B.Name + "': index must be i64, not " +
                  I->Type.str());
    if (I->Kind == ExprKind::IntImm &&
        (I->IntValue < 0 || I->IntValue >= B.Shape[D]))
      return fail(What + " '%" + B.Name + "': constant index " +
                  llvm::Twine(I->IntValue) + " out of range [0, " +
                  llvm::Twine(B.Shape[D]) + ") in dimension " +
                  llvm::Twine(D));
  }
  return true;
}

/// The index is i64 with the value's lanes; a constant index, or a ramp
/// of constants, must lie inside the buffer.
bool KernelVerifier::checkIndex(const BufferInfo &B, const Expr &Index,
                                DataType Value, llvm::StringRef What) {
  if (Index->Type != DataType(ScalarType::I64, Value.Lanes))
    return fail(What + " '%" + B.Name + "': index must be " +
                DataType(ScalarType::I64, Value.Lanes).str() + ", not " +
                Index->Type.str());
  int64_t Lo, Hi;
  if (Index->Kind == ExprKind::IntImm) {
    Lo = Hi = Index->IntValue;
  } else if (Index->Kind == ExprKind::Ramp &&
             Index->Operands[0]->Kind == ExprKind::IntImm &&
             Index->Operands[1]->Kind == ExprKind::IntImm) {
    int64_t Base = Index->Operands[0]->IntValue;
    int64_t Last = Base + Index->Operands[1]->IntValue * (Value.Lanes - 1);
    Lo = std::min(Base, Last);
    Hi = std::max(Base, Last);
  } else {
    return true;
  }
  if (Lo < 0 || Hi >= B.Size)
    return fail(What + " '%" + B.Name + "': constant index " +
                llvm::Twine(Lo < 0 ? Lo : Hi) + " out of range [0, " +
                llvm::Twine(B.Size) + ")");
  return true;
}

bool KernelVerifier::checkCast(const ExprNode &E) {
  if (!checkOperands(E, 1))
    return false;
  if (E.Operands[0]->Type.Lanes != E.Type.Lanes)
    return fail("cast from " + E.Operands[0]->Type.str() + " to " +
                E.Type.str() + " changes the lane count");
  return true;
}

bool KernelVerifier::checkRamp(const ExprNode &E) {
  if (!checkOperands(E, 2))
    return false;
  DataType Base = E.Operands[0]->Type, Stride = E.Operands[1]->Type;
  if (Base.isVector() || Base != Stride || E.Type != Base.withLanes(E.Type.Lanes))
    return fail("ramp of " + Base.str() + " by " + Stride.str() + " typed " +
                E.Type.str());
  return true;
}

bool KernelVerifier::checkBroadcast(const ExprNode &E) {
  if (!checkOperands(E, 1))
    return false;
  DataType A = E.Operands[0]->Type;
  if (A.isVector() || E.Type != A.withLanes(E.Type.Lanes))
    return fail("broadcast of " + A.str() + " typed " + E.Type.str());
  return true;
}

//===----------------------------------------------------------------------===//
// Programs
//===----------------------------------------------------------------------===//

/// Checks that Param fits the storage Bind names.
std::string checkBinding(const Program &P, const BufferDecl &Param,
                         const BufferBinding &Bind) {
  int64_t Bytes = Param.sizeInBytes();
  auto Fits = [&](int64_t Offset, int64_t Avail, const llvm::Twine &Where) {
    if (Offset < 0 || Offset + Bytes > Avail)
      return (llvm::Twine(Bytes) + " bytes at offset " + llvm::Twine(Offset) +
              " do not fit in " + Where + " of " + llvm::Twine(Avail) +
              " bytes")
          .str();
    return std::string();
  };
  switch (Bind.Storage) {
  case StorageKind::Input:
  case StorageKind::Output: {
    bool In = Bind.Storage == StorageKind::Input;
    const std::vector<IOInfo> &List = In ? P.Inputs : P.Outputs;
    const char *Word = In ? "input" : "output";
    if (Bind.Index < 0 || Bind.Index >= static_cast<int64_t>(List.size()))
      return (llvm::Twine(Word) + " " + llvm::Twine(Bind.Index) +
              " out of range")
          .str();
    if (In && !Param.ReadOnly)
      return "a writable parameter is bound to an input";
    const TensorType &T = List[Bind.Index].Type;
    if (T.Elem != ElemType::Bit && elemBits(T.Elem) != scalarBits(Param.Elem))
      return ("element type " + scalarTypeName(Param.Elem) + " bound to " +
              Word + " of " + elemTypeName(T.Elem))
          .str();
    return Fits(0, T.sizeInBytes(), llvm::Twine(Word) + " " +
                                        llvm::Twine(Bind.Index));
  }
  case StorageKind::Weights:
    if (!Param.ReadOnly)
      return "a writable parameter is bound to the weights";
    return Fits(Bind.Offset, P.Weights.size(), "the weights");
  case StorageKind::Workspace:
    return Fits(Bind.Offset, P.WorkspaceSize, "the workspace");
  case StorageKind::Temp:
    if (Bind.Index < 0 || Bind.Index >= static_cast<int64_t>(P.TempSizes.size()))
      return ("temp " + llvm::Twine(Bind.Index) + " out of range").str();
    return Fits(Bind.Offset, P.TempSizes[Bind.Index],
                "temp " + llvm::Twine(Bind.Index));
  }
  return "unknown storage kind";
}

llvm::Error verifyCall(const Program &P, const KernelCall &C, size_t Pos) {
  std::string Where = "call " + std::to_string(Pos) + " to kernel '" +
                      C.Kernel + "': ";
  const Kernel *K = P.findKernel(C.Kernel);
  if (!K)
    return makeError(Where + "no such kernel");
  if (K->Params.size() != C.Args.size())
    return makeError(Where + std::to_string(C.Args.size()) +
                     " arguments for " + std::to_string(K->Params.size()) +
                     " parameters");
  for (size_t I = 0; I < C.Args.size(); ++I) {
    std::string Msg = checkBinding(P, K->Params[I], C.Args[I]);
    if (!Msg.empty())
      return makeError(Where + "argument '%" + K->Params[I].Name + "': " + Msg);
  }
  return llvm::Error::success();
}

} // namespace

llvm::Error tidal::verifyKernel(const Kernel &K) {
  return KernelVerifier(K).run();
}

llvm::Error tidal::verifyProgram(const Program &P) {
  ErrorCollector Errors;
  std::set<std::string> Names;
  for (const Kernel &K : P.Kernels) {
    if (!Names.insert(K.Name).second)
      Errors.add(makeError("kernel '" + K.Name + "' defined twice"));
    Errors.add(verifyKernel(K));
  }
  for (size_t I = 0; I < P.TempSizes.size(); ++I)
    if (P.TempSizes[I] < 0)
      Errors.add(makeError("temp " + llvm::Twine(I) + " has a negative size"));
  if (P.WorkspaceSize < 0)
    Errors.add(makeError("negative workspace size"));
  for (size_t I = 0; I < P.Calls.size(); ++I)
    Errors.add(verifyCall(P, P.Calls[I], I));
  return Errors.take();
}
