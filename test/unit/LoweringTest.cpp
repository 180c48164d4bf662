//===- LoweringTest.cpp - The lower-to-loops pass -------------------------===//
//
// Small graphs built in code, lowered, and checked two ways: the Program's
// structure (kernels, parameters, calls, bindings, weights, temporaries,
// errors), and its numbers. For the numbers, LoopInterpreter.h's checking
// interpreter runs the lowered Program (every access in bounds, nothing
// read before it is written, every output element stored exactly once),
// and each result is compared with the operation computed directly in this
// file from its ONNX definition. So the index arithmetic of Transpose,
// Slice, Gather, Pad, Concat, ... is checked without codegen.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "LowerNumericsUtil.h"
#include "compiler/Diagnostics.h"
#include "compiler/PassManager.h"
#include "passes/PassRegistry.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

using namespace tidal;

namespace {

using looptest::runProgram;
using lowertest::count;
using lowertest::flat;
using lowertest::forEach;

//===----------------------------------------------------------------------===//
// Graph building helpers.
//===----------------------------------------------------------------------===//

TensorType f32(std::vector<int64_t> Shape) {
  return TensorType(ElemType::F32, std::move(Shape));
}

std::vector<double> iota(int64_t N, double Start = 0) {
  std::vector<double> V(N);
  for (int64_t I = 0; I < N; ++I)
    V[I] = Start + I;
  return V;
}

/// Lowers M; fails the test on an error.
const Program &lowerModule(Module &M) {
  llvm::Error E = lowerToLoops(M, PassOptions());
  if (E)
    FAIL(llvm::toString(std::move(E)));
  REQUIRE(M.P);
  return *M.P;
}

/// A module holding an empty graph, for a test to fill.
Module graphModule() {
  Module M;
  M.G = std::make_unique<Graph>();
  return M;
}

/// Attrs plus membership of fusion group Group.
AttrMap inGroup(int64_t Group, AttrMap Attrs = {}) {
  Attrs[FusionGroupAttr] = Group;
  return Attrs;
}

/// A module with one node of kind K over fresh inputs of the given types.
Module oneNode(OpKind K, std::vector<TensorType> Ins, TensorType Out,
               AttrMap Attrs = {}) {
  Module M = graphModule();
  std::vector<Value *> Ops;
  for (size_t I = 0; I < Ins.size(); ++I)
    Ops.push_back(M.G->addInput("in" + std::to_string(I), Ins[I]));
  Node *N = M.G->createNode(K, "n", Ops, {Out}, std::move(Attrs));
  M.G->Outputs = {N->result()};
  return M;
}

/// Each element of a result of shape OutShape computed by Fn from its index.
std::vector<double>
reference(const std::vector<int64_t> &OutShape,
          const std::function<double(const std::vector<int64_t> &)> &Fn) {
  std::vector<double> R;
  forEach(OutShape, [&](const std::vector<int64_t> &I) { R.push_back(Fn(I)); });
  return R;
}

bool sameValues(const std::vector<double> &A, const std::vector<double> &B) {
  if (A.size() != B.size())
    return false;
  for (size_t I = 0; I < A.size(); ++I) {
    bool BothNaN = std::isnan(A[I]) && std::isnan(B[I]);
    if (!BothNaN && A[I] != B[I])
      return false;
  }
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

TEST_CASE("lower-to-loops: a fused group becomes one kernel storing only its "
          "final result",
          "[lowering]") {
  Module M = graphModule();
  Graph &G = *M.G;
  Value *X = G.addInput("x", f32({2, 3}));
  Value *Y = G.addInput("y", f32({3}));
  Node *A = G.createNode(OpKind::Add, "a", {X, Y}, {f32({2, 3})}, inGroup(7));
  Node *R =
      G.createNode(OpKind::Relu, "r", {A->result()}, {f32({2, 3})}, inGroup(7));
  G.Outputs = {R->result()};
  const Program &P = lowerModule(M);

  REQUIRE(P.Kernels.size() == 1);
  const Kernel &K = P.Kernels[0];
  CHECK(K.Name == "k0_a");
  REQUIRE(K.Params.size() == 3);
  CHECK(K.Params[0].Name == "x");
  CHECK(K.Params[0].ReadOnly);
  CHECK(K.Params[0].Size == 6);
  CHECK(K.Params[1].Name == "y");
  CHECK(K.Params[2].Name == "r");
  CHECK_FALSE(K.Params[2].ReadOnly);
  REQUIRE(P.Calls.size() == 1);
  CHECK(P.Calls[0].Args ==
        std::vector<BufferBinding>{{StorageKind::Input, 0, 0},
                                   {StorageKind::Input, 1, 0},
                                   {StorageKind::Output, 0, 0}});
  CHECK(P.TempSizes.empty());
  REQUIRE(P.Inputs.size() == 2);
  CHECK(P.Inputs[1].Type == f32({3}));
  REQUIRE(P.Outputs.size() == 1);
  CHECK(P.Outputs[0].Name == "r");

  std::vector<double> Xs{-1, 2, -3, 4, -5, 6}, Ys{0.5, 0.5, 10};
  auto Out = runProgram(P, {Xs, Ys});
  CHECK(Out[0] == std::vector<double>{0, 2.5, 7, 4.5, 0, 16});
}

TEST_CASE(
    "lower-to-loops: weights are laid out in graph order, 64-byte aligned",
    "[lowering]") {
  Module M = graphModule();
  Graph &G = *M.G;
  Value *X = G.addInput("x", f32({3}));
  Tensor A(f32({3})), Unused(f32({1})), B(TensorType(ElemType::I64, {3}));
  for (int I = 0; I < 3; ++I) {
    A.setDouble(I, I + 0.5);
    B.setInt(I, 10 * I);
  }
  Value *CA = G.createConstant("ca", A);
  G.createConstant("unused", Unused);
  Value *CB = G.createConstant("cb", B);
  Node *Cast = G.createNode(OpKind::Cast, "cast", {CB}, {f32({3})},
                            {{"to", std::string("f32")}});
  Node *Add1 = G.createNode(OpKind::Add, "add1", {X, CA}, {f32({3})});
  Node *Add2 = G.createNode(OpKind::Add, "add2",
                            {Add1->result(), Cast->result()}, {f32({3})});
  G.Outputs = {Add2->result()};
  const Program &P = lowerModule(M);

  CHECK(P.Weights.size() == 64 + 24);
  REQUIRE(P.Calls.size() == 3);
  CHECK(P.Calls[0].Args[0] == BufferBinding{StorageKind::Weights, 0, 64});
  CHECK(P.Calls[1].Args[1] == BufferBinding{StorageKind::Weights, 0, 0});
  CHECK(P.TempSizes == std::vector<int64_t>{12, 12});
  auto Out = runProgram(P, {{1, 2, 3}});
  CHECK(Out[0] == std::vector<double>{1.5, 13.5, 25.5});
}

TEST_CASE("lower-to-loops: outputs no kernel writes get copy kernels",
          "[lowering]") {
  Module M = graphModule();
  Graph &G = *M.G;
  Value *X = G.addInput("x", f32({2}));
  Tensor T(f32({2}));
  T.setDouble(0, 4);
  T.setDouble(1, 5);
  Value *C = G.createConstant("c", T);
  Node *N = G.createNode(OpKind::Neg, "n", {X}, {f32({2})});
  G.Outputs = {N->result(), X, C, N->result()};
  const Program &P = lowerModule(M);
  REQUIRE(P.Calls.size() == 4);
  CHECK(P.Calls[3].Args ==
        std::vector<BufferBinding>{{StorageKind::Output, 0, 0},
                                   {StorageKind::Output, 3, 0}});
  auto Out = runProgram(P, {{1, -2}});
  CHECK(Out[0] == std::vector<double>{-1, 2});
  CHECK(Out[1] == std::vector<double>{1, -2});
  CHECK(Out[2] == std::vector<double>{4, 5});
  CHECK(Out[3] == std::vector<double>{-1, 2});
}

TEST_CASE("lower-to-loops: every unsupported node is reported at once",
          "[lowering]") {
  Module M = graphModule();
  Graph &G = *M.G;
  TensorType Q(ElemType::I8, {4});
  Q.Quant = Quantization{{0.5f}, {0}, -1};
  Value *X = G.addInput("x", Q);
  Node *A = G.createNode(OpKind::Relu, "first", {X}, {Q});
  Node *B = G.createNode(OpKind::Neg, "second", {X}, {Q});
  Node *C = G.createNode(OpKind::Transpose, "fine", {X}, {Q},
                         {{"perm", std::vector<int64_t>{0}}});
  G.Outputs = {A->result(), B->result(), C->result()};
  llvm::Error E = lowerToLoops(M, PassOptions());
  REQUIRE(static_cast<bool>(E));
  std::vector<std::string> Names;
  llvm::handleAllErrors(std::move(E), [&](const ModelError &ME) {
    Names.push_back(ME.NodeName);
  });
  CHECK(Names == std::vector<std::string>{"first", "second"});
  CHECK_FALSE(M.P);
}

TEST_CASE(
    "lower-to-loops: loop variables and parameters have kernel-unique names",
    "[lowering]") {
  Module M = graphModule();
  Graph &G = *M.G;
  // Value names that sanitize to the same identifier, and one that looks
  // like a loop variable.
  Value *A = G.addInput("a.b", f32({2, 2}));
  Value *B = G.addInput("a_b", f32({2, 2}));
  Value *I = G.addInput("i0", f32({2, 2}));
  Node *C = G.createNode(OpKind::Concat, "cat", {A, B, I}, {f32({2, 6})},
                         {{"axis", int64_t(1)}});
  G.Outputs = {C->result()};
  const Program &P = lowerModule(M);
  std::set<std::string> Names;
  for (const BufferDecl &D : P.Kernels[0].Params)
    CHECK(Names.insert(D.Name).second);
  std::function<void(const Stmt &)> Walk = [&](const Stmt &S) {
    if (S->Kind == StmtKind::For || S->Kind == StmtKind::Let)
      CHECK(Names.insert(S->Name).second);
    if (S->Body)
      Walk(S->Body);
    for (const Stmt &C : S->Stmts)
      Walk(C);
  };
  Walk(P.Kernels[0].Body);
  auto Out = runProgram(P, {iota(4), iota(4, 10), iota(4, 20)});
  CHECK(Out[0] ==
        std::vector<double>{0, 1, 10, 11, 20, 21, 2, 3, 12, 13, 22, 23});
}

//===----------------------------------------------------------------------===//
// Numbers of the data-movement operations
//===----------------------------------------------------------------------===//

TEST_CASE("lower-to-loops: Transpose: every permutation of a rank-3 tensor",
          "[lowering]") {
  std::vector<int64_t> Shape{2, 3, 4};
  std::vector<int64_t> Perm{0, 1, 2};
  do {
    std::vector<int64_t> OutShape;
    for (int64_t P : Perm)
      OutShape.push_back(Shape[P]);
    Module M = oneNode(OpKind::Transpose, {f32(Shape)}, f32(OutShape),
                       {{"perm", Perm}});
    auto Out = runProgram(lowerModule(M), {iota(24)});
    auto Want = reference(OutShape, [&](const std::vector<int64_t> &O) {
      std::vector<int64_t> In(3);
      for (int D = 0; D < 3; ++D)
        In[Perm[D]] = O[D];
      return static_cast<double>(flat(Shape, In));
    });
    CHECK(Out[0] == Want);
  } while (std::next_permutation(Perm.begin(), Perm.end()));
}

TEST_CASE("lower-to-loops: Slice with positive and negative steps",
          "[lowering]") {
  // x[5,6][4:0:-2, 1:6:2] -> rows 4, 2 and columns 1, 3, 5.
  Module M = oneNode(OpKind::Slice, {f32({5, 6})}, f32({2, 3}),
                     {{"starts", std::vector<int64_t>{4, 1}},
                      {"ends", std::vector<int64_t>{0, 6}},
                      {"steps", std::vector<int64_t>{-2, 2}}});
  auto Out = runProgram(lowerModule(M), {iota(30)});
  CHECK(Out[0] == std::vector<double>{25, 27, 29, 13, 15, 17});
}

TEST_CASE("lower-to-loops: Gather wraps negative indices and stays in bounds",
          "[lowering]") {
  for (ElemType IE : {ElemType::I64, ElemType::I32}) {
    Module M = oneNode(OpKind::Gather, {f32({3, 4}), TensorType(IE, {2, 2})},
                       f32({3, 2, 2}), {{"axis", int64_t(1)}});
    auto Out = runProgram(lowerModule(M), {iota(12), {0, -1, 3, -4}});
    CHECK(Out[0] == std::vector<double>{0, 3, 3, 0, 4, 7, 7, 4, 8, 11, 11, 8});
  }
  // Axis 0 with a scalar index: the result drops that axis.
  Module M =
      oneNode(OpKind::Gather, {f32({3, 2}), TensorType(ElemType::I64, {})},
              f32({2}), {{"axis", int64_t(0)}});
  auto Out = runProgram(lowerModule(M), {iota(6), {-2}});
  CHECK(Out[0] == std::vector<double>{2, 3});
}

TEST_CASE("lower-to-loops: Concat along each axis", "[lowering]") {
  for (int64_t Axis = 0; Axis < 2; ++Axis) {
    std::vector<int64_t> A{2, 3}, B{2, 3};
    B[Axis] = 1;
    std::vector<int64_t> OutShape = A;
    OutShape[Axis] += 1;
    Module M = oneNode(OpKind::Concat, {f32(A), f32(B)}, f32(OutShape),
                       {{"axis", Axis}});
    auto Out = runProgram(lowerModule(M), {iota(6), iota(count(B), 100)});
    auto Want = reference(OutShape, [&](const std::vector<int64_t> &O) {
      if (O[Axis] < A[Axis])
        return static_cast<double>(flat(A, O));
      std::vector<int64_t> I = O;
      I[Axis] -= A[Axis];
      return 100.0 + flat(B, I);
    });
    CHECK(Out[0] == Want);
  }
}

TEST_CASE("lower-to-loops: Reshape and Expand", "[lowering]") {
  Module R = oneNode(OpKind::Reshape, {f32({2, 3})}, f32({3, 1, 2}));
  CHECK(runProgram(lowerModule(R), {iota(6)})[0] == iota(6));
  Module E = oneNode(OpKind::Expand, {f32({3, 1})}, f32({2, 3, 2}));
  CHECK(runProgram(lowerModule(E), {{7, 8, 9}})[0] ==
        std::vector<double>{7, 7, 8, 8, 9, 9, 7, 7, 8, 8, 9, 9});
}

namespace {
/// ONNX Pad along one axis, as the reference: crop negative pads first,
/// then pad the kept range by mode. Returns the source index or -1 for the
/// constant.
int64_t padSource(int64_t O, int64_t Dim, int64_t Begin, int64_t End,
                  const std::string &Mode) {
  int64_t Crop = std::max<int64_t>(-Begin, 0);
  int64_t Kept = Dim - Crop - std::max<int64_t>(-End, 0);
  int64_t J = O - std::max<int64_t>(Begin, 0);
  if (J >= 0 && J < Kept)
    return J + Crop;
  if (Mode == "constant")
    return -1;
  if (Mode == "edge")
    J = std::min(std::max<int64_t>(J, 0), Kept - 1);
  else if (Mode == "wrap")
    J = ((J % Kept) + Kept) % Kept;
  else // reflect, by repeated mirroring
    while (J < 0 || J >= Kept)
      J = J < 0 ? -J : 2 * (Kept - 1) - J;
  return J + Crop;
}
} // namespace

TEST_CASE("lower-to-loops: Pad in every mode, with cropping", "[lowering]") {
  std::vector<int64_t> Shape{3, 4};
  std::vector<std::vector<int64_t>> PadsList{
      {1, 2, 1, 2}, {0, -1, 2, 1}, {-1, 3, 1, -2}, {2, 0, 0, 3}};
  for (std::string Mode : {"constant", "reflect", "edge", "wrap"}) {
    for (const auto &Pads : PadsList) {
      std::vector<int64_t> OutShape{Shape[0] + Pads[0] + Pads[2],
                                    Shape[1] + Pads[1] + Pads[3]};
      Module M = oneNode(OpKind::Pad, {f32(Shape)}, f32(OutShape),
                         {{"pads", Pads}, {"mode", Mode}, {"value", 0.25f}});
      auto Out = runProgram(lowerModule(M), {iota(12)});
      auto Want = reference(OutShape, [&](const std::vector<int64_t> &O) {
        int64_t R = padSource(O[0], 3, Pads[0], Pads[2], Mode);
        int64_t C = padSource(O[1], 4, Pads[1], Pads[3], Mode);
        return R < 0 || C < 0 ? 0.25 : static_cast<double>(R * 4 + C);
      });
      INFO("mode " << Mode << " pads " << Pads[0] << "," << Pads[1] << ","
                   << Pads[2] << "," << Pads[3]);
      CHECK(Out[0] == Want);
    }
  }
}

TEST_CASE("lower-to-loops: a group is cut where an intermediate result has "
          "another user",
          "[lowering]") {
  Module M = graphModule();
  Graph &G = *M.G;
  Value *X = G.addInput("x", f32({2, 3}));
  Value *Y = G.addInput("y", f32({3, 1}));
  Value *S = G.addInput("s", f32({2}));
  Node *T = G.createNode(OpKind::Transpose, "t", {X}, {f32({3, 2})},
                         inGroup(0, {{"perm", std::vector<int64_t>{1, 0}}}));
  Node *C = G.createNode(OpKind::Concat, "c", {T->result(), Y}, {f32({3, 3})},
                         {{"axis", int64_t(1)}});
  Node *Mul = G.createNode(OpKind::Mul, "m", {T->result(), S}, {f32({3, 2})},
                           inGroup(0));
  // %t has two users (the Concat too): the lowering must not fuse through
  // it, so the group is cut and %t is stored.
  G.Outputs = {Mul->result(), C->result()};
  const Program &P = lowerModule(M);
  CHECK(P.Kernels.size() == 3);
  auto Out = runProgram(P, {iota(6), {7, 8, 9}, {10, 100}});
  CHECK(Out[0] == std::vector<double>{0, 300, 10, 400, 20, 500});
  CHECK(Out[1] == std::vector<double>{0, 3, 7, 1, 4, 8, 2, 5, 9});
}

//===----------------------------------------------------------------------===//
// Numbers of the elementwise formulas
//===----------------------------------------------------------------------===//

namespace {
std::vector<double> unary(OpKind K, const std::vector<double> &X,
                          AttrMap Attrs = {}) {
  int64_t N = X.size();
  Module M = oneNode(K, {f32({N})}, f32({N}), std::move(Attrs));
  return runProgram(lowerModule(M), {X})[0];
}
std::vector<double> binary(OpKind K, TensorType T, const std::vector<double> &A,
                           const std::vector<double> &B) {
  Module M = oneNode(K, {T, T}, T);
  return runProgram(lowerModule(M), {A, B})[0];
}
} // namespace

TEST_CASE("lower-to-loops: NaN propagation of Max, Min, Relu, Clip and Sign",
          "[lowering]") {
  std::vector<double> A{1, NAN, 3, NAN}, B{2, 5, NAN, NAN};
  CHECK(sameValues(binary(OpKind::Max, f32({4}), A, B), {2, NAN, NAN, NAN}));
  CHECK(sameValues(binary(OpKind::Min, f32({4}), A, B), {1, NAN, NAN, NAN}));
  std::vector<double> X{-2, 0, NAN, 0.5, 9};
  CHECK(sameValues(unary(OpKind::Relu, X), {0, 0, NAN, 0.5, 9}));
  CHECK(sameValues(unary(OpKind::Clip, X, {{"min", 0.0f}, {"max", 6.0f}}),
                   {0, 0, NAN, 0.5, 6}));
  CHECK(sameValues(unary(OpKind::Clip, X, {{"max", 0.25f}}),
                   {-2, 0, NAN, 0.25, 0.25}));
  CHECK(sameValues(unary(OpKind::Sign, X), {-1, 0, NAN, 1, 1}));
}

TEST_CASE("lower-to-loops: integer division truncates and survives zero",
          "[lowering]") {
  // The interpreter's division requires a non-zero divisor, in both arms
  // of every select.
  TensorType I32(ElemType::I32, {5});
  CHECK(binary(OpKind::Div, I32, {7, -7, 7, 5, 0}, {2, 2, 0, -1, 0}) ==
        std::vector<double>{3, -3, 0, -5, 0});
}

TEST_CASE("lower-to-loops: activation formulas match their ONNX definitions",
          "[lowering]") {
  std::vector<double> X{-3, -0.5, 0, 0.5, 3};
  auto Check = [&](OpKind K, AttrMap Attrs,
                   const std::function<double(double)> &F) {
    auto Got = unary(K, X, Attrs);
    for (size_t I = 0; I < X.size(); ++I) {
      INFO(opName(K).str() << "(" << X[I] << ")");
      CHECK(Got[I] == Approx(F(static_cast<float>(X[I]))).margin(1e-6));
    }
  };
  Check(OpKind::LeakyRelu, {{"alpha", 0.1f}},
        [](double V) { return V < 0 ? 0.1 * V : V; });
  Check(OpKind::Elu, {{"alpha", 2.0f}},
        [](double V) { return V < 0 ? 2 * (std::exp(V) - 1) : V; });
  Check(OpKind::Selu, {{"alpha", 1.5f}, {"gamma", 2.0f}},
        [](double V) { return V > 0 ? 2 * V : 2 * (1.5 * std::exp(V) - 1.5); });
  Check(OpKind::Celu, {{"alpha", 2.0f}}, [](double V) {
    return std::max(0.0, V) + std::min(0.0, 2 * (std::exp(V / 2) - 1));
  });
  Check(OpKind::ThresholdedRelu, {{"alpha", 0.5f}},
        [](double V) { return V > 0.5 ? V : 0; });
  Check(OpKind::HardSigmoid, {{"alpha", 0.2f}, {"beta", 0.5f}},
        [](double V) { return std::max(0.0, std::min(1.0, 0.2 * V + 0.5)); });
  Check(OpKind::HardSwish, {},
        [](double V) { return V * std::max(0.0, std::min(1.0, V / 6 + 0.5)); });
  Check(OpKind::Softplus, {}, [](double V) { return std::log1p(std::exp(V)); });
  Check(OpKind::Softsign, {}, [](double V) { return V / (1 + std::fabs(V)); });
  Check(OpKind::Gelu, {},
        [](double V) { return 0.5 * V * (1 + std::erf(V / std::sqrt(2.0))); });
  Check(OpKind::Gelu, {{"approximate", std::string("tanh")}}, [](double V) {
    return 0.5 * V *
           (1 + std::tanh(std::sqrt(2 / M_PI) * (V + 0.044715 * V * V * V)));
  });
  Check(OpKind::Neg, {}, [](double V) { return -V; });
  Check(OpKind::Reciprocal, {}, [](double V) { return 1 / V; });
}

TEST_CASE("lower-to-loops: Cast between floats, integers and bool",
          "[lowering]") {
  auto Cast = [](TensorType From, ElemType To, std::vector<double> X) {
    TensorType R = From;
    R.Elem = To;
    Module M =
        oneNode(OpKind::Cast, {From}, R, {{"to", elemTypeName(To).str()}});
    return runProgram(lowerModule(M), {X})[0];
  };
  CHECK(Cast(f32({4}), ElemType::I32, {-2.7, 2.7, 0, 5}) ==
        std::vector<double>{-2, 2, 0, 5});
  CHECK(Cast(f32({3}), ElemType::Bool, {0, NAN, -1}) ==
        std::vector<double>{0, 1, 1});
  CHECK(Cast(TensorType(ElemType::Bool, {2}), ElemType::F32, {1, 0}) ==
        std::vector<double>{1, 0});
}

TEST_CASE("lower-to-loops: Where and comparisons", "[lowering]") {
  Module M = oneNode(
      OpKind::Where,
      {TensorType(ElemType::Bool, {2, 1}), f32({3}), f32({2, 3})}, f32({2, 3}));
  auto Out = runProgram(lowerModule(M), {{1, 0}, {1, 2, 3}, iota(6, 10)});
  CHECK(Out[0] == std::vector<double>{1, 2, 3, 13, 14, 15});
  Module L = oneNode(OpKind::Less, {f32({3}), f32({3})},
                     TensorType(ElemType::Bool, {3}));
  CHECK(runProgram(lowerModule(L), {{1, NAN, 3}, {2, 1, 3}})[0] ==
        std::vector<double>{1, 0, 0});
}

TEST_CASE("lower-to-loops: an epilogue fuses into Concat's slabs",
          "[lowering]") {
  Module M = graphModule();
  Graph &G = *M.G;
  Value *X = G.addInput("x", f32({2, 1}));
  Value *Y = G.addInput("y", f32({2, 2}));
  Value *S = G.addInput("s", f32({3}));
  Node *C = G.createNode(OpKind::Concat, "c", {X, Y}, {f32({2, 3})},
                         inGroup(0, {{"axis", int64_t(1)}}));
  Node *A = G.createNode(OpKind::Sub, "a", {S, C->result()}, {f32({2, 3})},
                         inGroup(0));
  Node *R =
      G.createNode(OpKind::Relu, "r", {A->result()}, {f32({2, 3})}, inGroup(0));
  G.Outputs = {R->result()};
  const Program &P = lowerModule(M);
  CHECK(P.Kernels.size() == 1);
  auto Out = runProgram(P, {{1, 2}, {3, 4, 5, 6}, {10, 4, 4}});
  // s - concat = [[9, 1, 0], [8, -1, -2]], then Relu.
  CHECK(Out[0] == std::vector<double>{9, 1, 0, 8, 0, 0});
}
