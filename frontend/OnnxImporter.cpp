// STUB: replaced by its owner.
#include "frontend/OnnxImporter.h"
#include "compiler/Diagnostics.h"

using namespace tidal;

llvm::Expected<std::unique_ptr<Graph>> tidal::importOnnxModel(llvm::StringRef, const ImportOptions &) { return makeError("not implemented yet"); }
llvm::Expected<Tensor> tidal::readTensorProtoFile(llvm::StringRef) { return makeError("not implemented yet"); }
llvm::Expected<std::string> tidal::describeOnnxModel(llvm::StringRef) { return makeError("not implemented yet"); }
