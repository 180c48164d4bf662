//===- ImporterImpl.h - Internals of the ONNX importer ----------*- C++ -*-===//
//
// The importer walks the ONNX graph once, in topological order. For each
// node a NodeImporter gives the operator's importer function typed access to
// the node's inputs (already imported Values, constants where known),
// attributes and outputs; the importer normalizes the node into graph
// operations through emit(), which infers result types and folds operations
// whose operands are all constants. The first problem with a node is kept in
// the NodeImporter and reported, with the node's name, op and opset, when the
// importer returns; nothing is emitted after it.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_FRONTEND_IMPORTERIMPL_H
#define TIDAL_FRONTEND_IMPORTERIMPL_H

#include "compiler/Diagnostics.h"
#include "compiler/Graph.h"
#include "frontend/OnnxImporter.h"
#include <map>
#include <onnx/onnx_pb.h>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tidal {
namespace onnximport {

//===----------------------------------------------------------------------===//
// Tensors and types (TensorProto.cpp)
//===----------------------------------------------------------------------===//

/// The element type of an ONNX TensorProto data type, if Tidal supports it.
std::optional<ElemType> elemTypeFromOnnx(int32_t DataType);
/// ONNX's name of a data type ("float", "bfloat16", ...), for messages.
std::string onnxTypeName(int32_t DataType);
/// A declared ONNX shape as `[N,3,224,224]`: fixed dimensions, symbolic
/// ones by name, `?` for unknown ones.
std::string onnxShapeStr(const onnx::TensorShapeProto &Shape);
/// Whether T agrees with an ONNX tensor declaration: the element type when
/// one is declared, and the rank and every fixed dimension when a shape is.
bool fitsDeclaration(const onnx::TypeProto_Tensor &Declared,
                     const TensorType &T);
/// Converts a TensorProto, reading external data from files relative to
/// BaseDir under the rules of ONNX's external data security model; each
/// file read is appended to ReadFiles (where set) unless it is there.
llvm::Expected<Tensor>
tensorFromProto(const onnx::TensorProto &P, llvm::StringRef BaseDir,
                std::vector<std::string> *ReadFiles = nullptr);
/// The IR name of an ONNX value: the same, except that an empty name
/// becomes "v".
std::string sanitizeName(llvm::StringRef Name);
/// Reads and parses the model file at Path into Model, which must have a
/// graph. A file that cannot be read is a plain error; one that holds no
/// model (empty, not protobuf, cut short, no graph) is a graph-level
/// ModelError naming the file. importOnnxModel, compileTimeInputs and
/// describeOnnxModel all read models this way.
llvm::Error readModelFile(llvm::StringRef Path, onnx::ModelProto &Model);

/// Parses a serialized protobuf message from a file; a clear error names
/// the file when it cannot be read or parsed.
llvm::Error parseProtoFile(llvm::StringRef Path,
                           google::protobuf::MessageLite &Msg,
                           llvm::StringRef What);

//===----------------------------------------------------------------------===//
// Operator registry (OpsetTable.cpp)
//===----------------------------------------------------------------------===//

class NodeImporter;
using ImportFn = void (*)(NodeImporter &);

/// An ONNX operator Tidal imports: its importer and the opset versions in
/// which ONNX changed it (from Operators.md), oldest first.
struct OpEntry {
  const char *Name;
  ImportFn Import;
  std::vector<int> Versions;
};

/// The newest default-domain opset whose operator definitions Tidal knows.
constexpr int64_t MaxKnownOpset = 28;

/// The entry of an operator, or null when Tidal does not import it.
const OpEntry *findOp(llvm::StringRef OpType);
/// Checks that Op can be imported at the model's opset: the operator exists
/// in that opset, and the opset is not newer than Tidal knows. Returns the
/// reason when not.
std::optional<std::string> checkOpset(const OpEntry &Op, int64_t Opset);

//===----------------------------------------------------------------------===//
// The model and node importers (OnnxImporter.cpp, NodeImporter.cpp)
//===----------------------------------------------------------------------===//

/// State shared by every node's import: the graph being built, the values
/// defined so far (by ONNX name), initializers not yet turned into
/// constants.
struct ModelState {
  Graph &G;
  std::string BaseDir;
  std::map<std::string, Value *> Values;
  std::map<std::string, const onnx::TensorProto *> Initializers;
  /// Names of values whose producer could not be imported.
  std::set<std::string> Failed;
  /// Names read by some node or listed as a graph output.
  std::set<std::string> Used;
  /// The ONNX name of each run-time graph input's value (for lookup only).
  std::map<const Value *, std::string> InputNames;
  /// Graph inputs (ONNX names) some node needed to be constants
  /// (compileTimeInputs()).
  std::set<std::string> CompileTimeInputs;
  /// ImportOptions::ReadFiles.
  std::vector<std::string> *ReadFiles = nullptr;
};

class NodeImporter {
public:
  NodeImporter(ModelState &M, const onnx::NodeProto &P, std::string Name,
               int64_t Opset)
      : M(M), Proto(P), Name(std::move(Name)), Opset(Opset) {}

  ModelState &M;
  const onnx::NodeProto &Proto;
  /// The node's name (or a made-up one); every emitted node carries it.
  const std::string Name;
  /// The version of the default opset the model imports.
  const int64_t Opset;

  /// Records why the node cannot be imported (the first reason is kept).
  void fail(const llvm::Twine &Reason);
  bool failed() const { return Failure.has_value(); }
  const std::optional<std::string> &failure() const { return Failure; }

  // Inputs. An absent optional input (missing or named "") gives null.
  unsigned numInputs() const { return Proto.input_size(); }
  bool hasInput(unsigned I) const;
  Value *input(unsigned I);
  /// Input I, or null after fail() when a required input is absent.
  Value *requiredInput(unsigned I);
  /// Every input of a variadic operator (Concat, Sum, ...), each required;
  /// fails when one is absent or there is none.
  std::vector<Value *> requiredInputs();
  const Tensor *constInput(unsigned I);
  /// The integer values of a constant int64/int32 input; fails, naming
  /// Role, when the input is computed at run time.
  std::optional<std::vector<int64_t>> constInts(unsigned I,
                                                llvm::StringRef Role);
  /// A constant scalar (or one-element) input as double, when constant.
  std::optional<double> constScalar(unsigned I, llvm::StringRef Role);
  /// Records that input I had to be a constant but is computed at run time:
  /// the graph inputs it is folded from become compile-time inputs of the
  /// model (compileTimeInputs()). Every importer that rejects a node for a
  /// run-time operand calls it (constInts and constScalar do).
  void needConstant(unsigned I);
  /// Marks an input the operator accepts but does not need (Dropout's
  /// ratio): inputs nobody read are reported as unexpected.
  void ignoreInput(unsigned I) { ReadInputs.insert(I); }
  /// Fails the node when it has a present input its importer never read:
  /// the operator at this opset does not take that many inputs.
  void checkUnreadInputs();

  // Outputs.
  unsigned numOutputs() const { return Proto.output_size(); }
  /// Whether output I exists and some node or graph output reads it.
  bool outputUsed(unsigned I) const;
  void setOutput(unsigned I, Value *V);
  Value *output(unsigned I) const;

  // Attributes. A present attribute of the wrong type fails the node.
  bool hasAttr(llvm::StringRef A) const;
  int64_t attrInt(llvm::StringRef A, int64_t Default);
  float attrFloat(llvm::StringRef A, float Default);
  std::string attrString(llvm::StringRef A, llvm::StringRef Default);
  std::vector<int64_t> attrInts(llvm::StringRef A,
                                std::vector<int64_t> Default = {});
  std::vector<float> attrFloats(llvm::StringRef A);
  const onnx::TensorProto *attrTensor(llvm::StringRef A);
  /// A required attribute that is absent fails the node.
  bool requireAttr(llvm::StringRef A);

  /// Normalizes an axis in [-Rank, Rank) to [0, Rank); fails when outside.
  std::optional<int64_t> normalizeAxis(int64_t Axis, int64_t Rank,
                                       llvm::StringRef What = "axis");
  /// Normalizes every axis of a list (an `axes` value) and sorts them; fails
  /// when one is outside [-Rank, Rank) or two name the same axis.
  std::optional<std::vector<int64_t>> normalizeAxes(std::vector<int64_t> Axes,
                                                    int64_t Rank);

  /// Emits operation K with the given operands and normalized attributes.
  /// Result is the result type the importer computed; it is checked against
  /// inferResultTypes(). When every operand is a constant and the evaluator
  /// supports K, the result is folded into a Constant. Returns null (doing
  /// nothing) once the node has failed or when an operand is null.
  Value *emit(OpKind K, std::vector<Value *> Operands, AttrMap Attrs,
              TensorType Result);
  /// Emits a Constant node.
  Value *constant(Tensor T);
  /// An i64 constant of rank 1.
  Value *constantI64(const std::vector<int64_t> &V);
  /// A Reshape of V to Shape (V itself when it has that shape already).
  Value *reshape(Value *V, std::vector<int64_t> Shape);
  /// Values created while importing this node (renamed to ONNX names).
  std::set<Value *> Created;

private:
  Value *tryFold(OpKind K, const std::vector<Value *> &Operands,
                 const AttrMap &Attrs, const TensorType &Result);
  const onnx::AttributeProto *findAttr(llvm::StringRef A) const;
  std::optional<std::string> Failure;
  std::map<unsigned, Value *> Outputs;
  std::set<unsigned> ReadInputs;
};

//===----------------------------------------------------------------------===//
// Shape and node-building helpers (ShapeFolding.cpp)
//===----------------------------------------------------------------------===//

/// Numpy broadcasting of two shapes (tidal::broadcastShapes); none when
/// they do not broadcast, for importers that word their own message.
std::optional<std::vector<int64_t>> broadcast(const std::vector<int64_t> &A,
                                              const std::vector<int64_t> &B);
int64_t product(const std::vector<int64_t> &S, size_t From = 0,
                size_t To = SIZE_MAX);
/// The most elements a tensor may have (2^40): beyond it element counts and
/// byte sizes risk overflow, and no model needs it.
constexpr int64_t MaxElements = int64_t(1) << 40;
/// Whether a shape has no negative dimension and at most MaxElements.
bool reasonableShape(const std::vector<int64_t> &S);
/// Whether a double is exactly representable as a float (for the float
/// attributes that carry integer bounds and fill values).
bool exactAsFloat(double V);

/// Helpers that emit one graph operation for the node being imported, with
/// the result type computed from the operands; each returns null (doing
/// nothing) once the node has failed or an operand is null.
namespace build {

/// V converted to element type To (V itself when it has that type).
Value *cast(NodeImporter &N, Value *V, ElemType To);
/// A rank-0 constant of element type E holding V.
Value *scalar(NodeImporter &N, ElemType E, double V);
/// A one-operand elementwise op with the operand's type.
Value *unary(NodeImporter &N, OpKind K, Value *X, AttrMap A = {});
/// A two-operand elementwise op, numpy-broadcast; comparisons and logical
/// ops give bool.
Value *binary(NodeImporter &N, OpKind K, Value *A, Value *B,
              AttrMap Attrs = {});
/// Where(C, X, Y), broadcast.
Value *where(NodeImporter &N, Value *C, Value *X, Value *Y);
/// A Reduce* op over Axes (sorted, non-negative).
Value *reduce(NodeImporter &N, OpKind K, Value *X,
              const std::vector<int64_t> &Axes, bool KeepDims);
/// A Transpose (V itself for the identity permutation).
Value *transpose(NodeImporter &N, Value *V, const std::vector<int64_t> &Perm);

} // namespace build

//===----------------------------------------------------------------------===//
// Window attributes (OpImportersNN.cpp), shared by Conv, the pools and
// ConvTranspose
//===----------------------------------------------------------------------===//

/// The integer list attribute A of a window (kernel_shape, strides,
/// dilations, pads, output_padding): Size values, Default each when absent;
/// fails the node unless there are Size values, each in [Min, 2^31].
std::vector<int64_t> windowList(NodeImporter &N, llvm::StringRef A, size_t Size,
                                int64_t Default, int64_t Min);
/// The auto_pad attribute, "NOTSET" when absent or empty; fails the node
/// unless it is NOTSET, SAME_UPPER, SAME_LOWER or VALID.
std::string autoPadAttr(NodeImporter &N);

//===----------------------------------------------------------------------===//
// Operator importers (OpImporters*.cpp)
//===----------------------------------------------------------------------===//

// Elementwise (OpImportersElementwise.cpp).
void importUnary(NodeImporter &N);
void importBinary(NodeImporter &N);
void importVariadic(NodeImporter &N);
void importClip(NodeImporter &N);
void importWhere(NodeImporter &N);
void importCast(NodeImporter &N);
void importCastLike(NodeImporter &N);
// Neural network operators (OpImportersNN.cpp).
void importConv(NodeImporter &N);
void importPool(NodeImporter &N);
void importGlobalPool(NodeImporter &N);
void importBatchNorm(NodeImporter &N);
void importLRN(NodeImporter &N);
void importGemm(NodeImporter &N);
void importMatMul(NodeImporter &N);
void importSoftmax(NodeImporter &N);
// Reductions (OpImportersReduce.cpp).
void importReduce(NodeImporter &N);
// Shapes and data movement (OpImportersShape.cpp).
void importReshape(NodeImporter &N);
void importFlatten(NodeImporter &N);
void importSqueeze(NodeImporter &N);
void importUnsqueeze(NodeImporter &N);
void importTranspose(NodeImporter &N);
void importConcat(NodeImporter &N);
void importSlice(NodeImporter &N);
void importGather(NodeImporter &N);
void importExpand(NodeImporter &N);
void importTile(NodeImporter &N);
void importUpsample(NodeImporter &N);
void importSplit(NodeImporter &N);
void importPad(NodeImporter &N);
// Constants and identities (OpImportersConstant.cpp).
void importConstant(NodeImporter &N);
void importConstantOfShape(NodeImporter &N);
void importShape(NodeImporter &N);
void importSize(NodeImporter &N);
void importRange(NodeImporter &N);
void importIdentity(NodeImporter &N);
void importDropout(NodeImporter &N);

} // namespace onnximport
} // namespace tidal

#endif
