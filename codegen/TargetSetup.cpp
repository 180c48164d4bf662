//===- TargetSetup.cpp - From a Tidal target name to an LLVM target -------===//
//
// Maps the three Tidal targets to LLVM: x86-64 (the host CPU and its
// features unless a CPU is named), cortex-a53 (AArch64 with NEON) and nvptx
// (sm_80 by default). Only the X86, AArch64 and NVPTX backends are
// initialized. CPU targets use the PIC relocation model so objects link
// into position-independent executables.
//
//===----------------------------------------------------------------------===//

#include "codegen/TargetSetup.h"
#include "compiler/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/Function.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/TargetParser/Host.h"
#include <algorithm>
#include <mutex>
#include <vector>

extern "C" {
void LLVMInitializeX86TargetInfo();
void LLVMInitializeX86Target();
void LLVMInitializeX86TargetMC();
void LLVMInitializeX86AsmPrinter();
void LLVMInitializeAArch64TargetInfo();
void LLVMInitializeAArch64Target();
void LLVMInitializeAArch64TargetMC();
void LLVMInitializeAArch64AsmPrinter();
void LLVMInitializeNVPTXTargetInfo();
void LLVMInitializeNVPTXTarget();
void LLVMInitializeNVPTXTargetMC();
void LLVMInitializeNVPTXAsmPrinter();
}

using namespace tidal;

static void initializeTargets() {
  static std::once_flag Once;
  std::call_once(Once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    LLVMInitializeAArch64TargetInfo();
    LLVMInitializeAArch64Target();
    LLVMInitializeAArch64TargetMC();
    LLVMInitializeAArch64AsmPrinter();
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
}

/// The host's features as a sorted `+a,-b` string (StringMap iterates in
/// hash order, which must not leak into the output).
static std::string hostFeatures() {
  std::vector<std::string> List;
  for (const auto &F : llvm::sys::getHostCPUFeatures())
    List.push_back((F.second ? "+" : "-") + F.first().str());
  std::sort(List.begin(), List.end());
  std::string S;
  for (const std::string &F : List)
    S += (S.empty() ? "" : ",") + F;
  return S;
}

llvm::Error tidal::checkPlacement(const CodegenOptions &Opts) {
  llvm::StringRef S = Opts.WeightsSection;
  if (Opts.ExternalWeights && !S.empty())
    return makeError("--weights-section: external weights (--weights "
                     "external) are in no section of the object");
  if (Opts.ExternalWeights && Opts.Target == "nvptx")
    return makeError("--weights external: not supported for --target nvptx "
                     "(its runtime copies the weights to the GPU from the "
                     "object)");
  if (!llvm::all_of(S, [](char C) {
        return llvm::isAlnum(C) || C == '.' || C == '_' || C == '$';
      }))
    return makeError("--weights-section '" + S +
                     "': only letters, digits, '.', '_' and '$'");
  for (llvm::StringRef W : {".data", ".bss", ".tdata", ".tbss", ".text"})
    if (S == W || S.starts_with(W.str() + "."))
      return makeError("--weights-section '" + S +
                       "': the weights are "
                       "read-only data, not " +
                       W);
  uint64_t A = Opts.Align;
  if (A < 64 || A > 65536 || (A & (A - 1)))
    return makeError("--align " + llvm::Twine(A) +
                     ": a power of two from 64 to 65536");
  return llvm::Error::success();
}

/// The CPU of x86-64 objects unless --mcpu names one (docs/targets.md).
static constexpr const char *DefaultX86CPU = "x86-64-v3";

/// Fills in the triple, CPU and features of the named target.
static llvm::Error chooseTarget(const CodegenOptions &Opts, TargetSetup &T) {
  if (Opts.Target == "x86-64") {
    T.Kind = TargetSetup::Arch::X86_64;
    T.Triple = "x86_64-unknown-linux-gnu";
    // The default is fixed, so that an object is the same bytes on every
    // machine that builds it: x86-64-v3 (AVX2, FMA; Haswell, Zen and
    // later). The host's own CPU only when asked for (`native`).
    if (Opts.CPU == "native") {
      T.CPU = llvm::sys::getHostCPUName().str();
      T.Features = hostFeatures();
    } else {
      T.CPU = Opts.CPU.empty() ? DefaultX86CPU : Opts.CPU;
    }
    return llvm::Error::success();
  }
  if (Opts.Target == "cortex-a53") {
    T.Kind = TargetSetup::Arch::AArch64;
    T.Triple = "aarch64-unknown-linux-gnu";
    T.CPU = Opts.CPU.empty() ? "cortex-a53" : Opts.CPU;
    T.Features = "+neon";
    return llvm::Error::success();
  }
  if (Opts.Target == "nvptx") {
    T.Kind = TargetSetup::Arch::NVPTX;
    T.Triple = "nvptx64-nvidia-cuda";
    T.CPU = Opts.CPU.empty() ? "sm_80" : Opts.CPU;
    T.Features = "+ptx78";
    return llvm::Error::success();
  }
  return makeError("unknown target '" + Opts.Target +
                   "' (expected x86-64, cortex-a53 or nvptx)");
}

static llvm::CodeGenOptLevel codeGenLevel(unsigned OptLevel) {
  switch (OptLevel) {
  case 0:
    return llvm::CodeGenOptLevel::None;
  case 1:
    return llvm::CodeGenOptLevel::Less;
  case 2:
    return llvm::CodeGenOptLevel::Default;
  default:
    return llvm::CodeGenOptLevel::Aggressive;
  }
}

/// The x86 facts of TargetInfo, from the subtarget's features.
static void describeX86(const llvm::MCSubtargetInfo &STI, TargetInfo &I) {
  auto Has = [&](const char *F) { return STI.checkFeatures(F); };
  I.AVX512 = Has("+avx512f");
  I.VectorBits = I.AVX512 ? 512 : Has("+avx2") || Has("+avx") ? 256 : 128;
  I.VectorRegisters = I.AVX512 ? 32 : 16;
  I.FMA = Has("+fma");
  I.VNNI = Has("+avx512vnni") || Has("+avxvnni");
  I.VPOPCNTDQ = Has("+avx512vpopcntdq");
}

/// Reads the CPU's capabilities off the subtarget. The cache sizes stay
/// the target's fixed ones (TargetInfo::generic), never the host's.
static void describeSubtarget(const llvm::MCSubtargetInfo &STI,
                              llvm::StringRef Target, TargetSetup &T) {
  T.Info = llvm::cantFail(TargetInfo::generic(Target));
  T.Info.CPU = T.CPU;
  switch (T.Kind) {
  case TargetSetup::Arch::X86_64:
    describeX86(STI, T.Info);
    T.NativeF16 = STI.checkFeatures("+f16c");
    T.NativeRounding = STI.checkFeatures("+sse4.1");
    break;
  case TargetSetup::Arch::AArch64:
    T.Info.DotProd = STI.checkFeatures("+dotprod");
    T.NativeF16 = T.NativeRounding = true;
    break;
  case TargetSetup::Arch::NVPTX:
    T.NativeF16 = T.NativeRounding = true;
    break;
  }
}

llvm::Expected<std::unique_ptr<TargetSetup>>
tidal::setupTarget(const CodegenOptions &Opts) {
  initializeTargets();
  auto T = std::make_unique<TargetSetup>();
  if (llvm::Error E = chooseTarget(Opts, *T))
    return std::move(E);
  if (llvm::Error E = checkPlacement(Opts))
    return std::move(E);
  T->WeightsSection = Opts.WeightsSection;
  T->Align = Opts.Align;
  T->ExternalWeights = Opts.ExternalWeights;
  std::string Err;
  const llvm::Target *Target = llvm::TargetRegistry::lookupTarget(T->Triple, Err);
  if (!Target)
    return makeError("cannot create target " + T->Triple + ": " + Err);
  std::unique_ptr<llvm::MCSubtargetInfo> Probe(
      Target->createMCSubtargetInfo(T->Triple, "", ""));
  if (!Probe || !Probe->isCPUStringValid(T->CPU))
    return makeError("unknown CPU '" + T->CPU + "' for target " + Opts.Target);
  llvm::TargetOptions TO;
  std::optional<llvm::Reloc::Model> RM;
  if (T->isCPU())
    RM = llvm::Reloc::PIC_;
  T->TM.reset(Target->createTargetMachine(T->Triple, T->CPU, T->Features, TO,
                                          RM, std::nullopt,
                                          codeGenLevel(Opts.OptLevel)));
  if (!T->TM)
    return makeError("cannot create a target machine for " + T->Triple);
  describeSubtarget(*T->TM->getMCSubtargetInfo(), Opts.Target, *T);
  return std::move(T);
}

void tidal::setTargetAttributes(llvm::Function &F, const TargetSetup &T) {
  F.removeFnAttr("target-cpu");
  F.removeFnAttr("target-features");
  F.addFnAttr("target-cpu", T.CPU);
  if (!T.Features.empty())
    F.addFnAttr("target-features", T.Features);
}

llvm::Expected<TargetInfo> tidal::targetInfo(const CodegenOptions &Opts) {
  auto T = setupTarget(Opts);
  if (!T)
    return T.takeError();
  return (*T)->Info;
}
