//===- KernelEmitter.cpp - Loop IR statements and expressions to LLVM -----===//
//
// Statements, loads, stores and arithmetic of one kernel. Loops become a
// guarded, rotated loop (preheader test, body, latch test) whose latch
// branch carries the loop kind as metadata: vectorized loops ask LLVM's loop
// vectorizer, unrolled loops ask for full unrolling. Parallel loops become
// tasks on the runtime's thread pool (KernelParallel.cpp). Local buffers
// are allocas in the entry block, live (lifetime markers) only inside their
// Allocate statement.
//
// Vector memory accesses: a Ramp index with stride 1 is one vector load or
// store (element alignment only: user buffers promise no more); a Broadcast
// index is a scalar load splatted; a load at a Ramp of constant stride 2 to
// 4 is one dense load of exactly the span of its lanes and a shuffle; any
// other vector index is a masked gather or scatter with every lane enabled.
//
//===----------------------------------------------------------------------===//

#include "codegen/KernelEmitter.h"
#include "compiler/Diagnostics.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/Module.h"

using namespace tidal;
using llvm::Value;

llvm::Type *tidal::memoryType(ScalarType T, llvm::LLVMContext &Ctx) {
  switch (T) {
  case ScalarType::F32:
    return llvm::Type::getFloatTy(Ctx);
  case ScalarType::F64:
    return llvm::Type::getDoubleTy(Ctx);
  case ScalarType::F16:
    return llvm::Type::getInt16Ty(Ctx);
  case ScalarType::Bool:
    return llvm::Type::getInt8Ty(Ctx);
  default:
    return llvm::IntegerType::get(Ctx, scalarBits(T));
  }
}

unsigned tidal::elementBytes(ScalarType T) {
  return T == ScalarType::Bool ? 1 : scalarBits(T) / 8;
}

KernelEmitter::KernelEmitter(llvm::Module &M, const TargetSetup &T)
    : M(M), Ctx(M.getContext()), Target(T), B(M.getContext()) {}

llvm::Error KernelEmitter::emitKernel(const Kernel &K, llvm::Function *F) {
  KernelName = K.Name;
  Tasks = 0;
  Vars.clear();
  Buffers.clear();
  for (size_t I = 0; I < K.Params.size(); ++I)
    Buffers.push_back({K.Params[I].Name, {F->getArg(I), K.Params[I].Elem}});
  Pool = F->arg_size() > K.Params.size() ? F->getArg(K.Params.size()) : nullptr;
  emitFunction(F, [&] {
    if (K.Body)
      emitStmt(K.Body);
  });
  Failed = false;
  return std::move(Err);
}

void KernelEmitter::emitFunction(llvm::Function *F,
                                 llvm::function_ref<void()> EmitBody) {
  Fn = F;
  EntryBlock = llvm::BasicBlock::Create(Ctx, "entry", F);
  llvm::BasicBlock *Body = llvm::BasicBlock::Create(Ctx, "body", F);
  B.SetInsertPoint(Body);
  EmitBody();
  B.CreateRetVoid();
  B.SetInsertPoint(EntryBlock);
  B.CreateBr(Body);
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

llvm::Value *KernelEmitter::fail(const llvm::Twine &Msg, llvm::Type *Ty) {
  if (!Failed) {
    Failed = true;
    Err = makeError("codegen of kernel '" + KernelName + "': " + Msg);
  }
  return Ty ? llvm::PoisonValue::get(Ty) : nullptr;
}

llvm::Type *KernelEmitter::registerType(DataType T) {
  llvm::Type *S;
  if (T.Scalar == ScalarType::Bool)
    S = llvm::Type::getInt1Ty(Ctx);
  else if (T.Scalar == ScalarType::F16)
    S = llvm::Type::getFloatTy(Ctx);
  else
    S = memoryType(T.Scalar, Ctx);
  if (T.isVector())
    return llvm::FixedVectorType::get(S, T.Lanes);
  return S;
}

llvm::Value *KernelEmitter::lookupVar(const std::string &Name) {
  for (auto I = Vars.rbegin(); I != Vars.rend(); ++I)
    if (I->first == Name)
      return I->second;
  return nullptr;
}

const KernelEmitter::Buffer *
KernelEmitter::lookupBuffer(const std::string &Name) {
  for (auto I = Buffers.rbegin(); I != Buffers.rend(); ++I)
    if (I->first == Name)
      return &I->second;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void KernelEmitter::emitStmt(const Stmt &S) {
  if (Failed)
    return;
  switch (S->Kind) {
  case StmtKind::For:
    return emitFor(*S);
  case StmtKind::Store:
    return emitStore(*S);
  case StmtKind::Let: {
    Value *V = emitExpr(S->Value);
    Vars.push_back({S->Name, V});
    emitStmt(S->Body);
    Vars.pop_back();
    return;
  }
  case StmtKind::Allocate:
    return emitAllocate(*S);
  case StmtKind::If:
    return emitIf(*S);
  case StmtKind::Prefetch:
    return emitPrefetch(*S);
  case StmtKind::Seq:
    for (const Stmt &Sub : S->Stmts)
      emitStmt(Sub);
    return;
  }
  llvm_unreachable("unknown statement kind");
}

/// Loop metadata: `llvm.loop.vectorize.enable` (with the extent as width
/// when it is a small power of two) or `llvm.loop.unroll.full`.
llvm::MDNode *KernelEmitter::loopMetadata(const StmtNode &S) {
  llvm::SmallVector<llvm::Metadata *, 4> Ops{nullptr};
  auto flag = [&](llvm::StringRef Name, llvm::Constant *V) {
    llvm::SmallVector<llvm::Metadata *, 2> Pair{llvm::MDString::get(Ctx, Name)};
    if (V)
      Pair.push_back(llvm::ConstantAsMetadata::get(V));
    Ops.push_back(llvm::MDNode::get(Ctx, Pair));
  };
  bool ConstExtent = S.Extent->Kind == ExprKind::IntImm;
  int64_t Extent = ConstExtent ? S.Extent->IntValue : 0;
  if (S.Loop == ForKind::Vectorized) {
    flag("llvm.loop.vectorize.enable", B.getTrue());
    if (ConstExtent && Extent >= 2 && Extent <= 64 && (Extent & (Extent - 1)) == 0)
      flag("llvm.loop.vectorize.width", B.getInt32(Extent));
  } else if (S.Loop == ForKind::Unrolled) {
    flag(ConstExtent ? "llvm.loop.unroll.full" : "llvm.loop.unroll.enable",
         nullptr);
  } else {
    return nullptr;
  }
  llvm::MDNode *N = llvm::MDNode::getDistinct(Ctx, Ops);
  N->replaceOperandWith(0, N);
  return N;
}

void KernelEmitter::emitFor(const StmtNode &S) {
  if (S.Loop == ForKind::GpuBlock || S.Loop == ForKind::GpuThread) {
    if (Target.isCPU()) {
      fail("loop '" + S.Name + "' is bound to the GPU (" +
           forKindName(S.Loop) + ") but the target is a CPU");
      return;
    }
    return emitGpuLoop(S);
  }
  if (S.Loop == ForKind::Tensorized && S.Extent->Kind == ExprKind::IntImm &&
      Target.Info.hasByteDot(S.Extent->IntValue)) {
    std::string Why;
    std::optional<ByteDot> D = matchByteDot(S, {}, Why);
    if (!D) {
      fail("tensorized loop '" + S.Name + "': " + Why);
      return;
    }
    return emitByteDot(*D);
  }
  // A tensorized loop the target has no instruction for runs as written.
  Value *Min = emitExpr(S.Min);
  Value *Extent = emitExpr(S.Extent);
  if (Failed)
    return;
  // Inside a task (Pool is null there) a parallel loop runs serially.
  if (S.Loop == ForKind::Parallel && Pool)
    return emitParallelFor(S, Min, Extent);
  emitLoop(S, Min, B.CreateAdd(Min, Extent, S.Name + ".end", false, true));
}

void KernelEmitter::emitLoop(const StmtNode &S, Value *Min, Value *End) {
  llvm::BasicBlock *Pre = B.GetInsertBlock();
  llvm::BasicBlock *Header = llvm::BasicBlock::Create(Ctx, S.Name + ".loop", Fn);
  llvm::BasicBlock *Exit = llvm::BasicBlock::Create(Ctx, S.Name + ".exit");
  B.CreateCondBr(B.CreateICmpSLT(Min, End), Header, Exit);
  B.SetInsertPoint(Header);
  llvm::PHINode *I = B.CreatePHI(B.getInt64Ty(), 2, S.Name);
  I->addIncoming(Min, Pre);
  Vars.push_back({S.Name, I});
  emitStmt(S.Body);
  Vars.pop_back();
  Value *Next = B.CreateAdd(I, B.getInt64(1), S.Name + ".next", false, true);
  llvm::BranchInst *Latch =
      B.CreateCondBr(B.CreateICmpSLT(Next, End), Header, Exit);
  I->addIncoming(Next, B.GetInsertBlock());
  if (llvm::MDNode *MD = loopMetadata(S))
    Latch->setMetadata(llvm::LLVMContext::MD_loop, MD);
  Exit->insertInto(Fn);
  B.SetInsertPoint(Exit);
}

/// One vpdpbusd for the nest: with the lane and step loops at their first
/// iteration, the indices address lane 0's accumulator and the first of the
/// bytes each factor reads (all the lanes' bytes follow, or every lane
/// reads the same four: one 32-bit load, broadcast).
void KernelEmitter::emitByteDot(const ByteDot &D) {
  if (D.Store->Indices.size() != 1 || D.Unsigned->Operands.size() != 1 ||
      D.Signed->Operands.size() != 1) {
    fail("tensorized loop '" + D.Lanes->Name +
         "' has an access indexed per dimension (not flattened)");
    return;
  }
  Vars.push_back({D.Lanes->Name, emitExpr(D.Lanes->Min)});
  Vars.push_back({D.Steps->Name, emitExpr(D.Steps->Min)});
  unsigned W = unsigned(D.Width);
  auto *Lanes = llvm::FixedVectorType::get(B.getInt32Ty(), W);
  auto Address = [&](const std::string &Name, const Expr &Index,
                     llvm::Type *Elem) -> Value * {
    const Buffer *Buf = lookupBuffer(Name);
    return B.CreateGEP(Elem, Buf->Ptr, emitExpr(Index));
  };
  auto Bytes = [&](const ExprNode &L, bool Splat) -> Value * {
    Value *Addr = Address(L.Name, L.Operands[0], B.getInt8Ty());
    if (!Splat)
      return B.CreateAlignedLoad(Lanes, Addr, llvm::Align(1));
    return B.CreateVectorSplat(
        W, B.CreateAlignedLoad(B.getInt32Ty(), Addr, llvm::Align(1)));
  };
  Value *AccAddr = Address(D.Store->Name, D.Store->index(), B.getInt32Ty());
  Value *Acc = B.CreateAlignedLoad(Lanes, AccAddr, llvm::Align(4));
  Value *U = Bytes(*D.Unsigned, D.UnsignedSplat);
  Value *S = Bytes(*D.Signed, D.SignedSplat);
  Vars.pop_back();
  Vars.pop_back();
  llvm::Intrinsic::ID ID = W == 16  ? llvm::Intrinsic::x86_avx512_vpdpbusd_512
                           : W == 8 ? llvm::Intrinsic::x86_avx512_vpdpbusd_256
                                    : llvm::Intrinsic::x86_avx512_vpdpbusd_128;
  llvm::Function *F = llvm::Intrinsic::getDeclaration(&M, ID);
  llvm::FunctionType *FT = F->getFunctionType();
  Value *Sum = B.CreateCall(F, {B.CreateBitCast(Acc, FT->getParamType(0)),
                                B.CreateBitCast(U, FT->getParamType(1)),
                                B.CreateBitCast(S, FT->getParamType(2))});
  B.CreateAlignedStore(B.CreateBitCast(Sum, Lanes), AccAddr, llvm::Align(4));
}

void KernelEmitter::emitIf(const StmtNode &S) {
  Value *Cond = emitExpr(S.Cond);
  if (Failed)
    return;
  llvm::BasicBlock *Then = llvm::BasicBlock::Create(Ctx, "then", Fn);
  llvm::BasicBlock *Else = S.Else ? llvm::BasicBlock::Create(Ctx, "else") : nullptr;
  llvm::BasicBlock *Merge = llvm::BasicBlock::Create(Ctx, "endif");
  B.CreateCondBr(Cond, Then, Else ? Else : Merge);
  B.SetInsertPoint(Then);
  emitStmt(S.Body);
  B.CreateBr(Merge);
  if (Else) {
    Else->insertInto(Fn);
    B.SetInsertPoint(Else);
    emitStmt(S.Else);
    B.CreateBr(Merge);
  }
  Merge->insertInto(Fn);
  B.SetInsertPoint(Merge);
}

void KernelEmitter::emitAllocate(const StmtNode &S) {
  if (S.Size <= 0) {
    fail("local buffer '" + S.Name + "' has no elements");
    return;
  }
  llvm::IRBuilder<> EB(EntryBlock);
  llvm::Type *Elem = memoryType(S.Elem, Ctx);
  uint64_t Bytes = uint64_t(S.Size) * elementBytes(S.Elem);
  llvm::AllocaInst *A = EB.CreateAlloca(Elem, EB.getInt64(S.Size), S.Name);
  A->setAlignment(llvm::Align(Bytes >= 64 ? 64 : elementBytes(S.Elem)));
  // Lifetime markers let the backend share stack slots between local
  // buffers that are never live together (also across inlined kernels).
  B.CreateLifetimeStart(A, B.getInt64(Bytes));
  Buffers.push_back({S.Name, {A, S.Elem}});
  emitStmt(S.Body);
  Buffers.pop_back();
  B.CreateLifetimeEnd(A, B.getInt64(Bytes));
}

/// The address of a (possibly vector) access: a scalar pointer when the
/// index is scalar, a Broadcast or a dense Ramp (Dense tells which of the
/// last two), a vector of pointers otherwise.
llvm::Value *KernelEmitter::address(const Buffer &Buf, const Expr &Index,
                                    bool &Dense) {
  llvm::Type *Elem = memoryType(Buf.Elem, Ctx);
  Dense = Index->Type.isVector() && Index->Kind == ExprKind::Ramp &&
          Index->Operands[1]->Kind == ExprKind::IntImm &&
          Index->Operands[1]->IntValue == 1;
  // A dense ramp addresses its first element.
  return B.CreateGEP(Elem, Buf.Ptr,
                     emitExpr(Dense ? Index->Operands[0] : Index));
}

/// The stride of a ramp index of constant stride 2 to MaxStridedLoad, or 0.
/// Such loads are one dense load of the span the lanes cover and a shuffle
/// picking every stride-th element (stridedLoad), not a gather: pooling and
/// im2col read every second input element of a stride-2 window.
static int64_t smallStride(const ExprNode &Index) {
  constexpr int64_t MaxStridedLoad = 4;
  if (Index.Kind != ExprKind::Ramp ||
      Index.Operands[1]->Kind != ExprKind::IntImm)
    return 0;
  int64_t S = Index.Operands[1]->IntValue;
  return S >= 2 && S <= MaxStridedLoad ? S : 0;
}

llvm::Value *KernelEmitter::stridedLoad(const Buffer &Buf, const Expr &Index,
                                        unsigned Lanes, int64_t Stride) {
  llvm::Type *Elem = memoryType(Buf.Elem, Ctx);
  // Exactly the elements from the first lane's to the last lane's: nothing
  // outside what a gather would read.
  unsigned Span = unsigned((Lanes - 1) * Stride + 1);
  Value *Addr = B.CreateGEP(Elem, Buf.Ptr, emitExpr(Index->Operands[0]));
  Value *Wide = B.CreateAlignedLoad(llvm::FixedVectorType::get(Elem, Span),
                                    Addr, llvm::Align(elementBytes(Buf.Elem)));
  llvm::SmallVector<int, 64> Mask;
  for (unsigned L = 0; L < Lanes; ++L)
    Mask.push_back(int(L * Stride));
  return B.CreateShuffleVector(Wide, Mask);
}

void KernelEmitter::emitStore(const StmtNode &S) {
  const Buffer *Buf = lookupBuffer(S.Name);
  if (!Buf) {
    fail("store to unknown buffer '" + S.Name + "'");
    return;
  }
  if (S.Value->Type.Scalar != Buf->Elem) {
    fail("store of " + S.Value->Type.str() + " into buffer '" + S.Name +
         "' of " + scalarTypeName(Buf->Elem));
    return;
  }
  Value *V = toMemory(emitExpr(S.Value), Buf->Elem);
  bool Dense;
  Value *Addr = address(*Buf, S.index(), Dense);
  if (Failed)
    return;
  llvm::Align A(elementBytes(Buf->Elem));
  unsigned Lanes = S.Value->Type.Lanes;
  if (Lanes == 1 || Dense) {
    B.CreateAlignedStore(V, Addr, A);
    return;
  }
  // Lanes with equal addresses are written in lane order: the last wins.
  B.CreateMaskedScatter(V, Addr, A);
}

/// llvm.prefetch (read, keep in all cache levels) of the element's line. The
/// address is computed without `inbounds`: the element may lie past the
/// buffer, and a prefetch never faults. GPUs get none (the hint is dropped).
void KernelEmitter::emitPrefetch(const StmtNode &S) {
  if (!Target.isCPU())
    return;
  const Buffer *Buf = lookupBuffer(S.Name);
  if (!Buf) {
    fail("prefetch of unknown buffer '" + S.Name + "'");
    return;
  }
  if (S.Indices.size() != 1) {
    fail("prefetch of '" + S.Name + "' at a multi-dimensional index");
    return;
  }
  Value *Addr =
      B.CreateGEP(memoryType(Buf->Elem, Ctx), Buf->Ptr, emitExpr(S.Indices[0]));
  B.CreateIntrinsic(llvm::Intrinsic::prefetch, {B.getPtrTy()},
                    {Addr, B.getInt32(0), B.getInt32(3), B.getInt32(1)});
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

llvm::Value *KernelEmitter::emitExpr(const Expr &E) {
  llvm::Type *Ty = registerType(E->Type);
  if (Failed)
    return llvm::PoisonValue::get(Ty);
  switch (E->Kind) {
  case ExprKind::IntImm:
  case ExprKind::FloatImm:
    return emitImm(*E);
  case ExprKind::Var:
    if (Value *V = lookupVar(E->Name))
      return V;
    return fail("unknown variable '" + E->Name + "'", Ty);
  case ExprKind::Binary:
    return emitBinary(*E);
  case ExprKind::Not: {
    Value *A = emitExpr(E->Operands[0]);
    if (isFloat(E->Type.Scalar))
      return fail("logical not of a float", Ty);
    return B.CreateNot(A);
  }
  case ExprKind::Select: {
    Value *C = emitExpr(E->Operands[0]);
    Value *T = emitExpr(E->Operands[1]);
    Value *F = emitExpr(E->Operands[2]);
    return B.CreateSelect(C, T, F);
  }
  case ExprKind::Load:
    return emitLoad(*E);
  case ExprKind::Cast:
    return emitCast(emitExpr(E->Operands[0]), E->Operands[0]->Type, E->Type);
  case ExprKind::Call:
    return emitCall(*E);
  case ExprKind::Ramp:
    return emitRamp(*E);
  case ExprKind::Broadcast:
    return B.CreateVectorSplat(E->Type.Lanes, emitExpr(E->Operands[0]));
  }
  llvm_unreachable("unknown expression kind");
}

llvm::Value *KernelEmitter::emitImm(const ExprNode &E) {
  llvm::Type *Ty = registerType(DataType(E.Type.Scalar));
  llvm::Constant *C;
  if (isFloat(E.Type.Scalar)) {
    double V = E.Kind == ExprKind::IntImm ? double(E.IntValue) : E.FloatValue;
    llvm::APFloat F(V);
    bool LosesInfo;
    if (E.Type.Scalar == ScalarType::F16) // round to half, hold as float
      F.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
                &LosesInfo);
    F.convert(Ty->getFltSemantics(), llvm::APFloat::rmNearestTiesToEven,
              &LosesInfo);
    C = llvm::ConstantFP::get(Ctx, F);
  } else {
    int64_t V = E.Kind == ExprKind::FloatImm ? int64_t(E.FloatValue) : E.IntValue;
    if (E.Type.Scalar == ScalarType::Bool)
      V = V != 0;
    unsigned Bits = Ty->getIntegerBitWidth();
    C = llvm::ConstantInt::get(Ctx, llvm::APInt(64, uint64_t(V)).trunc(Bits));
  }
  if (E.Type.isVector())
    return llvm::ConstantVector::getSplat(
        llvm::ElementCount::getFixed(E.Type.Lanes), C);
  return C;
}

llvm::Value *KernelEmitter::emitLoad(const ExprNode &E) {
  llvm::Type *Ty = registerType(E.Type);
  const Buffer *Buf = lookupBuffer(E.Name);
  if (!Buf)
    return fail("load from unknown buffer '" + E.Name + "'", Ty);
  if (E.Type.Scalar != Buf->Elem)
    return fail("load of " + E.Type.str() + " from buffer '" + E.Name +
                    "' of " + scalarTypeName(Buf->Elem),
                Ty);
  llvm::Type *Elem = memoryType(Buf->Elem, Ctx);
  llvm::Align A(elementBytes(Buf->Elem));
  unsigned Lanes = E.Type.Lanes;
  const Expr &Index = E.Operands[0];
  if (Index->Kind == ExprKind::Broadcast) { // one element, splatted
    Value *P = B.CreateGEP(Elem, Buf->Ptr, emitExpr(Index->Operands[0]));
    Value *V = fromMemory(B.CreateAlignedLoad(Elem, P, A), Buf->Elem);
    return B.CreateVectorSplat(Lanes, V);
  }
  bool Dense;
  Value *Addr = address(*Buf, Index, Dense);
  if (Failed)
    return llvm::PoisonValue::get(Ty);
  Value *V;
  if (Lanes == 1)
    V = B.CreateAlignedLoad(Elem, Addr, A);
  else if (Dense)
    V = B.CreateAlignedLoad(llvm::FixedVectorType::get(Elem, Lanes), Addr, A);
  else if (int64_t S = smallStride(*Index))
    V = stridedLoad(*Buf, Index, Lanes, S);
  else
    V = B.CreateMaskedGather(llvm::FixedVectorType::get(Elem, Lanes), Addr, A);
  return fromMemory(V, Buf->Elem);
}

llvm::Value *KernelEmitter::emitRamp(const ExprNode &E) {
  Value *Base = emitExpr(E.Operands[0]);
  Value *Stride = emitExpr(E.Operands[1]);
  unsigned Lanes = E.Type.Lanes;
  ScalarType S = E.Type.Scalar;
  llvm::SmallVector<llvm::Constant *, 16> Steps;
  for (unsigned I = 0; I < Lanes; ++I)
    Steps.push_back(isFloat(S) ? llvm::ConstantFP::get(Base->getType(), I)
                               : llvm::ConstantInt::get(Base->getType(), I));
  Value *Offsets = llvm::ConstantVector::get(Steps);
  Value *BaseV = B.CreateVectorSplat(Lanes, Base);
  Value *StrideV = B.CreateVectorSplat(Lanes, Stride);
  if (S == ScalarType::Bool)
    return fail("ramp of bool", registerType(E.Type));
  if (!isFloat(S))
    return B.CreateAdd(BaseV, B.CreateMul(StrideV, Offsets));
  Value *R = B.CreateFAdd(BaseV, B.CreateFMul(StrideV, Offsets));
  return S == ScalarType::F16 ? roundToHalf(R) : R;
}

//===----------------------------------------------------------------------===//
// Binary operations
//===----------------------------------------------------------------------===//

static bool isComparison(BinaryOp Op) {
  return Op >= BinaryOp::LT && Op <= BinaryOp::NE;
}

/// The predicate of a comparison of two T values. Float comparisons are
/// ordered (false for NaN) except !=, which is true for NaN, as in C.
static llvm::CmpInst::Predicate comparePredicate(BinaryOp Op, ScalarType T) {
  using llvm::CmpInst;
  bool F = isFloat(T), S = isSigned(T);
  switch (Op) {
  case BinaryOp::LT:
    return F ? CmpInst::FCMP_OLT : S ? CmpInst::ICMP_SLT : CmpInst::ICMP_ULT;
  case BinaryOp::LE:
    return F ? CmpInst::FCMP_OLE : S ? CmpInst::ICMP_SLE : CmpInst::ICMP_ULE;
  case BinaryOp::GT:
    return F ? CmpInst::FCMP_OGT : S ? CmpInst::ICMP_SGT : CmpInst::ICMP_UGT;
  case BinaryOp::GE:
    return F ? CmpInst::FCMP_OGE : S ? CmpInst::ICMP_SGE : CmpInst::ICMP_UGE;
  case BinaryOp::EQ:
    return F ? CmpInst::FCMP_OEQ : CmpInst::ICMP_EQ;
  case BinaryOp::NE:
    return F ? CmpInst::FCMP_UNE : CmpInst::ICMP_NE;
  default:
    llvm_unreachable("not a comparison");
  }
}

llvm::Value *KernelEmitter::emitBinary(const ExprNode &E) {
  Value *A = emitExpr(E.Operands[0]);
  Value *Bv = emitExpr(E.Operands[1]);
  ScalarType T = E.Operands[0]->Type.Scalar;
  if (Failed)
    return llvm::PoisonValue::get(registerType(E.Type));
  if (isComparison(E.Op)) // any type, bool included
    return B.CreateCmp(comparePredicate(E.Op, T), A, Bv);
  if (isFloat(T))
    return emitFloatBinary(E.Op, A, Bv, T);
  return emitIntBinary(E.Op, A, Bv, T);
}

llvm::Value *KernelEmitter::emitFloatBinary(BinaryOp Op, Value *A, Value *Bv,
                                            ScalarType T) {
  Value *R;
  switch (Op) {
  case BinaryOp::Add:
    R = B.CreateFAdd(A, Bv);
    break;
  case BinaryOp::Sub:
    R = B.CreateFSub(A, Bv);
    break;
  case BinaryOp::Mul:
    R = B.CreateFMul(A, Bv);
    break;
  case BinaryOp::Div:
    R = B.CreateFDiv(A, Bv);
    break;
  case BinaryOp::Mod: // fmod, from the runtime (frem would call libm)
    R = emitRuntimeCall("fmod", {A, Bv}, T);
    break;
  case BinaryOp::Min:
    return B.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, A, Bv);
  case BinaryOp::Max:
    return B.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, A, Bv);
  default:
    return fail(llvm::Twine("'") + binaryOpName(Op) + "' on floats",
                A->getType());
  }
  return T == ScalarType::F16 ? roundToHalf(R) : R;
}

llvm::Value *KernelEmitter::emitIntBinary(BinaryOp Op, Value *A, Value *Bv,
                                          ScalarType T) {
  bool Signed = isSigned(T);
  if (T == ScalarType::Bool && Op != BinaryOp::And && Op != BinaryOp::Or &&
      Op != BinaryOp::Xor && Op != BinaryOp::Min && Op != BinaryOp::Max)
    return fail(llvm::Twine("'") + binaryOpName(Op) + "' on bool",
                A->getType());
  switch (Op) {
  case BinaryOp::Add:
    return B.CreateAdd(A, Bv);
  case BinaryOp::Sub:
    return B.CreateSub(A, Bv);
  case BinaryOp::Mul:
    return B.CreateMul(A, Bv);
  case BinaryOp::Div:
    return Signed ? B.CreateSDiv(A, Bv) : B.CreateUDiv(A, Bv);
  case BinaryOp::Mod:
    return Signed ? B.CreateSRem(A, Bv) : B.CreateURem(A, Bv);
  case BinaryOp::Min:
    return B.CreateBinaryIntrinsic(
        Signed ? llvm::Intrinsic::smin : llvm::Intrinsic::umin, A, Bv);
  case BinaryOp::Max:
    return B.CreateBinaryIntrinsic(
        Signed ? llvm::Intrinsic::smax : llvm::Intrinsic::umax, A, Bv);
  case BinaryOp::And:
    return B.CreateAnd(A, Bv);
  case BinaryOp::Or:
    return B.CreateOr(A, Bv);
  case BinaryOp::Xor:
    return B.CreateXor(A, Bv);
  case BinaryOp::Shl:
  case BinaryOp::Shr:
    return emitShift(Op, A, Bv, T);
  case BinaryOp::LT:
  case BinaryOp::LE:
  case BinaryOp::GT:
  case BinaryOp::GE:
  case BinaryOp::EQ:
  case BinaryOp::NE:
    break; // emitBinary's
  }
  llvm_unreachable("unknown binary op");
}

/// Shifts by the bit width or more (or by a negative amount) are defined:
/// left and logical right shifts give 0, arithmetic right shifts the sign.
llvm::Value *KernelEmitter::emitShift(BinaryOp Op, Value *A, Value *Bv,
                                      ScalarType T) {
  llvm::Type *Ty = A->getType();
  unsigned Bits = Ty->getScalarSizeInBits();
  Value *Width = llvm::ConstantInt::get(Ty, Bits);
  Value *InRange = B.CreateICmpULT(Bv, Width);
  Value *Zero = llvm::Constant::getNullValue(Ty);
  if (Op == BinaryOp::Shl)
    return B.CreateSelect(InRange, B.CreateShl(A, Bv), Zero);
  if (!isSigned(T))
    return B.CreateSelect(InRange, B.CreateLShr(A, Bv), Zero);
  Value *Clamped =
      B.CreateSelect(InRange, Bv, llvm::ConstantInt::get(Ty, Bits - 1));
  return B.CreateAShr(A, Clamped);
}
