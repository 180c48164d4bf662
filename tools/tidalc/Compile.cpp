//===- Compile.cpp - Model to object file ---------------------------------===//
//
// The compile step shared by `tidalc compile` and `tidalc run`: import the
// model, run the default pass pipeline for the target, and write the object
// and header atomically (temporary file beside the destination, then a
// rename), so that a failed compile never leaves a partial or stale output.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "codegen/Codegen.h"
#include "compiler/Diagnostics.h"
#include "compiler/PassManager.h"
#include "frontend/OnnxImporter.h"
#include "passes/PassRegistry.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

/// Constants above this many elements print as `dense<...elided...>` under
/// --elide-constants.
static constexpr int64_t ElideAbove = 16;

int tidal::exitCodeFor(llvm::Error E) {
  return reportErrors(std::move(E), llvm::errs()) ? ExitRejected : ExitUsage;
}

llvm::Error tidal::checkTarget(llvm::StringRef Target) {
  if (Target == "x86-64" || Target == "cortex-a53" || Target == "nvptx")
    return llvm::Error::success();
  return makeError("unknown target '" + Target +
                   "' (expected x86-64, cortex-a53 or nvptx)");
}

static llvm::Error parseDims(llvm::StringRef Text, std::vector<int64_t> &Dims) {
  if (Text.empty())
    return llvm::Error::success(); // NAME= is a scalar.
  llvm::SmallVector<llvm::StringRef, 8> Parts;
  Text.split(Parts, Text.contains(',') ? ',' : 'x');
  for (llvm::StringRef P : Parts) {
    int64_t D;
    if (P.trim().getAsInteger(10, D) || D < 0)
      return makeError("'" + P + "' is not a dimension");
    Dims.push_back(D);
  }
  return llvm::Error::success();
}

llvm::Error
tidal::parseInputShape(llvm::StringRef Arg,
                       std::map<std::string, std::vector<int64_t>> &Shapes) {
  size_t Eq = Arg.rfind('=');
  if (Eq == llvm::StringRef::npos || Eq == 0)
    return makeError("--input-shape '" + Arg +
                     "': expected NAME=DIMS, e.g. input=1x3x224x224");
  std::vector<int64_t> Dims;
  if (llvm::Error E = parseDims(Arg.substr(Eq + 1), Dims))
    return makeError("--input-shape '" + Arg + "': " + toString(std::move(E)));
  Shapes[Arg.substr(0, Eq).str()] = std::move(Dims);
  return llvm::Error::success();
}

bool tidal::isCIdentifier(llvm::StringRef Name) {
  if (Name.empty() || llvm::isDigit(Name[0]))
    return false;
  return llvm::all_of(Name, [](char C) { return llvm::isAlnum(C) || C == '_'; });
}

std::string tidal::defaultModelName(llvm::StringRef Path) {
  std::string Name;
  for (char C : llvm::sys::path::stem(Path))
    Name += (llvm::isAlnum(C) || C == '_') ? C : '_';
  if (Name.empty() || llvm::isDigit(Name[0]))
    Name = "model_" + Name;
  return Name;
}

static llvm::Error checkPrintAfter(const std::vector<std::string> &Names) {
  for (const std::string &N : Names)
    if (!lookupPass(N))
      return makeError("--print-after: no pass named '" + N + "'");
  return llvm::Error::success();
}

static void configurePrinting(PassManager &PM, const CompileOptions &Opts) {
  for (const std::string &N : Opts.PrintAfter)
    PM.printAfter(N);
  PM.printAfterAll(Opts.PrintAfterAll);
  GraphPrintOptions G;
  LoopPrintOptions L;
  if (Opts.ElideConstants) {
    G.ElideConstantsAbove = ElideAbove;
    L.ElideWeights = true;
  }
  PM.printOptions(G, L);
}

static llvm::Expected<PassOptions> passOptionsFor(const CompileOptions &Opts) {
  CodegenOptions CG;
  CG.Target = Opts.Target;
  CG.CPU = Opts.CPU;
  CG.OptLevel = Opts.OptLevel;
  llvm::Expected<TargetInfo> Target = targetInfo(CG);
  if (!Target)
    return Target.takeError();
  PassOptions PO;
  PO.Target = std::move(*Target);
  PO.OptLevel = Opts.OptLevel;
  PO.Winograd = Opts.Winograd == "auto" ? -1
                : Opts.Winograd == "off" ? 0
                                         : std::stoi(Opts.Winograd);
  if (!Opts.ScheduleFile.empty()) {
    auto Text = llvm::MemoryBuffer::getFile(Opts.ScheduleFile, /*IsText=*/true);
    if (!Text)
      return makeError("cannot read --schedule '" + Opts.ScheduleFile +
                       "': " + Text.getError().message());
    auto List = parseSchedules((*Text)->getBuffer());
    if (!List)
      return makeError("--schedule '" + Opts.ScheduleFile +
                       "': " + llvm::toString(List.takeError()));
    PO.UserSchedules = std::move(*List);
  }
  return PO;
}

llvm::Error tidal::checkModelReadable(llvm::StringRef Path) {
  llvm::sys::fs::file_status Status;
  if (std::error_code EC = llvm::sys::fs::status(Path, Status))
    return makeError("cannot read model '" + Path + "': " + EC.message());
  if (Status.type() == llvm::sys::fs::file_type::directory_file)
    return makeError("cannot read model '" + Path + "': it is a folder");
  if (Status.type() != llvm::sys::fs::file_type::regular_file)
    return makeError("cannot read model '" + Path +
                     "': it is not a regular file");
  return llvm::Error::success();
}

llvm::Expected<Module>
tidal::compileToModule(const CompileOptions &Opts, llvm::StringRef Name,
                       std::vector<std::string> *ReadFiles) {
  if (llvm::Error E = checkTarget(Opts.Target))
    return std::move(E);
  if (llvm::Error E = checkPrintAfter(Opts.PrintAfter))
    return std::move(E);
  llvm::Expected<PassOptions> PO = passOptionsFor(Opts);
  if (!PO)
    return PO.takeError();
  if (llvm::Error E = checkModelReadable(Opts.ModelPath))
    return std::move(E);
  ImportOptions IO;
  IO.InputShapes = Opts.InputShapes;
  IO.BoundInputs = Opts.BoundInputs;
  IO.ReadFiles = ReadFiles;
  llvm::Expected<std::unique_ptr<Graph>> G =
      importOnnxModel(Opts.ModelPath, IO);
  if (!G)
    return G.takeError();
  if (ReadFiles) {
    std::vector<std::string> Others = Opts.BoundInputFiles;
    if (!Opts.ScheduleFile.empty())
      Others.push_back(Opts.ScheduleFile);
    for (const std::string &F : Others)
      if (!llvm::is_contained(*ReadFiles, F))
        ReadFiles->push_back(F);
  }
  Module M;
  M.G = std::move(*G);
  PassManager PM(llvm::outs());
  for (const PassInfo *P : defaultPipeline())
    PM.add(P);
  configurePrinting(PM, Opts);
  if (llvm::Error E = PM.run(M, *PO))
    return std::move(E);
  for (const std::string &W : M.Warnings)
    llvm::errs() << "warning: " << W << "\n";
  if (!M.P)
    return makeError("internal error: the pipeline did not lower the model");
  M.P->Name = Name.str();
  return std::move(M);
}

llvm::Expected<std::unique_ptr<Program>>
tidal::compileToProgram(const CompileOptions &Opts, llvm::StringRef Name,
                        std::vector<std::string> *ReadFiles) {
  llvm::Expected<Module> M = compileToModule(Opts, Name, ReadFiles);
  if (!M)
    return M.takeError();
  return std::move(M->P);
}

void tidal::removeStale(llvm::StringRef Path) {
  // Only regular files: `-o /dev/null` must never remove /dev/null.
  if (!Path.empty() && Path != "-" && llvm::sys::fs::is_regular_file(Path))
    llvm::sys::fs::remove(Path);
}

namespace {
/// Writes the contents of one output file.
using EmitFn = llvm::function_ref<llvm::Error(llvm::raw_pwrite_stream &)>;
} // namespace

static llvm::Expected<llvm::sys::fs::TempFile> emitToTemp(llvm::StringRef Dest,
                                                          EmitFn Emit) {
  llvm::SmallString<256> Model(llvm::sys::path::parent_path(Dest));
  if (Model.empty())
    Model = ".";
  llvm::sys::path::append(Model, "." + llvm::sys::path::filename(Dest) +
                                     "-%%%%%%.tmp");
  llvm::Expected<llvm::sys::fs::TempFile> T =
      llvm::sys::fs::TempFile::create(Model);
  if (!T)
    return makeError("cannot write '" + Dest +
                     "': " + toString(T.takeError()));
  llvm::raw_fd_ostream OS(T->FD, /*shouldClose=*/false);
  llvm::Error E = Emit(OS);
  OS.flush();
  if (!E && OS.has_error())
    E = makeError("cannot write '" + Dest + "': " + OS.error().message());
  OS.clear_error();
  if (E) {
    llvm::consumeError(T->discard());
    return std::move(E);
  }
  return std::move(*T);
}

static llvm::Error emitMain(const Program &P, const CodegenOptions &CG,
                            EmitKind Emit, llvm::raw_pwrite_stream &OS) {
  switch (Emit) {
  case EmitKind::Object:
    return emitObject(P, CG, OS);
  case EmitKind::LLVMIR:
    return emitLLVMIR(P, CG, OS);
  case EmitKind::PTX:
    return emitPTX(P, CG, OS);
  }
  llvm_unreachable("unknown emit kind");
}

static llvm::Error keepAll(std::vector<llvm::sys::fs::TempFile> &Temps,
                           const std::vector<std::string> &Dests) {
  llvm::Error Err = llvm::Error::success();
  for (size_t I = 0; I < Temps.size(); ++I) {
    if (Err) {
      llvm::consumeError(Temps[I].discard());
      continue;
    }
    if (llvm::Error E = Temps[I].keep(Dests[I]))
      Err = makeError("cannot write '" + Dests[I] +
                      "': " + toString(std::move(E)));
  }
  return Err;
}

/// An existing destination that is not a regular file (/dev/null, a pipe)
/// is written in place: renaming over it would replace it.
static bool isSpecialFile(llvm::StringRef Dest) {
  return llvm::sys::fs::exists(Dest) && !llvm::sys::fs::is_regular_file(Dest);
}

static llvm::Error emitInPlace(llvm::StringRef Dest, EmitFn Emit) {
  std::error_code EC;
  llvm::raw_fd_ostream OS(Dest, EC);
  if (EC)
    return makeError("cannot write '" + Dest + "': " + EC.message());
  llvm::Error E = Emit(OS);
  OS.close();
  if (!E && OS.has_error())
    E = makeError("cannot write '" + Dest + "': " + OS.error().message());
  OS.clear_error();
  return E;
}

/// Path as make reads it in a rule: spaces and '#' escaped with a
/// backslash, '$' doubled.
static std::string makeEscaped(llvm::StringRef Path) {
  std::string S;
  for (char C : Path) {
    if (C == ' ' || C == '#')
      S += '\\';
    if (C == '$')
      S += '$';
    S += C;
  }
  return S;
}

/// Writes the rule `Targets: Dep.Prereqs` (and the -MP ones); a path that
/// make cannot read back (a newline in it) is an error.
static llvm::Error writeDepFile(const DepFile &Dep,
                                const std::vector<std::string> &Targets,
                                llvm::raw_ostream &OS) {
  for (const auto *Files : {&Targets, &Dep.Prereqs})
    for (const std::string &F : *Files)
      if (llvm::StringRef(F).contains('\n'))
        return makeError("cannot name '" + F + "' in a depfile (a newline)");
  for (size_t I = 0; I < Targets.size(); ++I)
    OS << (I ? " " : "") << makeEscaped(Targets[I]);
  OS << ":";
  for (const std::string &P : Dep.Prereqs)
    OS << " \\\n  " << makeEscaped(P);
  OS << "\n";
  if (Dep.Phony)
    for (size_t I = 1; I < Dep.Prereqs.size(); ++I)
      OS << "\n" << makeEscaped(Dep.Prereqs[I]) << ":\n";
  return llvm::Error::success();
}

/// What codegen needs of Opts.
static CodegenOptions codegenOptions(const CompileOptions &Opts) {
  CodegenOptions CG;
  CG.Target = Opts.Target;
  CG.CPU = Opts.CPU;
  CG.OptLevel = Opts.OptLevel;
  CG.WeightsSection = Opts.WeightsSection;
  CG.Align = Opts.Align;
  CG.ExternalWeights = Opts.externalWeights();
  // The base name only: the header says the same wherever it was built.
  CG.WeightsFile = llvm::sys::path::filename(Opts.WeightsFile).str();
  return CG;
}

llvm::Error tidal::checkWeightsFlags(const CompileOptions &C) {
  return checkPlacement(codegenOptions(C));
}

llvm::Error tidal::writeOutputs(const Program &P, const CompileOptions &Opts,
                                EmitKind Emit, llvm::StringRef OutPath,
                                llvm::StringRef HeaderPath, const DepFile *Dep,
                                const SelftestFile *Selftest) {
  CodegenOptions CG = codegenOptions(Opts);
  if (Opts.Target == "nvptx")
    CG.DeviceLibPath = deviceMathLibrary();
  std::vector<llvm::sys::fs::TempFile> Temps;
  std::vector<std::string> Dests;
  auto Add = [&](llvm::StringRef Dest, EmitFn Fn) -> llvm::Error {
    if (isSpecialFile(Dest))
      return emitInPlace(Dest, Fn);
    llvm::Expected<llvm::sys::fs::TempFile> T = emitToTemp(Dest, Fn);
    if (!T)
      return T.takeError();
    Temps.push_back(std::move(*T));
    Dests.push_back(Dest.str());
    return llvm::Error::success();
  };
  llvm::Error E = llvm::Error::success();
  if (OutPath == "-") { // Text to stdout (LLVM IR only; checked by the CLI).
    E = emitMain(P, CG, Emit, llvm::outs());
    llvm::outs().flush();
  } else {
    E = Add(OutPath, [&](llvm::raw_pwrite_stream &OS) {
      return emitMain(P, CG, Emit, OS);
    });
  }
  if (!E && !HeaderPath.empty())
    E = Add(HeaderPath, [&](llvm::raw_pwrite_stream &OS) {
      emitHeader(P, CG, OS);
      return llvm::Error::success();
    });
  assert((!CG.ExternalWeights || !Opts.WeightsFile.empty()) &&
         "the command line names the weights file");
  if (!E && CG.ExternalWeights)
    E = Add(Opts.WeightsFile, [&](llvm::raw_pwrite_stream &OS) {
      OS.write(reinterpret_cast<const char *>(P.Weights.data()),
               P.Weights.size());
      return llvm::Error::success();
    });
  if (!E && Selftest)
    E = Add(Selftest->Path, [&](llvm::raw_pwrite_stream &OS) {
      emitSelftest(P, Selftest->HeaderName, Selftest->Vector, OS);
      return llvm::Error::success();
    });
  if (!E && Dep) {
    std::vector<std::string> Targets = {OutPath.str()};
    if (!HeaderPath.empty())
      Targets.push_back(HeaderPath.str());
    if (CG.ExternalWeights)
      Targets.push_back(Opts.WeightsFile);
    if (Selftest)
      Targets.push_back(Selftest->Path);
    E = Add(Dep->Path, [&](llvm::raw_pwrite_stream &OS) {
      return writeDepFile(*Dep, Targets, OS);
    });
  }
  if (E) {
    for (llvm::sys::fs::TempFile &T : Temps)
      llvm::consumeError(T.discard());
    return E;
  }
  return keepAll(Temps, Dests);
}
