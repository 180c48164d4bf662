//===- TensorProto.cpp - ONNX tensors to Tidal tensors --------------------===//
//
// Converts TensorProto messages (initializers, Constant values, the
// input_K.pb files of the conformance tests) into dense little-endian
// Tensors. Data comes from raw_data, from the typed repeated fields, or from
// an external file. External files follow ONNX's security model
// (spec/ExternalDataSecurity.md): the location must be a relative path that
// stays inside the model's directory once canonicalized, the file must be a
// regular file that is neither a symlink nor hard-linked, it is opened with
// O_NOFOLLOW and checked to be the file that was validated, and offset and
// length must be non-negative integers within the file.
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

using namespace tidal;
using namespace tidal::onnximport;
namespace fs = std::filesystem;

std::optional<ElemType> onnximport::elemTypeFromOnnx(int32_t DataType) {
  switch (DataType) {
  case onnx::TensorProto::FLOAT: return ElemType::F32;
  case onnx::TensorProto::UINT8: return ElemType::U8;
  case onnx::TensorProto::INT8: return ElemType::I8;
  case onnx::TensorProto::UINT16: return ElemType::U16;
  case onnx::TensorProto::INT16: return ElemType::I16;
  case onnx::TensorProto::INT32: return ElemType::I32;
  case onnx::TensorProto::INT64: return ElemType::I64;
  case onnx::TensorProto::BOOL: return ElemType::Bool;
  case onnx::TensorProto::FLOAT16: return ElemType::F16;
  case onnx::TensorProto::DOUBLE: return ElemType::F64;
  case onnx::TensorProto::UINT32: return ElemType::U32;
  case onnx::TensorProto::UINT64: return ElemType::U64;
  default: return std::nullopt;
  }
}

std::string onnximport::onnxTypeName(int32_t DataType) {
  static const char *const Names[] = {
      "undefined",      "float",      "uint8",
      "int8",           "uint16",     "int16",
      "int32",          "int64",      "string",
      "bool",           "float16",    "double",
      "uint32",         "uint64",     "complex64",
      "complex128",     "bfloat16",   "float8e4m3fn",
      "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz",
      "uint4",          "int4",       "float4e2m1",
      "float8e8m0",     "uint2",      "int2"};
  if (DataType >= 0 && DataType < static_cast<int32_t>(std::size(Names)))
    return Names[DataType];
  return "data type " + std::to_string(DataType);
}

std::string onnximport::onnxShapeStr(const onnx::TensorShapeProto &Shape) {
  std::vector<std::string> Dims;
  for (const auto &D : Shape.dim())
    Dims.push_back(D.has_dim_value()   ? std::to_string(D.dim_value())
                   : D.has_dim_param() ? D.dim_param()
                                       : "?");
  return "[" + llvm::join(Dims, ",") + "]";
}

bool onnximport::fitsDeclaration(const onnx::TypeProto_Tensor &Declared,
                                 const TensorType &T) {
  if (Declared.elem_type() != 0 &&
      elemTypeFromOnnx(Declared.elem_type()) != T.Elem)
    return false;
  if (!Declared.has_shape())
    return true;
  const auto &Dims = Declared.shape().dim();
  if (static_cast<size_t>(Dims.size()) != T.rank())
    return false;
  for (int I = 0; I < Dims.size(); ++I)
    if (Dims[I].has_dim_value() && Dims[I].dim_value() != T.Shape[I])
      return false;
  return true;
}

std::string onnximport::sanitizeName(llvm::StringRef Name) {
  // The IR text quotes names with unusual characters, so ONNX names are
  // kept as they are (they reach the C header as its I/O names).
  return Name.empty() ? "v" : Name.str();
}

llvm::Error onnximport::parseProtoFile(llvm::StringRef Path,
                                       google::protobuf::MessageLite &Msg,
                                       llvm::StringRef What) {
  auto Buf = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!Buf)
    return makeError("cannot read " + What + " '" + Path +
                     "': " + Buf.getError().message());
  if ((*Buf)->getBufferSize() > static_cast<size_t>(INT_MAX))
    return makeError(What + " '" + Path + "' is larger than 2 GiB");
  bool Ok = false;
  try {
    Ok = Msg.ParseFromArray((*Buf)->getBufferStart(),
                            static_cast<int>((*Buf)->getBufferSize()));
  } catch (const std::exception &E) {
    return makeError("cannot parse " + What + " '" + Path + "': " + E.what());
  }
  if (!Ok)
    return makeError("cannot parse " + What + " '" + Path +
                     "': not a valid ONNX protobuf file");
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// External data
//===----------------------------------------------------------------------===//

namespace {

struct ExternalRef {
  std::string Location;
  uint64_t Offset = 0;
  std::optional<uint64_t> Length;
};

llvm::Expected<uint64_t> parseSize(llvm::StringRef Key, llvm::StringRef V) {
  uint64_t N;
  if (V.empty() || !llvm::all_of(V, llvm::isDigit) || V.getAsInteger(10, N))
    return makeError("external data " + Key + " '" + V +
                     "' is not a non-negative integer");
  return N;
}

llvm::Expected<ExternalRef> parseExternalRef(const onnx::TensorProto &P) {
  ExternalRef R;
  bool HasLocation = false;
  for (const auto &KV : P.external_data()) {
    // Unknown keys (checksum, basepath, anything else) are ignored, as
    // ONNX's attribute whitelist does.
    if (KV.key() == "location") {
      R.Location = KV.value();
      HasLocation = true;
    } else if (KV.key() == "offset" || KV.key() == "length") {
      auto N = parseSize(KV.key(), KV.value());
      if (!N)
        return N.takeError();
      if (KV.key() == "offset")
        R.Offset = *N;
      else
        R.Length = *N;
    }
  }
  if (!HasLocation || R.Location.empty())
    return makeError("external data has no location");
  return R;
}

// Layers 1, 2 and 4: a relative path without '..' that stays inside the
// base directory once symlinks are resolved, naming a regular file that is
// not a symlink and has one hard link.
llvm::Expected<fs::path> resolveExternalPath(llvm::StringRef BaseDir,
                                             llvm::StringRef Location) {
  fs::path Rel(Location.str());
  if (Rel.is_absolute() || Rel.has_root_name() || Rel.has_root_directory() ||
      Location.contains('\\'))
    return makeError("external data location '" + Location +
                     "' must be a relative path");
  for (const fs::path &Part : Rel)
    if (Part == "..")
      return makeError("external data location '" + Location +
                       "' must not contain '..'");
  std::error_code EC;
  fs::path Base = fs::canonical(BaseDir.empty() ? "." : BaseDir.str(), EC);
  if (EC)
    return makeError("cannot resolve the model directory: " + EC.message());
  fs::path Full = Base / Rel;
  fs::path Canon = fs::weakly_canonical(Full, EC);
  if (EC)
    return makeError("cannot resolve external data '" + Location +
                     "': " + EC.message());
  auto [BaseEnd, CanonIt] =
      std::mismatch(Base.begin(), Base.end(), Canon.begin(), Canon.end());
  if (BaseEnd != Base.end() || Canon == Base)
    return makeError("external data location '" + Location +
                     "' escapes the model directory");
  if (fs::is_symlink(fs::symlink_status(Full, EC)))
    return makeError("external data file '" + Location + "' is a symlink");
  if (!fs::is_regular_file(Canon, EC))
    return makeError("external data file '" + Location +
                     "' does not exist or is not a regular file");
  if (fs::hard_link_count(Canon, EC) > 1 || EC)
    return makeError("external data file '" + Location +
                     "' has several hard links");
  return Canon;
}

// Layer 3: opens without following symlinks, checks that the open file is
// the validated one, then reads exactly Length bytes at Offset.
llvm::Error readExternalBytes(const fs::path &Path, const ExternalRef &R,
                              uint64_t Expected, std::vector<uint8_t> &Out) {
  int FD = ::open(Path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (FD < 0)
    return makeError("cannot open external data '" + R.Location +
                     "': " + std::strerror(errno));
  struct stat Opened, Named;
  bool Same = ::fstat(FD, &Opened) == 0 && ::stat(Path.c_str(), &Named) == 0 &&
              Opened.st_dev == Named.st_dev && Opened.st_ino == Named.st_ino &&
              S_ISREG(Opened.st_mode) && Opened.st_nlink == 1;
  if (!Same) {
    ::close(FD);
    return makeError("external data file '" + R.Location +
                     "' changed while it was opened");
  }
  uint64_t Size = static_cast<uint64_t>(Opened.st_size);
  uint64_t Length = R.Length.value_or(Size > R.Offset ? Size - R.Offset : 0);
  llvm::Error Err = llvm::Error::success();
  if (R.Offset > Size || Length > Size - R.Offset)
    Err = makeError("external data offset/length lie outside '" + R.Location +
                    "' (" + llvm::Twine(Size) + " bytes)");
  else if (Length != Expected)
    Err = makeError("external data of '" + R.Location + "' has " +
                    llvm::Twine(Length) + " bytes, the tensor needs " +
                    llvm::Twine(Expected));
  if (!Err) {
    Out.resize(Length);
    uint64_t Done = 0;
    while (Done < Length) {
      ssize_t N =
          ::pread(FD, Out.data() + Done, Length - Done, R.Offset + Done);
      if (N <= 0)
        break;
      Done += N;
    }
    if (Done != Length)
      Err = makeError("cannot read external data '" + R.Location + "'");
  }
  ::close(FD);
  return Err;
}

//===----------------------------------------------------------------------===//
// Typed fields
//===----------------------------------------------------------------------===//

// The number of values in the typed field that holds P's data type.
int64_t typedCount(const onnx::TensorProto &P) {
  switch (P.data_type()) {
  case onnx::TensorProto::FLOAT: return P.float_data_size();
  case onnx::TensorProto::DOUBLE: return P.double_data_size();
  case onnx::TensorProto::INT64: return P.int64_data_size();
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64: return P.uint64_data_size();
  default: return P.int32_data_size();
  }
}

const char *typedFieldName(const onnx::TensorProto &P) {
  switch (P.data_type()) {
  case onnx::TensorProto::FLOAT: return "float_data";
  case onnx::TensorProto::DOUBLE: return "double_data";
  case onnx::TensorProto::INT64: return "int64_data";
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64: return "uint64_data";
  default: return "int32_data";
  }
}

// Copies the typed field into T, whose element count it must match.
void readTypedFields(const onnx::TensorProto &P, Tensor &T) {
  int64_t Count = T.Type.numElements();
  for (int64_t I = 0; I < Count; ++I) {
    switch (P.data_type()) {
    case onnx::TensorProto::FLOAT: T.data<float>()[I] = P.float_data(I); break;
    case onnx::TensorProto::DOUBLE:
      T.data<double>()[I] = P.double_data(I);
      break;
    case onnx::TensorProto::INT64:
      T.data<int64_t>()[I] = P.int64_data(I);
      break;
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      T.setInt(I, static_cast<int64_t>(P.uint64_data(I)));
      break;
    case onnx::TensorProto::FLOAT16: // the bits, in the low 16 bits
      T.data<uint16_t>()[I] = static_cast<uint16_t>(P.int32_data(I));
      break;
    default: // int32, int16, int8, uint16, uint8, bool
      T.setInt(I, P.int32_data(I));
      break;
    }
  }
}

} // namespace

llvm::Expected<Tensor>
onnximport::tensorFromProto(const onnx::TensorProto &P, llvm::StringRef BaseDir,
                            std::vector<std::string> *ReadFiles) {
  std::string What = P.name().empty() ? "tensor" : "tensor '" + P.name() + "'";
  auto Fail = [&](const llvm::Twine &Why) {
    return makeError(What + ": " + Why);
  };
  std::optional<ElemType> Elem = elemTypeFromOnnx(P.data_type());
  if (!Elem)
    return Fail("element type " + onnxTypeName(P.data_type()) +
                " is not supported");
  if (P.has_segment())
    return Fail("segmented tensors are not supported");
  std::vector<int64_t> Shape;
  int64_t Count = 1;
  for (int64_t D : P.dims()) {
    if (D < 0 || (D > 0 && Count > (int64_t(1) << 40) / D))
      return Fail("bad or too large dimensions");
    Count *= D;
    Shape.push_back(D);
  }
  // Sizes are checked against the data before anything is allocated.
  TensorType Type(*Elem, Shape);
  uint64_t Bytes = Type.sizeInBytes();
  Tensor T;
  if (P.data_location() == onnx::TensorProto::EXTERNAL) {
    auto Ref = parseExternalRef(P);
    if (!Ref)
      return Fail(llvm::toString(Ref.takeError()));
    auto Path = resolveExternalPath(BaseDir, Ref->Location);
    if (!Path)
      return Fail(llvm::toString(Path.takeError()));
    std::vector<uint8_t> Data;
    if (auto E = readExternalBytes(*Path, *Ref, Bytes, Data))
      return Fail(llvm::toString(std::move(E)));
    if (ReadFiles) {
      llvm::SmallString<256> Read(BaseDir);
      llvm::sys::path::append(Read, Ref->Location);
      llvm::sys::path::remove_dots(Read);
      if (!llvm::is_contained(*ReadFiles, Read))
        ReadFiles->push_back(std::string(Read));
    }
    T = Tensor(Type, std::move(Data));
  } else if (P.has_raw_data()) {
    if (P.raw_data().size() != Bytes)
      return Fail("raw_data has " + llvm::Twine(P.raw_data().size()) +
                  " bytes, the shape needs " + llvm::Twine(Bytes));
    T = Tensor(Type,
               std::vector<uint8_t>(P.raw_data().begin(), P.raw_data().end()));
  } else {
    if (typedCount(P) != Count)
      return Fail(llvm::Twine(typedFieldName(P)) + " has " +
                  llvm::Twine(typedCount(P)) + " values, the shape needs " +
                  llvm::Twine(Count));
    T = Tensor(Type);
    readTypedFields(P, T);
  }
  if (*Elem == ElemType::Bool)
    for (uint8_t &B : T.Bytes)
      B = B != 0;
  return std::move(T);
}

llvm::Expected<Tensor> tidal::readTensorProtoFile(llvm::StringRef Path) {
  onnx::TensorProto P;
  if (auto E = onnximport::parseProtoFile(Path, P, "tensor file"))
    return std::move(E);
  std::string Dir = fs::path(Path.str()).parent_path().string();
  return onnximport::tensorFromProto(P, Dir);
}
