// STUB: replaced by its owner.
#include "codegen/Codegen.h"

using namespace tidal;

void tidal::emitHeader(const Program &, llvm::raw_ostream &) {}
