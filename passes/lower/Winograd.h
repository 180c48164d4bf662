//===- Winograd.h - Winograd convolutions -----------------------*- C++ -*-===//
//
// 3x3 stride-1 convolutions as Winograd's minimal filtering F(m x m, 3 x 3)
// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2015): each m x m output tile is A^T [(G g G^T) . (B^T d B)] A, with d
// the (m+2) x (m+2) input tile and g the 3x3 filter. Over all channels the
// elementwise products become (m+2)^2 independent matrix products, each
// with m^2 / 4 ... m^2 / 9 of the direct convolution's multiplications:
// 2.25x fewer for F(2x2), 4x fewer for F(4x4).
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOWER_WINOGRAD_H
#define TIDAL_PASSES_LOWER_WINOGRAD_H

#include "passes/lower/RegisterTile.h"

namespace tidal {
namespace lower {

/// A 2-D convolution as Winograd sees it: one group, stride 1, no dilation.
struct WinogradConv {
  int64_t Batch, C, M;     ///< Images, input and output channels.
  int64_t H, W, OH, OW;    ///< Input and output spatial sizes.
  int64_t PadTop, PadLeft; ///< Padding before the first input row/column.
};

/// The output tile size m (2 or 4) of the Winograd form that Conv N should
/// take on the options' target, or 0 when it should stay a direct product:
/// Winograd needs a 2-D 3x3 kernel, stride 1, no dilation, one group,
/// constant f32 weights and a target with a register tile; it pays where
/// there are enough tiles to fill the products' register tiles and enough
/// channels to amortize the transforms. PassOptions::Winograd can turn it
/// off or force a size.
int64_t winogradTileSize(const Node &N, const WinogradConv &S,
                         const std::vector<nest::WindowAxis> &Axes,
                         const PassOptions &Opts);

/// The convolution of N (shape S) as F(m x m, 3 x 3): the input padded into
/// a scratch buffer, the input transform, (m+2)^2 register-tiled products
/// against weights transformed and packed at compile time, and the output
/// transform, which adds the bias and stores through storeResult (so the
/// group's epilogue is fused).
Stmt convWinograd(KernelBuilder &B, const Node &N, const WinogradConv &S,
                  int64_t TileSize, ScalarType T, const RegisterTile &Tile);

} // namespace lower
} // namespace tidal

#endif
