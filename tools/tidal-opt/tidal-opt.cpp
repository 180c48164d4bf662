//===- tidal-opt.cpp - Run named passes over IR text ----------------------===//
//
// The golden-test driver, in the manner of LLVM's `opt`: reads graph IR
// (text starting with `graph`) or loop IR (text starting with `program`),
// verifies it, runs the passes named by --passes through the PassManager,
// and prints the resulting IR to stdout (or, with --emit-llvm, the
// program's LLVM IR, for golden tests of codegen).
//
//   tidal-opt [--passes=a,b,c] [--print-after=NAME]... [--print-after-all]
//             [--verify=0|1] [--target=x86-64] [--mcpu=CPU] [--emit-llvm]
//             [--vector-bits=N]
//             [--opt-level=N] [--winograd=-1|0|2|4] [--elide-constants=N]
//             FILE|-
//
// Exit status: 0 on success, 1 when the input does not parse or verify or a
// pass fails (every error goes to stderr, one per line, as `error: ...`),
// 2 for a bad command line.
//
//===----------------------------------------------------------------------===//

#include "codegen/Codegen.h"
#include "compiler/Diagnostics.h"
#include "compiler/Graph.h"
#include "compiler/Loop.h"
#include "compiler/PassManager.h"
#include "passes/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

using namespace tidal;

namespace {

/// The command line, as typed options.
struct Options {
  std::string Input;
  std::string Passes;
  std::vector<std::string> PrintAfter;
  bool PrintAfterAll = false;
  bool Verify = true;
  int64_t ElideConstants = 0;
  /// The passes see TargetInfo::generic(Target), with VectorBits instead
  /// of its vector width when that is not 0.
  std::string Target = "x86-64";
  /// When set, the passes see what LLVM says this CPU has (targetInfo())
  /// instead of the generic description.
  std::string CPU;
  unsigned VectorBits = 0;
  /// Write the program's LLVM IR after the passes instead of the loop IR.
  bool EmitLLVM = false;
  unsigned OptLevel = 2;
  /// PassOptions::Winograd.
  int Winograd = -1;
};

/// The first word of the text, skipping blank lines and `//` comments.
llvm::StringRef firstWord(llvm::StringRef Text) {
  while (true) {
    Text = Text.ltrim();
    if (!Text.starts_with("//"))
      break;
    Text = Text.drop_until([](char C) { return C == '\n'; });
  }
  return Text.take_while([](char C) { return llvm::isAlnum(C) || C == '_'; });
}

/// Looks up each comma-separated pass name; unknown names are an error that
/// lists the valid ones.
llvm::Expected<std::vector<const PassInfo *>>
resolvePasses(llvm::StringRef List) {
  std::vector<const PassInfo *> Result;
  llvm::SmallVector<llvm::StringRef, 8> Names;
  List.split(Names, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef Name : Names) {
    Name = Name.trim();
    if (const PassInfo *P = lookupPass(Name)) {
      Result.push_back(P);
      continue;
    }
    std::string Valid;
    for (const PassInfo *P : allPasses())
      Valid += (Valid.empty() ? "" : ", ") + std::string(P->Name);
    return makeError("unknown pass '" + Name + "'; valid passes: " + Valid);
  }
  return Result;
}

/// Parses (and, when asked, verifies) the input into a Module.
llvm::Error loadModule(const Options &O, llvm::StringRef Text, Module &M) {
  llvm::StringRef Word = firstWord(Text);
  if (Word == "graph") {
    auto G = parseGraph(Text);
    if (!G)
      return makeError(O.Input + ":" + llvm::toString(G.takeError()));
    M.G = std::move(*G);
    return O.Verify ? verifyGraph(*M.G) : llvm::Error::success();
  }
  if (Word == "program") {
    auto P = parseProgram(Text);
    if (!P)
      return makeError(O.Input + ":" + llvm::toString(P.takeError()));
    M.P = std::move(*P);
    // Graph passes find an empty graph rather than a null one.
    M.G = std::make_unique<Graph>();
    return O.Verify ? verifyProgram(*M.P) : llvm::Error::success();
  }
  return makeError(O.Input +
                   ": expected the IR to start with 'graph' or 'program'");
}

CodegenOptions codegenOptions(const Options &O) {
  CodegenOptions C;
  C.Target = O.Target;
  C.CPU = O.CPU;
  C.OptLevel = O.OptLevel;
  return C;
}

llvm::Expected<PassOptions> passOptions(const Options &O) {
  llvm::Expected<TargetInfo> Target = O.CPU.empty()
                                          ? TargetInfo::generic(O.Target)
                                          : targetInfo(codegenOptions(O));
  if (!Target)
    return Target.takeError();
  PassOptions P;
  P.Target = std::move(*Target);
  if (O.VectorBits)
    P.Target.VectorBits = O.VectorBits;
  P.OptLevel = O.OptLevel;
  P.Winograd = O.Winograd;
  return P;
}

int run(const Options &O) {
  auto Buf = llvm::MemoryBuffer::getFileOrSTDIN(O.Input);
  if (!Buf) {
    llvm::errs() << "error: cannot read '" << O.Input
                 << "': " << Buf.getError().message() << '\n';
    return 1;
  }
  auto Passes = resolvePasses(O.Passes);
  if (!Passes) {
    reportErrors(Passes.takeError(), llvm::errs());
    return 1;
  }
  llvm::Expected<PassOptions> PassOpts = passOptions(O);
  if (!PassOpts) {
    reportErrors(PassOpts.takeError(), llvm::errs());
    return 1;
  }
  Module M;
  if (llvm::Error E = loadModule(O, (*Buf)->getBuffer(), M)) {
    reportErrors(std::move(E), llvm::errs());
    return 1;
  }
  GraphPrintOptions GOpts;
  GOpts.ElideConstantsAbove = O.ElideConstants;
  LoopPrintOptions LOpts;
  LOpts.ElideWeights = O.ElideConstants > 0;

  PassManager PM(llvm::outs());
  for (const PassInfo *P : *Passes)
    PM.add(P);
  for (const std::string &Name : O.PrintAfter)
    PM.printAfter(Name);
  PM.printAfterAll(O.PrintAfterAll);
  PM.verifyEach(O.Verify);
  PM.printOptions(GOpts, LOpts);
  if (llvm::Error E = PM.run(M, *PassOpts)) {
    llvm::outs().flush();
    reportErrors(std::move(E), llvm::errs());
    return 1;
  }
  if (M.P && O.EmitLLVM) {
    if (llvm::Error E = emitLLVMIR(*M.P, codegenOptions(O), llvm::outs())) {
      llvm::outs().flush();
      reportErrors(std::move(E), llvm::errs());
      return 1;
    }
  } else if (M.P)
    printProgram(*M.P, llvm::outs(), LOpts);
  else
    printGraph(*M.G, llvm::outs(), GOpts);
  llvm::outs().flush();
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options O;
  CLI::App App{"tidal-opt: run named Tidal passes over graph or loop IR text"};
  App.add_option("input", O.Input, "IR text file, or - for stdin")->required();
  App.add_option("--passes", O.Passes, "comma-separated pass names, in order");
  App.add_option("--print-after", O.PrintAfter,
                 "print the IR after this pass (repeatable)")
      ->allow_extra_args(false);
  App.add_flag("--print-after-all", O.PrintAfterAll,
               "print the IR after every pass");
  App.add_option("--verify", O.Verify,
                 "verify the input and the IR after each pass (0 or 1)");
  App.add_option("--target", O.Target,
                 "x86-64 (as x86-64-v3), cortex-a53 or nvptx (as sm_80)");
  App.add_option("--mcpu", O.CPU,
                 "the CPU whose features the passes see (as tidalc's "
                 "--mcpu); default: the target's generic description");
  App.add_flag("--emit-llvm", O.EmitLLVM,
               "write the LLVM IR of the program after the passes");
  App.add_option("--vector-bits", O.VectorBits,
                 "widest vector register the schedule may use (default: "
                 "the target's)");
  App.add_option("--opt-level", O.OptLevel, "optimization level, 0 to 3");
  App.add_option("--winograd", O.Winograd,
                 "Winograd 3x3 convolutions: -1 where they pay (default), 0 "
                 "never, 2 or 4 that tile size wherever legal")
      ->check(CLI::IsMember({-1, 0, 2, 4}));
  App.add_option("--elide-constants", O.ElideConstants,
                 "print constants with more elements than this as elided "
                 "(0 prints everything)");
  std::string Names;
  for (const PassInfo *P : allPasses())
    Names += std::string("\n  ") + P->Name + "  " + P->Description;
  App.footer("Passes (in default pipeline order):" + Names);
  try {
    App.parse(argc, argv);
  } catch (const CLI::ParseError &E) {
    int Status = App.exit(E);
    return Status == 0 ? 0 : 2;
  }
  return run(O);
}
