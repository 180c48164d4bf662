//===- FrontendErrorsTest.cpp - The ONNX importer's rejections ------------===//
//
// Malformed models (missing inputs, extra inputs, dangling names, cycles,
// wrong attribute types, bad tensor data, unsupported types) are reported as
// ModelErrors naming the node, never crashed on; unreadable files are plain
// errors; external data follows ONNX's security rules; tensor files and
// `tidalc info` descriptions are read correctly.
//
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"
#include <unistd.h>

using namespace tidal;
using namespace tidal::frontendtest;

//===----------------------------------------------------------------------===//
// Malformed models
//===----------------------------------------------------------------------===//

TEST_CASE("malformed graphs are rejected, not crashed on", "[frontend]") {
  SECTION("missing required input") {
    ModelBuilder B(13);
    B.input("x", {2});
    B.node("Add", {"x"}, {"y"}, "add");
    B.output("y");
    CHECK(contains(onlyError(B),
                   "node 'add' (Add, opset 13): input 1 is required"));
  }
  SECTION("too many inputs") {
    ModelBuilder B(13);
    B.input("x", {2});
    B.node("Relu", {"x", "x"}, {"y"}, "r");
    B.output("y");
    CHECK(contains(onlyError(B), "unexpected input 1"));
  }
  SECTION("dangling names and cycles") {
    ModelBuilder B(13);
    B.input("x", {2});
    B.node("Relu", {"nowhere"}, {"a"}, "dangling");
    B.node("Add", {"x", "c2"}, {"c1"}, "cyc1");
    B.node("Relu", {"c1"}, {"c2"}, "cyc2");
    B.output("a");
    B.output("c2");
    auto E = errors(B.import());
    REQUIRE(E.size() == 3);
    CHECK(contains(E[0], "'nowhere' is not produced by any node"));
    CHECK(contains(E[1], "cycle"));
    CHECK(contains(E[2], "cycle"));
  }
  SECTION("a value defined twice") {
    ModelBuilder B(13);
    B.input("x", {2});
    B.node("Relu", {"x"}, {"x"}, "again");
    B.output("x");
    CHECK(contains(onlyError(B), "already defined"));
  }
  SECTION("attribute of the wrong type") {
    ModelBuilder B(13);
    B.input("x", {2, 3});
    auto &N = B.node("Softmax", {"x"}, {"y"}, "sm");
    attrString(N, "axis", "one");
    B.output("y");
    CHECK(contains(onlyError(B), "attribute 'axis' must be an int"));
  }
  SECTION("initializer data that does not match its shape") {
    ModelBuilder B(13);
    B.input("x", {3});
    B.floats("w", {4}, {1, 2, 3});
    B.node("Add", {"x", "w"}, {"y"}, "add");
    B.output("y");
    CHECK(contains(onlyError(B), "float_data has 3 values"));
  }
  SECTION("unsupported element types") {
    ModelBuilder B(13);
    B.input("s", {2}, onnx::TensorProto::STRING);
    B.input("x", {2});
    auto &C = B.node("Cast", {"x"}, {"y"}, "tobf16");
    attrInt(C, "to", onnx::TensorProto::BFLOAT16);
    B.output("y");
    auto E = errors(B.import());
    REQUIRE(E.size() == 2);
    CHECK(contains(E[0], "element type string"));
    CHECK(contains(E[1], "casting to bfloat16 is not supported"));
  }
  SECTION("shapes that do not fit") {
    ModelBuilder B(13);
    B.input("a", {2, 3});
    B.input("b", {4});
    B.node("Add", {"a", "b"}, {"y"}, "add");
    B.output("y");
    CHECK(contains(onlyError(B), "do not broadcast"));
  }
}

TEST_CASE("unreadable files are plain errors, files that hold no model "
          "are ModelErrors",
          "[frontend]") {
  TempDir D;
  bool Model = true;
  auto E = errors(importOnnxModel(D.file("missing.onnx"), {}), &Model);
  CHECK_FALSE(Model);
  CHECK(contains(E[0], "cannot read model"));
  // Readable, but no model: it cannot be compiled (tidalc's status 2).
  std::ofstream(D.file("junk.onnx")) << "this is not a protobuf \xff\xff\xff";
  E = errors(importOnnxModel(D.file("junk.onnx"), {}), &Model);
  CHECK(Model);
  CHECK(contains(E[0], "junk.onnx' is not an ONNX model: protobuf cannot parse it"));
}

//===----------------------------------------------------------------------===//
// Tensors: external data and tensor files
//===----------------------------------------------------------------------===//

namespace {
void externalInit(ModelBuilder &B, const std::string &Location,
                  const std::string &Offset = "",
                  const std::string &Length = "") {
  auto &T = B.initializer("w", onnx::TensorProto::FLOAT, {2});
  T.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char *K, const std::string &V) {
    auto *E = T.add_external_data();
    E->set_key(K);
    E->set_value(V);
  };
  add("location", Location);
  if (!Offset.empty())
    add("offset", Offset);
  if (!Length.empty())
    add("length", Length);
  B.input("x", {2});
  B.node("Add", {"x", "w"}, {"y"}, "add");
  B.output("y");
}
void writeFloats(const std::string &Path, std::vector<float> V) {
  std::ofstream OS(Path, std::ios::binary);
  OS.write(reinterpret_cast<const char *>(V.data()), V.size() * 4);
}
} // namespace

TEST_CASE("external data is read from the model's directory, safely",
          "[frontend]") {
  SECTION("a valid reference with an offset") {
    ModelBuilder B(13);
    writeFloats(B.Dir.file("weights.bin"), {9, 1.5f, -2});
    externalInit(B, "weights.bin", "4", "8");
    auto G = ok(B.import());
    const Tensor *W = ops(*G)[0]->Operands[1]->constantData();
    REQUIRE(W);
    CHECK(W->data<float>()[0] == 1.5f);
    CHECK(W->data<float>()[1] == -2.0f);
  }
  SECTION("absolute paths, '..', bad offsets and symlinks are refused") {
    struct Case {
      std::string Location, Offset, Length, Expect;
    } Cases[] = {
        {"/etc/passwd", "", "", "must be a relative path"},
        {"../weights.bin", "", "", "must not contain '..'"},
        {"sub/../../weights.bin", "", "", "must not contain '..'"},
        {"weights.bin", "-4", "", "not a non-negative integer"},
        {"weights.bin", "8", "8", "outside"},
        {"weights.bin", "0", "99999999999", "outside"},
        {"link.bin", "", "", "symlink"},
        {"missing.bin", "", "", "does not exist"},
    };
    for (const Case &C : Cases) {
      ModelBuilder B(13);
      writeFloats(B.Dir.file("weights.bin"), {1, 2, 3});
      REQUIRE(::symlink(B.Dir.file("weights.bin").c_str(),
                        B.Dir.file("link.bin").c_str()) == 0);
      externalInit(B, C.Location, C.Offset, C.Length);
      std::string E = onlyError(B);
      INFO(E);
      CHECK(contains(E, "node 'add' (Add, opset 13): initializer 'w'"));
      CHECK(contains(E, C.Expect));
    }
  }
}

TEST_CASE("readTensorProtoFile reads typed fields and raw data", "[frontend]") {
  TempDir D;
  onnx::TensorProto T;
  T.set_data_type(onnx::TensorProto::INT32);
  T.add_dims(2);
  T.add_dims(2);
  for (int V : {1, -2, 3, -4})
    T.add_int32_data(V);
  {
    std::ofstream OS(D.file("t.pb"), std::ios::binary);
    T.SerializeToOstream(&OS);
  }
  Tensor R = value(readTensorProtoFile(D.file("t.pb")));
  CHECK(R.Type == TensorType(ElemType::I32, {2, 2}));
  CHECK(R.data<int32_t>()[3] == -4);

  onnx::TensorProto H;
  H.set_data_type(onnx::TensorProto::FLOAT16);
  H.add_dims(1);
  H.set_raw_data(std::string("\x00\x3c", 2)); // 1.0 in half precision
  {
    std::ofstream OS(D.file("h.pb"), std::ios::binary);
    H.SerializeToOstream(&OS);
  }
  Tensor RH = value(readTensorProtoFile(D.file("h.pb")));
  CHECK(RH.getDouble(0) == 1.0);
}

TEST_CASE("describeOnnxModel summarizes the model", "[frontend]") {
  ModelBuilder B(13);
  B.input("x", {1, 4});
  B.node("Relu", {"x"}, {"y"});
  B.node("Relu", {"y"}, {"z"});
  B.output("z");
  std::string D = value(describeOnnxModel(B.write()));
  CHECK(contains(D, "opsets: ai.onnx=13"));
  CHECK(contains(D, "x: f32[1,4]"));
  CHECK(contains(D, "Relu: 2"));
  CHECK(contains(D, "import: ok"));
}
