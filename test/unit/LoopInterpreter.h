//===- LoopInterpreter.h - Checking interpreter of the loop IR -*- C++ -*-===//
//
// The one reference interpreter of the loop IR that the unit tests use to
// check numbers without codegen: LoweringTest.cpp runs whole lowered
// Programs, LowerNumericsUtil.h (LowerReductionTest.cpp,
// LowerContractionTest.cpp) runs single lowered kernels, and
// LoopPassesTest.cpp runs kernels before and after the loop passes.
//
// It computes what generated code computes (codegen/KernelEmitter.cpp,
// codegen/KernelMath.cpp), lane by lane: floats in double, rounded to the
// result type (f32 to float, f16 to half) after every operation; integers in
// int64, wrapped to their type's width after every operation (unsigned
// values zero-extended, u64 as its bit pattern); saturating float-to-integer
// casts; NaN-propagating min and max; shifts by the width or more defined
// as codegen defines them.
//
// And it fails the running test (Catch2 REQUIRE / FAIL) where generated
// code would go wrong or where a kernel breaks the rules of the IR:
//   - a load or a store outside its buffer, checked lane by lane;
//   - a load of an element nothing has written yet (local buffers, outputs
//     and temporaries start unwritten; see Buffer::unwritten);
//   - integer division or remainder by zero, and signed division overflow
//     (INT_MIN / -1), which traps;
//   - a variable used unbound or bound again inside its scope, a local
//     buffer shadowing another;
//   - an intrinsic codegen does not know, or one on a type it rejects.
// A select evaluates both arms, as generated code does, so the arm not
// taken must be safe too. Each Buffer counts the stores of every element,
// so that a caller can require each output element to be stored exactly
// once (requireStoredOnce) or compare the counts of two runs.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_TEST_UNIT_LOOPINTERPRETER_H
#define TIDAL_TEST_UNIT_LOOPINTERPRETER_H

#include "compiler/Loop.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace tidal {
namespace looptest {

/// Fails the running test unless Cond holds. Unlike INFO and REQUIRE, it
/// builds its message only on failure: it runs for every lane of every
/// operation.
#define TIDAL_LOOP_EXPECT(Cond, Message)                                       \
  do {                                                                         \
    if (!(Cond))                                                               \
      FAIL("loop interpreter: " << Message << " (" #Cond ")");                 \
  } while (false)

//===----------------------------------------------------------------------===//
// Scalar conversions
//===----------------------------------------------------------------------===//

/// V rounded to the nearest half-precision value (ties to even; overflow
/// to infinity, tiny values to half subnormals).
inline double roundToHalf(double V) {
  if (!std::isfinite(V) || V == 0)
    return V;
  int Exp;
  std::frexp(V, &Exp); // |V| = m * 2^Exp, m in [0.5, 1)
  int Quantum = std::max(Exp - 11, -24);
  double R = std::ldexp(std::nearbyint(std::ldexp(V, -Quantum)), Quantum);
  return std::fabs(R) > 65504 ? std::copysign(INFINITY, V) : R;
}

/// A double rounded to the float type T.
inline double roundFloat(ScalarType T, double V) {
  if (T == ScalarType::F32)
    return static_cast<float>(V);
  if (T == ScalarType::F16)
    return roundToHalf(V);
  return V;
}

inline uint64_t widthMask(ScalarType T) {
  unsigned Bits = T == ScalarType::Bool ? 1 : scalarBits(T);
  return Bits >= 64 ? ~uint64_t(0) : (uint64_t(1) << Bits) - 1;
}

/// The bits of V wrapped to the integer type T: sign-extended for signed
/// types, zero-extended for unsigned ones, the lowest bit for bool (an i1
/// in registers).
inline int64_t wrapInt(ScalarType T, uint64_t V) {
  if (T == ScalarType::Bool)
    return V & 1;
  unsigned Bits = scalarBits(T);
  if (Bits >= 64)
    return static_cast<int64_t>(V);
  V &= widthMask(T);
  if (isSigned(T) && (V >> (Bits - 1)) & 1)
    V |= ~widthMask(T);
  return static_cast<int64_t>(V);
}

/// An integer of type T (held as wrapInt holds it) as a double.
inline double intToDouble(ScalarType T, int64_t V) {
  return T == ScalarType::U64 ? static_cast<double>(static_cast<uint64_t>(V))
                              : static_cast<double>(V);
}

/// Float V converted to the integer type T as codegen converts it: NaN is
/// 0; i32, i64 and u64 saturate; narrower types saturate to i32 and u32 to
/// i64, then wrap.
inline int64_t floatToInt(ScalarType T, double V) {
  if (T == ScalarType::Bool)
    return V != 0; // NaN too: codegen compares unordered-not-equal
  if (std::isnan(V))
    return 0;
  V = std::trunc(V);
  if (T == ScalarType::U64)
    return V <= 0 ? 0
           : V >= 18446744073709551616.0
               ? -1 // all ones
               : static_cast<int64_t>(static_cast<uint64_t>(V));
  bool To64 = scalarBits(T) == 64 || T == ScalarType::U32;
  double Limit = To64 ? 9223372036854775808.0 : 2147483648.0;
  int64_t Max = To64 ? std::numeric_limits<int64_t>::max()
                     : std::numeric_limits<int32_t>::max();
  int64_t I = V >= Limit ? Max : V < -Limit ? -Max - 1 : int64_t(V);
  return wrapInt(T, static_cast<uint64_t>(I));
}

/// The value an element of type T holds after V is written to it: floats
/// rounded, integers truncated, saturated and wrapped as by a cast, bools 0
/// or 1. What reference implementations use to predict stored results.
inline double roundAs(ScalarType T, double V) {
  if (isFloat(T))
    return roundFloat(T, V);
  return intToDouble(T, floatToInt(T, V));
}

//===----------------------------------------------------------------------===//
// Values and buffers
//===----------------------------------------------------------------------===//

/// One value: Type.Lanes lanes, in F for float types and in I (as wrapInt
/// holds them) for the rest. A one-lane value stands for every lane (a
/// scalar select condition).
struct Val {
  DataType Type;
  std::vector<double> F;
  std::vector<int64_t> I;

  bool isFloat() const { return tidal::isFloat(Type.Scalar); }
  double f(unsigned L) const { return F.size() == 1 ? F[0] : F.at(L); }
  int64_t i(unsigned L) const { return I.size() == 1 ? I[0] : I.at(L); }
  /// Lane L as a double, whatever the type.
  double number(unsigned L) const {
    return isFloat() ? f(L) : intToDouble(Type.Scalar, i(L));
  }
};

/// One flat buffer, with what the checks need: which elements may be read
/// and how often each was stored.
struct Buffer {
  ScalarType Elem = ScalarType::F32;
  std::vector<double> F;  // float element types
  std::vector<int64_t> I; // the rest, as wrapInt holds them
  std::vector<bool> Written;
  std::vector<int> Stores;

  /// Size elements that must be stored before they are loaded.
  static Buffer unwritten(ScalarType Elem, int64_t Size) {
    Buffer B;
    B.Elem = Elem;
    if (isFloat(Elem))
      B.F.assign(Size, 0);
    else
      B.I.assign(Size, 0);
    B.Written.assign(Size, false);
    B.Stores.assign(Size, 0);
    return B;
  }
  /// A buffer holding Values (stored as roundAs stores them), all readable.
  static Buffer of(ScalarType Elem, const std::vector<double> &Values) {
    Buffer B = unwritten(Elem, Values.size());
    for (size_t J = 0; J < Values.size(); ++J) {
      if (isFloat(Elem))
        B.F[J] = roundFloat(Elem, Values[J]);
      else
        B.I[J] = floatToInt(Elem, Values[J]);
    }
    B.Written.assign(Values.size(), true);
    return B;
  }

  int64_t size() const { return Written.size(); }
  /// Every element as a double.
  std::vector<double> values() const {
    if (isFloat(Elem))
      return F;
    std::vector<double> R;
    for (int64_t V : I)
      R.push_back(intToDouble(Elem, V));
    return R;
  }
};

/// Requires every element of B to have been stored exactly once.
inline void requireStoredOnce(const Buffer &B, const std::string &What) {
  for (int64_t J = 0; J < B.size(); ++J) {
    TIDAL_LOOP_EXPECT(B.Stores[J] == 1, What << " element " << J << " stored "
                                             << B.Stores[J] << " times");
  }
}

//===----------------------------------------------------------------------===//
// Operations, one lane at a time
//===----------------------------------------------------------------------===//

/// llvm.minimum / llvm.maximum: NaN if either is, and -0 below +0.
inline double floatMinMax(bool Max, double A, double B) {
  if (std::isnan(A) || std::isnan(B))
    return NAN;
  if (A == B)
    return std::signbit(A) == Max ? B : A;
  return (A < B) == Max ? B : A;
}

/// A float binary operation; comparisons give 0 or 1.
inline double floatBinary(BinaryOp Op, double A, double B) {
  switch (Op) {
  case BinaryOp::Add:
    return A + B;
  case BinaryOp::Sub:
    return A - B;
  case BinaryOp::Mul:
    return A * B;
  case BinaryOp::Div:
    return A / B;
  case BinaryOp::Mod:
    return std::fmod(A, B);
  case BinaryOp::Min:
    return floatMinMax(false, A, B);
  case BinaryOp::Max:
    return floatMinMax(true, A, B);
  case BinaryOp::LT:
    return A < B;
  case BinaryOp::LE:
    return A <= B;
  case BinaryOp::GT:
    return A > B;
  case BinaryOp::GE:
    return A >= B;
  case BinaryOp::EQ:
    return A == B;
  case BinaryOp::NE:
    return A != B; // unordered: true when either is NaN
  default:
    FAIL("'" << binaryOpName(Op).str() << "' on floats");
    return 0;
  }
}

/// A shift as codegen defines it for every amount: a left or logical right
/// shift by the width or more gives 0, an arithmetic one the sign.
inline int64_t intShift(BinaryOp Op, ScalarType T, int64_t A, int64_t B) {
  unsigned Bits = scalarBits(T);
  uint64_t Amount = static_cast<uint64_t>(B) & widthMask(T);
  uint64_t UA = static_cast<uint64_t>(A) & widthMask(T);
  if (Op == BinaryOp::Shl)
    return Amount >= Bits ? 0 : wrapInt(T, UA << Amount);
  if (!isSigned(T))
    return Amount >= Bits ? 0 : wrapInt(T, UA >> Amount);
  return A >> std::min<uint64_t>(Amount, Bits - 1); // A is sign-extended
}

/// An integer or bool binary operation on values held as wrapInt holds
/// them; comparisons give 0 or 1.
inline int64_t intBinary(BinaryOp Op, ScalarType T, int64_t A, int64_t B) {
  bool S = isSigned(T);
  uint64_t UA = static_cast<uint64_t>(A), UB = static_cast<uint64_t>(B);
  bool Less = S ? A < B : UA < UB;
  switch (Op) {
  case BinaryOp::Add:
    return wrapInt(T, UA + UB);
  case BinaryOp::Sub:
    return wrapInt(T, UA - UB);
  case BinaryOp::Mul:
    return wrapInt(T, UA * UB);
  case BinaryOp::Div:
  case BinaryOp::Mod: {
    TIDAL_LOOP_EXPECT(B != 0, "integer " << binaryOpName(Op).str() << " of "
                                         << A << " by zero");
    if (!S)
      return wrapInt(T, Op == BinaryOp::Div ? UA / UB : UA % UB);
    int64_t Min = wrapInt(T, uint64_t(1) << (scalarBits(T) - 1));
    TIDAL_LOOP_EXPECT(B != -1 || A != Min, "signed " << binaryOpName(Op).str()
                                                     << " overflows: " << A
                                                     << " by -1");
    return wrapInt(T,
                   static_cast<uint64_t>(Op == BinaryOp::Div ? A / B : A % B));
  }
  case BinaryOp::Min:
    return Less ? A : B;
  case BinaryOp::Max:
    return Less ? B : A;
  case BinaryOp::LT:
    return Less;
  case BinaryOp::LE:
    return Less || A == B;
  case BinaryOp::GT:
    return !Less && A != B;
  case BinaryOp::GE:
    return !Less;
  case BinaryOp::EQ:
    return A == B;
  case BinaryOp::NE:
    return A != B;
  case BinaryOp::And:
    return A & B;
  case BinaryOp::Or:
    return A | B;
  case BinaryOp::Xor:
    return A ^ B;
  case BinaryOp::Shl:
  case BinaryOp::Shr:
    return intShift(Op, T, A, B);
  }
  FAIL("unknown binary op");
  return 0;
}

/// A float intrinsic of the loop IR, before rounding to the result type.
inline double floatIntrinsic(const std::string &Name,
                             const std::vector<double> &A) {
  if (Name == "exp")
    return std::exp(A[0]);
  if (Name == "log")
    return std::log(A[0]);
  if (Name == "sqrt")
    return std::sqrt(A[0]);
  if (Name == "erf")
    return std::erf(A[0]);
  if (Name == "tanh")
    return std::tanh(A[0]);
  if (Name == "sigmoid")
    return 1 / (1 + std::exp(-A[0]));
  if (Name == "pow")
    return std::pow(A[0], A[1]);
  if (Name == "sin")
    return std::sin(A[0]);
  if (Name == "cos")
    return std::cos(A[0]);
  if (Name == "abs")
    return std::fabs(A[0]);
  if (Name == "floor")
    return std::floor(A[0]);
  if (Name == "ceil")
    return std::ceil(A[0]);
  if (Name == "round")
    return std::nearbyint(A[0]); // half to even
  if (Name == "fma")
    return std::fma(A[0], A[1], A[2]);
  FAIL("unknown float intrinsic " << Name);
  return 0;
}

/// An integer intrinsic: only popcount and abs exist (codegen rejects the
/// others on integers).
inline int64_t intIntrinsic(const std::string &Name, ScalarType T, int64_t A) {
  TIDAL_LOOP_EXPECT(T != ScalarType::Bool, "intrinsic " << Name << " on bool");
  uint64_t Bits = static_cast<uint64_t>(A) & widthMask(T);
  if (Name == "popcount")
    return __builtin_popcountll(Bits);
  if (Name == "abs")
    return isSigned(T) && A < 0 ? wrapInt(T, 0 - Bits) : A;
  FAIL("intrinsic " << Name << " on " << scalarTypeName(T).str());
  return 0;
}

/// Lane L of A converted to type To, as a cast does.
inline void castLane(const Val &A, unsigned L, Val &R) {
  ScalarType To = R.Type.Scalar;
  if (isFloat(To))
    R.F.push_back(roundFloat(To, A.number(L)));
  else if (A.isFloat())
    R.I.push_back(floatToInt(To, A.f(L)));
  else
    R.I.push_back(To == ScalarType::Bool
                      ? A.i(L) != 0
                      : wrapInt(To, static_cast<uint64_t>(A.i(L))));
}

//===----------------------------------------------------------------------===//
// The interpreter
//===----------------------------------------------------------------------===//

class Interpreter {
public:
  /// Makes B the buffer the kernel calls Name (B must outlive the run).
  /// Shape: the dimensions a multi-dimensional access indexes (none for
  /// a flat buffer).
  void bind(const std::string &Name, Buffer &B,
            std::vector<int64_t> Shape = {}) {
    TIDAL_LOOP_EXPECT(!Buffers.count(Name), "buffer %" << Name << " shadowed");
    Buffers[Name] = &B;
    Shapes[Name] = std::move(Shape);
  }

  void run(const Stmt &S) {
    switch (S->Kind) {
    case StmtKind::For: {
      int64_t Min = scalarInt(S->Min), Extent = scalarInt(S->Extent);
      bindVar(S->Name, Val{DataType(ScalarType::I64), {}, {Min}});
      for (int64_t I = Min; I < Min + Extent; ++I) {
        Vars[S->Name].I[0] = I;
        run(S->Body);
      }
      Vars.erase(S->Name);
      return;
    }
    case StmtKind::Store:
      store(*S);
      return;
    case StmtKind::Prefetch: // a hint: its indices must evaluate, no more
      for (const Expr &I : S->Indices)
        eval(I);
      return;
    case StmtKind::Let:
      bindVar(S->Name, eval(S->Value));
      run(S->Body);
      Vars.erase(S->Name);
      return;
    case StmtKind::Allocate: {
      Buffer Local = Buffer::unwritten(S->Elem, S->Size);
      bind(S->Name, Local);
      run(S->Body);
      Buffers.erase(S->Name);
      return;
    }
    case StmtKind::If:
      if (scalarInt(S->Cond) != 0)
        run(S->Body);
      else if (S->Else)
        run(S->Else);
      return;
    case StmtKind::Seq:
      for (const Stmt &C : S->Stmts)
        run(C);
      return;
    }
  }

  Val eval(const Expr &E) {
    DataType T = E->Type;
    Val R{T, {}, {}};
    switch (E->Kind) {
    case ExprKind::IntImm:
      TIDAL_LOOP_EXPECT(!isFloat(T.Scalar),
                        "integer immediate of a float type");
      R.I.assign(T.Lanes, wrapInt(T.Scalar, E->IntValue));
      return R;
    case ExprKind::FloatImm:
      TIDAL_LOOP_EXPECT(isFloat(T.Scalar),
                        "float immediate of an integer type");
      R.F.assign(T.Lanes, roundFloat(T.Scalar, E->FloatValue));
      return R;
    case ExprKind::Var: {
      auto It = Vars.find(E->Name);
      TIDAL_LOOP_EXPECT(It != Vars.end(),
                        "variable %" << E->Name << " unbound");
      return It->second;
    }
    case ExprKind::Binary:
      return binary(*E);
    case ExprKind::Not: {
      Val A = eval(E->Operands[0]);
      TIDAL_LOOP_EXPECT(!A.isFloat(), "not of a float");
      for (unsigned L = 0; L < T.Lanes; ++L)
        R.I.push_back(wrapInt(T.Scalar, ~static_cast<uint64_t>(A.i(L))));
      return R;
    }
    case ExprKind::Select: {
      // Both arms are evaluated, as generated code does: a load in the arm
      // not taken must still be in bounds, a division still not by zero.
      Val C = eval(E->Operands[0]), A = eval(E->Operands[1]),
          B = eval(E->Operands[2]);
      for (unsigned L = 0; L < T.Lanes; ++L) {
        if (R.isFloat())
          R.F.push_back(C.i(L) ? A.f(L) : B.f(L));
        else
          R.I.push_back(C.i(L) ? A.i(L) : B.i(L));
      }
      return R;
    }
    case ExprKind::Load:
      return load(*E);
    case ExprKind::Cast: {
      Val A = eval(E->Operands[0]);
      for (unsigned L = 0; L < T.Lanes; ++L)
        castLane(A, L, R);
      return R;
    }
    case ExprKind::Call:
      return call(*E);
    case ExprKind::Ramp: {
      Val Base = eval(E->Operands[0]), Stride = eval(E->Operands[1]);
      for (unsigned L = 0; L < T.Lanes; ++L) {
        if (R.isFloat())
          R.F.push_back(roundFloat(T.Scalar, Base.f(0) + Stride.f(0) * L));
        else
          R.I.push_back(
              intBinary(BinaryOp::Add, T.Scalar, Base.i(0),
                        intBinary(BinaryOp::Mul, T.Scalar, Stride.i(0), L)));
      }
      return R;
    }
    case ExprKind::Broadcast: {
      Val A = eval(E->Operands[0]);
      R.F.assign(A.isFloat() ? T.Lanes : 0, A.isFloat() ? A.f(0) : 0);
      R.I.assign(A.isFloat() ? 0 : T.Lanes, A.isFloat() ? 0 : A.i(0));
      return R;
    }
    }
    FAIL("unknown expression kind");
    return R;
  }

private:
  std::map<std::string, Buffer *> Buffers;
  std::map<std::string, std::vector<int64_t>> Shapes;
  std::map<std::string, Val> Vars;

  /// The flat index of an access: its one index, or the row-major position
  /// of one index per dimension, each checked against its dimension.
  Val index(const std::string &Name, const std::vector<Expr> &Indices) {
    if (Indices.size() == 1)
      return eval(Indices[0]);
    const std::vector<int64_t> &Shape = Shapes[Name];
    TIDAL_LOOP_EXPECT(Shape.size() == Indices.size(),
                      "%" << Name << " indexed by " << Indices.size()
                          << " indices, not one per dimension");
    int64_t At = 0;
    for (size_t D = 0; D < Shape.size(); ++D) {
      int64_t I = scalarInt(Indices[D]);
      TIDAL_LOOP_EXPECT(I >= 0 && I < Shape[D], "%" << Name << " index " << I
                                                    << " out of [0, "
                                                    << Shape[D]
                                                    << ") in dimension " << D);
      At = At * Shape[D] + I;
    }
    return Val{DataType(ScalarType::I64), {}, {At}};
  }

  Buffer &buffer(const std::string &Name) {
    auto It = Buffers.find(Name);
    TIDAL_LOOP_EXPECT(It != Buffers.end(), "buffer %" << Name << " unbound");
    return *It->second;
  }
  void bindVar(const std::string &Name, Val V) {
    TIDAL_LOOP_EXPECT(!Vars.count(Name),
                      "variable %" << Name << " bound again in its scope");
    Vars[Name] = std::move(V);
  }
  int64_t scalarInt(const Expr &E) {
    Val V = eval(E);
    TIDAL_LOOP_EXPECT(!V.isFloat() && V.I.size() == 1,
                      "a bound or condition must be a scalar integer");
    return V.I[0];
  }
  /// Lane L of the index, checked against B's bounds.
  int64_t element(const std::string &Name, const Buffer &B, const Val &Index,
                  unsigned L) {
    int64_t At = Index.i(L);
    TIDAL_LOOP_EXPECT(At >= 0 && At < B.size(), "%" << Name << "[" << At
                                                    << "] out of bounds [0, "
                                                    << B.size() << ")");
    return At;
  }

  Val load(const ExprNode &E) {
    Val Index = index(E.Name, E.Operands);
    Buffer &B = buffer(E.Name);
    TIDAL_LOOP_EXPECT(B.Elem == E.Type.Scalar,
                      "load of another type from %" << E.Name);
    Val R{E.Type, {}, {}};
    for (unsigned L = 0; L < E.Type.Lanes; ++L) {
      int64_t At = element(E.Name, B, Index, L);
      TIDAL_LOOP_EXPECT(B.Written[At], "load of %"
                                           << E.Name << "[" << At
                                           << "] before any store to it");
      if (R.isFloat())
        R.F.push_back(B.F[At]);
      else
        R.I.push_back(B.I[At]);
    }
    return R;
  }

  void store(const StmtNode &S) {
    Val Index = index(S.Name, S.Indices), V = eval(S.Value);
    Buffer &B = buffer(S.Name);
    TIDAL_LOOP_EXPECT(B.Elem == V.Type.Scalar,
                      "store of another type to %" << S.Name);
    for (unsigned L = 0; L < V.Type.Lanes; ++L) {
      int64_t At = element(S.Name, B, Index, L);
      if (V.isFloat())
        B.F[At] = V.f(L);
      else
        B.I[At] = V.i(L);
      B.Written[At] = true;
      ++B.Stores[At];
    }
  }

  Val binary(const ExprNode &E) {
    Val A = eval(E.Operands[0]), B = eval(E.Operands[1]);
    Val R{E.Type, {}, {}};
    ScalarType T = A.Type.Scalar;
    for (unsigned L = 0; L < E.Type.Lanes; ++L) {
      if (!A.isFloat())
        R.I.push_back(intBinary(E.Op, T, A.i(L), B.i(L)));
      else if (R.isFloat())
        R.F.push_back(roundFloat(T, floatBinary(E.Op, A.f(L), B.f(L))));
      else // a comparison of floats
        R.I.push_back(floatBinary(E.Op, A.f(L), B.f(L)) != 0);
    }
    return R;
  }

  Val call(const ExprNode &E) {
    std::vector<Val> Args;
    for (const Expr &Op : E.Operands)
      Args.push_back(eval(Op));
    Val R{E.Type, {}, {}};
    for (unsigned L = 0; L < E.Type.Lanes; ++L) {
      if (!R.isFloat()) {
        TIDAL_LOOP_EXPECT(Args.size() == 1, "integer intrinsic " << E.Name);
        R.I.push_back(intIntrinsic(E.Name, E.Type.Scalar, Args[0].i(L)));
        continue;
      }
      std::vector<double> A;
      for (const Val &V : Args)
        A.push_back(V.f(L));
      R.F.push_back(roundFloat(E.Type.Scalar, floatIntrinsic(E.Name, A)));
    }
    return R;
  }
};

//===----------------------------------------------------------------------===//
// Running kernels and programs
//===----------------------------------------------------------------------===//

/// Runs K with Args[P] as its P-th parameter; each must have the declared
/// element type and size.
inline void runKernel(const Kernel &K, const std::vector<Buffer *> &Args) {
  REQUIRE(Args.size() == K.Params.size());
  Interpreter M;
  for (size_t P = 0; P < Args.size(); ++P) {
    const BufferDecl &D = K.Params[P];
    TIDAL_LOOP_EXPECT(Args[P]->Elem == D.Elem && Args[P]->size() == D.Size,
                      "parameter %" << D.Name << " of kernel @" << K.Name
                                    << " bound to a buffer of another type");
    M.bind(D.Name, *Args[P], D.Shape);
  }
  M.run(K.Body);
}

/// Runs K on the buffers named as its parameters.
inline void runKernel(const Kernel &K, std::map<std::string, Buffer> &Bufs) {
  std::vector<Buffer *> Args;
  for (const BufferDecl &D : K.Params) {
    TIDAL_LOOP_EXPECT(Bufs.count(D.Name),
                      "no buffer for parameter %" << D.Name);
    Args.push_back(&Bufs[D.Name]);
  }
  runKernel(K, Args);
}

/// The Size elements of type T at byte Offset of the weights section W
/// (host byte order: the weights are written in the target's, and the
/// tests run on little-endian hosts and targets).
inline Buffer weightsBuffer(const std::vector<uint8_t> &W, int64_t Offset,
                            ScalarType T, int64_t Size) {
  TIDAL_LOOP_EXPECT(T != ScalarType::F16, "f16 weights");
  int64_t Bytes = scalarBits(T) / 8;
  TIDAL_LOOP_EXPECT(Offset % 64 == 0 && Offset >= 0 &&
                        Offset + Size * Bytes <= int64_t(W.size()),
                    "weights at byte " << Offset);
  Buffer B = Buffer::unwritten(T, Size);
  for (int64_t I = 0; I < Size; ++I) {
    const uint8_t *P = W.data() + Offset + I * Bytes;
    if (T == ScalarType::F32) {
      float V;
      std::memcpy(&V, P, sizeof(V));
      B.F[I] = V;
    } else if (T == ScalarType::F64) {
      std::memcpy(&B.F[I], P, sizeof(double));
    } else {
      uint64_t V = 0;
      std::memcpy(&V, P, Bytes);
      B.I[I] = wrapInt(T, V);
    }
  }
  B.Written.assign(Size, true);
  return B;
}

/// Runs every call of P on Inputs (one per graph input, in order) and
/// returns the outputs; every output element must be stored exactly once,
/// and temporaries must be written before they are read.
inline std::vector<std::vector<double>>
runProgram(const Program &P, const std::vector<std::vector<double>> &Inputs) {
  REQUIRE(Inputs.size() == P.Inputs.size());
  std::vector<Buffer> In, Out;
  for (size_t I = 0; I < Inputs.size(); ++I)
    In.push_back(Buffer::of(scalarTypeOf(P.Inputs[I].Type.Elem), Inputs[I]));
  for (const IOInfo &O : P.Outputs)
    Out.push_back(
        Buffer::unwritten(scalarTypeOf(O.Type.Elem), O.Type.numElements()));
  std::map<int64_t, Buffer> Temps, Weights;
  for (const KernelCall &C : P.Calls) {
    const Kernel *K = P.findKernel(C.Kernel);
    REQUIRE(K);
    REQUIRE(K->Params.size() == C.Args.size());
    std::vector<Buffer *> Args;
    for (size_t A = 0; A < C.Args.size(); ++A) {
      const BufferDecl &D = K->Params[A];
      const BufferBinding &B = C.Args[A];
      switch (B.Storage) {
      case StorageKind::Input:
        Args.push_back(&In.at(B.Index));
        break;
      case StorageKind::Output:
        Args.push_back(&Out.at(B.Index));
        break;
      case StorageKind::Temp:
        REQUIRE(B.Index < static_cast<int64_t>(P.TempSizes.size()));
        if (!Temps.count(B.Index))
          Temps[B.Index] = Buffer::unwritten(D.Elem, D.Size);
        Args.push_back(&Temps[B.Index]);
        break;
      case StorageKind::Weights:
        Weights[B.Offset] = weightsBuffer(P.Weights, B.Offset, D.Elem, D.Size);
        Args.push_back(&Weights[B.Offset]);
        break;
      default:
        FAIL("unexpected storage " << storageKindName(B.Storage).str());
      }
    }
    runKernel(*K, Args);
  }
  std::vector<std::vector<double>> R;
  for (size_t I = 0; I < Out.size(); ++I) {
    requireStoredOnce(Out[I], "output " + std::to_string(I));
    R.push_back(Out[I].values());
  }
  return R;
}

#undef TIDAL_LOOP_EXPECT

} // namespace looptest
} // namespace tidal

#endif
