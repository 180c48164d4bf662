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
};

/// Imports the model at Path.
llvm::Expected<std::unique_ptr<Graph>>
importOnnxModel(llvm::StringRef Path, const ImportOptions &Opts);

/// Reads a serialized TensorProto (the input_K.pb / output_K.pb files).
llvm::Expected<Tensor> readTensorProtoFile(llvm::StringRef Path);

/// A short description of a model for `tidalc info`: opsets, inputs and
/// outputs with their types, operator counts.
llvm::Expected<std::string> describeOnnxModel(llvm::StringRef Path);

} // namespace tidal

#endif
