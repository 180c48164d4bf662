//===- GraphTest.cpp - Graph IR printer, parser and verifier --------------===//
//
// Print -> parse -> print must give identical bytes; attribute values
// (floats to the last bit, strings with any bytes, tensors of every element
// type, empty lists) survive the trip; malformed text (including every
// truncation of a valid text and random bytes) gives a `line:col` error,
// never a crash; and the verifier names the offending node.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/Graph.h"
#include "llvm/Support/raw_ostream.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

using namespace tidal;

namespace {

std::string print(const Graph &G, GraphPrintOptions Opts = {}) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printGraph(G, OS, Opts);
  return OS.str();
}

std::unique_ptr<Graph> parse(const std::string &Text) {
  auto G = parseGraph(Text);
  if (!G)
    FAIL(llvm::toString(G.takeError()));
  return std::move(*G);
}

std::string parseError(const std::string &Text) {
  auto G = parseGraph(Text);
  if (G)
    FAIL("expected a parse error for:\n" << Text);
  return llvm::toString(G.takeError());
}

/// The I-th node of G in graph order.
Node &nodeAt(const Graph &G, size_t I) {
  return **std::next(G.Nodes.begin(), I);
}

std::string verifyError(const Graph &G) {
  llvm::Error E = verifyGraph(G);
  if (!E)
    FAIL("expected a verifier error for:\n" << print(G));
  return llvm::toString(std::move(E));
}

/// The verifier's message, empty when the graph is valid.
std::string verifyMessage(const Graph &G) {
  llvm::Error E = verifyGraph(G);
  return E ? llvm::toString(std::move(E)) : std::string();
}

bool contains(const std::string &S, const std::string &Part) {
  return S.find(Part) != std::string::npos;
}

/// A small conv net built through the API, with attributes of every kind.
std::unique_ptr<Graph> buildConvNet() {
  auto G = std::make_unique<Graph>();
  Value *X = G->addInput("input", TensorType(ElemType::F32, {1, 3, 8, 8}));
  Value *B = G->addInput("b", TensorType(ElemType::F32, {4}));
  Tensor W(TensorType(ElemType::F32, {4, 3, 3, 3}));
  for (int64_t I = 0; I < W.Type.numElements(); ++I)
    W.setDouble(I, 0.1 * static_cast<double>(I) - 3.0);
  Value *WV = G->createConstant("w", W);
  AttrMap Conv{{"strides", std::vector<int64_t>{1, 1}},
               {"pads", std::vector<int64_t>{1, 1, 1, 1}},
               {"dilations", std::vector<int64_t>{1, 1}},
               {"group", int64_t(1)},
               {FusionGroupAttr, int64_t(0)}};
  Node *C = G->createNode(OpKind::Conv, "conv1", {X, WV, B},
                          {TensorType(ElemType::F32, {1, 4, 8, 8})}, Conv);
  Node *R = G->createNode(OpKind::LeakyRelu, "relu/1:0", {C->result()},
                          {C->result()->Type},
                          {{"alpha", 0.1f}, {FusionGroupAttr, int64_t(0)}});
  G->Outputs.push_back(R->result());
  G->Outputs.push_back(X);
  return G;
}

} // namespace

TEST_CASE("a built graph prints, parses and prints the same", "[graph]") {
  auto G = buildConvNet();
  REQUIRE(verifyMessage(*G) == "");
  std::string Text = print(*G);
  CHECK(contains(Text, "graph @main(%input: f32[1,3,8,8], %b: f32[4]) -> "
                       "(%\"relu/1:0\", %input) {\n"));
  CHECK(contains(Text, "  %conv1 = Conv(%input, %w, %b) {dilations = [1, 1], "
                       "fusion_group = 0, group = 1, pads = [1, 1, 1, 1], "
                       "strides = [1, 1]} : f32[1,4,8,8] loc(\"conv1\")\n"));
  CHECK(contains(Text, "{alpha = 0.1, fusion_group = 0}"));
  CHECK(contains(Text, "  return %\"relu/1:0\", %input\n}\n"));
  // 108 elements: raw bytes; element 0 is -3.0f = 0xC0400000, little-endian.
  CHECK(contains(Text, "dense<f32[4,3,3,3]: 0x000040C0"));

  auto P = parse(Text);
  REQUIRE(verifyMessage(*P) == "");
  CHECK(print(*P) == Text);
  CHECK(P->Nodes.size() == 3);
  CHECK(P->Outputs[1] == P->Inputs[0].get());
  const Node &Conv = nodeAt(*P, 1);
  CHECK(Conv.Name == "conv1");
  CHECK(Conv.getInts("pads") == std::vector<int64_t>{1, 1, 1, 1});
}

TEST_CASE("attribute values survive the round trip exactly", "[graph]") {
  Graph G;
  Value *X = G.addInput("x", TensorType(ElemType::F32, {2}));
  std::vector<float> Floats = {0.1f,    1.0f,      -0.0f,   1e-7f,
                               3.4028235e38f, 1.17549435e-38f, 1.4e-45f,
                               16777217.0f,   INFINITY, -INFINITY,
                               123456.79f};
  AttrMap A;
  A["fl"] = Floats;
  A["empty_i"] = std::vector<int64_t>{};
  A["empty_f"] = std::vector<float>{};
  A["ints"] = std::vector<int64_t>{INT64_MIN, -1, 0, INT64_MAX};
  A["str"] = std::string("quote \" back \\ nl \n tab \t bytes \x01\xff");
  A["one"] = 2.0f;
  A["nan"] = NAN;
  A["i"] = int64_t(-42);
  Node *N = G.createNode(OpKind::Copy, "n", {X}, {X->Type}, A);
  G.Outputs.push_back(N->result());

  std::string Text = print(G);
  CHECK(contains(Text, "empty_f = [] : f32"));
  CHECK(contains(Text, "empty_i = [] : i64"));
  CHECK(contains(Text, "one = 2.0"));
  CHECK(contains(Text, "i = -42"));
  auto P = parse(Text);
  CHECK(print(*P) == Text);
  const Node &PN = *P->Nodes.front();
  const auto &Back = PN.getFloats("fl");
  REQUIRE(Back.size() == Floats.size());
  for (size_t I = 0; I < Floats.size(); ++I)
    CHECK(std::memcmp(&Back[I], &Floats[I], 4) == 0);
  CHECK(std::holds_alternative<std::vector<int64_t>>(PN.Attrs.at("empty_i")));
  CHECK(std::holds_alternative<std::vector<float>>(PN.Attrs.at("empty_f")));
  CHECK(PN.getInts("ints") == std::get<std::vector<int64_t>>(A["ints"]));
  CHECK(PN.getString("str") == std::get<std::string>(A["str"]));
  CHECK(std::isnan(PN.getFloat("nan")));
  CHECK(std::holds_alternative<float>(PN.Attrs.at("one")));
  CHECK(PN.getInt("i") == -42);
}

TEST_CASE("tensors of every element type round trip", "[graph]") {
  const ElemType All[] = {ElemType::F32, ElemType::F16, ElemType::F64,
                          ElemType::I64, ElemType::I32, ElemType::I16,
                          ElemType::I8,  ElemType::U8,  ElemType::U16,
                          ElemType::U32, ElemType::U64, ElemType::Bool,
                          ElemType::Bit};
  for (int64_t Count : {0, 1, 5, 16, 17, 40}) {
    Graph G;
    for (ElemType E : All) {
      Tensor T(TensorType(E, {Count}));
      for (int64_t I = 0; I < Count; ++I)
        T.setInt(I, (I * 37 + 11) % 7 == 0 ? 0 : (I % 2 ? -1 : 1) * (I + 1));
      if (E == ElemType::F32 && Count > 0)
        T.data<float>()[0] = 0.3f;
      Value *V = G.createConstant(std::string(elemTypeName(E)), T);
      G.Outputs.push_back(V);
    }
    Tensor Scalar(TensorType(ElemType::I64, {}));
    Scalar.setInt(0, 7);
    G.Outputs.push_back(G.createConstant("scalar", Scalar));
    REQUIRE(verifyMessage(G) == "");
    std::string Text = print(G);
    auto P = parse(Text);
    REQUIRE(verifyMessage(*P) == "");
    CHECK(print(*P) == Text);
    auto It = P->Nodes.begin();
    for (const auto &N : G.Nodes) {
      INFO(print(G));
      CHECK(N->getTensor("value") == (*It++)->getTensor("value"));
    }
  }
}

TEST_CASE("quantized types and names that need quotes", "[graph]") {
  const char *Text =
      "graph @\"my model\"(%\"in put\": i8[2,3] q(0.5,0.25;0,-3;0)) -> "
      "(%\"in put\") {\n"
      "  return %\"in put\"\n"
      "}\n";
  auto G = parse(Text);
  CHECK(G->Name == "my model");
  REQUIRE(G->Inputs.size() == 1);
  const TensorType &T = G->Inputs[0]->Type;
  REQUIRE(T.Quant);
  CHECK(T.Quant->Scales == std::vector<float>{0.5f, 0.25f});
  CHECK(T.Quant->ZeroPoints == std::vector<int64_t>{0, -3});
  CHECK(T.Quant->Axis == 0);
  CHECK(print(*G) == Text);
}

TEST_CASE("parsed names are kept exactly", "[graph]") {
  // createNode would rename `relu` (the node name) to avoid the value %relu;
  // the parser must keep both as written.
  const char *Text = "graph @main(%x: f32[2]) -> (%relu) {\n"
                     "  %a = Relu(%x) : f32[2] loc(\"relu\")\n"
                     "  %relu = Neg(%a) : f32[2] loc(\"a\")\n"
                     "  return %relu\n"
                     "}\n";
  auto G = parse(Text);
  CHECK(print(*G) == Text);
  // New names made later still avoid the parsed ones.
  CHECK(G->uniqueName("a") == "a_1");
}

TEST_CASE("elided constants print but do not parse", "[graph]") {
  auto G = buildConvNet();
  GraphPrintOptions Opts;
  Opts.ElideConstantsAbove = 16;
  std::string Text = print(*G, Opts);
  CHECK(contains(Text, "dense<f32[4,3,3,3]: ...elided...>"));
  CHECK(contains(parseError(Text), "elided"));
}

TEST_CASE("malformed text gives line:column errors", "[graph]") {
  // The parse error of a graph of %x: f32[2] with the one statement Stmt,
  // returning Ret.
  auto StmtError = [](const std::string &Stmt, const std::string &Ret = "%y") {
    return parseError("graph @main(%x: f32[2]) -> (%y) {\n  " + Stmt +
                      "\n  return " + Ret + "\n}");
  };
  CHECK(contains(StmtError("%y = Relu(%z) : f32[2]"),
                 "2:13: use of undefined value %z"));
  CHECK(contains(StmtError("%y = Frob(%x) : f32[2]"),
                 "2:8: unknown operation 'Frob'"));
  CHECK(contains(StmtError("%x = Relu(%x) : f32[2]", "%x"),
                 "redefinition of value %x"));
  CHECK(contains(StmtError("%y = Relu(%x) : g32[2]"),
                 "unknown element type 'g32'"));
  CHECK(contains(StmtError("%y = Relu(%x) : f32[2]", "%x"), "does not match"));
  CHECK(contains(StmtError("%y = Relu(%x) {a = 1, a = 2} : f32[2]"),
                 "duplicate attribute 'a'"));
  CHECK(contains(
      StmtError("%y = Constant() {value = dense<f32[3]: [1.0]>} : f32[2]"),
      "expected 3 elements"));
  CHECK(contains(
      StmtError("%y = Constant() {value = dense<i8[1]: [300]>} : f32[2]"),
      "out of range for i8"));
  CHECK(contains(StmtError("%y = Relu(%x) : f32[99999999999,99999999999]"),
                 "too large"));
  CHECK(contains(parseError("graph @main() -> () {\n  return\n} extra"),
                 "3:3: expected end of input"));
  CHECK(contains(parseError("grap"), "1:1: expected 'graph'"));
  CHECK(contains(parseError(""), "1:1: expected 'graph'"));
  CHECK(contains(parseError("graph @m(%x: f32[2]) -> (%x) {\n return %x\n}\n"
                            "\"unterminated"),
                 "4:1: unterminated string"));
}

TEST_CASE("every truncation of a valid text is an error, not a crash",
          "[graph]") {
  auto G = buildConvNet();
  std::string Text = print(*G);
  // Small constants too, so truncations land inside element lists.
  Text.insert(Text.find("  return"),
              "  %k = Constant() {value = dense<f32[2]: [1.5, -inf]>, s = "
              "\"a\\\"b\", e = [] : i64} : f32[2] loc(\"k\")\n");
  {
    auto Whole = parseGraph(Text);
    REQUIRE(static_cast<bool>(Whole));
  }
  // Cutting the final newline still parses; everything shorter must fail.
  for (size_t Len = 0; Len + 1 < Text.size(); ++Len) {
    auto P = parseGraph(llvm::StringRef(Text).take_front(Len));
    INFO("length " << Len);
    REQUIRE(!P);
    std::string Msg = llvm::toString(P.takeError());
    CHECK(Msg.find(':') != std::string::npos);
  }
}

TEST_CASE("random bytes never crash the parser", "[graph]") {
  std::string Valid = print(*buildConvNet());
  uint32_t S = 12345;
  auto Next = [&] { return S = S * 1664525u + 1013904223u; };
  for (int Round = 0; Round < 2000; ++Round) {
    std::string Text = Valid;
    for (int K = 0; K < 1 + Round % 4; ++K)
      Text[Next() % Text.size()] = static_cast<char>(Next() >> 24);
    auto P = parseGraph(Text);
    if (P)
      llvm::consumeError(verifyGraph(**P)); // must not crash either
    else
      llvm::consumeError(P.takeError());
  }
  for (int Round = 0; Round < 500; ++Round) {
    std::string Text(Next() % 64, ' ');
    static const char Alphabet[] = "graph@%()[]{}<>,:;=-0123456789.ef\"\\x q";
    for (char &C : Text)
      C = Alphabet[Next() % (sizeof(Alphabet) - 1)];
    auto P = parseGraph(Text);
    if (!P)
      llvm::consumeError(P.takeError());
  }
}

TEST_CASE("the verifier names the node", "[graph]") {
  SECTION("wrong result type") {
    auto G = buildConvNet();
    nodeAt(*G, 1).result()->Type.Shape = {1, 4, 7, 7};
    std::string E = verifyError(*G);
    CHECK(contains(E, "node 'conv1' (Conv): result %conv1 has type "
                      "f32[1,4,7,7] but the op gives f32[1,4,8,8]"));
  }
  SECTION("operand defined later") {
    auto G = buildConvNet();
    Node *Conv = &nodeAt(*G, 1);
    Node *Relu = G->Nodes.back().get();
    Conv->Operands[0] = Relu->result();
    CHECK(contains(verifyError(*G), "node 'conv1' (Conv): operand 0 "
                                    "%relu/1:0 is not defined before"));
  }
  SECTION("null operand and bad operand count") {
    auto G = buildConvNet();
    Node *Relu = G->Nodes.back().get();
    Relu->Operands[0] = nullptr;
    CHECK(contains(verifyError(*G), "operand 0 is null"));
    Relu->Operands.clear();
    CHECK(contains(verifyError(*G), "node 'relu/1:0' (LeakyRelu): has 0 "
                                    "operands"));
  }
  SECTION("duplicate names and undefined outputs") {
    auto G = buildConvNet();
    G->Nodes.back()->result()->Name = "conv1";
    CHECK(contains(verifyError(*G), "value name %conv1 is used twice"));
    auto H = buildConvNet();
    Value Stray("stray", TensorType(ElemType::F32, {1}));
    H->Outputs.push_back(&Stray);
    CHECK(contains(verifyError(*H), "graph output 2 %stray is not defined"));
  }
  SECTION("constant type") {
    auto G = buildConvNet();
    G->Nodes.front()->result()->Type = TensorType(ElemType::F32, {108});
    CHECK(contains(verifyError(*G), "node 'w' (Constant): result %w has type "
                                    "f32[108] but the op gives f32[4,3,3,3]"));
  }
  SECTION("every bad node is reported at once") {
    auto G = buildConvNet();
    G->Nodes.back()->Attrs.erase("alpha");
    nodeAt(*G, 1).Attrs["group"] = int64_t(2);
    std::string E = verifyError(*G);
    CHECK(contains(E, "node 'conv1' (Conv)"));
    CHECK(contains(E, "node 'relu/1:0' (LeakyRelu): missing attribute "
                      "'alpha'"));
  }
}

TEST_CASE("the verifier checks fusion groups", "[graph]") {
  auto Build = [](const std::string &Body) {
    return parse("graph @main(%x: f32[4], %y: f32[2,4]) -> (%out) {\n" + Body +
                 "  return %out\n}\n");
  };
  auto GroupError = [&](const std::string &Body) {
    return verifyError(*Build(Body));
  };
  // The anchor of group 0 in most sections.
  const std::string A =
      "  %a = Relu(%x) {fusion_group = 0} : f32[4] loc(\"a\")\n";
  SECTION("a valid chain") {
    auto G = Build(A + "  %b = Exp(%a) {fusion_group = 0} : f32[4] loc(\"b\")\n"
                       "  %out = Neg(%b) {fusion_group = 0} : f32[4] "
                       "loc(\"c\")\n");
    CHECK(verifyMessage(*G) == "");
  }
  SECTION("a non-elementwise member") {
    CHECK(contains(GroupError(A + "  %out = Softmax(%a) {axis = 0, "
                                  "fusion_group = 0} : f32[4] loc(\"sm\")\n"),
                   "node 'sm' (Softmax): is in the fusion group of 'a' but is "
                   "not elementwise"));
  }
  SECTION("a member that skips the previous one") {
    CHECK(contains(
        GroupError(A + "  %b = Exp(%x) {fusion_group = 0} : f32[4] loc(\"b\")\n"
                       "  %out = Add(%a, %b) : f32[4] loc(\"c\")\n"),
        "node 'b' (Exp): does not use %a"));
  }
  SECTION("an intermediate with another user") {
    CHECK(contains(
        GroupError(A + "  %b = Exp(%a) {fusion_group = 0} : f32[4] loc(\"b\")\n"
                       "  %out = Add(%a, %b) : f32[4] loc(\"c\")\n"),
        "node 'a' (Relu): is fused into 'b'"));
  }
  SECTION("an intermediate that is a graph output") {
    auto G = parse("graph @main(%x: f32[4]) -> (%a, %b) {\n"
                   "  %a = Relu(%x) {fusion_group = 3} : f32[4] loc(\"a\")\n"
                   "  %b = Exp(%a) {fusion_group = 3} : f32[4] loc(\"b\")\n"
                   "  return %a, %b\n}\n");
    CHECK(contains(verifyError(*G), "graph output"));
  }
  SECTION("a member that broadcasts past the anchor's shape") {
    CHECK(contains(GroupError(A + "  %out = Add(%a, %y) {fusion_group = 0} : "
                                  "f32[2,4] loc(\"b\")\n"),
                   "node 'b' (Add): result shape differs"));
  }
  SECTION("a constant anchor") {
    CHECK(contains(
        GroupError("  %k = Constant() {fusion_group = 0, value = dense<f32[4]: "
                   "[1.0, 2.0, 3.0, 4.0]>} : f32[4] loc(\"k\")\n"
                   "  %out = Add(%k, %x) {fusion_group = 0} : f32[4] "
                   "loc(\"b\")\n"),
        "node 'k' (Constant): a Constant cannot anchor"));
  }
}
