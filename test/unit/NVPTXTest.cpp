//===- NVPTXTest.cpp - The nvptx target without a GPU ---------------------===//
//
// Launch planning (which statements become which launches, and the shapes
// that are refused), the PTX and the host object of small hand-written
// programs, the nvptx header, the GPU default schedule end to end through
// the passes, and the runtime launcher's answers that need no driver.
// Numbers are checked by test/scripts/nvptx_emulated.py; the PTX of the
// reference models by ptx_assembles.py.
//
//===----------------------------------------------------------------------===//

#include "codegen/Codegen.h"
#include "codegen/NVPTXCodegen.h"
#include "compiler/PassManager.h"
#include "passes/PassRegistry.h"
#include "tidal_cuda.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/raw_ostream.h"
#include <catch2/catch.hpp>
#include <cstring>

using namespace tidal;

namespace {

std::unique_ptr<Program> parse(llvm::StringRef Text) {
  llvm::Expected<std::unique_ptr<Program>> P = parseProgram(Text);
  if (!P) {
    FAIL(llvm::toString(P.takeError()));
    return nullptr;
  }
  return std::move(*P);
}

std::string errorOf(llvm::Error E) {
  bool Failed = static_cast<bool>(E);
  REQUIRE(Failed);
  return llvm::toString(std::move(E));
}

/// Fails the test with E's message, if any.
void ok(llvm::Error E) {
  if (E)
    FAIL(llvm::toString(std::move(E)));
}

/// The launches of P, or a failed test.
std::vector<std::vector<GpuLaunch>> launches(const Program &P) {
  auto L = planLaunches(P);
  if (!L) {
    FAIL(llvm::toString(L.takeError()));
    return {};
  }
  return std::move(*L);
}

CodegenOptions nvptx(const char *CPU = "") {
  CodegenOptions O;
  O.Target = "nvptx";
  O.CPU = CPU;
  return O;
}

/// A GPU launch, a single-thread statement and an empty loop in one kernel.
const char *TwoLaunches = R"(program @net {
  input 0 "x" : f32[300]
  output 0 "y" : f32[300]
  workspace 0
  kernel @k(%x: f32[300] readonly, %y: f32[300]) {
    for %b from 0 extent 2 gpu_block {
      for %t from 0 extent 256 gpu_thread {
        if lt(((%b * 256) + %t), 300) {
          %y[((%b * 256) + %t)] = (load %x[((%b * 256) + %t)]:f32 * 2.0:f32)
        }
      }
    }
    %y[0] = load %x[1]:f32
    for %e from 0 extent 0 gpu_block {
      %y[1] = 0.0:f32
    }
  }
  call @k(input 0, output 0)
}
)";

} // namespace

TEST_CASE("nvptx: each top-level statement is one launch", "[nvptx]") {
  auto P = parse(TwoLaunches);
  auto L = launches(*P);
  REQUIRE(L.size() == 1);
  const std::vector<GpuLaunch> &K = L[0];
  REQUIRE(K.size() == 2); // the launch of no thread is left out
  CHECK(K[0].Entry == "t0_0_k");
  CHECK(K[0].Grid == 2);
  CHECK(K[0].Block == 256);
  CHECK(K[1].Entry == "t0_1_k");
  CHECK(K[1].Grid == 1);
  CHECK(K[1].Block == 1);
}

TEST_CASE("nvptx: GPU loops must shape the launch", "[nvptx]") {
  auto check = [](const char *Body, const char *Why) {
    std::string Text = std::string(R"(program @net {
  output 0 "y" : f32[4096]
  workspace 0
  kernel @k(%y: f32[4096]) {
)") + Body + R"(
  }
  call @k(output 0)
}
)";
    auto P = parse(Text);
    auto L = planLaunches(*P);
    bool Failed = !L;
    REQUIRE(Failed);
    CHECK_THAT(llvm::toString(L.takeError()), Catch::Contains(Why));
  };
  check(R"(for %i from 0 extent 4 serial {
      for %t from 0 extent 4 gpu_thread {
        %y[((%i * 4) + %t)] = 1.0:f32
      }
    })",
        "loop '%t' (gpu_thread) is not at the top of a launch");
  check(R"(for %t from 0 extent 2048 gpu_thread {
      %y[%t] = 1.0:f32
    })",
        "has extent 2048, more than the GPU allows (1024)");
  check(R"(for %n from 0 extent 4 serial {
      for %b from 0 extent %n gpu_block {
        %y[%b] = 1.0:f32
      }
    })",
        "loop '%b' (gpu_block) is not at the top of a launch");
}

TEST_CASE("nvptx: PTX of a small program", "[nvptx]") {
  auto P = parse(TwoLaunches);
  std::string PTX;
  llvm::raw_string_ostream OS(PTX);
  ok(emitPTX(*P, nvptx(), OS));
  OS.flush();
  CHECK_THAT(PTX, Catch::Contains(".target sm_80"));
  CHECK_THAT(PTX, Catch::Contains(".visible .entry t0_0_k("));
  CHECK_THAT(PTX, Catch::Contains(".visible .entry t0_1_k("));
  CHECK_THAT(PTX, Catch::Contains("%ctaid.x"));
  CHECK_THAT(PTX, Catch::Contains("%tid.x"));
  CHECK_THAT(PTX, Catch::Contains(".maxntid 256, 1, 1"));
  std::string Again;
  llvm::raw_string_ostream OS2(Again);
  ok(emitPTX(*P, nvptx(), OS2));
  OS2.flush();
  CHECK(PTX == Again);
  std::string Sm90;
  llvm::raw_string_ostream OS3(Sm90);
  ok(emitPTX(*P, nvptx("sm_90"), OS3));
  OS3.flush();
  CHECK_THAT(Sm90, Catch::Contains(".target sm_90"));
}

TEST_CASE("nvptx: errors of the PTX path", "[nvptx]") {
  auto P = parse(TwoLaunches);
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  CHECK_THAT(errorOf(emitPTX(*P, nvptx("sm_70"), OS)),
             Catch::Contains("unsupported CPU 'sm_70' for target nvptx"));
  CodegenOptions X86;
  CHECK_THAT(errorOf(emitPTX(*P, X86, OS)),
             Catch::Contains("PTX can only be emitted for --target nvptx"));
  auto M = parse(R"(program @net {
  input 0 "x" : f32[4]
  output 0 "y" : f32[4]
  workspace 0
  kernel @k(%x: f32[4] readonly, %y: f32[4]) {
    %y[0] = call @exp(load %x[0]:f32):f32
  }
  call @k(input 0, output 0)
}
)");
  CodegenOptions O = nvptx();
  O.DeviceLibPath = "/nonexistent/libtidalrt.bc";
  CHECK_THAT(errorOf(emitPTX(*M, O, OS)),
             Catch::Contains("cannot read the device math library "
                             "'/nonexistent/libtidalrt.bc'"));
}

TEST_CASE("nvptx: host object and header", "[nvptx]") {
  auto P = parse(TwoLaunches);
  llvm::SmallString<0> Obj;
  llvm::raw_svector_ostream OS(Obj);
  ok(emitObject(*P, nvptx(), OS));
  REQUIRE(Obj.size() > 4);
  CHECK(std::memcmp(Obj.data(), "\x7f" "ELF", 4) == 0);
  std::string Header, Plain;
  llvm::raw_string_ostream HS(Header), PS(Plain);
  emitHeader(*P, nvptx(), HS);
  emitHeader(*P, PS);
  HS.flush();
  PS.flush();
  CHECK_THAT(Header, Catch::Contains("#define TIDAL_CUDA_ERROR_NO_DRIVER   (-1)"));
  CHECK_THAT(Header, Catch::Contains("#define NET_TARGET_NVPTX 1"));
  // Inside the include guard and the extern "C" block.
  CHECK(Header.find("tidal_cuda_error_string") <
        Header.rfind("#ifdef __cplusplus"));
  CHECK(Header.size() > Plain.size());
  std::string X86Header;
  llvm::raw_string_ostream XS(X86Header);
  emitHeader(*P, CodegenOptions(), XS);
  XS.flush();
  CHECK(X86Header == Plain);
}

TEST_CASE("nvptx: the GPU schedule through the passes", "[nvptx]") {
  auto P = parse(R"(program @net {
  input 0 "x" : f32[600]
  output 0 "y" : f32[600]
  kernel @k(%x: f32[600] readonly, %y: f32[600]) {
    for %i from 0 extent 2 serial {
      for %j from 0 extent 300 serial {
        %y[((%i * 300) + %j)] = load %x[((%i * 300) + %j)]:f32
      }
    }
  }
  call @k(input 0, output 0)
}
)");
  Module M;
  M.P = std::move(P);
  PassOptions O;
  O.Target = "nvptx";
  for (const char *Name : {"default-schedule", "apply-schedule", "simplify",
                           "plan-memory"})
    ok(lookupPass(Name)->Run(M, O));
  auto L = launches(*M.P);
  REQUIRE(L.size() == 1);
  REQUIRE(L[0].size() == 1);
  CHECK(L[0][0].Grid == 3); // 600 threads, 256 per block
  CHECK(L[0][0].Block == 256);
}

TEST_CASE("nvptx: the launcher's answers without a driver", "[nvptx]") {
  tidal_cuda_model Bad;
  std::memset(&Bad, 0, sizeof Bad);
  Bad.abi_version = TIDAL_CUDA_ABI_VERSION + 1;
  CHECK(tidal_cuda_run(&Bad, nullptr, nullptr, nullptr) ==
        TIDAL_CUDA_ERROR_DESCRIPTOR);
  CHECK(tidal_cuda_run(nullptr, nullptr, nullptr, nullptr) ==
        TIDAL_CUDA_ERROR_DESCRIPTOR);
  CHECK_THAT(tidal_cuda_error_string(TIDAL_CUDA_ERROR_NO_DRIVER),
             Catch::Contains("libcuda.so.1"));
  CHECK_THAT(tidal_cuda_error_string(TIDAL_CUDA_ERROR_NO_DEVICE),
             Catch::Contains("no CUDA device"));
  CHECK(std::string(tidal_cuda_error_string(42)) == "unknown error code");
}
