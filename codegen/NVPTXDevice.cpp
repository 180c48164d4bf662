//===- NVPTXDevice.cpp - Device code of the nvptx target ------------------===//
//
// Builds the device module (triple nvptx64-nvidia-cuda, the CPU's data
// layout) with one PTX `.entry` per launch. An entry's parameters are the
// kernel's buffers as generic pointers, in order; its body is the launch's
// statement emitted by the shared KernelEmitter, which turns the gpu_block
// loop variable into min + %ctaid.x and the gpu_thread one into min +
// %tid.x (KernelEmitter::emitGpuLoop, NVPTXLoops.cpp). Entries are marked
// both by the ptx_kernel calling convention and by `nvvm.annotations`
// (`kernel`, and `maxntidx` = the launch's block size).
//
// Math intrinsics call the runtime's tidal_* functions, as on the CPUs: the
// same C sources, compiled to bitcode for nvptx64 at build time
// (build/lib/nvptx/libtidalrt.bc, CodegenOptions::DeviceLibPath), are
// linked into the module (only the functions used), their target
// attributes replaced by the module's, then everything but the entries is
// internalized before LLVM's pipeline runs, so unused code disappears and
// the PTX calls nothing outside itself. The PTX is the NVPTX backend's
// assembly output; it is deterministic.
//
//===----------------------------------------------------------------------===//

#include "codegen/Backend.h"
#include "codegen/KernelEmitter.h"
#include "codegen/NVPTXCodegen.h"
#include "compiler/Diagnostics.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Linker/Linker.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace tidal;

namespace {

void annotate(llvm::Module &M, llvm::Function *F, llvm::StringRef Key,
              uint32_t Value) {
  llvm::LLVMContext &Ctx = M.getContext();
  llvm::Metadata *Ops[] = {
      llvm::ValueAsMetadata::get(F), llvm::MDString::get(Ctx, Key),
      llvm::ConstantAsMetadata::get(
          llvm::ConstantInt::get(llvm::Type::getInt32Ty(Ctx), Value))};
  M.getOrInsertNamedMetadata("nvvm.annotations")
      ->addOperand(llvm::MDNode::get(Ctx, Ops));
}

llvm::Function *declareEntry(llvm::Module &M, const GpuLaunch &L,
                             const Kernel &K, const TargetSetup &T) {
  llvm::LLVMContext &Ctx = M.getContext();
  std::vector<llvm::Type *> Params(K.Params.size(),
                                   llvm::PointerType::get(Ctx, 0));
  auto *FT = llvm::FunctionType::get(llvm::Type::getVoidTy(Ctx), Params, false);
  auto *F = llvm::Function::Create(FT, llvm::GlobalValue::ExternalLinkage,
                                   L.Entry, M);
  F->setCallingConv(llvm::CallingConv::PTX_Kernel);
  F->addFnAttr(llvm::Attribute::NoUnwind);
  setTargetAttributes(*F, T);
  for (size_t I = 0; I < K.Params.size(); ++I) {
    F->getArg(I)->setName(K.Params[I].Name);
    F->getArg(I)->addAttr(llvm::Attribute::NoCapture);
  }
  annotate(M, F, "kernel", 1);
  annotate(M, F, "maxntidx", L.Block);
  return F;
}

/// The runtime functions the kernels call but the module does not define.
std::vector<std::string> missingRuntimeFunctions(const llvm::Module &M) {
  std::vector<std::string> Names;
  for (const llvm::Function &F : M)
    if (F.isDeclaration() && !F.isIntrinsic() && F.getName().starts_with("tidal_"))
      Names.push_back(F.getName().str());
  return Names;
}

llvm::Error linkMathLibrary(llvm::Module &M, const TargetSetup &T,
                            llvm::StringRef Path) {
  if (missingRuntimeFunctions(M).empty())
    return llvm::Error::success();
  if (Path.empty())
    return makeError("the kernels call math functions but no device math "
                     "library was given (CodegenOptions::DeviceLibPath)");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buf =
      llvm::MemoryBuffer::getFile(Path);
  if (!Buf)
    return makeError("cannot read the device math library '" + Path +
                     "': " + Buf.getError().message() +
                     " (build the tidalrt-nvptx target)");
  llvm::Expected<std::unique_ptr<llvm::Module>> Lib =
      llvm::parseBitcodeFile((*Buf)->getMemBufferRef(), M.getContext());
  if (!Lib)
    return makeError("cannot load the device math library '" + Path +
                     "': " + toString(Lib.takeError()));
  (*Lib)->setTargetTriple(M.getTargetTriple());
  (*Lib)->setDataLayout(M.getDataLayout());
  for (llvm::Function &F : **Lib)
    if (!F.isDeclaration())
      setTargetAttributes(F, T);
  if (llvm::Linker::linkModules(M, std::move(*Lib),
                                llvm::Linker::Flags::LinkOnlyNeeded))
    return makeError("cannot link the device math library '" + Path + "'");
  std::vector<std::string> Missing = missingRuntimeFunctions(M);
  if (!Missing.empty())
    return makeError("the device math library '" + Path + "' lacks '" +
                     Missing.front() + "'");
  return llvm::Error::success();
}

/// Everything but the entries becomes internal, so that the optimizer may
/// inline it and drop what is unused.
void internalize(llvm::Module &M) {
  for (llvm::Function &F : M)
    if (!F.isDeclaration() && F.getCallingConv() != llvm::CallingConv::PTX_Kernel)
      F.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &G : M.globals())
    if (!G.isDeclaration())
      G.setLinkage(llvm::GlobalValue::InternalLinkage);
}

llvm::Error emitEntries(llvm::Module &M, const Program &P,
                        const std::vector<std::vector<GpuLaunch>> &Launches,
                        const TargetSetup &T) {
  KernelEmitter KE(M, T);
  for (const std::vector<GpuLaunch> &List : Launches)
    for (const GpuLaunch &L : List) {
      const Kernel &K = P.Kernels[L.Kernel];
      Kernel Part;
      Part.Name = K.Name;
      Part.Params = K.Params;
      Part.Body = L.Body;
      if (llvm::Error E = KE.emitKernel(Part, declareEntry(M, L, K, T)))
        return E;
    }
  return llvm::Error::success();
}

} // namespace

llvm::Error tidal::checkNVPTXCPU(const CodegenOptions &Opts) {
  if (Opts.CPU.empty() || Opts.CPU == "sm_80" || Opts.CPU == "sm_90")
    return llvm::Error::success();
  return makeError("unsupported CPU '" + Opts.CPU +
                   "' for target nvptx (expected sm_80 or sm_90)");
}

llvm::Expected<std::unique_ptr<llvm::Module>>
tidal::buildDeviceModule(const Program &P, const TargetSetup &T,
                         llvm::StringRef DeviceLibPath,
                         llvm::LLVMContext &Ctx) {
  llvm::Expected<std::vector<std::vector<GpuLaunch>>> Launches =
      planLaunches(P);
  if (!Launches)
    return Launches.takeError();
  std::unique_ptr<llvm::Module> M = createModule(P, T, Ctx);
  if (llvm::Error E = emitEntries(*M, P, *Launches, T))
    return std::move(E);
  if (llvm::Error E = verifyGenerated(*M))
    return std::move(E);
  if (llvm::Error E = linkMathLibrary(*M, T, DeviceLibPath))
    return std::move(E);
  internalize(*M);
  return std::move(M);
}
