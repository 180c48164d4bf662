//===- CodegenTest.cpp - Loop IR Program -> object file and C header ------===//
//
// Codegen on hand-built Programs, without the frontend or the lowering:
// the firmware contract of the object (one global symbol, only runtime
// functions undefined, the weights section), byte-identical output, the
// header text, the errors a bad Program gets, and, where a C compiler is
// installed, the numbers the linked object computes.
//
//===----------------------------------------------------------------------===//

#include "codegen/Codegen.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

using namespace tidal;

namespace {

const DataType F32(ScalarType::F32), I32(ScalarType::I32);

BufferDecl param(const char *Name, ScalarType T, int64_t Size, bool ReadOnly) {
  BufferDecl D;
  D.Name = Name;
  D.Elem = T;
  D.Size = Size;
  D.ReadOnly = ReadOnly;
  return D;
}

Expr loadF(const char *Buf, Expr Index) {
  return load(Buf, F32.withLanes(Index->Type.Lanes), Index);
}

const char *const MathIntrinsics[] = {"exp", "log", "erf", "tanh", "sigmoid",
                                      "sin", "cos", "floor", "ceil", "round",
                                      "sqrt", "abs"};
constexpr int NumMath = 12;

/// y = relu(x * w + b) with 8-lane vectors; s = sum(x) through a local
/// accumulator; m[k][i] = intrinsic k of x[i] (vectors for even k);
/// t = x^w; q = x mod 0.75 (via the workspace, in two kernels).
Program makeProgram() {
  Program P;
  P.Name = "net";
  P.Inputs = {{"x", TensorType(ElemType::F32, {1, 16})}};
  P.Outputs = {{"y", TensorType(ElemType::F32, {1, 16})},
               {"s", TensorType(ElemType::F32, {})},
               {"m", TensorType(ElemType::F32, {NumMath, 16})},
               {"t", TensorType(ElemType::F32, {16})},
               {"q", TensorType(ElemType::F32, {16})}};
  P.Weights.resize(128);
  for (int I = 0; I < 16; ++I) {
    float W = 0.5f * float(I % 5) - 1.0f;
    std::memcpy(&P.Weights[4 * I], &W, 4);
  }
  float Bias = 0.25f;
  std::memcpy(&P.Weights[64], &Bias, 4);
  P.WorkspaceSize = 64;

  Kernel Relu;
  Relu.Name = "relu";
  Relu.Params = {param("x", ScalarType::F32, 16, true), param("w", ScalarType::F32, 16, true),
                 param("b", ScalarType::F32, 1, true), param("y", ScalarType::F32, 16, false)};
  Expr Idx = ramp(var("i") * 8, intImm(1), 8);
  Relu.Body = forRange(
      "i", 2,
      store("y", Idx,
            max(loadF("x", Idx) * loadF("w", Idx) + loadF("b", broadcast(intImm(0), 8)),
                floatImm(0, F32.withLanes(8)))));

  Kernel Sum;
  Sum.Name = "sum";
  Sum.Params = {param("x", ScalarType::F32, 16, true), param("s", ScalarType::F32, 1, false)};
  Sum.Body = allocate(
      "acc", ScalarType::F32, 1,
      seq({store("acc", intImm(0), floatImm(0)),
           forRange("k", 16,
                    letStmt("v", loadF("x", var("k")),
                            store("acc", intImm(0),
                                  loadF("acc", intImm(0)) + var("v", F32)))),
           store("s", intImm(0), loadF("acc", intImm(0)))}));

  Kernel Math;
  Math.Name = "math";
  Math.Params = {param("x", ScalarType::F32, 16, true),
                 param("m", ScalarType::F32, NumMath * 16, false)};
  std::vector<Stmt> Rows;
  for (int K = 0; K < NumMath; ++K) {
    if (K % 2 == 0) {
      Expr Ix = ramp(var("j") * 8, intImm(1), 8);
      Expr Out = ramp(var("j") * 8 + K * 16, intImm(1), 8);
      Rows.push_back(forRange(
          "j", 2, store("m", Out, call(MathIntrinsics[K], F32.withLanes(8), {loadF("x", Ix)}))));
    } else {
      Rows.push_back(forLoop("j", intImm(0), intImm(16), ForKind::Unrolled,
                             store("m", var("j") + K * 16,
                                   call(MathIntrinsics[K], F32, {loadF("x", var("j"))}))));
    }
  }
  Math.Body = seq(Rows);

  Kernel Pow;
  Pow.Name = "pow";
  Pow.Params = {param("x", ScalarType::F32, 16, true), param("w", ScalarType::F32, 16, true),
                param("t", ScalarType::F32, 16, false)};
  Pow.Body = forRange("j", 16, store("t", var("j"),
                                     call("pow", F32, {loadF("x", var("j")), loadF("w", var("j"))})));

  Kernel ModA;
  ModA.Name = "mod_a";
  ModA.Params = {param("x", ScalarType::F32, 16, true), param("tmp", ScalarType::F32, 16, false)};
  ModA.Body = forRange("j", 16, store("tmp", var("j"), loadF("x", var("j")) % floatImm(0.75)));
  Kernel ModB;
  ModB.Name = "mod_b";
  ModB.Params = {param("tmp", ScalarType::F32, 16, true), param("q", ScalarType::F32, 16, false)};
  ModB.Body = forRange("j", 16, store("q", var("j"), loadF("tmp", var("j"))));

  P.Kernels = {Relu, Sum, Math, Pow, ModA, ModB};
  BufferBinding X{StorageKind::Input, 0, 0}, W{StorageKind::Weights, 0, 0},
      B{StorageKind::Weights, 0, 64}, WS{StorageKind::Workspace, 0, 0};
  auto out = [](int K) { return BufferBinding{StorageKind::Output, K, 0}; };
  P.Calls = {{"relu", {X, W, B, out(0)}}, {"sum", {X, out(1)}},
             {"math", {X, out(2)}},       {"pow", {X, W, out(3)}},
             {"mod_a", {X, WS}},          {"mod_b", {WS, out(4)}}};
  return P;
}

std::string objectOf(const Program &P, const CodegenOptions &Opts) {
  llvm::SmallString<0> Buf;
  llvm::raw_svector_ostream OS(Buf);
  llvm::Error E = emitObject(P, Opts, OS);
  INFO(llvm::toString(std::move(E)));
  REQUIRE(!Buf.empty());
  return std::string(Buf.str());
}

std::string errorOf(llvm::Error E) {
  bool Failed = bool(E);
  REQUIRE(Failed);
  return llvm::toString(std::move(E));
}

std::string headerOf(const Program &P) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  emitHeader(P, OS);
  return OS.str();
}

bool contains(const std::string &Haystack, const std::string &Needle) {
  return Haystack.find(Needle) != std::string::npos;
}

struct Symbols {
  std::set<std::string> DefinedGlobal, Undefined;
  /// Section names and their alignments.
  std::map<std::string, uint64_t> Sections;
};

Symbols symbolsOf(const std::string &Object) {
  Symbols S;
  auto Buf = llvm::MemoryBuffer::getMemBuffer(Object, "net.o", false);
  auto Obj = llvm::object::ObjectFile::createObjectFile(Buf->getMemBufferRef());
  REQUIRE(bool(Obj));
  for (const llvm::object::SymbolRef &Sym : (*Obj)->symbols()) {
    auto Name = Sym.getName();
    auto Flags = Sym.getFlags();
    REQUIRE(bool(Name));
    REQUIRE(bool(Flags));
    if (*Flags & llvm::object::SymbolRef::SF_Undefined)
      S.Undefined.insert(Name->str());
    else if (*Flags & llvm::object::SymbolRef::SF_Global)
      S.DefinedGlobal.insert(Name->str());
  }
  for (const llvm::object::SectionRef &Sec : (*Obj)->sections())
    if (auto Name = Sec.getName())
      S.Sections[Name->str()] = Sec.getAlignment().value();
  return S;
}

void checkContract(const std::string &Object) {
  Symbols S = symbolsOf(Object);
  CHECK(S.DefinedGlobal ==
        std::set<std::string>{"net_run", "net_run_threaded"});
  for (const std::string &U : S.Undefined) {
    INFO("undefined symbol " << U);
    CHECK((U.rfind("tidal_", 0) == 0 || U == "memcpy" || U == "memset"));
  }
  CHECK(S.Undefined.count("tidal_logf"));
  // exp, erf, tanh and sigmoid of f32 are inline.
  CHECK_FALSE(S.Undefined.count("tidal_expf"));
  CHECK(S.Undefined.count("tidal_powf"));
  CHECK(S.Undefined.count("tidal_fmodf"));
  CHECK(S.Sections.count(".tidal.weights.net"));
}

/// The value of `#define Name value` in the header H ("" if undefined).
std::string macro(const std::string &H, llvm::StringRef Name) {
  size_t At = H.find("#define " + Name.str() + " ");
  if (At == std::string::npos)
    return "";
  llvm::StringRef Rest = llvm::StringRef(H).substr(At + 8 + Name.size());
  return Rest.split('\n').first.trim().str();
}

std::string headerOf(const Program &P, const CodegenOptions &Opts) {
  std::string H;
  llvm::raw_string_ostream OS(H);
  emitHeader(P, Opts, OS);
  return OS.str();
}

/// CRC-32 (IEEE 802.3, as zlib's crc32), bit by bit.
uint32_t crc32Bitwise(const std::vector<uint8_t> &Data) {
  uint32_t C = 0xffffffffu;
  for (uint8_t B : Data) {
    C ^= B;
    for (int K = 0; K < 8; ++K)
      C = (C >> 1) ^ (0xedb88320u & (0u - (C & 1)));
  }
  return ~C;
}
} // namespace

TEST_CASE("codegen: x86-64 object keeps the firmware contract", "[codegen]") {
  Program P = makeProgram();
  for (const char *CPU : {"", "native", "x86-64", "x86-64-v3", "znver4"}) {
    CodegenOptions Opts;
    Opts.CPU = CPU;
    INFO("cpu '" << CPU << "'");
    std::string Obj = objectOf(P, Opts);
    CHECK(Obj.compare(0, 4, "\x7f" "ELF") == 0);
    checkContract(Obj);
  }
}

TEST_CASE("codegen: the weights go in the section and alignment asked for",
          "[codegen]") {
  Program P = makeProgram();
  CodegenOptions Opts;
  CHECK(symbolsOf(objectOf(P, Opts)).Sections[".tidal.weights.net"] == 64);
  Opts.WeightsSection = ".rodata.flash";
  Opts.Align = 4096;
  for (const char *Target : {"x86-64", "cortex-a53"}) {
    INFO(Target);
    Opts.Target = Target;
    Symbols S = symbolsOf(objectOf(P, Opts));
    CHECK(S.Sections[".rodata.flash"] == 4096);
    CHECK_FALSE(S.Sections.count(".tidal.weights.net"));
    std::string H = headerOf(P, Opts);
    CHECK(macro(H, "NET_WORKSPACE_ALIGN") == "4096");
    CHECK(macro(H, "NET_WEIGHTS_ALIGN") == "4096");
    CHECK(macro(H, "NET_WEIGHTS_SECTION") == "\".rodata.flash\"");
  }
  auto Placement = [](const char *Section, uint64_t Align) {
    CodegenOptions O;
    O.WeightsSection = Section;
    O.Align = Align;
    return checkPlacement(O);
  };
  for (auto [Section, Align] :
       {std::pair{"", 64}, {"flash$1", 65536}, {".rodata.w", 128}})
    CHECK_FALSE(llvm::errorToBool(Placement(Section, Align)));
  CHECK(contains(errorOf(Placement(".bss", 64)), "read-only data, not .bss"));
  CHECK(contains(errorOf(Placement(".data.rel.ro", 64)), "not .data"));
  CHECK(contains(errorOf(Placement(".text", 64)), "not .text"));
  CHECK(contains(errorOf(Placement("a b", 64)), "only letters"));
  for (uint64_t Bad : {0, 32, 96, 1 << 17})
    CHECK(contains(errorOf(Placement("", Bad)), "a power of two from 64"));
}

TEST_CASE("codegen: external weights leave the object for the firmware's hook",
          "[codegen]") {
  Program P = makeProgram();
  CodegenOptions Opts;
  std::string Embedded = headerOf(P, Opts);
  CHECK(macro(Embedded, "NET_WEIGHTS_EXTERNAL") == "0");
  CHECK(macro(Embedded, "NET_WEIGHTS_ALIGN") == "64");
  CHECK(macro(Embedded, "NET_WEIGHTS_FILE").empty());
  CHECK_FALSE(contains(Embedded, "net_load_weights"));
  Opts.ExternalWeights = true;
  Opts.WeightsFile = "net.bin";
  for (const char *Target : {"x86-64", "cortex-a53"}) {
    INFO(Target);
    Opts.Target = Target;
    Symbols S = symbolsOf(objectOf(P, Opts));
    CHECK(S.DefinedGlobal ==
          std::set<std::string>{"net_run", "net_run_threaded"});
    CHECK(S.Undefined.count("net_load_weights"));
    for (const auto &Section : S.Sections)
      CHECK_FALSE(llvm::StringRef(Section.first).starts_with(".tidal.weights"));
  }
  std::string H = headerOf(P, Opts);
  char CRC[16];
  snprintf(CRC, sizeof CRC, "0x%08xu", unsigned(crc32Bitwise(P.Weights)));
  CHECK(macro(H, "NET_WEIGHTS_SIZE") == "128");
  CHECK(macro(H, "NET_WEIGHTS_EXTERNAL") == "1");
  CHECK(macro(H, "NET_WEIGHTS_FILE") == "\"net.bin\"");
  CHECK(macro(H, "NET_WEIGHTS_CRC32") == CRC);
  CHECK(macro(H, "NET_ERROR_NO_WEIGHTS") == "1");
  CHECK(macro(H, "NET_ERROR_WEIGHTS_ALIGN") == "2");
  CHECK(macro(H, "NET_WEIGHTS_SECTION").empty());
  CHECK(contains(H, "\nconst void *net_load_weights(void);\n"));
  std::string IR;
  llvm::raw_string_ostream OS(IR);
  Opts.Target = "x86-64";
  REQUIRE_FALSE(llvm::errorToBool(emitLLVMIR(P, Opts, OS)));
  CHECK(contains(OS.str(), "call ptr @net_load_weights()"));
  CHECK_FALSE(contains(IR, "@net_weights"));
  Opts.WeightsSection = ".rodata.w";
  CHECK(contains(errorOf(checkPlacement(Opts)), "in no section"));
  Opts.WeightsSection.clear();
  Opts.Target = "nvptx";
  CHECK(contains(errorOf(checkPlacement(Opts)), "--target nvptx"));
}

TEST_CASE("codegen: the header gives each input and output an alignment and "
          "an index by name",
          "[codegen]") {
  Program P = makeProgram(); // inputs x; outputs y, s, m, t, q (f32)
  for (const char *Name : {"image", "input.1", "a__b", "Dup", "dup", "_x", "9"})
    P.Inputs.push_back({Name, TensorType(ElemType::U8, {4})});
  P.Outputs.push_back({"packed", TensorType(ElemType::U8, {8})});
  Kernel Pack;
  Pack.Name = "pack";
  Pack.Params = {param("w", ScalarType::U64, 1, false)};
  P.Kernels.push_back(Pack);
  P.Calls.push_back({"pack", {BufferBinding{StorageKind::Output, 5, 0}}});
  std::string H = headerOf(P);
  CHECK(macro(H, "NET_INPUT_X") == "0");
  CHECK(macro(H, "NET_INPUT_IMAGE") == "1");
  CHECK(macro(H, "NET_OUTPUT_Q") == "4");
  CHECK(macro(H, "NET_OUTPUT_PACKED") == "5");
  // Not C identifiers, `__` (reserved in C++), or the same upper-cased.
  for (const char *Skipped : {"NET_INPUT_INPUT_1", "NET_INPUT_A__B",
                              "NET_INPUT_DUP", "NET_INPUT__X", "NET_INPUT_9"})
    CHECK_FALSE(contains(H, Skipped));
  CHECK(macro(H, "NET_INPUT0_ALIGN") == "4");
  CHECK(macro(H, "NET_INPUT1_ALIGN") == "1");
  CHECK(macro(H, "NET_OUTPUT1_ALIGN") == "4");
  // Written as 64-bit words by a kernel.
  CHECK(macro(H, "NET_OUTPUT5_ALIGN") == "8");
}

TEST_CASE("codegen: cortex-a53 object keeps the firmware contract", "[codegen]") {
  CodegenOptions Opts;
  Opts.Target = "cortex-a53";
  std::string Obj = objectOf(makeProgram(), Opts);
  REQUIRE(Obj.size() > 20);
  CHECK(uint8_t(Obj[18]) == 183); // e_machine EM_AARCH64
  checkContract(Obj);
}

TEST_CASE("codegen: output is byte-identical across runs", "[codegen]") {
  Program P = makeProgram();
  for (unsigned Level : {0u, 2u, 3u}) {
    CodegenOptions Opts;
    Opts.OptLevel = Level;
    CHECK(objectOf(P, Opts) == objectOf(P, Opts));
  }
  CHECK(headerOf(P) == headerOf(P));
}

TEST_CASE("codegen: LLVM IR has internal kernels and one entry point", "[codegen]") {
  std::string IR;
  llvm::raw_string_ostream OS(IR);
  CodegenOptions Opts;
  Opts.OptLevel = 0;
  llvm::Error E = emitLLVMIR(makeProgram(), Opts, OS);
  bool Failed = bool(E);
  INFO(llvm::toString(std::move(E)));
  REQUIRE(!Failed);
  OS.flush();
  CHECK(contains(IR, "define i32 @net_run(ptr"));
  CHECK(contains(IR, "define internal void @net.relu("));
  CHECK(contains(IR, "@net_weights = internal externally_initialized constant [128 x i8]"));
  CHECK(contains(IR, "section \".tidal.weights.net\", align 64"));
  CHECK(contains(IR, "llvm.loop.unroll.full"));
  CHECK(contains(IR, "llvm.maximum.v8f32"));
  CHECK(!contains(IR, " frem "));
}

TEST_CASE("codegen: header declares the contract", "[codegen]") {
  Program P = makeProgram();
  TensorType Q(ElemType::U8, {2, 3});
  Q.Quant = Quantization{{0.5f}, {128}, -1};
  P.Inputs.push_back({"q\"in", Q});
  std::string H = headerOf(P);
  CHECK(contains(H, "#ifndef TIDAL_MODEL_NET_H"));
  CHECK(contains(H, "extern \"C\" {"));
  CHECK(contains(H, "#define NET_NUM_INPUTS                   2\n"));
  CHECK(contains(H, "#define NET_NUM_OUTPUTS                  5\n"));
  CHECK(contains(H, "#define NET_WORKSPACE_SIZE               64\n"));
  CHECK(contains(H, "#define NET_WORKSPACE_ALIGN              64\n"));
  CHECK(contains(H, "#define NET_INPUT0_NAME                  \"x\"\n"));
  CHECK(contains(H, "#define NET_INPUT0_TYPE                  TIDAL_TYPE_F32\n"));
  CHECK(contains(H, "#define NET_INPUT0_DIMS                  {1, 16}\n"));
  CHECK(contains(H, "#define NET_INPUT0_SIZE                  64\n"));
  CHECK(contains(H, "#define NET_INPUT1_NAME                  \"q\\\"in\"\n"));
  CHECK(contains(H, "#define NET_INPUT1_SCALE                 0.5f\n"));
  CHECK(contains(H, "#define NET_INPUT1_ZERO_POINT            128\n"));
  CHECK(contains(H, "#define NET_OUTPUT1_RANK                 0\n"));
  CHECK(contains(H, "#define NET_OUTPUT1_DIMS                 {1}\n"));
  CHECK(contains(H, "int net_run(const void *const inputs[], void *const "
                    "outputs[], void *workspace);"));
}

TEST_CASE("codegen: bad programs and options are errors", "[codegen]") {
  CodegenOptions Opts;
  llvm::SmallString<0> Buf;
  llvm::raw_svector_ostream OS(Buf);
  {
    Program P = makeProgram();
    P.Calls[4].Args[1] = {StorageKind::Temp, 0, 0};
    CHECK(contains(errorOf(emitObject(P, Opts, OS)), "still a temporary"));
  }
  {
    Program P = makeProgram();
    P.Calls[4].Args[1] = {StorageKind::Workspace, 0, 32};
    CHECK(contains(errorOf(emitObject(P, Opts, OS)), "outside the workspace"));
  }
  {
    Program P = makeProgram();
    P.Kernels[1].Body = forLoop("g", intImm(0), intImm(4), ForKind::GpuBlock,
                                store("s", intImm(0), floatImm(1)));
    CHECK(contains(errorOf(emitObject(P, Opts, OS)), "bound to the GPU"));
  }
  {
    Program P = makeProgram();
    P.Kernels[1].Body = store("s", intImm(0), call("frobnicate", F32, {floatImm(1)}));
    CHECK(contains(errorOf(emitObject(P, Opts, OS)), "unknown intrinsic"));
  }
  CodegenOptions Bad;
  Bad.Target = "mips";
  CHECK(contains(errorOf(emitObject(makeProgram(), Bad, OS)), "unknown target"));
  CHECK(contains(errorOf(targetInfo(Bad).takeError()), "unknown target"));
  Bad.Target = "x86-64";
  Bad.CPU = "pentium9000";
  CHECK(contains(errorOf(emitObject(makeProgram(), Bad, OS)), "unknown CPU"));
  Bad.Target = "nvptx";
  Bad.CPU = "";
  // nvptx codegen needs the device math library for the math intrinsics.
  CHECK(contains(errorOf(emitObject(makeProgram(), Bad, OS)),
                 "no device math library"));
}

TEST_CASE("codegen: targetInfo follows the CPU", "[codegen]") {
  auto info = [](const char *Target, const char *CPU) {
    CodegenOptions Opts;
    Opts.Target = Target;
    Opts.CPU = CPU;
    auto I = targetInfo(Opts);
    REQUIRE(bool(I));
    return *I;
  };
  // The facts come from each CPU's published feature set.
  auto S = [&](const char *Target, const char *CPU) {
    return info(Target, CPU).str();
  };
  CHECK(S("x86-64", "x86-64") == "x86-64 cpu=x86-64 vector-bits=128 "
                                 "vector-registers=16 l1d=32768 l2=1048576 "
                                 "prefetch=4096");
  CHECK(S("x86-64", "x86-64-v3") == "x86-64 cpu=x86-64-v3 vector-bits=256 "
                                    "vector-registers=16 fma l1d=32768 "
                                    "l2=1048576 prefetch=4096");
  // The default is that fixed CPU, never the host's (docs/targets.md);
  // `native` is the host's.
  CHECK(S("x86-64", "") == S("x86-64", "x86-64-v3"));
  CHECK(info("x86-64", "native").CPU == llvm::sys::getHostCPUName().str());
  // Zen 4: AVX-512 with VNNI and VPOPCNTDQ.
  CHECK(S("x86-64", "znver4") == "x86-64 cpu=znver4 vector-bits=512 "
                                 "vector-registers=32 fma avx512 vnni "
                                 "vpopcntdq l1d=32768 l2=1048576 "
                                 "prefetch=4096");
  // Skylake-SP: AVX-512 without VNNI (Cascade Lake added it).
  CHECK(S("x86-64", "skylake-avx512") == "x86-64 cpu=skylake-avx512 "
                                         "vector-bits=512 vector-registers=32 "
                                         "fma avx512 l1d=32768 l2=1048576 "
                                         "prefetch=4096");
  CHECK(info("x86-64", "cascadelake").VNNI);
  // Alder Lake: AVX-VNNI on 256-bit vectors, no AVX-512.
  TargetInfo ADL = info("x86-64", "alderlake");
  CHECK((ADL.VNNI && !ADL.AVX512 && ADL.VectorBits == 256));
  // Cortex-A53: NEON, 32 registers, no dot product (Armv8.0).
  CHECK(S("cortex-a53", "") == "cortex-a53 cpu=cortex-a53 vector-bits=128 "
                               "vector-registers=32 fma neon l1d=32768 "
                               "l2=524288");
  CHECK(info("cortex-a53", "cortex-a55").DotProd);
  CHECK(info("nvptx", "sm_90").isGPU());
}

TEST_CASE("codegen: TargetInfo::generic knows the three targets", "[codegen]") {
  for (const char *T : {"x86-64", "cortex-a53", "nvptx"}) {
    llvm::Expected<TargetInfo> I = TargetInfo::generic(T);
    REQUIRE(bool(I));
    CHECK(I->Name == T);
  }
  CHECK(contains(errorOf(TargetInfo::generic("mips").takeError()),
                 "unknown target 'mips'"));
}

//===----------------------------------------------------------------------===//
// Linked and run (where `cc` and the runtime archive exist)
//===----------------------------------------------------------------------===//

namespace {

const char *DriverSource = R"(
#include "net.h"
#include <stdio.h>
int main(int argc, char **argv) {
  float x[16], y[16], s, m[12 * 16], t[16], q[16];
  static _Alignas(64) unsigned char ws[NET_WORKSPACE_SIZE];
  const void *in[NET_NUM_INPUTS] = {x};
  void *out[NET_NUM_OUTPUTS] = {y, &s, m, t, q};
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(x, 4, 16, f) != 16) return 3;
  fclose(f);
  if (net_run(in, out, ws) != 0) return 4;
  f = fopen(argv[2], "wb");
  fwrite(y, 4, 16, f); fwrite(&s, 4, 1, f); fwrite(m, 4, 12 * 16, f);
  fwrite(t, 4, 16, f); fwrite(q, 4, 16, f);
  fclose(f);
  return 0;
}
)";

std::string runtimeArchive() {
  std::string Exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  llvm::SmallString<256> Path(llvm::sys::path::parent_path(Exe));
  llvm::sys::path::append(Path, "..", "lib", "libtidalrt.a");
  return llvm::sys::fs::exists(Path) ? std::string(Path.str()) : "";
}

void writeFile(const std::string &Path, llvm::StringRef Data) {
  std::error_code EC;
  llvm::raw_fd_ostream OS(Path, EC);
  REQUIRE(!bool(EC));
  OS << Data;
}

/// Links D/main.c, D/net.o and the runtime into D/net, runs it on D/in.bin
/// and returns what it wrote to D/out.bin.
std::unique_ptr<llvm::MemoryBuffer> linkAndRun(const std::string &D,
                                               const std::string &CC,
                                               const std::string &Runtime) {
  std::string Exe = D + "/net", Main = D + "/main.c", Obj = D + "/net.o",
              In = D + "/in.bin", Out = D + "/out.bin";
  llvm::StringRef Args[] = {CC,  "-std=c11", "-o", Exe, Main,
                            Obj, Runtime,    "-I", D};
  std::string Err;
  int RC = llvm::sys::ExecuteAndWait(CC, Args, std::nullopt, {}, 0, 0, &Err);
  INFO(Err);
  REQUIRE(RC == 0);
  llvm::StringRef RunArgs[] = {Exe, In, Out};
  RC = llvm::sys::ExecuteAndWait(Exe, RunArgs, std::nullopt, {}, 0, 0, &Err);
  REQUIRE(RC == 0);
  auto Bytes = llvm::MemoryBuffer::getFile(Out);
  REQUIRE(bool(Bytes));
  return std::move(*Bytes);
}

double refMath(int K, float X) {
  switch (K) {
  case 0: return std::exp(X);
  case 1: return std::log(X);
  case 2: return std::erf(X);
  case 3: return std::tanh(X);
  case 4: return 1.0 / (1.0 + std::exp(-double(X)));
  case 5: return std::sin(X);
  case 6: return std::cos(X);
  case 7: return std::floor(X);
  case 8: return std::ceil(X);
  case 9: return std::nearbyint(X);
  case 10: return std::sqrt(X);
  default: return std::fabs(X);
  }
}

void checkClose(double Got, double Want, const char *What, int I) {
  INFO(What << "[" << I << "]: got " << Got << " want " << Want);
  if (std::isnan(Want))
    CHECK(std::isnan(Got));
  else if (std::isinf(Want))
    CHECK(Got == Want);
  else
    CHECK(std::fabs(Got - Want) <= 2e-7 * (1 + std::fabs(Want)));
}

} // namespace

TEST_CASE("codegen: linked objects compute the right numbers", "[codegen][link]") {
  auto CC = llvm::sys::findProgramByName("cc");
  std::string Runtime = runtimeArchive();
  if (!CC || Runtime.empty()) {
    WARN("no cc or no libtidalrt.a next to the test binary: link test skipped");
    return;
  }
  llvm::SmallString<128> Dir;
  std::error_code EC = llvm::sys::fs::createUniqueDirectory("tidal-codegen-test", Dir);
  REQUIRE(!EC);
  std::string D(Dir.str());
  Program P = makeProgram();
  float X[16];
  for (int I = 0; I < 16; ++I)
    X[I] = (float(I) - 7.5f) * 0.375f;
  X[3] = -0.0f;
  X[5] = 2.5f; // round half to even
  X[6] = -1.5f;
  writeFile(D + "/in.bin", llvm::StringRef(reinterpret_cast<char *>(X), sizeof X));
  writeFile(D + "/net.h", headerOf(P));
  writeFile(D + "/main.c", DriverSource);
  for (const char *CPU : {"native", "x86-64"}) { // host, then baseline
    CodegenOptions Opts;
    Opts.CPU = CPU;
    INFO("cpu '" << CPU << "'");
    writeFile(D + "/net.o", objectOf(P, Opts));
    std::unique_ptr<llvm::MemoryBuffer> Bytes = linkAndRun(D, *CC, Runtime);
    REQUIRE(Bytes->getBufferSize() == 4 * (16 + 1 + 12 * 16 + 16 + 16));
    const float *R = reinterpret_cast<const float *>(Bytes->getBufferStart());
    const float *W = reinterpret_cast<const float *>(P.Weights.data());
    double Sum = 0;
    for (int I = 0; I < 16; ++I) {
      checkClose(R[I], std::max(X[I] * W[I] + 0.25f, 0.0f), "relu", I);
      Sum += X[I];
      for (int K = 0; K < NumMath; ++K)
        checkClose(R[17 + K * 16 + I], refMath(K, X[I]), MathIntrinsics[K], I);
      checkClose(R[17 + 192 + I], std::pow(X[I], W[I]), "pow", I);
      checkClose(R[17 + 208 + I], std::fmod(X[I], 0.75f), "fmod", I);
    }
    checkClose(R[16], Sum, "sum", 0);
  }
  llvm::sys::fs::remove_directories(D);
}

// Two byte dot products (compiler/Tensorize.h) of extreme bytes (u8 up to
// 255, i8 down to -128): 16 lanes reading the same four u8 per step
// (broadcast) and 8 lanes reading four of their own. Tensorized nests are
// vpdpbusd where the CPU has VNNI (the host's, when it does) and their
// loops elsewhere (x86-64 baseline); both must give the loops' integers.
namespace {
const char *ByteDotProgram = R"(
program @net {
  input 0 "a" : u8[64]
  input 1 "b" : i8[1024]
  input 2 "a2" : u8[128]
  input 3 "b2" : i8[128]
  output 0 "c" : i32[16]
  output 1 "c2" : i32[8]
  kernel @splat(%a: u8[64] readonly, %b: i8[1024] readonly, %c: i32[16]) {
    for %i from 0 extent 16 serial {
      %c[%i] = 0:i32
    }
    for %ko from 0 extent 16 serial {
      for %j from 0 extent 16 tensorized {
        for %r from 0 extent 4 serial {
          %c[%j] = (load %c[%j]:i32 + (cast(load %a[((%ko * 4) + %r)]:u8):i32 * cast(load %b[(((%ko * 64) + (%j * 4)) + %r)]:i8):i32))
        }
      }
    }
  }
  kernel @lanes(%a2: u8[128] readonly, %b2: i8[128] readonly, %c2: i32[8]) {
    for %i from 0 extent 8 serial {
      %c2[%i] = 0:i32
    }
    for %ko from 0 extent 4 serial {
      for %j from 0 extent 8 tensorized {
        for %r from 0 extent 4 serial {
          %c2[%j] = ((cast(load %b2[(((%ko * 32) + (%j * 4)) + %r)]:i8):i32 * cast(load %a2[(((%ko * 32) + (%j * 4)) + %r)]:u8):i32) + load %c2[%j]:i32)
        }
      }
    }
  }
  call @splat(input 0, input 1, output 0)
  call @lanes(input 2, input 3, output 1)
}
)";

const char *ByteDotDriver = R"(
#include "net.h"
#include <stdio.h>
int main(int argc, char **argv) {
  unsigned char a[64], a2[128];
  signed char b[1024], b2[128];
  int c[16], c2[8];
  static _Alignas(64) unsigned char ws[NET_WORKSPACE_SIZE + 1];
  const void *in[NET_NUM_INPUTS] = {a, b, a2, b2};
  void *out[NET_NUM_OUTPUTS] = {c, c2};
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(a, 1, 64, f) != 64 || fread(b, 1, 1024, f) != 1024 ||
      fread(a2, 1, 128, f) != 128 || fread(b2, 1, 128, f) != 128)
    return 3;
  fclose(f);
  if (net_run(in, out, ws) != 0) return 4;
  f = fopen(argv[2], "wb");
  fwrite(c, 4, 16, f); fwrite(c2, 4, 8, f);
  fclose(f);
  return 0;
}
)";
} // namespace

TEST_CASE("codegen: a tensorized byte dot product computes its loops' numbers",
          "[codegen][link]") {
  auto P = parseProgram(ByteDotProgram);
  REQUIRE(bool(P));
  REQUIRE(!verifyProgram(**P));
  auto LLVMIROf = [&](const char *CPU) {
    CodegenOptions Opts;
    Opts.CPU = CPU;
    std::string S;
    llvm::raw_string_ostream OS(S);
    REQUIRE(!emitLLVMIR(**P, Opts, OS));
    return OS.str();
  };
  CHECK(contains(LLVMIROf("znver4"), "@llvm.x86.avx512.vpdpbusd.512("));
  CHECK(contains(LLVMIROf("znver4"), "@llvm.x86.avx512.vpdpbusd.256("));
  CHECK(!contains(LLVMIROf("x86-64-v3"), "vpdpbusd"));

  auto CC = llvm::sys::findProgramByName("cc");
  std::string Runtime = runtimeArchive();
  if (!CC || Runtime.empty()) {
    WARN("no cc or no libtidalrt.a next to the test binary: link test skipped");
    return;
  }
  llvm::SmallString<128> Dir;
  REQUIRE(!llvm::sys::fs::createUniqueDirectory("tidal-bytedot-test", Dir));
  std::string D(Dir.str());
  uint8_t A[64], A2[128];
  int8_t B[1024], B2[128];
  for (int I = 0; I < 64; ++I)
    A[I] = uint8_t(I % 3 == 0 ? 255 : I * 37);
  for (int I = 0; I < 1024; ++I)
    B[I] = int8_t(I % 5 == 0 ? -128 : I * 29);
  for (int I = 0; I < 128; ++I) {
    A2[I] = uint8_t(I % 4 == 1 ? 255 : I * 53);
    B2[I] = int8_t(I % 7 == 0 ? -128 : I % 7 == 1 ? 127 : I * 13);
  }
  int32_t Want[24] = {};
  for (int K = 0; K < 64; ++K)
    for (int J = 0; J < 16; ++J)
      Want[J] += int32_t(A[K]) * B[K / 4 * 64 + J * 4 + K % 4];
  for (int KO = 0; KO < 4; ++KO)
    for (int J = 0; J < 8; ++J)
      for (int R = 0; R < 4; ++R)
        Want[16 + J] +=
            int32_t(A2[KO * 32 + J * 4 + R]) * B2[KO * 32 + J * 4 + R];
  std::string In(reinterpret_cast<char *>(A), 64);
  In.append(reinterpret_cast<char *>(B), 1024);
  In.append(reinterpret_cast<char *>(A2), 128);
  In.append(reinterpret_cast<char *>(B2), 128);
  writeFile(D + "/in.bin", In);
  writeFile(D + "/net.h", headerOf(**P));
  writeFile(D + "/main.c", ByteDotDriver);
  for (const char *CPU : {"native", "x86-64"}) { // host, then baseline
    CodegenOptions Opts;
    Opts.CPU = CPU;
    INFO("cpu '" << CPU << "'");
    writeFile(D + "/net.o", objectOf(**P, Opts));
    std::unique_ptr<llvm::MemoryBuffer> Bytes = linkAndRun(D, *CC, Runtime);
    REQUIRE(Bytes->getBufferSize() == sizeof Want);
    int32_t Got[24];
    std::memcpy(Got, Bytes->getBufferStart(), sizeof Got);
    for (int I = 0; I < 24; ++I) {
      INFO("lane " << I);
      CHECK(Got[I] == Want[I]);
    }
  }
  llvm::sys::fs::remove_directories(D);
}
