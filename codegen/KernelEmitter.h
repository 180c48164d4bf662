//===- KernelEmitter.h - One loop IR kernel to an LLVM function -*- C++ -*-===//
//
// Internal to codegen/. Translates the body of one Kernel (statements and
// expressions of the loop IR) into the body of an LLVM function whose
// arguments are the kernel's buffers, in order, and on the CPU targets the
// thread pool last.
//
// Register representation: Bool is i1 (i8 in memory); f16 is held as a
// float in registers and rounded to half precision after every operation
// that can round (so results equal true f16 arithmetic), and converted
// from/to its 16 memory bits at loads and stores. This keeps the backend
// from ever needing the __extendhfsf2/__truncsfhf2 libcalls.
//
// Errors (types the emitter cannot handle, GPU loops on a CPU target, an
// unknown buffer) are sticky: the first is kept, emission continues with
// poison values, and emitKernel returns it.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_CODEGEN_KERNELEMITTER_H
#define TIDAL_CODEGEN_KERNELEMITTER_H

#include "codegen/TargetSetup.h"
#include "compiler/Loop.h"
#include "compiler/Tensorize.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/IR/IRBuilder.h"
#include <string>
#include <utility>
#include <vector>

namespace tidal {

/// The LLVM type of one element in memory (Bool is i8, f16 is i16).
llvm::Type *memoryType(ScalarType T, llvm::LLVMContext &Ctx);
/// Bytes of one element in memory.
unsigned elementBytes(ScalarType T);

class KernelEmitter {
public:
  KernelEmitter(llvm::Module &M, const TargetSetup &T);

  /// Emits K's body into F, whose arguments are K's parameters.
  llvm::Error emitKernel(const Kernel &K, llvm::Function *F);

private:
  struct Buffer {
    llvm::Value *Ptr;
    ScalarType Elem;
  };

  /// Makes F's entry block (where allocas go) and its body, which EmitBody
  /// fills; F returns at the end of the body.
  void emitFunction(llvm::Function *F, llvm::function_ref<void()> EmitBody);

  // Statements (KernelEmitter.cpp).
  void emitStmt(const Stmt &S);
  void emitFor(const StmtNode &S);
  /// The loop S from Min while below End, serially.
  void emitLoop(const StmtNode &S, llvm::Value *Min, llvm::Value *End);
  /// A parallel loop as a task on the thread pool (KernelParallel.cpp).
  void emitParallelFor(const StmtNode &S, llvm::Value *Min,
                       llvm::Value *Extent);
  /// A gpu_block / gpu_thread loop on the GPU: its variable is min plus the
  /// block / thread index (NVPTXLoops.cpp); the launch runs the iterations.
  void emitGpuLoop(const StmtNode &S);
  /// A tensorized byte dot product as the target's instruction.
  void emitByteDot(const ByteDot &D);
  void emitStore(const StmtNode &S);
  void emitPrefetch(const StmtNode &S);
  void emitAllocate(const StmtNode &S);
  void emitIf(const StmtNode &S);
  llvm::MDNode *loopMetadata(const StmtNode &S);

  // Expressions (KernelEmitter.cpp).
  llvm::Value *emitExpr(const Expr &E);
  llvm::Value *emitImm(const ExprNode &E);
  llvm::Value *emitLoad(const ExprNode &E);
  llvm::Value *emitBinary(const ExprNode &E);
  llvm::Value *emitFloatBinary(BinaryOp Op, llvm::Value *A, llvm::Value *B,
                               ScalarType T);
  llvm::Value *emitIntBinary(BinaryOp Op, llvm::Value *A, llvm::Value *B,
                             ScalarType T);
  llvm::Value *emitShift(BinaryOp Op, llvm::Value *A, llvm::Value *B,
                         ScalarType T);
  llvm::Value *emitRamp(const ExprNode &E);
  llvm::Value *address(const Buffer &B, const Expr &Index, bool &Dense);
  /// A load of Lanes elements of Buf at a ramp Index of constant Stride:
  /// one dense load of the span and a shuffle.
  llvm::Value *stridedLoad(const Buffer &Buf, const Expr &Index,
                           unsigned Lanes, int64_t Stride);

  // Casts, f16 and intrinsics (KernelMath.cpp).
  llvm::Value *emitCast(llvm::Value *V, DataType From, DataType To);
  llvm::Value *floatToInt(llvm::Value *V, DataType To);
  llvm::Value *floatToFloat(llvm::Value *V, ScalarType From, ScalarType To);
  llvm::Value *emitCall(const ExprNode &E);
  llvm::Value *emitMathCall(const ExprNode &E, std::vector<llvm::Value *> Args);
  llvm::Value *emitRuntimeCall(llvm::StringRef Name,
                               llvm::ArrayRef<llvm::Value *> Args,
                               ScalarType T);
  llvm::Value *emitRounding(llvm::StringRef Name, llvm::Value *V, ScalarType T);
  // exp, sigmoid, tanh and erf of f32 values without calls
  // (KernelVectorMath.cpp); null for other names.
  llvm::Value *emitInlineMath(llvm::StringRef Name, llvm::Value *X);
  llvm::Value *emitInlineErf(llvm::Value *X);
  llvm::Value *expandRounding(llvm::StringRef Name, llvm::Value *V,
                              ScalarType T);
  /// Rounds a float register holding an f16 value to half precision.
  llvm::Value *roundToHalf(llvm::Value *V);
  llvm::Value *halfBitsToFloat(llvm::Value *Bits);
  llvm::Value *floatToHalfBits(llvm::Value *V);
  llvm::Value *doubleToFloatOdd(llvm::Value *V);
  /// Memory representation <-> register representation.
  llvm::Value *fromMemory(llvm::Value *V, ScalarType T);
  llvm::Value *toMemory(llvm::Value *V, ScalarType T);

  // Helpers.
  llvm::Type *registerType(DataType T);
  llvm::Value *fail(const llvm::Twine &Msg, llvm::Type *Ty = nullptr);
  llvm::Value *lookupVar(const std::string &Name);
  const Buffer *lookupBuffer(const std::string &Name);

  llvm::Module &M;
  llvm::LLVMContext &Ctx;
  const TargetSetup &Target;
  llvm::IRBuilder<> B;
  llvm::Function *Fn = nullptr;
  llvm::BasicBlock *EntryBlock = nullptr;
  std::string KernelName;
  /// Scopes, innermost last; lookups search from the back.
  std::vector<std::pair<std::string, llvm::Value *>> Vars;
  std::vector<std::pair<std::string, Buffer>> Buffers;
  /// The kernel's thread pool argument (a `struct tidal_pool *`, null at
  /// run time when the model runs single-threaded); null inside a task and
  /// for kernels without one (GPU entries), where parallel loops are serial.
  llvm::Value *Pool = nullptr;
  /// Tasks outlined from this kernel so far (for their names).
  unsigned Tasks = 0;
  llvm::Error Err = llvm::Error::success();
  bool Failed = false;
};

} // namespace tidal

#endif
