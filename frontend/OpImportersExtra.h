//===- OpImportersExtra.h - More operator importers -------------*- C++ -*-===//
//
// Internal to the frontend, like ImporterImpl.h: the importers of the
// operators added after the first release (normalizations, arg-reductions,
// bit operations, data rearrangements, ConvTranspose, Resize), and the
// small node-building helpers they share. Most of these operators are
// decomposed at import into graph operations that compute exactly what
// ONNX's definition (often an ONNX function body) computes.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_FRONTEND_OPIMPORTERSEXTRA_H
#define TIDAL_FRONTEND_OPIMPORTERSEXTRA_H

#include "frontend/ImporterImpl.h"

namespace tidal {
namespace onnximport {

// Normalizations (OpImportersNorm.cpp).
void importLayerNorm(NodeImporter &N);
void importInstanceNorm(NodeImporter &N);
void importGroupNorm(NodeImporter &N);
void importRMSNorm(NodeImporter &N);
void importLpNorm(NodeImporter &N);
void importMeanVarianceNorm(NodeImporter &N);

// Elementwise and axis-wise operators (OpImportersExtra.cpp).
void importArgMinMax(NodeImporter &N);
void importHardmax(NodeImporter &N);
void importMod(NodeImporter &N);
void importBitShift(NodeImporter &N);
void importBitwiseNot(NodeImporter &N);
void importShrink(NodeImporter &N);
void importMish(NodeImporter &N);
void importSwish(NodeImporter &N);
void importIsNaN(NodeImporter &N);
void importIsInf(NodeImporter &N);
void importDepthToSpace(NodeImporter &N);
void importSpaceToDepth(NodeImporter &N);
void importTrilu(NodeImporter &N);
void importCumSum(NodeImporter &N);
void importGatherElements(NodeImporter &N);

// ConvTranspose (OpImportersConvTranspose.cpp) and Resize
// (OpImportersResize.cpp).
void importConvTranspose(NodeImporter &N);
void importResize(NodeImporter &N);

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
/// A two-operand elementwise op, numpy-broadcast; comparisons give bool.
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

} // namespace onnximport
} // namespace tidal

#endif
