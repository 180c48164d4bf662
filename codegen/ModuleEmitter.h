//===- ModuleEmitter.h - A Program to one LLVM module -----------*- C++ -*-===//
//
// Internal to codegen/. Builds the LLVM module of a Program for a CPU: the
// weights global, one internal function per kernel and the external entry
// point `<name>_run` that calls them (see docs/abi.md). The pieces of the
// firmware contract that do not depend on where the kernels run (checking
// calls and bindings, the weights global, the signature of `<name>_run`)
// are declared here too: the nvptx host object (NVPTXHost.cpp) uses them.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_CODEGEN_MODULEEMITTER_H
#define TIDAL_CODEGEN_MODULEEMITTER_H

#include "codegen/TargetSetup.h"
#include "compiler/Loop.h"
#include "llvm/IR/Module.h"
#include <memory>

namespace tidal {

/// The unoptimized module of P for the CPU target T, verified.
llvm::Expected<std::unique_ptr<llvm::Module>>
buildModule(const Program &P, const TargetSetup &T, llvm::LLVMContext &Ctx);

/// The kernel that C calls, checked to exist and to take as many
/// arguments as C passes.
llvm::Expected<const Kernel *> calledKernel(const Program &P,
                                            const KernelCall &C);

/// Checks that Bd, the binding of parameter D in the call C, names real
/// storage big enough for D, that D does not write an input or the
/// weights, and that memory planning has replaced every temporary.
llvm::Error checkBinding(const Program &P, const KernelCall &C,
                         const BufferDecl &D, const BufferBinding &Bd);

/// The weights of P as the internal constant `<name>_weights` in the
/// section `.tidal.weights.<name>`; null when P has none or they are
/// external (TargetSetup::ExternalWeights).
llvm::GlobalVariable *emitWeights(llvm::Module &M, const Program &P,
                                  const TargetSetup &T);

/// Declares `int <name>_run(const void *const inputs[], void *const
/// outputs[], void *workspace)`, the object's entry point, with named
/// arguments and no attributes.
llvm::Function *declareRun(llvm::Module &M, const Program &P);
/// Declares `int <name>_run_threaded(struct tidal_pool *pool, const void
/// *const inputs[], void *const outputs[], void *workspace)` (CPU targets),
/// with named arguments and no attributes.
llvm::Function *declareRunThreaded(llvm::Module &M, const Program &P);

} // namespace tidal

#endif
