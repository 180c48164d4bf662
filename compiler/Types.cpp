//===- Types.cpp - Element and tensor types -------------------------------===//

#include "compiler/Types.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

namespace {
struct ElemInfo {
  ElemType T;
  const char *Name;
  unsigned Bits;
};
const ElemInfo Elems[] = {
    {ElemType::F32, "f32", 32}, {ElemType::F16, "f16", 16},
    {ElemType::F64, "f64", 64}, {ElemType::I64, "i64", 64},
    {ElemType::I32, "i32", 32}, {ElemType::I16, "i16", 16},
    {ElemType::I8, "i8", 8},    {ElemType::U8, "u8", 8},
    {ElemType::U16, "u16", 16}, {ElemType::U32, "u32", 32},
    {ElemType::U64, "u64", 64}, {ElemType::Bool, "bool", 8},
    {ElemType::Bit, "bit", 1},
};
} // namespace

llvm::StringRef tidal::elemTypeName(ElemType T) {
  return Elems[static_cast<unsigned>(T)].Name;
}

std::optional<ElemType> tidal::parseElemType(llvm::StringRef Name) {
  for (const ElemInfo &E : Elems)
    if (Name == E.Name)
      return E.T;
  return std::nullopt;
}

unsigned tidal::elemBits(ElemType T) {
  return Elems[static_cast<unsigned>(T)].Bits;
}

bool tidal::isFloat(ElemType T) {
  return T == ElemType::F32 || T == ElemType::F16 || T == ElemType::F64;
}

bool tidal::isSignedInt(ElemType T) {
  return T == ElemType::I64 || T == ElemType::I32 || T == ElemType::I16 ||
         T == ElemType::I8;
}

bool tidal::isUnsignedInt(ElemType T) {
  return T == ElemType::U8 || T == ElemType::U16 || T == ElemType::U32 ||
         T == ElemType::U64;
}

int64_t TensorType::numElements() const {
  int64_t N = 1;
  for (int64_t D : Shape)
    N *= D;
  return N;
}

int64_t TensorType::sizeInBytes() const {
  return (numElements() * elemBits(Elem) + 7) / 8;
}

std::string TensorType::str() const {
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << elemTypeName(Elem) << shapeStr(Shape);
  if (Quant) {
    OS << " q(";
    for (size_t I = 0; I < Quant->Scales.size(); ++I)
      OS << (I ? "," : "") << llvm::format("%.9g", Quant->Scales[I]);
    OS << ';';
    for (size_t I = 0; I < Quant->ZeroPoints.size(); ++I)
      OS << (I ? "," : "") << Quant->ZeroPoints[I];
    OS << ';' << Quant->Axis << ')';
  }
  return OS.str();
}

std::string tidal::shapeStr(const std::vector<int64_t> &Shape) {
  std::string S = "[";
  for (size_t I = 0; I < Shape.size(); ++I)
    S += (I ? "," : "") + std::to_string(Shape[I]);
  return S + "]";
}

std::vector<int64_t> tidal::rowMajorStrides(const std::vector<int64_t> &Shape) {
  std::vector<int64_t> Strides(Shape.size(), 1);
  for (size_t I = Shape.size(); I-- > 1;)
    Strides[I - 1] = Strides[I] * Shape[I];
  return Strides;
}
