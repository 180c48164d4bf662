//===- FrontendTest.cpp - The ONNX importer's normalizations
//---------------===//
//
// Small ONNX models are built in memory with libonnx's protobuf classes,
// written to a temporary file and imported; the tests check the normalized
// graph: pads resolved from auto_pad and ceil_mode, axes made non-negative,
// each opset's semantics, shape sub-graphs folded to constants,
// --input-shape, and that every unsupported node is reported at once.
//
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

using namespace tidal;
using namespace tidal::frontendtest;

//===----------------------------------------------------------------------===//
// Normalization of attributes
//===----------------------------------------------------------------------===//

TEST_CASE("Conv auto_pad SAME_UPPER/SAME_LOWER become explicit pads",
          "[frontend]") {
  for (const char *Mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    ModelBuilder B(13);
    B.input("x", {1, 2, 6, 7});
    B.zeros("w", {4, 2, 3, 3});
    auto &N = B.node("Conv", {"x", "w"}, {"y"}, "conv");
    attrString(N, "auto_pad", Mode);
    attrInts(N, "strides", {2, 2});
    B.output("y");
    auto G = ok(B.import());
    auto Ops = ops(*G);
    REQUIRE(Ops.size() == 1);
    const Node *C = Ops[0];
    CHECK(C->Kind == OpKind::Conv);
    CHECK(ints(C, "strides") == std::vector<int64_t>{2, 2});
    CHECK(ints(C, "dilations") == std::vector<int64_t>{1, 1});
    CHECK(C->getInt("group") == 1);
    CHECK_FALSE(C->hasAttr("kernel_shape"));
    // H 6: out 3, total pad (3-1)*2+3-6 = 1; W 7: out 4, total 2.
    if (std::string(Mode) == "SAME_UPPER") {
      CHECK(ints(C, "pads") == std::vector<int64_t>{0, 1, 1, 1});
      CHECK(C->result()->Type.Shape == std::vector<int64_t>{1, 4, 3, 4});
    } else if (std::string(Mode) == "SAME_LOWER") {
      CHECK(ints(C, "pads") == std::vector<int64_t>{1, 1, 0, 1});
      CHECK(C->result()->Type.Shape == std::vector<int64_t>{1, 4, 3, 4});
    } else {
      CHECK(ints(C, "pads") == std::vector<int64_t>{0, 0, 0, 0});
      CHECK(C->result()->Type.Shape == std::vector<int64_t>{1, 4, 2, 3});
    }
  }
}

TEST_CASE("pool ceil_mode becomes end padding; the last window starts "
          "inside",
          "[frontend]") {
  ModelBuilder B(13);
  B.input("x", {1, 1, 5, 5});
  auto &N = B.node("MaxPool", {"x"}, {"y"});
  attrInts(N, "kernel_shape", {2, 2});
  attrInts(N, "strides", {2, 2});
  attrInt(N, "ceil_mode", 1);
  B.output("y");
  auto G = ok(B.import());
  const Node *P = ops(*G)[0];
  CHECK(P->Kind == OpKind::MaxPool);
  // ceil((5-2)/2)+1 = 3 windows; the third starts at 4 (inside): pad 1.
  CHECK(ints(P, "pads") == std::vector<int64_t>{0, 0, 1, 1});
  CHECK(ints(P, "kernel_shape") == std::vector<int64_t>{2, 2});
  CHECK(P->result()->Type.Shape == std::vector<int64_t>{1, 1, 3, 3});
}

TEST_CASE("AveragePool counting padding with ceil_mode pads explicitly",
          "[frontend]") {
  ModelBuilder B(13);
  B.input("x", {1, 1, 4, 4});
  auto &N = B.node("AveragePool", {"x"}, {"y"});
  attrInts(N, "kernel_shape", {3, 3});
  attrInts(N, "strides", {2, 2});
  attrInts(N, "pads", {1, 1, 1, 1});
  attrInt(N, "ceil_mode", 1);
  attrInt(N, "count_include_pad", 1);
  B.output("y");
  auto G = ok(B.import());
  auto Ops = ops(*G);
  // 4+2-3 = 3: ceil(3/2)+1 = 3 windows, the last starts at 4 < 4+1: one
  // more pad at the end, which must not count.
  REQUIRE(Ops.size() == 2);
  CHECK(Ops[0]->Kind == OpKind::Pad);
  CHECK(ints(Ops[0], "pads") == std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1});
  CHECK(Ops[1]->Kind == OpKind::AveragePool);
  CHECK(Ops[1]->getInt("count_include_pad") == 0);
  CHECK(ints(Ops[1], "pads") == std::vector<int64_t>{0, 0, 1, 1});
  CHECK(Ops[1]->result()->Type.Shape == std::vector<int64_t>{1, 1, 3, 3});
}

TEST_CASE("negative axes are made non-negative", "[frontend]") {
  ModelBuilder B(13);
  B.input("a", {2, 3});
  B.input("b", {2, 5});
  auto &C = B.node("Concat", {"a", "b"}, {"c"});
  attrInt(C, "axis", -1);
  B.ints("axes", {-1});
  B.node("ReduceSum", {"c", "axes"}, {"s"});
  auto &F = B.node("Flatten", {"c"}, {"f"});
  attrInt(F, "axis", -2);
  B.output("s");
  B.output("f");
  auto G = ok(B.import());
  auto Ops = ops(*G);
  REQUIRE(Ops.size() == 3);
  CHECK(Ops[0]->getInt("axis") == 1);
  CHECK(Ops[0]->result()->Type.Shape == std::vector<int64_t>{2, 8});
  CHECK(Ops[1]->Kind == OpKind::ReduceSum);
  CHECK(ints(Ops[1], "axes") == std::vector<int64_t>{1});
  CHECK(Ops[1]->getInt("keepdims") == 1);
  CHECK(Ops[2]->Kind == OpKind::Reshape);
  CHECK(Ops[2]->result()->Type.Shape == std::vector<int64_t>{1, 16});
}

TEST_CASE("Squeeze takes axes as an attribute in opset 11, an input in 13",
          "[frontend]") {
  for (int Opset : {11, 13}) {
    ModelBuilder B(Opset);
    B.input("x", {1, 3, 1});
    auto &N = B.node("Squeeze",
                     Opset == 11 ? std::vector<std::string>{"x"}
                                 : std::vector<std::string>{"x", "axes"},
                     {"y"});
    if (Opset == 11)
      attrInts(N, "axes", {-1});
    else
      B.ints("axes", {-1});
    B.output("y");
    auto G = ok(B.import());
    auto Ops = ops(*G);
    REQUIRE(Ops.size() == 1);
    CHECK(Ops[0]->Kind == OpKind::Reshape);
    CHECK(Ops[0]->result()->Type.Shape == std::vector<int64_t>{1, 3});
  }
  // In opset 13 an axes attribute is no longer read; a run-time axes input
  // is refused.
  ModelBuilder B(13);
  B.input("x", {1, 3, 1});
  B.input("axes", {1}, onnx::TensorProto::INT64);
  B.node("Squeeze", {"x", "axes"}, {"y"}, "sq");
  B.output("y");
  std::string E = onlyError(B);
  CHECK(contains(E, "node 'sq' (Squeeze, opset 13)"));
  CHECK(contains(E, "must be a constant"));
}

TEST_CASE("Softmax before opset 13 coerces to 2-D", "[frontend]") {
  ModelBuilder B(11);
  B.input("x", {2, 3, 4});
  auto &N = B.node("Softmax", {"x"}, {"y"});
  attrInt(N, "axis", 1);
  B.output("y");
  auto G = ok(B.import());
  auto Ops = ops(*G);
  REQUIRE(Ops.size() == 3);
  CHECK(Ops[0]->Kind == OpKind::Reshape);
  CHECK(Ops[0]->result()->Type.Shape == std::vector<int64_t>{2, 12});
  CHECK(Ops[1]->Kind == OpKind::Softmax);
  CHECK(Ops[1]->getInt("axis") == 1);
  CHECK(Ops[2]->Kind == OpKind::Reshape);
  CHECK(Ops[2]->result()->Type.Shape == std::vector<int64_t>{2, 3, 4});

  // Opset 13: one axis, default -1.
  ModelBuilder C(13);
  C.input("x", {2, 3, 4});
  C.node("Softmax", {"x"}, {"y"});
  C.output("y");
  auto G13 = ok(C.import());
  auto Ops13 = ops(*G13);
  REQUIRE(Ops13.size() == 1);
  CHECK(Ops13[0]->getInt("axis") == 2);
}

TEST_CASE("Shape -> Gather -> Unsqueeze -> Concat -> Reshape folds",
          "[frontend]") {
  ModelBuilder B(13);
  B.input("x", {2, 3, 4});
  B.node("Shape", {"x"}, {"s"});
  auto &I0 = B.initializer("zero", onnx::TensorProto::INT64, {});
  I0.add_int64_data(0);
  B.node("Gather", {"s", "zero"}, {"d0"});
  B.ints("axis0", {0});
  B.node("Unsqueeze", {"d0", "axis0"}, {"d0u"});
  B.ints("minus1", {-1});
  auto &Cat = B.node("Concat", {"d0u", "minus1"}, {"shape"});
  attrInt(Cat, "axis", 0);
  B.node("Reshape", {"x", "shape"}, {"y"});
  B.output("y");
  auto G = ok(B.import());
  // Only the Reshape is left: the shape computation folded away.
  REQUIRE(G->Nodes.size() == 1);
  const Node *R = G->Nodes.front().get();
  CHECK(R->Kind == OpKind::Reshape);
  CHECK(R->result()->Type == TensorType(ElemType::F32, {2, 12}));
  CHECK(R->result()->Name == "y");
}

TEST_CASE("--input-shape fixes symbolic dimensions", "[frontend]") {
  auto build = [](ModelBuilder &B) {
    B.input("x", {-1, 3});
    B.node("Relu", {"x"}, {"y"});
    B.output("y");
  };
  {
    ModelBuilder B(13);
    build(B);
    bool Model;
    auto E = errors(B.import(), &Model);
    REQUIRE(E.size() == 1);
    CHECK(Model);
    CHECK(contains(E[0], "--input-shape x="));
    CHECK(contains(E[0], "[N,3]"));
  }
  {
    ModelBuilder B(13);
    build(B);
    ImportOptions Opts;
    Opts.InputShapes["x"] = {4, 3};
    auto G = ok(B.import(Opts));
    CHECK(G->Inputs[0]->Type == TensorType(ElemType::F32, {4, 3}));
    CHECK(G->Outputs[0]->Type == TensorType(ElemType::F32, {4, 3}));
  }
  {
    ModelBuilder B(13);
    build(B);
    ImportOptions Opts;
    Opts.InputShapes["x"] = {4, 5};
    Opts.InputShapes["nope"] = {1};
    auto E = errors(B.import(Opts));
    REQUIRE(E.size() == 2);
    CHECK(contains(E[0], "contradicts"));
    CHECK(contains(E[1], "'nope', which is not an input"));
  }
}

TEST_CASE("every unsupported node is reported at once", "[frontend]") {
  ModelBuilder B(13);
  B.input("x", {2});
  B.node("Foo", {"x"}, {"a"}, "first");
  B.node("Relu", {"a"}, {"b"});
  B.node("Bar", {"b"}, {"c"});
  B.node("Relu", {"x"}, {"d"});
  B.output("c");
  B.output("d");
  bool Model;
  auto E = errors(B.import(), &Model);
  CHECK(Model);
  REQUIRE(E.size() == 2);
  CHECK(E[0] == "node 'first' (Foo, opset 13): operator Foo is not supported");
  // A node without a name is named after its operator and index.
  CHECK(E[1] == "node 'Bar_2' (Bar, opset 13): operator Bar is not supported");
}

//===----------------------------------------------------------------------===//
// Opset versions
//===----------------------------------------------------------------------===//

TEST_CASE("opsets Tidal does not know, and operators not yet defined",
          "[frontend]") {
  {
    ModelBuilder B(29);
    B.input("x", {2});
    B.node("Relu", {"x"}, {"y"}, "r");
    B.output("y");
    CHECK(contains(onlyError(B),
                   "opset 29 is newer than the newest Tidal knows"));
  }
  {
    ModelBuilder B(13);
    B.input("x", {2});
    B.node("Gelu", {"x"}, {"y"}, "g");
    B.output("y");
    CHECK(contains(onlyError(B), "does not exist in opset 13"));
  }
  {
    ModelBuilder B(13);
    B.input("x", {2});
    auto &N = B.node("Relu", {"x"}, {"y"}, "ms");
    N.set_domain("com.microsoft");
    B.output("y");
    CHECK(contains(onlyError(B), "domain 'com.microsoft' is not supported"));
  }
}

TEST_CASE("Clip bounds: attributes before opset 11, constant inputs after",
          "[frontend]") {
  {
    ModelBuilder B(6);
    B.input("x", {2});
    auto &N = B.node("Clip", {"x"}, {"y"});
    attrFloat(N, "min", 0.0f);
    attrFloat(N, "max", 6.0f);
    B.output("y");
    auto G = ok(B.import());
    const Node *C = ops(*G)[0];
    CHECK(C->getFloat("min") == 0.0f);
    CHECK(C->getFloat("max") == 6.0f);
  }
  {
    ModelBuilder B(13);
    B.input("x", {2});
    B.floats("lo", {}, {-1.0f});
    B.node("Clip", {"x", "lo"}, {"y"});
    B.output("y");
    auto G = ok(B.import());
    const Node *C = ops(*G)[0];
    CHECK(C->getFloat("min") == -1.0f);
    CHECK_FALSE(C->hasAttr("max"));
  }
}

TEST_CASE("Reduce axes: attribute before 18, input after, noop when empty",
          "[frontend]") {
  {
    ModelBuilder B(13);
    B.input("x", {2, 3});
    auto &N = B.node("ReduceMean", {"x"}, {"y"});
    attrInt(N, "keepdims", 0);
    B.output("y");
    auto G = ok(B.import());
    const Node *R = ops(*G)[0];
    CHECK(ints(R, "axes") == std::vector<int64_t>{0, 1});
    CHECK(R->result()->Type.Shape.empty());
  }
  {
    ModelBuilder B(18);
    B.input("x", {2, 3});
    B.ints("axes", {0});
    B.node("ReduceMean", {"x", "axes"}, {"y"});
    B.output("y");
    auto G = ok(B.import());
    CHECK(ints(ops(*G)[0], "axes") == std::vector<int64_t>{0});
  }
  {
    // noop_with_empty_axes: ReduceSumSquare over no axis squares.
    ModelBuilder B(18);
    B.input("x", {2, 3});
    auto &N = B.node("ReduceSumSquare", {"x"}, {"y"});
    attrInt(N, "noop_with_empty_axes", 1);
    B.output("y");
    auto G = ok(B.import());
    auto Ops = ops(*G);
    REQUIRE(Ops.size() == 1);
    CHECK(Ops[0]->Kind == OpKind::Mul);
  }
}

TEST_CASE("binary operators before opset 7 broadcast at an axis",
          "[frontend]") {
  ModelBuilder B(6);
  B.input("a", {2, 3, 4});
  B.input("b", {3});
  auto &N = B.node("Add", {"a", "b"}, {"c"});
  attrInt(N, "broadcast", 1);
  attrInt(N, "axis", 1);
  B.output("c");
  auto G = ok(B.import());
  auto Ops = ops(*G);
  REQUIRE(Ops.size() == 2);
  CHECK(Ops[0]->Kind == OpKind::Reshape);
  CHECK(Ops[0]->result()->Type.Shape == std::vector<int64_t>{1, 3, 1});
  CHECK(Ops[1]->Kind == OpKind::Add);
  CHECK(Ops[1]->result()->Type.Shape == std::vector<int64_t>{2, 3, 4});
}

//===----------------------------------------------------------------------===//
// Other normalizations
//===----------------------------------------------------------------------===//

TEST_CASE("Slice clamps like ONNX, with negative steps", "[frontend]") {
  ModelBuilder B(13);
  B.input("x", {5, 4});
  B.ints("starts", {-1, 1});
  B.ints("ends", {std::numeric_limits<int64_t>::min(), 100});
  B.ints("axes", {0, -1});
  B.ints("steps", {-2, 1});
  B.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  B.output("y");
  auto G = ok(B.import());
  const Node *S = ops(*G)[0];
  CHECK(ints(S, "starts") == std::vector<int64_t>{4, 1});
  CHECK(ints(S, "ends") == std::vector<int64_t>{-1, 4});
  CHECK(ints(S, "steps") == std::vector<int64_t>{-2, 1});
  CHECK(S->result()->Type.Shape == std::vector<int64_t>{3, 3});
}

TEST_CASE("Split becomes one Slice per output", "[frontend]") {
  ModelBuilder B(13);
  B.input("x", {2, 6});
  B.ints("split", {2, 4});
  auto &N = B.node("Split", {"x", "split"}, {"a", "b"});
  attrInt(N, "axis", 1);
  B.output("a");
  B.output("b");
  auto G = ok(B.import());
  auto Ops = ops(*G);
  REQUIRE(Ops.size() == 2);
  CHECK(ints(Ops[1], "starts") == std::vector<int64_t>{0, 2});
  CHECK(ints(Ops[1], "ends") == std::vector<int64_t>{2, 6});
  CHECK(G->Outputs[0]->Type.Shape == std::vector<int64_t>{2, 2});
  CHECK(G->Outputs[1]->Name == "b");
}

TEST_CASE("initializers listed as inputs are constants; Constant nodes",
          "[frontend]") {
  ModelBuilder B(9);
  B.input("x", {3});
  B.input("w", {3}); // also an initializer: not a run-time input
  B.floats("w", {3}, {1, 2, 3});
  auto &C = B.node("Constant", {}, {"k"});
  auto &A = attr(C, "value_floats", onnx::AttributeProto::FLOATS);
  for (float F : {4.0f, 5.0f, 6.0f})
    A.add_floats(F);
  B.node("Mul", {"x", "w"}, {"m"});
  B.node("Add", {"m", "k"}, {"y"});
  B.output("y");
  auto G = ok(B.import());
  REQUIRE(G->Inputs.size() == 1);
  CHECK(G->Inputs[0]->Name == "x");
  auto Ops = ops(*G);
  REQUIRE(Ops.size() == 2);
  const Tensor *K = Ops[1]->Operands[1]->constantData();
  REQUIRE(K);
  CHECK(K->Type == TensorType(ElemType::F32, {3}));
  CHECK(K->data<float>()[2] == 6.0f);
}

TEST_CASE("Identity and Dropout forward; outputs keep their ONNX names",
          "[frontend]") {
  ModelBuilder B(13);
  B.input("x", {2});
  B.node("Identity", {"x"}, {"i"});
  B.node("Dropout", {"i"}, {"y", "mask"});
  B.output("y");
  B.output("mask");
  auto G = ok(B.import());
  REQUIRE(G->Outputs.size() == 2);
  // The output is the input itself: a Copy gives it its own name and buffer.
  CHECK(G->Outputs[0]->Def->Kind == OpKind::Copy);
  CHECK(G->Outputs[0]->Name == "y");
  const Tensor *Mask = G->Outputs[1]->constantData();
  REQUIRE(Mask);
  CHECK(Mask->Type == TensorType(ElemType::Bool, {2}));
  CHECK(Mask->getInt(0) == 1);
}

TEST_CASE("MatMul on vectors and Pow with an integer base", "[frontend]") {
  ModelBuilder B(15);
  B.input("v", {3});
  B.input("m", {3, 4});
  B.node("MatMul", {"v", "m"}, {"p"});
  B.input("i", {2}, onnx::TensorProto::INT32);
  B.input("e", {2});
  B.node("Pow", {"i", "e"}, {"q"});
  B.output("p");
  B.output("q");
  auto G = ok(B.import());
  CHECK(G->Outputs[0]->Type == TensorType(ElemType::F32, {4}));
  CHECK(G->Outputs[1]->Type == TensorType(ElemType::I32, {2}));
  for (const Node *N : ops(*G))
    if (N->Kind == OpKind::MatMul)
      CHECK(N->result()->Type.Shape == std::vector<int64_t>{1, 4});
    else if (N->Kind == OpKind::Pow)
      CHECK(N->result()->Type.Elem == ElemType::F64);
}

TEST_CASE("Tile and Upsample of constants fold to the repeated values",
          "[frontend]") {
  ModelBuilder B(7);
  B.floats("x", {1, 1, 2, 2}, {1, 2, 3, 4});
  auto &U = B.node("Upsample", {"x"}, {"u"});
  auto &S = attr(U, "scales", onnx::AttributeProto::FLOATS);
  for (float F : {1.0f, 1.0f, 2.0f, 2.0f})
    S.add_floats(F);
  B.ints("reps", {1, 1, 1, 2});
  B.node("Tile", {"x", "reps"}, {"t"});
  B.output("u");
  B.output("t");
  auto G = ok(B.import());
  const Tensor *Up = G->Outputs[0]->constantData();
  const Tensor *Ti = G->Outputs[1]->constantData();
  REQUIRE(Up);
  REQUIRE(Ti);
  CHECK(Up->Type.Shape == std::vector<int64_t>{1, 1, 4, 4});
  std::vector<float> WantUp = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  CHECK(std::vector<float>(Up->data<float>(), Up->data<float>() + 16) ==
        WantUp);
  CHECK(Ti->Type.Shape == std::vector<int64_t>{1, 1, 2, 4});
  std::vector<float> WantTi = {1, 2, 1, 2, 3, 4, 3, 4};
  CHECK(std::vector<float>(Ti->data<float>(), Ti->data<float>() + 8) == WantTi);
}
