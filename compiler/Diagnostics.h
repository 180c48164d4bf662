//===- Diagnostics.h - Errors a user can cause ------------------*- C++ -*-===//
//
// User errors are llvm::Error values. A model that cannot be compiled gives
// one ModelError per offending node, joined so that every node is reported
// at once; tidalc maps any ModelError to exit status 2. Anything else (a
// bad flag, a missing file) is a plain StringError.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_DIAGNOSTICS_H
#define TIDAL_COMPILER_DIAGNOSTICS_H

#include "llvm/Support/Error.h"
#include <string>

namespace tidal {

/// The model is invalid or unsupported at one node.
class ModelError : public llvm::ErrorInfo<ModelError> {
public:
  static char ID;
  /// NodeName may be empty for graph-level problems (then Op is empty too).
  ModelError(std::string NodeName, std::string Op, int64_t Opset,
             std::string Reason)
      : NodeName(std::move(NodeName)), Op(std::move(Op)), Opset(Opset),
        Reason(std::move(Reason)) {}

  /// `node 'conv1' (Conv, opset 13): reason`.
  void log(llvm::raw_ostream &OS) const override;
  std::error_code convertToErrorCode() const override;

  std::string NodeName, Op;
  int64_t Opset;
  std::string Reason;
};

/// Makes a ModelError for a node.
llvm::Error modelError(llvm::StringRef NodeName, llvm::StringRef Op,
                       int64_t Opset, const llvm::Twine &Reason);

/// Makes a plain error with a formatted message.
llvm::Error makeError(const llvm::Twine &Msg);

/// Prints every error in E, each line of its message prefixed with
/// "error: ", and consumes it. Returns true if any of them was a ModelError
/// (exit 2).
bool reportErrors(llvm::Error E, llvm::raw_ostream &OS);

/// Collects independent errors (one per node) so all are reported at once.
class ErrorCollector {
public:
  void add(llvm::Error E) {
    if (!E)
      return;
    ++Count;
    All = llvm::joinErrors(std::move(All), std::move(E));
  }
  bool empty() const { return Count == 0; }
  llvm::Error take() {
    Count = 0;
    return std::move(All);
  }
private:
  unsigned Count = 0;
  llvm::Error All = llvm::Error::success();
};

} // namespace tidal

#endif
