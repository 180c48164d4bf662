//===- Evaluate.cpp - Reference interpreter for graph operations ----------===//
//
// Elements are computed in one of three domains: floats in double (which
// rounds correctly back to f32 and f16 for + - * / and is at least as exact
// as the generated code for the transcendental functions), signed integers
// in int64 with wrap-around, unsigned integers and bools in uint64. Every
// loop reads its operands through broadcast strides, so that numpy
// broadcasting is one mechanism for all elementwise operations and Expand.
// The data-movement and reduction operations live in EvaluateData.cpp.
//
//===----------------------------------------------------------------------===//

#include "compiler/Evaluate.h"
#include "compiler/Diagnostics.h"
#include "compiler/EvaluateImpl.h"
#include <cmath>
#include <limits>

using namespace tidal;
using namespace tidal::eval;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

Domain eval::domainOf(ElemType T) {
  if (isFloat(T))
    return Domain::Float;
  if (isSignedInt(T))
    return Domain::Signed;
  return Domain::Unsigned;
}

uint64_t eval::getUnsigned(const Tensor &T, int64_t I) {
  if (T.Type.Elem == ElemType::U64)
    return T.data<uint64_t>()[I];
  return static_cast<uint64_t>(T.getInt(I));
}

llvm::Error eval::cannot(const Node &N, const llvm::Twine &Why) {
  return makeError("cannot evaluate " + opName(N.Kind) + " '" + N.Name +
                   "': " + Why);
}

std::vector<int64_t> eval::broadcastStrides(const std::vector<int64_t> &Shape,
                                            const std::vector<int64_t> &Out) {
  std::vector<int64_t> Strides(Out.size(), 0);
  std::vector<int64_t> Own = rowMajorStrides(Shape);
  size_t Lead = Out.size() - Shape.size();
  for (size_t D = 0; D < Shape.size(); ++D)
    if (Shape[D] != 1)
      Strides[Lead + D] = Own[D];
  return Strides;
}

bool eval::broadcastsTo(const std::vector<int64_t> &Shape,
                        const std::vector<int64_t> &Out) {
  if (Shape.size() > Out.size())
    return false;
  size_t Lead = Out.size() - Shape.size();
  for (size_t D = 0; D < Shape.size(); ++D)
    if (Shape[D] != 1 && Shape[D] != Out[Lead + D])
      return false;
  return true;
}

void eval::forEachIndex(
    const std::vector<int64_t> &OutShape,
    const std::vector<std::vector<int64_t>> &Strides,
    llvm::function_ref<void(int64_t, const std::vector<int64_t> &)> Fn) {
  size_t R = OutShape.size();
  int64_t N = 1;
  for (int64_t D : OutShape)
    N *= D;
  std::vector<int64_t> Idx(R, 0), Off(Strides.size(), 0);
  for (int64_t I = 0; I < N; ++I) {
    Fn(I, Off);
    for (size_t D = R; D-- > 0;) {
      ++Idx[D];
      for (size_t K = 0; K < Strides.size(); ++K)
        Off[K] += Strides[K][D];
      if (Idx[D] < OutShape[D])
        break;
      for (size_t K = 0; K < Strides.size(); ++K)
        Off[K] -= Strides[K][D] * OutShape[D];
      Idx[D] = 0;
    }
  }
}

const std::vector<int64_t> *eval::intsAttr(const Node &N, llvm::StringRef A) {
  auto It = N.Attrs.find(A.str());
  if (It == N.Attrs.end())
    return nullptr;
  return std::get_if<std::vector<int64_t>>(&It->second);
}

std::optional<int64_t> eval::intAttr(const Node &N, llvm::StringRef A) {
  auto It = N.Attrs.find(A.str());
  if (It == N.Attrs.end())
    return std::nullopt;
  if (auto *V = std::get_if<int64_t>(&It->second))
    return *V;
  return std::nullopt;
}

std::optional<float> eval::floatAttr(const Node &N, llvm::StringRef A) {
  auto It = N.Attrs.find(A.str());
  if (It == N.Attrs.end())
    return std::nullopt;
  if (auto *V = std::get_if<float>(&It->second))
    return *V;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Unary operations
//===----------------------------------------------------------------------===//

namespace {

float alphaOr(const Node &N, float Default) {
  return floatAttr(N, "alpha").value_or(Default);
}

// Float-domain unary functions; NaN for an op this table does not know.
double unaryFloat(const Node &N, double X) {
  switch (N.Kind) {
  case OpKind::Copy: return X;
  case OpKind::Relu: return X < 0 ? 0.0 : X;
  case OpKind::LeakyRelu: return X < 0 ? alphaOr(N, 0.01f) * X : X;
  case OpKind::Elu: return X < 0 ? alphaOr(N, 1.0f) * (std::exp(X) - 1) : X;
  case OpKind::Selu: {
    double Alpha = alphaOr(N, 1.67326319217681884765625f);
    double Gamma = floatAttr(N, "gamma").value_or(1.05070102214813232421875f);
    return X > 0 ? Gamma * X : Gamma * (Alpha * std::exp(X) - Alpha);
  }
  case OpKind::Celu: {
    double Alpha = alphaOr(N, 1.0f);
    return std::max(0.0, X) + std::min(0.0, Alpha * (std::exp(X / Alpha) - 1));
  }
  case OpKind::ThresholdedRelu: return X > alphaOr(N, 1.0f) ? X : 0.0;
  case OpKind::HardSigmoid: {
    double V = alphaOr(N, 0.2f) * X + floatAttr(N, "beta").value_or(0.5f);
    return std::max(0.0, std::min(1.0, V));
  }
  case OpKind::HardSwish:
    return X * std::max(0.0, std::min(1.0, X / 6.0 + 0.5));
  case OpKind::Sigmoid:
    return X >= 0 ? 1.0 / (1.0 + std::exp(-X))
                  : std::exp(X) / (1.0 + std::exp(X));
  case OpKind::Tanh: return std::tanh(X);
  case OpKind::Softplus:
    return X > 0 ? X + std::log1p(std::exp(-X)) : std::log1p(std::exp(X));
  case OpKind::Softsign: return X / (1.0 + std::fabs(X));
  case OpKind::Gelu: {
    auto It = N.Attrs.find("approximate");
    bool Tanh = It != N.Attrs.end() &&
                std::holds_alternative<std::string>(It->second) &&
                std::get<std::string>(It->second) == "tanh";
    if (Tanh)
      return 0.5 * X *
             (1 +
              std::tanh(std::sqrt(2.0 / M_PI) * (X + 0.044715 * X * X * X)));
    return 0.5 * X * (1 + std::erf(X / std::sqrt(2.0)));
  }
  case OpKind::Clip: {
    double Lo = floatAttr(N, "min").value_or(-INFINITY);
    double Hi = floatAttr(N, "max").value_or(INFINITY);
    if (std::isnan(X))
      return X;
    return std::min(std::max(X, Lo), Hi);
  }
  case OpKind::Exp: return std::exp(X);
  case OpKind::Log: return std::log(X);
  case OpKind::Sqrt: return std::sqrt(X);
  case OpKind::Erf: return std::erf(X);
  case OpKind::Sin: return std::sin(X);
  case OpKind::Cos: return std::cos(X);
  case OpKind::Neg: return -X;
  case OpKind::Abs: return std::fabs(X);
  case OpKind::Sign: return X > 0 ? 1.0 : X < 0 ? -1.0 : X;
  case OpKind::Reciprocal: return 1.0 / X;
  case OpKind::Floor: return std::floor(X);
  case OpKind::Ceil: return std::ceil(X);
  case OpKind::Round: return std::nearbyint(X); // default mode: half to even
  case OpKind::Shrink: {
    double L = floatAttr(N, "lambd").value_or(0.5f);
    double B = floatAttr(N, "bias").value_or(0.0f);
    return X < -L ? X + B : X > L ? X - B : 0.0;
  }
  default: return NAN;
  }
}

bool isIntegerUnary(OpKind K) {
  switch (K) {
  case OpKind::Copy:
  case OpKind::Relu:
  case OpKind::Neg:
  case OpKind::Abs:
  case OpKind::Sign:
  case OpKind::Floor:
  case OpKind::Ceil:
  case OpKind::Round:
  case OpKind::Clip:
  case OpKind::BitwiseNot:
  case OpKind::Not: return true;
  default: return false;
  }
}

// Integer Clip bounds: x >= lo exactly when x >= ceil(lo).
int64_t clipBound(const Node &N, llvm::StringRef A, bool Lower) {
  std::optional<float> F = floatAttr(N, A);
  if (!F)
    return Lower ? std::numeric_limits<int64_t>::min()
                 : std::numeric_limits<int64_t>::max();
  double V = Lower ? std::ceil(*F) : std::floor(*F);
  if (V <= -9.2e18)
    return std::numeric_limits<int64_t>::min();
  if (V >= 9.2e18)
    return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(V);
}

int64_t unarySigned(const Node &N, int64_t X) {
  switch (N.Kind) {
  case OpKind::Relu: return X < 0 ? 0 : X;
  case OpKind::Neg: return static_cast<int64_t>(0 - static_cast<uint64_t>(X));
  case OpKind::Abs:
    return X < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(X)) : X;
  case OpKind::Sign: return X > 0 ? 1 : X < 0 ? -1 : 0;
  case OpKind::BitwiseNot: return ~X;
  case OpKind::Clip:
    return std::min(std::max(X, clipBound(N, "min", true)),
                    clipBound(N, "max", false));
  default: return X; // Copy, Floor, Ceil, Round
  }
}

uint64_t unaryUnsigned(const Node &N, uint64_t X) {
  switch (N.Kind) {
  case OpKind::Neg: return 0 - X;
  case OpKind::Sign: return X ? 1 : 0;
  case OpKind::Not: return X ? 0 : 1;
  case OpKind::BitwiseNot: return ~X; // truncated to the type by setInt
  case OpKind::Clip: {
    int64_t Lo = clipBound(N, "min", true), Hi = clipBound(N, "max", false);
    if (Lo > 0 && X < static_cast<uint64_t>(Lo))
      X = Lo;
    if (Hi < 0)
      return static_cast<uint64_t>(Hi); // min > max: every value becomes max
    return std::min(X, static_cast<uint64_t>(Hi));
  }
  default: return X; // Copy, Relu, Abs, Floor, Ceil, Round
  }
}

llvm::Expected<Tensor> evalUnary(const Node &N, const Tensor &X,
                                 const TensorType &ResultType) {
  if (X.Type.Shape != ResultType.Shape || X.Type.Elem != ResultType.Elem)
    return cannot(N, "result type " + ResultType.str() + " does not match " +
                         X.Type.str());
  Domain D = domainOf(X.Type.Elem);
  bool IsBool = X.Type.Elem == ElemType::Bool;
  if (N.Kind == OpKind::Not && !IsBool)
    return cannot(N, "Not needs bool operands");
  if (IsBool && N.Kind != OpKind::Not && N.Kind != OpKind::Copy)
    return cannot(N, "operation not defined on bool");
  if (D == Domain::Float && N.Kind == OpKind::BitwiseNot)
    return cannot(N, "BitwiseNot on floats");
  if (D != Domain::Float && !isIntegerUnary(N.Kind))
    return cannot(N, "operation not defined on " + X.Type.str());
  Tensor R(ResultType);
  int64_t Count = X.Type.numElements();
  for (int64_t I = 0; I < Count; ++I) {
    if (D == Domain::Float)
      R.setDouble(I, unaryFloat(N, X.getDouble(I)));
    else if (D == Domain::Signed)
      R.setInt(I, unarySigned(N, X.getInt(I)));
    else
      R.setInt(I, static_cast<int64_t>(unaryUnsigned(N, getUnsigned(X, I))));
  }
  return std::move(R);
}

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

// The range of an integer element type, as doubles, for range checks.
void intRange(ElemType T, double &Lo, double &Hi) {
  unsigned Bits = elemBits(T);
  if (isSignedInt(T)) {
    Lo = -std::ldexp(1.0, Bits - 1);
    Hi = std::ldexp(1.0, Bits - 1);
  } else {
    Lo = 0;
    Hi = std::ldexp(1.0, Bits);
  }
}

llvm::Expected<Tensor> evalCast(const Node &N, const Tensor &X,
                                const TensorType &ResultType) {
  if (X.Type.Shape != ResultType.Shape)
    return cannot(N, "result shape differs from the operand's");
  ElemType To = ResultType.Elem, From = X.Type.Elem;
  if (To == ElemType::Bit || From == ElemType::Bit)
    return cannot(N, "bit tensors are not supported");
  Tensor R(ResultType);
  int64_t Count = X.Type.numElements();
  Domain DF = domainOf(From), DT = domainOf(To);
  bool ToBool = To == ElemType::Bool;
  for (int64_t I = 0; I < Count; ++I) {
    if (DF == Domain::Float) {
      double V = X.getDouble(I);
      if (DT != Domain::Float && !ToBool) {
        double T = std::trunc(V), Lo, Hi;
        intRange(To, Lo, Hi);
        if (!(T >= Lo && T < Hi))
          return cannot(N,
                        "value out of the range of " + elemTypeName(To).str());
        V = T;
      }
      R.setDouble(I, V);
    } else if (DF == Domain::Signed) {
      int64_t V = X.getInt(I);
      if (DT == Domain::Float)
        R.setDouble(I, static_cast<double>(V));
      else
        R.setInt(I, V);
    } else {
      uint64_t V = getUnsigned(X, I);
      if (DT == Domain::Float)
        R.setDouble(I, static_cast<double>(V));
      else
        R.setInt(I, static_cast<int64_t>(V));
    }
  }
  return std::move(R);
}

//===----------------------------------------------------------------------===//
// Binary and ternary operations
//===----------------------------------------------------------------------===//

template <typename T> bool compare(OpKind K, T A, T B) {
  switch (K) {
  case OpKind::Equal: return A == B;
  case OpKind::Less: return A < B;
  case OpKind::LessOrEqual: return A <= B;
  case OpKind::Greater: return A > B;
  default: return A >= B;
  }
}

double binaryFloat(OpKind K, double A, double B) {
  switch (K) {
  case OpKind::Add: return A + B;
  case OpKind::Sub: return A - B;
  case OpKind::Mul: return A * B;
  case OpKind::Div: return A / B;
  case OpKind::Pow: return std::pow(A, B);
  case OpKind::Max:
    return std::isnan(A) || std::isnan(B) ? NAN : std::max(A, B);
  case OpKind::Min:
    return std::isnan(A) || std::isnan(B) ? NAN : std::min(A, B);
  case OpKind::PRelu: return A < 0 ? A * B : A;
  case OpKind::Mod: return std::fmod(A, B); // fmod = 1 (0 is integers only)
  default: return compare(K, A, B) ? 1.0 : 0.0;
  }
}

// Integer power with wrap-around; exponents below zero truncate 1/a^n.
llvm::Expected<uint64_t> intPow(uint64_t A, int64_t E, bool Signed) {
  if (E < 0) {
    int64_t SA = static_cast<int64_t>(A);
    if (A == 0)
      return makeError("zero to a negative power");
    if (A == 1)
      return 1;
    if (Signed && SA == -1)
      return (E % 2) ? A : 1;
    return 0;
  }
  uint64_t R = 1;
  while (E) {
    if (E & 1)
      R *= A;
    A *= A;
    E >>= 1;
  }
  return R;
}

// Mod (fmod = 1: the sign of the dividend, as C; 0: of the divisor, as
// Python), BitShift and the bitwise operations on integers.
llvm::Expected<uint64_t> binaryIntExtra(const Node &N, ElemType T, uint64_t A,
                                        uint64_t B, bool Signed) {
  int64_t SA = static_cast<int64_t>(A), SB = static_cast<int64_t>(B);
  switch (N.Kind) {
  case OpKind::Mod: {
    if (B == 0)
      return makeError("integer modulo by zero");
    if (!Signed)
      return A % B;
    int64_t R = SB == -1 ? 0 : SA % SB;
    if (intAttr(N, "fmod").value_or(0) == 0 && R != 0 && ((R < 0) != (SB < 0)))
      R += SB;
    return static_cast<uint64_t>(R);
  }
  case OpKind::BitShift: {
    bool Left = N.hasAttr("direction") && N.getString("direction") == "LEFT";
    if (B >= elemBits(T))
      return 0;
    return Left ? A << B : A >> B;
  }
  case OpKind::BitwiseAnd: return A & B;
  case OpKind::BitwiseOr: return A | B;
  case OpKind::BitwiseXor: return A ^ B;
  default: llvm_unreachable("not an extra integer operation");
  }
}

bool isIntExtra(OpKind K) {
  return K == OpKind::Mod || K == OpKind::BitShift ||
         K == OpKind::BitwiseAnd || K == OpKind::BitwiseOr ||
         K == OpKind::BitwiseXor;
}

llvm::Expected<uint64_t> binaryInt(OpKind K, uint64_t A, uint64_t B,
                                   bool Signed) {
  int64_t SA = static_cast<int64_t>(A), SB = static_cast<int64_t>(B);
  switch (K) {
  case OpKind::Add: return A + B;
  case OpKind::Sub: return A - B;
  case OpKind::Mul: return A * B;
  case OpKind::Div:
    if (B == 0)
      return makeError("integer division by zero");
    if (!Signed)
      return A / B;
    if (SA == std::numeric_limits<int64_t>::min() && SB == -1)
      return A; // wraps
    return static_cast<uint64_t>(SA / SB);
  case OpKind::Pow:
    return intPow(A, Signed ? SB : static_cast<int64_t>(B), Signed);
  case OpKind::Max:
    return Signed ? static_cast<uint64_t>(std::max(SA, SB)) : std::max(A, B);
  case OpKind::Min:
    return Signed ? static_cast<uint64_t>(std::min(SA, SB)) : std::min(A, B);
  case OpKind::PRelu: return Signed && SA < 0 ? A * B : A;
  case OpKind::And: return (A && B) ? 1 : 0;
  case OpKind::Or: return (A || B) ? 1 : 0;
  case OpKind::Xor: return ((A != 0) != (B != 0)) ? 1 : 0;
  default: return (Signed ? compare(K, SA, SB) : compare(K, A, B)) ? 1 : 0;
  }
}

// Pow with an integer base and a float exponent: computed in double, then
// truncated to the base's type.
llvm::Expected<uint64_t> intPowFloat(uint64_t A, double E, bool Signed) {
  double Base = Signed ? static_cast<double>(static_cast<int64_t>(A))
                       : static_cast<double>(A);
  double V = std::trunc(std::pow(Base, E));
  if (!(V > -9.2e18 && V < 1.8e19))
    return makeError("integer Pow out of range");
  return V < 0 ? static_cast<uint64_t>(static_cast<int64_t>(V))
               : static_cast<uint64_t>(V);
}

llvm::Error checkBinaryTypes(const Node &N, const Tensor &A, const Tensor &B,
                             const TensorType &RT) {
  OpKind K = N.Kind;
  bool Logical = isLogical(K);
  if (K != OpKind::Pow && A.Type.Elem != B.Type.Elem)
    return cannot(N, "operands of different element types");
  if (Logical && A.Type.Elem != ElemType::Bool)
    return cannot(N, "logical operations need bool operands");
  ElemType Want = (isComparison(K) || Logical) ? ElemType::Bool : A.Type.Elem;
  if (RT.Elem != Want || A.Type.Elem == ElemType::Bit ||
      B.Type.Elem == ElemType::Bit)
    return cannot(N, "unexpected element types");
  if (!Logical && !isComparison(K) && A.Type.Elem == ElemType::Bool)
    return cannot(N, "arithmetic on bool");
  if (isIntExtra(K) && K != OpKind::Mod && isFloat(A.Type.Elem))
    return cannot(N, "bit operations on floats");
  if (K == OpKind::Mod && isFloat(A.Type.Elem) &&
      intAttr(N, "fmod").value_or(0) == 0)
    return cannot(N, "fmod = 0 on floats");
  if (!broadcastsTo(A.Type.Shape, RT.Shape) ||
      !broadcastsTo(B.Type.Shape, RT.Shape))
    return cannot(N, "operands do not broadcast to " + RT.str());
  return llvm::Error::success();
}

llvm::Expected<Tensor> evalBinary(const Node &N, const Tensor &A,
                                  const Tensor &B, const TensorType &RT) {
  if (auto E = checkBinaryTypes(N, A, B, RT))
    return std::move(E);
  Tensor R(RT);
  Domain DA = domainOf(A.Type.Elem), DB = domainOf(B.Type.Elem);
  bool Signed = DA == Domain::Signed;
  std::optional<std::string> Failure;
  forEachIndex(RT.Shape,
               {broadcastStrides(A.Type.Shape, RT.Shape),
                broadcastStrides(B.Type.Shape, RT.Shape)},
               [&](int64_t I, const std::vector<int64_t> &Off) {
                 if (Failure)
                   return;
                 if (DA == Domain::Float) {
                   R.setDouble(I, binaryFloat(N.Kind, A.getDouble(Off[0]),
                                              B.getDouble(Off[1])));
                   return;
                 }
                 // An integer base with a float exponent is Pow's only
                 // mixed case.
                 llvm::Expected<uint64_t> V =
                     DB == Domain::Float
                         ? intPowFloat(getUnsigned(A, Off[0]),
                                       B.getDouble(Off[1]), Signed)
                     : isIntExtra(N.Kind)
                         ? binaryIntExtra(N, A.Type.Elem,
                                          getUnsigned(A, Off[0]),
                                          getUnsigned(B, Off[1]), Signed)
                         : binaryInt(N.Kind, getUnsigned(A, Off[0]),
                                     getUnsigned(B, Off[1]), Signed);
                 if (!V) {
                   Failure = llvm::toString(V.takeError());
                   return;
                 }
                 R.setInt(I, static_cast<int64_t>(*V));
               });
  if (Failure)
    return cannot(N, *Failure);
  return std::move(R);
}

llvm::Expected<Tensor> evalWhere(const Node &N, const Tensor &C,
                                 const Tensor &X, const Tensor &Y,
                                 const TensorType &RT) {
  if (C.Type.Elem != ElemType::Bool || X.Type.Elem != Y.Type.Elem ||
      RT.Elem != X.Type.Elem || X.Type.Elem == ElemType::Bit)
    return cannot(N, "unexpected element types");
  if (!broadcastsTo(C.Type.Shape, RT.Shape) ||
      !broadcastsTo(X.Type.Shape, RT.Shape) ||
      !broadcastsTo(Y.Type.Shape, RT.Shape))
    return cannot(N, "operands do not broadcast to " + RT.str());
  Tensor R(RT);
  size_t Bytes = elemBits(RT.Elem) / 8;
  forEachIndex(RT.Shape,
               {broadcastStrides(C.Type.Shape, RT.Shape),
                broadcastStrides(X.Type.Shape, RT.Shape),
                broadcastStrides(Y.Type.Shape, RT.Shape)},
               [&](int64_t I, const std::vector<int64_t> &Off) {
                 const Tensor &Src = C.Bytes[Off[0]] ? X : Y;
                 int64_t From = C.Bytes[Off[0]] ? Off[1] : Off[2];
                 std::memcpy(&R.Bytes[I * Bytes], &Src.Bytes[From * Bytes],
                             Bytes);
               });
  return std::move(R);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

bool tidal::canEvaluate(OpKind K) {
  switch (opCategory(K)) {
  case OpCategory::Unary:
  case OpCategory::Binary:
  case OpCategory::Ternary:
  case OpCategory::Injective: return true;
  default: return isEvaluableReduction(K);
  }
}

llvm::Expected<std::vector<Tensor>>
tidal::evaluateNode(const Node &N, const std::vector<const Tensor *> &Ops) {
  if (!canEvaluate(N.Kind))
    return cannot(N, "not supported by the evaluator");
  if (Ops.size() != N.Operands.size() || N.Results.size() != 1 ||
      static_cast<int>(Ops.size()) < opMinOperands(N.Kind))
    return cannot(N, "wrong number of operands or results");
  for (const Tensor *T : Ops)
    if (!T || static_cast<int64_t>(T->Bytes.size()) != T->Type.sizeInBytes())
      return cannot(N, "operand data does not match its type");
  const TensorType &RT = N.result()->Type;
  llvm::Expected<Tensor> R = [&]() -> llvm::Expected<Tensor> {
    switch (opCategory(N.Kind)) {
    case OpCategory::Unary:
      if (N.Kind == OpKind::Cast)
        return evalCast(N, *Ops[0], RT);
      return evalUnary(N, *Ops[0], RT);
    case OpCategory::Binary: return evalBinary(N, *Ops[0], *Ops[1], RT);
    case OpCategory::Ternary:
      return evalWhere(N, *Ops[0], *Ops[1], *Ops[2], RT);
    case OpCategory::Injective: return evalInjective(N, Ops, RT);
    default: return evalReduction(N, *Ops[0], RT);
    }
  }();
  if (!R)
    return R.takeError();
  std::vector<Tensor> Results;
  Results.push_back(std::move(*R));
  return std::move(Results);
}
