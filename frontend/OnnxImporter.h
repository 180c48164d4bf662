//===- OnnxImporter.h - ONNX models to graph IR -----------------*- C++ -*-===//
//
// Reads a model with libonnx's protobuf classes, resolves each node's opset
// version, infers static shapes with Tidal's own rules, folds the shape
// sub-graphs that exporters emit, and builds the graph IR with normalized
// operations (Ops.def). Every node that cannot be imported is reported, all
// at once, as ModelErrors.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_FRONTEND_ONNXIMPORTER_H
#define TIDAL_FRONTEND_ONNXIMPORTER_H

#include "compiler/Graph.h"
#include "llvm/Support/Error.h"
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tidal {

struct ImportOptions {
  /// --input-shape NAME=1x3x224x224: fixes an input's symbolic dimensions.
  std::map<std::string, std::vector<int64_t>> InputShapes;
  /// --bind-input NAME=FILE.pb: specializes the model for one value of a
  /// graph input. The input becomes a Constant with that value (its element
  /// type and every declared dimension must match) and is no longer a
  /// run-time input of the compiled model. This is how a model whose shapes
  /// depend on an input (a Reshape's shape, a Slice's starts fed by the
  /// caller) compiles at all: Tidal compiles static shapes only. An
  /// initializer listed as a graph input may be bound too (its value is only
  /// a default in ONNX). A name that is not a graph input is an error.
  std::map<std::string, Tensor> BoundInputs;
  /// Where set, importOnnxModel appends every file it reads, each once: the
  /// model's path as given, then each external data file as the model's
  /// folder joined with the tensor's location (relative where the model's
  /// path is): what a build system's depfile lists (tidalc compile -MD).
  std::vector<std::string> *ReadFiles = nullptr;
};

/// Imports the model at Path. A file that cannot be read is a plain error;
/// one that holds no model (empty, not protobuf, cut short, no graph) is a
/// ModelError naming the file, as an invalid model is.
llvm::Expected<std::unique_ptr<Graph>>
importOnnxModel(llvm::StringRef Path, const ImportOptions &Opts);

/// The graph inputs (ONNX names, in graph order) that the model needs at
/// compile time: those some node requires to be constant (a Reshape's shape,
/// a Slice's starts, Reduce axes, Clip bounds, ...), directly or through a
/// chain of operations that fold once their operands are constants (Cast,
/// Concat, Unsqueeze, Gather, arithmetic). Binding them (BoundInputs) is what
/// makes such a model compile. Inputs already bound in Opts are not listed.
///
/// The list comes from one import with Opts: a node that is skipped because
/// an earlier node failed is not examined, so a caller that binds the listed
/// inputs should ask again until the list is empty (each round binds at
/// least one more input). Other problems of the model are not errors here
/// (importOnnxModel reports them); only a file that cannot be read or holds
/// no model (as importOnnxModel judges it) is.
llvm::Expected<std::vector<std::string>>
compileTimeInputs(llvm::StringRef Path, const ImportOptions &Opts);

/// Reads a serialized TensorProto (the input_K.pb / output_K.pb files).
llvm::Expected<Tensor> readTensorProtoFile(llvm::StringRef Path);

/// A short description of a model for `tidalc info`: opsets, inputs and
/// outputs with their types, operator counts.
llvm::Expected<std::string> describeOnnxModel(llvm::StringRef Path);

} // namespace tidal

#endif
