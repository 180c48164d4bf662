// STUB: replaced by its owner.
#include "passes/lower/Lowering.h"
#include "compiler/Diagnostics.h"

using namespace tidal;

llvm::Expected<Stmt> lower::lowerConv(const Node &N, KernelBuilder &) { return modelError(N.Name, "Conv", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerGemm(const Node &N, KernelBuilder &) { return modelError(N.Name, "Gemm", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerMatMul(const Node &N, KernelBuilder &) { return modelError(N.Name, "MatMul", 0, "not lowered yet"); }
