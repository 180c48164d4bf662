//===- Info.cpp - tidalc info ---------------------------------------------===//
//
// Describes a model (frontend/Describe.cpp) and, when asked, what a compile
// makes of it: one row per kernel call with the ONNX operators it computes,
// its shapes, its multiply-accumulates, the weight bytes it reads, the
// workspace buffers it first writes (offset, bytes, the calls they live
// across) and the schedule applied; then the workspace against its lower
// bound, the most bytes live during one call, which no plan of the same
// lifetimes can beat. `--json` gives the same as one JSON object, and
// `--memory-map FILE.svg` draws the plan: calls across, workspace bytes
// down, one rectangle per buffer.
//
// Everything comes from the compile's own passes (Module::Report): the
// lowering's operators and MACs, apply-schedule's directives, plan-memory's
// placement, so what info shows is what `tidalc compile` builds.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "frontend/OnnxImporter.h"
#include "tools/tidalc/Tidalc.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

namespace {

/// One kernel call as info shows it.
struct Layer {
  const KernelCall *Call;
  const Kernel *K;
  const KernelReport *Report; // null for a kernel no pass reported
  int64_t WeightBytes = 0;
  std::vector<const PlannedBuffer *> Writes; // buffers first named here
};

std::vector<Layer> collectLayers(const Module &M) {
  static const KernelReport None;
  const Program &P = *M.P;
  std::vector<Layer> Layers;
  for (const KernelCall &C : P.Calls) {
    Layer L{&C, P.findKernel(C.Kernel), &None};
    if (auto It = M.Report.Kernels.find(C.Kernel); It != M.Report.Kernels.end())
      L.Report = &It->second;
    for (size_t I = 0; I < C.Args.size(); ++I)
      if (C.Args[I].Storage == StorageKind::Weights && L.K &&
          I < L.K->Params.size())
        L.WeightBytes += L.K->Params[I].sizeInBytes();
    Layers.push_back(L);
  }
  for (const PlannedBuffer &B : M.Report.Memory.Buffers)
    if (B.First >= 0 && B.First < static_cast<int64_t>(Layers.size()))
      Layers[B.First].Writes.push_back(&B);
  return Layers;
}

std::string shapes(const KernelReport &R) {
  std::vector<std::string> In;
  for (const TensorType &T : R.Operands)
    In.push_back(T.str());
  return llvm::join(In, ", ") + " -> " + R.Result.str();
}

/// The directive names in order of first use: a row's summary.
std::string scheduleSummary(const KernelReport &R) {
  std::vector<std::string> Names;
  for (const std::string &D : R.Schedule) {
    std::string Name = llvm::StringRef(D).split(' ').first.str();
    if (!llvm::is_contained(Names, Name))
      Names.push_back(Name);
  }
  std::string S = Names.empty() ? "-" : llvm::join(Names, " ");
  return R.UserSchedule ? "user: " + S : S;
}

std::string bufferText(const PlannedBuffer &B) {
  return "@" + std::to_string(B.Offset) + " " + std::to_string(B.Size) + " [" +
         std::to_string(B.First) + "-" + std::to_string(B.Last) + "]";
}

/// "+1.2%": how far Size is above Bound.
std::string overBound(int64_t Size, int64_t Bound) {
  if (Bound <= 0)
    return Size == 0 ? "+0.0%" : "n/a";
  std::string S;
  llvm::raw_string_ostream(S)
      << llvm::format("%+.1f%%", 100.0 * double(Size - Bound) / double(Bound));
  return S;
}

/// Rows of cells printed in columns; Numeric columns align right.
void printTable(const std::vector<std::vector<std::string>> &Rows,
                const std::vector<bool> &Numeric, llvm::raw_ostream &OS) {
  std::vector<size_t> Width(Numeric.size(), 0);
  for (const auto &Row : Rows)
    for (size_t I = 0; I < Row.size(); ++I)
      Width[I] = std::max(Width[I], Row[I].size());
  for (const auto &Row : Rows) {
    std::string Line = " ";
    for (size_t I = 0; I < Row.size(); ++I) {
      std::string Pad(Width[I] - Row[I].size(), ' ');
      bool Last = I + 1 == Row.size();
      Line += " " + (Numeric[I] ? Pad + Row[I] : Row[I] + (Last ? "" : Pad));
    }
    OS << llvm::StringRef(Line).rtrim() << "\n";
  }
}

void printLayers(const Module &M, const std::vector<Layer> &Layers,
                 llvm::raw_ostream &OS) {
  const Program &P = *M.P;
  std::vector<std::vector<std::string>> Rows = {
      {"#", "kernel", "family", "operators", "shapes", "MACs", "weights",
       "writes: @offset bytes [calls]", "schedule"}};
  int64_t MACs = 0;
  for (size_t I = 0; I < Layers.size(); ++I) {
    const Layer &L = Layers[I];
    std::vector<std::string> Writes;
    for (const PlannedBuffer *B : L.Writes)
      Writes.push_back(bufferText(*B));
    MACs += L.Report->MACs;
    Rows.push_back({std::to_string(I), L.Call->Kernel, L.K ? L.K->Family : "",
                    L.Report->Ops, shapes(*L.Report),
                    std::to_string(L.Report->MACs),
                    std::to_string(L.WeightBytes),
                    Writes.empty() ? "-" : llvm::join(Writes, ", "),
                    scheduleSummary(*L.Report)});
  }
  OS << "layers: " << Layers.size() << " kernel calls\n";
  printTable(Rows, {true, false, false, false, false, true, true, false, false},
             OS);
  const MemoryReport &Mem = M.Report.Memory;
  OS << "total MACs: " << MACs << "\n"
     << "weights: " << P.Weights.size() << " bytes\n"
     << "workspace: " << P.WorkspaceSize << " bytes in " << Mem.Buffers.size()
     << " buffers; lower bound " << Mem.LowerBound
     << " bytes (the most live during one call";
  if (Mem.PeakCall >= 0)
    OS << ", call " << Mem.PeakCall << " " << P.Calls[Mem.PeakCall].Kernel;
  OS << "): " << overBound(P.WorkspaceSize, Mem.LowerBound) << "\n";
}

llvm::json::Object bufferJson(const PlannedBuffer &B) {
  return llvm::json::Object{{"label", B.Label},
                            {"offset", B.Offset},
                            {"size", B.Size},
                            {"first_call", B.First},
                            {"last_call", B.Last}};
}

llvm::json::Value layersJson(const Module &M, const InfoOptions &Opts,
                             const std::vector<Layer> &Layers) {
  const Program &P = *M.P;
  llvm::json::Array Rows;
  for (size_t I = 0; I < Layers.size(); ++I) {
    const Layer &L = Layers[I];
    llvm::json::Array Operands, Writes, Schedule;
    for (const TensorType &T : L.Report->Operands)
      Operands.push_back(T.str());
    for (const PlannedBuffer *B : L.Writes)
      Writes.push_back(bufferJson(*B));
    for (const std::string &D : L.Report->Schedule)
      Schedule.push_back(D);
    Rows.push_back(
        llvm::json::Object{{"index", int64_t(I)},
                           {"kernel", L.Call->Kernel},
                           {"family", L.K ? L.K->Family : ""},
                           {"operators", L.Report->Ops},
                           {"nodes", L.Report->Nodes},
                           {"operands", std::move(Operands)},
                           {"result", L.Report->Result.str()},
                           {"macs", L.Report->MACs},
                           {"weight_bytes", L.WeightBytes},
                           {"writes", std::move(Writes)},
                           {"schedule", std::move(Schedule)},
                           {"user_schedule", L.Report->UserSchedule}});
  }
  const MemoryReport &Mem = M.Report.Memory;
  llvm::json::Array Buffers;
  for (const PlannedBuffer &B : Mem.Buffers)
    Buffers.push_back(bufferJson(B));
  return llvm::json::Object{
      {"target", Opts.Compile.Target},
      {"layers", std::move(Rows)},
      {"weights_size", int64_t(P.Weights.size())},
      {"workspace", llvm::json::Object{{"size", P.WorkspaceSize},
                                       {"lower_bound", Mem.LowerBound},
                                       {"peak_call", Mem.PeakCall},
                                       {"buffers", std::move(Buffers)}}}};
}

/// The plan as an SVG picture: call C spans [C*CallW, (C+1)*CallW) across,
/// byte B sits at B*Scale down; each buffer is a rectangle with its label,
/// and a dashed line marks the lower bound.
void writeMemoryMap(const Module &M, llvm::raw_ostream &OS) {
  const Program &P = *M.P;
  const MemoryReport &Mem = M.Report.Memory;
  const double Left = 70, Top = 30, Height = 600;
  size_t Calls = std::max<size_t>(P.Calls.size(), 1);
  double CallW = std::clamp(1000.0 / double(Calls), 4.0, 40.0);
  double Scale = Height / double(std::max<int64_t>(P.WorkspaceSize, 1));
  double Width = Left + CallW * double(Calls) + 20;
  auto Num = [](double V) {
    std::string S;
    llvm::raw_string_ostream(S) << llvm::format("%.2f", V);
    return S;
  };
  OS << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << Num(Width)
     << "\" height=\"" << Num(Top + Height + 40) << "\">\n"
     << "<title>" << P.Name << ": workspace " << P.WorkspaceSize
     << " bytes, lower bound " << Mem.LowerBound << "</title>\n"
     << "<text x=\"" << Num(Left) << "\" y=\"18\" font-size=\"12\">"
     << "workspace " << P.WorkspaceSize << " bytes (lower bound "
     << Mem.LowerBound << ", " << overBound(P.WorkspaceSize, Mem.LowerBound)
     << "); calls across, bytes down</text>\n"
     << "<rect x=\"" << Num(Left) << "\" y=\"" << Num(Top) << "\" width=\""
     << Num(CallW * double(Calls)) << "\" height=\"" << Num(Height)
     << "\" fill=\"none\" stroke=\"black\"/>\n";
  for (const PlannedBuffer &B : Mem.Buffers) {
    // Hues step by the golden angle so that neighbours differ.
    int Hue = static_cast<int>((B.First * 137) % 360);
    OS << "<rect class=\"buffer\" x=\"" << Num(Left + CallW * double(B.First))
       << "\" y=\"" << Num(Top + Scale * double(B.Offset)) << "\" width=\""
       << Num(CallW * double(B.Last - B.First + 1)) << "\" height=\""
       << Num(std::max(Scale * double(B.Size), 0.5)) << "\" fill=\"hsl(" << Hue
       << ",60%,70%)\" stroke=\"black\" stroke-width=\"0.3\"><title>" << B.Label
       << ": @" << B.Offset << ", " << B.Size << " bytes, calls " << B.First
       << "-" << B.Last << "</title></rect>\n";
  }
  double Bound = Top + Scale * double(Mem.LowerBound);
  OS << "<line x1=\"" << Num(Left) << "\" y1=\"" << Num(Bound) << "\" x2=\""
     << Num(Left + CallW * double(Calls)) << "\" y2=\"" << Num(Bound)
     << "\" stroke=\"red\" stroke-dasharray=\"4 3\"/>\n"
     << "<text x=\"4\" y=\"" << Num(Top + 10)
     << "\" font-size=\"10\">0</text>\n"
     << "<text x=\"4\" y=\"" << Num(Top + Height) << "\" font-size=\"10\">"
     << P.WorkspaceSize << "</text>\n"
     << "<text x=\"" << Num(Left) << "\" y=\"" << Num(Top + Height + 16)
     << "\" font-size=\"10\">call 0</text>\n"
     << "<text x=\"" << Num(Left + CallW * double(Calls) - 40) << "\" y=\""
     << Num(Top + Height + 16) << "\" font-size=\"10\">call " << Calls - 1
     << "</text>\n</svg>\n";
}

int describeModel(llvm::StringRef Model) {
  llvm::Expected<std::string> Text = describeOnnxModel(Model);
  if (!Text)
    return exitCodeFor(Text.takeError());
  llvm::outs() << *Text;
  if (!llvm::StringRef(*Text).ends_with("\n"))
    llvm::outs() << "\n";
  return ExitOk;
}

} // namespace

int tidal::runInfo(const InfoOptions &Opts) {
  // A model the frontend rejects is described (status 0), but a file that
  // is no model at all fails as it would for compile (status 2:
  // describeOnnxModel reads it as the importer does).
  const std::string &Model = Opts.Compile.ModelPath;
  if (llvm::Error E = checkModelReadable(Model))
    return exitCodeFor(std::move(E));
  if (!Opts.Json)
    if (int Status = describeModel(Model))
      return Status;
  if (!Opts.Layers && !Opts.Json && Opts.MemoryMap.empty())
    return ExitOk;
  llvm::outs().flush(); // the description before any compile error
  llvm::Expected<Module> M = compileToModule(Opts.Compile, "model");
  if (!M)
    return exitCodeFor(M.takeError());
  std::vector<Layer> Layers = collectLayers(*M);
  if (Opts.Json)
    llvm::outs() << llvm::formatv("{0:2}", layersJson(*M, Opts, Layers))
                 << "\n";
  else if (Opts.Layers)
    printLayers(*M, Layers, llvm::outs());
  if (!Opts.MemoryMap.empty())
    if (llvm::Error E =
            llvm::writeToOutput(Opts.MemoryMap, [&](llvm::raw_ostream &OS) {
              writeMemoryMap(*M, OS);
              return llvm::Error::success();
            }))
      return exitCodeFor(makeError("cannot write '" + Opts.MemoryMap +
                                   "': " + toString(std::move(E))));
  return ExitOk;
}
