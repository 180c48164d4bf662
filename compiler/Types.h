//===- Types.h - Element and tensor types of the graph IR -------*- C++ -*-===//
//
// The types every floor shares: element types (including the quantized and
// packed 1-bit cases that later issues build on) and statically shaped
// tensor types. Shapes are always fully static once the frontend is done;
// a dimension of -1 exists only inside the frontend, before --input-shape
// and shape inference have fixed it.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_TYPES_H
#define TIDAL_COMPILER_TYPES_H

#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tidal {

/// Element types. `Bit` is one bit per element, packed little-endian into
/// bytes (element i is bit i%8 of byte i/8), as binary networks store it.
enum class ElemType : uint8_t {
  F32, F16, F64, I64, I32, I16, I8, U8, U16, U32, U64, Bool, Bit
};

/// The name used in IR text: f32, f16, f64, i64, ..., bool, bit.
llvm::StringRef elemTypeName(ElemType T);
/// Parses a name printed by elemTypeName.
std::optional<ElemType> parseElemType(llvm::StringRef Name);
/// Storage bits of one element (1 for Bit, 8 for Bool).
unsigned elemBits(ElemType T);
bool isFloat(ElemType T);
bool isSignedInt(ElemType T);
bool isUnsignedInt(ElemType T);

/// Affine quantization: real = Scale * (q - ZeroPoint). One entry per tensor,
/// or one per slice along Axis when Axis >= 0.
struct Quantization {
  std::vector<float> Scales;
  std::vector<int64_t> ZeroPoints;
  int Axis = -1;
  bool operator==(const Quantization &O) const {
    return Scales == O.Scales && ZeroPoints == O.ZeroPoints && Axis == O.Axis;
  }
};

/// A statically shaped tensor type. Rank 0 is a scalar.
struct TensorType {
  ElemType Elem = ElemType::F32;
  std::vector<int64_t> Shape;
  std::optional<Quantization> Quant;

  TensorType() = default;
  TensorType(ElemType E, std::vector<int64_t> S) : Elem(E), Shape(std::move(S)) {}

  size_t rank() const { return Shape.size(); }
  int64_t numElements() const;
  /// Bytes of dense row-major storage (rounded up to whole bytes for Bit).
  int64_t sizeInBytes() const;
  bool operator==(const TensorType &O) const {
    return Elem == O.Elem && Shape == O.Shape && Quant == O.Quant;
  }
  bool operator!=(const TensorType &O) const { return !(*this == O); }
  /// Prints as `f32[1,3,224,224]` (scalars as `f32[]`), followed by
  /// `q(scales; zero points; axis)` when quantized.
  std::string str() const;
};

/// A shape as `[1,3,224,224]` (`[]` for a scalar), as TensorType::str()
/// prints it; every floor's messages use it so that shapes read alike.
std::string shapeStr(const std::vector<int64_t> &Shape);

/// Row-major strides, in elements, of Shape.
std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &Shape);

} // namespace tidal

#endif
