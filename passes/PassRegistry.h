//===- PassRegistry.h - Pass names and the default pipeline -----*- C++ -*-===//
#ifndef TIDAL_PASSES_PASSREGISTRY_H
#define TIDAL_PASSES_PASSREGISTRY_H

#include "compiler/PassManager.h"
#include <vector>

namespace tidal {

#define TIDAL_PASS(Name, Function, Description)                                \
  llvm::Error Function(Module &M, const PassOptions &Opts);
#include "passes/Passes.def"

/// The pass of that name, or null.
const PassInfo *lookupPass(llvm::StringRef Name);
/// Every registered pass, in registry order.
std::vector<const PassInfo *> allPasses();
/// The pipeline tidalc runs: every pass, in registry order.
std::vector<const PassInfo *> defaultPipeline();

} // namespace tidal

#endif
