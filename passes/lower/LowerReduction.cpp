// STUB: replaced by its owner.
#include "passes/lower/Lowering.h"
#include "compiler/Diagnostics.h"

using namespace tidal;

llvm::Expected<Stmt> lower::lowerReduceSum(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceSum", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReduceMean(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceMean", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReduceMax(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceMax", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReduceMin(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceMin", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReduceProd(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceProd", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReduceSumSquare(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceSumSquare", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReduceL1(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceL1", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReduceL2(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceL2", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReduceLogSumExp(const Node &N, KernelBuilder &) { return modelError(N.Name, "ReduceLogSumExp", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSoftmax(const Node &N, KernelBuilder &) { return modelError(N.Name, "Softmax", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerLogSoftmax(const Node &N, KernelBuilder &) { return modelError(N.Name, "LogSoftmax", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerMaxPool(const Node &N, KernelBuilder &) { return modelError(N.Name, "MaxPool", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerAveragePool(const Node &N, KernelBuilder &) { return modelError(N.Name, "AveragePool", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerGlobalAveragePool(const Node &N, KernelBuilder &) { return modelError(N.Name, "GlobalAveragePool", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerGlobalMaxPool(const Node &N, KernelBuilder &) { return modelError(N.Name, "GlobalMaxPool", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerLRN(const Node &N, KernelBuilder &) { return modelError(N.Name, "LRN", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerBatchNormalization(const Node &N, KernelBuilder &) { return modelError(N.Name, "BatchNormalization", 0, "not lowered yet"); }
