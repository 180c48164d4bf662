//===- FrontendExtraTest.cpp - Importers of the added operators -----------===//
//
// The normalizations of the operators imported by OpImportersExtra.cpp,
// OpImportersNorm.cpp, OpImportersConvTranspose.cpp and
// OpImportersResize.cpp: their decompositions, the attributes they fill in,
// each opset's semantics, and what they reject. The numbers themselves are
// checked by the ONNX conformance cases (test/scripts/conformance.py).
//
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

using namespace tidal;
using namespace tidal::frontendtest;

namespace {
std::vector<OpKind> kinds(const Graph &G) {
  std::vector<OpKind> K;
  for (const Node *N : ops(G))
    K.push_back(N->Kind);
  return K;
}

const Node *only(const Graph &G, OpKind K) {
  const Node *Found = nullptr;
  for (const Node *N : ops(G))
    if (N->Kind == K) {
      CHECK_FALSE(Found);
      Found = N;
    }
  REQUIRE(Found);
  return Found;
}

std::string firstError(ModelBuilder &B) {
  auto E = errors(B.import());
  REQUIRE(!E.empty());
  return E[0];
}
} // namespace

TEST_CASE("LayerNormalization is its function body, Mean and InvStdDev "
          "included",
          "[frontend][extra]") {
  ModelBuilder B(17);
  B.input("x", {2, 3, 4});
  B.zeros("s", {3, 4});
  B.zeros("b", {4});
  auto &N = B.node("LayerNormalization", {"x", "s", "b"}, {"y", "m", "i"});
  attrInt(N, "axis", -2);
  attrFloat(N, "epsilon", 0.5f);
  B.output("y");
  B.output("m");
  B.output("i");
  auto G = ok(B.import());
  CHECK(kinds(*G) == std::vector<OpKind>{OpKind::ReduceMean, OpKind::Sub,
                                         OpKind::Mul, OpKind::ReduceMean,
                                         OpKind::Add, OpKind::Sqrt,
                                         OpKind::Reciprocal, OpKind::Mul,
                                         OpKind::Mul, OpKind::Add});
  const Node *Mean = ops(*G)[0];
  CHECK(ints(Mean, "axes") == std::vector<int64_t>{1, 2});
  CHECK(Mean->getInt("keepdims") == 1);
  REQUIRE(G->Outputs.size() == 3);
  CHECK(G->Outputs[1] == Mean->result());
  CHECK(G->Outputs[1]->Type.Shape == std::vector<int64_t>{2, 1, 1});
  CHECK(G->Outputs[2]->Def->Kind == OpKind::Reciprocal);
}

TEST_CASE("normalizations compute stage one in f32 (stash_type 1 only)",
          "[frontend][extra]") {
  {
    ModelBuilder B(23);
    B.input("x", {2, 4}, onnx::TensorProto::DOUBLE);
    B.input("s", {4}, onnx::TensorProto::DOUBLE);
    B.node("RMSNormalization", {"x", "s"}, {"y"});
    B.output("y");
    auto G = ok(B.import());
    auto K = kinds(*G);
    REQUIRE(K.size() == 8);
    CHECK(K.front() == OpKind::Cast);
    CHECK(ops(*G)[0]->result()->Type.Elem == ElemType::F32);
    CHECK(K[5] == OpKind::Div); // X / RMS, as the function body
    CHECK(K[6] == OpKind::Cast);
    CHECK(G->Outputs[0]->Type.Elem == ElemType::F64);
  }
  {
    ModelBuilder B(17);
    B.input("x", {2, 4});
    B.zeros("s", {4});
    auto &N = B.node("LayerNormalization", {"x", "s"}, {"y"}, "ln");
    attrInt(N, "stash_type", 16);
    B.output("y");
    CHECK(contains(firstError(B), "stash_type 16 is not supported"));
  }
}

TEST_CASE("GroupNormalization: scale per group in 18, per channel in 21",
          "[frontend][extra]") {
  for (int64_t Opset : {18, 21}) {
    ModelBuilder B(Opset);
    B.input("x", {1, 6, 2});
    int64_t P = Opset == 18 ? 3 : 6;
    B.zeros("s", {P});
    B.zeros("b", {P});
    auto &N = B.node("GroupNormalization", {"x", "s", "b"}, {"y"});
    attrInt(N, "num_groups", 3);
    B.output("y");
    auto G = ok(B.import());
    const Node *Mean = ops(*G)[1];
    REQUIRE(Mean->Kind == OpKind::ReduceMean);
    CHECK(Mean->Operands[0]->Type.Shape == std::vector<int64_t>{1, 3, 4});
    // The scale is [3, 1] against [1, 3, 4], or [6, 1] against [1, 6, 2].
    const Node *Scale = nullptr;
    for (const Node *Op : ops(*G))
      if (Op->Kind == OpKind::Mul && Op->Operands[1]->constantData())
        Scale = Op;
    REQUIRE(Scale);
    CHECK(Scale->Operands[1]->Type.Shape == (Opset == 18
                                                 ? std::vector<int64_t>{3, 1}
                                                 : std::vector<int64_t>{6, 1}));
    CHECK(G->Outputs[0]->Type.Shape == std::vector<int64_t>{1, 6, 2});
  }
  ModelBuilder B(21);
  B.input("x", {1, 6, 2});
  B.zeros("s", {3});
  B.zeros("b", {3});
  auto &N = B.node("GroupNormalization", {"x", "s", "b"}, {"y"});
  attrInt(N, "num_groups", 3);
  B.output("y");
  CHECK(contains(firstError(B), "scale and bias must be f32[6]"));
}

TEST_CASE("ArgMax: select_last_index from opset 12, i64 result",
          "[frontend][extra]") {
  for (int64_t Opset : {11, 13}) {
    ModelBuilder B(Opset);
    B.input("x", {2, 3, 4});
    auto &N = B.node("ArgMax", {"x"}, {"y"});
    attrInt(N, "axis", -2);
    attrInt(N, "keepdims", 0);
    attrInt(N, "select_last_index", 1);
    B.output("y");
    auto G = ok(B.import());
    const Node *A = only(*G, OpKind::ArgMax);
    CHECK(A->getInt("axis") == 1);
    CHECK(A->getInt("select_last_index") == (Opset >= 12 ? 1 : 0));
    CHECK(A->result()->Type == TensorType(ElemType::I64, {2, 4}));
  }
}

TEST_CASE("Hardmax is a one-hot of ArgMax; before 13 over the 2-D coercion",
          "[frontend][extra]") {
  ModelBuilder B(11);
  B.input("x", {2, 3, 4});
  B.node("Hardmax", {"x"}, {"y"});
  B.output("y");
  auto G = ok(B.import());
  CHECK(kinds(*G) == std::vector<OpKind>{OpKind::Reshape, OpKind::ArgMax,
                                         OpKind::Equal, OpKind::Cast,
                                         OpKind::Reshape});
  CHECK(ops(*G)[0]->result()->Type.Shape == std::vector<int64_t>{2, 12});
}

TEST_CASE("Mod and BitShift normalize their attributes", "[frontend][extra]") {
  {
    ModelBuilder B(13);
    B.input("a", {4});
    B.input("b", {4});
    B.node("Mod", {"a", "b"}, {"y"}, "mod");
    B.output("y");
    CHECK(contains(firstError(B),
                   "Mod of floating-point operands needs fmod = 1"));
  }
  {
    ModelBuilder B(13);
    B.input("a", {4}, onnx::TensorProto::INT32);
    B.input("b", {1}, onnx::TensorProto::INT32);
    B.node("Mod", {"a", "b"}, {"y"});
    B.output("y");
    auto G = ok(B.import());
    CHECK(only(*G, OpKind::Mod)->getInt("fmod") == 0);
  }
  {
    ModelBuilder B(11);
    B.input("a", {4}, onnx::TensorProto::INT8);
    B.input("b", {4}, onnx::TensorProto::INT8);
    auto &N = B.node("BitShift", {"a", "b"}, {"y"});
    attrString(N, "direction", "LEFT");
    B.output("y");
    CHECK(contains(firstError(B), "unsigned integers, not i8"));
  }
}

TEST_CASE("Trilu is a Where with a constant mask; k must be constant",
          "[frontend][extra]") {
  {
    ModelBuilder B(14);
    B.input("x", {2, 3, 3}, onnx::TensorProto::INT32);
    B.ints("k", {1});
    B.graph().mutable_initializer(0)->clear_dims(); // a scalar
    auto &N = B.node("Trilu", {"x", "k"}, {"y"});
    attrInt(N, "upper", 0);
    B.output("y");
    auto G = ok(B.import());
    const Node *W = only(*G, OpKind::Where);
    const Tensor *Mask = W->Operands[0]->constantData();
    REQUIRE(Mask);
    // Lower with k = 1: keep j - i <= 1.
    std::vector<uint8_t> Want = {1, 1, 0, 1, 1, 1, 1, 1, 1};
    CHECK(Mask->Bytes == Want);
  }
  {
    ModelBuilder B(14);
    B.input("x", {3, 3});
    B.input("k", {}, onnx::TensorProto::INT64);
    B.node("Trilu", {"x", "k"}, {"y"});
    B.output("y");
    CHECK(contains(firstError(B), "must be a constant"));
  }
}

TEST_CASE("DepthToSpace DCR and CRD, SpaceToDepth: reshape, transpose, "
          "reshape",
          "[frontend][extra]") {
  for (const char *Mode : {"DCR", "CRD"}) {
    ModelBuilder B(13);
    B.input("x", {1, 8, 2, 3});
    auto &N = B.node("DepthToSpace", {"x"}, {"y"});
    attrInt(N, "blocksize", 2);
    attrString(N, "mode", Mode);
    B.output("y");
    auto G = ok(B.import());
    const Node *T = only(*G, OpKind::Transpose);
    CHECK(ints(T, "perm") == (std::string(Mode) == "DCR"
                                  ? std::vector<int64_t>{0, 3, 4, 1, 5, 2}
                                  : std::vector<int64_t>{0, 1, 4, 2, 5, 3}));
    CHECK(G->Outputs[0]->Type.Shape == std::vector<int64_t>{1, 2, 4, 6});
  }
  ModelBuilder B(13);
  B.input("x", {1, 2, 4, 6});
  auto &N = B.node("SpaceToDepth", {"x"}, {"y"});
  attrInt(N, "blocksize", 2);
  B.output("y");
  auto G = ok(B.import());
  CHECK(ints(only(*G, OpKind::Transpose), "perm") ==
        std::vector<int64_t>{0, 3, 5, 1, 2, 4});
  CHECK(G->Outputs[0]->Type.Shape == std::vector<int64_t>{1, 8, 2, 3});
}

TEST_CASE("ConvTranspose folds output_padding, auto_pad and output_shape "
          "into pads",
          "[frontend][extra]") {
  auto Build = [](ModelBuilder &B) -> onnx::NodeProto & {
    B.input("x", {1, 2, 3, 3});
    B.zeros("w", {2, 4, 3, 3});
    auto &N = B.node("ConvTranspose", {"x", "w"}, {"y"}, "ct");
    attrInts(N, "strides", {3, 2});
    B.output("y");
    return N;
  };
  {
    ModelBuilder B(11);
    auto &N = Build(B);
    attrInts(N, "output_padding", {1, 1});
    attrInts(N, "pads", {1, 0, 0, 2});
    auto G = ok(B.import());
    const Node *C = only(*G, OpKind::ConvTranspose);
    CHECK(ints(C, "pads") == std::vector<int64_t>{1, 0, -1, 1});
    CHECK(C->getInt("group") == 1);
    // 3*2 + 1 + 3 - 1 - 0 = 9; 2*2 + 1 + 3 - 0 - 2 = 6.
    CHECK(C->result()->Type.Shape == std::vector<int64_t>{1, 4, 9, 6});
  }
  {
    ModelBuilder B(11);
    auto &N = Build(B);
    attrString(N, "auto_pad", "SAME_UPPER");
    auto G = ok(B.import());
    const Node *C = only(*G, OpKind::ConvTranspose);
    // Outputs 9 and 6: totals 0 and 1, the odd one at the end.
    CHECK(ints(C, "pads") == std::vector<int64_t>{0, 0, 0, 1});
    CHECK(C->result()->Type.Shape == std::vector<int64_t>{1, 4, 9, 6});
  }
  {
    ModelBuilder B(11);
    auto &N = Build(B);
    attrInts(N, "output_shape", {10, 8});
    auto G = ok(B.import());
    const Node *C = only(*G, OpKind::ConvTranspose);
    CHECK(ints(C, "pads") == std::vector<int64_t>{0, 0, -1, -1});
  }
  {
    ModelBuilder B(11);
    auto &N = Build(B);
    attrInts(N, "output_shape", {7, 7});
    CHECK(contains(firstError(B), "only 0 and -1 are supported"));
  }
}

TEST_CASE("Resize becomes gathers and weighted sums per resized axis",
          "[frontend][extra]") {
  {
    // Nearest, scales 2 on the last axis: one Gather, N and C untouched.
    ModelBuilder B(13);
    B.input("x", {1, 1, 2, 3});
    B.floats("scales", {4}, {1, 1, 1, 2});
    auto &N = B.node("Resize", {"x", "", "scales"}, {"y"});
    attrString(N, "mode", "nearest");
    attrString(N, "coordinate_transformation_mode", "asymmetric");
    B.output("y");
    auto G = ok(B.import());
    const Node *Gather = only(*G, OpKind::Gather);
    CHECK(Gather->getInt("axis") == 3);
    const Tensor *Idx = Gather->Operands[1]->constantData();
    REQUIRE(Idx);
    std::vector<int64_t> Got;
    for (int64_t I = 0; I < 6; ++I)
      Got.push_back(Idx->getInt(I));
    // asymmetric x/2, round_prefer_floor: 0, 0.5 -> 0, 1, 1.5 -> 1, 2, 2.5.
    CHECK(Got == std::vector<int64_t>{0, 0, 1, 1, 2, 2});
  }
  {
    // Linear with sizes: two taps on the resized axis.
    ModelBuilder B(13);
    B.input("x", {1, 1, 4});
    B.ints("sizes", {1, 1, 2});
    auto &N = B.node("Resize", {"x", "", "", "sizes"}, {"y"});
    attrString(N, "mode", "linear");
    B.output("y");
    auto G = ok(B.import());
    CHECK(kinds(*G) == std::vector<OpKind>{OpKind::Gather, OpKind::Mul,
                                           OpKind::Gather, OpKind::Mul,
                                           OpKind::Add});
    CHECK(G->Outputs[0]->Type.Shape == std::vector<int64_t>{1, 1, 2});
  }
  {
    // Scales computed at run time cannot be compiled.
    ModelBuilder B(13);
    B.input("x", {1, 1, 4});
    B.input("scales", {3});
    B.node("Resize", {"x", "", "scales"}, {"y"});
    B.output("y");
    CHECK(contains(firstError(B), "must be a constant"));
  }
}
