//===- LoopIRTest.cpp - Loop IR printer, parser and verifier --------------===//
//
// The text form round-trips (print, parse, print gives the same bytes),
// float immediates come back bit for bit, malformed text (every truncation,
// random byte changes) gives `line:col:` errors and never a crash, and the
// verifier rejects ill-scoped and ill-typed kernels, naming the kernel.
// Ill-typed trees are built node by node here, since the constructors
// assert on them.
//
//===----------------------------------------------------------------------===//

#include "compiler/Loop.h"
#include "llvm/Support/raw_ostream.h"
#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <regex>

using namespace tidal;

namespace {

const DataType F32(ScalarType::F32), I64(ScalarType::I64),
    I32(ScalarType::I32), Bool(ScalarType::Bool);

std::string print(const Program &P, LoopPrintOptions Opts = {}) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printProgram(P, OS, Opts);
  return OS.str();
}

std::string printE(const Expr &E) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printExpr(E, OS);
  return OS.str();
}

std::unique_ptr<Program> parseOK(const std::string &Text) {
  auto P = parseProgram(Text);
  if (!P)
    FAIL("parse failed: " << llvm::toString(P.takeError()) << "\n" << Text);
  return std::move(*P);
}

std::string parseError(const std::string &Text) {
  auto P = parseProgram(Text);
  if (P)
    return "";
  return llvm::toString(P.takeError());
}

std::string verifyError(const Program &P) {
  llvm::Error E = verifyProgram(P);
  return E ? llvm::toString(std::move(E)) : "";
}

/// A program of one kernel, Name(Params) { Body }, and nothing else.
Program oneKernel(const std::string &Name, std::vector<BufferDecl> Params,
                  Stmt Body) {
  Program P;
  Kernel K;
  K.Name = Name;
  K.Params = std::move(Params);
  K.Body = std::move(Body);
  P.Kernels.push_back(K);
  return P;
}

/// A program whose kernel stores immediate Imm to %y[0], a buffer of Imm's
/// type.
Program storing(Expr Imm) {
  return oneKernel("k", {{"y", Imm->Type.Scalar, 1, false}},
                   store("y", intImm(0), Imm));
}

/// The immediate storing(Imm) stores after a print and a parse.
Expr reparsed(const Expr &Imm) {
  return parseOK(print(storing(Imm)))->Kernels[0].Body->Value;
}

/// A program that uses every statement and expression kind, every loop
/// kind, every directive and every storage kind.
Program everything() {
  Program P;
  P.Name = "net/with space";
  P.Inputs.push_back({"input:0", TensorType(ElemType::F32, {1, 3, 4})});
  TensorType Q(ElemType::U8, {8});
  Q.Quant = Quantization{{0.25f, 1e-5f}, {128, 3}, 0};
  P.Inputs.push_back({"q\"\\\n", Q});
  P.Outputs.push_back({"out", TensorType(ElemType::F32, {12})});
  P.Weights = {0x00, 0x00, 0x80, 0x3F, 0xFF, 0x01, 0x7E, 0x80};
  P.TempSizes = {48, 7};
  P.WorkspaceSize = 128;

  Kernel K;
  K.Name = "k0";
  K.Params = {{"x", ScalarType::F32, 12, true},
              {"w", ScalarType::F32, 2, true},
              {"q", ScalarType::U8, 8, true},
              {"y", ScalarType::F32, 12, false}};
  Expr I = var("i"), J = var("j");
  Expr LoadX = load("x", F32, I);
  Stmt S1 = letStmt(
      "a", binary(BinaryOp::Mul, LoadX, floatImm(0.1)),
      store("y", I,
            select(lt(var("a", F32), floatImm(-0.0)),
                   call("exp", F32, {var("a", F32)}),
                   binary(BinaryOp::Div, var("a", F32), floatImm(1e300)))));
  Stmt Loop1 = forLoop("i", intImm(0), intImm(12), ForKind::Vectorized, S1);
  Stmt S2 = ifThen(eq(J % 2, intImm(0)),
                   store("y", J, cast(F32, load("q", DataType(ScalarType::U8), J))),
                   store("y", J + intImm(INT64_MIN), floatImm(INFINITY)));
  Stmt Loop2 = forLoop("j", intImm(1), intImm(4) - intImm(1), ForKind::Parallel, S2);
  Stmt Alloc = allocate(
      "buf", ScalarType::I32, 4,
      seq({forLoop("u", intImm(0), intImm(4), ForKind::Unrolled,
                   store("buf", var("u"),
                         binary(BinaryOp::Shl, cast(I32, var("u")),
                                intImm(3, I32)))),
           store("y", ramp(intImm(0), intImm(2), 4),
                 cast(DataType(ScalarType::F32, 4),
                      load("buf", DataType(ScalarType::I32, 4),
                           ramp(intImm(0), intImm(1), 4)))),
           ifThen(logicalNot(intImm(1, Bool)), seq({}))}));
  Stmt Gpu = forLoop(
      "b", intImm(0), intImm(2), ForKind::GpuBlock,
      forLoop("t", intImm(0), intImm(2), ForKind::GpuThread,
              store("y", ramp(var("b") * 2 + var("t"), intImm(1), 2),
                    binary(BinaryOp::Add, broadcast(floatImm(NAN), 2),
                           load("w", DataType(ScalarType::F32, 2),
                                ramp(intImm(0), intImm(1), 2))))));
  K.Body = seq({Loop1, Loop2, Alloc, Gpu});
  K.Sched = {{Directive::Split, {"i", "i.o", "i.i"}, {8}},
             {Directive::Reorder, {"t", "b"}, {}},
             {Directive::Tile, {"b", "t", "bo", "to", "bi", "ti"}, {2, 1}},
             {Directive::Vectorize, {"i.i"}, {}},
             {Directive::Unroll, {"u"}, {}},
             {Directive::Parallel, {"b"}, {}},
             {Directive::GpuBlock, {"b"}, {}},
             {Directive::GpuThread, {"t"}, {}},
             {Directive::ComputeAt, {"i", "u"}, {}}};
  P.Kernels.push_back(K);

  Kernel K1;
  K1.Name = "k1";
  K1.Params = {{"t", ScalarType::F32, 12, true}, {"o", ScalarType::F32, 12, false}};
  K1.Body = store("o", intImm(0),
                  min(max(load("t", F32, intImm(0)), floatImm(0.0)),
                      call("fma", F32, {floatImm(1.5), floatImm(2.25), floatImm(3e-7)})));
  P.Kernels.push_back(K1);

  P.Calls.push_back({"k0",
                     {{StorageKind::Input, 0, 0},
                      {StorageKind::Weights, 0, 0},
                      {StorageKind::Input, 1, 0},
                      {StorageKind::Temp, 0, 0}}});
  P.Calls.push_back({"k1", {{StorageKind::Temp, 0, 0}, {StorageKind::Output, 0, 0}}});
  P.Calls.push_back({"k1", {{StorageKind::Workspace, 0, 64}, {StorageKind::Output, 0, 0}}});
  return P;
}

bool isLineColError(const std::string &Msg) {
  return std::regex_search(Msg, std::regex("^[0-9]+:[0-9]+: "));
}

} // namespace

TEST_CASE("loop IR: a program with every construct verifies and round-trips", "[loop-ir]") {
  Program P = everything();
  REQUIRE(verifyError(P) == "");
  std::string Text = print(P);
  auto Q = parseOK(Text);
  CHECK(print(*Q) == Text);
  CHECK(verifyError(*Q) == "");
  CHECK(Q->Name == P.Name);
  CHECK(Q->Inputs[1].Name == P.Inputs[1].Name);
  CHECK(Q->Inputs[1].Type == P.Inputs[1].Type);
  CHECK(Q->Weights == P.Weights);
  CHECK(Q->TempSizes == P.TempSizes);
  CHECK(Q->WorkspaceSize == 128);
  REQUIRE(Q->Kernels.size() == 2);
  CHECK(Q->Kernels[0].Sched.size() == 9);
  CHECK(Q->Kernels[0].Params[3].ReadOnly == false);
  CHECK(Q->Calls[2].Args[0] == BufferBinding{StorageKind::Workspace, 0, 64});
}

TEST_CASE("loop IR: the printed form is readable", "[loop-ir]") {
  Expr I = var("i");
  CHECK(printE(I * 256 + var("j")) == "((%i * 256) + %j)");
  CHECK(printE(load("x", F32, I)) == "load %x[%i]:f32");
  CHECK(printE(floatImm(1.5)) == "1.5:f32");
  CHECK(printE(floatImm(2.0)) == "2.0:f32");
  CHECK(printE(intImm(-3, I32)) == "-3:i32");
  CHECK(printE(ramp(I, intImm(1), 8)) == "ramp(%i, 1, 8)");
  CHECK(printE(broadcast(floatImm(0.5), 4)) == "broadcast(0.5:f32, 4)");
  CHECK(printE(var("weird name")) == "%\"weird name\"");
  CHECK(printE(lt(I, intImm(3))) == "lt(%i, 3)");
}

TEST_CASE("loop IR: float immediates round-trip bit for bit", "[loop-ir]") {
  const double Values[] = {0.1,      1.0 / 3,  -0.0,    0.0,     DBL_MAX,
                           DBL_MIN,  5e-324,   1e-310,  -2.5e17, 123456789.0,
                           INFINITY, -INFINITY, 3.4028234663852886e38,
                           1.1754943508222875e-38, 0.30000000000000004};
  for (double V : Values) {
    Expr Imm = floatImm(V, DataType(ScalarType::F64));
    double Got = reparsed(Imm)->FloatValue;
    INFO("value " << V << " printed as " << print(storing(Imm)));
    CHECK(std::memcmp(&Got, &V, sizeof V) == 0);
  }
  CHECK(std::isnan(reparsed(floatImm(NAN))->FloatValue));
}

TEST_CASE("loop IR: integer immediates keep their full range", "[loop-ir]") {
  for (int64_t V : {INT64_MIN, INT64_MAX, int64_t(0), int64_t(-1)})
    CHECK(reparsed(intImm(V))->IntValue == V);
  CHECK(isLineColError(parseError(
      "program @p {\n kernel @k(%y: i64[1]) {\n %y[0] = 9223372036854775808\n }\n}\n")));
}

TEST_CASE("loop IR: elided weights print but do not parse", "[loop-ir]") {
  Program P = everything();
  LoopPrintOptions Opts;
  Opts.ElideWeights = true;
  std::string Text = print(P, Opts);
  CHECK(Text.find("weights 8 <elided>") != std::string::npos);
  std::string Err = parseError(Text);
  CHECK(Err.find("elided") != std::string::npos);
  CHECK(isLineColError(Err));
}

TEST_CASE("loop IR: malformed text gives line:column errors", "[loop-ir]") {
  CHECK(parseError("") == "1:1: unexpected end of text: expected 'program'");
  CHECK(parseError("program @p {\n  bogus\n}") ==
        "2:3: expected input, output, weights, temp, workspace, kernel or call");
  CHECK(parseError("program @p {\n  input 1 \"x\" : f32[1]\n}") ==
        "2:9: input 1 out of order: expected 0");
  CHECK(parseError("program @p {\n  weights 2 0x01\n}") ==
        "2:13: the weights' hex digits do not hold 2 bytes");
  CHECK(parseError("program @p {\n kernel @k(%y: f32[1]) {\n"
                   "  %y[0] = (1.0:f32 + 1)\n }\n}") ==
        "3:20: add of different types f32 and i64");
  CHECK(parseError("program @p {\n kernel @k(%y: f32[1]) {\n"
                   "  %y[0] = 1.5:i32\n }\n}") ==
        "3:11: float immediate of non-float type i32");
  CHECK(parseError("program @p {\n kernel @k(%y: f32[1]) {\n"
                   "  for %i from 0 extent 4 sideways {\n  }\n }\n}") ==
        "3:26: expected a loop kind (serial, parallel, vectorized, unrolled, "
        "gpu_block, gpu_thread)");
  CHECK(parseError("program @p {\n kernel @k(%y: f32[1]) {\n"
                   "  %y[0] = load %y[ramp(0, 1, 4)]:f32\n }\n}") ==
        "3:11: load index must be i64 with the result's 1 lanes, not i64x4");
  CHECK(parseError("program @p {\n} trailing") ==
        "2:3: expected the end of the text after the program");
  CHECK(parseError("program @p {\n  workspace 1 $\n}") ==
        "2:15: unexpected character '$'");
}

TEST_CASE("loop IR: every truncation of a valid text is an error, not a crash",
          "[loop-ir]") {
  std::string Text = print(everything());
  size_t Closing = Text.rfind('}');
  for (size_t N = 0; N <= Closing; ++N) {
    std::string Err = parseError(Text.substr(0, N));
    INFO("prefix of " << N << " bytes");
    CHECK(isLineColError(Err));
  }
}

TEST_CASE("loop IR: random byte changes never crash the parser", "[loop-ir]") {
  std::string Text = print(everything());
  const char Junk[] = "(){}[]%@\":,-0x9.e;<> \n\\zq";
  uint32_t S = 12345;
  for (int Round = 0; Round < 3000; ++Round) {
    std::string T = Text;
    for (int K = 0; K < 3; ++K) {
      S = S * 1664525u + 1013904223u;
      size_t Pos = (S >> 8) % T.size();
      S = S * 1664525u + 1013904223u;
      T[Pos] = Junk[(S >> 8) % (sizeof(Junk) - 1)];
    }
    auto P = parseProgram(T);
    if (!P) {
      CHECK(isLineColError(llvm::toString(P.takeError())));
      continue;
    }
    // Whatever parses prints and parses back to the same text.
    std::string Again = print(**P);
    auto Q = parseProgram(Again);
    REQUIRE(static_cast<bool>(Q));
    CHECK(print(**Q) == Again);
    llvm::consumeError(verifyProgram(**P));
  }
}

TEST_CASE("loop IR: deep nesting is an error, not a stack overflow", "[loop-ir]") {
  std::string Deep = "program @p {\n kernel @k(%y: i64[1]) {\n %y[0] = ";
  for (int I = 0; I < 100000; ++I)
    Deep += "(";
  CHECK(parseError(Deep).find("nested too deeply") != std::string::npos);
}

namespace {
/// A one-kernel program around Body with buffers %x (readonly) and %y.
Program withBody(Stmt Body) {
  return oneKernel(
      "kk", {{"x", ScalarType::F32, 8, true}, {"y", ScalarType::F32, 8, false}},
      std::move(Body));
}

/// A Binary node built without the constructor's type assertion.
Expr rawBinary(BinaryOp Op, Expr A, Expr B) {
  auto N = std::make_shared<ExprNode>();
  N->Kind = ExprKind::Binary;
  N->Op = Op;
  N->Type = A->Type;
  N->Operands = {A, B};
  return N;
}

Stmt rawStore(const std::string &Buf, Expr Index, Expr Value) {
  auto N = std::make_shared<StmtNode>();
  N->Kind = StmtKind::Store;
  N->Name = Buf;
  N->Indices = {Index};
  N->Value = Value;
  return N;
}
} // namespace

TEST_CASE("loop IR: the verifier rejects ill-typed and ill-scoped kernels", "[loop-ir]") {
  auto Err = [](Stmt Body) { return verifyError(withBody(std::move(Body))); };
  Expr I = var("i");
  auto Loop = [&](Stmt Body) { return forRange("i", 8, std::move(Body)); };

  CHECK(Err(Loop(store("y", I, load("x", F32, I)))) == "");
  CHECK(Err(Loop(store("y", I, rawBinary(BinaryOp::Add, floatImm(1), intImm(1))))) ==
        "kernel 'kk': add of different types f32 and i64");
  CHECK(Err(Loop(rawStore("y", I, broadcast(floatImm(1), 4)))) ==
        "kernel 'kk': store to '%y': index must be i64x4, not i64");
  CHECK(Err(Loop(store("y", I, intImm(1, I32)))) ==
        "kernel 'kk': store of i32 to '%y' of f32");
  CHECK(Err(Loop(store("y", var("j"), floatImm(1)))) ==
        "kernel 'kk': '%j' is not bound by an enclosing for or let");
  CHECK(Err(Loop(store("x", I, floatImm(1)))) ==
        "kernel 'kk': store to read-only buffer '%x'");
  CHECK(Err(Loop(store("z", I, floatImm(1)))) ==
        "kernel 'kk': store to unknown buffer '%z'");
  CHECK(Err(Loop(Loop(store("y", I, floatImm(1))))) ==
        "kernel 'kk': loop name '%i' is not unique in the kernel");
  CHECK(Err(seq({Loop(store("y", I, floatImm(1))), Loop(store("y", I, floatImm(2)))})) ==
        "kernel 'kk': loop name '%i' is not unique in the kernel");
  CHECK(Err(Loop(letStmt("i", intImm(0), store("y", I, floatImm(1))))) ==
        "kernel 'kk': '%i' shadows an enclosing binding of that name");
  CHECK(Err(store("y", intImm(8), floatImm(1))) ==
        "kernel 'kk': store to '%y': constant index 8 out of range [0, 8)");
  CHECK(Err(store("y", intImm(-1), floatImm(1))) ==
        "kernel 'kk': store to '%y': constant index -1 out of range [0, 8)");
  CHECK(Err(store("y", ramp(intImm(6), intImm(1), 4),
                  load("x", DataType(ScalarType::F32, 4),
                       ramp(intImm(0), intImm(1), 4)))) ==
        "kernel 'kk': store to '%y': constant index 9 out of range [0, 8)");
  CHECK(Err(letStmt("v", floatImm(1), store("y", var("v"), floatImm(1)))) ==
        "kernel 'kk': '%v' used as i64 but bound as f32");
  CHECK(Err(store("y", intImm(0), rawBinary(BinaryOp::Shl, floatImm(1), floatImm(2)))) ==
        "kernel 'kk': shl of f32 operands");
  CHECK(Err(allocate("x", ScalarType::F32, 2, seq({}))) ==
        "kernel 'kk': allocate '%x' shadows a buffer of that name");
  CHECK(Err(allocate("t", ScalarType::F32, 2, store("t", intImm(1), floatImm(1)))) == "");
  CHECK(Err(seq({allocate("t", ScalarType::F32, 2, seq({})),
                 store("t", intImm(1), floatImm(1))})) ==
        "kernel 'kk': store to unknown buffer '%t'");
  auto IntOfFloat = intImm(1);
  std::const_pointer_cast<ExprNode>(IntOfFloat)->Type = F32;
  CHECK(Err(store("y", intImm(0), IntOfFloat)) ==
        "kernel 'kk': integer immediate 1 of float type f32");
}

TEST_CASE("loop IR: the verifier checks calls against kernels and storage", "[loop-ir]") {
  Program P = withBody(forRange("i", 8, store("y", var("i"), load("x", F32, var("i")))));
  P.Inputs.push_back({"in", TensorType(ElemType::F32, {8})});
  P.Outputs.push_back({"out", TensorType(ElemType::F32, {2, 4})});
  P.Weights.resize(40);
  P.TempSizes = {32, 31};
  P.WorkspaceSize = 64;
  auto Call = [&](BufferBinding A, BufferBinding B) {
    Program Q = P;
    Q.Calls.push_back({"kk", {A, B}});
    return verifyError(Q);
  };
  BufferBinding In{StorageKind::Input, 0, 0}, Out{StorageKind::Output, 0, 0};
  CHECK(Call(In, Out) == "");
  CHECK(Call({StorageKind::Weights, 0, 8}, {StorageKind::Temp, 0, 0}) == "");
  CHECK(Call({StorageKind::Workspace, 0, 32}, Out) == "");
  CHECK(Call({StorageKind::Weights, 0, 9}, Out) ==
        "call 0 to kernel 'kk': argument '%x': 32 bytes at offset 9 do not fit "
        "in the weights of 40 bytes");
  CHECK(Call(In, {StorageKind::Temp, 1, 0}) ==
        "call 0 to kernel 'kk': argument '%y': 32 bytes at offset 0 do not fit "
        "in temp 1 of 31 bytes");
  CHECK(Call(In, {StorageKind::Workspace, 0, 33}) ==
        "call 0 to kernel 'kk': argument '%y': 32 bytes at offset 33 do not fit "
        "in the workspace of 64 bytes");
  CHECK(Call(In, {StorageKind::Output, 1, 0}) ==
        "call 0 to kernel 'kk': argument '%y': output 1 out of range");
  CHECK(Call(In, {StorageKind::Temp, 2, 0}) ==
        "call 0 to kernel 'kk': argument '%y': temp 2 out of range");
  CHECK(Call(In, In) ==
        "call 0 to kernel 'kk': argument '%y': a writable parameter is bound "
        "to an input");
  Program Q = P;
  Q.Calls.push_back({"kk", {In}});
  Q.Calls.push_back({"nope", {}});
  Q.Kernels.push_back(Q.Kernels[0]);
  std::string E = verifyError(Q);
  CHECK(E.find("kernel 'kk' defined twice") != std::string::npos);
  CHECK(E.find("call 0 to kernel 'kk': 1 arguments for 2 parameters") !=
        std::string::npos);
  CHECK(E.find("call 1 to kernel 'nope': no such kernel") != std::string::npos);
}
