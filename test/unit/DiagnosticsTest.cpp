//===- DiagnosticsTest.cpp - How user errors are printed ------------------===//
//
// tidalc's contract (docs/cli.md) is that every line it writes to stderr
// starts with `error: `, and that any ModelError among the errors makes the
// exit status 2. reportErrors() is where both are decided: a message of
// several lines (a failed command, then its stderr) gets the prefix on each
// line, and joined errors are all printed.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"
#include <catch2/catch.hpp>

using namespace tidal;

namespace {
/// What reportErrors prints for E, and whether it saw a ModelError.
std::string report(llvm::Error E, bool &AnyModel) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  AnyModel = reportErrors(std::move(E), OS);
  return OS.str();
}
} // namespace

TEST_CASE("every line of every error starts with 'error: '", "[diagnostics]") {
  bool AnyModel = true;
  CHECK(report(makeError("linking failed\n  command: cc x.c\nx.c:1: oops\n"),
               AnyModel) ==
        "error: linking failed\nerror:   command: cc x.c\nerror: x.c:1: oops\n");
  CHECK_FALSE(AnyModel);
  CHECK(report(makeError("one line"), AnyModel) == "error: one line\n");
}

TEST_CASE("a ModelError among joined errors makes the model rejected",
          "[diagnostics]") {
  bool AnyModel = false;
  llvm::Error E = llvm::joinErrors(makeError("cannot write 'x.o'"),
                                   modelError("n", "Relu", 13, "bad\nworse"));
  CHECK(report(std::move(E), AnyModel) ==
        "error: cannot write 'x.o'\nerror: node 'n' (Relu, opset 13): bad\n"
        "error: worse\n");
  CHECK(AnyModel);
  CHECK(report(modelError("", "", 0, "'m.onnx' is not an ONNX model: the "
                                     "file is empty"),
               AnyModel) ==
        "error: 'm.onnx' is not an ONNX model: the file is empty\n");
  CHECK(AnyModel);
}
