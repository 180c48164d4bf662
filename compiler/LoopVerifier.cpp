// STUB: replaced by its owner.
#include "compiler/Loop.h"

using namespace tidal;

llvm::Error tidal::verifyKernel(const Kernel &) { return llvm::Error::success(); }
llvm::Error tidal::verifyProgram(const Program &) { return llvm::Error::success(); }
