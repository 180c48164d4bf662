//===- TargetSetup.h - From a Tidal target name to an LLVM target -*- C++ -*-===//
//
// Internal to codegen/. Resolves CodegenOptions (a Tidal target name and an
// optional CPU) into an LLVM triple, CPU, feature string and TargetMachine,
// and answers the questions the IR emitter asks about the target (does it
// convert f16 natively, does it round floats without a libcall, ...), so the
// emitter never produces IR that the backend would turn into a libm call.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_CODEGEN_TARGETSETUP_H
#define TIDAL_CODEGEN_TARGETSETUP_H

#include "codegen/Codegen.h"
#include "llvm/Target/TargetMachine.h"
#include <memory>
#include <string>

namespace llvm {
class Function;
} // namespace llvm

namespace tidal {

/// Everything codegen needs to know about one target and CPU.
struct TargetSetup {
  enum class Arch { X86_64, AArch64, NVPTX } Kind = Arch::X86_64;
  std::string Triple;
  std::string CPU;
  /// Comma-separated `+feature` list, sorted (empty means the CPU's own).
  std::string Features;
  std::unique_ptr<llvm::TargetMachine> TM;
  /// What the passes were told about the target (vector width, FMA, ...).
  TargetInfo Info;
  /// half <-> float conversions are instructions (F16C on x86, always on
  /// AArch64); otherwise the emitter converts with integer operations.
  bool NativeF16 = false;
  /// floor/ceil/roundeven are instructions (SSE4.1 on x86, always on
  /// AArch64); otherwise the emitter expands them.
  bool NativeRounding = false;

  /// Where the weights go: CodegenOptions::WeightsSection (resolved by
  /// weightsSection()), CodegenOptions::Align and ExternalWeights.
  std::string WeightsSection;
  uint64_t Align = 64;
  bool ExternalWeights = false;
  bool isCPU() const { return Kind != Arch::NVPTX; }
};

/// Creates the TargetMachine and answers the questions above. Errors on an
/// unknown target name or CPU.
llvm::Expected<std::unique_ptr<TargetSetup>>
setupTarget(const CodegenOptions &Opts);

/// Gives F the `target-cpu` and `target-features` attributes of T,
/// replacing any it has (functions linked in from the device math library
/// carry the ones they were compiled with).
void setTargetAttributes(llvm::Function &F, const TargetSetup &T);

} // namespace tidal

#endif
