// STUB: replaced by its owner.
#include "passes/PassRegistry.h"

using namespace tidal;

llvm::Error tidal::simplify(Module &, const PassOptions &) { return llvm::Error::success(); }
