//===- KernelVectorMath.cpp - exp, tanh, sigmoid and erf inline -----------===//
//
// The f32 transcendental functions that models spend their time in
// (softmax, sigmoid, tanh, GELU) as straight-line instructions on scalars
// and vectors alike, instead of one runtime call per lane: no branches, so
// a vector of 16 lanes costs what one lane does, and the same instructions
// for the scalar tail of a loop as for its vector body, so the result of an
// element does not depend on how the loop was vectorized.
//
//  - exp: x = n ln2 + r with |r| <= ln2/2 (ln2 in two parts, Cody-Waite),
//    exp(r) by the Cephes expf polynomial (degree 6, < 2 ulp), 2^n applied
//    as two powers of two so that n = 128 and subnormal results are right;
//    +inf above 88.72, 0 below -103.98, NaN kept.
//  - sigmoid: e = exp(-|x|), 1/(1 + e) for x >= 0 and e/(1 + e) below, so
//    neither side overflows and tiny results keep their precision.
//  - tanh: the Cephes tanhf odd polynomial below |x| = 0.625, 1 - 2/(e^(2|x|)
//    + 1) with x's sign above (no cancellation on either side).
//  - erf: the runtime's f32 scheme (runtime/src/special.c) in f32: the
//    Taylor series below |x| = 1, 1 - e^(-x^2) P(x) on [1, 4) with P one of
//    three degree-7 fits chosen per lane, 1 beyond; x^2 is split with an FMA
//    so that e^(-x^2) keeps its precision.
// Each is a few ulp from the correctly rounded result (the runtime's are
// within one); the f64 functions, and the others, still call the runtime.
//
//===----------------------------------------------------------------------===//

#include "codegen/KernelEmitter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Intrinsics.h"
#include <limits>

using namespace tidal;
using llvm::Value;

namespace {

/// Builds the instructions of one function on values of one type (f32 or a
/// vector of f32).
class MathBuilder {
public:
  MathBuilder(llvm::IRBuilder<> &B, Value *X, bool FMA)
      : B(B), Ty(X->getType()), FMA(FMA) {}

  Value *c(double V) { return llvm::ConstantFP::get(Ty, V); }
  /// A * B + C, fused where the target has FMA.
  Value *madd(Value *A, Value *X, Value *C) {
    return B.CreateIntrinsic(FMA ? llvm::Intrinsic::fma
                                 : llvm::Intrinsic::fmuladd,
                             {Ty}, {A, X, C});
  }
  /// The polynomial with coefficients P (highest degree first) at T.
  Value *poly(llvm::ArrayRef<double> P, Value *T) {
    Value *R = c(P[0]);
    for (double K : P.drop_front())
      R = madd(R, T, c(K));
    return R;
  }
  Value *abs(Value *X) {
    return B.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, X);
  }
  Value *select(Value *Cond, Value *A, Value *Else) {
    return B.CreateSelect(Cond, A, Else);
  }
  Value *exp(Value *X, Value *RoundedNLog2E);

  llvm::IRBuilder<> &B;
  llvm::Type *Ty;
  bool FMA;
};

/// exp(X); RoundedNLog2E is X * log2(e) rounded to an integer (the caller
/// rounds, with the target's rounding).
Value *MathBuilder::exp(Value *X, Value *N) {
  llvm::Type *I32 = Ty->getWithNewType(B.getInt32Ty());
  // r = x - n ln2, ln2 = 0.693359375 - 2.12194440e-4 (the first part has
  // few bits, so n * it is exact).
  Value *R = madd(N, c(-0.693359375), X);
  R = madd(N, c(2.12194440e-4), R);
  Value *P = poly({1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                   4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1},
                  R);
  Value *Y = B.CreateFAdd(madd(P, B.CreateFMul(R, R), R), c(1.0));
  // 2^n = 2^(n/2) * 2^(n - n/2): each half is a normal float for every n
  // of the clamped range [-150, 129].
  Value *NI = B.CreateFPToSI(N, I32);
  Value *N1 = B.CreateAShr(NI, 1);
  Value *N2 = B.CreateSub(NI, N1);
  auto Pow2 = [&](Value *E) {
    Value *Bits = B.CreateShl(B.CreateAdd(E, llvm::ConstantInt::get(I32, 127)),
                              23);
    return B.CreateBitCast(Bits, Ty);
  };
  return B.CreateFMul(B.CreateFMul(Y, Pow2(N1)), Pow2(N2));
}

} // namespace

Value *KernelEmitter::emitInlineMath(llvm::StringRef Name, Value *X) {
  MathBuilder M(B, X, Target.Info.FMA);
  auto Exp = [&](Value *V) {
    // Clamped so that 2^n stays in range; out-of-range results are set
    // by the callers' selects (maxnum/minnum turn NaN into a bound).
    Value *Clamped = B.CreateBinaryIntrinsic(
        llvm::Intrinsic::minnum,
        B.CreateBinaryIntrinsic(llvm::Intrinsic::maxnum, V, M.c(-104.0)),
        M.c(89.0));
    Value *N = emitRounding("round",
                            B.CreateFMul(Clamped, M.c(1.44269504088896341)),
                            ScalarType::F32);
    Value *E = M.exp(Clamped, N);
    E = M.select(B.CreateFCmpOGT(V, M.c(88.72283935546875)),
                 M.c(std::numeric_limits<double>::infinity()), E);
    E = M.select(B.CreateFCmpOLT(V, M.c(-103.97208404541015625)), M.c(0.0),
                 E);
    return M.select(B.CreateFCmpUNO(V, V), V, E);
  };
  if (Name == "exp")
    return Exp(X);
  if (Name == "sigmoid") {
    Value *E = Exp(B.CreateFNeg(M.abs(X)));
    Value *R = B.CreateFDiv(M.c(1.0), B.CreateFAdd(M.c(1.0), E));
    Value *S = M.select(B.CreateFCmpOGE(X, M.c(0.0)), R, B.CreateFMul(E, R));
    return M.select(B.CreateFCmpUNO(X, X), X, S);
  }
  if (Name == "tanh") {
    Value *A = M.abs(X);
    Value *S = B.CreateFMul(X, X);
    Value *Small =
        M.madd(B.CreateFMul(M.poly({-5.70498872745e-3, 2.06390887954e-2,
                                    -5.37397155531e-2, 1.33314422036e-1,
                                    -3.33332819422e-1},
                                   S),
                            S),
               X, X);
    Value *E = Exp(B.CreateFMul(A, M.c(2.0)));
    Value *Large = B.CreateFSub(
        M.c(1.0), B.CreateFDiv(M.c(2.0), B.CreateFAdd(E, M.c(1.0))));
    Large = B.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, Large, X);
    return M.select(B.CreateFCmpOLT(A, M.c(0.625)), Small, Large);
  }
  if (Name == "erf")
    return emitInlineErf(X);
  return nullptr;
}

/// erf in f32 (see the file comment).
Value *KernelEmitter::emitInlineErf(Value *X) {
  MathBuilder M(B, X, Target.Info.FMA);
  Value *A = M.abs(X);
  // Below 1: a * sum c_n a^(2n), c_n = 2/sqrt(pi) (-1)^n / (n! (2n+1)).
  static const double Taylor[12] = {
      -0x1.51d7181c5d36dp-30, 0x1.fcc5720624c1cp-27, -0x1.5f742ec43e71ap-23,
      0x1.b9e6c9dc651a3p-20,  -0x1.f4d25c3e0c2ebp-17, 0x1.f9a326f9b89b7p-14,
      -0x1.c02db40040b86p-11, 0x1.565bcd0e6a53fp-8,  -0x1.b82ce31288b51p-6,
      0x1.ce2f21a042be2p-4,   -0x1.812746b0379e7p-2, 0x1.20dd750429b6dp+0};
  Value *Low = B.CreateFMul(A, M.poly(Taylor, B.CreateFMul(A, A)));
  // [1, 4): erfc(a) e^(a^2) as a degree-7 polynomial in (a - center) / half
  // width, on [1, 1.75), [1.75, 2.75) or [2.75, 4) (runtime/src/special.c).
  static const double Fit[3][10] = {
      {0x1.6000000000000p+0, 0x1.5555555555555p+1, -0x1.0d9d73561039bp-20,
       0x1.f22208b82ab1cp-18, -0x1.a721467bbb7f4p-15, 0x1.621a97661394bp-12,
       -0x1.17f5b7ddbf3fbp-9, 0x1.9e15f12aaf385p-7, -0x1.1b1bcaad5c38fp-4,
       0x1.5f88f51db8fe1p-2},
      {0x1.2000000000000p+1, 0x1.0000000000000p+1, -0x1.c05ccf8636ad8p-21,
       0x1.7d42b469ba89dp-18, -0x1.2ba6305aa7fe1p-15, 0x1.da09ba6cfe10cp-13,
       -0x1.68844063b70b2p-10, 0x1.0615a6f0e7f17p-7, -0x1.6a70d2a98035cp-5,
       0x1.d94446b6316a4p-3},
      {0x1.b000000000000p+1, 0x1.999999999999ap+0, -0x1.adcf07acefb9ep-22,
       0x1.713c898babe7ep-19, -0x1.28ab5d72a6ec2p-16, 0x1.e56af8033dac0p-14,
       -0x1.8339e90356bdcp-11, 0x1.2c3c343a0d1e2p-8, -0x1.c3c8827daa3afp-6,
       0x1.48f8f0f34bdedp-3}};
  Value *In0 = B.CreateFCmpOLT(A, M.c(1.75));
  Value *In1 = B.CreateFCmpOLT(A, M.c(2.75));
  auto Pick = [&](unsigned K) {
    return M.select(In0, M.c(Fit[0][K]),
                    M.select(In1, M.c(Fit[1][K]), M.c(Fit[2][K])));
  };
  Value *T = B.CreateFMul(B.CreateFSub(A, Pick(0)), Pick(1));
  Value *P = Pick(2);
  for (unsigned K = 3; K < 10; ++K)
    P = M.madd(P, T, Pick(K));
  // e^(-a^2) with a^2 = hi + lo exactly: e^-hi * (1 - lo).
  Value *Hi = B.CreateFMul(A, A);
  Value *Lo = M.madd(A, A, B.CreateFNeg(Hi));
  Value *E = emitInlineMath("exp", B.CreateFNeg(Hi));
  Value *Erfc = B.CreateFMul(B.CreateFMul(E, B.CreateFSub(M.c(1.0), Lo)), P);
  Value *Mid = B.CreateFSub(M.c(1.0), Erfc);
  Value *R = M.select(B.CreateFCmpOLT(A, M.c(1.0)), Low,
                      M.select(B.CreateFCmpOLT(A, M.c(4.0)), Mid, M.c(1.0)));
  R = B.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, R, X);
  return M.select(B.CreateFCmpUNO(X, X), X, R);
}
