//===- OnnxFiles.cpp - The little of ONNX's files that tidalc run needs ---===//
//
// `tidalc run` reads a model's declared inputs (to give symbolic dimensions
// the shapes of the test data, as if --input-shape had said so) and writes
// outputs as TensorProto files (--output-dir), which the frontend's API does
// not cover. Protobuf's exceptions are caught here and become errors.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "compiler/Diagnostics.h"
#include "onnx/onnx_pb.h"
#include <fstream>
#include <set>

using namespace tidal;

static llvm::Error loadModel(llvm::StringRef Path, onnx::ModelProto &M) {
  std::ifstream In(Path.str(), std::ios::binary);
  if (!In)
    return makeError("cannot read model '" + Path + "'");
  bool Ok = false;
  try {
    Ok = M.ParseFromIstream(&In);
  } catch (const std::exception &E) {
    return makeError("cannot parse model '" + Path + "': " + E.what());
  }
  if (!Ok)
    return makeError("cannot parse model '" + Path + "'");
  return llvm::Error::success();
}

static DeclaredInput declaredInput(const onnx::ValueInfoProto &V) {
  DeclaredInput D;
  D.Name = V.name();
  if (!V.type().has_tensor_type() || !V.type().tensor_type().has_shape())
    return D;
  D.HasShape = true;
  for (const onnx::TensorShapeProto_Dimension &Dim :
       V.type().tensor_type().shape().dim())
    D.Dims.push_back(Dim.has_dim_value() ? Dim.dim_value() : -1);
  return D;
}

llvm::Expected<std::vector<DeclaredInput>>
tidal::declaredInputs(llvm::StringRef Path) {
  onnx::ModelProto M;
  if (llvm::Error E = loadModel(Path, M))
    return std::move(E);
  std::set<std::string> Initialized;
  for (const onnx::TensorProto &T : M.graph().initializer())
    Initialized.insert(T.name());
  std::vector<DeclaredInput> Inputs;
  for (const onnx::ValueInfoProto &V : M.graph().input())
    if (!Initialized.count(V.name()))
      Inputs.push_back(declaredInput(V));
  return Inputs;
}

static int onnxDataType(ElemType T) {
  switch (T) {
  case ElemType::F32: return onnx::TensorProto_DataType_FLOAT;
  case ElemType::F16: return onnx::TensorProto_DataType_FLOAT16;
  case ElemType::F64: return onnx::TensorProto_DataType_DOUBLE;
  case ElemType::I64: return onnx::TensorProto_DataType_INT64;
  case ElemType::I32: return onnx::TensorProto_DataType_INT32;
  case ElemType::I16: return onnx::TensorProto_DataType_INT16;
  case ElemType::I8: return onnx::TensorProto_DataType_INT8;
  case ElemType::U8: return onnx::TensorProto_DataType_UINT8;
  case ElemType::U16: return onnx::TensorProto_DataType_UINT16;
  case ElemType::U32: return onnx::TensorProto_DataType_UINT32;
  case ElemType::U64: return onnx::TensorProto_DataType_UINT64;
  case ElemType::Bool: return onnx::TensorProto_DataType_BOOL;
  case ElemType::Bit: return onnx::TensorProto_DataType_UNDEFINED;
  }
  return onnx::TensorProto_DataType_UNDEFINED;
}

llvm::Error tidal::writeTensorProtoFile(const Tensor &T, llvm::StringRef Name,
                                        llvm::StringRef Path) {
  int DT = onnxDataType(T.Type.Elem);
  if (DT == onnx::TensorProto_DataType_UNDEFINED)
    return makeError("cannot write '" + Path + "': ONNX has no " +
                     elemTypeName(T.Type.Elem) + " tensors");
  onnx::TensorProto P;
  P.set_name(Name.str());
  P.set_data_type(DT);
  for (int64_t D : T.Type.Shape)
    P.add_dims(D);
  P.set_raw_data(T.Bytes.data(), T.Bytes.size());
  std::ofstream Out(Path.str(), std::ios::binary | std::ios::trunc);
  bool Ok = false;
  try {
    Ok = Out && P.SerializeToOstream(&Out);
    Out.close();
  } catch (const std::exception &) {
    Ok = false;
  }
  if (!Ok || !Out)
    return makeError("cannot write '" + Path + "'");
  return llvm::Error::success();
}
