//===- LowerNumericsUtil.h - Running lowered kernels in tests ---*- C++ -*-===//
//
// Shared by LowerReductionTest.cpp and LowerContractionTest.cpp: a Case
// that builds one node, lowers it with a KernelBuilder and runs it on
// sampled inputs in LoopInterpreter.h's checking interpreter (every access
// in bounds, every element written before it is read, every output element
// stored exactly once). And, for LoweringTest.cpp too, index helpers for
// the naive reference implementations the tests compare with.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_TEST_UNIT_LOWERNUMERICSUTIL_H
#define TIDAL_TEST_UNIT_LOWERNUMERICSUTIL_H

#include "LoopInterpreter.h"
#include "compiler/Diagnostics.h"
#include "passes/lower/Lowering.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <functional>
#include <map>

namespace tidal {
namespace lowertest {

using looptest::roundAs;

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
  /// The lowering's options (the default target, -O2).
  PassOptions Opts;
  /// The names of the kernel's parameters after run().
  std::vector<std::string> ParamNames;

  /// Adds a graph input with sampled data.
  Value *input(TensorType T) {
    Value *V = G.addInput("x" + std::to_string(Inputs.size()), T);
    Inputs.push_back(sample(T, Inputs.size() + 1));
    return V;
  }
  /// Adds a constant with sampled data; Data gets its values.
  Value *constant(TensorType T, Data &Values) {
    Values = sample(T, 100 + unsigned(Inputs.size()));
    Tensor Tn(T);
    for (size_t I = 0; I < Values.size(); ++I)
      Tn.setDouble(int64_t(I), Values[I]);
    return G.createConstant("k" + std::to_string(Inputs.size()), std::move(Tn));
  }
  void node(OpKind K, std::vector<Value *> Ops, TensorType Result,
            AttrMap Attrs = {}) {
    N = G.createNode(K, "n", Ops, {Result}, std::move(Attrs));
  }
  /// Lowers and runs the node in LoopInterpreter.h's interpreter; fails the
  /// test on a lowering error, or unless every output element is stored
  /// exactly once. Parameters other than the inputs, constants, the output
  /// and scratch buffers read as zeros; scratch buffers start as NaNs.
  Data run() {
    lower::KernelBuilder B("k", *N, {}, Opts);
    auto S = lower::lowerNode(*N, B);
    if (!S)
      FAIL(llvm::toString(S.takeError()));
    Kernel K = B.finish(*S);
    ParamNames.clear();
    for (const BufferDecl &D : K.Params)
      ParamNames.push_back(D.Name);
    const Value *Out = N->result();
    std::vector<looptest::Buffer> Bufs;
    for (size_t P = 0; P < K.Params.size(); ++P) {
      const Value *V = B.paramValues()[P];
      ScalarType Elem = K.Params[P].Elem;
      if (!V) {
        // A scratch buffer: NaNs, so that reading what was never written
        // shows in the output.
        Bufs.push_back(looptest::Buffer::of(
            Elem, Data(K.Params[P].Size, std::numeric_limits<double>::quiet_NaN())));
        continue;
      }
      Data Given(V->Type.numElements());
      for (size_t I = 0; I < G.Inputs.size(); ++I)
        if (G.Inputs[I].get() == V)
          Given = Inputs[I];
      // Constants, the model's and those the lowering derived from them
      // (packed or transformed weights), hold their data.
      if (const Tensor *T = V->constantData())
        for (size_t I = 0; I < Given.size(); ++I)
          Given[I] = T->getDouble(int64_t(I));
      Bufs.push_back(V == Out ? looptest::Buffer::unwritten(Elem, Given.size())
                              : looptest::Buffer::of(Elem, Given));
    }
    std::vector<looptest::Buffer *> Args;
    for (looptest::Buffer &Buf : Bufs)
      Args.push_back(&Buf);
    looptest::runKernel(K, Args);
    for (size_t P = 0; P < K.Params.size(); ++P)
      if (B.paramValues()[P] == Out) {
        looptest::requireStoredOnce(Bufs[P], "output");
        return Bufs[P].values();
      }
    FAIL("the kernel has no parameter for the node's result");
    return {};
  }
  /// The kernel the node lowers to (without running it).
  Kernel lower() {
    lower::KernelBuilder B("k", *N, {}, Opts);
    auto S = lower::lowerNode(*N, B);
    if (!S)
      FAIL(llvm::toString(S.takeError()));
    return B.finish(*S);
  }
  /// The lowering's error message, or "" when it lowers.
  std::string error() {
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
