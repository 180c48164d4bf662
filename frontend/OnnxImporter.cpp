//===- OnnxImporter.cpp - ONNX models to graph IR -------------------------===//
//
// Reads the model, fixes the graph inputs' shapes (symbolic dimensions are
// resolved by --input-shape or refused), then imports the nodes in
// topological order: each node is checked against the operator table (its
// domain, whether Tidal imports it, whether the model's opset is one Tidal
// knows) and handed to its operator's importer. Initializers are constants,
// created where first used; initializers also listed as graph inputs (as old
// exporters do) are constants too, not run-time inputs.
//
// A node that cannot be imported is reported and its results are marked
// failed; nodes that read a failed value are skipped silently (their own
// problem, if any, would be a consequence) but still checked for being an
// unsupported operator, so that every unsupported operator of a model is
// reported at once. Nodes whose inputs are never defined (dangling names or
// cycles) are reported too. The importer never aborts on a malformed model.
//
// Finally nodes whose results nothing reads are dropped: folding leaves the
// constants of the shape sub-graphs behind.
//
// A file that can be read but holds no model (empty, cut short, not
// protobuf, no graph) is a graph-level ModelError naming the file, like any
// other model that cannot be compiled; only a file that cannot be read at
// all is a plain error.
//
// Graph inputs bound to values (ImportOptions::BoundInputs) are constants
// from the start. When a node needs a constant operand that is computed at
// run time, the graph inputs it would fold from are recorded: they are the
// model's compile-time inputs (compileTimeInputs()), the ones to bind.
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <climits>

using namespace tidal;
using namespace tidal::onnximport;

namespace {

llvm::Error graphError(const llvm::Twine &Reason) {
  return modelError("", "", 0, Reason);
}

class ModelImporter {
public:
  ModelImporter(const onnx::ModelProto &Model, std::string BaseDir,
                const ImportOptions &Opts)
      : Model(Model), Opts(Opts), G(std::make_unique<Graph>()),
        M{*G, std::move(BaseDir), {}, {}, {}, {}, {}, {}, Opts.ReadFiles} {}

  llvm::Expected<std::unique_ptr<Graph>> run();
  /// Imports the nodes only as far as needed to learn which graph inputs
  /// must be constants (compileTimeInputs()).
  std::vector<std::string> compileTimeInputs();

private:
  void readOpsets();
  void importInputs();
  llvm::Expected<TensorType> inputType(const onnx::ValueInfoProto &VI);
  llvm::Error checkBoundInput(const onnx::ValueInfoProto &VI, const Tensor &T);
  void bindInput(const onnx::ValueInfoProto &VI, const Tensor &T);
  void checkInputOptions(const std::set<std::string> &Runtime,
                         const std::set<std::string> &Bound);
  void importNodes();
  bool ready(const onnx::NodeProto &P) const;
  void importNode(const onnx::NodeProto &P, size_t Index);
  std::optional<std::string> checkNode(const onnx::NodeProto &P,
                                       int64_t Opset);
  std::optional<std::string> materializeInputs(const onnx::NodeProto &P);
  void recordOutputs(const onnx::NodeProto &P, NodeImporter &N);
  void reportStuck(const std::vector<size_t> &Pending);
  void importOutputs();
  void checkOutputType(const onnx::ValueInfoProto &VI, const Value *V);
  void dropDeadNodes();

  const onnx::ModelProto &Model;
  const ImportOptions &Opts;
  std::unique_ptr<Graph> G;
  ModelState M;
  std::optional<int64_t> DefaultOpset;
  ErrorCollector Errors;
};

std::string nodeName(const onnx::NodeProto &P, size_t Index) {
  if (!P.name().empty())
    return P.name();
  return P.op_type() + "_" + std::to_string(Index);
}

} // namespace

//===----------------------------------------------------------------------===//
// Opsets and inputs
//===----------------------------------------------------------------------===//

void ModelImporter::readOpsets() {
  for (const auto &O : Model.opset_import())
    if (O.domain().empty() || O.domain() == "ai.onnx")
      DefaultOpset = O.version();
  // Models before IR version 3 carry no opset_import: they use opset 1.
  if (Model.opset_import_size() == 0)
    DefaultOpset = 1;
}

llvm::Expected<TensorType>
ModelImporter::inputType(const onnx::ValueInfoProto &VI) {
  const std::string &Name = VI.name();
  if (!VI.type().has_tensor_type())
    return graphError("input '" + Name +
                      "' is not a tensor (sequences, maps, optionals and "
                      "sparse tensors are not supported)");
  const auto &TT = VI.type().tensor_type();
  std::optional<ElemType> Elem = elemTypeFromOnnx(TT.elem_type());
  if (!Elem)
    return graphError("input '" + Name + "' has element type " +
                      onnxTypeName(TT.elem_type()) +
                      ", which is not supported");
  std::vector<int64_t> Shape;
  std::vector<std::string> Shown;
  for (const auto &D : TT.shape().dim()) {
    bool Fixed = D.has_dim_value() && D.dim_value() >= 0;
    Shape.push_back(Fixed ? D.dim_value() : -1);
    Shown.push_back(Fixed               ? std::to_string(D.dim_value())
                    : D.has_dim_param() ? D.dim_param()
                                        : "?");
  }
  std::string ShownStr = "[" + llvm::join(Shown, ",") + "]";
  auto Given = Opts.InputShapes.find(Name);
  if (Given != Opts.InputShapes.end()) {
    if (TT.has_shape() && Given->second.size() != Shape.size())
      return graphError("--input-shape gives input '" + Name + "' rank " +
                        llvm::Twine(Given->second.size()) +
                        ", but the model declares " + ShownStr);
    for (size_t I = 0; I < Given->second.size(); ++I) {
      int64_t D = Given->second[I];
      if (D < 0 || (TT.has_shape() && Shape[I] >= 0 && Shape[I] != D))
        return graphError("--input-shape for input '" + Name +
                          "' contradicts its declared shape " + ShownStr +
                          " at dimension " + llvm::Twine(I));
    }
    if (!reasonableShape(Given->second))
      return graphError("--input-shape for input '" + Name + "' is too large");
    return TensorType(*Elem, Given->second);
  }
  bool Symbolic = !TT.has_shape() || llvm::is_contained(Shape, -1);
  if (Symbolic)
    return graphError(
        "input '" + Name + "' has " +
        (TT.has_shape() ? "symbolic dimensions " + ShownStr
                        : std::string("no declared shape")) +
        "; Tidal compiles static shapes only: pass --input-shape " + Name +
        "=AxBxC (e.g. 1x3x224x224) to fix them");
  if (!reasonableShape(Shape))
    return graphError("input '" + Name + "' is too large: " + ShownStr);
  return TensorType(*Elem, Shape);
}

// A bound value must be what the input declares: its element type, its
// rank and every fixed dimension (a symbolic one takes the value's), and
// the shape --input-shape gives it, if any.
llvm::Error ModelImporter::checkBoundInput(const onnx::ValueInfoProto &VI,
                                           const Tensor &T) {
  const std::string &Name = VI.name();
  if (!VI.type().has_tensor_type())
    return graphError("input '" + Name +
                      "' is bound to a value but is not a tensor");
  const auto &TT = VI.type().tensor_type();
  if (!fitsDeclaration(TT, T.Type))
    return graphError("the value bound to input '" + Name + "' is " +
                      T.Type.str() + ", but the model declares " +
                      onnxTypeName(TT.elem_type()) +
                      (TT.has_shape() ? onnxShapeStr(TT.shape())
                                      : std::string(" (no shape)")));
  auto Given = Opts.InputShapes.find(Name);
  if (Given != Opts.InputShapes.end() && Given->second != T.Type.Shape)
    return graphError("--input-shape gives input '" + Name + "' the shape " +
                      shapeStr(Given->second) + ", but its bound value is " +
                      T.Type.str());
  return llvm::Error::success();
}

// A bound input is a constant from the start, like an initializer.
void ModelImporter::bindInput(const onnx::ValueInfoProto &VI,
                              const Tensor &T) {
  if (llvm::Error E = checkBoundInput(VI, T)) {
    Errors.add(std::move(E));
    M.Failed.insert(VI.name());
    return;
  }
  M.Values[VI.name()] = G->createConstant(sanitizeName(VI.name()), T);
}

void ModelImporter::checkInputOptions(const std::set<std::string> &Runtime,
                                      const std::set<std::string> &Bound) {
  std::string Inputs = llvm::join(Runtime.begin(), Runtime.end(), ", ");
  for (const auto &[Name, Shape] : Opts.InputShapes)
    if (!Runtime.count(Name) && !Bound.count(Name))
      Errors.add(graphError("--input-shape names '" + Name +
                            "', which is not an input of the model (inputs: " +
                            Inputs + ")"));
  for (const auto &[Name, T] : Opts.BoundInputs)
    if (!Bound.count(Name))
      Errors.add(graphError("a value is bound to '" + Name +
                            "', which is not an input of the model (inputs: " +
                            Inputs + ")"));
}

void ModelImporter::importInputs() {
  std::set<std::string> Inits;
  for (const auto &T : Model.graph().initializer()) {
    Inits.insert(T.name());
    M.Initializers[T.name()] = &T;
  }
  std::set<std::string> RuntimeInputs, Bound;
  for (const auto &VI : Model.graph().input()) {
    if (M.Values.count(VI.name()) || M.Failed.count(VI.name())) {
      Errors.add(graphError("input '" + VI.name() + "' is listed twice"));
      continue;
    }
    // A bound value replaces an initializer's too: ONNX makes an
    // initializer listed as an input only that input's default.
    auto B = Opts.BoundInputs.find(VI.name());
    if (B != Opts.BoundInputs.end()) {
      Bound.insert(VI.name());
      bindInput(VI, B->second);
      continue;
    }
    if (Inits.count(VI.name()))
      continue; // an old-style initializer listed as input: a constant
    RuntimeInputs.insert(VI.name());
    auto T = inputType(VI);
    if (!T) {
      Errors.add(T.takeError());
      M.Failed.insert(VI.name());
      continue;
    }
    Value *V = G->addInput(sanitizeName(VI.name()), *T);
    M.Values[VI.name()] = V;
    M.InputNames[V] = VI.name();
  }
  checkInputOptions(RuntimeInputs, Bound);
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

bool ModelImporter::ready(const onnx::NodeProto &P) const {
  for (const std::string &In : P.input())
    if (!In.empty() && !M.Values.count(In) && !M.Initializers.count(In) &&
        !M.Failed.count(In))
      return false;
  return true;
}

// The checks that do not need the node's inputs: domain, operator, opset.
std::optional<std::string> ModelImporter::checkNode(const onnx::NodeProto &P,
                                                    int64_t Opset) {
  if (!P.domain().empty() && P.domain() != "ai.onnx")
    return "operator domain '" + P.domain() + "' is not supported";
  if (!DefaultOpset)
    return std::string("the model does not import the default ONNX opset");
  const OpEntry *Op = findOp(P.op_type());
  if (!Op)
    return "operator " + P.op_type() + " is not supported";
  if (auto Why = checkOpset(*Op, Opset))
    return Why;
  for (const std::string &Out : P.output())
    if (!Out.empty() && (M.Values.count(Out) || M.Initializers.count(Out) ||
                         M.Failed.count(Out)))
      return "output '" + Out + "' is already defined elsewhere";
  return std::nullopt;
}

// Turns the initializers the node reads into Constant nodes.
std::optional<std::string>
ModelImporter::materializeInputs(const onnx::NodeProto &P) {
  for (const std::string &In : P.input()) {
    if (In.empty() || M.Values.count(In))
      continue;
    auto It = M.Initializers.find(In);
    if (It == M.Initializers.end())
      continue;
    auto T = tensorFromProto(*It->second, M.BaseDir, M.ReadFiles);
    if (!T)
      return "initializer '" + In + "': " + llvm::toString(T.takeError());
    M.Values[In] = G->createConstant(sanitizeName(In), std::move(*T));
  }
  return std::nullopt;
}

void ModelImporter::importNode(const onnx::NodeProto &P, size_t Index) {
  std::string Name = nodeName(P, Index);
  // Nodes of other domains have no default-opset version to show.
  bool Default = P.domain().empty() || P.domain() == "ai.onnx";
  int64_t Opset = Default ? DefaultOpset.value_or(0) : 0;
  auto MarkFailed = [&] {
    for (const std::string &Out : P.output())
      if (!Out.empty() && !M.Values.count(Out))
        M.Failed.insert(Out);
  };
  auto Reject = [&](const std::string &Why) {
    Errors.add(modelError(Name, P.op_type(), Opset, Why));
    MarkFailed();
  };
  if (auto Why = checkNode(P, Opset))
    return Reject(*Why);
  for (const std::string &In : P.input())
    if (!In.empty() && M.Failed.count(In))
      return MarkFailed();
  if (auto Why = materializeInputs(P))
    return Reject(*Why);
  NodeImporter N(M, P, Name, Opset);
  findOp(P.op_type())->Import(N);
  N.checkUnreadInputs();
  if (!N.failed())
    for (unsigned I = 0; I < N.numOutputs(); ++I)
      if (N.outputUsed(I) && !N.output(I))
        N.fail("output " + llvm::Twine(I) + " ('" + P.output(I) +
               "') is not supported");
  if (N.failed())
    return Reject(*N.failure());
  recordOutputs(P, N);
}

// Binds the node's ONNX output names, naming the values made for them.
void ModelImporter::recordOutputs(const onnx::NodeProto &P, NodeImporter &N) {
  std::set<Value *> Renamed;
  for (unsigned I = 0; I < N.numOutputs(); ++I) {
    Value *V = N.output(I);
    if (P.output(I).empty() || !V)
      continue;
    M.Values[P.output(I)] = V;
    if (N.Created.count(V) && Renamed.insert(V).second)
      V->Name = G->uniqueName(sanitizeName(P.output(I)));
  }
}

void ModelImporter::reportStuck(const std::vector<size_t> &Pending) {
  std::set<std::string> ProducedByStuck;
  for (size_t I : Pending)
    for (const std::string &Out : Model.graph().node(I).output())
      ProducedByStuck.insert(Out);
  for (size_t I : Pending) {
    const onnx::NodeProto &P = Model.graph().node(I);
    for (const std::string &In : P.input()) {
      if (In.empty() || M.Values.count(In) || M.Initializers.count(In) ||
          M.Failed.count(In))
        continue;
      std::string Why =
          ProducedByStuck.count(In)
              ? "input '" + In + "' depends on this node's own result (cycle)"
              : "input '" + In +
                    "' is not produced by any node, initializer or graph input";
      Errors.add(modelError(nodeName(P, I), P.op_type(),
                            DefaultOpset.value_or(0), Why));
      break;
    }
  }
  // Their results are not errors of their own.
  for (const std::string &Out : ProducedByStuck)
    if (!Out.empty())
      M.Failed.insert(Out);
}

void ModelImporter::importNodes() {
  const auto &Nodes = Model.graph().node();
  for (const auto &P : Nodes)
    for (const std::string &In : P.input())
      M.Used.insert(In);
  for (const auto &VI : Model.graph().output())
    M.Used.insert(VI.name());
  // ONNX requires topological order; a node that comes too early waits for
  // its inputs, so any order imports, and what never becomes ready is a
  // cycle or a dangling name.
  std::vector<size_t> Pending;
  for (int I = 0; I < Nodes.size(); ++I)
    Pending.push_back(I);
  bool Progress = true;
  while (Progress && !Pending.empty()) {
    Progress = false;
    std::vector<size_t> Next;
    for (size_t I : Pending) {
      if (ready(Nodes.Get(I))) {
        importNode(Nodes.Get(I), I);
        Progress = true;
      } else {
        Next.push_back(I);
      }
    }
    Pending = std::move(Next);
  }
  reportStuck(Pending);
}

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

void ModelImporter::checkOutputType(const onnx::ValueInfoProto &VI,
                                    const Value *V) {
  if (!VI.type().has_tensor_type())
    return;
  const auto &TT = VI.type().tensor_type();
  if (!fitsDeclaration(TT, V->Type))
    Errors.add(graphError("graph output '" + VI.name() + "' is declared as " +
                          onnxTypeName(TT.elem_type()) +
                          " with a shape that differs from the " +
                          V->Type.str() + " Tidal computes for it"));
}

void ModelImporter::importOutputs() {
  for (const auto &VI : Model.graph().output()) {
    const std::string &Name = VI.name();
    if (M.Failed.count(Name))
      continue;
    if (!M.Values.count(Name) && M.Initializers.count(Name)) {
      auto T = tensorFromProto(*M.Initializers[Name], M.BaseDir, M.ReadFiles);
      if (!T) {
        Errors.add(graphError("graph output '" + Name +
                              "': " + llvm::toString(T.takeError())));
        continue;
      }
      M.Values[Name] = G->createConstant(sanitizeName(Name), std::move(*T));
    }
    auto It = M.Values.find(Name);
    if (It == M.Values.end()) {
      Errors.add(graphError("graph output '" + Name +
                            "' is not produced by any node"));
      continue;
    }
    Value *V = It->second;
    checkOutputType(VI, V);
    std::string Want = sanitizeName(Name);
    // Each output needs its own buffer: an input or a repeated value is
    // copied.
    if (V->isGraphInput() || G->isGraphOutput(V)) {
      V = G->createNode(OpKind::Copy, Want, {V}, {V->Type})->result();
    } else if (V->Name != Want) {
      V->Name = G->uniqueName(Want);
    }
    G->Outputs.push_back(V);
  }
}

void ModelImporter::dropDeadNodes() {
  std::map<const Value *, unsigned> Uses;
  for (const auto &N : G->Nodes)
    for (const Value *Op : N->Operands)
      ++Uses[Op];
  for (const Value *Out : G->Outputs)
    ++Uses[Out];
  for (auto It = G->Nodes.end(); It != G->Nodes.begin();) {
    --It;
    bool Dead = llvm::all_of((*It)->Results,
                             [&](const auto &R) { return Uses[R.get()] == 0; });
    if (!Dead)
      continue;
    for (const Value *Op : (*It)->Operands)
      --Uses[Op];
    It = G->Nodes.erase(It);
  }
}

llvm::Expected<std::unique_ptr<Graph>> ModelImporter::run() {
  if (!Model.has_graph())
    return graphError("the model has no graph");
  readOpsets();
  importInputs();
  importNodes();
  importOutputs();
  if (llvm::Error E = Errors.take())
    return std::move(E);
  if (G->Outputs.empty())
    return graphError("the model has no outputs");
  dropDeadNodes();
  if (auto E = verifyGraph(*G))
    return makeError("internal error: the imported graph does not verify: " +
                     llvm::toString(std::move(E)));
  return std::move(G);
}

std::vector<std::string> ModelImporter::compileTimeInputs() {
  if (Model.has_graph()) {
    readOpsets();
    importInputs();
    importNodes();
  }
  llvm::consumeError(Errors.take()); // importOnnxModel reports them
  std::vector<std::string> Names;
  for (const auto &VI : Model.graph().input())
    if (M.CompileTimeInputs.count(VI.name()) &&
        !llvm::is_contained(Names, VI.name()))
      Names.push_back(VI.name());
  return Names;
}

//===----------------------------------------------------------------------===//
// Reading the model file
//===----------------------------------------------------------------------===//
//
// Whose fault a failure is decides the exit status (docs/cli.md): a file
// that cannot be read is the environment's (a plain error, status 3); a file
// that can be read but holds no model (empty, cut short, something else) is
// a model that cannot be compiled (a graph-level ModelError, status 2).

namespace {

enum class VarintRead { Ok, CutShort, Invalid };

/// Reads the protobuf varint at Data[Pos...], advancing Pos past it.
VarintRead readVarint(llvm::StringRef Data, size_t &Pos, uint64_t &V) {
  V = 0;
  for (unsigned Shift = 0; Shift < 70; Shift += 7) {
    if (Pos >= Data.size())
      return VarintRead::CutShort;
    uint8_t B = Data[Pos++];
    V |= static_cast<uint64_t>(B & 0x7f) << std::min(Shift, 63u);
    if (!(B & 0x80))
      return VarintRead::Ok;
  }
  return VarintRead::Invalid; // Longer than the 10 bytes of a 64-bit value.
}

/// Skips the value of a field of wire type WireType at Pos. False, with
/// CutShort set when the file ends inside it, unless it is whole.
bool skipFieldValue(llvm::StringRef Data, size_t &Pos, uint64_t WireType,
                    bool &CutShort) {
  uint64_t Size = 0;
  VarintRead R = VarintRead::Ok;
  if (WireType == 0) {
    uint64_t Ignored;
    R = readVarint(Data, Pos, Ignored);
  } else if (WireType == 2) {
    R = readVarint(Data, Pos, Size); // The length of the bytes that follow.
  } else if (WireType == 1 || WireType == 5) {
    Size = WireType == 1 ? 8 : 4;
  } else {
    return false; // Groups (3, 4) are not in ONNX; 6 and 7 do not exist.
  }
  CutShort = R == VarintRead::CutShort ||
             (R == VarintRead::Ok && Size > Data.size() - Pos);
  if (R != VarintRead::Ok || CutShort)
    return false;
  Pos += Size;
  return true;
}

/// Why Data, which protobuf does not parse as a ModelProto, holds no model.
/// Its top-level fields are walked as the wire format lays them out, so
/// that a file cut short (an interrupted copy or download) is told apart
/// from one that holds other data.
std::string whyNotParsed(llvm::StringRef Data) {
  size_t Pos = 0;
  while (Pos < Data.size()) {
    size_t Start = Pos;
    uint64_t Tag = 0;
    VarintRead R = readVarint(Data, Pos, Tag);
    bool CutShort = R == VarintRead::CutShort;
    bool Ok = R == VarintRead::Ok && (Tag >> 3) != 0 &&
              skipFieldValue(Data, Pos, Tag & 7, CutShort);
    if (CutShort)
      return "the file ends inside the field that starts at byte " +
             std::to_string(Start) + " of " + std::to_string(Data.size()) +
             " (is it truncated?)";
    if (!Ok)
      return "byte " + std::to_string(Start) +
             " does not start a protobuf field (is it an ONNX file at all?)";
  }
  return "its fields are whole, but one does not hold what an ONNX model "
         "holds there (is it a model at all?)";
}

} // namespace

llvm::Error onnximport::readModelFile(llvm::StringRef Path,
                                      onnx::ModelProto &Model) {
  auto Buf = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!Buf)
    return makeError("cannot read model '" + Path +
                     "': " + Buf.getError().message());
  llvm::StringRef Data = (*Buf)->getBuffer();
  auto NotAModel = [&](const llvm::Twine &Why) {
    return graphError("'" + Path + "' is not an ONNX model: " + Why);
  };
  if (Data.empty())
    return NotAModel("the file is empty");
  if (Data.size() > static_cast<size_t>(INT_MAX))
    return NotAModel("the file is larger than 2 GiB, the most protobuf "
                     "parses (keep the weights as external data)");
  bool Ok = false;
  try {
    Ok = Model.ParseFromArray(Data.data(), static_cast<int>(Data.size()));
  } catch (const std::exception &E) {
    return NotAModel(llvm::Twine("protobuf failed: ") + E.what());
  }
  if (!Ok)
    return NotAModel("protobuf cannot parse it: " + whyNotParsed(Data));
  // Protobuf parses many things (another message type, a few stray bytes)
  // into a ModelProto without a graph.
  if (!Model.has_graph())
    return NotAModel("it has no graph");
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<Graph>>
tidal::importOnnxModel(llvm::StringRef Path, const ImportOptions &Opts) {
  onnx::ModelProto Model;
  if (auto E = readModelFile(Path, Model))
    return std::move(E);
  if (Opts.ReadFiles)
    Opts.ReadFiles->push_back(Path.str());
  std::string Dir = llvm::sys::path::parent_path(Path).str();
  return ModelImporter(Model, Dir, Opts).run();
}

llvm::Expected<std::vector<std::string>>
tidal::compileTimeInputs(llvm::StringRef Path, const ImportOptions &Opts) {
  onnx::ModelProto Model;
  if (auto E = readModelFile(Path, Model))
    return std::move(E);
  std::string Dir = llvm::sys::path::parent_path(Path).str();
  return ModelImporter(Model, Dir, Opts).compileTimeInputs();
}
