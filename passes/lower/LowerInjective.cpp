// STUB: replaced by its owner.
#include "passes/lower/Lowering.h"
#include "compiler/Diagnostics.h"

using namespace tidal;

llvm::Expected<Stmt> lower::lowerReshape(const Node &N, KernelBuilder &) { return modelError(N.Name, "Reshape", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerExpand(const Node &N, KernelBuilder &) { return modelError(N.Name, "Expand", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerTranspose(const Node &N, KernelBuilder &) { return modelError(N.Name, "Transpose", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerConcat(const Node &N, KernelBuilder &) { return modelError(N.Name, "Concat", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSlice(const Node &N, KernelBuilder &) { return modelError(N.Name, "Slice", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerGather(const Node &N, KernelBuilder &) { return modelError(N.Name, "Gather", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerPad(const Node &N, KernelBuilder &) { return modelError(N.Name, "Pad", 0, "not lowered yet"); }
