//===- LowerNumericsUtil.h - Running lowered kernels in tests ---*- C++ -*-===//
//
// Shared by LowerReductionTest.cpp and LowerContractionTest.cpp: a small
// interpreter of the loop IR (scalar doubles, f32 results rounded to float,
// integers wrapped to their width) that checks every access is in bounds,
// every local element is written before it is read and every output
// element is stored exactly once; a Case that builds one node, lowers it
// with a KernelBuilder and runs it on sampled inputs; and index helpers for
// the naive reference implementations the tests compare with.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_TEST_UNIT_LOWERNUMERICSUTIL_H
#define TIDAL_TEST_UNIT_LOWERNUMERICSUTIL_H

#include "compiler/Diagnostics.h"
#include "passes/lower/Lowering.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <map>

namespace tidal {
namespace lowertest {

//===----------------------------------------------------------------------===//
// Interpreter
//===----------------------------------------------------------------------===//

struct IBuf {
  std::vector<double> Data;
  std::vector<bool> Init;
  std::vector<int> Writes;
};

inline double roundAs(ScalarType T, double V) {
  if (T == ScalarType::F32)
    return static_cast<float>(V);
  if (isFloat(T))
    return V;
  if (T == ScalarType::Bool)
    return V != 0;
  if (std::isnan(V))
    return 0;
  // Integers wrap to their width, as generated code does; i64 / u64 stay
  // doubles (their limits do not survive a round trip through int64_t).
  if (scalarBits(T) == 64)
    return std::trunc(V);
  int64_t I = static_cast<int64_t>(std::trunc(V));
  switch (T) {
  case ScalarType::I8:
    return static_cast<int8_t>(I);
  case ScalarType::U8:
    return static_cast<uint8_t>(I);
  case ScalarType::I16:
    return static_cast<int16_t>(I);
  case ScalarType::U16:
    return static_cast<uint16_t>(I);
  case ScalarType::I32:
    return static_cast<int32_t>(I);
  case ScalarType::U32:
    return static_cast<uint32_t>(I);
  default:
    return static_cast<double>(I);
  }
}

class Machine {
public:
  std::map<std::string, IBuf> Bufs;
  std::map<std::string, double> Vars;

  double eval(const Expr &E) {
    switch (E->Kind) {
    case ExprKind::IntImm:
      return static_cast<double>(E->IntValue);
    case ExprKind::FloatImm:
      return roundAs(E->Type.Scalar, E->FloatValue);
    case ExprKind::Var:
      REQUIRE(Vars.count(E->Name));
      return Vars[E->Name];
    case ExprKind::Not:
      return eval(E->Operands[0]) == 0;
    case ExprKind::Select: {
      double C = eval(E->Operands[0]), T = eval(E->Operands[1]),
             F = eval(E->Operands[2]);
      return C != 0 ? T : F;
    }
    case ExprKind::Load: {
      IBuf &B = buf(E->Name);
      int64_t I = index(E->Operands[0], B);
      INFO("load " << E->Name << "[" << I << "]");
      REQUIRE(B.Init[I]);
      return B.Data[I];
    }
    case ExprKind::Cast:
      return roundAs(E->Type.Scalar, eval(E->Operands[0]));
    case ExprKind::Call:
      return callOf(*E);
    case ExprKind::Binary:
      return binaryOf(*E);
    default:
      FAIL("unexpected expression kind");
      return 0;
    }
  }

  void exec(const Stmt &S) {
    switch (S->Kind) {
    case StmtKind::For: {
      int64_t Min = eval(S->Min), Extent = eval(S->Extent);
      REQUIRE(!Vars.count(S->Name));
      for (int64_t I = Min; I < Min + Extent; ++I) {
        Vars[S->Name] = I;
        exec(S->Body);
      }
      Vars.erase(S->Name);
      return;
    }
    case StmtKind::Store: {
      IBuf &B = buf(S->Name);
      int64_t I = index(S->Index, B);
      B.Data[I] = roundAs(S->Value->Type.Scalar, eval(S->Value));
      B.Init[I] = true;
      ++B.Writes[I];
      return;
    }
    case StmtKind::Let:
      REQUIRE(!Vars.count(S->Name));
      Vars[S->Name] = eval(S->Value);
      exec(S->Body);
      Vars.erase(S->Name);
      return;
    case StmtKind::Allocate: {
      REQUIRE(!Bufs.count(S->Name));
      Bufs[S->Name] =
          IBuf{std::vector<double>(S->Size), std::vector<bool>(S->Size, false),
               std::vector<int>(S->Size, 0)};
      exec(S->Body);
      Bufs.erase(S->Name);
      return;
    }
    case StmtKind::If:
      if (eval(S->Cond) != 0)
        exec(S->Body);
      else if (S->Else)
        exec(S->Else);
      return;
    case StmtKind::Seq:
      for (const Stmt &C : S->Stmts)
        exec(C);
      return;
    }
  }

private:
  IBuf &buf(const std::string &Name) {
    REQUIRE(Bufs.count(Name));
    return Bufs[Name];
  }
  int64_t index(const Expr &E, const IBuf &B) {
    int64_t I = static_cast<int64_t>(eval(E));
    REQUIRE(I >= 0);
    REQUIRE(I < static_cast<int64_t>(B.Data.size()));
    return I;
  }
  double callOf(const ExprNode &E) {
    std::vector<double> A;
    for (const Expr &O : E.Operands)
      A.push_back(eval(O));
    const std::string &F = E.Name;
    double R = 0;
    if (F == "exp")
      R = std::exp(A[0]);
    else if (F == "log")
      R = std::log(A[0]);
    else if (F == "sqrt")
      R = std::sqrt(A[0]);
    else if (F == "abs")
      R = std::fabs(A[0]);
    else if (F == "pow")
      R = std::pow(A[0], A[1]);
    else if (F == "fma")
      R = A[0] * A[1] + A[2];
    else
      FAIL("unexpected intrinsic " << F);
    return roundAs(E.Type.Scalar, R);
  }
  double binaryOf(const ExprNode &E) {
    double A = eval(E.Operands[0]), B = eval(E.Operands[1]);
    ScalarType T = E.Operands[0]->Type.Scalar;
    bool F = isFloat(T);
    double R = 0;
    switch (E.Op) {
    case BinaryOp::Add:
      R = A + B;
      break;
    case BinaryOp::Sub:
      R = A - B;
      break;
    case BinaryOp::Mul:
      R = A * B;
      break;
    case BinaryOp::Div:
      if (!F)
        REQUIRE(B != 0);
      R = F ? A / B : std::trunc(A / B);
      break;
    case BinaryOp::Min:
      R = std::isnan(A) || std::isnan(B) ? NAN : std::min(A, B);
      break;
    case BinaryOp::Max:
      R = std::isnan(A) || std::isnan(B) ? NAN : std::max(A, B);
      break;
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
      return A != B;
    case BinaryOp::And:
      return A != 0 && B != 0;
    case BinaryOp::Or:
      return A != 0 || B != 0;
    default:
      FAIL("unexpected binary op");
      return 0;
    }
    return roundAs(T, R);
  }
};

//===----------------------------------------------------------------------===//
// Building, lowering and running one node
//===----------------------------------------------------------------------===//

using Data = std::vector<double>;

/// Deterministic values in [-2, 2) (integers in [-20, 20) for integer types).
inline Data sample(const TensorType &T, unsigned Seed) {
  Data D(T.numElements());
  uint32_t S = Seed * 2654435761u + 12345;
  for (double &V : D) {
    S = S * 1664525u + 1013904223u;
    double U = (S >> 8) / double(1 << 24);
    V = isFloat(T.Elem) ? roundAs(scalarTypeOf(T.Elem), 4 * U - 2)
                        : std::floor(40 * U - 20);
    if (T.Elem == ElemType::U8 || T.Elem == ElemType::U32)
      V = std::fabs(V);
  }
  return D;
}

struct Case {
  Graph G;
  Node *N = nullptr;
  std::vector<Data> Inputs;

  /// Adds a graph input with sampled data.
  Value *input(TensorType T) {
    Value *V = G.addInput("x" + std::to_string(Inputs.size()), T);
    Inputs.push_back(sample(T, Inputs.size() + 1));
    return V;
  }
  void node(OpKind K, std::vector<Value *> Ops, TensorType Result,
            AttrMap Attrs = {}) {
    N = G.createNode(K, "n", Ops, {Result}, std::move(Attrs));
  }
  /// Lowers and runs the node; fails the test on a lowering error.
  Data run() {
    PassOptions Opts;
    lower::KernelBuilder B("k", *N, {}, Opts);
    auto S = lower::lowerNode(*N, B);
    if (!S)
      FAIL(llvm::toString(S.takeError()));
    Kernel K = B.finish(*S);
    Machine M;
    const Value *Out = N->result();
    for (size_t P = 0; P < K.Params.size(); ++P) {
      const Value *V = B.paramValues()[P];
      size_t Size = V->Type.numElements();
      IBuf Buf{Data(Size), std::vector<bool>(Size, V != Out),
               std::vector<int>(Size, 0)};
      for (size_t I = 0; I < G.Inputs.size(); ++I)
        if (G.Inputs[I].get() == V)
          Buf.Data = Inputs[I];
      M.Bufs[K.Params[P].Name] = Buf;
    }
    M.exec(K.Body);
    Data R(Out->Type.numElements());
    for (size_t P = 0; P < K.Params.size(); ++P)
      if (B.paramValues()[P] == Out) {
        IBuf &Buf = M.Bufs[K.Params[P].Name];
        for (size_t I = 0; I < R.size(); ++I) {
          INFO("output element " << I);
          REQUIRE(Buf.Writes[I] == 1);
        }
        R = Buf.Data;
      }
    return R;
  }
  /// The lowering's error message, or "" when it lowers.
  std::string error() {
    PassOptions Opts;
    lower::KernelBuilder B("k", *N, {}, Opts);
    auto S = lower::lowerNode(*N, B);
    return S ? "" : llvm::toString(S.takeError());
  }
};

inline void expectClose(const Data &Got, const Data &Want, double Tol = 1e-4) {
  REQUIRE(Got.size() == Want.size());
  for (size_t I = 0; I < Got.size(); ++I) {
    INFO("element " << I << ": got " << Got[I] << ", want " << Want[I]);
    if (std::isnan(Want[I]))
      CHECK(std::isnan(Got[I]));
    else if (std::isinf(Want[I]))
      CHECK(Got[I] == Want[I]);
    else
      CHECK(std::fabs(Got[I] - Want[I]) <= Tol * (1 + std::fabs(Want[I])));
  }
}

//===----------------------------------------------------------------------===//
// Multi-index helpers of the reference implementations
//===----------------------------------------------------------------------===//

using Shape = std::vector<int64_t>;

inline int64_t count(const Shape &S) {
  int64_t N = 1;
  for (int64_t D : S)
    N *= D;
  return N;
}

/// Calls F with every multi-index of S in row-major order.
inline void forEach(const Shape &S,
                    const std::function<void(const Shape &)> &F) {
  if (count(S) == 0)
    return;
  Shape I(S.size(), 0);
  while (true) {
    F(I);
    size_t D = S.size();
    while (D > 0 && ++I[D - 1] == S[D - 1])
      I[--D] = 0;
    if (D == 0)
      return;
  }
}

inline int64_t flat(const Shape &S, const Shape &I) {
  int64_t F = 0;
  for (size_t D = 0; D < S.size(); ++D)
    F = F * S[D] + I[D];
  return F;
}

} // namespace lowertest
} // namespace tidal

#endif
