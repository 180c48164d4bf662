//===- EvaluateTest.cpp - The reference interpreter of graph operations ---===//
//
// evaluateNode() must compute ONNX's semantics exactly: the expected values
// below are worked out by hand from the ONNX operator specification
// (truncating integer division, integer Pow, half-to-even Round, numpy
// broadcasting, Slice with negative steps, Gather with negative indices...),
// and what it cannot compute must be an error, never a crash.
//
//===----------------------------------------------------------------------===//

#include "TensorTestUtil.h"
#include "compiler/Evaluate.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

using namespace tidal;
using tidal::test::make;

namespace {

Tensor f32(std::vector<int64_t> S, std::vector<float> V) {
  return make(ElemType::F32, std::move(S), std::move(V));
}
Tensor f64(std::vector<int64_t> S, std::vector<double> V) {
  return make(ElemType::F64, std::move(S), std::move(V));
}
Tensor i64(std::vector<int64_t> S, std::vector<int64_t> V) {
  return make(ElemType::I64, std::move(S), std::move(V));
}
Tensor i32(std::vector<int64_t> S, std::vector<int32_t> V) {
  return make(ElemType::I32, std::move(S), std::move(V));
}
Tensor u64(std::vector<int64_t> S, std::vector<uint64_t> V) {
  return make(ElemType::U64, std::move(S), std::move(V));
}
Tensor boolean(std::vector<int64_t> S, std::vector<uint8_t> V) {
  return make(ElemType::Bool, std::move(S), std::move(V));
}

/// Evaluates K on the operands; the result type is given, as in a graph.
llvm::Expected<Tensor> eval(OpKind K, const std::vector<Tensor> &Ins,
                            TensorType Result, AttrMap Attrs = {}) {
  Node N(K, "n");
  std::vector<std::unique_ptr<Value>> Owned;
  std::vector<const Tensor *> Ptrs;
  for (const Tensor &T : Ins) {
    Owned.push_back(std::make_unique<Value>("v", T.Type));
    N.Operands.push_back(Owned.back().get());
    Ptrs.push_back(&T);
  }
  N.Attrs = std::move(Attrs);
  N.Results.push_back(std::make_unique<Value>("r", std::move(Result), &N, 0));
  auto R = evaluateNode(N, Ptrs);
  if (!R)
    return R.takeError();
  return std::move((*R)[0]);
}

/// Evaluates and requires success.
Tensor ok(llvm::Expected<Tensor> R) {
  if (!R) {
    std::string Msg = llvm::toString(R.takeError());
    FAIL(Msg);
  }
  return std::move(*R);
}

std::vector<double> doubles(const Tensor &T) {
  std::vector<double> V;
  for (int64_t I = 0; I < T.Type.numElements(); ++I)
    V.push_back(T.getDouble(I));
  return V;
}
std::vector<int64_t> ints(const Tensor &T) {
  std::vector<int64_t> V;
  for (int64_t I = 0; I < T.Type.numElements(); ++I)
    V.push_back(T.getInt(I));
  return V;
}

bool fails(llvm::Expected<Tensor> R) {
  if (R)
    return false;
  llvm::consumeError(R.takeError());
  return true;
}

TensorType ty(ElemType E, std::vector<int64_t> S) { return TensorType(E, S); }

} // namespace

TEST_CASE("integer Div truncates toward zero and refuses zero divisors",
          "[evaluate]") {
  Tensor A = i64({4}, {7, -7, 7, -7}), B = i64({4}, {2, 2, -2, -2});
  CHECK(ints(ok(eval(OpKind::Div, {A, B}, ty(ElemType::I64, {4})))) ==
        std::vector<int64_t>{3, -3, -3, 3});
  Tensor Z = i64({4}, {1, 0, 1, 1});
  CHECK(fails(eval(OpKind::Div, {A, Z}, ty(ElemType::I64, {4}))));
  // INT64_MIN / -1 wraps instead of trapping.
  Tensor M = i64({1}, {std::numeric_limits<int64_t>::min()});
  CHECK(ints(ok(eval(OpKind::Div, {M, i64({1}, {-1})},
                     ty(ElemType::I64, {1}))))[0] ==
        std::numeric_limits<int64_t>::min());
}

TEST_CASE("float arithmetic rounds like float32 and broadcasts numpy-style",
          "[evaluate]") {
  Tensor A = f32({2, 1}, {1.0f, 2.0f}), B = f32({3}, {10.0f, 20.0f, 30.0f});
  Tensor R = ok(eval(OpKind::Add, {A, B}, ty(ElemType::F32, {2, 3})));
  CHECK(doubles(R) == std::vector<double>{11, 21, 31, 12, 22, 32});
  // 0.1f + 0.2f in float32 is 0.3000000119..., not the double sum.
  Tensor S = ok(eval(OpKind::Add, {f32({}, {0.1f}), f32({}, {0.2f})},
                     ty(ElemType::F32, {})));
  CHECK(S.data<float>()[0] == 0.1f + 0.2f);
  // Operands that do not broadcast to the result are an error.
  CHECK(fails(eval(OpKind::Add, {A, B}, ty(ElemType::F32, {2, 2}))));
}

TEST_CASE("Pow on integers is exact with wrap-around", "[evaluate]") {
  Tensor Base = i64({5}, {2, -2, 2, 1, -1}),
         Exp = i64({5}, {10, 3, -1, -5, -3});
  CHECK(ints(ok(eval(OpKind::Pow, {Base, Exp}, ty(ElemType::I64, {5})))) ==
        std::vector<int64_t>{1024, -8, 0, 1, -1});
  CHECK(fails(eval(OpKind::Pow, {i64({1}, {0}), i64({1}, {-1})},
                   ty(ElemType::I64, {1}))));
  Tensor P = ok(eval(OpKind::Pow, {f32({2}, {4, 2}), f32({2}, {0.5f, -1})},
                     ty(ElemType::F32, {2})));
  CHECK(doubles(P) == std::vector<double>{2.0, 0.5});
}

TEST_CASE("Round is half to even; Max/Min propagate NaN", "[evaluate]") {
  Tensor X = f32({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f});
  CHECK(doubles(ok(eval(OpKind::Round, {X}, X.Type))) ==
        std::vector<double>{0, 2, 2, -0.0, -2, 2});
  Tensor A = f32({2}, {NAN, 1}), B = f32({2}, {1, NAN});
  Tensor M = ok(eval(OpKind::Max, {A, B}, A.Type));
  CHECK(std::isnan(M.getDouble(0)));
  CHECK(std::isnan(M.getDouble(1)));
}

TEST_CASE("unsigned 64-bit values compare and divide as unsigned",
          "[evaluate]") {
  uint64_t Big = (uint64_t(1) << 63) + 1;
  Tensor A = u64({2}, {Big, 3}), B = u64({2}, {1, 2});
  CHECK(ints(ok(eval(OpKind::Greater, {A, B}, ty(ElemType::Bool, {2})))) ==
        std::vector<int64_t>{1, 1});
  Tensor Q = ok(eval(OpKind::Div, {A, B}, A.Type));
  CHECK(Q.data<uint64_t>()[0] == Big);
  CHECK(Q.data<uint64_t>()[1] == 1);
}

TEST_CASE("comparisons and logic give bool", "[evaluate]") {
  Tensor A = i32({3}, {1, 2, 3}), B = i32({3}, {2, 2, 2});
  CHECK(ints(ok(eval(OpKind::Less, {A, B}, ty(ElemType::Bool, {3})))) ==
        std::vector<int64_t>{1, 0, 0});
  CHECK(
      ints(ok(eval(OpKind::GreaterOrEqual, {A, B}, ty(ElemType::Bool, {3})))) ==
      std::vector<int64_t>{0, 1, 1});
  Tensor P = boolean({4}, {0, 0, 1, 1}), Q = boolean({4}, {0, 1, 0, 1});
  CHECK(ints(ok(eval(OpKind::Xor, {P, Q}, P.Type))) ==
        std::vector<int64_t>{0, 1, 1, 0});
  CHECK(ints(ok(eval(OpKind::Not, {P}, P.Type))) ==
        std::vector<int64_t>{1, 1, 0, 0});
  // Logic on non-bool operands is not defined.
  CHECK(fails(eval(OpKind::And, {A, B}, ty(ElemType::Bool, {3}))));
}

TEST_CASE("Where broadcasts its three operands", "[evaluate]") {
  Tensor C = boolean({2, 1}, {1, 0});
  Tensor X = f32({3}, {1, 2, 3}), Y = f32({}, {-1});
  CHECK(
      doubles(ok(eval(OpKind::Where, {C, X, Y}, ty(ElemType::F32, {2, 3})))) ==
      std::vector<double>{1, 2, 3, -1, -1, -1});
}

TEST_CASE("activations follow their ONNX formulas", "[evaluate]") {
  Tensor X = f32({3}, {-1, 0, 2});
  AttrMap Alpha;
  Alpha["alpha"] = 0.1f;
  Tensor L = ok(eval(OpKind::LeakyRelu, {X}, X.Type, Alpha));
  CHECK(L.getDouble(0) == Approx(-0.1));
  CHECK(L.getDouble(2) == 2.0);
  AttrMap HS;
  HS["alpha"] = 0.2f;
  HS["beta"] = 0.5f;
  Tensor H = ok(eval(OpKind::HardSigmoid, {f32({3}, {-5, 0, 1})}, X.Type, HS));
  CHECK(H.getDouble(0) == 0.0);
  CHECK(H.getDouble(1) == 0.5);
  CHECK(H.getDouble(2) == Approx(0.7));
  Tensor E = ok(eval(OpKind::Elu, {X}, X.Type, {{"alpha", 1.0f}}));
  CHECK(E.getDouble(0) == Approx(std::exp(-1.0) - 1));
  Tensor G = ok(
      eval(OpKind::Gelu, {X}, X.Type, {{"approximate", std::string("none")}}));
  CHECK(G.getDouble(2) == Approx(2 * 0.5 * (1 + std::erf(2 / std::sqrt(2.0)))));
  Tensor S =
      ok(eval(OpKind::Sigmoid, {f32({1}, {-1000})}, ty(ElemType::F32, {1})));
  CHECK(S.getDouble(0) == 0.0);
  // Float-only operations refuse integers.
  CHECK(fails(eval(OpKind::Exp, {i64({1}, {1})}, ty(ElemType::I64, {1}))));
}

TEST_CASE("Clip clamps, and min > max gives max", "[evaluate]") {
  AttrMap A;
  A["min"] = 0.0f;
  A["max"] = 6.0f;
  CHECK(doubles(ok(eval(OpKind::Clip, {f32({3}, {-1, 3, 9})},
                        ty(ElemType::F32, {3}), A))) ==
        std::vector<double>{0, 3, 6});
  CHECK(ints(ok(eval(OpKind::Clip, {i64({3}, {-1, 3, 9})},
                     ty(ElemType::I64, {3}), A))) ==
        std::vector<int64_t>{0, 3, 6});
  AttrMap Crossed;
  Crossed["min"] = 5.0f;
  Crossed["max"] = 1.0f;
  CHECK(doubles(ok(eval(OpKind::Clip, {f32({2}, {0, 10})},
                        ty(ElemType::F32, {2}), Crossed))) ==
        std::vector<double>{1, 1});
  // Only one bound: the other side is unbounded.
  AttrMap Lo;
  Lo["min"] = 0.5f;
  CHECK(ints(ok(eval(OpKind::Clip, {i32({2}, {0, 100})}, ty(ElemType::I32, {2}),
                     Lo))) == std::vector<int64_t>{1, 100});
}

TEST_CASE("Cast truncates floats and refuses out-of-range values",
          "[evaluate]") {
  AttrMap To;
  To["to"] = std::string("i32");
  Tensor C = ok(eval(OpKind::Cast, {f32({3}, {2.7f, -2.7f, 0.5f})},
                     ty(ElemType::I32, {3}), To));
  CHECK(ints(C) == std::vector<int64_t>{2, -2, 0});
  CHECK(fails(
      eval(OpKind::Cast, {f32({1}, {3e9f})}, ty(ElemType::I32, {1}), To)));
  CHECK(
      fails(eval(OpKind::Cast, {f32({1}, {NAN})}, ty(ElemType::I32, {1}), To)));
  // Integer narrowing wraps; to bool is "not zero".
  Tensor W = ok(eval(OpKind::Cast, {i64({1}, {(int64_t(1) << 32) + 5})},
                     ty(ElemType::I32, {1}), To));
  CHECK(ints(W)[0] == 5);
  AttrMap ToBool;
  ToBool["to"] = std::string("bool");
  CHECK(ints(ok(eval(OpKind::Cast, {f32({3}, {0.0f, 0.5f, -2.0f})},
                     ty(ElemType::Bool, {3}), ToBool))) ==
        std::vector<int64_t>{0, 1, 1});
  AttrMap ToHalf;
  ToHalf["to"] = std::string("f16");
  Tensor H = ok(eval(OpKind::Cast, {f64({2}, {1.5, 65504.0})},
                     ty(ElemType::F16, {2}), ToHalf));
  CHECK(doubles(H) == std::vector<double>{1.5, 65504.0});
}

TEST_CASE("data movement operations", "[evaluate]") {
  Tensor X = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  SECTION("Reshape keeps the bytes") {
    CHECK(doubles(ok(eval(OpKind::Reshape, {X}, ty(ElemType::F32, {3, 2})))) ==
          doubles(X));
    CHECK(fails(eval(OpKind::Reshape, {X}, ty(ElemType::F32, {4}))));
  }
  SECTION("Expand broadcasts to the result shape") {
    Tensor R = ok(
        eval(OpKind::Expand, {f32({2, 1}, {1, 2})}, ty(ElemType::F32, {2, 3})));
    CHECK(doubles(R) == std::vector<double>{1, 1, 1, 2, 2, 2});
  }
  SECTION("Transpose") {
    AttrMap A;
    A["perm"] = std::vector<int64_t>{1, 0};
    CHECK(doubles(ok(eval(OpKind::Transpose, {X}, ty(ElemType::F32, {3, 2}),
                          A))) == std::vector<double>{1, 4, 2, 5, 3, 6});
  }
  SECTION("Concat on axis 1") {
    AttrMap A;
    A["axis"] = int64_t(1);
    Tensor Y = f32({2, 1}, {7, 8});
    CHECK(doubles(ok(eval(OpKind::Concat, {X, Y}, ty(ElemType::F32, {2, 4}),
                          A))) == std::vector<double>{1, 2, 3, 7, 4, 5, 6, 8});
  }
  SECTION("Slice with a negative step reverses") {
    AttrMap A;
    A["starts"] = std::vector<int64_t>{0, 2};
    A["ends"] = std::vector<int64_t>{2, -1};
    A["steps"] = std::vector<int64_t>{1, -1};
    CHECK(doubles(ok(eval(OpKind::Slice, {X}, ty(ElemType::F32, {2, 3}), A))) ==
          std::vector<double>{3, 2, 1, 6, 5, 4});
    A["starts"] = std::vector<int64_t>{1, 0};
    A["ends"] = std::vector<int64_t>{2, 3};
    A["steps"] = std::vector<int64_t>{1, 2};
    CHECK(doubles(ok(eval(OpKind::Slice, {X}, ty(ElemType::F32, {1, 2}), A))) ==
          std::vector<double>{4, 6});
  }
  SECTION("Gather wraps negative indices and refuses out-of-range ones") {
    AttrMap A;
    A["axis"] = int64_t(1);
    Tensor R = ok(eval(OpKind::Gather, {X, i64({2}, {-1, 0})},
                       ty(ElemType::F32, {2, 2}), A));
    CHECK(doubles(R) == std::vector<double>{3, 1, 6, 4});
    Tensor S =
        ok(eval(OpKind::Gather, {X, i64({}, {1})}, ty(ElemType::F32, {2}), A));
    CHECK(doubles(S) == std::vector<double>{2, 5});
    CHECK(fails(eval(OpKind::Gather, {X, i64({1}, {3})},
                     ty(ElemType::F32, {2, 1}), A)));
  }
  SECTION("Pad in each mode") {
    Tensor V = f32({3}, {1, 2, 3});
    AttrMap A;
    A["pads"] = std::vector<int64_t>{2, 1};
    A["value"] = 9.0f;
    A["mode"] = std::string("constant");
    CHECK(doubles(ok(eval(OpKind::Pad, {V}, ty(ElemType::F32, {6}), A))) ==
          std::vector<double>{9, 9, 1, 2, 3, 9});
    A["mode"] = std::string("reflect");
    CHECK(doubles(ok(eval(OpKind::Pad, {V}, ty(ElemType::F32, {6}), A))) ==
          std::vector<double>{3, 2, 1, 2, 3, 2});
    A["mode"] = std::string("edge");
    CHECK(doubles(ok(eval(OpKind::Pad, {V}, ty(ElemType::F32, {6}), A))) ==
          std::vector<double>{1, 1, 1, 2, 3, 3});
    A["mode"] = std::string("wrap");
    CHECK(doubles(ok(eval(OpKind::Pad, {V}, ty(ElemType::F32, {6}), A))) ==
          std::vector<double>{2, 3, 1, 2, 3, 1});
  }
}

TEST_CASE("reductions over normalized axes", "[evaluate]") {
  Tensor X = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto attrs = [](std::vector<int64_t> Axes, int64_t Keep) {
    AttrMap A;
    A["axes"] = Axes;
    A["keepdims"] = Keep;
    return A;
  };
  CHECK(doubles(ok(eval(OpKind::ReduceSum, {X}, ty(ElemType::F32, {2}),
                        attrs({1}, 0)))) == std::vector<double>{6, 15});
  CHECK(doubles(ok(eval(OpKind::ReduceMean, {X}, ty(ElemType::F32, {1, 3}),
                        attrs({0}, 1)))) == std::vector<double>{2.5, 3.5, 4.5});
  CHECK(doubles(ok(eval(OpKind::ReduceMax, {X}, ty(ElemType::F32, {}),
                        attrs({0, 1}, 0)))) == std::vector<double>{6});
  CHECK(doubles(ok(eval(OpKind::ReduceProd, {X}, ty(ElemType::F32, {2}),
                        attrs({1}, 0)))) == std::vector<double>{6, 120});
  CHECK(doubles(ok(eval(OpKind::ReduceL2, {f32({2}, {3, 4})},
                        ty(ElemType::F32, {}), attrs({0}, 0)))) ==
        std::vector<double>{5});
  CHECK(doubles(ok(eval(OpKind::ReduceLogSumExp, {f32({2}, {1000, 1000})},
                        ty(ElemType::F32, {}), attrs({0}, 0))))[0] ==
        Approx(1000 + std::log(2.0)));
  // Integer mean truncates; min of ints.
  Tensor I = i64({3}, {1, 2, 2});
  CHECK(ints(ok(eval(OpKind::ReduceMean, {I}, ty(ElemType::I64, {}),
                     attrs({0}, 0)))) == std::vector<int64_t>{1});
  CHECK(ints(ok(eval(OpKind::ReduceMin, {I}, ty(ElemType::I64, {1}),
                     attrs({0}, 1)))) == std::vector<int64_t>{1});
  // Reducing an empty axis gives the identity of the reduction.
  Tensor Empty(ty(ElemType::F32, {0, 2}));
  CHECK(doubles(ok(eval(OpKind::ReduceSum, {Empty}, ty(ElemType::F32, {2}),
                        attrs({0}, 0)))) == std::vector<double>{0, 0});
  CHECK(doubles(ok(eval(OpKind::ReduceMax, {Empty}, ty(ElemType::F32, {2}),
                        attrs({0}, 0)))) ==
        std::vector<double>{-INFINITY, -INFINITY});
  // A result type that does not match the axes is an error.
  CHECK(fails(
      eval(OpKind::ReduceSum, {X}, ty(ElemType::F32, {3}), attrs({1}, 0))));
}

TEST_CASE("Softmax and LogSoftmax over one axis", "[evaluate]") {
  Tensor X = f32({2, 2}, {0, std::log(3.0f), 1000, 1000});
  AttrMap A;
  A["axis"] = int64_t(1);
  Tensor S = ok(eval(OpKind::Softmax, {X}, X.Type, A));
  CHECK(S.getDouble(0) == Approx(0.25));
  CHECK(S.getDouble(1) == Approx(0.75));
  CHECK(S.getDouble(2) == Approx(0.5));
  Tensor L = ok(eval(OpKind::LogSoftmax, {X}, X.Type, A));
  CHECK(L.getDouble(3) == Approx(-std::log(2.0)));
}

TEST_CASE("operations outside the evaluator are errors, not crashes",
          "[evaluate]") {
  CHECK_FALSE(canEvaluate(OpKind::Conv));
  CHECK_FALSE(canEvaluate(OpKind::MaxPool));
  CHECK(canEvaluate(OpKind::Gather));
  Tensor X = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  CHECK(fails(eval(OpKind::Conv, {X, X}, ty(ElemType::F32, {1, 1, 1, 1}))));
  // Missing attributes and mismatched result types are reported.
  CHECK(fails(eval(OpKind::Transpose, {X}, X.Type)));
  CHECK(fails(eval(OpKind::Relu, {X}, ty(ElemType::F32, {4}))));
}
