//===- ModuleEmitter.h - A Program to one LLVM module -----------*- C++ -*-===//
//
// Internal to codegen/. Builds the LLVM module of a Program: the weights
// global, one internal function per kernel and the external entry point
// `<name>_run` that calls them (see docs/abi.md).
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_CODEGEN_MODULEEMITTER_H
#define TIDAL_CODEGEN_MODULEEMITTER_H

#include "codegen/TargetSetup.h"
#include "compiler/Loop.h"
#include "llvm/IR/Module.h"
#include <memory>

namespace tidal {

/// The unoptimized module of P for the target T, verified.
llvm::Expected<std::unique_ptr<llvm::Module>>
buildModule(const Program &P, const TargetSetup &T, llvm::LLVMContext &Ctx);

/// Runs LLVM's default pipeline at OptLevel (0..3) over M, with no library
/// function known to LLVM except memcpy and memset, so that no pass
/// introduces calls to libm or libc.
void optimizeModule(llvm::Module &M, const TargetSetup &T, unsigned OptLevel);

} // namespace tidal

#endif
