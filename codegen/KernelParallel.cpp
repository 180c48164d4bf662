//===- KernelParallel.cpp - Parallel loops as thread pool tasks -----------===//
//
// A `parallel` loop of a CPU kernel becomes a task: its body is outlined
// into an internal function `<kernel>.task<N>(ptr context, i64 begin,
// i64 end)` that runs iterations [min + begin, min + end), and the kernel
// calls the runtime's `tidal_parallel_for(pool, task, context, extent)`,
// which splits [0, extent) among the pool's threads (runtime/src/pool.c)
// and returns when all are done. The context is a struct on the kernel's
// stack holding every variable and buffer pointer in scope at the loop (the
// task loads the ones it uses; LLVM drops the rest), and the loop's min.
//
// Iterations of a parallel loop write disjoint elements (apply-schedule
// checks it), so the tasks need no synchronization, and each element is
// computed by the same instructions whatever thread runs it: outputs are
// bit-identical for any thread count. Local buffers allocated inside the
// loop are allocas of the task, private to each thread. A parallel loop
// inside a task runs serially.
//
//===----------------------------------------------------------------------===//

#include "codegen/KernelEmitter.h"
#include "llvm/IR/Module.h"

using namespace tidal;
using llvm::Value;

void KernelEmitter::emitParallelFor(const StmtNode &S, Value *Min,
                                    Value *Extent) {
  llvm::Type *Ptr = B.getPtrTy(), *I64 = B.getInt64Ty();
  // The context: Min, then every variable and buffer in scope.
  std::vector<Value *> Captured = {Min};
  for (const auto &V : Vars)
    Captured.push_back(V.second);
  for (const auto &Buf : Buffers)
    Captured.push_back(Buf.second.Ptr);
  std::vector<llvm::Type *> Types;
  for (Value *V : Captured)
    Types.push_back(V->getType());
  llvm::StructType *CtxTy = llvm::StructType::get(Ctx, Types);
  llvm::Value *Context;
  {
    llvm::IRBuilder<> EB(EntryBlock, EntryBlock->begin());
    Context = EB.CreateAlloca(CtxTy, nullptr, S.Name + ".context");
  }
  for (unsigned I = 0; I < Captured.size(); ++I)
    B.CreateStore(Captured[I], B.CreateStructGEP(CtxTy, Context, I));

  auto *TaskTy = llvm::FunctionType::get(B.getVoidTy(), {Ptr, I64, I64}, false);
  auto *Task = llvm::Function::Create(
      TaskTy, llvm::GlobalValue::InternalLinkage,
      Fn->getName() + ".task" + llvm::Twine(Tasks++), M);
  Task->setAttributes(llvm::AttributeList::get(
      Ctx, Fn->getAttributes().getFnAttrs(), {}, {}));
  Task->getArg(0)->addAttr(llvm::Attribute::NoAlias);

  // Emit the loop into the task, with the captured values reloaded.
  auto SavedIP = B.saveIP();
  llvm::Function *SavedFn = Fn;
  llvm::BasicBlock *SavedEntry = EntryBlock;
  auto SavedVars = Vars;
  auto SavedBuffers = Buffers;
  Value *SavedPool = Pool;
  Pool = nullptr;
  emitFunction(Task, [&] {
    auto Reload = [&](unsigned I) {
      return B.CreateLoad(Types[I],
                          B.CreateStructGEP(CtxTy, Task->getArg(0), I));
    };
    Value *TaskMin = Reload(0);
    unsigned Field = 1;
    for (auto &V : Vars)
      V.second = Reload(Field++);
    for (auto &Buf : Buffers)
      Buf.second.Ptr = Reload(Field++);
    emitLoop(S, B.CreateAdd(TaskMin, Task->getArg(1)),
             B.CreateAdd(TaskMin, Task->getArg(2)));
  });
  Fn = SavedFn;
  EntryBlock = SavedEntry;
  Vars = std::move(SavedVars);
  Buffers = std::move(SavedBuffers);
  Pool = SavedPool;
  B.restoreIP(SavedIP);

  llvm::FunctionCallee ParallelFor = M.getOrInsertFunction(
      "tidal_parallel_for",
      llvm::FunctionType::get(B.getVoidTy(), {Ptr, Ptr, Ptr, I64}, false));
  if (auto *F = llvm::dyn_cast<llvm::Function>(ParallelFor.getCallee()))
    F->setDoesNotThrow();
  B.CreateCall(ParallelFor, {Pool, Task, Context, Extent});
}
