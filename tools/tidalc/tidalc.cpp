//===- tidalc.cpp - The Tidal compiler's command line ---------------------===//
//
// Subcommands compile, run, info and link-flags (docs/cli.md). Flags are
// parsed with CLI11, whose exceptions are caught here: a bad command line
// exits with status 3, like every other usage or environment error, and is
// printed as tidalc prints every error (`error: ` lines on stderr, not
// CLI11's own format); a model the compiler rejects exits with 2. Values
// CLI11 cannot judge (a NaN tolerance, zero threads) are checked after it.
//
// CLI11 has no short options with attached values such as `-O2`, nor
// single-dash names of two letters, so argv is pre-scanned: each `-O<N>`
// becomes `--opt-level=<N>`, and the compilers' depfile flags `-MD`, `-MP`
// and `-MF FILE` become `--MD`, `--MP` and `--MF FILE`.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "codegen/Codegen.h"
#include "compiler/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <CLI/CLI.hpp>
#include <cmath>
#include <optional>

using namespace tidal;

#ifdef TIDAL_JEMALLOC
/// jemalloc's options, read from this symbol when it starts: memory in
/// transparent huge pages (2 MiB instead of 4 KiB per page fault), and what
/// is freed kept for the next allocation instead of given back, as a
/// compile is one short process. Measured on resnet50 (x86-64, 159 MB of
/// weights): 7.2-10.1 s -> 5.0-8.1 s, page faults (system time) 2.3 s ->
/// 1.5 s; the output is the same bytes.
extern "C" {
const char *malloc_conf =
    "thp:always,metadata_thp:auto,dirty_decay_ms:-1,muzzy_decay_ms:-1";
}
#endif

namespace {
/// The flags of `tidalc compile` as parsed, before they are checked.
struct CompileFlags {
  CompileOptions C;
  std::string Output, Name, Header, Emit = "obj";
  std::vector<std::string> Shapes, Binds;
  /// -MD, -MF FILE, -MP.
  bool DepFile = false, DepPhony = false;
  std::string DepPath;
  /// --emit-selftest FILE and the flags that shape it.
  SelftestOptions Selftest;
};

/// Everything the command line can say; one subcommand is filled in.
struct Flags {
  CompileFlags Compile;
  RunOptions Run;
  std::vector<std::string> RunShapes, RunBinds;
  InfoOptions Info;
  std::vector<std::string> InfoShapes, InfoBinds;
  std::string LinkTarget = "x86-64";
};
} // namespace

static const std::vector<std::string> Targets = {"x86-64", "cortex-a53",
                                                 "nvptx"};

/// `-O2` -> `--opt-level=2` (anything else is passed through).
static std::vector<std::string> preScan(int Argc, char **Argv) {
  std::vector<std::string> Args;
  bool Rest = false;
  for (int I = 0; I < Argc; ++I) {
    llvm::StringRef A(Argv[I]);
    Rest |= A == "--";
    bool IsOpt = !Rest && I > 0 && A.size() > 2 && A.starts_with("-O") &&
                 llvm::all_of(A.drop_front(2), llvm::isDigit);
    bool IsDep = !Rest && I > 0 && (A == "-MD" || A == "-MP" || A == "-MF");
    Args.push_back(IsOpt   ? "--opt-level=" + A.drop_front(2).str()
                   : IsDep ? "-" + A.str()
                           : A.str());
  }
  return Args;
}

/// Flags shared by compile and run.
static void addCodegenFlags(CLI::App *Sub, CompileOptions &C,
                            std::vector<std::string> &Shapes,
                            std::vector<std::string> &Binds) {
  Sub->add_option("model", C.ModelPath, "The ONNX model")->required();
  Sub->add_option("--target", C.Target, "x86-64 (default), cortex-a53, nvptx")
      ->check(CLI::IsMember(Targets));
  Sub->add_option("--mcpu", C.CPU,
                  "CPU to generate code for (default: x86-64-v3; cortex-a53; "
                  "sm_80); native: the host's (x86-64)");
  Sub->add_option("--opt-level", C.OptLevel, "Optimization level, also -O0..-O3")
      ->check(CLI::Range(0, 3));
  Sub->add_option("--input-shape", Shapes,
                  "NAME=1x3x224x224: fix an input's symbolic dims (repeatable)")
      ->allow_extra_args(false);
  Sub->add_option("--bind-input", Binds,
                  "NAME=FILE.pb: compile input NAME in as this constant "
                  "(a TensorProto; repeatable)")
      ->allow_extra_args(false);
  Sub->add_option("--print-after", C.PrintAfter,
                  "Print the IR after this pass (repeatable)")
      ->allow_extra_args(false);
  Sub->add_flag("--print-after-all", C.PrintAfterAll,
                "Print the IR after every pass");
  Sub->add_flag("--elide-constants", C.ElideConstants,
                "Elide large constants and the weights when printing IR");
  Sub->add_option("--schedule", C.ScheduleFile,
                  "FILE: schedule directives for kernels by name, tried "
                  "instead of their defaults");
  Sub->add_option("--weights", C.Weights,
                  "embedded (default: in the object) or external (in a file "
                  "the firmware loads; docs/abi.md)")
      ->check(CLI::IsMember({"embedded", "external"}));
  Sub->add_option("--winograd", C.Winograd,
                  "Winograd 3x3 convolutions: auto (default: where they "
                  "pay), off, 2 or 4 (F(2x2,3x3) or F(4x4,3x3) wherever legal)")
      ->check(CLI::IsMember({"auto", "off", "2", "4"}));
}

static void addSelftestFlags(CLI::App *Sub, SelftestOptions &S) {
  CLI::Option *Emit = Sub->add_option(
      "--emit-selftest", S.Path,
      "FILE: also write a C file with a test vector and <name>_selftest, "
      "which checks the model on the device");
  Sub->add_option("--selftest-data", S.DataDir,
                  "DIR: the selftest's inputs (input_K.pb) and expected "
                  "outputs (output_K.pb; default: computed on this machine)")
      ->needs(Emit);
  Sub->add_option("--selftest-rtol", S.RTol,
                  "The selftest's relative tolerance (default 1e-3)")
      ->needs(Emit);
  Sub->add_option("--selftest-atol", S.ATol,
                  "The selftest's absolute tolerance (default 1e-4)")
      ->needs(Emit);
}

static void addCompile(CLI::App &App, CompileFlags &F) {
  CLI::App *Sub = App.add_subcommand(
      "compile", "Compile a model to an object file and a C header");
  addCodegenFlags(Sub, F.C, F.Shapes, F.Binds);
  Sub->add_option("-o", F.Output, "The object file to write")->required();
  Sub->add_option("--name", F.Name,
                  "Symbol prefix (<name>_run); default: from -o's stem");
  Sub->add_option("--header", F.Header,
                  "The C header to write (default: beside -o, as STEM.h)");
  Sub->add_option("--emit", F.Emit, "obj (default), llvm or ptx")
      ->check(CLI::IsMember({"obj", "llvm", "ptx"}));
  Sub->add_option("--weights-section", F.C.WeightsSection,
                  "NAME: the section of the weights (default "
                  ".tidal.weights.<name>), for a linker script");
  Sub->add_option("--weights-file", F.C.WeightsFile,
                  "PATH: where --weights external writes the weights "
                  "(default: beside -o, as STEM.bin)");
  Sub->add_option("--align", F.C.Align,
                  "N: alignment of the weights and of the workspace "
                  "(a power of two from 64, the default, to 65536)");
  Sub->add_flag("--MD", F.DepFile,
                "-MD: also write a make depfile (default: beside -o, as "
                "STEM.d) naming every file the compile read");
  Sub->add_option("--MF", F.DepPath,
                  "-MF FILE: the depfile to write (implies -MD)");
  Sub->add_flag("--MP", F.DepPhony,
                "-MP: a phony target for each prerequisite but the model");
  addSelftestFlags(Sub, F.Selftest);
}

static void addRun(CLI::App &App, Flags &F) {
  RunOptions &R = F.Run;
  CLI::App *Sub = App.add_subcommand(
      "run", "Compile, link with a driver, run, and compare the outputs");
  addCodegenFlags(Sub, R.Compile, F.RunShapes, F.RunBinds);
  Sub->add_option("--inputs", R.InputsDir,
                  "Folder with input_K.pb (and output_K.pb for --compare)")
      ->required();
  Sub->add_flag("--compare", R.Compare, "Compare with DIR/output_K.pb");
  Sub->add_option("--rtol", R.RTol, "Relative tolerance (default 1e-3)");
  Sub->add_option("--atol", R.ATol, "Absolute tolerance (default 1e-4)");
  Sub->add_option("--threads", R.Threads, "Threads of the run (CPU targets; default 1)");
  Sub->add_option("--repeat", R.Repeat, "Time N runs after a warm-up");
  Sub->add_option("--keep", R.KeepDir, "Build in this folder and keep it");
  Sub->add_option("--output-dir", R.OutputDir,
                  "Write the outputs here as output_K.pb");
  Sub->add_option("--timeout", R.Timeout,
                  "Seconds the compiled program may run (default: no limit)");
  Sub->add_flag("--bind-shape-inputs", R.BindShapeInputs,
                "Bind the inputs the model needs at compile time (shapes, "
                "axes, ...) to their values in --inputs");
}

static void addInfoAndLinkFlags(CLI::App &App, Flags &F) {
  CLI::App *Info = App.add_subcommand(
      "info", "Describe a model: opsets, inputs, outputs, operators; with "
              "--layers, what the compile makes of it");
  addCodegenFlags(Info, F.Info.Compile, F.InfoShapes, F.InfoBinds);
  Info->add_flag("--layers", F.Info.Layers,
                 "Compile for the target and list each kernel call "
                 "(operators, shapes, MACs, weight bytes, workspace "
                 "buffers, schedule) and the workspace against its lower "
                 "bound");
  Info->add_flag("--json", F.Info.Json,
                 "The --layers table and the workspace plan as JSON, "
                 "instead of the text");
  Info->add_option("--memory-map", F.Info.MemoryMap,
                   "FILE.svg: draw the workspace plan (calls across, "
                   "bytes down)");
  CLI::App *Link = App.add_subcommand(
      "link-flags", "Print what a link needs after the objects");
  Link->add_option("--target", F.LinkTarget,
                   "x86-64 (default), cortex-a53, nvptx")
      ->check(CLI::IsMember(Targets));
}

static llvm::Error parseShapes(const std::vector<std::string> &Shapes,
                               const std::vector<std::string> &Binds,
                               CompileOptions &C) {
  for (const std::string &S : Shapes)
    if (llvm::Error E = parseInputShape(S, C.InputShapes))
      return E;
  for (const std::string &B : Binds)
    if (llvm::Error E = parseBindInput(B, C.BoundInputs))
      return E;
  return llvm::Error::success();
}

static std::string defaultHeader(llvm::StringRef Output) {
  llvm::SmallString<256> H(Output);
  llvm::sys::path::replace_extension(H, ".h");
  return std::string(H);
}

/// A tolerance must be a finite number >= 0: a negative allowance means
/// nothing, and with NaN or infinity --compare would fail everything or
/// pass every finite value without saying so.
static llvm::Error checkTolerance(llvm::StringRef Flag, double V) {
  if (std::isfinite(V) && V >= 0)
    return llvm::Error::success();
  std::string Text;
  llvm::raw_string_ostream(Text) << llvm::format("%g", V);
  return makeError(Flag + " must be a finite number >= 0, not " + Text);
}

/// The selftest needs an object and a header to go with (it includes the
/// header by its file name), and a file of its own.
static llvm::Error checkSelftestFlags(const CompileFlags &F, bool Special) {
  const SelftestOptions &S = F.Selftest;
  if (F.Emit != "obj")
    return makeError("--emit-selftest needs an object file (not --emit " +
                     F.Emit + ")");
  if (Special)
    return makeError("--emit-selftest needs -o to name a file");
  if (llvm::Error E = checkTolerance("--selftest-rtol", S.RTol))
    return E;
  if (llvm::Error E = checkTolerance("--selftest-atol", S.ATol))
    return E;
  for (const std::string *Other :
       {&F.Output, &F.Header, &F.DepPath, &F.C.WeightsFile})
    if (S.Path == *Other)
      return makeError("--emit-selftest would overwrite '" + S.Path + "'");
  llvm::StringRef Name = llvm::sys::path::filename(F.Header);
  if (Name.find_first_of("\"\\\n") != llvm::StringRef::npos)
    return makeError("--emit-selftest: the header's name '" + Name +
                     "' cannot stand in an #include");
  if (!S.DataDir.empty() && !llvm::sys::fs::is_directory(S.DataDir))
    return makeError("--selftest-data '" + S.DataDir + "' is not a folder");
  return llvm::Error::success();
}

/// Resolves the file of external weights: --weights-file, else beside the
/// object as STEM.bin (which `-o -` and special files have no room for).
static llvm::Error checkWeightsFile(CompileFlags &F, bool Special) {
  if (!F.C.externalWeights()) {
    if (!F.C.WeightsFile.empty())
      return makeError("--weights-file needs --weights external");
    return llvm::Error::success();
  }
  if (F.C.WeightsFile.empty() && Special)
    return makeError("--weights external with -o '" + F.Output +
                     "' needs --weights-file");
  if (F.C.WeightsFile.empty()) {
    llvm::SmallString<256> W(F.Output);
    llvm::sys::path::replace_extension(W, ".bin");
    F.C.WeightsFile = std::string(W);
  }
  if (F.C.WeightsFile == F.Output || F.C.WeightsFile == F.Header)
    return makeError("the weights file would overwrite '" + F.C.WeightsFile +
                     "' (name another with --weights-file)");
  return llvm::Error::success();
}

static llvm::Error checkCompileFlags(CompileFlags &F) {
  if (llvm::Error E = parseShapes(F.Shapes, F.Binds, F.C))
    return E;
  if (F.Name.empty())
    F.Name = F.Output == "-" ? "model" : defaultModelName(F.Output);
  if (!isCIdentifier(F.Name))
    return makeError("--name '" + F.Name + "' is not a C identifier");
  if (F.Output == "-" && F.Emit == "obj")
    return makeError("-o -: an object file cannot go to stdout");
  // `-o -` and `-o /dev/null` get no header unless --header asks for one.
  bool Special = F.Output == "-" ||
                 (llvm::sys::fs::exists(F.Output) &&
                  !llvm::sys::fs::is_regular_file(F.Output));
  if (F.Header.empty() && !Special)
    F.Header = defaultHeader(F.Output);
  if (F.Header == F.Output && !Special)
    return makeError("the header and the object would both be '" + F.Output +
                     "' (use --header)");
  if (llvm::Error E = checkWeightsFile(F, Special))
    return E;
  if (llvm::Error E = checkWeightsFlags(F.C))
    return E;
  F.DepFile |= !F.DepPath.empty() || F.DepPhony;
  if (F.DepFile && Special)
    return makeError("a depfile (-MD, -MF, -MP) needs -o to name a file");
  if (F.DepFile && F.DepPath.empty()) {
    llvm::SmallString<256> D(F.Output);
    llvm::sys::path::replace_extension(D, ".d");
    F.DepPath = std::string(D);
  }
  if (F.DepFile && (F.DepPath == F.Output || F.DepPath == F.Header ||
                    F.DepPath == F.C.WeightsFile))
    return makeError("the depfile would overwrite '" + F.DepPath +
                     "' (use -MF)");
  for (const std::string &B : F.Binds)
    F.C.BoundInputFiles.push_back(B.substr(B.find('=') + 1));
  if (!F.Selftest.Path.empty())
    return checkSelftestFlags(F, Special);
  return llvm::Error::success();
}

/// An output that is a file the compile read would replace it: say a
/// model's external data file named like the default weights file, NET.bin
/// beside NET.onnx. An error that leaves every file as it was.
static llvm::Error checkOutputsNotRead(const CompileFlags &F,
                                       const std::vector<std::string> &Read) {
  for (const std::string *Out :
       {&F.Output, &F.Header, &F.C.WeightsFile, &F.DepPath,
        &F.Selftest.Path})
    for (const std::string &In : Read)
      if (!Out->empty() && llvm::sys::fs::equivalent(*Out, In))
        return makeError("the output '" + *Out + "' would overwrite '" + In +
                         "', which the compile reads (name another output)");
  return llvm::Error::success();
}

/// Writes the outputs of `tidalc compile`; the selftest's test vector is
/// made first (which may run the model on this machine), so that a failure
/// there leaves no output either.
static llvm::Error writeCompileOutputs(const CompileFlags &F, const Program &P,
                                       EmitKind Emit, DepFile &Dep) {
  std::optional<SelftestFile> Selftest;
  if (!F.Selftest.Path.empty()) {
    llvm::Expected<SelftestVector> V = makeSelftestVector(
        P, F.C, F.Selftest, F.DepFile ? &Dep.Prereqs : nullptr);
    if (!V)
      return V.takeError();
    Selftest =
        SelftestFile{F.Selftest.Path, llvm::sys::path::filename(F.Header).str(),
                     std::move(*V)};
  }
  return writeOutputs(P, F.C, Emit, F.Output, F.Header,
                      F.DepFile ? &Dep : nullptr,
                      Selftest ? &*Selftest : nullptr);
}

static int runCompile(CompileFlags &F) {
  if (llvm::Error E = checkCompileFlags(F))
    return exitCodeFor(std::move(E));
  EmitKind Emit = F.Emit == "llvm"  ? EmitKind::LLVMIR
                  : F.Emit == "ptx" ? EmitKind::PTX
                                    : EmitKind::Object;
  DepFile Dep{F.DepPath, {}, F.DepPhony};
  llvm::Expected<std::unique_ptr<Program>> P =
      compileToProgram(F.C, F.Name, &Dep.Prereqs);
  if (P)
    if (llvm::Error E = checkOutputsNotRead(F, Dep.Prereqs))
      return exitCodeFor(std::move(E)); // Removes nothing: one is an input.
  llvm::Error E = P ? writeCompileOutputs(F, **P, Emit, Dep) : P.takeError();
  if (!E)
    return ExitOk;
  for (const std::string &Out :
       {F.Output, F.Header, F.Selftest.Path, F.C.WeightsFile})
    removeStale(Out);
  if (F.DepFile)
    removeStale(F.DepPath);
  return exitCodeFor(std::move(E));
}

static int runLinkFlags(const std::string &Target) {
  llvm::Expected<std::vector<std::string>> F = linkFlags(Target);
  if (!F)
    return exitCodeFor(F.takeError());
  llvm::outs() << llvm::join(*F, " ") << "\n";
  return ExitOk;
}

static llvm::Error checkRunFlags(Flags &F) {
  if (llvm::Error E = checkTolerance("--rtol", F.Run.RTol))
    return E;
  if (llvm::Error E = checkTolerance("--atol", F.Run.ATol))
    return E;
  if (F.Run.Threads == 0)
    return makeError("--threads must be at least 1");
  if (llvm::Error E = checkWeightsFlags(F.Run.Compile))
    return E;
  return parseShapes(F.RunShapes, F.RunBinds, F.Run.Compile);
}

static int dispatch(CLI::App &App, Flags &F) {
  if (App.got_subcommand("compile"))
    return runCompile(F.Compile);
  if (App.got_subcommand("run")) {
    if (llvm::Error E = checkRunFlags(F))
      return exitCodeFor(std::move(E));
    return runModel(F.Run);
  }
  if (App.got_subcommand("info")) {
    if (llvm::Error E = parseShapes(F.InfoShapes, F.InfoBinds, F.Info.Compile))
      return exitCodeFor(std::move(E));
    return runInfo(F.Info);
  }
  return runLinkFlags(F.LinkTarget);
}

/// --help and --version "fail" with status 0 and print to stdout, through
/// CLI11. Any other parse error is a usage error, printed as every other
/// error is (each line starting with "error: "), with where the flags are
/// listed.
static int parseFailure(const CLI::App &App, const CLI::ParseError &E,
                        const std::vector<std::string> &Args) {
  if (E.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
    return App.exit(E) == 0 ? ExitOk : ExitUsage;
  // CLI11 would say only that a subcommand is required.
  if (Args.size() > 1 && !llvm::StringRef(Args[1]).starts_with("-") &&
      App.get_subcommands().empty())
    return exitCodeFor(makeError("unknown subcommand '" + Args[1] +
                                 "' (expected compile, run, info or "
                                 "link-flags; see 'tidalc --help')"));
  std::string Help = "tidalc --help";
  for (const CLI::App *Sub : App.get_subcommands())
    Help = "tidalc " + Sub->get_name() + " --help";
  // CLI11 starts its sentences with a capital ("Could not convert"); the
  // other errors do not. "-o is required" and "--X: ..." stay as they are.
  std::string Msg = llvm::StringRef(E.what()).trim().str();
  if (Msg.size() > 1 && llvm::isUpper(Msg[0]) && !llvm::isUpper(Msg[1]))
    Msg[0] = llvm::toLower(Msg[0]);
  return exitCodeFor(makeError(Msg + " ('" + Help + "' lists the flags)"));
}

int main(int Argc, char **Argv) {
  llvm::InitLLVM X(Argc, Argv);
  CLI::App App{"tidalc: compiles ONNX models to object files (docs/cli.md)",
               "tidalc"};
  App.require_subcommand(1);
  App.set_version_flag("--version", "tidalc 0.1");
  Flags F;
  addCompile(App, F.Compile);
  addRun(App, F);
  addInfoAndLinkFlags(App, F);
  std::vector<std::string> Args = preScan(Argc, Argv);
  std::vector<const char *> CArgs;
  for (const std::string &A : Args)
    CArgs.push_back(A.c_str());
  try {
    App.parse(static_cast<int>(CArgs.size()), CArgs.data());
  } catch (const CLI::ParseError &E) {
    return parseFailure(App, E, Args);
  }
  return dispatch(App, F);
}
