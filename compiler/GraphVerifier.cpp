// STUB: replaced by its owner.
#include "compiler/Graph.h"

using namespace tidal;

llvm::Error tidal::verifyGraph(const Graph &) { return llvm::Error::success(); }
