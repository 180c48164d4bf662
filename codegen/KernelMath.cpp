//===- KernelMath.cpp - Casts, f16 and intrinsic calls --------------------===//
//
// The parts of kernel emission that must not turn into library calls:
//  - f16 values live in float registers; conversions to and from their 16
//    memory bits are instructions where the target has them (F16C,
//    AArch64) and integer sequences otherwise (round to nearest even,
//    NaN and infinity preserved, subnormals exact);
//  - float -> integer casts saturate (NaN gives 0) so they are never
//    poison; narrow integer results wrap from a 32/64-bit conversion the
//    way C and numpy do on x86;
//  - floor/ceil/round are expanded when the CPU lacks SSE4.1;
//  - exp, erf, tanh and sigmoid of f32 (and f16) values are inline
//    instructions (KernelVectorMath.cpp); log, pow, sin, cos, float Mod and
//    every f64 function call the runtime's tidal_* functions (f suffix for
//    f32), one call per lane.
//
//===----------------------------------------------------------------------===//

#include "codegen/KernelEmitter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Module.h"

using namespace tidal;
using llvm::Value;

/// A constant of V's type (scalar or splat) with integer value C.
static llvm::Constant *intConst(Value *V, uint64_t C) {
  return llvm::ConstantInt::get(V->getType(), C);
}
static llvm::Constant *fpConst(Value *V, double C) {
  return llvm::ConstantFP::get(V->getType(), C);
}

/// The type of V with scalar type S (same lanes).
static llvm::Type *withScalar(Value *V, llvm::Type *S) {
  if (auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(V->getType()))
    return llvm::FixedVectorType::get(S, VT->getNumElements());
  return S;
}

//===----------------------------------------------------------------------===//
// f16
//===----------------------------------------------------------------------===//

/// Half bits (i16) to float, exactly (after F. Giesen's half_to_float).
llvm::Value *KernelEmitter::halfBitsToFloat(Value *Bits) {
  llvm::Type *I32 = withScalar(Bits, B.getInt32Ty());
  llvm::Type *F32 = withScalar(Bits, B.getFloatTy());
  Value *H = B.CreateZExt(Bits, I32);
  Value *O = B.CreateShl(B.CreateAnd(H, intConst(H, 0x7fff)), 13);
  Value *Exp = B.CreateAnd(O, intConst(H, 0x0f800000));
  O = B.CreateAdd(O, intConst(H, (127 - 15) << 23));
  Value *InfNan = B.CreateAdd(O, intConst(H, (128 - 16) << 23));
  Value *Denorm = B.CreateFSub(
      B.CreateBitCast(B.CreateAdd(O, intConst(H, 1 << 23)), F32),
      llvm::ConstantFP::get(F32, 6.103515625e-05)); // 2^-14 = bits 113 << 23
  Denorm = B.CreateBitCast(Denorm, I32);
  O = B.CreateSelect(B.CreateICmpEQ(Exp, intConst(H, 0)), Denorm, O);
  O = B.CreateSelect(B.CreateICmpEQ(Exp, intConst(H, 0x0f800000)), InfNan, O);
  Value *Sign = B.CreateShl(B.CreateAnd(H, intConst(H, 0x8000)), 16);
  return B.CreateBitCast(B.CreateOr(O, Sign), F32);
}

/// Float to half bits (i16), rounding to nearest even (after F. Giesen's
/// float_to_half_fast3_rtne). NaNs become the quiet NaN 0x7e00.
llvm::Value *KernelEmitter::floatToHalfBits(Value *V) {
  llvm::Type *I32 = withScalar(V, B.getInt32Ty());
  llvm::Type *I16 = withScalar(V, B.getInt16Ty());
  llvm::Type *F32 = withScalar(V, B.getFloatTy());
  Value *F = B.CreateBitCast(V, I32);
  Value *Sign = B.CreateAnd(F, intConst(F, 0x80000000u));
  F = B.CreateXor(F, Sign);
  // Too large for a half: infinity, or a NaN.
  Value *Big = B.CreateSelect(B.CreateICmpUGT(F, intConst(F, 0x7f800000)),
                              intConst(F, 0x7e00), intConst(F, 0x7c00));
  // Subnormal halves: let the float adder round the mantissa.
  const uint32_t DenormMagic = ((127 - 15) + (23 - 10) + 1) << 23;
  Value *Sum = B.CreateFAdd(B.CreateBitCast(F, F32),
                            llvm::ConstantFP::get(F32, 0.5)); // DenormMagic
  Value *Small = B.CreateSub(B.CreateBitCast(Sum, I32), intConst(F, DenormMagic));
  // Normal halves: rebias and round to nearest even by hand.
  Value *Odd = B.CreateAnd(B.CreateLShr(F, 13), intConst(F, 1));
  Value *Normal = B.CreateAdd(F, intConst(F, uint32_t((15 - 127) << 23) + 0xfff));
  Normal = B.CreateLShr(B.CreateAdd(Normal, Odd), 13);
  Value *R = B.CreateSelect(B.CreateICmpULT(F, intConst(F, 113u << 23)), Small,
                            Normal);
  R = B.CreateSelect(B.CreateICmpUGE(F, intConst(F, 143u << 23)), Big, R);
  R = B.CreateOr(R, B.CreateLShr(Sign, 16));
  return B.CreateTrunc(R, I16);
}

llvm::Value *KernelEmitter::roundToHalf(Value *V) {
  if (Target.NativeF16)
    return B.CreateFPExt(B.CreateFPTrunc(V, withScalar(V, B.getHalfTy())),
                         V->getType());
  return halfBitsToFloat(floatToHalfBits(V));
}

/// Double to float rounding to odd, so that a second rounding (to half)
/// gives the correctly rounded result.
llvm::Value *KernelEmitter::doubleToFloatOdd(Value *V) {
  llvm::Type *F32 = withScalar(V, B.getFloatTy());
  llvm::Type *I32 = withScalar(V, B.getInt32Ty());
  Value *F = B.CreateFPTrunc(V, F32);
  Value *Back = B.CreateFPExt(F, V->getType());
  Value *Inexact = B.CreateFCmpONE(Back, V);
  Value *Bits = B.CreateBitCast(F, I32);
  Value *Away = B.CreateFCmpOGT(B.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, Back),
                                B.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, V));
  Value *Toward = B.CreateSelect(Away, B.CreateSub(Bits, intConst(Bits, 1)), Bits);
  Value *Odd = B.CreateOr(Toward, intConst(Bits, 1));
  return B.CreateBitCast(B.CreateSelect(Inexact, Odd, Bits), F32);
}

llvm::Value *KernelEmitter::fromMemory(Value *V, ScalarType T) {
  if (T == ScalarType::Bool)
    return B.CreateICmpNE(V, llvm::Constant::getNullValue(V->getType()));
  if (T != ScalarType::F16)
    return V;
  if (Target.NativeF16)
    return B.CreateFPExt(B.CreateBitCast(V, withScalar(V, B.getHalfTy())),
                         withScalar(V, B.getFloatTy()));
  return halfBitsToFloat(V);
}

llvm::Value *KernelEmitter::toMemory(Value *V, ScalarType T) {
  if (T == ScalarType::Bool)
    return B.CreateZExt(V, withScalar(V, B.getInt8Ty()));
  if (T != ScalarType::F16)
    return V;
  if (Target.NativeF16)
    return B.CreateBitCast(B.CreateFPTrunc(V, withScalar(V, B.getHalfTy())),
                           withScalar(V, B.getInt16Ty()));
  return floatToHalfBits(V);
}

//===----------------------------------------------------------------------===//
// Casts
//===----------------------------------------------------------------------===//

llvm::Value *KernelEmitter::emitCast(Value *V, DataType From, DataType To) {
  ScalarType FS = From.Scalar, TS = To.Scalar;
  llvm::Type *Ty = registerType(To);
  if (FS == TS || Failed)
    return Failed ? llvm::PoisonValue::get(Ty) : V;
  if (TS == ScalarType::Bool)
    return isFloat(FS) ? B.CreateFCmpUNE(V, fpConst(V, 0.0))
                       : B.CreateICmpNE(V, intConst(V, 0));
  if (FS == ScalarType::Bool)
    return isFloat(TS) ? B.CreateUIToFP(V, Ty) : B.CreateZExt(V, Ty);
  if (isFloat(FS) && isFloat(TS))
    return floatToFloat(V, FS, TS);
  if (isFloat(FS))
    return floatToInt(V, To);
  if (isFloat(TS)) {
    Value *R = isSigned(FS) ? B.CreateSIToFP(V, Ty) : B.CreateUIToFP(V, Ty);
    return TS == ScalarType::F16 ? roundToHalf(R) : R;
  }
  return B.CreateIntCast(V, Ty, isSigned(FS));
}

llvm::Value *KernelEmitter::floatToFloat(Value *V, ScalarType From,
                                         ScalarType To) {
  llvm::Type *F32 = withScalar(V, B.getFloatTy());
  llvm::Type *F64 = withScalar(V, B.getDoubleTy());
  if (To == ScalarType::F64)
    return B.CreateFPExt(V, F64); // f16 is already a float in registers
  if (To == ScalarType::F32)
    return From == ScalarType::F64 ? B.CreateFPTrunc(V, F32) : V;
  // To f16.
  if (From == ScalarType::F64)
    V = doubleToFloatOdd(V);
  return roundToHalf(V);
}

/// Saturating conversions: 8/16-bit targets and u32 go through a wider
/// signed integer and wrap, like the C conversion on x86 does for values in
/// the wider range.
llvm::Value *KernelEmitter::floatToInt(Value *V, DataType To) {
  unsigned Bits = scalarBits(To.Scalar);
  llvm::Type *Ty = registerType(To);
  auto sat = [&](llvm::Intrinsic::ID ID, unsigned W) {
    llvm::Type *WTy = withScalar(V, B.getIntNTy(W));
    return B.CreateIntrinsic(ID, {WTy, V->getType()}, {V});
  };
  if (To.Scalar == ScalarType::U64)
    return sat(llvm::Intrinsic::fptoui_sat, 64);
  if (Bits == 64 || To.Scalar == ScalarType::I32)
    return sat(llvm::Intrinsic::fptosi_sat, Bits);
  unsigned Wide = To.Scalar == ScalarType::U32 ? 64 : 32;
  return B.CreateTrunc(sat(llvm::Intrinsic::fptosi_sat, Wide), Ty);
}

//===----------------------------------------------------------------------===//
// Intrinsic calls
//===----------------------------------------------------------------------===//

static unsigned intrinsicArity(llvm::StringRef Name) {
  if (Name == "pow")
    return 2;
  if (Name == "fma")
    return 3;
  if (Name == "sqrt" || Name == "exp" || Name == "log" || Name == "erf" ||
      Name == "tanh" || Name == "sigmoid" || Name == "sin" || Name == "cos" ||
      Name == "floor" || Name == "ceil" || Name == "round" || Name == "abs" ||
      Name == "popcount")
    return 1;
  return 0;
}

llvm::Value *KernelEmitter::emitCall(const ExprNode &E) {
  llvm::Type *Ty = registerType(E.Type);
  unsigned Arity = intrinsicArity(E.Name);
  if (Arity == 0)
    return fail("unknown intrinsic '" + E.Name + "'", Ty);
  if (E.Operands.size() != Arity)
    return fail("intrinsic '" + E.Name + "' takes " + llvm::Twine(Arity) +
                    " arguments",
                Ty);
  std::vector<Value *> Args;
  for (const Expr &A : E.Operands) {
    if (A->Type != E.Type)
      return fail("intrinsic '" + E.Name + "' of " + E.Type.str() +
                      " has an argument of " + A->Type.str(),
                  Ty);
    Args.push_back(emitExpr(A));
  }
  if (Failed)
    return llvm::PoisonValue::get(Ty);
  ScalarType T = E.Type.Scalar;
  if (E.Name == "popcount") {
    if (isFloat(T) || T == ScalarType::Bool)
      return fail("popcount of " + E.Type.str(), Ty);
    return B.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, Args[0]);
  }
  if (E.Name == "abs" && !isFloat(T)) {
    if (!isSigned(T))
      return Args[0];
    return B.CreateBinaryIntrinsic(llvm::Intrinsic::abs, Args[0], B.getFalse());
  }
  if (!isFloat(T))
    return fail("intrinsic '" + E.Name + "' of " + E.Type.str(), Ty);
  return emitMathCall(E, std::move(Args));
}

llvm::Value *KernelEmitter::emitMathCall(const ExprNode &E,
                                         std::vector<Value *> Args) {
  ScalarType T = E.Type.Scalar;
  llvm::StringRef Name = E.Name;
  if (Name == "abs")
    return B.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, Args[0]);
  if (Name == "floor" || Name == "ceil" || Name == "round")
    return emitRounding(Name, Args[0], T); // exact: f16 needs no rounding
  Value *R;
  if (Name == "sqrt")
    R = B.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, Args[0]);
  else if (Name == "fma")
    // Without an FMA instruction llvm.fma would become a libm call.
    R = B.CreateIntrinsic(Target.Info.FMA ? llvm::Intrinsic::fma
                                          : llvm::Intrinsic::fmuladd,
                          {Args[0]->getType()}, Args);
  else if (T == ScalarType::F64 || !(R = emitInlineMath(Name, Args[0])))
    R = emitRuntimeCall(Name, Args, T);
  return T == ScalarType::F16 ? roundToHalf(R) : R;
}

/// Calls tidal_<Name>f (f32, f16) or tidal_<Name> (f64) once per lane. The
/// declarations say the functions are pure, so LLVM may hoist and CSE them.
llvm::Value *KernelEmitter::emitRuntimeCall(llvm::StringRef Name,
                                            llvm::ArrayRef<Value *> Args,
                                            ScalarType T) {
  bool Double = T == ScalarType::F64;
  llvm::Type *S = Double ? B.getDoubleTy() : B.getFloatTy();
  std::string Sym = ("tidal_" + Name + (Double ? "" : "f")).str();
  llvm::SmallVector<llvm::Type *, 2> Params(Args.size(), S);
  llvm::FunctionCallee Callee =
      M.getOrInsertFunction(Sym, llvm::FunctionType::get(S, Params, false));
  if (auto *F = llvm::dyn_cast<llvm::Function>(Callee.getCallee())) {
    F->setDoesNotThrow();
    F->setDoesNotAccessMemory();
    F->setWillReturn();
    F->addFnAttr(llvm::Attribute::NoSync);
    F->addFnAttr(llvm::Attribute::NoFree);
    F->addFnAttr(llvm::Attribute::Speculatable);
  }
  auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(Args[0]->getType());
  if (!VT)
    return B.CreateCall(Callee, Args);
  Value *R = llvm::PoisonValue::get(VT);
  for (unsigned L = 0; L < VT->getNumElements(); ++L) {
    llvm::SmallVector<Value *, 2> Lane;
    for (Value *A : Args)
      Lane.push_back(B.CreateExtractElement(A, L));
    R = B.CreateInsertElement(R, B.CreateCall(Callee, Lane), L);
  }
  return R;
}

llvm::Value *KernelEmitter::emitRounding(llvm::StringRef Name, Value *V,
                                         ScalarType T) {
  if (!Target.NativeRounding)
    return expandRounding(Name, V, T);
  llvm::Intrinsic::ID ID = Name == "floor"  ? llvm::Intrinsic::floor
                           : Name == "ceil" ? llvm::Intrinsic::ceil
                                            : llvm::Intrinsic::roundeven;
  return B.CreateUnaryIntrinsic(ID, V);
}

/// floor/ceil/roundeven without SSE4.1: values of magnitude 2^mantissa or
/// more (and NaNs) are already integers; others go through an integer
/// (floor, ceil) or the 2^mantissa addition trick (round half to even).
/// copysign keeps the sign of zero results.
llvm::Value *KernelEmitter::expandRounding(llvm::StringRef Name, Value *V,
                                           ScalarType T) {
  bool Double = T == ScalarType::F64;
  llvm::Type *ITy = withScalar(V, Double ? B.getInt64Ty() : B.getInt32Ty());
  Value *Big = fpConst(V, Double ? 4503599627370496.0 : 8388608.0);
  Value *A = B.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, V);
  Value *Small = B.CreateFCmpOLT(A, Big);
  Value *R;
  if (Name == "round") {
    R = B.CreateFSub(B.CreateFAdd(A, Big), Big);
  } else {
    Value *Trunc = B.CreateSIToFP(B.CreateFPToSI(V, ITy), V->getType());
    Trunc = B.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, Trunc, V);
    if (Name == "floor")
      R = B.CreateSelect(B.CreateFCmpOGT(Trunc, V),
                         B.CreateFSub(Trunc, fpConst(V, 1.0)), Trunc);
    else
      R = B.CreateSelect(B.CreateFCmpOLT(Trunc, V),
                         B.CreateFAdd(Trunc, fpConst(V, 1.0)), Trunc);
  }
  R = B.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, R, V);
  return B.CreateSelect(Small, R, V);
}
