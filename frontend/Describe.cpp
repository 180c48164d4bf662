//===- Describe.cpp - `tidalc info`: what a model contains ----------------===//
//
// A plain-text summary of an ONNX model: IR version, producer, imported
// opsets, graph inputs and outputs with their declared types (symbolic
// dimensions by name), initializer count and size, operator counts, and
// whether Tidal imports the model (with every reason when it does not, and
// the graph inputs it needs bound at compile time).
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;
using namespace tidal::onnximport;

namespace {

std::string describeType(const onnx::TypeProto &T) {
  if (!T.has_tensor_type())
    return "(not a tensor)";
  const auto &TT = T.tensor_type();
  std::optional<ElemType> E = elemTypeFromOnnx(TT.elem_type());
  std::string S = E ? elemTypeName(*E).str() : onnxTypeName(TT.elem_type());
  return S + (TT.has_shape() ? onnxShapeStr(TT.shape()) : "[?]");
}

// The inputs a rejected model needs at compile time, and how to bind them.
void describeCompileTimeInputs(llvm::StringRef Path, llvm::raw_ostream &OS) {
  auto Names = compileTimeInputs(Path, ImportOptions());
  if (!Names)
    return llvm::consumeError(Names.takeError());
  if (Names->empty())
    return;
  OS << "compile-time inputs: " << llvm::join(*Names, ", ")
     << " (bind with --bind-input NAME=FILE.pb, or tidalc run "
        "--bind-shape-inputs)\n";
}

} // namespace

llvm::Expected<std::string> tidal::describeOnnxModel(llvm::StringRef Path) {
  onnx::ModelProto Model;
  if (auto E = readModelFile(Path, Model))
    return std::move(E);
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  OS << "model: " << Path << "\n";
  OS << "ir_version: " << Model.ir_version() << "\n";
  OS << "producer: " << Model.producer_name();
  if (!Model.producer_version().empty())
    OS << " " << Model.producer_version();
  OS << "\nopsets:";
  for (const auto &O : Model.opset_import())
    OS << " " << (O.domain().empty() ? "ai.onnx" : O.domain()) << "="
       << O.version();
  OS << "\n";
  const auto &G = Model.graph();
  std::set<std::string> Inits;
  int64_t InitBytes = 0;
  for (const auto &T : G.initializer()) {
    Inits.insert(T.name());
    InitBytes += T.raw_data().size() + 4 * T.float_data_size() +
                 8 * T.int64_data_size() + 4 * T.int32_data_size() +
                 8 * T.double_data_size() + 8 * T.uint64_data_size();
  }
  OS << "inputs:\n";
  for (const auto &VI : G.input())
    if (!Inits.count(VI.name()))
      OS << "  " << VI.name() << ": " << describeType(VI.type()) << "\n";
  OS << "outputs:\n";
  for (const auto &VI : G.output())
    OS << "  " << VI.name() << ": " << describeType(VI.type()) << "\n";
  OS << "initializers: " << G.initializer_size() << " (" << InitBytes
     << " bytes inline)\n";
  std::map<std::string, int> Counts;
  for (const auto &N : G.node())
    ++Counts[(N.domain().empty() ? "" : N.domain() + ".") + N.op_type()];
  OS << "operators: " << G.node_size() << " nodes\n";
  for (const auto &[Op, Count] : Counts)
    OS << "  " << Op << ": " << Count << "\n";
  auto Imported = importOnnxModel(Path, ImportOptions());
  if (Imported) {
    OS << "import: ok (" << (*Imported)->Nodes.size() << " graph nodes)\n";
  } else {
    OS << "import: rejected\n";
    llvm::handleAllErrors(Imported.takeError(),
                          [&](const llvm::ErrorInfoBase &E) {
                            OS << "  " << E.message() << "\n";
                          });
    describeCompileTimeInputs(Path, OS);
  }
  return OS.str();
}
