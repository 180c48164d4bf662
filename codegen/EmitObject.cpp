//===- EmitObject.cpp - Objects, LLVM IR text and PTX of a Program --------===//
//
// The public entry points of codegen. Each one builds the module of the
// target (ModuleEmitter for a CPU, the device module for nvptx), optimizes
// it at the requested level, then hands it to its last step: the target's
// code generator (an object file, or PTX) or the IR printer (Backend.cpp
// holds those steps). The nvptx object is the host object that embeds the
// PTX (NVPTXHost.cpp).
//
// The output is deterministic: the module identifier and source file name
// are the program name, and nothing iterates in pointer or hash order.
//
//===----------------------------------------------------------------------===//

#include "codegen/Backend.h"
#include "codegen/Codegen.h"
#include "codegen/ModuleEmitter.h"
#include "codegen/NVPTXCodegen.h"
#include "compiler/Diagnostics.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

/// The optimized module of P for T: the whole program on a CPU, the device
/// code on nvptx.
static llvm::Expected<std::unique_ptr<llvm::Module>>
buildOptimizedModule(const Program &P, const CodegenOptions &Opts,
                     const TargetSetup &T, llvm::LLVMContext &Ctx) {
  if (llvm::Error E = checkOptLevel(Opts))
    return std::move(E);
  for (const Kernel &K : P.Kernels)
    if (hasMultiDimAccess(K.Body))
      return makeError("kernel '" + K.Name +
                       "': accesses indexed per dimension reach codegen "
                       "(the flatten pass did not run)");
  auto M = T.isCPU() ? buildModule(P, T, Ctx)
                     : buildDeviceModule(P, T, Opts.DeviceLibPath, Ctx);
  if (!M)
    return M.takeError();
  optimizeModule(**M, T, Opts.OptLevel);
  return M;
}

/// Sets up the target of Opts, builds the optimized module of P and hands
/// it to Use; LLVM's errors during either step are returned.
static llvm::Error compileAndUse(
    const Program &P, const CodegenOptions &Opts,
    llvm::function_ref<llvm::Error(llvm::Module &, const TargetSetup &)> Use) {
  auto T = setupTarget(Opts);
  if (!T)
    return T.takeError();
  CodegenContext Ctx;
  auto M = buildOptimizedModule(P, Opts, **T, Ctx.get());
  if (!M)
    return M.takeError();
  if (llvm::Error E = Ctx.errors())
    return E;
  if (llvm::Error E = Use(**M, **T))
    return E;
  return Ctx.errors();
}

llvm::Error tidal::emitObject(const Program &P, const CodegenOptions &Opts,
                              llvm::raw_pwrite_stream &OS) {
  if (Opts.Target == "nvptx") // A host object that launches PTX kernels.
    return emitNVPTXObject(P, Opts, OS);
  return compileAndUse(P, Opts, [&](llvm::Module &M, const TargetSetup &T) {
    return emitCode(M, T, OS, llvm::CodeGenFileType::ObjectFile);
  });
}

llvm::Error tidal::emitLLVMIR(const Program &P, const CodegenOptions &Opts,
                              llvm::raw_ostream &OS) {
  if (Opts.Target == "nvptx") // The device code's IR.
    if (llvm::Error E = checkNVPTXCPU(Opts))
      return E;
  return compileAndUse(P, Opts, [&](llvm::Module &M, const TargetSetup &) {
    M.print(OS, nullptr);
    return llvm::Error::success();
  });
}

llvm::Expected<std::string> tidal::compilePTX(const Program &P,
                                              const CodegenOptions &Opts) {
  if (llvm::Error E = checkNVPTXCPU(Opts))
    return std::move(E);
  llvm::SmallString<0> PTX;
  llvm::raw_svector_ostream OS(PTX);
  if (llvm::Error E =
          compileAndUse(P, Opts, [&](llvm::Module &M, const TargetSetup &T) {
            return emitCode(M, T, OS, llvm::CodeGenFileType::AssemblyFile);
          }))
    return std::move(E);
  return std::string(PTX.str());
}

llvm::Error tidal::emitPTX(const Program &P, const CodegenOptions &Opts,
                           llvm::raw_ostream &OS) {
  if (Opts.Target != "nvptx")
    return makeError("PTX can only be emitted for --target nvptx, not " +
                     Opts.Target);
  llvm::Expected<std::string> PTX = compilePTX(P, Opts);
  if (!PTX)
    return PTX.takeError();
  OS << *PTX;
  return llvm::Error::success();
}
