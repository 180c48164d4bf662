// STUB: replaced by its owner.
#include "passes/lower/Lowering.h"
#include "compiler/Diagnostics.h"

using namespace tidal;

llvm::Expected<Stmt> lower::lowerCopy(const Node &N, KernelBuilder &) { return modelError(N.Name, "Copy", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerCast(const Node &N, KernelBuilder &) { return modelError(N.Name, "Cast", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerRelu(const Node &N, KernelBuilder &) { return modelError(N.Name, "Relu", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerLeakyRelu(const Node &N, KernelBuilder &) { return modelError(N.Name, "LeakyRelu", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerElu(const Node &N, KernelBuilder &) { return modelError(N.Name, "Elu", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSelu(const Node &N, KernelBuilder &) { return modelError(N.Name, "Selu", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerCelu(const Node &N, KernelBuilder &) { return modelError(N.Name, "Celu", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerThresholdedRelu(const Node &N, KernelBuilder &) { return modelError(N.Name, "ThresholdedRelu", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerHardSigmoid(const Node &N, KernelBuilder &) { return modelError(N.Name, "HardSigmoid", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerHardSwish(const Node &N, KernelBuilder &) { return modelError(N.Name, "HardSwish", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSigmoid(const Node &N, KernelBuilder &) { return modelError(N.Name, "Sigmoid", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerTanh(const Node &N, KernelBuilder &) { return modelError(N.Name, "Tanh", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSoftplus(const Node &N, KernelBuilder &) { return modelError(N.Name, "Softplus", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSoftsign(const Node &N, KernelBuilder &) { return modelError(N.Name, "Softsign", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerGelu(const Node &N, KernelBuilder &) { return modelError(N.Name, "Gelu", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerClip(const Node &N, KernelBuilder &) { return modelError(N.Name, "Clip", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerExp(const Node &N, KernelBuilder &) { return modelError(N.Name, "Exp", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerLog(const Node &N, KernelBuilder &) { return modelError(N.Name, "Log", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSqrt(const Node &N, KernelBuilder &) { return modelError(N.Name, "Sqrt", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerErf(const Node &N, KernelBuilder &) { return modelError(N.Name, "Erf", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSin(const Node &N, KernelBuilder &) { return modelError(N.Name, "Sin", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerCos(const Node &N, KernelBuilder &) { return modelError(N.Name, "Cos", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerNeg(const Node &N, KernelBuilder &) { return modelError(N.Name, "Neg", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerAbs(const Node &N, KernelBuilder &) { return modelError(N.Name, "Abs", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSign(const Node &N, KernelBuilder &) { return modelError(N.Name, "Sign", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerReciprocal(const Node &N, KernelBuilder &) { return modelError(N.Name, "Reciprocal", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerFloor(const Node &N, KernelBuilder &) { return modelError(N.Name, "Floor", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerCeil(const Node &N, KernelBuilder &) { return modelError(N.Name, "Ceil", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerRound(const Node &N, KernelBuilder &) { return modelError(N.Name, "Round", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerNot(const Node &N, KernelBuilder &) { return modelError(N.Name, "Not", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerAdd(const Node &N, KernelBuilder &) { return modelError(N.Name, "Add", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerSub(const Node &N, KernelBuilder &) { return modelError(N.Name, "Sub", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerMul(const Node &N, KernelBuilder &) { return modelError(N.Name, "Mul", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerDiv(const Node &N, KernelBuilder &) { return modelError(N.Name, "Div", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerPow(const Node &N, KernelBuilder &) { return modelError(N.Name, "Pow", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerMax(const Node &N, KernelBuilder &) { return modelError(N.Name, "Max", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerMin(const Node &N, KernelBuilder &) { return modelError(N.Name, "Min", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerPRelu(const Node &N, KernelBuilder &) { return modelError(N.Name, "PRelu", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerEqual(const Node &N, KernelBuilder &) { return modelError(N.Name, "Equal", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerLess(const Node &N, KernelBuilder &) { return modelError(N.Name, "Less", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerLessOrEqual(const Node &N, KernelBuilder &) { return modelError(N.Name, "LessOrEqual", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerGreater(const Node &N, KernelBuilder &) { return modelError(N.Name, "Greater", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerGreaterOrEqual(const Node &N, KernelBuilder &) { return modelError(N.Name, "GreaterOrEqual", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerAnd(const Node &N, KernelBuilder &) { return modelError(N.Name, "And", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerOr(const Node &N, KernelBuilder &) { return modelError(N.Name, "Or", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerXor(const Node &N, KernelBuilder &) { return modelError(N.Name, "Xor", 0, "not lowered yet"); }
llvm::Expected<Stmt> lower::lowerWhere(const Node &N, KernelBuilder &) { return modelError(N.Name, "Where", 0, "not lowered yet"); }
llvm::Expected<Expr> lower::elementwiseExpr(const Node &N, const std::vector<Expr> &) { return modelError(N.Name, opName(N.Kind), 0, "not lowered yet"); }
