//===- BindInputsTest.cpp - Graph inputs bound at compile time ------------===//
//
// ImportOptions::BoundInputs turns graph inputs into constants, which is how
// a model whose Reshape shape or Slice starts come from a graph input
// compiles (Tidal compiles static shapes only); compileTimeInputs() names
// the inputs that need it. The expectations are ONNX's semantics worked out
// by hand: Reshape [2,3,4] by [6,-1] is [6,4], and so on.
//
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

using namespace tidal;
using namespace tidal::frontendtest;

namespace {
Tensor i64s(std::vector<int64_t> Dims, std::vector<int64_t> V) {
  Tensor T(TensorType(ElemType::I64, Dims));
  for (size_t I = 0; I < V.size(); ++I)
    T.setInt(I, V[I]);
  return T;
}

/// x f32[2,3,4] reshaped by the graph input `shape` (i64[2]).
void reshapeByInput(ModelBuilder &B) {
  B.input("x", {2, 3, 4});
  B.input("shape", {2}, onnx::TensorProto::INT64);
  B.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
  B.output("y");
}

std::vector<std::string> inputNames(const Graph &G) {
  std::vector<std::string> Names;
  for (const auto &V : G.Inputs)
    Names.push_back(V->Name);
  return Names;
}
} // namespace

TEST_CASE("a Reshape whose shape is a graph input is rejected unless bound",
          "[frontend][bind]") {
  ModelBuilder B(14);
  reshapeByInput(B);
  std::vector<std::string> Errs = errors(B.import());
  REQUIRE(Errs.size() == 1);
  CHECK(contains(Errs[0], "reshape"));
  CHECK(contains(Errs[0], "'shape' must be a constant"));
  CHECK(value(compileTimeInputs(B.write(), {})) ==
        std::vector<std::string>{"shape"});

  ImportOptions Opts;
  Opts.BoundInputs["shape"] = i64s({2}, {6, -1});
  auto G = ok(B.import(Opts));
  CHECK(inputNames(*G) == std::vector<std::string>{"x"});
  auto Ops = ops(*G);
  REQUIRE(Ops.size() == 1);
  CHECK(Ops[0]->Kind == OpKind::Reshape);
  CHECK(Ops[0]->Operands[0] == G->Inputs[0].get());
  CHECK(Ops[0]->result()->Type == TensorType(ElemType::F32, {6, 4}));
  REQUIRE(G->Outputs.size() == 1);
  CHECK(G->Outputs[0]->Type == TensorType(ElemType::F32, {6, 4}));
  // Once bound, nothing more is needed at compile time.
  CHECK(value(compileTimeInputs(B.write(), Opts)).empty());
}

TEST_CASE("binding checks the input's name, element type and shape",
          "[frontend][bind]") {
  ModelBuilder B(14);
  reshapeByInput(B);
  auto ErrorFor = [&](const std::string &Name, Tensor T) {
    ImportOptions Opts;
    Opts.BoundInputs[Name] = std::move(T);
    bool AllModel = false;
    std::vector<std::string> Errs = errors(B.import(Opts), &AllModel);
    CHECK(AllModel);
    REQUIRE_FALSE(Errs.empty());
    return Errs[0];
  };
  std::string E = ErrorFor("shap", i64s({2}, {6, -1}));
  CHECK(contains(E, "'shap', which is not an input of the model"));
  CHECK(contains(E, "inputs: shape, x"));
  E = ErrorFor("shape", i64s({3}, {2, 3, 4}));
  CHECK(contains(E, "the value bound to input 'shape' is i64[3]"));
  CHECK(contains(E, "int64[2]"));
  Tensor F(TensorType(ElemType::F32, {2}));
  E = ErrorFor("shape", F);
  CHECK(contains(E, "the value bound to input 'shape' is f32[2]"));
  // A data input may be bound too: the model then has no run-time input.
  ImportOptions Opts;
  Opts.BoundInputs["shape"] = i64s({2}, {4, 6});
  Opts.BoundInputs["x"] = Tensor(TensorType(ElemType::F32, {2, 3, 4}));
  auto G = ok(B.import(Opts));
  CHECK(G->Inputs.empty());
}

TEST_CASE("a bound input fixes a symbolic shape; --input-shape must agree",
          "[frontend][bind]") {
  ModelBuilder B(13);
  B.input("x", {2, 6});
  B.input("axes", {-1}, onnx::TensorProto::INT64);
  B.node("Unsqueeze", {"x", "axes"}, {"y"}, "unsqueeze");
  B.output("y");
  ImportOptions Opts;
  Opts.BoundInputs["axes"] = i64s({2}, {0, -1});
  auto G = ok(B.import(Opts));
  CHECK(G->Outputs[0]->Type == TensorType(ElemType::F32, {1, 2, 6, 1}));
  Opts.InputShapes["axes"] = {2};
  ok(B.import(Opts));
  Opts.InputShapes["axes"] = {3};
  std::vector<std::string> Errs = errors(B.import(Opts));
  REQUIRE(Errs.size() == 1);
  CHECK(contains(Errs[0], "--input-shape gives input 'axes' the shape [3]"));
}

TEST_CASE("compile-time inputs are found through foldable operations",
          "[frontend][bind]") {
  // shape = Concat(Cast(a), b): both a and b must be bound; x is data, and
  // w is only added to the result, so neither is listed.
  ModelBuilder B(14);
  B.input("x", {2, 3, 4});
  B.input("a", {1}, onnx::TensorProto::INT32);
  B.input("w", {4, 6});
  B.input("b", {1}, onnx::TensorProto::INT64);
  auto &C = B.node("Cast", {"a"}, {"a64"});
  attrInt(C, "to", onnx::TensorProto::INT64);
  auto &Cat = B.node("Concat", {"a64", "b"}, {"shape"});
  attrInt(Cat, "axis", 0);
  B.node("Reshape", {"x", "shape"}, {"r"}, "reshape");
  B.node("Add", {"r", "w"}, {"y"});
  B.output("y");
  std::string Path = B.write();
  CHECK(value(compileTimeInputs(Path, {})) ==
        std::vector<std::string>{"a", "b"});

  ImportOptions Opts;
  Tensor A(TensorType(ElemType::I32, {1}));
  A.setInt(0, 4);
  Opts.BoundInputs["a"] = A;
  Opts.BoundInputs["b"] = i64s({1}, {-1});
  auto G = ok(importOnnxModel(Path, Opts));
  CHECK(inputNames(*G) == std::vector<std::string>{"x", "w"});
  CHECK(G->Outputs[0]->Type == TensorType(ElemType::F32, {4, 6}));
}

TEST_CASE("every run-time operand of a node is listed at once",
          "[frontend][bind]") {
  // Slice with starts, ends, axes and steps all graph inputs; a Clip whose
  // bounds are inputs; a Range of three inputs.
  ModelBuilder B(13);
  B.input("x", {10});
  for (const char *N : {"starts", "ends", "axes", "steps"})
    B.input(N, {1}, onnx::TensorProto::INT64);
  B.input("lo", {});
  B.input("hi", {});
  B.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"s"});
  B.node("Clip", {"s", "lo", "hi"}, {"y"});
  B.output("y");
  CHECK(value(compileTimeInputs(B.write(), {})) ==
        std::vector<std::string>{"starts", "ends", "axes", "steps"});

  // Binding the Slice's inputs makes the Clip importable, which then needs
  // its bounds: the second round lists them.
  ImportOptions Opts;
  Opts.BoundInputs["starts"] = i64s({1}, {1});
  Opts.BoundInputs["ends"] = i64s({1}, {9});
  Opts.BoundInputs["axes"] = i64s({1}, {0});
  Opts.BoundInputs["steps"] = i64s({1}, {3});
  CHECK(value(compileTimeInputs(B.write(), Opts)) ==
        std::vector<std::string>{"lo", "hi"});
  Tensor Lo(TensorType(ElemType::F32, {})), Hi(TensorType(ElemType::F32, {}));
  Lo.setDouble(0, -1);
  Hi.setDouble(0, 1);
  Opts.BoundInputs["lo"] = Lo;
  Opts.BoundInputs["hi"] = Hi;
  auto G = ok(B.import(Opts));
  // x[1:9:3] = x[1], x[4], x[7].
  CHECK(G->Outputs[0]->Type == TensorType(ElemType::F32, {3}));
  auto Ops = ops(*G);
  REQUIRE(Ops.size() == 2);
  CHECK(Ops[1]->Kind == OpKind::Clip);
  CHECK(Ops[1]->getFloat("min") == -1.0f);
  CHECK(Ops[1]->getFloat("max") == 1.0f);
}

TEST_CASE("Range of graph inputs lists all three", "[frontend][bind]") {
  ModelBuilder B(13);
  for (const char *N : {"start", "limit", "delta"})
    B.input(N, {}, onnx::TensorProto::INT64);
  B.node("Range", {"start", "limit", "delta"}, {"y"});
  B.output("y");
  CHECK(value(compileTimeInputs(B.write(), {})) ==
        std::vector<std::string>{"start", "limit", "delta"});
  ImportOptions Opts;
  Opts.BoundInputs["start"] = i64s({}, {10});
  Opts.BoundInputs["limit"] = i64s({}, {1});
  Opts.BoundInputs["delta"] = i64s({}, {-4});
  auto G = ok(B.import(Opts));
  // 10, 6, 2.
  REQUIRE(G->Outputs.size() == 1);
  const Tensor *T = G->Outputs[0]->constantData();
  REQUIRE(T);
  CHECK(*T == i64s({3}, {10, 6, 2}));
}
