//===- OpImportersExtra.h - More operator importers -------------*- C++ -*-===//
//
// Internal to the frontend, like ImporterImpl.h: the importers of the
// operators added after the first release (normalizations, arg-reductions,
// bit operations, data rearrangements, ConvTranspose, Resize). Most of
// these operators are decomposed at import into graph operations that
// compute exactly what ONNX's definition (often an ONNX function body)
// computes, with the build:: helpers of ImporterImpl.h.
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

} // namespace onnximport
} // namespace tidal

#endif
