//===- Backend.h - LLVM plumbing shared by every target ---------*- C++ -*-===//
//
// Internal to codegen/. Every module codegen builds (the CPU module, the
// nvptx device module and the nvptx host module) goes through the same
// steps: a context whose diagnostics are collected rather than printed, a
// module named after the program for the target's triple and data layout,
// verification, LLVM's optimization pipeline and the target's code
// generator. They live here once, so that the targets cannot drift apart
// in what makes the output deterministic and free of library calls.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_CODEGEN_BACKEND_H
#define TIDAL_CODEGEN_BACKEND_H

#include "codegen/TargetSetup.h"
#include "compiler/Loop.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include <memory>
#include <string>

namespace tidal {

/// An LLVMContext that keeps LLVM's remarks and warnings (e.g. "loop not
/// vectorized") off the user's terminal and collects its errors, which the
/// default handler would turn into an exit of the whole process.
class CodegenContext {
public:
  CodegenContext();
  llvm::LLVMContext &get() { return Ctx; }
  /// The errors LLVM reported so far, as one Error (success if none).
  llvm::Error errors() const;

private:
  // Declared first: the context's handler writes here until it is gone.
  std::string Errors;
  llvm::LLVMContext Ctx;
};

/// An empty module for P on the target T. Its identifier and source file
/// name are the program name (never a path or a time), so output is
/// reproducible.
std::unique_ptr<llvm::Module>
createModule(const Program &P, const TargetSetup &T, llvm::LLVMContext &Ctx);

/// Verifies a module codegen built; invalid IR is a Tidal bug.
llvm::Error verifyGenerated(const llvm::Module &M);

/// Checks that Opts.OptLevel is one of 0..3.
llvm::Error checkOptLevel(const CodegenOptions &Opts);

/// Runs LLVM's default pipeline at OptLevel (0..3) over M, with no library
/// function known to LLVM except memcpy and memset, so that no pass
/// introduces calls to libm or libc.
void optimizeModule(llvm::Module &M, const TargetSetup &T, unsigned OptLevel);

/// Runs T's code generator over M into OS (an object file or, for nvptx,
/// PTX assembly), again with no library function known to LLVM.
llvm::Error emitCode(llvm::Module &M, const TargetSetup &T,
                     llvm::raw_pwrite_stream &OS, llvm::CodeGenFileType Type);

} // namespace tidal

#endif
