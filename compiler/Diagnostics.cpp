//===- Diagnostics.cpp - Errors a user can cause --------------------------===//

#include "compiler/Diagnostics.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

char ModelError::ID = 0;

void ModelError::log(llvm::raw_ostream &OS) const {
  if (NodeName.empty() && Op.empty()) {
    OS << Reason;
    return;
  }
  OS << "node '" << NodeName << "' (" << Op;
  if (Opset > 0)
    OS << ", opset " << Opset;
  OS << "): " << Reason;
}

std::error_code ModelError::convertToErrorCode() const {
  return llvm::inconvertibleErrorCode();
}

llvm::Error tidal::modelError(llvm::StringRef NodeName, llvm::StringRef Op,
                              int64_t Opset, const llvm::Twine &Reason) {
  return llvm::make_error<ModelError>(NodeName.str(), Op.str(), Opset,
                                      Reason.str());
}

llvm::Error tidal::makeError(const llvm::Twine &Msg) {
  return llvm::make_error<llvm::StringError>(Msg,
                                             llvm::inconvertibleErrorCode());
}

/// Prints Msg with "error: " before each of its lines. Some messages span
/// lines (a failed command's line and its stderr); a script that keeps the
/// lines starting with "error: " must still see all of them.
static void printErrorLines(llvm::StringRef Msg, llvm::raw_ostream &OS) {
  llvm::SmallVector<llvm::StringRef, 4> Lines;
  Msg.rtrim("\n").split(Lines, '\n');
  for (llvm::StringRef Line : Lines)
    OS << "error: " << Line << '\n';
}

bool tidal::reportErrors(llvm::Error E, llvm::raw_ostream &OS) {
  bool AnyModel = false;
  llvm::handleAllErrors(
      std::move(E),
      [&](const ModelError &M) {
        AnyModel = true;
        std::string Msg;
        llvm::raw_string_ostream MS(Msg);
        M.log(MS);
        printErrorLines(MS.str(), OS);
      },
      [&](const llvm::ErrorInfoBase &B) { printErrorLines(B.message(), OS); });
  return AnyModel;
}
