//===- NVPTXCodegen.h - The nvptx target's two halves -----------*- C++ -*-===//
//
// Internal to codegen/. A Program compiled for --target nvptx becomes
//  - device code: one PTX `.entry` per launch (NVPTXDevice.cpp), where a
//    launch is one top-level statement of a kernel's body (NVPTXLaunches.cpp),
//    optimized and compiled like CPU code (EmitObject.cpp, Backend.cpp);
//  - a host object for x86-64 (NVPTXHost.cpp) holding the PTX text, the
//    weights and a constant descriptor of the launches, and `<name>_run`,
//    which hands the descriptor to the runtime's tidal_cuda_run
//    (runtime/src/tidal_cuda.c, runtime/include/tidal_cuda.h).
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_CODEGEN_NVPTXCODEGEN_H
#define TIDAL_CODEGEN_NVPTXCODEGEN_H

#include "codegen/Codegen.h"
#include "codegen/TargetSetup.h"
#include "compiler/Loop.h"
#include "llvm/IR/Module.h"
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tidal {

/// One GPU kernel launch: a top-level statement of a kernel's body, run by
/// Grid blocks of Block threads. Its parameters are the kernel's.
struct GpuLaunch {
  /// The PTX entry's name, unique in the program.
  std::string Entry;
  /// The kernel, by index in Program::Kernels.
  size_t Kernel = 0;
  /// The statement; its gpu_block / gpu_thread loops (if any) are at its top.
  Stmt Body;
  uint32_t Grid = 1, Block = 1;
};

/// The launches of every kernel, by kernel index, in statement order. A
/// top-level statement is `for gpu_block { for gpu_thread { S } }` (grid =
/// the block loop's extent, block = the thread loop's), either loop alone,
/// or a statement without GPU loops (one thread). GPU loops anywhere else,
/// or of a non-constant extent, or more than 1024 threads per block, are
/// errors; a launch of zero threads is left out.
llvm::Expected<std::vector<std::vector<GpuLaunch>>>
planLaunches(const Program &P);

/// Checks that the CPU is one nvptx supports (sm_80 or sm_90).
llvm::Error checkNVPTXCPU(const CodegenOptions &Opts);

/// The unoptimized device module of P: one entry per launch (planned
/// here), the runtime's math functions linked in from DeviceLibPath when the
/// kernels call them, everything but the entries internal. Verified.
llvm::Expected<std::unique_ptr<llvm::Module>>
buildDeviceModule(const Program &P, const TargetSetup &T,
                  llvm::StringRef DeviceLibPath, llvm::LLVMContext &Ctx);

/// The PTX text of P (EmitObject.cpp).
llvm::Expected<std::string> compilePTX(const Program &P,
                                       const CodegenOptions &Opts);

/// Writes the host object of P (x86-64) for --target nvptx.
llvm::Error emitNVPTXObject(const Program &P, const CodegenOptions &Opts,
                            llvm::raw_pwrite_stream &OS);

/// The C declarations the nvptx header adds to the common one
/// (NVPTXHeader.cpp): the error codes of `<name>_run` and the runtime
/// functions that describe them.
std::string nvptxHeaderExtras(const Program &P);

} // namespace tidal

#endif
