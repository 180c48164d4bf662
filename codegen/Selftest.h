//===- Selftest.h - The on-target self-check of a model ---------*- C++ -*-===//
//
// `tidalc compile --emit-selftest` writes, beside the object and header, a
// C file that runs the model on an embedded test vector and compares its
// outputs (docs/abi.md, "On-target self-check"). Apart from Codegen.h
// because it holds tensors (compiler/Graph.h), whose names would clash
// with LLVM's in the code generator's files.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_CODEGEN_SELFTEST_H
#define TIDAL_CODEGEN_SELFTEST_H

#include "compiler/Graph.h"
#include "compiler/Loop.h"
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace tidal {

/// The test vector of an on-target self-check: one tensor per input and per
/// output of the Program, of its type, and the tolerance of float outputs.
struct SelftestVector {
  std::vector<Tensor> Inputs, Expected;
  double RTol = 1e-3, ATol = 1e-4;
  /// Where the inputs and the expected outputs came from, for the file's
  /// opening comment (no paths: the file must not depend on the folder).
  std::string InputsFrom, ExpectedFrom;
};

/// Writes the C99 self-check of P (`tidalc compile --emit-selftest`,
/// docs/abi.md): V embedded as constants and `<name>_selftest(outputs,
/// workspace)`, which runs `<name>_run` on them and compares; the file
/// includes P's header as HeaderName. P has no 1-bit inputs or outputs.
void emitSelftest(const Program &P, llvm::StringRef HeaderName,
                  const SelftestVector &V, llvm::raw_ostream &OS);

} // namespace tidal

#endif
