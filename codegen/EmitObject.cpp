//===- EmitObject.cpp - Object files and LLVM IR text of a Program --------===//
//
// The public entry points of codegen: build the module (ModuleEmitter),
// optimize it with the new pass manager at the requested level, then either
// print it or run the target's code generator (the legacy pass manager, as
// LLVM 19 still requires for addPassesToEmitFile) into an object file.
//
// The output is deterministic: the module identifier and source file name
// are the program name, and nothing iterates in pointer or hash order.
//
//===----------------------------------------------------------------------===//

#include "codegen/Codegen.h"
#include "codegen/ModuleEmitter.h"
#include "codegen/NVPTXCodegen.h"
#include "codegen/TargetSetup.h"
#include "compiler/Diagnostics.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

namespace {
/// Keeps LLVM's remarks and warnings (e.g. "loop not vectorized") off the
/// user's terminal and collects errors, which the default handler would
/// turn into an exit of the whole process.
struct QuietHandler : llvm::DiagnosticHandler {
  std::string *Errors;
  explicit QuietHandler(std::string *Errors) : Errors(Errors) {}
  bool handleDiagnostics(const llvm::DiagnosticInfo &DI) override {
    if (DI.getSeverity() == llvm::DS_Error) {
      llvm::raw_string_ostream OS(*Errors);
      llvm::DiagnosticPrinterRawOStream DP(OS);
      DI.print(DP);
      OS << "\n";
    }
    return true;
  }
};

void quietContext(llvm::LLVMContext &Ctx, std::string &Errors) {
  Ctx.setDiagnosticHandler(std::make_unique<QuietHandler>(&Errors));
}

llvm::Error backendErrors(const std::string &Errors) {
  if (Errors.empty())
    return llvm::Error::success();
  return makeError("LLVM failed: " + Errors);
}
} // namespace

/// Sets up the target and builds the optimized module of P.
static llvm::Expected<std::unique_ptr<llvm::Module>>
compileModule(const Program &P, const CodegenOptions &Opts,
              const TargetSetup &T, llvm::LLVMContext &Ctx) {
  if (Opts.OptLevel > 3)
    return makeError("optimization level " + llvm::Twine(Opts.OptLevel) +
                     " is not one of 0, 1, 2, 3");
  if (!T.isCPU())
    return makeError("code generation for the nvptx target is not supported "
                     "yet");
  auto M = buildModule(P, T, Ctx);
  if (!M)
    return M.takeError();
  optimizeModule(**M, T, Opts.OptLevel);
  return M;
}

llvm::Error tidal::emitObject(const Program &P, const CodegenOptions &Opts,
                              llvm::raw_pwrite_stream &OS) {
  if (Opts.Target == "nvptx") // A host object that launches PTX kernels.
    return emitNVPTXObject(P, Opts, OS);
  auto T = setupTarget(Opts);
  if (!T)
    return T.takeError();
  llvm::LLVMContext Ctx;
  std::string Errors;
  quietContext(Ctx, Errors);
  auto M = compileModule(P, Opts, **T, Ctx);
  if (!M)
    return M.takeError();
  llvm::TargetLibraryInfoImpl TLII{llvm::Triple((*M)->getTargetTriple())};
  TLII.disableAllFunctions();
  llvm::legacy::PassManager PM;
  PM.add(new llvm::TargetLibraryInfoWrapperPass(TLII));
  if ((*T)->TM->addPassesToEmitFile(PM, OS, nullptr,
                                    llvm::CodeGenFileType::ObjectFile))
    return makeError("the " + Opts.Target + " backend cannot emit objects");
  PM.run(**M);
  return backendErrors(Errors);
}

llvm::Error tidal::emitLLVMIR(const Program &P, const CodegenOptions &Opts,
                              llvm::raw_ostream &OS) {
  if (Opts.Target == "nvptx") // The device code's IR.
    return emitNVPTXLLVMIR(P, Opts, OS);
  auto T = setupTarget(Opts);
  if (!T)
    return T.takeError();
  llvm::LLVMContext Ctx;
  std::string Errors;
  quietContext(Ctx, Errors);
  auto M = compileModule(P, Opts, **T, Ctx);
  if (!M)
    return M.takeError();
  if (llvm::Error E = backendErrors(Errors))
    return E;
  (*M)->print(OS, nullptr);
  return llvm::Error::success();
}
