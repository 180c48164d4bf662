//===- LowerElementwise.cpp - Elementwise operations ----------------------===//
//
// The scalar formula of every elementwise operation (Unary, Binary, Ternary
// in Ops.def, Copy and Cast), used both for an elementwise node that anchors
// its own kernel and for the epilogue nodes fused after another anchor.
//
// The formulas follow ONNX exactly for the element types each operation
// accepts here: floats (f32, f64, f16) everywhere, the integer types where
// the operation has an obvious integer meaning, bool for the logical ones.
// f16 is computed as the loop IR defines it: every operation's result is
// rounded to half (as numpy does). Quantized operands are rejected (only
// Copy moves them). NaN behaviour is spelled out with comparisons rather
// than left to min/max: Max, Min, Relu, Clip, HardSigmoid and Sign all
// propagate NaN as the ONNX reference (numpy) does; the loop IR's `ne` is
// true when either operand is NaN (as in C), every other comparison false.
//
// Operations whose result ONNX leaves undefined must still not be undefined
// in the generated code: integer division by zero gives 0 (and INT_MIN / -1
// wraps), integer Mod by zero gives 0 (and INT_MIN % -1 gives 0), shifts by
// the bit width or more give 0 (codegen), and float-to-integer casts
// saturate (NaN gives 0), which the loop IR's cast does by itself.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "llvm/Support/ErrorHandling.h"
#include <cassert>
#include <cmath>

using namespace tidal;
using namespace tidal::lower;

namespace {

bool isUnsigned(ScalarType T) {
  return !isFloat(T) && T != ScalarType::Bool && !isSigned(T);
}

llvm::Error unsupportedType(const Node &N, ScalarType T) {
  return nodeError(N, "element type " + scalarTypeName(T) +
                          " is not supported by the lowering");
}

Expr cst(const Expr &Like, double V) { return constant(Like->Type, V); }
Expr isNaN(const Expr &X) { return ne(X, X); }
Expr callLike(const char *Fn, const Expr &X) { return call(Fn, X->Type, {X}); }

double immValue(const Expr &E) {
  return E->Kind == ExprKind::IntImm ? static_cast<double>(E->IntValue)
                                     : E->FloatValue;
}

/// Clamps X into [Lo, Hi] (either may be null: unbounded), keeping NaN.
/// The bounds are immediates; when Lo > Hi everything becomes Hi, as ONNX
/// Clip says.
Expr clamp(Expr X, Expr Lo, Expr Hi) {
  if (Lo && Hi && immValue(Lo) > immValue(Hi))
    return isFloat(X->Type.Scalar) ? select(isNaN(X), X, Hi) : Hi;
  if (Lo && Hi)
    return select(lt(X, Lo), Lo, select(gt(X, Hi), Hi, X));
  if (Lo)
    return select(lt(X, Lo), Lo, X);
  if (Hi)
    return select(gt(X, Hi), Hi, X);
  return X;
}

/// numpy's maximum/minimum: NaN in either operand gives NaN.
Expr floatMax(Expr A, Expr B) {
  return select(logicalOr(gt(A, B), isNaN(A)), A, B);
}
Expr floatMin(Expr A, Expr B) {
  return select(logicalOr(lt(A, B), isNaN(A)), A, B);
}

Expr castTo(Expr X, ScalarType To) {
  DataType T(To, X->Type.Lanes);
  ScalarType From = X->Type.Scalar;
  if (From == To)
    return X;
  if (To == ScalarType::Bool)
    return ne(X, cst(X, 0));
  if (From == ScalarType::Bool)
    return select(X, constant(T, 1), constant(T, 0));
  // Float to integer truncates toward zero; the loop IR's cast saturates
  // out-of-range values and gives 0 for NaN (see codegen/KernelMath.cpp),
  // where ONNX leaves them undefined.
  return cast(T, X);
}

/// Truncating integer division that is defined for every operand: x / 0
/// gives 0 and INT_MIN / -1 wraps to INT_MIN.
Expr intDiv(Expr A, Expr B) {
  Expr Zero = cst(B, 0), One = cst(B, 1);
  if (!isSigned(B->Type.Scalar))
    return select(eq(B, Zero), Zero, A / select(eq(B, Zero), One, B));
  Expr MinusOne = cst(B, -1);
  Expr Safe = select(logicalOr(eq(B, Zero), eq(B, MinusOne)), One, B);
  return select(eq(B, MinusOne), Zero - A, select(eq(B, Zero), Zero, A / Safe));
}

/// Whether V is a constant with every element equal to C.
bool isConstantEverywhere(const Value *V, double C) {
  const Tensor *T = V->constantData();
  if (!T || T->Type.numElements() == 0 || T->Type.Elem == ElemType::Bit)
    return false;
  for (int64_t I = 0; I < T->Type.numElements(); ++I)
    if (T->getDouble(I) != C)
      return false;
  return true;
}

/// Pow: the result has the base's type; the exponent may have another.
Expr powExpr(Expr X, Expr Y) {
  if (isFloat(X->Type.Scalar))
    return call("pow", X->Type, {X, castTo(Y, X->Type.Scalar)});
  // Integer base: computed in f64, exact while |result| < 2^53.
  Expr P = call("pow", DataType(ScalarType::F64, X->Type.Lanes),
                {castTo(X, ScalarType::F64), castTo(Y, ScalarType::F64)});
  return castTo(P, X->Type.Scalar);
}

/// A bound V for values of integer type T, saturated to T's range (a bound
/// beyond the range bounds nothing; it must not wrap).
Expr intBound(double V, DataType T) {
  unsigned Bits = scalarBits(T.Scalar);
  bool S = isSigned(T.Scalar);
  int64_t Lo = S ? (Bits == 64 ? INT64_MIN : -(int64_t(1) << (Bits - 1))) : 0;
  int64_t Hi =
      Bits == 64 ? INT64_MAX : (int64_t(1) << (S ? Bits - 1 : Bits)) - 1;
  if (V <= static_cast<double>(Lo))
    return intImm(Lo, T);
  if (V >= static_cast<double>(Hi))
    return intImm(Hi, T);
  return intImm(static_cast<int64_t>(V), T);
}

/// The attribute A as a constant of X's type, or null when absent.
Expr boundAttr(const Node &N, llvm::StringRef A, const Expr &X) {
  auto It = N.Attrs.find(A.str());
  if (It == N.Attrs.end())
    return nullptr;
  double V;
  if (auto *I = std::get_if<int64_t>(&It->second))
    V = static_cast<double>(*I);
  else if (auto *F = std::get_if<float>(&It->second))
    V = *F;
  else if (auto *T = std::get_if<Tensor>(&It->second))
    V = T->getDouble(0);
  else
    llvm_unreachable("Clip bound of an unexpected attribute type");
  return isFloat(X->Type.Scalar) ? cst(X, V) : intBound(V, X->Type);
}

/// Mod with the sign of the dividend (fmod = 1, C's remainder) or of the
/// divisor (fmod = 0, Python's %). Floats take fmod (the type rule admits
/// only fmod = 1 for them). Integers divide by 1 instead of 0 (ONNX leaves
/// x % 0 undefined; this gives 0) and of -1 (INT_MIN % -1 traps in C; the
/// remainder by -1 is 0 anyway).
Expr modExpr(const Node &N, Expr A, Expr B) {
  if (isFloat(A->Type.Scalar))
    return binary(BinaryOp::Mod, A, B);
  Expr Zero = cst(B, 0), One = cst(B, 1);
  bool Signed = isSigned(B->Type.Scalar);
  Expr Bad = eq(B, Zero);
  if (Signed)
    Bad = logicalOr(Bad, eq(B, cst(B, -1)));
  Expr R = binary(BinaryOp::Mod, A, select(Bad, One, B));
  if (!Signed || N.getInt("fmod", 0) != 0)
    return R;
  // Python's %: a nonzero remainder takes the divisor's sign.
  Expr Fix = logicalAnd(ne(R, Zero),
                        binary(BinaryOp::Xor, lt(R, Zero), lt(B, Zero)));
  return select(Fix, R + B, R);
}

/// Shrink: x < -lambd gives x + bias, x > lambd gives x - bias, else 0.
/// Integers are computed in f64 and converted back, as ONNX's reference
/// does (the frontend admits integers only with bias 0, so the result is
/// always an input value or 0).
Expr shrinkExpr(const Node &N, Expr X) {
  ScalarType T = X->Type.Scalar;
  if (!isFloat(T))
    X = castTo(X, ScalarType::F64);
  double L = N.getFloat("lambd", 0.5f);
  Expr Bias = cst(X, N.getFloat("bias", 0.0f));
  Expr R = select(lt(X, cst(X, -L)), X + Bias,
                  select(gt(X, cst(X, L)), X - Bias, cst(X, 0)));
  return castTo(R, T);
}

/// The formulas of the one-operand operations on floats.
Expr unaryFloat(const Node &N, Expr X) {
  Expr Zero = cst(X, 0), One = cst(X, 1);
  switch (N.Kind) {
  case OpKind::LeakyRelu:
    return select(lt(X, Zero), X * cst(X, N.getFloat("alpha", 0.01f)), X);
  case OpKind::Elu: {
    Expr Alpha = cst(X, N.getFloat("alpha", 1.0f));
    return select(lt(X, Zero), Alpha * (callLike("exp", X) - One), X);
  }
  case OpKind::Selu: {
    Expr Alpha = cst(X, N.getFloat("alpha", 1.67326319217681884765625f));
    Expr Gamma = cst(X, N.getFloat("gamma", 1.05070102214813232421875f));
    return select(gt(X, Zero), Gamma * X,
                  Gamma * (Alpha * callLike("exp", X) - Alpha));
  }
  case OpKind::Celu: {
    Expr Alpha = cst(X, N.getFloat("alpha", 1.0f));
    return select(gt(X, Zero), X, Alpha * (callLike("exp", X / Alpha) - One));
  }
  case OpKind::ThresholdedRelu:
    return select(gt(X, cst(X, N.getFloat("alpha", 1.0f))), X, Zero);
  case OpKind::HardSigmoid:
    return clamp(X * cst(X, N.getFloat("alpha", 0.2f)) +
                     cst(X, N.getFloat("beta", 0.5f)),
                 Zero, One);
  case OpKind::HardSwish:
    return X * clamp(X * cst(X, 1.0 / 6.0) + cst(X, 0.5), Zero, One);
  case OpKind::Sigmoid:
    return callLike("sigmoid", X);
  case OpKind::Tanh:
    return callLike("tanh", X);
  case OpKind::Softplus:
    // log(1 + exp(x)) without overflow for large x; NaN takes the else arm.
    return select(gt(X, Zero),
                  X + callLike("log", One + callLike("exp", Zero - X)),
                  callLike("log", One + callLike("exp", X)));
  case OpKind::Softsign:
    return X / (One + callLike("abs", X));
  case OpKind::Gelu: {
    Expr Half = cst(X, 0.5);
    if (N.hasAttr("approximate") && N.getString("approximate") == "tanh") {
      Expr Inner =
          cst(X, std::sqrt(2.0 / M_PI)) * (X + cst(X, 0.044715) * X * X * X);
      return Half * X * (One + callLike("tanh", Inner));
    }
    return Half * X * (One + callLike("erf", X * cst(X, M_SQRT1_2)));
  }
  case OpKind::Exp:
    return callLike("exp", X);
  case OpKind::Log:
    return callLike("log", X);
  case OpKind::Sqrt:
    return callLike("sqrt", X);
  case OpKind::Erf:
    return callLike("erf", X);
  case OpKind::Sin:
    return callLike("sin", X);
  case OpKind::Cos:
    return callLike("cos", X);
  case OpKind::Reciprocal:
    return One / X;
  case OpKind::Floor:
    return callLike("floor", X);
  case OpKind::Ceil:
    return callLike("ceil", X);
  case OpKind::Round:
    return callLike("round", X);
  default:
    llvm_unreachable("not a float unary operation");
  }
}

/// The formulas of the one-operand operations on any numeric type.
Expr unaryNumeric(const Node &N, Expr X) {
  Expr Zero = cst(X, 0);
  bool F = isFloat(X->Type.Scalar);
  switch (N.Kind) {
  case OpKind::Copy:
    return X;
  case OpKind::Cast:
    return castTo(X, scalarTypeOf(N.result()->Type.Elem));
  case OpKind::Relu:
    return select(lt(X, Zero), Zero, X);
  case OpKind::Clip:
    return clamp(X, boundAttr(N, "min", X), boundAttr(N, "max", X));
  case OpKind::Neg:
    return F ? X * cst(X, -1) : Zero - X;
  case OpKind::Abs:
    if (F)
      return callLike("abs", X);
    return isUnsigned(X->Type.Scalar) ? X : select(lt(X, Zero), Zero - X, X);
  case OpKind::Sign:
    // Zero stays (signed) zero and NaN stays NaN for floats.
    return select(gt(X, Zero), cst(X, 1),
                  select(lt(X, Zero), cst(X, -1), F ? X : Zero));
  case OpKind::Not:
    return logicalNot(X);
  case OpKind::BitwiseNot:
    // ~x = -x - 1 in wrapping arithmetic, for every integer type.
    return (Zero - X) - cst(X, 1);
  case OpKind::Shrink:
    return shrinkExpr(N, X);
  default:
    return unaryFloat(N, X);
  }
}

Expr binaryExpr(const Node &N, Expr A, Expr B) {
  bool F = isFloat(A->Type.Scalar);
  switch (N.Kind) {
  case OpKind::Add:
    return A + B;
  case OpKind::Sub:
    return A - B;
  case OpKind::Mul:
    return A * B;
  case OpKind::Div:
    return F ? A / B : intDiv(A, B);
  case OpKind::Pow:
    // x^2 as x * x (one correctly rounded product, as a correctly rounded
    // pow gives): exporters write the variance of LayerNorm so, and a call
    // per element cost bert_tiny_enc 14% of its time.
    if (F && isConstantEverywhere(N.Operands[1], 2.0))
      return A * A;
    return powExpr(A, B);
  case OpKind::Max:
    return F ? floatMax(A, B) : max(A, B);
  case OpKind::Min:
    return F ? floatMin(A, B) : min(A, B);
  case OpKind::PRelu:
    return select(lt(A, cst(A, 0)), A * B, A);
  case OpKind::Equal:
    return A->Type.Scalar == ScalarType::Bool
               ? logicalNot(binary(BinaryOp::Xor, A, B))
               : eq(A, B);
  case OpKind::Less:
    return lt(A, B);
  case OpKind::LessOrEqual:
    return le(A, B);
  case OpKind::Greater:
    return gt(A, B);
  case OpKind::GreaterOrEqual:
    return ge(A, B);
  case OpKind::And:
    return logicalAnd(A, B);
  case OpKind::Or:
    return logicalOr(A, B);
  case OpKind::Xor:
  case OpKind::BitwiseXor:
    return binary(BinaryOp::Xor, A, B);
  case OpKind::BitwiseAnd:
    return binary(BinaryOp::And, A, B);
  case OpKind::BitwiseOr:
    return binary(BinaryOp::Or, A, B);
  case OpKind::Mod:
    return modExpr(N, A, B);
  case OpKind::BitShift:
    // The codegen defines shifts by the bit width or more: 0, as numpy.
    return binary(N.getString("direction") == "LEFT" ? BinaryOp::Shl
                                                     : BinaryOp::Shr,
                  A, B);
  default:
    llvm_unreachable("not a binary elementwise operation");
  }
}

/// Checks the operand and result types the formulas rely on.
llvm::Error checkTypes(const Node &N, const std::vector<Expr> &Operands) {
  for (const Value *V : N.Operands)
    if (V->Type.Elem == ElemType::Bit)
      return nodeError(N, "packed 1-bit operands are not supported");
  bool AnyQuant = N.result()->Type.Quant.has_value();
  for (const Value *V : N.Operands)
    AnyQuant |= V->Type.Quant.has_value();
  if (AnyQuant && N.Kind != OpKind::Copy)
    return nodeError(N, "quantized operands are not supported by the lowering");
  if (N.result()->Type.Elem == ElemType::Bit)
    return nodeError(N, "a packed 1-bit result is not supported");
  // The formulas implement exactly the graph IR's element-type rule
  // (elementwiseAcceptsType, part of inferResultTypes()), which covers every
  // operand but Where's condition.
  size_t First = N.Kind == OpKind::Where ? 1 : 0;
  for (size_t I = First; I < Operands.size(); ++I)
    if (!elementwiseAcceptsType(N.Kind, N.Operands[I]->Type.Elem))
      return unsupportedType(N, Operands[I]->Type.Scalar);
  if (N.Kind == OpKind::Where && Operands[0]->Type.Scalar != ScalarType::Bool)
    return unsupportedType(N, Operands[0]->Type.Scalar);
  return llvm::Error::success();
}

} // namespace

llvm::Expected<Expr> lower::elementwiseExpr(const Node &N,
                                            const std::vector<Expr> &Operands) {
  assert(Operands.size() == N.Operands.size() && "wrong operand count");
  assert(isElementwise(N.Kind) && "not an elementwise node");
  if (llvm::Error E = checkTypes(N, Operands))
    return E;
  Expr R;
  if (N.Kind == OpKind::Where)
    R = select(Operands[0], Operands[1], Operands[2]);
  else if (Operands.size() == 2)
    R = binaryExpr(N, Operands[0], Operands[1]);
  else
    R = unaryNumeric(N, Operands[0]);
  assert(R->Type.Scalar == scalarTypeOf(N.result()->Type.Elem) &&
         "formula gives another type than the node's result");
  return R;
}

/// One loop nest over the result; operands are loaded broadcast.
static llvm::Expected<Stmt> lowerElementwise(const Node &N, KernelBuilder &B) {
  // Check the node once on placeholder operands, so that the loop body
  // below cannot fail.
  std::vector<Expr> Placeholders;
  for (const Value *V : N.Operands) {
    if (V->Type.Elem == ElemType::Bit)
      return nodeError(N, "packed 1-bit operands are not supported");
    Placeholders.push_back(var("x", DataType(scalarTypeOf(V->Type.Elem))));
  }
  if (auto E = elementwiseExpr(N, Placeholders); !E)
    return E.takeError();
  return B.loopNest(
      N.result()->Type.Shape, "i", [&](const std::vector<Expr> &Idx) {
        std::vector<Expr> Ops;
        for (const Value *V : N.Operands)
          Ops.push_back(B.loadBroadcast(V, Idx));
        return B.storeResult(Idx, llvm::cantFail(elementwiseExpr(N, Ops)));
      });
}

#define TIDAL_ELEMENTWISE(Id)                                                  \
  llvm::Expected<Stmt> lower::lower##Id(const Node &N, KernelBuilder &B) {     \
    return lowerElementwise(N, B);                                             \
  }
TIDAL_ELEMENTWISE(Copy)
TIDAL_ELEMENTWISE(Cast)
TIDAL_ELEMENTWISE(Relu)
TIDAL_ELEMENTWISE(LeakyRelu)
TIDAL_ELEMENTWISE(Elu)
TIDAL_ELEMENTWISE(Selu)
TIDAL_ELEMENTWISE(Celu)
TIDAL_ELEMENTWISE(ThresholdedRelu)
TIDAL_ELEMENTWISE(HardSigmoid)
TIDAL_ELEMENTWISE(HardSwish)
TIDAL_ELEMENTWISE(Sigmoid)
TIDAL_ELEMENTWISE(Tanh)
TIDAL_ELEMENTWISE(Softplus)
TIDAL_ELEMENTWISE(Softsign)
TIDAL_ELEMENTWISE(Gelu)
TIDAL_ELEMENTWISE(Clip)
TIDAL_ELEMENTWISE(Exp)
TIDAL_ELEMENTWISE(Log)
TIDAL_ELEMENTWISE(Sqrt)
TIDAL_ELEMENTWISE(Erf)
TIDAL_ELEMENTWISE(Sin)
TIDAL_ELEMENTWISE(Cos)
TIDAL_ELEMENTWISE(Neg)
TIDAL_ELEMENTWISE(Abs)
TIDAL_ELEMENTWISE(Sign)
TIDAL_ELEMENTWISE(Reciprocal)
TIDAL_ELEMENTWISE(Floor)
TIDAL_ELEMENTWISE(Ceil)
TIDAL_ELEMENTWISE(Round)
TIDAL_ELEMENTWISE(Not)
TIDAL_ELEMENTWISE(Add)
TIDAL_ELEMENTWISE(Sub)
TIDAL_ELEMENTWISE(Mul)
TIDAL_ELEMENTWISE(Div)
TIDAL_ELEMENTWISE(Pow)
TIDAL_ELEMENTWISE(Max)
TIDAL_ELEMENTWISE(Min)
TIDAL_ELEMENTWISE(PRelu)
TIDAL_ELEMENTWISE(Equal)
TIDAL_ELEMENTWISE(Less)
TIDAL_ELEMENTWISE(LessOrEqual)
TIDAL_ELEMENTWISE(Greater)
TIDAL_ELEMENTWISE(GreaterOrEqual)
TIDAL_ELEMENTWISE(And)
TIDAL_ELEMENTWISE(Or)
TIDAL_ELEMENTWISE(Xor)
TIDAL_ELEMENTWISE(Where)
TIDAL_ELEMENTWISE(BitwiseNot)
TIDAL_ELEMENTWISE(Shrink)
TIDAL_ELEMENTWISE(Mod)
TIDAL_ELEMENTWISE(BitShift)
TIDAL_ELEMENTWISE(BitwiseAnd)
TIDAL_ELEMENTWISE(BitwiseOr)
TIDAL_ELEMENTWISE(BitwiseXor)
#undef TIDAL_ELEMENTWISE
