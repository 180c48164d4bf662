//===- ModuleEmitter.cpp - A Program to one LLVM module -------------------===//
//
// Builds the module of a Program: the weights as one internal constant in
// the section `.tidal.weights.<name>` (64-byte aligned, marked externally
// initialized so that the optimizer never copies them elsewhere), one internal
// function per kernel (`<name>.<kernel>`: a dot cannot clash with a C
// symbol) and the two external symbols: `int <name>_run_threaded(struct
// tidal_pool *pool, const void *const inputs[], void *const outputs[], void
// *workspace)`, which calls the kernels in Program::Calls order with
// pointers computed from the bindings and the pool (every kernel takes it
// last, for its parallel loops: KernelParallel.cpp), and `int
// <name>_run(inputs, outputs, workspace)`, which calls it without a pool.
// With external weights (--weights external) there is no weights global:
// `<name>_run_threaded` first asks the firmware's `<name>_load_weights()`
// for their address, returns an error code when it is NULL or misaligned,
// and computes the kernels' weight pointers from it.
//
// Kernel parameters are `noalias` unless some call binds a written
// parameter and another parameter of the same call to overlapping storage
// (in-place kernels), `align 64` when every call binds them to the weights
// or the workspace at 64-aligned offsets, and `dereferenceable` for their
// whole size. It assumes memory planning has replaced every Temp binding
// (checkBinding rejects the rest) and that user inputs and outputs do not
// overlap (docs/abi.md). Optimization and code generation are Backend.cpp's.
//
//===----------------------------------------------------------------------===//

#include "codegen/ModuleEmitter.h"
#include "codegen/Backend.h"
#include "codegen/KernelEmitter.h"
#include "compiler/Diagnostics.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"

using namespace tidal;

namespace {

/// What every call of a kernel lets codegen promise about one parameter.
struct ParamFacts {
  bool NoAlias = true;
  bool Align64 = true;
};

uint64_t paramBytes(const BufferDecl &D) {
  return uint64_t(D.Size) * elementBytes(D.Elem);
}

llvm::Error bindingError(const KernelCall &C, const BufferDecl &D,
                         const llvm::Twine &Why) {
  return makeError("call of kernel '" + C.Kernel + "': argument '" + D.Name +
                   "' " + Why);
}

bool mayOverlap(const BufferBinding &A, uint64_t ABytes,
                const BufferBinding &B, uint64_t BBytes) {
  if (A.Storage != B.Storage)
    return false;
  if (A.Storage == StorageKind::Input || A.Storage == StorageKind::Output)
    return A.Index == B.Index;
  return A.Offset < B.Offset + int64_t(BBytes) &&
         B.Offset < A.Offset + int64_t(ABytes);
}

/// Checks every call and gathers, per kernel, the facts of its parameters.
llvm::Error analyzeCalls(const Program &P,
                         std::vector<std::vector<ParamFacts>> &Facts) {
  Facts.clear();
  for (const Kernel &K : P.Kernels)
    Facts.emplace_back(K.Params.size());
  for (const KernelCall &C : P.Calls) {
    llvm::Expected<const Kernel *> K = calledKernel(P, C);
    if (!K)
      return K.takeError();
    std::vector<ParamFacts> &F = Facts[*K - P.Kernels.data()];
    for (size_t I = 0; I < C.Args.size(); ++I) {
      const BufferDecl &D = (*K)->Params[I];
      const BufferBinding &Bd = C.Args[I];
      if (llvm::Error E = checkBinding(P, C, D, Bd))
        return E;
      bool Aligned = (Bd.Storage == StorageKind::Weights ||
                      Bd.Storage == StorageKind::Workspace) &&
                     Bd.Offset % 64 == 0;
      F[I].Align64 &= Aligned;
      for (size_t J = 0; J < I; ++J) {
        bool Written = !D.ReadOnly || !(*K)->Params[J].ReadOnly;
        if (Written && mayOverlap(Bd, paramBytes(D), C.Args[J],
                                  paramBytes((*K)->Params[J])))
          F[I].NoAlias = F[J].NoAlias = false;
      }
    }
  }
  return llvm::Error::success();
}

/// The attributes every function gets: the CPU, its features and, on x86,
/// the vector width Tidal's own vectorizer assumed.
void addTargetAttributes(llvm::Function *F, const TargetSetup &T) {
  F->addFnAttr(llvm::Attribute::NoUnwind);
  setTargetAttributes(*F, T);
  if (T.Kind == TargetSetup::Arch::X86_64) {
    std::string Bits = std::to_string(T.Info.VectorBits);
    F->addFnAttr("prefer-vector-width", Bits);
    F->addFnAttr("min-legal-vector-width", Bits);
  }
}

llvm::Function *declareKernel(llvm::Module &M, const Program &P,
                              const Kernel &K,
                              const std::vector<ParamFacts> &Facts,
                              const TargetSetup &T) {
  llvm::LLVMContext &Ctx = M.getContext();
  // The buffers, then the thread pool.
  std::vector<llvm::Type *> Params(K.Params.size() + 1,
                                   llvm::PointerType::get(Ctx, 0));
  auto *FT = llvm::FunctionType::get(llvm::Type::getVoidTy(Ctx), Params, false);
  auto *F = llvm::Function::Create(FT, llvm::GlobalValue::InternalLinkage,
                                   P.Name + "." + K.Name, M);
  addTargetAttributes(F, T);
  // Each kernel stays a function of its own: inlined into the run function
  // (every kernel called once would be), a model of 240 kernels made one
  // function of 150,000 LLVM instructions, on which LLVM's loop passes
  // (scalar evolution, strength reduction) take superlinear time:
  // densenet121 compiled in 25 s, 12.8 s with calls. A call costs a few
  // nanoseconds per kernel and run.
  F->addFnAttr(llvm::Attribute::NoInline);
  for (size_t I = 0; I < K.Params.size(); ++I) {
    const BufferDecl &D = K.Params[I];
    llvm::Argument *A = F->getArg(I);
    A->setName(D.Name);
    A->addAttr(llvm::Attribute::NoCapture);
    if (Facts[I].NoAlias)
      A->addAttr(llvm::Attribute::NoAlias);
    if (D.ReadOnly)
      A->addAttr(llvm::Attribute::ReadOnly);
    if (Facts[I].Align64)
      A->addAttr(llvm::Attribute::getWithAlignment(Ctx, llvm::Align(64)));
    if (uint64_t Bytes = paramBytes(D))
      A->addAttr(llvm::Attribute::getWithDereferenceableBytes(Ctx, Bytes));
  }
  F->getArg(K.Params.size())->setName("pool");
  return F;
}

/// The pointer a binding denotes inside `<name>_run_threaded`, where
/// Weights is the weights' address.
llvm::Value *bindingPointer(llvm::IRBuilder<> &B, llvm::Function *Run,
                            llvm::Value *Weights, const BufferBinding &Bd) {
  llvm::Type *Ptr = B.getPtrTy();
  switch (Bd.Storage) {
  case StorageKind::Input:
  case StorageKind::Output: {
    llvm::Value *Array = Run->getArg(Bd.Storage == StorageKind::Input ? 1 : 2);
    llvm::Value *Slot = B.CreateConstInBoundsGEP1_64(Ptr, Array, Bd.Index);
    return B.CreateAlignedLoad(Ptr, Slot, llvm::Align(8));
  }
  case StorageKind::Weights:
    return B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), Weights, Bd.Offset);
  case StorageKind::Workspace:
    return B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), Run->getArg(3), Bd.Offset);
  case StorageKind::Temp:
    break;
  }
  llvm_unreachable("temporaries are rejected by analyzeCalls");
}

/// Ends the block at B with a branch that returns Code from F when Failed
/// holds, and continues B in the block where it does not.
void returnIf(llvm::IRBuilder<> &B, llvm::Function *F, llvm::Value *Failed,
              int Code) {
  llvm::LLVMContext &Ctx = F->getContext();
  auto *Fail = llvm::BasicBlock::Create(Ctx, "fail", F);
  auto *Next = llvm::BasicBlock::Create(Ctx, "next", F);
  B.CreateCondBr(Failed, Fail, Next);
  B.SetInsertPoint(Fail);
  B.CreateRet(B.getInt32(Code));
  B.SetInsertPoint(Next);
}

/// The weights' address in `<name>_run_threaded`: the global, or for
/// external weights what `<name>_load_weights()` returns. The checks come
/// before any kernel, so a failed call leaves the outputs untouched; and
/// the alignment the kernels' `align` attributes assume becomes an error
/// code instead of undefined behaviour.
llvm::Value *weightsBase(llvm::IRBuilder<> &B, llvm::Function *Threaded,
                         const Program &P, const TargetSetup &T,
                         llvm::GlobalVariable *Global) {
  if (!T.ExternalWeights || P.Weights.empty())
    return Global;
  llvm::Module &M = *Threaded->getParent();
  llvm::FunctionCallee Hook = M.getOrInsertFunction(
      loadWeightsSymbol(P), llvm::FunctionType::get(B.getPtrTy(), false));
  llvm::Value *Base = B.CreateCall(Hook, {}, "weights");
  returnIf(B, Threaded, B.CreateIsNull(Base), RunErrorNoWeights);
  llvm::Type *IntPtr = M.getDataLayout().getIntPtrType(M.getContext());
  llvm::Value *Low =
      B.CreateAnd(B.CreatePtrToInt(Base, IntPtr), T.Align - 1, "misaligned");
  returnIf(B, Threaded, B.CreateIsNotNull(Low), RunErrorWeightsAlign);
  return Base;
}

/// `<name>_run_threaded(pool, inputs, outputs, workspace)`, which calls the
/// kernels, and `<name>_run(inputs, outputs, workspace)`, which calls it
/// with no pool. Neither is inlined into anything, so each exists once.
void emitEntryPoints(llvm::Module &M, const Program &P, const TargetSetup &T,
                     llvm::GlobalVariable *Weights,
                     const std::vector<llvm::Function *> &Kernels) {
  llvm::Function *Run = declareRun(M, P);
  llvm::Function *Threaded = declareRunThreaded(M, P);
  for (llvm::Function *F : {Run, Threaded}) {
    addTargetAttributes(F, T);
    unsigned First = F == Threaded;
    for (unsigned I = 0; I < 3; ++I) {
      F->getArg(First + I)->addAttr(llvm::Attribute::NoCapture);
      if (I < 2) // inputs and outputs: arrays of pointers, only read
        F->getArg(First + I)->addAttr(llvm::Attribute::ReadOnly);
    }
  }
  Threaded->addFnAttr(llvm::Attribute::NoInline);
  llvm::IRBuilder<> B(llvm::BasicBlock::Create(M.getContext(), "entry", Threaded));
  llvm::Value *Base = weightsBase(B, Threaded, P, T, Weights);
  for (const KernelCall &C : P.Calls) {
    const Kernel *K = P.findKernel(C.Kernel);
    std::vector<llvm::Value *> Args;
    for (const BufferBinding &Bd : C.Args)
      Args.push_back(bindingPointer(B, Threaded, Base, Bd));
    Args.push_back(Threaded->getArg(0));
    B.CreateCall(Kernels[K - P.Kernels.data()], Args);
  }
  B.CreateRet(B.getInt32(0));
  B.SetInsertPoint(llvm::BasicBlock::Create(M.getContext(), "entry", Run));
  llvm::Value *NoPool = llvm::ConstantPointerNull::get(B.getPtrTy());
  B.CreateRet(B.CreateCall(Threaded, {NoPool, Run->getArg(0), Run->getArg(1),
                                      Run->getArg(2)}));
}

} // namespace

llvm::Expected<std::unique_ptr<llvm::Module>>
tidal::buildModule(const Program &P, const TargetSetup &T,
                   llvm::LLVMContext &Ctx) {
  std::vector<std::vector<ParamFacts>> Facts;
  if (llvm::Error E = analyzeCalls(P, Facts))
    return std::move(E);
  std::unique_ptr<llvm::Module> M = createModule(P, T, Ctx);
  llvm::GlobalVariable *Weights = emitWeights(*M, P, T);
  std::vector<llvm::Function *> Kernels;
  for (size_t I = 0; I < P.Kernels.size(); ++I)
    Kernels.push_back(declareKernel(*M, P, P.Kernels[I], Facts[I], T));
  emitEntryPoints(*M, P, T, Weights, Kernels);
  KernelEmitter KE(*M, T);
  for (size_t I = 0; I < P.Kernels.size(); ++I)
    if (llvm::Error E = KE.emitKernel(P.Kernels[I], Kernels[I]))
      return std::move(E);
  if (llvm::Error E = verifyGenerated(*M))
    return std::move(E);
  return std::move(M);
}

llvm::Expected<const Kernel *> tidal::calledKernel(const Program &P,
                                                   const KernelCall &C) {
  const Kernel *K = P.findKernel(C.Kernel);
  if (!K)
    return makeError("call of unknown kernel '" + C.Kernel + "'");
  if (C.Args.size() != K->Params.size())
    return makeError("call of kernel '" + C.Kernel + "' has " +
                     llvm::Twine(C.Args.size()) + " arguments, expected " +
                     llvm::Twine(K->Params.size()));
  return K;
}

llvm::Error tidal::checkBinding(const Program &P, const KernelCall &C,
                                const BufferDecl &D, const BufferBinding &Bd) {
  uint64_t Bytes = paramBytes(D);
  auto fits = [&](int64_t Offset, uint64_t Limit) {
    return Offset >= 0 && uint64_t(Offset) <= Limit &&
           Bytes <= Limit - uint64_t(Offset);
  };
  switch (Bd.Storage) {
  case StorageKind::Temp:
    return bindingError(C, D, "is still a temporary (memory planning must "
                              "run before codegen)");
  case StorageKind::Input:
    if (Bd.Index < 0 || size_t(Bd.Index) >= P.Inputs.size())
      return bindingError(C, D, "is bound to a missing input");
    if (!D.ReadOnly)
      return bindingError(C, D, "writes a graph input");
    if (!fits(0, P.Inputs[Bd.Index].Type.sizeInBytes()))
      return bindingError(C, D, "is larger than its input");
    return llvm::Error::success();
  case StorageKind::Output:
    if (Bd.Index < 0 || size_t(Bd.Index) >= P.Outputs.size())
      return bindingError(C, D, "is bound to a missing output");
    if (!fits(0, P.Outputs[Bd.Index].Type.sizeInBytes()))
      return bindingError(C, D, "is larger than its output");
    return llvm::Error::success();
  case StorageKind::Weights:
    if (!D.ReadOnly)
      return bindingError(C, D, "writes the weights");
    if (!fits(Bd.Offset, P.Weights.size()))
      return bindingError(C, D, "lies outside the weights");
    return llvm::Error::success();
  case StorageKind::Workspace:
    if (!fits(Bd.Offset, uint64_t(std::max<int64_t>(P.WorkspaceSize, 0))))
      return bindingError(C, D, "lies outside the workspace");
    return llvm::Error::success();
  }
  llvm_unreachable("unknown storage kind");
}

std::string tidal::weightsSection(const Program &P,
                                  llvm::StringRef WeightsSection) {
  return WeightsSection.empty() ? ".tidal.weights." + P.Name
                                : WeightsSection.str();
}

uint64_t tidal::bufferAlignment(const Program &P, StorageKind Storage,
                                size_t Index) {
  assert((Storage == StorageKind::Input || Storage == StorageKind::Output) &&
         "only inputs and outputs belong to the caller");
  const std::vector<IOInfo> &IOs =
      Storage == StorageKind::Input ? P.Inputs : P.Outputs;
  uint64_t Align = std::max(1u, elemBits(IOs[Index].Type.Elem) / 8);
  for (const KernelCall &C : P.Calls) {
    const Kernel *K = P.findKernel(C.Kernel);
    for (size_t I = 0; K && I < C.Args.size() && I < K->Params.size(); ++I)
      if (C.Args[I].Storage == Storage && size_t(C.Args[I].Index) == Index)
        Align = std::max<uint64_t>(Align, elementBytes(K->Params[I].Elem));
  }
  return Align;
}

std::string tidal::loadWeightsSymbol(const Program &P) {
  return P.Name + "_load_weights";
}

llvm::GlobalVariable *tidal::emitWeights(llvm::Module &M, const Program &P,
                                         const TargetSetup &T) {
  if (P.Weights.empty() || T.ExternalWeights)
    return nullptr;
  llvm::Constant *Init =
      llvm::ConstantDataArray::get(M.getContext(), llvm::ArrayRef<uint8_t>(P.Weights));
  auto *G = new llvm::GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                     llvm::GlobalValue::InternalLinkage, Init,
                                     P.Name + "_weights");
  G->setAlignment(llvm::Align(T.Align));
  G->setSection(weightsSection(P, T.WeightsSection));
  // Keeps LLVM from folding loads of weights into immediates and constant
  // pools (and then dropping the section): the weights stay where a linker
  // script can place them, once.
  G->setExternallyInitialized(true);
  return G;
}

llvm::Function *tidal::declareRunThreaded(llvm::Module &M, const Program &P) {
  llvm::Type *Ptr = llvm::PointerType::get(M.getContext(), 0);
  auto *FT = llvm::FunctionType::get(llvm::Type::getInt32Ty(M.getContext()),
                                     {Ptr, Ptr, Ptr, Ptr}, false);
  auto *Run = llvm::Function::Create(FT, llvm::GlobalValue::ExternalLinkage,
                                     P.Name + "_run_threaded", M);
  const char *Names[] = {"pool", "inputs", "outputs", "workspace"};
  for (unsigned I = 0; I < 4; ++I)
    Run->getArg(I)->setName(Names[I]);
  return Run;
}

llvm::Function *tidal::declareRun(llvm::Module &M, const Program &P) {
  llvm::Type *Ptr = llvm::PointerType::get(M.getContext(), 0);
  auto *FT = llvm::FunctionType::get(llvm::Type::getInt32Ty(M.getContext()),
                                     {Ptr, Ptr, Ptr}, false);
  auto *Run = llvm::Function::Create(FT, llvm::GlobalValue::ExternalLinkage,
                                     P.Name + "_run", M);
  const char *Names[] = {"inputs", "outputs", "workspace"};
  for (unsigned I = 0; I < 3; ++I)
    Run->getArg(I)->setName(Names[I]);
  return Run;
}
