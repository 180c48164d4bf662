//===- PassManager.cpp - Running named passes over a module ---------------===//

#include "compiler/PassManager.h"
#include "compiler/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

void PassManager::print(const Module &M, const PassInfo &P) {
  PrintOS << "// ----- IR after " << P.Name << " -----\n";
  if (M.P)
    printProgram(*M.P, PrintOS, LoopOpts);
  else
    printGraph(*M.G, PrintOS, GraphOpts);
  PrintOS.flush();
}

llvm::Error PassManager::run(Module &M, const PassOptions &Opts) {
  for (const PassInfo *P : Passes) {
    if (llvm::Error E = P->Run(M, Opts))
      return E;
    if (Verify) {
      llvm::Error E = M.P ? verifyProgram(*M.P) : verifyGraph(*M.G);
      if (E)
        return makeError(llvm::Twine("internal error: IR invalid after pass '") +
                         P->Name + "': " + llvm::toString(std::move(E)));
    }
    if (PrintAll || PrintAfterNames.count(P->Name))
      print(M, *P);
  }
  return llvm::Error::success();
}
