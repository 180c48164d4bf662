//===- Backend.cpp - LLVM plumbing shared by every target -----------------===//
//
// The optimizer runs with the new pass manager; the code generator with the
// legacy one, as LLVM 19 still requires for addPassesToEmitFile. Both see a
// TargetLibraryInfo with (almost) every library function disabled: LLVM
// must neither recognize nor introduce calls to libm or libc, since the
// objects may call only the runtime, memcpy and memset (docs/abi.md).
//
//===----------------------------------------------------------------------===//

#include "codegen/Backend.h"
#include "compiler/Diagnostics.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

namespace {
/// Prints errors into a string and swallows everything else.
struct CollectingHandler : llvm::DiagnosticHandler {
  std::string *Errors;
  explicit CollectingHandler(std::string *Errors) : Errors(Errors) {}
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
} // namespace

CodegenContext::CodegenContext() {
  Ctx.setDiagnosticHandler(std::make_unique<CollectingHandler>(&Errors));
}

llvm::Error CodegenContext::errors() const {
  if (Errors.empty())
    return llvm::Error::success();
  return makeError("LLVM failed: " + Errors);
}

std::unique_ptr<llvm::Module> tidal::createModule(const Program &P,
                                                  const TargetSetup &T,
                                                  llvm::LLVMContext &Ctx) {
  auto M = std::make_unique<llvm::Module>(P.Name, Ctx);
  M->setSourceFileName(P.Name);
  M->setTargetTriple(T.Triple);
  M->setDataLayout(T.TM->createDataLayout());
  return M;
}

llvm::Error tidal::verifyGenerated(const llvm::Module &M) {
  std::string Msg;
  llvm::raw_string_ostream OS(Msg);
  if (llvm::verifyModule(M, &OS))
    return makeError("codegen produced invalid LLVM IR (a Tidal bug): " +
                     OS.str());
  return llvm::Error::success();
}

llvm::Error tidal::checkOptLevel(const CodegenOptions &Opts) {
  if (Opts.OptLevel > 3)
    return makeError("optimization level " + llvm::Twine(Opts.OptLevel) +
                     " is not one of 0, 1, 2, 3");
  return llvm::Error::success();
}

void tidal::optimizeModule(llvm::Module &M, const TargetSetup &T,
                           unsigned OptLevel) {
  llvm::TargetLibraryInfoImpl TLII{llvm::Triple(M.getTargetTriple())};
  TLII.disableAllFunctions();
  TLII.setAvailable(llvm::LibFunc_memcpy);
  TLII.setAvailable(llvm::LibFunc_memset);
  llvm::LoopAnalysisManager LAM;
  llvm::FunctionAnalysisManager FAM;
  llvm::CGSCCAnalysisManager CGAM;
  llvm::ModuleAnalysisManager MAM;
  llvm::PipelineTuningOptions PTO;
  PTO.LoopVectorization = OptLevel >= 2;
  PTO.SLPVectorization = OptLevel >= 2;
  llvm::PassBuilder PB(T.TM.get(), PTO);
  FAM.registerPass([&] { return llvm::TargetLibraryAnalysis(TLII); });
  PB.registerModuleAnalyses(MAM);
  PB.registerCGSCCAnalyses(CGAM);
  PB.registerFunctionAnalyses(FAM);
  PB.registerLoopAnalyses(LAM);
  PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);
  llvm::OptimizationLevel Level = OptLevel == 0   ? llvm::OptimizationLevel::O0
                                  : OptLevel == 1 ? llvm::OptimizationLevel::O1
                                  : OptLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager MPM = OptLevel == 0
                                    ? PB.buildO0DefaultPipeline(Level)
                                    : PB.buildPerModuleDefaultPipeline(Level);
  MPM.run(M, MAM);
}

llvm::Error tidal::emitCode(llvm::Module &M, const TargetSetup &T,
                            llvm::raw_pwrite_stream &OS,
                            llvm::CodeGenFileType Type) {
  llvm::TargetLibraryInfoImpl TLII{llvm::Triple(M.getTargetTriple())};
  TLII.disableAllFunctions();
  llvm::legacy::PassManager PM;
  PM.add(new llvm::TargetLibraryInfoWrapperPass(TLII));
  if (T.TM->addPassesToEmitFile(PM, OS, nullptr, Type))
    return makeError(
        "the " + T.Triple + " backend cannot emit " +
        (Type == llvm::CodeGenFileType::ObjectFile ? "objects" : "assembly"));
  PM.run(M);
  return llvm::Error::success();
}
