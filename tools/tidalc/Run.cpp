//===- Run.cpp - tidalc run: compile, link a driver, run, compare ---------===//
//
// `tidalc run` is the end-to-end check every test layer builds on: it
// compiles the model into a temporary folder, links it with the runtime and
// a generated C driver (Driver.cpp) using the target's C compiler, runs the
// driver (under qemu-aarch64 for cortex-a53), and compares the outputs with
// the expected ones (Compare.cpp). Exit statuses are those of docs/cli.md:
// 0 matched, 1 mismatch, 2 model rejected, 3 anything else, with the failing
// command's stderr printed. Inputs bound at compile time (--bind-input,
// --bind-shape-inputs; BindInputs.cpp) are not fed to the driver.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "compiler/Diagnostics.h"
#include "frontend/OnnxImporter.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

namespace {
/// The folder the model, the driver and the raw files are built in; removed
/// on the way out unless the user asked to keep it.
struct WorkDir {
  std::string Path;
  bool Keep = false;
  ~WorkDir() {
    if (!Keep && !Path.empty())
      llvm::sys::fs::remove_directories(Path);
  }
  std::string file(const llvm::Twine &Name) const {
    llvm::SmallString<256> P(Path);
    llvm::sys::path::append(P, Name);
    return std::string(P);
  }
};
} // namespace

static std::string fileIn(llvm::StringRef Dir, const llvm::Twine &Name) {
  llvm::SmallString<256> P(Dir);
  llvm::sys::path::append(P, Name);
  return std::string(P);
}

static std::string readWholeFile(llvm::StringRef Path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> B =
      llvm::MemoryBuffer::getFile(Path);
  return B ? (*B)->getBuffer().str() : std::string();
}

static llvm::Error writeWholeFile(llvm::StringRef Path, llvm::StringRef Data) {
  std::error_code EC;
  llvm::raw_fd_ostream OS(Path, EC);
  if (EC)
    return makeError("cannot write '" + Path + "': " + EC.message());
  OS << Data;
  OS.close();
  if (OS.has_error()) {
    OS.clear_error();
    return makeError("cannot write '" + Path + "'");
  }
  return llvm::Error::success();
}

/// Runs Args (Args[0] is looked up in PATH), with stdout and stderr going to
/// files in W named after Tag ("link" or "run"). On failure the error holds
/// the command line and its stderr.
static llvm::Error runCommand(const std::vector<std::string> &Args,
                              const WorkDir &W, llvm::StringRef Tag,
                              unsigned Timeout, std::string *Stdout) {
  llvm::ErrorOr<std::string> Exe = llvm::sys::findProgramByName(Args[0]);
  if (!Exe)
    return makeError("cannot find '" + Args[0] + "' in PATH");
  std::string Out = W.file(Tag + ".stdout"), Err = W.file(Tag + ".stderr");
  std::vector<llvm::StringRef> Refs(Args.begin(), Args.end());
  std::optional<llvm::StringRef> Redirects[] = {std::nullopt, llvm::StringRef(Out),
                                                llvm::StringRef(Err)};
  std::string ErrMsg;
  int RC = llvm::sys::ExecuteAndWait(*Exe, Refs, std::nullopt, Redirects,
                                     Timeout, 0, &ErrMsg);
  if (Stdout)
    *Stdout = readWholeFile(Out);
  if (RC == 0)
    return llvm::Error::success();
  std::string Msg = (Tag == "link" ? "linking" : "running") +
                    std::string(" the driver failed");
  llvm::StringRef Why = llvm::StringRef(ErrMsg).rtrim(": \n");
  if (RC > 0)
    Msg += " (exit status " + std::to_string(RC) + ")";
  else if (!Why.empty())
    Msg += ": " + Why.lower();
  Msg += "\n  command: " + llvm::join(Args, " ");
  std::string Text = readWholeFile(Err);
  if (!Text.empty())
    Msg += "\n" + llvm::StringRef(Text).rtrim().str();
  return makeError(Msg);
}

llvm::Expected<std::vector<Tensor>>
tidal::readTensorFiles(llvm::StringRef Dir, llvm::StringRef Prefix,
                       std::vector<std::string> *ReadFiles) {
  std::vector<Tensor> Ts;
  for (unsigned K = 0;; ++K) {
    std::string Path = fileIn(Dir, Prefix + llvm::Twine(K) + ".pb");
    if (!llvm::sys::fs::exists(Path))
      return Ts;
    llvm::Expected<Tensor> T = readTensorProtoFile(Path);
    if (!T)
      return makeError("cannot read '" + Path + "': " +
                       toString(T.takeError()));
    Ts.push_back(std::move(*T));
    if (ReadFiles)
      ReadFiles->push_back(Path);
  }
}

/// Gives each input whose declared shape is symbolic (and that --input-shape
/// does not name) the shape of its test data.
static void fillSymbolicShapes(CompileOptions &C,
                               const std::vector<Tensor> &Inputs) {
  llvm::Expected<std::vector<DeclaredInput>> Declared =
      declaredInputs(C.ModelPath);
  if (!Declared) { // The importer will say what is wrong with the file.
    llvm::consumeError(Declared.takeError());
    return;
  }
  for (size_t I = 0; I < Declared->size() && I < Inputs.size(); ++I) {
    const DeclaredInput &D = (*Declared)[I];
    bool Symbolic = !D.HasShape || llvm::is_contained(D.Dims, -1);
    if (Symbolic && !C.InputShapes.count(D.Name))
      C.InputShapes[D.Name] = Inputs[I].Type.Shape;
  }
}

llvm::Expected<std::vector<Tensor>>
tidal::checkTestInputs(const Program &P, std::vector<Tensor> Inputs,
                       const CompileOptions &C, llvm::StringRef Dir) {
  std::vector<size_t> Fed;
  size_t NumFiles = P.Inputs.size();
  if (C.BoundInputs.empty()) {
    for (size_t K = 0; K < Inputs.size(); ++K)
      Fed.push_back(K);
  } else {
    llvm::Expected<std::vector<size_t>> Runtime =
        runtimeInputIndices(C, NumFiles);
    if (!Runtime)
      return Runtime.takeError();
    Fed = std::move(*Runtime);
    if (Fed.size() != P.Inputs.size())
      return makeError("internal error: the compiled model has " +
                       llvm::Twine(P.Inputs.size()) + " inputs, not " +
                       llvm::Twine(Fed.size()));
  }
  if (Inputs.size() != NumFiles)
    return makeError("the model has " + llvm::Twine(NumFiles) + " inputs" +
                     (C.BoundInputs.empty()
                          ? std::string()
                          : " (" + std::to_string(NumFiles - Fed.size()) +
                                " of them bound)") +
                     " but '" + Dir + "' holds " + llvm::Twine(Inputs.size()) +
                     " (input_K.pb)");
  std::vector<Tensor> Kept;
  for (size_t I = 0; I < Fed.size(); ++I) {
    const TensorType &Want = P.Inputs[I].Type, &Got = Inputs[Fed[I]].Type;
    if (Want.Elem != Got.Elem || Want.Shape != Got.Shape)
      return makeError("input " + llvm::Twine(I) + " ('" + P.Inputs[I].Name +
                       "') of the model is " + Want.str() + " but input_" +
                       llvm::Twine(Fed[I]) + ".pb is " + Got.str());
    Kept.push_back(std::move(Inputs[Fed[I]]));
  }
  return Kept;
}

/// The C compiler, with its target-specific flags, that links the driver.
static std::vector<std::string> driverCompiler(llvm::StringRef Target) {
  if (Target == "cortex-a53")
    return {"aarch64-linux-gnu-gcc", "-static"};
  return {"cc"};
}

/// What runs a program built for Target on this machine (empty: itself).
static std::vector<std::string> emulator(llvm::StringRef Target) {
  if (Target == "cortex-a53")
    return {"qemu-aarch64", "-cpu", "cortex-a53", "-L", "/usr/aarch64-linux-gnu"};
  return {};
}

static llvm::Error buildDriver(const RunOptions &Opts, const Program &P,
                               const WorkDir &W) {
  CompileOptions C = Opts.Compile;
  if (C.externalWeights())
    C.WeightsFile = W.file("model.bin");
  if (llvm::Error E = writeOutputs(P, C, EmitKind::Object, W.file("model.o"),
                                   W.file("model.h")))
    return E;
  if (llvm::Error E = writeWholeFile(
          W.file("driver.c"), generateDriver(P, "model.h", C.Target != "nvptx",
                                             C.externalWeights())))
    return E;
  llvm::Expected<std::vector<std::string>> Flags =
      linkFlags(Opts.Compile.Target);
  if (!Flags)
    return Flags.takeError();
  std::vector<std::string> Cmd = driverCompiler(Opts.Compile.Target);
  Cmd.insert(Cmd.end(), {"-std=c11", "-O2", "-I", W.Path, W.file("driver.c"),
                         W.file("model.o")});
  Cmd.insert(Cmd.end(), Flags->begin(), Flags->end());
  Cmd.insert(Cmd.end(), {"-o", W.file("driver")});
  return runCommand(Cmd, W, "link", 0, nullptr);
}

static llvm::Error runDriver(const RunOptions &Opts, const Program &P,
                             const std::vector<Tensor> &Inputs,
                             const WorkDir &W) {
  std::vector<std::string> Cmd = emulator(Opts.Compile.Target);
  Cmd.insert(Cmd.end(), {W.file("driver"), std::to_string(Opts.Repeat),
                         std::to_string(Opts.Threads)});
  if (Opts.Compile.externalWeights())
    Cmd.push_back(W.file("model.bin"));
  for (size_t I = 0; I < Inputs.size(); ++I) {
    std::string Path = W.file("input_" + llvm::Twine(I) + ".bin");
    llvm::StringRef Bytes(reinterpret_cast<const char *>(Inputs[I].Bytes.data()),
                          Inputs[I].Bytes.size());
    if (llvm::Error E = writeWholeFile(Path, Bytes))
      return E;
    Cmd.push_back(Path);
  }
  for (size_t I = 0; I < P.Outputs.size(); ++I)
    Cmd.push_back(W.file("output_" + llvm::Twine(I) + ".bin"));
  std::string Stdout;
  llvm::Error E = runCommand(Cmd, W, "run", Opts.Timeout, &Stdout);
  llvm::outs() << Stdout;
  llvm::outs().flush();
  return E;
}

static llvm::Expected<std::vector<Tensor>> readResults(const Program &P,
                                                       const WorkDir &W) {
  std::vector<Tensor> Results;
  for (size_t I = 0; I < P.Outputs.size(); ++I) {
    std::string Path = W.file("output_" + llvm::Twine(I) + ".bin");
    std::string Data = readWholeFile(Path);
    Tensor T(P.Outputs[I].Type);
    if (Data.size() != T.Bytes.size())
      return makeError("the driver wrote " + llvm::Twine(Data.size()) +
                       " bytes to '" + Path + "', expected " +
                       llvm::Twine(T.Bytes.size()));
    std::copy(Data.begin(), Data.end(), T.Bytes.begin());
    Results.push_back(std::move(T));
  }
  return Results;
}

static llvm::Error saveResults(const Program &P,
                               const std::vector<Tensor> &Results,
                               llvm::StringRef Dir) {
  if (std::error_code EC = llvm::sys::fs::create_directories(Dir))
    return makeError("cannot create '" + Dir + "': " + EC.message());
  for (size_t I = 0; I < Results.size(); ++I) {
    std::string Path = fileIn(Dir, "output_" + llvm::Twine(I) + ".pb");
    if (llvm::Error E = writeTensorProtoFile(Results[I], P.Outputs[I].Name, Path))
      return E;
  }
  return llvm::Error::success();
}

/// Prints one line per output; returns whether all matched.
static llvm::Expected<bool> compareResults(const RunOptions &Opts,
                                           const Program &P,
                                           const std::vector<Tensor> &Results) {
  llvm::Expected<std::vector<Tensor>> Want =
      readTensorFiles(Opts.InputsDir, "output_");
  if (!Want)
    return Want.takeError();
  bool All = true;
  if (Want->size() != Results.size()) {
    llvm::outs() << "MISMATCH: the model has " << Results.size()
                 << " outputs but '" << Opts.InputsDir << "' holds "
                 << Want->size() << " (output_K.pb)\n";
    All = false;
  }
  for (size_t I = 0; I < Results.size() && I < Want->size(); ++I) {
    CompareResult R =
        compareTensors(Results[I], (*Want)[I], Opts.RTol, Opts.ATol);
    llvm::outs() << "output " << I << " (" << P.Outputs[I].Name
                 << "): " << R.Line << "\n";
    All &= R.Match;
  }
  return All;
}

static llvm::Error makeWorkDir(const RunOptions &Opts, WorkDir &W) {
  if (!Opts.KeepDir.empty()) {
    W.Keep = true;
    W.Path = Opts.KeepDir;
    if (std::error_code EC = llvm::sys::fs::create_directories(W.Path))
      return makeError("cannot create '" + W.Path + "': " + EC.message());
    return llvm::Error::success();
  }
  llvm::SmallString<256> Dir;
  if (std::error_code EC =
          llvm::sys::fs::createUniqueDirectory("tidalc-run", Dir))
    return makeError("cannot create a temporary folder: " + EC.message());
  W.Path = std::string(Dir);
  return llvm::Error::success();
}

/// Reads the inputs and compiles the model for them. A model that is
/// rejected says so (exit 2) even when its test data has types the frontend
/// cannot read either.
static llvm::Expected<std::unique_ptr<Program>>
compileForInputs(const RunOptions &Opts, std::vector<Tensor> &Inputs) {
  llvm::Expected<std::vector<Tensor>> Read =
      readTensorFiles(Opts.InputsDir, "input_");
  CompileOptions C = Opts.Compile;
  if (Read)
    fillSymbolicShapes(C, *Read);
  if (Read && Opts.BindShapeInputs)
    bindShapeInputs(C, *Read);
  if (!C.BoundInputs.empty()) {
    llvm::outs() << "bound inputs: " << llvm::join(boundInputNames(C), ", ")
                 << "\n";
    llvm::outs().flush();
  }
  llvm::Expected<std::unique_ptr<Program>> P = compileToProgram(C, "model");
  if (!P) {
    if (!Read)
      llvm::consumeError(Read.takeError());
    return P.takeError();
  }
  if (!Read)
    return Read.takeError();
  llvm::Expected<std::vector<Tensor>> Fed =
      checkTestInputs(**P, std::move(*Read), C, Opts.InputsDir);
  if (!Fed)
    return Fed.takeError();
  Inputs = std::move(*Fed);
  return P;
}

llvm::Expected<std::vector<Tensor>>
tidal::buildAndRun(const RunOptions &Opts, const Program &P,
                   const std::vector<Tensor> &Inputs) {
  WorkDir W;
  if (llvm::Error E = makeWorkDir(Opts, W))
    return std::move(E);
  if (llvm::Error E = buildDriver(Opts, P, W))
    return std::move(E);
  if (llvm::Error E = runDriver(Opts, P, Inputs, W))
    return std::move(E);
  return readResults(P, W);
}

int tidal::runModel(const RunOptions &Opts) {
  if (!llvm::sys::fs::is_directory(Opts.InputsDir))
    return exitCodeFor(makeError("--inputs '" + Opts.InputsDir +
                                 "' is not a folder"));
  std::vector<Tensor> Inputs;
  llvm::Expected<std::unique_ptr<Program>> P = compileForInputs(Opts, Inputs);
  if (!P)
    return exitCodeFor(P.takeError());
  llvm::Expected<std::vector<Tensor>> Results = buildAndRun(Opts, **P, Inputs);
  if (!Results)
    return exitCodeFor(Results.takeError());
  if (!Opts.OutputDir.empty())
    if (llvm::Error E = saveResults(**P, *Results, Opts.OutputDir))
      return exitCodeFor(std::move(E));
  if (!Opts.Compare)
    return ExitOk;
  llvm::Expected<bool> Matched = compareResults(Opts, **P, *Results);
  if (!Matched)
    return exitCodeFor(Matched.takeError());
  return *Matched ? ExitOk : ExitMismatch;
}
