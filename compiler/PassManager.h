//===- PassManager.h - Running named passes over a module -------*- C++ -*-===//
//
// The mechanism only: a Module holds the graph IR and, once lowered, the
// loop-level Program; a pass is a named function over the Module. The
// registry of pass names and the default pipeline live in passes/
// (passes/Passes.def), so this floor knows no concrete pass.
//
// After each pass the manager verifies whichever IR is current (the
// Program once it exists) and prints it when --print-after names the pass.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_PASSMANAGER_H
#define TIDAL_COMPILER_PASSMANAGER_H

#include "compiler/Graph.h"
#include "compiler/Loop.h"
#include "compiler/TargetInfo.h"
#include "llvm/Support/Error.h"
#include <map>
#include <set>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace tidal {

/// What the passes may know about the target. Typed options, no globals.
struct PassOptions {
  /// The target and CPU (vector width, registers, features, caches).
  TargetInfo Target;
  /// -O level, 0 to 3. At 0 the schedule leaves loops serial.
  unsigned OptLevel = 2;
  /// Schedules the user gave for kernels by name (`--schedule FILE`):
  /// apply-schedule tries each instead of the kernel's default and keeps
  /// the default, with a warning, when a directive is illegal.
  std::vector<KernelSchedule> UserSchedules;
  /// Winograd convolutions (passes/lower/Winograd.h): -1 where they pay
  /// (the default), 0 never, 2 or 4 that tile size wherever legal.
  int Winograd = -1;
};

/// What the pipeline learned about one kernel, for `tidalc info`.
struct KernelReport {
  /// The ONNX operators of the fused group, anchor first ("Conv+Relu"), and
  /// their node names.
  std::string Ops, Nodes;
  /// The anchor's operands that are not constants, and the group's result.
  std::vector<TensorType> Operands;
  TensorType Result;
  /// Multiply-accumulates of the operation as ONNX defines it (convolutions
  /// and matrix products; 0 for the others), whatever algorithm computes it.
  int64_t MACs = 0;
  /// The directives apply-schedule applied, as the IR prints them, and
  /// whether they were the user's (--schedule) or the default.
  std::vector<std::string> Schedule;
  bool UserSchedule = false;
};

/// A temporary as plan-memory placed it in the workspace.
struct PlannedBuffer {
  /// `kernel.param` of the call that first names it.
  std::string Label;
  int64_t Offset = 0, Size = 0;
  /// The first and last call that name it (Program::Calls indices).
  int64_t First = 0, Last = 0;
};

/// The workspace plan: where each temporary lives and the least any plan
/// for these lifetimes can use, the most bytes live during one call.
struct MemoryReport {
  std::vector<PlannedBuffer> Buffers;
  int64_t WorkspaceSize = 0;
  int64_t LowerBound = 0;
  /// The call at which LowerBound bytes are live.
  int64_t PeakCall = -1;
};

/// What passes record for the driver to show (`tidalc info`). Not part of
/// either IR: it describes one run of the pipeline and is empty for a
/// Program parsed from text.
struct CompileReport {
  std::map<std::string, KernelReport> Kernels; // by kernel name
  MemoryReport Memory;
};

/// The unit passes work on.
struct Module {
  std::unique_ptr<Graph> G;
  /// Null until the lowering pass has run.
  std::unique_ptr<Program> P;
  /// What passes report without failing (a user schedule that was not
  /// applied), for the driver to print.
  std::vector<std::string> Warnings;
  CompileReport Report;
};

using PassFn = llvm::Error (*)(Module &, const PassOptions &);

/// A registered pass.
struct PassInfo {
  const char *Name;
  const char *Description;
  PassFn Run;
};

/// Runs passes in order, verifying and printing between them.
class PassManager {
public:
  explicit PassManager(llvm::raw_ostream &PrintOS) : PrintOS(PrintOS) {}

  void add(const PassInfo *P) { Passes.push_back(P); }
  void printAfter(const std::string &Name) { PrintAfterNames.insert(Name); }
  void printAfterAll(bool On = true) { PrintAll = On; }
  /// Verification after every pass is on by default.
  void verifyEach(bool On) { Verify = On; }
  void printOptions(const GraphPrintOptions &G, const LoopPrintOptions &L) {
    GraphOpts = G;
    LoopOpts = L;
  }

  /// Runs every pass; stops at the first error, which names the pass when
  /// the verifier (not the pass itself) failed.
  llvm::Error run(Module &M, const PassOptions &Opts);

private:
  void print(const Module &M, const PassInfo &P);

  llvm::raw_ostream &PrintOS;
  std::vector<const PassInfo *> Passes;
  std::set<std::string> PrintAfterNames;
  bool PrintAll = false;
  bool Verify = true;
  GraphPrintOptions GraphOpts;
  LoopPrintOptions LoopOpts;
};

} // namespace tidal

#endif
