//===- NVPTXTest.cpp - The nvptx target without a GPU ---------------------===//
//
// Launch planning (which statements become which launches, and the shapes
// that are refused), the PTX and the host object of small hand-written
// programs, the nvptx header, the GPU default schedule end to end through
// the passes, the launch descriptor in the host object (read-only and
// self-relative, decoded with tidal_cuda.h's TIDAL_CUDA_FIELD), and the
// runtime launcher's answers that need no driver.
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
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstring>
#include <optional>
#include <vector>

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

/// One launch reading the weights, so that the descriptor refers to
/// another section (.tidal.weights.net).
const char *WithWeights = R"(program @net {
  input 0 "x" : f32[2]
  output 0 "y" : f32[2]
  weights 8 0x0000803f00000040
  workspace 0
  kernel @k(%x: f32[2] readonly, %w: f32[2] readonly, %y: f32[2]) {
    %y[0] = (load %x[0]:f32 * load %w[1]:f32)
  }
  call @k(input 0, weights @0, output 0)
}
)";

/// The section of a host object that holds `net.model`: its bytes (copied
/// 8-aligned, so that the C structs of tidal_cuda.h can be laid over them
/// and their offsets followed), its flags, and the relocations patching it.
struct DescriptorSection {
  std::vector<uint64_t> Words;
  size_t Size = 0;
  uint64_t ModelAt = 0; ///< net.model's offset in the section
  uint64_t Flags = 0;
  struct Reloc {
    uint64_t Offset, Type;
    std::string TargetSection;
  };
  std::vector<Reloc> Relocs;

  const char *begin() const {
    return reinterpret_cast<const char *>(Words.data());
  }
  const tidal_cuda_model *model() const {
    return reinterpret_cast<const tidal_cuda_model *>(begin() + ModelAt);
  }
  /// Whether Bytes bytes at P lie in the section (a resolved offset must
  /// not point outside, or reading it would read beyond the copy).
  bool holds(const void *P, size_t Bytes) const {
    const char *C = static_cast<const char *>(P);
    return C && C >= begin() && C + Bytes <= begin() + Size;
  }
};

/// Where P's host object keeps its descriptor, or a failed test.
DescriptorSection descriptorOf(const Program &P) {
  llvm::SmallString<0> Obj;
  llvm::raw_svector_ostream OS(Obj);
  ok(emitObject(P, nvptx(), OS));
  auto Buf = llvm::MemoryBuffer::getMemBuffer(Obj.str(), "net.o", false);
  auto File =
      llvm::object::ObjectFile::createObjectFile(Buf->getMemBufferRef());
  REQUIRE(bool(File));
  DescriptorSection D;
  std::optional<llvm::object::SectionRef> Sec;
  for (const llvm::object::SymbolRef &Sym : (*File)->symbols()) {
    auto Name = Sym.getName();
    REQUIRE(bool(Name));
    if (*Name != "net.model")
      continue;
    auto Where = Sym.getSection();
    auto Value = Sym.getValue();
    REQUIRE(bool(Where));
    REQUIRE(bool(Value));
    Sec = **Where;
    D.ModelAt = *Value;
  }
  REQUIRE(Sec);
  D.Flags = llvm::object::ELFSectionRef(*Sec).getFlags();
  auto Bytes = Sec->getContents();
  REQUIRE(bool(Bytes));
  D.Size = Bytes->size();
  D.Words.resize((D.Size + 7) / 8);
  std::memcpy(D.Words.data(), Bytes->data(), D.Size);
  for (const llvm::object::SectionRef &R : (*File)->sections()) {
    auto Patched = R.getRelocatedSection();
    REQUIRE(bool(Patched));
    if (*Patched == (*File)->section_end() || **Patched != *Sec)
      continue;
    for (const llvm::object::RelocationRef &Rel : R.relocations()) {
      auto Target = Rel.getSymbol()->getSection();
      REQUIRE(bool(Target));
      auto TargetName = (*Target)->getName();
      REQUIRE(bool(TargetName));
      D.Relocs.push_back({Rel.getOffset(), Rel.getType(), TargetName->str()});
    }
  }
  return D;
}

/// The NUL-terminated string an offset field designates, inside D.
std::string stringAt(const DescriptorSection &D, const void *P) {
  REQUIRE(D.holds(P, 1));
  const char *C = static_cast<const char *>(P);
  const void *Nul = std::memchr(C, 0, D.begin() + D.Size - C);
  REQUIRE(Nul);
  return std::string(C, static_cast<const char *>(Nul));
}

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
    %y[0] = call @log(load %x[0]:f32):f32
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

// The descriptor is read-only data (the firmware contract, docs/abi.md):
// no pointer, so nothing for the loader to write; its references are
// offsets from the struct holding them, which tidal_cuda.h resolves.
TEST_CASE("nvptx: the descriptor is read-only and self-relative", "[nvptx]") {
  auto P = parse(TwoLaunches);
  DescriptorSection D = descriptorOf(*P);
  CHECK((D.Flags & llvm::ELF::SHF_ALLOC));
  CHECK_FALSE((D.Flags & llvm::ELF::SHF_WRITE));
  // Everything it refers to is in its own section: the assembler resolved
  // every offset, and the bytes read below are final.
  REQUIRE(D.Relocs.empty());
  REQUIRE(D.holds(D.model(), sizeof(tidal_cuda_model)));
  const tidal_cuda_model *M = D.model();
  CHECK(M->abi_version == TIDAL_CUDA_ABI_VERSION);
  CHECK(M->num_inputs == 1);
  CHECK(M->num_outputs == 1);
  CHECK(M->weights == 0); // none: 0, resolved to NULL
  CHECK(TIDAL_CUDA_FIELD(M, weights) == nullptr);
  CHECK(M->weights_size == 0);
  CHECK_THAT(stringAt(D, TIDAL_CUDA_FIELD(M, ptx)),
             Catch::Contains(".visible .entry t0_1_k("));
  auto *In = static_cast<const uint64_t *>(TIDAL_CUDA_FIELD(M, input_sizes));
  auto *Out = static_cast<const uint64_t *>(TIDAL_CUDA_FIELD(M, output_sizes));
  REQUIRE(D.holds(In, 8));
  REQUIRE(D.holds(Out, 8));
  CHECK(In[0] == 1200);
  CHECK(Out[0] == 1200);
  REQUIRE(M->num_launches == 2);
  auto *L =
      static_cast<const tidal_cuda_launch *>(TIDAL_CUDA_FIELD(M, launches));
  REQUIRE(D.holds(L, 2 * sizeof *L));
  // Each launch's offsets count from that launch, not from the table.
  CHECK(stringAt(D, TIDAL_CUDA_FIELD(&L[0], entry)) == "t0_0_k");
  CHECK(stringAt(D, TIDAL_CUDA_FIELD(&L[1], entry)) == "t0_1_k");
  CHECK(L[0].grid == 2);
  CHECK(L[0].block == 256);
  CHECK(L[1].grid == 1);
  CHECK(L[1].block == 1);
  CHECK(L[0].reserved == 0);
  for (const tidal_cuda_launch *Launch : {&L[0], &L[1]}) {
    REQUIRE(Launch->num_args == 2);
    auto *A =
        static_cast<const tidal_cuda_arg *>(TIDAL_CUDA_FIELD(Launch, args));
    REQUIRE(D.holds(A, 2 * sizeof *A));
    CHECK(A[0].kind == TIDAL_CUDA_ARG_INPUT);
    CHECK(A[0].index == 0);
    CHECK(A[1].kind == TIDAL_CUDA_ARG_OUTPUT);
    CHECK(A[1].index == 0);
  }
}

TEST_CASE("nvptx: the descriptor's weights are a PC-relative reference",
          "[nvptx]") {
  auto P = parse(WithWeights);
  DescriptorSection D = descriptorOf(*P);
  CHECK_FALSE((D.Flags & llvm::ELF::SHF_WRITE));
  // The weights live in their own section: the one relocation left is
  // PC-relative, resolved by the static linker (never R_X86_64_64, which
  // a PIC executable's loader would have to write into read-only data).
  REQUIRE(D.Relocs.size() == 1);
  CHECK(D.Relocs[0].Type == llvm::ELF::R_X86_64_PC64);
  CHECK(D.Relocs[0].TargetSection == ".tidal.weights.net");
  CHECK(D.Relocs[0].Offset == D.ModelAt + offsetof(tidal_cuda_model, weights));
  CHECK(D.model()->weights_size == 8);
  REQUIRE(D.model()->num_launches == 1);
  auto *L = static_cast<const tidal_cuda_launch *>(
      TIDAL_CUDA_FIELD(D.model(), launches));
  REQUIRE(D.holds(L, sizeof *L));
  REQUIRE(L->num_args == 3);
  auto *A = static_cast<const tidal_cuda_arg *>(TIDAL_CUDA_FIELD(L, args));
  REQUIRE(D.holds(A, 3 * sizeof *A));
  CHECK(A[1].kind == TIDAL_CUDA_ARG_WEIGHTS);
  CHECK(A[1].offset == 0);
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
  O.Target = llvm::cantFail(TargetInfo::generic("nvptx"));
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
