//===- Tidalc.h - The pieces of the tidalc command line ---------*- C++ -*-===//
//
// tidalc is a thin layer over the floors below it: it parses flags (CLI11,
// in tidalc.cpp), runs the frontend, the pass pipeline and codegen
// (Compile.cpp), and for `tidalc run` also builds and runs a generated C
// driver (Run.cpp, Driver.cpp) and compares its outputs (Compare.cpp).
// Everything a user can get wrong comes back as an llvm::Error; the exit
// status is chosen in one place (exitCodeFor) so that the contract of
// docs/cli.md holds for every subcommand.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_TOOLS_TIDALC_TIDALC_H
#define TIDAL_TOOLS_TIDALC_TIDALC_H

#include "codegen/Selftest.h"
#include "compiler/Graph.h"
#include "compiler/Loop.h"
#include "compiler/PassManager.h"
#include "llvm/Support/Error.h"
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tidal {

/// Exit statuses of tidalc, as docs/cli.md and ARCHITECTURE.md state them.
enum ExitCode : int {
  ExitOk = 0,
  ExitMismatch = 1,
  ExitRejected = 2,
  ExitUsage = 3,
};

/// Prints every error in E and returns the exit status it calls for:
/// ExitRejected when any of them is a ModelError, else ExitUsage.
int exitCodeFor(llvm::Error E);

/// What `tidalc compile` (and the compile step of `tidalc run`) needs.
struct CompileOptions {
  std::string ModelPath;
  std::string Target = "x86-64";
  std::string CPU;
  unsigned OptLevel = 2;
  /// NAME -> dims, from --input-shape NAME=1x3x224x224.
  std::map<std::string, std::vector<int64_t>> InputShapes;
  /// NAME -> value, from --bind-input NAME=FILE.pb (and, for `run`,
  /// --bind-shape-inputs): graph inputs compiled in as constants.
  std::map<std::string, Tensor> BoundInputs;
  /// The files the --bind-input tensors were read from (for a depfile).
  std::vector<std::string> BoundInputFiles;
  std::vector<std::string> PrintAfter;
  bool PrintAfterAll = false;
  bool ElideConstants = false;
  /// --schedule FILE: schedules for kernels by name (parseSchedules).
  std::string ScheduleFile;
  /// --winograd: auto, off, 2 or 4 (PassOptions::Winograd).
  std::string Winograd = "auto";
  /// --weights-section, --align (CodegenOptions).
  std::string WeightsSection;
  uint64_t Align = 64;
  /// --weights: "embedded" or "external"; with external weights, the file
  /// writeOutputs writes them to (--weights-file, else beside the object).
  std::string Weights = "embedded";
  std::string WeightsFile;
  bool externalWeights() const { return Weights == "external"; }
};

/// The emitted form of `tidalc compile`.
enum class EmitKind { Object, LLVMIR, PTX };

/// Checks that Target names a known target ("x86-64", "cortex-a53", "nvptx").
llvm::Error checkTarget(llvm::StringRef Target);

/// Parses `NAME=1x3x224x224` into Shapes; errors name the bad argument.
llvm::Error parseInputShape(llvm::StringRef Arg,
                            std::map<std::string, std::vector<int64_t>> &Shapes);

/// Parses `NAME=FILE.pb` and reads the TensorProto file into Bound[NAME];
/// errors name the bad argument or the unreadable file.
llvm::Error parseBindInput(llvm::StringRef Arg,
                           std::map<std::string, Tensor> &Bound);

/// --bind-shape-inputs: binds every graph input the model needs at compile
/// time (compileTimeInputs()) to its test value, Inputs[K] being the K-th
/// graph input of the model (initializers excluded), as input_K.pb is. Asks
/// again after each round, since a node skipped because of an earlier one
/// may need more. Inputs the test data lacks stay unbound (the compile then
/// says why the model is rejected).
void bindShapeInputs(CompileOptions &C, const std::vector<Tensor> &Inputs);

/// The names bound in C, graph inputs in graph order first: the list that
/// `run` prints as `bound inputs: a, b`.
std::vector<std::string> boundInputNames(const CompileOptions &C);

/// With inputs bound, which of the model's graph inputs (initializers
/// excluded, as input_K.pb counts them) stay run-time inputs: their K, in
/// graph order. These are the compiled model's inputs. NumDeclared is set
/// to the number of graph inputs (the input_K.pb files a test has).
llvm::Expected<std::vector<size_t>>
runtimeInputIndices(const CompileOptions &C, size_t &NumDeclared);

/// A C identifier made from the stem of Path (`out/My-Net.o` -> `My_Net`).
std::string defaultModelName(llvm::StringRef Path);
/// Whether Name can prefix the header's symbols (a C identifier).
bool isCIdentifier(llvm::StringRef Name);

/// Checks that the model file exists and is a regular file (a folder or a
/// pipe is not read as one): a usage or environment error otherwise, where
/// a file that reads but holds no model is the model's fault (status 2).
llvm::Error checkModelReadable(llvm::StringRef Path);

/// Imports the model and runs the default pipeline; the result is the
/// lowered Program named Name. IR printing (--print-after) goes to stdout.
/// Where ReadFiles is set, every file the compile read is appended to it,
/// each once: the model, its external data, the --bind-input tensors and
/// the --schedule file, as given (a depfile's prerequisites).
llvm::Expected<std::unique_ptr<Program>>
compileToProgram(const CompileOptions &Opts, llvm::StringRef Name,
                 std::vector<std::string> *ReadFiles = nullptr);

/// compileToProgram's pipeline, returning the whole Module: the Program and
/// what the passes reported about it (`tidalc info --layers`).
llvm::Expected<Module>
compileToModule(const CompileOptions &Opts, llvm::StringRef Name,
                std::vector<std::string> *ReadFiles = nullptr);

/// `tidalc info`: the model's description, and with Layers, Json or
/// MemoryMap set, what the compile for Compile's target makes of it.
struct InfoOptions {
  CompileOptions Compile;
  /// The per-kernel table, the workspace and its lower bound.
  bool Layers = false;
  /// The same as JSON on stdout, instead of the text.
  bool Json = false;
  /// --memory-map FILE.svg: the workspace plan over time as a picture.
  std::string MemoryMap;
};
/// Returns the exit status (errors are printed).
int runInfo(const InfoOptions &Opts);

/// A make depfile (`tidalc compile -MD`): the outputs depend on Prereqs;
/// with Phony (-MP), each prerequisite but the model is also a target of no
/// rule, so that make does not stop when one is deleted.
struct DepFile {
  std::string Path;
  std::vector<std::string> Prereqs;
  bool Phony = false;
};

/// `tidalc compile --emit-selftest FILE` and its options.
struct SelftestOptions {
  /// FILE; empty: no selftest.
  std::string Path;
  /// --selftest-data DIR: input_K.pb, and maybe output_K.pb.
  std::string DataDir;
  /// --selftest-rtol, --selftest-atol.
  double RTol = 1e-3, ATol = 1e-4;
};

/// The test vector of P's selftest: inputs from S.DataDir or pseudo-random
/// (floats uniform in [-1, 1)), expected outputs from S.DataDir's
/// output_K.pb or, without them, from running the model compiled for this
/// machine (x86-64) on the inputs. The data files read are appended to
/// ReadFiles where it is set (the depfile's prerequisites).
llvm::Expected<SelftestVector>
makeSelftestVector(const Program &P, const CompileOptions &C,
                   const SelftestOptions &S,
                   std::vector<std::string> *ReadFiles = nullptr);

/// A selftest for writeOutputs: where it goes, the header's name it
/// includes, and what it checks.
struct SelftestFile {
  std::string Path;
  std::string HeaderName;
  SelftestVector Vector;
};

/// Checks where the weights go (--weights, --weights-section, --align)
/// for the target of C (checkPlacement).
llvm::Error checkWeightsFlags(const CompileOptions &C);

/// Writes P's object (or LLVM IR) to OutPath ("-": stdout), unless
/// HeaderPath is empty its C header to HeaderPath, with external weights
/// the weights to Opts.WeightsFile, where Selftest is set the selftest, and
/// where Dep is set the depfile naming them all. All are written to
/// temporary files beside their destinations and renamed into place only
/// when all succeeded, so a failure never leaves a partial file; special
/// files such as /dev/null are written in place.
llvm::Error writeOutputs(const Program &P, const CompileOptions &Opts,
                         EmitKind Emit, llvm::StringRef OutPath,
                         llvm::StringRef HeaderPath,
                         const DepFile *Dep = nullptr,
                         const SelftestFile *Selftest = nullptr);

/// Removes Path if it is a regular file. A failed compile removes its
/// destinations: a stale output of an earlier run would look current to a
/// build system.
void removeStale(llvm::StringRef Path);

/// The absolute path of the runtime archive for Target, found relative to
/// the tidalc executable (<bindir>/../lib[/<target>]/libtidalrt.a).
llvm::Expected<std::string> runtimeArchive(llvm::StringRef Target);
/// nvptx: the runtime's math functions as nvptx64 bitcode, found like the
/// archives (<bindir>/../lib/nvptx/libtidalrt.bc); codegen reports it
/// missing only if a kernel needs it.
std::string deviceMathLibrary();
/// Everything a link needs after the objects: the archive, then any system
/// libraries the runtime needs on that target.
llvm::Expected<std::vector<std::string>> linkFlags(llvm::StringRef Target);

/// Options of `tidalc run`.
struct RunOptions {
  CompileOptions Compile;
  std::string InputsDir;
  bool Compare = false;
  double RTol = 1e-3;
  double ATol = 1e-4;
  unsigned Threads = 1;
  unsigned Repeat = 0;
  /// Keep the temporary build directory here (created if missing).
  std::string KeepDir;
  /// Write each output as DIR/output_K.pb.
  std::string OutputDir;
  /// Seconds the driver may run; 0 is no limit.
  unsigned Timeout = 0;
  /// --bind-shape-inputs: bind the inputs the model needs at compile time
  /// to their values in InputsDir (bindShapeInputs()).
  bool BindShapeInputs = false;
};

/// `tidalc run`; returns the exit status (errors are printed).
int runModel(const RunOptions &Opts);

/// DIR/PREFIX0.pb, PREFIX1.pb, ... (TensorProto files) up to the first
/// missing one; each path read is appended to ReadFiles where it is set.
llvm::Expected<std::vector<Tensor>>
readTensorFiles(llvm::StringRef Dir, llvm::StringRef Prefix,
                std::vector<std::string> *ReadFiles = nullptr);

/// Checks test inputs (input_K.pb of Dir, in that order) against the
/// compiled model P's inputs and keeps those it feeds: all of them, or with
/// inputs bound in C (which input_K.pb still counts: K is the graph input of
/// the original model) the others. Errors say which input differs.
llvm::Expected<std::vector<Tensor>> checkTestInputs(const Program &P,
                                                    std::vector<Tensor> Inputs,
                                                    const CompileOptions &C,
                                                    llvm::StringRef Dir);

/// Links P (compiled for Opts.Compile's target) with a generated driver in
/// a work folder (Opts.KeepDir, else a temporary one), runs it on Inputs
/// and reads its outputs back.
llvm::Expected<std::vector<Tensor>>
buildAndRun(const RunOptions &Opts, const Program &P,
            const std::vector<Tensor> &Inputs);

/// The C source of a driver for P (see Driver.cpp for its command line);
/// Threaded (the CPU targets) runs it through <name>_run_threaded;
/// ExternalWeights reads the weights file and defines <name>_load_weights.
std::string generateDriver(const Program &P, llvm::StringRef HeaderName,
                           bool Threaded, bool ExternalWeights = false);

/// The result of comparing one output.
struct CompareResult {
  bool Match = true;
  /// A one-line description, printed whether it matched or not.
  std::string Line;
};

/// Compares Got with Want elementwise: |got - want| <= ATol + RTol*|want|,
/// NaN matches NaN, infinities must be equal; types and shapes must agree.
/// RTol and ATol are finite and >= 0 (tidalc rejects other --rtol and
/// --atol values as usage errors).
CompareResult compareTensors(const Tensor &Got, const Tensor &Want,
                             double RTol, double ATol);

/// Names of the model's graph inputs that are fed at run time (initializers
/// excluded), in graph order, with their declared dims (-1 for symbolic
/// ones). Used to fill symbolic input dims from the test data's shapes.
struct DeclaredInput {
  std::string Name;
  std::vector<int64_t> Dims;
  bool HasShape = false;
};
llvm::Expected<std::vector<DeclaredInput>> declaredInputs(llvm::StringRef Path);

/// Writes T as a serialized ONNX TensorProto (raw_data) named Name.
llvm::Error writeTensorProtoFile(const Tensor &T, llvm::StringRef Name,
                                 llvm::StringRef Path);

} // namespace tidal

#endif
