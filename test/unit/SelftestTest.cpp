//===- SelftestTest.cpp - The C file of tidalc compile --emit-selftest ----===//
//
// emitSelftest() on a hand-built program whose outputs have every kind of
// element the checker compares (f32, i64, bool, f16, f64): the text holds
// each value's exact bits and only the helpers it uses; and, compiled with
// cc as strict freestanding C99 against a stand-in `net_run` that writes
// chosen values, the checker returns what docs/abi.md says: 0 when every
// output matches its rule (|got - want| <= atol + rtol * |want| for floats,
// NaN only NaN, an infinity only itself; integers and booleans exactly),
// 1 + the index of the first output that does not, and the run's status
// when that is nonzero; an output the run never writes cannot match.
//
//===----------------------------------------------------------------------===//

#include "TensorTestUtil.h"
#include "codegen/Codegen.h"
#include "codegen/Selftest.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

using namespace tidal;
using tidal::test::make;

namespace {

IOInfo io(const char *Name, ElemType E, std::vector<int64_t> Shape) {
  return {Name, TensorType(E, std::move(Shape))};
}

/// `net`: one f32 input, five outputs of the five kinds of comparison.
Program makeProgram() {
  Program P;
  P.Name = "net";
  P.Inputs = {io("x", ElemType::F32, {1})};
  P.Outputs = {io("probs", ElemType::F32, {4}), io("idx", ElemType::I64, {2}),
               io("mask", ElemType::Bool, {2}), io("half", ElemType::F16, {2}),
               io("wide", ElemType::F64, {1})};
  return P;
}

SelftestVector makeVector() {
  const float NaN = std::numeric_limits<float>::quiet_NaN();
  const float Inf = std::numeric_limits<float>::infinity();
  SelftestVector V;
  V.Inputs = {make<float>(ElemType::F32, {1}, {0.5f})};
  V.Expected = {make<float>(ElemType::F32, {4}, {1.0f, -0.0f, NaN, Inf}),
                make<int64_t>(ElemType::I64, {2}, {-1, 7}),
                make<uint8_t>(ElemType::Bool, {2}, {1, 0}),
                make<uint16_t>(ElemType::F16, {2}, {0x3C00, 0x0001}),
                make<double>(ElemType::F64, {1}, {-2.5})};
  V.InputsFrom = "the test's";
  V.ExpectedFrom = "the test's";
  return V;
}

std::string selftestOf(const Program &P, const SelftestVector &V) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  emitSelftest(P, "net.h", V, OS);
  return OS.str();
}

} // namespace

TEST_CASE("selftest: the C text", "[selftest]") {
  Program P = makeProgram();
  std::string S = selftestOf(P, makeVector());
  INFO(S);
  CHECK(S.find("#include \"net.h\"\n") != std::string::npos);
  CHECK(S.find("#define NET_SELFTEST_RTOL 0.001\n") != std::string::npos);
  CHECK(S.find("#define NET_SELFTEST_ATOL 0.0001\n") != std::string::npos);
  // Exact bits: 0.5f, -0.0f, NaN, infinity, -1 as i64, f16's smallest
  // subnormal, -2.5 as f64.
  CHECK(S.find("net_selftest_input0[1] = {\n    0x3f000000u\n};") !=
        std::string::npos);
  CHECK(S.find("0x3f800000u, 0x80000000u, 0x7fc00000u, 0x7f800000u") !=
        std::string::npos);
  CHECK(S.find("0xffffffffffffffffull, 0x0000000000000007ull") !=
        std::string::npos);
  CHECK(S.find("static const unsigned char net_selftest_output2[2] = {\n"
               "    0x01u, 0x00u\n};") != std::string::npos);
  CHECK(S.find("0x3c00u, 0x0001u") != std::string::npos);
  CHECK(S.find("0xc004000000000000ull") != std::string::npos);
  // The first mismatching output decides the status.
  CHECK(S.find("if (!selftest_f16(outputs[3], net_selftest_output3, 2ul))\n"
               "    return 4;") != std::string::npos);
  CHECK(S.find("int net_selftest(void *const outputs[], void *workspace) {") !=
        std::string::npos);
  // Nothing that needs a library, nothing writable.
  for (const char *Banned : {"math.h", "fabs", "memset", "memcpy", "malloc"})
    CHECK(S.find(Banned) == std::string::npos);
  CHECK(S.find("static float") == std::string::npos);
}

TEST_CASE("selftest: only the helpers used, no inputs, safe comments",
          "[selftest]") {
  Program P;
  P.Name = "m";
  P.Outputs = {io("a*/b?\?/", ElemType::F32, {2})};
  SelftestVector V;
  V.Expected = {make<float>(ElemType::F32, {2}, {1.0f, 2.0f})};
  V.RTol = 0.25;
  V.ATol = 0;
  std::string S = selftestOf(P, V);
  INFO(S);
  CHECK(S.find("selftest_f32") != std::string::npos);
  for (const char *Unused : {"selftest_half", "selftest_bits", "selftest_f64"})
    CHECK(S.find(Unused) == std::string::npos);
  CHECK(S.find("const void *const inputs[1] = {0};") != std::string::npos);
  CHECK(S.find("(a__b___)") != std::string::npos);
  CHECK(S.find("#define M_SELFTEST_RTOL 0.25\n") != std::string::npos);
  CHECK(S.find("#define M_SELFTEST_ATOL 0.0\n") != std::string::npos);
}

namespace {

/// A stand-in for the compiled model: writes the expected values of
/// makeVector(), then changes one of them as the program's argument says.
const char StubSource[] = R"(#include <stdint.h>
int mode;
static float bitsf(uint32_t u) { union { uint32_t u; float f; } v; v.u = u; return v.f; }
int net_run(const void *const inputs[], void *const outputs[], void *workspace) {
  float *probs = (float *)outputs[0];
  long long *idx = (long long *)outputs[1];
  unsigned char *mask = (unsigned char *)outputs[2];
  uint16_t *half = (uint16_t *)outputs[3];
  double *wide = (double *)outputs[4];
  (void)workspace;
  if (*(const float *)inputs[0] != 0.5f)
    return -9;
  if (mode == 1)
    return -7;
  if (mode == 2)
    return 0; /* writes nothing */
  probs[0] = 1.0f; probs[1] = -0.0f; probs[2] = bitsf(0x7fc00000u);
  probs[3] = bitsf(0x7f800000u);
  idx[0] = -1; idx[1] = 7; mask[0] = 1; mask[1] = 0;
  half[0] = 0x3C00; half[1] = 0x0001; wide[0] = -2.5;
  switch (mode) {
  case 3: probs[0] = 1.001f; break;             /* allowed 1.1e-3: ok */
  case 4: probs[0] = 1.0012f; break;            /* output 0 */
  case 5: probs[1] = 0.0f; break;               /* -0 and +0: ok */
  case 6: probs[2] = 0.0f; break;               /* a number for NaN */
  case 7: probs[3] = bitsf(0xff800000u); break; /* -inf for inf */
  case 8: probs[1] = bitsf(0x7fc00000u); break; /* NaN for a number */
  case 9: idx[1] = 8; break;                    /* output 1 */
  case 10: mask[1] = 1; break;                  /* output 2 */
  case 11: half[0] = 0x3C02; break;             /* 1 + 2^-9: output 3 */
  case 12: half[1] = 0x0000; break;             /* 6e-8 off: ok */
  case 13: wide[0] = -2.5027; break;            /* output 4 */
  case 14: wide[0] = -2.5025; break;            /* allowed 2.6e-3: ok */
  }
  return 0;
}
)";

const char MainSource[] = R"(#include <stdlib.h>
#include "net.h"
int net_selftest(void *const outputs[], void *workspace);
extern int mode;
int main(int argc, char **argv) {
  static float probs[NET_OUTPUT0_NUM_ELEMENTS];
  static long long idx[NET_OUTPUT1_NUM_ELEMENTS];
  static unsigned char mask[NET_OUTPUT2_NUM_ELEMENTS];
  static unsigned short half[NET_OUTPUT3_NUM_ELEMENTS];
  static double wide[NET_OUTPUT4_NUM_ELEMENTS];
  void *const outputs[NET_NUM_OUTPUTS] = {probs, idx, mask, half, wide};
  int rc;
  mode = 0;
  if (net_selftest(outputs, 0) != 0) /* first fill the outputs correctly */
    return 100;
  mode = argc > 1 ? atoi(argv[1]) : 0;
  rc = net_selftest(outputs, 0);
  return rc < 0 ? 200 - rc : rc;
}
)";

void writeFile(const std::string &Path, llvm::StringRef Data) {
  std::error_code EC;
  llvm::raw_fd_ostream OS(Path, EC);
  REQUIRE(!bool(EC));
  OS << Data;
}

int runTool(llvm::StringRef Exe, llvm::ArrayRef<llvm::StringRef> Args) {
  std::string Err;
  int RC = llvm::sys::ExecuteAndWait(Exe, Args, std::nullopt, {}, 0, 0, &Err);
  INFO(Err);
  return RC;
}

} // namespace

TEST_CASE("selftest: the checker's verdicts, compiled", "[selftest]") {
  auto CC = llvm::sys::findProgramByName("cc");
  if (!CC) {
    WARN("no cc: the compiled selftest checks are skipped");
    return;
  }
  llvm::SmallString<128> Dir;
  REQUIRE(!llvm::sys::fs::createUniqueDirectory("tidal-selftest-test", Dir));
  std::string D(Dir.str());
  Program P = makeProgram();
  std::string Header;
  llvm::raw_string_ostream HS(Header);
  emitHeader(P, HS);
  writeFile(D + "/net.h", HS.str());
  writeFile(D + "/selftest.c", selftestOf(P, makeVector()));
  writeFile(D + "/stub.c", StubSource);
  writeFile(D + "/main.c", MainSource);
  std::string Obj = D + "/selftest.o", Exe = D + "/program";
  REQUIRE(runTool(*CC, {*CC, "-std=c99", "-pedantic", "-Wall", "-Wextra",
                        "-Werror", "-ffreestanding", "-O2", "-c", "-I", D,
                        D + "/selftest.c", "-o", Obj}) == 0);
  REQUIRE(runTool(*CC, {*CC, "-std=c99", "-O2", "-I", D, D + "/main.c",
                        D + "/stub.c", Obj, "-o", Exe}) == 0);
  // mode -> status: the run's own status (-7, shown as 207), an output
  // left unwritten (1), then one change per case.
  const std::pair<const char *, int> Cases[] = {
      {"0", 0},  {"1", 207}, {"2", 1},  {"3", 0},  {"4", 1},
      {"5", 0},  {"6", 1},   {"7", 1},  {"8", 1},  {"9", 2},
      {"10", 3}, {"11", 4},  {"12", 0}, {"13", 5}, {"14", 0}};
  for (const auto &[Mode, Want] : Cases) {
    INFO("mode " << Mode);
    CHECK(runTool(Exe, {Exe, Mode}) == Want);
  }
  llvm::sys::fs::remove_directories(D);
}
