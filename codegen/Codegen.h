//===- Codegen.h - Loop IR to object files and C headers --------*- C++ -*-===//
//
// The firmware contract lives here: emitObject() writes the code and the
// weights (in a read-only section of their own) of a Program as one
// relocatable object whose only global symbol is `<name>_run` (plus the
// runtime functions it calls as undefined symbols); emitHeader() writes the
// C header that declares it. See docs/abi.md.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_CODEGEN_CODEGEN_H
#define TIDAL_CODEGEN_CODEGEN_H

#include "compiler/Loop.h"
#include "compiler/TargetInfo.h"
#include "llvm/Support/Error.h"
#include <string>

namespace llvm {
class raw_ostream;
class raw_pwrite_stream;
} // namespace llvm

namespace tidal {

struct CodegenOptions {
  /// "x86-64", "cortex-a53" or "nvptx".
  std::string Target = "x86-64";
  /// CPU name for LLVM; empty means x86-64-v3 for x86-64 ("native": the
  /// host's), cortex-a53 for cortex-a53 and sm_80 for nvptx.
  std::string CPU;
  unsigned OptLevel = 2;
  /// nvptx: the runtime's math functions as LLVM bitcode for nvptx64
  /// (build/lib/nvptx/libtidalrt.bc), linked into the device code when a
  /// kernel calls one. tidalc finds it beside its runtime archives.
  std::string DeviceLibPath;
  /// The section of the weights; empty means `.tidal.weights.<name>`
  /// (weightsSection()).
  std::string WeightsSection;
  /// The alignment of the weights and of the workspace the caller provides
  /// (the header's `<NAME>_WORKSPACE_ALIGN`): a power of two, at least 64,
  /// which the kernels assume.
  uint64_t Align = 64;
  /// --weights external: the object holds no weights; `<name>_run` asks the
  /// firmware's `<name>_load_weights()` for them (docs/abi.md), and the
  /// header names WeightsFile (a base name), the file tidalc writes them to.
  bool ExternalWeights = false;
  std::string WeightsFile;
};

/// What `<name>_run` returns, besides 0, when its weights are external:
/// `<name>_load_weights()` gave NULL, or an address not aligned to
/// CodegenOptions::Align. The header defines them as `<NAME>_ERROR_*`.
enum RunError : int { RunErrorNoWeights = 1, RunErrorWeightsAlign = 2 };

/// The firmware's hook that external weights come from:
/// `const void *<name>_load_weights(void)`.
std::string loadWeightsSymbol(const Program &P);

/// Checks WeightsSection and Align (--weights-section, --align): a section
/// name an assembler and a linker script can take (letters, digits, `.`,
/// `_`, `$`), not one of the writable, zero-filled or code sections the
/// firmware contract rules out (docs/abi.md); an alignment that is a power
/// of two from 64 (what the kernels assume of the weights and the
/// workspace) to 65536. External weights have no section, and nvptx has no
/// hook: its runtime copies the weights to the GPU from the object.
llvm::Error checkPlacement(const CodegenOptions &Opts);

/// The section P's weights go in: WeightsSection, or by default
/// `.tidal.weights.<name>`.
std::string weightsSection(const Program &P, llvm::StringRef WeightsSection);

/// The alignment the generated code assumes of input (or output) Index of
/// P: the size of its element, or more where a kernel reads or writes it
/// as wider words (packed bits). The header's `_ALIGN` macros.
uint64_t bufferAlignment(const Program &P, StorageKind Storage, size_t Index);

/// What the target and CPU offer the schedules (PassOptions::Target), read
/// off LLVM's subtarget for that CPU. Errors on an unknown target or CPU.
llvm::Expected<TargetInfo> targetInfo(const CodegenOptions &Opts);

/// Writes P as a relocatable object file.
llvm::Error emitObject(const Program &P, const CodegenOptions &Opts,
                       llvm::raw_pwrite_stream &OS);
/// Writes P's LLVM IR as text (for debugging and golden tests).
llvm::Error emitLLVMIR(const Program &P, const CodegenOptions &Opts,
                       llvm::raw_ostream &OS);
/// Writes the C header of P.
void emitHeader(const Program &P, llvm::raw_ostream &OS);
/// Writes the C header of P for the target of Opts: the one above, plus,
/// for nvptx, the error codes `<name>_run` may return (docs/targets.md).
void emitHeader(const Program &P, const CodegenOptions &Opts,
                llvm::raw_ostream &OS);
/// nvptx: writes the PTX text of P's kernels (what the object embeds).
llvm::Error emitPTX(const Program &P, const CodegenOptions &Opts,
                    llvm::raw_ostream &OS);

} // namespace tidal

#endif
